//! What the freshness-point detectors (`nfd-s`, `nfd-e`, `bertier`) share: Chen, Toueg
//! and Aguilera's rule (IEEE Trans. Computers 51(5), 2002, §5–6) of trusting a client
//! until the next freshness point, checked continuously.
//!
//! Each heartbeat carries its sequence number. When heartbeat `m_l` arrives and `l` is
//! the highest number received so far, the kind computes the freshness point
//! `τ_{l+1}`; the client is trusted while `now < τ_{l+1}` and suspected from `τ_{l+1}`
//! until a heartbeat numbered higher than `l` arrives before its own freshness point. A
//! heartbeat numbered `l` or lower changes nothing (a duplicate, or one overtaken by a
//! later one). Verdicts change exactly at freshness points and arrivals: one wake-up per
//! client is armed at its freshness point.
//!
//! Time is the true time: `nfd-s` assumes synchronized clocks and `nfd-e` measures
//! arrivals on the server's monotonic clock, so a step of the server's wall clock moves
//! nothing. A client restart starts a new incarnation, whose heartbeats are numbered on
//! from where the old one stopped (see [`KnownSchedule`]): the first of them resets what
//! the kind has learnt, and heartbeats of an older incarnation are ignored.

use super::passive::{fires, wake};
use super::NEVER;
use super::{Effect, Effects, Heard, Host, Input, KnownSchedule, Status, WorldEvent};

/// The `KindConfig` methods every freshness-point kind shares: continuous checking (no
/// scan grid), about one wake-up per heartbeat, sequence numbers read, and arrivals that
/// do more than move a deadline (the freshness point depends on the heartbeat's number).
macro_rules! freshness_config {
    () => {
        fn seconds_per_event(&self) -> f64 {
            1.0 // about one freshness point per heartbeat
        }

        fn scanning(&self) -> (SimDuration, SimDuration, Rejoin) {
            (SimDuration::ZERO, SimDuration::ZERO, Rejoin::Announce)
        }

        fn arrivals_only_move_deadlines(&self) -> bool {
            false
        }

        fn reads_sequence(&self) -> bool {
            true
        }

        fn no_closed_forms(&self) -> Option<&'static str> {
            None
        }
    };
}
pub(crate) use freshness_config;

/// How a freshness-point kind sets the next freshness point.
pub trait Estimator {
    /// Heartbeat `seq` of client `ci`, the highest of its incarnation so far, arrived at
    /// `now`; `schedule` is the client's current schedule. Returns `τ_{seq+1}`, ns.
    fn next_point(&mut self, ci: usize, seq: u64, now: u64, schedule: &KnownSchedule) -> u64;
    /// Client `ci` started a new incarnation, or the server forgot it: drop what was learnt.
    fn forget(&mut self, ci: usize);
}

/// One client as a freshness-point detector sees it.
#[derive(Clone, Copy, Debug)]
pub struct Watch {
    /// What the detector believes.
    pub status: Status,
    /// The highest sequence number received, or `NEVER`.
    pub best: u64,
    /// The first number of the incarnation `best` belongs to.
    pub first: u64,
    /// When `best` arrived (a verdict's fault window reaches back to it).
    pub heard_at: u64,
    /// The next freshness point, `τ_{best+1}`.
    pub until: u64,
    /// The instant of the armed wake-up, or `NEVER`.
    pub armed_at: u64,
}

const FRESH: Watch = Watch {
    status: Status::Unknown,
    best: NEVER,
    first: 0,
    heard_at: 0,
    until: 0,
    armed_at: NEVER,
};

/// A freshness-point detector of every client: one watch each, and the kind's estimator.
#[derive(Clone, Debug)]
pub struct Freshness<E> {
    /// Per client.
    pub watches: Vec<Watch>,
    /// How the kind sets freshness points.
    pub estimator: E,
}

impl<E: Estimator> Freshness<E> {
    /// `clients` watches, all unknown.
    pub fn new(estimator: E, clients: usize) -> Self {
        Freshness {
            watches: vec![FRESH; clients],
            estimator,
        }
    }

    /// What the detector believes of client `ci`.
    #[inline]
    pub fn status(&self, ci: usize) -> Status {
        self.watches[ci].status
    }

    /// Handles one input.
    pub fn handle<H: Heard>(
        &mut self,
        now: u64,
        ci: usize,
        input: Input,
        host: Host,
        heard: &mut H,
        out: &mut Effects,
    ) {
        match input {
            Input::Heartbeat { seq, .. } => self.heartbeat(now, ci, seq, heard, out),
            Input::Timer { .. } => {
                if fires(&mut self.watches[ci].armed_at, now, host) {
                    self.evaluate(now, ci, out);
                }
            }
            Input::World(WorldEvent::StallEnded { .. }) => {
                self.watches[ci].armed_at = NEVER;
                self.evaluate(now, ci, out);
            }
            Input::World(WorldEvent::ServerCrashed) => {
                self.watches[ci] = FRESH;
                self.estimator.forget(ci);
            }
            Input::World(WorldEvent::ClockStepped | WorldEvent::ClientCrashed)
            | Input::Start { .. }
            | Input::Reply { .. }
            | Input::Connected
            | Input::ConnectionData
            | Input::ConnectionClosed => {}
        }
    }

    fn heartbeat<H: Heard>(
        &mut self,
        now: u64,
        ci: usize,
        seq: u64,
        heard: &mut H,
        out: &mut Effects,
    ) {
        let schedule = heard.schedule(ci);
        if seq < schedule.first {
            return; // an older incarnation's heartbeat
        }
        let w = &mut self.watches[ci];
        if w.best != NEVER && w.first == schedule.first && seq <= w.best {
            return; // a duplicate, or overtaken by a later heartbeat
        }
        if w.best == NEVER || w.first != schedule.first {
            self.estimator.forget(ci);
        }
        let until = self.estimator.next_point(ci, seq, now, &schedule);
        let w = &mut self.watches[ci];
        let silence = now.saturating_sub(w.heard_at);
        w.best = seq;
        w.first = schedule.first;
        w.heard_at = now;
        w.until = until;
        if now < until {
            if w.status != Status::Online {
                w.status = Status::Online;
                out.push(Effect::Online);
            }
            if until < w.armed_at {
                w.armed_at = until;
                out.push(wake(until));
            }
        } else if w.status == Status::Online {
            // The new estimate puts the freshness point at or before now.
            w.status = Status::Offline;
            out.push(Effect::Offline { window: silence });
        }
    }

    /// Suspects a trusted client whose freshness point has passed, or re-arms.
    fn evaluate(&mut self, now: u64, ci: usize, out: &mut Effects) {
        let w = &mut self.watches[ci];
        if w.status != Status::Online {
            return;
        }
        if now >= w.until {
            w.status = Status::Offline;
            out.push(Effect::Offline {
                window: now - w.heard_at,
            });
        } else if w.until < w.armed_at {
            w.armed_at = w.until;
            out.push(wake(w.until));
        }
    }
}

/// Every client's window of the last `n` values of `A_i − η·s_i` (ns) that Chen's NFD-E
/// estimates expected arrivals from: `EA_{l+1} = mean + (l+1)·η`. One flat ring of `n`
/// slots per client, so a window costs exactly `8n` bytes and sits in one place.
#[derive(Clone, Debug)]
pub struct ArrivalWindows {
    n: usize,
    samples: Vec<i64>,
    rings: Vec<Ring>,
}

/// Where one client's window starts and its sum. The sum is an `i128` kept as two
/// halves, so that a ring takes 24 bytes rather than an `i128`'s 16-byte alignment's 32.
#[derive(Clone, Copy, Debug, Default)]
struct Ring {
    head: u32,
    len: u32,
    sum_low: u64,
    sum_high: i64,
}

impl Ring {
    #[inline]
    fn sum(&self) -> i128 {
        ((self.sum_high as i128) << 64) | self.sum_low as i128
    }

    #[inline]
    fn set_sum(&mut self, sum: i128) {
        self.sum_low = sum as u64;
        self.sum_high = (sum >> 64) as i64;
    }
}

impl ArrivalWindows {
    /// Windows of `n` samples for `clients` clients, all empty.
    pub fn new(clients: usize, n: usize) -> Self {
        ArrivalWindows {
            n,
            samples: vec![0; clients.saturating_mul(n)],
            rings: vec![Ring::default(); clients],
        }
    }

    /// Adds the arrival at `now` of client `ci`'s heartbeat `seq`, sent every `interval`
    /// ns, dropping the oldest sample of a full window.
    #[inline]
    pub fn push(&mut self, ci: usize, now: u64, seq: u64, interval: u64) {
        let sample = now as i128 - seq as i128 * interval as i128;
        let sample = sample.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
        let r = &mut self.rings[ci];
        let base = ci * self.n;
        let mut sum = r.sum();
        // Indices wrap by one comparison (a division per heartbeat costs more).
        let (head, len) = (r.head as usize, r.len as usize);
        if len == self.n {
            let oldest = &mut self.samples[base + head];
            sum -= *oldest as i128;
            *oldest = sample;
            r.head = if head + 1 == self.n {
                0
            } else {
                head as u32 + 1
            };
        } else {
            let at = head + len;
            self.samples[base + if at >= self.n { at - self.n } else { at }] = sample;
            r.len += 1;
        }
        r.set_sum(sum + sample as i128);
    }

    /// The window's mean (ns), rounded to the nearest nanosecond, ties away from zero;
    /// `None` before any sample.
    #[inline]
    pub fn mean(&self, ci: usize) -> Option<i128> {
        let r = &self.rings[ci];
        let n = r.len as i128;
        if n == 0 {
            return None;
        }
        let sum = r.sum();
        Some(if sum >= 0 {
            (2 * sum + n) / (2 * n)
        } else {
            -((-2 * sum + n) / (2 * n))
        })
    }

    /// Forgets client `ci`'s samples.
    pub fn clear(&mut self, ci: usize) {
        self.rings[ci] = Ring::default();
    }

    /// Bytes per client: the ring and its `n` slots.
    pub fn bytes_per_client(n: u32) -> u64 {
        (std::mem::size_of::<Ring>() + n as usize * std::mem::size_of::<i64>()) as u64
    }
}

/// The expected arrival of heartbeat `seq` from a window's `mean`, sent every `interval`.
#[inline]
pub fn expected(mean: i128, seq: u64, interval: u64) -> i128 {
    mean + seq as i128 * interval as i128
}

/// `t` as a time, clamped to `[0, NEVER)`.
#[inline]
pub fn clamp_time(t: i128) -> u64 {
    t.clamp(0, (NEVER - 1) as i128) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_mean_rounds_to_the_nearest_nanosecond_and_slides() {
        let mut w = ArrivalWindows::new(2, 2);
        assert_eq!(w.mean(0), None);
        w.push(0, 10, 0, 100); // 10
        w.push(0, 111, 1, 100); // 11: mean 10.5 rounds to 11
        assert_eq!(w.mean(0).map(|m| expected(m, 2, 100)), Some(211));
        w.push(0, 213, 2, 100); // window (11, 13): mean 12
        assert_eq!(w.mean(0), Some(12));
        w.push(0, 315, 3, 100); // window (13, 15)
        assert_eq!(w.mean(0), Some(14));
        assert_eq!(w.mean(1), None, "another client's window is apart");
        w.clear(0);
        w.push(0, 0, 3, 100); // -300
        w.push(0, 0, 4, 100); // -400: mean -350
        assert_eq!(w.mean(0), Some(-350));
        w.push(1, 5, 0, 100);
        assert_eq!(w.mean(1), Some(5));
        assert_eq!(w.mean(0), Some(-350));
    }
}
