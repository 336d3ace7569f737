//! The ordering of live tokens after messages: no thinking or typing
//! token of a message reaches the caller before the messages that precede
//! it on the task have been delivered.
//!
//! The live stream and the polls are two connections, and the stream is
//! usually ahead: the first typed fragment of a reply arrives while the tool
//! run the agent finished just before it is still unread. So a token that
//! *opens a segment* is held, with every token after it, until a read of
//! the messages that started after it has answered; that read sees every
//! message written before the token was sent (the platform writes a message
//! before it streams what follows it), and its messages are queued first.
//!
//! A segment opens when a token's kind or message differs from the previous
//! token's, when the stream paused for [`PAUSE`] (something else may have
//! run meanwhile), or when the live connection was opened again. One
//! exception keeps the cost at one read per reply: the first *thinking*
//! token after this client sent the task its message passes at once, since
//! what precedes it is that message (the caller sent it). A run that ran a
//! tool before its first thought shows that thought before the tool run.
//! Pure: no IO; the caller supplies the time and the numbers of its reads.

use std::collections::VecDeque;
use std::time::Duration;

use super::sse::LiveToken;
use crate::runtime::Instant;

/// A gap between two tokens after which the next one opens a segment: a
/// tool run fits in it, the pauses of steady typing do not.
pub(super) const PAUSE: Duration = Duration::from_millis(250);

/// What to do with a token that just arrived.
#[derive(Debug, PartialEq)]
pub(super) enum Admit {
    /// Yield it now.
    Pass(LiveToken),
    /// It is held; `read` says a read of the messages must be asked for
    /// (it opened a segment).
    Held { read: bool },
}

/// The tokens held back and what releases them.
#[derive(Debug, Default)]
pub(super) struct TokenOrder {
    held: VecDeque<LiveToken>,
    /// The number of the first read that may release the held tokens: one
    /// started after the token that opened the segment.
    released_by: Option<u64>,
    /// The kind and message of the last token, and when it came.
    last: Option<(bool, Option<String>, Instant)>,
    /// This client just sent the task its message and no token came since.
    just_sent: bool,
}

/// The token's kind (typing?) and message.
fn key(token: &LiveToken) -> (bool, Option<String>) {
    match token {
        LiveToken::Thinking { message_id, .. } => (false, message_id.clone()),
        LiveToken::Typing { message_id, .. } => (true, message_id.clone()),
    }
}

impl TokenOrder {
    /// An order for a stream whose task this client `just_sent` a message.
    pub(super) fn new(just_sent: bool) -> TokenOrder {
        TokenOrder {
            just_sent,
            ..TokenOrder::default()
        }
    }

    /// This client sent the task a message.
    pub(super) fn sent(&mut self) {
        self.just_sent = true;
    }

    /// The live connection opened (again): tokens may have been missed, so
    /// the next one opens a segment.
    pub(super) fn reconnected(&mut self) {
        self.last = None;
    }

    /// A token arrived at `now`; `next_read` is the number the next read
    /// of the messages to start will have.
    pub(super) fn admit(&mut self, token: LiveToken, now: Instant, next_read: u64) -> Admit {
        let (typing, message) = key(&token);
        let opens = match &self.last {
            None => true,
            Some((last_typing, last_message, at)) => {
                *last_typing != typing
                    || *last_message != message
                    || now.saturating_duration_since(*at) >= PAUSE
            }
        };
        let first_thought = std::mem::take(&mut self.just_sent) && !typing;
        self.last = Some((typing, message, now));
        if self.released_by.is_some() {
            self.held.push_back(token);
            return Admit::Held { read: false };
        }
        if !opens || first_thought {
            return Admit::Pass(token);
        }
        self.released_by = Some(next_read);
        self.held.push_back(token);
        Admit::Held { read: true }
    }

    /// A read of the messages numbered `read` answered (its messages are
    /// queued): the tokens it releases, in order.
    pub(super) fn read_answered(&mut self, read: u64) -> Vec<LiveToken> {
        match self.released_by {
            Some(first) if read >= first => {
                self.released_by = None;
                self.held.drain(..).collect()
            }
            _ => Vec::new(),
        }
    }

    /// Whether tokens wait for a read.
    pub(super) fn holding(&self) -> bool {
        self.released_by.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typing(id: &str, fragment: &str) -> LiveToken {
        LiveToken::Typing {
            fragment: fragment.into(),
            message_id: Some(id.into()),
        }
    }

    fn thinking(id: &str, fragment: &str) -> LiveToken {
        LiveToken::Thinking {
            fragment: fragment.into(),
            message_id: Some(id.into()),
        }
    }

    #[test]
    fn a_new_segment_waits_for_a_read_started_after_it() {
        let mut order = TokenOrder::new(false);
        let now = Instant::now();
        assert_eq!(
            order.admit(typing("m1", "He"), now, 3),
            Admit::Held { read: true }
        );
        assert_eq!(
            order.admit(typing("m1", "llo"), now, 3),
            Admit::Held { read: false }
        );
        assert!(order.read_answered(2).is_empty(), "started before it");
        assert_eq!(
            order.read_answered(3),
            [typing("m1", "He"), typing("m1", "llo")]
        );
        assert!(!order.holding());
        // The segment goes on: passes at once.
        let soon = now + Duration::from_millis(30);
        assert_eq!(
            order.admit(typing("m1", "!"), soon, 4),
            Admit::Pass(typing("m1", "!"))
        );
    }

    #[test]
    fn a_change_of_kind_or_message_a_pause_or_a_reconnection_opens_a_segment() {
        let now = Instant::now();
        let steps: Vec<(&str, LiveToken, Duration, bool)> = vec![
            ("same as before", typing("m1", "a"), Duration::ZERO, false),
            ("thinking now", thinking("m1", "b"), Duration::ZERO, true),
            ("another message", typing("m2", "c"), Duration::ZERO, true),
            ("after a pause", typing("m1", "d"), PAUSE, true),
        ];
        for (name, token, after, opens) in steps {
            let mut order = TokenOrder::new(false);
            order.admit(typing("m1", "x"), now, 0);
            order.read_answered(0);
            let admitted = order.admit(token, now + after, 1);
            assert_eq!(matches!(admitted, Admit::Held { .. }), opens, "{name}");
        }
        let mut order = TokenOrder::new(false);
        order.admit(typing("m1", "x"), now, 0);
        order.read_answered(0);
        order.reconnected();
        assert_eq!(
            order.admit(typing("m1", "y"), now, 1),
            Admit::Held { read: true }
        );
    }

    #[test]
    fn the_first_thought_after_this_clients_send_passes_and_its_reply_waits() {
        let mut order = TokenOrder::new(true);
        let now = Instant::now();
        assert!(matches!(
            order.admit(thinking("m1", "hm"), now, 1),
            Admit::Pass(_)
        ));
        assert_eq!(
            order.admit(typing("m1", "Hi"), now, 1),
            Admit::Held { read: true }
        );
        order.read_answered(1);
        order.sent();
        assert_eq!(
            order.admit(typing("m2", "Yes"), now, 2),
            Admit::Held { read: true },
            "a reply first is held: only a first thought passes"
        );
    }
}
