//! The scripted-agent engine, driven over HTTP: one conversation per behaviour,
//! live events subscribed in-process, and a run that survives a restart.

use relevance_emulator::{Config, LiveEvent, SeedSource, Storage};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::support::*;

async fn start_task(running: &Running, agent: &str, text: &str) -> String {
    let answer = running
        .trigger(
            KEY_E,
            json!({"agent_id": agent, "message": {"role": "user", "content": text}}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.body["conversation_id"]
        .as_str()
        .expect("id")
        .to_string()
}

fn drain(receiver: &mut tokio::sync::broadcast::Receiver<LiveEvent>) -> Vec<LiveEvent> {
    let mut events = Vec::new();
    while let Ok(event) = receiver.try_recv() {
        events.push(event);
    }
    events
}

fn states(events: &[LiveEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|event| match event {
            LiveEvent::StateChanged { state } => Some(state.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn echo_types_its_reply_in_chunks_and_publishes_live_events() {
    let running = start_engine_seed().await;
    let task = "echo-task-1";
    let mut events = running.emulator.task_events("proj-e", task);
    let answer = running
        .trigger(
            KEY_E,
            json!({"agent_id": "echo", "conversation_id": task,
            "message": {"role": "user", "content": "hello there, emulator"}}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(
        answer.body["conversation_id"], task,
        "an unknown id from an API key creates the task"
    );
    let (meta, messages) = running.settle(KEY_E, "echo", task).await;
    assert_eq!(meta["conversation"]["state"], "idle");
    let contents = contents(&messages);
    assert_eq!(
        contents,
        vec![
            json!({"type": "user-message", "text": "hello there, emulator", "is_trigger_message": true}),
            json!({"type": "agent-message", "text": "You said: hello there, emulator", "generating": false}),
        ]
    );
    let reply_id = messages[1]["item_id"].as_str().expect("id").to_string();

    let events = drain(&mut events);
    assert_eq!(states(&events), ["starting-up", "running", "idle"]);
    let typed: Vec<&str> = events
        .iter()
        .filter_map(|event| match event {
            LiveEvent::Typing { delta, message_id } => {
                assert_eq!(message_id, &reply_id);
                Some(delta.as_str())
            }
            _ => None,
        })
        .collect();
    // "You said: hello there, emulator" is 31 characters: fragments of 8, 8, 8 and 7.
    assert_eq!(typed, ["You said", ": hello ", "there, e", "mulator"]);
    let reply_writes = events
        .iter()
        .filter(
            |event| matches!(event, LiveEvent::MessageWritten { item_id } if *item_id == reply_id),
        )
        .count();
    assert_eq!(
        reply_writes, 5,
        "written once, updated 3 times while typing, finalised once"
    );

    // A second message continues the task: not a trigger message.
    let again = running
        .trigger(KEY_E, json!({"agent_id": "echo", "conversation_id": task, "message": {"role": "user", "content": "again"}}))
        .await;
    assert_eq!(again.status, StatusCode::OK);
    let (_, messages) = running.settle(KEY_E, "echo", task).await;
    assert_eq!(messages.len(), 4);
    assert_eq!(messages[2]["content"]["is_trigger_message"], false);
    assert_eq!(messages[3]["content"]["text"], "You said: again");
}

#[tokio::test]
async fn a_generating_message_keeps_its_insert_date_while_it_grows() {
    let running = start_engine_seed().await;
    let long = "x".repeat(400);
    let task = start_task(&running, "echo", &long).await;
    // Catch the reply while it is still generating (bounded polling).
    let mut observed = None;
    for _ in 0..500 {
        let messages = running.messages(KEY_E, "echo", &task).await;
        if let Some(reply) = messages.get(1) {
            if reply["content"]["generating"] == true {
                observed = Some(reply.clone());
                break;
            }
            if reply["content"]["generating"] == false {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let (_, messages) = running.settle(KEY_E, "echo", &task).await;
    let last = &messages[1];
    assert_eq!(last["content"]["generating"], false);
    if let Some(partial) = observed {
        assert_eq!(partial["item_id"], last["item_id"], "updated in place");
        assert_eq!(
            partial["insert_date_"], last["insert_date_"],
            "insert_date_ never changes"
        );
        let partial_text = partial["content"]["text"].as_str().expect("text");
        assert!(partial_text.len() < last["content"]["text"].as_str().expect("text").len());
        // A cursor pinned to its insert_date_ re-reads it.
        let pinned = running
            .view(
                KEY_E,
                "echo",
                &task,
                &json!({"cursor": {"after": partial["insert_date_"]}}).to_string(),
            )
            .await;
        assert_eq!(pinned.body["results"][0]["item_id"], last["item_id"]);
    }
}

#[tokio::test]
async fn a_script_thinks_runs_tools_types_and_replies_then_completes() {
    let running = start_engine_seed().await;
    let task = "thinker-task";
    let mut events = running.emulator.task_events("proj-e", task);
    let answer = running
        .trigger(KEY_E, json!({"agent_id": "thinker", "conversation_id": task, "message": {"role": "user", "content": "rust"}}))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let (meta, messages) = running.settle(KEY_E, "thinker", task).await;
    assert_eq!(
        meta["conversation"]["state"], "completed",
        "end_state = completed"
    );
    let kinds: Vec<&str> = messages
        .iter()
        .map(|m| m["content"]["type"].as_str().expect("type"))
        .collect();
    assert_eq!(
        kinds,
        [
            "user-message",
            "tool-run",
            "tool-run",
            "agent-message",
            "agent-message"
        ]
    );

    let search = &messages[1]["content"];
    assert_eq!(search["tool_run_state"], "finished");
    assert_eq!(search["output"], json!({"hits": 2}));
    assert_eq!(
        search["params"],
        json!({"valid": true, "json": {"q": "rust"}, "resolved": {"q": "rust"}})
    );
    // The platform's schema (PROTOCOL A7c): action details, confirmation, message ids.
    assert_eq!(search["action_details"]["action"], "thinker:tool:search");
    let request_id = search["action_details"]["action_request_id"]
        .as_str()
        .expect("action_request_id");
    assert_eq!(search["requires_confirmation"], false);
    assert_eq!(search["tool_config"]["version"], "latest");
    let ids = search["original_message_ids"]
        .as_object()
        .expect("original_message_ids");
    assert_eq!(
        ids.keys().collect::<Vec<_>>(),
        ["action-request", "action-response"]
    );
    assert_eq!(search["errors"], json!([]));
    let config = &search["tool_config"];
    assert_eq!(config["type"], "tool");
    assert_eq!(config["title"], "search");
    assert_eq!(config["region"], US);
    assert_eq!(config["project"], "proj-e");
    assert_eq!(config["params_schema"], json!({}));
    assert!(config["description"].is_string() && config["id"].is_string());

    let fetch = &messages[2]["content"];
    assert_ne!(fetch["action_details"]["action_request_id"], request_id);
    assert_eq!(fetch["action_details"]["action"], "thinker:tool:fetch");
    assert!(fetch["original_message_ids"]["action-error"].is_string());
    assert!(fetch["original_message_ids"]
        .get("action-response")
        .is_none());
    assert_eq!(fetch["tool_run_state"], "error");
    assert_eq!(
        fetch["errors"],
        json!([{"body": "timeout", "raw": "timeout", "step_name": "fetch"}])
    );

    let replies = contents(&messages[3..]);
    assert_eq!(
        replies[0],
        json!({"type": "agent-message", "text": "Typed answer about rust", "generating": false, "thinking": ["pondering rust"]})
    );
    assert_eq!(
        replies[1],
        json!({"type": "agent-message", "text": "done", "generating": false})
    );

    let events = drain(&mut events);
    assert_eq!(states(&events), ["starting-up", "running", "completed"]);
    // The thought streams as fragments that carry the id of the message that keeps it.
    let thought: String = events
        .iter()
        .filter_map(|event| match event {
            LiveEvent::Thinking { delta, message_id } => {
                assert_eq!(message_id, &messages[3]["item_id"]);
                Some(delta.as_str())
            }
            _ => None,
        })
        .collect();
    assert_eq!(thought, "pondering rust");
    let search_id = messages[1]["item_id"].as_str().expect("id");
    let search_writes = events
        .iter()
        .filter(
            |event| matches!(event, LiveEvent::MessageWritten { item_id } if item_id == search_id),
        )
        .count();
    assert_eq!(
        search_writes, 3,
        "one tool-run message: pending, running, finished"
    );
}

#[tokio::test]
async fn an_error_step_ends_the_task_unrecoverable_unless_it_continues() {
    let running = start_engine_seed().await;
    let task = start_task(&running, "failing", "go").await;
    let (meta, messages) = running.settle(KEY_E, "failing", &task).await;
    assert_eq!(meta["conversation"]["state"], "unrecoverable");
    let contents = contents(&messages);
    assert_eq!(
        contents.len(),
        3,
        "the step after the error is dropped: {contents:?}"
    );
    assert_eq!(
        contents[1],
        json!({"type": "agent-error", "errors": [{"body": "soft"}]})
    );
    assert_eq!(
        contents[2],
        json!({"type": "agent-error", "errors": [{"body": "hard"}]})
    );
}

#[tokio::test]
async fn an_approval_pauses_until_the_next_message() {
    let running = start_engine_seed().await;
    let task = start_task(&running, "approver", "deploy").await;
    let (meta, messages) = running.settle(KEY_E, "approver", &task).await;
    assert_eq!(meta["conversation"]["state"], "pending-approval");
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1]["content"]["text"], "May I?");

    let answer = running
        .trigger(KEY_E, json!({"agent_id": "approver", "conversation_id": task, "message": {"role": "user", "content": "yes"}}))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["state"], "starting-up");
    let (meta, messages) = running.settle(KEY_E, "approver", &task).await;
    assert_eq!(meta["conversation"]["state"], "idle");
    let texts: Vec<&str> = messages
        .iter()
        .map(|m| m["content"]["text"].as_str().expect("text"))
        .collect();
    assert_eq!(texts, ["deploy", "May I?", "yes", "approved: deploy"]);
    assert_eq!(messages[2]["content"]["is_trigger_message"], false);
}

#[tokio::test]
async fn a_sub_agent_step_runs_a_task_on_another_agent() {
    let running = start_engine_seed().await;
    let task = start_task(&running, "boss", "report").await;
    let (meta, messages) = running.settle(KEY_E, "boss", &task).await;
    assert_eq!(meta["conversation"]["state"], "idle");
    assert_eq!(messages.len(), 3, "{messages:?}");
    let tool = &messages[1]["content"];
    assert_eq!(tool["type"], "tool-run");
    assert_eq!(tool["tool_run_state"], "finished");
    assert_eq!(tool["tool_config"]["type"], "agent");
    assert_eq!(tool["tool_config"]["id"], "echo");
    let details = &tool["output"]["_agent_conversation_details"];
    assert_eq!(details["agent_id"], "echo");
    let child = details["conversation_id"].as_str().expect("child id");
    assert_eq!(messages[2]["content"]["text"], "boss done");

    let (child_meta, child_messages) = running.settle(KEY_E, "echo", child).await;
    assert_eq!(child_meta["conversation"]["state"], "idle");
    let texts: Vec<&Value> = child_messages
        .iter()
        .map(|m| &m["content"]["text"])
        .collect();
    assert_eq!(
        texts,
        [
            &json!("from boss: report"),
            &json!("You said: from boss: report")
        ]
    );
}

#[tokio::test]
async fn a_message_sent_while_a_run_is_going_is_queued_and_runs_after() {
    let running = start_engine_seed().await;
    let task = start_task(&running, "echo", "one").await;
    let second = running
        .trigger(KEY_E, json!({"agent_id": "echo", "conversation_id": task, "message": {"role": "user", "content": "two"}}))
        .await;
    assert_eq!(second.status, StatusCode::OK);
    let (meta, messages) = running.settle(KEY_E, "echo", &task).await;
    assert_eq!(meta["conversation"]["state"], "idle");
    let replies: Vec<&str> = messages
        .iter()
        .filter(|m| m["content"]["type"] == "agent-message")
        .map(|m| m["content"]["text"].as_str().expect("text"))
        .collect();
    assert_eq!(replies, ["You said: one", "You said: two"]);
    assert!(messages.iter().all(|m| m["content"]["generating"] != true));
}

#[tokio::test]
async fn a_pending_run_resumes_after_a_restart() {
    let seed_dir = TempDir::new().expect("tempdir");
    let seed_file = write_seed(&seed_dir, ENGINE_SEED);
    let data_dir = TempDir::new().expect("tempdir");
    let config = || Config {
        storage: Storage::Directory(data_dir.path().join("data")),
        seed: Some(SeedSource::File(seed_file.clone())),
        ..Config::default()
    };
    let first = Running {
        emulator: start(config()).await,
        http: reqwest::Client::new(),
        seed_dir,
    };
    let task = start_task(&first, "slow", "restart me").await;
    // Wait (bounded) until the first reply is written; the second is 1.5 s behind it.
    let mut texts = Vec::new();
    for _ in 0..500 {
        texts = first
            .messages(KEY_E, "slow", &task)
            .await
            .iter()
            .map(|m| {
                m["content"]["text"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        if texts.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(
        texts,
        ["restart me", "first"],
        "the second reply is still pending"
    );
    let Running {
        emulator, seed_dir, ..
    } = first;
    emulator.shutdown().await.expect("clean shutdown");

    let second = Running {
        emulator: start(config()).await,
        http: reqwest::Client::new(),
        seed_dir,
    };
    let (meta, messages) = second.settle(KEY_E, "slow", &task).await;
    assert_eq!(meta["conversation"]["state"], "idle");
    let texts: Vec<&str> = messages
        .iter()
        .map(|m| m["content"]["text"].as_str().expect("text"))
        .collect();
    assert_eq!(texts, ["restart me", "first", "second"]);
    second.emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn message_final_follows_the_last_write_of_each_agent_message_once() {
    let running = start_engine_seed().await;
    let task = "final-task";
    let mut events = running.emulator.task_events("proj-e", task);
    let answer = running
        .trigger(
            KEY_E,
            json!({"agent_id": "thinker", "conversation_id": task,
                   "message": {"role": "user", "content": "rust"}}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let (_, messages) = running.settle(KEY_E, "thinker", task).await;
    let events = drain(&mut events);
    let agent_messages: Vec<&str> = messages
        .iter()
        .filter(|message| message["content"]["type"] == "agent-message")
        .map(|message| message["item_id"].as_str().expect("id"))
        .collect();
    assert_eq!(agent_messages.len(), 2, "the typed answer and the reply");
    let finals: Vec<&str> = events
        .iter()
        .filter_map(|event| match event {
            LiveEvent::MessageFinal { item_id } => Some(item_id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        finals, agent_messages,
        "one MessageFinal per agent message, in order"
    );
    for item in agent_messages {
        let last_write = events
            .iter()
            .rposition(
                |event| matches!(event, LiveEvent::MessageWritten { item_id } if item_id == item),
            )
            .expect("written");
        let final_at = events
            .iter()
            .position(
                |event| matches!(event, LiveEvent::MessageFinal { item_id } if item_id == item),
            )
            .expect("final");
        assert_eq!(final_at, last_write + 1, "final right after its last write");
    }
}

/// PROTOCOL A9: a status filter sends all its states in one `condition_value`; the list
/// answers every task in any of them, in one request.
#[tokio::test]
async fn the_state_filter_takes_several_states_in_one_condition_value() {
    let running = start_engine_seed().await;
    let mut by_state = Vec::new();
    for agent in ["echo", "thinker", "failing"] {
        let task = start_task(&running, agent, "states").await;
        let (meta, _) = running.settle(KEY_E, agent, &task).await;
        let state = meta["conversation"]["state"]
            .as_str()
            .expect("state")
            .to_string();
        by_state.push((state, task));
    }
    let states: Vec<&str> = by_state.iter().map(|(state, _)| state.as_str()).collect();
    assert_eq!(states, ["idle", "completed", "unrecoverable"]);
    // (states in the one filter, the tasks expected)
    let cases: [(&[&str], &[usize]); 4] = [
        (&["idle", "unrecoverable"], &[0, 2]),
        (&["completed", "idle"], &[0, 1]),
        (&["completed"], &[1]),
        (&["running", "pending-approval"], &[]),
    ];
    for (states, expected) in cases {
        let filters = json!([{"field": "conversation.state", "filter_type": "exact_match",
                              "condition": "==", "condition_value": states}]);
        let answer = running
            .get_query(
                &format!("/{US}/latest/agents/conversations/list"),
                Some(KEY_E),
                &[
                    ("filters", &filters.to_string()),
                    ("sort", r#"[{"insert_date":"asc"}]"#),
                ],
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        let found: Vec<&str> = answer.body["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|item| item["knowledge_set"].as_str().expect("id"))
            .collect();
        let wanted: Vec<&str> = expected
            .iter()
            .map(|index| by_state[*index].1.as_str())
            .collect();
        assert_eq!(found, wanted, "{states:?}");
    }
}
