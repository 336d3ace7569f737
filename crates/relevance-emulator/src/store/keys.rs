//! API and embed keys, stored by SHA-256 only.
//!
//! This table never holds a secret: callers pass the hash, and the admin API
//! shows at most the stored `hint`. Revocation writes `revoked_at` once, so
//! revoking twice keeps the first time.
//!
//! These functions are the only writers of keys, and they keep the store's
//! [`KeyCache`] (passed in by the caller, from the store's `Db`) in step inside the
//! same store call as the SQLite write, so a revoked key fails on the very next request. Usage counts (`request_count`,
//! `last_used_at`) arrive in memory and are written by [`flush_usage`]; listing
//! adds what is not written yet, so readers always see fresh values.

use std::collections::HashMap;

use rusqlite::types::Type;
use rusqlite::{params, Connection, OptionalExtension};

use super::cached_rows::KeyKind;
use super::definitions;
use super::key_cache::{AuthKey, KeyCache, PendingUse};
use crate::time::iso_from_ms;

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
pub(crate) fn insert(
    connection: &Connection,
    cache: &KeyCache,
    key: &KeyRecord,
) -> rusqlite::Result<()> {
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
    // Inside a transaction the row may still roll back: leave it to the first request to load.
    if connection.is_autocommit() {
        if let Some(project_region) = definitions::project_region(connection, &key.project)? {
            cache.remember(AuthKey {
                id: key.id.clone(),
                project: key.project.clone(),
                project_region,
                kind: key.kind,
                sha256: key.sha256.clone(),
                agent_id: key.agent_id.clone(),
                workforce_id: key.workforce_id.clone(),
                task_prefix: key.task_prefix.clone(),
                revoked: key.revoked_at.is_some(),
            });
        }
    }
    Ok(())
}

/// Stores a key unless its secret is already stored: seeding twice keeps the first row
/// (and so its id, usage and revocation).
pub(crate) fn insert_if_absent(
    connection: &Connection,
    cache: &KeyCache,
    key: &KeyRecord,
) -> rusqlite::Result<()> {
    let exists: bool = connection.query_row(
        "SELECT EXISTS (SELECT 1 FROM keys WHERE sha256 = ?1)",
        [&key.sha256],
        |row| row.get(0),
    )?;
    if exists {
        return Ok(());
    }
    insert(connection, cache, key)
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

/// The label the operator gave key `key_id`, if any (`auth/info`, PROTOCOL A14).
pub(crate) fn label_of(connection: &Connection, key_id: &str) -> rusqlite::Result<Option<String>> {
    Ok(connection
        .query_row("SELECT label FROM keys WHERE id = ?1", [key_id], |row| {
            row.get::<_, Option<String>>(0)
        })
        .optional()?
        .flatten())
}

/// Whether the key `key_id` exists and is not revoked (a streaming token dies with its key).
pub(crate) fn is_active(connection: &Connection, key_id: &str) -> rusqlite::Result<bool> {
    connection.query_row(
        "SELECT EXISTS (SELECT 1 FROM keys WHERE id = ?1 AND revoked_at IS NULL)",
        [key_id],
        |row| row.get(0),
    )
}

/// What authentication needs of the key whose secret hashes to `sha256`, revoked or not,
/// with its project's region.
pub(crate) fn find_for_auth(
    connection: &Connection,
    sha256: &str,
) -> rusqlite::Result<Option<AuthKey>> {
    connection
        .prepare_cached(&format!("{AUTH_SELECT} WHERE keys.sha256 = ?1"))?
        .query_row([sha256], auth_key_of)
        .optional()
}

/// The columns [`auth_key_of`] reads, for every key with its project's region.
const AUTH_SELECT: &str =
    "SELECT keys.id, keys.project_id, projects.region, keys.kind, keys.sha256,
        keys.agent_id, keys.workforce_id, keys.task_prefix, keys.revoked_at IS NOT NULL
 FROM keys JOIN projects ON projects.id = keys.project_id";

/// One row of [`AUTH_SELECT`]; a row with an unknown region is an error, not a key.
fn auth_key_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<AuthKey> {
    let region: String = row.get(2)?;
    let project_region = crate::region::Region::from_code(&region).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            2,
            Type::Text,
            format!("unknown region code {region:?} in table projects").into(),
        )
    })?;
    Ok(AuthKey {
        id: row.get(0)?,
        project: row.get(1)?,
        project_region,
        kind: KeyKind::from_column(row.get(3)?, 3)?,
        sha256: row.get(4)?,
        agent_id: row.get(5)?,
        workforce_id: row.get(6)?,
        task_prefix: row.get(7)?,
        revoked: row.get(8)?,
    })
}

/// Loads every key (revoked too) into the key cache, so that "is this value a
/// key?" can be answered from memory: redacting paths and messages asks it of every path
/// segment of every request, which must not cost a database trip.
pub(crate) fn preload_cache(connection: &Connection, cache: &KeyCache) -> rusqlite::Result<usize> {
    let mut statement = connection.prepare(&format!("{AUTH_SELECT} ORDER BY keys.id"))?;
    let mut rows = statement.query([])?;
    let mut loaded = 0;
    while let Some(row) = rows.next()? {
        let key = auth_key_of(row)?;
        cache.remember(key);
        loaded += 1;
    }
    Ok(loaded)
}

/// Writes the usage counted in memory since the last flush, in one transaction.
///
/// Call it on the store's thread (as every store closure runs): listing reads the
/// same counts there, so a count is always either in memory or in the table.
/// On failure the counts go back to memory for the next attempt.
pub(crate) fn flush_usage(
    connection: &mut Connection,
    cache: &KeyCache,
) -> rusqlite::Result<usize> {
    let pending = cache.take_usage();
    if pending.is_empty() {
        return Ok(0);
    }
    match write_usage(connection, &pending) {
        Ok(()) => Ok(pending.len()),
        Err(error) => {
            cache.restore_usage(pending);
            Err(error)
        }
    }
}

fn write_usage(
    connection: &mut Connection,
    pending: &HashMap<String, PendingUse>,
) -> rusqlite::Result<()> {
    let transaction = connection.transaction()?;
    {
        let mut update = transaction.prepare_cached(
            "UPDATE keys SET request_count = request_count + ?2,
                             last_used_at = MAX(COALESCE(last_used_at, ''), ?3)
             WHERE id = ?1",
        )?;
        for (key_id, used) in pending {
            update.execute(params![
                key_id,
                used.requests,
                iso_from_ms(used.last_used_ms)
            ])?;
        }
    }
    transaction.commit()
}

/// Adds the usage not yet flushed to a row read from the table.
fn with_pending_use(cache: &KeyCache, mut key: KeyRecord) -> KeyRecord {
    if let Some(used) = cache.pending_use(&key.id) {
        key.request_count += used.requests;
        let pending_at = iso_from_ms(used.last_used_ms);
        // One timestamp format everywhere, so text order is time order.
        let newer = match key.last_used_at.as_deref() {
            Some(stored) => stored < pending_at.as_str(),
            None => true,
        };
        if newer {
            key.last_used_at = Some(pending_at);
        }
    }
    key
}

/// Every key of a project, oldest first.
pub(crate) fn list_for_project(
    connection: &Connection,
    cache: &KeyCache,
    project: &str,
) -> rusqlite::Result<Vec<KeyRecord>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {KEY_COLUMNS} FROM keys WHERE project_id = ?1 ORDER BY created_at, id"
    ))?;
    let rows = statement.query_map([project], key_from_row)?;
    rows.map(|row| row.map(|key| with_pending_use(cache, key)))
        .collect()
}

/// How to find the key to revoke.
#[derive(Debug, Clone, Copy)]
pub(crate) enum KeySelector<'a> {
    Id(&'a str),
    Sha256(&'a str),
}

/// Revokes a key (keeping an earlier revocation time) and answers `(id, revoked_at)`,
/// or `None` when no key matches.
///
/// `cache` (the store's key cache) learns it before this returns.
pub(crate) fn revoke(
    connection: &Connection,
    cache: &KeyCache,
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
    let revoked: Option<(String, String, String)> = connection
        .query_row(
            &format!("SELECT id, revoked_at, sha256 FROM keys WHERE {column} = ?1"),
            [value],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    let Some((id, revoked_at, sha256)) = revoked else {
        return Ok(None);
    };
    // Inside a transaction the revocation may still roll back: then drop the entry instead,
    // so the next request reloads whatever was committed.
    let committed = connection.is_autocommit();
    if committed {
        cache.mark_revoked(&sha256);
    } else {
        cache.forget(&sha256);
    }
    cache.announce_revocation();
    Ok(Some((id, revoked_at)))
}

#[cfg(test)]
mod tests;
