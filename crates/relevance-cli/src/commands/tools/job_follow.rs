//! Following a tool's job to its end, as a person or a script sees it.
//!
//! On a terminal a spinner on stderr shows the elapsed time and the job's latest update
//! (indicatif: it redraws one row, never leaves a copy behind); on a pipe each update is a
//! plain line on stderr; with `--json` each update is a JSON line on stdout. Either way the
//! result goes to stdout once the job ends. Ctrl-C asks whether to cancel the job (a script
//! without a terminal cancels it): the job runs on the platform, not in this process, so
//! leaving it running is a real choice.

use std::io::IsTerminal;
use std::time::Duration;

use anyhow::{bail, Result};
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use relevance::{ToolJob, ToolOutput};
use serde_json::Value;

use crate::output;

/// Follows `job` to its end and answers its output.
pub async fn follow(job: &ToolJob, json: bool) -> Result<ToolOutput> {
    let shown = Shown::new(job, json);
    let mut updates = job.updates();
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    loop {
        tokio::select! {
            update = updates.next() => match update {
                Some(Ok(update)) => shown.update(&update),
                Some(Err(error)) => {
                    shown.clear();
                    return Err(error.into());
                }
                None => break,
            },
            _ = &mut interrupted => {
                shown.clear();
                return on_interrupt(job).await;
            }
        }
    }
    shown.clear();
    Ok(job.wait().await?)
}

/// Ctrl-C: on a terminal, ask; otherwise cancel.
async fn on_interrupt(job: &ToolJob) -> Result<ToolOutput> {
    let ids = job.ids().clone();
    let cancel = if std::io::stdin().is_terminal() {
        eprint!("Cancel job {}? [y/N] ", ids.job_id);
        let answer = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map(|_| line)
        })
        .await??;
        matches!(answer.trim(), "y" | "Y" | "yes")
    } else {
        true
    };
    if cancel {
        job.cancel().await?;
        bail!("cancelled job {}", ids.job_id);
    }
    bail!(
        "stopped following job {}; it still runs: relevance tools job {} {} --wait",
        ids.job_id,
        ids.studio_id,
        ids.job_id
    )
}

/// How updates are shown: JSON lines, a spinner, or plain lines.
enum Shown {
    Json,
    Spinner(ProgressBar),
    Lines,
}

impl Shown {
    fn new(job: &ToolJob, json: bool) -> Shown {
        if json {
            return Shown::Json;
        }
        if !std::io::stderr().is_terminal() {
            return Shown::Lines;
        }
        let spinner = ProgressBar::new_spinner();
        let style = ProgressStyle::with_template("{spinner} {prefix} {elapsed} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        spinner.set_style(style);
        spinner.set_prefix(format!("{} (job {})", job.ids().studio_id, short(job.id())));
        spinner.enable_steady_tick(Duration::from_millis(120));
        Shown::Spinner(spinner)
    }

    fn update(&self, update: &Value) {
        match self {
            Shown::Json => output::print_json(update),
            Shown::Spinner(spinner) => spinner.set_message(describe(update)),
            Shown::Lines => eprintln!("{}", describe(update)),
        }
    }

    fn clear(&self) {
        if let Shown::Spinner(spinner) = self {
            spinner.finish_and_clear();
        }
    }
}

/// One update in a few words: the emulator's progress as time so far of time expected,
/// the end as its outcome, anything else by its type.
pub fn describe(update: &Value) -> String {
    let kind = update["type"].as_str().unwrap_or("update");
    match kind {
        "emulator-progress" => {
            let seconds = |field: &str| update[field].as_f64().unwrap_or(0.0) / 1000.0;
            format!(
                "running: {:.0}s of {:.0}s",
                seconds("elapsed_ms"),
                seconds("expected_ms")
            )
        }
        "chain-success" => "complete".to_string(),
        "chain-failed" => "failed".to_string(),
        other => other.to_string(),
    }
}

/// The start of a job id, enough to tell jobs apart on one line.
fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn updates_read_in_a_few_words() {
        let cases = [
            (
                json!({"type": "emulator-progress", "elapsed_ms": 2000, "expected_ms": 3000}),
                "running: 2s of 3s",
            ),
            (json!({"type": "chain-success"}), "complete"),
            (json!({"type": "chain-failed"}), "failed"),
            (json!({"type": "something-new"}), "something-new"),
            (json!({}), "update"),
        ];
        for (update, text) in cases {
            assert_eq!(super::describe(&update), text, "{update}");
        }
    }
}
