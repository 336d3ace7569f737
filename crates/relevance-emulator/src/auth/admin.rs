//! The admin guard: only `Authorization: Bearer {admin token}` opens `/admin`.
//!
//! Project keys, embed keys and anything else get 401; the token is compared
//! in constant time and never accepted anywhere else.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::secret::secrets_equal;
use crate::error::ApiError;
use crate::state::AppState;

/// Middleware for every admin route.
pub(crate) async fn require_admin(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    match check(&state, request.headers().get(AUTHORIZATION)) {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

fn check(state: &AppState, header: Option<&axum::http::HeaderValue>) -> Result<(), ApiError> {
    let header = header.ok_or_else(|| {
        ApiError::unauthorized(
            "missing Authorization header; the admin API expects `Bearer {admin token}`",
        )
    })?;
    let text = std::str::from_utf8(header.as_bytes()).unwrap_or("").trim();
    let token = match text.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("bearer ") => text[7..].trim_start(),
        _ => {
            return Err(ApiError::unauthorized(
                "malformed Authorization header; the admin API expects `Bearer {admin token}`",
            ))
        }
    };
    if secrets_equal(token, state.admin_token()) {
        Ok(())
    } else {
        Err(ApiError::unauthorized(
            "invalid admin token (project and embed keys are not accepted here)",
        ))
    }
}
