//! Executing one due step of one run, in one transaction.
//!
//! A step may take several *phases* (a tool run goes pending → running →
//! finished; typed text grows chunk by chunk). Each call executes exactly one
//! phase, commits its messages and state together with the run's next due
//! time, and hands back the live events to publish after the commit.

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

    fn tool_config(
        &self,
        kind: &str,
        id: &str,
        title: &str,
        description: &str,
    ) -> rusqlite::Result<ToolConfig> {
        let region = definitions::project_region(self.connection, &self.run.project)?
            .map(|region| region.code().to_string())
            .unwrap_or_default();
        Ok(ToolConfig {
            kind: kind.to_string(),
            title: title.to_string(),
            description: description.to_string(),
            region: region.to_string(),
            project: self.run.project.clone(),
            id: id.to_string(),
            emoji: None,
            version: "latest".to_string(),
            params_schema: json!({}),
        })
    }

    /// The `tool_config` of a run of the project's tool `id`: its own title, description,
    /// emoji and `params_schema`.
    fn project_tool_config(&self, id: &str, tool: &StepTool) -> rusqlite::Result<ToolConfig> {
        let mut config = self.tool_config("tool", id, &tool.title, &tool.description)?;
        config.emoji = tool.emoji.clone();
        config.params_schema = tool.params_schema.clone();
        Ok(config)
    }

    /// The fields of a new tool run of `kind` (`tool` / `agent`) `tool_id` with `input` that
    /// the platform's schema asks for (PROTOCOL A7c): `action_details` (the agent's stable
    /// action id and a fresh request id), `requires_confirmation` and the parsed `params`.
    fn new_tool_run(
        &self,
        kind: &str,
        tool_id: &str,
        input: Value,
        tool_config: ToolConfig,
    ) -> rusqlite::Result<Content> {
        let agent_id = tasks::find_task(
            self.connection,
            &self.run.project,
            &TaskScope::Project,
            &self.run.task_id,
        )?
        .map(|task| task.agent_id)
        .unwrap_or_default();
        Ok(Content::tool_run(
            tool_config,
            action_id(&agent_id, kind, tool_id),
            input,
        ))
    }

    fn tool(&mut self, program: &[Step], delay_ms: u64, tool: ToolStep) -> rusqlite::Result<()> {
        let delay = i64::try_from(delay_ms).unwrap_or(i64::MAX);
        match (self.run.phase, self.progress.item_id.clone()) {
            (0, _) | (_, None) => self.start_tool_run(delay, tool),
            (1, Some(item_id)) => {
                self.edit_tool_run(&item_id, |run| run.tool_run_state = ToolRunState::Running)?;
                let project_tool = self.project_tool(&tool.name, &tool.input)?;
                let tool_delay = project_tool.map_or(0, |found| found.outcome.delay_ms);
                self.again_after(delay.saturating_add(i64::try_from(tool_delay).unwrap_or(0)))
            }
            (_, Some(item_id)) => {
                self.finish_tool_run(&item_id, tool)?;
                self.progress.item_id = None;
                self.next_step(program)
            }
        }
    }

    /// A tool of the project runs through the same code as `trigger_limited`.
    fn project_tool(&self, name: &str, input: &Value) -> rusqlite::Result<Option<StepTool>> {
        tool_step::find(self.connection, &self.run.project, name, input)
    }

    /// Phase 0 of a tool step: the `pending` tool run, which either waits for a person
    /// (A10) or runs after the step's delay.
    fn start_tool_run(&mut self, delay: i64, tool: ToolStep) -> rusqlite::Result<()> {
        let name = tool.name.as_str();
        let tool_config = match self.project_tool(name, &tool.input)? {
            Some(found) => self.project_tool_config(name, &found)?,
            None => self.tool_config("tool", name, name, &format!("Emulated tool `{name}`"))?,
        };
        let mut content = self.new_tool_run("tool", name, tool.input, tool_config)?;
        let mut request_id = None;
        if let Content::ToolRun(run) = &mut content {
            if let Some(action) = tool.action {
                run.action_details.action = action;
            }
            run.requires_confirmation = tool.requires_confirmation;
            request_id = Some(run.action_details.action_request_id.clone());
        }
        let item_id = self.write(content)?;
        self.progress.item_id = Some(item_id);
        self.run.phase = 0;
        if tool.requires_confirmation {
            return self.await_decision(request_id);
        }
        self.again_after(delay)
    }

    /// The last phase of a tool step: the run's outcome. A project tool runs on the params
    /// the run holds (after an approval, the override merged in); a tool the project does
    /// not have gives the step's scripted output or error.
    fn finish_tool_run(&mut self, item_id: &str, tool: ToolStep) -> rusqlite::Result<()> {
        // One read: the params to run on come from the same message the outcome goes into.
        let Some(mut content) = self.read_content(item_id)? else {
            return Ok(());
        };
        let Content::ToolRun(run) = &mut content else {
            tracing::error!("a tool step's message is not a tool run; left as it is");
            return Ok(());
        };
        let (output, error) = match self.project_tool(&tool.name, &run.params.json)? {
            Some(found) => (found.outcome.output.clone(), found.error()),
            None => (tool.output, tool.error),
        };
        match &error {
            Some(text) => run.fail(text, &tool.name),
            None => {
                // A tool that waited for a person and has no scripted output echoes the
                // params it ran with (the override merged in), so a caller sees what was
                // approved.
                let echo = run.requires_confirmation
                    && output.as_object().is_some_and(|fields| fields.is_empty());
                run.output = if echo {
                    serde_json::json!({ "params": run.params.json })
                } else {
                    output
                };
                run.finish();
            }
        }
        self.write_back(item_id, &content)
    }

    /// The tool run just written waits for a person: the task is `pending-approval` and the
    /// run pauses, its next phase (running) due only once a decision names `request_id`
    /// (`engine::decision`).
    fn await_decision(&mut self, request_id: Option<String>) -> rusqlite::Result<()> {
        self.set_state(AgentState::PendingApproval.as_str())?;
        self.progress.awaiting_decision = request_id;
        self.park(1, RunStatus::AwaitingApproval)
    }

    /// The run stops being due: it waits in `status` (a person, a sub-agent) and goes on at
    /// `phase` when what it waits for wakes it.
    fn park(&mut self, phase: i64, status: RunStatus) -> rusqlite::Result<()> {
        self.run.phase = phase;
        self.run.status = status;
        self.run.due_at_ms = None;
        if status == RunStatus::AwaitingApproval {
            agent_jobs::run_waits(
                self.connection,
                &self.run.project,
                &self.run.task_id,
                self.run.id,
            )?;
        }
        self.save()
    }

    /// A sub-agent step in three phases: the tool run is written (pending), then the
    /// sub-agent's task is started (running, the parent waits), then its end is recorded.
    fn sub_agent(
        &mut self,
        program: &[Step],
        delay_ms: u64,
        agent_id: &str,
        message: &str,
    ) -> rusqlite::Result<()> {
        let agent = definitions::find_agent(
            self.connection,
            &self.run.project,
            &definitions::Visibility::All,
            agent_id,
        )?;
        match (self.run.phase, self.progress.item_id.clone()) {
            (0, _) | (_, None) => {
                self.sub_agent_pending(agent.as_ref(), delay_ms, agent_id, message)
            }
            (1, Some(item_id)) => {
                self.sub_agent_start(program, agent.is_some(), &item_id, agent_id, message)
            }
            (_, Some(item_id)) => self.sub_agent_finish(program, &item_id, agent_id),
        }
    }

    /// Writes the pending tool run that stands for the sub-agent, titled with its name.
    fn sub_agent_pending(
        &mut self,
        agent: Option<&AgentRecord>,
        delay_ms: u64,
        agent_id: &str,
        message: &str,
    ) -> rusqlite::Result<()> {
        let title = agent
            .and_then(|agent| agent.name.clone())
            .unwrap_or_else(|| agent_id.to_string());
        let description = agent
            .and_then(|agent| agent.description.clone())
            .unwrap_or_default();
        let mut tool_config = self.tool_config("agent", agent_id, &title, &description)?;
        tool_config.emoji = agent.and_then(|agent| agent.emoji.clone());
        let content =
            self.new_tool_run("agent", agent_id, json!({"message": message}), tool_config)?;
        let item_id = self.write(content)?;
        self.progress.item_id = Some(item_id);
        self.run.phase = 0;
        self.again_after(i64::try_from(delay_ms).unwrap_or(i64::MAX))
    }

    /// Starts the sub-agent's own task and parks this run until it ends; an unknown agent or
    /// a refused trigger fails the tool run and the program goes on.
    fn sub_agent_start(
        &mut self,
        program: &[Step],
        agent_exists: bool,
        item_id: &str,
        agent_id: &str,
        message: &str,
    ) -> rusqlite::Result<()> {
        let parent = tasks::find_task(
            self.connection,
            &self.run.project,
            &TaskScope::Project,
            &self.run.task_id,
        )?;
        let (true, Some(parent)) = (agent_exists, parent) else {
            let problem = format!("agent {agent_id} is not an agent of this project");
            return self.sub_agent_failed(program, item_id, agent_id, &problem);
        };
        let child_id = new_item_id();
        let accepted = match trigger::accept(
            self.connection,
            &self.run.project,
            TriggerTask::New {
                id: child_id.clone(),
                agent_id: agent_id.to_string(),
                created_by_key_id: parent.created_by_key_id,
                task_prefix: None,
                external_id: None,
            },
            &InboundMessage {
                text: message.to_string(),
                attachments: None,
                ..InboundMessage::default()
            },
            Some(self.run.id),
            // A sub-agent's run follows the sub-agent's own setting.
            Streaming::AgentSetting,
        ) {
            Ok(accepted) => accepted,
            Err(EngineError::Store(error)) => return Err(error),
            Err(problem) => {
                return self.sub_agent_failed(program, item_id, agent_id, &problem.to_string())
            }
        };
        self.events.extend(accepted.events);
        self.edit_tool_run(item_id, |run| {
            run.tool_run_state = ToolRunState::Running;
            run.output = json!({"_agent_conversation_details": {
                "agent_id": agent_id, "conversation_id": child_id,
            }});
        })?;
        self.progress.child_task_id = Some(child_id);
        self.park(2, RunStatus::AwaitingSubAgent)
    }

    /// The sub-agent's task ended: its tool run is finished, or failed when the task did.
    fn sub_agent_finish(
        &mut self,
        program: &[Step],
        item_id: &str,
        agent_id: &str,
    ) -> rusqlite::Result<()> {
        let child_state = match &self.progress.child_task_id {
            Some(child) => tasks::task_state(self.connection, &self.run.project, child)?,
            None => None,
        };
        let failed = !matches!(child_state.as_deref(), Some(state) if state != "unrecoverable");
        self.edit_tool_run(item_id, |run| {
            if failed {
                run.fail("the sub-agent's task ended in an error", agent_id);
            } else {
                run.finish();
            }
        })?;
        self.progress.item_id = None;
        self.progress.child_task_id = None;
        self.next_step(program)
    }

    /// The sub-agent's tool run failed with `problem` before its task ran; on to the next step.
    fn sub_agent_failed(
        &mut self,
        program: &[Step],
        item_id: &str,
        agent_id: &str,
        problem: &str,
    ) -> rusqlite::Result<()> {
        self.edit_tool_run(item_id, |run| run.fail(problem, agent_id))?;
        self.progress.item_id = None;
        self.next_step(program)
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
