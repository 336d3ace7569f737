//! `--param KEY=VALUE`, `--external-id` and `--if-exists` (PROTOCOL A17) onto the SDK's one
//! message builder, for every command that sends a message.

use relevance::{ExternalIdBehaviour, MessageBuilder};
use serde_json::Value;

use crate::cli::{IfExists, TriggerFlags};

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
