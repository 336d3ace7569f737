//! `agents/get_embed_key` and `workforce/get_embed_key`: unauthenticated, rate limited.
//!
//! A private, unknown, other-project or other-region target all get the same
//! 404 text, so the route cannot be used to probe for private agents.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, State};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::auth::{issue_embed_key, EmbedTarget};
use crate::error::{echo_id, ApiError};
use crate::json::LenientJson;
use crate::json::RouteRegion;
use crate::region::Region;
use crate::state::AppState;
use crate::store::catalog::{self, Visibility};
use crate::time::now_iso;

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

fn enforce_rate_limit(state: &AppState, client: SocketAddr) -> Result<(), ApiError> {
    state
        .rate_limiter()
        .check(client.ip(), Instant::now())
        .map_err(|wait| {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            ApiError::too_many_requests(
                format!("too many embed-key requests from this address; retry in {seconds} s"),
                seconds.max(1),
            )
        })
}

/// Issues the key if the project is in `region` and `target` passes `allowed`.
async fn issue_if_allowed(
    state: &AppState,
    region: Region,
    project: String,
    target: EmbedTarget,
) -> Result<Option<EmbedKeyAnswer>, ApiError> {
    let now = now_iso();
    let issued = state
        .store
        .call(move |connection| {
            if catalog::project_region(connection, &project)? != Some(region) {
                return Ok(None);
            }
            let allowed = match &target {
                EmbedTarget::Agent(agent_id) => {
                    catalog::find_agent(connection, &project, &Visibility::All, agent_id)?
                        .is_some_and(|agent| agent.public)
                }
                EmbedTarget::Workforce(workforce_id) => {
                    catalog::find_workforce(connection, &project, &Visibility::All, workforce_id)?
                        .is_some()
                }
            };
            if !allowed {
                return Ok(None);
            }
            issue_embed_key(connection, connection.key_cache(), &project, &target, &now).map(Some)
        })
        .await?;
    Ok(issued.and_then(|issued| {
        issued
            .task_prefix
            .map(|conversation_prefix| EmbedKeyAnswer {
                embed_key: issued.secret,
                conversation_prefix,
            })
    }))
}

/// `POST agents/get_embed_key`: a new key and prefix for a public agent.
pub(crate) async fn for_agent(
    State(state): State<AppState>,
    RouteRegion(region): RouteRegion,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    LenientJson(body): LenientJson<AgentEmbedKeyRequest>,
) -> Result<Json<EmbedKeyAnswer>, ApiError> {
    enforce_rate_limit(&state, client)?;
    let not_found = ApiError::not_found(format!(
        "no public agent {} in project {} in region {region}",
        echo_id(&body.agent_id),
        echo_id(&body.project)
    ));
    issue_if_allowed(
        &state,
        region,
        body.project,
        EmbedTarget::Agent(body.agent_id),
    )
    .await?
    .map(Json)
    .ok_or(not_found)
}

/// `POST workforce/get_embed_key`: a new key and prefix for any workforce of the project.
pub(crate) async fn for_workforce(
    State(state): State<AppState>,
    RouteRegion(region): RouteRegion,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    LenientJson(body): LenientJson<WorkforceEmbedKeyRequest>,
) -> Result<Json<EmbedKeyAnswer>, ApiError> {
    enforce_rate_limit(&state, client)?;
    let not_found = ApiError::not_found(format!(
        "no workforce {} in project {} in region {region}",
        echo_id(&body.workforce_id),
        echo_id(&body.project)
    ));
    issue_if_allowed(
        &state,
        region,
        body.project,
        EmbedTarget::Workforce(body.workforce_id),
    )
    .await?
    .map(Json)
    .ok_or(not_found)
}
