//! The world and its run loop: the only place virtual time advances.
//!
//! Event classes at one instant follow DESIGN §4: faults (0), deliveries (1), detector
//! evaluations (2), sends (3); within a class, scheduling order. The fixed-timeout scanner
//! is simulated by exact per-client deadlines instead of visiting every client at every
//! scan: a client can only turn offline at the first scan instant at or after
//! `last_arrival + threshold`, so one `Check` event is armed for that instant and
//! re-armed (lazily, when it fires) if a later heartbeat moved the deadline. This gives
//! the same verdicts at the same instants as scanning every client at every tick, for
//! any scan interval including `0s` (continuous checking), without work per tick.

mod limits;
mod replicate;

pub use limits::{
    check_limits, estimate_events, estimate_memory, LimitExceeded, LimitKind, Limits,
};
pub use replicate::{replication_seed, simulate_replications};

use crate::base::queue::EventQueue;
use crate::base::rng::{self, Dist, Purpose, Stream};
use crate::base::time::{SimDuration, SimTime};
use crate::model::link::LinkRt;
use crate::model::tcp::{self, Tcp};
use crate::oracle::metrics::{DetectorAcc, GroupAcc};
use crate::oracle::{Outcome, Trace, Verdict, VerdictEvent};
use crate::scenario::{
    DetectorKind, Drift, Elapsed, FaultAction, Group, Loss, Phase, PhiAccrual, PhiVariant, Ping,
    Rejoin, Scenario, Schedule, StreamParams, TcpKeepalive, Transport,
};

/// "No such time": never armed, no pending crash, no open mistake, never heard from.
const NONE: u64 = u64::MAX;

const CLASS_FAULT: u8 = 0;
const CLASS_DELIVER: u8 = 1;
const CLASS_EVALUATE: u8 = 2;
const CLASS_SEND: u8 = 3;

/// A queued event: two words whose meaning depends on the event's class and kind, so
/// that a queue entry stays at 24 bytes (see the `K_*` constants).
#[derive(Clone, Copy, Debug)]
struct Event {
    a: u32,
    b: u32,
}

impl Event {
    const fn new(a: u32, b: u32) -> Self {
        Event { a, b }
    }
}

// Kinds of fault-class events.
/// A scenario fault: (fault index, 0).
const K_FAULT: u8 = 0;
/// A churning client goes down: (client, churn fault index).
const K_CHURN_DOWN: u8 = 1;
/// A churning client comes back: (client, churn fault index).
const K_CHURN_UP: u8 = 2;
/// A server stall may end: (0, 0).
const K_STALL_END: u8 = 3;
/// A client's stream connection is (re)established: (client, detector).
const K_KA_CONNECT: u8 = 4;
// Kinds of delivery-class events.
/// A datagram heartbeat arrives at the server: (client, 0).
const K_DATAGRAM: u8 = 0;
/// A stream segment arrives at the server: (client, low 32 bits of its sequence number).
const K_SEGMENT: u8 = 1;
/// A stream acknowledgement arrives at the client: (client, low 32 bits of the ack).
const K_ACK: u8 = 2;
/// A ping reaches the client: (client, detector << 24 | ping number).
const K_PING_AT_CLIENT: u8 = 3;
/// A ping's reply reaches the server: (client, detector << 24 | ping number).
const K_PING_REPLY: u8 = 4;
/// A keepalive probe reaches the client: (client, detector).
const K_KA_PROBE: u8 = 5;
/// The client kernel's answer to a probe reaches the server: (client, detector).
const K_KA_ACK: u8 = 6;
/// The FIN/RST of a crashed client process reaches the server: (client, detector).
const K_KA_FIN: u8 = 7;
/// A client's ping reaches the server: (client, detector << 24 | ping number).
const K_CPING_AT_SERVER: u8 = 8;
// Kinds of evaluation-class events.
/// A fixed-timeout deadline check: (client, detector).
const K_CHECK: u8 = 0;
/// A ping's timeout: (client, detector << 24 | ping number).
const K_PING_TIMEOUT: u8 = 1;
/// A keepalive timer: (client, detector << 24 | timer generation).
const K_KA_TIMER: u8 = 2;
// Kinds of send-class events.
/// The client's heartbeat timer fires: (client, generation).
const K_SEND: u8 = 0;
/// The client's retransmission timer fires: (client, timer generation).
const K_RTO: u8 = 1;
/// The server pings a client: (client, detector).
const K_PING: u8 = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Unknown,
    Online,
    Offline,
}

/// One detector's view of one client.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Watch {
    status: Status,
    /// Time of the armed `Check`, or NONE.
    armed_at: u64,
    /// Crash not yet detected, or NONE.
    pending_crash: u64,
    /// Start of an open false offline verdict, or NONE.
    mistake_start: u64,
    /// Last time the query-accuracy clocks were brought up to date.
    accounted_at: u64,
    /// First contact (the first online verdict), or NONE.
    first_contact: u64,
    /// Last false offline verdict (S-transition) in the current up period, or NONE.
    last_mistake: u64,
    /// Last end of a mistake (T-transition) in the current up period, or NONE.
    last_recovery: u64,
    /// Whether this detector has made a mistake about this client yet.
    mistaken: bool,
}

/// The per-client state touched by every heartbeat, kept small so that it fits in one
/// cache line; rarely used state lives in `ClientCold`.
pub(crate) struct Client {
    group: u16,
    up: bool,
    /// Gilbert–Elliott burst state of the uplink.
    uplink_bad: bool,
    /// How many detectors hold this client online.
    online_in: u16,
    /// Bumped by every crash and restart; a `Send` of an older generation is stale.
    generation: u32,
    /// Nominal time of the current fixed-rate grid point (without jitter).
    grid: u64,
    /// Arrival time (true time) of the last heartbeat applied to the server's state.
    last_arrival: u64,
    /// Before this time the client is paused or its links are cut (see `ClientCold`).
    disturbed_until: u64,
    /// A heartbeat in flight recorded without a queued delivery (see `World::on_send`):
    /// `(arrival time, reserved scheduling order)`, NONE when free.
    in_flight: [(u64, u64); IN_FLIGHT_SLOTS],
}

/// Per-client state used only by faults, clocks, streams and accounting.
pub(crate) struct ClientCold {
    /// Server clock offset when the last heartbeat was stamped: the stamp is
    /// `last_arrival + stamp_offset`.
    stamp_offset: i64,
    up_since: u64,
    /// The process is paused before this time.
    paused_until: u64,
    /// The links drop everything before this time.
    partitioned_until: u64,
    /// End of the latest pause or partition window (for `during_fault`).
    fault_until: u64,
    /// Real duration of one nominal nanosecond of the client's timers (drift).
    timer_scale: f64,
    /// Gilbert–Elliott burst state of the downlink.
    downlink_bad: bool,
}

impl ClientCold {
    /// A client timer of `nominal` ns takes this long in true time.
    #[inline]
    fn scaled(&self, nominal: u64) -> u64 {
        if self.timer_scale == 1.0 {
            nominal
        } else {
            libm::round(nominal as f64 * self.timer_scale) as u64
        }
    }
}

/// How many in-flight heartbeats a client can hold without queued deliveries; more than
/// that (delays longer than a few intervals) fall back to queued deliveries.
const IN_FLIGHT_SLOTS: usize = 1;

impl Client {
    /// Applies every recorded arrival at or before `now` to `last_arrival`.
    #[inline]
    fn settle(&mut self, now: u64) {
        for slot in &mut self.in_flight {
            if slot.0 <= now {
                // Slots are NONE when free, so a free slot never matches.
                self.last_arrival = if self.last_arrival == NONE {
                    slot.0
                } else {
                    self.last_arrival.max(slot.0)
                };
                *slot = (NONE, 0);
            }
        }
    }
}

/// Per-group settings, resolved for the hot path.
struct GroupRt {
    interval: u64,
    jitter: u64,
    schedule: Schedule,
    overshoot: Option<Dist>,
    uplink: LinkRt,
    downlink: LinkRt,
    stream: Option<StreamParams>,
    bytes: u64,
    /// Whether the group's clocks drift (timers need scaling).
    drifts: bool,
}

struct DetectorRt {
    rule: Rule,
    watches: Vec<Watch>,
    acc: Vec<DetectorAcc>,
    /// Per client, for phi-accrual detectors (empty otherwise).
    windows: Vec<PhiWindow>,
    /// An active ping detector's settings, its per-client state and its own streams.
    ping: Option<PingRt>,
    keepalive: Option<KeepaliveRt>,
    /// A client-to-server ping: each client's watch is its verdict about the server, so
    /// ground truth is the server's.
    about_server: bool,
}

/// One client's side of a ping detector.
#[derive(Clone, Copy, Debug, Default)]
struct PingState {
    /// Number of the current ping (low 24 bits travel in events).
    seq: u32,
    /// The current ping is over: answered in time, or timed out (a later reply is
    /// ignored), or forgotten by a restarted server.
    settled: bool,
    misses: u32,
    /// Gilbert–Elliott states of the ping's own packets down and up.
    down_bad: bool,
    up_bad: bool,
}

/// A ping detector: settings, per-client state, and per-client streams of its own.
struct PingRt {
    params: Ping,
    states: Vec<PingState>,
    phase: Vec<u64>,
    streams: ProbeStreams,
}

/// An active detector's own random streams, per client: the delays and losses of its
/// packets down and up. Drawing from them changes no other stream, so adding the detector
/// changes no other detector's results.
struct ProbeStreams {
    down_delay: Vec<Stream>,
    down_loss: Vec<Stream>,
    up_delay: Vec<Stream>,
    up_loss: Vec<Stream>,
}

impl ProbeStreams {
    /// The streams `per_client` gives for "down.delay", "down.loss", "up.delay", "up.loss".
    fn new(per_client: impl Fn(&str) -> Vec<Stream>) -> Self {
        ProbeStreams {
            down_delay: per_client("down.delay"),
            down_loss: per_client("down.loss"),
            up_delay: per_client("up.delay"),
            up_loss: per_client("up.loss"),
        }
    }

    /// One packet of client `ci` over the group's uplink (`up`) or downlink: its delay,
    /// then whether the link loses it (`bad` is that direction's Gilbert–Elliott state).
    fn draw(&mut self, g: &GroupRt, ci: usize, bad: &mut bool, up: bool) -> (u64, bool) {
        if up {
            let delay = g.uplink.delay(pick(&mut self.up_delay, ci));
            (delay, g.uplink.lost(bad, pick(&mut self.up_loss, ci)))
        } else {
            let delay = g.downlink.delay(pick(&mut self.down_delay, ci));
            (delay, g.downlink.lost(bad, pick(&mut self.down_loss, ci)))
        }
    }
}

const PING_SEQ_MASK: u32 = (1 << 24) - 1;

/// One client's connection as the server's keepalive sees it.
#[derive(Clone, Copy, Debug, Default)]
struct KeepaliveState {
    /// Last time anything arrived on the connection.
    last_rx: u64,
    /// Unanswered probes since then.
    probes_out: u32,
    /// Generation of the armed timer (older timer events are stale).
    generation: u32,
    down_bad: bool,
    up_bad: bool,
}

/// A tcp-keepalive detector: settings, per-client connection state, its own streams.
struct KeepaliveRt {
    params: TcpKeepalive,
    states: Vec<KeepaliveState>,
    streams: ProbeStreams,
}

impl DetectorRt {
    /// Whether the detector probes on its own (ping, keepalive): it learns nothing from
    /// heartbeats, and heartbeat-driven scans (deadlines, catch-up scans, clock-step
    /// re-arming) never judge its clients.
    fn is_active(&self) -> bool {
        self.ping.is_some() || self.keepalive.is_some()
    }

    /// The elapsed time at which client `ci` is overdue.
    #[inline]
    fn threshold(&self, ci: usize) -> u64 {
        match self.windows.get(ci) {
            Some(w) => w.critical,
            None => self.rule.threshold,
        }
    }
}

/// A passive detector's rule and the scan arithmetic derived from it.
///
/// Elapsed time is measured on the server's wall clock: `elapsed = now + offset - stamp`,
/// which a clock step can make negative. `base = stamp - offset` is the true time at which
/// the elapsed time was zero under the current offset. A client is overdue once its
/// elapsed time reaches a threshold: fixed for `fixed-timeout`, per client and moving with
/// every heartbeat for `phi-accrual` (the time at which φ reaches its threshold).
struct Rule {
    scan_interval: u64,
    scan_phase: u64,
    rejoin: Rejoin,
    elapsed: Elapsed,
    /// The fixed threshold (fixed-timeout).
    threshold: u64,
    /// `ceil(threshold)` in whole seconds, for the seconds-component rule.
    threshold_whole_secs: i64,
    phi: Option<PhiAccrual>,
}

/// One client's window of inter-arrival times for a phi-accrual detector.
#[derive(Clone, Debug)]
struct PhiWindow {
    intervals: std::collections::VecDeque<u64>,
    sum: u128,
    sum_squares: u128,
    /// The previous arrival, or NONE.
    last: u64,
    /// Elapsed time at which φ reaches the threshold, ns.
    critical: u64,
}

impl PhiWindow {
    fn new(p: &PhiAccrual) -> Self {
        let mut w = PhiWindow {
            intervals: std::collections::VecDeque::new(),
            sum: 0,
            sum_squares: 0,
            last: NONE,
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
    fn arrive(&mut self, now: u64, p: &PhiAccrual) {
        if self.last != NONE {
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

const SECOND: i64 = 1_000_000_000;
const MINUTE: i64 = 60 * SECOND;

impl Rule {
    /// Whether `elapsed` ns since the last heartbeat make a client offline.
    #[inline]
    fn is_overdue(&self, elapsed: i64, threshold: u64) -> bool {
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
    fn scan_at_or_after(&self, t: u64) -> u64 {
        let s = self.scan_interval;
        if s == 0 {
            return t;
        }
        let first = self.scan_phase.saturating_add(s);
        if t <= first {
            return first;
        }
        let k = (t - first).div_ceil(s);
        first.saturating_add(k.saturating_mul(s))
    }

    /// The first scan instant at or after `now` at which a client whose elapsed time was
    /// zero at true time `base` is overdue, assuming no further heartbeat and no clock
    /// step; NONE if that is at or after `end`.
    fn next_due(&self, base: i64, now: u64, end: u64, threshold: u64) -> u64 {
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
                        return NONE;
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
            NONE
        } else {
            due
        }
    }
}

/// Per-purpose streams of every client; a purpose no group draws from has none.
struct Streams {
    jitter: Vec<Stream>,
    overshoot: Vec<Stream>,
    uplink_delay: Vec<Stream>,
    uplink_loss: Vec<Stream>,
    uplink_duplicate: Vec<Stream>,
    downlink_delay: Vec<Stream>,
    downlink_loss: Vec<Stream>,
    churn: Vec<Stream>,
}

/// The stream of client `i` among `streams`, if that purpose has streams.
#[inline]
fn pick(streams: &mut [Stream], i: usize) -> Option<&mut Stream> {
    streams.get_mut(i)
}

fn streams_for(
    s: &Scenario,
    seed: u64,
    purpose: Purpose,
    used: impl Fn(&Group) -> bool,
) -> Vec<Stream> {
    if !s.groups.iter().any(&used) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for g in &s.groups {
        let key = rng::key(seed, purpose, &g.name);
        out.extend((0..g.count).map(|i| rng::stream(key, i)));
    }
    out
}

impl Streams {
    fn new(s: &Scenario, seed: u64) -> Self {
        let is_stream = |g: &Group| matches!(g.transport, Transport::Stream(_));
        Streams {
            jitter: streams_for(s, seed, Purpose::Jitter, |g| !g.heartbeat.jitter.is_zero()),
            overshoot: streams_for(s, seed, Purpose::Overshoot, |g| {
                g.heartbeat.overshoot.is_some()
            }),
            uplink_delay: streams_for(s, seed, Purpose::UplinkDelay, |g| g.uplink.delay.is_some()),
            uplink_loss: streams_for(s, seed, Purpose::UplinkLoss, |g| {
                g.uplink.loss != Loss::None
            }),
            uplink_duplicate: streams_for(s, seed, Purpose::UplinkDuplicate, |g| {
                g.uplink.duplicate > 0.0
            }),
            downlink_delay: streams_for(s, seed, Purpose::DownlinkDelay, |g| {
                is_stream(g) && g.downlink.delay.is_some()
            }),
            downlink_loss: streams_for(s, seed, Purpose::DownlinkLoss, |g| {
                is_stream(g) && g.downlink.loss != Loss::None
            }),
            churn: streams_for(s, seed, Purpose::Churn, |_| {
                s.faults
                    .iter()
                    .any(|f| matches!(f.action, FaultAction::Churn { .. }))
            }),
        }
    }
}

/// One simulated world.
pub struct World<'s> {
    scenario: &'s Scenario,
    end: u64,
    now: u64,
    queue: EventQueue<Event>,
    clients: Vec<Client>,
    cold: Vec<ClientCold>,
    groups: Vec<GroupRt>,
    rng: Streams,
    /// Stream-transport state per client (empty if no group uses it).
    tcp: Vec<Tcp>,
    detectors: Vec<DetectorRt>,
    group_acc: Vec<GroupAcc>,
    /// First client id of each group, then the total.
    group_start: Vec<u32>,
    events: u64,
    n_detectors: u16,
    /// Whether arrivals may be recorded in clients instead of queued (`on_send`). Off
    /// where an arrival can do more than move `last_arrival` later: under the
    /// seconds-component rule (it may move a check earlier), and with partitions, server
    /// stalls or clock steps in the scenario.
    lazy_arrivals: bool,
    /// Whether the server process is running (see `server-crash`).
    server_up: bool,
    /// Server wall clock minus true time.
    clock_offset: i64,
    /// Whether the server clock has stepped (until then every stamp is its arrival time).
    clock_stepped: bool,
    /// The server is stalled before this time.
    stalled_until: u64,
    /// When the current (or last) stall began.
    stall_began: u64,
    /// End of the latest server-wide fault window (stall, clock step), for `during_fault`.
    server_fault_until: u64,
    /// Arrivals waiting for a stall to end, in arrival order.
    backlog: Vec<u32>,
}

impl<'s> World<'s> {
    /// Builds the world at time 0 with the given seed (the scenario's unless overridden).
    pub fn new(scenario: &'s Scenario, seed: u64) -> Self {
        let s = scenario;
        let total: usize = s.groups.iter().map(|g| g.count as usize).sum();
        assert!(total <= u32::MAX as usize, "too many clients");
        let mut group_start = Vec::with_capacity(s.groups.len() + 1);
        let mut n = 0u32;
        for g in &s.groups {
            group_start.push(n);
            n += g.count;
        }
        group_start.push(n);

        let groups: Vec<GroupRt> = s
            .groups
            .iter()
            .map(|g| GroupRt {
                interval: g.heartbeat.interval.as_nanos(),
                jitter: g.heartbeat.jitter.as_nanos(),
                schedule: g.heartbeat.schedule,
                overshoot: g.heartbeat.overshoot.clone(),
                uplink: LinkRt::new(&g.uplink),
                downlink: LinkRt::new(&g.downlink),
                stream: match g.transport {
                    Transport::Datagram => None,
                    Transport::Stream(p) => Some(p),
                },
                bytes: g.heartbeat.bytes as u64,
                drifts: g.heartbeat.drift_ppm != Drift::Fixed(0.0),
            })
            .collect();

        // Events per virtual second and how far ahead they are scheduled size the wheel.
        let mut rate = 0.0;
        let mut horizon: u64 = 1_000_000;
        for g in &s.groups {
            let h = g.heartbeat.interval.as_nanos();
            rate += g.count as f64 * 2e9 / h as f64;
            let mut ahead = h + g.heartbeat.jitter.as_nanos();
            if let Some(o) = &g.heartbeat.overshoot {
                ahead = ahead.saturating_add(o.mean().unwrap_or(0.0) as u64);
            }
            horizon = horizon.max(ahead);
            if let Some(d) = &g.uplink.delay {
                let typical = d
                    .upper_bound()
                    .unwrap_or_else(|| (d.mean().unwrap_or(0.0) * 2.0) as u64);
                horizon = horizon.max(typical);
            }
        }
        for d in &s.detectors {
            let (scan, _, _) = d.kind.scanning();
            let threshold = match &d.kind {
                DetectorKind::FixedTimeout(ft) => ft.threshold.as_nanos(),
                DetectorKind::PhiAccrual(p) => {
                    p.first_heartbeat_estimate.as_nanos() + p.acceptable_heartbeat_pause.as_nanos()
                }
                DetectorKind::Ping(p) => p.interval.as_nanos() / 4,
                DetectorKind::TcpKeepalive(k) => k.interval.as_nanos(),
            };
            horizon = horizon.max(threshold + scan.as_nanos());
            rate += total as f64 * 1e9 / threshold.max(1) as f64;
        }
        let horizon = horizon
            .min(s.duration.as_nanos())
            .saturating_add(horizon / 4);
        let mut queue = EventQueue::for_workload(rate, horizon);

        let mut clients = Vec::with_capacity(total);
        let mut cold = Vec::with_capacity(total);
        for (gi, g) in s.groups.iter().enumerate() {
            let phase_key = rng::key(seed, Purpose::Phase, &g.name);
            let drift_key = rng::key(seed, Purpose::Drift, &g.name);
            for i in 0..g.count {
                let phase = match g.heartbeat.phase {
                    Phase::Random => rng::below(
                        &mut rng::stream(phase_key, i),
                        g.heartbeat.interval.as_nanos(),
                    ),
                    Phase::Aligned => 0,
                    Phase::At(d) => d.as_nanos(),
                };
                let ppm = match g.heartbeat.drift_ppm {
                    Drift::Fixed(p) => p,
                    Drift::Uniform { min, max } => {
                        min + (max - min) * rng::unit(&mut rng::stream(drift_key, i))
                    }
                };
                let id = clients.len() as u32;
                clients.push(Client {
                    group: gi as u16,
                    up: true,
                    uplink_bad: false,
                    online_in: 0,
                    generation: 0,
                    grid: phase,
                    last_arrival: NONE,
                    disturbed_until: 0,
                    in_flight: [(NONE, 0); IN_FLIGHT_SLOTS],
                });
                cold.push(ClientCold {
                    stamp_offset: 0,
                    up_since: 0,
                    paused_until: 0,
                    partitioned_until: 0,
                    fault_until: 0,
                    // A clock running fast by `ppm` counts a nominal second in less time.
                    timer_scale: 1e6 / (1e6 + ppm),
                    downlink_bad: false,
                });
                if g.heartbeat.enabled && phase < s.duration.as_nanos() {
                    queue.push(phase, CLASS_SEND, K_SEND, Event::new(id, 0));
                }
            }
        }
        for (i, f) in s.faults.iter().enumerate() {
            queue.push(
                f.at.as_nanos(),
                CLASS_FAULT,
                K_FAULT,
                Event::new(i as u32, 0),
            );
        }

        let tcp = if s
            .groups
            .iter()
            .any(|g| matches!(g.transport, Transport::Stream(_)))
        {
            s.groups
                .iter()
                .flat_map(|g| {
                    let params = match g.transport {
                        Transport::Stream(p) => p,
                        Transport::Datagram => StreamParams {
                            rto_initial: SimDuration::SECOND,
                            rto_min: SimDuration::SECOND,
                            rto_max: SimDuration::SECOND,
                            retries: 1,
                        },
                    };
                    (0..g.count).map(move |_| Tcp::new(&params))
                })
                .collect()
        } else {
            Vec::new()
        };

        let detectors: Vec<DetectorRt> = s
            .detectors
            .iter()
            .map(|d| {
                let (scan_interval, scan_phase, rejoin) = d.kind.scanning();
                let (threshold, elapsed, phi) = match &d.kind {
                    DetectorKind::FixedTimeout(ft) => (ft.threshold.as_nanos(), ft.elapsed, None),
                    DetectorKind::PhiAccrual(p) => (0, Elapsed::Total, Some(*p)),
                    // The ping's verdict window: its misses and the last timeout.
                    DetectorKind::Ping(p) => (
                        p.interval.as_nanos() * p.misses as u64 + p.timeout.as_nanos(),
                        Elapsed::Total,
                        None,
                    ),
                    DetectorKind::TcpKeepalive(k) => (
                        k.idle.as_nanos() + k.interval.as_nanos() * k.probes as u64,
                        Elapsed::Total,
                        None,
                    ),
                };
                // An active detector's streams, labelled "{prefix}.{detector}.{what}".
                let own = |prefix: &'static str| {
                    move |what: &str| -> Vec<Stream> {
                        let label = format!("{prefix}.{}.{what}", d.name);
                        let mut out = Vec::with_capacity(total);
                        for g in &s.groups {
                            let key = rng::key_for_label(seed, &label, &g.name);
                            out.extend((0..g.count).map(|i| rng::stream(key, i)));
                        }
                        out
                    }
                };
                let keepalive = match &d.kind {
                    DetectorKind::TcpKeepalive(k) => Some(KeepaliveRt {
                        params: *k,
                        states: vec![KeepaliveState::default(); total],
                        streams: ProbeStreams::new(own("keepalive")),
                    }),
                    _ => None,
                };
                let ping = match &d.kind {
                    DetectorKind::Ping(p) => Some(PingRt {
                        params: *p,
                        states: vec![PingState::default(); total],
                        phase: own("ping")("phase")
                            .iter_mut()
                            .map(|r| rng::below(r, p.interval.as_nanos()))
                            .collect(),
                        streams: ProbeStreams::new(own("ping")),
                    }),
                    _ => None,
                };
                DetectorRt {
                    about_server: matches!(&d.kind, DetectorKind::Ping(p) if p.client_to_server),
                    ping,
                    keepalive,
                    windows: match &phi {
                        Some(p) => vec![PhiWindow::new(p); total],
                        None => Vec::new(),
                    },
                    rule: Rule {
                        scan_interval: scan_interval.as_nanos(),
                        scan_phase: scan_phase.as_nanos(),
                        rejoin,
                        elapsed,
                        threshold,
                        threshold_whole_secs: threshold.div_ceil(SECOND as u64) as i64,
                        phi,
                    },
                    watches: vec![
                        Watch {
                            status: Status::Unknown,
                            armed_at: NONE,
                            pending_crash: NONE,
                            mistake_start: NONE,
                            accounted_at: 0,
                            first_contact: NONE,
                            last_mistake: NONE,
                            last_recovery: NONE,
                            mistaken: false,
                        };
                        total
                    ],
                    acc: vec![DetectorAcc::default(); s.groups.len()],
                }
            })
            .collect();
        let group_acc = s
            .groups
            .iter()
            .map(|g| GroupAcc {
                clients: g.count as u64,
                ..GroupAcc::default()
            })
            .collect();
        // Every keepalive connection is open from the start.
        for (di, d) in detectors.iter().enumerate() {
            if d.keepalive.is_some() {
                for ci in 0..total {
                    queue.push(
                        0,
                        CLASS_FAULT,
                        K_KA_CONNECT,
                        Event::new(ci as u32, di as u32),
                    );
                }
            }
        }
        // The first ping of each active detector to each client, at its own phase.
        for (di, d) in detectors.iter().enumerate() {
            if let Some(p) = &d.ping {
                for (ci, &phase) in p.phase.iter().enumerate() {
                    if phase < s.duration.as_nanos() {
                        queue.push(phase, CLASS_SEND, K_PING, Event::new(ci as u32, di as u32));
                    }
                }
            }
        }
        let disturbs_arrivals = s.faults.iter().any(|f| {
            matches!(
                f.action,
                FaultAction::Partition { .. }
                    | FaultAction::ServerStall { .. }
                    | FaultAction::ClockStep { .. }
                    | FaultAction::ServerCrash
            )
        });

        World {
            scenario,
            end: s.duration.as_nanos(),
            now: 0,
            queue,
            clients,
            cold,
            groups,
            rng: Streams::new(s, seed),
            tcp,
            detectors,
            group_acc,
            group_start,
            events: 0,
            // Detectors whose verdicts are about clients (the lazy-arrival rule counts them).
            n_detectors: u16::try_from(
                s.detectors
                    .iter()
                    .filter(|d| !matches!(&d.kind, DetectorKind::Ping(p) if p.client_to_server))
                    .count(),
            )
            .expect("too many detectors"),
            // Phi learns from every arrival, so its arrivals are all queued.
            lazy_arrivals: !disturbs_arrivals
                && s.detectors.iter().all(|d| match d.kind {
                    DetectorKind::FixedTimeout(ft) => ft.elapsed == Elapsed::Total,
                    DetectorKind::PhiAccrual(_) => false,
                    DetectorKind::Ping(_) | DetectorKind::TcpKeepalive(_) => true,
                }),
            server_up: true,
            clock_offset: 0,
            clock_stepped: false,
            stalled_until: 0,
            stall_began: 0,
            server_fault_until: 0,
            backlog: Vec::new(),
        }
    }

    /// Queues every delivery instead of recording arrivals in clients: the reference
    /// behaviour that the recorded arrivals must reproduce exactly (tests compare both).
    pub fn with_queued_deliveries(mut self) -> Self {
        self.lazy_arrivals = false;
        self
    }

    /// Runs to the end of the scenario's duration. Events at times in `[0, duration)` are
    /// processed; the run then closes every open interval at `duration`. `trace` sees each
    /// verdict change in time order.
    pub fn run(
        mut self,
        limits: Limits,
        mut trace: Option<&mut dyn FnMut(&VerdictEvent)>,
    ) -> Result<Outcome, LimitExceeded> {
        let estimate = estimate_events(self.scenario);
        while let Some((at, class, kind, event)) = self.queue.pop() {
            assert!(at >= self.now, "time went backwards: {at} < {}", self.now);
            if at >= self.end {
                break;
            }
            self.now = at;
            self.events += 1;
            if self.events > limits.max_events {
                return Err(LimitExceeded {
                    kind: LimitKind::Events,
                    estimate,
                    limit: limits.max_events,
                    during_run: true,
                });
            }
            match (class, kind) {
                (CLASS_SEND, K_SEND) => self.on_send(event.a, event.b),
                (CLASS_DELIVER, K_DATAGRAM) => self.on_datagram(event.a, event.b, &mut trace),
                (CLASS_EVALUATE, K_CHECK) => self.on_check(event.b, event.a, &mut trace),
                (CLASS_DELIVER, K_SEGMENT) => self.on_segment(event.a, event.b, &mut trace),
                (CLASS_DELIVER, K_ACK) => self.on_ack(event.a, event.b),
                (CLASS_SEND, K_RTO) => self.on_rto(event.a, event.b),
                (CLASS_SEND, K_PING) => self.on_ping(event.a, event.b),
                (CLASS_FAULT, K_KA_CONNECT) => self.on_ka_connect(event.a, event.b, &mut trace),
                (CLASS_EVALUATE, K_KA_TIMER) => self.on_ka_timer(event.a, event.b, &mut trace),
                (CLASS_DELIVER, K_KA_PROBE) => self.on_ka_probe(event.a, event.b),
                (CLASS_DELIVER, K_KA_ACK) => self.on_ka_ack(event.a, event.b),
                (CLASS_DELIVER, K_KA_FIN) => self.on_ka_fin(event.a, event.b, &mut trace),
                (CLASS_DELIVER, K_CPING_AT_SERVER) => {
                    self.on_client_ping_at_server(event.a, event.b)
                }
                (CLASS_DELIVER, K_PING_AT_CLIENT) => self.on_ping_at_client(event.a, event.b),
                (CLASS_DELIVER, K_PING_REPLY) => self.on_ping_reply(event.a, event.b, &mut trace),
                (CLASS_EVALUATE, K_PING_TIMEOUT) => {
                    self.on_ping_timeout(event.a, event.b, &mut trace)
                }
                (CLASS_FAULT, K_FAULT) => self.on_fault(event.a as usize, &mut trace),
                (CLASS_FAULT, K_CHURN_DOWN) => self.on_churn_down(event.a, event.b, &mut trace),
                (CLASS_FAULT, K_CHURN_UP) => self.on_churn_up(event.a, event.b, &mut trace),
                (CLASS_FAULT, K_STALL_END) => self.on_stall_end(&mut trace),
                _ => unreachable!("unknown event class {class} kind {kind}"),
            }
        }
        self.now = self.end;
        Ok(self.finish())
    }

    /// The client's heartbeat timer fires.
    fn on_send(&mut self, id: u32, generation: u32) {
        let now = self.now;
        let ci = id as usize;
        let c = &mut self.clients[ci];
        if c.generation != generation || !c.up {
            return;
        }
        if now < c.disturbed_until && now < self.cold[ci].paused_until {
            // A paused process cannot send; its timer is serviced when it resumes.
            let resume = self.cold[ci].paused_until;
            if resume < self.end {
                self.queue
                    .push(resume, CLASS_SEND, K_SEND, Event::new(id, generation));
            }
            return;
        }
        let gi = c.group as usize;
        let g = &self.groups[gi];
        let acc = &mut self.group_acc[gi];
        acc.heartbeats_sent += 1;
        acc.bytes_up += g.bytes;
        if g.stream.is_some() {
            self.stream_send(id);
        } else {
            self.datagram_send(id);
        }
        self.schedule_next_send(id, generation);
    }

    fn schedule_next_send(&mut self, id: u32, generation: u32) {
        let now = self.now;
        let ci = id as usize;
        let c = &mut self.clients[ci];
        let g = &self.groups[c.group as usize];
        // Jitter is drawn in [0, 2·jitter] and shifted back, so it is never negative.
        let jitter = if g.jitter > 0 {
            rng::between(&mut self.rng.jitter[ci], 0, 2 * g.jitter)
        } else {
            0
        };
        let overshoot = match &g.overshoot {
            Some(d) => d.sample(&mut self.rng.overshoot[ci]),
            None => 0,
        };
        let next = if g.drifts {
            let cold = &self.cold[ci];
            match g.schedule {
                Schedule::FixedRate => {
                    c.grid = next_grid_point(c.grid, cold.scaled(g.interval), now);
                    (c.grid + cold.scaled(jitter + overshoot))
                        .saturating_sub(cold.scaled(g.jitter))
                        .max(now)
                }
                Schedule::FixedDelay => {
                    now.saturating_add(cold.scaled(g.interval + jitter + overshoot - g.jitter))
                }
            }
        } else {
            match g.schedule {
                Schedule::FixedRate => {
                    c.grid = next_grid_point(c.grid, g.interval, now);
                    (c.grid + jitter + overshoot)
                        .saturating_sub(g.jitter)
                        .max(now)
                }
                Schedule::FixedDelay => {
                    now.saturating_add(g.interval + jitter + overshoot - g.jitter)
                }
            }
        };
        if next < self.end {
            self.queue
                .push(next, CLASS_SEND, K_SEND, Event::new(id, generation));
        }
    }

    /// Whether the client's links are cut at `t`.
    #[inline]
    fn partitioned(&self, ci: usize, t: u64) -> bool {
        t < self.clients[ci].disturbed_until && t < self.cold[ci].partitioned_until
    }

    /// The delay and fate of the next packet on client `ci`'s uplink. Every draw happens
    /// for every packet, lost or not, so that each stream stays aligned with the send
    /// sequence whatever the other settings (common random numbers across loss settings).
    #[inline]
    fn uplink_draw(&mut self, ci: usize) -> (u64, bool) {
        let partitioned = self.partitioned(ci, self.now);
        let c = &mut self.clients[ci];
        let g = &self.groups[c.group as usize];
        let delay = g.uplink.delay(pick(&mut self.rng.uplink_delay, ci));
        let lost = g
            .uplink
            .lost(&mut c.uplink_bad, pick(&mut self.rng.uplink_loss, ci))
            || partitioned;
        (delay, lost)
    }

    /// Sends one datagram heartbeat (and perhaps a duplicate) on the uplink.
    fn datagram_send(&mut self, id: u32) {
        let now = self.now;
        let ci = id as usize;
        let (delay, lost) = self.uplink_draw(ci);
        let gi = self.clients[ci].group as usize;
        let g = &self.groups[gi];
        let acc = &mut self.group_acc[gi];
        if lost {
            acc.lost += 1;
            return;
        }
        let duplicate = g.uplink.duplicate(pick(&mut self.rng.uplink_duplicate, ci));
        if duplicate.is_some() {
            acc.duplicated += 1;
        }
        // The copy is applied like the original but counted only as a duplicate.
        self.datagram_in_flight(id, now.saturating_add(delay), false);
        if let Some(d) = duplicate {
            self.datagram_in_flight(id, now.saturating_add(d), true);
        }
    }

    /// Schedules the arrival of a datagram at `at`, or records it in the client.
    #[inline]
    fn datagram_in_flight(&mut self, id: u32, at: u64, copy: bool) {
        if at >= self.end {
            return;
        }
        let now = self.now;
        let c = &mut self.clients[id as usize];
        // While every detector holds the client online, an arrival changes nothing but
        // `last_arrival`, which only that client's checks read. It is then recorded in the
        // client instead of queued, and applied when a check (or a queued delivery)
        // looks; if a detector turns the client offline before it arrives, it is queued
        // then with the scheduling order reserved now, so the result is the same as
        // queueing every delivery.
        let seq = self.queue.reserve_seq();
        if self.lazy_arrivals && c.online_in == self.n_detectors {
            // Arrivals up to now have happened (deliveries precede sends at one
            // instant); applying them frees their slots.
            c.settle(now);
            if let Some(slot) = c.in_flight.iter_mut().find(|s| s.0 == NONE) {
                *slot = (at, seq);
                // Every recorded arrival is applied before the end.
                self.group_acc[c.group as usize].delivered += !copy as u64;
                return;
            }
        }
        self.queue.push_with_seq(
            at,
            CLASS_DELIVER,
            K_DATAGRAM,
            seq,
            Event::new(id, copy as u32),
        );
    }

    /// A queued datagram (`copy` = 1 for a duplicate) reaches the server, unless the
    /// link was cut meanwhile.
    fn on_datagram(&mut self, id: u32, copy: u32, trace: &mut Trace<'_>) {
        let ci = id as usize;
        let gi = self.clients[ci].group as usize;
        let original = copy == 0;
        if self.partitioned(ci, self.now) {
            self.group_acc[gi].lost += original as u64;
            return;
        }
        self.group_acc[gi].delivered += original as u64;
        self.arrive(id, trace);
    }

    /// A heartbeat reaches the server application, or waits if the server is stalled.
    fn arrive(&mut self, id: u32, trace: &mut Trace<'_>) {
        if !self.server_up {
            return; // nobody is listening
        }
        if self.now < self.stalled_until {
            self.backlog.push(id);
        } else {
            self.apply_arrival(id, trace);
        }
    }

    /// The server records a heartbeat of client `id` at `now`.
    fn apply_arrival(&mut self, id: u32, trace: &mut Trace<'_>) {
        let now = self.now;
        let ci = id as usize;
        let c = &mut self.clients[ci];
        c.settle(now);
        c.last_arrival = now;
        if self.clock_stepped {
            self.cold[ci].stamp_offset = self.clock_offset;
        }
        let base = now as i64;
        for di in 0..self.detectors.len() {
            let d = &mut self.detectors[di];
            if d.is_active() {
                // Active detectors learn from their own probes, not from heartbeats.
                continue;
            }
            if let (Some(p), Some(win)) = (d.rule.phi, d.windows.get_mut(ci)) {
                win.arrive(now, &p);
            }
            let w = &mut d.watches[ci];
            let became_online = match w.status {
                Status::Unknown => true,
                Status::Offline => d.rule.rejoin == Rejoin::Announce,
                Status::Online => false,
            };
            if became_online {
                self.mark_online(di, id, trace);
            }
            let d = &mut self.detectors[di];
            let w = &mut d.watches[ci];
            if w.status != Status::Online {
                continue;
            }
            // Under the total rule a later heartbeat only moves the deadline later, so an
            // armed check stays valid; under the seconds rule, for phi (whose threshold
            // moves), or once a clock step has made stamps and arrival times disagree, it
            // may need to come earlier.
            let rearm = w.armed_at == NONE
                || self.clock_stepped
                || d.rule.phi.is_some()
                || d.rule.elapsed == Elapsed::SecondsComponent;
            if rearm {
                let threshold = match (d.rule.phi, d.windows.get(ci)) {
                    (Some(_), Some(win)) => win.critical,
                    _ => d.rule.threshold,
                };
                let due = d.rule.next_due(base, now + 1, self.end, threshold);
                if due < w.armed_at {
                    w.armed_at = due;
                    self.queue
                        .push(due, CLASS_EVALUATE, K_CHECK, Event::new(id, di as u32));
                }
            }
        }
    }

    /// Detector `di` turns client `id` online now (first contact or rejoin).
    fn mark_online(&mut self, di: usize, id: u32, trace: &mut Trace<'_>) {
        let now = self.now;
        let ci = id as usize;
        let about_server = self.detectors[di].about_server;
        let gi = self.clients[ci].group as usize;
        let up = if about_server {
            self.server_up
        } else {
            self.clients[ci].up
        };
        let d = &mut self.detectors[di];
        let w = &mut d.watches[ci];
        account(w, &mut d.acc[gi], up, now);
        if w.mistake_start != NONE {
            d.acc[gi].mistakes.push(now - w.mistake_start);
            w.mistake_start = NONE;
            w.last_recovery = now;
        }
        if w.first_contact == NONE {
            w.first_contact = now;
        }
        w.status = Status::Online;
        if !about_server {
            self.clients[ci].online_in += 1;
        }
        if let Some(t) = trace.as_mut() {
            let (group, index) = locate(&self.group_start, id);
            let last = self.clients[ci].last_arrival;
            (*t)(&VerdictEvent {
                time: SimTime(now),
                detector: Some(di),
                group,
                index,
                verdict: Verdict::Online,
                last_arrival: SimTime(if last == NONE { 0 } else { last }),
                client_up: up,
            });
        }
    }

    fn on_check(&mut self, di: u32, id: u32, trace: &mut Trace<'_>) {
        let now = self.now;
        let ci = id as usize;
        let w = &mut self.detectors[di as usize].watches[ci];
        if w.armed_at != now {
            return; // superseded by an earlier check
        }
        w.armed_at = NONE;
        if !self.server_up {
            return; // a dead server checks nothing; it starts afresh on restart
        }
        if now < self.stalled_until {
            // Scans are skipped while the server is stalled; the catch-up scan at the end
            // of the stall looks at every client.
            return;
        }
        self.evaluate(di as usize, id, true, trace);
    }

    /// One scan of one client by one detector: offline if overdue, else re-armed.
    /// `convict` false re-arms without any offline verdict (Cassandra's local-pause guard).
    fn evaluate(&mut self, di: usize, id: u32, convict: bool, trace: &mut Trace<'_>) {
        let now = self.now;
        let ci = id as usize;
        let c = &mut self.clients[ci];
        c.settle(now);
        let last = c.last_arrival;
        let d = &mut self.detectors[di];
        if d.watches[ci].status != Status::Online {
            return;
        }
        // Stamps differ from arrival times only once the server clock has stepped; phi
        // measures with a monotonic clock, as Akka and Cassandra do.
        let base = if self.clock_stepped && d.rule.phi.is_none() {
            last as i64 + self.cold[ci].stamp_offset - self.clock_offset
        } else {
            last as i64
        };
        let elapsed = now as i64 - base;
        let threshold = d.threshold(ci);
        let w = &mut d.watches[ci];
        if !d.rule.is_overdue(elapsed, threshold) || !convict {
            let due = d.rule.next_due(base, now + 1, self.end, threshold);
            if due != NONE && due < w.armed_at {
                w.armed_at = due;
                self.queue
                    .push(due, CLASS_EVALUATE, K_CHECK, Event::new(id, di as u32));
            }
            return;
        }
        self.mark_offline(di, id, threshold, trace);
    }

    /// Detector `di` turns client `id` offline now. `window` is how far back a fault
    /// window makes the verdict `during_fault`.
    fn mark_offline(&mut self, di: usize, id: u32, window: u64, trace: &mut Trace<'_>) {
        let now = self.now;
        let ci = id as usize;
        let server_up = self.server_up;
        let c = &mut self.clients[ci];
        // Recorded arrivals up to now have happened; later ones are queued below.
        c.settle(now);
        let d = &mut self.detectors[di];
        let about_server = d.about_server;
        let (gi, last) = (c.group as usize, c.last_arrival);
        let up = if about_server { server_up } else { c.up };
        let threshold = window;
        let w = &mut d.watches[ci];
        let acc = &mut d.acc[gi];
        account(w, acc, up, now);
        w.status = Status::Offline;
        if !about_server {
            c.online_in -= 1;
        }
        // Heartbeats still in flight must now arrive as queued deliveries, since their
        // arrival will change this detector's verdict.
        for slot in &mut c.in_flight {
            if slot.0 != NONE {
                // Queued as a copy: it was counted as delivered when it was recorded.
                self.queue.push_with_seq(
                    slot.0,
                    CLASS_DELIVER,
                    K_DATAGRAM,
                    slot.1,
                    Event::new(id, 1),
                );
                *slot = (NONE, 0);
            }
        }
        if up {
            // A mistake. It is caused by a fault if a fault window touching this client
            // was active within the threshold before the verdict.
            let window_end = self.cold[ci].fault_until.max(self.server_fault_until);
            if window_end != 0 && window_end.saturating_add(threshold) >= now {
                acc.fp_during_fault += 1;
            } else {
                acc.fp_spurious += 1;
            }
            w.mistake_start = now;
            // Chen–Toueg: mistake recurrence (S to S) and good period (T to S), within
            // one up period; time to the first mistake from first contact.
            if w.last_mistake != NONE {
                acc.recurrences.push(now - w.last_mistake);
            }
            if w.last_recovery != NONE {
                acc.good_periods.push(now - w.last_recovery);
            }
            if !w.mistaken {
                w.mistaken = true;
                acc.first_mistakes.push(now - w.first_contact);
            }
            w.last_mistake = now;
        } else if w.pending_crash != NONE {
            acc.latencies.push(now - w.pending_crash);
            w.pending_crash = NONE;
        }
        if let Some(t) = trace.as_mut() {
            let (group, index) = locate(&self.group_start, id);
            (*t)(&VerdictEvent {
                time: SimTime(now),
                detector: Some(di),
                group,
                index,
                verdict: Verdict::Offline,
                last_arrival: SimTime(if last == NONE { 0 } else { last }),
                client_up: up,
            });
        }
    }

    /// The next ping of detector `di` about client `id`: the server pings the client, or
    /// (client-to-server) the client pings the server. A live, running sender sends it
    /// and starts its timeout; the ping timer goes on either way.
    fn on_ping(&mut self, id: u32, di: u32) {
        let now = self.now;
        let ci = id as usize;
        let params = self.detectors[di as usize]
            .ping
            .as_ref()
            .expect("a ping detector")
            .params;
        let (interval, timeout) = (params.interval.as_nanos(), params.timeout.as_nanos());
        let up = params.client_to_server;
        if now + interval < self.end {
            self.queue
                .push(now + interval, CLASS_SEND, K_PING, Event::new(id, di));
        }
        let sender_running = if up {
            self.clients[ci].up && now >= self.cold[ci].paused_until
        } else {
            self.server_up
        };
        if !sender_running {
            return;
        }
        let partitioned = self.partitioned(ci, now);
        let gi = self.clients[ci].group as usize;
        let g = &self.groups[gi];
        let p = self.detectors[di as usize]
            .ping
            .as_mut()
            .expect("a ping detector");
        let st = &mut p.states[ci];
        st.seq = st.seq.wrapping_add(1);
        st.settled = false;
        let tag = (di << 24) | (st.seq & PING_SEQ_MASK);
        let bad = if up { &mut st.up_bad } else { &mut st.down_bad };
        let (delay, lost) = p.streams.draw(g, ci, bad, up);
        let acc = &mut self.group_acc[gi];
        acc.probes_sent += 1;
        if up {
            acc.bytes_up += params.bytes as u64;
        } else {
            acc.bytes_down += params.bytes as u64;
        }
        if !lost && !partitioned && now.saturating_add(delay) < self.end {
            let arrival = if up {
                K_CPING_AT_SERVER
            } else {
                K_PING_AT_CLIENT
            };
            self.queue
                .push(now + delay, CLASS_DELIVER, arrival, Event::new(id, tag));
        }
        if now + timeout < self.end {
            self.queue.push(
                now + timeout,
                CLASS_EVALUATE,
                K_PING_TIMEOUT,
                Event::new(id, tag),
            );
        }
    }

    /// A ping reaches the client; a running process answers it.
    fn on_ping_at_client(&mut self, id: u32, tag: u32) {
        let now = self.now;
        let ci = id as usize;
        let running = self.clients[ci].up && now >= self.cold[ci].paused_until;
        if self.partitioned(ci, now) || !running {
            return;
        }
        self.send_ping_reply(id, tag, true);
    }

    /// Sends the answer to ping `tag` of client `id`: up from the client, or down from the
    /// server, on the ping's own streams.
    fn send_ping_reply(&mut self, id: u32, tag: u32, upward: bool) {
        let now = self.now;
        let ci = id as usize;
        let gi = self.clients[ci].group as usize;
        let g = &self.groups[gi];
        let di = (tag >> 24) as usize;
        let p = self.detectors[di].ping.as_mut().expect("a ping detector");
        let st = &mut p.states[ci];
        let bad = if upward {
            &mut st.up_bad
        } else {
            &mut st.down_bad
        };
        let (delay, lost) = p.streams.draw(g, ci, bad, upward);
        let acc = &mut self.group_acc[gi];
        if upward {
            acc.bytes_up += p.params.bytes as u64;
        } else {
            acc.bytes_down += p.params.bytes as u64;
        }
        if !lost && now.saturating_add(delay) < self.end {
            self.queue.push(
                now + delay,
                CLASS_DELIVER,
                K_PING_REPLY,
                Event::new(id, tag),
            );
        }
    }

    /// A client's ping reaches the server, which answers if it is running and not stalled.
    fn on_client_ping_at_server(&mut self, id: u32, tag: u32) {
        let now = self.now;
        let ci = id as usize;
        if !self.server_up || now < self.stalled_until || self.partitioned(ci, now) {
            return;
        }
        self.send_ping_reply(id, tag, false);
    }

    /// A reply reaches the server (or, for a client's ping, the client): the other side is
    /// alive, if the reply is for the current ping and in time (a reply at the timeout
    /// instant counts: deliveries come first).
    fn on_ping_reply(&mut self, id: u32, tag: u32, trace: &mut Trace<'_>) {
        let ci = id as usize;
        if self.partitioned(ci, self.now) {
            return;
        }
        let di = (tag >> 24) as usize;
        let about_server = self.detectors[di].about_server;
        if (!about_server && !self.server_up) || (about_server && !self.clients[ci].up) {
            return; // the receiving side is dead
        }
        let d = &mut self.detectors[di];
        let p = d.ping.as_mut().expect("a ping detector");
        let st = &mut p.states[ci];
        if st.settled || (st.seq & PING_SEQ_MASK) != (tag & PING_SEQ_MASK) {
            return; // late: its timeout has passed, or a newer ping is out
        }
        st.settled = true;
        st.misses = 0;
        let back = match d.watches[ci].status {
            Status::Unknown => true,
            Status::Offline => d.rule.rejoin == Rejoin::Announce,
            Status::Online => false,
        };
        let gi = self.clients[ci].group as usize;
        self.group_acc[gi].probe_replies += 1;
        if back {
            self.mark_online(di, id, trace);
        }
    }

    /// A ping's timeout: unanswered, it counts as a miss; enough misses in a row make the
    /// client offline.
    fn on_ping_timeout(&mut self, id: u32, tag: u32, trace: &mut Trace<'_>) {
        let ci = id as usize;
        let di = (tag >> 24) as usize;
        let about_server = self.detectors[di].about_server;
        if (!about_server && !self.server_up) || (about_server && !self.clients[ci].up) {
            return; // the timer's owner is dead
        }
        let d = &mut self.detectors[di];
        let window = d.rule.threshold;
        let p = d.ping.as_mut().expect("a ping detector");
        let st = &mut p.states[ci];
        if st.settled || (st.seq & PING_SEQ_MASK) != (tag & PING_SEQ_MASK) {
            return;
        }
        st.settled = true;
        st.misses += 1;
        if st.misses >= p.params.misses && d.watches[ci].status == Status::Online {
            self.mark_offline(di, id, window, trace);
        }
    }

    fn on_fault(&mut self, index: usize, trace: &mut Trace<'_>) {
        let now = self.now;
        let fault = &self.scenario.faults[index];
        match fault.action {
            FaultAction::ServerStall { duration } => {
                if !self.server_up {
                    return; // a dead server cannot stall
                }
                let until = now.saturating_add(duration.as_nanos());
                if now >= self.stalled_until {
                    self.stall_began = now;
                }
                self.stalled_until = self.stalled_until.max(until);
                self.server_fault_until = self.server_fault_until.max(until);
                if until < self.end {
                    self.queue
                        .push(until, CLASS_FAULT, K_STALL_END, Event::new(0, 0));
                }
                return;
            }
            FaultAction::ServerCrash => {
                self.server_crash();
                return;
            }
            FaultAction::ServerRestart => {
                self.server_restart();
                return;
            }
            FaultAction::ClockStep { by_ns } => {
                self.clock_offset += by_ns;
                self.clock_stepped = true;
                self.server_fault_until = self.server_fault_until.max(now);
                self.rearm_all();
                return;
            }
            _ => {}
        }
        for r in &fault.targets {
            let base = self.group_start[r.group];
            for i in r.start..r.end {
                let id = base + i;
                match fault.action {
                    FaultAction::Crash { process } => {
                        if process && self.clients[id as usize].up {
                            self.send_fins(id);
                        }
                        self.crash(id, trace)
                    }
                    FaultAction::Restart => self.restart(id, trace),
                    FaultAction::Pause { duration } => {
                        let until = now.saturating_add(duration.as_nanos());
                        let cold = &mut self.cold[id as usize];
                        cold.paused_until = cold.paused_until.max(until);
                        cold.fault_until = cold.fault_until.max(until);
                        let c = &mut self.clients[id as usize];
                        c.disturbed_until = c.disturbed_until.max(until);
                    }
                    FaultAction::Partition { duration } => {
                        let until = now.saturating_add(duration.as_nanos());
                        let cold = &mut self.cold[id as usize];
                        cold.partitioned_until = cold.partitioned_until.max(until);
                        cold.fault_until = cold.fault_until.max(until);
                        let c = &mut self.clients[id as usize];
                        c.disturbed_until = c.disturbed_until.max(until);
                    }
                    FaultAction::Churn { mtbf, .. } => {
                        self.schedule_churn(id, index as u32, mtbf, K_CHURN_DOWN)
                    }
                    FaultAction::ServerStall { .. }
                    | FaultAction::ClockStep { .. }
                    | FaultAction::ServerCrash
                    | FaultAction::ServerRestart => {
                        unreachable!("server-wide faults have no targets")
                    }
                }
            }
        }
        let _ = trace;
    }

    /// The server process dies. Clients' pings about the server now have a crash to
    /// detect; every server-side detector loses what it knew (undetected client crashes
    /// are missed, open mistakes censored) and starts from scratch when it restarts.
    fn server_crash(&mut self) {
        if !self.server_up {
            return;
        }
        let now = self.now;
        for d in &mut self.detectors {
            let fresh_window = d.rule.phi.map(|p| PhiWindow::new(&p));
            for (ci, w) in d.watches.iter_mut().enumerate() {
                let c = &mut self.clients[ci];
                let acc = &mut d.acc[c.group as usize];
                if d.about_server {
                    subject_died(w, acc, now);
                    continue;
                }
                account(w, acc, c.up, now);
                if w.pending_crash != NONE {
                    acc.missed += 1;
                    w.pending_crash = NONE;
                }
                if w.mistake_start != NONE {
                    acc.censored += 1;
                    w.mistake_start = NONE;
                }
                if w.status == Status::Online {
                    c.online_in -= 1;
                }
                w.status = Status::Unknown;
                w.armed_at = NONE;
                w.last_mistake = NONE;
                w.last_recovery = NONE;
                if let (Some(fresh), Some(win)) = (&fresh_window, d.windows.get_mut(ci)) {
                    *win = fresh.clone();
                }
            }
            if !d.about_server {
                if let Some(p) = d.ping.as_mut() {
                    for st in &mut p.states {
                        st.settled = true;
                        st.misses = 0;
                    }
                }
            }
        }
        // A dead process is not stalled: the arrivals it was holding die with it, and a
        // restarted server starts unstalled.
        self.backlog.clear();
        self.stalled_until = self.stalled_until.min(now);
        self.server_up = false;
    }

    /// The server starts again, knowing no client: clients' pings may find it again, and
    /// keepalive connections are opened anew.
    fn server_restart(&mut self) {
        if self.server_up {
            return;
        }
        let now = self.now;
        for di in 0..self.detectors.len() {
            let d = &mut self.detectors[di];
            for (ci, w) in d.watches.iter_mut().enumerate() {
                let acc = &mut d.acc[self.clients[ci].group as usize];
                if d.about_server {
                    account(w, acc, false, now);
                    if w.pending_crash != NONE {
                        acc.missed += 1;
                        w.pending_crash = NONE;
                    }
                } else {
                    account(w, acc, self.clients[ci].up, now);
                }
            }
            if d.keepalive.is_some() {
                for ci in 0..self.clients.len() {
                    if self.clients[ci].up {
                        self.queue.push(
                            now,
                            CLASS_FAULT,
                            K_KA_CONNECT,
                            Event::new(ci as u32, di as u32),
                        );
                    }
                }
            }
        }
        self.server_up = true;
        // A verdict soon after the outage is a mistake caused by it.
        self.server_fault_until = self.server_fault_until.max(now);
    }

    /// After a clock step every online client's deadline moves: arm a fresh check for
    /// each (older checks become stale).
    fn rearm_all(&mut self) {
        let now = self.now;
        for (di, d) in self.detectors.iter_mut().enumerate() {
            if d.is_active() {
                continue;
            }
            for (ci, w) in d.watches.iter_mut().enumerate() {
                if w.status != Status::Online {
                    continue;
                }
                let last = self.clients[ci].last_arrival as i64;
                let base = if d.rule.phi.is_some() {
                    last
                } else {
                    last + self.cold[ci].stamp_offset - self.clock_offset
                };
                let threshold = match d.windows.get(ci) {
                    Some(win) => win.critical,
                    None => d.rule.threshold,
                };
                let due = d.rule.next_due(base, now, self.end, threshold);
                w.armed_at = due;
                if due != NONE {
                    self.queue.push(
                        due,
                        CLASS_EVALUATE,
                        K_CHECK,
                        Event::new(ci as u32, di as u32),
                    );
                }
            }
        }
    }

    /// The end of a stall: one catch-up scan over every client, then the backlog of
    /// arrivals, stamped now (DESIGN §4).
    fn on_stall_end(&mut self, trace: &mut Trace<'_>) {
        if self.now < self.stalled_until {
            return; // a longer stall began meanwhile; its own end will come
        }
        if !self.server_up {
            return; // the server died during the stall and checks nothing
        }
        let clients = self.clients.len() as u32;
        let stall = self.now - self.stall_began;
        for di in 0..self.detectors.len() {
            if self.detectors[di].is_active() {
                continue; // probes and their timeouts judge these clients
            }
            // Cassandra does not convict right after its own process was paused.
            let convict = !matches!(self.detectors[di].rule.phi, Some(p)
                if p.variant == PhiVariant::Exponential && stall > p.local_pause.as_nanos());
            for id in 0..clients {
                self.detectors[di].watches[id as usize].armed_at = NONE;
                self.evaluate(di, id, convict, trace);
            }
        }
        let backlog = std::mem::take(&mut self.backlog);
        for &id in &backlog {
            self.apply_arrival(id, trace);
        }
        self.backlog = backlog;
        self.backlog.clear();
    }

    fn schedule_churn(&mut self, id: u32, fault: u32, mean: SimDuration, kind: u8) {
        let d = Dist::Exponential {
            mean: mean.as_nanos() as f64,
        };
        let at = self
            .now
            .saturating_add(d.sample(&mut self.rng.churn[id as usize]).max(1));
        if at < self.end {
            self.queue
                .push(at, CLASS_FAULT, kind, Event::new(id, fault));
        }
    }

    fn churn_params(&self, fault: u32) -> (SimDuration, SimDuration) {
        match self.scenario.faults[fault as usize].action {
            FaultAction::Churn { mtbf, mttr } => (mtbf, mttr),
            _ => unreachable!("churn event of a non-churn fault"),
        }
    }

    fn on_churn_down(&mut self, id: u32, fault: u32, trace: &mut Trace<'_>) {
        let (mtbf, mttr) = self.churn_params(fault);
        if self.clients[id as usize].up {
            self.crash(id, trace);
            self.schedule_churn(id, fault, mttr, K_CHURN_UP);
        } else {
            // Already down through another fault: try again after another up time.
            self.schedule_churn(id, fault, mtbf, K_CHURN_DOWN);
        }
    }

    fn on_churn_up(&mut self, id: u32, fault: u32, trace: &mut Trace<'_>) {
        let (mtbf, _) = self.churn_params(fault);
        self.restart(id, trace);
        self.schedule_churn(id, fault, mtbf, K_CHURN_DOWN);
    }

    /// Reports a change of ground truth to the trace.
    fn trace_truth(&self, id: u32, verdict: Verdict, trace: &mut Trace<'_>) {
        if let Some(t) = trace.as_mut() {
            let (group, index) = locate(&self.group_start, id);
            let last = self.clients[id as usize].last_arrival;
            (*t)(&VerdictEvent {
                time: SimTime(self.now),
                detector: None,
                group,
                index,
                verdict,
                last_arrival: SimTime(if last == NONE { 0 } else { last }),
                client_up: verdict == Verdict::Restarted,
            });
        }
    }

    fn crash(&mut self, id: u32, trace: &mut Trace<'_>) {
        let now = self.now;
        let ci = id as usize;
        if !self.clients[ci].up {
            return;
        }
        // Arrivals up to now have happened; the trace shows the true last arrival.
        self.clients[ci].settle(now);
        self.trace_truth(id, Verdict::Crashed, trace);
        let c = &mut self.clients[ci];
        let gi = c.group as usize;
        let server_up = self.server_up;
        for d in &mut self.detectors {
            let w = &mut d.watches[ci];
            let acc = &mut d.acc[gi];
            if d.about_server {
                // A dead client has no view of the server any more.
                account(w, acc, server_up, now);
                if w.mistake_start != NONE {
                    acc.censored += 1;
                    w.mistake_start = NONE;
                }
                w.status = Status::Unknown;
                continue;
            }
            subject_died(w, acc, now);
        }
        c.up = false;
        c.generation = c.generation.wrapping_add(1);
        let g = &mut self.group_acc[gi];
        g.up_ns += now - self.cold[ci].up_since;
        g.crashes += 1;
        if let Some(t) = self.tcp.get_mut(ci) {
            // The host's stack dies with it: no more retransmissions.
            t.timer_armed = false;
            t.timer_generation = t.timer_generation.wrapping_add(1);
        }
    }

    fn restart(&mut self, id: u32, trace: &mut Trace<'_>) {
        let now = self.now;
        let ci = id as usize;
        if self.clients[ci].up {
            return;
        }
        self.clients[ci].settle(now);
        self.trace_truth(id, Verdict::Restarted, trace);
        let c = &mut self.clients[ci];
        let gi = c.group as usize;
        for d in &mut self.detectors {
            if d.about_server {
                continue;
            }
            let w = &mut d.watches[ci];
            account(w, &mut d.acc[gi], false, now);
            if w.pending_crash != NONE {
                d.acc[gi].missed += 1;
                w.pending_crash = NONE;
            }
        }
        c.up = true;
        self.cold[ci].up_since = now;
        c.generation = c.generation.wrapping_add(1);
        // A restarted process starts its loop at once: first heartbeat now, and the
        // fixed-rate grid is re-anchored here.
        c.grid = now;
        let generation = c.generation;
        if let (Some(t), Some(p)) = (self.tcp.get_mut(ci), self.groups[gi].stream) {
            t.reconnect(&p);
        }
        if self.scenario.groups[gi].heartbeat.enabled {
            self.queue
                .push(now, CLASS_SEND, K_SEND, Event::new(id, generation));
        }
        // A restarted client opens new connections.
        for di in 0..self.detectors.len() {
            if self.detectors[di].keepalive.is_some() {
                self.queue
                    .push(now, CLASS_FAULT, K_KA_CONNECT, Event::new(id, di as u32));
            }
        }
    }

    /// A connection is (re)established: the server knows the client, and the keepalive
    /// timer starts.
    fn on_ka_connect(&mut self, id: u32, di: u32, trace: &mut Trace<'_>) {
        let now = self.now;
        let ci = id as usize;
        if !self.clients[ci].up {
            return;
        }
        let d = &mut self.detectors[di as usize];
        let back = match d.watches[ci].status {
            Status::Unknown => true,
            Status::Offline => d.rule.rejoin == Rejoin::Announce,
            Status::Online => false,
        };
        let k = d.keepalive.as_mut().expect("a keepalive detector");
        let st = &mut k.states[ci];
        st.last_rx = now;
        st.probes_out = 0;
        if back {
            self.mark_online(di as usize, id, trace);
        }
        self.arm_ka(id, di, now + self.ka_params(di).idle.as_nanos());
    }

    fn ka_params(&self, di: u32) -> TcpKeepalive {
        self.detectors[di as usize]
            .keepalive
            .as_ref()
            .expect("a keepalive detector")
            .params
    }

    fn arm_ka(&mut self, id: u32, di: u32, at: u64) {
        let st = &mut self.detectors[di as usize]
            .keepalive
            .as_mut()
            .expect("a keepalive detector")
            .states[id as usize];
        st.generation = st.generation.wrapping_add(1);
        let tag = (di << 24) | (st.generation & PING_SEQ_MASK);
        if at < self.end {
            self.queue
                .push(at, CLASS_EVALUATE, K_KA_TIMER, Event::new(id, tag));
        }
    }

    /// The keepalive timer: idle long enough, probe; `probes` probes unanswered, reset.
    fn on_ka_timer(&mut self, id: u32, tag: u32, trace: &mut Trace<'_>) {
        let now = self.now;
        let ci = id as usize;
        let di = tag >> 24;
        let params = self.ka_params(di);
        if !self.server_up {
            return; // the connection died with the server
        }
        let d = &mut self.detectors[di as usize];
        let online = d.watches[ci].status == Status::Online;
        let window = d.rule.threshold;
        let st = d.keepalive.as_mut().expect("a keepalive detector").states[ci];
        if (st.generation & PING_SEQ_MASK) != (tag & PING_SEQ_MASK) || !online {
            return;
        }
        if st.probes_out == 0 && now < st.last_rx + params.idle.as_nanos() {
            // Data arrived since the timer was set: wait for the idle time again.
            self.arm_ka(id, di, st.last_rx + params.idle.as_nanos());
            return;
        }
        if st.probes_out >= params.probes {
            // The connection is reset: the client is offline.
            self.detectors[di as usize]
                .keepalive
                .as_mut()
                .expect("keepalive")
                .states[ci]
                .probes_out = 0;
            self.mark_offline(di as usize, id, window, trace);
            return;
        }
        let partitioned = self.partitioned(ci, now);
        let gi = self.clients[ci].group as usize;
        let g = &self.groups[gi];
        let k = self.detectors[di as usize]
            .keepalive
            .as_mut()
            .expect("keepalive");
        let st = &mut k.states[ci];
        st.probes_out += 1;
        let (delay, lost) = k.streams.draw(g, ci, &mut st.down_bad, false);
        let lost = lost || partitioned;
        let acc = &mut self.group_acc[gi];
        acc.probes_sent += 1;
        acc.bytes_down += tcp::ACK_BYTES;
        if !lost && now.saturating_add(delay) < self.end {
            self.queue
                .push(now + delay, CLASS_DELIVER, K_KA_PROBE, Event::new(id, di));
        }
        self.arm_ka(id, di, now + params.interval.as_nanos());
    }

    /// A keepalive probe reaches the client: its kernel answers while the host is up
    /// (even if the process is paused).
    fn on_ka_probe(&mut self, id: u32, di: u32) {
        let now = self.now;
        let ci = id as usize;
        if !self.clients[ci].up || self.partitioned(ci, now) {
            return;
        }
        let gi = self.clients[ci].group as usize;
        let g = &self.groups[gi];
        let k = self.detectors[di as usize]
            .keepalive
            .as_mut()
            .expect("keepalive");
        let st = &mut k.states[ci];
        let (delay, lost) = k.streams.draw(g, ci, &mut st.up_bad, true);
        self.group_acc[gi].bytes_up += tcp::ACK_BYTES;
        if !lost && now.saturating_add(delay) < self.end {
            self.queue
                .push(now + delay, CLASS_DELIVER, K_KA_ACK, Event::new(id, di));
        }
    }

    /// The answer to a probe: the connection is alive.
    fn on_ka_ack(&mut self, id: u32, di: u32) {
        let now = self.now;
        let ci = id as usize;
        if self.partitioned(ci, now) {
            return;
        }
        let idle = self.ka_params(di).idle.as_nanos();
        let d = &mut self.detectors[di as usize];
        if d.watches[ci].status != Status::Online {
            return; // an answer on a connection already reset
        }
        let st = &mut d.keepalive.as_mut().expect("keepalive").states[ci];
        st.last_rx = now;
        st.probes_out = 0;
        let gi = self.clients[ci].group as usize;
        self.group_acc[gi].probe_replies += 1;
        self.arm_ka(id, di, now + idle);
    }

    /// A crashed process's operating system closes its connections: FIN/RST on the
    /// uplink of every keepalive detector's connection.
    fn send_fins(&mut self, id: u32) {
        let now = self.now;
        let ci = id as usize;
        let partitioned = self.partitioned(ci, now);
        let gi = self.clients[ci].group as usize;
        let g = &self.groups[gi];
        for (di, d) in self.detectors.iter_mut().enumerate() {
            let Some(k) = d.keepalive.as_mut() else {
                continue;
            };
            let st = &mut k.states[ci];
            let (delay, lost) = k.streams.draw(g, ci, &mut st.up_bad, true);
            let lost = lost || partitioned;
            if !lost && now.saturating_add(delay) < self.end {
                self.queue.push(
                    now + delay,
                    CLASS_DELIVER,
                    K_KA_FIN,
                    Event::new(id, di as u32),
                );
            }
        }
    }

    /// The FIN/RST arrives: the server closes the connection at once.
    fn on_ka_fin(&mut self, id: u32, di: u32, trace: &mut Trace<'_>) {
        let ci = id as usize;
        if self.partitioned(ci, self.now) {
            return;
        }
        let d = &self.detectors[di as usize];
        if d.watches[ci].status == Status::Online {
            let window = d.rule.threshold;
            self.mark_offline(di as usize, id, window, trace);
        }
    }

    /// The application writes one heartbeat into the client's stream connection.
    fn stream_send(&mut self, id: u32) {
        let ci = id as usize;
        let now = self.now;
        let seq = self.tcp[ci].send(now);
        self.stream_transmit(id, seq);
        if !self.tcp[ci].timer_armed {
            self.arm_rto(id);
        }
    }

    fn arm_rto(&mut self, id: u32) {
        let ci = id as usize;
        let p = self.groups[self.clients[ci].group as usize]
            .stream
            .expect("stream group");
        let t = &mut self.tcp[ci];
        t.timer_generation = t.timer_generation.wrapping_add(1);
        t.timer_armed = true;
        let at = self.now.saturating_add(t.timeout(&p));
        if at < self.end {
            self.queue
                .push(at, CLASS_SEND, K_RTO, Event::new(id, t.timer_generation));
        }
    }

    /// One transmission of segment `seq` on the uplink.
    fn stream_transmit(&mut self, id: u32, seq: u64) {
        let now = self.now;
        let ci = id as usize;
        let (delay, lost) = self.uplink_draw(ci);
        let gi = self.clients[ci].group as usize;
        let g = &self.groups[gi];
        if lost {
            // The retransmission timer will send it again.
            self.group_acc[gi].segments_dropped += 1;
            return;
        }
        let duplicate = g.uplink.duplicate(pick(&mut self.rng.uplink_duplicate, ci));
        if duplicate.is_some() {
            self.group_acc[gi].duplicated += 1;
        }
        for d in std::iter::once(delay).chain(duplicate) {
            let at = now.saturating_add(d);
            if at < self.end {
                self.queue
                    .push(at, CLASS_DELIVER, K_SEGMENT, Event::new(id, seq as u32));
            }
        }
    }

    /// A segment reaches the server's stack: in-order data goes to the application, and
    /// a cumulative acknowledgement goes back on the downlink.
    fn on_segment(&mut self, id: u32, low: u32, trace: &mut Trace<'_>) {
        let now = self.now;
        let ci = id as usize;
        let gi = self.clients[ci].group as usize;
        if self.partitioned(ci, now) || !self.server_up {
            self.group_acc[gi].segments_dropped += 1;
            return;
        }
        // Anything arriving on the connection resets its keepalive.
        for d in &mut self.detectors {
            if let Some(k) = d.keepalive.as_mut() {
                let st = &mut k.states[ci];
                st.last_rx = now;
                st.probes_out = 0;
            }
        }
        let t = &mut self.tcp[ci];
        let seq = tcp::widen(t.rcv_nxt, low);
        let delivered = t.receive(seq);
        let ack = t.rcv_nxt;
        // Acknowledgement on the downlink.
        let g = &self.groups[gi];
        let delay = g.downlink.delay(pick(&mut self.rng.downlink_delay, ci));
        let lost = g.downlink.lost(
            &mut self.cold[ci].downlink_bad,
            pick(&mut self.rng.downlink_loss, ci),
        );
        let acc = &mut self.group_acc[gi];
        acc.bytes_down += tcp::ACK_BYTES;
        if !lost && now.saturating_add(delay) < self.end {
            self.queue.push(
                now.saturating_add(delay),
                CLASS_DELIVER,
                K_ACK,
                Event::new(id, ack as u32),
            );
        }
        if delivered > 0 {
            acc.delivered += delivered;
            self.arrive(id, trace);
        }
    }

    /// An acknowledgement reaches the client's stack.
    fn on_ack(&mut self, id: u32, low: u32) {
        let ci = id as usize;
        let c = &self.clients[ci];
        if !c.up || self.partitioned(ci, self.now) {
            return;
        }
        let p = self.groups[c.group as usize].stream.expect("stream group");
        let t = &mut self.tcp[ci];
        let ack = tcp::widen(t.snd_una, low);
        if t.acknowledge(ack, self.now, &p) {
            if t.outstanding() > 0 {
                self.arm_rto(id);
            } else {
                t.timer_armed = false;
                t.timer_generation = t.timer_generation.wrapping_add(1);
            }
        }
    }

    /// The retransmission timer fires: retransmit the oldest unacknowledged segment with
    /// a doubled timeout, or break the connection when the retry budget is spent.
    fn on_rto(&mut self, id: u32, generation: u32) {
        let ci = id as usize;
        let gi = self.clients[ci].group as usize;
        let p = self.groups[gi].stream.expect("stream group");
        let t = &mut self.tcp[ci];
        if !t.timer_armed || t.timer_generation != generation || !self.clients[ci].up {
            return;
        }
        if t.outstanding() == 0 {
            t.timer_armed = false;
            return;
        }
        t.backoff += 1;
        if t.backoff > p.retries {
            // The connection breaks; what it still held is lost, and the client opens a
            // new connection for its next heartbeat.
            let acc = &mut self.group_acc[gi];
            acc.connection_breaks += 1;
            acc.lost += t.outstanding();
            t.reconnect(&p);
            return;
        }
        let seq = t.mark_retransmitted();
        let acc = &mut self.group_acc[gi];
        acc.retransmissions += 1;
        acc.bytes_up += self.groups[gi].bytes;
        self.stream_transmit(id, seq);
        self.arm_rto(id);
    }

    fn finish(mut self) -> Outcome {
        let end = self.end;
        for (ci, c) in self.clients.iter().enumerate() {
            let gi = c.group as usize;
            if c.up {
                self.group_acc[gi].up_ns += end - self.cold[ci].up_since;
            }
            for d in &mut self.detectors {
                let w = &mut d.watches[ci];
                let acc = &mut d.acc[gi];
                let up = if d.about_server { self.server_up } else { c.up };
                account(w, acc, up, end);
                if w.pending_crash != NONE {
                    acc.missed += 1;
                }
                if w.mistake_start != NONE {
                    acc.censored += 1;
                }
                if w.first_contact != NONE && !w.mistaken {
                    acc.first_mistake_censored += 1;
                }
            }
        }
        Outcome {
            detectors: self.detectors.into_iter().map(|d| d.acc).collect(),
            groups: self.group_acc,
            events_processed: self.events,
        }
    }
}

/// The watched subject (a client, or the server for a client-to-server ping) dies now:
/// the watch's time so far is accounted as up, the crash waits for its detection (or
/// counts as already detected), and a running mistake is censored.
fn subject_died(w: &mut Watch, acc: &mut DetectorAcc, now: u64) {
    account(w, acc, true, now);
    match w.status {
        Status::Online | Status::Unknown => w.pending_crash = now,
        Status::Offline => acc.already_offline += 1,
    }
    if w.mistake_start != NONE {
        // The suspicion became true; how long the mistake would have lasted is unknown.
        acc.censored += 1;
        w.mistake_start = NONE;
    }
    // Recurrence and good periods are measured within one up period.
    w.last_mistake = NONE;
    w.last_recovery = NONE;
}

/// Brings one watch's query-accuracy clocks up to `now`, given whether the client was up
/// since the last update. Called before any change of status or of ground truth.
#[inline]
fn account(w: &mut Watch, acc: &mut DetectorAcc, up: bool, now: u64) {
    let dt = now - w.accounted_at;
    w.accounted_at = now;
    if up && w.status != Status::Unknown {
        acc.up_known_ns += dt;
        if w.status == Status::Online {
            acc.up_online_ns += dt;
        }
    }
}

/// The fixed-rate grid point after `grid`, `interval` later, or the first grid point
/// after `now` if the client fell behind (a pause delayed its timer).
#[inline]
fn next_grid_point(grid: u64, interval: u64, now: u64) -> u64 {
    let next = grid.saturating_add(interval);
    if next > now || interval == 0 {
        next
    } else {
        let missed = (now - grid) / interval;
        grid.saturating_add((missed + 1).saturating_mul(interval))
    }
}

/// (group, index within group) of a client id.
fn locate(group_start: &[u32], id: u32) -> (usize, u32) {
    let g = group_start.partition_point(|&s| s <= id) - 1;
    (g, id - group_start[g])
}

/// Runs `scenario` with `seed` under `limits`, refusing it before anything is allocated
/// if it would exceed them.
pub fn simulate(
    scenario: &Scenario,
    seed: u64,
    limits: Limits,
    trace: Option<&mut dyn FnMut(&VerdictEvent)>,
) -> Result<Outcome, LimitExceeded> {
    check_limits(scenario, limits)?;
    World::new(scenario, seed).run(limits, trace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse;

    fn scenario(detector: &str, extra: &str) -> Scenario {
        parse(&format!(
            r#"{{ "name": "t", "duration": "200s",
                "clients": [{{ "group": "g", "count": 1,
                    "heartbeat": {{ "interval": "1s", "phase": "aligned" }},
                    "uplink": {{ "delay": {{ "dist": "constant", "value": "200ms" }} }} }}],
                "detectors": [{detector}] {extra} }}"#
        ))
        .unwrap()
    }

    fn latencies(s: &Scenario) -> Vec<u64> {
        simulate(s, s.seed, Limits::default(), None)
            .unwrap()
            .detectors[0][0]
            .latencies
            .clone()
    }

    #[test]
    fn crash_latency_is_exact_with_aligned_phases() {
        // Sends at whole seconds, arrive +200 ms; crash at 100.25 s: last arrival 100.2 s,
        // overdue from 103.2 s, next scan (phase 0.5 s) at 103.5 s: latency 3.25 s.
        let s = scenario(
            r#"{ "name": "d", "kind": "fixed-timeout", "scan_interval": "1s", "scan_phase": "500ms", "threshold": "3s" }"#,
            r#", "faults": [{ "at": "100250ms", "action": "crash", "clients": "g" }]"#,
        );
        assert_eq!(latencies(&s), vec![3_250_000_000]);
    }

    #[test]
    fn a_crash_at_a_send_instant_prevents_that_send() {
        // Faults sort before sends at one instant: the heartbeat due at 100 s is not sent.
        // Last arrival 99.2 s, overdue at 102.2 s, continuous checking: latency 2.2 s.
        let s = scenario(
            r#"{ "name": "d", "kind": "fixed-timeout", "scan_interval": "0s", "threshold": "3s" }"#,
            r#", "faults": [{ "at": "100s", "action": "crash", "clients": "g" }]"#,
        );
        assert_eq!(latencies(&s), vec![2_200_000_000]);
    }

    #[test]
    fn seconds_component_hides_silences_past_a_minute() {
        // A client silent for 61 s reads as 1 s under TimeSpan.Seconds. With scans every
        // 70 s (phase 0), a crash at 0.5 s (last arrival 0.2 s) is seen at 70 s with
        // elapsed 69.8 s -> seconds component 9 >= 3: offline at 70 s.
        let s = scenario(
            r#"{ "name": "d", "kind": "fixed-timeout", "scan_interval": "70s", "threshold": "3s", "elapsed": "seconds-component" }"#,
            r#", "faults": [{ "at": "500ms", "action": "crash", "clients": "g" }]"#,
        );
        assert_eq!(latencies(&s), vec![69_500_000_000]);
        // With scans every 61 s, elapsed at 61 s is 60.8 s -> component 0: missed; at
        // 122 s elapsed 121.8 s -> component 1: missed; at 183 s, 182.8 s -> 2: missed.
        let s = scenario(
            r#"{ "name": "d", "kind": "fixed-timeout", "scan_interval": "61s", "threshold": "3s", "elapsed": "seconds-component" }"#,
            r#", "faults": [{ "at": "500ms", "action": "crash", "clients": "g" }]"#,
        );
        let out = simulate(&s, 0, Limits::default(), None).unwrap();
        assert_eq!(out.detectors[0][0].latencies, Vec::<u64>::new());
        assert_eq!(out.detectors[0][0].missed, 1);
    }

    #[test]
    fn locate_maps_ids_to_groups() {
        let starts = [0, 3, 3, 10];
        assert_eq!(locate(&starts, 0), (0, 0));
        assert_eq!(locate(&starts, 2), (0, 2));
        assert_eq!(locate(&starts, 3), (2, 0));
        assert_eq!(locate(&starts, 9), (2, 6));
    }

    #[test]
    fn runs_over_the_event_limit_are_refused_before_they_start() {
        let s = scenario(
            r#"{ "name": "d", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "3s" }"#,
            "",
        );
        let limits = Limits {
            max_events: 10,
            ..Limits::default()
        };
        let err = simulate(&s, 0, limits, None).unwrap_err();
        assert!(!err.during_run);
        assert_eq!(err.kind, LimitKind::Events);
        assert!(err.estimate > 400, "{err:?}");
        assert!(err.to_string().contains("--max-events"));
        let limits = Limits {
            max_memory_bytes: 1 << 20,
            ..Limits::default()
        };
        let err = simulate(&s, 0, limits, None).unwrap_err();
        assert_eq!(err.kind, LimitKind::Memory);
        assert!(err.to_string().contains("--max-memory-mib"), "{err}");
    }
}
