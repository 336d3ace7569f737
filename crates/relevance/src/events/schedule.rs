//! How long an event stream waits between polls.
//!
//! Six paces. A resting task is polled slowly (30 s, then every minute),
//! so a subscribed finished task costs its first read (metadata and
//! messages) and one metadata read in its first minute, then one a minute;
//! a message sent through the same client wakes it at once, whatever its
//! pace. A task that rests while one of its messages is still being
//! written (the run's end was read just before the final write) is
//! *settling*: 1 s doubling to a minute, until that message is final.
//! A working task whose live stream is connected is *listened to* until
//! the stream carries a token of the run (2 s, then every 4 s: the run may
//! not stream at all, and polling is then what finds its reply), and
//! *watched* once it has: the run streams, so the stream says when a reply
//! is being typed and its end brings the poll that finds the final
//! message; polling only has to catch what makes no tokens (tool runs) —
//! 4 s after the first token, then every 8 s, changes or not (tokens hold
//! the polls back while they flow). A workforce's working task with its
//! live stream connected is *followed*: its members' runs and handovers
//! make no tokens, so polling is what shows them — 1 s, then every 2 s.
//! A working task without a live stream is polled *blind*, faster
//! (250 ms doubling to 2 s, and back to 250 ms on a change), because
//! polling is then the only way to learn of a reply. Pure: the caller
//! supplies what happened.

use std::time::Duration;

/// The pace of a task, from what is known of it after a poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pace {
    /// Not running: nothing is expected.
    Resting,
    /// Not running, but a message is still being written or run.
    Settling,
    /// Running, the live stream is connected (or about to be), and it has
    /// carried no token of this run yet.
    Listening,
    /// Running, and the live stream has carried tokens of this run.
    Watching,
    /// A workforce's task, running, with the live stream connected.
    Following,
    /// Running without a live stream: polling is all there is.
    Blind,
}

/// The first and the longest wait of each pace.
pub(crate) const RESTING: (Duration, Duration) = (Duration::from_secs(30), Duration::from_secs(60));
pub(crate) const SETTLING: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(60));
pub(crate) const LISTENING: (Duration, Duration) = (Duration::from_secs(2), Duration::from_secs(4));
pub(crate) const WATCHING: (Duration, Duration) = (Duration::from_secs(4), Duration::from_secs(8));
pub(crate) const FOLLOWING: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(2));
pub(crate) const BLIND: (Duration, Duration) = (Duration::from_millis(250), Duration::from_secs(2));

impl Pace {
    fn waits(self) -> (Duration, Duration) {
        match self {
            Pace::Resting => RESTING,
            Pace::Settling => SETTLING,
            Pace::Listening => LISTENING,
            Pace::Watching => WATCHING,
            Pace::Following => FOLLOWING,
            Pace::Blind => BLIND,
        }
    }
}

/// What the last poll found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PollOutcome {
    /// The pace the task is in now.
    pub(crate) pace: Pace,
    /// Something was delivered, or the task's metadata changed.
    pub(crate) changed: bool,
}

/// The pace of one event stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PollSchedule {
    /// The pace of the last poll; `None` at the start and after a reset.
    pace: Option<Pace>,
    wait: Duration,
}

impl PollSchedule {
    /// The wait before the next poll, after a poll that found `outcome`.
    pub(crate) fn after_poll(&mut self, outcome: PollOutcome) -> Duration {
        let (first, longest) = outcome.pace.waits();
        // With a live stream, a change is a tool run moving on or a reply
        // written at once: the stream, not polling, tells when a typed
        // reply is near.
        let snap_back = outcome.changed
            && !matches!(
                outcome.pace,
                Pace::Listening | Pace::Watching | Pace::Following
            );
        self.wait = if snap_back || self.pace != Some(outcome.pace) {
            first
        } else {
            self.wait.saturating_mul(2).min(longest)
        };
        self.pace = Some(outcome.pace);
        self.wait
    }

    /// Starts the pace over (a message was sent to the task, or a burst of
    /// typing just ended): the next wait is the first of its pace.
    pub(crate) fn reset(&mut self) {
        self.pace = None;
    }

    /// A live token of the run arrived. Listened to, the run turns out to
    /// stream: it is watched from now on, and the next poll waits for the
    /// first wait of that pace, from now (the answer). Otherwise nothing
    /// changes (`None`).
    pub(crate) fn streamed(&mut self) -> Option<Duration> {
        if self.pace != Some(Pace::Listening) {
            return None;
        }
        self.pace = Some(Pace::Watching);
        self.wait = WATCHING.0;
        Some(self.wait)
    }
}

/// How long the live stream must stay quiet after typing before a burst
/// counts as over (and a poll is made for the final message).
pub(crate) const QUIET_FIRST: Duration = Duration::from_millis(40);
/// The longest quiet asked for: a platform that types with long pauses
/// costs a few early polls per reply, never one per pause.
pub(crate) const QUIET_LONGEST: Duration = Duration::from_millis(640);

/// The end-of-burst rule. 40 ms of quiet usually means the reply is done
/// (the final message is written right after the last token); when the
/// poll it brings finds the reply still being written, the typing merely
/// paused, so the next burst end waits twice as long for quiet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct QuietRule {
    quiet: Duration,
}

impl Default for QuietRule {
    fn default() -> Self {
        QuietRule { quiet: QUIET_FIRST }
    }
}

impl QuietRule {
    /// How long without a token ends the current burst.
    pub(crate) fn quiet(&self) -> Duration {
        self.quiet
    }

    /// A burst ended and a poll was made for it.
    pub(crate) fn burst_ended(&mut self) {
        self.quiet = self.quiet.saturating_mul(2).min(QUIET_LONGEST);
    }

    /// A final reply arrived: the next burst is a new reply.
    pub(crate) fn reply_arrived(&mut self) {
        self.quiet = QUIET_FIRST;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(pace: Pace, changed: bool) -> PollOutcome {
        PollOutcome { pace, changed }
    }

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().copied().map(Duration::from_millis).collect()
    }

    #[test]
    fn the_pace_follows_the_task() {
        use Pace::{Blind, Following, Listening, Resting, Settling, Watching};
        // (name, outcomes in order, waits expected after each)
        let cases: Vec<(&str, Vec<PollOutcome>, Vec<u64>)> = vec![
            (
                "blind: 250 ms doubling to 2 s",
                vec![outcome(Blind, false); 6],
                vec![250, 500, 1_000, 2_000, 2_000, 2_000],
            ),
            (
                "a change while blind is fast again",
                vec![
                    outcome(Blind, false),
                    outcome(Blind, false),
                    outcome(Blind, false),
                    outcome(Blind, true),
                    outcome(Blind, false),
                ],
                vec![250, 500, 1_000, 250, 500],
            ),
            (
                "watching: 4 s easing to 8 s",
                vec![outcome(Watching, false); 4],
                vec![4_000, 8_000, 8_000, 8_000],
            ),
            (
                "following a workforce: 1 s easing to 2 s, changes or not",
                vec![
                    outcome(Following, false),
                    outcome(Following, true),
                    outcome(Following, false),
                ],
                vec![1_000, 2_000, 2_000],
            ),
            (
                "listening: 2 s easing to 4 s, changes or not",
                vec![
                    outcome(Listening, false),
                    outcome(Listening, true),
                    outcome(Listening, false),
                ],
                vec![2_000, 4_000, 4_000],
            ),
            (
                "listening, then the run streamed and a burst ended",
                vec![
                    outcome(Listening, false),
                    outcome(Watching, true),
                    outcome(Watching, false),
                ],
                vec![2_000, 4_000, 8_000],
            ),
            (
                "a change while watching keeps the pace",
                vec![
                    outcome(Watching, false),
                    outcome(Watching, true),
                    outcome(Watching, true),
                    outcome(Watching, false),
                ],
                vec![4_000, 8_000, 8_000, 8_000],
            ),
            (
                "the stream lost: blind and fast at once",
                vec![
                    outcome(Watching, false),
                    outcome(Watching, false),
                    outcome(Blind, false),
                    outcome(Blind, false),
                ],
                vec![4_000, 8_000, 250, 500],
            ),
            (
                "resting: 30 s, then a minute",
                vec![outcome(Resting, false); 5],
                vec![30_000, 60_000, 60_000, 60_000, 60_000],
            ),
            (
                "a change while resting starts the resting pace over",
                vec![
                    outcome(Resting, false),
                    outcome(Resting, false),
                    outcome(Resting, true),
                    outcome(Resting, false),
                ],
                vec![30_000, 60_000, 30_000, 60_000],
            ),
            (
                "settling doubles from 1 s to a minute",
                vec![outcome(Settling, false); 9],
                vec![
                    1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000,
                ],
            ),
            (
                "the last message final: resting from there",
                vec![
                    outcome(Settling, false),
                    outcome(Settling, false),
                    outcome(Resting, true),
                    outcome(Resting, false),
                ],
                vec![1_000, 2_000, 30_000, 60_000],
            ),
            (
                "working again after resting is fast at once",
                vec![
                    outcome(Resting, false),
                    outcome(Resting, false),
                    outcome(Blind, false),
                ],
                vec![30_000, 60_000, 250],
            ),
            (
                "a run that ends goes from watching to resting",
                vec![
                    outcome(Watching, false),
                    outcome(Watching, true),
                    outcome(Resting, true),
                    outcome(Resting, false),
                ],
                vec![4_000, 8_000, 30_000, 60_000],
            ),
        ];
        for (name, outcomes, expected) in cases {
            let mut schedule = PollSchedule::default();
            let waits: Vec<Duration> = outcomes
                .into_iter()
                .map(|o| schedule.after_poll(o))
                .collect();
            assert_eq!(waits, ms(&expected), "{name}");
        }
    }

    #[test]
    fn a_first_token_turns_listening_into_watching_and_nothing_else() {
        use Pace::{Blind, Following, Listening, Resting, Settling, Watching};
        // (the pace of the last poll, the wait a token sets, the pace after)
        let cases = [
            (Some(Listening), Some(WATCHING.0), Some(Watching)),
            (Some(Watching), None, Some(Watching)),
            (Some(Blind), None, Some(Blind)),
            (Some(Following), None, Some(Following)),
            (Some(Resting), None, Some(Resting)),
            (Some(Settling), None, Some(Settling)),
            (None, None, None),
        ];
        for (before, wait, after) in cases {
            let mut schedule = PollSchedule::default();
            if let Some(pace) = before {
                schedule.after_poll(outcome(pace, false));
            }
            assert_eq!(schedule.streamed(), wait, "{before:?}");
            assert_eq!(schedule.pace, after, "{before:?}");
            assert_eq!(schedule.streamed(), None, "{before:?}: once");
        }
        // Watched from there: the pace eases from its first wait.
        let mut schedule = PollSchedule::default();
        schedule.after_poll(outcome(Listening, false));
        schedule.streamed();
        assert_eq!(schedule.after_poll(outcome(Watching, false)), WATCHING.1);
    }

    #[test]
    fn a_reset_starts_the_pace_over() {
        let mut schedule = PollSchedule::default();
        for _ in 0..20 {
            schedule.after_poll(outcome(Pace::Resting, false));
        }
        assert_eq!(
            schedule.after_poll(outcome(Pace::Resting, false)),
            RESTING.1
        );
        schedule.reset();
        assert_eq!(
            schedule.after_poll(outcome(Pace::Resting, false)),
            RESTING.0
        );
        schedule.after_poll(outcome(Pace::Blind, false));
        schedule.after_poll(outcome(Pace::Blind, false));
        schedule.reset();
        assert_eq!(schedule.after_poll(outcome(Pace::Blind, false)), BLIND.0);
    }

    /// How many polls a running task costs before its reply, on the
    /// benchmark's shape of conversation (about five seconds: a tool runs
    /// for two, then the reply is typed for one and a half): the watched
    /// pace must stay well under the official client's one poll a second.
    #[test]
    fn a_watched_task_polls_far_less_than_once_a_second() {
        for pace in [Pace::Listening, Pace::Watching] {
            let mut schedule = PollSchedule::default();
            let mut clock = Duration::ZERO;
            let mut polls = 0;
            while clock < Duration::from_secs(5) {
                clock += schedule.after_poll(outcome(pace, false));
                polls += 1;
            }
            assert!(polls <= 2, "{pace:?}: {polls} waits to cover 5 s");
        }
        // Blind, it still beats one a second over a longer run.
        let mut schedule = PollSchedule::default();
        let mut clock = Duration::ZERO;
        let mut polls = 0;
        while clock < Duration::from_secs(20) {
            clock += schedule.after_poll(outcome(Pace::Blind, false));
            polls += 1;
        }
        assert!(polls <= 13, "{polls} polls in 20 s");
    }

    /// The requests of a subscribed finished task, minute by minute: its
    /// first poll reads the metadata and the messages (two requests), every
    /// later one the metadata alone (the messages only when it changed).
    fn idle_requests_per_minute(minutes: u64) -> Vec<usize> {
        let mut schedule = PollSchedule::default();
        let mut clock = Duration::ZERO;
        let mut per_minute = vec![2usize];
        per_minute.resize(minutes as usize, 0);
        loop {
            clock += schedule.after_poll(outcome(Pace::Resting, false));
            let minute = (clock.as_secs() / 60) as usize;
            if minute >= per_minute.len() {
                return per_minute;
            }
            per_minute[minute] += 1;
        }
    }

    #[test]
    fn a_finished_task_costs_three_requests_in_its_first_minute_then_one_a_minute() {
        let per_minute = idle_requests_per_minute(60);
        assert_eq!(per_minute[0], 3, "first minute");
        for (minute, requests) in per_minute.iter().enumerate().skip(1) {
            assert_eq!(*requests, 1, "minute {minute}");
        }
    }

    #[test]
    fn the_quiet_that_ends_a_burst_grows_while_typing_only_paused() {
        let mut rule = QuietRule::default();
        let mut quiets = vec![rule.quiet()];
        for _ in 0..6 {
            rule.burst_ended();
            quiets.push(rule.quiet());
        }
        assert_eq!(quiets, ms(&[40, 80, 160, 320, 640, 640, 640]));
        rule.reply_arrived();
        assert_eq!(rule.quiet(), QUIET_FIRST);
    }
}
