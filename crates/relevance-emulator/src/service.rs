//! The use cases, between the handlers and the store (abacus's `domain/`):
//! one function per thing a caller can ask, given a [`crate::auth::Principal`]
//! and parsed input, answering a domain value or a [`ServiceError`].
//!
//! A service decides (scope, task ids, what to write in one transaction); it
//! never reads a header, a path or a body (that is `api`), and never renders
//! JSON. Its errors say what went wrong in domain terms; the one
//! `From<ServiceError> for ApiError` turns them into status and message.

pub(crate) mod agent_tasks;
pub(crate) mod agents;
pub(crate) mod embed_keys;
pub(crate) mod files;
pub(crate) mod jobs;
pub(crate) mod key_info;
pub(crate) mod keys;
pub(crate) mod knowledge;
pub(crate) mod overview;
mod task_target;
pub(crate) mod tools;
pub(crate) mod webhooks;
pub(crate) mod workforce_tasks;
pub(crate) mod workforces;

use crate::auth::TaskIdRefusal;
use crate::engine::decision::DecisionError;
use crate::engine::lifecycle::RerunError;
use crate::engine::trigger::EngineError;
use crate::error::{echo_id, ApiError};
use crate::store::{CallerError, StoreError};

/// Why a use case did not happen.
#[derive(Debug)]
pub(crate) enum ServiceError {
    /// No such agent for this caller (absent or out of scope: the same answer).
    AgentNotFound { agent_id: String, project: String },
    /// No such agent task for this caller.
    TaskNotFound { agent_id: String, task_id: String },
    /// No such workforce for this caller.
    WorkforceNotFound {
        workforce_id: String,
        project: String,
    },
    /// No such workforce task for this caller.
    WorkforceTaskNotFound { task_id: String },
    /// No such agent task (by id alone, `knowledge/sets/...`) for this caller.
    KnowledgeSetNotFound { task_id: String },
    /// A rerun's `edit_message_id` names no user message of the task.
    NotAUserMessage { item_id: String },
    /// A regenerate's `regenerate_message_id` names no agent message that answers a turn.
    NotAnAgentMessage { item_id: String },
    /// A regenerate of the first turn of a task that has no user message.
    NoTurn,
    /// A trigger's `external_id` belongs to one task and its `conversation_id` names another.
    ExternalIdElsewhere {
        external_id: String,
        task_id: String,
        named: String,
    },
    /// The caller may not create a task with (or without) this id.
    TaskId(TaskIdRefusal),
    /// A decision (PROTOCOL A10) that no waiting tool run matches: nothing was changed.
    Decision(DecisionError),
    /// What the engine needs to run the task's agent is missing or unreadable.
    Engine(EngineError),
    /// The database failed.
    Store(StoreError),
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> ServiceError {
        ServiceError::Store(error)
    }
}

impl From<rusqlite::Error> for ServiceError {
    fn from(error: rusqlite::Error) -> ServiceError {
        ServiceError::Store(error.into())
    }
}

impl CallerError for ServiceError {}

/// The engine's database failures are the store's; its other problems stay the engine's.
impl From<EngineError> for ServiceError {
    fn from(error: EngineError) -> ServiceError {
        match error {
            EngineError::Store(error) => error.into(),
            problem => ServiceError::Engine(problem),
        }
    }
}

/// A decision's database failure is the store's; a decision no run waits for is a refusal.
impl From<DecisionError> for ServiceError {
    fn from(error: DecisionError) -> ServiceError {
        match error {
            DecisionError::Store(error) => error.into(),
            refused => ServiceError::Decision(refused),
        }
    }
}

impl From<RerunError> for ServiceError {
    fn from(error: RerunError) -> ServiceError {
        match error {
            RerunError::Engine(problem) => problem.into(),
            RerunError::NotAUserMessage { item_id } => ServiceError::NotAUserMessage { item_id },
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> ApiError {
        match error {
            ServiceError::AgentNotFound { agent_id, project } => ApiError::not_found(format!(
                "no agent {} in project {}",
                echo_id(&agent_id),
                echo_id(&project)
            )),
            ServiceError::TaskNotFound { agent_id, task_id } => ApiError::not_found(format!(
                "no task {} of agent {}",
                echo_id(&task_id),
                echo_id(&agent_id)
            )),
            ServiceError::WorkforceNotFound {
                workforce_id,
                project,
            } => ApiError::not_found(format!(
                "no workforce {} in project {}",
                echo_id(&workforce_id),
                echo_id(&project)
            )),
            ServiceError::WorkforceTaskNotFound { task_id } => {
                ApiError::not_found(format!("no workforce task {}", echo_id(&task_id)))
            }
            ServiceError::KnowledgeSetNotFound { task_id } => {
                ApiError::not_found(format!("no task {}", echo_id(&task_id)))
            }
            ServiceError::NotAUserMessage { .. }
            | ServiceError::NotAnAgentMessage { .. }
            | ServiceError::NoTurn
            | ServiceError::ExternalIdElsewhere { .. } => refused_message(error),
            ServiceError::TaskId(refusal) => ApiError::bad_request(refusal.to_string()),
            ServiceError::Decision(DecisionError::Store(error)) => {
                ServiceError::Engine(EngineError::Store(error)).into()
            }
            // Ids are quoted with `echo_id`, so a key pasted into one is never echoed.
            ServiceError::Decision(DecisionError::NotWaiting { action_request_id }) => {
                ApiError::bad_request(format!(
                    "no tool run of this task waits for a decision with action_request_id {}",
                    echo_id(&action_request_id)
                ))
            }
            ServiceError::Decision(DecisionError::WrongAction {
                action_request_id,
                waiting,
                given,
            }) => ApiError::bad_request(format!(
                "the tool run {} waits with action {}, not {}",
                echo_id(&action_request_id),
                echo_id(&waiting),
                echo_id(&given)
            )),
            ServiceError::Engine(EngineError::Store(source)) => {
                tracing::error!(error = %source, "the engine's database failed");
                ApiError::internal("the emulator's database failed")
            }
            ServiceError::Engine(problem) => {
                tracing::error!(error = %problem, "the engine could not run a task's agent");
                ApiError::internal("the emulator could not run this task's agent; see its log")
            }
            ServiceError::Store(error) => error.into(),
        }
    }
}

/// The 400 of a trigger that names a message, turn or external id it may not.
fn refused_message(error: ServiceError) -> ApiError {
    match error {
        ServiceError::NotAUserMessage { item_id } => ApiError::bad_request(format!(
            "`edit_message_id` {} names no user message of this task",
            echo_id(&item_id)
        )),
        ServiceError::NotAnAgentMessage { item_id } => ApiError::bad_request(format!(
            "`regenerate_message_id` {} names no agent message of this task that answers \
                 a user message",
            echo_id(&item_id)
        )),
        ServiceError::NoTurn => {
            ApiError::bad_request("this task has no user message whose turn could be regenerated")
        }
        ServiceError::ExternalIdElsewhere {
            external_id,
            task_id,
            named,
        } => ApiError::bad_request(format!(
            "`external_id` {} belongs to conversation {}, not to the `conversation_id` {} \
                 sent with it",
            echo_id(&external_id),
            echo_id(&task_id),
            echo_id(&named)
        )),
        other => {
            tracing::error!(?other, "refused_message given another error");
            ApiError::internal("the emulator mapped an error wrongly; see its log")
        }
    }
}
