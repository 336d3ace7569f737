//! Jobs through the SDK (PROTOCOL A15): a tool started, followed and waited for with the
//! long poll, resumed from its ids, cancelled; `agent.ask` waiting on a run's job.
#![cfg(not(target_family = "wasm"))]

use futures_util::StreamExt;
use relevance::{Client, Error, JobRef, Key, Region, ToolOutputStatus};
use relevance_testkit::TestEmulator;
use serde_json::json;

const SEED: &str = r#"
[[projects]]
id = "proj-jobs"
region = "us"
api_keys = ["sk-test-sdk-jobs-0001-jjjjjjjjjjjj"]

[[projects.tools]]
id = "report"
params_schema = { type = "object", properties = { topic = { type = "string" } }, required = ["topic"] }
output = { report = "all about {topic}" }
delay_ms = 1200

[[projects.tools]]
id = "priced"
params_schema = { type = "object", properties = {} }
output = { ok = true }
cost = 1.5

[[projects.agents]]
id = "worker"
behavior = "script"
script = [{ tool = "priced", input = {}, delay_ms = 1 }, { reply = "worked", delay_ms = 1 }]

[[projects.agents]]
id = "writer"
behavior = "script"
script = [{ reply = "the answer to {message}", delay_ms = 200 }]

[[projects.agents]]
id = "asker"
behavior = "script"
script = [{ approval = "may I?", delay_ms = 1 }, { reply = "done", delay_ms = 1 }]

[[projects.agents]]
id = "broken"
behavior = "script"
script = [{ error = "the model is down", delay_ms = 1 }]
"#;

fn client(t: &TestEmulator) -> Client {
    t.client(
        Key::new(
            "sk-test-sdk-jobs-0001-jjjjjjjjjjjj",
            Region::US,
            "proj-jobs",
        )
        .unwrap(),
    )
}

#[tokio::test]
async fn a_tool_job_is_followed_to_its_end_and_resumed_from_its_ids() {
    let t = TestEmulator::start_with(SEED).await;
    let client = client(&t);
    let tool = client.tools().get("report").await.unwrap();
    let job = tool.start(json!({"topic": "owls"})).await.unwrap();
    assert_eq!(job.ids().studio_id, "report");
    uuid_v4(job.id());

    let updates: Vec<_> = job.updates().collect().await;
    let kinds: Vec<String> = updates
        .iter()
        .map(|update| {
            update.as_ref().unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(kinds.len() >= 2, "{kinds:?}");
    assert_eq!(kinds.last().map(String::as_str), Some("chain-success"));
    assert!(kinds[..kinds.len() - 1]
        .iter()
        .all(|kind| kind == "emulator-progress"));

    // Kept as data, picked up again (as another process would).
    let kept = serde_json::to_string(job.ids()).unwrap();
    let ids: JobRef = serde_json::from_str(&kept).unwrap();
    let output = client.tools().job(ids).wait().await.unwrap();
    assert!(output.is_complete(), "{output:?}");
    assert_eq!(output.output, Some(json!({"report": "all about owls"})));
    assert!(output.execution_time.is_some());
}

#[tokio::test]
async fn a_cancelled_job_and_bad_params_wait_to_failed_with_the_reasons() {
    let t = TestEmulator::start_with(SEED).await;
    let tool = client(&t).tools().get("report").await.unwrap();
    let job = tool.start(json!({"topic": "x"})).await.unwrap();
    job.cancel().await.unwrap();
    let cancelled = job.wait().await.unwrap();
    assert_eq!(cancelled.status, ToolOutputStatus::Failed);
    assert!(cancelled.errors[0].contains("cancelled"), "{cancelled:?}");

    let bad = tool
        .start(json!({"topic": 5}))
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    assert_eq!(bad.status, ToolOutputStatus::Failed);
    assert!(
        bad.errors.iter().any(|error| error.contains("topic")),
        "{bad:?}"
    );
}

#[tokio::test]
async fn ask_answers_the_reply_says_when_a_person_must_decide_and_fails_with_the_run() {
    let t = TestEmulator::start_with(SEED).await;
    let client = client(&t);
    let writer = client.agents().get("writer").await.unwrap();
    let reply = writer.ask("life").await.unwrap();
    assert_eq!(reply.text, "the answer to life");
    assert!(!reply.waiting_for_approval);
    let again = writer
        .message("more")
        .in_task(reply.task_id.as_str())
        .ask()
        .await
        .unwrap();
    assert_eq!(
        (again.text.as_str(), again.task_id.as_str()),
        ("the answer to more", reply.task_id.as_str())
    );

    let asker = client.agents().get("asker").await.unwrap();
    let waiting = asker.ask("go").await.unwrap();
    assert!(waiting.waiting_for_approval);
    assert_eq!(waiting.text, "may I?");

    let broken = client.agents().get("broken").await.unwrap();
    match broken.ask("hi").await {
        Err(Error::RunFailed { errors, .. }) => {
            assert!(
                errors
                    .iter()
                    .any(|error| error.contains("the model is down")),
                "{errors:?}"
            )
        }
        other => panic!("expected RunFailed, got {other:?}"),
    }
}

fn uuid_v4(id: &str) {
    let parsed = uuid::Uuid::parse_str(id).expect("the SDK chose a UUID");
    assert_eq!(parsed.get_version_num(), 4);
}

#[tokio::test]
async fn a_tasks_tool_runs_list_status_output_and_cost() {
    let t = TestEmulator::start_with(SEED).await;
    let client = client(&t);
    let worker = client.agents().get("worker").await.unwrap();
    let reply = worker.ask("go").await.unwrap();
    assert_eq!(reply.text, "worked");
    let task = worker.get_task(&reply.task_id).await.unwrap();
    let runs = task.tool_runs().await.unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].tool_id, "priced");
    assert_eq!(runs[0].status, ToolOutputStatus::Complete);
    assert_eq!(runs[0].output_preview, json!({"ok": true}));
    assert_eq!(runs[0].cost, Some(1.5));
    assert!(runs[0].created_at.is_some());
}
