//! Managing agents (PROTOCOL A12's `agents/tools/list`, A13): the tools and
//! sub-agents an agent may use, and creating, changing and deleting agents.
//! API keys only: an embed key gets `Forbidden`.
//!
//! Kept apart from `agent.rs`, which reads agents and talks to them: this is
//! the project owner's side.

use serde_json::{Map, Value};

use crate::agent::{Agent, Agents};
use crate::error::Result;
use crate::http::Request;
use crate::message::ToolKind;
use crate::tool::Tool;
use crate::wire::agents::{delete_path, UpsertAnswer, UPSERT_PATH};
use crate::wire::tools::{AgentToolsBody, ListAnswer, AGENT_TOOLS_PATH};

/// The fields of an agent to create or change (`agents/upsert`). Fields left
/// unset are not sent: an update keeps them as they are.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AgentDefinition {
    fields: Map<String, Value>,
}

impl AgentDefinition {
    /// No fields yet.
    pub fn new() -> AgentDefinition {
        AgentDefinition::default()
    }

    /// The display name.
    pub fn name(self, name: impl Into<String>) -> Self {
        self.field("name", Value::String(name.into()))
    }

    /// The description.
    pub fn description(self, description: impl Into<String>) -> Self {
        self.field("description", Value::String(description.into()))
    }

    /// The avatar emoji.
    pub fn emoji(self, emoji: impl Into<String>) -> Self {
        self.field("emoji", Value::String(emoji.into()))
    }

    /// The system prompt.
    pub fn system_prompt(self, prompt: impl Into<String>) -> Self {
        self.field("system_prompt", Value::String(prompt.into()))
    }

    /// The model it runs on.
    pub fn model(self, model: impl Into<String>) -> Self {
        self.field("model", Value::String(model.into()))
    }

    /// The sampling temperature.
    pub fn temperature(self, temperature: f64) -> Self {
        self.field("temperature", Value::from(temperature))
    }

    /// Whether embed keys can be made for it.
    pub fn public(self, public: bool) -> Self {
        self.field("public", Value::Bool(public))
    }

    /// Whether its runs stream when a trigger does not say (PROTOCOL A8b).
    pub fn use_streaming(self, use_streaming: bool) -> Self {
        self.field("use_streaming", Value::Bool(use_streaming))
    }

    /// The emulator's own scripted behaviour (`emulator_behavior`: `behavior`,
    /// `script`, `end_state`, `chunk_delay_ms`); the hosted platform ignores it.
    pub fn emulator_behavior(self, behavior: Value) -> Self {
        self.field("emulator_behavior", behavior)
    }

    /// The emulator's own list of the project's tools the agent may use
    /// (`emulator_tools`); the hosted platform ignores it.
    pub fn emulator_tools(self, tool_ids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let ids = tool_ids
            .into_iter()
            .map(|id| Value::String(id.into()))
            .collect();
        self.field("emulator_tools", Value::Array(ids))
    }

    /// Any other `AgentConfig` field, sent as it is.
    pub fn field(mut self, name: impl Into<String>, value: Value) -> Self {
        self.fields.insert(name.into(), value);
        self
    }
}

impl Agents<'_> {
    /// A new agent with these fields (`agents/upsert` without an id: the
    /// platform makes one); answers it as read back. An `agent_id` field in
    /// `definition` is not sent.
    pub async fn create(&self, definition: AgentDefinition) -> Result<Agent> {
        let mut fields = definition.fields;
        fields.remove("agent_id");
        self.send_upsert(fields).await
    }

    /// Creates the agent `agent_id` or changes the fields `definition` sets;
    /// answers it as read back.
    pub async fn upsert(&self, agent_id: &str, definition: AgentDefinition) -> Result<Agent> {
        let mut fields = definition.fields;
        fields.insert("agent_id".to_string(), Value::String(agent_id.to_string()));
        self.send_upsert(fields).await
    }

    async fn send_upsert(&self, fields: Map<String, Value>) -> Result<Agent> {
        // A create without an id may make two agents if repeated: sent once
        // unless it surely was not processed.
        let request = Request::create(UPSERT_PATH)
            .json(&fields)
            .answer("agents/upsert answer");
        let answer: UpsertAnswer = self.client().send(request).await?;
        self.get(&answer.agent_id).await
    }

    /// Deletes the agent (`agents/{id}/delete`). Its embed keys stop working.
    pub async fn delete(&self, agent_id: &str) -> Result<()> {
        let request = Request::create(delete_path(agent_id)).answer("agents/delete answer");
        let _: Value = self.client().send(request).await?;
        Ok(())
    }
}

impl Agent {
    /// The tools this agent may use (`agents/tools/list`, without sub-agents).
    pub async fn tools(&self) -> Result<Vec<Tool>> {
        let all = self.tools_and_sub_agents().await?;
        Ok(all
            .into_iter()
            .filter(|tool| tool.kind != ToolKind::Agent)
            .collect())
    }

    /// The agents this agent may call (`agents/tools/list`, `type: "agent"`);
    /// each [`ToolData::id`](crate::ToolData::id) is the sub-agent's id.
    pub async fn sub_agents(&self) -> Result<Vec<Tool>> {
        let all = self.tools_and_sub_agents().await?;
        Ok(all
            .into_iter()
            .filter(|tool| tool.kind == ToolKind::Agent)
            .collect())
    }

    async fn tools_and_sub_agents(&self) -> Result<Vec<Tool>> {
        let body = AgentToolsBody {
            agent_ids: vec![&self.id],
        };
        let request = Request::read_post(AGENT_TOOLS_PATH).json(&body);
        let answer: ListAnswer = self.client().send(request).await?;
        Ok(answer
            .results
            .into_iter()
            .map(|tool| Tool::from_wire(tool, self.client()))
            .collect())
    }
}
