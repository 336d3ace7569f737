//! Agent tasks: `agents/trigger`, task metadata, `agents/conversations/list`.
//!
//! Handlers parse the request, call `service::agent_tasks` and render the
//! answer; the service scopes every query and writes a trigger's message and
//! run in one transaction, so a refused trigger leaves no trace.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::filters;
use crate::auth::{IssuedToken, Principal};
use crate::engine::decision::{Decision, Verdict};
use crate::engine::trigger::{InboundMessage, Streaming, TriggerOutcome};
use crate::error::{echo_id, ApiError};
use crate::json::{ApiPath, ApiQuery, LenientJson};
use crate::service::agent_tasks::{
    self, ExternalBehaviour, ExternalId, NewMessage, Regenerate, Turn,
};
use crate::state::AppState;
use crate::store::tasks::TaskRecord;
use crate::time::now_ms;

/// `TaskMeta` (PROTOCOL A5 + A7b).
#[derive(Debug, Serialize)]
pub(crate) struct TaskMeta {
    #[serde(rename = "_id")]
    document_id: String,
    knowledge_set: String,
    project: String,
    insert_date: String,
    update_date: String,
    /// The caller's own id for the conversation (PROTOCOL A17), when a trigger gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    external_id: Option<String>,
    conversation: Conversation,
}

#[derive(Debug, Serialize)]
struct Conversation {
    created_by_user_id: String,
    state: String,
    title: String,
    agent_id: String,
    /// The last trigger's `params` (PROTOCOL A17).
    #[serde(skip_serializing_if = "Option::is_none")]
    params_from_previous_trigger: Option<Value>,
    /// The agent version the last trigger asked for (the emulator's own field: where the
    /// platform shows it is not published).
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
}

impl From<TaskRecord> for TaskMeta {
    fn from(task: TaskRecord) -> TaskMeta {
        TaskMeta {
            document_id: task.id.clone(),
            knowledge_set: task.id,
            project: task.project,
            insert_date: task.insert_date,
            update_date: task.update_date,
            external_id: task.external_id,
            conversation: Conversation {
                created_by_user_id: task.created_by_key_id,
                state: task.state,
                title: task.title,
                agent_id: task.agent_id,
                params_from_previous_trigger: task
                    .params
                    .as_deref()
                    .and_then(|params| serde_json::from_str(params).ok()),
                version: task.version,
            },
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct TriggerBody {
    agent_id: String,
    #[serde(default)]
    conversation_id: Option<String>,
    #[serde(default)]
    agent_override: Option<Value>,
    /// A rerun (PROTOCOL A11): the user message the task runs again from.
    #[serde(default)]
    edit_message_id: Option<String>,
    /// Absent for `action: "regenerate"` (PROTOCOL A17), required otherwise.
    #[serde(default)]
    message: Option<TriggerMessage>,
    /// `send` (the default) or `regenerate`.
    #[serde(default)]
    action: Option<String>,
    /// A regenerate's agent message to write again.
    #[serde(default)]
    regenerate_message_id: Option<String>,
    /// A regenerate of the task's first turn.
    #[serde(default)]
    use_first_message: Option<bool>,
    /// The agent's variables, kept on the task.
    #[serde(default)]
    params: Option<Value>,
    /// The conversation's id in the caller's own system.
    #[serde(default)]
    external_id: Option<String>,
    /// `extend-conversation` (the default) or `nothing`.
    #[serde(default)]
    external_id_behaviour: Option<String>,
    /// `active`, `draft` or a version id: recorded on the task.
    #[serde(default)]
    version: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TriggerMessage {
    /// `user` (or absent), `action-confirm` or `action-reject` (PROTOCOL A10).
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    content: Option<Value>,
    #[serde(default)]
    attachments: Option<Vec<Attachment>>,
    /// A decision's `action_details.action`.
    #[serde(default)]
    action: Option<String>,
    /// A decision's `action_details.action_request_id`.
    #[serde(default)]
    action_request_id: Option<String>,
    /// An `action-confirm`'s params that replace the run's own.
    #[serde(default)]
    action_params_override: Option<Value>,
}

#[derive(Debug, Deserialize, Serialize)]
struct Attachment {
    file_name: String,
    file_url: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct TriggerAnswer {
    conversation_id: String,
    agent_id: String,
    state: String,
    job_info: JobInfo,
}

#[derive(Debug, Serialize)]
struct JobInfo {
    job_id: String,
    studio_id: String,
    conversation_id: String,
}

/// Task ids travel unencoded in URL paths (the official clients paste them in), so only
/// RFC 3986 unreserved ASCII is allowed: anything else — `/`, `%`, `..`, zero-width or
/// full-width look-alikes — would make the path mean another route or another id. `field`
/// names the body field the id came in.
pub(crate) fn check_task_id(field: &str, id: &str) -> Result<(), ApiError> {
    const MAX_CHARS: usize = 256;
    if id.is_empty() || id.len() > MAX_CHARS {
        return Err(ApiError::bad_request(format!(
            "`{field}` must be 1 to {MAX_CHARS} characters"
        )));
    }
    let path_safe = id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'));
    if !path_safe || id.bytes().all(|b| b == b'.') {
        return Err(ApiError::bad_request(format!(
            "`{field}` may contain only ASCII letters, digits, '-', '_', '.' and '~', and may \
             not be made of dots only"
        )));
    }
    Ok(())
}

/// `POST agents/trigger`: a user message that creates or continues a task.
///
/// With an API key, a `conversation_id` this project does not know creates a task with
/// that id (the official client only sends ids it got back; embed-key clients must make
/// the id themselves as `{task_prefix}_-_{uuid}`). `agent_override` is refused (403) for
/// embed keys; for API keys only its `use_streaming` is honoured (PROTOCOL A8b): the run
/// streams when the override says `true`, and without an override when the agent's own
/// setting does. The rest of the override is ignored: emulated agents are scripted.
pub(crate) async fn trigger(
    principal: Principal,
    State(state): State<AppState>,
    LenientJson(body): LenientJson<TriggerBody>,
) -> Result<Json<TriggerAnswer>, ApiError> {
    if body.agent_override.is_some() && principal.task_prefix().is_some() {
        return Err(ApiError::forbidden(
            "`agent_override` needs a project API key; embed keys may not send it",
        ));
    }
    let streaming = override_streaming(body.agent_override.as_ref())?;
    if let Some(id) = &body.conversation_id {
        check_task_id("conversation_id", id)?;
    }
    let settings = TriggerSettings::of(&body)?;
    if body.action.as_deref() == Some("regenerate") {
        let outcome = regenerate(&state, &principal, body, settings, streaming).await?;
        return Ok(Json(TriggerAnswer::from(outcome)));
    }
    if let Some(action) = body.action.as_deref().filter(|action| *action != "send") {
        return Err(ApiError::bad_request(format!(
            "`action` must be \"send\" or \"regenerate\", not {}",
            echo_id(action)
        )));
    }
    let Some(message) = &body.message else {
        return Err(ApiError::bad_request(
            "`message` is required: {\"role\": \"user\", \"content\": \"...\"} or a decision \
             (or send `\"action\": \"regenerate\"` to answer a turn again)",
        ));
    };
    let outcome = match message.role.as_deref() {
        None | Some("user") => {
            accept_user_message(&state, &principal, body, settings, streaming).await?
        }
        Some("action-confirm" | "action-reject") => {
            let (task_id, decision) = decision_of(&body)?;
            agent_tasks::decide(&state, &principal, body.agent_id, task_id, decision).await?
        }
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "`message.role` must be \"user\", \"action-confirm\" or \"action-reject\", \
                 not {}",
                echo_id(other)
            )))
        }
    };
    Ok(Json(TriggerAnswer::from(outcome)))
}

impl From<TriggerOutcome> for TriggerAnswer {
    fn from(outcome: TriggerOutcome) -> TriggerAnswer {
        TriggerAnswer {
            conversation_id: outcome.task_id.clone(),
            state: outcome.state,
            job_info: JobInfo {
                job_id: outcome.job_id,
                studio_id: outcome.agent_id.clone(),
                conversation_id: outcome.task_id,
            },
            agent_id: outcome.agent_id,
        }
    }
}

/// What a trigger sets beside its message (PROTOCOL A17), checked.
struct TriggerSettings {
    params: Option<serde_json::Map<String, Value>>,
    version: Option<String>,
    external: Option<ExternalId>,
}

impl TriggerSettings {
    fn of(body: &TriggerBody) -> Result<TriggerSettings, ApiError> {
        let params =
            match &body.params {
                None | Some(Value::Null) => None,
                Some(Value::Object(params)) => Some(params.clone()),
                Some(_) => return Err(ApiError::bad_request(
                    "`params` must be an object of the agent's variables, e.g. {\"name\": \"Ada\"}",
                )),
            };
        let version = match body.version.as_deref().map(str::trim) {
            None => None,
            Some("") => {
                return Err(ApiError::bad_request(
                    "`version` must be \"active\", \"draft\" or a version id, not empty",
                ))
            }
            Some(version) => Some(version.to_string()),
        };
        Ok(TriggerSettings {
            params,
            version,
            external: external_id_of(body)?,
        })
    }
}

/// The trigger's `external_id` and what to do when a conversation already has it.
fn external_id_of(body: &TriggerBody) -> Result<Option<ExternalId>, ApiError> {
    const MAX_CHARS: usize = 256;
    let behaviour = match body.external_id_behaviour.as_deref() {
        None | Some("extend-conversation") => ExternalBehaviour::ExtendConversation,
        Some("nothing") => ExternalBehaviour::Nothing,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "`external_id_behaviour` must be \"extend-conversation\" or \"nothing\", not {}",
                echo_id(other)
            )))
        }
    };
    let Some(id) = &body.external_id else {
        return Ok(None);
    };
    if id.trim().is_empty() || id.chars().count() > MAX_CHARS {
        return Err(ApiError::bad_request(format!(
            "`external_id` must be 1 to {MAX_CHARS} characters"
        )));
    }
    Ok(Some(ExternalId {
        id: id.clone(),
        behaviour,
    }))
}

/// The task and the decision an `action-confirm` / `action-reject` trigger carries.
fn decision_of(body: &TriggerBody) -> Result<(String, Decision), ApiError> {
    let Some(task_id) = body.conversation_id.clone() else {
        return Err(ApiError::bad_request(
            "a decision (`message.role` action-confirm or action-reject) needs the \
             `conversation_id` of the task whose tool run waits",
        ));
    };
    let Some(message) = &body.message else {
        return Err(ApiError::bad_request("a decision needs its `message`"));
    };
    let Some(action_request_id) = message
        .action_request_id
        .clone()
        .filter(|id| !id.is_empty())
    else {
        return Err(ApiError::bad_request(
            "`message.action_request_id` must name the waiting tool run \
             (its `action_details.action_request_id`)",
        ));
    };
    let verdict = if message.role.as_deref() == Some("action-reject") {
        Verdict::Reject
    } else {
        match &message.action_params_override {
            None | Some(Value::Null) => Verdict::Confirm {
                params_override: Default::default(),
            },
            Some(Value::Object(fields)) => Verdict::Confirm {
                params_override: fields.clone(),
            },
            Some(_) => {
                return Err(ApiError::bad_request(
                    "`message.action_params_override` must be an object of params, e.g. {}",
                ))
            }
        }
    };
    Ok((
        task_id,
        Decision {
            verdict,
            action: message.action.clone(),
            action_request_id,
        },
    ))
}

/// A `user` message: a new task, a message to a task, or a rerun from an edited message.
async fn accept_user_message(
    state: &AppState,
    principal: &Principal,
    body: TriggerBody,
    settings: TriggerSettings,
    streaming: Streaming,
) -> Result<TriggerOutcome, ApiError> {
    let Some(sent) = &body.message else {
        return Err(ApiError::bad_request("`message` is required"));
    };
    let text = match &sent.content {
        Some(Value::String(text)) if !text.trim().is_empty() => text.clone(),
        _ => {
            return Err(ApiError::bad_request(
                "`message.content` must be a non-empty string",
            ))
        }
    };
    let attachments = match &sent.attachments {
        Some(list) => Some(
            serde_json::to_value(list)
                .map_err(|_| ApiError::bad_request("`message.attachments` could not be read"))?,
        ),
        None => None,
    };
    let message = InboundMessage {
        text,
        attachments,
        params: settings.params,
        version: settings.version,
    };
    let new = NewMessage {
        agent_id: body.agent_id,
        conversation_id: body.conversation_id.clone(),
        message,
        streaming,
        external: settings.external,
    };
    let Some(edit_message_id) = body.edit_message_id else {
        return Ok(agent_tasks::accept_message(state, principal, new).await?);
    };
    let Some(task_id) = body.conversation_id else {
        return Err(ApiError::bad_request(
            "a rerun (`edit_message_id`) needs the `conversation_id` of its task",
        ));
    };
    Ok(agent_tasks::rerun(state, principal, task_id, edit_message_id, new).await?)
}

/// `action: "regenerate"` (PROTOCOL A17): the turn of `regenerate_message_id` (an agent
/// message), or the first turn with `use_first_message`, is answered again.
async fn regenerate(
    state: &AppState,
    principal: &Principal,
    body: TriggerBody,
    settings: TriggerSettings,
    streaming: Streaming,
) -> Result<TriggerOutcome, ApiError> {
    let Some(task_id) = body.conversation_id else {
        return Err(ApiError::bad_request(
            "a regenerate needs the `conversation_id` of the task whose turn is answered again",
        ));
    };
    let turn =
        match (body.regenerate_message_id, body.use_first_message) {
            (Some(item_id), _) => Turn::OfAgentMessage(item_id),
            (None, Some(true)) => Turn::First,
            (None, _) => return Err(ApiError::bad_request(
                "a regenerate needs `regenerate_message_id` (the agent message to write again) \
                 or `use_first_message: true`",
            )),
        };
    let again = Regenerate {
        agent_id: body.agent_id,
        task_id,
        turn,
        params: settings.params,
        version: settings.version,
        streaming,
    };
    Ok(agent_tasks::regenerate(state, principal, again).await?)
}

/// What an `agent_override` says about streaming: nothing without one (the agent's own
/// setting decides); with one, its `use_streaming` (absent = off, as in an AgentConfig).
fn override_streaming(agent_override: Option<&Value>) -> Result<Streaming, ApiError> {
    let Some(agent_override) = agent_override else {
        return Ok(Streaming::AgentSetting);
    };
    let Value::Object(fields) = agent_override else {
        return Err(ApiError::bad_request(
            "`agent_override` must be an object: the agent's AgentConfig, e.g. with \
             \"use_streaming\": true",
        ));
    };
    match fields.get("use_streaming") {
        None | Some(Value::Null) => Ok(Streaming::Decided(false)),
        Some(Value::Bool(streams)) => Ok(Streaming::Decided(*streams)),
        Some(_) => Err(ApiError::bad_request(
            "`agent_override.use_streaming` must be true or false",
        )),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct TaskPath {
    pub(crate) agent_id: String,
    pub(crate) task_id: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct MetadataQuery {
    /// `true` (any case) adds a streaming token for this task to the answer.
    #[serde(default)]
    include_streaming_token: Option<String>,
}

impl MetadataQuery {
    pub(crate) fn wants_streaming_token(&self) -> bool {
        self.include_streaming_token
            .as_deref()
            .is_some_and(|value| value.eq_ignore_ascii_case("true"))
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct MetadataAnswer {
    pub(crate) metadata: TaskMeta,
    /// `{"token", "expiry_time_ms"}`, only when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) streaming_token: Option<IssuedToken>,
}

/// `GET agents/{agent_id}/tasks/{task_id}/metadata`.
pub(crate) async fn metadata(
    principal: Principal,
    State(state): State<AppState>,
    ApiPath(TaskPath { agent_id, task_id }): ApiPath<TaskPath>,
    ApiQuery(query): ApiQuery<MetadataQuery>,
) -> Result<Json<MetadataAnswer>, ApiError> {
    let task = agent_tasks::task(&state, &principal, agent_id, task_id).await?;
    let streaming_token = query
        .wants_streaming_token()
        .then(|| state.stream_tokens().issue(&principal, &task.id, now_ms()));
    Ok(Json(MetadataAnswer {
        metadata: task.into(),
        streaming_token,
    }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    filters: Option<String>,
    #[serde(default)]
    sort: Option<String>,
    #[serde(default)]
    page_size: Option<String>,
    #[serde(default)]
    page: Option<String>,
    #[serde(default)]
    query: Option<String>,
}

/// The filters the emulator honours; any other filter is ignored (PROTOCOL A7b).
#[derive(Debug, Default)]
struct Filters {
    agent_ids: Option<Vec<String>>,
    states: Option<Vec<String>>,
}

fn accepted_values(value: Option<Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|item| item.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(one)) => vec![one],
        _ => Vec::new(),
    }
}

fn parse_filters(text: Option<&str>) -> Result<Filters, ApiError> {
    let mut filters = Filters::default();
    for filter in filters::parse(text)? {
        if filter.condition.as_deref() != Some("==") {
            continue;
        }
        let values = accepted_values(filter.condition_value);
        let slot = match filter.field.as_str() {
            "conversation.agent_id" => &mut filters.agent_ids,
            "conversation.state" => &mut filters.states,
            _ => continue,
        };
        // Two filters on one field must both hold: keep the intersection.
        *slot = Some(match slot.take() {
            None => values,
            Some(previous) => previous
                .into_iter()
                .filter(|v| values.contains(v))
                .collect(),
        });
    }
    Ok(filters)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortField {
    Insert,
    Update,
}

fn parse_sort(text: Option<&str>) -> Result<(SortField, bool), ApiError> {
    let Some(text) = text else {
        return Ok((SortField::Insert, true));
    };
    let bad = |detail: String| {
        ApiError::bad_request(format!(
            "query parameter `sort` must be a JSON array like [{{\"insert_date\": \"asc\"}}] \
             (insert_date, update_date, insert_datetime or update_datetime; asc or desc): {detail}"
        ))
    };
    let list: Vec<serde_json::Map<String, Value>> =
        serde_json::from_str(text).map_err(|error| bad(error.to_string()))?;
    let Some((field, direction)) = list.iter().flat_map(|entry| entry.iter()).next() else {
        return Ok((SortField::Insert, true));
    };
    let field = match field.as_str() {
        "insert_date" | "insert_datetime" => SortField::Insert,
        "update_date" | "update_datetime" => SortField::Update,
        other => return Err(bad(format!("unknown sort field {}", echo_id(other)))),
    };
    let ascending = match direction.as_str() {
        Some("asc") => true,
        Some("desc") => false,
        _ => return Err(bad("the direction must be \"asc\" or \"desc\"".to_string())),
    };
    Ok((field, ascending))
}

fn parse_number(
    name: &str,
    value: Option<&str>,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, ApiError> {
    let Some(value) = value else {
        return Ok(default);
    };
    value
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|number| range.contains(number))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "query parameter `{name}` must be a whole number from {} to {}",
                range.start(),
                range.end()
            ))
        })
}

#[derive(Debug, Serialize)]
pub(crate) struct ListItem {
    knowledge_set: String,
    metadata: TaskMeta,
}

#[derive(Debug, Serialize)]
pub(crate) struct ListAnswer {
    results: Vec<ListItem>,
}

/// `GET agents/conversations/list`: the caller's visible tasks, filtered, sorted, paged.
///
/// An API key sees every task of its project; an agent embed key only its own prefixed
/// tasks; a workforce embed key none (an empty list).
pub(crate) async fn list(
    principal: Principal,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<ListAnswer>, ApiError> {
    let filters = parse_filters(query.filters.as_deref())?;
    let (sort_field, ascending) = parse_sort(query.sort.as_deref())?;
    // The Python client's `retrieve_task` (relevanceai 10.2.2) passes the agent id where
    // the page size goes (`list_tasks(self.agent_id)`), so the platform must take a
    // `page_size` that is not a number as absent; a number out of range is still 400.
    let page_size = query
        .page_size
        .as_deref()
        .filter(|size| size.trim().parse::<i64>().is_ok());
    let page_size = parse_number("page_size", page_size, 20, 1..=1000)?;
    let page = parse_number("page", query.page.as_deref(), 1, 1..=u32::MAX)?;
    let search = query.query.map(|text| text.to_lowercase());
    let mut found = agent_tasks::list_tasks(&state, &principal).await?;
    found.retain(|task| {
        filters
            .agent_ids
            .as_ref()
            .map_or(true, |ids| ids.contains(&task.agent_id))
            && filters
                .states
                .as_ref()
                .map_or(true, |states| states.contains(&task.state))
            && search.as_ref().map_or(true, |needle| {
                task.title.to_lowercase().contains(needle.as_str())
            })
    });
    found.sort_by(|left, right| {
        let order = match sort_field {
            SortField::Insert => left.insert_date.cmp(&right.insert_date),
            SortField::Update => left.update_date.cmp(&right.update_date),
        }
        .then_with(|| left.id.cmp(&right.id));
        if ascending {
            order
        } else {
            order.reverse()
        }
    });
    let size = usize::try_from(page_size).unwrap_or(20);
    let skip = usize::try_from(page - 1)
        .unwrap_or(usize::MAX)
        .saturating_mul(size);
    let results = found
        .into_iter()
        .skip(skip)
        .take(size)
        .map(|task| ListItem {
            knowledge_set: task.id.clone(),
            metadata: task.into(),
        })
        .collect();
    Ok(Json(ListAnswer { results }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::is_prefixed_uuid_v4;

    #[test]
    fn embed_task_ids_are_the_prefix_then_a_uuid_v4() {
        let uuid = "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
        assert!(is_prefixed_uuid_v4(&format!("pre_-_{uuid}"), "pre"));
        assert!(is_prefixed_uuid_v4(
            &format!("pre_-_{}", uuid.to_uppercase()),
            "pre"
        ));
        for id in [
            "pre_-_".to_string(),
            "pre_-_x".to_string(),
            format!("other_-_{uuid}"),
            format!("pre_-_{uuid}0"),
            "pre_-_3f2b1c4d-5e6f-1a7b-8c9d-0e1f2a3b4c5d".to_string(),
            "pre_-_3f2b1c4d-5e6f-4a7b-7c9d-0e1f2a3b4c5d".to_string(),
            "pre_-_3f2b1c4d05e6f-4a7b-8c9d-0e1f2a3b4c5d".to_string(),
            format!("pre-{uuid}"),
        ] {
            assert!(!is_prefixed_uuid_v4(&id, "pre"), "{id}");
        }
    }

    #[test]
    fn task_ids_are_unreserved_ascii_and_not_dots() {
        for ok in [
            "t-1",
            "a.b",
            "x_y~z",
            "...a",
            "00000000-0000-4000-8000-000000000001",
        ] {
            assert!(check_task_id("id", ok).is_ok(), "{ok}");
        }
        for bad in [
            ".",
            "..",
            "...",
            "a/b",
            "a%2e",
            "a\u{200b}b",
            "ｔａｓｋ",
            "a b",
            "",
            "é",
            "a:b",
        ] {
            assert!(check_task_id("id", bad).is_err(), "{bad:?}");
        }
    }
}

/// `agents/conversations/studios/list`'s query (PROTOCOL A18).
#[derive(Debug, Deserialize)]
pub(crate) struct ToolRunsQuery {
    agent_id: String,
    conversation_id: String,
    #[serde(default)]
    page_size: Option<String>,
}

/// `GET agents/conversations/studios/list?agent_id&conversation_id&page_size`: the task's
/// tool runs, newest first, `{"results": [...]}`; the task as `view` sees it.
pub(crate) async fn tool_runs(
    principal: Principal,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ToolRunsQuery>,
) -> Result<Json<Value>, ApiError> {
    let page_size = query
        .page_size
        .as_deref()
        .filter(|size| !size.trim().is_empty());
    let limit =
        usize::try_from(parse_number("page_size", page_size, 100, 1..=1000)?).unwrap_or(100);
    let runs = agent_tasks::tool_runs(
        &state,
        &principal,
        query.agent_id,
        query.conversation_id,
        limit,
    )
    .await?;
    Ok(Json(serde_json::json!({ "results": runs })))
}
