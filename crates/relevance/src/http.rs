//! The one place requests are sent.
//!
//! Builds the URL through [`Endpoints`], adds the `Authorization` header
//! (marked sensitive so HTTP-level logging never prints it), sends, maps a
//! non-2xx answer through [`Error::from_response`], retries what the retry
//! rules (`retry`) allow and decodes the JSON answer. Resource modules describe *what* to ask; they never touch reqwest
//! directly.

use std::future::Future;
use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION};
use reqwest::Method;
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::error::{retry_after, Error, KeyDataError, Result};
use crate::key::Key;
use crate::region::Endpoints;
use crate::retry::{
    decide, Backoff, Decision, Failure, RequestKind, RetryPolicy, LONGEST_SERVER_WAIT,
};
use crate::runtime::sleep;

/// How long a request may take before it fails, off the browser.
#[cfg(not(target_family = "wasm"))]
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// What the SDK calls itself, off the browser (browsers forbid setting it).
#[cfg(not(target_family = "wasm"))]
pub(crate) const DEFAULT_USER_AGENT: &str = concat!("relevance-rs/", env!("CARGO_PKG_VERSION"));

/// How many requests (live streams aside) one process has open at once, off the browser.
#[cfg(not(target_family = "wasm"))]
pub(crate) const MAX_IN_FLIGHT: usize = 128;

#[cfg(not(target_family = "wasm"))]
static IN_FLIGHT: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(MAX_IN_FLIGHT);

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
            // No more idle sockets kept than requests can be in flight.
            .pool_max_idle_per_host(MAX_IN_FLIGHT)
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

/// Sends one request, retrying it as `retry` allows, and decodes its JSON
/// answer.
///
/// `key` is `None` only for the unauthenticated calls (embed-key
/// generation). `query` pairs are appended percent-encoded (form style), so
/// callers never build query strings by hand. `what` names the answer in a
/// decode error, e.g. "agents/list answer". A 2xx answer that does not
/// decode is never retried: the server did answer.
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
    retry: Retry<'_>,
) -> Result<T> {
    let attempt = || {
        let request = api_request(http, endpoints, key, method.clone(), path, query, body);
        async move {
            let bytes = answer_bytes(request.map_err(FailedAttempt::from)?).await?;
            decode(&bytes, what).map_err(FailedAttempt::from)
        }
    };
    with_retries(retry.policy, retry.kind, attempt, no_check()).await
}

/// [`send`] for a request that creates a task under an id the client made
/// (an embed key's new task). After an ambiguous failure (a timeout, a 5xx,
/// a reset connection) `exists` is asked whether the task is there: if it
/// is, the request was processed and its answer is what `exists` found;
/// otherwise the request is sent again.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn send_creating<T, C, CF>(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    key: Option<&Key>,
    method: Method,
    path: &str,
    body: Option<&Value>,
    what: &str,
    policy: &RetryPolicy,
    exists: C,
) -> Result<T>
where
    T: DeserializeOwned,
    C: FnMut() -> CF,
    CF: Future<Output = Result<Option<T>>>,
{
    let attempt = || {
        let request = api_request(http, endpoints, key, method.clone(), path, &[], body);
        async move {
            let bytes = answer_bytes(request.map_err(FailedAttempt::from)?).await?;
            decode(&bytes, what).map_err(FailedAttempt::from)
        }
    };
    with_retries(
        policy,
        RequestKind::CreateWithClientId,
        attempt,
        Some(exists),
    )
    .await
}

/// How a request may be retried: the client's policy and what the request does.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Retry<'a> {
    pub(crate) policy: &'a RetryPolicy,
    pub(crate) kind: RequestKind,
}

/// Decodes a 2xx answer.
fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|source| Error::Decode {
        what: what.to_string(),
        source,
    })
}

/// One failed attempt: the error, and the answer's `Retry-After` (kept
/// apart because only 429 carries it in the error itself, while 503 may
/// send it too).
#[derive(Debug)]
pub(crate) struct FailedAttempt {
    error: Error,
    retry_after: Option<Duration>,
}

impl From<Error> for FailedAttempt {
    fn from(error: Error) -> Self {
        FailedAttempt {
            error,
            retry_after: None,
        }
    }
}

/// The type of "no existence check" for [`with_retries`].
type NoCheck<T> = fn() -> std::future::Ready<Result<Option<T>>>;

/// No existence check: for every request but a trigger with a client-made id.
fn no_check<T>() -> Option<NoCheck<T>> {
    None
}

/// Runs `attempt` until it succeeds or [`decide`] says stop, waiting with
/// full-jitter backoff (the server's `Retry-After` winning) in between.
/// `check` answers "was it processed after all?" for
/// [`RequestKind::CreateWithClientId`]; when it cannot tell (it fails),
/// the original error is returned rather than risking a second trigger.
pub(crate) async fn with_retries<T, A, AF, C, CF>(
    policy: &RetryPolicy,
    kind: RequestKind,
    mut attempt: A,
    mut check: Option<C>,
) -> Result<T>
where
    A: FnMut() -> AF,
    AF: Future<Output = Result<T, FailedAttempt>>,
    C: FnMut() -> CF,
    CF: Future<Output = Result<Option<T>>>,
{
    let mut backoff = Backoff::new(policy.base, policy.cap);
    let mut attempts = 0u32;
    loop {
        attempts = attempts.saturating_add(1);
        let failed = match attempt().await {
            Ok(value) => return Ok(value),
            Err(failed) => failed,
        };
        let failure = Failure::of(&failed.error, failed.retry_after);
        let mut decision = decide(kind, failure);
        if decision == Decision::CheckThenRetry {
            decision = match check.as_mut() {
                Some(check) => match check().await {
                    Ok(Some(found)) => return Ok(found),
                    Ok(None) => Decision::Retry,
                    Err(_) => Decision::GiveUp,
                },
                None => Decision::GiveUp,
            };
        }
        if decision != Decision::Retry || attempts >= policy.max_attempts {
            return Err(failed.error);
        }
        let wait = backoff.delay(attempts, failure.server_wait());
        if wait > LONGEST_SERVER_WAIT {
            return Err(failed.error);
        }
        sleep(wait).await;
    }
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
        request = with_json_body(request, body);
    }
    Ok(request)
}

/// A JSON body. Natively labelled `application/json`; in the browser sent as
/// a plain string with no explicit type, as the official client does, so
/// the unauthenticated embed-key request stays a CORS *simple* request (no
/// preflight, which the hosted platform is not known to answer there).
fn with_json_body(request: reqwest::RequestBuilder, body: &Value) -> reqwest::RequestBuilder {
    #[cfg(target_family = "wasm")]
    {
        request.body(body.to_string())
    }
    #[cfg(not(target_family = "wasm"))]
    {
        request.json(body)
    }
}

/// Uploads raw bytes with `PUT` to a pre-signed URL.
///
/// Deliberately sends no `Authorization`: the URL carries its own signature
/// and the project key must never travel to a storage host (PROTOCOL A9).
/// The answer body is ignored; a non-2xx answer is the status-mapped error.
///
/// Retried only when it surely was not processed (see [`RequestKind::Create`]).
pub(crate) async fn put_without_auth(
    http: &reqwest::Client,
    url: Url,
    upload: Upload,
    policy: &RetryPolicy,
) -> Result<()> {
    let attempt = || answer_bytes(upload_request(http, url.clone(), upload.clone()));
    with_retries(policy, RequestKind::Create, attempt, no_check())
        .await
        .map(drop)
}

/// A file to `PUT`: its bytes and its media type.
#[derive(Clone)]
pub(crate) struct Upload {
    pub(crate) bytes: Vec<u8>,
    pub(crate) media_type: String,
}

/// The upload `PUT`, built but not sent: the raw bytes, the file's media
/// type, the storage tag that makes the temporary file expire (PROTOCOL A9:
/// the hosted upload URL is a pre-signed storage URL), and no key.
fn upload_request(http: &reqwest::Client, url: Url, upload: Upload) -> reqwest::RequestBuilder {
    http.put(url)
        .header(reqwest::header::CONTENT_TYPE, upload.media_type)
        .header("x-amz-tagging", "Expire=true")
        .body(upload.bytes)
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
async fn answer_bytes(request: reqwest::RequestBuilder) -> Result<Vec<u8>, FailedAttempt> {
    // Off the browser, at most MAX_IN_FLIGHT requests of this process are open at once (the
    // browser has its own per-host limit). Ten thousand subscribed tasks waking together must
    // not open ten thousand sockets: each costs memory here and a connection at the server.
    #[cfg(not(target_family = "wasm"))]
    let _permit = IN_FLIGHT.acquire().await.ok();
    let response = request.send().await.map_err(Error::network)?;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.map_err(Error::network)?;
    if !status.is_success() {
        return Err(FailedAttempt {
            error: Error::from_response(status.as_u16(), &headers, &bytes),
            retry_after: retry_after(&headers),
        });
    }
    Ok(bytes.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// No waiting, so the loop is tested without time passing.
    const INSTANT: RetryPolicy = RetryPolicy {
        max_attempts: 4,
        base: Duration::ZERO,
        cap: Duration::ZERO,
    };

    fn failed(status: u16, retry_after: Option<u64>) -> FailedAttempt {
        FailedAttempt {
            error: Error::from_response(status, &reqwest::header::HeaderMap::new(), b"{}"),
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    /// Runs the loop over scripted answers; returns the result, the number
    /// of attempts and of existence checks.
    async fn run(
        kind: RequestKind,
        answers: Vec<std::result::Result<&'static str, (u16, Option<u64>)>>,
        check: Option<Result<Option<&'static str>>>,
    ) -> (Result<&'static str>, usize, usize) {
        let attempts = Cell::new(0usize);
        let checks = Cell::new(0usize);
        let attempt = || {
            let index = attempts.get();
            attempts.set(index + 1);
            let answer = answers
                .get(index)
                .or(answers.last())
                .cloned()
                .expect("scripted answers");
            async move { answer.map_err(|(status, wait)| failed(status, wait)) }
        };
        let result = match check {
            Some(found) => {
                let found = std::sync::Mutex::new(Some(found));
                let exists = || {
                    checks.set(checks.get() + 1);
                    let answer = found.lock().unwrap().take().unwrap_or(Ok(None));
                    async move { answer }
                };
                with_retries(&INSTANT, kind, attempt, Some(exists)).await
            }
            None => with_retries(&INSTANT, kind, attempt, no_check()).await,
        };
        (result, attempts.get(), checks.get())
    }

    #[tokio::test]
    async fn the_retry_loop_follows_the_table() {
        use RequestKind::*;
        // (name, kind, answers, check answer, expected Ok value or status, attempts, checks)
        type Case = (
            &'static str,
            RequestKind,
            Vec<std::result::Result<&'static str, (u16, Option<u64>)>>,
            Option<Result<Option<&'static str>>>,
            std::result::Result<&'static str, u16>,
            usize,
            usize,
        );
        let cases: Vec<Case> = vec![
            (
                "a read survives two 5xx",
                Read,
                vec![Err((502, None)), Err((500, None)), Ok("ok")],
                None,
                Ok("ok"),
                3,
                0,
            ),
            (
                "a read gives up after max_attempts",
                Read,
                vec![Err((503, None))],
                None,
                Err(503),
                4,
                0,
            ),
            (
                "a read is not retried on 404",
                Read,
                vec![Err((404, None)), Ok("no")],
                None,
                Err(404),
                1,
                0,
            ),
            (
                "a create is not retried on 5xx",
                Create,
                vec![Err((500, None)), Ok("twice")],
                None,
                Err(500),
                1,
                0,
            ),
            (
                "a create is retried on 429",
                Create,
                vec![Err((429, Some(0))), Ok("ok")],
                None,
                Ok("ok"),
                2,
                0,
            ),
            (
                "a long Retry-After is handed back",
                Read,
                vec![Err((429, Some(61))), Ok("no")],
                None,
                Err(429),
                1,
                0,
            ),
            (
                "an ambiguous trigger that happened is found, not repeated",
                CreateWithClientId,
                vec![Err((502, None)), Ok("twice")],
                Some(Ok(Some("found"))),
                Ok("found"),
                1,
                1,
            ),
            (
                "an ambiguous trigger that did not happen is repeated",
                CreateWithClientId,
                vec![Err((502, None)), Ok("sent")],
                Some(Ok(None)),
                Ok("sent"),
                2,
                1,
            ),
            (
                "when the check cannot tell, the error comes back",
                CreateWithClientId,
                vec![Err((500, None)), Ok("twice")],
                Some(Err(Error::Server {
                    status: 500,
                    message: None,
                })),
                Err(500),
                1,
                1,
            ),
            (
                "a trigger refused with 429 is retried without a check",
                CreateWithClientId,
                vec![Err((429, Some(0))), Ok("ok")],
                Some(Ok(Some("found"))),
                Ok("ok"),
                2,
                0,
            ),
        ];
        for (name, kind, answers, check, expected, attempts, checks) in cases {
            let (result, made, checked) = run(kind, answers, check).await;
            match (result, expected) {
                (Ok(value), Ok(wanted)) => assert_eq!(value, wanted, "{name}"),
                (Err(error), Err(status)) => assert_eq!(error.status(), Some(status), "{name}"),
                (other, wanted) => panic!("{name}: got {other:?}, wanted {wanted:?}"),
            }
            assert_eq!(made, attempts, "{name}: attempts");
            assert_eq!(checked, checks, "{name}: checks");
        }
    }

    #[tokio::test]
    async fn no_retry_policy_sends_once() {
        let attempts = Cell::new(0);
        let attempt = || {
            attempts.set(attempts.get() + 1);
            async { Err::<(), _>(failed(503, None)) }
        };
        let result =
            with_retries(&RetryPolicy::none(), RequestKind::Read, attempt, no_check()).await;
        assert!(result.is_err());
        assert_eq!(attempts.get(), 1);
    }

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
        let upload = Upload {
            bytes: b"raw".to_vec(),
            media_type: "text/plain; charset=utf-8".into(),
        };
        let request = upload_request(&reqwest::Client::new(), url.clone(), upload)
            .build()
            .unwrap();
        assert_eq!(request.method(), Method::PUT);
        assert_eq!(request.url(), &url);
        assert!(request.headers().get(AUTHORIZATION).is_none());
        assert_eq!(
            request.headers()[reqwest::header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
        assert_eq!(request.headers()["x-amz-tagging"], "Expire=true");
        assert_eq!(request.body().unwrap().as_bytes(), Some(b"raw".as_slice()));
    }
}
