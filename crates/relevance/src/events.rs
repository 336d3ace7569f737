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
//! - while tokens flow on the live stream nothing is polled but the one
//!   read a reply's first typed fragment asks for (the messages before it
//!   are delivered first: see `order`); when a burst of typing ends, the
//!   messages are read at once, because the final message is written right
//!   after the last token;
//! - when this client has just sent the task a message (the task that
//!   `send_message` returned, or a send that woke the stream), the first
//!   poll is the metadata alone — the streaming token and the state; the
//!   trigger's answer already said the run started — and the messages wait
//!   while the run goes on: what is new is the message this client sent,
//!   and it comes, in order, with the read that brings the reply.
//!
//! [`TaskEvents`] is driven by its consumer's polls: it spawns nothing,
//! owns its requests and its live connection, and dropping it stops and
//! closes everything. It composes three small machines, each owning its
//! deadlines and stepped by `poll`:
//! - `poller`: the metadata and message reads, their pace (the pure
//!   `schedule`), their retries;
//! - `live`: the streaming token and the live connection, its reconnects,
//!   its bursts of typing (the wire side — the token, opening the
//!   connection through the request layer, parsing the SSE — is `sse`);
//! - `emitter`: what is yielded, each of it once (the pure `tracker` and
//!   `text_so_far`);
//! - `order`: which live tokens wait for the messages before them.
//!
//! Every call into the rest of the SDK goes through `followed` (the task followed and the client it reads with).

mod emitter;
mod followed;
mod live;
mod order;
mod poller;
mod schedule;
pub(crate) mod sse;
mod text_so_far;
mod tracker;

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::Stream;

use crate::error::Result;
use crate::message::{Message, ToolRun};
use crate::runtime::{timer, BoxFuture, Instant};
use crate::sent_signal::Subscription;
use crate::task::{Task, TaskOwner, TaskStatus};
use sse::LiveToken;

use emitter::Emitter;
use followed::FollowedTask;
use live::{LiveConnection, LiveStep};
use order::{Admit, TokenOrder};
use poller::{PollAnswer, PollStep, Poller, Reads};

/// Backoff of a stream's failed polls and live connections: they are
/// retried for as long as the stream is subscribed.
const RETRY_BASE: Duration = Duration::from_millis(200);
const RETRY_CAP: Duration = Duration::from_secs(30);
/// Longest timer ever set; keeps `Instant` arithmetic far from overflow.
const LONGEST_TIMER: Duration = Duration::from_secs(24 * 3600);

/// `now + wait`, never overflowing.
fn later(now: Instant, wait: Duration) -> Instant {
    now.checked_add(wait.min(LONGEST_TIMER)).unwrap_or(now)
}

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
    /// A tool run now waits for a person (PROTOCOL A10): show it and let the
    /// person decide with [`Task::approve`], [`Task::approve_with`] or
    /// [`Task::reject`]. Yielded once per run, right after the
    /// [`TaskEvent::Message`] that carried the waiting run; the decision's
    /// outcome comes later as that run's next message.
    ApprovalNeeded(ToolRun),
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
///
/// **Order.** No [`TaskEvent::Thinking`] or [`TaskEvent::Typing`] of a
/// message is yielded before every message that precedes it on the task
/// has been yielded (final, or as far as the task showed it): a tool run
/// the agent finished before it typed its reply comes before the reply's
/// first typed fragment, though the live stream told of the fragment first.
/// Tokens that start something new (another message, thinking after
/// typing, typing again after a pause of a quarter second or a
/// reconnection) are held until a read of the messages started after them
/// has answered. The cost: one read of the messages per reply typed, made
/// when its typing starts, and the first fragment of that reply is shown
/// that much later (one round trip). The first thought after this client
/// sent its message is not held (what comes before it is that message), so
/// a run that calls a tool before it first thinks shows that thought first.
pub struct TaskEvents {
    task: FollowedTask,
    poller: Poller,
    live: LiveConnection,
    emitter: Emitter,
    /// Holds live tokens back until the messages before them are queued.
    order: TokenOrder,
    /// The one timer: wakes the consumer at the machines' earliest deadline.
    timer: Option<(Instant, BoxFuture<()>)>,
    activity: Subscription,
}

impl TaskEvents {
    fn new(task: &Task, since: Option<DateTime<Utc>>) -> TaskEvents {
        let handle = FollowedTask::of(task);
        TaskEvents {
            poller: Poller::new(
                task.is_running(),
                task.new_from_trigger,
                task.workforce_id().is_some(),
            ),
            live: LiveConnection::new(task.is_running()),
            emitter: Emitter::new(since),
            order: TokenOrder::new(task.new_from_trigger && task.workforce_id().is_none()),
            timer: None,
            activity: handle.subscribe(),
            task: handle,
        }
    }

    /// A poll's answer: its messages and status to the emitter, its token
    /// and the task's state to the live connection, then what it means for
    /// the next poll.
    fn on_answer(&mut self, answer: PollAnswer, now: Instant) {
        let delivered = match answer.messages {
            Some(messages) => {
                let delivered = self.emitter.messages(messages);
                for token in self.order.read_answered(answer.number) {
                    self.emitter.live_token(token);
                }
                delivered
            }
            None => Default::default(),
        };
        if let Some(task) = &answer.task {
            self.emitter.task(task);
            self.live.take_token(answer.token, answer.received_ms);
            self.live.set_running(task.is_running());
        }
        if delivered.reply_or_error {
            self.live.reply_arrived();
        }
        let unfinished = self.emitter.has_unfinished();
        let view = self.live.view(now);
        self.poller
            .on_answer(answer.task.as_ref(), delivered, unfinished, view, now);
    }

    /// Steps the poller; whether anything happened.
    fn step_poller(&mut self, cx: &mut Context<'_>, now: Instant) -> bool {
        let view = self.live.view(now);
        let emitter = &self.emitter;
        match self
            .poller
            .poll(cx, &self.task, || emitter.cursor(), view, now)
        {
            PollStep::Waiting => false,
            PollStep::Started | PollStep::Retrying => true,
            PollStep::Answered(answer) => {
                self.on_answer(*answer, now);
                true
            }
            PollStep::Failed(error) => {
                self.emitter.fail(error);
                self.live.close();
                true
            }
        }
    }

    /// Steps the live connection; whether anything happened.
    fn step_live(&mut self, cx: &mut Context<'_>, now: Instant) -> bool {
        match self.live.poll(cx, &self.task, now) {
            LiveStep::Idle => false,
            LiveStep::Opened => {
                self.order.reconnected();
                true
            }
            LiveStep::Token(token) => {
                self.poller.streamed(self.live.view(now), now);
                self.on_token(token, now);
                true
            }
            LiveStep::Ended => {
                self.poller.ask(Reads::METADATA);
                true
            }
            LiveStep::BurstEnded => {
                self.poller.reset_pace();
                self.poller.ask(Reads::MESSAGES);
                true
            }
        }
    }

    /// A live token: yielded now, or held until a read of the messages
    /// started after it has answered (see `order`).
    fn on_token(&mut self, token: LiveToken, now: Instant) {
        let typing = matches!(token, LiveToken::Typing { .. });
        match self.order.admit(token, now, self.poller.next_number()) {
            Admit::Pass(token) => self.emitter.live_token(token),
            Admit::Held { read: true } if typing => {
                // The read finds the reply being written: its typing goes on, so a short
                // pause in it is not its end (one read fewer for a pause, a little later
                // for the final message).
                self.live.typing_goes_on();
                self.poller.ask(Reads::MESSAGES);
            }
            Admit::Held { read: true } => self.poller.ask(Reads::MESSAGES),
            Admit::Held { read: false } => {}
        }
    }

    /// A message was sent to the task through the same client: poll at once.
    fn on_sent(&mut self) {
        if matches!(self.task.owner(), TaskOwner::Agent(_)) {
            self.order.sent();
        }
        self.poller.sent();
        self.live.reply_arrived();
    }

    /// The earliest moment a machine has something due, if any waits on time.
    fn next_deadline(&self, now: Instant) -> Option<Instant> {
        let polls = self.poller.next_deadline(self.live.view(now));
        match (polls, self.live.next_deadline()) {
            (Some(poll), Some(live)) => Some(poll.min(live)),
            (poll, live) => poll.or(live),
        }
    }

    /// Sleeps until the next deadline; ready when one passed.
    fn wait(&mut self, cx: &mut Context<'_>, now: Instant) -> Poll<()> {
        let Some(deadline) = self.next_deadline(now) else {
            return Poll::Pending;
        };
        if deadline <= now {
            return Poll::Ready(());
        }
        if self.timer.as_ref().map_or(true, |(at, _)| *at != deadline) {
            self.timer = Some((deadline, timer(deadline - now)));
        }
        if let Some((_, sleeping)) = self.timer.as_mut() {
            if sleeping.as_mut().poll(cx).is_ready() {
                self.timer = None;
                return Poll::Ready(());
            }
        }
        Poll::Pending
    }
}

impl Stream for TaskEvents {
    type Item = Result<TaskEvent>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.emitter.pop() {
                return Poll::Ready(Some(item));
            }
            if this.emitter.finished() {
                return Poll::Ready(None);
            }
            let now = Instant::now();
            if this.activity.sent_since_last_check(cx.waker()) {
                this.on_sent();
            }
            if this.step_poller(cx, now) || this.step_live(cx, now) {
                continue;
            }
            if this.wait(cx, now).is_pending() {
                return Poll::Pending;
            }
        }
    }
}

impl fmt::Debug for TaskEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskEvents")
            .field("task_id", &self.task.task_id())
            .field("owner", self.task.owner())
            .field("running", &self.poller.running())
            .field("live", &self.live.state())
            .field("queued", &self.emitter.queued())
            .field("holding_tokens", &self.order.holding())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
