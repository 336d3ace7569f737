//! The operator's view of the catalogue, for the dashboard: projects with
//! their counts, a project's agents, workforces and tasks, one agent or
//! workforce with its tasks, one task with its messages, and the agent's
//! public/private switch, every project's tools; plus [`OperatorError`], the error of
//! every operator use case (these and [`super::keys`]).
//!
//! The operator holds the admin token, so nothing here narrows by a key's
//! scope: every lookup is the whole project ([`Visibility::All`],
//! [`TaskScope::Project`]). What the operator *does* to a task or a tool (decide,
//! delete, run) is not reimplemented here: [`acting_in`] gives the principal with
//! which the dashboard calls the API's own use cases ([`super::agent_tasks`],
//! [`super::tools`]).

use super::tools::ToolView;
use crate::auth::Principal;
use crate::error::{echo_id, ApiError};
use crate::region::Region;
use crate::state::AppState;
use crate::store::cached_rows::AgentRecord;
use crate::store::definitions::{self, Visibility};
use crate::store::overview::{self, ProjectCounts, WorkforceRow};
use crate::store::tasks::{self, MessageRecord, TaskRecord, TaskScope};
use crate::store::tools as tool_store;
use crate::store::workforce_tasks::{self, WorkforceTaskRecord, WorkforceTaskScope};
use crate::store::StoreError;
use crate::time::now_iso;

/// How many messages a task shows at most (the newest ones).
const MAX_MESSAGES: i64 = 1000;
/// How many of a workforce's tasks are listed (newest first).
const MAX_LISTED_TASKS: usize = 200;

/// A task as the operator sees it, an agent's or a workforce's alike: what the
/// dashboard's task tables and pages show, so no template depends on a store row.
#[derive(Debug, Clone)]
pub(crate) struct TaskView {
    pub(crate) id: String,
    /// The agent or workforce the task belongs to.
    pub(crate) owner_id: String,
    pub(crate) title: String,
    pub(crate) state: String,
    pub(crate) created_by_key_id: String,
    /// The embed key's task prefix, for a task an embed key started.
    pub(crate) task_prefix: Option<String>,
    pub(crate) insert_date: String,
    pub(crate) update_date: String,
}

impl From<TaskRecord> for TaskView {
    fn from(task: TaskRecord) -> TaskView {
        TaskView {
            id: task.id,
            owner_id: task.agent_id,
            title: task.title,
            state: task.state,
            created_by_key_id: task.created_by_key_id,
            task_prefix: task.task_prefix,
            insert_date: task.insert_date,
            update_date: task.update_date,
        }
    }
}

impl From<WorkforceTaskRecord> for TaskView {
    fn from(task: WorkforceTaskRecord) -> TaskView {
        TaskView {
            id: task.id,
            owner_id: task.workforce_id,
            title: task.title,
            state: task.state,
            created_by_key_id: task.created_by_key_id,
            task_prefix: None,
            insert_date: task.insert_date,
            update_date: task.update_date,
        }
    }
}

impl TaskView {
    /// The title, or the id when the task has none yet.
    pub(crate) fn label(&self) -> &str {
        if self.title.trim().is_empty() {
            &self.id
        } else {
            &self.title
        }
    }

    /// The task page's title.
    pub(crate) fn page_title(&self) -> String {
        if self.title.trim().is_empty() {
            format!("Task {}", self.id)
        } else {
            format!("Task: {}", self.title)
        }
    }
}

/// An agent's settings as the agent page shows them.
#[derive(Debug, Clone)]
pub(crate) struct AgentView {
    pub(crate) id: String,
    pub(crate) name: Option<String>,
    pub(crate) emoji: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) public: bool,
    pub(crate) model: String,
    pub(crate) insert_date: String,
    pub(crate) update_date: String,
}

impl From<AgentRecord> for AgentView {
    fn from(agent: AgentRecord) -> AgentView {
        AgentView {
            id: agent.id,
            name: agent.name,
            emoji: agent.emoji,
            description: agent.description,
            public: agent.public,
            model: agent.model,
            insert_date: agent.insert_date,
            update_date: agent.update_date,
        }
    }
}

/// A workforce with its members, in order.
#[derive(Debug, Clone)]
pub(crate) struct WorkforceView {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) members: Vec<String>,
}

impl From<WorkforceRow> for WorkforceView {
    fn from(workforce: WorkforceRow) -> WorkforceView {
        WorkforceView {
            id: workforce.id,
            name: workforce.name,
            members: workforce.members,
        }
    }
}

/// One message of a task page: its id, time and stored content.
#[derive(Debug, Clone)]
pub(crate) struct MessageView {
    pub(crate) item_id: String,
    pub(crate) insert_date: String,
    pub(crate) content: serde_json::Value,
}

impl From<MessageRecord> for MessageView {
    fn from(message: MessageRecord) -> MessageView {
        MessageView {
            item_id: message.item_id,
            insert_date: message.insert_date,
            content: message.content,
        }
    }
}

/// A project with its counts, as the project list shows it.
#[derive(Debug, Clone)]
pub(crate) struct ProjectListing {
    pub(crate) id: String,
    pub(crate) region: Region,
    /// API keys that are not revoked.
    pub(crate) api_keys: i64,
    /// Embed keys that are not revoked.
    pub(crate) embed_keys: i64,
    pub(crate) agents: i64,
    pub(crate) workforces: i64,
    pub(crate) tasks: i64,
}

impl From<ProjectCounts> for ProjectListing {
    fn from(counts: ProjectCounts) -> ProjectListing {
        ProjectListing {
            id: counts.id,
            region: counts.region,
            api_keys: counts.api_keys,
            embed_keys: counts.embed_keys,
            agents: counts.agents,
            workforces: counts.workforces,
            tasks: counts.tasks,
        }
    }
}

/// Converts each row into its view.
fn views<R, V: From<R>>(rows: Vec<R>) -> Vec<V> {
    rows.into_iter().map(V::from).collect()
}

/// Why an operator use case did not happen.
#[derive(Debug)]
pub(crate) enum OperatorError {
    /// No project with this id.
    ProjectNotFound { project: String },
    /// No key with this id (in this project, where one was named).
    KeyNotFound { key_id: String },
    /// No key has this value.
    KeyValueNotFound,
    /// No agent with this id in the project.
    AgentNotFound { agent_id: String },
    /// No workforce with this id in the project.
    WorkforceNotFound { workforce_id: String },
    /// No such task in the project (or not of the named workforce).
    TaskNotFound { task_id: String },
    /// The database failed.
    Store(StoreError),
}

impl OperatorError {
    pub(crate) fn project_not_found(project: &str) -> OperatorError {
        OperatorError::ProjectNotFound {
            project: project.to_string(),
        }
    }
}

impl From<StoreError> for OperatorError {
    fn from(error: StoreError) -> OperatorError {
        OperatorError::Store(error)
    }
}

impl From<OperatorError> for ApiError {
    fn from(error: OperatorError) -> ApiError {
        match error {
            OperatorError::ProjectNotFound { project } => {
                ApiError::not_found(format!("no project {}", echo_id(&project)))
            }
            OperatorError::KeyNotFound { key_id } => {
                ApiError::not_found(format!("no key with id {}", echo_id(&key_id)))
            }
            OperatorError::KeyValueNotFound => ApiError::not_found("no key with that value"),
            OperatorError::AgentNotFound { agent_id } => {
                ApiError::not_found(format!("no agent {}", echo_id(&agent_id)))
            }
            OperatorError::WorkforceNotFound { workforce_id } => {
                ApiError::not_found(format!("no workforce {}", echo_id(&workforce_id)))
            }
            OperatorError::TaskNotFound { task_id } => {
                ApiError::not_found(format!("no task {}", echo_id(&task_id)))
            }
            OperatorError::Store(error) => error.into(),
        }
    }
}

/// The operator acting in `project` with the whole project in scope, as its API keys
/// do: the principal the dashboard hands to the API's use cases.
pub(crate) async fn acting_in(state: &AppState, project: &str) -> Result<Principal, OperatorError> {
    let lookup = project.to_string();
    let region = state
        .store()
        .call(move |connection| definitions::project_region(connection, &lookup))
        .await?
        .ok_or_else(|| OperatorError::project_not_found(project))?;
    Ok(Principal::operator(project.to_string(), region))
}

/// Every project's id with its tools (ordered by id), projects ordered by id.
pub(crate) async fn all_tools(
    state: &AppState,
) -> Result<Vec<(String, Vec<ToolView>)>, OperatorError> {
    Ok(state
        .store()
        .call(|connection| -> rusqlite::Result<_> {
            definitions::list_projects(connection)?
                .into_iter()
                .map(|(project, _)| {
                    let tools = tool_store::list_tools(connection, &project, i64::MAX)?;
                    Ok((project, views(tools)))
                })
                .collect()
        })
        .await?)
}

/// Every project with its counts, ordered by id.
pub(crate) async fn project_counts(state: &AppState) -> Result<Vec<ProjectListing>, OperatorError> {
    let counts = state
        .store()
        .call(|connection| overview::project_counts(connection))
        .await?;
    Ok(views(counts))
}

/// A project's region, agents, workforces (with members) and agent tasks.
#[derive(Debug)]
pub(crate) struct ProjectOverview {
    pub(crate) region: Region,
    pub(crate) agents: Vec<AgentView>,
    pub(crate) workforces: Vec<WorkforceView>,
    pub(crate) tasks: Vec<TaskView>,
}

/// Everything the project page shows.
pub(crate) async fn project_overview(
    state: &AppState,
    project: &str,
) -> Result<ProjectOverview, OperatorError> {
    let lookup = project.to_string();
    state
        .store()
        .call(move |connection| -> rusqlite::Result<_> {
            let Some(region) = definitions::project_region(connection, &lookup)? else {
                return Ok(None);
            };
            Ok(Some(ProjectOverview {
                region,
                agents: views(overview::all_agents(connection, &lookup)?),
                workforces: views(overview::all_workforces(connection, &lookup)?),
                tasks: views(tasks::list_tasks(connection, &lookup, &TaskScope::Project)?),
            }))
        })
        .await?
        .ok_or_else(|| OperatorError::project_not_found(project))
}

/// The ids of a project's agents and workforces (the key list's filters).
pub(crate) async fn target_ids(
    state: &AppState,
    project: &str,
) -> Result<(Vec<String>, Vec<String>), OperatorError> {
    let lookup = project.to_string();
    Ok(state
        .store()
        .call(move |connection| -> rusqlite::Result<_> {
            let agents = overview::all_agents(connection, &lookup)?;
            let workforces = overview::all_workforces(connection, &lookup)?;
            Ok((
                agents.into_iter().map(|agent| agent.id).collect(),
                workforces
                    .into_iter()
                    .map(|workforce| workforce.id)
                    .collect(),
            ))
        })
        .await?)
}

/// An agent with its tasks, oldest first.
pub(crate) async fn agent_with_tasks(
    state: &AppState,
    project: &str,
    agent_id: &str,
) -> Result<(AgentView, Vec<TaskView>), OperatorError> {
    let (lookup_project, lookup_agent) = (project.to_string(), agent_id.to_string());
    state
        .store()
        .call(move |connection| -> rusqlite::Result<_> {
            let Some(agent) = definitions::find_agent(
                connection,
                &lookup_project,
                &Visibility::All,
                &lookup_agent,
            )?
            else {
                return Ok(None);
            };
            let tasks = tasks::list_tasks(connection, &lookup_project, &TaskScope::Project)?
                .into_iter()
                .filter(|task| task.agent_id == lookup_agent)
                .map(TaskView::from)
                .collect();
            Ok(Some((AgentView::from(agent), tasks)))
        })
        .await?
        .ok_or_else(|| OperatorError::AgentNotFound {
            agent_id: agent_id.to_string(),
        })
}

/// Turns an agent public or private (only public agents hand out embed keys).
pub(crate) async fn set_agent_public(
    state: &AppState,
    project: &str,
    agent_id: &str,
    public: bool,
) -> Result<(), OperatorError> {
    let (lookup_project, lookup_agent) = (project.to_string(), agent_id.to_string());
    let now = now_iso();
    let exists = state
        .store()
        .call(move |connection| -> rusqlite::Result<_> {
            overview::set_agent_public(
                connection,
                connection.agent_cache(),
                &lookup_project,
                &lookup_agent,
                public,
                &now,
            )
        })
        .await?;
    if exists {
        Ok(())
    } else {
        Err(OperatorError::AgentNotFound {
            agent_id: agent_id.to_string(),
        })
    }
}

/// A workforce (with members) and its newest tasks, newest first.
pub(crate) async fn workforce_with_tasks(
    state: &AppState,
    project: &str,
    workforce_id: &str,
) -> Result<(WorkforceView, Vec<TaskView>), OperatorError> {
    let (lookup, listed) = (project.to_string(), workforce_id.to_string());
    let (workforces, tasks) = state
        .store()
        .call(move |connection| -> rusqlite::Result<_> {
            let workforces = overview::all_workforces(connection, &lookup)?;
            let tasks = workforce_tasks::page(
                connection,
                &lookup,
                &WorkforceTaskScope::Project,
                &listed,
                None,
                None,
                MAX_LISTED_TASKS,
            )?;
            Ok((workforces, tasks))
        })
        .await?;
    let workforce = workforces
        .into_iter()
        .find(|workforce| workforce.id == workforce_id)
        .ok_or_else(|| OperatorError::WorkforceNotFound {
            workforce_id: workforce_id.to_string(),
        })?;
    Ok((WorkforceView::from(workforce), views(tasks)))
}

/// An agent task with its newest messages, oldest first.
pub(crate) async fn agent_task(
    state: &AppState,
    project: &str,
    task_id: &str,
) -> Result<(TaskView, Vec<MessageView>), OperatorError> {
    let (lookup_project, lookup_task) = (project.to_string(), task_id.to_string());
    state
        .store()
        .call(move |connection| -> rusqlite::Result<_> {
            let Some(task) = tasks::find_task(
                connection,
                &lookup_project,
                &TaskScope::Project,
                &lookup_task,
            )?
            else {
                return Ok(None);
            };
            let mut messages =
                tasks::list_messages(connection, &lookup_project, &task.id, None, MAX_MESSAGES)?;
            messages.reverse();
            Ok(Some((TaskView::from(task), views(messages))))
        })
        .await?
        .ok_or_else(|| OperatorError::TaskNotFound {
            task_id: task_id.to_string(),
        })
}

/// A task of `workforce_id` with its messages merged with its members' runs, oldest
/// first, as the platform's messages route shows them.
pub(crate) async fn workforce_task(
    state: &AppState,
    project: &str,
    workforce_id: &str,
    task_id: &str,
) -> Result<(TaskView, Vec<MessageView>), OperatorError> {
    let (lookup_project, lookup_task) = (project.to_string(), task_id.to_string());
    let found = state
        .store()
        .call(move |connection| -> rusqlite::Result<_> {
            let Some(task) = workforce_tasks::find(
                connection,
                &lookup_project,
                &WorkforceTaskScope::Project,
                &lookup_task,
            )?
            else {
                return Ok(None);
            };
            let messages = workforce_tasks::merged_messages(
                connection,
                &lookup_project,
                &task.id,
                MAX_MESSAGES as usize,
            )?;
            Ok(Some((task, messages)))
        })
        .await?;
    found
        .filter(|(task, _)| task.workforce_id == workforce_id)
        .map(|(task, messages)| (TaskView::from(task), views(messages)))
        .ok_or_else(|| OperatorError::TaskNotFound {
            task_id: task_id.to_string(),
        })
}
