//! A task's messages as readable HTML, one card per message, by kind
//! (PROTOCOL A7): user, agent, agent error, tool run, workforce run and handover.
//!
//! Message content is whatever clients and scripts wrote; `maud` escapes every
//! string, and a URL becomes a link only when it is plain `http(s)`. Each kind
//! has its own function answering a [`Card`]; a tool run that waits for a person
//! (PROTOCOL A10) carries Approve / Reject forms in its card (see [`tool_run`]).

use maud::{html, Markup};
use serde_json::Value;

use super::html::{badge, post_form, when};

/// Where a waiting tool run's Approve / Reject forms post (`{task_url}/approve`,
/// `{task_url}/reject`) and the session's CSRF token they carry. Only agent task
/// pages have one: a workforce member's run is decided in the member's own task.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Decide<'a> {
    pub(crate) task_url: &'a str,
    pub(crate) csrf: &'a str,
}

/// One message card: its CSS class, the label in its top line, and its body.
struct Card {
    class: &'static str,
    label: Markup,
    body: Markup,
}

fn pretty(value: &Value) -> Markup {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    html! { pre { (text) } }
}

fn link(url: &str, label: &str) -> Markup {
    let lower = url.to_ascii_lowercase();
    html! {
        @if lower.starts_with("http://") || lower.starts_with("https://") {
            a href=(url) rel="noreferrer noopener" { (label) }
        } @else {
            (label) " " code { (url) }
        }
    }
}

/// The `errors` array as a list; `None` when there are none.
fn errors_list(errors: &Value) -> Option<Markup> {
    let errors = errors.as_array().filter(|errors| !errors.is_empty())?;
    Some(html! {
        ul {
            @for error in errors {
                li {
                    (error["body"].as_str().map_or_else(|| error.to_string(), str::to_string))
                    @if let Some(step) = error["step_name"].as_str() {
                        " " span.muted { "(" (step) ")" }
                    }
                }
            }
        }
    })
}

fn tool_state_badge(state: &str) -> Markup {
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

fn agent_details(details: &Value) -> Markup {
    let id = details["agent_id"].as_str().unwrap_or("unknown agent");
    let emoji = details["emoji"].as_str().unwrap_or("");
    html! {
        (emoji) " "
        @if let Some(name) = details["name"].as_str() { (name) " " }
        code { (id) }
    }
}

fn user_message(content: &Value) -> Card {
    let attachments = content["attachments"]
        .as_array()
        .filter(|list| !list.is_empty());
    let label = if content["is_trigger_message"].as_bool() == Some(true) {
        "User (started the task)"
    } else {
        "User"
    };
    Card {
        class: "user",
        label: html! { (label) },
        body: html! {
            div.text { (content["text"].as_str().unwrap_or("")) }
            @if let Some(attachments) = attachments {
                div {
                    "Attachments:"
                    ul {
                        @for attachment in attachments {
                            li { (link(
                                attachment["file_url"].as_str().unwrap_or(""),
                                attachment["file_name"].as_str().unwrap_or("attachment"),
                            )) }
                        }
                    }
                }
            }
        },
    }
}

fn agent_message(content: &Value) -> Card {
    let thoughts = content["thinking"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    Card {
        class: "agent",
        label: html! {
            "Agent"
            @if content["generating"].as_bool() == Some(true) {
                " " (badge("info", "still writing"))
            }
        },
        body: html! {
            @for thought in thoughts.iter().filter_map(Value::as_str) {
                div.muted { "💭 " (thought) }
            }
            div.text { (content["text"].as_str().unwrap_or("")) }
        },
    }
}

/// The `action_request_id` of a run that waits for a decision (PROTOCOL A10:
/// `requires_confirmation` and `tool_run_state: "pending"`), if this one does.
fn waiting_request(content: &Value) -> Option<&str> {
    let waits = content["requires_confirmation"].as_bool() == Some(true)
        && content["tool_run_state"].as_str() == Some("pending");
    content["action_details"]["action_request_id"]
        .as_str()
        .filter(|id| waits && !id.is_empty())
}

/// The Approve / Reject forms of a waiting run, each naming the run's request id.
fn decision_forms(decide: Decide<'_>, request_id: &str) -> Markup {
    let form = |verb: &str, label: &str, class: &str| {
        let fields = html! {
            input type="hidden" name="action_request_id" value=(request_id);
            button type="submit" class=(class) id=(verb) { (label) }
        };
        post_form(
            &format!("{}/{verb}", decide.task_url),
            "inline",
            decide.csrf,
            fields,
        )
    };
    html! {
        div.card.warning id="pending-approval" {
            p { "This tool run waits for a decision: approving runs it and the agent goes on; "
                "rejecting cancels it and the agent goes on without it." }
            (form("approve", "Approve", "")) " " (form("reject", "Reject", "danger"))
        }
    }
}

/// A tool or sub-agent run; a waiting one with its Approve / Reject forms when the
/// page can decide (`decide`).
fn tool_run(content: &Value, decide: Option<Decide<'_>>) -> Card {
    let config = &content["tool_config"];
    let title = config["title"]
        .as_str()
        .or_else(|| config["id"].as_str())
        .unwrap_or("tool");
    let kind = if config["type"].as_str() == Some("agent") {
        "Sub-agent"
    } else {
        "Tool"
    };
    let state = content["tool_run_state"].as_str().unwrap_or("");
    let input = &content["params"]["resolved"];
    let output = &content["output"];
    Card {
        class: "tool",
        label: html! { (kind) " " strong { (title) } " " (tool_state_badge(state)) },
        body: html! {
            @if !input.is_null() { div { "Input" } (pretty(input)) }
            @if output.as_object().is_some_and(|output| !output.is_empty()) {
                div { "Output" } (pretty(output))
            }
            @if let Some(errors) = errors_list(&content["errors"]) { div { "Errors" } (errors) }
            @if let (Some(decide), Some(request_id)) = (decide, waiting_request(content)) {
                (decision_forms(decide, request_id))
            }
        },
    }
}

fn workforce_run(content: &Value) -> Card {
    let task = &content["task_details"];
    let state = task["finished_state"]
        .as_str()
        .or_else(|| task["current_state"].as_str())
        .unwrap_or("");
    Card {
        class: "workforce",
        label: html! { "Workforce run" },
        body: html! {
            div {
                (agent_details(&content["agent_details"])) " on task "
                code { (task["conversation_id"].as_str().unwrap_or("")) } " "
                (badge("neutral", state))
            }
        },
    }
}

fn workforce_handover(content: &Value) -> Card {
    Card {
        class: "workforce",
        label: html! { "Workforce handover" },
        body: html! {
            div { "Handed over to " (agent_details(&content["agent_details"])) }
            div.text { (content["trigger"]["message"].as_str().unwrap_or("")) }
        },
    }
}

/// One message as a card, by its `type`.
fn card(content: &Value, decide: Option<Decide<'_>>) -> Card {
    let kind = content["type"].as_str().unwrap_or("");
    match kind {
        "user-message" => user_message(content),
        "agent-message" => agent_message(content),
        "agent-error" => Card {
            class: "error",
            label: html! { "Agent error" },
            body: errors_list(&content["errors"]).unwrap_or_default(),
        },
        "tool-run" => tool_run(content, decide),
        "workforce-agent-run" => workforce_run(content),
        "workforce-agent-handover" => workforce_handover(content),
        _ => Card {
            class: "",
            label: html! { "Other (" (kind) ")" },
            body: pretty(content),
        },
    }
}

/// Renders messages oldest first, as given: `(item_id, insert_date, content)`; a
/// waiting tool run gets decision forms when `decide` says where they post.
pub(crate) fn render(messages: &[(String, String, Value)], decide: Option<Decide<'_>>) -> Markup {
    html! {
        @if messages.is_empty() {
            p.muted { "No messages yet." }
        } @else {
            div.messages id="messages" {
                @for (item_id, insert_date, content) in messages {
                    @let card = card(content, decide);
                    div class={ "message " (card.class) } data-item-id=(item_id) {
                        div.meta { span { (card.label) } span { (when(insert_date)) } }
                        (card.body)
                    }
                }
            }
        }
    }
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
            let html = render(
                &[("m1".into(), "2026-01-01T00:00:00.000Z".into(), content)],
                None,
            )
            .into_string();
            assert!(html.contains(label), "{label}: {html}");
            assert!(html.contains(escaped), "{escaped}: {html}");
            assert!(!html.contains("<b>") && !html.contains("<t>") && !html.contains("<boom>"));
            assert!(!html.contains("href=\"javascript"), "{html}");
        }
    }

    #[test]
    fn only_a_waiting_run_on_a_page_that_can_decide_gets_the_decision_forms() {
        let waiting = json!({"type": "tool-run", "tool_run_state": "pending",
            "requires_confirmation": true, "tool_config": {"title": "send_email"},
            "action_details": {"action": "a", "action_request_id": "req-<1>"}});
        let mut finished = waiting.clone();
        finished["tool_run_state"] = json!("finished");
        let mut unasked = waiting.clone();
        unasked["requires_confirmation"] = json!(false);
        let decide = Decide {
            task_url: "/dashboard/projects/p/tasks/t",
            csrf: "tok",
        };
        let cases = [
            (&waiting, Some(decide), true),
            (&waiting, None, false),
            (&finished, Some(decide), false),
            (&unasked, Some(decide), false),
        ];
        for (content, decide, shown) in cases {
            let html = render(
                &[("m".into(), "2026-01-01T00:00:00Z".into(), content.clone())],
                decide,
            )
            .into_string();
            assert_eq!(html.contains(r#"id="pending-approval""#), shown, "{html}");
            assert_eq!(
                html.contains(r#"action="/dashboard/projects/p/tasks/t/approve""#),
                shown
            );
            assert_eq!(
                html.contains(r#"action="/dashboard/projects/p/tasks/t/reject""#),
                shown
            );
            if shown {
                assert!(
                    html.contains(r#"name="action_request_id" value="req-&lt;1&gt;""#),
                    "{html}"
                );
                assert_eq!(
                    html.matches(r#"name="csrf" value="tok""#).count(),
                    2,
                    "{html}"
                );
            }
        }
    }
}
