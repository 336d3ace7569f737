//! Jobs (PROTOCOL A15): a tool run started now and followed later — the platform's way to
//! run a long tool, and to wait for an agent's run.
//!
//! [`Tool::start`] starts a tool as a [`ToolJob`] under an id the SDK chooses, so the
//! start is safe to retry (a second start with that id answers the same job). The job
//! waits with the platform's long poll (`async_poll?ending_update_only=true`): each poll
//! returns as soon as the job ends, or after the server's wait with nothing new, so
//! waiting costs about one request per wait, never a busy loop, and needs no timer (the
//! same code runs in a browser). A job is plain data (`Serialize`): keep its ids, and
//! [`Tools::job`] picks it up again in another process.

use std::collections::VecDeque;

use futures_util::stream::{self, Stream};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::http::Request;
use crate::tool::{Tool, ToolOutput, ToolOutputStatus, Tools};
use crate::wire::jobs::{cancel_path, poll_path, start_path, PollAnswer, StartAnswer, StartBody};

/// A job's ids: which tool (or agent) it runs and which run it is. What to keep to pick
/// the job up again.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct JobRef {
    /// The tool's id (`studio_id`), or the agent's for an agent's run.
    pub studio_id: String,
    /// The job's id.
    pub job_id: String,
}

impl JobRef {
    /// The job a trigger answer's `job_info` names (`{"job_id", "studio_id", ...}`), read
    /// leniently: `None` when either id is missing.
    pub(crate) fn from_job_info(job_info: &Value) -> Option<JobRef> {
        match (job_info["job_id"].as_str(), job_info["studio_id"].as_str()) {
            (Some(job_id), Some(studio_id)) => Some(JobRef {
                studio_id: studio_id.to_string(),
                job_id: job_id.to_string(),
            }),
            _ => None,
        }
    }
}

/// A tool started as a job, and the client to follow it with.
#[derive(Clone, Debug)]
pub struct ToolJob {
    client: Client,
    ids: JobRef,
}

impl Tool {
    /// Starts the tool on `params` as a job (`POST studios/{id}/trigger_async`) and
    /// returns at once. The SDK chooses the job's id, so a start that fails unclearly is
    /// sent again safely. Params that break the tool's schema end the job `failed`.
    pub async fn start(&self, params: Value) -> Result<ToolJob> {
        let job_id = uuid::Uuid::new_v4().to_string();
        let body = StartBody {
            job_id: &job_id,
            params: &params,
            project: self.client().project(),
        };
        // A start under a chosen id is idempotent: the same id answers the same job.
        let request = Request::read_post(start_path(&self.id))
            .json(&body)
            .answer("studios/trigger_async answer");
        let answer: StartAnswer = self.client().send(request).await?;
        Ok(ToolJob {
            client: self.client().clone(),
            ids: JobRef {
                studio_id: self.id.clone(),
                job_id: answer.job_id,
            },
        })
    }
}

impl Tools<'_> {
    /// A job started earlier (its [`JobRef`] kept, maybe by another process), to wait for,
    /// follow or cancel. No request is made.
    pub fn job(&self, ids: JobRef) -> ToolJob {
        ToolJob {
            client: self.client.clone(),
            ids,
        }
    }
}

/// Where [`ToolJob::updates`] stands: the newest update number seen, the updates not yet
/// yielded, whether the job's last update has been read.
struct Following {
    after: i64,
    pending: VecDeque<Value>,
    done: bool,
}

impl Following {
    fn take(&mut self, polled: Polled) {
        let is_last = |update: &Value| {
            update["type"]
                .as_str()
                .is_some_and(|kind| kind.starts_with("chain-"))
        };
        // An ended job's last page may not hold its final update yet (a page holds at
        // most 1000): the stream ends once the final update is read, or nothing is left.
        self.done = polled.ended.is_some()
            && (polled.updates.is_empty() || polled.updates.last().is_some_and(is_last));
        if let Some(last) = polled.last {
            self.after = self.after.max(last);
        }
        self.pending.extend(polled.updates);
    }
}

/// What an ended job's last update says, as [`Tool::run`] answers: `chain-success` has the
/// output in `output.output`, `chain-failed` the reasons in `errors`.
fn output_of(status: ToolOutputStatus, last: &Value) -> ToolOutput {
    let errors = job_errors(last);
    let execution_time = last["output"]["executionTime"]
        .as_f64()
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
        .map(|ms| std::time::Duration::from_secs_f64(ms / 1000.0));
    let output = match status {
        ToolOutputStatus::Complete => Some(last["output"]["output"].clone()),
        _ => Some(Value::Object(serde_json::Map::new())),
    };
    ToolOutput {
        status,
        output,
        errors,
        execution_time,
    }
}

/// One poll's answer, read.
struct Polled {
    ended: Option<ToolOutputStatus>,
    updates: Vec<Value>,
    last: Option<i64>,
}

impl ToolJob {
    /// The job's ids, to keep and resume with [`Tools::job`].
    pub fn ids(&self) -> &JobRef {
        &self.ids
    }

    /// The job's id.
    pub fn id(&self) -> &str {
        &self.ids.job_id
    }

    /// Waits for the job to end and answers as [`Tool::run`] does: `complete` with the
    /// output, or `failed` (a cancelled job too) with the reasons.
    pub async fn wait(&self) -> Result<ToolOutput> {
        let (complete, last) = self.wait_last().await?;
        let status = match complete {
            true => ToolOutputStatus::Complete,
            false => ToolOutputStatus::Failed,
        };
        Ok(output_of(status, &last))
    }

    /// The job as it stands: `None` while it runs, its output once it has ended. A tool
    /// job answers at once (it has an update from its start on).
    pub async fn check(&self) -> Result<Option<ToolOutput>> {
        if self.poll(&[]).await?.ended.is_none() {
            return Ok(None);
        }
        self.wait().await.map(Some)
    }

    /// Any job to follow (an agent run's too): its ids and the client.
    pub(crate) fn following(client: Client, ids: JobRef) -> ToolJob {
        ToolJob { client, ids }
    }

    /// Long-polls until the job ends: whether it completed, and its last update.
    pub(crate) async fn wait_last(&self) -> Result<(bool, Value)> {
        loop {
            let polled = self
                .poll(&[("ending_update_only", "true".to_string())])
                .await?;
            if let Some(status) = polled.ended {
                let last = polled.updates.into_iter().last().unwrap_or(Value::Null);
                return Ok((status == ToolOutputStatus::Complete, last));
            }
        }
    }

    /// Every update of the job in order, ending with its last (`chain-success` or
    /// `chain-failed`); the stream ends with the job, or after yielding an error. Each
    /// update is the platform's JSON (`type` names it).
    pub fn updates(&self) -> impl Stream<Item = Result<Value>> + Unpin + '_ {
        let start = Following {
            after: 0,
            pending: VecDeque::new(),
            done: false,
        };
        Box::pin(stream::unfold(start, move |mut following| async move {
            loop {
                if let Some(update) = following.pending.pop_front() {
                    return Some((Ok(update), following));
                }
                if following.done {
                    return None;
                }
                let after = following.after.to_string();
                match self.poll(&[("after_message_id", after)]).await {
                    Ok(polled) => following.take(polled),
                    Err(error) => {
                        following.done = true;
                        return Some((Err(error), following));
                    }
                }
            }
        }))
    }

    /// Cancels the job (`POST studios/{job_id}/cancel`): a running job stops and ends
    /// failed; an ended one keeps its end.
    pub async fn cancel(&self) -> Result<()> {
        let request = Request::read_post(cancel_path(&self.ids.job_id))
            .json(&json!({}))
            .answer("studios/cancel answer");
        self.client.send::<Value>(request).await.map(drop)
    }

    /// One long poll with `query`.
    async fn poll(&self, query: &[(&'static str, String)]) -> Result<Polled> {
        let request = Request::get(poll_path(&self.ids.studio_id, &self.ids.job_id))
            .query(query.to_vec())
            .answer("studios/async_poll answer");
        let answer: PollAnswer = self.client.send(request).await?;
        let ended = match answer.kind.as_str() {
            "complete" => Some(ToolOutputStatus::Complete),
            "failed" => Some(ToolOutputStatus::Failed),
            "inprogress" | "timeout" => None,
            other => {
                return Err(Error::InvalidAnswer {
                    what: "studios/async_poll answer".to_string(),
                    problem: format!("unknown type {other:?}"),
                })
            }
        };
        Ok(Polled {
            ended,
            updates: answer.updates,
            last: answer.last_message_id,
        })
    }
}

/// The `errors[*].body` of a `chain-failed` update.
pub(crate) fn job_errors(last: &Value) -> Vec<String> {
    last["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|error| match &error["body"] {
                    Value::String(body) => body.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}
