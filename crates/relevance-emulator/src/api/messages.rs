//! `agents/{agent_id}/tasks/{task_id}/view`: a task's messages, newest first.
//!
//! The cursor is inclusive (`insert_date_ >= cursor.after`, compared as
//! instants): a client re-reads a message that is still `generating` by
//! pinning the cursor to its `insert_date_`, which never changes.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::tasks::TaskPath;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::json::{ApiPath, LenientJson};
use crate::service::agent_tasks;
use crate::state::AppState;
use crate::store::tasks::MessageRecord;
use crate::time::ms_at_or_after;

#[derive(Debug, Deserialize)]
pub(crate) struct ViewBody {
    #[serde(default)]
    page_size: Option<u32>,
    #[serde(default)]
    cursor: Option<Cursor>,
}

#[derive(Debug, Deserialize)]
struct Cursor {
    #[serde(default)]
    after: Option<String>,
}

/// One `view` item (PROTOCOL A7 + A7b).
#[derive(Debug, Serialize)]
pub(crate) struct ViewItem {
    item_id: String,
    insert_date_: String,
    content: Value,
    is_expanded_by_default: bool,
    is_in_hidden_group: bool,
}

impl From<MessageRecord> for ViewItem {
    fn from(message: MessageRecord) -> ViewItem {
        ViewItem {
            item_id: message.item_id,
            insert_date_: message.insert_date,
            content: message.content,
            is_expanded_by_default: false,
            is_in_hidden_group: false,
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct ViewAnswer {
    results: Vec<ViewItem>,
}

/// `POST agents/{agent_id}/tasks/{task_id}/view`; an empty body means the defaults.
pub(crate) async fn view(
    principal: Principal,
    State(state): State<AppState>,
    ApiPath(TaskPath { agent_id, task_id }): ApiPath<TaskPath>,
    LenientJson(body): LenientJson<ViewBody>,
) -> Result<Json<ViewAnswer>, ApiError> {
    let page_size = body.page_size.unwrap_or(1000);
    if !(1..=1000).contains(&page_size) {
        return Err(ApiError::bad_request(
            "`page_size` must be between 1 and 1000",
        ));
    }
    let after_ms = match body.cursor.and_then(|cursor| cursor.after) {
        None => None,
        Some(after) => Some(ms_at_or_after(&after).ok_or_else(|| {
            ApiError::bad_request(
                "`cursor.after` must be an ISO-8601 date-time, e.g. 2026-01-01T00:00:00.000Z",
            )
        })?),
    };
    let messages = agent_tasks::read_messages(
        &state,
        &principal,
        agent_id,
        task_id,
        after_ms,
        i64::from(page_size),
    )
    .await?;
    Ok(Json(ViewAnswer {
        results: messages.into_iter().map(ViewItem::from).collect(),
    }))
}
