//! The job that follows one run of an agent (PROTOCOL A15): opened with every trigger
//! answer's `job_info`, ended in the same transaction as the run it follows.
//!
//! The platform's docs wait for an agent by polling this job until an update of type
//! `chain-success` arrives and read the reply from `output.output.answer`. So a job ends
//! `complete` with the run's last agent reply when the run ends well, `failed` with the
//! run's errors (`chain-failed`) when it ends in an error state, and — the emulator's
//! choice, as the platform's answer is not published — `complete` when the run stops to
//! wait for a person: its `output.output` then carries `answer` (the reply so far, `""`
//! when none) and `"waiting_for": "approval"`, so the docs' loop ends and the caller reads
//! the waiting `action-request`. The decision's own trigger opens the next job. A run
//! replaced by a rerun, or removed with its task, ends its jobs `failed`.

use rusqlite::Connection;
use serde_json::{json, Value};

use super::content::Content;
use super::ids::new_item_id;
use super::states::AgentState;
use crate::store::jobs::{self, JobKind, JobRecord, JobState};
use crate::store::tasks::{self, TaskRecord};
use crate::time::now_ms;

/// Opens the job of run `run_id` of `task`; answers its id (unguessable: a UUID v4).
pub(crate) fn open(
    connection: &Connection,
    project: &str,
    task: &TaskRecord,
    run_id: Option<i64>,
) -> rusqlite::Result<String> {
    let id = new_item_id();
    jobs::insert(
        connection,
        &JobRecord {
            project: project.to_string(),
            id: id.clone(),
            studio_id: task.agent_id.clone(),
            kind: JobKind::Agent,
            task_id: Some(task.id.clone()),
            run_id,
            state: JobState::InProgress,
            params: None,
            insert_ms: now_ms(),
            ended_ms: None,
        },
    )?;
    if run_id.is_none() {
        // No run to follow (a trigger that changed nothing): the task as it stands.
        end_from_task(connection, project, &task.id, &id, &task.state)?;
    }
    Ok(id)
}

/// Run `run_id` of `task_id` ended with the task in `state`: its jobs end with it.
pub(crate) fn run_ended(
    connection: &Connection,
    project: &str,
    task_id: &str,
    run_id: i64,
    state: &str,
) -> rusqlite::Result<()> {
    for job in jobs::open_for(connection, project, jobs::JobLink::Run(run_id))? {
        end_from_task(connection, project, task_id, &job.id, state)?;
    }
    Ok(())
}

/// Run `run_id` stopped to wait for a person: its jobs end with the reply so far.
pub(crate) fn run_waits(
    connection: &Connection,
    project: &str,
    task_id: &str,
    run_id: i64,
) -> rusqlite::Result<()> {
    for job in jobs::open_for(connection, project, jobs::JobLink::Run(run_id))? {
        let answer = last_reply(connection, project, task_id)?;
        let update = success(
            task_id,
            json!({"answer": answer, "waiting_for": "approval"}),
        );
        jobs::end(
            connection,
            project,
            &job.id,
            JobState::Complete,
            &update,
            now_ms(),
        )?;
    }
    Ok(())
}

/// The task's runs were replaced (a rerun) or removed (the task was deleted).
pub(crate) fn runs_replaced(
    connection: &Connection,
    project: &str,
    task_id: &str,
) -> rusqlite::Result<()> {
    for job in jobs::open_for(connection, project, jobs::JobLink::Task(task_id))? {
        let update = failure("the run was replaced by a rerun, or its task was deleted");
        jobs::end(
            connection,
            project,
            &job.id,
            JobState::Failed,
            &update,
            now_ms(),
        )?;
    }
    Ok(())
}

/// Ends job `job_id` as the task in `state` says: its errors, or its last reply.
fn end_from_task(
    connection: &Connection,
    project: &str,
    task_id: &str,
    job_id: &str,
    state: &str,
) -> rusqlite::Result<()> {
    let now = now_ms();
    if is_error_state(state) {
        let errors = last_errors(connection, project, task_id)?;
        let update = json!({"type": "chain-failed", "errors": errors, "state": state});
        jobs::end(connection, project, job_id, JobState::Failed, &update, now)?;
    } else {
        let answer = last_reply(connection, project, task_id)?;
        let update = success(task_id, json!({"answer": answer}));
        jobs::end(
            connection,
            project,
            job_id,
            JobState::Complete,
            &update,
            now,
        )?;
    }
    Ok(())
}

fn is_error_state(state: &str) -> bool {
    [
        AgentState::TimedOut.as_str(),
        AgentState::Unrecoverable.as_str(),
        "errored-pending-approval",
        "execution-limit-reached",
    ]
    .contains(&state)
}

/// `chain-success` with `output.output` = `output`.
fn success(task_id: &str, output: Value) -> Value {
    json!({"type": "chain-success", "output": {"output": output, "status": "complete"},
           "conversation_id": task_id})
}

/// `chain-failed` with one error.
pub(crate) fn failure(body: &str) -> Value {
    json!({"type": "chain-failed", "errors": [{"body": body}]})
}

/// The text of the task's newest final agent message, `""` when it has none.
fn last_reply(connection: &Connection, project: &str, task_id: &str) -> rusqlite::Result<String> {
    let messages = tasks::messages_oldest_first(connection, project, task_id)?;
    Ok(messages
        .into_iter()
        .rev()
        .find_map(|message| match Content::from_json(message.content) {
            Some(Content::AgentMessage(reply)) if !reply.generating => Some(reply.text),
            _ => None,
        })
        .unwrap_or_default())
}

/// The errors of the task's newest `agent-error`, as `[{"body"}]`.
fn last_errors(connection: &Connection, project: &str, task_id: &str) -> rusqlite::Result<Value> {
    let messages = tasks::messages_oldest_first(connection, project, task_id)?;
    let errors = messages
        .into_iter()
        .rev()
        .find_map(|message| match Content::from_json(message.content) {
            Some(Content::AgentError(error)) => Some(error.errors),
            _ => None,
        })
        .unwrap_or_default();
    let bodies: Vec<Value> = errors
        .into_iter()
        .map(|error| json!({"body": error.body}))
        .collect();
    if bodies.is_empty() {
        return Ok(json!([{"body": "the agent's run ended in an error"}]));
    }
    Ok(Value::Array(bodies))
}
