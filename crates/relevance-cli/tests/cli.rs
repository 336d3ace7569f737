//! The `relevance` binary, run as a user runs it: exit codes, one-line errors, no secrets.

mod common;

use std::process::Output;

use common::binary::{relevance, run, text};
use common::{TestEmulator, API_KEY_A};
use relevance::Key;

/// A failing command prints exactly one line on stderr, starting with `error:`.
fn assert_one_line_error(output: &Output, mentions: &[&str]) {
    assert!(
        !output.status.success(),
        "expected failure: {}",
        text(&output.stdout)
    );
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
    assert!(stderr.starts_with("error: "), "{stderr:?}");
    for word in mentions {
        assert!(stderr.contains(word), "{stderr:?} should mention {word}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_walks_through_every_step_and_succeeds() {
    let output = run(&["demo"]).await;
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        text(&output.stderr)
    );
    for step in [
        "create_client",
        "Client::new",
        "Embed key for a public agent",
        "Embed key for a workforce",
        "0 get_embed_key requests",
        "refused with 403",
        "refused with 404",
        "refused with 400",
        "a regenerated key works",
        "Every step behaved as documented.",
    ] {
        assert!(
            stdout.contains(step),
            "demo output lacks {step:?}:\n{stdout}"
        );
    }
    assert!(
        !stdout.contains("\"key\":\"sk-"),
        "the demo never prints a persisted secret"
    );

    let json = run(&["demo", "--json"]).await;
    assert!(json.status.success());
    let steps: Vec<serde_json::Value> = text(&json.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(steps.len(), 8);
    assert!(steps.iter().all(|s| s["ok"] == true));
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_credentials_name_the_flag_and_the_variable() {
    let output = run(&["agents", "list"]).await;
    assert_one_line_error(&output, &["--api-key", "RELEVANCE_API_KEY"]);

    let output = run(&["agents", "list", "--api-key", "sk-x", "--region", "us"]).await;
    assert_one_line_error(&output, &["--project", "RELEVANCE_PROJECT"]);

    let output = run(&[
        "agents",
        "list",
        "--api-key",
        "sk-x",
        "--project",
        "p",
        "--region",
        "mars",
    ])
    .await;
    assert_one_line_error(&output, &["mars", "bcbe5a"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn embed_key_save_then_inspect_and_use_the_file() {
    let t = TestEmulator::start().await;
    let file = t.path("agent-key.json");
    let file_arg = file.to_str().unwrap();
    let output = run(&[
        "embed-key",
        "--agent",
        "agent-public",
        "--project",
        "proj-a",
        "--region",
        "us",
        "--base-url",
        &t.base_url,
        "--save",
        file_arg,
    ])
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let printed = text(&output.stdout);
    let key = Key::from_json(printed.trim()).expect("stdout is the persisted key");
    assert!(key.is_embed());
    let saved = std::fs::read_to_string(&file).unwrap();
    assert_eq!(saved.trim(), printed.trim());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the key file is private to its owner");
    }

    let inspect = run(&["key", "inspect", file_arg]).await;
    assert!(inspect.status.success());
    let shown = text(&inspect.stdout);
    assert!(
        !shown.contains(&common::secret_of(&key)),
        "inspect never prints the secret"
    );
    for word in [
        "embed key",
        "agent agent-public",
        "proj-a",
        "bcbe5a",
        key.task_prefix().unwrap(),
    ] {
        assert!(shown.contains(word), "{shown} lacks {word}");
    }
    let inspect = run(&["key", "inspect", file_arg, "--json"]).await;
    let summary: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    assert_eq!(summary["kind"], "embed");
    assert_eq!(summary["scope"], "agent");
    assert_eq!(summary["target"], "agent-public");

    // The saved key drives the CLI: its own agent yes, the agent list no.
    let get = run(&[
        "agents",
        "get",
        "agent-public",
        "--key-file",
        file_arg,
        "--base-url",
        &t.base_url,
        "--json",
    ])
    .await;
    assert!(get.status.success(), "{}", text(&get.stderr));
    let agent: serde_json::Value = serde_json::from_slice(&get.stdout).unwrap();
    assert_eq!(agent["name"], "Support");
    let list = run(&[
        "agents",
        "list",
        "--key-file",
        file_arg,
        "--base-url",
        &t.base_url,
    ])
    .await;
    assert_one_line_error(&list, &["403"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn agents_list_and_get_with_an_api_key() {
    let t = TestEmulator::start().await;
    let creds = [
        "--api-key",
        API_KEY_A,
        "--project",
        "proj-a",
        "--region",
        "US",
        "--base-url",
        &t.base_url,
    ];
    let list = run(&[&["agents", "list", "--json"][..], &creds[..]].concat()).await;
    assert!(list.status.success(), "{}", text(&list.stderr));
    let value: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let ids: Vec<_> = value["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["agent-other-public", "agent-private", "agent-public"]);

    let human = run(&[&["agents", "list"][..], &creds[..]].concat()).await;
    assert!(text(&human.stdout).contains("agent-private"));

    let missing = run(&[&["agents", "get", "agent-none"][..], &creds[..]].concat()).await;
    assert_one_line_error(&missing, &["404"]);

    // The same through the environment instead of flags.
    let output = relevance()
        .args(["agents", "get", "agent-private", "--json"])
        .env("RELEVANCE_API_KEY", API_KEY_A)
        .env("RELEVANCE_PROJECT", "proj-a")
        .env("RELEVANCE_REGION", "bcbe5a")
        .env("RELEVANCE_BASE_URL", &t.base_url)
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));

    // A wrong region is a one-line refusal (the platform's 400) that says which region the
    // project is in.
    let wrong = run(&[
        "agents",
        "list",
        "--api-key",
        API_KEY_A,
        "--project",
        "proj-a",
        "--region",
        "eu",
        "--base-url",
        &t.base_url,
    ])
    .await;
    assert_one_line_error(
        &wrong,
        &[
            "400",
            "bcbe5a",
            "check the key, the project id and the region",
        ],
    );
    assert!(!text(&wrong.stderr).contains(API_KEY_A));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_key_file_is_one_line_naming_the_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("not-json.json", "{not json", "JSON"),
        ("no-region.json", r#"{"key":"k","project":"p"}"#, "region"),
        (
            "bad-region.json",
            r#"{"key":"k","region":"zz","project":"p"}"#,
            "zz",
        ),
        (
            "no-project.json",
            r#"{"key":"k","region":"bcbe5a"}"#,
            "project",
        ),
        (
            "key-number.json",
            r#"{"key":5,"region":"bcbe5a","project":"p"}"#,
            "key",
        ),
    ];
    for (name, body, field) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        let output = run(&["key", "inspect", path.to_str().unwrap()]).await;
        assert_one_line_error(&output, &[name, field]);
    }
    let output = run(&[
        "key",
        "inspect",
        dir.path().join("absent.json").to_str().unwrap(),
    ])
    .await;
    assert_one_line_error(&output, &["absent.json"]);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn the_emulator_command_prints_credentials_and_stops_on_sigterm() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = relevance()
        .args([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--data",
            dir.path().to_str().unwrap(),
            "--admin-token",
            "admin-token-for-tests-0123456789",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut banner = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        let done = line.contains("Ctrl-C");
        banner.push(line);
        if done {
            break;
        }
    }
    let banner = banner.join("\n");
    let base_url = banner
        .lines()
        .find_map(|l| l.strip_prefix("relevance emulator listening on "))
        .expect("banner names the URL")
        .to_owned();
    let api_key = banner
        .lines()
        .find_map(|l| l.trim().strip_prefix("export RELEVANCE_API_KEY="))
        .expect("demo API key printed");
    assert!(api_key.starts_with("sk-"));
    // A supplied token is the operator's already: neither it nor a link carrying it is printed.
    assert!(
        !banner.contains("admin-token-for-tests-0123456789"),
        "{banner}"
    );
    let dashboard = banner
        .lines()
        .find_map(|l| l.trim().strip_prefix("dashboard:"))
        .expect("the dashboard URL is printed")
        .trim();
    assert_eq!(dashboard, format!("{base_url}/dashboard"));
    // The one-click link made from the supplied token signs in: a session cookie and a redirect.
    let signed_in = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!(
            "{base_url}/dashboard/sign-in?token=admin-token-for-tests-0123456789"
        ))
        .send()
        .await
        .unwrap();
    assert!(
        signed_in.status().is_redirection(),
        "{}",
        signed_in.status()
    );
    assert!(signed_in.headers().get("set-cookie").is_some());

    // The printed credentials work.
    let list = run(&[
        "agents",
        "list",
        "--api-key",
        api_key,
        "--project",
        "demo-project",
        "--region",
        "us",
        "--base-url",
        &base_url,
        "--json",
    ])
    .await;
    assert!(list.status.success(), "{}", text(&list.stderr));

    let pid = child.id().unwrap().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().await.unwrap();
    assert!(
        output.status.success(),
        "exit after SIGTERM: {:?}",
        output.status
    );
    assert!(text(&output.stderr).contains("stopped"));
    assert!(dir.path().join("emulator.sqlite3").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_with_nothing_configured_talks_to_the_embedded_demo_agent() {
    // The echo agent by name: with no agent the chat opens on the researcher (first_hour.rs).
    let output = run(&["chat", "demo-agent", "-m", "hello world"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout).trim(), "agent> You said: hello world");
    assert!(text(&output.stderr).contains("embedded emulator"));

    // A scripted agent: every tool status once, then the final reply, as JSON lines.
    let output = run(&["chat", "demo-researcher", "-m", "rust sdks", "--json"]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let events: Vec<serde_json::Value> = text(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let summary: Vec<String> = events
        .iter()
        .filter(|e| e["event"] == "message")
        .map(|e| {
            let message = &e["message"];
            format!(
                "{}:{}",
                message["type"].as_str().unwrap(),
                message["content"]["status"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "updated" && e["status"] == "idle"),
        "{events:?}"
    );
    assert_eq!(summary.last().map(String::as_str), Some("agent-message:"));
    let tool_statuses: Vec<_> = summary
        .iter()
        .filter(|s| s.starts_with("tool-run:"))
        .collect();
    let mut deduped = tool_statuses.clone();
    deduped.dedup();
    assert_eq!(tool_statuses, deduped, "each tool status is printed once");
    assert_eq!(
        tool_statuses.last().map(|s| s.as_str()),
        Some("tool-run:completed")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn interactive_chat_reads_lines_and_keeps_one_task() {
    use tokio::io::AsyncWriteExt;
    let mut child = relevance()
        .args(["chat", "demo-agent"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"first\nsecond\n/quit\n").await.unwrap();
    drop(stdin);
    let output = child.wait_with_output().await.unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("agent> You said: first"), "{stdout}");
    assert!(stdout.contains("agent> You said: second"), "{stdout}");
    // The embedded emulator keeps nothing, so no `--task` hint (first_hour.rs has the test).
    assert!(!text(&output.stderr).contains("continue it with --task"));
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_then_list_and_show_tasks_with_an_embed_key_file() {
    let t = TestEmulator::start().await;
    let file = t.path("key.json");
    let file_arg = file.to_str().unwrap();
    let made = run(&[
        "embed-key",
        "--agent",
        "agent-public",
        "--project",
        "proj-a",
        "--region",
        "us",
        "--base-url",
        &t.base_url,
        "--save",
        file_arg,
    ])
    .await;
    assert!(made.status.success(), "{}", text(&made.stderr));
    let with_key = |args: &[&str]| -> Vec<String> {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.extend([
            "--key-file".into(),
            file_arg.into(),
            "--base-url".into(),
            t.base_url.clone(),
        ]);
        all
    };
    // The embed key's own agent is the default chat target.
    let args = with_key(&["chat", "-m", "remember the milk"]);
    let chat = relevance().args(&args).output().await.unwrap();
    assert!(chat.status.success(), "{}", text(&chat.stderr));
    assert!(text(&chat.stdout).contains("You said: remember the milk"));

    let args = with_key(&["tasks", "list", "--agent", "agent-public", "--json"]);
    let list = relevance().args(&args).output().await.unwrap();
    assert!(list.status.success(), "{}", text(&list.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let tasks = listed["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0]["title"], "remember the milk");
    assert_eq!(tasks[0]["status"], "idle");
    let key = Key::from_json(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let id = tasks[0]["id"].as_str().unwrap();
    assert!(id.starts_with(&format!("{}_-_", key.task_prefix().unwrap())));

    let args = with_key(&["tasks", "show", "--agent", "agent-public", id]);
    let show = relevance().args(&args).output().await.unwrap();
    let shown = text(&show.stdout);
    assert!(
        shown.contains("you> remember the milk")
            && shown.contains("agent> You said: remember the milk"),
        "{shown}"
    );

    let args = with_key(&[
        "tasks",
        "list",
        "--agent",
        "agent-public",
        "--status",
        "sleeping",
    ]);
    let bad = relevance().args(&args).output().await.unwrap();
    assert_one_line_error(&bad, &["--status", "sleeping"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_with_the_demo_workforce_shows_each_handover() {
    let output = run(&["chat", "--workforce", "demo-workforce", "-m", "rust sdks"]).await;
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        text(&output.stderr)
    );
    let handover = stdout.find("handover to").expect("the handover is shown");
    let working: Vec<_> = stdout.match_indices("is working").map(|(i, _)| i).collect();
    assert!(working.len() >= 2, "both members' runs are shown: {stdout}");
    assert!(
        working[0] < handover && handover < *working.last().unwrap(),
        "{stdout}"
    );
    // The researcher's reply, then its "finished" line (the platform's order).
    let lines: Vec<&str> = stdout.trim_end().lines().collect();
    assert!(lines[lines.len() - 2].starts_with("agent> "), "{stdout}");
    assert!(lines[lines.len() - 1].contains("finished"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn workforce_tasks_are_listed_and_shown() {
    let t = TestEmulator::start().await;
    let creds = [
        "--api-key",
        API_KEY_A,
        "--project",
        "proj-a",
        "--region",
        "us",
        "--base-url",
        &t.base_url,
    ];
    for question in ["first question", "second question"] {
        let chat = run(&[
            &["chat", "--workforce", "wf-1", "-m", question][..],
            &creds[..],
        ]
        .concat())
        .await;
        assert!(chat.status.success(), "{}", text(&chat.stderr));
    }
    let list = run(&[
        &[
            "tasks",
            "list",
            "--workforce",
            "wf-1",
            "--page-size",
            "1",
            "--json",
        ][..],
        &creds[..],
    ]
    .concat())
    .await;
    assert!(list.status.success(), "{}", text(&list.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let titles: Vec<_> = listed["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["second question", "first question"],
        "every page, newest first"
    );
    let id = listed["tasks"][1]["id"].as_str().unwrap();
    let show = run(&[
        &["tasks", "show", "--workforce", "wf-1", id][..],
        &creds[..],
    ]
    .concat())
    .await;
    let shown = text(&show.stdout);
    assert!(
        shown.contains("you> first question") && shown.contains("You said: first question"),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn emulator_fault_flags_are_checked_and_applied() {
    let bad = run(&[
        "emulator",
        "--in-memory",
        "--listen",
        "127.0.0.1:0",
        "--fault-error-rate",
        "1.5",
    ])
    .await;
    assert_one_line_error(&bad, &["error_rate"]);

    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut child = relevance()
        .args([
            "emulator",
            "--in-memory",
            "--listen",
            "127.0.0.1:0",
            "--json",
            "--fault-rate-limit-rate",
            "1.0",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let banner: serde_json::Value =
        serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
    let base_url = banner["base_url"].as_str().unwrap();
    let api = reqwest::get(format!("{base_url}/bcbe5a/latest/agents/demo-agent/get"))
        .await
        .unwrap();
    assert_eq!(api.status(), 429, "every API answer is a 429");
    assert!(api.headers().get("retry-after").is_some());
    let health = reqwest::get(format!("{base_url}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200, "health is never faulted");
    child.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_attaches_a_local_file_and_the_task_shows_it() {
    let t = TestEmulator::start().await;
    let file = t.path("notes.txt");
    std::fs::write(&file, "attached bytes").unwrap();
    let creds = [
        "--api-key",
        API_KEY_A,
        "--project",
        "proj-a",
        "--region",
        "us",
        "--base-url",
        &t.base_url,
    ];
    let chat = run(&[
        &[
            "chat",
            "agent-public",
            "-m",
            "see the file",
            "--attach",
            file.to_str().unwrap(),
        ][..],
        &creds[..],
    ]
    .concat())
    .await;
    assert!(chat.status.success(), "{}", text(&chat.stderr));
    let list = run(&[
        &["tasks", "list", "--agent", "agent-public", "--json"][..],
        &creds[..],
    ]
    .concat())
    .await;
    let listed: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let id = listed["tasks"][0]["id"].as_str().unwrap();
    let show = run(&[
        &["tasks", "show", "--agent", "agent-public", id, "--json"][..],
        &creds[..],
    ]
    .concat())
    .await;
    let first: serde_json::Value =
        serde_json::from_str(text(&show.stdout).lines().next().unwrap()).unwrap();
    let attachment = &first["content"]["attachments"][0];
    assert_eq!(attachment["file_name"], "notes.txt");
    let served = reqwest::get(attachment["file_url"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(served.text().await.unwrap(), "attached bytes");

    let missing = run(&[
        &[
            "chat",
            "agent-public",
            "-m",
            "x",
            "--attach",
            "/nonexistent/file.pdf",
        ][..],
        &creds[..],
    ]
    .concat())
    .await;
    assert_one_line_error(&missing, &["/nonexistent/file.pdf"]);
}

/// Help names each variable without a value: no `[env: NAME=]` for an unset one.
#[tokio::test(flavor = "multi_thread")]
async fn help_names_the_variables_without_a_stray_equals_sign() {
    for command in [
        &["chat", "--help"][..],
        &["emulator", "--help"],
        &["--help"],
    ] {
        let output = run(command).await;
        assert!(output.status.success(), "{command:?}");
        let help = text(&output.stdout);
        assert!(!help.contains("=]"), "{command:?}:\n{help}");
    }
    let chat = text(&run(&["chat", "--help"]).await.stdout);
    assert!(chat.contains("[env: RELEVANCE_PROJECT]"), "{chat}");
}

/// Workforce tasks take no attachments (PROTOCOL A6): refused before anything is sent.
#[tokio::test(flavor = "multi_thread")]
async fn attaching_a_file_for_a_workforce_is_refused_up_front() {
    let output = run(&[
        "chat",
        "--workforce",
        "demo-workforce",
        "--attach",
        "Cargo.toml",
        "-m",
        "hi",
    ])
    .await;
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("--attach") && stderr.contains("--workforce"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("chatting with"),
        "nothing started: {stderr}"
    );
}
