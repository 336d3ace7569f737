//! The task states of each vocabulary, typed: an agent task's (PROTOCOL A5) and a
//! workforce task's (PROTOCOL A6). The engine writes these instead of string literals,
//! so a state that no client knows (which the official client treats as fatal, A9)
//! cannot be written by a typo.

use serde::{Deserialize, Serialize};

/// An agent task's `conversation.state` (PROTOCOL A5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum AgentState {
    Idle,
    StartingUp,
    WaitingForCapacity,
    QueuedForApproval,
    QueuedForRerun,
    Running,
    PendingApproval,
    Escalated,
    Paused,
    Completed,
    Cancelled,
    TimedOut,
    Unrecoverable,
    ErroredPendingApproval,
}

impl AgentState {
    /// The wire name, as stored in the `tasks` table.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            AgentState::Idle => "idle",
            AgentState::StartingUp => "starting-up",
            AgentState::WaitingForCapacity => "waiting-for-capacity",
            AgentState::QueuedForApproval => "queued-for-approval",
            AgentState::QueuedForRerun => "queued-for-rerun",
            AgentState::Running => "running",
            AgentState::PendingApproval => "pending-approval",
            AgentState::Escalated => "escalated",
            AgentState::Paused => "paused",
            AgentState::Completed => "completed",
            AgentState::Cancelled => "cancelled",
            AgentState::TimedOut => "timed-out",
            AgentState::Unrecoverable => "unrecoverable",
            AgentState::ErroredPendingApproval => "errored-pending-approval",
        }
    }
}

/// A workforce task's `state` (PROTOCOL A6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum WorkforceState {
    Running,
    Completed,
    ExecutionLimitReached,
    ErroredPendingApproval,
    PendingApproval,
    Escalated,
}

impl WorkforceState {
    /// The wire name, as stored in the `tasks` table.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            WorkforceState::Running => "running",
            WorkforceState::Completed => "completed",
            WorkforceState::ExecutionLimitReached => "execution-limit-reached",
            WorkforceState::ErroredPendingApproval => "errored-pending-approval",
            WorkforceState::PendingApproval => "pending-approval",
            WorkforceState::Escalated => "escalated",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_are_the_serde_names() {
        use AgentState as A;
        for state in [
            A::Idle,
            A::StartingUp,
            A::WaitingForCapacity,
            A::QueuedForApproval,
            A::QueuedForRerun,
            A::Running,
            A::PendingApproval,
            A::Escalated,
            A::Paused,
            A::Completed,
            A::Cancelled,
            A::TimedOut,
            A::Unrecoverable,
            A::ErroredPendingApproval,
        ] {
            assert_eq!(
                serde_json::to_value(state).ok(),
                Some(state.as_str().into())
            );
        }
        use WorkforceState as W;
        for state in [
            W::Running,
            W::Completed,
            W::ExecutionLimitReached,
            W::ErroredPendingApproval,
            W::PendingApproval,
            W::Escalated,
        ] {
            assert_eq!(
                serde_json::to_value(state).ok(),
                Some(state.as_str().into())
            );
        }
    }
}
