//! `relevance agents list | get ID | create --name … [--public] | update ID … | delete ID`.

use anyhow::Result;
use relevance::{AgentDefinition, AgentListOptions};
use serde_json::{json, Value};

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
            let webhooks = emulator_webhooks(credentials, &id).await;
            if json {
                let mut value = output::agent_json(&agent);
                if let Some(webhooks) = webhooks {
                    value["webhooks"] = Value::Array(webhooks);
                }
                output::print_json(&value);
            } else {
                output::print_agent(&agent);
                print_webhooks(webhooks.as_deref());
            }
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

/// The agent's webhook URLs, when the CLI talks to the emulator (`--base-url`) with an API
/// key: the emulator lists them at its own route (PROTOCOL B); the platform shows them in
/// the agent's Triggers settings and publishes no API for them. `None` when not asked or
/// not answered (a server that is not the emulator): the agent is shown either way.
async fn emulator_webhooks(credentials: &CredentialArgs, agent_id: &str) -> Option<Vec<Value>> {
    let base_url = credentials.base_url.as_deref()?.trim_end_matches('/');
    let secret = credentials.api_key.as_deref()?.trim();
    let (project, region) = credentials.project_and_region().ok()?;
    let url = format!(
        "{base_url}/{}/latest/emulator/agents/{agent_id}/webhooks",
        region.code()
    );
    let answer = reqwest::Client::new()
        .get(url)
        .header(
            reqwest::header::AUTHORIZATION,
            format!("{project}:{secret}"),
        )
        .send()
        .await
        .ok()
        .filter(|answer| answer.status().is_success())?;
    let body: Value = answer.json().await.ok()?;
    body.get("webhooks")?.as_array().cloned()
}

fn print_webhooks(webhooks: Option<&[Value]>) {
    let Some(webhooks) = webhooks else {
        return;
    };
    if webhooks.is_empty() {
        println!("webhooks:    none");
        return;
    }
    println!("webhooks:    (POST any JSON; no key: each URL is its own secret)");
    for webhook in webhooks {
        let url = webhook["url"].as_str().unwrap_or_default();
        let template = webhook["message_template"].as_str().unwrap_or_default();
        println!("  {url}");
        println!("    message: {template}");
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
