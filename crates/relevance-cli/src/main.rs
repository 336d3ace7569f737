//! `relevance`: the command line for the Relevance AI platform and its local emulator.
//!
//! The binary is deliberately thin: argument parsing lives in [`cli`], credentials in
//! [`credentials`], printing in [`output`] (what messages look like in [`render`]), and
//! each sub-command in its own file under
//! `commands/`. All real logic lives in the `relevance` SDK and the `relevance-emulator` crate.

mod admin;
mod cli;
mod commands;
mod credentials;
mod output;
mod render;
mod trigger_flags;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let json = cli.json;
    install_logging(matches!(cli.command, cli::Command::Emulator(_)));
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line, whole cause chain: the user sees what failed and why.
            output::print_error(&error, json);
            ExitCode::FAILURE
        }
    }
}

/// Sends `tracing` events to stderr, filtered by `RUST_LOG`.
///
/// Why: the emulator reports what went wrong (a locked database, a failed write) only
/// through `tracing`; without a subscriber a 500 said "see the emulator's log" and there was
/// none. `relevance emulator` logs at `info` by default (start-up, shed connections,
/// errors); the client commands at `warn`, so their output stays theirs.
fn install_logging(serving: bool) {
    let default = if serving { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colour only on a terminal: a log written to a file or a pipe is read as plain text
    // (tracing-subscriber colours unconditionally unless told).
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // Fails only if a subscriber is already set, which then keeps logging.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
