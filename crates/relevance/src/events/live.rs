//! The live connection: the streaming token it is opened with and when to
//! replace it, connecting and reconnecting with backoff, a token the
//! stream refused, the live tokens as they are read, and the bursts of
//! typing they form. It says when to poll (the end of a burst, the end of
//! the connection) but reads nothing but the stream itself.

use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::Stream;

use super::sse::{LiveBody, LiveEvents, LiveToken, StreamingToken};
use crate::error::{Error, Result};
use crate::retry::Backoff;
use crate::runtime::{epoch_millis, BoxFuture, Instant};

use super::followed::FollowedTask;
use super::schedule::QuietRule;
use super::{later, RETRY_BASE, RETRY_CAP};

/// How long after the last live token the task counts as busy, and the
/// scheduled polls wait (the end of a burst of typing polls at once).
pub(super) const TOKENS_FLOWING_FOR: Duration = Duration::from_secs(1);

/// A streaming token and when to replace it.
#[derive(Debug)]
struct HeldToken {
    token: StreamingToken,
    refresh_at_ms: u64,
}

/// The connection itself.
enum Conn {
    Off,
    Connecting(BoxFuture<Result<LiveBody>>),
    /// Boxed: the parser's state is far larger than the other variants.
    Open(Box<LiveEvents>),
}

/// What the live connection tells the poller.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct LiveView {
    /// While tokens flow on the open connection, scheduled polls wait
    /// until this moment.
    pub(super) polls_held_until: Option<Instant>,
    /// A token came within [`TOKENS_FLOWING_FOR`]: the task is busy.
    pub(super) flowing: bool,
    /// The connection is (or is about to be) open and has not failed since
    /// it last carried a token: its bursts say when to poll.
    pub(super) trusted: bool,
    /// It carried a token since the task last started running: the run
    /// streams.
    pub(super) streamed: bool,
    /// The stream refused the token: the metadata must bring a new one.
    pub(super) token_refused: bool,
    /// The token is due for refresh now.
    pub(super) token_due: bool,
    /// When the token is due for refresh.
    pub(super) refresh_at: Option<Instant>,
}

/// What one step of the live connection gave.
#[derive(Debug)]
pub(super) enum LiveStep {
    /// Nothing: waiting on the network or on a deadline.
    Idle,
    /// The connection opened.
    Opened,
    /// A token was read.
    Token(LiveToken),
    /// The connection ended or failed: it reconnects after a backoff, and
    /// the metadata should be read now (the stream often ends because the
    /// task did, or because its token expired).
    Ended,
    /// The typing stopped: the final message is about to be (or was just)
    /// written, so the messages should be read now.
    BurstEnded,
}

/// The live connection of one event stream.
pub(super) struct LiveConnection {
    conn: Conn,
    /// Tokens flow only while the task works: connected only then.
    running: bool,
    token: Option<HeldToken>,
    token_refused: bool,
    retries: u32,
    retry_at: Option<Instant>,
    backoff: Backoff,
    last_token_at: Option<Instant>,
    /// A token came since the task last started running.
    streamed: bool,
    burst_ends_at: Option<Instant>,
    quiet: QuietRule,
}

impl LiveConnection {
    pub(super) fn new(running: bool) -> LiveConnection {
        LiveConnection {
            conn: Conn::Off,
            running,
            token: None,
            token_refused: false,
            retries: 0,
            retry_at: None,
            backoff: Backoff::new(RETRY_BASE, RETRY_CAP),
            last_token_at: None,
            streamed: false,
            burst_ends_at: None,
            quiet: QuietRule::default(),
        }
    }

    /// `off`, `connecting` or `open`.
    pub(super) fn state(&self) -> &'static str {
        match self.conn {
            Conn::Off => "off",
            Conn::Connecting(_) => "connecting",
            Conn::Open(_) => "open",
        }
    }

    pub(super) fn view(&self, now: Instant) -> LiveView {
        LiveView {
            polls_held_until: match (&self.conn, self.last_token_at) {
                (Conn::Open(_), Some(at)) => Some(later(at, TOKENS_FLOWING_FOR)),
                _ => None,
            },
            flowing: self.tokens_flowing(now),
            trusted: self.wants_live() && (matches!(self.conn, Conn::Open(_)) || self.retries == 0),
            streamed: self.streamed,
            token_refused: self.token_refused,
            token_due: self
                .token
                .as_ref()
                .is_some_and(|held| epoch_millis() >= held.refresh_at_ms),
            refresh_at: self.token_refresh_at(now),
        }
    }

    /// Whether the task still runs; when it stopped, hangs up until it
    /// runs again.
    pub(super) fn set_running(&mut self, running: bool) {
        self.running = running;
        if !running {
            self.conn = Conn::Off;
            self.retries = 0;
            self.retry_at = None;
            self.streamed = false;
        }
    }

    /// Closes the connection for good (the stream is over).
    pub(super) fn close(&mut self) {
        self.conn = Conn::Off;
    }

    /// A reply arrived or a message was sent: the next burst is a new reply.
    pub(super) fn reply_arrived(&mut self) {
        self.quiet.reply_arrived();
    }

    /// A read was asked for as a reply's typing started: the reply is known to be
    /// still being written, so its typing must pause longer to count as over.
    pub(super) fn typing_goes_on(&mut self) {
        self.quiet.burst_ended();
    }

    /// Keeps the token until it is due for refresh (a metadata read may
    /// hand out a new token every time; reconnecting for each would waste
    /// the connection), then takes the new one and reconnects with it.
    pub(super) fn take_token(&mut self, token: Option<StreamingToken>, received_ms: u64) {
        let Some(token) = token else {
            return;
        };
        let due = match &self.token {
            None => true,
            Some(held) => self.token_refused || received_ms >= held.refresh_at_ms,
        };
        if !due {
            return;
        }
        let replaced = self
            .token
            .as_ref()
            .map_or(true, |held| held.token.token != token.token);
        self.token = Some(HeldToken {
            refresh_at_ms: token.refresh_at_ms(received_ms),
            token,
        });
        self.token_refused = false;
        if replaced && !matches!(self.conn, Conn::Off) {
            self.conn = Conn::Off;
            self.retry_at = None;
        }
    }

    /// One step: connect when wanted and due, read what arrived, tell when
    /// a burst of typing ended.
    pub(super) fn poll(
        &mut self,
        cx: &mut Context<'_>,
        task: &FollowedTask,
        now: Instant,
    ) -> LiveStep {
        let step = match self.read(cx, task, now) {
            Ok(step) => step,
            Err(error) => {
                self.on_ended(error, now);
                return LiveStep::Ended;
            }
        };
        if let LiveStep::Token(token) = &step {
            self.on_token(token, now);
        }
        if matches!(step, LiveStep::Idle) && self.burst_ends_at.is_some_and(|end| now >= end) {
            self.burst_ends_at = None;
            self.quiet.burst_ended();
            return LiveStep::BurstEnded;
        }
        step
    }

    /// The earliest moment something is due here, if anything waits on time.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        let retry = match self.conn {
            Conn::Off if self.wants_live() => self.retry_at,
            _ => None,
        };
        match (self.burst_ends_at, retry) {
            (Some(burst), Some(retry)) => Some(burst.min(retry)),
            (burst, retry) => burst.or(retry),
        }
    }

    fn wants_live(&self) -> bool {
        self.running && self.token.is_some() && !self.token_refused
    }

    fn tokens_flowing(&self, now: Instant) -> bool {
        self.last_token_at
            .is_some_and(|at| now.saturating_duration_since(at) < TOKENS_FLOWING_FOR)
    }

    /// When the held token is due for refresh, as an instant.
    fn token_refresh_at(&self, now: Instant) -> Option<Instant> {
        let held = self.token.as_ref()?;
        let wait_ms = held.refresh_at_ms.saturating_sub(epoch_millis());
        Some(later(now, Duration::from_millis(wait_ms)))
    }

    /// Connects, or reads the connection; `Err` when it ended (with the
    /// error, if it failed).
    fn read(
        &mut self,
        cx: &mut Context<'_>,
        task: &FollowedTask,
        now: Instant,
    ) -> std::result::Result<LiveStep, Option<Error>> {
        if matches!(self.conn, Conn::Off) {
            let due = self.retry_at.map_or(true, |at| now >= at);
            match &self.token {
                Some(held) if self.wants_live() && due => {
                    self.conn = Conn::Connecting(task.connect(&held.token));
                }
                _ => return Ok(LiveStep::Idle),
            }
        }
        if let Conn::Connecting(opening) = &mut self.conn {
            return match opening.as_mut().poll(cx) {
                Poll::Ready(Ok(body)) => {
                    self.conn = Conn::Open(Box::new(LiveEvents::new(body)));
                    Ok(LiveStep::Opened)
                }
                Poll::Ready(Err(error)) => Err(Some(error)),
                Poll::Pending => Ok(LiveStep::Idle),
            };
        }
        let Conn::Open(events) = &mut self.conn else {
            return Ok(LiveStep::Idle);
        };
        match std::pin::Pin::new(events.as_mut()).poll_next(cx) {
            Poll::Ready(Some(Ok(token))) => Ok(LiveStep::Token(token)),
            Poll::Ready(Some(Err(error))) => Err(Some(error)),
            Poll::Ready(None) => Err(None),
            Poll::Pending => Ok(LiveStep::Idle),
        }
    }

    /// A token arrived: the connection works, and typing ends a burst when
    /// it stops.
    pub(super) fn on_token(&mut self, token: &LiveToken, now: Instant) {
        if matches!(token, LiveToken::Typing { .. }) {
            // Typing ends with the final message: poll when it stops.
            self.burst_ends_at = Some(later(now, self.quiet.quiet()));
        }
        self.last_token_at = Some(now);
        self.streamed = true;
        self.retries = 0;
    }

    /// The connection ended or failed: reconnect after a backoff; a token
    /// the stream refused is not used again.
    fn on_ended(&mut self, error: Option<Error>, now: Instant) {
        self.conn = Conn::Off;
        if let Some(status) = error.as_ref().and_then(Error::status) {
            if matches!(status, 401 | 403 | 404) {
                self.token_refused = true;
            }
        }
        self.retries = self.retries.saturating_add(1);
        let wait = self.backoff.delay(self.retries, None);
        self.retry_at = Some(later(now, wait));
    }
}

#[cfg(test)]
impl LiveConnection {
    /// Pretends the connection opened on `body`.
    pub(super) fn open_on(&mut self, body: LiveBody) {
        self.conn = Conn::Open(Box::new(LiveEvents::new(body)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::schedule;
    use crate::events::tests::idle_task;

    fn token(value: &str, expiry_time_ms: u64) -> StreamingToken {
        StreamingToken {
            token: value.into(),
            expiry_time_ms,
        }
    }

    fn typing() -> LiveToken {
        LiveToken::Typing {
            fragment: "Hi".into(),
            message_id: Some("m1".into()),
        }
    }

    /// A connection that is open and silent.
    fn open() -> Conn {
        Conn::Open(Box::new(LiveEvents::new(Box::pin(
            futures_util::stream::pending(),
        ))))
    }

    #[test]
    fn the_token_is_kept_until_due_then_replaced() {
        let mut live = LiveConnection::new(true);
        let token = |value: &str| token(value, 1_100_000);
        // Received at 1_000_000 with 100 s to live: refreshed from 1_080_000.
        live.take_token(Some(token("first")), 1_000_000);
        assert_eq!(live.token.as_ref().unwrap().refresh_at_ms, 1_080_000);
        live.take_token(Some(token("second")), 1_050_000);
        assert_eq!(live.token.as_ref().unwrap().token.token, "first", "not due");
        live.take_token(None, 1_090_000);
        assert_eq!(
            live.token.as_ref().unwrap().token.token,
            "first",
            "no token given"
        );
        live.take_token(Some(token("third")), 1_080_000);
        assert_eq!(live.token.as_ref().unwrap().token.token, "third", "due");
        // A token the live stream refused is replaced at once.
        live.token_refused = true;
        live.take_token(Some(token("fourth")), 1_080_001);
        assert_eq!(live.token.as_ref().unwrap().token.token, "fourth");
        assert!(!live.token_refused);
        // A new token hangs up the connection made with the old one.
        live.conn = open();
        live.take_token(Some(token("fifth")), 1_099_000);
        assert_eq!(live.state(), "off");
    }

    #[test]
    fn tokens_hold_the_scheduled_polls_back_and_typing_ends_a_burst() {
        let mut live = LiveConnection::new(true);
        let now = Instant::now();
        live.take_token(
            Some(token("tok", epoch_millis() + 3_600_000)),
            epoch_millis(),
        );
        assert!(live.view(now).trusted);
        assert!(!live.view(now).streamed, "no token yet");
        live.conn = open();
        let typing_at = now + Duration::from_millis(900);
        live.on_token(&typing(), typing_at);
        let view = live.view(typing_at);
        assert!(view.streamed, "the run streams");
        assert_eq!(view.polls_held_until, Some(typing_at + TOKENS_FLOWING_FOR));
        assert!(view.flowing);
        assert_eq!(live.burst_ends_at, Some(typing_at + schedule::QUIET_FIRST));
        // A thinking token holds the schedule back too, but ends no burst.
        live.burst_ends_at = None;
        let thinking_at = typing_at + Duration::from_millis(500);
        let thinking = LiveToken::Thinking {
            fragment: "hm".into(),
            message_id: None,
        };
        live.on_token(&thinking, thinking_at);
        assert_eq!(
            live.view(thinking_at).polls_held_until,
            Some(thinking_at + TOKENS_FLOWING_FOR)
        );
        assert_eq!(live.burst_ends_at, None);
        // Closed, the connection holds nothing back.
        live.close();
        assert_eq!(live.view(thinking_at).polls_held_until, None);
    }

    #[test]
    fn a_refused_live_connection_waits_for_a_new_token_and_backs_off() {
        let now = Instant::now();
        let mut live = LiveConnection::new(true);
        live.take_token(
            Some(token("tok", epoch_millis() + 3_600_000)),
            epoch_millis(),
        );
        let refused = Error::from_response(401, &reqwest::header::HeaderMap::new(), b"{}");
        live.on_ended(Some(refused), now);
        assert!(live.view(now).token_refused);
        let retry_at = live.retry_at.unwrap();
        assert!(retry_at >= now && retry_at <= now + RETRY_BASE);
        assert_eq!(live.next_deadline(), None, "no reconnect with that token");
        live.take_token(
            Some(token("new", epoch_millis() + 3_600_000)),
            epoch_millis(),
        );
        assert_eq!(live.next_deadline(), Some(retry_at));
        live.on_ended(None, now);
        assert!(live.retry_at.unwrap() <= now + RETRY_BASE * 2);
        // Failing twice, it is not trusted; a token makes it trusted again.
        assert!(!live.view(now).trusted);
        live.on_token(&typing(), now);
        assert!(live.view(now).trusted);
    }

    #[tokio::test]
    async fn it_connects_only_while_the_task_runs_with_a_token() {
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let task = FollowedTask::of(&idle_task());
        let now = Instant::now();
        let mut live = LiveConnection::new(true);
        assert!(matches!(live.poll(&mut cx, &task, now), LiveStep::Idle));
        assert_eq!(live.state(), "off", "no token");
        live.take_token(
            Some(token("tok", epoch_millis() + 3_600_000)),
            epoch_millis(),
        );
        live.set_running(false);
        assert!(matches!(live.poll(&mut cx, &task, now), LiveStep::Idle));
        assert_eq!(live.state(), "off", "not running");
        live.set_running(true);
        let step = live.poll(&mut cx, &task, now);
        assert!(
            matches!(step, LiveStep::Ended) || live.state() == "connecting",
            "it tried to connect"
        );
        let thinking = LiveToken::Thinking {
            fragment: "hm".into(),
            message_id: None,
        };
        live.on_token(&thinking, now);
        assert!(live.view(now).streamed);
        live.set_running(false);
        assert_eq!(live.state(), "off", "hung up when the task stopped");
        assert!(!live.view(now).streamed, "the next run starts unknown");
        assert_eq!(live.next_deadline(), None);
    }

    #[test]
    fn an_open_connection_is_read_token_by_token_until_it_ends() {
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let task = FollowedTask::of(&idle_task());
        let now = Instant::now();
        let mut live = LiveConnection::new(true);
        let chunk = b"data: {\"type\":\"text\",\"content\":\"a\"}\n\ndata: {\"type\":\"text\",\"content\":\"b\"}\n\n";
        let body: LiveBody = Box::pin(futures_util::stream::iter([Ok(chunk.to_vec())]));
        live.conn = Conn::Open(Box::new(LiveEvents::new(body)));
        for expected in ["a", "b"] {
            match live.poll(&mut cx, &task, now) {
                LiveStep::Token(LiveToken::Typing { fragment, .. }) => {
                    assert_eq!(fragment, expected)
                }
                other => panic!("not a token: {other:?}"),
            }
        }
        assert_eq!(live.burst_ends_at, Some(now + schedule::QUIET_FIRST));
        assert!(matches!(live.poll(&mut cx, &task, now), LiveStep::Ended));
        assert_eq!(live.state(), "off");
        assert_eq!(live.retries, 1);
        // The burst ends once its quiet has passed, and only once.
        let end = now + schedule::QUIET_FIRST;
        assert!(matches!(
            live.poll(&mut cx, &task, end),
            LiveStep::BurstEnded
        ));
        assert!(matches!(live.poll(&mut cx, &task, end), LiveStep::Idle));
    }
}
