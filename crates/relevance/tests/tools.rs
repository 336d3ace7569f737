//! Tools and agent management through the SDK against the emulator over loopback: a tool
//! created, listed, run with good and bad params, cloned and deleted; an agent whose
//! script uses the tool shows the same output in its tool run; an agent made by the API,
//! chatted with, made public, given an embed key and deleted — the key refused next.

#![cfg(not(target_family = "wasm"))]

use relevance::{
    AgentDefinition, Client, EmbedKeyOptions, Error, Key, MessageContent, Region, ToolOutputStatus,
};
use relevance_testkit::{settle, TestEmulator};
use serde::Deserialize;
use serde_json::json;

const KEY: &str = "sk-test-tools-0001-tttttttttttttttttt";

const SEED: &str = r#"
[[projects]]
id = "proj-tools"
region = "us"
api_keys = ["sk-test-tools-0001-tttttttttttttttttt"]

[[projects.agents]]
id = "helper"
name = "Helper"
"#;

fn api_client(t: &TestEmulator) -> Client {
    t.client(Key::new(KEY, Region::US, "proj-tools").expect("key"))
}

#[derive(Debug, Deserialize, PartialEq)]
struct Greeting {
    text: String,
}

#[tokio::test]
async fn a_tool_is_created_listed_run_cloned_and_deleted() {
    let t = TestEmulator::start_with(SEED).await;
    let client = api_client(&t);
    let tool = client
        .tools()
        .create()
        .title("Greet")
        .description("Says hello")
        .params_schema(json!({"type": "object",
                              "properties": {"name": {"type": "string"}, "times": {"type": "integer"}},
                              "required": ["name"]}))
        .emulator_behavior(json!({"output": {"text": "hello {name}"}}))
        .send()
        .await
        .expect("created");
    assert_eq!(tool.title.as_deref(), Some("Greet"));
    assert_eq!(tool.project, "proj-tools");
    let listed: Vec<String> = client
        .tools()
        .list()
        .await
        .expect("list")
        .into_iter()
        .map(|tool| tool.into_data().id)
        .collect();
    assert_eq!(listed, std::slice::from_ref(&tool.id));

    let good = tool.run(json!({"name": "Ada"})).await.expect("run");
    assert_eq!(good.status, ToolOutputStatus::Complete);
    assert_eq!(good.output, Some(json!({"text": "hello Ada"})));
    assert!(good.errors.is_empty());
    assert!(good.execution_time.is_some());
    let typed = tool
        .run_as::<Greeting>(json!({"name": "Bo"}))
        .await
        .expect("typed run");
    assert_eq!(
        typed.output,
        Some(Greeting {
            text: "hello Bo".into()
        })
    );

    // Bad params are an answer, not an error: one entry per violation.
    let bad = tool
        .run(json!({"times": "twice"}))
        .await
        .expect("a failed run is still Ok");
    assert_eq!(bad.status, ToolOutputStatus::Failed);
    assert_eq!(bad.errors.len(), 2, "{:?}", bad.errors);
    assert!(
        bad.errors.iter().any(|e| e.contains("name")),
        "{:?}",
        bad.errors
    );
    assert!(
        bad.errors.iter().any(|e| e.contains("/times")),
        "{:?}",
        bad.errors
    );
    let typed_bad = tool.run_as::<Greeting>(json!({})).await.expect("Ok");
    assert_eq!(typed_bad.output, None);

    let renamed = client
        .tools()
        .update(&tool.id)
        .title("Hello")
        .send()
        .await
        .expect("updated");
    assert_eq!(renamed.title.as_deref(), Some("Hello"));
    assert_eq!(renamed.description.as_deref(), Some("Says hello"));

    let copy = client.tools().clone(&tool.id).await.expect("cloned");
    assert_ne!(copy.id, tool.id);
    assert_eq!(copy.title.as_deref(), Some("Hello"));
    client.tools().delete(&tool.id).await.expect("deleted");
    let gone = client.tools().get(&tool.id).await;
    assert!(matches!(gone, Err(Error::NotFound { .. })), "{gone:?}");
    assert!(client.tools().get(&copy.id).await.is_ok(), "the copy stays");
    t.stop().await;
}

#[tokio::test]
async fn an_agent_made_by_the_api_uses_the_tool_then_goes_public_and_is_deleted() {
    let t = TestEmulator::start_with(SEED).await;
    let client = api_client(&t);
    let tool = client
        .tools()
        .create()
        .title("Weather")
        .params_schema(
            json!({"type": "object", "properties": {"city": {"type": "string"}},
                              "required": ["city"]}),
        )
        .emulator_behavior(json!({"output": {"forecast": "sunny in {city}"}}))
        .send()
        .await
        .expect("tool");
    let agent = client
        .agents()
        .create(
            AgentDefinition::new()
                .name("Forecaster")
                .system_prompt("Be brief")
                .emulator_tools([tool.id.clone()])
                .emulator_behavior(json!({"script": [
                    {"tool": tool.id, "input": {"city": "{message}"}, "delay_ms": 0},
                    {"sub_agent": "helper", "message": "thanks", "delay_ms": 0},
                    {"reply": "done", "delay_ms": 0}]})),
        )
        .await
        .expect("agent");
    assert_eq!(agent.name.as_deref(), Some("Forecaster"));
    assert!(!agent.public);
    let tools: Vec<String> = agent
        .tools()
        .await
        .expect("tools")
        .into_iter()
        .map(|t| t.into_data().id)
        .collect();
    assert_eq!(tools, std::slice::from_ref(&tool.id));
    let subs: Vec<String> = agent
        .sub_agents()
        .await
        .expect("sub-agents")
        .into_iter()
        .map(|t| t.into_data().id)
        .collect();
    assert_eq!(subs, ["helper"]);

    let mut task = agent.send_message("Lima").await.expect("chat");
    settle(&mut task).await;
    let messages = task.messages().await.expect("messages");
    let run = messages
        .iter()
        .find_map(|message| match &message.content {
            MessageContent::ToolRun(run) if run.tool_id.as_deref() == Some(tool.id.as_str()) => {
                Some(run.clone())
            }
            _ => None,
        })
        .expect("the tool's run");
    let direct = tool.run(json!({"city": "Lima"})).await.expect("direct run");
    assert_eq!(run.output(), direct.output.as_ref());

    let public = client
        .agents()
        .upsert(&agent.id, AgentDefinition::new().public(true))
        .await
        .expect("made public");
    assert!(public.public);
    assert_eq!(public.name.as_deref(), Some("Forecaster"));
    let embed = Key::generate_embed_key(
        EmbedKeyOptions::agent(Region::US, "proj-tools", agent.id.clone())
            .base_url(t.base_url.clone()),
    )
    .await
    .expect("embed key");
    let visitor = t.client(embed);
    visitor
        .agents()
        .get(&agent.id)
        .await
        .expect("the visitor reads it");
    client.agents().delete(&agent.id).await.expect("deleted");
    let refused = visitor.agents().get(&agent.id).await;
    assert!(
        matches!(refused, Err(Error::Unauthorized { .. })),
        "{refused:?}"
    );
    let gone = client.agents().get(&agent.id).await;
    assert!(matches!(gone, Err(Error::NotFound { .. })), "{gone:?}");
    t.stop().await;
}
