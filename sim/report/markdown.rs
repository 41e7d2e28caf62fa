//! The report for people, in Markdown: the answer first, then one section per detector.
//!
//! Every number is written by `format` (three significant figures, one unit per row);
//! a table shows an interval header only over intervals and says why one is missing;
//! a single-group scenario gets one row per table, not an "all" row repeating it; a
//! table whose every figure is "n/a" becomes a sentence.

use super::format::*;
use super::*;
use crate::oracle::metrics::P99;

/// A Markdown table under construction. A header containing `{ci}` reads ` [CI]` when
/// some cell of its column shows an interval, and nothing otherwise.
struct Table {
    head: Vec<String>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// Columns as `(header, right-aligned)`.
    fn new(cols: &[(&str, bool)]) -> Self {
        Table {
            head: cols.iter().map(|c| c.0.to_string()).collect(),
            right: cols.iter().map(|c| c.1).collect(),
            rows: Vec::new(),
        }
    }

    fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.head.len());
        self.rows.push(cells);
    }

    /// Whether column `c` shows an interval in some row.
    fn has_ci(&self, c: usize) -> bool {
        self.rows.iter().any(|r| r[c].contains(" ["))
    }

    /// Drops the columns (by header, before `{ci}` expansion) whose every cell is "0";
    /// returns the headers dropped.
    fn drop_zero_columns(&mut self, candidates: &[&str]) -> Vec<String> {
        let mut dropped = Vec::new();
        let mut c = 0;
        while c < self.head.len() {
            let zero = candidates.contains(&self.head[c].as_str())
                && !self.rows.is_empty()
                && self.rows.iter().all(|r| r[c] == "0" || r[c] == "0 B");
            if zero {
                dropped.push(self.head.remove(c));
                self.right.remove(c);
                for r in &mut self.rows {
                    r.remove(c);
                }
            } else {
                c += 1;
            }
        }
        dropped
    }

    fn render(&self, o: &mut String) {
        let head: Vec<String> = self
            .head
            .iter()
            .enumerate()
            .map(|(c, h)| h.replace("{ci}", if self.has_ci(c) { " [CI]" } else { "" }))
            .collect();
        let _ = writeln!(o, "| {} |", head.join(" | "));
        let rule: Vec<&str> = self
            .right
            .iter()
            .map(|&r| if r { "--:" } else { "---" })
            .collect();
        let _ = writeln!(o, "|{}|", rule.join("|"));
        for r in &self.rows {
            let _ = writeln!(o, "| {} |", r.join(" | "));
        }
    }
}

/// Figures as rows: with one group, one row named after it (the overall figures are
/// that group's); with several, "all" and then each group.
fn rows_of<'a, G, T>(
    overall: T,
    groups: &'a [(String, G)],
    pick: impl Fn(&'a G) -> T,
) -> Vec<(&'a str, T)> {
    if groups.len() == 1 {
        vec![(groups[0].0.as_str(), overall)]
    } else {
        std::iter::once(("all", overall))
            .chain(groups.iter().map(|(g, r)| (g.as_str(), pick(r))))
            .collect()
    }
}

impl Report {
    /// The pictures a run's report shows, as `(file, caption)`, in order: the latency
    /// distribution when some crash was detected, the per-detector trade-off with two or
    /// more detectors that detected something, the timeline, and the group bars when
    /// several groups have false positives.
    pub fn pictures_planned(&self) -> Vec<(String, &'static str)> {
        let name = &self.scenario.name;
        let d = &self.detectors.0;
        let mut out = Vec::new();
        if d.iter().any(|(_, r)| r.detection_latency.count > 0) {
            out.push((
                format!("{name}-latency.svg"),
                "detection latency distribution",
            ));
        }
        let placed = d
            .iter()
            .filter(|(_, r)| {
                r.detection_latency.stats.p99_ns.is_some()
                    && r.false_positives.spurious_per_client_day.is_some()
            })
            .count();
        if placed >= 2 {
            out.push((
                format!("{name}-tradeoff.svg"),
                "detection latency against false positives, one point per detector",
            ));
        }
        out.push((
            format!("{name}-timeline.svg"),
            "verdicts against ground truth",
        ));
        let group_fp = d
            .iter()
            .any(|(_, r)| r.groups.0.iter().any(|(_, g)| g.false_positives.total > 0));
        if self.traffic.groups.0.len() > 1 && group_fp {
            out.push((
                format!("{name}-groups.svg"),
                "false positives by group, spurious and during faults",
            ));
        }
        out
    }

    /// Why a column of p99 latencies has no interval, when some has none.
    fn p99_note(&self, counts: impl Iterator<Item = (u64, bool)>) -> Option<String> {
        let lacking: Vec<u64> = counts
            .filter(|&(n, has)| n > 0 && !has)
            .map(|c| c.0)
            .collect();
        let most = *lacking.iter().max()?;
        let count = if lacking.iter().all(|&n| n == most) {
            format!("{most}")
        } else {
            format!("at most {most}")
        };
        let needs = ci::quantile_interval_needs(P99, self.confidence)
            .map_or_else(String::new, |n| format!("; one needs {n}"));
        Some(format!(
            "p99 has no interval: too few detected crashes for a distribution-free interval at {}% ({count}{needs}).",
            self.confidence * 100.0
        ))
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
        let _ = writeln!(o, "| duration | {} |", human::duration(self.duration_ns));
        let _ = writeln!(o, "| clients | {} ({}) |", self.clients, groups.join(", "));
        let _ = writeln!(o, "| crashes injected | {} |", self.crashes);
        if self.server_crashes > 0 {
            let _ = writeln!(o, "| server crashes injected | {} |", self.server_crashes);
        }
        let _ = writeln!(o, "| scenario sha256 | `{}` |", self.scenario.sha256);
        let _ = writeln!(o, "| replications | {} |", self.replications);
        let _ = writeln!(o, "| intervals | {}% |", self.confidence * 100.0);
        let _ = writeln!(o, "| hbsim | {} |\n", self.hbsim_version);
        self.glance(&mut o);
        for (name, d) in &self.detectors.0 {
            self.detector_section(&mut o, name, d);
        }
        self.traffic_section(&mut o);
        if !self.swept.is_empty() {
            let vary: Vec<String> = self.swept.iter().map(|p| format!("`{p}`")).collect();
            let _ = writeln!(
                o,
                "\n## Sweep\n\nThis scenario's sweep block varies {}. `hbsim sweep` on it writes the trade-off, the heatmap and the table of every cell to [{name}-sweep.html]({name}-sweep.html), beside this report.",
                vary.join(" and "),
                name = self.scenario.name
            );
        }
        o
    }

    /// The verdict, the table of every detector side by side, the cost and the pictures.
    fn glance(&self, o: &mut String) {
        let _ = writeln!(o, "## At a glance\n");
        if let Some(v) = self.verdict() {
            let _ = writeln!(o, "{v}\n");
        }
        let mut t = Table::new(&[
            ("detector", false),
            ("kind", false),
            ("settings", false),
            ("detection latency p50", true),
            ("p99{ci}", true),
            ("missed", true),
            ("spurious / client-day{ci}", true),
            ("mistake mean", true),
            ("query accuracy", true),
            ("probe bytes / client-hour", true),
        ]);
        let best = self.best();
        let mark = |s: String, is_best: bool| if is_best { format!("**{s}**") } else { s };
        for (i, (name, d)) in self.detectors.0.iter().enumerate() {
            let st = &d.detection_latency.stats;
            let fp = &d.false_positives;
            let lat = Durs::fit(&[st.p50_ns, st.p99_ns], &[st.p99_ci_ns]);
            t.row(vec![
                format!("`{name}`"),
                d.kind.clone(),
                d.settings.clone(),
                lat.one(st.p50_ns),
                mark(lat.ci(st.p99_ns, st.p99_ci_ns), best.p99 == Some(i)),
                d.detection_latency.missed.to_string(),
                mark(
                    rate_ci(fp.spurious_per_client_day, fp.spurious_per_client_day_ci),
                    best.fp == Some(i),
                ),
                mark(
                    opt_dur(d.mistake_duration.stats.mean_ns),
                    best.mistake == Some(i),
                ),
                mark(opt_percent(d.query_accuracy), best.accuracy == Some(i)),
                if d.cost.probes_sent == 0 {
                    "none".to_string()
                } else {
                    opt_bytes(d.cost.probe_bytes_per_client_hour)
                },
            ]);
        }
        t.render(o);
        let mut notes = Vec::new();
        if self.detectors.0.len() > 1 {
            notes.push("Bold: the best of each column.".to_string());
        }
        if let Some(n) = self.p99_note(self.detectors.0.iter().map(|(_, d)| {
            (
                d.detection_latency.count,
                d.detection_latency.stats.p99_ci_ns.is_some(),
            )
        })) {
            notes.push(n);
        }
        let t = &self.traffic;
        notes.push(format!(
            "Cost: {} heartbeats and {} per client-hour on the wire (heartbeats, acknowledgements and probes, both directions); each detector's own probes and their answers in the last column.",
            opt_rate(t.heartbeats_per_client_hour),
            opt_bytes(t.bytes_per_client_hour),
        ));
        let _ = writeln!(o, "\n{}\n", notes.join(" "));
        for (file, caption) in self.pictures_planned() {
            let _ = writeln!(o, "![{caption}]({file})\n");
        }
        if self
            .detectors
            .0
            .iter()
            .all(|(_, d)| d.detection_latency.count == 0)
        {
            let _ = writeln!(
                o,
                "No crash was detected, so there is no latency distribution to draw.\n"
            );
        }
    }

    fn detector_section(&self, o: &mut String, name: &str, d: &DetectorReport) {
        let _ = writeln!(o, "## Detector `{name}` ({})\n", d.kind);
        let groups = &d.groups.0;
        let _ = writeln!(o, "### Detection latency\n");
        let mut t = Table::new(&[
            ("clients", false),
            ("detected", true),
            ("missed", true),
            ("already offline", true),
            ("min", true),
            ("mean{ci}", true),
            ("p50", true),
            ("p90", true),
            ("p99{ci}", true),
            ("p99.9", true),
            ("max", true),
        ]);
        let rows = rows_of(&d.detection_latency, groups, |r| &r.detection_latency);
        for (label, l) in &rows {
            let st = &l.stats;
            let f = Durs::fit(
                &[
                    st.min_ns, st.mean_ns, st.p50_ns, st.p90_ns, st.p99_ns, st.p999_ns, st.max_ns,
                ],
                &[st.mean_ci_ns, st.p99_ci_ns],
            );
            t.row(vec![
                label.to_string(),
                l.count.to_string(),
                l.missed.to_string(),
                l.already_offline.to_string(),
                f.one(st.min_ns),
                f.ci(st.mean_ns, st.mean_ci_ns),
                f.one(st.p50_ns),
                f.one(st.p90_ns),
                f.ci(st.p99_ns, st.p99_ci_ns),
                f.one(st.p999_ns),
                f.one(st.max_ns),
            ]);
        }
        if rows.iter().all(|(_, l)| l.count == 0) {
            let _ = writeln!(
                o,
                "No crash was detected ({} missed, {} already offline).\n",
                d.detection_latency.missed, d.detection_latency.already_offline
            );
        } else {
            t.render(o);
            if let Some(n) = self.p99_note(
                rows.iter()
                    .map(|(_, l)| (l.count, l.stats.p99_ci_ns.is_some())),
            ) {
                let _ = writeln!(o, "\n{n}");
            }
            o.push('\n');
        }

        let _ = writeln!(o, "### False positives and mistakes\n");
        let mut t = Table::new(&[
            ("clients", false),
            ("false positives", true),
            ("spurious", true),
            ("during fault", true),
            ("spurious / client-hour{ci}", true),
            ("spurious / client-day{ci}", true),
            ("mistakes ended", true),
            ("censored", true),
            ("mistake mean", true),
            ("mistake p99", true),
            ("query accuracy", true),
        ]);
        let rows = rows_of(
            (&d.false_positives, &d.mistake_duration, d.query_accuracy),
            groups,
            |r| (&r.false_positives, &r.mistake_duration, r.query_accuracy),
        );
        for (label, (fp, md, pa)) in rows {
            let f = Durs::fit(&[md.stats.mean_ns, md.stats.p99_ns], &[]);
            t.row(vec![
                label.to_string(),
                fp.total.to_string(),
                fp.spurious.to_string(),
                fp.during_fault.to_string(),
                rate_ci(fp.spurious_per_client_hour, fp.spurious_per_client_hour_ci),
                rate_ci(fp.spurious_per_client_day, fp.spurious_per_client_day_ci),
                md.count.to_string(),
                md.censored.to_string(),
                f.one(md.stats.mean_ns),
                f.one(md.stats.p99_ns),
                opt_percent(pa),
            ]);
        }
        t.render(o);

        let _ = writeln!(o, "\n### Quality of service (Chen, Toueg and Aguilera)\n");
        let mut t = Table::new(&[
            ("clients", false),
            ("mistake rate / client-hour{ci}", true),
            ("mistake recurrence T_MR mean", true),
            ("good period T_G mean", true),
            ("first mistake after (mean)", true),
            ("never mistaken", true),
            ("query accuracy P_A{ci}", true),
        ]);
        let rows = rows_of(
            (&d.qos, d.query_accuracy, d.query_accuracy_ci),
            groups,
            |r| (&r.qos, r.query_accuracy, r.query_accuracy_ci),
        );
        for (label, (q, pa, pa_ci)) in rows {
            let (tmr, tg, first) = (
                q.mistake_recurrence.stats.mean_ns,
                q.good_period.stats.mean_ns,
                q.first_false_positive.stats.mean_ns,
            );
            let f = Durs::fit(&[tmr, tg, first], &[]);
            t.row(vec![
                label.to_string(),
                rate_ci(
                    q.mistake_rate_per_client_hour,
                    q.mistake_rate_per_client_hour_ci,
                ),
                f.one(tmr),
                f.one(tg),
                f.one(first),
                q.first_false_positive.censored.to_string(),
                percent_ci(pa, pa_ci),
            ]);
        }
        t.render(o);
        if let Some(w) = &d.swim {
            swim_section(o, w);
        }

        let _ = writeln!(o, "\n### Analytic expectations\n");
        self.analytic_section(o, groups);
        o.push('\n');
    }

    /// The closed forms against the measurements; a sentence of reasons when none
    /// applies.
    fn analytic_section(&self, o: &mut String, groups: &[(String, GroupDetectorReport)]) {
        let mut t = Table::new(&[
            ("clients", false),
            ("figure", false),
            ("theory", true),
            ("observed", true),
            ("verdict", false),
        ]);
        // Why each figure has no closed form, in order of first appearance.
        let mut reasons: Vec<(String, Vec<&str>)> = Vec::new();
        let mut any_applies = false;
        let mut why = |reason: Option<&str>, figure: &'static str| {
            let r = reason.unwrap_or("no closed form").to_string();
            match reasons.iter_mut().find(|(x, _)| *x == r) {
                Some((_, figs)) => {
                    if !figs.contains(&figure) {
                        figs.push(figure)
                    }
                }
                None => reasons.push((r.clone(), vec![figure])),
            }
            format!("n/a: {r}")
        };
        for (g, r) in groups {
            let a = &r.analytic;
            let b = &a.detection_latency;
            let st = &r.detection_latency.stats;
            let f = Durs::fit(&[st.min_ns, st.max_ns, b.min_ns, b.max_ns], &[]);
            let observed = format!("{} … {}", f.one(st.min_ns), f.one(st.max_ns));
            let theory = if b.applies {
                any_applies = true;
                format!(
                    "{} … {}",
                    f.one(Some(b.min_ns.unwrap_or(0))),
                    f.one(b.max_ns)
                )
            } else {
                why(b.reason.as_deref(), "latency range")
            };
            t.row(vec![
                g.clone(),
                "detection latency range (hard bound)".into(),
                theory,
                observed,
                b.verdict.clone().unwrap_or_else(|| DASH.into()),
            ]);
            let mean = Durs::fit(
                &[
                    st.mean_ns,
                    a.detection_latency_mean_ns.expected.map(|v| v as u64),
                ],
                &[st.mean_ci_ns],
            );
            let md = &r.mistake_duration.stats;
            let mistake = Durs::fit(
                &[
                    md.mean_ns,
                    a.mistake_duration_mean_ns.expected.map(|v| v as u64),
                ],
                &[md.mean_ci_ns],
            );
            let fp = &r.false_positives;
            let rate = Nums::fit(
                &[
                    fp.spurious_per_client_hour,
                    a.spurious_per_client_hour.expected,
                ],
                &[fp.spurious_per_client_hour_ci],
            );
            let expectations = [
                (
                    "mean detection latency",
                    &a.detection_latency_mean_ns,
                    a.detection_latency_mean_ns
                        .expected
                        .map(|v| mean.one(Some(v as u64))),
                    mean.ci(st.mean_ns, st.mean_ci_ns),
                ),
                (
                    "spurious false positives / client-hour",
                    &a.spurious_per_client_hour,
                    a.spurious_per_client_hour
                        .expected
                        .map(|v| rate.one(Some(v))),
                    rate.ci(fp.spurious_per_client_hour, fp.spurious_per_client_hour_ci),
                ),
                (
                    "mean mistake duration",
                    &a.mistake_duration_mean_ns,
                    a.mistake_duration_mean_ns
                        .expected
                        .map(|v| mistake.one(Some(v as u64))),
                    mistake.ci(md.mean_ns, md.mean_ci_ns),
                ),
            ];
            for (figure, e, theory, observed) in expectations {
                let theory = match theory {
                    Some(t) => {
                        any_applies = true;
                        t
                    }
                    None => why(e.reason.as_deref(), figure),
                };
                t.row(vec![
                    g.clone(),
                    figure.into(),
                    theory,
                    observed,
                    e.verdict.clone().unwrap_or_else(|| DASH.into()),
                ]);
            }
        }
        if any_applies {
            t.render(o);
        } else {
            let list: Vec<String> = reasons
                .iter()
                .map(|(r, figs)| format!("{r} ({})", figs.join(", ")))
                .collect();
            let _ = writeln!(o, "No closed form applies: {}.", list.join("; "));
        }
    }

    fn traffic_section(&self, o: &mut String) {
        let _ = writeln!(o, "## Traffic\n");
        let mut tab = Table::new(&[
            ("clients", false),
            ("heartbeats sent", true),
            ("delivered", true),
            ("lost", true),
            ("duplicated", true),
            ("in flight at end", true),
            ("retransmissions", true),
            ("connection breaks", true),
            ("bytes up", true),
            ("bytes down", true),
            ("heartbeats / client-hour", true),
        ]);
        let t = &self.traffic;
        let whole = (
            [
                t.heartbeats_sent,
                t.delivered,
                t.lost,
                t.duplicated,
                t.in_flight,
                t.retransmissions,
                t.connection_breaks,
            ],
            [t.bytes_up, t.bytes_down],
            t.heartbeats_per_client_hour,
        );
        let rows = rows_of(whole, &t.groups.0, |gt| {
            (
                [
                    gt.heartbeats_sent,
                    gt.delivered,
                    gt.lost,
                    gt.duplicated,
                    gt.in_flight,
                    gt.retransmissions,
                    gt.connection_breaks,
                ],
                [gt.bytes_up, gt.bytes_down],
                gt.heartbeats_per_client_hour,
            )
        });
        for (label, (counts, bytes, rate)) in rows {
            let mut cells = vec![label.to_string()];
            cells.extend(counts.iter().map(u64::to_string));
            cells.extend(bytes.iter().map(|&b| human::bytes(b as f64)));
            cells.push(opt_rate(rate));
            tab.row(cells);
        }
        let dropped = tab.drop_zero_columns(&[
            "duplicated",
            "retransmissions",
            "connection breaks",
            "bytes down",
        ]);
        tab.render(o);
        if !dropped.is_empty() {
            let _ = writeln!(o, "\nZero throughout, not shown: {}.", dropped.join(", "));
        }
    }
}

/// A `swim` detector's membership figures: dissemination, suspicions, traffic by kind.
fn swim_section(o: &mut String, w: &SwimReport) {
    let _ = writeln!(o, "\n### Membership (SWIM)\n");
    let k = &w.everyone_knows;
    let knows = if k.count == 0 {
        "No crash came to be held dead by every live member.".to_string()
    } else {
        format!(
            "After a crash, every live member held the member dead within {} on average (p99 {}, {}); the detection latency above is the first member's declaration.",
            dur_ci(k.stats.mean_ns, k.stats.mean_ci_ns),
            opt_dur(k.stats.p99_ns),
            counted(k.count, "crash", "crashes")
        )
    };
    let _ = writeln!(
        o,
        "{} members. {knows} {} raised after failed probes, {} of a member that was up; {} refuted by the accused raising its incarnation; {} updates carried.\n",
        w.members,
        counted(w.suspicions, "suspicion", "suspicions"),
        w.false_suspicions,
        counted(w.refutations, "accusation", "accusations"),
        w.updates_sent
    );
    let mut t = Table::new(&[
        ("packets", false),
        ("sent", true),
        ("per member-hour", true),
        ("bytes per member-hour", true),
    ]);
    for (kind, tr) in &w.traffic.0 {
        if tr.packets == 0 && kind != "total" {
            continue;
        }
        t.row(vec![
            kind.replace('_', "-"),
            tr.packets.to_string(),
            opt_rate(tr.packets_per_member_hour),
            opt_bytes(tr.bytes_per_member_hour),
        ]);
    }
    t.render(o);
}
