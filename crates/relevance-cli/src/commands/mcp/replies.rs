//! Following an agent's run to its reply, for `ask_agent` and `decide_tool_run`. With an
//! API key the SDK's job wait (`Task::wait_for_reply`, PROTOCOL A15) says when the run is
//! over and what it answered, and while it waits (only when the host asked for progress)
//! the task's live events become progress notifications (thinking, tool runs, typing). The
//! platform keeps jobs from embed keys, so with one the live events alone follow the run
//! to its end (`by_events`); so do they for a workforce's task, which has no job (its
//! members' messages are merged into it, so its last reply is the last member's). A run
//! that stops for a person's approval is a result saying which tool waits with which
//! params, so the host can decide it with `decide_tool_run` instead of hanging — or, in a
//! workforce's task, where it can be decided, since this server cannot ([`undecidable`]).

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use relevance::{
    AgentReply, Error, Message, MessageContent, Task, TaskEvent, TaskStatus, ToolRun, ToolStatus,
};
use serde_json::{json, Value};

use super::progress::Progress;
use super::results::{done, Failure, Outcome};
use crate::render;

/// How a run ended.
enum Ended {
    /// It replied (`""` when it wrote nothing).
    Replied(String),
    /// It stopped for a person's approval, after replying this (maybe `""`).
    Waiting(String),
    /// It failed, for these reasons.
    Failed(Vec<String>),
}

impl Ended {
    /// The job wait's answer, as an end.
    fn of(reply: relevance::Result<AgentReply>) -> Result<Ended, Failure> {
        match reply {
            Ok(reply) if reply.waiting_for_approval => Ok(Ended::Waiting(reply.text)),
            Ok(reply) => Ok(Ended::Replied(reply.text)),
            Err(Error::RunFailed { errors, .. }) => Ok(Ended::Failed(errors)),
            Err(error) => Err(Failure::platform("waiting for the agent's reply", error)),
        }
    }
}

/// At most this many events are read for one run: far more than a run writes, so
/// following it always ends.
const MOST_EVENTS: usize = 100_000;

/// Waits for the end of the run `task`'s trigger started, telling `progress` what the
/// agent does meanwhile (its events from `since` on: the messages sent before are not
/// news), and answers it as the tool's result.
pub async fn follow(task: &Task, since: DateTime<Utc>, progress: &mut Progress) -> Outcome {
    let jobless = task.client().is_embed_key() || task.workforce_id().is_some();
    let ended = match (jobless, progress.wanted()) {
        (true, _) => by_events(task, since, progress).await?,
        (false, true) => Ended::of(watch(task, since, progress).await)?,
        (false, false) => Ended::of(task.wait_for_reply().await)?,
    };
    match ended {
        Ended::Waiting(text) => waiting(task, &text).await,
        Ended::Replied(text) => Ok(replied(&task.id, &text)),
        Ended::Failed(errors) => Err(Failure::new(format!(
            "the {}'s run failed in task {}: {}",
            if task.workforce_id().is_some() {
                "workforce"
            } else {
                "agent"
            },
            task.id,
            match errors.is_empty() {
                true => "no reason given".to_string(),
                false => errors.join("; "),
            }
        ))),
    }
}

/// The run followed by its live events alone (an embed key's way, and a workforce task's):
/// it has ended when a
/// tool run waits for approval, or when the task rests (not working, not waiting for a
/// person: a decision's stream may first see the state it was sent in). What it replied is
/// then read from the task's messages since `since`, which hold all of it whatever the
/// stream had shown by then.
async fn by_events(
    task: &Task,
    since: DateTime<Utc>,
    progress: &mut Progress,
) -> Result<Ended, Failure> {
    let mut events = task.events_since(since).take(MOST_EVENTS);
    let mut end = None;
    while let Some(event) = events.next().await {
        let event = event.map_err(|e| Failure::platform("following the agent's run", e))?;
        tell(&event, progress).await;
        match event {
            TaskEvent::ApprovalNeeded(_) => end = Some(TaskStatus::Action),
            TaskEvent::Updated { status, .. }
                if !status.is_running() && status != TaskStatus::Action =>
            {
                end = Some(status)
            }
            _ => {}
        }
        if end.is_some() {
            break;
        }
    }
    let Some(end) = end else {
        return Err(Failure::new(
            "the task's events ended before the agent's run did",
        ));
    };
    let messages = task
        .messages_after(since)
        .await
        .map_err(|e| Failure::platform("reading the agent's reply", e))?;
    let mut reply = String::new();
    let mut errors = Vec::new();
    for message in messages {
        match message.content {
            MessageContent::Agent(agent) if !agent.generating => reply = agent.text,
            MessageContent::AgentError(error) => errors.extend(error.errors),
            _ => {}
        }
    }
    Ok(match end {
        TaskStatus::Action => Ended::Waiting(reply),
        TaskStatus::Error => Ended::Failed(errors),
        _ => Ended::Replied(reply),
    })
}

/// The job wait, with the task's events turned into progress meanwhile. The loop ends with
/// the wait (the run's end), or once a tool run waits for approval (the wait then ends at
/// once); events that fail or end only stop the progress. After a reply the run's tool runs
/// are told from its messages ([`recap`]), so each is told whatever the timing.
async fn watch(
    task: &Task,
    since: DateTime<Utc>,
    progress: &mut Progress,
) -> relevance::Result<AgentReply> {
    let mut events = task.events_since(since);
    let wait = task.wait_for_reply();
    tokio::pin!(wait);
    let reply = loop {
        tokio::select! {
            reply = &mut wait => break reply,
            event = events.next() => match event {
                Some(Ok(event)) => {
                    tell(&event, progress).await;
                    if matches!(event, TaskEvent::ApprovalNeeded(_)) {
                        return (&mut wait).await;
                    }
                }
                _ => return (&mut wait).await,
            },
        }
    };
    drop(events);
    if let Ok(reply) = &reply {
        recap(task, since, reply, progress).await;
    }
    reply
}

/// Tells the tool runs of the run that ended with `reply`, read once from the task's
/// messages since `since`: the job can end before the live events have shown every step,
/// and a stream that has just seen the task rest may not look again soon.
async fn recap(task: &Task, since: DateTime<Utc>, reply: &AgentReply, progress: &mut Progress) {
    if reply.waiting_for_approval {
        return; // The result itself says which tool waits.
    }
    let Ok(messages) = task.messages_after(since).await else {
        return; // Only progress is lost; the reply stands.
    };
    for message in messages {
        if let MessageContent::ToolRun(run) = &message.content {
            if let Some(news) = tool_news(run) {
                progress.say(news).await;
            }
        }
    }
}

/// Tells the news of `event`, if it has any.
async fn tell(event: &TaskEvent, progress: &mut Progress) {
    if let Some(news) = news(event) {
        progress.say(news).await;
    }
}

/// What an event tells a person watching, if anything.
fn news(event: &TaskEvent) -> Option<String> {
    match event {
        TaskEvent::Thinking { .. } => Some("thinking".to_string()),
        TaskEvent::Typing { .. } => Some("typing the reply".to_string()),
        TaskEvent::ApprovalNeeded(run) => Some(format!(
            "tool {} waits for a person's approval",
            render::tool_label(run)
        )),
        TaskEvent::Message(message) => match &message.content {
            MessageContent::ToolRun(run) => tool_news(run),
            _ => None,
        },
        _ => None,
    }
}

/// A tool run's step as news.
fn tool_news(run: &ToolRun) -> Option<String> {
    let label = render::tool_label(run);
    match run.status {
        ToolStatus::Running => Some(format!("running tool {label}")),
        ToolStatus::Completed => Some(format!("tool {label} finished")),
        ToolStatus::Error => Some(format!("tool {label} failed")),
        ToolStatus::Cancelled => Some(format!("tool {label} was cancelled")),
        _ => None,
    }
}

/// The run's reply: its text (and the task to continue), and both as structured content.
fn replied(task_id: &str, text: &str) -> rmcp::model::CallToolResult {
    done(
        format!("{text}\n\n(task_id: {task_id})"),
        json!({"reply": text, "task_id": task_id, "waiting_for_approval": false}),
    )
}

/// The newest tool run of `messages` that waits for a person's approval, if any.
pub fn waiting_run(messages: &[relevance::Message]) -> Option<&ToolRun> {
    messages
        .iter()
        .rev()
        .find_map(|message| match &message.content {
            MessageContent::ToolRun(run) if run.needs_approval() => Some(run),
            _ => None,
        })
}

/// The run stopped for a person: which tool waits, with which params, in which task.
async fn waiting(task: &Task, reply: &str) -> Outcome {
    let messages = task
        .messages()
        .await
        .map_err(|error| Failure::platform("reading the task's waiting tool run", error))?;
    let run = waiting_run(&messages);
    let (tool, params) = match run {
        Some(run) => (
            json!({"id": run.tool_id, "title": run.title, "label": render::tool_label(run)}),
            run.params
                .as_ref()
                .and_then(|params| params.values().cloned())
                .unwrap_or(Value::Null),
        ),
        None => (Value::Null, Value::Null),
    };
    let label = tool["label"].as_str().unwrap_or("a tool").to_string();
    let task_id = &task.id;
    let stopped = format!(
        "The run stopped: tool {label} waits for a person's approval in task {task_id}, with \
         params {params}."
    );
    let mut structured = json!({
        "waiting_for_approval": true, "task_id": task_id, "tool": tool, "params": params,
    });
    let text = match task.workforce_id() {
        None => format!(
            "{stopped} Approve or reject it with decide_tool_run (agent_id, task_id \
             {task_id}, approve: true or false)."
        ),
        Some(workforce) => {
            let member = waiting_member(&messages);
            structured["decidable_here"] = Value::Bool(false);
            if let Some((agent_id, member_task)) = &member {
                structured["member"] = json!({"agent_id": agent_id, "task_id": member_task});
            }
            format!(
                "{stopped} {}{}",
                undecidable(workforce, task_id),
                match member {
                    Some((agent_id, member_task)) =>
                        format!(" It waits in member agent {agent_id}'s task {member_task}."),
                    None => String::new(),
                }
            )
        }
    };
    if !reply.is_empty() {
        structured["reply"] = Value::String(reply.to_string());
    }
    Ok(done(text, structured))
}

/// Why a workforce's waiting tool run cannot be decided here, and where it can: the
/// platform takes a decision in the member's own agent task (PROTOCOL A10), the SDK
/// decides agent tasks only, and a workforce's embed key reaches no agent task.
pub fn undecidable(workforce_id: &str, task_id: &str) -> String {
    format!(
        "Task {task_id} is workforce {workforce_id}'s: a tool run in it waits in a member \
         agent's own task, which this server cannot decide (a workforce's embed key reaches \
         no agent task). Decide it with an API key for the member agent's task, or in the \
         Relevance AI app."
    )
}

/// The member agent (and its own task) whose run holds the latest waiting tool run of a
/// workforce's task: the last member run merged in before that tool run.
fn waiting_member(messages: &[Message]) -> Option<(String, String)> {
    let mut member = None;
    let mut found = None;
    for message in messages {
        match &message.content {
            MessageContent::WorkforceAgentRun(run) => {
                member = run
                    .agent
                    .as_ref()
                    .map(|agent| agent.agent_id.clone())
                    .zip(run.task.conversation_id.clone());
            }
            MessageContent::ToolRun(run) if run.needs_approval() => found = member.clone(),
            _ => {}
        }
    }
    found
}
