//! Tools, the platform's "studios" (PROTOCOL A12), and an agent's tools and
//! sub-agents (`agents/tools/list`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub(crate) const LIST_PATH: &str = "studios/list";
pub(crate) const BULK_UPDATE_PATH: &str = "studios/bulk_update";
pub(crate) const BULK_DELETE_PATH: &str = "studios/bulk_delete";
pub(crate) const CLONE_PATH: &str = "studios/clone";
pub(crate) const AGENT_TOOLS_PATH: &str = "agents/tools/list";
/// How many tools one list asks for (the Python client's default).
pub(crate) const LIST_PAGE_SIZE: u32 = 100;

/// `studios/{studio_id}/get`.
pub(crate) fn get_path(tool_id: &str) -> String {
    format!("studios/{tool_id}/get")
}

/// `studios/{studio_id}/trigger_limited`.
pub(crate) fn trigger_path(tool_id: &str) -> String {
    format!("studios/{tool_id}/trigger_limited")
}

/// A tool's webhook form (`TriggerStudioFromWebhook` in the platform's generated types):
/// the body is the params themselves, `project` goes in the query.
pub(crate) fn webhook_path(tool_id: &str) -> String {
    format!("studios/{tool_id}/trigger_webhook")
}

/// The `filters` query value that keeps the project's own tools (as the Python client).
pub(crate) fn project_filter(project: &str) -> String {
    serde_json::json!([{"filter_type": "exact_match", "field": "project",
                        "condition_value": project, "condition": "=="}])
    .to_string()
}

/// `Tool`; everything but the id is taken as loosely typed.
#[derive(Deserialize)]
pub(crate) struct ToolConfig {
    pub(crate) studio_id: String,
    #[serde(default)]
    pub(crate) title: Value,
    #[serde(default)]
    pub(crate) description: Value,
    #[serde(default)]
    pub(crate) emoji: Value,
    #[serde(default)]
    pub(crate) project: Value,
    #[serde(default)]
    pub(crate) public: Value,
    #[serde(default)]
    pub(crate) params_schema: Value,
    #[serde(default, rename = "type")]
    pub(crate) kind: Value,
    #[serde(default)]
    pub(crate) insert_date_: Value,
    #[serde(default)]
    pub(crate) update_date_: Value,
}

/// A `Tool` decoded, with the whole object kept beside it.
pub(crate) type RawTool = super::WithRaw<ToolConfig>;

/// `{"studio": Tool}`.
#[derive(Deserialize)]
pub(crate) struct GetAnswer {
    pub(crate) studio: RawTool,
}

/// `{"results": [Tool]}` (also `agents/tools/list`'s, with `type`).
#[derive(Deserialize)]
pub(crate) struct ListAnswer {
    pub(crate) results: Vec<RawTool>,
}

/// `{"partial_update", "updates": [Tool fields incl. "studio_id"]}`.
#[derive(Serialize)]
pub(crate) struct BulkUpdateBody {
    pub(crate) partial_update: bool,
    pub(crate) updates: Vec<Map<String, Value>>,
}

/// `{"ids": [...]}`.
#[derive(Serialize)]
pub(crate) struct BulkDeleteBody<'a> {
    pub(crate) ids: Vec<&'a str>,
}

/// `{"project", "region", "studio_id"}`.
#[derive(Serialize)]
pub(crate) struct CloneBody<'a> {
    pub(crate) project: &'a str,
    pub(crate) region: &'a str,
    pub(crate) studio_id: &'a str,
}

/// `{"studio_id": "<the copy>"}`.
#[derive(Deserialize)]
pub(crate) struct CloneAnswer {
    pub(crate) studio_id: String,
}

/// `{"params", "project"}`.
#[derive(Serialize)]
pub(crate) struct TriggerBody<'a> {
    pub(crate) params: &'a Value,
    pub(crate) project: &'a str,
}

/// One entry of a run's `errors`.
#[derive(Deserialize)]
pub(crate) struct RunError {
    #[serde(default)]
    pub(crate) body: Value,
}

/// `trigger_limited`'s answer; `status` is required, the rest lenient.
#[derive(Deserialize)]
pub(crate) struct TriggerAnswer {
    #[serde(default)]
    pub(crate) output: Value,
    pub(crate) status: String,
    #[serde(default)]
    pub(crate) errors: Vec<RunError>,
    #[serde(default, rename = "executionTime")]
    pub(crate) execution_time: Value,
}

/// `{"agent_ids": [...]}`.
#[derive(Serialize)]
pub(crate) struct AgentToolsBody<'a> {
    pub(crate) agent_ids: Vec<&'a str>,
}
