//! The one place the CLI prints: results as human text by default or JSON with `--json`,
//! notes and errors on stderr, and the chat's live transcript ([`transcript`]).

pub mod transcript;

use std::io::Write;

use relevance::{Agent, Key, KeyInfo, KeyScope};
use serde_json::{json, Value};

pub use transcript::Transcript;

/// Prints lines on stdout, each on its own line.
pub fn print_lines(lines: &[String]) {
    for line in lines {
        println!("{line}");
    }
}

/// A note for the person (who the chat is with, how to come back, what was decided): on
/// stderr, so stdout stays the conversation.
pub fn note(text: &str) {
    eprintln!("{text}");
}

/// Shows a question on stdout without ending the line (the answer is typed after it).
pub fn ask(question: &str) {
    let mut out = std::io::stdout().lock();
    // A closed stdout is found by the read that follows, not here.
    let _ = out.write_all(question.as_bytes());
    let _ = out.flush();
}

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

/// `whoami` as JSON: what the credentials say and what the platform says, never the secret.
pub fn whoami_json(key: &Key, info: &KeyInfo) -> Value {
    json!({
        "project": key.project(),
        "region": key.region().code(),
        "kind": if key.is_embed() { "embed" } else { "api" },
        "key_id": info.key_id,
        "label": info.label,
        "user_id": info.user_id,
        "email": info.email,
        "permissions": info.permissions,
    })
}

/// `whoami` as lines.
pub fn print_whoami(key: &Key, info: &KeyInfo) {
    let kind = match key.scope() {
        KeyScope::Project => "API key (the whole project)".to_string(),
        KeyScope::Agent(id) => format!("embed key (agent {id})"),
        KeyScope::Workforce(id) => format!("embed key (workforce {id})"),
    };
    println!("project:  {}", key.project());
    println!("region:   {}", key.region());
    println!("kind:     {kind}");
    println!("key id:   {}", info.key_id);
    println!("label:    {}", info.label.as_deref().unwrap_or("(none)"));
    println!("user:     {}", info.user_id);
    if let Some(email) = &info.email {
        println!("email:    {email}");
    }
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

/// How many words of a foreign answer the error line quotes: enough to recognise the
/// server ("404 Not Found nginx"), never a page.
const FOREIGN_WORDS: usize = 12;

/// Prints a failed command's error: one line `error: …` on stderr, or with `--json` one
/// JSON object `{"error": …, "kind": …}` there (stdout stays for results, so a script that
/// reads stdout never mistakes an error for an answer).
pub fn print_error(error: &anyhow::Error, json: bool) {
    let (message, kind) = describe_error(error);
    if json {
        eprintln!("{}", json!({ "error": message, "kind": kind }));
    } else {
        eprintln!("error: {message}");
    }
}

/// The error's one-line text and its kind. Causes that only repeat what an outer one said
/// (reqwest and std::io both tend to) are left out, line breaks are folded, and an answer
/// that did not come from the platform (another server's HTML page on that port) is
/// summarised instead of dumped.
pub fn describe_error(error: &anyhow::Error) -> (String, &'static str) {
    let mut kind = None;
    let mut parts: Vec<String> = Vec::new();
    for cause in error.chain() {
        let sdk = cause.downcast_ref::<relevance::Error>();
        if let Some(sdk) = sdk {
            kind.get_or_insert(sdk_kind(sdk));
        } else if kind.is_none() && cause.downcast_ref::<std::io::Error>().is_some() {
            kind = Some("io");
        }
        let text = match sdk.and_then(foreign_answer) {
            Some(summary) => {
                kind = Some("not_the_platform");
                // The summary says all there is: the SDK's wording would repeat the page.
                parts.push(summary);
                break;
            }
            None => one_line(&cause.to_string()),
        };
        if text.is_empty() || parts.iter().any(|part| part.contains(&text)) {
            continue;
        }
        parts.push(text);
    }
    (parts.join(": "), kind.unwrap_or("cli"))
}

/// A stable name for each kind of SDK failure, for scripts to branch on.
fn sdk_kind(error: &relevance::Error) -> &'static str {
    use relevance::Error;
    match error {
        Error::Unauthorized { .. } => "unauthorized",
        Error::Forbidden { .. } => "forbidden",
        Error::NotFound { .. } => "not_found",
        Error::BadRequest { .. } => "bad_request",
        Error::RateLimited { .. } => "rate_limited",
        Error::Server { .. } => "server",
        Error::Http { .. } => "http",
        Error::Network(_) => "network",
        Error::Decode { .. } => "decode",
        Error::InvalidKey(_) => "invalid_key",
        Error::InvalidRegion { .. } => "invalid_region",
        Error::InvalidBaseUrl { .. } => "invalid_base_url",
        Error::ReadFile { .. } => "io",
        Error::InvalidKnowledge { .. } => "invalid_knowledge",
        _ => "sdk",
    }
}

/// A refused request whose body is an HTML page: not the platform (which answers JSON), so
/// most likely another server on that address. One line: status, what it was, first words.
///
/// The SDK's error keeps a snippet of the body but not the `Content-Type`, so "HTML" is
/// read from the body itself (the CLI does not change the SDK for this).
fn foreign_answer(error: &relevance::Error) -> Option<String> {
    let status = error.status()?;
    let body = error.server_message()?;
    let start = body.trim_start().to_ascii_lowercase();
    let is_html = start.starts_with("<!doctype html")
        || start.starts_with("<html")
        || start.starts_with("<head")
        || start.starts_with("<body")
        || start.starts_with("<?xml");
    if !is_html {
        return None;
    }
    let words = first_words(body, FOREIGN_WORDS);
    Some(format!(
        "the server answered {status} with an HTML page (text/html), not the platform's JSON: is the base URL right? It says: \"{words}\""
    ))
}

/// The first `count` words of an HTML text, tags and entities left out.
fn first_words(html: &str, count: usize) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = text
        .split_whitespace()
        .filter(|word| !word.starts_with('&'))
        .collect();
    let mut summary = words
        .iter()
        .take(count)
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    if words.len() > count || html.ends_with('…') {
        summary.push('…');
    }
    summary
}

/// Folds line breaks and runs of spaces: an error is one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_that_repeats_the_outer_text_is_left_out() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file (os error 2)");
        let error = anyhow::Error::new(io)
            .context("cannot read key file k.json: No such file (os error 2)");
        let (message, kind) = describe_error(&error);
        assert_eq!(
            message,
            "cannot read key file k.json: No such file (os error 2)"
        );
        assert_eq!(kind, "io");
    }

    #[test]
    fn html_words_skip_tags() {
        let page = "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1>\n<p>nginx</p></body></html>";
        assert_eq!(first_words(page, 12), "404 Not Found Not Found nginx");
    }
}
