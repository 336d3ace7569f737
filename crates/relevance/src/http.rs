//! The request layer: every request of the SDK is one [`Request`] value,
//! executed here and nowhere else.
//!
//! A resource module says *what* to ask (method, path, query, a
//! `Serialize` body, what kind of request it is) and [`Transport`] does the
//! rest: it builds the URL through [`Endpoints`], adds the `Authorization`
//! header (marked sensitive so HTTP-level logging never prints it), keeps at
//! most [`MAX_IN_FLIGHT`] requests open, sends, maps a non-2xx answer through
//! [`Error::from_response`], retries what the retry rules (`retry`) allow and
//! decodes the JSON answer. The live stream's connection and the file upload
//! go through it too. Each attempt is a `tracing` span (`relevance.request`:
//! method, path, attempt, status, latency) that never carries a key, a query
//! string or a streaming token (the stream URL carries its token in the query:
//! only the URL's path is logged).
//!
//! This module never knows a resource: no path or wire type is named here.

use std::future::Future;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Method;
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tracing::Instrument;
use url::Url;

use crate::error::{retry_after, Error, KeyDataError, Result};
use crate::key::Key;
use crate::region::Endpoints;
use crate::retry::{
    decide, Backoff, Failure, RequestKind, RetryAction, RetryPolicy, LONGEST_SERVER_WAIT,
};
use crate::runtime::{sleep, BoxFuture, BoxStream, Instant};

/// How long a request may take before it fails, off the browser.
#[cfg(not(target_family = "wasm"))]
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// What the SDK calls itself, off the browser (browsers forbid setting it).
#[cfg(not(target_family = "wasm"))]
pub(crate) const DEFAULT_USER_AGENT: &str = concat!("relevance-rs/", env!("CARGO_PKG_VERSION"));

/// How many requests one process has open at once, off the browser. A live
/// stream counts while it is being opened, not while its body flows.
#[cfg(not(target_family = "wasm"))]
pub(crate) const MAX_IN_FLIGHT: usize = 128;

#[cfg(not(target_family = "wasm"))]
static IN_FLIGHT: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(MAX_IN_FLIGHT);

/// How long one live-stream connection may stay open before it is closed and
/// reopened (with a fresh token), off the browser.
#[cfg(not(target_family = "wasm"))]
const CONNECTION_LIFETIME: Duration = Duration::from_secs(600);

/// The body of a streamed answer: its chunks as they arrive.
pub(crate) type ByteStream = BoxStream<Result<Vec<u8>>>;

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

/// Where a request goes.
#[derive(Clone, Debug)]
enum Address {
    /// A path under the API base (`agents/list`).
    Api(String),
    /// An absolute URL (a pre-signed upload URL, the live stream).
    Url(Url),
}

/// What a request carries.
#[derive(Clone)]
enum Body {
    None,
    /// JSON text, already serialised.
    Json(String),
    /// A file for a pre-signed storage URL, with its media type.
    Upload {
        bytes: Vec<u8>,
        media_type: String,
    },
}

/// One request, described but not sent. Made by the resource modules,
/// executed by [`Transport`].
#[derive(Clone)]
pub(crate) struct Request {
    method: Method,
    address: Address,
    query: Vec<(&'static str, String)>,
    body: Body,
    kind: RequestKind,
    /// Names the answer in a decode error, e.g. "agents/list answer".
    what: String,
    /// Another retry policy than the client's (the event stream sends
    /// each request once and owns its backoff).
    policy: Option<RetryPolicy>,
    /// Whether the key goes with it (not to a storage host).
    with_key: bool,
    /// A live stream: `Accept: text/event-stream`, a long timeout.
    live: bool,
    /// The URL's last path segment is a secret (an agent's webhook URL): logged redacted.
    secret_path: bool,
}

impl Request {
    /// A request of `kind` to `path` under the API base, with the key.
    pub(crate) fn new(kind: RequestKind, method: Method, path: impl Into<String>) -> Request {
        let path = path.into();
        Request {
            what: format!("{path} answer"),
            method,
            address: Address::Api(path),
            query: Vec::new(),
            body: Body::None,
            kind,
            policy: None,
            with_key: true,
            live: false,
            secret_path: false,
        }
    }

    /// `GET path`, a read.
    pub(crate) fn get(path: impl Into<String>) -> Request {
        Request::new(RequestKind::Read, Method::GET, path)
    }

    /// `POST path` that only reads (a list, a message view).
    pub(crate) fn read_post(path: impl Into<String>) -> Request {
        Request::new(RequestKind::Read, Method::POST, path)
    }

    /// `POST path` that creates something.
    pub(crate) fn create(path: impl Into<String>) -> Request {
        Request::new(RequestKind::Create, Method::POST, path)
    }

    /// The raw bytes of a file `PUT` to a pre-signed storage URL: its media
    /// type, the storage tag that makes the temporary file expire (PROTOCOL
    /// A9) and **no key** (the URL carries its own signature; the project key
    /// must never travel to a storage host). Retried only when it surely was
    /// not processed.
    pub(crate) fn upload(url: Url, bytes: Vec<u8>, media_type: String) -> Request {
        Request {
            what: "file upload answer".to_string(),
            method: Method::PUT,
            address: Address::Url(url),
            query: Vec::new(),
            body: Body::Upload { bytes, media_type },
            kind: RequestKind::Create,
            policy: None,
            with_key: false,
            live: false,
            secret_path: false,
        }
    }

    /// The live stream at `url` (PROTOCOL A8): no key (the token is in the
    /// URL), sent once (the event stream owns reconnecting).
    pub(crate) fn live_stream(url: Url) -> Request {
        Request {
            what: "live stream".to_string(),
            method: Method::GET,
            address: Address::Url(url),
            query: Vec::new(),
            body: Body::None,
            kind: RequestKind::Read,
            policy: Some(RetryPolicy::none()),
            with_key: false,
            live: true,
            secret_path: false,
        }
    }

    /// `POST` of a JSON payload to an agent's webhook URL: no key (the URL is its own
    /// secret, so its last segment is never logged), retried only when surely not received.
    pub(crate) fn webhook(url: Url, payload: &impl Serialize) -> Request {
        Request {
            what: "webhook answer".to_string(),
            method: Method::POST,
            address: Address::Url(url),
            query: Vec::new(),
            body: Body::None,
            kind: RequestKind::Create,
            policy: None,
            with_key: false,
            live: false,
            secret_path: true,
        }
        .json(payload)
    }

    /// A JSON body. Serialising the SDK's wire types cannot fail (strings,
    /// numbers, booleans and JSON values only).
    pub(crate) fn json(mut self, body: &impl Serialize) -> Request {
        let text = serde_json::to_string(body).expect("wire bodies always serialise");
        self.body = Body::Json(text);
        self
    }

    /// Query pairs, appended percent-encoded (form style), in this order.
    pub(crate) fn query(mut self, pairs: Vec<(&'static str, String)>) -> Request {
        self.query.extend(pairs);
        self
    }

    /// How the answer is named in a decode error.
    pub(crate) fn answer(mut self, what: impl Into<String>) -> Request {
        self.what = what.into();
        self
    }

    /// Retried under `policy` instead of the client's.
    pub(crate) fn policy(mut self, policy: Option<RetryPolicy>) -> Request {
        if policy.is_some() {
            self.policy = policy;
        }
        self
    }

    /// Sent without the key (the unauthenticated embed-key request).
    pub(crate) fn without_key(mut self) -> Request {
        self.with_key = false;
        self
    }

    /// A create under an id the client made (see
    /// [`Transport::send_or_find`]).
    pub(crate) fn with_client_id(mut self) -> Request {
        self.kind = RequestKind::CreateWithClientId;
        self
    }

    /// What the request does, for the retry rules.
    #[cfg(test)]
    pub(crate) fn kind(&self) -> RequestKind {
        self.kind
    }
}

/// What requests are sent with: the HTTP client, the endpoints, the key (if
/// any) and the retry policy. A [`Client`](crate::Client) lends one; the
/// unauthenticated embed-key request makes its own.
#[derive(Clone, Copy)]
pub(crate) struct Transport<'a> {
    pub(crate) http: &'a reqwest::Client,
    /// `None` for a transport that only sends to absolute URLs (a webhook URL).
    pub(crate) endpoints: Option<&'a Endpoints>,
    pub(crate) key: Option<&'a Key>,
    pub(crate) policy: &'a RetryPolicy,
}

impl Transport<'_> {
    /// Sends `request`, retrying it as its kind allows, and decodes its JSON
    /// answer. A 2xx answer that does not decode is never retried: the
    /// server did answer.
    pub(crate) async fn send<T: DeserializeOwned>(&self, request: Request) -> Result<T> {
        self.send_or_find(request, |answer: T| answer, no_check())
            .await
    }

    /// Sends `request` and turns its decoded answer into `U` with `into`.
    ///
    /// For a create under an id the client made ([`Request::with_client_id`])
    /// `exists` answers, after an ambiguous failure (a timeout, a 5xx, a reset
    /// connection), whether the thing was made after all: if it is there, its
    /// `U` is the answer; if not, the request is sent again; when the check
    /// cannot tell, the original error comes back rather than risking a
    /// second create. Other kinds never ask it.
    pub(crate) async fn send_or_find<T, U, F, C, CF>(
        &self,
        request: Request,
        into: F,
        exists: Option<C>,
    ) -> Result<U>
    where
        T: DeserializeOwned,
        F: Fn(T) -> U,
        C: FnMut() -> CF,
        CF: Future<Output = Result<Option<U>>>,
    {
        let policy = request.policy.unwrap_or(*self.policy);
        let mut number = 0u32;
        let attempt = || {
            number = number.saturating_add(1);
            let span = self.span(&request, number);
            let built = self.build(&request);
            let what = &request.what;
            let into = &into;
            let key = self.key;
            async move {
                let bytes = answer_bytes(built.map_err(FailedAttempt::from)?)
                    .await
                    .map_err(|failed| failed.for_key(key))?;
                decode(&bytes, what).map(into).map_err(FailedAttempt::from)
            }
            .instrument(span)
        };
        with_retries(&policy, request.kind, attempt, exists).await
    }

    /// Sends `request` and ignores its answer body (the upload `PUT`, whose
    /// storage host need not answer JSON).
    pub(crate) async fn send_ignoring_answer(&self, request: Request) -> Result<()> {
        let policy = request.policy.unwrap_or(*self.policy);
        let mut number = 0u32;
        let attempt = || {
            number = number.saturating_add(1);
            let span = self.span(&request, number);
            let built = self.build(&request);
            let key = self.key;
            async move {
                answer_bytes(built.map_err(FailedAttempt::from)?)
                    .await
                    .map(drop)
                    .map_err(|failed| failed.for_key(key))
            }
            .instrument(span)
        };
        with_retries(&policy, request.kind, attempt, no_check()).await
    }

    fn span(&self, request: &Request, attempt: u32) -> tracing::Span {
        span(self.endpoints, request, attempt)
    }

    fn build(&self, request: &Request) -> Result<reqwest::RequestBuilder> {
        build(self.http, self.endpoints, self.key, request)
    }
}

/// Opens a streamed answer (the live stream, [`Request::live_stream`]): its
/// body, or the error its status maps to. Sent once, without a key; counts
/// toward the in-flight limit until the answer's headers are in. Spawns
/// nothing: the body is a stream its owner polls and closes by dropping it.
pub(crate) fn open_stream(
    http: &reqwest::Client,
    request: Request,
) -> BoxFuture<Result<ByteStream>> {
    let span = span(None, &request, 1);
    let built = build(http, None, None, &request);
    Box::pin(
        async move {
            let response = {
                #[cfg(not(target_family = "wasm"))]
                let _permit = IN_FLIGHT.acquire().await.ok();
                respond(built?).await.map_err(|failed| failed.error)?
            };
            let body: ByteStream = Box::pin(
                response
                    .bytes_stream()
                    .map(|chunk| chunk.map(|bytes| bytes.to_vec()).map_err(Error::network)),
            );
            Ok(body)
        }
        .instrument(span),
    )
}

/// One attempt's span. The path only: never the query (the live stream's
/// token is there), never a header.
fn span(endpoints: Option<&Endpoints>, request: &Request, attempt: u32) -> tracing::Span {
    let path = match (&request.address, endpoints) {
        (Address::Url(url), _) if request.secret_path => match url.path().rsplit_once('/') {
            Some((head, _)) => format!("{head}/(redacted)"),
            None => "(redacted)".to_string(),
        },
        (Address::Url(url), _) => url.path().to_string(),
        (Address::Api(path), None) => path.clone(),
        (Address::Api(path), Some(endpoints)) => endpoints
            .api_url(path)
            .map(|url| url.path().to_string())
            .unwrap_or_default(),
    };
    tracing::debug_span!(
        "relevance.request",
        method = %request.method,
        path = %path,
        attempt,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    )
}

/// The request as reqwest sends it, built but not sent. An API path needs
/// the endpoints; an absolute URL does not.
fn build(
    http: &reqwest::Client,
    endpoints: Option<&Endpoints>,
    key: Option<&Key>,
    request: &Request,
) -> Result<reqwest::RequestBuilder> {
    let url = match (&request.address, endpoints) {
        (Address::Api(path), Some(endpoints)) => url_with_query(endpoints, path, &request.query)?,
        (Address::Api(path), None) => {
            return Err(Error::InvalidBaseUrl {
                value: path.clone(),
                reason: "a path needs the client's endpoints".to_string(),
            })
        }
        (Address::Url(url), _) => url.clone(),
    };
    let mut built = http.request(request.method.clone(), url);
    if let (true, Some(key)) = (request.with_key, key) {
        built = built.header(AUTHORIZATION, authorization(key)?);
    }
    built = match &request.body {
        Body::None => built,
        Body::Json(text) => with_json_body(built, text.clone()),
        Body::Upload { bytes, media_type } => built
            .header(CONTENT_TYPE, media_type.as_str())
            .header("x-amz-tagging", "Expire=true")
            .body(bytes.clone()),
    };
    if request.live {
        built = built.header(ACCEPT, "text/event-stream");
        #[cfg(not(target_family = "wasm"))]
        {
            built = built.timeout(CONNECTION_LIFETIME);
        }
    }
    Ok(built)
}

/// The `Authorization` header for a key, marked sensitive; a key that cannot
/// be a header is refused without showing it.
fn authorization(key: &Key) -> Result<HeaderValue> {
    let value = key.authorization_header();
    let mut header = HeaderValue::from_str(value.expose_secret())
        .map_err(|_| Error::InvalidKey(KeyDataError::NotHeaderSafe))?;
    header.set_sensitive(true);
    Ok(header)
}

/// A JSON body. Natively labelled `application/json`; in the browser sent as
/// a plain string with no explicit type, as the official client does, so
/// the unauthenticated embed-key request stays a CORS *simple* request (no
/// preflight, which the hosted platform is not known to answer there).
fn with_json_body(request: reqwest::RequestBuilder, body: String) -> reqwest::RequestBuilder {
    #[cfg(target_family = "wasm")]
    {
        request.body(body)
    }
    #[cfg(not(target_family = "wasm"))]
    {
        request
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(body)
    }
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

/// Decodes a 2xx answer.
fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|source| Error::Decode {
        what: what.to_string(),
        source,
    })
}

/// Sends a prepared request and returns its body, or the error its status
/// maps to, holding an in-flight permit until the body is read.
async fn answer_bytes(request: reqwest::RequestBuilder) -> Result<Vec<u8>, FailedAttempt> {
    // Off the browser, at most MAX_IN_FLIGHT requests of this process are open at once (the
    // browser has its own per-host limit). Ten thousand subscribed tasks waking together must
    // not open ten thousand sockets: each costs memory here and a connection at the server.
    #[cfg(not(target_family = "wasm"))]
    let _permit = IN_FLIGHT.acquire().await.ok();
    let response = respond(request).await?;
    let bytes = response.bytes().await.map_err(Error::network)?;
    Ok(bytes.to_vec())
}

/// Sends a prepared request (its caller holds the in-flight permit) and
/// returns the 2xx response, or the error its status maps to. Every request
/// of the SDK ends here, so status mapping, secret-safe transport errors and
/// the span's status and latency live in one place.
async fn respond(request: reqwest::RequestBuilder) -> Result<reqwest::Response, FailedAttempt> {
    let started = Instant::now();
    let span = tracing::Span::current();
    let sent = request.send().await;
    span.record("latency_ms", started.elapsed().as_millis() as u64);
    let response = match sent {
        Ok(response) => response,
        Err(error) => {
            tracing::debug!("no answer");
            return Err(Error::network(error).into());
        }
    };
    let status = response.status();
    span.record("status", status.as_u16());
    tracing::debug!("answered");
    if status.is_success() {
        return Ok(response);
    }
    let headers = response.headers().clone();
    let bytes = response
        .bytes()
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    Err(FailedAttempt {
        error: Error::from_response(status.as_u16(), &headers, &bytes),
        retry_after: retry_after(&headers),
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

impl FailedAttempt {
    /// Names the key's project and region in a refusal of the key, so the
    /// error says which of key, project and region to check.
    fn for_key(self, key: Option<&Key>) -> FailedAttempt {
        match key {
            Some(key) => FailedAttempt {
                error: self.error.for_key(key.project(), key.region()),
                ..self
            },
            None => self,
        }
    }
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

/// No existence check: for every request but a create with a client-made id.
pub(crate) fn no_check<T>() -> Option<NoCheck<T>> {
    None
}

/// Runs `attempt` until it succeeds or [`decide`] says stop, waiting with
/// full-jitter backoff (the server's `Retry-After` winning) in between.
/// `check` answers "was it processed after all?" for
/// [`RequestKind::CreateWithClientId`]; when it cannot tell (it fails),
/// the original error is returned rather than risking a second create.
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
        if decision == RetryAction::CheckThenRetry {
            decision = match check.as_mut() {
                Some(check) => match check().await {
                    Ok(Some(found)) => return Ok(found),
                    Ok(None) => RetryAction::Retry,
                    Err(_) => RetryAction::GiveUp,
                },
                None => RetryAction::GiveUp,
            };
        }
        if decision != RetryAction::Retry || attempts >= policy.max_attempts {
            return Err(failed.error);
        }
        let wait = backoff.delay(attempts, failure.server_wait());
        if wait > LONGEST_SERVER_WAIT {
            return Err(failed.error);
        }
        sleep(wait).await;
    }
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
                    error_type: None,
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
        let policy = RetryPolicy::default();
        let transport = Transport {
            http: &http,
            endpoints: Some(&endpoints),
            key: Some(&key),
            policy: &policy,
        };
        let body = serde_json::json!({"page_size": 1000});
        let request = Request::get("/agents/conversations/list")
            .query(vec![
                ("sort", "[{\"insert_date\":\"asc\"}]".into()),
                ("query", "a b&c".into()),
            ])
            .json(&body);
        let request = transport.build(&request).unwrap().build().unwrap();
        assert_eq!(request.method(), Method::GET);
        assert_eq!(
            request.url().as_str(),
            "http://127.0.0.1:8787/d7b62b/latest/agents/conversations/list?sort=%5B%7B%22insert_date%22%3A%22asc%22%7D%5D&query=a+b%26c"
        );
        let authorization = request.headers().get(AUTHORIZATION).unwrap();
        assert_eq!(authorization.to_str().unwrap(), "p1:sk-abc");
        assert!(authorization.is_sensitive());
        let sent: serde_json::Value =
            serde_json::from_slice(request.body().unwrap().as_bytes().unwrap()).unwrap();
        assert_eq!(sent, body);

        let bare = Request::create("x").without_key();
        let bare = transport.build(&bare).unwrap().build().unwrap();
        assert_eq!(bare.method(), Method::POST);
        assert!(bare.headers().get(AUTHORIZATION).is_none());
        assert_eq!(bare.url().query(), None);
        assert!(bare.body().is_none());
    }

    #[test]
    fn the_upload_put_carries_the_bytes_and_no_key() {
        let url = Url::parse("https://bucket.example/f?X-Sig=s").unwrap();
        let endpoints = Endpoints::hosted(Region::US);
        let key = Key::new("sk-abc", Region::US, "p1").unwrap();
        let http = reqwest::Client::new();
        let policy = RetryPolicy::default();
        let transport = Transport {
            http: &http,
            endpoints: Some(&endpoints),
            key: Some(&key),
            policy: &policy,
        };
        let upload = Request::upload(
            url.clone(),
            b"raw".to_vec(),
            "text/plain; charset=utf-8".into(),
        );
        assert_eq!(upload.kind(), RequestKind::Create);
        let request = transport.build(&upload).unwrap().build().unwrap();
        assert_eq!(request.method(), Method::PUT);
        assert_eq!(request.url(), &url);
        assert!(request.headers().get(AUTHORIZATION).is_none());
        assert_eq!(
            request.headers()[reqwest::header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
        assert_eq!(request.headers()["x-amz-tagging"], "Expire=true");
        assert_eq!(request.body().unwrap().as_bytes(), Some(b"raw".as_slice()));

        let live = Url::parse("https://x.example/v1/stream?authorization=Bearer+tok").unwrap();
        let live = transport
            .build(&Request::live_stream(live))
            .unwrap()
            .build()
            .unwrap();
        assert!(live.headers().get(AUTHORIZATION).is_none());
        assert_eq!(live.headers()[ACCEPT], "text/event-stream");
    }

    /// Records every span's fields as text.
    #[derive(Clone, Default)]
    struct Recorder(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

    struct Fields<'a>(&'a mut String);

    impl tracing::field::Visit for Fields<'_> {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            self.0.push_str(&format!("{}={:?} ", field.name(), value));
        }
    }

    impl tracing::Subscriber for Recorder {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            let mut text = format!("{} ", span.metadata().name());
            span.record(&mut Fields(&mut text));
            self.0.lock().unwrap().push(text);
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
            let mut text = String::new();
            values.record(&mut Fields(&mut text));
            self.0.lock().unwrap().push(text);
        }
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, _: &tracing::Event<'_>) {}
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }

    #[test]
    fn request_spans_name_the_path_and_never_a_token_or_a_key() {
        let recorder = Recorder::default();
        let endpoints = Endpoints::with_base_url("http://127.0.0.1:8787", Region::EU).unwrap();
        tracing::subscriber::with_default(recorder.clone(), || {
            let live = Url::parse(
                "http://127.0.0.1:8787/d7b62b/v1/stream?authorization=Bearer+tok-SECRET",
            )
            .unwrap();
            drop(span(None, &Request::live_stream(live), 1));
            let read = Request::get("agents/a1/get").query(vec![("q", "query-SECRET".into())]);
            drop(span(Some(&endpoints), &read, 2));
        });
        let recorded = recorder.0.lock().unwrap().join("\n");
        assert!(recorded.contains("relevance.request"), "{recorded}");
        assert!(recorded.contains("path=/d7b62b/v1/stream"), "{recorded}");
        assert!(
            recorded.contains("path=/d7b62b/latest/agents/a1/get"),
            "{recorded}"
        );
        assert!(
            recorded.contains("method=GET") && recorded.contains("attempt=2"),
            "{recorded}"
        );
        assert!(!recorded.contains("SECRET"), "{recorded}");
    }
}
