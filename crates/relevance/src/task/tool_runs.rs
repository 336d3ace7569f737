//! A task's tool runs as the platform lists them (PROTOCOL A18,
//! `agents/conversations/studios/list`): status, a preview of the output, credits and
//! cost, newest first. Agent tasks only.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Task;
use crate::error::Result;
use crate::http::Request;
use crate::tool::ToolOutputStatus;
use crate::wire::{string, timestamp, Results};

/// One tool run of a task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolRunEntry {
    /// The run's id (`_id`).
    pub id: String,
    /// The tool's id.
    pub tool_id: String,
    /// How it stands: complete, in progress, failed or cancelled.
    #[serde(with = "status_name")]
    pub status: ToolOutputStatus,
    /// Its output so far, as the platform previews it.
    pub output_preview: Value,
    /// The credits it used, as the platform itemises them.
    pub credits_used: Vec<Value>,
    /// What it cost, when the platform says.
    pub cost: Option<f64>,
    /// When it started.
    pub created_at: Option<DateTime<Utc>>,
}

impl Task {
    /// The task's tool runs, newest first (at most 100).
    pub async fn tool_runs(&self) -> Result<Vec<ToolRunEntry>> {
        let agent_id = self.agent_for("tool_runs")?;
        let query = vec![
            ("agent_id", agent_id.to_string()),
            ("conversation_id", self.id.clone()),
            ("page_size", "100".to_string()),
        ];
        let request = Request::get("agents/conversations/studios/list")
            .query(query)
            .answer("agents/conversations/studios/list answer");
        let answer: Results<Value> = self.client.send(request).await?;
        Ok(answer.results.into_iter().map(entry).collect())
    }
}

/// One listed run, read leniently.
fn entry(mut value: Value) -> ToolRunEntry {
    let mut take = |field: &str| value.get_mut(field).map(Value::take).unwrap_or_default();
    ToolRunEntry {
        id: string(take("_id")).unwrap_or_default(),
        tool_id: string(take("studio_id")).unwrap_or_default(),
        status: ToolOutputStatus::from_wire(take("status").as_str().unwrap_or_default()),
        output_preview: take("output_preview"),
        credits_used: match take("credits_used") {
            Value::Array(items) => items,
            _ => Vec::new(),
        },
        cost: take("cost").as_f64(),
        created_at: timestamp(&take("insert_date_")),
    }
}

/// A status as its wire name, for the entry's `Serialize`.
mod status_name {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::tool::ToolOutputStatus;

    pub(super) fn serialize<S: Serializer>(
        status: &ToolOutputStatus,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(status.wire_name())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<ToolOutputStatus, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(ToolOutputStatus::from_wire(&name))
    }
}
