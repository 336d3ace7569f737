//! The one place the CLI prints results: human text by default, JSON with `--json`.

use relevance::{Agent, Key, KeyScope};
use serde_json::{json, Value};

/// Prints one JSON value on its own line.
pub fn print_json(value: &Value) {
    println!("{value}");
}

/// A persisted-key description without the secret (only its redacted form).
pub fn key_summary(key: &Key) -> Value {
    let (scope, target) = match key.scope() {
        KeyScope::Project => ("project", None),
        KeyScope::Agent(id) => ("agent", Some(id)),
        KeyScope::Workforce(id) => ("workforce", Some(id)),
    };
    json!({
        "kind": if key.is_embed() { "embed" } else { "api" },
        "scope": scope,
        "target": target,
        "region": key.region().code(),
        "project": key.project(),
        "task_prefix": key.task_prefix(),
        "secret": key.redacted_secret(),
    })
}

/// Human-readable lines describing a key.
pub fn print_key(key: &Key) {
    let kind = if key.is_embed() {
        "embed key"
    } else {
        "API key"
    };
    println!("kind:        {kind}");
    match key.scope() {
        KeyScope::Project => println!("scope:       the whole project"),
        KeyScope::Agent(id) => println!("scope:       agent {id}"),
        KeyScope::Workforce(id) => println!("scope:       workforce {id}"),
    }
    println!("region:      {}", key.region());
    println!("project:     {}", key.project());
    if let Some(prefix) = key.task_prefix() {
        println!("task prefix: {prefix}");
    }
    println!("secret:      {}", key.redacted_secret());
}

/// An agent as JSON (the fields a script needs).
pub fn agent_json(agent: &Agent) -> Value {
    json!({
        "id": agent.id,
        "name": agent.name,
        "description": agent.description,
        "avatar": agent.avatar,
        "public": agent.public,
        "project": agent.project,
        "region": agent.region.code(),
        "model": agent.model,
        "created_at": agent.created_at.map(|t| t.to_rfc3339()),
        "updated_at": agent.updated_at.map(|t| t.to_rfc3339()),
    })
}

/// One agent in a list: emoji, id, name, visibility.
pub fn print_agent_line(agent: &Agent) {
    println!(
        "{} {:<24} {:<28} {}",
        agent.avatar.as_deref().unwrap_or(" "),
        agent.id,
        agent.name.as_deref().unwrap_or("(unnamed)"),
        if agent.public { "public" } else { "private" }
    );
}

/// One agent in full.
pub fn print_agent(agent: &Agent) {
    println!("id:          {}", agent.id);
    if let Some(name) = &agent.name {
        println!("name:        {name}");
    }
    if let Some(description) = &agent.description {
        println!("description: {description}");
    }
    if let Some(avatar) = &agent.avatar {
        println!("avatar:      {avatar}");
    }
    println!(
        "visibility:  {}",
        if agent.public { "public" } else { "private" }
    );
    println!("project:     {} ({})", agent.project, agent.region);
    if let Some(model) = &agent.model {
        println!("model:       {model}");
    }
}
