//! Agents (PROTOCOL A5, A13): read and list them, list the tools and sub-agents an agent
//! may use, create or update one (`agents/upsert`), delete one.
//!
//! A deleted agent's tasks stay (API keys still read them, as the platform's messages
//! keep an agent's details with a `deleted_reason` after it is gone); its embed keys are
//! revoked in the same transaction, so the very next request with one is refused.
//! Every write goes through `definitions`, which keeps the agent cache in step.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::auth::Principal;
use crate::engine::new_item_id;
use crate::engine::script::{self, Action, BehaviorConfig, BEHAVIORS, END_STATES};
use crate::error::{echo_id, ApiError};
use crate::seed::DEFAULT_MODEL;
use crate::state::AppState;
use crate::store::cached_rows::AgentRecord;
use crate::store::definitions::{self, AgentBehavior, AgentWrite, Visibility};
use crate::store::keys::{self, KeySelector};
use crate::store::tools::{self, ToolRecord};
use crate::store::{CallerError, StoreError};
use crate::time::now_iso;

/// Why an agent use case did not happen.
#[derive(Debug)]
pub(crate) enum AgentServiceError {
    /// No such agent for this caller.
    NotFound { agent_id: String, project: String },
    /// The request asks for something an agent cannot be; the text names the problem.
    Invalid(String),
    /// The agent cannot go: something else needs it (the text says what).
    InUse(String),
    /// The database failed.
    Store(StoreError),
}

impl From<StoreError> for AgentServiceError {
    fn from(error: StoreError) -> AgentServiceError {
        AgentServiceError::Store(error)
    }
}

impl From<rusqlite::Error> for AgentServiceError {
    fn from(error: rusqlite::Error) -> AgentServiceError {
        AgentServiceError::Store(error.into())
    }
}

impl CallerError for AgentServiceError {}

impl From<AgentServiceError> for ApiError {
    fn from(error: AgentServiceError) -> ApiError {
        match error {
            AgentServiceError::NotFound { agent_id, project } => ApiError::not_found(format!(
                "no agent {} in project {}",
                echo_id(&agent_id),
                echo_id(&project)
            )),
            AgentServiceError::Invalid(problem) | AgentServiceError::InUse(problem) => {
                ApiError::bad_request(problem)
            }
            AgentServiceError::Store(error) => error.into(),
        }
    }
}

/// One agent the caller may see (an agent embed key: only its own).
pub(crate) async fn get(
    state: &AppState,
    principal: &Principal,
    agent_id: &str,
) -> Result<AgentRecord, AgentServiceError> {
    state
        .store()
        .find_agent(&principal.project, &principal.agents(), agent_id)
        .await?
        .ok_or_else(|| AgentServiceError::NotFound {
            agent_id: agent_id.to_string(),
            project: principal.project.clone(),
        })
}

/// A page of the caller's project's agents, ordered by id.
pub(crate) async fn list(
    state: &AppState,
    principal: &Principal,
    limit: i64,
    offset: i64,
) -> Result<Vec<AgentRecord>, AgentServiceError> {
    let project = principal.project.clone();
    Ok(state
        .store()
        .call(move |db| definitions::list_agents(db, &project, limit, offset))
        .await?)
}

/// Something an agent may use: a tool of its project, or another agent (a sub-agent).
#[derive(Debug, Clone)]
pub(crate) enum AgentTool {
    Tool(ToolRecord),
    Agent(AgentRecord),
}

/// The tools (its `tools` list, those that still exist) and then the sub-agents (its
/// script's `sub_agent` steps, each once) of each agent, in the order asked for.
pub(crate) async fn tools_of(
    state: &AppState,
    principal: &Principal,
    agent_ids: Vec<String>,
) -> Result<Vec<AgentTool>, AgentServiceError> {
    let project = principal.project.clone();
    state
        .store()
        .call(move |db| -> Result<_, AgentServiceError> {
            let mut found = Vec::new();
            for agent_id in &agent_ids {
                let Some(agent) =
                    definitions::find_agent(db, &project, &Visibility::All, agent_id)?
                else {
                    return Err(AgentServiceError::NotFound {
                        agent_id: agent_id.clone(),
                        project,
                    });
                };
                for tool_id in &agent.tool_ids {
                    if let Some(tool) = tools::find_tool(db, &project, tool_id)? {
                        found.push(AgentTool::Tool(tool));
                    }
                }
                let behavior = definitions::agent_behavior(db, &project, agent_id)?;
                for callee in behavior.map(|b| sub_agents(&b)).unwrap_or_default() {
                    if let Some(sub) =
                        definitions::find_agent(db, &project, &Visibility::All, &callee)?
                    {
                        found.push(AgentTool::Agent(sub));
                    }
                }
            }
            Ok(found)
        })
        .await
}

/// The agents a behaviour's script runs as sub-agents, each once, in script order.
fn sub_agents(behavior: &AgentBehavior) -> Vec<String> {
    agents_named(behavior, false)
}

/// The agents a script names: sub-agents, and with `handovers` also handover targets.
fn agents_named(behavior: &AgentBehavior, handovers: bool) -> Vec<String> {
    let config: BehaviorConfig = serde_json::from_str(&behavior.config).unwrap_or_default();
    let mut seen = HashSet::new();
    config
        .script
        .into_iter()
        .filter_map(|step| match step.action {
            Action::SubAgent { agent_id, .. } => Some(agent_id),
            Action::Handover { agent_id, .. } if handovers => Some(agent_id),
            _ => None,
        })
        .filter(|id| seen.insert(id.clone()))
        .collect()
}

/// What `agents/upsert` may set; `None` leaves the stored value (or the default).
#[derive(Debug, Clone, Default)]
pub(crate) struct AgentUpsert {
    pub(crate) agent_id: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) emoji: Option<String>,
    pub(crate) model: Option<String>,
    pub(crate) public: Option<bool>,
    pub(crate) use_streaming: Option<bool>,
    /// Platform fields the emulator keeps and shows but does not use (`system_prompt`, ...).
    pub(crate) settings: Map<String, Value>,
    /// The emulator's own: a behaviour (`echo` / `script`) and its settings.
    pub(crate) behavior: Option<BehaviorUpdate>,
    /// The emulator's own: the project's tools the agent may use.
    pub(crate) tools: Option<Vec<String>>,
}

/// An agent's behaviour as `emulator_behavior` gives it, already checked.
#[derive(Debug, Clone)]
pub(crate) struct BehaviorUpdate {
    pub(crate) behavior: String,
    pub(crate) config: BehaviorConfig,
}

/// Parses the emulator's own `emulator_behavior` object: `behavior`, `script` (the
/// seed's step tables, as JSON objects), `end_state`, `chunk_delay_ms`.
pub(crate) fn parse_behavior(value: Value) -> Result<BehaviorUpdate, AgentServiceError> {
    let invalid =
        |problem: String| AgentServiceError::Invalid(format!("`emulator_behavior`: {problem}"));
    let Value::Object(mut fields) = value else {
        return Err(invalid("must be an object".to_string()));
    };
    let script_steps = fields.remove("script");
    let behavior = match fields.remove("behavior") {
        None if script_steps.is_some() => "script".to_string(),
        None => BEHAVIORS[0].to_string(),
        Some(Value::String(name)) if BEHAVIORS.contains(&name.as_str()) => name,
        Some(_) => {
            return Err(invalid(format!(
                "`behavior` must be one of {}",
                BEHAVIORS.join(", ")
            )))
        }
    };
    let mut config = BehaviorConfig::default();
    if let Some(end_state) = fields.remove("end_state") {
        match end_state.as_str() {
            Some(state) if END_STATES.contains(&state) => config.end_state = state.to_string(),
            _ => {
                return Err(invalid(format!(
                    "`end_state` must be {}",
                    END_STATES.join(" or ")
                )))
            }
        }
    }
    if let Some(delay) = fields.remove("chunk_delay_ms") {
        config.chunk_delay_ms = delay
            .as_u64()
            .filter(|ms| *ms <= 60_000)
            .ok_or_else(|| invalid("`chunk_delay_ms` must be 0 to 60000".to_string()))?;
    }
    if let Some(unknown) = fields.keys().next() {
        return Err(invalid(format!(
            "unknown field `{unknown}` (allowed: behavior, script, end_state, chunk_delay_ms)"
        )));
    }
    config.script = parse_script(script_steps)?;
    match (behavior.as_str(), config.script.is_empty()) {
        ("script", true) => Err(invalid(
            "behavior \"script\" needs a non-empty `script`".into(),
        )),
        ("script", false) | (_, true) => Ok(BehaviorUpdate { behavior, config }),
        _ => Err(invalid(format!(
            "a `script` needs behavior \"script\", not {behavior:?}"
        ))),
    }
}

/// Each step checked exactly as the seed's (`script::parse_step`).
fn parse_script(steps: Option<Value>) -> Result<Vec<script::Step>, AgentServiceError> {
    let steps = match steps {
        None => return Ok(Vec::new()),
        Some(Value::Array(steps)) => steps,
        Some(_) => {
            return Err(AgentServiceError::Invalid(
                "`emulator_behavior.script` must be an array of steps".to_string(),
            ))
        }
    };
    steps
        .into_iter()
        .enumerate()
        .map(|(index, step)| {
            let table: toml::Table = serde_json::from_value(step).map_err(|error| {
                AgentServiceError::Invalid(format!(
                    "`emulator_behavior.script[{index}]` must be an object of step fields: {error}"
                ))
            })?;
            script::parse_step(&table).map_err(|problem| {
                AgentServiceError::Invalid(format!(
                    "`emulator_behavior.script[{index}]`: {problem}"
                ))
            })
        })
        .collect()
}

/// Creates (a new id when none is given) or updates an agent; answers its id.
pub(crate) async fn upsert(
    state: &AppState,
    principal: &Principal,
    upsert: AgentUpsert,
) -> Result<String, AgentServiceError> {
    if let Some(id) = &upsert.agent_id {
        if !is_usable_id(id) {
            return Err(AgentServiceError::Invalid(
                "`agent_id` may not be empty or contain whitespace, '/', ':', '?', '#' or '%'"
                    .to_string(),
            ));
        }
    }
    let project = principal.project.clone();
    let now = now_iso();
    state
        .store()
        .call(move |db| -> Result<_, AgentServiceError> {
            let (connection, caches) = db.split();
            let transaction = connection.transaction()?;
            let write = merge(&transaction, &project, upsert, &now)?;
            definitions::save_agent(&transaction, &caches.agents, &write)?;
            transaction.commit()?;
            Ok(write.record.id)
        })
        .await
}

fn is_usable_id(id: &str) -> bool {
    !id.is_empty()
        && !id.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '/' | ':' | '?' | '#' | '%')
        })
}

/// The row an upsert writes: the stored agent (or the defaults) with the upsert's fields.
fn merge(
    connection: &rusqlite::Connection,
    project: &str,
    upsert: AgentUpsert,
    now: &str,
) -> Result<AgentWrite, AgentServiceError> {
    let id = upsert.agent_id.clone().unwrap_or_else(new_item_id);
    let stored = definitions::find_agent(connection, project, &Visibility::All, &id)?;
    let stored_behavior = definitions::agent_behavior(connection, project, &id)?;
    let mut record = stored.unwrap_or_else(|| AgentRecord {
        project: project.to_string(),
        id: id.clone(),
        name: None,
        description: None,
        emoji: None,
        public: false,
        model: DEFAULT_MODEL.to_string(),
        use_streaming: false,
        tool_ids: Vec::new(),
        settings: Map::new(),
        insert_date: now.to_string(),
        update_date: now.to_string(),
    });
    let (behavior, behavior_config) = match upsert.behavior {
        Some(update) => (update.behavior, update.config.to_json()),
        None => stored_behavior.map_or_else(
            || {
                (
                    BEHAVIORS[0].to_string(),
                    BehaviorConfig::default().to_json(),
                )
            },
            |stored| (stored.behavior, stored.config),
        ),
    };
    if let Some(tool_ids) = upsert.tools {
        for tool_id in &tool_ids {
            if tools::find_tool(connection, project, tool_id)?.is_none() {
                return Err(AgentServiceError::Invalid(format!(
                    "`tools` names {}, which is not a tool of this project",
                    echo_id(tool_id)
                )));
            }
        }
        record.tool_ids = tool_ids;
    }
    record.name = upsert.name.or(record.name);
    record.description = upsert.description.or(record.description);
    record.emoji = upsert.emoji.or(record.emoji);
    record.model = upsert.model.unwrap_or(record.model);
    record.public = upsert.public.unwrap_or(record.public);
    record.use_streaming = upsert.use_streaming.unwrap_or(record.use_streaming);
    record.settings.extend(upsert.settings);
    record.update_date = now.to_string();
    let candidate = AgentBehavior {
        behavior: behavior.clone(),
        config: behavior_config.clone(),
        use_streaming: record.use_streaming,
    };
    check_references(connection, project, &id, &candidate)?;
    Ok(AgentWrite {
        record,
        behavior,
        behavior_config,
    })
}

/// The agents a script names exist in the project, and no sub-agent chain comes back to
/// `agent_id` (a run would start sub-tasks forever), as the seed checks.
fn check_references(
    connection: &rusqlite::Connection,
    project: &str,
    agent_id: &str,
    candidate: &AgentBehavior,
) -> Result<(), AgentServiceError> {
    let mut behaviors = definitions::agent_behaviors(connection, project)?;
    behaviors.retain(|(id, _)| id != agent_id);
    behaviors.push((agent_id.to_string(), candidate.clone()));
    for named in agents_named(candidate, true) {
        if !behaviors.iter().any(|(id, _)| *id == named) {
            return Err(AgentServiceError::Invalid(format!(
                "the script names agent {}, which is not an agent of this project",
                echo_id(&named)
            )));
        }
    }
    let calls = |from: &str| {
        behaviors
            .iter()
            .find(|(id, _)| id == from)
            .map(|(_, behavior)| sub_agents(behavior))
            .unwrap_or_default()
    };
    let mut seen = HashSet::new();
    let mut frontier = calls(agent_id);
    // Bounded: each agent is expanded at most once.
    while let Some(next) = frontier.pop() {
        if next == agent_id {
            return Err(AgentServiceError::Invalid(format!(
                "sub_agent steps would form a cycle through agent {}",
                echo_id(agent_id)
            )));
        }
        if seen.insert(next.clone()) {
            frontier.extend(calls(&next));
        }
    }
    Ok(())
}

/// Deletes an agent of the caller's project and revokes its embed keys, in one
/// transaction. Refused while a workforce has it as a member or another agent's script
/// names it (they would break).
pub(crate) async fn delete(
    state: &AppState,
    principal: &Principal,
    agent_id: &str,
) -> Result<(), AgentServiceError> {
    let project = principal.project.clone();
    let id = agent_id.to_string();
    let now = now_iso();
    state
        .store()
        .call(move |db| -> Result<(), AgentServiceError> {
            let (connection, caches) = db.split();
            let transaction = connection.transaction()?;
            if definitions::find_agent(&transaction, &project, &Visibility::All, &id)?.is_none() {
                return Err(AgentServiceError::NotFound {
                    agent_id: id,
                    project,
                });
            }
            if let Some(problem) = still_needed(&transaction, &project, &id)? {
                return Err(AgentServiceError::InUse(problem));
            }
            for key_id in definitions::active_embed_keys_of_agent(&transaction, &project, &id)? {
                keys::revoke(&transaction, &caches.keys, KeySelector::Id(&key_id), &now)?;
            }
            definitions::delete_agent(&transaction, &caches.agents, &project, &id)?;
            transaction.commit()?;
            Ok(())
        })
        .await
}

/// Why the agent cannot go, if something needs it.
fn still_needed(
    connection: &rusqlite::Connection,
    project: &str,
    agent_id: &str,
) -> rusqlite::Result<Option<String>> {
    if let Some(workforce) = definitions::workforces_with_member(connection, project, agent_id)?
        .into_iter()
        .next()
    {
        return Ok(Some(format!(
            "agent {} is a member of workforce {}; it cannot be deleted",
            echo_id(agent_id),
            echo_id(&workforce)
        )));
    }
    for (other, behavior) in definitions::agent_behaviors(connection, project)? {
        if other != agent_id
            && agents_named(&behavior, true)
                .iter()
                .any(|id| id == agent_id)
        {
            return Ok(Some(format!(
                "agent {}'s script names agent {}; change that script first",
                echo_id(&other),
                echo_id(agent_id)
            )));
        }
    }
    Ok(None)
}
