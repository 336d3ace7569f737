//! The live stream (PROTOCOL A8): a streaming token, the connection, and
//! the server-sent events that carry thinking and typing tokens.
//!
//! Tokens are only a preview of what the agent is writing; the messages
//! themselves always come from polling (`events`). So nothing here may
//! ever be needed for correctness: a malformed event, an unknown type or a
//! dropped connection is skipped, never an error of the task's events. This
//! module never spawns anything: the connection is a stream that its owner
//! polls and closes by dropping it.

use std::fmt;

use serde::Deserialize;
use serde_json::Value;

use crate::error::Result;
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

/// Splits the stream's bytes into events (PROTOCOL A8: separated by a blank
/// line, one `data:` line each) and keeps the thinking and typing tokens.
/// Chunks may cut an event, a line or a UTF-8 character anywhere.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    buffer: Vec<u8>,
    /// How much of `buffer` is known to hold no event end.
    scanned: usize,
}

impl SseParser {
    /// Feeds a chunk; returns the tokens of the events it completed.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Vec<LiveToken> {
        self.buffer.extend_from_slice(chunk);
        let mut tokens = Vec::new();
        loop {
            let from = self.scanned.saturating_sub(1);
            let Some(offset) = self.buffer[from..]
                .windows(2)
                .position(|pair| pair == b"\n\n")
            else {
                break;
            };
            let end = from + offset;
            if let Some(token) = parse_event(&self.buffer[..end]) {
                tokens.push(token);
            }
            self.buffer.drain(..end + 2);
            self.scanned = 0;
        }
        self.scanned = self.buffer.len();
        if self.buffer.len() > LONGEST_EVENT_BYTES {
            self.buffer.clear();
            self.scanned = 0;
        }
        tokens
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

/// One event's token: its first `data:` line, parsed; anything else (no
/// data, bad JSON, an unknown type) is no token.
fn parse_event(event: &[u8]) -> Option<LiveToken> {
    let text = std::str::from_utf8(event).ok()?;
    let data = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .find_map(|line| line.strip_prefix("data:"))?;
    let data = data.strip_prefix(' ').unwrap_or(data);
    let wire: WireEvent = serde_json::from_str(data).ok()?;
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

/// The body of an open live stream (defined with the request layer that opens it).
pub(crate) use crate::http::LiveBody;

/// Opens the live stream at `url` through the request layer
/// (`http::open_live_stream`: the in-flight limit, the error mapping, a span
/// with the path but never the token). Kept for the event stream, which
/// passes the client's HTTP client and the stream URL; new code calls
/// `Client::open_live_stream(token)`.
pub(crate) fn connect(http: reqwest::Client, url: String) -> BoxFuture<Result<LiveBody>> {
    crate::http::open_live_stream(&http, &url)
}

#[cfg(test)]
mod tests {
    use super::*;
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
            // Not finished yet: nothing.
            (vec![think.to_string()], vec![]),
        ];
        for (chunks, expected) in cases {
            let mut parser = SseParser::default();
            let mut tokens = Vec::new();
            for chunk in &chunks {
                tokens.extend(parser.push(chunk.as_bytes()));
            }
            assert_eq!(tokens, expected, "{chunks:?}");
        }
    }

    #[test]
    fn a_character_split_across_chunks_survives() {
        let event = "data: {\"type\":\"text\",\"content\":\"café ☕\"}\n\n".as_bytes();
        for cut in 1..event.len() {
            let mut parser = SseParser::default();
            let mut tokens = parser.push(&event[..cut]);
            tokens.extend(parser.push(&event[cut..]));
            assert_eq!(tokens, vec![typing("café ☕", None)], "cut at {cut}");
        }
        // Byte by byte, two events.
        let mut parser = SseParser::default();
        let mut tokens = Vec::new();
        for byte in [event, event].concat() {
            tokens.extend(parser.push(&[byte]));
        }
        assert_eq!(tokens.len(), 2);
    }

    #[test]
    fn an_endless_event_does_not_grow_without_bound() {
        let mut parser = SseParser::default();
        let junk = vec![b'x'; 64 * 1024];
        for _ in 0..40 {
            assert!(parser.push(&junk).is_empty());
        }
        assert!(parser.buffer.len() <= LONGEST_EVENT_BYTES);
        let tokens = parser.push(b"\n\ndata: {\"type\":\"text\",\"content\":\"after\"}\n\n");
        assert_eq!(tokens, vec![typing("after", None)]);
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
    use proptest::prelude::*;

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
            let mut whole = SseParser::default();
            let expected = whole.push(&bytes);
            let mut points: Vec<usize> = cuts.iter().map(|cut| cut.index(bytes.len() + 1)).collect();
            points.sort_unstable();
            let mut chunked = SseParser::default();
            let mut got = Vec::new();
            let mut from = 0;
            for point in points.into_iter().chain(std::iter::once(bytes.len())) {
                got.extend(chunked.push(&bytes[from..point]));
                from = point;
            }
            prop_assert_eq!(got, expected);
        }
    }
}
