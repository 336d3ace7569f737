//! How the emulator is configured: where it keeps its data, what it seeds, the
//! connection limits and quotas, with their defaults, and the check that refuses
//! limits that would make the server unusable. Plain data: nothing here starts
//! anything.

use std::path::PathBuf;

use crate::demo_page::DemoPage;
use crate::faults::Faults;
use crate::start_error::StartError;
use crate::store;

/// Where the emulator keeps its data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Storage {
    /// Nothing survives the process: for tests and quick experiments.
    #[default]
    InMemory,
    /// A directory (created if missing) holding `emulator.sqlite3` in WAL mode;
    /// keys, agents and (later) tasks survive restarts.
    Directory(PathBuf),
}

/// Where a seed comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeedSource {
    /// A TOML file; errors name it.
    File(PathBuf),
    /// TOML text, e.g. a test's constant; errors say "seed text".
    Text(String),
}

/// How to start the emulator.
#[derive(Clone)]
pub struct Config {
    /// Where data lives; [`Storage::InMemory`] by default.
    pub storage: Storage,
    /// The TOML seed (format in the README), from a file or as text; `None` creates the
    /// demo project.
    pub seed: Option<SeedSource>,
    /// The admin API's bearer token; `None` generates one (32 base62 characters).
    pub admin_token: Option<String>,
    /// Embed keys one client IP may request per minute (both `get_embed_key` routes
    /// together); 0 disables the limit. Default 120.
    pub embed_key_rate_limit_per_minute: u32,
    /// Requests one client IP may send per minute to the unauthenticated webhook routes
    /// (an agent's webhook URL, a public tool's `trigger_webhook` without a key), apart from
    /// the embed-key allowance; 0 disables the limit. Default 120.
    pub webhook_rate_limit_per_minute: u32,
    /// Request bodies above this many bytes get 413. Default 1 MiB.
    pub body_limit_bytes: usize,
    /// How long a streaming token (task metadata `?include_streaming_token=true`) lives.
    /// Default 10 minutes. A seed file's `[emulator] streaming_token_ttl_ms` applies
    /// when this is left at its default.
    pub streaming_token_ttl_ms: u64,
    /// Injected faults; all off by default. A seed file's `[emulator.faults]` values
    /// apply to each field left at its default.
    pub faults: Faults,
    /// The demo chat page to serve at `/demo/` (no auth); `None` serves none.
    pub demo_page: Option<DemoPage>,
    /// Every 401 answers one generic message (`invalid credentials`) instead of naming what
    /// failed (unknown project, wrong region, revoked key...). Default `false`: the helpful
    /// wording is what the SDK's errors promise; see the README's Security notes.
    pub generic_auth_errors: bool,
    /// How long a database statement waits for another connection's lock. Default 5 s.
    pub database_busy_timeout_ms: u64,
    /// Connection limits and timeouts.
    pub connections: ConnectionLimits,
    /// Limits on what keys may store and mint.
    pub quotas: Quotas,
    /// How many milliseconds one minute of `minutes_until_schedule` lasts
    /// (`scheduled_triggers_item/create`, PROTOCOL A11). Default 60 000, a real minute;
    /// tests set e.g. 1 so "in 5 minutes" is 5 ms.
    pub schedule_minute_ms: u64,
    /// The URL clients reach this emulator at (e.g. `https://emu.example`), from which
    /// file upload and download URLs are built. `None`: the address it listens on (an
    /// unspecified bind address as loopback). Never taken from a request's `Host` header,
    /// which any client can set.
    pub public_url: Option<String>,
    /// How long a job poll (`async_poll`, PROTOCOL A15) with nothing new waits for the job
    /// to move before it answers `timeout`. Default 8 000 ms: a waiting client needs one
    /// request per 8 s of a job, and no proxy closes a connection that quiet that soon.
    pub job_poll_wait_ms: u64,
    /// How many jobs of one project may be in progress at once; one more start is 429.
    /// Default 100.
    pub max_open_jobs: u32,
    /// How long an ended job (its result and updates) stays pollable. Default a day.
    pub job_retention_ms: u64,
}

/// File descriptors kept free below the open-file limit when the connection cap follows
/// the machine: the database and its WAL, log files, the listener, outgoing sockets.
pub const FILE_MARGIN: usize = 128;

/// How long a connection may take, and how many may be open.
///
/// Why: without these a client that sends its headers slowly, never sends its body, or
/// idles on keep-alive holds a connection (and a file descriptor) forever; enough of them
/// and even `/healthz` stops answering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// A request's headers must arrive within this; otherwise the connection is closed.
    /// The timer also runs while a keep-alive connection waits for its next request.
    /// Default 30 s.
    pub header_read_timeout_ms: u64,
    /// Each chunk of a request body must arrive within this of the previous one; a body
    /// that stalls gets 408. Default 30 s.
    pub body_read_timeout_ms: u64,
    /// A connection with no bytes read or written for this long is closed (a live stream
    /// pings every 15 s, so it stays open). Default 60 s.
    pub idle_timeout_ms: u64,
    /// At most this many connections at once; a connection past it is closed at once and
    /// the shedding is logged. `None` (the default) follows the machine: at start the
    /// process's soft open-file limit is raised to its hard limit, and the cap is that
    /// limit less [`FILE_MARGIN`] for the database, logs and listener (at least 64). Real
    /// clients hold many connections (long polls, live streams: the official JS SDK
    /// watching 2,000 tasks held more than 4,000); the slow-client timeouts above, not a
    /// low cap, keep idle and stalled connections out.
    pub max_connections: Option<usize>,
    /// After shutdown is signalled, open requests get this long to finish; then every
    /// connection is closed. Default 5 s.
    pub shutdown_grace_ms: u64,
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            header_read_timeout_ms: 30_000,
            body_read_timeout_ms: 30_000,
            idle_timeout_ms: 60_000,
            max_connections: None,
            shutdown_grace_ms: 5_000,
        }
    }
}

/// What keys may store and mint.
///
/// Why: uploads and streaming tokens are free to anyone holding an embed key of a public
/// agent, and embed keys are free to anyone; without caps one key fills the disk or the
/// token map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quotas {
    /// Temporary files and their upload URLs expire this long after the URL was made:
    /// the URL is refused, the download is 404, and the bytes are deleted. Default 24 h.
    pub temporary_file_ttl_ms: u64,
    /// Upload URLs one key may hold at once (unexpired). Default 32.
    pub max_uploads_per_key: usize,
    /// Upload URLs one project may hold at once (unexpired), all keys together. Default 1024.
    pub max_uploads_per_project: usize,
    /// Live streaming tokens one key may hold; past it the key's oldest is forgotten.
    /// Default 1000.
    pub max_streaming_tokens_per_key: usize,
    /// Live streaming tokens of one task, all keys together; past it the task's oldest is
    /// forgotten. Default 100.
    pub max_streaming_tokens_per_task: usize,
    /// Knowledge rows one `knowledge/add` or `knowledge/bulk_update` may carry; more is
    /// 413 (PROTOCOL A16). Default 5000.
    pub max_knowledge_rows_per_request: usize,
    /// Bytes of one knowledge row's `data` as JSON; more is 413. Default 100,000.
    pub max_knowledge_row_bytes: usize,
    /// Rows one knowledge set may hold; an add past it is 400. Default 1,000,000.
    pub max_knowledge_rows_per_set: usize,
    /// Knowledge sets (tables, not conversations) one project may hold; a new set past it
    /// is 400. Default 1000.
    pub max_knowledge_sets_per_project: usize,
}

impl Default for Quotas {
    fn default() -> Quotas {
        Quotas {
            temporary_file_ttl_ms: 24 * 60 * 60 * 1000,
            max_uploads_per_key: 32,
            max_uploads_per_project: 1024,
            max_streaming_tokens_per_key: 1000,
            max_streaming_tokens_per_task: 100,
            max_knowledge_rows_per_request: 5000,
            max_knowledge_row_bytes: 100_000,
            max_knowledge_rows_per_set: 1_000_000,
            max_knowledge_sets_per_project: 1000,
        }
    }
}

/// The default lifetime of a streaming token: 10 minutes.
pub const DEFAULT_STREAMING_TOKEN_TTL_MS: u64 = 10 * 60 * 1000;

impl Default for Config {
    fn default() -> Config {
        Config {
            storage: Storage::InMemory,
            seed: None,
            admin_token: None,
            embed_key_rate_limit_per_minute: 120,
            webhook_rate_limit_per_minute: 120,
            body_limit_bytes: 1024 * 1024,
            streaming_token_ttl_ms: DEFAULT_STREAMING_TOKEN_TTL_MS,
            faults: Faults::default(),
            demo_page: None,
            generic_auth_errors: false,
            database_busy_timeout_ms: store::DEFAULT_BUSY_TIMEOUT_MS,
            connections: ConnectionLimits::default(),
            quotas: Quotas::default(),
            schedule_minute_ms: 60_000,
            job_poll_wait_ms: 8_000,
            max_open_jobs: 100,
            job_retention_ms: 24 * 60 * 60 * 1000,
            public_url: None,
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("storage", &self.storage)
            .field("seed", &self.seed)
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "embed_key_rate_limit_per_minute",
                &self.embed_key_rate_limit_per_minute,
            )
            .field(
                "webhook_rate_limit_per_minute",
                &self.webhook_rate_limit_per_minute,
            )
            .field("body_limit_bytes", &self.body_limit_bytes)
            .field("streaming_token_ttl_ms", &self.streaming_token_ttl_ms)
            .field("faults", &self.faults)
            .field("demo_page", &self.demo_page)
            .field("generic_auth_errors", &self.generic_auth_errors)
            .field("database_busy_timeout_ms", &self.database_busy_timeout_ms)
            .field("connections", &self.connections)
            .field("quotas", &self.quotas)
            .field("schedule_minute_ms", &self.schedule_minute_ms)
            .field("job_poll_wait_ms", &self.job_poll_wait_ms)
            .field("max_open_jobs", &self.max_open_jobs)
            .field("job_retention_ms", &self.job_retention_ms)
            .field("public_url", &self.public_url)
            .finish()
    }
}

/// Refuses limits that would make the server unusable (a zero timeout or cap).
pub(crate) fn validate_limits(
    limits: &ConnectionLimits,
    quotas: &Quotas,
) -> Result<(), StartError> {
    let checks = [
        ("header_read_timeout_ms", limits.header_read_timeout_ms == 0),
        ("body_read_timeout_ms", limits.body_read_timeout_ms == 0),
        ("idle_timeout_ms", limits.idle_timeout_ms == 0),
        ("max_connections", limits.max_connections == Some(0)),
        ("temporary_file_ttl_ms", quotas.temporary_file_ttl_ms == 0),
        ("max_uploads_per_key", quotas.max_uploads_per_key == 0),
        (
            "max_uploads_per_project",
            quotas.max_uploads_per_project == 0,
        ),
        (
            "max_streaming_tokens_per_key",
            quotas.max_streaming_tokens_per_key == 0,
        ),
        (
            "max_streaming_tokens_per_task",
            quotas.max_streaming_tokens_per_task == 0,
        ),
        (
            "max_knowledge_rows_per_request",
            quotas.max_knowledge_rows_per_request == 0,
        ),
        (
            "max_knowledge_row_bytes",
            quotas.max_knowledge_row_bytes == 0,
        ),
        (
            "max_knowledge_rows_per_set",
            quotas.max_knowledge_rows_per_set == 0,
        ),
        (
            "max_knowledge_sets_per_project",
            quotas.max_knowledge_sets_per_project == 0,
        ),
    ];
    match checks.iter().find(|(_, zero)| *zero) {
        Some((name, _)) => Err(StartError::InvalidConfig(format!(
            "{name} must be at least 1"
        ))),
        None => Ok(()),
    }
}
