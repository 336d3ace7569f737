//! `relevance ask AGENT "question"`: the scriptable one-shot. Prints the run's reply and
//! nothing else (with `--json`: `{"reply", "task_id"}`); the SDK's `agent.ask` waits on
//! the run's job with the long poll. A run that fails, or that stops for a person's
//! approval, is an error: a script must not take half an answer for the answer.

use anyhow::{bail, Result};
use serde_json::json;

use crate::cli::CredentialArgs;
use crate::output;
use crate::trigger_flags::TriggerFlags;

pub async fn run(
    credentials: &CredentialArgs,
    agent: &str,
    question: &str,
    task: Option<String>,
    trigger: &TriggerFlags,
    json: bool,
) -> Result<()> {
    let client = credentials.client()?;
    let agent = client.agents().get(agent).await?;
    let mut message = trigger.apply(agent.message(question));
    if let Some(task) = &task {
        message = message.in_task(task.as_str());
    }
    let reply = message.ask().await?;
    if reply.waiting_for_approval {
        bail!(
            "the run stopped to wait for a person's approval in task {}; decide it with: relevance chat {} --task {}",
            reply.task_id,
            agent.id,
            reply.task_id
        );
    }
    if json {
        output::print_json(&json!({"reply": reply.text, "task_id": reply.task_id}));
    } else {
        println!("{}", reply.text);
    }
    Ok(())
}
