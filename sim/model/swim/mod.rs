//! SWIM membership failure detection with Lifeguard, as hashicorp/memberlist runs it
//! (inside Consul, Serf and Nomad): Das, Gupta and Motivala, "SWIM: Scalable
//! Weakly-consistent Infection-style Process Group Membership Protocol" (DSN 2002), and
//! Dadgar, Phillips and Currey, "Lifeguard: Local Health Awareness for More Accurate
//! Failure Detection" (2018).
//!
//! The members are clients of the scenario; they probe one another. Each live member runs
//! protocol periods (memberlist `state.go` `probe`, `probeNode`): it pings a target, waits
//! `timeout` for the ack, then asks `indirect` members to ping it (ping-req) and waits for
//! their relayed acks until the end of the period; without an ack it suspects the target
//! (`suspectNode`). A suspect becomes dead when its suspicion times out (`suspicion.go`)
//! unless it refutes with a higher incarnation first (`refute`). Updates travel piggybacked
//! on every ping, ack and ping-req, and in gossip to `gossip_nodes` members every
//! `gossip_interval`, each retransmitted a bounded number of times (`broadcast.rs`).
//!
//! Lifeguard (memberlist's defaults; `lifeguard: false` turns all three off, the original
//! SWIM with a fixed suspicion timeout): local health awareness (`awareness.go`; a failed
//! probe adds the missed nacks, or 1 without nack-capable helpers, a refutation adds 1, a
//! successful probe subtracts 1; the probe's deadline is the interval times score + 1,
//! while `ProbeTimeout` stays unscaled, as `probeNode` does), dynamic suspicion (the
//! timeout starts at `suspicion_max_mult` times the minimum and falls with independent
//! confirmations) and the buddy system (a ping to a suspect carries the suspicion).
//!
//! Pure: the engine hands in messages and wake-ups; the model writes what follows through
//! [`Net`] (send, wake, the cluster-wide verdicts). It never sees the queue or ground
//! truth. Not modelled: memberlist's TCP fallback ping (as with `DisableTcpPings`), the
//! push-pull state sync every `PushPullInterval` except as a restarted member's join, and
//! the reaping of dead members from the probe list.

pub mod broadcast;
pub mod suspicion;
pub mod view;

use broadcast::Broadcasts;
use suspicion::{confirmations_wanted, retransmit_limit, suspicion_timeout, Suspicion};
use view::{permute, Entry, State, View};

/// "No such time".
pub const NEVER: u64 = u64::MAX;

/// How a member picks the member it probes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Targeting {
    /// Uniform over the other members it does not hold dead.
    Random,
    /// memberlist's order: a shuffled list of the others walked in order, reshuffled at
    /// its end, skipping those it holds dead.
    RoundRobin,
}

/// When members' protocol periods start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Every member's periods start together, at multiples of the interval.
    Aligned,
    /// Each member has its own offset, uniform in one interval (memberlist staggers its
    /// tickers randomly).
    Random,
}

/// A `swim` detector's protocol settings (memberlist's `Config` names in brackets).
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// The protocol period (`ProbeInterval`), ns.
    pub interval: u64,
    /// How long a direct ping waits before ping-reqs go out (`ProbeTimeout`), ns.
    pub timeout: u64,
    /// Members asked to ping a target that did not answer (`IndirectChecks`).
    pub indirect: u32,
    /// How targets are picked.
    pub target: Targeting,
    /// When periods start.
    pub phase: Phase,
    /// `SuspicionMult`; 0: no suspicion phase, a failed probe declares the target dead.
    pub suspicion_mult: u32,
    /// `SuspicionMaxTimeoutMult` (Lifeguard).
    pub suspicion_max_mult: u32,
    /// Lifeguard's three parts on (awareness, dynamic suspicion, buddy system, nacks).
    pub lifeguard: bool,
    /// `AwarenessMaxMultiplier`.
    pub awareness_max: u32,
    /// `GossipInterval`, ns.
    pub gossip_interval: u64,
    /// `GossipNodes`.
    pub gossip_nodes: u32,
    /// `RetransmitMult`.
    pub retransmit_mult: u32,
    /// `GossipToTheDeadTime`, ns: dead members still receive gossip this long.
    pub gossip_to_the_dead: u64,
    /// `UDPBufferSize`: bytes of one packet, piggybacked updates included.
    pub udp_buffer: u32,
    /// `PushPullInterval`, ns (0: off): a full state exchange with one random member,
    /// over TCP, every interval scaled by `pushPullScale`.
    pub push_pull_interval: u64,
}

impl Config {
    /// The longest a period can last (the interval at the highest awareness score), ns.
    pub fn longest_period(&self) -> u64 {
        self.interval
            .saturating_mul(self.awareness_max.max(1) as u64)
    }

    /// The suspicion timeout's minimum and maximum in a cluster of `n`, ns.
    pub fn suspicion_range(&self, n: u32) -> (u64, u64) {
        let min = suspicion_timeout(self.suspicion_mult, n, self.interval);
        let mult = if self.lifeguard {
            self.suspicion_max_mult.max(1)
        } else {
            1
        };
        (min, min.saturating_mul(mult as u64))
    }

    /// memberlist's `pushPullScale(interval, n)` (`util.go`): the interval, times
    /// `⌈log2(n) − log2(32)⌉ + 1` above 32 members.
    pub fn push_pull_every(&self, n: u32) -> u64 {
        if n <= 32 {
            return self.push_pull_interval;
        }
        let mult = libm::ceil(libm::log2(n as f64) - 5.0) + 1.0;
        self.push_pull_interval.saturating_mul(mult as u64)
    }

    fn score_max(&self) -> u32 {
        if self.lifeguard {
            self.awareness_max.max(1) - 1
        } else {
            0
        }
    }
}

/// One part of a (compound) packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// A ping for `node` (ignored by anyone else), answered with `Ack { seq }`.
    Ping {
        /// The sender's sequence number.
        seq: u32,
        /// The member pinged.
        node: u32,
    },
    /// Ping `node` for me and relay its ack.
    PingReq {
        /// The requester's sequence number.
        seq: u32,
        /// The member to ping.
        node: u32,
    },
    /// The answer to a ping.
    Ack {
        /// The ping's sequence number.
        seq: u32,
    },
    /// A helper's "no ack from the target within the probe timeout" (Lifeguard).
    Nack {
        /// The ping-req's sequence number.
        seq: u32,
    },
    /// `node` is alive at incarnation `inc`.
    Alive {
        /// The member.
        node: u32,
        /// Its incarnation.
        inc: u32,
    },
    /// `from` suspects `node` at incarnation `inc`.
    Suspect {
        /// The suspect.
        node: u32,
        /// Its incarnation.
        inc: u32,
        /// The accuser.
        from: u32,
    },
    /// A push-pull state exchange (over TCP): the request, or the reply; the state sent
    /// is the sender's view of all `nodes` members.
    PushPull {
        /// Whether this is the reply.
        reply: bool,
        /// Members in the state.
        nodes: u32,
    },
    /// `from` declares `node` dead at incarnation `inc`.
    Dead {
        /// The member.
        node: u32,
        /// Its incarnation.
        inc: u32,
        /// Who declared it.
        from: u32,
    },
}

/// IP and UDP headers of one packet.
pub const PACKET_HEADER_BYTES: u32 = 28;
/// memberlist's `compoundHeaderOverhead` and `compoundOverhead` (`net.go`).
pub const COMPOUND_HEADER_BYTES: u32 = 2;
/// See [`COMPOUND_HEADER_BYTES`].
pub const COMPOUND_PART_BYTES: u32 = 2;

impl Part {
    /// Bytes of the part's msgpack encoding with its type byte, for 16-byte node names
    /// and IPv4 addresses (memberlist `net.go`'s `ping`, `indirectPingReq`, `ackResp`,
    /// `nackResp`, `alive`, `suspect`, `dead` structs, field names included as msgpack
    /// encodes them); an estimate, the same for every member.
    pub const fn bytes(&self) -> u32 {
        match self {
            Part::Ping { .. } => 93,
            Part::PingReq { .. } => 120,
            Part::Ack { .. } => 22,
            Part::Nack { .. } => 13,
            Part::Alive { .. } => 76,
            Part::Suspect { .. } | Part::Dead { .. } => 63,
            // A header, then one `pushNodeState` per member (Name, Addr, Port, Meta,
            // Incarnation, State, Vsn).
            Part::PushPull { nodes, .. } => 16 + 80 * *nodes,
        }
    }

    /// The member an update is about (for the broadcast queue), or `u32::MAX`.
    pub const fn about(&self) -> u32 {
        match self {
            Part::Alive { node, .. } | Part::Suspect { node, .. } | Part::Dead { node, .. } => {
                *node
            }
            Part::Ping { .. }
            | Part::PingReq { .. }
            | Part::Ack { .. }
            | Part::Nack { .. }
            | Part::PushPull { .. } => u32::MAX,
        }
    }
}

/// What a packet was sent for (traffic is counted per kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A direct ping, or a helper's ping for a ping-req.
    Ping,
    /// An ack (direct or relayed).
    Ack,
    /// A ping-req.
    PingReq,
    /// A nack.
    Nack,
    /// A gossip packet.
    Gossip,
    /// A push-pull exchange (TCP: not lost by the link, only delayed or cut).
    PushPull,
}

/// How many [`Kind`]s there are.
pub const KINDS: usize = 6;

/// One packet from a member to another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg {
    /// The sender.
    pub from: u32,
    /// The receiver.
    pub to: u32,
    /// What it was sent for.
    pub kind: Kind,
    /// Its parts, handled in order.
    pub parts: Vec<Part>,
}

impl Msg {
    /// Bytes on the wire: headers, and the compound framing when there is more than one
    /// part.
    pub fn bytes(&self) -> u32 {
        let body: u32 = self.parts.iter().map(Part::bytes).sum();
        let framing = if self.parts.len() > 1 {
            COMPOUND_HEADER_BYTES + COMPOUND_PART_BYTES * self.parts.len() as u32
        } else {
            0
        };
        PACKET_HEADER_BYTES + body + framing
    }
}

/// A wake-up a member asked for. Each is checked against the member's state when it
/// fires (a wake-up that no longer matches does nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    /// The protocol period's tick.
    Period,
    /// The direct ping of probe `seq` timed out.
    ProbeTimeout {
        /// Low bits of the probe's sequence number.
        seq: u32,
    },
    /// The probe `seq`'s period ends.
    ProbeDeadline {
        /// Low bits of the probe's sequence number.
        seq: u32,
    },
    /// A helper's ping `seq` for a ping-req timed out (nack, then forget).
    RelayTimeout {
        /// Low bits of the helper's sequence number.
        seq: u32,
    },
    /// The suspicion of `node` may time out.
    Suspicion {
        /// The suspect.
        node: u32,
    },
    /// The gossip tick.
    Gossip,
    /// The push-pull timer.
    PushPull,
}

/// Sequence numbers and members carried in a wake-up's tag are cut to this many bits.
pub const WAKE_BITS: u32 = 21;
const WAKE_MASK: u32 = (1 << WAKE_BITS) - 1;
/// The most members one `swim` detector may have (a suspicion's wake-up names the
/// suspect in [`WAKE_BITS`] bits).
pub const MEMBERS_MAX: u32 = WAKE_MASK;

impl Wake {
    /// The wake-up as 24 bits: 3 of kind, 21 of value.
    pub fn tag(self) -> u32 {
        let (k, v) = match self {
            Wake::Period => (0, 0),
            Wake::ProbeTimeout { seq } => (1, seq),
            Wake::ProbeDeadline { seq } => (2, seq),
            Wake::RelayTimeout { seq } => (3, seq),
            Wake::Suspicion { node } => (4, node),
            Wake::Gossip => (5, 0),
            Wake::PushPull => (6, 0),
        };
        (k << WAKE_BITS) | (v & WAKE_MASK)
    }

    /// The wake-up of a tag.
    pub fn from_tag(tag: u32) -> Wake {
        let v = tag & WAKE_MASK;
        match tag >> WAKE_BITS {
            0 => Wake::Period,
            1 => Wake::ProbeTimeout { seq: v },
            2 => Wake::ProbeDeadline { seq: v },
            3 => Wake::RelayTimeout { seq: v },
            4 => Wake::Suspicion { node: v },
            5 => Wake::Gossip,
            _ => Wake::PushPull,
        }
    }
}

/// What the model asks of the world.
pub trait Net {
    /// A uniform 64-bit draw from member `m`'s own stream of choices.
    fn draw(&mut self, m: u32) -> u64;
    /// Sends `msg` now over the sender's link.
    fn send(&mut self, msg: Msg);
    /// A blank parts buffer (recycled from delivered packets).
    fn parts(&mut self) -> Vec<Part>;
    /// Wakes member `m` at `at` with `wake`.
    fn wake(&mut self, m: u32, at: u64, wake: Wake);
    /// `node` is now held dead by some live member (`dead`), or by none any more.
    fn verdict(&mut self, node: u32, dead: bool);
    /// Member `m` raised a suspicion of `node` after a failed probe.
    fn suspected(&mut self, m: u32, node: u32);
    /// Member `m` refuted an accusation by raising its incarnation.
    fn refuted(&mut self, m: u32);
}

/// The probe a member has running.
#[derive(Clone, Copy, Debug, Default)]
struct Probe {
    active: bool,
    seq: u32,
    target: u32,
    start: u64,
    deadline: u64,
    expected_nacks: u32,
    nacks: u32,
}

/// A helper's pending ping for someone's ping-req.
#[derive(Clone, Copy, Debug)]
struct Relay {
    seq: u32,
    origin: u32,
    origin_seq: u32,
    expires: u64,
}

/// One member's protocol state.
#[derive(Clone, Debug, Default)]
struct Member {
    up: bool,
    incarnation: u32,
    score: u32,
    seq: u32,
    probe: Probe,
    /// The period grid's offset, ns.
    phase: u64,
    /// When the pending period tick fires (`NEVER` once consumed).
    next_period: u64,
    gossip_phase: u64,
    gossip_at: u64,
    push_pull_at: u64,
    rr_round: u64,
    rr_pos: u32,
    view: View,
    suspicions: Vec<Suspicion>,
    relays: Vec<Relay>,
    queue: Broadcasts,
    /// When the member crashed (for the time until everyone knows), `NEVER` if up.
    crashed_at: u64,
}

/// Counts the model keeps.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// Packets and bytes sent, per [`Kind`] in declaration order.
    pub packets: [u64; KINDS],
    /// See `packets`.
    pub bytes: [u64; KINDS],
    /// Updates carried (piggybacked or gossiped).
    pub updates_sent: u64,
    /// For each crash that every live member came to hold dead: how long that took, ns.
    pub everyone_knows: Vec<u64>,
}

/// The cluster of one `swim` detector.
pub struct Cluster {
    cfg: Config,
    n: u32,
    members: Vec<Member>,
    /// Per member, how many live members hold it dead.
    dead_in: Vec<u32>,
    live: u32,
    /// Crashed members not yet held dead by every live member.
    pending: Vec<u32>,
    transmit_limit: u32,
    k: u32,
    suspicion: (u64, u64),
    /// What the model counted.
    pub stats: Stats,
}

impl Cluster {
    /// A cluster of `n` members with `cfg`, none started yet.
    pub fn new(cfg: Config, n: u32) -> Self {
        let suspicion = cfg.suspicion_range(n);
        Cluster {
            transmit_limit: retransmit_limit(cfg.retransmit_mult, n),
            k: if cfg.lifeguard {
                confirmations_wanted(cfg.suspicion_mult, n)
            } else {
                0
            },
            suspicion,
            cfg,
            n,
            members: vec![Member::default(); n as usize],
            dead_in: vec![0; n as usize],
            live: 0,
            pending: Vec::new(),
            stats: Stats::default(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// How many members.
    pub fn len(&self) -> u32 {
        self.n
    }

    /// Whether the cluster has no members.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Member `m` starts at `now` with offsets `phase` (its period grid) and
    /// `gossip_phase`; a restarted member first joins by taking the view of live member
    /// `join` (memberlist's push-pull on join) and refutes what it says of itself.
    pub fn start(
        &mut self,
        m: u32,
        now: u64,
        phase: u64,
        gossip_phase: u64,
        join: Option<u32>,
        net: &mut dyn Net,
    ) {
        let mi = m as usize;
        if self.members[mi].up {
            return;
        }
        let seq = self.members[mi].seq;
        let mem = &mut self.members[mi];
        *mem = Member {
            up: true,
            seq,
            phase,
            gossip_phase,
            gossip_at: NEVER,
            next_period: NEVER,
            push_pull_at: NEVER,
            crashed_at: NEVER,
            ..Member::default()
        };
        self.live += 1;
        self.pending.retain(|&p| p != m);
        if let Some(j) = join {
            // memberlist's join: a push-pull with a live member, whose state is merged.
            self.merge(m, j, now, net);
        }
        let first = if now <= phase {
            phase
        } else {
            self.next_tick(m, now - 1)
        };
        self.members[mi].next_period = first;
        net.wake(m, first, Wake::Period);
        if self.cfg.push_pull_interval > 0 {
            // pushPullTrigger: a random stagger within one interval, then every scaled
            // interval.
            let at =
                now + below(net.draw(m), 1 << 31) as u64 * self.cfg.push_pull_interval / (1 << 31);
            self.members[mi].push_pull_at = at;
            net.wake(m, at, Wake::PushPull);
        }
    }

    /// Member `m`'s process died at `now`: its view no longer counts.
    pub fn crash(&mut self, m: u32, now: u64, net: &mut dyn Net) {
        let mi = m as usize;
        if !self.members[mi].up {
            return;
        }
        let view = std::mem::take(&mut self.members[mi].view);
        for e in view.entries() {
            if e.state == State::Dead {
                self.count_dead(e.node, false, net);
            }
        }
        let mem = &mut self.members[mi];
        mem.up = false;
        mem.suspicions.clear();
        mem.relays.clear();
        mem.queue.clear();
        mem.probe.active = false;
        mem.next_period = NEVER;
        mem.gossip_at = NEVER;
        mem.push_pull_at = NEVER;
        mem.crashed_at = now;
        self.live -= 1;
        self.pending.push(m);
        self.check_everyone_knows(now);
    }

    /// Whether member `m` runs.
    pub fn is_up(&self, m: u32) -> bool {
        self.members[m as usize].up
    }

    /// Whether some live member holds `node` dead.
    pub fn held_dead(&self, node: u32) -> bool {
        self.dead_in[node as usize] > 0
    }

    /// Member `m`'s awareness score.
    pub fn score(&self, m: u32) -> u32 {
        self.members[m as usize].score
    }

    /// What member `m` believes of `node`.
    pub fn belief(&self, m: u32, node: u32) -> (State, u32) {
        let e = self.members[m as usize].view.get(node);
        (e.state, e.inc)
    }

    /// Member `m`'s wake-up `wake` fired at `now`.
    pub fn wake(&mut self, m: u32, wake: Wake, now: u64, net: &mut dyn Net) {
        if !self.members[m as usize].up {
            return;
        }
        match wake {
            Wake::Period => {
                if self.members[m as usize].next_period == now {
                    self.members[m as usize].next_period = NEVER;
                    self.start_probe(m, now, net);
                }
            }
            Wake::ProbeTimeout { seq } => self.probe_timeout(m, seq, now, net),
            Wake::ProbeDeadline { seq } => self.probe_deadline(m, seq, now, net),
            Wake::RelayTimeout { seq } => self.relay_timeout(m, seq, now, net),
            Wake::Suspicion { node } => self.suspicion_timeout(m, node, now, net),
            Wake::Gossip => self.gossip(m, now, net),
            Wake::PushPull => self.push_pull(m, now, net),
        }
    }

    /// `msg` reached its receiver at `now` (the engine delivers only to a running member).
    pub fn deliver(&mut self, msg: &Msg, now: u64, net: &mut dyn Net) {
        let m = msg.to;
        if !self.members[m as usize].up {
            return;
        }
        for &part in &msg.parts {
            match part {
                Part::Ping { seq, node } => {
                    if node == m {
                        self.send(m, msg.from, Kind::Ack, Part::Ack { seq }, net);
                    }
                }
                Part::PingReq { seq, node } => self.relay(m, msg.from, seq, node, now, net),
                Part::Ack { seq } => self.ack(m, seq, now, net),
                Part::Nack { seq } => {
                    let p = &mut self.members[m as usize].probe;
                    if p.active && p.seq == seq {
                        p.nacks += 1;
                    }
                }
                Part::Alive { node, inc } => self.alive_node(m, node, inc, now, net),
                Part::Suspect { node, inc, from } => {
                    self.suspect_node(m, node, inc, from, now, net)
                }
                Part::Dead { node, inc, from } => self.dead_node(m, node, inc, from, now, net),
                Part::PushPull { reply, .. } => {
                    self.merge(m, msg.from, now, net);
                    if !reply {
                        self.push_pull_send(m, msg.from, true, net);
                    }
                }
            }
        }
    }

    // ---- periods and probes (state.go probe, probeNode) ----

    /// The first tick of member `m`'s period grid after `t`.
    fn next_tick(&self, m: u32, t: u64) -> u64 {
        let phase = self.members[m as usize].phase;
        let i = self.cfg.interval;
        if t < phase {
            return phase;
        }
        phase + ((t - phase) / i + 1) * i
    }

    /// The probe that started at `start` ended at `now`: the next starts at the next tick,
    /// or at once if a tick passed while it ran (Go's ticker keeps one).
    fn end_probe(&mut self, m: u32, now: u64, net: &mut dyn Net) {
        let start = self.members[m as usize].probe.start;
        self.members[m as usize].probe.active = false;
        let tick = self.next_tick(m, start);
        let next = if tick <= now { now } else { tick };
        self.members[m as usize].next_period = next;
        net.wake(m, next, Wake::Period);
    }

    fn start_probe(&mut self, m: u32, now: u64, net: &mut dyn Net) {
        let Some(target) = self.pick_target(m, net) else {
            let next = self.next_tick(m, now);
            self.members[m as usize].next_period = next;
            net.wake(m, next, Wake::Period);
            return;
        };
        let mem = &mut self.members[m as usize];
        mem.seq = mem.seq.wrapping_add(1) & WAKE_MASK;
        let seq = mem.seq;
        let deadline = now + self.cfg.interval * (mem.score as u64 + 1);
        mem.probe = Probe {
            active: true,
            seq,
            target,
            start: now,
            deadline,
            expected_nacks: 0,
            nacks: 0,
        };
        let belief = mem.view.get(target);
        if self.cfg.lifeguard && belief.state != State::Alive {
            // The buddy system: a suspect learns of its suspicion in the ping itself
            // (probeNode's compound ping and suspect, sent without piggybacked updates).
            let mut parts = net.parts();
            parts.push(Part::Ping { seq, node: target });
            parts.push(Part::Suspect {
                node: target,
                inc: belief.inc,
                from: m,
            });
            self.emit(
                Msg {
                    from: m,
                    to: target,
                    kind: Kind::Ping,
                    parts,
                },
                net,
            );
        } else {
            self.send(m, target, Kind::Ping, Part::Ping { seq, node: target }, net);
        }
        net.wake(m, now + self.cfg.timeout, Wake::ProbeTimeout { seq });
    }

    fn probe_timeout(&mut self, m: u32, seq: u32, now: u64, net: &mut dyn Net) {
        let p = self.members[m as usize].probe;
        if !p.active || p.seq != seq {
            return;
        }
        // kRandomNodes(IndirectChecks): alive members other than me and the target.
        let helpers = self.pick_members(m, self.cfg.indirect, Some(p.target), false, now, net);
        for &h in &helpers {
            self.send(
                m,
                h,
                Kind::PingReq,
                Part::PingReq {
                    seq,
                    node: p.target,
                },
                net,
            );
        }
        if self.cfg.lifeguard {
            self.members[m as usize].probe.expected_nacks = helpers.len() as u32;
        }
        net.wake(m, p.deadline.max(now), Wake::ProbeDeadline { seq });
    }

    fn probe_deadline(&mut self, m: u32, seq: u32, now: u64, net: &mut dyn Net) {
        let p = self.members[m as usize].probe;
        if !p.active || p.seq != seq || p.deadline > now {
            return;
        }
        // Self-awareness after a failed probe: the nacks that did not come, or 1 when no
        // helper could send one.
        let delta = if p.expected_nacks > 0 {
            p.expected_nacks.saturating_sub(p.nacks)
        } else {
            1
        };
        self.awareness(m, delta as i32);
        self.end_probe(m, now, net);
        let inc = self.members[m as usize].view.get(p.target).inc;
        net.suspected(m, p.target);
        self.suspect_node(m, p.target, inc, m, now, net);
    }

    fn ack(&mut self, m: u32, seq: u32, now: u64, net: &mut dyn Net) {
        let p = self.members[m as usize].probe;
        if p.active && p.seq == seq && now <= p.deadline {
            self.awareness(m, -1);
            self.end_probe(m, now, net);
            return;
        }
        let relays = &mut self.members[m as usize].relays;
        if let Some(i) = relays.iter().position(|r| r.seq == seq) {
            let r = relays.remove(i);
            if now <= r.expires {
                self.send(m, r.origin, Kind::Ack, Part::Ack { seq: r.origin_seq }, net);
            }
        }
    }

    /// handleIndirectPing: ping `node` for `origin` and relay its ack within the probe
    /// timeout; with nacks, say so when none came.
    fn relay(
        &mut self,
        m: u32,
        origin: u32,
        origin_seq: u32,
        node: u32,
        now: u64,
        net: &mut dyn Net,
    ) {
        let mem = &mut self.members[m as usize];
        mem.seq = mem.seq.wrapping_add(1) & WAKE_MASK;
        let seq = mem.seq;
        let expires = now + self.cfg.timeout;
        mem.relays.push(Relay {
            seq,
            origin,
            origin_seq,
            expires,
        });
        self.send(m, node, Kind::Ping, Part::Ping { seq, node }, net);
        net.wake(m, expires, Wake::RelayTimeout { seq });
    }

    fn relay_timeout(&mut self, m: u32, seq: u32, now: u64, net: &mut dyn Net) {
        let relays = &mut self.members[m as usize].relays;
        let Some(i) = relays.iter().position(|r| r.seq == seq && r.expires <= now) else {
            return;
        };
        let r = relays.remove(i);
        if self.cfg.lifeguard {
            self.send(
                m,
                r.origin,
                Kind::Nack,
                Part::Nack { seq: r.origin_seq },
                net,
            );
        }
    }

    fn awareness(&mut self, m: u32, delta: i32) {
        let max = self.cfg.score_max() as i64;
        let s = &mut self.members[m as usize].score;
        *s = (*s as i64 + delta as i64).clamp(0, max) as u32;
    }

    // ---- choosing members ----

    /// The member at `index` among the others of `m` (`0..n-1`).
    #[inline]
    fn other(m: u32, index: u32) -> u32 {
        if index >= m {
            index + 1
        } else {
            index
        }
    }

    fn pick_target(&mut self, m: u32, net: &mut dyn Net) -> Option<u32> {
        let others = self.n.checked_sub(1).filter(|&o| o > 0)?;
        let mem = &self.members[m as usize];
        if mem.view.dead() >= others {
            return None;
        }
        match self.cfg.target {
            Targeting::Random => {
                // Uniform over the others not held dead: draw until one is.
                loop {
                    let i = below(net.draw(m), others);
                    let t = Self::other(m, i);
                    if self.members[m as usize].view.get(t).state != State::Dead {
                        return Some(t);
                    }
                }
            }
            Targeting::RoundRobin => {
                // Walk the shuffled list; skipped members cost no period (probe()'s
                // numCheck loop); at the end, a new shuffle.
                for _ in 0..2 * others {
                    let mem = &mut self.members[m as usize];
                    if mem.rr_pos == 0 || mem.rr_pos > others {
                        mem.rr_round = net.draw(m);
                        mem.rr_pos = 1;
                    }
                    let mem = &mut self.members[m as usize];
                    let i = permute(mem.rr_round, others, mem.rr_pos - 1);
                    mem.rr_pos += 1;
                    let t = Self::other(m, i);
                    if mem.view.get(t).state != State::Dead {
                        return Some(t);
                    }
                }
                None
            }
        }
    }

    /// memberlist's `kRandomNodes(k, ...)`: up to `k` distinct members other than `m` and
    /// `except`, alive in `m`'s view (or, for gossip, alive, suspect or dead for less
    /// than `gossip_to_the_dead`), found in at most 3·n random tries.
    fn pick_members(
        &mut self,
        m: u32,
        k: u32,
        except: Option<u32>,
        gossip: bool,
        now: u64,
        net: &mut dyn Net,
    ) -> Vec<u32> {
        let mut out = Vec::with_capacity(k as usize);
        let n = self.n;
        if k == 0 || n < 2 {
            return out;
        }
        let ok = |cl: &Cluster, t: u32| {
            if t == m || Some(t) == except {
                return false;
            }
            let e = cl.members[m as usize].view.get(t);
            match e.state {
                State::Alive => true,
                State::Suspect => gossip,
                State::Dead => gossip && now.saturating_sub(e.since) <= cl.cfg.gossip_to_the_dead,
            }
        };
        if n < k * 3 {
            // Small clusters: a shuffle, so that the search is exhaustive.
            let key = net.draw(m);
            for i in 0..n {
                let t = permute(key, n, i);
                if out.len() < k as usize && ok(self, t) {
                    out.push(t);
                }
            }
            return out;
        }
        for _ in 0..3 * n {
            if out.len() >= k as usize {
                break;
            }
            let t = below(net.draw(m), n);
            if ok(self, t) && !out.contains(&t) {
                out.push(t);
            }
        }
        out
    }

    // ---- sending ----

    /// Sends one message with as many queued updates piggybacked as fit.
    fn send(&mut self, m: u32, to: u32, kind: Kind, part: Part, net: &mut dyn Net) {
        let mut parts = net.parts();
        parts.push(part);
        let avail = self
            .cfg
            .udp_buffer
            .saturating_sub(part.bytes() + COMPOUND_HEADER_BYTES);
        self.members[m as usize].queue.take(
            COMPOUND_PART_BYTES,
            avail,
            self.transmit_limit,
            &mut parts,
        );
        self.emit(
            Msg {
                from: m,
                to,
                kind,
                parts,
            },
            net,
        );
    }

    fn emit(&mut self, msg: Msg, net: &mut dyn Net) {
        let k = msg.kind as usize;
        self.stats.packets[k] += 1;
        self.stats.bytes[k] += msg.bytes() as u64;
        self.stats.updates_sent +=
            msg.parts.iter().filter(|p| p.about() != u32::MAX).count() as u64;
        net.send(msg);
    }

    /// Queues an update for broadcast and makes sure a gossip tick is coming.
    fn broadcast(&mut self, m: u32, part: Part, now: u64, net: &mut dyn Net) {
        let mem = &mut self.members[m as usize];
        mem.queue.queue(part);
        if mem.gossip_at == NEVER && self.cfg.gossip_nodes > 0 && self.cfg.gossip_interval > 0 {
            let (ph, i) = (mem.gossip_phase, self.cfg.gossip_interval);
            let at = if now < ph {
                ph
            } else {
                ph + ((now - ph) / i + 1) * i
            };
            mem.gossip_at = at;
            net.wake(m, at, Wake::Gossip);
        }
    }

    /// gossip(): up to `gossip_nodes` members each get a packet of queued updates, while
    /// there are any.
    fn gossip(&mut self, m: u32, now: u64, net: &mut dyn Net) {
        if self.members[m as usize].gossip_at != now {
            return;
        }
        self.members[m as usize].gossip_at = NEVER;
        let to = self.pick_members(m, self.cfg.gossip_nodes, None, true, now, net);
        let avail = self.cfg.udp_buffer.saturating_sub(COMPOUND_HEADER_BYTES);
        for t in to {
            let mut parts = net.parts();
            self.members[m as usize].queue.take(
                COMPOUND_PART_BYTES,
                avail,
                self.transmit_limit,
                &mut parts,
            );
            if parts.is_empty() {
                break;
            }
            self.emit(
                Msg {
                    from: m,
                    to: t,
                    kind: Kind::Gossip,
                    parts,
                },
                net,
            );
        }
        let mem = &mut self.members[m as usize];
        if !mem.queue.is_empty() {
            mem.gossip_at = now + self.cfg.gossip_interval;
            net.wake(m, mem.gossip_at, Wake::Gossip);
        }
    }

    // ---- push-pull (state.go pushPull, mergeState) ----

    fn push_pull(&mut self, m: u32, now: u64, net: &mut dyn Net) {
        if self.members[m as usize].push_pull_at != now {
            return;
        }
        let next = now + self.cfg.push_pull_every(self.n);
        self.members[m as usize].push_pull_at = next;
        net.wake(m, next, Wake::PushPull);
        if let Some(&peer) = self.pick_members(m, 1, None, false, now, net).first() {
            self.push_pull_send(m, peer, false, net);
        }
    }

    fn push_pull_send(&mut self, m: u32, to: u32, reply: bool, net: &mut dyn Net) {
        let mut parts = net.parts();
        parts.push(Part::PushPull {
            reply,
            nodes: self.n,
        });
        self.emit(
            Msg {
                from: m,
                to,
                kind: Kind::PushPull,
                parts,
            },
            net,
        );
    }

    /// mergeState: member `m` merges member `remote`'s state as it is now (the state a
    /// push-pull carries): alive entries as alive messages, suspect and dead ones as
    /// `m`'s own suspicion ("we prefer to suspect that node instead of declaring it dead
    /// instantly"), and the remote's own alive entry.
    fn merge(&mut self, m: u32, remote: u32, now: u64, net: &mut dyn Net) {
        let entries: Vec<Entry> = self.members[remote as usize].view.entries().to_vec();
        let inc = self.members[remote as usize].incarnation;
        self.alive_node(m, remote, inc, now, net);
        for e in entries {
            match e.state {
                State::Alive => self.alive_node(m, e.node, e.inc, now, net),
                State::Suspect | State::Dead => self.suspect_node(m, e.node, e.inc, m, now, net),
            }
        }
    }

    // ---- updates (state.go aliveNode, suspectNode, deadNode, refute) ----

    /// Sets `m`'s belief about `node`, keeping the cluster-wide count of dead beliefs.
    fn believe(&mut self, m: u32, e: Entry, net: &mut dyn Net) {
        let old = self.members[m as usize].view.get(e.node).state;
        self.members[m as usize].view.set(e);
        match (old == State::Dead, e.state == State::Dead) {
            (false, true) => self.count_dead(e.node, true, net),
            (true, false) => self.count_dead(e.node, false, net),
            _ => {}
        }
    }

    fn count_dead(&mut self, node: u32, up: bool, net: &mut dyn Net) {
        let d = &mut self.dead_in[node as usize];
        if up {
            *d += 1;
            if *d == 1 {
                net.verdict(node, true);
            }
        } else {
            *d -= 1;
            if *d == 0 {
                net.verdict(node, false);
            }
        }
    }

    /// Records, for crashed members that every live member now holds dead, how long
    /// that took.
    fn check_everyone_knows(&mut self, now: u64) {
        let live = self.live;
        let mut i = 0;
        while i < self.pending.len() {
            let p = self.pending[i] as usize;
            if self.dead_in[p] >= live {
                self.stats
                    .everyone_knows
                    .push(now - self.members[p].crashed_at);
                self.pending.swap_remove(i);
            } else {
                i += 1;
            }
        }
    }

    fn refute(&mut self, m: u32, accused: u32, now: u64, net: &mut dyn Net) {
        let mem = &mut self.members[m as usize];
        let mut inc = mem.incarnation + 1;
        if accused >= inc {
            inc = accused + 1;
        }
        mem.incarnation = inc;
        net.refuted(m);
        self.awareness(m, 1);
        self.broadcast(m, Part::Alive { node: m, inc }, now, net);
    }

    fn alive_node(&mut self, m: u32, node: u32, inc: u32, now: u64, net: &mut dyn Net) {
        if node == m {
            if inc > self.members[m as usize].incarnation {
                self.refute(m, inc, now, net);
            }
            return;
        }
        let e = self.members[m as usize].view.get(node);
        if inc <= e.inc {
            return;
        }
        self.members[m as usize]
            .suspicions
            .retain(|s| s.target != node);
        self.broadcast(m, Part::Alive { node, inc }, now, net);
        let since = if e.state == State::Alive {
            e.since
        } else {
            now
        };
        self.believe(
            m,
            Entry {
                node,
                inc,
                state: State::Alive,
                since,
            },
            net,
        );
    }

    fn suspect_node(
        &mut self,
        m: u32,
        node: u32,
        inc: u32,
        from: u32,
        now: u64,
        net: &mut dyn Net,
    ) {
        let own = if node == m {
            self.members[m as usize].incarnation
        } else {
            self.members[m as usize].view.get(node).inc
        };
        if inc < own {
            return;
        }
        let mem = &mut self.members[m as usize];
        if let Some(s) = mem.suspicions.iter_mut().find(|s| s.target == node) {
            if s.confirm(from) {
                let at = s.deadline.max(now);
                net.wake(m, at, Wake::Suspicion { node });
                self.broadcast(m, Part::Suspect { node, inc, from }, now, net);
            }
            return;
        }
        if node == m {
            self.refute(m, inc, now, net);
            return;
        }
        if self.members[m as usize].view.get(node).state != State::Alive {
            return;
        }
        self.broadcast(m, Part::Suspect { node, inc, from }, now, net);
        let (min, max) = self.suspicion;
        if min == 0 {
            // suspicion_mult 0: the original SWIM, dead at once.
            self.believe(
                m,
                Entry {
                    node,
                    inc,
                    state: State::Suspect,
                    since: now,
                },
                net,
            );
            self.dead_node(m, node, inc, m, now, net);
            return;
        }
        self.believe(
            m,
            Entry {
                node,
                inc,
                state: State::Suspect,
                since: now,
            },
            net,
        );
        let s = Suspicion::new(node, from, self.k, min, max, now);
        net.wake(m, s.deadline, Wake::Suspicion { node });
        self.members[m as usize].suspicions.push(s);
    }

    fn suspicion_timeout(&mut self, m: u32, node: u32, now: u64, net: &mut dyn Net) {
        let mem = &self.members[m as usize];
        let Some(s) = mem.suspicions.iter().find(|s| s.target == node) else {
            return;
        };
        if s.deadline > now {
            return;
        }
        let e = mem.view.get(node);
        if e.state == State::Suspect {
            self.dead_node(m, node, e.inc, m, now, net);
        }
    }

    fn dead_node(&mut self, m: u32, node: u32, inc: u32, from: u32, now: u64, net: &mut dyn Net) {
        if node == m {
            if inc >= self.members[m as usize].incarnation {
                self.refute(m, inc, now, net);
            }
            return;
        }
        let e = self.members[m as usize].view.get(node);
        if inc < e.inc {
            return;
        }
        self.members[m as usize]
            .suspicions
            .retain(|s| s.target != node);
        if e.state == State::Dead {
            return;
        }
        self.broadcast(m, Part::Dead { node, inc, from }, now, net);
        self.believe(
            m,
            Entry {
                node,
                inc,
                state: State::Dead,
                since: now,
            },
            net,
        );
        self.check_everyone_knows(now);
    }
}

/// A uniform integer in `[0, n)` from one 64-bit draw (multiply-shift, as `base::rng`).
#[inline]
fn below(x: u64, n: u32) -> u32 {
    ((x as u128 * n as u128) >> 64) as u32
}

#[cfg(test)]
mod tests;
