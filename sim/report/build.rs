//! Building a report from the outcomes of a run: merging replications, the figures of
//! each (detector, group), intervals, the analytic section, traffic.

use super::*;

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
            .zip(&scenario.detectors)
            .map(|(per_group, d)| {
                per_group
                    .iter()
                    .zip(&scenario.groups)
                    .map(|(acc, g)| {
                        // Verdicts a period apart: the heartbeat's, or a swim cluster's.
                        let period = d
                            .kind
                            .as_swim()
                            .map_or(g.heartbeat.interval.as_nanos(), |k| k.protocol.interval);
                        acc.up_known_ns as f64 / period as f64
                    })
                    .collect()
            })
            .collect();
        let mut all_groups = GroupAcc::default();
        for g in &outcome.groups {
            all_groups.merge(g);
        }
        let duration_ns = scenario.duration.as_nanos();
        let client_ns = |clients: u64| {
            clients
                .saturating_mul(duration_ns)
                .saturating_mul(replications)
        };
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
                        let seen = Observed {
                            latency_min: f.latency.stats.min_ns,
                            latency_max: f.latency.stats.max_ns,
                            latency_mean_ci: f.latency.stats.mean_ci_ns,
                            latency_count: f.latency.count,
                            spurious_per_client_hour_ci: f
                                .false_positives
                                .spurious_per_client_hour_ci,
                            mistake_mean_ci: f.mistakes.stats.mean_ci_ns,
                            mistake_count: f.mistakes.count,
                        };
                        let analytic = match (&d.kind, d.kind.no_closed_forms()) {
                            (DetectorKind::FixedTimeout(ft), None) => {
                                analytic::analyse(scenario, g, ft, &seen)
                            }
                            (
                                DetectorKind::NfdS(_)
                                | DetectorKind::NfdE(_)
                                | DetectorKind::Bertier(_),
                                None,
                            ) => analytic::analyse_freshness(scenario, g, &d.kind, &seen),
                            (_, reason) => Analytic::none(
                                reason.unwrap_or("no closed forms for this detector kind"),
                            ),
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
                        settings: settings(&d.kind),
                        detection_latency: overall.latency,
                        false_positives: overall.false_positives,
                        mistake_duration: overall.mistakes,
                        query_accuracy: overall.accuracy,
                        query_accuracy_ci: overall.accuracy_ci,
                        qos: overall.qos,
                        cost: Cost {
                            probes_sent: all.probes_sent,
                            probe_bytes: all.probe_bytes,
                            probe_bytes_per_client_hour: per_hour(
                                all.probe_bytes,
                                client_ns(all_groups.clients),
                            ),
                        },
                        swim: d.kind.as_swim().map(|k| {
                            swim_report(
                                &all,
                                k.member_count() as u64,
                                client_ns(k.member_count() as u64),
                                confidence,
                            )
                        }),
                        groups: Ordered(groups),
                    },
                )
            })
            .collect();
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
            format_version: super::FORMAT_VERSION,
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
            server_crashes: scenario
                .faults
                .iter()
                .filter(|f| f.action == crate::scenario::FaultAction::ServerCrash)
                .count() as u64
                * replications,
            detectors: Ordered(detectors),
            traffic,
            targets: Vec::new(),
            swept: swept_parameters(scenario_bytes),
        };
        report.replication_intervals(outcomes, confidence);
        report.judge_targets(scenario);
        report
    }

    /// Judges the scenario's `expect` targets that ask for no confidence or for the
    /// report's own, as `hbsim check` does.
    fn judge_targets(&mut self, scenario: &Scenario) {
        let wanted: Vec<&crate::scenario::expect::Expectation> = scenario
            .expect
            .iter()
            .filter(|e| e.confidence.is_none_or(|c| c == self.confidence))
            .collect();
        if wanted.is_empty() {
            return;
        }
        let json = serde_json::to_value(&*self).expect("a report always serialises");
        self.targets = wanted
            .into_iter()
            .map(|e| Target {
                detector: e.path.detector.clone(),
                text: e.describe(),
                pass: crate::scenario::expect::evaluate(e, &json).pass,
            })
            .collect();
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
}

/// A `swim` detector's own figures from its counts; `member_ns` is members × run time.
fn swim_report(all: &DetectorAcc, members: u64, member_ns: u64, c: f64) -> SwimReport {
    let w = &all.swim;
    let mut knows = w.everyone_knows.clone();
    const KINDS: [&str; 6] = ["ping", "ack", "ping_req", "nack", "gossip", "push_pull"];
    let mut traffic: Vec<(String, SwimTraffic)> = KINDS
        .iter()
        .enumerate()
        .map(|(k, name)| {
            (
                name.to_string(),
                SwimTraffic {
                    packets: w.packets[k],
                    bytes: w.bytes[k],
                    packets_per_member_hour: per_hour(w.packets[k], member_ns),
                    bytes_per_member_hour: per_hour(w.bytes[k], member_ns),
                },
            )
        })
        .collect();
    let (packets, bytes) = (w.packets.iter().sum(), w.bytes.iter().sum());
    traffic.push((
        "total".to_string(),
        SwimTraffic {
            packets,
            bytes,
            packets_per_member_hour: per_hour(packets, member_ns),
            bytes_per_member_hour: per_hour(bytes, member_ns),
        },
    ));
    SwimReport {
        members,
        everyone_knows: Sample {
            count: knows.len() as u64,
            stats: Stats::of(&mut knows, c),
        },
        suspicions: w.suspicions,
        false_suspicions: w.false_suspicions,
        refutations: w.refutations,
        updates_sent: w.updates_sent,
        traffic: Ordered(traffic),
    }
}

/// A detector's deciding settings in a few words, for the verdict table.
pub fn settings(kind: &DetectorKind) -> String {
    use crate::base::time::format_duration_spec as d;
    use crate::model::client::Schedule;
    let scan = |s: crate::base::time::SimDuration| {
        if s.is_zero() {
            "continuous".to_string()
        } else {
            format!("scan {}", d(s.as_nanos()))
        }
    };
    match kind {
        DetectorKind::FixedTimeout(f) => {
            let mut t = format!(
                "{}, threshold {}",
                scan(f.scan_interval),
                d(f.threshold.as_nanos())
            );
            if f.scan_schedule == Schedule::FixedDelay {
                t.push_str(", Sleep loop");
            }
            if f.elapsed == crate::model::detector::fixed_timeout::Elapsed::SecondsComponent {
                t.push_str(", seconds component");
            }
            t
        }
        DetectorKind::PhiAccrual(p) => format!(
            "φ {}, {}, pause {}",
            p.threshold,
            scan(p.scan_interval),
            d(p.acceptable_heartbeat_pause.as_nanos())
        ),
        DetectorKind::Ping(p) => format!(
            "{}every {}, timeout {}, {} miss{}",
            if p.client_to_server {
                "client pings, "
            } else {
                ""
            },
            d(p.interval.as_nanos()),
            d(p.timeout.as_nanos()),
            p.misses,
            if p.misses == 1 { "" } else { "es" }
        ),
        DetectorKind::TcpKeepalive(k) => {
            let mut t = format!(
                "idle {}, interval {}, {} probes",
                d(k.idle.as_nanos()),
                d(k.interval.as_nanos()),
                k.probes
            );
            if let Some(u) = k.user_timeout {
                t.push_str(&format!(", user timeout {}", d(u.as_nanos())));
            }
            if let Some(hz) = k.timer_hz {
                t.push_str(&format!(", HZ {hz}"));
            }
            t
        }
        DetectorKind::NfdS(n) => format!("shift {}", d(n.shift.as_nanos())),
        DetectorKind::NfdE(n) => format!("margin {}, window {}", d(n.margin.as_nanos()), n.window),
        DetectorKind::Bertier(b) => format!(
            "window {}, β {}, φ {}, γ {}",
            b.window, b.beta, b.phi, b.gamma
        ),
        DetectorKind::Swim(w) => {
            let p = &w.protocol;
            let mut t = format!(
                "period {}, timeout {}, suspicion ×{}",
                d(p.interval),
                d(p.timeout),
                p.suspicion_mult
            );
            t.push_str(if p.lifeguard {
                ", Lifeguard"
            } else {
                ", no Lifeguard"
            });
            if p.lifeguard && p.confirmations == crate::model::swim::Confirmations::Indirect {
                t.push_str(" (k = indirect)");
            }
            t
        }
    }
}

/// The parameter paths of the scenario's `sweep.vary` block, in the file's order (none
/// without one).
fn swept_parameters(scenario_bytes: &[u8]) -> Vec<String> {
    serde_json::from_slice::<serde_json::Value>(scenario_bytes)
        .ok()
        .and_then(|v| {
            v.get("sweep")?
                .get("vary")?
                .as_object()
                .map(|m| m.keys().cloned().collect())
        })
        .unwrap_or_default()
}
