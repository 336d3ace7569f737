//! `relevance mcp`: a local MCP server (the official Rust SDK, `rmcp`, over stdio) that
//! turns whatever key it is given into exactly the MCP surface that key may use — an API
//! key: the project's agents, tools, tasks and knowledge; an embed key (`--key-file`): its
//! one public agent or workforce (a workforce answers to the agent tools' `agent_id`); no
//! credentials: the demo project on an embedded emulator, so the command works in any host
//! the minute it is installed.
//!
//! Stdout carries MCP messages only; anything else (the one start-up line, logs) goes to
//! stderr. A user's mistake is a tool result with `isError: true` naming the problem
//! (`results`), never a protocol error, and no result, notification or log line formats a
//! key.
//!
//! | module | holds |
//! |---|---|
//! | `surface` | what the key reaches ([`relevance::KeyScope`]), the client or why there is none |
//! | `server` | the `ServerHandler`: which tools are listed, where a call goes |
//! | `agent_tools` | `list_agents`, `ask_agent`, `decide_tool_run`, `list_tasks`, `read_task` |
//! | `owners` | what an `agent_id` names: an agent, or a workforce key's workforce |
//! | `knowledge_tools` | `list_knowledge_sets`, `read_knowledge` (API keys) |
//! | `project_tools` | the project's tools as MCP tools: names, schemas, runs as jobs |
//! | `replies` | following an agent's (or workforce's) run to its reply or to a waiting approval |
//! | `progress` | progress notifications, when the host asked |
//! | `results` | results and failures as the host sees them |

mod agent_tools;
mod knowledge_tools;
mod owners;
mod progress;
mod project_tools;
mod replies;
mod results;
mod server;
mod surface;

use anyhow::{Context, Result};
use rmcp::ServiceExt;

use super::embedded_demo;
use crate::cli::CredentialArgs;
use server::McpServer;
use surface::Surface;

/// Serves MCP on stdin/stdout until the host closes stdin.
pub async fn run(credentials: &CredentialArgs) -> Result<()> {
    // Keep the embedded emulator alive for the whole session.
    let (surface, embedded) = match credentials.is_configured() {
        true => (Surface::from_credentials(credentials), None),
        false => {
            let (client, emulator) = embedded_demo::start().await?;
            (Surface::new(client), Some(emulator))
        }
    };
    let demo = if embedded.is_some() {
        ", the embedded demo"
    } else {
        ""
    };
    eprintln!(
        "relevance mcp: serving {}{demo} on stdio",
        surface.describe()
    );
    let outcome = serve(surface).await;
    if let Some(emulator) = embedded {
        emulator.shutdown().await?;
    }
    outcome
}

/// One MCP session on stdio, to its end.
async fn serve(surface: Surface) -> Result<()> {
    let session = McpServer::new(surface)
        .serve(rmcp::transport::stdio())
        .await
        .context("the MCP session did not start")?;
    session.waiting().await.context("the MCP session failed")?;
    Ok(())
}
