//! `relevance agents list | get ID | create --name … [--public] | update ID … | delete ID`.

use anyhow::Result;
use relevance::{AgentDefinition, AgentListOptions};
use serde_json::json;

use crate::cli::{AgentFields, AgentsCommand, CredentialArgs};
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
            show(&agent, json);
        }
        AgentsCommand::Create { fields } => {
            let agent = client.agents().create(definition(fields)).await?;
            show(&agent, json);
        }
        AgentsCommand::Update { id, fields } => {
            let agent = client.agents().upsert(&id, definition(fields)).await?;
            show(&agent, json);
        }
        AgentsCommand::Delete { id } => {
            client.agents().delete(&id).await?;
            if json {
                output::print_json(&json!({ "deleted": id }));
            } else {
                println!("deleted agent {id}");
            }
        }
    }
    Ok(())
}

fn show(agent: &relevance::Agent, json: bool) {
    if json {
        output::print_json(&output::agent_json(agent));
    } else {
        output::print_agent(agent);
    }
}

/// The flags given, as the fields to send; flags not given are not sent.
fn definition(fields: AgentFields) -> AgentDefinition {
    let mut definition = AgentDefinition::new();
    if let Some(name) = fields.name {
        definition = definition.name(name);
    }
    if let Some(description) = fields.description {
        definition = definition.description(description);
    }
    if let Some(prompt) = fields.system_prompt {
        definition = definition.system_prompt(prompt);
    }
    if let Some(model) = fields.model {
        definition = definition.model(model);
    }
    if fields.public || fields.private {
        definition = definition.public(fields.public);
    }
    definition
}
