//! `agents/{id}/get`, `agents/list` (PROTOCOL A5), `agents/tools/list`, `agents/upsert`
//! and `agents/{id}/delete` (A12, A13). Handlers parse, call `service::agents`, render.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use serde_json::{json, Map, Value};

use super::tools::render_tool;
use crate::auth::{Principal, ProjectKey};
use crate::error::ApiError;
use crate::json::{ApiPath, LenientJson};
use crate::service::agents::{self as service, AgentTool, AgentUpsert};
use crate::state::AppState;
use crate::store::cached_rows::AgentRecord;

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
    /// Platform fields only the API sets (`system_prompt`, `temperature`), as stored.
    #[serde(flatten)]
    settings: Map<String, Value>,
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
            settings: agent.settings,
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
    let agent = service::get(&state, &principal, &agent_id).await?;
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
    let agents = service::list(&state, &principal, limit, offset).await?;
    Ok(Json(AgentList {
        results: agents.into_iter().map(AgentConfig::from).collect(),
    }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ToolsBody {
    agent_ids: Vec<String>,
}

/// `POST agents/tools/list`: each agent's tools (`type: "tool"`) and sub-agents
/// (`type: "agent"`, `studio_id` = the agent's id), as `Tool`s.
pub(crate) async fn list_tools(
    ProjectKey(principal): ProjectKey,
    State(state): State<AppState>,
    LenientJson(body): LenientJson<ToolsBody>,
) -> Result<Json<Value>, ApiError> {
    let found = service::tools_of(&state, &principal, body.agent_ids).await?;
    let region = principal.region.code();
    let results: Vec<Value> = found
        .into_iter()
        .map(|item| match item {
            AgentTool::Tool(tool) => {
                let mut rendered = render_tool(tool);
                rendered["type"] = json!("tool");
                rendered["region"] = json!(region);
                rendered
            }
            AgentTool::Agent(agent) => sub_agent_as_tool(agent, region),
        })
        .collect();
    Ok(Json(json!({ "results": results })))
}

fn sub_agent_as_tool(agent: AgentRecord, region: &str) -> Value {
    let mut tool = json!({
        "type": "agent",
        "studio_id": agent.id,
        "_id": agent.id,
        "agent_id": agent.id,
        "project": agent.project,
        "region": region,
        "title": agent.name.clone().unwrap_or_else(|| agent.id.clone()),
        "description": agent.description.clone().unwrap_or_default(),
        "public": agent.public,
        "version": "latest",
        "params_schema": {"type": "object",
                          "properties": {"message": {"type": "string"}},
                          "required": ["message"]},
        "insert_date_": agent.insert_date,
        "update_date_": agent.update_date,
    });
    if let Some(emoji) = agent.emoji {
        tool["emoji"] = json!(emoji);
    }
    tool
}

/// `agents/upsert`'s body: the platform's fields and the emulator's own.
#[derive(Debug, Deserialize)]
pub(crate) struct UpsertBody {
    #[serde(default)]
    agent_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    emoji: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    public: Option<bool>,
    #[serde(default)]
    use_streaming: Option<bool>,
    #[serde(default)]
    system_prompt: Option<String>,
    #[serde(default)]
    temperature: Option<f64>,
    /// The emulator's own: `{behavior, script, end_state, chunk_delay_ms}`.
    #[serde(default)]
    emulator_behavior: Option<Value>,
    /// The emulator's own: the project's tools the agent may use.
    #[serde(default)]
    emulator_tools: Option<Vec<String>>,
}

/// `POST agents/upsert`: `{"agent_id"}` of the agent made or changed.
pub(crate) async fn upsert(
    ProjectKey(principal): ProjectKey,
    State(state): State<AppState>,
    LenientJson(body): LenientJson<UpsertBody>,
) -> Result<Json<Value>, ApiError> {
    let mut settings = Map::new();
    if let Some(prompt) = body.system_prompt {
        settings.insert("system_prompt".to_string(), json!(prompt));
    }
    if let Some(temperature) = body.temperature {
        settings.insert("temperature".to_string(), json!(temperature));
    }
    let behavior = body
        .emulator_behavior
        .map(service::parse_behavior)
        .transpose()?;
    let upsert = AgentUpsert {
        agent_id: body.agent_id,
        name: body.name,
        description: body.description,
        emoji: body.emoji,
        model: body.model,
        public: body.public,
        use_streaming: body.use_streaming,
        settings,
        behavior,
        tools: body.emulator_tools,
    };
    let agent_id = service::upsert(&state, &principal, upsert).await?;
    Ok(Json(json!({ "agent_id": agent_id })))
}

/// `POST agents/{agent_id}/delete`: `{}`.
pub(crate) async fn delete(
    ProjectKey(principal): ProjectKey,
    State(state): State<AppState>,
    ApiPath(AgentPath { agent_id }): ApiPath<AgentPath>,
) -> Result<Json<Value>, ApiError> {
    service::delete(&state, &principal, &agent_id).await?;
    Ok(Json(json!({})))
}
