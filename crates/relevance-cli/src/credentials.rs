//! Turning flags, `RELEVANCE_*` variables or a persisted key file into a [`Client`].
//!
//! Every error here says which input is missing or wrong, because that is what a user who
//! pasted a key from the dashboard needs to know: is it the region, the project or the key?

use std::path::Path;

use anyhow::{anyhow, Context, Result};
use relevance::{Client, Key, Region};

use crate::cli::CredentialArgs;

impl CredentialArgs {
    /// The region, required: from `--region` or `RELEVANCE_REGION`.
    pub fn region(&self) -> Result<Region> {
        let value = self.region.as_deref().ok_or_else(|| {
            anyhow!("missing region: pass --region or set RELEVANCE_REGION (us, eu or au)")
        })?;
        value
            .parse::<Region>()
            .context("--region / RELEVANCE_REGION")
    }

    /// The project id, required: from `--project` or `RELEVANCE_PROJECT`.
    pub fn project(&self) -> Result<String> {
        match self.project.as_deref().map(str::trim) {
            Some(project) if !project.is_empty() => Ok(project.to_owned()),
            _ => Err(anyhow!(
                "missing project: pass --project or set RELEVANCE_PROJECT (the project id from the dashboard)"
            )),
        }
    }

    /// Whether any credentials were given at all (a key file, or an API key).
    pub fn is_configured(&self) -> bool {
        self.key_file.is_some()
            || self
                .api_key
                .as_deref()
                .is_some_and(|k| !k.trim().is_empty())
    }

    /// The key to use: a persisted key file wins over an API key from flags or variables.
    pub fn key(&self) -> Result<Key> {
        if let Some(path) = &self.key_file {
            return read_key_file(path);
        }
        let secret = self.api_key.as_deref().map(str::trim).unwrap_or_default();
        if secret.is_empty() {
            return Err(anyhow!(
                "missing credentials: pass --api-key (or set RELEVANCE_API_KEY) with --project and --region, or --key-file FILE"
            ));
        }
        Ok(Key::new(secret, self.region()?, self.project()?)?)
    }

    /// A client for the resolved key, pointed at `--base-url` when one is given.
    pub fn client(&self) -> Result<Client> {
        let mut builder = Client::builder(self.key()?);
        if let Some(base_url) = &self.base_url {
            builder = builder.base_url(base_url.clone());
        }
        Ok(builder.build()?)
    }
}

/// Reads a persisted key (PROTOCOL A4 JSON); the error names the file and the bad field.
pub fn read_key_file(path: &Path) -> Result<Key> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read key file {}", path.display()))?;
    Key::from_json(&text).with_context(|| format!("key file {}", path.display()))
}

/// Writes a persisted key so only its owner can read it: an embed key is scoped, but it is
/// still a credential.
pub fn write_key_file(path: &Path, key: &Key) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write key file {}", path.display()))?;
    file.write_all(key.to_json().as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .with_context(|| format!("cannot write key file {}", path.display()))
}
