//! The fixed knowledge tools — `list_knowledge_sets`, `read_knowledge` — served to API keys
//! only (the platform refuses knowledge to embed keys, PROTOCOL A16, so an embed key's
//! server does not list them at all).

use relevance::{RowListOptions, SetListOptions};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};

use super::results::{done, Failure, Outcome};
use super::server::McpServer;

/// Rows `read_knowledge` reads when no limit is given.
const DEFAULT_ROWS: u32 = 20;
/// The most rows one `read_knowledge` reads (one page of the platform's).
const MOST_ROWS: u32 = 1000;

/// `read_knowledge`'s arguments.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ReadArgs {
    /// The knowledge set's name, as list_knowledge_sets gives it.
    pub knowledge_set: String,
    /// How many rows, oldest first (1 to 1000; default 20).
    #[serde(default)]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Option<u32>,
}

#[tool_router(router = knowledge_router, vis = "pub(super)")]
impl McpServer {
    /// The project's knowledge sets.
    #[tool(
        description = "List the project's knowledge sets (tables of rows) with their row counts."
    )]
    async fn list_knowledge_sets(&self) -> Outcome {
        let client = self.surface.client()?;
        let page = client
            .knowledge()
            .list(SetListOptions::default())
            .await
            .map_err(|e| Failure::platform("listing the knowledge sets", e))?;
        let sets: Vec<Value> = page
            .iter()
            .map(|set| json!({"knowledge_set": set.name, "rows": set.row_count}))
            .collect();
        let text = match sets.is_empty() {
            true => "No knowledge sets.".to_string(),
            false => page
                .iter()
                .map(|set| format!("{} ({} rows)", set.name, set.row_count))
                .collect::<Vec<_>>()
                .join("\n"),
        };
        Ok(done(text, json!({ "knowledge_sets": sets })))
    }

    /// A set's first rows.
    #[tool(
        description = "Read a knowledge set's first rows, oldest first, as JSON (limit: 1 to 1000, default 20)."
    )]
    async fn read_knowledge(&self, Parameters(args): Parameters<ReadArgs>) -> Outcome {
        let limit = args.limit.unwrap_or(DEFAULT_ROWS);
        if !(1..=MOST_ROWS).contains(&limit) {
            return Err(Failure::new(format!(
                "limit must be 1 to {MOST_ROWS}, not {limit}"
            )));
        }
        let client = self.surface.client()?;
        let what = format!("reading knowledge set {:?}", args.knowledge_set);
        let set = client
            .knowledge()
            .set(&args.knowledge_set)
            .map_err(|e| Failure::platform(&what, e))?;
        let options = RowListOptions {
            page_size: Some(limit),
            ..RowListOptions::default()
        };
        let page = set
            .rows(options)
            .await
            .map_err(|e| Failure::platform(&what, e))?;
        let rows: Vec<Value> = page
            .iter()
            .map(|row| json!({"document_id": row.document_id, "data": row.data}))
            .collect();
        let text = match rows.is_empty() {
            true => format!("Knowledge set {:?} has no rows.", args.knowledge_set),
            false => rows
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        };
        Ok(done(
            text,
            json!({"knowledge_set": args.knowledge_set, "rows": rows}),
        ))
    }
}
