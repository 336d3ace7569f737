//! The demo chat page (`crates/relevance-demo-page`, built by
//! `scripts/build-demo-page.sh`) served at `/demo/`, with its `config.json`.
//!
//! The page is a static build: this module only hands out its files and
//! writes the settings the page reads at start, with `base_url` set to the
//! origin the request came to (its `Host`), so the page works on any port
//! and address. No credentials are involved: the page makes its own embed
//! key like any public page would. Only plain file names of the known kinds
//! are served from the directory, so no request can reach outside it.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

/// The demo chat page to serve at `/demo/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoPage {
    /// The built page (`index.html`, `style.css`, the wasm module and its JS glue),
    /// usually `target/demo-page`.
    pub dir: PathBuf,
    /// The project the page's agent belongs to.
    pub project: String,
    /// The public agent the page talks to.
    pub agent_id: String,
    /// The project's region code (`bcbe5a`, `d7b62b` or `f1db6c`).
    pub region_code: String,
}

/// The page's files by extension, with the MIME type a browser needs (a wasm module
/// is only compiled by streaming when it is `application/wasm`).
const SERVED_KINDS: &[(&str, &str)] = &[
    ("html", "text/html; charset=utf-8"),
    ("js", "text/javascript; charset=utf-8"),
    ("wasm", "application/wasm"),
    ("css", "text/css; charset=utf-8"),
];

/// `/demo`, `/demo/`, `/demo/config.json` and `/demo/{file}`.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>(page: DemoPage) -> Router<S> {
    Router::new()
        .route("/demo", get(|| async { Redirect::permanent("/demo/") }))
        .route("/demo/", get(index))
        .route("/demo/config.json", get(config))
        .route("/demo/{file}", get(file))
        .with_state(Arc::new(page))
}

async fn index(State(page): State<Arc<DemoPage>>) -> Response {
    serve_file(&page, "index.html").await
}

async fn file(State(page): State<Arc<DemoPage>>, Path(name): Path<String>) -> Response {
    serve_file(&page, &name).await
}

/// The settings the page starts from; `base_url` is where this request arrived.
async fn config(State(page): State<Arc<DemoPage>>, headers: HeaderMap) -> Response {
    let Some(host) = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| is_plain_authority(host))
    else {
        return plain(
            StatusCode::BAD_REQUEST,
            "the request has no usable Host header".to_string(),
        );
    };
    let body = json!({
        "base_url": format!("http://{host}"),
        "region_code": page.region_code,
        "project": page.project,
        "agent_id": page.agent_id,
    });
    let mut response = Json(body).into_response();
    no_cache(&mut response);
    response
}

/// `host`, `host:port`, `[v6]:port`: nothing that could inject into a URL.
fn is_plain_authority(host: &str) -> bool {
    !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

/// The MIME type of a file the page may serve: a plain name (no path, not hidden)
/// of a known kind. Anything else is not found, whatever exists on disk.
fn served_type(name: &str) -> Option<&'static str> {
    let starts_plain = name.chars().next()?.is_ascii_alphanumeric();
    let plain = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !starts_plain || !plain {
        return None;
    }
    let (_, extension) = name.rsplit_once('.')?;
    SERVED_KINDS
        .iter()
        .find(|(kind, _)| *kind == extension)
        .map(|(_, mime)| *mime)
}

async fn serve_file(page: &DemoPage, name: &str) -> Response {
    let Some(mime) = served_type(name) else {
        return plain(
            StatusCode::NOT_FOUND,
            "no such file in the demo page".into(),
        );
    };
    match tokio::fs::read(page.dir.join(name)).await {
        Ok(bytes) => {
            let mut response = bytes.into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
            no_cache(&mut response);
            response
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => plain(
            StatusCode::NOT_FOUND,
            format!(
                "{name} is not in the demo page's directory {}: build the page with scripts/build-demo-page.sh",
                page.dir.display()
            ),
        ),
        Err(error) => {
            tracing::error!(%error, file = name, "the demo page's file could not be read");
            plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("{name} could not be read"),
            )
        }
    }
}

/// A rebuilt page must be picked up by a reload.
fn no_cache(response: &mut Response) {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
}

fn plain(status: StatusCode, text: String) -> Response {
    (status, text).into_response()
}

#[cfg(test)]
mod tests {
    use super::{is_plain_authority, served_type};

    #[test]
    fn only_plain_names_of_known_kinds_are_served() {
        let cases = [
            ("index.html", Some("text/html; charset=utf-8")),
            (
                "relevance_demo_page.js",
                Some("text/javascript; charset=utf-8"),
            ),
            ("relevance_demo_page_bg.wasm", Some("application/wasm")),
            ("style.css", Some("text/css; charset=utf-8")),
            ("config.toml", None),
            ("index", None),
            (".hidden.js", None),
            ("..", None),
            ("../secret.js", None),
            ("..%2Fsecret.js", None),
            ("a/b.js", None),
            ("a\\b.js", None),
            ("/etc/passwd.js", None),
            ("", None),
            ("page.JS", None),
        ];
        for (name, expected) in cases {
            assert_eq!(served_type(name), expected, "{name}");
        }
    }

    #[test]
    fn only_plain_hosts_make_the_base_url() {
        let cases = [
            ("127.0.0.1:8787", true),
            ("localhost", true),
            ("[::1]:8787", true),
            ("", false),
            ("evil.com/path", false),
            ("a b", false),
            ("host\"", false),
            ("user@host", false),
        ];
        for (host, expected) in cases {
            assert_eq!(is_plain_authority(host), expected, "{host}");
        }
    }
}
