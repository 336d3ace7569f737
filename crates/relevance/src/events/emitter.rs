//! What the stream yields, and each of it once: new messages (the
//! exactly-once `tracker`), the live tokens with their text so far
//! (`text_so_far`), the status and title changes, and the final error. Pure:
//! no IO, no clock.

use std::collections::{HashSet, VecDeque};

use chrono::{DateTime, Utc};

use super::sse::LiveToken;
use crate::error::{Error, Result};
use crate::message::{Message, MessageContent, ToolRun};
use crate::task::{Task, TaskStatus};

use super::text_so_far::{Streamed, TextSoFar};
use super::tracker::MessageTracker;
use super::TaskEvent;

/// What a snapshot of messages delivered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Delivered {
    /// At least one message was new.
    pub(super) any: bool,
    /// One was an agent message or an agent error: the run may be over.
    pub(super) reply_or_error: bool,
}

/// The events ready to be yielded, and what decides them.
#[derive(Debug)]
pub(super) struct Emitter {
    queue: VecDeque<Result<TaskEvent>>,
    /// Set once a final error is queued: the stream ends after it.
    finished: bool,
    tracker: MessageTracker,
    /// The live fragments added up, per message being written.
    so_far: TextSoFar,
    last_status: Option<(TaskStatus, String, String)>,
    /// The tool runs already announced as waiting for a person, by request id.
    asked: HashSet<String>,
}

/// What names one waiting run: its `action_request_id` (every waiting run has one).
fn approval_key(run: &ToolRun) -> String {
    run.action_details
        .as_ref()
        .map(|details| details.action_request_id.clone())
        .unwrap_or_default()
}

impl Emitter {
    /// Delivers messages inserted at or after `since` (all when `None`).
    pub(super) fn new(since: Option<DateTime<Utc>>) -> Emitter {
        Emitter {
            queue: VecDeque::new(),
            finished: false,
            tracker: MessageTracker::new(since),
            so_far: TextSoFar::default(),
            last_status: None,
            asked: HashSet::new(),
        }
    }

    /// The next event to yield.
    pub(super) fn pop(&mut self) -> Option<Result<TaskEvent>> {
        self.queue.pop_front()
    }

    /// Whether the stream is over (a final error was queued).
    pub(super) fn finished(&self) -> bool {
        self.finished
    }

    pub(super) fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Where the next read of the messages starts (see the tracker).
    pub(super) fn cursor(&self) -> Option<String> {
        self.tracker.cursor()
    }

    /// Whether a message is still being written or run.
    pub(super) fn has_unfinished(&self) -> bool {
        self.tracker.has_unfinished()
    }

    /// Queues the messages of a snapshot that are new, in order.
    pub(super) fn messages(&mut self, snapshot: Vec<Message>) -> Delivered {
        let mut delivered = Delivered::default();
        for message in self.tracker.ingest(snapshot) {
            if matches!(
                message.content,
                MessageContent::Agent(_) | MessageContent::AgentError(_)
            ) {
                delivered.reply_or_error = true;
            }
            if matches!(&message.content, MessageContent::Agent(reply) if !reply.generating) {
                self.so_far.finished(&message.id);
            }
            let waiting = match &message.content {
                MessageContent::ToolRun(run) if run.needs_approval() => Some(run.clone()),
                _ => None,
            };
            self.queue.push_back(Ok(TaskEvent::Message(message)));
            if let Some(run) = waiting.filter(|run| self.asked.insert(approval_key(run))) {
                self.queue.push_back(Ok(TaskEvent::ApprovalNeeded(run)));
            }
            delivered.any = true;
        }
        delivered
    }

    /// Queues an update when the task's status, state or title changed.
    pub(super) fn task(&mut self, task: &Task) {
        let status = (task.status.clone(), task.state.clone(), task.title.clone());
        if self.last_status.as_ref() != Some(&status) {
            self.queue.push_back(Ok(TaskEvent::Updated {
                status: task.status.clone(),
                state: task.state.clone(),
                title: task.title.clone(),
            }));
            self.last_status = Some(status);
        }
    }

    /// Queues a live token as thinking or typing, with its text so far.
    pub(super) fn live_token(&mut self, token: LiveToken) {
        let event = match token {
            LiveToken::Thinking {
                fragment,
                message_id,
            } => TaskEvent::Thinking {
                text: self
                    .so_far
                    .append(Streamed::Thinking, message_id.as_deref(), &fragment),
                delta: fragment,
                message_id,
            },
            LiveToken::Typing {
                fragment,
                message_id,
            } => TaskEvent::Typing {
                text: self
                    .so_far
                    .append(Streamed::Typing, message_id.as_deref(), &fragment),
                delta: fragment,
                message_id,
            },
        };
        self.queue.push_back(Ok(event));
    }

    /// Queues a failure that retrying cannot fix: the last item.
    pub(super) fn fail(&mut self, error: Error) {
        self.queue.push_back(Err(error));
        self.finished = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent_message(id: &str, text: &str, generating: bool) -> Message {
        Message::from_value(serde_json::json!({"item_id": id,
            "insert_date_": "2026-03-01T10:00:00Z",
            "content": {"type": "agent-message", "text": text, "generating": generating}}))
        .unwrap()
    }

    fn typing(fragment: &str) -> LiveToken {
        LiveToken::Typing {
            fragment: fragment.into(),
            message_id: Some("m1".into()),
        }
    }

    fn typed_text(emitter: &mut Emitter) -> String {
        match emitter.pop() {
            Some(Ok(TaskEvent::Typing { text, .. })) => text,
            other => panic!("not typing: {other:?}"),
        }
    }

    #[test]
    fn a_final_reply_is_delivered_once_and_ends_its_text_so_far() {
        let mut emitter = Emitter::new(None);
        emitter.live_token(typing("He"));
        emitter.live_token(typing("llo"));
        assert_eq!(typed_text(&mut emitter), "He");
        assert_eq!(typed_text(&mut emitter), "Hello");
        let generating = emitter.messages(vec![agent_message("m1", "He", true)]);
        assert_eq!(generating, Delivered::default(), "not final yet");
        assert!(emitter.has_unfinished());
        let done = emitter.messages(vec![agent_message("m1", "Hello", false)]);
        assert_eq!(
            done,
            Delivered {
                any: true,
                reply_or_error: true
            }
        );
        assert!(matches!(emitter.pop(), Some(Ok(TaskEvent::Message(_)))));
        assert_eq!(
            emitter.messages(vec![agent_message("m1", "Hello", false)]),
            Delivered::default(),
            "exactly once"
        );
        // The next message with the same id starts from nothing.
        emitter.live_token(typing("x"));
        assert_eq!(typed_text(&mut emitter), "x");
    }

    fn tool_run(state: &str, requires_confirmation: bool) -> Message {
        Message::from_value(serde_json::json!({"item_id": "r1",
            "insert_date_": "2026-03-01T10:00:00Z",
            "content": {"type": "tool-run", "tool_run_state": state,
                "requires_confirmation": requires_confirmation,
                "action_details": {"action": "a", "action_request_id": "q1"},
                "tool_config": {"type": "tool", "id": "send_email", "title": "send_email"}}}))
        .unwrap()
    }

    #[test]
    fn a_waiting_run_asks_for_approval_once() {
        let mut emitter = Emitter::new(None);
        emitter.messages(vec![tool_run("pending", true)]);
        assert!(matches!(emitter.pop(), Some(Ok(TaskEvent::Message(_)))));
        assert!(
            matches!(emitter.pop(), Some(Ok(TaskEvent::ApprovalNeeded(run)))
            if run.tool_id.as_deref() == Some("send_email"))
        );
        emitter.messages(vec![tool_run("pending", true)]);
        assert!(emitter.pop().is_none(), "exactly once");
        emitter.messages(vec![tool_run("running", true)]);
        assert!(matches!(emitter.pop(), Some(Ok(TaskEvent::Message(_)))));
        assert!(emitter.pop().is_none(), "a decided run asks nothing");
        let mut plain = Emitter::new(None);
        plain.messages(vec![tool_run("pending", false)]);
        assert!(matches!(plain.pop(), Some(Ok(TaskEvent::Message(_)))));
        assert!(
            plain.pop().is_none(),
            "a run that needs no approval asks nothing"
        );
    }

    #[test]
    fn a_failure_is_the_last_item() {
        let mut emitter = Emitter::new(None);
        emitter.fail(Error::Server {
            status: 404,
            message: None,
            error_type: None,
        });
        assert!(emitter.finished());
        assert!(matches!(emitter.pop(), Some(Err(_))));
        assert!(emitter.pop().is_none());
    }
}
