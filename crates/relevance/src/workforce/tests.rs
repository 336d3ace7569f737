use super::*;
use crate::message::Message;

/// A workforce to act on in other modules' tests.
pub(crate) fn workforce_for_tests(client: &Client) -> Workforce {
    WorkforceItem {
        id: "w1".into(),
        workforce_metadata: Value::Null,
    }
    .into_workforce(client)
}
use crate::key::{EmbedTarget, Key};
use crate::message::MessageContent;
use crate::message_builder::task_id_to_send;
use crate::region::Endpoints;
use crate::task::owner::workforce_trigger_task;
use crate::task::TaskStatus;
use crate::wire::messages::{decode_all, UserMessageBody};
use crate::wire::workforces::{
    messages_path, metadata_path, Trigger, TriggerAnswer, TriggerBody, WorkforceTaskMeta,
    TRIGGER_PATH,
};
use crate::wire::Results;
use chrono::{TimeZone, Utc};
use serde_json::json;

type MetadataAnswer = crate::wire::tasks::MetadataAnswer<WorkforceTaskMeta>;
type MessagesAnswer = Results<Value>;

impl WorkforceItem {
    fn into_workforce(self, client: &Client) -> Workforce {
        Workforce::from_wire(self, client)
    }
}

impl TriggerAnswer {
    fn into_task(self, client: Client, workforce_id: &str) -> Task {
        workforce_trigger_task(self.workforce_task_id, &client, workforce_id)
    }
}

impl WorkforceTaskMeta {
    fn into_task(self, client: Client, workforce_id: &str, task_id: &str) -> Task {
        workforce_task(self, &client, workforce_id, task_id)
    }
}

impl Results<Value> {
    fn into_messages(self) -> Result<Vec<Message>> {
        decode_all(self.results)
    }
}

impl TaskListAnswer {
    fn into_page(self, client: &Client, workforce_id: &str) -> Page<Task> {
        task_page(self, client, workforce_id)
    }
}

/// The trigger body as sent.
fn trigger_body(workforce_id: &str, task_id: Option<&str>, text: &str) -> Value {
    serde_json::to_value(TriggerBody {
        trigger: Trigger {
            message: UserMessageBody::new(text, Some(&[])),
            use_streaming: true,
        },
        workforce_id,
        workforce_task_id: task_id,
    })
    .unwrap()
}

fn au_client() -> Client {
    Client::builder(Key::new("sk-test", Region::AU, "p").unwrap())
        .base_url("http://127.0.0.1:9")
        .build()
        .unwrap()
}

/// Decodes an answer the way `http::send` does, so the error is the
/// one a caller would see.
fn decode<T: serde::de::DeserializeOwned>(json: &str) -> Result<T> {
    serde_json::from_str(json).map_err(|source| crate::Error::Decode {
        what: "answer".into(),
        source,
    })
}

/// The error and its source, as a log line would show them.
fn full_text(error: &crate::Error) -> String {
    format!("{error}: {:?}", std::error::Error::source(error))
}

#[test]
fn decode_table() {
    let cases = [
        (
            r#"{"id":"w1","workforce_metadata":{"name":"Team"}}"#,
            Some(("w1", Some("Team"))),
        ),
        (
            r#"{"id":"w1","workforce_metadata":{},"other":1}"#,
            Some(("w1", None)),
        ),
        (r#"{"id":"w1"}"#, Some(("w1", None))),
        (
            r#"{"id":"w1","workforce_metadata":{"name":3}}"#,
            Some(("w1", None)),
        ),
        (r#"{"workforce_metadata":{"name":"Team"}}"#, None),
    ];
    for (json, expected) in cases {
        let decoded = serde_json::from_str::<WorkforceItem>(json)
            .map(|item| item.into_workforce(&au_client()));
        match expected {
            Some((id, name)) => {
                let workforce = decoded.unwrap();
                assert_eq!(workforce.id, id);
                assert_eq!(workforce.name.as_deref(), name);
                assert_eq!(workforce.project, "p");
                assert_eq!(workforce.region, Region::AU);
            }
            None => assert!(decoded.is_err(), "{json}"),
        }
    }
}

#[test]
fn debug_and_equality_ignore_the_client() {
    let json = r#"{"id":"w1","workforce_metadata":{"name":"Team"}}"#;
    let one = serde_json::from_str::<WorkforceItem>(json)
        .unwrap()
        .into_workforce(&au_client());
    let other_client = Client::new(Key::new("sk-OTHER-SECRET", Region::AU, "p").unwrap())
        .expect("a hosted client");
    let two = serde_json::from_str::<WorkforceItem>(json)
        .unwrap()
        .into_workforce(&other_client);
    assert_eq!(one, two);
    let debug = format!("{two:?}");
    assert!(
        debug.contains("Team") && !debug.contains("SECRET"),
        "{debug}"
    );
    let mut renamed = two.clone();
    renamed.name = Some("Other".into());
    assert_ne!(one, renamed);
}

#[test]
fn trigger_body_is_exact_and_leaves_unused_fields_out() {
    let message = json!({"role": "user", "content": "hi", "attachments": []});
    let cases = [
        (
            None,
            json!({"workforce_id": "w1",
                       "trigger": {"use_streaming": true, "message": message}}),
        ),
        (
            Some("t1"),
            json!({"workforce_id": "w1", "workforce_task_id": "t1",
                       "trigger": {"use_streaming": true, "message": message}}),
        ),
    ];
    for (task_id, expected) in cases {
        let body = trigger_body("w1", task_id, "hi");
        assert_eq!(body, expected);
        assert!(!body.to_string().contains("null"), "{body}");
    }
}

#[test]
fn an_embed_key_sends_a_prefixed_id_for_a_new_task_only() {
    let embed = Key::embed(
        "ek-1",
        Region::US,
        "p",
        EmbedTarget::Workforce("w1".into()),
        "wpre",
    )
    .unwrap();
    let api = Key::new("sk-1", Region::US, "p").unwrap();
    let new_task = trigger_body("w1", task_id_to_send(&embed, None).as_deref(), "hi");
    let id = new_task["workforce_task_id"].as_str().unwrap();
    let uuid = id
        .strip_prefix("wpre_-_")
        .expect("prefixed with the key's prefix");
    assert_eq!(uuid::Uuid::parse_str(uuid).unwrap().get_version_num(), 4);

    let continued = task_id_to_send(&embed, Some("wpre_-_old".into()));
    assert_eq!(continued.as_deref(), Some("wpre_-_old"));
    let api_body = trigger_body("w1", task_id_to_send(&api, None).as_deref(), "hi");
    assert!(api_body.get("workforce_task_id").is_none(), "{api_body}");
}

#[test]
fn the_trigger_answer_is_a_running_workforce_task() {
    let answer: TriggerAnswer = decode(r#"{"workforce_task_id":"wt1","extra":{"x":1}}"#).unwrap();
    let task = answer.into_task(au_client(), "w1");
    assert_eq!(task.id, "wt1");
    assert_eq!(task.owner, TaskOwner::Workforce("w1".into()));
    assert_eq!(task.workforce_id(), Some("w1"));
    assert_eq!(task.agent_id(), None);
    assert_eq!(
        (task.status.clone(), task.state.as_str()),
        (TaskStatus::Running, "running")
    );
    assert!(task.is_running());
    assert_eq!((task.title.as_str(), task.created_at), ("", None));

    for json in [r#"{}"#, r#"{"conversation_id":"c"}"#] {
        let error = decode::<TriggerAnswer>(json).err().unwrap();
        assert!(
            full_text(&error).contains("workforce_task_id"),
            "{json}: {}",
            full_text(&error)
        );
    }
    let ill_typed = decode::<TriggerAnswer>(r#"{"workforce_task_id":7}"#);
    assert!(matches!(ill_typed, Err(crate::Error::Decode { .. })));
}

#[test]
fn metadata_decodes_to_a_workforce_task() {
    let answer: MetadataAnswer = decode(
            r#"{"metadata":{"insert_date":"2026-01-02T03:04:05.000Z","update_date":"2026-01-02T03:05:00",
                "title":"Plan","state":"pending-approval","requested_state":"continue","extra":1},
                "streaming_token":{"token":"t","expiry_time_ms":1}}"#,
        )
        .unwrap();
    let task = answer.metadata.into_task(au_client(), "w1", "wt1");
    assert_eq!(task.id, "wt1");
    assert_eq!(task.owner, TaskOwner::Workforce("w1".into()));
    assert_eq!(task.title, "Plan");
    assert_eq!(task.state, "pending-approval");
    assert_eq!(task.status, TaskStatus::Action);
    assert_eq!(task.requested_state.as_deref(), Some("continue"));
    assert_eq!(
        task.created_at,
        Some(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap())
    );
    assert_eq!(
        task.updated_at,
        Some(Utc.with_ymd_and_hms(2026, 1, 2, 3, 5, 0).unwrap())
    );

    let lenient: MetadataAnswer =
        decode(r#"{"metadata":{"title":5,"state":"idle","requested_state":null}}"#).unwrap();
    let task = lenient.metadata.into_task(au_client(), "w1", "wt1");
    assert_eq!(task.title, "");
    assert_eq!(task.status, TaskStatus::Unknown("idle".into()));
    assert_eq!(task.requested_state, None);
    assert_eq!(task.created_at, None);

    let error = decode::<MetadataAnswer>(r#"{"meta":{}}"#).err().unwrap();
    assert!(
        full_text(&error).contains("metadata"),
        "{}",
        full_text(&error)
    );
}

#[test]
fn messages_keep_the_server_order() {
    let answer: MessagesAnswer = decode(
            r#"{"results":[
                {"item_id":"m1","insert_date_":"2026-01-01T00:00:01.000Z",
                 "content":{"type":"user-message","text":"go","is_trigger_message":true}},
                {"item_id":"m2","insert_date_":"2026-01-01T00:00:02.000Z",
                 "content":{"type":"workforce-agent-run","task_details":{"project":"p","region":"f1db6c","conversation_id":"c1"}}},
                {"item_id":"m3","insert_date_":"2026-01-01T00:00:03.000Z",
                 "content":{"type":"agent-message","text":"done"}}
            ],"extra":true}"#,
        )
        .unwrap();
    let messages = answer.into_messages().unwrap();
    let ids: Vec<&str> = messages.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["m1", "m2", "m3"]);
    assert!(matches!(
        messages[1].content,
        MessageContent::WorkforceAgentRun(_)
    ));

    let error = decode::<MessagesAnswer>(r#"{"messages":[]}"#)
        .err()
        .unwrap();
    assert!(
        full_text(&error).contains("results"),
        "{}",
        full_text(&error)
    );
    let bad_item: MessagesAnswer = decode(r#"{"results":[{"content":{}}]}"#).unwrap();
    let error = bad_item.into_messages().unwrap_err();
    assert!(
        full_text(&error).contains("item_id"),
        "{}",
        full_text(&error)
    );
}

#[test]
fn task_list_body_is_exact() {
    let cases = [
        (
            WorkforceTaskListOptions::default(),
            json!({"workforce_id": "w1", "page_size": 100}),
        ),
        (
            WorkforceTaskListOptions {
                page_size: Some(5),
                search: Some("tax & fees".into()),
                cursor: Some("c2".into()),
            },
            json!({"workforce_id": "w1", "page_size": 5, "query": "tax & fees", "cursor": "c2"}),
        ),
        (
            WorkforceTaskListOptions {
                page_size: None,
                search: Some(String::new()),
                cursor: Some(String::new()),
            },
            json!({"workforce_id": "w1", "page_size": 100}),
        ),
    ];
    for (options, expected) in cases {
        assert_eq!(
            serde_json::to_value(task_list_body("w1", &options)).unwrap(),
            expected,
            "{options:?}"
        );
    }
}

#[test]
fn task_list_answer_decodes_with_its_cursor() {
    let item = r#"{"workforce_task_id":"wt1","title":"One","state":"execution-limit-reached",
            "requested_state":"stop","insert_date":"2026-01-02T03:04:05Z","update_date":"2026-01-02T03:04:06Z",
            "project":"p","workforce_id":"w1","user_id":"u","created_by_user_id":"u","extra":[1]}"#;
    let cases = [
        (
            format!(r#"{{"results":[{item}],"next_cursor":"c2"}}"#),
            Some("c2"),
        ),
        (format!(r#"{{"results":[{item}]}}"#), None),
        (format!(r#"{{"results":[{item}],"next_cursor":""}}"#), None),
        (
            format!(r#"{{"results":[{item}],"next_cursor":null}}"#),
            None,
        ),
    ];
    for (json, cursor) in cases {
        let page = decode::<TaskListAnswer>(&json)
            .unwrap()
            .into_page(&au_client(), "asked");
        assert_eq!(page.next_cursor.as_deref(), cursor, "{json}");
        assert_eq!(page.items.len(), 1);
        let task = &page.items[0];
        assert_eq!(task.id, "wt1");
        assert_eq!(task.workforce_id(), Some("w1"));
        assert_eq!(task.title, "One");
        assert_eq!(task.status, TaskStatus::Error);
        assert_eq!(task.state, "execution-limit-reached");
        assert_eq!(task.requested_state.as_deref(), Some("stop"));
        assert_eq!(
            task.updated_at,
            Some(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 6).unwrap())
        );
    }

    let bare = decode::<TaskListAnswer>(r#"{"results":[{"workforce_task_id":"wt2"}]}"#)
        .unwrap()
        .into_page(&au_client(), "asked");
    assert_eq!(bare.items[0].owner, TaskOwner::Workforce("asked".into()));
    assert_eq!(bare.items[0].status, TaskStatus::Unknown(String::new()));

    let missing = [
        (r#"{"tasks":[]}"#, "results"),
        (
            r#"{"results":[{"title":"x","state":"running"}]}"#,
            "workforce_task_id",
        ),
    ];
    for (json, field) in missing {
        let error = decode::<TaskListAnswer>(json).err().unwrap();
        assert!(
            full_text(&error).contains(field),
            "{json}: {}",
            full_text(&error)
        );
    }
}

#[test]
fn request_paths_are_the_protocol_paths() {
    let endpoints = Endpoints::hosted(Region::US);
    let cases = [
        (metadata_path("wt1"), "/latest/workforce/tasks/wt1/metadata"),
        (
            messages_path("w1", "wt1"),
            "/latest/workforce/items/w1/tasks/wt1/messages",
        ),
        (TRIGGER_PATH.to_string(), "/latest/workforce/trigger"),
        (TASK_LIST_PATH.to_string(), "/latest/workforce/tasks/list"),
    ];
    for (path, expected) in cases {
        let url = crate::http::url_with_query(&endpoints, &path, &[]).unwrap();
        assert_eq!(url.path(), expected);
    }
}

/// The stream of every task must be usable from a multi-threaded
/// runtime off the browser (it is not required to be `Send` on wasm).
#[cfg(not(target_family = "wasm"))]
#[test]
fn all_tasks_is_send_and_unpin_off_the_browser() {
    fn assert_send_unpin<S: Send + Unpin + 'static>(_: &S) {}
    let workforce = serde_json::from_str::<WorkforceItem>(r#"{"id":"w1"}"#)
        .unwrap()
        .into_workforce(&au_client());
    let stream = workforce.all_tasks(WorkforceTaskListOptions::default());
    assert_send_unpin(&stream);
}
