//! Tools (PROTOCOL A12; the platform calls them studios): list, read, create
//! or update, clone, delete and run a project's tools. API keys only: an embed
//! key gets `Forbidden`.
//!
//! A [`Tool`] keeps a clone of the [`Client`] it was read with, so
//! [`Tool::run`] needs nothing else. A run whose params break the tool's
//! `params_schema` is an answer, not an error: [`ToolOutput::status`] is
//! [`ToolOutputStatus::Failed`] and [`ToolOutput::errors`] lists each violation, as
//! the platform answers. Only a failed request (network, status, decoding) is
//! an `Err`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::http::Request;
use crate::message::ToolKind;
use crate::wire::string;
use crate::wire::timestamp;
use crate::wire::tools::{
    get_path, project_filter, trigger_path, webhook_path, BulkDeleteBody, BulkUpdateBody,
    CloneAnswer, CloneBody, GetAnswer, ListAnswer, RawTool, TriggerAnswer, TriggerBody,
    BULK_DELETE_PATH, BULK_UPDATE_PATH, CLONE_PATH, LIST_PAGE_SIZE, LIST_PATH,
};

/// The tools of the client's project, borrowed from a [`Client`].
#[derive(Debug)]
pub struct Tools<'c> {
    pub(crate) client: &'c Client,
}

/// A tool as the platform describes it: plain data that can be serialised,
/// compared and cached. [`Tool`] is the handle that holds it next to a
/// client and runs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolData {
    /// The tool's id (`studio_id`).
    pub id: String,
    /// Its title.
    pub title: Option<String>,
    /// What it does.
    pub description: Option<String>,
    /// Its emoji.
    pub emoji: Option<String>,
    /// The project it belongs to (the client's when the answer omits it).
    pub project: String,
    /// Whether anyone may view or clone it.
    pub public: bool,
    /// The JSON Schema its params must fit.
    pub params_schema: Value,
    /// A tool or a sub-agent.
    pub kind: ToolKind,
    /// When it was created.
    pub created_at: Option<DateTime<Utc>>,
    /// When it was last changed.
    pub updated_at: Option<DateTime<Utc>>,
    /// The whole `Tool` object as the platform sent it.
    pub raw: Map<String, Value>,
}

/// A tool and the client it was read through: [`Tool::run`], and its
/// [`ToolData`] through `Deref` (`tool.id`, `tool.title`) or [`Tool::data`].
/// `Debug` and `==` look at the data only, never the client.
#[derive(Clone)]
pub struct Tool {
    client: Client,
    data: ToolData,
}

impl std::ops::Deref for Tool {
    type Target = ToolData;
    fn deref(&self) -> &ToolData {
        &self.data
    }
}

/// The data is plain data: changing it here changes what this handle shows,
/// not the platform.
impl std::ops::DerefMut for Tool {
    fn deref_mut(&mut self) -> &mut ToolData {
        &mut self.data
    }
}

impl std::fmt::Debug for Tool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tool")
            .field("data", &self.data)
            .finish_non_exhaustive()
    }
}

/// Equal when the data is; the client it came through does not matter.
impl PartialEq for Tool {
    fn eq(&self, other: &Self) -> bool {
        self.data == other.data
    }
}

impl Tool {
    /// The tool as read: plain data, to keep, compare or serialise.
    pub fn data(&self) -> &ToolData {
        &self.data
    }

    /// The data, without the client.
    pub fn into_data(self) -> ToolData {
        self.data
    }
}

/// How a run ended (`status` of `trigger_limited`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToolOutputStatus {
    /// It ran and `output` holds its result.
    Complete,
    /// It is still going.
    InProgress,
    /// It did not run (bad params) or failed: see `errors`.
    Failed,
    /// It was cancelled.
    Cancelled,
    /// A status this SDK does not know, kept as sent.
    Other(String),
}

impl ToolOutputStatus {
    /// The platform's spelling (`complete`, `inprogress`, `failed`, `cancelled`).
    pub fn wire_name(&self) -> &str {
        match self {
            ToolOutputStatus::Complete => "complete",
            ToolOutputStatus::InProgress => "inprogress",
            ToolOutputStatus::Failed => "failed",
            ToolOutputStatus::Cancelled => "cancelled",
            ToolOutputStatus::Other(other) => other,
        }
    }

    pub(crate) fn from_wire(status: &str) -> ToolOutputStatus {
        match status {
            "complete" => ToolOutputStatus::Complete,
            "inprogress" => ToolOutputStatus::InProgress,
            "failed" => ToolOutputStatus::Failed,
            "cancelled" => ToolOutputStatus::Cancelled,
            other => ToolOutputStatus::Other(other.to_string()),
        }
    }
}

/// What one run of a tool gave. `T` is what `output` was read as: JSON for
/// [`Tool::run`], the caller's type for [`Tool::run_as`].
#[derive(Clone, Debug, PartialEq)]
pub struct ToolOutput<T = Value> {
    /// How the run ended.
    pub status: ToolOutputStatus,
    /// The output: always there from [`Tool::run`]; from [`Tool::run_as`],
    /// there when the run is complete.
    pub output: Option<T>,
    /// Why it failed, one entry per problem (each params violation apart).
    pub errors: Vec<String>,
    /// How long the platform says it took.
    pub execution_time: Option<Duration>,
}

impl<T> ToolOutput<T> {
    /// Whether the run completed.
    pub fn is_complete(&self) -> bool {
        self.status == ToolOutputStatus::Complete
    }
}

impl Client {
    /// The tools of the project.
    pub fn tools(&self) -> Tools<'_> {
        Tools { client: self }
    }
}

impl Tools<'_> {
    /// The project's tools (`GET studios/list`, filtered to the project, up
    /// to 100).
    pub async fn list(&self) -> Result<Vec<Tool>> {
        let request = Request::get(LIST_PATH).query(vec![
            ("filters", project_filter(self.client.project())),
            ("page_size", LIST_PAGE_SIZE.to_string()),
        ]);
        let answer: ListAnswer = self.client.send(request).await?;
        Ok(answer
            .results
            .into_iter()
            .map(|tool| Tool::from_wire(tool, self.client))
            .collect())
    }

    /// One tool by id (`GET studios/{id}/get`); `NotFound` when there is none.
    pub async fn get(&self, tool_id: &str) -> Result<Tool> {
        let request = Request::get(get_path(tool_id)).answer("studios/get answer");
        let answer: GetAnswer = self.client.send(request).await?;
        Ok(Tool::from_wire(answer.studio, self.client))
    }

    /// A new tool under a fresh id; set its fields, then
    /// [`ToolBuilder::send`].
    pub fn create(&self) -> ToolBuilder<'_> {
        ToolBuilder::new(self.client, uuid::Uuid::new_v4().to_string())
    }

    /// Changes to the tool `tool_id` (created if it does not exist): only
    /// the fields set are sent, the rest stay as they are.
    pub fn update(&self, tool_id: &str) -> ToolBuilder<'_> {
        ToolBuilder::new(self.client, tool_id.to_string())
    }

    /// A copy of the tool under a new id, in the same project
    /// (`POST studios/clone`); answers the copy.
    pub async fn clone(&self, tool_id: &str) -> Result<Tool> {
        let region = self.client.region();
        let body = CloneBody {
            project: self.client.project(),
            region: region.code(),
            studio_id: tool_id,
        };
        let request = Request::create(CLONE_PATH).json(&body);
        let answer: CloneAnswer = self.client.send(request).await?;
        self.get(&answer.studio_id).await
    }

    /// Deletes the tool (`POST studios/bulk_delete`); deleting one that is
    /// not there succeeds too.
    pub async fn delete(&self, tool_id: &str) -> Result<()> {
        let body = BulkDeleteBody { ids: vec![tool_id] };
        let request = Request::create(BULK_DELETE_PATH).json(&body);
        let _: Value = self.client.send(request).await?;
        Ok(())
    }
}

/// The fields of a tool to create or update (`POST studios/bulk_update`
/// with `partial_update: true`). Fields left unset are not sent.
#[derive(Debug)]
#[must_use = "a ToolBuilder does nothing until `send` is awaited"]
pub struct ToolBuilder<'c> {
    client: &'c Client,
    id: String,
    fields: Map<String, Value>,
}

impl<'c> ToolBuilder<'c> {
    fn new(client: &'c Client, id: String) -> ToolBuilder<'c> {
        ToolBuilder {
            client,
            id,
            fields: Map::new(),
        }
    }

    /// The id the tool gets (or has).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its title.
    pub fn title(self, title: impl Into<String>) -> Self {
        self.field("title", Value::String(title.into()))
    }

    /// What it does.
    pub fn description(self, description: impl Into<String>) -> Self {
        self.field("description", Value::String(description.into()))
    }

    /// Its emoji.
    pub fn emoji(self, emoji: impl Into<String>) -> Self {
        self.field("emoji", Value::String(emoji.into()))
    }

    /// Whether anyone may view or clone it.
    pub fn public(self, public: bool) -> Self {
        self.field("public", Value::Bool(public))
    }

    /// The JSON Schema its params must fit
    /// (`{"type": "object", "properties": {...}, "required": [...]}`).
    pub fn params_schema(self, schema: Value) -> Self {
        self.field("params_schema", schema)
    }

    /// The emulator's own behaviour of the tool (`emulator_behavior`:
    /// `output`, `delay_ms`, `error`); the hosted platform ignores it.
    pub fn emulator_behavior(self, behavior: Value) -> Self {
        self.field("emulator_behavior", behavior)
    }

    /// Any other `Tool` field, sent as it is (`transformations`, ...).
    pub fn field(mut self, name: impl Into<String>, value: Value) -> Self {
        self.fields.insert(name.into(), value);
        self
    }

    /// Sends the fields, then reads the tool back.
    pub async fn send(self) -> Result<Tool> {
        let mut update = self.fields;
        update.insert("studio_id".to_string(), Value::String(self.id.clone()));
        update.insert(
            "project".to_string(),
            Value::String(self.client.project().to_string()),
        );
        let body = BulkUpdateBody {
            partial_update: true,
            updates: vec![update],
        };
        // Same id, same fields: sending it again changes nothing.
        let request = Request::read_post(BULK_UPDATE_PATH)
            .json(&body)
            .answer("studios/bulk_update answer");
        let _: Value = self.client.send(request).await?;
        self.client.tools().get(&self.id).await
    }
}

impl Tool {
    /// A tool from its wire form, read through `client`.
    pub(crate) fn from_wire(wire: RawTool, client: &Client) -> Tool {
        let config = wire.config;
        let data = ToolData {
            id: config.studio_id,
            title: string(config.title),
            description: string(config.description),
            emoji: string(config.emoji),
            project: string(config.project).unwrap_or_else(|| client.project().to_string()),
            public: config.public.as_bool().unwrap_or(false),
            params_schema: config.params_schema,
            kind: match config.kind.as_str() {
                Some("agent") => ToolKind::Agent,
                None | Some("tool") => ToolKind::Tool,
                Some(other) => ToolKind::Unknown(other.to_string()),
            },
            created_at: timestamp(&config.insert_date_),
            updated_at: timestamp(&config.update_date_),
            raw: wire.raw,
        };
        Tool {
            client: client.clone(),
            data,
        }
    }

    /// The client this tool was read with, and runs with.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Runs the tool on `params` (`POST studios/{id}/trigger_limited`). Params
    /// that break its schema give `Ok` with [`ToolOutputStatus::Failed`] and each
    /// violation in `errors`. A run is not repeated after an unclear failure.
    pub async fn run(&self, params: Value) -> Result<ToolOutput> {
        let body = TriggerBody {
            params: &params,
            project: self.client.project(),
        };
        let request = Request::create(trigger_path(&self.id))
            .json(&body)
            .answer("studios/trigger_limited answer");
        self.run_request(request).await
    }

    /// Runs the tool through its webhook form (`POST studios/{id}/trigger_webhook?project=`),
    /// as systems that call tools from outside do: the body is `params` itself (an object),
    /// not wrapped in `{"params": ...}`. The answer is [`Tool::run`]'s. A run is not
    /// repeated after an unclear failure.
    pub async fn run_webhook(&self, params: Value) -> Result<ToolOutput> {
        let request = Request::create(webhook_path(&self.id))
            .query(vec![("project", self.client.project().to_string())])
            .json(&params)
            .answer("studios/trigger_webhook answer");
        self.run_request(request).await
    }

    async fn run_request(&self, request: Request) -> Result<ToolOutput> {
        let answer: TriggerAnswer = self.client.send(request).await?;
        Ok(ToolOutput {
            status: ToolOutputStatus::from_wire(&answer.status),
            output: Some(answer.output),
            errors: answer
                .errors
                .into_iter()
                .map(|error| string(error.body).unwrap_or_default())
                .collect(),
            execution_time: answer
                .execution_time
                .as_f64()
                .filter(|ms| ms.is_finite() && *ms >= 0.0)
                .map(|ms| Duration::from_secs_f64(ms / 1000.0)),
        })
    }

    /// As [`Tool::run`], with a complete run's `output` read as `T`; an
    /// output that does not fit `T` is [`Error::Decode`].
    pub async fn run_as<T: DeserializeOwned>(&self, params: Value) -> Result<ToolOutput<T>> {
        let run = self.run(params).await?;
        let output = match (&run.status, run.output) {
            (ToolOutputStatus::Complete, Some(output)) => Some(
                serde_json::from_value(output).map_err(|source| Error::Decode {
                    what: format!("output of tool {}", self.id),
                    source,
                })?,
            ),
            _ => None,
        };
        Ok(ToolOutput {
            status: run.status,
            output,
            errors: run.errors,
            execution_time: run.execution_time,
        })
    }
}
