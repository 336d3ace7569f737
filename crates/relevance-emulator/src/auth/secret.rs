//! Key material: generation from the OS random source, hashing, comparison.
//!
//! Secrets leave this module only as the value handed once to the caller and
//! as a SHA-256 hash for storage. A slow KDF is pointless here: every secret
//! is either >=128 random bits or a test value from a seed file.

use rand::distributions::{Distribution, Uniform};
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `len` characters drawn uniformly from base62 with the OS random source.
pub(crate) fn random_token(len: usize) -> String {
    random_base62(len)
}

fn random_base62(len: usize) -> String {
    let pick = Uniform::from(0..BASE62.len());
    (0..len)
        .map(|_| char::from(BASE62[pick.sample(&mut OsRng)]))
        .collect()
}

/// A project API key: `sk-` + 32 base62 (~190 bits).
pub(crate) fn new_api_key() -> String {
    format!("sk-{}", random_base62(32))
}

/// An embed key: `ek-` + 32 base62; the prefix lets a leaked value be recognised.
pub(crate) fn new_embed_key() -> String {
    format!("ek-{}", random_base62(32))
}

/// A task prefix: 24 base62 (~142 bits), never `_`, because task ids are `{prefix}_-_{uuid}`.
pub(crate) fn new_task_prefix() -> String {
    random_base62(24)
}

/// A key id: public, shown in the admin API and the request log.
pub(crate) fn new_key_id() -> String {
    format!("key_{}", random_base62(16))
}

/// The admin token, when the operator gave none.
pub(crate) fn new_admin_token() -> String {
    random_base62(32)
}

/// SHA-256 of a secret, hex: the only form in which a secret is stored.
///
/// Through a fixed buffer rather than `hex::encode` (a `char` iterator collected into a
/// `String`): this runs for every path segment of every request (redaction), and the
/// iterator was most of its cost in the throughput bench.
pub(crate) fn hash_secret(secret: &str) -> String {
    let mut text = [0u8; 64];
    // 32 bytes always fit 64 hex digits, and hex digits are ASCII.
    let encoded = hex::encode_to_slice(Sha256::digest(secret.as_bytes()), &mut text);
    match (encoded, std::str::from_utf8(&text)) {
        (Ok(()), Ok(hex)) => hex.to_string(),
        _ => hex::encode(Sha256::digest(secret.as_bytes())),
    }
}

/// Constant-time equality of two secrets (or hashes), via their digests so lengths leak nothing.
pub(crate) fn secrets_equal(left: &str, right: &str) -> bool {
    let left = Sha256::digest(left.as_bytes());
    let right = Sha256::digest(right.as_bytes());
    left.ct_eq(&right).into()
}

/// Constant-time equality of two hashes made by [`hash_secret`] (equal lengths, so
/// comparing them directly leaks nothing and needs no further digest).
pub(crate) fn hashes_equal(left: &str, right: &str) -> bool {
    left.len() == right.len() && bool::from(left.as_bytes().ct_eq(right.as_bytes()))
}

/// At most the last 4 characters, fewer for short secrets so a hint never gives most of one away.
pub(crate) fn hint(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let shown = (chars.len() / 4).min(4);
    chars[chars.len() - shown..].iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_compare_equal_only_when_they_are_the_same_hash() {
        let key = hash_secret("sk-one");
        for (left, right, equal) in [
            (key.clone(), hash_secret("sk-one"), true),
            (key.clone(), hash_secret("sk-two"), false),
            (key.clone(), key[..63].to_string(), false),
            (String::new(), String::new(), true),
        ] {
            assert_eq!(hashes_equal(&left, &right), equal, "{left} vs {right}");
        }
    }

    #[test]
    fn generated_values_have_the_documented_shape() {
        let api = new_api_key();
        assert!(api.starts_with("sk-") && api.len() == 35, "{api}");
        let embed = new_embed_key();
        assert!(embed.starts_with("ek-") && embed.len() == 35);
        let prefix = new_task_prefix();
        assert_eq!(prefix.len(), 24);
        assert!(prefix.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(new_admin_token().len(), 32);
        assert!(new_key_id().starts_with("key_"));
        assert_ne!(new_api_key(), new_api_key());
    }

    #[test]
    fn hashes_are_hex_sha256_and_comparison_is_exact() {
        let hash = hash_secret("abc");
        assert_eq!(
            hash,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(secrets_equal("abc", "abc"));
        assert!(!secrets_equal("abc", "abd"));
        assert!(!secrets_equal("abc", "abcd"));
    }

    #[test]
    fn hints_show_at_most_four_trailing_characters() {
        let cases = [
            ("sk-0123456789abcdefghijklmnopqrstuv", "stuv"),
            ("sk-test-a-0001", "001"),
            ("abcd", "d"),
            ("abc", ""),
            ("", ""),
        ];
        for (secret, expected) in cases {
            assert_eq!(hint(secret), expected, "secret {secret:?}");
        }
    }
}
