//! The `relevance` binary against the platform as it really answers (PROTOCOL A1's end,
//! A14, A17, C): a project in a fourth region from seed to a persisted key and back,
//! `whoami` for both kinds of key, a refused key naming project and region, and
//! `tasks send` with `--param` and `--external-id`.

mod common;

use common::binary::{run, text};
use common::TestEmulator;
use serde_json::Value;

const SEED: &str = r#"
[[projects]]
id = "proj-4"
region = "1e3042"
api_keys = ["sk-test-cli4-0001-4444444444"]

[[projects.agents]]
id = "greeter"
public = true
behavior = "script"
script = [{ reply = "hello {params.name}: {message}", delay_ms = 1 }]
"#;
const KEY: &str = "sk-test-cli4-0001-4444444444";

fn json_of(output: &std::process::Output) -> Value {
    assert!(output.status.success(), "{}", text(&output.stderr));
    serde_json::from_str(text(&output.stdout).trim()).expect("one JSON object")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fourth_region_project_from_seed_to_persisted_key_and_whoami_for_both_kinds() {
    let t = TestEmulator::start_with(SEED).await;
    let api = [
        "--api-key",
        KEY,
        "--project",
        "proj-4",
        "--region",
        "1e3042",
        "--base-url",
        &t.base_url,
    ];
    let mut args = vec!["whoami", "--json"];
    args.extend(api);
    let who = json_of(&run(&args).await);
    assert_eq!(who["kind"], "api");
    assert_eq!(who["region"], "1e3042");
    assert_eq!(who["project"], "proj-4");
    assert!(who["key_id"]
        .as_str()
        .is_some_and(|id| id.starts_with("key_")));
    assert!(!who.to_string().contains(KEY));

    let mut args = vec!["whoami"];
    args.extend(api);
    let human = run(&args).await;
    let lines = text(&human.stdout);
    assert!(lines.contains("region:   1e3042"), "{lines}");
    assert!(lines.contains("kind:     API key"), "{lines}");

    let file = t.path("key.json");
    let file = file.to_str().unwrap();
    let saved = run(&[
        "embed-key",
        "--agent",
        "greeter",
        "--project",
        "proj-4",
        "--region",
        "1e3042",
        "--base-url",
        &t.base_url,
        "--save",
        file,
    ])
    .await;
    assert!(saved.status.success(), "{}", text(&saved.stderr));
    assert!(std::fs::read_to_string(file)
        .unwrap()
        .contains(r#""region":"1e3042""#));
    let embed = json_of(
        &run(&[
            "whoami",
            "--json",
            "--key-file",
            file,
            "--base-url",
            &t.base_url,
        ])
        .await,
    );
    assert_eq!(embed["kind"], "embed");
    assert_eq!(embed["region"], "1e3042");
    assert_ne!(embed["key_id"], who["key_id"]);
    assert_eq!(
        embed["permissions"]["projects"]["proj-4"]["items"]["embed"]["resources"]["agents"]
            ["greeter"],
        true
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_key_is_one_line_naming_project_region_and_what_to_check() {
    let t = TestEmulator::start_with(SEED).await;
    for (key, region, says) in [
        ("sk-wrong", "1e3042", "has no live key"),
        (KEY, "eu", "lives in region 1e3042"),
    ] {
        let output = run(&[
            "whoami",
            "--api-key",
            key,
            "--project",
            "proj-4",
            "--region",
            region,
            "--base-url",
            &t.base_url,
        ])
        .await;
        assert!(!output.status.success());
        let stderr = text(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        for part in [
            says,
            "project 'proj-4'",
            "check the key, the project id and the region",
        ] {
            assert!(stderr.contains(part), "{stderr} lacks {part}");
        }
        assert!(
            !stderr.contains(KEY) && !stderr.contains("sk-wrong"),
            "{stderr}"
        );
        let json = run(&[
            "whoami",
            "--json",
            "--api-key",
            key,
            "--project",
            "proj-4",
            "--region",
            region,
            "--base-url",
            &t.base_url,
        ])
        .await;
        let error: Value = serde_json::from_str(text(&json.stderr).trim()).expect("a JSON error");
        assert_eq!(error["kind"], "unauthorized", "{error}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tasks_send_passes_params_and_an_external_id_that_joins_its_conversation() {
    let t = TestEmulator::start_with(SEED).await;
    let send = |message: &'static str| {
        let base = t.base_url.clone();
        async move {
            json_of(
                &run(&[
                    "tasks",
                    "send",
                    "--json",
                    "--agent",
                    "greeter",
                    message,
                    "--param",
                    "name=Ada",
                    "--external-id",
                    "order-9",
                    "--api-key",
                    KEY,
                    "--project",
                    "proj-4",
                    "--region",
                    "1e3042",
                    "--base-url",
                    &base,
                ])
                .await,
            )
        }
    };
    let first = send("one").await;
    let second = send("two").await;
    assert_eq!(
        first["task_id"], second["task_id"],
        "one conversation per external id"
    );
    let task = first["task_id"].as_str().unwrap().to_string();
    let mut shown = String::new();
    for _ in 0..200 {
        let output = run(&[
            "tasks",
            "show",
            "--agent",
            "greeter",
            &task,
            "--api-key",
            KEY,
            "--project",
            "proj-4",
            "--region",
            "1e3042",
            "--base-url",
            &t.base_url,
        ])
        .await;
        shown = text(&output.stdout);
        if shown.contains("hello Ada: two") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        shown.contains("hello Ada: one") && shown.contains("hello Ada: two"),
        "{shown}"
    );
    let bad = run(&[
        "tasks", "send", "--agent", "greeter", "x", "--param", "noequals",
    ])
    .await;
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("KEY=VALUE"),
        "{}",
        text(&bad.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_sends_params_with_its_message() {
    let t = TestEmulator::start_with(SEED).await;
    let output = run(&[
        "chat",
        "greeter",
        "-m",
        "hi",
        "--param",
        "name=Ada",
        "--external-id",
        "chat-1",
        "--api-key",
        KEY,
        "--project",
        "proj-4",
        "--region",
        "1e3042",
        "--base-url",
        &t.base_url,
    ])
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("hello Ada: hi"), "{stdout}");
}
