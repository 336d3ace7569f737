//! Webhooks: an agent's webhook trigger turns any JSON payload into a message of that agent
//! (the platform's "Webhook Triggers"), and a tool's webhook form runs the tool on a body
//! that is its params (`studios/{id}/trigger_webhook`).
//!
//! Neither needs a key: the agent's webhook URL is its own secret, and a public tool may
//! be run by anyone who knows the project, as public code calls it. Both are rate limited
//! per client address, apart from the embed-key allowance.
//!
//! An event is written in one transaction: its unique id (when the webhook maps one) is
//! recorded with the message, so a repeat is ignored exactly when the first one was
//! written; its thread id value (when mapped) names the task the next event of the same
//! thread continues.

use std::net::IpAddr;

use rusqlite::Connection;
use serde_json::Value;

use super::agent_tasks::{accept_in, started, NewMessage};
use super::tools::{self as tool_service, ToolServiceError};
use super::ServiceError;
use crate::auth::Principal;
use crate::engine::tool_runner::ToolOutcome;
use crate::engine::trigger::{InboundMessage, Streaming, TriggerOutcome};
use crate::engine::webhook_template::{FieldPath, MessageTemplate};
use crate::rate_limit::RateLimiter;
use crate::region::Region;
use crate::state::AppState;
use crate::store::webhooks::{self, WebhookRecord};
use crate::store::{definitions, tasks, CallerError, StoreError};
use crate::time::now_ms;

/// One request to an agent's webhook URL, parsed.
#[derive(Debug)]
pub(crate) struct WebhookEvent {
    pub(crate) region: Region,
    pub(crate) project: String,
    pub(crate) trigger_id: String,
    pub(crate) payload: Value,
    pub(crate) client: IpAddr,
}

/// What became of an event.
#[derive(Debug)]
pub(crate) enum Delivery {
    /// The message was written and its run started.
    Accepted {
        outcome: TriggerOutcome,
        /// The template's fields the payload had no value for (rendered as nothing).
        missing_fields: Vec<String>,
        /// The thread id value, when the webhook maps one and the payload has it.
        thread_id: Option<String>,
        /// The unique id value, when the webhook maps one and the payload has it.
        unique_id: Option<String>,
    },
    /// An event with this unique id was written before; nothing was written now.
    Duplicate {
        task_id: String,
        agent_id: String,
        unique_id: String,
    },
}

/// Why an event or a tool webhook was not taken.
#[derive(Debug)]
pub(crate) enum WebhookError {
    /// No webhook with this id in this project in this region (one answer for all three).
    NotFound,
    /// No key was sent and the project has no public tool of that id in this region.
    NotPublic { tool_id: String, project: String },
    /// This address sent too many requests; it may again after `retry_after_seconds`.
    RateLimited { retry_after_seconds: u64 },
    /// The template rendered no text for this payload; the fields it missed.
    EmptyMessage { missing_fields: Vec<String> },
    /// The stored template no longer parses (a database edited by hand).
    BrokenTemplate(String),
    /// Writing the message failed (the agent is gone, the database failed...).
    Service(ServiceError),
    /// Running the tool failed before it ran (no such tool, the database failed).
    Tool(ToolServiceError),
}

impl From<ServiceError> for WebhookError {
    fn from(error: ServiceError) -> WebhookError {
        WebhookError::Service(error)
    }
}

impl From<StoreError> for WebhookError {
    fn from(error: StoreError) -> WebhookError {
        WebhookError::Service(error.into())
    }
}

impl From<rusqlite::Error> for WebhookError {
    fn from(error: rusqlite::Error) -> WebhookError {
        WebhookError::Service(error.into())
    }
}

impl From<ToolServiceError> for WebhookError {
    fn from(error: ToolServiceError) -> WebhookError {
        WebhookError::Tool(error)
    }
}

impl CallerError for WebhookError {}

/// Takes one token of `limiter` for `client`, or says how long to wait.
fn check_rate(limiter: &RateLimiter, client: IpAddr) -> Result<(), WebhookError> {
    limiter
        .take(client)
        .map_err(|retry_after_seconds| WebhookError::RateLimited {
            retry_after_seconds,
        })
}

/// Delivers an event to its webhook's agent: renders the message, continues the thread's
/// task or starts one, and starts the run; a unique id seen before writes nothing.
pub(crate) async fn deliver(
    state: &AppState,
    event: WebhookEvent,
) -> Result<Delivery, WebhookError> {
    check_rate(state.webhook_rate_limiter(), event.client)?;
    let delivery = state
        .store()
        .call(move |connection| -> Result<Delivery, WebhookError> {
            let transaction = connection.transaction()?;
            let delivery = deliver_in(&transaction, event)?;
            transaction.commit()?;
            Ok(delivery)
        })
        .await?;
    Ok(match delivery {
        Delivery::Accepted {
            outcome,
            missing_fields,
            thread_id,
            unique_id,
        } => Delivery::Accepted {
            outcome: started(state, outcome),
            missing_fields,
            thread_id,
            unique_id,
        },
        duplicate => duplicate,
    })
}

/// [`deliver`]'s reads and writes, in the caller's transaction.
fn deliver_in(connection: &Connection, event: WebhookEvent) -> Result<Delivery, WebhookError> {
    if definitions::project_region(connection, &event.project)? != Some(event.region) {
        return Err(WebhookError::NotFound);
    }
    let webhook = webhooks::find(connection, &event.project, &event.trigger_id)?
        .ok_or(WebhookError::NotFound)?;
    let unique_id = mapped_value(webhook.unique_id_field.as_deref(), &event.payload)?;
    if let Some(unique_id) = unique_id.clone() {
        if let Some(task_id) = webhooks::seen_event(connection, &webhook, &unique_id)? {
            return Ok(Delivery::Duplicate {
                task_id,
                agent_id: webhook.agent_id,
                unique_id,
            });
        }
    }
    let template =
        MessageTemplate::parse(&webhook.message_template).map_err(WebhookError::BrokenTemplate)?;
    let rendered = template.render(&event.payload);
    if rendered.text.trim().is_empty() {
        return Err(WebhookError::EmptyMessage {
            missing_fields: rendered.missing_fields,
        });
    }
    let thread_id = mapped_value(webhook.thread_id_field.as_deref(), &event.payload)?;
    let principal = Principal::webhook(event.project.clone(), event.region);
    let new = NewMessage {
        agent_id: webhook.agent_id.clone(),
        conversation_id: thread_task(connection, &principal, &webhook, thread_id.as_deref())?,
        message: InboundMessage {
            text: rendered.text,
            ..InboundMessage::default()
        },
        streaming: Streaming::AgentSetting,
        external: None,
    };
    let outcome = accept_in(connection, &principal, new)?;
    if let Some(thread_id) = &thread_id {
        webhooks::set_thread_task(connection, &webhook, thread_id, &outcome.task_id)?;
    }
    if let Some(unique_id) = &unique_id {
        webhooks::record_event(connection, &webhook, unique_id, &outcome.task_id, now_ms())?;
    }
    Ok(Delivery::Accepted {
        outcome,
        missing_fields: rendered.missing_fields,
        thread_id,
        unique_id,
    })
}

/// The payload's value at a mapped field, as text; `None` without a mapping or a value.
fn mapped_value(field: Option<&str>, payload: &Value) -> Result<Option<String>, WebhookError> {
    let Some(field) = field else {
        return Ok(None);
    };
    let path = FieldPath::parse(field).map_err(WebhookError::BrokenTemplate)?;
    Ok(path.text_in(payload))
}

/// The task a thread id value went to before, while it still exists.
fn thread_task(
    connection: &Connection,
    principal: &Principal,
    webhook: &WebhookRecord,
    thread_id: Option<&str>,
) -> Result<Option<String>, WebhookError> {
    let Some(thread_id) = thread_id else {
        return Ok(None);
    };
    let Some(task_id) = webhooks::thread_task(connection, webhook, thread_id)? else {
        return Ok(None);
    };
    let task = tasks::find_task(connection, &webhook.project, &principal.tasks(), &task_id)?;
    Ok(task.map(|task| task.id))
}

/// Who runs a tool through its webhook form.
#[derive(Debug)]
pub(crate) enum ToolCaller {
    /// An API key (the guard refused embed keys).
    Key(Principal),
    /// No key: only a public tool of `project` runs.
    Anonymous {
        project: String,
        region: Region,
        client: IpAddr,
    },
}

/// Runs a tool on `params` as `trigger_limited` does, for a key or, without one, when the
/// tool is public.
pub(crate) async fn run_tool(
    state: &AppState,
    caller: ToolCaller,
    tool_id: &str,
    params: Value,
) -> Result<ToolOutcome, WebhookError> {
    let principal = match caller {
        ToolCaller::Key(principal) => principal,
        ToolCaller::Anonymous {
            project,
            region,
            client,
        } => {
            check_rate(state.webhook_rate_limiter(), client)?;
            anonymous_runner(state, project, region, tool_id).await?
        }
    };
    Ok(tool_service::run(state, &principal, tool_id, params).await?)
}

/// The principal an anonymous caller runs a public tool as; any other tool (private,
/// unknown, another region's project) is one and the same refusal.
async fn anonymous_runner(
    state: &AppState,
    project: String,
    region: Region,
    tool_id: &str,
) -> Result<Principal, WebhookError> {
    let not_public = || WebhookError::NotPublic {
        tool_id: tool_id.to_string(),
        project: project.clone(),
    };
    let lookup = project.clone();
    let in_region = state
        .store()
        .call(move |db| definitions::project_region(db, &lookup))
        .await?
        == Some(region);
    if !in_region {
        return Err(not_public());
    }
    let principal = Principal::webhook(project.clone(), region);
    match tool_service::get(state, &principal, tool_id).await {
        Ok(tool) if tool.document.get("public") == Some(&Value::Bool(true)) => Ok(principal),
        Ok(_) | Err(ToolServiceError::NotFound { .. }) => Err(not_public()),
        Err(error) => Err(error.into()),
    }
}

/// A webhook trigger as its agent's owner sees it: where to send events and how they
/// become messages. Only an API key's caller or the operator ever gets one: `url` holds the
/// trigger id, the URL's secret.
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
pub(crate) struct WebhookView {
    pub(crate) name: Option<String>,
    pub(crate) url: String,
    pub(crate) message_template: String,
    pub(crate) thread_id_field: Option<String>,
    pub(crate) unique_id_field: Option<String>,
}

impl std::fmt::Debug for WebhookView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookView")
            .field("name", &self.name)
            .field("message_template", &self.message_template)
            .finish_non_exhaustive()
    }
}

/// The webhook triggers of agent `agent_id` of the caller's project (404 for an agent the
/// caller cannot see).
pub(crate) async fn of_agent(
    state: &AppState,
    principal: &Principal,
    agent_id: &str,
) -> Result<Vec<WebhookView>, ServiceError> {
    let (project, agents, lookup) = (
        principal.project.clone(),
        principal.agents(),
        agent_id.to_string(),
    );
    let public_url = state.settings().public_url.clone();
    state
        .store()
        .call(move |connection| -> Result<_, ServiceError> {
            if definitions::find_agent(connection, &project, &agents, &lookup)?.is_none() {
                return Err(ServiceError::AgentNotFound {
                    agent_id: lookup,
                    project,
                });
            }
            let region = definitions::project_region(connection, &project)?;
            let webhooks = webhooks::for_agent(connection, &project, &lookup)?;
            Ok(webhooks
                .into_iter()
                .map(|webhook| view(&public_url, region, webhook))
                .collect())
        })
        .await
}

fn view(public_url: &str, region: Option<Region>, webhook: WebhookRecord) -> WebhookView {
    let region = region
        .map(|region| region.code().to_string())
        .unwrap_or_default();
    WebhookView {
        url: format!(
            "{public_url}/{region}/latest/agents/hooks/custom-trigger/{}/{}",
            webhook.project, webhook.id
        ),
        name: webhook.name,
        message_template: webhook.message_template,
        thread_id_field: webhook.thread_id_field,
        unique_id_field: webhook.unique_id_field,
    }
}
