//! The layers every API request passes through, outermost first in the router:
//! the request log, fault injection, the JSON error net, the generic-401
//! option, the region resolver. None of them checks a credential (that is
//! `auth::policy`) or answers a resource (that is `api`).

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::admin::request_log::LoggedRequest;
use crate::admin::RequestLogSlot;
use crate::auth::redact;
use crate::error::{echo_id, ApiError, CredentialsRefused};
use crate::faults::DroppedConnection;
use crate::region::Region;
use crate::state::AppState;
use crate::time::now_iso;

pub(super) fn unknown_region(code: &str) -> ApiError {
    ApiError::not_found(format!(
        "unknown region code {}: valid region codes are {}",
        echo_id(code),
        Region::valid_codes()
    ))
}

/// The region code of a `/{region}/latest/...` path.
pub(super) fn region_segment(path: &str) -> Option<&str> {
    let mut segments = path.trim_start_matches('/').split('/');
    let region = segments.next()?;
    (segments.next() == Some("latest")).then_some(region)
}

/// Puts the route's [`Region`] into the request, or answers 404 naming the valid codes.
pub(super) async fn resolve_region(mut request: Request, next: Next) -> Response {
    let code = region_segment(request.uri().path()).unwrap_or_default();
    match Region::from_code(code) {
        Some(region) => {
            request.extensions_mut().insert(region);
            next.run(request).await
        }
        None => unknown_region(code).into_response(),
    }
}

/// An error answer with every secret it echoes redacted: a path segment that is one, and
/// any value its message quotes (every caller-supplied id is quoted, `echo_id`) that is a
/// live secret — an admin or streaming token sent as an id in a body or query.
/// Success bodies are left alone: they are streams and files, and never echo the request.
async fn redact_error_body(state: &AppState, response: Response, secrets: &[String]) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(bytes) => bytes,
        Err(_) => return Response::from_parts(parts, axum::body::Body::empty()),
    };
    let text = String::from_utf8_lossy(&bytes);
    let mut secrets = secrets.to_vec();
    secrets.extend(redact::quoted_secrets(state, &text));
    if secrets.is_empty() {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    }
    let redacted = redact::redact_all(&text, &secrets);
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(redacted))
}

/// Outermost middleware: logs every answered request, matched route or not.
pub(crate) async fn record_requests(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let method = request.method().to_string();
    // A key pasted into a path must not land in the log, the dashboard or an error body.
    let secrets = redact::secret_segments(&state, request.uri().path());
    let path = redact::redact_all(request.uri().path(), &secrets);
    let slot = RequestLogSlot::default();
    request.extensions_mut().insert(slot.clone());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let key = slot.take();
    let response = redact_error_body(&state, response, &secrets).await;
    let status_code = response.status();
    if status_code.is_server_error() {
        tracing::error!(%method, %path, status = status_code.as_u16(), "answered with a server error");
    }
    // A connection dropped by fault injection got no answer at all: status 0.
    let status = if response.extensions().get::<DroppedConnection>().is_some() {
        0
    } else {
        response.status().as_u16()
    };
    state.request_log().push(LoggedRequest {
        at: now_iso(),
        method,
        path,
        status,
        key_kind: key.as_ref().map(|(_, kind)| kind.as_str()),
        key_id: key.map(|(id, _)| id),
        latency_ms,
    });
    response
}

/// With `generic_auth_errors`, every refusal of credentials answers one message per status:
/// what failed (unknown project, wrong region, revoked key) stays on the server. Off by
/// default (README, Security notes).
pub(super) async fn generic_auth_errors(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    let refused = response.extensions().get::<CredentialsRefused>().is_some();
    if !(state.settings().generic_auth_errors && refused) {
        return response;
    }
    match response.status() {
        StatusCode::BAD_REQUEST => ApiError::unknown_key("invalid credentials").into_response(),
        StatusCode::UNAUTHORIZED => ApiError::unauthorized("invalid credentials").into_response(),
        _ => response,
    }
}

/// Safety net: any error answer that is not JSON yet (an axum rejection we did not wrap)
/// becomes `{"message", "error_type"}` with the same status.
pub(super) async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
    let text = axum::body::to_bytes(response.into_body(), 1024)
        .await
        .ok()
        .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok())
        .filter(|text| !text.trim().is_empty())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
    let mut response = (
        status,
        Json(json!({ "message": text, "error_type": crate::error::UNSET })),
    )
        .into_response();
    if let Some(retry_after) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, retry_after);
    }
    response
}
