//! `relevance tools list | get ID | run ID --param key=value... | --params-json FILE
//! [--detach] | job TOOL JOB [--wait | --cancel]`.
//!
//! A run is a job (PROTOCOL A15): started under an id the SDK chooses, then followed on the
//! platform's long poll, so a tool longer than one request's budget runs too (see
//! `job_follow`). A run whose params break the tool's schema is printed like any other
//! run, then the command fails (exit 1), so a script notices; a failed request fails
//! before printing.

use std::path::Path;

use anyhow::{bail, Context, Result};
use relevance::{JobRef, Tool, ToolJob, ToolOutput, ToolOutputStatus};
use serde_json::{json, Map, Value};

use crate::cli::{CredentialArgs, ToolsCommand};
use crate::output;

pub(super) mod job_follow;

pub async fn run(command: ToolsCommand, credentials: &CredentialArgs, json: bool) -> Result<()> {
    let client = credentials.client()?;
    match command {
        ToolsCommand::List => {
            let tools = client.tools().list().await?;
            if json {
                let tools: Vec<Value> = tools.iter().map(tool_json).collect();
                output::print_json(&json!({ "tools": tools }));
            } else if tools.is_empty() {
                println!("no tools");
            } else {
                tools.iter().for_each(print_tool_line);
            }
        }
        ToolsCommand::Get { id } => {
            let tool = client.tools().get(&id).await?;
            if json {
                output::print_json(&tool_json(&tool));
            } else {
                print_tool(&tool);
            }
        }
        ToolsCommand::Run {
            id,
            params,
            params_json,
            detach,
        } => {
            let params = match params_json {
                Some(file) => params_from_file(&file)?,
                None => params_from_pairs(&params)?,
            };
            let tool = client.tools().get(&id).await?;
            let job = tool.start(params).await?;
            if detach {
                print_detached(&job, json);
                return Ok(());
            }
            finish(&id, &job_follow::follow(&job, json).await?, json)?;
        }
        ToolsCommand::Job {
            tool,
            job,
            wait,
            cancel,
        } => {
            let job = client.tools().job(JobRef {
                studio_id: tool.clone(),
                job_id: job,
            });
            if cancel {
                job.cancel().await?;
                print_done(json, "cancelled", job.id());
            } else if wait {
                finish(&tool, &job_follow::follow(&job, json).await?, json)?;
            } else {
                match job.check().await? {
                    Some(run) => finish(&tool, &run, json)?,
                    None => print_done(json, "running", job.id()),
                }
            }
        }
    }
    Ok(())
}

/// Prints an ended run; fails unless it completed.
fn finish(tool: &str, run: &ToolOutput, json: bool) -> Result<()> {
    if json {
        output::print_json(&run_json(run));
    } else {
        print_run(run);
    }
    if run.status != ToolOutputStatus::Complete {
        bail!("tool {tool} did not complete ({} errors)", run.errors.len());
    }
    Ok(())
}

/// `--detach`: the ids to follow the job with later.
fn print_detached(job: &ToolJob, json: bool) {
    let ids = job.ids();
    if json {
        output::print_json(&json!({"tool_id": ids.studio_id, "job_id": ids.job_id}));
    } else {
        println!("job {} started", ids.job_id);
        println!(
            "follow it with: relevance tools job {} {} --wait",
            ids.studio_id, ids.job_id
        );
    }
}

/// A job's state in one line (or object).
fn print_done(json: bool, what: &str, job_id: &str) {
    if json {
        output::print_json(&json!({"job_id": job_id, "state": what}));
    } else {
        println!("job {job_id}: {what}");
    }
}

/// `key=value` pairs as a params object: a value that is JSON (`3`, `true`, `[1]`,
/// `"x"`) is taken as that JSON, anything else as a string.
pub fn params_from_pairs(pairs: &[String]) -> Result<Value> {
    let mut params = Map::new();
    for pair in pairs {
        let Some((key, value)) = pair.split_once('=') else {
            bail!("--param {pair:?} is not key=value");
        };
        if key.is_empty() {
            bail!("--param {pair:?} has an empty key");
        }
        let value = serde_json::from_str(value).unwrap_or_else(|_| json!(value));
        params.insert(key.to_string(), value);
    }
    Ok(Value::Object(params))
}

fn params_from_file(file: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("could not read the params file {}", file.display()))?;
    let params: Value = serde_json::from_str(&text)
        .with_context(|| format!("the params file {} is not JSON", file.display()))?;
    if !params.is_object() {
        bail!("the params file {} must hold a JSON object", file.display());
    }
    Ok(params)
}

fn tool_json(tool: &Tool) -> Value {
    json!({
        "id": tool.id,
        "title": tool.title,
        "description": tool.description,
        "emoji": tool.emoji,
        "public": tool.public,
        "project": tool.project,
        "params_schema": tool.params_schema,
        "created_at": tool.created_at.map(|t| t.to_rfc3339()),
        "updated_at": tool.updated_at.map(|t| t.to_rfc3339()),
    })
}

fn print_tool_line(tool: &Tool) {
    println!(
        "{} {:<38} {:<28} {}",
        tool.emoji.as_deref().unwrap_or(" "),
        tool.id,
        tool.title.as_deref().unwrap_or("(untitled)"),
        if tool.public { "public" } else { "private" }
    );
}

fn print_tool(tool: &Tool) {
    println!("id:          {}", tool.id);
    if let Some(title) = &tool.title {
        println!("title:       {title}");
    }
    if let Some(description) = &tool.description {
        println!("description: {description}");
    }
    println!(
        "visibility:  {}",
        if tool.public { "public" } else { "private" }
    );
    println!("project:     {}", tool.project);
    println!("params:      {}", tool.params_schema);
}

fn status_text(status: &ToolOutputStatus) -> String {
    match status {
        ToolOutputStatus::Complete => "complete".to_string(),
        ToolOutputStatus::InProgress => "inprogress".to_string(),
        ToolOutputStatus::Failed => "failed".to_string(),
        ToolOutputStatus::Cancelled => "cancelled".to_string(),
        other => format!("{other:?}"),
    }
}

fn run_json(run: &ToolOutput) -> Value {
    json!({
        "status": status_text(&run.status),
        "output": run.output,
        "errors": run.errors,
        "execution_time_ms": run.execution_time.map(|t| t.as_secs_f64() * 1000.0),
    })
}

fn print_run(run: &ToolOutput) {
    println!("status:  {}", status_text(&run.status));
    if let Some(time) = run.execution_time {
        println!("time:    {:.1} ms", time.as_secs_f64() * 1000.0);
    }
    if let Some(output) = &run.output {
        println!("output:  {output}");
    }
    for error in &run.errors {
        println!("error:   {error}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_become_a_params_object() {
        let pairs = [
            "city=Oslo",
            "days=3",
            "ok=true",
            "list=[1,2]",
            "quoted=\"7\"",
            "e=",
        ];
        let pairs: Vec<String> = pairs.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            params_from_pairs(&pairs).expect("params"),
            json!({"city": "Oslo", "days": 3, "ok": true, "list": [1, 2], "quoted": "7", "e": ""})
        );
        for bad in ["novalue", "=x"] {
            assert!(params_from_pairs(&[bad.to_string()]).is_err(), "{bad}");
        }
    }
}
