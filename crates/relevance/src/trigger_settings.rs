//! What a trigger sets beside its message (PROTOCOL A17): the agent's `params`, the
//! caller's `external_id` and what to do when its conversation exists, the agent
//! `version`. Plain data, filled by the message builder (`message_builder`) and put on the wire by
//! `task::owner`.

use serde_json::{Map, Value};

/// What a trigger sets beside its message (PROTOCOL A17). Agents only.
#[derive(Clone, Debug, Default)]
pub(crate) struct TriggerSettings {
    pub(crate) params: Option<Map<String, Value>>,
    pub(crate) external_id: Option<(String, ExternalIdBehaviour)>,
    pub(crate) version: Option<String>,
}

impl TriggerSettings {
    /// The first setting given, by name, for the error a workforce message gets.
    pub(crate) fn first_given(&self) -> Option<&'static str> {
        if self.params.is_some() {
            Some("params")
        } else if self.external_id.is_some() {
            Some("external_id")
        } else if self.version.is_some() {
            Some("version")
        } else {
            None
        }
    }
}

/// What a trigger with an [`external_id`](crate::MessageBuilder::external_id) does when a
/// conversation with that id exists already (PROTOCOL A17). Either way there is never a
/// second conversation for the same id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExternalIdBehaviour {
    /// The message goes to that conversation (the platform's default).
    #[default]
    ExtendConversation,
    /// Nothing is sent; the existing conversation is answered.
    Nothing,
}

impl ExternalIdBehaviour {
    /// The wire value: `extend-conversation` or `nothing`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExternalIdBehaviour::ExtendConversation => "extend-conversation",
            ExternalIdBehaviour::Nothing => "nothing",
        }
    }
}
