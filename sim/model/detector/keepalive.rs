//! TCP keepalive on the server's end of each client's stream connection, as Linux's
//! `tcp_keepalive_timer` (`net/ipv4/tcp_timer.c`) runs it: after `idle` with nothing
//! received, a probe every `interval`; after `probes` unanswered probes the connection is
//! reset (offline), or, with `TCP_USER_TIMEOUT` set, once the silence reaches it after at
//! least one probe. Anything arriving on the connection resets the count. While the
//! server has data on the connection that is not acknowledged, the timer sends nothing
//! (`if (tp->packets_out || !tcp_write_queue_empty(sk)) goto resched;`) and the
//! retransmission timer decides instead. The client's kernel answers while its host is
//! up, even if the process is paused; a crashed process's kernel closes the connection
//! (FIN/RST).
//!
//! The timer runs as the kernel's does: it fires, and when data arrived since it was
//! armed it is re-armed for the rest of the idle time (`keepalive_time_when(tp) -
//! elapsed`); an answered probe re-arms nothing (the probe's own timer, one interval
//! later, finds the fresh data). With `timer_hz` set, times are whole jiffies and every
//! arming is rounded as the timer wheel rounds it (see [`wheel_expiry`]).

use super::{
    Answerer, Effect, Effects, Host, Input, KindConfig, ProbePath, Rejoin, Status, WakeClass,
    WorldEvent,
};
use crate::base::time::SimDuration;

/// Bytes of a keepalive probe or its answer on the wire: an empty segment, the size of an
/// acknowledgement.
pub const PROBE_BYTES: u64 = crate::model::tcp::ACK_BYTES;

/// A `tcp-keepalive` detector's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpKeepalive {
    /// Silence before the first probe (`tcp_keepalive_time`).
    pub idle: SimDuration,
    /// Time between probes (`tcp_keepalive_intvl`).
    pub interval: SimDuration,
    /// Unanswered probes that reset the connection (`tcp_keepalive_probes`).
    pub probes: u32,
    /// `TCP_USER_TIMEOUT`: how long the connection may go unanswered, for keepalive and
    /// for retransmissions; `None` when not set.
    pub user_timeout: Option<SimDuration>,
    /// The kernel's `HZ` when timers run on the timer wheel; `None` for exact timers.
    pub timer_hz: Option<u32>,
    /// What happens when a reset client connects again.
    pub rejoin: Rejoin,
}

impl KindConfig for TcpKeepalive {
    fn kind_name(&self) -> &'static str {
        "tcp-keepalive"
    }

    fn typical_period(&self) -> u64 {
        self.interval.as_nanos()
    }

    fn seconds_per_event(&self) -> f64 {
        self.interval.as_secs_f64().min(self.idle.as_secs_f64()) / 2.0
    }

    fn scanning(&self) -> (SimDuration, SimDuration, Rejoin) {
        (SimDuration::ZERO, SimDuration::ZERO, self.rejoin)
    }

    fn probe_path(&self) -> Option<ProbePath> {
        Some(ProbePath {
            from_client: false,
            bytes: PROBE_BYTES,
            answerer: Answerer::Kernel,
            label: "keepalive",
        })
    }

    fn uses_connections(&self) -> bool {
        true
    }

    fn user_timeout(&self) -> Option<u64> {
        self.user_timeout.map(SimDuration::as_nanos)
    }
}

/// Levels of the timer wheel: 64 buckets each, each level 8 times coarser
/// (`LVL_BITS` 6, `LVL_CLK_SHIFT` 3 in `kernel/time/timer.c`).
const LVL_BITS: u32 = 6;
const LVL_CLK_SHIFT: u32 = 3;

/// `LVL_START(n)`: the smallest delta, in jiffies, that goes to level `n`.
const fn lvl_start(n: u32) -> u64 {
    ((1 << LVL_BITS) - 1) << ((n - 1) * LVL_CLK_SHIFT)
}

/// The jiffy count at true time `t` at `hz` (jiffy 0 at time 0).
#[inline]
pub fn jiffies(t: u64, hz: u32) -> u64 {
    (t as u128 * hz as u128 / 1_000_000_000) as u64
}

/// The true time of jiffy `j`'s tick.
#[inline]
pub fn tick_time(j: u64, hz: u32) -> u64 {
    (j as u128 * 1_000_000_000).div_ceil(hz as u128) as u64
}

/// `d` ns in jiffies, rounded up as `msecs_to_jiffies` rounds.
#[inline]
pub fn to_jiffies(d: u64, hz: u32) -> u64 {
    (d as u128 * hz as u128).div_ceil(1_000_000_000) as u64
}

/// The jiffy at which a timer armed at jiffy `clk` for `delta` jiffies fires:
/// `calc_wheel_index` picks the level from `delta` (`LVL_START`), and `calc_index` rounds
/// the expiry up to the next bucket boundary of that level, strictly after it
/// (`expires = (expires >> LVL_SHIFT(lvl)) + 1; bucket_expiry = expires << LVL_SHIFT(lvl)`),
/// so that a timer never fires early. Deltas beyond the wheel are capped at
/// `WHEEL_TIMEOUT_MAX`. `LVL_DEPTH` is 9 above HZ 100, else 8.
pub fn wheel_expiry(clk: u64, delta: u64, hz: u32) -> u64 {
    let depth = if hz > 100 { 9 } else { 8 };
    let level = (1..depth).find(|&n| delta < lvl_start(n)).map(|n| n - 1);
    let (expires, level) = match level {
        Some(l) => (clk + delta, l),
        None => {
            let cutoff = lvl_start(depth);
            let max = cutoff - (1 << ((depth - 1) * LVL_CLK_SHIFT));
            (clk + if delta >= cutoff { max } else { delta }, depth - 1)
        }
    };
    let shift = level * LVL_CLK_SHIFT;
    ((expires >> shift) + 1) << shift
}

/// How the detector's timers count time: exactly, or in jiffies on the timer wheel.
#[derive(Clone, Copy, Debug)]
struct Clock {
    hz: Option<u32>,
}

impl Clock {
    /// Time on this clock (ns, or jiffies).
    #[inline]
    fn at(self, t: u64) -> u64 {
        self.hz.map_or(t, |hz| jiffies(t, hz))
    }

    /// A duration on this clock.
    #[inline]
    fn span(self, d: u64) -> u64 {
        self.hz.map_or(d, |hz| to_jiffies(d, hz))
    }

    /// The true instant a timer armed at true time `now` for `delay` (on this clock) fires.
    #[inline]
    fn fire(self, now: u64, delay: u64) -> u64 {
        match self.hz {
            None => now.saturating_add(delay),
            Some(hz) => tick_time(wheel_expiry(jiffies(now, hz), delay, hz), hz),
        }
    }
}

/// Timer tags carry the low 24 bits of the timer's generation.
const GENERATION_MASK: u32 = (1 << 24) - 1;

/// One client's connection as the server's keepalive sees it.
#[derive(Clone, Copy, Debug, Default)]
struct Connection {
    status: Status,
    /// Last time anything arrived on the connection (on the detector's clock).
    last_rx: u64,
    /// Unanswered probes since then.
    probes_out: u32,
    /// Generation of the armed timer (older timers are stale).
    generation: u32,
}

/// A keepalive detector watching every client's connection.
#[derive(Clone, Debug)]
pub struct State {
    params: TcpKeepalive,
    clock: Clock,
    /// Idle time, probe interval and user timeout on the detector's clock.
    idle: u64,
    interval: u64,
    user_timeout: Option<u64>,
    /// Idle time and every probe (or the user timeout): the verdict window, ns.
    window: u64,
    connections: Vec<Connection>,
}

impl State {
    /// Watches `clients` connections.
    pub fn new(k: &TcpKeepalive, clients: usize) -> Self {
        let clock = Clock { hz: k.timer_hz };
        let window = match k.user_timeout {
            None => k.idle.as_nanos() + k.interval.as_nanos() * k.probes as u64,
            Some(u) => u.as_nanos().max(k.idle.as_nanos()) + k.interval.as_nanos(),
        };
        State {
            params: *k,
            clock,
            idle: clock.span(k.idle.as_nanos()),
            interval: clock.span(k.interval.as_nanos()),
            user_timeout: k.user_timeout.map(|u| clock.span(u.as_nanos())),
            window,
            connections: vec![Connection::default(); clients],
        }
    }

    /// What the detector believes of client `ci`.
    #[inline]
    pub fn status(&self, ci: usize) -> Status {
        self.connections[ci].status
    }

    /// Handles one input about client `ci`'s connection; `host` is the server.
    pub fn handle(&mut self, now: u64, ci: usize, input: Input, host: Host, out: &mut Effects) {
        let clock = self.clock;
        let c = &mut self.connections[ci];
        match input {
            Input::Connected => {
                let back = self.params.rejoin.comes_back(c.status);
                c.last_rx = clock.at(now);
                c.probes_out = 0;
                if back {
                    c.status = Status::Online;
                    out.push(Effect::Online);
                }
                arm(c, clock.fire(now, self.idle), out);
            }
            Input::Timer { tag, .. } => {
                if !host.up {
                    return; // the connection died with the server
                }
                if (c.generation & GENERATION_MASK) != tag || c.status != Status::Online {
                    return;
                }
                if host.sending {
                    // "It is alive without keepalive": data in flight, the retransmission
                    // timer watches the connection; look again one idle time later.
                    arm(c, clock.fire(now, self.idle), out);
                    return;
                }
                let elapsed = clock.at(now).saturating_sub(c.last_rx);
                if elapsed < self.idle {
                    // Data arrived since the timer was set: wait for the rest of the idle
                    // time.
                    arm(c, clock.fire(now, self.idle - elapsed), out);
                    return;
                }
                let reset = match self.user_timeout {
                    Some(u) => elapsed >= u && c.probes_out > 0,
                    None => c.probes_out >= self.params.probes,
                };
                if reset {
                    // The connection is reset: the client is offline.
                    c.probes_out = 0;
                    c.status = Status::Offline;
                    out.push(Effect::Offline {
                        window: self.window,
                    });
                    return;
                }
                c.probes_out += 1;
                out.push(Effect::Probe { tag: 0 });
                arm(c, clock.fire(now, self.interval), out);
            }
            Input::Reply { .. } => {
                if c.status != Status::Online {
                    return; // an answer on a connection already reset
                }
                c.last_rx = clock.at(now);
                c.probes_out = 0;
                out.push(Effect::Answered);
            }
            Input::ConnectionData => {
                c.last_rx = clock.at(now);
                c.probes_out = 0;
            }
            Input::ConnectionClosed => {
                if c.status == Status::Online {
                    c.status = Status::Offline;
                    out.push(Effect::Offline {
                        window: self.window,
                    });
                }
            }
            Input::World(WorldEvent::ServerCrashed) => c.status = Status::Unknown,
            Input::World(
                WorldEvent::ClientCrashed
                | WorldEvent::StallEnded { .. }
                | WorldEvent::ClockStepped,
            )
            | Input::Start { .. }
            | Input::Heartbeat { .. } => {}
        }
    }
}

/// Arms the connection's timer at `at`, making older timers stale.
fn arm(c: &mut Connection, at: u64, out: &mut Effects) {
    c.generation = c.generation.wrapping_add(1);
    out.push(Effect::Wake {
        at,
        class: WakeClass::Evaluate,
        tag: c.generation & GENERATION_MASK,
    });
}

#[cfg(test)]
mod tests {
    use super::super::testing::{feed, Fixed, RUNNING};
    use super::super::{Detector, DetectorKind, Host};
    use super::*;

    const S: u64 = 1_000_000_000;

    fn linux() -> Detector {
        // Linux's defaults: 7200 s idle, 75 s between probes, 9 probes.
        let k = TcpKeepalive {
            idle: SimDuration::from_secs(7200),
            interval: SimDuration::from_secs(75),
            probes: 9,
            user_timeout: None,
            timer_hz: None,
            rejoin: Rejoin::Announce,
        };
        Detector::new(&DetectorKind::TcpKeepalive(k), 1, u64::MAX, &mut |_| 0)
    }

    fn timer(tag: u32) -> Input {
        Input::Timer {
            class: WakeClass::Evaluate,
            tag,
        }
    }

    fn wake(at: u64, tag: u32) -> Effect {
        Effect::Wake {
            at,
            class: WakeClass::Evaluate,
            tag,
        }
    }

    #[test]
    fn a_silent_peer_is_reset_after_idle_plus_every_probe() {
        let mut d = linux();
        let mut h = Fixed(vec![]);
        assert_eq!(
            feed(&mut d, 0, 0, Input::Connected, RUNNING, &mut h),
            vec![Effect::Online, wake(7200 * S, 1)]
        );
        let mut at = 7200 * S;
        for probe in 0..9 {
            let out = feed(&mut d, at, 0, timer(probe + 1), RUNNING, &mut h);
            assert_eq!(
                out,
                vec![Effect::Probe { tag: 0 }, wake(at + 75 * S, probe + 2)]
            );
            at += 75 * S;
        }
        // 7200 + 9·75 = 7875 s after the last data: reset.
        assert_eq!(at, 7875 * S);
        assert_eq!(
            feed(&mut d, at, 0, timer(10), RUNNING, &mut h),
            vec![Effect::Offline { window: 7875 * S }]
        );
    }

    #[test]
    fn the_timer_wheel_rounds_as_calc_wheel_index_does_at_every_hz() {
        // Values from kernel/time/timer.c's formula, worked by hand: level n holds deltas
        // in [LVL_START(n), LVL_START(n + 1)), LVL_START(n) = 63 << 3(n - 1); the bucket
        // is ((expires >> 3n) + 1) << 3n.
        // Level 0 (delta < 63): one jiffy after the expiry.
        assert_eq!(wheel_expiry(5, 10, 250), 16);
        // HZ 250, 1 s = 250 jiffies: level 1 (8-jiffy buckets), 256 jiffies = 1024 ms from
        // an aligned clock, up to 264 from a misaligned one.
        assert_eq!(wheel_expiry(0, 250, 250), 256);
        assert_eq!(tick_time(256, 250), 1_024_000_000);
        assert_eq!(wheel_expiry(6, 250, 250), 264);
        // HZ 250, 2 s = 500 jiffies: 63 buckets of 8 = 504 = 2016 ms.
        assert_eq!(tick_time(wheel_expiry(0, 500, 250), 250), 2_016_000_000);
        // HZ 250, 7200 s = 1 800 000 jiffies: level 5, 32768-jiffy (131 s) buckets:
        // 55 · 32768 = 1 802 240 jiffies = 7208.96 s.
        assert_eq!(wheel_expiry(0, 1_800_000, 250), 1_802_240);
        // HZ 1000, 7200 s: level 6, 262144-jiffy (262 s) buckets: 28 of them, 7340.032 s.
        assert_eq!(wheel_expiry(0, 7_200_000, 1000), 7_340_032);
        // HZ 1000, 1 s: level 2, 64-jiffy buckets: 1024 ms.
        assert_eq!(wheel_expiry(0, 1000, 1000), 1024);
        // HZ 100, 75 s = 7500 jiffies: level 3, 512-jiffy buckets: 15 · 512 = 76.8 s.
        assert_eq!(tick_time(wheel_expiry(0, 7500, 100), 100), 76_800_000_000);
        // HZ 300, 1 s = 300 jiffies: 38 · 8 = 304 jiffies, 1013.33 ms (ticks are not whole
        // nanoseconds: rounded up).
        assert_eq!(wheel_expiry(0, 300, 300), 304);
        assert_eq!(tick_time(304, 300), 1_013_333_334);
        // Beyond the wheel (HZ 1000: LVL_START(9) = 63 << 24): capped at
        // WHEEL_TIMEOUT_MAX = LVL_START(9) - 8^8, then rounded in the last level.
        let cutoff = 63u64 << 24;
        let max = cutoff - (1 << 24);
        assert_eq!(wheel_expiry(0, 10 * cutoff, 1000), ((max >> 24) + 1) << 24);
        // HZ 100 has 8 levels: LVL_START(8) = 63 << 21 is already beyond.
        let cutoff = 63u64 << 21;
        assert_eq!(
            wheel_expiry(0, cutoff, 100),
            (((cutoff - (1 << 21)) >> 21) + 1) << 21
        );
        // Conversions: jiffies count down, durations round up (msecs_to_jiffies).
        assert_eq!(jiffies(3_999_999, 250), 0);
        assert_eq!(jiffies(4_000_000, 250), 1);
        assert_eq!(to_jiffies(4_000_001, 250), 2);
    }

    #[test]
    fn on_the_wheel_probes_come_1024_ms_apart_and_the_first_2016_ms_after_the_data() {
        // The measured Linux behaviour at HZ 250 (idle 2 s, interval 1 s, 3 probes).
        let k = TcpKeepalive {
            idle: SimDuration::from_secs(2),
            interval: SimDuration::from_secs(1),
            probes: 3,
            user_timeout: None,
            timer_hz: Some(250),
            rejoin: Rejoin::Announce,
        };
        let mut d = Detector::new(&DetectorKind::TcpKeepalive(k), 1, u64::MAX, &mut |_| 0);
        let mut h = Fixed(vec![]);
        assert_eq!(
            feed(&mut d, 0, 0, Input::Connected, RUNNING, &mut h),
            vec![Effect::Online, wake(2_016_000_000, 1)]
        );
        let mut at = 2_016_000_000;
        for probe in 0..3 {
            let out = feed(&mut d, at, 0, timer(probe + 1), RUNNING, &mut h);
            assert_eq!(
                out,
                vec![
                    Effect::Probe { tag: 0 },
                    wake(at + 1_024_000_000, probe + 2)
                ]
            );
            at += 1_024_000_000;
        }
        assert_eq!(
            feed(&mut d, at, 0, timer(4), RUNNING, &mut h),
            vec![Effect::Offline { window: 5 * S }]
        );
    }

    #[test]
    fn user_timeout_replaces_the_probe_count_and_data_in_flight_silences_keepalive() {
        let k = TcpKeepalive {
            idle: SimDuration::from_secs(10),
            interval: SimDuration::from_secs(2),
            probes: 3,
            user_timeout: Some(SimDuration::from_secs(20)),
            timer_hz: None,
            rejoin: Rejoin::Announce,
        };
        let mut d = Detector::new(&DetectorKind::TcpKeepalive(k), 1, u64::MAX, &mut |_| 0);
        let mut h = Fixed(vec![]);
        feed(&mut d, 0, 0, Input::Connected, RUNNING, &mut h);
        // Probes at 10, 12, ..., 18 s (5 of them, more than `probes`); at 20 s the silence
        // reaches the user timeout with probes out: reset (tcp_keepalive_timer).
        let mut at = 10 * S;
        for tag in 1..=5 {
            assert_eq!(
                feed(&mut d, at, 0, timer(tag), RUNNING, &mut h),
                vec![Effect::Probe { tag: 0 }, wake(at + 2 * S, tag + 1)]
            );
            at += 2 * S;
        }
        assert_eq!(
            feed(&mut d, at, 0, timer(6), RUNNING, &mut h),
            vec![Effect::Offline { window: 22 * S }]
        );
        // With data unacknowledged the timer probes nothing and looks again an idle time
        // later.
        let mut d = Detector::new(&DetectorKind::TcpKeepalive(k), 1, u64::MAX, &mut |_| 0);
        feed(&mut d, 0, 0, Input::Connected, RUNNING, &mut h);
        let busy = Host {
            sending: true,
            ..RUNNING
        };
        assert_eq!(
            feed(&mut d, 10 * S, 0, timer(1), busy, &mut h),
            vec![wake(20 * S, 2)]
        );
    }

    #[test]
    fn data_and_answers_push_the_probes_back() {
        let mut d = linux();
        let mut h = Fixed(vec![]);
        feed(&mut d, 0, 0, Input::Connected, RUNNING, &mut h);
        feed(&mut d, 100 * S, 0, Input::ConnectionData, RUNNING, &mut h);
        // The timer set at connect time finds newer data: it waits out the idle time again.
        assert_eq!(
            feed(&mut d, 7200 * S, 0, timer(1), RUNNING, &mut h),
            vec![wake(7300 * S, 2)]
        );
        feed(&mut d, 7300 * S, 0, timer(2), RUNNING, &mut h);
        assert_eq!(
            feed(
                &mut d,
                7301 * S,
                0,
                Input::Reply { tag: 0 },
                RUNNING,
                &mut h
            ),
            vec![Effect::Answered]
        );
        // The probe's timer, one interval later, finds the answer and waits out the rest
        // of the idle time from it.
        assert_eq!(
            feed(&mut d, 7375 * S, 0, timer(3), RUNNING, &mut h),
            vec![wake(14501 * S, 4)]
        );
        // A FIN closes the connection at once.
        assert_eq!(
            feed(
                &mut d,
                7302 * S,
                0,
                Input::ConnectionClosed,
                RUNNING,
                &mut h
            ),
            vec![Effect::Offline { window: 7875 * S }]
        );
    }
}
