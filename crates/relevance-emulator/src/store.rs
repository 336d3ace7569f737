//! SQLite persistence: one connection, reached from async code through [`Store::call`].
//!
//! Every access runs on the store's own thread, one after another, which gives
//! writes a total order and no `SQLITE_BUSY`. One long-lived thread, rather than
//! the blocking pool, because a pool thread per call contended for the
//! connection's lock and cost more than the queries (see the throughput bench in
//! `relevance-cli`). The store never sees a key's secret value: callers hash it first.
//!
//! The thread owns a [`Db`]: the connection and the two caches beside it, the
//! [`KeyCache`] that authentication reads and the [`AgentCache`] of the agent rows
//! `agents/{id}/get` reads. Readers get shared handles to the caches and read them
//! without the thread; every change to a cache happens on the thread, through the
//! `Db` a store closure receives, so the repository functions that write keys or
//! agents take the cache they keep in step as an argument. Closing the store
//! writes the usage counts the key cache still holds.

pub(crate) mod agent_cache;
pub(crate) mod cached_rows;
pub(crate) mod definitions;
pub(crate) mod files;
pub(crate) mod jobs;
pub(crate) mod key_cache;
pub(crate) mod keys;
pub(crate) mod knowledge;
pub(crate) mod overview;
pub(crate) mod runs;
pub(crate) mod scheduled;
mod schema;
pub(crate) mod tasks;
pub(crate) mod tools;
pub(crate) mod webhooks;
pub(crate) mod workforce_tasks;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};

use rusqlite::Connection;

use agent_cache::AgentCache;
use cached_rows::AgentRecord;
use definitions::Visibility;
use key_cache::KeyCache;

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

thread_local! {
    /// The database the current thread serves, set once by the store's own thread: a
    /// `rusqlite::Error` raised inside a store closure then names its database when `?`
    /// turns it into a [`StoreError`] (or into a caller's error type built on one).
    static SERVED: RefCell<String> = const { RefCell::new(String::new()) };
}

impl From<rusqlite::Error> for StoreError {
    fn from(source: rusqlite::Error) -> StoreError {
        let location = SERVED.with(|served| served.borrow().clone());
        StoreError::Sqlite { location, source }
    }
}

/// An error type a use case returns from inside a store closure: it says how a database
/// failure reads (`From<StoreError>`, and `From<rusqlite::Error>` through it) next to its
/// own refusals, so the closure answers `Err(refusal)` and never `Ok(Err(refusal))`.
pub(crate) trait CallerError:
    From<StoreError> + From<rusqlite::Error> + Send + 'static
{
}

/// What a store closure answers: a plain `rusqlite::Result` (its error becomes a
/// [`StoreError`] naming the database) or a `Result` in a [`CallerError`] type.
pub(crate) trait StoreAnswer: Send + 'static {
    /// What the closure produced.
    type Value: Send + 'static;
    /// The caller's error type: a closure's own refusals and database failures alike.
    type Error: From<StoreError> + Send + 'static;
    /// The answer as the caller sees it; run on the store's thread.
    fn into_result(self) -> Result<Self::Value, Self::Error>;
}

impl<R: Send + 'static> StoreAnswer for rusqlite::Result<R> {
    type Value = R;
    type Error = StoreError;
    fn into_result(self) -> Result<R, StoreError> {
        self.map_err(StoreError::from)
    }
}

impl<R: Send + 'static, E: CallerError> StoreAnswer for Result<R, E> {
    type Value = R;
    type Error = E;
    fn into_result(self) -> Result<R, E> {
        self
    }
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
    location: String,
    /// Shared with the [`Db`] the thread owns: readers read, only the thread writes.
    key_cache: Arc<KeyCache>,
    agent_cache: Arc<AgentCache>,
    /// Work for the store's thread; the thread ends when the last handle is dropped.
    jobs: mpsc::Sender<Job>,
}

/// What the store's thread owns: the connection and the caches kept in step with it.
///
/// A store closure receives `&mut Db`; it dereferences to the [`Connection`], so plain
/// queries read as before, and [`Db::key_cache`] / [`Db::agent_cache`] (or
/// [`Db::split`] around a transaction) hand the caches to the functions that change them.
#[derive(Debug)]
pub(crate) struct Db {
    connection: Connection,
    caches: Caches,
}

/// The caches a [`Db`] keeps in step with its connection.
#[derive(Debug)]
pub(crate) struct Caches {
    pub(crate) keys: Arc<KeyCache>,
    pub(crate) agents: Arc<AgentCache>,
}

impl Db {
    /// The key cache, for `keys` functions that write or list keys.
    pub(crate) fn key_cache(&self) -> &KeyCache {
        &self.caches.keys
    }

    /// The agent cache, for `definitions` / `overview` functions that write agents.
    pub(crate) fn agent_cache(&self) -> &AgentCache {
        &self.caches.agents
    }

    /// The connection (e.g. to open a transaction) and, beside it, the caches.
    pub(crate) fn split(&mut self) -> (&mut Connection, &Caches) {
        (&mut self.connection, &self.caches)
    }
}

impl std::ops::Deref for Db {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.connection
    }
}

impl std::ops::DerefMut for Db {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.connection
    }
}

/// The thread's state: the open database, or why there is none.
enum Owned {
    Open(Db),
    Closed,
    /// An operation panicked: what it left half done must not pass unnoticed to the next.
    Poisoned,
}

/// One operation for the store's thread.
type Job = Box<dyn FnOnce(&mut Owned) + Send>;

/// How long a statement waits for another connection's (or process's) lock before it
/// fails with SQLITE_BUSY, unless the emulator's config says otherwise: 5 seconds.
pub const DEFAULT_BUSY_TIMEOUT_MS: u64 = 5_000;

/// Runs jobs in arrival order until every sender is gone, then closes what is still open.
/// A panicking job is caught so the thread lives on; its caller sees the dropped answer,
/// later callers the poison.
fn run_jobs(mut owned: Owned, jobs: mpsc::Receiver<Job>, location: String) {
    SERVED.with(|served| *served.borrow_mut() = location);
    while let Ok(job) = jobs.recv() {
        let state = &mut owned;
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(state))).is_err() {
            owned = Owned::Poisoned;
        }
    }
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
            // First, so that even switching to WAL waits for another process's lock.
            connection.busy_timeout(std::time::Duration::from_millis(DEFAULT_BUSY_TIMEOUT_MS))?;
            // Every `transaction()` takes the write lock at BEGIN: a deferred transaction that
            // reads, then writes, fails at once with SQLITE_BUSY when another connection wrote
            // meanwhile, without waiting for the busy timeout.
            connection.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
            if wal {
                connection.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))?;
                connection.pragma_update(None, "synchronous", "NORMAL")?;
            }
            connection.pragma_update(None, "foreign_keys", "ON")?;
            schema::migrate(connection)
        };
        setup(&mut connection).map_err(|source| StoreError::Sqlite {
            location: location.clone(),
            source,
        })?;
        let key_cache = Arc::new(KeyCache::default());
        let agent_cache = Arc::new(AgentCache::default());
        let db = Db {
            connection,
            caches: Caches {
                keys: Arc::clone(&key_cache),
                agents: Arc::clone(&agent_cache),
            },
        };
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("emulator-store".to_string())
            .spawn({
                let location = location.clone();
                move || run_jobs(Owned::Open(db), queue, location)
            })
            .map_err(|error| StoreError::Task {
                location: location.clone(),
                reason: format!("cannot start the database thread: {error}"),
            })?;
        Ok(Store {
            inner: Arc::new(StoreInner {
                location,
                key_cache,
                agent_cache,
                jobs,
            }),
        })
    }

    /// Where the data lives (a path, or `:memory:`), for error messages.
    pub(crate) fn location(&self) -> &str {
        &self.inner.location
    }

    /// The keys authentication may trust without asking SQLite, and their unwritten usage.
    pub(crate) fn key_cache(&self) -> &Arc<KeyCache> {
        &self.inner.key_cache
    }

    /// One agent of `project`, if it exists and `visibility` lets the caller see it.
    ///
    /// Answered from the agent cache when the row is there, without the store's thread;
    /// otherwise read from SQLite on that thread and cached. Scope is applied to the row
    /// either way, so an agent outside it is `None` exactly as with `definitions::find_agent`.
    pub(crate) async fn find_agent(
        &self,
        project: &str,
        visibility: &Visibility,
        agent_id: &str,
    ) -> Result<Option<AgentRecord>, StoreError> {
        if !visibility.admits(agent_id) {
            return Ok(None);
        }
        if let Some(agent) = self.inner.agent_cache.get(project, agent_id) {
            return Ok(Some(AgentRecord::clone(&agent)));
        }
        let project = project.to_string();
        let lookup = agent_id.to_string();
        self.call(move |db| definitions::load_agent(db, db.agent_cache(), &project, &lookup))
            .await
    }

    /// Writes the key usage counted in memory, in one transaction; answers how many keys.
    pub(crate) async fn flush_key_usage(&self) -> Result<usize, StoreError> {
        self.call(|db| {
            let (connection, caches) = db.split();
            keys::flush_usage(connection, &caches.keys)
        })
        .await
    }

    /// Flushes key usage every `period` until the returned task is aborted; closing the
    /// store writes what the last period counted, so aborting loses nothing.
    pub(crate) fn spawn_key_usage_flusher(
        &self,
        period: std::time::Duration,
    ) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                match store.flush_key_usage().await {
                    Ok(_) => {}
                    // Shutting down: `close` writes the rest.
                    Err(StoreError::Closed { .. }) => return,
                    Err(error) => {
                        tracing::warn!(%error, "key usage not written yet; retrying next period")
                    }
                }
            }
        })
    }

    /// Runs `work` on the database the store's thread owns, on that thread. `work`
    /// answers a `rusqlite::Result` (a failure is a [`StoreError`]) or a result in the
    /// caller's own [`CallerError`] type, which a closed or failed store is turned into.
    pub(crate) async fn call<A, F>(&self, work: F) -> Result<A::Value, A::Error>
    where
        A: StoreAnswer,
        F: FnOnce(&mut Db) -> A + Send + 'static,
    {
        let location = self.inner.location.clone();
        let answer = self
            .on_store_thread(move |owned| {
                let db = open_db(owned, &location)?;
                Ok(work(db).into_result())
            })
            .await;
        answer.unwrap_or_else(|store| Err(A::Error::from(store)))
    }

    /// Writes the usage still counted in memory, checkpoints the WAL into the main file
    /// and closes the connection.
    ///
    /// Later calls fail with [`StoreError::Closed`] instead of touching a closed file.
    pub(crate) async fn close(&self) -> Result<(), StoreError> {
        let location = self.inner.location.clone();
        self.on_store_thread(move |owned| close_db(owned, &location))
            .await
    }

    async fn on_store_thread<R: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Owned) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |owned| {
            let _ = answer.send(work(owned));
        });
        let location = || self.inner.location.clone();
        self.inner.jobs.send(job).map_err(|_| StoreError::Task {
            location: location(),
            reason: "the database thread has stopped".to_string(),
        })?;
        answered.await.map_err(|_| StoreError::Task {
            location: location(),
            reason: "the operation panicked on the database thread".to_string(),
        })?
    }
}

/// The open database, or the error that says why there is none.
fn open_db<'a>(owned: &'a mut Owned, location: &str) -> Result<&'a mut Db, StoreError> {
    match owned {
        Owned::Open(db) => Ok(db),
        Owned::Closed => Err(StoreError::Closed {
            location: location.to_string(),
        }),
        Owned::Poisoned => Err(StoreError::Poisoned {
            location: location.to_string(),
        }),
    }
}

fn close_db(owned: &mut Owned, location: &str) -> Result<(), StoreError> {
    if matches!(owned, Owned::Closed) {
        return Ok(());
    }
    open_db(owned, location)?;
    let Owned::Open(mut db) = std::mem::replace(owned, Owned::Closed) else {
        unreachable!("checked open just above");
    };
    let sqlite = |source| StoreError::Sqlite {
        location: location.to_string(),
        source,
    };
    // The last requests' usage, counted in memory since the last periodic flush.
    let (connection, caches) = db.split();
    keys::flush_usage(connection, &caches.keys).map_err(sqlite)?;
    // Harmless on an in-memory database (it is not in WAL mode).
    db.connection
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .map_err(sqlite)?;
    db.connection.close().map_err(|(_, source)| sqlite(source))
}
