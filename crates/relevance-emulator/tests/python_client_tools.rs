//! The platform's Python client (`relevanceai` 10.2.2) runs its tool and agent-management
//! calls against the emulator (PROTOCOL A12, A13): `list_tools`, `retrieve_tool`,
//! `create_tool`, `clone_tool`, `delete_tool`, `tool.trigger`, `agent.list_tools`,
//! `list_subagents`, `create_agent`, `upsert_agent`, `delete_agent`; each answer is parsed
//! with the client's own models (`tests/python/client_tools.py`). Skips as
//! [`python_support::python_or_skip`] says.

mod python_support;

use std::path::Path;
use std::process::Command;

use relevance_emulator::{Config, Emulator, SeedSource};
use tokio::net::TcpListener;

const SEED: &str = r#"
[[projects]]
id = "proj-pytools"
region = "us"
api_keys = ["sk-test-pytools-0001"]

[[projects.tools]]
id = "weather"
title = "Weather"
description = "The forecast for a city"
params_schema = { type = "object", properties = { city = { type = "string" } }, required = ["city"], additionalProperties = false }
output = { forecast = "sunny in {city}" }

[[projects.agents]]
id = "forecaster"
name = "Forecaster"
tools = ["weather"]
behavior = "script"
script = [ { sub_agent = "helper", message = "m", delay_ms = 0 } ]

[[projects.agents]]
id = "helper"
name = "Helper"
"#;

#[tokio::test]
async fn the_python_client_manages_tools_and_agents_and_its_models_accept_every_answer() {
    let Some(python) = python_support::python_or_skip("python_client_tools") else {
        return;
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let config = Config {
        seed: Some(SeedSource::Text(SEED.to_string())),
        ..Config::default()
    };
    let emulator = Emulator::start(config, listener).await.expect("start");
    let base = format!("{}/bcbe5a/latest/", emulator.base_url());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/client_tools.py");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .args([base.as_str(), "proj-pytools", "sk-test-pytools-0001"])
            .output()
            .expect("run client_tools.py")
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
