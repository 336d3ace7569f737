use super::*;
use crate::store::Store;

const PROJECT: &str = "p1";

fn api_key(id: &str, sha256: &str) -> KeyRecord {
    KeyRecord {
        id: id.to_string(),
        project: PROJECT.to_string(),
        kind: KeyKind::Api,
        sha256: sha256.to_string(),
        hint: "abcd".to_string(),
        label: None,
        agent_id: None,
        workforce_id: None,
        task_prefix: None,
        created_at: "2026-01-01T00:00:00.000Z".to_string(),
        last_used_at: None,
        revoked_at: None,
        request_count: 0,
    }
}

async fn store_with_project() -> Store {
    let store = Store::open_in_memory().expect("in-memory store");
    store
        .call(|connection| {
            connection.execute(
                "INSERT INTO projects (id, region) VALUES (?1, 'bcbe5a')",
                [PROJECT],
            )
        })
        .await
        .expect("project");
    store
}

async fn listed(store: &Store, key_id: &str) -> KeyRecord {
    let key_id = key_id.to_string();
    store
        .call(move |connection| list_for_project(connection, connection.key_cache(), PROJECT))
        .await
        .expect("list")
        .into_iter()
        .find(|key| key.id == key_id)
        .expect("the key is listed")
}

async fn stored_count(store: &Store, key_id: &str) -> i64 {
    let key_id = key_id.to_string();
    store
        .call(move |connection| {
            connection.query_row(
                "SELECT request_count FROM keys WHERE id = ?1",
                [key_id],
                |row| row.get(0),
            )
        })
        .await
        .expect("count")
}

#[tokio::test]
async fn a_new_key_is_cached_at_once_and_revoking_it_reaches_the_cache_before_returning() {
    let store = store_with_project().await;
    store
        .call(|connection| {
            insert(
                connection,
                connection.key_cache(),
                &api_key("key_a", "hash-a"),
            )
        })
        .await
        .expect("insert");
    let cached = store.key_cache().get("hash-a").expect("visible at once");
    assert_eq!(
        (cached.id.as_str(), cached.project_region, cached.revoked),
        ("key_a", crate::region::Region::US, false)
    );

    let now = "2026-01-02T00:00:00.000Z";
    let answer = store
        .call(move |connection| {
            revoke(
                connection,
                connection.key_cache(),
                KeySelector::Id("key_a"),
                now,
            )
        })
        .await
        .expect("revoke");
    assert_eq!(answer, Some(("key_a".to_string(), now.to_string())));
    assert!(
        store
            .key_cache()
            .get("hash-a")
            .expect("still known")
            .revoked
    );

    // By secret hash, as `POST /admin/keys/revoke` does, for a key loaded by authentication.
    store
        .call(|connection| {
            insert(
                connection,
                connection.key_cache(),
                &api_key("key_b", "hash-b"),
            )
        })
        .await
        .expect("insert");
    store
        .call(move |connection| {
            revoke(
                connection,
                connection.key_cache(),
                KeySelector::Sha256("hash-b"),
                now,
            )
        })
        .await
        .expect("revoke");
    assert!(store.key_cache().get("hash-b").expect("known").revoked);
}

#[tokio::test]
async fn writes_inside_a_transaction_leave_the_cache_to_reload_what_was_committed() {
    let store = store_with_project().await;
    store
        .call(|db| {
            let (connection, caches) = db.split();
            let transaction = connection.transaction()?;
            insert(&transaction, &caches.keys, &api_key("key_t", "hash-t"))?;
            transaction.commit()
        })
        .await
        .expect("insert");
    assert!(
        store.key_cache().get("hash-t").is_none(),
        "not cached mid-transaction"
    );
    let loaded = store
        .call(|connection| find_for_auth(connection, "hash-t"))
        .await
        .expect("load")
        .expect("committed");
    store.key_cache().remember(loaded);

    store
        .call(|db| -> rusqlite::Result<()> {
            let (connection, caches) = db.split();
            let transaction = connection.transaction()?;
            revoke(
                &transaction,
                &caches.keys,
                KeySelector::Id("key_t"),
                "2026-01-02T00:00:00.000Z",
            )?;
            // Rolled back by dropping the transaction.
            Ok(())
        })
        .await
        .expect("revoke");
    assert!(
        store.key_cache().get("hash-t").is_none(),
        "a possibly rolled-back revocation drops the entry"
    );
    let reloaded = store
        .call(|connection| find_for_auth(connection, "hash-t"))
        .await
        .expect("load")
        .expect("still stored");
    assert!(!reloaded.revoked, "the rollback kept the key valid");
}

#[tokio::test]
async fn usage_counts_add_up_before_and_after_a_flush() {
    let store = store_with_project().await;
    store
        .call(|connection| {
            insert(
                connection,
                connection.key_cache(),
                &api_key("key_u", "hash-u"),
            )
        })
        .await
        .expect("insert");
    let cache = store.key_cache();
    let first = 1_767_225_600_000; // 2026-01-01T00:00:00.000Z
    for offset in [0, 2_000, 1_000] {
        cache.record_use("key_u", first + offset);
    }

    let before_flush = listed(&store, "key_u").await;
    assert_eq!(
        before_flush.request_count, 3,
        "listing adds unflushed usage"
    );
    assert_eq!(
        before_flush.last_used_at.as_deref(),
        Some("2026-01-01T00:00:02.000Z")
    );
    assert_eq!(stored_count(&store, "key_u").await, 0);

    assert_eq!(store.flush_key_usage().await.expect("flush"), 1);
    assert_eq!(stored_count(&store, "key_u").await, 3);
    assert_eq!(
        listed(&store, "key_u").await.request_count,
        3,
        "not counted twice"
    );

    cache.record_use("key_u", first - 5_000);
    cache.record_use("key_u", first - 4_000);
    let listed_again = listed(&store, "key_u").await;
    assert_eq!(listed_again.request_count, 5);
    assert_eq!(
        listed_again.last_used_at.as_deref(),
        Some("2026-01-01T00:00:02.000Z"),
        "an older pending time never moves last_used_at back"
    );
    assert_eq!(store.flush_key_usage().await.expect("flush"), 1);
    assert_eq!(
        store.flush_key_usage().await.expect("flush"),
        0,
        "nothing left"
    );
    let stored = listed(&store, "key_u").await;
    assert_eq!(
        (stored.request_count, stored.last_used_at.as_deref()),
        (5, Some("2026-01-01T00:00:02.000Z"))
    );
}

#[tokio::test]
async fn closing_the_store_writes_the_usage_still_in_memory() {
    let directory = tempfile::tempdir().expect("temp dir");
    let store = Store::open_in_directory(directory.path()).expect("store");
    store
        .call(|connection| {
            connection.execute(
                "INSERT INTO projects (id, region) VALUES (?1, 'bcbe5a')",
                [PROJECT],
            )?;
            insert(
                connection,
                connection.key_cache(),
                &api_key("key_s", "hash-s"),
            )
        })
        .await
        .expect("setup");
    for _ in 0..7 {
        store.key_cache().record_use("key_s", 1_767_225_600_000);
    }
    store.close().await.expect("close");

    let reopened =
        Connection::open(directory.path().join(super::super::DATABASE_FILE_NAME)).expect("db");
    let (count, last_used): (i64, Option<String>) = reopened
        .query_row(
            "SELECT request_count, last_used_at FROM keys WHERE id = 'key_s'",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("row");
    assert_eq!(
        (count, last_used.as_deref()),
        (7, Some("2026-01-01T00:00:00.000Z"))
    );
}
