//! Driving the `swim` detectors' clusters (`model::swim`): their packets and wake-ups on
//! the queue, the members' faults, and the cluster's verdicts into the ledger.
//!
//! A packet from one member to another travels as on the sender's uplink: its delay,
//! loss (with the sender's own burst state) and duplication, drawn from the detector's
//! streams labelled `"swim.{name}.{what}"` per client, so a swim detector changes no
//! other detector's draws. Push-pull exchanges run over TCP: delayed, never lost, but cut
//! by a partition like everything else. A crashed member handles nothing; a paused one
//! handles what came for it when the pause ends, in arrival order; a partitioned one
//! neither sends nor receives.

use super::event::Event;
use super::streams;
use super::World;
use crate::base::rng::{self, Stream};
use crate::model::detector::Swim;
use crate::model::swim::{Cluster, Kind, Msg, Net, Part, Phase, Wake};
use crate::oracle::Trace;
use crate::scenario::Scenario;

/// No member: a client outside the cluster.
const NOT_A_MEMBER: u32 = u32::MAX;

/// One `swim` detector's cluster and what the engine keeps for it.
pub(super) struct SwimRt {
    cluster: Cluster,
    io: Io,
}

/// Everything but the protocol: ids, packets in flight, streams.
struct Io {
    /// Member to client id.
    client_of: Vec<u32>,
    /// Client id to member, or `NOT_A_MEMBER`.
    member_of: Vec<u32>,
    /// Packets in flight, by slot; free slots are listed in `free`.
    slots: Vec<Option<Msg>>,
    free: Vec<u32>,
    /// Parts buffers of delivered packets, for reuse.
    spare: Vec<Vec<Part>>,
    /// Per client: choices, delays, losses, duplicates, burst state.
    choose: Vec<Stream>,
    delay: Vec<Stream>,
    loss: Vec<Stream>,
    dup: Vec<Stream>,
    bad: Vec<bool>,
    /// How far back a fault window makes a verdict one caused by the fault.
    window: u64,
}

impl SwimRt {
    /// The cluster of `kind` for detector `name`, every member yet to start.
    pub fn new(s: &Scenario, seed: u64, name: &str, kind: &Swim, clients: usize) -> Self {
        let mut member_of = vec![NOT_A_MEMBER; clients];
        let mut client_of = Vec::with_capacity(kind.member_count() as usize);
        for &(a, b) in &kind.members {
            for c in a..b {
                member_of[c as usize] = client_of.len() as u32;
                client_of.push(c);
            }
        }
        let per_client = |what: &str| streams::labelled(s, seed, &format!("swim.{name}.{what}"));
        SwimRt {
            cluster: Cluster::new(kind.protocol.clone(), client_of.len() as u32),
            io: Io {
                client_of,
                member_of,
                slots: Vec::new(),
                free: Vec::new(),
                spare: Vec::new(),
                choose: per_client("choose"),
                delay: per_client("delay"),
                loss: per_client("loss"),
                dup: per_client("duplicate"),
                bad: vec![false; clients],
                window: kind.window(),
            },
        }
    }

    /// The client of member `m`.
    pub fn client(&self, m: u32) -> usize {
        self.io.client_of[m as usize] as usize
    }

    /// How many members.
    pub fn members(&self) -> u32 {
        self.cluster.len()
    }
}

/// The world as one cluster's protocol sees it during one call.
struct SwimNet<'w, 's, 't, 'tr> {
    w: &'w mut World<'s>,
    io: &'w mut Io,
    di: usize,
    trace: &'t mut Trace<'tr>,
}

impl Net for SwimNet<'_, '_, '_, '_> {
    fn draw(&mut self, m: u32) -> u64 {
        let ci = self.io.client_of[m as usize] as usize;
        self.io.choose[ci].next_u64()
    }

    fn send(&mut self, msg: Msg) {
        let w = &mut *self.w;
        let now = w.now;
        let from = self.io.client_of[msg.from as usize] as usize;
        let gi = w.clients[from].group as usize;
        let bytes = msg.bytes() as u64;
        let acc = &mut w.detectors[self.di].ledger.acc[gi];
        acc.probes_sent += 1;
        acc.probe_bytes += bytes;
        let k = msg.kind as usize;
        acc.swim.packets[k] += 1;
        acc.swim.bytes[k] += bytes;
        acc.swim.updates_sent += msg.parts.iter().filter(|p| p.about() != u32::MAX).count() as u64;
        let traffic = &mut w.group_acc[gi];
        traffic.probes_sent += 1;
        traffic.bytes_up += bytes;
        let link = &w.groups[gi].uplink;
        let io = &mut *self.io;
        let delay = link.delay(Some(&mut io.delay[from]));
        let lost = if msg.kind == Kind::PushPull {
            false
        } else {
            link.lost(&mut io.bad[from], Some(&mut io.loss[from]))
        };
        if lost || w.partitioned(from, now) {
            io.spare.push(msg.parts);
            return;
        }
        let copy = if msg.kind == Kind::PushPull {
            None
        } else {
            link.duplicate(Some(&mut io.dup[from]))
        };
        if let Some(extra) = copy {
            let twin = Msg {
                parts: msg.parts.clone(),
                ..msg
            };
            io.schedule(w, now.saturating_add(extra), twin, self.di);
        }
        io.schedule(w, now.saturating_add(delay), msg, self.di);
    }

    fn parts(&mut self) -> Vec<Part> {
        self.io.spare.pop().unwrap_or_default()
    }

    fn wake(&mut self, m: u32, at: u64, wake: Wake) {
        if at < self.w.end {
            let event = Event::SwimWake {
                member: m,
                detector: self.di as u32,
                tag: wake.tag(),
            };
            self.w.queue.push(at, event);
        }
    }

    fn verdict(&mut self, node: u32, dead: bool) {
        let ci = self.io.client_of[node as usize] as usize;
        if dead {
            self.w.mark_offline(self.di, ci, self.io.window, self.trace);
        } else {
            self.w.mark_online(self.di, ci, self.trace);
        }
    }

    fn suspected(&mut self, _m: u32, node: u32) {
        let ci = self.io.client_of[node as usize] as usize;
        let up = self.w.clients[ci].up;
        let gi = self.w.clients[ci].group as usize;
        let acc = &mut self.w.detectors[self.di].ledger.acc[gi].swim;
        acc.suspicions += 1;
        acc.false_suspicions += up as u64;
    }

    fn refuted(&mut self, m: u32) {
        let ci = self.io.client_of[m as usize] as usize;
        let gi = self.w.clients[ci].group as usize;
        self.w.detectors[self.di].ledger.acc[gi].swim.refutations += 1;
    }

    fn everyone_knows(&mut self, node: u32, took: u64) {
        let ci = self.io.client_of[node as usize] as usize;
        let gi = self.w.clients[ci].group as usize;
        self.w.detectors[self.di].ledger.acc[gi]
            .swim
            .everyone_knows
            .push(took);
    }
}

impl Io {
    /// Puts `msg` in a slot and queues its arrival at `at` (dropped at or after the end).
    fn schedule(&mut self, w: &mut World<'_>, at: u64, msg: Msg, di: usize) {
        if at >= w.end {
            self.spare.push(msg.parts);
            return;
        }
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(msg);
                s
            }
            None => {
                self.slots.push(Some(msg));
                (self.slots.len() - 1) as u32
            }
        };
        w.queue.push(
            at,
            Event::SwimMsg {
                slot,
                detector: di as u32,
            },
        );
    }
}

impl<'s> World<'s> {
    /// Runs `f` on detector `di`'s cluster with the world as its network.
    fn with_swim<R>(
        &mut self,
        di: usize,
        trace: &mut Trace<'_>,
        f: impl FnOnce(&mut Cluster, &mut dyn Net) -> R,
    ) -> R {
        let mut rt = self.detectors[di]
            .swim
            .take()
            .expect("a swim detector has its cluster");
        let SwimRt { cluster, io } = &mut *rt;
        let r = {
            let mut net = SwimNet {
                w: self,
                io,
                di,
                trace,
            };
            f(cluster, &mut net)
        };
        self.detectors[di].swim = Some(rt);
        r
    }

    /// Starts every swim detector's members at time 0: each is first known alive to the
    /// ledger, then starts its periods at its phase (drawn from `"swim.{name}.phase"`).
    pub(super) fn start_swim(&mut self, seed: u64) {
        let s = self.scenario;
        for (di, d) in s.detectors.iter().enumerate() {
            let crate::model::detector::DetectorKind::Swim(kind) = &d.kind else {
                continue;
            };
            let mut phases = streams::labelled(s, seed, &format!("swim.{}.phase", d.name));
            let rt = self.detectors[di].swim.as_ref().expect("its cluster");
            let n = rt.members();
            let members: Vec<usize> = (0..n).map(|m| rt.client(m)).collect();
            for &ci in &members {
                self.mark_online(di, ci, &mut None);
            }
            let p = &kind.protocol;
            for (m, &ci) in members.iter().enumerate() {
                let (phase, gossip) = match p.phase {
                    Phase::Aligned => (0, 0),
                    Phase::Random => (
                        rng::below(&mut phases[ci], p.interval),
                        rng::below(&mut phases[ci], p.gossip_interval.max(1)),
                    ),
                };
                if self.clients[ci].up {
                    self.with_swim(di, &mut None, |c, net| {
                        c.start(m as u32, 0, phase, gossip, None, net)
                    });
                }
            }
        }
    }

    /// Whether client `ci` runs no code now (paused): what comes for it waits.
    fn swim_paused(&self, ci: usize) -> bool {
        self.now < self.cold[ci].paused_until
    }

    pub(super) fn on_swim_msg(&mut self, slot: u32, di: u32, trace: &mut Trace<'_>) {
        let di = di as usize;
        let rt = self.detectors[di].swim.as_mut().expect("its cluster");
        let to = rt.io.client_of[rt.io.slots[slot as usize]
            .as_ref()
            .expect("a packet in flight")
            .to as usize] as usize;
        if self.clients[to].up && self.swim_paused(to) {
            // Handled when the pause ends, in arrival order.
            let at = self.cold[to].paused_until;
            if at < self.end {
                let event = Event::SwimMsg {
                    slot,
                    detector: di as u32,
                };
                self.queue.push(at, event);
                return;
            }
        }
        let rt = self.detectors[di].swim.as_mut().expect("its cluster");
        let msg = rt.io.slots[slot as usize]
            .take()
            .expect("a packet in flight");
        rt.io.free.push(slot);
        let now = self.now;
        if self.clients[to].up && !self.partitioned(to, now) && !self.swim_paused(to) {
            self.with_swim(di, trace, |c, net| c.deliver(&msg, now, net));
        }
        let mut parts = msg.parts;
        parts.clear();
        self.detectors[di]
            .swim
            .as_mut()
            .expect("its cluster")
            .io
            .spare
            .push(parts);
    }

    pub(super) fn on_swim_wake(&mut self, member: u32, di: u32, tag: u32, trace: &mut Trace<'_>) {
        let di = di as usize;
        let ci = self.detectors[di]
            .swim
            .as_ref()
            .expect("its cluster")
            .client(member);
        if !self.clients[ci].up {
            return;
        }
        if self.swim_paused(ci) {
            let at = self.cold[ci].paused_until;
            if at < self.end {
                let event = Event::SwimWake {
                    member,
                    detector: di as u32,
                    tag,
                };
                self.queue.push(at, event);
            }
            return;
        }
        let now = self.now;
        self.with_swim(di, trace, |c, net| {
            c.wake(member, Wake::from_tag(tag), now, net)
        });
    }

    /// Client `ci` crashed: in every cluster it belongs to, its member stops.
    pub(super) fn swim_crash(&mut self, ci: usize, trace: &mut Trace<'_>) {
        let now = self.now;
        for di in 0..self.detectors.len() {
            let Some(m) = self.swim_member(di, ci) else {
                continue;
            };
            self.with_swim(di, trace, |c, net| c.crash(m, now, net));
        }
    }

    /// Client `ci` restarted: its member starts again, its periods on a grid from now,
    /// and joins through a live member picked at random (memberlist's join: a push-pull).
    pub(super) fn swim_restart(&mut self, ci: usize, trace: &mut Trace<'_>) {
        let now = self.now;
        for di in 0..self.detectors.len() {
            let Some(m) = self.swim_member(di, ci) else {
                continue;
            };
            let rt = self.detectors[di].swim.as_mut().expect("its cluster");
            let n = rt.cluster.len();
            let p = rt.cluster.config();
            let (interval, gossip) = (p.interval, p.gossip_interval.max(1));
            let live = (0..n).filter(|&j| j != m && rt.cluster.is_up(j)).count() as u64;
            let join = if live == 0 {
                None
            } else {
                let mut pick = rng::below(&mut rt.io.choose[ci], live);
                (0..n).find(|&j| {
                    if j == m || !rt.cluster.is_up(j) {
                        return false;
                    }
                    if pick == 0 {
                        return true;
                    }
                    pick -= 1;
                    false
                })
            };
            self.with_swim(di, trace, |c, net| {
                c.start(m, now, now % interval, now % gossip, join, net)
            });
        }
    }

    fn swim_member(&self, di: usize, ci: usize) -> Option<u32> {
        let rt = self.detectors[di].swim.as_ref()?;
        let m = rt.io.member_of[ci];
        (m != NOT_A_MEMBER).then_some(m)
    }
}
