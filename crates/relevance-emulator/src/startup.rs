//! Everything done before the server accepts its first request: the config
//! checked, the database opened and migrated, the seed (or the demo project)
//! upserted, the admin token chosen, the shared state built.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::config::{validate_limits, Config, ConnectionLimits, SeedSource, Storage};
use crate::demo::{self, DemoProject};
use crate::demo_page::DemoPage;
use crate::engine::Engine;
use crate::faults::Faults;
use crate::seed;
use crate::start_error::StartError;
use crate::state::AppState;
use crate::store::{self, Store};
use crate::{auth, state, time};

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
pub(crate) struct Prepared {
    pub(crate) state: AppState,
    pub(crate) admin_token: String,
    pub(crate) admin_token_generated: bool,
    pub(crate) demo: Option<DemoProject>,
    pub(crate) projects: Vec<ProjectSummary>,
    pub(crate) demo_page: Option<DemoPage>,
    pub(crate) connections: ConnectionLimits,
}

fn summary(spec: &store::definitions::ProjectSpec) -> ProjectSummary {
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

/// Everything before the first request, in order: the config checked (before any
/// storage is touched, so a typo creates no data directory), the database opened, the
/// seed or the demo upserted, the caches warmed, the shared state built.
pub(crate) async fn prepare(
    config: Config,
    local_addr: SocketAddr,
) -> Result<Prepared, StartError> {
    let admin_token_generated = config.admin_token.is_none();
    let admin_token = admin_token(config.admin_token.clone())?;
    let seed = config.seed.as_ref().map(load_seed).transpose()?;
    let (streaming_token_ttl_ms, faults) = checked_settings(&config, seed.as_ref())?;
    let store = open_store(&config.storage)?;
    let (demo, projects) = populate(&store, &config.storage, seed).await?;
    let busy_timeout = std::time::Duration::from_millis(config.database_busy_timeout_ms);
    store
        .call(move |connection| connection.busy_timeout(busy_timeout))
        .await?;
    fail_interrupted_jobs(&store).await?;
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
            public_url: public_url(config.public_url.as_deref(), local_addr),
            job_poll_wait_ms: config.job_poll_wait_ms,
            max_open_jobs: i64::from(config.max_open_jobs),
            job_retention_ms: i64::try_from(config.job_retention_ms).unwrap_or(i64::MAX),
            webhook_rate_limit_per_minute: config.webhook_rate_limit_per_minute,
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

/// The configured admin token, checked, or a generated one.
fn admin_token(configured: Option<String>) -> Result<String, StartError> {
    match configured {
        Some(token)
            if token.is_empty() || token.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Err(StartError::InvalidConfig(
                "the admin token must be non-empty and contain no whitespace".to_string(),
            ))
        }
        Some(token) => Ok(token),
        None => Ok(auth::secret::new_admin_token()),
    }
}

/// The streaming-token TTL and the faults to run with (the seed's `[emulator]` table
/// where the config is left at its default), with every limit checked.
fn checked_settings(
    config: &Config,
    seed: Option<&seed::Seed>,
) -> Result<(u64, Faults), StartError> {
    let (streaming_token_ttl_ms, faults) = match seed {
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
    Ok((streaming_token_ttl_ms, faults))
}

/// The database: in memory, or in the data directory (created if missing).
/// A tool job that was running when the emulator stopped runs no more: it ends failed, so
/// no poller waits on it forever (an agent's job follows its run, which resumes).
async fn fail_interrupted_jobs(store: &Store) -> Result<(), StartError> {
    let interrupted = store
        .call(|db| crate::service::jobs::fail_interrupted(db, time::now_ms()))
        .await?;
    if interrupted > 0 {
        tracing::warn!(
            jobs = interrupted,
            "tool jobs that ran when the emulator stopped are failed"
        );
    }
    Ok(())
}

fn open_store(storage: &Storage) -> Result<Store, StartError> {
    Ok(match storage {
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
    })
}

/// Upserts the seed, or the demo project when there is none (its API key kept beside a
/// data directory); answers the demo's credentials and what was defined.
async fn populate(
    store: &Store,
    storage: &Storage,
    seed: Option<seed::Seed>,
) -> Result<(Option<DemoProject>, Vec<ProjectSummary>), StartError> {
    let now = time::now_iso();
    if let Some(seed) = seed {
        let projects = seed
            .projects
            .iter()
            .map(|project| summary(&project.spec))
            .collect();
        store
            .call(move |connection| seed::apply(connection, &seed, &now))
            .await?;
        return Ok((None, projects));
    }
    let key_file = match storage {
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
    Ok((Some(demo), vec![summary(&demo::spec())]))
}

/// The public URL links are built with: the configured one (trimmed, without a trailing
/// `/`), else where a local client reaches the listener.
fn public_url(configured: Option<&str>, local_addr: SocketAddr) -> String {
    configured
        .map(|url| url.trim().trim_end_matches('/').to_string())
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| loopback_url(local_addr))
}

/// `http://{addr}`, with an unspecified bind address as loopback (where a local client
/// reaches it).
pub(crate) fn loopback_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}
