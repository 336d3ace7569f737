//! Lenient request extractors: JSON whatever the `Content-Type`, path /
//! query rejections turned into the JSON [`ApiError`] shape, and the route's
//! [`RouteRegion`].
//!
//! The official clients send JSON bodies as `text/plain` (or with no body at
//! all, meaning `{}`), which axum's own `Json` refuses with 415.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::region::Region;
use crate::state::AppState;

/// A JSON body, parsed whatever the content type says; an empty body is `{}`.
#[derive(Debug, Clone)]
pub(crate) struct LenientJson<T>(pub(crate) T);

impl<T: DeserializeOwned> FromRequest<AppState> for LenientJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let bytes = read_body(request, state).await?;
        parse_body(&bytes).map(LenientJson)
    }
}

/// The body's bytes; over the limit is 413 naming it.
async fn read_body(request: Request, state: &AppState) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::payload_too_large(state.body_limit_bytes())
            } else {
                ApiError::bad_request(format!(
                    "could not read the request body: {}",
                    rejection.body_text()
                ))
            }
        })
}

/// Any JSON value (an object, an array, a string...), whatever the content type says: a
/// webhook's payload. An empty body or one that is not JSON is a 400 saying so (serde's
/// syntax errors name a position, never the text).
#[derive(Debug, Clone)]
pub(crate) struct AnyJson(pub(crate) serde_json::Value);

impl FromRequest<AppState> for AnyJson {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let bytes = read_body(request, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_request(
                "the payload is empty: send a JSON body (e.g. {\"event\": \"...\"})",
            ));
        }
        serde_json::from_slice(&bytes)
            .map(AnyJson)
            .map_err(|error| {
                ApiError::bad_request(format!("the payload is not valid JSON: {error}"))
            })
    }
}

/// The byte a JSON object starts with (`{`).
const OPEN_BRACE: u8 = 0x7B;

/// Parses a body, naming the offending field (never echoing a value) when it does not fit `T`.
pub(crate) fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    // serde would read a struct from an array positionally (`[20, 1]`); the platform's
    // bodies are objects, so anything else is refused before it can be misread.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&OPEN_BRACE) {
        let message = match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
            Err(error) => format!("request body is not valid JSON: {error}"),
            Ok(_) => "request body must be a JSON object".to_string(),
        };
        return Err(ApiError::bad_request(message));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(describe)?;
    deserializer.end().map_err(|error| {
        ApiError::bad_request(format!("request body is not valid JSON: {error}"))
    })?;
    Ok(value)
}

fn describe(error: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = error.path().to_string();
    let inner = error.into_inner();
    if !inner.is_data() {
        return ApiError::bad_request(format!("request body is not valid JSON: {inner}"));
    }
    let position = format!(" at line {} column {}", inner.line(), inner.column());
    let full = inner.to_string();
    let message = full.strip_suffix(&position).unwrap_or(&full);
    if message.starts_with("missing field") {
        return ApiError::bad_request(format!("{message} in the request body"));
    }
    // serde's text is "invalid type: string \"<value>\", expected ..."; the value may be a
    // secret pasted in the wrong field, so only the expectation is kept.
    let expected = message
        .split_once(", expected ")
        .map(|(_, expected)| expected)
        .unwrap_or("a different value");
    if path == "." {
        return ApiError::bad_request(format!(
            "request body has the wrong shape: expected {expected}{position}"
        ));
    }
    ApiError::bad_request(format!(
        "field `{path}` has the wrong type or value: expected {expected}{position}"
    ))
}

/// Path parameters; a rejection becomes a JSON 400.
#[derive(Debug, Clone)]
pub(crate) struct ApiPath<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| ApiPath(value))
            .map_err(|rejection| {
                ApiError::bad_request(format!("invalid path: {}", rejection.body_text()))
            })
    }
}

/// Query parameters; a rejection becomes a JSON 400.
#[derive(Debug, Clone)]
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(|rejection| {
                ApiError::bad_request(format!("invalid query string: {}", rejection.body_text()))
            })
    }
}

/// The region of the matched API route.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RouteRegion(pub(crate) Region);

impl<S: Send + Sync> FromRequestParts<S> for RouteRegion {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Region>()
            .copied()
            .map(RouteRegion)
            .ok_or_else(|| {
                ApiError::internal("route is missing its region; this is an emulator bug")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Page {
        #[serde(default)]
        page_size: Option<u32>,
        #[allow(dead_code)]
        name: Option<String>,
    }

    fn message(error: ApiError) -> String {
        format!("{error:?}")
    }

    #[test]
    fn bodies() {
        let page: Page = parse_body(b"").expect("empty body is {}");
        assert_eq!(page.page_size, None);
        let page: Page = parse_body(b" \n").expect("whitespace body is {}");
        assert_eq!(page.page_size, None);
        let page: Page = parse_body(br#"{"page_size": 5}"#).expect("valid");
        assert_eq!(page.page_size, Some(5));

        let wrong_type = parse_body::<Page>(br#"{"page_size": "sk-secret"}"#).unwrap_err();
        let text = message(wrong_type);
        assert!(text.contains("`page_size`"), "{text}");
        assert!(!text.contains("sk-secret"), "{text}");

        let invalid = parse_body::<Page>(b"{nope").unwrap_err();
        assert!(message(invalid).contains("not valid JSON"));
        let trailing = parse_body::<Page>(b"{} x").unwrap_err();
        assert!(message(trailing).contains("not valid JSON"));
        let array = parse_body::<Page>(b"[]").unwrap_err();
        assert!(message(array).contains("JSON object"));
        let not_json = parse_body::<Page>(b"nope").unwrap_err();
        assert!(message(not_json).contains("not valid JSON"));
    }
}
