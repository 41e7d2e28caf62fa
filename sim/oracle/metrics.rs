//! Metric accumulators and sample statistics (DESIGN §5).
//!
//! Accumulators are plain counters and sample vectors kept per (detector, group); the
//! overall figures are their merge, done in group order so the result never depends on
//! threads. Quantiles use nearest rank with exact integer arithmetic: the q-quantile of n
//! sorted values is `x[ceil(q*n) - 1]`.

use crate::base::ci;
use serde::Serialize;

/// Statistics of a sample of durations. Every field is `None` (JSON `null`) for an empty
/// sample, never 0. The `_ci_ns` fields are confidence intervals `[lo, hi]`: a t interval
/// for the mean, order statistics for quantiles; `None` where the sample is too small to
/// support the confidence level.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub min_ns: Option<u64>,
    pub mean_ns: Option<u64>,
    pub p50_ns: Option<u64>,
    pub p90_ns: Option<u64>,
    pub p99_ns: Option<u64>,
    pub p999_ns: Option<u64>,
    pub max_ns: Option<u64>,
    pub mean_ci_ns: Option<[u64; 2]>,
    pub p50_ci_ns: Option<[u64; 2]>,
    pub p90_ci_ns: Option<[u64; 2]>,
    pub p99_ci_ns: Option<[u64; 2]>,
    pub p999_ci_ns: Option<[u64; 2]>,
}

/// The quantiles reported, as exact fractions `num / den`.
const P50: (u64, u64) = (1, 2);
const P90: (u64, u64) = (9, 10);
pub const P99: (u64, u64) = (99, 100);
const P999: (u64, u64) = (999, 1000);

/// Nearest-rank quantile of a sorted, non-empty sample: `x[ceil(q*n) - 1]`.
pub fn quantile(sorted: &[u64], (num, den): (u64, u64)) -> u64 {
    assert!(!sorted.is_empty(), "quantile of an empty sample");
    let n = sorted.len() as u128;
    let rank = (n * num as u128).div_ceil(den as u128).max(1);
    sorted[(rank - 1) as usize]
}

impl Stats {
    /// Computes the statistics of `sample` with intervals at `confidence`, sorting the
    /// sample in place.
    pub fn of(sample: &mut [u64], confidence: f64) -> Stats {
        if sample.is_empty() {
            return Stats::default();
        }
        // The mean interval sums in the sample's sorted order, which is deterministic.
        sample.sort_unstable();
        let ns = |i: [f64; 2]| [libm::round(i[0]) as u64, libm::round(i[1]) as u64];
        let n = sample.len() as u128;
        let sum: u128 = sample.iter().map(|&x| x as u128).sum();
        // Mean rounded to the nearest nanosecond, halves up.
        let mean = ((2 * sum + n) / (2 * n)) as u64;
        Stats {
            min_ns: Some(sample[0]),
            mean_ns: Some(mean),
            p50_ns: Some(quantile(sample, P50)),
            p90_ns: Some(quantile(sample, P90)),
            p99_ns: Some(quantile(sample, P99)),
            p999_ns: Some(quantile(sample, P999)),
            max_ns: Some(sample[sample.len() - 1]),
            mean_ci_ns: ci::mean_interval(sample, confidence).map(ns),
            p50_ci_ns: ci::quantile_interval(sample, P50, confidence),
            p90_ci_ns: ci::quantile_interval(sample, P90, confidence),
            p99_ci_ns: ci::quantile_interval(sample, P99, confidence),
            p999_ci_ns: ci::quantile_interval(sample, P999, confidence),
        }
    }
}

/// What one detector observed about one group of clients.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DetectorAcc {
    /// Crash-to-offline times of detected crashes.
    pub latencies: Vec<u64>,
    pub missed: u64,
    pub already_offline: u64,
    pub fp_spurious: u64,
    pub fp_during_fault: u64,
    /// Durations of completed (uncensored) mistakes.
    pub mistakes: Vec<u64>,
    /// Mistakes still open at a crash or at the end of the run.
    pub censored: u64,
    /// Times between consecutive mistakes about a client within an up period (T_MR).
    pub recurrences: Vec<u64>,
    /// Times from the end of a mistake to the next mistake (good periods, T_G).
    pub good_periods: Vec<u64>,
    /// Per client, time from first contact to its first mistake.
    pub first_mistakes: Vec<u64>,
    /// Clients contacted but never mistaken by the end of the run.
    pub first_mistake_censored: u64,
    /// Up time after first contact, summed over clients.
    pub up_known_ns: u64,
    /// The part of `up_known_ns` during which the verdict was online.
    pub up_online_ns: u64,
    /// Probes this detector sent, and the bytes of its probes and their answers.
    pub probes_sent: u64,
    pub probe_bytes: u64,
    /// A `swim` detector's own counts (zero for every other kind).
    pub swim: SwimAcc,
}

/// What a `swim` cluster did, attributed to the group of the member concerned: the
/// sender of a packet, the suspect, the member refuting, the crashed member.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SwimAcc {
    /// Packets and bytes sent per kind: ping, ack, ping-req, nack, gossip, push-pull.
    pub packets: [u64; 6],
    pub bytes: [u64; 6],
    /// Updates (alive, suspect, dead) carried in packets.
    pub updates_sent: u64,
    /// Suspicions raised after a failed probe, and those of a member that was up.
    pub suspicions: u64,
    pub false_suspicions: u64,
    /// Accusations refuted by the accused raising its incarnation.
    pub refutations: u64,
    /// Per crash that every live member came to hold dead: the time that took, ns.
    pub everyone_knows: Vec<u64>,
}

impl SwimAcc {
    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &SwimAcc) {
        for k in 0..6 {
            self.packets[k] += other.packets[k];
            self.bytes[k] += other.bytes[k];
        }
        self.updates_sent += other.updates_sent;
        self.suspicions += other.suspicions;
        self.false_suspicions += other.false_suspicions;
        self.refutations += other.refutations;
        self.everyone_knows.extend_from_slice(&other.everyone_knows);
    }
}

impl DetectorAcc {
    /// Adds `other` into `self` (used to form overall figures from groups, in group order).
    pub fn merge(&mut self, other: &DetectorAcc) {
        self.latencies.extend_from_slice(&other.latencies);
        self.missed += other.missed;
        self.already_offline += other.already_offline;
        self.fp_spurious += other.fp_spurious;
        self.fp_during_fault += other.fp_during_fault;
        self.mistakes.extend_from_slice(&other.mistakes);
        self.censored += other.censored;
        self.recurrences.extend_from_slice(&other.recurrences);
        self.good_periods.extend_from_slice(&other.good_periods);
        self.first_mistakes.extend_from_slice(&other.first_mistakes);
        self.first_mistake_censored += other.first_mistake_censored;
        self.up_known_ns += other.up_known_ns;
        self.up_online_ns += other.up_online_ns;
        self.probes_sent += other.probes_sent;
        self.probe_bytes += other.probe_bytes;
        self.swim.merge(&other.swim);
    }
}

/// Ground truth and traffic of one group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupAcc {
    pub clients: u64,
    /// Time clients were up, summed over clients.
    pub up_ns: u64,
    pub crashes: u64,
    pub heartbeats_sent: u64,
    /// Heartbeats handed to the server (in order, on stream links).
    pub delivered: u64,
    /// Heartbeats the network lost for good (on stream links: abandoned by a break).
    pub lost: u64,
    /// Extra copies delivered by duplicating links.
    pub duplicated: u64,
    /// Stream segments retransmitted after a timeout.
    pub retransmissions: u64,
    /// Stream transmissions dropped by the link (each is retransmitted).
    pub segments_dropped: u64,
    /// Stream connections broken after the retry budget.
    pub connection_breaks: u64,
    /// Pings sent by active detectors, and replies received in time.
    pub probes_sent: u64,
    pub probe_replies: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
}

impl GroupAcc {
    pub fn merge(&mut self, other: &GroupAcc) {
        self.clients += other.clients;
        self.up_ns += other.up_ns;
        self.crashes += other.crashes;
        self.heartbeats_sent += other.heartbeats_sent;
        self.delivered += other.delivered;
        self.lost += other.lost;
        self.duplicated += other.duplicated;
        self.retransmissions += other.retransmissions;
        self.segments_dropped += other.segments_dropped;
        self.connection_breaks += other.connection_breaks;
        self.probes_sent += other.probes_sent;
        self.probe_replies += other.probe_replies;
        self.bytes_up += other.bytes_up;
        self.bytes_down += other.bytes_down;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_quantiles_are_exact() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(quantile(&v, P50), 50);
        assert_eq!(quantile(&v, P90), 90);
        // ceil(0.99 * 100) = 99 exactly; a float product would give 99.00000000000001.
        assert_eq!(quantile(&v, P99), 99);
        assert_eq!(quantile(&v, P999), 100);
        assert_eq!(quantile(&[7], P50), 7);
        let ten: Vec<u64> = (1..=10).collect();
        assert_eq!(quantile(&ten, P50), 5);
        assert_eq!(quantile(&ten, P999), 10);
    }

    #[test]
    fn stats_of_nothing_are_null_and_mean_rounds_to_nearest() {
        assert_eq!(Stats::of(&mut [], 0.95), Stats::default());
        let s = Stats::of(&mut [3, 1, 2, 2], 0.95);
        assert_eq!(s.mean_ns, Some(2));
        assert_eq!(s.min_ns, Some(1));
        assert_eq!(s.max_ns, Some(3));
        assert_eq!(
            Stats::of(&mut [1, 2], 0.95).mean_ns,
            Some(2),
            "1.5 rounds half up"
        );
        assert_eq!(
            Stats::of(&mut [1, 1, 2], 0.95).mean_ns,
            Some(1),
            "1.33 rounds down"
        );
        let json = serde_json::to_string(&Stats::default()).unwrap();
        assert!(json.contains("\"mean_ns\":null"));
    }
}
