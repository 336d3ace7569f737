//! `agents/get_embed_key` and `workforce/get_embed_key`: unauthenticated, rate limited.
//!
//! A private, unknown, other-project or other-region target all get the same
//! 404 text, so the route cannot be used to probe for private agents.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::auth::EmbedTarget;
use crate::error::{echo_id, ApiError};
use crate::json::LenientJson;
use crate::json::RouteRegion;
use crate::service::embed_keys::{issue_embed_key, EmbedKeyError, NewEmbedKey};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub(crate) struct AgentEmbedKeyRequest {
    agent_id: String,
    project: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WorkforceEmbedKeyRequest {
    workforce_id: String,
    project: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct EmbedKeyAnswer {
    embed_key: String,
    conversation_prefix: String,
}

/// The answer for a refused request; `not_found` names what was asked for.
fn refusal(error: EmbedKeyError, not_found: String) -> ApiError {
    match error {
        EmbedKeyError::RateLimited {
            retry_after_seconds,
        } => ApiError::too_many_requests(
            format!(
                "too many embed-key requests from this address; retry in {retry_after_seconds} s"
            ),
            retry_after_seconds,
        ),
        EmbedKeyError::NotFound => ApiError::not_found(not_found),
        EmbedKeyError::Store(error) => error.into(),
    }
}

fn answer(issued: NewEmbedKey) -> Json<EmbedKeyAnswer> {
    Json(EmbedKeyAnswer {
        embed_key: issued.secret,
        conversation_prefix: issued.task_prefix,
    })
}

/// `POST agents/get_embed_key`: a new key and prefix for a public agent.
pub(crate) async fn for_agent(
    State(state): State<AppState>,
    RouteRegion(region): RouteRegion,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    LenientJson(body): LenientJson<AgentEmbedKeyRequest>,
) -> Result<Json<EmbedKeyAnswer>, ApiError> {
    let not_found = format!(
        "no public agent {} in project {} in region {region}",
        echo_id(&body.agent_id),
        echo_id(&body.project)
    );
    issue_embed_key(
        &state,
        client.ip(),
        region,
        body.project,
        EmbedTarget::Agent(body.agent_id),
    )
    .await
    .map(answer)
    .map_err(|error| refusal(error, not_found))
}

/// `POST workforce/get_embed_key`: a new key and prefix for any workforce of the project.
pub(crate) async fn for_workforce(
    State(state): State<AppState>,
    RouteRegion(region): RouteRegion,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    LenientJson(body): LenientJson<WorkforceEmbedKeyRequest>,
) -> Result<Json<EmbedKeyAnswer>, ApiError> {
    let not_found = format!(
        "no workforce {} in project {} in region {region}",
        echo_id(&body.workforce_id),
        echo_id(&body.project)
    );
    issue_embed_key(
        &state,
        client.ip(),
        region,
        body.project,
        EmbedTarget::Workforce(body.workforce_id),
    )
    .await
    .map(answer)
    .map_err(|error| refusal(error, not_found))
}
