//! The `swim` detector's fields. Defaults are hashicorp/memberlist's `DefaultLANConfig`
//! (`config.go`): `ProbeInterval` 1 s, `ProbeTimeout` 500 ms, `IndirectChecks` 3,
//! `SuspicionMult` 4, `SuspicionMaxTimeoutMult` 6, `AwarenessMaxMultiplier` 8,
//! `GossipInterval` 200 ms, `GossipNodes` 3, `RetransmitMult` 4, `GossipToTheDeadTime`
//! 30 s, `PushPullInterval` 30 s, `UDPBufferSize` 1400.

use super::select::select;
use super::validate::*;
use super::*;
use crate::model::detector::Swim;
use crate::model::swim::{Config, Confirmations, Phase as SwimPhase, Targeting, MEMBERS_MAX};

/// Every field a `swim` detector may have.
pub const FIELDS: [&str; 19] = [
    "name",
    "kind",
    "members",
    "interval",
    "timeout",
    "indirect",
    "target",
    "phase",
    "suspicion_mult",
    "suspicion_max_mult",
    "lifeguard",
    "awareness_max",
    "confirmations",
    "gossip_interval",
    "gossip_nodes",
    "retransmit_mult",
    "gossip_to_the_dead",
    "push_pull_interval",
    "udp_buffer",
];

impl Validator {
    pub(super) fn swim(&mut self, v: &Value, path: &str, name: Option<String>) -> Option<Detector> {
        let map = self.object(v, path, &FIELDS)?;
        let dur = |v: &mut Self, key: &str, default_ms: u64, positive: bool| {
            v.optional_duration(
                map,
                path,
                key,
                SimDuration::from_millis(default_ms),
                positive,
            )
        };
        let interval = dur(self, "interval", 1000, true);
        let timeout = dur(self, "timeout", 500, true);
        let gossip_interval = dur(self, "gossip_interval", 200, false);
        let gossip_to_the_dead = dur(self, "gossip_to_the_dead", 30_000, false);
        let push_pull_interval = dur(self, "push_pull_interval", 30_000, false);
        let int = |v: &mut Self, key: &str, range: (u64, u64), default: u64| {
            v.optional_integer(map, path, key, range, default)
                .map(|n| n as u32)
        };
        let indirect = int(self, "indirect", (0, 64), 3);
        let suspicion_mult = int(self, "suspicion_mult", (0, 1000), 4);
        let suspicion_max_mult = int(self, "suspicion_max_mult", (1, 1000), 6);
        let awareness_max = int(self, "awareness_max", (1, 1000), 8);
        let gossip_nodes = int(self, "gossip_nodes", (0, 64), 3);
        let retransmit_mult = int(self, "retransmit_mult", (1, 1000), 4);
        let udp_buffer = int(self, "udp_buffer", (256, 65_507), 1400);
        let target = self.optional_choice(
            map,
            path,
            "target",
            &[
                ("random", Targeting::Random),
                ("round-robin", Targeting::RoundRobin),
            ],
            Targeting::Random,
        );
        let phase = self.optional_choice(
            map,
            path,
            "phase",
            &[
                ("random", SwimPhase::Random),
                ("aligned", SwimPhase::Aligned),
            ],
            SwimPhase::Random,
        );
        let confirmations = self.optional_choice(
            map,
            path,
            "confirmations",
            &[
                ("memberlist", Confirmations::Memberlist),
                ("indirect", Confirmations::Indirect),
            ],
            Confirmations::Memberlist,
        );
        let lifeguard = match map.get("lifeguard") {
            None => Some(true),
            Some(Value::Bool(b)) => Some(*b),
            Some(e) => {
                self.problem(
                    &join(path, "lifeguard"),
                    format!("expected true or false (got {})", show(e)),
                );
                None
            }
        };
        if let (Some(i), Some(t)) = (interval, timeout) {
            if t > i {
                self.problem(
                    &join(path, "timeout"),
                    format!(
                        "must not exceed the protocol period \"interval\" \"{}\" (memberlist waits for indirect acks until the period ends) (got \"{}\")",
                        format_duration_spec(i.as_nanos()),
                        format_duration_spec(t.as_nanos())
                    ),
                );
            }
        }
        if let (Some(g), Some(n)) = (gossip_interval, gossip_nodes) {
            if g.is_zero() && n > 0 {
                self.problem(
                    &join(path, "gossip_interval"),
                    "must be positive while gossip_nodes is above 0 (set gossip_nodes to 0 to turn gossip off) (got \"0s\")",
                );
            }
        }
        let members = self.members(map, path);
        let (interval, timeout) = (interval?, timeout?);
        if timeout > interval {
            return None;
        }
        let protocol = Config {
            interval: interval.as_nanos(),
            timeout: timeout.as_nanos(),
            indirect: indirect?,
            target: target?,
            phase: phase?,
            suspicion_mult: suspicion_mult?,
            suspicion_max_mult: suspicion_max_mult?,
            lifeguard: lifeguard?,
            awareness_max: awareness_max?,
            confirmations: confirmations?,
            gossip_interval: gossip_interval?.as_nanos(),
            gossip_nodes: gossip_nodes?,
            retransmit_mult: retransmit_mult?,
            gossip_to_the_dead: gossip_to_the_dead?.as_nanos(),
            udp_buffer: udp_buffer?,
            push_pull_interval: push_pull_interval?.as_nanos(),
        };
        Some(Detector {
            name: name?,
            kind: DetectorKind::Swim(Swim {
                protocol,
                members: members?,
            }),
        })
    }

    /// `members`: a selector or a list of them (every client without it), as half-open
    /// ranges of client ids, merged and in id order; at least two members.
    fn members(&mut self, map: &Map<String, Value>, path: &str) -> Option<Vec<(u32, u32)>> {
        let m_path = join(path, "members");
        let mut starts = Vec::with_capacity(self.groups.len());
        let mut total = 0u64;
        for g in &self.groups {
            starts.push(total);
            total += g.count? as u64;
        }
        let selectors: Vec<(String, Value)> = match map.get("members") {
            None => vec![("*".to_string(), Value::from("*"))],
            Some(Value::String(s)) => vec![(s.clone(), Value::from(s.as_str()))],
            Some(Value::Array(items)) if !items.is_empty() => {
                let mut out = Vec::new();
                for (i, it) in items.iter().enumerate() {
                    let text = self.string(it, &format!("{m_path}[{i}]"))?;
                    out.push((text, it.clone()));
                }
                out
            }
            Some(other) => {
                self.problem(
                    &m_path,
                    format!(
                        "expected a client selector or a non-empty list of them (got {})",
                        show(other)
                    ),
                );
                return None;
            }
        };
        let mut ranges: Vec<(u32, u32)> = Vec::new();
        for (text, raw) in &selectors {
            match select(text, &self.groups) {
                Ok(rs) => {
                    for r in rs {
                        let base = starts[r.group];
                        let count = self.groups[r.group].count? as u64;
                        let end = (r.end as u64).min(count);
                        ranges.push(((base + r.start as u64) as u32, (base + end) as u32));
                    }
                }
                Err(rule) => {
                    self.problem(&m_path, format!("{rule} (got {})", show(raw)));
                    return None;
                }
            }
        }
        ranges.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::new();
        for (a, b) in ranges {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        let n: u64 = merged.iter().map(|(a, b)| (b - a) as u64).sum();
        if n < 2 {
            self.problem(
                &m_path,
                format!("a swim cluster needs at least 2 members (got {n})"),
            );
            return None;
        }
        if n > MEMBERS_MAX as u64 {
            self.problem(
                &m_path,
                format!("a swim cluster has at most {MEMBERS_MAX} members (got {n})"),
            );
            return None;
        }
        Some(merged)
    }
}
