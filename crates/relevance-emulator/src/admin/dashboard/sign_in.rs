//! Signing in with the admin token (form or one-click link) and signing out.
//!
//! Only the admin token opens a session; it is compared in constant time. A
//! project or embed key is refused like any wrong token, and an admin token
//! that is also stored as a key (a misconfiguration) is refused too, so a
//! key can never double as the admin token.

use std::collections::HashMap;

use axum::extract::rejection::FormRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use maud::html;

use super::html::{Chrome, Page};
use super::session::{cleared_cookie, session_cookie, SignedIn};
use super::{checked_form, DashboardState, PageError, SIGN_IN_PATH};
use crate::auth::secret::secrets_equal;
use crate::service::keys;

/// `GET /dashboard/sign-in`: the form, or with `?token=` the one-click sign-in.
pub(crate) async fn form_or_link(
    State(state): State<DashboardState>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    match query
        .as_ref()
        .ok()
        .and_then(|Query(query)| query.get("token"))
    {
        Some(token) => attempt(&state, token).await,
        None => Ok(sign_in_page(StatusCode::OK, None).into_response()),
    }
}

/// `POST /dashboard/sign-in` with the `token` field.
pub(crate) async fn submit(
    State(state): State<DashboardState>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, PageError> {
    let token = form
        .ok()
        .and_then(|Form(fields)| fields.get("token").cloned())
        .unwrap_or_default();
    attempt(&state, &token).await
}

/// `POST /dashboard/sign-out` (CSRF-checked): ends the session, clears the cookie.
pub(crate) async fn sign_out(
    State(state): State<DashboardState>,
    session: SignedIn,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, PageError> {
    checked_form(&session, form)?;
    state.sessions.close(session.id());
    let mut response = Redirect::to(SIGN_IN_PATH).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cleared_cookie());
    Ok(response)
}

async fn attempt(state: &DashboardState, token: &str) -> Result<Response, PageError> {
    let token = token.trim();
    if token.is_empty() || !secrets_equal(token, state.app.admin_token()) {
        return Ok(sign_in_page(
            StatusCode::UNAUTHORIZED,
            Some(
                "That is not the admin token. Use the token the emulator printed at start-up \
                 (project API keys and embed keys are not accepted here).",
            ),
        )
        .into_response());
    }
    let also_a_key = keys::is_stored_key(&state.app, token).await?;
    if also_a_key {
        return Ok(sign_in_page(
            StatusCode::UNAUTHORIZED,
            Some(
                "The admin token is also stored as a project key, so it cannot open the \
                 dashboard. Restart the emulator with a different --admin-token.",
            ),
        )
        .into_response());
    }
    let id = state.sessions.open();
    let mut response = Redirect::to("/dashboard").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&id));
    Ok(response)
}

/// The sign-in form, with an error above it after a refused attempt.
fn sign_in_page(status: StatusCode, error: Option<&str>) -> Page {
    let body = html! {
        @if let Some(message) = error {
            div.card.error id="sign-in-error" { (message) }
        }
        div.card {
            p {
                "Paste the admin token the emulator printed at start-up (or open the \
                 one-click sign-in link it printed)."
            }
            form method="post" action=(SIGN_IN_PATH) class="row" {
                label {
                    "Admin token"
                    input type="password" name="token" id="token" autocomplete="off" autofocus required;
                }
                button type="submit" id="sign-in" { "Sign in" }
            }
        }
    };
    Page::with_status(status, Chrome::SignedOut, "Sign in", body)
}
