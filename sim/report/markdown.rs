//! The report for people, in Markdown: the answer first, then one section per detector.

use super::format::*;
use super::*;

impl Report {
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
        if self.server_crashes > 0 {
            let _ = writeln!(o, "| server crashes injected | {} |", self.server_crashes);
        }
        let _ = writeln!(o, "| scenario sha256 | `{}` |", self.scenario.sha256);
        let _ = writeln!(o, "| replications | {} |", self.replications);
        let _ = writeln!(o, "| intervals | {}% |", self.confidence * 100.0);
        let _ = writeln!(o, "| hbsim | {} |\n", self.hbsim_version);
        let _ = writeln!(o, "## At a glance\n");
        if let Some(v) = self.verdict() {
            let _ = writeln!(o, "{v}\n");
        }
        let _ = writeln!(
            o,
            "| detector | kind | settings | detection latency p50 | p99 [CI] | missed | spurious / client-day [CI] | mistake mean | query accuracy |"
        );
        let _ = writeln!(o, "|---|---|---|--:|--:|--:|--:|--:|--:|");
        let best = self.best();
        let mark = |s: String, is_best: bool| if is_best { format!("**{s}**") } else { s };
        for (i, (name, d)) in self.detectors.0.iter().enumerate() {
            let st = &d.detection_latency.stats;
            let fp = &d.false_positives;
            let _ = writeln!(
                o,
                "| `{name}` | {} | {} | {} | {} | {} | {} | {} | {} |",
                d.kind,
                d.settings,
                opt_dur(st.p50_ns),
                mark(dur_ci(st.p99_ns, st.p99_ci_ns), best.p99 == Some(i)),
                d.detection_latency.missed,
                mark(
                    rate_ci(fp.spurious_per_client_day, fp.spurious_per_client_day_ci),
                    best.fp == Some(i)
                ),
                mark(
                    opt_dur(d.mistake_duration.stats.mean_ns),
                    best.mistake == Some(i)
                ),
                mark(opt_percent(d.query_accuracy), best.accuracy == Some(i))
            );
        }
        if self.detectors.0.len() > 1 {
            let _ = writeln!(o, "\nBold: the best of each column.");
        }
        let _ = writeln!(
            o,
            "\nCost: {} bytes and {} heartbeats per client-hour ({} probes sent by active detectors).\n",
            opt_rate(self.traffic.bytes_per_client_hour),
            opt_rate(self.traffic.heartbeats_per_client_hour),
            self.traffic.probes_sent
        );
        let name = &self.scenario.name;
        let _ = writeln!(o, "![detection latency distribution]({name}-latency.svg)\n");
        let _ = writeln!(o, "![verdicts against ground truth]({name}-timeline.svg)\n");
        if self.traffic.groups.0.len() > 1 {
            let _ = writeln!(
                o,
                "![spurious false positives by group]({name}-groups.svg)\n"
            );
        }
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
}
