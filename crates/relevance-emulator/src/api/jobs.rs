//! Jobs (PROTOCOL A15): `studios/{id}/trigger_async`, `studios/{id}/async_poll/{job_id}`,
//! `studios/{job_id}/cancel`, and `studios/{id}/trigger` (a tool run synchronously, as
//! `trigger_limited`). API keys only: the route table refuses embed keys (403).

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::tasks::check_task_id;
use super::tools::{check_project, ToolPath};
use crate::auth::ProjectKey;
use crate::error::{echo_id, ApiError};
use crate::json::{ApiPath, ApiQuery, LenientJson};
use crate::service::jobs::{self, JobError, PollRequest};
use crate::service::tools::ToolServiceError;
use crate::state::AppState;
use crate::store::jobs::JobState;

/// The most updates one poll answers.
const MAX_PAGE_SIZE: i64 = 1000;

/// `trigger_async`'s body; `tool_version` and `max_job_duration` are accepted and change
/// nothing here (the emulator's tools have one version and no runner classes).
#[derive(Debug, Deserialize)]
pub(crate) struct StartBody {
    #[serde(default)]
    params: Option<Value>,
    #[serde(default)]
    project: Option<Value>,
    #[serde(default)]
    job_id: Option<String>,
    #[serde(default)]
    tool_version: Option<Value>,
    #[serde(default)]
    max_job_duration: Option<Value>,
}

/// `POST studios/{studio_id}/trigger_async`: `{"job_id", "project", "studio_id"}` at once;
/// the tool runs as a job.
pub(crate) async fn start(
    ProjectKey(principal): ProjectKey,
    State(state): State<AppState>,
    ApiPath(ToolPath { studio_id }): ApiPath<ToolPath>,
    LenientJson(body): LenientJson<StartBody>,
) -> Result<Json<Value>, ApiError> {
    check_project(&principal, body.project.as_ref(), "project")?;
    check_duration(body.max_job_duration.as_ref())?;
    let _ = body.tool_version;
    if let Some(job_id) = &body.job_id {
        check_task_id("job_id", job_id)?;
    }
    let params = match body.params {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(params) => params,
    };
    let job = jobs::start_tool(&state, &principal, &studio_id, params, body.job_id).await?;
    Ok(Json(json!({
        "job_id": job.id,
        "project": job.project,
        "studio_id": job.studio_id,
    })))
}

/// `max_job_duration` is one of the platform's four classes, when given.
fn check_duration(value: Option<&Value>) -> Result<(), ApiError> {
    const CLASSES: [&str; 4] = [
        "synchronous_seconds",
        "background_seconds",
        "minutes",
        "hours",
    ];
    match value {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(class)) if CLASSES.contains(&class.as_str()) => Ok(()),
        Some(_) => Err(ApiError::bad_request(format!(
            "`max_job_duration` must be one of {}",
            CLASSES.join(", ")
        ))),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct PollPath {
    studio_id: String,
    job_id: String,
}

/// `async_poll`'s query, every value optional.
#[derive(Debug, Deserialize)]
pub(crate) struct PollQuery {
    #[serde(default)]
    after_message_id: Option<String>,
    #[serde(default)]
    ending_update_only: Option<String>,
    #[serde(default)]
    page_size: Option<String>,
}

impl PollQuery {
    fn request(&self) -> Result<PollRequest, ApiError> {
        let number = |name: &str, value: &Option<String>, min: i64, default: i64| match value
            .as_deref()
            .map(str::trim)
        {
            None | Some("") => Ok(default),
            Some(text) => text
                .parse::<i64>()
                .ok()
                .filter(|number| *number >= min)
                .ok_or_else(|| {
                    ApiError::bad_request(format!("`{name}` must be a whole number >= {min}"))
                }),
        };
        let ending_only = match self.ending_update_only.as_deref() {
            None | Some("" | "false" | "False" | "0") => false,
            Some("true" | "True" | "1") => true,
            Some(_) => {
                return Err(ApiError::bad_request(
                    "`ending_update_only` must be true or false",
                ))
            }
        };
        Ok(PollRequest {
            after: number("after_message_id", &self.after_message_id, 0, 0)?,
            ending_only,
            page_size: number("page_size", &self.page_size, 1, MAX_PAGE_SIZE)?.min(MAX_PAGE_SIZE),
        })
    }
}

/// `GET studios/{studio_id}/async_poll/{job_id}`: `{"type", "updates", "last_message_id"}`.
/// `type` is `complete` / `failed` once the job has ended (a cancelled job is `failed`),
/// `inprogress` with new updates, `timeout` when the wait ran out with nothing new.
pub(crate) async fn poll(
    ProjectKey(principal): ProjectKey,
    State(state): State<AppState>,
    ApiPath(PollPath { studio_id, job_id }): ApiPath<PollPath>,
    ApiQuery(query): ApiQuery<PollQuery>,
) -> Result<Json<Value>, ApiError> {
    let request = query.request()?;
    let polled = jobs::poll(&state, &principal, &studio_id, &job_id, request).await?;
    let kind = match (polled.state, polled.timed_out) {
        (JobState::Complete, _) => "complete",
        (JobState::Failed | JobState::Cancelled, _) => "failed",
        (JobState::InProgress, true) => "timeout",
        (JobState::InProgress, false) => "inprogress",
    };
    Ok(Json(json!({
        "type": kind,
        "updates": polled.updates,
        "last_message_id": polled.last_message_id,
    })))
}

/// `POST studios/{job_id}/cancel` (the path names the job, PROTOCOL A15): `{}`.
pub(crate) async fn cancel(
    ProjectKey(principal): ProjectKey,
    State(state): State<AppState>,
    ApiPath(ToolPath { studio_id: job_id }): ApiPath<ToolPath>,
) -> Result<Json<Value>, ApiError> {
    jobs::cancel(&state, &principal, &job_id).await?;
    Ok(Json(json!({})))
}

impl From<JobError> for ApiError {
    fn from(error: JobError) -> ApiError {
        match error {
            JobError::NotFound { job_id } => {
                ApiError::not_found(format!("no job {} of this tool", echo_id(&job_id)))
            }
            JobError::Tool(ToolServiceError::NotFound { tool_id }) => {
                ApiError::not_found(format!("no tool {}", echo_id(&tool_id)))
            }
            JobError::Tool(other) => other.into(),
            JobError::IdTaken { job_id } => ApiError::bad_request(format!(
                "`job_id` {} is already the id of another tool's job",
                echo_id(&job_id)
            )),
            JobError::TooMany { limit } => ApiError::too_many_requests(
                format!("this project has {limit} jobs in progress, the most it may; wait for one to end"),
                1,
            ),
            JobError::AgentJob { job_id } => ApiError::bad_request(format!(
                "job {} follows an agent's run and ends with it; it cannot be cancelled",
                echo_id(&job_id)
            )),
            JobError::Store(error) => error.into(),
        }
    }
}
