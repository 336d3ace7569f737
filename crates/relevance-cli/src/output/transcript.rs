//! The chat as it is written to the screen: thoughts and replies as they are typed, tool
//! runs where they happened, each final message once.
//!
//! Live text is only ever *appended*: each fragment is written as it comes and the terminal
//! wraps it, so nothing is redrawn and a line longer than the terminal is as right as a
//! short one (a redraw with `\r` and "erase line" erases only the last row of a wrapped
//! line, and left stale copies of long thoughts and replies on screen). The one thing
//! redrawn in place is a running tool's spinner, which is cut to fit one row first.
//!
//! On a pipe (not a terminal) nothing is written live and no escape code is written at all:
//! a thought is one line once the agent moves on from it, a reply one line once final.

use std::collections::{HashMap, HashSet};
use std::io::Write;

use relevance::{Message, MessageContent, ToolStatus};
use unicode_width::UnicodeWidthChar;

use crate::render::{message_line, thought_line, tool_label};

/// The spinner's frames.
const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
/// Dim text (a thought) on, and every attribute off.
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// What the cursor is in the middle of.
#[derive(Debug, PartialEq)]
enum Open {
    /// At the start of a line.
    Nothing,
    /// A thought being appended to, of this message.
    Thought(Option<String>),
    /// A reply being typed, of this message.
    Reply(Option<String>),
    /// A running tool's spinner row.
    Spinner,
}

/// Writes one chat's messages and live tokens, in the order the SDK delivers them.
pub struct Transcript<W: Write> {
    out: W,
    /// A terminal: live text and the spinner are shown.
    live: bool,
    /// The terminal's width, asked for each time the spinner is drawn.
    width: fn() -> Option<usize>,
    open: Open,
    /// On a pipe: the thought being streamed, printed once the agent moves on.
    pending_thought: String,
    /// Messages whose thinking was streamed: their final copy does not show it again.
    thought_streamed: HashSet<Option<String>>,
    /// What of each reply is already on screen.
    typed: HashMap<Option<String>, String>,
    /// A running tool's label and the spinner's frame.
    spinner: Option<(String, usize)>,
    /// "finished" lines of workforce members, written after the member's reply.
    finished_runs: Vec<String>,
}

impl Transcript<std::io::Stdout> {
    /// The chat's transcript on standard output; live only on a terminal.
    pub fn stdout() -> Self {
        use std::io::IsTerminal;
        let live = std::io::stdout().is_terminal();
        Transcript::new(std::io::stdout(), live, || {
            terminal_size::terminal_size().map(|(width, _)| usize::from(width.0))
        })
    }
}

impl<W: Write> Transcript<W> {
    /// A transcript on `out`, live (a terminal of `width` columns) or plain.
    pub fn new(out: W, live: bool, width: fn() -> Option<usize>) -> Self {
        Transcript {
            out,
            live,
            width,
            open: Open::Nothing,
            pending_thought: String::new(),
            thought_streamed: HashSet::new(),
            typed: HashMap::new(),
            spinner: None,
            finished_runs: Vec::new(),
        }
    }

    /// A fragment of the agent's reasoning: appended to its thought line as it comes.
    pub fn thinking(&mut self, delta: &str, message_id: Option<&str>) {
        let id = message_id.map(str::to_owned);
        self.thought_streamed.insert(id.clone());
        if !self.live {
            self.pending_thought.push_str(delta);
            return;
        }
        if self.open != Open::Thought(id.clone()) {
            self.close();
            self.write("  💭 ");
            self.open = Open::Thought(id);
        }
        // Each fragment dims itself: nothing stays dim if the line is left open.
        self.write(&format!("{DIM}{delta}{RESET}"));
    }

    /// A fragment of a reply as it is typed: appended after `agent> `.
    pub fn typing(&mut self, delta: &str, message_id: Option<&str>) {
        self.thought_done();
        if !self.live {
            return;
        }
        let id = message_id.map(str::to_owned);
        if self.open != Open::Reply(id.clone()) {
            self.close();
            self.write("agent> ");
            self.typed.insert(id.clone(), String::new());
            self.open = Open::Reply(id.clone());
        }
        self.typed.entry(id).or_default().push_str(delta);
        self.write(delta);
    }

    /// A new or changed message (the SDK delivers each change once).
    pub fn message(&mut self, message: &Message) {
        match &message.content {
            MessageContent::User(_) => {}
            MessageContent::Agent(agent) => {
                self.thought_done();
                self.reply(message.id.as_str(), &agent.text, &agent.thoughts);
                self.write_finished_runs();
            }
            MessageContent::ToolRun(run) => {
                self.thought_done();
                let running = matches!(run.status, ToolStatus::Pending | ToolStatus::Running);
                if self.live && running {
                    self.close();
                    self.spinner = Some((tool_label(run), 0));
                    self.open = Open::Spinner;
                    self.tick();
                } else {
                    self.line(&message_line(message));
                }
            }
            MessageContent::WorkforceAgentRun(run) if run.task.finished_state.is_some() => {
                self.finished_runs.push(message_line(message));
            }
            _ => {
                self.thought_done();
                self.write_finished_runs();
                self.line(&message_line(message));
            }
        }
    }

    /// A final reply: the part not already typed on screen, or all of it with the thoughts
    /// that were not streamed.
    fn reply(&mut self, id: &str, text: &str, thoughts: &[String]) {
        let keys = [Some(id.to_owned()), None];
        let open_here = keys
            .iter()
            .find(|key| self.open == Open::Reply((*key).clone()));
        if let Some(key) = open_here.cloned() {
            let typed = self.typed.remove(&key).unwrap_or_default();
            if let Some(rest) = text.strip_prefix(typed.as_str()) {
                self.write(&format!("{rest}\n"));
                self.open = Open::Nothing;
                return;
            }
        }
        if !keys.iter().any(|key| self.thought_streamed.remove(key)) {
            for thought in thoughts.iter().filter(|t| !t.trim().is_empty()) {
                self.line(&thought_line(thought));
            }
        }
        self.line(&format!("agent> {text}"));
    }

    /// Turns the spinner of a running tool (on a terminal).
    pub fn tick(&mut self) {
        let Some((label, frame)) = self.spinner.as_mut() else {
            return;
        };
        *frame = (*frame + 1) % SPINNER.len();
        let line = format!("  {} {label}: running", SPINNER[*frame]);
        // One row, always: a row that wrapped could not be redrawn in place.
        let fitted = fit((self.width)().unwrap_or(80).saturating_sub(1), &line);
        self.write(&format!("\r\x1b[2K{fitted}"));
    }

    /// Whether a spinner turns.
    pub fn spinning(&self) -> bool {
        self.spinner.is_some()
    }

    /// Ends what is open (a live line, a pending thought), so the next thing starts on a
    /// line of its own: a question, the prompt, the end of a turn.
    pub fn close(&mut self) {
        self.thought_done_plain();
        match std::mem::replace(&mut self.open, Open::Nothing) {
            Open::Nothing => {}
            Open::Thought(_) | Open::Reply(_) => self.write("\n"),
            Open::Spinner => self.write("\r\x1b[2K"),
        }
        self.spinner = None;
    }

    /// The turn is over: whatever was held for order's sake is written.
    pub fn end_turn(&mut self) {
        self.close();
        self.write_finished_runs();
    }

    /// The agent moved on from its thought.
    fn thought_done(&mut self) {
        if matches!(self.open, Open::Thought(_)) {
            self.close();
        }
        self.thought_done_plain();
    }

    /// On a pipe, the streamed thought as one line.
    fn thought_done_plain(&mut self) {
        if !self.pending_thought.is_empty() {
            let thought = std::mem::take(&mut self.pending_thought);
            self.line(&thought_line(&thought));
        }
    }

    fn write_finished_runs(&mut self) {
        for line in std::mem::take(&mut self.finished_runs) {
            self.line(&line);
        }
    }

    /// A whole line, on a line of its own.
    fn line(&mut self, text: &str) {
        self.close();
        self.write(&format!("{text}\n"));
    }

    fn write(&mut self, text: &str) {
        // A closed stdout (the reader went away) is not the chat's error.
        let _ = self.out.write_all(text.as_bytes());
        let _ = self.out.flush();
    }
}

/// `text` cut to at most `columns` display columns (wide characters count two).
fn fit(columns: usize, text: &str) -> String {
    let mut used = 0;
    text.chars()
        .take_while(|c| {
            used += c.width().unwrap_or(0);
            used <= columns
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(text: &str, thinking: &[&str]) -> Message {
        Message {
            id: "m1".into(),
            insert_date: "2026-03-01T10:00:00Z".into(),
            inserted_at: None,
            content: MessageContent::Agent(relevance::AgentMessage {
                text: text.into(),
                generating: false,
                thoughts: thinking.iter().map(|t| t.to_string()).collect(),
                thought_about_tool_calls: false,
            }),
        }
    }

    /// A turn as the SDK delivers it: thinking, the reply typed, the reply final. (Tool
    /// runs are the pseudo-terminal tests' part: the SDK makes them only from the wire.)
    fn turn(transcript: &mut Transcript<Vec<u8>>) {
        transcript.thinking("I should ", Some("m1"));
        transcript.thinking("search.", Some("m1"));
        transcript.typing("Found ", Some("m1"));
        transcript.typing("one", Some("m1"));
        transcript.message(&reply("Found one result.", &["I should search."]));
        transcript.end_turn();
    }

    #[test]
    fn on_a_pipe_each_thing_is_one_plain_line_in_order() {
        let mut transcript = Transcript::new(Vec::new(), false, || None);
        turn(&mut transcript);
        let text = String::from_utf8(transcript.out).unwrap();
        assert_eq!(text, "  💭 I should search.\nagent> Found one result.\n");
    }

    #[test]
    fn on_a_terminal_live_text_is_appended_and_the_reply_finished_once() {
        let mut transcript = Transcript::new(Vec::new(), true, || Some(12));
        turn(&mut transcript);
        let text = String::from_utf8(transcript.out).unwrap();
        assert!(!text.contains('\r'), "nothing redrawn: {text:?}");
        let mut screen = vt100::Parser::new(10, 12, 0);
        // A terminal's line discipline turns each newline into CR LF (`onlcr`).
        screen.process(text.replace('\n', "\r\n").as_bytes());
        let rows: Vec<String> = screen.screen().rows(0, 12).collect();
        assert_eq!(
            rows[..5],
            [
                "  💭 I shoul",
                "d search.",
                "agent> Found",
                " one result.",
                ""
            ],
            "{text:?}"
        );
    }

    #[test]
    fn a_reply_not_typed_live_is_written_whole_with_its_thoughts() {
        let mut transcript = Transcript::new(Vec::new(), true, || Some(80));
        transcript.message(&reply("Hello", &["greet them"]));
        let text = String::from_utf8(transcript.out).unwrap();
        assert_eq!(text, "  💭 greet them\nagent> Hello\n");
    }

    #[test]
    fn fitting_counts_wide_characters_twice() {
        assert_eq!(fit(5, "ab漢字c"), "ab漢");
        assert_eq!(fit(3, "🔎🔎"), "🔎");
        assert_eq!(fit(10, "short"), "short");
    }
}
