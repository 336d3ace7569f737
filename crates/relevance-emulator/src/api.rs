//! The platform API under `/{region code}/latest/...`, one file per resource.
//!
//! Each route declares its access [`Policy`] in the tables below; the guard of
//! that policy (in `auth`) lets the request in and puts the caller's
//! [`crate::auth::Principal`] into it. Handlers parse the request, call one
//! `service` function and render its answer: they never check a credential,
//! open a transaction or query the store themselves. The live stream's
//! credential is a streaming token minted by a task's metadata route.

mod agents;
mod embed_keys;
pub(crate) mod files;
mod filters;
mod jobs;
mod key_info;
mod knowledge;
mod lifecycle;
mod messages;
mod stream;
pub(crate) mod tasks;
mod tools;
mod webhooks;
pub(crate) mod workforce_tasks;
mod workforces;

use axum::http::Method;

use crate::auth::{route, Policy, Route};

/// The region-prefixed API routes (`/{region}/latest/...`), each with its policy; the app
/// adds the region resolver around them. One table per group, one row per route.
pub(crate) fn routes() -> Vec<Route> {
    let mut table = key_and_catalogue_routes();
    table.extend(workforce_routes());
    table.extend(agent_task_routes());
    table.extend(knowledge_routes());
    table.extend(webhook_routes());
    table
}

/// Webhooks: an agent's webhook URL (no key: the URL is the secret) and a tool's webhook
/// form (an API key, or none for a public tool), both rate limited per client address;
/// and the emulator's own listing of an agent's webhook URLs (API keys).
fn webhook_routes() -> Vec<Route> {
    use Method as M;
    use Policy::{ProjectKey, ProjectKeyIfSent, Public};
    vec![
        route(
            M::POST,
            "/{region}/latest/agents/hooks/custom-trigger/{project}/{trigger_id}",
            Public,
            webhooks::agent_hook,
        ),
        route(
            M::POST,
            "/{region}/latest/studios/{studio_id}/trigger_webhook",
            ProjectKeyIfSent,
            webhooks::tool_hook,
        ),
        route(
            M::GET,
            "/{region}/latest/emulator/agents/{agent_id}/webhooks",
            ProjectKey,
            webhooks::list_agent_hooks,
        ),
    ]
}

/// Embed-key issuing (no credential), which key this is, agents, workforces and file
/// upload URLs.
fn key_and_catalogue_routes() -> Vec<Route> {
    use Method as M;
    use Policy::{AnyKey, ProjectKey, Public};
    vec![
        route(
            M::POST,
            "/{region}/latest/agents/get_embed_key",
            Public,
            embed_keys::for_agent,
        ),
        route(
            M::POST,
            "/{region}/latest/workforce/get_embed_key",
            Public,
            embed_keys::for_workforce,
        ),
        route(
            M::GET,
            "/{region}/latest/auth/info",
            AnyKey,
            key_info::auth_info,
        ),
        route(
            M::GET,
            "/{region}/latest/agents/{agent_id}/get",
            AnyKey,
            agents::get_agent,
        ),
        route(
            M::POST,
            "/{region}/latest/agents/list",
            ProjectKey,
            agents::list_agents,
        ),
        route(
            M::GET,
            "/{region}/latest/workforce/items/{workforce_id}",
            AnyKey,
            workforces::get_workforce,
        ),
        route(
            M::POST,
            "/{region}/latest/services/get_temporary_file_upload_url",
            AnyKey,
            files::upload_url,
        ),
    ]
}

/// A workforce's tasks (PROTOCOL A6).
fn workforce_routes() -> Vec<Route> {
    use Method as M;
    use Policy::AnyKey;
    vec![
        route(
            M::POST,
            "/{region}/latest/workforce/trigger",
            AnyKey,
            workforce_tasks::trigger,
        ),
        route(
            M::GET,
            "/{region}/latest/workforce/tasks/{task_id}/metadata",
            AnyKey,
            workforce_tasks::metadata,
        ),
        route(
            M::POST,
            "/{region}/latest/workforce/items/{workforce_id}/tasks/{task_id}/messages",
            AnyKey,
            workforce_tasks::messages,
        ),
        route(
            M::POST,
            "/{region}/latest/workforce/tasks/list",
            AnyKey,
            workforce_tasks::list,
        ),
    ]
}

/// An agent's tasks (PROTOCOL A5, A7) and their life (A11).
fn agent_task_routes() -> Vec<Route> {
    use Method as M;
    use Policy::{AnyKey, ProjectKey};
    vec![
        route(
            M::POST,
            "/{region}/latest/agents/trigger",
            AnyKey,
            tasks::trigger,
        ),
        route(
            M::GET,
            "/{region}/latest/agents/{agent_id}/tasks/{task_id}/metadata",
            AnyKey,
            tasks::metadata,
        ),
        route(
            M::POST,
            "/{region}/latest/agents/{agent_id}/tasks/{task_id}/view",
            AnyKey,
            messages::view,
        ),
        route(
            M::GET,
            "/{region}/latest/agents/conversations/list",
            AnyKey,
            tasks::list,
        ),
        // PROTOCOL A18: a task's tool runs, output and cost.
        route(
            M::GET,
            "/{region}/latest/agents/conversations/studios/list",
            AnyKey,
            tasks::tool_runs,
        ),
        // PROTOCOL A11; deleting and scheduling need an API key (A13).
        route(
            M::GET,
            "/{region}/latest/agents/{agent_id}/tasks/{task_id}/trigger_message",
            AnyKey,
            lifecycle::trigger_message,
        ),
        route(
            M::GET,
            "/{region}/latest/knowledge/sets/{task_id}/get_metadata",
            AnyKey,
            lifecycle::set_metadata,
        ),
        route(
            M::POST,
            "/{region}/latest/agents/{agent_id}/scheduled_triggers_item/create",
            ProjectKey,
            lifecycle::schedule,
        ),
    ]
}

/// Knowledge sets (PROTOCOL A16): tables, and agent tasks read as conversations. API keys
/// only (embed keys: 403). `sets/delete` also deletes tasks (A11's list form).
fn knowledge_routes() -> Vec<Route> {
    use Method as M;
    use Policy::ProjectKey;
    vec![
        route(
            M::POST,
            "/{region}/latest/knowledge/sets/list",
            ProjectKey,
            knowledge::sets_list,
        ),
        route(
            M::POST,
            "/{region}/latest/knowledge/sets/delete",
            ProjectKey,
            knowledge::sets_delete,
        ),
        route(
            M::POST,
            "/{region}/latest/knowledge/list",
            ProjectKey,
            knowledge::list,
        ),
        route(
            M::POST,
            "/{region}/latest/knowledge/add",
            ProjectKey,
            knowledge::add,
        ),
        route(
            M::POST,
            "/{region}/latest/knowledge/bulk_update",
            ProjectKey,
            knowledge::bulk_update,
        ),
        route(
            M::POST,
            "/{region}/latest/knowledge/delete",
            ProjectKey,
            knowledge::delete,
        ),
    ]
}

/// The live stream: region-prefixed but outside `/latest/`, opened by a streaming token.
pub(crate) fn stream_routes() -> Vec<Route> {
    vec![route(
        Method::GET,
        "/{region}/v1/stream",
        Policy::StreamToken,
        stream::open,
    )]
}

/// The file routes: outside the region prefix and outside key auth (the upload URL is
/// signed, the download URL public, as the platform's are).
pub(crate) fn file_routes() -> Vec<Route> {
    vec![
        route(
            Method::GET,
            "/files/{id}/{name}",
            Policy::Public,
            files::download,
        )
        .body_limit(files::UPLOAD_LIMIT_BYTES),
        route(
            Method::PUT,
            "/files/{id}/{name}",
            Policy::UploadSignature,
            files::upload,
        )
        .body_limit(files::UPLOAD_LIMIT_BYTES),
    ]
}

/// Jobs (PROTOCOL A15): a tool run as a job, the long poll that follows any job, cancel,
/// and the synchronous trigger. API keys only, an embed key gets 403.
pub(crate) fn job_routes() -> Vec<Route> {
    use Method as M;
    use Policy::ProjectKey;
    vec![
        route(
            M::POST,
            "/{region}/latest/studios/{studio_id}/trigger",
            ProjectKey,
            tools::trigger,
        ),
        route(
            M::POST,
            "/{region}/latest/studios/{studio_id}/trigger_async",
            ProjectKey,
            jobs::start,
        ),
        route(
            M::GET,
            "/{region}/latest/studios/{studio_id}/async_poll/{job_id}",
            ProjectKey,
            jobs::poll,
        ),
        // The path names the job (PROTOCOL A15); one parameter name per position.
        route(
            M::POST,
            "/{region}/latest/studios/{studio_id}/cancel",
            ProjectKey,
            jobs::cancel,
        ),
    ]
}

/// Tools and agent management (PROTOCOL A12, A13): API keys only, an embed key gets 403.
pub(crate) fn management_routes() -> Vec<Route> {
    use Method as M;
    use Policy::ProjectKey;
    vec![
        route(
            M::GET,
            "/{region}/latest/studios/list",
            ProjectKey,
            tools::list,
        ),
        route(
            M::GET,
            "/{region}/latest/studios/{studio_id}/get",
            ProjectKey,
            tools::get,
        ),
        route(
            M::POST,
            "/{region}/latest/studios/{studio_id}/trigger_limited",
            ProjectKey,
            tools::trigger,
        ),
        route(
            M::POST,
            "/{region}/latest/studios/bulk_update",
            ProjectKey,
            tools::bulk_update,
        ),
        route(
            M::POST,
            "/{region}/latest/studios/bulk_delete",
            ProjectKey,
            tools::bulk_delete,
        ),
        route(
            M::POST,
            "/{region}/latest/studios/clone",
            ProjectKey,
            tools::clone,
        ),
        route(
            M::POST,
            "/{region}/latest/agents/tools/list",
            ProjectKey,
            agents::list_tools,
        ),
        route(
            M::POST,
            "/{region}/latest/agents/upsert",
            ProjectKey,
            agents::upsert,
        ),
        route(
            M::POST,
            "/{region}/latest/agents/{agent_id}/delete",
            ProjectKey,
            agents::delete,
        ),
    ]
}
