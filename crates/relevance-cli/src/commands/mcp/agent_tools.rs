//! The fixed tools about agents and their tasks — `list_agents`, `ask_agent`,
//! `decide_tool_run`, `list_tasks`, `read_task` — with these names exactly (docs and
//! clients rely on them). Their arguments are typed structs whose JSON Schema `schemars`
//! writes; arguments that do not fit are answered by rmcp as an error result naming the
//! field. Each tool checks the agent against the key's reach first ([`Surface::owner`]).
//!
//! With a workforce's embed key, `agent_id` is that workforce's id (`list_agents` lists it
//! as a workforce): `ask_agent` talks to the workforce, `list_tasks` and `read_task` read its
//! tasks. Only `decide_tool_run` cannot serve it: a member's tool run is decided in the
//! member's own agent task, which such a key does not reach.
//!
//! [`Surface::owner`]: super::surface::Surface::owner

use futures_util::StreamExt;
use relevance::{AgentListOptions, Client, Error, KeyScope, Task};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router, RoleServer};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::progress::Progress;
use super::replies;
use super::results::{done, Failure, Outcome};
use super::server::McpServer;
use crate::render;

/// At most this many agents are listed: a listing a model reads, not an export.
const MOST_AGENTS: usize = 500;

/// `ask_agent`'s arguments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AskArgs {
    /// The agent's id, as list_agents gives it (a workforce's id, when it lists one).
    pub agent_id: String,
    /// The message to send.
    pub message: String,
    /// Continue this task (the task_id of an earlier answer) instead of starting one.
    #[serde(default)]
    pub task_id: Option<String>,
}

/// `decide_tool_run`'s arguments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct DecideArgs {
    /// The agent's id.
    pub agent_id: String,
    /// The task whose tool run waits for approval.
    pub task_id: String,
    /// true runs the tool, false refuses it (the agent goes on without it).
    pub approve: bool,
    /// When approving: params that replace the ones the agent chose, by name.
    #[serde(default)]
    pub params: Option<Map<String, Value>>,
}

/// `list_tasks`' arguments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AgentArgs {
    /// The agent's id.
    pub agent_id: String,
}

/// `read_task`'s arguments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct TaskArgs {
    /// The agent's id.
    pub agent_id: String,
    /// The task's id.
    pub task_id: String,
}

#[tool_router(router = agent_router, vis = "pub(super)")]
impl McpServer {
    /// The agents this key may talk to: id, name, description.
    #[tool(
        description = "List the agents this key may talk to: id, name, description and kind (\"agent\", or \"workforce\": a team of agents that the other tools reach by its id as agent_id)."
    )]
    async fn list_agents(&self) -> Outcome {
        let client = self.surface.client()?;
        let agents = match self.surface.scope() {
            KeyScope::Project => {
                let mut all = client
                    .agents()
                    .all(AgentListOptions::default())
                    .take(MOST_AGENTS);
                let mut agents = Vec::new();
                while let Some(agent) = all.next().await {
                    agents.push(agent.map_err(|e| Failure::platform("listing the agents", e))?);
                }
                agents
            }
            KeyScope::Agent(id) => vec![self.surface.agent(&id).await?],
            KeyScope::Workforce(id) => return workforce_listing(client, &id).await,
        };
        let listed: Vec<Value> = agents
            .iter()
            .map(|agent| json!({"id": agent.id, "name": agent.name, "description": agent.description, "kind": "agent"}))
            .collect();
        let text = match listed.is_empty() {
            true => "No agents.".to_string(),
            false => agents
                .iter()
                .map(|agent| {
                    let name = agent.name.as_deref().unwrap_or("(unnamed)");
                    match &agent.description {
                        Some(description) => format!("{} — {name}: {description}", agent.id),
                        None => format!("{} — {name}", agent.id),
                    }
                })
                .collect::<Vec<_>>()
                .join("\n"),
        };
        Ok(done(text, json!({ "agents": listed })))
    }

    /// Sends a message and waits for the reply.
    #[tool(
        description = "Send a message to an agent and wait for its reply; answers the reply and the task_id (pass it back as task_id to continue the conversation). Sends progress notifications while the agent works, when asked. A run that stops for a person's approval answers which tool waits, with which params: decide it with decide_tool_run."
    )]
    async fn ask_agent(
        &self,
        Parameters(args): Parameters<AskArgs>,
        context: RequestContext<RoleServer>,
    ) -> Outcome {
        let owner = self.surface.owner(&args.agent_id).await?;
        let mut message = owner.message(args.message);
        if let Some(task_id) = &args.task_id {
            message = message.in_task(task_id.as_str());
        }
        let since = chrono::Utc::now();
        let task = message.send().await.map_err(|e| {
            Failure::platform(
                &format!("sending the message to {} {}", owner.kind(), owner.id()),
                e,
            )
        })?;
        let mut progress = Progress::of(&context);
        progress.say("message sent").await;
        replies::follow(&task, since, &mut progress).await
    }

    /// Approves or rejects the tool run that waits in a task, then waits for the reply.
    #[tool(
        description = "Approve (approve: true) or reject (approve: false) the tool run that waits for a person's approval in a task, then wait for the agent's reply as ask_agent does. params, when approving, replace the params the agent chose."
    )]
    async fn decide_tool_run(
        &self,
        Parameters(args): Parameters<DecideArgs>,
        context: RequestContext<RoleServer>,
    ) -> Outcome {
        let task = self.task(&args.agent_id, &args.task_id).await?;
        if let Some(workforce) = task.workforce_id() {
            return Err(Failure::new(replies::undecidable(workforce, &task.id)));
        }
        let messages = task
            .messages()
            .await
            .map_err(|e| Failure::platform("reading the task", e))?;
        let run = replies::waiting_run(&messages).ok_or_else(|| {
            Failure::new(format!(
                "no tool run waits for approval in task {}",
                args.task_id
            ))
        })?;
        let since = chrono::Utc::now();
        let followed = match args.approve {
            true => {
                task.approve_and_follow(run, args.params.unwrap_or_default())
                    .await
            }
            false => task.reject_and_follow(run).await,
        }
        .map_err(|e| Failure::platform("deciding the tool run", e))?;
        let mut progress = Progress::of(&context);
        let verdict = if args.approve { "approved" } else { "rejected" };
        progress
            .say(format!("tool {} {verdict}", render::tool_label(run)))
            .await;
        replies::follow(&followed, since, &mut progress).await
    }

    /// An agent's tasks.
    #[tool(
        description = "List an agent's (or a workforce's) tasks (conversations), oldest first: id, status and title."
    )]
    async fn list_tasks(&self, Parameters(args): Parameters<AgentArgs>) -> Outcome {
        let owner = self.surface.owner(&args.agent_id).await?;
        let page = owner
            .tasks()
            .await
            .map_err(|e| Failure::platform("listing the tasks", e))?;
        let tasks: Vec<Value> = page
            .iter()
            .map(|task| json!({"id": task.id, "status": task.status.to_string(), "title": task.title}))
            .collect();
        let text = match tasks.is_empty() {
            true => format!("The {} {} has no tasks.", owner.kind(), owner.id()),
            false => page
                .iter()
                .map(|task| format!("{}  {}  {}", task.id, task.status, task.title))
                .collect::<Vec<_>>()
                .join("\n"),
        };
        Ok(done(text, json!({ "tasks": tasks })))
    }

    /// A task's messages as readable text.
    #[tool(description = "Read a task's messages, oldest first, as readable text.")]
    async fn read_task(&self, Parameters(args): Parameters<TaskArgs>) -> Outcome {
        let task = self.task(&args.agent_id, &args.task_id).await?;
        let messages = task
            .messages()
            .await
            .map_err(|e| Failure::platform("reading the task's messages", e))?;
        let lines = render::history_lines(&task.id, &messages, false);
        let text = format!(
            "Task {} ({}): {}\n{}",
            task.id,
            task.status,
            task.title,
            lines.join("\n")
        );
        let listed: Vec<Value> = messages
            .iter()
            .map(|message| render::message_json(&task.id, message))
            .collect();
        Ok(done(
            text,
            json!({"task_id": task.id, "status": task.status.to_string(), "title": task.title, "messages": listed}),
        ))
    }
}

/// A workforce key's listing: its one workforce, said to be one, whose id the other agent
/// tools take as `agent_id`.
async fn workforce_listing(client: &Client, id: &str) -> Outcome {
    let workforce = client
        .workforces()
        .get(id)
        .await
        .map_err(|e| Failure::platform(&format!("reading workforce {id}"), e))?;
    let name = workforce.name.clone().unwrap_or_else(|| id.to_string());
    Ok(done(
        format!(
            "{id} — {name}: a workforce (a team of agents taking turns); pass {id} as agent_id \
             to ask_agent, list_tasks and read_task"
        ),
        json!({"agents": [{"id": id, "name": workforce.name, "description": null, "kind": "workforce"}]}),
    ))
}

impl McpServer {
    /// The task `task_id` of the agent (or workforce) `agent_id`, both checked against the
    /// key's reach.
    async fn task(&self, agent_id: &str, task_id: &str) -> Result<Task, Failure> {
        let owner = self.surface.owner(agent_id).await?;
        match owner.get_task(task_id).await {
            Ok(task) => Ok(task),
            Err(Error::NotFound { .. } | Error::Forbidden { .. }) => Err(Failure::new(format!(
                "unknown task {task_id:?} of {} {agent_id}: list_tasks lists them",
                owner.kind()
            ))),
            Err(error) => Err(Failure::platform(&format!("reading task {task_id}"), error)),
        }
    }
}
