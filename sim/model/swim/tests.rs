//! The protocol on a small deterministic network: messages take a fixed delay unless a
//! rule drops them, wake-ups fire in time order (deliveries first at one instant).

use super::*;
use crate::base::hash::splitmix64;
use std::collections::BTreeMap;

const S: u64 = 1_000_000_000;
const MS: u64 = 1_000_000;

/// Whether to lose a message sent at a time.
type Drop = Box<dyn Fn(u64, &Msg) -> bool>;

enum Ev {
    Msg(Msg),
    Wake(u32, Wake),
}

struct World {
    now: u64,
    order: u64,
    events: BTreeMap<(u64, u8, u64), Ev>,
    streams: Vec<u64>,
    delay: u64,
    /// Drops a message sent at `now` from `from` to `to`.
    drop: Drop,
    verdicts: Vec<(u64, u32, bool)>,
    suspected: Vec<(u64, u32, u32)>,
    refuted: Vec<(u64, u32)>,
    pings: Vec<(u64, u32, u32)>,
    everyone_knows: Vec<(u32, u64)>,
    /// Packets sent per kind.
    packets: [u64; KINDS],
}

impl Net for World {
    fn draw(&mut self, m: u32) -> u64 {
        splitmix64(&mut self.streams[m as usize])
    }
    fn send(&mut self, msg: Msg) {
        self.packets[msg.kind as usize] += 1;
        if let Some(Part::Ping { node, .. }) = msg.parts.first() {
            if msg.kind == Kind::Ping && *node == msg.to {
                self.pings.push((self.now, msg.from, msg.to));
            }
        }
        if (self.drop)(self.now, &msg) {
            return;
        }
        self.order += 1;
        self.events
            .insert((self.now + self.delay, 1, self.order), Ev::Msg(msg));
    }
    fn parts(&mut self) -> Vec<Part> {
        Vec::new()
    }
    fn wake(&mut self, m: u32, at: u64, wake: Wake) {
        self.order += 1;
        self.events.insert((at, 2, self.order), Ev::Wake(m, wake));
    }
    fn verdict(&mut self, node: u32, dead: bool) {
        self.verdicts.push((self.now, node, dead));
    }
    fn suspected(&mut self, m: u32, node: u32) {
        self.suspected.push((self.now, m, node));
    }
    fn refuted(&mut self, m: u32) {
        self.refuted.push((self.now, m));
    }
    fn everyone_knows(&mut self, node: u32, took: u64) {
        self.everyone_knows.push((node, took));
    }
}

fn lan() -> Config {
    Config {
        interval: S,
        timeout: 500 * MS,
        indirect: 3,
        target: Targeting::Random,
        phase: Phase::Random,
        suspicion_mult: 4,
        suspicion_max_mult: 6,
        confirmations: Confirmations::Memberlist,
        lifeguard: true,
        awareness_max: 8,
        gossip_interval: 200 * MS,
        gossip_nodes: 3,
        retransmit_mult: 4,
        gossip_to_the_dead: 30 * S,
        udp_buffer: 1400,
        push_pull_interval: 30 * S,
    }
}

fn world(n: u32, delay: u64) -> World {
    World {
        now: 0,
        order: 0,
        events: BTreeMap::new(),
        streams: (0..n as u64).map(|i| i * 7919 + 1).collect(),
        delay,
        drop: Box::new(|_, _| false),
        verdicts: Vec::new(),
        suspected: Vec::new(),
        refuted: Vec::new(),
        pings: Vec::new(),
        everyone_knows: Vec::new(),
        packets: [0; KINDS],
    }
}

/// Starts every member with a phase of `i · interval / n` (or 0 when aligned).
fn start(c: &mut Cluster, w: &mut World) {
    let n = c.len();
    for m in 0..n {
        let phase = match c.config().phase {
            Phase::Aligned => 0,
            Phase::Random => c.config().interval * m as u64 / n as u64,
        };
        let g = c.config().gossip_interval * m as u64 / n as u64;
        c.start(m, 0, phase, g, None, w);
    }
}

/// Runs until `end`; `faults` are (time, member, crash?) applied as they come.
fn run(c: &mut Cluster, w: &mut World, end: u64, faults: &[(u64, u32, bool)]) {
    let mut faults = faults.to_vec();
    faults.reverse();
    while let Some((&(at, _, _), _)) = w.events.iter().next() {
        if at >= end {
            break;
        }
        while let Some(&(t, m, crash)) = faults.last() {
            if t > at {
                break;
            }
            faults.pop();
            w.now = t;
            if crash {
                c.crash(m, t, w);
            } else {
                let join = (0..c.len()).find(|&j| j != m && c.is_up(j));
                c.start(m, t, 0, 0, join, w);
            }
        }
        let (key, ev) = w.events.pop_first().unwrap();
        w.now = key.0;
        match ev {
            Ev::Msg(msg) => c.deliver(&msg, w.now, w),
            Ev::Wake(m, wake) => c.wake(m, wake, w.now, w),
        }
    }
}

#[test]
fn a_healthy_cluster_never_suspects_anyone() {
    let mut c = Cluster::new(lan(), 20);
    let mut w = world(20, MS);
    start(&mut c, &mut w);
    run(&mut c, &mut w, 120 * S, &[]);
    assert!(w.suspected.is_empty());
    assert!(w.verdicts.is_empty());
    // Every member probes once per second.
    assert!(w.pings.len() >= 20 * 119, "{} pings", w.pings.len());
    assert!(w.pings.len() <= 20 * 121, "{} pings", w.pings.len());
    assert_eq!(w.packets[Kind::PingReq as usize], 0);
    assert_eq!(w.packets[Kind::Gossip as usize], 0);
}

#[test]
fn a_crashed_member_is_suspected_then_dead_everywhere() {
    let n = 20;
    let mut c = Cluster::new(lan(), n);
    let mut w = world(n, MS);
    start(&mut c, &mut w);
    run(&mut c, &mut w, 200 * S, &[(10 * S + 300 * MS, 5, true)]);
    let first = w
        .suspected
        .first()
        .expect("someone suspects the crashed member");
    assert_eq!(first.2, 5);
    assert!(w.suspected.iter().all(|s| s.2 == 5));
    let dead = w.verdicts.first().expect("declared dead");
    assert_eq!((dead.1, dead.2), (5, true));
    // The suspicion lasts between the minimum (4 · log10(20) · 1 s = 5.204 s) and the
    // maximum (6 times that).
    let (min, max) = lan().suspicion_range(n);
    assert_eq!(min, 5_204 * MS);
    let waited = dead.0 - first.0;
    assert!(waited >= min && waited <= max, "suspected for {waited} ns");
    assert_eq!(w.everyone_knows.len(), 1);
    assert_eq!(w.everyone_knows[0].0, 5);
    assert!(w.refuted.is_empty());
    for m in (0..n).filter(|&m| m != 5) {
        assert_eq!(c.belief(m, 5).0, State::Dead, "member {m}");
    }
}

#[test]
fn a_member_that_misses_its_pings_refutes_its_suspicion() {
    // Pings to member 3 are lost between 10 s and 14 s: probes of it fail, it learns of
    // the suspicion from the updates it still receives and refutes before the suspicion
    // times out.
    let n = 20;
    let mut c = Cluster::new(lan(), n);
    let mut w = world(n, MS);
    w.drop =
        Box::new(|now, m| m.to == 3 && m.kind == Kind::Ping && (10 * S..14 * S).contains(&now));
    start(&mut c, &mut w);
    run(&mut c, &mut w, 60 * S, &[]);
    assert!(w.suspected.iter().any(|s| s.2 == 3));
    assert!(w.refuted.iter().any(|r| r.1 == 3), "member 3 refutes");
    assert!(
        w.verdicts.is_empty(),
        "nobody declares it dead: {:?}",
        w.verdicts
    );
    for m in (0..n).filter(|&m| m != 3) {
        let (state, inc) = c.belief(m, 3);
        assert_eq!(state, State::Alive, "member {m}");
        assert!(inc >= 1);
    }
}

#[test]
fn without_suspicion_a_failed_probe_declares_dead_at_once() {
    let mut cfg = lan();
    cfg.suspicion_mult = 0;
    cfg.lifeguard = false;
    let mut c = Cluster::new(cfg, 10);
    let mut w = world(10, 0);
    start(&mut c, &mut w);
    run(&mut c, &mut w, 30 * S, &[(5 * S + 500 * MS, 2, true)]);
    let s = w.suspected[0];
    let d = w.verdicts[0];
    assert_eq!((s.0, s.2), (d.0, 2));
}

#[test]
fn a_member_that_cannot_send_raises_its_awareness_score() {
    // Member 0's packets are all lost: its probes fail and no nack comes, so with
    // Lifeguard its score climbs to awareness_max − 1, and its periods stretch.
    let n = 10;
    let mut c = Cluster::new(lan(), n);
    let mut w = world(n, MS);
    w.drop = Box::new(|_, m| m.from == 0);
    start(&mut c, &mut w);
    run(&mut c, &mut w, 60 * S, &[]);
    assert_eq!(c.score(0), 7);
    let probes0: Vec<u64> = w.pings.iter().filter(|p| p.1 == 0).map(|p| p.0).collect();
    let gaps: Vec<u64> = probes0.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(
        *gaps.last().unwrap(),
        8 * S,
        "the period is 8 intervals: {gaps:?}"
    );
    // Without Lifeguard the period stays one interval.
    let mut cfg = lan();
    cfg.lifeguard = false;
    let mut c = Cluster::new(cfg, n);
    let mut w = world(n, MS);
    w.drop = Box::new(|_, m| m.from == 0);
    start(&mut c, &mut w);
    run(&mut c, &mut w, 60 * S, &[]);
    assert_eq!(c.score(0), 0);
    let probes0: Vec<u64> = w.pings.iter().filter(|p| p.1 == 0).map(|p| p.0).collect();
    assert!(probes0.windows(2).all(|w| w[1] - w[0] == S));
}

#[test]
fn round_robin_probes_every_other_member_once_per_round() {
    let n = 12;
    let mut cfg = lan();
    cfg.target = Targeting::RoundRobin;
    cfg.phase = Phase::Aligned;
    let mut c = Cluster::new(cfg, n);
    let mut w = world(n, MS);
    start(&mut c, &mut w);
    let rounds = 5;
    run(&mut c, &mut w, (n as u64 - 1) * rounds * S, &[]);
    for m in 0..n {
        let targets: Vec<u32> = w.pings.iter().filter(|p| p.1 == m).map(|p| p.2).collect();
        assert_eq!(targets.len() as u64, (n as u64 - 1) * rounds);
        for round in targets.chunks(n as usize - 1) {
            let mut r = round.to_vec();
            r.sort();
            let want: Vec<u32> = (0..n).filter(|&o| o != m).collect();
            assert_eq!(r, want, "member {m}");
        }
    }
}

#[test]
fn a_restarted_member_rejoins_with_a_higher_incarnation() {
    let n = 10;
    let mut c = Cluster::new(lan(), n);
    let mut w = world(n, MS);
    start(&mut c, &mut w);
    run(
        &mut c,
        &mut w,
        120 * S,
        &[(5 * S, 4, true), (60 * S, 4, false)],
    );
    assert_eq!(w.verdicts[0].1, 4);
    assert!(w.verdicts[0].2);
    let back = w.verdicts.last().unwrap();
    assert_eq!((back.1, back.2), (4, false), "alive again everywhere");
    assert!(back.0 > 60 * S);
    for m in (0..n).filter(|&m| m != 4) {
        assert_eq!(c.belief(m, 4), (State::Alive, 1));
    }
}

#[test]
fn wake_tags_round_trip() {
    for w in [
        Wake::Period,
        Wake::ProbeTimeout { seq: 5 },
        Wake::ProbeDeadline { seq: WAKE_MASK },
        Wake::RelayTimeout { seq: 0 },
        Wake::Suspicion { node: 123_456 },
        Wake::Gossip,
        Wake::PushPull,
    ] {
        assert!(w.tag() < 1 << 24);
        assert_eq!(Wake::from_tag(w.tag()), w);
    }
}

#[test]
fn lifeguards_k_follows_memberlist_or_the_papers_indirect_count() {
    let mut cfg = lan();
    assert_eq!(Cluster::new(cfg.clone(), 50).k, 2, "SuspicionMult - 2");
    cfg.confirmations = Confirmations::Indirect;
    assert_eq!(Cluster::new(cfg.clone(), 50).k, 3, "IndirectChecks");
    assert_eq!(
        Cluster::new(cfg.clone(), 4).k,
        0,
        "too few members to confirm"
    );
    cfg.lifeguard = false;
    assert_eq!(
        Cluster::new(cfg, 50).k,
        0,
        "no dynamic suspicion without Lifeguard"
    );
}
