//! What a person sees: the `relevance` binary run in a pseudo-terminal of 80 and of 40
//! columns, its output fed through a terminal emulator (`vt100`), and the screen read back.
//! A chat that redraws a wrapped line in place leaves stale rows behind; one that prints a
//! tool run late shows it below the reply: both show on the screen, not in the bytes.
//!
//! Every wait is bounded by [`GUARD`], a hang guard only: nothing here depends on speed.

mod common;

use std::io::Read;
use std::time::Duration;

use common::binary::{run, text};
use common::TestEmulator;
use portable_pty::{native_pty_system, CommandBuilder, PtySize};

/// How long a chat may take before the test calls it hung.
const GUARD: Duration = Duration::from_secs(120);
/// Rows enough that nothing scrolls off the emulated screen.
const ROWS: u16 = 200;
/// The widths a person's terminal has: a usual one and a narrow one.
const WIDTHS: [u16; 2] = [80, 40];

const QUESTION: &str = "What are the most widely used Rust crates for building command line \
    tools, and how do they compare on start-up time, binary size and documentation?";

/// Runs the binary with `args` and `envs` in a pseudo-terminal `cols` wide, to its end;
/// the screen it leaves.
fn run_in_terminal(args: &[&str], envs: &[(&str, &str)], cols: u16) -> vt100::Parser {
    let size = PtySize {
        rows: ROWS,
        cols,
        pixel_width: 0,
        pixel_height: 0,
    };
    let pty = native_pty_system()
        .openpty(size)
        .expect("a pseudo-terminal");
    let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_relevance"));
    command.args(args);
    for (name, _) in std::env::vars() {
        if name.starts_with("RELEVANCE_") {
            command.env_remove(name);
        }
    }
    for (name, value) in envs {
        command.env(name, value);
    }
    let mut child = pty.slave.spawn_command(command).expect("spawn relevance");
    // Only the child holds the terminal's other end now: its exit ends the reading.
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().expect("a reader");
    let (done, output) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let mut chunk = [0u8; 4096];
        // Linux answers EIO, not 0, once the child's end is closed: either is the end.
        while let Ok(read @ 1..) = reader.read(&mut chunk) {
            bytes.extend_from_slice(&chunk[..read]);
        }
        let _ = done.send(bytes);
    });
    let Ok(bytes) = output.recv_timeout(GUARD) else {
        let _ = child.kill();
        panic!("relevance {args:?} did not end within {GUARD:?}");
    };
    let status = child.wait().expect("the exit status");
    let mut screen = vt100::Parser::new(ROWS, cols, 0);
    screen.process(&bytes);
    assert!(
        status.success(),
        "relevance {args:?} failed: {}",
        screen.screen().contents()
    );
    screen
}

/// The screen's logical lines: rows a long line wrapped onto are joined back.
fn lines(screen: &vt100::Parser) -> Vec<String> {
    screen
        .screen()
        .contents()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The one line starting with `prefix`, and where it is; fails when there is not exactly one.
fn one_line<'l>(lines: &'l [String], prefix: &str, width: u16) -> (usize, &'l str) {
    let found: Vec<(usize, &String)> = lines
        .iter()
        .enumerate()
        .filter(|(_, line)| line.starts_with(prefix))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "at {width} columns, one line starting {prefix:?}:\n{}",
        lines.join("\n")
    );
    (found[0].0, found[0].1.as_str())
}

#[test]
fn a_long_question_to_the_researcher_leaves_thought_tool_and_reply_once_each_in_order() {
    for width in WIDTHS {
        let screen = run_in_terminal(&["chat", "demo-researcher", "-m", QUESTION], &[], width);
        let lines = lines(&screen);
        let (thought_at, thought) = one_line(&lines, "  💭", width);
        let (tool_at, tool) = one_line(&lines, "  ⚙", width);
        let (reply_at, reply) = one_line(&lines, "agent>", width);
        assert_eq!(
            thought,
            format!("  💭 The user asked: {QUESTION}. I should search before answering.")
        );
        assert_eq!(tool, "  ⚙ web_search: completed");
        assert_eq!(
            reply,
            format!(
                "agent> I looked into \"{QUESTION}\" and found one emulated result: \
                 https://example.com/emulated"
            )
        );
        assert!(
            thought_at < tool_at && tool_at < reply_at,
            "at {width} columns, thought, tool run, reply in that order:\n{}",
            lines.join("\n")
        );
        let contents = screen.screen().contents();
        for once in ["I should search", "web_search", "found one emulated result"] {
            assert_eq!(
                contents.matches(once).count(),
                1,
                "at {width} columns, {once:?} once:\n{contents}"
            );
        }
        assert!(
            !contents.contains("running"),
            "no spinner left:\n{contents}"
        );
    }
}

#[test]
fn a_reply_shorter_than_a_line_is_one_row() {
    for width in WIDTHS {
        let screen = run_in_terminal(&["chat", "demo-agent", "-m", "hi"], &[], width);
        let rows: Vec<String> = screen.screen().rows(0, width).collect();
        let replies: Vec<&String> = rows.iter().filter(|row| row.contains("agent>")).collect();
        assert_eq!(replies, ["agent> You said: hi"], "at {width} columns");
    }
}

/// A reply of wide characters: emoji and CJK take two columns each.
const WIDE_REPLY: &str = "🎉 你好，世界！这是一个很长的回复，里面有很多汉字和表情符号 😀😃😄😁 \
    以及更多的中文字符 🚀🌏 これは日本語のテストです 한국어도 있습니다 🦀🦀🦀 终于结束了。";

fn wide_seed() -> String {
    format!(
        r#"
[[projects]]
id = "proj-wide"
region = "us"
api_keys = ["sk-test-wide-0001-wwwwwwwwwwwwwwwwwwww"]

[[projects.agents]]
id = "wide"
use_streaming = true
public = true
behavior = "script"
script = [
  {{ think = "思考中 🤔 考虑一下这个问题", delay_ms = 50 }},
  {{ type = "{WIDE_REPLY}", delay_ms = 50 }},
]
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emoji_and_cjk_reply_wraps_whole_at_any_width() {
    let emulator = TestEmulator::start_with(&wide_seed()).await;
    let envs = [
        (
            "RELEVANCE_API_KEY",
            "sk-test-wide-0001-wwwwwwwwwwwwwwwwwwww",
        ),
        ("RELEVANCE_PROJECT", "proj-wide"),
        ("RELEVANCE_REGION", "us"),
        ("RELEVANCE_BASE_URL", emulator.base_url.as_str()),
    ];
    for width in WIDTHS {
        let envs: Vec<(String, String)> = envs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let screen = tokio::task::spawn_blocking(move || {
            let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (&k[..], &v[..])).collect();
            run_in_terminal(&["chat", "wide", "-m", "wrap"], &envs, width)
        })
        .await
        .expect("the terminal run");
        let lines = lines(&screen);
        let (_, thought) = one_line(&lines, "  💭", width);
        assert_eq!(thought, "  💭 思考中 🤔 考虑一下这个问题");
        let (_, reply) = one_line(&lines, "agent>", width);
        assert_eq!(reply, format!("agent> {WIDE_REPLY}"), "at {width} columns");
        // Every row of the reply is within the width: the terminal wrapped it, no row was
        // redrawn over another.
        let rows: Vec<String> = screen.screen().rows(0, width).collect();
        let start = rows.iter().position(|row| row.starts_with("agent>"));
        let reply_rows = &rows[start.expect("the reply's first row")..];
        let joined: String = reply_rows
            .iter()
            .take_while(|row| !row.is_empty())
            .cloned()
            .collect();
        assert_eq!(joined.trim_end(), format!("agent> {WIDE_REPLY}"));
        assert!(
            reply_rows.len() > 1,
            "the reply is longer than {width} columns and wrapped"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn piped_the_same_chat_is_plain_lines_in_order() {
    let output = run(&["chat", "demo-researcher", "-m", QUESTION]).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(!stdout.contains('\x1b'), "no escape codes: {stdout:?}");
    assert!(!stdout.contains('\r'), "nothing redrawn: {stdout:?}");
    let lines: Vec<&str> = stdout.lines().collect();
    let thought = lines
        .iter()
        .position(|l| l.starts_with("  💭 The user asked"));
    let tool = lines.iter().position(|l| *l == "  ⚙ web_search: completed");
    let reply = lines
        .iter()
        .position(|l| l.starts_with("agent> I looked into"));
    assert_eq!(lines.iter().filter(|l| l.starts_with("  💭")).count(), 1);
    assert_eq!(lines.iter().filter(|l| l.starts_with("agent>")).count(), 1);
    assert!(
        matches!((thought, tool, reply), (Some(a), Some(b), Some(c)) if a < b && b < c),
        "thought, tool run, reply in order:\n{stdout}"
    );
}
