//! What the SDK puts on the wire, recorded by a loopback proxy between it and the emulator,
//! and what the live stream gives back for it: streaming is asked for the way the official
//! client asks (`agent_override` = the config read + `use_streaming`), never by embed keys,
//! and the upload `PUT` carries the file's type and the storage tag.
#![cfg(not(target_family = "wasm"))]

use futures_util::StreamExt;
use relevance::{
    Attachment, Client, EmbedKeyOptions, Key, MessageContent, Region, Task, TaskEvent,
};
use relevance_testkit::Recorder;
use relevance_testkit::TestEmulator;
use serde_json::{json, Value};

const API_KEY: &str = "sk-test-wire-0001-wwwwwwwwwwwwwwwwwwww";
const PROJECT: &str = "proj-w";

/// The typist's own setting is off: only the override turns its streaming on.
const SEED: &str = r#"
[[projects]]
id = "proj-w"
region = "us"
api_keys = ["sk-test-wire-0001-wwwwwwwwwwwwwwwwwwww"]

[[projects.agents]]
id = "typist"
name = "Typist"
description = "Types a long reply"
emoji = "⌨️"
public = true
use_streaming = false
behavior = "script"
chunk_delay_ms = 5
script = [
  { think = "Thinking about {message} for a moment" },
  { type = "A reply long enough to come in many fragments, typed eight characters at a time: {message}." },
]

[[projects.workforces]]
id = "desk"
name = "Desk"
agents = ["typist"]
"#;

fn client(base_url: &str) -> Client {
    Client::builder(Key::new(API_KEY, Region::US, PROJECT).unwrap())
        .base_url(base_url)
        .build()
        .unwrap()
}

/// The `AgentConfig` exactly as the emulator answers it.
async fn agent_config(t: &TestEmulator, agent_id: &str) -> Value {
    let answer: Value = reqwest::Client::new()
        .get(format!(
            "{}/bcbe5a/latest/agents/{agent_id}/get",
            t.base_url
        ))
        .header("Authorization", format!("{PROJECT}:{API_KEY}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["agent"].clone()
}

fn triggers(recorder: &Recorder) -> Vec<Value> {
    recorder
        .matching("POST", "/latest/agents/trigger")
        .iter()
        .map(|r| r.json())
        .collect()
}

#[tokio::test]
async fn an_api_key_trigger_sends_the_agent_config_it_read_plus_use_streaming() {
    let t = TestEmulator::start_with(SEED).await;
    let recorder = Recorder::start(&t.base_url).await;
    let client = client(&recorder.base_url);
    let agent = client.agents().get("typist").await.unwrap();
    let task = agent.send_message("first").await.unwrap();
    agent
        .message("second, without streaming")
        .in_task(&task)
        .streaming(false)
        .send()
        .await
        .unwrap();

    let sent = triggers(&recorder);
    assert_eq!(sent.len(), 2, "{sent:?}");
    let mut expected = agent_config(&t, "typist").await;
    assert_eq!(
        expected["use_streaming"],
        json!(false),
        "the agent's own setting"
    );
    expected["use_streaming"] = json!(true);
    assert_eq!(
        sent[0]["agent_override"], expected,
        "the whole config as read, plus use_streaming: true"
    );
    for field in [
        "agent_id",
        "name",
        "description",
        "emoji",
        "model",
        "project",
        "_id",
    ] {
        assert!(
            sent[0]["agent_override"].get(field).is_some(),
            "{field} is sent back"
        );
    }
    assert!(
        sent[1].get("agent_override").is_none(),
        "streaming(false) sends no override: {}",
        sent[1]
    );
    assert_eq!(sent[1]["conversation_id"], json!(task.id));
}

#[tokio::test]
async fn an_embed_key_trigger_never_carries_an_override() {
    let t = TestEmulator::start_with(SEED).await;
    let recorder = Recorder::start(&t.base_url).await;
    let key = Key::generate_embed_key(
        EmbedKeyOptions::agent(Region::US, PROJECT, "typist").base_url(recorder.base_url.clone()),
    )
    .await
    .unwrap();
    let prefix = key.task_prefix().unwrap().to_string();
    let client = Client::builder(key)
        .base_url(recorder.base_url.clone())
        .build()
        .unwrap();
    let agent = client.agents().get("typist").await.unwrap();
    agent.send_message("hello").await.unwrap();
    let sent = triggers(&recorder);
    assert_eq!(sent.len(), 1);
    assert!(sent[0].get("agent_override").is_none(), "{}", sent[0]);
    let id = sent[0]["conversation_id"].as_str().unwrap();
    assert!(id.starts_with(&format!("{prefix}_-_")), "{id}");
}

#[tokio::test]
async fn a_workforce_trigger_asks_for_streaming() {
    let t = TestEmulator::start_with(SEED).await;
    let recorder = Recorder::start(&t.base_url).await;
    let client = client(&recorder.base_url);
    client
        .workforces()
        .get("desk")
        .await
        .unwrap()
        .send_message("hi")
        .await
        .unwrap();
    let sent: Vec<Value> = recorder
        .matching("POST", "/latest/workforce/trigger")
        .iter()
        .map(|r| r.json())
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["trigger"]["use_streaming"], json!(true));
}

#[tokio::test]
async fn the_upload_put_carries_the_media_type_and_the_expiry_tag_and_no_key() {
    let t = TestEmulator::start_with(SEED).await;
    let recorder = Recorder::start(&t.base_url).await;
    let client = client(&recorder.base_url);
    let agent = client.agents().get("typist").await.unwrap();
    let task = agent
        .message("see the notes")
        .attach(Attachment::bytes("notes.txt", b"plain words".to_vec()))
        .send()
        .await
        .unwrap();
    let puts = recorder.matching("PUT", "/upload");
    assert_eq!(puts.len(), 1, "{:?}", recorder.requests());
    let put = &puts[0];
    assert_eq!(put.headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(put.headers["x-amz-tagging"], "Expire=true");
    assert!(put.headers.get("authorization").is_none());
    assert_eq!(put.body, b"plain words");

    // The emulator keeps the type it was given and serves the file with it.
    let messages = task.messages().await.unwrap();
    let MessageContent::User(user) = &messages[0].content else {
        panic!("the first message is the user's");
    };
    let served = reqwest::get(&user.attachments[0].file_url).await.unwrap();
    assert_eq!(served.status(), 200);
    let served_type = served.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(served_type.starts_with("text/plain"), "{served_type}");
    assert_eq!(served.bytes().await.unwrap().as_ref(), b"plain words");
}

/// Follows a task to its final agent reply; answers the typing events and the reply.
async fn typed_until_reply(task: &Task) -> (Vec<(String, String)>, String) {
    let mut events = task.events();
    let mut typed = Vec::new();
    for _ in 0..10_000 {
        match events.next().await.expect("stream").expect("event") {
            TaskEvent::Typing { delta, text, .. } => typed.push((delta, text)),
            TaskEvent::Message(message) => {
                if let MessageContent::Agent(reply) = message.content {
                    return (typed, reply.text);
                }
            }
            _ => {}
        }
    }
    panic!("no reply within 10,000 events");
}

#[tokio::test]
async fn streaming_asked_for_types_live_and_streaming_off_sends_no_tokens() {
    let t = TestEmulator::start_with(SEED).await;
    let client = t.client(Key::new(API_KEY, Region::US, PROJECT).unwrap());
    let agent = client.agents().get("typist").await.unwrap();

    let streamed = agent.send_message("on").await.unwrap();
    let (typed, reply) = typed_until_reply(&streamed).await;
    assert!(typed.len() > 3, "fragments arrived: {typed:?}");
    let mut so_far = String::new();
    for (delta, text) in &typed {
        so_far.push_str(delta);
        assert_eq!(text, &so_far, "text is the deltas added up");
    }
    assert_eq!(so_far, reply, "the fragments add up to the final reply");

    let quiet = agent.message("off").streaming(false).send().await.unwrap();
    let (typed, reply) = typed_until_reply(&quiet).await;
    assert!(
        typed.is_empty(),
        "no stream events without streaming: {typed:?}"
    );
    assert!(reply.ends_with("off."), "the reply still arrives: {reply}");
}
