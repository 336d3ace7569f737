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
mod tests {
    use super::sse::{LiveBody, LiveEvents, LiveToken, StreamingToken};
    use super::*;
    use crate::error::Error;
    use crate::task::{TaskData, TaskOwner};
    use futures_util::{FutureExt, StreamExt};

    pub(super) fn idle_task() -> Task {
        Task {
            client: crate::task::tests::test_client(),
            job: None,
            data: TaskData {
                id: "t1".into(),
                owner: TaskOwner::Agent("a1".into()),
                title: String::new(),
                status: TaskStatus::Idle,
                state: "idle".into(),
                requested_state: None,
                created_at: None,
                updated_at: None,
            },
            new_from_trigger: false,
        }
    }

    pub(super) fn task_in(state: &str, title: &str) -> Task {
        let mut task = idle_task();
        task.status = TaskStatus::from_state(state);
        task.state = state.into();
        task.title = title.into();
        task
    }

    fn answer(state: &str, title: &str, messages: Option<Vec<Message>>) -> PollAnswer {
        PollAnswer {
            task: Some(task_in(state, title)),
            token: None,
            messages,
            received_ms: crate::runtime::epoch_millis(),
            number: 0,
        }
    }

    fn message_of(id: &str, content: serde_json::Value) -> Message {
        Message::from_value(serde_json::json!({"item_id": id,
            "insert_date_": "2026-03-01T10:00:00Z", "content": content}))
        .unwrap()
    }

    fn search_run(state: &str) -> Message {
        message_of(
            "t1",
            serde_json::json!({"type": "tool-run", "tool_run_state": state,
                "tool_config": {"type": "tool", "id": "web_search", "title": "web_search"}}),
        )
    }

    fn typed(fragment: &str) -> LiveToken {
        LiveToken::Typing {
            fragment: fragment.into(),
            message_id: Some("m2".into()),
        }
    }

    #[test]
    fn a_tool_run_comes_before_the_reply_typed_after_it_though_the_stream_is_ahead() {
        let mut events = task_in("running", "").events();
        let now = Instant::now();
        let user = message_of(
            "u1",
            serde_json::json!({"type": "user-message", "text": "q"}),
        );
        events.on_answer(
            answer("running", "", Some(vec![user, search_run("running")])),
            now,
        );
        assert_eq!(
            drain(&mut events),
            ["message u1", "message t1", "updated running "]
        );
        // A read of the messages is in flight, started before the tool finished...
        events.poller.pretend_started();
        events.poller.forget_asked();
        // ...when the stream, ahead of it, brings the reply's first fragments.
        events.on_token(typed("I looked"), now);
        events.on_token(typed(" into"), now);
        assert!(
            drain(&mut events).is_empty(),
            "held for the messages before"
        );
        assert_eq!(events.poller.asked(), Some(Reads::MESSAGES), "read at once");
        // The read in flight answers with the run still going: still held.
        let mut early = answer("running", "", Some(vec![search_run("running")]));
        early.number = 0;
        events.on_answer(early, now);
        assert!(
            drain(&mut events).is_empty(),
            "a read started before the fragment"
        );
        // The read asked for shows the run finished and the reply begun.
        let reply = agent_message("m2", "I looked", true);
        let mut read = answer("running", "", Some(vec![search_run("finished"), reply]));
        read.number = 1;
        events.on_answer(read, now);
        let after = drain(&mut events);
        assert_eq!(after.len(), 3, "{after:?}");
        assert_eq!(after[0], "message t1", "the tool run first");
        assert!(after[1].contains("\"I looked\""), "{}", after[1]);
        assert!(after[2].contains("\"I looked into\""), "{}", after[2]);
        // The reply goes on: its fragments pass at once.
        events.on_token(typed(" it"), now);
        assert_eq!(drain(&mut events).len(), 1);
    }

    pub(super) fn agent_message(id: &str, text: &str, generating: bool) -> Message {
        Message::from_value(serde_json::json!({"item_id": id,
            "insert_date_": "2026-03-01T10:00:00Z",
            "content": {"type": "agent-message", "text": text, "generating": generating}}))
        .unwrap()
    }

    fn drain(events: &mut TaskEvents) -> Vec<String> {
        std::iter::from_fn(|| events.emitter.pop())
            .map(|event| match event {
                Ok(TaskEvent::Message(message)) => format!("message {}", message.id),
                Ok(TaskEvent::Updated { state, title, .. }) => format!("updated {state} {title}"),
                Ok(other) => format!("{other:?}"),
                Err(error) => format!("error {:?}", error.status()),
            })
            .collect()
    }

    /// The live tokens of `bytes`, as the live connection would read them.
    fn live_tokens(bytes: &[u8]) -> Vec<LiveToken> {
        let body: LiveBody = Box::pin(futures_util::stream::iter([Ok(bytes.to_vec())]));
        LiveEvents::new(body)
            .map(Result::unwrap)
            .collect::<Vec<_>>()
            .now_or_never()
            .unwrap()
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
        assert!(events.poller.running());
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
        assert!(!events.poller.running());
        events.on_answer(answer("idle", "Greeting", None), now);
        assert!(drain(&mut events).is_empty());
    }

    #[test]
    fn a_running_task_with_a_token_is_watched_and_its_token_kept_by_the_live_connection() {
        let mut events = idle_task().events();
        let now = Instant::now();
        let mut running = answer("running", "", Some(vec![]));
        running.token = Some(StreamingToken {
            token: "tok".into(),
            expiry_time_ms: crate::runtime::epoch_millis() + 3_600_000,
        });
        events.on_answer(running, now);
        let view = events.live.view(now);
        assert!(view.trusted);
        assert!(view.refresh_at.is_some());
        assert_eq!(
            events.poller.next_deadline(view),
            Some(now + schedule::LISTENING.0),
            "listened to until the run streams"
        );
        // The task stops: the live connection is no longer wanted.
        events.on_answer(answer("idle", "", Some(vec![])), now);
        assert!(!events.live.view(now).trusted);
        assert_eq!(events.live.next_deadline(), None);
    }

    #[test]
    fn live_tokens_are_events_and_the_end_of_a_burst_is_a_deadline() {
        let mut events = idle_task().events();
        let now = Instant::now();
        for token in live_tokens(
            b"data: {\"type\":\"thinking\",\"content\":\"hm\"}\n\ndata: {\"type\":\"text\",\"content\":\"Hi\",\"documentId\":\"m1\"}\n\ndata: {\"type\":\"text\",\"content\":\" there\",\"documentId\":\"m1\"}\n\n",
        ) {
            events.live.on_token(&token, now);
            events.emitter.live_token(token);
        }
        let drained: Vec<TaskEvent> = std::iter::from_fn(|| events.emitter.pop())
            .map(|e| e.unwrap())
            .collect();
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
        assert_eq!(
            events.live.next_deadline(),
            Some(now + schedule::QUIET_FIRST)
        );
        assert!(events.live.view(now).flowing);
        assert!(!events.live.view(now + live::TOKENS_FLOWING_FOR).flowing);
    }

    #[test]
    fn the_end_of_a_burst_reads_the_messages_at_once() {
        let mut events = idle_task().events();
        let now = Instant::now();
        events.on_answer(answer("idle", "", Some(vec![])), now);
        events.poller.forget_asked();
        let typing = live_tokens(b"data: {\"type\":\"text\",\"content\":\"Hi\"}\n\n");
        events.live.on_token(&typing[0], now);
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let end = now + schedule::QUIET_FIRST;
        assert!(events.step_live(&mut cx, end), "the burst ended");
        assert_eq!(events.poller.asked(), Some(Reads::MESSAGES));
        assert!(!events.step_live(&mut cx, end), "once");
    }

    #[test]
    fn the_end_of_the_live_stream_reads_the_metadata_at_once() {
        let mut events = idle_task().events();
        events.poller.forget_asked();
        // The first thought after this client's message: yielded at once.
        events.order.sent();
        let body: LiveBody = Box::pin(futures_util::stream::iter([Ok(
            b"data: {\"type\":\"thinking\",\"content\":\"hm\"}\n\n".to_vec(),
        )]));
        events.live.open_on(body);
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let now = Instant::now();
        assert!(events.step_live(&mut cx, now), "a token");
        assert!(events.poller.asked().is_none());
        assert!(events.step_live(&mut cx, now), "the end");
        assert_eq!(events.poller.asked(), Some(Reads::METADATA));
        assert_eq!(drain(&mut events).len(), 1, "the thinking");
    }

    #[test]
    fn a_final_error_is_the_last_item_and_closes_everything() {
        let mut events = idle_task().events();
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        events.poller.fail_next_poll(Error::from_response(
            404,
            &reqwest::header::HeaderMap::new(),
            b"{}",
        ));
        assert!(events.step_poller(&mut cx, Instant::now()));
        assert_eq!(drain(&mut events), ["error Some(404)"]);
        assert!(events.emitter.finished());
        assert_eq!(events.live.state(), "off");
        assert!(
            matches!(events.next().now_or_never(), Some(None)),
            "the stream ended"
        );
    }

    #[tokio::test]
    async fn a_send_on_the_same_client_wakes_the_stream_to_poll_at_once() {
        let task = idle_task();
        let mut events = task.events();
        // Pretend a poll just found an idle task: the next one is far away.
        let now = Instant::now();
        events.on_answer(answer("idle", "", Some(vec![])), now);
        for _ in 0..10 {
            events.on_answer(answer("idle", "", None), now);
        }
        drain(&mut events);
        events.poller.forget_asked();
        let view = events.live.view(now);
        assert!(events.poller.next_deadline(view).unwrap() > now + Duration::from_secs(30));
        // Polling once registers the stream's waker; nothing is due.
        assert!(events.next().now_or_never().is_none());
        assert!(!events.poller.busy(), "no request before it is due");
        task.client.note_sent("t1");
        // The next poll of the stream starts a request at once.
        assert!(events.next().now_or_never().is_none());
        assert!(events.poller.busy(), "a poll is in flight after the send");
    }

    #[test]
    fn a_task_made_by_this_clients_trigger_reads_its_metadata_before_its_messages() {
        // (made by the trigger, as `send_message` returns it?, the first poll)
        let cases = [(true, Reads::METADATA), (false, Reads::BOTH)];
        for (new_from_trigger, first) in cases {
            let mut task = task_in("running", "");
            task.new_from_trigger = new_from_trigger;
            let events = task.events();
            assert_eq!(events.poller.asked(), Some(first), "{new_from_trigger}");
        }
    }

    #[test]
    fn a_send_on_the_same_client_asks_for_the_metadata_alone() {
        let mut events = idle_task().events();
        events.on_answer(answer("idle", "", Some(vec![])), Instant::now());
        events.poller.forget_asked();
        events.on_sent();
        assert_eq!(events.poller.asked(), Some(Reads::METADATA));
    }

    fn assert_send_unpin<T: Send + Unpin>() {}

    #[test]
    fn the_stream_is_send_and_unpin() {
        assert_send_unpin::<TaskEvents>();
    }

    #[test]
    fn dropping_a_stream_unsubscribes_it_and_others_stay_independent() {
        let client = crate::task::tests::test_client();
        let mut task = idle_task();
        task.client = client.clone();
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
