//! Every call the event stream makes into the rest of the SDK, in one
//! place: the task's metadata and messages, the live connection, the
//! client's activity hub. The machines beside this file use nothing else
//! of the SDK's requests, so a rename elsewhere is adapted to here alone.

use std::fmt;

use super::sse::{LiveBody, StreamingToken};
use crate::client::Client;
use crate::error::Result;
use crate::message::Message;
use crate::retry::RetryPolicy;
use crate::runtime::BoxFuture;
use crate::sent_signal::Subscription;
use crate::task::owner::MessageCursor;
use crate::task::{Task, TaskOwner};

/// The task an event stream follows, and the client it goes through.
/// Cheap to clone: a poll in flight owns a clone.
#[derive(Clone)]
pub(super) struct FollowedTask {
    client: Client,
    owner: TaskOwner,
    task_id: String,
}

impl FollowedTask {
    pub(super) fn of(task: &Task) -> FollowedTask {
        FollowedTask {
            client: task.client.clone(),
            owner: task.owner.clone(),
            task_id: task.id.clone(),
        }
    }

    pub(super) fn task_id(&self) -> &str {
        &self.task_id
    }

    pub(super) fn owner(&self) -> &TaskOwner {
        &self.owner
    }

    /// Watches for messages sent to the task through the same client
    /// (`Client::activity()`).
    pub(super) fn subscribe(&self) -> Subscription {
        self.client.activity().subscribe(&self.task_id)
    }

    /// The task's metadata and a streaming token, sent once (the stream
    /// owns the retries).
    pub(super) async fn read_metadata(&self) -> Result<(Task, Option<StreamingToken>)> {
        let once = Some(RetryPolicy::none());
        self.owner
            .read_task(&self.client, once, &self.task_id)
            .await
    }

    /// The task's messages, from `cursor` on (inclusive) for an agent task,
    /// all of them for a workforce task; sent once.
    pub(super) async fn read_messages(&self, cursor: Option<&str>) -> Result<Vec<Message>> {
        let once = Some(RetryPolicy::none());
        // A workforce task's messages have no cursor on the platform: all of them are read,
        // and the tracker picks what is new (members' runs are updated in place long after
        // they were inserted).
        let after = match &self.owner {
            TaskOwner::Agent(_) => cursor.map(MessageCursor::Verbatim),
            TaskOwner::Workforce(_) => None,
        };
        self.owner
            .read_messages(&self.client, once, &self.task_id, after)
            .await
    }

    /// Opens the live stream with `token`.
    pub(super) fn connect(&self, token: &StreamingToken) -> BoxFuture<Result<LiveBody>> {
        super::sse::open(&self.client, &token.token)
    }
}

impl fmt::Debug for FollowedTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FollowedTask")
            .field("task_id", &self.task_id)
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}
