//! Issuing embed keys (`get_embed_key`): anyone may ask, so the use case is
//! rate limited per client address, and a private, unknown, other-project or
//! other-region target is one and the same "not found".

use std::net::IpAddr;

use crate::auth::EmbedTarget;
use crate::region::Region;
use crate::state::AppState;
use crate::store::definitions::{self, Visibility};
use crate::store::StoreError;
use crate::time::now_iso;

/// A new embed key and the task prefix its tasks must carry.
#[derive(Clone)]
pub(crate) struct NewEmbedKey {
    pub(crate) secret: String,
    pub(crate) task_prefix: String,
}

impl std::fmt::Debug for NewEmbedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewEmbedKey")
            .field("task_prefix", &self.task_prefix)
            .finish_non_exhaustive()
    }
}

/// Why no embed key was issued.
#[derive(Debug)]
pub(crate) enum EmbedKeyError {
    /// This address asked too often; it may ask again after `retry_after_seconds`.
    RateLimited { retry_after_seconds: u64 },
    /// No public agent / no workforce of that id in that project in this region.
    NotFound,
    /// The database failed.
    Store(StoreError),
}

impl From<StoreError> for EmbedKeyError {
    fn from(error: StoreError) -> EmbedKeyError {
        EmbedKeyError::Store(error)
    }
}

/// A new key and prefix for `target` of `project`, if the project is in `region`
/// and the target may have one (a public agent, any workforce).
pub(crate) async fn issue_embed_key(
    state: &AppState,
    client: IpAddr,
    region: Region,
    project: String,
    target: EmbedTarget,
) -> Result<NewEmbedKey, EmbedKeyError> {
    state
        .rate_limiter()
        .take(client)
        .map_err(|retry_after_seconds| EmbedKeyError::RateLimited {
            retry_after_seconds,
        })?;
    let now = now_iso();
    let issued = state
        .store()
        .call(move |connection| {
            if definitions::project_region(connection, &project)? != Some(region) {
                return Ok(None);
            }
            let allowed = match &target {
                EmbedTarget::Agent(agent_id) => {
                    definitions::find_agent(connection, &project, &Visibility::All, agent_id)?
                        .is_some_and(|agent| agent.public)
                }
                EmbedTarget::Workforce(workforce_id) => definitions::find_workforce(
                    connection,
                    &project,
                    &Visibility::All,
                    workforce_id,
                )?
                .is_some(),
            };
            if !allowed {
                return Ok(None);
            }
            crate::auth::issue_embed_key(
                connection,
                connection.key_cache(),
                &project,
                &target,
                &now,
            )
            .map(|issued| {
                issued.task_prefix.map(|task_prefix| NewEmbedKey {
                    secret: issued.secret,
                    task_prefix,
                })
            })
        })
        .await?;
    issued.ok_or(EmbedKeyError::NotFound)
}
