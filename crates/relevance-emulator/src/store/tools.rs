//! Tools (PROTOCOL A12, the platform's "studios") and the seed's marks.
//!
//! A tool is stored as the JSON document of its `Tool` fields (title, description,
//! `params_schema`, and whatever else a client sent, kept as sent) beside the
//! emulator's own behaviour (JSON, read by `engine::tool_runner`). The fields the
//! server owns (`studio_id`, `project`, dates) are columns and never part of the
//! document. This module stores; it never validates a schema or runs a tool.
//!
//! Seed marks: what the seed file last applied to an agent or a tool. The seed is
//! applied to an object only when its definition is new or changed since that mark,
//! so a restart with the same seed leaves what the API did (edits, deletions) alone.

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{Map, Value};

/// A tool as stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ToolRecord {
    pub(crate) project: String,
    pub(crate) id: String,
    /// The `Tool` fields a client (or the seed) set, without the server's own.
    pub(crate) document: Map<String, Value>,
    /// `engine::tool_runner::ToolBehavior` as JSON.
    pub(crate) behavior: String,
    pub(crate) insert_date: String,
    pub(crate) update_date: String,
}

/// Which object a seed mark is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SeedKind {
    Agent,
    Tool,
}

impl SeedKind {
    fn as_str(self) -> &'static str {
        match self {
            SeedKind::Agent => "agent",
            SeedKind::Tool => "tool",
        }
    }
}

fn document_from_text(text: String, column: usize) -> rusqlite::Result<Map<String, Value>> {
    serde_json::from_str(&text).map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(
            column,
            rusqlite::types::Type::Text,
            format!("unreadable tool document: {error}").into(),
        )
    })
}

fn tool_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ToolRecord> {
    Ok(ToolRecord {
        project: row.get(0)?,
        id: row.get(1)?,
        document: document_from_text(row.get(2)?, 2)?,
        behavior: row.get(3)?,
        insert_date: row.get(4)?,
        update_date: row.get(5)?,
    })
}

const TOOL_COLUMNS: &str = "project_id, id, document, behavior, insert_date, update_date";

/// One tool of `project` (tools are project-wide: only API keys reach them).
pub(crate) fn find_tool(
    connection: &Connection,
    project: &str,
    tool_id: &str,
) -> rusqlite::Result<Option<ToolRecord>> {
    connection
        .query_row(
            &format!("SELECT {TOOL_COLUMNS} FROM tools WHERE project_id = ?1 AND id = ?2"),
            params![project, tool_id],
            tool_from_row,
        )
        .optional()
}

/// Up to `limit` tools of `project`, ordered by id.
pub(crate) fn list_tools(
    connection: &Connection,
    project: &str,
    limit: i64,
) -> rusqlite::Result<Vec<ToolRecord>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {TOOL_COLUMNS} FROM tools WHERE project_id = ?1 ORDER BY id LIMIT ?2"
    ))?;
    let rows = statement.query_map(params![project, limit], tool_from_row)?;
    rows.collect()
}

/// Writes a tool: a new row, or the stored one replaced (its `insert_date` kept).
pub(crate) fn save_tool(connection: &Connection, tool: &ToolRecord) -> rusqlite::Result<()> {
    let document = Value::Object(tool.document.clone()).to_string();
    connection.execute(
        "INSERT INTO tools (project_id, id, document, behavior, insert_date, update_date)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (project_id, id) DO UPDATE SET
            document = excluded.document, behavior = excluded.behavior,
            update_date = excluded.update_date",
        params![
            tool.project,
            tool.id,
            document,
            tool.behavior,
            tool.insert_date,
            tool.update_date
        ],
    )?;
    Ok(())
}

/// Deletes these tools of `project`; answers how many existed.
pub(crate) fn delete_tools(
    connection: &Connection,
    project: &str,
    ids: &[String],
) -> rusqlite::Result<usize> {
    let mut deleted = 0;
    for id in ids {
        deleted += connection.execute(
            "DELETE FROM tools WHERE project_id = ?1 AND id = ?2",
            params![project, id],
        )?;
    }
    Ok(deleted)
}

/// What the seed last applied to this object, if it ever did.
pub(crate) fn seed_mark(
    connection: &Connection,
    project: &str,
    kind: SeedKind,
    id: &str,
) -> rusqlite::Result<Option<String>> {
    connection
        .query_row(
            "SELECT spec FROM seed_marks WHERE project_id = ?1 AND kind = ?2 AND id = ?3",
            params![project, kind.as_str(), id],
            |row| row.get(0),
        )
        .optional()
}

/// Records that the seed applied `spec` to this object.
pub(crate) fn set_seed_mark(
    connection: &Connection,
    project: &str,
    kind: SeedKind,
    id: &str,
    spec: &str,
) -> rusqlite::Result<()> {
    connection.execute(
        "INSERT INTO seed_marks (project_id, kind, id, spec) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (project_id, kind, id) DO UPDATE SET spec = excluded.spec",
        params![project, kind.as_str(), id, spec],
    )?;
    Ok(())
}

/// A tool as the seed file defines it (`[[projects.tools]]`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct ToolSpec {
    pub(crate) id: String,
    /// The `Tool` fields (title, description, emoji, public, params_schema).
    pub(crate) document: Map<String, Value>,
    /// `engine::tool_runner::ToolBehavior` as JSON.
    pub(crate) behavior: String,
}

// The seed's documents hold only JSON from TOML, where NaN cannot appear.
impl Eq for ToolSpec {}

/// Applies a seeded tool when its definition is new or changed since the seed last
/// applied it; an unchanged definition leaves the row (or its absence) as the API left it.
pub(crate) fn apply_seeded_tool(
    connection: &Connection,
    project: &str,
    spec: &ToolSpec,
    now: &str,
) -> rusqlite::Result<()> {
    let mark = serde_json::to_string(spec).unwrap_or_default();
    if seed_mark(connection, project, SeedKind::Tool, &spec.id)?.as_deref() == Some(&mark) {
        return Ok(());
    }
    let insert_date = find_tool(connection, project, &spec.id)?
        .map_or_else(|| now.to_string(), |tool| tool.insert_date);
    save_tool(
        connection,
        &ToolRecord {
            project: project.to_string(),
            id: spec.id.clone(),
            document: spec.document.clone(),
            behavior: spec.behavior.clone(),
            insert_date,
            update_date: now.to_string(),
        },
    )?;
    set_seed_mark(connection, project, SeedKind::Tool, &spec.id, &mark)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn connection() -> Connection {
        let mut connection = Connection::open_in_memory().expect("in-memory database");
        super::super::schema::migrate(&mut connection).expect("migrate");
        connection
            .execute("INSERT INTO projects VALUES ('p', 'bcbe5a')", [])
            .expect("project");
        connection
    }

    fn spec(title: &str) -> ToolSpec {
        let Value::Object(document) = json!({"title": title}) else {
            unreachable!("an object literal")
        };
        ToolSpec {
            id: "t".into(),
            document,
            behavior: "{}".into(),
        }
    }

    #[test]
    fn an_unchanged_seed_leaves_api_edits_and_deletions_alone() {
        let connection = connection();
        apply_seeded_tool(&connection, "p", &spec("A"), "d1").expect("seed");
        let mut edited = find_tool(&connection, "p", "t").expect("q").expect("tool");
        edited.document.insert("title".into(), json!("edited"));
        save_tool(&connection, &edited).expect("edit");
        apply_seeded_tool(&connection, "p", &spec("A"), "d2").expect("same seed");
        let tool = find_tool(&connection, "p", "t").expect("q").expect("tool");
        assert_eq!(tool.document["title"], "edited");

        delete_tools(&connection, "p", &["t".to_string()]).expect("delete");
        apply_seeded_tool(&connection, "p", &spec("A"), "d3").expect("same seed");
        assert!(find_tool(&connection, "p", "t").expect("q").is_none());

        // A changed definition in the seed is applied again.
        apply_seeded_tool(&connection, "p", &spec("B"), "d4").expect("changed seed");
        let tool = find_tool(&connection, "p", "t").expect("q").expect("tool");
        assert_eq!(tool.document["title"], "B");
        assert_eq!(tool.insert_date, "d4", "re-created after the deletion");
    }
}
