//! The client: one key, its region's endpoints and an HTTP connection pool.
//!
//! [`Client`] is a cheap clone (an `Arc` inside) and hands out borrowed
//! resource handles (`client.agents()`, defined beside the handles in
//! `agent` and `workforce`, so this module knows no resource). Construction never reads the
//! environment implicitly except `RELEVANCE_BASE_URL` in
//! [`ClientBuilder::build`] (documented there), never spawns a task and never
//! needs a runtime. The process-wide default client lives here too.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::error::{DefaultClientError, Error, Result};
use crate::http::{Request, Transport};
use crate::key::{redact, Key};
use crate::region::{Endpoints, Region};
use crate::retry::RetryPolicy;
use crate::sent_signal::ActivityHub;

/// Points every client at one host serving all regions (the emulator).
pub(crate) const BASE_URL_VARIABLE: &str = "RELEVANCE_BASE_URL";
const API_KEY_VARIABLE: &str = "RELEVANCE_API_KEY";
const PROJECT_VARIABLE: &str = "RELEVANCE_PROJECT";
const REGION_VARIABLE: &str = "RELEVANCE_REGION";

/// A connection to the platform with one key.
#[derive(Clone)]
pub struct Client {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    key: Key,
    endpoints: Endpoints,
    http: reqwest::Client,
    retries: RetryPolicy,
    /// Sends to a task wake that task's event streams.
    activity: Arc<ActivityHub>,
}

impl Client {
    /// A client with the default settings; same as `Client::builder(key).build()`.
    pub fn new(key: Key) -> Result<Client> {
        Client::builder(key).build()
    }

    /// A builder, to change the base URL, timeout, user agent or HTTP client.
    pub fn builder(key: Key) -> ClientBuilder {
        ClientBuilder {
            key,
            base_url: None,
            timeout: None,
            user_agent: None,
            http_client: None,
            retries: RetryPolicy::default(),
        }
    }

    /// A client from `RELEVANCE_API_KEY`, `RELEVANCE_PROJECT` and
    /// `RELEVANCE_REGION` (all required), and `RELEVANCE_BASE_URL` (optional).
    pub fn from_env() -> Result<Client> {
        Client::from_env_lookup(|name| std::env::var(name).ok())
    }

    /// [`Client::from_env`] with the variables read through `lookup`, so it
    /// can be tested (or fed from a config file) without the process
    /// environment. An empty value counts as unset.
    pub fn from_env_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Client> {
        let read = |variable: &'static str| {
            lookup(variable)
                .map(|value| value.trim().to_string())
                .filter(|value| !value.is_empty())
                .ok_or(Error::MissingEnv { variable })
        };
        let secret = read(API_KEY_VARIABLE)?;
        let project = read(PROJECT_VARIABLE)?;
        let region_text = read(REGION_VARIABLE)?;
        let region = region_text
            .parse::<Region>()
            .map_err(|error| Error::InvalidEnv {
                variable: REGION_VARIABLE,
                reason: error.to_string(),
            })?;
        let key = Key::new(secret, region, project)?;
        Client::builder(key).build_with_env(&lookup)
    }

    /// The key every request is sent with.
    pub fn key(&self) -> &Key {
        &self.inner.key
    }

    /// The key's region.
    pub fn region(&self) -> Region {
        self.inner.key.region()
    }

    /// The key's project.
    pub fn project(&self) -> &str {
        self.inner.key.project()
    }

    /// Whether the key is an embed key (scoped to one agent or workforce).
    pub fn is_embed_key(&self) -> bool {
        self.inner.key.is_embed()
    }

    /// The URLs this client talks to.
    pub fn endpoints(&self) -> &Endpoints {
        &self.inner.endpoints
    }

    /// How failed requests are retried.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.inner.retries
    }

    /// What this client sends requests with: its HTTP client, endpoints,
    /// key and retry policy.
    pub(crate) fn transport(&self) -> Transport<'_> {
        Transport {
            http: &self.inner.http,
            endpoints: Some(&self.inner.endpoints),
            key: Some(&self.inner.key),
            policy: &self.inner.retries,
        }
    }

    /// Sends `request` with this client's key and decodes the answer; see
    /// [`Transport::send`].
    pub(crate) async fn send<T: serde::de::DeserializeOwned>(&self, request: Request) -> Result<T> {
        self.transport().send(request).await
    }

    /// Notes that a message was sent to `task_id`, so its event streams
    /// poll fast again at once.
    pub(crate) fn note_sent(&self, task_id: &str) {
        self.inner.activity.bump(task_id);
    }

    /// The hub event streams subscribe to.
    pub(crate) fn activity(&self) -> &Arc<ActivityHub> {
        &self.inner.activity
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = &self.inner.key;
        f.debug_struct("Client")
            .field("region", &key.region())
            .field("project", &key.project())
            .field("kind", &if key.is_embed() { "embed" } else { "api" })
            .field("scope", &key.scope())
            .field("api_base", &self.inner.endpoints.api_base())
            .field("stream_base", &self.inner.endpoints.stream_base())
            .finish()
    }
}

/// Settings for a [`Client`]; made by [`Client::builder`].
#[derive(Debug)]
pub struct ClientBuilder {
    key: Key,
    base_url: Option<String>,
    timeout: Option<Duration>,
    user_agent: Option<String>,
    http_client: Option<reqwest::Client>,
    retries: RetryPolicy,
}

impl ClientBuilder {
    /// How failed requests are retried (default [`RetryPolicy::default`];
    /// [`RetryPolicy::none`] sends every request once). Reads are retried
    /// after network errors, 5xx and 429; requests that create something
    /// only when they surely were not processed.
    pub fn retries(mut self, policy: RetryPolicy) -> Self {
        self.retries = policy;
        self
    }

    /// A host serving all regions (the emulator), e.g. `http://127.0.0.1:8787`;
    /// the key's region is appended (`/{code}/latest/`). Wins over
    /// `RELEVANCE_BASE_URL`.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// How long one request may take (default 30 s). Ignored on wasm, where
    /// the browser decides, and when [`ClientBuilder::http_client`] is given.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The `User-Agent` (default `relevance-rs/{version}`). Ignored on wasm,
    /// where browsers forbid it, and when [`ClientBuilder::http_client`] is given.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// A ready HTTP client (its own proxies, TLS and timeouts) to send with.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Makes the client.
    ///
    /// Without [`ClientBuilder::base_url`], `RELEVANCE_BASE_URL` is read here:
    /// it is how unchanged code is pointed at the emulator. An invalid value
    /// is [`Error::InvalidEnv`]; unset or empty means the hosted platform.
    pub fn build(self) -> Result<Client> {
        self.build_with_env(&|name| std::env::var(name).ok())
    }

    pub(crate) fn build_with_env(self, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Client> {
        let region = self.key.region();
        let endpoints = match &self.base_url {
            Some(base) => Endpoints::with_base_url(base, region)?,
            None => endpoints_from_env(region, lookup)?,
        };
        let http = match self.http_client {
            Some(client) => client,
            None => crate::http::default_http_client(self.timeout, self.user_agent)?,
        };
        Ok(Client {
            inner: Arc::new(ClientInner {
                key: self.key,
                endpoints,
                http,
                retries: self.retries,
                activity: Arc::default(),
            }),
        })
    }
}

/// The endpoints for `region`: `RELEVANCE_BASE_URL` when set, else hosted.
pub(crate) fn endpoints_from_env(
    region: Region,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Endpoints> {
    match lookup(BASE_URL_VARIABLE).filter(|value| !value.trim().is_empty()) {
        Some(base) => Endpoints::with_base_url(&base, region).map_err(|error| match error {
            Error::InvalidBaseUrl { value, reason } => Error::InvalidEnv {
                variable: BASE_URL_VARIABLE,
                reason: format!("'{value}': {reason}"),
            },
            other => other,
        }),
        None => Ok(Endpoints::hosted(region)),
    }
}

/// An API key with its region and project, for [`create_client`].
#[derive(Clone)]
pub struct ApiKeyOptions {
    /// The key value (`sk-...`).
    pub api_key: String,
    /// The project's region.
    pub region: Region,
    /// The project id.
    pub project: String,
}

impl fmt::Debug for ApiKeyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyOptions")
            .field("api_key", &redact(&self.api_key))
            .field("region", &self.region)
            .field("project", &self.project)
            .finish()
    }
}

/// What [`create_client`] accepts: a ready key, an API key's parts, or a
/// client already built (with [`Client::builder`]: another base URL, retries,
/// timeouts).
#[derive(Clone, Debug)]
pub enum Credentials {
    /// A key (API or embed).
    Key(Key),
    /// An API key's value, region and project.
    ApiKey(ApiKeyOptions),
    /// A client built some other way, registered as it is.
    Client(Client),
}

impl From<Key> for Credentials {
    fn from(key: Key) -> Self {
        Credentials::Key(key)
    }
}

impl From<ApiKeyOptions> for Credentials {
    fn from(options: ApiKeyOptions) -> Self {
        Credentials::ApiKey(options)
    }
}

impl From<Client> for Credentials {
    fn from(client: Client) -> Self {
        Credentials::Client(client)
    }
}

static DEFAULT: OnceLock<Client> = OnceLock::new();

/// Builds a client (as [`Client::new`], or takes one built with
/// [`Client::builder`]) and registers it as the process-wide default: the
/// one way to set what [`default_client`] answers. Only the first call
/// succeeds: a second one is [`DefaultClientError::AlreadyCreated`] and the
/// first client stays.
pub fn create_client(credentials: impl Into<Credentials>) -> Result<Client> {
    let key = match credentials.into() {
        Credentials::Key(key) => key,
        Credentials::ApiKey(options) => Key::new(options.api_key, options.region, options.project)?,
        Credentials::Client(client) => return register(client),
    };
    if DEFAULT.get().is_some() {
        return Err(DefaultClientError::AlreadyCreated.into());
    }
    register(Client::new(key)?)
}

/// Registers `client` as the default, once.
fn register(client: Client) -> Result<Client> {
    DEFAULT
        .set(client.clone())
        .map_err(|_| DefaultClientError::AlreadyCreated)?;
    Ok(client)
}

/// The process-wide default client, or [`DefaultClientError::NotCreated`].
/// Never a silent unauthenticated fallback.
pub fn default_client() -> Result<Client> {
    DEFAULT
        .get()
        .cloned()
        .ok_or_else(|| DefaultClientError::NotCreated.into())
}

#[cfg(test)]
mod tests;
