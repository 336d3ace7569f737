//! Queries only the admin dashboard makes: per-project counts, listings
//! without paging, a key looked up inside its project, and the agent's
//! public/private switch.
//!
//! The dashboard acts for the operator, so nothing here takes a
//! `Visibility`: every caller has already been signed in with the admin token.
//! Nothing here reads or returns a key's secret (there is none stored).

use rusqlite::{params, Connection, OptionalExtension};

use crate::region::Region;

use super::agent_cache::AgentCache;
use super::cached_rows::AgentRecord;
use super::definitions;
use super::key_cache::KeyCache;
use super::keys::{self, KeyRecord};

/// One row of the dashboard's project table.
#[derive(Debug, Clone)]
pub(crate) struct ProjectCounts {
    pub(crate) id: String,
    pub(crate) region: Region,
    /// API keys that are not revoked.
    pub(crate) api_keys: i64,
    /// Embed keys that are not revoked.
    pub(crate) embed_keys: i64,
    pub(crate) agents: i64,
    pub(crate) workforces: i64,
    pub(crate) tasks: i64,
}

fn count(connection: &Connection, sql: &str, project: &str) -> rusqlite::Result<i64> {
    connection.query_row(sql, [project], |row| row.get(0))
}

/// Every project with its counts, ordered by id.
pub(crate) fn project_counts(connection: &Connection) -> rusqlite::Result<Vec<ProjectCounts>> {
    definitions::list_projects(connection)?
        .into_iter()
        .map(|(id, region)| {
            Ok(ProjectCounts {
                api_keys: count(
                    connection,
                    "SELECT COUNT(*) FROM keys WHERE project_id = ?1 AND kind = 'api'
                     AND revoked_at IS NULL",
                    &id,
                )?,
                embed_keys: count(
                    connection,
                    "SELECT COUNT(*) FROM keys WHERE project_id = ?1 AND kind = 'embed'
                     AND revoked_at IS NULL",
                    &id,
                )?,
                agents: count(
                    connection,
                    "SELECT COUNT(*) FROM agents WHERE project_id = ?1",
                    &id,
                )?,
                workforces: count(
                    connection,
                    "SELECT COUNT(*) FROM workforces WHERE project_id = ?1",
                    &id,
                )?,
                tasks: count(
                    connection,
                    "SELECT COUNT(*) FROM tasks WHERE project_id = ?1",
                    &id,
                )?,
                id,
                region,
            })
        })
        .collect()
}

/// Every agent of a project, ordered by id.
pub(crate) fn all_agents(
    connection: &Connection,
    project: &str,
) -> rusqlite::Result<Vec<AgentRecord>> {
    definitions::list_agents(connection, project, i64::MAX, 0)
}

/// A workforce with its member agents' ids, in order.
#[derive(Debug, Clone)]
pub(crate) struct WorkforceRow {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) members: Vec<String>,
}

/// Every workforce of a project with its members, ordered by id.
pub(crate) fn all_workforces(
    connection: &Connection,
    project: &str,
) -> rusqlite::Result<Vec<WorkforceRow>> {
    let mut statement = connection
        .prepare_cached("SELECT id, name FROM workforces WHERE project_id = ?1 ORDER BY id")?;
    let rows: Vec<(String, String)> = statement
        .query_map([project], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut members = connection.prepare_cached(
        "SELECT agent_id FROM workforce_members
         WHERE project_id = ?1 AND workforce_id = ?2 ORDER BY position",
    )?;
    rows.into_iter()
        .map(|(id, name)| {
            let agents = members
                .query_map(params![project, id], |row| row.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(WorkforceRow {
                id,
                name,
                members: agents,
            })
        })
        .collect()
}

/// One key of `project` by id; a key of another project is not found.
pub(crate) fn find_key_in_project(
    connection: &Connection,
    cache: &KeyCache,
    project: &str,
    key_id: &str,
) -> rusqlite::Result<Option<KeyRecord>> {
    Ok(keys::list_for_project(connection, cache, project)?
        .into_iter()
        .find(|key| key.id == key_id))
}

/// Turns an agent public or private; answers whether the agent exists in `project`.
///
/// Only the dashboard writes this; a later start with a seed file that says
/// otherwise sets it back (seeding is an upsert).
pub(crate) fn set_agent_public(
    connection: &Connection,
    agent_cache: &AgentCache,
    project: &str,
    agent_id: &str,
    public: bool,
    now: &str,
) -> rusqlite::Result<bool> {
    let exists = connection
        .query_row(
            "SELECT 1 FROM agents WHERE project_id = ?1 AND id = ?2",
            params![project, agent_id],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if exists {
        // Before the write: whatever happens next, the next read comes from SQLite.
        agent_cache.forget(project, agent_id);
        connection.execute(
            "UPDATE agents SET public = ?3, update_date = ?4
             WHERE project_id = ?1 AND id = ?2 AND public IS NOT ?3",
            params![project, agent_id, public, now],
        )?;
    }
    Ok(exists)
}
