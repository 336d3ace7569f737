//! Agent tasks (PROTOCOL A5): accept a user message, read a task, its messages,
//! the caller's tasks. Scope comes from [`Principal::tasks`] and is part of every
//! query, so an embed key never loads another prefix's task.

use super::task_target::{self, Choice};
use super::ServiceError;
use crate::auth::Principal;
use rusqlite::Connection;

use crate::engine::decision::{self, Decision, DecisionError};
use crate::engine::trigger::{self, Accepted, EngineError, Streaming, Target, UserMessage};
use crate::state::AppState;
use crate::store::catalog;
use crate::store::tasks::{self, MessageRecord, TaskRecord};

/// A user message for an agent, as the trigger body carried it (already parsed).
#[derive(Debug)]
pub(crate) struct NewMessage {
    pub(crate) agent_id: String,
    pub(crate) conversation_id: Option<String>,
    pub(crate) message: UserMessage,
    pub(crate) streaming: Streaming,
}

/// Writes the message to its task (created or continued) and schedules its run, all in
/// one transaction: a refused message leaves no trace. Then wakes the engine.
pub(crate) async fn accept_message(
    state: &AppState,
    principal: &Principal,
    new: NewMessage,
) -> Result<Accepted, ServiceError> {
    let principal_for_store = principal.clone();
    let accepted = state
        .store
        .call(move |connection| {
            let transaction = connection.transaction()?;
            let principal = principal_for_store;
            let project = principal.project.clone();
            let agent_id = new.agent_id;
            if catalog::find_agent(&transaction, &project, &principal.agents(), &agent_id)?
                .is_none()
            {
                return Ok(Err(ServiceError::AgentNotFound { agent_id, project }));
            }
            let scope = principal.tasks();
            let choice = task_target::choose(
                &transaction,
                &principal,
                "conversation_id",
                new.conversation_id,
                |connection, id| tasks::find_task(connection, &project, &scope, id),
                |task| task.agent_id == agent_id,
                |id| ServiceError::TaskNotFound {
                    agent_id: agent_id.clone(),
                    task_id: id.to_string(),
                },
            )?;
            let target = match choice {
                Ok(Choice::Existing(task)) => Target::Existing(task),
                Ok(Choice::New(id)) => Target::New {
                    id,
                    agent_id: agent_id.clone(),
                    created_by_key_id: principal.key_id.clone(),
                    task_prefix: principal.task_prefix().map(str::to_string),
                },
                Err(refusal) => return Ok(Err(refusal)),
            };
            let accepted = match trigger::accept(
                &transaction,
                &project,
                target,
                &new.message,
                None,
                new.streaming,
            ) {
                Ok(accepted) => accepted,
                Err(EngineError::Store(error)) => return Err(error),
                Err(problem) => return Ok(Err(ServiceError::Engine(problem))),
            };
            transaction.commit()?;
            Ok(Ok(accepted))
        })
        .await??;
    Ok(started(state, accepted))
}

/// Publishes what an accepted trigger committed and wakes the engine.
fn started(state: &AppState, mut accepted: Accepted) -> Accepted {
    state.engine.publish(std::mem::take(&mut accepted.events));
    state.engine.wake();
    accepted
}

/// The task `task_id` of the visible agent `agent_id`, inside the caller's transaction.
fn visible_task(
    connection: &Connection,
    principal: &Principal,
    agent_id: &str,
    task_id: &str,
) -> rusqlite::Result<Result<TaskRecord, ServiceError>> {
    let project = &principal.project;
    if catalog::find_agent(connection, project, &principal.agents(), agent_id)?.is_none() {
        return Ok(Err(ServiceError::AgentNotFound {
            agent_id: agent_id.to_string(),
            project: project.clone(),
        }));
    }
    Ok(
        tasks::find_task(connection, project, &principal.tasks(), task_id)?
            .filter(|task| task.agent_id == agent_id)
            .ok_or_else(|| ServiceError::TaskNotFound {
                agent_id: agent_id.to_string(),
                task_id: task_id.to_string(),
            }),
    )
}

/// Applies a person's decision about the task's waiting tool run (PROTOCOL A10): whoever
/// may trigger the task may decide, so an embed key decides in its own prefixed tasks
/// only (another prefix's task is not found). A decision no run waits for changes nothing.
pub(crate) async fn decide(
    state: &AppState,
    principal: &Principal,
    agent_id: String,
    task_id: String,
    decision: Decision,
) -> Result<Accepted, ServiceError> {
    let principal = principal.clone();
    let accepted = state
        .store
        .call(move |connection| {
            let transaction = connection.transaction()?;
            let task = match visible_task(&transaction, &principal, &agent_id, &task_id)? {
                Ok(task) => task,
                Err(refusal) => return Ok(Err(refusal)),
            };
            match decision::decide(&transaction, &principal.project, &task, &decision) {
                Ok(accepted) => {
                    transaction.commit()?;
                    Ok(Ok(accepted))
                }
                Err(DecisionError::Store(error)) => Err(error),
                Err(refused) => Ok(Err(ServiceError::Decision(refused))),
            }
        })
        .await??;
    Ok(started(state, accepted))
}

/// The task `task_id` of `agent_id`, if the principal may see it.
pub(crate) async fn task(
    state: &AppState,
    principal: &Principal,
    agent_id: String,
    task_id: String,
) -> Result<TaskRecord, ServiceError> {
    let project = principal.project.clone();
    let scope = principal.tasks();
    let id = task_id.clone();
    state
        .store
        .call(move |connection| tasks::find_task(connection, &project, &scope, &id))
        .await?
        .filter(|task| task.agent_id == agent_id)
        .ok_or(ServiceError::TaskNotFound { agent_id, task_id })
}

/// A visible task's messages at or after `after_ms`, newest first, at most `limit`.
pub(crate) async fn read_messages(
    state: &AppState,
    principal: &Principal,
    agent_id: String,
    task_id: String,
    after_ms: Option<i64>,
    limit: i64,
) -> Result<Vec<MessageRecord>, ServiceError> {
    let task = task(state, principal, agent_id, task_id).await?;
    Ok(state
        .store
        .call(move |connection| {
            tasks::list_messages(connection, &task.project, &task.id, after_ms, limit)
        })
        .await?)
}

/// Every task the principal may see (an API key: the project's; an agent embed key: its
/// own prefixed tasks; a workforce embed key: none).
pub(crate) async fn list_tasks(
    state: &AppState,
    principal: &Principal,
) -> Result<Vec<TaskRecord>, ServiceError> {
    let project = principal.project.clone();
    let scope = principal.tasks();
    Ok(state
        .store
        .call(move |connection| tasks::list_tasks(connection, &project, &scope))
        .await?)
}
