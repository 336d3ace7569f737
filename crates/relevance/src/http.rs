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
use url::Url;

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
/// generation). `query` pairs are appended percent-encoded (form style), so
/// callers never build query strings by hand. `what` names the answer in a
/// decode error, e.g. "agents/list answer".
#[allow(clippy::too_many_arguments)]
pub(crate) async fn send<T: DeserializeOwned>(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    key: Option<&Key>,
    method: Method,
    path: &str,
    query: &[(&str, String)],
    body: Option<&Value>,
    what: &str,
) -> Result<T> {
    let request = api_request(http, endpoints, key, method, path, query, body)?;
    let bytes = answer_bytes(request).await?;
    serde_json::from_slice(&bytes).map_err(|source| Error::Decode {
        what: what.to_string(),
        source,
    })
}

/// The request [`send`] sends, built but not sent.
fn api_request(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    key: Option<&Key>,
    method: Method,
    path: &str,
    query: &[(&str, String)],
    body: Option<&Value>,
) -> Result<reqwest::RequestBuilder> {
    let url = url_with_query(endpoints, path, query)?;
    let mut request = http.request(method, url);
    if let Some(key) = key {
        request = request.header(AUTHORIZATION, authorization(key)?);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    Ok(request)
}

/// Uploads raw bytes with `PUT` to a pre-signed URL.
///
/// Deliberately sends no `Authorization`: the URL carries its own signature
/// and the project key must never travel to a storage host (PROTOCOL A9).
/// The answer body is ignored; a non-2xx answer is the status-mapped error.
pub(crate) async fn put_without_auth(
    http: &reqwest::Client,
    url: Url,
    bytes: Vec<u8>,
) -> Result<()> {
    answer_bytes(upload_request(http, url, bytes))
        .await
        .map(drop)
}

/// The upload `PUT`, built but not sent: the raw bytes and no key.
fn upload_request(http: &reqwest::Client, url: Url, bytes: Vec<u8>) -> reqwest::RequestBuilder {
    http.put(url).body(bytes)
}

/// The API URL of `path` with `query` appended.
pub(crate) fn url_with_query(
    endpoints: &Endpoints,
    path: &str,
    query: &[(&str, String)],
) -> Result<Url> {
    let mut url = endpoints.api_url(path)?;
    if !query.is_empty() {
        let mut pairs = url.query_pairs_mut();
        for (name, value) in query {
            pairs.append_pair(name, value);
        }
    }
    Ok(url)
}

/// Sends a prepared request and returns its body, or the error its status
/// maps to. Every request of the SDK ends here, so status mapping and
/// secret-safe transport errors live in one place.
async fn answer_bytes(request: reqwest::RequestBuilder) -> Result<Vec<u8>> {
    let response = request.send().await.map_err(Error::network)?;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.map_err(Error::network)?;
    if !status.is_success() {
        return Err(Error::from_response(status.as_u16(), &headers, &bytes));
    }
    Ok(bytes.to_vec())
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

    #[test]
    fn api_requests_carry_the_key_the_query_and_the_body() {
        let endpoints = Endpoints::with_base_url("http://127.0.0.1:8787", Region::EU).unwrap();
        let key = Key::new("sk-abc", Region::EU, "p1").unwrap();
        let http = reqwest::Client::new();
        let body = serde_json::json!({"page_size": 1000});
        let request = api_request(
            &http,
            &endpoints,
            Some(&key),
            Method::GET,
            "/agents/conversations/list",
            &[
                ("sort", "[{\"insert_date\":\"asc\"}]".into()),
                ("query", "a b&c".into()),
            ],
            Some(&body),
        )
        .unwrap()
        .build()
        .unwrap();
        assert_eq!(request.method(), Method::GET);
        assert_eq!(
            request.url().as_str(),
            "http://127.0.0.1:8787/d7b62b/latest/agents/conversations/list?sort=%5B%7B%22insert_date%22%3A%22asc%22%7D%5D&query=a+b%26c"
        );
        let authorization = request.headers().get(AUTHORIZATION).unwrap();
        assert_eq!(authorization.to_str().unwrap(), "p1:sk-abc");
        assert!(authorization.is_sensitive());
        let sent: Value =
            serde_json::from_slice(request.body().unwrap().as_bytes().unwrap()).unwrap();
        assert_eq!(sent, body);

        let bare = api_request(&http, &endpoints, None, Method::POST, "x", &[], None)
            .unwrap()
            .build()
            .unwrap();
        assert!(bare.headers().get(AUTHORIZATION).is_none());
        assert_eq!(bare.url().query(), None);
        assert!(bare.body().is_none());
    }

    #[test]
    fn the_upload_put_carries_the_bytes_and_no_key() {
        let url = Url::parse("https://bucket.example/f?X-Sig=s").unwrap();
        let request = upload_request(&reqwest::Client::new(), url.clone(), b"raw".to_vec())
            .build()
            .unwrap();
        assert_eq!(request.method(), Method::PUT);
        assert_eq!(request.url(), &url);
        assert!(request.headers().get(AUTHORIZATION).is_none());
        assert_eq!(request.body().unwrap().as_bytes(), Some(b"raw".as_slice()));
    }
}
