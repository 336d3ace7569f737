//! Live task events, measured against the emulator on loopback (issue 5's figures).
//!
//! `cargo bench -p relevance-cli --bench events -- [latency|requests|idle|scale|all]`
//!
//! Before/after figures come from one run of two builds back to back: build this bench on the
//! old SDK (`cargo bench -p relevance-cli --bench events --no-run`), copy the executable it
//! names aside, build it again on the new SDK, then run `latency`, `requests` and `idle` of
//! each executable one after the other (`BENCH_TRACE=1` prints each conversation's requests).
//!
//! Prints each figure; asserts nothing (machines here are shared and noisy). Figures:
//! 1. final-message latency (emulator commit → stream yield), p50/p95 over N conversations;
//! 2. requests per conversation (send → final reply) next to the official client's policy
//!    (metadata + messages every second while running), measured in the same run;
//! 3. typing-token latency (emulator emit → stream yield), p50/p95;
//! 4. idle cost: requests of one subscribed finished task in its first minute, then a minute;
//! 5. scale: 10,000 completed tasks subscribed in one process (the emulator runs as a separate
//!    process): peak RSS, and whether every stream still yields a new message.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use relevance::{Client, Key, MessageContent, Region, TaskEvent};
use relevance_emulator::{Config, Emulator, LiveEvent, SeedSource, Storage};

const API_KEY: &str = "sk-bench-0001-bbbbbbbbbbbbbbbbbbbbbbbb";
const PROJECT: &str = "proj-bench";

/// A scripted agent that thinks, runs a tool and types a 400-character reply, at a pace like a
/// real agent's (about four seconds a conversation), so polling policies are compared on a
/// conversation of realistic length.
fn seed() -> String {
    let reply = "x".repeat(380);
    format!(
        r#"
[[projects]]
id = "{PROJECT}"
region = "us"
api_keys = ["{API_KEY}"]

[[projects.agents]]
id = "worker"
use_streaming = true
public = true
behavior = "script"
chunk_delay_ms = 30
script = [
  {{ think = "Thinking about {{message}}", delay_ms = 500 }},
  {{ tool = "search", input = {{ q = "{{message}}" }}, output = {{ hits = 1 }}, delay_ms = 1000 }},
  {{ type = "Answer: {reply}", delay_ms = 300 }},
]

[[projects.agents]]
id = "quick"
use_streaming = true
public = true
behavior = "script"
script = [ {{ reply = "ok" }} ]
"#
    )
}

#[tokio::main]
async fn main() {
    let which = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_else(|| "all".into());
    let conversations: usize = env_or("BENCH_CONVERSATIONS", 200);
    if matches!(which.as_str(), "latency" | "requests" | "all") {
        let bench = Bench::start().await;
        if which != "requests" {
            bench.latency(conversations).await;
        }
        if which != "latency" {
            bench
                .requests(env_or("BENCH_REQUEST_CONVERSATIONS", 20))
                .await;
        }
        bench.emulator.shutdown().await.expect("shutdown");
    }
    if matches!(which.as_str(), "idle" | "all") {
        let bench = Bench::start().await;
        bench.idle(env_or("BENCH_IDLE_MINUTES", 2)).await;
        bench.emulator.shutdown().await.expect("shutdown");
    }
    if matches!(which.as_str(), "scale" | "all") {
        scale(env_or("BENCH_SCALE_TASKS", 10_000)).await;
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Bench {
    emulator: Emulator,
    client: Client,
    _dir: tempfile::TempDir,
}

impl Bench {
    async fn start() -> Bench {
        let dir = tempfile::tempdir().expect("temp dir");
        let seed_path = dir.path().join("seed.toml");
        std::fs::write(&seed_path, seed()).expect("seed");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let config = Config {
            storage: Storage::Directory(dir.path().join("data")),
            seed: Some(SeedSource::File(seed_path)),
            ..Config::default()
        };
        let emulator = Emulator::start(config, listener).await.expect("emulator");
        let key = Key::new(API_KEY, Region::US, PROJECT).expect("key");
        let client = Client::builder(key)
            .base_url(emulator.base_url())
            .build()
            .expect("client");
        Bench {
            emulator,
            client,
            _dir: dir,
        }
    }

    /// Figures 1 and 3: commit → yield for final messages, emit → yield for typing tokens.
    async fn latency(&self, conversations: usize) {
        let agent = self.client.agents().get("worker").await.expect("agent");
        let concurrency = env_or("BENCH_CONCURRENCY", 8usize);
        let finals = Arc::new(Mutex::new(Vec::new()));
        let tokens = Arc::new(Mutex::new(Vec::new()));
        let mut remaining = conversations;
        while remaining > 0 {
            let batch = remaining.min(concurrency);
            remaining -= batch;
            let mut conversations = Vec::new();
            for i in 0..batch {
                let agent = agent.clone();
                let (finals, tokens) = (finals.clone(), tokens.clone());
                conversations.push(async move {
                    let task = agent
                        .send_message(format!("question {i}"))
                        .await
                        .expect("send");
                    // When the emulator committed each message / emitted each token, noted by
                    // a listener running beside the stream.
                    let times = EmulatorTimes::listen(self.emulator.task_events(PROJECT, &task.id));
                    let mut events = task.events();
                    loop {
                        let event = events.next().await.expect("stream").expect("event");
                        let now = Instant::now();
                        match event {
                            TaskEvent::Message(message) => {
                                if let MessageContent::Agent(_) = message.content {
                                    // The final commit is published just after it happens; give
                                    // the listener a moment to note it if the poll won the race.
                                    let mut committed = times.committed(&message.id);
                                    for _ in 0..100 {
                                        if committed.is_some() {
                                            break;
                                        }
                                        tokio::time::sleep(Duration::from_millis(1)).await;
                                        committed = times.committed(&message.id);
                                    }
                                    if let Some(at) = committed {
                                        finals
                                            .lock()
                                            .unwrap()
                                            .push(now.saturating_duration_since(at));
                                    }
                                    break;
                                }
                            }
                            TaskEvent::Typing { text, .. } => {
                                if let Some(at) = times.emitted(&text) {
                                    tokens
                                        .lock()
                                        .unwrap()
                                        .push(now.saturating_duration_since(at));
                                }
                            }
                            _ => {}
                        }
                    }
                });
            }
            futures_util::future::join_all(conversations).await;
        }
        let finals = finals.lock().unwrap().clone();
        let tokens = tokens.lock().unwrap().clone();
        println!("1. final-message latency (commit -> stream yield), {} conversations, {concurrency} at a time", finals.len());
        println!(
            "   p50 {:>7.1} ms   p95 {:>7.1} ms   (target p50 <= 150 ms)",
            pct(&finals, 50),
            pct(&finals, 95)
        );
        if tokens.is_empty() {
            println!("3. typing-token latency: no typing token reached the stream (the live stream is not in use)");
        } else {
            println!(
                "3. typing-token latency (emit -> stream yield), {} tokens",
                tokens.len()
            );
            println!(
                "   p50 {:>7.1} ms   p95 {:>7.1} ms   (target p50 <= 20 ms)",
                pct(&tokens, 50),
                pct(&tokens, 95)
            );
        }
    }

    /// Figure 2: requests from send to final reply, SDK vs the official polling policy, with
    /// ours broken down by kind of request (so a change in the count can be traced to a read).
    async fn requests(&self, conversations: usize) {
        let agent = self.client.agents().get("worker").await.expect("agent");
        let mut ours = Vec::new();
        let mut kinds: HashMap<&'static str, usize> = HashMap::new();
        let mut official = Vec::new();
        for i in 0..conversations {
            // Ours: task.events() until the final reply.
            let before = self.logged().await.len();
            let task = agent.send_message(format!("ours {i}")).await.expect("send");
            let mut events = task.events();
            loop {
                if let Some(Ok(TaskEvent::Message(message))) = events.next().await {
                    if matches!(message.content, MessageContent::Agent(_)) {
                        break;
                    }
                }
            }
            drop(events);
            let logged = self.logged().await;
            let made = logged.len() - before;
            for (path, _) in &logged[..made] {
                *kinds.entry(kind_of(path)).or_default() += 1;
            }
            if std::env::var_os("BENCH_TRACE").is_some() {
                let trace: Vec<String> = logged[..made]
                    .iter()
                    .rev()
                    .map(|(path, at)| format!("{} {}", at.get(17..).unwrap_or(at), kind_of(path)))
                    .collect();
                println!("   conversation {i}: {}", trace.join(", "));
            }
            ours.push(made);

            // The official client's policy: metadata + messages every second while running.
            let before = self.logged().await.len();
            let mut task = agent
                .send_message(format!("official {i}"))
                .await
                .expect("send");
            'poll: loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                task.refresh().await.expect("metadata");
                for message in task.messages().await.expect("messages") {
                    if let MessageContent::Agent(reply) = &message.content {
                        if !reply.generating {
                            break 'poll;
                        }
                    }
                }
            }
            official.push(self.logged().await.len() - before);
        }
        let mean = |v: &[usize]| v.iter().sum::<usize>() as f64 / v.len().max(1) as f64;
        println!(
            "2. requests per conversation, send -> final reply, {conversations} conversations each"
        );
        println!(
            "   task.events()          {:>6.2}   (target <= 5)",
            mean(&ours)
        );
        let mut kinds: Vec<_> = kinds.into_iter().collect();
        kinds.sort();
        for (kind, count) in kinds {
            println!(
                "     {kind:<20} {:>6.2}",
                count as f64 / conversations.max(1) as f64
            );
        }
        println!(
            "   official policy (1 s)  {:>6.2}   (target: ours fewer)",
            mean(&official)
        );
    }

    /// The paths and times of the requests the emulator has logged, newest first (the log
    /// keeps the newest 10,000; admin reads, like this one, do not count).
    async fn logged(&self) -> Vec<(String, String)> {
        let log: serde_json::Value = reqwest::Client::new()
            .get(format!(
                "{}/admin/requests?limit=10000",
                self.emulator.base_url()
            ))
            .bearer_auth(self.emulator.admin_token())
            .send()
            .await
            .expect("admin log")
            .json()
            .await
            .expect("JSON");
        log["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .filter_map(|r| Some((r["path"].as_str()?, r["at"].as_str().unwrap_or(""))))
            .filter(|(path, _)| !path.starts_with("/admin"))
            .map(|(path, at)| (path.to_owned(), at.to_owned()))
            .collect()
    }

    /// Figure 4: one subscribed task that has finished and gets no new message: its requests
    /// in the first minute after subscribing, then per minute over the next `minutes`.
    async fn idle(&self, minutes: u64) {
        let agent = self.client.agents().get("quick").await.expect("agent");
        let mut task = agent.send_message("settle").await.expect("send");
        while task.is_running() {
            tokio::time::sleep(Duration::from_millis(50)).await;
            task.refresh().await.expect("metadata");
        }
        println!(
            "4. idle cost of a finished task: counting its requests for {} min after subscribing…",
            minutes + 1
        );
        let start = self.task_requests(&task.id).await;
        let mut events = task.events();
        let reader = tokio::spawn(async move { while events.next().await.is_some() {} });
        tokio::time::sleep(Duration::from_secs(60)).await;
        let first = self.task_requests(&task.id).await;
        tokio::time::sleep(Duration::from_secs(60 * minutes)).await;
        let after = self.task_requests(&task.id).await;
        reader.abort();
        let per_minute = (after - first) as f64 / minutes.max(1) as f64;
        println!("   first minute {:>4}   (target <= 3)", first - start);
        println!("   then {per_minute:>4.1} a minute over {minutes} min   (target <= 1)");
    }

    async fn task_requests(&self, task_id: &str) -> usize {
        let log: serde_json::Value = reqwest::Client::new()
            .get(format!(
                "{}/admin/requests?limit=10000",
                self.emulator.base_url()
            ))
            .bearer_auth(self.emulator.admin_token())
            .send()
            .await
            .expect("admin log")
            .json()
            .await
            .expect("JSON");
        log["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .filter(|r| r["path"].as_str().is_some_and(|p| p.contains(task_id)))
            .count()
    }
}

/// The emulator's own clock of a task: when each agent message's final write was committed
/// and when each typing token was emitted, noted by a listener task as the events happen.
#[derive(Clone, Default)]
struct EmulatorTimes {
    committed: Arc<Mutex<HashMap<String, Instant>>>,
    emitted: Arc<Mutex<HashMap<String, Instant>>>,
}

impl EmulatorTimes {
    fn listen(mut live: tokio::sync::broadcast::Receiver<LiveEvent>) -> EmulatorTimes {
        let times = EmulatorTimes::default();
        let noted = times.clone();
        tokio::spawn(async move {
            // Typing events are fragments: the text so far (what a client shows) is their sum.
            let mut typed: HashMap<String, String> = HashMap::new();
            loop {
                match live.recv().await {
                    Ok(LiveEvent::MessageFinal { item_id, .. }) => {
                        noted
                            .committed
                            .lock()
                            .unwrap()
                            .insert(item_id, Instant::now());
                    }
                    Ok(LiveEvent::Typing { delta, message_id }) => {
                        let text = typed.entry(message_id).or_default();
                        text.push_str(&delta);
                        let text = text.clone();
                        noted
                            .emitted
                            .lock()
                            .unwrap()
                            .entry(text)
                            .or_insert_with(Instant::now);
                    }
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        times
    }

    fn committed(&self, item_id: &str) -> Option<Instant> {
        self.committed.lock().unwrap().get(item_id).copied()
    }

    fn emitted(&self, text: &str) -> Option<Instant> {
        self.emitted.lock().unwrap().get(text).copied()
    }
}

/// What kind of request a logged path is.
fn kind_of(path: &str) -> &'static str {
    if path.contains("/trigger") {
        "trigger"
    } else if path.contains("/metadata") {
        "metadata"
    } else if path.contains("/view") || path.contains("/messages") {
        "messages"
    } else if path.contains("/stream") {
        "live stream"
    } else {
        "other"
    }
}

fn pct(samples: &[Duration], p: usize) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut sorted: Vec<_> = samples.to_vec();
    sorted.sort();
    let index = ((sorted.len() - 1) * p) / 100;
    sorted[index].as_secs_f64() * 1000.0
}

/// Figure 5: many subscribed tasks in one process; the emulator is a separate process so the
/// RSS measured is the SDK's alone.
async fn scale(tasks: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let seed_path = dir.path().join("seed.toml");
    std::fs::write(&seed_path, seed()).expect("seed");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_relevance"))
        .args([
            "emulator",
            "--in-memory",
            "--listen",
            "127.0.0.1:0",
            "--json",
            "--embed-key-rate-limit",
            "0",
            "--seed",
        ])
        .arg(&seed_path)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("emulator process");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let banner: serde_json::Value =
        serde_json::from_str(&lines.next_line().await.expect("banner").expect("a line"))
            .expect("JSON banner");
    let base_url = banner["base_url"].as_str().expect("base_url").to_owned();
    let key = Key::new(API_KEY, Region::US, PROJECT).expect("key");
    let client = Client::builder(key)
        .base_url(base_url)
        .build()
        .expect("client");
    let agent = client.agents().get("quick").await.expect("agent");

    println!("5. scale: creating {tasks} tasks…");
    let started = Instant::now();
    let created = futures_util::stream::iter(0..tasks)
        .map(|i| {
            let agent = agent.clone();
            async move { agent.send_message(format!("t{i}")).await.expect("send") }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;
    // Completed tasks, as the figure asks: wait until every run is over before subscribing.
    let mut created = created;
    for task in created.iter_mut() {
        while task.is_running() {
            tokio::time::sleep(Duration::from_millis(20)).await;
            task.refresh().await.expect("metadata");
        }
    }
    println!(
        "   created and completed in {:.1} s (RSS {:.1} MB); subscribing to all of them…",
        started.elapsed().as_secs_f64(),
        rss_kib("VmRSS") as f64 / 1024.0
    );

    let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::new(Mutex::new(HashMap::new()));
    let mut readers = Vec::new();
    for task in &created {
        let mut events = task.events();
        let seen = seen.clone();
        let id = task.id.clone();
        readers.push(tokio::spawn(async move {
            while let Some(event) = events.next().await {
                if let Ok(TaskEvent::Message(message)) = event {
                    if let MessageContent::User(user) = &message.content {
                        if user.text == "wake up" {
                            *seen.lock().unwrap().entry(id.clone()).or_default() += 1;
                        }
                    }
                }
            }
        }));
    }
    // Let every stream read its history and settle into idle pacing.
    tokio::time::sleep(Duration::from_secs(env_or(
        "BENCH_SCALE_SETTLE_SECONDS",
        20,
    )))
    .await;
    let rss_settled = rss_kib("VmRSS");

    // New messages on a sample of the tasks: each of their streams must yield its message.
    let sample: Vec<_> = created.iter().step_by((tasks / 50).max(1)).collect();
    let woke = Instant::now();
    for task in &sample {
        agent
            .message("wake up")
            .in_task(*task)
            .send()
            .await
            .expect("send");
    }
    let mut waited = 0;
    while seen.lock().unwrap().len() < sample.len() && waited < 600 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += 1;
    }
    let yielded = seen.lock().unwrap().len();
    println!(
        "   peak RSS {:.1} MB (settled {:.1} MB)   (target <= 100 MB)",
        rss_kib("VmHWM") as f64 / 1024.0,
        rss_settled as f64 / 1024.0
    );
    println!(
        "   {yielded} of {} woken tasks yielded their new message, the last after {:.2} s",
        sample.len(),
        woke.elapsed().as_secs_f64()
    );
    for reader in readers {
        reader.abort();
    }
    let _ = child.kill().await;
}

/// A memory figure of this process from /proc (kiB), 0 where there is none.
fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
