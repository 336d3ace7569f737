//! What the operator does to an agent task: approve or reject its waiting tool run
//! (PROTOCOL A10) and delete it (through a confirmation page, as revoking a key).
//!
//! Nothing here decides or deletes by itself: each handler calls the use case the
//! API calls ([`agent_tasks::decide`] for an `action-confirm` / `action-reject`
//! trigger, [`agent_tasks::delete_tasks`] for `knowledge/sets/delete`) with the
//! operator's principal ([`overview::acting_in`]), so the dashboard and the API
//! cannot disagree. A decision no run waits for is refused there and shown as an
//! error page, with nothing changed.

use std::collections::HashMap;

use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::html::{project_url, seg, Page};
use super::pages::task_url;
use super::session::SignedIn;
use super::templates;
use super::{checked_form, DashboardState, PageError};
use crate::engine::decision::{Decision, Verdict};
use crate::service::overview::TaskView;
use crate::service::{agent_tasks, overview};

type TaskPath = Result<Path<(String, String)>, PathRejection>;
type FormFields = Result<Form<HashMap<String, String>>, FormRejection>;

/// `POST .../tasks/{task_id}/approve` (`action_request_id`, `csrf`): confirms the
/// waiting run with its own params, then back to the task.
pub(crate) async fn approve(
    State(state): State<DashboardState>,
    session: SignedIn,
    path: TaskPath,
    form: FormFields,
) -> Result<Response, PageError> {
    let verdict = Verdict::Confirm {
        params_override: Default::default(),
    };
    decide(&state, &session, path, form, verdict).await
}

/// `POST .../tasks/{task_id}/reject` (`action_request_id`, `csrf`): cancels the
/// waiting run, then back to the task.
pub(crate) async fn reject(
    State(state): State<DashboardState>,
    session: SignedIn,
    path: TaskPath,
    form: FormFields,
) -> Result<Response, PageError> {
    decide(&state, &session, path, form, Verdict::Reject).await
}

async fn decide(
    state: &DashboardState,
    session: &SignedIn,
    path: TaskPath,
    form: FormFields,
    verdict: Verdict,
) -> Result<Response, PageError> {
    let form = checked_form(session, form)?;
    let (project, task) = agent_task(state, session, path).await?;
    let Some(action_request_id) = form
        .get("action_request_id")
        .filter(|id| !id.is_empty())
        .map(str::to_string)
    else {
        return Err(PageError::bad_request(
            "the form did not name the waiting tool run (`action_request_id`); nothing was changed",
        )
        .for_session(session));
    };
    let decision = Decision {
        verdict,
        action: None,
        action_request_id,
    };
    let principal = overview::acting_in(&state.app, &project)
        .await
        .map_err(|error| PageError::from(error).for_session(session))?;
    agent_tasks::decide(
        &state.app,
        &principal,
        task.owner_id.clone(),
        task.id.clone(),
        decision,
    )
    .await
    .map_err(|error| PageError::from(error).for_session(session))?;
    tracing::info!(task_id = %task.id, project = %project, "tool run decided from the dashboard");
    Ok(Redirect::to(&task_url(&project, &task.id)).into_response())
}

/// The agent task the path names: `(project, task)`, or the 404 page.
async fn agent_task(
    state: &DashboardState,
    session: &SignedIn,
    path: TaskPath,
) -> Result<(String, TaskView), PageError> {
    let Path((project, task_id)) =
        path.map_err(|_| PageError::not_found("no such task").for_session(session))?;
    let (task, _) = overview::agent_task(&state.app, &project, &task_id)
        .await
        .map_err(|error| PageError::from(error).for_session(session))?;
    Ok((project, task))
}

/// `GET .../tasks/{task_id}/delete`: asks before deleting (works without script).
pub(crate) async fn confirm_delete(
    State(state): State<DashboardState>,
    session: SignedIn,
    path: TaskPath,
) -> Result<Response, PageError> {
    let (project, task) = agent_task(&state, &session, path).await?;
    let url = task_url(&project, &task.id);
    let body = templates::confirm_delete(&url, session.csrf(), &task);
    Ok(Page::new(session.chrome(), "Delete task", body).into_response())
}

/// `POST .../tasks/{task_id}/delete` (`csrf`): deletes the task, then to its agent's page.
pub(crate) async fn delete(
    State(state): State<DashboardState>,
    session: SignedIn,
    path: TaskPath,
    form: FormFields,
) -> Result<Response, PageError> {
    checked_form(&session, form)?;
    let (project, task) = agent_task(&state, &session, path).await?;
    let principal = overview::acting_in(&state.app, &project)
        .await
        .map_err(|error| PageError::from(error).for_session(&session))?;
    agent_tasks::delete_tasks(&state.app, &principal, vec![task.id.clone()])
        .await
        .map_err(|error| PageError::from(error).for_session(&session))?;
    tracing::info!(task_id = %task.id, project = %project, "task deleted from the dashboard");
    Ok(Redirect::to(&format!(
        "{}/agents/{}",
        project_url(&project),
        seg(&task.owner_id)
    ))
    .into_response())
}
