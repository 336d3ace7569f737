//! A script's `tool` steps: the `tool-run` message written `pending`, then `running`, then
//! `finished` or `error` — or parked while a person decides (PROTOCOL A10), and the tool
//! the project defines when the step names one.

use super::*;

impl Runner<'_> {
    pub(super) fn tool_config(
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
    pub(super) fn project_tool_config(
        &self,
        id: &str,
        tool: &StepTool,
    ) -> rusqlite::Result<ToolConfig> {
        let mut config = self.tool_config("tool", id, &tool.title, &tool.description)?;
        config.emoji = tool.emoji.clone();
        config.params_schema = tool.params_schema.clone();
        Ok(config)
    }

    /// The fields of a new tool run of `kind` (`tool` / `agent`) `tool_id` with `input` that
    /// the platform's schema asks for (PROTOCOL A7c): `action_details` (the agent's stable
    /// action id and a fresh request id), `requires_confirmation` and the parsed `params`.
    pub(super) fn new_tool_run(
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

    pub(super) fn tool(
        &mut self,
        program: &[Step],
        delay_ms: u64,
        tool: ToolStep,
    ) -> rusqlite::Result<()> {
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
    pub(super) fn project_tool(
        &self,
        name: &str,
        input: &Value,
    ) -> rusqlite::Result<Option<StepTool>> {
        tool_step::find(self.connection, &self.run.project, name, input)
    }

    /// Phase 0 of a tool step: the `pending` tool run, which either waits for a person
    /// (A10) or runs after the step's delay.
    pub(super) fn start_tool_run(&mut self, delay: i64, tool: ToolStep) -> rusqlite::Result<()> {
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
    pub(super) fn finish_tool_run(
        &mut self,
        item_id: &str,
        tool: ToolStep,
    ) -> rusqlite::Result<()> {
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
    pub(super) fn await_decision(&mut self, request_id: Option<String>) -> rusqlite::Result<()> {
        self.set_state(AgentState::PendingApproval.as_str())?;
        self.progress.awaiting_decision = request_id;
        self.park(1, RunStatus::AwaitingApproval)
    }

    /// The run stops being due: it waits in `status` (a person, a sub-agent) and goes on at
    /// `phase` when what it waits for wakes it.
    pub(super) fn park(&mut self, phase: i64, status: RunStatus) -> rusqlite::Result<()> {
        self.run.phase = phase;
        self.run.status = status;
        self.run.due_at_ms = None;
        if status == RunStatus::AwaitingApproval {
            // The run waits for a person: the jobs that follow it end (PROTOCOL A15).
            super::super::agent_jobs::run_waits(
                self.connection,
                &self.run.project,
                &self.run.task_id,
                self.run.id,
            )?;
        }
        self.save()
    }
}
