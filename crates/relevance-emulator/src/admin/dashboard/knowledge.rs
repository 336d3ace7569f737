//! The Knowledge pages: every project's tables with their row counts, one table's rows
//! a page at a time, and deleting a row or a whole table (CSRF-checked forms).
//!
//! Everything goes through [`service::knowledge`](crate::service::knowledge), the use
//! cases behind `knowledge/...`, with the operator's principal in the project, so what
//! these pages show and do is what the API would. Conversations are not listed here: they
//! are the agents' task pages. Markup is in [`super::knowledge_templates`].

use std::collections::HashMap;

use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::html::Page;
use super::knowledge_templates::{self, RowsShown, ROWS_PER_PAGE};
use super::session::SignedIn;
use super::{checked_form, DashboardState, PageError};
use crate::auth::Principal;
use crate::service::knowledge::{self, KnowledgeError, RowQuery, SetEntry, SetView};
use crate::service::{keys, overview};

type SetPath = Result<Path<(String, String)>, PathRejection>;
type RowPath = Result<Path<(String, String, String)>, PathRejection>;
type FormFields = Result<Form<HashMap<String, String>>, FormRejection>;

impl From<KnowledgeError> for PageError {
    fn from(error: KnowledgeError) -> PageError {
        match error {
            KnowledgeError::SetNotFound { .. } => {
                PageError::not_found("no such knowledge set in this project")
            }
            KnowledgeError::RowNotFound { .. } => PageError::not_found("no such row in this set"),
            KnowledgeError::Invalid(problem) | KnowledgeError::TooLarge(problem) => {
                PageError::bad_request(problem)
            }
            KnowledgeError::Store(error) => error.into(),
        }
    }
}

/// `GET /dashboard/knowledge`: each project's tables with their row counts.
pub(crate) async fn list(
    State(state): State<DashboardState>,
    session: SignedIn,
) -> Result<Response, PageError> {
    let fail = |error: PageError| error.for_session(&session);
    let projects = keys::list_projects(&state.app)
        .await
        .map_err(|error| fail(error.into()))?;
    let mut tables = Vec::with_capacity(projects.len());
    for (project, _) in projects {
        let principal = overview::acting_in(&state.app, &project)
            .await
            .map_err(|error| fail(error.into()))?;
        let sets = knowledge::list_sets(&state.app, &principal, false)
            .await
            .map_err(|error| fail(error.into()))?
            .into_iter()
            .filter_map(|entry| match entry {
                SetEntry::Table(set) => Some(SetView::from(set)),
                SetEntry::Conversation(..) => None,
            })
            .collect();
        tables.push((project, sets));
    }
    let body = knowledge_templates::list(&tables, session.csrf());
    Ok(Page::new(session.chrome(), "Knowledge", body).into_response())
}

/// The project and set the path names, with the operator's principal in the project.
async fn set_of(
    state: &DashboardState,
    session: &SignedIn,
    path: SetPath,
) -> Result<(Principal, String), PageError> {
    let Path((project, set)) =
        path.map_err(|_| PageError::not_found("no such knowledge set").for_session(session))?;
    let principal = overview::acting_in(&state.app, &project)
        .await
        .map_err(|error| PageError::from(error).for_session(session))?;
    Ok((principal, set))
}

/// `GET /dashboard/projects/{project}/knowledge/{set}?page=N`: a page of the table's rows.
pub(crate) async fn set_page(
    State(state): State<DashboardState>,
    session: SignedIn,
    path: SetPath,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let (principal, set) = set_of(&state, &session, path).await?;
    let page = query
        .get("page")
        .and_then(|page| page.parse::<i64>().ok())
        .filter(|page| *page >= 1)
        .unwrap_or(1);
    let rows = knowledge::list_rows(
        &state.app,
        &principal,
        set.clone(),
        RowQuery {
            newest_first: false,
            page,
            page_size: ROWS_PER_PAGE + 1,
            filters: Vec::new(),
        },
    )
    .await
    .map_err(|error| PageError::from(error).for_session(&session))?;
    let shown = RowsShown {
        project: &principal.project,
        set: &set,
        page,
        rows,
    };
    let body = knowledge_templates::rows(&shown, session.csrf());
    let title = format!("Knowledge set {set}");
    Ok(Page::with_status(StatusCode::OK, session.chrome(), &title, body).into_response())
}

/// `POST /dashboard/projects/{project}/knowledge/{set}/delete` (`csrf`): drops the table
/// with its rows, then back to the Knowledge page.
pub(crate) async fn delete_set(
    State(state): State<DashboardState>,
    session: SignedIn,
    path: SetPath,
    form: FormFields,
) -> Result<Response, PageError> {
    checked_form(&session, form)?;
    let (principal, set) = set_of(&state, &session, path).await?;
    knowledge::delete_sets(&state.app, &principal, vec![set.clone()])
        .await
        .map_err(|error| PageError::from(error).for_session(&session))?;
    tracing::info!(project = %principal.project, "knowledge set deleted from the dashboard");
    Ok(Redirect::to("/dashboard/knowledge").into_response())
}

/// `POST /dashboard/projects/{project}/knowledge/{set}/rows/{document_id}/delete`
/// (`csrf`): deletes the row, then back to the set's page.
pub(crate) async fn delete_row(
    State(state): State<DashboardState>,
    session: SignedIn,
    path: RowPath,
    form: FormFields,
) -> Result<Response, PageError> {
    checked_form(&session, form)?;
    let Path((project, set, document_id)) =
        path.map_err(|_| PageError::not_found("no such row").for_session(&session))?;
    let principal = overview::acting_in(&state.app, &project)
        .await
        .map_err(|error| PageError::from(error).for_session(&session))?;
    knowledge::delete_rows(&state.app, &principal, set.clone(), Some(document_id))
        .await
        .map_err(|error| PageError::from(error).for_session(&session))?;
    Ok(Redirect::to(&knowledge_templates::set_url(&project, &set)).into_response())
}
