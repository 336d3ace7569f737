//! CORS on the cross-origin routes only: tower-http's rules answer preflights, and a simple
//! request's answer gets the same two headers those rules would add.
//!
//! The rules are [`super::cors_rules`]; which routes they apply to is
//! [`super::is_cross_origin_route`]. Why not tower-http's `Cors` on every request: axum
//! clones a route's service for each request, and a `Cors` service carries the whole rule
//! set and builds a header map per call; the throughput bench measured that at about a
//! tenth of an authenticated request's time. A simple request's CORS answer is constant
//! here (any origin, no credentials, no `Vary`), so it is two header inserts, and the part
//! with real rules — preflights — stays with tower-http. The two must agree:
//! `simple_answers_carry_what_tower_http_would_add` checks them against each other.

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;
use futures_util::future::BoxFuture;
use tower::{Layer, Service, ServiceExt};

use super::{cors_rules, is_cross_origin_route};

/// `Access-Control-Allow-Origin` on every cross-origin answer: any page may read it.
const ANY_ORIGIN: HeaderValue = HeaderValue::from_static("*");
/// `Access-Control-Expose-Headers`: a 429's `retry-after` is not a safelisted header.
const EXPOSED: HeaderValue = HeaderValue::from_static("retry-after");

/// Wraps each route in [`CrossOrigin`].
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct CrossOriginLayer;

impl<S> Layer<S> for CrossOriginLayer {
    type Service = CrossOrigin<S>;

    fn layer(&self, inner: S) -> CrossOrigin<S> {
        CrossOrigin { inner }
    }
}

/// A route as it is for admin, dashboard and health paths; with CORS for
/// `/{region}/latest/...`, the stream and files. A preflight the rules accept is answered
/// `204 No Content` before authentication, the request log or any handler.
#[derive(Debug, Clone)]
pub(super) struct CrossOrigin<S> {
    inner: S,
}

impl<S> Service<Request> for CrossOrigin<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if !is_cross_origin_route(request.uri().path()) {
            return Box::pin(self.inner.call(request));
        }
        if request.method() == Method::OPTIONS {
            // Rare (a browser keeps a preflight ten minutes), so the rules wrap a clone here.
            let cors = cors_rules().layer(self.inner.clone());
            return Box::pin(async move {
                let mut response = cors.oneshot(request).await?;
                if response.status() == StatusCode::OK {
                    *response.status_mut() = StatusCode::NO_CONTENT;
                }
                Ok(response)
            });
        }
        let answer = self.inner.call(request);
        Box::pin(async move {
            let mut response = answer.await?;
            let headers = response.headers_mut();
            headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, ANY_ORIGIN);
            headers.insert(ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSED);
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::HeaderMap;
    use tower::service_fn;

    use super::*;

    async fn empty_answer(_: Request) -> Result<Response, Infallible> {
        Ok(Response::new(Body::empty()))
    }

    fn simple_request(origin: Option<&str>) -> Request {
        let mut builder = Request::get("/us/latest/agents/a/get");
        if let Some(origin) = origin {
            builder = builder.header("origin", origin);
        }
        builder.body(Body::empty()).expect("request")
    }

    fn cors_headers(headers: &HeaderMap) -> Vec<(String, String)> {
        let mut found: Vec<(String, String)> = headers
            .iter()
            .filter(|(name, _)| name.as_str().starts_with("access-control-") || *name == "vary")
            .map(|(name, value)| (name.to_string(), value.to_str().unwrap_or("?").to_string()))
            .collect();
        found.sort();
        found
    }

    /// The hand-set headers are what tower-http's rules add to the same answer, with and
    /// without an `Origin`; a change to [`cors_rules`] that changes them fails here.
    #[tokio::test]
    async fn simple_answers_carry_what_tower_http_would_add() {
        for origin in [Some("https://shop.example"), None] {
            let ours = CrossOriginLayer
                .layer(service_fn(empty_answer))
                .oneshot(simple_request(origin))
                .await
                .expect("answer");
            let theirs = cors_rules()
                .layer(service_fn(empty_answer))
                .oneshot(simple_request(origin))
                .await
                .expect("answer");
            assert_eq!(
                cors_headers(ours.headers()),
                cors_headers(theirs.headers()),
                "origin {origin:?}"
            );
            assert!(!cors_headers(ours.headers()).is_empty());
        }
    }
}
