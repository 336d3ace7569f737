use super::*;
use crate::error::KeyDataError;
use crate::key::EmbedTarget;
use crate::region::Region;

const SECRET: &str = "embed-SUPERSECRET-value-0042";

fn embed_key() -> Key {
    Key::embed(
        SECRET,
        Region::US,
        "p1",
        EmbedTarget::Agent("a1".into()),
        "pfx",
    )
    .unwrap()
}

/// Every store behaves the same: nothing, save, load, overwrite, remove.
fn exercise(store: &dyn KeyStore) {
    assert!(store.load("k").unwrap().is_none());
    store.save("k", &embed_key()).unwrap();
    let loaded = store.load("k").unwrap().expect("saved key loads");
    assert_eq!(loaded.to_json(), embed_key().to_json());
    let api = Key::new("sk-other", Region::EU, "p2").unwrap();
    store.save("k", &api).unwrap();
    assert_eq!(store.load("k").unwrap().unwrap().to_json(), api.to_json());
    // Names are independent.
    assert!(store.load("other").unwrap().is_none());
    store.remove("k").unwrap();
    assert!(store.load("k").unwrap().is_none());
    store.remove("k").unwrap();
}

#[test]
fn memory_store_saves_loads_and_removes() {
    exercise(&MemoryKeyStore::new());
}

#[test]
fn memory_store_keeps_exactly_the_persisted_form_and_clones_share() {
    let store = MemoryKeyStore::new();
    let handle = store.clone();
    store.save("k", &embed_key()).unwrap();
    assert_eq!(handle.raw("k"), Some(embed_key().to_json()));
}

#[test]
fn a_bad_stored_value_is_an_invalid_key_error_and_debug_hides_it() {
    let store = MemoryKeyStore::new();
    store.insert_raw(
        "k",
        format!("{{\"key\":\"{SECRET}\",\"region\":\"bcbe5a\"}}"),
    );
    match store.load("k") {
        Err(Error::InvalidKey(KeyDataError::MissingField { field: "project" })) => {}
        other => panic!("expected a missing project, got {other:?}"),
    }
    let debug = format!("{store:?}");
    assert!(
        debug.contains("\"k\"") && !debug.contains("SUPERSECRET"),
        "{debug}"
    );
}

#[cfg(not(target_family = "wasm"))]
mod files {
    use super::*;
    use crate::key_store::file::file_stem;

    fn temp_dir(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "relevance-store-{tag}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        assert!(!dir.exists());
        dir
    }

    #[test]
    fn file_store_saves_loads_and_removes() {
        let dir = temp_dir("cycle");
        exercise(&FileKeyStore::new(dir.join("nested")));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn file_store_writes_exactly_the_persisted_form_owner_only_and_no_temporaries() {
        let dir = temp_dir("shape");
        let store = FileKeyStore::new(&dir);
        store.save("embed key", &embed_key()).unwrap();
        let path = store.path_for("embed key");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            embed_key().to_json()
        );
        let entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(entries, vec![std::ffi::OsString::from("embed%20key.json")]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn file_store_reports_a_corrupt_file_as_an_invalid_key() {
        let dir = temp_dir("corrupt");
        let store = FileKeyStore::new(&dir);
        store.save("k", &embed_key()).unwrap();
        std::fs::write(store.path_for("k"), "{\"key\":").unwrap();
        assert!(matches!(
            store.load("k"),
            Err(Error::InvalidKey(KeyDataError::InvalidJson { .. }))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn file_store_names_an_unreadable_store_without_the_secret() {
        let dir = temp_dir("unreadable");
        let store = FileKeyStore::new(&dir);
        // A directory where the key file should be: reading it fails.
        std::fs::create_dir_all(store.path_for("k")).unwrap();
        let error = store.load("k").expect_err("a directory is not a key file");
        assert!(
            matches!(error, Error::KeyStore { action: "read", .. }),
            "{error:?}"
        );
        assert_eq!(error.to_string(), "could not read the stored key 'k'");
        let error = store
            .save("k", &embed_key())
            .expect_err("cannot replace a directory");
        assert!(!format!("{error:?}").contains("SUPERSECRET"));
        // The failed write left no temporary file behind.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn file_names_cannot_escape_the_directory_and_stay_distinct() {
        let cases = [
            ("relevance-key", "relevance-key"),
            ("a_b", "a_b"),
            ("..", "%2E%2E"),
            ("../x", "%2E%2E%2Fx"),
            ("a/b", "a%2Fb"),
            ("a%2Fb", "a%252Fb"),
            ("C:\\k", "C%3A%5Ck"),
            ("", "%"),
            ("é", "%C3%A9"),
        ];
        for (name, stem) in cases {
            assert_eq!(file_stem(name), stem, "{name}");
        }
        let store = FileKeyStore::new("/tmp/keys");
        assert_eq!(
            store.path_for("../../etc/passwd"),
            std::path::Path::new("/tmp/keys/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd.json")
        );
    }
}
