//! The platform API under `/{region code}/latest/...`, one file per resource.
//!
//! Each route declares its access policy in its handler's signature:
//! no credential extractor (public: embed-key generation), [`crate::auth::Principal`]
//! (any key, scoped reads), or [`crate::auth::ProjectKey`] (API keys only, 403
//! for embed keys). Handlers reach the store only through scoped queries.

mod agents;
mod embed_keys;
mod workforces;

use axum::routing::{get, post};
use axum::Router;

use crate::app::AppState;

/// The region-prefixed API routes; the app adds the region resolver around them.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/{region}/latest/agents/get_embed_key",
            post(embed_keys::for_agent),
        )
        .route(
            "/{region}/latest/workforce/get_embed_key",
            post(embed_keys::for_workforce),
        )
        .route(
            "/{region}/latest/agents/{agent_id}/get",
            get(agents::get_agent),
        )
        .route("/{region}/latest/agents/list", post(agents::list_agents))
        .route(
            "/{region}/latest/workforce/items/{workforce_id}",
            get(workforces::get_workforce),
        )
}
