//! The command-line grammar. Every `RELEVANCE_*` variable mirrors a flag.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::trigger_flags::TriggerFlags;

/// Talk to the Relevance AI platform (or its local emulator) from the shell.
#[derive(Debug, Parser)]
#[command(name = "relevance", version, about, long_about = None)]
pub struct Cli {
    /// Print machine-readable JSON instead of human-readable text.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// Where credentials come from: flags, the `RELEVANCE_*` variables, or a persisted key.
///
/// Flattened into each command that talks to the platform (and nowhere else), so the help
/// of `emulator`, `key inspect` or `demo` does not list flags they would ignore. `global`
/// lets them follow a nested sub-command too (`relevance agents list --api-key …`).
///
/// Every `env` here and below is shown in help without its value (`hide_env_values`):
/// clap prints an unset variable as `[env: NAME=]`, and a set one may hold a secret.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Credentials")]
pub struct CredentialArgs {
    /// Project API key (`sk-...`) from the dashboard's project settings.
    #[arg(long, env = "RELEVANCE_API_KEY", hide_env_values = true, global = true)]
    pub api_key: Option<String>,

    /// Project id, from the dashboard's project settings.
    #[arg(long, env = "RELEVANCE_PROJECT", hide_env_values = true, global = true)]
    pub project: Option<String>,

    /// Region of the project: us, eu, au, or its region code (6 hex characters, e.g.
    /// bcbe5a, d7b62b, f1db6c, 1e3042), as the dashboard's project settings show it.
    #[arg(long, env = "RELEVANCE_REGION", hide_env_values = true, global = true)]
    pub region: Option<String>,

    /// Send requests here instead of the hosted platform (for example the emulator's URL).
    #[arg(
        long,
        env = "RELEVANCE_BASE_URL",
        hide_env_values = true,
        global = true
    )]
    pub base_url: Option<String>,

    /// Use a persisted key (the JSON written by `embed-key --save`) instead of an API key.
    #[arg(
        long,
        env = "RELEVANCE_KEY_FILE",
        hide_env_values = true,
        global = true
    )]
    pub key_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the local emulator of the platform.
    Emulator(Box<EmulatorArgs>),
    /// Generate an embed key for a public agent or a workforce and print it as JSON.
    EmbedKey(EmbedKeyArgs),
    /// Work with persisted keys.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// List, read, create, update or delete agents.
    Agents {
        #[command(flatten)]
        credentials: CredentialArgs,
        #[command(subcommand)]
        command: AgentsCommand,
    },
    /// List, read or run the project's tools (API keys only).
    Tools {
        #[command(flatten)]
        credentials: CredentialArgs,
        #[command(subcommand)]
        command: ToolsCommand,
    },
    /// List, read, import, change, export or delete the project's knowledge sets (API keys
    /// only).
    Knowledge {
        #[command(flatten)]
        credentials: CredentialArgs,
        #[command(subcommand)]
        command: KnowledgeCommand,
    },
    /// Walk through the whole key system against an embedded emulator.
    Demo,
    /// Ask an agent one question and print its reply and nothing else (for scripts); exits
    /// non-zero when the run fails or stops to wait for a person's approval.
    Ask {
        /// The agent to ask.
        agent: String,
        /// The question.
        question: String,
        /// Continue this task instead of starting one.
        #[arg(long)]
        task: Option<String>,
        #[command(flatten)]
        trigger: TriggerFlags,
        #[command(flatten)]
        credentials: CredentialArgs,
    },
    /// Which key this is: project, region, key kind, key id and label, as the platform
    /// knows it (`auth/info`). The first thing to run with a key pasted from the dashboard.
    Whoami {
        #[command(flatten)]
        credentials: CredentialArgs,
    },
    /// Chat with an agent (or a workforce). With no credentials configured, an embedded
    /// emulator with the demo project is started and the chat opens on its researcher.
    Chat(ChatArgs),
    /// Send events to a webhook, as an outside system would (no credentials: the URL is
    /// the secret).
    Webhook {
        #[command(subcommand)]
        command: WebhookCommand,
    },
    /// Serve the key's agents, tools, tasks and knowledge to an MCP host over stdio (an
    /// API key: the whole project; an embed key file: its one agent or workforce; nothing:
    /// the embedded demo). Stdout carries only MCP messages; logs go to stderr.
    Mcp {
        #[command(flatten)]
        credentials: CredentialArgs,
    },
    /// List an agent's tasks or show one task's messages.
    Tasks {
        #[command(flatten)]
        credentials: CredentialArgs,
        #[command(subcommand)]
        command: TasksCommand,
    },
}

/// `relevance webhook ...`.
#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// POST a JSON payload to an agent's webhook URL and print the answer: the
    /// conversation it went to and its job, or that it was a duplicate.
    Send {
        /// The agent's webhook URL (…/latest/agents/hooks/custom-trigger/{project}/{id}),
        /// as the dashboard (or `relevance agents get` on the emulator) shows it.
        url: String,
        /// The payload as JSON text.
        #[arg(long, value_name = "JSON", conflicts_with = "payload_json")]
        data: Option<String>,
        /// The payload as a JSON file (`-` reads stdin). (`--json` is the output switch.)
        #[arg(long, value_name = "FILE")]
        payload_json: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct ChatArgs {
    /// The agent to talk to (default: the embed key's agent, or the demo researcher).
    pub agent: Option<String>,

    /// The agent to talk to, as a flag (the same as the argument, as in `tasks --agent`).
    #[arg(long = "agent", value_name = "ID", conflicts_with = "agent")]
    pub agent_flag: Option<String>,

    /// Talk to this workforce instead of an agent.
    #[arg(long, conflicts_with_all = ["agent", "agent_flag"])]
    pub workforce: Option<String>,

    /// Send this one message, print the replies and exit (otherwise: an interactive prompt).
    #[arg(short, long)]
    pub message: Option<String>,

    /// Continue this task instead of starting a new one.
    #[arg(long)]
    pub task: Option<String>,

    #[command(flatten)]
    pub trigger: TriggerFlags,

    /// Attach a file to the first message (repeatable; agents only: workforce tasks take no
    /// attachments, so with --workforce it is refused before anything is sent).
    #[arg(long = "attach", value_name = "FILE", conflicts_with = "workforce")]
    pub attachments: Vec<PathBuf>,

    /// Decide every tool run that waits for approval without asking: `all` approves,
    /// `none` rejects. Without it the chat asks (and with --json it decides nothing: the
    /// waiting run is an `approval_needed` event).
    #[arg(long, value_enum, value_name = "all|none")]
    pub approve: Option<ApprovalPolicy>,

    #[command(flatten)]
    pub credentials: CredentialArgs,
}

/// What `chat --approve` decides for a tool run that waits for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ApprovalPolicy {
    /// Approve every waiting run.
    All,
    /// Reject every waiting run.
    None,
}

impl ChatArgs {
    /// The agent named on the command line, by argument or by `--agent`.
    pub fn agent(&self) -> Option<&str> {
        self.agent.as_deref().or(self.agent_flag.as_deref())
    }
}

#[derive(Debug, Subcommand)]
pub enum TasksCommand {
    /// Send one message to an agent and print the task it went to, without waiting for the
    /// reply (see `tasks show` for it).
    Send {
        /// The agent (default: an embed key's agent).
        #[arg(long)]
        agent: Option<String>,
        /// The message.
        message: String,
        /// Continue this task instead of starting (or finding, with --external-id) one.
        #[arg(long)]
        task: Option<String>,
        #[command(flatten)]
        trigger: TriggerFlags,
    },
    /// List tasks, oldest first.
    List {
        /// The agent whose tasks to list (default: an embed key's agent or workforce).
        #[arg(long)]
        agent: Option<String>,
        /// List a workforce's tasks instead (newest first, paged with a cursor).
        #[arg(long, conflicts_with = "agent")]
        workforce: Option<String>,
        /// Only tasks with this status: idle, queued, running, action, paused, completed,
        /// cancelled, error. Repeat it, or separate with commas, for several.
        #[arg(long, conflicts_with = "workforce", value_delimiter = ',')]
        status: Vec<String>,
        /// Only tasks whose title contains this text.
        #[arg(long)]
        search: Option<String>,
        /// Tasks per page.
        #[arg(long, default_value_t = 100)]
        page_size: u32,
        /// Page number, from 1 (agents only).
        #[arg(long, default_value_t = 1, conflicts_with = "workforce")]
        page: u32,
    },
    /// Run an agent task again from its first message; what followed is replaced.
    Rerun {
        /// The agent the task belongs to (default: an embed key's agent).
        #[arg(long)]
        agent: Option<String>,
        /// The task id.
        task: String,
        /// Rerun with this text instead of the first message's.
        #[arg(long)]
        text: Option<String>,
    },
    /// Delete an agent task and its messages (needs an API key).
    Delete {
        /// The agent the task belongs to.
        #[arg(long)]
        agent: Option<String>,
        /// The task id.
        task: String,
    },
    /// Send a message to an agent task later (needs an API key).
    Schedule {
        /// The agent the task belongs to.
        #[arg(long)]
        agent: Option<String>,
        /// The task id.
        task: String,
        /// The message to send.
        message: String,
        /// When: `30s`, `5m`, `2h`, `1d` (a bare number is minutes); rounded up to whole
        /// minutes, as the platform schedules.
        #[arg(long = "in", value_name = "DELAY", default_value = "0m")]
        delay: String,
    },
    /// Show a task's messages, oldest first.
    Show {
        /// The agent the task belongs to (default: an embed key's agent or workforce).
        #[arg(long)]
        agent: Option<String>,
        /// The workforce the task belongs to.
        #[arg(long, conflicts_with = "agent")]
        workforce: Option<String>,
        /// The task id.
        task: String,
    },
}

#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Address to listen on.
    #[arg(
        long,
        default_value = "127.0.0.1:8787",
        env = "RELEVANCE_EMULATOR_LISTEN",
        hide_env_values = true
    )]
    pub listen: SocketAddr,

    /// Directory for the SQLite database (default: $XDG_DATA_HOME/relevance-emulator,
    /// or ~/.local/share/relevance-emulator).
    #[arg(
        long,
        env = "RELEVANCE_EMULATOR_DATA",
        hide_env_values = true,
        conflicts_with = "in_memory"
    )]
    pub data: Option<PathBuf>,

    /// Keep everything in memory; nothing survives a restart.
    #[arg(long)]
    pub in_memory: bool,

    /// Seed file (TOML) with projects, API keys, agents and workforces.
    #[arg(long, env = "RELEVANCE_EMULATOR_SEED", hide_env_values = true)]
    pub seed: Option<PathBuf>,

    /// Admin token for the admin API (generated when absent).
    #[arg(long, env = "RELEVANCE_EMULATOR_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,

    /// How many embed keys one client address may generate per minute.
    #[arg(long, default_value_t = 120)]
    pub embed_key_rate_limit: u32,

    /// How many requests one client address may send per minute to the webhook routes
    /// that need no key (an agent's webhook URL, a public tool's webhook); 0: no limit.
    #[arg(long, default_value_t = 120)]
    pub webhook_rate_limit: u32,

    /// Serve the demo chat page (Rust compiled to wasm) at /demo/; it is built with
    /// scripts/build-demo-page.sh first when missing.
    #[arg(long)]
    pub demo_page: bool,

    /// The public agent the demo page talks to (default: the demo project's public agent;
    /// required with --seed).
    #[arg(long, requires = "demo_page")]
    pub demo_agent: Option<String>,

    /// Where the built demo page is (default: the workspace's target/demo-page).
    #[arg(long, requires = "demo_page")]
    pub demo_page_dir: Option<PathBuf>,

    /// Lifetime of streaming tokens in milliseconds (default: 10 minutes, or the seed's
    /// `[emulator] streaming_token_ttl_ms`).
    #[arg(long, value_name = "MS")]
    pub streaming_token_ttl_ms: Option<u64>,

    /// How many milliseconds a minute of a scheduled message lasts
    /// (`scheduled_triggers_item/create`), so tests need not wait real minutes.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = 60_000,
        env = "RELEVANCE_EMULATOR_SCHEDULE_MINUTE_MS",
        hide_env_values = true
    )]
    pub schedule_minute_ms: u64,

    /// The URL clients reach the emulator at (behind a proxy or in a container), from which
    /// file upload and download URLs are built (default: the listen address).
    #[arg(
        long,
        value_name = "URL",
        env = "RELEVANCE_EMULATOR_PUBLIC_URL",
        hide_env_values = true
    )]
    pub public_url: Option<String>,

    #[command(flatten)]
    pub faults: FaultArgs,

    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Connection limits, quotas and security settings (defaults in the emulator's README).
#[derive(Debug, Args)]
#[command(next_help_heading = "Limits and security")]
pub struct LimitArgs {
    /// Close a connection whose request headers have not all arrived within this
    /// (default 30000; also bounds a keep-alive connection's wait for its next request).
    #[arg(long, value_name = "MS")]
    pub header_read_timeout_ms: Option<u64>,
    /// Fail a request whose body stalls this long between chunks (default 30000).
    #[arg(long, value_name = "MS")]
    pub body_read_timeout_ms: Option<u64>,
    /// Close a connection with no bytes moving for this long (default 60000).
    #[arg(long, value_name = "MS")]
    pub idle_timeout_ms: Option<u64>,
    /// At most this many open connections; more are closed at once (default: the
    /// open-file limit, raised to the hard one, less a margin).
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// After Ctrl-C / SIGTERM, give open requests this long, then close (default 5000).
    #[arg(long, value_name = "MS")]
    pub shutdown_grace_ms: Option<u64>,
    /// How long a database statement waits for a lock held elsewhere (default 5000).
    #[arg(long, value_name = "MS")]
    pub database_busy_timeout_ms: Option<u64>,
    /// Temporary files and their URLs expire this long after the URL was made
    /// (default 86400000, a day).
    #[arg(long, value_name = "MS")]
    pub temporary_file_ttl_ms: Option<u64>,
    /// Unexpired upload URLs one key may hold (default 32).
    #[arg(long, value_name = "N")]
    pub max_uploads_per_key: Option<usize>,
    /// Unexpired upload URLs one project may hold (default 1024).
    #[arg(long, value_name = "N")]
    pub max_uploads_per_project: Option<usize>,
    /// Live streaming tokens one key may hold; past it the oldest is forgotten (default 1000).
    #[arg(long, value_name = "N")]
    pub max_streaming_tokens_per_key: Option<usize>,
    /// Live streaming tokens of one task; past it the oldest is forgotten (default 100).
    #[arg(long, value_name = "N")]
    pub max_streaming_tokens_per_task: Option<usize>,
    /// Answer every refused key with one generic message instead of naming what failed.
    #[arg(long)]
    pub generic_auth_errors: bool,
}

/// Fault injection for testing clients (all off by default; a seed's `[emulator.faults]`
/// table sets the same values, and a flag wins over the file).
#[derive(Debug, Args)]
#[command(next_help_heading = "Fault injection")]
pub struct FaultArgs {
    /// Share of API and stream answers turned into 500 (0.0 to 1.0).
    #[arg(long, value_name = "SHARE")]
    pub fault_error_rate: Option<f64>,
    /// Share of answers turned into 429 with Retry-After.
    #[arg(long, value_name = "SHARE")]
    pub fault_rate_limit_rate: Option<f64>,
    /// Share of connections dropped without an answer.
    #[arg(long, value_name = "SHARE")]
    pub fault_drop_rate: Option<f64>,
    /// Latency added to every API and stream request, in milliseconds.
    #[arg(long, value_name = "MS")]
    pub fault_latency_ms: Option<u64>,
    /// Cut every live stream after this many milliseconds.
    #[arg(long, value_name = "MS")]
    pub fault_stream_cut_ms: Option<u64>,
    /// Seed for a repeatable sequence of faults.
    #[arg(long, value_name = "N")]
    pub fault_seed: Option<u64>,
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct EmbedTargetArgs {
    /// Id of the public agent the key is scoped to.
    #[arg(long)]
    pub agent: Option<String>,

    /// Id of the workforce the key is scoped to.
    #[arg(long)]
    pub workforce: Option<String>,
}

#[derive(Debug, Args)]
pub struct EmbedKeyArgs {
    #[command(flatten)]
    pub target: EmbedTargetArgs,

    /// Also write the key to this file (readable by its owner only).
    #[arg(long)]
    pub save: Option<PathBuf>,

    #[command(flatten)]
    pub credentials: CredentialArgs,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Show what a persisted key is: kind, scope, region, project, redacted secret.
    Inspect {
        /// The persisted key: the JSON `toJSON` writes (`{"key","region","project",...}`).
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AgentsCommand {
    /// List the project's agents (API keys only).
    List {
        /// Page number, from 1.
        #[arg(long, default_value_t = 1)]
        page: u32,
        /// Agents per page.
        #[arg(long, default_value_t = 20)]
        page_size: u32,
    },
    /// Show one agent.
    Get {
        /// The agent's id.
        id: String,
    },
    /// Create an agent (API keys only); prints it.
    Create {
        #[command(flatten)]
        fields: AgentFields,
    },
    /// Change an agent's fields (API keys only); fields not given stay as they are.
    Update {
        /// The agent's id.
        id: String,
        #[command(flatten)]
        fields: AgentFields,
    },
    /// Delete an agent (API keys only); its embed keys stop working.
    Delete {
        /// The agent's id.
        id: String,
    },
}

/// The agent fields `agents create` / `agents update` set.
#[derive(Debug, Args)]
pub struct AgentFields {
    /// Display name.
    #[arg(long)]
    pub name: Option<String>,
    /// Description.
    #[arg(long)]
    pub description: Option<String>,
    /// System prompt.
    #[arg(long)]
    pub system_prompt: Option<String>,
    /// Model.
    #[arg(long)]
    pub model: Option<String>,
    /// Make it public (embed keys can be made for it).
    #[arg(long, conflicts_with = "private")]
    pub public: bool,
    /// Make it private.
    #[arg(long)]
    pub private: bool,
}

#[derive(Debug, Subcommand)]
pub enum ToolsCommand {
    /// List the project's tools.
    List,
    /// Show one tool.
    Get {
        /// The tool's id.
        id: String,
    },
    /// Run a tool as a job and print its output: a live spinner with the job's updates on
    /// a terminal (plain lines when piped, each update as JSON with --json); Ctrl-C offers
    /// to cancel the job.
    Run {
        /// The tool's id.
        id: String,
        /// A param as key=value (repeatable); a JSON value is taken as JSON, else as text.
        #[arg(
            long = "param",
            value_name = "KEY=VALUE",
            conflicts_with = "params_json"
        )]
        params: Vec<String>,
        /// The params as a JSON object in a file.
        #[arg(long, value_name = "FILE")]
        params_json: Option<std::path::PathBuf>,
        /// Start the job, print its id and exit (follow it later with `tools job`).
        #[arg(long)]
        detach: bool,
    },
    /// A job started earlier: its state, or wait for it, or cancel it.
    Job {
        /// The tool's id.
        tool: String,
        /// The job's id (as `tools run --detach` printed it).
        job: String,
        /// Follow the job to its end, as `tools run` does.
        #[arg(long, conflicts_with = "cancel")]
        wait: bool,
        /// Cancel the job.
        #[arg(long)]
        cancel: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KnowledgeCommand {
    /// List the knowledge sets with their row counts.
    Sets {
        /// Also list hidden sets: every agent task is one (a conversation).
        #[arg(long)]
        hidden: bool,
    },
    /// Show a set's first rows, oldest first.
    Rows {
        /// The set's name.
        set: String,
        /// How many rows (1 to 1000).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
    },
    /// Add the rows of a JSON Lines file (one JSON object per line) to a set. Every line
    /// is checked before the first row is sent: a bad line is reported with its number
    /// and nothing is written.
    Add {
        /// The set's name (made by its first row).
        set: String,
        /// The JSON Lines file.
        file: std::path::PathBuf,
    },
    /// Change fields of one row; its other fields stay.
    Update {
        /// The set's name.
        set: String,
        /// The row's id (`document_id`).
        id: String,
        /// The fields to change, as a JSON object (`--data '{"votes": 3}'`; `--json` is
        /// the global switch for JSON output).
        #[arg(long, value_name = "JSON")]
        data: String,
    },
    /// Delete a set with its rows, or with --row one row of it.
    Delete {
        /// The set's name.
        set: String,
        /// Delete only this row (`document_id`).
        #[arg(long, value_name = "ID")]
        row: Option<String>,
    },
    /// Write every row's data to stdout as JSON Lines, oldest first (what `add` reads).
    Export {
        /// The set's name.
        set: String,
    },
}
