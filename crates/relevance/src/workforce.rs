//! Workforces: reading one, sending it messages (which start or continue a
//! workforce task) and listing its tasks.
//!
//! A workforce task is the same [`Task`] as an agent task, owned by
//! [`TaskOwner::Workforce`]; this module holds the workforce side of the
//! wire (PROTOCOL A6) that [`Task`]'s methods dispatch to, so a caller never
//! needs to know which API a task came from. Answers are decoded leniently —
//! unknown fields are ignored and an ill-typed optional field is treated as
//! absent — but the fields that identify something (`workforce_task_id`,
//! `results`, `metadata`) are required and their absence is a decode error
//! that names them.

use std::fmt;

use futures_util::stream::Stream;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::agent::timestamp;
use crate::client::{default_client, Client};
use crate::error::{Error, Result};
use crate::message::Message;
use crate::paging::{every_item, Page};
use crate::region::Region;
use crate::retry::{RequestKind, RetryPolicy};
use crate::stream::StreamingToken;
use crate::task::{task_id_to_send, Task, TaskOwner, TaskRef, TaskStatus, STREAMING_TOKEN_QUERY};

/// The workforces of the client's project, borrowed from a [`Client`].
#[derive(Debug, Clone, Copy)]
pub struct Workforces<'c> {
    client: &'c Client,
}

/// A workforce, as far as the SDK reads it, and the client to act on it
/// with.
#[derive(Clone)]
pub struct Workforce {
    client: Client,
    /// The workforce id.
    pub id: String,
    /// The display name.
    pub name: Option<String>,
    /// The client's project.
    pub project: String,
    /// The client's region.
    pub region: Region,
}

/// Which workforce tasks to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkforceTaskListOptions {
    /// Tasks per page (default 100).
    pub page_size: Option<u32>,
    /// Only tasks whose title matches this text (empty means no search).
    pub search: Option<String>,
    /// Where to start: a [`WorkforceTaskPage::next_cursor`] (empty or `None`
    /// means the first page).
    pub cursor: Option<String>,
}

/// One page of workforce tasks.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkforceTaskPage {
    /// The tasks on this page.
    pub tasks: Vec<Task>,
    /// The cursor of the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

const DEFAULT_TASK_PAGE_SIZE: u32 = 100;
/// How many messages one messages request asks for.
const MESSAGES_PAGE_SIZE: u32 = 1000;
const TRIGGER_PATH: &str = "workforce/trigger";
const TASK_LIST_PATH: &str = "workforce/tasks/list";
const TASK_LIST_WHAT: &str = "workforce/tasks/list answer";

impl<'c> Workforces<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Workforces { client }
    }

    /// One workforce by id (`GET workforce/items/{id}`).
    pub async fn get(&self, workforce_id: &str) -> Result<Workforce> {
        let path = format!("workforce/items/{workforce_id}");
        let answer: WorkforceItem = self
            .client
            .send(
                RequestKind::Read,
                Method::GET,
                &path,
                None,
                "workforce/items answer",
            )
            .await?;
        Ok(answer.into_workforce(self.client))
    }
}

impl Workforce {
    /// One workforce by id, read with the default client (see
    /// [`create_client`](crate::create_client)); same as
    /// `default_client()?.workforces().get(workforce_id)`.
    pub async fn get(workforce_id: &str) -> Result<Workforce> {
        default_client()?.workforces().get(workforce_id).await
    }

    /// The client this workforce was read with, and acts with.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Sends `text` in a new task and returns the task at once, without
    /// waiting for the reply (`POST workforce/trigger`).
    ///
    /// The platform answers only with the task's id and starts the task at
    /// once, so the returned task is `Running` (state `"running"`) with no
    /// title or times until [`Task::refresh`]. A new task started with an
    /// embed key gets a client-made id `{task prefix}_-_{uuid v4}`, as the
    /// platform requires. Workforce messages take no attachments.
    pub async fn send_message(&self, text: impl Into<String>) -> Result<Task> {
        self.trigger(None, text.into()).await
    }

    /// Sends `text` in an existing task (a [`Task`] or a task id); otherwise
    /// as [`Workforce::send_message`].
    pub async fn send_message_in<'t>(
        &self,
        task: impl Into<TaskRef<'t>>,
        text: impl Into<String>,
    ) -> Result<Task> {
        let task_id = task.into().id().to_string();
        self.trigger(Some(task_id), text.into()).await
    }

    async fn trigger(&self, continued: Option<String>, text: String) -> Result<Task> {
        let continues_a_task = continued.is_some();
        let task_id = task_id_to_send(self.client.key(), continued);
        let body = trigger_body(&self.id, task_id.as_deref(), &text);
        let client = &self.client;
        let workforce_id = self.id.as_str();
        let what = "workforce/trigger answer";
        // A new task under a client-made id: the task existing means the trigger went through.
        let new_task_id = task_id.as_deref().filter(|_| !continues_a_task);
        let exists = || async move {
            let Some(task_id) = new_task_id else {
                return Ok(None);
            };
            match read_task(client, workforce_id, task_id).await {
                Ok(_) => Ok(Some(TriggerAnswer {
                    workforce_task_id: task_id.to_string(),
                })),
                Err(Error::NotFound { .. }) => Ok(None),
                Err(error) => Err(error),
            }
        };
        let answer: TriggerAnswer = client
            .send_trigger(TRIGGER_PATH, &body, what, new_task_id, exists)
            .await?;
        let task = answer.into_task(client.clone(), workforce_id);
        client.note_sent(&task.id);
        Ok(task)
    }

    /// One task of this workforce (`GET workforce/tasks/{id}/metadata`).
    pub async fn get_task(&self, task_id: &str) -> Result<Task> {
        read_task(&self.client, &self.id, task_id).await
    }

    /// One page of this workforce's tasks (`POST workforce/tasks/list`).
    /// Follow [`WorkforceTaskPage::next_cursor`] for the next page, or use
    /// [`Workforce::all_tasks`].
    pub async fn tasks(&self, options: WorkforceTaskListOptions) -> Result<WorkforceTaskPage> {
        let body = task_list_body(&self.id, &options);
        let answer: TaskListAnswer = self
            .client
            .send(
                RequestKind::Read,
                Method::POST,
                TASK_LIST_PATH,
                Some(&body),
                TASK_LIST_WHAT,
            )
            .await?;
        Ok(answer.into_page(&self.client, &self.id))
    }

    /// Every task of this workforce from `options.cursor` on, page by page
    /// as the stream is polled. The stream ends after the last page, or
    /// right after yielding the first error.
    ///
    /// It is `Unpin` (use it with `StreamExt::next` directly) and `Send`
    /// off the browser; on wasm it is not `Send`, like every request there.
    pub fn all_tasks(
        &self,
        options: WorkforceTaskListOptions,
    ) -> impl Stream<Item = Result<Task>> + Unpin {
        let workforce = self.clone();
        let first_cursor = options.cursor.clone().filter(|cursor| !cursor.is_empty());
        every_item(first_cursor, TASK_LIST_WHAT, move |cursor| {
            let workforce = workforce.clone();
            let options = WorkforceTaskListOptions {
                cursor,
                ..options.clone()
            };
            async move {
                let page = workforce.tasks(options).await?;
                Ok(Page {
                    items: page.tasks,
                    next_cursor: page.next_cursor,
                })
            }
        })
    }
}

impl fmt::Debug for Workforce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Workforce")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("project", &self.project)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// Two workforces are equal when their data is; the client they were read
/// through does not matter.
impl PartialEq for Workforce {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.name == other.name
            && self.project == other.project
            && self.region == other.region
    }
}

/// A workforce task by id, for [`Task::refresh`] and
/// [`Workforce::get_task`]. The metadata path does not name the workforce,
/// so the caller says which one the task belongs to.
pub(crate) async fn read_task(client: &Client, workforce_id: &str, task_id: &str) -> Result<Task> {
    let policy = client.retry_policy();
    let (task, _token) = read_task_with_token(client, &policy, workforce_id, task_id).await?;
    Ok(task)
}

/// A workforce task and its live-stream token
/// (`GET workforce/tasks/{id}/metadata?include_streaming_token=true`).
pub(crate) async fn read_task_with_token(
    client: &Client,
    policy: &RetryPolicy,
    workforce_id: &str,
    task_id: &str,
) -> Result<(Task, Option<StreamingToken>)> {
    let (name, value) = STREAMING_TOKEN_QUERY;
    let answer: MetadataAnswer = client
        .send_with_policy(
            policy,
            RequestKind::Read,
            Method::GET,
            &metadata_path(task_id),
            &[(name, value.to_string())],
            None,
            "workforce task metadata answer",
        )
        .await?;
    let token = StreamingToken::from_value(&answer.streaming_token);
    Ok((
        answer
            .metadata
            .into_task(client.clone(), workforce_id, task_id),
        token,
    ))
}

/// A workforce task's messages, oldest first, for [`Task::messages`].
pub(crate) async fn read_messages(
    client: &Client,
    policy: &RetryPolicy,
    workforce_id: &str,
    task_id: &str,
) -> Result<Vec<Message>> {
    let body = json!({"page_size": MESSAGES_PAGE_SIZE});
    let answer: MessagesAnswer = client
        .send_with_policy(
            policy,
            RequestKind::Read,
            Method::POST,
            &messages_path(workforce_id, task_id),
            &[],
            Some(&body),
            "workforce task messages answer",
        )
        .await?;
    answer.into_messages()
}

fn metadata_path(task_id: &str) -> String {
    format!("workforce/tasks/{task_id}/metadata")
}

fn messages_path(workforce_id: &str, task_id: &str) -> String {
    format!("workforce/items/{workforce_id}/tasks/{task_id}/messages")
}

/// The trigger body (PROTOCOL A6); `workforce_task_id` is absent, never
/// `null`, for a new task of an API key. `attachments` is always the empty
/// list: the platform takes none, but its own client sends the field.
fn trigger_body(workforce_id: &str, task_id: Option<&str>, text: &str) -> Value {
    let mut body = json!({
        "workforce_id": workforce_id,
        "trigger": {
            "use_streaming": true,
            "message": {"role": "user", "content": text, "attachments": []},
        },
    });
    if let Some(task_id) = task_id {
        body["workforce_task_id"] = json!(task_id);
    }
    body
}

/// The list body: `{"workforce_id", "page_size", "query"?, "cursor"?}`.
/// The search and the cursor are trimmed, as the official client does; an
/// empty one is left out, as if not given.
fn task_list_body(workforce_id: &str, options: &WorkforceTaskListOptions) -> Value {
    let mut body = json!({
        "workforce_id": workforce_id,
        "page_size": options.page_size.unwrap_or(DEFAULT_TASK_PAGE_SIZE),
    });
    if let Some(search) = options
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        body["query"] = json!(search);
    }
    if let Some(cursor) = options
        .cursor
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        body["cursor"] = json!(cursor);
    }
    body
}

/// The wire shape (PROTOCOL A6): `{"id", "workforce_metadata": {"name"}}`.
#[derive(Deserialize)]
struct WorkforceItem {
    id: String,
    #[serde(default)]
    workforce_metadata: Value,
}

impl WorkforceItem {
    fn into_workforce(self, client: &Client) -> Workforce {
        let name = self
            .workforce_metadata
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string);
        Workforce {
            client: client.clone(),
            id: self.id,
            name,
            project: client.project().to_string(),
            region: client.region(),
        }
    }
}

/// The trigger answer: `{"workforce_task_id"}`.
#[derive(Deserialize)]
struct TriggerAnswer {
    workforce_task_id: String,
}

impl TriggerAnswer {
    /// The platform starts a workforce task at once and says nothing else,
    /// so the task is `running` until it is refreshed.
    fn into_task(self, client: Client, workforce_id: &str) -> Task {
        Task {
            client,
            id: self.workforce_task_id,
            owner: TaskOwner::Workforce(workforce_id.to_string()),
            title: String::new(),
            status: TaskStatus::Running,
            state: "running".to_string(),
            requested_state: None,
            created_at: None,
            updated_at: None,
        }
    }
}

/// `{"metadata": {...}, "streaming_token"?: {...}}`.
#[derive(Deserialize)]
struct MetadataAnswer {
    metadata: WorkforceTaskMeta,
    #[serde(default)]
    streaming_token: Value,
}

/// A workforce task's metadata (PROTOCOL A6), every field loosely typed:
/// it carries no id (the id is in the path or the list item).
#[derive(Deserialize)]
struct WorkforceTaskMeta {
    #[serde(default)]
    insert_date: Value,
    #[serde(default)]
    update_date: Value,
    #[serde(default)]
    title: Value,
    #[serde(default)]
    state: Value,
    #[serde(default)]
    requested_state: Value,
}

impl WorkforceTaskMeta {
    fn into_task(self, client: Client, workforce_id: &str, task_id: &str) -> Task {
        let state = string(self.state).unwrap_or_default();
        Task {
            client,
            id: task_id.to_string(),
            owner: TaskOwner::Workforce(workforce_id.to_string()),
            title: string(self.title).unwrap_or_default(),
            status: TaskStatus::from_workforce_state(&state),
            state,
            requested_state: string(self.requested_state),
            created_at: timestamp(&self.insert_date),
            updated_at: timestamp(&self.update_date),
        }
    }
}

fn string(value: Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text),
        _ => None,
    }
}

/// `{"results": [Message]}`, already oldest first.
#[derive(Deserialize)]
struct MessagesAnswer {
    results: Vec<Value>,
}

impl MessagesAnswer {
    /// Keeps the server's order: unlike the agent `view`, this list is
    /// oldest first already.
    fn into_messages(self) -> Result<Vec<Message>> {
        self.results.into_iter().map(Message::from_value).collect()
    }
}

/// `{"results": [item], "next_cursor"?}`.
#[derive(Deserialize)]
struct TaskListAnswer {
    results: Vec<TaskListItem>,
    #[serde(default)]
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
struct TaskListItem {
    workforce_task_id: String,
    #[serde(default)]
    workforce_id: Value,
    #[serde(flatten)]
    meta: WorkforceTaskMeta,
}

impl TaskListAnswer {
    /// `workforce_id` is the workforce that was asked about; the item's own
    /// `workforce_id` wins when it has one. An empty `next_cursor` ends the
    /// list like an absent one.
    fn into_page(self, client: &Client, workforce_id: &str) -> WorkforceTaskPage {
        let tasks = self
            .results
            .into_iter()
            .map(|item| {
                let owner = string(item.workforce_id).unwrap_or_else(|| workforce_id.to_string());
                item.meta
                    .into_task(client.clone(), &owner, &item.workforce_task_id)
            })
            .collect();
        WorkforceTaskPage {
            tasks,
            next_cursor: self.next_cursor.filter(|cursor| !cursor.is_empty()),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A workforce to act on in other modules' tests.
    pub(crate) fn workforce_for_tests(client: &Client) -> Workforce {
        WorkforceItem {
            id: "w1".into(),
            workforce_metadata: Value::Null,
        }
        .into_workforce(client)
    }
    use crate::key::{EmbedTarget, Key};
    use crate::message::MessageContent;
    use crate::region::Endpoints;
    use chrono::{TimeZone, Utc};

    fn au_client() -> Client {
        Client::builder(Key::new("sk-test", Region::AU, "p").unwrap())
            .base_url("http://127.0.0.1:9")
            .build()
            .unwrap()
    }

    /// Decodes an answer the way `http::send` does, so the error is the
    /// one a caller would see.
    fn decode<T: serde::de::DeserializeOwned>(json: &str) -> Result<T> {
        serde_json::from_str(json).map_err(|source| crate::Error::Decode {
            what: "answer".into(),
            source,
        })
    }

    /// The error and its source, as a log line would show them.
    fn full_text(error: &crate::Error) -> String {
        format!("{error}: {:?}", std::error::Error::source(error))
    }

    #[test]
    fn decode_table() {
        let cases = [
            (
                r#"{"id":"w1","workforce_metadata":{"name":"Team"}}"#,
                Some(("w1", Some("Team"))),
            ),
            (
                r#"{"id":"w1","workforce_metadata":{},"other":1}"#,
                Some(("w1", None)),
            ),
            (r#"{"id":"w1"}"#, Some(("w1", None))),
            (
                r#"{"id":"w1","workforce_metadata":{"name":3}}"#,
                Some(("w1", None)),
            ),
            (r#"{"workforce_metadata":{"name":"Team"}}"#, None),
        ];
        for (json, expected) in cases {
            let decoded = serde_json::from_str::<WorkforceItem>(json)
                .map(|item| item.into_workforce(&au_client()));
            match expected {
                Some((id, name)) => {
                    let workforce = decoded.unwrap();
                    assert_eq!(workforce.id, id);
                    assert_eq!(workforce.name.as_deref(), name);
                    assert_eq!(workforce.project, "p");
                    assert_eq!(workforce.region, Region::AU);
                }
                None => assert!(decoded.is_err(), "{json}"),
            }
        }
    }

    #[test]
    fn debug_and_equality_ignore_the_client() {
        let json = r#"{"id":"w1","workforce_metadata":{"name":"Team"}}"#;
        let one = serde_json::from_str::<WorkforceItem>(json)
            .unwrap()
            .into_workforce(&au_client());
        let other_client = Client::new(Key::new("sk-OTHER-SECRET", Region::AU, "p").unwrap())
            .expect("a hosted client");
        let two = serde_json::from_str::<WorkforceItem>(json)
            .unwrap()
            .into_workforce(&other_client);
        assert_eq!(one, two);
        let debug = format!("{two:?}");
        assert!(
            debug.contains("Team") && !debug.contains("SECRET"),
            "{debug}"
        );
        let mut renamed = two.clone();
        renamed.name = Some("Other".into());
        assert_ne!(one, renamed);
    }

    #[test]
    fn trigger_body_is_exact_and_leaves_unused_fields_out() {
        let message = json!({"role": "user", "content": "hi", "attachments": []});
        let cases = [
            (
                None,
                json!({"workforce_id": "w1",
                       "trigger": {"use_streaming": true, "message": message}}),
            ),
            (
                Some("t1"),
                json!({"workforce_id": "w1", "workforce_task_id": "t1",
                       "trigger": {"use_streaming": true, "message": message}}),
            ),
        ];
        for (task_id, expected) in cases {
            let body = trigger_body("w1", task_id, "hi");
            assert_eq!(body, expected);
            assert!(!body.to_string().contains("null"), "{body}");
        }
    }

    #[test]
    fn an_embed_key_sends_a_prefixed_id_for_a_new_task_only() {
        let embed = Key::embed(
            "ek-1",
            Region::US,
            "p",
            EmbedTarget::Workforce("w1".into()),
            "wpre",
        )
        .unwrap();
        let api = Key::new("sk-1", Region::US, "p").unwrap();
        let new_task = trigger_body("w1", task_id_to_send(&embed, None).as_deref(), "hi");
        let id = new_task["workforce_task_id"].as_str().unwrap();
        let uuid = id
            .strip_prefix("wpre_-_")
            .expect("prefixed with the key's prefix");
        assert_eq!(uuid::Uuid::parse_str(uuid).unwrap().get_version_num(), 4);

        let continued = task_id_to_send(&embed, Some("wpre_-_old".into()));
        assert_eq!(continued.as_deref(), Some("wpre_-_old"));
        let api_body = trigger_body("w1", task_id_to_send(&api, None).as_deref(), "hi");
        assert!(api_body.get("workforce_task_id").is_none(), "{api_body}");
    }

    #[test]
    fn the_trigger_answer_is_a_running_workforce_task() {
        let answer: TriggerAnswer =
            decode(r#"{"workforce_task_id":"wt1","extra":{"x":1}}"#).unwrap();
        let task = answer.into_task(au_client(), "w1");
        assert_eq!(task.id, "wt1");
        assert_eq!(task.owner, TaskOwner::Workforce("w1".into()));
        assert_eq!(task.workforce_id(), Some("w1"));
        assert_eq!(task.agent_id(), None);
        assert_eq!(
            (task.status.clone(), task.state.as_str()),
            (TaskStatus::Running, "running")
        );
        assert!(task.is_running());
        assert_eq!((task.title.as_str(), task.created_at), ("", None));

        for json in [r#"{}"#, r#"{"conversation_id":"c"}"#] {
            let error = decode::<TriggerAnswer>(json).err().unwrap();
            assert!(
                full_text(&error).contains("workforce_task_id"),
                "{json}: {}",
                full_text(&error)
            );
        }
        let ill_typed = decode::<TriggerAnswer>(r#"{"workforce_task_id":7}"#);
        assert!(matches!(ill_typed, Err(crate::Error::Decode { .. })));
    }

    #[test]
    fn metadata_decodes_to_a_workforce_task() {
        let answer: MetadataAnswer = decode(
            r#"{"metadata":{"insert_date":"2026-01-02T03:04:05.000Z","update_date":"2026-01-02T03:05:00",
                "title":"Plan","state":"pending-approval","requested_state":"continue","extra":1},
                "streaming_token":{"token":"t","expiry_time_ms":1}}"#,
        )
        .unwrap();
        let task = answer.metadata.into_task(au_client(), "w1", "wt1");
        assert_eq!(task.id, "wt1");
        assert_eq!(task.owner, TaskOwner::Workforce("w1".into()));
        assert_eq!(task.title, "Plan");
        assert_eq!(task.state, "pending-approval");
        assert_eq!(task.status, TaskStatus::Action);
        assert_eq!(task.requested_state.as_deref(), Some("continue"));
        assert_eq!(
            task.created_at,
            Some(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap())
        );
        assert_eq!(
            task.updated_at,
            Some(Utc.with_ymd_and_hms(2026, 1, 2, 3, 5, 0).unwrap())
        );

        let lenient: MetadataAnswer =
            decode(r#"{"metadata":{"title":5,"state":"idle","requested_state":null}}"#).unwrap();
        let task = lenient.metadata.into_task(au_client(), "w1", "wt1");
        assert_eq!(task.title, "");
        assert_eq!(task.status, TaskStatus::Unknown("idle".into()));
        assert_eq!(task.requested_state, None);
        assert_eq!(task.created_at, None);

        let error = decode::<MetadataAnswer>(r#"{"meta":{}}"#).err().unwrap();
        assert!(
            full_text(&error).contains("metadata"),
            "{}",
            full_text(&error)
        );
    }

    #[test]
    fn messages_keep_the_server_order() {
        let answer: MessagesAnswer = decode(
            r#"{"results":[
                {"item_id":"m1","insert_date_":"2026-01-01T00:00:01.000Z",
                 "content":{"type":"user-message","text":"go","is_trigger_message":true}},
                {"item_id":"m2","insert_date_":"2026-01-01T00:00:02.000Z",
                 "content":{"type":"workforce-agent-run","task_details":{"project":"p","region":"f1db6c","conversation_id":"c1"}}},
                {"item_id":"m3","insert_date_":"2026-01-01T00:00:03.000Z",
                 "content":{"type":"agent-message","text":"done"}}
            ],"extra":true}"#,
        )
        .unwrap();
        let messages = answer.into_messages().unwrap();
        let ids: Vec<&str> = messages.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["m1", "m2", "m3"]);
        assert!(matches!(
            messages[1].content,
            MessageContent::WorkforceAgentRun(_)
        ));

        let error = decode::<MessagesAnswer>(r#"{"messages":[]}"#)
            .err()
            .unwrap();
        assert!(
            full_text(&error).contains("results"),
            "{}",
            full_text(&error)
        );
        let bad_item: MessagesAnswer = decode(r#"{"results":[{"content":{}}]}"#).unwrap();
        let error = bad_item.into_messages().unwrap_err();
        assert!(
            full_text(&error).contains("item_id"),
            "{}",
            full_text(&error)
        );
    }

    #[test]
    fn task_list_body_is_exact() {
        let cases = [
            (
                WorkforceTaskListOptions::default(),
                json!({"workforce_id": "w1", "page_size": 100}),
            ),
            (
                WorkforceTaskListOptions {
                    page_size: Some(5),
                    search: Some("tax & fees".into()),
                    cursor: Some("c2".into()),
                },
                json!({"workforce_id": "w1", "page_size": 5, "query": "tax & fees", "cursor": "c2"}),
            ),
            (
                WorkforceTaskListOptions {
                    page_size: None,
                    search: Some(String::new()),
                    cursor: Some(String::new()),
                },
                json!({"workforce_id": "w1", "page_size": 100}),
            ),
        ];
        for (options, expected) in cases {
            assert_eq!(task_list_body("w1", &options), expected, "{options:?}");
        }
    }

    #[test]
    fn task_list_answer_decodes_with_its_cursor() {
        let item = r#"{"workforce_task_id":"wt1","title":"One","state":"execution-limit-reached",
            "requested_state":"stop","insert_date":"2026-01-02T03:04:05Z","update_date":"2026-01-02T03:04:06Z",
            "project":"p","workforce_id":"w1","user_id":"u","created_by_user_id":"u","extra":[1]}"#;
        let cases = [
            (
                format!(r#"{{"results":[{item}],"next_cursor":"c2"}}"#),
                Some("c2"),
            ),
            (format!(r#"{{"results":[{item}]}}"#), None),
            (format!(r#"{{"results":[{item}],"next_cursor":""}}"#), None),
            (
                format!(r#"{{"results":[{item}],"next_cursor":null}}"#),
                None,
            ),
        ];
        for (json, cursor) in cases {
            let page = decode::<TaskListAnswer>(&json)
                .unwrap()
                .into_page(&au_client(), "asked");
            assert_eq!(page.next_cursor.as_deref(), cursor, "{json}");
            assert_eq!(page.tasks.len(), 1);
            let task = &page.tasks[0];
            assert_eq!(task.id, "wt1");
            assert_eq!(task.workforce_id(), Some("w1"));
            assert_eq!(task.title, "One");
            assert_eq!(task.status, TaskStatus::Error);
            assert_eq!(task.state, "execution-limit-reached");
            assert_eq!(task.requested_state.as_deref(), Some("stop"));
            assert_eq!(
                task.updated_at,
                Some(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 6).unwrap())
            );
        }

        let bare = decode::<TaskListAnswer>(r#"{"results":[{"workforce_task_id":"wt2"}]}"#)
            .unwrap()
            .into_page(&au_client(), "asked");
        assert_eq!(bare.tasks[0].owner, TaskOwner::Workforce("asked".into()));
        assert_eq!(bare.tasks[0].status, TaskStatus::Unknown(String::new()));

        let missing = [
            (r#"{"tasks":[]}"#, "results"),
            (
                r#"{"results":[{"title":"x","state":"running"}]}"#,
                "workforce_task_id",
            ),
        ];
        for (json, field) in missing {
            let error = decode::<TaskListAnswer>(json).err().unwrap();
            assert!(
                full_text(&error).contains(field),
                "{json}: {}",
                full_text(&error)
            );
        }
    }

    #[test]
    fn request_paths_are_the_protocol_paths() {
        let endpoints = Endpoints::hosted(Region::US);
        let cases = [
            (metadata_path("wt1"), "/latest/workforce/tasks/wt1/metadata"),
            (
                messages_path("w1", "wt1"),
                "/latest/workforce/items/w1/tasks/wt1/messages",
            ),
            (TRIGGER_PATH.to_string(), "/latest/workforce/trigger"),
            (TASK_LIST_PATH.to_string(), "/latest/workforce/tasks/list"),
        ];
        for (path, expected) in cases {
            let url = crate::http::url_with_query(&endpoints, &path, &[]).unwrap();
            assert_eq!(url.path(), expected);
        }
    }

    /// The stream of every task must be usable from a multi-threaded
    /// runtime off the browser (it is not required to be `Send` on wasm).
    #[cfg(not(target_family = "wasm"))]
    #[test]
    fn all_tasks_is_send_and_unpin_off_the_browser() {
        fn assert_send_unpin<S: Send + Unpin + 'static>(_: &S) {}
        let workforce = serde_json::from_str::<WorkforceItem>(r#"{"id":"w1"}"#)
            .unwrap()
            .into_workforce(&au_client());
        let stream = workforce.all_tasks(WorkforceTaskListOptions::default());
        assert_send_unpin(&stream);
    }
}
