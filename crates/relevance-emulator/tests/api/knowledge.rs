//! Knowledge (PROTOCOL A16) over loopback: add, list (both sorts, paging, filters),
//! partial update, delete one, clear, drop by name and by list; conversations found
//! through `sets/list` filters and read through `knowledge/list`; embed keys refused;
//! every limit refused with an answer that names it.

use relevance_emulator::Config;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::support::*;

fn path(tail: &str) -> String {
    format!("/{US}/latest/{tail}")
}

/// Appended to the engine seed's `proj-e`: an agent whose tool run waits for a person.
const MAILER: &str = r#"
[[projects.agents]]
id = "mailer"
behavior = "script"
script = [
  { reply = "drafted {message}", delay_ms = 1 },
  { tool = "send_email", requires_confirmation = true, action = "mail-action", input = { to = "team@example.com" }, delay_ms = 1 },
  { reply = "sent", delay_ms = 1 },
]
"#;

async fn start_knowledge(adjust: impl FnOnce(&mut Config)) -> Running {
    let mut config = seeded(&format!("{ENGINE_SEED}{MAILER}"));
    adjust(&mut config);
    Running {
        emulator: start(config).await,
        http: reqwest::Client::new(),
        seed_dir: TempDir::new().expect("tempdir"),
    }
}

impl Running {
    async fn knowledge(&self, route: &str, body: Value) -> Answer {
        self.post(&path(route), Some(KEY_E), &body.to_string())
            .await
    }

    async fn ok(&self, route: &str, body: Value) -> Value {
        let answer = self.knowledge(route, body).await;
        assert_eq!(answer.status, StatusCode::OK, "{route}: {}", answer.text);
        answer.body
    }

    async fn rows(&self, body: Value) -> Vec<Value> {
        self.ok("knowledge/list", body).await["results"]
            .as_array()
            .expect("results")
            .clone()
    }

    async fn sets(&self, body: Value) -> Vec<Value> {
        self.ok("knowledge/sets/list", body).await["results"]
            .as_array()
            .expect("results")
            .clone()
    }
}

fn ids(rows: &[Value]) -> Vec<&str> {
    rows.iter()
        .map(|row| row["document_id"].as_str().expect("document_id"))
        .collect()
}

fn documents(count: usize) -> Value {
    let data: Vec<Value> = (0..count)
        .map(|n| {
            json!({"type": "document", "document_id": format!("r{n}"),
                   "value": {"n": n, "kind": if n % 2 == 0 { "even" } else { "odd" },
                             "nested": {"tag": format!("t{}", n % 3)}}})
        })
        .collect();
    Value::Array(data)
}

#[tokio::test]
async fn rows_are_added_listed_in_both_orders_and_paged() {
    let running = start_knowledge(|_| {}).await;
    let added = running
        .ok(
            "knowledge/add",
            json!({"knowledge_set": "faq", "data": documents(5)}),
        )
        .await;
    let results = added["results"].as_array().expect("results");
    assert_eq!(results.len(), 5);
    assert_eq!(
        results[0],
        json!({"status": "success", "document_id": "r0"})
    );
    let made = running
        .ok(
            "knowledge/add",
            json!({"knowledge_set": "faq", "data": [{"type": "text", "value": "hello"}]}),
        )
        .await;
    let made_id = made["results"][0]["document_id"]
        .as_str()
        .expect("made id")
        .to_string();
    assert!(!made_id.is_empty());

    let oldest = running
        .rows(json!({"knowledge_set": "faq", "page_size": 100, "sort": [{"insert_date_": "asc"}]}))
        .await;
    assert_eq!(
        ids(&oldest),
        ["r0", "r1", "r2", "r3", "r4", made_id.as_str()]
    );
    let row = &oldest[0];
    for field in [
        "_id",
        "project",
        "knowledge_set",
        "document_id",
        "alias",
        "insert_date_",
        "update_date_",
    ] {
        assert!(row[field].is_string(), "{field}: {row}");
    }
    assert_eq!(row["project"], "proj-e");
    assert_eq!(row["data"]["nested"]["tag"], "t0");
    assert_eq!(
        (row["is_chunked"].clone(), row["is_vectorized"].clone()),
        (json!(false), json!(false))
    );
    assert_eq!(oldest[5]["data"], json!({"text": "hello"}));

    let newest = running
        .rows(json!({"knowledge_set": "faq", "page_size": 2, "page": 1, "sort": [{"insert_date_": "desc"}]}))
        .await;
    assert_eq!(ids(&newest), [made_id.as_str(), "r4"]);
    let page_two = running
        .rows(json!({"knowledge_set": "faq", "page_size": 2, "page": 2, "sort": [{"insert_date_": "desc"}]}))
        .await;
    assert_eq!(ids(&page_two), ["r3", "r2"]);
    let past_end = running
        .rows(json!({"knowledge_set": "faq", "page_size": 2, "page": 9}))
        .await;
    assert!(past_end.is_empty());

    // The same id twice in one request is one row (the last data wins); the count agrees.
    running
        .ok(
            "knowledge/add",
            json!({"knowledge_set": "faq", "data": [
                {"type": "document", "document_id": "twice", "value": {"v": 1}},
                {"type": "document", "document_id": "twice", "value": {"v": 2}}]}),
        )
        .await;
    let sets = running.sets(json!({})).await;
    assert_eq!(sets[0]["knowledge_count"], 7, "{sets:?}");
    let twice = running
        .rows(json!({"knowledge_set": "faq", "document_id": "twice"}))
        .await;
    assert_eq!(twice[0]["data"], json!({"v": 2}));
    // Adding a known id replaces that row's data and keeps its place.
    running
        .ok(
            "knowledge/add",
            json!({"knowledge_set": "faq", "data": [{"type": "document", "document_id": "r0", "value": {"n": 100}}]}),
        )
        .await;
    let again = running
        .rows(json!({"knowledge_set": "faq", "page_size": 1}))
        .await;
    assert_eq!(
        (again[0]["document_id"].clone(), again[0]["data"].clone()),
        (json!("r0"), json!({"n": 100}))
    );
}

#[tokio::test]
async fn exact_match_filters_select_rows_by_data_fields_and_document_id() {
    let running = start_knowledge(|_| {}).await;
    running
        .ok(
            "knowledge/add",
            json!({"knowledge_set": "nums", "data": documents(9)}),
        )
        .await;
    let filter = |field: &str, value: Value, condition: &str| json!([{"field": field, "filter_type": "exact_match", "condition": condition, "condition_value": value}]);
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            filter("kind", json!("odd"), "=="),
            vec!["r1", "r3", "r5", "r7"],
        ),
        (
            filter("data.kind", json!(["odd"]), "=="),
            vec!["r1", "r3", "r5", "r7"],
        ),
        (filter("n", json!([2, 4]), "=="), vec!["r2", "r4"]),
        (
            filter("nested.tag", json!("t2"), "=="),
            vec!["r2", "r5", "r8"],
        ),
        (
            filter("kind", json!("odd"), "!="),
            vec!["r0", "r2", "r4", "r6", "r8"],
        ),
        (
            filter("document_id", json!(["r6", "r0"]), "=="),
            vec!["r0", "r6"],
        ),
        (filter("missing", json!("x"), "=="), vec![]),
    ];
    for (filters, expected) in cases {
        let rows = running
            .rows(json!({"knowledge_set": "nums", "page_size": 100, "filters": filters}))
            .await;
        assert_eq!(ids(&rows), expected, "{filters}");
    }
    // Filtered and paged: the page counts only rows that pass.
    let rows = running
        .rows(json!({"knowledge_set": "nums", "page_size": 2, "page": 2,
                     "filters": filter("kind", json!("odd"), "==")}))
        .await;
    assert_eq!(ids(&rows), ["r5", "r7"]);
    let one = running
        .rows(json!({"knowledge_set": "nums", "document_id": "r3"}))
        .await;
    assert_eq!(ids(&one), ["r3"]);
    let refused = running
        .knowledge(
            "knowledge/list",
            json!({"knowledge_set": "nums", "filters": [{"field": "n", "filter_type": "regexp", "condition_value": "1"}]}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(refused.text.contains("exact_match"), "{}", refused.text);
}

#[tokio::test]
async fn bulk_update_merges_fields_and_an_unknown_id_changes_nothing() {
    let running = start_knowledge(|_| {}).await;
    running
        .ok(
            "knowledge/add",
            json!({"knowledge_set": "people", "data": [
            {"type": "document", "document_id": "ann", "value": {"name": "Ann", "age": 30}},
            {"type": "document", "document_id": "bob", "value": {"name": "Bob", "age": 40}}]}),
        )
        .await;
    let before = running.rows(json!({"knowledge_set": "people"})).await;
    assert_eq!(
        running
            .ok(
                "knowledge/bulk_update",
                json!({"knowledge_set": "people",
                "updates": [{"document_id": "ann", "data": {"age": 31, "city": "Oslo"}}]})
            )
            .await,
        json!({})
    );
    let after = running.rows(json!({"knowledge_set": "people"})).await;
    assert_eq!(
        after[0]["data"],
        json!({"name": "Ann", "age": 31, "city": "Oslo"})
    );
    assert_eq!(after[0]["insert_date_"], before[0]["insert_date_"]);
    assert_eq!(after[1]["data"], json!({"name": "Bob", "age": 40}));

    let refused = running
        .knowledge(
            "knowledge/bulk_update",
            json!({"knowledge_set": "people", "updates": [
            {"document_id": "bob", "data": {"age": 41}},
            {"document_id": "nobody", "data": {"age": 1}}]}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(refused.text.contains("updates[1]"), "{}", refused.text);
    let unchanged = running
        .rows(json!({"knowledge_set": "people", "document_id": "bob"}))
        .await;
    assert_eq!(unchanged[0]["data"]["age"], 40);
}

#[tokio::test]
async fn rows_are_deleted_one_or_all_and_sets_dropped_by_name_or_list() {
    let running = start_knowledge(|_| {}).await;
    for set in ["a", "b", "c"] {
        running
            .ok(
                "knowledge/add",
                json!({"knowledge_set": set, "data": documents(3)}),
            )
            .await;
    }
    running
        .ok(
            "knowledge/delete",
            json!({"knowledge_set": "a", "document_id": "r1"}),
        )
        .await;
    assert_eq!(
        ids(&running.rows(json!({"knowledge_set": "a"})).await),
        ["r0", "r2"]
    );
    let gone = running
        .knowledge(
            "knowledge/delete",
            json!({"knowledge_set": "a", "document_id": "r1"}),
        )
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "{}", gone.text);
    running
        .ok("knowledge/delete", json!({"knowledge_set": "a"}))
        .await;
    assert!(running.rows(json!({"knowledge_set": "a"})).await.is_empty());
    let counts: Vec<(Value, Value)> = running
        .sets(json!({"sort": [{"knowledge_set": "asc"}]}))
        .await
        .iter()
        .map(|set| (set["knowledge_set"].clone(), set["knowledge_count"].clone()))
        .collect();
    assert_eq!(
        counts,
        [
            (json!("a"), json!(0)),
            (json!("b"), json!(3)),
            (json!("c"), json!(3))
        ]
    );

    // The Python client's string form, then the list form; an unknown name refuses the lot.
    running
        .ok("knowledge/sets/delete", json!({"knowledge_set": "a"}))
        .await;
    let unknown = running
        .knowledge(
            "knowledge/sets/delete",
            json!({"knowledge_set": ["b", "nope"]}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);
    assert_eq!(running.sets(json!({})).await.len(), 2);
    running
        .ok(
            "knowledge/sets/delete",
            json!({"knowledge_set": ["b", "c", "b"]}),
        )
        .await;
    assert!(running.sets(json!({})).await.is_empty());
    let dropped = running
        .knowledge("knowledge/list", json!({"knowledge_set": "b"}))
        .await;
    assert_eq!(dropped.status, StatusCode::NOT_FOUND, "{}", dropped.text);
}

/// Triggers an agent and waits until its run stops (done, or waiting for a person).
async fn pending_task(running: &Running, agent: &str, text: &str) -> String {
    let answer = running
        .trigger(
            KEY_E,
            json!({"agent_id": agent, "message": {"role": "user", "content": text}}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let task = answer.body["conversation_id"]
        .as_str()
        .expect("task")
        .to_string();
    running.settle(KEY_E, agent, &task).await;
    task
}

#[tokio::test]
async fn conversations_are_hidden_sets_found_by_agent_and_read_as_messages() {
    let running = start_knowledge(|_| {}).await;
    running
        .ok(
            "knowledge/add",
            json!({"knowledge_set": "table", "data": documents(1)}),
        )
        .await;
    let waiting = pending_task(&running, "mailer", "send it").await;
    let echoed = pending_task(&running, "echo", "hello").await;

    let visible = running.sets(json!({})).await;
    assert_eq!(visible.len(), 1, "hidden sets stay hidden: {visible:?}");
    let conversations = |agent: &str| {
        json!({"include_hidden": true, "filters": [
            {"filter_type": "exact_match", "field": "type", "condition_value": "conversation"},
            {"filter_type": "exact_match", "field": "conversation.agent_id", "condition_value": agent}]})
    };
    let found = running.sets(conversations("mailer")).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["knowledge_set"], waiting.as_str());
    let meta = &found[0]["metadata"];
    assert_eq!(
        (meta["type"].clone(), meta["hidden"].clone()),
        (json!("conversation"), json!(true))
    );
    assert_eq!(meta["conversation"]["agent_id"], "mailer");
    assert_eq!(meta["conversation"]["state"], "pending-approval");
    let echo_sets = running.sets(conversations("echo")).await;
    assert_eq!(echo_sets[0]["knowledge_set"], echoed.as_str());
    assert_eq!(echo_sets[0]["knowledge_count"], 2);

    // The docs' read: newest first; the first row is the tool run waiting for a person.
    let rows = running
        .rows(json!({"knowledge_set": waiting, "filters": [], "sort": [{"insert_date_": "desc"}]}))
        .await;
    let request = &rows[0]["data"]["message"];
    assert_eq!(request["role"], "action-request", "{rows:?}");
    assert_eq!(request["action"], "mail-action");
    assert!(request["action_request_id"].is_string());
    assert_eq!(request["action_params"], json!({"to": "team@example.com"}));
    let oldest = running
        .rows(json!({"knowledge_set": waiting, "sort": [{"insert_date_": "asc"}]}))
        .await;
    assert_eq!(
        oldest[0]["data"]["message"],
        json!({"role": "user", "content": "send it"})
    );
    assert_eq!(oldest.last(), rows.first());

    // Approving with the two fields from the row goes on, as the docs do it.
    let decided = running
        .trigger(
            KEY_E,
            json!({"agent_id": "mailer", "conversation_id": waiting,
            "message": {"role": "action-confirm", "action": request["action"],
                        "action_request_id": request["action_request_id"]}}),
        )
        .await;
    assert_eq!(decided.status, StatusCode::OK, "{}", decided.text);
    running.settle(KEY_E, "mailer", &waiting).await;
    let after = running
        .rows(json!({"knowledge_set": waiting, "sort": [{"insert_date_": "desc"}]}))
        .await;
    assert_eq!(after[0]["data"]["message"]["role"], "agent", "{after:?}");

    // A conversation's rows are its messages: they are not written through knowledge/.
    let refused = running
        .knowledge(
            "knowledge/add",
            json!({"knowledge_set": waiting, "data": documents(1)}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    // A11's list form still deletes tasks.
    running
        .ok(
            "knowledge/sets/delete",
            json!({"knowledge_set": [waiting.clone()]}),
        )
        .await;
    let meta = running.metadata(KEY_E, "mailer", &waiting).await;
    assert_eq!(meta.status, StatusCode::NOT_FOUND, "{}", meta.text);
}

#[tokio::test]
async fn embed_keys_are_refused_and_projects_see_only_their_own_sets() {
    let running = start_knowledge(|config| {
        config.seed = Some(relevance_emulator::SeedSource::Text(format!(
            "{ENGINE_SEED}{MAILER}\n[[projects]]\nid = \"proj-f\"\nregion = \"us\"\napi_keys = [\"sk-test-f-0001\"]\n"
        )));
    })
    .await;
    running
        .ok(
            "knowledge/add",
            json!({"knowledge_set": "mine", "data": documents(1)}),
        )
        .await;
    let embed = running
        .post(
            &path("agents/get_embed_key"),
            None,
            &json!({"agent_id": "echo", "project": "proj-e"}).to_string(),
        )
        .await;
    assert_eq!(embed.status, StatusCode::OK, "{}", embed.text);
    let embed_key = format!(
        "proj-e:{}",
        embed.body["embed_key"].as_str().expect("embed key")
    );
    let other = "proj-f:sk-test-f-0001";
    let routes = [
        ("knowledge/sets/list", json!({})),
        ("knowledge/list", json!({"knowledge_set": "mine"})),
        (
            "knowledge/add",
            json!({"knowledge_set": "mine", "data": documents(1)}),
        ),
        (
            "knowledge/bulk_update",
            json!({"knowledge_set": "mine", "updates": []}),
        ),
        ("knowledge/delete", json!({"knowledge_set": "mine"})),
        ("knowledge/sets/delete", json!({"knowledge_set": "mine"})),
    ];
    for (route, body) in &routes {
        let answer = running
            .post(&path(route), Some(&embed_key), &body.to_string())
            .await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "{route}: {}",
            answer.text
        );
    }
    let listed = running
        .post(&path("knowledge/sets/list"), Some(other), "{}")
        .await;
    assert_eq!(listed.body["results"], json!([]), "{}", listed.text);
    for (route, body) in &routes[1..] {
        if *route == "knowledge/add" {
            continue;
        }
        let answer = running
            .post(&path(route), Some(other), &body.to_string())
            .await;
        assert!(
            matches!(
                answer.status,
                StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST
            ),
            "{route}: {}",
            answer.text
        );
    }
    assert_eq!(
        running.rows(json!({"knowledge_set": "mine"})).await.len(),
        1
    );
}

#[tokio::test]
async fn limits_and_bad_names_are_refused_with_answers_that_name_them() {
    let running = start_knowledge(|config| {
        config.quotas.max_knowledge_rows_per_request = 3;
        config.quotas.max_knowledge_row_bytes = 200;
        config.quotas.max_knowledge_rows_per_set = 5;
        config.quotas.max_knowledge_sets_per_project = 2;
    })
    .await;
    let big = "x".repeat(300);
    let cases: Vec<(&str, Value, StatusCode, &str)> = vec![
        (
            "knowledge/add",
            json!({"knowledge_set": "s", "data": documents(4)}),
            StatusCode::PAYLOAD_TOO_LARGE,
            "max_knowledge_rows_per_request",
        ),
        (
            "knowledge/add",
            json!({"knowledge_set": "s", "data": [{"type": "text", "value": big}]}),
            StatusCode::PAYLOAD_TOO_LARGE,
            "max_knowledge_row_bytes",
        ),
        (
            "knowledge/add",
            json!({"knowledge_set": "", "data": documents(1)}),
            StatusCode::BAD_REQUEST,
            "knowledge_set",
        ),
        (
            "knowledge/add",
            json!({"knowledge_set": " padded", "data": documents(1)}),
            StatusCode::BAD_REQUEST,
            "white space",
        ),
        (
            "knowledge/add",
            json!({"knowledge_set": "*", "data": documents(1)}),
            StatusCode::BAD_REQUEST,
            "every set",
        ),
        (
            "knowledge/add",
            json!({"knowledge_set": "s", "data": [{"type": "document", "value": [1]}]}),
            StatusCode::BAD_REQUEST,
            "must be an object",
        ),
        (
            "knowledge/add",
            json!({"knowledge_set": "s", "data": "rows"}),
            StatusCode::BAD_REQUEST,
            "`data`",
        ),
        (
            "knowledge/list",
            json!({"knowledge_set": "s", "page_size": 0}),
            StatusCode::BAD_REQUEST,
            "page_size",
        ),
        (
            "knowledge/list",
            json!({"knowledge_set": "s", "sort": [{"insert_date_": "up"}]}),
            StatusCode::BAD_REQUEST,
            "sort",
        ),
        (
            "knowledge/sets/list",
            json!({"sort": [{"rows": "asc"}]}),
            StatusCode::BAD_REQUEST,
            "sort",
        ),
        (
            "knowledge/sets/delete",
            json!({"knowledge_set": []}),
            StatusCode::BAD_REQUEST,
            "knowledge_set",
        ),
    ];
    for (route, body, status, names) in cases {
        let answer = running.knowledge(route, body.clone()).await;
        assert_eq!(answer.status, status, "{route} {body}: {}", answer.text);
        assert!(
            answer.text.contains(names),
            "{route} {body}: {}",
            answer.text
        );
    }
    running
        .ok(
            "knowledge/add",
            json!({"knowledge_set": "s", "data": documents(3)}),
        )
        .await;
    running
        .ok(
            "knowledge/add",
            json!({"knowledge_set": "s", "data": [{"type": "text", "value": "four"}, {"type": "text", "value": "five"}]}),
        )
        .await;
    let full = running
        .knowledge(
            "knowledge/add",
            json!({"knowledge_set": "s", "data": [{"type": "text", "value": "one more"}]}),
        )
        .await;
    assert_eq!(full.status, StatusCode::BAD_REQUEST, "{}", full.text);
    assert!(
        full.text.contains("max_knowledge_rows_per_set"),
        "{}",
        full.text
    );
    running
        .ok(
            "knowledge/add",
            json!({"knowledge_set": "t", "data": documents(1)}),
        )
        .await;
    let third = running
        .knowledge(
            "knowledge/add",
            json!({"knowledge_set": "u", "data": documents(1)}),
        )
        .await;
    assert_eq!(third.status, StatusCode::BAD_REQUEST, "{}", third.text);
    assert!(
        third.text.contains("max_knowledge_sets_per_project"),
        "{}",
        third.text
    );
    assert_eq!(
        running
            .rows(json!({"knowledge_set": "s", "page_size": 100}))
            .await
            .len(),
        5
    );
}
