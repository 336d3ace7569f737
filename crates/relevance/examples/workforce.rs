//! A workforce: several agents on one task. The message goes to the
//! workforce, its members hand the task over between them, and every member's
//! run shows in the task's messages.

#[path = "support/mod.rs"]
mod support;

use futures_util::StreamExt;
use relevance::{MessageContent, TaskEvent};

#[tokio::main]
async fn main() -> relevance::Result<()> {
    let platform = support::platform().await;
    let workforce = platform
        .client
        .workforces()
        .get(&platform.workforce_id)
        .await?;
    println!(
        "workforce {}",
        workforce.name.as_deref().unwrap_or(&workforce.id)
    );
    let task = workforce
        .send_message("Compare two Rust HTTP clients")
        .await?;
    let mut events = task.events();
    while let Some(event) = events.next().await {
        match event? {
            TaskEvent::Message(message) => match &message.content {
                MessageContent::WorkforceAgentRun(run) => {
                    let name = run.agent.as_ref().map_or("?", |a| a.agent_id.as_str());
                    println!("[{name} is working]");
                }
                MessageContent::WorkforceAgentHandover(handover) => {
                    println!("[handed over to {}]", handover.agent.agent_id)
                }
                MessageContent::Agent(reply) => println!("agent> {}", reply.text),
                _ => {}
            },
            TaskEvent::Updated { status, .. } if !status.is_running() => break,
            _ => {}
        }
    }
    Ok(())
}
