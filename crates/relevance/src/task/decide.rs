//! A person decides about a tool run that waits (PROTOCOL A10): approve it,
//! approve it with other params, or reject it. A decision is a trigger on the
//! same task whose `message` has the role `action-confirm` or `action-reject`.
//!
//! What can be known before sending is checked here, so a wrong call is a
//! typed error and no request: the run must wait now
//! ([`ToolRun::needs_approval`]), the task must be an agent task, and an
//! embed key decides only in its own prefixed tasks. The server's 400 for a
//! run that no longer waits (decided meanwhile) becomes the same
//! [`Error::RunNotWaiting`].

use serde_json::{Map, Value};

use super::{Task, TaskOwner};
use crate::error::{Error, Result};
use crate::http::Request;
use crate::job::JobRef;
use crate::message::{ToolRun, ToolStatus};
use crate::wire::agents::TRIGGER_PATH;
use crate::wire::messages::{DecisionBody, DecisionMessageBody};

impl ToolRun {
    /// Whether the run waits for a person's decision now (PROTOCOL A10): it
    /// needs confirmation, is still `pending`, has its `action_details` (the
    /// ids a decision names) and nobody decided yet. Only such a run can be
    /// approved or rejected.
    pub fn needs_approval(&self) -> bool {
        self.requires_confirmation
            && self.status == ToolStatus::Pending
            && self.confirmation.is_none()
            && self.action_details.is_some()
    }
}

/// What a person decided.
enum Verdict<'a> {
    Confirm(&'a Map<String, Value>),
    Reject,
}

impl Task {
    /// Approves a waiting tool run: the tool runs with the params it was
    /// given, and the agent goes on. The outcome arrives as that run's next
    /// message (`running`, then `finished` or `error`).
    ///
    /// [`Error::RunNotWaiting`] when the run does not wait (checked before
    /// sending, and the server's 400 when it was decided meanwhile);
    /// [`Error::NotOwnTask`] for an embed key in another prefix's task;
    /// [`Error::AgentTaskOnly`] for a workforce task (decide in the member's
    /// agent task, which holds the run).
    pub async fn approve(&self, run: &ToolRun) -> Result<()> {
        self.decide(run, Verdict::Confirm(&Map::new()))
            .await
            .map(drop)
    }

    /// Approves a waiting tool run with `params` replacing the params of the
    /// same names (`action_params_override`); the others stay as the agent
    /// set them. Errors as [`Task::approve`].
    pub async fn approve_with(&self, run: &ToolRun, params: Map<String, Value>) -> Result<()> {
        self.decide(run, Verdict::Confirm(&params)).await.map(drop)
    }

    /// Rejects a waiting tool run: it is `cancelled`, never runs, and the
    /// agent goes on without it. Errors as [`Task::approve`].
    pub async fn reject(&self, run: &ToolRun) -> Result<()> {
        self.decide(run, Verdict::Reject).await.map(drop)
    }

    /// Approves a waiting tool run as [`Task::approve_with`] does (`params` empty for
    /// none), and answers this task as a handle that follows the run the decision resumes:
    /// [`Task::wait_for_reply`] waits for that run's reply. For callers that wait for the
    /// reply rather than watch the task's events.
    pub async fn approve_and_follow(
        &self,
        run: &ToolRun,
        params: Map<String, Value>,
    ) -> Result<Task> {
        self.decide(run, Verdict::Confirm(&params)).await
    }

    /// Rejects a waiting tool run as [`Task::reject`] does, and answers the handle that
    /// follows the run going on without it (as [`Task::approve_and_follow`]).
    pub async fn reject_and_follow(&self, run: &ToolRun) -> Result<Task> {
        self.decide(run, Verdict::Reject).await
    }

    /// Sends the decision; answers this task as a handle on the job the decision's trigger
    /// answer names (`job_info`, PROTOCOL A15), if it names one.
    async fn decide(&self, run: &ToolRun, verdict: Verdict<'_>) -> Result<Task> {
        let agent_id = self.agent_for("approve or reject")?;
        let details = match &run.action_details {
            Some(details) if run.needs_approval() => details,
            _ => {
                return Err(Error::RunNotWaiting {
                    action_request_id: run
                        .action_details
                        .as_ref()
                        .map(|details| details.action_request_id.clone())
                        .unwrap_or_default(),
                    message: None,
                })
            }
        };
        let (role, action_params_override) = match verdict {
            Verdict::Confirm(params) => ("action-confirm", Some(params)),
            Verdict::Reject => ("action-reject", None),
        };
        let body = DecisionBody {
            agent_id,
            conversation_id: &self.id,
            message: DecisionMessageBody {
                role,
                action: &details.action,
                action_request_id: &details.action_request_id,
                action_params_override,
            },
        };
        let request = Request::create(TRIGGER_PATH)
            .json(&body)
            .answer("agents/trigger answer");
        match self.client.send::<Value>(request).await {
            Ok(answer) => {
                // The run goes on: this client's event streams of the task poll fast again.
                self.client.note_sent(&self.id);
                let mut followed = self.clone();
                followed.job = JobRef::from_job_info(&answer["job_info"]);
                followed.new_from_trigger = false;
                Ok(followed)
            }
            Err(Error::BadRequest { message, .. }) => Err(Error::RunNotWaiting {
                action_request_id: details.action_request_id.clone(),
                message,
            }),
            Err(other) => Err(other),
        }
    }

    /// The agent of an agent task the client's key may act in: an embed key
    /// only in tasks with its own prefix (`{prefix}_-_...`, PROTOCOL A2).
    pub(crate) fn agent_for(&self, operation: &'static str) -> Result<&str> {
        let TaskOwner::Agent(agent_id) = &self.owner else {
            return Err(Error::AgentTaskOnly { operation });
        };
        if let Some(prefix) = self.client.key().task_prefix() {
            if !self.id.starts_with(&format!("{prefix}_-_")) {
                return Err(Error::NotOwnTask {
                    task_id: self.id.clone(),
                });
            }
        }
        Ok(agent_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Client;
    use crate::key::Key;
    use crate::region::Region;
    use crate::task::{TaskData, TaskStatus};

    fn task(key: Key, owner: TaskOwner, id: &str) -> Task {
        // Port 9 (discard) on loopback: a request, if one were sent, could only fail.
        let client = Client::builder(key)
            .base_url("http://127.0.0.1:9")
            .build()
            .unwrap();
        Task {
            client,
            job: None,
            data: TaskData {
                id: id.to_string(),
                owner,
                title: String::new(),
                status: TaskStatus::Action,
                state: "pending-approval".to_string(),
                requested_state: None,
                created_at: None,
                updated_at: None,
            },
            new_from_trigger: false,
        }
    }

    fn waiting_run() -> ToolRun {
        let message = crate::message::Message::from_value(serde_json::json!({
            "item_id": "r1", "insert_date_": "2026-03-01T10:00:00Z",
            "content": {"type": "tool-run", "tool_run_state": "pending",
                "requires_confirmation": true,
                "action_details": {"action": "a", "action_request_id": "q1"}}}))
        .unwrap();
        match message.content {
            crate::message::MessageContent::ToolRun(run) => run,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_a_pending_run_that_needs_confirmation_needs_approval() {
        let run = waiting_run();
        assert!(run.needs_approval());
        for change in [
            |run: &mut ToolRun| run.requires_confirmation = false,
            |run: &mut ToolRun| run.status = ToolStatus::Running,
            |run: &mut ToolRun| run.action_details = None,
        ] {
            let mut other = run.clone();
            change(&mut other);
            assert!(!other.needs_approval(), "{other:?}");
        }
    }

    #[tokio::test]
    async fn wrong_calls_are_refused_before_any_request() {
        let target = crate::key::EmbedTarget::Agent("mailer".into());
        let embed = Key::embed("k", Region::US, "p", target, "pre").unwrap();
        let api = Key::new("sk-x", Region::US, "p").unwrap();
        let agent = || TaskOwner::Agent("mailer".to_string());
        let other_prefix = task(embed.clone(), agent(), "other_-_t1");
        assert!(matches!(
            other_prefix.approve(&waiting_run()).await,
            Err(Error::NotOwnTask { task_id }) if task_id == "other_-_t1"
        ));
        let workforce = task(api.clone(), TaskOwner::Workforce("w".into()), "t1");
        assert!(matches!(
            workforce.reject(&waiting_run()).await,
            Err(Error::AgentTaskOnly { .. })
        ));
        let mut decided = waiting_run();
        decided.status = ToolStatus::Completed;
        assert!(matches!(
            task(api, agent(), "t1").approve(&decided).await,
            Err(Error::RunNotWaiting { action_request_id, message: None })
                if action_request_id == "q1"
        ));
        // Its own prefix passes the checks: the request is sent (and fails on port 9).
        let own = task(embed, agent(), "pre_-_t1");
        assert!(matches!(
            own.approve(&waiting_run()).await,
            Err(Error::Network(_))
        ));
    }
}
