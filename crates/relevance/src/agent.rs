//! Agents: reading and listing them, and acting on one — sending it a
//! message (which makes or continues a task) and reading its tasks.
//!
//! An [`Agent`] keeps a clone of the [`Client`] it was read with, so it can
//! act without the caller threading the client through. Answers are decoded leniently — unknown fields are ignored and a missing or
//! ill-typed optional field becomes `None` — because the platform adds fields
//! over time; only the agent's id is required.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Deserializer};
use serde_json::{json, Map, Value};

use crate::attachment::Attachment;
use crate::client::{default_client, Client};
use crate::error::{Error, Result};
use crate::message::AttachedFile;
use crate::region::Region;
use crate::retry::RequestKind;
use crate::task::{task_id_to_send, Task, TaskListAnswer, TaskListOptions, TaskRef, TriggerAnswer};

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

/// One page of agents.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentList {
    /// The agents on this page.
    pub agents: Vec<Agent>,
    /// The page that was asked for.
    pub page: u32,
    /// The page size that was asked for.
    pub page_size: u32,
}

/// An agent's configuration, as far as the SDK reads it, and the client to
/// act on it with.
#[derive(Clone)]
pub struct Agent {
    client: Client,
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
    config: Arc<Map<String, Value>>,
}

const DEFAULT_PAGE: u32 = 1;
const DEFAULT_PAGE_SIZE: u32 = 20;

impl<'c> Agents<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Agents { client }
    }

    /// One agent by id (`GET agents/{id}/get`). An embed key may read only
    /// its own agent; any other id is `NotFound`.
    pub async fn get(&self, agent_id: &str) -> Result<Agent> {
        #[derive(Deserialize)]
        struct Answer {
            agent: RawAgentConfig,
        }
        let path = format!("agents/{agent_id}/get");
        let answer: Answer = self
            .client
            .send(
                RequestKind::Read,
                Method::GET,
                &path,
                None,
                "agents/get answer",
            )
            .await?;
        Ok(answer.agent.into_agent(self.client))
    }

    /// One page of the project's agents (`POST agents/list`). The page and
    /// page size are always sent, defaulting to 1 and 20. Embed keys may not
    /// list agents (`Forbidden`).
    pub async fn list(&self, options: AgentListOptions) -> Result<AgentList> {
        #[derive(Deserialize)]
        struct Answer {
            results: Vec<RawAgentConfig>,
        }
        let page = options.page.unwrap_or(DEFAULT_PAGE);
        let page_size = options.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        let body = serde_json::json!({"page_size": page_size, "page": page});
        let answer: Answer = self
            .client
            .send(
                RequestKind::Read,
                Method::POST,
                "agents/list",
                Some(&body),
                "agents/list answer",
            )
            .await?;
        Ok(AgentList {
            agents: answer
                .results
                .into_iter()
                .map(|config| config.into_agent(self.client))
                .collect(),
            page,
            page_size,
        })
    }
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
        MessageBuilder {
            agent: self,
            text: text.into(),
            attachments: Vec::new(),
            task_id: None,
            streaming: true,
        }
    }

    /// One task of this agent.
    pub async fn get_task(&self, task_id: &str) -> Result<Task> {
        Task::get_with(&self.client, &self.id, task_id).await
    }

    /// One page of this agent's tasks
    /// (`GET agents/conversations/list`, filtered to this agent).
    pub async fn tasks(&self, options: TaskListOptions) -> Result<Vec<Task>> {
        let query = crate::task::task_list_query(&self.id, &options);
        let answer: TaskListAnswer = self
            .client
            .send_with_query(
                RequestKind::Read,
                Method::GET,
                crate::task::TASK_LIST_PATH,
                &query,
                None,
                "agents/conversations/list answer",
            )
            .await?;
        Ok(answer.into_tasks(&self.client, &self.id))
    }
}

impl fmt::Debug for Agent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Agent")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("description", &self.description)
            .field("avatar", &self.avatar)
            .field("project", &self.project)
            .field("region", &self.region)
            .field("public", &self.public)
            .field("model", &self.model)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish_non_exhaustive()
    }
}

/// Two agents are equal when their data is; the client they were read
/// through does not matter.
impl PartialEq for Agent {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.name == other.name
            && self.description == other.description
            && self.avatar == other.avatar
            && self.project == other.project
            && self.region == other.region
            && self.public == other.public
            && self.model == other.model
            && self.created_at == other.created_at
            && self.updated_at == other.updated_at
    }
}

/// A message on its way to an agent; made by [`Agent::message`].
#[derive(Debug)]
#[must_use = "a message is only sent by .send().await"]
pub struct MessageBuilder<'a> {
    agent: &'a Agent,
    text: String,
    attachments: Vec<Attachment>,
    task_id: Option<String>,
    streaming: bool,
}

impl MessageBuilder<'_> {
    /// Whether the run streams its thinking and typing live (default on).
    ///
    /// With an API key, streaming is asked for the way the platform's own
    /// client does: the trigger carries `agent_override`, the agent's
    /// configuration as read plus `"use_streaming": true`. `false` sends no
    /// override, so the run streams only if the agent's own setting says so.
    /// Embed keys may not send an override at all: their runs stream when
    /// the agent's own setting says so, whatever this is.
    pub fn streaming(mut self, streaming: bool) -> Self {
        self.streaming = streaming;
        self
    }

    /// Adds a file. Bytes are uploaded when the message is sent.
    pub fn attach(mut self, attachment: Attachment) -> Self {
        self.attachments.push(attachment);
        self
    }

    /// Continues this task instead of starting a new one.
    pub fn in_task<'t>(mut self, task: impl Into<TaskRef<'t>>) -> Self {
        self.task_id = Some(task.into().id().to_string());
        self
    }

    /// Uploads the attachments that are bytes, then triggers the agent
    /// (`POST agents/trigger`) and returns the task at once, without waiting
    /// for the reply.
    ///
    /// A new task started with an embed key gets a client-made id
    /// `{task prefix}_-_{uuid v4}`, as the platform requires. With an API
    /// key the trigger asks for streaming (see [`MessageBuilder::streaming`]).
    pub async fn send(self) -> Result<Task> {
        let client = &self.agent.client;
        let mut files = Vec::with_capacity(self.attachments.len());
        for attachment in self.attachments {
            files.push(attachment.resolve(client).await?);
        }
        let continues_a_task = self.task_id.is_some();
        let conversation_id = task_id_to_send(client.key(), self.task_id);
        let agent_override = (self.streaming && !client.is_embed_key())
            .then(|| streaming_override(&self.agent.config));
        let body = trigger_body(
            &self.agent.id,
            conversation_id.as_deref(),
            agent_override,
            &self.text,
            &files,
        );
        let agent_id = self.agent.id.as_str();
        let what = "agents/trigger answer";
        // A new task under a client-made id: the task existing means the trigger went through.
        let new_task_id = conversation_id.as_deref().filter(|_| !continues_a_task);
        let exists = || async move {
            let Some(task_id) = new_task_id else {
                return Ok(None);
            };
            match Task::get_with(client, agent_id, task_id).await {
                Ok(task) => Ok(Some(TriggerAnswer::for_existing(&task))),
                Err(Error::NotFound { .. }) => Ok(None),
                Err(error) => Err(error),
            }
        };
        let answer: TriggerAnswer = client
            .send_trigger(TRIGGER_PATH, &body, what, new_task_id, exists)
            .await?;
        let task = answer.into_task(client.clone(), agent_id);
        client.note_sent(&task.id);
        Ok(task)
    }
}

const TRIGGER_PATH: &str = "agents/trigger";

/// The override that turns streaming on, exactly as the official client
/// sends it: the agent's configuration as read, unchanged, plus
/// `"use_streaming": true`.
fn streaming_override(config: &Map<String, Value>) -> Map<String, Value> {
    let mut config = config.clone();
    config.insert("use_streaming".to_owned(), Value::Bool(true));
    config
}

/// The TriggerBody (PROTOCOL A5); unused fields are absent, never `null`.
fn trigger_body(
    agent_id: &str,
    conversation_id: Option<&str>,
    agent_override: Option<Map<String, Value>>,
    text: &str,
    attachments: &[AttachedFile],
) -> Value {
    let mut message = json!({"role": "user", "content": text});
    if !attachments.is_empty() {
        message["attachments"] = json!(attachments);
    }
    let mut body = json!({"agent_id": agent_id, "message": message});
    if let Some(id) = conversation_id {
        body["conversation_id"] = json!(id);
    }
    if let Some(config) = agent_override {
        body["agent_override"] = Value::Object(config);
    }
    body
}

/// The wire shape (PROTOCOL A5 `AgentConfig`); everything but the id is
/// taken as loosely typed.
#[derive(Deserialize)]
struct AgentConfig {
    agent_id: String,
    #[serde(default)]
    name: Value,
    #[serde(default)]
    description: Value,
    #[serde(default)]
    emoji: Value,
    #[serde(default)]
    project: Value,
    #[serde(default)]
    public: Value,
    #[serde(default)]
    model: Value,
    #[serde(default)]
    insert_date_: Value,
    #[serde(default)]
    update_date_: Value,
}

/// An `AgentConfig` decoded, with the whole object kept beside it.
struct RawAgentConfig {
    config: AgentConfig,
    raw: Map<String, Value>,
}

impl<'de> Deserialize<'de> for RawAgentConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let raw = Map::<String, Value>::deserialize(deserializer)?;
        let config = AgentConfig::deserialize(Value::Object(raw.clone()))
            .map_err(serde::de::Error::custom)?;
        Ok(RawAgentConfig { config, raw })
    }
}

impl RawAgentConfig {
    fn into_agent(self, client: &Client) -> Agent {
        self.config.into_agent(client, self.raw)
    }
}

impl AgentConfig {
    fn into_agent(self, client: &Client, raw: Map<String, Value>) -> Agent {
        Agent {
            config: Arc::new(raw),
            client: client.clone(),
            id: self.agent_id,
            name: string(self.name),
            description: string(self.description),
            avatar: string(self.emoji),
            project: string(self.project).unwrap_or_else(|| client.project().to_string()),
            region: client.region(),
            public: self.public.as_bool().unwrap_or(false),
            model: string(self.model),
            created_at: timestamp(&self.insert_date_),
            updated_at: timestamp(&self.update_date_),
        }
    }
}

fn string(value: Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text),
        _ => None,
    }
}

/// ISO-8601 with an offset, or without one (the platform's Python side
/// writes naive UTC times).
pub(crate) fn timestamp(value: &Value) -> Option<DateTime<Utc>> {
    let text = value.as_str()?.trim();
    if let Ok(parsed) = DateTime::parse_from_rfc3339(text) {
        return Some(parsed.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| naive.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::Key;
    use chrono::TimeZone;

    fn eu_client() -> Client {
        Client::builder(Key::new("sk-test", Region::EU, "client-project").unwrap())
            .base_url("http://127.0.0.1:9")
            .build()
            .unwrap()
    }

    fn decode(json: &str) -> serde_json::Result<Agent> {
        serde_json::from_str::<RawAgentConfig>(json).map(|c| c.into_agent(&eu_client()))
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
        let two = serde_json::from_str::<RawAgentConfig>(json)
            .unwrap()
            .into_agent(&other_client);
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
        let agent = serde_json::from_str::<RawAgentConfig>(r#"{"agent_id":"a1"}"#)
            .unwrap()
            .into_agent(&eu_client());
        is_send(agent.send_message("hi"));
        is_send(agent.message("hi").in_task("t1").send());
        is_send(agent.client().agents().get("a1"));
        let workforce = crate::workforce::tests::workforce_for_tests(agent.client());
        is_send(workforce.send_message("hi"));
    }
}
