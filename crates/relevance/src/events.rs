//! Live task events: every new message exactly once, status changes, and
//! the agent's thinking and typing as it happens.
//!
//! Polling is the source of truth for messages (metadata, then messages);
//! the live stream only adds the tokens and a hint of when to poll (a burst
//! of typing just ended: the final message is near). [`TaskEvents`] is a
//! hand-written state machine driven by its consumer's polls: it spawns
//! nothing, owns its requests and its live connection, and dropping it
//! stops and closes everything. What is new in a snapshot is decided by the
//! pure `tracker`; how long to wait between polls by the pure `schedule`.

mod schedule;
mod tracker;

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::Stream;

use crate::activity::Subscription;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::message::Message;
use crate::retry::{Backoff, Failure, RetryPolicy};
use crate::runtime::{epoch_millis, timer, BoxFuture, Instant};
use crate::stream::{connect, LiveBody, LiveToken, SseParser, StreamingToken};
use crate::task::{Task, TaskOwner, TaskStatus};

use schedule::{PollOutcome, PollSchedule};
use tracker::MessageTracker;

/// How long without a live token ends a burst of typing (then a poll is
/// made at once: the final message is about to be written).
const BURST_END: Duration = Duration::from_millis(40);
/// How long after the last live token the task counts as busy.
const TOKENS_FLOWING_FOR: Duration = Duration::from_secs(1);
/// Backoff of a stream's failed polls and live connections: they are
/// retried for as long as the stream is subscribed.
const RETRY_BASE: Duration = Duration::from_millis(200);
const RETRY_CAP: Duration = Duration::from_secs(30);
/// Longest timer ever set; keeps `Instant` arithmetic far from overflow.
const LONGEST_TIMER: Duration = Duration::from_secs(24 * 3600);

/// Something that happened in a task.
///
/// Messages dominate the stream and are moved out right away, so they are
/// held unboxed (as the API promises `Message(Message)`).
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum TaskEvent {
    /// A new or finished message of any kind: a user message, an agent
    /// reply once it is final, an agent error, a tool run at each status it
    /// was seen in, a workforce member's run or handover. Each final
    /// message comes exactly once.
    Message(Message),
    /// The task's status or title changed (also sent once at the start,
    /// with the status the task had then).
    Updated {
        /// The simplified status.
        status: TaskStatus,
        /// The platform's state, as sent.
        state: String,
        /// The title.
        title: String,
    },
    /// A live token of the agent's reasoning (PROTOCOL A8 `thinking`): a
    /// preview, not stored; a gap loses nothing that a message carries.
    Thinking {
        /// The token's text.
        text: String,
        /// The message being written, when the platform says.
        message_id: Option<String>,
    },
    /// A live token of the reply as it is typed (PROTOCOL A8 `text`): a
    /// preview of an agent message, which follows as
    /// [`TaskEvent::Message`] once final.
    Typing {
        /// The token's text.
        text: String,
        /// The message being written, when the platform says.
        message_id: Option<String>,
    },
}

impl Task {
    /// The task's events from the beginning of its history, then live.
    ///
    /// The stream never ends on its own for a transient failure (it retries
    /// with backoff up to 30 s). A failure that retrying cannot fix (401,
    /// 403, 404, a malformed answer) is yielded as an `Err` and is always
    /// the last item. Dropping the stream unsubscribes: no request is made
    /// after that and the live connection is closed. Several streams over
    /// one task are independent.
    pub fn events(&self) -> TaskEvents {
        TaskEvents::new(self, None)
    }

    /// [`Task::events`] from `time` on (inclusive): messages inserted
    /// earlier are not delivered.
    pub fn events_since(&self, time: DateTime<Utc>) -> TaskEvents {
        TaskEvents::new(self, Some(time))
    }
}

/// The events of one task, as a stream; made by [`Task::events`].
///
/// `Unpin`, and `Send` off the browser. Requests are made only while it is
/// polled; it spawns nothing.
pub struct TaskEvents {
    client: Client,
    owner: TaskOwner,
    task_id: String,
    /// Events ready to be yielded.
    queue: VecDeque<Result<TaskEvent>>,
    /// Set once a final error is queued: the stream ends after it.
    finished: bool,

    tracker: MessageTracker,
    schedule: PollSchedule,
    /// The poll in flight.
    poll: Option<BoxFuture<Result<PollAnswer>>>,
    next_poll_at: Instant,
    /// Poll again as soon as the one in flight is done (it may have started
    /// before what made us want a poll).
    poll_again: bool,
    /// Read messages on the next poll even if the metadata did not change.
    read_messages_next: bool,
    last_meta: Option<MetaSnapshot>,
    last_status: Option<(TaskStatus, String, String)>,
    running: bool,
    poll_retries: u32,
    poll_backoff: Backoff,

    live: Live,
    sse: SseParser,
    token: Option<HeldToken>,
    /// The live stream refused the token: read a new one before reconnecting.
    token_refused: bool,
    live_retries: u32,
    live_retry_at: Option<Instant>,
    live_backoff: Backoff,
    last_token_at: Option<Instant>,
    burst_ends_at: Option<Instant>,

    /// The one timer: wakes the consumer at the earliest deadline above.
    timer: Option<(Instant, BoxFuture<()>)>,
    activity: Subscription,
}

/// One poll's findings.
struct PollAnswer {
    task: Task,
    token: Option<StreamingToken>,
    /// `None` when the messages were not read (an idle task whose metadata
    /// did not change).
    messages: Option<Vec<Message>>,
    received_ms: u64,
}

/// What tells whether an idle task changed: its state, title and update time.
#[derive(Clone, Debug, PartialEq)]
struct MetaSnapshot {
    state: String,
    title: String,
    updated_at: Option<DateTime<Utc>>,
}

impl MetaSnapshot {
    fn of(task: &Task) -> MetaSnapshot {
        MetaSnapshot {
            state: task.state.clone(),
            title: task.title.clone(),
            updated_at: task.updated_at,
        }
    }
}

/// A streaming token and when to replace it.
#[derive(Debug)]
struct HeldToken {
    token: StreamingToken,
    refresh_at_ms: u64,
}

/// The live connection.
enum Live {
    Off,
    Connecting(BoxFuture<Result<LiveBody>>),
    Open(LiveBody),
}

/// What polling the live connection gave.
enum LiveStep {
    Idle,
    Opened(LiveBody),
    Chunk(Vec<u8>),
    Failed(Option<Error>),
}

/// Whether a poll must read the messages: always while the task works, a
/// message is unfinished or something asked for it; otherwise only when
/// the metadata changed since the last poll.
fn must_read_messages(
    forced: bool,
    running: bool,
    previous: Option<&MetaSnapshot>,
    current: &MetaSnapshot,
) -> bool {
    forced || running || previous != Some(current)
}

/// `now + wait`, never overflowing.
fn later(now: Instant, wait: Duration) -> Instant {
    now.checked_add(wait.min(LONGEST_TIMER)).unwrap_or(now)
}

/// One poll: metadata (with a streaming token), then the messages if
/// needed. Each request is sent once; the stream owns the retries.
async fn poll_task(
    client: Client,
    owner: TaskOwner,
    task_id: String,
    cursor: Option<String>,
    forced: bool,
    previous: Option<MetaSnapshot>,
) -> Result<PollAnswer> {
    let once = RetryPolicy::none();
    let (task, token) = crate::task::read_with_token(&client, &once, &owner, &task_id).await?;
    let received_ms = epoch_millis();
    let read = must_read_messages(
        forced,
        task.is_running(),
        previous.as_ref(),
        &MetaSnapshot::of(&task),
    );
    let messages = if read {
        Some(match &owner {
            TaskOwner::Agent(agent_id) => {
                crate::task::view_messages(&client, &once, agent_id, &task_id, cursor.as_deref())
                    .await?
            }
            TaskOwner::Workforce(workforce_id) => {
                crate::workforce::read_messages(&client, &once, workforce_id, &task_id).await?
            }
        })
    } else {
        None
    };
    Ok(PollAnswer {
        task,
        token,
        messages,
        received_ms,
    })
}

impl TaskEvents {
    fn new(task: &Task, since: Option<DateTime<Utc>>) -> TaskEvents {
        TaskEvents {
            client: task.client.clone(),
            owner: task.owner.clone(),
            task_id: task.id.clone(),
            queue: VecDeque::new(),
            finished: false,
            tracker: MessageTracker::new(since),
            schedule: PollSchedule::default(),
            poll: None,
            next_poll_at: Instant::now(),
            poll_again: false,
            read_messages_next: true,
            last_meta: None,
            last_status: None,
            running: task.is_running(),
            poll_retries: 0,
            poll_backoff: Backoff::new(RETRY_BASE, RETRY_CAP),
            live: Live::Off,
            sse: SseParser::default(),
            token: None,
            token_refused: false,
            live_retries: 0,
            live_retry_at: None,
            live_backoff: Backoff::new(RETRY_BASE, RETRY_CAP),
            last_token_at: None,
            burst_ends_at: None,
            timer: None,
            activity: task.client.activity().subscribe(&task.id),
        }
    }

    /// Polls as soon as possible (after the one in flight, if any), reading
    /// the messages.
    fn poll_soon(&mut self, now: Instant) {
        self.read_messages_next = true;
        if self.poll.is_some() {
            self.poll_again = true;
        } else {
            self.next_poll_at = now;
        }
    }

    fn start_poll(&mut self) {
        let forced = std::mem::take(&mut self.read_messages_next) || self.tracker.has_unfinished();
        self.poll = Some(Box::pin(poll_task(
            self.client.clone(),
            self.owner.clone(),
            self.task_id.clone(),
            self.tracker.cursor(),
            forced,
            self.last_meta.clone(),
        )));
    }

    fn tokens_flowing(&self, now: Instant) -> bool {
        self.last_token_at
            .is_some_and(|at| now.saturating_duration_since(at) < TOKENS_FLOWING_FOR)
    }

    fn on_answer(&mut self, answer: PollAnswer, now: Instant) {
        self.poll_retries = 0;
        let mut changed = false;
        if let Some(messages) = answer.messages {
            for message in self.tracker.ingest(messages) {
                self.queue.push_back(Ok(TaskEvent::Message(message)));
                changed = true;
            }
        }
        let task = answer.task;
        let meta = MetaSnapshot::of(&task);
        if self.last_meta.as_ref() != Some(&meta) {
            changed = true;
            self.last_meta = Some(meta);
        }
        let status = (task.status.clone(), task.state.clone(), task.title.clone());
        if self.last_status.as_ref() != Some(&status) {
            self.queue.push_back(Ok(TaskEvent::Updated {
                status: task.status.clone(),
                state: task.state.clone(),
                title: task.title.clone(),
            }));
            self.last_status = Some(status);
        }
        self.running = task.is_running();
        self.take_token(answer.token, answer.received_ms);

        let busy = self.running || self.tokens_flowing(now);
        let wait = self.schedule.after_poll(PollOutcome { busy, changed });
        self.next_poll_at = if std::mem::take(&mut self.poll_again) {
            now
        } else {
            later(now, wait)
        };
        if self.running {
            if let Some(refresh) = self.token_refresh_at(now) {
                self.next_poll_at = self.next_poll_at.min(refresh);
            }
        } else {
            // Tokens flow only while the task works: hang up until it does again.
            self.live = Live::Off;
            self.live_retries = 0;
            self.live_retry_at = None;
        }
    }

    /// Keeps the token until it is due for refresh (a metadata read may
    /// hand out a new token every time; reconnecting for each would waste
    /// the connection), then takes the new one and reconnects with it.
    fn take_token(&mut self, token: Option<StreamingToken>, received_ms: u64) {
        let Some(token) = token else {
            return;
        };
        let due = match &self.token {
            None => true,
            Some(held) => self.token_refused || received_ms >= held.refresh_at_ms,
        };
        if !due {
            return;
        }
        let replaced = self
            .token
            .as_ref()
            .map_or(true, |held| held.token.token != token.token);
        self.token = Some(HeldToken {
            refresh_at_ms: token.refresh_at_ms(received_ms),
            token,
        });
        self.token_refused = false;
        if replaced && !matches!(self.live, Live::Off) {
            self.live = Live::Off;
            self.live_retry_at = None;
        }
    }

    /// When the held token is due for refresh, as an instant.
    fn token_refresh_at(&self, now: Instant) -> Option<Instant> {
        let held = self.token.as_ref()?;
        let wait_ms = held.refresh_at_ms.saturating_sub(epoch_millis());
        Some(later(now, Duration::from_millis(wait_ms)))
    }

    fn on_poll_error(&mut self, error: Error, now: Instant) {
        let failure = Failure::of(&error, None);
        if failure == Failure::Final {
            self.queue.push_back(Err(error));
            self.finished = true;
            self.live = Live::Off;
            return;
        }
        self.poll_retries = self.poll_retries.saturating_add(1);
        let wait = self
            .poll_backoff
            .delay(self.poll_retries, failure.server_wait());
        self.next_poll_at = if std::mem::take(&mut self.poll_again) {
            now
        } else {
            later(now, wait)
        };
    }

    fn wants_live(&self) -> bool {
        self.running && self.token.is_some() && !self.token_refused
    }

    fn on_chunk(&mut self, chunk: &[u8], now: Instant) {
        for token in self.sse.push(chunk) {
            let event = match token {
                LiveToken::Thinking { text, message_id } => {
                    TaskEvent::Thinking { text, message_id }
                }
                LiveToken::Typing { text, message_id } => TaskEvent::Typing { text, message_id },
            };
            self.queue.push_back(Ok(event));
            self.last_token_at = Some(now);
            self.burst_ends_at = Some(later(now, BURST_END));
            self.live_retries = 0;
        }
    }

    /// The connection ended or failed: reconnect later, and poll soon (the
    /// stream often ends because the task did).
    fn on_live_ended(&mut self, error: Option<Error>, now: Instant) {
        self.live = Live::Off;
        if let Some(status) = error.as_ref().and_then(Error::status) {
            if matches!(status, 401 | 403 | 404) {
                self.token_refused = true;
            }
        }
        self.live_retries = self.live_retries.saturating_add(1);
        let wait = self.live_backoff.delay(self.live_retries, None);
        self.live_retry_at = Some(later(now, wait));
        self.poll_soon(now);
    }

    fn step_live(&mut self, cx: &mut Context<'_>, now: Instant) -> LiveStep {
        match &mut self.live {
            Live::Off => {
                let due = self.live_retry_at.map_or(true, |at| now >= at);
                if !(self.wants_live() && due) {
                    return LiveStep::Idle;
                }
                let Some(held) = &self.token else {
                    return LiveStep::Idle;
                };
                let url = self.client.endpoints().stream_url(&held.token.token);
                self.sse = SseParser::default();
                self.live = Live::Connecting(connect(self.client.http().clone(), url));
                self.step_live(cx, now)
            }
            Live::Connecting(opening) => match opening.as_mut().poll(cx) {
                Poll::Ready(Ok(body)) => LiveStep::Opened(body),
                Poll::Ready(Err(error)) => LiveStep::Failed(Some(error)),
                Poll::Pending => LiveStep::Idle,
            },
            Live::Open(body) => match body.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => LiveStep::Chunk(chunk),
                Poll::Ready(Some(Err(error))) => LiveStep::Failed(Some(error)),
                Poll::Ready(None) => LiveStep::Failed(None),
                Poll::Pending => LiveStep::Idle,
            },
        }
    }

    /// The earliest moment something is due, if anything waits on time.
    fn next_deadline(&self) -> Option<Instant> {
        let mut deadline: Option<Instant> = None;
        let mut consider = |at: Instant| {
            deadline = Some(deadline.map_or(at, |current: Instant| current.min(at)));
        };
        if self.poll.is_none() {
            consider(self.next_poll_at);
        }
        if let Some(at) = self.burst_ends_at {
            consider(at);
        }
        if matches!(self.live, Live::Off) && self.wants_live() {
            if let Some(at) = self.live_retry_at {
                consider(at);
            }
        }
        deadline
    }
}

impl Stream for TaskEvents {
    type Item = Result<TaskEvent>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.queue.pop_front() {
                return Poll::Ready(Some(item));
            }
            if this.finished {
                return Poll::Ready(None);
            }
            let now = Instant::now();

            if this.activity.sent_since_last_check(cx.waker()) {
                this.schedule.reset();
                this.poll_soon(now);
            }

            if let Some(polling) = this.poll.as_mut() {
                if let Poll::Ready(answer) = polling.as_mut().poll(cx) {
                    this.poll = None;
                    match answer {
                        Ok(answer) => this.on_answer(answer, now),
                        Err(error) => this.on_poll_error(error, now),
                    }
                    continue;
                }
            } else if now >= this.next_poll_at {
                this.start_poll();
                continue;
            }

            match this.step_live(cx, now) {
                LiveStep::Idle => {}
                LiveStep::Opened(body) => {
                    this.live = Live::Open(body);
                    continue;
                }
                LiveStep::Chunk(chunk) => {
                    this.on_chunk(&chunk, now);
                    continue;
                }
                LiveStep::Failed(error) => {
                    this.on_live_ended(error, now);
                    continue;
                }
            }

            if let Some(end) = this.burst_ends_at {
                if now >= end {
                    this.burst_ends_at = None;
                    this.schedule.reset();
                    this.poll_soon(now);
                    continue;
                }
            }

            let Some(deadline) = this.next_deadline() else {
                return Poll::Pending;
            };
            if deadline <= now {
                continue;
            }
            if this.timer.as_ref().map_or(true, |(at, _)| *at != deadline) {
                this.timer = Some((deadline, timer(deadline - now)));
            }
            if let Some((_, sleeping)) = this.timer.as_mut() {
                if sleeping.as_mut().poll(cx).is_ready() {
                    this.timer = None;
                    continue;
                }
            }
            return Poll::Pending;
        }
    }
}

impl fmt::Debug for TaskEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let live = match self.live {
            Live::Off => "off",
            Live::Connecting(_) => "connecting",
            Live::Open(_) => "open",
        };
        f.debug_struct("TaskEvents")
            .field("task_id", &self.task_id)
            .field("owner", &self.owner)
            .field("running", &self.running)
            .field("live", &live)
            .field("queued", &self.queue.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(state: &str, title: &str, second: Option<u32>) -> MetaSnapshot {
        MetaSnapshot {
            state: state.into(),
            title: title.into(),
            updated_at: second.map(|s| {
                crate::agent::timestamp(&serde_json::Value::from(format!(
                    "2026-03-01T10:00:{s:02}Z"
                )))
                .unwrap()
            }),
        }
    }

    #[test]
    fn messages_are_read_when_working_forced_or_changed() {
        let idle = meta("idle", "t", Some(1));
        // (forced, running, previous, current, read?)
        let cases = [
            (false, false, Some(idle.clone()), idle.clone(), false),
            (true, false, Some(idle.clone()), idle.clone(), true),
            (false, true, Some(idle.clone()), idle.clone(), true),
            (false, false, None, idle.clone(), true),
            (
                false,
                false,
                Some(idle.clone()),
                meta("idle", "t", Some(2)),
                true,
            ),
            (
                false,
                false,
                Some(idle.clone()),
                meta("completed", "t", Some(1)),
                true,
            ),
            (
                false,
                false,
                Some(idle.clone()),
                meta("idle", "new title", Some(1)),
                true,
            ),
        ];
        for (forced, running, previous, current, expected) in cases {
            assert_eq!(
                must_read_messages(forced, running, previous.as_ref(), &current),
                expected,
                "{forced} {running} {previous:?} {current:?}"
            );
        }
    }

    fn idle_task() -> Task {
        Task {
            client: crate::task::tests::test_client(),
            id: "t1".into(),
            owner: TaskOwner::Agent("a1".into()),
            title: String::new(),
            status: TaskStatus::Idle,
            state: "idle".into(),
            requested_state: None,
            created_at: None,
            updated_at: None,
        }
    }

    fn answer(state: &str, title: &str, messages: Option<Vec<Message>>) -> PollAnswer {
        let mut task = idle_task();
        task.status = TaskStatus::from_state(state);
        task.state = state.into();
        task.title = title.into();
        PollAnswer {
            task,
            token: None,
            messages,
            received_ms: 1_000_000,
        }
    }

    fn agent_message(id: &str, text: &str, generating: bool) -> Message {
        Message::from_value(serde_json::json!({"item_id": id,
            "insert_date_": "2026-03-01T10:00:00Z",
            "content": {"type": "agent-message", "text": text, "generating": generating}}))
        .unwrap()
    }

    fn drain(events: &mut TaskEvents) -> Vec<String> {
        events
            .queue
            .drain(..)
            .map(|event| match event {
                Ok(TaskEvent::Message(message)) => format!("message {}", message.id),
                Ok(TaskEvent::Updated { state, title, .. }) => format!("updated {state} {title}"),
                Ok(other) => format!("{other:?}"),
                Err(error) => format!("error {:?}", error.status()),
            })
            .collect()
    }

    #[test]
    fn answers_become_events_messages_first_and_status_only_on_change() {
        let mut events = idle_task().events();
        let now = Instant::now();
        events.on_answer(
            answer("running", "", Some(vec![agent_message("m1", "He", true)])),
            now,
        );
        assert_eq!(drain(&mut events), ["updated running "]);
        assert!(events.running);
        events.on_answer(
            answer("running", "", Some(vec![agent_message("m1", "He", true)])),
            now,
        );
        assert!(drain(&mut events).is_empty(), "nothing changed");
        events.on_answer(
            answer(
                "idle",
                "Greeting",
                Some(vec![agent_message("m1", "Hello", false)]),
            ),
            now,
        );
        assert_eq!(drain(&mut events), ["message m1", "updated idle Greeting"]);
        assert!(!events.running);
        events.on_answer(answer("idle", "Greeting", None), now);
        assert!(drain(&mut events).is_empty());
    }

    #[test]
    fn the_next_poll_follows_the_schedule_and_a_pending_request_for_one() {
        let mut events = idle_task().events();
        let now = Instant::now();
        events.on_answer(answer("running", "", Some(vec![])), now);
        assert_eq!(events.next_poll_at, now + schedule::FAST_FIRST);
        events.on_answer(answer("idle", "", Some(vec![])), now);
        assert_eq!(events.next_poll_at, now + schedule::IDLE_FIRST);
        events.on_answer(answer("idle", "", None), now);
        assert_eq!(events.next_poll_at, now + schedule::IDLE_FIRST * 2);
        // A poll asked for while one was in flight happens right after it.
        events.poll_again = true;
        events.on_answer(answer("idle", "", None), now);
        assert_eq!(events.next_poll_at, now);
        assert!(!events.poll_again);
    }

    #[test]
    fn the_token_is_kept_until_due_then_replaced() {
        let mut events = idle_task().events();
        let token = |value: &str| StreamingToken {
            token: value.into(),
            expiry_time_ms: 1_100_000,
        };
        // Received at 1_000_000 with 100 s to live: refreshed from 1_080_000.
        events.take_token(Some(token("first")), 1_000_000);
        assert_eq!(events.token.as_ref().unwrap().refresh_at_ms, 1_080_000);
        events.take_token(Some(token("second")), 1_050_000);
        assert_eq!(
            events.token.as_ref().unwrap().token.token,
            "first",
            "not due"
        );
        events.take_token(None, 1_090_000);
        assert_eq!(
            events.token.as_ref().unwrap().token.token,
            "first",
            "no token given"
        );
        events.take_token(Some(token("third")), 1_080_000);
        assert_eq!(events.token.as_ref().unwrap().token.token, "third", "due");
        // A token the live stream refused is replaced at once.
        events.token_refused = true;
        events.take_token(Some(token("fourth")), 1_080_001);
        assert_eq!(events.token.as_ref().unwrap().token.token, "fourth");
        assert!(!events.token_refused);
    }

    #[test]
    fn live_tokens_are_events_and_the_end_of_a_burst_is_a_deadline() {
        let mut events = idle_task().events();
        let now = Instant::now();
        events.on_chunk(
            b"data: {\"type\":\"thinking\",\"content\":\"hm\"}\n\ndata: {\"type\":\"text\",\"content\":\"Hi\",\"documentId\":\"m1\"}\n\n",
            now,
        );
        let drained: Vec<TaskEvent> = events.queue.drain(..).map(|e| e.unwrap()).collect();
        assert_eq!(
            drained,
            [
                TaskEvent::Thinking {
                    text: "hm".into(),
                    message_id: None
                },
                TaskEvent::Typing {
                    text: "Hi".into(),
                    message_id: Some("m1".into())
                },
            ]
        );
        assert_eq!(events.burst_ends_at, Some(now + BURST_END));
        assert!(events.tokens_flowing(now));
        assert!(!events.tokens_flowing(now + TOKENS_FLOWING_FOR));
    }

    #[test]
    fn a_final_error_ends_the_stream_and_a_transient_one_is_retried_silently() {
        let now = Instant::now();
        let mut events = idle_task().events();
        events.on_poll_error(
            Error::Server {
                status: 503,
                message: None,
            },
            now,
        );
        assert!(events.queue.is_empty() && !events.finished);
        assert!(events.next_poll_at >= now);
        assert!(events.next_poll_at <= now + RETRY_BASE);
        for _ in 0..30 {
            events.on_poll_error(
                Error::Server {
                    status: 500,
                    message: None,
                },
                now,
            );
        }
        assert!(
            events.next_poll_at <= now + RETRY_CAP,
            "backoff capped at 30 s"
        );
        assert!(!events.finished);

        for status in [401u16, 403, 404] {
            let mut events = idle_task().events();
            let error = Error::from_response(status, &reqwest::header::HeaderMap::new(), b"{}");
            events.on_poll_error(error, now);
            assert!(events.finished);
            assert_eq!(drain(&mut events), [format!("error Some({status})")]);
        }
    }

    #[test]
    fn a_refused_live_connection_asks_for_a_new_token_and_backs_off() {
        let now = Instant::now();
        let mut events = idle_task().events();
        let refused = Error::from_response(401, &reqwest::header::HeaderMap::new(), b"{}");
        events.on_live_ended(Some(refused), now);
        assert!(events.token_refused);
        assert!(events.read_messages_next);
        assert_eq!(events.next_poll_at, now);
        let retry_at = events.live_retry_at.unwrap();
        assert!(retry_at >= now && retry_at <= now + RETRY_BASE);
        events.on_live_ended(None, now);
        assert!(events.live_retry_at.unwrap() <= now + RETRY_BASE * 2);
    }

    #[tokio::test]
    async fn a_send_on_the_same_client_wakes_the_stream_to_poll_at_once() {
        use futures_util::FutureExt;
        use futures_util::StreamExt;
        let task = idle_task();
        let mut events = task.events();
        // Pretend a poll just found an idle task: the next one is far away.
        let now = Instant::now();
        events.on_answer(answer("idle", "", Some(vec![])), now);
        for _ in 0..10 {
            events.on_answer(answer("idle", "", None), now);
        }
        events.queue.clear();
        assert!(events.next_poll_at > now + Duration::from_secs(30));
        // Polling once registers the stream's waker; nothing is due.
        assert!(events.next().now_or_never().is_none());
        assert!(events.poll.is_none(), "no request before it is due");
        task.client.note_sent("t1");
        // The next poll of the stream starts a request at once.
        assert!(events.next().now_or_never().is_none());
        assert!(events.poll.is_some(), "a poll is in flight after the send");
    }

    fn assert_send_unpin<T: Send + Unpin>() {}

    #[test]
    fn the_stream_is_send_and_unpin() {
        assert_send_unpin::<TaskEvents>();
    }

    #[test]
    fn dropping_a_stream_unsubscribes_it_and_others_stay_independent() {
        let client = crate::task::tests::test_client();
        let task = Task {
            client: client.clone(),
            id: "t1".into(),
            owner: TaskOwner::Agent("a1".into()),
            title: String::new(),
            status: TaskStatus::Idle,
            state: "idle".into(),
            requested_state: None,
            created_at: None,
            updated_at: None,
        };
        let first = task.events();
        let second = task.events_since(DateTime::<Utc>::UNIX_EPOCH);
        assert_eq!(client.activity().subscribers("t1"), 2);
        drop(first);
        assert_eq!(client.activity().subscribers("t1"), 1);
        drop(second);
        assert_eq!(client.activity().subscribers("t1"), 0);
        assert!(format!("{:?}", task.events()).contains("t1"));
    }
}
