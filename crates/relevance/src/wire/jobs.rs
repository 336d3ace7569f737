//! Jobs (PROTOCOL A15): a tool started as a job, and the long poll that follows any job
//! (a tool's, or an agent run's from a trigger's `job_info`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `studios/{studio_id}/trigger_async`.
pub(crate) fn start_path(studio_id: &str) -> String {
    format!("studios/{studio_id}/trigger_async")
}

/// `studios/{studio_id}/async_poll/{job_id}`.
pub(crate) fn poll_path(studio_id: &str, job_id: &str) -> String {
    format!("studios/{studio_id}/async_poll/{job_id}")
}

/// `studios/{job_id}/cancel` (the path names the job).
pub(crate) fn cancel_path(job_id: &str) -> String {
    format!("studios/{job_id}/cancel")
}

/// `{"job_id", "params", "project"}`: the client chooses the job id, so a start is safe
/// to send again.
#[derive(Serialize)]
pub(crate) struct StartBody<'a> {
    pub(crate) job_id: &'a str,
    pub(crate) params: &'a Value,
    pub(crate) project: &'a str,
}

/// `{"job_id", "project", "studio_id"}`; only the id is required.
#[derive(Deserialize)]
pub(crate) struct StartAnswer {
    pub(crate) job_id: String,
}

/// `{"type", "updates", "last_message_id"}`.
#[derive(Deserialize)]
pub(crate) struct PollAnswer {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) updates: Vec<Value>,
    #[serde(default)]
    pub(crate) last_message_id: Option<i64>,
}
