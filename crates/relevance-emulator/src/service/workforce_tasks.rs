//! Workforce tasks (PROTOCOL A6): accept a user message, read a task, its merged
//! messages, a page of the caller's tasks. Scope comes from
//! [`Principal::workforce_tasks`]: a workforce embed key sees only its own
//! workforce's tasks with its own prefix, an agent embed key none.

use super::task_target::{self, Choice};
use super::ServiceError;
use crate::auth::Principal;
use crate::engine::workforce::{self, WorkforceTriggerTask};
use crate::state::AppState;
use crate::store::definitions::{self, WorkforceRecord};
use crate::store::tasks::MessageRecord;
use crate::store::workforce_tasks::{self, PageKey, WorkforceTaskRecord};

/// The workforce `workforce_id`, if the principal may see it.
pub(crate) async fn workforce(
    state: &AppState,
    principal: &Principal,
    workforce_id: String,
) -> Result<WorkforceRecord, ServiceError> {
    let project = principal.project.clone();
    let visibility = principal.workforces();
    let lookup = workforce_id.clone();
    state
        .store()
        .call(move |connection| {
            definitions::find_workforce(connection, &project, &visibility, &lookup)
        })
        .await?
        .ok_or_else(|| ServiceError::WorkforceNotFound {
            workforce_id,
            project: principal.project.clone(),
        })
}

/// The workforce task `task_id`, if the principal may see it.
pub(crate) async fn task(
    state: &AppState,
    principal: &Principal,
    task_id: String,
) -> Result<WorkforceTaskRecord, ServiceError> {
    let project = principal.project.clone();
    let scope = principal.workforce_tasks();
    let lookup = task_id.clone();
    state
        .store()
        .call(move |connection| workforce_tasks::find(connection, &project, &scope, &lookup))
        .await?
        .ok_or(ServiceError::WorkforceTaskNotFound { task_id })
}

/// Writes the message to its workforce task (created or continued) and starts or queues
/// the run, in one transaction; then wakes the engine. Answers the task id.
pub(crate) async fn accept_message(
    state: &AppState,
    principal: &Principal,
    workforce_id: String,
    task_id: Option<String>,
    text: String,
    use_streaming: bool,
) -> Result<String, ServiceError> {
    let principal = principal.clone();
    let mut accepted = state
        .store()
        .call(move |connection| -> Result<_, ServiceError> {
            let transaction = connection.transaction()?;
            let project = principal.project.clone();
            let Some(workforce) = definitions::find_workforce(
                &transaction,
                &project,
                &principal.workforces(),
                &workforce_id,
            )?
            else {
                return Err(ServiceError::WorkforceNotFound {
                    workforce_id,
                    project,
                });
            };
            let scope = principal.workforce_tasks();
            let choice = task_target::choose(
                &transaction,
                &principal,
                "workforce_task_id",
                task_id,
                |connection, id| workforce_tasks::find(connection, &project, &scope, id),
                |task| task.workforce_id == workforce.id,
                |id| ServiceError::WorkforceTaskNotFound {
                    task_id: id.to_string(),
                },
            )?;
            let target = match choice {
                Choice::Existing(task) => WorkforceTriggerTask::Existing(task),
                Choice::New(id) => WorkforceTriggerTask::New {
                    id,
                    created_by_key_id: principal.key_id.clone(),
                    task_prefix: principal.task_prefix().map(str::to_string),
                },
            };
            let accepted = workforce::accept(
                &transaction,
                &project,
                &workforce,
                target,
                &text,
                use_streaming,
            )?;
            transaction.commit()?;
            Ok(accepted)
        })
        .await?;
    state.engine().publish(std::mem::take(&mut accepted.events));
    state.engine().wake();
    Ok(accepted.task_id)
}

/// A visible task of `workforce_id`, oldest message first, members' messages merged in.
pub(crate) async fn read_messages(
    state: &AppState,
    principal: &Principal,
    workforce_id: &str,
    task_id: String,
    limit: usize,
) -> Result<Vec<MessageRecord>, ServiceError> {
    let task = task(state, principal, task_id).await?;
    if task.workforce_id != workforce_id {
        return Err(ServiceError::WorkforceTaskNotFound { task_id: task.id });
    }
    Ok(state
        .store()
        .call(move |connection| {
            workforce_tasks::merged_messages(connection, &task.project, &task.id, limit)
        })
        .await?)
}

/// One page (newest first) of the visible tasks of a visible workforce, after `after`,
/// optionally only those whose title contains `needle` (lower case); at most `limit`.
pub(crate) async fn list_tasks(
    state: &AppState,
    principal: &Principal,
    workforce_id: String,
    needle: Option<String>,
    after: Option<PageKey>,
    limit: usize,
) -> Result<Vec<WorkforceTaskRecord>, ServiceError> {
    let workforce = workforce(state, principal, workforce_id).await?;
    let project = principal.project.clone();
    let scope = principal.workforce_tasks();
    Ok(state
        .store()
        .call(move |connection| {
            workforce_tasks::page(
                connection,
                &project,
                &scope,
                &workforce.id,
                needle.as_deref(),
                after.as_ref(),
                limit,
            )
        })
        .await?)
}
