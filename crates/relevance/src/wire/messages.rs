//! Messages (PROTOCOL A7, A7c): the one place a message is decoded, and
//! the user message a trigger sends.
//!
//! A known kind with a malformed body is a decode error naming the message;
//! a kind this SDK does not know is kept as [`MessageContent::Unknown`];
//! inside a known kind, missing or ill-typed optionals read as absent.
//!
//! The emulator writes the same content with its own types
//! (`relevance-emulator`'s `engine::content`) on purpose: it never depends on
//! this SDK and is checked against the platform's own models, not against ours.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::message::{
    ActionDetails, AgentErrorMessage, AgentMessage, AttachedFile, Confirmation, ConfirmedBy,
    Message, MessageContent, ToolError, ToolKind, ToolParams, ToolRun, ToolStatus, UserMessage,
    WorkforceAgentDetails, WorkforceAgentHandover, WorkforceAgentRun, WorkforceTaskDetails,
};

/// The user message of a trigger: `{"attachments"?, "content", "role": "user"}`.
#[derive(Serialize)]
pub(crate) struct UserMessageBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) attachments: Option<&'a [AttachedFile]>,
    pub(crate) content: &'a str,
    pub(crate) role: &'static str,
}

impl<'a> UserMessageBody<'a> {
    /// `attachments` is sent when given (a workforce trigger always sends
    /// the list, even empty; an agent trigger only a non-empty one).
    pub(crate) fn new(content: &'a str, attachments: Option<&'a [AttachedFile]>) -> Self {
        UserMessageBody {
            attachments,
            content,
            role: "user",
        }
    }
}

/// The `message` of a decision trigger (PROTOCOL A10):
/// `{"role": "action-confirm"|"action-reject", "action", "action_request_id",
/// "action_params_override"?}` (the override only with a confirm, `{}` for none).
#[derive(Serialize)]
pub(crate) struct DecisionMessageBody<'a> {
    pub(crate) role: &'static str,
    pub(crate) action: &'a str,
    pub(crate) action_request_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) action_params_override: Option<&'a serde_json::Map<String, Value>>,
}

/// A decision trigger: `{"agent_id", "conversation_id", "message": DecisionMessageBody}`.
#[derive(Serialize)]
pub(crate) struct DecisionBody<'a> {
    pub(crate) agent_id: &'a str,
    pub(crate) conversation_id: &'a str,
    pub(crate) message: DecisionMessageBody<'a>,
}

/// Decodes every message of a list answer, in the order given.
pub(crate) fn decode_all(results: Vec<Value>) -> Result<Vec<Message>> {
    results.into_iter().map(Message::from_value).collect()
}

impl Message {
    /// Decodes one message of a `view` or `messages` answer. A known kind with a malformed body
    /// is a decode error naming the message; an unknown kind is kept as [`MessageContent::Unknown`].
    pub(crate) fn from_value(value: Value) -> Result<Message> {
        let object = value
            .as_object()
            .ok_or_else(|| decode_error("a message", "not a JSON object"))?;
        let id = object
            .get("item_id")
            .and_then(Value::as_str)
            .ok_or_else(|| decode_error("a message", "missing string field `item_id`"))?
            .to_owned();
        let insert_date = object
            .get("insert_date_")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                decode_error(
                    &format!("message {id}"),
                    "missing string field `insert_date_`",
                )
            })?
            .to_owned();
        // Same leniency as every other platform time: naive times are UTC.
        let inserted_at = super::timestamp(&Value::String(insert_date.clone()));
        let content = object
            .get("content")
            .filter(|c| c.is_object())
            .cloned()
            .ok_or_else(|| {
                decode_error(&format!("message {id}"), "missing object field `content`")
            })?;
        let content = MessageContent::from_value(content).map_err(|source| Error::Decode {
            what: format!("message {id}"),
            source,
        })?;
        Ok(Message {
            id,
            insert_date,
            inserted_at,
            content,
        })
    }
}

fn decode_error(what: &str, problem: &str) -> Error {
    Error::Decode {
        what: what.to_owned(),
        source: <serde_json::Error as serde::de::Error>::custom(problem),
    }
}

#[derive(Deserialize)]
struct WireUser {
    #[serde(default)]
    text: String,
    #[serde(default)]
    is_trigger_message: bool,
    #[serde(default)]
    attachments: Option<Vec<AttachedFile>>,
}

#[derive(Deserialize)]
struct WireAgent {
    #[serde(default)]
    text: String,
    #[serde(default)]
    generating: Option<bool>,
    #[serde(default)]
    thinking: Option<Vec<String>>,
    #[serde(default)]
    thought_about_tool_calls: Option<bool>,
}

#[derive(Deserialize)]
struct WireErrorBody {
    #[serde(default)]
    body: Value,
    #[serde(default)]
    raw: Option<Value>,
    #[serde(default)]
    step_name: Option<String>,
}

#[derive(Deserialize)]
struct WireAgentError {
    #[serde(default)]
    errors: Vec<WireErrorBody>,
}

#[derive(Deserialize, Default)]
struct WireParams {
    #[serde(default)]
    json: Option<Value>,
    #[serde(default)]
    resolved: Option<Value>,
    #[serde(default)]
    valid: Option<bool>,
}

impl WireParams {
    /// `{"valid": false, "json": "<text>"}` is invalid; anything else is
    /// valid (an older answer may carry only `resolved`).
    fn decode(self) -> ToolParams {
        match (self.valid, self.json) {
            (Some(false), json) => ToolParams::Invalid {
                raw: match json {
                    Some(Value::String(text)) => text,
                    Some(other) => other.to_string(),
                    None => String::new(),
                },
            },
            (_, json) => ToolParams::Valid {
                json: json
                    .or_else(|| self.resolved.clone())
                    .unwrap_or(Value::Object(serde_json::Map::new())),
                resolved: self.resolved,
            },
        }
    }
}

#[derive(Deserialize)]
struct WireConfirmation {
    confirmed: bool,
    #[serde(default)]
    by: Option<String>,
}

impl WireConfirmation {
    fn decode(self) -> Confirmation {
        Confirmation {
            confirmed: self.confirmed,
            by: match self.by.as_deref() {
                Some("user") => ConfirmedBy::User,
                Some("agent") => ConfirmedBy::Agent,
                other => ConfirmedBy::Unknown(other.unwrap_or_default().to_owned()),
            },
        }
    }
}

#[derive(Deserialize, Default)]
struct WireToolConfig {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    id: Option<String>,
}

#[derive(Deserialize)]
struct WireToolRun {
    tool_run_state: String,
    #[serde(default)]
    output: Option<Value>,
    #[serde(default)]
    params: Option<WireParams>,
    #[serde(default)]
    errors: Vec<WireErrorBody>,
    #[serde(default)]
    tool_config: Option<WireToolConfig>,
    #[serde(default)]
    action_details: Option<ActionDetails>,
    #[serde(default)]
    requires_confirmation: bool,
    #[serde(default)]
    confirmation: Option<WireConfirmation>,
}

#[derive(Deserialize)]
struct WireWorkforceRun {
    task_details: WorkforceTaskDetails,
    #[serde(default)]
    agent_details: Option<WorkforceAgentDetails>,
}

#[derive(Deserialize)]
struct WireTrigger {
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct WireHandover {
    #[serde(default)]
    task_details: Option<WorkforceTaskDetails>,
    agent_details: WorkforceAgentDetails,
    #[serde(default)]
    trigger: Option<WireTrigger>,
}

/// Error bodies are usually strings, but the platform does not promise it: keep anything else
/// as its JSON text rather than failing the whole message.
fn body_text(body: Value) -> String {
    match body {
        Value::String(text) => text,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl MessageContent {
    pub(crate) fn from_value(
        content: Value,
    ) -> std::result::Result<MessageContent, serde_json::Error> {
        let kind = content
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Ok(match kind.as_str() {
            "user-message" => {
                let wire: WireUser = serde_json::from_value(content)?;
                MessageContent::User(UserMessage {
                    text: wire.text,
                    is_trigger: wire.is_trigger_message,
                    attachments: wire.attachments.unwrap_or_default(),
                })
            }
            "agent-message" => {
                let wire: WireAgent = serde_json::from_value(content)?;
                MessageContent::Agent(AgentMessage {
                    text: wire.text,
                    generating: wire.generating.unwrap_or(false),
                    thoughts: wire.thinking.unwrap_or_default(),
                    thought_about_tool_calls: wire.thought_about_tool_calls.unwrap_or(false),
                })
            }
            "agent-error" => {
                let wire: WireAgentError = serde_json::from_value(content)?;
                MessageContent::AgentError(AgentErrorMessage {
                    errors: wire.errors.into_iter().map(|e| body_text(e.body)).collect(),
                })
            }
            "tool-run" => {
                let wire: WireToolRun = serde_json::from_value(content)?;
                let config = wire.tool_config.unwrap_or_default();
                MessageContent::ToolRun(ToolRun {
                    status: ToolStatus::from_wire(&wire.tool_run_state),
                    tool_id: config.id,
                    title: config.title,
                    kind: match config.kind.as_deref() {
                        Some("agent") => ToolKind::Agent,
                        Some("tool") | None => ToolKind::Tool,
                        Some(other) => ToolKind::Unknown(other.to_owned()),
                    },
                    params: wire.params.map(WireParams::decode),
                    action_details: wire.action_details,
                    requires_confirmation: wire.requires_confirmation,
                    confirmation: wire.confirmation.map(WireConfirmation::decode),
                    errors: wire
                        .errors
                        .into_iter()
                        .map(|e| ToolError {
                            body: body_text(e.body),
                            raw: e.raw.map(body_text),
                            step_name: e.step_name,
                        })
                        .collect(),
                    output: wire.output,
                })
            }
            "workforce-agent-run" => {
                let wire: WireWorkforceRun = serde_json::from_value(content)?;
                MessageContent::WorkforceAgentRun(WorkforceAgentRun {
                    task: wire.task_details,
                    agent: wire.agent_details,
                })
            }
            "workforce-agent-handover" => {
                let wire: WireHandover = serde_json::from_value(content)?;
                MessageContent::WorkforceAgentHandover(WorkforceAgentHandover {
                    task: wire.task_details,
                    agent: wire.agent_details,
                    trigger_message: wire.trigger.and_then(|t| t.message),
                })
            }
            _ => MessageContent::Unknown { kind, raw: content },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::*;
    use chrono::Utc;
    use serde_json::json;

    fn message(content: Value) -> Value {
        json!({"item_id": "m1", "insert_date_": "2026-11-26T10:00:00.000Z", "content": content})
    }

    #[test]
    fn tool_runs_carry_the_platform_schema_fields() {
        let cases = [
            (
                json!({"type": "tool-run", "tool_run_state": "pending",
                    "params": {"valid": true, "json": {"to": "a@b"}},
                    "action_details": {"action": "send_email", "action_request_id": "r1"},
                    "requires_confirmation": true,
                    "tool_config": {"type": "tool", "title": "Send", "id": "t1", "version": "latest"}}),
                Some(ToolParams::Valid {
                    json: json!({"to": "a@b"}),
                    resolved: None,
                }),
                Some(ActionDetails {
                    action: "send_email".into(),
                    action_request_id: "r1".into(),
                }),
                true,
                None,
            ),
            (
                json!({"type": "tool-run", "tool_run_state": "cancelled",
                    "params": {"valid": false, "json": "{not json"},
                    "requires_confirmation": true,
                    "confirmation": {"confirmed": false, "by": "user"}}),
                Some(ToolParams::Invalid {
                    raw: "{not json".into(),
                }),
                None,
                true,
                Some(Confirmation {
                    confirmed: false,
                    by: ConfirmedBy::User,
                }),
            ),
            (
                // An older answer: only `resolved`, no confirmation fields.
                json!({"type": "tool-run", "tool_run_state": "finished",
                    "params": {"valid": true, "resolved": {"q": 1}},
                    "confirmation": {"confirmed": true, "by": "robot"}}),
                Some(ToolParams::Valid {
                    json: json!({"q": 1}),
                    resolved: Some(json!({"q": 1})),
                }),
                None,
                false,
                Some(Confirmation {
                    confirmed: true,
                    by: ConfirmedBy::Unknown("robot".into()),
                }),
            ),
            (
                json!({"type": "tool-run", "tool_run_state": "running"}),
                None,
                None,
                false,
                None,
            ),
        ];
        for (content, params, action, requires, confirmation) in cases {
            let MessageContent::ToolRun(run) = Message::from_value(message(content.clone()))
                .unwrap()
                .content
            else {
                panic!("{content}: not a tool run");
            };
            assert_eq!(run.params, params, "{content}");
            assert_eq!(run.action_details, action, "{content}");
            assert_eq!(run.requires_confirmation, requires, "{content}");
            assert_eq!(run.confirmation, confirmation, "{content}");
        }
        let valid = ToolParams::Valid {
            json: json!({"a": 1}),
            resolved: Some(json!({"a": 2})),
        };
        assert_eq!(valid.values(), Some(&json!({"a": 2})), "resolved wins");
        assert_eq!(ToolParams::Invalid { raw: "x".into() }.values(), None);
    }

    #[test]
    fn every_known_kind_decodes_to_its_variant() {
        let cases = [
            (
                json!({"type": "user-message", "text": "hi", "is_trigger_message": true,
                    "attachments": [{"file_name": "a.pdf", "file_url": "http://x/a.pdf"}]}),
                "user",
            ),
            (
                json!({"type": "agent-message", "text": "yo", "generating": true, "thinking": ["hm"]}),
                "agent",
            ),
            (
                json!({"type": "agent-error", "errors": [{"body": "first"}, {"body": "last"}]}),
                "error",
            ),
            (
                json!({"type": "tool-run", "tool_run_state": "finished", "output": {"x": 1},
                    "params": {"resolved": {"q": 1}, "valid": true}, "errors": [],
                    "tool_config": {"type": "tool", "title": "Search", "id": "t1"}}),
                "tool",
            ),
            (
                json!({"type": "workforce-agent-run", "task_details": {"conversation_id": "c1", "current_state": "running"},
                    "agent_details": {"agent_id": "a1", "name": "A"}}),
                "run",
            ),
            (
                json!({"type": "workforce-agent-handover", "agent_details": {"agent_id": "a2"},
                    "trigger": {"message": "over to you"}}),
                "handover",
            ),
        ];
        for (content, expected) in cases {
            let decoded = Message::from_value(message(content)).unwrap();
            let got = match &decoded.content {
                MessageContent::User(u) => {
                    assert!(u.is_trigger);
                    assert_eq!(u.attachments[0].file_name, "a.pdf");
                    "user"
                }
                MessageContent::Agent(a) => {
                    assert!(a.generating);
                    assert_eq!(a.thoughts, ["hm"]);
                    "agent"
                }
                MessageContent::AgentError(e) => {
                    assert_eq!(e.last_error(), Some("last"));
                    "error"
                }
                MessageContent::ToolRun(t) => {
                    assert_eq!(t.status, ToolStatus::Completed);
                    assert_eq!(t.output(), Some(&json!({"x": 1})));
                    assert_eq!(t.kind, ToolKind::Tool);
                    "tool"
                }
                MessageContent::WorkforceAgentRun(r) => {
                    assert_eq!(r.task.conversation_id.as_deref(), Some("c1"));
                    "run"
                }
                MessageContent::WorkforceAgentHandover(h) => {
                    assert_eq!(h.trigger_message.as_deref(), Some("over to you"));
                    "handover"
                }
                MessageContent::Unknown { .. } => "unknown",
            };
            assert_eq!(got, expected);
            assert!(decoded.inserted_at.is_some());
        }
    }

    #[test]
    fn insert_date_is_kept_verbatim_and_parsed_leniently() {
        let with = |date: &str| json!({"item_id": "m", "insert_date_": date, "content": {"type": "agent-message"}});
        let expected = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 1, 2, 3, 4, 5).unwrap();
        for (date, parsed) in [
            ("2026-01-02T03:04:05Z", Some(expected)),
            ("2026-01-02T03:04:05.000000", Some(expected)),
            ("garbage", None),
        ] {
            let message = Message::from_value(with(date)).unwrap();
            assert_eq!(message.insert_date, date);
            assert_eq!(message.inserted_at, parsed, "{date}");
        }
    }

    #[test]
    fn tool_output_only_once_completed_and_states_map() {
        for (state, status) in [
            ("pending", ToolStatus::Pending),
            ("running", ToolStatus::Running),
            ("finished", ToolStatus::Completed),
            ("error", ToolStatus::Error),
            ("cancelled", ToolStatus::Cancelled),
            ("exploded", ToolStatus::Unknown("exploded".into())),
        ] {
            let m = Message::from_value(message(json!({"type": "tool-run", "tool_run_state": state,
                "output": {"_agent_conversation_details": {"agent_id": "a", "conversation_id": "c"}}})))
            .unwrap();
            let MessageContent::ToolRun(run) = m.content else {
                panic!("tool run")
            };
            assert_eq!(run.status, status);
            assert_eq!(
                run.output().is_some(),
                status == ToolStatus::Completed,
                "{state}"
            );
            assert_eq!(run.sub_agent(), Some(("a", "c")));
        }
    }

    #[test]
    fn an_unknown_kind_is_kept_raw() {
        let content = json!({"type": "agent-dance", "moves": 3});
        let m = Message::from_value(message(content.clone())).unwrap();
        assert_eq!(
            m.content,
            MessageContent::Unknown {
                kind: "agent-dance".into(),
                raw: content
            }
        );
    }

    #[test]
    fn malformed_messages_are_decode_errors_naming_the_problem() {
        let cases = [
            (json!("text"), "not a JSON object"),
            (json!({"insert_date_": "x", "content": {}}), "item_id"),
            (json!({"item_id": "m9", "content": {}}), "insert_date_"),
            (json!({"item_id": "m9", "insert_date_": "x"}), "content"),
            (message(json!({"type": "tool-run"})), "tool_run_state"),
            (
                message(json!({"type": "agent-message", "text": 5})),
                "message m1",
            ),
            (
                message(json!({"type": "workforce-agent-handover"})),
                "agent_details",
            ),
        ];
        for (value, named) in cases {
            let error = Message::from_value(value).unwrap_err();
            assert!(matches!(error, Error::Decode { .. }), "{error:?}");
            let text = format!("{error} {:?}", error);
            assert!(text.contains(named), "{text} should name {named}");
        }
    }
}

/// Property tests: whatever JSON arrives, decoding a message is a typed answer, never a
/// panic. Bounded: 256 cases per property, shrinking on failure.
#[cfg(all(test, not(target_family = "wasm")))]
mod proptests {
    use proptest::prelude::*;
    use serde_json::{json, Value};

    use crate::message::Message;

    /// Any JSON value, a few levels deep.
    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>().prop_map(|f| json!(f)),
            ".{0,24}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(".{0,12}", inner, 0..6)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    const KINDS: [&str; 8] = [
        "user-message",
        "agent-message",
        "agent-error",
        "tool-run",
        "workforce-agent-run",
        "workforce-agent-handover",
        "something-new",
        "",
    ];

    /// A message item of a given kind whose fields hold any JSON.
    fn message_like() -> impl Strategy<Value = Value> {
        (
            prop::sample::select(KINDS.to_vec()),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "text",
                    "generating",
                    "thinking",
                    "is_trigger_message",
                    "attachments",
                    "errors",
                    "tool_run_state",
                    "output",
                    "params",
                    "requires_confirmation",
                    "agent_id",
                    "conversation_id",
                    "tool_config",
                    "agent_details",
                    "status",
                ]),
                any_json(),
                0..8,
            ),
            any_json(),
            any_json(),
        )
            .prop_map(|(kind, fields, item_id, date)| {
                let mut content: serde_json::Map<String, Value> = fields
                    .into_iter()
                    .map(|(name, value)| (name.to_string(), value))
                    .collect();
                content.insert("type".to_string(), json!(kind));
                json!({"item_id": item_id, "insert_date_": date, "content": content})
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn message_from_value_never_panics_for_any_kind(value in message_like()) {
            let _ = Message::from_value(value);
        }

        #[test]
        fn message_from_value_never_panics_on_any_json(value in any_json()) {
            let _ = Message::from_value(value);
        }
    }
}
