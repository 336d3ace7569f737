//! Where the examples run: the hosted platform when `RELEVANCE_API_KEY`,
//! `RELEVANCE_REGION` and `RELEVANCE_PROJECT` are set, otherwise an emulator
//! started in this process with its demo project, so every example runs with
//! nothing configured (`cargo run -p relevance --example quick_start`).
#![allow(dead_code)]

use relevance::{Client, Key, Region};
use relevance_emulator::{Config, Emulator};

/// The platform, or the embedded emulator (kept alive as long as this is).
pub struct Platform {
    pub client: Client,
    /// The base URL to hand to embed-key options; `None` on the hosted platform.
    pub base_url: Option<String>,
    /// Agent and workforce ids to use: the demo project's on the emulator.
    pub agent_id: String,
    pub researcher_id: String,
    pub workforce_id: String,
    _emulator: Option<Emulator>,
}

/// Connects as the environment says, or starts the embedded emulator.
pub async fn platform() -> Platform {
    if std::env::var_os("RELEVANCE_API_KEY").is_some() {
        let client = Client::from_env().unwrap_or_else(|error| fail(error));
        let id = |name: &str| std::env::var(name).unwrap_or_else(|_| fail(format!("set {name}")));
        return Platform {
            client,
            base_url: std::env::var("RELEVANCE_BASE_URL").ok(),
            agent_id: id("RELEVANCE_AGENT_ID"),
            researcher_id: id("RELEVANCE_AGENT_ID"),
            workforce_id: std::env::var("RELEVANCE_WORKFORCE_ID").unwrap_or_default(),
            _emulator: None,
        };
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|error| fail(error));
    let emulator = Emulator::start(Config::default(), listener)
        .await
        .unwrap_or_else(|error| fail(error));
    let demo = emulator
        .demo()
        .cloned()
        .unwrap_or_else(|| fail("no demo project"));
    let region: Region = demo.region_code.parse().unwrap_or_else(|error| fail(error));
    let key = Key::new(demo.api_key.clone(), region, demo.project.clone())
        .unwrap_or_else(|error| fail(error));
    let client = Client::builder(key)
        .base_url(emulator.base_url())
        .build()
        .unwrap_or_else(|error| fail(error));
    eprintln!(
        "(no RELEVANCE_API_KEY: running against an embedded emulator at {})",
        emulator.base_url()
    );
    Platform {
        client,
        base_url: Some(emulator.base_url()),
        agent_id: demo.public_agent_id.clone(),
        researcher_id: demo.researcher_agent_id.clone(),
        workforce_id: demo.workforce_id.clone(),
        _emulator: Some(emulator),
    }
}

fn fail(problem: impl std::fmt::Display) -> ! {
    eprintln!("error: {problem}");
    std::process::exit(1)
}
