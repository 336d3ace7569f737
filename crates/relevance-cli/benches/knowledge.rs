//! Knowledge import and export (PROTOCOL A16) against the release emulator.
//!
//! The emulator runs as its own process (`relevance emulator --data DIR`: a real SQLite
//! file), so neither figure pays for the other's memory. The import goes through the SDK
//! in this process (`KnowledgeSet::add`, batches the SDK sizes); the export is the CLI's
//! `relevance knowledge export SET` as a child process writing JSON Lines to a null sink,
//! whose peak memory (the kernel's `ru_maxrss` through `/usr/bin/time`) is reported for a 1,000-row
//! and a 100,000-row set: the export holds one page at a time, so the two should be close.
//!
//! Goals: >= 20,000 rows/s import, >= 50,000 rows/s export, peak memory within 2x.
//! Settings (environment): `BENCH_ROWS` (default 100000). A measurement, not a test: it
//! prints its figures and exits 0 whatever they are.

use std::process::Stdio;
use std::time::{Duration, Instant};

use relevance::{Client, Key, Region};
use serde_json::json;

const PROJECT: &str = "bench-knowledge";
const API_KEY: &str = "sk-bench-knowledge-0001";
const SMALL_ROWS: usize = 1000;

const SEED: &str = r#"
[[projects]]
id = "bench-knowledge"
region = "us"
api_keys = ["sk-bench-knowledge-0001"]
"#;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .filter(|rows| *rows > 0)
        .unwrap_or(default)
}

fn main() {
    let rows = env_number("BENCH_ROWS", 100_000);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("knowledge bench: cannot start a tokio runtime: {error}");
            return;
        }
    };
    if let Err(error) = runtime.block_on(measure(rows)) {
        eprintln!("knowledge bench: could not measure: {error}");
    }
}

/// A row like a small FAQ entry (about 150 bytes of JSON).
fn row(n: usize) -> serde_json::Value {
    json!({"id": n, "question": format!("How do I do thing number {n}?"),
           "answer": format!("Open the settings and choose option {}.", n % 97),
           "tags": ["faq", if n.is_multiple_of(2) { "even" } else { "odd" }]})
}

async fn measure(rows: usize) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let seed = dir.path().join("seed.toml");
    std::fs::write(&seed, SEED)?;
    let mut emulator = tokio::process::Command::new(env!("CARGO_BIN_EXE_relevance"))
        .args(["emulator", "--listen", "127.0.0.1:0", "--json", "--data"])
        .arg(dir.path().join("data"))
        .arg("--seed")
        .arg(&seed)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = emulator.stdout.take().ok_or("no stdout")?;
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let banner: serde_json::Value =
        serde_json::from_str(&lines.next_line().await?.ok_or("no banner")?)?;
    let base_url = banner["base_url"]
        .as_str()
        .ok_or("no base_url")?
        .to_string();
    let client = Client::builder(Key::new(API_KEY, Region::US, PROJECT)?)
        .base_url(base_url.clone())
        .build()?;

    println!("knowledge: {rows} rows through the SDK into the release emulator (SQLite file)");
    let small: Vec<serde_json::Value> = (0..SMALL_ROWS).map(row).collect();
    client.knowledge().set("small")?.add(&small).await?;
    let large: Vec<serde_json::Value> = (0..rows).map(row).collect();
    let started = Instant::now();
    client.knowledge().set("large")?.add(&large).await?;
    let import = started.elapsed();
    drop(large);
    println!(
        "  import  {rows:>7} rows in {:>6.2} s: {:>9.0} rows/s   (goal >= 20000)",
        import.as_secs_f64(),
        rows as f64 / import.as_secs_f64()
    );

    let (small_time, small_peak, small_lines) = export(&base_url, "small").await?;
    let (large_time, large_peak, large_lines) = export(&base_url, "large").await?;
    for (label, count, time, lines) in [
        ("small", SMALL_ROWS, small_time, small_lines),
        ("large", rows, large_time, large_lines),
    ] {
        println!(
            "  export  {count:>7} rows in {:>6.2} s: {:>9.0} rows/s   ({label}; {lines} lines written)",
            time.as_secs_f64(),
            count as f64 / time.as_secs_f64()
        );
    }
    println!("  export goal >= 50000 rows/s (the large set)");
    match (small_peak, large_peak) {
        (Some(small), Some(large)) => println!(
            "  exporting process peak memory: {:.1} MB for {SMALL_ROWS} rows, {:.1} MB for {rows} rows: {:.2}x   (goal <= 2x)",
            small as f64 / 1024.0,
            large as f64 / 1024.0,
            large as f64 / small.max(1) as f64
        ),
        _ => println!("  exporting process peak memory: not measured (no /proc here)"),
    }
    let _ = emulator.kill().await;
    Ok(())
}

/// Runs `relevance knowledge export SET` to a null sink, counting its lines; answers the
/// time, the child's peak resident memory (kiB) and the line count.
///
/// The peak is the kernel's own figure (`ru_maxrss`, through `/usr/bin/time -f %M`) where
/// that program exists: polling `/proc` misses the end of a run that lasts milliseconds
/// (a 1,000-row export does). Without it, the last `VmHWM` read while the child ran.
async fn export(
    base_url: &str,
    set: &str,
) -> Result<(Duration, Option<u64>, usize), Box<dyn std::error::Error>> {
    let time = std::path::Path::new("/usr/bin/time");
    let mut command = if time.is_file() {
        let mut command = tokio::process::Command::new(time);
        command
            .args(["-f", "%M"])
            .arg(env!("CARGO_BIN_EXE_relevance"));
        command
    } else {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_relevance"))
    };
    let started = Instant::now();
    let mut child = command
        .args([
            "knowledge",
            "export",
            set,
            "--api-key",
            API_KEY,
            "--project",
            PROJECT,
        ])
        .args(["--region", "us", "--base-url", base_url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id().ok_or("no pid")?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let mut stderr = child.stderr.take().ok_or("no stderr")?;
    let counter = tokio::spawn(async move {
        let mut buffer = vec![0u8; 256 * 1024];
        let mut lines = 0usize;
        loop {
            match tokio::io::AsyncReadExt::read(&mut stdout, &mut buffer).await {
                Ok(0) | Err(_) => return lines,
                Ok(read) => lines += buffer[..read].iter().filter(|b| **b == b'\n').count(),
            }
        }
    });
    let said = tokio::spawn(async move {
        let mut text = String::new();
        let _ = tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut text).await;
        text
    });
    let mut polled = None;
    let status = loop {
        // With /usr/bin/time in between this reads `time`'s own memory: only the fallback.
        if let Some(kib) = peak_kib(pid) {
            polled = Some(kib);
        }
        tokio::select! {
            status = child.wait() => break status?,
            _ = tokio::time::sleep(Duration::from_millis(2)) => {}
        }
    };
    let lines = counter.await?;
    let elapsed = started.elapsed();
    let said = said.await?;
    if !status.success() {
        return Err(format!("export of {set} failed: {status}: {said}").into());
    }
    let measured = said
        .lines()
        .last()
        .and_then(|line| line.trim().parse::<u64>().ok());
    let peak = if time.is_file() { measured } else { polled };
    Ok((elapsed, peak, lines))
}

/// A process's peak resident memory so far (`VmHWM`, kiB), from /proc.
fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|line| line.starts_with("VmHWM"))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|value| value.parse().ok())
}
