//! `AppState`: what every handler, extractor and middleware can reach.
//!
//! It holds handles (the store, the engine) and the in-memory pieces that
//! live as long as the server (rate limiter, request log, streaming tokens,
//! fault injector, upload counter, the shutdown signal, the settings).
//! It must never import a handler, a middleware or the router: everything
//! that answers requests depends on it, never the reverse.

use std::sync::Arc;

use crate::admin::request_log::RequestLog;
use crate::auth::stream_token::StreamTokens;
use crate::engine::Engine;
use crate::faults::{FaultInjector, Faults};
use crate::job_board::JobBoard;
use crate::rate_limit::{RateLimiter, UploadCounter};
use crate::store::Store;

/// What every handler can reach.
///
/// One `Arc`, so a clone is one reference-count step: axum clones the state for every
/// middleware and extractor on a request's way (about ten), and with the store and the
/// engine as their own `Arc`s beside this one, those counts were a measurable part of an
/// authenticated request in the throughput bench.
#[derive(Clone)]
pub(crate) struct AppState {
    shared: Arc<Shared>,
}

struct Shared {
    store: Store,
    engine: Engine,
    admin_token: String,
    /// The admin token's SHA-256 (hex), computed once: redaction compares every path
    /// segment's hash with it.
    admin_token_hash: String,
    rate_limiter: RateLimiter,
    /// The unauthenticated webhook routes' own allowance per client address.
    webhook_rate_limiter: RateLimiter,
    request_log: RequestLog,
    body_limit_bytes: usize,
    stream_tokens: StreamTokens,
    faults: FaultInjector,
    /// Flips to `true` when graceful shutdown begins: open live streams end on it.
    closing: tokio::sync::watch::Sender<bool>,
    settings: Settings,
    uploads: UploadCounter,
    jobs: JobBoard,
}

/// Settings that change what answers say and what keys may hold.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Every 401 says the same thing (see `Config::generic_auth_errors`).
    pub(crate) generic_auth_errors: bool,
    /// How long a streaming token lives.
    pub(crate) streaming_token_ttl_ms: u64,
    pub(crate) quotas: crate::Quotas,
    /// How many milliseconds a scheduled message's minute lasts (`Config::schedule_minute_ms`).
    pub(crate) schedule_minute_ms: u64,
    /// Where clients reach the emulator, without a trailing slash (`Config::public_url`).
    pub(crate) public_url: String,
    /// How long a job poll with nothing new waits for the job to move (`Config::job_poll_wait_ms`).
    pub(crate) job_poll_wait_ms: u64,
    /// How many jobs of one project may be in progress at once (`Config::max_open_jobs`).
    pub(crate) max_open_jobs: i64,
    /// How long an ended job's result is kept (`Config::job_retention_ms`).
    pub(crate) job_retention_ms: i64,
    /// `Config::webhook_rate_limit_per_minute`.
    pub(crate) webhook_rate_limit_per_minute: u32,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("store", &self.shared.store)
            .field("admin_token", &"<redacted>")
            .field("body_limit_bytes", &self.shared.body_limit_bytes)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub(crate) fn new(
        store: Store,
        engine: Engine,
        admin_token: String,
        embed_key_rate_limit_per_minute: u32,
        body_limit_bytes: usize,
        faults: Faults,
        settings: Settings,
    ) -> AppState {
        AppState {
            shared: Arc::new(Shared {
                store,
                engine,
                admin_token_hash: crate::auth::secret::hash_secret(&admin_token),
                admin_token,
                rate_limiter: RateLimiter::new(embed_key_rate_limit_per_minute),
                webhook_rate_limiter: RateLimiter::new(settings.webhook_rate_limit_per_minute),
                request_log: RequestLog::default(),
                body_limit_bytes,
                stream_tokens: StreamTokens::new(
                    settings.streaming_token_ttl_ms,
                    settings.quotas.max_streaming_tokens_per_key,
                    settings.quotas.max_streaming_tokens_per_task,
                ),
                faults: FaultInjector::new(faults),
                closing: tokio::sync::watch::channel(false).0,
                settings,
                uploads: Default::default(),
                jobs: JobBoard::default(),
            }),
        }
    }

    /// The database and its caches.
    pub(crate) fn store(&self) -> &Store {
        &self.shared.store
    }

    /// The task engine (scripted runs, the event hub).
    pub(crate) fn engine(&self) -> &Engine {
        &self.shared.engine
    }

    pub(crate) fn admin_token(&self) -> &str {
        &self.shared.admin_token
    }

    /// The admin token's SHA-256 (hex).
    pub(crate) fn admin_token_hash(&self) -> &str {
        &self.shared.admin_token_hash
    }

    pub(crate) fn rate_limiter(&self) -> &RateLimiter {
        &self.shared.rate_limiter
    }

    /// The allowance of the unauthenticated webhook routes, per client address.
    pub(crate) fn webhook_rate_limiter(&self) -> &RateLimiter {
        &self.shared.webhook_rate_limiter
    }

    pub(crate) fn request_log(&self) -> &RequestLog {
        &self.shared.request_log
    }

    pub(crate) fn body_limit_bytes(&self) -> usize {
        self.shared.body_limit_bytes
    }

    pub(crate) fn stream_tokens(&self) -> &StreamTokens {
        &self.shared.stream_tokens
    }

    pub(crate) fn faults(&self) -> &FaultInjector {
        &self.shared.faults
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.shared.settings
    }

    pub(crate) fn upload_counter(&self) -> &UploadCounter {
        &self.shared.uploads
    }

    /// Job wake-ups and the running tool jobs (PROTOCOL A15).
    pub(crate) fn jobs(&self) -> &JobBoard {
        &self.shared.jobs
    }

    /// Ends every open live stream (and every one opened later): graceful shutdown
    /// waits for open responses, and a live stream would otherwise never end.
    pub(crate) fn close_streams(&self) {
        self.shared.closing.send_replace(true);
    }

    /// Becomes `true` when the server starts shutting down.
    pub(crate) fn streams_closing(&self) -> tokio::sync::watch::Receiver<bool> {
        self.shared.closing.subscribe()
    }
}

impl AsRef<FaultInjector> for AppState {
    fn as_ref(&self) -> &FaultInjector {
        self.faults()
    }
}
