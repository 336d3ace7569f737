//! The seed file's format: the TOML tables as they are written, each value with its span
//! so a problem can name its line. Nothing here checks a value; `check` does.

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SeedFile {
    #[serde(default)]
    pub(super) projects: Vec<ProjectEntry>,
    pub(super) emulator: Option<EmulatorEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EmulatorEntry {
    pub(super) streaming_token_ttl_ms: Option<Spanned<i64>>,
    pub(super) faults: Option<FaultsEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FaultsEntry {
    pub(super) error_rate: Option<Spanned<f64>>,
    pub(super) rate_limit_rate: Option<Spanned<f64>>,
    pub(super) drop_rate: Option<Spanned<f64>>,
    pub(super) added_latency_ms: Option<Spanned<i64>>,
    pub(super) stream_cut_every_ms: Option<Spanned<i64>>,
    pub(super) seed: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProjectEntry {
    pub(super) id: Spanned<String>,
    pub(super) region: Spanned<String>,
    #[serde(default)]
    pub(super) api_keys: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) agents: Vec<AgentEntry>,
    #[serde(default)]
    pub(super) workforces: Vec<WorkforceEntry>,
    #[serde(default)]
    pub(super) tools: Vec<ToolEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AgentEntry {
    pub(super) id: Spanned<String>,
    pub(super) name: Option<String>,
    pub(super) description: Option<String>,
    pub(super) emoji: Option<String>,
    #[serde(default)]
    pub(super) public: bool,
    /// The agent's own `use_streaming` (PROTOCOL A8b); off by default, as on the platform.
    #[serde(default)]
    pub(super) use_streaming: bool,
    pub(super) model: Option<String>,
    pub(super) behavior: Option<Spanned<String>>,
    pub(super) script: Option<Spanned<Vec<Spanned<toml::Table>>>>,
    pub(super) end_state: Option<Spanned<String>>,
    pub(super) chunk_delay_ms: Option<Spanned<i64>>,
    /// Tools of the project this agent may use (`agents/tools/list`).
    #[serde(default)]
    pub(super) tools: Vec<Spanned<String>>,
    /// Webhook triggers of this agent (`[[projects.agents.webhooks]]`).
    #[serde(default)]
    pub(super) webhooks: Vec<Spanned<WebhookEntry>>,
}

/// One `[[projects.agents.webhooks]]` table; `webhooks` checks it. The field names are the
/// ones a seed is shared with: the platform's settings of a webhook trigger, in snake case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WebhookEntry {
    /// The `{trigger_id}` of the URL; made up (unguessable) when absent.
    pub(super) id: Option<Spanned<String>>,
    /// A label for the dashboard (the platform's `webhook_name`).
    pub(super) name: Option<String>,
    pub(super) message_template: Spanned<String>,
    pub(super) thread_id_field: Option<Spanned<String>>,
    pub(super) unique_id_field: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WorkforceEntry {
    pub(super) id: Spanned<String>,
    pub(super) name: Option<String>,
    #[serde(default)]
    pub(super) agents: Vec<Spanned<String>>,
    pub(super) execution_limit: Option<Spanned<i64>>,
}

/// One `[[projects.tools]]` table (PROTOCOL A12); `tools` checks it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ToolEntry {
    pub(super) id: Spanned<String>,
    pub(super) title: Option<String>,
    pub(super) description: Option<String>,
    pub(super) emoji: Option<String>,
    #[serde(default)]
    pub(super) public: bool,
    pub(super) params_schema: Option<Spanned<toml::Value>>,
    pub(super) output: Option<Spanned<toml::Table>>,
    pub(super) delay_ms: Option<Spanned<i64>>,
    pub(super) error: Option<String>,
    /// What one run costs (PROTOCOL A18's `cost`); zero when absent.
    pub(super) cost: Option<Spanned<f64>>,
}
