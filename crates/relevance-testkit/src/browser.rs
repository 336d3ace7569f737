//! Headless Chromium over WebDriver, and the rule every tool-dependent test follows: a
//! missing tool is a visible skip (`skipped: …` on stderr, past the harness's capture) and a
//! pass — except under CI (`CI=true`), where it is a failure naming what is missing and how
//! to install it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// The WebDriver client, re-exported so every suite drives the browser with the same version.
pub use fantoccini;

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How to get the browser tools on Debian.
pub const INSTALL_HINT: &str = "install them with `bash scripts/install-test-tools.sh` (Debian's \
                                chromium and chromium-driver)";

/// Whether this run is CI's (`CI=true`), where tool-dependent tests may not be skipped.
pub fn is_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Says a test was skipped, on stderr past the harness's capture, so a person sees it.
pub fn skipped(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped: {why}");
}

/// The skip-or-fail rule: under CI, panics with `why`; otherwise says `skipped: why`.
/// Call it and return from the test.
pub fn skip_unless_ci(why: &str) {
    if is_ci() {
        panic!("cannot be skipped under CI=true: {why}");
    }
    skipped(why);
}

/// `program` on `PATH`, if it is there.
pub fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// The first line a tool prints for `--version`, or `None` when it does not run.
pub fn version_of(program: &str) -> Option<String> {
    let output = std::process::Command::new(program)
        .arg("--version")
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines().next().map(|line| line.trim().to_string())
}

/// Chromium and chromedriver found on `PATH`.
#[derive(Clone, Debug)]
pub struct BrowserTools {
    /// The chromedriver binary.
    pub chromedriver: PathBuf,
    /// The Chromium binary.
    pub chromium: PathBuf,
}

/// Chromium and chromedriver, or `None` when `test` is to be skipped (said on stderr): a
/// tool is missing outside CI, or `RELEVANCE_SKIP_BROWSER=1`. Under CI a missing tool fails.
pub fn browser_tools(test: &str) -> Option<BrowserTools> {
    if std::env::var("RELEVANCE_SKIP_BROWSER").as_deref() == Ok("1") {
        skipped(&format!("{test}: RELEVANCE_SKIP_BROWSER=1"));
        return None;
    }
    match (on_path("chromedriver"), on_path("chromium")) {
        (Some(chromedriver), Some(chromium)) => Some(BrowserTools {
            chromedriver,
            chromium,
        }),
        (driver, _) => {
            let missing = if driver.is_none() {
                "chromedriver"
            } else {
                "chromium"
            };
            skip_unless_ci(&format!("{test}: {missing} is not on PATH; {INSTALL_HINT}"));
            None
        }
    }
}

/// Starts chromedriver on a port it picks itself and answers (process, port). The process
/// is killed when the [`Child`] is dropped.
pub async fn start_chromedriver(program: &Path) -> (Child, u16) {
    let mut child = Command::new(program)
        .arg("--port=0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|error| panic!("could not start {}: {error}", program.display()));
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let marker = "started successfully on port ";
    // A bound on a process that may hang, not a timing assertion.
    let port = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(at) = line.find(marker) {
                let digits: String = line[at + marker.len()..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                return digits.parse::<u16>().ok();
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .unwrap_or_else(|| panic!("chromedriver did not report its port; {INSTALL_HINT}"));
    // Keep draining its output so a full pipe never blocks it.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, port)
}

/// A headless Chromium session through the chromedriver on `port`, with its profile in
/// `profile` and a window of `size` (width, height) pixels.
pub async fn connect(port: u16, chromium: &Path, profile: &Path, size: (u32, u32)) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_string(),
        json!({
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", format!("--window-size={},{}", size.0, size.1),
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    // Plain HTTP to 127.0.0.1: no TLS stack needed for WebDriver.
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .unwrap_or_else(|error| panic!("chromedriver could not start Chromium: {error}"))
}

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where screenshots go: `$CARGO_TARGET_DIR/artifacts` or the workspace's
/// `target/artifacts` (created).
pub fn artifacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    let dir = target.join("artifacts");
    std::fs::create_dir_all(&dir).expect("create target/artifacts");
    dir
}
