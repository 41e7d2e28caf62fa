//! The φ accrual failure detector (Hayashibara et al., SRDS 2004) as Akka and Cassandra
//! implement it: each client's window of inter-arrival times gives, after every heartbeat,
//! the elapsed time at which φ reaches the threshold (its *critical* time), and the passive
//! deadline machinery convicts at the first scan at or after it.
//!
//! Akka (`PhiAccrualFailureDetector.scala`): normal distribution with the logistic
//! approximation of its CDF, history bootstrapped with mean ± mean/4 of the first estimate,
//! a floor on the standard deviation, an acceptable pause added to the mean, and intervals
//! added only while the client is available. The critical time solves a monotone cubic
//! exactly (Cardano). Cassandra (`FailureDetector.java`): exponential, φ = Δt / mean / ln 10,
//! intervals above `max_interval` ignored, and no convictions right after a local pause.

use super::passive::{Passive, Rule, Scans, Thresholds};
use super::{Elapsed, Heard, KindConfig, Rejoin, NEVER};
use crate::base::time::SimDuration;
use std::collections::VecDeque;

/// How phi is computed from the window of inter-arrival times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhiVariant {
    /// Akka: φ = −log10(1 − F(Δt)) with F the logistic approximation of the normal CDF.
    Normal,
    /// Cassandra: φ = Δt / mean / ln 10.
    Exponential,
}

/// A `phi-accrual` detector's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PhiAccrual {
    /// Time between scans, ns; 0 checks continuously.
    pub scan_interval: SimDuration,
    /// Offset of the scan grid.
    pub scan_phase: SimDuration,
    /// φ at which a client is offline.
    pub threshold: f64,
    /// Akka's or Cassandra's formula.
    pub variant: PhiVariant,
    /// Inter-arrival times kept per client.
    pub max_sample_size: u32,
    /// Floor of the standard deviation (normal variant).
    pub min_std_deviation: SimDuration,
    /// Added to the mean (normal variant).
    pub acceptable_heartbeat_pause: SimDuration,
    /// The mean before any interval is known.
    pub first_heartbeat_estimate: SimDuration,
    /// Exponential variant: longer intervals are not added to the window.
    pub max_interval: SimDuration,
    /// Exponential variant: after a server stall longer than this, the catch-up scan
    /// convicts nobody (Cassandra's local-pause guard).
    pub local_pause: SimDuration,
    /// What happens when an offline client is heard from again.
    pub rejoin: Rejoin,
}

impl KindConfig for PhiAccrual {
    fn kind_name(&self) -> &'static str {
        "phi-accrual"
    }

    fn typical_period(&self) -> u64 {
        self.first_heartbeat_estimate.as_nanos() + self.acceptable_heartbeat_pause.as_nanos()
    }

    fn seconds_per_event(&self) -> f64 {
        // Phi re-arms a check on every heartbeat.
        self.first_heartbeat_estimate.as_secs_f64()
    }

    fn scanning(&self) -> (SimDuration, SimDuration, Rejoin) {
        (self.scan_interval, self.scan_phase, self.rejoin)
    }

    fn arrivals_only_move_deadlines(&self) -> bool {
        false // phi learns from every arrival
    }

    fn reads_sequence(&self) -> bool {
        // Cassandra reports a heartbeat to its detector only when its version grows.
        self.variant == PhiVariant::Exponential
    }

    fn no_closed_forms(&self) -> Option<&'static str> {
        Some("phi accrual adapts its threshold to the observed heartbeats")
    }

    fn growing_bytes_per_client(&self, duration: u64, interval: u64) -> u64 {
        // The window fills to `max_sample_size` intervals, or one per heartbeat of the
        // run; a `VecDeque` grows by doubling, and the buffers it outgrew stay in the
        // process's heap, so count twice its final capacity.
        let samples = (self.max_sample_size as u64).min(duration / interval.max(1) + 2);
        2 * samples.next_power_of_two() * std::mem::size_of::<u64>() as u64
    }
}

/// One client's window of inter-arrival times.
#[derive(Clone, Debug)]
pub struct PhiWindow {
    intervals: VecDeque<u64>,
    sum: u128,
    sum_squares: u128,
    /// The previous arrival, or `NEVER`.
    last: u64,
    /// Exponential variant: the highest heartbeat number taken into account (`NEVER`
    /// before any) and the first number of its incarnation.
    best: u64,
    first: u64,
    /// Elapsed time at which φ reaches the threshold, ns.
    pub critical: u64,
}

impl PhiWindow {
    /// The window before any heartbeat (Akka's bootstrap for the normal variant).
    pub fn new(p: &PhiAccrual) -> Self {
        let mut w = PhiWindow {
            intervals: VecDeque::new(),
            sum: 0,
            sum_squares: 0,
            last: NEVER,
            best: NEVER,
            first: 0,
            critical: 0,
        };
        if p.variant == PhiVariant::Normal {
            // Akka bootstraps the history with mean ± mean/4 of the first estimate.
            let mean = p.first_heartbeat_estimate.as_nanos();
            w.push(mean - mean / 4, p);
            w.push(mean + mean / 4, p);
        }
        w.critical = w.compute_critical(p);
        w
    }

    fn push(&mut self, interval: u64, p: &PhiAccrual) {
        if self.intervals.len() == p.max_sample_size as usize {
            let old = self.intervals.pop_front().expect("a full window") as u128;
            self.sum -= old;
            self.sum_squares -= old * old;
        }
        self.intervals.push_back(interval);
        self.sum += interval as u128;
        self.sum_squares += interval as u128 * interval as u128;
    }

    /// Records a heartbeat arriving at `now` and updates the critical elapsed time.
    pub fn arrive(&mut self, now: u64, p: &PhiAccrual) {
        if self.last != NEVER {
            let interval = now - self.last;
            let keep = match p.variant {
                // An interval that ends while φ is at or above the threshold would skew
                // the statistics (Akka adds only while the client is available).
                PhiVariant::Normal => interval < self.critical,
                PhiVariant::Exponential => interval <= p.max_interval.as_nanos(),
            };
            if keep {
                self.push(interval, p);
            }
        }
        self.last = now;
        self.critical = self.compute_critical(p);
    }

    fn compute_critical(&self, p: &PhiAccrual) -> u64 {
        let n = self.intervals.len() as f64;
        let mean = if self.intervals.is_empty() {
            p.first_heartbeat_estimate.as_nanos() as f64
        } else {
            self.sum as f64 / n
        };
        let critical = match p.variant {
            PhiVariant::Normal => {
                let variance = (self.sum_squares as f64 / n - mean * mean).max(0.0);
                let sd = libm::sqrt(variance).max(p.min_std_deviation.as_nanos() as f64);
                let m = mean + p.acceptable_heartbeat_pause.as_nanos() as f64;
                m + phi_normal_y(p.threshold) * sd
            }
            // Cassandra convicts when Δt / mean / ln 10 exceeds the threshold.
            PhiVariant::Exponential => p.threshold * std::f64::consts::LN_10 * mean,
        };
        libm::round(critical.max(0.0)) as u64
    }
}

/// The standardised elapsed time y at which Akka's φ reaches `threshold`:
/// φ = −log10(e / (1 + e)) with e = exp(−y(1.5976 + 0.070566 y²)), so
/// 0.070566 y³ + 1.5976 y = ln(10^φ − 1), a monotone cubic solved by Cardano's formula.
pub fn phi_normal_y(threshold: f64) -> f64 {
    let target = libm::log(libm::pow(10.0, threshold) - 1.0);
    let (a, c) = (0.070566, 1.5976);
    let (p, q) = (c / a, -target / a);
    let d = libm::sqrt(q * q / 4.0 + p * p * p / 27.0);
    libm::cbrt(-q / 2.0 + d) + libm::cbrt(-q / 2.0 - d)
}

/// Each client's window, and the settings.
#[derive(Clone, Debug)]
pub struct Windows {
    params: PhiAccrual,
    fresh: PhiWindow,
    windows: Vec<PhiWindow>,
}

impl Thresholds for Windows {
    #[inline]
    fn threshold(&self, ci: usize) -> u64 {
        self.windows[ci].critical
    }
    #[inline]
    fn arrived<H: Heard>(
        &mut self,
        ci: usize,
        now: u64,
        seq: u64,
        online: bool,
        heard: &mut H,
    ) -> bool {
        if self.params.variant == PhiVariant::Exponential {
            // Cassandra (`Gossiper.notifyFailureDetector`) reports an endpoint to the
            // detector only when its heartbeat state is newer: a higher generation (a
            // restart; the intervals of an endpoint it had marked down are removed and
            // relearnt) or, in the same generation, a higher version. A duplicate or an
            // overtaken heartbeat is not reported at all.
            let schedule = heard.schedule(ci);
            let w = &self.windows[ci];
            if seq < schedule.first
                || (w.best != NEVER && w.first == schedule.first && seq <= w.best)
            {
                return false;
            }
            if w.best != NEVER && w.first != schedule.first && !online {
                self.windows[ci] = self.fresh.clone();
            }
            let w = &mut self.windows[ci];
            w.best = seq;
            w.first = schedule.first;
        }
        self.windows[ci].arrive(now, &self.params);
        true
    }
    #[inline]
    fn own_base(&self, ci: usize) -> Option<i64> {
        let last = self.windows[ci].last;
        (last != NEVER).then_some(last as i64)
    }
    fn monotonic(&self) -> bool {
        true // Akka and Cassandra measure with a monotonic clock
    }
    fn moving(&self) -> bool {
        true
    }
    fn convicts_after_stall(&self, stall: u64) -> bool {
        // Cassandra does not convict right after its own process was paused.
        !(self.params.variant == PhiVariant::Exponential
            && stall > self.params.local_pause.as_nanos())
    }
    fn forget(&mut self, ci: usize) {
        self.windows[ci] = self.fresh.clone();
    }
}

/// A phi-accrual detector watching every client: the passive machinery with each
/// client's critical time from its window.
pub type State = Passive<Windows>;

/// A phi-accrual detector of `clients` clients in a run ending at `end` ns.
pub fn state(p: &PhiAccrual, clients: usize, end: u64) -> State {
    let rule = Rule {
        scans: Scans::grid(p.scan_interval.as_nanos(), p.scan_phase.as_nanos()),
        rejoin: p.rejoin,
        elapsed: Elapsed::Total,
        threshold_whole_secs: 0,
    };
    let fresh = PhiWindow::new(p);
    let windows = Windows {
        params: *p,
        windows: vec![fresh.clone(); clients],
        fresh,
    };
    Passive::new(rule, windows, clients, end)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{feed, Fixed, RUNNING};
    use super::super::{Detector, DetectorKind, Effect, Input, WakeClass, WorldEvent};
    use super::*;

    const MS: u64 = 1_000_000;
    const S: u64 = 1_000 * MS;

    fn akka(pause: u64) -> PhiAccrual {
        PhiAccrual {
            scan_interval: SimDuration::ZERO,
            scan_phase: SimDuration::ZERO,
            threshold: 8.0,
            variant: PhiVariant::Normal,
            max_sample_size: 1000,
            min_std_deviation: SimDuration::from_millis(100),
            acceptable_heartbeat_pause: SimDuration::from_nanos(pause),
            first_heartbeat_estimate: SimDuration::from_secs(1),
            max_interval: SimDuration::ZERO,
            local_pause: SimDuration::ZERO,
            rejoin: Rejoin::Announce,
        }
    }

    #[test]
    fn the_cubic_solution_gives_phi_its_threshold() {
        for threshold in [1.0, 3.0, 8.0, 12.0] {
            let y = phi_normal_y(threshold);
            let e = libm::exp(-y * (1.5976 + 0.070566 * y * y));
            let phi = -libm::log10(e / (1.0 + e));
            assert!((phi - threshold).abs() < 1e-9, "{threshold}: {phi}");
        }
    }

    #[test]
    fn akkas_cluster_defaults_settle_at_the_documented_critical_time() {
        // Bootstrap 750 ms and 1250 ms: mean 1 s, sd 250 ms; critical = 1 s + 3 s pause +
        // y(8)·250 ms.
        let p = akka(3 * S);
        let mut w = PhiWindow::new(&p);
        assert_eq!(
            w.critical,
            libm::round(4.0e9 + phi_normal_y(8.0) * 250e6) as u64
        );
        // After a full window of exact 1 s heartbeats the sd is at its 100 ms floor:
        // 4 s + y(8)·100 ms ≈ 4.52 s, Akka's cluster defaults.
        for k in 0..=1000 {
            w.arrive(k * S, &p);
        }
        assert_eq!(
            w.critical,
            libm::round(4.0e9 + phi_normal_y(8.0) * 100e6) as u64
        );
        assert!(
            (4_520 * MS..4_525 * MS).contains(&w.critical),
            "{}",
            w.critical
        );
    }

    #[test]
    fn intervals_ending_past_the_critical_time_are_not_learnt() {
        let p = akka(0);
        let mut w = PhiWindow::new(&p);
        w.arrive(0, &p);
        let before = w.critical;
        // A 10 s gap is far past the critical time: the window stays as it was.
        w.arrive(10 * S, &p);
        assert_eq!(w.critical, before);
        // A 1 s gap is learnt.
        w.arrive(11 * S, &p);
        assert_ne!(w.critical, before);
    }

    #[test]
    fn cassandra_convicts_at_threshold_times_ln10_times_the_mean_and_not_after_a_pause() {
        let p = PhiAccrual {
            variant: PhiVariant::Exponential,
            max_interval: SimDuration::from_secs(2),
            local_pause: SimDuration::from_secs(5),
            ..akka(0)
        };
        let w = PhiWindow::new(&p);
        assert_eq!(
            w.critical,
            libm::round(8.0 * std::f64::consts::LN_10 * 1e9) as u64
        );
        let mut d = Detector::new(&DetectorKind::PhiAccrual(p), 1, 1000 * S, &mut |_| 0);
        let mut heard = Fixed(vec![0]);
        let beat = Input::Heartbeat {
            clock_stepped: false,
            seq: 0,
        };
        let out = feed(&mut d, 0, 0, beat, RUNNING, &mut heard);
        assert_eq!(
            out,
            vec![
                Effect::Online,
                Effect::Wake {
                    at: w.critical,
                    class: WakeClass::Evaluate,
                    tag: 0
                }
            ]
        );
        // A 30 s stall ends at 30 s: overdue, but longer than the local pause, so the
        // catch-up scan re-arms instead of convicting.
        let stall = Input::World(WorldEvent::StallEnded { stall: 30 * S });
        let out = feed(&mut d, 30 * S, 0, stall, RUNNING, &mut heard);
        assert_eq!(
            out,
            vec![Effect::Wake {
                at: 30 * S + 1,
                class: WakeClass::Evaluate,
                tag: 0
            }]
        );
        // A 3 s stall convicts.
        let stall = Input::World(WorldEvent::StallEnded { stall: 3 * S });
        let out = feed(&mut d, 40 * S, 0, stall, RUNNING, &mut heard);
        assert_eq!(out, vec![Effect::Offline { window: w.critical }]);
    }
}
