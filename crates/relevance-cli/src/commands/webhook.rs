//! `relevance webhook send URL (--data JSON | --payload-json FILE)`: what an outside system
//! does with an agent's webhook URL, from the shell. No credentials: the URL is the secret,
//! so it is never printed back (only with its last segment redacted).

use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context, Result};
use relevance::{WebhookReceipt, WebhookUrl};
use serde_json::Value;

use crate::cli::WebhookCommand;
use crate::output;

pub async fn run(command: WebhookCommand, json: bool) -> Result<()> {
    match command {
        WebhookCommand::Send {
            url,
            data,
            payload_json,
        } => {
            let url = WebhookUrl::parse(&url)?;
            let payload = payload(data.as_deref(), payload_json.as_deref())?;
            let receipt = url
                .send(&payload)
                .await
                .with_context(|| format!("webhook {url}"))?;
            print_receipt(&receipt, json);
        }
    }
    Ok(())
}

/// The payload from `--data` or `--payload-json` (a file, or `-` for stdin), parsed here so
/// a typo is named with its line and column before anything is sent.
fn payload(data: Option<&str>, file: Option<&Path>) -> Result<Value> {
    let (text, source) = match (data, file) {
        (Some(text), _) => (text.to_string(), "--data".to_string()),
        (None, Some(path)) if path == Path::new("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the payload from stdin")?;
            (text, "stdin".to_string())
        }
        (None, Some(path)) => (
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read payload file {}", path.display()))?,
            path.display().to_string(),
        ),
        (None, None) => bail!(
            "no payload: pass --data '{{\"key\": \"value\"}}' or --payload-json FILE (- for stdin)"
        ),
    };
    serde_json::from_str(&text).with_context(|| format!("the payload in {source} is not JSON"))
}

fn print_receipt(receipt: &WebhookReceipt, json: bool) {
    if json {
        output::print_json(&receipt.raw);
        return;
    }
    let conversation = receipt.conversation_id.as_deref().unwrap_or("(not named)");
    if receipt.duplicate {
        println!("duplicate:    this unique id was taken before; nothing was written");
        println!("conversation: {conversation}");
        return;
    }
    println!("conversation: {conversation}");
    if let Some(job) = &receipt.job {
        println!("job:          {}", job.job_id);
        // The command on a line of its own: a terminal may wrap it, but it copies whole.
        println!("follow it with:");
        println!(
            "  relevance tools job {} {} --wait",
            job.studio_id, job.job_id
        );
    }
    if !receipt.missing_fields.is_empty() {
        println!("missing:      {}", receipt.missing_fields.join(", "));
        println!("  (the payload has no value for these template fields: left empty)");
    }
}
