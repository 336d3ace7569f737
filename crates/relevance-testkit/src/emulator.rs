//! Starting an emulator for a test: in-process, on `127.0.0.1:0`, seeded from text.

use std::path::PathBuf;

use relevance::{Client, Key, Region};
use relevance_emulator::{Config, Emulator, SeedSource, Storage};
use tempfile::TempDir;

use crate::admin::Admin;
use crate::sdk::{API_KEY_A, SEED};

/// Starts an emulator with `config` on a fresh loopback port.
pub async fn start(config: Config) -> Emulator {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    Emulator::start(config, listener)
        .await
        .expect("emulator starts")
}

/// The config tests start from: the seed as text, everything else the emulator's default.
pub fn seeded(seed: &str) -> Config {
    Config {
        seed: Some(SeedSource::Text(seed.to_string())),
        ..Config::default()
    }
}

/// A running emulator whose database lives in a temporary directory (real SQLite files, so
/// a test can stop it and start again on the same data), with an [`Admin`] client.
pub struct TestEmulator {
    /// The server.
    pub emulator: Emulator,
    /// `http://127.0.0.1:{port}`.
    pub base_url: String,
    /// The admin API, with this emulator's token.
    pub admin: Admin,
    /// Holds the database (`data/`); removed when dropped.
    pub dir: TempDir,
}

impl TestEmulator {
    /// Starts an emulator from the SDK suites' [`SEED`] in a fresh temporary directory.
    pub async fn start() -> TestEmulator {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::start_in(dir).await
    }

    /// Starts (or restarts) an emulator from [`SEED`] whose database lives in `dir`.
    pub async fn start_in(dir: TempDir) -> TestEmulator {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        Self::start_on(listener, dir).await
    }

    /// Starts an emulator from another seed's text.
    pub async fn start_with(seed: &str) -> TestEmulator {
        let dir = tempfile::tempdir().expect("temp dir");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        Self::launch(listener, dir, seed, |_| {}).await
    }

    /// Starts an emulator from [`SEED`] on a listener bound beforehand (so its URL is known
    /// before any runtime thread exists).
    pub async fn start_on(listener: std::net::TcpListener, dir: TempDir) -> TestEmulator {
        Self::launch(listener, dir, SEED, |_| {}).await
    }

    /// The general form: `seed` as text, the database in `dir`, then `adjust` on the config
    /// (faults, limits, an admin token...).
    pub async fn launch(
        listener: std::net::TcpListener,
        dir: TempDir,
        seed: &str,
        adjust: impl FnOnce(&mut Config),
    ) -> TestEmulator {
        let mut config = Config {
            storage: Storage::Directory(dir.path().join("data")),
            ..seeded(seed)
        };
        adjust(&mut config);
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        let emulator = Emulator::start(config, listener)
            .await
            .expect("emulator starts");
        let base_url = emulator.base_url();
        let admin = Admin::new(&base_url, emulator.admin_token());
        TestEmulator {
            emulator,
            base_url,
            admin,
            dir,
        }
    }

    /// Stops the server and hands back its data directory, to restart on it.
    pub async fn stop(self) -> TempDir {
        self.emulator.shutdown().await.expect("clean shutdown");
        self.dir
    }

    /// An SDK client with `key`, pointed at this emulator.
    pub fn client(&self, key: Key) -> Client {
        Client::builder(key)
            .base_url(self.base_url.clone())
            .build()
            .expect("client")
    }

    /// A client for project `proj-a`'s seeded API key.
    pub fn api_key_a(&self) -> Client {
        self.client(Key::new(API_KEY_A, Region::US, "proj-a").expect("key"))
    }

    /// A path inside the temporary directory (for files a test writes beside the database).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}
