//! Fault injection over real HTTP: a faulted request is answered (or dropped)
//! before anything is processed, and admin, health and files are never faulted.

use std::time::Duration;

use relevance_emulator::{Config, Faults, SeedSource, Storage};
use reqwest::StatusCode;
use serde_json::json;
use tempfile::TempDir;

use crate::support::*;

async fn start_faulty(faults: Faults) -> Running {
    start_seeded_with(|config| config.faults = faults).await
}

async fn keys_of_proj_a(running: &Running) -> usize {
    let keys = running
        .get("/admin/projects/proj-a/keys", Some(&running.admin()))
        .await;
    assert_eq!(keys.status, StatusCode::OK, "admin is never faulted");
    keys.body["keys"].as_array().expect("keys").len()
}

async fn logged_statuses(running: &Running, path: &str) -> Vec<u64> {
    let log = running
        .get("/admin/requests?limit=100", Some(&running.admin()))
        .await;
    assert_eq!(log.status, StatusCode::OK);
    log.body["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .filter(|entry| entry["path"] == path)
        .map(|entry| entry["status"].as_u64().expect("status"))
        .collect()
}

#[tokio::test]
async fn with_error_rate_one_every_api_request_is_500_and_nothing_is_written() {
    let data = TempDir::new().expect("tempdir");
    let seed_dir = TempDir::new().expect("tempdir");
    let seed = write_seed(&seed_dir, SEED);
    let config = |faults: Faults| Config {
        storage: Storage::Directory(data.path().to_path_buf()),
        seed: Some(SeedSource::File(seed.clone())),
        faults,
        ..Config::default()
    };
    let running = Running {
        emulator: start(config(Faults {
            error_rate: 1.0,
            ..Faults::default()
        }))
        .await,
        http: reqwest::Client::new(),
        seed_dir: TempDir::new().expect("tempdir"),
    };
    let auth = format!("proj-a:{KEY_A}");
    let before = keys_of_proj_a(&running).await;
    let cases = [
        (
            format!("/{US}/latest/agents/trigger"),
            json!({"agent_id": "agent-public", "conversation_id": "must-not-exist",
                   "message": {"role": "user", "content": "hi"}}),
        ),
        (
            format!("/{US}/latest/workforce/trigger"),
            json!({"workforce_id": "wf-1", "workforce_task_id": "wf-must-not-exist",
                   "trigger": {"message": {"role": "user", "content": "hi"}}}),
        ),
        (
            format!("/{US}/latest/agents/get_embed_key"),
            json!({"agent_id": "agent-public", "project": "proj-a"}),
        ),
        (format!("/{US}/latest/agents/list"), json!({})),
    ];
    for (path, body) in &cases {
        for _ in 0..3 {
            let answer = running.post(path, Some(&auth), &body.to_string()).await;
            assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR, "{path}");
            assert!(answer.message().contains("error_rate"), "{}", answer.text);
        }
        assert_eq!(logged_statuses(&running, path).await, [500, 500, 500]);
    }
    let stream = running
        .get(&format!("/{US}/v1/stream?authorization=Bearer+x"), None)
        .await;
    assert_eq!(stream.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(running.get("/healthz", None).await.status, StatusCode::OK);
    assert_eq!(
        keys_of_proj_a(&running).await,
        before,
        "no embed key was issued"
    );
    running.emulator.shutdown().await.expect("shutdown");

    // Without faults, the same data shows that no trigger created a task.
    let running = Running {
        emulator: start(config(Faults::default())).await,
        http: reqwest::Client::new(),
        seed_dir: TempDir::new().expect("tempdir"),
    };
    let listed = running
        .get(
            &format!("/{US}/latest/agents/conversations/list"),
            Some(&auth),
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert_eq!(listed.body["results"], json!([]));
    let workforce_tasks = running
        .post(
            &format!("/{US}/latest/workforce/tasks/list"),
            Some(&auth),
            r#"{"workforce_id":"wf-1"}"#,
        )
        .await;
    assert_eq!(workforce_tasks.status, StatusCode::OK);
    assert_eq!(workforce_tasks.body["results"], json!([]));
}

#[tokio::test]
async fn with_rate_limit_rate_one_every_api_request_is_429_with_retry_after() {
    let running = start_faulty(Faults {
        rate_limit_rate: 1.0,
        ..Faults::default()
    })
    .await;
    let before = keys_of_proj_a(&running).await;
    let auth = format!("proj-a:{KEY_A}");
    let cases = [
        running
            .post(
                &format!("/{US}/latest/agents/get_embed_key"),
                None,
                r#"{"agent_id":"agent-public","project":"proj-a"}"#,
            )
            .await,
        running
            .get(
                &format!("/{US}/latest/agents/agent-public/get"),
                Some(&auth),
            )
            .await,
        running
            .get(&format!("/{US}/v1/stream?authorization=Bearer+x"), None)
            .await,
    ];
    for answer in cases {
        assert_eq!(
            answer.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            answer.text
        );
        assert_eq!(
            answer
                .headers
                .get("retry-after")
                .and_then(|value| value.to_str().ok()),
            Some("1")
        );
        assert!(answer.message().contains("rate_limit_rate"));
    }
    assert_eq!(keys_of_proj_a(&running).await, before);
    assert_eq!(running.get("/healthz", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn with_drop_rate_one_the_client_sees_a_connection_error_and_the_log_status_0() {
    let running = start_faulty(Faults {
        drop_rate: 1.0,
        ..Faults::default()
    })
    .await;
    let path = format!("/{US}/latest/agents/get_embed_key");
    let sent = running
        .http
        .post(running.url(&path))
        .body(r#"{"agent_id":"agent-public","project":"proj-a"}"#)
        .send()
        .await;
    // No status line at all: the request itself fails, as on a dropped connection.
    let error = sent.expect_err("a dropped request gets no answer");
    assert!(error.is_request() && !error.is_status(), "{error:?}");
    assert_eq!(logged_statuses(&running, &path).await, [0]);
    assert_eq!(keys_of_proj_a(&running).await, 1, "only the seeded key");
    assert_eq!(running.get("/healthz", None).await.status, StatusCode::OK);
    // A file URL is never faulted either (404: nothing uploaded there).
    assert_eq!(
        running.get("/files/nothing/a.pdf", None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn stream_cut_from_the_seed_closes_live_streams() {
    let seed_dir = TempDir::new().expect("tempdir");
    let seed = format!("[emulator.faults]\nstream_cut_every_ms = 50\n{ENGINE_SEED}");
    let running = Running {
        emulator: start(Config {
            seed: Some(SeedSource::Text(seed.to_string())),
            ..Config::default()
        })
        .await,
        http: reqwest::Client::new(),
        seed_dir,
    };
    let trigger = running
        .trigger(
            KEY_E,
            json!({"agent_id": "echo", "conversation_id": "cut",
                   "message": {"role": "user", "content": "hi"}}),
        )
        .await;
    assert_eq!(trigger.status, StatusCode::OK, "{}", trigger.text);
    let meta = running
        .get(
            &format!("/{US}/latest/agents/echo/tasks/cut/metadata?include_streaming_token=true"),
            Some(KEY_E),
        )
        .await;
    let token = meta.body["streaming_token"]["token"]
        .as_str()
        .expect("token")
        .to_string();
    for _ in 0..2 {
        // Each (re)connection is cut again.
        let mut response = running
            .http
            .get(running.url(&format!("/{US}/v1/stream?authorization=Bearer+{token}")))
            .send()
            .await
            .expect("stream opened");
        assert_eq!(response.status(), StatusCode::OK);
        tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(_)) = response.chunk().await {}
        })
        .await
        .expect("the cut ends the stream");
    }
}

#[tokio::test]
async fn invalid_fault_settings_stop_start_up_naming_the_field() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let error = relevance_emulator::Emulator::start(
        Config {
            faults: Faults {
                error_rate: 2.0,
                ..Faults::default()
            },
            ..Config::default()
        },
        listener,
    )
    .await
    .expect_err("a rate above 1 is refused");
    assert!(error.to_string().contains("error_rate"), "{error}");

    let seed_dir = TempDir::new().expect("tempdir");
    let seed = write_seed(
        &seed_dir,
        &format!("[emulator.faults]\ndrop_rate = 1.5\n{SEED}"),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let error = relevance_emulator::Emulator::start(
        Config {
            seed: Some(SeedSource::File(seed)),
            ..Config::default()
        },
        listener,
    )
    .await
    .expect_err("a seeded rate above 1 is refused");
    let text = error.to_string();
    assert!(
        text.contains("line 2") && text.contains("drop_rate"),
        "{text}"
    );
}
