//! Property tests of the SDK's public parsers: whatever the input, a typed answer, never a
//! panic. Bounded: 256 cases per property, shrinking on failure.
#![cfg(not(target_family = "wasm"))]

use proptest::prelude::*;
use relevance::{Key, Message};
use serde_json::{json, Value};

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,24}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,12}", inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

const KEY_FIELDS: [&str; 6] = [
    "key",
    "region",
    "project",
    "agentId",
    "taskPrefix",
    "workforceId",
];
const KINDS: [&str; 8] = [
    "user-message",
    "agent-message",
    "agent-error",
    "tool-run",
    "workforce-agent-run",
    "workforce-agent-handover",
    "something-new",
    "",
];

/// An object with the persisted key's field names, each holding any JSON.
fn key_like() -> impl Strategy<Value = Value> {
    prop::collection::vec(
        (prop::sample::select(KEY_FIELDS.to_vec()), any_json()),
        0..8,
    )
    .prop_map(|fields| {
        Value::Object(
            fields
                .into_iter()
                .map(|(name, value)| (name.to_string(), value))
                .collect(),
        )
    })
}

/// A message item of a given kind whose fields hold any JSON.
fn message_like() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(KINDS.to_vec()),
        prop::collection::btree_map(
            prop::sample::select(vec![
                "text",
                "generating",
                "thinking",
                "is_trigger_message",
                "attachments",
                "errors",
                "tool_run_state",
                "output",
                "params",
                "requires_confirmation",
                "agent_id",
                "conversation_id",
                "tool_config",
                "agent_details",
                "status",
            ]),
            any_json(),
            0..8,
        ),
        any_json(),
        any_json(),
    )
        .prop_map(|(kind, fields, item_id, date)| {
            let mut content: serde_json::Map<String, Value> = fields
                .into_iter()
                .map(|(name, value)| (name.to_string(), value))
                .collect();
            content.insert("type".to_string(), json!(kind));
            json!({"item_id": item_id, "insert_date_": date, "content": content})
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn key_from_json_never_panics_on_any_text(text in ".{0,200}") {
        let _ = Key::from_json(&text);
    }

    #[test]
    fn key_from_json_never_panics_on_key_shaped_json(value in key_like()) {
        match Key::from_json(&value.to_string()) {
            // A key that parsed writes itself back to something that parses the same.
            Ok(key) => {
                let again = Key::from_json(&key.to_json()).expect("a written key reads back");
                prop_assert_eq!(again.to_json(), key.to_json());
            }
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }

    #[test]
    fn message_from_value_never_panics_for_any_kind(value in message_like()) {
        let _ = Message::from_value(value);
    }

    #[test]
    fn message_from_value_never_panics_on_any_json(value in any_json()) {
        let _ = Message::from_value(value);
    }
}
