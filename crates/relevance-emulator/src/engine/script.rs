//! What an agent does with a user message: its behaviour, as steps.
//!
//! The seed file's `script` tables are checked here (exactly one action per
//! step, known keys, sensible values) so that a bad script stops start-up
//! instead of failing mid-run. A run stores its resolved steps (with
//! `{message}` already replaced), so editing the seed never changes a run
//! that is already going.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The behaviours an agent may have.
pub(crate) const BEHAVIORS: &[&str] = &["echo", "script"];

/// Default pause before a script step, in milliseconds.
const DEFAULT_STEP_DELAY_MS: u64 = 20;
/// Default pause between typed chunks, in milliseconds.
pub(crate) const DEFAULT_CHUNK_DELAY_MS: u64 = 15;
/// The longest pause a seed may ask for: an hour.
const MAX_DELAY_MS: i64 = 3_600_000;
/// The state a run leaves its task in unless the agent says `end_state = "completed"`.
pub(crate) const END_STATES: &[&str] = &["idle", "completed"];

/// What one step does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub(crate) enum Action {
    /// Thinking live events; the thoughts go into the next agent message's `thinking`.
    Think { text: String },
    /// One tool-run message: `pending` → `running` → `finished` (with `output`) or `error`.
    /// With `requires_confirmation`, the run waits in `pending` (the task in
    /// `pending-approval`) until a person confirms or rejects it (PROTOCOL A10).
    Tool {
        name: String,
        input: Value,
        output: Value,
        error: Option<String>,
        /// The run waits for a person's decision before it runs.
        #[serde(default)]
        requires_confirmation: bool,
        /// The `action_details.action` to write instead of the agent's default action id.
        #[serde(default)]
        action_id: Option<String>,
    },
    /// An agent message typed in chunks while `generating`, then final.
    Type { text: String },
    /// A final agent message at once.
    Reply { text: String },
    /// An `agent-error` message; the task ends `unrecoverable` unless `continue_run`.
    Error { text: String, continue_run: bool },
    /// An agent message, then the task waits in `pending-approval` for the next trigger.
    Approval { text: String },
    /// A tool-run of type `agent` that runs a task on another agent of the project.
    SubAgent { agent_id: String, message: String },
    /// Ends a workforce member's run and hands the conversation to another member,
    /// which gets `message`. Outside a workforce the run simply ends here.
    Handover { agent_id: String, message: String },
    /// Not a seed step: the one step of a workforce task's run, which runs members
    /// (first `first_agent_id` with `message`, then whoever they hand over to) until
    /// one ends without a handover, one fails, or `execution_limit` runs have started.
    Workforce {
        workforce_id: String,
        first_agent_id: String,
        message: String,
        execution_limit: u32,
    },
}

/// One step of a program: a pause, then an action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Step {
    pub(crate) delay_ms: u64,
    #[serde(flatten)]
    pub(crate) action: Action,
}

/// An agent's behaviour settings as stored with the agent (JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct BehaviorConfig {
    #[serde(default)]
    pub(crate) script: Vec<Step>,
    #[serde(default = "default_end_state")]
    pub(crate) end_state: String,
    #[serde(default = "default_chunk_delay")]
    pub(crate) chunk_delay_ms: u64,
}

fn default_end_state() -> String {
    END_STATES[0].to_string()
}

fn default_chunk_delay() -> u64 {
    DEFAULT_CHUNK_DELAY_MS
}

impl Default for BehaviorConfig {
    fn default() -> BehaviorConfig {
        BehaviorConfig {
            script: Vec::new(),
            end_state: default_end_state(),
            chunk_delay_ms: DEFAULT_CHUNK_DELAY_MS,
        }
    }
}

impl BehaviorConfig {
    /// The stored form; serialising plain data cannot fail.
    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }
}

/// What a script's text may name: `{message}` (the user message) and `{params.NAME}` (the
/// task's params, PROTOCOL A17; a string as it is, any other value as JSON, a missing one
/// as nothing).
pub(crate) struct Fill<'a> {
    pub(crate) message: &'a str,
    pub(crate) params: &'a serde_json::Map<String, Value>,
}

impl Fill<'_> {
    fn text(&self, text: &str) -> String {
        let text = text.replace("{message}", self.message);
        if !text.contains("{params.") {
            return text;
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(at) = rest.find("{params.") {
            out.push_str(&rest[..at]);
            let after = &rest[at + "{params.".len()..];
            match after.find('}') {
                Some(end) => {
                    out.push_str(&self.param(&after[..end]));
                    rest = &after[end + 1..];
                }
                None => {
                    out.push_str(&rest[at..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }

    fn param(&self, name: &str) -> String {
        match self.params.get(name) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
        }
    }

    fn json(&self, value: Value) -> Value {
        match value {
            Value::String(text) => Value::String(self.text(&text)),
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|item| self.json(item)).collect())
            }
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(key, item)| (key, self.json(item)))
                    .collect(),
            ),
            other => other,
        }
    }
}

/// The steps a run executes for `behavior`, with `{message}` and `{params.NAME}` filled in.
pub(crate) fn program(
    behavior: &str,
    config: &BehaviorConfig,
    message: &str,
    params: &serde_json::Map<String, Value>,
) -> Vec<Step> {
    let steps = match behavior {
        "script" => config.script.clone(),
        // "echo" and anything unknown (an older database) echo.
        _ => vec![Step {
            delay_ms: DEFAULT_STEP_DELAY_MS,
            action: Action::Type {
                text: "You said: {message}".to_string(),
            },
        }],
    };
    let fill = Fill { message, params };
    steps
        .into_iter()
        .map(|step| substitute(step, &fill))
        .collect()
}

fn substitute(step: Step, fill: &Fill<'_>) -> Step {
    let action = match step.action {
        Action::Think { text } => Action::Think {
            text: fill.text(&text),
        },
        Action::Tool {
            name,
            input,
            output,
            error,
            requires_confirmation,
            action_id,
        } => Action::Tool {
            name,
            input: fill.json(input),
            output: fill.json(output),
            error: error.map(|text| fill.text(&text)),
            requires_confirmation,
            action_id,
        },
        Action::Type { text } => Action::Type {
            text: fill.text(&text),
        },
        Action::Reply { text } => Action::Reply {
            text: fill.text(&text),
        },
        Action::Error { text, continue_run } => Action::Error {
            text: fill.text(&text),
            continue_run,
        },
        Action::Approval { text } => Action::Approval {
            text: fill.text(&text),
        },
        Action::SubAgent {
            agent_id,
            message: text,
        } => Action::SubAgent {
            agent_id,
            message: fill.text(&text),
        },
        Action::Handover {
            agent_id,
            message: text,
        } => Action::Handover {
            agent_id,
            message: fill.text(&text),
        },
        workforce @ Action::Workforce { .. } => workforce,
    };
    Step { action, ..step }
}

const ACTIONS: &[&str] = &[
    "think",
    "tool",
    "type",
    "reply",
    "error",
    "approval",
    "sub_agent",
    "handover",
];

fn text(table: &toml::Table, key: &str) -> Result<String, String> {
    match table.get(key) {
        Some(toml::Value::String(text)) => Ok(text.clone()),
        Some(_) => Err(format!("`{key}` must be a string")),
        None => Err(format!("`{key}` is missing")),
    }
}

fn object(table: &toml::Table, key: &str) -> Result<Value, String> {
    match table.get(key) {
        None => Ok(Value::Object(serde_json::Map::new())),
        Some(value @ toml::Value::Table(_)) => serde_json::to_value(value)
            .map_err(|error| format!("`{key}` cannot be turned into JSON: {error}")),
        Some(_) => Err(format!(
            "`{key}` must be a table, e.g. {key} = {{ q = \"x\" }}"
        )),
    }
}

/// Checks one `script` table and turns it into a [`Step`]; `Err` says what is wrong.
pub(crate) fn parse_step(table: &toml::Table) -> Result<Step, String> {
    let action = the_one_action(table)?;
    check_keys(table, action)?;
    let delay_ms = step_delay(table)?;
    let action = parse_action(table, action)?;
    Ok(Step { delay_ms, action })
}

/// The step's action key: exactly one of [`ACTIONS`].
fn the_one_action(table: &toml::Table) -> Result<&'static str, String> {
    let has_tool = table.contains_key("tool");
    // In a tool step, `error` is the tool's outcome, not an action of its own.
    let actions: Vec<&'static str> = ACTIONS
        .iter()
        .copied()
        .filter(|action| table.contains_key(*action) && !(has_tool && *action == "error"))
        .collect();
    match actions.as_slice() {
        [one] => Ok(*one),
        [] => Err(format!(
            "a script step needs exactly one action: one of {}",
            ACTIONS.join(", ")
        )),
        many => Err(format!(
            "a script step has {} actions ({}); put each in its own step",
            many.len(),
            many.join(", ")
        )),
    }
}

/// No key but the action, `delay_ms` and the action's own settings.
fn check_keys(table: &toml::Table, action: &str) -> Result<(), String> {
    let extras: &[&str] = match action {
        "tool" => &[
            "input",
            "output",
            "error",
            "requires_confirmation",
            "action",
        ],
        "error" => &["continue"],
        "sub_agent" | "handover" => &["message"],
        _ => &[],
    };
    match table.keys().find(|key| {
        key.as_str() != action && key.as_str() != "delay_ms" && !extras.contains(&key.as_str())
    }) {
        None => Ok(()),
        Some(unknown) => Err(format!(
            "unknown key `{unknown}` in a `{action}` step (allowed: {action}, delay_ms{}{})",
            if extras.is_empty() { "" } else { ", " },
            extras.join(", ")
        )),
    }
}

/// `delay_ms`, or the default pause before a step.
fn step_delay(table: &toml::Table) -> Result<u64, String> {
    match table.get("delay_ms") {
        None => Ok(DEFAULT_STEP_DELAY_MS),
        Some(toml::Value::Integer(ms)) if (0..=MAX_DELAY_MS).contains(ms) => {
            Ok(u64::try_from(*ms).unwrap_or(DEFAULT_STEP_DELAY_MS))
        }
        Some(_) => Err(format!(
            "`delay_ms` must be an integer from 0 to {MAX_DELAY_MS}"
        )),
    }
}

/// A `true`/`false` setting, `false` when absent.
fn flag(table: &toml::Table, key: &str) -> Result<bool, String> {
    match table.get(key) {
        None => Ok(false),
        Some(toml::Value::Boolean(value)) => Ok(*value),
        Some(_) => Err(format!("`{key}` must be true or false")),
    }
}

/// A text setting that may be absent.
fn optional_text(table: &toml::Table, key: &str) -> Result<Option<String>, String> {
    match table.get(key) {
        None => Ok(None),
        Some(_) => text(table, key).map(Some),
    }
}

/// The [`Action`] of a step whose action key is `action`, in the order the README lists them.
fn parse_action(table: &toml::Table, action: &str) -> Result<Action, String> {
    Ok(match action {
        "think" => Action::Think {
            text: text(table, "think")?,
        },
        "tool" => {
            if table.contains_key("output") && table.contains_key("error") {
                return Err("a `tool` step has either `output` or `error`, not both".to_string());
            }
            Action::Tool {
                name: text(table, "tool")?,
                input: object(table, "input")?,
                output: object(table, "output")?,
                error: optional_text(table, "error")?,
                requires_confirmation: flag(table, "requires_confirmation")?,
                action_id: optional_text(table, "action")?,
            }
        }
        "type" => Action::Type {
            text: text(table, "type")?,
        },
        "reply" => Action::Reply {
            text: text(table, "reply")?,
        },
        "error" => Action::Error {
            text: text(table, "error")?,
            continue_run: flag(table, "continue")?,
        },
        "approval" => Action::Approval {
            text: text(table, "approval")?,
        },
        "handover" => Action::Handover {
            agent_id: text(table, "handover")?,
            message: text(table, "message")?,
        },
        _ => Action::SubAgent {
            agent_id: text(table, "sub_agent")?,
            message: text(table, "message")?,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(source: &str) -> toml::Table {
        source.parse().expect("test TOML is valid")
    }

    #[test]
    fn steps_need_exactly_one_action_and_known_keys() {
        let cases: &[(&str, Result<(), &str>)] = &[
            ("think = \"hm\"", Ok(())),
            (
                "tool = \"search\"\ninput = { q = \"x\" }\noutput = { hits = 1 }",
                Ok(()),
            ),
            ("tool = \"search\"\nerror = \"down\"", Ok(())),
            (
                "tool = \"send_email\"\nrequires_confirmation = true\naction = \"mail\"",
                Ok(()),
            ),
            (
                "tool = \"t\"\nrequires_confirmation = \"yes\"",
                Err("`requires_confirmation` must be true or false"),
            ),
            ("tool = \"t\"\naction = 3", Err("`action` must be a string")),
            (
                "reply = \"x\"\nrequires_confirmation = true",
                Err("unknown key"),
            ),
            ("type = \"hello\"\ndelay_ms = 0", Ok(())),
            ("error = \"boom\"\ncontinue = true", Ok(())),
            ("sub_agent = \"a\"\nmessage = \"go\"", Ok(())),
            ("delay_ms = 5", Err("exactly one action")),
            ("think = \"a\"\nreply = \"b\"", Err("2 actions")),
            ("dance = \"now\"", Err("exactly one action")),
            ("think = \"a\"\ncolour = 1", Err("unknown key `colour`")),
            ("think = 3", Err("`think` must be a string")),
            ("reply = \"x\"\ndelay_ms = -1", Err("delay_ms")),
            ("tool = \"t\"\noutput = {}\nerror = \"e\"", Err("not both")),
            ("tool = \"t\"\ninput = 3", Err("must be a table")),
            ("sub_agent = \"a\"", Err("`message` is missing")),
            ("handover = \"b\"\nmessage = \"over\"", Ok(())),
            ("handover = \"b\"", Err("`message` is missing")),
            (
                "handover = \"b\"\nmessage = \"m\"\nreply = \"x\"",
                Err("2 actions"),
            ),
        ];
        for (source, expected) in cases {
            let parsed = parse_step(&table(source));
            match (parsed, expected) {
                (Ok(_), Ok(())) => {}
                (Err(problem), Err(needle)) => {
                    assert!(problem.contains(needle), "{source:?}: {problem}")
                }
                (parsed, expected) => panic!("{source:?}: {parsed:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn programs_replace_the_message_everywhere() {
        let config = BehaviorConfig {
            script: vec![
                parse_step(&table("tool = \"t\"\ninput = { q = \"{message}\" }")).expect("valid"),
                parse_step(&table("reply = \"re: {message}\"")).expect("valid"),
            ],
            ..BehaviorConfig::default()
        };
        let none = serde_json::Map::new();
        let steps = program("script", &config, "hi", &none);
        assert!(matches!(&steps[0].action, Action::Tool { input, .. } if input["q"] == "hi"));
        assert_eq!(
            steps[1].action,
            Action::Reply {
                text: "re: hi".into()
            }
        );
        let echo = program("echo", &config, "yo", &none);
        assert_eq!(
            echo[0].action,
            Action::Type {
                text: "You said: yo".into()
            }
        );
        let stored: BehaviorConfig = serde_json::from_str(&config.to_json()).expect("round trip");
        assert_eq!(stored, config);
    }

    #[test]
    fn params_fill_the_script_by_name() {
        let params: serde_json::Map<String, Value> =
            serde_json::from_str(r#"{"name":"Ada","n":3,"flag":true,"nothing":null}"#).unwrap();
        let fill = Fill {
            message: "m",
            params: &params,
        };
        let cases = [
            ("hi {params.name}", "hi Ada"),
            ("{params.n}/{params.flag}", "3/true"),
            ("[{params.missing}][{params.nothing}]", "[][]"),
            ("{message} {params.name} {message}", "m Ada m"),
            ("open {params.name", "open {params.name"),
            ("{params.}", ""),
            ("no braces", "no braces"),
        ];
        for (text, expected) in cases {
            assert_eq!(fill.text(text), expected, "{text}");
        }
        assert_eq!(
            fill.json(serde_json::json!({"q": ["{params.name}", 1]})),
            serde_json::json!({"q": ["Ada", 1]})
        );
    }
}
