//! Sending a message to an agent or a workforce: one [`MessageBuilder`]
//! for both.
//!
//! What is the same for both owners lives here: the id rule for a new task
//!, uploading attachments first, the activity signal that
//! wakes the task's event streams, `streaming(bool)`. What differs (paths,
//! bodies, answers) is `TaskOwner::trigger` in `task::owner`.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::attachment::Attachment;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::key::Key;
use crate::task::owner::PreparedMessage;
use crate::task::{Task, TaskOwner, TaskRef};
use crate::trigger_settings::ExternalIdBehaviour;
use crate::trigger_settings::TriggerSettings;

/// A message on its way to an agent or a workforce; made by
/// [`Agent::message`](crate::Agent::message) or
/// [`Workforce::message`](crate::Workforce::message).
#[must_use = "a message is only sent by .send().await"]
pub struct MessageBuilder<'a> {
    client: &'a Client,
    owner: TaskOwner,
    /// An agent's whole config as read (for `agent_override`).
    agent_config: Option<Arc<Map<String, Value>>>,
    pub(crate) text: String,
    pub(crate) attachments: Vec<Attachment>,
    pub(crate) task_id: Option<String>,
    streaming: bool,
    settings: TriggerSettings,
}

/// Shows where the message goes and what it carries, not the agent's whole
/// configuration.
impl std::fmt::Debug for MessageBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageBuilder")
            .field("owner", &self.owner)
            .field("text", &self.text)
            .field("attachments", &self.attachments)
            .field("task_id", &self.task_id)
            .field("streaming", &self.streaming)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<'a> MessageBuilder<'a> {
    /// A message to `owner`, sent with `client`.
    pub(crate) fn new(
        client: &'a Client,
        owner: TaskOwner,
        agent_config: Option<Arc<Map<String, Value>>>,
        text: String,
    ) -> Self {
        MessageBuilder {
            client,
            owner,
            agent_config,
            text,
            attachments: Vec::new(),
            task_id: None,
            streaming: true,
            settings: TriggerSettings::default(),
        }
    }

    /// Sets the agent's variable `name` for this run and the task's later ones (the
    /// trigger's `params`, kept on the task). Agents only: a workforce message with params
    /// is refused before any request.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.settings
            .params
            .get_or_insert_with(Map::new)
            .insert(name.into(), value.into());
        self
    }

    /// Sets all the agent's variables at once (replacing any [`param`](Self::param)).
    pub fn params(mut self, params: Map<String, Value>) -> Self {
        self.settings.params = Some(params);
        self
    }

    /// The conversation's id in your own system: the platform never makes a second
    /// conversation for the same id. Without [`in_task`](Self::in_task), a conversation
    /// with this id is continued (or, with [`ExternalIdBehaviour::Nothing`], answered as it
    /// is), else a new one is started. This also makes the send safe to retry: after an
    /// ambiguous failure (a timeout, a 5xx) the SDK sends it again with `nothing`, which
    /// answers the conversation the first send made without writing the message twice.
    /// Agents only.
    pub fn external_id(mut self, id: impl Into<String>, behaviour: ExternalIdBehaviour) -> Self {
        self.settings.external_id = Some((id.into(), behaviour));
        self
    }

    /// Which version of the agent runs: `"active"`, `"draft"` or a version id. Agents only.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.settings.version = Some(version.into());
        self
    }

    /// Whether the run streams its thinking and typing live (default on).
    ///
    /// For an agent with an API key, streaming is asked for the way the
    /// platform's own client does: the trigger carries `agent_override`, the
    /// agent's configuration as read plus `"use_streaming": true`. `false`
    /// sends no override, so the run streams only if the agent's own setting
    /// says so. Embed keys may not send an override at all: their runs stream
    /// when the agent's own setting says so, whatever this is. For a
    /// workforce this is the trigger's `use_streaming`.
    pub fn streaming(mut self, streaming: bool) -> Self {
        self.streaming = streaming;
        self
    }

    /// Adds a file. Bytes are uploaded when the message is sent. (The
    /// platform documents no attachments for workforce tasks; a workforce
    /// trigger carries them in `trigger.message.attachments`.)
    pub fn attach(mut self, attachment: Attachment) -> Self {
        self.attachments.push(attachment);
        self
    }

    /// Continues this task instead of starting a new one.
    pub fn in_task<'t>(mut self, task: impl Into<TaskRef<'t>>) -> Self {
        self.task_id = Some(task.into().id().to_string());
        self
    }

    /// Uploads the attachments that are bytes, then triggers the agent or
    /// workforce and returns the task at once, without waiting for the reply.
    ///
    /// A new task started with an embed key gets a client-made id
    /// `{task prefix}_-_{uuid v4}`, as the platform requires.
    pub async fn send(self) -> Result<Task> {
        let client = self.client;
        if let (TaskOwner::Workforce(_), Some(operation)) =
            (&self.owner, self.settings.first_given())
        {
            return Err(Error::AgentTaskOnly { operation });
        }
        let mut files = Vec::with_capacity(self.attachments.len());
        for attachment in self.attachments {
            files.push(attachment.resolve(client).await?);
        }
        let new_task = self.task_id.is_none();
        let task_id = task_id_to_send(client.key(), self.task_id);
        let agent_config = self
            .agent_config
            .as_deref()
            .filter(|_| !client.is_embed_key());
        let prepared = PreparedMessage {
            text: &self.text,
            files: &files,
            task_id: task_id.as_deref(),
            new_task,
            streaming: self.streaming,
            agent_config,
            settings: &self.settings,
        };
        let task = self.owner.trigger(client, prepared).await?;
        client.note_sent(&task.id);
        Ok(task)
    }
}

/// The id a trigger sends for its task: the one continued, a fresh prefixed
/// id for a new task of an embed key (the platform refuses an embed key's
/// new task without one), or none (the platform makes one for API keys).
/// Agents and workforces follow the same rule.
pub(crate) fn task_id_to_send(key: &Key, continued: Option<String>) -> Option<String> {
    continued.or_else(|| {
        key.task_prefix()
            .filter(|_| key.is_embed())
            .map(new_task_id)
    })
}

/// `{task_prefix}_-_{uuid v4}`.
fn new_task_id(task_prefix: &str) -> String {
    format!("{task_prefix}_-_{}", uuid::Uuid::new_v4())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::EmbedTarget;
    use crate::region::Region;

    #[test]
    fn which_task_id_is_sent() {
        let api = Key::new("sk-1", Region::US, "p").unwrap();
        let embed = Key::embed(
            "ek-1",
            Region::US,
            "p",
            EmbedTarget::Agent("a1".into()),
            "pre9",
        )
        .unwrap();
        assert_eq!(task_id_to_send(&api, None), None);
        assert_eq!(
            task_id_to_send(&api, Some("t1".into())).as_deref(),
            Some("t1")
        );
        assert_eq!(
            task_id_to_send(&embed, Some("pre9_-_old".into())).as_deref(),
            Some("pre9_-_old")
        );
        let first = task_id_to_send(&embed, None).unwrap();
        let second = task_id_to_send(&embed, None).unwrap();
        assert_ne!(first, second, "each new task gets a fresh id");
        for id in [first, second] {
            let uuid = id.strip_prefix("pre9_-_").expect("prefixed");
            let parsed = uuid::Uuid::parse_str(uuid).unwrap();
            assert_eq!(parsed.get_version_num(), 4, "{id}");
            assert_eq!(uuid, parsed.hyphenated().to_string(), "{id}");
        }
    }
}
