//! The random streams of a run: one per (purpose, client), keyed by the seed, the
//! purpose's label and the client's group, indexed by the client's position in its group.
//! This is the only place purposes are labelled.

use super::GroupRt;
use crate::base::rng::{self, Purpose, Stream};
use crate::scenario::{FaultAction, Group, Loss, Scenario, Transport};

/// Per-purpose streams of every client; a purpose no group draws from has none.
pub(super) struct Streams {
    pub jitter: Vec<Stream>,
    pub overshoot: Vec<Stream>,
    pub uplink_delay: Vec<Stream>,
    pub uplink_loss: Vec<Stream>,
    pub uplink_duplicate: Vec<Stream>,
    pub downlink_delay: Vec<Stream>,
    pub downlink_loss: Vec<Stream>,
    pub churn: Vec<Stream>,
}

/// The stream of client `i` among `streams`, if that purpose has streams.
#[inline]
pub(super) fn pick(streams: &mut [Stream], i: usize) -> Option<&mut Stream> {
    streams.get_mut(i)
}

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

/// The per-client stream of client `i` of group `group` for `purpose` (phase, drift).
pub(super) fn one(seed: u64, purpose: Purpose, group: &str, i: u32) -> Stream {
    rng::stream(rng::key(seed, purpose, group), i)
}

impl Streams {
    /// The streams of every purpose some group of `s` draws from.
    pub fn new(s: &Scenario, seed: u64) -> Self {
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
            let delay = g.uplink.delay(pick(&mut self.up_delay, ci));
            (
                delay,
                g.uplink
                    .lost(&mut self.up_bad[ci], pick(&mut self.up_loss, ci)),
            )
        } else {
            let delay = g.downlink.delay(pick(&mut self.down_delay, ci));
            (
                delay,
                g.downlink
                    .lost(&mut self.down_bad[ci], pick(&mut self.down_loss, ci)),
            )
        }
    }
}
