//! A task's tool runs as the platform lists them (PROTOCOL A18,
//! `agents/conversations/studios/list`): one entry per `tool-run` message, newest first,
//! with its status, output, credits and cost. The cost is what the tool's behaviour
//! declares (the seed's `cost`), zero otherwise; credits are never counted here.

use std::collections::HashMap;

use rusqlite::Connection;
use serde_json::{json, Value};

use super::content::{Content, ToolRunState};
use super::tool_runner::ToolBehavior;
use crate::store::tasks::{self, TaskRecord};
use crate::store::tools;

/// The tool runs of `task`, newest first, at most `limit`.
pub(crate) fn of_task(
    connection: &Connection,
    task: &TaskRecord,
    limit: usize,
) -> rusqlite::Result<Vec<Value>> {
    let messages = tasks::messages_oldest_first(connection, &task.project, &task.id)?;
    let mut costs: HashMap<String, Value> = HashMap::new();
    let mut entries = Vec::new();
    for message in messages.into_iter().rev() {
        if entries.len() >= limit {
            break;
        }
        let Some(Content::ToolRun(run)) = Content::from_json(message.content) else {
            continue;
        };
        let tool_id = run.tool_config.id.clone();
        if !costs.contains_key(&tool_id) {
            let cost = cost_of(connection, &task.project, &run.tool_config.kind, &tool_id)?;
            costs.insert(tool_id.clone(), cost);
        }
        entries.push(json!({
            "_id": run.action_details.action_request_id,
            "studio_id": tool_id,
            "status": status(run.tool_run_state),
            "output_preview": run.output,
            "credits_used": [],
            "cost": costs[&tool_id],
            "executor": {"agent_id": task.agent_id, "conversation_id": task.id},
            "insert_date_": message.insert_date,
        }));
    }
    Ok(entries)
}

/// A18's status of a run: `finished` is `complete`, a run not yet ended `inprogress`.
fn status(state: ToolRunState) -> &'static str {
    match state {
        ToolRunState::Pending | ToolRunState::Running => "inprogress",
        ToolRunState::Finished => "complete",
        ToolRunState::Error => "failed",
        ToolRunState::Cancelled => "cancelled",
    }
}

/// The cost a project tool declares; a sub-agent (or a tool the project no longer has)
/// costs nothing here.
fn cost_of(
    connection: &Connection,
    project: &str,
    kind: &str,
    tool_id: &str,
) -> rusqlite::Result<Value> {
    if kind != "tool" {
        return Ok(json!(0));
    }
    let cost = tools::find_tool(connection, project, tool_id)?
        .and_then(|tool| ToolBehavior::from_json(&tool.behavior).cost);
    Ok(cost.map_or(json!(0), Value::Number))
}
