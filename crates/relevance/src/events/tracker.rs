//! Which messages of a poll are new: exactly-once delivery over repeated,
//! overlapping snapshots.
//!
//! Polls re-read messages (the `view` cursor is inclusive, the workforce
//! list has no cursor at all) and the platform updates messages in place, so
//! every snapshot holds messages already delivered. Each message gets a
//! *stage* — what a reader cares about having changed — and is delivered
//! when its stage differs from the one last delivered: a user message once,
//! an agent message once it is final, a tool run once per status. Pure: no
//! IO, no clock.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::message::{Message, MessageContent, ToolStatus};

/// A message's `insert_date_`, verbatim and parsed.
#[derive(Clone, Debug, PartialEq)]
struct InsertDate {
    verbatim: String,
    at: Option<DateTime<Utc>>,
}

impl InsertDate {
    fn of(message: &Message) -> InsertDate {
        InsertDate {
            verbatim: message.insert_date.clone(),
            at: message.inserted_at,
        }
    }

    /// Earlier by time when both parse, else by text (the platform's format
    /// sorts as text too).
    fn is_before(&self, other: &InsertDate) -> bool {
        match (self.at, other.at) {
            (Some(mine), Some(theirs)) => mine < theirs,
            _ => self.verbatim < other.verbatim,
        }
    }
}

/// What has been delivered of a task's messages so far.
#[derive(Debug, Default)]
pub(crate) struct MessageTracker {
    /// Messages inserted before this time are not delivered (`events_since`).
    since: Option<DateTime<Utc>>,
    /// item_id → the stage last delivered.
    delivered: HashMap<String, String>,
    /// Messages that will still change (an agent message being written, a
    /// tool run not finished): the `view` cursor must keep re-reading them.
    unfinished: HashMap<String, InsertDate>,
    /// The newest `insert_date_` seen.
    newest: Option<InsertDate>,
}

impl MessageTracker {
    /// A tracker delivering messages inserted at or after `since` (all when `None`).
    pub(crate) fn new(since: Option<DateTime<Utc>>) -> MessageTracker {
        MessageTracker {
            since,
            ..MessageTracker::default()
        }
    }

    /// The messages of a snapshot to deliver now, in the order the platform
    /// wrote them (`insert_date_`, then the server's order).
    pub(crate) fn ingest(&mut self, snapshot: Vec<Message>) -> Vec<Message> {
        let mut messages: Vec<Message> = snapshot
            .into_iter()
            .filter(|message| match (self.since, message.inserted_at) {
                (Some(since), Some(at)) => at >= since,
                _ => true,
            })
            .collect();
        sort_by_insert_date(&mut messages);
        let mut fresh = Vec::new();
        for message in messages {
            let date = InsertDate::of(&message);
            if self
                .newest
                .as_ref()
                .map_or(true, |newest| newest.is_before(&date))
            {
                self.newest = Some(date.clone());
            }
            if will_change(&message.content) {
                self.unfinished.insert(message.id.clone(), date);
            } else {
                self.unfinished.remove(&message.id);
            }
            let Some(stage) = stage(&message.content) else {
                continue;
            };
            if self.delivered.get(&message.id) != Some(&stage) {
                self.delivered.insert(message.id.clone(), stage);
                fresh.push(message);
            }
        }
        fresh
    }

    /// Where the next `view` should start (inclusive): the oldest message
    /// that will still change, else the newest seen, else `since`.
    pub(crate) fn cursor(&self) -> Option<String> {
        let oldest_unfinished =
            self.unfinished
                .values()
                .reduce(|oldest, date| if date.is_before(oldest) { date } else { oldest });
        match oldest_unfinished.or(self.newest.as_ref()) {
            Some(date) => Some(date.verbatim.clone()),
            None => self.since.map(crate::task::cursor_time),
        }
    }

    /// Whether a message is still being written or run.
    pub(crate) fn has_unfinished(&self) -> bool {
        !self.unfinished.is_empty()
    }
}

/// Stable sort by insert time; a message whose time does not parse keeps
/// the place the server gave it (it borrows its predecessor's time).
fn sort_by_insert_date(messages: &mut Vec<Message>) {
    let mut previous: Option<DateTime<Utc>> = None;
    let mut keyed: Vec<(Option<DateTime<Utc>>, Message)> = messages
        .drain(..)
        .map(|message| {
            let key = message.inserted_at.or(previous);
            previous = key;
            (key, message)
        })
        .collect();
    keyed.sort_by_key(|(key, _)| *key);
    messages.extend(keyed.into_iter().map(|(_, message)| message));
}

/// Whether the platform will still update the message in place.
fn will_change(content: &MessageContent) -> bool {
    match content {
        MessageContent::Agent(agent) => agent.generating,
        MessageContent::ToolRun(run) => {
            matches!(run.status, ToolStatus::Pending | ToolStatus::Running)
        }
        _ => false,
    }
}

/// What a reader has seen of a message once it was delivered in this
/// state; `None` while it must be held back (an agent message being written).
fn stage(content: &MessageContent) -> Option<String> {
    Some(match content {
        MessageContent::User(_) => "user".to_string(),
        MessageContent::Agent(agent) if agent.generating => return None,
        MessageContent::Agent(_) => "final".to_string(),
        MessageContent::AgentError(error) => format!("errors:{}", error.errors.len()),
        MessageContent::ToolRun(run) => format!("tool:{:?}", run.status),
        MessageContent::WorkforceAgentRun(run) => format!(
            "run:{:?}:{:?}",
            run.task.current_state, run.task.finished_state
        ),
        MessageContent::WorkforceAgentHandover(handover) => format!(
            "handover:{:?}",
            handover
                .task
                .as_ref()
                .and_then(|task| task.conversation_id.as_deref())
        ),
        MessageContent::Unknown { kind, .. } => format!("unknown:{kind}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn at(second: u32) -> String {
        format!("2026-03-01T10:00:{second:02}.000Z")
    }

    fn message(id: &str, second: u32, content: Value) -> Message {
        Message::from_value(json!({"item_id": id, "insert_date_": at(second), "content": content}))
            .unwrap()
    }

    fn user(id: &str, second: u32) -> Message {
        message(id, second, json!({"type": "user-message", "text": "hi"}))
    }

    fn agent(id: &str, second: u32, text: &str, generating: bool) -> Message {
        message(
            id,
            second,
            json!({"type": "agent-message", "text": text, "generating": generating}),
        )
    }

    fn tool(id: &str, second: u32, state: &str) -> Message {
        message(
            id,
            second,
            json!({"type": "tool-run", "tool_run_state": state, "output": {}}),
        )
    }

    fn error(id: &str, second: u32, bodies: &[&str]) -> Message {
        let errors: Vec<Value> = bodies.iter().map(|body| json!({"body": body})).collect();
        message(id, second, json!({"type": "agent-error", "errors": errors}))
    }

    /// What a delivered message looks like in the expectations.
    fn label(message: &Message) -> String {
        let detail = match &message.content {
            MessageContent::User(_) => "user".to_string(),
            MessageContent::Agent(agent) => format!("agent:{}", agent.text),
            MessageContent::AgentError(error) => format!("error:{}", error.errors.len()),
            MessageContent::ToolRun(run) => format!("tool:{:?}", run.status),
            other => format!("{other:?}"),
        };
        format!("{} {detail}", message.id)
    }

    struct Case {
        name: &'static str,
        since: Option<u32>,
        /// One snapshot per poll, in the server's order (oldest first).
        polls: Vec<Vec<Message>>,
        /// What each poll delivers.
        expected: Vec<Vec<&'static str>>,
        /// The cursor after the last poll.
        cursor: Option<String>,
    }

    #[test]
    fn each_message_is_delivered_once_per_stage_in_platform_order() {
        let cases = vec![
            Case {
                name: "inclusive cursor re-reads are not repeated",
                since: None,
                polls: vec![
                    vec![user("u1", 1), agent("a1", 2, "hello", false)],
                    vec![agent("a1", 2, "hello", false)],
                    vec![agent("a1", 2, "hello", false), user("u2", 5)],
                ],
                expected: vec![vec!["u1 user", "a1 agent:hello"], vec![], vec!["u2 user"]],
                cursor: Some(at(5)),
            },
            Case {
                name: "a generating agent message is held until final, then delivered once",
                since: None,
                polls: vec![
                    vec![user("u1", 1), agent("a1", 2, "He", true)],
                    vec![agent("a1", 2, "Hello wo", true)],
                    vec![
                        agent("a1", 2, "Hello world", false),
                        tool("t1", 3, "pending"),
                    ],
                    vec![
                        agent("a1", 2, "Hello world", false),
                        tool("t1", 3, "pending"),
                    ],
                ],
                expected: vec![
                    vec!["u1 user"],
                    vec![],
                    vec!["a1 agent:Hello world", "t1 tool:Pending"],
                    vec![],
                ],
                cursor: Some(at(3)),
            },
            Case {
                name: "a tool run is delivered once per status change",
                since: None,
                polls: vec![
                    vec![tool("t1", 1, "pending")],
                    vec![tool("t1", 1, "running")],
                    vec![tool("t1", 1, "running")],
                    vec![tool("t1", 1, "finished"), agent("a1", 4, "done", false)],
                    vec![tool("t1", 1, "finished"), agent("a1", 4, "done", false)],
                ],
                expected: vec![
                    vec!["t1 tool:Pending"],
                    vec!["t1 tool:Running"],
                    vec![],
                    vec!["t1 tool:Completed", "a1 agent:done"],
                    vec![],
                ],
                cursor: Some(at(4)),
            },
            Case {
                name: "a missed intermediate status is simply skipped",
                since: None,
                polls: vec![vec![tool("t1", 1, "pending")], vec![tool("t1", 1, "error")]],
                expected: vec![vec!["t1 tool:Pending"], vec!["t1 tool:Error"]],
                cursor: Some(at(1)),
            },
            Case {
                name: "agent errors are messages, again when more errors are added",
                since: None,
                polls: vec![
                    vec![user("u1", 1), error("e1", 2, &["boom"])],
                    vec![error("e1", 2, &["boom"])],
                    vec![error("e1", 2, &["boom", "again"])],
                ],
                expected: vec![vec!["u1 user", "e1 error:1"], vec![], vec!["e1 error:2"]],
                cursor: Some(at(2)),
            },
            Case {
                name: "out-of-order snapshots are delivered in insert order, server order on ties",
                since: None,
                polls: vec![vec![
                    agent("a2", 3, "second", false),
                    user("u1", 1),
                    tool("t1", 3, "finished"),
                    agent("a1", 2, "first", false),
                ]],
                expected: vec![vec![
                    "u1 user",
                    "a1 agent:first",
                    "a2 agent:second",
                    "t1 tool:Completed",
                ]],
                cursor: Some(at(3)),
            },
            Case {
                name: "the cursor stays on the oldest unfinished message",
                since: None,
                polls: vec![
                    vec![
                        user("u1", 1),
                        tool("t1", 2, "running"),
                        agent("a1", 3, "x", true),
                    ],
                    vec![
                        tool("t1", 2, "running"),
                        agent("a1", 3, "xy", false),
                        user("u2", 9),
                    ],
                ],
                expected: vec![
                    vec!["u1 user", "t1 tool:Running"],
                    vec!["a1 agent:xy", "u2 user"],
                ],
                cursor: Some(at(2)),
            },
            Case {
                name: "since drops older messages and is the first cursor",
                since: Some(5),
                polls: vec![vec![
                    user("u1", 1),
                    agent("a1", 4, "old", false),
                    user("u2", 5),
                ]],
                expected: vec![vec!["u2 user"]],
                cursor: Some(at(5)),
            },
        ];
        for case in cases {
            let since = case
                .since
                .map(|second| crate::wire::timestamp(&Value::from(at(second))).unwrap());
            let mut tracker = MessageTracker::new(since);
            assert_eq!(
                tracker.cursor(),
                case.since.map(at),
                "{}: first cursor",
                case.name
            );
            for (poll, (snapshot, expected)) in
                case.polls.into_iter().zip(&case.expected).enumerate()
            {
                let delivered: Vec<String> = tracker.ingest(snapshot).iter().map(label).collect();
                assert_eq!(&delivered, expected, "{}: poll {poll}", case.name);
            }
            assert_eq!(tracker.cursor(), case.cursor, "{}: cursor", case.name);
        }
    }

    #[test]
    fn unfinished_messages_are_reported_until_they_finish() {
        let mut tracker = MessageTracker::new(None);
        tracker.ingest(vec![agent("a1", 1, "x", true)]);
        assert!(tracker.has_unfinished());
        tracker.ingest(vec![agent("a1", 1, "xy", false), tool("t1", 2, "pending")]);
        assert!(tracker.has_unfinished());
        tracker.ingest(vec![tool("t1", 2, "cancelled")]);
        assert!(!tracker.has_unfinished());
    }

    #[test]
    fn undated_messages_keep_their_server_place() {
        let undated = Message::from_value(json!({"item_id": "x", "insert_date_": "not a date",
            "content": {"type": "user-message", "text": "?"}}))
        .unwrap();
        let mut tracker =
            MessageTracker::new(Some(crate::wire::timestamp(&Value::from(at(3))).unwrap()));
        let delivered: Vec<String> = tracker
            .ingest(vec![user("u1", 4), undated, user("u2", 5)])
            .iter()
            .map(label)
            .collect();
        assert_eq!(delivered, ["u1 user", "x user", "u2 user"]);
    }
}
