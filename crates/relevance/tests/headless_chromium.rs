//! The SDK in a real headless Chromium: starts an emulator from `browser_seed.toml`, then
//! runs `crates/relevance/tests/browser.rs` for `wasm32-unknown-unknown` under
//! `wasm-bindgen-test-runner` and chromedriver, and holds the emulator's request log to what
//! that suite asks for. The page reaches the emulator through a recording proxy, so the
//! requests the browser really sent (preflights included) can be checked too.
//!
//! Needs `chromium`, `chromedriver`, the wasm32 target and `wasm-bindgen-test-runner` of the
//! locked wasm-bindgen version. Without them the test is skipped with a note on how to
//! install them, except under CI (`CI=true`), where it fails instead.
#![cfg(not(target_family = "wasm"))]

use std::path::{Path, PathBuf};
use std::process::Command;

use relevance_emulator::{Config, Emulator, Storage};
use relevance_testkit::admin::is_call;
use relevance_testkit::browser::{skip_unless_ci, version_of, workspace_root};
use relevance_testkit::emulator::seeded;
use relevance_testkit::{Admin, Recorder};

/// A test-only value: it guards an emulator that lives as long as this test.
const ADMIN_TOKEN: &str = "browser-test-admin-token-0001";
/// `#[wasm_bindgen_test]` functions in `crates/relevance/tests/browser.rs`.
const BROWSER_TESTS: usize = 13;
/// Embed keys that suite generates (its `EMBED_KEYS_GENERATED`): a restore that sent a
/// request, or a generation too many, shows here.
const EMBED_KEYS_GENERATED: usize = 7;

/// The wasm-bindgen version in Cargo.lock: the test runner must be the same.
fn locked_wasm_bindgen_version() -> Option<String> {
    let lock = std::fs::read_to_string(workspace_root().join("Cargo.lock")).ok()?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\"" {
            let version = lines.next()?.trim();
            return version
                .strip_prefix("version = \"")
                .and_then(|rest| rest.strip_suffix('"'))
                .map(str::to_string);
        }
    }
    None
}

fn chromedriver() -> String {
    std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".to_string())
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

/// What is missing to run the browser tests, each with how to install it.
fn missing_tools(locked: &str) -> Vec<String> {
    let mut missing = Vec::new();
    if version_of("chromium").is_none() {
        missing.push("chromium (apt-get install -y chromium)".to_string());
    }
    if version_of(&chromedriver()).is_none() {
        missing.push(format!(
            "chromedriver at {} (apt-get install -y chromium-driver)",
            chromedriver()
        ));
    }
    match version_of("wasm-bindgen-test-runner") {
        Some(version) if version.split_whitespace().last() == Some(locked) => {}
        found => missing.push(format!(
            "wasm-bindgen-test-runner {locked} (found: {}; cargo install wasm-bindgen-cli --version {locked} --locked)",
            found.as_deref().unwrap_or("none")
        )),
    }
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string());
    let has_wasm_target = sysroot.is_some_and(|root| {
        Path::new(&root)
            .join("lib/rustlib/wasm32-unknown-unknown")
            .is_dir()
    });
    if !has_wasm_target {
        missing.push(
            "the wasm32-unknown-unknown target (rustup target add wasm32-unknown-unknown)"
                .to_string(),
        );
    }
    missing
}

/// `N` of the `test result: ok. N passed; ...` line.
fn passed_count(output: &str) -> Option<usize> {
    output
        .lines()
        .rev()
        .filter_map(|line| line.trim().strip_prefix("test result: ok. "))
        .find_map(|rest| rest.split(' ').next()?.parse().ok())
}

/// The emulator the browser suite talks to (its seed is `browser_seed.toml`, passed as text).
async fn start_emulator() -> Emulator {
    let config = Config {
        storage: Storage::InMemory,
        admin_token: Some(ADMIN_TOKEN.to_string()),
        ..seeded(include_str!("browser_seed.toml"))
    };
    relevance_testkit::start(config).await
}

async fn embed_key_requests(base_url: &str) -> usize {
    Admin::new(base_url, ADMIN_TOKEN)
        .requests()
        .await
        .iter()
        .filter(|request| is_call(request, "POST", "/latest/agents/get_embed_key"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_passes_its_tests_in_headless_chromium() {
    let Some(locked) = locked_wasm_bindgen_version() else {
        panic!("Cargo.lock has no wasm-bindgen package: the SDK's wasm build is broken");
    };
    let missing = missing_tools(&locked);
    if !missing.is_empty() {
        let install = format!(
            "apt-get update && apt-get install -y chromium chromium-driver && cargo install wasm-bindgen-cli --version {locked} --locked && rustup target add wasm32-unknown-unknown"
        );
        let missing = missing.join(", ");
        skip_unless_ci(&format!("browser tests: missing {missing}; install with `bash scripts/install-test-tools.sh` or: {install}"));
        return;
    }

    let emulator = start_emulator().await;
    let base_url = emulator.base_url();
    let recorder = Recorder::start(&base_url).await;
    let root = workspace_root();
    let target_dir = std::env::var_os("RELEVANCE_BROWSER_TEST_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/browser-tests"));

    let mut nested = Command::new(cargo());
    nested
        .current_dir(&root)
        .args([
            "test",
            "-p",
            "relevance",
            "--target",
            "wasm32-unknown-unknown",
            "--test",
            "browser",
        ])
        .env("CARGO_TARGET_DIR", &target_dir)
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            "wasm-bindgen-test-runner",
        )
        .env("CHROMEDRIVER", chromedriver())
        .env("WASM_BINDGEN_TEST_TIMEOUT", "180")
        .env("RELEVANCE_BROWSER_TEST_BASE_URL", &recorder.base_url)
        .env("RELEVANCE_BROWSER_TEST_ADMIN_TOKEN", ADMIN_TOKEN)
        // The page talks to this emulator only through the compile-time URL.
        .env_remove("RELEVANCE_BASE_URL")
        .env_remove("GECKODRIVER")
        .env_remove("SAFARIDRIVER");
    // The emulator keeps serving on this runtime's workers while cargo and Chromium run.
    let output = tokio::task::spawn_blocking(move || nested.output())
        .await
        .expect("the nested run's thread")
        .expect("cargo starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let passed = passed_count(&stdout);
    println!("{stdout}");
    if !output.status.success() || passed != Some(BROWSER_TESTS) {
        panic!(
            "the browser tests failed ({}; {passed:?} passed, {BROWSER_TESTS} expected)\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
            output.status
        );
    }
    println!("browser tests: {BROWSER_TESTS} passed in headless Chromium");

    assert_eq!(
        embed_key_requests(&base_url).await,
        EMBED_KEYS_GENERATED,
        "embed keys generated by the browser suite (a restore must send no request)"
    );
    // The unauthenticated embed-key request is a CORS simple request (PROTOCOL A9): a JSON
    // body with no explicit content type, so the browser sends no preflight for it. Requests
    // with an Authorization header do need one: seeing those proves preflights are recorded.
    let preflights = recorder.matching("OPTIONS", "");
    let embed_key_preflights = preflights
        .iter()
        .filter(|r| r.path.contains("get_embed_key"))
        .count();
    assert_eq!(
        embed_key_preflights, 0,
        "no preflight for get_embed_key: {preflights:?}"
    );
    assert!(
        !preflights.is_empty(),
        "authorised requests are preflighted, and the proxy saw them"
    );
    assert_eq!(
        recorder
            .matching("POST", "/latest/agents/get_embed_key")
            .len(),
        EMBED_KEYS_GENERATED
    );
    emulator.shutdown().await.expect("clean shutdown");
}

#[test]
fn the_summary_line_is_read() {
    let cases = [
        ("test result: ok. 7 passed; 0 failed; 0 ignored", Some(7)),
        (
            "running 7 tests\n\ntest result: ok. 12 passed; 0 failed",
            Some(12),
        ),
        ("test result: FAILED. 6 passed; 1 failed", None),
        ("", None),
    ];
    for (output, expected) in cases {
        assert_eq!(passed_count(output), expected, "{output}");
    }
}
