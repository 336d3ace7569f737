//! The live stream: `GET /{region code}/v1/stream?authorization=Bearer+{token}` (PROTOCOL A8).
//!
//! The streaming token is the whole credential (browsers cannot set headers on
//! an `EventSource`): it names one task, so a stream carries that task's
//! events only. Each `thinking` / `text` live event of the task becomes one
//! `data: {json}\n\n` frame whose `content` is a fragment, only the characters new
//! since the previous frame of its `documentId` (PROTOCOL A8). A connection gets
//! the events published after it connected, never a replay, so it never gets a
//! fragment twice; a client that reconnects misses what was typed in between and
//! reads it from the messages; a `: ping\n\n` comment after 15 s without a frame
//! ([`Sse`]'s keep-alive) keeps proxies from closing an idle stream. A stream ends when the client goes away, when
//! its token expires, when the key the token was issued to is revoked (at once:
//! PROTOCOL B), when `faults.stream_cut_every_ms` elapses, or when the
//! server starts shutting down — graceful shutdown waits for open responses,
//! so a stream that never ended would block it forever.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures_util::stream;
use serde::Serialize;
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

use crate::auth::{key_still_active, StreamGrant};
use crate::engine::LiveEvent;
use crate::state::AppState;
use crate::time::now_ms;

/// How long an idle stream waits before it sends a `: ping` comment.
const PING_EVERY: Duration = Duration::from_secs(15);

/// `GET /{region}/v1/stream`: the route's guard has checked the streaming token
/// (`auth::stream_auth`) and put its grant into the request.
pub(crate) async fn open(
    State(state): State<AppState>,
    Extension(grant): Extension<StreamGrant>,
) -> Response {
    // Subscribe before answering: once the client has the response head, no event is missed.
    let events = state.engine().subscribe(&grant.project, &grant.task_id);
    let until_expiry = u64::try_from(grant.expires_at_ms.saturating_sub(now_ms())).unwrap_or(0);
    let lifetime = match state.faults().faults().stream_cut_every_ms {
        Some(cut) => until_expiry.min(cut),
        None => until_expiry,
    };
    let live = LiveStream {
        revocations: state.store().key_cache().revocations(),
        state: state.clone(),
        key_id: grant.key_id,
        events,
        closing: state.streams_closing(),
        ends_at: Instant::now() + Duration::from_millis(lifetime),
    };
    let frames = stream::unfold(live, |mut live| async move {
        let frame = live.next_frame().await?;
        Some((Ok::<Event, Infallible>(frame), live))
    });
    Sse::new(frames)
        .keep_alive(KeepAlive::new().interval(PING_EVERY).text("ping"))
        .into_response()
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
}

impl LiveStream {
    /// The next event to send, or `None` when the stream must end (the keep-alive pings
    /// in between are [`Sse`]'s).
    async fn next_frame(&mut self) -> Option<Event> {
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
                        if let Some(data) = frame_data(&event) {
                            return Some(Event::default().data(data));
                        }
                    }
                    // The skipped fragments are lost to this client (they are never sent
                    // again, or its text would repeat); the messages in the store stay
                    // the truth, and the client reads them when the reply is final.
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
            }
            // A failing store ends the stream too.
            if recheck
                && !key_still_active(&self.state, &self.key_id)
                    .await
                    .unwrap_or(false)
            {
                return None;
            }
        }
    }
}

/// The JSON of a live event's one `data:` line; `None` for events the stream does not
/// carry. serde_json escapes newlines, so [`Event::data`] writes exactly one `data:` line.
fn frame_data(event: &LiveEvent) -> Option<String> {
    let (kind, content, document_id) = match event {
        LiveEvent::Thinking { delta, message_id } => ("thinking", delta, message_id),
        LiveEvent::Typing { delta, message_id } => ("text", delta, message_id),
        _ => return None,
    };
    serde_json::to_string(&StreamEvent {
        kind,
        content,
        document_id,
    })
    .ok()
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
    use axum::body::Bytes;

    #[test]
    fn frames_are_one_data_line_and_a_blank_line() {
        let event = LiveEvent::Typing {
            delta: "line one\nline \"two\"".to_string(),
            message_id: "doc-1".to_string(),
        };
        let text_frame = frame(&event).expect("text is streamed");
        assert_eq!(
            std::str::from_utf8(&text_frame).expect("utf-8"),
            "data: {\"type\":\"text\",\"content\":\"line one\\nline \\\"two\\\"\",\"documentId\":\"doc-1\"}\n\n"
        );
        let thinking = LiveEvent::Thinking {
            delta: "hm".to_string(),
            message_id: "t-1".to_string(),
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

    /// The bytes [`Sse`] writes for an event's data.
    fn frame(event: &LiveEvent) -> Option<Bytes> {
        let data = frame_data(event)?;
        let mut written = Vec::new();
        let body = Sse::new(stream::iter([Ok::<Event, Infallible>(
            Event::default().data(data),
        )]))
        .into_response()
        .into_body();
        let bytes = futures_executor_block_on(axum::body::to_bytes(body, 4096)).ok()?;
        written.extend_from_slice(&bytes);
        Some(Bytes::from(written))
    }

    fn futures_executor_block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(future)
    }
}
