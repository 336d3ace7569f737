//! Tools (PROTOCOL A12): seeded and API-made tools, listed, read, run with good and bad
//! params, cloned, deleted; an agent's script running a project tool gives the same
//! output as a direct run; API-made changes survive a restart with the same seed.

use std::path::Path;

use relevance_emulator::{Config, SeedSource, Storage};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::support::*;

/// US project `proj-t`: a weather tool (templated output), a slow one, a failing one, and
/// an agent whose script runs the weather tool.
pub const TOOLS_SEED: &str = r#"
[[projects]]
id = "proj-t"
region = "us"
api_keys = ["sk-test-t-0001"]

[[projects.tools]]
id = "weather"
title = "Weather"
description = "The forecast for a city"
emoji = "🌤"
params_schema = { type = "object", properties = { city = { type = "string" }, days = { type = "integer", minimum = 1 } }, required = ["city"] }
output = { forecast = "sunny in {city}", days = "{days}" }

[[projects.tools]]
id = "slow"
params_schema = '{"type": "object", "properties": {}}'
output = { done = true }
delay_ms = 30

[[projects.tools]]
id = "broken"
error = "the service is down for {city}"

[[projects.agents]]
id = "forecaster"
public = true
tools = ["weather", "slow"]
behavior = "script"
script = [
  { tool = "weather", input = { city = "{message}", days = 2 }, delay_ms = 0 },
  { sub_agent = "helper", message = "thanks", delay_ms = 0 },
  { reply = "done", delay_ms = 0 },
]

[[projects.agents]]
id = "helper"
name = "Helper"
"#;

pub const KEY_T: &str = "proj-t:sk-test-t-0001";

fn path(tail: &str) -> String {
    format!("/{US}/latest/{tail}")
}

pub async fn start_tools_seed() -> Running {
    let seed_dir = TempDir::new().expect("tempdir");
    let config = Config {
        seed: Some(SeedSource::Text(TOOLS_SEED.to_string())),
        ..Config::default()
    };
    Running {
        emulator: start(config).await,
        http: reqwest::Client::new(),
        seed_dir,
    }
}

impl Running {
    async fn run_tool(&self, id: &str, params: Value) -> Answer {
        let body = json!({"params": params, "project": "proj-t"}).to_string();
        self.post(
            &path(&format!("studios/{id}/trigger_limited")),
            Some(KEY_T),
            &body,
        )
        .await
    }

    async fn tool(&self, id: &str) -> Answer {
        self.get(&path(&format!("studios/{id}/get")), Some(KEY_T))
            .await
    }
}

fn error_bodies(answer: &Answer) -> Vec<String> {
    answer.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|error| error["body"].as_str().expect("body").to_string())
        .collect()
}

#[tokio::test]
async fn seeded_tools_are_listed_read_and_run() {
    let running = start_tools_seed().await;
    let filters = json!([{"filter_type": "exact_match", "field": "project",
                          "condition_value": "proj-t", "condition": "=="},
                         {"field": "no.such.field", "condition": "==", "condition_value": 1}])
    .to_string();
    let list = running
        .get_query(
            &path("studios/list"),
            Some(KEY_T),
            &[("filters", &filters), ("page_size", "100")],
        )
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let ids: Vec<&str> = list.body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|tool| tool["studio_id"].as_str().expect("studio_id"))
        .collect();
    assert_eq!(ids, ["broken", "slow", "weather"]);
    let other_project = json!([{"field": "project", "condition": "==", "condition_value": "p2"}]);
    let none = running
        .get_query(
            &path("studios/list"),
            Some(KEY_T),
            &[("filters", &other_project.to_string())],
        )
        .await;
    assert_eq!(none.body["results"], json!([]));

    let weather = running.tool("weather").await;
    assert_eq!(weather.status, StatusCode::OK, "{}", weather.text);
    let studio = &weather.body["studio"];
    assert_eq!(studio["title"], "Weather");
    assert_eq!(studio["emoji"], "🌤");
    assert_eq!(studio["public"], false);
    assert_eq!(studio["version"], "latest");
    assert_eq!(studio["project"], "proj-t");
    assert_eq!(studio["params_schema"]["required"], json!(["city"]));

    let good = running
        .run_tool("weather", json!({"city": "Oslo", "days": 3}))
        .await;
    assert_eq!(good.status, StatusCode::OK, "{}", good.text);
    assert_eq!(good.body["status"], "complete");
    assert_eq!(
        good.body["output"],
        json!({"forecast": "sunny in Oslo", "days": 3})
    );
    assert_eq!(good.body["errors"], json!([]));
    assert!(good.body["executionTime"].is_number());

    // Each violation is one error: a missing `city`, a `days` below its minimum.
    let bad = running.run_tool("weather", json!({"days": 0})).await;
    assert_eq!(bad.status, StatusCode::OK, "{}", bad.text);
    assert_eq!(bad.body["status"], "failed");
    let errors = error_bodies(&bad);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("city")), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("/days")), "{errors:?}");

    let broken = running.run_tool("broken", json!({"city": "Rome"})).await;
    assert_eq!(broken.body["status"], "failed");
    assert_eq!(error_bodies(&broken), ["the service is down for Rome"]);

    let slow = running.run_tool("slow", Value::Null).await;
    assert_eq!(slow.body["status"], "complete");
    assert_eq!(slow.body["output"], json!({"done": true}));

    let missing = running.run_tool("nope", json!({})).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    running.emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn tools_are_created_updated_cloned_and_deleted() {
    let running = start_tools_seed().await;
    let create = json!({"updates": [{
        "studio_id": "greet", "title": "Greet", "description": "Says hello", "public": false,
        "project": "proj-t", "version": "latest",
        "params_schema": {"type": "object", "properties": {"name": {"type": "string"}},
                          "required": ["name"]},
        "output_schema": {}, "transformations": {"steps": []},
        "emulator_behavior": {"output": {"text": "hello {name}"}}
    }], "partial_update": true});
    let created = running
        .post(
            &path("studios/bulk_update"),
            Some(KEY_T),
            &create.to_string(),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    assert_eq!(created.body, json!({}));
    let greet = running.tool("greet").await;
    assert_eq!(greet.body["studio"]["title"], "Greet");
    assert_eq!(
        greet.body["studio"]["transformations"],
        json!({"steps": []})
    );

    // A partial update keeps what it does not name.
    let rename =
        json!({"updates": [{"studio_id": "greet", "title": "Hello"}], "partial_update": true});
    running
        .post(
            &path("studios/bulk_update"),
            Some(KEY_T),
            &rename.to_string(),
        )
        .await;
    let greet = running.tool("greet").await;
    assert_eq!(greet.body["studio"]["title"], "Hello");
    assert_eq!(greet.body["studio"]["description"], "Says hello");
    let ran = running.run_tool("greet", json!({"name": "Ada"})).await;
    assert_eq!(ran.body["output"], json!({"text": "hello Ada"}));
    let refused = running.run_tool("greet", json!({"name": 7})).await;
    assert_eq!(refused.body["status"], "failed");
    assert_eq!(error_bodies(&refused).len(), 1);

    let clone = json!({"studio_id": "greet", "project": "proj-t", "region": US});
    let cloned = running
        .post(&path("studios/clone"), Some(KEY_T), &clone.to_string())
        .await;
    assert_eq!(cloned.status, StatusCode::OK, "{}", cloned.text);
    let copy_id = cloned.body["studio_id"]
        .as_str()
        .expect("studio_id")
        .to_string();
    assert_ne!(copy_id, "greet");
    let copy = running.tool(&copy_id).await;
    assert_eq!(copy.body["studio"]["title"], "Hello");
    assert_eq!(copy.body["studio"]["metadata"]["source_studio_id"], "greet");
    let copy_ran = running.run_tool(&copy_id, json!({"name": "Bo"})).await;
    assert_eq!(copy_ran.body["output"], json!({"text": "hello Bo"}));

    let delete = json!({"ids": ["greet"]});
    let deleted = running
        .post(
            &path("studios/bulk_delete"),
            Some(KEY_T),
            &delete.to_string(),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    assert_eq!(running.tool("greet").await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        running.tool(&copy_id).await.status,
        StatusCode::OK,
        "the copy stays"
    );
    running.emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn bad_tool_definitions_are_refused_with_the_reason() {
    let running = start_tools_seed().await;
    let cases = [
        (json!({"updates": [{"title": "no id"}]}), "studio_id"),
        (
            json!({"updates": [{"studio_id": "x", "params_schema": {"type": "nonsense"}}]}),
            "params_schema",
        ),
        (
            json!({"updates": [{"studio_id": "x", "public": "yes"}]}),
            "public",
        ),
        (
            json!({"updates": [{"studio_id": "x", "emulator_behavior": {"delay_ms": 999999999}}]}),
            "delay_ms",
        ),
        (
            json!({"updates": [{"studio_id": "x", "project": "another"}]}),
            "project",
        ),
    ];
    for (body, needle) in cases {
        let answer = running
            .post(&path("studios/bulk_update"), Some(KEY_T), &body.to_string())
            .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            answer.text
        );
        assert!(
            answer.message().contains(needle),
            "{body}: {}",
            answer.message()
        );
    }
    assert_eq!(
        running.tool("x").await.status,
        StatusCode::NOT_FOUND,
        "nothing was written"
    );
    running.emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_script_tool_step_runs_the_project_tool_and_agrees_with_a_direct_run() {
    let running = start_tools_seed().await;
    let triggered = running
        .trigger(
            KEY_T,
            json!({"agent_id": "forecaster", "message": {"role": "user", "content": "Lima"}}),
        )
        .await;
    assert_eq!(triggered.status, StatusCode::OK, "{}", triggered.text);
    let task = triggered.body["conversation_id"]
        .as_str()
        .expect("id")
        .to_string();
    let (_, messages) = running.settle(KEY_T, "forecaster", &task).await;
    let tool_run = messages
        .iter()
        .map(|message| &message["content"])
        .find(|content| content["type"] == "tool-run" && content["tool_config"]["type"] == "tool")
        .expect("a tool run");
    assert_eq!(tool_run["tool_run_state"], "finished");
    assert_eq!(tool_run["tool_config"]["title"], "Weather");
    assert_eq!(
        tool_run["tool_config"]["params_schema"]["required"],
        json!(["city"])
    );
    let direct = running
        .run_tool("weather", json!({"city": "Lima", "days": 2}))
        .await;
    assert_eq!(tool_run["output"], direct.body["output"]);
    assert_eq!(direct.body["output"]["forecast"], "sunny in Lima");
    running.emulator.shutdown().await.expect("clean shutdown");
}

fn directory_config(data: &Path, seed: &Path) -> Config {
    Config {
        storage: Storage::Directory(data.to_path_buf()),
        seed: Some(SeedSource::File(seed.to_path_buf())),
        ..Config::default()
    }
}

#[tokio::test]
async fn api_changes_survive_a_restart_with_the_same_seed_and_seed_edits_still_apply() {
    let seed_dir = TempDir::new().expect("tempdir");
    let data_dir = TempDir::new().expect("tempdir");
    let data = data_dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let seed = write_seed(&seed_dir, TOOLS_SEED);
    let first = Running {
        emulator: start(directory_config(&data, &seed)).await,
        http: reqwest::Client::new(),
        seed_dir,
    };
    let edits = json!({"updates": [{"studio_id": "weather", "title": "Edited"},
                                   {"studio_id": "made", "title": "Made by the API"}]});
    let written = first
        .post(
            &path("studios/bulk_update"),
            Some(KEY_T),
            &edits.to_string(),
        )
        .await;
    assert_eq!(written.status, StatusCode::OK, "{}", written.text);
    first
        .post(
            &path("studios/bulk_delete"),
            Some(KEY_T),
            r#"{"ids": ["broken"]}"#,
        )
        .await;
    // A seeded agent edited and an agent made by the API.
    let agent_edits = [
        json!({"agent_id": "helper", "name": "Edited helper"}),
        json!({"agent_id": "api-made", "name": "API agent", "public": true}),
    ];
    for edit in agent_edits {
        let upserted = first
            .post(&path("agents/upsert"), Some(KEY_T), &edit.to_string())
            .await;
        assert_eq!(upserted.status, StatusCode::OK, "{}", upserted.text);
    }
    let helper = first.get(&path("agents/helper/get"), Some(KEY_T)).await;
    assert_eq!(
        helper.body["agent"]["name"], "Edited helper",
        "before the restart: {}",
        helper.text
    );
    let seed_dir = first.seed_dir;
    first.emulator.shutdown().await.expect("clean shutdown");

    let second = Running {
        emulator: start(directory_config(&data, &seed)).await,
        http: reqwest::Client::new(),
        seed_dir,
    };
    assert_eq!(
        second.tool("weather").await.body["studio"]["title"],
        "Edited"
    );
    assert_eq!(
        second.tool("made").await.body["studio"]["title"],
        "Made by the API"
    );
    assert_eq!(second.tool("broken").await.status, StatusCode::NOT_FOUND);
    let helper = second.get(&path("agents/helper/get"), Some(KEY_T)).await;
    assert_eq!(helper.body["agent"]["name"], "Edited helper");
    let made = second.get(&path("agents/api-made/get"), Some(KEY_T)).await;
    assert_eq!(made.body["agent"]["name"], "API agent");
    assert_eq!(made.body["agent"]["public"], true);
    let seed_dir = second.seed_dir;
    second.emulator.shutdown().await.expect("clean shutdown");

    // Editing the seed's definition of a tool applies it again.
    write_seed(
        &seed_dir,
        &TOOLS_SEED.replace("title = \"Weather\"", "title = \"Forecast\""),
    );
    let third = Running {
        emulator: start(directory_config(&data, &seed)).await,
        http: reqwest::Client::new(),
        seed_dir,
    };
    assert_eq!(
        third.tool("weather").await.body["studio"]["title"],
        "Forecast"
    );
    third.emulator.shutdown().await.expect("clean shutdown");
}
