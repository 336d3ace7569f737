//! `relevance whoami`: which key this is, as the platform knows it (`auth/info`, PROTOCOL
//! A14), beside what the CLI knows from the credentials (project, region, kind). Never the
//! key's value.

use anyhow::Result;

use crate::cli::CredentialArgs;
use crate::output;

pub async fn run(credentials: &CredentialArgs, json: bool) -> Result<()> {
    let client = credentials.client()?;
    let info = client.whoami().await?;
    if json {
        output::print_json(&output::whoami_json(client.key(), &info));
    } else {
        output::print_whoami(client.key(), &info);
    }
    Ok(())
}
