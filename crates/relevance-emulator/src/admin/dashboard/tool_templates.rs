//! Templates of the tool pages ([`super::tools`]): every project's tools, and one
//! tool with its "run with JSON params" form, the last run's [`RunShown`] and its recent
//! jobs.

use maud::{html, Markup};
use serde_json::Value;

use super::html::{action_button, badge, dash, post_form, project_url, seg};
use crate::engine::tool_runner::{ToolOutcome, ToolStatus};
use crate::service::jobs::JobSummary;
use crate::service::tools::ToolView;

/// `/dashboard/projects/{project}/tools/{tool_id}`: a tool's page and its run form's action.
pub(crate) fn tool_url(project: &str, tool_id: &str) -> String {
    format!("{}/tools/{}", project_url(project), seg(tool_id))
}

fn public_badge(tool: &ToolView) -> Markup {
    if tool.public {
        badge("info", "public")
    } else {
        badge("neutral", "private")
    }
}

fn pretty(value: &Value) -> Markup {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    html! { pre { (text) } }
}

/// `GET /dashboard/tools`: each project's tools, projects in id order.
pub(crate) fn list(projects: &[(String, Vec<ToolView>)]) -> Markup {
    html! {
        @for (project, tools) in projects {
            h2 { "Project " a href=(project_url(project)) { (project) } }
            table.tools data-project=(project) {
                thead { tr {
                    th { "Title" } th { "Id" } th { "Description" } th { "Visibility" }
                    th { "Params schema" }
                } }
                tbody {
                    @if tools.is_empty() {
                        tr { td colspan="5" class="muted" { "No tools." } }
                    }
                    @for tool in tools {
                        tr data-tool-id=(tool.id) {
                            td { (tool.emoji) " " a href=(tool_url(project, &tool.id)) { (tool.title) } }
                            td { code { (tool.id) } }
                            td { (tool.description) }
                            td { (public_badge(tool)) }
                            td { (pretty(&tool.params_schema)) }
                        }
                    }
                }
            }
        }
        @if projects.is_empty() { p.muted { "No projects." } }
    }
}

/// What the tool page shows under its run form: nothing yet, the outcome of a run
/// (with its measured time in milliseconds), or why nothing was run.
#[derive(Debug)]
pub(crate) enum RunShown {
    /// The page before any run.
    Nothing,
    /// A run's outcome and how long it took.
    Ran(ToolOutcome, f64),
    /// The params were not run; the text says why.
    Refused(String),
}

fn outcome(shown: &RunShown) -> Markup {
    match shown {
        RunShown::Nothing => html! {},
        RunShown::Refused(problem) => html! {
            div.card.error id="params-error" { p { (problem) } p.muted { "Nothing was run." } }
        },
        RunShown::Ran(outcome, execution_ms) => {
            let status = match outcome.status {
                ToolStatus::Complete => badge("ok", outcome.status.as_str()),
                ToolStatus::Failed => badge("bad", outcome.status.as_str()),
            };
            html! {
                div.card id="run-result" {
                    dl.settings {
                        dt { "Status" } dd id="run-status" { (status) }
                        dt { "Execution time" } dd { (format!("{execution_ms:.1}")) " ms" }
                    }
                    div { "Output" } div id="run-output" { (pretty(&outcome.output)) }
                    div { "Errors" }
                    @if outcome.errors.is_empty() { (dash()) } @else {
                        ul id="run-errors" { @for error in &outcome.errors { li { (error) } } }
                    }
                }
            }
        }
    }
}

/// A tool: its fields, the "run with JSON params" form (keeping what was typed), and
/// the last run's outcome or refusal.
pub(crate) fn tool(
    project: &str,
    csrf: &str,
    tool: &ToolView,
    params_text: &str,
    shown: &RunShown,
    jobs: &[JobSummary],
) -> Markup {
    let fields = html! {
        label for="params" { "Params (a JSON object)" }
        textarea name="params" id="params" rows="8" { (params_text) }
        div { button type="submit" id="run-tool" { "Run" } }
    };
    html! {
        p { a href="/dashboard/tools" { "← Tools" } }
        div.card { dl.settings {
            dt { "Id" } dd { code { (tool.id) } }
            dt { "Project" } dd { a href=(project_url(project)) { (project) } }
            dt { "Title" } dd { (tool.emoji) " " span id="tool-title" { (tool.title) } }
            dt { "Description" } dd { (tool.description) }
            dt { "Visibility" } dd { (public_badge(tool)) }
            dt { "Params schema" } dd { (pretty(&tool.params_schema)) }
        } }
        h2 { "Run with JSON params" }
        p.muted { "Runs the tool as " code { "studios/{id}/trigger_limited" } " does: params that break its schema come back as a failed run listing each violation." }
        (post_form(&tool_url(project, &tool.id), "run", csrf, fields))
        (outcome(shown))
        (recent_jobs(project, csrf, &tool.id, jobs))
    }
}

/// The tool's newest jobs (`trigger_async`, PROTOCOL A15), a running one with Cancel.
fn recent_jobs(project: &str, csrf: &str, tool_id: &str, jobs: &[JobSummary]) -> Markup {
    html! {
        h2 { "Recent jobs" }
        @if jobs.is_empty() {
            p.muted id="no-jobs" { "No jobs yet: " code { "studios/{id}/trigger_async" } " starts one." }
        } @else {
            table id="jobs" {
                thead { tr { th { "Job" } th { "Status" } th.num { "Duration" } th { "Output" } th {} } }
                tbody { @for job in jobs {
                    tr {
                        td { code { (job.id) } }
                        td.job-status { (job_badge(job.state)) }
                        td.num { (format!("{:.1} s", job.duration_ms as f64 / 1000.0)) }
                        td { @if job.result.is_null() { (dash()) } @else { (pretty(&job.result)) } }
                        td { @if job.state == "inprogress" {
                            (action_button(&format!("{}/jobs/{}/cancel", tool_url(project, tool_id), seg(&job.id)),
                                csrf, ("cancel-job", "Cancel", "danger")))
                        } }
                    }
                } }
            }
        }
    }
}

fn job_badge(state: &str) -> Markup {
    match state {
        "complete" => badge("ok", state),
        "inprogress" => badge("muted", "running"),
        _ => badge("bad", state),
    }
}
