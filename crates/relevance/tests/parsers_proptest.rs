//! Property tests of the SDK's public parsers: whatever the input, a typed answer, never a
//! panic. Bounded: 256 cases per property, shrinking on failure. (Message decoding is
//! crate-private; its properties live beside it in `src/wire/messages.rs`.)
#![cfg(not(target_family = "wasm"))]

use proptest::prelude::*;
use relevance::Key;
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

}
