//! Polling, the source of truth for messages: what each poll reads (the
//! metadata, the messages or both), when it is due (the `schedule`'s pace,
//! the metadata's beat, the state checks after a reply, the token's
//! refresh), and the retries of a failed poll with backoff. It reads
//! through the `followed` adapter and keeps no messages: what a poll found goes
//! to the emitter.

use std::task::{Context, Poll};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::sse::StreamingToken;
use crate::error::{Error, Result};
use crate::message::Message;
use crate::retry::{Backoff, Failure};
use crate::runtime::{epoch_millis, BoxFuture, Instant};
use crate::task::Task;

use super::emitter::Delivered;
use super::followed::FollowedTask;
use super::live::LiveView;
use super::schedule::{Pace, PollOutcome, PollSchedule};
use super::{later, RETRY_BASE, RETRY_CAP};

/// How often a running task's metadata is read when nothing else asks for
/// it: a run that ends without a reply (cancelled, a tool's error) shows
/// only there.
pub(super) const METADATA_BEAT: Duration = Duration::from_secs(5);

/// What a poll reads. With `metadata`, the messages are read after it
/// when `messages` is set or the metadata changed; without, the messages
/// alone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Reads {
    metadata: bool,
    messages: bool,
}

impl Reads {
    pub(super) const METADATA: Reads = Reads {
        metadata: true,
        messages: false,
    };
    pub(super) const MESSAGES: Reads = Reads {
        metadata: false,
        messages: true,
    };
    pub(super) const BOTH: Reads = Reads {
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
pub(super) struct PollAnswer {
    /// `None` when the metadata was not read (a running task's beat).
    pub(super) task: Option<Task>,
    pub(super) token: Option<StreamingToken>,
    /// `None` when the messages were not read (a resting task whose
    /// metadata did not change).
    pub(super) messages: Option<Vec<Message>>,
    pub(super) received_ms: u64,
    /// The poll's number, in the order polls started (see
    /// [`Poller::next_number`]).
    pub(super) number: u64,
}

/// What tells whether a resting task changed: its state, title and update
/// time (and whether that state is a run going on).
#[derive(Clone, Debug, PartialEq)]
struct MetaSnapshot {
    state: String,
    title: String,
    updated_at: Option<DateTime<Utc>>,
    running: bool,
}

impl MetaSnapshot {
    fn of(task: &Task) -> MetaSnapshot {
        MetaSnapshot {
            state: task.state.clone(),
            title: task.title.clone(),
            updated_at: task.updated_at,
            running: task.is_running(),
        }
    }
}

/// What one step of the poller gave.
pub(super) enum PollStep {
    /// Nothing: a poll is in flight, or none is due yet.
    Waiting,
    /// A poll started.
    Started,
    /// A poll answered.
    Answered(Box<PollAnswer>),
    /// A poll failed and will be retried after a backoff.
    Retrying,
    /// A poll failed in a way retrying cannot fix.
    Failed(Error),
}

/// Whether a poll must read the messages: always without metadata (that
/// is a poll of the messages alone); while the messages `wait_for_run` (this
/// client just sent the task its message), only once the run is over;
/// else when asked to or when the metadata changed since the last poll.
fn must_read_messages(
    reads: Reads,
    previous: Option<&MetaSnapshot>,
    current: Option<&MetaSnapshot>,
    wait_for_run: bool,
) -> bool {
    match current {
        None => true,
        Some(current) if wait_for_run && current.running => false,
        Some(current) => reads.messages || previous != Some(current),
    }
}

/// One poll: the metadata (with a streaming token) and/or the messages, as
/// `reads` and `wait_for_run` say (see [`must_read_messages`]). Each request
/// is sent once; the poller owns the retries.
async fn poll_task(
    task: FollowedTask,
    cursor: Option<String>,
    reads: Reads,
    previous: Option<MetaSnapshot>,
    wait_for_run: bool,
    number: u64,
) -> Result<PollAnswer> {
    let (read, token) = if reads.metadata {
        let (read, token) = task.read_metadata().await?;
        (Some(read), token)
    } else {
        (None, None)
    };
    let received_ms = epoch_millis();
    let current = read.as_ref().map(MetaSnapshot::of);
    let must = must_read_messages(reads, previous.as_ref(), current.as_ref(), wait_for_run);
    let messages = if must {
        Some(task.read_messages(cursor.as_deref()).await?)
    } else {
        None
    };
    Ok(PollAnswer {
        task: read,
        token,
        messages,
        received_ms,
        number,
    })
}

/// The polls of one event stream.
pub(super) struct Poller {
    schedule: PollSchedule,
    /// The poll in flight, and what it reads.
    in_flight: Option<(Reads, BoxFuture<Result<PollAnswer>>)>,
    /// When the scheduled poll is due, and what it reads.
    next_at: Instant,
    scheduled: Reads,
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
    /// This client just sent the task a message (it made the task, or a
    /// send woke this stream): what is new in it is that message, which
    /// the next read of the messages brings with the reply, so the poll
    /// that fetches the streaming token reads no messages while the run
    /// goes on.
    messages_wait_for_run: bool,
    /// A workforce's task: its progress is its members' runs, which make no
    /// tokens, so a live stream does not slow its polls down.
    workforce: bool,
    running: bool,
    retries: u32,
    backoff: Backoff,
    /// How many polls started: the next poll's number.
    started: u64,
}

impl Poller {
    /// A poller whose first poll, at once, reads both; or, for an agent's
    /// task this client `just_sent` its first message, the metadata alone
    /// while the run goes on (a workforce's first read shows its first
    /// member at work).
    pub(super) fn new(running: bool, just_sent: bool, workforce: bool) -> Poller {
        let just_sent = just_sent && !workforce;
        let first = if just_sent {
            Reads::METADATA
        } else {
            Reads::BOTH
        };
        Poller {
            schedule: PollSchedule::default(),
            in_flight: None,
            next_at: Instant::now(),
            scheduled: first,
            asked: Some(first),
            last_meta: None,
            meta_read_at: None,
            state_checks: 0,
            messages_wait_for_run: just_sent,
            workforce,
            running,
            retries: 0,
            backoff: Backoff::new(RETRY_BASE, RETRY_CAP),
            started: 0,
        }
    }

    /// The number the next poll to start will have: a poll numbered at
    /// least this one started after now.
    pub(super) fn next_number(&self) -> u64 {
        self.started
    }

    /// Whether the task ran when its metadata was last read.
    pub(super) fn running(&self) -> bool {
        self.running
    }

    /// Asks for a poll as soon as possible (right after the one in flight,
    /// if any) that reads at least `reads`.
    pub(super) fn ask(&mut self, reads: Reads) {
        self.asked = Some(self.asked.map_or(reads, |asked| asked.and(reads)));
    }

    /// Starts the pace over (a message was sent, or a burst of typing ended).
    pub(super) fn reset_pace(&mut self) {
        self.schedule.reset();
    }

    /// A live token arrived: when the run was listened to, it turns out to
    /// stream, and the next scheduled poll moves to the watched pace's
    /// first wait from now (still no later than the token's refresh).
    pub(super) fn streamed(&mut self, live: LiveView, now: Instant) {
        let Some(wait) = self.schedule.streamed() else {
            return;
        };
        self.next_at = self.next_at.max(later(now, wait));
        if let Some(refresh) = live.refresh_at {
            self.next_at = self.next_at.min(refresh);
        }
    }

    /// This client sent the task a message: the pace starts over and the
    /// metadata is read at once (the run's state, a streaming token); the
    /// messages wait for the reply, or for the run's end.
    pub(super) fn sent(&mut self) {
        self.reset_pace();
        self.messages_wait_for_run = !self.workforce;
        self.ask(Reads::METADATA);
    }

    /// One step: the poll in flight, or a new one when asked for or due.
    /// `cursor` is where the messages are read from.
    pub(super) fn poll(
        &mut self,
        cx: &mut Context<'_>,
        task: &FollowedTask,
        cursor: impl FnOnce() -> Option<String>,
        live: LiveView,
        now: Instant,
    ) -> PollStep {
        if let Some((reads, polling)) = self.in_flight.as_mut() {
            let Poll::Ready(answer) = polling.as_mut().poll(cx) else {
                return PollStep::Waiting;
            };
            let reads = *reads;
            self.in_flight = None;
            return match answer {
                Ok(answer) => PollStep::Answered(Box::new(answer)),
                Err(error) => match self.on_error(error, reads, now) {
                    Some(error) => PollStep::Failed(error),
                    None => PollStep::Retrying,
                },
            };
        }
        if self.asked.is_some() || now >= self.scheduled_at(live) {
            self.start(task, cursor(), live, now);
            return PollStep::Started;
        }
        PollStep::Waiting
    }

    /// When the next poll is due, if none is in flight.
    pub(super) fn next_deadline(&self, live: LiveView) -> Option<Instant> {
        match self.in_flight {
            None => Some(self.scheduled_at(live)),
            Some(_) => None,
        }
    }

    /// When the scheduled poll may start: while tokens flow on the live
    /// stream, not before they have stopped for a while (the end of a
    /// burst of typing asks for its own poll).
    fn scheduled_at(&self, live: LiveView) -> Instant {
        match live.polls_held_until {
            Some(held) => self.next_at.max(held),
            None => self.next_at,
        }
    }

    /// Whether a running task's metadata should ride along with the
    /// scheduled poll: its beat elapsed, a reply asks to check the state, or
    /// the streaming token is due.
    fn metadata_due(&self, live: LiveView, now: Instant) -> bool {
        if self.state_checks > 0 {
            return true;
        }
        let beat = self.meta_read_at.map_or(true, |at| {
            now.saturating_duration_since(at) >= METADATA_BEAT
        });
        beat || live.token_due
    }

    fn start(&mut self, task: &FollowedTask, cursor: Option<String>, live: LiveView, now: Instant) {
        let mut reads = self.asked.take().unwrap_or_default();
        if now >= self.scheduled_at(live) {
            reads = reads.and(self.scheduled);
            if self.running && self.metadata_due(live, now) {
                reads.metadata = true;
            }
        }
        if self.last_meta.is_none() || live.token_refused || reads == Reads::default() {
            reads.metadata = true;
        }
        let future: BoxFuture<Result<PollAnswer>> = Box::pin(poll_task(
            task.clone(),
            cursor,
            reads,
            self.last_meta.clone(),
            self.messages_wait_for_run && !reads.messages,
            self.started,
        ));
        self.started += 1;
        self.in_flight = Some((reads, future));
    }

    /// What an answer means for the next poll. `task` is the metadata, if
    /// it was read; `delivered` what the messages brought; `unfinished`
    /// whether a message is still being written; `live` the live stream
    /// after the answer.
    pub(super) fn on_answer(
        &mut self,
        task: Option<&Task>,
        delivered: Delivered,
        unfinished: bool,
        live: LiveView,
        now: Instant,
    ) {
        self.retries = 0;
        let mut changed = delivered.any;
        if let Some(task) = task {
            // The metadata says whether the run goes on: the next reads of
            // the messages are as usual.
            self.messages_wait_for_run = false;
            self.meta_read_at = Some(now);
            self.state_checks = self.state_checks.saturating_sub(1);
            let meta = MetaSnapshot::of(task);
            if self.last_meta.as_ref() != Some(&meta) {
                changed = true;
                self.last_meta = Some(meta);
            }
            self.running = task.is_running();
        }
        if delivered.reply_or_error && self.running {
            // A reply or an error often ends the run: read the state
            // now, and again with the next scheduled poll.
            self.ask(Reads::METADATA);
            self.state_checks = 2;
        }
        let pace = if !(self.running || live.flowing) {
            if unfinished {
                Pace::Settling
            } else {
                Pace::Resting
            }
        } else if live.trusted && self.workforce {
            Pace::Following
        } else if live.trusted && live.streamed {
            Pace::Watching
        } else if live.trusted {
            Pace::Listening
        } else {
            Pace::Blind
        };
        let wait = self.schedule.after_poll(PollOutcome { pace, changed });
        self.next_at = later(now, wait);
        self.scheduled = if self.running {
            Reads::MESSAGES
        } else {
            Reads {
                metadata: true,
                messages: unfinished,
            }
        };
        if self.running {
            if let Some(refresh) = live.refresh_at {
                self.next_at = self.next_at.min(refresh);
            }
        } else {
            self.state_checks = 0;
        }
    }

    /// A failed poll is retried with backoff, reading what it was to read
    /// and whatever was asked for meanwhile; a failure retrying cannot fix
    /// is given back.
    fn on_error(&mut self, error: Error, reads: Reads, now: Instant) -> Option<Error> {
        let failure = Failure::of(&error, None);
        if failure == Failure::Final {
            return Some(error);
        }
        self.retries = self.retries.saturating_add(1);
        let wait = self.backoff.delay(self.retries, failure.server_wait());
        let asked = self.asked.take().unwrap_or_default();
        self.scheduled = self.scheduled.and(reads).and(asked);
        self.next_at = later(now, wait);
        None
    }
}

#[cfg(test)]
impl Poller {
    /// Whether a poll is in flight.
    pub(super) fn busy(&self) -> bool {
        self.in_flight.is_some()
    }

    pub(super) fn asked(&self) -> Option<Reads> {
        self.asked
    }

    /// Pretends a poll started (and is in flight elsewhere).
    pub(super) fn pretend_started(&mut self) {
        self.started += 1;
    }

    pub(super) fn forget_asked(&mut self) {
        self.asked = None;
    }

    /// Makes the poll in flight one that fails with `error`.
    pub(super) fn fail_next_poll(&mut self, error: Error) {
        self.asked = None;
        let failing: BoxFuture<Result<PollAnswer>> = Box::pin(async move { Err(error) });
        self.in_flight = Some((Reads::BOTH, failing));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::schedule;
    use crate::events::tests::{idle_task, task_in};

    fn meta(state: &str, title: &str, second: Option<u32>) -> MetaSnapshot {
        MetaSnapshot {
            state: state.into(),
            title: title.into(),
            running: crate::task::TaskStatus::from_state(state).is_running(),
            updated_at: second.map(|s| {
                crate::wire::timestamp(&serde_json::Value::from(format!(
                    "2026-03-01T10:00:{s:02}Z"
                )))
                .unwrap()
            }),
        }
    }

    #[test]
    fn messages_are_read_alone_when_asked_or_when_the_metadata_changed() {
        let idle = meta("idle", "t", Some(1));
        let running = meta("running", "", Some(1));
        // (reads, previous, current (None: metadata not read), the messages
        // wait for the run, read messages?)
        let cases = [
            (Reads::MESSAGES, Some(&idle), None, false, true),
            (
                Reads::METADATA,
                Some(&idle),
                Some(idle.clone()),
                false,
                false,
            ),
            (Reads::BOTH, Some(&idle), Some(idle.clone()), false, true),
            (Reads::METADATA, None, Some(idle.clone()), false, true),
            (
                Reads::METADATA,
                Some(&idle),
                Some(meta("idle", "t", Some(2))),
                false,
                true,
            ),
            (
                Reads::METADATA,
                Some(&idle),
                Some(meta("completed", "t", Some(1))),
                false,
                true,
            ),
            (
                Reads::METADATA,
                Some(&idle),
                Some(meta("idle", "new title", Some(1))),
                false,
                true,
            ),
            // Just sent by this client: nothing to read while the run goes on
            // (first poll or not), everything once it is over.
            (Reads::METADATA, None, Some(running.clone()), true, false),
            (
                Reads::METADATA,
                Some(&idle),
                Some(running.clone()),
                true,
                false,
            ),
            (
                Reads::METADATA,
                None,
                Some(meta("starting-up", "", None)),
                true,
                false,
            ),
            (Reads::METADATA, None, Some(idle.clone()), true, true),
            (
                Reads::METADATA,
                Some(&running),
                Some(meta("completed", "t", Some(2))),
                true,
                true,
            ),
            // A poll of the messages alone reads them whatever it waits for.
            (Reads::MESSAGES, None, None, true, true),
        ];
        for (reads, previous, current, wait, expected) in cases {
            assert_eq!(
                must_read_messages(reads, previous, current.as_ref(), wait),
                expected,
                "{reads:?} {previous:?} {current:?} wait {wait}"
            );
        }
    }

    /// What the poll started now reads.
    fn reads_of_next_poll(poller: &mut Poller, live: LiveView, now: Instant) -> Reads {
        poller.start(&FollowedTask::of(&idle_task()), None, live, now);
        let (reads, _) = poller.in_flight.take().expect("a poll started");
        reads
    }

    const NOTHING: Delivered = Delivered {
        any: false,
        reply_or_error: false,
    };
    const A_REPLY: Delivered = Delivered {
        any: true,
        reply_or_error: true,
    };

    #[test]
    fn a_running_task_is_polled_by_its_messages_and_its_state_is_read_when_a_reply_comes() {
        let mut poller = Poller::new(false, false, false);
        let blind = LiveView::default();
        let now = Instant::now();
        assert_eq!(poller.asked, Some(Reads::BOTH), "the first poll reads both");
        poller.asked = None;
        // No streaming token: polled blind, fast, by the messages alone
        // (whether or not the platform touches `update_date`).
        let running = task_in("running", "");
        poller.on_answer(Some(&running), NOTHING, false, blind, now);
        assert!(poller.running());
        assert_eq!(poller.next_at, now + schedule::BLIND.0);
        assert_eq!(poller.scheduled, Reads::MESSAGES);
        let due = poller.next_at;
        assert_eq!(reads_of_next_poll(&mut poller, blind, due), Reads::MESSAGES);
        // Nothing new: the wait doubles.
        poller.on_answer(None, NOTHING, false, blind, now);
        assert_eq!(poller.next_at, now + schedule::BLIND.0 * 2);
        assert!(poller.asked.is_none());
        // A final reply: the state is read at once, alone.
        poller.on_answer(None, A_REPLY, false, blind, now);
        assert_eq!(poller.asked, Some(Reads::METADATA));
        assert_eq!(reads_of_next_poll(&mut poller, blind, now), Reads::METADATA);
        // Still running (the run ends a moment later): the next scheduled
        // poll reads the state again.
        poller.on_answer(Some(&running), NOTHING, false, blind, now);
        assert!(poller.asked.is_none());
        let due = poller.next_at;
        assert_eq!(reads_of_next_poll(&mut poller, blind, due), Reads::BOTH);
        // It says idle: metadata alone from now on, slowly.
        let idle = task_in("idle", "Greeting");
        poller.on_answer(Some(&idle), NOTHING, false, blind, now);
        assert!(!poller.running());
        assert_eq!(poller.next_at, now + schedule::RESTING.0);
        assert_eq!(poller.scheduled, Reads::METADATA);
        assert!(poller.asked.is_none());
        // Unless a message is still being written.
        poller.on_answer(Some(&idle), NOTHING, true, blind, now);
        assert_eq!(poller.scheduled, Reads::BOTH);
    }

    #[test]
    fn a_watched_task_is_polled_slowly_and_its_metadata_rides_along_at_its_beat() {
        let mut poller = Poller::new(true, false, false);
        poller.asked = None;
        let now = Instant::now();
        let watched = LiveView {
            trusted: true,
            streamed: true,
            ..LiveView::default()
        };
        poller.on_answer(Some(&task_in("running", "")), NOTHING, false, watched, now);
        assert_eq!(poller.next_at, now + schedule::WATCHING.0);
        // The beat has not elapsed: the messages alone.
        assert_eq!(
            reads_of_next_poll(&mut poller, watched, now + schedule::WATCHING.0),
            Reads::MESSAGES
        );
        // Once it has, the metadata too; and when the token is due.
        assert_eq!(
            reads_of_next_poll(&mut poller, watched, now + METADATA_BEAT),
            Reads::BOTH
        );
        let token_due = LiveView {
            token_due: true,
            ..watched
        };
        assert_eq!(
            reads_of_next_poll(&mut poller, token_due, now + schedule::WATCHING.0),
            Reads::BOTH
        );
        // A refused token makes any poll read the metadata.
        let refused = LiveView {
            token_refused: true,
            ..watched
        };
        poller.ask(Reads::MESSAGES);
        assert_eq!(reads_of_next_poll(&mut poller, refused, now), Reads::BOTH);
        // A live stream that is not trusted: blind pace.
        poller.on_answer(None, NOTHING, false, LiveView::default(), now);
        assert_eq!(poller.next_at, now + schedule::BLIND.0);
        // The token's refresh brings the scheduled poll forward.
        let refresh = LiveView {
            refresh_at: Some(now + Duration::from_millis(10)),
            ..watched
        };
        poller.on_answer(None, NOTHING, false, refresh, now);
        assert_eq!(poller.next_at, now + Duration::from_millis(10));
    }

    #[test]
    fn scheduled_polls_wait_while_tokens_flow() {
        let mut poller = Poller::new(true, false, false);
        poller.asked = None;
        let now = Instant::now();
        let watched = LiveView {
            trusted: true,
            streamed: true,
            ..LiveView::default()
        };
        poller.on_answer(Some(&task_in("running", "")), NOTHING, false, watched, now);
        let held = LiveView {
            polls_held_until: Some(now + Duration::from_secs(9)),
            ..watched
        };
        assert_eq!(
            poller.next_deadline(watched),
            Some(now + schedule::WATCHING.0)
        );
        assert_eq!(
            poller.next_deadline(held),
            Some(now + Duration::from_secs(9)),
            "no scheduled poll while tokens flow"
        );
        // Tokens that flowed long ago hold nothing back.
        let past = LiveView {
            polls_held_until: Some(now),
            ..watched
        };
        assert_eq!(poller.next_deadline(past), Some(now + schedule::WATCHING.0));
        // No deadline while a poll is in flight.
        poller.start(&FollowedTask::of(&idle_task()), None, watched, now);
        assert_eq!(poller.next_deadline(watched), None);
    }

    #[test]
    fn a_task_this_client_just_sent_to_reads_its_metadata_first_and_its_messages_with_the_reply() {
        // (made by this client's trigger?, what the first poll reads, and
        // whether its messages wait for the run)
        let cases = [(true, Reads::METADATA, true), (false, Reads::BOTH, false)];
        for (just_sent, first, waits) in cases {
            let mut poller = Poller::new(true, just_sent, false);
            let now = Instant::now();
            assert_eq!(
                reads_of_next_poll(&mut poller, LiveView::default(), now),
                first,
                "just sent: {just_sent}"
            );
            assert_eq!(poller.messages_wait_for_run, waits, "{just_sent}");
        }
        // The metadata answered: the messages are read as usual again.
        let mut poller = Poller::new(true, true, false);
        let watched = LiveView {
            trusted: true,
            streamed: true,
            ..LiveView::default()
        };
        let now = Instant::now();
        poller.asked = None;
        poller.on_answer(Some(&task_in("running", "")), NOTHING, false, watched, now);
        assert!(!poller.messages_wait_for_run);
        assert_eq!(poller.scheduled, Reads::MESSAGES);
        // A send through the same client asks for the metadata alone, at
        // once, and the messages wait again.
        let due = poller.next_at;
        poller.sent();
        assert_eq!(poller.asked, Some(Reads::METADATA));
        assert!(poller.messages_wait_for_run);
        assert_eq!(
            reads_of_next_poll(&mut poller, watched, now),
            Reads::METADATA
        );
        // Unless the scheduled read of the messages is due with it.
        poller.ask(Reads::METADATA);
        assert_eq!(reads_of_next_poll(&mut poller, watched, due), Reads::BOTH);
    }

    #[test]
    fn a_workforce_task_is_followed_and_its_first_read_shows_its_members() {
        let mut poller = Poller::new(true, true, true);
        let now = Instant::now();
        assert_eq!(
            reads_of_next_poll(&mut poller, LiveView::default(), now),
            Reads::BOTH
        );
        assert!(!poller.messages_wait_for_run);
        let streamed = LiveView {
            trusted: true,
            streamed: true,
            ..LiveView::default()
        };
        poller.on_answer(Some(&task_in("running", "")), NOTHING, false, streamed, now);
        assert_eq!(poller.next_at, now + schedule::FOLLOWING.0);
        poller.streamed(streamed, now + Duration::from_millis(500));
        assert_eq!(
            poller.next_at,
            now + schedule::FOLLOWING.0,
            "tokens do not slow it"
        );
        poller.sent();
        assert!(!poller.messages_wait_for_run);
    }

    #[test]
    fn a_first_live_token_moves_the_next_poll_to_the_watched_pace() {
        let listened = LiveView {
            trusted: true,
            ..LiveView::default()
        };
        let mut poller = Poller::new(true, false, false);
        poller.asked = None;
        let now = Instant::now();
        poller.on_answer(Some(&task_in("running", "")), NOTHING, false, listened, now);
        assert_eq!(poller.next_at, now + schedule::LISTENING.0);
        // The first token, a second later: the run streams.
        let token_at = now + Duration::from_secs(1);
        let streamed = LiveView {
            streamed: true,
            ..listened
        };
        poller.streamed(streamed, token_at);
        assert_eq!(poller.next_at, token_at + schedule::WATCHING.0);
        // Later tokens move nothing (they hold the polls back while they flow).
        poller.streamed(streamed, token_at + Duration::from_secs(2));
        assert_eq!(poller.next_at, token_at + schedule::WATCHING.0);
        // The answers from there are at the watched pace.
        poller.on_answer(None, NOTHING, false, streamed, token_at);
        assert_eq!(poller.next_at, token_at + schedule::WATCHING.1);
        // A token due for refresh earlier still brings the poll forward.
        let mut poller = Poller::new(true, false, false);
        poller.asked = None;
        poller.on_answer(Some(&task_in("running", "")), NOTHING, false, listened, now);
        let refresh = LiveView {
            refresh_at: Some(now + Duration::from_secs(3)),
            ..streamed
        };
        poller.streamed(refresh, token_at);
        assert_eq!(poller.next_at, now + Duration::from_secs(3));
    }

    #[test]
    fn a_resting_task_waits_long_unless_a_message_is_still_being_written() {
        let blind = LiveView::default();
        // (unfinished, first wait)
        let cases = [(false, schedule::RESTING.0), (true, schedule::SETTLING.0)];
        for (unfinished, wait) in cases {
            let mut poller = Poller::new(false, false, false);
            poller.asked = None;
            let now = Instant::now();
            let idle = task_in("idle", "t");
            poller.on_answer(Some(&idle), NOTHING, unfinished, blind, now);
            assert_eq!(poller.next_at, now + wait, "unfinished: {unfinished}");
            let reads = Reads {
                metadata: true,
                messages: unfinished,
            };
            assert_eq!(poller.scheduled, reads);
        }
    }

    #[test]
    fn a_final_error_is_given_back_and_a_transient_one_is_retried_silently() {
        let now = Instant::now();
        let mut poller = Poller::new(false, false, false);
        let retried = poller.on_error(
            Error::Server {
                status: 503,
                message: None,
                error_type: None,
            },
            Reads::MESSAGES,
            now,
        );
        assert!(retried.is_none());
        assert!(
            poller.asked.is_none() && poller.scheduled.metadata,
            "what was asked for is read by the retry, after the backoff"
        );
        assert!(poller.next_at >= now);
        assert!(poller.next_at <= now + RETRY_BASE);
        for _ in 0..30 {
            let retried = poller.on_error(
                Error::Server {
                    status: 500,
                    message: None,
                    error_type: None,
                },
                Reads::MESSAGES,
                now,
            );
            assert!(retried.is_none());
        }
        assert!(poller.next_at <= now + RETRY_CAP, "backoff capped at 30 s");

        for status in [401u16, 403, 404] {
            let mut poller = Poller::new(false, false, false);
            let error = Error::from_response(status, &reqwest::header::HeaderMap::new(), b"{}");
            let given_back = poller.on_error(error, Reads::BOTH, now);
            assert_eq!(given_back.and_then(|error| error.status()), Some(status));
        }
    }
}
