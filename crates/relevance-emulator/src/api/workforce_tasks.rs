//! Workforce tasks: `workforce/trigger`, task metadata, messages, `workforce/tasks/list`.
//!
//! Handlers parse the request, call `service::workforce_tasks` and render the
//! answer; the service scopes every query (a workforce embed key sees only its
//! own workforce's tasks with its own prefix, an agent embed key none) and
//! writes a trigger's message and run in one transaction.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::tasks::{check_task_id, MetadataQuery};
use crate::auth::{IssuedToken, Principal};
use crate::error::ApiError;
use crate::json::{ApiPath, ApiQuery, LenientJson};
use crate::service::workforce_tasks;
use crate::state::AppState;
use crate::store::workforce_tasks::{PageKey, WorkforceTaskRecord};
use crate::time::{ms_at_or_after, now_ms};

/// What a workforce task's `requested_state` is until a stop request exists (none does yet).
const REQUESTED_STATE: &str = "continue";

#[derive(Debug, Deserialize)]
pub(crate) struct TriggerBody {
    workforce_id: String,
    #[serde(default)]
    workforce_task_id: Option<String>,
    #[serde(default)]
    trigger: Option<TriggerSpec>,
}

#[derive(Debug, Deserialize)]
struct TriggerSpec {
    #[serde(default)]
    message: Option<TriggerMessage>,
    /// Whether the members' runs stream (PROTOCOL A8b); absent = off. The official client
    /// always sends `true`.
    #[serde(default)]
    use_streaming: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct TriggerMessage {
    #[serde(default)]
    content: Option<Value>,
    #[serde(default)]
    attachments: Option<Vec<Value>>,
}

#[derive(Debug, Serialize)]
pub(crate) struct TriggerAnswer {
    workforce_task_id: String,
}

/// The message text of a trigger body, or 400 naming the missing or bad field.
fn trigger_text(body: &TriggerBody) -> Result<String, ApiError> {
    let trigger = body
        .trigger
        .as_ref()
        .ok_or_else(|| ApiError::bad_request("`trigger` is required: {\"message\": {...}}"))?;
    let message = trigger.message.as_ref().ok_or_else(|| {
        ApiError::bad_request(
            "`trigger.message` is required: {\"role\": \"user\", \"content\": \"...\"}",
        )
    })?;
    if message
        .attachments
        .as_ref()
        .is_some_and(|list| !list.is_empty())
    {
        return Err(ApiError::bad_request(
            "`trigger.message.attachments` must be empty: workforce tasks take no attachments",
        ));
    }
    match &message.content {
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(text.clone()),
        _ => Err(ApiError::bad_request(
            "`trigger.message.content` must be a non-empty string",
        )),
    }
}

/// `POST workforce/trigger`: a user message that creates or continues a workforce task.
///
/// An API key may create a task (with a server-made id, or with an id the project does not
/// know yet) or continue any task of the workforce; a workforce embed key must name a new
/// task `{task_prefix}_-_{uuid}` and may continue only its own prefixed tasks.
pub(crate) async fn trigger(
    principal: Principal,
    State(state): State<AppState>,
    LenientJson(body): LenientJson<TriggerBody>,
) -> Result<Json<TriggerAnswer>, ApiError> {
    let text = trigger_text(&body)?;
    let use_streaming = match body.trigger.as_ref().and_then(|t| t.use_streaming.as_ref()) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(streams)) => *streams,
        Some(_) => {
            return Err(ApiError::bad_request(
                "`trigger.use_streaming` must be true or false",
            ))
        }
    };
    if let Some(id) = &body.workforce_task_id {
        check_task_id("workforce_task_id", id)?;
    }
    let TriggerBody {
        workforce_id,
        workforce_task_id,
        ..
    } = body;
    let task_id = workforce_tasks::accept_message(
        &state,
        &principal,
        workforce_id,
        workforce_task_id,
        text,
        use_streaming,
    )
    .await?;
    Ok(Json(TriggerAnswer {
        workforce_task_id: task_id,
    }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct TaskIdPath {
    task_id: String,
}

/// A workforce task's metadata (PROTOCOL A6).
#[derive(Debug, Serialize)]
pub(crate) struct WorkforceTaskMeta {
    insert_date: String,
    update_date: String,
    title: String,
    state: String,
    requested_state: &'static str,
}

#[derive(Debug, Serialize)]
pub(crate) struct MetadataAnswer {
    metadata: WorkforceTaskMeta,
    /// `{"token", "expiry_time_ms"}`, only when asked for; the stream carries the
    /// members' thinking and typing too.
    #[serde(skip_serializing_if = "Option::is_none")]
    streaming_token: Option<IssuedToken>,
}

/// `GET workforce/tasks/{task_id}/metadata`.
pub(crate) async fn metadata(
    principal: Principal,
    State(state): State<AppState>,
    ApiPath(TaskIdPath { task_id }): ApiPath<TaskIdPath>,
    ApiQuery(query): ApiQuery<MetadataQuery>,
) -> Result<Json<MetadataAnswer>, ApiError> {
    let task = workforce_tasks::task(&state, &principal, task_id.clone()).await?;
    let streaming_token = query
        .wants_streaming_token()
        .then(|| state.stream_tokens().issue(&principal, &task_id, now_ms()));
    Ok(Json(MetadataAnswer {
        metadata: WorkforceTaskMeta {
            insert_date: task.insert_date,
            update_date: task.update_date,
            title: task.title,
            state: task.state,
            requested_state: REQUESTED_STATE,
        },
        streaming_token,
    }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct MessagesPath {
    workforce_id: String,
    task_id: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct MessagesBody {
    #[serde(default)]
    page_size: Option<u32>,
}

/// One message of a workforce task (PROTOCOL A7, plus the `view` flags of A7b).
#[derive(Debug, Serialize)]
pub(crate) struct MessageItem {
    item_id: String,
    insert_date_: String,
    content: Value,
    is_expanded_by_default: bool,
    is_in_hidden_group: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct MessagesAnswer {
    results: Vec<MessageItem>,
}

/// `POST workforce/items/{workforce_id}/tasks/{task_id}/messages`: oldest first, the
/// members' messages merged in after each member run.
pub(crate) async fn messages(
    principal: Principal,
    State(state): State<AppState>,
    ApiPath(MessagesPath {
        workforce_id,
        task_id,
    }): ApiPath<MessagesPath>,
    LenientJson(body): LenientJson<MessagesBody>,
) -> Result<Json<MessagesAnswer>, ApiError> {
    let page_size = body.page_size.unwrap_or(1000);
    if !(1..=1000).contains(&page_size) {
        return Err(ApiError::bad_request(
            "`page_size` must be between 1 and 1000",
        ));
    }
    let limit = usize::try_from(page_size).unwrap_or(1000);
    let messages =
        workforce_tasks::read_messages(&state, &principal, &workforce_id, task_id, limit).await?;
    Ok(Json(MessagesAnswer {
        results: messages
            .into_iter()
            .map(|message| MessageItem {
                item_id: message.item_id,
                insert_date_: message.insert_date,
                content: message.content,
                is_expanded_by_default: false,
                is_in_hidden_group: false,
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListBody {
    workforce_id: String,
    #[serde(default)]
    page_size: Option<u32>,
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

/// One item of `workforce/tasks/list` (PROTOCOL A6).
#[derive(Debug, Serialize)]
pub(crate) struct ListItem {
    workforce_task_id: String,
    title: String,
    state: String,
    requested_state: &'static str,
    insert_date: String,
    update_date: String,
    project: String,
    workforce_id: String,
    user_id: String,
    created_by_user_id: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct ListAnswer {
    results: Vec<ListItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

/// The opaque cursor: hex of `{seq}:{insert_date}`, the key of the last task served.
fn encode_cursor(task: &WorkforceTaskRecord) -> String {
    hex::encode(format!("{}:{}", task.seq, task.insert_date))
}

/// [`decode_cursor`] for the property tests (the page key itself stays private).
#[cfg(test)]
pub(crate) fn decode_cursor_for_tests(cursor: &str) -> Result<(), ApiError> {
    decode_cursor(cursor).map(|_| ())
}

fn decode_cursor(cursor: &str) -> Result<PageKey, ApiError> {
    let malformed = || {
        ApiError::bad_request(
            "`cursor` is not a cursor this server issued: pass back `next_cursor` unchanged",
        )
    };
    let text = hex::decode(cursor.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(malformed)?;
    let (seq, insert_date) = text.split_once(':').ok_or_else(malformed)?;
    let seq = seq.parse::<i64>().map_err(|_| malformed())?;
    if ms_at_or_after(insert_date).is_none() {
        return Err(malformed());
    }
    Ok(PageKey {
        insert_date: insert_date.to_string(),
        seq,
    })
}

/// `POST workforce/tasks/list`: the caller's visible tasks of one workforce, newest first,
/// optionally only those whose title contains `query` (any case), paged by an opaque cursor.
pub(crate) async fn list(
    principal: Principal,
    State(state): State<AppState>,
    LenientJson(body): LenientJson<ListBody>,
) -> Result<Json<ListAnswer>, ApiError> {
    let page_size = body.page_size.unwrap_or(100);
    if !(1..=1000).contains(&page_size) {
        return Err(ApiError::bad_request(
            "`page_size` must be between 1 and 1000",
        ));
    }
    let after = body.cursor.as_deref().map(decode_cursor).transpose()?;
    let needle = body.query.map(|text| text.to_lowercase());
    let size = usize::try_from(page_size).unwrap_or(100);
    let mut found = workforce_tasks::list_tasks(
        &state,
        &principal,
        body.workforce_id,
        needle,
        after,
        size + 1,
    )
    .await?;
    let next_cursor = if found.len() > size {
        found.truncate(size);
        found.last().map(encode_cursor)
    } else {
        None
    };
    Ok(Json(ListAnswer {
        results: found
            .into_iter()
            .map(|task| ListItem {
                workforce_task_id: task.id,
                title: task.title,
                state: task.state,
                requested_state: REQUESTED_STATE,
                insert_date: task.insert_date,
                update_date: task.update_date,
                project: task.project,
                workforce_id: task.workforce_id,
                user_id: task.created_by_key_id.clone(),
                created_by_user_id: task.created_by_key_id,
            })
            .collect(),
        next_cursor,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let task = WorkforceTaskRecord {
            seq: 42,
            project: "p".into(),
            id: "t".into(),
            workforce_id: "w".into(),
            created_by_key_id: "k".into(),
            title: "x".into(),
            state: "completed".into(),
            insert_date: "2026-01-01T00:00:00.123Z".into(),
            update_date: "2026-01-01T00:00:00.123Z".into(),
        };
        let key = decode_cursor(&encode_cursor(&task)).expect("own cursor decodes");
        assert_eq!(
            key,
            PageKey {
                insert_date: task.insert_date.clone(),
                seq: 42
            }
        );
        for garbage in [
            "",
            "zz",
            "nothex!",
            &hex::encode("42"),
            &hex::encode("x:2026-01-01T00:00:00.000Z"),
            &hex::encode("1:yesterday"),
        ] {
            assert!(decode_cursor(garbage).is_err(), "{garbage:?}");
        }
    }
}
