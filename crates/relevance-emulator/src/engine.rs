//! The engine: turns user messages into scripted agent runs over time.
//!
//! A trigger writes the user message and the run in one transaction
//! ([`trigger::accept`]) and wakes the one scheduler task. The scheduler
//! (`select!{ sleep until the next due step, wake-up, shutdown }`) executes due
//! steps one at a time; each step commits its effect and its run's next due
//! time together ([`steps::advance_first_due`]), then publishes live events.
//! Because due times are stored, a restarted emulator resumes every run.
//! A workforce trigger ([`workforce::accept`]) starts a run of the same kind
//! whose one step takes member agents in turn, each in its own agent task
//! (`steps::workforce`).
//! Scheduled messages (PROTOCOL A11) are stored with their due time and sent by the
//! same scheduler ([`lifecycle::send_first_due_schedule`]).
//! The engine never checks credentials: the API did that before calling it.

pub(crate) mod agent_jobs;
mod content;
pub(crate) mod decision;
mod events;
mod ids;
pub(crate) mod lifecycle;
mod progress;
pub(crate) mod script;
pub(crate) mod states;
mod steps;
pub(crate) mod tool_runner;
pub(crate) mod tool_runs;
mod tool_step;
pub(crate) mod trigger;
pub(crate) mod webhook_template;
pub(crate) mod workforce;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, watch, Notify};
use tokio::task::JoinHandle;

use crate::store::{runs, scheduled, Store, StoreError};
use crate::time::now_ms;

pub use events::LiveEvent;
pub(crate) use events::PendingEvent;
pub(crate) use ids::new_item_id;

/// How long the scheduler sleeps when nothing is due (a wake-up cuts it short).
const IDLE_SLEEP: Duration = Duration::from_secs(3600);
/// The pause after a database failure, so a broken database is not hammered.
const FAILURE_BACKOFF: Duration = Duration::from_secs(1);

/// A cheap-clone handle to the engine's channels and scheduler signals.
#[derive(Clone)]
pub(crate) struct Engine {
    inner: Arc<EngineInner>,
}

struct EngineInner {
    hub: events::Hub,
    wake: Notify,
    stop: watch::Sender<bool>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

impl Default for Engine {
    fn default() -> Engine {
        Engine {
            inner: Arc::new(EngineInner {
                hub: events::Hub::default(),
                wake: Notify::new(),
                stop: watch::channel(false).0,
            }),
        }
    }
}

impl Engine {
    /// Live events of one task, from now on.
    pub(crate) fn subscribe(&self, project: &str, task_id: &str) -> broadcast::Receiver<LiveEvent> {
        self.inner.hub.subscribe(project, task_id)
    }

    /// Publishes events whose effects are committed.
    pub(crate) fn publish(&self, events: Vec<PendingEvent>) {
        self.inner.hub.publish(events);
    }

    /// Tells the scheduler that a run may have become due.
    pub(crate) fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Stops the scheduler after the step it is executing, if any.
    pub(crate) fn stop(&self) {
        self.inner.stop.send_replace(true);
    }

    /// Starts the scheduler task on `store`.
    pub(crate) fn spawn_scheduler(&self, store: Store) -> JoinHandle<()> {
        let engine = self.clone();
        tokio::spawn(async move { engine.schedule(store).await })
    }

    async fn schedule(self, store: Store) {
        let mut stop = self.inner.stop.subscribe();
        loop {
            if *stop.borrow_and_update() {
                return;
            }
            let pause = match self.run_due_steps(&store, &stop).await {
                Ok(()) => match store.call(|connection| next_due(connection)).await {
                    Ok(Some(due)) => {
                        Duration::from_millis(u64::try_from(due - now_ms()).unwrap_or(0))
                    }
                    Ok(None) => IDLE_SLEEP,
                    Err(error) => match self.failed(error) {
                        Some(pause) => pause,
                        None => return,
                    },
                },
                Err(error) => match self.failed(error) {
                    Some(pause) => pause,
                    None => return,
                },
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = self.inner.wake.notified() => {}
                _ = stop.changed() => return,
            }
        }
    }

    /// The pause before trying again, or `None` when the store is closed for good.
    fn failed(&self, error: StoreError) -> Option<Duration> {
        if matches!(error, StoreError::Closed { .. }) {
            return None;
        }
        tracing::error!(%error, "the engine could not execute a step; retrying");
        Some(FAILURE_BACKOFF)
    }

    async fn run_due_steps(
        &self,
        store: &Store,
        stop: &watch::Receiver<bool>,
    ) -> Result<(), StoreError> {
        while !*stop.borrow() {
            let now = now_ms();
            let step = store
                .call(move |connection| steps::advance_first_due(connection, now))
                .await?;
            let scheduled = store
                .call(move |connection| lifecycle::send_first_due_schedule(connection, now))
                .await?;
            if step.is_none() && scheduled.is_none() {
                return Ok(());
            }
            for events in [step, scheduled].into_iter().flatten() {
                self.publish(events);
            }
        }
        Ok(())
    }
}

/// The earliest due time of a run's step or a scheduled message.
fn next_due(connection: &mut rusqlite::Connection) -> rusqlite::Result<Option<i64>> {
    let step = runs::next_due(connection)?;
    let message = scheduled::next_due(connection)?;
    Ok(step.into_iter().chain(message).min())
}
