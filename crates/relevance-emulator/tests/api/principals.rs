//! One authorisation matrix for both task owners: every kind of principal × owner (an
//! agent, a workforce) × operation → the status it must get, and what a refused write must
//! not leave behind (PROTOCOL A2, A5, A6).
//!
//! The route × principal *policy* test is generated from the route table in
//! `src/app/route_policy_tests.rs`; this one goes further down: scopes, prefixes and
//! ownership of real tasks.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

/// Who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Principal {
    NoHeader,
    MalformedHeader,
    RevokedApiKey,
    ApiKey,
    /// proj-b's API key, as proj-b.
    OtherProjectApiKey,
    /// proj-b's API key, claiming proj-a.
    OtherProjectKeyClaimingThisProject,
    /// K1: an embed key of agent-public; T1 of the agent is K1's.
    AgentKeyOwnPrefix,
    /// K2: another embed key of agent-public, using K1's prefix for a new task.
    AgentKeyOtherKeysPrefix,
    /// K3: an embed key of agent-other.
    AgentKeyOfAnotherAgent,
    /// K1, sent with project proj-b.
    AgentKeyClaimingAnotherProject,
    /// W1: an embed key of wf-1; T1 of the workforce is W1's.
    WorkforceKeyOwnPrefix,
    /// W2: another embed key of wf-1, using W1's prefix for a new task.
    WorkforceKeyOtherKeysPrefix,
    /// W3: an embed key of wf-2.
    WorkforceKeyOfAnotherWorkforce,
}

/// Whose task (and whose read) the operation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// agent-public of proj-a.
    Agent,
    /// wf-1 of proj-a.
    Workforce,
}

/// What is done, in this order, for each row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    /// `agents/{id}/get` or `workforce/items/{id}`.
    GetOwner,
    /// A trigger that starts a task (with an id of the principal's prefix for embed keys).
    TriggerNew,
    /// A trigger continuing the owner's T1.
    TriggerContinue,
    /// T1's metadata.
    Metadata,
    /// T1's messages (`view` / `messages`).
    Messages,
    /// The owner's task list.
    List,
    /// `services/get_temporary_file_upload_url` (project level; asked under the agent rows).
    UploadUrl,
    /// `agents/list` (project level; asked under the agent rows).
    ListAgents,
}

const OPERATIONS: [Operation; 8] = [
    Operation::GetOwner,
    Operation::TriggerNew,
    Operation::TriggerContinue,
    Operation::Metadata,
    Operation::Messages,
    Operation::List,
    Operation::UploadUrl,
    Operation::ListAgents,
];

/// Not asked: project-level operations are asked once, under the agent rows.
const NA: u16 = 0;

use Operation as O;
use Owner::{Agent, Workforce};
use Principal as P;

/// Principal × owner → the status of each operation, in [`OPERATIONS`] order.
#[rustfmt::skip]
const MATRIX: &[(Principal, Owner, [u16; 8])] = &[
    //                                                 get  new  cont meta msgs list upld agents
    (P::NoHeader,                           Agent,     [401, 401, 401, 401, 401, 401, 401, 401]),
    (P::NoHeader,                           Workforce, [401, 401, 401, 401, 401, 401, NA,  NA ]),
    (P::MalformedHeader,                    Agent,     [400, 400, 400, 400, 400, 400, 400, 400]),
    (P::MalformedHeader,                    Workforce, [400, 400, 400, 400, 400, 400, NA,  NA ]),
    (P::RevokedApiKey,                      Agent,     [400, 400, 400, 400, 400, 400, 400, 400]),
    (P::RevokedApiKey,                      Workforce, [400, 400, 400, 400, 400, 400, NA,  NA ]),
    (P::ApiKey,                             Agent,     [200, 200, 200, 200, 200, 200, 200, 200]),
    (P::ApiKey,                             Workforce, [200, 200, 200, 200, 200, 200, NA,  NA ]),
    (P::OtherProjectApiKey,                 Agent,     [404, 404, 404, 404, 404, 200, 200, 200]),
    (P::OtherProjectApiKey,                 Workforce, [404, 404, 404, 404, 404, 404, NA,  NA ]),
    (P::OtherProjectKeyClaimingThisProject, Agent,     [400, 400, 400, 400, 400, 400, 400, 400]),
    (P::OtherProjectKeyClaimingThisProject, Workforce, [400, 400, 400, 400, 400, 400, NA,  NA ]),
    (P::AgentKeyOwnPrefix,                  Agent,     [200, 200, 200, 200, 200, 200, 200, 403]),
    (P::AgentKeyOwnPrefix,                  Workforce, [404, 404, 404, 404, 404, 404, NA,  NA ]),
    // Triggering another prefix's task answers as for an absent id: 400, no oracle.
    (P::AgentKeyOtherKeysPrefix,            Agent,     [200, 400, 400, 404, 404, 200, 200, 403]),
    (P::AgentKeyOtherKeysPrefix,            Workforce, [404, 404, 404, 404, 404, 404, NA,  NA ]),
    (P::AgentKeyOfAnotherAgent,             Agent,     [404, 404, 404, 404, 404, 200, 200, 403]),
    (P::AgentKeyOfAnotherAgent,             Workforce, [404, 404, 404, 404, 404, 404, NA,  NA ]),
    (P::AgentKeyClaimingAnotherProject,     Agent,     [400, 400, 400, 400, 400, 400, 400, 400]),
    (P::AgentKeyClaimingAnotherProject,     Workforce, [400, 400, 400, 400, 400, 400, NA,  NA ]),
    (P::WorkforceKeyOwnPrefix,              Agent,     [404, 404, 404, 404, 404, 200, 200, 403]),
    (P::WorkforceKeyOwnPrefix,              Workforce, [200, 200, 200, 200, 200, 200, NA,  NA ]),
    (P::WorkforceKeyOtherKeysPrefix,        Agent,     [404, 404, 404, 404, 404, 200, 200, 403]),
    (P::WorkforceKeyOtherKeysPrefix,        Workforce, [200, 400, 400, 404, 404, 200, NA,  NA ]),
    (P::WorkforceKeyOfAnotherWorkforce,     Agent,     [404, 404, 404, 404, 404, 200, 200, 403]),
    (P::WorkforceKeyOfAnotherWorkforce,     Workforce, [404, 404, 404, 404, 404, 404, NA,  NA ]),
];

/// The keys of the setup, and each owner's T1.
struct World {
    api: String,
    revoked: String,
    /// (key, prefix) of K1, K2, K3, W1, W2, W3.
    k1: (String, String),
    k2: (String, String),
    k3: (String, String),
    w1: (String, String),
    w2: (String, String),
    w3: (String, String),
    agent_t1: String,
    workforce_t1: String,
}

/// What a principal sends: its `Authorization` value, the prefix of the id it gives a new
/// task (embed keys), and its own prefix (what its task list is limited to).
struct Credentials {
    auth: Option<String>,
    new_task_prefix: Option<String>,
    own_prefix: Option<String>,
}

impl World {
    async fn new(running: &Running) -> World {
        let api = format!("proj-a:{KEY_A}");
        let k1 = running.agent_embed_key("agent-public").await;
        let k2 = running.agent_embed_key("agent-public").await;
        let k3 = running.agent_embed_key("agent-other").await;
        let w1 = running.workforce_embed_key("wf-1").await;
        let w2 = running.workforce_embed_key("wf-1").await;
        let w3 = running.workforce_embed_key("wf-2").await;
        let revoked = revoked_api_key(running).await;
        let agent_t1 = format!("{}_-_00000000-0000-4000-8000-000000000001", k1.1);
        let created = running
            .trigger(
                &format!("proj-a:{}", k1.0),
                json!({"agent_id": "agent-public", "conversation_id": agent_t1,
                       "message": {"role": "user", "content": "first"}}),
            )
            .await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.text);
        let workforce_t1 = format!("{}_-_00000000-0000-4000-8000-000000000001", w1.1);
        let created = running
            .post(
                &format!("/{US}/latest/workforce/trigger"),
                Some(&format!("proj-a:{}", w1.0)),
                &workforce_trigger(Some(&workforce_t1), "first").to_string(),
            )
            .await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.text);
        assert_eq!(created.body, json!({"workforce_task_id": workforce_t1}));
        // Its member's run writes an agent task of agent-public: let it finish before the
        // agent rows compare task lists.
        settle_workforce_task(running, &api, &workforce_t1).await;
        World {
            api,
            revoked,
            k1,
            k2,
            k3,
            w1,
            w2,
            w3,
            agent_t1,
            workforce_t1,
        }
    }

    fn credentials(&self, principal: Principal) -> Credentials {
        let embed = |key: &(String, String), project: &str, new: &(String, String)| Credentials {
            auth: Some(format!("{project}:{}", key.0)),
            new_task_prefix: Some(new.1.clone()),
            own_prefix: Some(key.1.clone()),
        };
        let plain = |auth: Option<String>| Credentials {
            auth,
            new_task_prefix: None,
            own_prefix: None,
        };
        match principal {
            P::NoHeader => plain(None),
            P::MalformedHeader => plain(Some("nocolon".into())),
            P::RevokedApiKey => plain(Some(format!("proj-a:{}", self.revoked))),
            P::ApiKey => plain(Some(self.api.clone())),
            P::OtherProjectApiKey => plain(Some(format!("proj-b:{KEY_B}"))),
            P::OtherProjectKeyClaimingThisProject => plain(Some(format!("proj-a:{KEY_B}"))),
            P::AgentKeyOwnPrefix => embed(&self.k1, "proj-a", &self.k1),
            P::AgentKeyOtherKeysPrefix => embed(&self.k2, "proj-a", &self.k1),
            P::AgentKeyOfAnotherAgent => embed(&self.k3, "proj-a", &self.k3),
            P::AgentKeyClaimingAnotherProject => embed(&self.k1, "proj-b", &self.k1),
            P::WorkforceKeyOwnPrefix => embed(&self.w1, "proj-a", &self.w1),
            P::WorkforceKeyOtherKeysPrefix => embed(&self.w2, "proj-a", &self.w1),
            P::WorkforceKeyOfAnotherWorkforce => embed(&self.w3, "proj-a", &self.w3),
        }
    }

    fn t1(&self, owner: Owner) -> &str {
        match owner {
            Agent => &self.agent_t1,
            Workforce => &self.workforce_t1,
        }
    }

    fn secrets(&self) -> [&str; 7] {
        [
            &self.k1.0,
            &self.k2.0,
            &self.k3.0,
            &self.w1.0,
            &self.w2.0,
            &self.w3.0,
            &self.revoked,
        ]
    }
}

/// Polls (a bounded number of times) until the workforce task has stopped running.
async fn settle_workforce_task(running: &Running, api: &str, task: &str) {
    for _ in 0..1000 {
        let meta = running
            .get(
                &format!("/{US}/latest/workforce/tasks/{task}/metadata"),
                Some(api),
            )
            .await;
        assert_eq!(meta.status, StatusCode::OK, "{}", meta.text);
        if meta.body["metadata"]["state"] != "running" {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("workforce task {task} never left `running`");
}

/// A new API key of proj-a, revoked at once.
async fn revoked_api_key(running: &Running) -> String {
    let admin = running.admin();
    let made = running
        .post("/admin/projects/proj-a/api_keys", Some(&admin), "{}")
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let id = made.body["id"].as_str().expect("id");
    let revoke = running
        .post(&format!("/admin/keys/{id}/revoke"), Some(&admin), "")
        .await;
    assert_eq!(revoke.status, StatusCode::OK);
    made.body["key"].as_str().expect("key").to_string()
}

fn workforce_trigger(task: Option<&str>, text: &str) -> Value {
    let mut body = json!({
        "workforce_id": "wf-1",
        "trigger": {"use_streaming": true,
                    "message": {"role": "user", "content": text, "attachments": []}},
    });
    if let Some(task) = task {
        body["workforce_task_id"] = json!(task);
    }
    body
}

/// One operation as sent: method is POST when there is a body.
fn request(
    owner: Owner,
    operation: Operation,
    t1: &str,
    new_id: Option<&str>,
    text: &str,
) -> (String, Option<String>) {
    let agent_trigger = |id: Option<&str>| {
        let mut body =
            json!({"agent_id": "agent-public", "message": {"role": "user", "content": text}});
        if let Some(id) = id {
            body["conversation_id"] = json!(id);
        }
        Some(body.to_string())
    };
    let (path, body) = match (owner, operation) {
        (Agent, O::GetOwner) => ("agents/agent-public/get".to_string(), None),
        (Agent, O::TriggerNew) => ("agents/trigger".to_string(), agent_trigger(new_id)),
        (Agent, O::TriggerContinue) => ("agents/trigger".to_string(), agent_trigger(Some(t1))),
        (Agent, O::Metadata) => (format!("agents/agent-public/tasks/{t1}/metadata"), None),
        (Agent, O::Messages) => (
            format!("agents/agent-public/tasks/{t1}/view"),
            Some(String::new()),
        ),
        (Agent, O::List) => ("agents/conversations/list?page_size=1000".to_string(), None),
        (Agent, O::UploadUrl) => (
            "services/get_temporary_file_upload_url".to_string(),
            Some(r#"{"filename":"a.pdf","extension":"pdf"}"#.to_string()),
        ),
        (Agent, O::ListAgents) => ("agents/list".to_string(), Some("{}".to_string())),
        (Workforce, O::GetOwner) => ("workforce/items/wf-1".to_string(), None),
        (Workforce, O::TriggerNew) => (
            "workforce/trigger".to_string(),
            Some(workforce_trigger(new_id, text).to_string()),
        ),
        (Workforce, O::TriggerContinue) => (
            "workforce/trigger".to_string(),
            Some(workforce_trigger(Some(t1), text).to_string()),
        ),
        (Workforce, O::Metadata) => (format!("workforce/tasks/{t1}/metadata"), None),
        (Workforce, O::Messages) => (
            format!("workforce/items/wf-1/tasks/{t1}/messages"),
            Some(r#"{"page_size": 1000}"#.to_string()),
        ),
        (Workforce, O::List) => (
            "workforce/tasks/list".to_string(),
            Some(json!({"workforce_id": "wf-1", "page_size": 1000}).to_string()),
        ),
        (Workforce, O::UploadUrl | O::ListAgents) => unreachable!("asked under the agent rows"),
    };
    (format!("/{US}/latest/{path}"), body)
}

async fn send(running: &Running, auth: Option<&str>, request: (String, Option<String>)) -> Answer {
    match request {
        (path, Some(body)) => running.post(&path, auth, &body).await,
        (path, None) => running.get(&path, auth).await,
    }
}

/// The task ids of the owner's list answer.
fn listed_ids(owner: Owner, answer: &Answer) -> Vec<String> {
    let field = match owner {
        Agent => "knowledge_set",
        Workforce => "workforce_task_id",
    };
    answer.body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|item| item[field].as_str().expect("task id").to_string())
        .collect()
}

/// Every task of the owner as the API key sees them, and whether any holds `text` (as a
/// message, or as the title a new workforce task gets from it).
async fn written(
    running: &Running,
    world: &World,
    owner: Owner,
    text: &str,
) -> (Vec<String>, bool) {
    let api = Some(world.api.as_str());
    let list = send(running, api, request(owner, O::List, "", None, "")).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let ids = listed_ids(owner, &list);
    let mut found = false;
    for id in &ids {
        let messages = send(running, api, request(owner, O::Messages, id, None, "")).await;
        assert_eq!(messages.status, StatusCode::OK, "{}", messages.text);
        found |= messages.body["results"]
            .as_array()
            .expect("results")
            .iter()
            .any(|message| message["content"]["text"] == text);
    }
    (ids, found)
}

/// What a successful read must hold, beyond its status.
fn check_success(
    owner: Owner,
    operation: Operation,
    answer: &Answer,
    credentials: &Credentials,
    t1: &str,
    sees_t1: bool,
    row: &str,
) {
    match (owner, operation) {
        (Agent, O::GetOwner) => {
            assert_eq!(answer.body["agent"]["agent_id"], "agent-public", "{row}")
        }
        (Workforce, O::GetOwner) => {
            assert_eq!(
                answer.body["workforce_metadata"]["name"], "Front desk",
                "{row}"
            )
        }
        (Workforce, O::Metadata) => {
            let meta = &answer.body["metadata"];
            assert_eq!(meta["title"], "first", "{row}");
            assert_eq!(meta["requested_state"], "continue", "{row}");
            for field in ["insert_date", "update_date", "state"] {
                assert!(meta[field].is_string(), "{row}: metadata.{field}: {meta}");
            }
        }
        (Workforce, O::Messages) => {
            let results = answer.body["results"].as_array().expect("results");
            assert_eq!(results[0]["content"]["text"], "first", "{row}");
            assert_eq!(results[0]["content"]["is_trigger_message"], true, "{row}");
        }
        (_, O::List) => {
            let ids = listed_ids(owner, answer);
            assert_eq!(ids.contains(&t1.to_string()), sees_t1, "{row}: {ids:?}");
            if let Some(prefix) = &credentials.own_prefix {
                // An embed key sees only its own prefix's tasks.
                let own = format!("{prefix}_-_");
                assert!(ids.iter().all(|id| id.starts_with(&own)), "{row}: {ids:?}");
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn principal_matrix_over_both_task_owners_and_every_operation() {
    let running = start_seeded().await;
    let world = World::new(&running).await;
    let mut cases = 0;
    // Agent rows first: an accepted workforce trigger starts member runs, which write agent
    // tasks while they go; after the agent rows that can change nothing they compare.
    let rows = MATRIX
        .iter()
        .enumerate()
        .filter(|(_, (_, owner, _))| *owner == Agent)
        .chain(
            MATRIX
                .iter()
                .enumerate()
                .filter(|(_, (_, owner, _))| *owner == Workforce),
        );
    for (index, (principal, owner, expected)) in rows {
        let credentials = world.credentials(*principal);
        let auth = credentials.auth.as_deref();
        let t1 = world.t1(*owner);
        let sees_t1 = expected[3] == 200;
        for (column, operation) in OPERATIONS.iter().enumerate() {
            let expected = expected[column];
            if expected == NA {
                continue;
            }
            cases += 1;
            let row = format!("{principal:?} × {owner:?} × {operation:?}");
            let marker = format!("matrix message {index}-{column}");
            let new_id = credentials
                .new_task_prefix
                .as_ref()
                .map(|prefix| format!("{prefix}_-_00000000-0000-4000-8000-{:012}", 100 + index));
            let is_write = matches!(operation, O::TriggerNew | O::TriggerContinue);
            let before = if is_write {
                Some(written(&running, &world, *owner, &marker).await.0)
            } else {
                None
            };
            let answer = send(
                &running,
                auth,
                request(*owner, *operation, t1, new_id.as_deref(), &marker),
            )
            .await;
            assert_eq!(answer.status.as_u16(), expected, "{row}: {}", answer.text);
            if expected == 200 {
                check_success(*owner, *operation, &answer, &credentials, t1, sees_t1, &row);
            } else {
                assert!(
                    !answer.message().is_empty(),
                    "{row}: an error names its problem"
                );
                for secret in world.secrets() {
                    assert!(
                        !answer.text.contains(secret),
                        "{row}: a key is echoed: {}",
                        answer.text
                    );
                }
            }
            if let Some(before) = before {
                let (after, found) = written(&running, &world, *owner, &marker).await;
                assert_eq!(
                    found,
                    expected == 200,
                    "{row}: a refused write must change nothing (and an accepted one must land)"
                );
                if expected != 200 {
                    assert_eq!(after, before, "{row}: a refused trigger made a task");
                }
            }
        }
    }
    println!("principal matrix: {cases} cases");
    assert_eq!(cases, 13 * 6 * 2 + 13 * 2);
}
