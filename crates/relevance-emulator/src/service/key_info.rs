//! `auth/info` (PROTOCOL A14): which key a credential is, and what it may reach.
//!
//! The platform answers `{user_id, key_id, permissions, label?, email?, ...}` with its
//! `FullUserPermissions` shape (`permissions.projects.{project}.items.{item}` with
//! `resources` and `actions`, from its generated API types). What it answers for an
//! embed key, and which item and action names it uses, is not published: the emulator's
//! choices are listed in its README and are never a secret.

use crate::auth::{Principal, Scope};
use crate::state::AppState;
use crate::store::keys;
use crate::store::StoreError;

/// What `auth/info` tells about the caller's key.
#[derive(Debug, Clone)]
pub(crate) struct KeyInfo {
    pub(crate) key_id: String,
    /// The emulator has no users: an API key belongs to its project's owner, an embed key
    /// to the anonymous visitor it was made for.
    pub(crate) user_id: String,
    pub(crate) label: Option<String>,
    pub(crate) permissions: serde_json::Value,
}

/// The caller's key, its label and permissions.
pub(crate) async fn key_info(
    state: &AppState,
    principal: &Principal,
) -> Result<KeyInfo, StoreError> {
    let key_id = principal.key_id.clone();
    let label = state
        .store()
        .call(move |connection| keys::label_of(connection, &key_id))
        .await?;
    Ok(KeyInfo {
        key_id: principal.key_id.clone(),
        user_id: user_of(principal),
        label,
        permissions: permissions_of(principal),
    })
}

fn user_of(principal: &Principal) -> String {
    match principal.scope {
        Scope::Project => format!("owner-{}", principal.project),
        Scope::Agent { .. } | Scope::Workforce { .. } => format!("anonymous-{}", principal.key_id),
    }
}

/// `{"projects": {project: {"items": {item: {"resources", "actions"}}}}}`: the whole project
/// for an API key, one agent or workforce for an embed key.
fn permissions_of(principal: &Principal) -> serde_json::Value {
    let item = match &principal.scope {
        Scope::Project => serde_json::json!({"project": {"actions": {"admin": true}}}),
        Scope::Agent { agent_id, .. } => serde_json::json!({"embed": {
            "resources": {"agents": {agent_id.as_str(): true}},
            "actions": {"trigger": true, "read_own_tasks": true},
        }}),
        Scope::Workforce { workforce_id, .. } => serde_json::json!({"embed": {
            "resources": {"workforces": {workforce_id.as_str(): true}},
            "actions": {"trigger": true, "read_own_tasks": true},
        }}),
    };
    serde_json::json!({"projects": {principal.project.as_str(): {"items": item}}})
}
