//! `relevance tasks list|show|send|rerun|delete|schedule`: an agent's or a workforce's
//! conversations, and an agent task's life (PROTOCOL A11, A17).

use anyhow::{Context, Result};
use futures_util::StreamExt;
use relevance::{
    Client, KeyScope, Task, TaskListOptions, TaskStatus, ToolRunEntry, WorkforceTaskListOptions,
};
use serde_json::json;

use crate::cli::{CredentialArgs, TasksCommand};
use crate::output;

/// Runs one `tasks` subcommand.
pub async fn run(command: TasksCommand, credentials: &CredentialArgs, json: bool) -> Result<()> {
    let client = credentials.client()?;
    match command {
        TasksCommand::List {
            agent,
            workforce,
            status,
            search,
            page_size,
            page,
        } => {
            let tasks = match default_target(&client, agent, workforce) {
                (_, Some(workforce)) => {
                    workforce_tasks(&client, &workforce, page_size, search).await?
                }
                (Some(agent), None) => {
                    agent_tasks(&client, &agent, &status, page_size, page, search).await?
                }
                (None, None) => anyhow::bail!(
                    "which tasks? pass --agent ID or --workforce ID (see `relevance agents list`)"
                ),
            };
            print_tasks(json, &tasks);
        }
        TasksCommand::Send {
            agent,
            message,
            task,
            trigger,
        } => {
            let agent = default_target(&client, agent, None)
                .0
                .context("which agent? pass --agent ID (see `relevance agents list`)")?;
            let agent = client.agents().get(&agent).await?;
            let mut builder = trigger.apply(agent.message(message));
            if let Some(task) = &task {
                builder = builder.in_task(task.as_str());
            }
            let task = builder.send().await?;
            print_done(json, "sent", &task.id);
        }
        TasksCommand::Rerun { agent, task, text } => {
            let task = agent_task(&client, agent, &task).await?;
            match &text {
                Some(text) => task.rerun_with(text).await?,
                None => task.rerun().await?,
            }
            print_done(json, "rerun", &task.id);
        }
        TasksCommand::Delete { agent, task } => {
            let task = agent_task(&client, agent, &task).await?;
            task.delete().await?;
            print_done(json, "deleted", &task.id);
        }
        TasksCommand::Schedule {
            agent,
            task,
            message,
            delay,
        } => schedule(&client, json, agent, &task, &message, &delay).await?,
        TasksCommand::Show {
            agent,
            workforce,
            task,
        } => show(&client, json, agent, workforce, &task).await?,
    }
    Ok(())
}

/// Every task of a workforce, following the cursor page by page.
async fn workforce_tasks(
    client: &Client,
    workforce: &str,
    page_size: u32,
    search: Option<String>,
) -> Result<Vec<Task>> {
    let workforce = client.workforces().get(workforce).await?;
    let options = WorkforceTaskListOptions {
        page_size: Some(page_size),
        search,
        cursor: None,
    };
    let mut all = Vec::new();
    let mut stream = workforce.all_tasks(options);
    while let Some(task) = stream.next().await {
        all.push(task?);
    }
    Ok(all)
}

/// One page of an agent's tasks, filtered by the `--status` values.
async fn agent_tasks(
    client: &Client,
    agent: &str,
    status: &[String],
    page_size: u32,
    page: u32,
    search: Option<String>,
) -> Result<Vec<Task>> {
    let statuses = status
        .iter()
        .map(|s| s.parse::<TaskStatus>())
        .collect::<Result<Vec<_>, _>>()
        .context("--status")?;
    let agent = client.agents().get(agent).await?;
    let options = TaskListOptions {
        page_size: Some(page_size),
        page: Some(page),
        statuses,
        search,
        ..TaskListOptions::default()
    };
    Ok(agent.tasks(options).await?.items)
}

fn print_tasks(json: bool, tasks: &[Task]) {
    if json {
        let tasks: Vec<_> = tasks.iter().map(task_json).collect();
        output::print_json(&json!({ "tasks": tasks }));
    } else if tasks.is_empty() {
        println!("no tasks");
    } else {
        print_task_table(tasks);
    }
}

/// `tasks schedule`: the message goes to the task after `--in`.
async fn schedule(
    client: &Client,
    json: bool,
    agent: Option<String>,
    task: &str,
    message: &str,
    delay: &str,
) -> Result<()> {
    let delay = parse_delay(delay).context("--in")?;
    let task = agent_task(client, agent, task).await?;
    let trigger_id = task.schedule_message(message, delay).await?;
    if json {
        output::print_json(&json!({"task_id": task.id, "trigger_id": trigger_id}));
    } else {
        println!("scheduled for task {} (trigger {trigger_id})", task.id);
    }
    Ok(())
}

/// `tasks show`: a task's title, status and every message.
async fn show(
    client: &Client,
    json: bool,
    agent: Option<String>,
    workforce: Option<String>,
    task: &str,
) -> Result<()> {
    let task = match default_target(client, agent, workforce) {
        (_, Some(workforce)) => {
            client
                .workforces()
                .get(&workforce)
                .await?
                .get_task(task)
                .await?
        }
        (Some(agent), None) => client.agents().get(&agent).await?.get_task(task).await?,
        (None, None) => anyhow::bail!(
            "which tasks? pass --agent ID or --workforce ID (see `relevance agents list`)"
        ),
    };
    let messages = task.messages().await?;
    if !json {
        println!("task {} — {} ({})", task.id, task.title, task.status);
    }
    output::print_lines(&crate::render::history_lines(&task.id, &messages, json));
    if task.agent_id().is_some() {
        print_tool_runs(&task.tool_runs().await?, json);
    }
    Ok(())
}

/// An agent task's tool runs with their cost (PROTOCOL A18), after its messages.
fn print_tool_runs(runs: &[ToolRunEntry], json: bool) {
    if json {
        for run in runs {
            output::print_json(&json!({"type": "tool_run_cost", "tool_id": run.tool_id,
                "status": run.status.wire_name(), "cost": run.cost, "credits_used": run.credits_used}));
        }
        return;
    }
    if runs.is_empty() {
        return;
    }
    let total: f64 = runs.iter().filter_map(|run| run.cost).sum();
    println!("tool runs (newest first), total cost {total}:");
    for run in runs {
        let cost = run.cost.map_or("-".to_string(), |cost| cost.to_string());
        println!(
            "  {:<28} {:<10} cost {cost}",
            run.tool_id,
            run.status.wire_name()
        );
    }
}

/// The agent task `task_id` of `--agent` (or the embed key's agent).
async fn agent_task(client: &Client, agent: Option<String>, task_id: &str) -> Result<Task> {
    let Some(agent) = default_target(client, agent, None).0 else {
        anyhow::bail!("which agent? pass --agent ID (see `relevance agents list`)");
    };
    Ok(client.agents().get(&agent).await?.get_task(task_id).await?)
}

fn print_done(json: bool, what: &str, task_id: &str) {
    if json {
        output::print_json(&json!({"task_id": task_id, "done": what}));
    } else {
        println!("{what}: task {task_id}");
    }
}

/// `30s`, `5m`, `2h`, `1d`, or a bare number of minutes. (One small format: not worth a
/// dependency.)
fn parse_delay(text: &str) -> Result<std::time::Duration> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "m"),
    };
    let seconds_per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 60 * 60,
        "d" => 24 * 60 * 60,
        _ => anyhow::bail!("{text:?}: use a number with s, m, h or d, e.g. 5m"),
    };
    let number: u64 = number
        .parse()
        .with_context(|| format!("{text:?}: use a number with s, m, h or d, e.g. 5m"))?;
    let seconds = number
        .checked_mul(seconds_per_unit)
        .with_context(|| format!("{text:?} is too long"))?;
    Ok(std::time::Duration::from_secs(seconds))
}

/// Like `chat`, an embed key needs no `--agent`: it reaches one agent or one workforce, so
/// that is the only sensible default. An explicit flag always wins.
fn default_target(
    client: &Client,
    agent: Option<String>,
    workforce: Option<String>,
) -> (Option<String>, Option<String>) {
    if agent.is_some() || workforce.is_some() || !client.is_embed_key() {
        return (agent, workforce);
    }
    match client.key().scope() {
        KeyScope::Agent(id) => (Some(id.to_owned()), None),
        KeyScope::Workforce(id) => (None, Some(id.to_owned())),
        KeyScope::Project => (None, None),
    }
}

/// One line per task, each column as wide as its longest value, so a long (prefixed or
/// imported) task id does not push the rest of its row out of line.
fn print_task_table(tasks: &[Task]) {
    let rows: Vec<[String; 4]> = tasks
        .iter()
        .map(|task| {
            [
                task.id.clone(),
                task.status.to_string(),
                task.created_at
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_default(),
                task.title.clone(),
            ]
        })
        .collect();
    let width = |column: usize| {
        rows.iter()
            .map(|row| row[column].chars().count())
            .max()
            .unwrap_or(0)
    };
    let (id, status, created) = (width(0), width(1), width(2));
    for [task_id, task_status, task_created, title] in &rows {
        let line =
            format!("{task_id:<id$}  {task_status:<status$}  {task_created:<created$}  {title}");
        println!("{}", line.trim_end());
    }
}

fn task_json(task: &Task) -> serde_json::Value {
    json!({
        "id": task.id,
        "title": task.title,
        "status": task.status.to_string(),
        "state": task.state,
        "agent_id": task.agent_id(),
        "workforce_id": task.workforce_id(),
        "created_at": task.created_at.map(|t| t.to_rfc3339()),
        "updated_at": task.updated_at.map(|t| t.to_rfc3339()),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn delays_take_a_unit_or_mean_minutes() {
        use std::time::Duration;
        for (text, seconds) in [
            ("30s", 30),
            ("5m", 300),
            ("2h", 7200),
            ("1d", 86400),
            ("3", 180),
        ] {
            assert_eq!(
                super::parse_delay(text).unwrap(),
                Duration::from_secs(seconds)
            );
        }
        for bad in ["", "m", "5x", "-1m", "1.5h", "99999999999999999999d"] {
            assert!(super::parse_delay(bad).is_err(), "{bad:?}");
        }
    }
}
