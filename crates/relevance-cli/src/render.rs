//! How task messages look on a terminal and as JSON lines: pure formatting, no printing
//! (that is `output`'s).
//!
//! A history view (`tasks show`, `chat --task`) lists a task's messages in the order in
//! which things happened, which is not always the order of the message list: an agent's
//! thought is stored on its final reply, after the tool runs it led to, and a workforce
//! member's run is marked finished before its reply is listed. So thoughts go before the
//! tool runs of their turn and a "finished" line waits for the member's reply.

use relevance::{Message, MessageContent, TaskEvent, ToolStatus};
use serde_json::{json, Value};

/// The lines of a task's history, oldest first: one JSON object per message with `json`,
/// else human lines in the order things happened (see the module docs). A reply still
/// being written is left out: it is shown once, final.
pub fn history_lines(task_id: &str, messages: &[Message], json: bool) -> Vec<String> {
    let mut lines = Vec::new();
    // Tool-run lines of the current turn, printed after that turn's thoughts.
    let mut held_tools: Vec<String> = Vec::new();
    // "finished" lines of workforce members, printed after the member's reply.
    let mut finished_runs: Vec<String> = Vec::new();
    for message in messages {
        if matches!(&message.content, MessageContent::Agent(agent) if agent.generating) {
            continue;
        }
        if json {
            lines.push(message_json(task_id, message).to_string());
            continue;
        }
        match &message.content {
            MessageContent::Agent(agent) => {
                lines.extend(agent.thoughts.iter().map(|t| thought_line(t)));
                lines.append(&mut held_tools);
                lines.push(format!("agent> {}", agent.text));
            }
            MessageContent::ToolRun(_) => held_tools.push(message_line(message)),
            MessageContent::AgentError(_) => lines.push(message_line(message)),
            MessageContent::WorkforceAgentRun(run) if run.task.finished_state.is_some() => {
                lines.append(&mut held_tools);
                finished_runs.push(message_line(message));
            }
            _ => {
                lines.append(&mut held_tools);
                lines.append(&mut finished_runs);
                lines.push(message_line(message));
            }
        }
    }
    lines.append(&mut held_tools);
    lines.append(&mut finished_runs);
    lines
}

/// A thought as one line.
pub fn thought_line(thought: &str) -> String {
    format!("  💭 {}", thought.trim())
}

/// A tool run's name as a person knows it: its sub-agent, its title, its id.
pub fn tool_label(run: &relevance::ToolRun) -> String {
    match run.sub_agent() {
        Some((agent, _)) => format!("sub-agent {agent}"),
        None => run
            .title
            .as_deref()
            .or(run.tool_id.as_deref())
            .unwrap_or("tool")
            .to_owned(),
    }
}

/// One human-readable line (or a few) for a message.
pub fn message_line(message: &Message) -> String {
    match &message.content {
        MessageContent::User(user) => {
            let mut line = format!("you> {}", user.text);
            for file in &user.attachments {
                line.push_str(&format!("\n     📎 {} ({})", file.file_name, file.file_url));
            }
            line
        }
        MessageContent::Agent(agent) => {
            let mut line = String::new();
            for thought in &agent.thoughts {
                line.push_str(&format!("  💭 {thought}\n"));
            }
            line.push_str(&format!("agent> {}", agent.text));
            line
        }
        MessageContent::AgentError(error) => {
            format!(
                "  ✗ agent error: {}",
                error.last_error().unwrap_or("(no details)")
            )
        }
        MessageContent::ToolRun(run) => {
            let name = run
                .title
                .as_deref()
                .or(run.tool_id.as_deref())
                .unwrap_or("tool");
            let status = match &run.status {
                ToolStatus::Pending => "pending".to_owned(),
                ToolStatus::Running => "running…".to_owned(),
                ToolStatus::Completed => "completed".to_owned(),
                ToolStatus::Error => format!(
                    "failed: {}",
                    run.errors
                        .last()
                        .map(|e| e.body.as_str())
                        .unwrap_or("(no details)")
                ),
                ToolStatus::Cancelled => "cancelled".to_owned(),
                ToolStatus::Unknown(raw) => raw.clone(),
                _ => "?".to_owned(),
            };
            match run.sub_agent() {
                Some((agent, task)) => format!("  ⚙ sub-agent {agent} (task {task}): {status}"),
                None => format!("  ⚙ {name}: {status}"),
            }
        }
        MessageContent::WorkforceAgentRun(run) => {
            let who = run
                .agent
                .as_ref()
                .map(|a| a.name.clone().unwrap_or_else(|| a.agent_id.clone()))
                .unwrap_or_else(|| "an agent".to_owned());
            match (&run.task.finished_state, &run.task.current_state) {
                (Some(finished), _) => format!("  ✓ {who} finished ({finished})"),
                (None, Some(state)) => format!("  ▶ {who} is working ({state})"),
                (None, None) => format!("  ▶ {who} is working"),
            }
        }
        MessageContent::WorkforceAgentHandover(handover) => {
            let who = handover
                .agent
                .name
                .as_deref()
                .unwrap_or(&handover.agent.agent_id);
            match &handover.trigger_message {
                Some(text) => format!("  ⇢ handover to {who}: {text}"),
                None => format!("  ⇢ handover to {who}"),
            }
        }
        MessageContent::Unknown { kind, .. } => {
            format!("  (a {kind} message this version does not show)")
        }
        _ => "  (a message kind this version does not show)".to_owned(),
    }
}

/// One message as a JSON object for `--json` (one per line).
pub fn message_json(task_id: &str, message: &Message) -> Value {
    let (kind, details) = match &message.content {
        MessageContent::User(user) => (
            "user-message",
            json!({"text": user.text, "is_trigger_message": user.is_trigger,
                   "attachments": user.attachments.iter().map(|a| json!({"file_name": a.file_name, "file_url": a.file_url})).collect::<Vec<_>>()}),
        ),
        MessageContent::Agent(agent) => (
            "agent-message",
            json!({"text": agent.text, "generating": agent.generating, "thinking": agent.thoughts}),
        ),
        MessageContent::AgentError(error) => ("agent-error", json!({"errors": error.errors})),
        MessageContent::ToolRun(run) => (
            "tool-run",
            json!({"status": format!("{:?}", run.status).to_lowercase(), "tool": run.title.as_ref().or(run.tool_id.as_ref()),
                   "params": run.params.as_ref().and_then(|p| p.values()), "output": run.output(),
                   "requires_confirmation": run.requires_confirmation,
                   "errors": run.errors.iter().map(|e| e.body.clone()).collect::<Vec<_>>(),
                   "sub_agent": run.sub_agent().map(|(a, t)| json!({"agent_id": a, "task_id": t}))}),
        ),
        MessageContent::WorkforceAgentRun(run) => (
            "workforce-agent-run",
            json!({"agent_id": run.agent.as_ref().map(|a| a.agent_id.clone()),
                   "task_id": run.task.conversation_id, "current_state": run.task.current_state,
                   "finished_state": run.task.finished_state}),
        ),
        MessageContent::WorkforceAgentHandover(handover) => (
            "workforce-agent-handover",
            json!({"agent_id": handover.agent.agent_id, "message": handover.trigger_message}),
        ),
        MessageContent::Unknown { kind, raw } => (kind.as_str(), raw.clone()),
        _ => ("unknown", Value::Null),
    };
    json!({"task_id": task_id, "item_id": message.id, "insert_date": message.insert_date, "type": kind, "content": details})
}

/// One live event as a JSON object for `chat --json` (one per line).
pub fn event_json(task_id: &str, event: &TaskEvent) -> Value {
    match event {
        TaskEvent::Message(message) => {
            json!({"event": "message", "message": message_json(task_id, message)})
        }
        TaskEvent::Updated {
            status,
            state,
            title,
        } => json!({"event": "updated", "task_id": task_id,
            "status": status.to_string(), "state": state, "title": title}),
        TaskEvent::Thinking {
            delta,
            text,
            message_id,
        } => json!({"event": "thinking", "task_id": task_id,
            "delta": delta, "text": text, "message_id": message_id}),
        TaskEvent::Typing {
            delta,
            text,
            message_id,
        } => json!({"event": "typing", "task_id": task_id,
            "delta": delta, "text": text, "message_id": message_id}),
        TaskEvent::ApprovalNeeded(run) => json!({"event": "approval_needed", "task_id": task_id,
        "tool_id": run.tool_id, "title": run.title,
        "action": run.action_details.as_ref().map(|d| &d.action),
        "action_request_id": run.action_details.as_ref().map(|d| &d.action_request_id),
        "params": match &run.params {
            Some(relevance::ToolParams::Valid { json, .. }) => json.clone(),
            Some(relevance::ToolParams::Invalid { raw }) => Value::String(raw.clone()),
            _ => Value::Null,
        }}),
        _ => json!({"event": "unknown", "task_id": task_id}),
    }
}
