//! Jobs (PROTOCOL A15) and their numbered updates.
//!
//! A job is one tool run started with `trigger_async`, or one run of an agent (the
//! `job_info` of a trigger answer). Its updates are append-only and numbered from 1 per
//! job: the number is the poll's `last_message_id`. A job ends once: every write that ends
//! it is guarded by `state = 'inprogress'`, so a cancel racing the run's own end leaves
//! exactly one final update.

use rusqlite::types::Type;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobState {
    InProgress,
    Complete,
    Failed,
    Cancelled,
}

impl JobState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            JobState::InProgress => "inprogress",
            JobState::Complete => "complete",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    fn from_column(value: &str, column: usize) -> rusqlite::Result<JobState> {
        match value {
            "inprogress" => Ok(JobState::InProgress),
            "complete" => Ok(JobState::Complete),
            "failed" => Ok(JobState::Failed),
            "cancelled" => Ok(JobState::Cancelled),
            other => Err(rusqlite::Error::FromSqlConversionFailure(
                column,
                Type::Text,
                format!("unknown job state {other:?} in table jobs").into(),
            )),
        }
    }
}

/// What kind of run a job follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobKind {
    Tool,
    Agent,
}

impl JobKind {
    fn as_str(self) -> &'static str {
        match self {
            JobKind::Tool => "tool",
            JobKind::Agent => "agent",
        }
    }
}

/// A job row.
#[derive(Debug, Clone)]
pub(crate) struct JobRecord {
    pub(crate) project: String,
    pub(crate) id: String,
    /// The tool's id, or the agent's for an agent's run.
    pub(crate) studio_id: String,
    pub(crate) kind: JobKind,
    pub(crate) task_id: Option<String>,
    pub(crate) run_id: Option<i64>,
    pub(crate) state: JobState,
    /// A tool job's params (JSON).
    pub(crate) params: Option<String>,
    pub(crate) insert_ms: i64,
    pub(crate) ended_ms: Option<i64>,
}

const JOB_COLUMNS: &str =
    "project_id, id, studio_id, kind, task_id, run_id, state, params, insert_ms, ended_ms";

fn job_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<JobRecord> {
    let kind: String = row.get(3)?;
    Ok(JobRecord {
        project: row.get(0)?,
        id: row.get(1)?,
        studio_id: row.get(2)?,
        kind: if kind == "agent" {
            JobKind::Agent
        } else {
            JobKind::Tool
        },
        task_id: row.get(4)?,
        run_id: row.get(5)?,
        state: JobState::from_column(&row.get::<_, String>(6)?, 6)?,
        params: row.get(7)?,
        insert_ms: row.get(8)?,
        ended_ms: row.get(9)?,
    })
}

/// Stores a new job (in progress, no updates yet).
pub(crate) fn insert(connection: &Connection, job: &JobRecord) -> rusqlite::Result<()> {
    connection.execute(
        &format!(
            "INSERT INTO jobs ({JOB_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        ),
        params![
            job.project,
            job.id,
            job.studio_id,
            job.kind.as_str(),
            job.task_id,
            job.run_id,
            job.state.as_str(),
            job.params,
            job.insert_ms,
            job.ended_ms
        ],
    )?;
    Ok(())
}

/// The job `id` of `project`, if any.
pub(crate) fn find(
    connection: &Connection,
    project: &str,
    id: &str,
) -> rusqlite::Result<Option<JobRecord>> {
    connection
        .query_row(
            &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE project_id = ?1 AND id = ?2"),
            params![project, id],
            job_from_row,
        )
        .optional()
}

/// Appends an update to a job that is still in progress; answers its number, or `None`
/// when the job has ended (nothing is written then).
pub(crate) fn append(
    connection: &Connection,
    project: &str,
    job_id: &str,
    body: &Value,
) -> rusqlite::Result<Option<i64>> {
    let open: bool = connection.query_row(
        "SELECT EXISTS (SELECT 1 FROM jobs WHERE project_id = ?1 AND id = ?2 AND state = 'inprogress')",
        params![project, job_id],
        |row| row.get(0),
    )?;
    if !open {
        return Ok(None);
    }
    push_update(connection, project, job_id, body).map(Some)
}

fn push_update(
    connection: &Connection,
    project: &str,
    job_id: &str,
    body: &Value,
) -> rusqlite::Result<i64> {
    let seq: i64 = connection.query_row(
        "SELECT ifnull(max(seq), 0) + 1 FROM job_updates WHERE project_id = ?1 AND job_id = ?2",
        params![project, job_id],
        |row| row.get(0),
    )?;
    connection.execute(
        "INSERT INTO job_updates (project_id, job_id, seq, body) VALUES (?1, ?2, ?3, ?4)",
        params![project, job_id, seq, body.to_string()],
    )?;
    Ok(seq)
}

/// Ends a job that is still in progress with its final update; answers whether it did
/// (a job that had ended already keeps its end).
pub(crate) fn end(
    connection: &Connection,
    project: &str,
    job_id: &str,
    state: JobState,
    final_update: &Value,
    now_ms: i64,
) -> rusqlite::Result<bool> {
    let changed = connection.execute(
        "UPDATE jobs SET state = ?3, ended_ms = ?4
         WHERE project_id = ?1 AND id = ?2 AND state = 'inprogress'",
        params![project, job_id, state.as_str(), now_ms],
    )?;
    if changed == 0 {
        return Ok(false);
    }
    push_update(connection, project, job_id, final_update)?;
    Ok(true)
}

/// A job's updates after number `after`, at most `limit`, oldest first: `(number, body)`.
pub(crate) fn updates(
    connection: &Connection,
    project: &str,
    job_id: &str,
    after: i64,
    limit: i64,
) -> rusqlite::Result<Vec<(i64, Value)>> {
    let mut statement = connection.prepare_cached(
        "SELECT seq, body FROM job_updates
         WHERE project_id = ?1 AND job_id = ?2 AND seq > ?3 ORDER BY seq LIMIT ?4",
    )?;
    let rows = statement.query_map(params![project, job_id, after, limit], |row| {
        let text: String = row.get(1)?;
        let body = serde_json::from_str(&text).map_err(|error| {
            rusqlite::Error::FromSqlConversionFailure(1, Type::Text, Box::new(error))
        })?;
        Ok((row.get(0)?, body))
    })?;
    rows.collect()
}

/// The number of a job's newest update (0 when it has none).
pub(crate) fn last_update(
    connection: &Connection,
    project: &str,
    job_id: &str,
) -> rusqlite::Result<i64> {
    connection.query_row(
        "SELECT ifnull(max(seq), 0) FROM job_updates WHERE project_id = ?1 AND job_id = ?2",
        params![project, job_id],
        |row| row.get(0),
    )
}

/// What an agent job is bound to: one run of an agent, or its task.
#[derive(Debug, Clone, Copy)]
pub(crate) enum JobLink<'a> {
    Run(i64),
    Task(&'a str),
}

/// The agent jobs of `project` still open on `link` (a run, or a task).
pub(crate) fn open_for(
    connection: &Connection,
    project: &str,
    link: JobLink<'_>,
) -> rusqlite::Result<Vec<JobRecord>> {
    let column = match link {
        JobLink::Run(_) => "run_id",
        JobLink::Task(_) => "task_id",
    };
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs
         WHERE project_id = ?1 AND {column} = ?2 AND state = 'inprogress'"
    ))?;
    let rows = match link {
        JobLink::Run(run_id) => statement.query_map(params![project, run_id], job_from_row)?,
        JobLink::Task(task_id) => statement.query_map(params![project, task_id], job_from_row)?,
    };
    rows.collect()
}

/// Every tool job still in progress (at start-up: none of them is running any more).
pub(crate) fn open_tool_jobs(connection: &Connection) -> rusqlite::Result<Vec<JobRecord>> {
    let mut statement = connection.prepare(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE kind = 'tool' AND state = 'inprogress'"
    ))?;
    let rows = statement.query_map([], job_from_row)?;
    rows.collect()
}

/// A tool's newest jobs, newest first, each with its newest update (the dashboard).
pub(crate) fn recent_for_tool(
    connection: &Connection,
    project: &str,
    tool_id: &str,
    limit: i64,
) -> rusqlite::Result<Vec<(JobRecord, Option<Value>)>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {JOB_COLUMNS} FROM jobs
         WHERE project_id = ?1 AND studio_id = ?2 AND kind = 'tool'
         ORDER BY insert_ms DESC, id LIMIT ?3"
    ))?;
    let rows = statement.query_map(params![project, tool_id, limit], job_from_row)?;
    let jobs: Vec<JobRecord> = rows.collect::<rusqlite::Result<_>>()?;
    jobs.into_iter()
        .map(|job| {
            let last = last_update(connection, project, &job.id)?;
            let body = updates(connection, project, &job.id, last - 1, 1)?
                .into_iter()
                .next()
                .map(|(_, body)| body);
            Ok((job, body))
        })
        .collect()
}

/// Removes the jobs (and their updates) that ended before `before_ms`: results are kept
/// for a while, not forever.
pub(crate) fn delete_ended_before(
    connection: &Connection,
    before_ms: i64,
) -> rusqlite::Result<usize> {
    connection.execute(
        "DELETE FROM job_updates WHERE (project_id, job_id) IN
           (SELECT project_id, id FROM jobs WHERE ended_ms IS NOT NULL AND ended_ms < ?1)",
        [before_ms],
    )?;
    connection.execute(
        "DELETE FROM jobs WHERE ended_ms IS NOT NULL AND ended_ms < ?1",
        [before_ms],
    )
}

/// How many jobs of `project` are in progress (the per-project limit).
pub(crate) fn count_open(connection: &Connection, project: &str) -> rusqlite::Result<i64> {
    connection.query_row(
        "SELECT count(*) FROM jobs WHERE project_id = ?1 AND state = 'inprogress'",
        [project],
        |row| row.get(0),
    )
}
