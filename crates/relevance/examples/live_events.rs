//! A chat turn with live events: the agent's thinking, its tool run and the
//! reply typed as it happens, printed at once (stdout is flushed after each
//! fragment).

#[path = "support/mod.rs"]
mod support;

use std::io::Write;

use futures_util::StreamExt;
use relevance::{MessageContent, TaskEvent};

#[tokio::main]
async fn main() -> relevance::Result<()> {
    let platform = support::platform().await;
    let agent = platform
        .client
        .agents()
        .get(&platform.researcher_id)
        .await?;
    let task = agent.send_message("What is new in Rust?").await?;
    let mut events = task.events();
    let mut typing = false;
    while let Some(event) = events.next().await {
        match event? {
            // `delta` is what was just typed; `text` would be the whole reply so far.
            TaskEvent::Typing { delta, .. } => {
                if !typing {
                    print!("agent> ");
                    typing = true;
                }
                print!("{delta}");
                std::io::stdout().flush().ok();
            }
            TaskEvent::Thinking { delta, .. } => eprint!("{delta}"),
            TaskEvent::Message(message) => match &message.content {
                MessageContent::ToolRun(run) => {
                    println!(
                        "[tool {} {:?}]",
                        run.title.as_deref().unwrap_or("?"),
                        run.status
                    )
                }
                MessageContent::Agent(reply) => {
                    if typing {
                        println!();
                        typing = false;
                    } else {
                        println!("agent> {}", reply.text);
                    }
                }
                _ => {}
            },
            TaskEvent::Updated { status, .. } if !status.is_running() => break,
            _ => {}
        }
    }
    Ok(())
}
