//! `studios/...` (PROTOCOL A12): the project's tools. API keys only (the route table
//! gives these routes [`crate::auth::Policy::ProjectKey`]).

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::filters::{self, Filter};
use crate::auth::{Principal, ProjectKey};
use crate::engine::tool_runner::{ToolBehavior, ToolOutcome};
use crate::error::ApiError;
use crate::json::{ApiPath, ApiQuery, LenientJson};
use crate::service::tools::{self as service, BEHAVIOR_FIELD};
use crate::state::AppState;
use crate::store::tools::ToolRecord;

/// A tool on the wire: its document, then the fields the server owns.
pub(crate) fn render_tool(tool: ToolRecord) -> Value {
    let params_schema = service::params_schema(&tool);
    let behavior = ToolBehavior::from_json(&tool.behavior);
    let mut fields = tool.document;
    fields
        .entry("title".to_string())
        .or_insert_with(|| json!(""));
    fields
        .entry("description".to_string())
        .or_insert_with(|| json!(""));
    fields
        .entry("public".to_string())
        .or_insert_with(|| json!(false));
    fields.insert("params_schema".to_string(), params_schema);
    fields.insert("version".to_string(), json!("latest"));
    fields.insert("studio_id".to_string(), json!(tool.id));
    fields.insert("_id".to_string(), json!(tool.id));
    fields.insert("project".to_string(), json!(tool.project));
    fields.insert("insert_date_".to_string(), json!(tool.insert_date));
    fields.insert("update_date_".to_string(), json!(tool.update_date));
    if behavior != ToolBehavior::default() {
        fields.insert(
            BEHAVIOR_FIELD.to_string(),
            serde_json::to_value(&behavior).unwrap_or(Value::Null),
        );
    }
    Value::Object(fields)
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    filters: Option<String>,
    #[serde(default)]
    page_size: Option<String>,
}

/// Whether `tool` passes one filter; filters on fields the emulator does not know pass
/// (ignored, as PROTOCOL A7b says of the conversation list).
fn passes(tool: &Value, filter: &Filter) -> bool {
    if !matches!(
        filter.field.as_str(),
        "project" | "studio_id" | "public" | "title"
    ) {
        return true;
    }
    let actual = tool.get(&filter.field).unwrap_or(&Value::Null);
    let matches = match &filter.condition_value {
        Some(Value::Array(values)) => values.contains(actual),
        Some(value) => value == actual,
        None => return true,
    };
    match filter.condition.as_deref() {
        Some("!=") => !matches,
        _ => matches,
    }
}

fn parse_page_size(text: Option<&str>) -> Result<i64, ApiError> {
    let Some(text) = text else {
        return Ok(20);
    };
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|size| (1..=1000).contains(size))
        .ok_or_else(|| {
            ApiError::bad_request(
                "query parameter `page_size` must be a whole number from 1 to 1000",
            )
        })
}

#[derive(Debug, Serialize)]
pub(crate) struct ToolList {
    results: Vec<Value>,
}

/// `GET studios/list?filters=..&page_size=N`: the project's tools, ordered by id.
pub(crate) async fn list(
    ProjectKey(principal): ProjectKey,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<ToolList>, ApiError> {
    let filters = filters::parse(query.filters.as_deref())?;
    let page_size = parse_page_size(query.page_size.as_deref())?;
    // Filtered after the read: read them all, then keep a page of those that pass.
    let tools = service::list(&state, &principal, i64::MAX).await?;
    let results = tools
        .into_iter()
        .map(render_tool)
        .filter(|tool| filters.iter().all(|filter| passes(tool, filter)))
        .take(usize::try_from(page_size).unwrap_or(20))
        .collect();
    Ok(Json(ToolList { results }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ToolPath {
    pub(crate) studio_id: String,
}

/// `GET studios/{studio_id}/get`: `{"studio": Tool}`.
pub(crate) async fn get(
    ProjectKey(principal): ProjectKey,
    State(state): State<AppState>,
    ApiPath(ToolPath { studio_id }): ApiPath<ToolPath>,
) -> Result<Json<Value>, ApiError> {
    let tool = service::get(&state, &principal, &studio_id).await?;
    Ok(Json(json!({ "studio": render_tool(tool) })))
}

#[derive(Debug, Deserialize)]
pub(crate) struct BulkUpdate {
    updates: Vec<Value>,
    #[serde(default = "partial_by_default")]
    partial_update: bool,
}

fn partial_by_default() -> bool {
    true
}

/// `POST studios/bulk_update`: creates or updates each tool; `{}`.
pub(crate) async fn bulk_update(
    ProjectKey(principal): ProjectKey,
    State(state): State<AppState>,
    LenientJson(body): LenientJson<BulkUpdate>,
) -> Result<Json<Value>, ApiError> {
    let mut updates = Vec::with_capacity(body.updates.len());
    for (index, entry) in body.updates.into_iter().enumerate() {
        check_project(
            &principal,
            entry.get("project"),
            &format!("updates[{index}].project"),
        )?;
        updates.push(service::parse_update(index, entry)?);
    }
    service::bulk_update(&state, &principal, updates, body.partial_update).await?;
    Ok(Json(json!({})))
}

/// A `project` a body names must be the key's own: a key cannot write elsewhere.
pub(crate) fn check_project(
    principal: &Principal,
    project: Option<&Value>,
    field: &str,
) -> Result<(), ApiError> {
    match project {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(project)) if *project == principal.project => Ok(()),
        Some(_) => Err(ApiError::bad_request(format!(
            "`{field}` must be this key's project"
        ))),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct BulkDelete {
    ids: Vec<String>,
}

/// `POST studios/bulk_delete`: `{}`.
pub(crate) async fn bulk_delete(
    ProjectKey(principal): ProjectKey,
    State(state): State<AppState>,
    LenientJson(body): LenientJson<BulkDelete>,
) -> Result<Json<Value>, ApiError> {
    service::bulk_delete(&state, &principal, body.ids).await?;
    Ok(Json(json!({})))
}

#[derive(Debug, Deserialize)]
pub(crate) struct CloneBody {
    studio_id: String,
    #[serde(default)]
    project: Option<Value>,
    #[serde(default)]
    region: Option<String>,
}

/// `POST studios/clone`: `{"studio_id": "<the copy>"}`. The copy goes to the key's own
/// project and region (a body naming another is refused).
pub(crate) async fn clone(
    ProjectKey(principal): ProjectKey,
    State(state): State<AppState>,
    LenientJson(body): LenientJson<CloneBody>,
) -> Result<Json<Value>, ApiError> {
    check_project(&principal, body.project.as_ref(), "project")?;
    if let Some(region) = &body.region {
        if region != principal.region.code() {
            return Err(ApiError::bad_request(format!(
                "`region` must be this key's region code, {}",
                principal.region.code()
            )));
        }
    }
    let copy = service::clone(&state, &principal, &body.studio_id).await?;
    Ok(Json(json!({ "studio_id": copy })))
}

#[derive(Debug, Deserialize)]
pub(crate) struct Trigger {
    #[serde(default)]
    params: Option<Value>,
    #[serde(default)]
    project: Option<Value>,
}

/// `trigger_limited`'s answer (PROTOCOL A12).
pub(crate) fn render_outcome(outcome: &ToolOutcome, execution_ms: f64) -> Value {
    let errors: Vec<Value> = outcome
        .errors
        .iter()
        .map(|body| json!({ "body": body }))
        .collect();
    json!({
        "output": outcome.output,
        "status": outcome.status.as_str(),
        "errors": errors,
        "executionTime": execution_ms,
        "credits_used": [],
    })
}

/// `POST studios/{studio_id}/trigger_limited`: runs the tool; bad params are a `failed`
/// answer listing each violation (200), as the platform answers.
pub(crate) async fn trigger(
    ProjectKey(principal): ProjectKey,
    State(state): State<AppState>,
    ApiPath(ToolPath { studio_id }): ApiPath<ToolPath>,
    LenientJson(body): LenientJson<Trigger>,
) -> Result<Json<Value>, ApiError> {
    check_project(&principal, body.project.as_ref(), "project")?;
    let params = match body.params {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(params) => params,
    };
    let started = std::time::Instant::now();
    let outcome = service::run(&state, &principal, &studio_id, params).await?;
    let execution_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(Json(render_outcome(&outcome, execution_ms)))
}
