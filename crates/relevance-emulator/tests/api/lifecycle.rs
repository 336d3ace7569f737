//! A task's life (PROTOCOL A11): its trigger message, a rerun from an edited message,
//! deleting tasks, metadata by id, and messages scheduled for later, across a restart too.

use relevance_emulator::{Config, SeedSource, Storage};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::approvals::embed_key;
use crate::support::{start, Running, US};

const SEED: &str = r#"
[[projects]]
id = "proj-m"
region = "us"
api_keys = ["sk-test-m-0001"]

[[projects.agents]]
id = "mailer"
public = true
behavior = "script"
script = [
  { reply = "re: {message}", delay_ms = 1 },
]
"#;

const KEY: &str = "proj-m:sk-test-m-0001";

fn config(adjust: impl FnOnce(&mut Config)) -> Config {
    let mut config = Config {
        seed: Some(SeedSource::Text(SEED.to_string())),
        ..Config::default()
    };
    adjust(&mut config);
    config
}

async fn running(config: Config) -> Running {
    Running {
        emulator: start(config).await,
        http: reqwest::Client::new(),
        seed_dir: TempDir::new().expect("tempdir"),
    }
}

/// A task of `mailer` with `texts` sent one after the other, each answered.
async fn conversation(running: &Running, auth: &str, id: Option<&str>, texts: &[&str]) -> String {
    let mut task: Option<String> = id.map(str::to_string);
    for text in texts {
        let mut body = json!({"agent_id": "mailer", "message": {"role": "user", "content": text}});
        if let Some(id) = &task {
            body["conversation_id"] = json!(id);
        }
        let answer = running.trigger(auth, body).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        let id = answer.body["conversation_id"]
            .as_str()
            .expect("id")
            .to_string();
        running.settle(auth, "mailer", &id).await;
        task = Some(id);
    }
    task.expect("at least one message")
}

fn texts(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .filter_map(|message| message["content"]["text"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn the_trigger_message_is_the_first_user_message() {
    let running = running(config(|_| {})).await;
    let task = conversation(&running, KEY, None, &["first", "second"]).await;
    let messages = running.messages(KEY, "mailer", &task).await;
    let answer = running
        .get(
            &format!("/{US}/latest/agents/mailer/tasks/{task}/trigger_message"),
            Some(KEY),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let trigger = &answer.body["trigger_message"];
    assert_eq!(trigger["item_id"], messages[0]["item_id"]);
    assert_eq!(trigger["content"]["text"], "first");
    assert_eq!(trigger["content"]["is_trigger_message"], true);
    let unknown = running
        .get(
            &format!("/{US}/latest/agents/mailer/tasks/nope/trigger_message"),
            Some(KEY),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_rerun_replaces_everything_after_the_edited_message() {
    let running = running(config(|_| {})).await;
    let task = conversation(&running, KEY, None, &["first", "second"]).await;
    let before = running.messages(KEY, "mailer", &task).await;
    assert_eq!(
        texts(&before),
        ["first", "re: first", "second", "re: second"]
    );
    let first_id = before[0]["item_id"].clone();
    let rerun = running
        .trigger(
            KEY,
            json!({"agent_id": "mailer", "conversation_id": task, "edit_message_id": first_id,
                   "message": {"role": "user", "content": "edited"}}),
        )
        .await;
    assert_eq!(rerun.status, StatusCode::OK, "{}", rerun.text);
    assert_eq!(rerun.body["conversation_id"], task.as_str());
    assert_eq!(rerun.body["state"], "starting-up");
    let (meta, after) = running.settle(KEY, "mailer", &task).await;
    assert_eq!(meta["conversation"]["state"], "idle");
    assert_eq!(texts(&after), ["edited", "re: edited"]);
    assert_eq!(
        after[0]["item_id"], first_id,
        "the edited message keeps its id"
    );
    assert_eq!(after[0]["content"]["is_trigger_message"], true);
    let old_ids: Vec<&Value> = before[1..].iter().map(|m| &m["item_id"]).collect();
    assert!(after.iter().all(|m| !old_ids.contains(&&m["item_id"])));
}

#[tokio::test]
async fn a_rerun_that_names_no_user_message_is_400_and_changes_nothing() {
    let running = running(config(|_| {})).await;
    let task = conversation(&running, KEY, None, &["first"]).await;
    let before = running.messages(KEY, "mailer", &task).await;
    let reply_id = before[1]["item_id"].clone();
    for (body, status) in [
        (
            json!({"agent_id": "mailer", "conversation_id": task, "edit_message_id": reply_id,
                   "message": {"role": "user", "content": "x"}}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"agent_id": "mailer", "conversation_id": task, "edit_message_id": "nope",
                   "message": {"role": "user", "content": "x"}}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"agent_id": "mailer", "edit_message_id": before[0]["item_id"],
                   "message": {"role": "user", "content": "x"}}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"agent_id": "mailer", "conversation_id": "nope",
                   "edit_message_id": before[0]["item_id"],
                   "message": {"role": "user", "content": "x"}}),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let refused = running.trigger(KEY, body.clone()).await;
        assert_eq!(refused.status, status, "{body}: {}", refused.text);
        assert_eq!(running.messages(KEY, "mailer", &task).await, before);
    }
}

#[tokio::test]
async fn a_deleted_task_is_gone_for_metadata_view_and_list() {
    let running = running(config(|_| {})).await;
    let task = conversation(&running, KEY, None, &["first"]).await;
    let kept = conversation(&running, KEY, None, &["kept"]).await;
    let by_id = running
        .get(
            &format!("/{US}/latest/knowledge/sets/{task}/get_metadata"),
            Some(KEY),
        )
        .await;
    assert_eq!(by_id.status, StatusCode::OK, "{}", by_id.text);
    assert_eq!(by_id.body["metadata"]["knowledge_set"], task.as_str());
    assert_eq!(by_id.body["metadata"]["conversation"]["title"], "first");

    // All or none: an unknown id among them refuses the lot.
    let refused = running
        .post(
            &format!("/{US}/latest/knowledge/sets/delete"),
            Some(KEY),
            &json!({"knowledge_set": [task, "nope"]}).to_string(),
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text);
    assert_eq!(
        running.metadata(KEY, "mailer", &task).await.status,
        StatusCode::OK
    );
    for bad in [
        json!({}),
        json!({"knowledge_set": []}),
        json!({"knowledge_set": [1]}),
    ] {
        let answer = running
            .post(
                &format!("/{US}/latest/knowledge/sets/delete"),
                Some(KEY),
                &bad.to_string(),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
    }

    let deleted = running
        .post(
            &format!("/{US}/latest/knowledge/sets/delete"),
            Some(KEY),
            &json!({"knowledge_set": [task, task]}).to_string(),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    assert_eq!(deleted.body, json!({}));
    assert_eq!(
        running.metadata(KEY, "mailer", &task).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        running.view(KEY, "mailer", &task, "").await.status,
        StatusCode::NOT_FOUND
    );
    let by_id = running
        .get(
            &format!("/{US}/latest/knowledge/sets/{task}/get_metadata"),
            Some(KEY),
        )
        .await;
    assert_eq!(by_id.status, StatusCode::NOT_FOUND);
    let list = running
        .get(
            &format!("/{US}/latest/agents/conversations/list"),
            Some(KEY),
        )
        .await;
    let listed: Vec<&Value> = list.body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|item| &item["knowledge_set"])
        .collect();
    assert_eq!(listed, [&json!(kept)]);
}

#[tokio::test]
async fn embed_keys_may_not_delete_or_schedule_but_read_their_own_metadata() {
    let running = running(config(|config| config.schedule_minute_ms = 1)).await;
    let (key, prefix) = embed_key(&running, "mailer").await;
    let (other, _) = embed_key(&running, "mailer").await;
    let id = format!("{prefix}_-_3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d");
    let task = conversation(&running, &key, Some(&id), &["mine"]).await;
    let before = running.messages(KEY, "mailer", &task).await;
    let delete = running
        .post(
            &format!("/{US}/latest/knowledge/sets/delete"),
            Some(&key),
            &json!({"knowledge_set": [task]}).to_string(),
        )
        .await;
    assert_eq!(delete.status, StatusCode::FORBIDDEN, "{}", delete.text);
    let schedule = running
        .post(
            &format!("/{US}/latest/agents/mailer/scheduled_triggers_item/create"),
            Some(&key),
            &json!({"conversation_id": task, "message": "later", "minutes_until_schedule": 0})
                .to_string(),
        )
        .await;
    assert_eq!(schedule.status, StatusCode::FORBIDDEN, "{}", schedule.text);
    assert_eq!(running.messages(KEY, "mailer", &task).await, before);
    let path = format!("/{US}/latest/knowledge/sets/{task}/get_metadata");
    assert_eq!(running.get(&path, Some(&key)).await.status, StatusCode::OK);
    assert_eq!(
        running.get(&path, Some(&other)).await.status,
        StatusCode::NOT_FOUND
    );
}

/// Polls (bounded) until the task has `count` user messages; answers its texts.
async fn wait_for_user_messages(running: &Running, task: &str, count: usize) -> Vec<String> {
    for _ in 0..1000 {
        let messages = running.messages(KEY, "mailer", task).await;
        let users = messages
            .iter()
            .filter(|m| m["content"]["type"] == "user-message")
            .count();
        if users >= count {
            running.settle(KEY, "mailer", task).await;
            return texts(&running.messages(KEY, "mailer", task).await);
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the scheduled message never arrived in {task}");
}

#[tokio::test]
async fn a_scheduled_message_arrives_after_its_scaled_delay() {
    let running = running(config(|config| config.schedule_minute_ms = 1)).await;
    let task = conversation(&running, KEY, None, &["first"]).await;
    let created = running
        .post(
            &format!("/{US}/latest/agents/mailer/scheduled_triggers_item/create"),
            Some(KEY),
            &json!({"conversation_id": task, "message": "later", "minutes_until_schedule": 5})
                .to_string(),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    assert_eq!(created.body["trigger_id"].as_str().map(str::len), Some(36));
    let texts = wait_for_user_messages(&running, &task, 2).await;
    assert_eq!(texts, ["first", "re: first", "later", "re: later"]);
    for bad in [
        json!({"message": "x"}),
        json!({"conversation_id": task, "message": ""}),
        json!({"conversation_id": task, "message": "x", "minutes_until_schedule": -1}),
        json!({"conversation_id": task, "message": "x", "minutes_until_schedule": "5"}),
    ] {
        let answer = running
            .post(
                &format!("/{US}/latest/agents/mailer/scheduled_triggers_item/create"),
                Some(KEY),
                &bad.to_string(),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let unknown = running
        .post(
            &format!("/{US}/latest/agents/mailer/scheduled_triggers_item/create"),
            Some(KEY),
            &json!({"conversation_id": "nope", "message": "x"}).to_string(),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_scheduled_message_survives_a_restart() {
    let data_dir = TempDir::new().expect("tempdir");
    let data = data_dir.path().join("data");
    // A minute of 2 s: the message is still waiting when the first emulator stops.
    let with_storage = |config: &mut Config| {
        config.storage = Storage::Directory(data.clone());
        config.schedule_minute_ms = 2000;
    };
    let first = running(config(with_storage)).await;
    let task = conversation(&first, KEY, None, &["first"]).await;
    let created = first
        .post(
            &format!("/{US}/latest/agents/mailer/scheduled_triggers_item/create"),
            Some(KEY),
            &json!({"conversation_id": task, "message": "later", "minutes_until_schedule": 1})
                .to_string(),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    first.emulator.shutdown().await.expect("clean shutdown");

    let second = running(config(with_storage)).await;
    let texts = wait_for_user_messages(&second, &task, 2).await;
    assert_eq!(texts, ["first", "re: first", "later", "re: later"]);
}

#[tokio::test]
async fn a_page_size_that_is_not_a_number_is_taken_as_absent() {
    // The Python client's `retrieve_task` sends the agent id as `page_size`.
    let running = running(config(|_| {})).await;
    let task = conversation(&running, KEY, None, &["first"]).await;
    let path = format!("/{US}/latest/agents/conversations/list");
    let list = running
        .get_query(&path, Some(KEY), &[("page_size", "mailer")])
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(list.body["results"][0]["knowledge_set"], task.as_str());
    let out_of_range = running
        .get_query(&path, Some(KEY), &[("page_size", "0")])
        .await;
    assert_eq!(out_of_range.status, StatusCode::BAD_REQUEST);
}
