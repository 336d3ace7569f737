//! Making embed keys: the one unauthenticated request.
//!
//! Above the request layer and beside `client`, so `key` stays plain data.
//! [`Key::generate_embed_key`] is defined here.

use crate::client::{endpoints_from_env, Client};
use crate::error::Result;
use crate::http::{default_http_client, Request, Transport};
use crate::key::{EmbedTarget, Key, KeyScope};
use crate::region::{Endpoints, Region};
use crate::retry::RetryPolicy;
use crate::wire::embed_keys;

impl Key {
    /// Asks the platform for a new embed key for a public agent or a
    /// workforce. This is exactly one unauthenticated request;
    /// persist the result with [`Key::to_json`] rather than calling this on
    /// every start, since each call makes a new key with a new task prefix.
    pub async fn generate_embed_key(options: EmbedKeyOptions) -> Result<Key> {
        let endpoints = match &options.base_url {
            Some(base) => Endpoints::with_base_url(base, options.region)?,
            None => endpoints_from_env(options.region, &|name| std::env::var(name).ok())?,
        };
        let http = match options.http_client {
            Some(client) => client,
            None => default_http_client(None, None)?,
        };
        let project = options.project.as_str();
        let request = match &options.target {
            EmbedTarget::Agent(agent_id) => Request::create(embed_keys::AGENT_PATH)
                .json(&embed_keys::AgentBody { agent_id, project }),
            EmbedTarget::Workforce(workforce_id) => Request::create(embed_keys::WORKFORCE_PATH)
                .json(&embed_keys::WorkforceBody {
                    project,
                    workforce_id,
                }),
        };
        let transport = Transport {
            http: &http,
            endpoints: Some(&endpoints),
            key: None,
            policy: &RetryPolicy::default(),
        };
        let answer: embed_keys::Answer = transport.send(request.without_key()).await?;
        Key::embed(
            answer.embed_key,
            options.region,
            options.project,
            options.target,
            answer.conversation_prefix,
        )
    }
}

/// What [`Key::generate_embed_key`] needs.
#[derive(Debug, Clone)]
pub struct EmbedKeyOptions {
    region: Region,
    project: String,
    target: EmbedTarget,
    base_url: Option<String>,
    http_client: Option<reqwest::Client>,
}

impl EmbedKeyOptions {
    /// An embed key for a public agent.
    pub fn agent(region: Region, project: impl Into<String>, agent_id: impl Into<String>) -> Self {
        Self::new(region, project.into(), EmbedTarget::Agent(agent_id.into()))
    }

    /// An embed key for a workforce.
    pub fn workforce(
        region: Region,
        project: impl Into<String>,
        workforce_id: impl Into<String>,
    ) -> Self {
        Self::new(
            region,
            project.into(),
            EmbedTarget::Workforce(workforce_id.into()),
        )
    }

    fn new(region: Region, project: String, target: EmbedTarget) -> Self {
        EmbedKeyOptions {
            region,
            project,
            target,
            base_url: None,
            http_client: None,
        }
    }

    /// A host serving all regions (the emulator). Without it,
    /// `RELEVANCE_BASE_URL` is used when set, else the hosted platform.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The HTTP client to send the request with (its timeouts and proxies).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// The region the key is asked from.
    pub fn region(&self) -> Region {
        self.region
    }

    /// The project the key is for.
    pub fn project(&self) -> &str {
        &self.project
    }

    /// The agent or workforce the key is for.
    pub fn target(&self) -> &EmbedTarget {
        &self.target
    }

    /// Whether `key` is an embed key for exactly this region, project and
    /// target, i.e. what generating with these options could have made.
    pub fn matches(&self, key: &Key) -> bool {
        let same_target = match (&self.target, key.scope()) {
            (EmbedTarget::Agent(wanted), KeyScope::Agent(found)) => *wanted == found,
            (EmbedTarget::Workforce(wanted), KeyScope::Workforce(found)) => *wanted == found,
            _ => false,
        };
        key.is_embed()
            && key.region() == self.region
            && key.project() == self.project
            && same_target
    }

    /// A client for `key` that sends where these options send: the same base
    /// URL and HTTP client.
    pub(crate) fn client_for(&self, key: Key) -> Result<Client> {
        let mut builder = Client::builder(key);
        if let Some(base_url) = &self.base_url {
            builder = builder.base_url(base_url.clone());
        }
        if let Some(http) = &self.http_client {
            builder = builder.http_client(http.clone());
        }
        builder.build()
    }
}
