//! A newcomer's first hour with the `relevance` binary: what they type first, and what they
//! should see — conflicts named, every missing piece at once, one-line errors (JSON with
//! `--json`), foreign servers recognised, the demo that shows what the platform does.

mod common;

use std::process::Output;

use common::binary::{relevance, run, text};
use common::{TestEmulator, API_KEY_A};

/// A failing command prints exactly one line on stderr, starting with `error:`.
fn one_line_error(output: &Output, mentions: &[&str]) -> String {
    assert!(!output.status.success(), "expected failure");
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
    assert!(stderr.starts_with("error: "), "{stderr:?}");
    for word in mentions {
        assert!(stderr.contains(word), "{stderr:?} should mention {word}");
    }
    stderr
}

/// Saves an embed key for `agent-public` with the CLI and returns its path.
async fn saved_embed_key(t: &TestEmulator) -> String {
    let file = t.path("agent-key.json");
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
        file.to_str().unwrap(),
    ])
    .await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    file.to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_file_and_an_api_key_together_are_a_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("k.json");
    std::fs::write(&file, r#"{"key":"sk-x","region":"us","project":"p"}"#).unwrap();
    let file = file.to_str().unwrap();
    let flags = run(&["agents", "list", "--api-key", "sk-y", "--key-file", file]).await;
    one_line_error(&flags, &["--key-file", "--api-key"]);

    // The same from the variables: a stale RELEVANCE_API_KEY must not silently win or lose.
    let vars = relevance()
        .args(["agents", "list"])
        .env("RELEVANCE_API_KEY", "sk-y")
        .env("RELEVANCE_KEY_FILE", file)
        .output()
        .await
        .unwrap();
    let stderr = one_line_error(&vars, &["RELEVANCE_KEY_FILE", "RELEVANCE_API_KEY"]);
    assert!(!stderr.contains("sk-y"), "no key value in output: {stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_credentials_name_every_missing_piece_at_once() {
    let nothing = run(&["agents", "list"]).await;
    one_line_error(
        &nothing,
        &["--api-key", "--project", "--region", "--key-file"],
    );

    let key_only = run(&["agents", "list", "--api-key", "sk-x"]).await;
    one_line_error(&key_only, &["--project", "--region"]);

    let embed = run(&["embed-key", "--agent", "a"]).await;
    one_line_error(&embed, &["--project", "--region"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ek_key_file_without_a_scope_is_refused_as_an_embed_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ek.json");
    let secret = "ek-abcdefghijklmnopqrstuvwxyz012345";
    std::fs::write(
        &file,
        format!(r#"{{"key":"{secret}","region":"us","project":"p"}}"#),
    )
    .unwrap();
    let output = run(&["agents", "list", "--key-file", file.to_str().unwrap()]).await;
    let stderr = one_line_error(&output, &["embed key", "agentId", "workforceId"]);
    assert!(!stderr.contains(secret), "no key value: {stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_key_file_says_why_once() {
    let output = run(&["agents", "list", "--key-file", "/nonexistent/key.json"]).await;
    let stderr = one_line_error(&output, &["/nonexistent/key.json"]);
    assert_eq!(
        stderr.matches("No such file").count(),
        1,
        "the cause is said once: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn json_errors_are_json_on_stderr() {
    let output = run(&["agents", "list", "--json"]).await;
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "stdout is for results only");
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let error: serde_json::Value = serde_json::from_str(&stderr).expect("a JSON error");
    assert!(error["error"].as_str().unwrap().contains("--api-key"));
    assert_eq!(error["kind"], "cli");

    let t = TestEmulator::start().await;
    let refused = run(&[
        "agents",
        "get",
        "nope",
        "--json",
        "--api-key",
        API_KEY_A,
        "--project",
        "proj-a",
        "--region",
        "us",
        "--base-url",
        &t.base_url,
    ])
    .await;
    let error: serde_json::Value = serde_json::from_slice(&refused.stderr).expect("a JSON error");
    assert_eq!(error["kind"], "not_found");
}

/// A loopback server that answers every request with another product's HTML 404 page.
async fn html_server() -> String {
    use axum::http::{header, StatusCode};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let page = "<!DOCTYPE html>\n<html>\n<head><title>404 Not Found</title></head>\n<body>\n\
                <h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>\n\
                <hr><address>Apache/2.4 Server at localhost</address>\n</body></html>\n";
    let app = axum::Router::new().fallback(move || async move {
        (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html")],
            page,
        )
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_html_page_from_another_server_is_summarised_in_one_line() {
    let base_url = html_server().await;
    let output = run(&[
        "agents",
        "list",
        "--api-key",
        "sk-x",
        "--project",
        "p",
        "--region",
        "us",
        "--base-url",
        &base_url,
    ])
    .await;
    let stderr = one_line_error(&output, &["404", "HTML", "404 Not Found"]);
    assert!(!stderr.contains('<'), "no markup dumped: {stderr}");
    assert!(!stderr.contains("sk-x"), "no key value: {stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_embed_key_says_what_it_reaches_and_lists_its_own_tasks() {
    let t = TestEmulator::start().await;
    let key = saved_embed_key(&t).await;
    let elsewhere = run(&[
        "agents",
        "get",
        "agent-other-public",
        "--key-file",
        &key,
        "--base-url",
        &t.base_url,
    ])
    .await;
    one_line_error(&elsewhere, &["this embed key is for agent agent-public"]);

    let chat = run(&[
        "chat",
        "-m",
        "hello",
        "--key-file",
        &key,
        "--base-url",
        &t.base_url,
    ])
    .await;
    assert!(chat.status.success(), "{}", text(&chat.stderr));
    // No --agent: the key's agent, as in `chat`.
    let list = run(&[
        "tasks",
        "list",
        "--json",
        "--key-file",
        &key,
        "--base-url",
        &t.base_url,
    ])
    .await;
    assert!(list.status.success(), "{}", text(&list.stderr));
    let tasks: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(tasks["tasks"].as_array().unwrap().len(), 1, "{tasks}");
    assert_eq!(tasks["tasks"][0]["agent_id"], "agent-public");
}

#[tokio::test(flavor = "multi_thread")]
async fn help_shows_only_the_flags_a_command_uses() {
    for command in [&["emulator"][..], &["key", "inspect"], &["demo"]] {
        let help = run(&[command, &["--help"][..]].concat()).await;
        let help = text(&help.stdout);
        assert!(!help.contains("--api-key"), "{command:?}: {help}");
        assert!(!help.contains("--key-file"), "{command:?}: {help}");
    }
    for command in [
        &["chat"][..],
        &["agents", "list"],
        &["tasks", "list"],
        &["embed-key"],
    ] {
        let help = run(&[command, &["--help"][..]].concat()).await;
        assert!(text(&help.stdout).contains("--api-key"), "{command:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_task_table_stays_aligned_with_long_ids() {
    let t = TestEmulator::start().await;
    let key = saved_embed_key(&t).await;
    let api = [
        "--api-key",
        API_KEY_A,
        "--project",
        "proj-a",
        "--region",
        "us",
        "--base-url",
        &t.base_url,
    ];
    // One task with an embed key (a prefixed, longer id) and one with the API key.
    for args in [
        vec![
            "chat",
            "-m",
            "one",
            "--key-file",
            &key,
            "--base-url",
            &t.base_url,
        ],
        [&["chat", "agent-public", "-m", "two"][..], &api[..]].concat(),
    ] {
        let output = run(&args).await;
        assert!(output.status.success(), "{}", text(&output.stderr));
    }
    let list = run(&[&["tasks", "list", "--agent", "agent-public"][..], &api[..]].concat()).await;
    assert!(list.status.success(), "{}", text(&list.stderr));
    let stdout = text(&list.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    let ids: Vec<usize> = lines.iter().map(|l| l.find(' ').unwrap()).collect();
    assert_ne!(ids[0], ids[1], "the ids differ in length: {stdout}");
    // The status column starts at the same place on every line.
    let status_at: Vec<usize> = lines
        .iter()
        .map(|l| l.find("idle").expect("a status"))
        .collect();
    assert_eq!(status_at[0], status_at[1], "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_with_nothing_configured_opens_on_the_researcher() {
    let output = run(&["chat", "-m", "rust"]).await;
    let stdout = text(&output.stdout);
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("demo-researcher"), "{stderr}");
    assert!(stderr.contains("--workforce demo-workforce"), "{stderr}");
    assert!(stderr.contains("relevance agents list"), "{stderr}");
    // The platform's order: the thought, then the tool run it led to, then the reply.
    let thought = stdout.find("💭").expect("a thought");
    let tool = stdout.find("⚙ web_search").expect("a tool run");
    let reply = stdout.find("agent> I looked into").expect("a reply");
    assert!(thought < tool && tool < reply, "{stdout}");
    assert_eq!(
        stdout.matches("💭").count(),
        1,
        "the thought once: {stdout}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_workforce_members_reply_comes_before_its_finished_line() {
    let output = run(&["chat", "--workforce", "demo-workforce", "-m", "rust"]).await;
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let reply = stdout.find("agent> Thanks!").expect("triage's reply");
    let finished = stdout
        .find("Demo triage finished")
        .expect("triage finished");
    assert!(reply < finished, "{stdout}");
    let reply = stdout
        .find("agent> I looked into")
        .expect("researcher's reply");
    let finished = stdout
        .find("Demo researcher finished")
        .expect("researcher finished");
    assert!(reply < finished, "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_embedded_emulator_does_not_offer_to_continue_a_task() {
    use tokio::io::AsyncWriteExt;
    let mut child = relevance()
        .args(["chat", "demo-agent"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"hello\n").await.unwrap();
    drop(stdin);
    let output = child.wait_with_output().await.unwrap();
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("--task"), "{stderr}");
    assert!(stderr.contains("relevance emulator"), "{stderr}");
}

/// Starts `relevance emulator` on `dir` and returns its JSON banner.
async fn emulator_banner(dir: &std::path::Path) -> serde_json::Value {
    use tokio::io::AsyncBufReadExt;
    let mut child = relevance()
        .args(["emulator", "--json", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = tokio::io::BufReader::new(stdout)
        .lines()
        .next_line()
        .await
        .unwrap()
        .expect("a banner line");
    child.kill().await.unwrap();
    serde_json::from_str(&line).expect("a JSON banner")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_data_directory_keeps_the_demo_key_and_loads_the_demo_project() {
    let dir = tempfile::tempdir().unwrap();
    let first = emulator_banner(dir.path()).await;
    assert_eq!(first["demo"]["loaded"], false);
    let second = emulator_banner(dir.path()).await;
    assert_eq!(second["demo"]["loaded"], true);
    assert_eq!(second["demo"]["key_reused"], true);
    assert_eq!(first["demo"]["api_key"], second["demo"]["api_key"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("demo-api-key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_root_is_a_landing_page_and_the_favicon_is_quiet() {
    let t = TestEmulator::start().await;
    let http = reqwest::Client::new();
    let root = http
        .get(format!("{}/", t.base_url))
        .header("host", "x<script>")
        .send()
        .await
        .unwrap();
    assert_eq!(root.status(), 200);
    let content_type = root.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = root.text().await.unwrap();
    for link in [
        "/dashboard",
        "/healthz",
        "/bcbe5a/latest",
        "Relevance AI emulator",
    ] {
        assert!(page.contains(link), "{link} in {page}");
    }
    assert!(!page.contains("x<script>"), "the host is escaped");

    let icon = http
        .get(format!("{}/favicon.ico", t.base_url))
        .send()
        .await
        .unwrap();
    assert!(matches!(icon.status().as_u16(), 200 | 204));
    assert_eq!(
        t.admin.count("/favicon.ico").await,
        0,
        "not in the request log"
    );
}
