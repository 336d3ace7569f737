//! The tool pages: every project's tools, one tool, and running it with JSON params.
//!
//! A run goes through [`service::tools::run`](crate::service::tools::run), the use case
//! behind `studios/{id}/trigger_limited`, with the operator's principal, and the time is
//! measured around it as that route measures it, so what this page shows is what the
//! API would have answered. Params that are not JSON are refused here, before anything
//! runs. Markup is in [`super::tool_templates`].

use std::collections::HashMap;

use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde_json::{Map, Value};

use super::html::Page;
use super::session::SignedIn;
use super::tool_templates::{self, RunShown};
use super::{checked_form, DashboardState, PageError};
use crate::auth::Principal;
use crate::service::jobs::{self, JobSummary};
use crate::service::tools::ToolView;
use crate::service::{overview, tools};

type ToolPath = Result<Path<(String, String)>, PathRejection>;

/// What the run form starts with.
const EMPTY_PARAMS: &str = "{}";

/// `GET /dashboard/tools`
pub(crate) async fn list(
    State(state): State<DashboardState>,
    session: SignedIn,
) -> Result<Response, PageError> {
    let projects = overview::all_tools(&state.app)
        .await
        .map_err(|error| PageError::from(error).for_session(&session))?;
    let body = tool_templates::list(&projects);
    Ok(Page::new(session.chrome(), "Tools", body).into_response())
}

/// The tool the path names, with the operator's principal in its project.
async fn tool_of(
    state: &DashboardState,
    session: &SignedIn,
    path: ToolPath,
) -> Result<(Principal, ToolView), PageError> {
    let Path((project, tool_id)) =
        path.map_err(|_| PageError::not_found("no such tool").for_session(session))?;
    let principal = overview::acting_in(&state.app, &project)
        .await
        .map_err(|error| PageError::from(error).for_session(session))?;
    let tool = tools::get(&state.app, &principal, &tool_id)
        .await
        .map(ToolView::from)
        .map_err(|error| PageError::from(error).for_session(session))?;
    Ok((principal, tool))
}

/// How many of a tool's jobs its page lists.
const RECENT_JOBS: i64 = 20;

fn tool_page(
    session: &SignedIn,
    status: StatusCode,
    tool: &ToolView,
    params_text: &str,
    shown: &RunShown,
    jobs: &[JobSummary],
) -> Response {
    let body = tool_templates::tool(
        &tool.project,
        session.csrf(),
        tool,
        params_text,
        shown,
        jobs,
    );
    let title = format!("Tool {}", tool.id);
    Page::with_status(status, session.chrome(), &title, body).into_response()
}

/// `GET /dashboard/projects/{project}/tools/{tool_id}`
pub(crate) async fn page(
    State(state): State<DashboardState>,
    session: SignedIn,
    path: ToolPath,
) -> Result<Response, PageError> {
    let (principal, tool) = tool_of(&state, &session, path).await?;
    let jobs = recent_jobs(&state, &session, &principal, &tool.id).await?;
    Ok(tool_page(
        &session,
        StatusCode::OK,
        &tool,
        EMPTY_PARAMS,
        &RunShown::Nothing,
        &jobs,
    ))
}

/// The form's `params` as JSON: blank is `{}` (as `trigger_limited` without params);
/// anything else must parse, or the answer says where it does not.
fn parse_params(text: &str) -> Result<Value, String> {
    if text.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    serde_json::from_str(text).map_err(|error| format!("the params are not valid JSON: {error}"))
}

/// `POST /dashboard/projects/{project}/tools/{tool_id}` (`params`, `csrf`): runs the tool
/// and shows its outcome under the form (400 and nothing run for malformed JSON).
pub(crate) async fn run(
    State(state): State<DashboardState>,
    session: SignedIn,
    path: ToolPath,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, PageError> {
    let form = checked_form(&session, form)?;
    let (principal, tool) = tool_of(&state, &session, path).await?;
    let text = form.get("params").unwrap_or("").to_string();
    let params = match parse_params(&text) {
        Ok(params) => params,
        Err(problem) => {
            let shown = RunShown::Refused(problem);
            let jobs = recent_jobs(&state, &session, &principal, &tool.id).await?;
            return Ok(tool_page(
                &session,
                StatusCode::BAD_REQUEST,
                &tool,
                &text,
                &shown,
                &jobs,
            ));
        }
    };
    let started = std::time::Instant::now();
    let outcome = tools::run(&state.app, &principal, &tool.id, params)
        .await
        .map_err(|error| PageError::from(error).for_session(&session))?;
    let execution_ms = started.elapsed().as_secs_f64() * 1000.0;
    let shown = RunShown::Ran(outcome, execution_ms);
    let jobs = recent_jobs(&state, &session, &principal, &tool.id).await?;
    Ok(tool_page(
        &session,
        StatusCode::OK,
        &tool,
        &text,
        &shown,
        &jobs,
    ))
}

async fn recent_jobs(
    state: &DashboardState,
    session: &SignedIn,
    principal: &Principal,
    tool_id: &str,
) -> Result<Vec<JobSummary>, PageError> {
    jobs::recent(&state.app, principal, tool_id, RECENT_JOBS)
        .await
        .map_err(|error| PageError::from(error).for_session(session))
}

/// `POST /dashboard/projects/{project}/tools/{tool_id}/jobs/{job_id}/cancel` (`csrf`):
/// cancels the job as `studios/{job_id}/cancel` does, then shows the tool again.
pub(crate) async fn cancel_job(
    State(state): State<DashboardState>,
    session: SignedIn,
    path: Result<Path<(String, String, String)>, PathRejection>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, PageError> {
    checked_form(&session, form)?;
    let Path((project, tool_id, job_id)) =
        path.map_err(|_| PageError::not_found("no such job").for_session(&session))?;
    let principal = overview::acting_in(&state.app, &project)
        .await
        .map_err(|error| PageError::from(error).for_session(&session))?;
    jobs::cancel(&state.app, &principal, &job_id)
        .await
        .map_err(|error| PageError::from(error).for_session(&session))?;
    Ok(Redirect::to(&tool_templates::tool_url(&project, &tool_id)).into_response())
}

#[cfg(test)]
mod tests {
    use super::parse_params;
    use serde_json::json;

    #[test]
    fn params_parse_or_say_why_not() {
        let cases = [
            ("", Ok(json!({}))),
            ("  \n", Ok(json!({}))),
            (r#"{"city": "Oslo"}"#, Ok(json!({"city": "Oslo"}))),
            ("[1]", Ok(json!([1]))),
            ("{city: Oslo}", Err("line 1 column 2")),
            (r#"{"city": "#, Err("EOF")),
        ];
        for (text, expected) in cases {
            match (parse_params(text), expected) {
                (Ok(value), Ok(want)) => assert_eq!(value, want, "{text:?}"),
                (Err(problem), Err(part)) => {
                    assert!(
                        problem.starts_with("the params are not valid JSON"),
                        "{problem}"
                    );
                    assert!(problem.contains(part), "{text:?}: {problem}");
                }
                (got, want) => panic!("{text:?}: got {got:?}, want {want:?}"),
            }
        }
    }
}
