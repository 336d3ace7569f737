//! The live stream's credential check: `?authorization=Bearer+{token}` → the
//! token's [`StreamGrant`] → the key it was issued to is still active, or 401.
//!
//! This is the guard of every [`super::Policy::StreamToken`] route, and the
//! recheck an open stream makes after each revocation. It never reads an
//! `Authorization` header: a browser's `EventSource` cannot send one.

use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::stream_token::StreamGrant;
use crate::admin::RequestLogSlot;
use crate::error::{echo_id, ApiError};
use crate::json::ApiQuery;
use crate::region::Region;
use crate::state::AppState;
use crate::store::keys;
use crate::time::now_ms;

#[derive(Debug, Deserialize)]
struct StreamQuery {
    #[serde(default)]
    authorization: Option<String>,
}

/// The token of `Bearer {token}` (the query's `+` arrives as a space); a bare token is
/// accepted too, since nothing else could be meant.
fn token_of(authorization: Option<&str>) -> Result<&str, ApiError> {
    let value = authorization.unwrap_or_default().trim_start();
    let token = match value.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("bearer ") => &value[7..],
        _ => value,
    }
    .trim();
    if token.is_empty() {
        return Err(ApiError::unauthorized(
            "missing streaming token: expected `?authorization=Bearer+{token}` with the \
             `streaming_token.token` of the task's metadata",
        ));
    }
    Ok(token)
}

/// The region code of a `/{region}/v1/stream` path.
fn stream_region(path: &str) -> &str {
    path.trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default()
}

/// The grant of the request's streaming token, checked in this order: the query parses
/// (400), the region exists (404), the token is present, minted here, unexpired and of
/// this region (401), and its key is not revoked (401).
async fn check(state: &AppState, request: Request) -> Result<(Request, StreamGrant), ApiError> {
    let (mut parts, body) = request.into_parts();
    let ApiQuery(query) = ApiQuery::<StreamQuery>::from_request_parts(&mut parts, state).await?;
    let code = stream_region(parts.uri.path());
    let region = Region::from_code(code).ok_or_else(|| {
        ApiError::not_found(format!(
            "unknown region code {}: valid region codes are {}",
            echo_id(code),
            Region::valid_codes()
        ))
    })?;
    let token = token_of(query.authorization.as_deref())?;
    let grant = state.stream_tokens().check(token, region, now_ms())?;
    if !key_still_active(state, &grant.key_id).await? {
        return Err(ApiError::unauthorized(
            "the key this streaming token was issued to has been revoked",
        ));
    }
    Ok((Request::from_parts(parts, body), grant))
}

/// Whether the key a stream's token was issued to is still active (the store decides).
pub(crate) async fn key_still_active(state: &AppState, key_id: &str) -> Result<bool, ApiError> {
    let key_id = key_id.to_string();
    Ok(state
        .store()
        .call(move |connection| keys::is_active(connection, &key_id))
        .await?)
}

/// [`super::Policy::StreamToken`]: the grant goes into the request's extensions and the
/// request log learns its key; otherwise the answer is the refusal.
pub(crate) async fn require_stream_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (mut request, grant) = match check(&state, request).await {
        Ok(checked) => checked,
        Err(error) => return error.into_response(),
    };
    if let Some(slot) = request.extensions().get::<RequestLogSlot>() {
        slot.set(grant.key_id.clone(), grant.key_kind);
    }
    request.extensions_mut().insert(grant);
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_comes_after_an_optional_bearer() {
        let cases = [
            (Some("Bearer st-abc"), Some("st-abc")),
            (Some("bearer   st-abc "), Some("st-abc")),
            (Some("st-abc"), Some("st-abc")),
            (Some("Bearer "), None),
            (Some(""), None),
            (None, None),
        ];
        for (input, expected) in cases {
            assert_eq!(token_of(input).ok(), expected, "{input:?}");
        }
    }
}
