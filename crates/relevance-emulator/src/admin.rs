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

use crate::auth::{route, Policy, Route};
use crate::error::ApiError;
use crate::json::{ApiPath, ApiQuery, LenientJson};
use crate::service::keys::{self as service, KeyView, Revoked};
use crate::state::AppState;

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
    let projects: Vec<_> = service::list_projects(&state)
        .await?
        .into_iter()
        .map(|(id, region)| json!({ "id": id, "region": region.code() }))
        .collect();
    Ok(Json(json!({ "projects": projects })))
}

#[derive(Deserialize)]
struct ProjectPath {
    project: String,
}

/// A key as the admin API lists it: the fields of [`KeyView`] its protocol names, with
/// `kind` spelled as on the wire.
#[derive(Serialize)]
struct KeyJson {
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

impl From<KeyView> for KeyJson {
    fn from(key: KeyView) -> KeyJson {
        KeyJson {
            id: key.id,
            kind: key.kind.as_str(),
            agent_id: key.agent_id,
            workforce_id: key.workforce_id,
            task_prefix: key.task_prefix,
            hint: key.hint,
            created_at: key.created_at,
            last_used_at: key.last_used_at,
            revoked_at: key.revoked_at,
        }
    }
}

async fn list_keys(
    axum::extract::State(state): axum::extract::State<AppState>,
    ApiPath(ProjectPath { project }): ApiPath<ProjectPath>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let keys: Vec<KeyJson> = service::list_keys(&state, &project)
        .await?
        .into_iter()
        .map(KeyJson::from)
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
    let issued = service::issue_api_key(&state, &project, body.label).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": issued.id, "key": issued.secret })),
    ))
}

#[derive(Deserialize)]
struct KeyIdPath {
    key_id: String,
}

fn revoked_answer(revoked: Revoked) -> Json<serde_json::Value> {
    Json(json!({ "id": revoked.id, "revoked_at": revoked.revoked_at }))
}

async fn revoke_by_id(
    axum::extract::State(state): axum::extract::State<AppState>,
    ApiPath(KeyIdPath { key_id }): ApiPath<KeyIdPath>,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(revoked_answer(service::revoke_key(&state, &key_id).await?))
}

#[derive(Deserialize)]
struct RevokeBySecret {
    key: String,
}

async fn revoke_by_secret(
    axum::extract::State(state): axum::extract::State<AppState>,
    LenientJson(body): LenientJson<RevokeBySecret>,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(revoked_answer(
        service::revoke_by_secret(&state, &body.key).await?,
    ))
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
