//! `relevance webhook send` and the webhook URLs of `relevance agents get`, through the
//! binary, against an emulator over loopback.

mod common;

use common::binary::{relevance, run, text};
use common::TestEmulator;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

const KEY: &str = "sk-test-cliwebhooks-01-hhhhhhhhhhhhh";

const SEED: &str = r#"
[[projects]]
id = "proj-wh"
region = "us"
api_keys = ["sk-test-cliwebhooks-01-hhhhhhhhhhhhh"]

[[projects.agents]]
id = "inbox"

[[projects.agents.webhooks]]
id = "inbox-hook-0001"
name = "Form posts"
message_template = "Form from {{email}}: {{message}}"
unique_id_field = "submission"
"#;

fn hook_url(t: &TestEmulator) -> String {
    format!(
        "{}/bcbe5a/latest/agents/hooks/custom-trigger/proj-wh/inbox-hook-0001",
        t.base_url
    )
}

#[tokio::test]
async fn send_prints_the_conversation_then_the_duplicate_and_never_the_trigger_id() {
    let t = TestEmulator::start_with(SEED).await;
    let url = hook_url(&t);
    let data = r#"{"submission": "s-1", "email": "ada@example.com"}"#;
    let first = run(&["webhook", "send", &url, "--data", data]).await;
    let out = text(&first.stdout);
    assert!(first.status.success(), "{out}{}", text(&first.stderr));
    assert!(out.contains("conversation: "), "{out}");
    assert!(out.contains("job: "), "{out}");
    assert!(out.contains("missing:      message"), "{out}");

    let again = run(&["webhook", "send", &url, "--data", data, "--json"]).await;
    let answer: Value = serde_json::from_slice(&again.stdout).expect("JSON on stdout");
    assert_eq!(answer["duplicate"], true);

    let unknown = url.replace("inbox-hook-0001", "nope-hook-0001");
    let refused = run(&["webhook", "send", &unknown, "--data", "{}"]).await;
    assert!(!refused.status.success());
    let err = text(&refused.stderr);
    assert!(err.contains("no webhook trigger at this URL"), "{err}");
    assert!(err.contains("custom-trigger/proj-wh/(redacted)"), "{err}");
    assert!(!err.contains("nope-hook-0001"), "{err}");
}

#[tokio::test]
async fn bad_payloads_and_urls_are_named_before_anything_is_sent() {
    let t = TestEmulator::start_with(SEED).await;
    let url = hook_url(&t);
    let cases: &[(&[&str], &str)] = &[
        (&["webhook", "send", &url, "--data", "{oops"], "is not JSON"),
        (&["webhook", "send", &url], "no payload"),
        (
            &[
                "webhook",
                "send",
                "https://example.com/latest/agents/trigger",
                "--data",
                "{}",
            ],
            "invalid webhook URL",
        ),
        (
            &[
                "webhook",
                "send",
                &url,
                "--payload-json",
                "/no/such/file.json",
            ],
            "cannot read payload file",
        ),
    ];
    for (args, needle) in cases {
        let output = run(args).await;
        let err = text(&output.stderr);
        assert!(!output.status.success(), "{args:?}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    assert!(
        t.admin.count("custom-trigger/proj-wh/(redacted)").await == 0,
        "nothing was sent"
    );
}

#[tokio::test]
async fn the_payload_can_come_from_stdin() {
    let t = TestEmulator::start_with(SEED).await;
    let mut child = relevance()
        .args([
            "webhook",
            "send",
            &hook_url(&t),
            "--payload-json",
            "-",
            "--json",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start relevance");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(br#"{"submission": "s-9", "email": "bo@example.com", "message": "hi"}"#)
        .await
        .expect("write payload");
    drop(stdin);
    let output = child.wait_with_output().await.expect("ran");
    let answer: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(answer["missing_fields"], serde_json::json!([]));
    assert_eq!(answer["unique_id"], "s-9");
}

#[tokio::test]
async fn agents_get_lists_the_webhook_urls_on_the_emulator() {
    let t = TestEmulator::start_with(SEED).await;
    let creds = [
        "--api-key",
        KEY,
        "--project",
        "proj-wh",
        "--region",
        "us",
        "--base-url",
        &t.base_url,
    ];
    let shown = run(&[&["agents", "get", "inbox"][..], &creds[..]].concat()).await;
    let out = text(&shown.stdout);
    assert!(shown.status.success(), "{out}{}", text(&shown.stderr));
    assert!(out.contains(&hook_url(&t)), "{out}");
    assert!(
        out.contains("message: Form from {{email}}: {{message}}"),
        "{out}"
    );

    let json = run(&[&["agents", "get", "inbox", "--json"][..], &creds[..]].concat()).await;
    let agent: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(agent["webhooks"][0]["url"], hook_url(&t).as_str());
    assert_eq!(agent["webhooks"][0]["name"], "Form posts");
}
