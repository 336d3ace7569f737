//! The platform's Python client (`relevanceai` 10.2.2) runs its knowledge calls against
//! the emulator (PROTOCOL A16): `list_knowledge`, `retrieve_knowledge` and
//! `delete_knowledge`, plus the docs' "List conversations" reads, each answer parsed with
//! the client's own models (`tests/python/client_knowledge.py`). Skips as
//! [`python_support::python_or_skip`] says.

mod python_support;

use std::path::Path;
use std::process::Command;

use relevance_emulator::{Config, Emulator, SeedSource};
use serde_json::{json, Value};
use tokio::net::TcpListener;

const SEED: &str = r#"
[[projects]]
id = "proj-pyknow"
region = "us"
api_keys = ["sk-test-pyknow-0001"]

[[projects.agents]]
id = "helper"
name = "Helper"
"#;

const AUTH: &str = "proj-pyknow:sk-test-pyknow-0001";

/// Triggers `helper` and waits (a bounded number of polls) until its echo is written:
/// the conversation the script reads.
async fn finished_task(base: &str) -> String {
    let http = reqwest::Client::new();
    let started: Value = http
        .post(format!("{base}agents/trigger"))
        .header("Authorization", AUTH)
        .body(
            json!({"agent_id": "helper", "message": {"role": "user", "content": "hello"}})
                .to_string(),
        )
        .send()
        .await
        .expect("trigger")
        .json()
        .await
        .expect("trigger answer");
    let task = started["conversation_id"]
        .as_str()
        .expect("task id")
        .to_string();
    for _ in 0..500 {
        let meta: Value = http
            .get(format!("{base}agents/helper/tasks/{task}/metadata"))
            .header("Authorization", AUTH)
            .send()
            .await
            .expect("metadata")
            .json()
            .await
            .expect("metadata answer");
        if meta["metadata"]["conversation"]["state"] == "idle" {
            return task;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the helper's task never went idle");
}

#[tokio::test]
async fn the_python_client_lists_reads_and_deletes_knowledge_and_its_models_accept_every_answer() {
    let Some(python) = python_support::python_or_skip("python_client_knowledge") else {
        return;
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let config = Config {
        seed: Some(SeedSource::Text(SEED.to_string())),
        ..Config::default()
    };
    let emulator = Emulator::start(config, listener).await.expect("start");
    let base = format!("{}/bcbe5a/latest/", emulator.base_url());
    let task = finished_task(&base).await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/client_knowledge.py");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .args([
                base.as_str(),
                "proj-pyknow",
                "sk-test-pyknow-0001",
                "helper",
                task.as_str(),
            ])
            .output()
            .expect("run client_knowledge.py")
    })
    .await
    .expect("the script's thread");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the Python client failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("ok:"), "{stdout}");
    emulator.shutdown().await.expect("clean shutdown");
}
