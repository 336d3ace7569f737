//! SQLite persistence: one connection, reached from async code through [`Store::call`].
//!
//! Every access goes through one mutex-guarded connection on the blocking
//! thread pool, which gives writes a total order and no `SQLITE_BUSY`. The
//! store never sees a key's secret value: callers hash it first.

pub(crate) mod catalog;
pub(crate) mod dashboard_queries;
pub(crate) mod files;
pub(crate) mod keys;
pub(crate) mod runs;
mod schema;
pub(crate) mod tasks;
pub(crate) mod workforce_tasks;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

/// The database file's name inside a [`crate::Storage::Directory`].
pub const DATABASE_FILE_NAME: &str = "emulator.sqlite3";

/// A database failure; names the database so an operator knows which file is at fault.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    #[error("database {location}: {source}")]
    Sqlite {
        location: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database {location} is closed (the emulator is shutting down)")]
    Closed { location: String },
    #[error("database {location}: a previous operation panicked while holding the connection")]
    Poisoned { location: String },
    #[error("database {location}: the blocking task failed: {reason}")]
    Task { location: String, reason: String },
}

impl StoreError {
    /// The database this error is about.
    pub(crate) fn location(&self) -> &str {
        match self {
            StoreError::Sqlite { location, .. }
            | StoreError::Closed { location }
            | StoreError::Poisoned { location }
            | StoreError::Task { location, .. } => location,
        }
    }
}

/// A cheap-clone handle to the one connection.
#[derive(Clone)]
pub(crate) struct Store {
    inner: Arc<StoreInner>,
}

struct StoreInner {
    connection: Mutex<Option<Connection>>,
    location: String,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.inner.location)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// An in-memory database: for tests and throwaway runs.
    pub(crate) fn open_in_memory() -> Result<Store, StoreError> {
        let location = ":memory:".to_string();
        let connection = Connection::open_in_memory().map_err(|source| StoreError::Sqlite {
            location: location.clone(),
            source,
        })?;
        Store::prepare(connection, location, false)
    }

    /// The database file inside `directory` (which must exist), in WAL mode.
    pub(crate) fn open_in_directory(directory: &Path) -> Result<Store, StoreError> {
        let path: PathBuf = directory.join(DATABASE_FILE_NAME);
        let location = path.display().to_string();
        let connection = Connection::open(&path).map_err(|source| StoreError::Sqlite {
            location: location.clone(),
            source,
        })?;
        Store::prepare(connection, location, true)
    }

    fn prepare(
        mut connection: Connection,
        location: String,
        wal: bool,
    ) -> Result<Store, StoreError> {
        let setup = |connection: &mut Connection| -> rusqlite::Result<()> {
            if wal {
                connection.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))?;
                connection.pragma_update(None, "synchronous", "NORMAL")?;
            }
            connection.pragma_update(None, "foreign_keys", "ON")?;
            connection.busy_timeout(std::time::Duration::from_secs(5))?;
            schema::migrate(connection)
        };
        setup(&mut connection).map_err(|source| StoreError::Sqlite {
            location: location.clone(),
            source,
        })?;
        Ok(Store {
            inner: Arc::new(StoreInner {
                connection: Mutex::new(Some(connection)),
                location,
            }),
        })
    }

    /// Where the data lives (a path, or `:memory:`), for error messages.
    pub(crate) fn location(&self) -> &str {
        &self.inner.location
    }

    /// Runs `work` on the connection on the blocking pool.
    pub(crate) async fn call<R, F>(&self, work: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<R> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        let location = self.inner.location.clone();
        tokio::task::spawn_blocking(move || inner.with_connection(work))
            .await
            .map_err(|error| StoreError::Task {
                location,
                reason: error.to_string(),
            })?
    }

    /// Checkpoints the WAL into the main file and closes the connection.
    ///
    /// Later calls fail with [`StoreError::Closed`] instead of touching a closed file.
    pub(crate) async fn close(&self) -> Result<(), StoreError> {
        let inner = Arc::clone(&self.inner);
        let location = self.inner.location.clone();
        tokio::task::spawn_blocking(move || inner.close())
            .await
            .map_err(|error| StoreError::Task {
                location,
                reason: error.to_string(),
            })?
    }
}

impl StoreInner {
    fn with_connection<R>(
        &self,
        work: impl FnOnce(&mut Connection) -> rusqlite::Result<R>,
    ) -> Result<R, StoreError> {
        let mut guard = self.connection.lock().map_err(|_| StoreError::Poisoned {
            location: self.location.clone(),
        })?;
        let connection = guard.as_mut().ok_or_else(|| StoreError::Closed {
            location: self.location.clone(),
        })?;
        work(connection).map_err(|source| StoreError::Sqlite {
            location: self.location.clone(),
            source,
        })
    }

    fn close(&self) -> Result<(), StoreError> {
        let mut guard = self.connection.lock().map_err(|_| StoreError::Poisoned {
            location: self.location.clone(),
        })?;
        let Some(connection) = guard.take() else {
            return Ok(());
        };
        let sqlite = |source| StoreError::Sqlite {
            location: self.location.clone(),
            source,
        };
        // Harmless on an in-memory database (it is not in WAL mode).
        connection
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(sqlite)?;
        connection.close().map_err(|(_, source)| sqlite(source))
    }
}
