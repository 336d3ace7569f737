//! The dashboard in a real headless Chromium, driven over WebDriver (chromedriver).
//!
//! Needs Debian's `chromium` and `chromium-driver` packages
//! (`scripts/install-test-tools.sh` installs them). Without them each test says
//! `skipped: …` on the terminal and passes — except under CI (`CI=true`), where
//! it fails naming what to install. `RELEVANCE_SKIP_BROWSER=1` skips it anyway.
//! Screenshots of the keys page and a task page go to `target/artifacts/`.

#[path = "browser/support.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use support::{start, PROJECT};

const INSTALL_HINT: &str = "install them with `bash scripts/install-test-tools.sh` (Debian's \
                            chromium and chromium-driver)";

/// Chromium and chromedriver, or `None` when this test is to be skipped: the tools are
/// missing outside CI, or `RELEVANCE_SKIP_BROWSER=1`. Under CI a missing tool fails.
fn browser_tools(test: &str) -> Option<(PathBuf, PathBuf)> {
    if std::env::var("RELEVANCE_SKIP_BROWSER").as_deref() == Ok("1") {
        skip(test, "RELEVANCE_SKIP_BROWSER=1");
        return None;
    }
    match (on_path("chromedriver"), on_path("chromium")) {
        (Some(driver), Some(chromium)) => Some((driver, chromium)),
        (driver, _) => {
            let missing = if driver.is_none() {
                "chromedriver"
            } else {
                "chromium"
            };
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{test}: {missing} is not on PATH under CI; {INSTALL_HINT}");
            }
            skip(test, &format!("{missing} is not on PATH; {INSTALL_HINT}"));
            None
        }
    }
}

/// Says so past the test harness's capture (which takes `println!`), so a person sees it.
fn skip(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped: {test}: {why}");
}

fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// Where screenshots go: `$CARGO_TARGET_DIR/artifacts` or the workspace's `target/artifacts`.
fn artifacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("artifacts");
    std::fs::create_dir_all(&dir).expect("create target/artifacts");
    dir
}

/// Starts chromedriver on a port it picks itself and answers (process, port).
async fn start_chromedriver(program: &Path) -> (Child, u16) {
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
    let port = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("read chromedriver output") {
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

async fn connect(port: u16, chromium: &Path, profile: &Path) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_string(),
        json!({
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1280,1000",
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

/// Waits for an element to exist: a click that submits a form returns before the next page
/// has loaded, so every step after a navigation waits for something only that page has.
async fn wait_for(browser: &Client, css: &str) -> fantoccini::elements::Element {
    browser
        .wait()
        .at_most(std::time::Duration::from_secs(30))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("no element {css}: {error}"))
}

async fn text_of(browser: &Client, css: &str) -> String {
    wait_for(browser, css)
        .await
        .text()
        .await
        .expect("element text")
}

async fn screenshot(browser: &Client, name: &str) -> PathBuf {
    let png = browser.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let path = artifacts_dir().join(name);
    std::fs::write(&path, png).expect("write screenshot");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_flow_in_headless_chromium() {
    let Some((chromedriver, chromium)) = browser_tools("dashboard_flow_in_headless_chromium")
    else {
        return;
    };
    let started = Instant::now();
    let profile = tempfile::TempDir::new().expect("profile dir");
    let (_driver, port) = start_chromedriver(&chromedriver).await;
    let browser = connect(port, &chromium, profile.path()).await;
    let running = start().await;
    let result = flow(&browser, &running).await;
    let _ = browser.close().await;
    result.unwrap_or_else(|error| panic!("{error}"));
    println!("browser test took {:.1} s", started.elapsed().as_secs_f64());
}

async fn flow(browser: &Client, running: &support::Running) -> Result<(), String> {
    // Signing in through the form.
    browser
        .goto(&running.url("/dashboard"))
        .await
        .map_err(|e| e.to_string())?;
    let url = browser.current_url().await.map_err(|e| e.to_string())?;
    assert_eq!(url.path(), "/dashboard/sign-in", "redirected to sign-in");
    browser
        .find(Locator::Id("token"))
        .await
        .map_err(|e| e.to_string())?
        .send_keys(running.emulator.admin_token())
        .await
        .map_err(|e| e.to_string())?;
    browser
        .find(Locator::Id("sign-in"))
        .await
        .map_err(|e| e.to_string())?
        .click()
        .await
        .map_err(|e| e.to_string())?;
    let projects = text_of(browser, "#projects").await;
    let url = browser.current_url().await.map_err(|e| e.to_string())?;
    assert_eq!(url.path(), "/dashboard");
    assert!(projects.contains(PROJECT));

    // Creating an API key: shown once, gone after a reload of the keys page.
    let keys_url = running.url(&format!("/dashboard/projects/{PROJECT}/keys"));
    browser.goto(&keys_url).await.map_err(|e| e.to_string())?;
    browser
        .find(Locator::Id("label"))
        .await
        .map_err(|e| e.to_string())?
        .send_keys("from chromium")
        .await
        .map_err(|e| e.to_string())?;
    browser
        .find(Locator::Id("create-key"))
        .await
        .map_err(|e| e.to_string())?
        .click()
        .await
        .map_err(|e| e.to_string())?;
    let value = text_of(browser, "#new-key-value").await;
    assert!(value.starts_with("sk-"), "{value}");
    assert_eq!(
        running.read_agent_with(&value, "helper").await,
        StatusCode::OK
    );
    browser.goto(&keys_url).await.map_err(|e| e.to_string())?;
    browser.refresh().await.map_err(|e| e.to_string())?;
    let source = browser.source().await.map_err(|e| e.to_string())?;
    assert!(
        !source.contains(&value),
        "the key's value is gone after reload"
    );
    assert!(text_of(browser, "#api-keys")
        .await
        .contains("from chromium"));

    // Revoking an embed key by clicking through the confirmation.
    let (embed_key, prefix) = running.embed_key("helper", false).await;
    assert_eq!(
        running.read_agent_with(&embed_key, "helper").await,
        StatusCode::OK
    );
    browser.refresh().await.map_err(|e| e.to_string())?;
    assert!(text_of(browser, "#embed-keys").await.contains(&prefix));
    screenshot(browser, "dashboard-keys.png").await;
    wait_for(browser, "#embed-keys a.revoke")
        .await
        .click()
        .await
        .map_err(|e| e.to_string())?;
    wait_for(browser, "#confirm-revoke")
        .await
        .click()
        .await
        .map_err(|e| e.to_string())?;
    assert!(text_of(browser, "#revoked-notice")
        .await
        .contains("revoked"));
    assert!(text_of(browser, "#embed-keys").await.contains("revoked"));
    assert_eq!(
        running.read_agent_with(&embed_key, "helper").await,
        StatusCode::UNAUTHORIZED,
        "the very next request with the revoked key"
    );

    // A task page, with markup in the message shown as text.
    let task = running.trigger("helper", "Hello <b>there</b>").await;
    running.wait_for_reply("helper", &task).await;
    browser
        .goto(&running.url(&format!("/dashboard/projects/{PROJECT}/tasks/{task}")))
        .await
        .map_err(|e| e.to_string())?;
    let messages = text_of(browser, "#messages").await;
    assert!(messages.contains("Hello <b>there</b>"), "{messages}");
    assert!(
        messages.contains("You said: Hello <b>there</b>"),
        "{messages}"
    );
    screenshot(browser, "dashboard-task.png").await;
    Ok(())
}

/// What the uploaded page tries once it runs: leave markers the dashboard's origin can read
/// (storage and a cookie), and read a signed-in dashboard page with the operator's session.
const HOSTILE_HTML: &str = r#"<!doctype html><html><body><h1>Invoice</h1><script>
try { localStorage.setItem("pwned", "storage"); } catch (e) {}
try { document.cookie = "pwned=cookie; path=/"; } catch (e) {}
fetch("/dashboard", { credentials: "include" })
  .then(function (r) { return r.text(); })
  .then(function (t) {
    if (t.indexOf("proj-d") >= 0) {
      try { localStorage.setItem("pwned-read", "dashboard"); } catch (e) {}
      document.cookie = "pwned-read=dashboard; path=/";
    }
  });
</script></body></html>"#;

/// The stored-XSS attack of the issue: a public agent's embed key asks for an upload URL
/// for `invoice.html`, uploads a script, attaches the file to a message; the operator,
/// signed in, opens the attachment from the task page. The script must not run with access
/// to the dashboard's origin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_html_file_cannot_script_the_dashboard() {
    let Some((chromedriver, chromium)) =
        browser_tools("an_uploaded_html_file_cannot_script_the_dashboard")
    else {
        return;
    };
    let profile = tempfile::TempDir::new().expect("profile dir");
    let (_driver, port) = start_chromedriver(&chromedriver).await;
    let browser = connect(port, &chromium, profile.path()).await;
    let running = start().await;
    let result = hostile_upload(&browser, &running).await;
    let _ = browser.close().await;
    result.unwrap_or_else(|error| panic!("{error}"));
}

async fn hostile_upload(browser: &Client, running: &support::Running) -> Result<(), String> {
    let http = reqwest::Client::new();
    // The attacker: an embed key of a public agent, an upload URL, the script.
    let (embed_key, _) = running.embed_key("helper", false).await;
    let answer: serde_json::Value = http
        .post(running.url(&format!(
            "/{}/latest/services/get_temporary_file_upload_url",
            support::US
        )))
        .header("Authorization", format!("{PROJECT}:{embed_key}"))
        .body(r#"{"filename":"invoice.html"}"#)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let upload_url = answer["upload_url"]
        .as_str()
        .ok_or("upload_url")?
        .to_string();
    let download_url = answer["download_url"]
        .as_str()
        .ok_or("download_url")?
        .to_string();
    let put = http
        .put(&upload_url)
        .body(HOSTILE_HTML)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(put.status(), StatusCode::OK);
    let served = http
        .get(&download_url)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let headers = served.headers().clone();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        header("content-disposition").starts_with("attachment"),
        "{headers:?}"
    );
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert!(
        header("content-security-policy").starts_with("sandbox"),
        "{headers:?}"
    );

    // The operator signs in and opens the task page that shows the attachment.
    browser
        .goto(&running.emulator.dashboard_sign_in_url())
        .await
        .map_err(|e| e.to_string())?;
    wait_for(browser, "#projects").await;
    let task = running.trigger("helper", "see attached").await;
    let attach = serde_json::json!({
        "agent_id": "helper",
        "conversation_id": task,
        "message": {"role": "user", "content": "the invoice",
                    "attachments": [{"file_name": "invoice.html", "file_url": download_url}]},
    });
    let continued = http
        .post(running.url(&format!("/{}/latest/agents/trigger", support::US)))
        .header("Authorization", format!("{PROJECT}:{}", support::API_KEY))
        .body(attach.to_string())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(continued.status(), StatusCode::OK);
    running.wait_for_reply("helper", &task).await;
    browser
        .goto(&running.url(&format!("/dashboard/projects/{PROJECT}/tasks/{task}")))
        .await
        .map_err(|e| e.to_string())?;
    let link = wait_for(browser, "#messages a[href$='invoice.html']").await;
    let rel = link
        .attr("rel")
        .await
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    assert!(
        rel.contains("noopener") && rel.contains("noreferrer"),
        "{rel}"
    );
    link.click().await.map_err(|e| e.to_string())?;
    // And, the worst case, straight to the file's URL in the signed-in tab.
    let _ = tokio::time::timeout(Duration::from_secs(20), browser.goto(&download_url)).await;
    // Give a script that did run the time to finish its fetch: a bounded number of looks.
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Back on the dashboard's origin: no marker may be readable there.
    browser
        .goto(&running.url("/dashboard"))
        .await
        .map_err(|e| e.to_string())?;
    wait_for(browser, "#projects").await;
    let markers = browser
        .execute(
            "return [localStorage.getItem('pwned'), localStorage.getItem('pwned-read'), \
             document.cookie];",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    let text = markers.to_string();
    assert!(
        !text.contains("storage") && !text.contains("dashboard"),
        "the upload's script ran in the dashboard's origin: {text}"
    );
    assert!(
        !text.contains("pwned"),
        "the upload's script set a cookie: {text}"
    );
    Ok(())
}
