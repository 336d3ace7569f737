//! The live stream: `GET /{region code}/v1/stream?authorization=Bearer+{token}` (PROTOCOL A8).
//!
//! The streaming token is the whole credential (browsers cannot set headers on
//! an `EventSource`): it names one task, so a stream carries that task's
//! events only. Each `thinking` / `text` live event of the task becomes one
//! `data: {json}\n\n` frame whose `content` is a fragment, only the characters new
//! since the previous frame of its `documentId` (PROTOCOL A8). A connection gets
//! the events published after it connected, never a replay, so it never gets a
//! fragment twice; a client that reconnects misses what was typed in between and
//! reads it from the messages; a `: ping\n\n` comment every 15 s keeps proxies
//! from closing an idle stream. A stream ends when the client goes away, when
//! its token expires, when the key the token was issued to is revoked (at once:
//! PROTOCOL B), when `faults.stream_cut_every_ms` elapses, or when the
//! server starts shutting down — graceful shutdown waits for open responses,
//! so a stream that never ended would block it forever.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures_util::stream;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};
use tokio::time::{Instant, Interval};

use crate::admin::RequestLogSlot;
use crate::app::AppState;
use crate::engine::LiveEvent;
use crate::error::{echo_id, ApiError};
use crate::json::ApiQuery;
use crate::region::Region;
use crate::store::keys;
use crate::time::now_ms;

/// How often an idle stream sends a comment line.
const PING_EVERY: Duration = Duration::from_secs(15);
const PING_FRAME: &[u8] = b": ping\n\n";

#[derive(Debug, Deserialize)]
pub(crate) struct RegionPath {
    region: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct StreamQuery {
    #[serde(default)]
    authorization: Option<String>,
}

/// The token of `Bearer {token}` (the query's `+` arrives as a space); a bare token is
/// accepted too, since nothing else could be meant.
fn token_of(authorization: Option<&str>) -> Result<&str, ApiError> {
    let value = authorization.unwrap_or_default().trim_start();
    let token = match value.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("bearer ") => &value[7..],
        _ => value,
    }
    .trim();
    if token.is_empty() {
        return Err(ApiError::unauthorized(
            "missing streaming token: expected `?authorization=Bearer+{token}` with the \
             `streaming_token.token` of the task's metadata",
        ));
    }
    Ok(token)
}

/// `GET /{region}/v1/stream`.
pub(crate) async fn open(
    State(state): State<AppState>,
    Path(RegionPath { region }): Path<RegionPath>,
    ApiQuery(query): ApiQuery<StreamQuery>,
    log_slot: Option<Extension<RequestLogSlot>>,
) -> Result<Response, ApiError> {
    let region = Region::from_code(&region).ok_or_else(|| {
        ApiError::not_found(format!(
            "unknown region code {}: valid region codes are {}",
            echo_id(&region),
            Region::valid_codes()
        ))
    })?;
    let token = token_of(query.authorization.as_deref())?;
    let now = now_ms();
    let grant = state.stream_tokens().check(token, region, now)?;
    let key_id = grant.key_id.clone();
    let key_active = state
        .store
        .call(move |connection| keys::is_active(connection, &key_id))
        .await?;
    if !key_active {
        return Err(ApiError::unauthorized(
            "the key this streaming token was issued to has been revoked",
        ));
    }
    if let Some(Extension(slot)) = log_slot {
        slot.set(grant.key_id.clone(), grant.key_kind);
    }
    // Subscribe before answering: once the client has the response head, no event is missed.
    let events = state.engine.subscribe(&grant.project, &grant.task_id);
    let until_expiry = u64::try_from(grant.expires_at_ms.saturating_sub(now)).unwrap_or(0);
    let lifetime = match state.faults().faults().stream_cut_every_ms {
        Some(cut) => until_expiry.min(cut),
        None => until_expiry,
    };
    let live = LiveStream {
        revocations: state.store.key_cache().revocations(),
        state: state.clone(),
        key_id: grant.key_id.clone(),
        events,
        closing: state.streams_closing(),
        ends_at: Instant::now() + Duration::from_millis(lifetime),
        ping: tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY),
    };
    let body = Body::from_stream(stream::unfold(live, |mut live| async move {
        let frame = live.next_frame().await?;
        Some((Ok::<Bytes, std::convert::Infallible>(frame), live))
    }));
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// One open stream's sources.
struct LiveStream {
    /// Moves on every revocation: then the stream checks its own key (PROTOCOL B).
    revocations: watch::Receiver<u64>,
    state: AppState,
    key_id: String,
    events: broadcast::Receiver<LiveEvent>,
    closing: watch::Receiver<bool>,
    ends_at: Instant,
    ping: Interval,
}

impl LiveStream {
    /// The next bytes to send, or `None` when the stream must end.
    async fn next_frame(&mut self) -> Option<Bytes> {
        loop {
            let mut recheck = false;
            tokio::select! {
                biased;
                // A dropped sender means the server is gone: end as well.
                _ = self.closing.wait_for(|closing| *closing) => return None,
                _ = tokio::time::sleep_until(self.ends_at) => return None,
                changed = self.revocations.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                    // Checked after the `select!`: its futures must be gone before awaiting.
                    recheck = true;
                }
                received = self.events.recv() => match received {
                    Ok(event) => {
                        if let Some(frame) = frame(&event) {
                            return Some(frame);
                        }
                    }
                    // The skipped fragments are lost to this client (they are never sent
                    // again, or its text would repeat); the messages in the store stay
                    // the truth, and the client reads them when the reply is final.
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = self.ping.tick() => return Some(Bytes::from_static(PING_FRAME)),
            }
            if recheck && !key_still_active(&self.state, &self.key_id).await {
                return None;
            }
        }
    }
}

/// Whether a stream's key survived the latest revocation; a failing store ends it too.
async fn key_still_active(state: &AppState, key_id: &str) -> bool {
    let key_id = key_id.to_string();
    state
        .store
        .call(move |connection| keys::is_active(connection, &key_id))
        .await
        .unwrap_or(false)
}

/// The `data:` frame of a live event; `None` for events the stream does not carry.
fn frame(event: &LiveEvent) -> Option<Bytes> {
    let (kind, content, document_id) = match event {
        LiveEvent::Thinking {
            fragment,
            document_id,
        } => ("thinking", fragment, document_id),
        LiveEvent::Text {
            fragment,
            document_id,
        } => ("text", fragment, document_id),
        _ => return None,
    };
    let data = serde_json::to_string(&StreamEvent {
        kind,
        content,
        document_id,
    })
    .ok()?;
    Some(Bytes::from(format!("data: {data}\n\n")))
}

/// The JSON of one `data:` line (PROTOCOL A8), fields in the order the platform sends them.
#[derive(Serialize)]
struct StreamEvent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    content: &'a str,
    #[serde(rename = "documentId")]
    document_id: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_one_data_line_and_a_blank_line() {
        let event = LiveEvent::Text {
            fragment: "line one\nline \"two\"".to_string(),
            document_id: "doc-1".to_string(),
        };
        let text_frame = frame(&event).expect("text is streamed");
        assert_eq!(
            std::str::from_utf8(&text_frame).expect("utf-8"),
            "data: {\"type\":\"text\",\"content\":\"line one\\nline \\\"two\\\"\",\"documentId\":\"doc-1\"}\n\n"
        );
        let thinking = LiveEvent::Thinking {
            fragment: "hm".to_string(),
            document_id: "t-1".to_string(),
        };
        assert!(std::str::from_utf8(&frame_or_panic(&thinking))
            .expect("utf-8")
            .contains("\"type\":\"thinking\""));
        let ignored = [
            LiveEvent::StateChanged {
                state: "running".to_string(),
            },
            LiveEvent::MessageWritten {
                item_id: "m".to_string(),
            },
            LiveEvent::MessageFinal {
                item_id: "m".to_string(),
            },
        ];
        for event in ignored {
            assert!(frame(&event).is_none(), "{event:?}");
        }
    }

    fn frame_or_panic(event: &LiveEvent) -> Bytes {
        frame(event).expect("streamed event")
    }

    #[test]
    fn the_token_comes_after_an_optional_bearer() {
        let cases = [
            (Some("Bearer st-abc"), Some("st-abc")),
            (Some("bearer   st-abc "), Some("st-abc")),
            (Some("st-abc"), Some("st-abc")),
            (Some("Bearer "), None),
            (Some(""), None),
            (None, None),
        ];
        for (input, expected) in cases {
            assert_eq!(token_of(input).ok(), expected, "{input:?}");
        }
    }
}
