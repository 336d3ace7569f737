//! Redaction: no key value, streaming token or admin token ever leaves through a path
//! echoed in an error, a log line or the request log.
//!
//! A prefix test (`sk-`, `ek-`) is not enough: seeded keys are free-form, and a user who
//! pastes a key into a path (as an agent or task id) would see it come back. So a path
//! segment is treated as a secret when it *is* one this server knows — its SHA-256 is a
//! key in the key cache (every key is loaded at start-up), a live streaming token, or the
//! admin token — or merely looks like a key.

use super::secret::{hash_secret, hashes_equal};
use crate::state::AppState;

/// The path segment two before an agent webhook's trigger id (the URL's secret).
const WEBHOOK_SEGMENT: &str = "custom-trigger";

/// What a redacted segment is replaced with.
pub(crate) const REDACTED: &str = "(redacted)";

/// Whether `value` is (or looks like) a credential.
pub(crate) fn is_secret(state: &AppState, value: &str) -> bool {
    if value.len() < 4 {
        return false;
    }
    if ["sk-", "ek-", "st-"]
        .iter()
        .any(|prefix| value.starts_with(prefix))
    {
        return true;
    }
    let hash = hash_secret(value);
    state.store().key_cache().get(&hash).is_some()
        || state.stream_tokens().is_known(value)
        || hashes_equal(&hash, state.admin_token_hash())
}

/// The secrets among a path's segments, as they appear raw and percent-decoded.
pub(crate) fn secret_segments(state: &AppState, path: &str) -> Vec<String> {
    let mut found = Vec::new();
    let segments: Vec<&str> = path
        .split('/')
        .filter(|segment| !segment.is_empty())
        .collect();
    for (index, raw) in segments.iter().copied().enumerate() {
        // An agent's webhook URL is its own secret: `.../custom-trigger/{project}/{trigger_id}`.
        if index >= 2 && segments[index - 2] == WEBHOOK_SEGMENT {
            found.push(raw.to_string());
            continue;
        }
        let decoded = percent_decode(raw);
        // One hash per segment when it holds no escapes (the usual case).
        if is_secret(state, &decoded) || (decoded != raw && is_secret(state, raw)) {
            found.push(raw.to_string());
            if decoded != raw {
                found.push(decoded);
            }
        }
    }
    found
}

/// The values an error message quotes (between single quotes, as `echo_id` writes every
/// caller-supplied id) that are secrets this server knows. An id cut at 80 characters is
/// checked as it was cut; secrets that long carry a key prefix, which is enough.
pub(crate) fn quoted_secrets(state: &AppState, text: &str) -> Vec<String> {
    text.split('\'')
        .skip(1)
        .step_by(2)
        .filter(|quoted| is_secret(state, quoted))
        .map(str::to_string)
        .collect()
}

/// `path` as the request log and request tracing show it: every segment that is a
/// secret redacted.
pub(crate) fn redacted_path(state: &AppState, path: &str) -> String {
    redact_all(path, &secret_segments(state, path))
}

/// `text` with every occurrence of each secret (and of the first 80 characters of it, which
/// is what an echoed id is cut to) replaced by [`REDACTED`].
pub(crate) fn redact_all(text: &str, secrets: &[String]) -> String {
    let mut redacted = text.to_string();
    let mut needles: Vec<String> = Vec::new();
    for secret in secrets {
        needles.push(secret.clone());
        let cut: String = secret.chars().take(80).collect();
        if cut != *secret {
            needles.push(cut);
        }
    }
    // Longest first, so a shorter needle never leaves part of a longer one behind.
    needles.sort_by_key(|needle| std::cmp::Reverse(needle.len()));
    for needle in needles.iter().filter(|needle| !needle.is_empty()) {
        redacted = redacted.replace(needle.as_str(), REDACTED);
    }
    redacted
}

/// `%XX` decoded (invalid escapes and non-UTF-8 results stay as they were).
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (bytes[at], bytes.get(at + 1), bytes.get(at + 2)) {
            (b'%', Some(&high), Some(&low)) if hex(high).is_some() && hex(low).is_some() => {
                let value = hex(high).unwrap_or(0) * 16 + hex(low).unwrap_or(0);
                out.push(u8::try_from(value).unwrap_or(b'?'));
                at += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                at += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| segment.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_and_replacing() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%ff"), "%ff");
        let long = "k".repeat(100);
        let text = format!("no agent '{}…' and {long}", &long[..80]);
        let out = redact_all(&text, std::slice::from_ref(&long));
        assert!(!out.contains("kkkk"), "{out}");
        assert_eq!(redact_all("abc", &[String::new()]), "abc");
    }
}
