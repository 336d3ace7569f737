//! `relevance knowledge ...` through the binary against an emulator over loopback: a JSON
//! Lines file added, listed, shown, updated, exported back line for line, a row and a set
//! deleted; a file with a bad line refused by its number with nothing written.

mod common;

use std::process::Output;

use common::binary::{run, text};
use common::TestEmulator;
use serde_json::{json, Value};

const KEY: &str = "sk-test-cliknow-0001-cccccccccccccc";

const SEED: &str = r#"
[[projects]]
id = "proj-cli"
region = "us"
api_keys = ["sk-test-cliknow-0001-cccccccccccccc"]
"#;

async fn relevance(t: &TestEmulator, args: &[&str]) -> Output {
    let creds = [
        "--api-key",
        KEY,
        "--project",
        "proj-cli",
        "--region",
        "us",
        "--base-url",
        &t.base_url,
    ];
    run(&[args, &creds[..]].concat()).await
}

fn json_of(output: &Output) -> Value {
    assert!(output.status.success(), "{}", text(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

fn lines(count: usize) -> String {
    (0..count)
        .map(|n| format!("{}\n", json!({"n": n, "name": format!("row {n}")})))
        .collect()
}

#[tokio::test]
async fn a_json_lines_file_is_added_shown_updated_exported_and_deleted() {
    let t = TestEmulator::start_with(SEED).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("rows.jsonl");
    // 6001 rows: more than one chunk of lines, and a blank line that is skipped.
    std::fs::write(&file, format!("{}\n{}", lines(6000), lines(1))).expect("write");
    let path = file.to_str().expect("utf-8 path");
    let added = json_of(&relevance(&t, &["knowledge", "add", "faq", path, "--json"]).await);
    assert_eq!(added, json!({"set": "faq", "added": 6001}));

    let sets = json_of(&relevance(&t, &["knowledge", "sets", "--json"]).await);
    assert_eq!(
        (
            sets["sets"][0]["name"].clone(),
            sets["sets"][0]["rows"].clone()
        ),
        (json!("faq"), json!(6001))
    );
    let human = relevance(&t, &["knowledge", "sets"]).await;
    assert!(
        text(&human.stdout).contains("6001 rows"),
        "{}",
        text(&human.stdout)
    );

    let rows =
        json_of(&relevance(&t, &["knowledge", "rows", "faq", "--limit", "2", "--json"]).await);
    assert_eq!(rows["rows"].as_array().map(Vec::len), Some(2));
    assert_eq!(rows["rows"][1]["data"], json!({"n": 1, "name": "row 1"}));
    let id = rows["rows"][1]["document_id"]
        .as_str()
        .expect("id")
        .to_string();

    let updated = relevance(
        &t,
        &[
            "knowledge",
            "update",
            "faq",
            &id,
            "--data",
            r#"{"name": "renamed"}"#,
        ],
    )
    .await;
    assert!(updated.status.success(), "{}", text(&updated.stderr));

    let exported = relevance(&t, &["knowledge", "export", "faq"]).await;
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let out = text(&exported.stdout);
    let exported_lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(exported_lines.len(), 6001);
    assert_eq!(exported_lines[0], json!({"n": 0, "name": "row 0"}));
    assert_eq!(exported_lines[1], json!({"n": 1, "name": "renamed"}));
    assert_eq!(exported_lines[6000], json!({"n": 0, "name": "row 0"}));
    assert!(
        text(&exported.stderr).contains("exported 6001 rows"),
        "{}",
        text(&exported.stderr)
    );

    let deleted = relevance(&t, &["knowledge", "delete", "faq", "--row", &id]).await;
    assert!(deleted.status.success(), "{}", text(&deleted.stderr));
    let sets = json_of(&relevance(&t, &["knowledge", "sets", "--json"]).await);
    assert_eq!(sets["sets"][0]["rows"], 6000);
    let dropped = relevance(&t, &["knowledge", "delete", "faq"]).await;
    assert!(dropped.status.success(), "{}", text(&dropped.stderr));
    let sets = json_of(&relevance(&t, &["knowledge", "sets", "--json"]).await);
    assert_eq!(sets["sets"], json!([]));
}

#[tokio::test]
async fn a_bad_line_is_reported_by_number_and_nothing_is_written() {
    let t = TestEmulator::start_with(SEED).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        (
            format!("{}[1, 2]\n{}", lines(3), lines(2)),
            "line 4: not a JSON object",
        ),
        (format!("{}{{\"open\": \n", lines(1)), "line 2: not JSON"),
    ];
    for (index, (content, says)) in cases.iter().enumerate() {
        let file = dir.path().join(format!("bad{index}.jsonl"));
        std::fs::write(&file, content).expect("write");
        let refused = relevance(
            &t,
            &["knowledge", "add", "bad", file.to_str().expect("path")],
        )
        .await;
        assert!(!refused.status.success());
        let stderr = text(&refused.stderr);
        assert!(
            stderr.contains(says) && stderr.contains("nothing was added"),
            "{stderr}"
        );
    }
    let sets = json_of(&relevance(&t, &["knowledge", "sets", "--json"]).await);
    assert_eq!(sets["sets"], json!([]), "no set was made");
    let bad_data = relevance(&t, &["knowledge", "update", "bad", "x", "--data", "[1]"]).await;
    assert!(!bad_data.status.success());
    assert!(
        text(&bad_data.stderr).contains("JSON object"),
        "{}",
        text(&bad_data.stderr)
    );
}
