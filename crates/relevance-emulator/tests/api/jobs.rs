//! Jobs (PROTOCOL A15): a tool started with `trigger_async` and polled (long poll,
//! `after_message_id`, `ending_update_only`, `page_size`), the same `job_id` twice, cancel,
//! bad params, unknown and other projects' jobs, an agent run's job, a job across a restart,
//! the docs' `latest//studios/...` URL, and the synchronous `trigger`.

use relevance_emulator::{Config, SeedSource, Storage};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

const SEED: &str = r#"
[[projects]]
id = "proj-j"
region = "us"
api_keys = ["sk-test-jobs-0001"]

[[projects.tools]]
id = "slow-report"
title = "Slow report"
params_schema = { type = "object", properties = { topic = { type = "string" } }, required = ["topic"] }
output = { report = "all about {topic}" }
delay_ms = 3000

[[projects.tools]]
id = "ten-seconds"
params_schema = { type = "object", properties = {} }
delay_ms = 10000

[[projects.tools]]
id = "quick"
params_schema = { type = "object", properties = {} }
output = { ok = true }
cost = 0.25

[[projects.agents]]
id = "user-of-tools"
behavior = "script"
script = [
  { tool = "quick", input = {}, delay_ms = 1 },
  { tool = "inline-search", input = { q = "{message}" }, output = { hits = 2 }, delay_ms = 1 },
  { reply = "used two", delay_ms = 1 },
]

[[projects.agents]]
id = "writer"
public = true
behavior = "script"
script = [{ think = "hmm", delay_ms = 1 }, { reply = "the answer to {message}", delay_ms = 300 }]

[[projects.agents]]
id = "asker"
behavior = "script"
script = [{ reply = "may I?", delay_ms = 1 }, { approval = "approve?", delay_ms = 1 }, { reply = "done", delay_ms = 1 }]

[[projects]]
id = "proj-other"
region = "us"
api_keys = ["sk-test-jobs-0002"]
"#;
const KEY: &str = "proj-j:sk-test-jobs-0001";
const OTHER: &str = "proj-other:sk-test-jobs-0002";

fn config(adjust: impl FnOnce(&mut Config)) -> Config {
    let mut config = Config {
        seed: Some(SeedSource::Text(SEED.to_string())),
        job_poll_wait_ms: 400,
        ..Config::default()
    };
    adjust(&mut config);
    config
}

async fn running(config: Config) -> Running {
    Running {
        emulator: start(config).await,
        http: reqwest::Client::new(),
        seed_dir: tempfile::TempDir::new().expect("tempdir"),
    }
}

impl Running {
    async fn start_job(&self, tool: &str, body: Value) -> Answer {
        self.post(
            &format!("/{US}/latest/studios/{tool}/trigger_async"),
            Some(KEY),
            &body.to_string(),
        )
        .await
    }

    async fn poll(&self, tool: &str, job: &str, query: &[(&str, &str)]) -> Answer {
        self.get_query(
            &format!("/{US}/latest/studios/{tool}/async_poll/{job}"),
            Some(KEY),
            query,
        )
        .await
    }

    /// Polls (bounded) until the job has ended; its last answer.
    async fn until_ended(&self, tool: &str, job: &str) -> Answer {
        for _ in 0..100 {
            let answer = self
                .poll(tool, job, &[("ending_update_only", "true")])
                .await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
            if matches!(answer.body["type"].as_str(), Some("complete" | "failed")) {
                return answer;
            }
        }
        panic!("job {job} never ended");
    }
}

fn kinds(updates: &Value) -> Vec<String> {
    updates
        .as_array()
        .unwrap()
        .iter()
        .map(|update| update["type"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_three_second_job_is_seen_in_progress_then_complete_with_its_output() {
    let running = running(config(|_| {})).await;
    let started = running
        .start_job(
            "slow-report",
            json!({"params": {"topic": "owls"}, "project": "proj-j"}),
        )
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);
    let job = started.body["job_id"].as_str().unwrap().to_string();
    assert_eq!(started.body["studio_id"], "slow-report");
    assert_eq!(started.body["project"], "proj-j");
    assert_eq!(job.len(), 36, "an unguessable id (a UUID v4): {job}");

    let first = running.poll("slow-report", &job, &[]).await;
    assert_eq!(first.body["type"], "inprogress", "{}", first.text);
    assert_eq!(kinds(&first.body["updates"])[0], "emulator-progress");
    assert_eq!(first.body["updates"][0]["expected_ms"], 3000);

    // Only the ending: nothing while it runs, so the long poll answers `timeout`.
    let waiting = running
        .poll("slow-report", &job, &[("ending_update_only", "true")])
        .await;
    assert_eq!(waiting.body["type"], "timeout", "{}", waiting.text);
    assert_eq!(waiting.body["updates"], json!([]));

    let ended = running.until_ended("slow-report", &job).await;
    assert_eq!(ended.body["type"], "complete");
    let updates = ended.body["updates"].as_array().unwrap();
    assert_eq!(updates.len(), 1, "only the final update: {}", ended.text);
    assert_eq!(updates[0]["type"], "chain-success");
    assert_eq!(
        updates[0]["output"]["output"],
        json!({"report": "all about owls"})
    );

    // Paging through every update, one at a time, ends on the final one.
    let mut after = 0;
    let mut seen = Vec::new();
    for _ in 0..20 {
        let after_text = after.to_string();
        let page = running
            .poll(
                "slow-report",
                &job,
                &[("after_message_id", &after_text), ("page_size", "1")],
            )
            .await;
        let updates = page.body["updates"].as_array().unwrap().clone();
        if updates.is_empty() {
            break;
        }
        assert_eq!(updates.len(), 1);
        after = page.body["last_message_id"].as_i64().unwrap();
        seen.push(updates[0]["type"].as_str().unwrap().to_string());
    }
    assert!(
        seen.len() >= 4,
        "progress every second of three, then the end: {seen:?}"
    );
    assert_eq!(seen.last().map(String::as_str), Some("chain-success"));
    assert!(seen[..seen.len() - 1]
        .iter()
        .all(|kind| kind == "emulator-progress"));
}

#[tokio::test]
async fn a_chosen_job_id_started_twice_is_one_job() {
    let running = running(config(|_| {})).await;
    let body = json!({"params": {"topic": "bees"}, "job_id": "my-job-1"});
    let first = running.start_job("slow-report", body.clone()).await;
    let second = running.start_job("slow-report", body).await;
    assert_eq!(first.body["job_id"], "my-job-1");
    assert_eq!(second.body, first.body);
    let all = running.poll("slow-report", "my-job-1", &[]).await;
    let starts = all.body["updates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|update| update["elapsed_ms"] == 0)
        .count();
    assert_eq!(starts, 1, "one run: {}", all.text);
    let taken = running
        .start_job("quick", json!({"job_id": "my-job-1"}))
        .await;
    assert_eq!(taken.status, StatusCode::BAD_REQUEST);
    assert!(
        taken.message().contains("another tool's job"),
        "{}",
        taken.text
    );
    let bad_id = running.start_job("quick", json!({"job_id": "a/b"})).await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn cancel_ends_a_running_job_failed_and_bad_params_fail_naming_the_param() {
    let running = running(config(|_| {})).await;
    let started = running
        .start_job("slow-report", json!({"params": {"topic": "x"}}))
        .await;
    let job = started.body["job_id"].as_str().unwrap().to_string();
    let cancel = running
        .post(
            &format!("/{US}/latest/studios/{job}/cancel"),
            Some(KEY),
            "{}",
        )
        .await;
    assert_eq!(
        (cancel.status, &cancel.body),
        (StatusCode::OK, &json!({})),
        "{}",
        cancel.text
    );
    let ended = running.until_ended("slow-report", &job).await;
    assert_eq!(ended.body["type"], "failed");
    assert_eq!(ended.body["updates"][0]["cancelled"], true);
    let again = running
        .post(
            &format!("/{US}/latest/studios/{job}/cancel"),
            Some(KEY),
            "{}",
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "cancelling an ended job changes nothing"
    );

    let bad = running
        .start_job("slow-report", json!({"params": {"topic": 7}}))
        .await;
    let job = bad.body["job_id"].as_str().unwrap().to_string();
    let failed = running.until_ended("slow-report", &job).await;
    assert_eq!(failed.body["type"], "failed");
    let update = &failed.body["updates"][0];
    assert_eq!(update["type"], "chain-failed");
    assert!(
        update["errors"][0]["body"]
            .as_str()
            .unwrap()
            .contains("topic"),
        "{update}"
    );
}

#[tokio::test]
async fn unknown_and_other_projects_jobs_are_the_same_404_and_embed_keys_are_refused() {
    let running = running(config(|_| {})).await;
    let started = running.start_job("quick", json!({})).await;
    let job = started.body["job_id"].as_str().unwrap().to_string();
    let path = |tool: &str, job: &str| format!("/{US}/latest/studios/{tool}/async_poll/{job}");
    let unknown = running.get(&path("quick", "no-such-job"), Some(KEY)).await;
    let elsewhere = running.get(&path("quick", &job), Some(OTHER)).await;
    let wrong_tool = running.get(&path("slow-report", &job), Some(KEY)).await;
    for answer in [&unknown, &elsewhere, &wrong_tool] {
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.text);
        assert!(answer.message().starts_with("no job '"), "{}", answer.text);
    }
    let cancel_elsewhere = running
        .post(
            &format!("/{US}/latest/studios/{job}/cancel"),
            Some(OTHER),
            "{}",
        )
        .await;
    assert_eq!(cancel_elsewhere.status, StatusCode::NOT_FOUND);

    let answer = running
        .post(
            &format!("/{US}/latest/agents/get_embed_key"),
            None,
            r#"{"agent_id":"writer","project":"proj-j"}"#,
        )
        .await;
    let embed = format!("proj-j:{}", answer.body["embed_key"].as_str().unwrap());
    let refused = running.get(&path("quick", &job), Some(&embed)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
}

#[tokio::test]
async fn an_agents_job_ends_with_its_reply_and_a_wait_for_a_person_ends_it_too() {
    let running = running(config(|_| {})).await;
    let trigger = running
        .trigger(
            KEY,
            json!({"agent_id": "writer", "message": {"role": "user", "content": "life"}}),
        )
        .await;
    let info = &trigger.body["job_info"];
    assert_eq!(info["studio_id"], "writer");
    assert_eq!(info["conversation_id"], trigger.body["conversation_id"]);
    let job = info["job_id"].as_str().unwrap().to_string();
    assert_eq!(job.len(), 36, "unguessable: {job}");
    let ended = running.until_ended("writer", &job).await;
    assert_eq!(ended.body["type"], "complete", "{}", ended.text);
    let update = &ended.body["updates"][0];
    assert_eq!(update["type"], "chain-success");
    assert_eq!(update["output"]["output"]["answer"], "the answer to life");

    let asked = running
        .trigger(
            KEY,
            json!({"agent_id": "asker", "message": {"role": "user", "content": "go"}}),
        )
        .await;
    let job = asked.body["job_info"]["job_id"]
        .as_str()
        .unwrap()
        .to_string();
    let waiting = running.until_ended("asker", &job).await;
    let output = &waiting.body["updates"][0]["output"]["output"];
    assert_eq!(output["waiting_for"], "approval", "{}", waiting.text);
    assert_eq!(output["answer"], "approve?");
    // The person's answer is a new trigger with a new job, which ends with the run.
    let task = asked.body["conversation_id"].as_str().unwrap();
    let resumed = running
        .trigger(
            KEY,
            json!({"agent_id": "asker", "conversation_id": task,
                             "message": {"role": "user", "content": "yes"}}),
        )
        .await;
    let next = resumed.body["job_info"]["job_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(next, job);
    let done = running.until_ended("asker", &next).await;
    assert_eq!(
        done.body["updates"][0]["output"]["output"]["answer"],
        "done"
    );
}

#[tokio::test]
async fn the_docs_double_slash_url_and_the_synchronous_trigger_work() {
    let running = running(config(|_| {})).await;
    let started = running.start_job("quick", json!({})).await;
    let job = started.body["job_id"].as_str().unwrap().to_string();
    let polled = running
        .get(
            &format!("/{US}/latest//studios/quick/async_poll/{job}?ending_update_only=true"),
            Some(KEY),
        )
        .await;
    assert_eq!(polled.status, StatusCode::OK, "{}", polled.text);
    let sync = running
        .post(
            &format!("/{US}/latest/studios/quick/trigger"),
            Some(KEY),
            r#"{"params": {}, "tool_version": "latest"}"#,
        )
        .await;
    assert_eq!(sync.status, StatusCode::OK, "{}", sync.text);
    assert_eq!(sync.body["status"], "complete");
    assert_eq!(sync.body["output"], json!({"ok": true}));
}

#[tokio::test]
async fn a_job_survives_a_restart_and_one_running_at_the_stop_ends_failed() {
    let data = tempfile::TempDir::new().unwrap();
    let with_storage =
        |config: &mut Config| config.storage = Storage::Directory(data.path().to_path_buf());
    let first = running(config(with_storage)).await;
    let quick = first.start_job("quick", json!({})).await.body["job_id"]
        .as_str()
        .unwrap()
        .to_string();
    first.until_ended("quick", &quick).await;
    let slow = first
        .start_job("slow-report", json!({"params": {"topic": "t"}}))
        .await;
    let slow = slow.body["job_id"].as_str().unwrap().to_string();
    first.emulator.shutdown().await.expect("clean shutdown");

    let second = running(config(with_storage)).await;
    let kept = second.until_ended("quick", &quick).await;
    assert_eq!(
        kept.body["type"], "complete",
        "a finished job's result survives"
    );
    let interrupted = second.until_ended("slow-report", &slow).await;
    assert_eq!(interrupted.body["type"], "failed");
    let body = interrupted.body["updates"][0]["errors"][0]["body"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(body.contains("stopped while this job ran"), "{body}");
}

#[tokio::test]
async fn a_tasks_tool_runs_are_listed_newest_first_with_output_and_cost() {
    let running = running(config(|_| {})).await;
    let trigger = running
        .trigger(
            KEY,
            json!({"agent_id": "user-of-tools", "message": {"role": "user", "content": "x"}}),
        )
        .await;
    let task = trigger.body["conversation_id"]
        .as_str()
        .unwrap()
        .to_string();
    running.settle(KEY, "user-of-tools", &task).await;
    let listed = running
        .get_query(
            &format!("/{US}/latest/agents/conversations/studios/list"),
            Some(KEY),
            &[
                ("agent_id", "user-of-tools"),
                ("conversation_id", &task),
                ("page_size", "100"),
            ],
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let results = listed.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{}", listed.text);
    let (newest, oldest) = (&results[0], &results[1]);
    assert_eq!(newest["studio_id"], "inline-search");
    assert_eq!(newest["status"], "complete");
    assert_eq!(newest["output_preview"], json!({"hits": 2}));
    assert_eq!(newest["cost"], 0);
    assert_eq!(oldest["studio_id"], "quick");
    assert_eq!(oldest["cost"], 0.25);
    assert_eq!(oldest["output_preview"], json!({"ok": true}));
    assert_eq!(
        oldest["executor"],
        json!({"agent_id": "user-of-tools", "conversation_id": task})
    );
    assert!(oldest["insert_date_"].as_str().is_some());
    let one = running
        .get_query(
            &format!("/{US}/latest/agents/conversations/studios/list"),
            Some(KEY),
            &[
                ("agent_id", "user-of-tools"),
                ("conversation_id", &task),
                ("page_size", "1"),
            ],
        )
        .await;
    assert_eq!(one.body["results"].as_array().unwrap().len(), 1);
    for bad in ["0", "1001", "many"] {
        let refused = running
            .get_query(
                &format!("/{US}/latest/agents/conversations/studios/list"),
                Some(KEY),
                &[
                    ("agent_id", "user-of-tools"),
                    ("conversation_id", &task),
                    ("page_size", bad),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(refused.body["message"]
            .as_str()
            .unwrap()
            .contains("`page_size`"));
    }
    let elsewhere = running
        .get_query(
            &format!("/{US}/latest/agents/conversations/studios/list"),
            Some(OTHER),
            &[("agent_id", "user-of-tools"), ("conversation_id", &task)],
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
}

/// Long polls hold connections: 2,000 at once, all waiting on one ten-second job, are
/// served when it ends — the default connection cap follows the machine — while a client
/// that never finishes its headers is still cut off by the slow-client timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_long_polls_are_served_while_a_slowloris_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const POLLS: usize = 2000;
    let running = running(config(|config| {
        config.job_poll_wait_ms = 20_000;
        config.connections.header_read_timeout_ms = 5_000;
    }))
    .await;
    let started = running.start_job("ten-seconds", json!({})).await;
    let job = started.body["job_id"].as_str().unwrap().to_string();
    let url = running.url(&format!(
        "/{US}/latest/studios/ten-seconds/async_poll/{job}"
    ));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    // Opened over about four seconds (as clients arrive, not one SYN flood), then all held
    // until the ten-second job ends.
    let polls = (0..POLLS).map(|index| {
        let request = http
            .get(&url)
            .query(&[("ending_update_only", "true")])
            .header("Authorization", KEY);
        async move {
            tokio::time::sleep(std::time::Duration::from_millis(2 * index as u64)).await;
            let answer = request.send().await.map_err(|error| format!("{error:?}"))?;
            let body: Value = answer.json().await.map_err(|error| error.to_string())?;
            Ok::<Value, String>(body)
        }
    });
    let slowloris = async {
        let mut stream = tokio::net::TcpStream::connect(running.emulator.local_addr())
            .await
            .expect("connect");
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("partial headers");
        let mut buffer = [0u8; 256];
        // Closed by the server (0 bytes or a reset) well before the job ends.
        tokio::time::timeout(std::time::Duration::from_secs(20), stream.read(&mut buffer))
            .await
            .expect("the slow client is cut off")
    };
    let (answers, cut) = tokio::join!(futures_util::future::join_all(polls), slowloris);
    assert!(matches!(cut, Ok(0) | Err(_)), "{cut:?}");
    let complete = answers
        .iter()
        .filter(|answer| matches!(answer, Ok(body) if body["type"] == "complete"))
        .count();
    let failures: Vec<_> = answers
        .iter()
        .filter_map(|a| a.as_ref().err())
        .take(3)
        .collect();
    assert_eq!(
        complete, POLLS,
        "every long poll answered with the job's end: {failures:?}"
    );
}
