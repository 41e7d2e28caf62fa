//! Bertier, Marin and Sens's adaptive detector ("Implementation and performance
//! evaluation of an adaptable failure detector", DSN 2002, §3): Chen's expected arrival
//! `EA` from the last `n` heartbeats (see [`super::nfd_e`]) plus a safety margin that
//! Jacobson's RTT estimator adapts after every heartbeat `k`:
//!
//! ```text
//! error_k     = A_k − EA_k − delay_k
//! delay_{k+1} = delay_k + γ·error_k
//! var_{k+1}   = var_k + γ·(|error_k| − var_k)
//! α_{k+1}     = β·delay_{k+1} + φ·var_{k+1}
//! τ_{k+1}     = EA_{k+1} + α_{k+1}
//! ```
//!
//! with the paper's β = 1, φ = 4, γ = 0.1, `delay` and `var` starting at 0. `EA_k` is the
//! estimate before heartbeat `k` is learnt (the first heartbeat has none and updates
//! nothing). Under constant delay every estimate is exact, so every error and the margin
//! stay 0; under delay jitter the margin settles near φ times the mean absolute error.

use super::freshness::{clamp_time, expected, ArrivalWindows, Estimator, Freshness};
use super::{KindConfig, KnownSchedule, Rejoin};
use crate::base::time::SimDuration;

/// A `bertier` detector's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bertier {
    /// n: how many heartbeats the expected arrival is estimated from.
    pub window: u32,
    /// β: weight of the estimated delay in the margin.
    pub beta: f64,
    /// φ: weight of the estimated variation in the margin.
    pub phi: f64,
    /// γ: gain of the estimator.
    pub gamma: f64,
}

impl KindConfig for Bertier {
    fn kind_name(&self) -> &'static str {
        "bertier"
    }

    fn typical_period(&self) -> u64 {
        1_000_000_000
    }

    super::freshness::freshness_config!();

    fn fixed_bytes_per_client(&self) -> u64 {
        (std::mem::size_of::<super::freshness::Watch>()
            + ArrivalWindows::bytes_per_client(self.window) as usize
            + std::mem::size_of::<Jacobson>()) as u64
    }
}

/// One client's Jacobson estimator.
#[derive(Clone, Copy, Debug, Default)]
pub struct Jacobson {
    /// The estimated delay beyond the expected arrival, ns.
    pub delay: f64,
    /// The estimated variation, ns.
    pub var: f64,
}

impl Jacobson {
    /// Learns from a heartbeat that arrived `late` ns after its expected arrival.
    #[inline]
    pub fn learn(&mut self, late: f64, c: &Bertier) {
        let error = late - self.delay;
        self.delay += c.gamma * error;
        self.var += c.gamma * (error.abs() - self.var);
    }

    /// The margin α, ns.
    #[inline]
    pub fn margin(&self, c: &Bertier) -> f64 {
        c.beta * self.delay + c.phi * self.var
    }
}

/// Each client's window and estimator, and the settings.
#[derive(Clone, Debug)]
pub struct Adaptive {
    params: Bertier,
    windows: ArrivalWindows,
    estimators: Vec<Jacobson>,
}

impl Adaptive {
    /// Client `ci`'s current margin α, ns.
    pub fn margin(&self, ci: usize) -> f64 {
        self.estimators[ci].margin(&self.params)
    }
}

impl Estimator for Adaptive {
    fn next_point(&mut self, ci: usize, seq: u64, now: u64, schedule: &KnownSchedule) -> u64 {
        let j = &mut self.estimators[ci];
        if let Some(mean) = self.windows.mean(ci) {
            let ea = expected(mean, seq, schedule.interval);
            j.learn((now as i128 - ea) as f64, &self.params);
        }
        self.windows.push(ci, now, seq, schedule.interval);
        let mean = self.windows.mean(ci).expect("a sample was just added");
        let ea = expected(mean, seq + 1, schedule.interval);
        clamp_time(ea + libm::round(j.margin(&self.params)) as i128)
    }

    fn forget(&mut self, ci: usize) {
        self.windows.clear(ci);
        self.estimators[ci] = Jacobson::default();
    }
}

/// A Bertier detector watching every client.
pub type State = Freshness<Adaptive>;

/// A Bertier detector of `clients` clients.
pub fn state(c: &Bertier, clients: usize) -> State {
    let estimator = Adaptive {
        params: *c,
        windows: ArrivalWindows::new(clients, c.window as usize),
        estimators: vec![Jacobson::default(); clients],
    };
    Freshness::new(estimator, clients)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::rng;

    const MS: u64 = 1_000_000;
    const S: u64 = 1_000 * MS;

    const PAPER: Bertier = Bertier {
        window: 100,
        beta: 1.0,
        phi: 4.0,
        gamma: 0.1,
    };

    /// Feeds heartbeats `0..n` sent each second and delayed by `delay(k)`; returns the
    /// mean margin over the last half.
    fn mean_margin(n: u64, mut delay: impl FnMut(u64) -> u64) -> f64 {
        let mut a = Adaptive {
            params: PAPER,
            windows: ArrivalWindows::new(1, PAPER.window as usize),
            estimators: vec![Jacobson::default()],
        };
        let schedule = KnownSchedule {
            origin: 0,
            first: 0,
            interval: S,
        };
        let mut sum = 0.0;
        for k in 0..n {
            let at = k * S + delay(k);
            let tau = a.next_point(0, k, at, &schedule);
            let ea = expected(a.windows.mean(0).unwrap(), k + 1, S);
            assert_eq!(tau as i128, ea + libm::round(a.margin(0)) as i128);
            if k >= n / 2 {
                sum += a.margin(0);
            }
        }
        sum / (n - n / 2) as f64
    }

    #[test]
    fn under_constant_delay_every_estimate_is_exact_and_the_margin_is_zero() {
        assert_eq!(mean_margin(500, |_| 20 * MS), 0.0);
    }

    #[test]
    fn under_uniform_jitter_the_margin_settles_near_the_jitter_width() {
        // Delay U[10 ms, 10 ms + w]. Once the window is full, the error is the delay's
        // deviation Y ~ U[−w/2, w/2] less the small noise N of the window mean (sd
        // w/√1200) and of the estimated delay (sd ≈ √(γ/(2−γ))·w/√12 ≈ 0.066·w), so
        // E|error| = w/4 + E[N²]/w ≈ 0.255·w, var settles there, delay near 0, and
        // α = β·delay + φ·var ≈ 1.02·w. Tolerance ±6 % for the 20 000 draws.
        for w in [20 * MS, 40 * MS] {
            let mut r = rng::stream([42; 32], w as u32);
            let m = mean_margin(40_000, |_| 10 * MS + rng::between(&mut r, 0, w));
            let ratio = m / w as f64;
            assert!((0.96..1.08).contains(&ratio), "w {w}: α/w = {ratio}");
        }
    }
}
