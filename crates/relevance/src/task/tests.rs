use super::*;
use crate::key::Key;
use crate::region::{Endpoints, Region};
use crate::Error;
use chrono::TimeZone;
use std::error::Error as _;

use crate::message::Message;
use crate::task::owner::{agent_task_list, agent_trigger_task};
use crate::wire::agents::TriggerAnswer;
use crate::wire::tasks::{ListAnswer as TaskListAnswer, ViewBody, LIST_PATH as TASK_LIST_PATH};
use crate::wire::timestamp;
use serde_json::{json, Value};

fn view_body(after: Option<&str>) -> Value {
    serde_json::to_value(ViewBody::after(after)).unwrap()
}

fn messages_oldest_first(results: Vec<Value>) -> Result<Vec<Message>> {
    let mut messages = crate::wire::messages::decode_all(results)?;
    messages.reverse();
    Ok(messages)
}

pub(crate) fn test_client() -> Client {
    Client::builder(Key::new("sk-test", Region::US, "p1").unwrap())
        .base_url("http://127.0.0.1:9")
        .build()
        .unwrap()
}

#[test]
fn every_platform_state_maps_to_its_status() {
    let cases = [
        ("idle", TaskStatus::Idle, false),
        ("starting-up", TaskStatus::Queued, true),
        ("waiting-for-capacity", TaskStatus::Queued, true),
        ("queued-for-approval", TaskStatus::Queued, true),
        ("queued-for-rerun", TaskStatus::Queued, true),
        ("running", TaskStatus::Running, true),
        ("pending-approval", TaskStatus::Action, false),
        ("escalated", TaskStatus::Action, false),
        ("paused", TaskStatus::Paused, false),
        ("completed", TaskStatus::Completed, false),
        ("cancelled", TaskStatus::Cancelled, false),
        ("timed-out", TaskStatus::Error, false),
        ("unrecoverable", TaskStatus::Error, false),
        ("errored-pending-approval", TaskStatus::Error, false),
        ("not-started", TaskStatus::NotStarted, false),
        ("dancing", TaskStatus::Unknown("dancing".into()), false),
        ("", TaskStatus::Unknown(String::new()), false),
        ("RUNNING", TaskStatus::Unknown("RUNNING".into()), false),
    ];
    for (state, status, running) in cases {
        let got = TaskStatus::from_state(state);
        assert_eq!(got, status, "{state}");
        assert_eq!(got.is_running(), running, "{state}");
        if !matches!(got, TaskStatus::Unknown(_)) {
            assert!(got.states().contains(&state), "{state}");
        }
    }
    // Every listed state belongs to exactly one status.
    let all: Vec<&str> = NAMED_STATUSES
        .iter()
        .flat_map(|s| s.states())
        .copied()
        .collect();
    assert_eq!(all.len(), 15);
    for state in &all {
        assert_eq!(all.iter().filter(|s| *s == state).count(), 1, "{state}");
    }
}

#[test]
fn every_workforce_state_maps_to_its_status() {
    let cases = [
        ("running", TaskStatus::Running, true),
        ("completed", TaskStatus::Completed, false),
        ("execution-limit-reached", TaskStatus::Error, false),
        ("errored-pending-approval", TaskStatus::Error, false),
        ("pending-approval", TaskStatus::Action, false),
        ("escalated", TaskStatus::Action, false),
        // Agent-only states mean nothing for a workforce: kept raw.
        ("idle", TaskStatus::Unknown("idle".into()), false),
        (
            "starting-up",
            TaskStatus::Unknown("starting-up".into()),
            false,
        ),
        ("timed-out", TaskStatus::Unknown("timed-out".into()), false),
        ("", TaskStatus::Unknown(String::new()), false),
        ("Running", TaskStatus::Unknown("Running".into()), false),
    ];
    for (state, status, running) in cases {
        let got = TaskStatus::from_workforce_state(state);
        assert_eq!(got, status, "{state}");
        assert_eq!(got.is_running(), running, "{state}");
    }
    // The agent table does not know the workforce-only state.
    assert_eq!(
        TaskStatus::from_state("execution-limit-reached"),
        TaskStatus::Unknown("execution-limit-reached".into())
    );
}

#[test]
fn owners_answer_their_own_accessor_only() {
    let make = |owner: TaskOwner| Task {
        client: test_client(),
        job: None,
        data: TaskData {
            id: "t".into(),
            owner,
            title: String::new(),
            status: TaskStatus::Running,
            state: "running".into(),
            requested_state: None,
            created_at: None,
            updated_at: None,
        },
        new_from_trigger: false,
    };
    let agent_task = make(TaskOwner::Agent("a1".into()));
    assert_eq!(
        (agent_task.agent_id(), agent_task.workforce_id()),
        (Some("a1"), None)
    );
    let workforce_task = make(TaskOwner::Workforce("w1".into()));
    assert_eq!(
        (workforce_task.agent_id(), workforce_task.workforce_id()),
        (None, Some("w1"))
    );
    assert_eq!(workforce_task.owner.id(), "w1");
    assert_ne!(agent_task, make(TaskOwner::Workforce("a1".into())));
    let debug = format!("{workforce_task:?}");
    assert!(debug.contains("Workforce(\"w1\")"), "{debug}");
}

#[test]
fn client_side_filtering_is_inclusive_and_keeps_undated_messages() {
    let message = |id: &str, date: &str| {
        Message::from_value(json!({"item_id": id, "insert_date_": date,
                "content": {"type": "agent-message", "text": id}}))
        .unwrap()
    };
    let messages = vec![
        message("m1", "2026-01-01T00:00:01.000Z"),
        message("m2", "2026-01-01T00:00:02.000Z"),
        message("undated", "not a date"),
        message("m3", "2026-01-01T00:00:02.500+00:00"),
    ];
    let at = |text: &str| timestamp(&Value::from(text)).unwrap();
    let cases = [
        ("2026-01-01T00:00:00Z", vec!["m1", "m2", "undated", "m3"]),
        ("2026-01-01T00:00:02.000Z", vec!["m2", "undated", "m3"]),
        ("2026-01-01T00:00:02.001Z", vec!["undated", "m3"]),
        ("2026-01-01T00:00:03Z", vec!["undated"]),
    ];
    for (after, expected) in cases {
        let kept = messages_at_or_after(messages.clone(), at(after));
        let ids: Vec<&str> = kept.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, expected, "{after}");
    }
}

#[test]
fn status_names_display_and_parse_back() {
    let cases = [
        (TaskStatus::NotStarted, "not started"),
        (TaskStatus::Idle, "idle"),
        (TaskStatus::Queued, "queued"),
        (TaskStatus::Running, "running"),
        (TaskStatus::Action, "action"),
        (TaskStatus::Paused, "paused"),
        (TaskStatus::Completed, "completed"),
        (TaskStatus::Cancelled, "cancelled"),
        (TaskStatus::Error, "error"),
    ];
    for (status, name) in cases {
        assert_eq!(status.to_string(), name);
        assert_eq!(name.parse::<TaskStatus>().unwrap(), status);
        assert_eq!(name.to_uppercase().parse::<TaskStatus>().unwrap(), status);
    }
    assert_eq!(
        "not-started".parse::<TaskStatus>().unwrap(),
        TaskStatus::NotStarted
    );
    assert_eq!(
        " Not_Started ".parse::<TaskStatus>().unwrap(),
        TaskStatus::NotStarted
    );
    assert_eq!(
        TaskStatus::Unknown("weird-state".into()).to_string(),
        "weird-state"
    );
    for bad in ["", "escalated", "runnin", "weird-state"] {
        let error = bad.parse::<TaskStatus>().unwrap_err();
        assert!(matches!(error, Error::InvalidTaskStatus { .. }), "{bad}");
        assert!(error.to_string().contains("valid: not-started"), "{error}");
    }
}

fn query_string(agent_id: &str, options: &TaskListOptions) -> String {
    let endpoints = Endpoints::hosted(Region::US);
    let query = task_list_query(agent_id, options);
    let url = crate::http::url_with_query(&endpoints, TASK_LIST_PATH, &query).unwrap();
    assert_eq!(
        url.path(),
        "/latest/agents/conversations/list",
        "the path never changes"
    );
    url.query().unwrap().to_string()
}

#[test]
fn task_list_query_is_exact() {
    let agent_filter = "%7B%22field%22%3A%22conversation.agent_id%22%2C%22filter_type%22%3A%22exact_match%22%2C%22condition%22%3A%22%3D%3D%22%2C%22condition_value%22%3A%5B%22a1%22%5D%7D";
    let cases = [
            (
                TaskListOptions::default(),
                format!(
                    "filters=%5B{agent_filter}%5D&sort=%5B%7B%22insert_date%22%3A%22asc%22%7D%5D&page_size=100&page=1"
                ),
            ),
            (
                TaskListOptions {
                    page_size: Some(5),
                    page: Some(3),
                    sort: TaskSort::UpdatedDesc,
                    statuses: vec![TaskStatus::Action],
                    search: Some("  tax & fees? ".into()),
                },
                format!(
                    "filters=%5B{agent_filter}%2C%7B%22field%22%3A%22conversation.state%22%2C%22filter_type%22%3A%22exact_match%22%2C%22condition%22%3A%22%3D%3D%22%2C%22condition_value%22%3A%5B%22pending-approval%22%2C%22escalated%22%5D%7D%5D&sort=%5B%7B%22update_date%22%3A%22desc%22%7D%5D&page_size=5&page=3&query=tax+%26+fees%3F"
                ),
            ),
            (
                TaskListOptions {
                    sort: TaskSort::CreatedDesc,
                    search: Some("   ".into()),
                    ..Default::default()
                },
                format!(
                    "filters=%5B{agent_filter}%5D&sort=%5B%7B%22insert_date%22%3A%22desc%22%7D%5D&page_size=100&page=1"
                ),
            ),
        ];
    for (options, expected) in cases {
        assert_eq!(query_string("a1", &options), expected, "{options:?}");
    }
}

#[test]
fn task_list_query_decodes_to_the_protocol_json() {
    let sorts = [
        (TaskSort::CreatedAsc, json!([{"insert_date": "asc"}])),
        (TaskSort::CreatedDesc, json!([{"insert_date": "desc"}])),
        (TaskSort::UpdatedAsc, json!([{"update_date": "asc"}])),
        (TaskSort::UpdatedDesc, json!([{"update_date": "desc"}])),
    ];
    for (sort, expected_sort) in sorts {
        let options = TaskListOptions {
            sort,
            statuses: vec![TaskStatus::Unknown("new-state".into())],
            ..Default::default()
        };
        let query = query_string("agent/with space", &options);
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let filters: Value = serde_json::from_str(&pairs[0].1).unwrap();
        assert_eq!(
            filters,
            json!([
                {"field": "conversation.agent_id", "filter_type": "exact_match",
                 "condition": "==", "condition_value": ["agent/with space"]},
                {"field": "conversation.state", "filter_type": "exact_match",
                 "condition": "==", "condition_value": ["new-state"]},
            ])
        );
        let sort: Value = serde_json::from_str(&pairs[1].1).unwrap();
        assert_eq!(sort, expected_sort);
        let names: Vec<&str> = pairs.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["filters", "sort", "page_size", "page"]);
    }
}

#[test]
fn a_status_filter_lists_every_state_of_the_status() {
    let query = task_list_query(
        "a1",
        &TaskListOptions {
            statuses: vec![TaskStatus::Queued],
            ..Default::default()
        },
    );
    let filters: Value = serde_json::from_str(&query[0].1).unwrap();
    assert_eq!(
        filters[1]["condition_value"],
        json!([
            "starting-up",
            "waiting-for-capacity",
            "queued-for-approval",
            "queued-for-rerun"
        ])
    );
}

#[test]
fn task_list_answer_decodes() {
    let answer: TaskListAnswer = serde_json::from_str(
            r#"{"results":[
                {"knowledge_set":"t1","metadata":{"knowledge_set":"t1","_id":"t1","project":"p1",
                 "insert_date":"2026-01-02T03:04:05.000Z","update_date":"2026-01-02T03:05:00Z",
                 "conversation":{"created_by_user_id":"u","state":"escalated","title":"Hello"},"extra":1}},
                {"knowledge_set":"t2","metadata":{"knowledge_set":"t2",
                 "conversation":{"state":"exploded","agent_id":"other"}}}
            ],"next":null}"#,
        )
        .unwrap();
    let tasks = agent_task_list(answer, &test_client(), "a1");
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0].id, "t1");
    assert_eq!(tasks[0].agent_id(), Some("a1"));
    assert_eq!(tasks[0].workforce_id(), None);
    assert_eq!(tasks[0].requested_state, None);
    assert_eq!(tasks[0].title, "Hello");
    assert_eq!(tasks[0].status, TaskStatus::Action);
    assert_eq!(tasks[0].state, "escalated");
    assert_eq!(
        tasks[0].created_at,
        Some(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap())
    );
    assert_eq!(
        tasks[0].updated_at,
        Some(Utc.with_ymd_and_hms(2026, 1, 2, 3, 5, 0).unwrap())
    );
    assert_eq!(tasks[1].agent_id(), Some("other"));
    assert_eq!(tasks[1].title, "");
    assert_eq!(tasks[1].status, TaskStatus::Unknown("exploded".into()));
    assert_eq!(tasks[1].created_at, None);
}

#[test]
fn missing_required_fields_are_named() {
    let cases: [(&str, &str); 4] = [
        (r#"{"result":[]}"#, "results"),
        (
            r#"{"results":[{"metadata":{"knowledge_set":"t"}}]}"#,
            "knowledge_set",
        ),
        (
            r#"{"results":[{"knowledge_set":"t","metadata":{}}]}"#,
            "knowledge_set",
        ),
        (r#"{"results":[{"knowledge_set":"t"}]}"#, "metadata"),
    ];
    for (json, field) in cases {
        let error = serde_json::from_str::<TaskListAnswer>(json).err().unwrap();
        assert!(error.to_string().contains(field), "{json}: {error}");
    }
}

#[test]
fn trigger_answer_decodes_to_a_task_at_once() {
    let answer: TriggerAnswer = serde_json::from_str(
        r#"{"conversation_id":"pre_-_1","agent_id":"a1","state":"starting-up",
                "job_info":{"job_id":"j","studio_id":"s"}}"#,
    )
    .unwrap();
    let task = agent_trigger_task(answer, &test_client(), "asked");
    assert_eq!(task.id, "pre_-_1");
    assert_eq!(task.owner, TaskOwner::Agent("a1".into()));
    assert_eq!(task.status, TaskStatus::Queued);
    assert!(task.is_running());
    assert_eq!(task.title, "");

    let bare: TriggerAnswer = serde_json::from_str(r#"{"conversation_id":"c"}"#).unwrap();
    let task = agent_trigger_task(bare, &test_client(), "asked");
    assert_eq!(task.agent_id(), Some("asked"));
    assert_eq!(task.status, TaskStatus::Unknown(String::new()));

    let error = serde_json::from_str::<TriggerAnswer>(r#"{"state":"running"}"#)
        .err()
        .unwrap();
    assert!(error.to_string().contains("conversation_id"), "{error}");
}

#[test]
fn view_body_and_cursor_are_exact() {
    assert_eq!(view_body(None), json!({"page_size": 1000}));
    assert_eq!(
        view_body(Some("2026-11-26T10:00:00.123456")),
        json!({"page_size": 1000, "cursor": {"after": "2026-11-26T10:00:00.123456"}})
    );
    let cases = [
        (
            Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap(),
            "2026-11-26T10:00:00.000Z",
        ),
        (
            Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
                + chrono::Duration::microseconds(123_999),
            "2026-01-02T03:04:05.123Z",
        ),
    ];
    for (time, expected) in cases {
        assert_eq!(cursor_time(time), expected);
    }
}

#[test]
fn view_results_come_back_oldest_first() {
    let message = |id: &str, date: &str| {
        json!({"item_id": id, "insert_date_": date, "is_expanded_by_default": false,
                   "is_in_hidden_group": false,
                   "content": {"type": "agent-message", "text": id}})
    };
    let messages = messages_oldest_first(vec![
        message("m3", "2026-01-01T00:00:03.000Z"),
        message("m2", "2026-01-01T00:00:02.000Z"),
        message("m1", "2026-01-01T00:00:01.000Z"),
    ])
    .unwrap();
    let ids: Vec<&str> = messages.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["m1", "m2", "m3"]);

    let error =
        messages_oldest_first(vec![message("ok", "x"), json!({"content": {}})]).unwrap_err();
    assert!(matches!(error, Error::Decode { .. }));
    let text = format!("{error} {:?}", error.source());
    assert!(text.contains("item_id"), "{text}");
}

#[test]
fn debug_and_equality_ignore_the_client() {
    let make = |client: Client| Task {
        client,
        job: None,
        data: TaskData {
            id: "t".into(),
            owner: TaskOwner::Agent("a".into()),
            title: "x".into(),
            status: TaskStatus::Idle,
            state: "idle".into(),
            requested_state: None,
            created_at: None,
            updated_at: None,
        },
        new_from_trigger: false,
    };
    let other = Client::new(Key::new("sk-OTHER-SECRET", Region::EU, "p2").unwrap()).unwrap();
    assert_eq!(make(test_client()), make(other.clone()));
    let debug = format!("{:?}", make(other));
    assert!(
        debug.contains("\"t\"") && !debug.contains("SECRET"),
        "{debug}"
    );
}
