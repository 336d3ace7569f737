//! The demo project, created when the emulator starts without a seed file.
//!
//! Its definitions are upserted like a seed (a reused data directory keeps
//! its keys and tasks). The store keeps only hashes of keys, so the value of an
//! earlier API key cannot be read back from it: with a data directory the demo
//! key's secret is kept beside the database (owner-only file, see
//! [`DEMO_KEY_FILE`]) and reused while it is still active, so restarting does not
//! hand out a new key every time. In memory a key is issued on every start.

use crate::store::Db;

use crate::auth::issue_api_key;
use crate::auth::secret::hash_secret;
use crate::region::Region;
use crate::seed;
use crate::store::cached_rows::KeyKind;
use crate::store::definitions::{self, ProjectSpec};
use crate::store::keys;

// The ids `DemoProject` hands out; `demo.toml` defines them (a test checks they agree).
const PROJECT: &str = "demo-project";
const PUBLIC_AGENT: &str = "demo-agent";
const PRIVATE_AGENT: &str = "private-agent";
const RESEARCHER_AGENT: &str = "demo-researcher";
const TRIAGE_AGENT: &str = "demo-triage";
const MAILER_AGENT: &str = "demo-mailer";
const WORKFORCE: &str = "demo-workforce";
const WEBHOOK: &str = "demo-orders-hook";
const REGION: Region = Region::US;

/// The file in the data directory that keeps the demo API key's secret (mode 0600).
pub(crate) const DEMO_KEY_FILE: &str = "demo-api-key";

/// The demo project and its credentials for this run.
#[derive(Clone)]
pub struct DemoProject {
    /// The project id, `demo-project`.
    pub project: String,
    /// The region code, `bcbe5a` (US).
    pub region_code: &'static str,
    /// The demo API key (label "generated at start-up"): issued at this start-up, or the
    /// one a data directory kept from an earlier start while it is not revoked.
    pub api_key: String,
    /// Whether the demo project was already in the data directory (loaded, not created).
    pub loaded: bool,
    /// Whether `api_key` was kept from an earlier start rather than issued now.
    pub key_reused: bool,
    /// A public agent (`demo-agent`) that embed keys can be made for.
    pub public_agent_id: String,
    /// A private agent (`private-agent`): embed-key requests for it get 404.
    pub private_agent_id: String,
    /// A public scripted agent (`demo-researcher`): thinks, runs a tool, types a reply.
    pub researcher_agent_id: String,
    /// A public scripted agent (`demo-triage`): greets, then hands over to the researcher
    /// inside the workforce.
    pub triage_agent_id: String,
    /// A workforce (`demo-workforce`): the triage agent answers first and hands the
    /// question over to the researcher.
    pub workforce_id: String,
    /// A public scripted agent (`demo-mailer`) that asks before it "sends an e-mail":
    /// its `send_email` tool run waits for a person's approval (PROTOCOL A10).
    pub mailer_agent_id: String,
    /// The path of `demo-agent`'s webhook trigger under the emulator's URL
    /// (`/{region}/latest/agents/hooks/custom-trigger/demo-project/demo-orders-hook`): POST
    /// any JSON there, no key. A fixed id, so docs can show it; a real seed leaves it out.
    pub webhook_path: String,
}

impl std::fmt::Debug for DemoProject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoProject")
            .field("project", &self.project)
            .field("region_code", &self.region_code)
            .field("api_key", &"<redacted>")
            .field("loaded", &self.loaded)
            .field("key_reused", &self.key_reused)
            .field("public_agent_id", &self.public_agent_id)
            .field("private_agent_id", &self.private_agent_id)
            .field("researcher_agent_id", &self.researcher_agent_id)
            .field("triage_agent_id", &self.triage_agent_id)
            .field("workforce_id", &self.workforce_id)
            .field("mailer_agent_id", &self.mailer_agent_id)
            .field("webhook_path", &self.webhook_path)
            .finish()
    }
}

/// The demo project as data: a seed in the format users write (see the README's "Seed
/// file"), embedded in the binary, so the demo doubles as an example seed.
const DEMO_SEED: &str = include_str!("demo.toml");

/// The demo project's definitions, read from [`DEMO_SEED`].
pub(crate) fn spec() -> ProjectSpec {
    let seed = seed::parse(DEMO_SEED)
        .unwrap_or_else(|problem| panic!("the embedded demo seed is refused: {problem:?}"));
    let Some(project) = seed.projects.into_iter().next() else {
        panic!("the embedded demo seed has no project");
    };
    project.spec
}

/// Upserts the demo project; reuses `kept_key` (the secret a data directory kept) when it
/// is still an active API key of the demo project, else issues a new one.
pub(crate) fn install(
    db: &mut Db,
    now: &str,
    kept_key: Option<String>,
) -> rusqlite::Result<DemoProject> {
    let (connection, caches) = db.split();
    let transaction = connection.transaction()?;
    let loaded: bool = transaction.query_row(
        "SELECT EXISTS (SELECT 1 FROM projects WHERE id = ?1)",
        [PROJECT],
        |row| row.get(0),
    )?;
    definitions::upsert_project(&transaction, &caches.agents, &spec(), now)?;
    let mut reusable = None;
    if let Some(secret) = kept_key {
        let record = keys::find_by_hash(&transaction, &hash_secret(&secret))?;
        if record.is_some_and(|key| {
            key.project == PROJECT && key.kind == KeyKind::Api && key.revoked_at.is_none()
        }) {
            reusable = Some(secret);
        }
    }
    let key_reused = reusable.is_some();
    let api_key = match reusable {
        Some(secret) => secret,
        None => {
            issue_api_key(
                &transaction,
                &caches.keys,
                PROJECT,
                Some("generated at start-up".to_string()),
                now,
            )?
            .secret
        }
    };
    transaction.commit()?;
    Ok(DemoProject {
        project: PROJECT.to_string(),
        region_code: REGION.code(),
        api_key,
        loaded,
        key_reused,
        public_agent_id: PUBLIC_AGENT.to_string(),
        private_agent_id: PRIVATE_AGENT.to_string(),
        researcher_agent_id: RESEARCHER_AGENT.to_string(),
        triage_agent_id: TRIAGE_AGENT.to_string(),
        workforce_id: WORKFORCE.to_string(),
        mailer_agent_id: MAILER_AGENT.to_string(),
        webhook_path: format!(
            "/{}/latest/agents/hooks/custom-trigger/{PROJECT}/{WEBHOOK}",
            REGION.code()
        ),
    })
}

/// The demo key kept by an earlier start, if the file is there and holds one.
pub(crate) fn read_kept_key(path: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let secret = text.trim();
    (!secret.is_empty()).then(|| secret.to_string())
}

/// Keeps the demo key's secret for the next start, readable by its owner only: it is a
/// credential of the demo project.
pub(crate) fn keep_key(path: &std::path::Path, secret: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(secret.as_bytes())?;
    file.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_seed_defines_every_id_the_demo_hands_out() {
        let spec = spec();
        assert_eq!((spec.id.as_str(), spec.region), (PROJECT, REGION));
        let agents: Vec<&str> = spec.agents.iter().map(|agent| agent.id.as_str()).collect();
        for id in [
            PUBLIC_AGENT,
            PRIVATE_AGENT,
            RESEARCHER_AGENT,
            TRIAGE_AGENT,
            MAILER_AGENT,
        ] {
            assert!(agents.contains(&id), "{id} in {agents:?}");
        }
        assert_eq!(spec.workforces[0].id, WORKFORCE);
        assert_eq!(
            (
                spec.webhooks[0].id.as_deref(),
                spec.webhooks[0].agent_id.as_str()
            ),
            (Some(WEBHOOK), PUBLIC_AGENT)
        );
    }
}
