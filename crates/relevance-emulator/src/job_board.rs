//! What a job's pollers wait on, and the tool jobs running in this process.
//!
//! A long poll (PROTOCOL A15) waits until its job moves: each job that someone waits on
//! has a `watch` channel here, bumped after every committed change of a tool job (an
//! agent's job moves with its task, whose events the engine's hub carries). A running
//! tool job's task is kept here so a cancel can stop it. Nothing here is the truth about
//! a job: the store is, and a poller always reads it again after waking.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::watch;
use tokio::task::AbortHandle;

type JobKey = (String, String);

/// Job wake-ups and running tool jobs.
#[derive(Debug, Default)]
pub(crate) struct JobBoard {
    watchers: Mutex<HashMap<JobKey, watch::Sender<u64>>>,
    running: Mutex<HashMap<JobKey, AbortHandle>>,
}

fn key(project: &str, job_id: &str) -> JobKey {
    (project.to_string(), job_id.to_string())
}

impl JobBoard {
    /// A receiver that changes whenever job `job_id` of `project` moves from now on.
    pub(crate) fn watch(&self, project: &str, job_id: &str) -> watch::Receiver<u64> {
        // A poisoned map only means a panic elsewhere mid-insert; the channels are valid.
        let mut watchers = self
            .watchers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        watchers.retain(|_, sender| sender.receiver_count() > 0);
        watchers
            .entry(key(project, job_id))
            .or_insert_with(|| watch::channel(0).0)
            .subscribe()
    }

    /// Wakes the job's pollers (call after the change is committed).
    pub(crate) fn moved(&self, project: &str, job_id: &str) {
        let watchers = self
            .watchers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(sender) = watchers.get(&key(project, job_id)) {
            sender.send_modify(|version| *version = version.wrapping_add(1));
        }
    }

    /// Remembers the task running tool job `job_id`.
    pub(crate) fn started(&self, project: &str, job_id: &str, task: AbortHandle) {
        self.running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(key(project, job_id), task);
    }

    /// Forgets tool job `job_id` (it ended).
    pub(crate) fn ended(&self, project: &str, job_id: &str) {
        self.running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(&key(project, job_id));
    }

    /// Stops the task running tool job `job_id`, if one is; answers whether one was.
    pub(crate) fn abort(&self, project: &str, job_id: &str) -> bool {
        let task = self
            .running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(&key(project, job_id));
        task.map(|task| task.abort()).is_some()
    }

    /// Stops every running tool job (shutdown: their jobs are failed at the next start).
    pub(crate) fn abort_all(&self) {
        let mut running = self
            .running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (_, task) in running.drain() {
            task.abort();
        }
    }
}
