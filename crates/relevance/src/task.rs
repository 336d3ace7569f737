//! Tasks: a task is one conversation thread with an agent or a workforce.
//!
//! Agent and workforce tasks live under different paths and speak different
//! state vocabularies (PROTOCOL A5, A6), but a caller — and later the live
//! events — should treat them alike. So there is one [`Task`] type that
//! knows its [`TaskOwner`], and every method dispatches on it; the
//! owner-specific wire details stay in this module (agents) and in
//! `workforce` (workforces).
//!
//! The agent API calls a task's id `conversation_id` in requests and
//! `knowledge_set` in metadata. A [`Task`] is a snapshot taken when it was
//! read; [`Task::refresh`] reads it again. Its raw platform `state` is kept
//! next to the simplified [`TaskStatus`], so a state this SDK does not know
//! is never lost and never a failure.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::agent::timestamp;
use crate::client::{default_client, Client};
use crate::error::{Error, Result};
use crate::key::Key;
use crate::message::Message;
use crate::retry::{RequestKind, RetryPolicy};
use crate::stream::StreamingToken;

/// The simplified status a client shows for a task (PROTOCOL A5 table).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
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
    pub fn from_state(state: &str) -> TaskStatus {
        NAMED_STATUSES
            .iter()
            .find(|status| status.states().contains(&state))
            .cloned()
            .unwrap_or_else(|| TaskStatus::Unknown(state.to_string()))
    }

    /// The platform states this status stands for, e.g. for a list filter.
    /// `Unknown` stands for no listed state (its raw state is in the variant).
    pub fn states(&self) -> &'static [&'static str] {
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

    /// The status a *workforce* task's `state` stands for (PROTOCOL A6).
    ///
    /// Separate from [`TaskStatus::from_state`] because the two vocabularies
    /// differ: `execution-limit-reached` exists only for workforces, and an
    /// agent-only state such as `idle` means nothing for a workforce (it is
    /// kept as [`TaskStatus::Unknown`]).
    pub fn from_workforce_state(state: &str) -> TaskStatus {
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
/// are not names: use [`TaskStatus::from_state`] for those.
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
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
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

/// One agent or workforce task, as read at some moment.
#[derive(Clone)]
pub struct Task {
    pub(crate) client: Client,
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

/// How many messages one `view` request asks for.
const VIEW_PAGE_SIZE: u32 = 1000;

impl Task {
    /// A task of an agent, read with the default client (see
    /// [`create_client`](crate::create_client)).
    pub async fn get(agent_id: &str, task_id: &str) -> Result<Task> {
        Task::get_with(&default_client()?, agent_id, task_id).await
    }

    /// A task of an agent, read with `client`
    /// (`GET agents/{agent_id}/tasks/{task_id}/metadata`).
    pub async fn get_with(client: &Client, agent_id: &str, task_id: &str) -> Result<Task> {
        let (task, _token) =
            read_agent_task(client, &client.retry_policy(), agent_id, task_id).await?;
        Ok(task)
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
        let policy = self.client.retry_policy();
        let (task, _token) = read_with_token(&self.client, &policy, &self.owner, &self.id).await?;
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
        match &self.owner {
            TaskOwner::Agent(agent_id) => self.view(agent_id, None).await,
            TaskOwner::Workforce(workforce_id) => {
                let policy = self.client.retry_policy();
                crate::workforce::read_messages(&self.client, &policy, workforce_id, &self.id).await
            }
        }
    }

    /// The messages inserted at or after `time` (inclusive), oldest first.
    ///
    /// For an agent task the server filters (the cursor is sent with
    /// millisecond precision). The workforce API has no cursor, so there every
    /// message is read and filtered here; a message whose `insert_date_`
    /// cannot be parsed is kept, since it cannot be shown to be older.
    pub async fn messages_after(&self, time: DateTime<Utc>) -> Result<Vec<Message>> {
        match &self.owner {
            TaskOwner::Agent(agent_id) => self.view(agent_id, Some(&cursor_time(time))).await,
            TaskOwner::Workforce(_) => Ok(messages_at_or_after(self.messages().await?, time)),
        }
    }

    /// The messages inserted at or after a message's verbatim
    /// [`Message::insert_date`], oldest first. Pinning the cursor to the
    /// exact string re-reads a message still being written (its
    /// `insert_date_` never changes when it is updated in place), with no
    /// rounding on the way.
    ///
    /// For a workforce task the filter runs here (see
    /// [`Task::messages_after`]), so `insert_date` must be an ISO-8601 time;
    /// anything else is [`Error::InvalidTimestamp`], before any request.
    pub async fn messages_after_raw(&self, insert_date: &str) -> Result<Vec<Message>> {
        match &self.owner {
            TaskOwner::Agent(agent_id) => self.view(agent_id, Some(insert_date)).await,
            TaskOwner::Workforce(_) => {
                let time = timestamp(&Value::from(insert_date)).ok_or_else(|| {
                    Error::InvalidTimestamp {
                        value: insert_date.to_string(),
                    }
                })?;
                Ok(messages_at_or_after(self.messages().await?, time))
            }
        }
    }

    /// An agent task's messages (`POST agents/{id}/tasks/{id}/view`).
    async fn view(&self, agent_id: &str, after: Option<&str>) -> Result<Vec<Message>> {
        let policy = self.client.retry_policy();
        view_messages(&self.client, &policy, agent_id, &self.id, after).await
    }
}

/// An agent task's messages at or after `after` (inclusive), oldest first
/// (`POST agents/{id}/tasks/{id}/view`).
pub(crate) async fn view_messages(
    client: &Client,
    policy: &RetryPolicy,
    agent_id: &str,
    task_id: &str,
    after: Option<&str>,
) -> Result<Vec<Message>> {
    #[derive(Deserialize)]
    struct Answer {
        results: Vec<Value>,
    }
    let path = format!("agents/{agent_id}/tasks/{task_id}/view");
    let body = view_body(after);
    let answer: Answer = client
        .send_with_policy(
            policy,
            RequestKind::Read,
            Method::POST,
            &path,
            &[],
            Some(&body),
            "task view answer",
        )
        .await?;
    messages_oldest_first(answer.results)
}

/// The query that makes a metadata read carry a live-stream token (PROTOCOL A5, A6).
pub(crate) const STREAMING_TOKEN_QUERY: (&str, &str) = ("include_streaming_token", "true");

/// An agent task and its live-stream token
/// (`GET agents/{agent_id}/tasks/{task_id}/metadata?include_streaming_token=true`).
pub(crate) async fn read_agent_task(
    client: &Client,
    policy: &RetryPolicy,
    agent_id: &str,
    task_id: &str,
) -> Result<(Task, Option<StreamingToken>)> {
    #[derive(Deserialize)]
    struct Answer {
        metadata: TaskMeta,
        #[serde(default)]
        streaming_token: Value,
    }
    let path = format!("agents/{agent_id}/tasks/{task_id}/metadata");
    let (name, value) = STREAMING_TOKEN_QUERY;
    let answer: Answer = client
        .send_with_policy(
            policy,
            RequestKind::Read,
            Method::GET,
            &path,
            &[(name, value.to_string())],
            None,
            "task metadata answer",
        )
        .await?;
    let token = StreamingToken::from_value(&answer.streaming_token);
    Ok((answer.metadata.into_task(client.clone(), agent_id), token))
}

/// Any task and its live-stream token, by owner.
pub(crate) async fn read_with_token(
    client: &Client,
    policy: &RetryPolicy,
    owner: &TaskOwner,
    task_id: &str,
) -> Result<(Task, Option<StreamingToken>)> {
    match owner {
        TaskOwner::Agent(agent_id) => read_agent_task(client, policy, agent_id, task_id).await,
        TaskOwner::Workforce(workforce_id) => {
            crate::workforce::read_task_with_token(client, policy, workforce_id, task_id).await
        }
    }
}

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.id)
            .field("owner", &self.owner)
            .field("title", &self.title)
            .field("status", &self.status)
            .field("state", &self.state)
            .field("requested_state", &self.requested_state)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish_non_exhaustive()
    }
}

/// Two snapshots are equal when their data is; the client they came
/// through does not matter.
impl PartialEq for Task {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.owner == other.owner
            && self.title == other.title
            && self.status == other.status
            && self.state == other.state
            && self.requested_state == other.requested_state
            && self.created_at == other.created_at
            && self.updated_at == other.updated_at
    }
}

/// The `view` body: `{"page_size": 1000, "cursor"?: {"after": ...}}`.
fn view_body(after: Option<&str>) -> Value {
    let mut body = json!({"page_size": VIEW_PAGE_SIZE});
    if let Some(after) = after {
        body["cursor"] = json!({"after": after});
    }
    body
}

/// ISO-8601 in UTC with milliseconds and `Z`, the platform's own format.
pub(crate) fn cursor_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Decodes a `view` answer's messages (newest first) and reverses them.
fn messages_oldest_first(results: Vec<Value>) -> Result<Vec<Message>> {
    let mut messages = results
        .into_iter()
        .map(Message::from_value)
        .collect::<Result<Vec<_>>>()?;
    messages.reverse();
    Ok(messages)
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

/// The id a trigger sends for its task: the one continued, a fresh prefixed
/// id for a new task of an embed key (the platform refuses an embed key's
/// new task without one), or none (the platform makes one for API keys).
/// Shared by agents and workforces, which follow the same rule (PROTOCOL A2).
pub(crate) fn task_id_to_send(key: &Key, continued: Option<String>) -> Option<String> {
    continued.or_else(|| {
        key.task_prefix()
            .filter(|_| key.is_embed())
            .map(new_task_id)
    })
}

/// `{task_prefix}_-_{uuid v4}` (PROTOCOL A2).
fn new_task_id(task_prefix: &str) -> String {
    format!("{task_prefix}_-_{}", uuid::Uuid::new_v4())
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
    /// The `sort` query value: `[{"insert_date":"asc"}]` and so on.
    fn to_query_value(self) -> String {
        let (field, direction) = match self {
            TaskSort::CreatedAsc => ("insert_date", "asc"),
            TaskSort::CreatedDesc => ("insert_date", "desc"),
            TaskSort::UpdatedAsc => ("update_date", "asc"),
            TaskSort::UpdatedDesc => ("update_date", "desc"),
        };
        format!(r#"[{{"{field}":"{direction}"}}]"#)
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
const DEFAULT_LIST_PAGE_SIZE: u32 = 100;
pub(crate) const TASK_LIST_PATH: &str = "agents/conversations/list";

/// The query of `agents/conversations/list`, in the order sent.
pub(crate) fn task_list_query(
    agent_id: &str,
    options: &TaskListOptions,
) -> Vec<(&'static str, String)> {
    let mut filters = vec![exact_match(
        "conversation.agent_id",
        vec![agent_id.to_string()],
    )];
    if !options.statuses.is_empty() {
        let states = options
            .statuses
            .iter()
            .flat_map(TaskStatus::filter_states)
            .collect();
        filters.push(exact_match("conversation.state", states));
    }
    let mut query = vec![
        ("filters", to_json_text(&filters)),
        ("sort", options.sort.to_query_value()),
        (
            "page_size",
            options
                .page_size
                .unwrap_or(DEFAULT_LIST_PAGE_SIZE)
                .to_string(),
        ),
        (
            "page",
            options.page.unwrap_or(DEFAULT_LIST_PAGE).to_string(),
        ),
    ];
    if let Some(search) = options
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        query.push(("query", search.to_string()));
    }
    query
}

/// One `filters` entry. A struct rather than a `json!` map so the field
/// order on the wire is the protocol's whatever serde_json features the
/// workspace enables.
#[derive(serde::Serialize)]
struct ExactMatch<'a> {
    field: &'a str,
    filter_type: &'static str,
    condition: &'static str,
    condition_value: Vec<String>,
}

fn exact_match(field: &str, values: Vec<String>) -> ExactMatch<'_> {
    ExactMatch {
        field,
        filter_type: "exact_match",
        condition: "==",
        condition_value: values,
    }
}

/// Serialising plain strings and a plain struct cannot fail.
fn to_json_text(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("plain strings always serialise")
}

/// A conversation-list answer: `{"results": [{"knowledge_set", "metadata"}]}`.
#[derive(Deserialize)]
pub(crate) struct TaskListAnswer {
    results: Vec<TaskListItem>,
}

#[derive(Deserialize)]
struct TaskListItem {
    knowledge_set: String,
    metadata: TaskMeta,
}

impl TaskListAnswer {
    pub(crate) fn into_tasks(self, client: &Client, agent_id: &str) -> Vec<Task> {
        self.results
            .into_iter()
            .map(|item| {
                let mut task = item.metadata.into_task(client.clone(), agent_id);
                task.id = item.knowledge_set;
                task
            })
            .collect()
    }
}

/// TaskMeta (PROTOCOL A5/A7b). Only the task id is required; the rest is
/// read leniently so that a field the platform changes does not break
/// reading a task.
#[derive(Deserialize)]
struct TaskMeta {
    knowledge_set: String,
    #[serde(default)]
    insert_date: Value,
    #[serde(default)]
    update_date: Value,
    #[serde(default)]
    conversation: Value,
}

impl TaskMeta {
    /// `agent_id` is the agent that was asked about; the platform's
    /// `conversation.agent_id` wins when it sends one.
    fn into_task(self, client: Client, agent_id: &str) -> Task {
        let text = |field: &str| {
            self.conversation
                .get(field)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let state = text("state").unwrap_or_default();
        Task {
            client,
            id: self.knowledge_set.clone(),
            owner: TaskOwner::Agent(text("agent_id").unwrap_or_else(|| agent_id.to_string())),
            title: text("title").unwrap_or_default(),
            status: TaskStatus::from_state(&state),
            state,
            requested_state: None,
            created_at: timestamp(&self.insert_date),
            updated_at: timestamp(&self.update_date),
        }
    }
}

/// The trigger answer (PROTOCOL A7b):
/// `{"conversation_id", "agent_id", "state", "job_info"}`.
#[derive(Deserialize)]
pub(crate) struct TriggerAnswer {
    conversation_id: String,
    #[serde(default)]
    agent_id: Option<String>,
    #[serde(default)]
    state: Option<String>,
}

impl TriggerAnswer {
    /// The answer a trigger would have given for a task it created, when
    /// its real answer was lost but the task was found.
    pub(crate) fn for_existing(task: &Task) -> TriggerAnswer {
        TriggerAnswer {
            conversation_id: task.id.clone(),
            agent_id: task.agent_id().map(str::to_string),
            state: Some(task.state.clone()),
        }
    }

    /// The task as the trigger left it: no title and no times yet. An absent
    /// state is `Unknown("")` rather than an error, so the caller still
    /// learns the id of the task that was created.
    pub(crate) fn into_task(self, client: Client, agent_id: &str) -> Task {
        let state = self.state.unwrap_or_default();
        Task {
            client,
            id: self.conversation_id,
            owner: TaskOwner::Agent(self.agent_id.unwrap_or_else(|| agent_id.to_string())),
            title: String::new(),
            status: TaskStatus::from_state(&state),
            state,
            requested_state: None,
            created_at: None,
            updated_at: None,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::key::Key;
    use crate::region::{Endpoints, Region};
    use crate::Error;
    use chrono::TimeZone;
    use std::error::Error as _;

    pub(crate) fn test_client() -> Client {
        Client::builder(Key::new("sk-test", Region::US, "p1").unwrap())
            .base_url("http://127.0.0.1:9")
            .build()
            .unwrap()
    }

    #[test]
    fn every_platform_state_maps_to_its_status() {
        let cases = [
            ("idle", TaskStatus::Idle, false),
            ("starting-up", TaskStatus::Queued, true),
            ("waiting-for-capacity", TaskStatus::Queued, true),
            ("queued-for-approval", TaskStatus::Queued, true),
            ("queued-for-rerun", TaskStatus::Queued, true),
            ("running", TaskStatus::Running, true),
            ("pending-approval", TaskStatus::Action, false),
            ("escalated", TaskStatus::Action, false),
            ("paused", TaskStatus::Paused, false),
            ("completed", TaskStatus::Completed, false),
            ("cancelled", TaskStatus::Cancelled, false),
            ("timed-out", TaskStatus::Error, false),
            ("unrecoverable", TaskStatus::Error, false),
            ("errored-pending-approval", TaskStatus::Error, false),
            ("not-started", TaskStatus::NotStarted, false),
            ("dancing", TaskStatus::Unknown("dancing".into()), false),
            ("", TaskStatus::Unknown(String::new()), false),
            ("RUNNING", TaskStatus::Unknown("RUNNING".into()), false),
        ];
        for (state, status, running) in cases {
            let got = TaskStatus::from_state(state);
            assert_eq!(got, status, "{state}");
            assert_eq!(got.is_running(), running, "{state}");
            if !matches!(got, TaskStatus::Unknown(_)) {
                assert!(got.states().contains(&state), "{state}");
            }
        }
        // Every listed state belongs to exactly one status.
        let all: Vec<&str> = NAMED_STATUSES
            .iter()
            .flat_map(|s| s.states())
            .copied()
            .collect();
        assert_eq!(all.len(), 15);
        for state in &all {
            assert_eq!(all.iter().filter(|s| *s == state).count(), 1, "{state}");
        }
    }

    #[test]
    fn every_workforce_state_maps_to_its_status() {
        let cases = [
            ("running", TaskStatus::Running, true),
            ("completed", TaskStatus::Completed, false),
            ("execution-limit-reached", TaskStatus::Error, false),
            ("errored-pending-approval", TaskStatus::Error, false),
            ("pending-approval", TaskStatus::Action, false),
            ("escalated", TaskStatus::Action, false),
            // Agent-only states mean nothing for a workforce: kept raw.
            ("idle", TaskStatus::Unknown("idle".into()), false),
            (
                "starting-up",
                TaskStatus::Unknown("starting-up".into()),
                false,
            ),
            ("timed-out", TaskStatus::Unknown("timed-out".into()), false),
            ("", TaskStatus::Unknown(String::new()), false),
            ("Running", TaskStatus::Unknown("Running".into()), false),
        ];
        for (state, status, running) in cases {
            let got = TaskStatus::from_workforce_state(state);
            assert_eq!(got, status, "{state}");
            assert_eq!(got.is_running(), running, "{state}");
        }
        // The agent table does not know the workforce-only state.
        assert_eq!(
            TaskStatus::from_state("execution-limit-reached"),
            TaskStatus::Unknown("execution-limit-reached".into())
        );
    }

    #[test]
    fn owners_answer_their_own_accessor_only() {
        let make = |owner: TaskOwner| Task {
            client: test_client(),
            id: "t".into(),
            owner,
            title: String::new(),
            status: TaskStatus::Running,
            state: "running".into(),
            requested_state: None,
            created_at: None,
            updated_at: None,
        };
        let agent_task = make(TaskOwner::Agent("a1".into()));
        assert_eq!(
            (agent_task.agent_id(), agent_task.workforce_id()),
            (Some("a1"), None)
        );
        let workforce_task = make(TaskOwner::Workforce("w1".into()));
        assert_eq!(
            (workforce_task.agent_id(), workforce_task.workforce_id()),
            (None, Some("w1"))
        );
        assert_eq!(workforce_task.owner.id(), "w1");
        assert_ne!(agent_task, make(TaskOwner::Workforce("a1".into())));
        let debug = format!("{workforce_task:?}");
        assert!(debug.contains("Workforce(\"w1\")"), "{debug}");
    }

    #[test]
    fn client_side_filtering_is_inclusive_and_keeps_undated_messages() {
        let message = |id: &str, date: &str| {
            Message::from_value(json!({"item_id": id, "insert_date_": date,
                "content": {"type": "agent-message", "text": id}}))
            .unwrap()
        };
        let messages = vec![
            message("m1", "2026-01-01T00:00:01.000Z"),
            message("m2", "2026-01-01T00:00:02.000Z"),
            message("undated", "not a date"),
            message("m3", "2026-01-01T00:00:02.500+00:00"),
        ];
        let at = |text: &str| timestamp(&Value::from(text)).unwrap();
        let cases = [
            ("2026-01-01T00:00:00Z", vec!["m1", "m2", "undated", "m3"]),
            ("2026-01-01T00:00:02.000Z", vec!["m2", "undated", "m3"]),
            ("2026-01-01T00:00:02.001Z", vec!["undated", "m3"]),
            ("2026-01-01T00:00:03Z", vec!["undated"]),
        ];
        for (after, expected) in cases {
            let kept = messages_at_or_after(messages.clone(), at(after));
            let ids: Vec<&str> = kept.iter().map(|m| m.id.as_str()).collect();
            assert_eq!(ids, expected, "{after}");
        }
    }

    #[test]
    fn status_names_display_and_parse_back() {
        let cases = [
            (TaskStatus::NotStarted, "not started"),
            (TaskStatus::Idle, "idle"),
            (TaskStatus::Queued, "queued"),
            (TaskStatus::Running, "running"),
            (TaskStatus::Action, "action"),
            (TaskStatus::Paused, "paused"),
            (TaskStatus::Completed, "completed"),
            (TaskStatus::Cancelled, "cancelled"),
            (TaskStatus::Error, "error"),
        ];
        for (status, name) in cases {
            assert_eq!(status.to_string(), name);
            assert_eq!(name.parse::<TaskStatus>().unwrap(), status);
            assert_eq!(name.to_uppercase().parse::<TaskStatus>().unwrap(), status);
        }
        assert_eq!(
            "not-started".parse::<TaskStatus>().unwrap(),
            TaskStatus::NotStarted
        );
        assert_eq!(
            " Not_Started ".parse::<TaskStatus>().unwrap(),
            TaskStatus::NotStarted
        );
        assert_eq!(
            TaskStatus::Unknown("weird-state".into()).to_string(),
            "weird-state"
        );
        for bad in ["", "escalated", "runnin", "weird-state"] {
            let error = bad.parse::<TaskStatus>().unwrap_err();
            assert!(matches!(error, Error::InvalidTaskStatus { .. }), "{bad}");
            assert!(error.to_string().contains("valid: not-started"), "{error}");
        }
    }

    fn query_string(agent_id: &str, options: &TaskListOptions) -> String {
        let endpoints = Endpoints::hosted(Region::US);
        let query = task_list_query(agent_id, options);
        let url = crate::http::url_with_query(&endpoints, TASK_LIST_PATH, &query).unwrap();
        assert_eq!(
            url.path(),
            "/latest/agents/conversations/list",
            "the path never changes"
        );
        url.query().unwrap().to_string()
    }

    #[test]
    fn task_list_query_is_exact() {
        let agent_filter = "%7B%22field%22%3A%22conversation.agent_id%22%2C%22filter_type%22%3A%22exact_match%22%2C%22condition%22%3A%22%3D%3D%22%2C%22condition_value%22%3A%5B%22a1%22%5D%7D";
        let cases = [
            (
                TaskListOptions::default(),
                format!(
                    "filters=%5B{agent_filter}%5D&sort=%5B%7B%22insert_date%22%3A%22asc%22%7D%5D&page_size=100&page=1"
                ),
            ),
            (
                TaskListOptions {
                    page_size: Some(5),
                    page: Some(3),
                    sort: TaskSort::UpdatedDesc,
                    statuses: vec![TaskStatus::Action],
                    search: Some("  tax & fees? ".into()),
                },
                format!(
                    "filters=%5B{agent_filter}%2C%7B%22field%22%3A%22conversation.state%22%2C%22filter_type%22%3A%22exact_match%22%2C%22condition%22%3A%22%3D%3D%22%2C%22condition_value%22%3A%5B%22pending-approval%22%2C%22escalated%22%5D%7D%5D&sort=%5B%7B%22update_date%22%3A%22desc%22%7D%5D&page_size=5&page=3&query=tax+%26+fees%3F"
                ),
            ),
            (
                TaskListOptions {
                    sort: TaskSort::CreatedDesc,
                    search: Some("   ".into()),
                    ..Default::default()
                },
                format!(
                    "filters=%5B{agent_filter}%5D&sort=%5B%7B%22insert_date%22%3A%22desc%22%7D%5D&page_size=100&page=1"
                ),
            ),
        ];
        for (options, expected) in cases {
            assert_eq!(query_string("a1", &options), expected, "{options:?}");
        }
    }

    #[test]
    fn task_list_query_decodes_to_the_protocol_json() {
        let sorts = [
            (TaskSort::CreatedAsc, json!([{"insert_date": "asc"}])),
            (TaskSort::CreatedDesc, json!([{"insert_date": "desc"}])),
            (TaskSort::UpdatedAsc, json!([{"update_date": "asc"}])),
            (TaskSort::UpdatedDesc, json!([{"update_date": "desc"}])),
        ];
        for (sort, expected_sort) in sorts {
            let options = TaskListOptions {
                sort,
                statuses: vec![TaskStatus::Unknown("new-state".into())],
                ..Default::default()
            };
            let query = query_string("agent/with space", &options);
            let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect();
            let filters: Value = serde_json::from_str(&pairs[0].1).unwrap();
            assert_eq!(
                filters,
                json!([
                    {"field": "conversation.agent_id", "filter_type": "exact_match",
                     "condition": "==", "condition_value": ["agent/with space"]},
                    {"field": "conversation.state", "filter_type": "exact_match",
                     "condition": "==", "condition_value": ["new-state"]},
                ])
            );
            let sort: Value = serde_json::from_str(&pairs[1].1).unwrap();
            assert_eq!(sort, expected_sort);
            let names: Vec<&str> = pairs.iter().map(|(name, _)| name.as_str()).collect();
            assert_eq!(names, ["filters", "sort", "page_size", "page"]);
        }
    }

    #[test]
    fn a_status_filter_lists_every_state_of_the_status() {
        let query = task_list_query(
            "a1",
            &TaskListOptions {
                statuses: vec![TaskStatus::Queued],
                ..Default::default()
            },
        );
        let filters: Value = serde_json::from_str(&query[0].1).unwrap();
        assert_eq!(
            filters[1]["condition_value"],
            json!([
                "starting-up",
                "waiting-for-capacity",
                "queued-for-approval",
                "queued-for-rerun"
            ])
        );
    }

    #[test]
    fn task_list_answer_decodes() {
        let answer: TaskListAnswer = serde_json::from_str(
            r#"{"results":[
                {"knowledge_set":"t1","metadata":{"knowledge_set":"t1","_id":"t1","project":"p1",
                 "insert_date":"2026-01-02T03:04:05.000Z","update_date":"2026-01-02T03:05:00Z",
                 "conversation":{"created_by_user_id":"u","state":"escalated","title":"Hello"},"extra":1}},
                {"knowledge_set":"t2","metadata":{"knowledge_set":"t2",
                 "conversation":{"state":"exploded","agent_id":"other"}}}
            ],"next":null}"#,
        )
        .unwrap();
        let tasks = answer.into_tasks(&test_client(), "a1");
        assert_eq!(tasks.len(), 2);
        assert_eq!(tasks[0].id, "t1");
        assert_eq!(tasks[0].agent_id(), Some("a1"));
        assert_eq!(tasks[0].workforce_id(), None);
        assert_eq!(tasks[0].requested_state, None);
        assert_eq!(tasks[0].title, "Hello");
        assert_eq!(tasks[0].status, TaskStatus::Action);
        assert_eq!(tasks[0].state, "escalated");
        assert_eq!(
            tasks[0].created_at,
            Some(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap())
        );
        assert_eq!(
            tasks[0].updated_at,
            Some(Utc.with_ymd_and_hms(2026, 1, 2, 3, 5, 0).unwrap())
        );
        assert_eq!(tasks[1].agent_id(), Some("other"));
        assert_eq!(tasks[1].title, "");
        assert_eq!(tasks[1].status, TaskStatus::Unknown("exploded".into()));
        assert_eq!(tasks[1].created_at, None);
    }

    #[test]
    fn missing_required_fields_are_named() {
        let cases: [(&str, &str); 4] = [
            (r#"{"result":[]}"#, "results"),
            (
                r#"{"results":[{"metadata":{"knowledge_set":"t"}}]}"#,
                "knowledge_set",
            ),
            (
                r#"{"results":[{"knowledge_set":"t","metadata":{}}]}"#,
                "knowledge_set",
            ),
            (r#"{"results":[{"knowledge_set":"t"}]}"#, "metadata"),
        ];
        for (json, field) in cases {
            let error = serde_json::from_str::<TaskListAnswer>(json).err().unwrap();
            assert!(error.to_string().contains(field), "{json}: {error}");
        }
    }

    #[test]
    fn trigger_answer_decodes_to_a_task_at_once() {
        let answer: TriggerAnswer = serde_json::from_str(
            r#"{"conversation_id":"pre_-_1","agent_id":"a1","state":"starting-up",
                "job_info":{"job_id":"j","studio_id":"s"}}"#,
        )
        .unwrap();
        let task = answer.into_task(test_client(), "asked");
        assert_eq!(task.id, "pre_-_1");
        assert_eq!(task.owner, TaskOwner::Agent("a1".into()));
        assert_eq!(task.status, TaskStatus::Queued);
        assert!(task.is_running());
        assert_eq!(task.title, "");

        let bare: TriggerAnswer = serde_json::from_str(r#"{"conversation_id":"c"}"#).unwrap();
        let task = bare.into_task(test_client(), "asked");
        assert_eq!(task.agent_id(), Some("asked"));
        assert_eq!(task.status, TaskStatus::Unknown(String::new()));

        let error = serde_json::from_str::<TriggerAnswer>(r#"{"state":"running"}"#)
            .err()
            .unwrap();
        assert!(error.to_string().contains("conversation_id"), "{error}");
    }

    #[test]
    fn view_body_and_cursor_are_exact() {
        assert_eq!(view_body(None), json!({"page_size": 1000}));
        assert_eq!(
            view_body(Some("2026-11-26T10:00:00.123456")),
            json!({"page_size": 1000, "cursor": {"after": "2026-11-26T10:00:00.123456"}})
        );
        let cases = [
            (
                Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap(),
                "2026-11-26T10:00:00.000Z",
            ),
            (
                Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
                    + chrono::Duration::microseconds(123_999),
                "2026-01-02T03:04:05.123Z",
            ),
        ];
        for (time, expected) in cases {
            assert_eq!(cursor_time(time), expected);
        }
    }

    #[test]
    fn view_results_come_back_oldest_first() {
        let message = |id: &str, date: &str| {
            json!({"item_id": id, "insert_date_": date, "is_expanded_by_default": false,
                   "is_in_hidden_group": false,
                   "content": {"type": "agent-message", "text": id}})
        };
        let messages = messages_oldest_first(vec![
            message("m3", "2026-01-01T00:00:03.000Z"),
            message("m2", "2026-01-01T00:00:02.000Z"),
            message("m1", "2026-01-01T00:00:01.000Z"),
        ])
        .unwrap();
        let ids: Vec<&str> = messages.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["m1", "m2", "m3"]);

        let error =
            messages_oldest_first(vec![message("ok", "x"), json!({"content": {}})]).unwrap_err();
        assert!(matches!(error, Error::Decode { .. }));
        let text = format!("{error} {:?}", error.source());
        assert!(text.contains("item_id"), "{text}");
    }

    #[test]
    fn which_task_id_is_sent() {
        let api = Key::new("sk-1", Region::US, "p").unwrap();
        let embed = Key::embed(
            "ek-1",
            Region::US,
            "p",
            crate::key::EmbedTarget::Agent("a1".into()),
            "pre9",
        )
        .unwrap();
        // (key, continued task, expectation)
        assert_eq!(task_id_to_send(&api, None), None);
        assert_eq!(
            task_id_to_send(&api, Some("t1".into())).as_deref(),
            Some("t1")
        );
        assert_eq!(
            task_id_to_send(&embed, Some("pre9_-_old".into())).as_deref(),
            Some("pre9_-_old")
        );
        let first = task_id_to_send(&embed, None).unwrap();
        let second = task_id_to_send(&embed, None).unwrap();
        assert_ne!(first, second, "each new task gets a fresh id");
        for id in [first, second] {
            let uuid = id.strip_prefix("pre9_-_").expect("prefixed");
            let parsed = uuid::Uuid::parse_str(uuid).unwrap();
            assert_eq!(parsed.get_version_num(), 4, "{id}");
            assert_eq!(uuid, parsed.hyphenated().to_string(), "{id}");
        }
    }

    #[test]
    fn debug_and_equality_ignore_the_client() {
        let make = |client: Client| Task {
            client,
            id: "t".into(),
            owner: TaskOwner::Agent("a".into()),
            title: "x".into(),
            status: TaskStatus::Idle,
            state: "idle".into(),
            requested_state: None,
            created_at: None,
            updated_at: None,
        };
        let other = Client::new(Key::new("sk-OTHER-SECRET", Region::EU, "p2").unwrap()).unwrap();
        assert_eq!(make(test_client()), make(other.clone()));
        let debug = format!("{:?}", make(other));
        assert!(
            debug.contains("\"t\"") && !debug.contains("SECRET"),
            "{debug}"
        );
    }
}
