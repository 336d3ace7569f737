//! Workforce tasks: rows of `tasks` that carry a `workforce_id`.
//!
//! They share the `tasks` table with agent tasks so that messages, states and
//! the engine's runs work the same for both, but every query here is limited
//! to workforce tasks and every agent-task query (`store::tasks`) excludes
//! them. Every read that takes a task id also takes a [`WorkforceTaskScope`],
//! so a workforce embed key never loads another prefix's task.

use rusqlite::{named_params, params, Connection, OptionalExtension};

use super::tasks::{self, MessageRecord};

/// Which workforce tasks a caller may see inside its project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WorkforceTaskScope {
    /// Every workforce task of the project (an API key).
    Project,
    /// Only tasks of `workforce_id` created with `task_prefix` (a workforce embed key).
    Prefixed {
        workforce_id: String,
        task_prefix: String,
    },
    /// None (an agent embed key).
    Nothing,
}

impl WorkforceTaskScope {
    /// `(workforce_id, task_prefix)` bound into the queries; `None` when nothing is visible.
    fn binds(&self) -> Option<(Option<&str>, Option<&str>)> {
        match self {
            WorkforceTaskScope::Project => Some((None, None)),
            WorkforceTaskScope::Prefixed {
                workforce_id,
                task_prefix,
            } => Some((Some(workforce_id), Some(task_prefix))),
            WorkforceTaskScope::Nothing => None,
        }
    }
}

/// A workforce task row; `seq` is its SQLite rowid, the tie-breaker of keyset paging.
#[derive(Debug, Clone)]
pub(crate) struct WorkforceTaskRecord {
    pub(crate) seq: i64,
    pub(crate) project: String,
    pub(crate) id: String,
    pub(crate) workforce_id: String,
    pub(crate) created_by_key_id: String,
    pub(crate) title: String,
    pub(crate) state: String,
    pub(crate) insert_date: String,
    pub(crate) update_date: String,
}

const COLUMNS: &str = "rowid, project_id, id, workforce_id, created_by_key_id, title, state, \
                       insert_date, update_date";

const SCOPE_CONDITION: &str = "workforce_id IS NOT NULL \
     AND (:workforce IS NULL OR (workforce_id = :workforce AND task_prefix = :prefix))";

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<WorkforceTaskRecord> {
    Ok(WorkforceTaskRecord {
        seq: row.get(0)?,
        project: row.get(1)?,
        id: row.get(2)?,
        workforce_id: row.get(3)?,
        created_by_key_id: row.get(4)?,
        title: row.get(5)?,
        state: row.get(6)?,
        insert_date: row.get(7)?,
        update_date: row.get(8)?,
    })
}

/// One workforce task of `project`, if `scope` lets the caller see it.
pub(crate) fn find(
    connection: &Connection,
    project: &str,
    scope: &WorkforceTaskScope,
    task_id: &str,
) -> rusqlite::Result<Option<WorkforceTaskRecord>> {
    let Some((workforce, prefix)) = scope.binds() else {
        return Ok(None);
    };
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM tasks
         WHERE project_id = :project AND id = :task AND {SCOPE_CONDITION}"
    ))?;
    statement
        .query_row(
            named_params! {
                ":project": project, ":task": task_id, ":workforce": workforce, ":prefix": prefix,
            },
            from_row,
        )
        .optional()
}

/// Where a page starts: strictly older than this `(insert_date, seq)` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PageKey {
    pub(crate) insert_date: String,
    pub(crate) seq: i64,
}

/// Up to `limit` visible tasks of `workforce_id` whose title contains `needle` (already
/// lower-cased), newest first, strictly after `after` in that order.
///
/// Keyset paging on `(insert_date, rowid)` descending: a task created while a client pages
/// is newer than every key it holds, so it never shifts the pages still to come.
pub(crate) fn page(
    connection: &Connection,
    project: &str,
    scope: &WorkforceTaskScope,
    workforce_id: &str,
    needle: Option<&str>,
    after: Option<&PageKey>,
    limit: usize,
) -> rusqlite::Result<Vec<WorkforceTaskRecord>> {
    let Some((workforce, prefix)) = scope.binds() else {
        return Ok(Vec::new());
    };
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM tasks
         WHERE project_id = :project AND workforce_id = :listed AND {SCOPE_CONDITION}
           AND (:after_date IS NULL OR insert_date < :after_date
                OR (insert_date = :after_date AND rowid < :after_seq))
         ORDER BY insert_date DESC, rowid DESC"
    ))?;
    let rows = statement.query_map(
        named_params! {
            ":project": project,
            ":listed": workforce_id,
            ":workforce": workforce,
            ":prefix": prefix,
            ":after_date": after.map(|key| key.insert_date.as_str()),
            ":after_seq": after.map(|key| key.seq),
        },
        from_row,
    )?;
    // The title search is Unicode-aware (SQLite's LIKE only folds ASCII), so it runs here;
    // rows are read lazily and reading stops once the page is full.
    let mut found = Vec::new();
    for row in rows {
        let task = row?;
        if needle.map_or(true, |needle| task.title.to_lowercase().contains(needle)) {
            found.push(task);
            if found.len() >= limit {
                break;
            }
        }
    }
    Ok(found)
}

/// A new workforce task to store.
#[derive(Debug, Clone)]
pub(crate) struct NewWorkforceTask<'a> {
    pub(crate) project: &'a str,
    pub(crate) id: &'a str,
    pub(crate) workforce_id: &'a str,
    pub(crate) created_by_key_id: &'a str,
    pub(crate) task_prefix: Option<&'a str>,
    pub(crate) title: &'a str,
    pub(crate) state: &'a str,
    pub(crate) date: &'a str,
}

/// Stores a new workforce task (its `agent_id` is empty: it is no agent's task).
pub(crate) fn insert(connection: &Connection, task: &NewWorkforceTask<'_>) -> rusqlite::Result<()> {
    connection.execute(
        "INSERT INTO tasks (project_id, id, agent_id, created_by_key_id, task_prefix, title,
                            state, insert_date, update_date, workforce_id)
         VALUES (?1, ?2, '', ?3, ?4, ?5, ?6, ?7, ?7, ?8)",
        params![
            task.project,
            task.id,
            task.created_by_key_id,
            task.task_prefix,
            task.title,
            task.state,
            task.date,
            task.workforce_id
        ],
    )?;
    Ok(())
}

/// A workforce task's messages, oldest first, at most `limit`: its own (user messages,
/// member runs, handovers), each member run followed by what that member wrote in its own
/// agent task (everything but the member's user message).
///
/// Merged on read rather than copied, so a member's in-place update (typed text growing,
/// a tool run finishing) shows in both tasks with the same `item_id`.
pub(crate) fn merged_messages(
    connection: &Connection,
    project: &str,
    task_id: &str,
    limit: usize,
) -> rusqlite::Result<Vec<MessageRecord>> {
    let mut merged = Vec::new();
    for message in tasks::messages_oldest_first(connection, project, task_id)? {
        let member_task = (message.content["type"] == "workforce-agent-run")
            .then(|| message.content["task_details"]["conversation_id"].as_str())
            .flatten()
            .map(str::to_string);
        merged.push(message);
        if let Some(member_task) = member_task {
            merged.extend(
                tasks::messages_oldest_first(connection, project, &member_task)?
                    .into_iter()
                    .filter(|member| member.content["type"] != "user-message"),
            );
        }
        if merged.len() >= limit {
            break;
        }
    }
    merged.truncate(limit);
    Ok(merged)
}
