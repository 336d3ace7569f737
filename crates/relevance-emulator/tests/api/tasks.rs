//! Agent tasks over HTTP: embed-key refusals, scopes, listing, cursors, bad input (the
//! authorisation matrix over both task owners is `principals.rs`).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

const AGENT: &str = "agent-public";

/// Query parameters of one request.
type Query<'a> = Vec<(&'a str, &'a str)>;

/// Every task id of proj-a, as the API key sees them.
async fn all_task_ids(running: &Running) -> Vec<String> {
    let answer = running
        .get_query(
            &format!("/{US}/latest/agents/conversations/list"),
            Some(&format!("proj-a:{KEY_A}")),
            &[("page_size", "1000")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|item| item["knowledge_set"].as_str().expect("id").to_string())
        .collect()
}

/// What an embed key may never send on a trigger (PROTOCOL A5): an `agent_override`, a new
/// task without an id, an id without its prefix; an API key may send an override (ignored).
/// Who may reach which task is the principal matrix (`principals.rs`).
#[tokio::test]
async fn an_embed_key_may_not_override_the_agent_or_leave_out_its_task_id() {
    let running = start_seeded().await;
    let api = format!("proj-a:{KEY_A}");
    let (k1, k1_prefix) = running.agent_embed_key(AGENT).await;
    let mut cases = 0;
    // Operations an embed key may never perform, and a missing id.
    let k1_auth = format!("proj-a:{k1}");
    let refusals = [
        (
            json!({"agent_id": AGENT, "conversation_id": format!("{k1_prefix}_-_00000000-0000-4000-8000-000000000999"),
                   "agent_override": {"model": "x"}, "message": {"role": "user", "content": "override"}}),
            403,
            "agent_override",
        ),
        (
            json!({"agent_id": AGENT, "message": {"role": "user", "content": "no id"}}),
            400,
            "conversation_id",
        ),
        (
            json!({"agent_id": AGENT, "conversation_id": "made-up-id", "message": {"role": "user", "content": "bad id"}}),
            400,
            "_-_",
        ),
    ];
    for (body, status, needle) in refusals {
        cases += 1;
        let before = all_task_ids(&running).await;
        let answer = running.trigger(&k1_auth, body.clone()).await;
        assert_eq!(answer.status.as_u16(), status, "{body}: {}", answer.text);
        assert!(answer.message().contains(needle), "{}", answer.message());
        assert_eq!(all_task_ids(&running).await, before);
    }
    // An API key may send agent_override; it is ignored.
    cases += 1;
    let overridden = running
        .trigger(&api, json!({"agent_id": AGENT, "agent_override": {"model": "x"}, "message": {"role": "user", "content": "hi"}}))
        .await;
    assert_eq!(overridden.status, StatusCode::OK, "{}", overridden.text);
    assert_eq!(cases, 4);
}

#[tokio::test]
async fn two_embed_keys_of_one_agent_cannot_see_each_others_tasks() {
    let running = start_seeded().await;
    let (k1, p1) = running.agent_embed_key(AGENT).await;
    let (k2, p2) = running.agent_embed_key(AGENT).await;
    let (a1, a2) = (format!("proj-a:{k1}"), format!("proj-a:{k2}"));
    let t1 = format!("{p1}_-_11111111-1111-4111-8111-111111111111");
    let t2 = format!("{p2}_-_22222222-2222-4222-8222-222222222222");
    for (auth, task) in [(&a1, &t1), (&a2, &t2)] {
        let answer = running
            .trigger(auth, json!({"agent_id": AGENT, "conversation_id": task, "message": {"role": "user", "content": "mine"}}))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        assert_eq!(answer.body["conversation_id"], task.as_str());
    }
    for (auth, own, other) in [(&a1, &t1, &t2), (&a2, &t2, &t1)] {
        let list = running
            .get(
                &format!("/{US}/latest/agents/conversations/list"),
                Some(auth),
            )
            .await;
        let ids: Vec<&str> = list.body["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|item| item["knowledge_set"].as_str().expect("id"))
            .collect();
        assert_eq!(ids, [own.as_str()]);
        assert_eq!(
            running.metadata(auth, AGENT, own).await.status,
            StatusCode::OK
        );
        let foreign = running.metadata(auth, AGENT, other).await;
        let absent = running
            .metadata(auth, AGENT, &format!("{other}-nope"))
            .await;
        assert_eq!(foreign.status, StatusCode::NOT_FOUND);
        assert_eq!(absent.status, StatusCode::NOT_FOUND);
        assert_eq!(
            running.view(auth, AGENT, other, "").await.status,
            StatusCode::NOT_FOUND
        );
    }
    // The API key sees both.
    let api = format!("proj-a:{KEY_A}");
    assert_eq!(
        running.metadata(&api, AGENT, &t1).await.status,
        StatusCode::OK
    );
    assert_eq!(
        running.metadata(&api, AGENT, &t2).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn metadata_has_every_field_and_the_task_is_scoped_to_its_agent() {
    let running = start_engine_seed().await;
    let answer = running
        .trigger(KEY_E, json!({"agent_id": "echo", "message": {"role": "user", "content": "  What is the meaning of life, the universe and everything, really?  "}}))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let task = answer.body["conversation_id"]
        .as_str()
        .expect("id")
        .to_string();
    assert_eq!(answer.body["agent_id"], "echo");
    assert_eq!(answer.body["state"], "starting-up");
    assert!(answer.body["job_info"]["job_id"].is_string());
    assert_eq!(answer.body["job_info"]["studio_id"], "echo");
    let (meta, _) = running.settle(KEY_E, "echo", &task).await;
    assert_eq!(meta["_id"], task.as_str());
    assert_eq!(meta["knowledge_set"], task.as_str());
    assert_eq!(meta["project"], "proj-e");
    assert_eq!(meta["conversation"]["agent_id"], "echo");
    assert_eq!(meta["conversation"]["state"], "idle");
    assert!(meta["conversation"]["created_by_user_id"].is_string());
    let title = meta["conversation"]["title"].as_str().expect("title");
    assert_eq!(title.chars().count(), 60, "{title}");
    assert!(
        title.starts_with("What is the meaning") && title.ends_with('…'),
        "{title}"
    );
    assert!(meta["insert_date"]
        .as_str()
        .is_some_and(|d| d.ends_with('Z')));
    assert!(meta["update_date"].as_str() >= meta["insert_date"].as_str());
    // The same task under another agent is not found.
    assert_eq!(
        running.metadata(KEY_E, "thinker", &task).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        running.view(KEY_E, "thinker", &task, "").await.status,
        StatusCode::NOT_FOUND
    );
    // Continuing it through another agent is refused and writes nothing.
    let wrong = running
        .trigger(KEY_E, json!({"agent_id": "thinker", "conversation_id": task, "message": {"role": "user", "content": "x"}}))
        .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    assert_eq!(running.messages(KEY_E, "echo", &task).await.len(), 2);
}

#[tokio::test]
async fn view_cursors_are_inclusive_instants() {
    let running = start_engine_seed().await;
    let answer = running
        .trigger(
            KEY_E,
            json!({"agent_id": "echo", "message": {"role": "user", "content": "cursor"}}),
        )
        .await;
    let task = answer.body["conversation_id"]
        .as_str()
        .expect("id")
        .to_string();
    let (_, messages) = running.settle(KEY_E, "echo", &task).await;
    assert_eq!(messages.len(), 2);
    let user_date = messages[0]["insert_date_"]
        .as_str()
        .expect("date")
        .to_string();
    let agent_date = messages[1]["insert_date_"]
        .as_str()
        .expect("date")
        .to_string();
    assert!(agent_date > user_date, "dates are distinct and ordered");
    for message in &messages {
        assert_eq!(message["is_expanded_by_default"], false);
        assert_eq!(message["is_in_hidden_group"], false);
    }
    let ids = |answer: &Answer| -> Vec<String> {
        answer.body["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|m| m["item_id"].as_str().expect("item_id").to_string())
            .collect()
    };
    let user_id = messages[0]["item_id"].as_str().expect("id").to_string();
    let agent_id = messages[1]["item_id"].as_str().expect("id").to_string();
    // The same instant written with an offset: 2026-...Z == 2026-...+01:00 one hour later.
    let shifted = chrono_like_shift(&agent_date);
    let cases = [
        (
            json!({"page_size": 1000, "cursor": {"after": user_date}}),
            vec![agent_id.clone(), user_id.clone()],
        ),
        (
            json!({"cursor": {"after": agent_date}}),
            vec![agent_id.clone()],
        ),
        (
            json!({"cursor": {"after": shifted}}),
            vec![agent_id.clone()],
        ),
        (
            json!({"cursor": {"after": "2999-01-01T00:00:00.000Z"}}),
            vec![],
        ),
        (json!({}), vec![agent_id.clone(), user_id.clone()]),
        (json!({"page_size": 1}), vec![agent_id.clone()]),
    ];
    for (body, expected) in cases {
        let answer = running.view(KEY_E, "echo", &task, &body.to_string()).await;
        assert_eq!(answer.status, StatusCode::OK, "{body}: {}", answer.text);
        assert_eq!(ids(&answer), expected, "{body}");
        assert!(answer.body.get("next_cursor").is_none());
    }
    for body in [
        r#"{"cursor": {"after": "yesterday"}}"#,
        r#"{"cursor": {"after": 5}}"#,
    ] {
        let answer = running.view(KEY_E, "echo", &task, body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            answer.message().contains("cursor.after"),
            "{}",
            answer.message()
        );
    }
}

/// `2026-01-01T10:00:00.123Z` → `2026-01-01T11:00:00.123+01:00` (hours below 23 only).
fn chrono_like_shift(date: &str) -> String {
    let hour: u32 = date[11..13].parse().expect("hour");
    assert!(hour < 23, "test needs an hour below 23: {date}");
    format!("{}{:02}{}+01:00", &date[..11], hour + 1, &date[13..23])
}

#[tokio::test]
async fn conversations_list_filters_sorts_searches_and_pages() {
    let running = start_engine_seed().await;
    let mut echo_tasks = Vec::new();
    for title in ["alpha one", "Beta two", "gamma three"] {
        let answer = running
            .trigger(
                KEY_E,
                json!({"agent_id": "echo", "message": {"role": "user", "content": title}}),
            )
            .await;
        let task = answer.body["conversation_id"]
            .as_str()
            .expect("id")
            .to_string();
        running.settle(KEY_E, "echo", &task).await;
        echo_tasks.push(task);
    }
    let approval = running
        .trigger(
            KEY_E,
            json!({"agent_id": "approver", "message": {"role": "user", "content": "please"}}),
        )
        .await;
    let approval_task = approval.body["conversation_id"]
        .as_str()
        .expect("id")
        .to_string();
    running.settle(KEY_E, "approver", &approval_task).await;

    let path = format!("/{US}/latest/agents/conversations/list");
    let agent_filter = r#"[{"field":"conversation.agent_id","filter_type":"exact_match","condition":"==","condition_value":["echo"]}]"#;
    let state_filter = r#"[{"field":"conversation.state","filter_type":"exact_match","condition":"==","condition_value":["pending-approval"]},{"field":"conversation.is_debug_mode_task","filter_type":"exact_match","condition":"!=","condition_value":true}]"#;
    let reversed: Vec<String> = echo_tasks.iter().rev().cloned().collect();
    let cases: Vec<(Query, Vec<String>)> = vec![
        (vec![("filters", agent_filter)], echo_tasks.clone()),
        (
            vec![
                ("filters", agent_filter),
                ("sort", r#"[{"insert_date":"desc"}]"#),
            ],
            reversed.clone(),
        ),
        (
            vec![
                ("filters", agent_filter),
                ("sort", r#"[{"insert_datetime":"desc"}]"#),
            ],
            reversed.clone(),
        ),
        (
            vec![
                ("filters", agent_filter),
                ("sort", r#"[{"update_date":"asc"}]"#),
            ],
            echo_tasks.clone(),
        ),
        (
            vec![
                ("filters", agent_filter),
                ("sort", r#"[{"update_datetime":"desc"}]"#),
            ],
            reversed,
        ),
        (vec![("filters", state_filter)], vec![approval_task.clone()]),
        (vec![("query", "BETA")], vec![echo_tasks[1].clone()]),
        (
            vec![("query", "a")],
            vec![
                echo_tasks[0].clone(),
                echo_tasks[1].clone(),
                echo_tasks[2].clone(),
                approval_task.clone(),
            ],
        ),
        (
            vec![("filters", agent_filter), ("page_size", "2"), ("page", "2")],
            vec![echo_tasks[2].clone()],
        ),
        (
            vec![("filters", agent_filter), ("page_size", "2")],
            echo_tasks[..2].to_vec(),
        ),
        (vec![("page", "9")], vec![]),
        (vec![("filters", "[]"), ("sort", "[]")], {
            let mut all = echo_tasks.clone();
            all.push(approval_task.clone());
            all
        }),
    ];
    for (query, expected) in cases {
        let answer = running.get_query(&path, Some(KEY_E), &query).await;
        assert_eq!(answer.status, StatusCode::OK, "{query:?}: {}", answer.text);
        let results = answer.body["results"].as_array().expect("results");
        let ids: Vec<String> = results
            .iter()
            .map(|item| {
                assert_eq!(item["knowledge_set"], item["metadata"]["_id"]);
                item["knowledge_set"].as_str().expect("id").to_string()
            })
            .collect();
        assert_eq!(ids, expected, "{query:?}");
    }
    let bad: Vec<(Query, &str)> = vec![
        (vec![("filters", "{nope")], "`filters`"),
        (vec![("filters", r#"{"field":"x"}"#)], "`filters`"),
        (vec![("sort", "nope")], "`sort`"),
        (vec![("sort", r#"[{"insert_date":"sideways"}]"#)], "`sort`"),
        (vec![("sort", r#"[{"colour":"asc"}]"#)], "`sort`"),
        (vec![("page_size", "0")], "`page_size`"),
        (vec![("page_size", "1001")], "`page_size`"),
        (vec![("page", "0")], "`page`"),
        (vec![("page", "x")], "`page`"),
    ];
    for (query, needle) in bad {
        let answer = running.get_query(&path, Some(KEY_E), &query).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query:?}");
        assert!(
            answer.message().contains(needle),
            "{query:?}: {}",
            answer.message()
        );
    }
}

#[tokio::test]
async fn bad_bodies_name_the_field_and_unknown_tasks_are_404() {
    let running = start_engine_seed().await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({"agent_id": "echo"}), "message"),
        (
            json!({"message": {"role": "user", "content": "x"}}),
            "agent_id",
        ),
        (
            json!({"agent_id": "echo", "message": {"role": "user", "content": ""}}),
            "message.content",
        ),
        (
            json!({"agent_id": "echo", "message": {"role": "user", "content": "   "}}),
            "message.content",
        ),
        (
            json!({"agent_id": "echo", "message": {"role": "user", "content": 5}}),
            "message.content",
        ),
        (
            json!({"agent_id": "echo", "message": {"role": "user"}}),
            "message.content",
        ),
        (
            json!({"agent_id": "echo", "conversation_id": "a/b", "message": {"role": "user", "content": "x"}}),
            "conversation_id",
        ),
        (
            json!({"agent_id": "echo", "conversation_id": "", "message": {"role": "user", "content": "x"}}),
            "conversation_id",
        ),
        (
            json!({"agent_id": "echo", "message": {"role": "user", "content": "x", "attachments": [{"file_name": 1}]}}),
            "attachments",
        ),
    ];
    for (body, needle) in cases {
        let answer = running.trigger(KEY_E, body.clone()).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            answer.text
        );
        assert!(
            answer.message().contains(needle),
            "{body}: {}",
            answer.message()
        );
    }
    let list = running
        .get(
            &format!("/{US}/latest/agents/conversations/list"),
            Some(KEY_E),
        )
        .await;
    assert_eq!(
        list.body["results"],
        json!([]),
        "no refused trigger wrote a task"
    );

    let unknown_agent = running
        .trigger(
            KEY_E,
            json!({"agent_id": "ghost", "message": {"role": "user", "content": "x"}}),
        )
        .await;
    assert_eq!(unknown_agent.status, StatusCode::NOT_FOUND);
    assert_eq!(
        running.metadata(KEY_E, "echo", "no-such-task").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        running.view(KEY_E, "echo", "no-such-task", "").await.status,
        StatusCode::NOT_FOUND
    );
    let page = running
        .view(KEY_E, "echo", "no-such-task", r#"{"page_size": 0}"#)
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.message().contains("page_size"));

    // Attachments are kept on the user message.
    let with_file = running
        .trigger(KEY_E, json!({"agent_id": "echo", "message": {"role": "user", "content": "see file",
            "attachments": [{"file_name": "a.pdf", "file_url": "http://127.0.0.1/files/x/a.pdf"}]}}))
        .await;
    assert_eq!(with_file.status, StatusCode::OK, "{}", with_file.text);
    let task = with_file.body["conversation_id"]
        .as_str()
        .expect("id")
        .to_string();
    let messages = running.messages(KEY_E, "echo", &task).await;
    assert_eq!(
        messages[0]["content"]["attachments"],
        json!([{"file_name": "a.pdf", "file_url": "http://127.0.0.1/files/x/a.pdf"}])
    );
}

/// PROTOCOL C: a key cannot probe other scopes. Triggering a task id that exists under
/// another embed key's prefix answers exactly as triggering one that exists nowhere.
#[tokio::test]
async fn an_embed_key_cannot_tell_a_foreign_task_id_from_an_absent_one() {
    let running = start_seeded().await;
    let (k1, p1) = running.agent_embed_key(AGENT).await;
    let (k2, _) = running.agent_embed_key(AGENT).await;
    let existing = format!("{p1}_-_11111111-1111-4111-8111-111111111111");
    let absent = format!("{p1}_-_99999999-9999-4999-8999-999999999999");
    let created = running
        .trigger(&format!("proj-a:{k1}"), json!({"agent_id": AGENT, "conversation_id": existing, "message": {"role": "user", "content": "mine"}}))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let k2_auth = format!("proj-a:{k2}");
    let mut answers = Vec::new();
    for id in [&existing, &absent] {
        let answer = running
            .trigger(&k2_auth, json!({"agent_id": AGENT, "conversation_id": id, "message": {"role": "user", "content": "probe"}}))
            .await;
        answers.push((answer.status, answer.message().to_string()));
    }
    assert_eq!(
        answers[0], answers[1],
        "same answer for a foreign and an absent id"
    );
    assert_eq!(answers[0].0, StatusCode::BAD_REQUEST);

    // The same for workforce tasks.
    let (w1, wp1) = running.workforce_embed_key("wf-1").await;
    let (w2, _) = running.workforce_embed_key("wf-1").await;
    let existing = format!("{wp1}_-_11111111-1111-4111-8111-111111111111");
    let absent = format!("{wp1}_-_99999999-9999-4999-8999-999999999999");
    let path = format!("/{US}/latest/workforce/trigger");
    let body = |id: &str| {
        json!({"workforce_id": "wf-1", "workforce_task_id": id,
               "trigger": {"message": {"role": "user", "content": "hi"}}})
        .to_string()
    };
    let created = running
        .post(&path, Some(&format!("proj-a:{w1}")), &body(&existing))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let w2_auth = format!("proj-a:{w2}");
    let foreign = running.post(&path, Some(&w2_auth), &body(&existing)).await;
    let missing = running.post(&path, Some(&w2_auth), &body(&absent)).await;
    assert_eq!(
        (foreign.status, foreign.message()),
        (missing.status, missing.message())
    );
}

/// Task ids go into URL paths unencoded, so a new id must be unreserved ASCII (not `..`,
/// not zero-width or full-width look-alikes), and an embed key's must end in a UUID v4.
#[tokio::test]
async fn task_ids_that_are_not_url_path_safe_are_refused() {
    let running = start_seeded().await;
    let api = format!("proj-a:{KEY_A}");
    for id in ["..", ".", "a\u{200b}b", "ｔａｓｋ", "a/b", "é", "a:b"] {
        let before = all_task_ids(&running).await;
        let answer = running
            .trigger(&api, json!({"agent_id": AGENT, "conversation_id": id, "message": {"role": "user", "content": "odd"}}))
            .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{id:?}: {}",
            answer.text
        );
        assert!(
            answer.message().contains("ASCII letters, digits"),
            "{id:?}: {}",
            answer.message()
        );
        assert_eq!(
            all_task_ids(&running).await,
            before,
            "{id:?} created nothing"
        );
    }
    let (key, prefix) = running.agent_embed_key(AGENT).await;
    let embed = format!("proj-a:{key}");
    for suffix in ["x", "not-a-uuid", "11111111-1111-1111-8111-111111111111"] {
        let id = format!("{prefix}_-_{suffix}");
        let answer = running
            .trigger(&embed, json!({"agent_id": AGENT, "conversation_id": id, "message": {"role": "user", "content": "odd"}}))
            .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{id}: {}",
            answer.text
        );
        assert!(answer.message().contains("UUID v4"), "{}", answer.message());
    }
}
