//! A task's life beyond single messages (PROTOCOL A11), each in the caller's
//! transaction: a rerun from an edited user message, deleting a task, and sending
//! the scheduled messages that fell due.
//!
//! A rerun and a delete stop the task's runs first, so no step of an old run can
//! write into what replaced it; a parent run that waited on a removed run goes on.

use rusqlite::Connection;

use super::content::Content;
use super::events::PendingEvent;
use super::states::AgentState;
use super::trigger::{self, EngineError, InboundMessage, Streaming, TriggerOutcome, TriggerTask};
use crate::store::runs::{self, RunStatus};
use crate::store::scheduled;
use crate::store::tasks::{self, TaskRecord, TaskScope};
use crate::time::now_ms;

/// Why a rerun did not happen.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RerunError {
    /// `edit_message_id` names no user message of the task.
    #[error("`edit_message_id` {item_id:?} names no user message of this task")]
    NotAUserMessage { item_id: String },
    /// The engine could not start the run.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<rusqlite::Error> for RerunError {
    fn from(error: rusqlite::Error) -> RerunError {
        RerunError::Engine(EngineError::Store(error))
    }
}

/// Runs `task` again from its user message `item_id`, whose text becomes `message`'s:
/// every later message and every run of the task are removed, and a new run starts.
pub(crate) fn rerun(
    connection: &Connection,
    project: &str,
    task: &TaskRecord,
    item_id: &str,
    message: &InboundMessage,
    streaming: Streaming,
) -> Result<TriggerOutcome, RerunError> {
    let not_user = || RerunError::NotAUserMessage {
        item_id: item_id.to_string(),
    };
    let (seq, stored) =
        tasks::find_message(connection, project, &task.id, item_id)?.ok_or_else(not_user)?;
    let Some(Content::UserMessage(mut user)) = Content::from_json(stored) else {
        return Err(not_user());
    };
    stop_runs(connection, project, &task.id)?;
    tasks::delete_messages_after(connection, project, &task.id, seq)?;
    user.text = message.text.clone();
    if message.attachments.is_some() {
        user.attachments = message.attachments.clone();
    }
    let content = Content::UserMessage(user).to_json();
    tasks::update_message(connection, project, &task.id, item_id, &content)?;
    let mut task = task.clone();
    trigger::keep_trigger_fields(connection, &mut task, message)?;
    let run_id = trigger::new_run(
        connection,
        project,
        &task,
        message,
        RunStatus::Due,
        None,
        streaming,
    )?;
    Ok(TriggerOutcome::after_message(
        connection,
        project,
        &task,
        item_id.to_string(),
        Some(AgentState::StartingUp.as_str()),
        run_id,
    )?)
}

/// Removes a task: its scheduled messages, its runs, its messages and itself.
pub(crate) fn delete(
    connection: &Connection,
    project: &str,
    task_id: &str,
) -> rusqlite::Result<()> {
    scheduled::delete_for_task(connection, project, task_id)?;
    stop_runs(connection, project, task_id)?;
    tasks::delete_task(connection, project, task_id)
}

/// Removes the task's runs; a parent run that waited on one of them goes on now.
fn stop_runs(connection: &Connection, project: &str, task_id: &str) -> rusqlite::Result<()> {
    super::agent_jobs::runs_replaced(connection, project, task_id)?;
    for parent_id in runs::delete_for_task(connection, project, task_id)? {
        if let Some(mut parent) = runs::find(connection, parent_id)? {
            parent.status = RunStatus::Due;
            parent.due_at_ms = Some(now_ms());
            runs::save(connection, &parent)?;
        }
    }
    Ok(())
}

/// Sends the scheduled message due soonest, if one is due by `now`, in one transaction:
/// the message goes to its task like a user's (queued behind a run that is going). A
/// message whose task is gone is dropped.
pub(crate) fn send_first_due_schedule(
    connection: &mut Connection,
    now: i64,
) -> rusqlite::Result<Option<Vec<PendingEvent>>> {
    let transaction = connection.transaction()?;
    let Some(due) = scheduled::first_due(&transaction, now)? else {
        return Ok(None);
    };
    scheduled::delete(&transaction, &due.id)?;
    let task = tasks::find_task(
        &transaction,
        &due.project,
        &TaskScope::Project,
        &due.task_id,
    )?;
    let events = match task {
        None => Vec::new(),
        Some(task) => match trigger::accept(
            &transaction,
            &due.project,
            TriggerTask::Existing(task),
            &InboundMessage {
                text: due.message,
                attachments: None,
                ..InboundMessage::default()
            },
            None,
            Streaming::AgentSetting,
        ) {
            Ok(accepted) => accepted.events,
            Err(EngineError::Store(error)) => return Err(error),
            Err(problem) => {
                tracing::error!(error = %problem, trigger = %due.id, "a scheduled message could not run");
                Vec::new()
            }
        },
    };
    transaction.commit()?;
    Ok(Some(events))
}
