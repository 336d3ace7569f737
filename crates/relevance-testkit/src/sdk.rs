//! What the SDK↔emulator suites share: their standard seed and a few SDK-level helpers.

use relevance::Key;
use serde_json::Value;

/// `proj-a`'s API key (US).
pub const API_KEY_A: &str = "sk-test-a-0001-aaaaaaaaaaaaaaaaaaaa";
/// `proj-b`'s API key (EU).
pub const API_KEY_B: &str = "sk-test-b-0001-bbbbbbbbbbbbbbbbbbbb";
/// `proj-c`'s API key (US, by region code).
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

/// A key's secret value, read from its persisted form (the one public place the SDK hands
/// it out): for tests that revoke a key by value or check it never leaks.
pub fn secret_of(key: &Key) -> String {
    let json: Value = serde_json::from_str(&key.to_json()).expect("a key's JSON");
    json["key"].as_str().expect("the key's value").to_string()
}
