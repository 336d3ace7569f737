//! Streaming tokens: the credential of the live stream (PROTOCOL A5, A8).
//!
//! A token is minted by a task's metadata route for the key that asked, and
//! grants exactly one thing: that task's live events, in that task's region,
//! until it expires, and only while the key that asked is not revoked.
//! Tokens live in memory only, keyed by their SHA-256 (the value itself is
//! never kept), so they die with the process: a client refreshes its token
//! from the metadata route anyway. The value rides unencoded in a URL, so it
//! is made only of `A-Z a-z 0-9 -` (`st-` + 43 base62 characters, ~256 bits).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use serde::Serialize;

use super::secret::{hash_secret, random_token};
use super::Principal;
use crate::error::ApiError;
use crate::region::Region;
use crate::store::keys::KeyKind;

/// The type prefix of every streaming token.
const TOKEN_PREFIX: &str = "st-";
/// Random base62 characters after the prefix.
const TOKEN_RANDOM_CHARS: usize = 43;

/// What a token lets its holder watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StreamGrant {
    pub(crate) project: String,
    pub(crate) task_id: String,
    pub(crate) region: Region,
    /// The key that asked for the token: revoking it ends the token's use.
    pub(crate) key_id: String,
    pub(crate) key_kind: KeyKind,
    /// Unix milliseconds after which the token is refused.
    pub(crate) expires_at_ms: i64,
}

/// The `streaming_token` object of a metadata answer.
#[derive(Serialize)]
pub(crate) struct IssuedToken {
    token: String,
    expiry_time_ms: i64,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &"<redacted>")
            .field("expiry_time_ms", &self.expiry_time_ms)
            .finish()
    }
}

/// Every live token, by hash, with what bounds them.
#[derive(Debug)]
pub(crate) struct StreamTokens {
    ttl_ms: i64,
    max_per_key: usize,
    max_per_task: usize,
    live: Mutex<Live>,
}

/// The tokens and their expiry order.
///
/// Why a queue: every token lives the same TTL, so issue order is expiry order, and
/// forgetting the expired ones is popping the front — amortised O(1) per mint instead of
/// scanning every live token under the lock.
#[derive(Debug, Default)]
struct Live {
    grants: HashMap<String, StreamGrant>,
    /// `(expires_at_ms, hash)` in issue order.
    expiry: VecDeque<(i64, String)>,
    per_key: HashMap<String, usize>,
    per_task: HashMap<(String, String), usize>,
}

impl Live {
    fn prune(&mut self, now_ms: i64) {
        while let Some((expires_at_ms, _)) = self.expiry.front() {
            if *expires_at_ms > now_ms {
                break;
            }
            let Some((_, hash)) = self.expiry.pop_front() else {
                break;
            };
            if let Some(grant) = self.grants.remove(&hash) {
                decrement(&mut self.per_key, &grant.key_id);
                decrement(&mut self.per_task, &(grant.project, grant.task_id));
            }
        }
    }
}

fn decrement<K: std::hash::Hash + Eq>(counts: &mut HashMap<K, usize>, key: &K) {
    if let Some(count) = counts.get_mut(key) {
        *count -= 1;
        if *count == 0 {
            counts.remove(key);
        }
    }
}

impl StreamTokens {
    /// Tokens that live `ttl_ms` milliseconds, at most `max_per_key` live per key and
    /// `max_per_task` per task.
    pub(crate) fn new(ttl_ms: u64, max_per_key: usize, max_per_task: usize) -> StreamTokens {
        StreamTokens {
            ttl_ms: i64::try_from(ttl_ms).unwrap_or(i64::MAX),
            max_per_key,
            max_per_task,
            live: Mutex::new(Live::default()),
        }
    }

    /// A new token for `task_id` of the principal's project, valid from `now_ms` for the
    /// TTL; 429 when the key or the task already holds its cap of live tokens.
    pub(crate) fn issue(
        &self,
        principal: &Principal,
        task_id: &str,
        now_ms: i64,
    ) -> Result<IssuedToken, ApiError> {
        // A poisoned map only means a panic elsewhere mid-insert; the grants are still valid.
        let mut live = self
            .live
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        live.prune(now_ms);
        let task = (principal.project.clone(), task_id.to_string());
        let key_count = live.per_key.get(&principal.key_id).copied().unwrap_or(0);
        let task_count = live.per_task.get(&task).copied().unwrap_or(0);
        if key_count >= self.max_per_key || task_count >= self.max_per_task {
            // The oldest live token expires first: then there is room again (for this key
            // or task, at the latest when its own oldest expires).
            let wait_ms = live
                .expiry
                .front()
                .map_or(self.ttl_ms, |(expires_at_ms, _)| expires_at_ms - now_ms);
            let which = if key_count >= self.max_per_key {
                format!("this key holds {key_count} live streaming tokens (the limit)")
            } else {
                format!("this task has {task_count} live streaming tokens (the limit)")
            };
            return Err(ApiError::too_many_requests(
                format!("{which}: reuse a token until its `expiry_time_ms` instead of asking for a new one"),
                u64::try_from(wait_ms.max(0) / 1000 + 1).unwrap_or(1),
            ));
        }
        let token = format!("{TOKEN_PREFIX}{}", random_token(TOKEN_RANDOM_CHARS));
        let expires_at_ms = now_ms.saturating_add(self.ttl_ms);
        let grant = StreamGrant {
            project: principal.project.clone(),
            task_id: task_id.to_string(),
            region: principal.region,
            key_id: principal.key_id.clone(),
            key_kind: principal.kind(),
            expires_at_ms,
        };
        let hash = hash_secret(&token);
        *live.per_key.entry(principal.key_id.clone()).or_insert(0) += 1;
        *live.per_task.entry(task).or_insert(0) += 1;
        live.expiry.push_back((expires_at_ms, hash.clone()));
        live.grants.insert(hash, grant);
        Ok(IssuedToken {
            token,
            expiry_time_ms: expires_at_ms,
        })
    }

    /// Whether `token` is a token this server minted and has not yet forgotten.
    pub(crate) fn is_known(&self, token: &str) -> bool {
        is_well_formed(token)
            && self
                .live
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .grants
                .contains_key(&hash_secret(token))
    }

    /// The grant of `token` for a stream opened under `region` at `now_ms`, or 401 naming
    /// why (the key's revocation is checked by the caller, against the store).
    pub(crate) fn check(
        &self,
        token: &str,
        region: Region,
        now_ms: i64,
    ) -> Result<StreamGrant, ApiError> {
        if !is_well_formed(token) {
            return Err(ApiError::unauthorized(
                "malformed streaming token: expected `authorization=Bearer+{token}` with the \
                 `streaming_token.token` of the task's metadata",
            ));
        }
        let grant = self
            .live
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .grants
            .get(&hash_secret(token))
            .cloned()
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "unknown streaming token: get a new one from the task's metadata \
                     (`?include_streaming_token=true`)",
                )
            })?;
        if grant.expires_at_ms <= now_ms {
            return Err(ApiError::unauthorized(
                "expired streaming token: get a new one from the task's metadata before \
                 `expiry_time_ms`",
            ));
        }
        if grant.region != region {
            return Err(ApiError::unauthorized(format!(
                "this streaming token belongs to region {}, not {region}",
                grant.region
            )));
        }
        Ok(grant)
    }
}

fn is_well_formed(token: &str) -> bool {
    token.strip_prefix(TOKEN_PREFIX).is_some_and(|random| {
        random.len() == TOKEN_RANDOM_CHARS && random.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::principal::Scope;

    fn principal(region: Region) -> Principal {
        Principal {
            key_id: "key_1".to_string(),
            project: "p".to_string(),
            region,
            scope: Scope::Project,
        }
    }

    #[test]
    fn tokens_are_url_safe_unique_and_bound_to_their_task_and_region() {
        let tokens = StreamTokens::new(1000, 100, 100);
        let issued = tokens
            .issue(&principal(Region::Us), "t1", 5_000)
            .expect("issued");
        let other = tokens
            .issue(&principal(Region::Us), "t2", 5_000)
            .expect("issued");
        assert_ne!(issued.token, other.token);
        assert_eq!(issued.expiry_time_ms, 6_000);
        assert_eq!(issued.token.len(), TOKEN_PREFIX.len() + TOKEN_RANDOM_CHARS);
        assert!(issued
            .token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
        assert!(!format!("{issued:?}").contains(&issued.token));

        let grant = tokens
            .check(&issued.token, Region::Us, 5_999)
            .expect("valid until expiry");
        assert_eq!(
            (grant.project.as_str(), grant.task_id.as_str()),
            ("p", "t1")
        );
        assert_eq!(grant.key_id, "key_1");
        let cases = [
            (issued.token.clone(), Region::Us, 6_000, "expired"),
            (issued.token.clone(), Region::Eu, 5_500, "region"),
            (
                format!("st-{}", "A".repeat(43)),
                Region::Us,
                5_500,
                "unknown",
            ),
            ("st-short".to_string(), Region::Us, 5_500, "malformed"),
            (
                format!("xx-{}", "A".repeat(43)),
                Region::Us,
                5_500,
                "malformed",
            ),
            (
                format!("st-{}!", "A".repeat(42)),
                Region::Us,
                5_500,
                "malformed",
            ),
            (String::new(), Region::Us, 5_500, "malformed"),
        ];
        for (token, region, now, needle) in cases {
            let error = tokens
                .check(&token, region, now)
                .expect_err("token must be refused");
            let text = format!("{error:?}");
            assert!(text.contains(needle), "{token:?} → {text}");
            assert!(text.contains("401"), "{text}");
        }
    }

    #[test]
    fn issuing_forgets_expired_tokens() {
        let tokens = StreamTokens::new(10, 100, 100);
        let old = tokens
            .issue(&principal(Region::Us), "t1", 0)
            .expect("issued");
        let _new = tokens
            .issue(&principal(Region::Us), "t1", 100)
            .expect("issued");
        let error = tokens
            .check(&old.token, Region::Us, 100)
            .expect_err("pruned");
        assert!(format!("{error:?}").contains("unknown"));
    }

    #[test]
    fn live_tokens_are_capped_per_key_and_per_task_until_they_expire() {
        let tokens = StreamTokens::new(1_000, 3, 2);
        let key = principal(Region::Us);
        tokens.issue(&key, "a", 0).expect("1st of task a");
        tokens.issue(&key, "a", 0).expect("2nd of task a");
        let error = tokens.issue(&key, "a", 10).expect_err("task cap");
        assert!(format!("{error:?}").contains("429"), "{error:?}");
        tokens.issue(&key, "b", 10).expect("3rd of the key");
        let error = tokens.issue(&key, "c", 10).expect_err("key cap");
        assert!(format!("{error:?}").contains("this key"), "{error:?}");
        // Expiry frees both caps.
        tokens.issue(&key, "a", 1_000).expect("task a again");
        let live = tokens.live.lock().expect("lock");
        assert_eq!(live.grants.len(), 2, "the two expired at 1000 were pruned");
        assert_eq!(live.expiry.len(), 2);
        assert_eq!(live.per_key.get("key_1"), Some(&2));
    }
}
