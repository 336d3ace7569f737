//! The emulator's admin API, as tests use it: to assert on the request log and to revoke
//! keys the way a dashboard user would.

use reqwest::StatusCode;
use serde_json::{json, Value};

/// An admin API client for one emulator.
#[derive(Clone, Debug)]
pub struct Admin {
    http: reqwest::Client,
    base_url: String,
    token: String,
}

impl Admin {
    /// A client for the emulator at `base_url` with its admin `token`.
    pub fn new(base_url: &str, token: &str) -> Admin {
        Admin {
            http: reqwest::Client::new(),
            base_url: base_url.trim_end_matches('/').to_string(),
            token: token.to_string(),
        }
    }

    async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.base_url))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap_or_else(|error| panic!("admin GET {path}: {error}"));
        assert_eq!(response.status(), StatusCode::OK, "admin GET {path}");
        response.json().await.expect("admin answer is JSON")
    }

    /// The request log, newest first.
    pub async fn requests(&self) -> Vec<Value> {
        let log = self.get("/admin/requests?limit=10000").await;
        log["requests"].as_array().expect("requests list").clone()
    }

    /// The request log, oldest first.
    pub async fn requests_oldest_first(&self) -> Vec<Value> {
        let mut requests = self.requests().await;
        requests.reverse();
        requests
    }

    /// How many logged requests went to a path ending in `suffix`.
    pub async fn count(&self, suffix: &str) -> usize {
        self.requests()
            .await
            .iter()
            .filter(|r| r["path"].as_str().is_some_and(|p| p.ends_with(suffix)))
            .count()
    }

    /// How many logged `method` requests went to a path ending in `suffix`.
    pub async fn count_calls(&self, method: &str, suffix: &str) -> usize {
        self.requests()
            .await
            .iter()
            .filter(|r| is_call(r, method, suffix))
            .count()
    }

    /// A project's keys (metadata only: the emulator keeps hashes).
    pub async fn keys(&self, project: &str) -> Vec<Value> {
        let keys = self.get(&format!("/admin/projects/{project}/keys")).await;
        keys["keys"].as_array().expect("keys list").clone()
    }

    async fn post(&self, path: &str, body: Option<Value>) {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base_url))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("admin POST sent");
        assert!(
            response.status().is_success(),
            "admin POST {path} answered {}",
            response.status()
        );
    }

    /// Revokes the key with this secret value.
    pub async fn revoke_secret(&self, secret: &str) {
        self.post("/admin/keys/revoke", Some(json!({ "key": secret })))
            .await;
    }

    /// Revokes the key with this id.
    pub async fn revoke_id(&self, id: &str) {
        self.post(&format!("/admin/keys/{id}/revoke"), None).await;
    }
}

/// Whether a logged request is a `method` call to a path ending in `suffix`.
pub fn is_call(request: &Value, method: &str, suffix: &str) -> bool {
    request["method"] == method
        && request["path"]
            .as_str()
            .is_some_and(|path| path.ends_with(suffix))
}
