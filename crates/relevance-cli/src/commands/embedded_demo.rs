//! The demo project on an in-memory emulator inside this process: what `chat` and `mcp`
//! talk to when no credentials are configured, so each works on a fresh machine. The
//! emulator lives as long as the returned [`Emulator`]; shut it down when done.

use anyhow::{Context, Result};
use relevance::{Client, Key, Region};
use relevance_emulator::{Config, Emulator};

/// Starts an in-memory emulator with the demo project on a loopback port, and a client for
/// the demo's API key.
pub async fn start() -> Result<(Client, Emulator)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let emulator = Emulator::start(Config::default(), listener).await?;
    let demo = emulator
        .demo()
        .context("the embedded emulator has no demo project")?;
    let region: Region = demo.region_code.parse()?;
    let key = Key::new(demo.api_key.clone(), region, demo.project.clone())?;
    let client = Client::builder(key).base_url(emulator.base_url()).build()?;
    Ok((client, emulator))
}
