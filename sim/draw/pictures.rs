//! Chooses what to draw for a run and feeds `svg`: the latency distribution of every
//! detector, a verdict timeline of a few telling clients (crashed ones first, then ones a
//! detector was wrong about), and per-group bars when there are several groups.

use crate::draw::svg::{self, Row, Series};
use crate::oracle::{Outcome, Verdict, VerdictEvent};
use crate::report::Report;
use crate::scenario::{FaultAction, Scenario};

/// How many clients the timeline shows.
const TIMELINE_CLIENTS: usize = 6;

/// The pictures of one run as `(file name, SVG text)`, in a fixed order. `events` is the
/// verdict trace of the first replication.
pub fn pictures(
    s: &Scenario,
    report: &Report,
    outcomes: &[Outcome],
    events: &[VerdictEvent],
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let names: Vec<&str> = s.detectors.iter().map(|d| d.name.as_str()).collect();

    let samples: Vec<Vec<u64>> = (0..s.detectors.len())
        .map(|d| {
            let mut v: Vec<u64> = outcomes
                .iter()
                .flat_map(|o| {
                    o.detectors[d]
                        .iter()
                        .flat_map(|g| g.latencies.iter().copied())
                })
                .collect();
            v.sort_unstable();
            v
        })
        .collect();
    let series: Vec<Series> = names
        .iter()
        .zip(&samples)
        .map(|(name, sorted)| Series { name, sorted })
        .collect();
    let bounds = report.detectors.0.first().and_then(|(_, d)| {
        let b = &d.groups.0.first()?.1.analytic.detection_latency;
        b.max_ns.map(|max| (b.min_ns, max))
    });
    out.push((
        format!("{}-latency.svg", s.name),
        svg::latency_cdf(
            &format!("{}: detection latency distribution", s.name),
            &series,
            bounds,
        ),
    ));

    let duration = s.duration.as_nanos();
    let rows = timeline_rows(s, events, duration);
    out.push((
        format!("{}-timeline.svg", s.name),
        svg::timeline(
            &format!("{}: verdicts against ground truth", s.name),
            &names,
            &rows,
            duration,
        ),
    ));

    if s.groups.len() > 1 {
        let groups: Vec<(&str, Vec<Option<f64>>)> = s
            .groups
            .iter()
            .map(|g| {
                let values = report
                    .detectors
                    .0
                    .iter()
                    .map(|(_, d)| {
                        d.groups
                            .get(&g.name)
                            .and_then(|x| x.false_positives.spurious_per_client_day)
                    })
                    .collect();
                (g.name.as_str(), values)
            })
            .collect();
        out.push((
            format!("{}-groups.svg", s.name),
            svg::group_bars(
                &format!("{}: spurious false positives by group", s.name),
                "spurious false positives per client-day",
                &names,
                &groups,
            ),
        ));
    }
    out
}

/// The clients worth showing, and their rows.
fn timeline_rows(s: &Scenario, events: &[VerdictEvent], duration: u64) -> Vec<Row> {
    let key = |e: &VerdictEvent| (e.group, e.index);
    let mut chosen: Vec<(usize, u32)> = Vec::new();
    let mut pick = |wanted: &dyn Fn(&VerdictEvent) -> bool| {
        for e in events {
            if chosen.len() >= TIMELINE_CLIENTS {
                return;
            }
            if wanted(e) && !chosen.contains(&key(e)) {
                chosen.push(key(e));
            }
        }
    };
    pick(&|e| e.verdict == Verdict::Crashed);
    pick(&|e| e.verdict == Verdict::Offline && e.client_up);
    pick(&|e| e.verdict == Verdict::Offline);
    pick(&|_| true);
    chosen.sort_unstable();

    let stalls: Vec<(u64, u64)> = s
        .faults
        .iter()
        .filter_map(|f| match f.action {
            FaultAction::ServerStall { duration: d } => {
                Some((f.at.as_nanos(), f.at.as_nanos() + d.as_nanos()))
            }
            _ => None,
        })
        .collect();
    chosen
        .into_iter()
        .map(|(group, index)| {
            let mine: Vec<&VerdictEvent> = events
                .iter()
                .filter(|e| e.group == group && e.index == index)
                .collect();
            let mut down = Vec::new();
            let mut since = None;
            for e in &mine {
                match e.verdict {
                    Verdict::Crashed => since = Some(e.time.as_nanos()),
                    Verdict::Restarted => {
                        if let Some(a) = since.take() {
                            down.push((a, e.time.as_nanos()));
                        }
                    }
                    _ => {}
                }
            }
            if let Some(a) = since {
                down.push((a, duration));
            }
            let mut faults = stalls.clone();
            for f in &s.faults {
                let span = match f.action {
                    FaultAction::Pause { duration: d } | FaultAction::Partition { duration: d } => {
                        d
                    }
                    _ => continue,
                };
                if f.targets
                    .iter()
                    .any(|r| r.group == group && (r.start..r.end).contains(&index))
                {
                    faults.push((f.at.as_nanos(), f.at.as_nanos() + span.as_nanos()));
                }
            }
            let offline = (0..s.detectors.len())
                .map(|d| {
                    let mut spans = Vec::new();
                    let mut open: Option<(u64, bool)> = None;
                    for e in mine.iter().filter(|e| e.detector == Some(d)) {
                        match e.verdict {
                            Verdict::Offline => open = Some((e.time.as_nanos(), e.client_up)),
                            Verdict::Online => {
                                if let Some((a, mistake)) = open.take() {
                                    spans.push((a, e.time.as_nanos(), mistake));
                                }
                            }
                            _ => {}
                        }
                    }
                    if let Some((a, mistake)) = open {
                        spans.push((a, duration, mistake));
                    }
                    spans
                })
                .collect();
            Row {
                label: format!("{}[{index}]", s.groups[group].name),
                down,
                faults,
                offline,
            }
        })
        .collect()
}
