//! The live request log: the newest API requests with who made them (key kind
//! and id, never the secret), status and latency. It reloads itself every few
//! seconds through the `Refresh` header, so it stays live without script.

use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};

use super::html::{badge, esc, when, Chrome, Page};
use super::session::SignedIn;
use super::{DashboardState, PageError};

const DEFAULT_ROWS: usize = 100;
const MAX_ROWS: usize = 1000;
const REFRESH_SECONDS: u32 = 5;

fn status_badge(status: u16) -> String {
    let class = match status {
        200..=299 => "ok",
        300..=399 => "info",
        400..=499 => "warn",
        _ => "bad",
    };
    badge(class, &status.to_string())
}

/// `GET /dashboard/requests?limit=N`
pub(crate) async fn log(
    State(state): State<DashboardState>,
    session: SignedIn,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, PageError> {
    let limit = match query
        .as_ref()
        .ok()
        .and_then(|Query(query)| query.get("limit"))
    {
        None => DEFAULT_ROWS,
        Some(text) => match text.trim().parse::<usize>() {
            Ok(limit) if (1..=MAX_ROWS).contains(&limit) => limit,
            _ => {
                return Err(PageError::bad_request(format!(
                    "`limit` must be a number from 1 to {MAX_ROWS}"
                ))
                .for_session(&session))
            }
        },
    };
    let entries = state.app.request_log().newest(limit);
    let mut body = format!(
        r#"<p class="muted">The newest {limit} API and admin-API requests, newest first; this page reloads every {REFRESH_SECONDS} s. Dashboard pages themselves are not logged.</p>
<table id="requests"><thead><tr><th>Time</th><th>Method</th><th>Path</th><th>Key</th><th class="num">Status</th><th class="num">Latency</th></tr></thead><tbody>"#
    );
    if entries.is_empty() {
        body.push_str(r#"<tr><td colspan="6" class="muted">No requests yet.</td></tr>"#);
    }
    for entry in entries {
        let principal = match (&entry.key_kind, &entry.key_id) {
            (Some(kind), Some(id)) => format!("{} <code>{}</code>", esc(kind), esc(id)),
            _ => r#"<span class="muted">—</span>"#.to_string(),
        };
        body.push_str(&format!(
            r#"<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{principal}</td><td class="num">{}</td><td class="num">{:.1} ms</td></tr>"#,
            when(&entry.at),
            esc(&entry.method),
            esc(&entry.path),
            status_badge(entry.status),
            entry.latency_ms,
        ));
    }
    body.push_str("</tbody></table>");
    Ok(Page::new(
        Chrome::SignedIn {
            csrf: session.csrf(),
        },
        "Request log",
        &body,
    )
    .refreshing(REFRESH_SECONDS)
    .into_response())
}
