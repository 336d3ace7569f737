//! Agents (PROTOCOL A5, A7b, A8b): reading, listing, triggering.
//!
//! The emulator reads the same trigger body with its own types
//! (`relevance-emulator`'s `api::tasks`, `engine::trigger`) on purpose: it never
//! depends on this SDK and is checked against the platform's own models.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::messages::UserMessageBody;

pub(crate) const LIST_PATH: &str = "agents/list";
pub(crate) const TRIGGER_PATH: &str = "agents/trigger";

/// `agents/{agent_id}/get`.
pub(crate) fn get_path(agent_id: &str) -> String {
    format!("agents/{agent_id}/get")
}

/// `AgentConfig`; everything but the id is taken as loosely typed.
#[derive(Deserialize)]
pub(crate) struct AgentConfig {
    pub(crate) agent_id: String,
    #[serde(default)]
    pub(crate) name: Value,
    #[serde(default)]
    pub(crate) description: Value,
    #[serde(default)]
    pub(crate) emoji: Value,
    #[serde(default)]
    pub(crate) project: Value,
    #[serde(default)]
    pub(crate) public: Value,
    #[serde(default)]
    pub(crate) model: Value,
    #[serde(default)]
    pub(crate) insert_date_: Value,
    #[serde(default)]
    pub(crate) update_date_: Value,
}

/// An `AgentConfig` decoded, with the whole object kept beside it (an
/// API-key trigger sends it back as `agent_override`).
pub(crate) type RawAgentConfig = super::WithRaw<AgentConfig>;

/// `{"agent": AgentConfig}`.
#[derive(Deserialize)]
pub(crate) struct GetAnswer {
    pub(crate) agent: RawAgentConfig,
}

/// `{"page", "page_size"}`.
#[derive(Serialize)]
pub(crate) struct ListBody {
    pub(crate) page: u32,
    pub(crate) page_size: u32,
}

/// `{"results": [AgentConfig]}`.
#[derive(Deserialize)]
pub(crate) struct ListAnswer {
    pub(crate) results: Vec<RawAgentConfig>,
}

/// The TriggerBody; unused fields are absent, never `null`.
#[derive(Serialize)]
pub(crate) struct TriggerBody<'a> {
    pub(crate) agent_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) agent_override: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) conversation_id: Option<&'a str>,
    /// The caller's own id for the conversation (PROTOCOL A17).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) external_id: Option<&'a str>,
    /// `extend-conversation` or `nothing`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) external_id_behaviour: Option<&'static str>,
    pub(crate) message: UserMessageBody<'a>,
    /// The agent's variables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) params: Option<&'a Map<String, Value>>,
    /// `active`, `draft` or a version id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) version: Option<&'a str>,
}

/// `{"action": "regenerate", ...}` (PROTOCOL A17): a turn answered again.
#[derive(Serialize)]
pub(crate) struct RegenerateBody<'a> {
    pub(crate) action: &'static str,
    pub(crate) agent_id: &'a str,
    pub(crate) conversation_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) regenerate_message_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) use_first_message: Option<bool>,
}

/// The override that turns streaming on, exactly as the official client
/// sends it: the agent's configuration as read, unchanged, plus
/// `"use_streaming": true`.
pub(crate) fn streaming_override(config: &Map<String, Value>) -> Map<String, Value> {
    let mut config = config.clone();
    config.insert("use_streaming".to_owned(), Value::Bool(true));
    config
}

/// The trigger answer: `{"conversation_id", "agent_id", "state", "job_info"}`;
/// only the task id is required.
#[derive(Deserialize)]
pub(crate) struct TriggerAnswer {
    pub(crate) conversation_id: String,
    #[serde(default)]
    pub(crate) agent_id: Option<String>,
    #[serde(default)]
    pub(crate) state: Option<String>,
    /// `{"job_id", "studio_id", "conversation_id"}`: the job that follows the run
    /// (PROTOCOL A15); read leniently.
    #[serde(default)]
    pub(crate) job_info: serde_json::Value,
}

/// `agents/upsert` (PROTOCOL A13).
pub(crate) const UPSERT_PATH: &str = "agents/upsert";

/// `agents/{agent_id}/delete`.
pub(crate) fn delete_path(agent_id: &str) -> String {
    format!("agents/{agent_id}/delete")
}

/// `{"agent_id"}`: the agent `agents/upsert` made or changed.
#[derive(Deserialize)]
pub(crate) struct UpsertAnswer {
    pub(crate) agent_id: String,
}
