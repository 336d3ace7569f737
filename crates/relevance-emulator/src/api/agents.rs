//! `agents/{id}/get` and `agents/list`.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::auth::{Principal, ProjectKey};
use crate::error::{echo_id, ApiError};
use crate::json::{ApiPath, LenientJson};
use crate::state::AppState;
use crate::store::catalog::{self, AgentRecord};

/// `AgentConfig` (PROTOCOL A5 + A7b): absent optional fields are omitted, not null.
#[derive(Debug, Serialize)]
pub(crate) struct AgentConfig {
    agent_id: String,
    #[serde(rename = "_id")]
    document_id: String,
    public: bool,
    project: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    emoji: Option<String>,
    insert_date_: String,
    update_date_: String,
    model: String,
    /// The agent's own setting (PROTOCOL A8b): the official client sends it back in
    /// `agent_override`, switched on, to make a run stream.
    use_streaming: bool,
}

impl From<AgentRecord> for AgentConfig {
    fn from(agent: AgentRecord) -> AgentConfig {
        AgentConfig {
            document_id: agent.id.clone(),
            agent_id: agent.id,
            public: agent.public,
            project: agent.project,
            name: agent.name,
            description: agent.description,
            emoji: agent.emoji,
            insert_date_: agent.insert_date,
            update_date_: agent.update_date,
            model: agent.model,
            use_streaming: agent.use_streaming,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct AgentPath {
    agent_id: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct AgentAnswer {
    agent: AgentConfig,
}

/// `GET agents/{agent_id}/get`: any agent for an API key, only its own for an agent embed key.
pub(crate) async fn get_agent(
    principal: Principal,
    State(state): State<AppState>,
    ApiPath(AgentPath { agent_id }): ApiPath<AgentPath>,
) -> Result<Json<AgentAnswer>, ApiError> {
    let agent = state
        .store
        .find_agent(&principal.project, &principal.agents(), &agent_id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no agent {} in project {}",
                echo_id(&agent_id),
                echo_id(&principal.project)
            ))
        })?;
    Ok(Json(AgentAnswer {
        agent: agent.into(),
    }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListAgents {
    #[serde(default)]
    page_size: Option<u32>,
    #[serde(default)]
    page: Option<u32>,
}

#[derive(Debug, Serialize)]
pub(crate) struct AgentList {
    results: Vec<AgentConfig>,
}

/// `POST agents/list`: API keys only; ordered by id.
pub(crate) async fn list_agents(
    ProjectKey(principal): ProjectKey,
    State(state): State<AppState>,
    LenientJson(body): LenientJson<ListAgents>,
) -> Result<Json<AgentList>, ApiError> {
    let page_size = body.page_size.unwrap_or(20);
    if !(1..=1000).contains(&page_size) {
        return Err(ApiError::bad_request(
            "`page_size` must be between 1 and 1000",
        ));
    }
    let page = body.page.unwrap_or(1);
    if page < 1 {
        return Err(ApiError::bad_request("`page` must be at least 1"));
    }
    let limit = i64::from(page_size);
    let offset = (i64::from(page) - 1) * limit;
    let project = principal.project;
    let agents = state
        .store
        .call(move |connection| catalog::list_agents(connection, &project, limit, offset))
        .await?;
    Ok(Json(AgentList {
        results: agents.into_iter().map(AgentConfig::from).collect(),
    }))
}
