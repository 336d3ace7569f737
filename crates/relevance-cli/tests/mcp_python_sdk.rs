//! `relevance mcp` driven over stdio by the official MCP Python SDK (`mcp` from PyPI),
//! as a host drives it (`tests/python/mcp_stdio.py` says what it checks): with an API key,
//! with a key the platform does not know, and with an embed key file. Skips as
//! [`common::python`] says.

mod common;

use std::path::Path;
use std::process::Command;

use common::binary::{run, text};
use common::python::python_with_mcp_or_skip;
use common::TestEmulator;

const API_KEY: &str = "sk-test-mcp-python-0001-aaaaaaaaaaaa";

const SEED: &str = r#"
[[projects]]
id = "proj-mcpy"
region = "us"
api_keys = ["sk-test-mcp-python-0001-aaaaaaaaaaaa"]

[[projects.tools]]
id = "weather-tool"
title = "Weather"
description = "The forecast for a city"
params_schema = { type = "object", properties = { city = { type = "string", description = "The city" } }, required = ["city"], additionalProperties = false }
output = { forecast = "sunny in {city}" }

[[projects.agents]]
id = "echo"
name = "Echo"
public = true
behavior = "script"
script = [ { reply = "re: {message}", delay_ms = 1 } ]

[[projects.agents]]
id = "private"
name = "Private"
behavior = "script"
script = [ { reply = "secret", delay_ms = 1 } ]
"#;

/// The seeded tool's `params_schema`, as JSON.
const PARAMS_SCHEMA: &str = r#"{"type": "object", "properties": {"city": {"type": "string", "description": "The city"}}, "required": ["city"], "additionalProperties": false}"#;

#[tokio::test(flavor = "multi_thread")]
async fn an_mcp_host_reaches_what_its_key_may_and_never_sees_the_key() {
    let Some(python) = python_with_mcp_or_skip("mcp_python_sdk") else {
        return;
    };
    let t = TestEmulator::start_with(SEED).await;
    let key_file = t.path("embed-key.json");
    let key_file = key_file.to_str().unwrap().to_string();
    let made = run(&[
        "embed-key",
        "--agent",
        "echo",
        "--project",
        "proj-mcpy",
        "--region",
        "us",
        "--base-url",
        &t.base_url,
        "--save",
        &key_file,
    ])
    .await;
    assert!(made.status.success(), "{}", text(&made.stderr));

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/mcp_stdio.py");
    let args = [
        env!("CARGO_BIN_EXE_relevance").to_string(),
        t.base_url.clone(),
        "proj-mcpy".to_string(),
        API_KEY.to_string(),
        key_file,
        PARAMS_SCHEMA.to_string(),
    ];
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .args(args)
            .output()
            .expect("run mcp_stdio.py")
    })
    .await
    .expect("the script's thread");
    let stdout = text(&output.stdout);
    let stderr = text(&output.stderr);
    assert!(
        output.status.success(),
        "the MCP host failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("ok:"), "{stdout}");
    assert!(!stdout.contains(API_KEY) && !stderr.contains(API_KEY));
}
