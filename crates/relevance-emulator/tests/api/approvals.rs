//! A person in the loop (PROTOCOL A10): a tool run that waits for a decision, and the
//! `action-confirm` / `action-reject` triggers that decide it.

use relevance_emulator::{Config, SeedSource};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::support::{start, Running, US};

/// Project `proj-m` with an agent whose `send_email` waits for a person.
pub const APPROVAL_SEED: &str = r#"
[[projects]]
id = "proj-m"
region = "us"
api_keys = ["sk-test-m-0001"]

[[projects.agents]]
id = "mailer"
public = true
behavior = "script"
script = [
  { reply = "drafted {message}", delay_ms = 1 },
  { tool = "send_email", requires_confirmation = true, action = "mail-action", input = { to = "team@example.com", subject = "{message}" }, delay_ms = 1 },
  { reply = "after the e-mail", delay_ms = 1 },
]

[[projects.agents]]
id = "plain"
public = true
behavior = "script"
script = [
  { tool = "send_email", requires_confirmation = true, delay_ms = 1 },
]
"#;

pub const KEY_M: &str = "proj-m:sk-test-m-0001";

pub async fn start_approval_seed() -> Running {
    let seed_dir = TempDir::new().expect("tempdir");
    let config = Config {
        seed: Some(SeedSource::Text(APPROVAL_SEED.to_string())),
        ..Config::default()
    };
    Running {
        emulator: start(config).await,
        http: reqwest::Client::new(),
        seed_dir,
    }
}

/// A fresh embed key for an agent of `proj-m`: (authorization value, prefix).
pub async fn embed_key(running: &Running, agent_id: &str) -> (String, String) {
    let answer = running
        .post(
            &format!("/{US}/latest/agents/get_embed_key"),
            None,
            &json!({"agent_id": agent_id, "project": "proj-m"}).to_string(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let key = answer.body["embed_key"].as_str().expect("embed_key");
    let prefix = answer.body["conversation_prefix"].as_str().expect("prefix");
    (format!("proj-m:{key}"), prefix.to_string())
}

/// Starts a task of `mailer` on `text` and waits until its tool run waits; answers the
/// task id and the waiting tool run's content.
pub async fn waiting_task(running: &Running, auth: &str, body: Value) -> (String, Value) {
    let started = running.trigger(auth, body).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);
    let task = started.body["conversation_id"]
        .as_str()
        .expect("id")
        .to_string();
    let (meta, messages) = running.settle(auth, "mailer", &task).await;
    assert_eq!(meta["conversation"]["state"], "pending-approval");
    let run = messages
        .iter()
        .map(|message| message["content"].clone())
        .find(|content| content["type"] == "tool-run")
        .expect("a tool run");
    (task, run)
}

fn new_task(text: &str) -> Value {
    json!({"agent_id": "mailer", "message": {"role": "user", "content": text}})
}

fn decision(task: &str, role: &str, run: &Value, params_override: Option<Value>) -> Value {
    let mut message = json!({
        "role": role,
        "action": run["action_details"]["action"],
        "action_request_id": run["action_details"]["action_request_id"],
    });
    if let Some(params_override) = params_override {
        message["action_params_override"] = params_override;
    }
    // The Python client sends these beside `message`; the server ignores them.
    json!({"agent_id": "mailer", "conversation_id": task, "message": message,
           "debug": true, "is_debug_mode_task": false})
}

fn tool_runs(messages: &[Value]) -> Vec<Value> {
    messages
        .iter()
        .map(|message| message["content"].clone())
        .filter(|content| content["type"] == "tool-run")
        .collect()
}

fn texts(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .filter_map(|message| message["content"]["text"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn a_tool_that_needs_confirmation_waits_in_pending_approval() {
    let running = start_approval_seed().await;
    let (task, run) = waiting_task(&running, KEY_M, new_task("launch")).await;
    assert_eq!(run["tool_run_state"], "pending");
    assert_eq!(run["requires_confirmation"], true);
    assert_eq!(run["action_details"]["action"], "mail-action");
    let request_id = run["action_details"]["action_request_id"]
        .as_str()
        .expect("request id");
    assert_eq!(request_id.len(), 36);
    assert!(run.get("confirmation").is_none());
    assert_eq!(
        run["params"]["json"],
        json!({"to": "team@example.com", "subject": "launch"})
    );
    // It stays waiting: nothing after the tool run is written.
    let messages = running.messages(KEY_M, "mailer", &task).await;
    assert_eq!(texts(&messages), ["launch", "drafted launch"]);
    // Without `action`, the action id is the agent's default one.
    let plain = running
        .trigger(
            KEY_M,
            json!({"agent_id": "plain", "message": {"role": "user", "content": "x"}}),
        )
        .await;
    let plain_task = plain.body["conversation_id"].as_str().expect("id");
    let (meta, messages) = running.settle(KEY_M, "plain", plain_task).await;
    assert_eq!(meta["conversation"]["state"], "pending-approval");
    assert_eq!(
        tool_runs(&messages)[0]["action_details"]["action"],
        "plain:tool:send_email"
    );
}

#[tokio::test]
async fn confirming_runs_the_tool_with_the_override_merged_in_and_goes_on() {
    let cases = [
        (None, json!({"to": "team@example.com", "subject": "launch"})),
        (
            Some(json!({})),
            json!({"to": "team@example.com", "subject": "launch"}),
        ),
        (
            Some(json!({"to": "boss@example.com"})),
            json!({"to": "boss@example.com", "subject": "launch"}),
        ),
    ];
    let running = start_approval_seed().await;
    for (params_override, expected) in cases {
        let (task, run) = waiting_task(&running, KEY_M, new_task("launch")).await;
        let decided = running
            .trigger(
                KEY_M,
                decision(&task, "action-confirm", &run, params_override.clone()),
            )
            .await;
        assert_eq!(decided.status, StatusCode::OK, "{}", decided.text);
        assert_eq!(decided.body["conversation_id"], task.as_str());
        assert_eq!(decided.body["state"], "running");
        let (meta, messages) = running.settle(KEY_M, "mailer", &task).await;
        assert_eq!(meta["conversation"]["state"], "idle", "{params_override:?}");
        let done = &tool_runs(&messages)[0];
        assert_eq!(done["tool_run_state"], "finished");
        assert_eq!(
            done["confirmation"],
            json!({"confirmed": true, "by": "user"})
        );
        assert_eq!(done["params"]["json"], expected);
        assert_eq!(done["params"]["resolved"], expected);
        assert_eq!(done["output"], json!({"params": expected}));
        let ids = done["original_message_ids"].as_object().expect("ids");
        assert!(ids.contains_key("action-confirm") && ids.contains_key("action-response"));
        assert_eq!(
            texts(&messages),
            ["launch", "drafted launch", "after the e-mail"]
        );
    }
}

#[tokio::test]
async fn rejecting_cancels_the_run_and_the_script_goes_on_without_it() {
    let running = start_approval_seed().await;
    let (task, run) = waiting_task(&running, KEY_M, new_task("launch")).await;
    let decided = running
        .trigger(KEY_M, decision(&task, "action-reject", &run, None))
        .await;
    assert_eq!(decided.status, StatusCode::OK, "{}", decided.text);
    let (meta, messages) = running.settle(KEY_M, "mailer", &task).await;
    assert_eq!(meta["conversation"]["state"], "idle");
    let cancelled = &tool_runs(&messages)[0];
    assert_eq!(cancelled["tool_run_state"], "cancelled");
    assert_eq!(
        cancelled["confirmation"],
        json!({"confirmed": false, "by": "user"})
    );
    assert_eq!(cancelled["output"], json!({}), "the tool never ran");
    assert!(cancelled["original_message_ids"]
        .as_object()
        .expect("ids")
        .contains_key("action-reject"));
    assert_eq!(
        texts(&messages),
        ["launch", "drafted launch", "after the e-mail"]
    );
}

#[tokio::test]
async fn a_decision_no_run_waits_for_is_400_and_changes_nothing() {
    let running = start_approval_seed().await;
    let (task, run) = waiting_task(&running, KEY_M, new_task("launch")).await;
    let before = running.messages(KEY_M, "mailer", &task).await;
    let mut wrong_id = run.clone();
    wrong_id["action_details"]["action_request_id"] = json!("not-the-waiting-run");
    let mut wrong_action = run.clone();
    wrong_action["action_details"]["action"] = json!("another-action");
    let mut missing = decision(&task, "action-confirm", &run, None);
    missing["message"]
        .as_object_mut()
        .expect("message")
        .remove("action_request_id");
    let cases = [
        (
            decision(&task, "action-confirm", &wrong_id, None),
            "not-the-waiting-run",
        ),
        (
            decision(&task, "action-reject", &wrong_id, None),
            "not-the-waiting-run",
        ),
        (
            decision(&task, "action-confirm", &wrong_action, None),
            "another-action",
        ),
        (missing, "action_request_id"),
        (
            decision(&task, "action-confirm", &run, Some(json!([1]))),
            "action_params_override",
        ),
    ];
    for (body, needle) in cases {
        let refused = running.trigger(KEY_M, body.clone()).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(refused.message().contains(needle), "{}", refused.message());
        let meta = running.metadata(KEY_M, "mailer", &task).await;
        assert_eq!(
            meta.body["metadata"]["conversation"]["state"],
            "pending-approval"
        );
        assert_eq!(running.messages(KEY_M, "mailer", &task).await, before);
    }
    // Decided once; the same decision again is stale.
    let confirm = decision(&task, "action-confirm", &run, None);
    assert_eq!(
        running.trigger(KEY_M, confirm.clone()).await.status,
        StatusCode::OK
    );
    let (_, after) = running.settle(KEY_M, "mailer", &task).await;
    let again = running.trigger(KEY_M, confirm).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "{}", again.text);
    assert_eq!(running.messages(KEY_M, "mailer", &task).await, after);
}

#[tokio::test]
async fn an_embed_key_decides_in_its_own_task_and_not_in_another_prefixs() {
    let running = start_approval_seed().await;
    let (key, prefix) = embed_key(&running, "mailer").await;
    let (other_key, _) = embed_key(&running, "mailer").await;
    let id = format!("{prefix}_-_3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d");
    let body = json!({"agent_id": "mailer", "conversation_id": id,
                      "message": {"role": "user", "content": "launch"}});
    let (task, run) = waiting_task(&running, &key, body).await;
    let before = running.messages(KEY_M, "mailer", &task).await;
    for body in [
        decision(&task, "action-confirm", &run, None),
        decision(&task, "action-reject", &run, None),
    ] {
        let refused = running.trigger(&other_key, body).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text);
        assert_eq!(running.messages(KEY_M, "mailer", &task).await, before);
    }
    let decided = running
        .trigger(&key, decision(&task, "action-confirm", &run, None))
        .await;
    assert_eq!(decided.status, StatusCode::OK, "{}", decided.text);
    let (meta, messages) = running.settle(&key, "mailer", &task).await;
    assert_eq!(meta["conversation"]["state"], "idle");
    assert_eq!(tool_runs(&messages)[0]["tool_run_state"], "finished");
}

#[tokio::test]
async fn a_plain_message_while_a_run_waits_is_queued_behind_it() {
    let running = start_approval_seed().await;
    let (task, run) = waiting_task(&running, KEY_M, new_task("first")).await;
    let queued = running
        .trigger(
            KEY_M,
            json!({"agent_id": "mailer", "conversation_id": task,
                   "message": {"role": "user", "content": "second"}}),
        )
        .await;
    assert_eq!(queued.status, StatusCode::OK, "{}", queued.text);
    assert_eq!(
        queued.body["state"], "pending-approval",
        "it does not decide"
    );
    let meta = running.metadata(KEY_M, "mailer", &task).await;
    assert_eq!(
        meta.body["metadata"]["conversation"]["state"],
        "pending-approval"
    );
    let waiting = tool_runs(&running.messages(KEY_M, "mailer", &task).await);
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0]["tool_run_state"], "pending");
    // Decided, the first run ends and the queued message's run starts (and waits too).
    running
        .trigger(KEY_M, decision(&task, "action-reject", &run, None))
        .await;
    let mut second = None;
    for _ in 0..500 {
        let messages = running.messages(KEY_M, "mailer", &task).await;
        let runs = tool_runs(&messages);
        if runs.len() == 2 && runs[1]["tool_run_state"] == "pending" {
            second = Some(messages);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let messages = second.expect("the queued run reached its own tool run");
    assert_eq!(
        texts(&messages),
        [
            "first",
            "drafted first",
            "second",
            "after the e-mail",
            "drafted second"
        ]
    );
}

#[tokio::test]
async fn an_unknown_role_is_400() {
    let running = start_approval_seed().await;
    let refused = running
        .trigger(
            KEY_M,
            json!({"agent_id": "mailer", "message": {"role": "robot", "content": "x"}}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.message().contains("message.role"));
}

#[tokio::test]
async fn a_waiting_run_can_be_decided_after_a_restart() {
    let data_dir = TempDir::new().expect("tempdir");
    let data = data_dir.path().join("data");
    let config = || Config {
        storage: relevance_emulator::Storage::Directory(data.clone()),
        seed: Some(SeedSource::Text(APPROVAL_SEED.to_string())),
        ..Config::default()
    };
    let running = |emulator| Running {
        emulator,
        http: reqwest::Client::new(),
        seed_dir: TempDir::new().expect("tempdir"),
    };
    let first = running(start(config()).await);
    let (task, run) = waiting_task(&first, KEY_M, new_task("launch")).await;
    first.emulator.shutdown().await.expect("clean shutdown");

    let second = running(start(config()).await);
    let decided = second
        .trigger(KEY_M, decision(&task, "action-confirm", &run, None))
        .await;
    assert_eq!(decided.status, StatusCode::OK, "{}", decided.text);
    let (meta, messages) = second.settle(KEY_M, "mailer", &task).await;
    assert_eq!(meta["conversation"]["state"], "idle");
    assert_eq!(tool_runs(&messages)[0]["tool_run_state"], "finished");
    assert_eq!(
        texts(&messages),
        ["launch", "drafted launch", "after the e-mail"]
    );
}
