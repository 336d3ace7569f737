//! Knowledge sets (PROTOCOL A16): tables of rows, and conversations read as sets.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub(crate) const SETS_LIST_PATH: &str = "knowledge/sets/list";
pub(crate) const SETS_DELETE_PATH: &str = "knowledge/sets/delete";
pub(crate) const LIST_PATH: &str = "knowledge/list";
pub(crate) const ADD_PATH: &str = "knowledge/add";
pub(crate) const BULK_UPDATE_PATH: &str = "knowledge/bulk_update";
pub(crate) const DELETE_PATH: &str = "knowledge/delete";

/// One `exact_match` filter (A5's shape).
#[derive(Serialize)]
pub(crate) struct Filter<'a> {
    pub(crate) field: &'a str,
    pub(crate) filter_type: &'static str,
    pub(crate) condition: &'static str,
    pub(crate) condition_value: &'a Value,
}

/// `knowledge/sets/list`'s body.
#[derive(Serialize)]
pub(crate) struct SetsListBody<'a> {
    pub(crate) filters: Vec<Filter<'a>>,
    pub(crate) sort: [Map<String, Value>; 1],
    pub(crate) include_hidden: bool,
    pub(crate) page: u32,
    pub(crate) page_size: u32,
}

/// `{"results": [...]}`, each a set entry.
#[derive(Deserialize)]
pub(crate) struct SetsListAnswer {
    #[serde(default)]
    pub(crate) results: Vec<SetEntry>,
}

/// One set of `knowledge/sets/list`; `metadata` kept whole.
#[derive(Deserialize)]
pub(crate) struct SetEntry {
    pub(crate) knowledge_set: String,
    #[serde(default)]
    pub(crate) knowledge_count: Option<f64>,
    #[serde(default)]
    pub(crate) metadata: Option<Map<String, Value>>,
}

/// `knowledge/list`'s body.
#[derive(Serialize)]
pub(crate) struct ListBody<'a> {
    pub(crate) knowledge_set: &'a str,
    pub(crate) page: u32,
    pub(crate) page_size: u32,
    pub(crate) sort: [Map<String, Value>; 1],
    pub(crate) filters: Vec<Filter<'a>>,
}

/// `{"results": [Row]}` with each row's `data` read as `T`.
#[derive(Deserialize)]
#[serde(bound = "T: serde::de::DeserializeOwned")]
pub(crate) struct ListAnswer<T> {
    #[serde(default = "Vec::new")]
    pub(crate) results: Vec<WireRow<T>>,
}

/// A `Row`: the fields the SDK reads.
#[derive(Deserialize)]
#[serde(bound = "T: serde::de::DeserializeOwned")]
pub(crate) struct WireRow<T> {
    pub(crate) document_id: String,
    pub(crate) data: T,
    #[serde(default)]
    pub(crate) insert_date_: Value,
    #[serde(default)]
    pub(crate) update_date_: Value,
}

/// One `data` entry of `knowledge/add`.
#[derive(Serialize)]
pub(crate) struct AddEntry<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) document_id: &'a str,
    pub(crate) value: &'a Value,
}

/// `knowledge/add`'s body.
#[derive(Serialize)]
pub(crate) struct AddBody<'a> {
    pub(crate) knowledge_set: &'a str,
    pub(crate) data: Vec<AddEntry<'a>>,
}

/// One update of `knowledge/bulk_update`.
#[derive(Serialize)]
pub(crate) struct Update<'a> {
    pub(crate) document_id: &'a str,
    pub(crate) data: &'a Value,
}

/// `knowledge/bulk_update`'s body.
#[derive(Serialize)]
pub(crate) struct BulkUpdateBody<'a> {
    pub(crate) knowledge_set: &'a str,
    pub(crate) updates: Vec<Update<'a>>,
}

/// `knowledge/delete`'s body: one row, or without `document_id` every row.
#[derive(Serialize)]
pub(crate) struct DeleteBody<'a> {
    pub(crate) knowledge_set: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) document_id: Option<&'a str>,
}

/// `knowledge/sets/delete`'s body in the Python client's string form.
#[derive(Serialize)]
pub(crate) struct SetsDeleteBody<'a> {
    pub(crate) knowledge_set: &'a str,
}
