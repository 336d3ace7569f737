//! Embed-key generation (PROTOCOL A3): unauthenticated requests.

use serde::{Deserialize, Serialize};

pub(crate) const AGENT_PATH: &str = "agents/get_embed_key";
pub(crate) const WORKFORCE_PATH: &str = "workforce/get_embed_key";

/// `{"agent_id", "project"}`.
#[derive(Serialize)]
pub(crate) struct AgentBody<'a> {
    pub(crate) agent_id: &'a str,
    pub(crate) project: &'a str,
}

/// `{"project", "workforce_id"}`.
#[derive(Serialize)]
pub(crate) struct WorkforceBody<'a> {
    pub(crate) project: &'a str,
    pub(crate) workforce_id: &'a str,
}

/// `{"embed_key", "conversation_prefix"}`.
#[derive(Deserialize)]
pub(crate) struct Answer {
    pub(crate) embed_key: String,
    pub(crate) conversation_prefix: String,
}
