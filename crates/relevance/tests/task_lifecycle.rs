//! A task's life through the SDK (PROTOCOL A11) against the emulator: the trigger message,
//! reruns, deleting, and a message scheduled for later (minutes scaled to milliseconds).

#![cfg(not(target_family = "wasm"))]

use relevance::{Client, EmbedKeyOptions, Error, Key, MessageContent, Region, Task};
use relevance_emulator::{Config, Emulator, SeedSource};
use relevance_testkit::{settle, TestEmulator};

const API_KEY: &str = "sk-test-life-0001-aaaaaaaaaaaaaaaaaa";

const SEED: &str = r#"
[[projects]]
id = "proj-l"
region = "us"
api_keys = ["sk-test-life-0001-aaaaaaaaaaaaaaaaaa"]

[[projects.agents]]
id = "echo"
public = true
behavior = "script"
script = [
  { reply = "re: {message}", delay_ms = 1 },
]
"#;

fn api_key() -> Key {
    Key::new(API_KEY, Region::US, "proj-l").unwrap()
}

async fn texts(task: &Task) -> Vec<String> {
    task.messages()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|message| match message.content {
            MessageContent::User(user) => Some(user.text),
            MessageContent::Agent(agent) => Some(agent.text),
            _ => None,
        })
        .collect()
}

async fn conversation(client: &Client, texts: &[&str]) -> Task {
    let agent = client.agents().get("echo").await.unwrap();
    let mut task = agent.send_message(texts[0]).await.unwrap();
    settle(&mut task).await;
    for text in &texts[1..] {
        agent.message(*text).in_task(&task).send().await.unwrap();
        settle(&mut task).await;
    }
    task
}

#[tokio::test]
async fn rerun_replaces_what_followed_the_trigger_message() {
    let t = TestEmulator::start_with(SEED).await;
    let client = t.client(api_key());
    let mut task = conversation(&client, &["first", "second"]).await;
    assert_eq!(
        texts(&task).await,
        ["first", "re: first", "second", "re: second"]
    );
    let first = task.trigger_message().await.unwrap();
    assert!(matches!(&first.content, MessageContent::User(user) if user.text == "first"));

    task.rerun().await.unwrap();
    settle(&mut task).await;
    assert_eq!(texts(&task).await, ["first", "re: first"]);

    task.rerun_with("edited").await.unwrap();
    settle(&mut task).await;
    assert_eq!(texts(&task).await, ["edited", "re: edited"]);
    assert_eq!(task.trigger_message().await.unwrap().id, first.id);

    let reply = task.messages().await.unwrap().remove(1);
    assert!(matches!(
        task.rerun_from(&reply.id, "x").await,
        Err(Error::BadRequest { .. })
    ));
    assert_eq!(texts(&task).await, ["edited", "re: edited"]);
}

#[tokio::test]
async fn a_deleted_task_is_not_found_and_embed_keys_may_not_delete() {
    let t = TestEmulator::start_with(SEED).await;
    let client = t.client(api_key());
    let task = conversation(&client, &["first"]).await;
    let embed = t.client(
        Key::generate_embed_key(
            EmbedKeyOptions::agent(Region::US, "proj-l", "echo").base_url(t.base_url.clone()),
        )
        .await
        .unwrap(),
    );
    let own = conversation(&embed, &["mine"]).await;
    assert!(matches!(own.delete().await, Err(Error::Forbidden { .. })));
    assert!(matches!(
        own.schedule_message("later", std::time::Duration::ZERO)
            .await,
        Err(Error::Forbidden { .. })
    ));
    assert_eq!(texts(&own).await, ["mine", "re: mine"]);

    task.delete().await.unwrap();
    let mut gone = task.clone();
    assert!(matches!(gone.refresh().await, Err(Error::NotFound { .. })));
    assert!(matches!(task.messages().await, Err(Error::NotFound { .. })));
    let agent = client.agents().get("echo").await.unwrap();
    let listed = agent.tasks(Default::default()).await.unwrap().items;
    assert!(listed.iter().all(|listed| listed.id != task.id));
    assert!(listed.iter().any(|listed| listed.id == own.id));
}

#[tokio::test]
async fn a_scheduled_message_arrives_after_its_scaled_delay() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let emulator = Emulator::start(
        Config {
            seed: Some(SeedSource::Text(SEED.to_string())),
            schedule_minute_ms: 1,
            ..Config::default()
        },
        listener,
    )
    .await
    .unwrap();
    let client = Client::builder(api_key())
        .base_url(emulator.base_url())
        .build()
        .unwrap();
    let mut task = conversation(&client, &["first"]).await;
    let trigger_id = task
        .schedule_message("later", std::time::Duration::from_secs(5 * 60))
        .await
        .unwrap();
    assert!(!trigger_id.is_empty());
    let mut arrived = false;
    for _ in 0..1000 {
        settle(&mut task).await;
        if texts(&task).await.len() == 4 {
            arrived = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(arrived, "the scheduled message never arrived");
    assert_eq!(
        texts(&task).await,
        ["first", "re: first", "later", "re: later"]
    );
}
