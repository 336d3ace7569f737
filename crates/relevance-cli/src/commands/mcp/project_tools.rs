//! The project's own tools, each served as an MCP tool of its own (API keys only): its name
//! made from its title (snake_case, unique, at most 64 characters, never a fixed tool's
//! name), its description, and its `params_schema` as the `inputSchema`, unchanged. A call
//! starts the tool as a job (PROTOCOL A15) and waits for it, sending the job's updates as
//! progress when the host asked; the result is the tool's output as text and as
//! structured content. The platform checks the params against the schema: its reasons
//! (which name the param) come back as the error result.
//!
//! The list is read from the platform on every `tools/list` and `tools/call`, so a tool
//! added, renamed or deleted meanwhile is served as it is now.

use std::collections::HashSet;
use std::sync::Arc;

use futures_util::StreamExt;
use relevance::{KeyScope, Tool};
use rmcp::handler::server::tool::IntoCallToolResult;
use rmcp::model::{CallToolRequestParams, CallToolResponse, JsonObject};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};
use serde_json::{json, Value};

use super::progress::Progress;
use super::results::{done, Failure, Outcome};
use super::surface::Surface;
use crate::commands::tools::job_follow;

/// The longest tool name MCP hosts accept.
const MOST_NAME_CHARS: usize = 64;

/// A job's updates read at most: far more than any job writes, so the wait always ends.
const MOST_UPDATES: usize = 100_000;

/// One project tool and the MCP name it is served under.
pub struct Entry {
    /// The MCP tool name.
    pub name: String,
    /// The tool.
    pub tool: Tool,
}

/// The project's tools under their MCP names, in the order of their ids (so a tool keeps
/// its name while others come and go); none for an embed key. `reserved` are the fixed
/// tools' names.
pub async fn catalog(surface: &Surface, reserved: &[String]) -> Result<Vec<Entry>, Failure> {
    if surface.scope() != KeyScope::Project {
        return Ok(Vec::new());
    }
    let mut tools = surface
        .client()?
        .tools()
        .list()
        .await
        .map_err(|e| Failure::platform("listing the project's tools", e))?;
    tools.sort_by(|a, b| a.id.cmp(&b.id));
    let titles: Vec<&str> = tools
        .iter()
        .map(|tool| tool.title.as_deref().unwrap_or(&tool.id))
        .collect();
    let names = names(&titles, reserved);
    Ok(names
        .into_iter()
        .zip(tools)
        .map(|(name, tool)| Entry { name, tool })
        .collect())
}

/// Unique MCP names for `titles`, in order: each title in snake_case, cut to 64
/// characters; a name already taken (by a reserved name or an earlier title) gets `_2`,
/// `_3`, … (cut shorter to make room).
pub fn names(titles: &[&str], reserved: &[String]) -> Vec<String> {
    let mut taken: HashSet<String> = reserved.iter().cloned().collect();
    let mut names = Vec::with_capacity(titles.len());
    for title in titles {
        let base = snake_case(title);
        let mut name = cut(&base, MOST_NAME_CHARS);
        // Bounded: at most one more try than there are names taken.
        for n in 2..=taken.len() + 2 {
            if !taken.contains(&name) {
                break;
            }
            let suffix = format!("_{n}");
            name = format!("{}{suffix}", cut(&base, MOST_NAME_CHARS - suffix.len()));
        }
        taken.insert(name.clone());
        names.push(name);
    }
    names
}

/// `title` in snake_case: ASCII letters and digits lower-cased, every other run of
/// characters one `_`, none at either end; `tool` when nothing is left.
fn snake_case(title: &str) -> String {
    let mut name = String::with_capacity(title.len());
    for part in title.split(|c: char| !c.is_ascii_alphanumeric()) {
        if part.is_empty() {
            continue;
        }
        if !name.is_empty() {
            name.push('_');
        }
        name.push_str(&part.to_ascii_lowercase());
    }
    match name.is_empty() {
        true => "tool".to_string(),
        false => name,
    }
}

/// The first `most` characters of an ASCII name, without a trailing `_`.
fn cut(name: &str, most: usize) -> String {
    name[..name.len().min(most)]
        .trim_end_matches('_')
        .to_string()
}

impl Entry {
    /// The MCP description of the tool: its `params_schema` as the input schema, unchanged
    /// (a schema that is not an object, which MCP cannot carry, is an empty object schema).
    pub fn describe(&self) -> rmcp::model::Tool {
        let schema: JsonObject = match &self.tool.params_schema {
            Value::Object(schema) => schema.clone(),
            _ => json!({"type": "object"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        };
        let title = self
            .tool
            .title
            .clone()
            .unwrap_or_else(|| self.tool.id.clone());
        let description = self
            .tool
            .description
            .clone()
            .unwrap_or_else(|| title.clone());
        rmcp::model::Tool::new(self.name.clone(), description, Arc::new(schema)).with_title(title)
    }
}

/// Runs the project tool called `request.name`. A name no project tool has is the one
/// protocol error (MCP's "unknown tool"): the host called something it was never listed.
pub async fn call(
    surface: &Surface,
    reserved: &[String],
    request: CallToolRequestParams,
    context: RequestContext<RoleServer>,
) -> Result<CallToolResponse, ErrorData> {
    let entries = match catalog(surface, reserved).await {
        Ok(entries) => entries,
        Err(failure) => return failure.into_call_tool_result(),
    };
    let Some(entry) = entries.into_iter().find(|entry| entry.name == request.name) else {
        return Err(ErrorData::invalid_params(
            format!("unknown tool: {}", request.name),
            None,
        ));
    };
    let params = Value::Object(request.arguments.unwrap_or_default());
    let mut progress = Progress::of(&context);
    run(&entry.tool, params, &mut progress)
        .await
        .into_call_tool_result()
}

/// Starts the tool as a job and waits for its end, its updates told as progress.
async fn run(tool: &Tool, params: Value, progress: &mut Progress) -> Outcome {
    let title = tool.title.clone().unwrap_or_else(|| tool.id.clone());
    let job = tool
        .start(params)
        .await
        .map_err(|e| Failure::platform(&format!("starting tool {title}"), e))?;
    if progress.wanted() {
        let mut updates = job.updates().take(MOST_UPDATES);
        // The stream ends with the job (or its first error, which the wait below meets).
        while let Some(Ok(update)) = updates.next().await {
            progress.say(job_follow::describe(&update)).await;
        }
    }
    let output = job
        .wait()
        .await
        .map_err(|e| Failure::platform(&format!("waiting for tool {title}"), e))?;
    if !output.is_complete() {
        return Err(Failure::new(format!(
            "tool {title} failed: {}",
            match output.errors.is_empty() {
                true => format!("it ended {}", output.status.wire_name()),
                false => output.errors.join("; "),
            }
        )));
    }
    let value = output.output.unwrap_or(Value::Null);
    let text = serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string());
    Ok(done(text, value))
}

#[cfg(test)]
mod tests {
    use super::names;

    #[test]
    fn names_are_snake_case_unique_and_short() {
        let long = "A very long title ".repeat(8);
        let reserved = vec!["list_agents".to_string()];
        let cases: Vec<(Vec<&str>, Vec<String>)> = vec![
            (vec!["Weather"], vec!["weather".into()]),
            (vec!["Send e-mail (v2)!"], vec!["send_e_mail_v2".into()]),
            (vec!["  Ünïcode ✓ "], vec!["n_code".into()]),
            (vec!["✓"], vec!["tool".into()]),
            (vec!["List agents"], vec!["list_agents_2".into()]),
            (
                vec!["Weather", "weather", "WEATHER"],
                vec!["weather".into(), "weather_2".into(), "weather_3".into()],
            ),
            (vec![long.as_str()], vec![long_name(64)]),
            (
                vec![long.as_str(), long.as_str()],
                vec![long_name(64), format!("{}_2", long_name(62))],
            ),
        ];
        for (titles, expected) in cases {
            let got = names(&titles, &reserved);
            assert_eq!(got, expected, "{titles:?}");
            assert!(got.iter().all(|name| name.len() <= 64), "{got:?}");
        }
    }

    /// The snake_case of the long title, cut to `most` characters (no trailing `_`).
    fn long_name(most: usize) -> String {
        let full = "a_very_long_title_".repeat(8);
        full[..most].trim_end_matches('_').to_string()
    }
}
