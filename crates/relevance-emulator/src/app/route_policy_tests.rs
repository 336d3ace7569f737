//! The route × principal test, generated from [`super::route_table`]: every route of the
//! table, with every kind of caller, gets the answer its [`Policy`] promises. A route
//! added to the table is walked here without anyone writing a case for it.

use reqwest::StatusCode;
use serde_json::Value;

use super::route_table;
use crate::auth::Policy;
use crate::{Config, Emulator};

const SEED: &str = r#"
[[projects]]
id = "proj-a"
region = "us"
api_keys = ["sk-policy-a-0001"]

[[projects.agents]]
id = "agent-public"
public = true

[[projects.workforces]]
id = "wf-1"
agents = ["agent-public"]
"#;

/// The kinds of caller every route is tried with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Nobody,
    BadKey,
    ApiKey,
    AgentEmbedKey,
    WorkforceEmbedKey,
    AdminToken,
}

const CALLERS: [Caller; 6] = [
    Caller::Nobody,
    Caller::BadKey,
    Caller::ApiKey,
    Caller::AgentEmbedKey,
    Caller::WorkforceEmbedKey,
    Caller::AdminToken,
];

/// What a policy promises a caller: this status exactly, or "let in" (neither 401 nor 403).
fn promised(policy: Policy, caller: Caller) -> Option<u16> {
    use Caller::*;
    match (policy, caller) {
        (Policy::Public, _) => None,
        (Policy::AnyKey, ApiKey | AgentEmbedKey | WorkforceEmbedKey) => None,
        // The live platform's answers (PROTOCOL C): no header 401, a header that names no
        // live key of the project 400 `User key ...` (the admin token is no project key).
        (Policy::AnyKey | Policy::ProjectKey, Nobody) => Some(401),
        (Policy::AnyKey | Policy::ProjectKey, BadKey | AdminToken) => Some(400),
        (Policy::ProjectKey | Policy::ProjectKeyIfSent, ApiKey) => None,
        (Policy::ProjectKey | Policy::ProjectKeyIfSent, AgentEmbedKey | WorkforceEmbedKey) => {
            Some(403)
        }
        (Policy::ProjectKeyIfSent, Nobody) => None,
        (Policy::ProjectKeyIfSent, BadKey | AdminToken) => Some(400),
        (Policy::Admin, AdminToken) => None,
        (Policy::Admin, _) => Some(401),
        // No header opens these: their credential rides in the URL.
        (Policy::StreamToken, _) => Some(401),
        (Policy::UploadSignature, _) => Some(403),
    }
}

/// A concrete path for a route pattern: the US region, and a placeholder for every other
/// parameter (the answer may well be 404 or 400 — only 401/403 are the policy's).
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment {
            "{region}" => "bcbe5a",
            // The file route answers 405 to any name but `upload` for a PUT.
            "{name}" => "upload",
            s if s.starts_with("{") => "x",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn embed_key(http: &reqwest::Client, base: &str, kind: &str, id: &str) -> String {
    let answer: Value = http
        .post(format!("{base}/bcbe5a/latest/{kind}/get_embed_key"))
        .body(format!(
            r#"{{"{}_id":"{id}","project":"proj-a"}}"#,
            if kind == "agents" {
                "agent"
            } else {
                "workforce"
            }
        ))
        .send()
        .await
        .expect("embed key request")
        .json()
        .await
        .expect("embed key answer");
    let key = answer["embed_key"].as_str().expect("embed_key");
    format!("proj-a:{key}")
}

#[tokio::test]
async fn every_route_of_the_table_answers_each_caller_as_its_policy_says() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let emulator = Emulator::start(
        Config {
            seed: Some(crate::SeedSource::Text(SEED.to_string())),
            ..Config::default()
        },
        listener,
    )
    .await
    .expect("emulator starts");
    let base = emulator.base_url().to_string();
    let http = reqwest::Client::new();
    let agent_key = embed_key(&http, &base, "agents", "agent-public").await;
    let workforce_key = embed_key(&http, &base, "workforce", "wf-1").await;
    let admin = format!("Bearer {}", emulator.admin_token());
    let header = |caller: Caller| -> Option<String> {
        match caller {
            Caller::Nobody => None,
            Caller::BadKey => Some("proj-a:sk-policy-a-9999".to_string()),
            Caller::ApiKey => Some("proj-a:sk-policy-a-0001".to_string()),
            Caller::AgentEmbedKey => Some(agent_key.clone()),
            Caller::WorkforceEmbedKey => Some(workforce_key.clone()),
            Caller::AdminToken => Some(admin.clone()),
        }
    };

    let table = route_table();
    assert!(table.len() >= 20, "the table holds every route");
    let mut cases = 0;
    for route in &table {
        for caller in CALLERS {
            let url = format!("{base}{}", concrete(route.path));
            let mut request = http.request(route.method.clone(), &url).body("{}");
            if let Some(value) = header(caller) {
                request = request.header("Authorization", value);
            }
            let response = request.send().await.expect("request sent");
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            let refused_key = body.contains("\"User key");
            match promised(route.policy, caller) {
                Some(400) => assert!(
                    status == StatusCode::BAD_REQUEST && refused_key,
                    "{} {} ({:?}) × {caller:?}: {status} {body}",
                    route.method,
                    route.path,
                    route.policy
                ),
                Some(expected) => assert_eq!(
                    status.as_u16(),
                    expected,
                    "{} {} ({:?}) × {caller:?}",
                    route.method,
                    route.path,
                    route.policy
                ),
                None => assert!(
                    status != StatusCode::UNAUTHORIZED
                        && status != StatusCode::FORBIDDEN
                        && !refused_key,
                    "{} {} ({:?}) × {caller:?}: {status}",
                    route.method,
                    route.path,
                    route.policy
                ),
            }
            cases += 1;
        }
    }
    assert_eq!(cases, table.len() * CALLERS.len());
    emulator.shutdown().await.expect("clean shutdown");
}

/// Every path is in the table once per method: a copy would be a second, unguarded route.
#[test]
fn the_table_has_no_duplicate_routes() {
    let mut seen = std::collections::BTreeSet::new();
    for route in route_table() {
        assert!(
            seen.insert((route.method.to_string(), route.path)),
            "{} {} twice",
            route.method,
            route.path
        );
    }
}
