//! Rust SDK for the [Relevance AI](https://relevanceai.com) agent platform.
//!
//! Everything starts from a [`Key`]: an **API key** (`sk-...`, the whole
//! project, server side only) or an **embed key** (one public agent or one
//! workforce, safe to ship to a browser, made at run time by
//! [`Key::generate_embed_key`]). A [`Client`] sends requests with one key to
//! its [`Region`]'s [`Endpoints`].
//!
//! # Quick start
//!
//! ```no_run
//! use relevance::{AgentListOptions, Client, Key, Region};
//!
//! # async fn run() -> relevance::Result<()> {
//! let key = Key::new("sk-...", Region::US, "my-project-id")?;
//! let client = Client::new(key)?;
//! let page = client.agents().list(AgentListOptions::default()).await?;
//! for agent in &page {
//!     println!("{} {}", agent.id, agent.name.as_deref().unwrap_or("(unnamed)"));
//! }
//! # Ok(())
//! # }
//! ```
//!
//! An embed key for a browser, persisted so it is made only once:
//!
//! ```no_run
//! use relevance::{EmbedKeyOptions, Key, Region};
//!
//! # async fn run(saved: Option<String>) -> relevance::Result<()> {
//! let key = match saved {
//!     Some(json) => Key::from_json(&json)?, // no network request
//!     None => Key::generate_embed_key(EmbedKeyOptions::agent(Region::EU, "proj", "agent-id")).await?,
//! };
//! let json_to_store = key.to_json(); // same shape as the official JS client's toJSON
//! # let _ = json_to_store;
//! # Ok(())
//! # }
//! ```
//!
//! # Sending a message
//!
//! Sending starts (or continues) a task and returns it at once; the reply
//! arrives as messages of the task.
//!
//! ```no_run
//! use relevance::{Agent, Attachment, MessageContent, TaskListOptions, TaskStatus};
//!
//! # async fn run() -> relevance::Result<()> {
//! // Needs `relevance::create_client(..)` first; or use `client.agents().get(..)`.
//! let agent = Agent::get("agent-id").await?;
//! let mut task = agent.send_message("Summarise this week's tickets").await?;
//!
//! // A follow-up in the same task, with a file (uploaded first).
//! agent
//!     .message("And this report too")
//!     .attach(Attachment::bytes("report.csv", b"week,tickets\n1,12\n".to_vec()))
//!     .in_task(&task)
//!     .send()
//!     .await?;
//!
//! task.refresh().await?;
//! if !task.is_running() {
//!     for message in task.messages().await? {
//!         if let MessageContent::Agent(reply) = &message.content {
//!             println!("{}", reply.text);
//!         }
//!     }
//! }
//!
//! let waiting = agent
//!     .tasks(TaskListOptions { statuses: vec![TaskStatus::Action], ..Default::default() })
//!     .await?;
//! # let _ = waiting;
//! # Ok(())
//! # }
//! ```
//!
//! # Workforces
//!
//! A workforce task is the same [`Task`] as an agent task (its
//! [`TaskOwner`] says which), so refreshing it and reading its messages
//! look the same.
//!
//! ```no_run
//! use relevance::{Workforce, WorkforceTaskListOptions};
//! use futures_util::StreamExt;
//!
//! # async fn run() -> relevance::Result<()> {
//! let workforce = Workforce::get("workforce-id").await?;
//! let task = workforce.send_message("Plan the launch").await?;
//! workforce.send_message_in(&task, "Keep it under a week").await?;
//!
//! let mut every_task = workforce.all_tasks(WorkforceTaskListOptions::default());
//! while let Some(task) = every_task.next().await {
//!     let task = task?;
//!     println!("{} {} ({})", task.id, task.title, task.status);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Live events
//!
//! [`Task::events`] is a stream of everything that happens in a task: each
//! message once it is final (exactly once, in the order the platform wrote
//! them), status and title changes, and the agent's thinking and typing as
//! live tokens. It polls fast while the task works and slows down to one
//! metadata read a minute when it rests; a message sent through the same
//! [`Client`] wakes it at once. Dropping the stream unsubscribes.
//!
//! Typing and thinking arrive as fragments: each [`TaskEvent::Typing`] has
//! `delta` (what was just typed) and `text` (the whole reply so far, the
//! deltas added up). Print `delta` as it comes, or redraw with `text`:
//!
//! ```no_run
//! use std::io::Write;
//!
//! use futures_util::StreamExt;
//! use relevance::{Agent, MessageContent, TaskEvent};
//!
//! # async fn run() -> relevance::Result<()> {
//! let agent = Agent::get("agent-id").await?;
//! let task = agent.send_message("What changed this week?").await?;
//! let mut events = task.events();
//! while let Some(event) = events.next().await {
//!     match event? {
//!         TaskEvent::Typing { delta, .. } => {
//!             print!("{delta}");
//!             std::io::stdout().flush().ok();
//!         }
//!         TaskEvent::Message(message) => {
//!             if let MessageContent::Agent(reply) = &message.content {
//!                 println!("\n{}", reply.text);
//!             }
//!         }
//!         TaskEvent::Updated { status, .. } if !status.is_running() => break,
//!         _ => {}
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Failed requests are retried with exponential backoff and jitter
//! ([`RetryPolicy`], set with [`ClientBuilder::retries`]): reads after
//! network errors, 5xx and 429; requests that create something only when
//! they surely were not processed, so a message is never sent twice.
//!
//! # Pointing at the emulator
//!
//! Set `RELEVANCE_BASE_URL=http://127.0.0.1:8787` (or call
//! [`ClientBuilder::base_url`]): the client then uses
//! `{base}/{region code}/latest/` instead of the hosted platform, so the same
//! code runs against both. [`Client::from_env`] also reads the key, project
//! and region from `RELEVANCE_API_KEY`, `RELEVANCE_PROJECT`, `RELEVANCE_REGION`.
//!
//! # Glossary
//!
//! One word per concept, the same in this SDK, the emulator and the CLI:
//!
//! | word | means |
//! |---|---|
//! | key | an API key or an embed key ([`Key`]); *key store* is where one is kept between runs ([`KeyStore`]) |
//! | task | one conversation with an agent or a workforce ([`Task`]); the platform says `conversation` / `knowledge_set` |
//! | task owner | the agent or workforce a task belongs to ([`TaskOwner`]) |
//! | trigger | the request that sends a message and starts (or continues) a task's run; its *settings* are `params`, `external_id`, `version` |
//! | message | one entry of a task ([`Message`]), its *content* one of [`MessageContent`]: a user message, an agent message, an agent error, a tool run |
//! | tool run | a tool (or a sub-agent) the agent ran inside a task ([`ToolRun`]); a person *decides* (approves or rejects) a waiting one |
//! | typing, thinking | live fragments of the reply and the reasoning being written: `delta` (what was just written) of the message `message_id` ([`TaskEvent::Typing`]) |
//! | data, handle | what the platform returned, plain ([`AgentData`], [`TaskData`], …), and the handle that holds it with a [`Client`] and has the calls ([`Agent`], [`Task`], …) |
//!
//! The trigger body and the message content are also defined in the
//! emulator (`relevance-emulator`'s `engine::trigger` and `engine::content`).
//! That is on purpose: the emulator never depends on this SDK, and is checked
//! against the platform's own models (its Python client's, the generated API
//! types), so a mistake here cannot hide by being copied there.
//!
//! # Where things live
//!
//! Every module is private; what you use is re-exported at the crate root.
//! The public types, by the module that holds them:
//!
//! | module | holds |
//! |---|---|
//! | `client` | [`Client`] (a cheap clone), [`ClientBuilder`], `from_env`, the default client ([`create_client`] from a key, an API key's parts or a built client; [`default_client`]) |
//! | `region` | [`Region`], [`Endpoints`] |
//! | `key` | [`Key`] and its [`KeyScope`]: plain data, the persisted form ([`Key::to_json`], [`Key::from_json`]) |
//! | `embed` | making embed keys: [`Key::generate_embed_key`], [`EmbedKeyOptions`] |
//! | `error` | [`Error`], the one error type |
//! | `key_info` | [`Client::whoami`] → [`KeyInfo`]: which key and user a credential is (A14) |
//! | `retry` | [`RetryPolicy`]: which failures are retried, and the backoff |
//! | `agent` | `client.agents()` → [`Agents`] (`list` a [`Page`] of agents, `all` of them as a stream); an [`Agent`] (handle) and its [`AgentData`], its tasks |
//! | `workforce` | `client.workforces()` → [`Workforces`]; a [`Workforce`] (handle) and its [`WorkforceData`], its tasks ([`WorkforceTaskListOptions`]) |
//! | `message_builder` | [`MessageBuilder`]: one message to an agent or a workforce (`agent.message(..)`, `workforce.message(..)`); an agent's `params`, `external_id` ([`ExternalIdBehaviour`]) and `version` (A17) |
//! | `attachment` | [`Attachment`]: files sent with a message, uploaded first when they are bytes |
//! | `task` | [`Task`] (handle) and [`TaskData`] of an agent or a workforce ([`TaskOwner`]), [`TaskStatus`], agent task listing ([`TaskListOptions`], [`TaskSort`]) |
//! | `task::decide` | a person in the loop (PROTOCOL A10): [`Task::approve`], [`Task::approve_with`], [`Task::reject`] a waiting [`ToolRun`]; [`Task::approve_and_follow`], [`Task::reject_and_follow`] answer the resumed run to wait on |
//! | `task::lifecycle` | a task's life (A11, A17): [`Task::trigger_message`], [`Task::rerun`], [`Task::regenerate`], [`Task::delete`], [`Task::schedule_message`] |
//! | `tool` | `client.tools()` → [`Tools`] (A12): list, get, create/update ([`ToolBuilder`]), clone, delete; [`Tool`] (handle) and [`ToolData`]; [`Tool::run`] → [`ToolOutput`] |
//! | `job` | jobs (A15): [`Tool::start`] → [`ToolJob`] (`wait`, `updates`, `cancel`), resumed from its [`JobRef`] with [`Tools::job`] |
//! | `webhook` | an event to an agent's webhook URL, as an outside system sends it: [`WebhookUrl`] → [`WebhookReceipt`] (no key; the URL's secret never shown); a tool's webhook form is [`Tool::run_webhook`] |
//! | `ask` | [`Agent::ask`] → [`AgentReply`]: send, then wait on the run's job for the reply; [`Task::wait_for_reply`] waits on a handle already sent |
//! | `task::tool_runs` | [`Task::tool_runs`] → [`ToolRunEntry`]: a task's tool runs, output and cost (A18) |
//! | `agent_admin` | managing agents (A13): `agents().create`/`upsert`/`delete` ([`AgentDefinition`]), an agent's tools and sub-agents |
//! | `paging` | [`Page`]: one page of any list (agents, either owner's tasks); `all` / `all_tasks` walk every page as a stream |
//! | `message` | [`Message`] and every [`MessageContent`] kind |
//! | `events` | [`Task::events`]: [`TaskEvents`], [`TaskEvent`]; exactly-once delivery and the polling pace; the whole live stream (`events::sse`: token, connection, SSE parsing) |
//! | `key_store` | [`KeyStore`]: keys kept by name ([`MemoryKeyStore`], `FileKeyStore`, `LocalStorageKeyStore`, `CookieKeyStore`); [`KeyCookie`] |
//! | `session` | [`EmbedSession`]: get-or-create an embed key, kept in a store, replaced when revoked |
//!
//! Under them, layers you never touch: `http` (the request layer: every
//! request is one `Request` value executed in one place — headers, the
//! in-flight limit, error mapping, retries, a `tracing` span per attempt),
//! `wire` (the platform's request and answer shapes, one module per platform API
//! section), `task::owner` (everything that differs between an agent's and a
//! workforce's task), `events::sse` (the live stream's tokens, its connection and SSE parsing),
//! `sent_signal` (the "a message was just sent" signal) and `runtime` (timers
//! and `Send` bounds that differ in a browser). Imports go one way: handles →
//! `task::owner` → `wire` and `http` → `key`, `region`, `error`.
//!
//! Each request is a `tracing` span named `relevance.request` with `method`,
//! `path`, `attempt`, `status` and `latency_ms` (at `DEBUG`); no key, query
//! string or streaming token is ever recorded.
//!
//! The crate's `tests/` run the SDK against an in-process emulator over real
//! HTTP on 127.0.0.1 (one file per subject: `events`, `faults`, `wire`, …;
//! `headless_chromium` runs `tests/browser.rs` in Chromium), with what they
//! share in the workspace's `relevance-testkit`.
//!
//! # In the browser
//!
//! The crate builds for `wasm32-unknown-unknown` (`cfg(target_family = "wasm")`):
//! requests go through the browser's `fetch`, timers through `setTimeout`,
//! and futures and streams are not `Send` there. Only embed keys belong in a
//! page. [`EmbedSession`] makes one the first time and keeps it in a
//! [`KeyStore`]: `LocalStorageKeyStore` (browser only) keeps it in
//! `window.localStorage` in the official JavaScript SDK's shape, so either SDK
//! restores a key the other saved; `CookieKeyStore` (browser only) keeps the
//! same JSON, URL-encoded, in a `Secure; SameSite=Strict` cookie that is also
//! sent to your own host; [`KeyCookie`] puts it in a server's own `HttpOnly`
//! cookie; `FileKeyStore` (native only) keeps it in a file readable by its
//! owner only; [`MemoryKeyStore`] is for tests. A cleared store (or an
//! expired cookie) means a new key: [`SessionStart::Generated`].
//! Restoring sends no request; a stored value that is not a key (or is for
//! another agent) is reported and replaced; a revoked key is replaced once by
//! [`EmbedSession::run`], which says so.
//!
//! ```no_run
//! use relevance::{EmbedKeyOptions, EmbedSession, MemoryKeyStore, Region, SessionStart};
//!
//! # async fn run() -> relevance::Result<()> {
//! // In a page: `relevance::LocalStorageKeyStore::new()` instead.
//! let store = MemoryKeyStore::new();
//! let options = EmbedKeyOptions::agent(Region::US, "my-project-id", "public-agent-id");
//! let (mut session, how) = EmbedSession::start(store, "relevance-embed-key", options).await?;
//! if let SessionStart::Replaced { reason } = &how {
//!     eprintln!("stored key replaced: {reason}");
//! }
//! let (task, replaced) = session
//!     .run(|client| async move {
//!         let agent = client.agents().get("public-agent-id").await?;
//!         agent.send_message("Hello from the browser").await
//!     })
//!     .await?;
//! if replaced.is_some() {
//!     eprintln!("the key was revoked: earlier conversations are gone");
//! }
//! # let _ = task;
//! # Ok(())
//! # }
//! ```
//!
//! Secrets never appear in `Debug`, `Display` or errors; the `Authorization`
//! header is marked sensitive.
#![deny(missing_docs, missing_debug_implementations)]
#![forbid(unsafe_code)]

mod agent;
mod agent_admin;
mod ask;
mod attachment;
mod client;
mod embed;
mod error;
mod events;
mod http;
mod job;
mod key;
mod key_info;
mod key_store;
mod knowledge;
mod message;
mod message_builder;
mod paging;
mod region;
mod retry;
mod runtime;
mod sent_signal;
mod session;
mod task;
mod tool;
mod trigger_settings;
mod webhook;
mod wire;
mod workforce;

pub use agent::{Agent, AgentData, AgentListOptions, Agents};
pub use agent_admin::AgentDefinition;
pub use ask::AgentReply;
pub use attachment::Attachment;
pub use client::{
    create_client, default_client, ApiKeyOptions, Client, ClientBuilder, Credentials,
};
pub use embed::EmbedKeyOptions;
pub use error::{CookieError, DefaultClientError, Error, KeyDataError, Result};
pub use events::{TaskEvent, TaskEvents};
pub use job::{JobRef, ToolJob};
pub use key::{EmbedTarget, Key, KeyScope};
pub use key_info::{KeyInfo, PermissionItem, Permissions, ProjectPermissions};
#[cfg(target_family = "wasm")]
pub use key_store::CookieKeyStore;
#[cfg(not(target_family = "wasm"))]
pub use key_store::FileKeyStore;
#[cfg(target_family = "wasm")]
pub use key_store::LocalStorageKeyStore;
pub use key_store::{
    CookieAttributes, CookieSameSite, KeyCookie, KeyStore, MemoryKeyStore, COOKIE_SIZE_LIMIT,
};
pub use knowledge::{
    check_set_name, Knowledge, KnowledgeSet, KnowledgeSetInfo, Row, RowListOptions, SetListOptions,
    MAX_SET_NAME_BYTES,
};
pub use message::{
    ActionDetails, AgentErrorMessage, AgentMessage, AttachedFile, Confirmation, ConfirmedBy,
    Message, MessageContent, ToolError, ToolKind, ToolParams, ToolRun, ToolStatus, UserMessage,
    WorkforceAgentDetails, WorkforceAgentHandover, WorkforceAgentRun, WorkforceTaskDetails,
};
pub use message_builder::MessageBuilder;
pub use paging::Page;
pub use region::{Endpoints, Region};
pub use retry::RetryPolicy;
pub use session::{EmbedSession, KeyReplaced, SessionStart, StoredKeyProblem};
pub use task::{
    Task, TaskData, TaskListOptions, TaskOwner, TaskRef, TaskSort, TaskStatus, ToolRunEntry,
};
pub use tool::{Tool, ToolBuilder, ToolData, ToolOutput, ToolOutputStatus, Tools};
pub use trigger_settings::ExternalIdBehaviour;
pub use webhook::{WebhookReceipt, WebhookUrl};
pub use workforce::{Workforce, WorkforceData, WorkforceTaskListOptions, Workforces};

/// The workspace README's Rust examples, compiled as doctests so the first thing a user
/// copies keeps building.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeExamples;
