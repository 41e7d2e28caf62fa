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

use crate::metrics::{DetectorAcc, GroupAcc};
use crate::queue::EventQueue;
use crate::rng::{self, Chance, Dist, Purpose, Stream};
use crate::scenario::{
    DetectorKind, Elapsed, FaultAction, FixedTimeout, Loss, Phase, Rejoin, Scenario, Schedule,
};
use crate::time::SimTime;

/// "No such time": never armed, no pending crash, no open mistake, never heard from.
const NONE: u64 = u64::MAX;

const CLASS_FAULT: u8 = 0;
const CLASS_DELIVER: u8 = 1;
const CLASS_EVALUATE: u8 = 2;
const CLASS_SEND: u8 = 3;

/// Limits on one run.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The most events a run may process; estimated before the run starts and enforced
    /// during it.
    pub max_events: u64,
    /// The most memory a run may need, in bytes, estimated before it starts.
    pub max_memory_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_events: 2_000_000_000,
            max_memory_bytes: 16 << 30,
        }
    }
}

/// Which limit a run hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitKind {
    Events,
    Memory,
}

/// A run refused or stopped because it would exceed a limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitExceeded {
    pub kind: LimitKind,
    pub estimate: u64,
    pub limit: u64,
    /// True when the estimate passed but the run itself reached the limit.
    pub during_run: bool,
}

impl std::fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let suggest = self.estimate.saturating_add(self.estimate / 10);
        match (self.kind, self.during_run) {
            (LimitKind::Events, true) => write!(
                f,
                "the run reached the event limit of {} (estimated {} before it started); raise it with --max-events",
                self.limit, self.estimate
            ),
            (LimitKind::Events, false) => write!(
                f,
                "the run needs about {} events, more than the limit of {}; raise it with --max-events {suggest}",
                self.estimate, self.limit
            ),
            (LimitKind::Memory, _) => write!(
                f,
                "the run needs about {} MiB of memory, more than the limit of {} MiB; raise it with --max-memory-mib {}",
                self.estimate >> 20,
                self.limit >> 20,
                (suggest >> 20) + 1
            ),
        }
    }
}

impl std::error::Error for LimitExceeded {}

/// A queued event: two words whose meaning depends on the event's class, so that a queue
/// entry stays at 24 bytes. Fault: (fault index, 0); deliver: (client, 0); check:
/// (client, detector); send: (client, generation).
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

/// A detector's verdict about a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Online,
    Offline,
}

/// One verdict change, as printed by `hbsim run --events`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerdictEvent {
    pub time: SimTime,
    pub detector: usize,
    pub group: usize,
    pub index: u32,
    pub verdict: Verdict,
    /// Arrival time of the client's last heartbeat.
    pub last_arrival: SimTime,
    /// Ground truth at that instant.
    pub client_up: bool,
}

/// An optional observer of verdict changes.
pub type Trace<'a> = Option<&'a mut dyn FnMut(&VerdictEvent)>;

/// Everything a run measured, before formatting.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// `[detector][group]`.
    pub detectors: Vec<Vec<DetectorAcc>>,
    pub groups: Vec<GroupAcc>,
    pub events_processed: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Unknown,
    Online,
    Offline,
}

/// One detector's view of one client.
#[derive(Clone, Copy, Debug)]
struct Watch {
    status: Status,
    /// Time of the armed `Check`, or NONE.
    armed_at: u64,
    /// Crash not yet detected, or NONE.
    pending_crash: u64,
    /// Start of an open false offline verdict, or NONE.
    mistake_start: u64,
    /// Last time the query-accuracy clocks were brought up to date.
    accounted_at: u64,
}

struct Client {
    group: u16,
    up: bool,
    /// Bumped by every crash and restart; a `Send` of an older generation is stale.
    generation: u32,
    /// Origin of the fixed-rate grid.
    anchor: u64,
    /// Sends since `anchor`.
    sends: u64,
    /// Arrival time of the last heartbeat applied to the server's state.
    last_arrival: u64,
    up_since: u64,
    /// How many detectors hold this client online.
    online_in: u16,
    /// Heartbeats in flight recorded without a queued delivery (see `World::on_send`):
    /// `(arrival time, reserved scheduling order)`, NONE when free.
    in_flight: [(u64, u64); IN_FLIGHT_SLOTS],
}

/// How many in-flight heartbeats a client can hold without queued deliveries; more than
/// that (delays longer than a few intervals) fall back to queued deliveries.
const IN_FLIGHT_SLOTS: usize = 2;

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
    delay: Option<Dist>,
    loss: Chance,
    bytes: u64,
}

struct DetectorRt {
    rule: Rule,
    watches: Vec<Watch>,
    acc: Vec<DetectorAcc>,
}

/// A fixed-timeout detector's parameters and the scan arithmetic derived from them.
struct Rule {
    params: FixedTimeout,
    /// `ceil(threshold)` in whole seconds, for the seconds-component rule.
    threshold_whole_secs: u64,
}

impl Rule {
    /// Whether `elapsed` ns since the last heartbeat make a client offline.
    #[inline]
    fn is_overdue(&self, elapsed: u64) -> bool {
        match self.params.elapsed {
            Elapsed::Total => elapsed >= self.params.threshold.as_nanos(),
            Elapsed::SecondsComponent => {
                (elapsed / 1_000_000_000) % 60 >= self.threshold_whole_secs
            }
        }
    }

    /// The first scan instant at or after `t`.
    #[inline]
    fn scan_at_or_after(&self, t: u64) -> u64 {
        let s = self.params.scan_interval.as_nanos();
        if s == 0 {
            return t;
        }
        let first = self.params.scan_phase.as_nanos().saturating_add(s);
        if t <= first {
            return first;
        }
        let k = (t - first).div_ceil(s);
        first.saturating_add(k.saturating_mul(s))
    }

    /// The first scan instant after `now` at which a client last heard from at `last`
    /// is overdue, assuming no further heartbeat; NONE if that is at or after `end`.
    /// Precondition: the client is not overdue at `now`.
    fn next_due(&self, last: u64, now: u64, end: u64) -> u64 {
        match self.params.elapsed {
            Elapsed::Total => {
                let t =
                    self.scan_at_or_after(last.saturating_add(self.params.threshold.as_nanos()));
                if t >= end {
                    NONE
                } else {
                    t
                }
            }
            Elapsed::SecondsComponent => {
                // Overdue exactly in the windows [last + 60k s + Tc, last + 60(k+1) s).
                const MINUTE: u64 = 60_000_000_000;
                let tc = self.threshold_whole_secs * 1_000_000_000;
                let mut k = now.saturating_sub(last) / MINUTE;
                loop {
                    let open = last.saturating_add(k * MINUTE + tc);
                    if open >= end {
                        return NONE;
                    }
                    let t = self.scan_at_or_after(open.max(now + 1));
                    if t >= end {
                        return NONE;
                    }
                    if t < last.saturating_add((k + 1) * MINUTE) {
                        return t;
                    }
                    k += 1;
                }
            }
        }
    }
}

/// Roughly how many events a run will process; used to refuse runs that exceed
/// `Limits::max_events` before they start.
pub fn estimate_events(s: &Scenario) -> u64 {
    let secs = s.duration.as_secs_f64();
    let mut total = s.faults.len() as f64;
    let clients: u64 = s.groups.iter().map(|g| g.count as u64).sum();
    for g in &s.groups {
        let per_client = secs / g.heartbeat.interval.as_secs_f64();
        total += g.count as f64 * (per_client * 2.0 + 1.0);
    }
    for d in &s.detectors {
        let DetectorKind::FixedTimeout(ft) = d.kind;
        // About one check per threshold per client, at least one per scan.
        let mut period = ft.threshold.as_secs_f64().max(1e-9);
        if ft.elapsed == Elapsed::SecondsComponent {
            period = period.min(1.0);
        }
        total += clients as f64 * (secs / period + 1.0);
    }
    total.min(u64::MAX as f64) as u64
}

/// One simulated world.
pub struct World<'s> {
    scenario: &'s Scenario,
    end: u64,
    now: u64,
    queue: EventQueue<Event>,
    clients: Vec<Client>,
    groups: Vec<GroupRt>,
    jitter_rng: Vec<Stream>,
    overshoot_rng: Vec<Stream>,
    delay_rng: Vec<Stream>,
    loss_rng: Vec<Stream>,
    detectors: Vec<DetectorRt>,
    group_acc: Vec<GroupAcc>,
    /// First client id of each group, then the total.
    group_start: Vec<u32>,
    events: u64,
    n_detectors: u16,
    /// Whether arrivals may be recorded in clients instead of queued (`on_send`). Under
    /// the seconds-component rule an arrival can move a check earlier, so every arrival
    /// is queued there.
    lazy_arrivals: bool,
}

/// Per-purpose streams for every client, or none if no group draws from that purpose.
fn streams_for(
    s: &Scenario,
    seed: u64,
    purpose: Purpose,
    used: impl Fn(usize) -> bool,
) -> Vec<Stream> {
    if !(0..s.groups.len()).any(&used) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for g in &s.groups {
        let key = rng::key(seed, purpose, &g.name);
        out.extend((0..g.count).map(|i| rng::stream(key, i)));
    }
    out
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
                delay: g.uplink.delay.clone(),
                loss: match g.uplink.loss {
                    Loss::None => Chance::NEVER,
                    Loss::Bernoulli { p } => Chance::new(p),
                },
                bytes: g.heartbeat.bytes as u64,
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
            let DetectorKind::FixedTimeout(ft) = d.kind;
            horizon = horizon.max(ft.threshold.as_nanos() + ft.scan_interval.as_nanos());
            rate += total as f64 * 1e9 / ft.threshold.as_nanos().max(1) as f64;
        }
        let horizon = horizon
            .min(s.duration.as_nanos())
            .saturating_add(horizon / 4);
        let mut queue = EventQueue::for_workload(rate, horizon);

        let mut clients = Vec::with_capacity(total);
        for (gi, g) in s.groups.iter().enumerate() {
            let phase_key = rng::key(seed, Purpose::Phase, &g.name);
            for i in 0..g.count {
                let phase = match g.heartbeat.phase {
                    Phase::Random => rng::below(
                        &mut rng::stream(phase_key, i),
                        g.heartbeat.interval.as_nanos(),
                    ),
                    Phase::Aligned => 0,
                    Phase::At(d) => d.as_nanos(),
                };
                let id = clients.len() as u32;
                clients.push(Client {
                    group: gi as u16,
                    up: true,
                    generation: 0,
                    anchor: phase,
                    sends: 0,
                    last_arrival: NONE,
                    up_since: 0,
                    in_flight: [(NONE, 0); IN_FLIGHT_SLOTS],
                    online_in: 0,
                });
                if phase < s.duration.as_nanos() {
                    queue.push(phase, CLASS_SEND, Event::new(id, 0));
                }
            }
        }
        for (i, f) in s.faults.iter().enumerate() {
            queue.push(f.at.as_nanos(), CLASS_FAULT, Event::new(i as u32, 0));
        }

        let jitter_rng = streams_for(s, seed, Purpose::Jitter, |g| {
            !s.groups[g].heartbeat.jitter.is_zero()
        });
        let overshoot_rng = streams_for(s, seed, Purpose::Overshoot, |g| {
            s.groups[g].heartbeat.overshoot.is_some()
        });
        let delay_rng = streams_for(s, seed, Purpose::UplinkDelay, |g| {
            s.groups[g].uplink.delay.is_some()
        });
        let loss_rng = streams_for(s, seed, Purpose::UplinkLoss, |g| {
            s.groups[g].uplink.loss != Loss::None
        });

        let detectors = s
            .detectors
            .iter()
            .map(|d| {
                let DetectorKind::FixedTimeout(params) = d.kind;
                DetectorRt {
                    rule: Rule {
                        params,
                        threshold_whole_secs: params.threshold.as_nanos().div_ceil(1_000_000_000),
                    },
                    watches: vec![
                        Watch {
                            status: Status::Unknown,
                            armed_at: NONE,
                            pending_crash: NONE,
                            mistake_start: NONE,
                            accounted_at: 0,
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

        World {
            scenario,
            end: s.duration.as_nanos(),
            now: 0,
            queue,
            clients,
            groups,
            jitter_rng,
            overshoot_rng,
            delay_rng,
            loss_rng,
            detectors,
            group_acc,
            group_start,
            events: 0,
            n_detectors: u16::try_from(s.detectors.len()).expect("too many detectors"),
            lazy_arrivals: s.detectors.iter().all(|d| match d.kind {
                DetectorKind::FixedTimeout(ft) => ft.elapsed == Elapsed::Total,
            }),
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
        while let Some((at, class, event)) = self.queue.pop() {
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
            match class {
                CLASS_SEND => self.on_send(event.a, event.b),
                CLASS_DELIVER => self.on_deliver(event.a, &mut trace),
                CLASS_EVALUATE => self.on_check(event.b, event.a, &mut trace),
                CLASS_FAULT => self.on_fault(event.a as usize),
                _ => unreachable!("unknown event class {class}"),
            }
        }
        self.now = self.end;
        Ok(self.finish())
    }

    fn on_send(&mut self, id: u32, generation: u32) {
        let c = &mut self.clients[id as usize];
        if c.generation != generation || !c.up {
            return;
        }
        let gi = c.group as usize;
        let g = &self.groups[gi];
        let ci = id as usize;
        let acc = &mut self.group_acc[gi];
        acc.heartbeats_sent += 1;
        acc.bytes_up += g.bytes;
        // Delay is drawn for every heartbeat, lost or not, so that the delay stream stays
        // aligned with the send sequence whatever the loss settings (common random numbers).
        let delay = match &g.delay {
            Some(d) => d.sample(&mut self.delay_rng[ci]),
            None => 0,
        };
        let lost = !g.loss.is_never() && g.loss.happens(&mut self.loss_rng[ci]);
        if lost {
            acc.lost += 1;
        } else {
            let at = self.now.saturating_add(delay);
            if at < self.end {
                // Every delivery before the end is applied, so it is counted now.
                acc.delivered += 1;
                // While every detector holds the client online, an arrival changes nothing
                // but `last_arrival`, which is only read by that client's checks. It is then
                // recorded in the client instead of queued, and applied when a check (or a
                // queued delivery) looks; if a detector turns the client offline before it
                // arrives, it is queued then with the scheduling order reserved now, so the
                // result is the same as queueing every delivery.
                let seq = self.queue.reserve_seq();
                let free = c.in_flight.iter().position(|s| s.0 == NONE);
                match free {
                    Some(slot) if self.lazy_arrivals && c.online_in == self.n_detectors => {
                        c.in_flight[slot] = (at, seq);
                    }
                    _ => self
                        .queue
                        .push_with_seq(at, CLASS_DELIVER, seq, Event::new(id, 0)),
                }
            }
        }
        c.sends += 1;
        let jitter = if g.jitter > 0 {
            rng::between(&mut self.jitter_rng[ci], 0, 2 * g.jitter)
        } else {
            g.jitter
        };
        let overshoot = match &g.overshoot {
            Some(d) => d.sample(&mut self.overshoot_rng[ci]),
            None => 0,
        };
        // `jitter` is offset by +g.jitter so that it is never negative; subtract it back.
        let next = match g.schedule {
            Schedule::FixedRate => c
                .anchor
                .saturating_add(c.sends.saturating_mul(g.interval))
                .saturating_add(jitter)
                .saturating_add(overshoot)
                .saturating_sub(g.jitter)
                .max(self.now),
            Schedule::FixedDelay => {
                self.now
                    .saturating_add(g.interval)
                    .saturating_add(jitter)
                    .saturating_add(overshoot)
                    - g.jitter
            }
        };
        if next < self.end {
            self.queue
                .push(next, CLASS_SEND, Event::new(id, generation));
        }
    }

    fn on_deliver(&mut self, id: u32, trace: &mut Trace<'_>) {
        let now = self.now;
        let ci = id as usize;
        let c = &mut self.clients[ci];
        c.settle(now);
        c.last_arrival = now;
        let (gi, up) = (c.group as usize, c.up);
        for di in 0..self.detectors.len() {
            let d = &mut self.detectors[di];
            let w = &mut d.watches[ci];
            let became_online = match w.status {
                Status::Unknown => true,
                Status::Offline => d.rule.params.rejoin == Rejoin::Announce,
                Status::Online => false,
            };
            if became_online {
                account(w, &mut d.acc[gi], up, now);
                if w.mistake_start != NONE {
                    d.acc[gi].mistakes.push(now - w.mistake_start);
                    w.mistake_start = NONE;
                }
                w.status = Status::Online;
                self.clients[ci].online_in += 1;
                if let Some(t) = trace.as_mut() {
                    let (group, index) = locate(&self.group_start, id);
                    (*t)(&VerdictEvent {
                        time: SimTime(now),
                        detector: di,
                        group,
                        index,
                        verdict: Verdict::Online,
                        last_arrival: SimTime(now),
                        client_up: up,
                    });
                }
            }
            if w.status != Status::Online {
                continue;
            }
            // Under the total rule a later heartbeat only moves the deadline later, so an
            // armed check stays valid; under the seconds rule it may need to come earlier.
            let rearm = w.armed_at == NONE || d.rule.params.elapsed == Elapsed::SecondsComponent;
            if rearm {
                let due = d.rule.next_due(now, now, self.end);
                if due < w.armed_at {
                    w.armed_at = due;
                    self.queue
                        .push(due, CLASS_EVALUATE, Event::new(id, di as u32));
                }
            }
        }
    }

    fn on_check(&mut self, di: u32, id: u32, trace: &mut Trace<'_>) {
        let now = self.now;
        let ci = id as usize;
        let c = &mut self.clients[ci];
        c.settle(now);
        let (gi, up, last) = (c.group as usize, c.up, c.last_arrival);
        let d = &mut self.detectors[di as usize];
        let w = &mut d.watches[ci];
        if w.armed_at != now {
            return; // superseded by an earlier check
        }
        w.armed_at = NONE;
        if w.status != Status::Online {
            return;
        }
        let elapsed = now - last;
        if !d.rule.is_overdue(elapsed) {
            let due = d.rule.next_due(last, now, self.end);
            if due != NONE {
                w.armed_at = due;
                self.queue.push(due, CLASS_EVALUATE, Event::new(id, di));
            }
            return;
        }
        let acc = &mut d.acc[gi];
        account(w, acc, up, now);
        w.status = Status::Offline;
        c.online_in -= 1;
        // Heartbeats still in flight must now arrive as queued deliveries, since their
        // arrival will change this detector's verdict.
        for slot in &mut c.in_flight {
            if slot.0 != NONE {
                self.queue
                    .push_with_seq(slot.0, CLASS_DELIVER, slot.1, Event::new(id, 0));
                *slot = (NONE, 0);
            }
        }
        if up {
            // No fault windows exist yet in this model, so every mistake is spurious.
            acc.fp_spurious += 1;
            w.mistake_start = now;
        } else if w.pending_crash != NONE {
            acc.latencies.push(now - w.pending_crash);
            w.pending_crash = NONE;
        }
        if let Some(t) = trace.as_mut() {
            let (group, index) = locate(&self.group_start, id);
            (*t)(&VerdictEvent {
                time: SimTime(now),
                detector: di as usize,
                group,
                index,
                verdict: Verdict::Offline,
                last_arrival: SimTime(last),
                client_up: up,
            });
        }
    }

    fn on_fault(&mut self, index: usize) {
        let fault = &self.scenario.faults[index];
        for r in &fault.targets {
            let base = self.group_start[r.group];
            for i in r.start..r.end {
                let id = base + i;
                match fault.action {
                    FaultAction::Crash => self.crash(id),
                    FaultAction::Restart => self.restart(id),
                }
            }
        }
    }

    fn crash(&mut self, id: u32) {
        let now = self.now;
        let ci = id as usize;
        let c = &mut self.clients[ci];
        if !c.up {
            return;
        }
        let gi = c.group as usize;
        for d in &mut self.detectors {
            let w = &mut d.watches[ci];
            let acc = &mut d.acc[gi];
            account(w, acc, true, now);
            match w.status {
                Status::Online | Status::Unknown => w.pending_crash = now,
                Status::Offline => acc.already_offline += 1,
            }
            if w.mistake_start != NONE {
                // The suspicion became true; how long the mistake would have lasted is
                // unknown.
                acc.censored += 1;
                w.mistake_start = NONE;
            }
        }
        c.up = false;
        c.generation += 1;
        let g = &mut self.group_acc[gi];
        g.up_ns += now - c.up_since;
        g.crashes += 1;
    }

    fn restart(&mut self, id: u32) {
        let now = self.now;
        let ci = id as usize;
        let c = &mut self.clients[ci];
        if c.up {
            return;
        }
        let gi = c.group as usize;
        for d in &mut self.detectors {
            let w = &mut d.watches[ci];
            account(w, &mut d.acc[gi], false, now);
            if w.pending_crash != NONE {
                d.acc[gi].missed += 1;
                w.pending_crash = NONE;
            }
        }
        c.up = true;
        c.up_since = now;
        c.generation += 1;
        // A restarted process starts its loop at once: first heartbeat now, and the
        // fixed-rate grid is re-anchored here.
        c.anchor = now;
        c.sends = 0;
        let generation = c.generation;
        self.queue.push(now, CLASS_SEND, Event::new(id, generation));
    }

    fn finish(mut self) -> Outcome {
        let end = self.end;
        for (ci, c) in self.clients.iter().enumerate() {
            let gi = c.group as usize;
            if c.up {
                self.group_acc[gi].up_ns += end - c.up_since;
            }
            for d in &mut self.detectors {
                let w = &mut d.watches[ci];
                let acc = &mut d.acc[gi];
                account(w, acc, c.up, end);
                if w.pending_crash != NONE {
                    acc.missed += 1;
                }
                if w.mistake_start != NONE {
                    acc.censored += 1;
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

/// (group, index within group) of a client id.
fn locate(group_start: &[u32], id: u32) -> (usize, u32) {
    let g = group_start.partition_point(|&s| s <= id) - 1;
    (g, id - group_start[g])
}

/// Roughly how many bytes a run will need: per-client state, one stream per purpose in
/// use, one watch per detector, and the queue (about two entries in flight per client).
pub fn estimate_memory(s: &Scenario) -> u64 {
    let clients: u64 = s.groups.iter().map(|g| g.count as u64).sum();
    let streams = [
        s.groups.iter().any(|g| !g.heartbeat.jitter.is_zero()),
        s.groups.iter().any(|g| g.heartbeat.overshoot.is_some()),
        s.groups.iter().any(|g| g.uplink.delay.is_some()),
        s.groups.iter().any(|g| g.uplink.loss != Loss::None),
    ]
    .iter()
    .filter(|&&used| used)
    .count() as u64;
    let per_client = std::mem::size_of::<Client>() as u64
        + streams * std::mem::size_of::<Stream>() as u64
        + s.detectors.len() as u64 * std::mem::size_of::<Watch>() as u64
        + 4 * 24;
    clients.saturating_mul(per_client).saturating_add(16 << 20)
}

/// Refuses a run whose estimated events or memory exceed `limits`.
pub fn check_limits(scenario: &Scenario, limits: Limits) -> Result<(), LimitExceeded> {
    let memory = estimate_memory(scenario);
    if memory > limits.max_memory_bytes {
        return Err(LimitExceeded {
            kind: LimitKind::Memory,
            estimate: memory,
            limit: limits.max_memory_bytes,
            during_run: false,
        });
    }
    let events = estimate_events(scenario);
    if events > limits.max_events {
        return Err(LimitExceeded {
            kind: LimitKind::Events,
            estimate: events,
            limit: limits.max_events,
            during_run: false,
        });
    }
    Ok(())
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
