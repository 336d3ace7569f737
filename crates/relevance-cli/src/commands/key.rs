//! `relevance key inspect FILE`: what a persisted key is, without revealing it.

use anyhow::Result;

use crate::cli::KeyCommand;
use crate::credentials::read_key_file;
use crate::output;

pub fn run(command: KeyCommand, json: bool) -> Result<()> {
    match command {
        KeyCommand::Inspect { file } => {
            let key = read_key_file(&file)?;
            if json {
                output::print_json(&output::key_summary(&key));
            } else {
                output::print_key(&key);
            }
            Ok(())
        }
    }
}
