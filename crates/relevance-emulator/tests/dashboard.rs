//! The admin dashboard over real HTTP on 127.0.0.1, as a browser with a cookie jar sees it.

#[path = "browser/support.rs"]
mod support;

use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::StatusCode;
use support::{csrf_of, start, Running, API_KEY, PROJECT};

/// A browser-like client: keeps cookies, does not follow redirects (so tests see them).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .expect("client builds")
}

async fn get(client: &reqwest::Client, running: &Running, path: &str) -> (StatusCode, String) {
    let answer = client
        .get(running.url(path))
        .send()
        .await
        .expect("request sent");
    let status = answer.status();
    (status, answer.text().await.expect("body"))
}

async fn post_form(
    client: &reqwest::Client,
    running: &Running,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(running.url(path))
        .form(fields)
        .send()
        .await
        .expect("request sent")
}

/// A client with a dashboard session.
async fn signed_in(running: &Running) -> reqwest::Client {
    let client = browser();
    let answer = post_form(
        &client,
        running,
        "/dashboard/sign-in",
        &[("token", running.emulator.admin_token())],
    )
    .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(answer.headers()[LOCATION], "/dashboard");
    client
}

fn keys_path() -> String {
    format!("/dashboard/projects/{PROJECT}/keys")
}

#[tokio::test]
async fn without_a_session_every_page_and_form_redirects_to_sign_in() {
    let running = start().await;
    let client = browser();
    let pages = [
        "/dashboard".to_string(),
        "/dashboard/requests".to_string(),
        format!("/dashboard/projects/{PROJECT}"),
        keys_path(),
        format!("/dashboard/projects/{PROJECT}/agents/helper"),
        format!("/dashboard/projects/{PROJECT}/workforces/wf"),
        format!("/dashboard/projects/{PROJECT}/tasks/anything"),
        format!("/dashboard/projects/{PROJECT}/keys/key_x/revoke"),
        format!("/dashboard/projects/{PROJECT}/tasks/anything/delete"),
        "/dashboard/tools".to_string(),
        format!("/dashboard/projects/{PROJECT}/tools/anything"),
    ];
    for page in &pages {
        let answer = client.get(running.url(page)).send().await.expect("sent");
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{page}");
        assert_eq!(answer.headers()[LOCATION], "/dashboard/sign-in", "{page}");
    }
    let before = running.admin_keys().await.len();
    let answer = post_form(&client, &running, &keys_path(), &[("label", "x")]).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(answer.headers()[LOCATION], "/dashboard/sign-in");
    assert_eq!(
        running.admin_keys().await.len(),
        before,
        "no key was created"
    );

    let (status, html) = get(&client, &running, "/dashboard/sign-in").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"name="token""#), "{html}");
}

#[tokio::test]
async fn only_the_admin_token_signs_in_never_a_project_or_embed_key() {
    let running = start().await;
    let (embed_key, _) = running.embed_key("helper", false).await;
    let admin = running.emulator.admin_token().to_string();
    let refused = [
        String::new(),
        "wrong".to_string(),
        format!("{admin}x"),
        format!("Bearer {admin}"),
        API_KEY.to_string(),
        format!("{PROJECT}:{API_KEY}"),
        embed_key.clone(),
        format!("{PROJECT}:{embed_key}"),
    ];
    for token in &refused {
        for via_link in [false, true] {
            let client = browser();
            let answer = if via_link {
                client
                    .get(running.url("/dashboard/sign-in"))
                    .query(&[("token", token)])
                    .send()
                    .await
                    .expect("sent")
            } else {
                post_form(&client, &running, "/dashboard/sign-in", &[("token", token)]).await
            };
            assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "{token:?}");
            assert!(answer.headers().get(SET_COOKIE).is_none(), "{token:?}");
            let html = answer.text().await.expect("body");
            assert!(html.contains(r#"id="sign-in-error""#), "{html}");
            assert!(!html.contains(&embed_key) && !html.contains(API_KEY));
            let (status, _) = get(&client, &running, "/dashboard").await;
            assert_eq!(status, StatusCode::SEE_OTHER, "{token:?} opened no session");
        }
    }
}

#[tokio::test]
async fn signing_in_sets_a_strict_http_only_cookie_and_signing_out_ends_the_session() {
    let running = start().await;
    let client = browser();
    let url = running.emulator.dashboard_sign_in_url();
    assert!(
        url.starts_with(&running.url("/dashboard/sign-in?token=")),
        "{url}"
    );
    let answer = client.get(&url).send().await.expect("sent");
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(answer.headers()[LOCATION], "/dashboard");
    assert_eq!(answer.headers()["referrer-policy"], "no-referrer");
    let cookie = answer.headers()[SET_COOKIE].to_str().expect("ascii");
    let (pair, attributes) = cookie.split_once(';').expect("attributes");
    let id = pair
        .strip_prefix("relevance_dashboard=")
        .expect("cookie name");
    assert!(
        id.len() >= 22 && id.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{id}"
    );
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/dashboard"] {
        assert!(attributes.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains(running.emulator.admin_token()));

    let (status, html) = get(&client, &running, "/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(PROJECT) && html.contains("proj-other"),
        "{html}"
    );

    // Signing out needs the CSRF token too, then the same cookie opens nothing.
    let answer = post_form(&client, &running, "/dashboard/sign-out", &[]).await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    let csrf = csrf_of(&html);
    let answer = post_form(&client, &running, "/dashboard/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let stale = browser();
    let answer = stale
        .get(running.url("/dashboard"))
        .header("Cookie", format!("relevance_dashboard={id}"))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        answer.status(),
        StatusCode::SEE_OTHER,
        "the session is gone"
    );
}

#[tokio::test]
async fn forms_without_this_sessions_csrf_token_are_refused_and_change_nothing() {
    let running = start().await;
    let client = signed_in(&running).await;
    let other_session = signed_in(&running).await;
    let (_, other_html) = get(&other_session, &running, &keys_path()).await;
    let others_csrf = csrf_of(&other_html);
    let (embed_key, _) = running.embed_key("helper", false).await;
    let embed_id = running
        .admin_keys()
        .await
        .iter()
        .find(|key| key["kind"] == "embed")
        .and_then(|key| key["id"].as_str())
        .expect("embed key listed")
        .to_string();
    let keys_before = running.admin_keys().await;

    let bad_tokens: [Option<&str>; 3] = [None, Some("not-the-token"), Some(&others_csrf)];
    for token in bad_tokens {
        let forms = [
            (keys_path(), vec![("label", "sneaky")]),
            (format!("{}/{embed_id}/revoke", keys_path()), vec![]),
            (
                format!("/dashboard/projects/{PROJECT}/agents/helper/visibility"),
                vec![("public", "false")],
            ),
        ];
        for (path, mut fields) in forms {
            if let Some(token) = token {
                fields.push(("csrf", token));
            }
            let answer = post_form(&client, &running, &path, &fields).await;
            assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{path} {token:?}");
            let html = answer.text().await.expect("body");
            assert!(html.contains("nothing was changed"), "{html}");
        }
    }
    let keys_after = running.admin_keys().await;
    assert_eq!(keys_after, keys_before, "no key created or revoked");
    assert_eq!(
        running.read_agent_with(&embed_key, "helper").await,
        StatusCode::OK
    );
    let (_, html) = get(
        &client,
        &running,
        &format!("/dashboard/projects/{PROJECT}/agents/helper"),
    )
    .await;
    assert!(html.contains(">public<"), "still public: {html}");
}

#[tokio::test]
async fn user_supplied_names_and_messages_are_escaped() {
    let running = start().await;
    let client = signed_in(&running).await;
    let task = running
        .trigger(
            "xss-agent",
            "<script>alert(2)</script> & <img src=x onerror=y>",
        )
        .await;
    running.wait_for_reply("xss-agent", &task).await;
    let pages = [
        format!("/dashboard/projects/{PROJECT}"),
        format!("/dashboard/projects/{PROJECT}/agents/xss-agent"),
        format!("/dashboard/projects/{PROJECT}/tasks/{task}"),
    ];
    for page in &pages {
        let (status, html) = get(&client, &running, page).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(!html.contains("<script"), "{page}: {html}");
        assert!(!html.contains("<img"), "{page}: {html}");
    }
    let (_, agent_page) = get(&client, &running, &pages[1]).await;
    assert!(agent_page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let (_, task_page) = get(&client, &running, &pages[2]).await;
    assert!(task_page
        .contains("&lt;script&gt;alert(2)&lt;/script&gt; &amp; &lt;img src=x onerror=y&gt;"));
    assert!(task_page.contains("User (started the task)"), "{task_page}");
    assert!(
        task_page.contains("You said: &lt;script&gt;"),
        "{task_page}"
    );
    let user = task_page.find("User (started").expect("user message");
    let agent = task_page.find("You said").expect("agent message");
    assert!(user < agent, "messages in order");
}

#[tokio::test]
async fn a_created_api_key_is_shown_once_works_and_is_gone_on_reload() {
    let running = start().await;
    let client = signed_in(&running).await;
    let (_, keys_page) = get(&client, &running, &keys_path()).await;
    let csrf = csrf_of(&keys_page);
    let answer = post_form(
        &client,
        &running,
        &keys_path(),
        &[("label", "ci <robot>"), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(answer.status(), StatusCode::CREATED);
    assert_eq!(answer.headers()["cache-control"], "no-store");
    let html = answer.text().await.expect("body");
    let marker = r#"id="new-key-value">"#;
    let start = html.find(marker).expect("value shown") + marker.len();
    let value = &html[start..start + html[start..].find('<').expect("end")];
    assert!(value.starts_with("sk-") && value.len() > 20, "{value}");

    assert_eq!(
        running.read_agent_with(value, "helper").await,
        StatusCode::OK
    );
    let (status, reloaded) = get(&client, &running, &keys_path()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!reloaded.contains(value), "the value is never shown again");
    assert!(
        reloaded.contains("ci &lt;robot&gt;"),
        "label listed, escaped"
    );
    let hint = &value[value.len() - 4..];
    assert!(reloaded.contains(&format!("…{hint}")), "hint listed");

    let (_, log) = get(&client, &running, "/dashboard/requests").await;
    assert!(!log.contains(value), "the log never shows a secret");
    assert!(
        log.contains("api <code>key_"),
        "principal kind and id: {log}"
    );
    assert!(log.contains(" ms<"), "latency shown");
}

#[tokio::test]
async fn revoking_an_embed_key_through_the_confirmation_makes_its_next_request_refused() {
    let running = start().await;
    let client = signed_in(&running).await;
    let (embed_key, prefix) = running.embed_key("helper", false).await;
    assert_eq!(
        running.read_agent_with(&embed_key, "helper").await,
        StatusCode::OK
    );

    let (_, keys_page) = get(&client, &running, &keys_path()).await;
    assert!(keys_page.contains(&prefix), "the embed key is listed");
    assert!(!keys_page.contains(&embed_key));
    let embed_table = keys_page
        .find(r#"id="embed-keys""#)
        .expect("embed key table");
    let link_start = embed_table
        + keys_page[embed_table..]
            .find(r#"<a href="/dashboard/projects/proj-d/keys/key_"#)
            .expect("a revoke link for the embed key");
    let href_start = link_start + r#"<a href=""#.len();
    let href = &keys_page[href_start..href_start + keys_page[href_start..].find('"').expect("end")];
    let (status, confirm) = get(&client, &running, href).await;
    assert_eq!(status, StatusCode::OK);
    assert!(confirm.contains(r#"id="confirm-revoke""#), "{confirm}");
    assert!(confirm.contains("embed key"), "{confirm}");
    let answer = post_form(&client, &running, href, &[("csrf", &csrf_of(&confirm))]).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let location = answer.headers()[LOCATION]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(
        location.starts_with(&format!("{}?revoked=key_", keys_path())),
        "{location}"
    );

    assert_eq!(
        running.read_agent_with(&embed_key, "helper").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        running.read_agent_with(API_KEY, "helper").await,
        StatusCode::OK
    );
    let (_, after) = get(&client, &running, &location).await;
    assert!(after.contains(r#"id="revoked-notice""#));
    assert!(after.contains(">revoked<"), "{after}");
}

#[tokio::test]
async fn embed_keys_filter_by_agent_workforce_and_status() {
    let running = start().await;
    let client = signed_in(&running).await;
    let (_, agent_prefix) = running.embed_key("helper", false).await;
    let (_, workforce_prefix) = running.embed_key("wf", true).await;
    let cases = [
        ("", true, true),
        ("?agent=helper", true, false),
        ("?workforce=wf", false, true),
        ("?status=active", true, true),
        ("?status=revoked", false, false),
        ("?agent=xss-agent", false, false),
    ];
    for (query, shows_agent_key, shows_workforce_key) in cases {
        let (status, html) = get(&client, &running, &format!("{}{query}", keys_path())).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        assert_eq!(html.contains(&agent_prefix), shows_agent_key, "{query}");
        assert_eq!(
            html.contains(&workforce_prefix),
            shows_workforce_key,
            "{query}"
        );
    }
    let (status, _) = get(&client, &running, &format!("{}?status=bogus", keys_path())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_visibility_switch_decides_who_gets_embed_keys() {
    let running = start().await;
    let client = signed_in(&running).await;
    let page = format!("/dashboard/projects/{PROJECT}/agents/helper");
    let (_, html) = get(&client, &running, &page).await;
    let answer = post_form(
        &client,
        &running,
        &format!("{page}/visibility"),
        &[("public", "false"), ("csrf", &csrf_of(&html))],
    )
    .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let refused = reqwest::Client::new()
        .post(running.url(&format!("/{}/latest/agents/get_embed_key", support::US)))
        .body(format!(r#"{{"agent_id":"helper","project":"{PROJECT}"}}"#))
        .send()
        .await
        .expect("sent");
    assert_eq!(refused.status(), StatusCode::NOT_FOUND, "a private agent");
    let (_, html) = get(&client, &running, &page).await;
    assert!(html.contains(">private<"), "{html}");
}

#[tokio::test]
async fn unknown_objects_are_html_404s_and_keys_stay_in_their_project() {
    let running = start().await;
    let client = signed_in(&running).await;
    let other_key = reqwest::Client::new()
        .get(running.url("/admin/projects/proj-other/keys"))
        .bearer_auth(running.emulator.admin_token())
        .send()
        .await
        .expect("sent")
        .json::<serde_json::Value>()
        .await
        .expect("JSON")["keys"][0]["id"]
        .as_str()
        .expect("a key of proj-other")
        .to_string();
    let pages = [
        "/dashboard/projects/nope".to_string(),
        "/dashboard/projects/nope/keys".to_string(),
        format!("/dashboard/projects/{PROJECT}/agents/nope"),
        format!("/dashboard/projects/{PROJECT}/workforces/nope"),
        format!("/dashboard/projects/{PROJECT}/tasks/nope"),
        format!("{}/{other_key}/revoke", keys_path()),
    ];
    for page in &pages {
        let answer = client.get(running.url(page)).send().await.expect("sent");
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{page}");
        assert!(answer.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html"));
    }
}

#[tokio::test]
async fn a_workforce_page_lists_its_tasks_and_a_task_shows_the_member_runs() {
    let running = start().await;
    let client = signed_in(&running).await;
    let body = serde_json::json!({"workforce_id": "wf", "trigger": {"use_streaming": true,
        "message": {"role": "user", "content": "<b>desk</b> question", "attachments": []}}});
    let answer: serde_json::Value = reqwest::Client::new()
        .post(running.url("/bcbe5a/latest/workforce/trigger"))
        .header("Authorization", format!("{PROJECT}:{API_KEY}"))
        .body(body.to_string())
        .send()
        .await
        .expect("trigger sent")
        .json()
        .await
        .expect("JSON answer");
    let task = answer["workforce_task_id"]
        .as_str()
        .expect("task id")
        .to_owned();

    let (status, page) = get(
        &client,
        &running,
        &format!("/dashboard/projects/{PROJECT}/workforces/wf"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&task), "the task is listed: {page}");
    assert!(
        page.contains("&lt;b&gt;desk&lt;/b&gt; question") && !page.contains("<b>desk"),
        "titles are escaped"
    );

    // The member's reply arrives in its own time; the page shows the run as soon as it exists.
    let path = format!("/dashboard/projects/{PROJECT}/workforces/wf/tasks/{task}");
    let mut shown = String::new();
    for _ in 0..400 {
        let (status, html) = get(&client, &running, &path).await;
        assert_eq!(status, StatusCode::OK);
        shown = html;
        if shown.contains("You said:") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let user = shown.find("question").expect("the user message");
    let reply = shown
        .find("You said:")
        .expect("the member's reply, merged in");
    assert!(user < reply, "messages in order");
    assert!(
        shown.to_lowercase().contains("helper"),
        "the member agent is named: {shown}"
    );

    // A task of this workforce is not reachable under another workforce or as an agent task.
    let (status, _) = get(
        &client,
        &running,
        &format!("/dashboard/projects/{PROJECT}/workforces/other/tasks/{task}"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_new_keys_label_is_trimmed_and_one_too_long_is_refused_creating_nothing() {
    let running = start().await;
    let client = signed_in(&running).await;
    let (_, keys_page) = get(&client, &running, &keys_path()).await;
    let csrf = csrf_of(&keys_page);
    let long = "x".repeat(201);
    let longest = "y".repeat(200);
    // (label sent, status, label the admin API then lists: None = no key created)
    let cases: [(&str, StatusCode, Option<Option<&str>>); 4] = [
        (&long, StatusCode::BAD_REQUEST, None),
        (&longest, StatusCode::CREATED, Some(Some(&longest))),
        ("  padded  ", StatusCode::CREATED, Some(Some("padded"))),
        ("   ", StatusCode::CREATED, Some(None)),
    ];
    for (label, status, listed) in cases {
        let before = running.admin_keys().await.len();
        let answer = post_form(
            &client,
            &running,
            &keys_path(),
            &[("label", label), ("csrf", &csrf)],
        )
        .await;
        assert_eq!(answer.status(), status, "{label:?}");
        let html = answer.text().await.expect("body");
        let keys = running.admin_keys().await;
        match listed {
            None => {
                assert!(html.contains("longer than 200 characters"), "{html}");
                assert_eq!(keys.len(), before, "nothing created for {label:?}");
            }
            Some(expected) => {
                assert_eq!(keys.len(), before + 1, "one key for {label:?}");
                let marker = r#"id="new-key-id">"#;
                let start = html.find(marker).expect("id shown") + marker.len();
                let id = &html[start..start + html[start..].find('<').expect("end")];
                let (_, list) = get(&client, &running, &keys_path()).await;
                let row_at = list
                    .find(&format!(r#"data-key-id="{id}""#))
                    .expect("the new key is listed");
                let row = &list[row_at..row_at + list[row_at..].find("</tr>").expect("row end")];
                match expected {
                    Some(text) => assert!(row.contains(&format!("<td>{text}</td>")), "{row}"),
                    None => assert!(row.contains(r#"<span class="muted">—</span>"#), "{row}"),
                }
            }
        }
    }
}

/// `proj-d` as the approval and tool tests need it: `mailer` asks before sending an e-mail,
/// `echo` just answers, and the tool `weather` has a markup title and a params schema.
const ACTION_SEED: &str = r#"
[[projects]]
id = "proj-d"
region = "us"
api_keys = ["sk-dash-0001"]

[[projects.tools]]
id = "weather"
title = "<script>alert(3)</script> Weather"
description = "The forecast <b>for</b> a city"
public = true
params_schema = { type = "object", properties = { city = { type = "string" }, days = { type = "integer", minimum = 1 } }, required = ["city"] }
output = { forecast = "sunny in {city}" }

[[projects.tools]]
id = "slow-tool"
params_schema = { type = "object", properties = {} }
output = { slow = "done" }
delay_ms = 30000

[[projects.agents]]
id = "mailer"
public = true
behavior = "script"
script = [
  { reply = "drafted {message}", delay_ms = 1 },
  { tool = "send_email", requires_confirmation = true, action = "mail-action", input = { to = "team@example.com", subject = "{message}" }, delay_ms = 1 },
  { reply = "after the e-mail", delay_ms = 1 },
]

[[projects.agents]]
id = "echo"
public = true
chunk_delay_ms = 1

[[projects.agents.webhooks]]
id = "echo-hook-0001"
name = "Forms"
message_template = "<b>{{name}}</b> wrote"
unique_id_field = "id"

[[projects]]
id = "proj-other"
region = "eu"
api_keys = ["sk-other-0001"]
"#;

async fn start_actions() -> Running {
    Running {
        emulator: relevance_testkit::emulator::start(relevance_testkit::emulator::seeded(
            ACTION_SEED,
        ))
        .await,
    }
}

/// An API-key request to `/{US}/latest/{tail}` (GET without a body, POST with one).
async fn api(
    running: &Running,
    tail: &str,
    body: Option<serde_json::Value>,
) -> (StatusCode, serde_json::Value) {
    let url = running.url(&format!("/{}/latest/{tail}", support::US));
    let http = reqwest::Client::new();
    let request = match body {
        Some(body) => http.post(url).body(body.to_string()),
        None => http.get(url),
    };
    let answer = request
        .header("Authorization", format!("{PROJECT}:{API_KEY}"))
        .send()
        .await
        .expect("API request sent");
    let status = answer.status();
    (
        status,
        answer.json().await.unwrap_or(serde_json::Value::Null),
    )
}

/// Polls (bounded) until the task's run no longer goes on; answers its state and its
/// messages' contents, oldest first.
async fn settled(running: &Running, agent: &str, task: &str) -> (String, Vec<serde_json::Value>) {
    for _ in 0..1000 {
        let (status, meta) = api(
            running,
            &format!("agents/{agent}/tasks/{task}/metadata"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{meta}");
        let state = meta["metadata"]["conversation"]["state"]
            .as_str()
            .expect("state")
            .to_string();
        let going_on = [
            "starting-up",
            "running",
            "queued-for-approval",
            "queued-for-rerun",
            "waiting-for-capacity",
        ];
        if !going_on.contains(&state.as_str()) {
            let (status, view) = api(
                running,
                &format!("agents/{agent}/tasks/{task}/view"),
                Some(serde_json::json!({})),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{view}");
            let mut contents: Vec<_> = view["results"]
                .as_array()
                .expect("results")
                .iter()
                .map(|message| message["content"].clone())
                .collect();
            contents.reverse();
            return (state, contents);
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("task {task} of {agent} never settled");
}

fn tool_runs(contents: &[serde_json::Value]) -> Vec<&serde_json::Value> {
    contents
        .iter()
        .filter(|content| content["type"] == "tool-run")
        .collect()
}

fn texts(contents: &[serde_json::Value]) -> Vec<&str> {
    contents
        .iter()
        .filter_map(|content| content["text"].as_str())
        .collect()
}

/// A `mailer` task whose `send_email` waits: (task id, its action_request_id).
async fn waiting_task(running: &Running) -> (String, String) {
    let task = running.trigger("mailer", "launch").await;
    let (state, contents) = settled(running, "mailer", &task).await;
    assert_eq!(state, "pending-approval");
    let runs = tool_runs(&contents);
    assert_eq!(runs.len(), 1, "{contents:?}");
    assert_eq!(runs[0]["tool_run_state"], "pending");
    let request_id = runs[0]["action_details"]["action_request_id"]
        .as_str()
        .expect("request id")
        .to_string();
    (task, request_id)
}

fn task_page(task: &str) -> String {
    format!("/dashboard/projects/{PROJECT}/tasks/{task}")
}

#[tokio::test]
async fn approving_from_the_task_page_runs_the_tool_and_a_stale_decision_changes_nothing() {
    let running = start_actions().await;
    let client = signed_in(&running).await;
    let (task, request_id) = waiting_task(&running).await;
    let (status, page) = get(&client, &running, &task_page(&task)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"id="pending-approval""#), "{page}");
    for verb in ["approve", "reject"] {
        assert!(
            page.contains(&format!(r#"action="{}/{verb}""#, task_page(&task))),
            "{verb}: {page}"
        );
    }
    assert!(page.contains(&format!(r#"name="action_request_id" value="{request_id}""#)));
    let csrf = csrf_of(&page);
    let fields = [("action_request_id", request_id.as_str()), ("csrf", &csrf)];
    let answer = post_form(
        &client,
        &running,
        &format!("{}/approve", task_page(&task)),
        &fields,
    )
    .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(answer.headers()[LOCATION], task_page(&task).as_str());

    let (state, contents) = settled(&running, "mailer", &task).await;
    assert_eq!(state, "idle", "the agent went on: {contents:?}");
    let runs = tool_runs(&contents);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["tool_run_state"], "finished", "{contents:?}");
    assert_eq!(
        texts(&contents),
        ["launch", "drafted launch", "after the e-mail"]
    );
    let (_, page) = get(&client, &running, &task_page(&task)).await;
    assert!(
        !page.contains(r#"id="pending-approval""#),
        "decided: {page}"
    );

    // The same decision again: nothing waits for it any more.
    for verb in ["approve", "reject"] {
        let answer = post_form(
            &client,
            &running,
            &format!("{}/{verb}", task_page(&task)),
            &fields,
        )
        .await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{verb}");
        let html = answer.text().await.expect("body");
        assert!(
            html.contains("no tool run of this task waits for a decision"),
            "{html}"
        );
        assert!(html.contains("nothing was changed"), "{html}");
    }
    assert_eq!(settled(&running, "mailer", &task).await, (state, contents));
}

#[tokio::test]
async fn rejecting_from_the_task_page_cancels_the_run_and_the_agent_goes_on() {
    let running = start_actions().await;
    let client = signed_in(&running).await;
    let (task, request_id) = waiting_task(&running).await;
    let (_, page) = get(&client, &running, &task_page(&task)).await;
    let fields = [
        ("action_request_id", request_id.as_str()),
        ("csrf", &csrf_of(&page)),
    ];
    let answer = post_form(
        &client,
        &running,
        &format!("{}/reject", task_page(&task)),
        &fields,
    )
    .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let (state, contents) = settled(&running, "mailer", &task).await;
    assert_eq!(state, "idle");
    assert_eq!(
        tool_runs(&contents)[0]["tool_run_state"],
        "cancelled",
        "{contents:?}"
    );
    assert_eq!(
        texts(&contents),
        ["launch", "drafted launch", "after the e-mail"]
    );
    let (_, page) = get(&client, &running, &task_page(&task)).await;
    assert!(
        page.contains(">cancelled<") && !page.contains(r#"id="pending-approval""#),
        "{page}"
    );
}

#[tokio::test]
async fn decisions_deletes_and_runs_without_the_csrf_token_are_refused_and_change_nothing() {
    let running = start_actions().await;
    let client = signed_in(&running).await;
    let (task, request_id) = waiting_task(&running).await;
    let before = settled(&running, "mailer", &task).await;
    let tool = format!("/dashboard/projects/{PROJECT}/tools/weather");
    let bad_tokens: [Option<&str>; 2] = [None, Some("not-the-token")];
    for token in bad_tokens {
        let forms = [
            (
                format!("{}/approve", task_page(&task)),
                vec![("action_request_id", request_id.as_str())],
            ),
            (
                format!("{}/reject", task_page(&task)),
                vec![("action_request_id", request_id.as_str())],
            ),
            (format!("{}/delete", task_page(&task)), vec![]),
            (tool.clone(), vec![("params", r#"{"city": "Oslo"}"#)]),
        ];
        for (path, mut fields) in forms {
            if let Some(token) = token {
                fields.push(("csrf", token));
            }
            let answer = post_form(&client, &running, &path, &fields).await;
            assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{path} {token:?}");
            let html = answer.text().await.expect("body");
            assert!(html.contains("nothing was changed"), "{html}");
            assert!(!html.contains("sunny in Oslo"), "nothing was run: {html}");
        }
    }
    assert_eq!(
        settled(&running, "mailer", &task).await,
        before,
        "still waiting, unchanged"
    );
}

#[tokio::test]
async fn deleting_a_task_through_the_confirmation_makes_it_404_on_the_api() {
    let running = start_actions().await;
    let client = signed_in(&running).await;
    let task = running.trigger("echo", "remove me").await;
    running.wait_for_reply("echo", &task).await;
    let kept = running.trigger("echo", "keep me").await;
    let (_, page) = get(&client, &running, &task_page(&task)).await;
    let confirm_path = format!("{}/delete", task_page(&task));
    assert!(
        page.contains(&format!(r#"href="{confirm_path}""#)),
        "{page}"
    );
    let (status, confirm) = get(&client, &running, &confirm_path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(confirm.contains(r#"id="confirm-delete""#), "{confirm}");
    let (status, _) = api(
        &running,
        &format!("agents/echo/tasks/{task}/metadata"),
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the confirmation page deletes nothing"
    );

    let answer = post_form(
        &client,
        &running,
        &confirm_path,
        &[("csrf", &csrf_of(&confirm))],
    )
    .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let agent_page = format!("/dashboard/projects/{PROJECT}/agents/echo");
    assert_eq!(answer.headers()[LOCATION], agent_page.as_str());
    for tail in [
        format!("agents/echo/tasks/{task}/metadata"),
        format!("knowledge/sets/{task}/get_metadata"),
    ] {
        let (status, body) = api(&running, &tail, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{tail}: {body}");
    }
    let (status, _) = api(
        &running,
        &format!("agents/echo/tasks/{task}/view"),
        Some(serde_json::json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(&client, &running, &task_page(&task)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, listed) = get(&client, &running, &agent_page).await;
    assert!(
        !listed.contains(&task) && listed.contains(&kept),
        "{listed}"
    );
    let answer = post_form(
        &client,
        &running,
        &confirm_path,
        &[("csrf", &csrf_of(&listed))],
    )
    .await;
    assert_eq!(
        answer.status(),
        StatusCode::NOT_FOUND,
        "a second delete finds nothing"
    );
}

/// `text` as maud escapes it in HTML text.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[tokio::test]
async fn the_tools_page_lists_tools_escaped_and_a_run_shows_what_trigger_limited_answers() {
    let running = start_actions().await;
    let client = signed_in(&running).await;
    let (status, list) = get(&client, &running, "/dashboard/tools").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        list.contains(r#"<a href="/dashboard/tools">Tools</a>"#),
        "in the navigation: {list}"
    );
    let tool = format!("/dashboard/projects/{PROJECT}/tools/weather");
    assert!(list.contains(&format!(r#"href="{tool}""#)), "{list}");
    assert!(list.contains(r#"data-tool-id="weather""#) && list.contains("proj-other"));
    for page in [&list, &get(&client, &running, &tool).await.1] {
        assert!(
            !page.contains("<script") && !page.contains("<b>for"),
            "{page}"
        );
        assert!(
            page.contains("&lt;script&gt;alert(3)&lt;/script&gt; Weather"),
            "{page}"
        );
        assert!(
            page.contains("The forecast &lt;b&gt;for&lt;/b&gt; a city"),
            "{page}"
        );
        assert!(
            page.contains("&quot;required&quot;"),
            "params_schema shown: {page}"
        );
    }
    let csrf = csrf_of(&list);
    // (params typed, status, what trigger_limited answers for them: None = not JSON)
    let cases = [
        (
            r#"{"city": "Oslo", "days": 2}"#,
            StatusCode::OK,
            Some(serde_json::json!({"city": "Oslo", "days": 2})),
        ),
        (
            r#"{"days": 0}"#,
            StatusCode::OK,
            Some(serde_json::json!({"days": 0})),
        ),
        ("", StatusCode::OK, Some(serde_json::json!({}))),
        (r#"{"city": <x>"#, StatusCode::BAD_REQUEST, None),
    ];
    for (typed, status, params) in cases {
        let answer = post_form(
            &client,
            &running,
            &tool,
            &[("params", typed), ("csrf", &csrf)],
        )
        .await;
        assert_eq!(answer.status(), status, "{typed}");
        let html = answer.text().await.expect("body");
        assert!(!html.contains("<x>"), "{html}");
        let Some(params) = params else {
            assert!(html.contains(r#"id="params-error""#), "{html}");
            assert!(html.contains("the params are not valid JSON"), "{html}");
            assert!(
                !html.contains(r#"id="run-result""#),
                "nothing was run: {html}"
            );
            assert!(
                html.contains(&escaped(typed)),
                "what was typed is kept: {html}"
            );
            continue;
        };
        let (api_status, expected) = api(
            &running,
            "studios/weather/trigger_limited",
            Some(serde_json::json!({"params": params, "project": PROJECT})),
        )
        .await;
        assert_eq!(api_status, StatusCode::OK);
        let want_status = expected["status"].as_str().expect("status");
        assert!(
            html.contains(&format!(">{want_status}</span>")),
            "{typed}: {html}"
        );
        assert!(html.contains(" ms"), "execution time shown");
        let output = serde_json::to_string_pretty(&expected["output"]).expect("JSON");
        assert!(
            html.contains(&escaped(&output)),
            "{typed}: {output} in {html}"
        );
        let errors = expected["errors"].as_array().expect("errors");
        assert_eq!(
            html.matches("<li>").count(),
            errors.len(),
            "{typed}: {html}"
        );
        for error in errors {
            let body = error["body"].as_str().expect("error body");
            assert!(
                html.contains(&format!("<li>{}</li>", escaped(body))),
                "{body}: {html}"
            );
        }
        match typed {
            "" => assert_eq!(want_status, "failed", "city is required"),
            r#"{"days": 0}"# => {
                assert_eq!(errors.len(), 2, "city missing, days below 1: {errors:?}")
            }
            _ => {
                assert_eq!(want_status, "complete");
                assert!(html.contains("sunny in Oslo"), "{html}");
            }
        }
    }
    let (status, _) = get(
        &client,
        &running,
        &format!("/dashboard/projects/{PROJECT}/tools/nope"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(
        &client,
        &running,
        "/dashboard/projects/proj-other/tools/weather",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "tools stay in their project");
}

#[tokio::test]
async fn a_tools_page_lists_its_recent_jobs_and_cancels_a_running_one() {
    let running = start_actions().await;
    let client = signed_in(&running).await;
    let page = format!("/dashboard/projects/{PROJECT}/tools/slow-tool");
    let (_, empty) = get(&client, &running, &page).await;
    assert!(empty.contains(r#"id="no-jobs""#), "{empty}");
    let (status, started) = api(
        &running,
        "studios/slow-tool/trigger_async",
        Some(serde_json::json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let job = started["job_id"].as_str().expect("job id").to_string();
    let (_, html) = get(&client, &running, &page).await;
    assert!(html.contains(&job) && html.contains(">running<"), "{html}");
    let cancel = format!("{page}/jobs/{job}/cancel");
    assert!(html.contains(&format!(r#"action="{cancel}""#)), "{html}");
    // Without this session's token: refused, nothing changed.
    let refused = post_form(&client, &running, &cancel, &[("csrf", "not-the-token")]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let answer = post_form(&client, &running, &cancel, &[("csrf", &csrf_of(&html))]).await;
    assert!(answer.status().is_redirection(), "{}", answer.status());
    let (_, after) = get(&client, &running, &page).await;
    assert!(
        after.contains(">cancelled<") && !after.contains(r#"id="cancel-job""#),
        "{after}"
    );
    let (_, polled) = api(
        &running,
        &format!("studios/slow-tool/async_poll/{job}"),
        None,
    )
    .await;
    assert_eq!(polled["type"], "failed", "{polled}");
}

#[tokio::test]
async fn an_agents_page_shows_its_webhook_urls_and_templates_escaped() {
    let running = start_actions().await;
    let client = signed_in(&running).await;
    let (status, page) = get(&client, &running, "/dashboard/projects/proj-d/agents/echo").await;
    assert_eq!(status, StatusCode::OK);
    let url = running.url(&format!(
        "/{}/latest/agents/hooks/custom-trigger/proj-d/echo-hook-0001",
        support::US
    ));
    assert!(page.contains(&url), "{page}");
    assert!(page.contains("&lt;b&gt;{{name}}&lt;/b&gt; wrote"), "{page}");
    assert!(!page.contains("<b>{{name}}"), "{page}");
    let (_, other) = get(
        &client,
        &running,
        "/dashboard/projects/proj-d/agents/mailer",
    )
    .await;
    assert!(
        other.contains("Webhook triggers") && other.contains("None."),
        "{other}"
    );

    // The request log shows a webhook call without its trigger id.
    let http = reqwest::Client::new();
    let sent = http
        .post(&url)
        .body(r#"{"name": "Ada", "id": 1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), StatusCode::OK);
    let (_, log) = get(&client, &running, "/dashboard/requests").await;
    assert!(log.contains("custom-trigger/proj-d/(redacted)"), "{log}");
    assert!(!log.contains("echo-hook-0001"), "{log}");
}
