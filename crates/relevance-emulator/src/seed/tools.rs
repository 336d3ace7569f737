//! The seed's `[[projects.tools]]` (PROTOCOL A12) and the agents' `tools = [...]` lists.
//!
//! A tool is its `Tool` fields (title, description, emoji, public, `params_schema` as an
//! inline TOML table or a JSON string) and the emulator's behaviour (`output`, templated
//! from the params; `delay_ms`; `error` for a tool that fails). The schema must compile
//! and every tool an agent lists must be a tool of its project.

use std::collections::HashSet;

use serde_json::{Map, Value};
use toml::Spanned;

use super::check::Checker;
use super::file::ToolEntry;
use super::SeedProblem;
use crate::engine::tool_runner::{self, ToolBehavior, MAX_TOOL_DELAY_MS};
use crate::store::tools::ToolSpec;

impl Checker<'_> {
    /// A project's tools, each id once, each schema valid.
    pub(super) fn tools(
        &self,
        project: &str,
        entries: Vec<ToolEntry>,
    ) -> Result<Vec<ToolSpec>, SeedProblem> {
        let mut ids = HashSet::new();
        let mut tools = Vec::new();
        for entry in entries {
            let id = self.id("tool", &entry.id)?;
            if !ids.insert(id.clone()) {
                return Err(self.problem(
                    &entry.id,
                    format!("duplicate tool id {id:?} in project {project:?}"),
                ));
            }
            tools.push(self.tool(id, entry)?);
        }
        Ok(tools)
    }

    fn tool(&self, id: String, entry: ToolEntry) -> Result<ToolSpec, SeedProblem> {
        let mut document = Map::new();
        document.insert(
            "title".into(),
            Value::String(entry.title.unwrap_or_else(|| id.clone())),
        );
        document.insert(
            "description".into(),
            Value::String(entry.description.unwrap_or_default()),
        );
        if let Some(emoji) = entry.emoji {
            document.insert("emoji".into(), Value::String(emoji));
        }
        document.insert("public".into(), Value::Bool(entry.public));
        if let Some(schema) = &entry.params_schema {
            let value = self.params_schema(&id, schema)?;
            document.insert("params_schema".into(), value);
        }
        let behavior = ToolBehavior {
            output: match &entry.output {
                None => None,
                Some(output) => Some(serde_json::to_value(output.get_ref()).map_err(|error| {
                    self.problem(
                        output,
                        format!("tool {id:?}: `output` is not JSON: {error}"),
                    )
                })?),
            },
            delay_ms: match &entry.delay_ms {
                None => 0,
                Some(delay) => u64::try_from(*delay.get_ref())
                    .ok()
                    .filter(|ms| *ms <= MAX_TOOL_DELAY_MS)
                    .ok_or_else(|| {
                        self.problem(
                            delay,
                            format!("delay_ms of tool {id:?} must be 0 to {MAX_TOOL_DELAY_MS}"),
                        )
                    })?,
            },
            error: entry.error,
            cost: match &entry.cost {
                None => None,
                Some(cost) => Some(
                    serde_json::Number::from_f64(*cost.get_ref())
                        .filter(|_| *cost.get_ref() >= 0.0)
                        .ok_or_else(|| {
                            self.problem(cost, format!("cost of tool {id:?} must be a number >= 0"))
                        })?,
                ),
            },
        };
        Ok(ToolSpec {
            id,
            document,
            behavior: behavior.to_json(),
        })
    }

    /// An inline TOML table, or a JSON object in a string; it must compile as a JSON Schema.
    fn params_schema(
        &self,
        tool: &str,
        schema: &Spanned<toml::Value>,
    ) -> Result<Value, SeedProblem> {
        let value = match schema.get_ref() {
            toml::Value::Table(table) => serde_json::to_value(table).map_err(|error| {
                self.problem(schema, format!("tool {tool:?}: params_schema: {error}"))
            })?,
            toml::Value::String(text) => serde_json::from_str(text).map_err(|error| {
                self.problem(
                    schema,
                    format!("tool {tool:?}: params_schema is not valid JSON: {error}"),
                )
            })?,
            _ => {
                return Err(self.problem(
                    schema,
                    format!("tool {tool:?}: params_schema must be a table or a JSON string"),
                ))
            }
        };
        if !value.is_object() {
            return Err(self.problem(
                schema,
                format!("tool {tool:?}: params_schema must be a JSON Schema object"),
            ));
        }
        tool_runner::check_schema(&value)
            .map_err(|problem| self.problem(schema, format!("tool {tool:?}: {problem}")))?;
        Ok(value)
    }

    /// An agent's `tools = [...]`: each a tool of the project, each once.
    pub(super) fn agent_tools(
        &self,
        project: &str,
        agent: &str,
        listed: &[Spanned<String>],
        tools: &[ToolSpec],
    ) -> Result<Vec<String>, SeedProblem> {
        let mut seen = HashSet::new();
        let mut ids = Vec::new();
        for tool in listed {
            let id = tool.get_ref();
            if !tools.iter().any(|known| &known.id == id) {
                return Err(self.problem(
                    tool,
                    format!(
                        "agent {agent:?} lists tool {id:?}, which is not a tool of project {project:?}"
                    ),
                ));
            }
            if seen.insert(id.clone()) {
                ids.push(id.clone());
            }
        }
        Ok(ids)
    }
}
