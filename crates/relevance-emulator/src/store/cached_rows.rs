//! Rows that both a repository (`keys`, `definitions`) and a cache (`key_cache`,
//! `agent_cache`) hold, so that neither side imports the other's module for them.

use rusqlite::types::Type;

/// What a key may do: everything in its project, or one embed target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Api,
    Embed,
}

impl KeyKind {
    /// The wire and column spelling: `api` | `embed`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            KeyKind::Api => "api",
            KeyKind::Embed => "embed",
        }
    }

    /// The `kind` column's value at `column` of a row, or a conversion error.
    pub(crate) fn from_column(value: String, column: usize) -> rusqlite::Result<KeyKind> {
        match value.as_str() {
            "api" => Ok(KeyKind::Api),
            "embed" => Ok(KeyKind::Embed),
            other => Err(rusqlite::Error::FromSqlConversionFailure(
                column,
                Type::Text,
                format!("unknown key kind {other:?} in table keys").into(),
            )),
        }
    }
}

/// An agent as stored.
#[derive(Debug, Clone)]
pub(crate) struct AgentRecord {
    pub(crate) project: String,
    pub(crate) id: String,
    pub(crate) name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) emoji: Option<String>,
    pub(crate) public: bool,
    pub(crate) model: String,
    pub(crate) use_streaming: bool,
    /// The project's tools this agent may use (`agents/tools/list`), in order.
    pub(crate) tool_ids: Vec<String>,
    /// Platform `AgentConfig` fields only the API sets (`system_prompt`, `temperature`).
    pub(crate) settings: serde_json::Map<String, serde_json::Value>,
    pub(crate) insert_date: String,
    pub(crate) update_date: String,
}
