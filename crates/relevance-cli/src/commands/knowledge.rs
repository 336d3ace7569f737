//! `relevance knowledge sets | rows SET | add SET FILE.jsonl | update SET ID --data JSON |
//! delete SET [--row ID] | export SET`.
//!
//! `add` and `export` stream JSON Lines: `add` reads the file twice (every line checked
//! first, then sent in chunks), so a bad line is reported with its number before anything
//! is written and memory holds one chunk, not the file; `export` writes each row as the
//! SDK's all-rows stream yields it (one page in memory). On a terminal both show a
//! progress bar on stderr; piped, stderr gets one summary line instead.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use relevance::{Client, KnowledgeSetInfo, RowListOptions, SetListOptions};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use crate::cli::{CredentialArgs, KnowledgeCommand};
use crate::output;

/// Lines sent per SDK call while adding (the SDK splits them into request batches).
const CHUNK_LINES: usize = 5000;

pub async fn run(
    command: KnowledgeCommand,
    credentials: &CredentialArgs,
    json: bool,
) -> Result<()> {
    let client = credentials.client()?;
    match command {
        KnowledgeCommand::Sets { hidden } => sets(&client, hidden, json).await,
        KnowledgeCommand::Rows { set, limit } => rows(&client, &set, limit, json).await,
        KnowledgeCommand::Add { set, file } => add(&client, &set, &file, json).await,
        KnowledgeCommand::Update { set, id, data } => {
            let fields: Value = serde_json::from_str(&data).context("--data is not JSON")?;
            if !fields.is_object() {
                bail!("--data must be a JSON object, e.g. '{{\"votes\": 3}}'");
            }
            client.knowledge().set(&set)?.update(&id, &fields).await?;
            done(
                json,
                json!({"updated": id, "set": set}),
                &format!("updated row {id} of {set}"),
            );
            Ok(())
        }
        KnowledgeCommand::Delete { set, row } => {
            let handle = client.knowledge().set(&set)?;
            match row {
                Some(id) => {
                    handle.delete(&id).await?;
                    done(
                        json,
                        json!({"deleted_row": id, "set": set}),
                        &format!("deleted row {id} of {set}"),
                    );
                }
                None => {
                    handle.drop().await?;
                    done(
                        json,
                        json!({"deleted_set": set}),
                        &format!("deleted set {set}"),
                    );
                }
            }
            Ok(())
        }
        KnowledgeCommand::Export { set } => export(&client, &set).await,
    }
}

fn done(json: bool, value: Value, text: &str) {
    if json {
        output::print_json(&value);
    } else {
        println!("{text}");
    }
}

async fn sets(client: &Client, hidden: bool, json: bool) -> Result<()> {
    let options = SetListOptions {
        include_hidden: hidden,
        ..Default::default()
    };
    let mut all = client.knowledge().all(options);
    let mut sets = Vec::new();
    while let Some(set) = all.next().await {
        sets.push(set?);
    }
    if json {
        let sets: Vec<Value> = sets.iter().map(set_json).collect();
        output::print_json(&json!({ "sets": sets }));
    } else if sets.is_empty() {
        println!("no knowledge sets");
    } else {
        for set in &sets {
            let about = match (&set.kind, &set.agent_id) {
                (Some(kind), Some(agent)) => format!("  {kind} of {agent}"),
                (Some(kind), None) => format!("  {kind}"),
                _ => String::new(),
            };
            println!("{:<40} {:>9} rows{about}", set.name, set.row_count);
        }
    }
    Ok(())
}

fn set_json(set: &KnowledgeSetInfo) -> Value {
    json!({
        "name": set.name,
        "rows": set.row_count,
        "hidden": set.hidden,
        "type": set.kind,
        "agent_id": set.agent_id,
        "created_at": set.created_at.map(|t| t.to_rfc3339()),
        "updated_at": set.updated_at.map(|t| t.to_rfc3339()),
    })
}

async fn rows(client: &Client, set: &str, limit: u32, json: bool) -> Result<()> {
    let options = RowListOptions {
        page_size: Some(limit),
        ..Default::default()
    };
    let page = client.knowledge().set(set)?.rows(options).await?;
    if json {
        let rows: Vec<Value> = page
            .iter()
            .map(|row| {
                json!({"document_id": row.document_id, "data": row.data,
                       "created_at": row.created_at.map(|t| t.to_rfc3339())})
            })
            .collect();
        output::print_json(&json!({ "rows": rows }));
    } else if page.is_empty() {
        println!("no rows in {set}");
    } else {
        for row in &page {
            println!("{}  {}", row.document_id, Value::Object(row.data.clone()));
        }
    }
    Ok(())
}

/// One line of a JSON Lines file as a row: `None` for a blank line, an error naming the
/// line for anything but a JSON object.
fn parse_line(number: usize, line: &str) -> Result<Option<Map<String, Value>>> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(row)) => Ok(Some(row)),
        Ok(_) => bail!("line {number}: not a JSON object"),
        Err(error) => bail!("line {number}: not JSON ({error})"),
    }
}

fn open(file: &Path) -> Result<BufReader<File>> {
    let opened = File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
    Ok(BufReader::new(opened))
}

/// Every line of the file checked; answers how many rows it holds.
fn check_file(file: &Path) -> Result<u64> {
    let mut rows = 0;
    for (index, line) in open(file)?.lines().enumerate() {
        let line =
            line.with_context(|| format!("cannot read {} at line {}", file.display(), index + 1))?;
        if parse_line(index + 1, &line)
            .with_context(|| format!("{} has a bad line; nothing was added", file.display()))?
            .is_some()
        {
            rows += 1;
        }
    }
    Ok(rows)
}

/// A progress bar on stderr when it is a terminal, else a hidden one.
fn progress(total: u64, verb: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    let template = format!("{verb} {{bar:40}} {{pos}}/{{len}} rows ({{per_sec}}, {{eta}} left)");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}

async fn add(client: &Client, set: &str, file: &Path, json: bool) -> Result<()> {
    let handle = client.knowledge().set(set)?;
    let total = check_file(file)?;
    let bar = progress(total, "adding");
    let mut chunk: Vec<Map<String, Value>> = Vec::with_capacity(CHUNK_LINES);
    let mut added = 0u64;
    for (index, line) in open(file)?.lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", file.display()))?;
        if let Some(row) = parse_line(index + 1, &line)? {
            chunk.push(row);
        }
        if chunk.len() >= CHUNK_LINES {
            added += send_chunk(&handle, &mut chunk, added).await?;
            bar.set_position(added);
        }
    }
    added += send_chunk(&handle, &mut chunk, added).await?;
    bar.finish_and_clear();
    if json {
        output::print_json(&json!({"set": set, "added": added}));
    } else {
        println!("added {added} rows to {set}");
    }
    Ok(())
}

async fn send_chunk(
    handle: &relevance::KnowledgeSet,
    chunk: &mut Vec<Map<String, Value>>,
    added: u64,
) -> Result<u64> {
    if chunk.is_empty() {
        return Ok(0);
    }
    handle.add(chunk).await.with_context(|| {
        format!("the {added} rows before this chunk were added; this chunk was not")
    })?;
    let sent = chunk.len() as u64;
    chunk.clear();
    Ok(sent)
}

async fn export(client: &Client, set: &str) -> Result<()> {
    let handle = client.knowledge().set(set)?;
    let total = client
        .knowledge()
        .list(SetListOptions {
            filters: vec![("knowledge_set".into(), json!(set))],
            include_hidden: true,
            ..Default::default()
        })
        .await?
        .first()
        .map_or(0, |info| info.row_count);
    let bar = progress(total, "exporting");
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(256 * 1024, stdout.lock());
    // Each row's data as the text it came in: never parsed into a map and written again.
    let mut rows = handle.all_rows_as::<Box<RawValue>>();
    let mut written = 0u64;
    while let Some(row) = rows.next().await {
        let row = row?;
        let text = row.data.get();
        // A server that pretty-prints would break the one-line-per-row rule: compact it.
        let compact;
        let text = if text.contains('\n') {
            compact = serde_json::from_str::<Value>(text)
                .context("a row's data is not JSON")?
                .to_string();
            compact.as_str()
        } else {
            text
        };
        out.write_all(text.as_bytes())
            .and_then(|()| out.write_all(b"\n"))
            .context("cannot write to stdout")?;
        written += 1;
        if written.is_multiple_of(1000) {
            bar.set_position(written);
        }
    }
    out.flush().context("cannot write to stdout")?;
    bar.finish_and_clear();
    output::note(&format!("exported {written} rows of {set}"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_objects_or_errors_that_name_the_line() {
        assert_eq!(parse_line(1, "  ").expect("blank"), None);
        assert!(parse_line(1, r#"{"a": 1}"#).expect("object").is_some());
        for (line, says) in [
            ("[1]", "line 7: not a JSON object"),
            ("{oops", "line 7: not JSON"),
        ] {
            let error = parse_line(7, line).expect_err(line).to_string();
            assert!(error.starts_with(says), "{error}");
        }
    }
}
