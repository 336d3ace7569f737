//! Agent tasks (PROTOCOL A5, A7b): metadata, the message `view`, the
//! conversation list. The metadata answer's envelope is shared with
//! workforce tasks (A6).

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub(crate) const LIST_PATH: &str = "agents/conversations/list";

/// The query that makes a metadata read carry a live-stream token (PROTOCOL A5, A6).
pub(crate) const STREAMING_TOKEN_QUERY: (&str, &str) = ("include_streaming_token", "true");

/// How many messages one `view` request asks for.
pub(crate) const VIEW_PAGE_SIZE: u32 = 1000;

/// `agents/{agent_id}/tasks/{task_id}/metadata`.
pub(crate) fn metadata_path(agent_id: &str, task_id: &str) -> String {
    format!("agents/{agent_id}/tasks/{task_id}/metadata")
}

/// `agents/{agent_id}/tasks/{task_id}/view`.
pub(crate) fn view_path(agent_id: &str, task_id: &str) -> String {
    format!("agents/{agent_id}/tasks/{task_id}/view")
}

/// `{"metadata": M, "streaming_token"?: {...}}`, for either owner; the token
/// is read leniently by `events::sse::StreamingToken::from_value`.
#[derive(Deserialize)]
pub(crate) struct MetadataAnswer<M> {
    pub(crate) metadata: M,
    #[serde(default)]
    pub(crate) streaming_token: Value,
}

/// TaskMeta of an agent task. Only the task id is required.
#[derive(Deserialize)]
pub(crate) struct TaskMeta {
    pub(crate) knowledge_set: String,
    #[serde(default)]
    pub(crate) insert_date: Value,
    #[serde(default)]
    pub(crate) update_date: Value,
    #[serde(default)]
    pub(crate) conversation: Value,
}

/// The `view` body: `{"cursor"?: {"after": ...}, "page_size": 1000}`.
#[derive(Serialize)]
pub(crate) struct ViewBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cursor: Option<ViewCursor<'a>>,
    pub(crate) page_size: u32,
}

/// `{"after": "<ISO-8601>"}`, inclusive.
#[derive(Serialize)]
pub(crate) struct ViewCursor<'a> {
    pub(crate) after: &'a str,
}

impl<'a> ViewBody<'a> {
    pub(crate) fn after(after: Option<&'a str>) -> Self {
        ViewBody {
            cursor: after.map(|after| ViewCursor { after }),
            page_size: VIEW_PAGE_SIZE,
        }
    }
}

/// What the conversation list is asked for, in wire terms.
#[derive(Debug)]
pub(crate) struct ListQuery<'a> {
    pub(crate) agent_id: &'a str,
    /// The states of the wanted statuses (empty: every state).
    pub(crate) states: Vec<String>,
    /// `("insert_date" | "update_date", "asc" | "desc")`.
    pub(crate) sort: (&'static str, &'static str),
    pub(crate) page_size: u32,
    pub(crate) page: u32,
    /// Already trimmed; `None` when blank.
    pub(crate) search: Option<&'a str>,
}

impl ListQuery<'_> {
    /// The query pairs, in the order sent: `filters` and `sort` are JSON text.
    pub(crate) fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut filters = vec![exact_match(
            "conversation.agent_id",
            vec![self.agent_id.to_string()],
        )];
        if !self.states.is_empty() {
            filters.push(exact_match("conversation.state", self.states.clone()));
        }
        let (field, direction) = self.sort;
        let mut query = vec![
            ("filters", to_json_text(&filters)),
            ("sort", format!(r#"[{{"{field}":"{direction}"}}]"#)),
            ("page_size", self.page_size.to_string()),
            ("page", self.page.to_string()),
        ];
        if let Some(search) = self.search {
            query.push(("query", search.to_string()));
        }
        query
    }
}

/// One `filters` entry. A struct rather than a map so the field order on
/// the wire is the protocol's.
#[derive(Serialize)]
struct ExactMatch<'a> {
    field: &'a str,
    filter_type: &'static str,
    condition: &'static str,
    condition_value: Vec<String>,
}

fn exact_match(field: &str, values: Vec<String>) -> ExactMatch<'_> {
    ExactMatch {
        field,
        filter_type: "exact_match",
        condition: "==",
        condition_value: values,
    }
}

/// Serialising plain strings and a plain struct cannot fail.
fn to_json_text(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("plain strings always serialise")
}

/// A conversation-list answer: `{"results": [{"knowledge_set", "metadata"}]}`.
#[derive(Deserialize)]
pub(crate) struct ListAnswer {
    pub(crate) results: Vec<ListItem>,
}

#[derive(Deserialize)]
pub(crate) struct ListItem {
    pub(crate) knowledge_set: String,
    pub(crate) metadata: TaskMeta,
}

/// `agents/{agent_id}/tasks/{task_id}/trigger_message` (PROTOCOL A11).
pub(crate) fn trigger_message_path(agent_id: &str, task_id: &str) -> String {
    format!("agents/{agent_id}/tasks/{task_id}/trigger_message")
}

/// `{"trigger_message": Message}`.
#[derive(Deserialize)]
pub(crate) struct TriggerMessageAnswer {
    pub(crate) trigger_message: Value,
}

/// A rerun: a trigger with `edit_message_id` beside `message` (PROTOCOL A11).
#[derive(Serialize)]
pub(crate) struct RerunBody<'a> {
    pub(crate) agent_id: &'a str,
    pub(crate) conversation_id: &'a str,
    pub(crate) edit_message_id: &'a str,
    pub(crate) message: super::messages::UserMessageBody<'a>,
}

/// `knowledge/sets/delete` (PROTOCOL A11).
pub(crate) const DELETE_PATH: &str = "knowledge/sets/delete";

/// `{"knowledge_set": [task ids]}`.
#[derive(Serialize)]
pub(crate) struct DeleteBody<'a> {
    pub(crate) knowledge_set: [&'a str; 1],
}

/// `agents/{agent_id}/scheduled_triggers_item/create` (PROTOCOL A11).
pub(crate) fn schedule_path(agent_id: &str) -> String {
    format!("agents/{agent_id}/scheduled_triggers_item/create")
}

/// `{"conversation_id", "message", "minutes_until_schedule"}`.
#[derive(Serialize)]
pub(crate) struct ScheduleBody<'a> {
    pub(crate) conversation_id: &'a str,
    pub(crate) message: &'a str,
    pub(crate) minutes_until_schedule: u64,
}

/// `{"trigger_id"}`.
#[derive(Deserialize)]
pub(crate) struct ScheduleAnswer {
    pub(crate) trigger_id: String,
}
