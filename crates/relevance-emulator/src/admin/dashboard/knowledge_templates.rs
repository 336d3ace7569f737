//! Templates of the Knowledge pages ([`super::knowledge`]): every project's tables, and
//! one table's rows a page at a time with their delete buttons.

use maud::{html, Markup};

use super::html::{action_button, project_url, seg, when};
use crate::service::knowledge::{RowData, RowView, SetView};

/// Rows per page of a table's page.
pub(crate) const ROWS_PER_PAGE: i64 = 50;

/// `/dashboard/projects/{project}/knowledge/{set}`: a table's page.
pub(crate) fn set_url(project: &str, set: &str) -> String {
    format!("{}/knowledge/{}", project_url(project), seg(set))
}

/// `GET /dashboard/knowledge`: each project's tables, projects in id order.
pub(crate) fn list(projects: &[(String, Vec<SetView>)], csrf: &str) -> Markup {
    html! {
        p.muted { "Each project's knowledge tables (" code { "knowledge/..." } "). An agent's conversations are knowledge sets too; they are on its task pages." }
        @for (project, sets) in projects {
            h2 { "Project " a href=(project_url(project)) { (project) } }
            table.knowledge data-project=(project) {
                thead { tr { th { "Set" } th { "Rows" } th { "Created" } th { "Changed" } th {} } }
                tbody {
                    @if sets.is_empty() {
                        tr { td colspan="5" class="muted" { "No knowledge sets." } }
                    }
                    @for set in sets {
                        tr data-set=(set.name) {
                            td { a href=(set_url(project, &set.name)) { (set.name) } }
                            td.rows { (set.row_count) }
                            td { (when(&set.insert_date)) }
                            td { (when(&set.update_date)) }
                            td { (action_button(&format!("{}/delete", set_url(project, &set.name)), csrf, ("delete-set", "Delete set", "danger"))) }
                        }
                    }
                }
            }
        }
        @if projects.is_empty() { p.muted { "No projects." } }
    }
}

/// What a table's page shows: `rows` holds up to one more than a page, which tells
/// whether there is a next page.
#[derive(Debug)]
pub(crate) struct RowsShown<'a> {
    pub(crate) project: &'a str,
    pub(crate) set: &'a str,
    pub(crate) page: i64,
    pub(crate) rows: Vec<RowView>,
}

fn data_text(row: &RowView) -> String {
    match &row.data {
        RowData::Text(text) => text.clone(),
        RowData::Value(value) => value.to_string(),
    }
}

/// A table's page: its rows (oldest first) with a delete button each, paging links, and
/// the button that deletes the whole set.
pub(crate) fn rows(shown: &RowsShown<'_>, csrf: &str) -> Markup {
    let url = set_url(shown.project, shown.set);
    let per_page = usize::try_from(ROWS_PER_PAGE).unwrap_or(50);
    let more = shown.rows.len() > per_page;
    html! {
        p { a href="/dashboard/knowledge" { "← Knowledge" } }
        div.card { dl.settings {
            dt { "Set" } dd { code { (shown.set) } }
            dt { "Project" } dd { a href=(project_url(shown.project)) { (shown.project) } }
            dt { "Page" } dd id="page" { (shown.page) }
        } }
        table.rows {
            thead { tr { th { "Row id" } th { "Data" } th { "Added" } th {} } }
            tbody {
                @if shown.rows.is_empty() {
                    tr { td colspan="4" class="muted" { "No rows on this page." } }
                }
                @for row in shown.rows.iter().take(per_page) {
                    tr data-row=(row.document_id) {
                        td { code { (row.document_id) } }
                        td { pre { (data_text(row)) } }
                        td { (when(&row.insert_date)) }
                        td { (action_button(&format!("{url}/rows/{}/delete", seg(&row.document_id)), csrf, ("delete-row", "Delete", "danger"))) }
                    }
                }
            }
        }
        p {
            @if shown.page > 1 { a id="previous-page" href=(format!("{url}?page={}", shown.page - 1)) { "← Previous" } " " }
            @if more { a id="next-page" href=(format!("{url}?page={}", shown.page + 1)) { "Next →" } }
        }
        (action_button(&format!("{url}/delete"), csrf, ("delete-set", "Delete this set and its rows", "danger")))
    }
}
