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
mod probe;
pub mod suspicion;
mod updates;
pub mod view;

use broadcast::Broadcasts;
use suspicion::{confirmations_wanted, retransmit_limit, suspicion_timeout, Suspicion};
use view::{State, View};

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

/// How many independent confirmations drive a Lifeguard suspicion to its minimum timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Confirmations {
    /// memberlist's code (`state.go` `suspectNode`): `k = SuspicionMult − 2`.
    Memberlist,
    /// The Lifeguard paper's reading: `k = IndirectChecks`.
    Indirect,
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
    /// Where the dynamic suspicion's `k` comes from.
    pub confirmations: Confirmations,
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
    /// Every live member now holds crashed member `node` dead, `took` ns after its crash.
    fn everyone_knows(&mut self, node: u32, took: u64);
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
}

impl Cluster {
    /// A cluster of `n` members with `cfg`, none started yet.
    pub fn new(cfg: Config, n: u32) -> Self {
        let suspicion = cfg.suspicion_range(n);
        Cluster {
            transmit_limit: retransmit_limit(cfg.retransmit_mult, n),
            k: if cfg.lifeguard {
                let k = match cfg.confirmations {
                    Confirmations::Memberlist => cfg.suspicion_mult as i64 - 2,
                    Confirmations::Indirect => cfg.indirect as i64,
                };
                confirmations_wanted(k, n)
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
            let stagger =
                ((net.draw(m) as u128 * self.cfg.push_pull_interval as u128) >> 64) as u64;
            let at = now + stagger;
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
        self.check_everyone_knows(now, net);
    }

    /// Whether member `m` runs.
    pub fn is_up(&self, m: u32) -> bool {
        self.members[m as usize].up
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
}

/// A uniform integer in `[0, n)` from one 64-bit draw (multiply-shift, as `base::rng`).
#[inline]
fn below(x: u64, n: u32) -> u32 {
    ((x as u128 * n as u128) >> 64) as u32
}

#[cfg(test)]
mod tests;
