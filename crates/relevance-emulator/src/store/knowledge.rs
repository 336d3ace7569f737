//! Knowledge sets (PROTOCOL A16): a project's tables and their rows.
//!
//! A row's `data` is stored as the JSON text a client sent (an object, checked by the
//! service); `seq` orders rows by insertion, so the `insert_date_` sort stays stable when
//! thousands of rows share a millisecond. Conversations are not stored here: the service
//! reads them from `tasks` and `messages` (one copy of a task, never two).

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};

/// A table set as stored, with its row count.
#[derive(Debug, Clone)]
pub(crate) struct SetRecord {
    pub(crate) name: String,
    pub(crate) id: String,
    pub(crate) insert_date: String,
    pub(crate) update_date: String,
    pub(crate) row_count: i64,
}

/// A row as stored (`data` still JSON text: the answer embeds it without a re-parse
/// where it can).
#[derive(Debug, Clone)]
pub(crate) struct RowRecord {
    pub(crate) document_id: String,
    pub(crate) data: String,
    pub(crate) insert_date: String,
    pub(crate) update_date: String,
}

/// One row to write: its id and its `data` as JSON text.
#[derive(Debug, Clone)]
pub(crate) struct RowWrite {
    pub(crate) document_id: String,
    pub(crate) data: String,
}

/// Which page of a set's rows, in which order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowPage {
    pub(crate) newest_first: bool,
    pub(crate) offset: i64,
    pub(crate) limit: i64,
}

/// Whether `project` has a table set called `name`.
pub(crate) fn set_exists(
    connection: &Connection,
    project: &str,
    name: &str,
) -> rusqlite::Result<bool> {
    let found: Option<i64> = connection
        .query_row(
            "SELECT 1 FROM knowledge_sets WHERE project_id = ?1 AND name = ?2",
            params![project, name],
            |row| row.get(0),
        )
        .optional()?;
    Ok(found.is_some())
}

/// How many table sets `project` has.
pub(crate) fn count_sets(connection: &Connection, project: &str) -> rusqlite::Result<i64> {
    connection.query_row(
        "SELECT COUNT(*) FROM knowledge_sets WHERE project_id = ?1",
        [project],
        |row| row.get(0),
    )
}

/// How many rows the set holds (its kept count: one read, not a scan).
pub(crate) fn count_rows(
    connection: &Connection,
    project: &str,
    name: &str,
) -> rusqlite::Result<i64> {
    let count: Option<i64> = connection
        .query_row(
            "SELECT row_count FROM knowledge_sets WHERE project_id = ?1 AND name = ?2",
            params![project, name],
            |row| row.get(0),
        )
        .optional()?;
    Ok(count.unwrap_or(0))
}

/// Moves the set's kept row count by `change`.
fn add_to_count(
    connection: &Connection,
    project: &str,
    name: &str,
    change: i64,
) -> rusqlite::Result<()> {
    connection.execute(
        "UPDATE knowledge_sets SET row_count = row_count + ?3 WHERE project_id = ?1 AND name = ?2",
        params![project, name, change],
    )?;
    Ok(())
}

/// How many distinct `ids` the set does not hold yet (what an add would grow it by).
pub(crate) fn count_new(
    connection: &Connection,
    project: &str,
    name: &str,
    ids: &[&str],
) -> rusqlite::Result<i64> {
    let mut statement = connection.prepare_cached(
        "SELECT 1 FROM knowledge_rows
         WHERE project_id = ?1 AND knowledge_set = ?2 AND document_id = ?3",
    )?;
    let mut new = 0;
    // An id sent twice in one request makes one row.
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    for id in ids {
        if seen.insert(*id) && !statement.exists(params![project, name, id])? {
            new += 1;
        }
    }
    Ok(new)
}

/// Makes the set if it is new, else moves its `update_date` to `now`.
pub(crate) fn touch_set(
    connection: &Connection,
    project: &str,
    name: &str,
    new_id: &str,
    now: &str,
) -> rusqlite::Result<()> {
    connection.execute(
        "INSERT INTO knowledge_sets (project_id, name, id, insert_date, update_date)
         VALUES (?1, ?2, ?3, ?4, ?4)
         ON CONFLICT (project_id, name) DO UPDATE SET update_date = excluded.update_date",
        params![project, name, new_id, now],
    )?;
    Ok(())
}

/// Writes rows: new ids are appended, known ids get the new `data` (their `insert_date`
/// and place in the order kept). The caller made the set and says how many of the rows
/// are `new` (see [`count_new`]), which moves the set's kept count.
pub(crate) fn upsert_rows(
    connection: &Connection,
    project: &str,
    name: &str,
    rows: &[RowWrite],
    (now, new): (&str, i64),
) -> rusqlite::Result<()> {
    add_to_count(connection, project, name, new)?;
    let mut statement = connection.prepare_cached(
        "INSERT INTO knowledge_rows (project_id, knowledge_set, document_id, data, insert_date,
                                     update_date)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)
         ON CONFLICT (project_id, knowledge_set, document_id) DO UPDATE SET
            data = excluded.data, update_date = excluded.update_date",
    )?;
    for row in rows {
        statement.execute(params![project, name, row.document_id, row.data, now])?;
    }
    Ok(())
}

/// The rows of the set with these ids, by id (absent ids are not in the map).
pub(crate) fn find_rows(
    connection: &Connection,
    project: &str,
    name: &str,
    ids: &[&str],
) -> rusqlite::Result<HashMap<String, String>> {
    let mut statement = connection.prepare_cached(
        "SELECT data FROM knowledge_rows
         WHERE project_id = ?1 AND knowledge_set = ?2 AND document_id = ?3",
    )?;
    let mut found = HashMap::with_capacity(ids.len());
    for id in ids {
        let data: Option<String> = statement
            .query_row(params![project, name, id], |row| row.get(0))
            .optional()?;
        if let Some(data) = data {
            found.insert((*id).to_string(), data);
        }
    }
    Ok(found)
}

fn row_from(row: &rusqlite::Row<'_>) -> rusqlite::Result<RowRecord> {
    Ok(RowRecord {
        document_id: row.get(0)?,
        data: row.get(1)?,
        insert_date: row.get(2)?,
        update_date: row.get(3)?,
    })
}

/// A page of the set's rows in insertion order (or its reverse). Rows are offered to
/// `keep` one at a time, in order; only those it keeps count towards the page, so a
/// filtered read never holds more than one page (the scan is bounded by the set's size).
pub(crate) fn list_rows(
    connection: &Connection,
    project: &str,
    name: &str,
    page: RowPage,
    keep: &mut dyn FnMut(&RowRecord) -> bool,
) -> rusqlite::Result<Vec<RowRecord>> {
    let order = if page.newest_first { "DESC" } else { "ASC" };
    let mut statement = connection.prepare_cached(&format!(
        "SELECT document_id, data, insert_date, update_date FROM knowledge_rows
         WHERE project_id = ?1 AND knowledge_set = ?2 ORDER BY seq {order}"
    ))?;
    let mut rows = statement.query(params![project, name])?;
    let mut skipped = 0;
    let mut page_rows = Vec::new();
    while let Some(row) = rows.next()? {
        if i64::try_from(page_rows.len()).unwrap_or(i64::MAX) >= page.limit {
            break;
        }
        let record = row_from(row)?;
        if !keep(&record) {
            continue;
        }
        if skipped < page.offset {
            skipped += 1;
            continue;
        }
        page_rows.push(record);
    }
    Ok(page_rows)
}

/// A page of the set's rows when nothing filters them: the offset is the database's.
pub(crate) fn page_rows(
    connection: &Connection,
    project: &str,
    name: &str,
    page: RowPage,
) -> rusqlite::Result<Vec<RowRecord>> {
    let order = if page.newest_first { "DESC" } else { "ASC" };
    let mut statement = connection.prepare_cached(&format!(
        "SELECT document_id, data, insert_date, update_date FROM knowledge_rows
         WHERE project_id = ?1 AND knowledge_set = ?2 ORDER BY seq {order} LIMIT ?3 OFFSET ?4"
    ))?;
    let rows = statement.query_map(params![project, name, page.limit, page.offset], row_from)?;
    rows.collect()
}

/// Deletes one row; answers whether it existed.
pub(crate) fn delete_row(
    connection: &Connection,
    project: &str,
    name: &str,
    document_id: &str,
) -> rusqlite::Result<bool> {
    let deleted = connection.execute(
        "DELETE FROM knowledge_rows WHERE project_id = ?1 AND knowledge_set = ?2 AND document_id = ?3",
        params![project, name, document_id],
    )?;
    add_to_count(
        connection,
        project,
        name,
        -i64::try_from(deleted).unwrap_or(0),
    )?;
    Ok(deleted > 0)
}

/// Deletes every row of the set (the set stays, empty).
pub(crate) fn clear_set(
    connection: &Connection,
    project: &str,
    name: &str,
) -> rusqlite::Result<()> {
    connection.execute(
        "DELETE FROM knowledge_rows WHERE project_id = ?1 AND knowledge_set = ?2",
        params![project, name],
    )?;
    connection.execute(
        "UPDATE knowledge_sets SET row_count = 0 WHERE project_id = ?1 AND name = ?2",
        params![project, name],
    )?;
    Ok(())
}

/// Deletes the set and its rows.
pub(crate) fn drop_set(connection: &Connection, project: &str, name: &str) -> rusqlite::Result<()> {
    clear_set(connection, project, name)?;
    connection.execute(
        "DELETE FROM knowledge_sets WHERE project_id = ?1 AND name = ?2",
        params![project, name],
    )?;
    Ok(())
}

/// Every table set of `project` with its row count, by name.
pub(crate) fn list_sets(
    connection: &Connection,
    project: &str,
) -> rusqlite::Result<Vec<SetRecord>> {
    let mut statement = connection.prepare_cached(
        "SELECT name, id, insert_date, update_date, row_count
         FROM knowledge_sets WHERE project_id = ?1 ORDER BY name",
    )?;
    let rows = statement.query_map([project], |row| {
        Ok(SetRecord {
            name: row.get(0)?,
            id: row.get(1)?,
            insert_date: row.get(2)?,
            update_date: row.get(3)?,
            row_count: row.get(4)?,
        })
    })?;
    rows.collect()
}

/// How many messages each agent task of `project` has (tasks without any are absent).
pub(crate) fn message_counts(
    connection: &Connection,
    project: &str,
) -> rusqlite::Result<HashMap<String, i64>> {
    let mut statement = connection.prepare_cached(
        "SELECT task_id, COUNT(*) FROM messages WHERE project_id = ?1 GROUP BY task_id",
    )?;
    let rows = statement.query_map([project], |row| Ok((row.get(0)?, row.get(1)?)))?;
    rows.collect()
}

/// A task's messages as rows: `(item_id, insert_date_, update_date, content)`, by `seq`.
pub(crate) fn task_messages(
    connection: &Connection,
    project: &str,
    task_id: &str,
    newest_first: bool,
) -> rusqlite::Result<Vec<(String, String, String, String)>> {
    let order = if newest_first { "DESC" } else { "ASC" };
    let mut statement = connection.prepare_cached(&format!(
        "SELECT item_id, insert_date_, update_date, content FROM messages
         WHERE project_id = ?1 AND task_id = ?2 ORDER BY seq {order}"
    ))?;
    let rows = statement.query_map(params![project, task_id], |row| {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
    })?;
    rows.collect()
}
