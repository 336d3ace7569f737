//! The in-memory log of the last requests the server answered, for `GET /admin/requests`.
//!
//! It records the path without its query string (a stream token may ride
//! there) and, for authenticated requests, the key's id and kind, never its value.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::store::cached_rows::KeyKind;

/// How many requests the ring buffer keeps.
pub(crate) const CAPACITY: usize = 10_000;

/// One answered request, as the admin API shows it.
///
/// `latency_ms` is for the dashboard only: PROTOCOL B lists the admin API's
/// fields exactly, so it stays off the wire.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LoggedRequest {
    pub(crate) at: String,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) key_kind: Option<&'static str>,
    /// From the request reaching the log's middleware to the response head being ready
    /// (a streamed body keeps flowing after that).
    #[serde(skip)]
    pub(crate) latency_ms: f64,
}

/// The ring buffer.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    entries: Mutex<VecDeque<LoggedRequest>>,
}

impl RequestLog {
    pub(crate) fn push(&self, entry: LoggedRequest) {
        // A poisoned log only means a panic elsewhere mid-push; the entries are still valid.
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() == CAPACITY {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// The newest `limit` entries, newest first.
    pub(crate) fn newest(&self, limit: usize) -> Vec<LoggedRequest> {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.iter().rev().take(limit).cloned().collect()
    }
}

/// Where authentication leaves the caller's key id and kind for the log line.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestLogSlot(Arc<Mutex<Option<(String, KeyKind)>>>);

impl RequestLogSlot {
    pub(crate) fn set(&self, key_id: String, kind: KeyKind) {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some((key_id, kind));
    }

    pub(crate) fn take(&self) -> Option<(String, KeyKind)> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
    }
}
