//! The live stream (PROTOCOL A8): a streaming token, the connection, and
//! the server-sent events that carry thinking and typing tokens.
//!
//! Tokens are only a preview of what the agent is writing; the messages
//! themselves always come from polling (`events`). So nothing here may
//! ever be needed for correctness: a malformed event, an unknown type or a
//! dropped connection is skipped, never an error of the task's events. This
//! module never spawns anything: the connection is a stream that its owner
//! polls and closes by dropping it.
//!
//! Everything of the live stream lives under `events`: this file is its
//! wire side, `live` its reconnecting machine, `followed` the one place the
//! stream calls into the client.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use eventsource_stream::{EventStream, EventStreamError};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::Value;

use url::Url;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::http::{open_stream, ByteStream, Request};
use crate::runtime::BoxFuture;

/// How far into a token's life it is replaced: late enough to make few
/// metadata reads, early enough that a slow read still beats the expiry.
const REFRESH_AT_FRACTION: (u64, u64) = (4, 5);

/// The longest event kept while waiting for its end: a stream that never
/// sends a blank line must not grow memory without bound.
const LONGEST_EVENT_BYTES: usize = 1 << 20;

/// A live-stream token from task metadata: `{"token", "expiry_time_ms"}`.
/// It grants reading the task's stream, so its value is never shown.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct StreamingToken {
    /// The token, pasted into the stream URL as it is.
    pub(crate) token: String,
    /// When it stops working, in milliseconds since the Unix epoch.
    pub(crate) expiry_time_ms: u64,
}

impl StreamingToken {
    /// The token of a metadata answer's `streaming_token`, when it is
    /// usable. Only `A-Z a-z 0-9 - _ .` may go into the URL unencoded
    /// (PROTOCOL A8), so a token with anything else is not used.
    pub(crate) fn from_value(value: &Value) -> Option<StreamingToken> {
        let token = value.get("token")?.as_str()?;
        let expiry_time_ms = value.get("expiry_time_ms").and_then(|expiry| {
            expiry
                .as_u64()
                .or_else(|| expiry.as_f64().filter(|ms| *ms >= 0.0).map(|ms| ms as u64))
        })?;
        let url_safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if token.is_empty() || !token.chars().all(url_safe) {
            return None;
        }
        Some(StreamingToken {
            token: token.to_string(),
            expiry_time_ms,
        })
    }

    /// When to read a fresh token (epoch ms), for a token received at
    /// `received_ms`: at 80 % of the life it had left then; at once when it
    /// was already expired.
    pub(crate) fn refresh_at_ms(&self, received_ms: u64) -> u64 {
        let life = self.expiry_time_ms.saturating_sub(received_ms);
        let (numerator, denominator) = REFRESH_AT_FRACTION;
        received_ms.saturating_add(
            life / denominator * numerator + life % denominator * numerator / denominator,
        )
    }
}

impl fmt::Debug for StreamingToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamingToken")
            .field("token", &"<redacted>")
            .field("expiry_time_ms", &self.expiry_time_ms)
            .finish()
    }
}

/// One live token of the stream: a fragment, not the text so far (PROTOCOL
/// A8; the event stream adds fragments up per message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LiveToken {
    /// `"type": "thinking"`: a fragment of the agent's reasoning.
    Thinking {
        fragment: String,
        message_id: Option<String>,
    },
    /// `"type": "text"`: a fragment of the response text as it is typed.
    Typing {
        fragment: String,
        message_id: Option<String>,
    },
}

/// The live body's events (PROTOCOL A8), parsed by `eventsource-stream`,
/// as thinking and typing tokens. Chunks may cut an event, a line or a
/// UTF-8 character anywhere. Only the first `data:` line of an event
/// counts; an event without a usable token is skipped, never an error.
pub(crate) struct LiveEvents {
    events: EventStream<Guarded>,
}

impl LiveEvents {
    /// Reads the tokens of an open connection's body.
    pub(crate) fn new(body: LiveBody) -> LiveEvents {
        LiveEvents {
            events: EventStream::new(Guarded::new(body)),
        }
    }
}

impl Stream for LiveEvents {
    /// A token, or the connection's failure. The stream ends with the
    /// connection.
    type Item = Result<LiveToken>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            return match Pin::new(&mut this.events).poll_next(cx) {
                Poll::Ready(Some(Ok(event))) => match parse_data(&event.data) {
                    Some(token) => Poll::Ready(Some(Ok(token))),
                    None => continue,
                },
                Poll::Ready(Some(Err(EventStreamError::Transport(error)))) => {
                    Poll::Ready(Some(Err(error)))
                }
                // The guard hands on valid UTF-8 only, and every line
                // parses; should either fail, the parser would repeat it
                // forever: count the connection as ended.
                Poll::Ready(Some(Err(_))) | Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            };
        }
    }
}

impl fmt::Debug for LiveEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveEvents").finish_non_exhaustive()
    }
}

/// The body as the SSE parser gets it: valid UTF-8 (a byte sequence that
/// is not becomes NUL, which no JSON string may hold, so an event with one
/// in its data is skipped), and never an event longer than
/// [`LONGEST_EVENT_BYTES`] (a blank line is put in after that many bytes
/// without one, so a stream that never ends an event cannot grow memory).
struct Guarded {
    body: LiveBody,
    /// The start of a UTF-8 character cut by the end of the last chunk.
    carry: Vec<u8>,
    /// Bytes since the last blank line.
    pending: usize,
    /// The line so far is empty.
    line_empty: bool,
    /// The last byte handed on was a CR (a LF right after it ends the same line).
    after_cr: bool,
}

impl Guarded {
    fn new(body: LiveBody) -> Guarded {
        Guarded {
            body,
            carry: Vec::new(),
            pending: 0,
            line_empty: true,
            after_cr: false,
        }
    }

    /// The chunk as valid UTF-8, the cut character's start kept for the next.
    fn decode(&mut self, chunk: &[u8]) -> Vec<u8> {
        let mut input = std::mem::take(&mut self.carry);
        input.extend_from_slice(chunk);
        let mut out = Vec::with_capacity(input.len());
        let mut rest = &input[..];
        while !rest.is_empty() {
            match std::str::from_utf8(rest) {
                Ok(valid) => {
                    out.extend_from_slice(valid.as_bytes());
                    break;
                }
                Err(error) => {
                    let (valid, after) = rest.split_at(error.valid_up_to());
                    out.extend_from_slice(valid);
                    match error.error_len() {
                        Some(bad) => {
                            out.push(0);
                            rest = &after[bad..];
                        }
                        None => {
                            self.carry = after.to_vec();
                            break;
                        }
                    }
                }
            }
        }
        out
    }

    /// Counts the bytes of the current event and ends one that grew too long.
    fn bound(&mut self, mut bytes: Vec<u8>) -> Vec<u8> {
        for &byte in &bytes {
            match byte {
                b'\n' if self.after_cr => {}
                b'\n' | b'\r' => {
                    if self.line_empty {
                        self.pending = 0;
                    }
                    self.line_empty = true;
                }
                _ => self.line_empty = false,
            }
            self.after_cr = byte == b'\r';
            self.pending += 1;
        }
        if self.pending > LONGEST_EVENT_BYTES {
            bytes.extend_from_slice(b"\n\n");
            self.pending = 0;
            self.line_empty = true;
            self.after_cr = false;
        }
        bytes
    }
}

impl Stream for Guarded {
    type Item = Result<Vec<u8>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match this.body.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                let decoded = this.decode(&chunk);
                Poll::Ready(Some(Ok(this.bound(decoded))))
            }
            other => other,
        }
    }
}

/// The event's JSON: `{"type", "content", "documentId"}`.
#[derive(Deserialize)]
struct WireEvent {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    content: Value,
    #[serde(default, rename = "documentId")]
    document_id: Value,
}

/// One event's token, from its data (the `data:` lines joined by LF): the
/// first line, parsed; anything else (bad JSON, no content, an unknown
/// type) is no token.
fn parse_data(data: &str) -> Option<LiveToken> {
    let first = data.split('\n').next()?;
    let wire: WireEvent = serde_json::from_str(first).ok()?;
    let fragment = match wire.content {
        Value::String(fragment) => fragment,
        _ => return None,
    };
    let message_id = match wire.document_id {
        Value::String(id) if !id.is_empty() => Some(id),
        _ => None,
    };
    match wire.kind.as_str() {
        "thinking" => Some(LiveToken::Thinking {
            fragment,
            message_id,
        }),
        "text" => Some(LiveToken::Typing {
            fragment,
            message_id,
        }),
        _ => None,
    }
}

/// The body of an open live stream: the request layer's streamed answer.
pub(crate) type LiveBody = ByteStream;

/// Opens the live stream for a streaming `token` through the request layer:
/// the in-flight limit, the error mapping, a span that logs the stream's path
/// but never its token. A URL that does not parse is an error before anything
/// is sent (and the URL, which carries the token, is not in it).
pub(crate) fn open(client: &Client, token: &str) -> BoxFuture<Result<LiveBody>> {
    let Ok(url) = Url::parse(&client.endpoints().stream_url(token)) else {
        return Box::pin(std::future::ready(Err(Error::InvalidAnswer {
            what: "streaming token".to_string(),
            problem: "the stream URL it makes is not a URL".to_string(),
        })));
    };
    open_stream(client.transport().http, Request::live_stream(url))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use futures_util::{FutureExt, StreamExt};
    use serde_json::json;

    fn thinking(text: &str, id: Option<&str>) -> LiveToken {
        LiveToken::Thinking {
            fragment: text.into(),
            message_id: id.map(str::to_string),
        }
    }

    fn typing(text: &str, id: Option<&str>) -> LiveToken {
        LiveToken::Typing {
            fragment: text.into(),
            message_id: id.map(str::to_string),
        }
    }

    fn body_of(chunks: Vec<Vec<u8>>) -> LiveBody {
        Box::pin(futures_util::stream::iter(chunks.into_iter().map(Ok)))
    }

    /// The tokens of a body made of `chunks`, read to its end.
    fn tokens_of(chunks: Vec<Vec<u8>>) -> Vec<LiveToken> {
        LiveEvents::new(body_of(chunks))
            .map(|token| token.expect("no transport error"))
            .collect::<Vec<_>>()
            .now_or_never()
            .expect("the body is all there")
    }

    #[test]
    fn sse_parsing_table() {
        let think = r#"data: {"type":"thinking","content":"hm","documentId":"d1"}"#;
        let text = r#"data: {"type":"text","content":"Hel","documentId":"d2"}"#;
        // (chunks, expected tokens after all chunks)
        let cases: Vec<(Vec<String>, Vec<LiveToken>)> = vec![
            (
                vec![format!("{think}\n\n")],
                vec![thinking("hm", Some("d1"))],
            ),
            (
                vec![format!("{think}\n\n{text}\n\n")],
                vec![thinking("hm", Some("d1")), typing("Hel", Some("d2"))],
            ),
            // An event cut in three, across the separator too.
            (
                vec![
                    think[..10].to_string(),
                    format!("{}\n", &think[10..]),
                    "\n".to_string(),
                ],
                vec![thinking("hm", Some("d1"))],
            ),
            // Junk lines, comments and other fields around the data line.
            (
                vec![format!(
                    ": keep-alive\n\nevent: message\nid: 7\n{text}\nretry: 5\n\ngarbage\n\n"
                )],
                vec![typing("Hel", Some("d2"))],
            ),
            // Unknown types, bad JSON, no content, no data: ignored.
            (
                vec![concat!(
                    "data: {\"type\":\"done\",\"content\":\"x\"}\n\n",
                    "data: {not json\n\n",
                    "data: {\"type\":\"text\"}\n\n",
                    "data: {\"type\":\"text\",\"content\":5}\n\n",
                    "\n\n",
                    "data: {\"type\":\"text\",\"content\":\"ok\"}\n\n",
                )
                .to_string()],
                vec![typing("ok", None)],
            ),
            // No leading space after `data:`, an empty documentId, CR before LF.
            (
                vec![
                    "data:{\"type\":\"thinking\",\"content\":\"a b\",\"documentId\":\"\"}\r\n\n"
                        .to_string(),
                ],
                vec![thinking("a b", None)],
            ),
            // Only the first `data:` line counts: later ones are not joined to it.
            (
                vec![format!("{text}\n{think}\n\ndata: {{\"type\":\n{text}\n\n")],
                vec![typing("Hel", Some("d2"))],
            ),
            // Not finished yet: nothing.
            (vec![think.to_string()], vec![]),
        ];
        for (chunks, expected) in cases {
            let bytes = chunks.iter().map(|c| c.as_bytes().to_vec()).collect();
            assert_eq!(tokens_of(bytes), expected, "{chunks:?}");
        }
    }

    #[test]
    fn a_character_split_across_chunks_survives() {
        let event = "data: {\"type\":\"text\",\"content\":\"café ☕\"}\n\n".as_bytes();
        for cut in 1..event.len() {
            let tokens = tokens_of(vec![event[..cut].to_vec(), event[cut..].to_vec()]);
            assert_eq!(tokens, vec![typing("café ☕", None)], "cut at {cut}");
        }
        // Byte by byte, two events.
        let bytes = [event, event].concat();
        let tokens = tokens_of(bytes.iter().map(|byte| vec![*byte]).collect());
        assert_eq!(tokens.len(), 2);
    }

    #[test]
    fn an_event_that_is_not_utf8_is_skipped_and_the_next_one_read() {
        let good = b"data: {\"type\":\"text\",\"content\":\"ok\"}\n\n".to_vec();
        let bad = b"data: {\"type\":\"text\",\"content\":\"b\xffd\"}\n\n".to_vec();
        let cut = b"data: {\"type\":\"text\",\"content\":\"\xe2\x98".to_vec();
        let tokens = tokens_of(vec![bad, good.clone(), cut, b"\n\n".to_vec(), good]);
        assert_eq!(tokens, vec![typing("ok", None), typing("ok", None)]);
    }

    #[test]
    fn an_endless_event_does_not_grow_without_bound() {
        let mut guard = Guarded::new(body_of(vec![]));
        let junk = vec![b'x'; 64 * 1024];
        let mut ends = 0;
        for _ in 0..40 {
            let out = guard.bound(junk.clone());
            ends += usize::from(out.ends_with(b"\n\n"));
            assert!(guard.pending <= LONGEST_EVENT_BYTES);
        }
        assert!(ends >= 2, "a blank line is put in every megabyte");
        // Events that end are never cut.
        let mut guard = Guarded::new(body_of(vec![]));
        let event = b"data: {\"type\":\"text\",\"content\":\"x\"}\r\n\r\n".to_vec();
        for _ in 0..40_000 {
            assert_eq!(guard.bound(event.clone()), event);
        }
        let mut chunks = vec![junk; 40];
        chunks.push(b"\n\ndata: {\"type\":\"text\",\"content\":\"after\"}\n\n".to_vec());
        assert_eq!(tokens_of(chunks), vec![typing("after", None)]);
    }

    #[test]
    fn a_transport_error_is_yielded_and_the_end_of_the_body_ends_the_stream() {
        let error = Error::Server {
            status: 502,
            message: None,
            error_type: None,
        };
        let body: LiveBody = Box::pin(futures_util::stream::iter(vec![
            Ok(b"data: {\"type\":\"text\",\"content\":\"a\"}\n\n".to_vec()),
            Err(error),
        ]));
        let items = LiveEvents::new(body)
            .collect::<Vec<_>>()
            .now_or_never()
            .unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].as_ref().unwrap(), &typing("a", None));
        assert_eq!(items[1].as_ref().unwrap_err().status(), Some(502));
    }

    #[test]
    fn streaming_tokens_are_read_leniently_and_only_when_url_safe() {
        let cases = [
            (
                json!({"token": "abc-_.9", "expiry_time_ms": 1700000000000u64}),
                true,
            ),
            (json!({"token": "abc", "expiry_time_ms": 1.7e12}), true),
            (json!({"token": "a b", "expiry_time_ms": 1}), false),
            (json!({"token": "a+b", "expiry_time_ms": 1}), false),
            (json!({"token": "a&x=1", "expiry_time_ms": 1}), false),
            (json!({"token": "", "expiry_time_ms": 1}), false),
            (json!({"token": "abc"}), false),
            (json!({"token": "abc", "expiry_time_ms": "soon"}), false),
            (json!({"token": "abc", "expiry_time_ms": -5}), false),
            (json!({"expiry_time_ms": 1}), false),
            (Value::Null, false),
        ];
        for (value, usable) in cases {
            assert_eq!(
                StreamingToken::from_value(&value).is_some(),
                usable,
                "{value}"
            );
        }
        let token =
            StreamingToken::from_value(&json!({"token": "secret-tok", "expiry_time_ms": 5}))
                .unwrap();
        assert!(!format!("{token:?}").contains("secret-tok"));
    }

    #[test]
    fn a_token_is_refreshed_at_eighty_percent_of_its_life() {
        let token = |expiry| StreamingToken {
            token: "t".into(),
            expiry_time_ms: expiry,
        };
        // (expiry, received, refresh at)
        let cases = [
            (1_000_000 + 60_000, 1_000_000, 1_000_000 + 48_000),
            (1_000_000 + 10, 1_000_000, 1_000_000 + 8),
            (1_000_000 + 1, 1_000_000, 1_000_000),
            (1_000_000, 1_000_000, 1_000_000),
            (500, 1_000_000, 1_000_000),
            (u64::MAX, 0, u64::MAX / 5 * 4),
        ];
        for (expiry, received, expected) in cases {
            assert_eq!(
                token(expiry).refresh_at_ms(received),
                expected,
                "{expiry} {received}"
            );
        }
    }
}

/// The SSE parser under arbitrary bytes and arbitrary chunking: never a panic, and how the
/// bytes are cut never changes what comes out. Bounded: 256 cases, shrinking on failure.
#[cfg(all(test, not(target_family = "wasm")))]
mod proptests {
    use super::*;
    use futures_util::{FutureExt, StreamExt};
    use proptest::prelude::*;

    /// The tokens of a body made of `chunks`, read to its end.
    fn tokens_of(chunks: Vec<Vec<u8>>) -> Vec<LiveToken> {
        let body: LiveBody = Box::pin(futures_util::stream::iter(chunks.into_iter().map(Ok)));
        LiveEvents::new(body)
            .map(|token| token.expect("no transport error"))
            .collect::<Vec<_>>()
            .now_or_never()
            .expect("the body is all there")
    }

    /// Streams made of plausible pieces (frames, comments, junk, CRs, split UTF-8).
    fn stream_bytes() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(
                b"data: {\"type\":\"text\",\"content\":\"h\xc3\xa9\",\"documentId\":\"d\"}\n\n"
                    .to_vec()
            ),
            Just(b"data: {\"type\":\"thinking\",\"content\":\"x\"}\r\n\r\n".to_vec()),
            Just(b": ping\n\n".to_vec()),
            Just(b"data: not json\n\n".to_vec()),
            Just(b"\n".to_vec()),
            prop::collection::vec(any::<u8>(), 0..40),
        ];
        prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_bytes_in_any_chunks_never_panic_and_chunking_changes_nothing(
            bytes in stream_bytes(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            let expected = tokens_of(vec![bytes.clone()]);
            let mut points: Vec<usize> = cuts.iter().map(|cut| cut.index(bytes.len() + 1)).collect();
            points.sort_unstable();
            let mut chunks = Vec::new();
            let mut from = 0;
            for point in points.into_iter().chain(std::iter::once(bytes.len())) {
                chunks.push(bytes[from..point].to_vec());
                from = point;
            }
            let got = tokens_of(chunks);
            prop_assert_eq!(got, expected);
        }
    }
}
