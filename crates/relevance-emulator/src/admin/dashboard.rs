//! The admin dashboard: server-rendered pages under `/dashboard` for the
//! operator who holds the admin token.
//!
//! Sign-in trades the admin token for a session cookie ([`session`]); every
//! page needs that session ([`session::SignedIn`] redirects to sign-in
//! without one) and every POST form carries the session's CSRF token, checked
//! here in [`checked_form`] before any handler changes anything. Pages are
//! `maud` templates with inline CSS and no script: the layout and shared
//! fragments in [`html`], one function per page in [`templates`] and
//! [`key_templates`]. Handlers parse, call one use case of
//! [`crate::service::keys`] or [`crate::service::overview`] (the same the
//! admin API calls, so a key revoked here fails on the very next API
//! request), and render. This module never renders a key's value except on the
//! one page that answers the request creating it.

mod html;
mod key_templates;
mod keys;
mod knowledge;
mod knowledge_templates;
mod messages;
mod pages;
mod requests;
mod session;
mod sign_in;
mod task_actions;
mod templates;
mod tool_templates;
mod tools;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};

use crate::engine::decision::DecisionError;
use crate::service::jobs::JobError;
use crate::service::overview::OperatorError;
use crate::service::tools::ToolServiceError;
use crate::service::ServiceError;
use crate::state::AppState;
use crate::store::StoreError;

use html::{Chrome, Page};
use maud::html;
use session::{Sessions, SignedIn};

/// Where a browser without a session is sent.
pub(crate) const SIGN_IN_PATH: &str = "/dashboard/sign-in";

/// Forms are small; anything bigger is not from these pages.
const FORM_LIMIT_BYTES: usize = 64 * 1024;

/// The app's state plus the dashboard's sessions.
#[derive(Clone)]
pub(crate) struct DashboardState {
    app: AppState,
    sessions: Arc<Sessions>,
}

impl std::fmt::Debug for DashboardState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DashboardState")
            .field("app", &self.app)
            .finish_non_exhaustive()
    }
}

/// The dashboard's routes, with their own state, ready to merge into the app.
///
/// They are merged outside the request log and the JSON-error layer: page
/// views are not API traffic, and their errors are HTML pages.
pub(crate) fn routes(app: AppState) -> Router<AppState> {
    let state = DashboardState {
        app,
        sessions: Arc::new(Sessions::default()),
    };
    Router::new()
        .route(
            SIGN_IN_PATH,
            get(sign_in::form_or_link).post(sign_in::submit),
        )
        .route(
            "/dashboard/sign-out",
            axum::routing::post(sign_in::sign_out),
        )
        .route("/dashboard", get(pages::projects))
        .route("/dashboard/", get(pages::projects))
        .route("/dashboard/requests", get(requests::log))
        .route("/dashboard/projects/{project}", get(pages::project))
        .route(
            "/dashboard/projects/{project}/keys",
            get(keys::list).post(keys::create),
        )
        .route(
            "/dashboard/projects/{project}/keys/{key_id}/revoke",
            get(keys::confirm_revoke).post(keys::revoke),
        )
        .route(
            "/dashboard/projects/{project}/agents/{agent_id}",
            get(pages::agent),
        )
        .route(
            "/dashboard/projects/{project}/agents/{agent_id}/visibility",
            axum::routing::post(pages::set_visibility),
        )
        .route(
            "/dashboard/projects/{project}/workforces/{workforce_id}",
            get(pages::workforce),
        )
        .route(
            "/dashboard/projects/{project}/tasks/{task_id}",
            get(pages::task),
        )
        .route(
            "/dashboard/projects/{project}/tasks/{task_id}/approve",
            axum::routing::post(task_actions::approve),
        )
        .route(
            "/dashboard/projects/{project}/tasks/{task_id}/reject",
            axum::routing::post(task_actions::reject),
        )
        .route(
            "/dashboard/projects/{project}/tasks/{task_id}/delete",
            get(task_actions::confirm_delete).post(task_actions::delete),
        )
        .route(
            "/dashboard/projects/{project}/workforces/{workforce_id}/tasks/{task_id}",
            get(pages::workforce_task),
        )
        .merge(tool_and_knowledge_routes())
        .layer(DefaultBodyLimit::max(FORM_LIMIT_BYTES))
        .layer(axum::middleware::map_response(html::security_headers))
        .with_state(state)
}

/// The tool pages (a run, recent jobs, cancel) and the knowledge pages.
fn tool_and_knowledge_routes() -> Router<DashboardState> {
    Router::new()
        .route("/dashboard/knowledge", get(knowledge::list))
        .route(
            "/dashboard/projects/{project}/knowledge/{set}",
            get(knowledge::set_page),
        )
        .route(
            "/dashboard/projects/{project}/knowledge/{set}/delete",
            axum::routing::post(knowledge::delete_set),
        )
        .route(
            "/dashboard/projects/{project}/knowledge/{set}/rows/{document_id}/delete",
            axum::routing::post(knowledge::delete_row),
        )
        .route("/dashboard/tools", get(tools::list))
        .route(
            "/dashboard/projects/{project}/tools/{tool_id}",
            get(tools::page).post(tools::run),
        )
        .route(
            "/dashboard/projects/{project}/tools/{tool_id}/jobs/{job_id}/cancel",
            post(tools::cancel_job),
        )
}

/// The one-click sign-in path for `token` (the CLI prints it with the base URL in front).
pub(crate) fn sign_in_path(token: &str) -> String {
    format!("{SIGN_IN_PATH}?token={}", html::seg(token))
}

/// A page that could not be shown, rendered as an HTML error page.
#[derive(Debug)]
pub(crate) struct PageError {
    status: StatusCode,
    message: String,
    csrf: Option<String>,
}

impl PageError {
    fn new(status: StatusCode, message: impl Into<String>) -> PageError {
        PageError {
            status,
            message: message.into(),
            csrf: None,
        }
    }

    pub(crate) fn not_found(message: impl Into<String>) -> PageError {
        PageError::new(StatusCode::NOT_FOUND, message)
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> PageError {
        PageError::new(StatusCode::BAD_REQUEST, message)
    }

    /// Keeps the navigation (with sign-out) on the error page of a signed-in user.
    pub(crate) fn for_session(mut self, session: &SignedIn) -> PageError {
        self.csrf = Some(session.csrf().to_string());
        self
    }
}

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> PageError {
        tracing::error!(%error, "dashboard store access failed");
        PageError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the emulator's database failed; see the emulator's log",
        )
    }
}

impl From<OperatorError> for PageError {
    fn from(error: OperatorError) -> PageError {
        match error {
            OperatorError::ProjectNotFound { .. } => PageError::not_found("no such project"),
            OperatorError::KeyNotFound { .. } | OperatorError::KeyValueNotFound => {
                PageError::not_found("no such key in this project")
            }
            OperatorError::AgentNotFound { .. } => {
                PageError::not_found("no such agent in this project")
            }
            OperatorError::WorkforceNotFound { .. } => {
                PageError::not_found("no such workforce in this project")
            }
            OperatorError::TaskNotFound { .. } => {
                PageError::not_found("no such task in this project")
            }
            OperatorError::Store(error) => error.into(),
        }
    }
}

impl From<ServiceError> for PageError {
    fn from(error: ServiceError) -> PageError {
        match error {
            ServiceError::AgentNotFound { .. } => {
                PageError::not_found("no such agent in this project")
            }
            ServiceError::TaskNotFound { .. }
            | ServiceError::KnowledgeSetNotFound { .. }
            | ServiceError::WorkforceTaskNotFound { .. } => {
                PageError::not_found("no such task in this project")
            }
            ServiceError::WorkforceNotFound { .. } => {
                PageError::not_found("no such workforce in this project")
            }
            ServiceError::Decision(DecisionError::Store(error)) => {
                tracing::error!(%error, "dashboard decision failed in the database");
                PageError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the emulator's database failed; see the emulator's log",
                )
            }
            ServiceError::Decision(refused) => {
                PageError::bad_request(format!("{refused}; nothing was changed"))
            }
            ServiceError::NotAUserMessage { .. }
            | ServiceError::NotAnAgentMessage { .. }
            | ServiceError::NoTurn
            | ServiceError::ExternalIdElsewhere { .. }
            | ServiceError::TaskId(_) => {
                PageError::bad_request("the request named a message or task id it may not")
            }
            ServiceError::Engine(problem) => {
                tracing::error!(error = %problem, "the engine could not run a task's agent");
                PageError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the emulator could not run this task's agent; see its log",
                )
            }
            ServiceError::Store(error) => error.into(),
        }
    }
}

impl From<ToolServiceError> for PageError {
    fn from(error: ToolServiceError) -> PageError {
        match error {
            ToolServiceError::NotFound { .. } => {
                PageError::not_found("no such tool in this project")
            }
            ToolServiceError::Invalid(problem) => PageError::bad_request(problem),
            ToolServiceError::Store(error) => error.into(),
        }
    }
}

impl From<JobError> for PageError {
    fn from(error: JobError) -> PageError {
        match error {
            JobError::NotFound { .. } => PageError::not_found("no such job of this tool"),
            JobError::Tool(error) => error.into(),
            JobError::Store(error) => error.into(),
            JobError::IdTaken { .. } | JobError::TooMany { .. } | JobError::AgentJob { .. } => {
                PageError::bad_request("this job cannot be changed from here")
            }
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let chrome = match &self.csrf {
            Some(csrf) => Chrome::SignedIn { csrf },
            None => Chrome::SignedOut,
        };
        let title = self.status.canonical_reason().unwrap_or("Error");
        let body = html! {
            div.card.error {
                p { (self.message) }
                p { a href="/dashboard" { "Back to the projects" } }
            }
        };
        Page::with_status(self.status, chrome, title, body).into_response()
    }
}

/// A submitted form whose CSRF token matched the session's.
#[derive(Debug)]
pub(crate) struct CheckedForm(HashMap<String, String>);

impl CheckedForm {
    /// A field's value, if sent.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// Refuses (403, nothing changed) a form without this session's CSRF token,
/// and (400) one that is not a URL-encoded form at all.
pub(crate) fn checked_form(
    session: &SignedIn,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<CheckedForm, PageError> {
    let Form(fields) = form.map_err(|rejection| {
        PageError::bad_request(format!(
            "the form could not be read: {}",
            rejection.body_text()
        ))
        .for_session(session)
    })?;
    if !session.csrf_matches(fields.get("csrf").map(String::as_str)) {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            "this form did not carry a valid CSRF token for your session (it may come from \
             another site, or from before you signed in again); nothing was changed",
        )
        .for_session(session));
    }
    Ok(CheckedForm(fields))
}
