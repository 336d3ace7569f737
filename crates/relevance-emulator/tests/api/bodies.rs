//! Request bodies whatever their Content-Type, and JSON for every error.

use reqwest::StatusCode;

use crate::support::*;

#[tokio::test]
async fn json_is_read_whatever_the_content_type() {
    let running = start_seeded().await;
    let body = r#"{"agent_id":"agent-public","project":"proj-a"}"#;
    for content_type in [
        Some("text/plain;charset=UTF-8"),
        Some("application/json"),
        Some("application/octet-stream"),
        None,
    ] {
        let mut request = running
            .http
            .post(running.url("/bcbe5a/latest/agents/get_embed_key"))
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        let answer = answer(request.send().await.expect("sent")).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{content_type:?}: {}",
            answer.text
        );
        assert!(answer.body["embed_key"].is_string());
    }
}

#[tokio::test]
async fn bad_bodies_are_400_naming_the_problem() {
    let running = start_seeded().await;
    let auth = Some("proj-a:sk-test-a-0001");
    let list = "/bcbe5a/latest/agents/list";
    let embed = "/bcbe5a/latest/agents/get_embed_key";
    let cases: &[(&str, Option<&str>, &str, &str)] = &[
        (list, auth, "{not json", "not valid JSON"),
        (list, auth, "{not json", "line 1"),
        (list, auth, r#"{"page_size":"x"}"#, "page_size"),
        (list, auth, r#"{"page_size":0}"#, "page_size"),
        (list, auth, r#"{"page_size":1001}"#, "page_size"),
        (list, auth, r#"{"page_size":-1}"#, "page_size"),
        (list, auth, r#"{"page":0}"#, "page"),
        (list, auth, "[1, 2]", "must be a JSON object"),
        (list, auth, "nope", "not valid JSON"),
        (embed, None, r#"{"project":"proj-a"}"#, "agent_id"),
        (
            embed,
            None,
            r#"{"agent_id":7,"project":"proj-a"}"#,
            "agent_id",
        ),
        (embed, None, r#"{"agent_id":"agent-public"}"#, "project"),
        (embed, None, "", "agent_id"),
    ];
    for (path, authorization, body, fragment) in cases {
        let answer = running.post(path, *authorization, body).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{path} {body}: {}",
            answer.text
        );
        assert!(
            answer.message().contains(fragment),
            "{body}: {}",
            answer.message()
        );
    }
}

#[tokio::test]
async fn an_empty_body_means_the_defaults() {
    let running = start_seeded().await;
    let answer = running
        .post(
            "/bcbe5a/latest/agents/list",
            Some("proj-a:sk-test-a-0001"),
            "",
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.body["results"].as_array().expect("results").len(), 3);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_json() {
    let running = start_seeded_with(|config| config.body_limit_bytes = 1024).await;
    let padding = "x".repeat(4096);
    let body = format!(r#"{{"agent_id":"agent-public","project":"proj-a","pad":"{padding}"}}"#);
    let answer = running
        .post("/bcbe5a/latest/agents/get_embed_key", None, &body)
        .await;
    assert_eq!(
        answer.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        answer.text
    );
    assert!(answer.message().contains("1024"));
}

#[tokio::test]
async fn unknown_routes_wrong_methods_and_health_answer_json() {
    let running = start_seeded().await;
    let health = running.get("/healthz", None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body, serde_json::json!({"ok": true}));

    let unknown = running.get("/nowhere", None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.message().contains("/nowhere"));

    let wrong_method = running
        .get("/bcbe5a/latest/agents/list", Some("proj-a:sk-test-a-0001"))
        .await;
    assert_eq!(
        wrong_method.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "{}",
        wrong_method.text
    );
    assert!(!wrong_method.message().is_empty());
}
