//! The emulator's answers against the platform's own models (PROTOCOL A7c).
//!
//! The platform's Python client, `relevanceai` 10.2.2, ships its API models as pydantic
//! classes and refuses answers that break them. This test runs every behaviour and step
//! kind the emulator has, over real HTTP, saves the raw JSON answers the Python client
//! reads, and has `tests/python/check_models.py` validate them with those models.
//!
//! The interpreter and the skip rule are [`python_support`]'s.

mod python_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use relevance_emulator::{Config, Emulator, SeedSource};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::net::TcpListener;

const REGION: &str = "bcbe5a";
const AUTH: &str = "proj-py:sk-test-py-0001";

/// Every behaviour and step kind: echo; a script with think, tool, a failing tool, type,
/// reply, an error it goes on after, an approval and a sub-agent; a hard error; and a
/// workforce whose first member hands over to the second.
const SEED: &str = r#"
[[projects]]
id = "proj-py"
region = "us"
api_keys = ["sk-test-py-0001"]

[[projects.agents]]
id = "echo"
name = "Echo"
description = "Echoes"
emoji = "🤖"
public = true
use_streaming = true
chunk_delay_ms = 1

[[projects.agents]]
id = "everything"
name = "Everything"
behavior = "script"
end_state = "completed"
chunk_delay_ms = 1
script = [
  { think = "thinking about {message}", delay_ms = 1 },
  { tool = "search", input = { q = "{message}" }, output = { hits = 2 }, delay_ms = 1 },
  { tool = "fetch", input = { url = "https://example.com" }, error = "timeout", delay_ms = 1 },
  { type = "Typed answer about {message}", delay_ms = 1 },
  { reply = "a reply", delay_ms = 1 },
  { error = "a soft error", continue = true, delay_ms = 1 },
  { approval = "May I go on?", delay_ms = 1 },
  { think = "going on", delay_ms = 1 },
  { sub_agent = "helper", message = "help with {message}", delay_ms = 1 },
  { reply = "all done", delay_ms = 1 },
]

[[projects.agents]]
id = "helper"
chunk_delay_ms = 1

[[projects.agents]]
id = "failing"
behavior = "script"
script = [ { error = "a hard error", delay_ms = 1 } ]

[[projects.agents]]
id = "triage"
behavior = "script"
script = [
  { reply = "passing you on", delay_ms = 1 },
  { handover = "closer", message = "finish: {message}", delay_ms = 1 },
]

[[projects.agents]]
id = "closer"
behavior = "script"
chunk_delay_ms = 1
script = [
  { think = "closing", delay_ms = 1 },
  { type = "closed: {message}", delay_ms = 1 },
]

[[projects.workforces]]
id = "team"
agents = ["triage", "closer"]
"#;

const AGENTS: &[&str] = &[
    "echo",
    "everything",
    "helper",
    "failing",
    "triage",
    "closer",
];

/// Where the answers go, and a counter to keep file names apart.
struct Saved {
    dir: PathBuf,
    count: usize,
}

impl Saved {
    fn save(&mut self, kind: &str, label: &str, answer: &Value) {
        self.count += 1;
        let name = format!("{kind}-{:03}-{label}.json", self.count);
        std::fs::write(self.dir.join(name), answer.to_string()).expect("save an answer");
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    fn url(&self, path: &str) -> String {
        format!("{}/{REGION}/latest/{path}", self.base)
    }

    async fn json(&self, request: reqwest::RequestBuilder, what: &str) -> Value {
        let response = request
            .header("Authorization", AUTH)
            .send()
            .await
            .expect("request sent");
        let status = response.status();
        let text = response.text().await.expect("body");
        assert_eq!(status, StatusCode::OK, "{what}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{what}: not JSON: {text}"))
    }

    /// POST with a raw body and no Content-Type, as the official clients send.
    async fn post(&self, path: &str, body: &str) -> Value {
        let request = self.http.post(self.url(path)).body(body.to_string());
        self.json(request, path).await
    }

    async fn get(&self, path: &str, query: &[(&str, String)]) -> Value {
        let request = self.http.get(self.url(path)).query(query);
        self.json(request, path).await
    }

    async fn agent_state(&self, agent: &str, task: &str) -> String {
        let meta = self
            .get(&format!("agents/{agent}/tasks/{task}/metadata"), &[])
            .await;
        meta["metadata"]["conversation"]["state"]
            .as_str()
            .expect("state")
            .to_string()
    }

    /// Polls (bounded) until the task's run is no longer queued or running.
    async fn settle(&self, agent: &str, task: &str) -> String {
        for _ in 0..2000 {
            let state = self.agent_state(agent, task).await;
            if !matches!(state.as_str(), "starting-up" | "running") {
                return state;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("task {task} of {agent} never finished");
    }
}

fn check(python: &str, dir: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/check_models.py");
    let output = Command::new(python)
        .arg(&script)
        .arg(dir)
        .output()
        .expect("run check_models.py");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the platform's models refused answers:\n{stdout}\n{stderr}"
    );
    eprintln!("{}", stdout.trim());
}

#[tokio::test]
async fn every_answer_the_python_client_reads_passes_the_platforms_models() {
    let Some(python) = python_support::python_or_skip("python_models") else {
        return;
    };
    let seed_dir = TempDir::new().expect("tempdir");
    let seed_path = seed_dir.path().join("seed.toml");
    std::fs::write(&seed_path, SEED).expect("seed");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let config = Config {
        seed: Some(SeedSource::File(seed_path)),
        ..Config::default()
    };
    let emulator = Emulator::start(config, listener).await.expect("start");
    let client = Client {
        http: reqwest::Client::new(),
        base: emulator.base_url().to_string(),
    };
    let answers = TempDir::new().expect("answers dir");
    let mut saved = Saved {
        dir: answers.path().to_path_buf(),
        count: 0,
    };

    // Each agent triggered with an API key, as the Python client sends it.
    for agent in ["echo", "everything", "failing"] {
        let body = json!({"agent_id": agent, "message": {"role": "user", "content": "python"}});
        let triggered = client.post("agents/trigger", &body.to_string()).await;
        saved.save("trigger", agent, &triggered);
        let task = triggered["conversation_id"]
            .as_str()
            .expect("conversation_id")
            .to_string();
        let mut state = client.settle(agent, &task).await;
        if state == "pending-approval" {
            let body = json!({"agent_id": agent, "conversation_id": task,
                              "message": {"role": "user", "content": "yes, go on"}});
            let resumed = client.post("agents/trigger", &body.to_string()).await;
            saved.save("trigger", agent, &resumed);
            state = client.settle(agent, &task).await;
        }
        let expected = if agent == "failing" {
            "unrecoverable"
        } else if agent == "everything" {
            "completed"
        } else {
            "idle"
        };
        assert_eq!(state, expected, "{agent}");
    }
    // The workforce: triage hands over to closer, each in its own agent task.
    let workforce = client
        .post(
            "workforce/trigger",
            r#"{"workforce_id":"team","trigger":{"use_streaming":true,"message":{"role":"user","content":"python"}}}"#,
        )
        .await;
    let workforce_task = workforce["workforce_task_id"].as_str().expect("id");
    let mut ended = false;
    for _ in 0..2000 {
        let meta = client
            .get(&format!("workforce/tasks/{workforce_task}/metadata"), &[])
            .await;
        if meta["metadata"]["state"] != "running" {
            assert_eq!(meta["metadata"]["state"], "completed");
            ended = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(ended, "the workforce task finished");

    // What the Python client reads for every agent and every task.
    let agents = client.post("agents/list", "").await;
    saved.save("agents", "list", &agents);
    let mut kinds = std::collections::BTreeSet::new();
    for agent in AGENTS {
        let config = client.get(&format!("agents/{agent}/get"), &[]).await;
        saved.save("agent", agent, &config);
        let filters = json!([
            {"field": "conversation.is_debug_mode_task", "filter_type": "exact_match",
             "condition": "!=", "condition_value": true},
            {"filter_type": "exact_match", "field": "conversation.agent_id",
             "condition_value": [agent], "condition": "=="},
        ]);
        let list = client
            .get(
                "agents/conversations/list",
                &[
                    ("include_agent_details", "true".into()),
                    ("include_debug_info", "false".into()),
                    ("filters", filters.to_string()),
                    ("sort", json!([{"update_datetime": "desc"}]).to_string()),
                    ("page_size", "50".into()),
                ],
            )
            .await;
        saved.save("list", agent, &list);
        let results = list["results"].as_array().expect("results");
        assert!(
            !results.is_empty(),
            "{agent} has tasks (sub-agent and members too)"
        );
        for item in results {
            let task = item["knowledge_set"].as_str().expect("knowledge_set");
            let view_path = format!("agents/{agent}/tasks/{task}/view");
            let view = client.post(&view_path, r#"{"page_size": 1000}"#).await;
            saved.save("view", agent, &view);
            for message in view["results"].as_array().expect("results") {
                kinds.insert(
                    message["content"]["type"]
                        .as_str()
                        .expect("type")
                        .to_string(),
                );
            }
            // The Python client's `view_task_steps` sends no body at all.
            let empty = client.post(&view_path, "").await;
            saved.save("view", agent, &empty);
            let metadata = client
                .get(
                    &format!("agents/{agent}/tasks/{task}/metadata"),
                    &[("include_streaming_token", "true".into())],
                )
                .await;
            saved.save("metadata", agent, &metadata);
        }
    }
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["agent-error", "agent-message", "tool-run", "user-message"],
        "every message type of an agent task was judged"
    );
    emulator.shutdown().await.expect("shutdown");
    check(&python, answers.path());
}
