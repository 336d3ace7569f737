//! [`StartError`]: why the emulator could not start, or could not stop cleanly.

use std::path::PathBuf;

use crate::store::StoreError;

/// Why starting (or shutting down) the emulator failed.
///
/// Seed problems name the file and the line; database problems name the
/// database file. No variant ever carries a key value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The seed file could not be read.
    #[error("cannot read seed file {}: {source}", file.display())]
    SeedRead {
        /// The seed file.
        file: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The seed file is not valid: syntax, unknown field or region, duplicate or dangling id.
    #[error("seed file {}, line {line}: {problem}", file.display())]
    Seed {
        /// The seed file.
        file: PathBuf,
        /// The 1-based line of the problem.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// Seed text (not a file) is not valid; as [`StartError::Seed`].
    #[error("seed text, line {line}: {problem}")]
    SeedText {
        /// The 1-based line of the problem.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// The data directory could not be created.
    #[error("cannot create data directory {}: {source}", path.display())]
    CreateDataDirectory {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// SQLite refused an operation.
    #[error("database {path}: {source}")]
    Database {
        /// The database file (or `:memory:`).
        path: String,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The database could not be reached (closed, or a task holding it failed).
    #[error("database {path}: {reason}")]
    DatabaseUnavailable {
        /// The database file (or `:memory:`).
        path: String,
        /// What happened.
        reason: String,
    },
    /// A [`crate::Config`] value is unusable.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// The listener's local address could not be read.
    #[error("cannot read the listener's address: {0}")]
    Listener(#[source] std::io::Error),
    /// The HTTP server stopped with an error.
    #[error("HTTP server failed: {0}")]
    Serve(#[source] std::io::Error),
    /// The server task panicked or was cancelled.
    #[error("server task failed: {0}")]
    ServerTask(String),
}

impl From<StoreError> for StartError {
    fn from(error: StoreError) -> StartError {
        match error {
            StoreError::Sqlite { location, source } => StartError::Database {
                path: location,
                source,
            },
            other => StartError::DatabaseUnavailable {
                path: other.location().to_string(),
                reason: other.to_string(),
            },
        }
    }
}
