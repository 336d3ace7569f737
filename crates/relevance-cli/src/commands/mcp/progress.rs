//! MCP progress notifications for one tool call. They are sent only when the host asked for
//! them (a `progressToken` in the request's `_meta`), numbered 1, 2, 3… (the spec wants the
//! number to grow; the total is unknown, so none is given), and a message already sent in
//! this call is not sent again: a reply typed in a hundred fragments is one "typing"
//! notification, not a hundred, and a tool run seen both live and in the recap of the
//! task's messages is told once.

use std::collections::HashSet;

use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::service::RequestContext;
use rmcp::{Peer, RoleServer};

/// Where one call's progress goes, and what was said so far.
pub struct Progress {
    target: Option<(Peer<RoleServer>, ProgressToken)>,
    step: u32,
    said: HashSet<String>,
}

impl Progress {
    /// The progress of the call `context` belongs to: silent unless the host sent a token.
    pub fn of(context: &RequestContext<RoleServer>) -> Progress {
        let target = context
            .meta
            .get_progress_token()
            .map(|token| (context.peer.clone(), token));
        Progress {
            target,
            step: 0,
            said: HashSet::new(),
        }
    }

    /// Whether the host asked for progress (else there is nothing to watch for).
    pub fn wanted(&self) -> bool {
        self.target.is_some()
    }

    /// Tells the host `message` as the next step, unless it was said already. A host
    /// that went away loses the notification; the call goes on and its result tells.
    pub async fn say(&mut self, message: impl Into<String>) {
        let message = message.into();
        let Some((peer, token)) = &self.target else {
            return;
        };
        if self.said.contains(&message) {
            return;
        }
        self.step += 1;
        let notification = ProgressNotificationParam::new(token.clone(), f64::from(self.step))
            .with_message(&message);
        let _ = peer.notify_progress(notification).await;
        self.said.insert(message);
    }
}
