//! The admin API (PROTOCOL B): projects, keys, revocation, the request log;
//! and the HTML dashboard over the same data ([`dashboard`]).
//!
//! Every route here is [`Policy::Admin`] in the route table; nothing in
//! this module checks credentials itself. A key's value appears in exactly one
//! answer: the one that creates it.

pub(crate) mod dashboard;
pub(crate) mod request_log;

pub(crate) use request_log::RequestLogSlot;

use axum::http::{Method, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::{issue_api_key, route, secret::hash_secret, Policy, Route};
use crate::error::{echo_id, ApiError};
use crate::json::{ApiPath, ApiQuery, LenientJson};
use crate::state::AppState;
use crate::store::catalog;
use crate::store::keys::{self, KeySelector};
use crate::time::now_iso;

/// The admin routes, every one [`Policy::Admin`].
pub(crate) fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        route(M::GET, "/admin/projects", Policy::Admin, list_projects),
        route(
            M::GET,
            "/admin/projects/{project}/keys",
            Policy::Admin,
            list_keys,
        ),
        route(
            M::POST,
            "/admin/projects/{project}/api_keys",
            Policy::Admin,
            create_api_key,
        ),
        route(
            M::POST,
            "/admin/keys/{key_id}/revoke",
            Policy::Admin,
            revoke_by_id,
        ),
        route(
            M::POST,
            "/admin/keys/revoke",
            Policy::Admin,
            revoke_by_secret,
        ),
        route(M::GET, "/admin/requests", Policy::Admin, list_requests),
    ]
}

async fn list_projects(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let projects = state
        .store
        .call(|connection| catalog::list_projects(connection))
        .await?;
    let projects: Vec<_> = projects
        .into_iter()
        .map(|(id, region)| json!({ "id": id, "region": region.code() }))
        .collect();
    Ok(Json(json!({ "projects": projects })))
}

#[derive(Deserialize)]
struct ProjectPath {
    project: String,
}

#[derive(Serialize)]
struct KeyView {
    id: String,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    agent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    workforce_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    task_prefix: Option<String>,
    hint: String,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_used_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    revoked_at: Option<String>,
}

fn unknown_project(project: &str) -> ApiError {
    ApiError::not_found(format!("no project {}", echo_id(project)))
}

async fn list_keys(
    axum::extract::State(state): axum::extract::State<AppState>,
    ApiPath(ProjectPath { project }): ApiPath<ProjectPath>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let lookup = project.clone();
    let found = state
        .store
        .call(move |connection| {
            if catalog::project_region(connection, &lookup)?.is_none() {
                return Ok(None);
            }
            keys::list_for_project(connection, connection.key_cache(), &lookup).map(Some)
        })
        .await?
        .ok_or_else(|| unknown_project(&project))?;
    let keys: Vec<KeyView> = found
        .into_iter()
        .map(|key| KeyView {
            id: key.id,
            kind: key.kind.as_str(),
            agent_id: key.agent_id,
            workforce_id: key.workforce_id,
            task_prefix: key.task_prefix,
            hint: key.hint,
            created_at: key.created_at,
            last_used_at: key.last_used_at,
            revoked_at: key.revoked_at,
        })
        .collect();
    Ok(Json(json!({ "keys": keys })))
}

#[derive(Deserialize)]
struct CreateApiKey {
    #[serde(default)]
    label: Option<String>,
}

async fn create_api_key(
    axum::extract::State(state): axum::extract::State<AppState>,
    ApiPath(ProjectPath { project }): ApiPath<ProjectPath>,
    LenientJson(body): LenientJson<CreateApiKey>,
) -> Result<impl IntoResponse, ApiError> {
    let lookup = project.clone();
    let now = now_iso();
    let issued = state
        .store
        .call(move |connection| {
            if catalog::project_region(connection, &lookup)?.is_none() {
                return Ok(None);
            }
            issue_api_key(
                connection,
                connection.key_cache(),
                &lookup,
                body.label,
                &now,
            )
            .map(Some)
        })
        .await?
        .ok_or_else(|| unknown_project(&project))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": issued.id, "key": issued.secret })),
    ))
}

#[derive(Deserialize)]
struct KeyIdPath {
    key_id: String,
}

async fn revoke_by_id(
    axum::extract::State(state): axum::extract::State<AppState>,
    ApiPath(KeyIdPath { key_id }): ApiPath<KeyIdPath>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let lookup = key_id.clone();
    let now = now_iso();
    let (id, revoked_at) = state
        .store
        .call(move |connection| {
            keys::revoke(
                connection,
                connection.key_cache(),
                KeySelector::Id(&lookup),
                &now,
            )
        })
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no key with id {}", echo_id(&key_id))))?;
    Ok(Json(json!({ "id": id, "revoked_at": revoked_at })))
}

#[derive(Deserialize)]
struct RevokeBySecret {
    key: String,
}

async fn revoke_by_secret(
    axum::extract::State(state): axum::extract::State<AppState>,
    LenientJson(body): LenientJson<RevokeBySecret>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let hash = hash_secret(&body.key);
    let now = now_iso();
    let (id, revoked_at) = state
        .store
        .call(move |connection| {
            keys::revoke(
                connection,
                connection.key_cache(),
                KeySelector::Sha256(&hash),
                &now,
            )
        })
        .await?
        .ok_or_else(|| ApiError::not_found("no key with that value"))?;
    Ok(Json(json!({ "id": id, "revoked_at": revoked_at })))
}

#[derive(Deserialize)]
struct RequestsQuery {
    limit: Option<usize>,
}

async fn list_requests(
    axum::extract::State(state): axum::extract::State<AppState>,
    ApiQuery(query): ApiQuery<RequestsQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let limit = query.limit.unwrap_or(100);
    if limit > request_log::CAPACITY {
        return Err(ApiError::bad_request(format!(
            "`limit` must be at most {}",
            request_log::CAPACITY
        )));
    }
    Ok(Json(
        json!({ "requests": state.request_log().newest(limit) }),
    ))
}
