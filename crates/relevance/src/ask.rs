//! The one-call way to get an answer from an agent, for servers and scripts:
//! [`Agent::ask`] sends a message, then waits on the job that follows its run (the
//! trigger answer's `job_info`, PROTOCOL A15) with the platform's long poll, and answers
//! the run's reply. It needs no live stream and no timer: about one request per
//! server-side wait (a few seconds), whatever the run's length.

use serde::{Deserialize, Serialize};

use crate::agent::Agent;
use crate::error::{Error, Result};
use crate::job::{job_errors, ToolJob};
use crate::message_builder::MessageBuilder;
use crate::task::Task;

/// What an agent's run answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AgentReply {
    /// The run's last reply (`""` when it wrote none).
    pub text: String,
    /// The task it went to: continue it with `agent.message(..).in_task(task_id)`.
    pub task_id: String,
    /// The run stopped to wait for a person (a tool run to approve or reject): decide
    /// it with [`Task::approve`] / [`Task::reject`], and the next reply comes after.
    pub waiting_for_approval: bool,
}

impl Agent {
    /// Sends `text` in a new task and answers the run's reply (see the module docs).
    /// A run that ends in an error is [`Error::RunFailed`].
    pub async fn ask(&self, text: impl Into<String>) -> Result<AgentReply> {
        self.message(text).ask().await
    }
}

impl MessageBuilder<'_> {
    /// Sends the message, then waits for the run it starts and answers its reply (as
    /// [`Agent::ask`]); with [`in_task`](Self::in_task) it continues that task.
    pub async fn ask(self) -> Result<AgentReply> {
        let task = self.send().await?;
        wait_for_reply(&task).await
    }
}

impl Task {
    /// Waits for the reply of the run this handle's trigger started: a handle answered by
    /// [`MessageBuilder::send`], [`Task::approve_and_follow`] or
    /// [`Task::reject_and_follow`]. For a caller that needs the task before the reply
    /// (to show its id, or to watch its events meanwhile); [`MessageBuilder::ask`] is the
    /// same in one call. [`Error::InvalidAnswer`] for a handle with no job to wait on (one
    /// read with `get_task`, or a workforce task).
    pub async fn wait_for_reply(&self) -> Result<AgentReply> {
        wait_for_reply(self).await
    }
}

/// Waits on the job of `task`'s trigger for the run's reply.
async fn wait_for_reply(task: &Task) -> Result<AgentReply> {
    let Some(job) = task.job.clone() else {
        return Err(Error::InvalidAnswer {
            what: "agents/trigger answer".to_string(),
            problem: "no `job_info` to wait on (workforce tasks have none)".to_string(),
        });
    };
    let job = ToolJob::following(task.client.clone(), job);
    let (complete, last) = job.wait_last().await?;
    if !complete {
        let errors = job_errors(&last);
        return Err(Error::RunFailed {
            task_id: task.id.clone(),
            errors,
        });
    }
    let output = &last["output"]["output"];
    Ok(AgentReply {
        text: output["answer"].as_str().unwrap_or_default().to_string(),
        task_id: task.id.clone(),
        waiting_for_approval: output["waiting_for"] == "approval",
    })
}
