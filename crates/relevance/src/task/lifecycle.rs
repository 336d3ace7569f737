//! A task's life beyond single messages (PROTOCOL A11, A17): its trigger message,
//! a rerun (as it was, or with edited text), a turn regenerated, deleting it, and a message
//! scheduled for later. Agent tasks only; deleting and scheduling need a
//! project API key (an embed key gets [`Error::Forbidden`](crate::Error::Forbidden), A13).

use std::time::Duration;

use super::Task;
use crate::error::Result;
use crate::http::Request;
use crate::message::{Message, MessageContent};
use crate::wire::agents::{RegenerateBody, TRIGGER_PATH};
use crate::wire::messages::UserMessageBody;
use crate::wire::tasks::{self, DeleteBody, RerunBody, ScheduleAnswer, ScheduleBody};

/// How long one minute of a schedule lasts: the platform schedules in whole minutes.
const MINUTE: Duration = Duration::from_secs(60);

impl Task {
    /// The message that created the task: its first user message
    /// (`GET agents/{agent_id}/tasks/{task_id}/trigger_message`).
    pub async fn trigger_message(&self) -> Result<Message> {
        let agent_id = self.agent_for("trigger_message")?;
        let request = Request::get(tasks::trigger_message_path(agent_id, &self.id))
            .answer("trigger_message answer");
        let answer: tasks::TriggerMessageAnswer = self.client.send(request).await?;
        Message::from_value(answer.trigger_message)
    }

    /// Runs the task again from its trigger message, as it was: everything
    /// after that message is replaced by the new run.
    pub async fn rerun(&self) -> Result<()> {
        let first = self.trigger_message().await?;
        let text = match &first.content {
            MessageContent::User(user) => user.text.clone(),
            _ => String::new(),
        };
        self.rerun_from(&first.id, &text).await
    }

    /// Runs the task again from its trigger message with `text` instead of
    /// the original: the message is edited in place and everything after it
    /// is replaced by the new run.
    pub async fn rerun_with(&self, text: &str) -> Result<()> {
        let first = self.trigger_message().await?;
        self.rerun_from(&first.id, text).await
    }

    /// Runs the task again from its user message `message_id`, whose text
    /// becomes `text`; the messages after it are replaced by the new run (and
    /// gone from [`Task::messages`]). A `message_id` that names no user
    /// message of the task is [`Error::BadRequest`](crate::Error::BadRequest). The new run streams as
    /// the agent's own `use_streaming` says (no `agent_override` is sent).
    pub async fn rerun_from(&self, message_id: &str, text: &str) -> Result<()> {
        let agent_id = self.agent_for("rerun")?;
        let body = RerunBody {
            agent_id,
            conversation_id: &self.id,
            edit_message_id: message_id,
            message: UserMessageBody::new(text, None),
        };
        self.trigger_run(&body).await
    }

    /// Sends a trigger that starts a new run of this task (a rerun, a regenerate); this
    /// client's event streams of the task then poll fast again.
    async fn trigger_run(&self, body: &impl serde::Serialize) -> Result<()> {
        let request = Request::create(TRIGGER_PATH)
            .json(body)
            .answer("agents/trigger answer");
        self.client.send::<serde_json::Value>(request).await?;
        self.client.note_sent(&self.id);
        Ok(())
    }

    /// Has the agent answer the turn of its message `message_id` again
    /// (`action: "regenerate"`, PROTOCOL A17): that reply and everything after it are
    /// replaced by the new run. A `message_id` that names no agent message of the task
    /// is [`Error::BadRequest`](crate::Error::BadRequest).
    pub async fn regenerate(&self, message_id: &str) -> Result<()> {
        self.regenerate_turn(Some(message_id)).await
    }

    /// Has the agent answer the task's first turn again (`use_first_message`).
    pub async fn regenerate_first(&self) -> Result<()> {
        self.regenerate_turn(None).await
    }

    async fn regenerate_turn(&self, message_id: Option<&str>) -> Result<()> {
        let agent_id = self.agent_for("regenerate")?;
        let body = RegenerateBody {
            action: "regenerate",
            agent_id,
            conversation_id: &self.id,
            regenerate_message_id: message_id,
            use_first_message: message_id.is_none().then_some(true),
        };
        self.trigger_run(&body).await
    }

    /// Deletes the task and its messages (`knowledge/sets/delete`); reading
    /// it afterwards is [`Error::NotFound`](crate::Error::NotFound). Needs a project API key.
    pub async fn delete(&self) -> Result<()> {
        self.agent_for("delete")?;
        let request = Request::create(tasks::DELETE_PATH)
            .json(&DeleteBody {
                knowledge_set: [&self.id],
            })
            .answer("knowledge/sets/delete answer");
        self.client
            .send::<serde_json::Value>(request)
            .await
            .map(drop)
    }

    /// Sends `text` to the task `delay` from now
    /// (`scheduled_triggers_item/create`); answers the schedule's trigger id.
    /// The platform counts in whole minutes, so `delay` is rounded up to the
    /// next minute (zero sends it at once). Needs a project API key.
    pub async fn schedule_message(&self, text: &str, delay: Duration) -> Result<String> {
        let agent_id = self.agent_for("schedule_message")?;
        let minutes = minutes_rounded_up(delay);
        let request = Request::create(tasks::schedule_path(agent_id))
            .json(&ScheduleBody {
                conversation_id: &self.id,
                message: text,
                minutes_until_schedule: minutes,
            })
            .answer("scheduled_triggers_item/create answer");
        let answer: ScheduleAnswer = self.client.send(request).await?;
        Ok(answer.trigger_id)
    }
}

/// Whole minutes, rounded up: a delay is never shortened.
fn minutes_rounded_up(delay: Duration) -> u64 {
    let whole = delay.as_secs() / MINUTE.as_secs();
    let rest =
        delay.saturating_sub(MINUTE.saturating_mul(u32::try_from(whole).unwrap_or(u32::MAX)));
    whole + u64::from(!rest.is_zero())
}

#[cfg(test)]
mod tests {
    #[test]
    fn delays_round_up_to_whole_minutes() {
        use std::time::Duration;
        for (delay, minutes) in [
            (Duration::ZERO, 0),
            (Duration::from_millis(1), 1),
            (Duration::from_secs(60), 1),
            (Duration::from_secs(61), 2),
            (Duration::from_secs(300), 5),
        ] {
            assert_eq!(super::minutes_rounded_up(delay), minutes, "{delay:?}");
        }
    }
}
