//! Webhooks: an agent's webhook URL (templating, thread and unique id mappings, bad
//! payloads, unknown trigger ids, the job it answers, the rate limit, the request log, a
//! made-up id across a restart) and a tool's `trigger_webhook` form (good and bad params,
//! with and without a key).

use relevance_emulator::{Config, SeedSource, Storage};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

const SEED: &str = r#"
[[projects]]
id = "proj-w"
region = "us"
api_keys = ["sk-test-hooks-0001"]

[[projects.tools]]
id = "public-lookup"
public = true
params_schema = { type = "object", properties = { sku = { type = "string" }, qty = { type = "integer" } }, required = ["sku"] }
output = { found = "{sku}" }

[[projects.tools]]
id = "private-lookup"
params_schema = { type = "object", properties = { sku = { type = "string" } }, required = ["sku"] }
output = { found = "{sku}" }

[[projects.agents]]
id = "orders"
name = "Orders"

[[projects.agents.webhooks]]
id = "wh-orders-0001"
name = "Shop orders"
message_template = "New order {{order.id}} from {{customer.name}}"
thread_id_field = "order.id"
unique_id_field = "event_id"

[[projects.agents.webhooks]]
id = "wh-raw-0001"
message_template = "Event: {{$}}"

[[projects.agents.webhooks]]
message_template = "{{text}}"

[[projects]]
id = "proj-eu"
region = "eu"
api_keys = ["sk-test-hooks-eu-01"]

[[projects.agents]]
id = "eu-agent"

[[projects.agents.webhooks]]
id = "wh-eu-0001"
message_template = "hi {{x}}"
"#;
const KEY: &str = "proj-w:sk-test-hooks-0001";

fn config() -> Config {
    Config {
        seed: Some(SeedSource::Text(SEED.to_string())),
        job_poll_wait_ms: 400,
        ..Config::default()
    }
}

async fn running_with(config: Config) -> Running {
    Running {
        emulator: start(config).await,
        http: reqwest::Client::new(),
        seed_dir: tempfile::TempDir::new().expect("tempdir"),
    }
}

fn hook(project: &str, trigger: &str) -> String {
    format!("/{US}/latest/agents/hooks/custom-trigger/{project}/{trigger}")
}

impl Running {
    async fn send_event(&self, trigger: &str, payload: Value) -> Answer {
        self.post(&hook("proj-w", trigger), None, &payload.to_string())
            .await
    }

    /// The text of the user messages of `task`, oldest first.
    async fn user_texts(&self, task: &str) -> Vec<String> {
        self.messages(KEY, "orders", task)
            .await
            .iter()
            .filter(|message| message["content"]["type"] == "user-message")
            .map(|message| message["content"]["text"].as_str().unwrap().to_string())
            .collect()
    }
}

#[tokio::test]
async fn templates_render_plain_nested_whole_and_missing_fields() {
    let running = running_with(config()).await;
    let payload = json!({"order": {"id": 17}, "customer": {"name": "Ada"}, "event_id": "e-1"});
    let cases: Vec<(&str, Value, String, Vec<&str>)> = vec![
        (
            "wh-orders-0001",
            payload.clone(),
            "New order 17 from Ada".to_string(),
            vec![],
        ),
        (
            "wh-orders-0001",
            json!({"order": {"id": 18}, "event_id": "e-2"}),
            "New order 18 from ".to_string(),
            vec!["customer.name"],
        ),
        (
            "wh-raw-0001",
            json!({"b": [1, 2], "a": "x"}),
            format!("Event: {}", json!({"b": [1, 2], "a": "x"})),
            vec![],
        ),
    ];
    for (trigger, payload, text, missing) in cases {
        let answer = running.send_event(trigger, payload).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        assert_eq!(answer.body["duplicate"], false);
        assert_eq!(
            answer.body["missing_fields"],
            json!(missing),
            "{}",
            answer.text
        );
        let task = answer.body["conversation_id"].as_str().unwrap();
        assert_eq!(answer.body["job_info"]["conversation_id"], task);
        assert_eq!(answer.body["agent_id"], "orders");
        assert_eq!(running.user_texts(task).await, vec![text]);
    }
}

#[tokio::test]
async fn the_same_thread_id_continues_one_conversation_and_another_starts_a_new_one() {
    let running = running_with(config()).await;
    let event = |order: i64, event: &str| json!({"order": {"id": order}, "customer": {"name": "Bo"}, "event_id": event});
    let first = running.send_event("wh-orders-0001", event(7, "a")).await;
    let second = running.send_event("wh-orders-0001", event(7, "b")).await;
    let third = running.send_event("wh-orders-0001", event(8, "c")).await;
    for answer in [&first, &second, &third] {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    }
    assert_eq!(first.body["thread_id"], "7");
    let task = first.body["conversation_id"].as_str().unwrap();
    assert_eq!(second.body["conversation_id"], task);
    assert_ne!(third.body["conversation_id"], task);
    running.settle(KEY, "orders", task).await;
    assert_eq!(
        running.user_texts(task).await,
        vec!["New order 7 from Bo", "New order 7 from Bo"]
    );
    let other = third.body["conversation_id"].as_str().unwrap();
    assert_eq!(running.user_texts(other).await, vec!["New order 8 from Bo"]);
}

#[tokio::test]
async fn a_repeated_unique_id_is_answered_and_writes_nothing() {
    let running = running_with(config()).await;
    let payload = json!({"order": {"id": 9}, "customer": {"name": "Cy"}, "event_id": "evt-42"});
    let first = running.send_event("wh-orders-0001", payload.clone()).await;
    let task = first.body["conversation_id"].as_str().unwrap().to_string();
    running.settle(KEY, "orders", &task).await;
    let before = running.messages(KEY, "orders", &task).await.len();

    let again = running.send_event("wh-orders-0001", payload).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.body["duplicate"], true);
    assert_eq!(again.body["conversation_id"], task.as_str());
    assert_eq!(again.body["unique_id"], "evt-42");
    assert!(again.body.get("job_info").is_none(), "{}", again.text);
    assert_eq!(running.messages(KEY, "orders", &task).await.len(), before);
}

#[tokio::test]
async fn bad_payloads_get_clear_errors() {
    let mut small = config();
    small.body_limit_bytes = 2048;
    let running = running_with(small).await;
    let url = hook("proj-w", "wh-raw-0001");
    let big = json!({"blob": "x".repeat(4096)}).to_string();
    let cases: Vec<(String, StatusCode, &str)> = vec![
        (
            "{not json".to_string(),
            StatusCode::BAD_REQUEST,
            "not valid JSON",
        ),
        (String::new(), StatusCode::BAD_REQUEST, "payload is empty"),
        (big, StatusCode::PAYLOAD_TOO_LARGE, "2048 bytes"),
    ];
    for (body, status, needle) in cases {
        let answer = running.post(&url, None, &body).await;
        assert_eq!(answer.status, status, "{}", answer.text);
        let message = answer.body["message"].as_str().unwrap();
        assert!(message.contains(needle), "{message}");
    }
    // A template that renders nothing says which fields the payload lacked.
    let empty = running.post(&hook("proj-w", "made-up"), None, "{}").await;
    assert_eq!(empty.status, StatusCode::NOT_FOUND);
    let generated = generated_url(&running).await;
    let answer = running
        .post(&generated, None, &json!({"other": 1}).to_string())
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
    assert!(answer.body["message"].as_str().unwrap().contains("`text`"));
}

#[tokio::test]
async fn an_unknown_trigger_is_the_same_404_whatever_the_project_or_region() {
    let running = running_with(config()).await;
    let paths = [
        hook("proj-w", "wh-nope-0001"),
        hook("proj-eu", "wh-orders-0001"),
        hook("proj-nope", "wh-orders-0001"),
        // A real webhook of an EU project, asked in the US region.
        hook("proj-eu", "wh-eu-0001"),
    ];
    let mut bodies = Vec::new();
    for path in &paths {
        let answer = running.post(path, None, r#"{"x": 1}"#).await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            answer.text
        );
        bodies.push(answer.body);
    }
    assert!(
        bodies.windows(2).all(|pair| pair[0] == pair[1]),
        "{bodies:?}"
    );
    let eu = running
        .post(
            &format!("/{EU}/latest/agents/hooks/custom-trigger/proj-eu/wh-eu-0001"),
            None,
            r#"{"x": 1}"#,
        )
        .await;
    assert_eq!(eu.status, StatusCode::OK, "{}", eu.text);
}

#[tokio::test]
async fn the_answers_job_ends_with_the_agents_reply() {
    let running = running_with(config()).await;
    let answer = running.send_event("wh-raw-0001", json!({"n": 1})).await;
    let job = answer.body["job_info"]["job_id"].as_str().unwrap();
    let studio = answer.body["job_info"]["studio_id"].as_str().unwrap();
    for _ in 0..50 {
        let poll = running
            .get_query(
                &format!("/{US}/latest/studios/{studio}/async_poll/{job}"),
                Some(KEY),
                &[("ending_update_only", "true")],
            )
            .await;
        assert_eq!(poll.status, StatusCode::OK, "{}", poll.text);
        if poll.body["type"] == "complete" {
            let reply = &poll.body["updates"][0]["output"]["output"]["answer"];
            assert!(reply.as_str().unwrap().contains("Event: "), "{}", poll.text);
            return;
        }
    }
    panic!("the webhook's job never ended");
}

/// The third webhook of `orders` has no id in the seed: its URL, from the listing route.
async fn generated_url(running: &Running) -> String {
    let listing = running
        .get(
            &format!("/{US}/latest/emulator/agents/orders/webhooks"),
            Some(KEY),
        )
        .await;
    assert_eq!(listing.status, StatusCode::OK, "{}", listing.text);
    let url = listing.body["webhooks"][2]["url"].as_str().unwrap();
    let base = running.emulator.base_url().to_string();
    url.strip_prefix(base.trim_end_matches('/'))
        .unwrap_or_else(|| panic!("{url} is not under {base}"))
        .to_string()
}

#[tokio::test]
async fn the_listing_names_each_webhook_and_a_made_up_id_survives_a_restart() {
    let data = tempfile::TempDir::new().unwrap();
    let persistent = || Config {
        storage: Storage::Directory(data.path().to_path_buf()),
        ..config()
    };
    let first = running_with(persistent()).await;
    let listing = first
        .get(
            &format!("/{US}/latest/emulator/agents/orders/webhooks"),
            Some(KEY),
        )
        .await;
    let hooks = listing.body["webhooks"].as_array().unwrap().clone();
    assert_eq!(hooks.len(), 3, "{}", listing.text);
    assert!(hooks[0]["url"]
        .as_str()
        .unwrap()
        .ends_with(&hook("proj-w", "wh-orders-0001")));
    assert_eq!(hooks[0]["name"], "Shop orders");
    assert_eq!(hooks[0]["thread_id_field"], "order.id");
    let made_up = generated_url(&first).await;
    let trigger = made_up.rsplit('/').next().unwrap().to_string();
    assert_eq!(trigger.len(), 32, "128 random bits: {trigger}");
    // Embed keys and unknown agents get nothing.
    let missing = first
        .get(
            &format!("/{US}/latest/emulator/agents/nope/webhooks"),
            Some(KEY),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    first.emulator.shutdown().await.expect("clean shutdown");

    let second = running_with(persistent()).await;
    assert_eq!(generated_url(&second).await, made_up);
    let answer = second
        .post(&made_up, None, &json!({"text": "still here"}).to_string())
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
}

#[tokio::test]
async fn webhook_requests_are_rate_limited_and_logged_without_their_trigger_id() {
    let running = running_with(Config {
        webhook_rate_limit_per_minute: 2,
        ..config()
    })
    .await;
    let mut statuses = Vec::new();
    for n in 0..3 {
        let answer = running.send_event("wh-raw-0001", json!({"n": n})).await;
        statuses.push(answer.status.as_u16());
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(answer.headers.contains_key("retry-after"));
        }
    }
    assert_eq!(statuses, vec![200, 200, 429]);
    let log = running
        .get("/admin/requests?limit=10", Some(&running.admin()))
        .await;
    assert!(!log.text.contains("wh-raw-0001"), "{}", log.text);
    assert!(
        log.text.contains("custom-trigger/proj-w/(redacted)"),
        "{}",
        log.text
    );
}

/// Tool, `project` query, `Authorization`, body, then the status and `status` field expected.
type ToolCase<'a> = (
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    &'a str,
    StatusCode,
    Option<&'a str>,
);

fn tool_hook(tool: &str, project: Option<&str>) -> String {
    let query = project.map(|p| format!("?project={p}")).unwrap_or_default();
    format!("/{US}/latest/studios/{tool}/trigger_webhook{query}")
}

#[tokio::test]
async fn a_tools_webhook_form_takes_flat_params_with_a_key_or_for_a_public_tool_without() {
    let running = running_with(config()).await;
    // Embed keys get 403 here as on every tool route (the route × principal walk checks it);
    // a key that is no key is refused as anywhere, not taken for "no key".
    let unknown_key = "proj-w:sk-not-a-key-0000";
    let good = r#"{"sku": "A-1", "qty": 2}"#;
    let bad = r#"{"qty": "two"}"#;
    let cases: Vec<ToolCase> = vec![
        (
            "public-lookup",
            Some("proj-w"),
            Some(KEY),
            good,
            StatusCode::OK,
            Some("complete"),
        ),
        (
            "private-lookup",
            None,
            Some(KEY),
            good,
            StatusCode::OK,
            Some("complete"),
        ),
        (
            "public-lookup",
            Some("proj-w"),
            None,
            good,
            StatusCode::OK,
            Some("complete"),
        ),
        (
            "public-lookup",
            Some("proj-w"),
            Some(KEY),
            bad,
            StatusCode::OK,
            Some("failed"),
        ),
        (
            "public-lookup",
            Some("proj-w"),
            None,
            bad,
            StatusCode::OK,
            Some("failed"),
        ),
        (
            "private-lookup",
            Some("proj-w"),
            None,
            good,
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            "nope",
            Some("proj-w"),
            None,
            good,
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            "public-lookup",
            Some("proj-eu"),
            None,
            good,
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            "public-lookup",
            None,
            None,
            good,
            StatusCode::BAD_REQUEST,
            None,
        ),
        (
            "public-lookup",
            Some("proj-eu"),
            Some(KEY),
            good,
            StatusCode::BAD_REQUEST,
            None,
        ),
        (
            "public-lookup",
            Some("proj-w"),
            Some(unknown_key),
            good,
            StatusCode::BAD_REQUEST,
            None,
        ),
    ];
    for (tool, project, auth, body, status, outcome) in cases {
        let answer = running.post(&tool_hook(tool, project), auth, body).await;
        let case = format!("{tool} {project:?} key={} {body}", auth.is_some());
        assert_eq!(answer.status, status, "{case}: {}", answer.text);
        if let Some(outcome) = outcome {
            assert_eq!(answer.body["status"], outcome, "{case}: {}", answer.text);
        }
        if outcome == Some("complete") {
            assert_eq!(answer.body["output"], json!({"found": "A-1"}), "{case}");
        }
        if outcome == Some("failed") {
            let errors = answer.body["errors"].to_string();
            assert!(
                errors.contains("sku") && errors.contains("qty"),
                "{case}: {errors}"
            );
        }
    }
}
