//! Per-client-address rate limit for embed-key generation (PROTOCOL C).
//!
//! A token bucket per IP address: `per_minute` tokens, refilled continuously,
//! so a burst up to the limit is allowed and then one request per
//! `60 / per_minute` seconds. The clock is passed in so tests need no sleeps.
//!
//! Also [`UploadCounter`]: the upload URLs each key made within the files' lifetime.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Above this many tracked addresses, full buckets are forgotten (they carry no state).
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// The limiter; `per_minute == 0` disables it.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl RateLimiter {
    pub(crate) fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `address` now, or answers the whole seconds to wait (at least
    /// one): what a 429's `Retry-After` says.
    pub(crate) fn take(&self, address: IpAddr) -> Result<(), u64> {
        self.check(address, Instant::now())
            .map_err(|wait| (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1))
    }

    /// Takes one token for `address`, or answers how long until one is available.
    pub(crate) fn check(&self, address: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_minute);
        let per_second = capacity / 60.0;
        // A poisoned map only means another request panicked mid-update; the counts are still usable.
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            buckets.retain(|_, bucket| {
                let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
                bucket.tokens + elapsed * per_second < capacity
            });
        }
        let bucket = buckets.entry(address).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_second))
        }
    }
}

/// Upload URLs each key made within the files' lifetime, in memory.
///
/// Why in memory: it is a rate (one key's URLs in the TTL window), the table has no key
/// column, and a restart forgetting it only gives a key its allowance back.
#[derive(Debug, Default)]
pub(crate) struct UploadCounter {
    by_key: Mutex<HashMap<String, VecDeque<i64>>>,
}

impl UploadCounter {
    /// Counts one upload URL for `key_id`, or 429 when it made `max` within `ttl_ms`.
    pub(crate) fn admit(
        &self,
        key_id: &str,
        max: usize,
        ttl_ms: u64,
    ) -> Result<(), crate::error::ApiError> {
        let now = crate::time::now_ms();
        let window = i64::try_from(ttl_ms).unwrap_or(i64::MAX);
        let mut by_key = self
            .by_key
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Forget keys whose every URL has expired, so the map stays as small as the traffic.
        if by_key.len() > 4096 {
            by_key.retain(|_, times| times.back().is_some_and(|last| now - last < window));
        }
        let times = by_key.entry(key_id.to_string()).or_default();
        while times.front().is_some_and(|first| now - first >= window) {
            times.pop_front();
        }
        if times.len() >= max {
            let oldest = times.front().copied().unwrap_or(now);
            let wait_ms = u64::try_from(window - (now - oldest)).unwrap_or(1000);
            return Err(crate::error::ApiError::too_many_requests(
                format!(
                    "this key made {} upload URLs within the files' lifetime of {ttl_ms} ms \
                     (the limit)",
                    times.len()
                ),
                (wait_ms / 1000).max(1),
            ));
        }
        times.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_up_to_the_limit_then_refill() {
        let limiter = RateLimiter::new(3);
        let start = Instant::now();
        let address: IpAddr = [127, 0, 0, 1].into();
        let other: IpAddr = [127, 0, 0, 2].into();
        for _ in 0..3 {
            assert!(limiter.check(address, start).is_ok());
        }
        let wait = limiter
            .check(address, start)
            .expect_err("fourth is refused");
        assert!(
            wait > Duration::from_secs(19) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(
            limiter.check(other, start).is_ok(),
            "limits are per address"
        );
        assert!(limiter
            .check(address, start + Duration::from_secs(20))
            .is_ok());
        assert!(limiter
            .check(address, start + Duration::from_secs(20))
            .is_err());
    }

    #[test]
    fn zero_disables_the_limit() {
        let limiter = RateLimiter::new(0);
        let now = Instant::now();
        for _ in 0..1000 {
            assert!(limiter.check([127, 0, 0, 1].into(), now).is_ok());
        }
    }
}
