//! A project's keys: the list (embed keys filterable by agent, workforce and
//! status), creating an API key, and revoking a key through a confirmation page.
//!
//! A new key's value appears only in the answer to the POST that creates it;
//! the list shows the stored hint at most. Revocation calls the same store
//! function as the admin API, so the key fails on the very next request.

use std::collections::HashMap;

use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::html::{badge, esc, seg, when, when_opt, Chrome, Page};
use super::session::SignedIn;
use super::{checked_form, DashboardState, PageError};
use crate::auth::issue_api_key;
use crate::store::catalog;
use crate::store::dashboard_queries::find_key_in_project;
use crate::store::keys::{self, KeyKind, KeyRecord, KeySelector};
use crate::time::now_iso;

/// Longest label accepted for a new API key.
const MAX_LABEL_CHARS: usize = 200;

fn keys_url(project: &str) -> String {
    format!("/dashboard/projects/{}/keys", seg(project))
}

fn status_badge(key: &KeyRecord) -> String {
    match &key.revoked_at {
        Some(at) => format!("{} {}", badge("bad", "revoked"), when(at)),
        None => badge("ok", "active"),
    }
}

fn hint(key: &KeyRecord) -> String {
    if key.hint.is_empty() {
        r#"<span class="muted">(too short for a hint)</span>"#.to_string()
    } else {
        format!("<code>…{}</code>", esc(&key.hint))
    }
}

fn revoke_cell(project: &str, key: &KeyRecord) -> String {
    if key.revoked_at.is_some() {
        String::new()
    } else {
        format!(
            r#"<a href="{}/{}/revoke" class="revoke" data-key-id="{}">Revoke…</a>"#,
            keys_url(project),
            seg(&key.id),
            esc(&key.id)
        )
    }
}

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

    fn keeps(&self, key: &KeyRecord) -> bool {
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

fn options(values: &[String], selected: Option<&String>) -> String {
    let mut html = r#"<option value="">any</option>"#.to_string();
    for value in values {
        let mark = if Some(value) == selected {
            " selected"
        } else {
            ""
        };
        html.push_str(&format!(
            r#"<option value="{}"{mark}>{}</option>"#,
            esc(value),
            esc(value)
        ));
    }
    html
}

/// `GET /dashboard/projects/{project}/keys?agent=&workforce=&status=&revoked=`
// Over 80 lines on purpose: one page's HTML built in place; it splits when the dashboard moves to a compile-time template crate (planned, not done).
pub(crate) async fn list(
    State(state): State<DashboardState>,
    session: SignedIn,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    let Path(project) = path.map_err(|_| PageError::not_found("no such project"))?;
    let query = query.map(|Query(query)| query).unwrap_or_default();
    let filter = EmbedFilter::from_query(&query).map_err(|error| error.for_session(&session))?;
    let lookup = project.clone();
    let found = state
        .app
        .store
        .call(move |connection| {
            if catalog::project_region(connection, &lookup)?.is_none() {
                return Ok(None);
            }
            let keys = keys::list_for_project(connection, connection.key_cache(), &lookup)?;
            let agents = crate::store::dashboard_queries::all_agents(connection, &lookup)?;
            let workforces = crate::store::dashboard_queries::all_workforces(connection, &lookup)?;
            Ok(Some((
                keys,
                agents.into_iter().map(|agent| agent.id).collect::<Vec<_>>(),
                workforces
                    .into_iter()
                    .map(|workforce| workforce.id)
                    .collect::<Vec<_>>(),
            )))
        })
        .await?;
    let Some((all_keys, agent_ids, workforce_ids)) = found else {
        return Err(PageError::not_found("no such project").for_session(&session));
    };

    let mut body = String::new();
    if let Some(revoked) = query.get("revoked") {
        body.push_str(&format!(
            r#"<div class="card notice" id="revoked-notice">Key <code>{}</code> is revoked: the next request made with it gets 401.</div>"#,
            esc(revoked)
        ));
    }
    body.push_str(&format!(
        r#"<p><a href="/dashboard/projects/{p}">← Project {pe}</a></p>
<h2>API keys</h2>
<form method="post" action="{url}" class="row" id="create-key-form">{csrf}
<label>Label (optional)<input type="text" name="label" id="label" maxlength="{MAX_LABEL_CHARS}"></label>
<button type="submit" id="create-key">Create API key</button></form>
<table id="api-keys"><thead><tr><th>Id</th><th>Label</th><th>Ends in</th><th>Created</th><th>Last used</th><th class="num">Requests</th><th>Status</th><th></th></tr></thead><tbody>"#,
        p = seg(&project),
        pe = esc(&project),
        url = keys_url(&project),
        csrf = super::html::csrf_field(session.csrf()),
    ));
    let api_keys: Vec<&KeyRecord> = all_keys
        .iter()
        .filter(|key| key.kind == KeyKind::Api)
        .collect();
    if api_keys.is_empty() {
        body.push_str(r#"<tr><td colspan="8" class="muted">No API keys.</td></tr>"#);
    }
    for key in api_keys {
        body.push_str(&format!(
            r#"<tr data-key-id="{id}"><td><code>{id}</code></td><td>{label}</td><td>{hint}</td><td>{created}</td><td>{used}</td><td class="num">{count}</td><td>{status}</td><td>{revoke}</td></tr>"#,
            id = esc(&key.id),
            label = key.label.as_deref().map_or_else(
                || r#"<span class="muted">—</span>"#.to_string(),
                esc
            ),
            hint = hint(key),
            created = when(&key.created_at),
            used = when_opt(key.last_used_at.as_deref()),
            count = key.request_count,
            status = status_badge(key),
            revoke = revoke_cell(&project, key),
        ));
    }
    body.push_str("</tbody></table>");

    body.push_str(&format!(
        r#"<h2>Embed keys</h2>
<p class="muted">Created by anyone through <code>get_embed_key</code> for a public agent or a workforce; each works until revoked here.</p>
<form method="get" action="{url}" class="row" id="embed-filter">
<label>Agent<select name="agent">{agents}</select></label>
<label>Workforce<select name="workforce">{workforces}</select></label>
<label>Status<select name="status"><option value="">any</option><option value="active"{active}>active</option><option value="revoked"{revoked}>revoked</option></select></label>
<button type="submit" class="secondary">Filter</button></form>
<table id="embed-keys"><thead><tr><th>Id</th><th>Scope</th><th>Task prefix</th><th>Ends in</th><th>Created</th><th>Last used</th><th class="num">Requests</th><th>Status</th><th></th></tr></thead><tbody>"#,
        url = keys_url(&project),
        agents = options(&agent_ids, filter.agent.as_ref()),
        workforces = options(&workforce_ids, filter.workforce.as_ref()),
        active = if filter.status.as_deref() == Some("active") { " selected" } else { "" },
        revoked = if filter.status.as_deref() == Some("revoked") { " selected" } else { "" },
    ));
    let embed_keys: Vec<&KeyRecord> = all_keys
        .iter()
        .filter(|key| key.kind == KeyKind::Embed && filter.keeps(key))
        .collect();
    if embed_keys.is_empty() {
        body.push_str(r#"<tr><td colspan="9" class="muted">No embed keys match.</td></tr>"#);
    }
    for key in embed_keys {
        let scope = match (&key.agent_id, &key.workforce_id) {
            (Some(agent), _) => format!(
                r#"agent <a href="/dashboard/projects/{}/agents/{}">{}</a>"#,
                seg(&project),
                seg(agent),
                esc(agent)
            ),
            (None, Some(workforce)) => format!(
                r#"workforce <a href="/dashboard/projects/{}/workforces/{}">{}</a>"#,
                seg(&project),
                seg(workforce),
                esc(workforce)
            ),
            (None, None) => r#"<span class="muted">—</span>"#.to_string(),
        };
        body.push_str(&format!(
            r#"<tr data-key-id="{id}"><td><code>{id}</code></td><td>{scope}</td><td><code>{prefix}</code></td><td>{hint}</td><td>{created}</td><td>{used}</td><td class="num">{count}</td><td>{status}</td><td>{revoke}</td></tr>"#,
            id = esc(&key.id),
            prefix = esc(key.task_prefix.as_deref().unwrap_or("")),
            hint = hint(key),
            created = when(&key.created_at),
            used = when_opt(key.last_used_at.as_deref()),
            count = key.request_count,
            status = status_badge(key),
            revoke = revoke_cell(&project, key),
        ));
    }
    body.push_str("</tbody></table>");
    Ok(Page::new(
        Chrome::SignedIn {
            csrf: session.csrf(),
        },
        &format!("Keys of {project}"),
        &body,
    )
    .into_response())
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
    let lookup = project.clone();
    let now = now_iso();
    let issued = state
        .app
        .store
        .call(move |connection| {
            if catalog::project_region(connection, &lookup)?.is_none() {
                return Ok(None);
            }
            issue_api_key(connection, connection.key_cache(), &lookup, label, &now).map(Some)
        })
        .await?
        .ok_or_else(|| PageError::not_found("no such project").for_session(&session))?;
    let body = format!(
        r#"<div class="card warning">
<p><strong>Copy this key now.</strong> It is shown only on this page: the emulator stores only its hash, so no page will show it again.</p>
<code class="secret" id="new-key-value">{secret}</code>
<p class="muted">Key id <code id="new-key-id">{id}</code>. Use it as <code>Authorization: {project}:&lt;key&gt;</code>.</p>
</div>
<p><a href="{url}" id="back-to-keys">← Back to the keys of {project}</a></p>"#,
        secret = esc(&issued.secret),
        id = esc(&issued.id),
        project = esc(&project),
        url = keys_url(&project),
    );
    Ok(Page::with_status(
        StatusCode::CREATED,
        Chrome::SignedIn {
            csrf: session.csrf(),
        },
        "New API key",
        &body,
    )
    .into_response())
}

async fn key_of_project(
    state: &DashboardState,
    session: &SignedIn,
    project: &str,
    key_id: &str,
) -> Result<KeyRecord, PageError> {
    let (lookup_project, lookup_key) = (project.to_string(), key_id.to_string());
    state
        .app
        .store
        .call(move |connection| {
            find_key_in_project(
                connection,
                connection.key_cache(),
                &lookup_project,
                &lookup_key,
            )
        })
        .await?
        .ok_or_else(|| PageError::not_found("no such key in this project").for_session(session))
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
    let what = match (&key.kind, &key.agent_id, &key.workforce_id) {
        (KeyKind::Api, _, _) => format!(
            "API key <code>{}</code>{}",
            esc(&key.id),
            key.label
                .as_deref()
                .map_or_else(String::new, |label| format!(" ({})", esc(label)))
        ),
        (KeyKind::Embed, Some(agent), _) => format!(
            "embed key <code>{}</code> for agent <code>{}</code>",
            esc(&key.id),
            esc(agent)
        ),
        (KeyKind::Embed, None, Some(workforce)) => format!(
            "embed key <code>{}</code> for workforce <code>{}</code>",
            esc(&key.id),
            esc(workforce)
        ),
        (KeyKind::Embed, None, None) => format!("embed key <code>{}</code>", esc(&key.id)),
    };
    let body = if let Some(at) = &key.revoked_at {
        format!(
            r#"<div class="card">The {what} was already revoked {}.</div><p><a href="{}">← Back to the keys</a></p>"#,
            when(at),
            keys_url(&project)
        )
    } else {
        format!(
            r#"<div class="card warning"><p>Revoke the {what}?</p>
<p>Every client using it gets <strong>401</strong> from its very next request. This cannot be undone.</p>
<form method="post" action="{url}/{key}/revoke" class="row">{csrf}
<button type="submit" class="danger" id="confirm-revoke">Revoke key</button>
<a href="{url}" id="cancel-revoke">Cancel</a></form></div>"#,
            url = keys_url(&project),
            key = seg(&key.id),
            csrf = super::html::csrf_field(session.csrf()),
        )
    };
    Ok(Page::new(
        Chrome::SignedIn {
            csrf: session.csrf(),
        },
        "Revoke key",
        &body,
    )
    .into_response())
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
    let now = now_iso();
    let id = key.id.clone();
    state
        .app
        .store
        .call(move |connection| {
            keys::revoke(
                connection,
                connection.key_cache(),
                KeySelector::Id(&id),
                &now,
            )
        })
        .await?;
    tracing::info!(key_id = %key.id, project = %project, "key revoked from the dashboard");
    Ok(Redirect::to(&format!("{}?revoked={}", keys_url(&project), seg(&key.id))).into_response())
}
