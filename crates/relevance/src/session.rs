//! [`EmbedSession`]: one embed key per page (or per program), made once,
//! kept in a [`KeyStore`], replaced when it stops working.
//!
//! This is the official documentation's advice turned into code: generate an
//! embed key only when none is stored, restore it (without a request) on the
//! next start, regenerate it when the storage was cleared or the key revoked.
//! A new key comes with a new task prefix, so the tasks of the old key are out
//! of its reach: every replacement is reported to the caller, never silent.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use crate::client::Client;
use crate::embed::EmbedKeyOptions;
use crate::error::{Error, KeyDataError, Result};
use crate::key::{Key, KeyScope};
use crate::key_store::KeyStore;
use crate::runtime::BoxFuture;

/// Makes a new embed key; the real one asks the platform, tests count calls.
type KeyGenerator = Arc<dyn Fn(EmbedKeyOptions) -> BoxFuture<Result<Key>> + Send + Sync>;

/// An embed key for one agent or workforce that survives restarts: the key
/// lives in a [`KeyStore`] under a name, and the session's [`Client`] uses it.
pub struct EmbedSession {
    store: Box<dyn KeyStore>,
    name: String,
    options: EmbedKeyOptions,
    client: Client,
    generate: KeyGenerator,
}

/// How [`EmbedSession::start`] got its key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionStart {
    /// The stored key was used; no request was sent.
    Restored,
    /// Nothing was stored: a key was generated and stored.
    Generated,
    /// Something unusable was stored; a new key was generated and stored in
    /// its place. Tasks made with an earlier key are out of reach.
    Replaced {
        /// What was wrong with the stored value.
        reason: StoredKeyProblem,
    },
}

/// Why a stored value could not be used as the session's key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoredKeyProblem {
    /// The stored value is not a key at all (not JSON, a missing field...).
    Invalid(KeyDataError),
    /// The stored value is a valid key, but not an embed key for this
    /// session's region, project and agent or workforce.
    OtherTarget {
        /// What the stored key is for (never its secret).
        stored: String,
    },
}

impl fmt::Display for StoredKeyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoredKeyProblem::Invalid(problem) => {
                write!(f, "the stored value is not a valid key ({problem})")
            }
            StoredKeyProblem::OtherTarget { stored } => {
                write!(f, "the stored key is for something else: {stored}")
            }
        }
    }
}

/// Told by [`EmbedSession::run`] when the platform refused the key (it was
/// revoked) and the session replaced it: tasks of the old key are out of
/// reach of the new one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyReplaced {
    /// The task prefix of the refused key: its tasks' ids start with it.
    pub previous_task_prefix: Option<String>,
    /// The server's message when it refused the key.
    pub server_message: Option<String>,
}

impl EmbedSession {
    /// Restores the key stored under `name`, or makes one.
    ///
    /// A stored embed key for the same region, project and target is used as
    /// it is, without any request ([`SessionStart::Restored`]). Nothing stored:
    /// a key is generated and stored ([`SessionStart::Generated`]). A stored
    /// value that is not a key, or a key for something else, is replaced by a
    /// generated key ([`SessionStart::Replaced`] says why). A store that cannot
    /// be read or written is an error ([`Error::KeyStore`]), and so is a
    /// refused key generation.
    pub async fn start(
        store: impl KeyStore + 'static,
        name: &str,
        options: EmbedKeyOptions,
    ) -> Result<(EmbedSession, SessionStart)> {
        let generate: KeyGenerator = Arc::new(|options| Box::pin(Key::generate_embed_key(options)));
        EmbedSession::start_with(Box::new(store), name, options, generate).await
    }

    async fn start_with(
        store: Box<dyn KeyStore>,
        name: &str,
        options: EmbedKeyOptions,
        generate: KeyGenerator,
    ) -> Result<(EmbedSession, SessionStart)> {
        let (key, start) = match store.load(name) {
            Ok(Some(key)) if options.matches(&key) => (key, SessionStart::Restored),
            Ok(Some(other)) => {
                let reason = StoredKeyProblem::OtherTarget {
                    stored: describe(&other),
                };
                let key = generate_and_save(&*store, name, &options, &generate).await?;
                (key, SessionStart::Replaced { reason })
            }
            Ok(None) => {
                let key = generate_and_save(&*store, name, &options, &generate).await?;
                (key, SessionStart::Generated)
            }
            Err(Error::InvalidKey(problem)) => {
                let key = generate_and_save(&*store, name, &options, &generate).await?;
                let reason = StoredKeyProblem::Invalid(problem);
                (key, SessionStart::Replaced { reason })
            }
            Err(other) => return Err(other),
        };
        let client = options.client_for(key)?;
        let session = EmbedSession {
            store,
            name: name.to_string(),
            options,
            client,
            generate,
        };
        Ok((session, start))
    }

    /// The client that sends with the session's key.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The session's key.
    pub fn key(&self) -> &Key {
        self.client.key()
    }

    /// The name the key is stored under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Replaces the key with a newly generated one, stored, and a new client.
    /// On failure (generation refused, store not writable) the session keeps
    /// its key and client.
    pub async fn regenerate(&mut self) -> Result<()> {
        let key =
            generate_and_save(&*self.store, &self.name, &self.options, &self.generate).await?;
        self.client = self.options.client_for(key)?;
        Ok(())
    }

    /// Runs `op` with the session's client; when the platform refuses the key
    /// ([`Error::Unauthorized`]: revoked or unknown), regenerates the key once, stores it and runs
    /// `op` once more with the new client, returning [`KeyReplaced`] with the
    /// result. A second refusal is returned as it is.
    ///
    /// `op` gets the client by value (a cheap clone), so its future may own it.
    /// If the retry fails with another error the key was still replaced:
    /// [`EmbedSession::key`] shows the new one.
    pub async fn run<T, F, Fut>(&mut self, mut op: F) -> Result<(T, Option<KeyReplaced>)>
    where
        F: FnMut(Client) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        match op(self.client.clone()).await {
            Err(Error::Unauthorized { message, .. }) => {
                let previous_task_prefix = self.key().task_prefix().map(str::to_string);
                self.regenerate().await?;
                let value = op(self.client.clone()).await?;
                let replaced = KeyReplaced {
                    previous_task_prefix,
                    server_message: message,
                };
                Ok((value, Some(replaced)))
            }
            other => other.map(|value| (value, None)),
        }
    }
}

impl fmt::Debug for EmbedSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbedSession")
            .field("name", &self.name)
            .field("options", &self.options)
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

async fn generate_and_save(
    store: &dyn KeyStore,
    name: &str,
    options: &EmbedKeyOptions,
    generate: &KeyGenerator,
) -> Result<Key> {
    let key = generate(options.clone()).await?;
    store.save(name, &key)?;
    Ok(key)
}

/// What a key is for, without its secret: "embed key for agent a1 of project p in US (bcbe5a)".
fn describe(key: &Key) -> String {
    let what = match key.scope() {
        KeyScope::Project => "project key".to_string(),
        KeyScope::Agent(id) => format!("embed key for agent {id}"),
        KeyScope::Workforce(id) => format!("embed key for workforce {id}"),
    };
    format!("{what} of project {} in {}", key.project(), key.region())
}

#[cfg(all(test, not(target_family = "wasm")))]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::key_store::MemoryKeyStore;
    use crate::region::Region;

    const NAME: &str = "relevance-embed-key";

    fn options() -> EmbedKeyOptions {
        EmbedKeyOptions::agent(Region::US, "p1", "a1").base_url("http://127.0.0.1:9")
    }

    /// A generator that makes keys `secret-N` / `prefix-N` without a network,
    /// counting its calls; `refuse` makes it fail like a 404 from the platform.
    fn generator(calls: &Arc<AtomicUsize>, refuse: bool) -> KeyGenerator {
        let calls = Arc::clone(calls);
        Arc::new(move |options: EmbedKeyOptions| {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            Box::pin(async move {
                if refuse {
                    return Err(Error::NotFound {
                        message: None,
                        error_type: None,
                    });
                }
                Key::embed(
                    format!("secret-generated-number-{n}"),
                    options.region(),
                    options.project(),
                    options.target().clone(),
                    format!("prefix-{n}"),
                )
            })
        })
    }

    async fn start(
        store: &MemoryKeyStore,
        calls: &Arc<AtomicUsize>,
    ) -> Result<(EmbedSession, SessionStart)> {
        EmbedSession::start_with(
            Box::new(store.clone()),
            NAME,
            options(),
            generator(calls, false),
        )
        .await
    }

    #[tokio::test]
    async fn first_start_generates_and_stores_then_the_next_restores_without_generating() {
        let store = MemoryKeyStore::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let (first, how) = start(&store, &calls).await.unwrap();
        assert_eq!(how, SessionStart::Generated);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(first.key().task_prefix(), Some("prefix-1"));
        assert_eq!(store.raw(NAME), Some(first.key().to_json()));
        assert_eq!(
            first.client().endpoints().api_base(),
            "http://127.0.0.1:9/bcbe5a/latest/"
        );

        let (second, how) = start(&store, &calls).await.unwrap();
        assert_eq!(how, SessionStart::Restored);
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "a restore generates nothing"
        );
        assert_eq!(second.key().to_json(), first.key().to_json());
    }

    #[tokio::test]
    async fn clearing_the_storage_leads_to_a_new_key_on_the_next_start() {
        let store = MemoryKeyStore::new();
        let calls = Arc::new(AtomicUsize::new(0));
        start(&store, &calls).await.unwrap();
        store.remove(NAME).unwrap();
        let (session, how) = start(&store, &calls).await.unwrap();
        assert_eq!(how, SessionStart::Generated);
        assert_eq!(session.key().task_prefix(), Some("prefix-2"));
        assert_eq!(store.raw(NAME), Some(session.key().to_json()));
    }

    #[tokio::test]
    async fn unusable_stored_values_are_reported_and_replaced() {
        // (stored value, expected reason)
        let cases: Vec<(&str, StoredKeyProblem)> = vec![
            (
                "garbage",
                StoredKeyProblem::Invalid(KeyDataError::InvalidJson { line: 1, column: 1 }),
            ),
            (
                r#"{"key":"k","region":"bcbe5a"}"#,
                StoredKeyProblem::Invalid(KeyDataError::MissingField { field: "project" }),
            ),
            (
                r#"{"key":"k","region":"zz","project":"p1"}"#,
                StoredKeyProblem::Invalid(KeyDataError::UnknownRegion { value: "zz".into() }),
            ),
            (
                r#"{"key":"k","region":"bcbe5a","project":"p1"}"#,
                StoredKeyProblem::OtherTarget {
                    stored: "project key of project p1 in US (bcbe5a)".into(),
                },
            ),
            (
                r#"{"key":"k","region":"bcbe5a","project":"p1","agentId":"a1"}"#,
                StoredKeyProblem::OtherTarget {
                    stored: "project key of project p1 in US (bcbe5a)".into(),
                },
            ),
            (
                r#"{"key":"k","region":"bcbe5a","project":"p1","agentId":"a2","taskPrefix":"t"}"#,
                StoredKeyProblem::OtherTarget {
                    stored: "embed key for agent a2 of project p1 in US (bcbe5a)".into(),
                },
            ),
            (
                r#"{"key":"k","region":"bcbe5a","project":"p1","workforceId":"a1","taskPrefix":"t"}"#,
                StoredKeyProblem::OtherTarget {
                    stored: "embed key for workforce a1 of project p1 in US (bcbe5a)".into(),
                },
            ),
            (
                r#"{"key":"k","region":"bcbe5a","project":"p2","agentId":"a1","taskPrefix":"t"}"#,
                StoredKeyProblem::OtherTarget {
                    stored: "embed key for agent a1 of project p2 in US (bcbe5a)".into(),
                },
            ),
            (
                r#"{"key":"k","region":"d7b62b","project":"p1","agentId":"a1","taskPrefix":"t"}"#,
                StoredKeyProblem::OtherTarget {
                    stored: "embed key for agent a1 of project p1 in EU (d7b62b)".into(),
                },
            ),
        ];
        for (stored, reason) in cases {
            let store = MemoryKeyStore::new();
            store.insert_raw(NAME, stored);
            let calls = Arc::new(AtomicUsize::new(0));
            let (session, how) = start(&store, &calls).await.unwrap();
            assert_eq!(how, SessionStart::Replaced { reason }, "{stored}");
            assert_eq!(calls.load(Ordering::SeqCst), 1, "{stored}");
            assert_eq!(store.raw(NAME), Some(session.key().to_json()), "{stored}");
        }
    }

    #[tokio::test]
    async fn the_same_target_restores_for_a_workforce_too() {
        let store = MemoryKeyStore::new();
        store.insert_raw(
            NAME,
            r#"{"key":"k","region":"bcbe5a","project":"p1","workforceId":"w1","taskPrefix":"t"}"#,
        );
        let calls = Arc::new(AtomicUsize::new(0));
        let options =
            EmbedKeyOptions::workforce(Region::US, "p1", "w1").base_url("http://127.0.0.1:9");
        let (session, how) = EmbedSession::start_with(
            Box::new(store.clone()),
            NAME,
            options,
            generator(&calls, false),
        )
        .await
        .unwrap();
        assert_eq!(how, SessionStart::Restored);
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        assert_eq!(session.key().scope(), KeyScope::Workforce("w1".into()));
    }

    #[tokio::test]
    async fn a_refused_generation_is_an_error_and_stores_nothing() {
        let store = MemoryKeyStore::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let result = EmbedSession::start_with(
            Box::new(store.clone()),
            NAME,
            options(),
            generator(&calls, true),
        )
        .await;
        assert!(matches!(result, Err(Error::NotFound { .. })), "{result:?}");
        assert_eq!(store.raw(NAME), None);
    }

    /// A store whose reads or writes fail like a broken disk.
    #[derive(Debug)]
    struct BrokenStore {
        reads_fail: bool,
    }

    fn failure(action: &'static str, name: &str) -> Error {
        Error::KeyStore {
            action,
            name: name.to_string(),
            source: std::io::Error::other("disk on fire"),
        }
    }

    impl KeyStore for BrokenStore {
        fn load(&self, name: &str) -> Result<Option<Key>> {
            if self.reads_fail {
                return Err(failure("read", name));
            }
            Ok(None)
        }
        fn save(&self, name: &str, _key: &Key) -> Result<()> {
            Err(failure("write", name))
        }
        fn remove(&self, _name: &str) -> Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_broken_store_is_an_error_not_a_replacement() {
        for (reads_fail, action, generated) in [(true, "read", 0), (false, "write", 1)] {
            let calls = Arc::new(AtomicUsize::new(0));
            let result = EmbedSession::start_with(
                Box::new(BrokenStore { reads_fail }),
                NAME,
                options(),
                generator(&calls, false),
            )
            .await;
            match result {
                Err(Error::KeyStore {
                    action: got, name, ..
                }) => {
                    assert_eq!((got, name.as_str()), (action, NAME))
                }
                other => panic!("{action}: expected a store error, got {other:?}"),
            }
            assert_eq!(calls.load(Ordering::SeqCst), generated, "{action}");
        }
    }

    fn unauthorized() -> Error {
        Error::Unauthorized {
            status: 401,
            message: Some("key revoked".into()),
            error_type: None,
            project: None,
            region: None,
        }
    }

    #[tokio::test]
    async fn run_passes_results_and_other_errors_through_without_regenerating() {
        let store = MemoryKeyStore::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let (mut session, _) = start(&store, &calls).await.unwrap();
        let (value, replaced) = session
            .run(|client| async move { Ok(client.key().task_prefix().map(str::to_string)) })
            .await
            .unwrap();
        assert_eq!((value.as_deref(), replaced), (Some("prefix-1"), None));
        let error = session
            .run(|_| async {
                Err::<(), _>(Error::Forbidden {
                    message: None,
                    error_type: None,
                })
            })
            .await
            .unwrap_err();
        assert!(matches!(error, Error::Forbidden { .. }));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn run_regenerates_once_after_a_401_persists_and_retries_with_the_new_key() {
        let store = MemoryKeyStore::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let (mut session, _) = start(&store, &calls).await.unwrap();
        let prefixes_seen = std::sync::Mutex::new(Vec::new());
        let (value, replaced) = session
            .run(|client| {
                let prefix = client.key().task_prefix().unwrap_or_default().to_string();
                prefixes_seen.lock().unwrap().push(prefix.clone());
                async move {
                    if prefix == "prefix-1" {
                        Err(unauthorized())
                    } else {
                        Ok(prefix)
                    }
                }
            })
            .await
            .unwrap();
        assert_eq!(value, "prefix-2");
        assert_eq!(*prefixes_seen.lock().unwrap(), ["prefix-1", "prefix-2"]);
        assert_eq!(
            replaced,
            Some(KeyReplaced {
                previous_task_prefix: Some("prefix-1".into()),
                server_message: Some("key revoked".into()),
            })
        );
        assert_eq!(session.key().task_prefix(), Some("prefix-2"));
        assert_eq!(store.raw(NAME), Some(session.key().to_json()));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_second_401_is_returned_as_it_is_after_one_regeneration() {
        let store = MemoryKeyStore::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let (mut session, _) = start(&store, &calls).await.unwrap();
        let attempts = AtomicUsize::new(0);
        let error = session
            .run(|_| {
                attempts.fetch_add(1, Ordering::SeqCst);
                async { Err::<(), _>(unauthorized()) }
            })
            .await
            .unwrap_err();
        assert!(matches!(error, Error::Unauthorized { .. }));
        assert_eq!(attempts.load(Ordering::SeqCst), 2);
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "one start, one regeneration"
        );
        assert_eq!(session.key().task_prefix(), Some("prefix-2"));
    }

    #[tokio::test]
    async fn debug_never_shows_the_secret() {
        let store = MemoryKeyStore::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let (session, _) = start(&store, &calls).await.unwrap();
        let debug = format!("{session:?}");
        assert!(debug.contains(NAME), "{debug}");
        assert!(!debug.contains("secret-generated"), "{debug}");
    }

    #[test]
    fn a_session_can_move_between_threads() {
        fn assert_send<T: Send>() {}
        assert_send::<EmbedSession>();
    }
}
