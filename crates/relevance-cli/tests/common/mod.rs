//! Shared test harness: an in-process emulator on 127.0.0.1:0, loaded through the real seed
//! loader, plus a tiny admin-API client for asserting on the emulator's request log.
#![allow(dead_code)]

pub mod binary;
pub mod recorder;

use std::path::PathBuf;

use relevance::{Client, Key, Region};
use relevance_emulator::{Config, Emulator, SeedSource, Storage};
use serde_json::{json, Value};

pub const API_KEY_A: &str = "sk-test-a-0001-aaaaaaaaaaaaaaaaaaaa";
pub const API_KEY_B: &str = "sk-test-b-0001-bbbbbbbbbbbbbbbbbbbb";
pub const API_KEY_C: &str = "sk-test-c-0001-cccccccccccccccccccc";

/// Two US projects and one EU project, each with public and private agents and workforces.
pub const SEED: &str = r#"
[[projects]]
id = "proj-a"
region = "us"
api_keys = ["sk-test-a-0001-aaaaaaaaaaaaaaaaaaaa"]

[[projects.agents]]
id = "agent-public"
use_streaming = true
name = "Support"
description = "Answers questions"
emoji = "🤖"
public = true

[[projects.agents]]
id = "agent-other-public"
use_streaming = true
name = "Sales"
public = true

[[projects.agents]]
id = "agent-private"
use_streaming = true
name = "Internal"
public = false

[[projects.workforces]]
id = "wf-1"
name = "Front desk"
agents = ["agent-public"]

[[projects.workforces]]
id = "wf-2"
name = "Back office"
agents = ["agent-other-public"]

[[projects]]
id = "proj-b"
region = "eu"
api_keys = ["sk-test-b-0001-bbbbbbbbbbbbbbbbbbbb"]

[[projects.agents]]
id = "agent-b"
use_streaming = true
public = true

[[projects]]
id = "proj-c"
region = "bcbe5a"
api_keys = ["sk-test-c-0001-cccccccccccccccccccc"]

[[projects.agents]]
id = "agent-c"
use_streaming = true
public = true
"#;

pub struct TestEmulator {
    pub emulator: Emulator,
    pub base_url: String,
    pub admin: Admin,
    pub dir: tempfile::TempDir,
}

impl TestEmulator {
    /// Starts an emulator from [`SEED`] with its database in a fresh temporary directory.
    pub async fn start() -> TestEmulator {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::start_in(dir).await
    }

    /// Starts (or restarts) an emulator whose database lives in `dir`.
    pub async fn start_in(dir: tempfile::TempDir) -> TestEmulator {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        Self::start_on(listener, dir).await
    }

    /// Starts an emulator from another seed file text.
    pub async fn start_with(seed: &str) -> TestEmulator {
        let dir = tempfile::tempdir().expect("temp dir");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        Self::start_seeded(listener, dir, seed).await
    }

    /// Starts an emulator on a listener bound beforehand (so its URL is known before any
    /// runtime thread exists).
    pub async fn start_on(listener: std::net::TcpListener, dir: tempfile::TempDir) -> TestEmulator {
        Self::start_seeded(listener, dir, SEED).await
    }

    async fn start_seeded(
        listener: std::net::TcpListener,
        dir: tempfile::TempDir,
        seed_text: &str,
    ) -> TestEmulator {
        let config = Config {
            storage: Storage::Directory(dir.path().join("data")),
            seed: Some(SeedSource::Text(seed_text.to_string())),
            ..Config::default()
        };
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        let emulator = Emulator::start(config, listener)
            .await
            .expect("emulator starts");
        let base_url = emulator.base_url();
        let admin = Admin {
            http: reqwest::Client::new(),
            base_url: base_url.clone(),
            token: emulator.admin_token().to_owned(),
        };
        TestEmulator {
            emulator,
            base_url,
            admin,
            dir,
        }
    }

    /// Stops the server and hands back its data directory, to restart on it.
    pub async fn stop(self) -> tempfile::TempDir {
        self.emulator.shutdown().await.expect("clean shutdown");
        self.dir
    }

    pub fn client(&self, key: Key) -> Client {
        Client::builder(key)
            .base_url(self.base_url.clone())
            .build()
            .expect("client")
    }

    /// A client for project `proj-a`'s seeded API key.
    pub fn api_key_a(&self) -> Client {
        self.client(Key::new(API_KEY_A, Region::US, "proj-a").expect("key"))
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

pub struct Admin {
    http: reqwest::Client,
    base_url: String,
    token: String,
}

impl Admin {
    /// The request log, newest first.
    pub async fn requests(&self) -> Vec<Value> {
        let log: Value = self
            .http
            .get(format!("{}/admin/requests?limit=10000", self.base_url))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("admin request log")
            .json()
            .await
            .expect("admin log is JSON");
        log["requests"].as_array().expect("requests list").clone()
    }

    /// How many logged requests went to a path ending in `suffix`.
    pub async fn count(&self, suffix: &str) -> usize {
        self.requests()
            .await
            .iter()
            .filter(|r| r["path"].as_str().is_some_and(|p| p.ends_with(suffix)))
            .count()
    }

    pub async fn keys(&self, project: &str) -> Vec<Value> {
        let keys: Value = self
            .http
            .get(format!("{}/admin/projects/{project}/keys", self.base_url))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("admin keys")
            .json()
            .await
            .expect("admin keys JSON");
        keys["keys"].as_array().expect("keys list").clone()
    }

    pub async fn revoke_secret(&self, secret: &str) {
        let response = self
            .http
            .post(format!("{}/admin/keys/revoke", self.base_url))
            .bearer_auth(&self.token)
            .json(&json!({ "key": secret }))
            .send()
            .await
            .expect("revoke");
        assert!(
            response.status().is_success(),
            "revoke answered {}",
            response.status()
        );
    }

    pub async fn revoke_id(&self, id: &str) {
        let response = self
            .http
            .post(format!("{}/admin/keys/{id}/revoke", self.base_url))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("revoke");
        assert!(
            response.status().is_success(),
            "revoke answered {}",
            response.status()
        );
    }
}

/// Refreshes a task until its run is over; a bounded number of polls, never a time limit.
pub async fn settle(task: &mut relevance::Task) {
    for _ in 0..2000 {
        task.refresh().await.expect("task metadata");
        if !task.is_running() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!(
        "task {} never left {:?} ({})",
        task.id, task.status, task.state
    );
}
