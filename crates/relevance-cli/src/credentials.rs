//! Turning flags, `RELEVANCE_*` variables or a persisted key file into a [`Client`].
//!
//! Every error here says which input is missing or wrong, because that is what a user who
//! pasted a key from the dashboard needs to know: is it the region, the project or the key?
//! And it says all of them at once: fixing one flag only to be told about the next is the
//! slowest way to learn what a command needs.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use relevance::{Client, Key, KeyScope, Region};

use crate::cli::CredentialArgs;

/// How an embed key's secret starts (PROTOCOL A3); an API key starts with `sk-`.
const EMBED_KEY_PREFIX: &str = "ek-";

impl CredentialArgs {
    /// The region, required: from `--region` or `RELEVANCE_REGION`.
    pub fn region(&self) -> Result<Region> {
        let value = self.region.as_deref().ok_or_else(|| {
            anyhow!("missing region: pass --region or set RELEVANCE_REGION (us, eu, au or the region code from the project settings)")
        })?;
        value
            .parse::<Region>()
            .context("--region / RELEVANCE_REGION")
    }

    /// The project id, required: from `--project` or `RELEVANCE_PROJECT`.
    pub fn project(&self) -> Result<String> {
        match self.project_text() {
            Some(project) => Ok(project),
            None => Err(anyhow!(
                "missing project: pass --project or set RELEVANCE_PROJECT (the project id from the dashboard)"
            )),
        }
    }

    fn project_text(&self) -> Option<String> {
        self.project
            .as_deref()
            .map(str::trim)
            .filter(|project| !project.is_empty())
            .map(str::to_owned)
    }

    /// Project and region together; when both are missing the error names both.
    pub fn project_and_region(&self) -> Result<(String, Region)> {
        match (self.project_text(), self.region.is_some()) {
            (Some(project), true) => Ok((project, self.region()?)),
            (Some(_), false) => Err(self.region().unwrap_err()),
            (None, true) => {
                // A bad region is worth knowing about in the same breath.
                let region = self.region().err().map(|e| format!("; and {e:#}"));
                Err(anyhow!(
                    "{}{}",
                    self.project().unwrap_err(),
                    region.unwrap_or_default()
                ))
            }
            (None, false) => Err(anyhow!(
                "missing project and region: pass --project and --region, or set RELEVANCE_PROJECT and RELEVANCE_REGION (us, eu, au or the region code from the project settings)"
            )),
        }
    }

    fn api_key_text(&self) -> Option<&str> {
        self.api_key
            .as_deref()
            .map(str::trim)
            .filter(|key| !key.is_empty())
    }

    /// Whether any credentials were given at all (a key file, or an API key).
    pub fn is_configured(&self) -> bool {
        self.key_file.is_some() || self.api_key_text().is_some()
    }

    /// The key to use: a persisted key file or an API key with its project and region.
    /// Both at once is an error: silently preferring one would make a stale
    /// `RELEVANCE_API_KEY` in the shell decide which project a command talks to.
    pub fn key(&self) -> Result<Key> {
        match (&self.key_file, self.api_key_text()) {
            (Some(_), Some(_)) => bail!(
                "both a key file (--key-file / RELEVANCE_KEY_FILE) and an API key (--api-key / RELEVANCE_API_KEY) are set: use one of them"
            ),
            (Some(path), None) => read_key_file(path),
            (None, Some(secret)) => {
                let (project, region) = self.project_and_region()?;
                Ok(Key::new(secret, region, project)?)
            }
            (None, None) => {
                let mut missing = vec!["an API key (--api-key / RELEVANCE_API_KEY)"];
                if self.project_text().is_none() {
                    missing.push("a project (--project / RELEVANCE_PROJECT)");
                }
                if self.region.is_none() {
                    missing.push("a region (--region / RELEVANCE_REGION: us, eu, au or a region code)");
                }
                bail!(
                    "missing credentials: {}; or pass --key-file FILE",
                    missing.join(", ")
                )
            }
        }
    }

    /// What an embed key reaches ("agent demo-agent"), when the credentials are one.
    pub fn embed_scope(&self) -> Option<String> {
        let key = self.key().ok()?;
        if !key.is_embed() {
            return None;
        }
        match key.scope() {
            KeyScope::Agent(id) => Some(format!("agent {id}")),
            KeyScope::Workforce(id) => Some(format!("workforce {id}")),
            KeyScope::Project => None,
        }
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
///
/// An `ek-…` secret without `agentId` or `workforceId` is refused here: the SDK would take
/// it for a project API key, and every request would then fail far from the real cause.
pub fn read_key_file(path: &Path) -> Result<Key> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read key file {}", path.display()))?;
    let key = Key::from_json(&text).with_context(|| format!("key file {}", path.display()))?;
    if !key.is_embed() && is_embed_secret(&text) {
        bail!(
            "key file {}: an embed key (ek-…) without `agentId` or `workforceId`; an embed key is scoped to one agent or workforce, so the file must name it",
            path.display()
        );
    }
    Ok(key)
}

/// Whether the persisted `key` field holds an embed key's secret (the value is not kept).
fn is_embed_secret(json: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(json)
        .ok()
        .and_then(|value| {
            value
                .get("key")
                .and_then(|key| key.as_str())
                .map(|key| key.trim_start().starts_with(EMBED_KEY_PREFIX))
        })
        .unwrap_or(false)
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
