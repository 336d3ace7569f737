//! Workforce tasks over HTTP (the authorisation matrix over both task owners is
//! `principals.rs`): member runs and handovers, execution limits, cursor paging, bad input.

use std::collections::HashSet;

use relevance_emulator::{Config, Emulator, LiveEvent, SeedSource};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::net::TcpListener;

use crate::support::*;

/// US project `proj-w`: workforces for a handover, a handover loop, a failing member,
/// and a quick member for paging.
const WORKFORCE_SEED: &str = r#"
[[projects]]
id = "proj-w"
region = "us"
api_keys = ["sk-test-w-0001"]

[[projects.agents]]
id = "triage"
name = "Triage"
emoji = "🧭"
behavior = "script"
end_state = "completed"
script = [
  { reply = "A: hello {message}", delay_ms = 1 },
  { handover = "closer", message = "please finish: {message}", delay_ms = 1 },
]

[[projects.agents]]
id = "closer"
name = "Closer"
behavior = "script"
end_state = "completed"
chunk_delay_ms = 1
script = [
  { think = "closing {message}", delay_ms = 1 },
  { type = "B: done with {message}", delay_ms = 1 },
]

[[projects.agents]]
id = "ping"
behavior = "script"
script = [
  { reply = "ping", delay_ms = 1 },
  { handover = "pong", message = "to pong", delay_ms = 1 },
]

[[projects.agents]]
id = "pong"
behavior = "script"
script = [
  { reply = "pong", delay_ms = 1 },
  { handover = "ping", message = "to ping", delay_ms = 1 },
]

[[projects.agents]]
id = "broken"
behavior = "script"
script = [{ error = "boom", delay_ms = 1 }]

[[projects.agents]]
id = "quick"
behavior = "script"
script = [{ reply = "ok", delay_ms = 0 }]

[[projects.workforces]]
id = "wf-handover"
agents = ["triage", "closer"]

[[projects.workforces]]
id = "wf-loop"
agents = ["ping", "pong"]
execution_limit = 3

[[projects.workforces]]
id = "wf-broken"
agents = ["broken"]

[[projects.workforces]]
id = "wf-quick"
agents = ["quick"]
"#;

const KEY_W: &str = "proj-w:sk-test-w-0001";

async fn start_workforce_seed() -> Running {
    let seed_dir = TempDir::new().expect("tempdir");
    let config = Config {
        seed: Some(SeedSource::Text(WORKFORCE_SEED.to_string())),
        ..Config::default()
    };
    Running {
        emulator: start(config).await,
        http: reqwest::Client::new(),
        seed_dir,
    }
}

fn trigger_body(workforce: &str, task: Option<&str>, text: &str) -> Value {
    let mut body = json!({
        "workforce_id": workforce,
        "trigger": {"use_streaming": true,
                    "message": {"role": "user", "content": text, "attachments": []}},
    });
    if let Some(task) = task {
        body["workforce_task_id"] = json!(task);
    }
    body
}

impl Running {
    async fn wf_trigger(&self, auth: Option<&str>, body: &Value) -> Answer {
        self.post(
            &format!("/{US}/latest/workforce/trigger"),
            auth,
            &body.to_string(),
        )
        .await
    }

    async fn wf_metadata(&self, auth: Option<&str>, task: &str) -> Answer {
        self.get(
            &format!("/{US}/latest/workforce/tasks/{task}/metadata?include_streaming_token=true"),
            auth,
        )
        .await
    }

    async fn wf_messages(&self, auth: Option<&str>, workforce: &str, task: &str) -> Answer {
        self.post(
            &format!("/{US}/latest/workforce/items/{workforce}/tasks/{task}/messages"),
            auth,
            r#"{"page_size": 1000}"#,
        )
        .await
    }

    async fn wf_list(&self, auth: Option<&str>, body: &Value) -> Answer {
        self.post(
            &format!("/{US}/latest/workforce/tasks/list"),
            auth,
            &body.to_string(),
        )
        .await
    }

    /// Triggers a new task with an API key and answers its id.
    async fn wf_start(&self, auth: &str, workforce: &str, text: &str) -> String {
        let answer = self
            .wf_trigger(Some(auth), &trigger_body(workforce, None, text))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        answer.body["workforce_task_id"]
            .as_str()
            .expect("workforce_task_id")
            .to_string()
    }

    /// Polls (bounded) until the workforce task is no longer `running`; answers the final
    /// metadata and the messages, oldest first.
    async fn wf_settle(&self, auth: &str, workforce: &str, task: &str) -> (Value, Vec<Value>) {
        for _ in 0..1000 {
            let meta = self.wf_metadata(Some(auth), task).await;
            assert_eq!(meta.status, StatusCode::OK, "{}", meta.text);
            if meta.body["metadata"]["state"] != "running" {
                let messages = self.wf_messages(Some(auth), workforce, task).await;
                assert_eq!(messages.status, StatusCode::OK, "{}", messages.text);
                let results = messages.body["results"].as_array().expect("results");
                return (meta.body["metadata"].clone(), results.clone());
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("workforce task {task} never left `running`");
    }

    /// Every task id of a workforce visible to `auth`, all pages, in order.
    async fn wf_all_ids(&self, auth: &str, workforce: &str, query: Option<&str>) -> Vec<String> {
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut body = json!({"workforce_id": workforce, "page_size": 1000});
            if let Some(query) = query {
                body["query"] = json!(query);
            }
            if let Some(cursor) = &cursor {
                body["cursor"] = json!(cursor);
            }
            let answer = self.wf_list(Some(auth), &body).await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
            ids.extend(task_ids(&answer));
            match answer.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => return ids,
            }
        }
    }
}

fn task_ids(answer: &Answer) -> Vec<String> {
    answer.body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|item| {
            item["workforce_task_id"]
                .as_str()
                .expect("workforce_task_id")
                .to_string()
        })
        .collect()
}

fn types(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .map(|message| {
            message["content"]["type"]
                .as_str()
                .expect("type")
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn a_handover_runs_both_members_in_order_and_completes() {
    let running = start_workforce_seed().await;
    let task = "wf-task-handover-1";
    let mut events = running.emulator.task_events("proj-w", task);
    let answer = running
        .wf_trigger(Some(KEY_W), &trigger_body("wf-handover", Some(task), "hi"))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let (meta, messages) = running.wf_settle(KEY_W, "wf-handover", task).await;
    assert_eq!(meta["state"], "completed", "{meta}");
    assert_eq!(meta["title"], "hi");
    assert_eq!(
        types(&messages),
        [
            "user-message",
            "workforce-agent-run",
            "agent-message",
            "workforce-agent-handover",
            "workforce-agent-run",
            "agent-message",
        ]
    );
    let (run_a, reply_a, handover, run_b, reply_b) = (
        &messages[1]["content"],
        &messages[2]["content"],
        &messages[3]["content"],
        &messages[4]["content"],
        &messages[5]["content"],
    );
    assert_eq!(run_a["agent_details"]["agent_id"], "triage");
    assert_eq!(run_a["agent_details"]["name"], "Triage");
    assert_eq!(run_a["agent_details"]["emoji"], "🧭");
    assert_eq!(run_a["task_details"]["project"], "proj-w");
    assert_eq!(run_a["task_details"]["region"], US);
    assert_eq!(run_a["task_details"]["finished_state"], "completed");
    assert_eq!(run_a["task_details"]["current_state"], "completed");
    assert_eq!(reply_a["text"], "A: hello hi");
    assert_eq!(handover["agent_details"]["agent_id"], "closer");
    assert_eq!(handover["trigger"]["message"], "please finish: hi");
    assert_eq!(run_b["agent_details"]["agent_id"], "closer");
    assert_eq!(run_b["task_details"]["finished_state"], "completed");
    assert_eq!(reply_b["text"], "B: done with please finish: hi");
    assert_eq!(reply_b["generating"], false);
    assert_eq!(reply_b["thinking"], json!(["closing please finish: hi"]));

    // Each member ran in its own agent task; the workforce shows the same messages.
    let member_task = run_b["task_details"]["conversation_id"]
        .as_str()
        .expect("conversation_id");
    assert_ne!(
        member_task,
        run_a["task_details"]["conversation_id"]
            .as_str()
            .expect("id")
    );
    let member_messages = running.messages(KEY_W, "closer", member_task).await;
    assert_eq!(
        types(&member_messages),
        ["user-message", "agent-message"],
        "the member's own task holds its user message and reply"
    );
    assert_eq!(member_messages[0]["content"]["text"], "please finish: hi");
    assert_eq!(member_messages[1]["item_id"], messages[5]["item_id"]);

    // The workforce task got the members' live thinking and typing, with document ids.
    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        seen.push(event);
    }
    assert!(
        seen.iter().any(|event| matches!(event,
            LiveEvent::Thinking { message_id, .. } if *message_id == messages[5]["item_id"])),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|event| matches!(event,
            LiveEvent::Typing { message_id, .. } if *message_id == messages[5]["item_id"])),
        "{seen:?}"
    );
    let states: Vec<&LiveEvent> = seen
        .iter()
        .filter(|event| matches!(event, LiveEvent::StateChanged { .. }))
        .collect();
    assert_eq!(
        states,
        [
            &LiveEvent::StateChanged {
                state: "running".into()
            },
            &LiveEvent::StateChanged {
                state: "running".into()
            },
            &LiveEvent::StateChanged {
                state: "completed".into()
            },
        ],
        "only workforce states reach the workforce task"
    );

    // Continuing the task runs the first member again.
    let again = running
        .wf_trigger(
            Some(KEY_W),
            &trigger_body("wf-handover", Some(task), "again"),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    let (meta, messages) = running.wf_settle(KEY_W, "wf-handover", task).await;
    assert_eq!(meta["state"], "completed");
    assert_eq!(meta["title"], "hi", "the title stays the first message");
    assert_eq!(messages.len(), 12);
    assert_eq!(messages[6]["content"]["text"], "again");
    assert_eq!(messages[6]["content"]["is_trigger_message"], false);
}

#[tokio::test]
async fn the_execution_limit_ends_a_handover_loop() {
    let running = start_workforce_seed().await;
    let task = running.wf_start(KEY_W, "wf-loop", "go").await;
    let (meta, messages) = running.wf_settle(KEY_W, "wf-loop", &task).await;
    assert_eq!(meta["state"], "execution-limit-reached", "{meta}");
    let kinds = types(&messages);
    assert_eq!(
        kinds
            .iter()
            .filter(|kind| *kind == "workforce-agent-run")
            .count(),
        3,
        "{kinds:?}"
    );
    assert_eq!(kinds.last().map(String::as_str), Some("agent-error"));
}

#[tokio::test]
async fn a_failing_member_leaves_the_workforce_errored_pending_approval() {
    let running = start_workforce_seed().await;
    let task = running.wf_start(KEY_W, "wf-broken", "go").await;
    let (meta, messages) = running.wf_settle(KEY_W, "wf-broken", &task).await;
    assert_eq!(meta["state"], "errored-pending-approval", "{meta}");
    assert_eq!(
        types(&messages),
        ["user-message", "workforce-agent-run", "agent-error"]
    );
    assert_eq!(
        messages[1]["content"]["task_details"]["finished_state"],
        "unrecoverable"
    );
}

#[tokio::test]
async fn cursor_paging_sees_every_task_once_while_tasks_are_added() {
    let running = start_workforce_seed().await;
    let mut created = Vec::new();
    for index in 0..250 {
        created.push(
            running
                .wf_start(KEY_W, "wf-quick", &format!("task {index}"))
                .await,
        );
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    let mut added = 0;
    loop {
        let mut body = json!({"workforce_id": "wf-quick", "page_size": 40});
        if let Some(cursor) = &cursor {
            body["cursor"] = json!(cursor);
        }
        let answer = running.wf_list(Some(KEY_W), &body).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        pages += 1;
        let items = answer.body["results"].as_array().expect("results");
        for item in items {
            assert_eq!(item["workforce_id"], "wf-quick");
            assert_eq!(item["project"], "proj-w");
            assert_eq!(item["requested_state"], "continue");
            assert!(item["user_id"].is_string() && item["created_by_user_id"].is_string());
        }
        seen.extend(task_ids(&answer));
        // More tasks arrive between page reads.
        for _ in 0..5 {
            running
                .wf_start(KEY_W, "wf-quick", &format!("late {added}"))
                .await;
            added += 1;
        }
        match answer.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => {
                assert!(answer.body.get("next_cursor").is_none());
                break;
            }
        }
    }
    assert_eq!(pages, 7, "250 tasks in pages of 40");
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no task repeated");
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first, "every task exactly once, newest first");
    assert_eq!(
        running.wf_all_ids(KEY_W, "wf-quick", None).await.len(),
        250 + added
    );
}

#[tokio::test]
async fn the_list_query_matches_titles_in_any_case() {
    let running = start_workforce_seed().await;
    let alpha = running.wf_start(KEY_W, "wf-quick", "Alpha report").await;
    let umlaut = running.wf_start(KEY_W, "wf-quick", "ÄLPHA überblick").await;
    running.wf_start(KEY_W, "wf-quick", "beta").await;
    let cases: &[(&str, Vec<&String>)] = &[
        ("alpha", vec![&alpha]),
        ("ALPHA REP", vec![&alpha]),
        ("älpha", vec![&umlaut]),
        ("lph", vec![&umlaut, &alpha]),
        ("gamma", vec![]),
    ];
    for (query, expected) in cases {
        let found = running.wf_all_ids(KEY_W, "wf-quick", Some(query)).await;
        let expected: Vec<String> = expected.iter().map(|id| id.to_string()).collect();
        assert_eq!(found, expected, "query {query:?}");
    }
}

#[tokio::test]
async fn bad_bodies_name_the_field_and_unknown_tasks_are_404() {
    let running = start_workforce_seed().await;
    let task = running.wf_start(KEY_W, "wf-quick", "exists").await;
    let agent_task = running
        .trigger(
            KEY_W,
            json!({"agent_id": "quick", "message": {"role": "user", "content": "agent task"}}),
        )
        .await;
    let agent_task = agent_task.body["conversation_id"]
        .as_str()
        .expect("conversation_id")
        .to_string();
    let message = |content: Value| json!({"role": "user", "content": content});
    let trigger = format!("/{US}/latest/workforce/trigger");
    let list = format!("/{US}/latest/workforce/tasks/list");
    let messages = format!("/{US}/latest/workforce/items/wf-quick/tasks/{task}/messages");
    let ghost_messages = format!("/{US}/latest/workforce/items/wf-quick/tasks/ghost-task/messages");
    let other_workforce_messages =
        format!("/{US}/latest/workforce/items/wf-loop/tasks/{task}/messages");
    let agent_task_messages =
        format!("/{US}/latest/workforce/items/wf-quick/tasks/{agent_task}/messages");
    let cases: Vec<(&str, &str, String, u16, &str)> = vec![
        ("trigger: not JSON", &trigger, "nope".into(), 400, "JSON"),
        (
            "trigger: no workforce_id",
            &trigger,
            "{}".into(),
            400,
            "`workforce_id`",
        ),
        (
            "trigger: workforce_id not a string",
            &trigger,
            json!({"workforce_id": 5, "trigger": {"message": message(json!("x"))}}).to_string(),
            400,
            "`workforce_id`",
        ),
        (
            "trigger: no trigger",
            &trigger,
            json!({"workforce_id": "wf-quick"}).to_string(),
            400,
            "`trigger`",
        ),
        (
            "trigger: no message",
            &trigger,
            json!({"workforce_id": "wf-quick", "trigger": {}}).to_string(),
            400,
            "`trigger.message`",
        ),
        (
            "trigger: empty content",
            &trigger,
            json!({"workforce_id": "wf-quick", "trigger": {"message": message(json!("  "))}})
                .to_string(),
            400,
            "`trigger.message.content`",
        ),
        (
            "trigger: content not a string",
            &trigger,
            json!({"workforce_id": "wf-quick", "trigger": {"message": message(json!(7))}})
                .to_string(),
            400,
            "`trigger.message.content`",
        ),
        (
            "trigger: attachments",
            &trigger,
            json!({"workforce_id": "wf-quick", "trigger": {"message": {"role": "user",
                "content": "x", "attachments": [{"file_name": "a", "file_url": "b"}]}}})
            .to_string(),
            400,
            "`trigger.message.attachments`",
        ),
        (
            "trigger: task id with a slash",
            &trigger,
            trigger_body("wf-quick", Some("a/b"), "x").to_string(),
            400,
            "`workforce_task_id`",
        ),
        (
            "trigger: unknown workforce",
            &trigger,
            trigger_body("wf-ghost", None, "x").to_string(),
            404,
            "wf-ghost",
        ),
        (
            "trigger: an agent task's id",
            &trigger,
            trigger_body("wf-quick", Some(&agent_task), "x").to_string(),
            404,
            "no workforce task",
        ),
        (
            "trigger: another workforce's task",
            &trigger,
            trigger_body("wf-loop", Some(&task), "x").to_string(),
            404,
            "no workforce task",
        ),
        (
            "list: no workforce_id",
            &list,
            "{}".into(),
            400,
            "`workforce_id`",
        ),
        (
            "list: page_size 0",
            &list,
            json!({"workforce_id": "wf-quick", "page_size": 0}).to_string(),
            400,
            "`page_size`",
        ),
        (
            "list: page_size not a number",
            &list,
            json!({"workforce_id": "wf-quick", "page_size": "ten"}).to_string(),
            400,
            "`page_size`",
        ),
        (
            "list: malformed cursor",
            &list,
            json!({"workforce_id": "wf-quick", "cursor": "not-a-cursor"}).to_string(),
            400,
            "`cursor`",
        ),
        (
            "list: unknown workforce",
            &list,
            json!({"workforce_id": "wf-ghost"}).to_string(),
            404,
            "wf-ghost",
        ),
        (
            "messages: page_size 0",
            &messages,
            json!({"page_size": 0}).to_string(),
            400,
            "`page_size`",
        ),
        (
            "messages: unknown task",
            &ghost_messages,
            "{}".into(),
            404,
            "ghost-task",
        ),
        (
            "messages: the task under another workforce",
            &other_workforce_messages,
            "{}".into(),
            404,
            "no workforce task",
        ),
        (
            "messages: an agent task",
            &agent_task_messages,
            "{}".into(),
            404,
            "no workforce task",
        ),
    ];
    for (name, path, body, status, fragment) in &cases {
        let answer = running.post(path, Some(KEY_W), body).await;
        assert_eq!(answer.status.as_u16(), *status, "{name}: {}", answer.text);
        assert!(
            answer.message().contains(fragment),
            "{name}: {}",
            answer.text
        );
    }
    for id in ["ghost-task", agent_task.as_str()] {
        let answer = running.wf_metadata(Some(KEY_W), id).await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{id}: {}",
            answer.text
        );
    }
    // Nothing refused above was written: the one task is still the only one.
    assert_eq!(running.wf_all_ids(KEY_W, "wf-quick", None).await, [task]);
    println!("workforce bad-input cases: {}", cases.len() + 2);
}

#[tokio::test]
async fn a_handover_to_a_non_member_stops_start_up_naming_file_and_line() {
    let seed = "[[projects]]\nid = \"p\"\nregion = \"us\"\n\
                [[projects.agents]]\nid = \"a\"\nbehavior = \"script\"\nscript = [\n  \
                { handover = \"b\", message = \"m\" },\n]\n\
                [[projects.agents]]\nid = \"b\"\n\
                [[projects.workforces]]\nid = \"w\"\nagents = [\"a\"]\n";
    let dir = TempDir::new().expect("tempdir");
    let config = Config {
        seed: Some(SeedSource::File(write_seed(&dir, seed))),
        ..Config::default()
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let error = Emulator::start(config, listener)
        .await
        .expect_err("a handover to a non-member is refused");
    let shown = error.to_string();
    assert!(shown.contains("seed.toml"), "{shown}");
    assert!(shown.contains("line 8:"), "{shown}");
    assert!(shown.contains("not a member of workforce \"w\""), "{shown}");
}

#[tokio::test]
async fn the_demo_workforce_hands_over_from_triage_to_the_researcher() {
    let emulator = start(Config::default()).await;
    let demo = emulator.demo().expect("demo").clone();
    let running = Running {
        emulator,
        http: reqwest::Client::new(),
        seed_dir: TempDir::new().expect("tempdir"),
    };
    let auth = format!("{}:{}", demo.project, demo.api_key);
    let task = running
        .wf_start(&auth, &demo.workforce_id, "rust emulators")
        .await;
    let (meta, messages) = running.wf_settle(&auth, &demo.workforce_id, &task).await;
    assert_eq!(meta["state"], "completed", "{meta}");
    let runs: Vec<&Value> = messages
        .iter()
        .filter(|message| message["content"]["type"] == "workforce-agent-run")
        .map(|message| &message["content"]["agent_details"]["agent_id"])
        .collect();
    assert_eq!(
        runs,
        [
            &json!(demo.triage_agent_id),
            &json!(demo.researcher_agent_id)
        ]
    );
}
