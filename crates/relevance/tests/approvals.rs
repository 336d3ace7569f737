//! A person in the loop through the SDK (PROTOCOL A10): the event stream asks once when a
//! tool run waits, and `approve`, `approve_with` and `reject` decide it against the emulator.

#![cfg(not(target_family = "wasm"))]

use futures_util::StreamExt;
use relevance::{
    Client, EmbedKeyOptions, Error, Key, MessageContent, Region, Task, TaskEvent, TaskStatus,
    ToolRun, ToolStatus,
};
use relevance_testkit::{settle, TestEmulator};
use serde_json::{json, Map, Value};

const API_KEY: &str = "sk-test-appr-0001-aaaaaaaaaaaaaaaaaa";

const SEED: &str = r#"
[[projects]]
id = "proj-m"
region = "us"
api_keys = ["sk-test-appr-0001-aaaaaaaaaaaaaaaaaa"]

[[projects.agents]]
id = "mailer"
public = true
behavior = "script"
script = [
  { tool = "send_email", requires_confirmation = true, input = { to = "team@example.com", subject = "{message}" }, delay_ms = 1 },
  { reply = "after the e-mail", delay_ms = 1 },
]
"#;

fn api_client(t: &TestEmulator) -> Client {
    t.client(Key::new(API_KEY, Region::US, "proj-m").unwrap())
}

async fn embed_client(t: &TestEmulator) -> Client {
    let key = Key::generate_embed_key(
        EmbedKeyOptions::agent(Region::US, "proj-m", "mailer").base_url(t.base_url.clone()),
    )
    .await
    .unwrap();
    t.client(key)
}

/// The task's tool runs, oldest first.
async fn tool_runs(task: &Task) -> Vec<ToolRun> {
    task.messages()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|message| match message.content {
            MessageContent::ToolRun(run) => Some(run),
            _ => None,
        })
        .collect()
}

/// A new task of `mailer` whose tool run waits; answers it and the waiting run.
async fn waiting(client: &Client, text: &str) -> (Task, ToolRun) {
    let agent = client.agents().get("mailer").await.unwrap();
    let mut task = agent.send_message(text).await.unwrap();
    settle(&mut task).await;
    assert_eq!(task.status, TaskStatus::Action, "{}", task.state);
    let run = tool_runs(&task).await.remove(0);
    assert!(run.needs_approval(), "{run:?}");
    (task, run)
}

#[tokio::test]
async fn the_event_stream_asks_once_and_an_approval_runs_the_tool() {
    let t = TestEmulator::start_with(SEED).await;
    let client = api_client(&t);
    let agent = client.agents().get("mailer").await.unwrap();
    let task = agent.send_message("launch").await.unwrap();
    let mut events = task.events();
    let mut asked = Vec::new();
    let mut finished = false;
    // Bounded: the run waits, is approved, finishes and the reply comes.
    for _ in 0..200 {
        let Some(event) = events.next().await else {
            break;
        };
        match event.unwrap() {
            TaskEvent::ApprovalNeeded(run) => {
                assert!(run.needs_approval());
                assert_eq!(run.tool_id.as_deref(), Some("send_email"));
                task.approve(&run).await.unwrap();
                asked.push(run);
            }
            TaskEvent::Message(message) => {
                if let MessageContent::Agent(reply) = &message.content {
                    assert_eq!(reply.text, "after the e-mail");
                    finished = true;
                    break;
                }
            }
            _ => {}
        }
    }
    assert!(finished, "the reply after the approved run arrived");
    assert_eq!(asked.len(), 1, "asked exactly once");
    let run = tool_runs(&task).await.remove(0);
    assert_eq!(run.status, ToolStatus::Completed);
    assert!(run.confirmation.as_ref().is_some_and(|c| c.confirmed));
    assert_eq!(
        run.output(),
        Some(&json!({"params": {"to": "team@example.com", "subject": "launch"}}))
    );
}

#[tokio::test]
async fn approve_with_overrides_params_and_reject_cancels() {
    let t = TestEmulator::start_with(SEED).await;
    let client = api_client(&t);
    let (mut task, run) = waiting(&client, "launch").await;
    let params: Map<String, Value> =
        serde_json::from_value(json!({"to": "boss@example.com"})).unwrap();
    task.approve_with(&run, params).await.unwrap();
    settle(&mut task).await;
    let done = tool_runs(&task).await.remove(0);
    assert_eq!(done.status, ToolStatus::Completed);
    assert_eq!(
        done.output(),
        Some(&json!({"params": {"to": "boss@example.com", "subject": "launch"}}))
    );

    let (mut task, run) = waiting(&client, "other").await;
    task.reject(&run).await.unwrap();
    settle(&mut task).await;
    assert_eq!(task.status, TaskStatus::Idle);
    let cancelled = tool_runs(&task).await.remove(0);
    assert_eq!(cancelled.status, ToolStatus::Cancelled);
    assert!(cancelled
        .confirmation
        .as_ref()
        .is_some_and(|c| !c.confirmed));
    assert_eq!(cancelled.output(), None);
}

#[tokio::test]
async fn deciding_on_a_run_that_does_not_wait_is_a_typed_error() {
    let t = TestEmulator::start_with(SEED).await;
    let client = api_client(&t);
    let (mut task, run) = waiting(&client, "launch").await;
    task.approve(&run).await.unwrap();
    settle(&mut task).await;
    // The old copy of the run still says pending: the server refuses it (400).
    match task.reject(&run).await {
        Err(Error::RunNotWaiting {
            action_request_id,
            message: Some(_),
        }) => {
            assert_eq!(
                Some(action_request_id.as_str()),
                run.action_details
                    .as_ref()
                    .map(|d| d.action_request_id.as_str())
            );
        }
        other => panic!("{other:?}"),
    }
    // The finished run is refused before any request.
    let finished = tool_runs(&task).await.remove(0);
    assert!(!finished.needs_approval());
    assert!(matches!(
        task.approve(&finished).await,
        Err(Error::RunNotWaiting { message: None, .. })
    ));
    assert_eq!(tool_runs(&task).await[0].status, ToolStatus::Completed);
}

#[tokio::test]
async fn an_embed_key_decides_in_its_own_task() {
    let t = TestEmulator::start_with(SEED).await;
    let mine = embed_client(&t).await;
    let (mut task, run) = waiting(&mine, "launch").await;
    let prefix = mine.key().task_prefix().unwrap().to_string();
    assert!(task.id.starts_with(&format!("{prefix}_-_")));
    task.approve(&run).await.unwrap();
    settle(&mut task).await;
    assert_eq!(tool_runs(&task).await[0].status, ToolStatus::Completed);
}
