//! The text so far of each message being written, added up from the live
//! stream's fragments.
//!
//! The platform streams *fragments* (PROTOCOL A8: each `text` or `thinking`
//! event carries only what was just written), and its own guide has users
//! append them to a buffer. This is that buffer, kept per message, so a
//! [`TaskEvent::Typing`](super::TaskEvent::Typing) can carry both the
//! fragment and the text so far. A fragment the stream never delivered (the
//! connection was being renewed) is missing from the text so far until the
//! final message, which is always whole.

use std::collections::VecDeque;

/// How many messages' texts are kept; older ones are forgotten first. A
/// task writes one message at a time, so this only bounds a stream whose
/// messages never finish.
const MESSAGES_KEPT: usize = 16;

/// Which of a message's two streamed texts a fragment belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Streamed {
    /// The agent's reasoning (`thinking`).
    Thinking,
    /// The reply as it is typed (`text`).
    Typing,
}

/// The texts so far, keyed by kind and message id (`None` when the
/// platform named no message).
#[derive(Debug, Default)]
pub(crate) struct TextSoFar {
    texts: VecDeque<((Streamed, Option<String>), String)>,
}

impl TextSoFar {
    /// Appends `fragment` to its message's text and answers the text so far.
    pub(crate) fn append(
        &mut self,
        kind: Streamed,
        message_id: Option<&str>,
        fragment: &str,
    ) -> String {
        let key = (kind, message_id.map(str::to_owned));
        let index = match self.texts.iter().position(|(k, _)| *k == key) {
            Some(index) => index,
            None => {
                if self.texts.len() == MESSAGES_KEPT {
                    self.texts.pop_front();
                }
                self.texts.push_back((key, String::new()));
                self.texts.len() - 1
            }
        };
        let text = &mut self.texts[index].1;
        text.push_str(fragment);
        text.clone()
    }

    /// The message is final: its texts so far are no longer needed.
    pub(crate) fn finished(&mut self, message_id: &str) {
        self.texts
            .retain(|((_, id), _)| id.as_deref() != Some(message_id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_add_up_per_message_and_kind() {
        let mut so_far = TextSoFar::default();
        let steps: &[(Streamed, Option<&str>, &str, &str)] = &[
            (Streamed::Typing, Some("m1"), "Hel", "Hel"),
            (Streamed::Typing, Some("m1"), "lo", "Hello"),
            (Streamed::Thinking, Some("m1"), "hm", "hm"),
            (Streamed::Typing, Some("m2"), "Other", "Other"),
            (Streamed::Typing, None, "a", "a"),
            (Streamed::Typing, None, "b", "ab"),
            (Streamed::Typing, Some("m1"), "!", "Hello!"),
        ];
        for (kind, id, fragment, expected) in steps {
            assert_eq!(so_far.append(*kind, *id, fragment), *expected);
        }
        so_far.finished("m1");
        assert_eq!(so_far.append(Streamed::Typing, Some("m1"), "x"), "x");
        assert_eq!(so_far.append(Streamed::Thinking, Some("m1"), "y"), "y");
        assert_eq!(so_far.append(Streamed::Typing, Some("m2"), "!"), "Other!");
    }

    #[test]
    fn at_most_a_bounded_number_of_messages_is_kept() {
        let mut so_far = TextSoFar::default();
        for n in 0..(MESSAGES_KEPT + 5) {
            so_far.append(Streamed::Typing, Some(&n.to_string()), "x");
        }
        assert_eq!(so_far.texts.len(), MESSAGES_KEPT);
        // The oldest were forgotten, the newest kept.
        assert_eq!(so_far.append(Streamed::Typing, Some("0"), "y"), "y");
        let newest = (MESSAGES_KEPT + 4).to_string();
        assert_eq!(so_far.append(Streamed::Typing, Some(&newest), "y"), "xy");
    }
}
