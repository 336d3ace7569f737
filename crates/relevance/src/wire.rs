//! The platform's wire shapes, one module per PROTOCOL section: request
//! bodies (`Serialize`), answers (`Deserialize`), paths. Plain data: nothing
//! here sends a request, holds a [`Client`](crate::Client) or knows a handle.
//!
//! Rules every shape follows:
//! * Answers are lenient: unknown fields are ignored, and an optional field
//!   that is missing or ill-typed reads as absent (fields are taken as
//!   [`Value`] and read with [`string`] / [`timestamp`]); only the fields
//!   that identify something are required, and their absence is a decode
//!   error naming them.
//! * Request bodies leave an unused field out, never `null`. Their fields are
//!   declared in alphabetical order: that is the order `serde_json`'s map
//!   wrote them in before these types existed, so the bytes sent are the same.
//! * Path ids are inserted without encoding (PROTOCOL A9).

pub(crate) mod agents;
pub(crate) mod auth;
pub(crate) mod embed_keys;
pub(crate) mod files;
pub(crate) mod jobs;
pub(crate) mod knowledge;
pub(crate) mod messages;
pub(crate) mod tasks;
pub(crate) mod tools;
pub(crate) mod workforces;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// A string field read leniently: anything but a string is absent.
pub(crate) fn string(value: Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text),
        _ => None,
    }
}

/// A platform time: ISO-8601 with an offset, or without one (the platform's
/// Python side writes naive UTC times). Anything else is absent.
pub(crate) fn timestamp(value: &Value) -> Option<DateTime<Utc>> {
    let text = value.as_str()?.trim();
    if let Ok(parsed) = DateTime::parse_from_rfc3339(text) {
        return Some(parsed.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| naive.and_utc())
}

/// `{"results": [...]}`: the answer of every list of messages (agent `view`,
/// workforce `messages`); each item is decoded by `wire::messages`.
#[derive(serde::Deserialize)]
pub(crate) struct Results<T> {
    pub(crate) results: Vec<T>,
}

/// A JSON object decoded as `T`, with the whole object kept beside it: the SDK models
/// the fields it reads, and sends the object back (`agent_override`) or hands it to the
/// caller as-is, so fields it does not know are never lost.
pub(crate) struct WithRaw<T> {
    pub(crate) config: T,
    pub(crate) raw: Map<String, Value>,
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for WithRaw<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let raw = Map::<String, Value>::deserialize(deserializer)?;
        let config =
            T::deserialize(Value::Object(raw.clone())).map_err(serde::de::Error::custom)?;
        Ok(WithRaw { config, raw })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map, Value};

    use super::*;
    use crate::message::AttachedFile;
    use crate::wire::messages::UserMessageBody;

    /// The bodies are byte for byte what the `json!` maps these types
    /// replaced wrote (serde_json without `preserve_order` sorts map keys).
    #[test]
    fn request_bodies_keep_their_bytes() {
        let files = [AttachedFile {
            file_name: "a.pdf".into(),
            file_url: "https://cdn/a.pdf".into(),
        }];
        let mut config = Map::new();
        config.insert("name".into(), json!("Helper"));
        let cases: Vec<(String, Value)> = vec![
            (
                serde_json::to_string(&agents::TriggerBody {
                    agent_id: "a1",
                    agent_override: Some(agents::streaming_override(&config)),
                    conversation_id: Some("t1"),
                    external_id: None,
                    external_id_behaviour: None,
                    message: UserMessageBody::new("hi", Some(&files)),
                    params: None,
                    version: None,
                })
                .unwrap(),
                json!({"agent_id": "a1", "conversation_id": "t1",
                       "agent_override": {"name": "Helper", "use_streaming": true},
                       "message": {"role": "user", "content": "hi",
                                   "attachments": [{"file_name": "a.pdf", "file_url": "https://cdn/a.pdf"}]}}),
            ),
            (
                serde_json::to_string(&agents::TriggerBody {
                    agent_id: "a1",
                    agent_override: None,
                    conversation_id: None,
                    external_id: Some("order-1"),
                    external_id_behaviour: Some("nothing"),
                    message: UserMessageBody::new("hi", None),
                    params: Some(&config),
                    version: Some("draft"),
                })
                .unwrap(),
                json!({"agent_id": "a1", "external_id": "order-1",
                       "external_id_behaviour": "nothing",
                       "message": {"role": "user", "content": "hi"},
                       "params": {"name": "Helper"}, "version": "draft"}),
            ),
            (
                serde_json::to_string(&agents::RegenerateBody {
                    action: "regenerate",
                    agent_id: "a1",
                    conversation_id: "t1",
                    regenerate_message_id: None,
                    use_first_message: Some(true),
                })
                .unwrap(),
                json!({"action": "regenerate", "agent_id": "a1", "conversation_id": "t1",
                       "use_first_message": true}),
            ),
            (
                serde_json::to_string(&workforces::TriggerBody {
                    trigger: workforces::Trigger {
                        message: UserMessageBody::new("hi", Some(&[])),
                        use_streaming: true,
                    },
                    workforce_id: "w1",
                    workforce_task_id: Some("t1"),
                })
                .unwrap(),
                json!({"workforce_id": "w1", "workforce_task_id": "t1",
                       "trigger": {"use_streaming": true,
                                   "message": {"role": "user", "content": "hi", "attachments": []}}}),
            ),
            (
                serde_json::to_string(&workforces::TaskListBody {
                    cursor: Some("c"),
                    page_size: 5,
                    query: Some("q"),
                    workforce_id: "w1",
                })
                .unwrap(),
                json!({"workforce_id": "w1", "page_size": 5, "query": "q", "cursor": "c"}),
            ),
            (
                serde_json::to_string(&tasks::ViewBody::after(Some("2026-01-01T00:00:00Z")))
                    .unwrap(),
                json!({"page_size": 1000, "cursor": {"after": "2026-01-01T00:00:00Z"}}),
            ),
            (
                serde_json::to_string(&agents::ListBody {
                    page: 1,
                    page_size: 20,
                })
                .unwrap(),
                json!({"page_size": 20, "page": 1}),
            ),
            (
                serde_json::to_string(&embed_keys::WorkforceBody {
                    project: "p",
                    workforce_id: "w1",
                })
                .unwrap(),
                json!({"workforce_id": "w1", "project": "p"}),
            ),
            (
                serde_json::to_string(&files::UploadUrlBody::for_file("a.tar.gz")).unwrap(),
                json!({"filename": "a.tar.gz", "extension": "gz"}),
            ),
        ];
        for (sent, before) in cases {
            assert_eq!(sent, before.to_string());
        }
    }
}
