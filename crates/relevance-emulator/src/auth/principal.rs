//! `Authorization: {project}:{key}` → [`Principal`].

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderValue;

use super::secret::{hash_secret, secrets_equal};
use crate::admin::RequestLogSlot;
use crate::error::{echo_id, ApiError};
use crate::region::Region;
use crate::state::AppState;
use crate::store::cached_rows::KeyKind;
use crate::store::definitions::{self, Visibility};
use crate::store::key_cache::AuthKey;
use crate::store::keys;
use crate::store::tasks::TaskScope;
use crate::store::workforce_tasks::WorkforceTaskScope;
use crate::time::now_ms;

const EXPECTED_SHAPE: &str = "expected `{project}:{key}`";

/// The key id of [`Principal::operator`]: not a key id any key can have (those start `key_`).
const OPERATOR_KEY_ID: &str = "operator";

/// The key id of [`Principal::webhook`]: no key's id either.
const WEBHOOK_KEY_ID: &str = "webhook";

/// What a key may reach inside its project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scope {
    /// An API key: every resource of the project.
    Project,
    /// An embed key for one public agent; its tasks must carry `task_prefix`.
    Agent {
        agent_id: String,
        task_prefix: String,
    },
    /// An embed key for one workforce; its tasks must carry `task_prefix`.
    Workforce {
        workforce_id: String,
        task_prefix: String,
    },
}

/// The authenticated caller of one request.
#[derive(Debug, Clone)]
pub(crate) struct Principal {
    pub(crate) key_id: String,
    pub(crate) project: String,
    /// The region the key was checked against; streaming tokens are bound to it.
    pub(crate) region: Region,
    pub(crate) scope: Scope,
}

impl Principal {
    /// The operator (the admin token's holder, on the dashboard) acting in `project` as
    /// one of its API keys would, so the dashboard's writes go through the very use cases
    /// the API calls. `key_id` names no stored key: it is only ever shown, never looked up.
    pub(crate) fn operator(project: String, region: Region) -> Principal {
        Principal {
            key_id: OPERATOR_KEY_ID.to_string(),
            project,
            region,
            scope: Scope::Project,
        }
    }

    /// A webhook trigger's delivery in `project`: it writes to its agent's tasks as an API
    /// key would (the tasks are the project's, not a prefix's). The webhook URL, not a key,
    /// let the request in; `key_id` names no stored key.
    pub(crate) fn webhook(project: String, region: Region) -> Principal {
        Principal {
            key_id: WEBHOOK_KEY_ID.to_string(),
            project,
            region,
            scope: Scope::Project,
        }
    }

    /// The agents this principal may read.
    pub(crate) fn agents(&self) -> Visibility {
        match &self.scope {
            Scope::Project => Visibility::All,
            Scope::Agent { agent_id, .. } => Visibility::Only(agent_id.clone()),
            Scope::Workforce { .. } => Visibility::Nothing,
        }
    }

    /// The workforces this principal may read.
    pub(crate) fn workforces(&self) -> Visibility {
        match &self.scope {
            Scope::Project => Visibility::All,
            Scope::Workforce { workforce_id, .. } => Visibility::Only(workforce_id.clone()),
            Scope::Agent { .. } => Visibility::Nothing,
        }
    }

    /// The agent tasks this principal may read and continue.
    pub(crate) fn tasks(&self) -> TaskScope {
        match &self.scope {
            Scope::Project => TaskScope::Project,
            Scope::Agent {
                agent_id,
                task_prefix,
            } => TaskScope::Prefixed {
                agent_id: agent_id.clone(),
                task_prefix: task_prefix.clone(),
            },
            Scope::Workforce { .. } => TaskScope::Nothing,
        }
    }

    /// The workforce tasks this principal may read and continue.
    pub(crate) fn workforce_tasks(&self) -> WorkforceTaskScope {
        match &self.scope {
            Scope::Project => WorkforceTaskScope::Project,
            Scope::Workforce {
                workforce_id,
                task_prefix,
            } => WorkforceTaskScope::Prefixed {
                workforce_id: workforce_id.clone(),
                task_prefix: task_prefix.clone(),
            },
            Scope::Agent { .. } => WorkforceTaskScope::Nothing,
        }
    }

    /// The task prefix of an embed key; `None` for an API key.
    pub(crate) fn task_prefix(&self) -> Option<&str> {
        match &self.scope {
            Scope::Project => None,
            Scope::Agent { task_prefix, .. } | Scope::Workforce { task_prefix, .. } => {
                Some(task_prefix)
            }
        }
    }

    /// The task-id rule for a task the caller did not name: an API key gets a server-made
    /// id; an embed key must name its tasks (`field` is the body field it goes in).
    pub(crate) fn may_leave_task_unnamed(&self, field: &'static str) -> Result<(), TaskIdRefusal> {
        match self.task_prefix() {
            None => Ok(()),
            Some(prefix) => Err(TaskIdRefusal::MustName {
                field,
                prefix: prefix.to_string(),
            }),
        }
    }

    /// The task-id rule for a new task named `id`: any id for an API key, only
    /// `{task_prefix}_-_{uuid v4}` for an embed key (PROTOCOL A2, C).
    pub(crate) fn may_create_task(
        &self,
        field: &'static str,
        id: &str,
    ) -> Result<(), TaskIdRefusal> {
        match self.task_prefix() {
            Some(prefix) if !is_prefixed_uuid_v4(id, prefix) => {
                Err(TaskIdRefusal::NotPrefixedUuid {
                    field,
                    prefix: prefix.to_string(),
                })
            }
            _ => Ok(()),
        }
    }

    /// `api` or `embed`, as the request log shows it.
    pub(crate) fn kind(&self) -> KeyKind {
        match self.scope {
            Scope::Project => KeyKind::Api,
            Scope::Agent { .. } | Scope::Workforce { .. } => KeyKind::Embed,
        }
    }
}

/// The two halves of the header, borrowed from it; the secret is never printed.
struct Credentials<'a> {
    project: &'a str,
    secret: &'a str,
}

/// Splits the header at the first `:`, accepting an optional `Bearer ` in front. No header
/// or an empty one is the platform's 401 `authorization_header_missing`; a header that
/// cannot name a key is its 400 `User key ...` (PROTOCOL C).
fn parse_header(value: Option<&HeaderValue>) -> Result<Credentials<'_>, ApiError> {
    let missing = || {
        ApiError::header_missing(format!(
            "Authorization header cannot be missing or empty; {EXPECTED_SHAPE}"
        ))
    };
    let malformed = |problem: &str| {
        ApiError::unknown_key(format!(
            "malformed Authorization header: {problem}; {EXPECTED_SHAPE}"
        ))
    };
    let value = value.ok_or_else(missing)?;
    let text = std::str::from_utf8(value.as_bytes()).map_err(|_| malformed("not valid UTF-8"))?;
    let text = text.trim();
    let text = match text.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("bearer ") => text[7..].trim_start(),
        _ => text,
    };
    // A bare scheme (`Bearer `, whose space HTTP trims) carries no credentials either.
    if text.is_empty() || text.eq_ignore_ascii_case("bearer") {
        return Err(missing());
    }
    let (project, secret) = text
        .split_once(':')
        .ok_or_else(|| malformed("no ':' between project and key"))?;
    if project.is_empty() {
        return Err(malformed("the project before ':' is empty"));
    }
    if secret.is_empty() {
        return Err(malformed("the key after ':' is empty"));
    }
    Ok(Credentials { project, secret })
}

/// The header's (project, key), owned, for the property tests.
/// Why a caller may not create a task with (or without) an id; the text is the 400's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TaskIdRefusal {
    /// An embed key sent no id for a new task.
    MustName { field: &'static str, prefix: String },
    /// An embed key's new task id is not `{prefix}_-_{uuid v4}`. It is the answer whether
    /// or not a task with that id exists elsewhere, so it tells a key nothing about other
    /// scopes (PROTOCOL C).
    NotPrefixedUuid { field: &'static str, prefix: String },
}

impl std::fmt::Display for TaskIdRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TaskIdRefusal::MustName { field, prefix } => write!(
                f,
                "an embed key must send `{field}` for a new task, made as \
                 `{prefix}_-_{{uuid v4}}` from the key's task prefix"
            ),
            TaskIdRefusal::NotPrefixedUuid { field, prefix } => write!(
                f,
                "a new task's `{field}` must be `{prefix}_-_{{uuid v4}}`: it must start with this \
                 embed key's task prefix and `_-_`, then a UUID v4 such as \
                 `{prefix}_-_3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d`"
            ),
        }
    }
}

/// Whether `id` is `{prefix}_-_{uuid v4}`, the only new task id an embed key may make.
pub(crate) fn is_prefixed_uuid_v4(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix("_-_"))
        .is_some_and(is_uuid_v4)
}

/// `xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx` in hex, either case.
fn is_uuid_v4(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(at, &b)| match at {
            8 | 13 | 18 | 23 => b == b'-',
            14 => b == b'4',
            19 => matches!(b.to_ascii_lowercase(), b'8' | b'9' | b'a' | b'b'),
            _ => b.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
pub(crate) fn parse_authorization_for_tests(
    value: Option<&HeaderValue>,
) -> Result<(String, String), ApiError> {
    parse_header(value).map(|credentials| {
        (
            credentials.project.to_string(),
            credentials.secret.to_string(),
        )
    })
}

/// Checks the credentials for a request under `route_region`.
///
/// A key seen before is answered from the store's key cache, with no database trip; an
/// unknown hash, a revoked key or a key presented with another project take the slow
/// path through SQLite, which also fills the cache and words every refusal. Usage is
/// counted in memory either way, and only for requests that get in.
async fn authenticate(
    state: &AppState,
    route_region: Region,
    project: String,
    secret_hash: String,
) -> Result<Principal, ApiError> {
    let cache = state.store().key_cache();
    if let Some(key) = cache.get(&secret_hash) {
        if !key.revoked && key.project == project && secrets_equal(&key.sha256, &secret_hash) {
            if key.project_region != route_region {
                return Err(wrong_region(&project, key.project_region, route_region));
            }
            let principal = principal_for(&key, project, route_region)?;
            cache.record_use(&principal.key_id, now_ms());
            return Ok(principal);
        }
    }

    let lookup_project = project.clone();
    let fill = Arc::clone(cache);
    let (project_region, key) = state
        .store()
        .call(move |connection| -> rusqlite::Result<_> {
            let Some(region) = definitions::project_region(connection, &lookup_project)? else {
                return Ok((None, None));
            };
            let key = keys::find_for_auth(connection, &secret_hash)?;
            // Filled under the store's lock, so a revocation cannot slip in between.
            if let Some(key) = &key {
                fill.remember(key.clone());
            }
            let key = key.filter(|key| {
                secrets_equal(&key.sha256, &secret_hash)
                    && key.project == lookup_project
                    && !key.revoked
            });
            Ok((Some(region), key))
        })
        .await?;

    let Some(project_region) = project_region else {
        return Err(ApiError::unknown_key(format!(
            "there is no project {} in region {route_region}; check the project id and the region",
            echo_id(&project)
        )));
    };
    if project_region != route_region {
        return Err(wrong_region(&project, project_region, route_region));
    }
    let key = key.ok_or_else(|| {
        ApiError::unknown_key(format!(
            "project {} in region {route_region} has no live key with this value (unknown or \
             revoked); check the key",
            echo_id(&project)
        ))
    })?;
    let principal = principal_for(&key, project, route_region)?;
    cache.record_use(&principal.key_id, now_ms());
    Ok(principal)
}

fn wrong_region(project: &str, project_region: Region, route_region: Region) -> ApiError {
    ApiError::unknown_key(format!(
        "project {} lives in region {project_region}, not {route_region}: use the project's region",
        echo_id(project)
    ))
}

/// The principal of a valid key, or 500 for an embed key row that names no single target.
fn principal_for(key: &AuthKey, project: String, region: Region) -> Result<Principal, ApiError> {
    let scope = match (key.kind, &key.agent_id, &key.workforce_id, &key.task_prefix) {
        (KeyKind::Api, _, _, _) => Scope::Project,
        (KeyKind::Embed, Some(agent_id), None, Some(task_prefix)) => Scope::Agent {
            agent_id: agent_id.clone(),
            task_prefix: task_prefix.clone(),
        },
        (KeyKind::Embed, None, Some(workforce_id), Some(task_prefix)) => Scope::Workforce {
            workforce_id: workforce_id.clone(),
            task_prefix: task_prefix.clone(),
        },
        (KeyKind::Embed, ..) => {
            tracing::error!(key_id = %key.id, "embed key row without exactly one target and a prefix");
            return Err(ApiError::internal(
                "the emulator's database holds an inconsistent embed key; see the emulator's log",
            ));
        }
    };
    Ok(Principal {
        key_id: key.id.clone(),
        project,
        region,
        scope,
    })
}

/// Authentication: the request's `Authorization` header, under the region its route
/// resolved, → the [`Principal`], or 401 naming what failed. The request log learns the
/// key's id and kind. Called only by the route guards in `policy`.
pub(crate) async fn authenticate_request(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    extensions: &axum::http::Extensions,
) -> Result<Principal, ApiError> {
    let route_region = extensions.get::<Region>().copied().ok_or_else(|| {
        tracing::error!("authenticated route without a region");
        ApiError::internal("route is missing its region; this is an emulator bug")
    })?;
    let (project, secret_hash) = {
        let credentials = parse_header(headers.get(AUTHORIZATION))?;
        (
            credentials.project.to_string(),
            hash_secret(credentials.secret),
        )
    };
    let principal = authenticate(state, route_region, project, secret_hash).await?;
    if let Some(slot) = extensions.get::<RequestLogSlot>() {
        slot.set(principal.key_id.clone(), principal.kind());
    }
    Ok(principal)
}

/// The caller, as the route's guard put it into the request; a handler of a route whose
/// policy authenticates nobody gets a 500 (an emulator bug, never a way in).
impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parts.extensions.get::<Principal>().cloned().ok_or_else(|| {
            tracing::error!(path = %parts.uri.path(), "handler wants a principal its route's policy does not provide");
            ApiError::internal("route has no key policy; this is an emulator bug")
        })
    }
}

/// The caller of a [`super::Policy::ProjectKeyIfSent`] route: the API key's principal, or
/// `None` when no `Authorization` header was sent.
#[derive(Debug, Clone)]
pub(crate) struct KeyIfSent(pub(crate) Option<Principal>);

impl<S: Send + Sync> FromRequestParts<S> for KeyIfSent {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Ok(KeyIfSent(parts.extensions.get::<Principal>().cloned()))
    }
}

/// A principal holding a project API key; an embed key gets 403 (PROTOCOL C). The
/// [`super::Policy::ProjectKey`] guard has refused embed keys already; this states it in
/// the handler's signature too.
#[derive(Debug, Clone)]
pub(crate) struct ProjectKey(pub(crate) Principal);

impl<S: Send + Sync> FromRequestParts<S> for ProjectKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let principal = Principal::from_request_parts(parts, state).await?;
        match principal.scope {
            Scope::Project => Ok(ProjectKey(principal)),
            Scope::Agent { .. } | Scope::Workforce { .. } => {
                Err(super::policy::embed_key_refused())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_shapes() {
        let cases: &[(&str, Option<(&str, &str)>)] = &[
            ("p:k", Some(("p", "k"))),
            ("Bearer p:k", Some(("p", "k"))),
            ("bearer p:k:with:colons", Some(("p", "k:with:colons"))),
            ("  p:k  ", Some(("p", "k"))),
            ("", None),
            ("Bearer ", None),
            ("nocolon", None),
            (":key", None),
            ("proj:", None),
        ];
        for (raw, expected) in cases {
            let value = HeaderValue::from_str(raw).expect("test header is valid");
            let parsed = parse_header(Some(&value))
                .ok()
                .map(|credentials| (credentials.project, credentials.secret));
            assert_eq!(parsed, *expected, "header {raw:?}");
        }
        assert!(parse_header(None).is_err());
        let non_utf8 = HeaderValue::from_bytes(b"p:\xff").expect("opaque bytes are allowed");
        assert!(parse_header(Some(&non_utf8)).is_err());
    }
}
