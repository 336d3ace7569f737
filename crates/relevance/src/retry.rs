//! When a failed request is sent again, and how long to wait first.
//!
//! Pure rules, no IO: [`decide`] says whether a request of some
//! [`RequestKind`] may be repeated after some [`Failure`], and [`Backoff`]
//! says how long to wait (exponential, full jitter, the server's
//! `Retry-After` winning). `http` runs the loop; the live events reuse the
//! same backoff with a longer cap. A read may always be repeated; a request
//! that creates something only when it surely was not processed, because a
//! second trigger would send the user's message twice.

use std::time::Duration;

use crate::error::Error;

/// How often and how patiently a failed request is tried again.
///
/// Set with [`ClientBuilder::retries`](crate::ClientBuilder::retries). The
/// default is 4 attempts (the first and 3 retries) waiting a random time up
/// to 200 ms, 400 ms, 800 ms … (never more than 10 s) between them. A
/// server's `Retry-After` (on 429 and 503) replaces that wait; one longer
/// than a minute is not waited for: the error comes back at once with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 0 and 1 both mean "no retry".
    pub max_attempts: u32,
    /// The longest wait before the first retry; doubled for each next one.
    pub base: Duration,
    /// The longest wait ever, however many retries came before.
    pub cap: Duration,
}

impl RetryPolicy {
    /// Every request is sent once.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base: Duration::from_millis(200),
            cap: Duration::from_secs(10),
        }
    }
}

/// A server wait longer than this is handed to the caller instead of being
/// slept through: blocking a call for minutes is worse than an error that
/// says how long to wait.
pub(crate) const LONGEST_SERVER_WAIT: Duration = Duration::from_secs(60);

/// What a request does, which decides whether repeating it is safe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RequestKind {
    /// Reads something: repeating it changes nothing.
    Read,
    /// Creates something (a trigger, an embed key, an upload URL, the
    /// upload): repeated only when it surely was not processed.
    Create,
    /// Creates a task under an id the client made: after an ambiguous
    /// failure, whether the task exists tells whether it was processed.
    CreateWithClientId,
}

/// What went wrong with one attempt, as far as retrying cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The request never left (connection refused, DNS, TLS handshake).
    NotSent,
    /// 429: refused before processing; wait the server's time if given.
    RateLimited(Option<Duration>),
    /// 5xx: the server failed, possibly after acting on the request.
    Server(Option<Duration>),
    /// No answer after sending (timeout, reset, a body cut short).
    Ambiguous,
    /// Anything trying again cannot fix (4xx, a malformed answer, a bad setting).
    Final,
}

impl Failure {
    /// Classifies an error; `retry_after` is the answer's `Retry-After`, if any.
    pub(crate) fn of(error: &Error, retry_after: Option<Duration>) -> Failure {
        match error {
            Error::RateLimited {
                retry_after: own, ..
            } => Failure::RateLimited(own.or(retry_after)),
            Error::Server { .. } => Failure::Server(retry_after),
            Error::Network(source) if network_error_before_sending(source) => Failure::NotSent,
            Error::Network(_) => Failure::Ambiguous,
            _ => Failure::Final,
        }
    }

    /// How long the server asked to wait.
    pub(crate) fn server_wait(self) -> Option<Duration> {
        match self {
            Failure::RateLimited(wait) | Failure::Server(wait) => wait,
            _ => None,
        }
    }
}

/// Whether a transport error happened before any byte of the request was
/// sent. In a browser `fetch` does not say, so nothing counts as unsent there.
fn network_error_before_sending(error: &reqwest::Error) -> bool {
    #[cfg(not(target_family = "wasm"))]
    {
        error.is_connect()
    }
    #[cfg(target_family = "wasm")]
    {
        let _ = error;
        false
    }
}

/// What to do after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RetryAction {
    /// Send it again (after the backoff).
    Retry,
    /// Ask whether the created task exists: if it does, the request was
    /// processed; if not, send it again.
    CheckThenRetry,
    /// Return the error.
    GiveUp,
}

/// The retry table: which request × which failure → what to do.
pub(crate) fn decide(kind: RequestKind, failure: Failure) -> RetryAction {
    use RetryAction::*;
    match (kind, failure) {
        (_, Failure::Final) => GiveUp,
        (_, Failure::NotSent | Failure::RateLimited(_)) => Retry,
        (RequestKind::Read, Failure::Server(_) | Failure::Ambiguous) => Retry,
        (RequestKind::Create, Failure::Server(_) | Failure::Ambiguous) => GiveUp,
        (RequestKind::CreateWithClientId, Failure::Server(_) | Failure::Ambiguous) => {
            CheckThenRetry
        }
    }
}

/// The largest wait before retry number `retry` (1 for the first retry):
/// `base · 2^(retry-1)`, never more than `cap`.
pub(crate) fn ceiling(base: Duration, cap: Duration, retry: u32) -> Duration {
    let doublings = retry.saturating_sub(1).min(31);
    base.checked_mul(1u32 << doublings)
        .map_or(cap, |delay| delay.min(cap))
}

/// Waits between attempts: full jitter under [`ceiling`], or the server's
/// `Retry-After` when it gave one.
#[derive(Debug)]
pub(crate) struct Backoff {
    base: Duration,
    cap: Duration,
    random: XorShift,
}

impl Backoff {
    /// A backoff seeded from the OS random source.
    pub(crate) fn new(base: Duration, cap: Duration) -> Backoff {
        Backoff::with_seed(base, cap, random_seed())
    }

    /// A backoff with a fixed seed, for tests.
    pub(crate) fn with_seed(base: Duration, cap: Duration, seed: u64) -> Backoff {
        Backoff {
            base,
            cap,
            random: XorShift::new(seed),
        }
    }

    /// The wait before retry number `retry` (1-based). The server's wait
    /// wins over the computed one, so a rate limit is respected exactly.
    pub(crate) fn delay(&mut self, retry: u32, server_wait: Option<Duration>) -> Duration {
        if let Some(wait) = server_wait {
            return wait;
        }
        let top = ceiling(self.base, self.cap, retry);
        let nanos = u64::try_from(top.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(self.random.at_most(nanos))
    }
}

/// 64 random bits from the OS (through uuid's v4, already in the tree).
fn random_seed() -> u64 {
    let (high, low) = uuid::Uuid::new_v4().as_u64_pair();
    high ^ low.rotate_left(17)
}

/// Marsaglia's xorshift64: plenty for spreading retries, no crate needed.
#[derive(Debug)]
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> XorShift {
        // Zero is the one state xorshift never leaves.
        XorShift(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..=bound`.
    fn at_most(&mut self, bound: u64) -> u64 {
        match bound.checked_add(1) {
            Some(span) => self.next() % span,
            None => self.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn the_default_policy_is_the_documented_one() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.max_attempts, 4);
        assert_eq!(policy.base, MS(200));
        assert_eq!(policy.cap, Duration::from_secs(10));
        assert_eq!(RetryPolicy::none().max_attempts, 1);
    }

    #[test]
    fn the_ceiling_doubles_up_to_the_cap() {
        let cap = Duration::from_secs(10);
        let cases = [
            (0, 200),
            (1, 200),
            (2, 400),
            (3, 800),
            (4, 1600),
            (6, 6400),
            (7, 10_000),
            (40, 10_000),
            (u32::MAX, 10_000),
        ];
        for (retry, expected) in cases {
            assert_eq!(ceiling(MS(200), cap, retry), MS(expected), "retry {retry}");
        }
        // A huge base cannot overflow past the cap.
        assert_eq!(
            ceiling(Duration::from_secs(u64::MAX / 4), cap, 9),
            cap,
            "overflow"
        );
    }

    #[test]
    fn jitter_stays_within_the_ceiling_and_spreads() {
        let mut backoff = Backoff::with_seed(MS(200), Duration::from_secs(10), 42);
        for retry in 1..=12 {
            let top = ceiling(MS(200), Duration::from_secs(10), retry);
            let delays: Vec<Duration> = (0..200).map(|_| backoff.delay(retry, None)).collect();
            assert!(delays.iter().all(|delay| *delay <= top), "retry {retry}");
            // Full jitter: both halves of the range are used.
            assert!(delays.iter().any(|delay| *delay < top / 2), "retry {retry}");
            assert!(delays.iter().any(|delay| *delay > top / 2), "retry {retry}");
        }
        // A zero seed still produces varied delays.
        let mut zero = Backoff::with_seed(MS(200), MS(200), 0);
        let first = zero.delay(1, None);
        assert!((0..20).any(|_| zero.delay(1, None) != first));
    }

    #[test]
    fn the_servers_wait_wins() {
        let mut backoff = Backoff::with_seed(MS(200), Duration::from_secs(10), 7);
        for retry in [1, 3, 30] {
            assert_eq!(backoff.delay(retry, Some(MS(7))), MS(7));
            assert_eq!(
                backoff.delay(retry, Some(Duration::from_secs(45))),
                Duration::from_secs(45),
                "longer than the cap still wins"
            );
        }
    }

    fn error(status: u16, retry_after: Option<&str>) -> Error {
        let mut headers = HeaderMap::new();
        if let Some(value) = retry_after {
            headers.insert(reqwest::header::RETRY_AFTER, value.parse().unwrap());
        }
        Error::from_response(status, &headers, b"{}")
    }

    #[test]
    fn failures_are_classified_from_errors() {
        let cases = [
            (
                error(429, Some("3")),
                None,
                Failure::RateLimited(Some(MS(3000))),
            ),
            (error(429, None), None, Failure::RateLimited(None)),
            (
                error(503, None),
                Some(MS(2000)),
                Failure::Server(Some(MS(2000))),
            ),
            (error(500, None), None, Failure::Server(None)),
            (error(502, None), None, Failure::Server(None)),
            (error(400, None), None, Failure::Final),
            (error(401, None), None, Failure::Final),
            (error(403, None), None, Failure::Final),
            (error(404, None), None, Failure::Final),
            (error(413, None), None, Failure::Final),
            (
                Error::InvalidTimestamp { value: "x".into() },
                None,
                Failure::Final,
            ),
        ];
        for (error, header, expected) in cases {
            assert_eq!(Failure::of(&error, header), expected, "{error:?}");
        }
    }

    #[test]
    fn the_retry_table() {
        use RequestKind::*;
        use RetryAction::*;
        let failures = [
            Failure::NotSent,
            Failure::RateLimited(None),
            Failure::Server(None),
            Failure::Ambiguous,
            Failure::Final,
        ];
        // One row per kind, one column per failure above.
        let table = [
            (Read, [Retry, Retry, Retry, Retry, GiveUp]),
            (Create, [Retry, Retry, GiveUp, GiveUp, GiveUp]),
            (
                CreateWithClientId,
                [Retry, Retry, CheckThenRetry, CheckThenRetry, GiveUp],
            ),
        ];
        for (kind, row) in table {
            for (failure, expected) in failures.iter().zip(row) {
                assert_eq!(decide(kind, *failure), expected, "{kind:?} × {failure:?}");
            }
        }
    }
}
