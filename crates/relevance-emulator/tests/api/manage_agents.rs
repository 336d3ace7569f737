//! Managing agents (PROTOCOL A12's `agents/tools/list`, A13): an agent's tools and
//! sub-agents; agents made and changed by `agents/upsert`, chatted with, made public,
//! given an embed key, deleted (the embed key refused on the very next request).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;
use crate::tools::{start_tools_seed, KEY_T};

fn path(tail: &str) -> String {
    format!("/{US}/latest/{tail}")
}

impl Running {
    async fn upsert(&self, body: Value) -> Answer {
        self.post(&path("agents/upsert"), Some(KEY_T), &body.to_string())
            .await
    }

    async fn embed_key_of(&self, agent_id: &str) -> Answer {
        let body = json!({"agent_id": agent_id, "project": "proj-t"});
        self.post(&path("agents/get_embed_key"), None, &body.to_string())
            .await
    }
}

#[tokio::test]
async fn an_agents_tools_and_sub_agents_are_listed() {
    let running = start_tools_seed().await;
    let answer = running
        .post(
            &path("agents/tools/list"),
            Some(KEY_T),
            r#"{"agent_ids": ["forecaster"]}"#,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let listed: Vec<(String, String)> = answer.body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|tool| {
            (
                tool["type"].as_str().expect("type").to_string(),
                tool["studio_id"].as_str().expect("studio_id").to_string(),
            )
        })
        .collect();
    let expected = [("tool", "weather"), ("tool", "slow"), ("agent", "helper")];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(kind, id)| (kind.to_string(), id.to_string()))
        .collect();
    assert_eq!(listed, expected);
    assert_eq!(answer.body["results"][2]["title"], "Helper");
    let unknown = running
        .post(
            &path("agents/tools/list"),
            Some(KEY_T),
            r#"{"agent_ids": ["nope"]}"#,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    running.emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn an_agent_made_by_the_api_chats_goes_public_and_its_embed_key_dies_with_it() {
    let running = start_tools_seed().await;
    let made = running
        .upsert(json!({"name": "Made", "system_prompt": "Be brief", "temperature": 0.5}))
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text);
    let agent_id = made.body["agent_id"]
        .as_str()
        .expect("agent_id")
        .to_string();
    let got = running
        .get(&path(&format!("agents/{agent_id}/get")), Some(KEY_T))
        .await;
    assert_eq!(got.body["agent"]["name"], "Made");
    assert_eq!(got.body["agent"]["system_prompt"], "Be brief");
    assert_eq!(got.body["agent"]["public"], false);

    let chat = running
        .trigger(
            KEY_T,
            json!({"agent_id": agent_id, "message": {"role": "user", "content": "hi"}}),
        )
        .await;
    assert_eq!(chat.status, StatusCode::OK, "{}", chat.text);
    let task = chat.body["conversation_id"]
        .as_str()
        .expect("task")
        .to_string();
    let (_, messages) = running.settle(KEY_T, &agent_id, &task).await;
    let last = messages.last().expect("a reply");
    assert_eq!(last["content"]["text"], "You said: hi");

    // Private: no embed key. Public: one.
    assert_eq!(
        running.embed_key_of(&agent_id).await.status,
        StatusCode::NOT_FOUND
    );
    let public = running
        .upsert(json!({"agent_id": agent_id, "public": true}))
        .await;
    assert_eq!(public.body["agent_id"], agent_id.as_str());
    let embed = running.embed_key_of(&agent_id).await;
    assert_eq!(embed.status, StatusCode::OK, "{}", embed.text);
    let embed_auth = format!("proj-t:{}", embed.body["embed_key"].as_str().expect("key"));
    let own = path(&format!("agents/{agent_id}/get"));
    let before = running.get(&own, Some(&embed_auth)).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text);
    assert_eq!(
        before.body["agent"]["name"], "Made",
        "the partial upsert kept the name"
    );

    let deleted = running
        .post(&path(&format!("agents/{agent_id}/delete")), Some(KEY_T), "")
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    assert_eq!(deleted.body, json!({}));
    let after = running.get(&own, Some(&embed_auth)).await;
    assert_eq!(after.status, StatusCode::BAD_REQUEST, "{}", after.text);
    assert!(after.message().starts_with("User key"), "{}", after.text);
    assert_eq!(
        running.get(&own, Some(KEY_T)).await.status,
        StatusCode::NOT_FOUND
    );
    // The agent's tasks stay readable by API keys.
    let meta = running.metadata(KEY_T, &agent_id, &task).await;
    assert_eq!(meta.status, StatusCode::OK, "{}", meta.text);
    let again = running
        .post(&path(&format!("agents/{agent_id}/delete")), Some(KEY_T), "")
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    running.emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn an_upserted_script_behaviour_runs_and_bad_ones_are_refused() {
    let running = start_tools_seed().await;
    let scripted = running
        .upsert(json!({"agent_id": "scripted", "use_streaming": true,
                       "emulator_behavior": {"script": [
                           {"tool": "weather", "input": {"city": "{message}"}, "delay_ms": 0},
                           {"reply": "ok {message}", "delay_ms": 0}]},
                       "emulator_tools": ["weather"]}))
        .await;
    assert_eq!(scripted.status, StatusCode::OK, "{}", scripted.text);
    let got = running.get(&path("agents/scripted/get"), Some(KEY_T)).await;
    assert_eq!(got.body["agent"]["use_streaming"], true);
    let chat = running
        .trigger(
            KEY_T,
            json!({"agent_id": "scripted", "message": {"role": "user", "content": "Pisa"}}),
        )
        .await;
    let task = chat.body["conversation_id"]
        .as_str()
        .expect("task")
        .to_string();
    let (_, messages) = running.settle(KEY_T, "scripted", &task).await;
    let contents: Vec<&Value> = messages.iter().map(|m| &m["content"]).collect();
    let tool_run = contents
        .iter()
        .find(|c| c["type"] == "tool-run")
        .expect("tool run");
    assert_eq!(tool_run["output"]["forecast"], "sunny in Pisa");
    assert_eq!(contents.last().expect("reply")["text"], "ok Pisa");
    let tools = running
        .post(
            &path("agents/tools/list"),
            Some(KEY_T),
            r#"{"agent_ids": ["scripted"]}"#,
        )
        .await;
    assert_eq!(tools.body["results"][0]["studio_id"], "weather");

    let cases = [
        (
            json!({"emulator_behavior": {"script": [{"dance": 1}]}}),
            "script[0]",
        ),
        (
            json!({"emulator_behavior": {"behavior": "script"}}),
            "script",
        ),
        (
            json!({"emulator_behavior": {"behavior": "sing"}}),
            "behavior",
        ),
        (json!({"emulator_tools": ["no-such-tool"]}), "tools"),
        (json!({"agent_id": "has space"}), "agent_id"),
        (
            json!({"agent_id": "helper", "emulator_behavior": {"script": [
                {"sub_agent": "forecaster", "message": "loop"}]}}),
            "cycle",
        ),
        (
            json!({"emulator_behavior": {"script": [{"sub_agent": "ghost", "message": "m"}]}}),
            "ghost",
        ),
    ];
    for (body, needle) in cases {
        let answer = running.upsert(body.clone()).await;
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
    // An agent another agent's script names cannot go.
    let refused = running
        .post(&path("agents/helper/delete"), Some(KEY_T), "")
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(
        refused.message().contains("forecaster"),
        "{}",
        refused.message()
    );
    running.emulator.shutdown().await.expect("clean shutdown");
}
