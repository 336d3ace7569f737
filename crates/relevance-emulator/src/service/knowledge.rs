//! Knowledge (PROTOCOL A16): a project's tables of rows, and its agent tasks read as the
//! platform stores them, hidden sets whose rows are the messages.
//!
//! Only API keys reach these (the route policy refuses embed keys), so every use case
//! works on the caller's whole project. A conversation is never copied into the tables:
//! its set is derived from `tasks` and `messages` on every read, so it cannot drift from
//! the task it shows. A name that is a task is a conversation; tables may not take it.

use serde_json::{json, Map, Value};

use crate::auth::Principal;
use crate::engine::lifecycle;
use crate::engine::new_item_id;
use crate::error::{echo_id, ApiError};
use crate::state::AppState;
use crate::store::knowledge::{self as store, RowPage, RowRecord, RowWrite, SetRecord};
use crate::store::tasks::{self, TaskRecord, TaskScope};
use crate::store::{CallerError, StoreError};
use crate::time::now_iso;

/// The longest set name, in bytes.
pub(crate) const MAX_SET_NAME_BYTES: usize = 256;

/// Why a knowledge use case did not happen.
#[derive(Debug)]
pub(crate) enum KnowledgeError {
    /// No table set and no task of this name in the caller's project.
    SetNotFound { name: String },
    /// No row with this id in the set.
    RowNotFound { name: String, document_id: String },
    /// The request asks for something the set cannot do; the text names the problem.
    Invalid(String),
    /// Over a size limit of one request (413); the text names the limit and its setting.
    TooLarge(String),
    /// The database failed.
    Store(StoreError),
}

impl From<StoreError> for KnowledgeError {
    fn from(error: StoreError) -> KnowledgeError {
        KnowledgeError::Store(error)
    }
}

impl From<rusqlite::Error> for KnowledgeError {
    fn from(error: rusqlite::Error) -> KnowledgeError {
        KnowledgeError::Store(error.into())
    }
}

impl CallerError for KnowledgeError {}

impl From<KnowledgeError> for ApiError {
    fn from(error: KnowledgeError) -> ApiError {
        match error {
            KnowledgeError::SetNotFound { name } => {
                ApiError::not_found(format!("no knowledge set {}", echo_id(&name)))
            }
            KnowledgeError::RowNotFound { name, document_id } => ApiError::not_found(format!(
                "no row {} in knowledge set {}",
                echo_id(&document_id),
                echo_id(&name)
            )),
            KnowledgeError::Invalid(problem) => ApiError::bad_request(problem),
            KnowledgeError::TooLarge(problem) => ApiError::payload_too_large_because(problem),
            KnowledgeError::Store(error) => error.into(),
        }
    }
}

/// The platform would refuse these names: empty, over [`MAX_SET_NAME_BYTES`], control
/// characters, space at either end, or `*` (the platform's "every set" in `knowledge/list`).
pub(crate) fn check_set_name(field: &str, name: &str) -> Result<(), KnowledgeError> {
    let problem = if name.is_empty() || name.len() > MAX_SET_NAME_BYTES {
        Some(format!("must be 1 to {MAX_SET_NAME_BYTES} bytes"))
    } else if name.chars().any(char::is_control) {
        Some("may not contain control characters".to_string())
    } else if name.trim() != name {
        Some("may not begin or end with white space".to_string())
    } else if name == "*" {
        Some("may not be `*` (it means every set)".to_string())
    } else {
        None
    };
    match problem {
        Some(problem) => Err(KnowledgeError::Invalid(format!("`{field}` {problem}"))),
        None => Ok(()),
    }
}

/// A row to add: its data and the id a client gave, if any.
#[derive(Debug, Clone)]
pub(crate) struct NewRow {
    pub(crate) document_id: Option<String>,
    pub(crate) data: Map<String, Value>,
}

/// One exact-match filter on a row: `document_id`, or a dotted path into `data`.
#[derive(Debug, Clone)]
pub(crate) struct RowFilter {
    pub(crate) field: RowField,
    /// Any of these matches.
    pub(crate) values: Vec<Value>,
    /// `!=`: none of them matches.
    pub(crate) negate: bool,
}

/// What a [`RowFilter`] looks at.
#[derive(Debug, Clone)]
pub(crate) enum RowField {
    DocumentId,
    /// A path into `data` (`data.` in front is optional).
    Data(Vec<String>),
}

impl RowFilter {
    fn passes(&self, document_id: &str, data: &Value) -> bool {
        let actual = match &self.field {
            RowField::DocumentId => Some(Value::String(document_id.to_string())),
            RowField::Data(path) => path
                .iter()
                .try_fold(data, |value, key| value.get(key))
                .cloned(),
        };
        let found = actual.is_some_and(|actual| self.values.contains(&actual));
        found != self.negate
    }
}

/// What `knowledge/list` asks for.
#[derive(Debug, Clone)]
pub(crate) struct RowQuery {
    pub(crate) newest_first: bool,
    pub(crate) page: i64,
    pub(crate) page_size: i64,
    pub(crate) filters: Vec<RowFilter>,
}

/// A row on its way to the answer: its `data` still JSON text for a table's row.
#[derive(Debug, Clone)]
pub(crate) struct RowView {
    pub(crate) document_id: String,
    pub(crate) data: RowData,
    pub(crate) insert_date: String,
    pub(crate) update_date: String,
}

/// A table row's stored JSON text (embedded as is), or a conversation row's data.
#[derive(Debug, Clone)]
pub(crate) enum RowData {
    Text(String),
    Value(Value),
}

/// A table set as the dashboard lists it, so its page needs no store row.
#[derive(Debug, Clone)]
pub(crate) struct SetView {
    pub(crate) name: String,
    pub(crate) row_count: i64,
    pub(crate) insert_date: String,
    pub(crate) update_date: String,
}

impl From<SetRecord> for SetView {
    fn from(set: SetRecord) -> SetView {
        SetView {
            name: set.name,
            row_count: set.row_count,
            insert_date: set.insert_date,
            update_date: set.update_date,
        }
    }
}

/// A set in `knowledge/sets/list`: a table, or an agent task with its message count.
#[derive(Debug, Clone)]
pub(crate) enum SetEntry {
    Table(SetRecord),
    Conversation(TaskRecord, i64),
}

fn quotas(state: &AppState) -> &crate::Quotas {
    &state.settings().quotas
}

/// Refuses a request with more rows than `max_knowledge_rows_per_request`.
pub(crate) fn check_request_rows(state: &AppState, rows: usize) -> Result<(), KnowledgeError> {
    let limit = quotas(state).max_knowledge_rows_per_request;
    if rows > limit {
        return Err(KnowledgeError::TooLarge(format!(
            "{rows} rows in one request; at most {limit} (Quotas::max_knowledge_rows_per_request)"
        )));
    }
    Ok(())
}

/// A row's data as JSON text, refused (413) over `max_knowledge_row_bytes`.
fn row_text(
    state: &AppState,
    index: usize,
    data: &Map<String, Value>,
) -> Result<String, KnowledgeError> {
    let text = serde_json::to_string(data).unwrap_or_else(|_| "{}".to_string());
    let limit = quotas(state).max_knowledge_row_bytes;
    if text.len() > limit {
        return Err(KnowledgeError::TooLarge(format!(
            "row {index} is {} bytes of JSON; at most {limit} (Quotas::max_knowledge_row_bytes)",
            text.len()
        )));
    }
    Ok(text)
}

fn conversation(
    db: &rusqlite::Connection,
    project: &str,
    name: &str,
) -> rusqlite::Result<Option<TaskRecord>> {
    tasks::find_task(db, project, &TaskScope::Project, name)
}

fn not_a_table(name: &str) -> KnowledgeError {
    KnowledgeError::Invalid(format!(
        "knowledge set {} is a conversation: its rows are its messages, changed through \
         agents/trigger",
        echo_id(name)
    ))
}

/// Adds rows (a known `document_id` replaces that row's data); the set is made by its
/// first insert. All or nothing. Answers each row's id, in order.
pub(crate) async fn add(
    state: &AppState,
    principal: &Principal,
    name: String,
    rows: Vec<NewRow>,
) -> Result<Vec<String>, KnowledgeError> {
    check_request_rows(state, rows.len())?;
    let mut writes = Vec::with_capacity(rows.len());
    for (index, row) in rows.into_iter().enumerate() {
        let data = row_text(state, index, &row.data)?;
        let document_id = row.document_id.unwrap_or_else(new_item_id);
        writes.push(RowWrite { document_id, data });
    }
    let ids: Vec<String> = writes.iter().map(|row| row.document_id.clone()).collect();
    let project = principal.project.clone();
    let max_rows = i64::try_from(quotas(state).max_knowledge_rows_per_set).unwrap_or(i64::MAX);
    let max_sets = i64::try_from(quotas(state).max_knowledge_sets_per_project).unwrap_or(i64::MAX);
    state
        .store()
        .call(move |db| -> Result<_, KnowledgeError> {
            let transaction = db.transaction()?;
            if conversation(&transaction, &project, &name)?.is_some() {
                return Err(not_a_table(&name));
            }
            let exists = store::set_exists(&transaction, &project, &name)?;
            if !exists && store::count_sets(&transaction, &project)? >= max_sets {
                return Err(KnowledgeError::Invalid(format!(
                    "this project holds {max_sets} knowledge sets already \
                     (Quotas::max_knowledge_sets_per_project); drop one first"
                )));
            }
            let id_refs: Vec<&str> = writes.iter().map(|row| row.document_id.as_str()).collect();
            let held = if exists {
                store::count_rows(&transaction, &project, &name)?
            } else {
                0
            };
            let new = store::count_new(&transaction, &project, &name, &id_refs)?;
            if held + new > max_rows {
                return Err(KnowledgeError::Invalid(format!(
                    "knowledge set {} would hold {} rows; at most {max_rows} \
                     (Quotas::max_knowledge_rows_per_set)",
                    echo_id(&name),
                    held + new
                )));
            }
            let now = now_iso();
            store::touch_set(&transaction, &project, &name, &new_item_id(), &now)?;
            store::upsert_rows(&transaction, &project, &name, &writes, (&now, new))?;
            transaction.commit()?;
            Ok(())
        })
        .await?;
    Ok(ids)
}

/// Merges each update's fields into its row's data (fields not named are kept). All or
/// nothing: an id the set does not hold refuses the lot (400).
pub(crate) async fn bulk_update(
    state: &AppState,
    principal: &Principal,
    name: String,
    updates: Vec<(String, Map<String, Value>)>,
) -> Result<(), KnowledgeError> {
    check_request_rows(state, updates.len())?;
    let project = principal.project.clone();
    let row_limit = quotas(state).max_knowledge_row_bytes;
    state
        .store()
        .call(move |db| -> Result<_, KnowledgeError> {
            let transaction = db.transaction()?;
            table_of(&transaction, &project, &name)?;
            let ids: Vec<&str> = updates.iter().map(|(id, _)| id.as_str()).collect();
            let mut stored = store::find_rows(&transaction, &project, &name, &ids)?;
            let mut writes = Vec::with_capacity(updates.len());
            for (index, (document_id, fields)) in updates.iter().enumerate() {
                let merged = match merge(
                    stored.get(document_id),
                    fields,
                    index,
                    document_id,
                    row_limit,
                ) {
                    Ok(merged) => merged,
                    Err(error) => return Err(error),
                };
                stored.insert(document_id.clone(), merged.clone());
                writes.push(RowWrite {
                    document_id: document_id.clone(),
                    data: merged,
                });
            }
            let now = now_iso();
            // Every id is known (checked above): nothing new, the count stays.
            store::upsert_rows(&transaction, &project, &name, &writes, (&now, 0))?;
            store::touch_set(&transaction, &project, &name, "", &now)?;
            transaction.commit()?;
            Ok(())
        })
        .await
}

/// One row's stored data with `fields` merged over it, as JSON text.
fn merge(
    stored: Option<&String>,
    fields: &Map<String, Value>,
    index: usize,
    document_id: &str,
    row_limit: usize,
) -> Result<String, KnowledgeError> {
    let Some(stored) = stored else {
        return Err(KnowledgeError::Invalid(format!(
            "`updates[{index}].document_id` {} names no row of this set",
            echo_id(document_id)
        )));
    };
    let mut data: Map<String, Value> = serde_json::from_str(stored).unwrap_or_default();
    for (key, value) in fields {
        data.insert(key.clone(), value.clone());
    }
    let text = Value::Object(data).to_string();
    if text.len() > row_limit {
        return Err(KnowledgeError::TooLarge(format!(
            "`updates[{index}]` makes a row of {} bytes of JSON; at most {row_limit} \
             (Quotas::max_knowledge_row_bytes)",
            text.len()
        )));
    }
    Ok(text)
}

/// `Ok(())` when `name` is a table set; a conversation or nothing is the error.
fn table_of(db: &rusqlite::Connection, project: &str, name: &str) -> Result<(), KnowledgeError> {
    if store::set_exists(db, project, name)? {
        return Ok(());
    }
    if conversation(db, project, name)?.is_some() {
        return Err(not_a_table(name));
    }
    Err(KnowledgeError::SetNotFound {
        name: name.to_string(),
    })
}

/// Deletes one row, or with no id every row of the set (the set stays, empty).
pub(crate) async fn delete_rows(
    state: &AppState,
    principal: &Principal,
    name: String,
    document_id: Option<String>,
) -> Result<(), KnowledgeError> {
    let project = principal.project.clone();
    state
        .store()
        .call(move |db| -> Result<_, KnowledgeError> {
            let transaction = db.transaction()?;
            table_of(&transaction, &project, &name)?;
            match document_id {
                Some(document_id) => {
                    if !store::delete_row(&transaction, &project, &name, &document_id)? {
                        return Err(KnowledgeError::RowNotFound { name, document_id });
                    }
                }
                None => store::clear_set(&transaction, &project, &name)?,
            }
            store::touch_set(&transaction, &project, &name, "", &now_iso())?;
            transaction.commit()?;
            Ok(())
        })
        .await
}

/// A page of a set's rows: a table's, or a conversation's messages in the platform's
/// conversation form ([`conversation_row`]).
pub(crate) async fn list_rows(
    state: &AppState,
    principal: &Principal,
    name: String,
    query: RowQuery,
) -> Result<Vec<RowView>, KnowledgeError> {
    let project = principal.project.clone();
    state
        .store()
        .call(move |db| -> Result<_, KnowledgeError> {
            if store::set_exists(db, &project, &name)? {
                return Ok(table_rows(db, &project, &name, &query)?);
            }
            if conversation(db, &project, &name)?.is_some() {
                let messages = store::task_messages(db, &project, &name, query.newest_first)?;
                return Ok(conversation_rows(messages, &query));
            }
            Err(KnowledgeError::SetNotFound { name })
        })
        .await
}

fn offset(query: &RowQuery) -> i64 {
    (query.page - 1).saturating_mul(query.page_size)
}

fn table_rows(
    db: &rusqlite::Connection,
    project: &str,
    name: &str,
    query: &RowQuery,
) -> rusqlite::Result<Vec<RowView>> {
    let page = RowPage {
        newest_first: query.newest_first,
        offset: offset(query),
        limit: query.page_size,
    };
    let rows = if query.filters.is_empty() {
        store::page_rows(db, project, name, page)?
    } else {
        let mut keep = |row: &RowRecord| {
            let data: Value = serde_json::from_str(&row.data).unwrap_or(Value::Null);
            query
                .filters
                .iter()
                .all(|filter| filter.passes(&row.document_id, &data))
        };
        store::list_rows(db, project, name, page, &mut keep)?
    };
    Ok(rows
        .into_iter()
        .map(|row| RowView {
            document_id: row.document_id,
            data: RowData::Text(row.data),
            insert_date: row.insert_date,
            update_date: row.update_date,
        })
        .collect())
}

fn conversation_rows(
    messages: Vec<(String, String, String, String)>,
    query: &RowQuery,
) -> Vec<RowView> {
    let skip = usize::try_from(offset(query)).unwrap_or(usize::MAX);
    let take = usize::try_from(query.page_size).unwrap_or(usize::MAX);
    messages
        .into_iter()
        .map(|(item_id, insert_date, update_date, content)| {
            let content: Value = serde_json::from_str(&content).unwrap_or(Value::Null);
            let data = json!({ "message": conversation_row(&content) });
            (item_id, insert_date, update_date, data)
        })
        .filter(|(item_id, _, _, data)| {
            query
                .filters
                .iter()
                .all(|filter| filter.passes(item_id, data))
        })
        .skip(skip)
        .take(take)
        .map(|(document_id, insert_date, update_date, data)| RowView {
            document_id,
            data: RowData::Value(data),
            insert_date,
            update_date,
        })
        .collect()
}

/// A stored message in the platform's conversation form (PROTOCOL A16): `user` and
/// `agent` with `content`; a tool run as `action-request` with the `action` and
/// `action_request_id` a decision (A10) names; other kinds keep their type as the role.
pub(crate) fn conversation_row(content: &Value) -> Value {
    let text = || content.get("text").cloned().unwrap_or_else(|| json!(""));
    match content.get("type").and_then(Value::as_str) {
        Some("user-message") => {
            let mut message = json!({ "role": "user", "content": text() });
            if let Some(attachments) = content.get("attachments") {
                message["attachments"] = attachments.clone();
            }
            message
        }
        Some("agent-message") => json!({ "role": "agent", "content": text() }),
        Some("tool-run") => {
            let details = content.get("action_details");
            let field = |name: &str| {
                details
                    .and_then(|d| d.get(name))
                    .cloned()
                    .unwrap_or(Value::Null)
            };
            json!({
                "role": "action-request",
                "action": field("action"),
                "action_request_id": field("action_request_id"),
                "action_params": content.pointer("/params/json").cloned().unwrap_or_else(|| json!({})),
                "tool_run_state": content.get("tool_run_state").cloned().unwrap_or(Value::Null),
                "requires_confirmation": content.get("requires_confirmation").cloned().unwrap_or(json!(false)),
                "title": content.pointer("/tool_config/title").cloned().unwrap_or(Value::Null),
            })
        }
        Some("agent-error") => json!({
            "role": "agent-error",
            "errors": content.get("errors").cloned().unwrap_or_else(|| json!([])),
        }),
        Some(other) => json!({ "role": other }),
        None => json!({ "role": "unknown" }),
    }
}

/// Every table set of the project, then (when `include_hidden`) every agent task as a
/// hidden conversation set, each with its row count.
pub(crate) async fn list_sets(
    state: &AppState,
    principal: &Principal,
    include_hidden: bool,
) -> Result<Vec<SetEntry>, KnowledgeError> {
    let project = principal.project.clone();
    Ok(state
        .store()
        .call(move |db| -> rusqlite::Result<_> {
            let mut entries: Vec<SetEntry> = store::list_sets(db, &project)?
                .into_iter()
                .map(SetEntry::Table)
                .collect();
            if include_hidden {
                let counts = store::message_counts(db, &project)?;
                for task in tasks::list_tasks(db, &project, &TaskScope::Project)? {
                    let count = counts.get(&task.id).copied().unwrap_or(0);
                    entries.push(SetEntry::Conversation(task, count));
                }
            }
            Ok(entries)
        })
        .await?)
}

/// Drops these sets: a table with its rows, a conversation with its task and messages
/// (A11). All or nothing: a name that is neither refuses the lot (404).
pub(crate) async fn delete_sets(
    state: &AppState,
    principal: &Principal,
    names: Vec<String>,
) -> Result<(), KnowledgeError> {
    let project = principal.project.clone();
    state
        .store()
        .call(move |db| -> Result<_, KnowledgeError> {
            let transaction = db.transaction()?;
            for name in names {
                if store::set_exists(&transaction, &project, &name)? {
                    store::drop_set(&transaction, &project, &name)?;
                } else if conversation(&transaction, &project, &name)?.is_some() {
                    lifecycle::delete(&transaction, &project, &name)?;
                } else {
                    return Err(KnowledgeError::SetNotFound { name });
                }
            }
            transaction.commit()?;
            Ok(())
        })
        .await
}
