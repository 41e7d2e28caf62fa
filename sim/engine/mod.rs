//! The world and its run loop: the only place virtual time advances.
//!
//! Event classes at one instant follow DESIGN §4: faults, deliveries, detector
//! evaluations, sends; within a class, scheduling order ([`event`]). The world holds the
//! clients, their links and transports, the server, and one state machine per detector
//! (`model::detector`) with its ground-truth ledger (`oracle::ledger`). Handlers change
//! the world, hand each detector what happened, and apply the effects it writes in the
//! order it wrote them, detectors in scenario order.

mod build;
mod event;
mod faults;
mod heartbeat;
mod limits;
mod probes;
mod replicate;
mod server_data;
mod streams;
mod swim;
mod transport;

pub use limits::{
    check_limits, estimate_events, estimate_memory, LimitExceeded, LimitKind, Limits,
};
pub use replicate::{check_replication_limits, replication_seed, simulate_replications};

use crate::base::prefetch::prefetch;
use crate::base::rng::Dist;
use crate::base::time::SimTime;
use crate::model::client::Timing;
use crate::model::detector::{
    Detector, Effect, Effects, Heard, Host, Input, KnownSchedule, LastHeard, ProbePath, NEVER,
};
use crate::model::link::LinkRt;
use crate::model::server::Server;
use crate::model::tcp::{StreamParams, Tcp};
use crate::oracle::ledger::Ledger;
use crate::oracle::metrics::GroupAcc;
use crate::oracle::{Outcome, Trace, Verdict, VerdictEvent};
use crate::scenario::Scenario;
use event::{Event, Queue};
use streams::{ProbeStreams, Streams};

/// The per-client state touched by every heartbeat, kept small so that it fits in one
/// cache line; rarely used state lives in `ClientCold`.
pub(crate) struct Client {
    group: u16,
    up: bool,
    /// Gilbert–Elliott burst state of the uplink.
    uplink_bad: bool,
    /// Whether the client was ever paused or cut off: only then can its cold state's
    /// pause and partition windows hold it back.
    disturbed: bool,
    /// How many detectors hold this client online.
    online_in: u16,
    /// Bumped by every crash and restart; a `Send` of an older generation is stale.
    generation: u32,
    /// Nominal time of the current fixed-rate grid point (without jitter).
    grid: u64,
    /// Arrival time (true time) of the last heartbeat applied to the server's state.
    last_arrival: u64,
    /// A heartbeat in flight recorded without a queued delivery (see
    /// `World::datagram_in_flight`): `(arrival time, reserved scheduling order)`, `NEVER`
    /// when free.
    in_flight: [(u64, u64); IN_FLIGHT_SLOTS],
}

/// Per-client state used only by pauses, partitions, clock steps, drift and the
/// downlink's burst state.
#[derive(Clone, Copy)]
pub(crate) struct ClientCold {
    /// Server clock offset when the last heartbeat was stamped: the stamp is
    /// `last_arrival + stamp_offset`.
    stamp_offset: i64,
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
    /// Every client's cold state until something changes it.
    const START: ClientCold = ClientCold {
        stamp_offset: 0,
        paused_until: 0,
        partitioned_until: 0,
        fault_until: 0,
        timer_scale: 1.0,
        downlink_bad: false,
    };
}

/// Every client's cold state, held only once some client's differs from
/// [`ClientCold::START`]: most runs (no pause, partition, drift, clock step or bursty
/// downlink) never need it, and at a million clients it would be 48 MB.
pub(crate) struct ColdStore {
    all: Vec<ClientCold>,
    clients: usize,
}

impl ColdStore {
    fn new(clients: usize) -> Self {
        ColdStore {
            all: Vec::new(),
            clients,
        }
    }

    /// Client `ci`'s cold state, to change: the first call holds every client's.
    #[inline]
    fn get_mut(&mut self, ci: usize) -> &mut ClientCold {
        if self.all.is_empty() {
            self.all = vec![ClientCold::START; self.clients];
        }
        &mut self.all[ci]
    }

    /// Whether every client's cold state is held.
    #[cfg(test)]
    fn held(&self) -> bool {
        !self.all.is_empty()
    }
}

impl std::ops::Index<usize> for ColdStore {
    type Output = ClientCold;

    #[inline]
    fn index(&self, ci: usize) -> &ClientCold {
        self.all.get(ci).unwrap_or(&ClientCold::START)
    }
}

/// A client's heartbeat numbering, kept only when a detector reads sequence numbers
/// ([`KindConfig::reads_sequence`](crate::model::detector::KindConfig::reads_sequence)).
/// A heartbeat's number is its schedule slot: a fixed-rate client that skips grid
/// points (a pause) skips their numbers; a fixed-delay client numbers each send.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Numbering {
    /// The number of the next heartbeat.
    next: u64,
    /// The current incarnation's schedule.
    schedule: KnownSchedule,
}

/// How many in-flight heartbeats a client can hold without queued deliveries; more than
/// that (delays longer than a few intervals) fall back to queued deliveries.
const IN_FLIGHT_SLOTS: usize = 1;

/// How many events ahead the run loop prefetches a client's state: far enough for a
/// memory access to finish while the events before it run, near enough to stay in cache.
const PREFETCH_AHEAD: usize = 16;

impl Client {
    /// Applies every recorded arrival at or before `now` to `last_arrival`.
    #[inline]
    fn settle(&mut self, now: u64) {
        for slot in &mut self.in_flight {
            if slot.0 <= now {
                // Slots are NEVER when free, so a free slot never matches.
                self.last_arrival = if self.last_arrival == NEVER {
                    slot.0
                } else {
                    self.last_arrival.max(slot.0)
                };
                *slot = (NEVER, 0);
            }
        }
    }
}

/// Per-group settings, resolved for the hot path.
pub(crate) struct GroupRt {
    timing: Timing,
    overshoot: Option<Dist>,
    uplink: LinkRt,
    downlink: LinkRt,
    stream: Option<StreamParams>,
    bytes: u64,
    /// Whether the group's clients send application heartbeats.
    enabled: bool,
    /// Whether the group's clocks drift (their timers need scaling).
    drifts: bool,
}

/// One detector in the world: its state machine, its ledger, and for an active detector
/// its own probe path.
struct DetectorRt {
    machine: Detector,
    ledger: Ledger,
    probes: Option<(ProbePath, ProbeStreams)>,
    uses_connections: bool,
    /// `TCP_USER_TIMEOUT` of the connections it watches, ns.
    user_timeout: Option<u64>,
    /// A `swim` detector's cluster (taken out while it runs, see `engine/swim.rs`).
    swim: Option<Box<swim::SwimRt>>,
}

/// What the server knows of each client's heartbeats, as detectors read it: recorded
/// arrivals are applied first.
struct HeardView<'a> {
    clients: &'a mut [Client],
    cold: &'a ColdStore,
    numbering: &'a [Numbering],
    server: &'a Server,
    now: u64,
}

impl Heard for HeardView<'_> {
    #[inline]
    fn last_heard(&mut self, ci: usize) -> LastHeard {
        let c = &mut self.clients[ci];
        c.settle(self.now);
        let last = c.last_arrival as i64;
        LastHeard {
            monotonic: last,
            wall: self.server.wall_base(last, self.cold[ci].stamp_offset),
        }
    }

    #[inline]
    fn schedule(&mut self, ci: usize) -> KnownSchedule {
        self.numbering[ci].schedule
    }
}

/// One simulated world.
pub struct World<'s> {
    scenario: &'s Scenario,
    end: u64,
    now: u64,
    queue: Queue,
    clients: Vec<Client>,
    cold: ColdStore,
    /// Per client when some detector reads sequence numbers, else empty.
    numbering: Vec<Numbering>,
    groups: Vec<GroupRt>,
    rng: Streams,
    /// Stream-transport state per client (empty if no group uses it).
    tcp: Vec<Tcp>,
    /// Per detector watching connections, per client, the server's end of the
    /// connection carrying `server_sends` data (empty where no group has them).
    server_data: Vec<Vec<server_data::ServerConn>>,
    detectors: Vec<DetectorRt>,
    group_acc: Vec<GroupAcc>,
    /// First client id of each group, then the total.
    group_start: Vec<u32>,
    events: u64,
    /// Detectors whose verdicts are about clients (the lazy-arrival rule counts them).
    n_detectors: u16,
    /// Whether arrivals may be recorded in clients instead of queued
    /// (`datagram_in_flight`). Off where an arrival can do more than move `last_arrival`
    /// later: under the seconds-component rule (it may move a check earlier), for phi
    /// (it learns from every arrival), and with partitions, server stalls, crashes or
    /// clock steps in the scenario.
    lazy_arrivals: bool,
    server: Server,
}

impl<'s> World<'s> {
    /// Queues every delivery instead of recording arrivals in clients: the reference
    /// behaviour that the recorded arrivals must reproduce exactly (tests compare both).
    pub fn with_queued_deliveries(mut self) -> Self {
        self.lazy_arrivals = false;
        self
    }

    /// Runs to the end of the scenario's duration. Events at times in `[0, duration)` are
    /// processed; the run then closes every open interval at `duration`. `trace` sees each
    /// verdict change in time order.
    pub fn run(mut self, limits: Limits, trace: Trace<'_>) -> Result<Outcome, LimitExceeded> {
        self.run_to_end(limits, trace)?;
        Ok(self.finish())
    }

    /// Processes every event before the end, then stands at the end.
    fn run_to_end(&mut self, limits: Limits, mut trace: Trace<'_>) -> Result<(), LimitExceeded> {
        let estimate = estimate_events(self.scenario);
        while let Some((at, event)) = self.queue.pop() {
            assert!(at >= self.now, "time went backwards: {at} < {}", self.now);
            if at >= self.end {
                break;
            }
            self.now = at;
            self.events += 1;
            if let Some(a) = self.queue.word_ahead(PREFETCH_AHEAD) {
                self.prefetch_client(a as usize);
            }
            if self.events > limits.max_events {
                return Err(LimitExceeded {
                    kind: LimitKind::Events,
                    estimate,
                    limit: limits.max_events,
                    during_run: true,
                });
            }
            let t = &mut trace;
            match event {
                Event::Send { client, generation } => self.on_send(client, generation),
                Event::Datagram { client, copy, seq } => self.on_datagram(client, copy, seq, t),
                Event::Timer {
                    client,
                    detector,
                    class,
                    tag,
                } => self.feed(
                    detector as usize,
                    client as usize,
                    Input::Timer { class, tag },
                    t,
                ),
                Event::Segment { client, low } => self.on_segment(client, low, t),
                Event::Ack { client, low } => self.on_ack(client, low),
                Event::Rto { client, generation } => self.on_rto(client, generation),
                Event::Connect { client, detector } => self.on_connect(client, detector, t),
                Event::ProbeAtPeer {
                    client,
                    detector,
                    tag,
                } => self.on_probe_at_peer(client, detector, tag),
                Event::ProbeReply {
                    client,
                    detector,
                    tag,
                } => self.on_probe_reply(client, detector, tag, t),
                Event::Fin { client, detector } => self.on_fin(client, detector, t),
                Event::FinRto {
                    client,
                    detector,
                    attempt,
                } => self.on_fin_rto(client, detector, attempt),
                Event::ServerWrite {
                    client,
                    detector,
                    generation,
                } => self.on_server_write(client, detector, generation),
                Event::ServerSegment {
                    client,
                    detector,
                    low,
                } => self.on_server_segment(client, detector, low),
                Event::ServerAck {
                    client,
                    detector,
                    low,
                } => self.on_server_ack(client, detector, low, t),
                Event::ServerRto {
                    client,
                    detector,
                    generation,
                } => self.on_server_rto(client, detector, generation, t),
                Event::Fault { index } => self.on_fault(index as usize, t),
                Event::ChurnDown { client, fault } => self.on_churn_down(client, fault, t),
                Event::ChurnUp { client, fault } => self.on_churn_up(client, fault, t),
                Event::StallEnd => self.on_stall_end(t),
                Event::SwimMsg { slot, detector } => self.on_swim_msg(slot, detector, t),
                Event::SwimWake {
                    member,
                    detector,
                    tag,
                } => self.on_swim_wake(member, detector, tag, t),
            }
        }
        self.now = self.end;
        Ok(())
    }

    /// Hints that client `ci`'s state will be read soon: its hot state and its streams.
    /// For events that carry no client the word names something else, and the hint
    /// costs a wasted line at most.
    #[inline(always)]
    fn prefetch_client(&self, ci: usize) {
        if let Some(c) = self.clients.get(ci) {
            prefetch(c);
            self.rng.prefetch(ci);
            for d in &self.detectors {
                d.machine.prefetch(ci);
            }
        }
    }

    /// The process detector `di` runs in: the server, or client `ci` for a detector whose
    /// verdicts are about the server.
    #[inline]
    fn host(&self, di: usize, ci: usize) -> Host {
        if self.detectors[di].ledger.about_server {
            let up = self.clients[ci].up;
            Host {
                up,
                running: up && self.now >= self.cold[ci].paused_until,
                sending: false,
            }
        } else {
            Host {
                up: self.server.up,
                running: self.server.up && !self.server.stalled(self.now),
                sending: !self.server_data.is_empty()
                    && self
                        .server_data
                        .get(di)
                        .and_then(|v| v.get(ci))
                        .is_some_and(server_data::ServerConn::sending),
            }
        }
    }

    /// Hands `input` about client `ci` to detector `di` and applies what it asks for, in
    /// the order it asked.
    #[inline(always)]
    fn feed(&mut self, di: usize, ci: usize, input: Input, trace: &mut Trace<'_>) {
        let host = self.host(di, ci);
        let mut out = Effects::default();
        let mut heard = HeardView {
            clients: &mut self.clients,
            cold: &self.cold,
            numbering: &self.numbering,
            server: &self.server,
            now: self.now,
        };
        self.detectors[di]
            .machine
            .handle(self.now, ci, input, host, &mut heard, &mut out);
        for &effect in out.as_slice() {
            match effect {
                Effect::Online => self.mark_online(di, ci, trace),
                Effect::Offline { window } => self.mark_offline(di, ci, window, trace),
                Effect::Wake { at, class, tag } => {
                    if at < self.end {
                        let event = Event::Timer {
                            client: ci as u32,
                            detector: di as u32,
                            class,
                            tag,
                        };
                        self.queue.push(at, event);
                    }
                }
                Effect::Probe { tag } => self.send_probe(di, ci, tag),
                Effect::Answered => {
                    let gi = self.clients[ci].group as usize;
                    self.group_acc[gi].probe_replies += 1;
                }
            }
        }
    }

    /// Ground truth for detector `di`'s verdicts about client `ci`.
    #[inline]
    fn truth(&self, di: usize, ci: usize) -> bool {
        if self.detectors[di].ledger.about_server {
            self.server.up
        } else {
            self.clients[ci].up
        }
    }

    /// Detector `di` turned client `ci` online now (first contact or rejoin).
    fn mark_online(&mut self, di: usize, ci: usize, trace: &mut Trace<'_>) {
        let now = self.now;
        let up = self.truth(di, ci);
        let gi = self.clients[ci].group as usize;
        let d = &mut self.detectors[di];
        d.ledger.online(ci, gi, up, now);
        if !d.ledger.about_server {
            self.clients[ci].online_in += 1;
        }
        self.trace_verdict(Some(di), ci, Verdict::Online, up, trace);
    }

    /// Detector `di` turned client `ci` offline now. `window` is how far back a fault
    /// window makes the verdict `during_fault`.
    fn mark_offline(&mut self, di: usize, ci: usize, window: u64, trace: &mut Trace<'_>) {
        let now = self.now;
        let up = self.truth(di, ci);
        let c = &mut self.clients[ci];
        // Recorded arrivals up to now have happened; later ones are queued below.
        c.settle(now);
        let gi = c.group as usize;
        // A mistake is caused by a fault if a fault window touching this client was
        // active within the threshold before the verdict.
        let window_end = self.cold[ci].fault_until.max(self.server.fault_until);
        let during_fault = window_end != 0 && window_end.saturating_add(window) >= now;
        let d = &mut self.detectors[di];
        d.ledger.offline(ci, gi, up, during_fault, now);
        if !d.ledger.about_server {
            c.online_in -= 1;
        }
        // Heartbeats still in flight must now arrive as queued deliveries, since their
        // arrival will change this detector's verdict.
        for slot in &mut c.in_flight {
            if slot.0 != NEVER {
                // Queued as a copy: it was counted as delivered when it was recorded.
                // (Recorded arrivals exist only when no detector reads sequence numbers.)
                let event = Event::Datagram {
                    client: ci as u32,
                    copy: true,
                    seq: 0,
                };
                self.queue.push_with_seq(slot.0, slot.1, event);
                *slot = (NEVER, 0);
            }
        }
        self.trace_verdict(Some(di), ci, Verdict::Offline, up, trace);
    }

    /// Reports a verdict (or, without a detector, a change of ground truth) to the trace.
    fn trace_verdict(
        &self,
        detector: Option<usize>,
        ci: usize,
        verdict: Verdict,
        up: bool,
        trace: &mut Trace<'_>,
    ) {
        if let Some(t) = trace.as_mut() {
            let (group, index) = locate(&self.group_start, ci as u32);
            let last = self.clients[ci].last_arrival;
            (*t)(&VerdictEvent {
                time: SimTime(self.now),
                detector,
                group,
                index,
                verdict,
                last_arrival: SimTime(if last == NEVER { 0 } else { last }),
                client_up: up,
            });
        }
    }

    fn finish(mut self) -> Outcome {
        let end = self.end;
        for (ci, c) in self.clients.iter().enumerate() {
            let gi = c.group as usize;
            if c.up {
                // Up time is summed as the ends of up periods minus their starts.
                let acc = &mut self.group_acc[gi];
                acc.up_ns = acc.up_ns.wrapping_add(end);
            }
            for d in &mut self.detectors {
                let up = if d.ledger.about_server {
                    self.server.up
                } else {
                    c.up
                };
                d.ledger.finish(ci, gi, up, end);
            }
        }
        Outcome {
            detectors: self.detectors.into_iter().map(|d| d.ledger.acc).collect(),
            groups: self.group_acc,
            events_processed: self.events,
        }
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
    trace: Trace<'_>,
) -> Result<Outcome, LimitExceeded> {
    check_limits(scenario, limits)?;
    World::new(scenario, seed).run(limits, trace)
}

#[cfg(test)]
mod tests;
