//! The chat asks before a tool run that waits for a person, through the binary with a
//! scripted stdin; `--json` never asks and `--approve all|none` decides; and the
//! `tasks rerun|delete|schedule` commands.

mod common;

use common::binary::{relevance, run, text};
use common::TestEmulator;
use relevance::{Key, MessageContent, Region, ToolRun, ToolStatus};
use serde_json::{json, Value};

const API_KEY: &str = "sk-test-chat-0001-aaaaaaaaaaaaaaaaaa";

const SEED: &str = r#"
[[projects]]
id = "proj-c"
region = "us"
api_keys = ["sk-test-chat-0001-aaaaaaaaaaaaaaaaaa"]

[[projects.agents]]
id = "mailer"
public = true
behavior = "script"
script = [
  { reply = "drafted {message}", delay_ms = 1 },
  { tool = "send_email", requires_confirmation = true, input = { to = "team@example.com", subject = "{message}" }, delay_ms = 1 },
  { reply = "after the e-mail", delay_ms = 1 },
]

[[projects.agents]]
id = "echo"
public = true
behavior = "script"
script = [
  { reply = "re: {message}", delay_ms = 1 },
]
"#;

fn credentials(t: &TestEmulator) -> Vec<String> {
    [
        "--api-key",
        API_KEY,
        "--project",
        "proj-c",
        "--region",
        "US",
        "--base-url",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([t.base_url.clone()])
    .collect()
}

/// Runs the binary with `args`, `stdin` written to it and closed.
async fn with_stdin(args: &[String], stdin: &str) -> std::process::Output {
    use tokio::io::AsyncWriteExt;
    let mut child = relevance()
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    child.wait_with_output().await.unwrap()
}

/// The one task of `mailer` and its tool run, read through the SDK.
async fn the_tool_run(t: &TestEmulator) -> ToolRun {
    let client = t.client(Key::new(API_KEY, Region::US, "proj-c").unwrap());
    let agent = client.agents().get("mailer").await.unwrap();
    let tasks = agent.tasks(Default::default()).await.unwrap().items;
    assert_eq!(tasks.len(), 1);
    tasks[0]
        .messages()
        .await
        .unwrap()
        .into_iter()
        .find_map(|message| match message.content {
            MessageContent::ToolRun(run) => Some(run),
            _ => None,
        })
        .expect("a tool run")
}

fn chat(t: &TestEmulator, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["chat", "mailer", "-m", "launch"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(credentials(t));
    args
}

#[tokio::test(flavor = "multi_thread")]
async fn the_chat_asks_and_sends_the_answer() {
    let question =
        r#"Approve "send_email" with {"subject":"launch","to":"team@example.com"}? [y/N/e(dit)]"#;
    // (stdin, the run's status afterwards, what stderr says, the `to` it ran with)
    let cases = [
        (
            "y\n",
            ToolStatus::Completed,
            "(approved \"send_email\")",
            Some("team@example.com"),
        ),
        (
            "\n",
            ToolStatus::Cancelled,
            "(rejected \"send_email\")",
            None,
        ),
        ("", ToolStatus::Cancelled, "(rejected \"send_email\")", None),
        (
            "e\nnot json\n{\"to\": \"boss@example.com\"}\n",
            ToolStatus::Completed,
            "(approved \"send_email\")",
            Some("boss@example.com"),
        ),
    ];
    for (stdin, status, said, to) in cases {
        let t = TestEmulator::start_with(SEED).await;
        let output = with_stdin(&chat(&t, &[]), stdin).await;
        let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
        assert!(output.status.success(), "{stdin:?}: {stderr}");
        assert!(stdout.contains(question), "{stdin:?}: {stdout}");
        assert!(stderr.contains(said), "{stdin:?}: {stderr}");
        assert!(
            stdout.contains("agent> after the e-mail"),
            "{stdin:?}: {stdout}"
        );
        let run = the_tool_run(&t).await;
        assert_eq!(run.status, status, "{stdin:?}");
        let ran_with = run.output().map(|output| output["params"]["to"].clone());
        assert_eq!(ran_with, to.map(|to| json!(to)), "{stdin:?}");
    }
}

fn events(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn with_json_the_chat_never_asks_and_approve_decides() {
    // (flags, the run's status afterwards)
    let cases: [(&[&str], ToolStatus); 3] = [
        (&["--json"], ToolStatus::Pending),
        (&["--json", "--approve", "all"], ToolStatus::Completed),
        (&["--json", "--approve", "none"], ToolStatus::Cancelled),
    ];
    for (flags, status) in cases {
        let t = TestEmulator::start_with(SEED).await;
        // A "y" on stdin must not be taken as an answer.
        let output = with_stdin(&chat(&t, flags), "y\n").await;
        let stdout = text(&output.stdout);
        assert!(
            output.status.success(),
            "{flags:?}: {}",
            text(&output.stderr)
        );
        assert!(!stdout.contains("Approve"), "{flags:?}: {stdout}");
        let events = events(&stdout);
        let asked: Vec<&Value> = events
            .iter()
            .filter(|event| event["event"] == "approval_needed")
            .collect();
        assert_eq!(asked.len(), 1, "{flags:?}: {stdout}");
        assert_eq!(asked[0]["tool_id"], "send_email");
        assert_eq!(asked[0]["params"]["to"], "team@example.com");
        assert_eq!(the_tool_run(&t).await.status, status, "{flags:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tasks_rerun_delete_and_schedule() {
    let t = TestEmulator::start_with(SEED).await;
    let creds = credentials(&t);
    let args = |list: &[&str]| -> Vec<String> {
        list.iter()
            .map(|s| s.to_string())
            .chain(creds.iter().cloned())
            .collect()
    };
    let client = t.client(Key::new(API_KEY, Region::US, "proj-c").unwrap());
    let agent = client.agents().get("echo").await.unwrap();
    let mut task = agent.send_message("first").await.unwrap();
    common::settle(&mut task).await;
    agent.message("second").in_task(&task).send().await.unwrap();
    common::settle(&mut task).await;

    let rerun = with_stdin(
        &args(&[
            "tasks", "rerun", "--agent", "echo", &task.id, "--text", "edited",
        ]),
        "",
    )
    .await;
    assert!(rerun.status.success(), "{}", text(&rerun.stderr));
    common::settle(&mut task).await;
    let texts: Vec<String> = task
        .messages()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|m| match m.content {
            MessageContent::User(u) => Some(u.text),
            MessageContent::Agent(a) => Some(a.text),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["edited", "re: edited"]);

    let schedule = with_stdin(
        &args(&[
            "tasks", "schedule", "--agent", "echo", &task.id, "later", "--in", "5m", "--json",
        ]),
        "",
    )
    .await;
    assert!(schedule.status.success(), "{}", text(&schedule.stderr));
    let answer: Value = serde_json::from_slice(&schedule.stdout).unwrap();
    assert!(answer["trigger_id"]
        .as_str()
        .is_some_and(|id| !id.is_empty()));
    let bad = with_stdin(
        &args(&[
            "tasks", "schedule", "--agent", "echo", &task.id, "x", "--in", "soon",
        ]),
        "",
    )
    .await;
    assert!(!bad.status.success());
    assert!(text(&bad.stderr).contains("--in"), "{}", text(&bad.stderr));

    let delete = with_stdin(&args(&["tasks", "delete", "--agent", "echo", &task.id]), "").await;
    assert!(delete.status.success(), "{}", text(&delete.stderr));
    assert!(matches!(
        task.refresh().await,
        Err(relevance::Error::NotFound { .. })
    ));
    let again = run(&args(&["tasks", "delete", "--agent", "echo", &task.id])
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>())
    .await;
    assert!(!again.status.success(), "a deleted task is not found");
}
