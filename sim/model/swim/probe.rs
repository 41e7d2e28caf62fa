//! Protocol periods and probes (memberlist `state.go` `probe`, `probeNode`,
//! `net.go` `handleIndirectPing`), and how members choose one another.

use super::view::{permute, State};
use super::*;

impl Cluster {
    // ---- periods and probes (state.go probe, probeNode) ----

    /// The first tick of member `m`'s period grid after `t`.
    pub(super) fn next_tick(&self, m: u32, t: u64) -> u64 {
        let phase = self.members[m as usize].phase;
        let i = self.cfg.interval;
        if t < phase {
            return phase;
        }
        phase + ((t - phase) / i + 1) * i
    }

    /// The probe that started at `start` ended at `now`: the next starts at the next tick,
    /// or at once if a tick passed while it ran (Go's ticker keeps one).
    pub(super) fn end_probe(&mut self, m: u32, now: u64, net: &mut dyn Net) {
        let start = self.members[m as usize].probe.start;
        self.members[m as usize].probe.active = false;
        let tick = self.next_tick(m, start);
        let next = if tick <= now { now } else { tick };
        self.members[m as usize].next_period = next;
        net.wake(m, next, Wake::Period);
    }

    pub(super) fn start_probe(&mut self, m: u32, now: u64, net: &mut dyn Net) {
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
            net.send(Msg {
                from: m,
                to: target,
                kind: Kind::Ping,
                parts,
            });
        } else {
            self.send(m, target, Kind::Ping, Part::Ping { seq, node: target }, net);
        }
        net.wake(m, now + self.cfg.timeout, Wake::ProbeTimeout { seq });
    }

    pub(super) fn probe_timeout(&mut self, m: u32, seq: u32, now: u64, net: &mut dyn Net) {
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

    pub(super) fn probe_deadline(&mut self, m: u32, seq: u32, now: u64, net: &mut dyn Net) {
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

    pub(super) fn ack(&mut self, m: u32, seq: u32, now: u64, net: &mut dyn Net) {
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
    pub(super) fn relay(
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

    pub(super) fn relay_timeout(&mut self, m: u32, seq: u32, now: u64, net: &mut dyn Net) {
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

    pub(super) fn awareness(&mut self, m: u32, delta: i32) {
        let max = self.cfg.score_max() as i64;
        let s = &mut self.members[m as usize].score;
        *s = (*s as i64 + delta as i64).clamp(0, max) as u32;
    }

    // ---- choosing members ----

    /// The member at `index` among the others of `m` (`0..n-1`).
    #[inline]
    pub(super) fn other(m: u32, index: u32) -> u32 {
        if index >= m {
            index + 1
        } else {
            index
        }
    }

    pub(super) fn pick_target(&mut self, m: u32, net: &mut dyn Net) -> Option<u32> {
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
    pub(super) fn pick_members(
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
}
