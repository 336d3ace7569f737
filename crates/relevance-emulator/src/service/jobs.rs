//! Jobs (PROTOCOL A15): start a tool as a job, poll any job (a tool's or an agent run's)
//! with a long poll, cancel a tool's job.
//!
//! A tool job runs on its own tokio task: the tool's outcome is decided at once (the same
//! `engine::tool_runner` as `trigger_limited` and agents' tool steps), then its behaviour's
//! delay passes with an `emulator-progress` update every second (the emulator's own update
//! type: the platform's are not published), then the job ends with `chain-success`
//! (`output.output` = the tool's output) or `chain-failed` (`errors`). Every change is
//! committed first, then the job's pollers are woken. Job ids a client chooses are honoured:
//! a second start with the id of a job of the same tool answers that job and starts
//! nothing, so a start is safe to retry.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::time::Instant;

use super::tools::{self as tool_service, ToolServiceError};
use crate::auth::Principal;
use crate::engine::agent_jobs;
use crate::engine::new_item_id;
use crate::engine::tool_runner::{self, ToolBehavior, ToolOutcome, ToolStatus};
use crate::state::AppState;
use crate::store::jobs::{self, JobKind, JobRecord, JobState};
use crate::store::{CallerError, Db, StoreError};
use crate::time::now_ms;

/// How often a running tool job says how far it is.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Why a job use case did not happen.
#[derive(Debug)]
pub(crate) enum JobError {
    /// No such job (of this tool) in the caller's project: absent and another project's
    /// look the same.
    NotFound { job_id: String },
    /// The tool to start does not exist.
    Tool(ToolServiceError),
    /// The chosen job id belongs to a job of another tool.
    IdTaken { job_id: String },
    /// The project has as many jobs in progress as it may.
    TooMany { limit: i64 },
    /// An agent's job follows its run and cannot be cancelled on its own.
    AgentJob { job_id: String },
    /// The database failed.
    Store(StoreError),
}

impl From<StoreError> for JobError {
    fn from(error: StoreError) -> JobError {
        JobError::Store(error)
    }
}

impl From<rusqlite::Error> for JobError {
    fn from(error: rusqlite::Error) -> JobError {
        JobError::Store(error.into())
    }
}

impl CallerError for JobError {}

/// What a poll asks for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PollRequest {
    /// Only updates numbered after this.
    pub(crate) after: i64,
    /// Only the final update (none while the job runs).
    pub(crate) ending_only: bool,
    /// At most this many updates.
    pub(crate) page_size: i64,
}

/// What a poll answers: the job's state, the updates asked for, the newest number, and
/// whether the wait ran out with nothing new.
#[derive(Debug, Clone)]
pub(crate) struct Polled {
    pub(crate) state: JobState,
    pub(crate) updates: Vec<Value>,
    pub(crate) last_message_id: i64,
    pub(crate) timed_out: bool,
}

/// Starts tool `tool_id` on `params` as a job (id `job_id` when the caller chose one).
pub(crate) async fn start_tool(
    state: &AppState,
    principal: &Principal,
    tool_id: &str,
    params: Value,
    job_id: Option<String>,
) -> Result<JobRecord, JobError> {
    let tool = tool_service::get(state, principal, tool_id)
        .await
        .map_err(JobError::Tool)?;
    let behavior = ToolBehavior::from_json(&tool.behavior);
    let outcome = tool_runner::run(&tool_service::params_schema(&tool), &behavior, &params);
    let job = JobRecord {
        project: principal.project.clone(),
        id: job_id.unwrap_or_else(new_item_id),
        studio_id: tool.id.clone(),
        kind: JobKind::Tool,
        task_id: None,
        run_id: None,
        state: JobState::InProgress,
        params: Some(params.to_string()),
        insert_ms: now_ms(),
        ended_ms: None,
    };
    let (job, is_new) = insert_once(state, job).await?;
    if is_new {
        let runner = tokio::spawn(run_tool_job(state.clone(), job.clone(), outcome));
        state
            .jobs()
            .started(&job.project, &job.id, runner.abort_handle());
    }
    Ok(job)
}

/// Stores `job` unless a job with its id exists: answers the stored job and whether it
/// is the new one. Old results past their retention are swept here, in the same call.
async fn insert_once(state: &AppState, job: JobRecord) -> Result<(JobRecord, bool), JobError> {
    let limit = state.settings().max_open_jobs;
    let retention = state.settings().job_retention_ms;
    state
        .store()
        .call(move |db| -> Result<(JobRecord, bool), JobError> {
            let transaction = db.transaction()?;
            jobs::delete_ended_before(&transaction, now_ms().saturating_sub(retention))?;
            if let Some(existing) = jobs::find(&transaction, &job.project, &job.id)? {
                transaction.commit()?;
                if existing.studio_id == job.studio_id && existing.kind == JobKind::Tool {
                    return Ok((existing, false));
                }
                return Err(JobError::IdTaken { job_id: job.id });
            }
            if jobs::count_open(&transaction, &job.project)? >= limit {
                return Err(JobError::TooMany { limit });
            }
            jobs::insert(&transaction, &job)?;
            transaction.commit()?;
            Ok((job, true))
        })
        .await
}

/// Runs a tool job to its end: progress while the behaviour's delay passes, then the
/// outcome. Stopped early (aborted) by a cancel or by shutdown.
async fn run_tool_job(state: AppState, job: JobRecord, outcome: ToolOutcome) {
    let started = Instant::now();
    let expected = Duration::from_millis(outcome.delay_ms);
    loop {
        let elapsed = started.elapsed().min(expected);
        let progress = json!({"type": "emulator-progress", "elapsed_ms": elapsed.as_millis() as u64,
                              "expected_ms": outcome.delay_ms});
        if !append(&state, &job, progress).await {
            return;
        }
        if elapsed >= expected {
            break;
        }
        tokio::time::sleep(PROGRESS_EVERY.min(expected - elapsed)).await;
    }
    let execution_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (job_state, update) = final_update(&outcome, execution_ms);
    let (project, job_id) = (job.project.clone(), job.id.clone());
    let ended = state
        .store()
        .call(move |db| jobs::end(db, &project, &job_id, job_state, &update, now_ms()))
        .await;
    if let Err(error) = ended {
        tracing::error!(%error, job = %job.id, "a tool job's end could not be stored");
    }
    state.jobs().ended(&job.project, &job.id);
    state.jobs().moved(&job.project, &job.id);
}

/// Appends an update to a running job and wakes its pollers; `false` when the job has
/// ended meanwhile (cancelled) or the store failed, so the runner stops.
async fn append(state: &AppState, job: &JobRecord, update: Value) -> bool {
    let (project, job_id) = (job.project.clone(), job.id.clone());
    let appended = state
        .store()
        .call(move |db| jobs::append(db, &project, &job_id, &update))
        .await;
    match appended {
        Ok(Some(_)) => {
            state.jobs().moved(&job.project, &job.id);
            true
        }
        Ok(None) => false,
        Err(error) => {
            tracing::error!(%error, job = %job.id, "a tool job's progress could not be stored");
            false
        }
    }
}

/// The job's end for a tool's outcome: `chain-success` with the output, or `chain-failed`.
fn final_update(outcome: &ToolOutcome, execution_ms: f64) -> (JobState, Value) {
    let errors: Vec<Value> = outcome
        .errors
        .iter()
        .map(|body| json!({ "body": body }))
        .collect();
    match outcome.status {
        ToolStatus::Complete => (
            JobState::Complete,
            json!({"type": "chain-success", "output": {"output": outcome.output,
                   "status": "complete", "executionTime": execution_ms, "credits_used": [],
                   "cost": 0}}),
        ),
        ToolStatus::Failed => (
            JobState::Failed,
            json!({"type": "chain-failed", "errors": errors,
                   "output": {"status": "failed", "executionTime": execution_ms}}),
        ),
    }
}

/// Polls job `job_id` of `studio_id`: the updates asked for at once when there are any
/// (or the job has ended), else waits up to `Config::job_poll_wait_ms` for it to move.
pub(crate) async fn poll(
    state: &AppState,
    principal: &Principal,
    studio_id: &str,
    job_id: &str,
    request: PollRequest,
) -> Result<Polled, JobError> {
    let deadline = Instant::now() + Duration::from_millis(state.settings().job_poll_wait_ms);
    let mut closing = state.streams_closing();
    loop {
        // Subscribed before reading: a change committed between the read and the wait
        // still wakes this poll.
        let mut tool_moved = state.jobs().watch(&principal.project, job_id);
        let (job, polled) = read(state, principal, studio_id, job_id, request).await?;
        let mut task_moved = job
            .task_id
            .as_deref()
            .map(|task| state.engine().subscribe(&principal.project, task));
        let answered = !polled.updates.is_empty() || polled.state != JobState::InProgress;
        if answered || Instant::now() >= deadline || *closing.borrow() {
            let timed_out = !answered;
            return Ok(Polled {
                timed_out,
                ..polled
            });
        }
        tokio::select! {
            _ = tool_moved.changed() => {}
            _ = async {
                match task_moved.as_mut() {
                    Some(events) => { let _ = events.recv().await; }
                    None => std::future::pending::<()>().await,
                }
            } => {}
            _ = tokio::time::sleep_until(deadline) => {}
            _ = closing.changed() => {}
        }
    }
}

/// One read of a job and its updates, as `request` asks.
async fn read(
    state: &AppState,
    principal: &Principal,
    studio_id: &str,
    job_id: &str,
    request: PollRequest,
) -> Result<(JobRecord, Polled), JobError> {
    let (project, lookup, studio) = (
        principal.project.clone(),
        job_id.to_string(),
        studio_id.to_string(),
    );
    let found = state
        .store()
        .call(move |db| read_in(db, &project, &studio, &lookup, request))
        .await?;
    found.ok_or_else(|| JobError::NotFound {
        job_id: job_id.to_string(),
    })
}

fn read_in(
    db: &Db,
    project: &str,
    studio_id: &str,
    job_id: &str,
    request: PollRequest,
) -> rusqlite::Result<Option<(JobRecord, Polled)>> {
    let Some(job) = jobs::find(db, project, job_id)?.filter(|job| job.studio_id == studio_id)
    else {
        return Ok(None);
    };
    let last = jobs::last_update(db, project, job_id)?;
    let ended = job.state != JobState::InProgress;
    let updates = if request.ending_only {
        // Only the final update, and only once the job has ended.
        match ended && last > request.after {
            true => jobs::updates(db, project, job_id, last - 1, 1)?,
            false => Vec::new(),
        }
    } else {
        jobs::updates(db, project, job_id, request.after, request.page_size)?
    };
    let last_message_id = updates.last().map_or(last, |(number, _)| *number);
    let polled = Polled {
        state: job.state,
        updates: updates.into_iter().map(|(_, body)| body).collect(),
        last_message_id,
        timed_out: false,
    };
    Ok(Some((job, polled)))
}

/// Cancels tool job `job_id` (`studios/{job_id}/cancel`): a running job stops and ends
/// `cancelled` (polled as `failed`, its last update `chain-failed` with `cancelled: true`);
/// an ended job keeps its end.
pub(crate) async fn cancel(
    state: &AppState,
    principal: &Principal,
    job_id: &str,
) -> Result<(), JobError> {
    let (project, lookup) = (principal.project.clone(), job_id.to_string());
    let found = state
        .store()
        .call(move |db| jobs::find(db, &project, &lookup))
        .await?
        .ok_or_else(|| JobError::NotFound {
            job_id: job_id.to_string(),
        })?;
    if found.kind == JobKind::Agent {
        return Err(JobError::AgentJob {
            job_id: job_id.to_string(),
        });
    }
    state.jobs().abort(&found.project, &found.id);
    let (project, lookup) = (found.project.clone(), found.id.clone());
    let update = json!({"type": "chain-failed", "errors": [{"body": "the job was cancelled"}],
                        "cancelled": true});
    state
        .store()
        .call(move |db| {
            jobs::end(
                db,
                &project,
                &lookup,
                JobState::Cancelled,
                &update,
                now_ms(),
            )
        })
        .await?;
    state.jobs().moved(&found.project, &found.id);
    Ok(())
}

/// A tool's newest jobs as the dashboard shows them.
#[derive(Debug, Clone)]
pub(crate) struct JobSummary {
    pub(crate) id: String,
    pub(crate) state: &'static str,
    /// How long it ran (so far, while it runs).
    pub(crate) duration_ms: i64,
    /// The tool's output once complete, or the errors once failed.
    pub(crate) result: Value,
}

/// The newest `limit` jobs of tool `tool_id`.
pub(crate) async fn recent(
    state: &AppState,
    principal: &Principal,
    tool_id: &str,
    limit: i64,
) -> Result<Vec<JobSummary>, JobError> {
    let (project, tool) = (principal.project.clone(), tool_id.to_string());
    let rows = state
        .store()
        .call(move |db| jobs::recent_for_tool(db, &project, &tool, limit))
        .await?;
    let now = now_ms();
    Ok(rows
        .into_iter()
        .map(|(job, last)| {
            let last = last.unwrap_or(Value::Null);
            let result = match job.state {
                JobState::Complete => last["output"]["output"].clone(),
                JobState::InProgress => Value::Null,
                _ => last["errors"].clone(),
            };
            JobSummary {
                id: job.id,
                state: job.state.as_str(),
                duration_ms: job.ended_ms.unwrap_or(now) - job.insert_ms,
                result,
            }
        })
        .collect())
}

/// At start-up: every tool job still in progress was running in a process that is gone.
/// It ends `failed` (say so in its last update); answers how many did.
pub(crate) fn fail_interrupted(db: &mut Db, now: i64) -> rusqlite::Result<usize> {
    let transaction = db.transaction()?;
    let open = jobs::open_tool_jobs(&transaction)?;
    let update = agent_jobs::failure(
        "the emulator stopped while this job ran; start it again (its params are unchanged)",
    );
    for job in &open {
        jobs::end(
            &transaction,
            &job.project,
            &job.id,
            JobState::Failed,
            &update,
            now,
        )?;
    }
    transaction.commit()?;
    Ok(open.len())
}
