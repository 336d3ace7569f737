//! The platform API under `/{region code}/latest/...`, one file per resource.
//!
//! Each route declares its access policy in its handler's signature:
//! no credential extractor (public: embed-key generation), [`crate::auth::Principal`]
//! (any key, scoped reads), or [`crate::auth::ProjectKey`] (API keys only, 403
//! for embed keys). Handlers reach the store only through scoped queries.
//! The live stream ([`stream`]) is the exception: its credential is a
//! streaming token minted by a task's metadata route, not a key.

mod agents;
mod embed_keys;
pub(crate) mod files;
mod messages;
mod stream;
pub(crate) mod tasks;
pub(crate) mod workforce_tasks;
mod workforces;

use axum::extract::DefaultBodyLimit;
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
        .route(
            "/{region}/latest/workforce/trigger",
            post(workforce_tasks::trigger),
        )
        .route(
            "/{region}/latest/workforce/tasks/{task_id}/metadata",
            get(workforce_tasks::metadata),
        )
        .route(
            "/{region}/latest/workforce/items/{workforce_id}/tasks/{task_id}/messages",
            post(workforce_tasks::messages),
        )
        .route(
            "/{region}/latest/workforce/tasks/list",
            post(workforce_tasks::list),
        )
        .route("/{region}/latest/agents/trigger", post(tasks::trigger))
        .route(
            "/{region}/latest/agents/{agent_id}/tasks/{task_id}/metadata",
            get(tasks::metadata),
        )
        .route(
            "/{region}/latest/agents/{agent_id}/tasks/{task_id}/view",
            post(messages::view),
        )
        .route(
            "/{region}/latest/agents/conversations/list",
            get(tasks::list),
        )
        .route(
            "/{region}/latest/services/get_temporary_file_upload_url",
            post(files::upload_url),
        )
}

/// The live stream: region-prefixed but outside `/latest/`, authenticated by its token.
pub(crate) fn stream_routes() -> Router<AppState> {
    Router::new().route("/{region}/v1/stream", get(stream::open))
}

/// The file routes: outside the region prefix and outside auth (the upload URL is signed).
pub(crate) fn file_routes() -> Router<AppState> {
    Router::new().route(
        "/files/{id}/{name}",
        get(files::download)
            .put(files::upload)
            .layer(DefaultBodyLimit::max(files::UPLOAD_LIMIT_BYTES)),
    )
}
