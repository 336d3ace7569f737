//! A project's keys: the list (embed keys filterable by agent, workforce and
//! status), creating an API key, and revoking a key through a confirmation page.
//!
//! A new key's value appears only in the answer to the POST that creates it;
//! the list shows the stored hint at most. Every write is a use case of
//! [`crate::service::keys`], the same the admin API calls, so a key revoked
//! here fails on the very next request. Markup is in [`super::key_templates`].

use std::collections::HashMap;

use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::html::{keys_url, seg, Page};
use super::key_templates::{self, KeyList, MAX_LABEL_CHARS};
use super::session::SignedIn;
use super::{checked_form, DashboardState, PageError};
use crate::service::keys::{KeyKind, KeyView};
use crate::service::overview::OperatorError;
use crate::service::{keys, overview};

/// The embed-key filter from the query string.
#[derive(Debug, Default)]
struct EmbedFilter {
    agent: Option<String>,
    workforce: Option<String>,
    status: Option<String>,
}

impl EmbedFilter {
    fn from_query(query: &HashMap<String, String>) -> Result<EmbedFilter, PageError> {
        let non_empty = |name: &str| {
            query
                .get(name)
                .map(|value| value.trim().to_string())
                .filter(|value| !value.is_empty())
        };
        let status = non_empty("status");
        if let Some(status) = &status {
            if !matches!(status.as_str(), "active" | "revoked") {
                return Err(PageError::bad_request(
                    "`status` must be `active` or `revoked` (or empty for all)",
                ));
            }
        }
        Ok(EmbedFilter {
            agent: non_empty("agent"),
            workforce: non_empty("workforce"),
            status,
        })
    }

    fn keeps(&self, key: &KeyView) -> bool {
        let agent_ok = self
            .agent
            .as_ref()
            .map_or(true, |agent| key.agent_id.as_ref() == Some(agent));
        let workforce_ok = self.workforce.as_ref().map_or(true, |workforce| {
            key.workforce_id.as_ref() == Some(workforce)
        });
        let status_ok = match self.status.as_deref() {
            Some("active") => key.revoked_at.is_none(),
            Some("revoked") => key.revoked_at.is_some(),
            _ => true,
        };
        agent_ok && workforce_ok && status_ok
    }
}

/// `GET /dashboard/projects/{project}/keys?agent=&workforce=&status=&revoked=`
pub(crate) async fn list(
    State(state): State<DashboardState>,
    session: SignedIn,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    let Path(project) = path.map_err(|_| PageError::not_found("no such project"))?;
    let query = query.map(|Query(query)| query).unwrap_or_default();
    let filter = EmbedFilter::from_query(&query).map_err(|error| error.for_session(&session))?;
    let for_session = |error: OperatorError| PageError::from(error).for_session(&session);
    let keys = keys::list_keys(&state.app, &project)
        .await
        .map_err(for_session)?;
    let (agent_ids, workforce_ids) = overview::target_ids(&state.app, &project)
        .await
        .map_err(for_session)?;
    let list = KeyList {
        project: &project,
        csrf: session.csrf(),
        revoked_notice: query.get("revoked").map(String::as_str),
        api_keys: keys.iter().filter(|key| key.kind == KeyKind::Api).collect(),
        embed_keys: keys
            .iter()
            .filter(|key| key.kind == KeyKind::Embed && filter.keeps(key))
            .collect(),
        agent_ids: &agent_ids,
        workforce_ids: &workforce_ids,
        filter: (
            filter.agent.as_ref(),
            filter.workforce.as_ref(),
            filter.status.as_deref(),
        ),
    };
    let body = key_templates::list(&list);
    Ok(Page::new(session.chrome(), &format!("Keys of {project}"), body).into_response())
}

/// `POST /dashboard/projects/{project}/keys` (`label`, `csrf`): issues an API key and
/// shows its value on this answer only.
pub(crate) async fn create(
    State(state): State<DashboardState>,
    session: SignedIn,
    path: Result<Path<String>, PathRejection>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, PageError> {
    let form = checked_form(&session, form)?;
    let Path(project) =
        path.map_err(|_| PageError::not_found("no such project").for_session(&session))?;
    let label = form
        .get("label")
        .map(str::trim)
        .filter(|label| !label.is_empty())
        .map(str::to_string);
    if label
        .as_ref()
        .is_some_and(|label| label.chars().count() > MAX_LABEL_CHARS)
    {
        return Err(PageError::bad_request(format!(
            "the label is longer than {MAX_LABEL_CHARS} characters"
        ))
        .for_session(&session));
    }
    let issued = keys::issue_api_key(&state.app, &project, label)
        .await
        .map_err(|error| PageError::from(error).for_session(&session))?;
    let body = key_templates::created(&project, &issued);
    Ok(
        Page::with_status(StatusCode::CREATED, session.chrome(), "New API key", body)
            .into_response(),
    )
}

async fn key_of_project(
    state: &DashboardState,
    session: &SignedIn,
    project: &str,
    key_id: &str,
) -> Result<KeyView, PageError> {
    keys::key_of_project(&state.app, project, key_id)
        .await
        .map_err(|error| PageError::from(error).for_session(session))
}

/// `GET .../keys/{key_id}/revoke`: asks before revoking (works without script).
pub(crate) async fn confirm_revoke(
    State(state): State<DashboardState>,
    session: SignedIn,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, PageError> {
    let Path((project, key_id)) =
        path.map_err(|_| PageError::not_found("no such key").for_session(&session))?;
    let key = key_of_project(&state, &session, &project, &key_id).await?;
    let body = key_templates::confirm_revoke(&project, session.csrf(), &key);
    Ok(Page::new(session.chrome(), "Revoke key", body).into_response())
}

/// `POST .../keys/{key_id}/revoke` (`csrf`): revokes, then back to the list.
pub(crate) async fn revoke(
    State(state): State<DashboardState>,
    session: SignedIn,
    path: Result<Path<(String, String)>, PathRejection>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<Response, PageError> {
    checked_form(&session, form)?;
    let Path((project, key_id)) =
        path.map_err(|_| PageError::not_found("no such key").for_session(&session))?;
    let key = key_of_project(&state, &session, &project, &key_id).await?;
    keys::revoke_key(&state.app, &key.id)
        .await
        .map_err(|error| PageError::from(error).for_session(&session))?;
    tracing::info!(key_id = %key.id, project = %project, "key revoked from the dashboard");
    Ok(Redirect::to(&format!("{}?revoked={}", keys_url(&project), seg(&key.id))).into_response())
}
