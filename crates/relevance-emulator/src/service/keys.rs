//! The operator's key use cases, shared by the admin API and the dashboard:
//! list projects and keys, issue an API key, revoke a key by id or by value.
//!
//! One function per use case, each one store call; the caller has already
//! been authenticated as the operator (admin token or dashboard session).
//! Nothing here returns a key's value except [`issue_api_key`], once; keys
//! are read as [`KeyView`]s, which leave the stored hash behind.

use super::overview::OperatorError;
use crate::auth::secret::hash_secret;
use crate::region::Region;
use crate::state::AppState;
use crate::store::definitions;
use crate::store::keys::{self, KeyRecord, KeySelector};
use crate::store::overview;
use crate::time::now_iso;

/// Whether a key is an API key or an embed key; re-exported so that callers of these
/// use cases (the admin API, the dashboard) tell the two apart without the store.
pub(crate) use crate::store::cached_rows::KeyKind;

/// A key as the operator sees it, in the admin API's key list and on the dashboard's
/// key pages: every stored field but the hash, so no page or answer built from it can
/// carry more of the secret than `hint` (at most its last 4 characters).
#[derive(Debug, Clone)]
pub(crate) struct KeyView {
    pub(crate) id: String,
    pub(crate) kind: KeyKind,
    /// The secret's last characters (at most 4), empty when it is too short for one.
    pub(crate) hint: String,
    pub(crate) label: Option<String>,
    /// The agent of an embed key made for one.
    pub(crate) agent_id: Option<String>,
    /// The workforce of an embed key made for one.
    pub(crate) workforce_id: Option<String>,
    /// The embed key's task prefix.
    pub(crate) task_prefix: Option<String>,
    pub(crate) created_at: String,
    pub(crate) last_used_at: Option<String>,
    pub(crate) revoked_at: Option<String>,
    pub(crate) request_count: i64,
}

impl From<KeyRecord> for KeyView {
    fn from(key: KeyRecord) -> KeyView {
        KeyView {
            id: key.id,
            kind: key.kind,
            hint: key.hint,
            label: key.label,
            agent_id: key.agent_id,
            workforce_id: key.workforce_id,
            task_prefix: key.task_prefix,
            created_at: key.created_at,
            last_used_at: key.last_used_at,
            revoked_at: key.revoked_at,
            request_count: key.request_count,
        }
    }
}

/// A new API key: its id, and its value, shown this once.
#[derive(Clone)]
pub(crate) struct NewApiKey {
    pub(crate) id: String,
    pub(crate) secret: String,
}

impl std::fmt::Debug for NewApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewApiKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A revoked key: its id and when it was (first) revoked.
#[derive(Debug, Clone)]
pub(crate) struct Revoked {
    pub(crate) id: String,
    pub(crate) revoked_at: String,
}

/// Every project with its region, ordered by id.
pub(crate) async fn list_projects(
    state: &AppState,
) -> Result<Vec<(String, Region)>, OperatorError> {
    Ok(state
        .store()
        .call(|connection| definitions::list_projects(connection))
        .await?)
}

/// Every key of `project`, oldest first; an unknown project is an error, not an empty list.
pub(crate) async fn list_keys(
    state: &AppState,
    project: &str,
) -> Result<Vec<KeyView>, OperatorError> {
    let lookup = project.to_string();
    let keys = state
        .store()
        .call(move |connection| {
            if definitions::project_region(connection, &lookup)?.is_none() {
                return Ok(None);
            }
            keys::list_for_project(connection, connection.key_cache(), &lookup).map(Some)
        })
        .await?
        .ok_or_else(|| OperatorError::project_not_found(project))?;
    Ok(keys.into_iter().map(KeyView::from).collect())
}

/// One key of `project` by id; a key of another project is not found.
pub(crate) async fn key_of_project(
    state: &AppState,
    project: &str,
    key_id: &str,
) -> Result<KeyView, OperatorError> {
    let (lookup_project, lookup_key) = (project.to_string(), key_id.to_string());
    let key = state
        .store()
        .call(move |connection| {
            overview::find_key_in_project(
                connection,
                connection.key_cache(),
                &lookup_project,
                &lookup_key,
            )
        })
        .await?
        .ok_or_else(|| OperatorError::KeyNotFound {
            key_id: key_id.to_string(),
        })?;
    Ok(KeyView::from(key))
}

/// A new API key for `project` with `label` as given, working at once; its
/// value is in the answer only.
pub(crate) async fn issue_api_key(
    state: &AppState,
    project: &str,
    label: Option<String>,
) -> Result<NewApiKey, OperatorError> {
    let lookup = project.to_string();
    let now = now_iso();
    state
        .store()
        .call(move |connection| {
            if definitions::project_region(connection, &lookup)?.is_none() {
                return Ok(None);
            }
            crate::auth::issue_api_key(connection, connection.key_cache(), &lookup, label, &now)
                .map(|issued| {
                    Some(NewApiKey {
                        id: issued.id,
                        secret: issued.secret,
                    })
                })
        })
        .await?
        .ok_or_else(|| OperatorError::project_not_found(project))
}

/// Which key to revoke, owned so it can go to the store's thread.
enum KeyToRevoke {
    Id(String),
    Sha256(String),
}

async fn revoke(state: &AppState, target: KeyToRevoke) -> Result<Option<Revoked>, OperatorError> {
    let now = now_iso();
    let revoked = state
        .store()
        .call(move |connection| {
            let selector = match &target {
                KeyToRevoke::Id(id) => KeySelector::Id(id),
                KeyToRevoke::Sha256(hash) => KeySelector::Sha256(hash),
            };
            keys::revoke(connection, connection.key_cache(), selector, &now)
        })
        .await?;
    Ok(revoked.map(|(id, revoked_at)| Revoked { id, revoked_at }))
}

/// Revokes the key with this id (keeping an earlier revocation time); the next
/// request made with it is refused.
pub(crate) async fn revoke_key(state: &AppState, key_id: &str) -> Result<Revoked, OperatorError> {
    revoke(state, KeyToRevoke::Id(key_id.to_string()))
        .await?
        .ok_or_else(|| OperatorError::KeyNotFound {
            key_id: key_id.to_string(),
        })
}

/// Revokes the key whose value is `secret` (a leaked key whose id is unknown).
pub(crate) async fn revoke_by_secret(
    state: &AppState,
    secret: &str,
) -> Result<Revoked, OperatorError> {
    revoke(state, KeyToRevoke::Sha256(hash_secret(secret)))
        .await?
        .ok_or(OperatorError::KeyValueNotFound)
}

/// Whether `secret` is stored as a project key (the dashboard refuses such an admin token).
pub(crate) async fn is_stored_key(state: &AppState, secret: &str) -> Result<bool, OperatorError> {
    let hash = hash_secret(secret);
    Ok(state
        .store()
        .call(move |connection| keys::find_by_hash(connection, &hash))
        .await?
        .is_some())
}

#[cfg(test)]
mod tests {
    use super::{KeyKind, KeyView};
    use crate::store::keys::KeyRecord;

    #[test]
    fn a_key_view_leaves_the_hash_behind() {
        let hash = "f00d".repeat(16);
        let view = KeyView::from(KeyRecord {
            id: "key-1".into(),
            project: "p".into(),
            kind: KeyKind::Embed,
            sha256: hash.clone(),
            hint: "wxyz".into(),
            label: None,
            agent_id: Some("agent-1".into()),
            workforce_id: None,
            task_prefix: Some("web".into()),
            created_at: "2024-01-01T00:00:00Z".into(),
            last_used_at: None,
            revoked_at: None,
            request_count: 3,
        });
        let shown = format!("{view:?}");
        assert!(!shown.contains(&hash), "{shown}");
        assert_eq!(
            (view.hint.as_str(), view.kind, view.request_count),
            ("wxyz", KeyKind::Embed, 3)
        );
    }
}
