//! The SDK facing every kind of bad or refusing server answer over real HTTP: each ends in a
//! typed error that names the problem, never a panic.
#![cfg(not(target_family = "wasm"))]

use std::time::Duration;

use relevance::{AgentListOptions, Client, EmbedKeyOptions, Error, Key, Region, RetryPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Serves one canned HTTP answer to every connection on 127.0.0.1; returns its base URL.
async fn canned(status: &str, headers: &[&str], body: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut response = format!(
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for header in headers {
        response.push_str(header);
        response.push_str("\r\n");
    }
    response.push_str("\r\n");
    response.push_str(body);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let response = response.clone();
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 64 * 1024];
                let _ = socket.read(&mut buffer).await;
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    base
}

/// A client that sends each request once: these tests are about how one answer is read.
fn client(base_url: &str) -> Client {
    let key = Key::new("sk-secret-value-0123456789abcdef", Region::US, "proj").unwrap();
    Client::builder(key)
        .base_url(base_url)
        .retries(RetryPolicy::none())
        .build()
        .unwrap()
}

/// A canned answer: status line, headers, body, the error it must become, its status code.
type RefusalCase = (
    &'static str,
    Vec<&'static str>,
    &'static str,
    fn(&Error) -> bool,
    Option<u16>,
);

#[tokio::test]
async fn each_refusal_maps_to_its_typed_error_with_the_servers_message() {
    let json = "content-type: application/json";
    let cases: Vec<RefusalCase> = vec![
        (
            "400 Bad Request",
            vec![json],
            r#"{"message":"page_size must be 1..1000"}"#,
            |e| matches!(e, Error::BadRequest { .. }),
            Some(400),
        ),
        (
            "401 Unauthorized",
            vec![json],
            r#"{"message":"unknown project 'proj'"}"#,
            |e| matches!(e, Error::Unauthorized { .. }),
            Some(401),
        ),
        (
            "403 Forbidden",
            vec![json],
            r#"{"message":"embed keys cannot list agents"}"#,
            |e| matches!(e, Error::Forbidden { .. }),
            Some(403),
        ),
        (
            "404 Not Found",
            vec![json],
            r#"{"message":"agent 'x' not found"}"#,
            |e| matches!(e, Error::NotFound { .. }),
            Some(404),
        ),
        (
            "413 Payload Too Large",
            vec![json],
            r#"{"message":"body over 1 MiB"}"#,
            |e| matches!(e, Error::Http { status: 413, .. }),
            Some(413),
        ),
        (
            "429 Too Many Requests",
            vec![json, "retry-after: 7"],
            r#"{"message":"slow down"}"#,
            |e| matches!(e, Error::RateLimited { retry_after: Some(d), .. } if *d == Duration::from_secs(7)),
            Some(429),
        ),
        (
            "503 Service Unavailable",
            vec![json],
            r#"{"message":"maintenance"}"#,
            |e| matches!(e, Error::Server { status: 503, .. }),
            Some(503),
        ),
    ];
    for (status, headers, body, expected, code) in cases {
        let base = canned(status, &headers, body).await;
        let error = client(&base).agents().get("x").await.unwrap_err();
        assert!(expected(&error), "{status}: {error:?}");
        assert_eq!(error.status(), code, "{status}");
        let server_message: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            error.server_message(),
            server_message["message"].as_str(),
            "{status}"
        );
        assert!(
            error
                .to_string()
                .contains(server_message["message"].as_str().unwrap()),
            "{status}: {error}"
        );
    }
}

#[tokio::test]
async fn a_non_json_error_page_keeps_a_snippet_of_the_body() {
    let base = canned(
        "502 Bad Gateway",
        &["content-type: text/html"],
        "<html>upstream down</html>",
    )
    .await;
    let error = client(&base).agents().get("x").await.unwrap_err();
    assert!(
        matches!(error, Error::Server { status: 502, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("upstream down"), "{error}");
}

#[tokio::test]
async fn a_success_that_is_not_the_documented_json_is_a_decode_error() {
    let cases = [
        ("not json at all", "the answer is not JSON"),
        (r#"{"agent": 42}"#, "agent is not an object"),
        (r#"{"results": "nope"}"#, "no agent"),
    ];
    for (body, why) in cases {
        let base = canned("200 OK", &["content-type: application/json"], body).await;
        let error = client(&base).agents().get("x").await.unwrap_err();
        assert!(matches!(error, Error::Decode { .. }), "{why}: {error:?}");
        assert!(!error.is_retryable());
    }
    let base = canned("200 OK", &[], r#"{"results": [{"name": "no id"}]}"#).await;
    let error = client(&base)
        .agents()
        .list(AgentListOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Decode { .. }), "{error:?}");
}

#[tokio::test]
async fn an_embed_key_answer_without_the_key_is_a_decode_error() {
    for body in [
        r#"{}"#,
        r#"{"embed_key": "k"}"#,
        r#"{"conversation_prefix": "p"}"#,
        r#"{"embed_key": 1, "conversation_prefix": "p"}"#,
    ] {
        let base = canned("200 OK", &[], body).await;
        let error =
            Key::generate_embed_key(EmbedKeyOptions::agent(Region::US, "proj", "a").base_url(base))
                .await
                .unwrap_err();
        assert!(matches!(error, Error::Decode { .. }), "{body}: {error:?}");
    }
}

#[tokio::test]
async fn nobody_listening_is_a_retryable_network_error_without_the_secret() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let error = client(&base).agents().get("x").await.unwrap_err();
    assert!(matches!(error, Error::Network(_)), "{error:?}");
    assert!(error.is_retryable());
    assert_eq!(error.status(), None);
    assert!(!format!("{error} {error:?}").contains("sk-secret-value"));
}

/// Serves `200` JSON answers chosen by the first route whose text the request line contains.
async fn routed(routes: Vec<(&'static str, String)>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let routes = routes.clone();
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 64 * 1024];
                let read = socket.read(&mut buffer).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buffer[..read]);
                let first_line = request.lines().next().unwrap_or("");
                let body = routes
                    .iter()
                    .find(|(path, _)| first_line.contains(path))
                    .map(|(_, body)| body.clone())
                    .unwrap_or_else(|| "{}".into());
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    base
}

const GOOD_AGENT: &str = r#"{"agent": {"agent_id": "a", "public": true, "project": "proj"}}"#;
const GOOD_META: &str = r#"{"metadata": {"knowledge_set": "t1", "insert_date": "2026-01-01T00:00:00Z",
    "update_date": "2026-01-01T00:00:00Z", "conversation": {"state": "idle", "title": "x"}}}"#;

#[tokio::test]
async fn malformed_task_answers_are_typed_errors_or_unknown_variants() {
    use relevance::{MessageContent, TaskStatus};

    // Unknown message kinds and task states survive; bad shapes are decode errors.
    let base = routed(vec![
        ("/agents/a/get", GOOD_AGENT.into()),
        ("/metadata", GOOD_META.replace("\"idle\"", "\"hibernating\"")),
        ("/view", r#"{"results": [
            {"item_id": "m2", "insert_date_": "2026-01-01T00:00:02Z", "content": {"type": "agent-hologram", "x": 1}},
            {"item_id": "m1", "insert_date_": "2026-01-01T00:00:01Z", "content": {"type": "user-message", "text": "hi"}}]}"#.into()),
    ])
    .await;
    let agent = client(&base).agents().get("a").await.unwrap();
    let task = agent.get_task("t1").await.unwrap();
    assert_eq!(task.status, TaskStatus::Unknown("hibernating".into()));
    assert!(!task.is_running());
    let messages = task.messages().await.unwrap();
    assert_eq!(messages[0].id, "m1", "oldest first");
    assert!(
        matches!(&messages[1].content, MessageContent::Unknown { kind, .. } if kind == "agent-hologram")
    );

    let broken_answers = [
        ("/metadata", r#"{"metadata": {"insert_date": "x"}}"#),
        ("/metadata", r#"{"nothing": true}"#),
        (
            "/view",
            r#"{"results": [{"item_id": "m1", "content": {"type": "user-message"}}]}"#,
        ),
        (
            "/view",
            r#"{"results": [{"item_id": "m1", "insert_date_": "2026-01-01T00:00:01Z", "content": {"type": "tool-run"}}]}"#,
        ),
        ("/view", r#"{"results": "many"}"#),
        ("/trigger", r#"{"state": "running"}"#),
        ("/conversations/list", r#"{"results": [{"metadata": {}}]}"#),
    ];
    for (route, body) in broken_answers {
        // The broken answer comes first so it wins over the good ones.
        let base = routed(vec![
            (route, body.into()),
            ("/agents/a/get", GOOD_AGENT.into()),
            ("/metadata", GOOD_META.into()),
        ])
        .await;
        let agent = client(&base).agents().get("a").await.unwrap();
        let outcome = match route {
            "/metadata" => agent.get_task("t1").await.map(|_| ()),
            "/view" => agent
                .get_task("t1")
                .await
                .unwrap()
                .messages()
                .await
                .map(|_| ()),
            "/trigger" => agent.send_message("hi").await.map(|_| ()),
            _ => agent.tasks(Default::default()).await.map(|_| ()),
        };
        let error = outcome.expect_err(body);
        assert!(
            matches!(error, Error::Decode { .. }),
            "{route} {body}: {error:?}"
        );
    }
}
