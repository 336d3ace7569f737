//! A script's `sub_agent` steps: the `tool-run` of type `agent`, the sub-agent's own task
//! and run, and the parent run waiting until that run ends.

use super::*;

impl Runner<'_> {
    /// A sub-agent step in three phases: the tool run is written (pending), then the
    /// sub-agent's task is started (running, the parent waits), then its end is recorded.
    pub(super) fn sub_agent(
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
    pub(super) fn sub_agent_pending(
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
    pub(super) fn sub_agent_start(
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
    pub(super) fn sub_agent_finish(
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
    pub(super) fn sub_agent_failed(
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
}
