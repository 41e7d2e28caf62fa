//! The random streams of a run: one per (purpose, client), keyed by the seed, the
//! purpose's label and the client's group, indexed by the client's position in its group.
//! This is the only place purposes are labelled.

use super::GroupRt;
use crate::base::rng::{self, Purpose, Stream};
use crate::scenario::{FaultAction, Group, Loss, Scenario, Transport};

/// Every client's streams of the purposes in use, side by side so that one client's
/// draws touch one cache line: client `ci`'s stream of a purpose is
/// `all[ci * stride + slot]`. A purpose no group draws from has no slot.
pub(super) struct Streams {
    all: Vec<Stream>,
    stride: usize,
    /// Per purpose (`Purpose as usize`), its place among a client's streams.
    slot: [Option<u8>; PURPOSES],
}

/// How many purposes there are.
const PURPOSES: usize = Purpose::ALL.len();

/// Every client's stream for `purpose`, or none if no group `used` it.
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

/// Every client's stream for a purpose named at run time.
pub(super) fn labelled(s: &Scenario, seed: u64, label: &str) -> Vec<Stream> {
    let mut out = Vec::new();
    for g in &s.groups {
        let key = rng::key_for_label(seed, label, &g.name);
        out.extend((0..g.count).map(|i| rng::stream(key, i)));
    }
    out
}

/// The key of `group`'s streams for `purpose` (phase and drift, drawn once per client at
/// the start): client `i`'s stream is `rng::stream(key, i)`.
pub(super) fn group_key(seed: u64, purpose: Purpose, group: &str) -> [u8; 32] {
    rng::key(seed, purpose, group)
}

impl Streams {
    /// Hints that client `ci`'s streams will be drawn from soon.
    #[inline(always)]
    pub fn prefetch(&self, ci: usize) {
        if let Some(s) = self.all.get(ci * self.stride) {
            crate::base::prefetch::prefetch(s);
        }
    }

    /// The streams of every purpose some group of `s` draws from.
    pub fn new(s: &Scenario, seed: u64) -> Self {
        let is_stream = |g: &Group| matches!(g.transport, Transport::Stream(_));
        let churns = s
            .faults
            .iter()
            .any(|f| matches!(f.action, FaultAction::Churn { .. }));
        // Phase and drift are drawn once, at the start; the others live through the run.
        let per_purpose = [
            (
                Purpose::Jitter,
                streams_for(s, seed, Purpose::Jitter, |g| !g.heartbeat.jitter.is_zero()),
            ),
            (
                Purpose::Overshoot,
                streams_for(s, seed, Purpose::Overshoot, |g| {
                    g.heartbeat.overshoot.is_some()
                }),
            ),
            (
                Purpose::UplinkDelay,
                streams_for(s, seed, Purpose::UplinkDelay, |g| g.uplink.delay.is_some()),
            ),
            (
                Purpose::UplinkLoss,
                streams_for(s, seed, Purpose::UplinkLoss, |g| {
                    g.uplink.loss != Loss::None
                }),
            ),
            (
                Purpose::UplinkDuplicate,
                streams_for(s, seed, Purpose::UplinkDuplicate, |g| {
                    g.uplink.duplicate > 0.0
                }),
            ),
            (
                Purpose::DownlinkDelay,
                streams_for(s, seed, Purpose::DownlinkDelay, |g| {
                    is_stream(g) && g.downlink.delay.is_some()
                }),
            ),
            (
                Purpose::DownlinkLoss,
                streams_for(s, seed, Purpose::DownlinkLoss, |g| {
                    is_stream(g) && g.downlink.loss != Loss::None
                }),
            ),
            (
                Purpose::Churn,
                streams_for(s, seed, Purpose::Churn, |_| churns),
            ),
        ];
        let mut slot = [None; PURPOSES];
        let mut stride = 0;
        for (purpose, v) in &per_purpose {
            if !v.is_empty() {
                slot[*purpose as usize] = Some(stride as u8);
                stride += 1;
            }
        }
        let clients: usize = s.groups.iter().map(|g| g.count as usize).sum();
        let mut all = Vec::with_capacity(clients * stride);
        for ci in 0..clients {
            all.extend(
                per_purpose
                    .iter()
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(_, v)| v[ci].clone()),
            );
        }
        Streams { all, stride, slot }
    }

    /// Client `ci`'s stream of `purpose`, if that purpose has streams.
    #[inline]
    pub fn get(&mut self, purpose: Purpose, ci: usize) -> Option<&mut Stream> {
        let k = self.slot[purpose as usize]? as usize;
        self.all.get_mut(ci * self.stride + k)
    }

    /// Client `ci`'s stream of `purpose`, which the scenario makes it draw from.
    #[inline]
    pub fn of(&mut self, purpose: Purpose, ci: usize) -> &mut Stream {
        self.get(purpose, ci)
            .expect("a purpose drawn from has streams")
    }
}

/// An active detector's own path, per client: the streams of its packets' delays and
/// losses down and up, and their Gilbert–Elliott states. Drawing from them changes no
/// other stream, so adding the detector changes no other detector's results.
pub(super) struct ProbeStreams {
    down_delay: Vec<Stream>,
    down_loss: Vec<Stream>,
    up_delay: Vec<Stream>,
    up_loss: Vec<Stream>,
    down_bad: Vec<bool>,
    up_bad: Vec<bool>,
}

impl ProbeStreams {
    /// The streams labelled `"{label}.{detector}.down.delay"` and so on.
    pub fn new(s: &Scenario, seed: u64, label: &str, detector: &str) -> Self {
        let per_client = |what: &str| labelled(s, seed, &format!("{label}.{detector}.{what}"));
        let clients = s.groups.iter().map(|g| g.count as usize).sum();
        ProbeStreams {
            down_delay: per_client("down.delay"),
            down_loss: per_client("down.loss"),
            up_delay: per_client("up.delay"),
            up_loss: per_client("up.loss"),
            down_bad: vec![false; clients],
            up_bad: vec![false; clients],
        }
    }

    /// One packet of client `ci` over the group's uplink (`up`) or downlink: its delay,
    /// then whether the link loses it.
    pub fn draw(&mut self, g: &GroupRt, ci: usize, up: bool) -> (u64, bool) {
        if up {
            let delay = g.uplink.delay(Some(&mut self.up_delay[ci]));
            (
                delay,
                g.uplink
                    .lost(&mut self.up_bad[ci], Some(&mut self.up_loss[ci])),
            )
        } else {
            let delay = g.downlink.delay(Some(&mut self.down_delay[ci]));
            (
                delay,
                g.downlink
                    .lost(&mut self.down_bad[ci], Some(&mut self.down_loss[ci])),
            )
        }
    }
}
