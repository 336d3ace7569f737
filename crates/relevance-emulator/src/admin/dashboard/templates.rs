//! Templates of the catalogue pages ([`super::pages`]): the project table, a
//! project, an agent, a workforce, task tables and a task page.
//!
//! One function per page body, each answering [`Markup`] for the shared
//! [`layout`](super::html::layout). A control that changes something is a
//! [`post_form`] or an [`action_button`](super::html::action_button) (both
//! carry the CSRF token): an agent task's Delete link (to [`confirm_delete`]) is in
//! [`task`] below its settings card, a pending tool run's Approve / Reject in its
//! message card (`messages::tool_run`).

use maud::{html, Markup};

use super::html::{badge, dash, post_form, project_url, seg, when};
use super::messages::{self, Decide};
use crate::service::overview::{
    AgentView, MessageView, ProjectListing, ProjectOverview, TaskView, WorkforceView,
};
use crate::service::webhooks::WebhookView;

/// The state as a coloured label, grouped as PROTOCOL A5's simplified status.
fn state_badge(state: &str) -> Markup {
    let class = match state {
        "idle" | "completed" => "ok",
        "starting-up"
        | "waiting-for-capacity"
        | "queued-for-approval"
        | "queued-for-rerun"
        | "running" => "info",
        "pending-approval" | "escalated" | "paused" => "warn",
        "timed-out" | "unrecoverable" | "errored-pending-approval" => "bad",
        _ => "neutral",
    };
    badge(class, state)
}

fn visibility_badge(public: bool) -> Markup {
    if public {
        badge("info", "public")
    } else {
        badge("neutral", "private")
    }
}

/// A table header row.
fn head(columns: &[(&str, bool)]) -> Markup {
    html! {
        thead { tr { @for (name, numeric) in columns {
            @if *numeric { th.num { (name) } } @else { th { (name) } }
        } } }
    }
}

/// A row saying a table is empty.
fn empty_row(columns: usize, text: &str) -> Markup {
    html! { tr { td colspan=(columns) class="muted" { (text) } } }
}

/// `GET /dashboard`: every project with its counts.
pub(crate) fn projects(rows: &[ProjectListing]) -> Markup {
    let columns = [
        ("Project", false),
        ("Region", false),
        ("API keys", true),
        ("Embed keys", true),
        ("Agents", true),
        ("Workforces", true),
        ("Tasks", true),
        ("", false),
    ];
    html! {
        table id="projects" {
            (head(&columns))
            tbody {
                @if rows.is_empty() { (empty_row(8, "No projects.")) }
                @for row in rows {
                    @let url = project_url(&row.id);
                    tr {
                        td { a href=(url) { (row.id) } }
                        td { (row.region.name().unwrap_or("")) " " code { (row.region.code()) } }
                        td.num { (row.api_keys) } td.num { (row.embed_keys) }
                        td.num { (row.agents) } td.num { (row.workforces) }
                        td.num { (row.tasks) }
                        td { a href={ (url) "/keys" } { "Keys" } }
                    }
                }
            }
        }
        p.muted { "Key counts are keys that are not revoked." }
    }
}

/// A project: region, link to its keys, its agents and workforces.
pub(crate) fn project(project: &str, overview: &ProjectOverview) -> Markup {
    let url = project_url(project);
    let agent_columns = [
        ("Agent", false),
        ("Name", false),
        ("Visibility", false),
        ("Model", false),
        ("Tasks", true),
    ];
    html! {
        p {
            "Region " (overview.region.name().unwrap_or("")) " " code { (overview.region.code()) } " · "
            a href={ (url) "/keys" } id="keys-link" { "API and embed keys" }
        }
        h2 { "Agents" }
        table id="agents" {
            (head(&agent_columns))
            tbody {
                @if overview.agents.is_empty() { (empty_row(5, "No agents.")) }
                @for agent in &overview.agents {
                    tr {
                        td { a href={ (url) "/agents/" (seg(&agent.id)) } { (agent.id) } }
                        td { (agent.emoji.as_deref().unwrap_or("")) " " (agent.name.as_deref().unwrap_or("")) }
                        td { (visibility_badge(agent.public)) }
                        td { (agent.model) }
                        td.num { (overview.tasks.iter().filter(|task| task.owner_id == agent.id).count()) }
                    }
                }
            }
        }
        h2 { "Workforces" }
        table id="workforces" {
            (head(&[("Workforce", false), ("Name", false), ("Agents", false)]))
            tbody {
                @if overview.workforces.is_empty() { (empty_row(3, "No workforces.")) }
                @for workforce in &overview.workforces {
                    tr {
                        td { a href={ (url) "/workforces/" (seg(&workforce.id)) } { (workforce.id) } }
                        td { (workforce.name) }
                        td { (workforce.members.join(", ")) }
                    }
                }
            }
        }
    }
}

/// A table of tasks, each row linking to its `href`.
fn tasks_table<'a>(rows: impl IntoIterator<Item = (String, &'a TaskView)>) -> Markup {
    let rows: Vec<_> = rows.into_iter().collect();
    let columns = [
        ("Title", false),
        ("State", false),
        ("Started by", false),
        ("Created", false),
        ("Updated", false),
    ];
    html! {
        table id="tasks" {
            (head(&columns))
            tbody {
                @for (href, task) in &rows {
                    tr {
                        td { a href=(href) { (task.label()) } div.muted { code { (task.id) } } }
                        td { (state_badge(&task.state)) }
                        td {
                            @if let Some(prefix) = &task.task_prefix {
                                "embed key " code { (task.created_by_key_id) }
                                " (prefix " code { (prefix) } ")"
                            } @else {
                                code { (task.created_by_key_id) }
                            }
                        }
                        td { (when(&task.insert_date)) }
                        td { (when(&task.update_date)) }
                    }
                }
                @if rows.is_empty() { (empty_row(5, "No tasks yet.")) }
            }
        }
    }
}

/// An agent: its settings, the public/private switch, its tasks (newest first).
pub(crate) fn agent(
    project: &str,
    csrf: &str,
    agent: &AgentView,
    tasks: &[TaskView],
    webhooks: &[WebhookView],
) -> Markup {
    let purl = project_url(project);
    let url = format!("{purl}/agents/{}", seg(&agent.id));
    let (switch_to, switch_label) = if agent.public {
        ("false", "Make private")
    } else {
        ("true", "Make public")
    };
    let switch = html! {
        input type="hidden" name="public" value=(switch_to);
        " "
        button type="submit" class="secondary" id="toggle-visibility" { (switch_label) }
    };
    html! {
        p { a href=(purl) { "← Project " (project) } }
        div.card { dl.settings {
            dt { "Id" } dd { code { (agent.id) } }
            dt { "Name" } dd { (agent.emoji.as_deref().unwrap_or("")) " " span id="agent-name" { (agent.name.as_deref().unwrap_or("(no name)")) } }
            dt { "Description" } dd { (agent.description.as_deref().unwrap_or("")) }
            dt { "Model" } dd { (agent.model) }
            dt { "Created" } dd { (when(&agent.insert_date)) }
            dt { "Updated" } dd { (when(&agent.update_date)) }
            dt { "Visibility" }
            dd {
                span id="visibility" { (visibility_badge(agent.public)) }
                (post_form(&format!("{url}/visibility"), "inline", csrf, switch))
                div.muted { "Only public agents hand out embed keys; existing embed keys keep working until revoked." }
            }
        } }
        p { a href={ (purl) "/keys?agent=" (seg(&agent.id)) } { "Embed keys for this agent" } }
        (webhook_list(webhooks))
        h2 { "Tasks" }
        (tasks_table(tasks.iter().rev().map(|task| {
            (format!("{purl}/tasks/{}", seg(&task.id)), task)
        })))
    }
}

/// An agent's webhook triggers: each URL (its own secret: shown here to the operator only)
/// and how a payload becomes a message.
fn webhook_list(webhooks: &[WebhookView]) -> Markup {
    html! {
        h2 { "Webhook triggers" }
        @if webhooks.is_empty() {
            p.muted { "None. Add one to the seed: [[projects.agents.webhooks]] with a message_template (see the emulator's README)." }
        } @else {
            p.muted { "POST any JSON payload to a URL below; no key is needed: the URL is the secret." }
            table id="webhooks" {
                thead { tr { th { "Name" } th { "URL" } th { "Message template" } th { "Thread id field" } th { "Unique id field" } } }
                tbody { @for webhook in webhooks { tr {
                    td { (webhook.name.as_deref().unwrap_or("")) }
                    td { code.webhook-url { (webhook.url) } }
                    td { code { (webhook.message_template) } }
                    td { (field_or_dash(webhook.thread_id_field.as_deref())) }
                    td { (field_or_dash(webhook.unique_id_field.as_deref())) }
                } } }
            }
        }
    }
}

fn field_or_dash(field: Option<&str>) -> Markup {
    match field {
        Some(field) => html! { code { (field) } },
        None => dash(),
    }
}

/// A workforce: its settings, members in order, its tasks.
pub(crate) fn workforce(project: &str, workforce: &WorkforceView, tasks: &[TaskView]) -> Markup {
    let purl = project_url(project);
    let wurl = format!("{purl}/workforces/{}", seg(&workforce.id));
    html! {
        p { a href=(purl) { "← Project " (project) } }
        div.card { dl.settings {
            dt { "Id" } dd { code { (workforce.id) } }
            dt { "Name" } dd { (workforce.name) }
            dt { "Visibility" }
            dd { (badge("neutral", "embeddable")) " " span.muted { "workforces have no public/private switch: any workforce of the project hands out embed keys" } }
            dt { "Agents, in order" }
            dd { ol style="margin:0;padding-left:1.2rem;list-style:none" {
                @for (position, agent) in workforce.members.iter().enumerate() {
                    li { (position + 1) ". " a href={ (purl) "/agents/" (seg(agent)) } { (agent) } }
                }
            } }
        } }
        p { a href={ (purl) "/keys?workforce=" (seg(&workforce.id)) } { "Embed keys for this workforce" } }
        h2 { "Tasks" }
        (tasks_table(tasks.iter().map(|task| {
            (format!("{wurl}/tasks/{}", seg(&task.id)), task)
        })))
    }
}

/// A task page: a link back to its agent or workforce, its settings, its messages in
/// order. With `decide` (agent tasks), a Delete link and a waiting run's decision forms.
pub(crate) fn task(
    back: (&str, &str),
    task: &TaskView,
    messages: Vec<MessageView>,
    decide: Option<Decide<'_>>,
) -> Markup {
    let messages: Vec<_> = messages
        .into_iter()
        .map(|message| (message.item_id, message.insert_date, message.content))
        .collect();
    let (back_href, back_label) = back;
    html! {
        p { a href=(back_href) { "← " (back_label) } }
        div.card { dl.settings {
            dt { "Task" } dd { code { (task.id) } }
            dt { "State" } dd { (state_badge(&task.state)) }
            dt { "Started by" }
            dd {
                code { (task.created_by_key_id) }
                @if let Some(prefix) = &task.task_prefix { " (embed key, prefix " code { (prefix) } ")" }
            }
            dt { "Created" } dd { (when(&task.insert_date)) }
            dt { "Updated" } dd { (when(&task.update_date)) }
        } }
        @if let Some(decide) = decide {
            p { a href={ (decide.task_url) "/delete" } id="delete-task" { "Delete this task…" } }
        }
        h2 { "Messages" }
        (messages::render(&messages, decide))
    }
}

/// Asks before deleting an agent task (works without script), as revoking a key does.
pub(crate) fn confirm_delete(task_url: &str, csrf: &str, task: &TaskView) -> Markup {
    let buttons = html! {
        button type="submit" class="danger" id="confirm-delete" { "Delete task" }
        " "
        a href=(task_url) id="cancel-delete" { "Cancel" }
    };
    html! {
        div.card.warning {
            p { "Delete the task " strong { (task.label()) } " (" code { (task.id) } ")?" }
            p {
                "Its messages, runs and scheduled messages go with it; the API answers "
                strong { "404" } " for it from then on. This cannot be undone."
            }
            (post_form(&format!("{task_url}/delete"), "row", csrf, buttons))
        }
    }
}
