//! Knowledge through the SDK against the emulator over loopback (PROTOCOL A16): typed
//! rows added in batches the SDK sizes, read raw and typed, paged both ways and filtered,
//! updated partially, deleted, cleared and dropped; every row streamed a page at a time;
//! an agent's conversation found among the hidden sets; bad data refused before any
//! request; an embed key refused.

#![cfg(not(target_family = "wasm"))]

use futures_util::StreamExt;
use relevance::{Client, EmbedKeyOptions, Error, Key, Region, RowListOptions, SetListOptions};
use relevance_testkit::{settle, TestEmulator};
use serde::{Deserialize, Serialize};
use serde_json::json;

const KEY: &str = "sk-test-know-0001-kkkkkkkkkkkkkkkkkk";

const SEED: &str = r#"
[[projects]]
id = "proj-know"
region = "us"
api_keys = ["sk-test-know-0001-kkkkkkkkkkkkkkkkkk"]

[[projects.agents]]
id = "helper"
name = "Helper"
public = true
"#;

fn api_client(t: &TestEmulator) -> Client {
    t.client(Key::new(KEY, Region::US, "proj-know").expect("key"))
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Faq {
    question: String,
    answer: String,
    #[serde(default)]
    votes: u32,
}

fn faq(n: usize) -> Faq {
    Faq {
        question: format!("q{n}"),
        answer: format!("a{n}"),
        votes: (n % 3) as u32,
    }
}

#[tokio::test]
async fn typed_rows_are_added_read_updated_deleted_cleared_and_dropped() {
    let t = TestEmulator::start_with(SEED).await;
    let client = api_client(&t);
    let set = client.knowledge().set("faq").expect("a good name");
    let items: Vec<Faq> = (0..5).map(faq).collect();
    let ids = set.add(&items).await.expect("added");
    assert_eq!(ids.len(), 5);

    let typed = set
        .rows_as::<Faq>(RowListOptions::default())
        .await
        .expect("typed");
    let read: Vec<Faq> = typed.iter().map(|row| row.data.clone()).collect();
    assert_eq!(read, items);
    assert_eq!(typed[0].document_id, ids[0]);
    assert!(typed[0].created_at.is_some());
    assert_eq!(typed.next_cursor, None, "a short page is the last");

    let newest = set
        .rows(RowListOptions {
            newest_first: true,
            page_size: Some(2),
            ..Default::default()
        })
        .await
        .expect("newest");
    assert_eq!(newest[0].data["question"], "q4");
    assert_eq!(newest.next_cursor.as_deref(), Some("2"));
    let filtered = set
        .rows(RowListOptions {
            filters: vec![("votes".into(), json!(1))],
            ..Default::default()
        })
        .await
        .expect("filtered");
    let questions: Vec<&str> = filtered
        .iter()
        .map(|r| r.data["question"].as_str().unwrap())
        .collect();
    assert_eq!(questions, ["q1", "q4"]);

    set.update(&ids[1], &json!({"votes": 10}))
        .await
        .expect("partial update");
    let one = set
        .rows_as::<Faq>(RowListOptions {
            filters: vec![("document_id".into(), json!(ids[1]))],
            ..Default::default()
        })
        .await
        .expect("one");
    assert_eq!(
        one[0].data,
        Faq {
            votes: 10,
            ..faq(1)
        }
    );

    set.delete(&ids[0]).await.expect("deleted");
    let again = set.delete(&ids[0]).await;
    assert!(matches!(again, Err(Error::NotFound { .. })), "{again:?}");
    let infos = client
        .knowledge()
        .list(SetListOptions::default())
        .await
        .expect("sets");
    assert_eq!(
        (infos[0].name.as_str(), infos[0].row_count, infos[0].hidden),
        ("faq", 4, false)
    );

    set.clear().await.expect("cleared");
    assert!(set
        .rows(RowListOptions::default())
        .await
        .expect("empty")
        .is_empty());
    set.clone().drop().await.expect("dropped");
    let gone = set.rows(RowListOptions::default()).await;
    assert!(matches!(gone, Err(Error::NotFound { .. })), "{gone:?}");
    assert!(client
        .knowledge()
        .list(SetListOptions::default())
        .await
        .expect("sets")
        .is_empty());
    t.stop().await;
}

#[tokio::test]
async fn every_row_streams_in_order_a_page_at_a_time() {
    let t = TestEmulator::start_with(SEED).await;
    let client = api_client(&t);
    let set = client.knowledge().set("many").expect("name");
    let items: Vec<serde_json::Value> = (0..2345).map(|n| json!({"n": n})).collect();
    set.add(&items).await.expect("added in batches");
    let mut seen = 0u64;
    let mut rows = set.all_rows_as::<serde_json::Value>();
    while let Some(row) = rows.next().await {
        assert_eq!(row.expect("row").data["n"], seen);
        seen += 1;
    }
    assert_eq!(seen, 2345);
    let names: Vec<String> = client
        .knowledge()
        .all(SetListOptions {
            page_size: Some(1),
            ..Default::default()
        })
        .map(|set| set.expect("set").name)
        .collect()
        .await;
    assert_eq!(names, ["many"]);
    t.stop().await;
}

#[tokio::test]
async fn conversations_are_hidden_sets_of_their_agent() {
    let t = TestEmulator::start_with(SEED).await;
    let client = api_client(&t);
    let agent = client.agents().get("helper").await.expect("agent");
    let mut task = agent.send_message("hello").await.expect("sent");
    settle(&mut task).await;
    let hidden = client
        .knowledge()
        .list(SetListOptions {
            include_hidden: true,
            filters: vec![
                ("type".into(), json!("conversation")),
                ("conversation.agent_id".into(), json!("helper")),
            ],
            ..Default::default()
        })
        .await
        .expect("conversations");
    assert_eq!(hidden.len(), 1);
    assert_eq!(hidden[0].name, task.id);
    assert_eq!(
        (hidden[0].kind.as_deref(), hidden[0].agent_id.as_deref()),
        (Some("conversation"), Some("helper"))
    );
    assert!(hidden[0].hidden);
    let messages = client
        .knowledge()
        .set(&task.id)
        .expect("name")
        .rows(RowListOptions::default())
        .await
        .expect("rows");
    assert_eq!(
        messages[0].data["message"],
        json!({"role": "user", "content": "hello"})
    );
    t.stop().await;
}

#[tokio::test]
async fn bad_data_is_refused_before_any_request_and_embed_keys_are_refused() {
    let t = TestEmulator::start_with(SEED).await;
    let client = api_client(&t);
    for name in ["", " padded", "*", "a\u{7}b"] {
        let refused = client.knowledge().set(name);
        assert!(
            matches!(refused, Err(Error::InvalidKnowledge { .. })),
            "{name:?}"
        );
    }
    let set = client.knowledge().set("mixed").expect("name");
    let refused = set.add(&[json!({"ok": 1}), json!(2)]).await;
    match refused {
        Err(Error::InvalidKnowledge { problem }) => assert!(problem.contains("row 1"), "{problem}"),
        other => panic!("{other:?}"),
    }
    let refused = set.update("x", &json!(["not", "an", "object"])).await;
    assert!(
        matches!(refused, Err(Error::InvalidKnowledge { .. })),
        "{refused:?}"
    );
    // Nothing was sent: the set was never made.
    assert!(client
        .knowledge()
        .list(SetListOptions::default())
        .await
        .expect("sets")
        .is_empty());

    let embed = Key::generate_embed_key(
        EmbedKeyOptions::agent(Region::US, "proj-know", "helper").base_url(t.base_url.clone()),
    )
    .await
    .expect("embed key");
    let visitor = t.client(embed);
    let refused = visitor.knowledge().list(SetListOptions::default()).await;
    assert!(
        matches!(refused, Err(Error::Forbidden { .. })),
        "{refused:?}"
    );
    t.stop().await;
}
