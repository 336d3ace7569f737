//! What the platform answers beyond its first model (PROTOCOL A1's end, A14, A17): a
//! project in a fourth region, `auth/info` for both kinds of key, and the rest of the
//! trigger (`params`, `external_id`, `version`, `regenerate`).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

/// A project in region `1e3042`, with an agent whose script reads the task's params.
const FOURTH_REGION_SEED: &str = r#"
[[projects]]
id = "proj-4"
region = "1e3042"
api_keys = ["sk-test-4-0001"]

[[projects.agents]]
id = "greeter"
public = true
behavior = "script"
script = [{ reply = "hello {params.name} ({params.tier}): {message}", delay_ms = 1 }]
"#;
const REGION: &str = "1e3042";
const KEY_4: &str = "proj-4:sk-test-4-0001";

async fn start_fourth_region() -> Running {
    Running {
        emulator: start(seeded(FOURTH_REGION_SEED)).await,
        http: reqwest::Client::new(),
        seed_dir: tempfile::TempDir::new().expect("tempdir"),
    }
}

fn path(rest: &str) -> String {
    format!("/{REGION}/latest/{rest}")
}

impl Running {
    async fn greet(&self, body: Value) -> Answer {
        self.post(&path("agents/trigger"), Some(KEY_4), &body.to_string())
            .await
    }

    /// Polls (bounded) until the task's run has ended; its messages, oldest first.
    async fn greeted(&self, task: &str) -> Vec<Value> {
        for _ in 0..500 {
            let meta = self
                .get(
                    &path(&format!("agents/greeter/tasks/{task}/metadata")),
                    Some(KEY_4),
                )
                .await;
            assert_eq!(meta.status, StatusCode::OK, "{}", meta.text);
            if !is_running(
                meta.body["metadata"]["conversation"]["state"]
                    .as_str()
                    .unwrap(),
            ) {
                let view = self
                    .post(
                        &path(&format!("agents/greeter/tasks/{task}/view")),
                        Some(KEY_4),
                        "",
                    )
                    .await;
                let mut results = view.body["results"].as_array().unwrap().clone();
                results.reverse();
                return results;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("task {task} never settled");
    }
}

fn texts(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .map(|message| {
            message["content"]["text"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn a_project_in_a_fourth_region_is_served_under_its_code_and_only_there() {
    let running = start_fourth_region().await;
    let agent = running.get(&path("agents/greeter/get"), Some(KEY_4)).await;
    assert_eq!(agent.status, StatusCode::OK, "{}", agent.text);
    let elsewhere = running
        .get("/bcbe5a/latest/agents/greeter/get", Some(KEY_4))
        .await;
    assert_eq!(elsewhere.status, StatusCode::BAD_REQUEST);
    assert!(
        elsewhere
            .message()
            .contains("lives in region 1e3042, not bcbe5a (US)"),
        "{}",
        elsewhere.text
    );
    let embed = running
        .post(
            &path("agents/get_embed_key"),
            None,
            r#"{"agent_id":"greeter","project":"proj-4"}"#,
        )
        .await;
    assert_eq!(embed.status, StatusCode::OK, "{}", embed.text);
    let projects = running.get("/admin/projects", Some(&running.admin())).await;
    assert!(
        projects.body["projects"]
            .as_array()
            .unwrap()
            .contains(&json!({"id": "proj-4", "region": "1e3042"})),
        "{}",
        projects.text
    );
    // Not a region: not six lowercase hex characters.
    let bad = running
        .get("/1E3042/latest/agents/greeter/get", Some(KEY_4))
        .await;
    assert_eq!(bad.status, StatusCode::NOT_FOUND);
    assert!(bad.message().contains("6 lowercase hex"), "{}", bad.text);
}

#[tokio::test]
async fn auth_info_tells_which_key_for_an_api_key_and_an_embed_key_and_never_a_secret() {
    let running = start_seeded().await;
    let labelled = running
        .post(
            "/admin/projects/proj-a/api_keys",
            Some(&running.admin()),
            r#"{"label":"ci runner"}"#,
        )
        .await;
    let (key_id, secret) = (
        labelled.body["id"].as_str().unwrap().to_string(),
        labelled.body["key"].as_str().unwrap().to_string(),
    );
    let api = running
        .get(
            "/bcbe5a/latest/auth/info",
            Some(&format!("proj-a:{secret}")),
        )
        .await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.text);
    assert_eq!(api.body["key_id"], key_id.as_str());
    assert_eq!(api.body["label"], "ci runner");
    assert!(api.body["user_id"]
        .as_str()
        .is_some_and(|id| !id.is_empty()));
    assert_eq!(
        api.body["permissions"]["projects"]["proj-a"]["items"]["project"]["actions"]["admin"],
        true
    );
    assert!(!api.text.contains(&secret));

    let (embed_secret, _prefix) = running.agent_embed_key("agent-public").await;
    let embed_key = format!("proj-a:{embed_secret}");
    let embed = running
        .get("/bcbe5a/latest/auth/info", Some(&embed_key))
        .await;
    assert_eq!(embed.status, StatusCode::OK, "{}", embed.text);
    assert!(!embed.text.contains(&embed_secret));
    assert!(embed.body["key_id"]
        .as_str()
        .is_some_and(|id| id.starts_with("key_")));
    assert_ne!(embed.body["key_id"], key_id.as_str());
    assert_eq!(embed.body.get("label"), None);
    let item = &embed.body["permissions"]["projects"]["proj-a"]["items"]["embed"];
    assert_eq!(item["resources"]["agents"], json!({"agent-public": true}));

    let nobody = running.get("/bcbe5a/latest/auth/info", None).await;
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);
    assert_eq!(nobody.body["error_type"], "authorization_header_missing");
}

#[tokio::test]
async fn params_reach_the_script_stay_on_the_task_and_show_in_its_metadata() {
    let running = start_fourth_region().await;
    let first = running
        .greet(
            json!({"agent_id": "greeter", "message": {"role": "user", "content": "hi"},
                      "params": {"name": "Ada", "tier": 2}, "version": "draft"}),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let task = first.body["conversation_id"].as_str().unwrap().to_string();
    assert_eq!(first.body["job_info"]["conversation_id"], task.as_str());
    let messages = running.greeted(&task).await;
    assert_eq!(texts(&messages), ["hi", "hello Ada (2): hi"]);
    // A later trigger without params keeps the task's.
    let again = running
        .greet(json!({"agent_id": "greeter", "conversation_id": task,
                      "message": {"role": "user", "content": "again"}}))
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    let messages = running.greeted(&task).await;
    assert_eq!(texts(&messages)[3], "hello Ada (2): again");
    let meta = running
        .get(
            &path(&format!("agents/greeter/tasks/{task}/metadata")),
            Some(KEY_4),
        )
        .await;
    let conversation = &meta.body["metadata"]["conversation"];
    assert_eq!(
        conversation["params_from_previous_trigger"],
        json!({"name": "Ada", "tier": 2})
    );
    assert_eq!(conversation["version"], "draft");

    for (field, value) in [("params", json!("name=Ada")), ("version", json!(""))] {
        let mut body = json!({"agent_id": "greeter", "message": {"role": "user", "content": "x"}});
        body[field] = value;
        let refused = running.greet(body).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{field}");
        assert!(refused.message().contains(field), "{}", refused.text);
    }
}

#[tokio::test]
async fn an_external_id_never_makes_a_second_conversation() {
    let running = start_fourth_region().await;
    let send = |content: &str, behaviour: Option<&str>| {
        let mut body = json!({"agent_id": "greeter", "external_id": "order-42",
                              "message": {"role": "user", "content": content}});
        if let Some(behaviour) = behaviour {
            body["external_id_behaviour"] = json!(behaviour);
        }
        body
    };
    let first = running.greet(send("one", None)).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let task = first.body["conversation_id"].as_str().unwrap().to_string();
    running.greeted(&task).await;
    let second = running
        .greet(send("two", Some("extend-conversation")))
        .await;
    assert_eq!(
        second.body["conversation_id"],
        task.as_str(),
        "{}",
        second.text
    );
    assert_eq!(texts(&running.greeted(&task).await).len(), 4);
    let nothing = running.greet(send("three", Some("nothing"))).await;
    assert_eq!(nothing.status, StatusCode::OK, "{}", nothing.text);
    assert_eq!(nothing.body["conversation_id"], task.as_str());
    let after = running.greeted(&task).await;
    assert_eq!(texts(&after).len(), 4, "`nothing` adds no message");
    assert!(!texts(&after).contains(&"three".to_string()));
    let meta = running
        .get(
            &path(&format!("agents/greeter/tasks/{task}/metadata")),
            Some(KEY_4),
        )
        .await;
    assert_eq!(meta.body["metadata"]["external_id"], "order-42");

    // Another id is another conversation; a conversation_id that contradicts the id is refused.
    let other = running
        .greet(json!({"agent_id": "greeter", "external_id": "order-43",
                      "message": {"role": "user", "content": "x"}}))
        .await;
    assert_ne!(other.body["conversation_id"], task.as_str());
    let contradicting = running
        .greet(json!({"agent_id": "greeter", "external_id": "order-42",
                      "conversation_id": other.body["conversation_id"],
                      "message": {"role": "user", "content": "x"}}))
        .await;
    assert_eq!(contradicting.status, StatusCode::BAD_REQUEST);
    assert!(contradicting.message().contains("belongs to conversation"));
    let bad = running.greet(send("x", Some("merge"))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.message().contains("external_id_behaviour"));
}

#[tokio::test]
async fn regenerate_answers_a_turn_again_and_replaces_what_followed() {
    let running = start_fourth_region().await;
    let first = running
        .greet(json!({"agent_id": "greeter", "params": {"name": "Ada"},
                      "message": {"role": "user", "content": "one"}}))
        .await;
    let task = first.body["conversation_id"].as_str().unwrap().to_string();
    running.greeted(&task).await;
    running
        .greet(json!({"agent_id": "greeter", "conversation_id": task,
                      "message": {"role": "user", "content": "two"}}))
        .await;
    let before = running.greeted(&task).await;
    assert_eq!(
        texts(&before),
        ["one", "hello Ada (): one", "two", "hello Ada (): two"]
    );
    let first_reply = before[1]["item_id"].as_str().unwrap().to_string();

    // The first turn's reply again, with new params: what followed it is gone.
    let again = running
        .greet(
            json!({"agent_id": "greeter", "conversation_id": task, "action": "regenerate",
                      "regenerate_message_id": first_reply, "params": {"name": "Bo"}}),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    let after = running.greeted(&task).await;
    assert_eq!(texts(&after), ["one", "hello Bo (): one"]);
    assert_eq!(
        after[0]["item_id"], before[0]["item_id"],
        "the user message stays"
    );
    assert_ne!(after[1]["item_id"].as_str(), Some(first_reply.as_str()));

    let by_first = running
        .greet(
            json!({"agent_id": "greeter", "conversation_id": task, "action": "regenerate",
                      "use_first_message": true}),
        )
        .await;
    assert_eq!(by_first.status, StatusCode::OK, "{}", by_first.text);
    assert_eq!(
        texts(&running.greeted(&task).await),
        ["one", "hello Bo (): one"]
    );

    let user_message = after[0]["item_id"].as_str().unwrap();
    for (body, fragment) in [
        (
            json!({"regenerate_message_id": user_message}),
            "no agent message",
        ),
        (json!({}), "regenerate_message_id"),
    ] {
        let mut body = body;
        body["agent_id"] = json!("greeter");
        body["conversation_id"] = json!(task);
        body["action"] = json!("regenerate");
        let refused = running.greet(body).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
        assert!(refused.message().contains(fragment), "{}", refused.text);
    }
}

#[tokio::test]
async fn a_live_secret_sent_as_an_id_in_a_body_is_never_echoed() {
    let running = start_engine_seed().await;
    let admin_token = running.emulator.admin_token().to_string();
    let started = running
        .trigger(
            KEY_E,
            json!({"agent_id": "echo", "message": {"role": "user", "content": "hi"}}),
        )
        .await;
    let task = started.body["conversation_id"]
        .as_str()
        .unwrap()
        .to_string();
    let meta = running
        .get_query(
            &format!("/{US}/latest/agents/echo/tasks/{task}/metadata"),
            Some(KEY_E),
            &[("include_streaming_token", "true")],
        )
        .await;
    let stream_token = meta.body["streaming_token"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    for secret in [admin_token.as_str(), stream_token.as_str()] {
        let as_agent = running
            .trigger(
                KEY_E,
                json!({"agent_id": secret, "message": {"role": "user", "content": "x"}}),
            )
            .await;
        let as_workforce = running
            .post(
                &format!("/{US}/latest/workforce/trigger"),
                Some(KEY_E),
                &json!({"workforce_id": secret, "trigger": {"message": {"role": "user", "content": "x"}}})
                    .to_string(),
            )
            .await;
        for answer in [as_agent, as_workforce] {
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.text);
            assert!(
                !answer.text.contains(secret),
                "echoed a secret: {}",
                answer.text
            );
            assert!(answer.message().contains("(redacted)"), "{}", answer.text);
        }
    }
}

#[tokio::test]
async fn upload_urls_are_built_from_the_emulators_own_url_not_the_host_header() {
    let body = r#"{"filename":"a.pdf","extension":"pdf"}"#;
    let path = format!("/{US}/latest/services/get_temporary_file_upload_url");
    let running = start_seeded().await;
    let base = running.emulator.base_url();
    let answer = send(
        running
            .http
            .post(running.url(&path))
            .header("Host", "evil.example")
            .body(body),
        Some("proj-a:sk-test-a-0001"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    for field in ["upload_url", "download_url"] {
        let url = answer.body[field].as_str().unwrap();
        assert!(url.starts_with(&format!("{base}/files/")), "{field}: {url}");
        assert!(!url.contains("evil.example"), "{field}: {url}");
    }
    let public =
        start_seeded_with(|config| config.public_url = Some("https://emu.example/".into())).await;
    let answer = public
        .post(&path, Some("proj-a:sk-test-a-0001"), body)
        .await;
    let url = answer.body["upload_url"].as_str().unwrap();
    assert!(url.starts_with("https://emu.example/files/"), "{url}");
}
