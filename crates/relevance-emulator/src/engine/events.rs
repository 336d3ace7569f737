//! Live task events: what the engine publishes after each committed step.
//!
//! One `tokio::sync::broadcast` channel per task, created on first
//! subscription; publishing to a task nobody watches costs a map lookup.
//! Events are a convenience for watchers: the store stays the truth, so a
//! lagging subscriber loses events (typing and thinking fragments included, which
//! are never sent again), never data.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::broadcast;

/// How many events a slow subscriber may fall behind before it lags.
const CHANNEL_CAPACITY: usize = 256;

/// Something that happened to a task, in the order it was committed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LiveEvent {
    /// A piece of the agent's reasoning (stream type `thinking`, PROTOCOL A8).
    Thinking {
        /// Only the characters new since the previous `Thinking` of this message, not
        /// the thought so far: the deltas of one `message_id`, joined in order, are
        /// the message's `thinking` entries joined (stream field `content`).
        delta: String,
        /// The `item_id` of the agent message that will carry the thought in its
        /// `thinking` (stream field `documentId`); that message may not be written yet.
        message_id: String,
    },
    /// A piece of response text as it is being typed (stream type `text`, PROTOCOL A8).
    /// Named as the SDK's `TaskEvent::Typing` is; the wire keeps the platform's names.
    Typing {
        /// Only the characters new since the previous `Typing` of this message, not the
        /// text so far: the deltas of one `message_id`, joined in order, are exactly
        /// the final message's `text` (stream field `content`).
        delta: String,
        /// The `item_id` of the agent message being typed (stream field `documentId`).
        message_id: String,
    },
    /// The task's `state` changed.
    StateChanged {
        /// The new state (PROTOCOL A5 values for agent tasks, A6 for workforce tasks).
        state: String,
    },
    /// A message was written or updated in place.
    MessageWritten {
        /// The message's `item_id`.
        item_id: String,
    },
    /// An agent message is final (`generating` is no longer true): published right
    /// after its last `MessageWritten`, once per message, so in-process code (a
    /// benchmark, say) learns when a reply is committed without polling.
    MessageFinal {
        /// The agent message's `item_id`.
        item_id: String,
    },
}

/// An event addressed to a task, waiting to be published after its commit.
#[derive(Debug, Clone)]
pub(crate) struct PendingEvent {
    pub(crate) project: String,
    pub(crate) task_id: String,
    pub(crate) event: LiveEvent,
}

/// The per-task channels.
#[derive(Debug, Default)]
pub(crate) struct Hub {
    channels: Mutex<HashMap<(String, String), broadcast::Sender<LiveEvent>>>,
}

impl Hub {
    /// A receiver of every event published to the task from now on.
    pub(crate) fn subscribe(&self, project: &str, task_id: &str) -> broadcast::Receiver<LiveEvent> {
        // A poisoned map only means a panic elsewhere mid-insert; the channels are still valid.
        let mut channels = self
            .channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        channels.retain(|_, sender| sender.receiver_count() > 0);
        channels
            .entry((project.to_string(), task_id.to_string()))
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe()
    }

    /// Sends each event to its task's subscribers, if any.
    pub(crate) fn publish(&self, events: Vec<PendingEvent>) {
        if events.is_empty() {
            return;
        }
        let channels = self
            .channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for published in events {
            if let Some(sender) = channels.get(&(published.project, published.task_id)) {
                // No receiver left is fine: nobody is watching.
                let _ = sender.send(published.event);
            }
        }
    }
}
