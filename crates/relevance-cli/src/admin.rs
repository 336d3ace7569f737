//! A small client for the emulator's admin API (PROTOCOL B), used by `relevance demo`.
//!
//! It speaks plain HTTP on purpose: the demo shows what a developer would do by hand with the
//! admin token, not a shortcut into the emulator's internals.

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

/// The admin API of one running emulator.
#[derive(Clone)]
pub struct AdminApi {
    http: reqwest::Client,
    base_url: String,
    token: String,
}

impl std::fmt::Debug for AdminApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminApi")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl AdminApi {
    pub fn new(base_url: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            http: reqwest::Client::new(),
            base_url: base_url.into(),
            token: token.into(),
        }
    }

    /// How many requests in the emulator's log went to a path ending in `suffix`.
    pub async fn count_requests(&self, suffix: &str) -> Result<usize> {
        let log = self.get("/admin/requests?limit=10000").await?;
        let requests = log["requests"]
            .as_array()
            .context("admin API answer has no `requests` list")?;
        Ok(requests
            .iter()
            .filter(|r| r["path"].as_str().is_some_and(|p| p.ends_with(suffix)))
            .count())
    }

    /// Revokes a key by its secret value, the way one reports a leaked key.
    pub async fn revoke_secret(&self, secret: &str) -> Result<Value> {
        self.post("/admin/keys/revoke", json!({ "key": secret }))
            .await
    }

    async fn get(&self, path: &str) -> Result<Value> {
        let request = self.http.get(format!("{}{path}", self.base_url));
        self.send(request, path).await
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value> {
        let request = self
            .http
            .post(format!("{}{path}", self.base_url))
            .json(&body);
        self.send(request, path).await
    }

    async fn send(&self, request: reqwest::RequestBuilder, path: &str) -> Result<Value> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("admin API {path}"))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .with_context(|| format!("admin API {path}: answer is not JSON"))?;
        if !status.is_success() {
            bail!(
                "admin API {path} answered {status}: {}",
                body["message"].as_str().unwrap_or("(no message)")
            );
        }
        Ok(body)
    }
}
