//! The one place requests are sent.
//!
//! Builds the URL through [`Endpoints`], adds the `Authorization` header
//! (marked sensitive so HTTP-level logging never prints it), sends, maps a
//! non-2xx answer through [`Error::from_response`] and decodes the JSON
//! answer. Resource modules describe *what* to ask; they never touch reqwest
//! directly.

use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION};
use reqwest::Method;
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, KeyDataError, Result};
use crate::key::Key;
use crate::region::Endpoints;

/// How long a request may take before it fails, off the browser.
#[cfg(not(target_family = "wasm"))]
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// What the SDK calls itself, off the browser (browsers forbid setting it).
#[cfg(not(target_family = "wasm"))]
pub(crate) const DEFAULT_USER_AGENT: &str = concat!("relevance-rs/", env!("CARGO_PKG_VERSION"));

/// A reqwest client with the SDK's defaults. On wasm the browser owns the
/// user agent and timeouts, so both settings are ignored there.
pub(crate) fn default_http_client(
    timeout: Option<Duration>,
    user_agent: Option<String>,
) -> Result<reqwest::Client> {
    #[cfg(not(target_family = "wasm"))]
    {
        reqwest::Client::builder()
            .timeout(timeout.unwrap_or(DEFAULT_TIMEOUT))
            .user_agent(user_agent.unwrap_or_else(|| DEFAULT_USER_AGENT.to_string()))
            .build()
            .map_err(Error::network)
    }
    #[cfg(target_family = "wasm")]
    {
        let _ = (timeout, user_agent);
        reqwest::Client::builder().build().map_err(Error::network)
    }
}

/// The `Authorization` header for a key, marked sensitive.
fn authorization(key: &Key) -> Result<HeaderValue> {
    let value = key.authorization_header();
    let mut header = HeaderValue::from_str(value.expose_secret())
        .map_err(|_| Error::InvalidKey(KeyDataError::NotHeaderSafe))?;
    header.set_sensitive(true);
    Ok(header)
}

/// Sends one request and decodes its JSON answer.
///
/// `key` is `None` only for the unauthenticated calls (embed-key
/// generation). `what` names the answer in a decode error, e.g.
/// "agents/list answer".
pub(crate) async fn send<T: DeserializeOwned>(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    key: Option<&Key>,
    method: Method,
    path: &str,
    body: Option<&Value>,
    what: &str,
) -> Result<T> {
    let url = endpoints.api_url(path)?;
    let mut request = http.request(method, url);
    if let Some(key) = key {
        request = request.header(AUTHORIZATION, authorization(key)?);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.map_err(Error::network)?;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.map_err(Error::network)?;
    if !status.is_success() {
        return Err(Error::from_response(status.as_u16(), &headers, &bytes));
    }
    serde_json::from_slice(&bytes).map_err(|source| Error::Decode {
        what: what.to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::region::Region;

    #[test]
    fn authorization_header_is_sensitive() {
        let key = Key::new("sk-abc", Region::US, "p1").unwrap();
        let header = authorization(&key).unwrap();
        assert!(header.is_sensitive());
        assert_eq!(header.to_str().unwrap(), "p1:sk-abc");
        assert!(!format!("{header:?}").contains("sk-abc"));
    }

    #[test]
    fn a_key_that_cannot_be_a_header_is_refused_without_showing_it() {
        let key = Key::new("sk-line\nbreak", Region::US, "p1").unwrap();
        let error = authorization(&key).unwrap_err();
        assert!(matches!(
            error,
            Error::InvalidKey(KeyDataError::NotHeaderSafe)
        ));
        assert!(!error.to_string().contains("sk-line"));
    }
}
