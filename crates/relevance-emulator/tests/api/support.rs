//! Starting an emulator for a test and talking to it: this suite's seeds and request
//! helpers, over the workspace's test kit (`relevance-testkit`: starting on 127.0.0.1:0,
//! raw answers).

use std::path::PathBuf;

use relevance_emulator::{Config, Emulator};
use reqwest::StatusCode;
use serde_json::Value;
use tempfile::TempDir;

pub use relevance_testkit::emulator::seeded;
pub use relevance_testkit::emulator::start;
pub use relevance_testkit::http::{answer, send, Answer};

/// US project `proj-a` with three agents and two workforces, US `proj-b`, EU `proj-eu`.
pub const SEED: &str = r#"
[[projects]]
id = "proj-a"
region = "us"
api_keys = ["sk-test-a-0001"]

[[projects.agents]]
id = "agent-public"
name = "Support"
description = "Answers questions"
emoji = "🤖"
public = true

[[projects.agents]]
id = "agent-private"

[[projects.agents]]
id = "agent-other"
public = true
model = "gpt-emulated"

[[projects.workforces]]
id = "wf-1"
name = "Front desk"
agents = ["agent-public"]

[[projects.workforces]]
id = "wf-2"
agents = ["agent-other"]

[[projects]]
id = "proj-b"
region = "US"
api_keys = ["sk-test-b-0001"]

[[projects.agents]]
id = "b-agent"
public = true

[[projects]]
id = "proj-eu"
region = "eu"
api_keys = ["sk-test-eu-0001"]

[[projects.agents]]
id = "eu-agent"
public = true
"#;

pub const KEY_A: &str = "sk-test-a-0001";
pub const KEY_B: &str = "sk-test-b-0001";
pub const KEY_EU: &str = "sk-test-eu-0001";
pub const US: &str = "bcbe5a";
pub const EU: &str = "d7b62b";

/// A running emulator plus what the test needs to reach it.
pub struct Running {
    pub emulator: Emulator,
    pub http: reqwest::Client,
    /// For the tests that write a seed file on purpose (`write_seed`: the file loader, a
    /// restart on the same file); the in-memory seeds leave it empty.
    pub seed_dir: TempDir,
}

pub fn write_seed(dir: &TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("seed.toml");
    std::fs::write(&path, text).expect("write seed file");
    path
}

/// The standard seed, in memory, with `adjust` applied to the config.
pub async fn start_seeded_with(adjust: impl FnOnce(&mut Config)) -> Running {
    let seed_dir = TempDir::new().expect("tempdir");
    let mut config = seeded(SEED);
    adjust(&mut config);
    Running {
        emulator: start(config).await,
        http: reqwest::Client::new(),
        seed_dir,
    }
}

pub async fn start_seeded() -> Running {
    start_seeded_with(|_| {}).await
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.emulator.base_url(), path)
    }

    pub async fn get(&self, path: &str, authorization: Option<&str>) -> Answer {
        send(self.http.get(self.url(path)), authorization).await
    }

    /// POST a raw body with no Content-Type, as the official clients do.
    pub async fn post(&self, path: &str, authorization: Option<&str>, body: &str) -> Answer {
        let request = self.http.post(self.url(path)).body(body.to_string());
        send(request, authorization).await
    }

    pub fn admin(&self) -> String {
        format!("Bearer {}", self.emulator.admin_token())
    }

    /// A fresh embed key for an agent of `proj-a`: (key, prefix).
    pub async fn agent_embed_key(&self, agent_id: &str) -> (String, String) {
        let answer = self
            .post(
                &format!("/{US}/latest/agents/get_embed_key"),
                None,
                &format!(r#"{{"agent_id":"{agent_id}","project":"proj-a"}}"#),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        embed_pair(&answer)
    }

    /// A fresh embed key for a workforce of `proj-a`: (key, prefix).
    pub async fn workforce_embed_key(&self, workforce_id: &str) -> (String, String) {
        let answer = self
            .post(
                &format!("/{US}/latest/workforce/get_embed_key"),
                None,
                &format!(r#"{{"workforce_id":"{workforce_id}","project":"proj-a"}}"#),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        embed_pair(&answer)
    }
}

fn embed_pair(answer: &Answer) -> (String, String) {
    let key = answer.body["embed_key"]
        .as_str()
        .expect("embed_key")
        .to_string();
    let prefix = answer.body["conversation_prefix"]
        .as_str()
        .expect("conversation_prefix")
        .to_string();
    (key, prefix)
}

/// US project `proj-e` whose agents cover every behaviour, with tiny delays.
pub const ENGINE_SEED: &str = r#"
[[projects]]
id = "proj-e"
region = "us"
api_keys = ["sk-test-e-0001"]

[[projects.agents]]
id = "echo"
use_streaming = true
public = true
chunk_delay_ms = 1

[[projects.agents]]
id = "thinker"
use_streaming = true
behavior = "script"
end_state = "completed"
chunk_delay_ms = 1
script = [
  { think = "pondering {message}", delay_ms = 1 },
  { tool = "search", input = { q = "{message}" }, output = { hits = 2 }, delay_ms = 1 },
  { tool = "fetch", error = "timeout", delay_ms = 1 },
  { type = "Typed answer about {message}", delay_ms = 1 },
  { reply = "done", delay_ms = 1 },
]

[[projects.agents]]
id = "failing"
behavior = "script"
script = [
  { error = "soft", continue = true, delay_ms = 1 },
  { error = "hard", delay_ms = 1 },
  { reply = "never", delay_ms = 1 },
]

[[projects.agents]]
id = "approver"
behavior = "script"
script = [
  { approval = "May I?", delay_ms = 1 },
  { reply = "approved: {message}", delay_ms = 1 },
]

[[projects.agents]]
id = "boss"
behavior = "script"
script = [
  { sub_agent = "echo", message = "from boss: {message}", delay_ms = 1 },
  { reply = "boss done", delay_ms = 1 },
]

[[projects.agents]]
id = "slow"
behavior = "script"
script = [
  { reply = "first", delay_ms = 1 },
  { reply = "second", delay_ms = 1500 },
]
"#;

pub const KEY_E: &str = "proj-e:sk-test-e-0001";

pub async fn start_engine_seed() -> Running {
    let seed_dir = TempDir::new().expect("tempdir");
    Running {
        emulator: start(seeded(ENGINE_SEED)).await,
        http: reqwest::Client::new(),
        seed_dir,
    }
}

/// States in which a task's run is still going (queued or running).
pub fn is_running(state: &str) -> bool {
    matches!(
        state,
        "starting-up"
            | "running"
            | "waiting-for-capacity"
            | "queued-for-approval"
            | "queued-for-rerun"
    )
}

impl Running {
    pub async fn trigger(&self, auth: &str, body: Value) -> Answer {
        self.post(
            &format!("/{US}/latest/agents/trigger"),
            Some(auth),
            &body.to_string(),
        )
        .await
    }

    pub async fn metadata(&self, auth: &str, agent: &str, task: &str) -> Answer {
        self.get(
            &format!("/{US}/latest/agents/{agent}/tasks/{task}/metadata"),
            Some(auth),
        )
        .await
    }

    pub async fn view(&self, auth: &str, agent: &str, task: &str, body: &str) -> Answer {
        self.post(
            &format!("/{US}/latest/agents/{agent}/tasks/{task}/view"),
            Some(auth),
            body,
        )
        .await
    }

    /// Messages oldest first.
    pub async fn messages(&self, auth: &str, agent: &str, task: &str) -> Vec<Value> {
        let answer = self.view(auth, agent, task, "").await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        let mut results = answer.body["results"].as_array().expect("results").clone();
        results.reverse();
        results
    }

    /// Polls (a bounded number of times) until the task's run is no longer going;
    /// answers the final metadata and the messages, oldest first.
    pub async fn settle(&self, auth: &str, agent: &str, task: &str) -> (Value, Vec<Value>) {
        for _ in 0..1000 {
            let meta = self.metadata(auth, agent, task).await;
            assert_eq!(meta.status, StatusCode::OK, "{}", meta.text);
            let state = meta.body["metadata"]["conversation"]["state"]
                .as_str()
                .expect("state")
                .to_string();
            if !is_running(&state) {
                return (
                    meta.body["metadata"].clone(),
                    self.messages(auth, agent, task).await,
                );
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("task {task} of {agent} never left the running states");
    }

    /// GET with query parameters.
    pub async fn get_query(
        &self,
        path: &str,
        auth: Option<&str>,
        query: &[(&str, &str)],
    ) -> Answer {
        send(self.http.get(self.url(path)).query(query), auth).await
    }
}

/// The `content` of each message, without its `original_message_ids` (PROTOCOL A7c), which
/// are fresh random ids: this checks that every message has them, as an object of string
/// ids, and takes them out so tests can compare the rest exactly.
pub fn contents(messages: &[Value]) -> Vec<Value> {
    messages
        .iter()
        .map(|message| {
            let mut content = message["content"].clone();
            let ids = content
                .as_object_mut()
                .and_then(|fields| fields.remove("original_message_ids"))
                .unwrap_or_else(|| panic!("no original_message_ids: {message}"));
            let ids = ids.as_object().expect("original_message_ids is an object");
            assert!(!ids.is_empty(), "{message}");
            assert!(ids.values().all(Value::is_string), "{message}");
            content
        })
        .collect()
}
