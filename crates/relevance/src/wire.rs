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
pub(crate) mod embed_keys;
pub(crate) mod files;
pub(crate) mod messages;
pub(crate) mod tasks;
pub(crate) mod workforces;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

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
