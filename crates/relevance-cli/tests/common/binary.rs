//! Running the `relevance` binary as a user does, for the tests that go through it.

use std::process::Output;

/// The binary with no `RELEVANCE_*` variables inherited from the machine.
pub fn relevance() -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_relevance"));
    for (name, _) in std::env::vars() {
        if name.starts_with("RELEVANCE_") {
            command.env_remove(name);
        }
    }
    command.kill_on_drop(true);
    command
}

/// Runs the binary with `args` to its end.
pub async fn run(args: &[&str]) -> Output {
    relevance()
        .args(args)
        .output()
        .await
        .expect("run relevance")
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
