//! Running a tool (PROTOCOL A12): params checked against its `params_schema`, then its
//! behaviour (the emulator's own: a fixed or templated output, a delay, a failure).
//!
//! Both ways a tool runs come here, so they agree: a direct `studios/{id}/trigger_limited`
//! and an agent's script `tool` step that names a tool of its project. This module
//! decides the outcome only; it never sleeps (the caller waits [`ToolBehavior::delay_ms`]
//! in its own way: the handler on its task, the engine as a scheduled phase) and never
//! touches the store.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The longest pause a tool's behaviour may ask for: a minute.
pub(crate) const MAX_TOOL_DELAY_MS: u64 = 60_000;

/// What a tool does when it runs: the emulator's own settings (the platform runs the
/// tool's `transformations` instead, which the emulator stores but does not execute).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ToolBehavior {
    /// The output; every `{name}` in its strings is replaced by the param `name` (a
    /// string that is exactly `{name}` becomes the param's JSON value). None: `{}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) output: Option<Value>,
    /// How long a run takes before it answers, in milliseconds.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) delay_ms: u64,
    /// When set, every run with valid params fails with this text (templated as `output`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
    /// What one run costs, as a task's tool runs report it (PROTOCOL A18); none: zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cost: Option<serde_json::Number>,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

impl ToolBehavior {
    /// The stored form; serialising plain data cannot fail.
    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }

    /// The stored form read back; an unreadable one (never written by this emulator)
    /// behaves as the default, with a log line.
    pub(crate) fn from_json(text: &str) -> ToolBehavior {
        serde_json::from_str(text).unwrap_or_else(|error| {
            tracing::warn!(%error, "unreadable tool behaviour; running it with the default");
            ToolBehavior::default()
        })
    }

    /// Checks the settings a caller gave: `Err` says what is wrong.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.delay_ms > MAX_TOOL_DELAY_MS {
            return Err(format!("`delay_ms` must be from 0 to {MAX_TOOL_DELAY_MS}"));
        }
        match &self.output {
            None | Some(Value::Object(_)) => Ok(()),
            Some(_) => Err("`output` must be an object".to_string()),
        }
    }
}

/// A run's status, as `trigger_limited` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ToolStatus {
    Complete,
    Failed,
}

impl ToolStatus {
    /// The wire spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ToolStatus::Complete => "complete",
            ToolStatus::Failed => "failed",
        }
    }
}

/// What one run of a tool gave.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ToolOutcome {
    pub(crate) status: ToolStatus,
    pub(crate) output: Value,
    /// One entry per problem: each schema violation, or the behaviour's failure.
    pub(crate) errors: Vec<String>,
    /// How long the behaviour says the run takes (none when the params were refused).
    pub(crate) delay_ms: u64,
}

/// Checks that `schema` is a JSON Schema the validator accepts; `Err` says why not.
pub(crate) fn check_schema(schema: &Value) -> Result<(), String> {
    jsonschema::validator_for(schema)
        .map(|_| ())
        .map_err(|error| format!("`params_schema` is not a valid JSON Schema: {error}"))
}

/// Every way `params` breaks `schema`, one line each (empty when they fit).
pub(crate) fn violations(schema: &Value, params: &Value) -> Vec<String> {
    let validator = match jsonschema::validator_for(schema) {
        Ok(validator) => validator,
        Err(error) => return vec![format!("the tool's params_schema is invalid: {error}")],
    };
    validator
        .iter_errors(params)
        .map(|error| {
            let path = error.instance_path.to_string();
            if path.is_empty() {
                format!("params: {error}")
            } else {
                format!("params{path}: {error}")
            }
        })
        .collect()
}

/// Runs a tool whose `params_schema` is `schema` and behaviour `behavior` on `params`.
pub(crate) fn run(schema: &Value, behavior: &ToolBehavior, params: &Value) -> ToolOutcome {
    let problems = violations(schema, params);
    if !problems.is_empty() {
        return ToolOutcome {
            status: ToolStatus::Failed,
            output: Value::Object(Map::new()),
            errors: problems,
            delay_ms: 0,
        };
    }
    let empty = Map::new();
    let values = params.as_object().unwrap_or(&empty);
    if let Some(error) = &behavior.error {
        return ToolOutcome {
            status: ToolStatus::Failed,
            output: Value::Object(Map::new()),
            errors: vec![fill_text(error, values)],
            delay_ms: behavior.delay_ms,
        };
    }
    let output = behavior
        .output
        .clone()
        .map_or_else(|| Value::Object(Map::new()), |output| fill(output, values));
    ToolOutcome {
        status: ToolStatus::Complete,
        output,
        errors: Vec::new(),
        delay_ms: behavior.delay_ms,
    }
}

/// `{name}` → the param's text (a string as it is, anything else as JSON).
fn fill_text(text: &str, params: &Map<String, Value>) -> String {
    let mut filled = text.to_string();
    for (name, value) in params {
        let replacement = match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        filled = filled.replace(&format!("{{{name}}}"), &replacement);
    }
    filled
}

fn fill(value: Value, params: &Map<String, Value>) -> Value {
    match value {
        Value::String(text) => {
            let whole = text
                .strip_prefix('{')
                .and_then(|rest| rest.strip_suffix('}'))
                .and_then(|name| params.get(name));
            match whole {
                Some(value) => value.clone(),
                None => Value::String(fill_text(&text, params)),
            }
        }
        Value::Array(items) => Value::Array(items.into_iter().map(|v| fill(v, params)).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, item)| (key, fill(item, params)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object",
               "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
               "required": ["city"]})
    }

    #[test]
    fn each_violation_is_one_error_and_the_run_fails() {
        let outcome = run(
            &schema(),
            &ToolBehavior::default(),
            &json!({"days": 0, "extra": true}),
        );
        assert_eq!(outcome.status, ToolStatus::Failed);
        assert_eq!(outcome.errors.len(), 2, "{:?}", outcome.errors);
        assert!(outcome.errors.iter().any(|e| e.contains("city")));
        assert!(outcome.errors.iter().any(|e| e.contains("/days")));
    }

    #[test]
    fn outputs_are_templated_from_the_params() {
        let behavior = ToolBehavior {
            output: Some(json!({"text": "sunny in {city}", "days": "{days}", "n": [1, "{city}"]})),
            ..ToolBehavior::default()
        };
        let outcome = run(&schema(), &behavior, &json!({"city": "Oslo", "days": 3}));
        assert_eq!(outcome.status, ToolStatus::Complete);
        assert_eq!(
            outcome.output,
            json!({"text": "sunny in Oslo", "days": 3, "n": [1, "Oslo"]})
        );
        let failing = ToolBehavior {
            error: Some("no weather for {city}".into()),
            delay_ms: 5,
            ..ToolBehavior::default()
        };
        let outcome = run(&schema(), &failing, &json!({"city": "Oslo"}));
        assert_eq!(outcome.status, ToolStatus::Failed);
        assert_eq!(outcome.errors, ["no weather for Oslo"]);
        assert_eq!(outcome.delay_ms, 5);
    }

    #[test]
    fn schemas_and_behaviours_are_checked() {
        assert!(check_schema(&schema()).is_ok());
        assert!(check_schema(&json!({"type": "no-such-type"})).is_err());
        let slow = ToolBehavior {
            delay_ms: MAX_TOOL_DELAY_MS + 1,
            ..ToolBehavior::default()
        };
        assert!(slow.check().is_err());
        let list = ToolBehavior {
            output: Some(json!([1])),
            ..ToolBehavior::default()
        };
        assert!(list.check().is_err());
    }
}
