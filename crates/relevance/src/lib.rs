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
//! for agent in &page.agents {
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
//! # Pointing at the emulator
//!
//! Set `RELEVANCE_BASE_URL=http://127.0.0.1:8787` (or call
//! [`ClientBuilder::base_url`]): the client then uses
//! `{base}/{region code}/latest/` instead of the hosted platform, so the same
//! code runs against both. [`Client::from_env`] also reads the key, project
//! and region from `RELEVANCE_API_KEY`, `RELEVANCE_PROJECT`, `RELEVANCE_REGION`.
//!
//! # Where things live
//!
//! | module | holds |
//! |---|---|
//! | `region` | [`Region`], [`Endpoints`] |
//! | `key` | [`Key`], its scope, the persisted form, embed-key generation |
//! | `client` | [`Client`], [`ClientBuilder`], `from_env`, the default client |
//! | `error` | [`Error`], the one error type |
//! | `http` | sending a request, error mapping, decoding |
//! | `agent`, `workforce` | [`Agents`], [`Workforces`] and their types |
//!
//! Secrets never appear in `Debug`, `Display` or errors; the `Authorization`
//! header is marked sensitive. The crate builds for `wasm32-unknown-unknown`.
#![deny(missing_docs, missing_debug_implementations)]
#![forbid(unsafe_code)]

mod agent;
mod client;
mod error;
mod http;
mod key;
mod region;
mod workforce;

pub use agent::{Agent, AgentList, AgentListOptions, Agents};
pub use client::{
    create_client, default_client, set_default_client, ApiKeyOptions, Client, ClientBuilder,
    Credentials,
};
pub use error::{DefaultClientError, Error, KeyDataError, Result};
pub use key::{EmbedKeyOptions, EmbedTarget, Key, KeyScope};
pub use region::{Endpoints, Region};
pub use workforce::{Workforce, Workforces};
