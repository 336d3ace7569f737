//! `relevance mcp` driven by rmcp's own client over stdio (the built binary as a child
//! process, as a host starts it): an agent's work arrives as progress notifications, and a
//! run that stops for a person's approval is answered as such, decided with
//! `decide_tool_run`, and followed to the reply. A workforce's embed key reaches its
//! workforce through the same tools, by the workforce's id as `agent_id`.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::binary::relevance;
use common::TestEmulator;
use rmcp::model::{CallToolRequestParams, CallToolResult, ProgressNotificationParam};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{json, Value};
use tokio::sync::Notify;

const API_KEY: &str = "sk-test-mcp-rust-0001-aaaaaaaaaaaaaa";

const SEED: &str = r#"
[[projects]]
id = "proj-mcp"
region = "us"
api_keys = ["sk-test-mcp-rust-0001-aaaaaaaaaaaaaa"]

[[projects.agents]]
id = "researcher"
name = "Researcher"
public = true
use_streaming = true
behavior = "script"
script = [
  { think = "The user asked: {message}.", delay_ms = 5 },
  { tool = "web_search", input = { query = "{message}" }, output = { results = [] }, delay_ms = 5 },
  { type = "Found nothing about {message}.", delay_ms = 5 },
]

[[projects.agents]]
id = "mailer"
name = "Mailer"
public = true
behavior = "script"
script = [
  { reply = "drafted {message}", delay_ms = 1 },
  { tool = "send_email", requires_confirmation = true, input = { to = "team@example.com", subject = "{message}" }, delay_ms = 1 },
  { reply = "after the e-mail", delay_ms = 1 },
]

# A workforce of two: triage greets and hands the question over; the solver answers.
[[projects.agents]]
id = "triage"
name = "Triage"
behavior = "script"
end_state = "completed"
script = [
  { reply = "Passing {message} on.", delay_ms = 1 },
  { handover = "solver", message = "{message}", delay_ms = 1 },
]

[[projects.agents]]
id = "solver"
name = "Solver"
behavior = "script"
end_state = "completed"
script = [
  { reply = "Solved: {message}.", delay_ms = 1 },
]

[[projects.workforces]]
id = "desk"
name = "Help desk"
agents = ["triage", "solver"]

# A workforce whose one member asks before it sends an e-mail.
[[projects.workforces]]
id = "mail-desk"
name = "Mail desk"
agents = ["mailer"]
"#;

/// The host side: records every progress notification and wakes whoever waits for one.
#[derive(Clone, Default)]
struct Host {
    progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
    arrived: Arc<Notify>,
}

impl ClientHandler for Host {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.progress.lock().unwrap().push(params);
        self.arrived.notify_waiters();
    }
}

impl Host {
    /// The messages of the progress received so far.
    fn messages(&self) -> Vec<String> {
        let progress = self.progress.lock().unwrap();
        progress.iter().filter_map(|p| p.message.clone()).collect()
    }

    /// Waits until a progress message contains `text` (notifications are handled apart
    /// from the result, so one may land just after it); the bound only stops a test that
    /// would otherwise hang.
    async fn wait_for_message(&self, text: &str) -> Vec<String> {
        let seen = async {
            loop {
                let arrived = self.arrived.notified();
                if self.messages().iter().any(|m| m.contains(text)) {
                    return;
                }
                arrived.await;
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(30), seen).await;
        self.messages()
    }
}

/// `relevance mcp` with the API key, started as a host starts it.
async fn start(t: &TestEmulator, host: Host) -> RunningService<RoleClient, Host> {
    let credentials = [
        "--api-key",
        API_KEY,
        "--project",
        "proj-mcp",
        "--region",
        "us",
        "--base-url",
        &t.base_url,
    ];
    start_with(&credentials, host).await
}

/// `relevance mcp` with `credentials` (none: the embedded demo).
async fn start_with(credentials: &[&str], host: Host) -> RunningService<RoleClient, Host> {
    let mut command = relevance();
    command.arg("mcp").args(credentials);
    let transport = TokioChildProcess::new(command).expect("start relevance mcp");
    host.serve(transport).await.expect("initialize")
}

/// Calls `name` with `arguments` and answers the result.
async fn call(
    client: &RunningService<RoleClient, Host>,
    name: &'static str,
    arguments: Value,
) -> CallToolResult {
    let arguments = arguments.as_object().cloned().unwrap_or_default();
    client
        .call_tool(CallToolRequestParams::new(name).with_arguments(arguments))
        .await
        .unwrap_or_else(|error| panic!("{name}: {error}"))
}

/// The result's text.
fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|content| content.as_text().map(|text| text.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn an_agents_work_arrives_as_progress_while_ask_agent_waits() {
    let t = TestEmulator::start_with(SEED).await;
    let host = Host::default();
    let client = start(&t, host.clone()).await;
    let result = call(
        &client,
        "ask_agent",
        json!({"agent_id": "researcher", "message": "rust"}),
    )
    .await;
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    assert!(
        text(&result).contains("Found nothing about rust."),
        "{}",
        text(&result)
    );
    let structured = result.structured_content.clone().unwrap();
    assert_eq!(structured["reply"], "Found nothing about rust.");
    assert!(structured["task_id"]
        .as_str()
        .is_some_and(|id| !id.is_empty()));

    let messages = host.wait_for_message("web_search finished").await;
    assert_eq!(
        messages.first().map(String::as_str),
        Some("message sent"),
        "{messages:?}"
    );
    // What the live events show (thinking, typing) depends on how fast the run is; every
    // tool run is told whatever the timing (from the task's messages once the job ends).
    assert!(
        messages.iter().any(|m| m == "tool web_search finished"),
        "no progress for the tool run: {messages:?}"
    );
    let unique: std::collections::HashSet<_> = messages.iter().collect();
    assert_eq!(unique.len(), messages.len(), "each step once: {messages:?}");
    let progress = host.progress.lock().unwrap().clone();
    assert!(
        progress
            .windows(2)
            .all(|pair| pair[0].progress < pair[1].progress
                && pair[0].progress_token == pair[1].progress_token),
        "progress grows under one token: {progress:?}"
    );
    client.cancel().await.expect("close");
}

/// An embed key for the mailer, saved by `relevance embed-key`; answers its file.
async fn embed_key_file(t: &TestEmulator) -> String {
    saved_embed_key(t, "--agent", "mailer").await
}

/// An embed key for `target` (`--agent` or `--workforce`) `id`, saved by `relevance
/// embed-key`; answers its file.
async fn saved_embed_key(t: &TestEmulator, target: &str, id: &str) -> String {
    let file = t
        .path(&format!("{id}-key.json"))
        .to_str()
        .unwrap()
        .to_string();
    let made = common::binary::run(&[
        "embed-key",
        target,
        id,
        "--project",
        "proj-mcp",
        "--region",
        "us",
        "--base-url",
        &t.base_url,
        "--save",
        &file,
    ])
    .await;
    assert!(
        made.status.success(),
        "{}",
        common::binary::text(&made.stderr)
    );
    file
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_waiting_for_approval_is_answered_then_decided_to_its_reply() {
    let t = TestEmulator::start_with(SEED).await;
    // An API key waits on the run's job; an embed key (no jobs) follows the live events.
    let with_api_key = start(&t, Host::default()).await;
    let file = embed_key_file(&t).await;
    let embed = [
        "--key-file",
        file.as_str(),
        "--base-url",
        t.base_url.as_str(),
    ];
    let with_embed_key = start_with(&embed, Host::default()).await;
    for client in [with_api_key, with_embed_key] {
        decide_both_ways(&client).await;
        client.cancel().await.expect("close");
    }
}

/// Asks the mailer twice: approves the first waiting run, rejects the second.
async fn decide_both_ways(client: &RunningService<RoleClient, Host>) {
    // Each decision, and what the tool run became.
    let cases = [(true, "completed"), (false, "cancelled")];
    for (approve, status) in cases {
        let asked = call(
            client,
            "ask_agent",
            json!({"agent_id": "mailer", "message": "launch"}),
        )
        .await;
        assert_eq!(asked.is_error, Some(false), "{}", text(&asked));
        let waiting = asked.structured_content.clone().unwrap();
        assert_eq!(waiting["waiting_for_approval"], true, "{waiting}");
        assert_eq!(waiting["tool"]["label"], "send_email", "{waiting}");
        assert_eq!(
            waiting["params"],
            json!({"to": "team@example.com", "subject": "launch"})
        );
        assert!(text(&asked).contains("decide_tool_run"), "{}", text(&asked));
        let task_id = waiting["task_id"].as_str().unwrap().to_string();

        let decided = call(
            client,
            "decide_tool_run",
            json!({"agent_id": "mailer", "task_id": task_id, "approve": approve}),
        )
        .await;
        assert_eq!(decided.is_error, Some(false), "{}", text(&decided));
        let reply = decided.structured_content.clone().unwrap();
        assert_eq!(
            reply["reply"], "after the e-mail",
            "approve {approve}: {reply}"
        );
        assert_eq!(reply["task_id"], task_id.as_str());

        let read = call(
            client,
            "read_task",
            json!({"agent_id": "mailer", "task_id": task_id}),
        )
        .await;
        let messages = read.structured_content.unwrap()["messages"].clone();
        let last_run = messages
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .find(|m| m["type"] == "tool-run")
            .cloned()
            .unwrap();
        assert_eq!(
            last_run["content"]["status"], status,
            "approve {approve}: {last_run}"
        );

        let again = call(
            client,
            "decide_tool_run",
            json!({"agent_id": "mailer", "task_id": task_id, "approve": approve}),
        )
        .await;
        assert_eq!(again.is_error, Some(true), "nothing waits any more");
        assert!(
            text(&again).contains("no tool run waits"),
            "{}",
            text(&again)
        );
    }
}

#[tokio::test]
async fn with_no_credentials_the_embedded_demo_answers() {
    let client = start_with(&[], Host::default()).await;
    let listed = call(&client, "list_agents", json!({})).await;
    assert_eq!(listed.is_error, Some(false), "{}", text(&listed));
    assert!(
        text(&listed).contains("demo-researcher"),
        "{}",
        text(&listed)
    );
    let asked = call(
        &client,
        "ask_agent",
        json!({"agent_id": "demo-agent", "message": "hello"}),
    )
    .await;
    assert_eq!(asked.is_error, Some(false), "{}", text(&asked));
    assert!(text(&asked).contains("hello"), "{}", text(&asked));
    client.cancel().await.expect("close");
}

/// `relevance mcp` with a workforce's embed key saved for `workforce`; answers the session
/// and the key's secret (which no result may hold).
async fn start_with_workforce_key(
    t: &TestEmulator,
    workforce: &str,
) -> (RunningService<RoleClient, Host>, String) {
    let file = saved_embed_key(t, "--workforce", workforce).await;
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let secret = saved["key"]
        .as_str()
        .expect("the saved key's value")
        .to_string();
    let credentials = [
        "--key-file",
        file.as_str(),
        "--base-url",
        t.base_url.as_str(),
    ];
    (start_with(&credentials, Host::default()).await, secret)
}

/// The result as the host reads it: its text and its structured content.
fn seen(result: &CallToolResult) -> String {
    format!("{} {:?}", text(result), result.structured_content)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_workforce_key_reaches_its_workforce_through_the_agent_tools() {
    let t = TestEmulator::start_with(SEED).await;
    let (client, secret) = start_with_workforce_key(&t, "desk").await;
    let mut results = Vec::new();

    let listed = call(&client, "list_agents", json!({})).await;
    assert_eq!(listed.is_error, Some(false), "{}", text(&listed));
    let agents = listed.structured_content.clone().unwrap()["agents"].clone();
    assert_eq!(
        agents,
        json!([{"id": "desk", "name": "Help desk", "description": null, "kind": "workforce"}])
    );
    assert!(text(&listed).contains("a workforce"), "{}", text(&listed));
    results.push(listed);

    // The last member's reply is the answer; the first member's greeting is not.
    let asked = call(
        &client,
        "ask_agent",
        json!({"agent_id": "desk", "message": "printer"}),
    )
    .await;
    assert_eq!(asked.is_error, Some(false), "{}", text(&asked));
    let answer = asked.structured_content.clone().unwrap();
    assert_eq!(answer["reply"], "Solved: printer.", "{answer}");
    assert_eq!(answer["waiting_for_approval"], false, "{answer}");
    let task_id = answer["task_id"].as_str().unwrap().to_string();
    assert!(text(&asked).contains(&task_id), "{}", text(&asked));
    results.push(asked);

    // Continuing the task answers the new run's reply, in the same task.
    let again = call(
        &client,
        "ask_agent",
        json!({"agent_id": "desk", "message": "scanner", "task_id": task_id}),
    )
    .await;
    assert_eq!(again.is_error, Some(false), "{}", text(&again));
    let answer = again.structured_content.clone().unwrap();
    assert_eq!(answer["reply"], "Solved: scanner.", "{answer}");
    assert_eq!(answer["task_id"], task_id.as_str());
    results.push(again);

    results.extend(read_and_list(&client, &task_id).await);
    results.extend(refusals(&client, &task_id).await);
    for result in &results {
        assert!(
            !seen(result).contains(&secret),
            "the key leaked: {}",
            seen(result)
        );
    }
    client.cancel().await.expect("close");
}

/// `read_task` shows both runs' messages as text; `list_tasks` lists the one task.
async fn read_and_list(
    client: &RunningService<RoleClient, Host>,
    task_id: &str,
) -> Vec<CallToolResult> {
    let read = call(
        client,
        "read_task",
        json!({"agent_id": "desk", "task_id": task_id}),
    )
    .await;
    assert_eq!(read.is_error, Some(false), "{}", text(&read));
    let shown = text(&read);
    let mut at = 0;
    for line in [
        "printer",
        "Passing printer on.",
        "Solved: printer.",
        "scanner",
        "Solved: scanner.",
    ] {
        let found = shown[at..].find(line);
        assert!(found.is_some(), "{line:?} in order in:\n{shown}");
        at += found.unwrap() + line.len();
    }
    let messages = read.structured_content.clone().unwrap()["messages"].clone();
    assert!(
        messages
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["type"] == "workforce-agent-handover"),
        "{messages}"
    );

    let listed = call(client, "list_tasks", json!({"agent_id": "desk"})).await;
    assert_eq!(listed.is_error, Some(false), "{}", text(&listed));
    let tasks = listed.structured_content.clone().unwrap()["tasks"].clone();
    let ids: Vec<&str> = tasks
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|task| task["id"].as_str())
        .collect();
    assert_eq!(ids, [task_id], "{tasks}");
    assert_eq!(tasks[0]["status"], "completed", "{tasks}");
    vec![read, listed]
}

/// Another id is an unknown agent for every tool; the workforce's task has no tool run for
/// decide_tool_run to decide, which it says.
async fn refusals(client: &RunningService<RoleClient, Host>, task_id: &str) -> Vec<CallToolResult> {
    let mut results = Vec::new();
    let calls = [
        ("ask_agent", json!({"agent_id": "solver", "message": "hi"})),
        ("list_tasks", json!({"agent_id": "triage"})),
        (
            "read_task",
            json!({"agent_id": "mail-desk", "task_id": task_id}),
        ),
        (
            "decide_tool_run",
            json!({"agent_id": "solver", "task_id": task_id, "approve": true}),
        ),
    ];
    for (name, arguments) in calls {
        let refused = call(client, name, arguments).await;
        assert_eq!(refused.is_error, Some(true), "{name}: {}", text(&refused));
        assert!(
            text(&refused).contains("unknown agent") && text(&refused).contains("workforce desk"),
            "{name}: {}",
            text(&refused)
        );
        results.push(refused);
    }
    let unknown_task = call(
        client,
        "read_task",
        json!({"agent_id": "desk", "task_id": "no-such-task"}),
    )
    .await;
    assert_eq!(unknown_task.is_error, Some(true), "{}", text(&unknown_task));
    assert!(
        text(&unknown_task).contains("unknown task"),
        "{}",
        text(&unknown_task)
    );
    results.push(unknown_task);
    results
}

#[tokio::test(flavor = "multi_thread")]
async fn a_workforce_members_waiting_tool_run_is_answered_and_said_to_be_undecidable_here() {
    let t = TestEmulator::start_with(SEED).await;
    let (client, secret) = start_with_workforce_key(&t, "mail-desk").await;
    let asked = call(
        &client,
        "ask_agent",
        json!({"agent_id": "mail-desk", "message": "launch"}),
    )
    .await;
    assert_eq!(asked.is_error, Some(false), "{}", text(&asked));
    let waiting = asked.structured_content.clone().unwrap();
    assert_eq!(waiting["waiting_for_approval"], true, "{waiting}");
    assert_eq!(waiting["decidable_here"], false, "{waiting}");
    assert_eq!(waiting["tool"]["label"], "send_email", "{waiting}");
    assert_eq!(waiting["member"]["agent_id"], "mailer", "{waiting}");
    assert_eq!(waiting["reply"], "drafted launch", "{waiting}");
    assert!(text(&asked).contains("cannot decide"), "{}", text(&asked));
    let task_id = waiting["task_id"].as_str().unwrap().to_string();

    let decided = call(
        &client,
        "decide_tool_run",
        json!({"agent_id": "mail-desk", "task_id": task_id, "approve": true}),
    )
    .await;
    assert_eq!(decided.is_error, Some(true), "{}", text(&decided));
    assert!(
        text(&decided).contains("cannot decide") && text(&decided).contains(&task_id),
        "{}",
        text(&decided)
    );
    // Nothing was decided: the member's run still waits.
    let read = call(
        &client,
        "read_task",
        json!({"agent_id": "mail-desk", "task_id": task_id}),
    )
    .await;
    let messages = read.structured_content.clone().unwrap()["messages"].clone();
    let run = messages
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["type"] == "tool-run")
        .cloned()
        .unwrap();
    assert_eq!(run["content"]["status"], "pending", "{run}");
    for result in [&asked, &decided, &read] {
        assert!(
            !seen(result).contains(&secret),
            "the key leaked: {}",
            seen(result)
        );
    }
    client.cancel().await.expect("close");
}
