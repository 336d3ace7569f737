//! Temporary files: a row per upload URL, its bytes once the `PUT` arrives.
//!
//! The upload signature is stored only as a SHA-256 hash, like a key.

use rusqlite::{params, Connection, OptionalExtension};

/// Deletes every file slot created before `cutoff` (ISO, the one format: string order is
/// time order), with its bytes; answers how many went.
pub(crate) fn delete_created_before(
    connection: &Connection,
    cutoff: &str,
) -> rusqlite::Result<usize> {
    connection.execute("DELETE FROM files WHERE created_at < ?1", [cutoff])
}

/// Unexpired file slots of a project (created at or after `cutoff`).
pub(crate) fn count_for_project(
    connection: &Connection,
    project: &str,
    cutoff: &str,
) -> rusqlite::Result<usize> {
    connection.query_row(
        "SELECT COUNT(*) FROM files WHERE project_id = ?1 AND created_at >= ?2",
        [project, cutoff],
        |row| row.get(0),
    )
}

/// A file slot as created by `get_temporary_file_upload_url`.
#[derive(Debug, Clone)]
pub(crate) struct NewFile {
    pub(crate) id: String,
    pub(crate) project: String,
    pub(crate) sig_hash: String,
    pub(crate) file_name: String,
    pub(crate) extension: String,
    pub(crate) created_at: String,
}

/// Stores a new, still empty, file slot.
pub(crate) fn insert(connection: &Connection, file: &NewFile) -> rusqlite::Result<()> {
    connection.execute(
        "INSERT INTO files (id, project_id, sig_hash, file_name, extension, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            file.id,
            file.project,
            file.sig_hash,
            file.file_name,
            file.extension,
            file.created_at
        ],
    )?;
    Ok(())
}

/// The stored signature hash of a file slot created at or after `cutoff` (an expired
/// slot has no signature any more).
pub(crate) fn sig_hash(
    connection: &Connection,
    id: &str,
    cutoff: &str,
) -> rusqlite::Result<Option<String>> {
    connection
        .query_row(
            "SELECT sig_hash FROM files WHERE id = ?1 AND created_at >= ?2",
            [id, cutoff],
            |row| row.get(0),
        )
        .optional()
}

/// Stores (or replaces) a file's bytes with the media type its upload named, if any (a
/// replacing upload replaces the type too).
pub(crate) fn store_bytes(
    connection: &Connection,
    id: &str,
    bytes: &[u8],
    media_type: Option<&str>,
    now: &str,
) -> rusqlite::Result<()> {
    connection.execute(
        "UPDATE files SET bytes = ?2, uploaded_at = ?3, media_type = ?4 WHERE id = ?1",
        params![id, bytes, now, media_type],
    )?;
    Ok(())
}

/// An uploaded file, as served.
#[derive(Debug, Clone)]
pub(crate) struct StoredFile {
    pub(crate) file_name: String,
    pub(crate) extension: String,
    /// The `Content-Type` its upload carried, if any.
    pub(crate) media_type: Option<String>,
    pub(crate) bytes: Vec<u8>,
}

/// An uploaded file created at or after `cutoff` (older ones have expired); `None` if
/// unknown, expired or not uploaded yet.
pub(crate) fn download(
    connection: &Connection,
    id: &str,
    cutoff: &str,
) -> rusqlite::Result<Option<StoredFile>> {
    connection
        .query_row(
            "SELECT file_name, extension, media_type, bytes FROM files
             WHERE id = ?1 AND bytes IS NOT NULL AND created_at >= ?2",
            [id, cutoff],
            |row| {
                Ok(StoredFile {
                    file_name: row.get(0)?,
                    extension: row.get(1)?,
                    media_type: row.get(2)?,
                    bytes: row.get(3)?,
                })
            },
        )
        .optional()
}
