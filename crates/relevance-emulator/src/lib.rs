//! A local emulator of the Relevance AI platform.
//!
//! One process serves every region under `/{region code}/latest/...`
//! (PROTOCOL B), backed by SQLite, seeded from a TOML file or with a demo
//! project. Start it with [`Emulator::start`] (a handle, for tests and
//! embedding) or [`run`] (until a shutdown future resolves, for the CLI).
//!
//! Where things live:
//! * `app` — the route table (every route with its access policy), the
//!   router built from it, and the layers every request passes through;
//! * `state` — `AppState`, what every handler and middleware can reach;
//! * `auth` — the one place a credential is checked (the policy guards:
//!   header → `Principal`, streaming token → grant) and scoped
//!   (`Principal` → what the store may return), plus key generation;
//! * `api` — one file per platform resource: parse, call a service, render;
//!   `service` — one function per use case between the handlers and the
//!   store; `admin` — the admin API and request log;
//! * `store` — SQLite schema and queries; `seed` / `demo` — what is
//!   upserted at start-up;
//! * `engine` — scripted agent behaviours and the one scheduler that runs
//!   their steps, plus the per-task live events ([`LiveEvent`]), which the
//!   live stream (`api::stream`, authenticated by streaming tokens minted in
//!   `auth`) turns into server-sent events;
//! * `faults` — opt-in fault injection ([`Faults`]) for testing clients;
//! * `error` — `ApiError`, the JSON `{"message"}` every failure answers with.
#![deny(missing_docs, missing_debug_implementations)]
#![forbid(unsafe_code)]

mod admin;
mod api;
mod app;
mod auth;
mod demo;
mod demo_page;
mod engine;
mod error;
mod faults;
mod json;
#[cfg(test)]
mod proptests;
mod rate_limit;
mod region;
mod seed;
mod server;
mod service;
mod start_error;
mod state;
mod store;
mod time;

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use tokio::net::TcpListener;
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;

pub use demo::DemoProject;
pub use demo_page::DemoPage;
pub use engine::LiveEvent;
pub use faults::Faults;
pub use start_error::StartError;
pub use store::DATABASE_FILE_NAME;

use engine::Engine;
use state::AppState;
use store::Store;

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
}

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
    /// the shedding is logged. Keep it below the process's file limit (`ulimit -n`).
    /// Default 512.
    pub max_connections: usize,
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
            max_connections: 512,
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
            body_limit_bytes: 1024 * 1024,
            streaming_token_ttl_ms: DEFAULT_STREAMING_TOKEN_TTL_MS,
            faults: Faults::default(),
            demo_page: None,
            generic_auth_errors: false,
            database_busy_timeout_ms: store::DEFAULT_BUSY_TIMEOUT_MS,
            connections: ConnectionLimits::default(),
            quotas: Quotas::default(),
            schedule_minute_ms: 60_000,
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
            .field("body_limit_bytes", &self.body_limit_bytes)
            .field("streaming_token_ttl_ms", &self.streaming_token_ttl_ms)
            .field("faults", &self.faults)
            .field("demo_page", &self.demo_page)
            .field("generic_auth_errors", &self.generic_auth_errors)
            .field("database_busy_timeout_ms", &self.database_busy_timeout_ms)
            .field("connections", &self.connections)
            .field("quotas", &self.quotas)
            .field("schedule_minute_ms", &self.schedule_minute_ms)
            .field("public_url", &self.public_url)
            .finish()
    }
}

/// Reads and parses a seed; errors name the file (or say it was text) and the line.
fn load_seed(source: &SeedSource) -> Result<seed::Seed, StartError> {
    match source {
        SeedSource::File(file) => {
            let text = seed::read(file).map_err(|source| StartError::SeedRead {
                file: file.clone(),
                source,
            })?;
            seed::parse(&text).map_err(|problem| StartError::Seed {
                file: file.clone(),
                line: problem.line,
                problem: problem.problem,
            })
        }
        SeedSource::Text(text) => seed::parse(text).map_err(|problem| StartError::SeedText {
            line: problem.line,
            problem: problem.problem,
        }),
    }
}

/// What a seed file (or the demo) defined: enough for a caller to print or test against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectSummary {
    /// The project id.
    pub id: String,
    /// Its region code (`bcbe5a`, `d7b62b` or `f1db6c`).
    pub region_code: String,
    /// Its agents' ids, in seed order.
    pub agent_ids: Vec<String>,
    /// Its workforces' ids, in seed order.
    pub workforce_ids: Vec<String>,
}

/// Everything set up before the server accepts its first request.
struct Prepared {
    state: AppState,
    admin_token: String,
    admin_token_generated: bool,
    demo: Option<DemoProject>,
    projects: Vec<ProjectSummary>,
    demo_page: Option<DemoPage>,
    connections: ConnectionLimits,
}

fn summary(spec: &store::catalog::ProjectSpec) -> ProjectSummary {
    ProjectSummary {
        id: spec.id.clone(),
        region_code: spec.region.code().to_string(),
        agent_ids: spec.agents.iter().map(|agent| agent.id.clone()).collect(),
        workforce_ids: spec
            .workforces
            .iter()
            .map(|workforce| workforce.id.clone())
            .collect(),
    }
}

async fn prepare(config: Config, local_addr: SocketAddr) -> Result<Prepared, StartError> {
    let admin_token_generated = config.admin_token.is_none();
    let admin_token = match config.admin_token {
        Some(token)
            if token.is_empty() || token.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            return Err(StartError::InvalidConfig(
                "the admin token must be non-empty and contain no whitespace".to_string(),
            ))
        }
        Some(token) => token,
        None => auth::secret::new_admin_token(),
    };
    // Parse the seed before touching storage, so a typo creates no data directory.
    let seed = config.seed.as_ref().map(load_seed).transpose()?;
    let (streaming_token_ttl_ms, faults) = match &seed {
        Some(seed) => seed
            .settings
            .merge_into(config.streaming_token_ttl_ms, &config.faults),
        None => (config.streaming_token_ttl_ms, config.faults.clone()),
    };
    if streaming_token_ttl_ms == 0 {
        return Err(StartError::InvalidConfig(
            "streaming_token_ttl_ms must be at least 1".to_string(),
        ));
    }
    faults.validate().map_err(StartError::InvalidConfig)?;
    validate_limits(&config.connections, &config.quotas)?;
    if faults.is_active() {
        tracing::warn!(?faults, "fault injection is on");
    }
    let store = match &config.storage {
        Storage::InMemory => Store::open_in_memory()?,
        Storage::Directory(directory) => {
            std::fs::create_dir_all(directory).map_err(|source| {
                StartError::CreateDataDirectory {
                    path: directory.clone(),
                    source,
                }
            })?;
            Store::open_in_directory(directory)?
        }
    };
    let now = time::now_iso();
    let (demo, projects) = match seed {
        Some(seed) => {
            let projects = seed
                .projects
                .iter()
                .map(|project| summary(&project.spec))
                .collect();
            store
                .call(move |connection| seed::apply(connection, &seed, &now))
                .await?;
            (None, projects)
        }
        None => {
            let key_file = match &config.storage {
                Storage::Directory(directory) => Some(directory.join(demo::DEMO_KEY_FILE)),
                Storage::InMemory => None,
            };
            let kept_key = key_file.as_deref().and_then(demo::read_kept_key);
            let demo = store
                .call(move |connection| demo::install(connection, &now, kept_key))
                .await?;
            if let (Some(path), false) = (&key_file, demo.key_reused) {
                // Not fatal: the key works this run, it is only not kept for the next.
                if let Err(error) = demo::keep_key(path, &demo.api_key) {
                    tracing::warn!(path = %path.display(), %error, "cannot keep the demo API key");
                }
            }
            (Some(demo), vec![summary(&demo::spec())])
        }
    };
    let busy_timeout = std::time::Duration::from_millis(config.database_busy_timeout_ms);
    store
        .call(move |connection| connection.busy_timeout(busy_timeout))
        .await?;
    // Every key in memory: redaction asks "is this a key?" of each path segment.
    store
        .call(|db| store::keys::preload_cache(db, db.key_cache()))
        .await?;
    tracing::info!(
        database = store.location(),
        projects = projects.len(),
        "emulator data ready"
    );
    let state = AppState::new(
        store,
        Engine::default(),
        admin_token.clone(),
        config.embed_key_rate_limit_per_minute,
        config.body_limit_bytes,
        faults,
        state::Settings {
            generic_auth_errors: config.generic_auth_errors,
            streaming_token_ttl_ms,
            quotas: config.quotas.clone(),
            schedule_minute_ms: config.schedule_minute_ms,
            public_url: config
                .public_url
                .as_deref()
                .map(|url| url.trim().trim_end_matches('/').to_string())
                .filter(|url| !url.is_empty())
                .unwrap_or_else(|| loopback_url(local_addr)),
        },
    );
    Ok(Prepared {
        state,
        admin_token,
        admin_token_generated,
        demo,
        projects,
        demo_page: config.demo_page,
        connections: config.connections,
    })
}

/// Refuses limits that would make the server unusable (a zero timeout or cap).
fn validate_limits(limits: &ConnectionLimits, quotas: &Quotas) -> Result<(), StartError> {
    let checks = [
        ("header_read_timeout_ms", limits.header_read_timeout_ms == 0),
        ("body_read_timeout_ms", limits.body_read_timeout_ms == 0),
        ("idle_timeout_ms", limits.idle_timeout_ms == 0),
        ("max_connections", limits.max_connections == 0),
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

/// Serves until `shutdown` resolves, ends open live streams, drains open requests,
/// stops the engine's scheduler (pending runs stay stored with their due times), then
/// closes the database.
async fn serve(
    state: AppState,
    demo_page: Option<DemoPage>,
    connections: ConnectionLimits,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let store = state.store().clone();
    let engine = state.engine().clone();
    let scheduler = engine.spawn_scheduler(store.clone());
    // Authentication counts key usage in memory; this writes it every second.
    let usage_flusher = store.spawn_key_usage_flusher(std::time::Duration::from_secs(1));
    let streams = state.clone();
    let router = app::router(state, demo_page);
    let served = server::serve(listener, router, connections, async move {
        shutdown.await;
        // Graceful shutdown waits for open responses; a live stream never ends by itself.
        streams.close_streams();
    })
    .await
    .map_err(StartError::Serve);
    engine.stop();
    if let Err(error) = scheduler.await {
        tracing::error!(%error, "the engine's scheduler task failed");
    }
    usage_flusher.abort();
    // Closing writes the usage counted since the flusher's last period.
    let closed = store.close().await.map_err(StartError::from);
    served.and(closed)
}

/// Starts the emulator on `listener` and serves until `shutdown` resolves.
///
/// Returns after in-flight requests have finished and the database is closed
/// (its WAL checkpointed). This is the one way to run it; the CLI prints its
/// own banner, since the demo credentials are not returned here — use
/// [`Emulator::start`] to get them.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let local_addr = listener.local_addr().map_err(StartError::Listener)?;
    let prepared = prepare(config, local_addr).await?;
    serve(
        prepared.state,
        prepared.demo_page,
        prepared.connections,
        listener,
        shutdown,
    )
    .await
}

/// A running emulator. Dropping it stops the server (without waiting); call
/// [`Emulator::shutdown`] to wait for a clean stop.
pub struct Emulator {
    local_addr: SocketAddr,
    admin_token: String,
    admin_token_generated: bool,
    demo: Option<DemoProject>,
    projects: Vec<ProjectSummary>,
    engine: Engine,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<Result<(), StartError>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("local_addr", &self.local_addr)
            .field("admin_token", &"<redacted>")
            .field("demo", &self.demo)
            .field("projects", &self.projects)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Seeds the store and starts serving on `listener` (bind it first, e.g. to
    /// `127.0.0.1:0`: the emulator answers as soon as this returns).
    pub async fn start(config: Config, listener: TcpListener) -> Result<Emulator, StartError> {
        let local_addr = listener.local_addr().map_err(StartError::Listener)?;
        let prepared = prepare(config, local_addr).await?;
        let engine = prepared.state.engine().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        // A dropped sender also resolves the receiver: dropping the handle stops the server.
        let server = tokio::spawn(serve(
            prepared.state,
            prepared.demo_page,
            prepared.connections,
            listener,
            async move {
                let _ = stopped.await;
            },
        ));
        Ok(Emulator {
            local_addr,
            admin_token: prepared.admin_token,
            admin_token_generated: prepared.admin_token_generated,
            demo: prepared.demo,
            projects: prepared.projects,
            engine,
            stop: Some(stop),
            server,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://127.0.0.1:PORT` (no trailing slash); an unspecified bind address
    /// is reported as loopback, since that is where a local client reaches it.
    pub fn base_url(&self) -> String {
        loopback_url(self.local_addr)
    }

    /// The admin API's bearer token.
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// Whether the admin token was generated (no [`Config::admin_token`]). Only a generated
    /// token needs printing: one the operator supplied is already theirs, and printing it
    /// would copy a secret into terminal scroll-back and logs for nothing.
    pub fn admin_token_generated(&self) -> bool {
        self.admin_token_generated
    }

    /// The dashboard's one-click sign-in URL (it carries the admin token: print it
    /// once, to the operator only). Opening it starts a dashboard session.
    pub fn dashboard_sign_in_url(&self) -> String {
        format!(
            "{}{}",
            self.base_url(),
            admin::dashboard::sign_in_path(&self.admin_token)
        )
    }

    /// The demo project, when started without a seed file.
    pub fn demo(&self) -> Option<&DemoProject> {
        self.demo.as_ref()
    }

    /// The projects the seed (or the demo) defined.
    pub fn projects(&self) -> &[ProjectSummary] {
        &self.projects
    }

    /// Live events of one agent or workforce task (thinking, typed text, state changes,
    /// written messages, and [`LiveEvent::MessageFinal`] when an agent message is
    /// committed final; a workforce task also gets its members' thinking, typing and
    /// messages), from now on. Every event is published after its change is committed,
    /// so a benchmark can time "reply committed" from `MessageFinal`. Subscribing before the task exists is fine: events
    /// flow once a trigger creates it. A receiver that falls more than 256 events
    /// behind gets `RecvError::Lagged`; the task's messages stay readable over HTTP.
    pub fn task_events(&self, project: &str, task_id: &str) -> broadcast::Receiver<LiveEvent> {
        self.engine.subscribe(project, task_id)
    }

    /// Stops accepting connections, lets open requests finish, and closes the
    /// database (checkpointing its WAL).
    pub async fn shutdown(mut self) -> Result<(), StartError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match (&mut self.server).await {
            Ok(result) => result,
            Err(error) => Err(StartError::ServerTask(error.to_string())),
        }
    }
}

/// `http://{addr}`, with an unspecified bind address as loopback (where a local client
/// reaches it).
fn loopback_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}
