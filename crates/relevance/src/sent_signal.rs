//! "Something was just sent to this task": the signal that makes a task's
//! event streams poll fast again at once.
//!
//! An idle event stream waits up to a minute between polls; when the same
//! [`Client`](crate::Client) sends a message to that task, the reply is near,
//! so the send paths [`ActivityHub::bump`] the task and every subscribed
//! stream is woken. Only counters and wakers live here — never a task or
//! a thread — and a [`Subscription`] removes itself when dropped.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;

/// Per-task send counters and the wakers of the streams watching them.
#[derive(Default)]
pub(crate) struct ActivityHub {
    state: Mutex<HubState>,
}

#[derive(Default)]
struct HubState {
    next_subscriber: u64,
    tasks: HashMap<String, TaskActivity>,
}

#[derive(Default)]
struct TaskActivity {
    /// Bumped on every send to the task.
    generation: u64,
    /// Subscriber id → the waker of its last poll.
    listeners: HashMap<u64, Option<Waker>>,
}

impl ActivityHub {
    /// The state, even if a panicking thread poisoned the lock: it holds only
    /// counters and wakers, which stay consistent whatever panicked.
    fn state(&self) -> MutexGuard<'_, HubState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Notes a send to `task_id` and wakes every stream subscribed to it.
    pub(crate) fn bump(&self, task_id: &str) {
        let wakers: Vec<Waker> = {
            let mut state = self.state();
            let Some(task) = state.tasks.get_mut(task_id) else {
                return;
            };
            task.generation = task.generation.wrapping_add(1);
            task.listeners
                .values_mut()
                .filter_map(Option::take)
                .collect()
        };
        // Woken outside the lock: a waker may poll right away.
        for waker in wakers {
            waker.wake();
        }
    }

    /// Starts watching `task_id`; dropping the subscription stops it.
    pub(crate) fn subscribe(self: &Arc<Self>, task_id: &str) -> Subscription {
        let mut state = self.state();
        let id = state.next_subscriber;
        state.next_subscriber = state.next_subscriber.wrapping_add(1);
        let task = state.tasks.entry(task_id.to_string()).or_default();
        task.listeners.insert(id, None);
        let seen = task.generation;
        drop(state);
        Subscription {
            hub: Arc::clone(self),
            task_id: task_id.to_string(),
            id,
            seen,
        }
    }

    /// How many streams watch `task_id` (for tests of the clean-up).
    #[cfg(test)]
    pub(crate) fn subscribers(&self, task_id: &str) -> usize {
        self.state()
            .tasks
            .get(task_id)
            .map_or(0, |task| task.listeners.len())
    }
}

impl fmt::Debug for ActivityHub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActivityHub")
            .field("tasks", &self.state().tasks.len())
            .finish()
    }
}

/// One stream's watch on one task.
pub(crate) struct Subscription {
    hub: Arc<ActivityHub>,
    task_id: String,
    id: u64,
    /// The generation last acted on.
    seen: u64,
}

impl Subscription {
    /// Whether a send happened since the last call; registers `waker` to be
    /// woken by the next one.
    pub(crate) fn sent_since_last_check(&mut self, waker: &Waker) -> bool {
        let mut state = self.hub.state();
        let Some(task) = state.tasks.get_mut(&self.task_id) else {
            return false;
        };
        task.listeners.insert(self.id, Some(waker.clone()));
        let sent = task.generation != self.seen;
        self.seen = task.generation;
        sent
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut state = self.hub.state();
        if let Some(task) = state.tasks.get_mut(&self.task_id) {
            task.listeners.remove(&self.id);
            if task.listeners.is_empty() {
                state.tasks.remove(&self.task_id);
            }
        }
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("task_id", &self.task_id)
            .field("id", &self.id)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_send_wakes_the_streams_of_that_task_only_and_drop_cleans_up() {
        let hub = Arc::new(ActivityHub::default());
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&counter));
        let mut first = hub.subscribe("t1");
        let mut second = hub.subscribe("t1");
        let mut other = hub.subscribe("t2");
        assert_eq!(hub.subscribers("t1"), 2);
        for subscription in [&mut first, &mut second, &mut other] {
            assert!(!subscription.sent_since_last_check(&waker));
        }

        hub.bump("t1");
        assert_eq!(counter.0.load(Ordering::SeqCst), 2, "both t1 streams woken");
        assert!(first.sent_since_last_check(&waker));
        assert!(!first.sent_since_last_check(&waker), "seen once");
        assert!(second.sent_since_last_check(&waker));
        assert!(!other.sent_since_last_check(&waker));

        hub.bump("nobody-watches");
        drop(first);
        assert_eq!(hub.subscribers("t1"), 1);
        drop(second);
        drop(other);
        assert_eq!(hub.subscribers("t1"), 0);
        assert_eq!(hub.state().tasks.len(), 0, "no entry left behind");
    }
}
