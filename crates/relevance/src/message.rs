//! Task messages (PROTOCOL A7): one enum over every kind the platform writes.
//!
//! The platform updates a message in place (same `item_id`, new content), so a [`Message`] is a
//! snapshot. A kind this SDK does not know decodes to [`MessageContent::Unknown`] with the raw
//! JSON kept: a newer platform must never break an older client.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};

/// One message of a task, as the platform stored it at the time it was read.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// The platform's id for the message (`item_id`); stable across in-place updates.
    pub id: String,
    /// `insert_date_` exactly as the platform wrote it: the `view` cursor is pinned to this
    /// string, so it is kept verbatim rather than re-formatted.
    pub insert_date: String,
    /// `insert_date_` parsed, when it is a valid ISO-8601 time.
    pub inserted_at: Option<DateTime<Utc>>,
    /// What the message says.
    pub content: MessageContent,
}

/// The content of a message, by kind.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum MessageContent {
    /// `user-message`.
    User(UserMessage),
    /// `agent-message`.
    Agent(AgentMessage),
    /// `agent-error`.
    AgentError(AgentErrorMessage),
    /// `tool-run` (a tool, or a sub-agent run as a tool).
    ToolRun(ToolRun),
    /// `workforce-agent-run`: a member agent working on a workforce task.
    WorkforceAgentRun(WorkforceAgentRun),
    /// `workforce-agent-handover`: one member handing the task to another.
    WorkforceAgentHandover(WorkforceAgentHandover),
    /// A kind this SDK does not know, kept whole.
    Unknown {
        /// The `content.type` string.
        kind: String,
        /// The whole `content` object.
        raw: Value,
    },
}

/// A file attached to a user message, as the platform stores and sends it
/// (`{"file_name", "file_url"}`, both in messages and in the trigger body).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct AttachedFile {
    /// The file's name as the user gave it.
    pub file_name: String,
    /// Where the platform serves it.
    pub file_url: String,
}

/// A message the user sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserMessage {
    /// The text.
    pub text: String,
    /// Whether this is the message that created the task.
    pub is_trigger: bool,
    /// Files sent with it.
    pub attachments: Vec<AttachedFile>,
}

/// A reply of the agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentMessage {
    /// The text so far (final once `generating` is false).
    pub text: String,
    /// Still being written: the platform will update this message in place.
    pub generating: bool,
    /// The agent's recorded reasoning.
    pub thoughts: Vec<String>,
    /// Whether the reasoning was about tool calls.
    pub thought_about_tool_calls: bool,
}

/// Errors the agent hit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentErrorMessage {
    /// Every error body, oldest first.
    pub errors: Vec<String>,
}

impl AgentErrorMessage {
    /// The most recent error, the one a UI shows.
    pub fn last_error(&self) -> Option<&str> {
        self.errors.last().map(String::as_str)
    }
}

/// Where a tool run stands, as clients show it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToolStatus {
    /// Not started yet.
    Pending,
    /// Running.
    Running,
    /// Finished successfully (`finished` on the wire).
    Completed,
    /// Failed.
    Error,
    /// Cancelled.
    Cancelled,
    /// A state this SDK does not know, kept as sent.
    Unknown(String),
}

impl ToolStatus {
    fn from_wire(state: &str) -> Self {
        match state {
            "pending" => Self::Pending,
            "running" => Self::Running,
            "finished" => Self::Completed,
            "error" => Self::Error,
            "cancelled" => Self::Cancelled,
            other => Self::Unknown(other.to_owned()),
        }
    }
}

/// One error of a tool run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolError {
    /// What went wrong.
    pub body: String,
    /// The raw error text, when the platform gives one.
    pub raw: Option<String>,
    /// The tool step that failed.
    pub step_name: Option<String>,
}

/// Whether the run is a plain tool or another agent called as a tool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ToolKind {
    /// A tool.
    Tool,
    /// A sub-agent.
    Agent,
    /// Something newer, kept as sent.
    Unknown(String),
}

/// The parameters the agent gave a tool run.
#[derive(Clone, Debug, PartialEq)]
pub enum ToolParams {
    /// Valid parameters.
    Valid {
        /// As the agent wrote them (`params.json`).
        json: Value,
        /// As the tool was actually run with them (`params.resolved`), once known.
        resolved: Option<Value>,
    },
    /// Parameters the platform could not read: the agent's raw text.
    Invalid {
        /// The text as the agent wrote it (`params.json`).
        raw: String,
    },
}

impl ToolParams {
    /// The parameters the tool ran (or will run) with: the resolved ones
    /// when known, else the agent's; `None` when they were invalid.
    pub fn values(&self) -> Option<&Value> {
        match self {
            ToolParams::Valid { json, resolved } => Some(resolved.as_ref().unwrap_or(json)),
            ToolParams::Invalid { .. } => None,
        }
    }
}

/// Which run of which action of the agent this is (`action_details`); the
/// ids a decision on a waiting run must name.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ActionDetails {
    /// The agent's action id for this tool.
    pub action: String,
    /// Unique per run of the tool.
    pub action_request_id: String,
}

/// Who decided on a run that waited for confirmation.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfirmedBy {
    /// A person.
    User,
    /// The agent itself.
    Agent,
    /// Someone newer, kept as sent.
    Unknown(String),
}

/// The decision on a run that waited for confirmation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confirmation {
    /// Approved (`true`) or rejected.
    pub confirmed: bool,
    /// Who decided.
    pub by: ConfirmedBy,
}

/// A tool (or sub-agent) run, updated in place as it progresses.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolRun {
    /// Where the run stands.
    pub status: ToolStatus,
    /// The tool's id.
    pub tool_id: Option<String>,
    /// The tool's title.
    pub title: Option<String>,
    /// Tool or sub-agent.
    pub kind: ToolKind,
    /// The parameters, when the platform sent them.
    pub params: Option<ToolParams>,
    /// Which action and which run of it this is.
    pub action_details: Option<ActionDetails>,
    /// Whether the run waits for a person to approve it before it runs.
    pub requires_confirmation: bool,
    /// The decision, once someone made it.
    pub confirmation: Option<Confirmation>,
    /// Errors of the run.
    pub errors: Vec<ToolError>,
    output: Option<Value>,
}

impl ToolRun {
    /// The output, only once the run completed (a running tool's partial output is not a result).
    pub fn output(&self) -> Option<&Value> {
        match self.status {
            ToolStatus::Completed => self.output.as_ref(),
            _ => None,
        }
    }

    /// For a sub-agent run: the agent id and the task id it runs in.
    pub fn sub_agent(&self) -> Option<(&str, &str)> {
        let details = self.output.as_ref()?.get("_agent_conversation_details")?;
        Some((
            details.get("agent_id")?.as_str()?,
            details.get("conversation_id")?.as_str()?,
        ))
    }
}

/// The task a workforce member runs in.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct WorkforceTaskDetails {
    /// The member's project.
    #[serde(default)]
    pub project: Option<String>,
    /// The member's region code.
    #[serde(default)]
    pub region: Option<String>,
    /// The member's own agent task.
    #[serde(default)]
    pub conversation_id: Option<String>,
    /// The state the member's task ended in.
    #[serde(default)]
    pub finished_state: Option<String>,
    /// The member task's current state.
    #[serde(default)]
    pub current_state: Option<String>,
}

/// The workforce member an event is about.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct WorkforceAgentDetails {
    /// The member agent's id.
    pub agent_id: String,
    /// Its project.
    #[serde(default)]
    pub project: Option<String>,
    /// Its region code.
    #[serde(default)]
    pub region: Option<String>,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
    /// Its emoji.
    #[serde(default)]
    pub emoji: Option<String>,
    /// Its description.
    #[serde(default)]
    pub description: Option<String>,
    /// Why it was deleted, if it was.
    #[serde(default)]
    pub deleted_reason: Option<String>,
}

/// A member agent working on a workforce task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkforceAgentRun {
    /// The member's own task.
    pub task: WorkforceTaskDetails,
    /// The member.
    pub agent: Option<WorkforceAgentDetails>,
}

/// One member handing the task to another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkforceAgentHandover {
    /// The receiving member's task, once it exists.
    pub task: Option<WorkforceTaskDetails>,
    /// The receiving member.
    pub agent: WorkforceAgentDetails,
    /// The message the receiving member was given.
    pub trigger_message: Option<String>,
}

impl Message {
    /// Decodes one message of a `view` or `messages` answer. A known kind with a malformed body
    /// is a decode error naming the message; an unknown kind is kept as [`MessageContent::Unknown`].
    pub fn from_value(value: Value) -> Result<Message> {
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
        let inserted_at = crate::agent::timestamp(&Value::String(insert_date.clone()));
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
    fn from_value(content: Value) -> std::result::Result<MessageContent, serde_json::Error> {
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
