//! An API key (servers only): list the project's agents and ask one a question.
//!
//! `cargo run -p relevance --example quick_start` (see `support/mod.rs` for
//! where it runs).

#[path = "support/mod.rs"]
mod support;

use relevance::{AgentListOptions, MessageContent};

#[tokio::main]
async fn main() -> relevance::Result<()> {
    let platform = support::platform().await;
    let client = &platform.client;
    for agent in client.agents().list(AgentListOptions::default()).await? {
        println!(
            "agent {} {}",
            agent.id,
            agent.name.clone().unwrap_or_default()
        );
    }

    let agent = client.agents().get(&platform.agent_id).await?;
    let mut task = agent.send_message("Hello from the quick start").await?;
    for _ in 0..600 {
        if !task.is_running() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        task.refresh().await?;
    }
    for message in task.messages().await? {
        match &message.content {
            MessageContent::User(user) => println!("you> {}", user.text),
            MessageContent::Agent(reply) => println!("agent> {}", reply.text),
            _ => {}
        }
    }
    Ok(())
}
