//! Seed files: bad ones stop start-up naming file and line; good ones define projects.

use relevance_emulator::{Config, Emulator, ProjectSummary, SeedSource, StartError};
use tempfile::TempDir;
use tokio::net::TcpListener;

use crate::support::*;

async fn start_with_seed(text: &str) -> (TempDir, Result<Emulator, StartError>) {
    let dir = TempDir::new().expect("tempdir");
    let seed_file = write_seed(&dir, text);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let config = Config {
        seed: Some(SeedSource::File(seed_file)),
        storage: relevance_emulator::Storage::Directory(dir.path().join("data")),
        ..Config::default()
    };
    let result = Emulator::start(config, listener).await;
    (dir, result)
}

#[tokio::test]
async fn a_bad_seed_file_stops_start_up_naming_the_file_and_the_line() {
    let cases: &[(&str, &str, usize, &str)] = &[
        (
            "syntax error",
            "[[projects]]\nid = \"p\"\nregion = \"us\"\napi_keys = [\"sk-1\"\n",
            5,
            "",
        ),
        (
            "unknown region",
            "[[projects]]\nid = \"p\"\n\nregion = \"mars\"\n",
            4,
            "bcbe5a",
        ),
        (
            "duplicate agent",
            "[[projects]]\nid = \"p\"\nregion = \"au\"\n\n[[projects.agents]]\nid = \"a\"\n\n[[projects.agents]]\nid = \"a\"\n",
            9,
            "duplicate agent id",
        ),
        (
            "workforce with unknown agent",
            "[[projects]]\nid = \"p\"\nregion = \"us\"\n[[projects.agents]]\nid = \"a\"\n[[projects.workforces]]\nid = \"w\"\nname = \"W\"\nagents = [\"a\",\n  \"ghost\"]\n",
            10,
            "ghost",
        ),
        (
            "unknown field",
            "[[projects]]\nid = \"p\"\nregion = \"us\"\n[[projects.agents]]\nid = \"a\"\npublik = true\n",
            6,
            "publik",
        ),
        (
            "empty id",
            "[[projects]]\nid = \"p\"\nregion = \"us\"\n[[projects.agents]]\nid = \"\"\n",
            5,
            "empty",
        ),
    ];
    for (name, text, line, fragment) in cases {
        let (dir, result) = start_with_seed(text).await;
        let error = result.expect_err(name);
        let shown = error.to_string();
        assert!(
            matches!(error, StartError::Seed { .. }),
            "{name}: {error:?}"
        );
        assert!(shown.contains("seed.toml"), "{name}: {shown}");
        assert!(shown.contains(&format!("line {line}:")), "{name}: {shown}");
        assert!(shown.contains(fragment), "{name}: {shown}");
        assert!(
            !dir.path().join("data").exists(),
            "{name}: no data directory for a bad seed"
        );
    }
}

#[tokio::test]
async fn a_missing_seed_file_is_named() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let config = Config {
        seed: Some(SeedSource::File("/nonexistent/seed-file.toml".into())),
        ..Config::default()
    };
    let error = Emulator::start(config, listener)
        .await
        .expect_err("no file");
    assert!(error.to_string().contains("seed-file.toml"), "{error}");
}

#[tokio::test]
async fn the_seed_defines_the_projects_and_no_demo() {
    let running = start_seeded().await;
    assert!(running.emulator.demo().is_none());
    assert_eq!(
        running.emulator.projects()[0],
        ProjectSummary {
            id: "proj-a".into(),
            region_code: "bcbe5a".into(),
            agent_ids: vec![
                "agent-public".into(),
                "agent-private".into(),
                "agent-other".into()
            ],
            workforce_ids: vec!["wf-1".into(), "wf-2".into()],
        }
    );
    assert_eq!(running.emulator.projects()[2].region_code, "d7b62b");
    assert!(running.emulator.base_url().starts_with("http://127.0.0.1:"));
    assert!(!running.emulator.base_url().ends_with('/'));
}

#[tokio::test]
async fn without_a_seed_the_demo_project_is_ready() {
    let emulator = start(Config::default()).await;
    let demo = emulator.demo().expect("demo project").clone();
    assert_eq!(demo.project, "demo-project");
    assert_eq!(demo.region_code, "bcbe5a");
    assert!(demo.api_key.starts_with("sk-"));
    assert!(!format!("{demo:?}").contains(&demo.api_key));
    assert!(!format!("{emulator:?}").contains(emulator.admin_token()));
    let http = reqwest::Client::new();
    let base = emulator.base_url();
    let agent = answer(
        http.get(format!(
            "{base}/bcbe5a/latest/agents/{}/get",
            demo.public_agent_id
        ))
        .header(
            "Authorization",
            format!("{}:{}", demo.project, demo.api_key),
        )
        .send()
        .await
        .expect("sent"),
    )
    .await;
    assert_eq!(agent.body["agent"]["name"], "Demo assistant");
    assert_eq!(agent.body["agent"]["emoji"], "🤖");
    let private = answer(
        http.post(format!("{base}/bcbe5a/latest/agents/get_embed_key"))
            .body(format!(
                r#"{{"agent_id":"{}","project":"{}"}}"#,
                demo.private_agent_id, demo.project
            ))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(private.status, reqwest::StatusCode::NOT_FOUND);
    let workforce = answer(
        http.get(format!(
            "{base}/bcbe5a/latest/workforce/items/{}",
            demo.workforce_id
        ))
        .header(
            "Authorization",
            format!("{}:{}", demo.project, demo.api_key),
        )
        .send()
        .await
        .expect("sent"),
    )
    .await;
    assert_eq!(
        workforce.body["workforce_metadata"]["name"],
        "Demo workforce"
    );
    emulator.shutdown().await.expect("clean shutdown");
}
