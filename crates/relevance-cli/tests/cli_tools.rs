//! `relevance tools ...` and `relevance agents create|update|delete` through the binary,
//! against an emulator over loopback.

mod common;

use std::process::Output;

use common::binary::{run, text};
use common::TestEmulator;
use serde_json::{json, Value};

const KEY: &str = "sk-test-clitools-0001-cccccccccccccc";

const SEED: &str = r#"
[[projects]]
id = "proj-cli"
region = "us"
api_keys = ["sk-test-clitools-0001-cccccccccccccc"]

[[projects.tools]]
id = "weather"
title = "Weather"
params_schema = { type = "object", properties = { city = { type = "string" }, days = { type = "integer" } }, required = ["city"] }
output = { forecast = "sunny in {city}", days = "{days}" }
"#;

async fn relevance(t: &TestEmulator, args: &[&str]) -> Output {
    let creds = [
        "--api-key",
        KEY,
        "--project",
        "proj-cli",
        "--region",
        "us",
        "--base-url",
        &t.base_url,
    ];
    run(&[args, &creds[..]].concat()).await
}

fn json_of(output: &Output) -> Value {
    assert!(output.status.success(), "{}", text(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

#[tokio::test]
async fn tools_are_listed_read_and_run_from_the_command_line() {
    let t = TestEmulator::start_with(SEED).await;
    let list = json_of(&relevance(&t, &["tools", "list", "--json"]).await);
    assert_eq!(list["tools"][0]["id"], "weather");
    let human = relevance(&t, &["tools", "list"]).await;
    assert!(
        text(&human.stdout).contains("Weather"),
        "{}",
        text(&human.stdout)
    );
    let got = json_of(&relevance(&t, &["tools", "get", "weather", "--json"]).await);
    assert_eq!(got["params_schema"]["required"], json!(["city"]));

    let ran = relevance(
        &t,
        &[
            "tools",
            "run",
            "weather",
            "--param",
            "city=Oslo",
            "--param",
            "days=2",
            "--json",
        ],
    )
    .await;
    // A run is a job: with --json each update is a line, and the last line is the result.
    assert!(ran.status.success(), "{}", text(&ran.stderr));
    let lines: Vec<Value> = text(&ran.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON lines"))
        .collect();
    assert_eq!(lines[lines.len() - 2]["type"], "chain-success", "{lines:?}");
    let ran = lines.last().expect("the result").clone();
    assert_eq!(ran["status"], "complete");
    assert_eq!(
        ran["output"],
        json!({"forecast": "sunny in Oslo", "days": 2})
    );

    let file = t.path("params.json");
    std::fs::write(&file, r#"{"city": "Rome"}"#).expect("params file");
    let file = file.display().to_string();
    let from_file = relevance(&t, &["tools", "run", "weather", "--params-json", &file]).await;
    assert!(from_file.status.success(), "{}", text(&from_file.stderr));
    assert!(text(&from_file.stdout).contains("sunny in Rome"));

    // Bad params: each violation printed, and the command fails.
    let bad = relevance(&t, &["tools", "run", "weather", "--param", "days=x"]).await;
    assert!(!bad.status.success());
    let stdout = text(&bad.stdout);
    assert_eq!(stdout.matches("error:").count(), 2, "{stdout}");
    assert!(
        text(&bad.stderr).contains("did not complete"),
        "{}",
        text(&bad.stderr)
    );
    t.stop().await;
}

#[tokio::test]
async fn agents_are_created_updated_and_deleted_from_the_command_line() {
    let t = TestEmulator::start_with(SEED).await;
    let created =
        json_of(&relevance(&t, &["agents", "create", "--name", "Cli agent", "--json"]).await);
    assert_eq!(created["name"], "Cli agent");
    assert_eq!(created["public"], false);
    let id = created["id"].as_str().expect("id").to_string();

    let updated = json_of(&relevance(&t, &["agents", "update", &id, "--public", "--json"]).await);
    assert_eq!(updated["public"], true);
    assert_eq!(updated["name"], "Cli agent", "fields not given stay");

    let deleted = relevance(&t, &["agents", "delete", &id]).await;
    assert!(deleted.status.success(), "{}", text(&deleted.stderr));
    let gone = relevance(&t, &["agents", "get", &id]).await;
    assert!(!gone.status.success());
    assert!(text(&gone.stderr).contains("404"), "{}", text(&gone.stderr));
    t.stop().await;
}
