//! Jobs (PROTOCOL A15), measured against the emulator on loopback: the SDK's `job.wait()`
//! on the long poll next to the platform docs' loop (poll `ending_update_only` every 3 s),
//! side by side in one run, and `agent.ask` on a 2-s run.
//!
//! `cargo bench -p relevance-cli --bench jobs` (`BENCH_JOBS` jobs of each kind, default 10,
//! all at once; `BENCH_JOB_SECONDS`, default 20, the tool's length).
//!
//! Prints, for each way of waiting: requests per job (the start included) and the delay from
//! the job's end to the caller knowing it (p50/p95). A job's end is its start (taken just
//! before the start request) plus the `executionTime` its final update reports. Asserts
//! nothing: machines here are shared and noisy.

use std::time::{Duration, Instant};

use relevance::{Client, Key, Region};
use relevance_emulator::{Config, Emulator, SeedSource};
use serde_json::{json, Value};

const API_KEY: &str = "sk-bench-jobs-0001-jjjjjjjjjjjjjjjjjjjj";
const PROJECT: &str = "proj-jobs-bench";

fn seed(seconds: u64) -> String {
    format!(
        r#"
[[projects]]
id = "{PROJECT}"
region = "us"
api_keys = ["{API_KEY}"]

[[projects.tools]]
id = "long"
params_schema = {{ type = "object", properties = {{ n = {{ type = "integer" }} }} }}
output = {{ done = "{{n}}" }}
delay_ms = {ms}

[[projects.agents]]
id = "two-seconds"
behavior = "script"
script = [ {{ think = "working", delay_ms = 1000 }}, {{ reply = "answered", delay_ms = 1000 }} ]
"#,
        ms = seconds * 1000
    )
}

/// What one waited-for job cost and how late its end was known.
struct Measured {
    requests: usize,
    late: Duration,
}

#[tokio::main]
async fn main() {
    let jobs: usize = env_or("BENCH_JOBS", 10);
    let seconds: u64 = env_or("BENCH_JOB_SECONDS", 20);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let config = Config {
        seed: Some(SeedSource::Text(seed(seconds))),
        max_open_jobs: 10_000,
        ..Config::default()
    };
    let emulator = Emulator::start(config, listener).await.expect("emulator");
    let base = emulator.base_url();
    let client = Client::builder(Key::new(API_KEY, Region::US, PROJECT).expect("key"))
        .base_url(base.clone())
        .build()
        .expect("client");
    let admin = Admin {
        http: reqwest::Client::new(),
        base: base.clone(),
        token: emulator.admin_token().to_string(),
    };
    println!("{jobs} jobs of a {seconds}-s tool each way, all at once");
    let sdk = futures_util::future::join_all((0..jobs).map(|n| sdk_wait(&client, &admin, n)));
    let docs = futures_util::future::join_all((0..jobs).map(|n| docs_loop(&client, &admin, n)));
    let (sdk, docs) = tokio::join!(sdk, docs);
    report("SDK job.wait() (long poll)", &sdk);
    report("docs' loop (poll every 3 s)", &docs);
    let mut asked = Vec::new();
    for _ in 0..jobs.min(5) {
        asked.push(ask(&client, &admin).await);
    }
    let requests: Vec<usize> = asked.iter().map(|m| m.requests).collect();
    println!(
        "agent.ask on a 2-s run: {:.2} requests per ask (max {})",
        mean(&requests),
        requests.iter().max().copied().unwrap_or(0)
    );
    emulator.shutdown().await.expect("shutdown");
}

async fn sdk_wait(client: &Client, admin: &Admin, n: usize) -> Measured {
    let tool = client.tools().get("long").await.expect("tool");
    let started = Instant::now();
    let job = tool.start(json!({ "n": n })).await.expect("start");
    let output = job.wait().await.expect("wait");
    let known = started.elapsed();
    let ran = output.execution_time.unwrap_or_default();
    // The polls name the job in their path; the start (its id in the body) is one more.
    Measured {
        requests: admin.requests_naming(job.id()).await + 1,
        late: known.saturating_sub(ran),
    }
}

/// The docs' "Asynchronous execution" loop: start, then poll with `ending_update_only`
/// every 3 seconds until complete or failed.
async fn docs_loop(client: &Client, admin: &Admin, n: usize) -> Measured {
    let http = reqwest::Client::new();
    let base = format!("{}/bcbe5a/latest/", admin.base);
    let auth = format!("{PROJECT}:{API_KEY}");
    let started = Instant::now();
    let job: Value = http
        .post(format!("{base}studios/long/trigger_async"))
        .header("Authorization", &auth)
        .json(&json!({"params": {"n": n}, "project": PROJECT}))
        .send()
        .await
        .expect("start")
        .json()
        .await
        .expect("start answer");
    let job_id = job["job_id"].as_str().expect("job id").to_string();
    let _ = client;
    let last = loop {
        let polled: Value = http
            .get(format!(
                "{base}studios/long/async_poll/{job_id}?ending_update_only=true"
            ))
            .header("Authorization", &auth)
            .send()
            .await
            .expect("poll")
            .json()
            .await
            .expect("poll answer");
        if matches!(polled["type"].as_str(), Some("complete" | "failed")) {
            break polled;
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
    };
    let known = started.elapsed();
    let ran = last["updates"][0]["output"]["executionTime"]
        .as_f64()
        .unwrap_or(0.0);
    Measured {
        requests: admin.requests_naming(&job_id).await + 1,
        late: known.saturating_sub(Duration::from_secs_f64(ran / 1000.0)),
    }
}

/// One ask at a time (the polls name the agent, not the ask): the trigger and the polls.
async fn ask(client: &Client, admin: &Admin) -> Measured {
    let agent = client.agents().get("two-seconds").await.expect("agent");
    let polls = "studios/two-seconds/async_poll";
    let before = admin.requests_naming(polls).await;
    let reply = agent.ask("go").await.expect("ask");
    assert_eq!(reply.text, "answered");
    Measured {
        requests: admin.requests_naming(polls).await - before + 1,
        late: Duration::ZERO,
    }
}

fn report(name: &str, measured: &[Measured]) {
    let requests: Vec<usize> = measured.iter().map(|m| m.requests).collect();
    let mut late: Vec<Duration> = measured.iter().map(|m| m.late).collect();
    late.sort();
    println!(
        "{name}: {:.2} requests per job (max {}); end → known p50 {:.0} ms, p95 {:.0} ms",
        mean(&requests),
        requests.iter().max().copied().unwrap_or(0),
        percentile(&late, 50).as_secs_f64() * 1000.0,
        percentile(&late, 95).as_secs_f64() * 1000.0,
    );
}

/// The emulator's request log, through its admin API.
struct Admin {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Admin {
    /// How many logged requests have `needle` in their path.
    async fn requests_naming(&self, needle: &str) -> usize {
        let log: Value = self
            .http
            .get(format!("{}/admin/requests?limit=10000", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request log")
            .json()
            .await
            .expect("request log answer");
        log["requests"]
            .as_array()
            .map(|requests| {
                requests
                    .iter()
                    .filter(|r| r["path"].as_str().is_some_and(|p| p.contains(needle)))
                    .count()
            })
            .unwrap_or(0)
    }
}

fn mean(values: &[usize]) -> f64 {
    values.iter().sum::<usize>() as f64 / values.len().max(1) as f64
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = (sorted.len() * p).div_ceil(100).saturating_sub(1);
    sorted[index.min(sorted.len() - 1)]
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}
