//! The router: `/{region code}/latest/...`, `/{region code}/v1/stream`,
//! `/admin/...`, `/healthz`, and the layers every request passes through
//! (request log, fault injection, JSON errors, body limit), built from one
//! route table in which every route names its [`Policy`].

mod cross_origin;
mod layers;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, Method, StatusCode, Uri};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;

use crate::admin;
use crate::api;
use crate::auth::{into_router, route, Policy, Route};
use crate::demo_page::{self, DemoPage};
use crate::error::ApiError;
use crate::faults::inject_faults;
use crate::region::Region;
use crate::state::AppState;
use layers::{
    generic_auth_errors, json_errors, record_requests, region_segment, resolve_region,
    unknown_region,
};

/// Every route behind the API layers, with its policy: the table the router is built
/// from and the route × principal test walks. (The dashboard, the landing page and the
/// demo page sit outside the layers; the dashboard has its own session guard.)
pub(crate) fn route_table() -> Vec<Route> {
    let mut table = vec![route(Method::GET, "/healthz", Policy::Public, healthz)];
    table.extend(api::routes());
    table.extend(api::management_routes());
    table.extend(api::job_routes());
    table.extend(api::file_routes());
    table.extend(api::stream_routes());
    table.extend(admin::routes());
    table
}

/// The whole application; `demo_page` adds the demo chat page at `/demo/`.
pub(crate) fn router(state: AppState, demo_page: Option<DemoPage>) -> Router {
    let (latest, other): (Vec<Route>, Vec<Route>) = route_table()
        .into_iter()
        .partition(|route| region_segment(route.path).is_some());
    let api = into_router(latest, &state).route_layer(from_fn(resolve_region));
    let has_demo_page = demo_page.is_some();
    Router::new()
        .merge(into_router(other, &state))
        .merge(api)
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.body_limit_bytes()))
        .layer(from_fn_with_state(state.clone(), generic_auth_errors))
        .layer(from_fn(json_errors))
        // Inside the log, so a faulted request is logged with the status it got; outside
        // authentication and every handler, so a faulted request did nothing.
        .layer(from_fn_with_state(state.clone(), inject_faults::<AppState>))
        .layer(from_fn_with_state(state.clone(), record_requests))
        // After the layers: dashboard pages are HTML (also their errors) and are not API traffic.
        .merge(admin::dashboard::routes(state.clone()))
        // The landing page and the browser's icon request: after the layers too, so a
        // browser tab on the emulator leaves no noise in the request log.
        .route("/", get(move |headers| landing(headers, has_demo_page)))
        .route("/favicon.ico", get(favicon))
        // Static files, also after the layers: no auth, never faulted, not API traffic.
        .merge(
            demo_page
                .map(demo_page::routes::<AppState>)
                .unwrap_or_default(),
        )
        // Outermost, so preflights skip auth and the request log, and every answer (errors
        // too) carries the header a page needs to read it.
        .layer(cross_origin::CrossOriginLayer)
        .layer(trace_layer(state.clone()))
        .with_state(state)
}

/// CORS for the API, stream and file routes: embed keys are made for public pages, so any
/// origin may call them, and a browser never sends credentials with a preflight, so it is
/// answered before authentication. Admin and dashboard routes get no CORS at all: a page on
/// another origin must never be able to read them.
///
/// The rules are tower-http's [`CorsLayer`] ([`cors_rules`]); `cross_origin` applies them
/// to those routes only, and answers a preflight `204 No Content`.
///
/// `*` origin; methods GET, POST, PUT, OPTIONS; the headers a client sends (`x-amz-tagging`
/// rides on the file PUT as on the hosted storage URL, PROTOCOL A9); preflights kept 10
/// minutes; `retry-after` readable (a 429's wait must be readable by a page's client, and it
/// is not a safelisted header). No `Vary`: the answer is the same for every origin.
fn cors_rules() -> &'static CorsLayer {
    static RULES: std::sync::OnceLock<CorsLayer> = std::sync::OnceLock::new();
    RULES.get_or_init(|| {
        CorsLayer::new()
            .allow_origin(AllowOrigin::any())
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::OPTIONS])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::HeaderName::from_static("x-amz-tagging"),
            ])
            .max_age(std::time::Duration::from_secs(600))
            .expose_headers([header::RETRY_AFTER])
            .vary([])
    })
}

/// Request tracing (`tower_http::trace`) at `debug`: method, path and status. The path
/// may hold a key (`/keys/{key}`), so it is redacted as the request log redacts it.
fn trace_layer(
    state: AppState,
) -> TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    impl Fn(&Request) -> tracing::Span + Clone,
> {
    TraceLayer::new_for_http().make_span_with(move |request: &Request| {
        // Redacting costs a hash per path segment: only when the span is recorded at all.
        if !tracing::enabled!(tracing::Level::DEBUG) {
            return tracing::Span::none();
        }
        let path = crate::auth::redact::redacted_path(&state, request.uri().path());
        tracing::debug_span!("request", method = %request.method(), %path)
    })
}

/// `/{region}/latest/...`, `/{region}/v1/stream` and `/files/...`.
fn is_cross_origin_route(path: &str) -> bool {
    let mut segments = path.trim_start_matches('/').split('/');
    match (segments.next(), segments.next(), segments.next()) {
        (Some("admin" | "dashboard"), _, _) => false,
        (Some("files"), Some(_), _) => true,
        (Some(_), Some("latest"), Some(_)) => true,
        (Some(_), Some("v1"), Some("stream")) => segments.next().is_none(),
        _ => false,
    }
}

/// `GET /`: what this server is and where to go, for whoever opens the base URL in a
/// browser (a JSON 404 there says nothing). The host comes from the request, so it is
/// escaped like everything else that is not a literal here.
async fn landing(headers: axum::http::HeaderMap, has_demo_page: bool) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("localhost");
    let base = format!("http://{host}");
    let mut regions = String::new();
    for region in Region::NAMED {
        let api = format!("{base}/{}/latest", region.code());
        regions.push_str(&format!(
            "<li>{} ({}): <code>{}</code></li>",
            esc(region.name().unwrap_or_default()),
            esc(region.code()),
            esc(&api)
        ));
    }
    let demo_page = if has_demo_page {
        r#"<li><a href="/demo/">demo chat page</a> (an embed key in the browser)</li>"#
    } else {
        "<li>demo chat page: off (start with <code>--demo-page</code>)</li>"
    };
    let page = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Relevance AI emulator</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto">
<h1>Relevance AI emulator</h1>
<p>A local stand-in for the Relevance AI platform: the same API, keys and tasks, on this machine.</p>
<ul>
<li><a href="/dashboard">dashboard</a> (sign in with the link the emulator printed at start-up)</li>
{demo_page}
<li><a href="/healthz">health</a></li>
</ul>
<p>API base per region (point <code>RELEVANCE_BASE_URL</code> at <code>{base}</code>):</p>
<ul>{regions}</ul>
</body></html>
"#,
        base = esc(&base),
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}

/// HTML-escapes text for the landing page (its own copy: the dashboard's is private to it).
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// `GET /favicon.ico`: nothing to show, but an answer, so a browser stops asking and no
/// 404 turns up for it.
async fn favicon() -> Response {
    (
        StatusCode::NO_CONTENT,
        [(header::CACHE_CONTROL, "public, max-age=86400")],
    )
        .into_response()
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "ok": true }))
}

async fn unknown_route(method: Method, uri: Uri) -> ApiError {
    if let Some(code) = region_segment(uri.path()) {
        if Region::from_code(code).is_none() {
            return unknown_region(code);
        }
    }
    ApiError::not_found(format!("no route for {method} {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::method_not_allowed(format!("{method} is not allowed on {}", uri.path()))
}

#[cfg(test)]
mod route_policy_tests;

#[cfg(test)]
mod tests {
    use super::is_cross_origin_route;
    use super::layers::region_segment;

    #[test]
    fn cross_origin_routes_are_the_api_stream_and_files_only() {
        let cases = [
            ("/bcbe5a/latest/agents/list", true),
            ("/d7b62b/latest/agents/a1/get", true),
            ("/zzz/latest/x", true),
            ("/bcbe5a/v1/stream", true),
            ("/files/abc/upload", true),
            ("/files/abc/a.pdf", true),
            ("/admin/projects", false),
            ("/admin/latest/x", false),
            ("/dashboard", false),
            ("/dashboard/latest/x", false),
            ("/healthz", false),
            ("/bcbe5a/latest", false),
            ("/bcbe5a/v1/stream/x", false),
            ("/files", false),
            ("/", false),
        ];
        for (path, expected) in cases {
            assert_eq!(is_cross_origin_route(path), expected, "{path}");
        }
    }

    #[test]
    fn region_segment_is_the_first_segment_before_latest() {
        assert_eq!(region_segment("/bcbe5a/latest/agents/list"), Some("bcbe5a"));
        assert_eq!(region_segment("/zzz/latest/x"), Some("zzz"));
        assert_eq!(region_segment("/admin/projects"), None);
        assert_eq!(region_segment("/"), None);
    }
}
