//! The SDK in a real headless Chromium, against a running emulator: keys kept in
//! `localStorage` and in a `Secure` cookie in the official JavaScript SDK's shape,
//! [`EmbedSession`] get-or-create, and messages and live events over the browser's `fetch`
//! and timers.
//!
//! Run by `crates/relevance/tests/headless_chromium.rs`, which starts the emulator from
//! `crates/relevance/tests/browser_seed.toml` and passes its URL and admin token at
//! compile time. That driver also checks the emulator's request log afterwards: this suite
//! asks for exactly [`EMBED_KEYS_GENERATED`]-many embed keys (the admin API is closed to
//! pages, so the count cannot be read from here).
#![cfg(target_family = "wasm")]

use futures_util::future::{select, Either};
use futures_util::StreamExt;
use relevance::{
    CookieError, CookieKeyStore, EmbedKeyOptions, EmbedSession, EmbedTarget, Error, Key,
    KeyDataError, KeyScope, KeyStore, LocalStorageKeyStore, MessageContent, Region, SessionStart,
    StoredKeyProblem, TaskEvent,
};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const BASE_URL: &str = env!(
    "RELEVANCE_BROWSER_TEST_BASE_URL",
    "set by crates/relevance/tests/headless_chromium.rs: the emulator's URL"
);
const ADMIN_TOKEN: &str = env!(
    "RELEVANCE_BROWSER_TEST_ADMIN_TOKEN",
    "set by crates/relevance/tests/headless_chromium.rs: the emulator's admin token"
);
/// From `browser_seed.toml`.
const PROJECT: &str = "proj-browser";
/// A public echo agent of [`PROJECT`] (US).
const AGENT: &str = "echo";
/// Nothing listens here: a start that restores must not need the network at all.
const NOWHERE: &str = "http://127.0.0.1:9";
/// How many embed keys the tests below generate, one per test that says so. The native
/// driver holds the emulator's request log to this number (documentation only here).
#[allow(dead_code)]
const EMBED_KEYS_GENERATED: usize = 7;

fn storage() -> web_sys::Storage {
    web_sys::window()
        .expect("a page has a window")
        .local_storage()
        .expect("localStorage is allowed")
        .expect("localStorage exists")
}

fn raw(name: &str) -> Option<String> {
    storage().get_item(name).expect("getItem")
}

fn options(base_url: &str) -> EmbedKeyOptions {
    EmbedKeyOptions::agent(Region::US, PROJECT, AGENT).base_url(base_url)
}

async fn sleep(millis: u32) {
    gloo_timers::future::TimeoutFuture::new(millis).await;
}

#[wasm_bindgen_test]
fn local_storage_keeps_exactly_the_persisted_form() {
    let name = "relevance-test-round-trip";
    let store = LocalStorageKeyStore::new();
    let keys = [
        Key::embed(
            "embed-secret-0001",
            Region::US,
            PROJECT,
            EmbedTarget::Agent("a1".into()),
            "pfx-a",
        )
        .unwrap(),
        Key::embed(
            "embed-secret-0002",
            Region::EU,
            PROJECT,
            EmbedTarget::Workforce("w1".into()),
            "pfx-w",
        )
        .unwrap(),
        Key::new("sk-test-0003", Region::AU, "other-project").unwrap(),
    ];
    for key in keys {
        store.save(name, &key).unwrap();
        assert_eq!(raw(name), Some(key.to_json()));
        let loaded = store.load(name).unwrap().expect("a saved key loads");
        assert_eq!(loaded.to_json(), key.to_json());
        assert_eq!(loaded.scope(), key.scope());
    }
    store.remove(name).unwrap();
    assert_eq!(raw(name), None);
    assert!(store.load(name).unwrap().is_none());
    store.remove(name).unwrap();
}

#[wasm_bindgen_test]
async fn a_key_saved_by_the_official_client_restores_without_a_request() {
    let name = "relevance-test-official";
    // What `localStorage.setItem(name, JSON.stringify(key.toJSON()))` leaves behind.
    let official = r#"{"key":"embed-official-0001","region":"bcbe5a","project":"proj-browser","agentId":"echo","taskPrefix":"official-prefix"}"#;
    storage().set_item(name, official).expect("setItem");

    let loaded = LocalStorageKeyStore::new()
        .load(name)
        .unwrap()
        .expect("stored");
    assert_eq!(loaded.scope(), KeyScope::Agent(AGENT.into()));
    assert_eq!(loaded.task_prefix(), Some("official-prefix"));

    let (session, how) = EmbedSession::start(LocalStorageKeyStore::new(), name, options(NOWHERE))
        .await
        .expect("a stored key restores with no server at all");
    assert_eq!(how, SessionStart::Restored);
    assert_eq!(session.key().to_json(), official);
    assert_eq!(
        raw(name).as_deref(),
        Some(official),
        "restoring rewrites nothing"
    );
    storage().remove_item(name).expect("removeItem");
}

/// Generates one embed key.
#[wasm_bindgen_test]
async fn a_garbage_stored_value_is_reported_and_replaced() {
    let name = "relevance-test-garbage";
    storage().set_item(name, "{not json").expect("setItem");
    let (session, how) = EmbedSession::start(LocalStorageKeyStore::new(), name, options(BASE_URL))
        .await
        .expect("start");
    match how {
        SessionStart::Replaced {
            reason: StoredKeyProblem::Invalid(KeyDataError::InvalidJson { .. }),
        } => {}
        other => panic!("expected a replaced invalid value, got {other:?}"),
    }
    assert!(session.key().is_embed());
    assert_eq!(session.key().scope(), KeyScope::Agent(AGENT.into()));
    assert_eq!(raw(name), Some(session.key().to_json()));
    storage().remove_item(name).expect("removeItem");
}

/// Generates one embed key.
#[wasm_bindgen_test]
async fn a_session_generates_once_then_restores_without_a_request() {
    let name = "relevance-test-session";
    storage().remove_item(name).expect("removeItem");
    let (first, how) = EmbedSession::start(LocalStorageKeyStore::new(), name, options(BASE_URL))
        .await
        .expect("first start");
    assert_eq!(how, SessionStart::Generated);
    let stored = raw(name).expect("the generated key is stored");
    assert_eq!(stored, first.key().to_json());
    let prefix = first.key().task_prefix().expect("an embed key").to_string();

    // No server behind NOWHERE: any request would fail the start.
    let (second, how) = EmbedSession::start(LocalStorageKeyStore::new(), name, options(NOWHERE))
        .await
        .expect("second start restores");
    assert_eq!(how, SessionStart::Restored);
    assert_eq!(second.key().to_json(), stored);

    // The restored key works against the emulator.
    let (third, how) = EmbedSession::start(LocalStorageKeyStore::new(), name, options(BASE_URL))
        .await
        .expect("third start restores");
    assert_eq!(how, SessionStart::Restored);
    assert_eq!(third.key().task_prefix(), Some(prefix.as_str()));
    let agent = third.client().agents().get(AGENT).await.expect("own agent");
    assert_eq!(agent.id, AGENT);
    storage().remove_item(name).expect("removeItem");
}

/// Generates one embed key.
#[wasm_bindgen_test]
async fn a_message_is_sent_and_its_reply_read_through_fetch() {
    let name = "relevance-test-message";
    storage().remove_item(name).expect("removeItem");
    let (mut session, _) =
        EmbedSession::start(LocalStorageKeyStore::new(), name, options(BASE_URL))
            .await
            .expect("start");
    let prefix = session.key().task_prefix().expect("embed").to_string();
    let (mut task, replaced) = session
        .run(|client| async move {
            let agent = client.agents().get(AGENT).await?;
            agent.send_message("hello from chromium").await
        })
        .await
        .expect("message sent");
    assert!(replaced.is_none());
    assert!(task.id.starts_with(&format!("{prefix}_-_")), "{}", task.id);

    let mut refreshes = 0;
    loop {
        task.refresh().await.expect("refresh");
        if !task.is_running() {
            break;
        }
        refreshes += 1;
        assert!(refreshes < 400, "the echo agent never finished");
        sleep(25).await;
    }
    let texts: Vec<String> = task
        .messages()
        .await
        .expect("messages")
        .into_iter()
        .filter_map(|message| match message.content {
            MessageContent::User(user) => Some(format!("user:{}", user.text)),
            MessageContent::Agent(agent) => Some(format!("agent:{}", agent.text)),
            _ => None,
        })
        .collect();
    assert_eq!(
        texts,
        [
            "user:hello from chromium",
            "agent:You said: hello from chromium"
        ]
    );
    storage().remove_item(name).expect("removeItem");
}

/// Generates one embed key.
#[wasm_bindgen_test]
async fn task_events_yield_the_reply_in_the_browser() {
    let name = "relevance-test-events";
    storage().remove_item(name).expect("removeItem");
    let (mut session, _) =
        EmbedSession::start(LocalStorageKeyStore::new(), name, options(BASE_URL))
            .await
            .expect("start");
    let (task, _) = session
        .run(|client| async move {
            let agent = client.agents().get(AGENT).await?;
            agent.send_message("events in a browser").await
        })
        .await
        .expect("message sent");

    let mut events = task.events();
    let mut seen = Vec::new();
    // A deadline instead of hanging the page forever if the stream stalls: timers and fetch
    // must both work for the reply to arrive.
    let mut deadline = Box::pin(sleep(20_000));
    loop {
        let event = match select(events.next(), deadline).await {
            Either::Left((Some(event), pending)) => {
                deadline = pending;
                event.expect("event")
            }
            Either::Left((None, _)) => panic!("the stream ended; seen {seen:?}"),
            Either::Right(_) => panic!("no reply within 20 s; seen {seen:?}"),
        };
        match event {
            TaskEvent::Message(message) => match message.content {
                MessageContent::User(user) => seen.push(format!("user:{}", user.text)),
                MessageContent::Agent(agent) => {
                    assert!(!agent.generating, "a generating reply must be held back");
                    seen.push(format!("agent:{}", agent.text));
                    break;
                }
                _ => {}
            },
            TaskEvent::Updated { status, .. } => seen.push(format!("status:{status}")),
            _ => {}
        }
    }
    let messages: Vec<&String> = seen.iter().filter(|s| !s.starts_with("status:")).collect();
    assert_eq!(
        messages,
        [
            "user:events in a browser",
            "agent:You said: events in a browser"
        ]
    );
    storage().remove_item(name).expect("removeItem");
}

#[wasm_bindgen_test]
async fn the_admin_api_is_closed_to_pages_even_with_the_token() {
    let http = reqwest::Client::new();
    let admin = http
        .get(format!("{BASE_URL}/admin/requests?limit=1"))
        .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
        .send()
        .await;
    let error = admin.expect_err("the browser blocks a cross-origin admin read");
    assert!(error.is_request() || error.status().is_none(), "{error:?}");
    // The same page reaches the API: CORS, not the network, stopped the admin read.
    let api = http
        .post(format!("{BASE_URL}/bcbe5a/latest/agents/list"))
        .send()
        .await
        .expect("the API answers a page");
    assert_eq!(api.status().as_u16(), 401);
}

// --- Keys in a cookie (`CookieKeyStore`) ---------------------------------------------

fn html_document() -> web_sys::HtmlDocument {
    web_sys::window()
        .expect("a page has a window")
        .document()
        .expect("a page has a document")
        .dyn_into()
        .expect("an HTML document")
}

/// Runs `code` as the page's own JavaScript would.
fn run_js(code: &str) {
    js_sys::Function::new_no_args(code)
        .call0(&JsValue::NULL)
        .expect("the script runs");
}

/// The raw value of the cookie `name` as the page's scripts see it.
fn raw_cookie(name: &str) -> Option<String> {
    let cookies = html_document().cookie().expect("document.cookie");
    cookies
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(cookie_name, _)| *cookie_name == name)
        .map(|(_, value)| value.to_string())
}

/// Deletes the cookie `name` as a JavaScript app (or "clear site data") would.
fn clear_cookie(name: &str) {
    run_js(&format!(
        "document.cookie = '{name}=; Max-Age=0; Path=/; Secure; SameSite=Strict';"
    ));
    assert_eq!(raw_cookie(name), None, "the cookie is gone");
}

#[wasm_bindgen_test]
fn chromium_keeps_a_secure_cookie_on_plain_http_127_0_0_1() {
    // What this suite runs on: the test runner's plain-HTTP page on 127.0.0.1, which
    // Chromium counts as a secure context (like localhost), so `Secure` cookies set there
    // are kept — and the CookieKeyStore needs no "insecure" switch for local development.
    let window = web_sys::window().expect("window");
    let location = window.location();
    assert_eq!(location.protocol().unwrap(), "http:");
    assert_eq!(location.hostname().unwrap(), "127.0.0.1");
    assert!(window.is_secure_context(), "127.0.0.1 is a secure context");
    let name = "relevance-test-secure-probe";
    run_js(&format!(
        "document.cookie = '{name}=kept; Secure; SameSite=Strict; Path=/; Max-Age=60';"
    ));
    assert_eq!(raw_cookie(name).as_deref(), Some("kept"));
    clear_cookie(name);
}

#[wasm_bindgen_test]
fn a_cookie_keeps_exactly_the_persisted_form_url_encoded() {
    let name = "relevance-test-cookie-round-trip";
    let store = CookieKeyStore::new();
    let keys = [
        Key::embed(
            "embed-secret-0001",
            Region::US,
            PROJECT,
            EmbedTarget::Agent("a1".into()),
            "pfx-a",
        )
        .unwrap(),
        Key::embed(
            "embed-secret-0002",
            Region::EU,
            "project; with = odd, chars",
            EmbedTarget::Workforce("w1".into()),
            "pfx-w",
        )
        .unwrap(),
        Key::new("sk-test-0003", Region::AU, "other-project").unwrap(),
    ];
    for key in keys {
        store.save(name, &key).unwrap();
        // What `encodeURIComponent(JSON.stringify(key.toJSON()))` gives, byte for byte.
        let expected = String::from(js_sys::encode_uri_component(&key.to_json()));
        assert_eq!(raw_cookie(name), Some(expected));
        let loaded = store.load(name).unwrap().expect("a saved key loads");
        assert_eq!(loaded.to_json(), key.to_json());
        assert_eq!(loaded.scope(), key.scope());
    }
    store.remove(name).unwrap();
    assert_eq!(raw_cookie(name), None);
    assert!(store.load(name).unwrap().is_none());
    store.remove(name).unwrap();
}

#[wasm_bindgen_test]
async fn a_cookie_written_by_a_js_app_restores_without_a_request() {
    let name = "relevance-test-cookie-official";
    // What a JavaScript app using the official SDK writes.
    run_js(&format!(
        "const key = {{key: 'embed-official-0002', region: 'bcbe5a', project: 'proj-browser', agentId: 'echo', taskPrefix: 'official-cookie'}};
         document.cookie = '{name}=' + encodeURIComponent(JSON.stringify(key)) + '; Secure; SameSite=Strict; Path=/; Max-Age=3600';"
    ));
    let official = r#"{"key":"embed-official-0002","region":"bcbe5a","project":"proj-browser","agentId":"echo","taskPrefix":"official-cookie"}"#;
    let before = raw_cookie(name).expect("the app's cookie is there");

    let (session, how) = EmbedSession::start(CookieKeyStore::new(), name, options(NOWHERE))
        .await
        .expect("a stored key restores with no server at all");
    assert_eq!(how, SessionStart::Restored);
    assert_eq!(session.key().to_json(), official);
    assert_eq!(session.key().task_prefix(), Some("official-cookie"));
    assert_eq!(raw_cookie(name), Some(before), "restoring rewrites nothing");
    clear_cookie(name);
}

/// Generates one embed key.
#[wasm_bindgen_test]
async fn a_garbage_cookie_is_reported_and_replaced() {
    let name = "relevance-test-cookie-garbage";
    run_js(&format!(
        "document.cookie = '{name}=%7Bnot%20json; Secure; SameSite=Strict; Path=/';"
    ));
    let (session, how) = EmbedSession::start(CookieKeyStore::new(), name, options(BASE_URL))
        .await
        .expect("start");
    match how {
        SessionStart::Replaced {
            reason: StoredKeyProblem::Invalid(KeyDataError::InvalidJson { .. }),
        } => {}
        other => panic!("expected a replaced invalid value, got {other:?}"),
    }
    assert!(session.key().is_embed());
    assert_eq!(session.key().scope(), KeyScope::Agent(AGENT.into()));
    let stored = raw_cookie(name).expect("the new key is stored");
    assert_eq!(
        stored,
        String::from(js_sys::encode_uri_component(&session.key().to_json()))
    );
    clear_cookie(name);
}

/// Generates two embed keys.
#[wasm_bindgen_test]
async fn a_cleared_cookie_leads_to_a_new_key() {
    let name = "relevance-test-cookie-cleared";
    let (first, how) = EmbedSession::start(CookieKeyStore::new(), name, options(BASE_URL))
        .await
        .expect("first start");
    assert_eq!(how, SessionStart::Generated);
    let first_prefix = first.key().task_prefix().expect("embed").to_string();
    // No server behind NOWHERE: the restore sends nothing.
    let (restored, how) = EmbedSession::start(CookieKeyStore::new(), name, options(NOWHERE))
        .await
        .expect("restores");
    assert_eq!(how, SessionStart::Restored);
    assert_eq!(restored.key().to_json(), first.key().to_json());

    clear_cookie(name);
    let (second, how) = EmbedSession::start(CookieKeyStore::new(), name, options(BASE_URL))
        .await
        .expect("start after clearing");
    assert_eq!(how, SessionStart::Generated);
    let second_prefix = second.key().task_prefix().expect("embed");
    assert_ne!(
        second_prefix, first_prefix,
        "a new key has a new task prefix"
    );
    assert_eq!(
        raw_cookie(name),
        Some(String::from(js_sys::encode_uri_component(
            &second.key().to_json()
        )))
    );
    let agent = second
        .client()
        .agents()
        .get(AGENT)
        .await
        .expect("own agent");
    assert_eq!(agent.id, AGENT);
    clear_cookie(name);
}

#[wasm_bindgen_test]
fn a_key_too_large_for_a_cookie_is_refused_and_nothing_is_written() {
    let name = "relevance-test-cookie-too-large";
    let key = Key::embed(
        "x".repeat(5000),
        Region::US,
        PROJECT,
        EmbedTarget::Agent(AGENT.into()),
        "pfx",
    )
    .unwrap();
    match CookieKeyStore::new().save(name, &key) {
        Err(Error::Cookie(CookieError::TooLarge { size, limit, .. })) => {
            assert_eq!(limit, 4096);
            assert!(size > limit);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert_eq!(raw_cookie(name), None);
}
