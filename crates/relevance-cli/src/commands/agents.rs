//! `relevance agents list|get`.

use anyhow::Result;
use relevance::AgentListOptions;
use serde_json::json;

use crate::cli::{AgentsCommand, CredentialArgs};
use crate::output;

pub async fn run(command: AgentsCommand, credentials: &CredentialArgs, json: bool) -> Result<()> {
    let client = credentials.client()?;
    match command {
        AgentsCommand::List { page, page_size } => {
            let options = AgentListOptions {
                page: Some(page),
                page_size: Some(page_size),
            };
            let list = client.agents().list(options).await?;
            if json {
                let agents: Vec<_> = list.iter().map(output::agent_json).collect();
                output::print_json(
                    &json!({ "agents": agents, "page": page, "page_size": page_size }),
                );
            } else if list.is_empty() {
                println!("no agents on page {page}");
            } else {
                list.iter().for_each(output::print_agent_line);
            }
        }
        AgentsCommand::Get { id } => {
            let agent = client.agents().get(&id).await?;
            if json {
                output::print_json(&output::agent_json(&agent));
            } else {
                output::print_agent(&agent);
            }
        }
    }
    Ok(())
}
