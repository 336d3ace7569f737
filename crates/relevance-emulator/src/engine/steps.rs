//! Executing one due step of one run, in one transaction.
//!
//! A step may take several *phases* (a tool run goes pending → running →
//! finished; typed text grows chunk by chunk). Each call executes exactly one
//! phase, commits its messages and state together with the run's next due
//! time, and hands back the live events to publish after the commit.
//!
//! This file holds the runner, thinking and typing, the messages it writes
//! and the run's schedule; `tool_runs` the `tool` steps, `sub_agents` the
//! `sub_agent` steps, `workforce` a workforce task's run.

use rusqlite::Connection;
use serde_json::{json, Value};

use super::agent_jobs;
use super::content::{Content, TaskDetails, ToolConfig, ToolRun, ToolRunState};
use super::events::{LiveEvent, PendingEvent};
use super::ids::{action_id, new_item_id};
use super::progress::{HandoverRequest, Progress};
use super::script::{Action, Step};
use super::states::{AgentState, WorkforceState};
use super::tool_step::{self, StepTool};
use super::trigger::{self, EngineError, InboundMessage, Streaming, TriggerTask};
use crate::store::cached_rows::AgentRecord;
use crate::store::definitions;
use crate::store::runs::{self, RunRecord, RunStatus};
use crate::store::tasks::{self, TaskScope};

mod sub_agents;
mod tool_runs;
mod workforce;

/// A `tool` step's settings, as the program holds them.
struct ToolStep {
    name: String,
    input: Value,
    output: Value,
    error: Option<String>,
    requires_confirmation: bool,
    action: Option<String>,
}

/// How many characters each typing (or thinking) phase adds: the size of one stream fragment.
const CHUNK_CHARS: usize = 8;

/// Executes the phase of the run due soonest, if one is due by `now`.
pub(crate) fn advance_first_due(
    connection: &mut Connection,
    now: i64,
) -> rusqlite::Result<Option<Vec<PendingEvent>>> {
    let transaction = connection.transaction()?;
    let Some(run) = runs::first_due(&transaction, now)? else {
        return Ok(None);
    };
    let is_workforce_task =
        tasks::workforce_of_task(&transaction, &run.project, &run.task_id)?.is_some();
    let workforce_parent = workforce::parent_workforce_run(&transaction, &run)?;
    let mut runner = Runner {
        connection: &transaction,
        progress: Progress::decode(&run.progress),
        run,
        now,
        events: Vec::new(),
        is_workforce_task,
        workforce_parent,
    };
    runner.advance()?;
    let events = runner.events;
    transaction.commit()?;
    Ok(Some(events))
}

struct Runner<'c> {
    connection: &'c Connection,
    run: RunRecord,
    progress: Progress,
    now: i64,
    events: Vec<PendingEvent>,
    /// This run belongs to a workforce task (whose states differ from an agent task's).
    is_workforce_task: bool,
    /// This run is a workforce member's: the workforce run (and task) that started it,
    /// which also gets the member's live events and its handover.
    workforce_parent: Option<(i64, String)>,
}

impl Runner<'_> {
    fn advance(&mut self) -> rusqlite::Result<()> {
        let program: Vec<Step> = match serde_json::from_str(&self.run.program) {
            Ok(program) => program,
            Err(error) => {
                tracing::error!(%error, task = %self.run.task_id, "unreadable run program");
                self.write(Content::agent_error(
                    "the emulator could not read this run's steps",
                ))?;
                let failed = if self.is_workforce_task {
                    WorkforceState::ErroredPendingApproval.as_str()
                } else {
                    AgentState::Unrecoverable.as_str()
                };
                return self.finish(failed);
            }
        };
        if !self.progress.started {
            self.progress.started = true;
            self.set_state(AgentState::Running.as_str())?;
            return self.schedule_step(&program);
        }
        let index = usize::try_from(self.run.step_index).unwrap_or(usize::MAX);
        let Some(step) = program.get(index).cloned() else {
            let end_state = self.run.end_state.clone();
            return self.finish(&end_state);
        };
        match step.action {
            Action::Think { text } => self.think(&program, text),
            Action::Reply { text } => {
                self.write_agent_message(&text, false)?;
                self.next_step(&program)
            }
            Action::Type { text } => self.type_text(&program, &text),
            Action::Tool {
                name,
                input,
                output,
                error,
                requires_confirmation,
                action_id,
            } => {
                let tool = ToolStep {
                    name,
                    input,
                    output,
                    error,
                    requires_confirmation,
                    action: action_id,
                };
                self.tool(&program, step.delay_ms, tool)
            }
            Action::Error { text, continue_run } => {
                self.write(Content::agent_error(&text))?;
                if continue_run {
                    self.next_step(&program)
                } else {
                    self.finish(AgentState::Unrecoverable.as_str())
                }
            }
            Action::Approval { text } => {
                self.write_agent_message(&text, false)?;
                self.set_state(AgentState::PendingApproval.as_str())?;
                self.run.step_index += 1;
                self.park(0, RunStatus::AwaitingApproval)
            }
            Action::SubAgent { agent_id, message } => {
                self.sub_agent(&program, step.delay_ms, &agent_id, &message)
            }
            Action::Handover { agent_id, message } => self.hand_over(agent_id, message),
            Action::Workforce {
                workforce_id,
                first_agent_id,
                message,
                execution_limit,
            } => self.drive_workforce(&workforce_id, &first_agent_id, &message, execution_limit),
        }
    }

    /// A `think` step: the thought goes out as fragments of [`CHUNK_CHARS`] characters, one
    /// per phase, all with the next agent message's id; then it waits for that message.
    fn think(&mut self, program: &[Step], text: String) -> rusqlite::Result<()> {
        let total = text.chars().count();
        let message_id = self
            .progress
            .next_message_id
            .get_or_insert_with(new_item_id)
            .clone();
        let from = self.progress.typed;
        let to = total.min(from + CHUNK_CHARS);
        if from < to {
            let delta: String = text.chars().skip(from).take(to - from).collect();
            self.publish(LiveEvent::Thinking { delta, message_id });
        }
        if to < total {
            self.progress.typed = to;
            let chunk_delay = self.run.chunk_delay_ms;
            return self.again_after(chunk_delay);
        }
        self.progress.typed = 0;
        self.progress.thinking.push(text);
        self.next_step(program)
    }

    /// A `type` step: the message is written with its first chunk while `generating`, grows
    /// by one chunk per phase (each chunk published as one `text` fragment), then is final.
    fn type_text(&mut self, program: &[Step], text: &str) -> rusqlite::Result<()> {
        let total = text.chars().count();
        let chunk_delay = self.run.chunk_delay_ms;
        match self.progress.item_id.clone() {
            None => {
                self.progress.typed = total.min(CHUNK_CHARS);
                let typed: String = text.chars().take(self.progress.typed).collect();
                let item_id = self.write_agent_message(&typed, true)?;
                self.publish_text(typed, &item_id);
                self.progress.item_id = Some(item_id);
                self.again_after(chunk_delay)
            }
            Some(item_id) if self.progress.typed < total => {
                let from = self.progress.typed;
                self.progress.typed = total.min(from + CHUNK_CHARS);
                let typed: String = text.chars().take(self.progress.typed).collect();
                let delta: String = typed.chars().skip(from).collect();
                self.edit(&item_id, |content| {
                    if let Content::AgentMessage(message) = content {
                        message.text = typed;
                        message.generating = true;
                    }
                })?;
                self.publish_text(delta, &item_id);
                self.again_after(chunk_delay)
            }
            Some(item_id) => {
                self.edit(&item_id, |content| {
                    if let Content::AgentMessage(message) = content {
                        message.text = text.to_string();
                        message.generating = false;
                    }
                })?;
                self.progress.item_id = None;
                self.progress.typed = 0;
                self.next_step(program)
            }
        }
    }

    /// One `text` fragment of the message `item_id`; an empty one is not sent.
    fn publish_text(&mut self, delta: String, item_id: &str) {
        if !delta.is_empty() {
            self.publish(LiveEvent::Typing {
                delta,
                message_id: item_id.to_string(),
            });
        }
    }

    /// Writes an `agent-message` that takes the thoughts collected since the last one, with
    /// the id their thinking fragments announced (a fresh one when nothing was thought).
    fn write_agent_message(&mut self, text: &str, generating: bool) -> rusqlite::Result<String> {
        let thinking = std::mem::take(&mut self.progress.thinking);
        let content = Content::agent_message(text, generating, thinking);
        let item_id = self
            .progress
            .next_message_id
            .take()
            .unwrap_or_else(new_item_id);
        self.write_with_id(item_id, content)
    }

    /// Queues an event for this run's task; a workforce member's thinking, typing and
    /// messages go to its workforce task too (its state changes do not: they are an
    /// agent task's states, not the workforce's). A run that does not stream publishes
    /// no thinking or typing at all (PROTOCOL A8b).
    fn publish(&mut self, event: LiveEvent) {
        let is_stream_event =
            matches!(event, LiveEvent::Thinking { .. } | LiveEvent::Typing { .. });
        if is_stream_event && !self.run.streams {
            return;
        }
        if let Some((_, workforce_task)) = &self.workforce_parent {
            if !matches!(event, LiveEvent::StateChanged { .. }) {
                self.events.push(PendingEvent {
                    project: self.run.project.clone(),
                    task_id: workforce_task.clone(),
                    event: event.clone(),
                });
            }
        }
        self.events.push(PendingEvent {
            project: self.run.project.clone(),
            task_id: self.run.task_id.clone(),
            event,
        });
    }

    fn write(&mut self, content: Content) -> rusqlite::Result<String> {
        self.write_with_id(new_item_id(), content)
    }

    fn write_with_id(&mut self, item_id: String, content: Content) -> rusqlite::Result<String> {
        tasks::insert_message(
            self.connection,
            &self.run.project,
            &self.run.task_id,
            &item_id,
            &content.to_json(),
        )?;
        self.publish(LiveEvent::MessageWritten {
            item_id: item_id.clone(),
        });
        self.publish_if_final(&item_id, &content);
        Ok(item_id)
    }

    /// `MessageFinal` when `content` is an agent message that is no longer being written.
    fn publish_if_final(&mut self, item_id: &str, content: &Content) {
        if content.is_final_agent_message() {
            self.publish(LiveEvent::MessageFinal {
                item_id: item_id.to_string(),
            });
        }
    }

    /// Updates the message `item_id` in place: reads its content, applies `change`, stores it.
    fn edit(&mut self, item_id: &str, change: impl FnOnce(&mut Content)) -> rusqlite::Result<()> {
        let Some(mut content) = self.read_content(item_id)? else {
            return Ok(());
        };
        change(&mut content);
        self.write_back(item_id, &content)
    }

    /// The content of the run's message `item_id`; `None` (logged) when it is gone or is not
    /// one the engine wrote, so the caller leaves it as it is.
    fn read_content(&self, item_id: &str) -> rusqlite::Result<Option<Content>> {
        let Some(stored) = tasks::message_content(self.connection, item_id)? else {
            tracing::error!(item_id, "a run's message is gone; skipping the update");
            return Ok(None);
        };
        let content = Content::from_json(stored);
        if content.is_none() {
            tracing::error!(
                item_id,
                "a run's message is not one the engine wrote; skipping the update"
            );
        }
        Ok(content)
    }

    /// Stores `content` as the message `item_id` and tells the task's listeners.
    fn write_back(&mut self, item_id: &str, content: &Content) -> rusqlite::Result<()> {
        tasks::update_message(
            self.connection,
            &self.run.project,
            &self.run.task_id,
            item_id,
            &content.to_json(),
        )?;
        self.publish(LiveEvent::MessageWritten {
            item_id: item_id.to_string(),
        });
        self.publish_if_final(item_id, content);
        Ok(())
    }

    /// [`Runner::edit`] of a `tool-run`; another kind of message is left as it is.
    fn edit_tool_run(
        &mut self,
        item_id: &str,
        change: impl FnOnce(&mut ToolRun),
    ) -> rusqlite::Result<()> {
        self.edit(item_id, |content| match content {
            Content::ToolRun(run) => change(run),
            _ => tracing::error!("a tool step's message is not a tool run; left as it is"),
        })
    }

    /// [`Runner::edit`] of a `workforce-agent-run`'s `task_details`.
    fn edit_task_details(
        &mut self,
        item_id: &str,
        change: impl FnOnce(&mut TaskDetails),
    ) -> rusqlite::Result<()> {
        self.edit(item_id, |content| match content {
            Content::WorkforceAgentRun(run) => change(&mut run.task_details),
            _ => tracing::error!("a member's run message is not a workforce agent run"),
        })
    }

    fn set_state(&mut self, state: &str) -> rusqlite::Result<()> {
        tasks::set_task_state(self.connection, &self.run.project, &self.run.task_id, state)?;
        self.publish(LiveEvent::StateChanged {
            state: state.to_string(),
        });
        Ok(())
    }

    fn save(&mut self) -> rusqlite::Result<()> {
        self.run.progress = self.progress.encode();
        runs::save(self.connection, &self.run)
    }

    /// The current step's next phase, `delay_ms` from now.
    fn again_after(&mut self, delay_ms: i64) -> rusqlite::Result<()> {
        self.run.phase += 1;
        self.run.due_at_ms = Some(self.now.saturating_add(delay_ms));
        self.save()
    }

    /// The step at `step_index`, after its own delay (or the run's end, at once).
    fn schedule_step(&mut self, program: &[Step]) -> rusqlite::Result<()> {
        let index = usize::try_from(self.run.step_index).unwrap_or(usize::MAX);
        let delay = program
            .get(index)
            .map_or(0, |step| i64::try_from(step.delay_ms).unwrap_or(i64::MAX));
        self.run.phase = 0;
        self.run.status = RunStatus::Due;
        self.run.due_at_ms = Some(self.now.saturating_add(delay));
        self.save()
    }

    fn next_step(&mut self, program: &[Step]) -> rusqlite::Result<()> {
        self.run.step_index += 1;
        self.schedule_step(program)
    }

    /// Ends the run: the task's final state, then the next queued run or the waiting parent.
    fn finish(&mut self, state: &str) -> rusqlite::Result<()> {
        let queued = runs::next_queued(
            self.connection,
            &self.run.project,
            &self.run.task_id,
            self.run.id,
        )?;
        runs::delete(self.connection, self.run.id)?;
        agent_jobs::run_ended(
            self.connection,
            &self.run.project,
            &self.run.task_id,
            self.run.id,
            state,
        )?;
        match queued {
            Some(mut next) => {
                next.status = RunStatus::Due;
                next.due_at_ms = Some(self.now);
                runs::save(self.connection, &next)?;
                // Workforce tasks have no queued state: the next message's run keeps it running.
                let queued = if self.is_workforce_task {
                    WorkforceState::Running.as_str()
                } else {
                    AgentState::StartingUp.as_str()
                };
                self.set_state(queued)?;
            }
            None => self.set_state(state)?,
        }
        if let Some(parent_id) = self.run.parent_run_id {
            if let Some(mut parent) = runs::find(self.connection, parent_id)? {
                parent.status = RunStatus::Due;
                parent.due_at_ms = Some(self.now);
                runs::save(self.connection, &parent)?;
            }
        }
        Ok(())
    }
}
