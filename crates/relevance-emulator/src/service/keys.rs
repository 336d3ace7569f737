//! The operator's key use cases, shared by the admin API and the dashboard:
//! list projects and keys, issue an API key, revoke a key by id or by value.
//!
//! One function per use case, each one store call; the caller has already
//! been authenticated as the operator (admin token or dashboard session).
//! Nothing here returns a key's value except [`issue_api_key`], once.

use super::overview::OperatorError;
use crate::auth::secret::hash_secret;
use crate::region::Region;
use crate::state::AppState;
use crate::store::definitions;
use crate::store::keys::{self, KeyRecord, KeySelector};
use crate::store::overview;
use crate::time::now_iso;

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
) -> Result<Vec<KeyRecord>, OperatorError> {
    let lookup = project.to_string();
    state
        .store()
        .call(move |connection| {
            if definitions::project_region(connection, &lookup)?.is_none() {
                return Ok(None);
            }
            keys::list_for_project(connection, connection.key_cache(), &lookup).map(Some)
        })
        .await?
        .ok_or_else(|| OperatorError::project_not_found(project))
}

/// One key of `project` by id; a key of another project is not found.
pub(crate) async fn key_of_project(
    state: &AppState,
    project: &str,
    key_id: &str,
) -> Result<KeyRecord, OperatorError> {
    let (lookup_project, lookup_key) = (project.to_string(), key_id.to_string());
    state
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
        })
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
