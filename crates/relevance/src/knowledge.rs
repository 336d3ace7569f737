//! Knowledge (PROTOCOL A16): a project's tables of rows ("knowledge sets"),
//! and its agents' conversations, which the platform keeps as hidden sets.
//! API keys only: an embed key gets `Forbidden`.
//!
//! [`Knowledge::set`] checks the name and hands back a [`KnowledgeSet`]
//! handle; nothing is sent until a read or a write. Rows are read as JSON
//! objects ([`KnowledgeSet::rows`]) or as the caller's own type
//! ([`KnowledgeSet::rows_as`]). [`KnowledgeSet::add`] takes any `Serialize`
//! items and sends them in batches it sizes itself (by rows and by bytes), so
//! a caller never meets the server's body limit; every row gets an id made
//! here first, so a batch that is retried after a lost answer writes the same
//! rows again instead of twice. Bad data (an item that is not a JSON object,
//! a name the platform would refuse) is [`Error::InvalidKnowledge`] before any
//! request.

use chrono::{DateTime, Utc};
use futures_util::stream::Stream;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::http::Request;
use crate::paging::{every_item, Page};
use crate::retry::RequestKind;
use crate::wire::knowledge::{
    AddBody, AddEntry, BulkUpdateBody, DeleteBody, Filter, ListAnswer, ListBody, SetEntry,
    SetsDeleteBody, SetsListAnswer, SetsListBody, Update, ADD_PATH, BULK_UPDATE_PATH, DELETE_PATH,
    LIST_PATH, SETS_DELETE_PATH, SETS_LIST_PATH,
};
use crate::wire::timestamp;

/// The longest set name the SDK sends, in bytes.
pub const MAX_SET_NAME_BYTES: usize = 256;
/// Rows per `knowledge/add` batch at most.
const BATCH_ROWS: usize = 1000;
/// JSON bytes per `knowledge/add` batch at most: half the platform's usual
/// 1 MiB body limit, leaving room for the envelope.
const BATCH_BYTES: usize = 512 * 1024;
/// Rows per page when the caller names no page size, and per page of the
/// all-rows stream.
const ROW_PAGE_SIZE: u32 = 1000;
/// Sets per page when the caller names no page size.
const SET_PAGE_SIZE: u32 = 100;

/// The knowledge of the client's project, borrowed from a [`Client`].
#[derive(Debug)]
pub struct Knowledge<'c> {
    client: &'c Client,
}

/// Which sets to list ([`Knowledge::list`]).
#[derive(Clone, Debug, Default)]
pub struct SetListOptions {
    /// The page, from 1 (the default).
    pub page: Option<u32>,
    /// Sets per page (default 100).
    pub page_size: Option<u32>,
    /// Also list hidden sets: every agent task is one (a conversation).
    pub include_hidden: bool,
    /// Exact-match filters, `(field, value)`: e.g. `("type", "conversation")`,
    /// `("conversation.agent_id", agent)`. A JSON array value matches any of
    /// its items.
    pub filters: Vec<(String, Value)>,
}

/// A knowledge set as `knowledge/sets/list` describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct KnowledgeSetInfo {
    /// Its name (for a conversation, the task id).
    pub name: String,
    /// How many rows it holds.
    pub row_count: u64,
    /// Whether it is hidden (conversations are).
    pub hidden: bool,
    /// Its `type` (`conversation` for a task; tables usually have none).
    pub kind: Option<String>,
    /// For a conversation, its agent.
    pub agent_id: Option<String>,
    /// When it was made.
    pub created_at: Option<DateTime<Utc>>,
    /// When it last changed.
    pub updated_at: Option<DateTime<Utc>>,
    /// The whole `metadata` object as the platform sent it.
    pub metadata: Map<String, Value>,
}

/// Which rows to read ([`KnowledgeSet::rows`]).
#[derive(Clone, Debug, Default)]
pub struct RowListOptions {
    /// The page, from 1 (the default).
    pub page: Option<u32>,
    /// Rows per page (default 1000).
    pub page_size: Option<u32>,
    /// Newest first (the platform's `insert_date_: desc`); oldest first otherwise.
    pub newest_first: bool,
    /// Exact-match filters, `(field, value)`: `document_id`, or a field of the
    /// row's data (a dotted path). A JSON array value matches any of its items.
    pub filters: Vec<(String, Value)>,
}

/// One row of a set. `T` is what its `data` was read as: a JSON object by
/// default, the caller's type from the `_as` reads.
#[derive(Clone, Debug, PartialEq)]
pub struct Row<T = Map<String, Value>> {
    /// The row's id.
    pub document_id: String,
    /// Its data.
    pub data: T,
    /// When it was added.
    pub created_at: Option<DateTime<Utc>>,
    /// When it last changed.
    pub updated_at: Option<DateTime<Utc>>,
}

/// One set: read, add, update and delete its rows, clear or drop it.
#[derive(Clone, Debug)]
pub struct KnowledgeSet {
    client: Client,
    name: String,
}

impl Client {
    /// The knowledge sets of the project.
    pub fn knowledge(&self) -> Knowledge<'_> {
        Knowledge { client: self }
    }
}

/// Refuses a set name the platform would refuse: empty, over
/// [`MAX_SET_NAME_BYTES`], with control characters or white space at either
/// end, or `*` (the platform's "every set").
pub fn check_set_name(name: &str) -> Result<()> {
    let problem = if name.is_empty() || name.len() > MAX_SET_NAME_BYTES {
        format!("a set name must be 1 to {MAX_SET_NAME_BYTES} bytes")
    } else if name.chars().any(char::is_control) {
        "a set name may not contain control characters".to_string()
    } else if name.trim() != name {
        "a set name may not begin or end with white space".to_string()
    } else if name == "*" {
        "a set name may not be `*` (the platform reads it as every set)".to_string()
    } else {
        return Ok(());
    };
    Err(Error::InvalidKnowledge { problem })
}

fn filters(pairs: &[(String, Value)]) -> Vec<Filter<'_>> {
    pairs
        .iter()
        .map(|(field, value)| Filter {
            field,
            filter_type: "exact_match",
            condition: "==",
            condition_value: value,
        })
        .collect()
}

fn sort(field: &str, descending: bool) -> [Map<String, Value>; 1] {
    let direction = if descending { "desc" } else { "asc" };
    [Map::from_iter([(
        field.to_string(),
        Value::from(direction),
    )])]
}

/// A full page's next page number, as the agent list pages (see [`Page`]).
fn next_page(page: u32, page_size: u32, items: usize) -> Option<String> {
    (page_size > 0 && items >= page_size as usize).then(|| page.saturating_add(1).to_string())
}

impl Knowledge<'_> {
    /// One page of the project's sets (`POST knowledge/sets/list`), most
    /// recently changed first. A full page's `next_cursor` is the next page's
    /// number; a shorter page is the last.
    pub async fn list(&self, options: SetListOptions) -> Result<Page<KnowledgeSetInfo>> {
        let page = options.page.unwrap_or(1).max(1);
        let page_size = options.page_size.unwrap_or(SET_PAGE_SIZE);
        let body = SetsListBody {
            filters: filters(&options.filters),
            sort: sort("update_date", true),
            include_hidden: options.include_hidden,
            page,
            page_size,
        };
        let request = Request::read_post(SETS_LIST_PATH).json(&body);
        let answer: SetsListAnswer = self.client.send(request).await?;
        let items: Vec<KnowledgeSetInfo> = answer.results.into_iter().map(set_info).collect();
        Ok(Page {
            next_cursor: next_page(page, page_size, items.len()),
            items,
        })
    }

    /// Every set from `options.page` on, page by page as the stream is
    /// polled; ends after the last page or right after the first error.
    pub fn all(
        &self,
        options: SetListOptions,
    ) -> impl Stream<Item = Result<KnowledgeSetInfo>> + Unpin {
        let client = self.client.clone();
        let first = options.page.map(|page| page.to_string());
        every_item(first, "knowledge/sets/list answer", move |cursor| {
            let client = client.clone();
            let options = SetListOptions {
                page: cursor.and_then(|page| page.parse().ok()),
                ..options.clone()
            };
            async move { client.knowledge().list(options).await }
        })
    }

    /// The set called `name` (made by its first [`KnowledgeSet::add`]);
    /// [`Error::InvalidKnowledge`] for a name the platform would refuse.
    pub fn set(&self, name: &str) -> Result<KnowledgeSet> {
        check_set_name(name)?;
        Ok(KnowledgeSet {
            client: self.client.clone(),
            name: name.to_string(),
        })
    }
}

fn set_info(entry: SetEntry) -> KnowledgeSetInfo {
    let metadata = entry.metadata.unwrap_or_default();
    let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_string);
    KnowledgeSetInfo {
        row_count: entry
            .knowledge_count
            .map_or(0, |count| count.max(0.0) as u64),
        hidden: metadata
            .get("hidden")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        kind: text(metadata.get("type")),
        agent_id: text(metadata.get("conversation").and_then(|c| c.get("agent_id"))),
        created_at: metadata.get("insert_date").and_then(timestamp),
        updated_at: metadata.get("update_date").and_then(timestamp),
        name: entry.knowledge_set,
        metadata,
    }
}

/// An item as a JSON object, or why it is not one.
fn object(index: usize, item: &impl Serialize) -> Result<Value> {
    match serde_json::to_value(item) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(other) => Err(Error::InvalidKnowledge {
            problem: format!(
                "row {index} is {}, not a JSON object",
                match other {
                    Value::Null => "null",
                    Value::Bool(_) => "a boolean",
                    Value::Number(_) => "a number",
                    Value::String(_) => "a string",
                    Value::Array(_) => "an array",
                    Value::Object(_) => "an object",
                }
            ),
        }),
        Err(error) => Err(Error::InvalidKnowledge {
            problem: format!("row {index} cannot be written as JSON: {error}"),
        }),
    }
}

/// Splits rows into batches of at most [`BATCH_ROWS`] rows and about
/// [`BATCH_BYTES`] of JSON (a row larger than that goes alone).
fn batches(rows: &[(String, Value)]) -> Vec<&[(String, Value)]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (index, (id, value)) in rows.iter().enumerate() {
        let size = json_len(value) + id.len() + 48;
        if index > start && (index - start >= BATCH_ROWS || bytes + size > BATCH_BYTES) {
            out.push(&rows[start..index]);
            (start, bytes) = (index, 0);
        }
        bytes += size;
    }
    if start < rows.len() {
        out.push(&rows[start..]);
    }
    out
}

/// How many bytes `value` takes as JSON, counted without building the text.
fn json_len(value: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing to a counter cannot fail, and a `Value` always serialises.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

impl KnowledgeSet {
    /// The set's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// One page of rows, each `data` a JSON object.
    pub async fn rows(&self, options: RowListOptions) -> Result<Page<Row>> {
        self.rows_as(options).await
    }

    /// One page of rows, each `data` read as `T` (a row that does not fit `T`
    /// fails the read with [`Error::Decode`]). A full page's `next_cursor` is
    /// the next page's number.
    pub async fn rows_as<T: DeserializeOwned>(
        &self,
        options: RowListOptions,
    ) -> Result<Page<Row<T>>> {
        let page = options.page.unwrap_or(1).max(1);
        let page_size = options.page_size.unwrap_or(ROW_PAGE_SIZE);
        let body = ListBody {
            knowledge_set: &self.name,
            page,
            page_size,
            sort: sort("insert_date_", options.newest_first),
            filters: filters(&options.filters),
        };
        let request = Request::read_post(LIST_PATH).json(&body);
        let answer: ListAnswer<T> = self.client.send(request).await?;
        let items: Vec<Row<T>> = answer
            .results
            .into_iter()
            .map(|row| Row {
                created_at: timestamp(&row.insert_date_),
                updated_at: timestamp(&row.update_date_),
                document_id: row.document_id,
                data: row.data,
            })
            .collect();
        Ok(Page {
            next_cursor: next_page(page, page_size, items.len()),
            items,
        })
    }

    /// Every row, oldest first, fetched a page at a time as the stream is
    /// polled: only one page is held in memory. Ends after the last page or
    /// right after the first error.
    pub fn all_rows(&self) -> impl Stream<Item = Result<Row>> + Unpin {
        self.all_rows_as()
    }

    /// [`all_rows`](Self::all_rows) with each `data` read as `T`.
    pub fn all_rows_as<T: DeserializeOwned + 'static>(
        &self,
    ) -> impl Stream<Item = Result<Row<T>>> + Unpin {
        let set = self.clone();
        every_item(None, "knowledge/list answer", move |cursor| {
            let set = set.clone();
            let options = RowListOptions {
                page: cursor.and_then(|page| page.parse().ok()),
                ..RowListOptions::default()
            };
            async move { set.rows_as(options).await }
        })
    }

    /// Adds rows (`POST knowledge/add`), each item a JSON object once
    /// serialised; answers their new ids, in order. Every item is checked
    /// before the first request; batches go one after another, so on an error
    /// the batches before it are written and none after.
    pub async fn add<T: Serialize>(&self, items: &[T]) -> Result<Vec<String>> {
        let mut rows = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            rows.push((uuid::Uuid::new_v4().to_string(), object(index, item)?));
        }
        self.put_rows(&rows).await?;
        Ok(rows.into_iter().map(|(id, _)| id).collect())
    }

    /// Adds or replaces rows under ids the caller chose (a known id's data is
    /// replaced); checked and batched as [`add`](Self::add).
    pub async fn upsert<T: Serialize>(&self, items: &[(String, T)]) -> Result<()> {
        let mut rows = Vec::with_capacity(items.len());
        for (index, (id, item)) in items.iter().enumerate() {
            if id.is_empty() {
                return Err(Error::InvalidKnowledge {
                    problem: format!("row {index} has an empty id"),
                });
            }
            rows.push((id.clone(), object(index, item)?));
        }
        self.put_rows(&rows).await
    }

    async fn put_rows(&self, rows: &[(String, Value)]) -> Result<()> {
        for batch in batches(rows) {
            let body = AddBody {
                knowledge_set: &self.name,
                data: batch
                    .iter()
                    .map(|(id, value)| AddEntry {
                        kind: "document",
                        document_id: id,
                        value,
                    })
                    .collect(),
            };
            // The ids are made before sending: a repeat writes the same rows again.
            let request = Request::new(RequestKind::Read, reqwest::Method::POST, ADD_PATH)
                .json(&body)
                .answer("knowledge/add answer");
            let _: Value = self.client.send(request).await?;
        }
        Ok(())
    }

    /// Changes the named fields of one row (`POST knowledge/bulk_update`);
    /// its other fields stay. `fields` must serialise to a JSON object. A row
    /// the set does not hold is `BadRequest`.
    pub async fn update(&self, document_id: &str, fields: &impl Serialize) -> Result<()> {
        let data = object(0, fields)?;
        let body = BulkUpdateBody {
            knowledge_set: &self.name,
            updates: vec![Update {
                document_id,
                data: &data,
            }],
        };
        let request =
            Request::new(RequestKind::Read, reqwest::Method::POST, BULK_UPDATE_PATH).json(&body);
        let _: Value = self.client.send(request).await?;
        Ok(())
    }

    /// Deletes one row (`POST knowledge/delete`); `NotFound` when absent.
    pub async fn delete(&self, document_id: &str) -> Result<()> {
        self.send_delete(Some(document_id)).await
    }

    /// Deletes every row; the set stays, empty.
    pub async fn clear(&self) -> Result<()> {
        self.send_delete(None).await
    }

    async fn send_delete(&self, document_id: Option<&str>) -> Result<()> {
        let body = DeleteBody {
            knowledge_set: &self.name,
            document_id,
        };
        let request = Request::create(DELETE_PATH).json(&body);
        let _: Value = self.client.send(request).await?;
        Ok(())
    }

    /// Deletes the set and its rows (`POST knowledge/sets/delete`); for a
    /// conversation, its task and messages.
    pub async fn drop(self) -> Result<()> {
        let body = SetsDeleteBody {
            knowledge_set: &self.name,
        };
        let request = Request::create(SETS_DELETE_PATH).json(&body);
        let _: Value = self.client.send(request).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_platform_would_refuse_are_refused_naming_the_rule() {
        let long = "n".repeat(MAX_SET_NAME_BYTES + 1);
        for (name, rule) in [
            ("", "1 to"),
            (long.as_str(), "1 to"),
            ("a\nb", "control"),
            (" faq", "white space"),
            ("*", "every set"),
        ] {
            let refused = check_set_name(name).expect_err(name).to_string();
            assert!(refused.contains(rule), "{name:?}: {refused}");
        }
        for name in ["faq", "My FAQ", "t_-_1.2~x", "ünïcode"] {
            check_set_name(name).expect(name);
        }
    }

    #[test]
    fn items_that_are_not_objects_are_refused_naming_the_row() {
        assert!(object(0, &serde_json::json!({"a": 1})).is_ok());
        for (value, kind) in [
            (serde_json::json!(1), "a number"),
            (serde_json::json!("x"), "a string"),
            (serde_json::json!([1]), "an array"),
            (Value::Null, "null"),
        ] {
            let refused = object(7, &value).expect_err("not an object").to_string();
            assert!(
                refused.contains("row 7") && refused.contains(kind),
                "{refused}"
            );
        }
    }

    #[test]
    fn batches_hold_at_most_a_thousand_rows_and_about_half_a_mebibyte() {
        let small: Vec<(String, Value)> = (0..2500)
            .map(|n| (n.to_string(), serde_json::json!({"n": n})))
            .collect();
        let sizes: Vec<usize> = batches(&small).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [1000, 1000, 500]);
        let big: Vec<(String, Value)> = (0..5)
            .map(|n| {
                (
                    n.to_string(),
                    serde_json::json!({"text": "x".repeat(200 * 1024)}),
                )
            })
            .collect();
        let sizes: Vec<usize> = batches(&big).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [2, 2, 1]);
        let huge = vec![(
            "h".to_string(),
            serde_json::json!({"text": "x".repeat(BATCH_BYTES)}),
        )];
        assert_eq!(batches(&huge).len(), 1);
        assert!(batches(&[]).is_empty());
    }
}
