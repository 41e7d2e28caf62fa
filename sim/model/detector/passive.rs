//! What the two passive detectors (`fixed-timeout`, `phi-accrual`) share: the scan grid,
//! the overdue rule, and one exact deadline per client instead of a visit at every scan.
//!
//! A client can only become offline at the first scan instant at or after the moment its
//! silence reaches the threshold. One wake-up per client is armed for that instant; when
//! it fires, the client is either overdue (offline) or re-armed for its new deadline. This
//! gives the same verdicts at the same instants as visiting every client at every scan,
//! for any scan interval including `0s` (continuous checking), without work per tick.
//!
//! Elapsed time is measured on the server's wall clock: `elapsed = now - base`, where
//! `base` is the true time at which the elapsed time was zero ([`LastHeard::wall`]); a
//! clock step can make it negative. Phi measures on a monotonic clock instead, as Akka and
//! Cassandra do.

use super::{
    Effect, Effects, Elapsed, Heard, Host, Input, Rejoin, Status, WakeClass, WorldEvent, NEVER,
};

const SECOND: i64 = 1_000_000_000;
const MINUTE: i64 = 60 * SECOND;

/// When a scanner scans (true time).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scans {
    /// At `⌈first + k·period⌉` for `k ≥ 0`, rounded up to a multiple of `resolution`
    /// (1: no rounding); `period` 0 checks continuously. A fixed-rate timer is
    /// `first = phase + interval`, `period = interval`; a `Sleep` loop with a constant
    /// overshoot `o` on a timer of resolution `r` is `first = ⌈phase + interval + o⌉_r`,
    /// `period = ⌈interval + o⌉_r` (each wake-up is on the grid, so each next one is the
    /// same rounded step later).
    Grid {
        /// The first scan before rounding.
        first: u64,
        /// Between scans before rounding; 0 is continuous.
        period: u64,
        /// Expiries round up to a multiple of this, ns (at least 1).
        resolution: u64,
    },
    /// Listed instants, ascending, up to the first at or after the run's end: a `Sleep`
    /// loop whose overshoot is drawn afresh at each wake-up.
    Listed(Vec<u64>),
}

/// `t` rounded up to a multiple of `r` (`r ≥ 1`), saturating.
#[inline]
pub fn round_up(t: u64, r: u64) -> u64 {
    if r <= 1 {
        t
    } else {
        t.div_ceil(r).saturating_mul(r)
    }
}

impl Scans {
    /// Scans at `phase + k·interval`, `k ≥ 1`, unrounded: the fixed-rate grid.
    pub fn grid(interval: u64, phase: u64) -> Self {
        Scans::Grid {
            first: phase.saturating_add(interval),
            period: interval,
            resolution: 1,
        }
    }

    /// The first scan instant at or after `t`, or `NEVER`.
    #[inline]
    pub fn at_or_after(&self, t: u64) -> u64 {
        match *self {
            Scans::Grid { period: 0, .. } => t,
            // The common case, without rounding: one division.
            Scans::Grid {
                first,
                period,
                resolution: 1,
            } => {
                if t <= first {
                    first
                } else {
                    let k = (t - first).div_ceil(period);
                    first.saturating_add(k.saturating_mul(period))
                }
            }
            Scans::Grid {
                first,
                period,
                resolution,
            } => {
                // ⌈x⌉_r ≥ t exactly when x > (⌈t/r⌉ − 1)·r: the first k with
                // first + k·period above that floor.
                let floor = t.div_ceil(resolution).saturating_sub(1) * resolution;
                let k = if t == 0 || floor < first {
                    0
                } else {
                    (floor - first) / period + 1
                };
                round_up(first.saturating_add(k.saturating_mul(period)), resolution)
            }
            Scans::Listed(ref at) => {
                let i = at.partition_point(|&s| s < t);
                at.get(i).copied().unwrap_or(NEVER)
            }
        }
    }
}

/// A passive detector's scan grid and overdue rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// When scans happen.
    pub scans: Scans,
    /// What happens when an offline client is heard from again.
    pub rejoin: Rejoin,
    /// How the scanner reads a client's silence.
    pub elapsed: Elapsed,
    /// `ceil(threshold)` in whole seconds, for the seconds-component rule.
    pub threshold_whole_secs: i64,
}

impl Rule {
    /// Whether `elapsed` ns since the last heartbeat make a client offline.
    #[inline]
    pub fn is_overdue(&self, elapsed: i64, threshold: u64) -> bool {
        match self.elapsed {
            Elapsed::Total => elapsed >= threshold as i64,
            // TimeSpan.Seconds truncates toward zero, so a negative span never reaches a
            // positive threshold.
            Elapsed::SecondsComponent => {
                elapsed >= 0 && (elapsed / SECOND) % 60 >= self.threshold_whole_secs
            }
        }
    }

    /// The first scan instant at or after `t` (true time).
    #[inline]
    pub fn scan_at_or_after(&self, t: u64) -> u64 {
        self.scans.at_or_after(t)
    }

    /// The first scan instant at or after `now` at which a client whose elapsed time was
    /// zero at true time `base` is overdue, assuming no further heartbeat and no clock
    /// step; `NEVER` if that is at or after `end`.
    pub fn next_due(&self, base: i64, now: u64, end: u64, threshold: u64) -> u64 {
        let at_or_after = |t: i64| self.scan_at_or_after(t.max(now as i64).max(0) as u64);
        let due = match self.elapsed {
            Elapsed::Total => at_or_after(base.saturating_add(threshold as i64)),
            Elapsed::SecondsComponent => {
                // Overdue exactly in the windows [base + 60k s + Tc, base + 60(k+1) s).
                let tc = self.threshold_whole_secs * SECOND;
                let mut k = ((now as i64 - base) / MINUTE).max(0);
                loop {
                    let open = base + k * MINUTE + tc;
                    if open >= end as i64 {
                        return NEVER;
                    }
                    let t = at_or_after(open);
                    if t >= end || (t as i64) < base + (k + 1) * MINUTE {
                        break t;
                    }
                    k += 1;
                }
            }
        };
        if due >= end {
            NEVER
        } else {
            due
        }
    }
}

/// Bytes of one passive detector's view of one client: what it believes and the instant
/// of its armed check.
pub const WATCH_BYTES: u64 = (std::mem::size_of::<Status>() + std::mem::size_of::<u64>()) as u64;

/// How a passive kind sets each client's threshold.
pub trait Thresholds {
    /// The elapsed time at which client `client` is overdue, ns.
    fn threshold(&self, client: usize) -> u64;
    /// Heartbeat `seq` of `client` arrived at `now` (phi learns from it). Returns false
    /// when the kind does not take it into account at all (Cassandra's gossip reports a
    /// heartbeat only when its version grows).
    /// `online` says whether the detector holds the client online.
    fn arrived<H: Heard>(
        &mut self,
        client: usize,
        now: u64,
        seq: u64,
        online: bool,
        heard: &mut H,
    ) -> bool;
    /// The true time at which the client's silence was zero, when the kind keeps it
    /// itself (phi measures from the last heartbeat it took into account).
    fn own_base(&self, _client: usize) -> Option<i64> {
        None
    }
    /// Whether silence is measured on a monotonic clock rather than the wall clock.
    fn monotonic(&self) -> bool;
    /// Whether every heartbeat may move the deadline earlier (the threshold moves).
    fn moving(&self) -> bool;
    /// Whether the catch-up scan after a stall of `stall` ns may convict.
    fn convicts_after_stall(&self, stall: u64) -> bool;
    /// The server forgot everything about `client`.
    fn forget(&mut self, client: usize);
}

/// The state shared by passive kinds: the rule, one watch per client, and the kind's
/// thresholds.
#[derive(Clone, Debug)]
pub struct Passive<T> {
    /// The scan grid and overdue rule.
    pub rule: Rule,
    /// Per client, what the detector believes (apart from `armed_at`, so that neither
    /// pads the other to 16 bytes).
    pub status: Vec<Status>,
    /// Per client, the instant of the armed deadline check, or `NEVER`.
    pub armed_at: Vec<u64>,
    /// The end of the run: deadlines at or after it are never armed.
    pub end: u64,
    /// How the kind sets each client's threshold.
    pub thresholds: T,
}

impl<T: Thresholds> Passive<T> {
    /// `clients` clients, all unknown, none armed.
    pub fn new(rule: Rule, thresholds: T, clients: usize, end: u64) -> Self {
        Passive {
            rule,
            thresholds,
            status: vec![Status::Unknown; clients],
            armed_at: vec![NEVER; clients],
            end,
        }
    }

    /// What the detector believes of client `ci`.
    #[inline]
    pub fn status(&self, ci: usize) -> Status {
        self.status[ci]
    }

    /// Handles one input for a passive kind whose thresholds are `t`.
    #[inline(always)]
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
            Input::Heartbeat { clock_stepped, seq } => {
                self.heartbeat(now, ci, clock_stepped, seq, heard, out)
            }
            Input::Timer { .. } => {
                if fires(&mut self.armed_at[ci], now, host) {
                    self.evaluate(now, ci, true, heard, out);
                }
            }
            Input::World(WorldEvent::StallEnded { stall }) => {
                let convict = self.thresholds.convicts_after_stall(stall);
                self.armed_at[ci] = NEVER;
                self.evaluate(now, ci, convict, heard, out);
            }
            Input::World(WorldEvent::ClockStepped) => {
                // Every online client's deadline moves: arm a fresh check (older ones
                // become stale).
                if self.status[ci] != Status::Online {
                    return;
                }
                let base = self.base(ci, heard);
                let due = self
                    .rule
                    .next_due(base, now, self.end, self.thresholds.threshold(ci));
                self.armed_at[ci] = due;
                if due != NEVER {
                    out.push(wake(due));
                }
            }
            Input::World(WorldEvent::ServerCrashed) => {
                self.status[ci] = Status::Unknown;
                self.armed_at[ci] = NEVER;
                self.thresholds.forget(ci);
            }
            Input::World(WorldEvent::ClientCrashed)
            | Input::Start { .. }
            | Input::Reply { .. }
            | Input::Connected
            | Input::ConnectionData
            | Input::ConnectionClosed => {}
        }
    }

    /// A heartbeat reached the server application: a known client is re-armed when its
    /// deadline may have moved earlier; an unknown (or rejoining) one becomes online.
    #[inline]
    fn heartbeat<H: Heard>(
        &mut self,
        now: u64,
        ci: usize,
        clock_stepped: bool,
        seq: u64,
        heard: &mut H,
        out: &mut Effects,
    ) {
        let online = self.status[ci] == Status::Online;
        if !self.thresholds.arrived(ci, now, seq, online, heard) {
            return;
        }
        let status = &mut self.status[ci];
        if self.rule.rejoin.comes_back(*status) {
            *status = Status::Online;
            out.push(Effect::Online);
        }
        if *status != Status::Online {
            return;
        }
        let armed_at = &mut self.armed_at[ci];
        // Under the total rule a later heartbeat only moves the deadline later, so an
        // armed check stays valid; under the seconds rule, for phi (whose threshold
        // moves), or once a clock step has made stamps and arrival times disagree, it may
        // need to come earlier.
        let rearm = *armed_at == NEVER
            || clock_stepped
            || self.thresholds.moving()
            || self.rule.elapsed == Elapsed::SecondsComponent;
        if rearm {
            let due =
                self.rule
                    .next_due(now as i64, now + 1, self.end, self.thresholds.threshold(ci));
            if due < *armed_at {
                *armed_at = due;
                out.push(wake(due));
            }
        }
    }

    /// The true time at which client `ci`'s silence was zero, on the clock this kind
    /// measures with (monotonic for phi, the server's wall clock otherwise).
    #[inline]
    fn base<H: Heard>(&self, ci: usize, heard: &mut H) -> i64 {
        if let Some(base) = self.thresholds.own_base(ci) {
            return base;
        }
        let h = heard.last_heard(ci);
        if self.thresholds.monotonic() {
            h.monotonic
        } else {
            h.wall
        }
    }

    /// One scan of one client: offline if overdue, else re-armed. `convict` false re-arms
    /// without any offline verdict (Cassandra's local-pause guard).
    fn evaluate<H: Heard>(
        &mut self,
        now: u64,
        ci: usize,
        convict: bool,
        heard: &mut H,
        out: &mut Effects,
    ) {
        if self.status[ci] != Status::Online {
            return;
        }
        let base = self.base(ci, heard);
        let elapsed = now as i64 - base;
        let threshold = self.thresholds.threshold(ci);
        if !self.rule.is_overdue(elapsed, threshold) || !convict {
            let due = self.rule.next_due(base, now + 1, self.end, threshold);
            let armed_at = &mut self.armed_at[ci];
            if due != NEVER && due < *armed_at {
                *armed_at = due;
                out.push(wake(due));
            }
            return;
        }
        self.status[ci] = Status::Offline;
        out.push(Effect::Offline { window: threshold });
    }
}

/// Whether the wake-up armed at `armed_at` that fires now should evaluate: it is the
/// current one (a later arming supersedes it; it is disarmed here), and the host runs. A
/// dead server checks nothing (it starts afresh on restart); a stalled one skips its
/// checks, and the catch-up at the end of the stall looks at every client.
#[inline]
pub(crate) fn fires(armed_at: &mut u64, now: u64, host: Host) -> bool {
    if *armed_at != now {
        return false;
    }
    *armed_at = NEVER;
    host.up && host.running
}

/// The deadline check at `at` (an evaluation wake-up).
#[inline]
pub(crate) fn wake(at: u64) -> Effect {
    Effect::Wake {
        at,
        class: WakeClass::Evaluate,
        tag: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;
    /// The end of a long run (ends are durations, well inside `i64`).
    const END: u64 = 1_000_000 * S as u64;

    fn rule(scan: u64, phase: u64, elapsed: Elapsed, whole_secs: i64) -> Rule {
        Rule {
            scans: Scans::grid(scan, phase),
            rejoin: Rejoin::Announce,
            elapsed,
            threshold_whole_secs: whole_secs,
        }
    }

    #[test]
    fn scans_fall_on_the_grid_after_its_phase() {
        let r = rule(S as u64, 500_000_000, Elapsed::Total, 0);
        // The first scan is one interval after the phase.
        assert_eq!(r.scan_at_or_after(0), 1_500_000_000);
        assert_eq!(r.scan_at_or_after(1_500_000_000), 1_500_000_000);
        assert_eq!(r.scan_at_or_after(1_500_000_001), 2_500_000_000);
        // Continuous checking: every instant is a scan.
        assert_eq!(rule(0, 0, Elapsed::Total, 0).scan_at_or_after(7), 7);
    }

    #[test]
    fn rounded_grids_agree_with_their_listed_instants() {
        // Fixed rate 300 ms on a 15.625 ms tick (19.2 ticks: uneven gaps), and a Sleep
        // loop of 1 s + 0.1 ms on the same tick (65 ticks a loop): the closed form against
        // the instants listed one by one.
        const TICK: u64 = 15_625_000;
        let rate = Scans::Grid {
            first: 7_000_000 + 300_000_000,
            period: 300_000_000,
            resolution: TICK,
        };
        let rate_list: Vec<u64> = (1..200)
            .map(|k| round_up(7_000_000 + k * 300_000_000, TICK))
            .collect();
        let mut t = 0;
        let mut sleep_list = Vec::new();
        for _ in 0..200 {
            t = round_up(t + 1_000_100_000, TICK);
            sleep_list.push(t);
        }
        let sleep = Scans::Grid {
            first: round_up(1_000_100_000, TICK),
            period: round_up(1_000_100_000, TICK),
            resolution: TICK,
        };
        assert_eq!(sleep_list[1] - sleep_list[0], 65 * TICK);
        for (grid, list) in [(rate, rate_list), (sleep, sleep_list)] {
            let listed = Scans::Listed(list.clone());
            for t in (0..list[150]).step_by(4_999_999) {
                assert_eq!(grid.at_or_after(t), listed.at_or_after(t), "t = {t}");
            }
            for &x in &list[..150] {
                assert_eq!(grid.at_or_after(x), x);
                assert_eq!(grid.at_or_after(x + 1), listed.at_or_after(x + 1));
            }
        }
        assert_eq!(Scans::Listed(vec![5, 9]).at_or_after(10), NEVER);
    }

    #[test]
    fn the_total_rule_is_due_at_the_first_scan_past_the_threshold() {
        let r = rule(S as u64, 0, Elapsed::Total, 3);
        // Heard at 0.2 s, 3 s threshold: overdue from 3.2 s, first scan 4 s.
        assert_eq!(r.next_due(200_000_000, 0, END, 3 * S as u64), 4 * S as u64);
        // Past the end: never.
        assert_eq!(
            r.next_due(200_000_000, 0, 4 * S as u64, 3 * S as u64),
            NEVER
        );
        assert!(r.is_overdue(3 * S, 3 * S as u64));
        assert!(!r.is_overdue(3 * S - 1, 3 * S as u64));
    }

    #[test]
    fn the_seconds_rule_is_due_only_inside_its_windows() {
        // Threshold 3 s read as TimeSpan.Seconds: overdue in [60k + 3, 60(k+1)) s.
        let r = rule(S as u64, 0, Elapsed::SecondsComponent, 3);
        assert!(r.is_overdue(3 * S, 0));
        assert!(!r.is_overdue(61 * S, 0)); // reads as 1 s
        assert!(r.is_overdue(64 * S, 0));
        assert!(!r.is_overdue(-5 * S, 0)); // a clock step backwards
                                           // Scans every 59 s from 0 heard at 0: 59 s (component 59, overdue).
        let r59 = rule(59 * S as u64, 0, Elapsed::SecondsComponent, 3);
        assert_eq!(r59.next_due(0, 0, END, 0), 59 * S as u64);
        // Scans every 61 s: 61 (1), 122 (2), 183 (3, overdue).
        let r61 = rule(61 * S as u64, 0, Elapsed::SecondsComponent, 3);
        assert_eq!(r61.next_due(0, 0, END, 0), 183 * S as u64);
    }
}
