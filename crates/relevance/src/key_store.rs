//! Key persistence: where a key lives between two starts of a program:
//! `localStorage` and cookies in a browser (`cookie` holds the cookie store
//! and the server-side `Set-Cookie` helper), files natively, memory in tests.
//!
//! Generating an embed key is a network request that makes a *new* key with a
//! new task prefix, so a page that generated one on every load would lose its
//! earlier tasks. A [`KeyStore`] keeps the key under a name instead. The
//! stored value is exactly [`Key::to_json`], so a key saved by
//! the official JavaScript SDK under the same `localStorage` name restores
//! here, and the reverse. Loading never sends a request.
//!
//! This module must never log or format a stored value: it holds a secret.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::{Error, Result};
use crate::key::Key;

/// Somewhere keys are kept by name.
///
/// `Send + Sync` so that a session built on a store can move between the
/// threads of a native runtime; every store of this crate is a plain value
/// (the browser one reads `window.localStorage` on each call), so this costs
/// nothing in a browser.
pub trait KeyStore: Send + Sync {
    /// The key stored under `name`; `Ok(None)` when nothing is.
    ///
    /// A stored value that is not a valid key is [`Error::InvalidKey`] naming
    /// the problem, so the caller decides whether to replace it or to stop.
    /// A store that cannot be read at all is [`Error::KeyStore`].
    fn load(&self, name: &str) -> Result<Option<Key>>;

    /// Stores `key` under `name`, replacing what was there.
    fn save(&self, name: &str, key: &Key) -> Result<()>;

    /// Forgets the key stored under `name`; nothing stored is not an error.
    fn remove(&self, name: &str) -> Result<()>;
}

impl<S: KeyStore + ?Sized> KeyStore for Arc<S> {
    fn load(&self, name: &str) -> Result<Option<Key>> {
        (**self).load(name)
    }

    fn save(&self, name: &str, key: &Key) -> Result<()> {
        (**self).save(name, key)
    }

    fn remove(&self, name: &str) -> Result<()> {
        (**self).remove(name)
    }
}

impl<S: KeyStore + ?Sized> KeyStore for Box<S> {
    fn load(&self, name: &str) -> Result<Option<Key>> {
        (**self).load(name)
    }

    fn save(&self, name: &str, key: &Key) -> Result<()> {
        (**self).save(name, key)
    }

    fn remove(&self, name: &str) -> Result<()> {
        (**self).remove(name)
    }
}

/// Keys in memory, for tests and for programs that must not write anywhere.
///
/// Clones share their contents, so a test can keep one handle while a
/// session owns another.
#[derive(Clone, Default)]
pub struct MemoryKeyStore {
    values: Arc<Mutex<HashMap<String, String>>>,
}

impl MemoryKeyStore {
    /// An empty store.
    pub fn new() -> MemoryKeyStore {
        MemoryKeyStore::default()
    }

    /// Puts a raw value under `name` as another program (or an older
    /// version, or a bug) might have left it: this is how a test shows what
    /// happens to a stored value that is not a key.
    pub fn insert_raw(&self, name: &str, value: impl Into<String>) {
        self.values().insert(name.to_string(), value.into());
    }

    /// The raw stored value under `name`. It holds the secret: for tests
    /// that check the stored shape, never for printing.
    pub fn raw(&self, name: &str) -> Option<String> {
        self.values().get(name).cloned()
    }

    fn values(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        // A panic while holding the lock cannot leave a half-written map entry.
        self.values.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl KeyStore for MemoryKeyStore {
    fn load(&self, name: &str) -> Result<Option<Key>> {
        let stored = self.values().get(name).cloned();
        stored.map(|json| Key::from_json(&json)).transpose()
    }

    fn save(&self, name: &str, key: &Key) -> Result<()> {
        self.values().insert(name.to_string(), key.to_json());
        Ok(())
    }

    fn remove(&self, name: &str) -> Result<()> {
        self.values().remove(name);
        Ok(())
    }
}

impl fmt::Debug for MemoryKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<String> = self.values().keys().cloned().collect();
        names.sort();
        f.debug_struct("MemoryKeyStore")
            .field("names", &names)
            .finish()
    }
}

/// A store failure, for [`Error::KeyStore`].
fn store_error(action: &'static str, name: &str, source: std::io::Error) -> Error {
    Error::KeyStore {
        action,
        name: name.to_string(),
        source,
    }
}

mod cookie;

#[cfg(target_family = "wasm")]
pub use cookie::CookieKeyStore;
pub use cookie::{CookieAttributes, CookieSameSite, KeyCookie, COOKIE_SIZE_LIMIT};

#[cfg(not(target_family = "wasm"))]
pub use file::FileKeyStore;

#[cfg(not(target_family = "wasm"))]
mod file {
    use std::fs;
    use std::io::{self, Write};
    use std::path::{Path, PathBuf};

    use super::{store_error, KeyStore};
    use crate::error::Result;
    use crate::key::Key;

    /// Keys in files of one directory, one file per name (native only).
    ///
    /// Files are readable by their owner only (0600 on Unix) and written
    /// atomically (a temporary file, then a rename), so a crash mid-write
    /// leaves the old key or the new one, never half of one. Any name is
    /// allowed: it is encoded into a file name that cannot leave the
    /// directory.
    #[derive(Debug, Clone)]
    pub struct FileKeyStore {
        dir: PathBuf,
    }

    impl FileKeyStore {
        /// A store in `dir`, which is created (0700 on Unix) on the first save.
        pub fn new(dir: impl Into<PathBuf>) -> FileKeyStore {
            FileKeyStore { dir: dir.into() }
        }

        /// The directory the key files live in.
        pub fn dir(&self) -> &Path {
            &self.dir
        }

        /// The file that holds the key stored under `name`.
        pub fn path_for(&self, name: &str) -> PathBuf {
            self.dir.join(format!("{}.json", file_stem(name)))
        }

        fn write_atomically(&self, name: &str, contents: &str) -> io::Result<()> {
            create_private_dir(&self.dir)?;
            let target = self.path_for(name);
            let temporary = self.dir.join(format!(
                ".{}.json.{}.tmp",
                file_stem(name),
                uuid::Uuid::new_v4().simple()
            ));
            let written = (|| {
                let mut file = create_private_file(&temporary)?;
                file.write_all(contents.as_bytes())?;
                file.sync_all()?;
                fs::rename(&temporary, &target)
            })();
            if written.is_err() {
                // Best effort: the error that matters is the one returned.
                let _ = fs::remove_file(&temporary);
            }
            written
        }
    }

    impl KeyStore for FileKeyStore {
        fn load(&self, name: &str) -> Result<Option<Key>> {
            match fs::read_to_string(self.path_for(name)) {
                Ok(json) => Key::from_json(&json).map(Some),
                Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(error) => Err(store_error("read", name, error)),
            }
        }

        fn save(&self, name: &str, key: &Key) -> Result<()> {
            self.write_atomically(name, &key.to_json())
                .map_err(|error| store_error("write", name, error))
        }

        fn remove(&self, name: &str) -> Result<()> {
            match fs::remove_file(self.path_for(name)) {
                Ok(()) => Ok(()),
                Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(error) => Err(store_error("remove", name, error)),
            }
        }
    }

    /// `name` with every byte outside `[A-Za-z0-9_-]` written as `%XX`: no
    /// separator, no `.` or `..`, and distinct names stay distinct. An empty
    /// name becomes `%`, which no other name encodes to.
    pub(super) fn file_stem(name: &str) -> String {
        if name.is_empty() {
            return "%".to_string();
        }
        let mut stem = String::with_capacity(name.len());
        for byte in name.bytes() {
            if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' {
                stem.push(char::from(byte));
            } else {
                stem.push_str(&format!("%{byte:02X}"));
            }
        }
        stem
    }

    #[cfg(unix)]
    fn create_private_dir(dir: &Path) -> io::Result<()> {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }

    #[cfg(not(unix))]
    fn create_private_dir(dir: &Path) -> io::Result<()> {
        fs::create_dir_all(dir)
    }

    #[cfg(unix)]
    fn create_private_file(path: &Path) -> io::Result<fs::File> {
        use std::os::unix::fs::OpenOptionsExt;
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
    }

    #[cfg(not(unix))]
    fn create_private_file(path: &Path) -> io::Result<fs::File> {
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
    }
}

#[cfg(target_family = "wasm")]
pub use local_storage::LocalStorageKeyStore;

#[cfg(target_family = "wasm")]
mod local_storage {
    use super::{store_error, KeyStore};
    use crate::error::Result;
    use crate::key::Key;

    /// Keys in the page's `window.localStorage` (browser only), under the
    /// same names and in the same shape as the official JavaScript SDK's
    /// `localStorage.setItem(name, JSON.stringify(key.toJSON()))`.
    ///
    /// The storage is looked up on each call, so the store is a plain value
    /// that can be made before the page is ready. A page without storage (a
    /// sandboxed iframe, storage disabled) gives [`crate::Error::KeyStore`].
    #[derive(Debug, Clone, Copy, Default)]
    pub struct LocalStorageKeyStore;

    impl LocalStorageKeyStore {
        /// The store.
        pub fn new() -> LocalStorageKeyStore {
            LocalStorageKeyStore
        }
    }

    fn storage(action: &'static str, name: &str) -> Result<web_sys::Storage> {
        let window = web_sys::window().ok_or_else(|| {
            store_error(
                action,
                name,
                browser_error("there is no window (not a page?)"),
            )
        })?;
        match window.local_storage() {
            Ok(Some(storage)) => Ok(storage),
            Ok(None) => Err(store_error(
                action,
                name,
                browser_error("localStorage is not available on this page"),
            )),
            Err(error) => Err(store_error(
                action,
                name,
                browser_error(&format!("localStorage refused: {error:?}")),
            )),
        }
    }

    /// A browser exception as an I/O error. The exception names the problem
    /// (`SecurityError`, `QuotaExceededError`); it never holds the value.
    fn browser_error(message: &str) -> std::io::Error {
        std::io::Error::other(message.to_string())
    }

    impl KeyStore for LocalStorageKeyStore {
        fn load(&self, name: &str) -> Result<Option<Key>> {
            let stored = storage("read", name)?
                .get_item(name)
                .map_err(|error| store_error("read", name, browser_error(&format!("{error:?}"))))?;
            stored.map(|json| Key::from_json(&json)).transpose()
        }

        fn save(&self, name: &str, key: &Key) -> Result<()> {
            storage("write", name)?
                .set_item(name, &key.to_json())
                .map_err(|error| store_error("write", name, browser_error(&format!("{error:?}"))))
        }

        fn remove(&self, name: &str) -> Result<()> {
            storage("remove", name)?
                .remove_item(name)
                .map_err(|error| store_error("remove", name, browser_error(&format!("{error:?}"))))
        }
    }
}

#[cfg(test)]
mod tests;
