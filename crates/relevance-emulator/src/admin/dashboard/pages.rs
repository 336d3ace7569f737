//! The catalogue pages: projects with their counts, one project's agents and
//! workforces, an agent (settings and tasks), a workforce, and a task's messages.
//!
//! Each handler parses its path, calls one operator use case
//! ([`crate::service::overview`]) and renders with a template function of
//! [`templates`](super::templates).

use std::collections::HashMap;

use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::html::{project_url, seg, Page};
use super::messages::Decide;
use super::session::SignedIn;
use super::templates;
use super::{checked_form, DashboardState, PageError};
use crate::service::overview::{self, OperatorError};

/// `GET /dashboard`
pub(crate) async fn projects(
    State(state): State<DashboardState>,
    session: SignedIn,
) -> Result<Response, PageError> {
    let rows = overview::project_counts(&state.app)
        .await
        .map_err(|error| PageError::from(error).for_session(&session))?;
    let body = templates::projects(&rows);
    Ok(Page::new(session.chrome(), "Projects", body).into_response())
}

/// `GET /dashboard/projects/{project}`
pub(crate) async fn project(
    State(state): State<DashboardState>,
    session: SignedIn,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, PageError> {
    let Path(project) =
        path.map_err(|_| PageError::not_found("no such project").for_session(&session))?;
    let overview = overview::project_overview(&state.app, &project)
        .await
        .map_err(|error| PageError::from(error).for_session(&session))?;
    let body = templates::project(&project, &overview);
    Ok(Page::new(session.chrome(), &format!("Project {project}"), body).into_response())
}

/// `GET /dashboard/projects/{project}/agents/{agent_id}`
pub(crate) async fn agent(
    State(state): State<DashboardState>,
    session: SignedIn,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, PageError> {
    let Path((project, agent_id)) =
        path.map_err(|_| PageError::not_found("no such agent").for_session(&session))?;
    let (agent, tasks) = overview::agent_with_tasks(&state.app, &project, &agent_id)
        .await
        .map_err(|error| PageError::from(error).for_session(&session))?;
    let operator = overview::acting_in(&state.app, &project)
        .await
        .map_err(|error| PageError::from(error).for_session(&session))?;
    let webhooks = crate::service::webhooks::of_agent(&state.app, &operator, &agent_id)
        .await
        .map_err(|error| PageError::from(error).for_session(&session))?;
    let body = templates::agent(&project, session.csrf(), &agent, &tasks, &webhooks);
    let title = format!("Agent {}", agent.name.as_deref().unwrap_or(&agent.id));
    Ok(Page::new(session.chrome(), &title, body).into_response())
}

/// `POST .../agents/{agent_id}/visibility` (`public=true|false`, `csrf`)
pub(crate) async fn set_visibility(
    State(state): State<DashboardState>,
    session: SignedIn,
    path: Result<Path<(String, String)>, PathRejection>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, PageError> {
    let form = checked_form(&session, form)?;
    let Path((project, agent_id)) =
        path.map_err(|_| PageError::not_found("no such agent").for_session(&session))?;
    let public = match form.get("public") {
        Some("true") => true,
        Some("false") => false,
        _ => {
            return Err(
                PageError::bad_request("`public` must be `true` or `false`").for_session(&session)
            )
        }
    };
    overview::set_agent_public(&state.app, &project, &agent_id, public)
        .await
        .map_err(|error| PageError::from(error).for_session(&session))?;
    Ok(Redirect::to(&format!(
        "{}/agents/{}",
        project_url(&project),
        seg(&agent_id)
    ))
    .into_response())
}

/// `GET /dashboard/projects/{project}/workforces/{workforce_id}`
pub(crate) async fn workforce(
    State(state): State<DashboardState>,
    session: SignedIn,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, PageError> {
    let Path((project, workforce_id)) =
        path.map_err(|_| PageError::not_found("no such workforce").for_session(&session))?;
    let (workforce, tasks) = overview::workforce_with_tasks(&state.app, &project, &workforce_id)
        .await
        .map_err(|error| PageError::from(error).for_session(&session))?;
    let body = templates::workforce(&project, &workforce, &tasks);
    let title = format!("Workforce {}", workforce.name);
    Ok(Page::new(session.chrome(), &title, body).into_response())
}

/// `GET /dashboard/projects/{project}/tasks/{task_id}`
pub(crate) async fn task(
    State(state): State<DashboardState>,
    session: SignedIn,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, PageError> {
    let Path((project, task_id)) =
        path.map_err(|_| PageError::not_found("no such task").for_session(&session))?;
    let (task, messages) = overview::agent_task(&state.app, &project, &task_id)
        .await
        .map_err(|error| PageError::from(error).for_session(&session))?;
    let back = format!("{}/agents/{}", project_url(&project), seg(&task.owner_id));
    let label = format!("Agent {}", task.owner_id);
    let task_url = task_url(&project, &task.id);
    let decide = Decide {
        task_url: &task_url,
        csrf: session.csrf(),
    };
    let body = templates::task((&back, &label), &task, messages, Some(decide));
    Ok(Page::new(session.chrome(), &task.page_title(), body).into_response())
}

/// `/dashboard/projects/{project}/tasks/{task_id}`, an agent task's page (and its forms' base).
pub(crate) fn task_url(project: &str, task_id: &str) -> String {
    format!("{}/tasks/{}", project_url(project), seg(task_id))
}

/// `GET /dashboard/projects/{project}/workforces/{workforce_id}/tasks/{task_id}`: the workforce
/// task's messages merged with its members' runs, as the platform's messages route shows them.
pub(crate) async fn workforce_task(
    State(state): State<DashboardState>,
    session: SignedIn,
    path: Result<Path<(String, String, String)>, PathRejection>,
) -> Result<Response, PageError> {
    let Path((project, workforce_id, task_id)) =
        path.map_err(|_| PageError::not_found("no such task").for_session(&session))?;
    let (task, messages) = overview::workforce_task(&state.app, &project, &workforce_id, &task_id)
        .await
        .map_err(|error| {
            match error {
                OperatorError::TaskNotFound { .. } => {
                    PageError::not_found("no such task in this workforce")
                }
                other => PageError::from(other),
            }
            .for_session(&session)
        })?;
    let back = format!(
        "{}/workforces/{}",
        project_url(&project),
        seg(&task.owner_id)
    );
    let label = format!("Workforce {}", task.owner_id);
    let body = templates::task((&back, &label), &task, messages, None);
    Ok(Page::new(session.chrome(), &task.page_title(), body).into_response())
}
