//! API and embed keys, stored by SHA-256 only.
//!
//! This table never holds a secret: callers pass the hash, and the admin API
//! shows at most the stored `hint`. Revocation writes `revoked_at` once, so
//! revoking twice keeps the first time.

use rusqlite::types::Type;
use rusqlite::{params, Connection, OptionalExtension};

/// What a key may do: everything in its project, or one embed target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Api,
    Embed,
}

impl KeyKind {
    /// The wire and column spelling: `api` | `embed`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            KeyKind::Api => "api",
            KeyKind::Embed => "embed",
        }
    }

    fn from_column(value: String, column: usize) -> rusqlite::Result<KeyKind> {
        match value.as_str() {
            "api" => Ok(KeyKind::Api),
            "embed" => Ok(KeyKind::Embed),
            other => Err(rusqlite::Error::FromSqlConversionFailure(
                column,
                Type::Text,
                format!("unknown key kind {other:?} in table keys").into(),
            )),
        }
    }
}

/// A key row; `sha256` is the only trace of the secret.
#[derive(Debug, Clone)]
pub(crate) struct KeyRecord {
    pub(crate) id: String,
    pub(crate) project: String,
    pub(crate) kind: KeyKind,
    pub(crate) sha256: String,
    pub(crate) hint: String,
    pub(crate) label: Option<String>,
    pub(crate) agent_id: Option<String>,
    pub(crate) workforce_id: Option<String>,
    pub(crate) task_prefix: Option<String>,
    pub(crate) created_at: String,
    pub(crate) last_used_at: Option<String>,
    pub(crate) revoked_at: Option<String>,
    pub(crate) request_count: i64,
}

const KEY_COLUMNS: &str = "id, project_id, kind, sha256, hint, label, agent_id, workforce_id, \
                           task_prefix, created_at, last_used_at, revoked_at, request_count";

fn key_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<KeyRecord> {
    Ok(KeyRecord {
        id: row.get(0)?,
        project: row.get(1)?,
        kind: KeyKind::from_column(row.get(2)?, 2)?,
        sha256: row.get(3)?,
        hint: row.get(4)?,
        label: row.get(5)?,
        agent_id: row.get(6)?,
        workforce_id: row.get(7)?,
        task_prefix: row.get(8)?,
        created_at: row.get(9)?,
        last_used_at: row.get(10)?,
        revoked_at: row.get(11)?,
        request_count: row.get(12)?,
    })
}

/// Stores a new key. Fails (UNIQUE) if the same secret is already stored.
pub(crate) fn insert(connection: &Connection, key: &KeyRecord) -> rusqlite::Result<()> {
    connection.execute(
        &format!("INSERT INTO keys ({KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
        params![
            key.id,
            key.project,
            key.kind.as_str(),
            key.sha256,
            key.hint,
            key.label,
            key.agent_id,
            key.workforce_id,
            key.task_prefix,
            key.created_at,
            key.last_used_at,
            key.revoked_at,
            key.request_count
        ],
    )?;
    Ok(())
}

/// Stores a key unless its secret is already stored: seeding twice keeps the first row
/// (and so its id, usage and revocation).
pub(crate) fn insert_if_absent(connection: &Connection, key: &KeyRecord) -> rusqlite::Result<()> {
    let exists: bool = connection.query_row(
        "SELECT EXISTS (SELECT 1 FROM keys WHERE sha256 = ?1)",
        [&key.sha256],
        |row| row.get(0),
    )?;
    if exists {
        return Ok(());
    }
    insert(connection, key)
}

/// The key whose secret hashes to `sha256`, revoked or not.
pub(crate) fn find_by_hash(
    connection: &Connection,
    sha256: &str,
) -> rusqlite::Result<Option<KeyRecord>> {
    connection
        .query_row(
            &format!("SELECT {KEY_COLUMNS} FROM keys WHERE sha256 = ?1"),
            [sha256],
            key_from_row,
        )
        .optional()
}

/// Whether the key `key_id` exists and is not revoked (a streaming token dies with its key).
pub(crate) fn is_active(connection: &Connection, key_id: &str) -> rusqlite::Result<bool> {
    connection.query_row(
        "SELECT EXISTS (SELECT 1 FROM keys WHERE id = ?1 AND revoked_at IS NULL)",
        [key_id],
        |row| row.get(0),
    )
}

/// Counts one authenticated request for the key.
pub(crate) fn record_use(connection: &Connection, key_id: &str, now: &str) -> rusqlite::Result<()> {
    connection.execute(
        "UPDATE keys SET last_used_at = ?2, request_count = request_count + 1 WHERE id = ?1",
        params![key_id, now],
    )?;
    Ok(())
}

/// Every key of a project, oldest first.
pub(crate) fn list_for_project(
    connection: &Connection,
    project: &str,
) -> rusqlite::Result<Vec<KeyRecord>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {KEY_COLUMNS} FROM keys WHERE project_id = ?1 ORDER BY created_at, id"
    ))?;
    let rows = statement.query_map([project], key_from_row)?;
    rows.collect()
}

/// How to find the key to revoke.
#[derive(Debug, Clone, Copy)]
pub(crate) enum KeySelector<'a> {
    Id(&'a str),
    Sha256(&'a str),
}

/// Revokes a key (keeping an earlier revocation time) and answers `(id, revoked_at)`,
/// or `None` when no key matches.
pub(crate) fn revoke(
    connection: &Connection,
    selector: KeySelector<'_>,
    now: &str,
) -> rusqlite::Result<Option<(String, String)>> {
    let (column, value) = match selector {
        KeySelector::Id(id) => ("id", id),
        KeySelector::Sha256(hash) => ("sha256", hash),
    };
    connection.execute(
        &format!("UPDATE keys SET revoked_at = COALESCE(revoked_at, ?2) WHERE {column} = ?1"),
        params![value, now],
    )?;
    connection
        .query_row(
            &format!("SELECT id, revoked_at FROM keys WHERE {column} = ?1"),
            [value],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
}
