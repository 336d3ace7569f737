//! The engine's pending runs: one row per triggered run until it ends.
//!
//! A row holds the run's program (its steps, resolved when it was triggered),
//! where it is in that program, and when its next step is due, so a restarted
//! emulator picks up exactly where the previous one stopped.

use rusqlite::types::Type;
use rusqlite::{params, Connection, OptionalExtension};

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunStatus {
    /// Waiting for an earlier run of the same task to end.
    Queued,
    /// Its next step runs at `due_at_ms`.
    Due,
    /// Paused by an `approval` step until the next trigger on the task.
    AwaitingApproval,
    /// Waiting for the sub-agent task it started to end.
    AwaitingSubAgent,
}

impl RunStatus {
    fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Due => "due",
            RunStatus::AwaitingApproval => "awaiting-approval",
            RunStatus::AwaitingSubAgent => "awaiting-sub-agent",
        }
    }

    fn from_column(value: &str, column: usize) -> rusqlite::Result<RunStatus> {
        match value {
            "queued" => Ok(RunStatus::Queued),
            "due" => Ok(RunStatus::Due),
            "awaiting-approval" => Ok(RunStatus::AwaitingApproval),
            "awaiting-sub-agent" => Ok(RunStatus::AwaitingSubAgent),
            other => Err(rusqlite::Error::FromSqlConversionFailure(
                column,
                Type::Text,
                format!("unknown run status {other:?} in table runs").into(),
            )),
        }
    }
}

/// A run row. `program` and `progress` are JSON owned by the engine.
#[derive(Debug, Clone)]
pub(crate) struct RunRecord {
    pub(crate) id: i64,
    pub(crate) project: String,
    pub(crate) task_id: String,
    pub(crate) program: String,
    pub(crate) end_state: String,
    pub(crate) chunk_delay_ms: i64,
    pub(crate) step_index: i64,
    pub(crate) phase: i64,
    pub(crate) progress: String,
    pub(crate) status: RunStatus,
    pub(crate) due_at_ms: Option<i64>,
    pub(crate) parent_run_id: Option<i64>,
    /// Whether the run publishes thinking and typing (PROTOCOL A8b), decided when it was
    /// triggered and stored, so a queued run and a restarted emulator keep the decision.
    pub(crate) streams: bool,
}

const RUN_COLUMNS: &str = "id, project_id, task_id, program, end_state, chunk_delay_ms, \
                           step_index, phase, progress, status, due_at_ms, parent_run_id, \
                           streams";

fn run_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RunRecord> {
    Ok(RunRecord {
        id: row.get(0)?,
        project: row.get(1)?,
        task_id: row.get(2)?,
        program: row.get(3)?,
        end_state: row.get(4)?,
        chunk_delay_ms: row.get(5)?,
        step_index: row.get(6)?,
        phase: row.get(7)?,
        progress: row.get(8)?,
        status: RunStatus::from_column(&row.get::<_, String>(9)?, 9)?,
        due_at_ms: row.get(10)?,
        parent_run_id: row.get(11)?,
        streams: row.get(12)?,
    })
}

/// Stores a new run (its `id` is ignored) and answers its id.
pub(crate) fn insert(connection: &Connection, run: &RunRecord) -> rusqlite::Result<i64> {
    connection.execute(
        "INSERT INTO runs (project_id, task_id, program, end_state, chunk_delay_ms, step_index,
                           phase, progress, status, due_at_ms, parent_run_id, streams)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            run.project,
            run.task_id,
            run.program,
            run.end_state,
            run.chunk_delay_ms,
            run.step_index,
            run.phase,
            run.progress,
            run.status.as_str(),
            run.due_at_ms,
            run.parent_run_id,
            run.streams
        ],
    )?;
    Ok(connection.last_insert_rowid())
}

/// Saves where a run stands (and whether it streams: a resumed run takes its resumer's).
pub(crate) fn save(connection: &Connection, run: &RunRecord) -> rusqlite::Result<()> {
    connection.execute(
        "UPDATE runs SET step_index = ?2, phase = ?3, progress = ?4, status = ?5, due_at_ms = ?6,
                         streams = ?7
         WHERE id = ?1",
        params![
            run.id,
            run.step_index,
            run.phase,
            run.progress,
            run.status.as_str(),
            run.due_at_ms,
            run.streams
        ],
    )?;
    Ok(())
}

/// Removes an ended run.
pub(crate) fn delete(connection: &Connection, id: i64) -> rusqlite::Result<()> {
    connection.execute("DELETE FROM runs WHERE id = ?1", [id])?;
    Ok(())
}

/// A run by id.
pub(crate) fn find(connection: &Connection, id: i64) -> rusqlite::Result<Option<RunRecord>> {
    connection
        .query_row(
            &format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"),
            [id],
            run_from_row,
        )
        .optional()
}

/// The oldest run of a task (the one going or paused; later ones are queued behind it).
pub(crate) fn current_for_task(
    connection: &Connection,
    project: &str,
    task_id: &str,
) -> rusqlite::Result<Option<RunRecord>> {
    connection
        .query_row(
            &format!(
                "SELECT {RUN_COLUMNS} FROM runs WHERE project_id = ?1 AND task_id = ?2
                 ORDER BY id LIMIT 1"
            ),
            params![project, task_id],
            run_from_row,
        )
        .optional()
}

/// The earliest due time of any run.
pub(crate) fn next_due(connection: &Connection) -> rusqlite::Result<Option<i64>> {
    connection.query_row(
        "SELECT MIN(due_at_ms) FROM runs WHERE status = 'due'",
        [],
        |row| row.get(0),
    )
}

/// The run due soonest, if it is due by `now_ms`.
pub(crate) fn first_due(
    connection: &Connection,
    now_ms: i64,
) -> rusqlite::Result<Option<RunRecord>> {
    connection
        .query_row(
            &format!(
                "SELECT {RUN_COLUMNS} FROM runs WHERE status = 'due' AND due_at_ms <= ?1
                 ORDER BY due_at_ms, id LIMIT 1"
            ),
            [now_ms],
            run_from_row,
        )
        .optional()
}

/// The next run queued behind `after_id` on the same task.
pub(crate) fn next_queued(
    connection: &Connection,
    project: &str,
    task_id: &str,
    after_id: i64,
) -> rusqlite::Result<Option<RunRecord>> {
    connection
        .query_row(
            &format!(
                "SELECT {RUN_COLUMNS} FROM runs
                 WHERE project_id = ?1 AND task_id = ?2 AND id > ?3 AND status = 'queued'
                 ORDER BY id LIMIT 1"
            ),
            params![project, task_id, after_id],
            run_from_row,
        )
        .optional()
}

/// Removes every run of a task (a rerun starts over, a deleted task runs no more) and
/// answers the parent runs that waited on them, so the caller can let those go on.
pub(crate) fn delete_for_task(
    connection: &Connection,
    project: &str,
    task_id: &str,
) -> rusqlite::Result<Vec<i64>> {
    let parents: Vec<i64> = {
        let mut statement = connection.prepare(
            "SELECT parent_run_id FROM runs
             WHERE project_id = ?1 AND task_id = ?2 AND parent_run_id IS NOT NULL",
        )?;
        let rows = statement.query_map(params![project, task_id], |row| row.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    connection.execute(
        "DELETE FROM runs WHERE project_id = ?1 AND task_id = ?2",
        params![project, task_id],
    )?;
    Ok(parents)
}
