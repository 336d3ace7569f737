//! The catalogue pages: projects with their counts, one project's agents and
//! workforces, an agent (settings and tasks), a workforce, and a task's messages.

use std::collections::HashMap;

use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::html::{badge, csrf_field, esc, seg, when, Chrome, Page};
use super::session::SignedIn;
use super::{checked_form, messages, DashboardState, PageError};
use crate::store::catalog::{self, Visibility};
use crate::store::dashboard_queries::{self, set_agent_public};
use crate::store::tasks::{self, MessageRecord, TaskRecord, TaskScope};
use crate::store::workforce_tasks::{self, WorkforceTaskRecord, WorkforceTaskScope};
use crate::time::now_iso;

/// How many messages a task page shows at most (the newest ones).
const MAX_MESSAGES: i64 = 1000;
/// How many of a workforce's tasks its page lists (newest first).
const MAX_LISTED_TASKS: usize = 200;

fn chrome(session: &SignedIn) -> Chrome<'_> {
    Chrome::SignedIn {
        csrf: session.csrf(),
    }
}

fn project_url(project: &str) -> String {
    format!("/dashboard/projects/{}", seg(project))
}

/// The state as a coloured label, grouped as PROTOCOL A5's simplified status.
fn state_badge(state: &str) -> String {
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

/// `GET /dashboard`
pub(crate) async fn projects(
    State(state): State<DashboardState>,
    session: SignedIn,
) -> Result<Response, PageError> {
    let rows = state
        .app
        .store
        .call(|connection| dashboard_queries::project_counts(connection))
        .await?;
    let mut body = String::from(
        r#"<table id="projects"><thead><tr><th>Project</th><th>Region</th><th class="num">API keys</th><th class="num">Embed keys</th><th class="num">Agents</th><th class="num">Workforces</th><th class="num">Tasks</th><th></th></tr></thead><tbody>"#,
    );
    if rows.is_empty() {
        body.push_str(r#"<tr><td colspan="8" class="muted">No projects.</td></tr>"#);
    }
    for row in rows {
        body.push_str(&format!(
            r#"<tr><td><a href="{url}">{id}</a></td><td>{region} <code>{code}</code></td><td class="num">{api}</td><td class="num">{embed}</td><td class="num">{agents}</td><td class="num">{workforces}</td><td class="num">{tasks}</td><td><a href="{url}/keys">Keys</a></td></tr>"#,
            url = project_url(&row.id),
            id = esc(&row.id),
            region = row.region.name(),
            code = row.region.code(),
            api = row.api_keys,
            embed = row.embed_keys,
            agents = row.agents,
            workforces = row.workforces,
            tasks = row.tasks,
        ));
    }
    body.push_str(
        r#"</tbody></table><p class="muted">Key counts are keys that are not revoked.</p>"#,
    );
    Ok(Page::new(chrome(&session), "Projects", &body).into_response())
}

/// `GET /dashboard/projects/{project}`
pub(crate) async fn project(
    State(state): State<DashboardState>,
    session: SignedIn,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, PageError> {
    let Path(project) =
        path.map_err(|_| PageError::not_found("no such project").for_session(&session))?;
    let lookup = project.clone();
    let found = state
        .app
        .store
        .call(move |connection| {
            let Some(region) = catalog::project_region(connection, &lookup)? else {
                return Ok(None);
            };
            let agents = dashboard_queries::all_agents(connection, &lookup)?;
            let workforces = dashboard_queries::all_workforces(connection, &lookup)?;
            let tasks = tasks::list_tasks(connection, &lookup, &TaskScope::Project)?;
            Ok(Some((region, agents, workforces, tasks)))
        })
        .await?;
    let Some((region, agents, workforces, tasks)) = found else {
        return Err(PageError::not_found("no such project").for_session(&session));
    };
    let url = project_url(&project);
    let mut body = format!(
        r#"<p>Region {} <code>{}</code> · <a href="{url}/keys" id="keys-link">API and embed keys</a></p>
<h2>Agents</h2><table id="agents"><thead><tr><th>Agent</th><th>Name</th><th>Visibility</th><th>Model</th><th class="num">Tasks</th></tr></thead><tbody>"#,
        region.name(),
        region.code()
    );
    if agents.is_empty() {
        body.push_str(r#"<tr><td colspan="5" class="muted">No agents.</td></tr>"#);
    }
    for agent in &agents {
        let task_count = tasks
            .iter()
            .filter(|task| task.agent_id == agent.id)
            .count();
        body.push_str(&format!(
            r#"<tr><td><a href="{url}/agents/{seg}">{id}</a></td><td>{emoji} {name}</td><td>{visibility}</td><td>{model}</td><td class="num">{task_count}</td></tr>"#,
            seg = seg(&agent.id),
            id = esc(&agent.id),
            emoji = esc(agent.emoji.as_deref().unwrap_or("")),
            name = esc(agent.name.as_deref().unwrap_or("")),
            visibility = if agent.public {
                badge("info", "public")
            } else {
                badge("neutral", "private")
            },
            model = esc(&agent.model),
        ));
    }
    body.push_str(
        r#"</tbody></table><h2>Workforces</h2><table id="workforces"><thead><tr><th>Workforce</th><th>Name</th><th>Agents</th></tr></thead><tbody>"#,
    );
    if workforces.is_empty() {
        body.push_str(r#"<tr><td colspan="3" class="muted">No workforces.</td></tr>"#);
    }
    for workforce in &workforces {
        body.push_str(&format!(
            r#"<tr><td><a href="{url}/workforces/{seg}">{id}</a></td><td>{name}</td><td>{members}</td></tr>"#,
            seg = seg(&workforce.id),
            id = esc(&workforce.id),
            name = esc(&workforce.name),
            members = esc(&workforce.members.join(", ")),
        ));
    }
    body.push_str("</tbody></table>");
    Ok(Page::new(chrome(&session), &format!("Project {project}"), &body).into_response())
}

/// What the task tables and task pages show of a task, agent or workforce alike.
struct TaskView<'a> {
    id: &'a str,
    title: &'a str,
    state: &'a str,
    created_by_key_id: &'a str,
    task_prefix: Option<&'a str>,
    insert_date: &'a str,
    update_date: &'a str,
}

impl<'a> From<&'a TaskRecord> for TaskView<'a> {
    fn from(task: &'a TaskRecord) -> Self {
        TaskView {
            id: &task.id,
            title: &task.title,
            state: &task.state,
            created_by_key_id: &task.created_by_key_id,
            task_prefix: task.task_prefix.as_deref(),
            insert_date: &task.insert_date,
            update_date: &task.update_date,
        }
    }
}

impl<'a> From<&'a WorkforceTaskRecord> for TaskView<'a> {
    fn from(task: &'a WorkforceTaskRecord) -> Self {
        TaskView {
            id: &task.id,
            title: &task.title,
            state: &task.state,
            created_by_key_id: &task.created_by_key_id,
            task_prefix: None,
            insert_date: &task.insert_date,
            update_date: &task.update_date,
        }
    }
}

impl TaskView<'_> {
    /// The title, or the id when the task has none yet.
    fn label(&self) -> &str {
        if self.title.trim().is_empty() {
            self.id
        } else {
            self.title
        }
    }

    fn page_title(&self) -> String {
        if self.title.trim().is_empty() {
            format!("Task {}", self.id)
        } else {
            format!("Task: {}", self.title)
        }
    }
}

/// A table of tasks, each row linking to `{href}`.
fn tasks_table<'a>(rows: impl IntoIterator<Item = (String, TaskView<'a>)>) -> String {
    let mut html = String::from(
        r#"<table id="tasks"><thead><tr><th>Title</th><th>State</th><th>Started by</th><th>Created</th><th>Updated</th></tr></thead><tbody>"#,
    );
    let mut empty = true;
    for (href, task) in rows {
        empty = false;
        let started_by = match task.task_prefix {
            Some(prefix) => format!(
                "embed key <code>{}</code> (prefix <code>{}</code>)",
                esc(task.created_by_key_id),
                esc(prefix)
            ),
            None => format!("<code>{}</code>", esc(task.created_by_key_id)),
        };
        html.push_str(&format!(
            r#"<tr><td><a href="{href}">{}</a><div class="muted"><code>{}</code></div></td><td>{}</td><td>{started_by}</td><td>{}</td><td>{}</td></tr>"#,
            esc(task.label()),
            esc(task.id),
            state_badge(task.state),
            when(task.insert_date),
            when(task.update_date),
        ));
    }
    if empty {
        html.push_str(r#"<tr><td colspan="5" class="muted">No tasks yet.</td></tr>"#);
    }
    html.push_str("</tbody></table>");
    html
}

/// A task page: a link back to its agent or workforce, its settings, its messages in order.
fn task_page(
    session: &SignedIn,
    back: (&str, &str),
    task: TaskView<'_>,
    messages: Vec<MessageRecord>,
) -> Response {
    let messages: Vec<_> = messages
        .into_iter()
        .map(|message| (message.item_id, message.insert_date, message.content))
        .collect();
    let (back_href, back_label) = back;
    let body = format!(
        r#"<p><a href="{back_href}">← {back_label}</a></p>
<div class="card"><dl class="settings">
<dt>Task</dt><dd><code>{id}</code></dd><dt>State</dt><dd>{state}</dd>
<dt>Started by</dt><dd><code>{by}</code>{prefix}</dd>
<dt>Created</dt><dd>{created}</dd><dt>Updated</dt><dd>{updated}</dd>
</dl></div>
<h2>Messages</h2>{messages}"#,
        back_label = esc(back_label),
        id = esc(task.id),
        state = state_badge(task.state),
        by = esc(task.created_by_key_id),
        prefix = task.task_prefix.map_or_else(String::new, |prefix| format!(
            " (embed key, prefix <code>{}</code>)",
            esc(prefix)
        )),
        created = when(task.insert_date),
        updated = when(task.update_date),
        messages = messages::render(&messages),
    );
    Page::new(chrome(session), &task.page_title(), &body).into_response()
}

/// `GET /dashboard/projects/{project}/agents/{agent_id}`
pub(crate) async fn agent(
    State(state): State<DashboardState>,
    session: SignedIn,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, PageError> {
    let Path((project, agent_id)) =
        path.map_err(|_| PageError::not_found("no such agent").for_session(&session))?;
    let (lookup_project, lookup_agent) = (project.clone(), agent_id.clone());
    let found = state
        .app
        .store
        .call(move |connection| {
            let Some(agent) =
                catalog::find_agent(connection, &lookup_project, &Visibility::All, &lookup_agent)?
            else {
                return Ok(None);
            };
            let tasks: Vec<TaskRecord> =
                tasks::list_tasks(connection, &lookup_project, &TaskScope::Project)?
                    .into_iter()
                    .filter(|task| task.agent_id == lookup_agent)
                    .collect();
            Ok(Some((agent, tasks)))
        })
        .await?;
    let Some((agent, tasks)) = found else {
        return Err(PageError::not_found("no such agent in this project").for_session(&session));
    };
    let url = format!("{}/agents/{}", project_url(&project), seg(&agent.id));
    let (now, switch_to, switch_label) = if agent.public {
        (badge("info", "public"), "false", "Make private")
    } else {
        (badge("neutral", "private"), "true", "Make public")
    };
    let mut body = format!(
        r#"<p><a href="{purl}">← Project {pe}</a></p>
<div class="card"><dl class="settings">
<dt>Id</dt><dd><code>{id}</code></dd>
<dt>Name</dt><dd>{emoji} <span id="agent-name">{name}</span></dd>
<dt>Description</dt><dd>{description}</dd>
<dt>Model</dt><dd>{model}</dd>
<dt>Created</dt><dd>{created}</dd><dt>Updated</dt><dd>{updated}</dd>
<dt>Visibility</dt><dd><span id="visibility">{now}</span>
<form method="post" action="{url}/visibility" class="inline">{csrf}<input type="hidden" name="public" value="{switch_to}"> <button type="submit" class="secondary" id="toggle-visibility">{switch_label}</button></form>
<div class="muted">Only public agents hand out embed keys; existing embed keys keep working until revoked.</div></dd>
</dl></div>
<p><a href="{purl}/keys?agent={seg_id}">Embed keys for this agent</a></p>
<h2>Tasks</h2>"#,
        purl = project_url(&project),
        pe = esc(&project),
        id = esc(&agent.id),
        seg_id = seg(&agent.id),
        emoji = esc(agent.emoji.as_deref().unwrap_or("")),
        name = esc(agent.name.as_deref().unwrap_or("(no name)")),
        description = esc(agent.description.as_deref().unwrap_or("")),
        model = esc(&agent.model),
        created = when(&agent.insert_date),
        updated = when(&agent.update_date),
        csrf = csrf_field(session.csrf()),
    );
    // Newest first.
    body.push_str(&tasks_table(tasks.iter().rev().map(|task| {
        let href = format!("{}/tasks/{}", project_url(&project), seg(&task.id));
        (href, TaskView::from(task))
    })));
    let title = format!("Agent {}", agent.name.as_deref().unwrap_or(&agent.id));
    Ok(Page::new(chrome(&session), &title, &body).into_response())
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
    let (lookup_project, lookup_agent) = (project.clone(), agent_id.clone());
    let now = now_iso();
    let exists = state
        .app
        .store
        .call(move |connection| {
            set_agent_public(
                connection,
                connection.agent_cache(),
                &lookup_project,
                &lookup_agent,
                public,
                &now,
            )
        })
        .await?;
    if !exists {
        return Err(PageError::not_found("no such agent in this project").for_session(&session));
    }
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
    let (lookup, listed) = (project.clone(), workforce_id.clone());
    let (workforces, workforce_tasks) = state
        .app
        .store
        .call(move |connection| {
            let workforces = dashboard_queries::all_workforces(connection, &lookup)?;
            let tasks = workforce_tasks::page(
                connection,
                &lookup,
                &WorkforceTaskScope::Project,
                &listed,
                None,
                None,
                MAX_LISTED_TASKS,
            )?;
            Ok((workforces, tasks))
        })
        .await?;
    let Some(workforce) = workforces
        .into_iter()
        .find(|workforce| workforce.id == workforce_id)
    else {
        return Err(PageError::not_found("no such workforce in this project").for_session(&session));
    };
    let purl = project_url(&project);
    let members: Vec<String> = workforce
        .members
        .iter()
        .enumerate()
        .map(|(position, agent)| {
            format!(
                r#"<li>{}. <a href="{purl}/agents/{}">{}</a></li>"#,
                position + 1,
                seg(agent),
                esc(agent)
            )
        })
        .collect();
    let body = format!(
        r#"<p><a href="{purl}">← Project {pe}</a></p>
<div class="card"><dl class="settings">
<dt>Id</dt><dd><code>{id}</code></dd><dt>Name</dt><dd>{name}</dd>
<dt>Visibility</dt><dd>{visibility} <span class="muted">workforces have no public/private switch: any workforce of the project hands out embed keys</span></dd>
<dt>Agents, in order</dt><dd><ol style="margin:0;padding-left:1.2rem;list-style:none">{members}</ol></dd>
</dl></div>
<p><a href="{purl}/keys?workforce={seg_id}">Embed keys for this workforce</a></p>
<h2>Tasks</h2>{tasks}"#,
        tasks = tasks_table(workforce_tasks.iter().map(|task| {
            let href = format!(
                "{purl}/workforces/{}/tasks/{}",
                seg(&workforce.id),
                seg(&task.id)
            );
            (href, TaskView::from(task))
        })),
        pe = esc(&project),
        id = esc(&workforce.id),
        seg_id = seg(&workforce.id),
        name = esc(&workforce.name),
        visibility = badge("neutral", "embeddable"),
        members = members.concat(),
    );
    Ok(Page::new(
        chrome(&session),
        &format!("Workforce {}", workforce.name),
        &body,
    )
    .into_response())
}

/// `GET /dashboard/projects/{project}/tasks/{task_id}`
pub(crate) async fn task(
    State(state): State<DashboardState>,
    session: SignedIn,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, PageError> {
    let Path((project, task_id)) =
        path.map_err(|_| PageError::not_found("no such task").for_session(&session))?;
    let (lookup_project, lookup_task) = (project.clone(), task_id.clone());
    let found = state
        .app
        .store
        .call(move |connection| {
            let Some(task) = tasks::find_task(
                connection,
                &lookup_project,
                &TaskScope::Project,
                &lookup_task,
            )?
            else {
                return Ok(None);
            };
            let mut messages =
                tasks::list_messages(connection, &lookup_project, &task.id, None, MAX_MESSAGES)?;
            messages.reverse();
            Ok(Some((task, messages)))
        })
        .await?;
    let Some((task, messages)) = found else {
        return Err(PageError::not_found("no such task in this project").for_session(&session));
    };
    let back = format!("{}/agents/{}", project_url(&project), seg(&task.agent_id));
    let label = format!("Agent {}", task.agent_id);
    Ok(task_page(
        &session,
        (&back, &label),
        (&task).into(),
        messages,
    ))
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
    let (lookup_project, lookup_task) = (project.clone(), task_id.clone());
    let found = state
        .app
        .store
        .call(move |connection| {
            let Some(task) = workforce_tasks::find(
                connection,
                &lookup_project,
                &WorkforceTaskScope::Project,
                &lookup_task,
            )?
            else {
                return Ok(None);
            };
            let messages = workforce_tasks::merged_messages(
                connection,
                &lookup_project,
                &task.id,
                MAX_MESSAGES as usize,
            )?;
            Ok(Some((task, messages)))
        })
        .await?;
    let Some((task, messages)) = found.filter(|(task, _)| task.workforce_id == workforce_id) else {
        return Err(PageError::not_found("no such task in this workforce").for_session(&session));
    };
    let back = format!(
        "{}/workforces/{}",
        project_url(&project),
        seg(&task.workforce_id)
    );
    let label = format!("Workforce {}", task.workforce_id);
    Ok(task_page(
        &session,
        (&back, &label),
        (&task).into(),
        messages,
    ))
}
