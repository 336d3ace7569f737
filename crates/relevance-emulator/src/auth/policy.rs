//! Every route's access policy, declared in the route table, and the one guard
//! that enforces each (kiesraad/abacus's `.authorize(..)`, as a table).
//!
//! A route is made only through [`route`], which takes its [`Policy`]; the router
//! is built from the table ([`into_router`]) and the route × principal test walks
//! the same table, so a route without a policy cannot be written and a policy that
//! is not enforced fails that test. This module decides who may call; it never
//! looks at what the request asks for (that is the handlers' and services' part).

use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;

use super::admin::require_admin;
use super::principal::{authenticate_request, Scope};
use super::stream_auth::require_stream_token;
use crate::error::ApiError;
use crate::state::AppState;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Policy {
    /// No credential at all: health, pages, embed-key generation, file downloads.
    Public,
    /// Any valid key of the route's region: an API key or an embed key, whose scope the
    /// handler's queries then carry (an out-of-scope id is 404).
    AnyKey,
    /// A project API key; an embed key gets 403 (PROTOCOL C).
    ProjectKey,
    /// As [`Policy::ProjectKey`] when an `Authorization` header is sent; without one the
    /// request goes in with no principal, and the handler decides what an anonymous caller
    /// may do (a public tool's webhook form).
    ProjectKeyIfSent,
    /// The admin token only; anything else is 401 (PROTOCOL B).
    Admin,
    /// A streaming token in the query (`?authorization=Bearer+{token}`, PROTOCOL A8);
    /// no `Authorization` header opens it.
    StreamToken,
    /// A signed upload URL (`?sig=`); no `Authorization` header opens it (403 without the
    /// signature).
    UploadSignature,
}

/// One row of the route table: method, path, policy and handler.
pub(crate) struct Route {
    pub(crate) method: Method,
    pub(crate) path: &'static str,
    pub(crate) policy: Policy,
    handler: MethodRouter<AppState>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// A route: the only way to add one, so none exists without a policy.
pub(crate) fn route<H, T>(method: Method, path: &'static str, policy: Policy, handler: H) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone())
        .unwrap_or_else(|_| panic!("route table: {method} is not a routable method"));
    Route {
        method,
        path,
        policy,
        handler: on(filter, handler),
    }
}

impl Route {
    /// The same route with a body limit of its own (the file upload).
    pub(crate) fn body_limit(mut self, bytes: usize) -> Route {
        self.handler = self
            .handler
            .layer(axum::extract::DefaultBodyLimit::max(bytes));
        self
    }

    /// The handler behind its policy's guard (only for requests that match the method,
    /// so a wrong method is still 405).
    fn guarded(self, state: &AppState) -> MethodRouter<AppState> {
        let state = state.clone();
        match self.policy {
            // The upload's signature is part of what it uploads to: checked by its handler.
            Policy::Public | Policy::UploadSignature => self.handler,
            Policy::AnyKey => self
                .handler
                .route_layer(from_fn_with_state(state, require_any_key)),
            Policy::ProjectKey => self
                .handler
                .route_layer(from_fn_with_state(state, require_project_key)),
            Policy::ProjectKeyIfSent => self
                .handler
                .route_layer(from_fn_with_state(state, project_key_if_sent)),
            Policy::Admin => self
                .handler
                .route_layer(from_fn_with_state(state, require_admin)),
            Policy::StreamToken => self
                .handler
                .route_layer(from_fn_with_state(state, require_stream_token)),
        }
    }
}

/// The router of a route table, each route behind its policy's guard.
pub(crate) fn into_router(routes: Vec<Route>, state: &AppState) -> Router<AppState> {
    routes.into_iter().fold(Router::new(), |router, route| {
        let path = route.path;
        router.route(path, route.guarded(state))
    })
}

/// [`Policy::AnyKey`]: the header becomes a [`super::Principal`] in the request's and the
/// response's extensions, or the answer is 401.
async fn require_any_key(State(state): State<AppState>, request: Request, next: Next) -> Response {
    guard_key(&state, request, next, false).await
}

/// [`Policy::ProjectKey`]: as [`require_any_key`], and an embed key gets 403.
async fn require_project_key(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    guard_key(&state, request, next, true).await
}

/// [`Policy::ProjectKeyIfSent`]: no header, no principal; any header is checked as
/// [`require_project_key`] checks it (an empty one is the usual 401).
async fn project_key_if_sent(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request
        .headers()
        .contains_key(axum::http::header::AUTHORIZATION)
    {
        guard_key(&state, request, next, true).await
    } else {
        next.run(request).await
    }
}

async fn guard_key(
    state: &AppState,
    mut request: Request,
    next: Next,
    project_key_only: bool,
) -> Response {
    let principal = match authenticate_request(state, request.headers(), request.extensions()).await
    {
        Ok(principal) => principal,
        Err(error) => return error.into_response(),
    };
    if project_key_only && principal.scope != Scope::Project {
        return embed_key_refused().into_response();
    }
    request.extensions_mut().insert(principal.clone());
    let mut response = next.run(request).await;
    response.extensions_mut().insert(principal);
    response
}

/// The 403 of an operation an embed key may never use.
pub(crate) fn embed_key_refused() -> ApiError {
    ApiError::forbidden("this operation needs a project API key; embed keys may not use it")
}
