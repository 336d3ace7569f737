//! Agent tasks and their messages.
//!
//! Every read that takes a task id also takes a [`TaskScope`], so an embed key
//! can never load another prefix's task: an out-of-scope id is simply not
//! found. Messages keep their `insert_date_` forever (in-place updates touch
//! only `content` and `update_date`), and no two messages of one task share an
//! `insert_date_`, so a cursor pinned to a message's date is exact.

use rusqlite::{named_params, params, Connection, OptionalExtension};

use crate::time::{iso_from_ms, now_ms};

/// Which agent tasks a caller may see inside its project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TaskScope {
    /// Every task of the project (an API key, or the engine itself).
    Project,
    /// Only tasks of `agent_id` created with `task_prefix` (an agent embed key).
    Prefixed {
        agent_id: String,
        task_prefix: String,
    },
    /// No agent task at all (a workforce embed key).
    Nothing,
}

impl TaskScope {
    /// `(agent_id, task_prefix)` bound into the scoped queries; `None` when nothing is visible.
    fn binds(&self) -> Option<(Option<&str>, Option<&str>)> {
        match self {
            TaskScope::Project => Some((None, None)),
            TaskScope::Prefixed {
                agent_id,
                task_prefix,
            } => Some((Some(agent_id), Some(task_prefix))),
            TaskScope::Nothing => None,
        }
    }
}

/// A task row.
#[derive(Debug, Clone)]
pub(crate) struct TaskRecord {
    pub(crate) project: String,
    pub(crate) id: String,
    pub(crate) agent_id: String,
    pub(crate) created_by_key_id: String,
    pub(crate) task_prefix: Option<String>,
    pub(crate) title: String,
    pub(crate) state: String,
    pub(crate) insert_date: String,
    pub(crate) update_date: String,
    /// The last trigger's `params`, a JSON object (PROTOCOL A17).
    pub(crate) params: Option<String>,
    /// The caller's own id for this conversation (PROTOCOL A17).
    pub(crate) external_id: Option<String>,
    /// The agent version the last trigger asked for (`active`, `draft` or an id).
    pub(crate) version: Option<String>,
}

const TASK_COLUMNS: &str = "project_id, id, agent_id, created_by_key_id, task_prefix, title, \
                            state, insert_date, update_date, params, external_id, version";

/// The scope condition: `:agent` and `:prefix` are NULL for an API key. Workforce tasks
/// share the table (and its messages) but are never agent tasks.
const SCOPE_CONDITION: &str = "workforce_id IS NULL \
                               AND (:agent IS NULL OR (agent_id = :agent AND task_prefix = :prefix))";

fn task_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<TaskRecord> {
    Ok(TaskRecord {
        project: row.get(0)?,
        id: row.get(1)?,
        agent_id: row.get(2)?,
        created_by_key_id: row.get(3)?,
        task_prefix: row.get(4)?,
        title: row.get(5)?,
        state: row.get(6)?,
        insert_date: row.get(7)?,
        update_date: row.get(8)?,
        params: row.get(9)?,
        external_id: row.get(10)?,
        version: row.get(11)?,
    })
}

/// One task of `project` by id, if `scope` lets the caller see it (any agent).
pub(crate) fn find_task(
    connection: &Connection,
    project: &str,
    scope: &TaskScope,
    task_id: &str,
) -> rusqlite::Result<Option<TaskRecord>> {
    let Some((agent, prefix)) = scope.binds() else {
        return Ok(None);
    };
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {TASK_COLUMNS} FROM tasks
         WHERE project_id = :project AND id = :task AND {SCOPE_CONDITION}"
    ))?;
    statement
        .query_row(
            named_params! {":project": project, ":task": task_id, ":agent": agent, ":prefix": prefix},
            task_from_row,
        )
        .optional()
}

/// Every task of `project` the scope lets the caller see, optionally of one agent, oldest first.
pub(crate) fn list_tasks(
    connection: &Connection,
    project: &str,
    scope: &TaskScope,
) -> rusqlite::Result<Vec<TaskRecord>> {
    let Some((agent, prefix)) = scope.binds() else {
        return Ok(Vec::new());
    };
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {TASK_COLUMNS} FROM tasks WHERE project_id = :project AND {SCOPE_CONDITION}
         ORDER BY insert_date, id"
    ))?;
    let rows = statement.query_map(
        named_params! {":project": project, ":agent": agent, ":prefix": prefix},
        task_from_row,
    )?;
    rows.collect()
}

/// The workforce a task belongs to, or `None` for an agent task (or no such task).
pub(crate) fn workforce_of_task(
    connection: &Connection,
    project: &str,
    task_id: &str,
) -> rusqlite::Result<Option<String>> {
    Ok(connection
        .query_row(
            "SELECT workforce_id FROM tasks WHERE project_id = ?1 AND id = ?2",
            params![project, task_id],
            |row| row.get::<_, Option<String>>(0),
        )
        .optional()?
        .flatten())
}

/// Whether any task of `project` has this id, whoever may see it (to refuse a duplicate id).
pub(crate) fn task_id_taken(
    connection: &Connection,
    project: &str,
    task_id: &str,
) -> rusqlite::Result<bool> {
    connection.query_row(
        "SELECT EXISTS (SELECT 1 FROM tasks WHERE project_id = ?1 AND id = ?2)",
        params![project, task_id],
        |row| row.get(0),
    )
}

/// Stores a new task.
pub(crate) fn insert_task(connection: &Connection, task: &TaskRecord) -> rusqlite::Result<()> {
    connection.execute(
        &format!(
            "INSERT INTO tasks ({TASK_COLUMNS}) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
        ),
        params![
            task.project,
            task.id,
            task.agent_id,
            task.created_by_key_id,
            task.task_prefix,
            task.title,
            task.state,
            task.insert_date,
            task.update_date,
            task.params,
            task.external_id,
            task.version
        ],
    )?;
    Ok(())
}

/// The task of `agent_id` that the caller's scope sees under `external_id` (PROTOCOL A17).
pub(crate) fn find_by_external_id(
    connection: &Connection,
    project: &str,
    scope: &TaskScope,
    agent_id: &str,
    external_id: &str,
) -> rusqlite::Result<Option<TaskRecord>> {
    let Some((agent, prefix)) = scope.binds() else {
        return Ok(None);
    };
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {TASK_COLUMNS} FROM tasks
         WHERE project_id = :project AND agent_id = :agent_id AND external_id = :external
           AND ifnull(task_prefix, '') = ifnull(:prefix, '') AND {SCOPE_CONDITION}"
    ))?;
    statement
        .query_row(
            named_params! {
                ":project": project, ":agent_id": agent_id, ":external": external_id,
                ":agent": agent, ":prefix": prefix,
            },
            task_from_row,
        )
        .optional()
}

/// Stores what a trigger sets on its task: `params` and `version` when it sent them.
pub(crate) fn set_trigger_fields(
    connection: &Connection,
    task: &TaskRecord,
) -> rusqlite::Result<()> {
    connection.execute(
        "UPDATE tasks SET params = ?3, version = ?4 WHERE project_id = ?1 AND id = ?2",
        params![task.project, task.id, task.params, task.version],
    )?;
    Ok(())
}

/// Sets a task's state (and `update_date`).
pub(crate) fn set_task_state(
    connection: &Connection,
    project: &str,
    task_id: &str,
    state: &str,
) -> rusqlite::Result<()> {
    connection.execute(
        "UPDATE tasks SET state = ?3, update_date = ?4 WHERE project_id = ?1 AND id = ?2",
        params![project, task_id, state, iso_from_ms(now_ms())],
    )?;
    Ok(())
}

/// The state of a task, for the engine (no scope: the engine acts for the platform).
pub(crate) fn task_state(
    connection: &Connection,
    project: &str,
    task_id: &str,
) -> rusqlite::Result<Option<String>> {
    connection
        .query_row(
            "SELECT state FROM tasks WHERE project_id = ?1 AND id = ?2",
            params![project, task_id],
            |row| row.get(0),
        )
        .optional()
}

/// A stored message.
#[derive(Debug, Clone)]
pub(crate) struct MessageRecord {
    pub(crate) item_id: String,
    pub(crate) insert_date: String,
    pub(crate) content: serde_json::Value,
}

/// Appends a message to a task, at now or 1 ms after the task's newest message, whichever is later.
pub(crate) fn insert_message(
    connection: &Connection,
    project: &str,
    task_id: &str,
    item_id: &str,
    content: &serde_json::Value,
) -> rusqlite::Result<()> {
    let (last_seq, last_ms): (Option<i64>, Option<i64>) = connection.query_row(
        "SELECT MAX(seq), MAX(insert_ms) FROM messages WHERE project_id = ?1 AND task_id = ?2",
        params![project, task_id],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let insert_ms = now_ms().max(last_ms.map_or(i64::MIN, |ms| ms + 1));
    let insert_date = iso_from_ms(insert_ms);
    connection.execute(
        "INSERT INTO messages (item_id, project_id, task_id, seq, insert_ms, insert_date_, content,
                               update_date)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?6)",
        params![
            item_id,
            project,
            task_id,
            last_seq.unwrap_or(0) + 1,
            insert_ms,
            insert_date,
            content.to_string()
        ],
    )?;
    touch_task(connection, project, task_id)
}

/// Replaces a message's content in place; its `insert_date_` never changes.
pub(crate) fn update_message(
    connection: &Connection,
    project: &str,
    task_id: &str,
    item_id: &str,
    content: &serde_json::Value,
) -> rusqlite::Result<()> {
    connection.execute(
        "UPDATE messages SET content = ?4, update_date = ?5
         WHERE project_id = ?1 AND task_id = ?2 AND item_id = ?3",
        params![
            project,
            task_id,
            item_id,
            content.to_string(),
            iso_from_ms(now_ms())
        ],
    )?;
    touch_task(connection, project, task_id)
}

/// The content of one message, for the engine's in-place updates.
pub(crate) fn message_content(
    connection: &Connection,
    item_id: &str,
) -> rusqlite::Result<Option<serde_json::Value>> {
    let text: Option<String> = connection
        .query_row(
            "SELECT content FROM messages WHERE item_id = ?1",
            [item_id],
            |row| row.get(0),
        )
        .optional()?;
    text.map(|text| parse_content(&text, 0)).transpose()
}

fn touch_task(connection: &Connection, project: &str, task_id: &str) -> rusqlite::Result<()> {
    connection.execute(
        "UPDATE tasks SET update_date = ?3 WHERE project_id = ?1 AND id = ?2",
        params![project, task_id, iso_from_ms(now_ms())],
    )?;
    Ok(())
}

fn parse_content(text: &str, column: usize) -> rusqlite::Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(
            column,
            rusqlite::types::Type::Text,
            format!("message content is not JSON: {error}").into(),
        )
    })
}

/// Every message of a task, oldest first (the caller has checked the task's scope).
pub(crate) fn messages_oldest_first(
    connection: &Connection,
    project: &str,
    task_id: &str,
) -> rusqlite::Result<Vec<MessageRecord>> {
    let mut statement = connection.prepare_cached(
        "SELECT item_id, insert_date_, content FROM messages
         WHERE project_id = ?1 AND task_id = ?2 ORDER BY seq",
    )?;
    let rows = statement.query_map(params![project, task_id], |row| {
        Ok(MessageRecord {
            item_id: row.get(0)?,
            insert_date: row.get(1)?,
            content: parse_content(&row.get::<_, String>(2)?, 2)?,
        })
    })?;
    rows.collect()
}

/// The newest `limit` messages of a task inserted at or after `after_ms`, newest first.
/// The caller has already checked the task is in its scope.
pub(crate) fn list_messages(
    connection: &Connection,
    project: &str,
    task_id: &str,
    after_ms: Option<i64>,
    limit: i64,
) -> rusqlite::Result<Vec<MessageRecord>> {
    let mut statement = connection.prepare_cached(
        "SELECT item_id, insert_date_, content FROM messages
         WHERE project_id = ?1 AND task_id = ?2 AND (?3 IS NULL OR insert_ms >= ?3)
         ORDER BY seq DESC LIMIT ?4",
    )?;
    let rows = statement.query_map(params![project, task_id, after_ms, limit], |row| {
        Ok(MessageRecord {
            item_id: row.get(0)?,
            insert_date: row.get(1)?,
            content: parse_content(&row.get::<_, String>(2)?, 2)?,
        })
    })?;
    rows.collect()
}

/// A message of a task by id, with its position: `(seq, content)`.
pub(crate) fn find_message(
    connection: &Connection,
    project: &str,
    task_id: &str,
    item_id: &str,
) -> rusqlite::Result<Option<(i64, serde_json::Value)>> {
    let found: Option<(i64, String)> = connection
        .query_row(
            "SELECT seq, content FROM messages
             WHERE project_id = ?1 AND task_id = ?2 AND item_id = ?3",
            params![project, task_id, item_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    found
        .map(|(seq, text)| Ok((seq, parse_content(&text, 1)?)))
        .transpose()
}

/// Removes every message of a task that came after position `seq` (a rerun replaces them).
pub(crate) fn delete_messages_after(
    connection: &Connection,
    project: &str,
    task_id: &str,
    seq: i64,
) -> rusqlite::Result<()> {
    connection.execute(
        "DELETE FROM messages WHERE project_id = ?1 AND task_id = ?2 AND seq > ?3",
        params![project, task_id, seq],
    )?;
    Ok(())
}

/// Removes a task and its messages (the caller removed its runs first).
pub(crate) fn delete_task(
    connection: &Connection,
    project: &str,
    task_id: &str,
) -> rusqlite::Result<()> {
    connection.execute(
        "DELETE FROM messages WHERE project_id = ?1 AND task_id = ?2",
        params![project, task_id],
    )?;
    connection.execute(
        "DELETE FROM tasks WHERE project_id = ?1 AND id = ?2",
        params![project, task_id],
    )?;
    Ok(())
}
