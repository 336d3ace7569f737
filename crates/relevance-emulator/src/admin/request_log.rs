//! The in-memory log of the last requests the server answered, for `GET /admin/requests`.
//!
//! It records the path without its query string (a stream token may ride
//! there) and, for authenticated requests, the key's id and kind, never its value.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;

use crate::app::AppState;
use crate::auth::redact;
use crate::faults::DroppedConnection;
use crate::store::keys::KeyKind;
use crate::time::now_iso;

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
    fn push(&self, entry: LoggedRequest) {
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

    fn take(&self) -> Option<(String, KeyKind)> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
    }
}

/// `path` as the request log shows it: every segment that is a secret redacted. Request
/// tracing (`app::trace_layer`) logs paths through this too.
pub(crate) fn redacted_path(state: &AppState, path: &str) -> String {
    redact::redact_all(path, &redact::secret_segments(state, path))
}

/// An error answer whose body may echo a path segment that is a secret, with it redacted.
/// Success bodies are left alone: they are streams and files, and never echo the path.
async fn redact_error_body(response: Response, secrets: &[String]) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(bytes) => bytes,
        Err(_) => return Response::from_parts(parts, axum::body::Body::empty()),
    };
    let text = String::from_utf8_lossy(&bytes);
    let redacted = redact::redact_all(&text, secrets);
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(redacted))
}

/// Outermost middleware: logs every answered request, matched route or not.
pub(crate) async fn record_requests(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let method = request.method().to_string();
    // A key pasted into a path must not land in the log, the dashboard or an error body.
    let secrets = redact::secret_segments(&state, request.uri().path());
    let path = redact::redact_all(request.uri().path(), &secrets);
    let slot = RequestLogSlot::default();
    request.extensions_mut().insert(slot.clone());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let key = slot.take();
    let response = if secrets.is_empty() {
        response
    } else {
        redact_error_body(response, &secrets).await
    };
    let status_code = response.status();
    if status_code.is_server_error() {
        tracing::error!(%method, %path, status = status_code.as_u16(), "answered with a server error");
    }
    // A connection dropped by fault injection got no answer at all: status 0.
    let status = if response.extensions().get::<DroppedConnection>().is_some() {
        0
    } else {
        response.status().as_u16()
    };
    state.request_log().push(LoggedRequest {
        at: now_iso(),
        method,
        path,
        status,
        key_kind: key.as_ref().map(|(_, kind)| kind.as_str()),
        key_id: key.map(|(id, _)| id),
        latency_ms,
    });
    response
}
