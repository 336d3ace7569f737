//! `ApiError`: every failure an HTTP client can see, as a status and
//! `{"message", "error_type"}` — the live platform's error envelope (PROTOCOL C).
//!
//! Handlers, extractors and middleware all fail through this one type so that
//! every error body has the same JSON shape. Messages are written for the
//! person debugging a client; they must never contain a key value.
//!
//! The platform's `error_type`s that are known are `authorization_header_missing`
//! (401, no credentials) and `unset_error_type` (everything else, the unknown-key
//! 400 included); the emulator uses no others, so a client that reads the type sees
//! what it would see there.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::store::StoreError;

/// The platform's `error_type` for a request without credentials.
pub(crate) const HEADER_MISSING: &str = "authorization_header_missing";
/// The platform's `error_type` for every other error it has measured.
pub(crate) const UNSET: &str = "unset_error_type";

/// Marks an answer that refused the caller's credentials (missing, unknown, revoked, of
/// another project or region), whatever its status, so the generic-errors option can find
/// it without reading bodies.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CredentialsRefused;

/// An error answer: status code, message, the platform's `error_type`, and for 429 the
/// seconds to wait.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
    error_type: &'static str,
    retry_after_seconds: Option<u64>,
    credentials_refused: bool,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            error_type: UNSET,
            retry_after_seconds: None,
            credentials_refused: false,
        }
    }

    /// 401 `authorization_header_missing`: no credentials at all, as the platform answers.
    pub(crate) fn header_missing(message: impl Into<String>) -> ApiError {
        // Not marked as a refusal: there is nothing for the generic-errors option to hide.
        ApiError {
            error_type: HEADER_MISSING,
            ..ApiError::new(StatusCode::UNAUTHORIZED, message)
        }
    }

    /// 400 `unset_error_type` whose message begins `User key`: credentials that name no
    /// live key of that project in that region — the live platform's answer (PROTOCOL C).
    /// `detail` says which of project, region or key is wrong; never a secret.
    pub(crate) fn unknown_key(detail: impl std::fmt::Display) -> ApiError {
        ApiError {
            credentials_refused: true,
            ..ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("User key not found: {detail}"),
            )
        }
    }

    /// 400: the body, query or path is malformed.
    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 401: credentials that are not a project key's are refused (the admin token, a
    /// streaming token): what the platform answers there is not measured, so these keep
    /// the plain 401.
    pub(crate) fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError {
            credentials_refused: true,
            ..ApiError::new(StatusCode::UNAUTHORIZED, message)
        }
    }

    /// 403: the key is valid but its kind may never perform this operation.
    pub(crate) fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, message)
    }

    /// 404: absent, or outside the caller's scope (the two must look identical).
    pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    /// 405: the path exists but not with this method.
    pub(crate) fn method_not_allowed(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, message)
    }

    /// 413: the body is over the configured limit.
    pub(crate) fn payload_too_large(limit_bytes: usize) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body is larger than the limit of {limit_bytes} bytes"),
        )
    }

    /// 413 naming which limit a request is over (rows, bytes of a row) and its setting.
    pub(crate) fn payload_too_large_because(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, message)
    }

    /// 429 with `Retry-After`.
    pub(crate) fn too_many_requests(
        message: impl Into<String>,
        retry_after_seconds: u64,
    ) -> ApiError {
        ApiError {
            retry_after_seconds: Some(retry_after_seconds),
            ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, message)
        }
    }

    /// 500: something on the emulator's side broke; details go to the log, not the client.
    pub(crate) fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        tracing::error!(%error, "database failure while answering a request");
        ApiError::internal("the emulator's database failed; see the emulator's log")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(serde_json::json!({
            "message": self.message,
            "error_type": self.error_type,
        }));
        let mut response = (self.status, body).into_response();
        if self.credentials_refused {
            response.extensions_mut().insert(CredentialsRefused);
        }
        if let Some(seconds) = self.retry_after_seconds {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Quotes a caller-supplied id (project, agent, workforce) for a message.
///
/// Ids are not secret, but a caller who swaps the halves of `{project}:{key}`
/// or pastes a key into an id field would see the key echoed back: a value
/// that looks like a key is therefore never shown.
pub(crate) fn echo_id(value: &str) -> String {
    const MAX_CHARS: usize = 80;
    if value.starts_with("sk-") || value.starts_with("ek-") {
        return "(not shown: it looks like a key; ids go first, as `{project}:{key}`)".to_string();
    }
    let mut shown: String = value
        .chars()
        .take(MAX_CHARS)
        .flat_map(char::escape_default)
        .collect();
    if value.chars().count() > MAX_CHARS {
        shown.push('…');
    }
    format!("'{shown}'")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_quoted_and_key_lookalikes_hidden() {
        assert_eq!(echo_id("proj-a"), "'proj-a'");
        assert!(!echo_id("sk-secret").contains("secret"));
        assert!(!echo_id("ek-secret").contains("secret"));
        assert_eq!(echo_id("a\nb"), "'a\\nb'");
        assert!(echo_id(&"x".repeat(200)).ends_with("…'"));
    }
}
