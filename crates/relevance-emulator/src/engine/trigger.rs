//! A user message arrives: write it and start (or queue, or resume) a run, in
//! the caller's transaction.
//!
//! The caller has already decided that the message may be written (scope,
//! prefix, body); everything here happens in one transaction, so either the
//! message and its run both exist or neither does.
//!
//! The trigger body is defined again in the SDK (`relevance`'s `wire::agents`,
//! `wire::workforces`) on purpose: the emulator never depends on the SDK and is
//! checked against the platform's own models, not against ours.

use rusqlite::Connection;
use serde_json::Value;

use super::agent_jobs;
use super::content::Content;
use super::events::{LiveEvent, PendingEvent};
use super::ids::new_item_id;
use super::progress::Progress;
use super::script::{self, BehaviorConfig};
use super::states::AgentState;
use crate::store::definitions::{self, AgentBehavior};
use crate::store::runs::{self, RunRecord, RunStatus};
use crate::store::tasks::{self, TaskRecord};
use crate::time::{iso_from_ms, now_ms};

/// How long a title may be, in characters, before it is cut with `…`.
const TITLE_CHARS: usize = 60;

/// The task a message goes to.
#[derive(Debug, Clone)]
pub(crate) enum TriggerTask {
    /// A task that exists (and that the caller may write to).
    Existing(TaskRecord),
    /// A task to create with this id.
    New {
        id: String,
        agent_id: String,
        created_by_key_id: String,
        task_prefix: Option<String>,
        /// The caller's own id for the conversation (PROTOCOL A17).
        external_id: Option<String>,
    },
}

/// A user message as the trigger body carried it, with the settings the trigger gives
/// its task (PROTOCOL A17). Messages the engine sends itself (a schedule, a sub-agent's
/// brief) carry none.
#[derive(Debug, Clone, Default)]
pub(crate) struct InboundMessage {
    pub(crate) text: String,
    /// `[{"file_name","file_url"}]`, copied into the message when present.
    pub(crate) attachments: Option<Value>,
    /// The trigger's `params` (the agent's variables): kept on the task, replacing what an
    /// earlier trigger set, and filled into the script's `{params.NAME}`.
    pub(crate) params: Option<serde_json::Map<String, Value>>,
    /// The agent version the trigger asked for, recorded on the task.
    pub(crate) version: Option<String>,
}

/// Whether the run a message starts streams its thinking and typing (PROTOCOL A8b).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Streaming {
    /// As the agent's own `use_streaming` says: a trigger without `agent_override`
    /// (every embed-key trigger), and a sub-agent's run.
    AgentSetting,
    /// As the trigger decided: its `agent_override.use_streaming`, or a workforce
    /// trigger's `trigger.use_streaming` for its members' runs.
    Decided(bool),
}

impl Streaming {
    fn resolve(self, agent_setting: bool) -> bool {
        match self {
            Streaming::AgentSetting => agent_setting,
            Streaming::Decided(streams) => streams,
        }
    }
}

/// What the trigger answers with.
#[derive(Debug, Clone)]
pub(crate) struct TriggerOutcome {
    pub(crate) task_id: String,
    pub(crate) agent_id: String,
    pub(crate) state: String,
    pub(crate) job_id: String,
    pub(crate) events: Vec<PendingEvent>,
}

impl TriggerOutcome {
    /// The answer once a message (`item_id`, written or rewritten) of `task` has a run
    /// (`run_id`): when the task moves to `new_state` it is stored here, and the events say
    /// the message was written, then the state (if it changed). The answer's job is a new
    /// job that follows that run (PROTOCOL A15).
    pub(crate) fn after_message(
        connection: &Connection,
        project: &str,
        task: &TaskRecord,
        item_id: String,
        new_state: Option<&str>,
        run_id: i64,
    ) -> rusqlite::Result<TriggerOutcome> {
        let job_id = agent_jobs::open(connection, project, task, Some(run_id))?;
        let publish = |event: LiveEvent| PendingEvent {
            project: project.to_string(),
            task_id: task.id.clone(),
            event,
        };
        let mut events = vec![publish(LiveEvent::MessageWritten { item_id })];
        let state = match new_state {
            Some(state) => {
                tasks::set_task_state(connection, project, &task.id, state)?;
                events.push(publish(LiveEvent::StateChanged {
                    state: state.to_string(),
                }));
                state.to_string()
            }
            None => task.state.clone(),
        };
        Ok(TriggerOutcome {
            task_id: task.id.clone(),
            agent_id: task.agent_id.clone(),
            state,
            job_id,
            events,
        })
    }
}

impl TriggerOutcome {
    /// The answer for `task` as it is, when a trigger writes nothing (an `external_id` with
    /// the `nothing` behaviour): its state, and a job that follows the run going on it (or,
    /// with none, has ended with the task's last reply).
    pub(crate) fn unchanged(
        connection: &Connection,
        project: &str,
        task: &TaskRecord,
    ) -> rusqlite::Result<TriggerOutcome> {
        let run = runs::current_for_task(connection, project, &task.id)?;
        let job_id = agent_jobs::open(connection, project, task, run.map(|run| run.id))?;
        Ok(TriggerOutcome {
            task_id: task.id.clone(),
            agent_id: task.agent_id.clone(),
            state: task.state.clone(),
            job_id,
            events: Vec::new(),
        })
    }
}

/// The first message's text, trimmed, cut to 60 characters (the last one `…` when cut).
pub(crate) fn title(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= TITLE_CHARS {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(TITLE_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// Why a message could not be accepted: the database failed, or what the engine needs
/// to run the task's agent is missing or unreadable (a server-side problem, not the
/// caller's).
#[derive(Debug, thiserror::Error)]
pub(crate) enum EngineError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] rusqlite::Error),
    /// The task's agent no longer exists.
    #[error("agent {agent_id:?} of task {task_id:?} is gone")]
    AgentGone { agent_id: String, task_id: String },
    /// The agent's stored behaviour settings cannot be read.
    #[error("agent {agent_id:?} has unreadable behaviour settings: {reason}")]
    UnreadableSettings { agent_id: String, reason: String },
    /// A run's program could not be stored.
    #[error("cannot store a run's program: {reason}")]
    Program { reason: String },
}

/// Writes the user message and schedules its run (see the module docs); `streaming` decides
/// whether that run (or the paused run it resumes) streams.
pub(crate) fn accept(
    connection: &Connection,
    project: &str,
    target: TriggerTask,
    message: &InboundMessage,
    parent_run_id: Option<i64>,
    streaming: Streaming,
) -> Result<TriggerOutcome, EngineError> {
    let now = now_ms();
    let (mut task, is_new) = open_task(connection, project, target, message, now)?;
    keep_trigger_fields(connection, &mut task, message)?;
    let item_id = new_item_id();
    let content = Content::user_message(&message.text, is_new, message.attachments.clone());
    tasks::insert_message(connection, project, &task.id, &item_id, &content.to_json())?;

    let run = RunRequest {
        message,
        parent_run_id,
        streaming,
        now,
    };
    let (new_state, job_id) = schedule_run(connection, project, &task, run)?;
    Ok(TriggerOutcome::after_message(
        connection, project, &task, item_id, new_state, job_id,
    )?)
}

/// Stores on `task` the `params` and `version` the trigger sent (PROTOCOL A17); a trigger
/// without them leaves the task's as they were.
pub(crate) fn keep_trigger_fields(
    connection: &Connection,
    task: &mut TaskRecord,
    message: &InboundMessage,
) -> rusqlite::Result<()> {
    if message.params.is_none() && message.version.is_none() {
        return Ok(());
    }
    if let Some(params) = &message.params {
        task.params = Some(Value::Object(params.clone()).to_string());
    }
    if let Some(version) = &message.version {
        task.version = Some(version.clone());
    }
    tasks::set_trigger_fields(connection, task)
}

/// The task's stored `params` (PROTOCOL A17) as the script fills them in; unreadable or
/// absent params are none.
fn task_params(task: &TaskRecord) -> serde_json::Map<String, Value> {
    match task.params.as_deref().map(serde_json::from_str::<Value>) {
        Some(Ok(Value::Object(params))) => params,
        _ => serde_json::Map::new(),
    }
}

/// The task the message goes to, created when it is new; answers whether it was.
fn open_task(
    connection: &Connection,
    project: &str,
    target: TriggerTask,
    message: &InboundMessage,
    now: i64,
) -> Result<(TaskRecord, bool), EngineError> {
    match target {
        TriggerTask::Existing(task) => Ok((task, false)),
        TriggerTask::New {
            id,
            agent_id,
            created_by_key_id,
            task_prefix,
            external_id,
        } => {
            let date = iso_from_ms(now);
            let task = TaskRecord {
                project: project.to_string(),
                id,
                agent_id,
                created_by_key_id,
                task_prefix,
                title: title(&message.text),
                state: AgentState::StartingUp.as_str().to_string(),
                insert_date: date.clone(),
                update_date: date,
                params: None,
                external_id,
                version: None,
            };
            tasks::insert_task(connection, &task)?;
            Ok((task, true))
        }
    }
}

/// What a message asks of the engine, beside the task it goes to.
struct RunRequest<'m> {
    message: &'m InboundMessage,
    parent_run_id: Option<i64>,
    streaming: Streaming,
    now: i64,
}

/// Resumes the run that waits for an approval, queues a run behind the one going, or starts
/// one; answers the state the task moves to (none when it stays) and the run's id.
fn schedule_run(
    connection: &Connection,
    project: &str,
    task: &TaskRecord,
    run: RunRequest<'_>,
) -> Result<(Option<&'static str>, i64), EngineError> {
    let current = runs::current_for_task(connection, project, &task.id)?;
    match current {
        // A run paused by an `approval` step: this message is the approval. (A tool run that
        // waits for a decision, PROTOCOL A10, is not decided by a plain message: it waits its
        // turn like a message sent while the run is going, the next arm.)
        Some(mut paused)
            if paused.status == RunStatus::AwaitingApproval
                && Progress::decode(&paused.progress)
                    .awaiting_decision
                    .is_none() =>
        {
            // The remaining steps go on, from the run's start phase.
            let mut progress = Progress::decode(&paused.progress);
            progress.started = false;
            paused.progress = progress.encode();
            // The rest of the run is the resuming trigger's: it decides about streaming.
            let agent = agent_behavior(connection, project, task)?;
            paused.streams = run.streaming.resolve(agent.use_streaming);
            paused.status = RunStatus::Due;
            paused.due_at_ms = Some(run.now);
            runs::save(connection, &paused)?;
            Ok((Some(AgentState::StartingUp.as_str()), paused.id))
        }
        Some(_) => {
            let queued = new_run(
                connection,
                project,
                task,
                run.message,
                RunStatus::Queued,
                None,
                run.streaming,
            )?;
            Ok((None, queued))
        }
        None => {
            let started = new_run(
                connection,
                project,
                task,
                run.message,
                RunStatus::Due,
                run.parent_run_id,
                run.streaming,
            )?;
            Ok((Some(AgentState::StartingUp.as_str()), started))
        }
    }
}

/// The task's agent as the engine needs it; an error when it is gone.
fn agent_behavior(
    connection: &Connection,
    project: &str,
    task: &TaskRecord,
) -> Result<AgentBehavior, EngineError> {
    definitions::agent_behavior(connection, project, &task.agent_id)?.ok_or_else(|| {
        EngineError::AgentGone {
            agent_id: task.agent_id.clone(),
            task_id: task.id.clone(),
        }
    })
}

/// Stores a new run of `task`'s agent on `message` with `status` (`Due` starts it now).
pub(super) fn new_run(
    connection: &Connection,
    project: &str,
    task: &TaskRecord,
    message: &InboundMessage,
    status: RunStatus,
    parent_run_id: Option<i64>,
    streaming: Streaming,
) -> Result<i64, EngineError> {
    let agent = agent_behavior(connection, project, task)?;
    let streams = streaming.resolve(agent.use_streaming);
    let behavior = agent.behavior;
    let config: BehaviorConfig =
        serde_json::from_str(&agent.config).map_err(|error| EngineError::UnreadableSettings {
            agent_id: task.agent_id.clone(),
            reason: error.to_string(),
        })?;
    let program = script::program(&behavior, &config, &message.text, &task_params(task));
    let program = serde_json::to_string(&program).map_err(|error| EngineError::Program {
        reason: error.to_string(),
    })?;
    Ok(runs::insert(
        connection,
        &RunRecord {
            id: 0,
            project: project.to_string(),
            task_id: task.id.clone(),
            program,
            end_state: config.end_state,
            chunk_delay_ms: i64::try_from(config.chunk_delay_ms).unwrap_or(i64::MAX),
            step_index: 0,
            phase: 0,
            progress: Progress::default().encode(),
            status,
            due_at_ms: (status == RunStatus::Due).then(now_ms),
            parent_run_id,
            streams,
        },
    )?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn titles_are_trimmed_and_cut_at_sixty_characters() {
        assert_eq!(super::title("  hello  "), "hello");
        let long = "é".repeat(70);
        let cut = super::title(&long);
        assert_eq!(cut.chars().count(), 60);
        assert!(cut.ends_with('…'));
        assert_eq!(super::title(&"x".repeat(60)), "x".repeat(60));
    }
}
