//! Where a run is inside its current step, stored as JSON with the run: written by
//! the step executor (`steps`) and reset by a trigger that resumes a paused run.

use serde::{Deserialize, Serialize};

/// Where a run is inside its current step; stored as JSON with the run.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(crate) struct Progress {
    /// Whether this (or, after an approval, the resumed) run has set the task `running`.
    #[serde(default)]
    pub(crate) started: bool,
    /// The message the current step updates in place.
    #[serde(default)]
    pub(crate) item_id: Option<String>,
    /// Characters typed so far by a `type` step, or streamed so far by a `think` step.
    #[serde(default)]
    pub(crate) typed: usize,
    /// Thoughts waiting for the next agent message.
    #[serde(default)]
    pub(crate) thinking: Vec<String>,
    /// The `item_id` the next agent message will have, made when the first thought
    /// since the last agent message is streamed: thinking fragments carry it as their
    /// `documentId` (PROTOCOL A8), so a client can join them to the message that keeps
    /// the thought.
    #[serde(default)]
    pub(crate) next_message_id: Option<String>,
    /// The task a `sub_agent` step (or a workforce's member run) started.
    #[serde(default)]
    pub(crate) child_task_id: Option<String>,
    /// A workforce run: how many member runs this trigger has started.
    #[serde(default)]
    pub(crate) member_runs: u32,
    /// A workforce run: the handover its running member asked for, done when it ends.
    #[serde(default)]
    pub(crate) handover: Option<HandoverRequest>,
    /// The `action_request_id` of the tool run that waits for a person's decision
    /// (PROTOCOL A10); the run is paused until an `action-confirm` or `action-reject`
    /// names it. `None` for the `approval` shorthand, which any next message resumes.
    #[serde(default)]
    pub(crate) awaiting_decision: Option<String>,
}

/// A member's `handover` step, left with the workforce run that started the member.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct HandoverRequest {
    pub(crate) agent_id: String,
    pub(crate) message: String,
}

impl Progress {
    /// Reads stored progress; unreadable progress starts the step over rather than failing.
    pub(crate) fn decode(text: &str) -> Progress {
        serde_json::from_str(text).unwrap_or_else(|error| {
            tracing::error!(%error, "unreadable run progress; restarting the step");
            Progress::default()
        })
    }

    pub(crate) fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }
}
