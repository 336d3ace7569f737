//! Workforces through the SDK: a handover conversation, cursor paging over many tasks while
//! more arrive, the execution limit, and workforce embed keys.
#![cfg(not(target_family = "wasm"))]

use std::collections::HashSet;

use futures_util::StreamExt;
use relevance::{
    Client, EmbedKeyOptions, Error, Key, MessageContent, Region, TaskStatus,
    WorkforceTaskListOptions,
};
use relevance_testkit::{settle, TestEmulator};

const SEED: &str = r#"
[[projects]]
id = "proj-w"
region = "us"
api_keys = ["sk-test-workforce-0001-wwwwwwwwwwwwwww"]

[[projects.agents]]
id = "triage"
use_streaming = true
name = "Triage"
public = true
behavior = "script"
script = [
  { reply = "Let me find the right colleague." },
  { handover = "researcher", message = "please research: {message}" },
]

[[projects.agents]]
id = "researcher"
use_streaming = true
name = "Researcher"
public = true
behavior = "script"
script = [
  { tool = "search", input = { q = "{message}" }, output = { hits = 1 } },
  { reply = "Research done for {message}" },
]

[[projects.agents]]
id = "ping"
use_streaming = true
public = true
behavior = "script"
script = [ { handover = "pong", message = "ping" } ]

[[projects.agents]]
id = "pong"
use_streaming = true
public = true
behavior = "script"
script = [ { handover = "ping", message = "pong" } ]

[[projects.workforces]]
id = "support"
name = "Support team"
agents = ["triage", "researcher"]

[[projects.workforces]]
id = "loop"
agents = ["ping", "pong"]
execution_limit = 4

[[projects.workforces]]
id = "quick"
agents = ["researcher"]
"#;

fn client(t: &TestEmulator) -> Client {
    t.client(
        Key::new(
            "sk-test-workforce-0001-wwwwwwwwwwwwwww",
            Region::US,
            "proj-w",
        )
        .unwrap(),
    )
}

fn describe(message: &relevance::Message) -> String {
    match &message.content {
        MessageContent::User(user) => format!("user:{}", user.text),
        MessageContent::Agent(agent) => format!("agent:{}", agent.text),
        MessageContent::ToolRun(_) => "tool".into(),
        MessageContent::WorkforceAgentRun(run) => format!(
            "run:{}:{}",
            run.agent
                .as_ref()
                .map(|a| a.agent_id.as_str())
                .unwrap_or("?"),
            run.task.finished_state.as_deref().unwrap_or("-")
        ),
        MessageContent::WorkforceAgentHandover(handover) => {
            format!("handover:{}", handover.agent.agent_id)
        }
        MessageContent::AgentError(_) => "error".into(),
        _ => "other".into(),
    }
}

#[tokio::test]
async fn a_handover_conversation_runs_both_agents_in_order() {
    let t = TestEmulator::start_with(SEED).await;
    let workforce = client(&t).workforces().get("support").await.unwrap();
    assert_eq!(workforce.name.as_deref(), Some("Support team"));
    let mut task = workforce.send_message("rust").await.unwrap();
    assert_eq!(task.workforce_id(), Some("support"));
    settle(&mut task).await;
    assert_eq!(task.status, TaskStatus::Completed);
    let messages = task.messages().await.unwrap();
    let seen: Vec<String> = messages.iter().map(describe).collect();
    assert_eq!(
        seen,
        [
            "user:rust",
            "run:triage:idle",
            "agent:Let me find the right colleague.",
            "handover:researcher",
            "run:researcher:idle",
            "tool",
            "agent:Research done for please research: rust",
        ]
    );
    // The run message points at the member's own agent task, readable with the API key.
    let MessageContent::WorkforceAgentRun(run) = &messages[1].content else {
        unreachable!()
    };
    let member_task = run.task.conversation_id.as_deref().unwrap();
    let member = client(&t)
        .agents()
        .get("triage")
        .await
        .unwrap()
        .get_task(member_task)
        .await
        .unwrap();
    assert_eq!(
        member.messages().await.unwrap().len(),
        2,
        "the member's own task: its message and reply"
    );

    // Continue the workforce task.
    let mut task = workforce.send_message_in(&task, "more").await.unwrap();
    settle(&mut task).await;
    assert_eq!(
        task.messages()
            .await
            .unwrap()
            .iter()
            .filter(|m| describe(m) == "user:more")
            .count(),
        1
    );
}

#[tokio::test]
async fn the_events_stream_follows_a_workforce_task() {
    let t = TestEmulator::start_with(SEED).await;
    let workforce = client(&t).workforces().get("support").await.unwrap();
    let task = workforce.send_message("stream me").await.unwrap();
    let mut events = task.events();
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|s: &String| s.starts_with("agent:Research done"))
    {
        if let relevance::TaskEvent::Message(message) = events.next().await.unwrap().unwrap() {
            seen.push(describe(&message));
        }
    }
    let finals: Vec<_> = seen
        .iter()
        .filter(|s| s.starts_with("agent:") || s.starts_with("user:"))
        .collect();
    assert_eq!(
        finals,
        [
            "user:stream me",
            "agent:Let me find the right colleague.",
            "agent:Research done for please research: stream me"
        ]
    );
    assert!(seen.iter().any(|s| s == "handover:researcher"), "{seen:?}");
}

#[tokio::test]
async fn the_execution_limit_ends_in_an_error_status() {
    let t = TestEmulator::start_with(SEED).await;
    let workforce = client(&t).workforces().get("loop").await.unwrap();
    let mut task = workforce.send_message("go").await.unwrap();
    settle(&mut task).await;
    assert_eq!(task.state, "execution-limit-reached");
    assert_eq!(task.status, TaskStatus::Error);
    let runs = task
        .messages()
        .await
        .unwrap()
        .iter()
        .filter(|m| describe(m).starts_with("run:"))
        .count();
    assert_eq!(runs, 4);
}

#[tokio::test]
async fn paging_with_the_cursor_sees_every_task_once_while_more_arrive() {
    let t = TestEmulator::start_with(SEED).await;
    let workforce = client(&t).workforces().get("quick").await.unwrap();
    let mut created = Vec::new();
    for i in 0..250 {
        created.push(
            workforce
                .send_message(format!("task {i}"))
                .await
                .unwrap()
                .into_data()
                .id,
        );
    }
    // Page by hand, adding tasks between pages: none skipped, none repeated.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = workforce
            .tasks(WorkforceTaskListOptions {
                page_size: Some(40),
                cursor: cursor.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        seen.extend(page.items.into_iter().map(|t| t.into_data().id));
        workforce.send_message("added while paging").await.unwrap();
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a task was listed twice");
    let mut expected = created.clone();
    expected.reverse();
    assert_eq!(
        seen, expected,
        "newest first, every task that existed when paging began, once"
    );

    // The stream over every page agrees with a search that matches all of them.
    let streamed: Vec<String> = workforce
        .all_tasks(WorkforceTaskListOptions {
            page_size: Some(100),
            search: Some("TASK".into()),
            ..Default::default()
        })
        .map(|t| t.unwrap().into_data().id)
        .collect()
        .await;
    assert_eq!(streamed.len(), 250);
}

#[tokio::test]
async fn a_workforce_embed_key_sees_only_its_own_tasks() {
    let t = TestEmulator::start_with(SEED).await;
    let key = |t: &TestEmulator| {
        Key::generate_embed_key(
            EmbedKeyOptions::workforce(Region::US, "proj-w", "quick").base_url(t.base_url.clone()),
        )
    };
    let alice = t.client(key(&t).await.unwrap());
    let bob = t.client(key(&t).await.unwrap());
    let alice_wf = alice.workforces().get("quick").await.unwrap();
    let bob_wf = bob.workforces().get("quick").await.unwrap();
    let mut task = alice_wf.send_message("alice").await.unwrap();
    assert!(task
        .id
        .starts_with(&format!("{}_-_", alice.key().task_prefix().unwrap())));
    settle(&mut task).await;
    bob_wf.send_message("bob").await.unwrap();

    let alice_list = alice_wf
        .tasks(WorkforceTaskListOptions::default())
        .await
        .unwrap();
    assert_eq!(
        alice_list
            .items
            .iter()
            .map(|t| t.id.as_str())
            .collect::<Vec<_>>(),
        [task.id.as_str()]
    );
    let error = bob_wf.get_task(&task.id).await.unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
    let error = bob_wf.send_message_in(&task, "hijack").await.unwrap_err();
    // The same 400 as for an id that exists nowhere (PROTOCOL C): no existence oracle.
    assert!(matches!(error, Error::BadRequest { .. }), "{error:?}");
    let error = alice.workforces().get("support").await.unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
}
