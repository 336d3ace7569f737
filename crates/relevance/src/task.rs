//! Tasks: a task is one conversation thread with an agent or a workforce.
//!
//! Agent and workforce tasks live under different paths and speak different
//! state vocabularies, but a caller — and later the live
//! events — should treat them alike. So there is one [`Task`] type that
//! knows its [`TaskOwner`]; everything that differs by owner is in one
//! place, `task::owner`, and the wire shapes are in `wire::tasks` and
//! `wire::workforces`.
//!
//! The agent API calls a task's id `conversation_id` in requests and
//! `knowledge_set` in metadata. A [`Task`] is a snapshot taken when it was
//! read; [`Task::refresh`] reads it again. Its raw platform `state` is kept
//! next to the simplified [`TaskStatus`], so a state this SDK does not know
//! is never lost and never a failure.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::client::{default_client, Client};
use crate::error::{Error, Result};
use crate::job::JobRef;
use crate::message::Message;

mod decide;
mod lifecycle;
pub(crate) mod owner;
mod tool_runs;

pub use tool_runs::ToolRunEntry;

use owner::MessageCursor;

/// The simplified status a client shows for a task.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TaskStatus {
    /// Made on the client, not sent yet (`not-started`).
    NotStarted,
    /// Waiting for a message.
    Idle,
    /// Accepted, not running yet.
    Queued,
    /// The agent is working.
    Running,
    /// Waiting for a person (approval, escalation).
    Action,
    /// Paused.
    Paused,
    /// Finished.
    Completed,
    /// Cancelled.
    Cancelled,
    /// Failed.
    Error,
    /// A platform state this SDK does not know, kept as sent.
    Unknown(String),
}

/// Every named status, in display order; `Unknown` is not a name.
const NAMED_STATUSES: [TaskStatus; 9] = [
    TaskStatus::NotStarted,
    TaskStatus::Idle,
    TaskStatus::Queued,
    TaskStatus::Running,
    TaskStatus::Action,
    TaskStatus::Paused,
    TaskStatus::Completed,
    TaskStatus::Cancelled,
    TaskStatus::Error,
];

impl TaskStatus {
    /// The status a platform `state` stands for; an unknown state is
    /// [`TaskStatus::Unknown`] with the state kept.
    pub(crate) fn from_state(state: &str) -> TaskStatus {
        NAMED_STATUSES
            .iter()
            .find(|status| status.states().contains(&state))
            .cloned()
            .unwrap_or_else(|| TaskStatus::Unknown(state.to_string()))
    }

    /// The platform states this status stands for, e.g. for a list filter.
    /// `Unknown` stands for no listed state (its raw state is in the variant).
    pub(crate) fn states(&self) -> &'static [&'static str] {
        match self {
            TaskStatus::NotStarted => &["not-started"],
            TaskStatus::Idle => &["idle"],
            TaskStatus::Queued => &[
                "starting-up",
                "waiting-for-capacity",
                "queued-for-approval",
                "queued-for-rerun",
            ],
            TaskStatus::Running => &["running"],
            TaskStatus::Action => &["pending-approval", "escalated"],
            TaskStatus::Paused => &["paused"],
            TaskStatus::Completed => &["completed"],
            TaskStatus::Cancelled => &["cancelled"],
            TaskStatus::Error => &["timed-out", "unrecoverable", "errored-pending-approval"],
            TaskStatus::Unknown(_) => &[],
        }
    }

    /// The status a *workforce* task's `state` stands for.
    ///
    /// Separate from `TaskStatus::from_state` because the two vocabularies
    /// differ: `execution-limit-reached` exists only for workforces, and an
    /// agent-only state such as `idle` means nothing for a workforce (it is
    /// kept as [`TaskStatus::Unknown`]).
    pub(crate) fn from_workforce_state(state: &str) -> TaskStatus {
        match state {
            "running" => TaskStatus::Running,
            "completed" => TaskStatus::Completed,
            "execution-limit-reached" | "errored-pending-approval" => TaskStatus::Error,
            "pending-approval" | "escalated" => TaskStatus::Action,
            other => TaskStatus::Unknown(other.to_string()),
        }
    }

    /// Whether the agent is (about to be) working: queued or running.
    pub fn is_running(&self) -> bool {
        matches!(self, TaskStatus::Queued | TaskStatus::Running)
    }

    /// The platform states a list filter for this status matches.
    fn filter_states(&self) -> Vec<String> {
        match self {
            TaskStatus::Unknown(state) => vec![state.clone()],
            known => known.states().iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// Lowercase words ("not started", "running"); an unknown state shows as sent.
impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TaskStatus::NotStarted => "not started",
            TaskStatus::Idle => "idle",
            TaskStatus::Queued => "queued",
            TaskStatus::Running => "running",
            TaskStatus::Action => "action",
            TaskStatus::Paused => "paused",
            TaskStatus::Completed => "completed",
            TaskStatus::Cancelled => "cancelled",
            TaskStatus::Error => "error",
            TaskStatus::Unknown(state) => state,
        })
    }
}

/// Parses a status *name* (as shown by `Display`, any case, with spaces,
/// `-` or `_` between words), e.g. for a `--status` flag. Platform states
/// (`pending-approval`, `timed-out`, …) are not names: the SDK maps those
/// itself when it reads a task.
impl FromStr for TaskStatus {
    type Err = Error;

    fn from_str(text: &str) -> Result<TaskStatus> {
        let wanted = text.trim().to_ascii_lowercase().replace(['-', '_'], " ");
        NAMED_STATUSES
            .iter()
            .find(|status| status.to_string() == wanted)
            .cloned()
            .ok_or_else(|| Error::InvalidTaskStatus {
                value: text.to_string(),
            })
    }
}

/// Who a task belongs to. The platform keeps agent and workforce tasks
/// apart (different paths, different states), so every request a [`Task`]
/// makes is chosen by its owner.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TaskOwner {
    /// A task of the agent with this id.
    Agent(String),
    /// A task of the workforce with this id.
    Workforce(String),
}

impl TaskOwner {
    /// The owner's id, whichever kind it is.
    pub fn id(&self) -> &str {
        match self {
            TaskOwner::Agent(id) | TaskOwner::Workforce(id) => id,
        }
    }
}

/// One agent or workforce task as the platform described it at some moment:
/// plain data that can be serialised, compared and cached. [`Task`] is the
/// handle that holds it next to a client and has the calls.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskData {
    /// The task id (`conversation_id` / `knowledge_set` for agents,
    /// `workforce_task_id` for workforces).
    pub id: String,
    /// The agent or workforce it belongs to.
    pub owner: TaskOwner,
    /// Its title ("" until the platform gives it one, e.g. right after
    /// [`Agent::send_message`](crate::Agent::send_message)).
    pub title: String,
    /// The simplified status.
    pub status: TaskStatus,
    /// The platform's state, as sent.
    pub state: String,
    /// What a workforce task was last asked to do (`"continue"` or
    /// `"stop"`, kept as sent); `None` for agent tasks and when not known.
    pub requested_state: Option<String>,
    /// When it was created (`None` when not known yet).
    pub created_at: Option<DateTime<Utc>>,
    /// When it last changed (`None` when not known yet).
    pub updated_at: Option<DateTime<Utc>>,
}

/// One agent or workforce task, as read at some moment, and the client it
/// was read through: the calls ([`Task::refresh`], [`Task::messages`],
/// [`Task::events`], …), and its [`TaskData`] through `Deref` (`task.id`,
/// `task.status`) or [`Task::data`]. `Debug` and `==` look at the data only,
/// never the client.
#[derive(Clone)]
pub struct Task {
    pub(crate) client: Client,
    /// The job that follows the run this handle's trigger started (PROTOCOL A15), when
    /// the handle came from a trigger that named one.
    pub(crate) job: Option<JobRef>,
    pub(crate) data: TaskData,
    /// Whether this value is the answer to the trigger that created the
    /// task: its history is then just the message this client sent, so an
    /// event stream need not read it before the run has something to show.
    pub(crate) new_from_trigger: bool,
}

impl std::ops::Deref for Task {
    type Target = TaskData;
    fn deref(&self) -> &TaskData {
        &self.data
    }
}

/// The data is plain data: changing it here (say, to a status an event
/// announced) changes what this handle shows, not the platform.
impl std::ops::DerefMut for Task {
    fn deref_mut(&mut self) -> &mut TaskData {
        &mut self.data
    }
}

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("data", &self.data)
            .finish_non_exhaustive()
    }
}

/// Equal when the data is; the client it came through does not matter.
impl PartialEq for Task {
    fn eq(&self, other: &Self) -> bool {
        self.data == other.data
    }
}

/// Which task a message continues: a [`Task`] or a task id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskRef<'t>(&'t str);

impl<'t> TaskRef<'t> {
    /// The task id.
    pub fn id(self) -> &'t str {
        self.0
    }
}

impl<'t> From<&'t Task> for TaskRef<'t> {
    fn from(task: &'t Task) -> Self {
        TaskRef(&task.id)
    }
}

impl<'t> From<&'t str> for TaskRef<'t> {
    fn from(id: &'t str) -> Self {
        TaskRef(id)
    }
}

impl<'t> From<&'t String> for TaskRef<'t> {
    fn from(id: &'t String) -> Self {
        TaskRef(id)
    }
}

impl Task {
    /// A task of an agent, read with the default client (see
    /// [`create_client`](crate::create_client)).
    pub async fn get(agent_id: &str, task_id: &str) -> Result<Task> {
        Task::get_with(&default_client()?, agent_id, task_id).await
    }

    /// A task of an agent, read with `client`
    /// (`GET agents/{agent_id}/tasks/{task_id}/metadata`). Users reach it as
    /// [`Agent::get_task`](crate::Agent::get_task) or [`Task::get`].
    pub(crate) async fn get_with(client: &Client, agent_id: &str, task_id: &str) -> Result<Task> {
        let owner = TaskOwner::Agent(agent_id.to_string());
        let (task, _token) = owner.read_task(client, None, task_id).await?;
        Ok(task)
    }

    /// The task as read: plain data, to keep, compare or serialise.
    pub fn data(&self) -> &TaskData {
        &self.data
    }

    /// The data, without the client.
    pub fn into_data(self) -> TaskData {
        self.data
    }

    /// The agent it belongs to, when it is an agent task.
    pub fn agent_id(&self) -> Option<&str> {
        match &self.owner {
            TaskOwner::Agent(id) => Some(id),
            TaskOwner::Workforce(_) => None,
        }
    }

    /// The workforce it belongs to, when it is a workforce task.
    pub fn workforce_id(&self) -> Option<&str> {
        match &self.owner {
            TaskOwner::Workforce(id) => Some(id),
            TaskOwner::Agent(_) => None,
        }
    }

    /// Reads the task again and updates every field.
    pub async fn refresh(&mut self) -> Result<()> {
        let (task, _token) = self.owner.read_task(&self.client, None, &self.id).await?;
        *self = task;
        Ok(())
    }

    /// Whether the agent is (about to be) working on it.
    pub fn is_running(&self) -> bool {
        self.status.is_running()
    }

    /// The client this task is read and continued with.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Every message, oldest first.
    pub async fn messages(&self) -> Result<Vec<Message>> {
        self.owner
            .read_messages(&self.client, None, &self.id, None)
            .await
    }

    /// The messages inserted at or after `time` (inclusive), oldest first.
    ///
    /// For an agent task the server filters (the cursor is sent with
    /// millisecond precision). The workforce API has no cursor, so there every
    /// message is read and filtered here; a message whose `insert_date_`
    /// cannot be parsed is kept, since it cannot be shown to be older.
    pub async fn messages_after(&self, time: DateTime<Utc>) -> Result<Vec<Message>> {
        let after = Some(MessageCursor::Time(time));
        self.owner
            .read_messages(&self.client, None, &self.id, after)
            .await
    }

    /// `message` and every message inserted after it, oldest first. The
    /// cursor is the message's verbatim [`Message::insert_date`], so a
    /// message still being written (its `insert_date_` never changes when it
    /// is updated in place) is read again, with no rounding on the way.
    ///
    /// For a workforce task the filter runs here (see
    /// [`Task::messages_after`]), so the message's `insert_date` must be an
    /// ISO-8601 time; anything else is [`Error::InvalidTimestamp`], before
    /// any request.
    pub async fn messages_since(&self, message: &Message) -> Result<Vec<Message>> {
        let after = Some(MessageCursor::Verbatim(&message.insert_date));
        self.owner
            .read_messages(&self.client, None, &self.id, after)
            .await
    }
}

/// ISO-8601 in UTC with milliseconds and `Z`, the platform's own format.
pub(crate) fn cursor_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The messages inserted at or after `time`, in their order. A message
/// whose time cannot be parsed is kept: dropping it could lose a reply,
/// while keeping it only repeats one the caller can recognise by its id.
pub(crate) fn messages_at_or_after(messages: Vec<Message>, time: DateTime<Utc>) -> Vec<Message> {
    messages
        .into_iter()
        .filter(|message| match message.inserted_at {
            Some(at) => at >= time,
            None => true,
        })
        .collect()
}

/// The order of a task list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TaskSort {
    /// Oldest first.
    #[default]
    CreatedAsc,
    /// Newest first.
    CreatedDesc,
    /// Least recently changed first.
    UpdatedAsc,
    /// Most recently changed first.
    UpdatedDesc,
}

impl TaskSort {
    /// The `sort` query value's field and direction: `("insert_date", "asc")` and so on.
    fn wire(self) -> (&'static str, &'static str) {
        match self {
            TaskSort::CreatedAsc => ("insert_date", "asc"),
            TaskSort::CreatedDesc => ("insert_date", "desc"),
            TaskSort::UpdatedAsc => ("update_date", "asc"),
            TaskSort::UpdatedDesc => ("update_date", "desc"),
        }
    }
}

/// Which tasks of an agent to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskListOptions {
    /// Tasks per page (default 100).
    pub page_size: Option<u32>,
    /// 1-based page number (default 1).
    pub page: Option<u32>,
    /// The order (default oldest first).
    pub sort: TaskSort,
    /// Only tasks with one of these statuses (empty: every status). All
    /// their states go in one filter, so this is one request.
    pub statuses: Vec<TaskStatus>,
    /// Only tasks whose title matches this text; trimmed, as the official
    /// client does (blank means no search).
    pub search: Option<String>,
}

const DEFAULT_LIST_PAGE: u32 = 1;
pub(crate) const DEFAULT_LIST_PAGE_SIZE: u32 = 100;

/// The query of `agents/conversations/list`, in the order sent.
pub(crate) fn task_list_query(
    agent_id: &str,
    options: &TaskListOptions,
) -> Vec<(&'static str, String)> {
    crate::wire::tasks::ListQuery {
        agent_id,
        states: options
            .statuses
            .iter()
            .flat_map(TaskStatus::filter_states)
            .collect(),
        sort: options.sort.wire(),
        page_size: options.page_size.unwrap_or(DEFAULT_LIST_PAGE_SIZE),
        page: options.page.unwrap_or(DEFAULT_LIST_PAGE),
        search: options
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty()),
    }
    .pairs()
}

#[cfg(test)]
pub(crate) mod tests;
