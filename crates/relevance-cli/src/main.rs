//! `relevance`: the command line for the Relevance AI platform and its local emulator.
//!
//! The binary is deliberately thin: argument parsing lives in [`cli`], credentials in
//! [`credentials`], printing in [`output`], and each sub-command in its own file under
//! `commands/`. All real logic lives in the `relevance` SDK and the `relevance-emulator` crate.

mod admin;
mod cli;
mod commands;
mod credentials;
mod output;
mod render;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let json = cli.json;
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line, whole cause chain: the user sees what failed and why.
            output::print_error(&error, json);
            ExitCode::FAILURE
        }
    }
}
