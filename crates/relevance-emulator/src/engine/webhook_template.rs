//! A webhook trigger's message template and field paths: how a payload becomes a message.
//!
//! The platform's docs ("Webhook Triggers") name the language: `{{first_name}}` fills in a
//! payload field, `{{$}}` the whole payload; its generated types describe the thread and
//! unique id mappings as paths into the payload (`custom_webhook.mapping.thread_id`, "jq
//! path to input field"). The emulator reads a path as dotted field names (`order.id`),
//! with an optional jq-style leading `.` or `$.` and numbers for array items
//! (`items.0.sku`). Why not a template crate: the three things needed here — `{{$}}`, a
//! list of the fields that were missing, and the same paths as the mappings use — are not
//! what Handlebars or Jinja engines do, and the whole language is the two rules above.

use serde_json::Value;

/// A path into a JSON payload (`customer.name`, `.items.0.sku`, `$` for all of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldPath {
    /// As written, for messages.
    text: String,
    /// The field names (or array positions) in order; empty for the whole payload.
    segments: Vec<String>,
}

impl FieldPath {
    /// Parses a path, or says what is wrong with it.
    pub(crate) fn parse(text: &str) -> Result<FieldPath, String> {
        let trimmed = text.trim();
        if trimmed == "$" || trimmed == "." {
            return Ok(FieldPath {
                text: trimmed.to_string(),
                segments: Vec::new(),
            });
        }
        let body = trimmed
            .strip_prefix("$.")
            .or_else(|| trimmed.strip_prefix('.'))
            .unwrap_or(trimmed);
        if body.is_empty() {
            return Err(
                "a field path must name a field, e.g. `order.id` (or `$` for the whole payload)"
                    .to_string(),
            );
        }
        let segments: Vec<String> = body.split('.').map(str::to_string).collect();
        if let Some(bad) = segments
            .iter()
            .find(|segment| segment.is_empty() || segment.contains(char::is_whitespace))
        {
            return Err(format!(
                "field path {trimmed:?} has an empty or spaced part {bad:?}: write names joined by dots, e.g. `order.id`"
            ));
        }
        Ok(FieldPath {
            text: trimmed.to_string(),
            segments,
        })
    }

    /// The path as written.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// The value at this path, if the payload has one (an object field by name, an array
    /// item by its number).
    pub(crate) fn lookup<'a>(&self, payload: &'a Value) -> Option<&'a Value> {
        self.segments
            .iter()
            .try_fold(payload, |value, segment| match value {
                Value::Object(fields) => fields.get(segment),
                Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            })
    }

    /// The value at this path as text (see [`as_text`]), or `None` when the payload has no
    /// such field or it is `null`.
    pub(crate) fn text_in(&self, payload: &Value) -> Option<String> {
        self.lookup(payload)
            .filter(|value| !value.is_null())
            .map(as_text)
    }
}

/// A value as it reads in a message: a string as itself, anything else as compact JSON.
pub(crate) fn as_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Field(FieldPath),
}

/// A parsed message template: text with `{{path}}` placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MessageTemplate {
    pieces: Vec<Piece>,
}

/// A rendered message and the placeholders the payload had no value for (each once, in
/// template order); they rendered as empty text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RenderedMessage {
    pub(crate) text: String,
    pub(crate) missing_fields: Vec<String>,
}

impl MessageTemplate {
    /// Parses `{{path}}` placeholders (spaces inside the braces are allowed). A `{{` that is
    /// never closed, or an empty or malformed placeholder, is an error naming it.
    pub(crate) fn parse(template: &str) -> Result<MessageTemplate, String> {
        let mut pieces = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after.find("}}").ok_or_else(|| {
                format!("the template opens a placeholder `{{{{` that it never closes with `}}}}` (at {:?})", short(&rest[open..]))
            })?;
            let path = FieldPath::parse(&after[..close]).map_err(|problem| {
                format!("placeholder `{{{{{}}}}}`: {problem}", &after[..close])
            })?;
            pieces.push(Piece::Field(path));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        Ok(MessageTemplate { pieces })
    }

    /// The message for `payload`: each placeholder replaced by its value as text; a field the
    /// payload lacks (or holds `null` in) renders as nothing and is reported.
    pub(crate) fn render(&self, payload: &Value) -> RenderedMessage {
        let mut text = String::new();
        let mut missing_fields: Vec<String> = Vec::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(literal) => text.push_str(literal),
                Piece::Field(path) => match path.text_in(payload) {
                    Some(value) => text.push_str(&value),
                    None => {
                        if !missing_fields.iter().any(|seen| seen == path.as_str()) {
                            missing_fields.push(path.as_str().to_string());
                        }
                    }
                },
            }
        }
        RenderedMessage {
            text,
            missing_fields,
        }
    }
}

/// The first few characters of `text`, for a message about where a problem is.
fn short(text: &str) -> String {
    text.chars().take(24).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn templates_render_fields_nested_items_and_the_whole_payload() {
        let payload = json!({
            "first_name": "Ada",
            "order": {"id": 42, "paid": true, "lines": [{"sku": "A-1"}]},
            "note": null,
        });
        let cases: &[(&str, &str, &[&str])] = &[
            ("Hello {{first_name}}", "Hello Ada", &[]),
            (
                "Order {{order.id}} paid={{ order.paid }}",
                "Order 42 paid=true",
                &[],
            ),
            ("First line {{order.lines.0.sku}}", "First line A-1", &[]),
            (
                "jq style {{.order.id}} and {{$.first_name}}",
                "jq style 42 and Ada",
                &[],
            ),
            ("{{order.lines}}", r#"[{"sku":"A-1"}]"#, &[]),
            (
                "Missing [{{last_name}}] [{{order.total}}] [{{last_name}}]",
                "Missing [] [] []",
                &["last_name", "order.total"],
            ),
            ("Null [{{note}}]", "Null []", &["note"]),
            (
                "Index out [{{order.lines.3.sku}}] or by name [{{order.lines.sku}}]",
                "Index out [] or by name []",
                &["order.lines.3.sku", "order.lines.sku"],
            ),
            ("No placeholders at all", "No placeholders at all", &[]),
            (
                "Single braces {stay} as they are",
                "Single braces {stay} as they are",
                &[],
            ),
        ];
        for (template, text, missing) in cases {
            let rendered = MessageTemplate::parse(template).unwrap().render(&payload);
            assert_eq!(rendered.text, *text, "{template}");
            assert_eq!(rendered.missing_fields, *missing, "{template}");
        }
    }

    #[test]
    fn the_whole_payload_renders_as_compact_json() {
        let payload = json!({"b": 1, "a": [true]});
        let rendered = MessageTemplate::parse("Event: {{$}}")
            .unwrap()
            .render(&payload);
        assert_eq!(rendered.text, format!("Event: {payload}"));
        let text_payload = json!("just text");
        let rendered = MessageTemplate::parse("{{ $ }}")
            .unwrap()
            .render(&text_payload);
        assert_eq!(rendered.text, "just text");
    }

    #[test]
    fn malformed_templates_name_the_problem() {
        let cases: &[(&str, &str)] = &[
            ("Hello {{name", "never closes"),
            ("Hello {{}}", "must name a field"),
            ("Hello {{ . }} {{a..b}}", "empty or spaced part"),
            ("Hello {{first name}}", "empty or spaced part"),
        ];
        for (template, needle) in cases {
            let problem = MessageTemplate::parse(template).unwrap_err();
            assert!(problem.contains(needle), "{template}: {problem}");
        }
    }

    #[test]
    fn field_paths_read_text_for_thread_and_unique_ids() {
        let payload = json!({"event_id": "e-1", "order": {"id": 7}, "empty": null});
        let cases: &[(&str, Option<&str>)] = &[
            ("event_id", Some("e-1")),
            ("order.id", Some("7")),
            (".order.id", Some("7")),
            ("order", Some(r#"{"id":7}"#)),
            ("empty", None),
            ("absent", None),
            ("event_id.more", None),
        ];
        for (path, expected) in cases {
            let path = FieldPath::parse(path).unwrap();
            assert_eq!(path.text_in(&payload).as_deref(), *expected, "{path:?}");
        }
    }
}
