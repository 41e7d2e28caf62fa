//! Chen, Toueg and Aguilera's NFD-S ("On the Quality of Service of Failure Detectors",
//! IEEE Trans. Computers 51(5), 2002, §5, Fig. 6): with synchronized clocks and a known
//! schedule, heartbeat `m_i` is sent at `σ_i` and the freshness points are
//! `τ_i = σ_i + δ`. At a time in `[τ_i, τ_{i+1})` the client is trusted iff some `m_j`
//! with `j ≥ i` has arrived; so after the highest heartbeat `m_l` received, it is trusted
//! until `τ_{l+1} = σ_{l+1} + δ`.
//!
//! `σ_i` is the client's nominal fixed-rate schedule ([`KnownSchedule`]): jitter, timer
//! overshoot, clock drift or a fixed-delay loop make the real sends later or earlier, and
//! `δ` must absorb that.

use super::freshness::{Estimator, Freshness};
use super::{KindConfig, KnownSchedule, Rejoin};
use crate::base::time::SimDuration;

/// An `nfd-s` detector's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NfdS {
    /// δ: how long after its scheduled send a heartbeat is still fresh.
    pub shift: SimDuration,
}

impl KindConfig for NfdS {
    fn kind_name(&self) -> &'static str {
        "nfd-s"
    }

    fn typical_period(&self) -> u64 {
        self.shift.as_nanos()
    }

    super::freshness::freshness_config!();

    fn fixed_bytes_per_client(&self) -> u64 {
        std::mem::size_of::<super::freshness::Watch>() as u64
    }
}

/// NFD-S's freshness points: the schedule plus the shift; nothing learnt.
#[derive(Clone, Copy, Debug)]
pub struct Shift(u64);

impl Estimator for Shift {
    #[inline]
    fn next_point(&mut self, _ci: usize, seq: u64, _now: u64, schedule: &KnownSchedule) -> u64 {
        schedule.at(seq + 1).saturating_add(self.0)
    }

    fn forget(&mut self, _ci: usize) {}
}

/// An NFD-S detector watching every client.
pub type State = Freshness<Shift>;

/// An NFD-S detector of `clients` clients.
pub fn state(c: &NfdS, clients: usize) -> State {
    Freshness::new(Shift(c.shift.as_nanos()), clients)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{beat, feed, wake, Fixed, RUNNING, TIMER};
    use super::super::{Detector, DetectorKind, Effect, Input, Status, WorldEvent};
    use super::*;

    const MS: u64 = 1_000_000;
    const S: u64 = 1_000 * MS;

    #[test]
    fn a_client_is_trusted_until_the_freshness_point_after_its_highest_heartbeat() {
        // Schedule: heartbeat s at s seconds; δ = 1.2 s.
        let kind = DetectorKind::NfdS(NfdS {
            shift: SimDuration::from_millis(1200),
        });
        let mut d = Detector::new(&kind, 1, 100 * S, &mut |_| 0);
        let mut h = Fixed(vec![0]);
        // m_0 arrives at 50 ms: trusted until τ_1 = 1 s + 1.2 s.
        let out = feed(&mut d, 50 * MS, 0, beat(0), RUNNING, &mut h);
        assert_eq!(out, vec![Effect::Online, wake(2_200 * MS)]);
        // m_1 is lost; m_2 arrives at 2.05 s (before τ_1): trusted until τ_3 = 4.2 s.
        let out = feed(&mut d, 2_050 * MS, 0, beat(2), RUNNING, &mut h);
        assert!(out.is_empty(), "{out:?}");
        // The wake at 2.2 s re-arms for 4.2 s.
        let out = feed(&mut d, 2_200 * MS, 0, TIMER, RUNNING, &mut h);
        assert_eq!(out, vec![wake(4_200 * MS)]);
        // A late m_1 changes nothing.
        assert!(feed(&mut d, 3 * S, 0, beat(1), RUNNING, &mut h).is_empty());
        // Nothing more: suspected at 4.2 s, the silence since 2.05 s.
        let out = feed(&mut d, 4_200 * MS, 0, TIMER, RUNNING, &mut h);
        assert_eq!(out, vec![Effect::Offline { window: 2_150 * MS }]);
        assert_eq!(d.status(0), Status::Offline);
        // m_3 arrives at 4.3 s, before its freshness point τ_4 = 5.2 s: trusted again.
        let out = feed(&mut d, 4_300 * MS, 0, beat(3), RUNNING, &mut h);
        assert_eq!(out, vec![Effect::Online, wake(5_200 * MS)]);
        // m_4 arriving after τ_5 = 6.2 s leaves it suspected.
        let out = feed(&mut d, 5_200 * MS, 0, TIMER, RUNNING, &mut h);
        assert_eq!(out.len(), 1);
        assert!(feed(&mut d, 6_300 * MS, 0, beat(4), RUNNING, &mut h).is_empty());
        assert_eq!(d.status(0), Status::Offline);
        // A server crash forgets everything.
        let crash = Input::World(WorldEvent::ServerCrashed);
        assert!(feed(&mut d, 7 * S, 0, crash, RUNNING, &mut h).is_empty());
        assert_eq!(d.status(0), Status::Unknown);
    }
}
