//! What authentication needs of the `keys` table, in memory, and the usage it has not
//! written back yet.
//!
//! Why: authenticating from SQLite meant a trip to the blocking pool, the one connection's
//! lock and a write (`request_count`) on every request. The cache answers a known key
//! without touching the database; usage is counted here and written in one transaction
//! by [`crate::store::Store::flush_key_usage`] (every second, and on close).
//!
//! Coherence rules, which every change must keep:
//! * The cache is only filled and changed on the store's thread, which owns it beside
//!   the connection (the slow path of authentication, and `store::keys` writes), so a
//!   fill can never race a revocation and resurrect a revoked key.
//! * `store::keys` is the one place that writes keys. Its writers take the cache as an
//!   argument, which a store closure gets from its `Db`: a revocation cannot be written
//!   without the cache it must keep in step.
//! * A project's region is cached with its keys: regions change only when the seed is
//!   applied, which happens before the first request.
//!
//! Never holds a secret: entries are keyed by the SHA-256 the table stores.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use super::cached_rows::KeyKind;
use crate::region::Region;

/// The fields of a key row that decide whether a request is let in, and as whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuthKey {
    pub(crate) id: String,
    pub(crate) project: String,
    /// The region of the key's project.
    pub(crate) project_region: Region,
    pub(crate) kind: KeyKind,
    pub(crate) sha256: String,
    pub(crate) agent_id: Option<String>,
    pub(crate) workforce_id: Option<String>,
    pub(crate) task_prefix: Option<String>,
    pub(crate) revoked: bool,
}

/// Requests counted for one key since the last flush.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PendingUse {
    pub(crate) requests: i64,
    /// Unix milliseconds of the latest request.
    pub(crate) last_used_ms: i64,
}

/// Key records by hash, plus unflushed usage by key id.
#[derive(Debug, Default)]
pub(crate) struct KeyCache {
    by_hash: RwLock<HashMap<String, Arc<AuthKey>>>,
    usage: Mutex<HashMap<String, PendingUse>>,
    revocations: Revocations,
}

/// A counter bumped on every revocation.
///
/// Why: a request is checked once, when it starts, but a live stream is one request that
/// lasts; PROTOCOL B says a revoked key fails on the very next request, so a stream opened
/// before the revocation must not outlive it. Every open stream waits on this and, when it
/// moves, asks the store whether its own key is still active.
#[derive(Debug)]
struct Revocations(tokio::sync::watch::Sender<u64>);

impl Default for Revocations {
    fn default() -> Revocations {
        Revocations(tokio::sync::watch::channel(0).0)
    }
}

impl KeyCache {
    /// The cached key whose secret hashes to `sha256`, if it was loaded.
    ///
    /// A poisoned lock reads as a miss: the caller then asks SQLite, which is always right.
    pub(crate) fn get(&self, sha256: &str) -> Option<Arc<AuthKey>> {
        self.by_hash.read().ok()?.get(sha256).cloned()
    }

    /// Caches a key as loaded from (or just committed to) SQLite. Only on the store's thread.
    pub(crate) fn remember(&self, key: AuthKey) {
        if let Ok(mut entries) = self.by_hash.write() {
            entries.insert(key.sha256.clone(), Arc::new(key));
        } else {
            self.forget_all();
        }
    }

    /// Marks a cached key revoked (a no-op when it was never loaded). Only on the store's thread.
    pub(crate) fn mark_revoked(&self, sha256: &str) {
        match self.by_hash.write() {
            Ok(mut entries) => {
                if let Some(entry) = entries.get_mut(sha256) {
                    let mut revoked = AuthKey::clone(entry);
                    revoked.revoked = true;
                    *entry = Arc::new(revoked);
                }
            }
            Err(_) => self.forget_all(),
        }
    }

    /// Announces a revocation to every open stream. Only on the store's thread, after the
    /// write, so a stream's check (a later store call) sees it.
    pub(crate) fn announce_revocation(&self) {
        self.revocations
            .0
            .send_modify(|count| *count = count.wrapping_add(1));
    }

    /// Changes after every revocation from now on.
    pub(crate) fn revocations(&self) -> tokio::sync::watch::Receiver<u64> {
        self.revocations.0.subscribe()
    }

    /// Drops one key, so the next request reloads it from SQLite.
    pub(crate) fn forget(&self, sha256: &str) {
        match self.by_hash.write() {
            Ok(mut entries) => {
                entries.remove(sha256);
            }
            Err(_) => self.forget_all(),
        }
    }

    /// Drops every key, even past a poisoned lock: a stale entry must never survive.
    fn forget_all(&self) {
        let mut entries = self
            .by_hash
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.clear();
        self.by_hash.clear_poison();
    }

    /// Counts one authenticated request of key `key_id` at `at_ms` (Unix milliseconds).
    pub(crate) fn record_use(&self, key_id: &str, at_ms: i64) {
        let mut usage = self
            .usage
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match usage.get_mut(key_id) {
            Some(pending) => {
                pending.requests += 1;
                pending.last_used_ms = pending.last_used_ms.max(at_ms);
            }
            None => {
                usage.insert(
                    key_id.to_string(),
                    PendingUse {
                        requests: 1,
                        last_used_ms: at_ms,
                    },
                );
            }
        }
    }

    /// The unflushed usage of one key.
    pub(crate) fn pending_use(&self, key_id: &str) -> Option<PendingUse> {
        self.usage
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(key_id)
            .copied()
    }

    /// Takes every unflushed count, to be written; see [`KeyCache::restore_usage`] on failure.
    pub(crate) fn take_usage(&self) -> HashMap<String, PendingUse> {
        std::mem::take(
            &mut *self
                .usage
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    /// Puts back counts whose write failed, adding to what arrived meanwhile.
    pub(crate) fn restore_usage(&self, taken: HashMap<String, PendingUse>) {
        let mut usage = self
            .usage
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (key_id, pending) in taken {
            let entry = usage.entry(key_id).or_insert(PendingUse {
                requests: 0,
                last_used_ms: pending.last_used_ms,
            });
            entry.requests += pending.requests;
            entry.last_used_ms = entry.last_used_ms.max(pending.last_used_ms);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(sha256: &str) -> AuthKey {
        AuthKey {
            id: format!("key_{sha256}"),
            project: "p".to_string(),
            project_region: Region::US,
            kind: KeyKind::Api,
            sha256: sha256.to_string(),
            agent_id: None,
            workforce_id: None,
            task_prefix: None,
            revoked: false,
        }
    }

    #[test]
    fn a_revoked_key_reads_revoked_and_others_are_untouched() {
        let cache = KeyCache::default();
        cache.remember(key("a"));
        cache.remember(key("b"));
        cache.mark_revoked("a");
        cache.mark_revoked("never-loaded");
        assert!(cache.get("a").expect("still cached").revoked);
        assert!(!cache.get("b").expect("cached").revoked);
        assert!(
            cache.get("never-loaded").is_none(),
            "revoking does not invent keys"
        );
        cache.forget("b");
        assert!(cache.get("b").is_none());
    }

    #[test]
    fn usage_adds_up_and_keeps_the_latest_time() {
        let cache = KeyCache::default();
        for at in [30, 10, 20] {
            cache.record_use("k1", at);
        }
        cache.record_use("k2", 5);
        assert_eq!(
            cache.pending_use("k1"),
            Some(PendingUse {
                requests: 3,
                last_used_ms: 30
            })
        );
        let taken = cache.take_usage();
        assert_eq!(taken.len(), 2);
        assert_eq!(cache.pending_use("k1"), None, "taken usage is gone");
        cache.record_use("k1", 40);
        cache.restore_usage(taken);
        assert_eq!(
            cache.pending_use("k1"),
            Some(PendingUse {
                requests: 4,
                last_used_ms: 40
            }),
            "a failed flush puts its counts back next to new ones"
        );
    }
}
