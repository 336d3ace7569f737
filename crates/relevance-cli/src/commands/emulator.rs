//! `relevance emulator`: run the local platform until Ctrl-C or SIGTERM.

use std::path::PathBuf;

use anyhow::{Context, Result};
use relevance_emulator::{Config, Emulator, Storage};
use serde_json::json;

use crate::cli::EmulatorArgs;
use crate::output;

pub async fn run(args: EmulatorArgs, json: bool) -> Result<()> {
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
    let config = Config {
        storage,
        seed_file: args.seed,
        admin_token: args.admin_token,
        embed_key_rate_limit_per_minute: args.embed_key_rate_limit,
        ..Config::default()
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let emulator = Emulator::start(config, listener).await?;
    print_banner(&emulator, &storage_label, json);

    shutdown_signal().await;
    eprintln!("stopping: finishing open requests and closing the database…");
    emulator.shutdown().await?;
    eprintln!("stopped");
    Ok(())
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

fn print_banner(emulator: &Emulator, storage: &str, json: bool) {
    let base_url = emulator.base_url();
    if json {
        let demo = emulator.demo().map(|demo| {
            json!({
                "project": demo.project,
                "region": demo.region_code,
                "api_key": demo.api_key,
                "public_agent_id": demo.public_agent_id,
                "private_agent_id": demo.private_agent_id,
                "workforce_id": demo.workforce_id,
            })
        });
        let projects: Vec<_> = emulator
            .projects()
            .iter()
            .map(|p| json!({"id": p.id, "region": p.region_code, "agents": p.agent_ids, "workforces": p.workforce_ids}))
            .collect();
        output::print_json(&json!({
            "base_url": base_url,
            "admin_token": emulator.admin_token(),
            "dashboard": emulator.dashboard_sign_in_url(),
            "storage": storage,
            "projects": projects,
            "demo": demo,
        }));
        return;
    }
    println!("relevance emulator listening on {base_url}");
    println!("  storage:     {storage}");
    println!("  admin token: {}", emulator.admin_token());
    println!("  admin API:   {base_url}/admin/projects  (Authorization: Bearer <admin token>)");
    println!("  dashboard:   {}", emulator.dashboard_sign_in_url());
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
        println!();
        println!("No seed file: a demo project was created. Point the SDK or the CLI at it with:");
        println!("  export RELEVANCE_BASE_URL={base_url}");
        println!("  export RELEVANCE_PROJECT={}", demo.project);
        println!("  export RELEVANCE_REGION={}", demo.region_code);
        println!("  export RELEVANCE_API_KEY={}", demo.api_key);
        println!(
            "Public agent: {}   private agent: {}   workforce: {}",
            demo.public_agent_id, demo.private_agent_id, demo.workforce_id
        );
    }
    println!();
    println!("Press Ctrl-C to stop.");
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
