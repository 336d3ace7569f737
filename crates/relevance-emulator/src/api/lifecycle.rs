//! A task's life (PROTOCOL A11): its trigger message, its metadata by id alone
//! and scheduling a message for later. (A rerun is a trigger with
//! `edit_message_id`: see `tasks::trigger`; deleting tasks is `knowledge::sets_delete`.)
//!
//! Deleting and scheduling need a project API key (PROTOCOL A13; the route table
//! says so); reading follows the caller's task scope like every task read.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::messages::ViewItem;
use super::tasks::{check_task_id, TaskMeta, TaskPath};
use crate::auth::Principal;
use crate::error::ApiError;
use crate::json::{ApiPath, LenientJson};
use crate::service::agent_tasks;
use crate::state::AppState;

/// The most minutes a message may be scheduled ahead: a year.
const MAX_MINUTES: i64 = 366 * 24 * 60;

#[derive(Debug, Serialize)]
pub(crate) struct TriggerMessageAnswer {
    trigger_message: ViewItem,
}

/// `GET agents/{agent_id}/tasks/{task_id}/trigger_message`: the task's first user message.
pub(crate) async fn trigger_message(
    principal: Principal,
    State(state): State<AppState>,
    ApiPath(TaskPath { agent_id, task_id }): ApiPath<TaskPath>,
) -> Result<Json<TriggerMessageAnswer>, ApiError> {
    let message = agent_tasks::trigger_message(&state, &principal, agent_id, task_id).await?;
    Ok(Json(TriggerMessageAnswer {
        trigger_message: message.into(),
    }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct SetPath {
    task_id: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct SetMetadataAnswer {
    metadata: TaskMeta,
}

/// `GET knowledge/sets/{task_id}/get_metadata`: an agent task's metadata by id alone.
pub(crate) async fn set_metadata(
    principal: Principal,
    State(state): State<AppState>,
    ApiPath(SetPath { task_id }): ApiPath<SetPath>,
) -> Result<Json<SetMetadataAnswer>, ApiError> {
    let task = agent_tasks::task_by_id(&state, &principal, task_id).await?;
    Ok(Json(SetMetadataAnswer {
        metadata: task.into(),
    }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct AgentPath {
    agent_id: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ScheduleBody {
    #[serde(default)]
    conversation_id: Option<String>,
    #[serde(default)]
    message: Option<Value>,
    #[serde(default)]
    minutes_until_schedule: Option<Value>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ScheduleAnswer {
    trigger_id: String,
}

/// `POST agents/{agent_id}/scheduled_triggers_item/create`: `message` goes to the task
/// `minutes_until_schedule` minutes from now (a minute lasts `Config::schedule_minute_ms`,
/// so tests can make it milliseconds). The due time is stored: a restart keeps it.
pub(crate) async fn schedule(
    principal: Principal,
    State(state): State<AppState>,
    ApiPath(AgentPath { agent_id }): ApiPath<AgentPath>,
    LenientJson(body): LenientJson<ScheduleBody>,
) -> Result<Json<ScheduleAnswer>, ApiError> {
    let Some(task_id) = body.conversation_id else {
        return Err(ApiError::bad_request(
            "`conversation_id` must name the task the message goes to",
        ));
    };
    check_task_id("conversation_id", &task_id)?;
    let message = match body.message {
        Some(Value::String(text)) if !text.trim().is_empty() => text,
        _ => {
            return Err(ApiError::bad_request(
                "`message` must be a non-empty string",
            ))
        }
    };
    let minutes = match body.minutes_until_schedule {
        None => 0,
        Some(value) => value
            .as_i64()
            .filter(|minutes| (0..=MAX_MINUTES).contains(minutes))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "`minutes_until_schedule` must be a whole number from 0 to {MAX_MINUTES}"
                ))
            })?,
    };
    let minute_ms = i64::try_from(state.settings().schedule_minute_ms).unwrap_or(i64::MAX);
    let delay_ms = minutes.saturating_mul(minute_ms);
    let trigger_id =
        agent_tasks::schedule_message(&state, &principal, agent_id, task_id, message, delay_ms)
            .await?;
    Ok(Json(ScheduleAnswer { trigger_id }))
}
