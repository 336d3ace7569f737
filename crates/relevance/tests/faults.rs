//! Live events under faults: answers turned into 500s, 429s and dropped connections, live
//! streams cut every two seconds, short-lived streaming tokens. Every final message arrives
//! exactly once, in order; retried creates are never duplicated.
#![cfg(not(target_family = "wasm"))]

use std::time::Duration;

use futures_util::StreamExt;
use relevance::{
    Client, EmbedKeyOptions, Key, MessageContent, Region, RetryPolicy, TaskEvent, ToolStatus,
};
use relevance_testkit::TestEmulator;

const API_KEY: &str = "sk-test-faults-0001-ffffffffffffffff";

/// 20 % of API and stream answers faulted (all kinds), streams cut every 2 s.
const FAULTY_SEED: &str = r#"
[emulator.faults]
error_rate = 0.08
rate_limit_rate = 0.06
drop_rate = 0.06
stream_cut_every_ms = 2000
seed = 20261126

[[projects]]
id = "proj-f"
region = "us"
api_keys = ["sk-test-faults-0001-ffffffffffffffff"]

[[projects.agents]]
id = "worker"
use_streaming = true
public = true
behavior = "script"
chunk_delay_ms = 5
script = [
  { tool = "lookup", input = { q = "{message}" }, output = { found = true } },
  { type = "Answer to {message}" },
]
"#;

/// A patient client: faults are frequent here, so reads get many quick retries.
fn patient(t: &TestEmulator, key: Key) -> Client {
    Client::builder(key)
        .base_url(t.base_url.clone())
        .retries(RetryPolicy {
            max_attempts: 12,
            base: Duration::from_millis(20),
            cap: Duration::from_millis(400),
        })
        .build()
        .unwrap()
}

/// Making an embed key is a create the SDK does not retry blindly; a caller retries it.
async fn embed_key(t: &TestEmulator) -> Key {
    for _ in 0..50 {
        let options =
            EmbedKeyOptions::agent(Region::US, "proj-f", "worker").base_url(t.base_url.clone());
        if let Ok(key) = Key::generate_embed_key(options).await {
            return key;
        }
    }
    panic!("no embed key in 50 tries at a 20 % fault rate");
}

/// One conversation: send, then read events until the final reply; returns what was seen.
async fn conversation(agent: &relevance::Agent, text: String) -> (String, Vec<String>) {
    let task = agent
        .send_message(text.clone())
        .await
        .expect("a new task with a client-made id is retried safely");
    let mut events = task.events();
    let mut seen = Vec::new();
    loop {
        let event = events
            .next()
            .await
            .expect("the stream does not end")
            .expect("transient faults are retried");
        if let TaskEvent::Message(message) = event {
            let line = match &message.content {
                MessageContent::User(user) => format!("user:{}", user.text),
                MessageContent::Agent(reply) => format!("agent:{}", reply.text),
                MessageContent::ToolRun(run) => format!(
                    "tool:{}",
                    match run.status {
                        ToolStatus::Pending => "pending",
                        ToolStatus::Running => "running",
                        ToolStatus::Completed => "completed",
                        _ => "other",
                    }
                ),
                _ => "other".into(),
            };
            let done = line.starts_with("agent:");
            seen.push(line);
            if done {
                return (task.id.clone(), seen);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_hundred_conversations_under_faults_arrive_exactly_once() {
    let t = TestEmulator::start_with(FAULTY_SEED).await;
    let client = patient(&t, embed_key(&t).await);
    let agent = client.agents().get("worker").await.unwrap();

    let results: Vec<(String, Vec<String>)> = futures_util::stream::iter(0..300)
        .map(|i| {
            let agent = agent.clone();
            async move { conversation(&agent, format!("q{i}")).await }
        })
        .buffer_unordered(24)
        .collect()
        .await;

    for (task_id, seen) in &results {
        let text = seen[0]
            .strip_prefix("user:")
            .unwrap_or_else(|| panic!("{task_id}: starts with the user message: {seen:?}"));
        let finals: Vec<&String> = seen.iter().filter(|s| !s.starts_with("tool:")).collect();
        assert_eq!(
            finals,
            [&format!("user:{text}"), &format!("agent:Answer to {text}")],
            "{task_id}"
        );
        let tools: Vec<&String> = seen.iter().filter(|s| s.starts_with("tool:")).collect();
        let mut unique = tools.clone();
        unique.dedup();
        assert_eq!(tools, unique, "{task_id}: a tool status repeated: {seen:?}");
        assert_eq!(
            tools.last().map(|s| s.as_str()),
            Some("tool:completed"),
            "{task_id}: {seen:?}"
        );
    }

    // The platform side: every retried trigger created its task once, with one user message.
    let api = patient(&t, Key::new(API_KEY, Region::US, "proj-f").unwrap());
    let worker = api.agents().get("worker").await.unwrap();
    for (task_id, _) in &results {
        let messages = worker
            .get_task(task_id)
            .await
            .unwrap()
            .messages()
            .await
            .unwrap();
        let users = messages
            .iter()
            .filter(|m| matches!(m.content, MessageContent::User(_)))
            .count();
        assert_eq!(users, 1, "{task_id}: the trigger was duplicated");
    }
    let log = t.admin.requests().await;
    let faulted = log
        .iter()
        .filter(|r| [0, 429, 500].contains(&r["status"].as_u64().unwrap_or(1)))
        .count();
    println!(
        "faults: {faulted} of {} logged requests were faulted",
        log.len()
    );
    assert!(faulted > 100, "the faults really happened ({faulted})");
}

/// A 3-second token lifetime, a reply typed over about ten seconds: the typing arrives in order
/// across token refreshes and reconnects, and the final reply is whole.
const SLOW_TYPIST_SEED: &str = r#"
[emulator]
streaming_token_ttl_ms = 3000

[[projects]]
id = "proj-f"
region = "us"
api_keys = ["sk-test-faults-0001-ffffffffffffffff"]

[[projects.agents]]
id = "slow"
use_streaming = true
public = true
behavior = "script"
chunk_delay_ms = 200
script = [ { type = "This reply is typed slowly, eight characters every fifth of a second, so that it takes around ten seconds to finish typing -- long enough for the three second streaming token to expire several times over while the words are still arriving one chunk at a time. Done now, ok" } ]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_second_typing_stream_arrives_in_order_across_token_refreshes() {
    let t = TestEmulator::start_with(SLOW_TYPIST_SEED).await;
    let client = patient(&t, Key::new(API_KEY, Region::US, "proj-f").unwrap());
    let agent = client.agents().get("slow").await.unwrap();
    let task = agent.send_message("go").await.unwrap();
    let mut events = task.events();
    let mut typed = Vec::<(String, String)>::new();
    let final_text = loop {
        match events.next().await.unwrap().unwrap() {
            TaskEvent::Typing { delta, text, .. } => typed.push((delta, text)),
            TaskEvent::Message(message) => {
                if let MessageContent::Agent(reply) = message.content {
                    break reply.text;
                }
            }
            _ => {}
        }
    };
    // The SDK's text so far is its deltas added up, on every event.
    let mut so_far = String::new();
    for (delta, text) in &typed {
        so_far.push_str(delta);
        assert_eq!(text, &so_far);
    }
    // Each delta is a piece of the reply, in order, none twice; a reconnect may lose the few
    // typed while no connection was open (PROTOCOL A8), never more than a small part.
    let mut position = 0;
    let mut covered = 0;
    for (delta, _) in &typed {
        let found = final_text[position..]
            .find(delta.as_str())
            .unwrap_or_else(|| panic!("{delta:?} is not next in {final_text:?} after {position}"));
        position += found + delta.len();
        covered += delta.len();
    }
    assert!(
        covered * 10 >= final_text.len() * 9,
        "most of the reply was typed live: {covered} of {} bytes",
        final_text.len()
    );
    assert!(
        typed.len() >= 20,
        "tokens flowed for the whole reply, not just one connection: {}",
        typed.len()
    );
    let streams = t.admin.count("/v1/stream").await;
    assert!(
        streams >= 3,
        "the 3 s token was refreshed and the stream reopened ({streams} connections)"
    );
}

const QUIET_SEED: &str = r#"
[[projects]]
id = "proj-f"
region = "us"
api_keys = ["sk-test-faults-0001-ffffffffffffffff"]

[[projects.agents]]
id = "quiet"
use_streaming = true
public = true
behavior = "script"
script = [
  { tool = "lookup", input = {}, output = {} },
  { reply = "No tokens were streamed for this." },
]
"#;

#[tokio::test]
async fn a_task_whose_stream_never_sends_a_token_still_delivers_every_message() {
    let t = TestEmulator::start_with(QUIET_SEED).await;
    let client = patient(&t, Key::new(API_KEY, Region::US, "proj-f").unwrap());
    let task = client
        .agents()
        .get("quiet")
        .await
        .unwrap()
        .send_message("hello")
        .await
        .unwrap();
    let mut events = task.events();
    let mut finals = Vec::new();
    while finals.len() < 2 {
        match events.next().await.unwrap().unwrap() {
            TaskEvent::Typing { .. } | TaskEvent::Thinking { .. } => {
                panic!("this agent streams no tokens")
            }
            TaskEvent::Message(message) => match message.content {
                MessageContent::User(user) => finals.push(user.text),
                MessageContent::Agent(reply) => finals.push(reply.text),
                _ => {}
            },
            _ => {}
        }
    }
    assert_eq!(finals, ["hello", "No tokens were streamed for this."]);
}
