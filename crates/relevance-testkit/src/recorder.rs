//! A recording proxy on 127.0.0.1: forwards every request to the emulator unchanged and
//! keeps what was sent, so a test can assert on the SDK's requests as they were on the
//! wire: bodies, headers, no secret added or lost. Like a reverse proxy that rewrites its
//! upstream's address, it puts its own URL for the emulator's in JSON answers, so the file
//! URLs the emulator builds (from its own URL, never the `Host` header) lead back through it.

use std::sync::{Arc, Mutex};

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::response::Response;
use futures_util::TryStreamExt;

/// The most one recorded body may hold.
const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// One request as the proxy received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// The HTTP method.
    pub method: String,
    /// The path and query, as sent.
    pub path: String,
    /// The headers, as sent.
    pub headers: HeaderMap,
    /// The body, as sent.
    pub body: Vec<u8>,
}

impl Recorded {
    /// The body as JSON (panics with the body's text when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "{} {}: body is not JSON ({error}): {}",
                self.method,
                self.path,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

#[derive(Clone)]
struct Forward {
    target: String,
    /// The proxy's own URL, written into JSON answers in place of `target`.
    own: String,
    http: reqwest::Client,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

/// The running proxy; it stops with the test's runtime.
pub struct Recorder {
    /// Where to point the client under test: `http://127.0.0.1:{port}`.
    pub base_url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Recorder {
    /// Starts a proxy in front of `target` (an `http://127.0.0.1:port` URL).
    pub async fn start(target: &str) -> Recorder {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let base_url = format!("http://{}", listener.local_addr().expect("address"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let state = Forward {
            target: target.trim_end_matches('/').to_string(),
            own: base_url.clone(),
            http: reqwest::Client::new(),
            requests: Arc::clone(&requests),
        };
        let app = axum::Router::new().fallback(forward).with_state(state);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Recorder { base_url, requests }
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().expect("recorder lock").clone()
    }

    /// The requests whose path (without the query) ends with `suffix`.
    pub fn matching(&self, method: &str, suffix: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| {
                r.method == method && r.path.split('?').next().unwrap_or("").ends_with(suffix)
            })
            .collect()
    }
}

/// Headers the connection owns, not the request.
fn hop_by_hop(name: &HeaderName) -> bool {
    [
        "connection",
        "content-length",
        "transfer-encoding",
        "keep-alive",
    ]
    .contains(&name.as_str())
}

async fn forward(State(state): State<Forward>, request: Request) -> Result<Response, StatusCode> {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE)?;
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    state
        .requests
        .lock()
        .expect("recorder lock")
        .push(Recorded {
            method: parts.method.to_string(),
            path: path.clone(),
            headers: parts.headers.clone(),
            body: body.to_vec(),
        });
    let mut outgoing = state
        .http
        .request(parts.method, format!("{}{path}", state.target))
        .body(body);
    for (name, value) in &parts.headers {
        if !hop_by_hop(name) {
            outgoing = outgoing.header(name, value);
        }
    }
    let answer = outgoing.send().await.map_err(|_| StatusCode::BAD_GATEWAY)?;
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if !hop_by_hop(name) {
            response = response.header(name, value);
        }
    }
    let is_json = answer
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if is_json {
        let text = answer.text().await.map_err(|_| StatusCode::BAD_GATEWAY)?;
        let rewritten = text.replace(&state.target, &state.own);
        return response
            .body(Body::from(rewritten))
            .map_err(|_| StatusCode::BAD_GATEWAY);
    }
    let stream = answer.bytes_stream().map_err(std::io::Error::other);
    response
        .body(Body::from_stream(stream))
        .map_err(|_| StatusCode::BAD_GATEWAY)
}
