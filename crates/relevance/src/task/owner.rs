//! Everything that differs between an agent's task and a workforce's task,
//! in one place: which paths to read, how the answers become a [`Task`],
//! which state vocabulary applies, what a trigger sends.
//!
//! [`Task`], the message builder and the event stream call these methods
//! on [`TaskOwner`] and never match on the owner themselves.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::{cursor_time, messages_at_or_after, Task, TaskData, TaskOwner, TaskStatus};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::events::sse::StreamingToken;
use crate::http::Request;
use crate::job::JobRef;
use crate::message::{AttachedFile, Message, MessageContent};
use crate::retry::RetryPolicy;
use crate::trigger_settings::{ExternalIdBehaviour, TriggerSettings};
use crate::wire::messages::{decode_all, UserMessageBody};
use crate::wire::tasks::{MetadataAnswer, ViewBody, STREAMING_TOKEN_QUERY};
use crate::wire::{agents, string, tasks, timestamp, workforces, Results};

/// From which message on to read.
#[derive(Clone, Copy, Debug)]
pub(crate) enum MessageCursor<'a> {
    /// Messages inserted at or after this time.
    Time(DateTime<Utc>),
    /// At or after a message's verbatim `insert_date_` (a `view` cursor).
    Verbatim(&'a str),
}

/// A message on its way to a task owner, its attachments already uploaded.
#[derive(Debug)]
pub(crate) struct PreparedMessage<'a> {
    pub(crate) text: &'a str,
    pub(crate) files: &'a [AttachedFile],
    /// The task id to send: the one continued, or a new client-made id.
    pub(crate) task_id: Option<&'a str>,
    /// Whether `task_id` is a new task's client-made id (the create is then
    /// retried with an existence check).
    pub(crate) new_task: bool,
    pub(crate) streaming: bool,
    /// An agent's whole config as read, sent back as `agent_override` to turn
    /// streaming on (API keys only; `None` sends no override).
    pub(crate) agent_config: Option<&'a Map<String, Value>>,
    /// `params`, `external_id`, `version` (agents only; checked by the builder).
    pub(crate) settings: &'a TriggerSettings,
}

impl TaskOwner {
    /// A task and its live-stream token (`GET .../metadata?include_streaming_token=true`),
    /// under `policy` when given, else the client's.
    pub(crate) async fn read_task(
        &self,
        client: &Client,
        policy: Option<RetryPolicy>,
        task_id: &str,
    ) -> Result<(Task, Option<StreamingToken>)> {
        let (name, value) = STREAMING_TOKEN_QUERY;
        let query = vec![(name, value.to_string())];
        match self {
            TaskOwner::Agent(agent_id) => {
                let request = Request::get(tasks::metadata_path(agent_id, task_id))
                    .query(query)
                    .answer("task metadata answer")
                    .policy(policy);
                let answer: MetadataAnswer<tasks::TaskMeta> = client.send(request).await?;
                let token = StreamingToken::from_value(&answer.streaming_token);
                Ok((agent_task(answer.metadata, client, agent_id), token))
            }
            TaskOwner::Workforce(workforce_id) => {
                let request = Request::get(workforces::metadata_path(task_id))
                    .query(query)
                    .answer("workforce task metadata answer")
                    .policy(policy);
                let answer: MetadataAnswer<workforces::WorkforceTaskMeta> =
                    client.send(request).await?;
                let token = StreamingToken::from_value(&answer.streaming_token);
                let task = workforce_task(answer.metadata, client, workforce_id, task_id);
                Ok((task, token))
            }
        }
    }

    /// A task's messages, oldest first, from `after` on (inclusive).
    ///
    /// An agent's server filters (`view` with a cursor, newest first, turned
    /// around here). The workforce API has no cursor, so every message is
    /// read and filtered here; a message whose `insert_date_` cannot be
    /// parsed is kept. A verbatim cursor that is not a time is
    /// [`Error::InvalidTimestamp`] for a workforce, before any request.
    pub(crate) async fn read_messages(
        &self,
        client: &Client,
        policy: Option<RetryPolicy>,
        task_id: &str,
        after: Option<MessageCursor<'_>>,
    ) -> Result<Vec<Message>> {
        match self {
            TaskOwner::Agent(agent_id) => {
                let cursor = match after {
                    None => None,
                    Some(MessageCursor::Time(time)) => Some(cursor_time(time)),
                    Some(MessageCursor::Verbatim(text)) => Some(text.to_string()),
                };
                let request = Request::read_post(tasks::view_path(agent_id, task_id))
                    .json(&ViewBody::after(cursor.as_deref()))
                    .answer("task view answer")
                    .policy(policy);
                let answer: Results<Value> = client.send(request).await?;
                let mut messages = decode_all(answer.results)?;
                messages.reverse();
                Ok(messages)
            }
            TaskOwner::Workforce(workforce_id) => {
                let since = match after {
                    None => None,
                    Some(MessageCursor::Time(time)) => Some(time),
                    Some(MessageCursor::Verbatim(text)) => {
                        Some(timestamp(&Value::from(text)).ok_or_else(|| {
                            Error::InvalidTimestamp {
                                value: text.to_string(),
                            }
                        })?)
                    }
                };
                let body = workforces::MessagesBody {
                    page_size: workforces::MESSAGES_PAGE_SIZE,
                };
                let request = Request::read_post(workforces::messages_path(workforce_id, task_id))
                    .json(&body)
                    .answer("workforce task messages answer")
                    .policy(policy);
                let answer: Results<Value> = client.send(request).await?;
                let messages = decode_all(answer.results)?;
                Ok(match since {
                    Some(time) => messages_at_or_after(messages, time),
                    None => messages,
                })
            }
        }
    }

    /// Sends a message (`POST agents/trigger` or `workforce/trigger`) and
    /// returns the task as the trigger left it.
    ///
    /// A trigger that makes a new task under a client-made id is safe to
    /// retry: after an ambiguous failure the task is looked for, and if it is
    /// there the trigger went through. Any other trigger is a plain create,
    /// never retried blindly.
    pub(crate) async fn trigger(
        &self,
        client: &Client,
        prepared: PreparedMessage<'_>,
    ) -> Result<Task> {
        let mut request = self.trigger_request(&prepared, None);
        let new_task_id = prepared.task_id.filter(|_| prepared.new_task);
        // A new conversation under the caller's external id: sending it again with
        // `nothing` answers the conversation the first send made, or makes it.
        let by_external_id =
            prepared.new_task && new_task_id.is_none() && prepared.settings.external_id.is_some();
        if new_task_id.is_some() || by_external_id {
            request = request.with_client_id();
        }
        let prepared = &prepared;
        let exists = || async move {
            if by_external_id {
                return self.trigger_again_changing_nothing(client, prepared).await;
            }
            let Some(task_id) = new_task_id else {
                return Ok(None);
            };
            match self.read_task(client, None, task_id).await {
                Ok((task, _token)) => Ok(Some(self.as_just_triggered(task))),
                Err(Error::NotFound { .. }) => Ok(None),
                Err(error) => Err(error),
            }
        };
        let transport = client.transport();
        let mut task = match self {
            TaskOwner::Agent(agent_id) => {
                let into =
                    |answer: agents::TriggerAnswer| agent_trigger_task(answer, client, agent_id);
                transport.send_or_find(request, into, Some(exists)).await
            }
            TaskOwner::Workforce(workforce_id) => {
                let into = |answer: workforces::TriggerAnswer| {
                    workforce_trigger_task(answer.workforce_task_id, client, workforce_id)
                };
                transport.send_or_find(request, into, Some(exists)).await
            }
        }?;
        task.new_from_trigger = prepared.new_task;
        Ok(task)
    }

    /// Whether a trigger under an `external_id` went through, after an ambiguous failure
    /// (PROTOCOL A17): the same trigger is sent once with `external_id_behaviour:
    /// "nothing"`, which writes nothing to a conversation that has the id and is the
    /// trigger itself when none has. The conversation it answers has this message as its
    /// newest user message exactly when one of the two sends wrote it; otherwise (an
    /// existing conversation the first send never reached) `None` sends it again.
    async fn trigger_again_changing_nothing(
        &self,
        client: &Client,
        prepared: &PreparedMessage<'_>,
    ) -> Result<Option<Task>> {
        let TaskOwner::Agent(agent_id) = self else {
            return Ok(None);
        };
        let request = self
            .trigger_request(prepared, Some(ExternalIdBehaviour::Nothing))
            .policy(Some(RetryPolicy::none()));
        let answer: agents::TriggerAnswer = client.send(request).await?;
        let task = agent_trigger_task(answer, client, agent_id);
        let messages = self
            .read_messages(client, Some(RetryPolicy::none()), &task.id, None)
            .await?;
        let newest_user_text = messages
            .iter()
            .rev()
            .find_map(|message| match &message.content {
                MessageContent::User(user) => Some(user.text.as_str()),
                _ => None,
            });
        Ok((newest_user_text == Some(prepared.text)).then_some(task))
    }

    /// The trigger request: its path and body (PROTOCOL A5, A6, A17); `behaviour`
    /// replaces the external id's behaviour (the retry check).
    fn trigger_request(
        &self,
        prepared: &PreparedMessage<'_>,
        behaviour: Option<ExternalIdBehaviour>,
    ) -> Request {
        match self {
            TaskOwner::Agent(agent_id) => {
                let attachments = Some(prepared.files).filter(|files| !files.is_empty());
                let settings = prepared.settings;
                let external = settings.external_id.as_ref();
                let body = agents::TriggerBody {
                    agent_id,
                    agent_override: prepared
                        .agent_config
                        .filter(|_| prepared.streaming)
                        .map(agents::streaming_override),
                    conversation_id: prepared.task_id,
                    external_id: external.map(|(id, _)| id.as_str()),
                    external_id_behaviour: external
                        .map(|(_, given)| behaviour.unwrap_or(*given).as_str()),
                    message: UserMessageBody::new(prepared.text, attachments),
                    params: settings.params.as_ref(),
                    version: settings.version.as_deref(),
                };
                Request::create(agents::TRIGGER_PATH).json(&body)
            }
            TaskOwner::Workforce(workforce_id) => {
                let body = workforces::TriggerBody {
                    trigger: workforces::Trigger {
                        message: UserMessageBody::new(prepared.text, Some(prepared.files)),
                        use_streaming: prepared.streaming,
                    },
                    workforce_id,
                    workforce_task_id: prepared.task_id,
                };
                Request::create(workforces::TRIGGER_PATH).json(&body)
            }
        }
    }

    /// A task that was found after its trigger's answer was lost, as the
    /// trigger's answer would have shown it.
    fn as_just_triggered(&self, task: Task) -> Task {
        match self {
            TaskOwner::Agent(agent_id) => {
                let answer = agents::TriggerAnswer {
                    agent_id: task.agent_id().map(str::to_string),
                    state: Some(task.state.clone()),
                    conversation_id: task.data.id.clone(),
                    job_info: serde_json::Value::Null,
                };
                agent_trigger_task(answer, &task.client, agent_id)
            }
            TaskOwner::Workforce(workforce_id) => {
                workforce_trigger_task(task.data.id.clone(), &task.client, workforce_id)
            }
        }
    }
}

/// An agent task from its metadata. `agent_id` is the agent that was asked
/// about; the platform's `conversation.agent_id` wins when it sends one.
pub(crate) fn agent_task(meta: tasks::TaskMeta, client: &Client, agent_id: &str) -> Task {
    let text = |field: &str| {
        meta.conversation
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let state = text("state").unwrap_or_default();
    Task {
        client: client.clone(),
        job: None,
        data: TaskData {
            id: meta.knowledge_set.clone(),
            owner: TaskOwner::Agent(text("agent_id").unwrap_or_else(|| agent_id.to_string())),
            title: text("title").unwrap_or_default(),
            status: TaskStatus::from_state(&state),
            state,
            requested_state: None,
            created_at: timestamp(&meta.insert_date),
            updated_at: timestamp(&meta.update_date),
        },
        new_from_trigger: false,
    }
}

/// The task as an agent trigger left it: no title and no times yet. An
/// absent state is `Unknown("")` rather than an error, so the caller still
/// learns the id of the task that was created.
pub(crate) fn agent_trigger_task(
    answer: agents::TriggerAnswer,
    client: &Client,
    agent_id: &str,
) -> Task {
    let state = answer.state.unwrap_or_default();
    let job = JobRef::from_job_info(&answer.job_info);
    Task {
        client: client.clone(),
        job,
        data: TaskData {
            id: answer.conversation_id,
            owner: TaskOwner::Agent(answer.agent_id.unwrap_or_else(|| agent_id.to_string())),
            title: String::new(),
            status: TaskStatus::from_state(&state),
            state,
            requested_state: None,
            created_at: None,
            updated_at: None,
        },
        new_from_trigger: false,
    }
}

/// A workforce task from its metadata, which carries no id.
pub(crate) fn workforce_task(
    meta: workforces::WorkforceTaskMeta,
    client: &Client,
    workforce_id: &str,
    task_id: &str,
) -> Task {
    let state = string(meta.state).unwrap_or_default();
    Task {
        client: client.clone(),
        job: None,
        data: TaskData {
            id: task_id.to_string(),
            owner: TaskOwner::Workforce(workforce_id.to_string()),
            title: string(meta.title).unwrap_or_default(),
            status: TaskStatus::from_workforce_state(&state),
            state,
            requested_state: string(meta.requested_state),
            created_at: timestamp(&meta.insert_date),
            updated_at: timestamp(&meta.update_date),
        },
        new_from_trigger: false,
    }
}

/// The platform starts a workforce task at once and answers only its id, so
/// the task is `running` until it is refreshed.
pub(crate) fn workforce_trigger_task(task_id: String, client: &Client, workforce_id: &str) -> Task {
    Task {
        client: client.clone(),
        job: None,
        data: TaskData {
            id: task_id,
            owner: TaskOwner::Workforce(workforce_id.to_string()),
            title: String::new(),
            status: TaskStatus::Running,
            state: "running".to_string(),
            requested_state: None,
            created_at: None,
            updated_at: None,
        },
        new_from_trigger: false,
    }
}

/// An agent's conversation-list answer as tasks (the item's `knowledge_set`
/// is the task id).
pub(crate) fn agent_task_list(
    answer: tasks::ListAnswer,
    client: &Client,
    agent_id: &str,
) -> Vec<Task> {
    answer
        .results
        .into_iter()
        .map(|item| {
            let mut task = agent_task(item.metadata, client, agent_id);
            task.data.id = item.knowledge_set;
            task
        })
        .collect()
}
