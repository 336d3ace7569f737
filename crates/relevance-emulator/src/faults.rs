//! Fault injection: turning some API and stream requests into 500s, 429s or
//! dropped connections, slowing them down, and cutting live streams, so a
//! client's retries and reconnects can be tested against the emulator.
//!
//! The verdict is drawn *before* the request reaches authentication or a
//! handler, so a faulted request has done nothing: a client that retries a
//! refused trigger never creates a task twice. Faults touch only
//! `/{region}/latest/...` and `/{region}/v1/stream`; the admin API, the
//! dashboard, `/healthz` and `/files` are never faulted, so a test can always
//! inspect the emulator it is tormenting.

use std::sync::Mutex;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::error::ApiError;

/// Which faults to inject; everything is off by default.
///
/// Each API or stream request first waits `added_latency_ms`, then is dropped
/// with probability `drop_rate`, else answered 500 with probability
/// `error_rate`, else answered 429 with probability `rate_limit_rate`, else
/// served normally.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Share of requests (0.0 to 1.0) answered `500` without being processed.
    pub error_rate: f64,
    /// Share of requests (0.0 to 1.0) answered `429` with `Retry-After: 1`.
    pub rate_limit_rate: f64,
    /// Share of requests (0.0 to 1.0) whose connection is closed without an answer.
    pub drop_rate: f64,
    /// Milliseconds every API and stream request waits before anything else happens.
    pub added_latency_ms: u64,
    /// Live streams are closed this many milliseconds after they open (a client must reconnect).
    pub stream_cut_every_ms: Option<u64>,
    /// Seeds the random draws, so a test sees the same faults on the same request sequence.
    pub seed: Option<u64>,
}

impl Faults {
    /// Whether any fault is switched on.
    pub fn is_active(&self) -> bool {
        self.error_rate > 0.0
            || self.rate_limit_rate > 0.0
            || self.drop_rate > 0.0
            || self.added_latency_ms > 0
            || self.stream_cut_every_ms.is_some()
    }

    /// Every rate is a probability and a stream cut is not instant; `Err` names the field.
    pub(crate) fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("error_rate", self.error_rate),
            ("rate_limit_rate", self.rate_limit_rate),
            ("drop_rate", self.drop_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("faults.{name} must be from 0.0 to 1.0"));
            }
        }
        if self.stream_cut_every_ms == Some(0) {
            return Err("faults.stream_cut_every_ms must be at least 1".to_string());
        }
        Ok(())
    }
}

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FaultAction {
    Serve,
    Drop,
    Error,
    RateLimit,
}

/// The configured faults and the random source that applies them.
#[derive(Debug)]
pub(crate) struct FaultInjector {
    faults: Faults,
    rng: Mutex<StdRng>,
}

impl FaultInjector {
    pub(crate) fn new(faults: Faults) -> FaultInjector {
        let rng = match faults.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_entropy(),
        };
        FaultInjector {
            faults,
            rng: Mutex::new(rng),
        }
    }

    pub(crate) fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Draws the verdict for one request (no draw at all when a rate is 0 or 1, so
    /// a seeded sequence depends only on the rates that are really random).
    pub(crate) fn decide(&self) -> FaultAction {
        // A poisoned RNG only means a panic elsewhere mid-draw; it still draws.
        let mut rng = self
            .rng
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut hit = |rate: f64| rate >= 1.0 || (rate > 0.0 && rng.gen_bool(rate));
        if hit(self.faults.drop_rate) {
            FaultAction::Drop
        } else if hit(self.faults.error_rate) {
            FaultAction::Error
        } else if hit(self.faults.rate_limit_rate) {
            FaultAction::RateLimit
        } else {
            FaultAction::Serve
        }
    }
}

/// Marks a response whose connection is dropped instead of answered; the request log
/// records it with status 0.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DroppedConnection;

/// `/{region}/latest/...` and `/{region}/v1/stream`: the routes faults apply to.
pub(crate) fn is_faultable_route(path: &str) -> bool {
    let mut segments = path.trim_start_matches('/').split('/');
    match (segments.next(), segments.next(), segments.next()) {
        (Some("admin" | "dashboard" | "files" | "healthz"), _, _) => false,
        (Some(_), Some("latest"), Some(_)) => true,
        (Some(_), Some("v1"), Some("stream")) => segments.next().is_none(),
        _ => false,
    }
}

/// The middleware: decides a request's fate before anything else sees it.
pub(crate) async fn inject_faults<S: AsRef<FaultInjector>>(
    State(state): State<S>,
    request: Request,
    next: Next,
) -> Response {
    let injector = state.as_ref();
    if !injector.faults().is_active() || !is_faultable_route(request.uri().path()) {
        return next.run(request).await;
    }
    let latency = injector.faults().added_latency_ms;
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    match injector.decide() {
        FaultAction::Serve => next.run(request).await,
        FaultAction::Error => {
            ApiError::internal("injected fault: this request was not processed (faults.error_rate)")
                .into_response()
        }
        FaultAction::RateLimit => ApiError::too_many_requests(
            "injected fault: this request was not processed (faults.rate_limit_rate)",
            1,
        )
        .into_response(),
        FaultAction::Drop => dropped_connection(),
    }
}

/// A response whose body fails before its first byte: hyper then closes the
/// connection without flushing the head, so the client sees a connection error.
fn dropped_connection() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "injected fault: connection dropped (faults.drop_rate)",
        ))
    });
    let mut response = (StatusCode::OK, Body::from_stream(failing)).into_response();
    response.extensions_mut().insert(DroppedConnection);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_apply_to_api_and_stream_routes_only() {
        let cases = [
            ("/bcbe5a/latest/agents/trigger", true),
            ("/d7b62b/latest/agents/a1/get", true),
            ("/bcbe5a/v1/stream", true),
            ("/bcbe5a/v1/stream/x", false),
            ("/admin/projects", false),
            ("/admin/latest/x", false),
            ("/dashboard", false),
            ("/healthz", false),
            ("/files/abc/upload", false),
            ("/files/latest/x", false),
            ("/bcbe5a/latest", false),
            ("/", false),
        ];
        for (path, expected) in cases {
            assert_eq!(is_faultable_route(path), expected, "{path}");
        }
    }

    #[test]
    fn certain_rates_always_hit_and_zero_rates_never_do() {
        let cases = [
            (Faults::default(), FaultAction::Serve),
            (
                Faults {
                    drop_rate: 1.0,
                    error_rate: 1.0,
                    ..Faults::default()
                },
                FaultAction::Drop,
            ),
            (
                Faults {
                    error_rate: 1.0,
                    rate_limit_rate: 1.0,
                    ..Faults::default()
                },
                FaultAction::Error,
            ),
            (
                Faults {
                    rate_limit_rate: 1.0,
                    ..Faults::default()
                },
                FaultAction::RateLimit,
            ),
        ];
        for (faults, expected) in cases {
            let injector = FaultInjector::new(faults.clone());
            for _ in 0..50 {
                assert_eq!(injector.decide(), expected, "{faults:?}");
            }
        }
    }

    #[test]
    fn a_seed_makes_the_sequence_repeatable() {
        let faults = Faults {
            error_rate: 0.5,
            seed: Some(7),
            ..Faults::default()
        };
        let draw = || {
            let injector = FaultInjector::new(faults.clone());
            (0..64).map(|_| injector.decide()).collect::<Vec<_>>()
        };
        let first = draw();
        assert_eq!(first, draw());
        assert!(first.contains(&FaultAction::Error) && first.contains(&FaultAction::Serve));
    }

    #[test]
    fn validation_names_the_bad_field() {
        let cases = [
            (
                Faults {
                    error_rate: 1.5,
                    ..Faults::default()
                },
                Some("error_rate"),
            ),
            (
                Faults {
                    drop_rate: -0.1,
                    ..Faults::default()
                },
                Some("drop_rate"),
            ),
            (
                Faults {
                    rate_limit_rate: f64::NAN,
                    ..Faults::default()
                },
                Some("rate_limit_rate"),
            ),
            (
                Faults {
                    stream_cut_every_ms: Some(0),
                    ..Faults::default()
                },
                Some("stream_cut_every_ms"),
            ),
            (Faults::default(), None),
        ];
        for (faults, problem) in cases {
            match (faults.validate(), problem) {
                (Ok(()), None) => {}
                (Err(message), Some(field)) => assert!(message.contains(field), "{message}"),
                (outcome, expected) => panic!("{faults:?}: {outcome:?}, expected {expected:?}"),
            }
        }
    }
}
