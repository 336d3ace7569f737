//! A data directory across restarts; secrets never on disk; graceful shutdown.

use std::path::Path;

use relevance_emulator::{Config, SeedSource, Storage};
use reqwest::StatusCode;
use tempfile::TempDir;

use crate::support::*;

fn config(data: &Path, seed_file: Option<std::path::PathBuf>) -> Config {
    Config {
        storage: Storage::Directory(data.to_path_buf()),
        seed: seed_file.map(SeedSource::File),
        admin_token: Some("persisted-admin-token-0123456789".into()),
        ..Config::default()
    }
}

fn running(emulator: relevance_emulator::Emulator, seed_dir: TempDir) -> Running {
    Running {
        emulator,
        http: reqwest::Client::new(),
        seed_dir,
    }
}

/// Every file of the database (main, -wal, -shm) as raw bytes.
fn database_bytes(data: &Path) -> Vec<(String, Vec<u8>)> {
    std::fs::read_dir(data)
        .expect("data directory exists")
        .map(|entry| {
            let path = entry.expect("dir entry").path();
            let bytes = std::fs::read(&path).expect("read database file");
            (path.display().to_string(), bytes)
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[tokio::test]
async fn keys_and_revocations_survive_a_restart_and_no_secret_reaches_the_disk() {
    let seed_dir = TempDir::new().expect("tempdir");
    let seed_file = write_seed(&seed_dir, SEED);
    let data_dir = TempDir::new().expect("tempdir");
    let data = data_dir.path().join("data");

    let first = running(
        start(config(&data, Some(seed_file.clone()))).await,
        seed_dir,
    );
    let (embed_key, _) = first.agent_embed_key("agent-public").await;
    let created = first
        .post(
            "/admin/projects/proj-a/api_keys",
            Some(&first.admin()),
            "{}",
        )
        .await;
    let created_key = created.body["key"].as_str().expect("key").to_string();
    let revoked = first
        .post(
            "/admin/keys/revoke",
            Some(&first.admin()),
            &format!(r#"{{"key":"{KEY_A}"}}"#),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    let before = first
        .get(
            "/bcbe5a/latest/agents/agent-public/get",
            Some(&format!("proj-a:{embed_key}")),
        )
        .await;
    let Running {
        emulator, seed_dir, ..
    } = first;
    emulator.shutdown().await.expect("clean shutdown");

    let files = database_bytes(&data);
    assert!(
        files
            .iter()
            .any(|(name, _)| name.ends_with("emulator.sqlite3")),
        "{files:?}"
    );
    for (name, bytes) in &files {
        for secret in [
            embed_key.as_str(),
            created_key.as_str(),
            KEY_A,
            KEY_B,
            KEY_EU,
            "persisted-admin-token-0123456789",
        ] {
            assert!(!contains(bytes, secret), "{name} holds a secret");
        }
    }

    let second = running(start(config(&data, Some(seed_file))).await, seed_dir);
    let embed_again = second
        .get(
            "/bcbe5a/latest/agents/agent-public/get",
            Some(&format!("proj-a:{embed_key}")),
        )
        .await;
    assert_eq!(embed_again.status, StatusCode::OK, "{}", embed_again.text);
    assert_eq!(
        embed_again.body["agent"], before.body["agent"],
        "re-seeding with the same file changes nothing, not even update_date_"
    );
    let created_again = second
        .get(
            "/bcbe5a/latest/agents/agent-public/get",
            Some(&format!("proj-a:{created_key}")),
        )
        .await;
    assert_eq!(created_again.status, StatusCode::OK);
    let revoked_again = second
        .get(
            "/bcbe5a/latest/agents/agent-public/get",
            Some(&format!("proj-a:{KEY_A}")),
        )
        .await;
    assert_eq!(
        revoked_again.status,
        StatusCode::BAD_REQUEST,
        "re-seeding does not un-revoke"
    );
    second.emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn an_edited_seed_updates_the_agent_on_restart() {
    let seed_dir = TempDir::new().expect("tempdir");
    let data_dir = TempDir::new().expect("tempdir");
    let data = data_dir.path().join("data");
    let seed_file = write_seed(&seed_dir, SEED);
    let first = start(config(&data, Some(seed_file.clone()))).await;
    first.shutdown().await.expect("clean shutdown");

    write_seed(
        &seed_dir,
        &SEED.replace("name = \"Support\"", "name = \"Helpdesk\""),
    );
    let second = running(start(config(&data, Some(seed_file))).await, seed_dir);
    let agent = second
        .get(
            "/bcbe5a/latest/agents/agent-public/get",
            Some("proj-a:sk-test-a-0001"),
        )
        .await;
    assert_eq!(agent.body["agent"]["name"], "Helpdesk");
    second.emulator.shutdown().await.expect("clean shutdown");
}

/// A data directory keeps the demo key's secret (the store has only hashes) and reuses it,
/// so a restart prints the key the user already exported; one that is not (or no longer) an
/// active demo key is replaced.
#[tokio::test]
async fn the_demo_keeps_its_key_across_restarts_and_replaces_one_it_cannot_verify() {
    let data_dir = TempDir::new().expect("tempdir");
    let data = data_dir.path().join("data");
    let first = start(config(&data, None)).await;
    let first_demo = first.demo().expect("demo").clone();
    assert!(!first_demo.loaded && !first_demo.key_reused);
    first.shutdown().await.expect("clean shutdown");

    let second = running(
        start(config(&data, None)).await,
        TempDir::new().expect("tempdir"),
    );
    let second_demo = second.emulator.demo().expect("demo").clone();
    assert!(second_demo.loaded && second_demo.key_reused);
    assert_eq!(first_demo.api_key, second_demo.api_key);
    let answer = second
        .get(
            "/bcbe5a/latest/agents/demo-agent/get",
            Some(&format!("demo-project:{}", second_demo.api_key)),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    second.emulator.shutdown().await.expect("clean shutdown");

    // A kept secret that is no key of the demo project is not trusted: a new key is issued.
    std::fs::write(data.join("demo-api-key"), "sk-not-a-demo-key\n").expect("overwrite");
    let third = start(config(&data, None)).await;
    let third_demo = third.demo().expect("demo").clone();
    assert!(third_demo.loaded && !third_demo.key_reused);
    assert_ne!(third_demo.api_key, "sk-not-a-demo-key");
    third.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn graceful_shutdown_returns_and_the_port_stops_answering() {
    let running = start_seeded().await;
    let address = running.emulator.local_addr();
    assert_eq!(running.get("/healthz", None).await.status, StatusCode::OK);
    running.emulator.shutdown().await.expect("clean shutdown");
    assert!(
        tokio::net::TcpStream::connect(address).await.is_err(),
        "nothing listens after shutdown"
    );
}

/// Another process holding the write lock makes a trigger wait (up to the busy timeout)
/// instead of failing at once with 500: write transactions begin IMMEDIATE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_waits_for_a_lock_held_by_another_connection() {
    let data = TempDir::new().expect("data dir");
    let seed_dir = TempDir::new().expect("seed dir");
    let seed = write_seed(&seed_dir, SEED);
    let emulator = start(config(data.path(), Some(seed))).await;
    let running = running(emulator, seed_dir);
    let auth = format!("proj-a:{KEY_A}");
    let body = r#"{"agent_id":"agent-public","message":{"role":"user","content":"hi"}}"#;
    // Warm up: the agent and key are cached, the connection has read the database.
    let first = running
        .post(&format!("/{US}/latest/agents/trigger"), Some(&auth), body)
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);

    let database = data.path().join(relevance_emulator::DATABASE_FILE_NAME);
    let (locked, is_locked) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let mut other = rusqlite::Connection::open(&database).expect("open the database");
        let transaction = other
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .expect("take the write lock");
        transaction
            .execute_batch(
                "CREATE TABLE IF NOT EXISTS lock_probe (x); INSERT INTO lock_probe VALUES (1);",
            )
            .expect("write while holding the lock");
        locked.send(()).expect("tell the test");
        // Held well below the 5 s busy timeout, then committed (a newer snapshot).
        std::thread::sleep(std::time::Duration::from_millis(300));
        transaction.commit().expect("commit");
    });
    is_locked.recv().expect("the lock is held");
    let waited = running
        .post(&format!("/{US}/latest/agents/trigger"), Some(&auth), body)
        .await;
    holder.join().expect("holder thread");
    assert_eq!(waited.status, StatusCode::OK, "{}", waited.text);
}
