//! The live request log: the newest API requests with who made them (key kind
//! and id, never the secret), status and latency. It reloads itself every few
//! seconds through the `Refresh` header, so it stays live without script.

use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};

use super::html::{badge, dash, when, Page};
use super::session::SignedIn;
use super::{DashboardState, PageError};
use crate::admin::request_log::LoggedRequest;

const DEFAULT_ROWS: usize = 100;
const MAX_ROWS: usize = 1000;
const REFRESH_SECONDS: u32 = 5;

fn status_badge(status: u16) -> Markup {
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
    Ok(Page::new(
        session.chrome(),
        "Request log",
        requests_table(limit, &entries),
    )
    .refreshing(REFRESH_SECONDS)
    .into_response())
}

fn requests_table(limit: usize, entries: &[LoggedRequest]) -> Markup {
    html! {
        p.muted {
            "The newest " (limit) " API and admin-API requests, newest first; this page \
             reloads every " (REFRESH_SECONDS) " s. Dashboard pages themselves are not logged."
        }
        table id="requests" {
            thead { tr {
                th { "Time" } th { "Method" } th { "Path" } th { "Key" }
                th.num { "Status" } th.num { "Latency" }
            } }
            tbody {
                @if entries.is_empty() {
                    tr { td colspan="6" class="muted" { "No requests yet." } }
                }
                @for entry in entries {
                    tr {
                        td { (when(&entry.at)) }
                        td { (entry.method) }
                        td { code { (entry.path) } }
                        td {
                            @match (&entry.key_kind, &entry.key_id) {
                                (Some(kind), Some(id)) => { (kind) " " code { (id) } }
                                _ => { (dash()) }
                            }
                        }
                        td.num { (status_badge(entry.status)) }
                        td.num { (format!("{:.1} ms", entry.latency_ms)) }
                    }
                }
            }
        }
    }
}
