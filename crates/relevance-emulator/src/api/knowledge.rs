//! `knowledge/...` (PROTOCOL A16): a project's tables of rows, and its agent tasks as
//! hidden conversation sets. API keys only (the route table gives these routes
//! [`crate::auth::Policy::ProjectKey`]): a chat's embed key never reads a project's tables.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::auth::ProjectKey;
use crate::error::ApiError;
use crate::json::LenientJson;
use crate::service::knowledge::{
    self as service, NewRow, RowData, RowField, RowFilter, RowQuery, RowView, SetEntry,
};
use crate::state::AppState;

/// `knowledge/list`'s page size when none is asked for, and the most it gives.
const ROW_PAGE_SIZE: (i64, i64) = (20, 1000);
/// `knowledge/sets/list`'s page size when none is asked for, and the most it gives: one
/// page holds every table set a project may have (the Python client asks for no page).
const SET_PAGE_SIZE: (i64, i64) = (1000, 1000);

/// One filter as the platform sends it in a body (A5's shape).
#[derive(Debug, Deserialize)]
struct BodyFilter {
    field: String,
    #[serde(default)]
    filter_type: Option<String>,
    #[serde(default)]
    condition: Option<String>,
    #[serde(default)]
    condition_value: Option<Value>,
}

/// One parsed exact-match filter: a dotted path, the values any of which matches, and
/// whether the condition is `!=`.
struct ExactMatch {
    path: Vec<String>,
    values: Vec<Value>,
    negate: bool,
}

impl ExactMatch {
    fn passes(&self, actual: Option<&Value>) -> bool {
        actual.is_some_and(|actual| self.values.contains(actual)) != self.negate
    }
}

/// Parses `filters`: a list of exact-match filters, `condition` `==` (default) or `!=`,
/// `condition_value` a value or a list of values (any of them matches).
fn parse_filters(filters: Option<Value>) -> Result<Vec<ExactMatch>, ApiError> {
    const SHAPE: &str =
        r#"[{"field", "filter_type": "exact_match", "condition"?: "=="|"!=", "condition_value"}]"#;
    let filters: Vec<BodyFilter> = match filters {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(value) => serde_json::from_value(value).map_err(|error| {
            ApiError::bad_request(format!("`filters` must be {SHAPE}: {error}"))
        })?,
    };
    let mut parsed = Vec::with_capacity(filters.len());
    for (index, filter) in filters.into_iter().enumerate() {
        if !matches!(filter.filter_type.as_deref(), None | Some("exact_match")) {
            return Err(ApiError::bad_request(format!(
                "`filters[{index}].filter_type` must be \"exact_match\" (the only one the \
                 emulator has)"
            )));
        }
        let negate = match filter.condition.as_deref() {
            None | Some("==") => false,
            Some("!=") => true,
            Some(_) => {
                return Err(ApiError::bad_request(format!(
                    "`filters[{index}].condition` must be \"==\" or \"!=\""
                )))
            }
        };
        let values = match filter.condition_value {
            Some(Value::Array(values)) => values,
            Some(value) => vec![value],
            None => {
                return Err(ApiError::bad_request(format!(
                    "`filters[{index}].condition_value` is missing"
                )))
            }
        };
        let path = filter.field.split('.').map(str::to_string).collect();
        parsed.push(ExactMatch {
            path,
            values,
            negate,
        });
    }
    Ok(parsed)
}

/// A whole number from `min` to `max`, `default` when absent.
fn whole(
    value: Option<&Value>,
    name: &str,
    default: i64,
    (min, max): (i64, i64),
) -> Result<i64, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(default),
        Some(value) => value
            .as_i64()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "`{name}` must be a whole number from {min} to {max}"
                ))
            }),
    }
}

/// A set name from a body field, checked as the platform would.
fn set_name(value: Option<Value>) -> Result<String, ApiError> {
    match value {
        Some(Value::String(name)) => {
            service::check_set_name("knowledge_set", &name)?;
            Ok(name)
        }
        _ => Err(ApiError::bad_request(
            "`knowledge_set` (the set's name, a string) is missing",
        )),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct AddBody {
    #[serde(default)]
    knowledge_set: Option<Value>,
    #[serde(default)]
    data: Option<Value>,
}

/// One `data` entry of `knowledge/add`: a document (an object) or a text.
fn new_row(index: usize, entry: Value) -> Result<NewRow, ApiError> {
    let Value::Object(mut entry) = entry else {
        return Err(ApiError::bad_request(format!(
            "`data[{index}]` must be an object"
        )));
    };
    let document_id = match entry.remove("document_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) if !id.is_empty() && id.len() <= 256 => Some(id),
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "`data[{index}].document_id` must be a string of 1 to 256 bytes"
            )))
        }
    };
    let kind = entry
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("document")
        .to_string();
    let data = match (kind.as_str(), entry.remove("value")) {
        ("document", Some(Value::Object(value))) => value,
        ("text", Some(Value::String(text))) => {
            Map::from_iter([("text".to_string(), Value::String(text))])
        }
        ("document", _) => {
            return Err(ApiError::bad_request(format!(
                "`data[{index}].value` of a document must be an object"
            )))
        }
        ("text", _) => {
            return Err(ApiError::bad_request(format!(
                "`data[{index}].value` of a text must be a string"
            )))
        }
        _ => {
            return Err(ApiError::bad_request(format!(
                "`data[{index}].type` must be \"document\" or \"text\""
            )))
        }
    };
    Ok(NewRow { document_id, data })
}

/// `POST knowledge/add`: `{"results": [{"status": "success", "document_id"}]}`.
pub(crate) async fn add(
    ProjectKey(principal): ProjectKey,
    State(state): State<AppState>,
    LenientJson(body): LenientJson<AddBody>,
) -> Result<Json<Value>, ApiError> {
    let name = set_name(body.knowledge_set)?;
    let Some(Value::Array(entries)) = body.data else {
        return Err(ApiError::bad_request("`data` must be a list of rows"));
    };
    service::check_request_rows(&state, entries.len())?;
    let rows = entries
        .into_iter()
        .enumerate()
        .map(|(index, entry)| new_row(index, entry))
        .collect::<Result<Vec<_>, _>>()?;
    let ids = service::add(&state, &principal, name, rows).await?;
    let results: Vec<Value> = ids
        .into_iter()
        .map(|id| json!({ "status": "success", "document_id": id }))
        .collect();
    Ok(Json(json!({ "results": results })))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListBody {
    #[serde(default)]
    knowledge_set: Option<Value>,
    #[serde(default)]
    page: Option<Value>,
    #[serde(default)]
    page_size: Option<Value>,
    #[serde(default)]
    sort: Option<Value>,
    #[serde(default)]
    filters: Option<Value>,
    #[serde(default)]
    document_id: Option<Value>,
}

/// `sort`: `[{"insert_date_": "asc"|"desc"}]`; absent is oldest first.
fn newest_first(sort: Option<&Value>) -> Result<bool, ApiError> {
    let bad = || {
        ApiError::bad_request(
            r#"`sort` must be [{"insert_date_": "asc"}] or [{"insert_date_": "desc"}]"#,
        )
    };
    match sort {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Array(items)) if items.is_empty() => Ok(false),
        Some(Value::Array(items)) if items.len() == 1 => {
            match items[0].get("insert_date_").and_then(Value::as_str) {
                Some("asc") => Ok(false),
                Some("desc") => Ok(true),
                _ => Err(bad()),
            }
        }
        Some(_) => Err(bad()),
    }
}

/// `POST knowledge/list`: `{"results": [Row]}`, a page of a table's rows or of a
/// conversation's messages.
pub(crate) async fn list(
    ProjectKey(principal): ProjectKey,
    State(state): State<AppState>,
    LenientJson(body): LenientJson<ListBody>,
) -> Result<Response, ApiError> {
    let name = set_name(body.knowledge_set)?;
    let mut filters: Vec<RowFilter> = parse_filters(body.filters)?
        .into_iter()
        .map(|filter| RowFilter {
            field: row_field(filter.path),
            values: filter.values,
            negate: filter.negate,
        })
        .collect();
    match body.document_id {
        None | Some(Value::Null) => {}
        Some(Value::String(id)) => filters.push(RowFilter {
            field: RowField::DocumentId,
            values: vec![Value::String(id)],
            negate: false,
        }),
        Some(_) => return Err(ApiError::bad_request("`document_id` must be a string")),
    }
    let query = RowQuery {
        newest_first: newest_first(body.sort.as_ref())?,
        page: whole(body.page.as_ref(), "page", 1, (1, i64::from(u32::MAX)))?,
        page_size: whole(
            body.page_size.as_ref(),
            "page_size",
            ROW_PAGE_SIZE.0,
            (1, ROW_PAGE_SIZE.1),
        )?,
        filters,
    };
    let project = principal.project.clone();
    let rows = service::list_rows(&state, &principal, name.clone(), query).await?;
    let body = render_rows(&project, &name, rows);
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `document_id` is the row's id; any other field is a path into `data` (a leading
/// `data.` is the same path).
fn row_field(mut path: Vec<String>) -> RowField {
    if path.len() == 1 && path[0] == "document_id" {
        return RowField::DocumentId;
    }
    if path.len() > 1 && path[0] == "data" {
        path.remove(0);
    }
    RowField::Data(path)
}

/// `{"results": [Row]}` (PROTOCOL A16; `_id` is the `document_id`), written as text: a
/// table row's `data` is stored as the JSON text it was checked as, so it goes out as is,
/// not parsed and written again (the export of a large set is mostly this).
fn render_rows(project: &str, name: &str, rows: Vec<RowView>) -> String {
    let quote = |text: &str| Value::from(text).to_string();
    let (project, name) = (quote(project), quote(name));
    let mut out = String::with_capacity(rows.len() * 320 + 16);
    out.push_str(r#"{"results":["#);
    for (index, row) in rows.into_iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        let data = match row.data {
            RowData::Text(text) => text,
            RowData::Value(value) => value.to_string(),
        };
        let id = quote(&row.document_id);
        out.push_str(&format!(
            r#"{{"_id":{id},"project":{project},"knowledge_set":{name},"document_id":{id},"alias":"default","data":{data},"insert_date_":{},"update_date_":{},"is_chunked":false,"is_vectorized":false}}"#,
            quote(&row.insert_date),
            quote(&row.update_date),
        ));
    }
    out.push_str("]}");
    out
}

#[derive(Debug, Deserialize)]
pub(crate) struct BulkUpdateBody {
    #[serde(default)]
    knowledge_set: Option<Value>,
    #[serde(default)]
    updates: Option<Value>,
}

/// `POST knowledge/bulk_update`: `{}`; each row's named fields replaced, others kept.
pub(crate) async fn bulk_update(
    ProjectKey(principal): ProjectKey,
    State(state): State<AppState>,
    LenientJson(body): LenientJson<BulkUpdateBody>,
) -> Result<Json<Value>, ApiError> {
    let name = set_name(body.knowledge_set)?;
    let Some(Value::Array(entries)) = body.updates else {
        return Err(ApiError::bad_request(
            r#"`updates` must be a list of {"document_id", "data"}"#,
        ));
    };
    service::check_request_rows(&state, entries.len())?;
    let mut updates = Vec::with_capacity(entries.len());
    for (index, mut entry) in entries.into_iter().enumerate() {
        let id = match entry.get_mut("document_id").map(Value::take) {
            Some(Value::String(id)) => id,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "`updates[{index}].document_id` (a string) is missing"
                )))
            }
        };
        let Some(Value::Object(data)) = entry.get_mut("data").map(Value::take) else {
            return Err(ApiError::bad_request(format!(
                "`updates[{index}].data` must be an object"
            )));
        };
        updates.push((id, data));
    }
    service::bulk_update(&state, &principal, name, updates).await?;
    Ok(Json(json!({})))
}

#[derive(Debug, Deserialize)]
pub(crate) struct DeleteBody {
    #[serde(default)]
    knowledge_set: Option<Value>,
    #[serde(default)]
    document_id: Option<Value>,
}

/// `POST knowledge/delete`: `{}`; one row, or without `document_id` every row.
pub(crate) async fn delete(
    ProjectKey(principal): ProjectKey,
    State(state): State<AppState>,
    LenientJson(body): LenientJson<DeleteBody>,
) -> Result<Json<Value>, ApiError> {
    let name = set_name(body.knowledge_set)?;
    let document_id = match body.document_id {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => Some(id),
        Some(_) => return Err(ApiError::bad_request("`document_id` must be a string")),
    };
    service::delete_rows(&state, &principal, name, document_id).await?;
    Ok(Json(json!({})))
}

#[derive(Debug, Deserialize)]
pub(crate) struct SetsListBody {
    #[serde(default)]
    filters: Option<Value>,
    #[serde(default)]
    sort: Option<Value>,
    #[serde(default)]
    include_hidden: Option<bool>,
    #[serde(default)]
    page: Option<Value>,
    #[serde(default)]
    page_size: Option<Value>,
}

/// `SetMeta` and the entry around it (PROTOCOL A16).
fn render_set(project: &str, entry: SetEntry) -> Value {
    match entry {
        SetEntry::Table(set) => json!({
            "knowledge_set": set.name,
            "knowledge_count": set.row_count,
            "metadata": {
                "_id": set.id, "project": project, "knowledge_set": set.name,
                "insert_date": set.insert_date, "update_date": set.update_date, "hidden": false,
            },
        }),
        SetEntry::Conversation(task, count) => json!({
            "knowledge_set": task.id,
            "knowledge_count": count,
            "metadata": {
                "_id": task.id, "project": project, "knowledge_set": task.id,
                "type": "conversation", "hidden": true,
                "insert_date": task.insert_date, "update_date": task.update_date,
                "conversation": {
                    "agent_id": task.agent_id, "state": task.state, "title": task.title,
                    "created_by_user_id": task.created_by_key_id,
                },
            },
        }),
    }
}

/// A field of a set entry: `knowledge_set` / `knowledge_count` on the entry, any other
/// path in its `metadata`.
fn set_field<'a>(entry: &'a Value, path: &[String]) -> Option<&'a Value> {
    let root = match path.first().map(String::as_str) {
        Some("knowledge_set" | "knowledge_count") => entry,
        Some("metadata") => {
            return path[1..]
                .iter()
                .try_fold(entry.get("metadata")?, |v, k| v.get(k))
        }
        _ => entry.get("metadata")?,
    };
    path.iter().try_fold(root, |value, key| value.get(key))
}

/// `sort`: `[{"update_date"|"insert_date"|"knowledge_set": "asc"|"desc"}]`; absent is
/// newest update first, as the Python client asks.
fn set_sort(sort: Option<&Value>) -> Result<(String, bool), ApiError> {
    let bad = || {
        ApiError::bad_request(
            r#"`sort` must be [{"update_date"|"insert_date"|"knowledge_set": "asc"|"desc"}]"#,
        )
    };
    let Some(Value::Array(items)) = sort else {
        return match sort {
            None | Some(Value::Null) => Ok(("update_date".to_string(), true)),
            Some(_) => Err(bad()),
        };
    };
    let Some(first) = items.first() else {
        return Ok(("update_date".to_string(), true));
    };
    let Some((field, direction)) = first.as_object().and_then(|o| o.iter().next()) else {
        return Err(bad());
    };
    if !matches!(
        field.as_str(),
        "update_date" | "insert_date" | "knowledge_set"
    ) {
        return Err(bad());
    }
    match direction.as_str() {
        Some("asc") => Ok((field.clone(), false)),
        Some("desc") => Ok((field.clone(), true)),
        _ => Err(bad()),
    }
}

/// `POST knowledge/sets/list`: `{"results": [{"knowledge_set", "knowledge_count",
/// "metadata"}]}`; hidden sets (conversations) only with `include_hidden: true`.
pub(crate) async fn sets_list(
    ProjectKey(principal): ProjectKey,
    State(state): State<AppState>,
    LenientJson(body): LenientJson<SetsListBody>,
) -> Result<Json<Value>, ApiError> {
    let filters = parse_filters(body.filters)?;
    let (sort_field, descending) = set_sort(body.sort.as_ref())?;
    let page = whole(body.page.as_ref(), "page", 1, (1, i64::from(u32::MAX)))?;
    let page_size = whole(
        body.page_size.as_ref(),
        "page_size",
        SET_PAGE_SIZE.0,
        (1, SET_PAGE_SIZE.1),
    )?;
    let entries =
        service::list_sets(&state, &principal, body.include_hidden.unwrap_or(false)).await?;
    let mut sets: Vec<Value> = entries
        .into_iter()
        .map(|entry| render_set(&principal.project, entry))
        .filter(|set| {
            filters
                .iter()
                .all(|filter| filter.passes(set_field(set, &filter.path)))
        })
        .collect();
    let key = |set: &Value| {
        set_field(set, std::slice::from_ref(&sort_field))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    sets.sort_by_cached_key(key);
    if descending {
        sets.reverse();
    }
    let skip = usize::try_from((page - 1).saturating_mul(page_size)).unwrap_or(usize::MAX);
    let results: Vec<Value> = sets
        .into_iter()
        .skip(skip)
        .take(usize::try_from(page_size).unwrap_or(1000))
        .collect();
    Ok(Json(json!({ "results": results })))
}

#[derive(Debug, Deserialize)]
pub(crate) struct SetsDeleteBody {
    #[serde(default)]
    knowledge_set: Option<Value>,
}

/// `POST knowledge/sets/delete` `{"knowledge_set": "name"}` or `{"knowledge_set":
/// ["name", ...]}`: `{}`. Each name is a table (dropped with its rows) or an agent task
/// (deleted with its messages, A11: 404 afterwards). All or none: a name that is
/// neither refuses the lot (404).
pub(crate) async fn sets_delete(
    ProjectKey(principal): ProjectKey,
    State(state): State<AppState>,
    LenientJson(body): LenientJson<SetsDeleteBody>,
) -> Result<Json<Value>, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "`knowledge_set` must be a set name or a non-empty list of names (task ids), e.g. [\"t1\"]",
        )
    };
    let items = match body.knowledge_set {
        Some(Value::String(name)) => vec![Value::String(name)],
        Some(Value::Array(items)) if !items.is_empty() => items,
        _ => return Err(bad()),
    };
    let mut names: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let Value::String(name) = item else {
            return Err(bad());
        };
        service::check_set_name("knowledge_set", &name)?;
        // The same name twice is dropped once (the second would not be found).
        if !names.contains(&name) {
            names.push(name);
        }
    }
    service::delete_sets(&state, &principal, names).await?;
    Ok(Json(json!({})))
}
