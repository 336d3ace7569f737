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
            endpoints: &self.inner.endpoints,
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
mod tests {
    use super::*;
    use std::collections::HashMap;

    const LONG_SECRET: &str = "sk-SUPERSECRETVALUE-do-not-leak-7q2w";

    /// Environment variables as name/value pairs.
    type Vars<'a> = Vec<(&'a str, &'a str)>;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn from_env_lookup_success_table() {
        // (vars, region, api base)
        let cases: [(Vars, Region, &str); 3] = [
            (
                vec![
                    ("RELEVANCE_API_KEY", "sk-1"),
                    ("RELEVANCE_PROJECT", "p"),
                    ("RELEVANCE_REGION", "bcbe5a"),
                ],
                Region::US,
                "https://api-bcbe5a.stack.tryrelevance.com/latest/",
            ),
            (
                vec![
                    ("RELEVANCE_API_KEY", "sk-1"),
                    ("RELEVANCE_PROJECT", "p"),
                    ("RELEVANCE_REGION", "eu"),
                    ("RELEVANCE_BASE_URL", "http://127.0.0.1:8787/"),
                ],
                Region::EU,
                "http://127.0.0.1:8787/d7b62b/latest/",
            ),
            (
                vec![
                    ("RELEVANCE_API_KEY", "sk-1"),
                    ("RELEVANCE_PROJECT", "p"),
                    ("RELEVANCE_REGION", "AU"),
                    ("RELEVANCE_BASE_URL", ""),
                ],
                Region::AU,
                "https://api-f1db6c.stack.tryrelevance.com/latest/",
            ),
        ];
        for (vars, region, api) in cases {
            let client = Client::from_env_lookup(lookup(&vars)).unwrap();
            assert_eq!(client.region(), region);
            assert_eq!(client.project(), "p");
            assert!(!client.is_embed_key());
            assert_eq!(client.endpoints().api_base(), api);
        }
    }

    #[test]
    fn from_env_lookup_failure_table() {
        let full = [
            ("RELEVANCE_API_KEY", LONG_SECRET),
            ("RELEVANCE_PROJECT", "p"),
            ("RELEVANCE_REGION", "us"),
        ];
        let without = |name: &str| -> Vec<(&str, &str)> {
            full.iter().copied().filter(|(k, _)| *k != name).collect()
        };
        let with = |name: &'static str, value: &'static str| -> Vec<(&str, &str)> {
            let mut vars = without(name);
            vars.push((name, value));
            vars
        };
        // (vars, expected variable, missing?, reason fragment)
        let cases: Vec<(Vars, &str, bool, &str)> = vec![
            (vec![], "RELEVANCE_API_KEY", true, ""),
            (without("RELEVANCE_API_KEY"), "RELEVANCE_API_KEY", true, ""),
            (
                with("RELEVANCE_API_KEY", "  "),
                "RELEVANCE_API_KEY",
                true,
                "",
            ),
            (without("RELEVANCE_PROJECT"), "RELEVANCE_PROJECT", true, ""),
            (without("RELEVANCE_REGION"), "RELEVANCE_REGION", true, ""),
            (
                with("RELEVANCE_REGION", "mars"),
                "RELEVANCE_REGION",
                false,
                "unknown region 'mars' (valid: a code of 6 lowercase hex characters such as bcbe5a (US)",
            ),
            (
                {
                    let mut vars = full.to_vec();
                    vars.push(("RELEVANCE_BASE_URL", "ftp://x"));
                    vars
                },
                "RELEVANCE_BASE_URL",
                false,
                "scheme must be http or https",
            ),
            (
                {
                    let mut vars = full.to_vec();
                    vars.push(("RELEVANCE_BASE_URL", "127.0.0.1:8787"));
                    vars
                },
                "RELEVANCE_BASE_URL",
                false,
                "not a URL",
            ),
        ];
        for (vars, variable, missing, reason_part) in cases {
            let error = Client::from_env_lookup(lookup(&vars)).expect_err(variable);
            let text = error.to_string();
            assert!(text.contains(variable), "{text}");
            assert!(!text.contains("SUPERSECRET"), "{text}");
            match error {
                Error::MissingEnv { variable: got } if missing => assert_eq!(got, variable),
                Error::InvalidEnv {
                    variable: got,
                    reason,
                } if !missing => {
                    assert_eq!(got, variable);
                    assert!(reason.contains(reason_part), "{reason}");
                }
                other => panic!("{variable}: unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn builder_base_url_wins_over_the_environment() {
        let key = Key::new("k", Region::AU, "p").unwrap();
        let client = Client::builder(key)
            .base_url("http://127.0.0.1:1/x")
            .build_with_env(&lookup(&[("RELEVANCE_BASE_URL", "http://127.0.0.1:2")]))
            .unwrap();
        assert_eq!(
            client.endpoints().api_base(),
            "http://127.0.0.1:1/x/f1db6c/latest/"
        );
        assert_eq!(
            client.endpoints().stream_base(),
            "http://127.0.0.1:1/x/f1db6c/v1/stream"
        );

        let key = Key::new("k", Region::AU, "p").unwrap();
        let bad = Client::builder(key)
            .base_url("nope")
            .build_with_env(&lookup(&[]));
        assert!(matches!(bad, Err(Error::InvalidBaseUrl { .. })));
    }

    #[test]
    fn builder_settings_are_accepted() {
        let key = Key::new("k", Region::US, "p").unwrap();
        let client = Client::builder(key)
            .timeout(Duration::from_secs(5))
            .user_agent("my-app/1.0")
            .build_with_env(&lookup(&[]))
            .unwrap();
        assert_eq!(client.endpoints(), &Endpoints::hosted(Region::US));
        assert_eq!(client.retry_policy(), RetryPolicy::default());
        let key = Key::new("k", Region::US, "p").unwrap();
        let client = Client::builder(key)
            .retries(RetryPolicy::none())
            .build_with_env(&lookup(&[]))
            .unwrap();
        assert_eq!(client.retry_policy().max_attempts, 1);
        let key = Key::new("k", Region::US, "p").unwrap();
        let client = Client::builder(key)
            .http_client(reqwest::Client::new())
            .build_with_env(&lookup(&[]))
            .unwrap();
        assert_eq!(client.key().project(), "p");
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let key = Key::new(LONG_SECRET, Region::EU, "proj-1").unwrap();
        let client = Client::builder(key.clone())
            .base_url("http://127.0.0.1:8787")
            .build()
            .unwrap();
        let options = ApiKeyOptions {
            api_key: LONG_SECRET.to_string(),
            region: Region::EU,
            project: "proj-1".into(),
        };
        let texts = [
            format!("{client:?}"),
            format!("{client:#?}"),
            format!("{options:?}"),
            format!("{:?}", Credentials::from(options.clone())),
            format!("{:?}", Credentials::from(key)),
            format!(
                "{:?}",
                Client::builder(Key::new(LONG_SECRET, Region::EU, "p").unwrap())
            ),
        ];
        for text in texts {
            assert!(!text.contains("SUPERSECRET"), "{text}");
        }
        let debug = format!("{client:?}");
        assert!(
            debug.contains("proj-1") && debug.contains("EU") && debug.contains("/d7b62b/latest/")
        );
        assert!(format!("{options:?}").contains("…7q2w"));
    }
}
