//! Projects, agents and workforces: what a seed file (or the demo) defines.
//!
//! Upserts are idempotent: re-applying the same definitions changes no row,
//! not even an `update_date`. Reads that take an id always take a
//! [`Visibility`] too, so no caller can load an object outside its scope.

use rusqlite::types::Type;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::agent_cache::AgentCache;
use super::cached_rows::AgentRecord;
use super::tools::{self, SeedKind, ToolSpec};
use crate::region::Region;

/// An agent as a seed file or the demo defines it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct AgentSpec {
    pub(crate) id: String,
    pub(crate) name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) emoji: Option<String>,
    pub(crate) public: bool,
    pub(crate) model: String,
    pub(crate) behavior: String,
    /// The behaviour's settings as JSON (`engine::BehaviorConfig`), compared as text on upsert.
    pub(crate) behavior_config: String,
    /// The agent's own `use_streaming` (PROTOCOL A8b): whether its runs stream when the
    /// trigger carries no `agent_override`.
    pub(crate) use_streaming: bool,
    /// The project's tools the agent may use (seed `tools = [...]`).
    pub(crate) tools: Vec<String>,
}

/// A workforce and its member agents, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WorkforceSpec {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) agents: Vec<String>,
    /// The most member runs one trigger may start (seed `execution_limit`).
    pub(crate) execution_limit: u32,
}

/// How many member runs one trigger of a workforce may start unless the seed says otherwise.
pub(crate) const DEFAULT_EXECUTION_LIMIT: u32 = 10;

/// A project with everything defined inside it (API keys are handled by `keys`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProjectSpec {
    pub(crate) id: String,
    pub(crate) region: Region,
    pub(crate) agents: Vec<AgentSpec>,
    pub(crate) workforces: Vec<WorkforceSpec>,
    /// The project's tools (seed `[[projects.tools]]`).
    pub(crate) tools: Vec<ToolSpec>,
    /// Its agents' webhook triggers (seed `[[projects.agents.webhooks]]`).
    pub(crate) webhooks: Vec<super::webhooks::WebhookSpec>,
}

/// Which objects of one kind a caller may see inside its project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Visibility {
    /// Every object of the project (an API key).
    All,
    /// Only the object with this id (an embed key scoped to it).
    Only(String),
    /// Nothing of this kind (an embed key scoped to another kind of object).
    Nothing,
}

impl Visibility {
    /// Whether an object with this id is inside the scope; the same rule the
    /// `find_*` queries apply in SQL, for readers of a cached row.
    pub(crate) fn admits(&self, id: &str) -> bool {
        match self {
            Visibility::All => true,
            Visibility::Only(only) => only == id,
            Visibility::Nothing => false,
        }
    }
}

/// A workforce as stored.
#[derive(Debug, Clone)]
pub(crate) struct WorkforceRecord {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) execution_limit: u32,
}

/// Inserts or updates a project and its agents and workforces; unchanged rows stay untouched.
pub(crate) fn upsert_project(
    transaction: &Transaction<'_>,
    agent_cache: &AgentCache,
    project: &ProjectSpec,
    now: &str,
) -> rusqlite::Result<()> {
    transaction.execute(
        "INSERT INTO projects (id, region) VALUES (?1, ?2)
         ON CONFLICT (id) DO UPDATE SET region = excluded.region
         WHERE region IS NOT excluded.region",
        params![project.id, project.region.code()],
    )?;
    // Before the writes: whatever happens next, the next read comes from SQLite.
    agent_cache.forget_project(&project.id);
    for tool in &project.tools {
        tools::apply_seeded_tool(transaction, &project.id, tool, now)?;
    }
    for agent in &project.agents {
        upsert_seeded_agent(transaction, &project.id, agent, now)?;
    }
    super::webhooks::apply_seeded(transaction, &project.id, &project.webhooks, now)?;
    for workforce in &project.workforces {
        let stored_members = workforce_members(transaction, &project.id, &workforce.id)?;
        let members_changed = stored_members != workforce.agents;
        transaction.execute(
            "INSERT INTO workforces (project_id, id, name, insert_date, update_date, execution_limit)
             VALUES (?1, ?2, ?3, ?4, ?4, ?6)
             ON CONFLICT (project_id, id) DO UPDATE SET
                name = excluded.name, update_date = excluded.update_date,
                execution_limit = excluded.execution_limit
             WHERE name IS NOT excluded.name OR execution_limit IS NOT excluded.execution_limit
                OR ?5",
            params![
                project.id,
                workforce.id,
                workforce.name,
                now,
                members_changed,
                workforce.execution_limit
            ],
        )?;
        if members_changed {
            transaction.execute(
                "DELETE FROM workforce_members WHERE project_id = ?1 AND workforce_id = ?2",
                params![project.id, workforce.id],
            )?;
            for (position, agent_id) in workforce.agents.iter().enumerate() {
                transaction.execute(
                    "INSERT INTO workforce_members (project_id, workforce_id, position, agent_id)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![
                        project.id,
                        workforce.id,
                        i64::try_from(position).unwrap_or(i64::MAX),
                        agent_id
                    ],
                )?;
            }
        }
    }
    Ok(())
}

/// Applies a seeded agent when its definition is new or changed since the seed last
/// applied it (its seed mark); an unchanged definition leaves what the API did alone.
fn upsert_seeded_agent(
    transaction: &Transaction<'_>,
    project: &str,
    agent: &AgentSpec,
    now: &str,
) -> rusqlite::Result<()> {
    let mark = serde_json::to_string(agent).unwrap_or_default();
    if tools::seed_mark(transaction, project, SeedKind::Agent, &agent.id)?.as_deref() == Some(&mark)
    {
        return Ok(());
    }
    let tool_ids = serde_json::to_string(&agent.tools).unwrap_or_else(|_| "[]".to_string());
    transaction.execute(
        "INSERT INTO agents (project_id, id, name, description, emoji, public, model, behavior,
                             insert_date, update_date, behavior_config, use_streaming, tool_ids)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11, ?12)
         ON CONFLICT (project_id, id) DO UPDATE SET
            name = excluded.name, description = excluded.description, emoji = excluded.emoji,
            public = excluded.public, model = excluded.model, behavior = excluded.behavior,
            behavior_config = excluded.behavior_config, use_streaming = excluded.use_streaming,
            tool_ids = excluded.tool_ids, update_date = excluded.update_date
         WHERE name IS NOT excluded.name OR description IS NOT excluded.description
            OR emoji IS NOT excluded.emoji OR public IS NOT excluded.public
            OR model IS NOT excluded.model OR behavior IS NOT excluded.behavior
            OR behavior_config IS NOT excluded.behavior_config
            OR use_streaming IS NOT excluded.use_streaming OR tool_ids IS NOT excluded.tool_ids",
        params![
            project,
            agent.id,
            agent.name,
            agent.description,
            agent.emoji,
            agent.public,
            agent.model,
            agent.behavior,
            now,
            agent.behavior_config,
            agent.use_streaming,
            tool_ids
        ],
    )?;
    tools::set_seed_mark(transaction, project, SeedKind::Agent, &agent.id, &mark)
}

/// A workforce's member agents, in order (the first one gets the user's message).
pub(crate) fn workforce_members(
    connection: &Connection,
    project: &str,
    workforce: &str,
) -> rusqlite::Result<Vec<String>> {
    let mut statement = connection.prepare_cached(
        "SELECT agent_id FROM workforce_members
         WHERE project_id = ?1 AND workforce_id = ?2 ORDER BY position",
    )?;
    let rows = statement.query_map(params![project, workforce], |row| row.get(0))?;
    rows.collect()
}

fn region_from_column(code: String, column: usize) -> rusqlite::Result<Region> {
    Region::from_code(&code).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            column,
            Type::Text,
            format!("unknown region code {code:?} in table projects").into(),
        )
    })
}

/// The region of a project, or `None` when no such project exists in any region.
pub(crate) fn project_region(
    connection: &Connection,
    project: &str,
) -> rusqlite::Result<Option<Region>> {
    connection
        .query_row(
            "SELECT region FROM projects WHERE id = ?1",
            [project],
            |row| region_from_column(row.get(0)?, 0),
        )
        .optional()
}

/// Every project with its region, ordered by id.
pub(crate) fn list_projects(connection: &Connection) -> rusqlite::Result<Vec<(String, Region)>> {
    let mut statement = connection.prepare_cached("SELECT id, region FROM projects ORDER BY id")?;
    let rows = statement.query_map([], |row| {
        Ok((row.get(0)?, region_from_column(row.get(1)?, 1)?))
    })?;
    rows.collect()
}

const AGENT_COLUMNS: &str = "project_id, id, name, description, emoji, public, model, \
                             insert_date, update_date, use_streaming, tool_ids, settings";

/// A JSON column read back; text this emulator did not write is a conversion error.
fn json_column<T: serde::de::DeserializeOwned>(text: String, column: usize) -> rusqlite::Result<T> {
    serde_json::from_str(&text).map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(column, Type::Text, Box::new(error))
    })
}

fn agent_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AgentRecord> {
    Ok(AgentRecord {
        project: row.get(0)?,
        id: row.get(1)?,
        name: row.get(2)?,
        description: row.get(3)?,
        emoji: row.get(4)?,
        public: row.get(5)?,
        model: row.get(6)?,
        insert_date: row.get(7)?,
        update_date: row.get(8)?,
        use_streaming: row.get(9)?,
        tool_ids: json_column(row.get(10)?, 10)?,
        settings: json_column(row.get(11)?, 11)?,
    })
}

/// One agent of `project`, if it exists and `visibility` lets the caller see it.
pub(crate) fn find_agent(
    connection: &Connection,
    project: &str,
    visibility: &Visibility,
    agent_id: &str,
) -> rusqlite::Result<Option<AgentRecord>> {
    let only = match visibility {
        Visibility::All => None,
        Visibility::Only(id) => Some(id.as_str()),
        Visibility::Nothing => return Ok(None),
    };
    connection
        .query_row(
            &format!(
                "SELECT {AGENT_COLUMNS} FROM agents
                 WHERE project_id = ?1 AND id = ?2 AND (?3 IS NULL OR id = ?3)"
            ),
            params![project, agent_id, only],
            agent_from_row,
        )
        .optional()
}

/// One agent of `project` regardless of scope, read from SQLite and remembered in the
/// store's agent cache (the caller applies scope).
pub(crate) fn load_agent(
    connection: &Connection,
    agent_cache: &AgentCache,
    project: &str,
    agent_id: &str,
) -> rusqlite::Result<Option<AgentRecord>> {
    let agent = find_agent(connection, project, &Visibility::All, agent_id)?;
    if let Some(agent) = &agent {
        agent_cache.remember(agent.clone());
    }
    Ok(agent)
}

/// What the engine needs of an agent to start a run.
#[derive(Debug, Clone)]
pub(crate) struct AgentBehavior {
    pub(crate) behavior: String,
    /// `engine::BehaviorConfig` as JSON.
    pub(crate) config: String,
    pub(crate) use_streaming: bool,
}

/// An agent's behaviour, its settings and its own `use_streaming`, if it exists in `project`.
///
/// Only the engine calls this, after the caller's access to the agent was checked.
pub(crate) fn agent_behavior(
    connection: &Connection,
    project: &str,
    agent_id: &str,
) -> rusqlite::Result<Option<AgentBehavior>> {
    connection
        .query_row(
            "SELECT behavior, behavior_config, use_streaming FROM agents
             WHERE project_id = ?1 AND id = ?2",
            params![project, agent_id],
            |row| {
                Ok(AgentBehavior {
                    behavior: row.get(0)?,
                    config: row.get(1)?,
                    use_streaming: row.get(2)?,
                })
            },
        )
        .optional()
}

/// A page of a project's agents, ordered by id (only API keys reach this).
pub(crate) fn list_agents(
    connection: &Connection,
    project: &str,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<Vec<AgentRecord>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {AGENT_COLUMNS} FROM agents WHERE project_id = ?1 ORDER BY id LIMIT ?2 OFFSET ?3"
    ))?;
    let rows = statement.query_map(params![project, limit, offset], agent_from_row)?;
    rows.collect()
}

/// An agent as the API writes it (`agents/upsert`): every field, already merged with
/// the stored row by the caller.
#[derive(Debug, Clone)]
pub(crate) struct AgentWrite {
    pub(crate) record: AgentRecord,
    pub(crate) behavior: String,
    /// `engine::BehaviorConfig` as JSON.
    pub(crate) behavior_config: String,
}

/// Inserts or replaces an agent row; the agent cache forgets it first.
pub(crate) fn save_agent(
    connection: &Connection,
    agent_cache: &AgentCache,
    agent: &AgentWrite,
) -> rusqlite::Result<()> {
    let record = &agent.record;
    agent_cache.forget(&record.project, &record.id);
    let tool_ids = serde_json::to_string(&record.tool_ids).unwrap_or_else(|_| "[]".to_string());
    let settings = serde_json::Value::Object(record.settings.clone()).to_string();
    connection.execute(
        "INSERT INTO agents (project_id, id, name, description, emoji, public, model, behavior,
                             insert_date, update_date, behavior_config, use_streaming, tool_ids,
                             settings)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT (project_id, id) DO UPDATE SET
            name = excluded.name, description = excluded.description, emoji = excluded.emoji,
            public = excluded.public, model = excluded.model, behavior = excluded.behavior,
            behavior_config = excluded.behavior_config, use_streaming = excluded.use_streaming,
            tool_ids = excluded.tool_ids, settings = excluded.settings,
            update_date = excluded.update_date",
        params![
            record.project,
            record.id,
            record.name,
            record.description,
            record.emoji,
            record.public,
            record.model,
            agent.behavior,
            record.insert_date,
            record.update_date,
            agent.behavior_config,
            record.use_streaming,
            tool_ids,
            settings
        ],
    )?;
    Ok(())
}

/// Every agent of `project` with its behaviour and settings (JSON), ordered by id: what
/// a check over all of a project's scripts needs.
pub(crate) fn agent_behaviors(
    connection: &Connection,
    project: &str,
) -> rusqlite::Result<Vec<(String, AgentBehavior)>> {
    let mut statement = connection.prepare_cached(
        "SELECT id, behavior, behavior_config, use_streaming FROM agents
         WHERE project_id = ?1 ORDER BY id",
    )?;
    let rows = statement.query_map([project], |row| {
        Ok((
            row.get(0)?,
            AgentBehavior {
                behavior: row.get(1)?,
                config: row.get(2)?,
                use_streaming: row.get(3)?,
            },
        ))
    })?;
    rows.collect()
}

/// The workforces of `project` that have `agent_id` as a member, ordered by id.
pub(crate) fn workforces_with_member(
    connection: &Connection,
    project: &str,
    agent_id: &str,
) -> rusqlite::Result<Vec<String>> {
    let mut statement = connection.prepare_cached(
        "SELECT DISTINCT workforce_id FROM workforce_members
         WHERE project_id = ?1 AND agent_id = ?2 ORDER BY workforce_id",
    )?;
    let rows = statement.query_map(params![project, agent_id], |row| row.get(0))?;
    rows.collect()
}

/// The ids of the embed keys for `agent_id` that are not revoked yet.
pub(crate) fn active_embed_keys_of_agent(
    connection: &Connection,
    project: &str,
    agent_id: &str,
) -> rusqlite::Result<Vec<String>> {
    let mut statement = connection.prepare_cached(
        "SELECT id FROM keys WHERE project_id = ?1 AND agent_id = ?2 AND kind = 'embed'
         AND revoked_at IS NULL ORDER BY id",
    )?;
    let rows = statement.query_map(params![project, agent_id], |row| row.get(0))?;
    rows.collect()
}

/// Deletes an agent row (its tasks stay); the agent cache forgets it first. Answers
/// whether it existed.
pub(crate) fn delete_agent(
    connection: &Connection,
    agent_cache: &AgentCache,
    project: &str,
    agent_id: &str,
) -> rusqlite::Result<bool> {
    agent_cache.forget(project, agent_id);
    let deleted = connection.execute(
        "DELETE FROM agents WHERE project_id = ?1 AND id = ?2",
        params![project, agent_id],
    )?;
    Ok(deleted > 0)
}

/// One workforce of `project`, if it exists and `visibility` lets the caller see it.
pub(crate) fn find_workforce(
    connection: &Connection,
    project: &str,
    visibility: &Visibility,
    workforce_id: &str,
) -> rusqlite::Result<Option<WorkforceRecord>> {
    let only = match visibility {
        Visibility::All => None,
        Visibility::Only(id) => Some(id.as_str()),
        Visibility::Nothing => return Ok(None),
    };
    connection
        .query_row(
            "SELECT id, name, execution_limit FROM workforces
             WHERE project_id = ?1 AND id = ?2 AND (?3 IS NULL OR id = ?3)",
            params![project, workforce_id, only],
            |row| {
                Ok(WorkforceRecord {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    execution_limit: row.get(2)?,
                })
            },
        )
        .optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo_like() -> ProjectSpec {
        ProjectSpec {
            id: "p".into(),
            region: Region::US,
            agents: vec![AgentSpec {
                id: "a".into(),
                name: Some("A".into()),
                description: None,
                emoji: None,
                public: true,
                model: "emulated".into(),
                behavior: "echo".into(),
                behavior_config: "{}".into(),
                use_streaming: false,
                tools: Vec::new(),
            }],
            tools: Vec::new(),
            webhooks: Vec::new(),
            workforces: vec![WorkforceSpec {
                id: "w".into(),
                name: "W".into(),
                agents: vec!["a".into()],
                execution_limit: DEFAULT_EXECUTION_LIMIT,
            }],
        }
    }

    fn connection() -> Connection {
        let mut connection = Connection::open_in_memory().expect("in-memory database");
        connection
            .pragma_update(None, "foreign_keys", "ON")
            .expect("pragma");
        super::super::schema::migrate(&mut connection).expect("migrate");
        connection
    }

    fn apply(connection: &mut Connection, spec: &ProjectSpec, now: &str) {
        let transaction = connection.transaction().expect("transaction");
        upsert_project(&transaction, &AgentCache::default(), spec, now).expect("upsert");
        transaction.commit().expect("commit");
    }

    #[test]
    fn re_applying_the_same_spec_changes_no_dates_and_edits_bump_update_date() {
        let mut connection = connection();
        let spec = demo_like();
        apply(&mut connection, &spec, "2026-01-01T00:00:00.000Z");
        apply(&mut connection, &spec, "2026-01-02T00:00:00.000Z");
        let agent = find_agent(&connection, "p", &Visibility::All, "a")
            .expect("query")
            .expect("agent exists");
        assert_eq!(agent.update_date, "2026-01-01T00:00:00.000Z");

        let mut edited = spec.clone();
        edited.agents[0].name = Some("B".into());
        apply(&mut connection, &edited, "2026-01-03T00:00:00.000Z");
        let agent = find_agent(&connection, "p", &Visibility::All, "a")
            .expect("query")
            .expect("agent exists");
        assert_eq!(agent.name.as_deref(), Some("B"));
        assert_eq!(agent.insert_date, "2026-01-01T00:00:00.000Z");
        assert_eq!(agent.update_date, "2026-01-03T00:00:00.000Z");

        // `use_streaming` is part of the compare: turning it on is an edit.
        let mut streaming = edited.clone();
        streaming.agents[0].use_streaming = true;
        apply(&mut connection, &streaming, "2026-01-04T00:00:00.000Z");
        apply(&mut connection, &streaming, "2026-01-05T00:00:00.000Z");
        let agent = find_agent(&connection, "p", &Visibility::All, "a")
            .expect("query")
            .expect("agent exists");
        assert!(agent.use_streaming);
        assert_eq!(agent.update_date, "2026-01-04T00:00:00.000Z");
    }

    #[test]
    fn an_unchanged_seed_leaves_an_api_edit_of_an_agent_alone() {
        let mut connection = connection();
        let spec = demo_like();
        apply(&mut connection, &spec, "2026-01-01T00:00:00.000Z");
        let mut record = find_agent(&connection, "p", &Visibility::All, "a")
            .expect("query")
            .expect("agent");
        record.name = Some("Edited".into());
        let write = AgentWrite {
            record,
            behavior: "echo".into(),
            behavior_config: "{}".into(),
        };
        save_agent(&connection, &AgentCache::default(), &write).expect("save");
        apply(&mut connection, &spec, "2026-01-02T00:00:00.000Z");
        let agent = find_agent(&connection, "p", &Visibility::All, "a")
            .expect("query")
            .expect("agent");
        assert_eq!(agent.name.as_deref(), Some("Edited"));
    }

    #[test]
    fn visibility_is_part_of_the_query() {
        let mut connection = connection();
        apply(&mut connection, &demo_like(), "2026-01-01T00:00:00.000Z");
        let cases = [
            (Visibility::All, true),
            (Visibility::Only("a".into()), true),
            (Visibility::Only("other".into()), false),
            (Visibility::Nothing, false),
        ];
        for (visibility, visible) in cases {
            let found = find_agent(&connection, "p", &visibility, "a").expect("query");
            assert_eq!(found.is_some(), visible, "{visibility:?}");
            let found = find_workforce(&connection, "p", &visibility, "a").expect("query");
            assert!(found.is_none(), "a is not a workforce");
        }
        assert!(
            find_agent(&connection, "other-project", &Visibility::All, "a")
                .expect("query")
                .is_none()
        );
    }
}
