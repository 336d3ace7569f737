//! `task.events()` against the emulator: every final message exactly once, in order, tool runs
//! once per status, generating replies held back, and dropping the stream stops all requests.
#![cfg(not(target_family = "wasm"))]

use futures_util::StreamExt;
use relevance::{Client, Key, MessageContent, Region, TaskEvent, TaskStatus, ToolStatus};
use relevance_testkit::TestEmulator;

const SEED: &str = r#"
[[projects]]
id = "proj-e"
region = "us"
api_keys = ["sk-test-events-0001-eeeeeeeeeeeeeeee"]

[[projects.agents]]
id = "echo"
use_streaming = true
public = true
behavior = "echo"

[[projects.agents]]
id = "researcher"
use_streaming = true
public = true
behavior = "script"
end_state = "completed"
script = [
  { think = "Looking into {message}" },
  { tool = "search", input = { q = "{message}" }, output = { hits = 3 } },
  { tool = "fetch", input = { url = "x" }, error = "timed out", delay_ms = 30 },
  { type = "Found 3 results for {message}. This reply is typed in many small chunks so that it is generating for a while." },
]

[[projects.agents]]
id = "silent"
public = true
behavior = "script"
end_state = "completed"
script = [
  { tool = "search", input = { q = "{message}" }, output = { hits = 1 } },
  { type = "Typed with no live stream: {message}." },
]
"#;

fn client(t: &TestEmulator) -> Client {
    t.client(Key::new("sk-test-events-0001-eeeeeeeeeeeeeeee", Region::US, "proj-e").unwrap())
}

/// What a stream said, in a form that is easy to compare.
fn describe(event: &TaskEvent) -> Option<String> {
    match event {
        TaskEvent::Message(message) => Some(match &message.content {
            MessageContent::User(user) => format!("user:{}", user.text),
            MessageContent::Agent(agent) => {
                assert!(!agent.generating, "a generating reply must be held back");
                format!("agent:{}", agent.text)
            }
            MessageContent::ToolRun(run) => format!(
                "tool:{}:{}",
                run.title
                    .as_deref()
                    .or(run.tool_id.as_deref())
                    .unwrap_or("?"),
                match run.status {
                    ToolStatus::Pending => "pending",
                    ToolStatus::Running => "running",
                    ToolStatus::Completed => "completed",
                    ToolStatus::Error => "error",
                    _ => "other",
                }
            ),
            MessageContent::AgentError(error) => {
                format!("error:{}", error.last_error().unwrap_or(""))
            }
            _ => "other".into(),
        }),
        _ => None,
    }
}

/// Reads events until the task's run is over and its final reply arrived.
async fn collect_turn(events: &mut relevance::TaskEvents, final_prefix: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut finished = false;
    let mut replied = false;
    while !(finished && replied) {
        let event = events
            .next()
            .await
            .expect("the stream does not end")
            .expect("no error");
        if let TaskEvent::Updated { status, .. } = &event {
            finished = !status.is_running() && *status != TaskStatus::NotStarted;
        }
        if let Some(text) = describe(&event) {
            replied |= text.starts_with(final_prefix);
            seen.push(text);
        }
    }
    seen
}

#[tokio::test]
async fn a_scripted_conversation_arrives_exactly_once_and_in_order() {
    let t = TestEmulator::start_with(SEED).await;
    let agent = client(&t).agents().get("researcher").await.unwrap();
    let task = agent.send_message("rust").await.unwrap();
    let mut events = task.events();
    let seen = collect_turn(&mut events, "agent:").await;

    // Tool runs: each status once, in order; a status the poller did not catch may be missing,
    // but nothing repeats and nothing comes out of order.
    let final_messages: Vec<&String> = seen.iter().filter(|s| !s.starts_with("tool:")).collect();
    assert_eq!(
        final_messages,
        ["user:rust", "agent:Found 3 results for rust. This reply is typed in many small chunks so that it is generating for a while."]
    );
    for tool in ["tool:search:", "tool:fetch:"] {
        let statuses: Vec<&str> = seen.iter().filter_map(|s| s.strip_prefix(tool)).collect();
        let mut unique = statuses.clone();
        unique.dedup();
        assert_eq!(statuses, unique, "{tool} statuses repeat: {seen:?}");
        let order = ["pending", "running", "completed", "error"];
        let ranks: Vec<usize> = statuses
            .iter()
            .map(|s| order.iter().position(|o| o == s).unwrap())
            .collect();
        assert!(
            ranks.windows(2).all(|w| w[0] < w[1]),
            "{tool} out of order: {seen:?}"
        );
    }
    assert_eq!(
        seen.iter()
            .rfind(|s| s.starts_with("tool:search:"))
            .unwrap(),
        "tool:search:completed"
    );
    assert_eq!(
        seen.iter().rfind(|s| s.starts_with("tool:fetch:")).unwrap(),
        "tool:fetch:error"
    );
    // The user message comes first, the reply last.
    assert_eq!(seen.first().unwrap(), "user:rust");
}

#[tokio::test]
async fn a_follow_up_on_the_same_client_wakes_the_stream_and_nothing_repeats() {
    let t = TestEmulator::start_with(SEED).await;
    let agent = client(&t).agents().get("echo").await.unwrap();
    let task = agent.send_message("one").await.unwrap();
    let mut events = task.events();
    assert_eq!(
        collect_turn(&mut events, "agent:").await,
        ["user:one", "agent:You said: one"]
    );
    agent.message("two").in_task(&task).send().await.unwrap();
    assert_eq!(
        collect_turn(&mut events, "agent:You said: two").await,
        ["user:two", "agent:You said: two"]
    );

    // A second, independent stream over the same task replays the history once.
    let mut replay = task.events();
    let mut history = Vec::new();
    while history.len() < 4 {
        if let Some(text) = describe(&replay.next().await.unwrap().unwrap()) {
            history.push(text);
        }
    }
    assert_eq!(
        history,
        [
            "user:one",
            "agent:You said: one",
            "user:two",
            "agent:You said: two"
        ]
    );
}

#[tokio::test]
async fn a_run_that_never_streams_still_delivers_everything_once_and_in_order() {
    let t = TestEmulator::start_with(SEED).await;
    let agent = client(&t).agents().get("silent").await.unwrap();
    // No override: the agent's own setting (off) decides, so the live stream stays silent
    // and polling alone finds the tool run and the reply.
    let task = agent
        .message("quiet")
        .streaming(false)
        .send()
        .await
        .unwrap();
    let mut events = task.events();
    let mut typed = 0;
    let mut seen = Vec::new();
    let mut finished = false;
    while !(finished && seen.iter().any(|s: &String| s.starts_with("agent:"))) {
        let event = events.next().await.expect("no end").expect("no error");
        match &event {
            TaskEvent::Typing { .. } | TaskEvent::Thinking { .. } => typed += 1,
            TaskEvent::Updated { status, .. } => finished = !status.is_running(),
            _ => {}
        }
        if let Some(text) = describe(&event) {
            seen.push(text);
        }
    }
    assert_eq!(typed, 0, "the run did not stream");
    let finals: Vec<&String> = seen.iter().filter(|s| !s.starts_with("tool:")).collect();
    assert_eq!(
        finals,
        ["user:quiet", "agent:Typed with no live stream: quiet."]
    );
    let statuses: Vec<&String> = seen.iter().filter(|s| s.starts_with("tool:")).collect();
    let mut unique = statuses.clone();
    unique.dedup();
    assert_eq!(statuses, unique, "no tool status twice: {seen:?}");
    assert_eq!(statuses.last().unwrap().as_str(), "tool:search:completed");
}

#[tokio::test]
async fn events_since_a_time_skip_the_older_history() {
    let t = TestEmulator::start_with(SEED).await;
    let agent = client(&t).agents().get("echo").await.unwrap();
    let mut task = agent.send_message("old").await.unwrap();
    relevance_testkit::settle(&mut task).await;
    let messages = task.messages().await.unwrap();
    let reply_time = messages[1].inserted_at.unwrap();
    let mut events = task.events_since(reply_time);
    let mut seen = Vec::new();
    while seen.is_empty() {
        if let Some(text) = describe(&events.next().await.unwrap().unwrap()) {
            seen.push(text);
        }
    }
    assert_eq!(
        seen,
        ["agent:You said: old"],
        "the user message before the time is skipped"
    );
}

#[tokio::test]
async fn dropping_the_stream_stops_every_request_for_the_task() {
    let t = TestEmulator::start_with(SEED).await;
    let agent = client(&t).agents().get("echo").await.unwrap();
    let task = agent.send_message("hello").await.unwrap();
    let mut events = task.events();
    collect_turn(&mut events, "agent:").await;
    drop(events);

    let requests_for_task = || async {
        t.admin
            .requests()
            .await
            .iter()
            .filter(|r| r["path"].as_str().is_some_and(|p| p.contains(&task.id)))
            .count()
    };
    let after_drop = requests_for_task().await;
    // Long enough for a leaked poller (fast pace: every 100-250 ms) to show up several times.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        requests_for_task().await,
        after_drop,
        "a dropped stream kept polling"
    );
}

#[tokio::test]
async fn an_unknown_task_ends_the_stream_with_not_found() {
    let t = TestEmulator::start_with(SEED).await;
    let client = client(&t);
    let agent = client.agents().get("echo").await.unwrap();
    let mut task = agent.send_message("x").await.unwrap();
    task.id = "no-such-task".into();
    let mut events = task.events();
    let first = events.next().await.expect("one item");
    assert!(
        matches!(first, Err(relevance::Error::NotFound { .. })),
        "{first:?}"
    );
    assert!(
        events.next().await.is_none(),
        "the stream ends after a final error"
    );
}

/// Every request answers late (polls lag behind the live stream), and the agent runs a tool
/// between its thought and its typed reply.
const LAGGING_SEED: &str = r#"
[emulator.faults]
added_latency_ms = 150

[[projects]]
id = "proj-e"
region = "us"
api_keys = ["sk-test-events-0001-eeeeeeeeeeeeeeee"]

[[projects.agents]]
id = "researcher"
use_streaming = true
public = true
behavior = "script"
chunk_delay_ms = 10
script = [
  { think = "Looking into {message}", delay_ms = 800 },
  { tool = "search", input = { q = "{message}" }, output = { hits = 3 }, delay_ms = 50 },
  { type = "Found 3 results for {message}, typed in many small chunks, long after the search.", delay_ms = 50 },
]
"#;

#[tokio::test]
async fn a_tool_run_is_delivered_before_the_reply_typed_after_it_though_the_stream_is_ahead() {
    let t = TestEmulator::start_with(LAGGING_SEED).await;
    let agent = client(&t).agents().get("researcher").await.unwrap();
    let task = agent.send_message("rust").await.unwrap();
    let mut events = task.events();
    let mut seen = Vec::new();
    let mut finished = false;
    while !(finished && seen.iter().any(|s: &String| s.starts_with("agent:"))) {
        let event = events.next().await.expect("no end").expect("no error");
        if let TaskEvent::Updated { status, .. } = &event {
            finished = !status.is_running() && *status != TaskStatus::NotStarted;
        }
        match &event {
            TaskEvent::Typing { text, .. } => seen.push(format!("typing:{text}")),
            TaskEvent::Thinking { .. } => seen.push("thinking".into()),
            other => seen.extend(describe(other)),
        }
    }
    let completed = seen.iter().position(|s| s == "tool:search:completed");
    let first_typing = seen.iter().position(|s| s.starts_with("typing:"));
    let (Some(completed), Some(first_typing)) = (completed, first_typing) else {
        panic!("the run finished its tool and typed its reply live: {seen:?}");
    };
    assert!(
        completed < first_typing,
        "the tool run before the reply typed after it: {seen:?}"
    );
    let last_thought = seen.iter().rposition(|s| s == "thinking");
    assert!(
        last_thought.is_some_and(|at| at < completed),
        "the thought before the tool run it led to: {seen:?}"
    );
}
