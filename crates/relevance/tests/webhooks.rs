//! Webhooks through the SDK against the emulator over loopback: events sent to an agent's
//! webhook URL (a thread continued, a duplicate ignored, the job followed to the agent's
//! reply, an unknown trigger refused without the URL in the error) and a tool run through
//! its webhook form with good and bad params.

#![cfg(not(target_family = "wasm"))]

use relevance::{Client, Error, Key, Region, ToolOutputStatus, WebhookUrl};
use relevance_testkit::TestEmulator;
use serde_json::json;

const KEY: &str = "sk-test-webhooks-0001-wwwwwwwwwwwwwww";

const SEED: &str = r#"
[[projects]]
id = "proj-hooks"
region = "eu"
api_keys = ["sk-test-webhooks-0001-wwwwwwwwwwwwwww"]

[[projects.tools]]
id = "stock"
params_schema = { type = "object", properties = { sku = { type = "string" } }, required = ["sku"] }
output = { sku = "{sku}", in_stock = 3 }

[[projects.agents]]
id = "support"
behavior = "script"
script = [{ reply = "Looking at: {message}", delay_ms = 5 }]

[[projects.agents.webhooks]]
id = "tickets-hook-0001"
message_template = "Ticket {{ticket.id}}: {{ticket.subject}}"
thread_id_field = "ticket.id"
unique_id_field = "delivery"
"#;

fn hook_url(t: &TestEmulator, trigger: &str) -> WebhookUrl {
    let text = format!(
        "{}/{}/latest/agents/hooks/custom-trigger/proj-hooks/{trigger}",
        t.base_url,
        Region::EU.code()
    );
    WebhookUrl::parse(&text).expect("a webhook URL")
}

fn client(t: &TestEmulator) -> Client {
    t.client(Key::new(KEY, Region::EU, "proj-hooks").expect("key"))
}

#[tokio::test]
async fn events_thread_deduplicate_and_their_job_ends_with_the_reply() {
    let t = TestEmulator::start_with(SEED).await;
    let url = hook_url(&t, "tickets-hook-0001");
    assert_eq!(
        (url.project(), url.region()),
        ("proj-hooks", Some(Region::EU))
    );
    let event = |delivery: &str, subject: &str| json!({"delivery": delivery, "ticket": {"id": 501, "subject": subject}});

    let first = url
        .send(&event("d-1", "printer on fire"))
        .await
        .expect("sent");
    assert!(!first.duplicate);
    assert!(first.missing_fields.is_empty());
    let conversation = first.conversation_id.clone().expect("a conversation");
    let job = first.job.clone().expect("a job");
    let reply = client(&t)
        .tools()
        .job(job)
        .wait()
        .await
        .expect("the job ends");
    assert_eq!(reply.status, ToolOutputStatus::Complete);
    assert_eq!(
        reply.output.expect("output")["answer"],
        "Looking at: Ticket 501: printer on fire"
    );

    let second = url
        .send(&event("d-2", "still on fire"))
        .await
        .expect("sent");
    assert_eq!(
        second.conversation_id.as_deref(),
        Some(conversation.as_str())
    );
    let repeat = url
        .send(&event("d-2", "still on fire"))
        .await
        .expect("sent");
    assert!(repeat.duplicate);
    assert_eq!(repeat.job, None);
    assert_eq!(
        repeat.conversation_id.as_deref(),
        Some(conversation.as_str())
    );
}

#[tokio::test]
async fn an_unknown_trigger_is_not_found_and_the_error_hides_the_url() {
    let t = TestEmulator::start_with(SEED).await;
    let error = hook_url(&t, "no-such-trigger-42")
        .send(&json!({"x": 1}))
        .await
        .expect_err("refused");
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
    for shown in [error.to_string(), format!("{error:?}")] {
        assert!(!shown.contains("no-such-trigger-42"), "{shown}");
    }
    // Nothing listens on a closed port: the network error does not name the URL either.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let nowhere = WebhookUrl::parse(&format!(
        "http://127.0.0.1:{port}/d7b62b/latest/agents/hooks/custom-trigger/p/secret-trigger-77"
    ))
    .unwrap();
    let error = nowhere.send(&json!({})).await.expect_err("no server");
    for shown in [error.to_string(), format!("{error:?}")] {
        assert!(!shown.contains("secret-trigger-77"), "{shown}");
    }
}

#[tokio::test]
async fn a_tool_runs_through_its_webhook_form() {
    let t = TestEmulator::start_with(SEED).await;
    let tool = client(&t).tools().get("stock").await.expect("tool");
    let good = tool.run_webhook(json!({"sku": "B-7"})).await.expect("ran");
    assert_eq!(good.status, ToolOutputStatus::Complete);
    assert_eq!(good.output, Some(json!({"sku": "B-7", "in_stock": 3})));
    let bad = tool.run_webhook(json!({"sku": 7})).await.expect("answered");
    assert_eq!(bad.status, ToolOutputStatus::Failed);
    assert!(
        bad.errors.iter().any(|e| e.contains("sku")),
        "{:?}",
        bad.errors
    );
    let requests = t.admin.requests().await;
    assert!(
        requests.iter().any(|r| r["path"]
            .as_str()
            .is_some_and(|p| p.ends_with("/studios/stock/trigger_webhook"))),
        "{requests:?}"
    );
}
