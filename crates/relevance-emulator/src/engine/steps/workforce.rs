//! A workforce task's run: member agents taking turns, one run each, in their own tasks.
//!
//! The run's one step starts a member (a `workforce-agent-run` message in the
//! workforce task, the member's own agent task with the message, its run
//! waiting on the member's like a sub-agent's parent), then waits. When the
//! member's run ends, the run message gets its `finished_state`, and the
//! workforce either hands over to the member the ended one named, or ends:
//! `completed`, `errored-pending-approval` (the member failed), or
//! `execution-limit-reached` (too many member runs for one trigger).

use rusqlite::Connection;

use super::{HandoverRequest, Progress, Runner};
use crate::engine::content::{AgentDetails, Content, TaskDetails};
use crate::engine::ids::new_item_id;
use crate::engine::states::WorkforceState;
use crate::engine::trigger::{self, EngineError, InboundMessage, Streaming, TriggerTask};
use crate::store::cached_rows::AgentRecord;
use crate::store::definitions::{self, Visibility};
use crate::store::runs::{self, RunRecord, RunStatus};
use crate::store::tasks;
use crate::store::workforce_tasks::{self, WorkforceTaskScope};

/// The state a member's run ends in when it failed.
const MEMBER_FAILED: &str = "unrecoverable";

/// The workforce run (id, task) that started `run`, when `run` is a workforce member's.
pub(super) fn parent_workforce_run(
    connection: &Connection,
    run: &RunRecord,
) -> rusqlite::Result<Option<(i64, String)>> {
    let Some(parent_id) = run.parent_run_id else {
        return Ok(None);
    };
    let Some(parent) = runs::find(connection, parent_id)? else {
        return Ok(None);
    };
    Ok(
        tasks::workforce_of_task(connection, &parent.project, &parent.task_id)?
            .map(|_| (parent.id, parent.task_id)),
    )
}

impl Runner<'_> {
    /// A member's `handover` step: ends its run; the workforce run takes it from there.
    pub(super) fn hand_over(&mut self, agent_id: String, message: String) -> rusqlite::Result<()> {
        if let Some((parent_id, _)) = &self.workforce_parent {
            if let Some(mut parent) = runs::find(self.connection, *parent_id)? {
                let mut progress = Progress::decode(&parent.progress);
                progress.handover = Some(HandoverRequest { agent_id, message });
                parent.progress = progress.encode();
                runs::save(self.connection, &parent)?;
            }
        }
        // Outside a workforce there is nobody to hand over to: the run just ends.
        let end_state = self.run.end_state.clone();
        self.finish(&end_state)
    }

    /// The workforce run's one step: phase 0 starts the first member; later phases run
    /// each time a member's run has ended.
    pub(super) fn drive_workforce(
        &mut self,
        workforce_id: &str,
        first_agent_id: &str,
        message: &str,
        execution_limit: u32,
    ) -> rusqlite::Result<()> {
        if self.run.phase == 0 {
            return self.start_member(
                workforce_id,
                first_agent_id,
                message,
                execution_limit,
                false,
            );
        }
        let child_state = match self.progress.child_task_id.take() {
            Some(child) => tasks::task_state(self.connection, &self.run.project, &child)?,
            None => None,
        };
        if let Some(item_id) = self.progress.item_id.take() {
            let finished = child_state.clone().unwrap_or_else(|| MEMBER_FAILED.into());
            self.edit_task_details(&item_id, |details| {
                details.finished_state = Some(finished.clone());
                details.current_state = Some(finished);
            })?;
        }
        match (child_state.as_deref(), self.progress.handover.take()) {
            (None | Some(MEMBER_FAILED), _) => {
                self.finish(WorkforceState::ErroredPendingApproval.as_str())
            }
            (Some(_), Some(handover)) => self.start_member(
                workforce_id,
                &handover.agent_id,
                &handover.message,
                execution_limit,
                true,
            ),
            (Some(_), None) => self.finish(WorkforceState::Completed.as_str()),
        }
    }

    /// Starts `agent_id`'s run on `text` (after a handover message when `is_handover`),
    /// unless the limit is reached or the agent is not a member.
    fn start_member(
        &mut self,
        workforce_id: &str,
        agent_id: &str,
        text: &str,
        execution_limit: u32,
        is_handover: bool,
    ) -> rusqlite::Result<()> {
        let project = self.run.project.clone();
        let Some(agent) = self.admit_member(workforce_id, agent_id, execution_limit)? else {
            return Ok(());
        };
        let Some(task) = workforce_tasks::find(
            self.connection,
            &project,
            &WorkforceTaskScope::Project,
            &self.run.task_id,
        )?
        else {
            tracing::error!(task = %self.run.task_id, "a workforce run's task is gone");
            runs::delete(self.connection, self.run.id)?;
            return Ok(());
        };
        let region = definitions::project_region(self.connection, &project)?
            .map(|region| region.code().to_string())
            .unwrap_or_default();
        let agent_details = AgentDetails {
            agent_id: agent.id,
            project: project.clone(),
            region: region.to_string(),
            name: agent.name,
            emoji: agent.emoji,
            description: agent.description,
            deleted_reason: None,
        };
        if is_handover {
            self.write(Content::workforce_agent_handover(
                agent_details.clone(),
                text,
            ))?;
        }
        let member_task = new_item_id();
        let accepted = trigger::accept(
            self.connection,
            &project,
            TriggerTask::New {
                id: member_task.clone(),
                agent_id: agent_id.to_string(),
                created_by_key_id: task.created_by_key_id,
                task_prefix: None,
                external_id: None,
            },
            &InboundMessage {
                text: text.to_string(),
                attachments: None,
                ..InboundMessage::default()
            },
            Some(self.run.id),
            // The workforce run keeps its trigger's `use_streaming` for its members.
            Streaming::Decided(self.run.streams),
        );
        let accepted = match accepted {
            Ok(accepted) => accepted,
            Err(EngineError::Store(error)) => return Err(error),
            Err(problem) => {
                self.note(&format!("agent {agent_id:?} could not run: {problem}"))?;
                return self.finish(WorkforceState::ErroredPendingApproval.as_str());
            }
        };
        self.events.extend(accepted.events);
        let run_item = self.write(run_message(&project, &region, &member_task, agent_details))?;
        self.progress.member_runs += 1;
        self.progress.item_id = Some(run_item);
        self.progress.child_task_id = Some(member_task);
        self.park(1, RunStatus::AwaitingSubAgent)
    }

    /// The member agent that may run next, or `None` once the workforce run was ended with a
    /// note: the execution limit is reached, or `agent_id` is not a member.
    fn admit_member(
        &mut self,
        workforce_id: &str,
        agent_id: &str,
        execution_limit: u32,
    ) -> rusqlite::Result<Option<AgentRecord>> {
        let project = self.run.project.clone();
        if self.progress.member_runs >= execution_limit {
            self.note(&format!(
                "the workforce reached its execution limit of {execution_limit} agent runs \
                 for one message; agent {agent_id:?} did not run"
            ))?;
            self.finish("execution-limit-reached")?;
            return Ok(None);
        }
        let members = definitions::workforce_members(self.connection, &project, workforce_id)?;
        let agent = definitions::find_agent(self.connection, &project, &Visibility::All, agent_id)?;
        let (Some(agent), true) = (agent, members.iter().any(|member| member == agent_id)) else {
            self.note(&format!(
                "agent {agent_id:?} is not a member of workforce {workforce_id:?}"
            ))?;
            self.finish("errored-pending-approval")?;
            return Ok(None);
        };
        Ok(Some(agent))
    }

    /// An `agent-error` note in the workforce task: why it stopped.
    fn note(&mut self, text: &str) -> rusqlite::Result<()> {
        self.write(Content::agent_error(text))?;
        Ok(())
    }
}

fn run_message(
    project: &str,
    region: &str,
    member_task: &str,
    agent_details: AgentDetails,
) -> Content {
    Content::workforce_agent_run(
        TaskDetails {
            project: project.to_string(),
            region: region.to_string(),
            conversation_id: member_task.to_string(),
            finished_state: None,
            current_state: Some("running".to_string()),
        },
        agent_details,
    )
}
