//! A person decides about a tool run that waits (PROTOCOL A10): an `action-confirm`
//! or `action-reject` trigger, applied in the caller's transaction.
//!
//! Only the run that waits, named by its `action_request_id`, can be decided; any
//! other id is refused before anything is written, so a stale or repeated decision
//! changes nothing. A confirmed run goes on at its `running` phase; a rejected one is
//! `cancelled` and the script goes on with the next step.

use rusqlite::Connection;
use serde_json::{Map, Value};

use super::content::Content;
use super::progress::Progress;
use super::states::AgentState;
use super::trigger::TriggerOutcome;
use crate::store::runs::{self, RunStatus};
use crate::store::tasks::{self, TaskRecord};
use crate::time::now_ms;

/// What the person said.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verdict {
    /// `action-confirm`, with `action_params_override` (empty for none).
    Confirm { params_override: Map<String, Value> },
    /// `action-reject`.
    Reject,
}

/// A decision as the trigger carried it.
#[derive(Debug, Clone)]
pub(crate) struct Decision {
    pub(crate) verdict: Verdict,
    /// `message.action`: when present it must be the waiting run's `action_details.action`.
    pub(crate) action: Option<String>,
    pub(crate) action_request_id: String,
}

/// Why a decision was not applied.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DecisionError {
    /// No tool run of the task waits under this request id (never did, or already decided).
    #[error("no tool run of this task waits for a decision with action_request_id {action_request_id:?}")]
    NotWaiting { action_request_id: String },
    /// The run waits, but under another `action`.
    #[error("the tool run {action_request_id:?} waits with action {waiting:?}, not {given:?}")]
    WrongAction {
        action_request_id: String,
        waiting: String,
        given: String,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] rusqlite::Error),
}

/// Applies `decision` to `task`'s waiting tool run and lets the run go on.
pub(crate) fn decide(
    connection: &Connection,
    project: &str,
    task: &TaskRecord,
    decision: &Decision,
) -> Result<TriggerOutcome, DecisionError> {
    let not_waiting = || DecisionError::NotWaiting {
        action_request_id: decision.action_request_id.clone(),
    };
    let mut run = runs::current_for_task(connection, project, &task.id)?
        .filter(|run| run.status == RunStatus::AwaitingApproval)
        .ok_or_else(not_waiting)?;
    let mut progress = Progress::decode(&run.progress);
    if progress.awaiting_decision.as_deref() != Some(decision.action_request_id.as_str()) {
        return Err(not_waiting());
    }
    let item_id = progress.item_id.clone().ok_or_else(not_waiting)?;
    let stored = tasks::message_content(connection, &item_id)?;
    let Some(Content::ToolRun(mut tool_run)) = stored.and_then(Content::from_json) else {
        return Err(not_waiting());
    };
    if let Some(given) = &decision.action {
        if *given != tool_run.action_details.action {
            return Err(DecisionError::WrongAction {
                action_request_id: decision.action_request_id.clone(),
                waiting: tool_run.action_details.action.clone(),
                given: given.clone(),
            });
        }
    }
    match &decision.verdict {
        Verdict::Confirm { params_override } => {
            tool_run.confirm(params_override);
            // The tool runs now: its `running` phase, then its outcome.
            run.phase = 1;
        }
        Verdict::Reject => {
            tool_run.reject();
            progress.item_id = None;
            run.step_index += 1;
            run.phase = 0;
        }
    }
    let content = Content::ToolRun(tool_run).to_json();
    tasks::update_message(connection, project, &task.id, &item_id, &content)?;
    progress.awaiting_decision = None;
    let now = now_ms();
    run.progress = progress.encode();
    run.status = RunStatus::Due;
    run.due_at_ms = Some(now);
    runs::save(connection, &run)?;
    Ok(TriggerOutcome::after_message(
        connection,
        project,
        task,
        item_id,
        Some(AgentState::Running.as_str()),
        run.id,
    )?)
}
