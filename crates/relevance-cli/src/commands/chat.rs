//! `relevance chat`: send messages and print the replies, tool runs and errors as they arrive.
//!
//! Replies are followed with the SDK's live events (`Task::events`: each message once, in
//! order, and the thinking and typing as they happen), written by `output::Transcript`, or
//! as JSON lines with `--json`. With no credentials configured it starts an embedded emulator with the demo
//! project, so the command works on a fresh machine; it opens on the scripted researcher,
//! which thinks, runs a tool and types, because that shows what the platform does (the
//! echo agent shows nothing but the wire).
//!
//! On a terminal the prompt is a line editor (arrow keys, history); piped input is read
//! line by line, so scripts and tests can feed it.

mod approval;

use std::time::Duration;

use anyhow::{bail, Context, Result};
use futures_util::StreamExt;
use relevance::{
    Agent, Attachment, Client, MessageContent, Task, TaskEvent, TaskEvents, TaskStatus, ToolRun,
    ToolStatus, Workforce,
};
use relevance_emulator::{DemoProject, Emulator};
use tokio::io::{AsyncBufReadExt, BufReader, Lines, Stdin};

use super::embedded_demo;
use crate::cli::{ApprovalPolicy, ChatArgs};
use crate::output::{self, Transcript};
use crate::render;
use crate::trigger_flags::TriggerFlags;
use approval::ApprovalChoice;

/// What the chat talks to.
enum OwnerHandle {
    Agent(Agent),
    Workforce(Workforce),
}

impl OwnerHandle {
    /// Sends through the SDK's one message builder, for an agent and a workforce alike.
    async fn send(
        &self,
        text: &str,
        task: Option<&Task>,
        attachments: &[Attachment],
        trigger: &TriggerFlags,
    ) -> Result<Task> {
        let mut message = match self {
            OwnerHandle::Agent(agent) => trigger.apply(agent.message(text)),
            OwnerHandle::Workforce(workforce) => workforce.message(text),
        };
        for attachment in attachments {
            message = message.attach(attachment.clone());
        }
        if let Some(task) = task {
            message = message.in_task(task);
        }
        Ok(message.send().await?)
    }

    async fn get_task(&self, id: &str) -> Result<Task> {
        Ok(match self {
            OwnerHandle::Agent(agent) => agent.get_task(id).await?,
            OwnerHandle::Workforce(workforce) => workforce.get_task(id).await?,
        })
    }
}

pub async fn run(args: ChatArgs, json: bool) -> Result<()> {
    let credentials = &args.credentials;
    // Keep the embedded emulator alive for the whole chat.
    let (client, embedded) = match credentials.is_configured() {
        true => (credentials.client()?, None),
        false => {
            let (client, emulator) = embedded_demo::start().await?;
            (client, Some(emulator))
        }
    };
    let outcome = chat(args, &client, embedded.as_ref(), json).await;
    if let Some(emulator) = embedded {
        emulator.shutdown().await?;
    }
    outcome
}

/// One conversation: the owner, its history when continuing, then a message or the prompt loop.
async fn chat(
    args: ChatArgs,
    client: &Client,
    embedded: Option<&Emulator>,
    json: bool,
) -> Result<()> {
    // Files first: a missing file is an error before anything is sent.
    let mut attachments = Vec::new();
    for path in &args.attachments {
        attachments.push(Attachment::from_path(path)?);
    }
    let demo = embedded.and_then(Emulator::demo);
    let owner = choose_owner(&args, client, demo).await?;
    if matches!(owner, OwnerHandle::Workforce(_)) && args.trigger.is_set() {
        bail!("--param and --external-id are for agents: a workforce trigger takes neither");
    }
    if !json {
        announce(&owner, &args, embedded.is_some(), demo);
    }

    let mut screen = Transcript::stdout();
    let mut events: Option<(String, TaskEvents)> = None;
    let mut task = match &args.task {
        Some(id) => {
            let task = owner.get_task(id).await?;
            // Show where the conversation stands before adding to it; the live events
            // start after it, so nothing of it is shown twice.
            let messages = task.messages().await?;
            output::print_lines(&render::history_lines(&task.id, &messages, json));
            events = Some((task.id.clone(), events_after(&task, &messages)));
            Some(task)
        }
        None => None,
    };

    let mut input = Input { prompt: None, json };
    let mut approvals = Approvals {
        policy: args.approve,
        input: &mut input,
        json,
    };
    if let Some(text) = &args.message {
        let sent = owner
            .send(text, task.as_ref(), &attachments, &args.trigger)
            .await?;
        follow(sent, &mut events, &mut screen, &mut approvals).await?;
        return Ok(());
    }

    loop {
        let Some(line) = approvals.input.prompt()?.next_line().await? else {
            break;
        };
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        if matches!(text, "/quit" | "/exit") {
            break;
        }
        let sent = owner
            .send(
                text,
                task.as_ref(),
                &std::mem::take(&mut attachments),
                &args.trigger,
            )
            .await?;
        task = Some(follow(sent, &mut events, &mut screen, &mut approvals).await?);
    }
    if !json {
        farewell(task.as_ref(), embedded.is_some());
    }
    Ok(())
}

/// The task's events after the messages of its history (all of them when none is dated).
fn events_after(task: &Task, history: &[relevance::Message]) -> TaskEvents {
    match history
        .iter()
        .filter_map(|message| message.inserted_at)
        .max()
    {
        // `events_since` is inclusive: the newest message of the history is not repeated.
        Some(newest) => task.events_since(newest + chrono::Duration::milliseconds(1)),
        None => task.events(),
    }
}

/// The workforce or agent the flags name; else the embed key's own agent; else, on the
/// embedded emulator, the demo's researcher.
async fn choose_owner(
    args: &ChatArgs,
    client: &Client,
    demo: Option<&DemoProject>,
) -> Result<OwnerHandle> {
    if let Some(id) = args.workforce.as_deref() {
        return Ok(OwnerHandle::Workforce(client.workforces().get(id).await?));
    }
    let id = match (args.agent(), client.key().agent_id(), demo) {
        (Some(id), _, _) => id.to_owned(),
        (None, Some(id), _) if client.is_embed_key() => id.to_owned(),
        (None, _, Some(demo)) => demo.researcher_agent_id.clone(),
        _ => bail!("which agent? pass AGENT_ID (see `relevance agents list`)"),
    };
    Ok(OwnerHandle::Agent(client.agents().get(&id).await?))
}

/// Says on stderr who the chat is with (and, on the demo's default, what else is there).
fn announce(owner: &OwnerHandle, args: &ChatArgs, on_embedded: bool, demo: Option<&DemoProject>) {
    match owner {
        OwnerHandle::Agent(agent) => output::note(&format!(
            "chatting with {} {} ({}){}",
            agent.avatar.as_deref().unwrap_or("🤖"),
            agent.name.as_deref().unwrap_or(&agent.id),
            agent.id,
            if on_embedded {
                " on an embedded emulator (no credentials configured)"
            } else {
                ""
            }
        )),
        OwnerHandle::Workforce(workforce) => output::note(&format!(
            "chatting with workforce {} ({})",
            workforce.name.as_deref().unwrap_or(&workforce.id),
            workforce.id
        )),
    }
    // Only when the chat opened on the default: someone who named a owner knows.
    if let (Some(demo), None, None) = (demo, args.agent(), &args.workforce) {
        output::note(&format!(
            "also here: --workforce {} (triage hands over to the researcher), --agent {} (echo), --agent {}; `relevance agents list` against a running `relevance emulator` lists them all",
            demo.workforce_id, demo.public_agent_id, demo.triage_agent_id
        ));
    }
}

/// How to come back to the conversation, on stderr.
fn farewell(task: Option<&Task>, on_embedded: bool) {
    match (task, on_embedded) {
        (Some(task), false) => {
            output::note(&format!("task {} (continue it with --task {})", task.id, task.id))
        }
        // The embedded emulator keeps nothing: a `--task` hint would point at a task that
        // is gone the moment this process ends.
        (Some(_), true) => output::note(
            "(the embedded emulator forgets this conversation now; to keep tasks, run `relevance emulator` and point the CLI at it)",
        ),
        (None, _) => {}
    }
}

/// Where lines come from: the chat's messages and the answers to approval questions share
/// one reader (a pipe can be read only once), made when it is first needed.
struct Input {
    prompt: Option<Prompt>,
    json: bool,
}

impl Input {
    fn prompt(&mut self) -> Result<&mut Prompt> {
        if self.prompt.is_none() {
            self.prompt = Some(Prompt::new(self.json)?);
        }
        self.prompt.as_mut().context("the prompt was just set up")
    }
}

/// Decides the tool runs that wait for a person: by `--approve`, or by asking.
struct Approvals<'i> {
    policy: Option<ApprovalPolicy>,
    input: &'i mut Input,
    json: bool,
}

/// How many times a person may get the params wrong before the run is rejected.
const EDIT_ATTEMPTS: usize = 3;

impl Approvals<'_> {
    /// Decides `run` of `task` and sends the decision; `false` when nothing was decided
    /// (`--json` without `--approve`: the event is the answer).
    async fn decide(&mut self, task: &Task, run: &ToolRun) -> Result<bool> {
        let decision = match approval::decided_by_flag(self.policy) {
            Some(decision) => decision,
            None if self.json => return Ok(false),
            None => self.ask(run).await?,
        };
        let name = approval::tool_name(run);
        match decision {
            ApprovalChoice::Approve => task.approve(run).await?,
            ApprovalChoice::ApproveWith(params) => task.approve_with(run, params).await?,
            ApprovalChoice::Reject | ApprovalChoice::Edit => {
                task.reject(run).await?;
                if !self.json {
                    output::note(&format!("(rejected \"{name}\")"));
                }
                return Ok(true);
            }
        }
        if !self.json {
            output::note(&format!("(approved \"{name}\")"));
        }
        Ok(true)
    }

    /// Asks the person; the end of input rejects (no is the default).
    async fn ask(&mut self, run: &ToolRun) -> Result<ApprovalChoice> {
        let prompt = self.input.prompt()?;
        let Some(line) = prompt.ask(&approval::question(run)).await? else {
            return Ok(ApprovalChoice::Reject);
        };
        if approval::answer(&line) != ApprovalChoice::Edit {
            return Ok(approval::answer(&line));
        }
        for _ in 0..EDIT_ATTEMPTS {
            let Some(line) = prompt
                .ask("params to change (a JSON object; empty keeps them)> ")
                .await?
            else {
                return Ok(ApprovalChoice::Reject);
            };
            match approval::edited_params(&line) {
                Ok(decision) => return Ok(decision),
                Err(problem) => output::note(&problem.to_string()),
            }
        }
        Ok(ApprovalChoice::Reject)
    }
}

/// Where the interactive chat reads its lines.
enum Prompt {
    /// A terminal: a line editor with arrow keys and an in-memory history.
    Terminal {
        editor: Box<rustyline::DefaultEditor>,
        prompt: &'static str,
    },
    /// A pipe or a file: plain lines, as a script writes them.
    Piped {
        lines: Lines<BufReader<Stdin>>,
        json: bool,
    },
}

impl Prompt {
    fn new(json: bool) -> Result<Prompt> {
        use std::io::IsTerminal;
        if std::io::stdin().is_terminal() {
            let editor = rustyline::DefaultEditor::new().context("cannot set up the prompt")?;
            return Ok(Prompt::Terminal {
                editor: Box::new(editor),
                // JSON output stays JSON: no prompt text between the objects.
                prompt: if json { "" } else { "you> " },
            });
        }
        Ok(Prompt::Piped {
            lines: BufReader::new(tokio::io::stdin()).lines(),
            json,
        })
    }

    /// The next line, or `None` at the end of input (Ctrl-D, Ctrl-C, or the pipe's end).
    async fn next_line(&mut self) -> Result<Option<String>> {
        let you = match self {
            Prompt::Terminal { prompt, .. } => *prompt,
            Prompt::Piped { json: true, .. } => "",
            Prompt::Piped { json: false, .. } => "you> ",
        };
        self.ask(you).await
    }

    /// Shows `question` (on a pipe too, unless the output is JSON) and reads the answer;
    /// `None` at the end of input.
    async fn ask(&mut self, question: &str) -> Result<Option<String>> {
        match self {
            Prompt::Terminal { editor, .. } => {
                // The editor blocks on the terminal; the runtime has other threads.
                let read = tokio::task::block_in_place(|| editor.readline(question));
                match read {
                    Ok(line) => {
                        if !line.trim().is_empty() {
                            // History is a convenience: a failure to record is not an error.
                            let _ = editor.add_history_entry(line.as_str());
                        }
                        Ok(Some(line))
                    }
                    Err(
                        rustyline::error::ReadlineError::Eof
                        | rustyline::error::ReadlineError::Interrupted,
                    ) => Ok(None),
                    Err(error) => Err(error).context("reading the prompt"),
                }
            }
            Prompt::Piped { lines, json } => {
                if !*json {
                    output::ask(question);
                }
                lines.next_line().await.context("reading the prompt")
            }
        }
    }
}

/// Follows a task's live events until its turn is over, writing each to the transcript (or,
/// with `--json`, as one JSON line each). Returns the task as it ended.
async fn follow(
    mut task: Task,
    events: &mut Option<(String, TaskEvents)>,
    screen: &mut Transcript<std::io::Stdout>,
    approvals: &mut Approvals<'_>,
) -> Result<Task> {
    let json = approvals.json;
    if events.as_ref().map(|(id, _)| id.as_str()) != Some(task.id.as_str()) {
        *events = Some((task.id.clone(), task.events()));
    }
    let Some((_, stream)) = events.as_mut() else {
        unreachable!("set just above")
    };
    let mut turn = TurnSeen::default();
    while let Some(event) = turn.next_event(stream, screen).await {
        let event = event?;
        if json {
            output::print_json(&render::event_json(&task.id, &event));
        }
        match &event {
            TaskEvent::Updated {
                status,
                state,
                title,
            } => {
                task.status = status.clone();
                task.state = state.clone();
                task.title = title.clone();
                turn.updated(status);
            }
            TaskEvent::Typing {
                delta, message_id, ..
            } if !json => screen.typing(delta, message_id.as_deref()),
            TaskEvent::Thinking {
                delta, message_id, ..
            } if !json => screen.thinking(delta, message_id.as_deref()),
            TaskEvent::ApprovalNeeded(run) => {
                screen.end_turn();
                turn.waiting = false;
                if approvals.decide(&task, run).await? {
                    turn.decision_sent();
                }
            }
            TaskEvent::Message(message) => {
                turn.message(message);
                if !json {
                    screen.message(message);
                }
            }
            _ => {}
        }
        if turn.is_over() {
            break;
        }
    }
    screen.end_turn();
    if !json {
        match task.status {
            TaskStatus::Action => output::note("(the task waits for a person)"),
            TaskStatus::Error => {
                output::note(&format!("(the task ended in an error: {})", task.state))
            }
            _ => {}
        }
    }
    Ok(task)
}

/// What one turn of [`follow`] has seen so far: whether the run is over, replied to, or
/// waiting for a person.
#[derive(Default)]
struct TurnSeen {
    replied: bool,
    finished: bool,
    /// A tool run waits and its question has not been asked yet.
    waiting: bool,
    /// A decision was sent and the task has not been seen past `pending-approval` since.
    decided: bool,
}

impl TurnSeen {
    /// The next event, or `None` when the turn should end: once the run is over, a reply
    /// still on its way gets a moment (a turn that produced no reply must not hang the
    /// prompt); while a tool runs, the spinner turns (reading the stream is resumable, so
    /// the tick losing the race drops nothing).
    async fn next_event(
        &mut self,
        stream: &mut TaskEvents,
        screen: &mut Transcript<std::io::Stdout>,
    ) -> Option<relevance::Result<TaskEvent>> {
        loop {
            if self.finished {
                return tokio::time::timeout(Duration::from_secs(2), stream.next())
                    .await
                    .ok()
                    .flatten();
            }
            if !screen.spinning() {
                return stream.next().await;
            }
            tokio::select! {
                next = stream.next() => return next,
                () = tokio::time::sleep(Duration::from_millis(100)) => screen.tick(),
            }
        }
    }

    fn updated(&mut self, status: &TaskStatus) {
        // Right after a decision, a `pending-approval` read before it landed is stale: the
        // run goes on (a next waiting run comes with its own question).
        let stale = self.decided && *status == TaskStatus::Action;
        if *status != TaskStatus::Action {
            self.decided = false;
        }
        self.finished = !status.is_running() && *status != TaskStatus::NotStarted && !stale;
    }

    /// The run goes on after a decision: its outcome and the agent's next steps follow, and
    /// this turn's reply is what the agent says after it.
    fn decision_sent(&mut self) {
        self.finished = false;
        self.decided = true;
        self.replied = false;
    }

    /// A message of the turn: anything the agent side did, but a tool still at work, is a
    /// reply (the SDK delivers each change once).
    fn message(&mut self, message: &relevance::Message) {
        self.waiting |=
            matches!(&message.content, MessageContent::ToolRun(run) if run.needs_approval());
        self.replied |= match &message.content {
            MessageContent::User(_) => false,
            MessageContent::ToolRun(run) => {
                !matches!(run.status, ToolStatus::Pending | ToolStatus::Running)
            }
            _ => true,
        };
    }

    fn is_over(&self) -> bool {
        self.finished && self.replied && !self.waiting
    }
}
