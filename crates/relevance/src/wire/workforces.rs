//! Workforces and their tasks (PROTOCOL A6).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::messages::UserMessageBody;

pub(crate) const TRIGGER_PATH: &str = "workforce/trigger";
pub(crate) const TASK_LIST_PATH: &str = "workforce/tasks/list";
pub(crate) const TASK_LIST_WHAT: &str = "workforce/tasks/list answer";
pub(crate) const DEFAULT_TASK_PAGE_SIZE: u32 = 100;
/// How many messages one messages request asks for.
pub(crate) const MESSAGES_PAGE_SIZE: u32 = 1000;

/// `workforce/items/{workforce_id}`.
pub(crate) fn item_path(workforce_id: &str) -> String {
    format!("workforce/items/{workforce_id}")
}

/// `workforce/tasks/{task_id}/metadata` (it does not name the workforce).
pub(crate) fn metadata_path(task_id: &str) -> String {
    format!("workforce/tasks/{task_id}/metadata")
}

/// `workforce/items/{workforce_id}/tasks/{task_id}/messages`.
pub(crate) fn messages_path(workforce_id: &str, task_id: &str) -> String {
    format!("workforce/items/{workforce_id}/tasks/{task_id}/messages")
}

/// `{"id", "workforce_metadata": {"name"}}`.
#[derive(Deserialize)]
pub(crate) struct WorkforceItem {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) workforce_metadata: Value,
}

/// `{"trigger": {"message", "use_streaming"}, "workforce_id", "workforce_task_id"?}`.
#[derive(Serialize)]
pub(crate) struct TriggerBody<'a> {
    pub(crate) trigger: Trigger<'a>,
    pub(crate) workforce_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) workforce_task_id: Option<&'a str>,
}

#[derive(Serialize)]
pub(crate) struct Trigger<'a> {
    pub(crate) message: UserMessageBody<'a>,
    pub(crate) use_streaming: bool,
}

/// `{"workforce_task_id"}`.
#[derive(Deserialize)]
pub(crate) struct TriggerAnswer {
    pub(crate) workforce_task_id: String,
}

/// A workforce task's metadata, every field loosely typed: it carries no id
/// (the id is in the path or the list item).
#[derive(Deserialize)]
pub(crate) struct WorkforceTaskMeta {
    #[serde(default)]
    pub(crate) insert_date: Value,
    #[serde(default)]
    pub(crate) update_date: Value,
    #[serde(default)]
    pub(crate) title: Value,
    #[serde(default)]
    pub(crate) state: Value,
    #[serde(default)]
    pub(crate) requested_state: Value,
}

/// `{"page_size": 1000}`.
#[derive(Serialize)]
pub(crate) struct MessagesBody {
    pub(crate) page_size: u32,
}

/// `{"cursor"?, "page_size", "query"?, "workforce_id"}`.
#[derive(Serialize)]
pub(crate) struct TaskListBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cursor: Option<&'a str>,
    pub(crate) page_size: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) query: Option<&'a str>,
    pub(crate) workforce_id: &'a str,
}

/// `{"results": [item], "next_cursor"?}`.
#[derive(Deserialize)]
pub(crate) struct TaskListAnswer {
    pub(crate) results: Vec<TaskListItem>,
    #[serde(default)]
    pub(crate) next_cursor: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct TaskListItem {
    pub(crate) workforce_task_id: String,
    #[serde(default)]
    pub(crate) workforce_id: Value,
    #[serde(flatten)]
    pub(crate) meta: WorkforceTaskMeta,
}
