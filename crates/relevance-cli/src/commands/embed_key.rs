//! `relevance embed-key --agent ID | --workforce ID [--save FILE]`: one request, one new key.

use anyhow::Result;
use relevance::{EmbedKeyOptions, Key};

use crate::cli::EmbedKeyArgs;
use crate::credentials::write_key_file;

pub async fn run(args: EmbedKeyArgs, json: bool) -> Result<()> {
    let credentials = &args.credentials;
    let (project, region) = credentials.project_and_region()?;
    let mut options = match (args.target.agent, args.target.workforce) {
        (Some(agent), _) => EmbedKeyOptions::agent(region, project, agent),
        (None, Some(workforce)) => EmbedKeyOptions::workforce(region, project, workforce),
        (None, None) => anyhow::bail!("pass --agent ID or --workforce ID"),
    };
    if let Some(base_url) = &credentials.base_url {
        options = options.base_url(base_url.clone());
    }
    let key = Key::generate_embed_key(options).await?;
    if let Some(path) = &args.save {
        write_key_file(path, &key)?;
        if !json {
            eprintln!("saved to {} (restore it with --key-file)", path.display());
        }
    }
    // The persisted form is the output: it is what a browser app stores in localStorage.
    println!("{}", key.to_json());
    Ok(())
}
