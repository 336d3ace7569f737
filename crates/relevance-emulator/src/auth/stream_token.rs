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
use crate::store::cached_rows::KeyKind;

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
/// Why queues: every token lives the same TTL, so issue order is expiry order, and
/// forgetting the expired ones is popping fronts — amortised O(1) per mint instead of
/// scanning every live token under the lock. Past a cap, the key's (or task's) oldest
/// token is forgotten: a client that asks for a token on every poll keeps working, and
/// the map stays bounded.
#[derive(Debug, Default)]
struct Live {
    grants: HashMap<String, StreamGrant>,
    /// `(expires_at_ms, hash)` in issue order; entries of evicted tokens linger until their
    /// expiry (or a compaction) and are skipped.
    expiry: VecDeque<(i64, String)>,
    /// Hashes of each key's live tokens, oldest first.
    per_key: HashMap<String, VecDeque<String>>,
    /// Hashes of each `(project, task)`'s live tokens, oldest first.
    per_task: HashMap<(String, String), VecDeque<String>>,
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
            self.forget(&hash);
        }
        // Evicted entries would otherwise pile up for a whole TTL under heavy minting.
        if self.expiry.len() > 2 * self.grants.len() + 1024 {
            let grants = &self.grants;
            self.expiry.retain(|(_, hash)| grants.contains_key(hash));
        }
    }

    /// Drops one token everywhere; O(cap) at worst, O(1) for the oldest.
    fn forget(&mut self, hash: &str) {
        let Some(grant) = self.grants.remove(hash) else {
            return;
        };
        remove_from(&mut self.per_key, &grant.key_id, hash);
        remove_from(&mut self.per_task, &(grant.project, grant.task_id), hash);
    }
}

fn remove_from<K: std::hash::Hash + Eq>(
    queues: &mut HashMap<K, VecDeque<String>>,
    key: &K,
    hash: &str,
) {
    if let Some(queue) = queues.get_mut(key) {
        if queue.front().is_some_and(|front| front == hash) {
            queue.pop_front();
        } else {
            queue.retain(|queued| queued != hash);
        }
        if queue.is_empty() {
            queues.remove(key);
        }
    }
}

impl StreamTokens {
    /// Tokens that live `ttl_ms` milliseconds, at most `max_per_key` live per key and
    /// `max_per_task` per task.
    pub(crate) fn new(ttl_ms: u64, max_per_key: usize, max_per_task: usize) -> StreamTokens {
        StreamTokens {
            ttl_ms: i64::try_from(ttl_ms).unwrap_or(i64::MAX),
            max_per_key: max_per_key.max(1),
            max_per_task: max_per_task.max(1),
            live: Mutex::new(Live::default()),
        }
    }

    /// A new token for `task_id` of the principal's project, valid from `now_ms` for the
    /// TTL. When the key or the task already holds its cap of live tokens, its oldest is
    /// forgotten first (a stream already open with it keeps flowing).
    pub(crate) fn issue(&self, principal: &Principal, task_id: &str, now_ms: i64) -> IssuedToken {
        // A poisoned map only means a panic elsewhere mid-insert; the grants are still valid.
        let mut live = self
            .live
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        live.prune(now_ms);
        let task = (principal.project.clone(), task_id.to_string());
        while let Some(oldest) = live
            .per_key
            .get(&principal.key_id)
            .filter(|queue| queue.len() >= self.max_per_key)
            .and_then(|queue| queue.front().cloned())
        {
            live.forget(&oldest);
        }
        while let Some(oldest) = live
            .per_task
            .get(&task)
            .filter(|queue| queue.len() >= self.max_per_task)
            .and_then(|queue| queue.front().cloned())
        {
            live.forget(&oldest);
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
        live.per_key
            .entry(principal.key_id.clone())
            .or_default()
            .push_back(hash.clone());
        live.per_task
            .entry(task)
            .or_default()
            .push_back(hash.clone());
        live.expiry.push_back((expires_at_ms, hash.clone()));
        live.grants.insert(hash, grant);
        IssuedToken {
            token,
            expiry_time_ms: expires_at_ms,
        }
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
        let issued = tokens.issue(&principal(Region::US), "t1", 5_000);
        let other = tokens.issue(&principal(Region::US), "t2", 5_000);
        assert_ne!(issued.token, other.token);
        assert_eq!(issued.expiry_time_ms, 6_000);
        assert_eq!(issued.token.len(), TOKEN_PREFIX.len() + TOKEN_RANDOM_CHARS);
        assert!(issued
            .token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
        assert!(!format!("{issued:?}").contains(&issued.token));

        let grant = tokens
            .check(&issued.token, Region::US, 5_999)
            .expect("valid until expiry");
        assert_eq!(
            (grant.project.as_str(), grant.task_id.as_str()),
            ("p", "t1")
        );
        assert_eq!(grant.key_id, "key_1");
        let cases = [
            (issued.token.clone(), Region::US, 6_000, "expired"),
            (issued.token.clone(), Region::EU, 5_500, "region"),
            (
                format!("st-{}", "A".repeat(43)),
                Region::US,
                5_500,
                "unknown",
            ),
            ("st-short".to_string(), Region::US, 5_500, "malformed"),
            (
                format!("xx-{}", "A".repeat(43)),
                Region::US,
                5_500,
                "malformed",
            ),
            (
                format!("st-{}!", "A".repeat(42)),
                Region::US,
                5_500,
                "malformed",
            ),
            (String::new(), Region::US, 5_500, "malformed"),
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
        let old = tokens.issue(&principal(Region::US), "t1", 0);
        let _new = tokens.issue(&principal(Region::US), "t1", 100);
        let error = tokens
            .check(&old.token, Region::US, 100)
            .expect_err("pruned");
        assert!(format!("{error:?}").contains("unknown"));
    }

    #[test]
    fn past_a_cap_the_oldest_token_of_the_key_or_task_is_forgotten() {
        let tokens = StreamTokens::new(1_000, 3, 2);
        let key = principal(Region::US);
        let a1 = tokens.issue(&key, "a", 0);
        let a2 = tokens.issue(&key, "a", 1);
        let a3 = tokens.issue(&key, "a", 2);
        assert!(
            tokens.check(&a1.token, Region::US, 3).is_err(),
            "task cap: oldest gone"
        );
        assert!(tokens.check(&a2.token, Region::US, 3).is_ok());
        assert!(tokens.check(&a3.token, Region::US, 3).is_ok());
        let b1 = tokens.issue(&key, "b", 3);
        let c1 = tokens.issue(&key, "c", 4);
        assert!(
            tokens.check(&a2.token, Region::US, 5).is_err(),
            "key cap: oldest gone"
        );
        for live in [&a3, &b1, &c1] {
            assert!(tokens.check(&live.token, Region::US, 5).is_ok());
        }
        let live = tokens.live.lock().expect("lock");
        assert_eq!(live.grants.len(), 3);
        assert_eq!(live.per_key.get("key_1").map(VecDeque::len), Some(3));
        drop(live);
        // Expiry empties everything.
        let _ = tokens.issue(&key, "d", 5_000);
        let live = tokens.live.lock().expect("lock");
        assert_eq!(live.grants.len(), 1);
        assert_eq!(live.per_task.len(), 1);
    }
}
