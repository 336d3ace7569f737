//! `--param KEY=VALUE`, `--external-id` and `--if-exists` (PROTOCOL A17) onto the SDK's one
//! message builder, for every command that sends a message.

use clap::Args;
use relevance::{ExternalIdBehaviour, MessageBuilder};
use serde_json::Value;

/// What a trigger sets beside its message (PROTOCOL A17), for `chat` and `tasks send`.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Trigger")]
pub struct TriggerFlags {
    /// An agent variable for the run, kept on the task (repeatable): `--param name=Ada`.
    /// A value that is JSON (`3`, `true`, `{"a":1}`) is sent as that JSON, anything else as
    /// text.
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, serde_json::Value)>,

    /// The conversation's id in your own system: a conversation with this id is continued,
    /// never started twice (which also makes a retried send safe).
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,

    /// With --external-id, when that conversation exists: `extend` sends the message to it,
    /// `nothing` sends nothing and answers it as it is.
    #[arg(
        long,
        value_enum,
        value_name = "extend|nothing",
        requires = "external_id",
        default_value = "extend"
    )]
    pub if_exists: IfExists,
}

/// `--if-exists`: the trigger's `external_id_behaviour`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum IfExists {
    /// `extend-conversation`.
    #[default]
    Extend,
    /// `nothing`.
    Nothing,
}

/// `KEY=VALUE` → the param: a value that parses as JSON is that JSON, else the text.
pub fn parse_param(text: &str) -> Result<(String, Value), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("expected KEY=VALUE, got '{text}'"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("the name before '=' is empty in '{text}'"));
    }
    let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_string()));
    Ok((name.to_string(), value))
}

impl TriggerFlags {
    /// Whether any flag asks for something (workforces take none of them).
    pub fn is_set(&self) -> bool {
        !self.params.is_empty() || self.external_id.is_some()
    }

    /// The builder with these settings applied.
    pub fn apply<'a>(&self, mut message: MessageBuilder<'a>) -> MessageBuilder<'a> {
        for (name, value) in &self.params {
            message = message.param(name.clone(), value.clone());
        }
        if let Some(id) = &self.external_id {
            let behaviour = match self.if_exists {
                IfExists::Extend => ExternalIdBehaviour::ExtendConversation,
                IfExists::Nothing => ExternalIdBehaviour::Nothing,
            };
            message = message.external_id(id.clone(), behaviour);
        }
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_parse_as_json_or_text() {
        let cases: &[(&str, Option<(&str, Value)>)] = &[
            ("name=Ada", Some(("name", Value::from("Ada")))),
            ("n=3", Some(("n", Value::from(3)))),
            ("flag=true", Some(("flag", Value::from(true)))),
            (r#"obj={"a":1}"#, Some(("obj", serde_json::json!({"a": 1})))),
            ("eq=a=b", Some(("eq", Value::from("a=b")))),
            ("empty=", Some(("empty", Value::from("")))),
            (" spaced =x", Some(("spaced", Value::from("x")))),
            ("novalue", None),
            ("=x", None),
        ];
        for (text, expected) in cases {
            let parsed = parse_param(text).ok();
            let expected = expected
                .clone()
                .map(|(name, value)| (name.to_string(), value));
            assert_eq!(parsed, expected, "{text}");
        }
    }
}
