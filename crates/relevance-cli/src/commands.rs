//! One file per sub-command; this module only dispatches.

mod agents;
mod ask;
mod chat;
mod demo;
mod embed_key;
mod embedded_demo;
mod emulator;
mod key;
mod knowledge;
mod mcp;
mod tasks;
mod tools;
mod webhook;
mod whoami;

use anyhow::{Context, Result};

use crate::cli::{Cli, Command, CredentialArgs};

/// Runs the parsed command line to completion.
pub fn run(cli: Cli) -> Result<()> {
    let Cli { json, command } = cli;
    match command {
        // The demo sets up its environment before any runtime thread exists.
        Command::Demo => demo::run(json),
        Command::Key { command } => key::run(command, json),
        Command::Emulator(args) => runtime()?.block_on(emulator::run(*args, json)),
        Command::EmbedKey(args) => runtime()?.block_on(embed_key::run(args, json)),
        Command::Agents {
            credentials,
            command,
        } => runtime()?
            .block_on(agents::run(command, &credentials, json))
            .map_err(|error| with_scope_hint(error, &credentials)),
        Command::Chat(args) => {
            let credentials = args.credentials.clone();
            runtime()?
                .block_on(chat::run(args, json))
                .map_err(|error| with_scope_hint(error, &credentials))
        }
        Command::Tools {
            credentials,
            command,
        } => runtime()?
            .block_on(tools::run(command, &credentials, json))
            .map_err(|error| with_scope_hint(error, &credentials)),
        Command::Ask {
            agent,
            question,
            task,
            trigger,
            credentials,
        } => runtime()?
            .block_on(ask::run(
                &credentials,
                &agent,
                &question,
                task,
                &trigger,
                json,
            ))
            .map_err(|error| with_scope_hint(error, &credentials)),
        Command::Knowledge {
            credentials,
            command,
        } => one_thread_runtime()?
            .block_on(knowledge::run(command, &credentials, json))
            .map_err(|error| with_scope_hint(error, &credentials)),
        Command::Whoami { credentials } => runtime()?
            .block_on(whoami::run(&credentials, json))
            .map_err(|error| with_scope_hint(error, &credentials)),
        // Tool failures are MCP results, not this error: it is only for a server that
        // cannot run (stdin closed at once, a broken transport).
        Command::Mcp { credentials } => runtime()?.block_on(mcp::run(&credentials)),
        Command::Tasks {
            credentials,
            command,
        } => runtime()?
            .block_on(tasks::run(command, &credentials, json))
            .map_err(|error| with_scope_hint(error, &credentials)),
        Command::Webhook { command } => runtime()?.block_on(webhook::run(command, json)),
    }
}

/// A refusal (403) or a "not found" (404) met with an embed key is most often the key's
/// scope, not a missing object: the platform cannot say so (a 404 must not reveal what
/// exists), but the CLI knows the key and says what it does reach.
fn with_scope_hint(error: anyhow::Error, credentials: &CredentialArgs) -> anyhow::Error {
    let refused = error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<relevance::Error>())
        .any(|cause| matches!(cause.status(), Some(403 | 404)));
    if !refused {
        return error;
    }
    let Some(scope) = credentials.embed_scope() else {
        return error;
    };
    error.context(format!(
        "this embed key is for {scope} only; anything else needs an API key"
    ))
}

/// The async runtime every networked command runs on.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// A runtime on the calling thread alone, for commands that stream one request after
/// another (`knowledge add` / `export`): no worker threads means no per-thread allocator
/// arenas holding freed pages, so an export's memory stays that of one page.
fn one_thread_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
