//! What the `agent_id` of an agent tool names: an agent, or — with a workforce's embed key,
//! which reaches no agent at all — that workforce. The tools' names and arguments are fixed
//! (hosts and docs rely on them), so a workforce answers to `agent_id` rather than to tools
//! of its own. Both take messages through the SDK's one message builder and keep their
//! conversations as [`Task`]s, so the tools treat them alike; what differs is here.

use relevance::{
    Agent, MessageBuilder, Page, Task, TaskListOptions, Workforce, WorkforceTaskListOptions,
};

/// The agent or workforce an `agent_id` reached.
#[derive(Debug)]
pub enum Owner {
    /// An agent (an API key's, or an agent embed key's one).
    Agent(Agent),
    /// A workforce embed key's one workforce.
    Workforce(Workforce),
}

impl Owner {
    /// Its id, which is the `agent_id` the host passed.
    pub fn id(&self) -> &str {
        match self {
            Owner::Agent(agent) => &agent.id,
            Owner::Workforce(workforce) => &workforce.id,
        }
    }

    /// "agent" or "workforce", for results a person reads.
    pub fn kind(&self) -> &'static str {
        match self {
            Owner::Agent(_) => "agent",
            Owner::Workforce(_) => "workforce",
        }
    }

    /// A message to it, through the SDK's builder (`in_task` continues a task).
    pub fn message(&self, text: String) -> MessageBuilder<'_> {
        match self {
            Owner::Agent(agent) => agent.message(text),
            Owner::Workforce(workforce) => workforce.message(text),
        }
    }

    /// The first page of its tasks, oldest first. The workforce API lists newest first
    /// and has no sort, so its page is put in creation order here: `list_tasks` promises
    /// one order whichever the owner.
    pub async fn tasks(&self) -> relevance::Result<Page<Task>> {
        match self {
            Owner::Agent(agent) => agent.tasks(TaskListOptions::default()).await,
            Owner::Workforce(workforce) => {
                let mut page = workforce.tasks(WorkforceTaskListOptions::default()).await?;
                page.items.sort_by_key(|task| task.created_at);
                Ok(page)
            }
        }
    }

    /// One of its tasks.
    pub async fn get_task(&self, task_id: &str) -> relevance::Result<Task> {
        match self {
            Owner::Agent(agent) => agent.get_task(task_id).await,
            Owner::Workforce(workforce) => workforce.get_task(task_id).await,
        }
    }
}
