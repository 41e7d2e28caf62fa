//! Sending with piggybacked updates, gossip, push-pull, and the handling of updates
//! (memberlist `net.go` `sendMsg`, `state.go` `gossip`, `pushPull`, `mergeState`,
//! `aliveNode`, `suspectNode`, `deadNode`, `refute`).

use super::view::{Entry, State};
use super::*;

impl Cluster {
    // ---- sending ----

    /// Sends one message with as many queued updates piggybacked as fit.
    pub(super) fn send(&mut self, m: u32, to: u32, kind: Kind, part: Part, net: &mut dyn Net) {
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
        net.send(Msg {
            from: m,
            to,
            kind,
            parts,
        });
    }

    /// Queues an update for broadcast and makes sure a gossip tick is coming.
    pub(super) fn broadcast(&mut self, m: u32, part: Part, now: u64, net: &mut dyn Net) {
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
    pub(super) fn gossip(&mut self, m: u32, now: u64, net: &mut dyn Net) {
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
            net.send(Msg {
                from: m,
                to: t,
                kind: Kind::Gossip,
                parts,
            });
        }
        let mem = &mut self.members[m as usize];
        if !mem.queue.is_empty() {
            mem.gossip_at = now + self.cfg.gossip_interval;
            net.wake(m, mem.gossip_at, Wake::Gossip);
        }
    }

    // ---- push-pull (state.go pushPull, mergeState) ----

    pub(super) fn push_pull(&mut self, m: u32, now: u64, net: &mut dyn Net) {
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

    pub(super) fn push_pull_send(&mut self, m: u32, to: u32, reply: bool, net: &mut dyn Net) {
        let mut parts = net.parts();
        parts.push(Part::PushPull {
            reply,
            nodes: self.n,
        });
        net.send(Msg {
            from: m,
            to,
            kind: Kind::PushPull,
            parts,
        });
    }

    /// mergeState: member `m` merges member `remote`'s state as it is now (the state a
    /// push-pull carries): alive entries as alive messages, suspect and dead ones as
    /// `m`'s own suspicion ("we prefer to suspect that node instead of declaring it dead
    /// instantly"), and the remote's own alive entry.
    pub(super) fn merge(&mut self, m: u32, remote: u32, now: u64, net: &mut dyn Net) {
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
    pub(super) fn believe(&mut self, m: u32, e: Entry, net: &mut dyn Net) {
        let old = self.members[m as usize].view.get(e.node).state;
        self.members[m as usize].view.set(e);
        match (old == State::Dead, e.state == State::Dead) {
            (false, true) => self.count_dead(e.node, true, net),
            (true, false) => self.count_dead(e.node, false, net),
            _ => {}
        }
    }

    pub(super) fn count_dead(&mut self, node: u32, up: bool, net: &mut dyn Net) {
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
    pub(super) fn check_everyone_knows(&mut self, now: u64, net: &mut dyn Net) {
        let live = self.live;
        let mut i = 0;
        while i < self.pending.len() {
            let p = self.pending[i] as usize;
            if self.dead_in[p] >= live {
                net.everyone_knows(p as u32, now - self.members[p].crashed_at);
                self.pending.remove(i);
            } else {
                i += 1;
            }
        }
    }

    pub(super) fn refute(&mut self, m: u32, accused: u32, now: u64, net: &mut dyn Net) {
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

    pub(super) fn alive_node(&mut self, m: u32, node: u32, inc: u32, now: u64, net: &mut dyn Net) {
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

    pub(super) fn suspect_node(
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
        if min == 0 {
            // suspicion_mult 0: the original SWIM, dead at once.
            self.dead_node(m, node, inc, m, now, net);
            return;
        }
        let s = Suspicion::new(node, from, self.k, min, max, now);
        net.wake(m, s.deadline, Wake::Suspicion { node });
        self.members[m as usize].suspicions.push(s);
    }

    pub(super) fn suspicion_timeout(&mut self, m: u32, node: u32, now: u64, net: &mut dyn Net) {
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

    pub(super) fn dead_node(
        &mut self,
        m: u32,
        node: u32,
        inc: u32,
        from: u32,
        now: u64,
        net: &mut dyn Net,
    ) {
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
        self.check_everyone_knows(now, net);
    }
}
