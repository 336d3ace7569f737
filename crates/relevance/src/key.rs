//! Keys: what they may reach and how they are persisted. Plain data: this
//! module sends nothing (embed keys are *made* in `embed`).
//!
//! A [`Key`] is an API key (the whole project) or an embed key (one public
//! agent or one workforce, plus the task prefix its new tasks must carry).
//! The secret lives in a [`SecretString`] and never appears in `Debug`,
//! `Display` or an error. A key is not `Serialize`: persisting it is the
//! explicit [`Key::to_json`] / [`Key::from_json`] pair, in the official
//! client's shape, so a key saved by either SDK restores in the
//! other and a key never lands in a log by accident.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

use crate::error::{Error, KeyDataError, Result};
use crate::region::Region;

/// What a key may reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyScope {
    /// Every resource of the project (an API key).
    Project,
    /// One public agent (an embed key), by id.
    Agent(String),
    /// One workforce (an embed key), by id.
    Workforce(String),
}

/// The one agent or workforce an embed key is made for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EmbedTarget {
    /// A public agent, by id.
    Agent(String),
    /// A workforce, by id.
    Workforce(String),
}

/// Credentials for one project in one region.
#[derive(Clone)]
pub struct Key {
    secret: SecretString,
    region: Region,
    project: String,
    agent_id: Option<String>,
    workforce_id: Option<String>,
    task_prefix: Option<String>,
}

impl Key {
    /// An API key (`sk-...`) for a project.
    pub fn new(
        secret: impl Into<String>,
        region: Region,
        project: impl Into<String>,
    ) -> Result<Key> {
        let secret = non_empty(secret.into(), "secret")?;
        let project = non_empty(project.into(), "project")?;
        Ok(Key {
            secret: SecretString::from(secret),
            region,
            project,
            agent_id: None,
            workforce_id: None,
            task_prefix: None,
        })
    }

    /// An embed key that is already known (usually made by
    /// [`Key::generate_embed_key`], or restored some other way).
    pub fn embed(
        secret: impl Into<String>,
        region: Region,
        project: impl Into<String>,
        target: EmbedTarget,
        task_prefix: impl Into<String>,
    ) -> Result<Key> {
        let mut key = Key::new(secret, region, project)?;
        match target {
            EmbedTarget::Agent(id) => key.agent_id = Some(non_empty(id, "agent id")?),
            EmbedTarget::Workforce(id) => key.workforce_id = Some(non_empty(id, "workforce id")?),
        }
        key.task_prefix = Some(non_empty(task_prefix.into(), "task prefix")?);
        Ok(key)
    }

    /// The region the key's project lives in.
    pub fn region(&self) -> Region {
        self.region
    }

    /// The project id.
    pub fn project(&self) -> &str {
        &self.project
    }

    /// What the key may reach: the project, unless it is an embed key.
    pub fn scope(&self) -> KeyScope {
        if !self.is_embed() {
            return KeyScope::Project;
        }
        match (&self.agent_id, &self.workforce_id) {
            (Some(agent), _) => KeyScope::Agent(agent.clone()),
            (None, Some(workforce)) => KeyScope::Workforce(workforce.clone()),
            (None, None) => KeyScope::Project,
        }
    }

    /// The agent id stored with the key (even on a non-embed key, see
    /// [`Key::is_embed`]).
    pub fn agent_id(&self) -> Option<&str> {
        self.agent_id.as_deref()
    }

    /// The workforce id stored with the key.
    pub fn workforce_id(&self) -> Option<&str> {
        self.workforce_id.as_deref()
    }

    /// The prefix the ids of this key's new tasks must start with.
    pub fn task_prefix(&self) -> Option<&str> {
        self.task_prefix.as_deref()
    }

    /// The official client's rule: a key is an embed key when it has an agent
    /// or workforce id *and* a task prefix. A persisted key with an `agentId`
    /// but no `taskPrefix` is therefore treated as a project key.
    pub fn is_embed(&self) -> bool {
        (self.agent_id.is_some() || self.workforce_id.is_some()) && self.task_prefix.is_some()
    }

    /// The value of the `Authorization` header: `{project}:{key}`; only the
    /// request layer (`http`) sends it.
    pub(crate) fn authorization_header(&self) -> SecretString {
        SecretString::from(format!("{}:{}", self.project, self.secret.expose_secret()))
    }

    /// The persisted form, byte-compatible with the official
    /// client's `toJSON`: fields in the order `key`, `region` (the code),
    /// `project`, then `agentId`, `workforceId`, `taskPrefix` when present.
    ///
    /// The result holds the secret: store it where you would store the key.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{");
        push_field(&mut out, "key", self.secret.expose_secret());
        push_field(&mut out, "region", self.region.code());
        push_field(&mut out, "project", &self.project);
        if let Some(agent_id) = &self.agent_id {
            push_field(&mut out, "agentId", agent_id);
        }
        if let Some(workforce_id) = &self.workforce_id {
            push_field(&mut out, "workforceId", workforce_id);
        }
        if let Some(task_prefix) = &self.task_prefix {
            push_field(&mut out, "taskPrefix", task_prefix);
        }
        out.push('}');
        out
    }

    /// Restores a key from its persisted form, without any network request.
    ///
    /// Unknown fields are ignored and `null` means absent. `region` may be a
    /// code or a short name (`us`); it is written back as the code. An empty
    /// optional field counts as absent, as the official client's truthiness
    /// test does.
    pub fn from_json(json: &str) -> Result<Key> {
        let value: Value =
            serde_json::from_str(json).map_err(|error| KeyDataError::InvalidJson {
                line: error.line(),
                column: error.column(),
            })?;
        let Value::Object(object) = value else {
            return Err(KeyDataError::NotAnObject.into());
        };
        let secret = required(&object, "key")?;
        let region_text = required(&object, "region")?;
        let region = region_text
            .parse::<Region>()
            .map_err(|_| KeyDataError::UnknownRegion {
                value: region_text.chars().take(40).collect(),
            })?;
        let project = required(&object, "project")?;
        let agent_id = optional(&object, "agentId")?;
        let workforce_id = optional(&object, "workforceId")?;
        let task_prefix = optional(&object, "taskPrefix")?;
        if agent_id.is_some() && workforce_id.is_some() {
            return Err(KeyDataError::ConflictingTargets.into());
        }
        Ok(Key {
            secret: SecretString::from(secret),
            region,
            project,
            agent_id,
            workforce_id,
            task_prefix,
        })
    }

    /// The secret as it may be shown: `…` and its last four characters when it is long
    /// enough for that to reveal nothing useful, `****` otherwise. For telling keys apart in a
    /// UI or a log; never the value.
    pub fn redacted_secret(&self) -> String {
        redact(self.secret.expose_secret())
    }

    fn kind(&self) -> &'static str {
        if self.is_embed() {
            "embed"
        } else {
            "api"
        }
    }
}

/// `…` and the last four characters of a long secret, so two keys can be told
/// apart in a log; a short secret shows nothing at all.
pub(crate) fn redact(secret: &str) -> String {
    let count = secret.chars().count();
    if count >= 16 {
        let tail: String = secret.chars().skip(count - 4).collect();
        format!("…{tail}")
    } else {
        "****".to_string()
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("kind", &self.kind())
            .field("secret", &self.redacted_secret())
            .field("region", &self.region)
            .field("project", &self.project)
            .field("scope", &self.scope())
            .field("task_prefix", &self.task_prefix)
            .finish()
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = self.redacted_secret();
        match self.scope() {
            KeyScope::Project => write!(f, "API key {secret} for project {}", self.project)?,
            KeyScope::Agent(id) => write!(
                f,
                "embed key {secret} for agent {id} of project {}",
                self.project
            )?,
            KeyScope::Workforce(id) => write!(
                f,
                "embed key {secret} for workforce {id} of project {}",
                self.project
            )?,
        }
        write!(f, " in {}", self.region)
    }
}

fn non_empty(value: String, field: &'static str) -> Result<String> {
    if value.is_empty() {
        Err(KeyDataError::EmptyValue { field }.into())
    } else {
        Ok(value)
    }
}

fn push_field(out: &mut String, name: &str, value: &str) {
    if out.len() > 1 {
        out.push(',');
    }
    out.push('"');
    out.push_str(name);
    out.push_str("\":");
    out.push_str(&Value::from(value).to_string());
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn required(object: &Map<String, Value>, field: &'static str) -> Result<String, Error> {
    match object.get(field) {
        None | Some(Value::Null) => Err(KeyDataError::MissingField { field }.into()),
        Some(Value::String(text)) if text.is_empty() => {
            Err(KeyDataError::EmptyField { field }.into())
        }
        Some(Value::String(text)) => Ok(text.clone()),
        Some(other) => Err(KeyDataError::WrongType {
            field,
            found: json_type(other),
        }
        .into()),
    }
}

fn optional(object: &Map<String, Value>, field: &'static str) -> Result<Option<String>, Error> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(KeyDataError::WrongType {
            field,
            found: json_type(other),
        }
        .into()),
    }
}

#[cfg(test)]
mod tests;
