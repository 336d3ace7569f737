//! One file per sub-command; this module only dispatches.

mod agents;
mod chat;
mod demo;
mod embed_key;
mod emulator;
mod key;
mod tasks;

use anyhow::{Context, Result};

use crate::cli::{Cli, Command};

/// Runs the parsed command line to completion.
pub fn run(cli: Cli) -> Result<()> {
    let Cli {
        credentials,
        json,
        command,
    } = cli;
    match command {
        // The demo sets up its environment before any runtime thread exists.
        Command::Demo => demo::run(json),
        Command::Key { command } => key::run(command, json),
        Command::Emulator(args) => runtime()?.block_on(emulator::run(*args, json)),
        Command::EmbedKey(args) => runtime()?.block_on(embed_key::run(args, &credentials, json)),
        Command::Agents { command } => {
            runtime()?.block_on(agents::run(command, &credentials, json))
        }
        Command::Chat(args) => runtime()?.block_on(chat::run(args, &credentials, json)),
        Command::Tasks { command } => runtime()?.block_on(tasks::run(command, &credentials, json)),
    }
}

/// The async runtime every networked command runs on.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
