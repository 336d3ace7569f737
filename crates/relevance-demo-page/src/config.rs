//! `config.json`: what the page talks to, served next to it.
//!
//! The emulator writes it per request (its `base_url` is the origin the page
//! was loaded from), so the same build works on any port.

use serde::Deserialize;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Where the settings are read from, relative to the page.
const CONFIG_PATH: &str = "config.json";

/// The page's settings.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PageConfig {
    /// Where the platform (the emulator) is: `http://127.0.0.1:8787`.
    pub(crate) base_url: String,
    /// The project's region code (`bcbe5a`, ...).
    pub(crate) region_code: String,
    /// The project id.
    pub(crate) project: String,
    /// The public agent the page talks to.
    pub(crate) agent_id: String,
}

/// Fetches and parses `config.json`; the error names what went wrong.
pub(crate) async fn load() -> Result<PageConfig, String> {
    let window = web_sys::window().ok_or("the page has no window")?;
    let answer = JsFuture::from(window.fetch_with_str(CONFIG_PATH))
        .await
        .map_err(|error| format!("{CONFIG_PATH} could not be fetched: {error:?}"))?;
    let response: web_sys::Response = answer
        .dyn_into()
        .map_err(|_| format!("fetching {CONFIG_PATH} gave no response"))?;
    if !response.ok() {
        return Err(format!(
            "{CONFIG_PATH} answered {} {}",
            response.status(),
            response.status_text()
        ));
    }
    let text = response
        .text()
        .map_err(|error| format!("{CONFIG_PATH} has no readable body: {error:?}"))?;
    let text = JsFuture::from(text)
        .await
        .map_err(|error| format!("{CONFIG_PATH} could not be read: {error:?}"))?
        .as_string()
        .ok_or_else(|| format!("{CONFIG_PATH} is not text"))?;
    parse(&text)
}

fn parse(text: &str) -> Result<PageConfig, String> {
    let config: PageConfig = serde_json::from_str(text)
        .map_err(|error| format!("{CONFIG_PATH} is not valid: {error}"))?;
    for (field, value) in [
        ("base_url", &config.base_url),
        ("region_code", &config.region_code),
        ("project", &config.project),
        ("agent_id", &config.agent_id),
    ] {
        if value.trim().is_empty() {
            return Err(format!("{CONFIG_PATH} has an empty {field}"));
        }
    }
    Ok(config)
}
