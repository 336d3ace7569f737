//! Tools (PROTOCOL A12): list, read, create or update, delete, clone and run a
//! project's tools. Only API keys reach these (the route policy refuses embed keys),
//! so every use case works on the caller's whole project.
//!
//! A tool's document keeps the `Tool` fields a client sent (also ones the emulator
//! does not use, such as `transformations`), minus the fields the server owns
//! ([`SERVER_FIELDS`]). Its behaviour is the emulator's own `emulator_behavior` field
//! ([`crate::engine::tool_runner::ToolBehavior`]). Running goes through
//! [`crate::engine::tool_runner`], the same code an agent's script `tool` step uses.
//! The dashboard shows tools as [`ToolView`]s.

use serde_json::{Map, Value};

use crate::auth::Principal;
use crate::engine::new_item_id;
use crate::engine::tool_runner::{self, ToolBehavior, ToolOutcome};
use crate::error::{echo_id, ApiError};
use crate::state::AppState;
use crate::store::tools::{self, ToolRecord};
use crate::store::{CallerError, StoreError};
use crate::time::now_iso;

/// The field that carries the emulator's own behaviour of a tool, on the wire.
pub(crate) const BEHAVIOR_FIELD: &str = "emulator_behavior";

/// Fields the server sets on every answer and never takes from a client's document.
pub(crate) const SERVER_FIELDS: &[&str] = &[
    "studio_id",
    "_id",
    "project",
    "insert_date_",
    "update_date_",
    "type",
    "region",
    BEHAVIOR_FIELD,
];

/// Why a tool use case did not happen.
#[derive(Debug)]
pub(crate) enum ToolServiceError {
    /// No such tool in the caller's project.
    NotFound { tool_id: String },
    /// The request asks for something a tool cannot be; the text names the problem.
    Invalid(String),
    /// The database failed.
    Store(StoreError),
}

impl From<StoreError> for ToolServiceError {
    fn from(error: StoreError) -> ToolServiceError {
        ToolServiceError::Store(error)
    }
}

impl From<rusqlite::Error> for ToolServiceError {
    fn from(error: rusqlite::Error) -> ToolServiceError {
        ToolServiceError::Store(error.into())
    }
}

impl CallerError for ToolServiceError {}

impl From<ToolServiceError> for ApiError {
    fn from(error: ToolServiceError) -> ApiError {
        match error {
            ToolServiceError::NotFound { tool_id } => {
                ApiError::not_found(format!("no tool {}", echo_id(&tool_id)))
            }
            ToolServiceError::Invalid(problem) => ApiError::bad_request(problem),
            ToolServiceError::Store(error) => error.into(),
        }
    }
}

/// One entry of `studios/bulk_update`, parsed: the id, the fields and the behaviour if sent.
#[derive(Debug, Clone)]
pub(crate) struct ToolUpdate {
    pub(crate) id: String,
    pub(crate) fields: Map<String, Value>,
    pub(crate) behavior: Option<ToolBehavior>,
}

/// Parses one `updates` entry: `studio_id` (string), the document fields checked by
/// [`check_fields`], `emulator_behavior` if present.
pub(crate) fn parse_update(index: usize, entry: Value) -> Result<ToolUpdate, ToolServiceError> {
    let Value::Object(mut fields) = entry else {
        return Err(ToolServiceError::Invalid(format!(
            "`updates[{index}]` must be an object"
        )));
    };
    let id = match fields.get("studio_id") {
        Some(Value::String(id)) if is_usable_id(id) => id.clone(),
        Some(Value::String(_)) => {
            return Err(ToolServiceError::Invalid(format!(
                "`updates[{index}].studio_id` may not be empty or contain whitespace, '/', '?', '#' or '%'"
            )))
        }
        _ => {
            return Err(ToolServiceError::Invalid(format!(
                "`updates[{index}].studio_id` (a string) is missing"
            )))
        }
    };
    let behavior = match fields.remove(BEHAVIOR_FIELD) {
        None | Some(Value::Null) => None,
        Some(value) => {
            let behavior: ToolBehavior = serde_json::from_value(value).map_err(|error| {
                ToolServiceError::Invalid(format!("`updates[{index}].{BEHAVIOR_FIELD}`: {error}"))
            })?;
            behavior.check().map_err(|problem| {
                ToolServiceError::Invalid(format!("`updates[{index}].{BEHAVIOR_FIELD}`: {problem}"))
            })?;
            Some(behavior)
        }
    };
    for field in SERVER_FIELDS {
        fields.remove(*field);
    }
    check_fields(&fields)
        .map_err(|problem| ToolServiceError::Invalid(format!("`updates[{index}]`: {problem}")))?;
    Ok(ToolUpdate {
        id,
        fields,
        behavior,
    })
}

/// Ids go into URL paths unencoded.
fn is_usable_id(id: &str) -> bool {
    !id.is_empty()
        && !id
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '?' | '#' | '%'))
}

/// The types of the document fields the emulator reads; `params_schema` must compile.
pub(crate) fn check_fields(fields: &Map<String, Value>) -> Result<(), String> {
    for name in ["title", "description", "emoji", "version"] {
        if let Some(value) = fields.get(name) {
            if !value.is_string() && !value.is_null() {
                return Err(format!("`{name}` must be a string"));
            }
        }
    }
    if let Some(value) = fields.get("public") {
        if !value.is_boolean() {
            return Err("`public` must be true or false".to_string());
        }
    }
    for name in ["output_schema", "transformations"] {
        if let Some(value) = fields.get(name) {
            if !value.is_object() {
                return Err(format!("`{name}` must be an object"));
            }
        }
    }
    if let Some(schema) = fields.get("params_schema") {
        if !schema.is_object() {
            return Err("`params_schema` must be a JSON Schema object".to_string());
        }
        tool_runner::check_schema(schema)?;
    }
    Ok(())
}

/// The tool's `params_schema`, or the platform's empty one.
pub(crate) fn params_schema(tool: &ToolRecord) -> Value {
    tool.document
        .get("params_schema")
        .cloned()
        .unwrap_or_else(empty_params_schema)
}

/// `{"type": "object", "properties": {}, "required": []}`: what the platform's client
/// sends for a new tool.
pub(crate) fn empty_params_schema() -> Value {
    serde_json::json!({"type": "object", "properties": {}, "required": []})
}

/// A tool as the dashboard shows it: the document's fields read once here, so the
/// pages need neither the stored row nor its JSON document.
#[derive(Debug, Clone)]
pub(crate) struct ToolView {
    pub(crate) project: String,
    pub(crate) id: String,
    /// The document's `title`, or the id when it has none (or only blanks).
    pub(crate) title: String,
    /// The document's `emoji`, empty when it has none.
    pub(crate) emoji: String,
    /// The document's `description`, empty when it has none.
    pub(crate) description: String,
    /// Whether the document says `"public": true`.
    pub(crate) public: bool,
    /// As [`params_schema`] gives it.
    pub(crate) params_schema: Value,
}

impl From<ToolRecord> for ToolView {
    fn from(tool: ToolRecord) -> ToolView {
        let text = |field: &str| {
            tool.document
                .get(field)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let title = text("title");
        let title = if title.trim().is_empty() {
            tool.id.clone()
        } else {
            title
        };
        ToolView {
            title,
            emoji: text("emoji"),
            description: text("description"),
            public: tool.document.get("public").and_then(Value::as_bool) == Some(true),
            params_schema: params_schema(&tool),
            project: tool.project,
            id: tool.id,
        }
    }
}

/// Up to `limit` tools of the caller's project, ordered by id.
pub(crate) async fn list(
    state: &AppState,
    principal: &Principal,
    limit: i64,
) -> Result<Vec<ToolRecord>, ToolServiceError> {
    let project = principal.project.clone();
    Ok(state
        .store()
        .call(move |db| tools::list_tools(db, &project, limit))
        .await?)
}

/// One tool of the caller's project.
pub(crate) async fn get(
    state: &AppState,
    principal: &Principal,
    tool_id: &str,
) -> Result<ToolRecord, ToolServiceError> {
    let project = principal.project.clone();
    let lookup = tool_id.to_string();
    state
        .store()
        .call(move |db| tools::find_tool(db, &project, &lookup))
        .await?
        .ok_or_else(|| ToolServiceError::NotFound {
            tool_id: tool_id.to_string(),
        })
}

/// Creates or updates every tool in `updates`, all in one transaction. With
/// `partial_update`, an existing tool keeps the fields an update does not name;
/// without, its document is replaced. A tool keeps its behaviour unless one is sent.
pub(crate) async fn bulk_update(
    state: &AppState,
    principal: &Principal,
    updates: Vec<ToolUpdate>,
    partial_update: bool,
) -> Result<(), ToolServiceError> {
    let project = principal.project.clone();
    let now = now_iso();
    state
        .store()
        .call(move |db| {
            let transaction = db.transaction()?;
            for update in updates {
                let stored = tools::find_tool(&transaction, &project, &update.id)?;
                let record = merged(&project, stored, update, partial_update, &now);
                tools::save_tool(&transaction, &record)?;
            }
            transaction.commit()
        })
        .await?;
    Ok(())
}

fn merged(
    project: &str,
    stored: Option<ToolRecord>,
    update: ToolUpdate,
    partial_update: bool,
    now: &str,
) -> ToolRecord {
    let (insert_date, mut document, behavior) = match stored {
        Some(tool) => (tool.insert_date, tool.document, tool.behavior),
        None => (
            now.to_string(),
            Map::new(),
            ToolBehavior::default().to_json(),
        ),
    };
    if !partial_update {
        document.clear();
    }
    document.extend(update.fields);
    ToolRecord {
        project: project.to_string(),
        id: update.id,
        document,
        behavior: update
            .behavior
            .map_or(behavior, |behavior| behavior.to_json()),
        insert_date,
        update_date: now.to_string(),
    }
}

/// Deletes these tools of the caller's project; ids that name no tool are skipped (a
/// repeated delete succeeds, as the platform's client expects of a 200).
pub(crate) async fn bulk_delete(
    state: &AppState,
    principal: &Principal,
    ids: Vec<String>,
) -> Result<(), ToolServiceError> {
    let project = principal.project.clone();
    state
        .store()
        .call(move |db| {
            let transaction = db.transaction()?;
            tools::delete_tools(&transaction, &project, &ids)?;
            transaction.commit()
        })
        .await?;
    Ok(())
}

/// Copies a tool of the caller's project under a new id; the copy's `metadata` names
/// its source (the platform's `source_studio_id`, `source_project`, `source_region`).
pub(crate) async fn clone(
    state: &AppState,
    principal: &Principal,
    tool_id: &str,
) -> Result<String, ToolServiceError> {
    let project = principal.project.clone();
    let region = principal.region.code().to_string();
    let source = tool_id.to_string();
    let copy_id = new_item_id();
    let now = now_iso();
    let answer_id = copy_id.clone();
    state
        .store()
        .call(move |db| -> Result<_, ToolServiceError> {
            let transaction = db.transaction()?;
            let Some(tool) = tools::find_tool(&transaction, &project, &source)? else {
                return Err(ToolServiceError::NotFound { tool_id: source });
            };
            let mut document = tool.document;
            document.insert(
                "metadata".to_string(),
                serde_json::json!({"source_studio_id": source, "source_project": project,
                                   "source_region": region}),
            );
            let copy = ToolRecord {
                id: copy_id,
                document,
                insert_date: now.clone(),
                update_date: now,
                ..tool
            };
            tools::save_tool(&transaction, &copy)?;
            transaction.commit()?;
            Ok(answer_id)
        })
        .await
}

/// Runs a tool of the caller's project on `params`, waiting as long as its behaviour
/// says; params that break its `params_schema` are an outcome (`failed`), not an error.
pub(crate) async fn run(
    state: &AppState,
    principal: &Principal,
    tool_id: &str,
    params: Value,
) -> Result<ToolOutcome, ToolServiceError> {
    let tool = get(state, principal, tool_id).await?;
    let behavior = ToolBehavior::from_json(&tool.behavior);
    let outcome = tool_runner::run(&params_schema(&tool), &behavior, &params);
    if outcome.delay_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(outcome.delay_ms)).await;
    }
    Ok(outcome)
}
