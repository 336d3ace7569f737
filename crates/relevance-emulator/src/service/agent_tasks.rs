//! Agent tasks (PROTOCOL A5, A10, A11): accept a user message or a decision, read a
//! task, its messages, the caller's tasks; rerun, delete, schedule a message. Scope comes from [`Principal::tasks`] and is part of every
//! query, so an embed key never loads another prefix's task.

use rusqlite::Connection;

use super::task_target::{self, Choice};
use super::ServiceError;
use crate::auth::Principal;
use crate::engine::decision::{self, Decision};
use crate::engine::lifecycle;
use crate::engine::new_item_id;
use crate::engine::trigger::{self, InboundMessage, Streaming, TriggerOutcome, TriggerTask};
use crate::state::AppState;
use crate::store::definitions;
use crate::store::scheduled::{self, ScheduledTrigger};
use crate::store::tasks::{self, MessageRecord, TaskRecord};
use crate::time::{iso_from_ms, now_ms};

/// A user message for an agent, as the trigger body carried it (already parsed).
#[derive(Debug)]
pub(crate) struct NewMessage {
    pub(crate) agent_id: String,
    pub(crate) conversation_id: Option<String>,
    pub(crate) message: InboundMessage,
    pub(crate) streaming: Streaming,
    /// The caller's own id for the conversation (PROTOCOL A17).
    pub(crate) external: Option<ExternalId>,
}

/// A trigger's `external_id`: never a second conversation for the same id (within what
/// the caller's key may see).
#[derive(Debug, Clone)]
pub(crate) struct ExternalId {
    pub(crate) id: String,
    pub(crate) behaviour: ExternalBehaviour,
}

/// What a trigger does when a conversation with its `external_id` exists already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExternalBehaviour {
    /// `extend-conversation` (the default): the message goes to that conversation.
    ExtendConversation,
    /// `nothing`: nothing is written; the existing conversation is answered.
    Nothing,
}

/// `action: "regenerate"` (PROTOCOL A17): answer a turn of a task again.
#[derive(Debug)]
pub(crate) struct Regenerate {
    pub(crate) agent_id: String,
    pub(crate) task_id: String,
    pub(crate) turn: Turn,
    pub(crate) params: Option<serde_json::Map<String, serde_json::Value>>,
    pub(crate) version: Option<String>,
    pub(crate) streaming: Streaming,
}

/// Which turn a regenerate answers again.
#[derive(Debug, Clone)]
pub(crate) enum Turn {
    /// The turn whose answer is this agent message (`regenerate_message_id`).
    OfAgentMessage(String),
    /// The task's first turn (`use_first_message: true`).
    First,
}

/// Writes the message to its task (created or continued) and schedules its run, all in
/// one transaction: a refused message leaves no trace. Then wakes the engine.
pub(crate) async fn accept_message(
    state: &AppState,
    principal: &Principal,
    new: NewMessage,
) -> Result<TriggerOutcome, ServiceError> {
    let principal_for_store = principal.clone();
    let accepted = state
        .store()
        .call(move |connection| -> Result<TriggerOutcome, ServiceError> {
            let transaction = connection.transaction()?;
            let accepted = accept_in(&transaction, &principal_for_store, new)?;
            transaction.commit()?;
            Ok(accepted)
        })
        .await?;
    Ok(started(state, accepted))
}

/// [`accept_message`]'s writes, in the caller's transaction: the message to its task
/// (found by `external_id`, named by `conversation_id`, or new) and its run.
pub(crate) fn accept_in(
    transaction: &Connection,
    principal: &Principal,
    new: NewMessage,
) -> Result<TriggerOutcome, ServiceError> {
    let project = principal.project.clone();
    let agent_id = new.agent_id.clone();
    if definitions::find_agent(transaction, &project, &principal.agents(), &agent_id)?.is_none() {
        return Err(ServiceError::AgentNotFound { agent_id, project });
    }
    let scope = principal.tasks();
    let known = match &new.external {
        Some(external) => {
            tasks::find_by_external_id(transaction, &project, &scope, &agent_id, &external.id)?
        }
        None => None,
    };
    if let (Some(task), Some(external)) = (known, &new.external) {
        let outcome = extend_known(transaction, &project, task, external, &new)?;
        return Ok(outcome);
    }
    let choice = task_target::choose(
        transaction,
        principal,
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
        Choice::Existing(task) => TriggerTask::Existing(task),
        Choice::New(id) => TriggerTask::New {
            id,
            agent_id: agent_id.clone(),
            created_by_key_id: principal.key_id.clone(),
            task_prefix: principal.task_prefix().map(str::to_string),
            external_id: new.external.as_ref().map(|external| external.id.clone()),
        },
    };
    let accepted = trigger::accept(
        transaction,
        &project,
        target,
        &new.message,
        None,
        new.streaming,
    )?;
    Ok(accepted)
}

/// A trigger whose `external_id` names `task` already: the message goes there
/// (`extend-conversation`), or nothing is written and `task` is answered (`nothing`). A
/// `conversation_id` that names another task is refused: one id cannot mean two tasks.
fn extend_known(
    connection: &Connection,
    project: &str,
    task: TaskRecord,
    external: &ExternalId,
    new: &NewMessage,
) -> Result<TriggerOutcome, ServiceError> {
    if let Some(named) = new.conversation_id.as_deref().filter(|id| *id != task.id) {
        return Err(ServiceError::ExternalIdElsewhere {
            external_id: external.id.clone(),
            task_id: task.id,
            named: named.to_string(),
        });
    }
    if external.behaviour == ExternalBehaviour::Nothing {
        return Ok(TriggerOutcome::unchanged(connection, project, &task)?);
    }
    Ok(trigger::accept(
        connection,
        project,
        TriggerTask::Existing(task),
        &new.message,
        None,
        new.streaming,
    )?)
}

/// Answers a turn of a task again (PROTOCOL A17 `regenerate`): the user message of that
/// turn is run again with its own text, and what followed it is replaced, as a rerun does.
pub(crate) async fn regenerate(
    state: &AppState,
    principal: &Principal,
    again: Regenerate,
) -> Result<TriggerOutcome, ServiceError> {
    let accepted = change_visible_task(
        state,
        principal,
        again.agent_id.clone(),
        again.task_id.clone(),
        move |connection, task| {
            let messages = tasks::messages_oldest_first(connection, &task.project, &task.id)?;
            let (item_id, text) = turn_of(&messages, &again.turn)?;
            let message = InboundMessage {
                text,
                params: again.params,
                version: again.version,
                ..InboundMessage::default()
            };
            Ok(lifecycle::rerun(
                connection,
                &task.project,
                task,
                &item_id,
                &message,
                again.streaming,
            )?)
        },
    )
    .await?;
    Ok(started(state, accepted))
}

/// The user message (id and text) that opened `turn`.
fn turn_of(messages: &[MessageRecord], turn: &Turn) -> Result<(String, String), ServiceError> {
    fn kind(message: &MessageRecord) -> &str {
        message.content["type"].as_str().unwrap_or_default()
    }
    let user = |message: &MessageRecord| {
        let text = message.content["text"].as_str().unwrap_or_default();
        (message.item_id.clone(), text.to_string())
    };
    match turn {
        Turn::First => messages
            .iter()
            .find(|message| kind(message) == "user-message")
            .map(user)
            .ok_or(ServiceError::NoTurn),
        Turn::OfAgentMessage(item_id) => {
            let not_agent = || ServiceError::NotAnAgentMessage {
                item_id: item_id.clone(),
            };
            let at = messages
                .iter()
                .position(|message| &message.item_id == item_id && kind(message) == "agent-message")
                .ok_or_else(not_agent)?;
            messages[..at]
                .iter()
                .rev()
                .find(|message| kind(message) == "user-message")
                .map(user)
                .ok_or_else(not_agent)
        }
    }
}

/// Publishes what an accepted trigger committed and wakes the engine.
pub(crate) fn started(state: &AppState, mut accepted: TriggerOutcome) -> TriggerOutcome {
    state.engine().publish(std::mem::take(&mut accepted.events));
    state.engine().wake();
    accepted
}

/// The task `task_id` of the visible agent `agent_id`, inside the caller's transaction.
fn visible_task(
    connection: &Connection,
    principal: &Principal,
    agent_id: &str,
    task_id: &str,
) -> Result<TaskRecord, ServiceError> {
    let project = &principal.project;
    if definitions::find_agent(connection, project, &principal.agents(), agent_id)?.is_none() {
        return Err(ServiceError::AgentNotFound {
            agent_id: agent_id.to_string(),
            project: project.clone(),
        });
    }
    tasks::find_task(connection, project, &principal.tasks(), task_id)?
        .filter(|task| task.agent_id == agent_id)
        .ok_or_else(|| ServiceError::TaskNotFound {
            agent_id: agent_id.to_string(),
            task_id: task_id.to_string(),
        })
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
) -> Result<TriggerOutcome, ServiceError> {
    let accepted = change_visible_task(
        state,
        principal,
        agent_id,
        task_id,
        move |connection, task| {
            Ok(decision::decide(
                connection,
                &task.project,
                task,
                &decision,
            )?)
        },
    )
    .await?;
    Ok(started(state, accepted))
}

/// Runs `change` on the task `task_id` of `agent_id`, if the principal may see it, in one
/// transaction that is committed only when the change succeeds: a refusal leaves no trace.
async fn change_visible_task<T, F>(
    state: &AppState,
    principal: &Principal,
    agent_id: String,
    task_id: String,
    change: F,
) -> Result<T, ServiceError>
where
    T: Send + 'static,
    F: FnOnce(&Connection, &TaskRecord) -> Result<T, ServiceError> + Send + 'static,
{
    let principal = principal.clone();
    state
        .store()
        .call(move |connection| -> Result<T, ServiceError> {
            let transaction = connection.transaction()?;
            let task = visible_task(&transaction, &principal, &agent_id, &task_id)?;
            let outcome = change(&transaction, &task)?;
            transaction.commit()?;
            Ok(outcome)
        })
        .await
}

/// The task `task_id` of `agent_id`, if the principal may see it.
pub(crate) async fn task(
    state: &AppState,
    principal: &Principal,
    agent_id: String,
    task_id: String,
) -> Result<TaskRecord, ServiceError> {
    task_in_scope(state, principal, task_id.clone())
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
        .store()
        .call(move |connection| {
            tasks::list_messages(connection, &task.project, &task.id, after_ms, limit)
        })
        .await?)
}

/// A visible task's tool runs, newest first (PROTOCOL A18).
pub(crate) async fn tool_runs(
    state: &AppState,
    principal: &Principal,
    agent_id: String,
    task_id: String,
    limit: usize,
) -> Result<Vec<serde_json::Value>, ServiceError> {
    let task = task(state, principal, agent_id, task_id).await?;
    Ok(state
        .store()
        .call(move |connection| crate::engine::tool_runs::of_task(connection, &task, limit))
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
        .store()
        .call(move |connection| tasks::list_tasks(connection, &project, &scope))
        .await?)
}

/// The task's trigger message: its first user message, the one that created it.
pub(crate) async fn trigger_message(
    state: &AppState,
    principal: &Principal,
    agent_id: String,
    task_id: String,
) -> Result<MessageRecord, ServiceError> {
    let task = task(state, principal, agent_id.clone(), task_id.clone()).await?;
    let messages = state
        .store()
        .call(move |connection| tasks::messages_oldest_first(connection, &task.project, &task.id))
        .await?;
    messages
        .into_iter()
        .find(|message| message.content["is_trigger_message"] == true)
        .ok_or(ServiceError::TaskNotFound { agent_id, task_id })
}

/// A rerun (PROTOCOL A11): the task runs again from its user message `edit_message_id`,
/// with `new.message`'s text; what came after it is replaced by the new run.
pub(crate) async fn rerun(
    state: &AppState,
    principal: &Principal,
    task_id: String,
    edit_message_id: String,
    new: NewMessage,
) -> Result<TriggerOutcome, ServiceError> {
    let agent_id = new.agent_id.clone();
    let accepted = change_visible_task(
        state,
        principal,
        agent_id,
        task_id,
        move |connection, task| {
            Ok(lifecycle::rerun(
                connection,
                &task.project,
                task,
                &edit_message_id,
                &new.message,
                new.streaming,
            )?)
        },
    )
    .await?;
    Ok(started(state, accepted))
}

/// An agent task by id alone (`knowledge/sets/{id}/get_metadata`), if the caller may see it.
pub(crate) async fn task_by_id(
    state: &AppState,
    principal: &Principal,
    task_id: String,
) -> Result<TaskRecord, ServiceError> {
    task_in_scope(state, principal, task_id.clone())
        .await?
        .ok_or(ServiceError::KnowledgeSetNotFound { task_id })
}

/// The agent task `task_id` within the principal's project and task scope, if any.
async fn task_in_scope(
    state: &AppState,
    principal: &Principal,
    task_id: String,
) -> Result<Option<TaskRecord>, ServiceError> {
    let project = principal.project.clone();
    let scope = principal.tasks();
    Ok(state
        .store()
        .call(move |connection| tasks::find_task(connection, &project, &scope, &task_id))
        .await?)
}

/// Deletes agent tasks with their messages, runs and scheduled messages, all or none: an
/// id the caller cannot see (absent, another scope's, a workforce task's) refuses the lot.
pub(crate) async fn delete_tasks(
    state: &AppState,
    principal: &Principal,
    task_ids: Vec<String>,
) -> Result<(), ServiceError> {
    let principal = principal.clone();
    state
        .store()
        .call(move |connection| -> Result<(), ServiceError> {
            let transaction = connection.transaction()?;
            let project = principal.project.clone();
            let scope = principal.tasks();
            for task_id in &task_ids {
                if tasks::find_task(&transaction, &project, &scope, task_id)?.is_none() {
                    return Err(ServiceError::KnowledgeSetNotFound {
                        task_id: task_id.clone(),
                    });
                }
                lifecycle::delete(&transaction, &project, task_id)?;
            }
            transaction.commit()?;
            Ok(())
        })
        .await
}

/// A message for the task later (PROTOCOL A11): stored with its due time, sent by the
/// engine then. Answers the trigger id.
pub(crate) async fn schedule_message(
    state: &AppState,
    principal: &Principal,
    agent_id: String,
    task_id: String,
    message: String,
    delay_ms: i64,
) -> Result<String, ServiceError> {
    let trigger_id = new_item_id();
    let id = trigger_id.clone();
    change_visible_task(
        state,
        principal,
        agent_id,
        task_id,
        move |connection, task| {
            let now = now_ms();
            scheduled::insert(
                connection,
                &ScheduledTrigger {
                    id,
                    project: task.project.clone(),
                    task_id: task.id.clone(),
                    message,
                    due_at_ms: now.saturating_add(delay_ms),
                    created_at: iso_from_ms(now),
                },
            )?;
            Ok(())
        },
    )
    .await?;
    state.engine().wake();
    Ok(trigger_id)
}
