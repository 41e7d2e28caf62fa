//! Reports: the plain-data `Report` built from a run's `Outcome`, and its three renderings
//! (JSON for machines, Markdown and an aligned text summary for people).
//!
//! The JSON key order is the declaration order of the structs below and the scenario
//! order of detectors and groups; nothing in a report depends on the wall clock, the
//! host, a path or the thread count. Times are integer nanoseconds in keys ending `_ns`.

use crate::base::ci;
use crate::base::human;
use crate::oracle::analytic::{self, Analytic, Observed};
use crate::oracle::metrics::{DetectorAcc, GroupAcc, Stats};
use crate::oracle::Outcome;
use crate::scenario::{DetectorKind, Scenario};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

mod build;
pub(crate) mod format;
pub mod html;
mod markdown;
mod text;

pub use build::sha256_hex;
pub(crate) use format::{dur_ci, opt_bytes, rate_ci};

/// `n` and the noun in the number `n` needs: `counted(1, "crash", "crashes")` is
/// "1 crash", `counted(3, "crash", "crashes")` is "3 crashes".
pub fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

const NS_PER_HOUR: f64 = 3_600_000_000_000.0;

/// A map serialised in the order of its entries (scenario order), not sorted by key.
#[derive(Clone, Debug, PartialEq)]
pub struct Ordered<T>(pub Vec<(String, T)>);

impl<T: Serialize> Serialize for Ordered<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<T> Ordered<T> {
    pub fn get(&self, key: &str) -> Option<&T> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// For `skip_serializing_if`: keys that only some scenarios have.
fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The shape of every JSON document hbsim writes (report, check, diff, sweep): raised
/// when a key is renamed, removed or changes its type; new keys do not raise it.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    pub hbsim_version: String,
    pub scenario: ScenarioInfo,
    pub seed: u64,
    /// Independent runs merged into this report (seeds derived from `seed`).
    pub replications: u64,
    /// Level of every interval (`_ci` keys) in the report.
    pub confidence: f64,
    pub duration_ns: u64,
    pub clients: u64,
    pub crashes: u64,
    /// `server-crash` faults injected (over every replication); absent when none.
    #[serde(skip_serializing_if = "is_zero")]
    pub server_crashes: u64,
    pub detectors: Ordered<DetectorReport>,
    pub traffic: Traffic,
    /// The scenario's `expect` targets judged at the report's confidence (those at
    /// another confidence are left to `hbsim check`). Not part of the JSON: `check`
    /// judges the JSON itself.
    #[serde(skip)]
    pub targets: Vec<Target>,
    /// The parameters the scenario's `sweep` block varies, if it has one: the report
    /// links the page `hbsim sweep` writes. Not part of the JSON.
    #[serde(skip)]
    pub swept: Vec<String>,
}

/// One `expect` target and whether the run meets it.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// The detector it names (`None` for traffic targets).
    pub detector: Option<String>,
    /// `seed.detection_latency.p99 <= 4500ms`.
    pub text: String,
    pub pass: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScenarioInfo {
    pub name: String,
    pub description: String,
    pub sha256: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DetectorReport {
    pub kind: String,
    /// The settings that decide its verdicts, in a few words ("scan 1s, threshold 3s").
    pub settings: String,
    pub detection_latency: Latency,
    pub false_positives: FalsePositives,
    pub mistake_duration: MistakeDuration,
    pub query_accuracy: Option<f64>,
    pub query_accuracy_ci: Option<[f64; 2]>,
    #[serde(flatten)]
    pub qos: Qos,
    pub cost: Cost,
    /// A `swim` detector's own figures; absent for every other kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub swim: Option<SwimReport>,
    pub groups: Ordered<GroupDetectorReport>,
}

/// What a `swim` cluster did besides its verdicts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SwimReport {
    pub members: u64,
    /// From each crash until every live member held the member dead (the first
    /// declaration is `detection_latency`).
    pub everyone_knows: Sample,
    /// Suspicions raised after a failed probe, those of a member that was up, and the
    /// accusations the accused refuted by raising its incarnation.
    pub suspicions: u64,
    pub false_suspicions: u64,
    pub refutations: u64,
    /// Updates (alive, suspect, dead) carried, piggybacked or gossiped.
    pub updates_sent: u64,
    /// Packets and bytes per kind, and per member-hour.
    pub traffic: Ordered<SwimTraffic>,
}

/// One kind of `swim` packet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SwimTraffic {
    pub packets: u64,
    pub bytes: u64,
    pub packets_per_member_hour: Option<f64>,
    pub bytes_per_member_hour: Option<f64>,
}

/// What a detector's own messages cost: the probes it sends (pings, keepalive probes)
/// and their answers. Heartbeats are shared by every passive detector and counted in
/// `traffic`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cost {
    pub probes_sent: u64,
    /// Bytes of its probes and of the answers to them, both directions.
    pub probe_bytes: u64,
    pub probe_bytes_per_client_hour: Option<f64>,
}

/// The rest of Chen, Toueg and Aguilera's quality-of-service set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Qos {
    /// λ_M: mistakes per client-hour of up time, with an exact Poisson interval.
    pub mistake_rate_per_client_hour: Option<f64>,
    pub mistake_rate_per_client_hour_ci: Option<[f64; 2]>,
    /// T_MR: time between consecutive mistakes about a client within an up period.
    pub mistake_recurrence: Sample,
    /// T_G: time from the end of a mistake to the next mistake.
    pub good_period: Sample,
    /// Per client, time from first contact to its first mistake; `censored` counts
    /// clients never mistaken (the key figure when `rejoin` is `never`).
    pub first_false_positive: MistakeDuration,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sample {
    pub count: u64,
    #[serde(flatten)]
    pub stats: Stats,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupDetectorReport {
    pub detection_latency: Latency,
    pub false_positives: FalsePositives,
    pub mistake_duration: MistakeDuration,
    pub query_accuracy: Option<f64>,
    pub query_accuracy_ci: Option<[f64; 2]>,
    #[serde(flatten)]
    pub qos: Qos,
    /// What theory says for this group, beside what was observed.
    pub analytic: Analytic,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Latency {
    /// Crashes detected (the sample size of the statistics).
    pub count: u64,
    pub missed: u64,
    pub already_offline: u64,
    #[serde(flatten)]
    pub stats: Stats,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FalsePositives {
    pub total: u64,
    pub spurious: u64,
    pub during_fault: u64,
    pub spurious_per_client_hour: Option<f64>,
    pub spurious_per_client_day: Option<f64>,
    /// Exact Poisson intervals for the counts and the rates.
    pub total_ci: [f64; 2],
    pub spurious_ci: [f64; 2],
    pub spurious_per_client_hour_ci: Option<[f64; 2]>,
    pub spurious_per_client_day_ci: Option<[f64; 2]>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MistakeDuration {
    /// Mistakes that ended with an online verdict (the sample size of the statistics).
    pub count: u64,
    /// Mistakes still open at a crash or at the end of the run.
    pub censored: u64,
    #[serde(flatten)]
    pub stats: Stats,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Traffic {
    pub heartbeats_sent: u64,
    /// Heartbeats handed to the server (in order, on stream links).
    pub delivered: u64,
    /// Heartbeats lost for good (on stream links: abandoned by a broken connection).
    pub lost: u64,
    /// Extra copies delivered by duplicating links.
    pub duplicated: u64,
    /// Sent but neither delivered nor lost by the end of the run.
    pub in_flight: u64,
    pub retransmissions: u64,
    pub segments_dropped: u64,
    pub connection_breaks: u64,
    /// Pings sent by active detectors, and the replies that came back in time.
    pub probes_sent: u64,
    pub probe_replies: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub heartbeats_per_client_hour: Option<f64>,
    /// Bytes up and down per client-hour: the cost `hbsim tune` minimises by default.
    pub bytes_per_client_hour: Option<f64>,
    pub groups: Ordered<GroupTraffic>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupTraffic {
    pub clients: u64,
    pub up_ns: u64,
    pub crashes: u64,
    pub heartbeats_sent: u64,
    pub delivered: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub in_flight: u64,
    pub retransmissions: u64,
    pub segments_dropped: u64,
    pub connection_breaks: u64,
    pub probes_sent: u64,
    pub probe_replies: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub heartbeats_per_client_hour: Option<f64>,
    pub bytes_per_client_hour: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_maps_keep_their_order() {
        let m = Ordered(vec![("b".to_string(), 1), ("a".to_string(), 2)]);
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"b":1,"a":2}"#);
        assert_eq!(m.get("a"), Some(&2));
    }

    #[test]
    fn counts_take_the_noun_their_number_needs() {
        assert_eq!(counted(1, "client", "clients"), "1 client");
        assert_eq!(counted(0, "client", "clients"), "0 clients");
        assert_eq!(counted(2, "crash", "crashes"), "2 crashes");
    }

    #[test]
    fn the_scenario_hash_is_sha256() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
