//! The aligned summary `hbsim run` prints.

use super::format::*;
use super::*;

impl Report {
    /// The aligned summary printed by `hbsim run`.
    pub fn to_text(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "{}: {}, {}, seed {}, {} injected",
            self.scenario.name,
            counted(self.clients, "client", "clients"),
            human::duration(self.duration_ns),
            self.seed,
            if self.server_crashes > 0 {
                format!(
                    "{} and {}",
                    counted(self.crashes, "client crash", "client crashes"),
                    counted(self.server_crashes, "server crash", "server crashes")
                )
            } else {
                counted(self.crashes, "crash", "crashes")
            }
        );
        if let Some(v) = self.verdict() {
            let _ = writeln!(o, "  {}", v.replace('`', ""));
        }
        let level = format!("{}%", self.confidence * 100.0);
        if self.replications > 1 {
            let _ = writeln!(o, "  {} replications merged", self.replications);
        }
        for (name, d) in &self.detectors.0 {
            let l = &d.detection_latency;
            let fp = &d.false_positives;
            let md = &d.mistake_duration;
            let q = &d.qos;
            let st = &l.stats;
            let lat = Durs::fit(
                &[st.mean_ns, st.p99_ns, st.min_ns, st.max_ns],
                &[st.mean_ci_ns, st.p99_ci_ns],
            );
            let mut rows: Vec<(&str, String)> = vec![
                (
                    "detection latency",
                    format!(
                        "mean {}   p99 {}   range {} … {}   ({} detected, {} missed, {} already offline)",
                        lat.ci(st.mean_ns, st.mean_ci_ns),
                        lat.ci(st.p99_ns, st.p99_ci_ns),
                        lat.one(st.min_ns),
                        lat.one(st.max_ns),
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
            if d.cost.probes_sent > 0 {
                rows.push((
                    "probes",
                    format!(
                        "{} sent, {} per client-hour with their answers",
                        d.cost.probes_sent,
                        opt_bytes(d.cost.probe_bytes_per_client_hour)
                    ),
                ));
            }
            if let Some(w) = &d.swim {
                rows.push((
                    "membership",
                    format!(
                        "{} members; everyone knows after {} (mean); {} suspicions ({} of live members), {} refuted",
                        w.members,
                        opt_dur(w.everyone_knows.stats.mean_ns),
                        w.suspicions,
                        w.false_suspicions,
                        w.refutations
                    ),
                ));
            }
            let _ = writeln!(o, "\n  detector {name} ({}), intervals at {level}", d.kind);
            for (k, v) in rows {
                let _ = writeln!(o, "    {k:<18} {v}");
            }
        }
        let t = &self.traffic;
        let _ = writeln!(
            o,
            "\n  traffic\n    {:<18} sent {}  delivered {}  lost {}  in flight {}  up {}  ({} heartbeats per client-hour)",
            "heartbeats",
            t.heartbeats_sent,
            t.delivered,
            t.lost,
            t.in_flight,
            human::bytes(t.bytes_up as f64),
            opt_rate(t.heartbeats_per_client_hour)
        );
        if t.duplicated + t.retransmissions + t.connection_breaks + t.bytes_down > 0 {
            let _ = writeln!(
                o,
                "    {:<18} duplicated {}  retransmissions {}  connection breaks {}  down {}",
                "",
                t.duplicated,
                t.retransmissions,
                t.connection_breaks,
                human::bytes(t.bytes_down as f64)
            );
        }
        o
    }
}
