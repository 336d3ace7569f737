//! The dashboard in a real headless Chromium, driven over WebDriver (chromedriver).
//!
//! Needs Debian's `chromium` and `chromium-driver` packages
//! (`scripts/install-test-tools.sh` installs them). Without them each test says
//! `skipped: …` on the terminal and passes — except under CI (`CI=true`), where
//! it fails naming what to install. `RELEVANCE_SKIP_BROWSER=1` skips it anyway.
//! Screenshots of the keys page and a task page go to `target/artifacts/`.

#[path = "browser/support.rs"]
mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use relevance_testkit::browser::{
    artifacts_dir, browser_tools, connect, start_chromedriver, BrowserTools,
};
use reqwest::StatusCode;

use support::{start, PROJECT};

/// The window every dashboard screenshot is taken in.
const WINDOW: (u32, u32) = (1280, 1000);

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
    let Some(BrowserTools {
        chromedriver,
        chromium,
    }) = browser_tools("dashboard_flow_in_headless_chromium")
    else {
        return;
    };
    let started = Instant::now();
    let profile = tempfile::TempDir::new().expect("profile dir");
    let (_driver, port) = start_chromedriver(&chromedriver).await;
    let browser = connect(port, &chromium, profile.path(), WINDOW).await;
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
        StatusCode::BAD_REQUEST,
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
    let Some(BrowserTools {
        chromedriver,
        chromium,
    }) = browser_tools("an_uploaded_html_file_cannot_script_the_dashboard")
    else {
        return;
    };
    let profile = tempfile::TempDir::new().expect("profile dir");
    let (_driver, port) = start_chromedriver(&chromedriver).await;
    let browser = connect(port, &chromium, profile.path(), WINDOW).await;
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
