//! Webhooks, without a key: an agent's webhook URL
//! (`agents/hooks/custom-trigger/{project}/{trigger_id}`, any JSON payload) and a tool's
//! webhook form (`studios/{studio_id}/trigger_webhook?project=`, the body is the params).
//!
//! The platform publishes neither answer; the emulator's are in its README: the agent form
//! answers as a trigger does (conversation, state, `job_info`) plus what the payload
//! missed, and the tool form as `trigger_limited` does.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::tools::render_outcome;
use crate::auth::{KeyIfSent, ProjectKey};
use crate::error::{echo_id, ApiError};
use crate::json::{AnyJson, ApiPath, ApiQuery, LenientJson, RouteRegion};
use crate::service::webhooks::{self as service, Delivery, ToolCaller, WebhookError, WebhookEvent};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub(crate) struct HookPath {
    project: String,
    trigger_id: String,
}

/// `POST agents/hooks/custom-trigger/{project}/{trigger_id}`: the payload becomes a message.
pub(crate) async fn agent_hook(
    State(state): State<AppState>,
    RouteRegion(region): RouteRegion,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    ApiPath(path): ApiPath<HookPath>,
    AnyJson(payload): AnyJson,
) -> Result<Json<Value>, ApiError> {
    let event = WebhookEvent {
        region,
        project: path.project,
        trigger_id: path.trigger_id,
        payload,
        client: client.ip(),
    };
    let delivery = service::deliver(&state, event).await.map_err(refusal)?;
    Ok(Json(render_delivery(delivery)))
}

/// The answer: as a trigger's (PROTOCOL A5/A7b), plus `duplicate`, `missing_fields` and
/// the mapped ids. A duplicate wrote nothing, so it names the earlier conversation only.
fn render_delivery(delivery: Delivery) -> Value {
    match delivery {
        Delivery::Accepted {
            outcome,
            missing_fields,
            thread_id,
            unique_id,
        } => json!({
            "conversation_id": outcome.task_id,
            "agent_id": outcome.agent_id,
            "state": outcome.state,
            "job_info": {
                "job_id": outcome.job_id,
                "studio_id": outcome.agent_id,
                "conversation_id": outcome.task_id,
            },
            "duplicate": false,
            "missing_fields": missing_fields,
            "thread_id": thread_id,
            "unique_id": unique_id,
        }),
        Delivery::Duplicate {
            task_id,
            agent_id,
            unique_id,
        } => json!({
            "conversation_id": task_id,
            "agent_id": agent_id,
            "duplicate": true,
            "missing_fields": [],
            "unique_id": unique_id,
        }),
    }
}

/// A refused webhook request as an API error; every "no such webhook" is the same text.
fn refusal(error: WebhookError) -> ApiError {
    match error {
        WebhookError::NotFound => ApiError::not_found(
            "no webhook trigger at this URL: check the project and the trigger id in the agent's webhook URL",
        ),
        WebhookError::NotPublic { tool_id, project } => ApiError::not_found(format!(
            "no public tool {} in project {}; a private tool's webhook needs an API key \
             (Authorization: {{project}}:{{key}})",
            echo_id(&tool_id),
            echo_id(&project)
        )),
        WebhookError::RateLimited {
            retry_after_seconds,
        } => ApiError::too_many_requests(
            format!("too many webhook requests from this address; retry in {retry_after_seconds} s"),
            retry_after_seconds,
        ),
        WebhookError::EmptyMessage { missing_fields } => ApiError::bad_request(format!(
            "the webhook's message template rendered an empty message: the payload has no {}",
            missing_fields
                .iter()
                .map(|field| format!("`{field}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        WebhookError::BrokenTemplate(problem) => {
            tracing::error!(%problem, "a stored webhook setting does not parse");
            ApiError::internal("this webhook's settings are unreadable; fix them in the seed")
        }
        WebhookError::Service(error) => error.into(),
        WebhookError::Tool(error) => error.into(),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct AgentPath {
    agent_id: String,
}

/// `GET emulator/agents/{agent_id}/webhooks` (the emulator's own, PROTOCOL B): an agent's
/// webhook triggers with their URLs, for its project's API keys. The platform shows these
/// in the agent's Triggers settings; it publishes no API for them.
pub(crate) async fn list_agent_hooks(
    ProjectKey(principal): ProjectKey,
    State(state): State<AppState>,
    ApiPath(path): ApiPath<AgentPath>,
) -> Result<Json<Value>, ApiError> {
    let webhooks = service::of_agent(&state, &principal, &path.agent_id).await?;
    Ok(Json(json!({ "webhooks": webhooks })))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ToolHookPath {
    studio_id: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ToolHookQuery {
    project: Option<String>,
}

/// `POST studios/{studio_id}/trigger_webhook?project=`: the body is the tool's params; the
/// answer is `trigger_limited`'s (PROTOCOL A12). With an API key as any tool route; without
/// one only a public tool runs, and `project` names its project.
pub(crate) async fn tool_hook(
    State(state): State<AppState>,
    RouteRegion(region): RouteRegion,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    KeyIfSent(principal): KeyIfSent,
    ApiPath(path): ApiPath<ToolHookPath>,
    ApiQuery(query): ApiQuery<ToolHookQuery>,
    LenientJson(params): LenientJson<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    let caller = match (principal, query.project) {
        (Some(principal), Some(project)) if project != principal.project => {
            return Err(ApiError::bad_request(
                "`project` in the query must be this key's project",
            ))
        }
        (Some(principal), _) => ToolCaller::Key(principal),
        (None, Some(project)) => ToolCaller::Anonymous {
            project,
            region,
            client: client.ip(),
        },
        (None, None) => {
            return Err(ApiError::bad_request(
                "`project` is required in the query without an API key (…/trigger_webhook?project=<project id>)",
            ))
        }
    };
    let started = std::time::Instant::now();
    let outcome = service::run_tool(&state, caller, &path.studio_id, Value::Object(params))
        .await
        .map_err(refusal)?;
    let execution_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(Json(render_outcome(&outcome, execution_ms)))
}
