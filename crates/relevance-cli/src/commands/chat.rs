//! `relevance chat`: send messages and print the replies, tool runs and errors as they arrive.
//!
//! Replies are followed by polling the task (metadata + messages), backing off while nothing
//! changes. With no credentials configured it starts an embedded emulator with the demo
//! project, so the command works on a fresh machine.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use relevance::{Agent, Attachment, Client, Key, Region, Task, Workforce};
use relevance_emulator::{Config, Emulator};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::cli::{ChatArgs, CredentialArgs};
use crate::render::MessagePrinter;

/// What the chat talks to.
enum Target {
    Agent(Agent),
    Workforce(Workforce),
}

impl Target {
    async fn send(
        &self,
        text: &str,
        task: Option<&Task>,
        attachments: &[Attachment],
    ) -> Result<Task> {
        Ok(match self {
            Target::Agent(agent) => {
                let mut message = agent.message(text);
                for attachment in attachments {
                    message = message.attach(attachment.clone());
                }
                if let Some(task) = task {
                    message = message.in_task(task);
                }
                message.send().await?
            }
            Target::Workforce(workforce) => match task {
                Some(task) => workforce.send_message_in(task, text).await?,
                None => workforce.send_message(text).await?,
            },
        })
    }

    async fn get_task(&self, id: &str) -> Result<Task> {
        Ok(match self {
            Target::Agent(agent) => agent.get_task(id).await?,
            Target::Workforce(workforce) => workforce.get_task(id).await?,
        })
    }
}

pub async fn run(args: ChatArgs, credentials: &CredentialArgs, json: bool) -> Result<()> {
    // Keep the embedded emulator alive for the whole chat.
    let (client, embedded) = match credentials.is_configured() {
        true => (credentials.client()?, None),
        false => {
            let (client, emulator) = embedded_demo().await?;
            (client, Some(emulator))
        }
    };
    let outcome = chat(args, &client, embedded.as_ref(), json).await;
    if let Some(emulator) = embedded {
        emulator.shutdown().await?;
    }
    outcome
}

async fn chat(
    args: ChatArgs,
    client: &Client,
    embedded: Option<&Emulator>,
    json: bool,
) -> Result<()> {
    let demo = embedded.and_then(Emulator::demo);
    let target = if let Some(id) = args.workforce.as_deref() {
        Target::Workforce(client.workforces().get(id).await?)
    } else {
        let id = match (&args.agent, client.key().agent_id(), demo) {
            (Some(id), _, _) => id.clone(),
            (None, Some(id), _) if client.is_embed_key() => id.to_owned(),
            (None, _, Some(demo)) => demo.public_agent_id.clone(),
            _ => bail!("which agent? pass AGENT_ID (see `relevance agents list`)"),
        };
        Target::Agent(client.agents().get(&id).await?)
    };
    if !json {
        match &target {
            Target::Agent(agent) => eprintln!(
                "chatting with {} {} ({}){}",
                agent.avatar.as_deref().unwrap_or("🤖"),
                agent.name.as_deref().unwrap_or(&agent.id),
                agent.id,
                if embedded.is_some() {
                    " on an embedded emulator (no credentials configured)"
                } else {
                    ""
                }
            ),
            Target::Workforce(workforce) => eprintln!(
                "chatting with workforce {} ({})",
                workforce.name.as_deref().unwrap_or(&workforce.id),
                workforce.id
            ),
        }
    }

    let mut printer = MessagePrinter::new(json, false);
    let mut task = match &args.task {
        Some(id) => {
            let task = target.get_task(id).await?;
            // Show where the conversation stands before adding to it.
            let mut history = MessagePrinter::new(json, true);
            let messages = task.messages().await?;
            history.show(&task.id, &messages);
            printer.mark_seen(&messages);
            Some(task)
        }
        None => None,
    };
    let mut attachments = Vec::new();
    for path in &args.attachments {
        attachments.push(Attachment::from_path(path)?);
    }

    if let Some(text) = &args.message {
        let sent = target.send(text, task.as_ref(), &attachments).await?;
        follow(sent, &mut printer, json).await?;
        return Ok(());
    }

    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        if !json {
            let mut stdout = tokio::io::stdout();
            stdout.write_all(b"you> ").await?;
            stdout.flush().await?;
        }
        let Some(line) = lines.next_line().await.context("reading the prompt")? else {
            break;
        };
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        if matches!(text, "/quit" | "/exit") {
            break;
        }
        let sent = target
            .send(text, task.as_ref(), &std::mem::take(&mut attachments))
            .await?;
        task = Some(follow(sent, &mut printer, json).await?);
    }
    if let (Some(task), false) = (&task, json) {
        eprintln!("task {} (continue it with --task {})", task.id, task.id);
    }
    Ok(())
}

/// Polls the task until its run is over, printing each new message once; returns the task.
async fn follow(mut task: Task, printer: &mut MessagePrinter, json: bool) -> Result<Task> {
    let mut delay = Duration::from_millis(50);
    let mut replies = 0;
    let mut idle_polls = 0;
    loop {
        task.refresh().await?;
        let messages = task.messages().await?;
        let printed = printer.show(&task.id, &messages);
        replies += printed;
        if printed > 0 {
            delay = Duration::from_millis(50);
        }
        if !task.is_running() {
            idle_polls += 1;
            // A task may read as idle for a moment before its run starts: wait for a reply or
            // a few quiet polls before calling the turn over.
            if replies > 0 || idle_polls >= 5 {
                break;
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(1));
    }
    if !json {
        match task.status.to_string().as_str() {
            "action" => eprintln!("(the task waits for approval: send a message to continue)"),
            "error" => eprintln!("(the task ended in an error: {})", task.state),
            _ => {}
        }
    }
    Ok(task)
}

/// An in-memory emulator with the demo project, and a client for its API key.
async fn embedded_demo() -> Result<(Client, Emulator)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let emulator = Emulator::start(Config::default(), listener).await?;
    let demo = emulator
        .demo()
        .context("the embedded emulator has no demo project")?;
    let region: Region = demo.region_code.parse()?;
    let key = Key::new(demo.api_key.clone(), region, demo.project.clone())?;
    let client = Client::builder(key).base_url(emulator.base_url()).build()?;
    Ok((client, emulator))
}
