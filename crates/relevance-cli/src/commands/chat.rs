//! `relevance chat`: send messages and print the replies, tool runs and errors as they arrive.
//!
//! Replies are followed by polling the task (metadata + messages), backing off while nothing
//! changes. With no credentials configured it starts an embedded emulator with the demo
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
    Agent, Attachment, Client, Key, MessageContent, Region, Task, TaskEvent, TaskEvents,
    TaskStatus, ToolRun, ToolStatus, Workforce,
};
use relevance_emulator::{Config, DemoProject, Emulator};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines, Stdin};

use crate::cli::{ApprovalPolicy, ChatArgs, TriggerFlags};
use crate::render::MessagePrinter;
use approval::Decision;

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
        trigger: &TriggerFlags,
    ) -> Result<Task> {
        Ok(match self {
            Target::Agent(agent) => {
                let mut message = trigger.apply(agent.message(text));
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

pub async fn run(args: ChatArgs, json: bool) -> Result<()> {
    let credentials = &args.credentials;
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

/// One conversation: the target, its history when continuing, then a message or the prompt loop.
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
    let target = choose_target(&args, client, demo).await?;
    if matches!(target, Target::Workforce(_)) && args.trigger.is_set() {
        bail!("--param and --external-id are for agents: a workforce trigger takes neither");
    }
    if !json {
        announce(&target, &args, embedded.is_some(), demo);
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

    let mut events: Option<(String, TaskEvents)> = None;
    let mut input = Input { prompt: None, json };
    let mut approvals = Approvals {
        policy: args.approve,
        input: &mut input,
        json,
    };
    if let Some(text) = &args.message {
        let sent = target
            .send(text, task.as_ref(), &attachments, &args.trigger)
            .await?;
        follow(sent, &mut events, &mut printer, &mut approvals).await?;
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
        let sent = target
            .send(
                text,
                task.as_ref(),
                &std::mem::take(&mut attachments),
                &args.trigger,
            )
            .await?;
        task = Some(follow(sent, &mut events, &mut printer, &mut approvals).await?);
    }
    if !json {
        farewell(task.as_ref(), embedded.is_some());
    }
    Ok(())
}

/// The workforce or agent the flags name; else the embed key's own agent; else, on the
/// embedded emulator, the demo's researcher.
async fn choose_target(
    args: &ChatArgs,
    client: &Client,
    demo: Option<&DemoProject>,
) -> Result<Target> {
    if let Some(id) = args.workforce.as_deref() {
        return Ok(Target::Workforce(client.workforces().get(id).await?));
    }
    let id = match (args.agent(), client.key().agent_id(), demo) {
        (Some(id), _, _) => id.to_owned(),
        (None, Some(id), _) if client.is_embed_key() => id.to_owned(),
        (None, _, Some(demo)) => demo.researcher_agent_id.clone(),
        _ => bail!("which agent? pass AGENT_ID (see `relevance agents list`)"),
    };
    Ok(Target::Agent(client.agents().get(&id).await?))
}

/// Says on stderr who the chat is with (and, on the demo's default, what else is there).
fn announce(target: &Target, args: &ChatArgs, on_embedded: bool, demo: Option<&DemoProject>) {
    match target {
        Target::Agent(agent) => eprintln!(
            "chatting with {} {} ({}){}",
            agent.avatar.as_deref().unwrap_or("🤖"),
            agent.name.as_deref().unwrap_or(&agent.id),
            agent.id,
            if on_embedded {
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
    // Only when the chat opened on the default: someone who named a target knows.
    if let (Some(demo), None, None) = (demo, args.agent(), &args.workforce) {
        eprintln!(
            "also here: --workforce {} (triage hands over to the researcher), --agent {} (echo), --agent {}; `relevance agents list` against a running `relevance emulator` lists them all",
            demo.workforce_id, demo.public_agent_id, demo.triage_agent_id
        );
    }
}

/// How to come back to the conversation, on stderr.
fn farewell(task: Option<&Task>, on_embedded: bool) {
    match (task, on_embedded) {
        (Some(task), false) => {
            eprintln!("task {} (continue it with --task {})", task.id, task.id)
        }
        // The embedded emulator keeps nothing: a `--task` hint would point at a task that
        // is gone the moment this process ends.
        (Some(_), true) => eprintln!(
            "(the embedded emulator forgets this conversation now; to keep tasks, run `relevance emulator` and point the CLI at it)"
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
            Decision::Approve => task.approve(run).await?,
            Decision::ApproveWith(params) => task.approve_with(run, params).await?,
            Decision::Reject | Decision::Edit => {
                task.reject(run).await?;
                if !self.json {
                    eprintln!("(rejected \"{name}\")");
                }
                return Ok(true);
            }
        }
        if !self.json {
            eprintln!("(approved \"{name}\")");
        }
        Ok(true)
    }

    /// Asks the person; the end of input rejects (no is the default).
    async fn ask(&mut self, run: &ToolRun) -> Result<Decision> {
        let prompt = self.input.prompt()?;
        let Some(line) = prompt.ask(&approval::question(run)).await? else {
            return Ok(Decision::Reject);
        };
        if approval::answer(&line) != Decision::Edit {
            return Ok(approval::answer(&line));
        }
        for _ in 0..EDIT_ATTEMPTS {
            let Some(line) = prompt
                .ask("params to change (a JSON object; empty keeps them)> ")
                .await?
            else {
                return Ok(Decision::Reject);
            };
            match approval::edited_params(&line) {
                Ok(decision) => return Ok(decision),
                Err(problem) => eprintln!("{problem}"),
            }
        }
        Ok(Decision::Reject)
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
                    let mut stdout = tokio::io::stdout();
                    stdout.write_all(question.as_bytes()).await?;
                    stdout.flush().await?;
                }
                lines.next_line().await.context("reading the prompt")
            }
        }
    }
}

/// Follows a task's live events until its turn is over, printing each new message once and,
/// on a terminal, the reply as it is typed. Returns the task as it ended.
async fn follow(
    mut task: Task,
    events: &mut Option<(String, TaskEvents)>,
    printer: &mut MessagePrinter,
    approvals: &mut Approvals<'_>,
) -> Result<Task> {
    let json = approvals.json;
    if events.as_ref().map(|(id, _)| id.as_str()) != Some(task.id.as_str()) {
        *events = Some((task.id.clone(), task.events()));
    }
    let Some((_, stream)) = events.as_mut() else {
        unreachable!("set just above")
    };
    let mut turn = Turn::new(json);
    while let Some(event) = turn.next_event(stream).await {
        let event = event?;
        if json {
            println!("{}", crate::render::event_json(&task.id, &event));
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
            TaskEvent::Typing { text, .. } => turn.typing(printer, text),
            TaskEvent::Thinking { text, .. } => turn.thinking(text),
            TaskEvent::ApprovalNeeded(run) => {
                turn.live.clear();
                printer.flush();
                turn.waiting = false;
                if approvals.decide(&task, run).await? {
                    turn.decision_sent();
                }
            }
            TaskEvent::Message(message) => turn.message(&task.id, printer, message),
            _ => {}
        }
        if turn.is_over() {
            break;
        }
    }
    turn.live.clear();
    printer.flush();
    if !json {
        match task.status {
            TaskStatus::Action => eprintln!("(the task waits for a person)"),
            TaskStatus::Error => eprintln!("(the task ended in an error: {})", task.state),
            _ => {}
        }
    }
    Ok(task)
}

/// What one turn of [`follow`] has seen so far: the live line, the thought being streamed,
/// and whether the run is over, replied to, or waiting for a person.
struct Turn {
    json: bool,
    live: LiveLine,
    /// The thought being streamed: printed once the agent acts on it (a tool, typing).
    thought: Option<String>,
    replied: bool,
    finished: bool,
    /// A tool run waits and its question has not been asked yet.
    waiting: bool,
    /// A decision was sent and the task has not been seen past `pending-approval` since.
    decided: bool,
}

impl Turn {
    fn new(json: bool) -> Turn {
        Turn {
            json,
            live: LiveLine::new(json),
            thought: None,
            replied: false,
            finished: false,
            waiting: false,
            decided: false,
        }
    }

    /// The next event, or `None` when the turn should end: once the run is over, a reply
    /// still on its way gets a moment (a turn that produced no reply must not hang the
    /// prompt); while a tool runs, the spinner turns (reading the stream is resumable, so
    /// the tick losing the race drops nothing).
    async fn next_event(
        &mut self,
        stream: &mut TaskEvents,
    ) -> Option<relevance::Result<TaskEvent>> {
        loop {
            if self.finished {
                return tokio::time::timeout(Duration::from_secs(2), stream.next())
                    .await
                    .ok()
                    .flatten();
            }
            if !self.live.spinning() {
                return stream.next().await;
            }
            tokio::select! {
                next = stream.next() => return next,
                () = tokio::time::sleep(Duration::from_millis(100)) => self.live.tick(),
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

    fn typing(&mut self, printer: &mut MessagePrinter, text: &str) {
        self.print_thought(printer);
        self.live.typing(text)
    }

    fn thinking(&mut self, text: &str) {
        self.thought = Some(text.to_string());
        self.live.thinking(text)
    }

    /// The run goes on after a decision: its outcome and the agent's next steps follow, and
    /// this turn's reply is what the agent says after it.
    fn decision_sent(&mut self) {
        self.finished = false;
        self.decided = true;
        self.replied = false;
    }

    fn message(
        &mut self,
        task_id: &str,
        printer: &mut MessagePrinter,
        message: &relevance::Message,
    ) {
        let is_tool_run = matches!(&message.content, MessageContent::ToolRun(_));
        self.waiting |=
            matches!(&message.content, MessageContent::ToolRun(run) if run.needs_approval());
        // A reply prints its own thoughts; only a tool run is "what it led to".
        if is_tool_run {
            self.print_thought(printer);
        }
        if self.live.shows_running_tool(message) {
            return;
        }
        self.live.clear();
        // In JSON mode every event was printed already; otherwise the printer shows each
        // change once. Either way, an agent-side message is the turn's reply.
        let agent_side = !matches!(message.content, MessageContent::User(_));
        let shown = self.json || printer.show(task_id, std::slice::from_ref(message)) > 0;
        self.replied |= agent_side && shown;
    }

    fn print_thought(&mut self, printer: &mut MessagePrinter) {
        if let Some(thought) = self.thought.take() {
            self.live.clear();
            printer.thought(&thought);
        }
    }

    fn is_over(&self) -> bool {
        self.finished && self.replied && !self.waiting
    }
}

/// The reply being typed (and the agent's thinking), redrawn in place on a terminal; nothing
/// at all when the output is a pipe or JSON.
struct LiveLine {
    enabled: bool,
    text: String,
    active: bool,
    /// A running tool's label and the spinner's frame.
    spinner: Option<(String, usize)>,
}

/// The spinner's frames.
const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

impl LiveLine {
    fn new(json: bool) -> Self {
        use std::io::IsTerminal;
        Self {
            enabled: !json && std::io::stdout().is_terminal(),
            text: String::new(),
            active: false,
            spinner: None,
        }
    }

    /// On a terminal, a tool that is pending or running is a spinner on the live line (its
    /// final status is printed as a line); returns whether the message was shown that way.
    fn shows_running_tool(&mut self, message: &relevance::Message) -> bool {
        let MessageContent::ToolRun(run) = &message.content else {
            return false;
        };
        let running = matches!(run.status, ToolStatus::Pending | ToolStatus::Running);
        if !self.enabled || !running {
            return false;
        }
        let name = run
            .title
            .as_deref()
            .or(run.tool_id.as_deref())
            .unwrap_or("tool");
        let label = match run.sub_agent() {
            Some((agent, _)) => format!("sub-agent {agent}"),
            None => name.to_owned(),
        };
        self.spinner = Some((label, 0));
        self.tick();
        true
    }

    fn spinning(&self) -> bool {
        self.spinner.is_some()
    }

    fn tick(&mut self) {
        let Some((label, frame)) = self.spinner.as_mut() else {
            return;
        };
        *frame = (*frame + 1) % SPINNER.len();
        let line = format!("  {} {label}: running", SPINNER[*frame]);
        self.draw(&line);
    }

    /// Shows the reply typed so far (the SDK adds the stream's fragments up).
    fn typing(&mut self, text_so_far: &str) {
        self.spinner = None;
        self.text.clear();
        self.text.push_str(text_so_far);
        self.draw(&format!("agent> {}", self.text));
    }

    /// Shows the reasoning so far.
    fn thinking(&mut self, thought_so_far: &str) {
        self.draw(&format!("\x1b[2m💭 {thought_so_far}\x1b[0m"));
    }

    fn draw(&mut self, line: &str) {
        if !self.enabled {
            return;
        }
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "\r\x1b[2K{line}");
        let _ = out.flush();
        self.active = true;
    }

    fn clear(&mut self) {
        if self.enabled && self.active {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = write!(out, "\r\x1b[2K");
            let _ = out.flush();
        }
        self.active = false;
        self.text.clear();
        self.spinner = None;
    }
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
