//! The dashboard's Knowledge pages over real HTTP on 127.0.0.1, as a browser with a cookie
//! jar sees them: tables with row counts, a table's rows a page at a time (escaped), a row
//! and a set deleted through CSRF-checked forms, and forms without the token refused.

#[path = "browser/support.rs"]
mod support;

use reqwest::header::LOCATION;
use reqwest::redirect::Policy;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{csrf_of, start, Running, API_KEY, PROJECT, US};

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .expect("client builds")
}

async fn get(client: &reqwest::Client, running: &Running, path: &str) -> (StatusCode, String) {
    let answer = client.get(running.url(path)).send().await.expect("sent");
    let status = answer.status();
    (status, answer.text().await.expect("body"))
}

async fn post_form(
    client: &reqwest::Client,
    running: &Running,
    path: &str,
    csrf: &str,
) -> StatusCode {
    let answer = client
        .post(running.url(path))
        .form(&[("csrf", csrf)])
        .send()
        .await
        .expect("sent");
    answer.status()
}

async fn signed_in(running: &Running) -> reqwest::Client {
    let client = browser();
    let answer = client
        .post(running.url("/dashboard/sign-in"))
        .form(&[("token", running.emulator.admin_token())])
        .send()
        .await
        .expect("sent");
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    client
}

/// A knowledge route with the project's API key.
async fn api(running: &Running, route: &str, body: Value) -> Value {
    let answer = reqwest::Client::new()
        .post(running.url(&format!("/{US}/latest/{route}")))
        .header("Authorization", format!("{PROJECT}:{API_KEY}"))
        .body(body.to_string())
        .send()
        .await
        .expect("sent");
    assert_eq!(answer.status(), StatusCode::OK);
    answer.json().await.expect("JSON")
}

fn set_page(set: &str) -> String {
    format!("/dashboard/projects/{PROJECT}/knowledge/{set}")
}

#[tokio::test]
async fn tables_are_listed_paged_and_rows_and_sets_deleted_with_the_csrf_token() {
    let running = start().await;
    let rows: Vec<Value> = (0..60)
        .map(|n| json!({"type": "document", "document_id": format!("r{n}"), "value": {"n": n, "html": "<b>x</b>"}}))
        .collect();
    api(
        &running,
        "knowledge/add",
        json!({"knowledge_set": "faq", "data": rows}),
    )
    .await;
    let client = signed_in(&running).await;

    let (status, list) = get(&client, &running, "/dashboard/knowledge").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        list.contains(r#"data-set="faq""#) && list.contains(">60<"),
        "{list}"
    );
    assert!(
        list.contains(r#"href="/dashboard/knowledge""#),
        "the nav links the page"
    );

    let (status, first) = get(&client, &running, &set_page("faq")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        first.contains(r#"data-row="r0""#) && first.contains(r#"data-row="r49""#),
        "{first}"
    );
    assert!(!first.contains(r#"data-row="r50""#) && first.contains(r#"id="next-page""#));
    assert!(!first.contains("<b>x</b>"), "row data is escaped");
    let (_, second) = get(&client, &running, &format!("{}?page=2", set_page("faq"))).await;
    assert!(second.contains(r#"data-row="r59""#) && !second.contains(r#"id="next-page""#));

    let delete_row = format!("{}/rows/r3/delete", set_page("faq"));
    assert_eq!(
        post_form(&client, &running, &delete_row, "wrong").await,
        StatusCode::FORBIDDEN
    );
    let count = |body: &Value| body["results"].as_array().map(Vec::len);
    let listed = api(
        &running,
        "knowledge/list",
        json!({"knowledge_set": "faq", "page_size": 100}),
    )
    .await;
    assert_eq!(count(&listed), Some(60), "a refused form changes nothing");
    let csrf = csrf_of(&first);
    let answer = client
        .post(running.url(&delete_row))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("sent");
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(answer.headers()[LOCATION], set_page("faq").as_str());
    let listed = api(
        &running,
        "knowledge/list",
        json!({"knowledge_set": "faq", "page_size": 100}),
    )
    .await;
    assert_eq!(count(&listed), Some(59));

    let delete_set = format!("{}/delete", set_page("faq"));
    assert_eq!(
        post_form(&client, &running, &delete_set, "").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post_form(&client, &running, &delete_set, &csrf).await,
        StatusCode::SEE_OTHER
    );
    let sets = api(&running, "knowledge/sets/list", json!({})).await;
    assert_eq!(sets["results"], json!([]));
    let (status, _) = get(&client, &running, &set_page("faq")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
