//! CORS on the cross-origin routes only, with tower-http's rules built once per route.
//!
//! The rules are [`super::cors_rules`]; which routes they apply to is
//! [`super::is_cross_origin_route`]. Building a `Cors` service for every request cost
//! about a quarter of an authenticated request's time (the throughput bench), so the layer
//! wraps each route once, keeping the plain route beside the CORS-wrapped one, and each
//! request takes one of the two.

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use futures_util::future::BoxFuture;
use tower::{Layer, Service};
use tower_http::cors::Cors;

use super::{cors_rules, is_cross_origin_route};

/// Wraps each route in [`CrossOrigin`].
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct CrossOriginLayer;

impl<S: Clone> Layer<S> for CrossOriginLayer {
    type Service = CrossOrigin<S>;

    fn layer(&self, inner: S) -> CrossOrigin<S> {
        CrossOrigin {
            cors: cors_rules().layer(inner.clone()),
            plain: inner,
        }
    }
}

/// A route as it is (admin, dashboard, health) and the same route behind the CORS rules
/// (`/{region}/latest/...`, the stream, files). A preflight the rules accept is answered
/// `204 No Content` before authentication, the request log or any handler.
#[derive(Debug, Clone)]
pub(super) struct CrossOrigin<S> {
    plain: S,
    cors: Cors<S>,
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
        match self.plain.poll_ready(cx) {
            Poll::Ready(Ok(())) => self.cors.poll_ready(cx),
            other => other,
        }
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if !is_cross_origin_route(request.uri().path()) {
            return Box::pin(self.plain.call(request));
        }
        let preflight = request.method() == Method::OPTIONS;
        let answer = self.cors.call(request);
        Box::pin(async move {
            let mut response = answer.await?;
            if preflight && response.status() == StatusCode::OK {
                *response.status_mut() = StatusCode::NO_CONTENT;
            }
            Ok(response)
        })
    }
}
