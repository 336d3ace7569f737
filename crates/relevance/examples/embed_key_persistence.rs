//! An embed key (browsers and other public clients): generate it once, keep
//! it, and restore it on the next start without a network request.
//!
//! In a browser the store is `LocalStorageKeyStore`; natively it is a
//! `FileKeyStore` (files readable by their owner only). This example keeps
//! the key in a temporary directory and starts twice.

#[path = "support/mod.rs"]
mod support;

use relevance::{EmbedKeyOptions, EmbedSession, FileKeyStore, SessionStart};

#[tokio::main]
async fn main() -> relevance::Result<()> {
    let platform = support::platform().await;
    let client = &platform.client;
    let dir = std::env::temp_dir().join(format!("relevance-example-{}", std::process::id()));
    let options = || {
        let options = EmbedKeyOptions::agent(client.region(), client.project(), &platform.agent_id);
        match &platform.base_url {
            Some(url) => options.base_url(url.clone()),
            None => options,
        }
    };

    for run in 1..=2 {
        let (session, start) =
            EmbedSession::start(FileKeyStore::new(&dir), "support-chat", options()).await?;
        let how = match start {
            SessionStart::Generated => "generated (one request) and saved",
            SessionStart::Restored => "restored from the file, no request",
            _ => "replaced",
        };
        println!("start {run}: key {} {how}", session.key());
        let agent = session.client().agents().get(&platform.agent_id).await?;
        let task = agent
            .send_message(format!("hello from start {run}"))
            .await?;
        println!("start {run}: task {}", task.id);
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
