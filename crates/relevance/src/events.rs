//! Live task events: every new message exactly once, status changes, and
//! the agent's thinking and typing as it happens.
//!
//! Polling is the source of truth for messages; the live stream adds the
//! tokens and says when to poll. Requests are few because each poll reads
//! only what can have changed:
//! - while the task runs, a poll is the messages alone (they must be read:
//!   the platform need not touch `update_date` when it writes one); the
//!   metadata (state, title, a fresh streaming token) is read when a final
//!   reply or an agent error shows the run may be over, when the live
//!   stream ends, when the token is due for refresh, and at a slow beat;
//! - while it rests, a poll is the metadata alone, and the messages only
//!   when the metadata changed;
//! - while tokens flow on the live stream nothing is polled at all; when a
//!   burst of typing ends, the messages are read at once, because the
//!   final message is written right after the last token.
//!
//! [`TaskEvents`] is a hand-written state machine driven by its consumer's
//! polls: it spawns nothing, owns its requests and its live connection,
//! and dropping it stops and closes everything. What is new in a snapshot
//! is decided by the pure `tracker`; how long to wait by the pure
//! `schedule`.

mod schedule;
mod so_far;
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
use crate::message::{Message, MessageContent};
use crate::retry::{Backoff, Failure, RetryPolicy};
use crate::runtime::{epoch_millis, timer, BoxFuture, Instant};
use crate::stream::{connect, LiveBody, LiveToken, SseParser, StreamingToken};
use crate::task::{Task, TaskOwner, TaskStatus};

use schedule::{Pace, PollOutcome, PollSchedule, QuietRule};
use so_far::{Streamed, TextSoFar};
use tracker::MessageTracker;

/// How long after the last live token the task counts as busy, and the
/// scheduled polls wait (the end of a burst of typing polls at once).
const TOKENS_FLOWING_FOR: Duration = Duration::from_secs(1);
/// How often a running task's metadata is read when nothing else asks for
/// it: a run that ends without a reply (cancelled, a tool's error) shows
/// only there.
const METADATA_BEAT: Duration = Duration::from_secs(5);
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
    /// The agent's reasoning as it happens: a preview, not stored; the
    /// final agent message carries its thoughts.
    ///
    /// `delta` is what was just written; `text` is everything written so
    /// far for this message (the deltas added up). Render `text`, or append
    /// `delta` to your own buffer — never both.
    Thinking {
        /// What was just written: append it to a buffer.
        delta: String,
        /// The reasoning so far for this message: replace what you show.
        text: String,
        /// The message being written, when the platform says.
        message_id: Option<String>,
    },
    /// The reply as it is typed: a preview of an agent message, which
    /// follows as [`TaskEvent::Message`] once final.
    ///
    /// `delta` is what was just typed; `text` is everything typed so far
    /// for this message (the deltas added up). Render `text`, or append
    /// `delta` to your own buffer — never both. When the live connection is
    /// renewed, a delta typed meanwhile can be missing from `text`; the
    /// final message is always whole.
    Typing {
        /// What was just typed: append it to a buffer.
        delta: String,
        /// The reply so far for this message: replace what you show.
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
    /// The poll in flight, and what it reads.
    poll: Option<(Reads, BoxFuture<Result<PollAnswer>>)>,
    /// When the scheduled poll is due, and what it reads.
    next_poll_at: Instant,
    scheduled_reads: Reads,
    /// A poll asked for as soon as possible (after the one in flight, if
    /// any), and what it must read.
    asked: Option<Reads>,
    last_meta: Option<MetaSnapshot>,
    /// When the metadata was last read (its beat while the task runs).
    meta_read_at: Option<Instant>,
    /// Metadata reads still owed since a reply or an error came while the
    /// task ran: the run usually ends right after, and its end must be told
    /// promptly (the first read may land just before the state changes).
    state_checks: u8,
    last_status: Option<(TaskStatus, String, String)>,
    running: bool,
    poll_retries: u32,
    poll_backoff: Backoff,

    live: Live,
    sse: SseParser,
    /// The live fragments added up, per message being written.
    so_far: TextSoFar,
    token: Option<HeldToken>,
    /// The live stream refused the token: read a new one before reconnecting.
    token_refused: bool,
    live_retries: u32,
    live_retry_at: Option<Instant>,
    live_backoff: Backoff,
    last_token_at: Option<Instant>,
    burst_ends_at: Option<Instant>,
    quiet: QuietRule,

    /// The one timer: wakes the consumer at the earliest deadline above.
    timer: Option<(Instant, BoxFuture<()>)>,
    activity: Subscription,
}

/// What a poll reads. With `metadata`, the messages are read after it
/// when `messages` is set or the metadata changed; without, the messages
/// alone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Reads {
    metadata: bool,
    messages: bool,
}

impl Reads {
    const METADATA: Reads = Reads {
        metadata: true,
        messages: false,
    };
    const MESSAGES: Reads = Reads {
        metadata: false,
        messages: true,
    };
    const BOTH: Reads = Reads {
        metadata: true,
        messages: true,
    };

    fn and(self, other: Reads) -> Reads {
        Reads {
            metadata: self.metadata || other.metadata,
            messages: self.messages || other.messages,
        }
    }
}

/// One poll's findings.
struct PollAnswer {
    /// `None` when the metadata was not read (a running task's beat).
    task: Option<Task>,
    token: Option<StreamingToken>,
    /// `None` when the messages were not read (a resting task whose
    /// metadata did not change).
    messages: Option<Vec<Message>>,
    received_ms: u64,
}

/// What tells whether a resting task changed: its state, title and update time.
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

/// Whether a poll must read the messages: always without metadata (that
/// is a poll of the messages alone), else when asked to or when the
/// metadata changed since the last poll.
fn must_read_messages(
    reads: Reads,
    previous: Option<&MetaSnapshot>,
    current: Option<&MetaSnapshot>,
) -> bool {
    match current {
        None => true,
        Some(current) => reads.messages || previous != Some(current),
    }
}

/// `now + wait`, never overflowing.
fn later(now: Instant, wait: Duration) -> Instant {
    now.checked_add(wait.min(LONGEST_TIMER)).unwrap_or(now)
}

/// One poll: the metadata (with a streaming token) and/or the messages, as
/// `reads` says. Each request is sent once; the stream owns the retries.
async fn poll_task(
    client: Client,
    owner: TaskOwner,
    task_id: String,
    cursor: Option<String>,
    reads: Reads,
    previous: Option<MetaSnapshot>,
) -> Result<PollAnswer> {
    let once = RetryPolicy::none();
    let (task, token) = if reads.metadata {
        let (task, token) = crate::task::read_with_token(&client, &once, &owner, &task_id).await?;
        (Some(task), token)
    } else {
        (None, None)
    };
    let received_ms = epoch_millis();
    let read = must_read_messages(
        reads,
        previous.as_ref(),
        task.as_ref().map(MetaSnapshot::of).as_ref(),
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
            scheduled_reads: Reads::BOTH,
            asked: Some(Reads::BOTH),
            last_meta: None,
            meta_read_at: None,
            state_checks: 0,
            last_status: None,
            running: task.is_running(),
            poll_retries: 0,
            poll_backoff: Backoff::new(RETRY_BASE, RETRY_CAP),
            live: Live::Off,
            sse: SseParser::default(),
            so_far: TextSoFar::default(),
            token: None,
            token_refused: false,
            live_retries: 0,
            live_retry_at: None,
            live_backoff: Backoff::new(RETRY_BASE, RETRY_CAP),
            last_token_at: None,
            burst_ends_at: None,
            quiet: QuietRule::default(),
            timer: None,
            activity: task.client.activity().subscribe(&task.id),
        }
    }

    /// Asks for a poll as soon as possible (right after the one in flight,
    /// if any) that reads at least `reads`.
    fn ask(&mut self, reads: Reads) {
        self.asked = Some(self.asked.map_or(reads, |asked| asked.and(reads)));
    }

    /// When the scheduled poll may start: while tokens flow on the live
    /// stream, not before they have stopped for a while (the end of a
    /// burst of typing asks for its own poll).
    fn scheduled_poll_at(&self) -> Instant {
        match (&self.live, self.last_token_at) {
            (Live::Open(_), Some(token_at)) => {
                self.next_poll_at.max(later(token_at, TOKENS_FLOWING_FOR))
            }
            _ => self.next_poll_at,
        }
    }

    /// Whether a running task's metadata should ride along with the
    /// scheduled poll: its beat elapsed, a reply asks to check the state, or
    /// the streaming token is due.
    fn metadata_due(&self, now: Instant) -> bool {
        if self.state_checks > 0 {
            return true;
        }
        let beat = self.meta_read_at.map_or(true, |at| {
            now.saturating_duration_since(at) >= METADATA_BEAT
        });
        let token = self
            .token
            .as_ref()
            .is_some_and(|held| epoch_millis() >= held.refresh_at_ms);
        beat || token
    }

    fn start_poll(&mut self, now: Instant) {
        let mut reads = self.asked.take().unwrap_or_default();
        if now >= self.scheduled_poll_at() {
            reads = reads.and(self.scheduled_reads);
            if self.running && self.metadata_due(now) {
                reads.metadata = true;
            }
        }
        if self.last_meta.is_none() || self.token_refused || reads == Reads::default() {
            reads.metadata = true;
        }
        let future = Box::pin(poll_task(
            self.client.clone(),
            self.owner.clone(),
            self.task_id.clone(),
            self.tracker.cursor(),
            reads,
            self.last_meta.clone(),
        ));
        self.poll = Some((reads, future));
    }

    fn tokens_flowing(&self, now: Instant) -> bool {
        self.last_token_at
            .is_some_and(|at| now.saturating_duration_since(at) < TOKENS_FLOWING_FOR)
    }

    /// Whether the live stream is (or is about to be) connected and has not
    /// failed since it last carried a token: then its bursts say when to
    /// poll, and the scheduled polls may be slow.
    fn live_trusted(&self) -> bool {
        self.wants_live() && (matches!(self.live, Live::Open(_)) || self.live_retries == 0)
    }

    fn on_answer(&mut self, answer: PollAnswer, now: Instant) {
        self.poll_retries = 0;
        let mut changed = false;
        let mut run_may_be_over = false;
        if let Some(messages) = answer.messages {
            for message in self.tracker.ingest(messages) {
                if matches!(
                    message.content,
                    MessageContent::Agent(_) | MessageContent::AgentError(_)
                ) {
                    run_may_be_over = true;
                }
                if matches!(&message.content, MessageContent::Agent(reply) if !reply.generating) {
                    self.so_far.finished(&message.id);
                }
                self.queue.push_back(Ok(TaskEvent::Message(message)));
                changed = true;
            }
        }
        if let Some(task) = answer.task {
            self.meta_read_at = Some(now);
            self.state_checks = self.state_checks.saturating_sub(1);
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
        }
        if run_may_be_over {
            self.quiet.reply_arrived();
            if self.running {
                // A reply or an error often ends the run: read the state
                // now, and again with the next scheduled poll.
                self.ask(Reads::METADATA);
                self.state_checks = 2;
            }
        }

        let pace = if !(self.running || self.tokens_flowing(now)) {
            Pace::Resting
        } else if self.live_trusted() {
            Pace::Watching
        } else {
            Pace::Blind
        };
        let wait = self.schedule.after_poll(PollOutcome { pace, changed });
        self.next_poll_at = later(now, wait);
        self.scheduled_reads = if self.running {
            Reads::MESSAGES
        } else {
            Reads {
                metadata: true,
                messages: self.tracker.has_unfinished(),
            }
        };
        if self.running {
            if let Some(refresh) = self.token_refresh_at(now) {
                self.next_poll_at = self.next_poll_at.min(refresh);
            }
        } else {
            // Tokens flow only while the task works: hang up until it does again.
            self.state_checks = 0;
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

    /// A failed poll is retried with backoff, reading what it was to read
    /// and whatever was asked for meanwhile.
    fn on_poll_error(&mut self, error: Error, reads: Reads, now: Instant) {
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
        let asked = self.asked.take().unwrap_or_default();
        self.scheduled_reads = self.scheduled_reads.and(reads).and(asked);
        self.next_poll_at = later(now, wait);
    }

    fn wants_live(&self) -> bool {
        self.running && self.token.is_some() && !self.token_refused
    }

    fn on_chunk(&mut self, chunk: &[u8], now: Instant) {
        for token in self.sse.push(chunk) {
            let event = match token {
                LiveToken::Thinking {
                    fragment,
                    message_id,
                } => TaskEvent::Thinking {
                    text: self
                        .so_far
                        .append(Streamed::Thinking, message_id.as_deref(), &fragment),
                    delta: fragment,
                    message_id,
                },
                LiveToken::Typing {
                    fragment,
                    message_id,
                } => {
                    // Typing ends with the final message: poll when it stops.
                    self.burst_ends_at = Some(later(now, self.quiet.quiet()));
                    TaskEvent::Typing {
                        text: self.so_far.append(
                            Streamed::Typing,
                            message_id.as_deref(),
                            &fragment,
                        ),
                        delta: fragment,
                        message_id,
                    }
                }
            };
            self.queue.push_back(Ok(event));
            self.last_token_at = Some(now);
            self.live_retries = 0;
        }
    }

    /// The connection ended or failed: reconnect later, and read the
    /// metadata now (the stream often ends because the task did, or because
    /// its token expired).
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
        self.ask(Reads::METADATA);
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
            consider(self.scheduled_poll_at());
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
                this.quiet.reply_arrived();
                this.ask(Reads::BOTH);
            }

            if let Some((reads, polling)) = this.poll.as_mut() {
                if let Poll::Ready(answer) = polling.as_mut().poll(cx) {
                    let reads = *reads;
                    this.poll = None;
                    match answer {
                        Ok(answer) => this.on_answer(answer, now),
                        Err(error) => this.on_poll_error(error, reads, now),
                    }
                    continue;
                }
            } else if this.asked.is_some() || now >= this.scheduled_poll_at() {
                this.start_poll(now);
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
                    // The typing stopped: the final message is about to be
                    // (or was just) written.
                    this.burst_ends_at = None;
                    this.quiet.burst_ended();
                    this.schedule.reset();
                    this.ask(Reads::MESSAGES);
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
    fn messages_are_read_alone_when_asked_or_when_the_metadata_changed() {
        let idle = meta("idle", "t", Some(1));
        // (reads, previous, current (None: metadata not read), read messages?)
        let cases = [
            (Reads::MESSAGES, Some(idle.clone()), None, true),
            (
                Reads::METADATA,
                Some(idle.clone()),
                Some(idle.clone()),
                false,
            ),
            (Reads::BOTH, Some(idle.clone()), Some(idle.clone()), true),
            (Reads::METADATA, None, Some(idle.clone()), true),
            (
                Reads::METADATA,
                Some(idle.clone()),
                Some(meta("idle", "t", Some(2))),
                true,
            ),
            (
                Reads::METADATA,
                Some(idle.clone()),
                Some(meta("completed", "t", Some(1))),
                true,
            ),
            (
                Reads::METADATA,
                Some(idle.clone()),
                Some(meta("idle", "new title", Some(1))),
                true,
            ),
        ];
        for (reads, previous, current, expected) in cases {
            assert_eq!(
                must_read_messages(reads, previous.as_ref(), current.as_ref()),
                expected,
                "{reads:?} {previous:?} {current:?}"
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
            task: Some(task),
            token: None,
            messages,
            received_ms: epoch_millis(),
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

    fn token(value: &str) -> StreamingToken {
        StreamingToken {
            token: value.into(),
            expiry_time_ms: epoch_millis() + 3_600_000,
        }
    }

    fn messages_only(messages: Vec<Message>) -> PollAnswer {
        PollAnswer {
            task: None,
            token: None,
            messages: Some(messages),
            received_ms: epoch_millis(),
        }
    }

    /// What the poll started now reads.
    fn reads_of_next_poll(events: &mut TaskEvents, now: Instant) -> Reads {
        events.start_poll(now);
        let (reads, _) = events.poll.take().expect("a poll started");
        reads
    }

    #[test]
    fn a_running_task_is_polled_by_its_messages_and_its_state_is_read_when_a_reply_comes() {
        let mut events = idle_task().events();
        let now = Instant::now();
        assert_eq!(events.asked, Some(Reads::BOTH), "the first poll reads both");
        events.asked = None;
        // No streaming token: polled blind, fast, by the messages alone
        // (whether or not the platform touches `update_date`).
        events.on_answer(answer("running", "", Some(vec![])), now);
        assert_eq!(drain(&mut events), ["updated running "]);
        assert_eq!(events.next_poll_at, now + schedule::BLIND.0);
        assert_eq!(events.scheduled_reads, Reads::MESSAGES);
        let due = events.next_poll_at;
        assert_eq!(reads_of_next_poll(&mut events, due), Reads::MESSAGES);
        // Nothing new: the wait doubles.
        events.on_answer(messages_only(vec![]), now);
        assert_eq!(events.next_poll_at, now + schedule::BLIND.0 * 2);
        assert!(events.asked.is_none());
        // A final reply: the state is read at once, alone.
        events.on_answer(
            messages_only(vec![agent_message("m1", "Hello", false)]),
            now,
        );
        assert_eq!(drain(&mut events), ["message m1"]);
        assert_eq!(events.asked, Some(Reads::METADATA));
        assert_eq!(reads_of_next_poll(&mut events, now), Reads::METADATA);
        // Still running (the run ends a moment later): the next scheduled
        // poll reads the state again.
        events.on_answer(answer("running", "", None), now);
        assert!(events.asked.is_none());
        let due = events.next_poll_at;
        assert_eq!(reads_of_next_poll(&mut events, due), Reads::BOTH);
        // It says idle: metadata alone from now on, slowly.
        events.on_answer(answer("idle", "Greeting", Some(vec![])), now);
        assert_eq!(drain(&mut events), ["updated idle Greeting"]);
        assert_eq!(events.next_poll_at, now + schedule::RESTING.0);
        assert_eq!(events.scheduled_reads, Reads::METADATA);
        assert!(events.asked.is_none());
    }

    #[test]
    fn a_watched_task_is_polled_slowly_and_its_metadata_rides_along_at_its_beat() {
        let mut events = idle_task().events();
        events.asked = None;
        let now = Instant::now();
        let mut running = answer("running", "", Some(vec![]));
        running.token = Some(token("tok"));
        events.on_answer(running, now);
        assert!(events.live_trusted());
        assert_eq!(events.next_poll_at, now + schedule::WATCHING.0);
        // The beat has not elapsed: the messages alone.
        assert_eq!(
            reads_of_next_poll(&mut events, now + schedule::WATCHING.0),
            Reads::MESSAGES
        );
        // Once it has, the metadata too.
        assert_eq!(
            reads_of_next_poll(&mut events, now + METADATA_BEAT),
            Reads::BOTH
        );
        // A live stream that keeps failing is not trusted: blind pace.
        events.live_retries = 2;
        events.on_answer(messages_only(vec![]), now);
        assert_eq!(events.next_poll_at, now + schedule::BLIND.0);
    }

    #[test]
    fn scheduled_polls_wait_while_tokens_flow_and_a_burst_end_polls_at_once() {
        let mut events = idle_task().events();
        let now = Instant::now();
        let mut running = answer("running", "", Some(vec![]));
        running.token = Some(token("tok"));
        events.on_answer(running, now);
        events.asked = None;
        events.live = Live::Open(Box::pin(futures_util::stream::pending()));
        let typing_at = now + Duration::from_millis(900);
        events.on_chunk(
            b"data: {\"type\":\"text\",\"content\":\"Hi\",\"documentId\":\"m1\"}\n\n",
            typing_at,
        );
        events.queue.clear();
        assert_eq!(events.next_poll_at, now + schedule::WATCHING.0);
        assert_eq!(
            events.scheduled_poll_at(),
            typing_at + TOKENS_FLOWING_FOR,
            "no scheduled poll while tokens flow"
        );
        assert_eq!(
            events.burst_ends_at,
            Some(typing_at + schedule::QUIET_FIRST)
        );
        // A thinking token holds the schedule back too, but ends no burst.
        events.burst_ends_at = None;
        let thinking_at = typing_at + Duration::from_millis(500);
        events.on_chunk(
            b"data: {\"type\":\"thinking\",\"content\":\"hm\"}\n\n",
            thinking_at,
        );
        assert_eq!(events.scheduled_poll_at(), thinking_at + TOKENS_FLOWING_FOR);
        assert_eq!(events.burst_ends_at, None);
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
            b"data: {\"type\":\"thinking\",\"content\":\"hm\"}\n\ndata: {\"type\":\"text\",\"content\":\"Hi\",\"documentId\":\"m1\"}\n\ndata: {\"type\":\"text\",\"content\":\" there\",\"documentId\":\"m1\"}\n\n",
            now,
        );
        let drained: Vec<TaskEvent> = events.queue.drain(..).map(|e| e.unwrap()).collect();
        assert_eq!(
            drained,
            [
                TaskEvent::Thinking {
                    delta: "hm".into(),
                    text: "hm".into(),
                    message_id: None
                },
                TaskEvent::Typing {
                    delta: "Hi".into(),
                    text: "Hi".into(),
                    message_id: Some("m1".into())
                },
                TaskEvent::Typing {
                    delta: " there".into(),
                    text: "Hi there".into(),
                    message_id: Some("m1".into())
                },
            ]
        );
        assert_eq!(events.burst_ends_at, Some(now + schedule::QUIET_FIRST));
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
            Reads::MESSAGES,
            now,
        );
        assert!(
            events.asked.is_none() && events.scheduled_reads.metadata,
            "what was asked for is read by the retry, after the backoff"
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
                Reads::MESSAGES,
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
            events.on_poll_error(error, Reads::BOTH, now);
            assert!(events.finished);
            assert_eq!(drain(&mut events), [format!("error Some({status})")]);
        }
    }

    #[test]
    fn a_refused_live_connection_asks_for_a_new_token_and_backs_off() {
        let now = Instant::now();
        let mut events = idle_task().events();
        events.asked = None;
        let refused = Error::from_response(401, &reqwest::header::HeaderMap::new(), b"{}");
        events.on_live_ended(Some(refused), now);
        assert!(events.token_refused);
        assert_eq!(events.asked, Some(Reads::METADATA));
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
        events.asked = None;
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
