//! CORS: the API, stream and file routes may be called from any page (embed keys are made
//! for public pages); admin and dashboard routes never answer a page on another origin.

use reqwest::{Method, StatusCode};

use crate::support::*;

const ORIGIN: &str = "https://shop.example";

fn header<'a>(answer: &'a Answer, name: &str) -> Option<&'a str> {
    answer
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
}

async fn preflight(running: &Running, path: &str, method: &str) -> Answer {
    let request = running
        .http
        .request(Method::OPTIONS, running.url(path))
        .header("Origin", ORIGIN)
        .header("Access-Control-Request-Method", method)
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type",
        );
    answer(request.send().await.expect("preflight sent")).await
}

#[tokio::test]
async fn preflights_on_api_stream_and_file_routes_are_204_with_the_headers_and_need_no_key() {
    let running = start_seeded().await;
    let cases = [
        (format!("/{US}/latest/agents/trigger"), "POST"),
        (format!("/{US}/latest/agents/get_embed_key"), "POST"),
        (format!("/{EU}/latest/agents/eu-agent/get"), "GET"),
        (
            format!("/{US}/latest/agents/agent-public/tasks/t1/metadata"),
            "GET",
        ),
        (format!("/{US}/v1/stream"), "GET"),
        ("/files/some-id/upload".to_string(), "PUT"),
    ];
    for (path, method) in cases {
        let answer = preflight(&running, &path, method).await;
        assert_eq!(
            answer.status,
            StatusCode::NO_CONTENT,
            "{path}: {}",
            answer.text
        );
        assert_eq!(
            header(&answer, "access-control-allow-origin"),
            Some("*"),
            "{path}"
        );
        let methods = header(&answer, "access-control-allow-methods").unwrap_or_default();
        for wanted in ["GET", "POST", "PUT", "OPTIONS"] {
            assert!(methods.contains(wanted), "{path}: {methods}");
        }
        let headers = header(&answer, "access-control-allow-headers").unwrap_or_default();
        assert!(headers.contains("authorization"), "{path}: {headers}");
        assert!(headers.contains("content-type"), "{path}: {headers}");
        // The browser's file PUT carries the storage tag as the official client sends it.
        assert!(headers.contains("x-amz-tagging"), "{path}: {headers}");
    }
    // Preflights are not API traffic: the request log has none of them.
    let log = running
        .get("/admin/requests?limit=100", Some(&running.admin()))
        .await;
    let requests = log.body["requests"].as_array().expect("requests");
    assert!(
        requests
            .iter()
            .all(|request| request["method"] != "OPTIONS"),
        "{requests:?}"
    );
}

#[tokio::test]
async fn api_answers_to_a_page_carry_the_allow_origin_header_errors_too() {
    let running = start_seeded().await;
    let authorization = format!("proj-a:{KEY_A}");
    let cases = [
        (
            format!("/{US}/latest/agents/agent-public/get"),
            Some(authorization.as_str()),
            StatusCode::OK,
        ),
        (
            format!("/{US}/latest/agents/agent-public/get"),
            None,
            StatusCode::UNAUTHORIZED,
        ),
        (
            format!("/{US}/latest/agents/nope/get"),
            Some(authorization.as_str()),
            StatusCode::NOT_FOUND,
        ),
        (
            "/files/unknown/a.pdf".to_string(),
            None,
            StatusCode::NOT_FOUND,
        ),
    ];
    for (path, authorization, status) in cases {
        let mut request = running
            .http
            .get(running.url(&path))
            .header("Origin", ORIGIN);
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        let answer = answer(request.send().await.expect("sent")).await;
        assert_eq!(answer.status, status, "{path}: {}", answer.text);
        assert_eq!(
            header(&answer, "access-control-allow-origin"),
            Some("*"),
            "{path}"
        );
        assert_eq!(
            header(&answer, "access-control-expose-headers"),
            Some("retry-after"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn admin_and_dashboard_routes_never_answer_with_cors() {
    let running = start_seeded().await;
    let admin = running.admin();
    let answer = answer(
        running
            .http
            .get(running.url("/admin/projects"))
            .header("Origin", ORIGIN)
            .header("Authorization", &admin)
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(header(&answer, "access-control-allow-origin"), None);

    for path in ["/admin/projects", "/admin/requests", "/dashboard"] {
        let answer = preflight(&running, path, "GET").await;
        assert_ne!(answer.status, StatusCode::NO_CONTENT, "{path}");
        assert_eq!(
            header(&answer, "access-control-allow-origin"),
            None,
            "{path}"
        );
        assert_eq!(
            header(&answer, "access-control-allow-methods"),
            None,
            "{path}"
        );
    }
}
