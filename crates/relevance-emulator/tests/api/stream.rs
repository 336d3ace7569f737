//! Streaming tokens and the live stream (`/{region}/v1/stream`), over real HTTP:
//! who gets a token, what it opens, exact SSE framing, expiry, revocation, shutdown.

use std::time::Duration;

use relevance_emulator::Config;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::support::*;

const STREAM_SEED: &str = r#"
[[projects]]
id = "proj-s"
region = "us"
api_keys = ["sk-test-s-0001"]

[[projects.agents]]
id = "echo"
public = true
chunk_delay_ms = 1

[[projects.agents]]
id = "thinker"
public = true
behavior = "script"
chunk_delay_ms = 1
script = [
  { think = "pondering {message}", delay_ms = 1 },
  { type = "A typed answer about {message}, long enough for several chunks", delay_ms = 1 },
]

[[projects.workforces]]
id = "desk"
agents = ["echo"]

[[projects]]
id = "proj-s-eu"
region = "eu"
api_keys = ["sk-test-s-eu-0001"]
"#;

const KEY_S: &str = "proj-s:sk-test-s-0001";
/// Hang guard only: every wait below ends on an event long before this.
const GUARD: Duration = Duration::from_secs(30);

async fn start_stream_seed(settings: &str) -> Running {
    let seed_dir = TempDir::new().expect("tempdir");
    let config = Config {
        seed_file: Some(write_seed(&seed_dir, &format!("{settings}\n{STREAM_SEED}"))),
        ..Config::default()
    };
    Running {
        emulator: start(config).await,
        http: reqwest::Client::new(),
        seed_dir,
    }
}

/// One complete SSE frame.
#[derive(Debug, Clone, PartialEq)]
enum Frame {
    Comment(String),
    Data(Value),
}

/// An open stream and everything read from it so far.
struct Sse {
    response: reqwest::Response,
    raw: String,
    ended: bool,
}

impl Sse {
    /// Every complete frame so far; panics on anything but `data: {json}` or a comment.
    fn frames(&self) -> Vec<Frame> {
        assert!(
            !self.raw.contains('\r'),
            "frames are LF-only: {:?}",
            self.raw
        );
        let mut parts: Vec<&str> = self.raw.split("\n\n").collect();
        parts.pop(); // the incomplete tail (empty after a complete frame)
        parts
            .into_iter()
            .map(|part| {
                assert!(!part.contains('\n'), "one line per frame: {part:?}");
                if let Some(comment) = part.strip_prefix(':') {
                    return Frame::Comment(comment.trim().to_string());
                }
                let json = part
                    .strip_prefix("data: ")
                    .unwrap_or_else(|| panic!("a frame is `data: ` + JSON: {part:?}"));
                Frame::Data(serde_json::from_str(json).expect("data is JSON"))
            })
            .collect()
    }

    fn events(&self) -> Vec<Value> {
        self.frames()
            .into_iter()
            .filter_map(|frame| match frame {
                Frame::Data(value) => Some(value),
                Frame::Comment(_) => None,
            })
            .collect()
    }

    /// Reads until `done(events)` holds; panics if the stream ends first.
    async fn read_until(&mut self, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        tokio::time::timeout(GUARD, async {
            while !done(&self.events()) {
                match self.response.chunk().await {
                    Ok(Some(bytes)) => self
                        .raw
                        .push_str(std::str::from_utf8(&bytes).expect("utf-8 stream")),
                    other => panic!("stream ended early ({other:?}): {:?}", self.raw),
                }
            }
        })
        .await
        .expect("the awaited events arrive");
        self.events()
    }

    /// Reads until the server ends the stream (cleanly or by closing the connection).
    async fn read_to_end(&mut self) {
        tokio::time::timeout(GUARD, async {
            while let Ok(Some(bytes)) = self.response.chunk().await {
                self.raw
                    .push_str(std::str::from_utf8(&bytes).expect("utf-8 stream"));
            }
        })
        .await
        .expect("the server ends the stream");
        self.ended = true;
    }
}

impl Running {
    async fn open_stream(&self, region: &str, token: &str) -> reqwest::Response {
        // Pasted unencoded, as the official client does: `+` is the space of `Bearer {token}`.
        self.http
            .get(self.url(&format!("/{region}/v1/stream?authorization=Bearer+{token}")))
            .send()
            .await
            .expect("stream request sent")
    }

    async fn stream(&self, region: &str, token: &str) -> Sse {
        let response = self.open_stream(region, token).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response
                .headers()
                .get("content-type")
                .and_then(|value| value.to_str().ok()),
            Some("text/event-stream")
        );
        Sse {
            response,
            raw: String::new(),
            ended: false,
        }
    }

    async fn agent_token(&self, auth: &str, agent: &str, task: &str) -> Value {
        let answer = self
            .get(
                &format!("/{US}/latest/agents/{agent}/tasks/{task}/metadata?include_streaming_token=true"),
                Some(auth),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        answer.body["streaming_token"].clone()
    }

    /// Triggers `agent` (continuing `task`) and waits for its run to end.
    async fn run_agent(&self, auth: &str, agent: &str, task: &str, text: &str) -> Vec<Value> {
        let answer = self
            .trigger(
                auth,
                json!({"agent_id": agent, "conversation_id": task,
                       "message": {"role": "user", "content": text}}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        self.settle(auth, agent, task).await.1
    }
}

fn token_of(streaming_token: &Value) -> String {
    streaming_token["token"]
        .as_str()
        .unwrap_or_else(|| panic!("streaming_token.token: {streaming_token}"))
        .to_string()
}

fn text_is(text: &str) -> impl Fn(&[Value]) -> bool + '_ {
    move |events: &[Value]| {
        events
            .iter()
            .any(|event| event["type"] == "text" && event["content"] == text)
    }
}

#[tokio::test]
async fn metadata_adds_a_url_safe_streaming_token_only_when_asked() {
    let running = start_stream_seed("").await;
    running.run_agent(KEY_S, "echo", "t-meta", "hi").await;
    let workforce = running
        .post(
            &format!("/{US}/latest/workforce/trigger"),
            Some(KEY_S),
            r#"{"workforce_id":"desk","trigger":{"message":{"role":"user","content":"hi"}}}"#,
        )
        .await;
    assert_eq!(workforce.status, StatusCode::OK, "{}", workforce.text);
    let workforce_task = workforce.body["workforce_task_id"].as_str().expect("id");
    let agent_path = format!("/{US}/latest/agents/echo/tasks/t-meta/metadata");
    let workforce_path = format!("/{US}/latest/workforce/tasks/{workforce_task}/metadata");
    for path in [&agent_path, &workforce_path] {
        for (query, wanted) in [
            ("", false),
            ("?include_streaming_token=false", false),
            ("?include_streaming_token=true", true),
            ("?include_streaming_token=TRUE", true),
        ] {
            let answer = running.get(&format!("{path}{query}"), Some(KEY_S)).await;
            assert_eq!(
                answer.status,
                StatusCode::OK,
                "{path}{query}: {}",
                answer.text
            );
            assert!(answer.body["metadata"].is_object());
            let token = &answer.body["streaming_token"];
            if !wanted {
                assert!(
                    answer.body.get("streaming_token").is_none(),
                    "{path}{query}"
                );
                continue;
            }
            let value = token_of(token);
            assert!(value.len() >= 22, "at least 128 bits: {value}");
            assert!(
                value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
                "{value}"
            );
            assert!(token["expiry_time_ms"].as_i64().expect("expiry") > 1_600_000_000_000);
        }
    }
    let first = running.agent_token(KEY_S, "echo", "t-meta").await;
    let second = running.agent_token(KEY_S, "echo", "t-meta").await;
    assert_ne!(
        token_of(&first),
        token_of(&second),
        "every request mints a new token"
    );
}

#[tokio::test]
async fn the_stream_carries_thinking_then_the_typed_text_of_the_agent_message() {
    let running = start_stream_seed("").await;
    let task = "t-think";
    running.run_agent(KEY_S, "thinker", task, "first").await;
    let token = token_of(&running.agent_token(KEY_S, "thinker", task).await);
    let mut sse = running.stream(US, &token).await;

    let final_text = "A typed answer about rust, long enough for several chunks";
    let messages = running.run_agent(KEY_S, "thinker", task, "rust").await;
    let events = sse.read_until(text_is(final_text)).await;

    let reply = messages.last().expect("the typed reply");
    assert_eq!(reply["content"]["text"], final_text);
    let reply_id = reply["item_id"].as_str().expect("item_id");
    assert_eq!(events[0]["type"], "thinking", "{events:?}");
    assert_eq!(events[0]["content"], "pondering rust");
    assert!(events[0]["documentId"].is_string());
    let texts: Vec<&Value> = events[1..].iter().collect();
    assert!(texts.len() >= 3, "typed in several chunks: {texts:?}");
    let mut previous = String::new();
    for event in &texts {
        assert_eq!(
            event.as_object().map(|fields| fields.len()),
            Some(3),
            "{event}"
        );
        assert_eq!(event["type"], "text");
        assert_eq!(event["documentId"], reply_id);
        let content = event["content"].as_str().expect("content");
        assert!(
            content.starts_with(&previous) && content.len() > previous.len(),
            "each text event is the whole text so far: {previous:?} then {content:?}"
        );
        previous = content.to_string();
    }
    assert_eq!(previous, final_text);
    // Framing, byte for byte: the first frame is exactly `data: ` + its JSON + `\n\n`.
    let first_json = serde_json::to_string(&events[0]).expect("json");
    assert!(
        sse.raw.starts_with("data: {"),
        "no preamble before the first event: {:?}",
        sse.raw
    );
    assert_eq!(
        serde_json::from_str::<Value>(
            &sse.raw["data: ".len()..sse.raw.find("\n\n").expect("separator")]
        )
        .expect("json"),
        serde_json::from_str::<Value>(&first_json).expect("json")
    );
}

#[tokio::test]
async fn a_token_opens_the_stream_of_its_own_task_only() {
    let running = start_stream_seed("").await;
    running.run_agent(KEY_S, "echo", "task-a", "a").await;
    running.run_agent(KEY_S, "echo", "task-b", "b").await;
    let token_a = token_of(&running.agent_token(KEY_S, "echo", "task-a").await);
    let mut sse = running.stream(US, &token_a).await;

    let b_messages = running
        .run_agent(KEY_S, "echo", "task-b", "bbbbbbbbbbbbbbbb")
        .await;
    let a_messages = running
        .run_agent(KEY_S, "echo", "task-a", "aaaaaaaaaaaaaaaa")
        .await;
    let events = sse.read_until(text_is("You said: aaaaaaaaaaaaaaaa")).await;

    let a_reply = a_messages.last().expect("reply")["item_id"].clone();
    let b_reply = b_messages.last().expect("reply")["item_id"].clone();
    assert!(!events.is_empty());
    for event in &events {
        assert_eq!(
            event["documentId"], a_reply,
            "only task A's events: {event}"
        );
        assert_ne!(event["documentId"], b_reply);
    }
}

#[tokio::test]
async fn a_workforce_task_streams_its_members_typing() {
    let running = start_stream_seed("").await;
    let path = format!("/{US}/latest/workforce/trigger");
    let first = running
        .post(
            &path,
            Some(KEY_S),
            r#"{"workforce_id":"desk","workforce_task_id":"wt-1","trigger":{"message":{"role":"user","content":"one"}}}"#,
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let meta_path =
        format!("/{US}/latest/workforce/tasks/wt-1/metadata?include_streaming_token=true");
    let mut token = None;
    for _ in 0..1000 {
        let meta = running.get(&meta_path, Some(KEY_S)).await;
        assert_eq!(meta.status, StatusCode::OK, "{}", meta.text);
        if meta.body["metadata"]["state"] != "running" {
            token = Some(token_of(&meta.body["streaming_token"]));
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let token = token.expect("the first workforce run ends");
    let mut sse = running.stream(US, &token).await;
    let again = running
        .post(
            &path,
            Some(KEY_S),
            r#"{"workforce_id":"desk","workforce_task_id":"wt-1","trigger":{"message":{"role":"user","content":"second message"}}}"#,
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    let events = sse.read_until(text_is("You said: second message")).await;
    let document = events.last().expect("event")["documentId"].clone();

    let messages = running
        .post(
            &format!("/{US}/latest/workforce/items/desk/tasks/wt-1/messages"),
            Some(KEY_S),
            "",
        )
        .await;
    assert_eq!(messages.status, StatusCode::OK, "{}", messages.text);
    let member_reply = messages.body["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|message| message["content"]["text"] == "You said: second message")
        .cloned()
        .expect("the member's reply is merged into the workforce task");
    assert_eq!(member_reply["item_id"], document);
}

#[tokio::test]
async fn malformed_unknown_missing_and_other_region_tokens_are_401() {
    let running = start_stream_seed("").await;
    running.run_agent(KEY_S, "echo", "t-401", "hi").await;
    let token = token_of(&running.agent_token(KEY_S, "echo", "t-401").await);
    let unknown = format!("st-{}", "A".repeat(43));
    let cases = [
        (
            format!("/{US}/v1/stream?authorization=Bearer+not-a-token"),
            "malformed",
        ),
        (
            format!("/{US}/v1/stream?authorization=Bearer+{unknown}"),
            "unknown",
        ),
        (format!("/{US}/v1/stream"), "missing"),
        (format!("/{US}/v1/stream?authorization=Bearer+"), "missing"),
        (
            format!("/{EU}/v1/stream?authorization=Bearer+{token}"),
            "region",
        ),
        (
            format!(
                "/{US}/v1/stream?authorization=Bearer+{}",
                token.to_lowercase()
            ),
            "",
        ),
    ];
    for (path, needle) in cases {
        let answer = running.get(&path, None).await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "{path}: {}",
            answer.text
        );
        assert!(answer.message().contains(needle), "{path}: {}", answer.text);
        assert!(!answer.text.contains(&token), "never echoes a token");
    }
    let unknown_region = running
        .get(
            &format!("/zzzzzz/v1/stream?authorization=Bearer+{token}"),
            None,
        )
        .await;
    assert_eq!(unknown_region.status, StatusCode::NOT_FOUND);
    // The same token still works where it belongs.
    let response = running.open_stream(US, &token).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_revoked_keys_tokens_are_refused() {
    let running = start_stream_seed("").await;
    let answer = running
        .post(
            &format!("/{US}/latest/agents/get_embed_key"),
            None,
            r#"{"agent_id":"echo","project":"proj-s"}"#,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let key = answer.body["embed_key"].as_str().expect("key").to_string();
    let prefix = answer.body["conversation_prefix"].as_str().expect("prefix");
    let auth = format!("proj-s:{key}");
    let task = format!("{prefix}_-_2f1c5a44-7a3b-4d7e-9a35-0c6f1b2d3e4f");
    running.run_agent(&auth, "echo", &task, "hi").await;
    let token = token_of(&running.agent_token(&auth, "echo", &task).await);
    assert_eq!(
        running.open_stream(US, &token).await.status(),
        StatusCode::OK
    );

    let revoked = running
        .post(
            "/admin/keys/revoke",
            Some(&running.admin()),
            &json!({ "key": key }).to_string(),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    let refused = running
        .get(
            &format!("/{US}/v1/stream?authorization=Bearer+{token}"),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.text);
    assert!(refused.message().contains("revoked"), "{}", refused.text);
}

/// PROTOCOL B: a revoked key fails on the very next request, and an open stream is one
/// long request. The token would live 10 minutes; the stream ends long before the guard.
#[tokio::test]
async fn revoking_a_key_ends_its_open_streams_and_only_those() {
    let running = start_stream_seed("").await;
    let answer = running
        .post(
            &format!("/{US}/latest/agents/get_embed_key"),
            None,
            r#"{"agent_id":"echo","project":"proj-s"}"#,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let key = answer.body["embed_key"].as_str().expect("key").to_string();
    let prefix = answer.body["conversation_prefix"].as_str().expect("prefix");
    let auth = format!("proj-s:{key}");
    let task = format!("{prefix}_-_6b1d0c2e-8f3a-4c5d-9e7f-1a2b3c4d5e6f");
    running.run_agent(&auth, "echo", &task, "hi").await;
    let token = token_of(&running.agent_token(&auth, "echo", &task).await);
    let mut revoked_stream = running.stream(US, &token).await;
    // Another key's stream must keep flowing.
    running.run_agent(KEY_S, "echo", "t-keeps", "hi").await;
    let other_token = token_of(&running.agent_token(KEY_S, "echo", "t-keeps").await);
    let mut other_stream = running.stream(US, &other_token).await;

    let revoked = running
        .post(
            "/admin/keys/revoke",
            Some(&running.admin()),
            &json!({ "key": key }).to_string(),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    revoked_stream.read_to_end().await;
    assert!(revoked_stream.ended, "the revoked key's stream is closed");

    let answer = running
        .trigger(
            KEY_S,
            json!({"agent_id": "echo", "conversation_id": "t-keeps",
                   "message": {"role": "user", "content": "still here"}}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let events = other_stream
        .read_until(|events| {
            events.iter().any(|event| {
                event["content"]
                    .as_str()
                    .is_some_and(|c| c.contains("still here"))
            })
        })
        .await;
    assert!(!events.is_empty());
}

#[tokio::test]
async fn an_expired_token_is_refused_and_its_open_stream_is_closed() {
    let running = start_stream_seed("[emulator]\nstreaming_token_ttl_ms = 200\n").await;
    running.run_agent(KEY_S, "echo", "t-exp", "hi").await;
    let issued = running.agent_token(KEY_S, "echo", "t-exp").await;
    let token = token_of(&issued);
    let mut sse = running.stream(US, &token).await;
    // The server closes the stream when the token expires.
    sse.read_to_end().await;
    assert!(sse.ended);
    let mut refused = None;
    for _ in 0..1000 {
        let answer = running
            .get(
                &format!("/{US}/v1/stream?authorization=Bearer+{token}"),
                None,
            )
            .await;
        if answer.status == StatusCode::UNAUTHORIZED {
            refused = Some(answer);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let refused = refused.expect("the token expires");
    assert!(refused.message().contains("expired"), "{}", refused.text);
    // A refreshed token works again.
    let fresh = token_of(&running.agent_token(KEY_S, "echo", "t-exp").await);
    assert_ne!(fresh, token);
    assert_eq!(
        running.open_stream(US, &fresh).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn shutdown_ends_open_streams_instead_of_hanging() {
    let running = start_stream_seed("").await;
    running.run_agent(KEY_S, "echo", "t-stop", "hi").await;
    let token = token_of(&running.agent_token(KEY_S, "echo", "t-stop").await);
    let mut first = running.stream(US, &token).await;
    let mut second = running.stream(US, &token).await;
    let Running {
        emulator,
        seed_dir: _seed_dir,
        ..
    } = running;
    tokio::time::timeout(GUARD, emulator.shutdown())
        .await
        .expect("graceful shutdown does not wait for open streams forever")
        .expect("clean shutdown");
    first.read_to_end().await;
    second.read_to_end().await;
}

#[tokio::test]
async fn stream_requests_are_logged_without_the_token() {
    let running = start_stream_seed("").await;
    running.run_agent(KEY_S, "echo", "t-log", "hi").await;
    let token = token_of(&running.agent_token(KEY_S, "echo", "t-log").await);
    let _sse = running.stream(US, &token).await;
    let log = running
        .get("/admin/requests?limit=5", Some(&running.admin()))
        .await;
    assert_eq!(log.status, StatusCode::OK);
    assert!(!log.text.contains(&token));
    let entry = &log.body["requests"][0];
    assert_eq!(entry["path"], format!("/{US}/v1/stream"));
    assert_eq!(entry["status"], 200);
    assert_eq!(entry["key_kind"], "api");
}

#[tokio::test]
async fn past_the_caps_the_oldest_streaming_token_is_forgotten() {
    let seed_dir = TempDir::new().expect("tempdir");
    let mut config = Config {
        seed_file: Some(write_seed(&seed_dir, STREAM_SEED)),
        ..Config::default()
    };
    config.quotas.max_streaming_tokens_per_task = 2;
    config.quotas.max_streaming_tokens_per_key = 3;
    let running = Running {
        emulator: start(config).await,
        http: reqwest::Client::new(),
        seed_dir,
    };
    for task in ["t-cap-1", "t-cap-2"] {
        running.run_agent(KEY_S, "echo", task, "hi").await;
    }
    let mut tokens = Vec::new();
    for task in ["t-cap-1", "t-cap-1", "t-cap-1", "t-cap-2", "t-cap-2"] {
        tokens.push(token_of(&running.agent_token(KEY_S, "echo", task).await));
    }
    // Task cap 2: the first of t-cap-1 went when the third came; key cap 3: the second
    // and third of t-cap-1 went as t-cap-2's two came.
    assert_eq!(
        running.open_stream(US, &tokens[0]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        running.open_stream(US, &tokens[1]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        running.open_stream(US, &tokens[2]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        running.open_stream(US, &tokens[3]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        running.open_stream(US, &tokens[4]).await.status(),
        StatusCode::OK
    );
}
