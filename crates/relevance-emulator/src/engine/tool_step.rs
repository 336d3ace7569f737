//! A script `tool` step that names a tool of its project (PROTOCOL A12): the tool's
//! own title, description, emoji and `params_schema` go into the run's `tool_config`,
//! and its outcome comes from [`super::tool_runner`] on the step's `input`, exactly as
//! a direct `trigger_limited` would give it. A step naming no stored tool keeps the
//! step's own `output` / `error`.

use rusqlite::Connection;
use serde_json::Value;

use super::tool_runner::{self, ToolBehavior, ToolOutcome, ToolStatus};
use crate::store::tools;

/// A project's tool as a script step runs it.
#[derive(Debug, Clone)]
pub(crate) struct StepTool {
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) emoji: Option<String>,
    pub(crate) params_schema: Value,
    pub(crate) outcome: ToolOutcome,
}

impl StepTool {
    /// The failure text a tool-run's `errors` gets, or `None` when the run completed.
    pub(crate) fn error(&self) -> Option<String> {
        match self.outcome.status {
            ToolStatus::Complete => None,
            ToolStatus::Failed => Some(self.outcome.errors.join("; ")),
        }
    }
}

/// The tool `name` of `project` run on `input`, if the project has such a tool.
pub(crate) fn find(
    connection: &Connection,
    project: &str,
    name: &str,
    input: &Value,
) -> rusqlite::Result<Option<StepTool>> {
    let Some(tool) = tools::find_tool(connection, project, name)? else {
        return Ok(None);
    };
    let text = |field: &str| {
        tool.document
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let params_schema =
        tool.document.get("params_schema").cloned().unwrap_or_else(
            || serde_json::json!({"type": "object", "properties": {}, "required": []}),
        );
    let behavior = ToolBehavior::from_json(&tool.behavior);
    let outcome = tool_runner::run(&params_schema, &behavior, input);
    Ok(Some(StepTool {
        title: text("title").unwrap_or_else(|| name.to_string()),
        description: text("description").unwrap_or_default(),
        emoji: text("emoji"),
        params_schema,
        outcome,
    }))
}
