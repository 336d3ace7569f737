//! A user message to a workforce: write it into the workforce task and start
//! (or queue) the workforce run, in the caller's transaction.
//!
//! The caller has already decided that the message may be written (scope,
//! prefix, body). A workforce task is `running` from the moment it is
//! triggered: workforces have no queued state (PROTOCOL A6).

use rusqlite::Connection;

use super::content::Content;
use super::events::{LiveEvent, PendingEvent};
use super::ids::new_item_id;
use super::progress::Progress;
use super::script::{Action, Step};
use super::trigger::title;
use crate::store::definitions::{self, WorkforceRecord};
use crate::store::runs::{self, RunRecord, RunStatus};
use crate::store::tasks;
use crate::store::workforce_tasks::{self, NewWorkforceTask, WorkforceTaskRecord};
use crate::time::{iso_from_ms, now_ms};

/// The workforce task a message goes to.
#[derive(Debug, Clone)]
pub(crate) enum WorkforceTriggerTask {
    /// A task of this workforce that the caller may write to.
    Existing(WorkforceTaskRecord),
    /// A task to create with this id.
    New {
        id: String,
        created_by_key_id: String,
        task_prefix: Option<String>,
    },
}

/// What the workforce trigger answers with, and the events to publish after the commit.
#[derive(Debug, Clone)]
pub(crate) struct WorkforceTriggerOutcome {
    pub(crate) task_id: String,
    pub(crate) events: Vec<PendingEvent>,
}

/// Writes the user message and starts the workforce run, or queues it behind the one going;
/// `use_streaming` (the trigger's `trigger.use_streaming`) decides for every member run the
/// workforce run starts (PROTOCOL A8b). One transaction: the caller's.
pub(crate) fn accept(
    connection: &Connection,
    project: &str,
    workforce: &WorkforceRecord,
    target: WorkforceTriggerTask,
    text: &str,
    use_streaming: bool,
) -> rusqlite::Result<WorkforceTriggerOutcome> {
    let now = now_ms();
    let (task_id, is_new) = open_task(connection, project, workforce, target, text, now)?;
    let mut events = Vec::new();
    let mut publish = |event: LiveEvent| {
        events.push(PendingEvent {
            project: project.to_string(),
            task_id: task_id.clone(),
            event,
        });
    };
    let item_id = new_item_id();
    let content = Content::user_message(text, is_new, None);
    tasks::insert_message(connection, project, &task_id, &item_id, &content.to_json())?;
    publish(LiveEvent::MessageWritten { item_id });

    let run = WorkforceRun {
        workforce,
        text,
        use_streaming,
    };
    let started = run.queue(connection, project, &task_id, now)?;
    if started {
        tasks::set_task_state(connection, project, &task_id, "running")?;
        publish(LiveEvent::StateChanged {
            state: "running".to_string(),
        });
    }
    Ok(WorkforceTriggerOutcome { task_id, events })
}

/// The task the message goes to: the existing one, or a new one written now. Answers its
/// id and whether it is new (a new task's first message carries the task's title).
fn open_task(
    connection: &Connection,
    project: &str,
    workforce: &WorkforceRecord,
    target: WorkforceTriggerTask,
    text: &str,
    now: i64,
) -> rusqlite::Result<(String, bool)> {
    match target {
        WorkforceTriggerTask::Existing(task) => Ok((task.id, false)),
        WorkforceTriggerTask::New {
            id,
            created_by_key_id,
            task_prefix,
        } => {
            workforce_tasks::insert(
                connection,
                &NewWorkforceTask {
                    project,
                    id: &id,
                    workforce_id: &workforce.id,
                    created_by_key_id: &created_by_key_id,
                    task_prefix: task_prefix.as_deref(),
                    title: &title(text),
                    state: "running",
                    date: &iso_from_ms(now),
                },
            )?;
            Ok((id, true))
        }
    }
}

/// The run one workforce message starts.
struct WorkforceRun<'a> {
    workforce: &'a WorkforceRecord,
    text: &'a str,
    use_streaming: bool,
}

impl WorkforceRun<'_> {
    /// Writes the run: due now, or queued behind the task's current run. Answers whether it
    /// is due now (so the task is running).
    fn queue(
        &self,
        connection: &Connection,
        project: &str,
        task_id: &str,
        now: i64,
    ) -> rusqlite::Result<bool> {
        // Read at trigger time: a member added to the seed later serves later messages.
        let first_agent_id =
            definitions::workforce_members(connection, project, &self.workforce.id)?
                .into_iter()
                .next()
                .unwrap_or_default();
        let program = vec![Step {
            delay_ms: 0,
            action: Action::Workforce {
                workforce_id: self.workforce.id.clone(),
                first_agent_id,
                message: self.text.to_string(),
                execution_limit: self.workforce.execution_limit,
            },
        }];
        let program = serde_json::to_string(&program).map_err(|error| {
            rusqlite::Error::ToSqlConversionFailure(
                format!("cannot store a workforce run's program: {error}").into(),
            )
        })?;
        let busy = runs::current_for_task(connection, project, task_id)?.is_some();
        let status = if busy {
            RunStatus::Queued
        } else {
            RunStatus::Due
        };
        runs::insert(
            connection,
            &RunRecord {
                id: 0,
                project: project.to_string(),
                task_id: task_id.to_string(),
                program,
                end_state: "completed".to_string(),
                chunk_delay_ms: 0,
                step_index: 0,
                phase: 0,
                progress: Progress::default().encode(),
                status,
                due_at_ms: (status == RunStatus::Due).then_some(now),
                parent_run_id: None,
                streams: self.use_streaming,
            },
        )?;
        Ok(!busy)
    }
}
