//! The demo chat page (`crates/relevance-demo-page`, Rust compiled to wasm) in a real
//! headless Chromium, served by an in-process emulator at `/demo/`.
//!
//! Every assertion about the network is made on the emulator's admin request log, never on
//! timing: one embed key on the first load, none on a reload, exactly one more after a
//! revocation, one after the storage is cleared; a private agent's page says so.
//!
//! Needs `chromium`, `chromedriver` and `wasm-bindgen` (for building the page). Without
//! them the test prints "skipped: …" and passes, except under CI (`CI=true`), where it fails.
//! The page is looked for in `target/demo-page` (or `RELEVANCE_DEMO_PAGE_DIR`); when it is
//! missing, CI fails naming the script, and a local run builds it with the script.
//! A screenshot goes to `target/artifacts/demo-page.png`.
#![cfg(not(target_family = "wasm"))]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use relevance::{Key, MessageContent, Region};
use relevance_emulator::{Config, DemoPage, Emulator, Storage};
use relevance_testkit::browser::fantoccini::{Client as Browser, Locator};
use relevance_testkit::browser::{
    connect, is_ci, on_path, skip_unless_ci, start_chromedriver, workspace_root,
};
use serde_json::{json, Value};
use tokio::process::Child;

/// A test-only value: it guards emulators that live as long as this test.
const ADMIN_TOKEN: &str = "demo-page-test-admin-token-0001";
/// The demo project (the emulator without a seed) and its agents.
const PROJECT: &str = "demo-project";
const REGION_CODE: &str = "bcbe5a";
const PUBLIC_AGENT: &str = "demo-agent";
const PRIVATE_AGENT: &str = "private-agent";
const AGENT_NAME: &str = "Demo assistant";
/// What the page keeps in localStorage.
const KEY_NAME: &str = "relevance-demo-key";
const TASK_NAME: &str = "relevance-demo-task";
const PRIVATE_NOTICE: &str =
    "This agent is private or does not exist: no embed key can be made for it.";
const REVOKED_NOTICE: &str =
    "Your key was revoked; a new one was made. Earlier conversations are out of its reach.";
/// How long any one thing on the page may take to appear (a generous bound, not a timing
/// assertion: the test waits for conditions).
const PAGE_TIMEOUT: Duration = Duration::from_secs(60);

fn page_dir() -> PathBuf {
    std::env::var_os("RELEVANCE_DEMO_PAGE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/demo-page"))
}

fn is_built(dir: &Path) -> bool {
    [
        "index.html",
        "style.css",
        "relevance_demo_page.js",
        "relevance_demo_page_bg.wasm",
    ]
    .iter()
    .all(|file| dir.join(file).is_file())
}

/// Builds the page with the script, in its own target dir (the outer `cargo test` may
/// still hold the workspace's).
fn build_page(dir: &Path) {
    let root = workspace_root();
    let target = std::env::var_os("RELEVANCE_DEMO_PAGE_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/demo-page-build"));
    println!("building the demo page with scripts/build-demo-page.sh …");
    let status = std::process::Command::new("bash")
        .arg(root.join("scripts/build-demo-page.sh"))
        .arg(dir)
        .current_dir(&root)
        .env("CARGO_TARGET_DIR", target)
        .status()
        .expect("bash runs scripts/build-demo-page.sh");
    assert!(
        status.success() && is_built(dir),
        "scripts/build-demo-page.sh failed ({status})"
    );
}

async fn start_emulator(agent_id: &str) -> Emulator {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let config = Config {
        storage: Storage::InMemory,
        admin_token: Some(ADMIN_TOKEN.to_string()),
        demo_page: Some(DemoPage {
            dir: page_dir(),
            project: PROJECT.to_string(),
            agent_id: agent_id.to_string(),
            region_code: REGION_CODE.to_string(),
        }),
        ..Config::default()
    };
    Emulator::start(config, listener)
        .await
        .expect("the emulator starts")
}

/// The emulator's request log, oldest first.
async fn request_log(emulator: &Emulator) -> Vec<Value> {
    let log: Value = reqwest::Client::new()
        .get(format!(
            "{}/admin/requests?limit=10000",
            emulator.base_url()
        ))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .expect("admin request log")
        .json()
        .await
        .expect("the request log is JSON");
    let mut requests = log["requests"].as_array().expect("a list").clone();
    requests.reverse();
    requests
}

fn is_call(request: &Value, method: &str, path_end: &str) -> bool {
    request["method"] == method
        && request["path"]
            .as_str()
            .is_some_and(|path| path.ends_with(path_end))
}

/// Statuses of the `get_embed_key` requests, oldest first.
async fn embed_key_statuses(emulator: &Emulator) -> Vec<u64> {
    request_log(emulator)
        .await
        .iter()
        .filter(|request| is_call(request, "POST", "/latest/agents/get_embed_key"))
        .filter_map(|request| request["status"].as_u64())
        .collect()
}

/// Statuses of the `agents/trigger` requests (sends), oldest first.
async fn trigger_statuses(emulator: &Emulator) -> Vec<u64> {
    request_log(emulator)
        .await
        .iter()
        .filter(|request| is_call(request, "POST", "/latest/agents/trigger"))
        .filter_map(|request| request["status"].as_u64())
        .collect()
}

/// Every task id that appears in a request path (`.../tasks/{id}/...`).
async fn task_ids_in_log(emulator: &Emulator) -> BTreeSet<String> {
    request_log(emulator)
        .await
        .iter()
        .filter_map(|request| request["path"].as_str())
        .filter_map(|path| {
            let (_, rest) = path.split_once("/tasks/")?;
            rest.split('/').next().map(str::to_string)
        })
        .collect()
}

async fn local_storage(browser: &Browser, name: &str) -> Option<String> {
    let value = browser
        .execute(
            "return localStorage.getItem(arguments[0]);",
            vec![json!(name)],
        )
        .await
        .expect("read localStorage");
    value.as_str().map(str::to_string)
}

/// Texts of every element matching `css`, in page order.
async fn texts(browser: &Browser, css: &str) -> Vec<String> {
    let value = browser
        .execute(
            "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.textContent);",
            vec![json!(css)],
        )
        .await
        .expect("read the page");
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until some element matching `css` has text containing `needle`.
async fn wait_for_text(browser: &Browser, css: &str, needle: &str) {
    let found = tokio::time::timeout(PAGE_TIMEOUT, async {
        loop {
            if texts(browser, css)
                .await
                .iter()
                .any(|text| text.contains(needle))
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    if found.is_err() {
        let notice = texts(browser, "#notice").await;
        let status = texts(browser, "#status").await;
        let messages = texts(browser, "#messages > *").await;
        panic!(
            "no {css} with {needle:?}; notice {notice:?}, status {status:?}, messages {messages:?}"
        );
    }
}

/// Waits for the page to be ready to send (the input is enabled once the key and the
/// agent are there and an earlier conversation is restored).
async fn wait_until_ready(browser: &Browser) {
    browser
        .wait()
        .at_most(PAGE_TIMEOUT)
        .for_element(Locator::Css("#input:not([disabled])"))
        .await
        .unwrap_or_else(|error| {
            panic!("the page never became ready to send: {error}");
        });
}

async fn send(browser: &Browser, text: &str) {
    browser
        .find(Locator::Id("input"))
        .await
        .expect("#input")
        .send_keys(text)
        .await
        .expect("type");
    browser
        .find(Locator::Id("send"))
        .await
        .expect("#send")
        .click()
        .await
        .expect("click #send");
}

/// The stored key, checked to be exactly PROTOCOL A4's embed-key shape; answers
/// (secret, task prefix).
fn check_stored_key(stored: &str) -> (String, String) {
    let value: Value = serde_json::from_str(stored).expect("the stored key is JSON");
    let object = value.as_object().expect("the stored key is an object");
    let fields: BTreeSet<&str> = object.keys().map(String::as_str).collect();
    assert_eq!(
        fields,
        BTreeSet::from(["key", "region", "project", "agentId", "taskPrefix"]),
        "{stored}"
    );
    assert_eq!(object["region"], REGION_CODE);
    assert_eq!(object["project"], PROJECT);
    assert_eq!(object["agentId"], PUBLIC_AGENT);
    let secret = object["key"].as_str().expect("key is a string").to_string();
    let prefix = object["taskPrefix"]
        .as_str()
        .expect("taskPrefix is a string")
        .to_string();
    assert!(!secret.is_empty() && !prefix.is_empty(), "{stored}");
    // And the SDK restores it as the same embed key.
    let key = Key::from_json(stored).expect("the SDK restores the stored key");
    assert_eq!(key.agent_id(), Some(PUBLIC_AGENT));
    assert_eq!(key.task_prefix(), Some(prefix.as_str()));
    (secret, prefix)
}

/// (user texts, agent texts) of a task, read with the demo project's API key.
async fn conversation(emulator: &Emulator, task_id: &str) -> (Vec<String>, Vec<String>) {
    let demo = emulator.demo().expect("the demo project");
    let key = Key::new(demo.api_key.clone(), Region::US, PROJECT).expect("API key");
    let client = relevance::Client::builder(key)
        .base_url(emulator.base_url())
        .build()
        .expect("client");
    let agent = client
        .agents()
        .get(PUBLIC_AGENT)
        .await
        .expect("the agent exists");
    let task = agent.get_task(task_id).await.expect("the task exists");
    let mut users = Vec::new();
    let mut agents = Vec::new();
    for message in task.messages().await.expect("its messages") {
        match message.content {
            MessageContent::User(user) => users.push(user.text),
            MessageContent::Agent(reply) if !reply.generating => agents.push(reply.text),
            _ => {}
        }
    }
    (users, agents)
}

fn missing_tools() -> Vec<&'static str> {
    let mut missing = Vec::new();
    if on_path("chromium").is_none() {
        missing.push("chromium (apt-get install -y chromium)");
    }
    if on_path("chromedriver").is_none() {
        missing.push("chromedriver (apt-get install -y chromium-driver)");
    }
    if !is_built(&page_dir()) && on_path("wasm-bindgen").is_none() {
        missing.push(
            "wasm-bindgen (cargo install wasm-bindgen-cli --version <Cargo.lock's> --locked)",
        );
    }
    missing
}

/// Chromium through chromedriver, with the page built: (driver process, session, profile
/// directory), or `None` when the test is skipped (tools missing outside CI).
async fn open_browser() -> Option<(Child, Browser, tempfile::TempDir)> {
    let missing = missing_tools();
    if !missing.is_empty() {
        let missing = missing.join(", ");
        skip_unless_ci(&format!(
            "the demo page test: missing {missing}; install with `bash scripts/install-test-tools.sh`"
        ));
        return None;
    }
    let dir = page_dir();
    if !is_built(&dir) {
        if is_ci() {
            panic!(
                "the demo page is not built in {}: CI must run `bash scripts/build-demo-page.sh` first",
                dir.display()
            );
        }
        build_page(&dir);
    }
    let chromedriver = on_path("chromedriver").expect("checked above");
    let chromium = on_path("chromium").expect("checked above");
    let profile = tempfile::TempDir::new().expect("profile dir");
    let (driver, port) = start_chromedriver(&chromedriver).await;
    let browser = connect(port, &chromium, profile.path(), (1000, 800)).await;
    Some((driver, browser, profile))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_page_keeps_its_key_and_conversation_and_recovers_from_a_revocation() {
    let Some((_driver, browser, _profile)) = open_browser().await else {
        return;
    };
    let public = start_emulator(PUBLIC_AGENT).await;
    let private = start_emulator(PRIVATE_AGENT).await;
    // Close the browser whatever happens, then report.
    let outcome = tokio::spawn({
        let browser = browser.clone();
        async move { flow(&browser, &public, &private).await }
    })
    .await;
    let _ = browser.close().await;
    if let Err(failure) = outcome {
        std::panic::resume_unwind(failure.into_panic());
    }
}

async fn flow(browser: &Browser, public: &Emulator, private: &Emulator) {
    let page = format!("{}/demo/", public.base_url());

    // 1. First load: one embed key, stored in the official shape; a message gets its echo.
    browser.goto(&page).await.expect("open the page");
    wait_for_text(browser, "#agent-name", AGENT_NAME).await;
    wait_until_ready(browser).await;
    assert_eq!(embed_key_statuses(public).await, vec![200], "one key made");
    let stored = local_storage(browser, KEY_NAME)
        .await
        .expect("the key is stored");
    let (first_secret, first_prefix) = check_stored_key(&stored);
    send(browser, "hello page").await;
    wait_for_text(browser, ".agent-message", "You said: hello page").await;
    wait_for_text(browser, ".user-message", "hello page").await;
    let task_id = local_storage(browser, TASK_NAME)
        .await
        .expect("the task id is stored");
    assert!(
        task_id.starts_with(&format!("{first_prefix}_-_")),
        "{task_id} is made with the key's prefix"
    );

    // 2. Reload: no new key, the conversation is back, and it goes on in the same task.
    browser.refresh().await.expect("reload");
    wait_until_ready(browser).await;
    wait_for_text(browser, ".agent-message", "You said: hello page").await;
    wait_for_text(browser, ".user-message", "hello page").await;
    assert_eq!(
        embed_key_statuses(public).await,
        vec![200],
        "a reload restores the key without a request"
    );
    send(browser, "second one").await;
    wait_for_text(browser, ".agent-message", "You said: second one").await;
    assert_eq!(
        texts(browser, ".agent-message").await.len(),
        2,
        "both replies shown once"
    );
    assert_eq!(
        local_storage(browser, TASK_NAME).await,
        Some(task_id.clone())
    );
    assert_eq!(
        task_ids_in_log(public).await,
        BTreeSet::from([task_id.clone()]),
        "every task request is about the one task"
    );
    assert_eq!(trigger_statuses(public).await, vec![200, 200]);
    let (users, agents) = conversation(public, &task_id).await;
    assert_eq!(users, ["hello page", "second one"]);
    assert_eq!(agents, ["You said: hello page", "You said: second one"]);

    // 3. The key is revoked: the next send is refused (the platform's 400 `User key`), one new key is made, the page says
    //    so, and the message goes to a new task.
    let revoked = reqwest::Client::new()
        .post(format!("{}/admin/keys/revoke", public.base_url()))
        .bearer_auth(ADMIN_TOKEN)
        .body(json!({ "key": first_secret }).to_string())
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), reqwest::StatusCode::OK);
    send(browser, "after revoke").await;
    wait_for_text(browser, "#notice", REVOKED_NOTICE).await;
    wait_for_text(browser, ".agent-message", "You said: after revoke").await;
    assert_eq!(
        texts(browser, ".agent-message").await,
        ["You said: after revoke"],
        "the old conversation is gone from the page"
    );
    assert_eq!(
        embed_key_statuses(public).await,
        vec![200, 200],
        "exactly one new key"
    );
    assert_eq!(
        trigger_statuses(public).await,
        vec![200, 200, 400, 200],
        "the send with the revoked key was refused, then sent once with the new key"
    );
    let stored = local_storage(browser, KEY_NAME)
        .await
        .expect("the new key is stored");
    let (second_secret, second_prefix) = check_stored_key(&stored);
    assert_ne!(second_secret, first_secret);
    assert_ne!(second_prefix, first_prefix);
    let new_task = local_storage(browser, TASK_NAME)
        .await
        .expect("the new task id is stored");
    assert!(
        new_task.starts_with(&format!("{second_prefix}_-_")),
        "{new_task}"
    );
    let (users, _) = conversation(public, &new_task).await;
    assert_eq!(users, ["after revoke"]);
    let png = browser.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let artifacts = workspace_root().join("target/artifacts");
    std::fs::create_dir_all(&artifacts).expect("create target/artifacts");
    std::fs::write(artifacts.join("demo-page.png"), png).expect("write the screenshot");

    // 4. Cleared storage: a new key, and nothing of the old conversation.
    browser
        .execute("localStorage.clear(); return null;", vec![])
        .await
        .expect("clear localStorage");
    browser.refresh().await.expect("reload");
    wait_until_ready(browser).await;
    assert_eq!(embed_key_statuses(public).await, vec![200, 200, 200]);
    let stored = local_storage(browser, KEY_NAME)
        .await
        .expect("a key is stored again");
    let (third_secret, _) = check_stored_key(&stored);
    assert_ne!(third_secret, second_secret);
    assert!(texts(browser, "#messages > *").await.is_empty());

    // 5. A page for a private agent says that no key can be made.
    browser
        .goto(&format!("{}/demo/", private.base_url()))
        .await
        .expect("open the private agent's page");
    wait_for_text(browser, "#notice", PRIVATE_NOTICE).await;
    assert_eq!(embed_key_statuses(private).await, vec![404]);
    assert_eq!(local_storage(browser, KEY_NAME).await, None);
    let send_disabled = browser
        .execute("return document.getElementById('send').disabled;", vec![])
        .await
        .expect("read #send");
    assert_eq!(send_disabled, json!(true), "nothing can be sent");
}

// --- `?store=cookie`: the key in a `Secure` cookie instead of localStorage ------------

/// The page's key cookie as the browser keeps it, or `None`.
async fn key_cookie(
    browser: &Browser,
) -> Option<relevance_testkit::browser::fantoccini::cookies::Cookie<'static>> {
    browser
        .get_all_cookies()
        .await
        .expect("read the cookies")
        .into_iter()
        .find(|cookie| cookie.name() == KEY_NAME)
}

/// A cookie value decoded by the browser's own `decodeURIComponent`, checked to be what
/// `encodeURIComponent` gives back (the JavaScript side reads and writes the same value).
async fn decode_in_browser(browser: &Browser, value: &str) -> String {
    let decoded = browser
        .execute(
            "const d = decodeURIComponent(arguments[0]); return encodeURIComponent(d) === arguments[0] ? d : null;",
            vec![json!(value)],
        )
        .await
        .expect("decode in the page");
    decoded
        .as_str()
        .unwrap_or_else(|| panic!("the cookie value is not encodeURIComponent's: {value}"))
        .to_string()
}

/// The key cookie's attributes checked; answers (secret, task prefix) of the key in it.
async fn check_key_cookie(browser: &Browser) -> (String, String) {
    let cookie = key_cookie(browser).await.expect("the key cookie is set");
    assert_eq!(cookie.secure(), Some(true), "Secure");
    assert_ne!(cookie.http_only(), Some(true), "the page itself wrote it");
    assert_eq!(
        cookie.same_site().map(|same_site| same_site.to_string()),
        Some("Strict".to_string())
    );
    assert_eq!(cookie.path(), Some("/"));
    let expires = cookie
        .expires_datetime()
        .map(|at| at.unix_timestamp())
        .expect("a persistent cookie (Max-Age), not a session cookie");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64;
    assert!(
        expires > now + 399 * 24 * 3600,
        "Max-Age is the default 400 days"
    );
    let stored = decode_in_browser(browser, cookie.value()).await;
    check_stored_key(&stored)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_page_keeps_its_key_in_a_secure_cookie_with_store_cookie() {
    let Some((_driver, browser, _profile)) = open_browser().await else {
        return;
    };
    let public = start_emulator(PUBLIC_AGENT).await;
    let outcome = tokio::spawn({
        let browser = browser.clone();
        async move { cookie_flow(&browser, &public).await }
    })
    .await;
    let _ = browser.close().await;
    if let Err(failure) = outcome {
        std::panic::resume_unwind(failure.into_panic());
    }
}

async fn cookie_flow(browser: &Browser, public: &Emulator) {
    let page = format!("{}/demo/?store=cookie", public.base_url());

    // 1. First load: one key, kept in a Secure; SameSite=Strict cookie (on plain
    //    http://127.0.0.1, which Chromium treats as a secure context), not in localStorage.
    browser.goto(&page).await.expect("open the page");
    wait_for_text(browser, "#agent-name", AGENT_NAME).await;
    wait_until_ready(browser).await;
    assert_eq!(embed_key_statuses(public).await, vec![200], "one key made");
    assert_eq!(local_storage(browser, KEY_NAME).await, None);
    let (first_secret, first_prefix) = check_key_cookie(browser).await;
    send(browser, "hello cookie").await;
    wait_for_text(browser, ".agent-message", "You said: hello cookie").await;
    let task_id = local_storage(browser, TASK_NAME)
        .await
        .expect("the task id is stored");
    assert!(
        task_id.starts_with(&format!("{first_prefix}_-_")),
        "{task_id}"
    );

    // 2. Reload: the key comes back from the cookie without a request.
    browser.refresh().await.expect("reload");
    wait_until_ready(browser).await;
    wait_for_text(browser, ".agent-message", "You said: hello cookie").await;
    assert_eq!(
        embed_key_statuses(public).await,
        vec![200],
        "a reload restores the key from the cookie without a request"
    );
    assert_eq!(check_key_cookie(browser).await.0, first_secret);

    // 3. A cookie that is not a key: reported, replaced by one new key.
    browser
        .execute(
            "document.cookie = arguments[0] + '=garbage; Secure; SameSite=Strict; Path=/'; return null;",
            vec![json!(KEY_NAME)],
        )
        .await
        .expect("write a garbage cookie");
    browser.refresh().await.expect("reload");
    wait_for_text(browser, "#notice", "The stored key could not be used").await;
    wait_until_ready(browser).await;
    assert_eq!(embed_key_statuses(public).await, vec![200, 200]);
    let (second_secret, _) = check_key_cookie(browser).await;
    assert_ne!(second_secret, first_secret);

    // 4. The cookie is cleared (as "clear site data" does): a new key on the next load,
    //    and nothing of the old conversation.
    browser
        .delete_cookie(KEY_NAME)
        .await
        .expect("delete the cookie");
    assert!(key_cookie(browser).await.is_none());
    browser.refresh().await.expect("reload");
    wait_until_ready(browser).await;
    assert_eq!(embed_key_statuses(public).await, vec![200, 200, 200]);
    let (third_secret, _) = check_key_cookie(browser).await;
    assert_ne!(third_secret, second_secret);
    assert!(texts(browser, "#messages > *").await.is_empty());

    // 5. An unknown storage is refused by name, and no key is made for it.
    browser
        .goto(&format!("{}/demo/?store=sessionStorage", public.base_url()))
        .await
        .expect("open the page");
    wait_for_text(browser, "#notice", "is not a key storage").await;
    assert_eq!(embed_key_statuses(public).await, vec![200, 200, 200]);
}
