//! The sample's scanner: at each scan, a known online client whose last heartbeat is at
//! least `threshold` old becomes offline. With `scan_interval` 0 it checks continuously
//! (an exact deadline per client). The seconds-component rule reproduces the C# sample's
//! `TimeSpan.Seconds` bug: only the seconds part of the silence (modulo a minute) counts.
//!
//! The scanner's own timer: `fixed-rate` scans at `scan_phase + k·scan_interval`;
//! `fixed-delay` is the sample's `Thread.Sleep` loop, each scan `scan_interval` plus the
//! wake-up's overshoot after the previous one, so lateness accumulates. A timer
//! resolution rounds each expiry up onto a grid of that step on the virtual clock, shared
//! by every timer that has it (Windows wakes sleeping threads on its 15.625 ms system
//! tick: `timeBeginPeriod`, and Microsoft's "Timer Resolution" notes on `Sleep`).

use super::passive::{round_up, Passive, Rule, Scans, Thresholds};
use super::{Heard, KindConfig, Rejoin};
use crate::base::rng::Dist;
use crate::base::time::SimDuration;
use crate::model::client::Schedule;

/// A `fixed-timeout` detector's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct FixedTimeout {
    /// Zero means continuous checking: an exact per-client deadline.
    pub scan_interval: SimDuration,
    /// Offset of the scan grid.
    pub scan_phase: SimDuration,
    /// Fixed-rate grid, or a `Sleep` loop.
    pub scan_schedule: Schedule,
    /// Lateness of each wake-up of the scanner's timer.
    pub scan_overshoot: Option<Dist>,
    /// Timer expiries round up to a multiple of this; zero for none.
    pub timer_resolution: SimDuration,
    /// Silence after which a client is offline.
    pub threshold: SimDuration,
    /// How the silence is read.
    pub elapsed: Elapsed,
    /// What happens when an offline client is heard from again.
    pub rejoin: Rejoin,
}

/// How a scanner reads a client's silence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elapsed {
    /// The whole elapsed time.
    Total,
    /// `TimeSpan.Seconds`: whole seconds of the elapsed time modulo 60.
    SecondsComponent,
}

impl KindConfig for FixedTimeout {
    fn kind_name(&self) -> &'static str {
        "fixed-timeout"
    }

    fn typical_period(&self) -> u64 {
        self.threshold.as_nanos()
    }

    fn seconds_per_event(&self) -> f64 {
        // About one check per threshold per client; the seconds rule at least one a second.
        match self.elapsed {
            Elapsed::Total => self.threshold.as_secs_f64(),
            Elapsed::SecondsComponent => self.threshold.as_secs_f64().min(1.0),
        }
    }

    fn scanning(&self) -> (SimDuration, SimDuration, Rejoin) {
        (self.scan_interval, self.scan_phase, self.rejoin)
    }

    fn arrivals_only_move_deadlines(&self) -> bool {
        // Under the seconds rule a later heartbeat can move a check earlier.
        self.elapsed == Elapsed::Total
    }

    fn no_closed_forms(&self) -> Option<&'static str> {
        None
    }

    fn run_bytes(&self, duration: u64) -> u64 {
        match self.scan_overshoot {
            Some(Dist::Constant { .. }) | None => 0,
            // Every scan instant of the run, listed.
            Some(_) => 8 * (duration / self.scan_interval.as_nanos().max(1) + 2),
        }
    }
}

impl FixedTimeout {
    /// The scanner's schedule as a grid, or the overshoot distribution of a `Sleep` loop
    /// that draws it afresh at each wake-up (its scans are no grid).
    pub fn scan_grid(&self) -> Result<Scans, &Dist> {
        let (i, phase) = (self.scan_interval.as_nanos(), self.scan_phase.as_nanos());
        let r = self.timer_resolution.as_nanos().max(1);
        match (self.scan_schedule, &self.scan_overshoot) {
            (Schedule::FixedRate, _) => Ok(Scans::Grid {
                first: phase.saturating_add(i),
                period: i,
                resolution: r,
            }),
            (Schedule::FixedDelay, None) => Ok(Scans::Grid {
                first: round_up(phase.saturating_add(i), r),
                period: round_up(i, r),
                resolution: r,
            }),
            (Schedule::FixedDelay, Some(Dist::Constant { value })) => Ok(Scans::Grid {
                first: round_up(phase.saturating_add(i).saturating_add(*value), r),
                period: round_up(i.saturating_add(*value), r),
                resolution: r,
            }),
            (Schedule::FixedDelay, Some(d)) => Err(d),
        }
    }

    /// The longest gap between two scans, ns, when it is bounded (`o_max` is the
    /// overshoot's bound when it has one).
    pub fn max_scan_gap(&self, o_max: Option<u64>) -> Option<u64> {
        let (i, r) = (
            self.scan_interval.as_nanos(),
            self.timer_resolution.as_nanos(),
        );
        match self.scan_schedule {
            // Rounding moves each scan later by less than one step.
            Schedule::FixedRate => Some(i + r),
            Schedule::FixedDelay => o_max.map(|o| i + o + r),
        }
    }

    /// Every scan instant of a `Sleep` loop whose wake-up `k` is `overshoot()` late, from
    /// the first up to the first at or after `end`.
    pub fn scan_list(&self, end: u64, overshoot: &mut dyn FnMut() -> u64) -> Vec<u64> {
        let (i, r) = (
            self.scan_interval.as_nanos().max(1),
            self.timer_resolution.as_nanos().max(1),
        );
        let mut at = Vec::with_capacity((end / i) as usize + 2);
        let mut t = self.scan_phase.as_nanos();
        loop {
            t = round_up(t.saturating_add(i).saturating_add(overshoot()), r);
            at.push(t);
            if t >= end {
                return at;
            }
        }
    }
}

/// A fixed threshold for every client, ns.
#[derive(Clone, Copy, Debug)]
pub struct Fixed(u64);

impl Thresholds for Fixed {
    #[inline]
    fn threshold(&self, _: usize) -> u64 {
        self.0
    }
    #[inline]
    fn arrived<H: Heard>(&mut self, _: usize, _: u64, _: u64, _: bool, _: &mut H) -> bool {
        true
    }
    #[inline]
    fn monotonic(&self) -> bool {
        false
    }
    #[inline]
    fn moving(&self) -> bool {
        false
    }
    fn convicts_after_stall(&self, _: u64) -> bool {
        true
    }
    fn forget(&mut self, _: usize) {}
}

/// A fixed-timeout detector watching every client: the passive machinery with one
/// threshold for all.
pub type State = Passive<Fixed>;

/// A fixed-timeout detector of `clients` clients in a run ending at `end` ns; `overshoot`
/// draws the lateness of each wake-up of a `Sleep` loop whose overshoot is not constant.
pub fn state(
    c: &FixedTimeout,
    clients: usize,
    end: u64,
    overshoot: &mut dyn FnMut(&Dist) -> u64,
) -> State {
    let threshold = c.threshold.as_nanos();
    let scans = match c.scan_grid() {
        Ok(grid) => grid,
        Err(d) => Scans::Listed(c.scan_list(end, &mut || overshoot(d))),
    };
    let rule = Rule {
        scans,
        rejoin: c.rejoin,
        elapsed: c.elapsed,
        threshold_whole_secs: threshold.div_ceil(1_000_000_000) as i64,
    };
    Passive::new(rule, Fixed(threshold), clients, end)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{feed, Fixed as Heard, RUNNING};
    use super::super::{
        Detector, DetectorKind, Effect, Host, Input, Status, WakeClass, WorldEvent,
    };
    use super::*;

    const S: u64 = 1_000_000_000;

    fn detector(scan: u64, threshold: u64, elapsed: Elapsed, end: u64) -> Detector {
        let c = FixedTimeout {
            scan_interval: SimDuration::from_nanos(scan),
            scan_phase: SimDuration::ZERO,
            scan_schedule: Schedule::FixedRate,
            scan_overshoot: None,
            timer_resolution: SimDuration::ZERO,
            threshold: SimDuration::from_nanos(threshold),
            elapsed,
            rejoin: Rejoin::Announce,
        };
        Detector::new(&DetectorKind::FixedTimeout(c), 1, end, &mut |_| 0)
    }

    fn check(at: u64) -> Effect {
        Effect::Wake {
            at,
            class: WakeClass::Evaluate,
            tag: 0,
        }
    }

    const TIMER: Input = Input::Timer {
        class: WakeClass::Evaluate,
        tag: 0,
    };
    const BEAT: Input = Input::Heartbeat {
        seq: 0,
        clock_stepped: false,
    };

    #[test]
    fn first_heartbeat_makes_online_and_arms_the_first_scan_past_the_threshold() {
        // Heard at 0.2 s, 3 s threshold, scans every second: overdue from 3.2 s, so the
        // check is the scan at 4 s.
        let mut d = detector(S, 3 * S, Elapsed::Total, 100 * S);
        let mut heard = Heard(vec![200_000_000]);
        let out = feed(&mut d, 200_000_000, 0, BEAT, RUNNING, &mut heard);
        assert_eq!(out, vec![Effect::Online, check(4 * S)]);
        assert_eq!(d.status(0), Status::Online);
        // A later heartbeat leaves the armed check alone (it can only move later).
        let out = feed(&mut d, 1_200_000_000, 0, BEAT, RUNNING, &mut heard);
        assert_eq!(out, vec![]);
    }

    #[test]
    fn a_check_re_arms_for_a_moved_deadline_and_convicts_when_overdue() {
        let mut d = detector(S, 3 * S, Elapsed::Total, 100 * S);
        let mut heard = Heard(vec![200_000_000]);
        feed(&mut d, 200_000_000, 0, BEAT, RUNNING, &mut heard);
        // By 4 s the client was heard at 2.2 s: not overdue, next due at 6 s (5.2 s → 6 s).
        heard.0[0] = 2_200_000_000;
        let out = feed(&mut d, 4 * S, 0, TIMER, RUNNING, &mut heard);
        assert_eq!(out, vec![check(6 * S)]);
        // A stale check (not the armed instant) does nothing.
        assert_eq!(feed(&mut d, 5 * S, 0, TIMER, RUNNING, &mut heard), vec![]);
        // At 6 s the silence is 3.8 s: offline, with the threshold as the fault window.
        let out = feed(&mut d, 6 * S, 0, TIMER, RUNNING, &mut heard);
        assert_eq!(out, vec![Effect::Offline { window: 3 * S }]);
        assert_eq!(d.status(0), Status::Offline);
        // Announce: the next heartbeat brings it back.
        let out = feed(&mut d, 7 * S, 0, BEAT, RUNNING, &mut heard);
        assert_eq!(out, vec![Effect::Online, check(10 * S)]);
    }

    #[test]
    fn a_stalled_or_dead_server_skips_its_checks() {
        let mut d = detector(0, 3 * S, Elapsed::Total, 100 * S);
        let mut heard = Heard(vec![0]);
        assert_eq!(
            feed(&mut d, 0, 0, BEAT, RUNNING, &mut heard),
            vec![Effect::Online, check(3 * S)]
        );
        let stalled = Host {
            up: true,
            running: false,
            sending: false,
        };
        assert_eq!(feed(&mut d, 3 * S, 0, TIMER, stalled, &mut heard), vec![]);
        // The catch-up scan at the end of the stall convicts.
        let out = feed(
            &mut d,
            5 * S,
            0,
            Input::World(WorldEvent::StallEnded { stall: 2 * S }),
            RUNNING,
            &mut heard,
        );
        assert_eq!(out, vec![Effect::Offline { window: 3 * S }]);
    }

    #[test]
    fn the_seconds_component_hides_silences_past_a_minute() {
        // Heard at 0; threshold 3 s read as TimeSpan.Seconds; scans every 61 s: at 61 s the
        // component is 1, at 122 s 2, at 183 s 3 → overdue.
        let mut d = detector(61 * S, 3 * S, Elapsed::SecondsComponent, 1000 * S);
        let mut heard = Heard(vec![0]);
        let out = feed(&mut d, 0, 0, BEAT, RUNNING, &mut heard);
        assert_eq!(out, vec![Effect::Online, check(183 * S)]);
    }

    #[test]
    fn a_server_crash_forgets_the_client() {
        let mut d = detector(S, 3 * S, Elapsed::Total, 100 * S);
        let mut heard = Heard(vec![0]);
        feed(&mut d, 0, 0, BEAT, RUNNING, &mut heard);
        let out = feed(
            &mut d,
            S,
            0,
            Input::World(WorldEvent::ServerCrashed),
            RUNNING,
            &mut heard,
        );
        assert_eq!(out, vec![]);
        assert_eq!(d.status(0), Status::Unknown);
        // Its old check is stale now; the next heartbeat is a first contact again.
        assert_eq!(feed(&mut d, 4 * S, 0, TIMER, RUNNING, &mut heard), vec![]);
        assert_eq!(
            feed(&mut d, 5 * S, 0, BEAT, RUNNING, &mut heard),
            vec![Effect::Online, check(8 * S)]
        );
    }
}
