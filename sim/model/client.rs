//! A client's heartbeat schedule: when its timer fires next, given its schedule, jitter,
//! timer overshoot and clock drift.
//!
//! `fixed-rate` sends at `phase + k·interval` (plus jitter and overshoot), so lateness
//! never accumulates; a client that fell behind (a pause) skips to the first grid point
//! after now. `fixed-delay` sleeps `interval` (plus jitter and overshoot) after each send,
//! as a `Sleep` loop does, so lateness accumulates. A drifting clock stretches every timer.
//! A timer resolution rounds each expiry up to a multiple of it on the virtual clock, one
//! grid for every timer (Windows wakes sleeping threads on its system tick, 15.625 ms by
//! default: Microsoft's `Sleep` and `timeBeginPeriod` documentation).

/// When a client sends its next heartbeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// Sends at phase + k·interval (+ jitter, + overshoot): lateness never accumulates.
    FixedRate,
    /// Sends at the previous send + interval + jitter + overshoot, as a `Sleep` loop does.
    FixedDelay,
}

/// A client timer of `nominal` ns takes this long in true time, when one nominal
/// nanosecond lasts `timer_scale` true nanoseconds.
#[inline]
pub fn scaled(nominal: u64, timer_scale: f64) -> u64 {
    if timer_scale == 1.0 {
        nominal
    } else {
        libm::round(nominal as f64 * timer_scale) as u64
    }
}

/// The fixed-rate grid point after `grid`, `interval` later, or the first grid point
/// after `now` if the client fell behind (a pause delayed its timer).
#[inline]
pub fn next_grid_point(grid: u64, interval: u64, now: u64) -> u64 {
    let next = grid.saturating_add(interval);
    if next > now || interval == 0 {
        next
    } else {
        let missed = (now - grid) / interval;
        grid.saturating_add((missed + 1).saturating_mul(interval))
    }
}

/// One group's heartbeat timing, in nominal nanoseconds of the client's clock.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// Fixed-rate or fixed-delay.
    pub schedule: Schedule,
    /// The nominal gap.
    pub interval: u64,
    /// Each gap is drawn from `interval ± jitter`.
    pub jitter: u64,
    /// Expiries round up to a multiple of this, ns (1: no rounding).
    pub resolution: u64,
}

impl Timing {
    /// The instant of the next send after a send at `now`. `jitter` was drawn in
    /// `[0, 2·self.jitter]` (it is shifted back here, so it is never negative),
    /// `overshoot` is the timer's lateness; `grid` is the client's fixed-rate grid point,
    /// moved on here.
    #[inline]
    pub fn next_send(
        &self,
        grid: &mut u64,
        now: u64,
        jitter: u64,
        overshoot: u64,
        timer_scale: f64,
    ) -> u64 {
        // One test on the common case of an exact clock, then the same arithmetic.
        let at = if timer_scale == 1.0 {
            self.next_send_with(grid, now, jitter, overshoot, |ns| ns)
        } else {
            self.next_send_with(grid, now, jitter, overshoot, |ns| scaled(ns, timer_scale))
        };
        if self.resolution > 1 {
            at.div_ceil(self.resolution).saturating_mul(self.resolution)
        } else {
            at
        }
    }

    /// `next_send` with `s` turning nominal into true nanoseconds.
    #[inline(always)]
    fn next_send_with(
        &self,
        grid: &mut u64,
        now: u64,
        jitter: u64,
        overshoot: u64,
        s: impl Fn(u64) -> u64,
    ) -> u64 {
        match self.schedule {
            Schedule::FixedRate => {
                *grid = next_grid_point(*grid, s(self.interval), now);
                (*grid + s(jitter + overshoot))
                    .saturating_sub(s(self.jitter))
                    .max(now)
            }
            Schedule::FixedDelay => {
                now.saturating_add(s(self.interval + jitter + overshoot - self.jitter))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn fixed_rate_keeps_its_grid_and_skips_what_a_pause_missed() {
        let t = Timing {
            schedule: Schedule::FixedRate,
            interval: S,
            jitter: 0,
            resolution: 1,
        };
        let mut grid = 0;
        // A send 30 ms late (overshoot) does not delay the next grid point.
        assert_eq!(t.next_send(&mut grid, 30_000_000, 0, 0, 1.0), S);
        // After a pause until 4.5 s, the next send is at the grid point 5 s.
        assert_eq!(t.next_send(&mut grid, 4_500_000_000, 0, 0, 1.0), 5 * S);
        assert_eq!(grid, 5 * S);
    }

    #[test]
    fn fixed_delay_accumulates_lateness_and_jitter_is_centred() {
        let t = Timing {
            schedule: Schedule::FixedDelay,
            interval: S,
            jitter: 100,
            resolution: 1,
        };
        let mut grid = 0;
        // Drawn jitter 100 of [0, 200] means no jitter; overshoot 15.6 ms adds up.
        assert_eq!(
            t.next_send(&mut grid, 0, 100, 15_600_000, 1.0),
            S + 15_600_000
        );
        assert_eq!(t.next_send(&mut grid, 0, 0, 0, 1.0), S - 100);
    }

    #[test]
    fn a_timer_resolution_rounds_every_expiry_up_onto_one_grid() {
        // Windows' 15.625 ms tick: a Sleep(1000) loop whose thread works 0.1 ms before
        // sleeping again wakes 65 ticks (1015.625 ms) after each tick it woke on.
        const TICK: u64 = 15_625_000;
        let t = Timing {
            schedule: Schedule::FixedDelay,
            interval: S,
            jitter: 0,
            resolution: TICK,
        };
        let mut grid = 0;
        // Started at 40 ms (not on the grid): 1040.1 ms rounds up to tick 67.
        assert_eq!(
            t.next_send(&mut grid, 40_000_000, 0, 100_000, 1.0),
            67 * TICK
        );
        assert_eq!(
            t.next_send(&mut grid, 67 * TICK, 0, 100_000, 1.0),
            132 * TICK
        );
        // Exactly on a tick stays there: 64 ticks are 1 s.
        assert_eq!(t.next_send(&mut grid, 64 * TICK, 0, 0, 1.0), 128 * TICK);
        // Fixed rate keeps its own grid and rounds each send: phase 10 ms.
        let r = Timing {
            schedule: Schedule::FixedRate,
            ..t
        };
        let mut grid = 10_000_000;
        assert_eq!(r.next_send(&mut grid, 10_000_000, 0, 0, 1.0), 65 * TICK);
        assert_eq!(grid, S + 10_000_000, "the grid itself is not rounded");
    }

    #[test]
    fn a_fast_clock_shortens_every_timer() {
        // +100 ppm: a nominal second lasts 1e6 / (1e6 + 100) s.
        let scale = 1e6 / (1e6 + 100.0);
        assert_eq!(scaled(S, scale), 999_900_010);
        assert_eq!(scaled(S, 1.0), S);
    }
}
