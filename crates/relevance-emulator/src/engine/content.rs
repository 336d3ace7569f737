//! The `content` of the messages the engine writes, one type per kind (PROTOCOL A7,
//! A7c): field names are the wire's, optional fields are absent rather than `null`.
//!
//! The engine builds a [`Content`], stores it as JSON and, for an in-place update,
//! reads it back into a [`Content`], changes fields and stores it again: no JSON is
//! edited by key. Never holds anything secret.
//!
//! The SDK decodes the same content in its own types (`relevance`'s `message`,
//! `wire::messages`) on purpose: the emulator never depends on the SDK and is
//! checked against the platform's own models, not against ours.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ids::{new_item_id, origin_key};

/// One message's `content`, tagged by its `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub(crate) enum Content {
    UserMessage(UserMessage),
    AgentMessage(AgentMessage),
    AgentError(AgentErrorMessage),
    ToolRun(ToolRun),
    WorkforceAgentRun(WorkforceAgentRun),
    WorkforceAgentHandover(WorkforceAgentHandover),
}

/// `original_message_ids`: the platform message ids an item was made from, by role
/// (`user`, `agent`, `agent-error`, `action-request`, `action-response`, ...).
pub(crate) type OriginalIds = BTreeMap<String, String>;

/// A fresh `original_message_ids` for a new message of type `kind`.
fn fresh_ids(kind: &str) -> OriginalIds {
    BTreeMap::from([(origin_key(kind).to_string(), new_item_id())])
}

/// `user-message`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct UserMessage {
    pub(crate) text: String,
    pub(crate) is_trigger_message: bool,
    /// `[{"file_name","file_url"}]`, as the trigger carried it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) attachments: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) user_id: Option<String>,
    pub(crate) original_message_ids: OriginalIds,
}

/// `agent-message`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct AgentMessage {
    pub(crate) text: String,
    /// Still being written.
    pub(crate) generating: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) thinking: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) thought_about_tool_calls: Option<bool>,
    pub(crate) original_message_ids: OriginalIds,
}

/// `agent-error`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct AgentErrorMessage {
    pub(crate) errors: Vec<ErrorBody>,
    pub(crate) original_message_ids: OriginalIds,
}

/// One entry of an `agent-error`'s `errors`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ErrorBody {
    pub(crate) body: String,
}

/// `tool-run`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ToolRun {
    pub(crate) tool_run_state: ToolRunState,
    /// For a sub-agent: `{"_agent_conversation_details": {agent_id, conversation_id}}`.
    pub(crate) output: Value,
    pub(crate) params: Params,
    pub(crate) errors: Vec<ToolError>,
    pub(crate) tool_config: ToolConfig,
    pub(crate) action_details: ActionDetails,
    pub(crate) requires_confirmation: bool,
    /// Once a person (or the agent) decided about a run that waited (PROTOCOL A10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) confirmation: Option<Confirmation>,
    pub(crate) original_message_ids: OriginalIds,
}

/// `tool_run_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum ToolRunState {
    Pending,
    Running,
    Finished,
    Error,
    Cancelled,
}

/// A tool run's `params`: `{"valid": true, "json": {...}, "resolved"?: {...}}`, or
/// `{"valid": false, "json": "<the raw text>"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Params {
    pub(crate) valid: bool,
    pub(crate) json: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) resolved: Option<Value>,
}

/// One entry of a tool run's `errors`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ToolError {
    pub(crate) body: String,
    pub(crate) raw: String,
    pub(crate) step_name: String,
}

/// A tool run's `tool_config`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ToolConfig {
    /// `agent` | `tool`.
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) region: String,
    pub(crate) project: String,
    pub(crate) id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) emoji: Option<String>,
    pub(crate) version: String,
    pub(crate) params_schema: Value,
}

/// A tool run's `action_details`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ActionDetails {
    /// The agent's stable action id for this tool (`ids::action_id`).
    pub(crate) action: String,
    /// Unique per run of the tool.
    pub(crate) action_request_id: String,
}

/// A tool run's `confirmation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Confirmation {
    pub(crate) confirmed: bool,
    /// `user` | `agent`.
    pub(crate) by: String,
}

/// `workforce-agent-run`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct WorkforceAgentRun {
    pub(crate) task_details: TaskDetails,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) agent_details: Option<AgentDetails>,
    pub(crate) original_message_ids: OriginalIds,
}

/// `workforce-agent-handover`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct WorkforceAgentHandover {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) task_details: Option<TaskDetails>,
    pub(crate) agent_details: AgentDetails,
    pub(crate) trigger: HandoverTrigger,
    pub(crate) original_message_ids: OriginalIds,
}

/// A workforce message's `task_details`: the member's task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TaskDetails {
    pub(crate) project: String,
    pub(crate) region: String,
    pub(crate) conversation_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) finished_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) current_state: Option<String>,
}

/// A workforce message's `agent_details`: the member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct AgentDetails {
    pub(crate) agent_id: String,
    pub(crate) project: String,
    pub(crate) region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) emoji: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) deleted_reason: Option<String>,
}

/// A handover's `trigger`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct HandoverTrigger {
    pub(crate) message: String,
}

impl Content {
    /// A `user-message` with fresh `original_message_ids`.
    pub(crate) fn user_message(
        text: &str,
        is_trigger: bool,
        attachments: Option<Value>,
    ) -> Content {
        Content::UserMessage(UserMessage {
            text: text.to_string(),
            is_trigger_message: is_trigger,
            attachments,
            user_id: None,
            original_message_ids: fresh_ids("user-message"),
        })
    }

    /// An `agent-message`; `thinking` is left out when there is none.
    pub(crate) fn agent_message(text: &str, generating: bool, thinking: Vec<String>) -> Content {
        Content::AgentMessage(AgentMessage {
            text: text.to_string(),
            generating,
            thinking: (!thinking.is_empty()).then_some(thinking),
            thought_about_tool_calls: None,
            original_message_ids: fresh_ids("agent-message"),
        })
    }

    /// An `agent-error` with one error.
    pub(crate) fn agent_error(body: &str) -> Content {
        Content::AgentError(AgentErrorMessage {
            errors: vec![ErrorBody {
                body: body.to_string(),
            }],
            original_message_ids: fresh_ids("agent-error"),
        })
    }

    /// A pending `tool-run` of `tool_config` on `input` (PROTOCOL A7c).
    pub(crate) fn tool_run(tool_config: ToolConfig, action: String, input: Value) -> Content {
        Content::ToolRun(ToolRun {
            tool_run_state: ToolRunState::Pending,
            output: Value::Object(Default::default()),
            params: Params {
                valid: true,
                json: input.clone(),
                resolved: Some(input),
            },
            errors: Vec::new(),
            tool_config,
            action_details: ActionDetails {
                action,
                action_request_id: new_item_id(),
            },
            requires_confirmation: false,
            confirmation: None,
            original_message_ids: fresh_ids("tool-run"),
        })
    }

    /// A `workforce-agent-run` of a member's task that is running.
    pub(crate) fn workforce_agent_run(task_details: TaskDetails, agent: AgentDetails) -> Content {
        Content::WorkforceAgentRun(WorkforceAgentRun {
            task_details,
            agent_details: Some(agent),
            original_message_ids: fresh_ids("workforce-agent-run"),
        })
    }

    /// A `workforce-agent-handover` to `agent` with `message`.
    pub(crate) fn workforce_agent_handover(agent: AgentDetails, message: &str) -> Content {
        Content::WorkforceAgentHandover(WorkforceAgentHandover {
            task_details: None,
            agent_details: agent,
            trigger: HandoverTrigger {
                message: message.to_string(),
            },
            original_message_ids: fresh_ids("workforce-agent-handover"),
        })
    }

    /// The JSON that is stored and answered.
    pub(crate) fn to_json(&self) -> Value {
        // Serialising these types cannot fail: every map key is a string.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Reads stored content back; `None` for content the engine did not write this way.
    pub(crate) fn from_json(value: Value) -> Option<Content> {
        serde_json::from_value(value).ok()
    }

    /// An agent message that is no longer being written.
    pub(crate) fn is_final_agent_message(&self) -> bool {
        matches!(self, Content::AgentMessage(message) if !message.generating)
    }
}

impl ToolRun {
    /// The run ended in error with `problem` at step `step_name`.
    pub(crate) fn fail(&mut self, problem: &str, step_name: &str) {
        self.tool_run_state = ToolRunState::Error;
        self.errors = vec![ToolError {
            body: problem.to_string(),
            raw: problem.to_string(),
            step_name: step_name.to_string(),
        }];
        self.ended_in("action-error");
    }

    /// The run finished.
    pub(crate) fn finish(&mut self) {
        self.tool_run_state = ToolRunState::Finished;
        self.ended_in("action-response");
    }

    /// A person approved the waiting run (PROTOCOL A10): `params_override` replaces the
    /// params of the same names (in `json` and `resolved`), and `confirmation` says so.
    pub(crate) fn confirm(&mut self, params_override: &serde_json::Map<String, Value>) {
        for params in [Some(&mut self.params.json), self.params.resolved.as_mut()]
            .into_iter()
            .flatten()
        {
            if let Value::Object(fields) = params {
                for (name, value) in params_override {
                    fields.insert(name.clone(), value.clone());
                }
            } else if !params_override.is_empty() {
                *params = Value::Object(params_override.clone());
            }
        }
        self.confirmation = Some(Confirmation {
            confirmed: true,
            by: "user".to_string(),
        });
        self.ended_in("action-confirm");
    }

    /// A person refused the waiting run (PROTOCOL A10): it is `cancelled` and never runs.
    pub(crate) fn reject(&mut self) {
        self.tool_run_state = ToolRunState::Cancelled;
        self.confirmation = Some(Confirmation {
            confirmed: false,
            by: "user".to_string(),
        });
        self.ended_in("action-reject");
    }

    /// Names the platform message the run's end came from in `original_message_ids`
    /// (`action-response` when it finished, `action-error` when it failed; PROTOCOL A7c).
    fn ended_in(&mut self, key: &str) {
        self.original_message_ids
            .insert(key.to_string(), new_item_id());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn optional_fields_are_absent_and_names_are_the_wires() {
        let user = Content::user_message("hi", true, None).to_json();
        assert_eq!(user["type"], "user-message");
        assert_eq!(user["is_trigger_message"], true);
        assert!(user.get("attachments").is_none() && user.get("user_id").is_none());
        assert_eq!(
            user["original_message_ids"]["user"].as_str().map(str::len),
            Some(36)
        );

        let agent = Content::agent_message("ok", false, vec![]).to_json();
        assert!(agent.get("thinking").is_none());
        assert_eq!(agent["generating"], false);

        let config = ToolConfig {
            kind: "tool".into(),
            title: "t".into(),
            description: "d".into(),
            region: "bcbe5a".into(),
            project: "p".into(),
            id: "t".into(),
            emoji: None,
            version: "latest".into(),
            params_schema: json!({}),
        };
        let mut run = Content::tool_run(config, "a:tool:t".into(), json!({"q": 1}));
        let stored = run.to_json();
        assert_eq!(stored["tool_run_state"], "pending");
        assert_eq!(
            stored["params"],
            json!({"valid": true, "json": {"q": 1}, "resolved": {"q": 1}})
        );
        assert_eq!(stored["tool_config"]["type"], "tool");
        assert!(stored.get("confirmation").is_none());
        assert!(stored["tool_config"].get("emoji").is_none());
        assert_eq!(Content::from_json(stored), Some(run.clone()));
        if let Content::ToolRun(tool_run) = &mut run {
            tool_run.fail("boom", "t");
        }
        let failed = run.to_json();
        assert_eq!(failed["tool_run_state"], "error");
        assert_eq!(
            failed["errors"],
            json!([{"body": "boom", "raw": "boom", "step_name": "t"}])
        );
        assert!(failed["original_message_ids"]["action-error"].is_string());
    }
}
