//! The sample's scanner: at each scan, a known online client whose last heartbeat is at
//! least `threshold` old becomes offline. With `scan_interval` 0 it checks continuously
//! (an exact deadline per client). The seconds-component rule reproduces the C# sample's
//! `TimeSpan.Seconds` bug: only the seconds part of the silence (modulo a minute) counts.

use super::passive::{Passive, Rule, Thresholds};
use super::{Heard, KindConfig, Rejoin};
use crate::base::time::SimDuration;

/// A `fixed-timeout` detector's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedTimeout {
    /// Zero means continuous checking: an exact per-client deadline.
    pub scan_interval: SimDuration,
    /// Offset of the scan grid.
    pub scan_phase: SimDuration,
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

/// A fixed-timeout detector of `clients` clients in a run ending at `end` ns.
pub fn state(c: &FixedTimeout, clients: usize, end: u64) -> State {
    let threshold = c.threshold.as_nanos();
    let rule = Rule {
        scan_interval: c.scan_interval.as_nanos(),
        scan_phase: c.scan_phase.as_nanos(),
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
            threshold: SimDuration::from_nanos(threshold),
            elapsed,
            rejoin: Rejoin::Announce,
        };
        Detector::new(&DetectorKind::FixedTimeout(c), 1, end)
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
