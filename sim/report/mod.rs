//! Reports: the plain-data `Report` built from a run's `Outcome`, and its three renderings
//! (JSON for machines, Markdown and an aligned text summary for people).
//!
//! The JSON key order is the declaration order of the structs below and the scenario
//! order of detectors and groups; nothing in a report depends on the wall clock, the
//! host, a path or the thread count. Times are integer nanoseconds in keys ending `_ns`.

use crate::base::ci;
use crate::base::time::format_duration;
use crate::oracle::analytic::{self, Analytic, Observed};
use crate::oracle::metrics::{DetectorAcc, GroupAcc, Stats};
use crate::oracle::Outcome;
use crate::scenario::{DetectorKind, Scenario};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

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

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
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
    pub detectors: Ordered<DetectorReport>,
    pub traffic: Traffic,
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
    pub detection_latency: Latency,
    pub false_positives: FalsePositives,
    pub mistake_duration: MistakeDuration,
    pub query_accuracy: Option<f64>,
    pub query_accuracy_ci: Option<[f64; 2]>,
    #[serde(flatten)]
    pub qos: Qos,
    pub groups: Ordered<GroupDetectorReport>,
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

/// Merges replications in order: samples concatenated, counters summed, and each group's
/// client count kept (it is the same in every replication).
fn merge(outcomes: &[Outcome]) -> Outcome {
    let mut merged = outcomes[0].clone();
    for o in &outcomes[1..] {
        for (md, od) in merged.detectors.iter_mut().zip(&o.detectors) {
            for (mg, og) in md.iter_mut().zip(od) {
                mg.merge(og);
            }
        }
        for (mg, og) in merged.groups.iter_mut().zip(&o.groups) {
            let clients = mg.clients;
            mg.merge(og);
            mg.clients = clients;
        }
        merged.events_processed += o.events_processed;
    }
    merged
}

/// Hex SHA-256 of the scenario file's bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn per_hour(count: u64, ns: u64) -> Option<f64> {
    (ns > 0).then(|| count as f64 / (ns as f64 / NS_PER_HOUR))
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The figures of one detector over some clients.
struct Figures {
    latency: Latency,
    false_positives: FalsePositives,
    mistakes: MistakeDuration,
    accuracy: Option<f64>,
    accuracy_ci: Option<[f64; 2]>,
    qos: Qos,
}

/// `up_ns` is the clients' up time; `heartbeat_periods` the number of heartbeat intervals
/// observed after first contact, the effective sample size of the query-accuracy
/// proportion (verdicts a heartbeat apart are treated as independent trials).
fn detector_figures(acc: &DetectorAcc, up_ns: u64, heartbeat_periods: f64, c: f64) -> Figures {
    let mut lat = acc.latencies.clone();
    let mut mis = acc.mistakes.clone();
    let latency = Latency {
        count: lat.len() as u64,
        missed: acc.missed,
        already_offline: acc.already_offline,
        stats: Stats::of(&mut lat, c),
    };
    let spurious_ci = ci::poisson_interval(acc.fp_spurious, c);
    let hours = up_ns as f64 / NS_PER_HOUR;
    let rate_ci = |scale: f64| {
        (up_ns > 0).then(|| {
            [
                spurious_ci[0] / hours * scale,
                spurious_ci[1] / hours * scale,
            ]
        })
    };
    let false_positives = FalsePositives {
        total: acc.fp_spurious + acc.fp_during_fault,
        spurious: acc.fp_spurious,
        during_fault: acc.fp_during_fault,
        spurious_per_client_hour: per_hour(acc.fp_spurious, up_ns),
        spurious_per_client_day: per_hour(acc.fp_spurious, up_ns).map(|h| h * 24.0),
        total_ci: ci::poisson_interval(acc.fp_spurious + acc.fp_during_fault, c),
        spurious_ci,
        spurious_per_client_hour_ci: rate_ci(1.0),
        spurious_per_client_day_ci: rate_ci(24.0),
    };
    let mistakes = MistakeDuration {
        count: mis.len() as u64,
        censored: acc.censored,
        stats: Stats::of(&mut mis, c),
    };
    let accuracy = ratio(acc.up_online_ns, acc.up_known_ns);
    let mistakes_total = acc.fp_spurious + acc.fp_during_fault;
    let total_ci = ci::poisson_interval(mistakes_total, c);
    let sample = |v: &[u64]| {
        let mut v = v.to_vec();
        Sample {
            count: v.len() as u64,
            stats: Stats::of(&mut v, c),
        }
    };
    let mut first = acc.first_mistakes.clone();
    let qos = Qos {
        mistake_rate_per_client_hour: per_hour(mistakes_total, up_ns),
        mistake_rate_per_client_hour_ci: (up_ns > 0)
            .then(|| [total_ci[0] / hours, total_ci[1] / hours]),
        mistake_recurrence: sample(&acc.recurrences),
        good_period: sample(&acc.good_periods),
        first_false_positive: MistakeDuration {
            count: first.len() as u64,
            censored: acc.first_mistake_censored,
            stats: Stats::of(&mut first, c),
        },
    };
    Figures {
        qos,
        latency,
        false_positives,
        mistakes,
        accuracy,
        accuracy_ci: accuracy.and_then(|p| ci::wilson_interval(p, heartbeat_periods, c)),
    }
}

impl Report {
    /// Builds the report of one run.
    pub fn new(
        scenario: &Scenario,
        scenario_bytes: &[u8],
        seed: u64,
        confidence: f64,
        outcomes: &[Outcome],
    ) -> Self {
        assert!(!outcomes.is_empty(), "a report needs at least one run");
        let merged = merge(outcomes);
        let outcome = &merged;
        let replications = outcomes.len() as u64;
        // Heartbeat periods observed after first contact, per group.
        let periods: Vec<Vec<f64>> = outcome
            .detectors
            .iter()
            .map(|per_group| {
                per_group
                    .iter()
                    .zip(&scenario.groups)
                    .map(|(acc, g)| acc.up_known_ns as f64 / g.heartbeat.interval.as_nanos() as f64)
                    .collect()
            })
            .collect();
        let mut all_groups = GroupAcc::default();
        for g in &outcome.groups {
            all_groups.merge(g);
        }
        let detectors = scenario
            .detectors
            .iter()
            .zip(&outcome.detectors)
            .zip(&periods)
            .map(|((d, per_group), periods)| {
                let mut all = DetectorAcc::default();
                for g in per_group {
                    all.merge(g);
                }
                let overall =
                    detector_figures(&all, all_groups.up_ns, periods.iter().sum(), confidence);
                let groups = scenario
                    .groups
                    .iter()
                    .zip(per_group)
                    .zip(&outcome.groups)
                    .zip(periods)
                    .map(|(((g, acc), ga), &p)| {
                        let f = detector_figures(acc, ga.up_ns, p, confidence);
                        let analytic = match &d.kind {
                            DetectorKind::FixedTimeout(ft) => analytic::analyse(
                                scenario,
                                g,
                                ft,
                                &Observed {
                                    latency_min: f.latency.stats.min_ns,
                                    latency_max: f.latency.stats.max_ns,
                                    latency_mean_ci: f.latency.stats.mean_ci_ns,
                                    latency_count: f.latency.count,
                                    spurious_per_client_hour_ci: f
                                        .false_positives
                                        .spurious_per_client_hour_ci,
                                    mistake_mean_ci: f.mistakes.stats.mean_ci_ns,
                                    mistake_count: f.mistakes.count,
                                },
                            ),
                            DetectorKind::PhiAccrual(_) => Analytic::none(
                                "phi accrual adapts its threshold to the observed heartbeats",
                            ),
                            DetectorKind::Ping(_) | DetectorKind::TcpKeepalive(_) => {
                                Analytic::none(
                                    "the closed forms are for the passive fixed-timeout scanner",
                                )
                            }
                        };
                        (
                            g.name.clone(),
                            GroupDetectorReport {
                                detection_latency: f.latency,
                                false_positives: f.false_positives,
                                mistake_duration: f.mistakes,
                                query_accuracy: f.accuracy,
                                query_accuracy_ci: f.accuracy_ci,
                                qos: f.qos,
                                analytic,
                            },
                        )
                    })
                    .collect();
                (
                    d.name.clone(),
                    DetectorReport {
                        kind: d.kind.name().to_string(),
                        detection_latency: overall.latency,
                        false_positives: overall.false_positives,
                        mistake_duration: overall.mistakes,
                        query_accuracy: overall.accuracy,
                        query_accuracy_ci: overall.accuracy_ci,
                        qos: overall.qos,
                        groups: Ordered(groups),
                    },
                )
            })
            .collect();
        let duration_ns = scenario.duration.as_nanos();
        let client_ns = |clients: u64| {
            clients
                .saturating_mul(duration_ns)
                .saturating_mul(replications)
        };
        let traffic = Traffic {
            heartbeats_sent: all_groups.heartbeats_sent,
            delivered: all_groups.delivered,
            lost: all_groups.lost,
            duplicated: all_groups.duplicated,
            in_flight: all_groups.heartbeats_sent - all_groups.delivered - all_groups.lost,
            retransmissions: all_groups.retransmissions,
            segments_dropped: all_groups.segments_dropped,
            connection_breaks: all_groups.connection_breaks,
            probes_sent: all_groups.probes_sent,
            probe_replies: all_groups.probe_replies,
            bytes_up: all_groups.bytes_up,
            bytes_down: all_groups.bytes_down,
            heartbeats_per_client_hour: per_hour(
                all_groups.heartbeats_sent,
                client_ns(all_groups.clients),
            ),
            bytes_per_client_hour: per_hour(
                all_groups.bytes_up + all_groups.bytes_down,
                client_ns(all_groups.clients),
            ),
            groups: Ordered(
                scenario
                    .groups
                    .iter()
                    .zip(&outcome.groups)
                    .map(|(g, a)| {
                        (
                            g.name.clone(),
                            GroupTraffic {
                                clients: a.clients,
                                up_ns: a.up_ns,
                                crashes: a.crashes,
                                heartbeats_sent: a.heartbeats_sent,
                                delivered: a.delivered,
                                lost: a.lost,
                                duplicated: a.duplicated,
                                in_flight: a.heartbeats_sent - a.delivered - a.lost,
                                retransmissions: a.retransmissions,
                                segments_dropped: a.segments_dropped,
                                connection_breaks: a.connection_breaks,
                                probes_sent: a.probes_sent,
                                probe_replies: a.probe_replies,
                                bytes_up: a.bytes_up,
                                bytes_down: a.bytes_down,
                                heartbeats_per_client_hour: per_hour(
                                    a.heartbeats_sent,
                                    client_ns(a.clients),
                                ),
                                bytes_per_client_hour: per_hour(
                                    a.bytes_up + a.bytes_down,
                                    client_ns(a.clients),
                                ),
                            },
                        )
                    })
                    .collect(),
            ),
        };
        let mut report = Report {
            hbsim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: ScenarioInfo {
                name: scenario.name.clone(),
                description: scenario.description.clone(),
                sha256: sha256_hex(scenario_bytes),
            },
            seed,
            replications,
            confidence,
            duration_ns,
            clients: all_groups.clients,
            crashes: all_groups.crashes,
            detectors: Ordered(detectors),
            traffic,
        };
        report.replication_intervals(outcomes, confidence);
        report
    }

    /// With several replications, the interval of the mean detection latency comes from
    /// the spread of the replication means (a t interval over replications).
    fn replication_intervals(&mut self, outcomes: &[Outcome], confidence: f64) {
        if outcomes.len() < 2 {
            return;
        }
        let means = |pick: &dyn Fn(&Outcome) -> Vec<u64>| -> Vec<u64> {
            outcomes
                .iter()
                .map(pick)
                .filter(|v| !v.is_empty())
                .map(|v| {
                    let n = v.len() as u128;
                    ((2 * v.iter().map(|&x| x as u128).sum::<u128>() + n) / (2 * n)) as u64
                })
                .collect()
        };
        for (di, (_, d)) in self.detectors.0.iter_mut().enumerate() {
            let overall = means(&|o: &Outcome| {
                o.detectors[di]
                    .iter()
                    .flat_map(|g| g.latencies.iter().copied())
                    .collect()
            });
            d.detection_latency.stats.mean_ci_ns = ci::mean_interval(&overall, confidence)
                .map(|i| [libm::round(i[0]) as u64, libm::round(i[1]) as u64]);
            for (gi, (_, g)) in d.groups.0.iter_mut().enumerate() {
                let per = means(&|o: &Outcome| o.detectors[di][gi].latencies.clone());
                g.detection_latency.stats.mean_ci_ns = ci::mean_interval(&per, confidence)
                    .map(|i| [libm::round(i[0]) as u64, libm::round(i[1]) as u64]);
            }
        }
    }

    /// The report as pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a report always serialises");
        s.push('\n');
        s
    }

    /// The report for people, in Markdown.
    pub fn to_markdown(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "# hbsim report: {}\n", self.scenario.name);
        if !self.scenario.description.is_empty() {
            let _ = writeln!(o, "> {}\n", self.scenario.description);
        }
        let groups: Vec<String> = self
            .traffic
            .groups
            .0
            .iter()
            .map(|(n, g)| format!("{n}: {}", g.clients))
            .collect();
        let _ = writeln!(o, "| run | |\n|---|---|");
        let _ = writeln!(o, "| seed | {} |", self.seed);
        let _ = writeln!(o, "| duration | {} |", format_duration(self.duration_ns));
        let _ = writeln!(o, "| clients | {} ({}) |", self.clients, groups.join(", "));
        let _ = writeln!(o, "| crashes injected | {} |", self.crashes);
        let _ = writeln!(o, "| scenario sha256 | `{}` |", self.scenario.sha256);
        let _ = writeln!(o, "| replications | {} |", self.replications);
        let _ = writeln!(o, "| intervals | {}% |", self.confidence * 100.0);
        let _ = writeln!(o, "| hbsim | {} |\n", self.hbsim_version);
        let name = &self.scenario.name;
        let _ = writeln!(o, "![detection latency distribution]({name}-latency.svg)\n");
        let _ = writeln!(o, "![verdicts against ground truth]({name}-timeline.svg)\n");
        if self.traffic.groups.0.len() > 1 {
            let _ = writeln!(
                o,
                "![spurious false positives by group]({name}-groups.svg)\n"
            );
        }
        let _ = writeln!(o, "## At a glance\n");
        let _ = writeln!(
            o,
            "| detector | kind | detection latency p99 [CI] | missed | spurious / client-day [CI] | mistake mean | query accuracy |"
        );
        let _ = writeln!(o, "|---|---|--:|--:|--:|--:|--:|");
        for (name, d) in &self.detectors.0 {
            let st = &d.detection_latency.stats;
            let fp = &d.false_positives;
            let _ = writeln!(
                o,
                "| `{name}` | {} | {} | {} | {} | {} | {} |",
                d.kind,
                dur_ci(st.p99_ns, st.p99_ci_ns),
                d.detection_latency.missed,
                rate_ci(fp.spurious_per_client_day, fp.spurious_per_client_day_ci),
                opt_dur(d.mistake_duration.stats.mean_ns),
                opt_percent(d.query_accuracy)
            );
        }
        let _ = writeln!(
            o,
            "\nCost: {} bytes and {} heartbeats per client-hour ({} probes sent by active detectors).\n",
            opt_rate(self.traffic.bytes_per_client_hour),
            opt_rate(self.traffic.heartbeats_per_client_hour),
            self.traffic.probes_sent
        );
        for (name, d) in &self.detectors.0 {
            let _ = writeln!(o, "## Detector `{name}` ({})\n", d.kind);
            let _ = writeln!(o, "### Detection latency\n");
            let _ = writeln!(
                o,
                "| clients | detected | missed | already offline | min | mean [CI] | p50 | p90 | p99 [CI] | p99.9 | max |"
            );
            let _ = writeln!(o, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
            let rows = std::iter::once(("all", &d.detection_latency)).chain(
                d.groups
                    .0
                    .iter()
                    .map(|(g, r)| (g.as_str(), &r.detection_latency)),
            );
            for (label, l) in rows {
                let st = &l.stats;
                let _ = writeln!(
                    o,
                    "| {label} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    l.count,
                    l.missed,
                    l.already_offline,
                    opt_dur(st.min_ns),
                    dur_ci(st.mean_ns, st.mean_ci_ns),
                    opt_dur(st.p50_ns),
                    opt_dur(st.p90_ns),
                    dur_ci(st.p99_ns, st.p99_ci_ns),
                    opt_dur(st.p999_ns),
                    opt_dur(st.max_ns)
                );
            }
            let _ = writeln!(o, "\n### False positives and mistakes\n");
            let _ = writeln!(
                o,
                "| clients | false positives | spurious | during fault | spurious / client-hour | spurious / client-day | mistakes ended | censored | mistake mean | mistake p99 | query accuracy |"
            );
            let _ = writeln!(o, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
            let rows = std::iter::once((
                "all",
                &d.false_positives,
                &d.mistake_duration,
                d.query_accuracy,
            ))
            .chain(d.groups.0.iter().map(|(g, r)| {
                (
                    g.as_str(),
                    &r.false_positives,
                    &r.mistake_duration,
                    r.query_accuracy,
                )
            }));
            for (label, fp, md, pa) in rows {
                let _ = writeln!(
                    o,
                    "| {label} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    fp.total,
                    fp.spurious,
                    fp.during_fault,
                    rate_ci(fp.spurious_per_client_hour, fp.spurious_per_client_hour_ci),
                    rate_ci(fp.spurious_per_client_day, fp.spurious_per_client_day_ci),
                    md.count,
                    md.censored,
                    opt_dur(md.stats.mean_ns),
                    opt_dur(md.stats.p99_ns),
                    opt_percent(pa),
                );
            }
            let _ = writeln!(o, "\n### Quality of service (Chen, Toueg and Aguilera)\n");
            let _ = writeln!(
                o,
                "| clients | mistake rate / client-hour [CI] | mistake recurrence T_MR mean | good period T_G mean | first mistake after (mean) | never mistaken | query accuracy P_A [CI] |"
            );
            let _ = writeln!(o, "|---|--:|--:|--:|--:|--:|--:|");
            let qrows = std::iter::once(("all", &d.qos, d.query_accuracy, d.query_accuracy_ci))
                .chain(
                    d.groups
                        .0
                        .iter()
                        .map(|(g, r)| (g.as_str(), &r.qos, r.query_accuracy, r.query_accuracy_ci)),
                );
            for (label, q, pa, pa_ci) in qrows {
                let accuracy = percent_ci(pa, pa_ci);
                let _ = writeln!(
                    o,
                    "| {label} | {} | {} | {} | {} | {} | {accuracy} |",
                    rate_ci(
                        q.mistake_rate_per_client_hour,
                        q.mistake_rate_per_client_hour_ci
                    ),
                    opt_dur(q.mistake_recurrence.stats.mean_ns),
                    opt_dur(q.good_period.stats.mean_ns),
                    opt_dur(q.first_false_positive.stats.mean_ns),
                    q.first_false_positive.censored
                );
            }
            let _ = writeln!(o, "\n### Analytic expectations\n");
            let _ = writeln!(o, "| clients | figure | theory | observed | verdict |");
            let _ = writeln!(o, "|---|---|--:|--:|---|");
            for (g, r) in &d.groups.0 {
                let a = &r.analytic;
                let b = &a.detection_latency;
                let latency_range = format!(
                    "{} … {}",
                    opt_dur(r.detection_latency.stats.min_ns),
                    opt_dur(r.detection_latency.stats.max_ns)
                );
                let theory = if b.applies {
                    format!(
                        "{} … {}",
                        b.min_ns.map_or("0".to_string(), format_duration),
                        opt_dur(b.max_ns)
                    )
                } else {
                    format!("n/a: {}", b.reason.as_deref().unwrap_or(""))
                };
                let _ = writeln!(
                    o,
                    "| {g} | detection latency range (hard bound) | {theory} | {latency_range} | {} |",
                    b.verdict.as_deref().unwrap_or("–")
                );
                let st = &r.detection_latency.stats;
                let expectations = [
                    (
                        "mean detection latency",
                        &a.detection_latency_mean_ns,
                        a.detection_latency_mean_ns
                            .expected
                            .map(|v| format_duration(v as u64)),
                        dur_ci(st.mean_ns, st.mean_ci_ns),
                    ),
                    (
                        "spurious false positives / client-hour",
                        &a.spurious_per_client_hour,
                        a.spurious_per_client_hour
                            .expected
                            .map(|v| opt_rate(Some(v))),
                        rate_ci(
                            r.false_positives.spurious_per_client_hour,
                            r.false_positives.spurious_per_client_hour_ci,
                        ),
                    ),
                    (
                        "mean mistake duration",
                        &a.mistake_duration_mean_ns,
                        a.mistake_duration_mean_ns
                            .expected
                            .map(|v| format_duration(v as u64)),
                        dur_ci(
                            r.mistake_duration.stats.mean_ns,
                            r.mistake_duration.stats.mean_ci_ns,
                        ),
                    ),
                ];
                for (figure, e, theory, observed) in expectations {
                    let theory = match theory {
                        Some(t) => t,
                        None => format!("n/a: {}", e.reason.as_deref().unwrap_or("")),
                    };
                    let _ = writeln!(
                        o,
                        "| {g} | {figure} | {theory} | {observed} | {} |",
                        e.verdict.as_deref().unwrap_or("–")
                    );
                }
            }
            o.push('\n');
        }
        let _ = writeln!(o, "## Traffic\n");
        let _ = writeln!(
            o,
            "| clients | heartbeats sent | delivered | lost | duplicated | in flight at end | retransmissions | connection breaks | bytes up | bytes down | heartbeats / client-hour |"
        );
        let _ = writeln!(o, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        let t = &self.traffic;
        let rows = std::iter::once((
            "all",
            [
                t.heartbeats_sent,
                t.delivered,
                t.lost,
                t.duplicated,
                t.in_flight,
                t.retransmissions,
                t.connection_breaks,
                t.bytes_up,
                t.bytes_down,
            ],
            t.heartbeats_per_client_hour,
        ))
        .chain(t.groups.0.iter().map(|(g, gt)| {
            (
                g.as_str(),
                [
                    gt.heartbeats_sent,
                    gt.delivered,
                    gt.lost,
                    gt.duplicated,
                    gt.in_flight,
                    gt.retransmissions,
                    gt.connection_breaks,
                    gt.bytes_up,
                    gt.bytes_down,
                ],
                gt.heartbeats_per_client_hour,
            )
        }));
        for (label, counts, rate) in rows {
            let cells: Vec<String> = counts.iter().map(u64::to_string).collect();
            let _ = writeln!(
                o,
                "| {label} | {} | {} |",
                cells.join(" | "),
                opt_rate(rate)
            );
        }
        o
    }

    /// The aligned summary printed by `hbsim run`.
    pub fn to_text(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "{}: {} clients, {}, seed {}, {} crashes injected",
            self.scenario.name,
            self.clients,
            format_duration(self.duration_ns),
            self.seed,
            self.crashes
        );
        let level = format!("{}%", self.confidence * 100.0);
        if self.replications > 1 {
            let _ = writeln!(o, "  {} replications merged", self.replications);
        }
        for (name, d) in &self.detectors.0 {
            let l = &d.detection_latency;
            let fp = &d.false_positives;
            let md = &d.mistake_duration;
            let q = &d.qos;
            let rows: Vec<(&str, String)> = vec![
                (
                    "detection latency",
                    format!(
                        "mean {}   p99 {}   range {} … {}   ({} detected, {} missed, {} already offline)",
                        dur_ci(l.stats.mean_ns, l.stats.mean_ci_ns),
                        dur_ci(l.stats.p99_ns, l.stats.p99_ci_ns),
                        opt_dur(l.stats.min_ns),
                        opt_dur(l.stats.max_ns),
                        l.count,
                        l.missed,
                        l.already_offline
                    ),
                ),
                (
                    "false positives",
                    format!(
                        "{} per client-day   ({} total: {} spurious, {} during faults)",
                        rate_ci(fp.spurious_per_client_day, fp.spurious_per_client_day_ci),
                        fp.total,
                        fp.spurious,
                        fp.during_fault
                    ),
                ),
                (
                    "mistakes",
                    format!(
                        "duration mean {}   recurrence mean {}   first after {}   ({} ended, {} censored)",
                        dur_ci(md.stats.mean_ns, md.stats.mean_ci_ns),
                        opt_dur(q.mistake_recurrence.stats.mean_ns),
                        opt_dur(q.first_false_positive.stats.mean_ns),
                        md.count,
                        md.censored
                    ),
                ),
                (
                    "query accuracy",
                    percent_ci(d.query_accuracy, d.query_accuracy_ci),
                ),
            ];
            let _ = writeln!(o, "\n  detector {name} ({}), intervals at {level}", d.kind);
            for (k, v) in rows {
                let _ = writeln!(o, "    {k:<18} {v}");
            }
        }
        let t = &self.traffic;
        let _ = writeln!(
            o,
            "\n  traffic\n    {:<18} sent {}  delivered {}  lost {}  in flight {}  bytes up {}  ({} heartbeats per client-hour)",
            "heartbeats",
            t.heartbeats_sent,
            t.delivered,
            t.lost,
            t.in_flight,
            t.bytes_up,
            opt_rate(t.heartbeats_per_client_hour)
        );
        if t.duplicated + t.retransmissions + t.connection_breaks + t.bytes_down > 0 {
            let _ = writeln!(
                o,
                "    {:<18} duplicated {}  retransmissions {}  connection breaks {}  bytes down {}",
                "", t.duplicated, t.retransmissions, t.connection_breaks, t.bytes_down
            );
        }
        o
    }
}

/// `value [lo … hi]` with each number written by `show`, or just the value without an
/// interval.
pub(crate) fn with_ci<T: Copy>(
    v: Option<T>,
    ci: Option<[T; 2]>,
    show: impl Fn(Option<T>) -> String,
) -> String {
    match (v, ci) {
        (Some(v), Some([lo, hi])) => {
            format!(
                "{} [{} … {}]",
                show(Some(v)),
                show(Some(lo)),
                show(Some(hi))
            )
        }
        (v, _) => show(v),
    }
}

/// `3.100 s [3.014 s … 3.186 s]`, or just the value without an interval.
fn dur_ci(v: Option<u64>, ci: Option<[u64; 2]>) -> String {
    with_ci(v, ci, opt_dur)
}

/// A rate with its interval.
fn rate_ci(v: Option<f64>, ci: Option<[f64; 2]>) -> String {
    with_ci(v, ci, opt_rate)
}

/// A fraction in percent with its interval.
fn percent_ci(v: Option<f64>, ci: Option<[f64; 2]>) -> String {
    with_ci(v, ci, opt_percent)
}

fn opt_dur(ns: Option<u64>) -> String {
    ns.map(format_duration).unwrap_or_else(|| "–".to_string())
}

fn opt_rate(x: Option<f64>) -> String {
    match x {
        None => "–".to_string(),
        Some(0.0) => "0".to_string(),
        Some(v) if v >= 100.0 => format!("{v:.1}"),
        Some(v) if v >= 0.01 => format!("{v:.4}"),
        Some(v) => format!("{v:.3e}"),
    }
}

fn opt_percent(x: Option<f64>) -> String {
    x.map(|v| format!("{:.4} %", v * 100.0))
        .unwrap_or_else(|| "–".to_string())
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
    fn human_numbers() {
        assert_eq!(opt_rate(Some(0.0)), "0");
        assert_eq!(opt_rate(Some(3.24)), "3.2400");
        assert_eq!(opt_rate(Some(0.00081)), "8.100e-4");
        assert_eq!(opt_rate(None), "–");
        assert_eq!(opt_percent(Some(0.999)), "99.9000 %");
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
