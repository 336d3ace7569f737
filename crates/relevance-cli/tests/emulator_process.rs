//! `relevance emulator` as a process: its log on stderr, its data surviving SIGKILL, and the
//! README's webhook `curl` line working against it as written.
//! Every wait is bounded by `GUARD`.
#![cfg(unix)]

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStderr};

/// Hang guard only.
const GUARD: Duration = Duration::from_secs(60);
const US: &str = "bcbe5a";

struct Process {
    child: Child,
    base_url: String,
    api_key: String,
    stderr: Option<ChildStderr>,
}

/// Starts the binary on `data` and reads its banner.
async fn start(data: &Path, extra: &[&str]) -> Process {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_relevance"));
    for (name, _) in std::env::vars() {
        if name.starts_with("RELEVANCE_") || name == "RUST_LOG" {
            command.env_remove(name);
        }
    }
    let mut child = command
        .args(["emulator", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start relevance emulator");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let banner = tokio::time::timeout(GUARD, async {
        let mut banner = Vec::new();
        while let Some(line) = lines.next_line().await.expect("read banner") {
            let done = line.contains("Ctrl-C");
            banner.push(line);
            if done {
                break;
            }
        }
        banner.join("\n")
    })
    .await
    .expect("the banner is printed");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let base_url = banner
        .lines()
        .find_map(|l| l.strip_prefix("relevance emulator listening on "))
        .expect("banner names the URL")
        .to_owned();
    let api_key = banner
        .lines()
        .find_map(|l| l.trim().strip_prefix("export RELEVANCE_API_KEY="))
        .expect("demo API key printed")
        .to_owned();
    let stderr = child.stderr.take();
    Process {
        child,
        base_url,
        api_key,
        stderr,
    }
}

impl Process {
    fn auth(&self) -> String {
        format!("demo-project:{}", self.api_key)
    }
}

async fn trigger(http: &reqwest::Client, base_url: &str, auth: &str, text: &str) -> Option<String> {
    let answer = http
        .post(format!("{base_url}/{US}/latest/agents/trigger"))
        .header("Authorization", auth)
        .body(
            serde_json::json!({"agent_id": "demo-agent", "message": {"role": "user", "content": text}})
                .to_string(),
        )
        .send()
        .await
        .ok()?;
    if !answer.status().is_success() {
        return None;
    }
    let body: serde_json::Value = answer.json().await.ok()?;
    body["conversation_id"].as_str().map(str::to_string)
}

/// The emulator logs to stderr (info by default), and a database failure is a logged error
/// with its cause, not only a 500 that says "see the emulator's log".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulator_logs_start_up_and_server_errors_to_stderr() {
    let data = tempfile::tempdir().expect("data dir");
    let mut process = start(data.path(), &["--database-busy-timeout-ms", "50"]).await;
    let http = reqwest::Client::new();
    assert!(trigger(&http, &process.base_url, &process.auth(), "warm")
        .await
        .is_some());

    let database = data.path().join("emulator.sqlite3");
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (locked, is_locked) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let mut other = rusqlite::Connection::open(&database).expect("open");
        let transaction = other
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .expect("lock");
        locked.send(()).expect("tell");
        let _ = released.recv_timeout(GUARD);
        drop(transaction);
    });
    is_locked.recv().expect("locked");
    let answer = http
        .post(format!("{}/{US}/latest/agents/trigger", process.base_url))
        .header("Authorization", process.auth())
        .body(r#"{"agent_id":"demo-agent","message":{"role":"user","content":"blocked"}}"#)
        .send()
        .await
        .expect("answered");
    assert_eq!(answer.status(), reqwest::StatusCode::INTERNAL_SERVER_ERROR);
    release.send(()).expect("release");
    holder.join().expect("holder");

    // Stop it and read everything it logged.
    let pid = process.child.id().expect("pid");
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let mut stderr = process.stderr.take().expect("stderr");
    let mut log = String::new();
    tokio::time::timeout(GUARD, async {
        use tokio::io::AsyncReadExt;
        let _ = stderr.read_to_string(&mut log).await;
    })
    .await
    .expect("stderr closes when the process ends");
    let _ = tokio::time::timeout(GUARD, process.child.wait()).await;
    assert!(
        log.contains("emulator data ready"),
        "info is logged by default: {log}"
    );
    assert!(
        log.contains("ERROR") && log.contains("database") && log.contains("locked"),
        "the 500's cause is logged: {log}"
    );
    assert!(!log.contains(&process.api_key), "no key in the log");
    assert!(
        !log.contains('\x1b'),
        "a log written to a pipe has no colour codes: {log:?}"
    );
}

/// Kill -9 under load, twice: every trigger the emulator acknowledged is there after a
/// restart on the same directory, and SQLite's integrity check passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_triggers_survive_sigkill_and_the_database_stays_sound() {
    const CONVERSATIONS: usize = 40;
    const KILL_AFTER: usize = 15;
    let data = tempfile::tempdir().expect("data dir");
    let http = reqwest::Client::new();
    let mut acknowledged: Vec<String> = Vec::new();
    for round in 0..2 {
        let mut process = start(data.path(), &[]).await;
        // What earlier rounds acknowledged is all there.
        for id in &acknowledged {
            let answer = http
                .get(format!(
                    "{}/{US}/latest/agents/demo-agent/tasks/{id}/metadata",
                    process.base_url
                ))
                .header("Authorization", process.auth())
                .send()
                .await
                .expect("metadata answered");
            assert_eq!(
                answer.status(),
                reqwest::StatusCode::OK,
                "round {round}: {id} lost"
            );
        }
        let mut load = tokio::task::JoinSet::new();
        for n in 0..CONVERSATIONS {
            let (http, base_url, auth) = (http.clone(), process.base_url.clone(), process.auth());
            load.spawn(async move {
                trigger(&http, &base_url, &auth, &format!("round {round} #{n}")).await
            });
        }
        let mut acked_this_round = 0;
        let collected = tokio::time::timeout(GUARD, async {
            while let Some(done) = load.join_next().await {
                if let Ok(Some(id)) = done {
                    acknowledged.push(id);
                    acked_this_round += 1;
                    if acked_this_round == KILL_AFTER {
                        // SIGKILL mid-load: no shutdown, no checkpoint.
                        process.child.start_kill().expect("SIGKILL");
                    }
                }
            }
        })
        .await;
        collected.expect("the load ends once the process is gone");
        let _ = tokio::time::timeout(GUARD, process.child.wait()).await;
        assert!(
            acked_this_round >= KILL_AFTER,
            "round {round}: {acked_this_round} acknowledged"
        );
    }
    let mut last = start(data.path(), &[]).await;
    for id in &acknowledged {
        let answer = http
            .get(format!(
                "{}/{US}/latest/agents/demo-agent/tasks/{id}/metadata",
                last.base_url
            ))
            .header("Authorization", last.auth())
            .send()
            .await
            .expect("metadata answered");
        assert_eq!(
            answer.status(),
            reqwest::StatusCode::OK,
            "{id} lost after SIGKILL"
        );
    }
    last.child.start_kill().expect("stop");
    let _ = tokio::time::timeout(GUARD, last.child.wait()).await;
    let connection =
        rusqlite::Connection::open(data.path().join("emulator.sqlite3")).expect("open");
    let integrity: String = connection
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("integrity_check");
    assert_eq!(integrity, "ok");
}

/// The README's `curl` line to the demo's webhook, run as written (only the emulator's
/// address changed: the test's emulator listens on a free port, not 8787).
#[tokio::test]
async fn the_readmes_webhook_curl_line_works_against_the_emulator() {
    if relevance_testkit::browser::on_path("curl").is_none() {
        relevance_testkit::browser::skip_unless_ci(
            "the README's curl line needs curl (scripts/install-test-tools.sh installs it)",
        );
        return;
    }
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README");
    let line = readme
        .lines()
        .find(|line| line.starts_with("curl ") && line.contains("custom-trigger"))
        .expect("the README has a curl line to a webhook");
    let data = tempfile::tempdir().expect("data dir");
    let process = start(data.path(), &[]).await;
    let command = line.replace("http://127.0.0.1:8787", &process.base_url);
    assert_ne!(
        command, line,
        "the line names the emulator's default address"
    );
    for expected_duplicate in [false, true] {
        let output = tokio::time::timeout(
            GUARD,
            tokio::process::Command::new("sh")
                .args(["-c", &command])
                .output(),
        )
        .await
        .expect("curl ends")
        .expect("curl runs");
        let answer: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|_| panic!("JSON: {}", String::from_utf8_lossy(&output.stdout)));
        assert_eq!(answer["duplicate"], expected_duplicate, "{answer}");
        assert_eq!(answer["agent_id"], "demo-agent", "{answer}");
        assert!(answer["conversation_id"].is_string(), "{answer}");
        if !expected_duplicate {
            assert_eq!(answer["missing_fields"], serde_json::json!([]), "{answer}");
            assert_eq!(answer["thread_id"], "A-1001", "{answer}");
        }
    }
    drop(process);
}
