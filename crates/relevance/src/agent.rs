//! Agents: reading and listing them, and acting on one — sending it a
//! message (which makes or continues a task) and reading its tasks.
//!
//! An [`Agent`] keeps a clone of the [`Client`] it was read with, so it can
//! act without the caller threading the client through. The wire shapes are
//! in `wire::agents` (decoded leniently: only the agent's id is required);
//! sending a message is the shared [`MessageBuilder`].

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::stream::Stream;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::{default_client, Client};
use crate::error::Result;
use crate::http::Request;
use crate::message_builder::MessageBuilder;
use crate::paging::{every_item, Page};
use crate::region::Region;
use crate::task::owner::agent_task_list;
use crate::task::{task_list_query, Task, TaskListOptions, TaskOwner};
use crate::wire::agents::{GetAnswer, ListAnswer, ListBody, RawAgentConfig};
use crate::wire::string;
use crate::wire::tasks::{ListAnswer as TaskListAnswer, LIST_PATH as TASK_LIST_PATH};

use crate::wire::timestamp;

/// The agents of the client's project, borrowed from a [`Client`].
#[derive(Debug, Clone, Copy)]
pub struct Agents<'c> {
    client: &'c Client,
}

/// Which page of agents to list.
#[derive(Clone, Debug, Default)]
pub struct AgentListOptions {
    /// 1-based page number (default 1).
    pub page: Option<u32>,
    /// Agents per page (default 20).
    pub page_size: Option<u32>,
}

/// An agent as the platform describes it, as far as the SDK reads it: plain
/// data that can be serialised, compared and cached. [`Agent`] is the
/// handle that holds it next to a client and has the calls.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentData {
    /// The agent id.
    pub id: String,
    /// The display name.
    pub name: Option<String>,
    /// The description.
    pub description: Option<String>,
    /// The avatar emoji.
    pub avatar: Option<String>,
    /// The project it belongs to (the client's when the answer omits it).
    pub project: String,
    /// The client's region (agents do not carry one).
    pub region: Region,
    /// Whether embed keys can be made for it.
    pub public: bool,
    /// The model it runs on.
    pub model: Option<String>,
    /// When it was created.
    pub created_at: Option<DateTime<Utc>>,
    /// When it was last changed.
    pub updated_at: Option<DateTime<Utc>>,
    /// The whole `AgentConfig` as the platform sent it: an API-key trigger
    /// sends it back as `agent_override` to turn streaming on.
    #[serde(default)]
    pub(crate) config: Map<String, Value>,
}

/// An agent and the client it was read through: the calls
/// ([`Agent::send_message`], [`Agent::message`], [`Agent::tasks`]), and its
/// [`AgentData`] through `Deref` (`agent.id`, `agent.name`) or
/// [`Agent::data`]. `Debug` and `==` look at the data only, never the client.
#[derive(Clone)]
pub struct Agent {
    client: Client,
    data: AgentData,
}

impl std::ops::Deref for Agent {
    type Target = AgentData;
    fn deref(&self) -> &AgentData {
        &self.data
    }
}

/// The data is plain data: changing it here (say, to a status an event
/// announced) changes what this handle shows, not the platform.
impl std::ops::DerefMut for Agent {
    fn deref_mut(&mut self) -> &mut AgentData {
        &mut self.data
    }
}

impl fmt::Debug for Agent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Agent")
            .field("data", &self.data)
            .finish_non_exhaustive()
    }
}

/// Equal when the data is; the client it came through does not matter.
impl PartialEq for Agent {
    fn eq(&self, other: &Self) -> bool {
        self.data == other.data
    }
}

const DEFAULT_PAGE: u32 = 1;
const DEFAULT_PAGE_SIZE: u32 = 20;

impl Client {
    /// The agents of the project.
    pub fn agents(&self) -> Agents<'_> {
        Agents { client: self }
    }
}

impl<'c> Agents<'c> {
    /// The client these agents are read with (for `agent_admin`).
    pub(crate) fn client(&self) -> &'c Client {
        self.client
    }

    /// One agent by id (`GET agents/{id}/get`). An embed key may read only
    /// its own agent; any other id is `NotFound`.
    pub async fn get(&self, agent_id: &str) -> Result<Agent> {
        let request =
            Request::get(crate::wire::agents::get_path(agent_id)).answer("agents/get answer");
        let answer: GetAnswer = self.client.send(request).await?;
        Ok(Agent::from_wire(answer.agent, self.client))
    }

    /// One page of the project's agents (`POST agents/list`). The page and
    /// page size are always sent, defaulting to 1 and 20. Embed keys may not
    /// list agents (`Forbidden`).
    ///
    /// The same [`Page`] as every task list: the agent list pages by number, so
    /// a full page's [`next_cursor`](Page::next_cursor) is the next page's
    /// number (as text) and a shorter page is the last one.
    pub async fn list(&self, options: AgentListOptions) -> Result<Page<Agent>> {
        let page = options.page.unwrap_or(DEFAULT_PAGE);
        let page_size = options.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        let request =
            Request::read_post(crate::wire::agents::LIST_PATH).json(&ListBody { page, page_size });
        let answer: ListAnswer = self.client.send(request).await?;
        let items: Vec<Agent> = answer
            .results
            .into_iter()
            .map(|config| Agent::from_wire(config, self.client))
            .collect();
        Ok(Page {
            next_cursor: next_page_number(page, page_size, items.len()),
            items,
        })
    }

    /// Every agent of the project from `options.page` on, page by page as the
    /// stream is polled; ends after the last page, or right after yielding the
    /// first error. `Unpin`, and `Send` off the browser.
    pub fn all(&self, options: AgentListOptions) -> impl Stream<Item = Result<Agent>> + Unpin {
        let client = self.client.clone();
        let first = options.page.map(|page| page.to_string());
        every_item(first, "agents/list answer", move |cursor| {
            let client = client.clone();
            let options = AgentListOptions {
                page: cursor.and_then(|page| page.parse().ok()),
                ..options.clone()
            };
            async move { client.agents().list(options).await }
        })
    }
}

/// The cursor after a page of a list paged by number: the next number when
/// the page is full, `None` after a shorter (the last) page.
fn next_page_number(page: u32, page_size: u32, items: usize) -> Option<String> {
    let full = page_size > 0 && items >= page_size as usize;
    full.then(|| page.saturating_add(1).to_string())
}

impl Agent {
    /// One agent by id, read with the default client (see
    /// [`create_client`](crate::create_client)); same as
    /// `default_client()?.agents().get(agent_id)`.
    pub async fn get(agent_id: &str) -> Result<Agent> {
        default_client()?.agents().get(agent_id).await
    }

    /// The client this agent was read with, and acts with.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Sends `text` in a new task and returns the task at once, without
    /// waiting for the reply. For attachments or to continue a task, use
    /// [`Agent::message`].
    pub async fn send_message(&self, text: impl Into<String>) -> Result<Task> {
        self.message(text).send().await
    }

    /// A message to send: add attachments and a task, then
    /// [`MessageBuilder::send`].
    pub fn message(&self, text: impl Into<String>) -> MessageBuilder<'_> {
        let owner = TaskOwner::Agent(self.id.clone());
        MessageBuilder::new(
            &self.client,
            owner,
            Some(Arc::new(self.config.clone())),
            text.into(),
        )
    }

    /// One task of this agent.
    pub async fn get_task(&self, task_id: &str) -> Result<Task> {
        Task::get_with(&self.client, &self.id, task_id).await
    }

    /// One page of this agent's tasks
    /// (`GET agents/conversations/list`, filtered to this agent).
    ///
    /// The agent API pages by number: a full page's
    /// [`next_cursor`](Page::next_cursor) is the next page's number (as
    /// text), a shorter page is the last one.
    pub async fn tasks(&self, options: TaskListOptions) -> Result<Page<Task>> {
        let page = options.page.unwrap_or(1);
        let page_size = options
            .page_size
            .unwrap_or(crate::task::DEFAULT_LIST_PAGE_SIZE);
        let request = Request::get(TASK_LIST_PATH)
            .query(task_list_query(&self.id, &options))
            .answer("agents/conversations/list answer");
        let answer: TaskListAnswer = self.client.send(request).await?;
        let items = agent_task_list(answer, &self.client, &self.id);
        Ok(Page {
            next_cursor: next_page_number(page, page_size, items.len()),
            items,
        })
    }

    /// Every task of this agent from `options.page` on, page by page as the
    /// stream is polled; ends after the last page, or right after yielding
    /// the first error. `Unpin`, and `Send` off the browser.
    pub fn all_tasks(&self, options: TaskListOptions) -> impl Stream<Item = Result<Task>> + Unpin {
        let agent = self.clone();
        let first = options.page.map(|page| page.to_string());
        every_item(first, "agents/conversations/list answer", move |cursor| {
            let agent = agent.clone();
            let options = TaskListOptions {
                page: cursor.and_then(|page| page.parse().ok()),
                ..options.clone()
            };
            async move { agent.tasks(options).await }
        })
    }
}

impl Agent {
    /// The agent as read: plain data, to keep, compare or serialise.
    pub fn data(&self) -> &AgentData {
        &self.data
    }

    /// The data, without the client.
    pub fn into_data(self) -> AgentData {
        self.data
    }

    /// An agent from its `AgentConfig`, read through `client`.
    pub(crate) fn from_wire(wire: RawAgentConfig, client: &Client) -> Agent {
        let config = wire.config;
        let data = AgentData {
            config: wire.raw,
            id: config.agent_id,
            name: string(config.name),
            description: string(config.description),
            avatar: string(config.emoji),
            project: string(config.project).unwrap_or_else(|| client.project().to_string()),
            region: client.region(),
            public: config.public.as_bool().unwrap_or(false),
            model: string(config.model),
            created_at: timestamp(&config.insert_date_),
            updated_at: timestamp(&config.update_date_),
        };
        Agent {
            client: client.clone(),
            data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attachment::Attachment;
    use crate::key::Key;
    use crate::message::AttachedFile;
    use crate::wire::agents::{streaming_override, TriggerBody};
    use crate::wire::messages::UserMessageBody;
    use chrono::TimeZone;
    use serde_json::json;

    /// The TriggerBody as sent.
    fn trigger_body(
        agent_id: &str,
        conversation_id: Option<&str>,
        agent_override: Option<Map<String, Value>>,
        text: &str,
        files: &[AttachedFile],
    ) -> Value {
        let attachments = Some(files).filter(|files| !files.is_empty());
        serde_json::to_value(TriggerBody {
            agent_id,
            agent_override,
            conversation_id,
            external_id: None,
            external_id_behaviour: None,
            message: UserMessageBody::new(text, attachments),
            params: None,
            version: None,
        })
        .unwrap()
    }

    fn eu_client() -> Client {
        Client::builder(Key::new("sk-test", Region::EU, "client-project").unwrap())
            .base_url("http://127.0.0.1:9")
            .build()
            .unwrap()
    }

    fn decode(json: &str) -> serde_json::Result<Agent> {
        serde_json::from_str::<RawAgentConfig>(json).map(|c| Agent::from_wire(c, &eu_client()))
    }

    #[test]
    fn full_agent_config_decodes() {
        let agent = decode(
            r#"{"agent_id":"a1","_id":"a1","public":true,"project":"p1","name":"Helper",
                "description":"Helps","emoji":"🤖","insert_date_":"2024-05-01T10:00:00Z",
                "update_date_":"2024-05-02T11:30:00.250+02:00","model":"gpt-4o","extra":{"x":1}}"#,
        )
        .unwrap();
        assert_eq!(
            agent,
            Agent {
                client: eu_client(),
                data: AgentData {
                    id: "a1".into(),
                    name: Some("Helper".into()),
                    description: Some("Helps".into()),
                    avatar: Some("🤖".into()),
                    project: "p1".into(),
                    region: Region::EU,
                    public: true,
                    model: Some("gpt-4o".into()),
                    created_at: Some(Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 0).unwrap()),
                    updated_at: Some(
                        Utc.with_ymd_and_hms(2024, 5, 2, 9, 30, 0).unwrap()
                            + chrono::Duration::milliseconds(250)
                    ),
                    config: agent.config.clone(),
                },
            }
        );
        assert_eq!(agent.config["extra"], json!({"x": 1}), "kept whole");
    }

    #[test]
    fn minimal_and_ill_typed_optionals_decode_leniently() {
        let agent = decode(
            r#"{"agent_id":"a2","name":null,"public":"yes","model":5,"insert_date_":"not a date"}"#,
        )
        .unwrap();
        assert_eq!(agent.id, "a2");
        assert_eq!(agent.name, None);
        assert_eq!(agent.project, "client-project");
        assert!(!agent.public);
        assert_eq!(agent.model, None);
        assert_eq!(agent.created_at, None);
    }

    #[test]
    fn a_missing_agent_id_is_an_error() {
        let error = decode(r#"{"name":"x"}"#).err().unwrap();
        assert!(error.to_string().contains("agent_id"), "{error}");
    }

    #[test]
    fn timestamp_formats() {
        let expected = Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap();
        let cases = [
            ("2024-01-02T03:04:05Z", Some(expected)),
            ("2024-01-02T03:04:05+00:00", Some(expected)),
            ("2024-01-02T04:04:05+01:00", Some(expected)),
            ("2024-01-02T03:04:05", Some(expected)),
            ("2024-01-02 03:04:05", Some(expected)),
            ("2024-01-02T03:04:05.000000", Some(expected)),
            ("yesterday", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(timestamp(&Value::from(text)), want, "{text}");
        }
        assert_eq!(timestamp(&Value::from(17)), None);
        assert_eq!(timestamp(&Value::Null), None);
    }

    #[test]
    fn trigger_body_is_exact_and_leaves_unused_fields_out() {
        let file = AttachedFile {
            file_name: "a.pdf".into(),
            file_url: "https://cdn/a.pdf".into(),
        };
        let cases = [
            (
                None,
                vec![],
                json!({"agent_id": "a1", "message": {"role": "user", "content": "hi"}}),
            ),
            (
                Some("t1"),
                vec![file.clone()],
                json!({"agent_id": "a1", "conversation_id": "t1",
                       "message": {"role": "user", "content": "hi",
                                   "attachments": [{"file_name": "a.pdf", "file_url": "https://cdn/a.pdf"}]}}),
            ),
        ];
        for (conversation_id, files, expected) in cases {
            let body = trigger_body("a1", conversation_id, None, "hi", &files);
            assert_eq!(body, expected);
            let text = body.to_string();
            assert!(
                !text.contains("null") && !text.contains("agent_override"),
                "{text}"
            );
        }
    }

    #[test]
    fn the_streaming_override_is_the_config_as_read_plus_use_streaming() {
        let agent = decode(
            r#"{"agent_id":"a1","name":"Helper","use_streaming":false,"actions":[{"chain_id":"t"}]}"#,
        )
        .unwrap();
        let config = streaming_override(&agent.config);
        let body = trigger_body("a1", None, Some(config), "hi", &[]);
        assert_eq!(
            body["agent_override"],
            json!({"agent_id": "a1", "name": "Helper", "use_streaming": true,
                   "actions": [{"chain_id": "t"}]})
        );
        assert_eq!(
            agent.config["use_streaming"],
            json!(false),
            "the agent is unchanged"
        );
    }

    #[test]
    fn debug_and_equality_ignore_the_client() {
        let json = r#"{"agent_id":"a1","name":"Helper"}"#;
        let one = decode(json).unwrap();
        let other_client =
            Client::builder(Key::new("sk-OTHER-SECRET", Region::EU, "client-project").unwrap())
                .build_with_env(&|_| None)
                .unwrap();
        let two = Agent::from_wire(
            serde_json::from_str::<RawAgentConfig>(json).unwrap(),
            &other_client,
        );
        assert_eq!(one, two);
        let debug = format!("{two:?}");
        assert!(
            debug.contains("Helper") && !debug.contains("SECRET"),
            "{debug}"
        );
        let mut renamed = two.clone();
        renamed.name = Some("Other".into());
        assert_ne!(one, renamed);
    }

    #[test]
    fn the_builder_collects_attachments_and_the_task() {
        let agent = decode(r#"{"agent_id":"a1"}"#).unwrap();
        let builder = agent
            .message("hello")
            .attach(Attachment::url("a.pdf", "https://x/a.pdf"))
            .attach(Attachment::bytes("b.txt", b"b".to_vec()))
            .in_task("t7");
        assert_eq!(builder.text, "hello");
        assert_eq!(builder.attachments.len(), 2);
        assert_eq!(builder.task_id.as_deref(), Some("t7"));
        let task_id = String::from("t8");
        assert_eq!(
            agent.message("x").in_task(&task_id).task_id.as_deref(),
            Some("t8")
        );
    }

    /// Callers spawn these on multi-threaded runtimes: the retry loop (and
    /// the existence check of a new embed-key task) must keep them `Send`.
    #[test]
    fn sending_futures_are_send() {
        fn is_send<T: Send>(_: T) {}
        let agent = Agent::from_wire(
            serde_json::from_str::<RawAgentConfig>(r#"{"agent_id":"a1"}"#).unwrap(),
            &eu_client(),
        );
        is_send(agent.send_message("hi"));
        is_send(agent.message("hi").in_task("t1").send());
        is_send(agent.client().agents().get("a1"));
        let workforce = crate::workforce::tests::workforce_for_tests(agent.client());
        is_send(workforce.send_message("hi"));
    }
}
