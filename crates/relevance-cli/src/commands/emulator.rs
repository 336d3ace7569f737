//! `relevance emulator`: run the local platform until Ctrl-C or SIGTERM.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use relevance_emulator::{
    Config, ConnectionLimits, DemoPage, Emulator, Faults, Quotas, SeedSource, Storage,
};
use serde_json::json;

use crate::cli::EmulatorArgs;
use crate::output;

pub async fn run(args: EmulatorArgs, json: bool) -> Result<()> {
    let demo_page = if args.demo_page {
        Some(demo_page(&args).await?)
    } else {
        None
    };
    let storage = if args.in_memory {
        Storage::InMemory
    } else {
        Storage::Directory(match args.data {
            Some(dir) => dir,
            None => default_data_dir()?,
        })
    };
    let storage_label = match &storage {
        Storage::InMemory => "in memory (nothing survives a restart)".to_owned(),
        Storage::Directory(dir) => dir.display().to_string(),
    };
    let defaults = Config::default();
    let faults = faults(&args.faults, &defaults.faults);
    let faults_notice = faults.is_active().then(|| format!("{faults:?}"));
    let (connections, quotas) = limits(&args.limits, &defaults);
    let limits = &args.limits;
    let config = Config {
        storage,
        seed: args.seed.map(SeedSource::File),
        admin_token: args.admin_token,
        embed_key_rate_limit_per_minute: args.embed_key_rate_limit,
        webhook_rate_limit_per_minute: args.webhook_rate_limit,
        demo_page,
        streaming_token_ttl_ms: args
            .streaming_token_ttl_ms
            .unwrap_or(defaults.streaming_token_ttl_ms),
        faults,
        generic_auth_errors: limits.generic_auth_errors,
        database_busy_timeout_ms: limits
            .database_busy_timeout_ms
            .unwrap_or(defaults.database_busy_timeout_ms),
        connections,
        quotas,
        schedule_minute_ms: args.schedule_minute_ms,
        public_url: args.public_url.clone(),
        ..defaults
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let emulator = Emulator::start(config, listener).await?;
    if let Some(faults) = faults_notice {
        eprintln!("fault injection is on (API and stream routes only): {faults}");
    }
    print_banner(&emulator, &storage_label, args.demo_page, json);

    shutdown_signal().await;
    eprintln!("stopping: finishing open requests and closing the database…");
    emulator.shutdown().await?;
    eprintln!("stopped");
    Ok(())
}

/// The fault-injection flags, each falling back to the default (a flag wins over the seed,
/// which the emulator applies for what is left at its default).
fn faults(args: &crate::cli::FaultArgs, defaults: &Faults) -> Faults {
    Faults {
        error_rate: args.fault_error_rate.unwrap_or(defaults.error_rate),
        rate_limit_rate: args
            .fault_rate_limit_rate
            .unwrap_or(defaults.rate_limit_rate),
        drop_rate: args.fault_drop_rate.unwrap_or(defaults.drop_rate),
        added_latency_ms: args.fault_latency_ms.unwrap_or(defaults.added_latency_ms),
        stream_cut_every_ms: args.fault_stream_cut_ms.or(defaults.stream_cut_every_ms),
        seed: args.fault_seed.or(defaults.seed),
    }
}

/// The connection limits and quotas, each flag falling back to its default.
fn limits(limits: &crate::cli::LimitArgs, defaults: &Config) -> (ConnectionLimits, Quotas) {
    let connections = ConnectionLimits {
        header_read_timeout_ms: limits
            .header_read_timeout_ms
            .unwrap_or(defaults.connections.header_read_timeout_ms),
        body_read_timeout_ms: limits
            .body_read_timeout_ms
            .unwrap_or(defaults.connections.body_read_timeout_ms),
        idle_timeout_ms: limits
            .idle_timeout_ms
            .unwrap_or(defaults.connections.idle_timeout_ms),
        max_connections: limits
            .max_connections
            .or(defaults.connections.max_connections),
        shutdown_grace_ms: limits
            .shutdown_grace_ms
            .unwrap_or(defaults.connections.shutdown_grace_ms),
    };
    let quotas = Quotas {
        temporary_file_ttl_ms: limits
            .temporary_file_ttl_ms
            .unwrap_or(defaults.quotas.temporary_file_ttl_ms),
        max_uploads_per_key: limits
            .max_uploads_per_key
            .unwrap_or(defaults.quotas.max_uploads_per_key),
        max_uploads_per_project: limits
            .max_uploads_per_project
            .unwrap_or(defaults.quotas.max_uploads_per_project),
        max_streaming_tokens_per_key: limits
            .max_streaming_tokens_per_key
            .unwrap_or(defaults.quotas.max_streaming_tokens_per_key),
        max_streaming_tokens_per_task: limits
            .max_streaming_tokens_per_task
            .unwrap_or(defaults.quotas.max_streaming_tokens_per_task),
        ..defaults.quotas
    };
    (connections, quotas)
}

/// Where the database lives when `--data` is not given: the XDG data directory.
fn default_data_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("relevance-emulator"));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .context("no data directory: pass --data DIR or --in-memory (HOME is not set)")?;
    Ok(PathBuf::from(home).join(".local/share/relevance-emulator"))
}

fn print_banner(emulator: &Emulator, storage: &str, demo_page: bool, json: bool) {
    let base_url = emulator.base_url();
    let demo_page_url = demo_page.then(|| format!("{base_url}/demo/"));
    if json {
        print_banner_json(emulator, storage, demo_page_url);
        return;
    }
    println!("relevance emulator listening on {base_url}");
    println!("  storage:     {storage}");
    if emulator.admin_token_generated() {
        println!("  admin token: {}", emulator.admin_token());
    } else {
        println!("  admin token: the one you supplied (not shown)");
    }
    println!("  admin API:   {base_url}/admin/projects  (Authorization: Bearer <admin token>)");
    println!("  dashboard:   {}", dashboard_url(emulator));
    for project in emulator.projects() {
        println!(
            "  project {} in region {}: agents [{}], workforces [{}]",
            project.id,
            project.region_code,
            project.agent_ids.join(", "),
            project.workforce_ids.join(", ")
        );
    }
    if let Some(demo) = emulator.demo() {
        print_demo(&base_url, demo);
    }
    if let Some(url) = &demo_page_url {
        println!();
        println!("demo page: {url}");
    }
    println!();
    println!("Press Ctrl-C to stop.");
}

/// The banner as one JSON object (`--json`).
fn print_banner_json(emulator: &Emulator, storage: &str, demo_page_url: Option<String>) {
    let base_url = emulator.base_url();
    let demo = emulator.demo().map(|demo| {
        json!({
            "project": demo.project,
            "region": demo.region_code,
            "api_key": demo.api_key,
            "loaded": demo.loaded,
            "key_reused": demo.key_reused,
            "public_agent_id": demo.public_agent_id,
            "private_agent_id": demo.private_agent_id,
            "workforce_id": demo.workforce_id,
            "webhook_url": format!("{base_url}{}", demo.webhook_path),
        })
    });
    let projects: Vec<_> = emulator
        .projects()
        .iter()
        .map(|p| json!({"id": p.id, "region": p.region_code, "agents": p.agent_ids, "workforces": p.workforce_ids}))
        .collect();
    // A token the operator supplied is theirs already: never print it (nor the
    // sign-in link, which carries it).
    let generated = emulator.admin_token_generated();
    output::print_json(&json!({
        "base_url": base_url,
        "admin_token": generated.then(|| emulator.admin_token()),
        "dashboard": dashboard_url(emulator),
        "storage": storage,
        "projects": projects,
        "demo": demo,
        "demo_page": demo_page_url,
    }));
}

/// The demo project's part of the banner: how to point the SDK or the CLI at it.
fn print_demo(base_url: &str, demo: &relevance_emulator::DemoProject) {
    println!();
    let (what, key) = match (demo.loaded, demo.key_reused) {
        (false, _) => ("created", "a new API key"),
        (true, true) => ("loaded from the data directory", "its API key, as before"),
        (true, false) => ("loaded from the data directory", "a new API key"),
    };
    println!("No seed file: demo project {what}, with {key}. Point the SDK or the CLI at it with:");
    println!("  export RELEVANCE_BASE_URL={base_url}");
    println!("  export RELEVANCE_PROJECT={}", demo.project);
    println!("  export RELEVANCE_REGION={}", demo.region_code);
    println!("  export RELEVANCE_API_KEY={}", demo.api_key);
    println!(
        "Public agent: {}   private agent: {}   workforce: {}",
        demo.public_agent_id, demo.private_agent_id, demo.workforce_id
    );
    println!(
        "Webhook (no key): relevance webhook send {base_url}{} --data '{{\"order\": {{\"id\": 1}}}}'",
        demo.webhook_path
    );
}

/// The one-click sign-in link when the token was generated; the sign-in form otherwise.
fn dashboard_url(emulator: &Emulator) -> String {
    if emulator.admin_token_generated() {
        emulator.dashboard_sign_in_url()
    } else {
        format!("{}/dashboard", emulator.base_url())
    }
}

/// The workspace this binary was built from: the demo page and its build script live there.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What `--demo-page` serves: the built page (built now if missing) and the agent it talks
/// to, with that agent's project and region.
async fn demo_page(args: &crate::cli::EmulatorArgs) -> Result<DemoPage> {
    let dir = match &args.demo_page_dir {
        Some(dir) => dir.clone(),
        None => workspace_root().join("target/demo-page"),
    };
    if !is_built(&dir) {
        build_demo_page(&dir)?;
    }
    let (project, region_code, agent_id) = demo_agent(args).await?;
    Ok(DemoPage {
        dir,
        project,
        agent_id,
        region_code,
    })
}

fn is_built(dir: &Path) -> bool {
    [
        "index.html",
        "relevance_demo_page.js",
        "relevance_demo_page_bg.wasm",
    ]
    .iter()
    .all(|file| dir.join(file).is_file())
}

fn build_demo_page(dir: &Path) -> Result<()> {
    let script = workspace_root().join("scripts/build-demo-page.sh");
    eprintln!(
        "demo page: not built in {}; building it with {} (a first build takes a few minutes)…",
        dir.display(),
        script.display()
    );
    let status = std::process::Command::new("bash")
        .arg(&script)
        .arg(dir)
        .current_dir(workspace_root())
        .status()
        .with_context(|| format!("cannot run {}", script.display()))?;
    if !status.success() || !is_built(dir) {
        bail!(
            "the demo page could not be built: {} {} failed ({status}); see its output above",
            script.display(),
            dir.display()
        );
    }
    Ok(())
}

/// (project, region code, agent id) of the page's agent. The seed (or the demo project)
/// says which project an agent is in; it is read by starting a throw-away in-memory
/// emulator with the same seed, so the answer is exactly what the real one will serve.
async fn demo_agent(args: &crate::cli::EmulatorArgs) -> Result<(String, String, String)> {
    if args.seed.is_some() && args.demo_agent.is_none() {
        bail!("--demo-page with --seed needs --demo-agent ID: the public agent the page talks to");
    }
    let probe_config = Config {
        storage: Storage::InMemory,
        seed: args.seed.clone().map(SeedSource::File),
        embed_key_rate_limit_per_minute: 0,
        ..Config::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot listen on 127.0.0.1 to read the seed")?;
    let probe = Emulator::start(probe_config, listener).await?;
    let agent_id = match (&args.demo_agent, probe.demo()) {
        (Some(agent), _) => agent.clone(),
        (None, Some(demo)) => demo.public_agent_id.clone(),
        (None, None) => bail!("--demo-page needs --demo-agent ID"),
    };
    let found = probe
        .projects()
        .iter()
        .find(|project| project.agent_ids.contains(&agent_id))
        .map(|project| (project.id.clone(), project.region_code.clone()));
    let every_agent: Vec<String> = probe
        .projects()
        .iter()
        .flat_map(|project| project.agent_ids.iter().cloned())
        .collect();
    probe.shutdown().await?;
    match found {
        Some((project, region_code)) => Ok((project, region_code, agent_id)),
        None => bail!(
            "--demo-agent {agent_id} is not an agent of the seed (its agents: {})",
            every_agent.join(", ")
        ),
    }
}

/// Resolves on Ctrl-C, or on SIGTERM where there is one.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
