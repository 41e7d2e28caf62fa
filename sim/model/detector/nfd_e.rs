//! Chen, Toueg and Aguilera's NFD-E ("On the Quality of Service of Failure Detectors",
//! IEEE Trans. Computers 51(5), 2002, §6, Fig. 9): without synchronized clocks, the
//! expected arrival of the next heartbeat is estimated from the last `n` received,
//! `EA_{l+1} = (1/n)·Σ (A_i − η·s_i) + (l+1)·η` (`A_i` the arrival time on the server's
//! clock, `s_i` the sequence number, `η` the heartbeat interval), and the freshness point
//! is `τ_{l+1} = EA_{l+1} + α`. The window holds the heartbeats that raised the highest
//! number received (a duplicate or an overtaken heartbeat is not learnt from).
//!
//! Under constant delay `d` and an exact fixed-rate schedule every sample is the same,
//! so `EA_{l+1} = σ_{l+1} + d` from the first heartbeat on and NFD-E behaves as NFD-S
//! with `δ = d + α`.

use super::freshness::{clamp_time, expected, ArrivalWindows, Estimator, Freshness};
use super::{KindConfig, KnownSchedule, Rejoin};
use crate::base::time::SimDuration;

/// An `nfd-e` detector's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NfdE {
    /// n: how many heartbeats the expected arrival is estimated from.
    pub window: u32,
    /// α: the safety margin added to the expected arrival.
    pub margin: SimDuration,
}

impl KindConfig for NfdE {
    fn kind_name(&self) -> &'static str {
        "nfd-e"
    }

    fn typical_period(&self) -> u64 {
        self.margin.as_nanos()
    }

    super::freshness::freshness_config!();

    fn fixed_bytes_per_client(&self) -> u64 {
        std::mem::size_of::<super::freshness::Watch>() as u64
            + ArrivalWindows::bytes_per_client(self.window)
    }
}

/// Each client's window and the settings.
#[derive(Clone, Debug)]
pub struct Expected {
    margin: u64,
    windows: ArrivalWindows,
}

impl Estimator for Expected {
    fn next_point(&mut self, ci: usize, seq: u64, now: u64, schedule: &KnownSchedule) -> u64 {
        self.windows.push(ci, now, seq, schedule.interval);
        let mean = self.windows.mean(ci).expect("a sample was just added");
        clamp_time(expected(mean, seq + 1, schedule.interval) + self.margin as i128)
    }

    fn forget(&mut self, ci: usize) {
        self.windows.clear(ci);
    }
}

/// An NFD-E detector watching every client.
pub type State = Freshness<Expected>;

/// An NFD-E detector of `clients` clients.
pub fn state(c: &NfdE, clients: usize) -> State {
    let estimator = Expected {
        margin: c.margin.as_nanos(),
        windows: ArrivalWindows::new(clients, c.window as usize),
    };
    Freshness::new(estimator, clients)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{beat, feed, wake, Fixed, RUNNING, TIMER};
    use super::super::{Detector, DetectorKind, Effect};
    use super::*;

    const MS: u64 = 1_000_000;
    const S: u64 = 1_000 * MS;

    #[test]
    fn the_freshness_point_is_the_window_mean_plus_the_margin() {
        let kind = DetectorKind::NfdE(NfdE {
            window: 2,
            margin: SimDuration::from_millis(300),
        });
        let mut d = Detector::new(&kind, 1, 100 * S, &mut |_| 0);
        let mut h = Fixed(vec![0]);
        // m_0 at 40 ms: EA_1 = 40 ms + 1 s, τ_1 = 1.34 s.
        let out = feed(&mut d, 40 * MS, 0, beat(0), RUNNING, &mut h);
        assert_eq!(out, vec![Effect::Online, wake(1_340 * MS)]);
        // m_1 at 1.06 s: samples 40 and 60 ms, EA_2 = 2.05 s, τ_2 = 2.35 s.
        let out = feed(&mut d, 1_060 * MS, 0, beat(1), RUNNING, &mut h);
        assert!(out.is_empty(), "{out:?}");
        let timer = TIMER;
        assert_eq!(
            feed(&mut d, 1_340 * MS, 0, timer, RUNNING, &mut h),
            vec![wake(2_350 * MS)]
        );
        // m_2 at 2.02 s: the window slides to (60, 20): EA_3 = 3.04 s, τ_3 = 3.34 s;
        // the wake at 2.35 s moves on to it.
        let out = feed(&mut d, 2_020 * MS, 0, beat(2), RUNNING, &mut h);
        assert!(out.is_empty(), "{out:?}");
        let out = feed(&mut d, 2_350 * MS, 0, timer, RUNNING, &mut h);
        assert_eq!(out, vec![wake(3_340 * MS)]);
    }
}
