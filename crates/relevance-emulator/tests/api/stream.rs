//! Streaming tokens and the live stream (`/{region}/v1/stream`), over real HTTP:
//! who gets a token, what it opens, exact SSE framing, expiry, revocation, shutdown.

use std::time::Duration;

use relevance_emulator::{Config, SeedSource};
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
use_streaming = true
public = true
chunk_delay_ms = 1

[[projects.agents]]
id = "thinker"
use_streaming = true
public = true
behavior = "script"
chunk_delay_ms = 1
script = [
  { think = "pondering {message}", delay_ms = 1 },
  { type = "A typed answer about {message}, long enough for several chunks", delay_ms = 1 },
]

[[projects.agents]]
id = "long"
use_streaming = true
public = true
behavior = "script"
chunk_delay_ms = 1
script = [
  { think = "First I weigh {message} from every side, slowly and with care.", delay_ms = 1 },
  { think = " Then I write it all down.", delay_ms = 1 },
  { type = "LONG_REPLY", delay_ms = 1 },
]

[[projects.agents]]
id = "paced"
use_streaming = true
public = true
behavior = "script"
chunk_delay_ms = 10
script = [
  { type = "PACED_REPLY", delay_ms = 1 },
]

[[projects.agents]]
id = "quiet"
public = true
chunk_delay_ms = 1

[[projects.workforces]]
id = "desk"
agents = ["echo"]

[[projects.workforces]]
id = "quiet-desk"
agents = ["quiet"]

[[projects]]
id = "proj-s-eu"
region = "eu"
api_keys = ["sk-test-s-eu-0001"]
"#;

const KEY_S: &str = "proj-s:sk-test-s-0001";
/// Hang guard only: every wait below ends on an event long before this.
const GUARD: Duration = Duration::from_secs(30);

/// A reply of several hundred characters whose every word is different, so a fragment
/// can be found at exactly one place of it.
fn numbered_words(prefix: &str, count: usize) -> String {
    (1..=count)
        .map(|n| format!("{prefix}{n:04}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn long_reply() -> String {
    numbered_words("word", 60)
}

/// About 1,500 characters typed 8 at a time every 10 ms: the run outlives many 200 ms tokens.
fn paced_reply() -> String {
    numbered_words("paced", 150)
}

async fn start_stream_seed(settings: &str) -> Running {
    let seed_dir = TempDir::new().expect("tempdir");
    let seed = STREAM_SEED
        .replace("LONG_REPLY", &long_reply())
        .replace("PACED_REPLY", &paced_reply());
    let config = Config {
        seed: Some(SeedSource::Text(format!("{settings}\n{seed}"))),
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

/// The fragments of `kind` (`text` or `thinking`) for `document`, joined in order.
fn joined(events: &[Value], kind: &str, document: &Value) -> String {
    events
        .iter()
        .filter(|event| event["type"] == kind && event["documentId"] == *document)
        .map(|event| event["content"].as_str().expect("content is a string"))
        .collect()
}

/// Whether the `text` fragments of some document add up to `text`.
fn text_is(text: &str) -> impl Fn(&[Value]) -> bool + '_ {
    move |events: &[Value]| {
        events.iter().any(|event| {
            event["type"] == "text" && joined(events, "text", &event["documentId"]) == text
        })
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
    let reply_id = &reply["item_id"];
    // "pondering rust" is 14 characters: two fragments, then the typed text.
    assert_eq!(events[0]["type"], "thinking", "{events:?}");
    assert_eq!(events[0]["content"], "ponderin");
    assert_eq!(events[1]["content"], "g rust");
    assert_eq!(joined(&events, "thinking", reply_id), "pondering rust");
    let texts: Vec<&Value> = events[2..].iter().collect();
    assert!(texts.len() >= 3, "typed in several chunks: {texts:?}");
    for event in &texts {
        assert_eq!(
            event.as_object().map(|fields| fields.len()),
            Some(3),
            "{event}"
        );
        assert_eq!(event["type"], "text");
        assert_eq!(event["documentId"], *reply_id);
        let content = event["content"].as_str().expect("content");
        assert!(
            !content.is_empty() && content.chars().count() <= 8,
            "each text event is a fragment of at most 8 characters: {content:?}"
        );
    }
    assert_eq!(joined(&events, "text", reply_id), final_text);
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
async fn fragments_read_on_one_connection_add_up_to_the_final_text_and_thinking() {
    let running = start_stream_seed("").await;
    let task = "t-long";
    running.run_agent(KEY_S, "long", task, "first").await;
    let token = token_of(&running.agent_token(KEY_S, "long", task).await);
    let mut sse = running.stream(US, &token).await;

    let messages = running.run_agent(KEY_S, "long", task, "streams").await;
    let reply = messages.last().expect("the typed reply").clone();
    let final_text = reply["content"]["text"].as_str().expect("text").to_string();
    assert_eq!(final_text, long_reply());
    assert!(final_text.len() > 500, "hundreds of characters");
    let events = sse.read_until(text_is(&final_text)).await;

    let document = &reply["item_id"];
    assert_eq!(joined(&events, "text", document), final_text);
    let thinking: String = reply["content"]["thinking"]
        .as_array()
        .expect("thinking")
        .iter()
        .map(|thought| thought.as_str().expect("a thought is a string"))
        .collect();
    assert_eq!(
        thinking,
        "First I weigh streams from every side, slowly and with care. Then I write it all down."
    );
    assert_eq!(joined(&events, "thinking", document), thinking);
    // Every event of this run belongs to the one message.
    for event in &events {
        assert_eq!(event["documentId"], *document, "{event}");
    }
}

#[tokio::test]
async fn reconnecting_with_fresh_tokens_never_repeats_or_reorders_a_fragment() {
    let running = start_stream_seed("[emulator]\nstreaming_token_ttl_ms = 200\n").await;
    let task = "t-paced";
    let answer = running
        .trigger(
            KEY_S,
            json!({"agent_id": "paced", "conversation_id": task,
                   "message": {"role": "user", "content": "go"}}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let meta_path =
        format!("/{US}/latest/agents/paced/tasks/{task}/metadata?include_streaming_token=true");
    let mut received = Vec::new();
    let mut connections = 0;
    // Each connection lasts at most one token lifetime; typing takes at least 1.9 s of
    // scheduled pauses, so the run outlives several tokens.
    for _ in 0..1000 {
        let meta = running.get(&meta_path, Some(KEY_S)).await;
        assert_eq!(meta.status, StatusCode::OK, "{}", meta.text);
        let state = meta.body["metadata"]["conversation"]["state"]
            .as_str()
            .expect("state");
        if !is_running(state) {
            break;
        }
        let mut sse = running
            .stream(US, &token_of(&meta.body["streaming_token"]))
            .await;
        sse.read_to_end().await;
        connections += 1;
        received.extend(sse.events());
    }
    let (_, messages) = running.settle(KEY_S, "paced", task).await;
    let reply = messages.last().expect("the typed reply");
    let final_text = reply["content"]["text"].as_str().expect("text");
    assert_eq!(final_text, paced_reply());
    assert!(
        connections >= 4,
        "read across at least three refreshes: {connections} connections"
    );
    let mut position = 0;
    let mut covered = 0;
    for event in &received {
        assert_eq!(event["type"], "text", "{event}");
        assert_eq!(event["documentId"], reply["item_id"], "{event}");
        let fragment = event["content"].as_str().expect("content");
        let found = final_text[position..].find(fragment).unwrap_or_else(|| {
            panic!(
                "fragment {fragment:?} is not after position {position}: repeated or out of order"
            )
        });
        position += found + fragment.len();
        covered += fragment.len();
    }
    assert!(covered > 0, "some of the text was streamed");
    assert!(covered <= final_text.len());
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
            r#"{"workforce_id":"desk","workforce_task_id":"wt-1","trigger":{"use_streaming":true,"message":{"role":"user","content":"one"}}}"#,
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
            r#"{"workforce_id":"desk","workforce_task_id":"wt-1","trigger":{"use_streaming":true,"message":{"role":"user","content":"second message"}}}"#,
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

/// Who triggers the run under test.
#[derive(Debug, Clone, Copy)]
enum Caller {
    ApiKey,
    EmbedKey,
}

/// What an `agent_override` carries, if the trigger sends one.
#[derive(Debug, Clone, Copy)]
enum Override {
    None,
    /// The AgentConfig read from `agents/{id}/get`, with `use_streaming` set, as the official
    /// client sends it.
    Config {
        use_streaming: bool,
    },
}

impl Running {
    async fn agent_config(&self, agent: &str) -> Value {
        let answer = self
            .get(&format!("/{US}/latest/agents/{agent}/get"), Some(KEY_S))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        answer.body["agent"].clone()
    }

    /// The fragments a stream opened on `task` got for what happened before the marker: a
    /// streaming run triggered (with an API key) once the run under test has ended, whose
    /// own fragments close the read. Frames keep their order on one connection, so
    /// everything the earlier run sent is in by then.
    async fn frames_before_marker(&self, sse: &mut Sse, agent: &str, task: &str) -> Vec<Value> {
        let mut config = self.agent_config(agent).await;
        config["use_streaming"] = json!(true);
        let marker = self
            .trigger(
                KEY_S,
                json!({"agent_id": agent, "conversation_id": task, "agent_override": config,
                       "message": {"role": "user", "content": "marker"}}),
            )
            .await;
        assert_eq!(marker.status, StatusCode::OK, "{}", marker.text);
        let events = sse.read_until(text_is("You said: marker")).await;
        let marker_document = events.last().expect("the marker's fragments")["documentId"].clone();
        events
            .into_iter()
            .filter(|event| event["documentId"] != marker_document)
            .collect()
    }
}

#[tokio::test]
async fn a_run_streams_only_when_its_override_or_the_agents_own_setting_says_so() {
    let running = start_stream_seed("").await;
    // (caller, agent, override, whether the run streams)
    let cases = [
        (Caller::ApiKey, "quiet", Override::None, false),
        (Caller::ApiKey, "echo", Override::None, true),
        (
            Caller::ApiKey,
            "quiet",
            Override::Config {
                use_streaming: true,
            },
            true,
        ),
        (
            Caller::ApiKey,
            "echo",
            Override::Config {
                use_streaming: false,
            },
            false,
        ),
        (Caller::EmbedKey, "echo", Override::None, true),
        (Caller::EmbedKey, "quiet", Override::None, false),
    ];
    for (index, (caller, agent, agent_override, streams)) in cases.into_iter().enumerate() {
        let label = format!("{caller:?} {agent} {agent_override:?}");
        let (auth, task) = match caller {
            Caller::ApiKey => (KEY_S.to_string(), format!("t-choice-{index}")),
            Caller::EmbedKey => {
                let answer = running
                    .post(
                        &format!("/{US}/latest/agents/get_embed_key"),
                        None,
                        &format!(r#"{{"agent_id":"{agent}","project":"proj-s"}}"#),
                    )
                    .await;
                assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
                let key = answer.body["embed_key"].as_str().expect("key");
                let prefix = answer.body["conversation_prefix"].as_str().expect("prefix");
                (
                    format!("proj-s:{key}"),
                    format!("{prefix}_-_2f1c5a44-7a3b-4d7e-9a35-0c6f1b2d3e{index:02}"),
                )
            }
        };
        running.run_agent(&auth, agent, &task, "first").await;
        let token = token_of(&running.agent_token(&auth, agent, &task).await);
        let mut sse = running.stream(US, &token).await;

        let mut body = json!({"agent_id": agent, "conversation_id": task,
                              "message": {"role": "user", "content": "the run under test"}});
        if let Override::Config { use_streaming } = agent_override {
            let mut config = running.agent_config(agent).await;
            config["use_streaming"] = json!(use_streaming);
            body["agent_override"] = config;
        }
        let answer = running.trigger(&auth, body).await;
        assert_eq!(answer.status, StatusCode::OK, "{label}: {}", answer.text);
        let (_, messages) = running.settle(&auth, agent, &task).await;
        let reply = messages.last().expect("the reply");
        assert_eq!(reply["content"]["text"], "You said: the run under test");

        let frames = running.frames_before_marker(&mut sse, agent, &task).await;
        if streams {
            assert_eq!(
                joined(&frames, "text", &reply["item_id"]),
                "You said: the run under test",
                "{label}: {frames:?}"
            );
            assert!(frames.iter().all(|f| f["documentId"] == reply["item_id"]));
        } else {
            assert!(frames.is_empty(), "{label}: no frames at all: {frames:?}");
        }
    }
}

#[tokio::test]
async fn a_workforce_triggers_use_streaming_decides_for_its_members_runs() {
    let running = start_stream_seed("").await;
    let trigger_path = format!("/{US}/latest/workforce/trigger");
    // (workforce, its member's own setting, trigger.use_streaming): the trigger decides.
    let cases = [
        ("quiet-desk", "quiet", Some(true), true),
        ("desk", "echo", Some(false), false),
        ("desk", "echo", None, false),
    ];
    for (index, (workforce, member, use_streaming, streams)) in cases.into_iter().enumerate() {
        let label = format!("{workforce} use_streaming={use_streaming:?}");
        let task = format!("wt-choice-{index}");
        let send = |text: &str, use_streaming: Option<bool>| {
            let mut trigger = json!({"message": {"role": "user", "content": text}});
            if let Some(flag) = use_streaming {
                trigger["use_streaming"] = json!(flag);
            }
            json!({"workforce_id": workforce, "workforce_task_id": task, "trigger": trigger})
                .to_string()
        };
        let meta_path =
            format!("/{US}/latest/workforce/tasks/{task}/metadata?include_streaming_token=true");
        let wait_until_done = || async {
            for _ in 0..1000 {
                let meta = running.get(&meta_path, Some(KEY_S)).await;
                assert_eq!(meta.status, StatusCode::OK, "{}", meta.text);
                if meta.body["metadata"]["state"] != "running" {
                    return token_of(&meta.body["streaming_token"]);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            panic!("workforce task {task} never ended");
        };
        let first = running
            .post(&trigger_path, Some(KEY_S), &send("first", None))
            .await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.text);
        let token = wait_until_done().await;
        let mut sse = running.stream(US, &token).await;

        let tested = running
            .post(&trigger_path, Some(KEY_S), &send("tested", use_streaming))
            .await;
        assert_eq!(tested.status, StatusCode::OK, "{label}: {}", tested.text);
        wait_until_done().await;
        let marker = running
            .post(&trigger_path, Some(KEY_S), &send("marker", Some(true)))
            .await;
        assert_eq!(marker.status, StatusCode::OK, "{}", marker.text);
        let events = sse.read_until(text_is("You said: marker")).await;
        let marker_document = events.last().expect("marker")["documentId"].clone();
        let frames: Vec<Value> = events
            .into_iter()
            .filter(|event| event["documentId"] != marker_document)
            .collect();
        if streams {
            assert!(
                text_is("You said: tested")(&frames),
                "{label} ({member}): {frames:?}"
            );
        } else {
            assert!(frames.is_empty(), "{label} ({member}): {frames:?}");
        }
    }
}

#[tokio::test]
async fn agent_config_shows_use_streaming_and_a_bad_override_is_400() {
    let running = start_stream_seed("").await;
    assert_eq!(running.agent_config("echo").await["use_streaming"], true);
    assert_eq!(running.agent_config("quiet").await["use_streaming"], false);
    for (agent_override, needle) in [
        (json!("on"), "must be an object"),
        (json!({"use_streaming": "yes"}), "must be true or false"),
    ] {
        let answer = running
            .trigger(
                KEY_S,
                json!({"agent_id": "echo", "agent_override": agent_override,
                       "message": {"role": "user", "content": "x"}}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
        assert!(answer.message().contains(needle), "{}", answer.text);
    }
    let bad_workforce = running
        .post(
            &format!("/{US}/latest/workforce/trigger"),
            Some(KEY_S),
            r#"{"workforce_id":"desk","trigger":{"use_streaming":1,"message":{"role":"user","content":"x"}}}"#,
        )
        .await;
    assert_eq!(bad_workforce.status, StatusCode::BAD_REQUEST);
    assert!(bad_workforce.message().contains("use_streaming"));
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
    // Contents are fragments (PROTOCOL A8): the reply shows once they are added up.
    let typed = |events: &[serde_json::Value]| {
        events
            .iter()
            .filter_map(|event| event["content"].as_str())
            .collect::<String>()
    };
    let events = other_stream
        .read_until(|events| typed(events).contains("still here"))
        .await;
    assert!(typed(&events).contains("still here"));
}

#[tokio::test]
async fn past_the_caps_the_oldest_streaming_token_is_forgotten() {
    let seed_dir = TempDir::new().expect("tempdir");
    let mut config = Config {
        seed: Some(SeedSource::Text(STREAM_SEED.to_string())),
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
