//! The `relevance` binary and jobs (PROTOCOL A15, A18): `tools run` follows a job (plain
//! lines when piped, JSON lines with --json), `--detach` then `tools job`, cancel,
//! `ask` prints only the reply, `tasks show` lists tool runs' costs.

mod common;

use common::binary::{run, text};
use common::TestEmulator;
use serde_json::Value;

const SEED: &str = r#"
[[projects]]
id = "proj-cj"
region = "us"
api_keys = ["sk-test-cli-jobs-0001"]

[[projects.tools]]
id = "slow"
params_schema = { type = "object", properties = { topic = { type = "string" } }, required = ["topic"] }
output = { report = "about {topic}" }
delay_ms = 1500
cost = 0.5

[[projects.agents]]
id = "writer"
behavior = "script"
script = [{ tool = "slow", input = { topic = "{message}" }, delay_ms = 1 }, { reply = "the answer to {message}", delay_ms = 1 }]

[[projects.agents]]
id = "broken"
behavior = "script"
script = [{ error = "the model is down", delay_ms = 1 }]
"#;

fn credentials(t: &TestEmulator) -> Vec<String> {
    [
        "--api-key",
        "sk-test-cli-jobs-0001",
        "--project",
        "proj-cj",
        "--region",
        "us",
        "--base-url",
        &t.base_url,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

async fn relevance(t: &TestEmulator, args: &[&str]) -> std::process::Output {
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.extend(credentials(t));
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    run(&refs).await
}

#[tokio::test(flavor = "multi_thread")]
async fn tools_run_follows_the_job_in_plain_lines_and_in_json() {
    let t = TestEmulator::start_with(SEED).await;
    let plain = relevance(&t, &["tools", "run", "slow", "--param", "topic=owls"]).await;
    assert!(plain.status.success(), "{}", text(&plain.stderr));
    let stdout = text(&plain.stdout);
    assert!(stdout.contains("status:  complete"), "{stdout}");
    assert!(stdout.contains(r#"{"report":"about owls"}"#), "{stdout}");
    let stderr = text(&plain.stderr);
    assert!(
        stderr.contains("running: 0s of 2s"),
        "piped progress lines: {stderr}"
    );
    assert!(
        !stderr.contains('\u{1b}') && !stdout.contains('\u{1b}'),
        "no escape codes when piped"
    );

    let json = relevance(
        &t,
        &["tools", "run", "slow", "--param", "topic=bees", "--json"],
    )
    .await;
    assert!(json.status.success(), "{}", text(&json.stderr));
    let lines: Vec<Value> = text(&json.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON lines"))
        .collect();
    assert!(lines.len() >= 3, "{lines:?}");
    assert_eq!(lines[0]["type"], "emulator-progress");
    assert_eq!(lines[lines.len() - 2]["type"], "chain-success");
    assert_eq!(lines[lines.len() - 1]["status"], "complete");

    let bad = relevance(&t, &["tools", "run", "slow", "--param", "topic=3"]).await;
    assert!(!bad.status.success());
    assert!(
        text(&bad.stdout).contains("status:  failed"),
        "{}",
        text(&bad.stdout)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_detached_job_is_picked_up_again_or_cancelled() {
    let t = TestEmulator::start_with(SEED).await;
    let started = relevance(
        &t,
        &[
            "tools", "run", "slow", "--param", "topic=x", "--detach", "--json",
        ],
    )
    .await;
    assert!(started.status.success(), "{}", text(&started.stderr));
    let ids: Value = serde_json::from_str(text(&started.stdout).trim()).unwrap();
    let job = ids["job_id"].as_str().unwrap().to_string();
    assert_eq!(ids["tool_id"], "slow");
    let now = relevance(&t, &["tools", "job", "slow", &job]).await;
    assert!(
        text(&now.stdout).contains(&format!("job {job}: running")),
        "{}",
        text(&now.stdout)
    );
    let waited = relevance(&t, &["tools", "job", "slow", &job, "--wait"]).await;
    assert!(waited.status.success(), "{}", text(&waited.stderr));
    assert!(text(&waited.stdout).contains("about x"));

    let other = relevance(
        &t,
        &[
            "tools", "run", "slow", "--param", "topic=y", "--detach", "--json",
        ],
    )
    .await;
    let other: Value = serde_json::from_str(text(&other.stdout).trim()).unwrap();
    let other = other["job_id"].as_str().unwrap().to_string();
    let cancelled = relevance(&t, &["tools", "job", "slow", &other, "--cancel"]).await;
    assert!(cancelled.status.success(), "{}", text(&cancelled.stderr));
    let after = relevance(&t, &["tools", "job", "slow", &other]).await;
    assert!(!after.status.success(), "a cancelled job did not complete");
    assert!(
        text(&after.stdout).contains("cancelled"),
        "{}",
        text(&after.stdout)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ask_prints_the_reply_and_nothing_else_and_tasks_show_lists_costs() {
    let t = TestEmulator::start_with(SEED).await;
    let asked = relevance(&t, &["ask", "writer", "life"]).await;
    assert!(asked.status.success(), "{}", text(&asked.stderr));
    assert_eq!(text(&asked.stdout), "the answer to life\n");
    let json = relevance(&t, &["ask", "writer", "again", "--json"]).await;
    let answer: Value = serde_json::from_str(text(&json.stdout).trim()).unwrap();
    let task = answer["task_id"].as_str().unwrap().to_string();

    let shown = relevance(&t, &["tasks", "show", "--agent", "writer", &task]).await;
    let stdout = text(&shown.stdout);
    assert!(stdout.contains("total cost 0.5"), "{stdout}");
    assert!(
        stdout.contains("slow") && stdout.contains("cost 0.5"),
        "{stdout}"
    );

    let broken = relevance(&t, &["ask", "broken", "hi"]).await;
    assert!(!broken.status.success());
    assert_eq!(
        text(&broken.stdout),
        "",
        "nothing on stdout when the run fails"
    );
    assert!(
        text(&broken.stderr).contains("the model is down"),
        "{}",
        text(&broken.stderr)
    );
}
