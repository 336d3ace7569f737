//! Emulator throughput: authenticated `GET agents/{id}/get` per second with an API key and
//! with an embed key, next to the bare `GET /healthz` of the same router, in one run.
//!
//! The figure is a ratio to the bare route, so it says what authentication and the agent
//! lookup cost, whatever the machine. The emulator runs in-process on a real SQLite file
//! (a temporary directory), and a closed-loop load generator drives it over loopback with
//! keep-alive connections. Rounds are interleaved (bare, API key, embed key) so a drift in
//! the machine's speed hits every route alike; the median round of each route is reported.
//!
//! Settings (environment): `BENCH_CONCURRENCY` (default 32) connections, `BENCH_SECONDS`
//! (default 3) per round, `BENCH_ROUNDS` (default 3). Every answer is checked: a non-200
//! is counted and printed, so a broken auth path cannot pass for a fast one. This is a
//! measurement, not a test: it exits 0 whatever the figures.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use relevance_emulator::{Config, Emulator, SeedSource, Storage};
use reqwest::header::AUTHORIZATION;
use reqwest::StatusCode;

const PROJECT: &str = "bench-project";
const REGION: &str = "bcbe5a";
const API_KEY: &str = "sk-bench-0001";
const AGENT: &str = "agent-public";
const TARGET_RATIO: f64 = 0.70;

const SEED: &str = r#"
[[projects]]
id = "bench-project"
region = "us"
api_keys = ["sk-bench-0001"]

[[projects.agents]]
id = "agent-public"
use_streaming = true
name = "Bench"
public = true
"#;

/// One route under load: what to ask and with which credential.
struct Route {
    label: &'static str,
    url: String,
    authorization: Option<String>,
}

/// What one round of one route achieved.
#[derive(Debug, Default, Clone)]
struct RoundResult {
    ok: u64,
    non_ok: u64,
    /// Every non-200 status seen, with its count.
    non_ok_statuses: BTreeMap<u16, u64>,
    transport_errors: u64,
    elapsed: Duration,
}

impl RoundResult {
    fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => match text.trim().parse::<u64>() {
            Ok(value) if value > 0 => value,
            _ => {
                eprintln!("{name}={text:?} is not a positive whole number; using {default}");
                default
            }
        },
        Err(_) => default,
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument means "not this bench" only when it
    // names something else, and this file has one measurement, so arguments are ignored.
    let concurrency = env_number("BENCH_CONCURRENCY", 32) as usize;
    let seconds = env_number("BENCH_SECONDS", 3);
    let rounds = env_number("BENCH_ROUNDS", 3) as usize;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("throughput bench: cannot start a tokio runtime: {error}");
            return;
        }
    };
    if let Err(error) = runtime.block_on(measure(concurrency, Duration::from_secs(seconds), rounds))
    {
        eprintln!("throughput bench: could not measure: {error}");
    }
}

async fn measure(
    concurrency: usize,
    round_length: Duration,
    rounds: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let seed = dir.path().join("seed.toml");
    std::fs::write(&seed, SEED)?;
    let config = Config {
        storage: Storage::Directory(dir.path().join("data")),
        seed: Some(SeedSource::File(seed)),
        ..Config::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let emulator = Emulator::start(config, listener).await?;
    let base = emulator.base_url();

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .tcp_nodelay(true)
        .build()?;
    let embed_key = make_embed_key(&client, &base).await?;

    let routes = [
        Route {
            label: "bare /healthz       ",
            url: format!("{base}/healthz"),
            authorization: None,
        },
        Route {
            label: "API key  agents/get ",
            url: format!("{base}/{REGION}/latest/agents/{AGENT}/get"),
            authorization: Some(format!("{PROJECT}:{API_KEY}")),
        },
        Route {
            label: "embed key agents/get",
            url: format!("{base}/{REGION}/latest/agents/{AGENT}/get"),
            authorization: Some(format!("{PROJECT}:{embed_key}")),
        },
    ];

    // Opens the connections and warms caches, so round one measures the same thing as round three.
    for route in &routes {
        drive(&client, route, concurrency, Duration::from_millis(300)).await;
    }

    let mut results: Vec<Vec<RoundResult>> = vec![Vec::new(); routes.len()];
    for _ in 0..rounds {
        for (index, route) in routes.iter().enumerate() {
            results[index].push(drive(&client, route, concurrency, round_length).await);
        }
    }

    println!(
        "throughput (requests/s, median of {rounds} rounds, {concurrency} connections, {} s each)",
        round_length.as_secs()
    );
    let medians: Vec<f64> = results
        .iter()
        .map(|route_rounds| median(route_rounds.iter().map(RoundResult::per_second).collect()))
        .collect();
    let bare = medians[0];
    for (index, route) in routes.iter().enumerate() {
        let rate = medians[index];
        match index {
            0 => println!("  {}  {rate:>8.0}", route.label),
            1 => println!(
                "  {}  {rate:>8.0}   {:.2} of bare",
                route.label,
                rate / bare
            ),
            _ => println!(
                "  {}  {rate:>8.0}   {:.2} of bare   (target >= {TARGET_RATIO:.2})",
                route.label,
                rate / bare
            ),
        }
    }
    let mut all_ok = true;
    for (index, route) in routes.iter().enumerate() {
        let non_ok: u64 = results[index].iter().map(|round| round.non_ok).sum();
        let transport: u64 = results[index]
            .iter()
            .map(|round| round.transport_errors)
            .sum();
        let ok: u64 = results[index].iter().map(|round| round.ok).sum();
        if non_ok > 0 || transport > 0 {
            all_ok = false;
            let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
            for round in &results[index] {
                for (status, count) in &round.non_ok_statuses {
                    *statuses.entry(*status).or_default() += count;
                }
            }
            println!(
                "  {}: {non_ok} non-200 answers {statuses:?} (status: count) and {transport} \
                 transport errors, of {} requests",
                route.label.trim_end(),
                ok + non_ok + transport
            );
        }
    }
    if all_ok {
        println!("  every answer was 200");
    }
    drop(client);
    emulator.shutdown().await?;
    Ok(())
}

/// Asks for an embed key for the public agent (PROTOCOL A3), as a browser would.
async fn make_embed_key(
    client: &reqwest::Client,
    base: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    let answer = client
        .post(format!("{base}/{REGION}/latest/agents/get_embed_key"))
        .body(format!(
            r#"{{"agent_id": "{AGENT}", "project": "{PROJECT}"}}"#
        ))
        .send()
        .await?;
    let status = answer.status();
    let body: serde_json::Value = answer.json().await?;
    match body.get("embed_key").and_then(serde_json::Value::as_str) {
        Some(key) if status == StatusCode::OK => Ok(key.to_string()),
        _ => Err(format!("get_embed_key answered {status} without an embed_key").into()),
    }
}

/// Runs `concurrency` closed loops (each sends the next request when the last answer is read)
/// for `length`, and counts the answers.
async fn drive(
    client: &reqwest::Client,
    route: &Route,
    concurrency: usize,
    length: Duration,
) -> RoundResult {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut loops = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let client = client.clone();
        let url = route.url.clone();
        let authorization = route.authorization.clone();
        let stop = Arc::clone(&stop);
        loops.push(tokio::spawn(async move {
            let mut result = RoundResult::default();
            while !stop.load(Ordering::Relaxed) {
                let mut request = client.get(&url);
                if let Some(value) = &authorization {
                    request = request.header(AUTHORIZATION, value);
                }
                match request.send().await {
                    Ok(answer) => {
                        let status = answer.status();
                        // Reading the body keeps the connection reusable and counts its cost.
                        let body = answer.bytes().await;
                        match (status, body) {
                            (StatusCode::OK, Ok(_)) => result.ok += 1,
                            (_, Ok(_)) => {
                                result.non_ok += 1;
                                *result.non_ok_statuses.entry(status.as_u16()).or_default() += 1;
                            }
                            (_, Err(_)) => result.transport_errors += 1,
                        }
                    }
                    Err(_) => result.transport_errors += 1,
                }
            }
            result
        }));
    }
    tokio::time::sleep(length).await;
    stop.store(true, Ordering::Relaxed);
    let mut total = RoundResult::default();
    for handle in loops {
        if let Ok(result) = handle.await {
            total.ok += result.ok;
            total.non_ok += result.non_ok;
            for (status, count) in result.non_ok_statuses {
                *total.non_ok_statuses.entry(status).or_default() += count;
            }
            total.transport_errors += result.transport_errors;
        }
    }
    // Answers that finish after the stop signal still count, so time runs until the last one.
    total.elapsed = started.elapsed();
    total
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}
