//! A task's messages as readable HTML, one card per message, by kind
//! (PROTOCOL A7): user, agent, agent error, tool run, workforce run and handover.
//!
//! Message content is whatever clients and scripts wrote, so every string is
//! escaped, and a URL becomes a link only when it is plain `http(s)`.

use serde_json::Value;

use super::html::{badge, esc, when};

fn text_of(value: &Value) -> Option<&str> {
    value.as_str().filter(|text| !text.is_empty())
}

fn pretty(value: &Value) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    format!("<pre>{}</pre>", esc(&text))
}

fn link(url: &str, label: &str) -> String {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        format!(
            r#"<a href="{}" rel="noreferrer noopener">{}</a>"#,
            esc(url),
            esc(label)
        )
    } else {
        format!("{} <code>{}</code>", esc(label), esc(url))
    }
}

fn errors_list(errors: &Value) -> String {
    let items: Vec<String> = errors
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|error| {
                    let body = error["body"]
                        .as_str()
                        .map_or_else(|| error.to_string(), str::to_string);
                    let step = error["step_name"]
                        .as_str()
                        .map_or_else(String::new, |step| {
                            format!(r#" <span class="muted">({})</span>"#, esc(step))
                        });
                    format!("<li>{}{step}</li>", esc(&body))
                })
                .collect()
        })
        .unwrap_or_default();
    if items.is_empty() {
        String::new()
    } else {
        format!("<ul>{}</ul>", items.concat())
    }
}

fn tool_state_badge(state: &str) -> String {
    let (class, label) = match state {
        "finished" => ("ok", "completed"),
        "error" => ("bad", "error"),
        "cancelled" => ("neutral", "cancelled"),
        "running" => ("info", "running"),
        "pending" => ("warn", "pending"),
        _ => ("neutral", state),
    };
    badge(class, label)
}

fn agent_details(details: &Value) -> String {
    let id = details["agent_id"].as_str().unwrap_or("unknown agent");
    let emoji = details["emoji"].as_str().unwrap_or("");
    match details["name"].as_str() {
        Some(name) => format!("{} {} <code>{}</code>", esc(emoji), esc(name), esc(id)),
        None => format!("{} <code>{}</code>", esc(emoji), esc(id)),
    }
}

/// One message as a card: `(css class, kind label, inner html)`.
// Over 80 lines on purpose: one arm per message kind, each a few lines of HTML; it splits with the template-crate move (planned).
fn render_content(content: &Value) -> (&'static str, String, String) {
    let kind = content["type"].as_str().unwrap_or("");
    match kind {
        "user-message" => {
            let mut html = format!(
                r#"<div class="text">{}</div>"#,
                esc(text_of(&content["text"]).unwrap_or(""))
            );
            if let Some(attachments) = content["attachments"].as_array() {
                let items: Vec<String> = attachments
                    .iter()
                    .map(|attachment| {
                        let name = attachment["file_name"].as_str().unwrap_or("attachment");
                        let url = attachment["file_url"].as_str().unwrap_or("");
                        format!("<li>{}</li>", link(url, name))
                    })
                    .collect();
                if !items.is_empty() {
                    html.push_str(&format!(
                        "<div>Attachments:<ul>{}</ul></div>",
                        items.concat()
                    ));
                }
            }
            let label = if content["is_trigger_message"].as_bool() == Some(true) {
                "User (started the task)"
            } else {
                "User"
            };
            ("user", label.to_string(), html)
        }
        "agent-message" => {
            let mut html = String::new();
            if let Some(thoughts) = content["thinking"].as_array() {
                for thought in thoughts.iter().filter_map(Value::as_str) {
                    html.push_str(&format!(r#"<div class="muted">💭 {}</div>"#, esc(thought)));
                }
            }
            html.push_str(&format!(
                r#"<div class="text">{}</div>"#,
                esc(content["text"].as_str().unwrap_or(""))
            ));
            let label = if content["generating"].as_bool() == Some(true) {
                format!("Agent {}", badge("info", "still writing"))
            } else {
                "Agent".to_string()
            };
            ("agent", label, html)
        }
        "agent-error" => (
            "error",
            "Agent error".to_string(),
            errors_list(&content["errors"]),
        ),
        "tool-run" => {
            let config = &content["tool_config"];
            let title = config["title"]
                .as_str()
                .or_else(|| config["id"].as_str())
                .unwrap_or("tool");
            let is_agent = config["type"].as_str() == Some("agent");
            let state = content["tool_run_state"].as_str().unwrap_or("");
            let label = format!(
                "{} <strong>{}</strong> {}",
                if is_agent { "Sub-agent" } else { "Tool" },
                esc(title),
                tool_state_badge(state)
            );
            let mut html = String::new();
            if !content["params"]["resolved"].is_null() {
                html.push_str(&format!(
                    "<div>Input</div>{}",
                    pretty(&content["params"]["resolved"])
                ));
            }
            let output = &content["output"];
            if output.as_object().is_some_and(|output| !output.is_empty()) {
                html.push_str(&format!("<div>Output</div>{}", pretty(output)));
            }
            let errors = errors_list(&content["errors"]);
            if !errors.is_empty() {
                html.push_str(&format!("<div>Errors</div>{errors}"));
            }
            ("tool", label, html)
        }
        "workforce-agent-run" => {
            let task = &content["task_details"];
            let state = task["finished_state"]
                .as_str()
                .or_else(|| task["current_state"].as_str())
                .unwrap_or("");
            let html = format!(
                "<div>{} on task <code>{}</code> {}</div>",
                agent_details(&content["agent_details"]),
                esc(task["conversation_id"].as_str().unwrap_or("")),
                badge("neutral", state)
            );
            ("workforce", "Workforce run".to_string(), html)
        }
        "workforce-agent-handover" => {
            let html = format!(
                r#"<div>Handed over to {}</div><div class="text">{}</div>"#,
                agent_details(&content["agent_details"]),
                esc(content["trigger"]["message"].as_str().unwrap_or(""))
            );
            ("workforce", "Workforce handover".to_string(), html)
        }
        _ => ("", format!("Other ({})", esc(kind)), pretty(content)),
    }
}

/// Renders messages oldest first, as given.
pub(crate) fn render(messages: &[(String, String, Value)]) -> String {
    if messages.is_empty() {
        return r#"<p class="muted">No messages yet.</p>"#.to_string();
    }
    let mut html = r#"<div class="messages" id="messages">"#.to_string();
    for (item_id, insert_date, content) in messages {
        let (class, label, inner) = render_content(content);
        html.push_str(&format!(
            r#"<div class="message {class}" data-item-id="{id}"><div class="meta"><span>{label}</span><span>{at}</span></div>{inner}</div>"#,
            id = esc(item_id),
            at = when(insert_date),
        ));
    }
    html.push_str("</div>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_kind_is_labelled_and_escaped() {
        let cases = [
            (
                json!({"type": "user-message", "text": "<b>hi</b>", "is_trigger_message": true,
                       "attachments": [{"file_name": "a.pdf", "file_url": "javascript:alert(1)"}]}),
                "User (started the task)",
                "&lt;b&gt;hi&lt;/b&gt;",
            ),
            (
                json!({"type": "agent-message", "text": "ok", "generating": true, "thinking": ["<t>"]}),
                "still writing",
                "&lt;t&gt;",
            ),
            (
                json!({"type": "agent-error", "errors": [{"body": "<boom>"}]}),
                "Agent error",
                "&lt;boom&gt;",
            ),
            (
                json!({"type": "tool-run", "tool_run_state": "finished",
                       "tool_config": {"type": "tool", "title": "web<search>"},
                       "params": {"resolved": {"q": "x"}, "valid": true}, "output": {"hits": 3}, "errors": []}),
                "completed",
                "web&lt;search&gt;",
            ),
            (
                json!({"type": "workforce-agent-handover", "agent_details": {"agent_id": "a1"},
                       "trigger": {"message": "<go>"}}),
                "Workforce handover",
                "&lt;go&gt;",
            ),
            (
                json!({"type": "mystery", "x": "<y>"}),
                "Other (mystery)",
                "&lt;y&gt;",
            ),
        ];
        for (content, label, escaped) in cases {
            let html = render(&[("m1".into(), "2026-01-01T00:00:00.000Z".into(), content)]);
            assert!(html.contains(label), "{label}: {html}");
            assert!(html.contains(escaped), "{escaped}: {html}");
            assert!(!html.contains("<b>") && !html.contains("<t>") && !html.contains("<boom>"));
            assert!(!html.contains("href=\"javascript"), "{html}");
        }
    }
}
