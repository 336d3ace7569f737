//! Shared by the dashboard's HTTP and browser tests: a seeded emulator on
//! 127.0.0.1 (started by the workspace's test kit, `relevance-testkit`, from the seed as
//! text) and the few API calls the tests make beside the dashboard.

#![allow(dead_code)]

use relevance_emulator::Emulator;
use relevance_testkit::emulator::{seeded, start as start_emulator};
use relevance_testkit::Admin;
use reqwest::StatusCode;
use serde_json::Value;

/// `proj-d` (US) with an agent whose name is markup, an echo helper, a private agent and a
/// workforce; `proj-other` to show keys stay inside their project.
pub const SEED: &str = r#"
[[projects]]
id = "proj-d"
region = "us"
api_keys = ["sk-dash-0001"]

[[projects.agents]]
id = "xss-agent"
use_streaming = true
name = "<script>alert(1)</script>"
public = true
chunk_delay_ms = 1

[[projects.agents]]
id = "helper"
use_streaming = true
name = "Helper"
emoji = "🤖"
public = true
chunk_delay_ms = 1

[[projects.agents]]
id = "secret-agent"
use_streaming = true

[[projects.workforces]]
id = "wf"
name = "Front desk"
agents = ["helper"]

[[projects]]
id = "proj-other"
region = "eu"
api_keys = ["sk-other-0001"]
"#;

pub const PROJECT: &str = "proj-d";
pub const API_KEY: &str = "sk-dash-0001";
pub const US: &str = "bcbe5a";

pub struct Running {
    pub emulator: Emulator,
}

pub async fn start() -> Running {
    Running {
        emulator: start_emulator(seeded(SEED)).await,
    }
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.emulator.base_url(), path)
    }

    /// A new embed key for an agent (or, with `workforce`, a workforce) of `proj-d`: (value, prefix).
    pub async fn embed_key(&self, target: &str, workforce: bool) -> (String, String) {
        let (path, field) = if workforce {
            ("workforce/get_embed_key", "workforce_id")
        } else {
            ("agents/get_embed_key", "agent_id")
        };
        let answer = reqwest::Client::new()
            .post(self.url(&format!("/{US}/latest/{path}")))
            .body(format!(r#"{{"{field}":"{target}","project":"{PROJECT}"}}"#))
            .send()
            .await
            .expect("get_embed_key sent");
        assert_eq!(answer.status(), StatusCode::OK);
        let body: Value = answer.json().await.expect("JSON answer");
        (
            body["embed_key"].as_str().expect("embed_key").to_string(),
            body["conversation_prefix"]
                .as_str()
                .expect("conversation_prefix")
                .to_string(),
        )
    }

    /// An SDK-style request: `GET /{US}/latest/agents/{agent}/get` with `Authorization: proj-d:{key}`.
    pub async fn read_agent_with(&self, key: &str, agent: &str) -> StatusCode {
        reqwest::Client::new()
            .get(self.url(&format!("/{US}/latest/agents/{agent}/get")))
            .header("Authorization", format!("{PROJECT}:{key}"))
            .send()
            .await
            .expect("request sent")
            .status()
    }

    /// The project's keys through the admin API.
    pub async fn admin_keys(&self) -> Vec<Value> {
        Admin::new(&self.emulator.base_url(), self.emulator.admin_token())
            .keys(PROJECT)
            .await
    }

    /// Triggers `agent` with an API key and answers the new task id.
    pub async fn trigger(&self, agent: &str, text: &str) -> String {
        let body =
            serde_json::json!({"agent_id": agent, "message": {"role": "user", "content": text}});
        let answer = reqwest::Client::new()
            .post(self.url(&format!("/{US}/latest/agents/trigger")))
            .header("Authorization", format!("{PROJECT}:{API_KEY}"))
            .body(body.to_string())
            .send()
            .await
            .expect("trigger sent");
        assert_eq!(answer.status(), StatusCode::OK);
        let body: Value = answer.json().await.expect("JSON answer");
        body["conversation_id"]
            .as_str()
            .expect("conversation_id")
            .to_string()
    }

    /// Polls the task's messages (a bounded number of times) until the agent's final reply is stored.
    pub async fn wait_for_reply(&self, agent: &str, task: &str) {
        let http = reqwest::Client::new();
        for _ in 0..500 {
            let answer = http
                .post(self.url(&format!("/{US}/latest/agents/{agent}/tasks/{task}/view")))
                .header("Authorization", format!("{PROJECT}:{API_KEY}"))
                .send()
                .await
                .expect("view sent");
            let body: Value = answer.json().await.expect("JSON answer");
            let done = body["results"].as_array().is_some_and(|results| {
                results.iter().any(|message| {
                    message["content"]["type"] == "agent-message"
                        && message["content"]["generating"] != true
                })
            });
            if done {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("agent {agent} never finished its reply on task {task}");
    }
}

/// The value of the first `name="csrf"` hidden field of a page.
pub fn csrf_of(html: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let start = html.find(marker).expect("page has a CSRF field") + marker.len();
    let end = html[start..].find('"').expect("closing quote") + start;
    html[start..end].to_string()
}
