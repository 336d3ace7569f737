//! The SDK against the platform as it really answers (PROTOCOL A1's end, A14, A17, C): a
//! refused key is `Unauthorized` naming project and region (the live platform's 400), a
//! project in a fourth region end to end, `whoami`, and the rest of the trigger —
//! `params`, `external_id` (safe to retry), `version`, `regenerate`.
#![cfg(not(target_family = "wasm"))]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use relevance::{
    Client, EmbedKeyOptions, Error, ExternalIdBehaviour, Key, KeyScope, MessageContent, Region,
    Task,
};
use relevance_testkit::{settle, TestEmulator};

const API_KEY: &str = "sk-test-four-0001-444444444444444444";
const PROJECT: &str = "proj-4";

/// A project in region `1e3042` whose agent answers with the task's params.
const SEED: &str = r#"
[[projects]]
id = "proj-4"
region = "1e3042"
api_keys = ["sk-test-four-0001-444444444444444444"]

[[projects.agents]]
id = "greeter"
public = true
behavior = "script"
script = [{ reply = "hello {params.name}: {message}", delay_ms = 1 }]

[[projects.workforces]]
id = "desk"
agents = ["greeter"]
"#;

fn fourth() -> Region {
    Region::from_code("1e3042").expect("any 6-hex code is a region")
}

fn api_key() -> Key {
    Key::new(API_KEY, fourth(), PROJECT).unwrap()
}

fn client(base_url: &str) -> Client {
    Client::builder(api_key())
        .base_url(base_url)
        .build()
        .unwrap()
}

async fn texts(task: &Task) -> Vec<String> {
    task.messages()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|message| match message.content {
            MessageContent::User(user) => Some(user.text),
            MessageContent::Agent(agent) => Some(agent.text),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_refused_key_is_unauthorized_naming_project_and_region_whatever_the_status() {
    let t = TestEmulator::start_with(SEED).await;
    let cases = [
        // The live platform's unknown key: 400 `User key ...`.
        (
            Key::new("sk-nope", fourth(), PROJECT).unwrap(),
            "'proj-4'",
            "1e3042",
        ),
        // A real key sent to another region: 400 as well, saying where it lives.
        (
            Key::new(API_KEY, Region::EU, PROJECT).unwrap(),
            "'proj-4'",
            "EU (d7b62b)",
        ),
    ];
    for (key, project, region) in cases {
        let client = t.client(key);
        let error = client.agents().get("greeter").await.unwrap_err();
        let Error::Unauthorized {
            status, error_type, ..
        } = &error
        else {
            panic!("expected Unauthorized, got {error:?}");
        };
        assert_eq!(
            (*status, error_type.as_deref()),
            (400, Some("unset_error_type"))
        );
        let text = error.to_string();
        assert!(text.contains("User key not found"), "{text}");
        assert!(
            text.contains(&format!("project {project} in region {region}")),
            "{text}"
        );
        assert!(
            text.contains("check the key, the project id and the region"),
            "{text}"
        );
        assert!(
            !text.contains(API_KEY) && !text.contains("sk-nope"),
            "{text}"
        );
        assert_eq!(error.error_type(), Some("unset_error_type"));
        assert!(!error.is_retryable());
    }
}

#[tokio::test]
async fn a_fourth_region_works_end_to_end_and_its_embed_key_persists_and_restores() {
    let t = TestEmulator::start_with(SEED).await;
    let client = t.client(api_key());
    let agents = client.agents().list(Default::default()).await.unwrap();
    assert_eq!(agents.items.len(), 1);
    let options = EmbedKeyOptions::agent(fourth(), PROJECT, "greeter").base_url(t.base_url.clone());
    let key = Key::generate_embed_key(options).await.unwrap();
    let saved = key.to_json();
    assert!(saved.contains(r#""region":"1e3042""#), "{saved}");
    let restored = Key::from_json(&saved).unwrap();
    assert_eq!(restored.region(), fourth());
    assert!(matches!(restored.scope(), KeyScope::Agent(agent) if agent == "greeter"));
    let browser = t.client(restored);
    let mut task = browser
        .agents()
        .get("greeter")
        .await
        .unwrap()
        .send_message("hi")
        .await
        .unwrap();
    settle(&mut task).await;
    assert_eq!(texts(&task).await, ["hi", "hello : hi"]);
}

#[tokio::test]
async fn whoami_names_the_key_for_an_api_key_and_an_embed_key() {
    let t = TestEmulator::start_with(SEED).await;
    let api = t.client(api_key()).whoami().await.unwrap();
    assert!(api.key_id.starts_with("key_"), "{api:?}");
    assert!(api.permissions.projects.contains_key(PROJECT), "{api:?}");
    let options = EmbedKeyOptions::agent(fourth(), PROJECT, "greeter").base_url(t.base_url.clone());
    let embed_key = Key::generate_embed_key(options).await.unwrap();
    let embed = t.client(embed_key).whoami().await.unwrap();
    assert_ne!(embed.key_id, api.key_id);
    let item = &embed.permissions.projects[PROJECT].items["embed"];
    assert!(item.resources["agents"]["greeter"]);
    assert!(!format!("{embed:?}{api:?}").contains(API_KEY));
}

#[tokio::test]
async fn params_version_and_regenerate_go_through_the_message_builder_and_the_task() {
    let t = TestEmulator::start_with(SEED).await;
    let client = t.client(api_key());
    let agent = client.agents().get("greeter").await.unwrap();
    let mut task = agent
        .message("one")
        .param("name", "Ada")
        .version("draft")
        .send()
        .await
        .unwrap();
    settle(&mut task).await;
    assert_eq!(texts(&task).await, ["one", "hello Ada: one"]);
    let reply = task.messages().await.unwrap()[1].id.clone();
    agent.message("two").in_task(&task).send().await.unwrap();
    settle(&mut task).await;
    assert_eq!(
        texts(&task).await[3],
        "hello Ada: two",
        "params stay on the task"
    );
    task.regenerate(&reply).await.unwrap();
    settle(&mut task).await;
    let after = task.messages().await.unwrap();
    assert_eq!(texts(&task).await, ["one", "hello Ada: one"]);
    assert_ne!(after[1].id, reply, "the reply was written again");
    task.regenerate_first().await.unwrap();
    settle(&mut task).await;
    assert_eq!(texts(&task).await, ["one", "hello Ada: one"]);
    let error = task.regenerate(&after[0].id).await.unwrap_err();
    assert!(matches!(error, Error::BadRequest { .. }), "{error:?}");
}

#[tokio::test]
async fn an_external_id_joins_its_conversation_and_nothing_adds_no_message() {
    let t = TestEmulator::start_with(SEED).await;
    let client = t.client(api_key());
    let agent = client.agents().get("greeter").await.unwrap();
    let extend = ExternalIdBehaviour::ExtendConversation;
    let mut first = agent
        .message("one")
        .external_id("order-1", extend)
        .send()
        .await
        .unwrap();
    settle(&mut first).await;
    let mut second = agent
        .message("two")
        .external_id("order-1", extend)
        .send()
        .await
        .unwrap();
    assert_eq!(second.id, first.id);
    settle(&mut second).await;
    let nothing = ExternalIdBehaviour::Nothing;
    let third = agent
        .message("three")
        .external_id("order-1", nothing)
        .send()
        .await
        .unwrap();
    assert_eq!(third.id, first.id);
    assert_eq!(
        texts(&first).await,
        ["one", "hello : one", "two", "hello : two"]
    );

    // Agents only: a workforce message with trigger settings is refused before any request.
    let desk = client.workforces().get("desk").await.unwrap();
    let refused = desk
        .message("x")
        .external_id("order-1", extend)
        .send()
        .await;
    assert!(
        matches!(
            refused,
            Err(Error::AgentTaskOnly {
                operation: "external_id"
            })
        ),
        "{refused:?}"
    );
    let refused = desk.message("x").param("name", 1).send().await;
    assert!(
        matches!(
            refused,
            Err(Error::AgentTaskOnly {
                operation: "params"
            })
        ),
        "{refused:?}"
    );
}

/// A proxy that forwards everything to the emulator but answers the first `n` triggers
/// with 502 *after* forwarding them: the platform acted, the answer was lost.
struct LossyProxy {
    base_url: String,
    triggers: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct Lossy {
    target: String,
    lose: usize,
    /// Whether a lost trigger reached the platform first (else it never did).
    forwarded: bool,
    triggers: Arc<AtomicUsize>,
    bodies: Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
}

impl LossyProxy {
    async fn start(
        target: &str,
        lose: usize,
        forwarded: bool,
    ) -> (LossyProxy, Arc<std::sync::Mutex<Vec<serde_json::Value>>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let triggers = Arc::new(AtomicUsize::new(0));
        let bodies = Arc::new(std::sync::Mutex::new(Vec::new()));
        let state = Lossy {
            target: target.to_string(),
            lose,
            forwarded,
            triggers: Arc::clone(&triggers),
            bodies: Arc::clone(&bodies),
        };
        let app = axum::Router::new()
            .fallback(lossy_forward)
            .with_state(state);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (LossyProxy { base_url, triggers }, bodies)
    }
}

async fn lossy_forward(State(state): State<Lossy>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, 1 << 20).await.unwrap();
    let path = parts.uri.path_and_query().unwrap().as_str().to_string();
    let is_trigger = path.ends_with("/agents/trigger");
    let lost = is_trigger && state.triggers.load(Ordering::SeqCst) < state.lose;
    if lost && !state.forwarded {
        state
            .bodies
            .lock()
            .unwrap()
            .push(serde_json::from_slice(&body).unwrap());
        state.triggers.fetch_add(1, Ordering::SeqCst);
        return Response::builder()
            .status(StatusCode::BAD_GATEWAY)
            .body(Body::from("lost"))
            .unwrap();
    }
    let mut outgoing = reqwest::Client::new()
        .request(parts.method.clone(), format!("{}{path}", state.target))
        .body(body.to_vec());
    if let Some(value) = parts.headers.get("authorization") {
        outgoing = outgoing.header("authorization", value);
    }
    let answer = outgoing.send().await.unwrap();
    let status = answer.status();
    let text = answer.text().await.unwrap();
    if is_trigger {
        state
            .bodies
            .lock()
            .unwrap()
            .push(serde_json::from_slice(&body).unwrap());
        state.triggers.fetch_add(1, Ordering::SeqCst);
        if lost {
            return Response::builder()
                .status(StatusCode::BAD_GATEWAY)
                .body(Body::from("lost"))
                .unwrap();
        }
    }
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(text))
        .unwrap()
}

#[tokio::test]
async fn a_new_conversation_under_an_external_id_is_retried_without_a_second_message() {
    let t = TestEmulator::start_with(SEED).await;
    let (proxy, bodies) = LossyProxy::start(&t.base_url, 1, true).await;
    let agent = client(&proxy.base_url)
        .agents()
        .get("greeter")
        .await
        .unwrap();
    let mut task = agent
        .message("only once")
        .external_id("ticket-7", ExternalIdBehaviour::ExtendConversation)
        .send()
        .await
        .expect("the lost answer is recovered by the check");
    settle(&mut task).await;
    assert_eq!(texts(&task).await, ["only once", "hello : only once"]);
    assert_eq!(proxy.triggers.load(Ordering::SeqCst), 2);
    let sent = bodies.lock().unwrap().clone();
    assert_eq!(sent[0]["external_id_behaviour"], "extend-conversation");
    assert_eq!(
        sent[1]["external_id_behaviour"], "nothing",
        "the check writes nothing"
    );
}

#[tokio::test]
async fn a_lost_answer_continuing_an_external_conversation_writes_the_message_exactly_once() {
    let t = TestEmulator::start_with(SEED).await;
    let direct = t.client(api_key()).agents().get("greeter").await.unwrap();
    let extend = ExternalIdBehaviour::ExtendConversation;
    let mut task = direct
        .message("first")
        .external_id("ticket-8", extend)
        .send()
        .await
        .unwrap();
    settle(&mut task).await;
    // The send reaches the platform and its answer is lost; then one that never reaches it.
    // Either way the message is written exactly once: found by the check, or sent again.
    let expected = [("second", true, 2), ("third", false, 3)];
    for (text, forwarded, triggers) in expected {
        let (proxy, bodies) = LossyProxy::start(&t.base_url, 1, forwarded).await;
        let agent = client(&proxy.base_url)
            .agents()
            .get("greeter")
            .await
            .unwrap();
        let mut again = agent
            .message(text)
            .external_id("ticket-8", extend)
            .send()
            .await
            .unwrap();
        assert_eq!(again.id, task.id);
        settle(&mut again).await;
        assert_eq!(proxy.triggers.load(Ordering::SeqCst), triggers, "{text}");
        let behaviours: Vec<_> = bodies
            .lock()
            .unwrap()
            .iter()
            .map(|b| b["external_id_behaviour"].clone())
            .collect();
        assert_eq!(behaviours[1], "nothing", "{text}: the check comes first");
    }
    assert_eq!(
        texts(&task).await,
        [
            "first",
            "hello : first",
            "second",
            "hello : second",
            "third",
            "hello : third"
        ]
    );
}
