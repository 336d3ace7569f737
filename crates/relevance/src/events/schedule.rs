//! How long an event stream waits between polls.
//!
//! Fast while the task works (a reply is near; 100 ms, easing to 250 ms
//! while nothing changes), slow when it rests (1 s doubling to a minute), so
//! a subscribed idle task costs one metadata read a minute once settled.
//! A send to the task, a change, or the end of a burst of live tokens brings
//! the fast pace back. Pure: the caller supplies what happened.

use std::time::Duration;

/// The first wait after something changed while the task works.
pub(crate) const FAST_FIRST: Duration = Duration::from_millis(100);
/// The longest wait while the task works.
pub(crate) const FAST_LONGEST: Duration = Duration::from_millis(250);
/// The first wait once the task rests.
pub(crate) const IDLE_FIRST: Duration = Duration::from_secs(1);
/// The longest wait while the task rests.
pub(crate) const IDLE_LONGEST: Duration = Duration::from_secs(60);

/// What the last poll found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PollOutcome {
    /// The task is queued or running, live tokens are flowing, or a message
    /// is still being written.
    pub(crate) busy: bool,
    /// Something was delivered, or the task's metadata changed.
    pub(crate) changed: bool,
}

/// The pace of one event stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PollSchedule {
    busy: bool,
    wait: Duration,
}

impl Default for PollSchedule {
    fn default() -> Self {
        PollSchedule {
            busy: true,
            wait: FAST_FIRST,
        }
    }
}

impl PollSchedule {
    /// The wait before the next poll, after a poll that found `outcome`.
    pub(crate) fn after_poll(&mut self, outcome: PollOutcome) -> Duration {
        let (first, longest) = if outcome.busy {
            (FAST_FIRST, FAST_LONGEST)
        } else {
            (IDLE_FIRST, IDLE_LONGEST)
        };
        self.wait = if outcome.changed || outcome.busy != self.busy {
            first
        } else {
            self.wait.saturating_mul(2).min(longest)
        };
        self.busy = outcome.busy;
        self.wait
    }

    /// Back to the fast pace (a message was sent to the task, or a burst of
    /// typing just ended): the next poll should happen now.
    pub(crate) fn reset(&mut self) {
        self.busy = true;
        self.wait = FAST_FIRST;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDLE: PollOutcome = PollOutcome {
        busy: false,
        changed: false,
    };
    const BUSY: PollOutcome = PollOutcome {
        busy: true,
        changed: false,
    };
    const BUSY_CHANGED: PollOutcome = PollOutcome {
        busy: true,
        changed: true,
    };
    const IDLE_CHANGED: PollOutcome = PollOutcome {
        busy: false,
        changed: true,
    };

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().copied().map(Duration::from_millis).collect()
    }

    #[test]
    fn the_pace_follows_the_task() {
        // (outcomes in order, waits expected after each)
        let cases: Vec<(&str, Vec<PollOutcome>, Vec<u64>)> = vec![
            (
                "fast, easing to 250 ms",
                vec![BUSY; 5],
                vec![200, 250, 250, 250, 250],
            ),
            (
                "a change while busy is fast again",
                vec![BUSY, BUSY, BUSY_CHANGED, BUSY],
                vec![200, 250, 100, 200],
            ),
            (
                "idle doubles to a minute",
                vec![IDLE; 9],
                vec![
                    1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000,
                ],
            ),
            (
                "a change while idle starts the idle pace over",
                vec![IDLE, IDLE, IDLE, IDLE_CHANGED, IDLE],
                vec![1_000, 2_000, 4_000, 1_000, 2_000],
            ),
            (
                "busy again after idle is fast at once",
                vec![IDLE, IDLE, IDLE, BUSY],
                vec![1_000, 2_000, 4_000, 100],
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
    fn a_send_resets_to_fast() {
        let mut schedule = PollSchedule::default();
        for _ in 0..20 {
            schedule.after_poll(IDLE);
        }
        assert_eq!(schedule.after_poll(IDLE), IDLE_LONGEST);
        schedule.reset();
        assert_eq!(schedule.after_poll(BUSY), Duration::from_millis(200));
        schedule.reset();
        assert_eq!(schedule.after_poll(IDLE), IDLE_FIRST);
    }

    /// An idle task polls only metadata unless it changed: count the polls
    /// in every minute once the pace has settled.
    #[test]
    fn an_idle_task_costs_at_most_two_requests_a_minute_once_settled() {
        let mut schedule = PollSchedule::default();
        let mut clock = Duration::ZERO;
        let mut poll_times = vec![clock];
        while clock < Duration::from_secs(3600) {
            clock += schedule.after_poll(IDLE);
            poll_times.push(clock);
        }
        // Settled: after the first two minutes.
        let settled = Duration::from_secs(120);
        let mut start = settled;
        while start + Duration::from_secs(60) <= clock {
            let end = start + Duration::from_secs(60);
            let requests = poll_times
                .iter()
                .filter(|t| **t >= start && **t < end)
                .count();
            assert!(
                requests <= 2,
                "{requests} requests in the minute from {start:?}"
            );
            start += Duration::from_secs(7);
        }
        // And it does keep polling (a minute apart).
        let last_hour = poll_times.iter().filter(|t| **t >= settled).count();
        assert!(last_hour >= 55, "{last_hour}");
    }
}
