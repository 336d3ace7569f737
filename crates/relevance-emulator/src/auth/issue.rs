//! Issuing keys: a fresh secret is generated, its hash stored, and the value
//! handed back exactly once.

use rusqlite::Connection;

use super::secret::{hash_secret, hint, new_api_key, new_embed_key, new_key_id, new_task_prefix};
use crate::store::cached_rows::KeyKind;
use crate::store::key_cache::KeyCache;
use crate::store::keys::{self, KeyRecord};

/// A freshly issued key; the only place its secret exists after this request.
pub(crate) struct IssuedKey {
    pub(crate) id: String,
    pub(crate) secret: String,
    pub(crate) task_prefix: Option<String>,
}

impl std::fmt::Debug for IssuedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedKey")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .field("task_prefix", &self.task_prefix)
            .finish()
    }
}

/// What an embed key is scoped to.
#[derive(Debug, Clone)]
pub(crate) enum EmbedTarget {
    Agent(String),
    Workforce(String),
}

fn record(
    project: &str,
    kind: KeyKind,
    secret: &str,
    label: Option<String>,
    now: &str,
) -> KeyRecord {
    KeyRecord {
        id: new_key_id(),
        project: project.to_string(),
        kind,
        sha256: hash_secret(secret),
        hint: hint(secret),
        label,
        agent_id: None,
        workforce_id: None,
        task_prefix: None,
        created_at: now.to_string(),
        last_used_at: None,
        revoked_at: None,
        request_count: 0,
    }
}

/// A new random API key for `project`.
pub(crate) fn issue_api_key(
    connection: &Connection,
    cache: &KeyCache,
    project: &str,
    label: Option<String>,
    now: &str,
) -> rusqlite::Result<IssuedKey> {
    let secret = new_api_key();
    let key = record(project, KeyKind::Api, &secret, label, now);
    keys::insert(connection, cache, &key)?;
    Ok(IssuedKey {
        id: key.id,
        secret,
        task_prefix: None,
    })
}

/// Stores an API key whose value the operator chose (a seed file); idempotent.
pub(crate) fn register_api_key(
    connection: &Connection,
    cache: &KeyCache,
    project: &str,
    secret: &str,
    label: &str,
    now: &str,
) -> rusqlite::Result<()> {
    let key = record(project, KeyKind::Api, secret, Some(label.to_string()), now);
    keys::insert_if_absent(connection, cache, &key)
}

/// A new embed key with a new task prefix. The caller has checked that the target may have one.
pub(crate) fn issue_embed_key(
    connection: &Connection,
    cache: &KeyCache,
    project: &str,
    target: &EmbedTarget,
    now: &str,
) -> rusqlite::Result<IssuedKey> {
    let secret = new_embed_key();
    let task_prefix = new_task_prefix();
    let mut key = record(project, KeyKind::Embed, &secret, None, now);
    match target {
        EmbedTarget::Agent(agent_id) => key.agent_id = Some(agent_id.clone()),
        EmbedTarget::Workforce(workforce_id) => key.workforce_id = Some(workforce_id.clone()),
    }
    key.task_prefix = Some(task_prefix.clone());
    keys::insert(connection, cache, &key)?;
    Ok(IssuedKey {
        id: key.id,
        secret,
        task_prefix: Some(task_prefix),
    })
}
