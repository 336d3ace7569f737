//! `config.json`: what the page talks to, served next to it; and the page's
//! own query parameters (`?store=cookie`).
//!
//! The emulator writes `config.json` per request (its `base_url` is the
//! origin the page was loaded from), so the same build works on any port.

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

/// Where the page keeps its embed key, chosen by the query parameter
/// `store`: `?store=local` (the default) or `?store=cookie`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyStorage {
    /// `window.localStorage`, as the official documentation's example does.
    LocalStorage,
    /// A `Secure; SameSite=Strict` cookie (`relevance::CookieKeyStore`).
    Cookie,
}

impl KeyStorage {
    /// The store for this choice.
    pub(crate) fn store(self) -> Box<dyn relevance::KeyStore> {
        match self {
            KeyStorage::LocalStorage => Box::new(relevance::LocalStorageKeyStore::new()),
            KeyStorage::Cookie => Box::new(relevance::CookieKeyStore::new()),
        }
    }
}

/// The key storage the page's URL asks for; an unknown `store` value is an
/// error naming the valid ones, rather than a silent default.
pub(crate) fn key_storage() -> Result<KeyStorage, String> {
    let search = web_sys::window()
        .and_then(|window| window.location().search().ok())
        .unwrap_or_default();
    key_storage_from(&search)
}

fn key_storage_from(search: &str) -> Result<KeyStorage, String> {
    let query = search.strip_prefix('?').unwrap_or(search);
    let mut choice = KeyStorage::LocalStorage;
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if name != "store" {
            continue;
        }
        choice = match value {
            "local" | "localStorage" => KeyStorage::LocalStorage,
            "cookie" => KeyStorage::Cookie,
            other => {
                let shown: String = other.chars().take(40).collect();
                return Err(format!(
                    "?store={shown} is not a key storage (use store=local or store=cookie)"
                ));
            }
        };
    }
    Ok(choice)
}
