//! Task messages: one enum over every kind the platform writes.
//!
//! Plain data: decoding from the wire is `wire::messages`, the one place
//! messages are decoded.
//!
//! The platform updates a message in place (same `item_id`, new content), so a [`Message`] is a
//! snapshot. A kind this SDK does not know decodes to [`MessageContent::Unknown`] with the raw
//! JSON kept: a newer platform must never break an older client.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

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
    pub(crate) fn from_wire(state: &str) -> Self {
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
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    pub(crate) output: Option<Value>,
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
