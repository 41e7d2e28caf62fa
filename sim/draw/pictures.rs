//! Chooses what to draw for a run and feeds `svg`, following the report's plan
//! (`Report::pictures_planned`): the latency distribution of every detector, the
//! detectors' trade-off, a verdict timeline of a few telling clients with zoomed panels
//! around one crash and one false positive, and per-group bars when groups differ.

use crate::draw::svg::{self, Bounds, DetectorPoint, Panel, Row, Series, ServerLane};
use crate::oracle::{Outcome, Verdict, VerdictEvent};
use crate::report::Report;
use crate::scenario::{FaultAction, Scenario};

/// How many clients the timeline's overview shows, and how many of them may be crashed
/// ones (more crashed rows look alike).
const TIMELINE_CLIENTS: usize = 5;
const CRASHED_ROWS: usize = 2;

/// The most verdict events kept for the pictures.
pub const PICTURE_EVENTS_MAX: usize = 2_000_000;

/// The verdict events of a run that the pictures can use, gathered as the run goes. An
/// online verdict that ends no offline one (first contact) matters to the timeline only
/// as a candidate row when too few clients had anything to show, and only the first
/// `2 · TIMELINE_CLIENTS` clients with any event can fill those rows; every other such
/// verdict is left out. So a million clients' first contacts cost nothing, and the
/// pictures are the same as from every event.
pub struct PictureEvents {
    events: Vec<VerdictEvent>,
    /// First client id of each group.
    group_start: Vec<usize>,
    detectors: usize,
    /// One bit per (client, detector): an offline verdict is open.
    open: Vec<u64>,
    /// The first clients (in event order) with an event other than a crash.
    first: Vec<(usize, u32)>,
}

impl PictureEvents {
    pub fn new(s: &Scenario) -> Self {
        let mut group_start = Vec::with_capacity(s.groups.len());
        let mut total = 0usize;
        for g in &s.groups {
            group_start.push(total);
            total += g.count as usize;
        }
        let bits = total * s.detectors.len();
        PictureEvents {
            events: Vec::new(),
            group_start,
            detectors: s.detectors.len(),
            open: vec![0; bits.div_ceil(64)],
            first: Vec::new(),
        }
    }

    /// Takes in the next verdict event.
    pub fn keep(&mut self, e: &VerdictEvent) {
        if e.verdict != Verdict::Crashed
            && self.first.len() < 2 * TIMELINE_CLIENTS
            && !self.first.contains(&key(e))
        {
            self.first.push(key(e));
        }
        let bit = e.detector.and_then(|d| {
            let start = *self.group_start.get(e.group)?;
            Some((start + e.index as usize) * self.detectors + d)
        });
        let wanted = match (e.verdict, bit) {
            (Verdict::Offline, Some(b)) if b / 64 < self.open.len() => {
                self.open[b / 64] |= 1 << (b % 64);
                true
            }
            (Verdict::Online, Some(b)) if b / 64 < self.open.len() => {
                let was_open = self.open[b / 64] & (1 << (b % 64)) != 0;
                self.open[b / 64] &= !(1 << (b % 64));
                was_open || self.first.contains(&key(e))
            }
            _ => true,
        };
        if wanted && self.events.len() < PICTURE_EVENTS_MAX {
            self.events.push(*e);
        }
    }

    /// The events kept, in time order.
    pub fn events(&self) -> &[VerdictEvent] {
        &self.events
    }
}

/// The pictures of one run as `(file name, SVG text)`, in the report's order. `events`
/// is the verdict trace of the first replication.
pub fn pictures(
    s: &Scenario,
    report: &Report,
    outcomes: &[Outcome],
    events: &[VerdictEvent],
) -> Vec<(String, String)> {
    let names: Vec<&str> = s.detectors.iter().map(|d| d.name.as_str()).collect();
    let mut out = Vec::new();
    for (file, _) in report.pictures_planned() {
        let svg = if file.ends_with("-latency.svg") {
            latency(s, report, outcomes, &names)
        } else if file.ends_with("-tradeoff.svg") {
            tradeoff(s, report)
        } else if file.ends_with("-timeline.svg") {
            let duration = s.duration.as_nanos();
            let rows = timeline_rows(s, events, duration);
            let panels = panels(s, events, duration);
            svg::timeline(
                &format!("{}: verdicts against ground truth", s.name),
                &names,
                &rows,
                duration,
                &server_lane(s, duration),
                &panels,
            )
        } else {
            groups(s, report, &names)
        };
        out.push((file, svg));
    }
    out
}

fn latency(s: &Scenario, report: &Report, outcomes: &[Outcome], names: &[&str]) -> String {
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
    // Each detector's bounds where the closed forms apply (the first group's).
    let bounds: Vec<Bounds> = report
        .detectors
        .0
        .iter()
        .filter_map(|(name, d)| {
            let b = &d.groups.0.first()?.1.analytic.detection_latency;
            Some(Bounds {
                detector: name,
                min: b.min_ns,
                max: b.max_ns?,
            })
        })
        .collect();
    svg::latency_cdf(
        &format!("{}: detection latency distribution", s.name),
        &series,
        &bounds,
    )
}

fn tradeoff(s: &Scenario, report: &Report) -> String {
    let points: Vec<DetectorPoint> = report
        .detectors
        .0
        .iter()
        .filter_map(|(name, d)| {
            let l = &d.detection_latency.stats;
            Some(DetectorPoint {
                label: format!("{name} ({})", d.settings),
                p99_ns: l.p99_ns?,
                p99_ci_ns: l.p99_ci_ns,
                fp: d.false_positives.spurious_per_client_day?,
                fp_ci: d.false_positives.spurious_per_client_day_ci,
            })
        })
        .collect();
    svg::detector_tradeoff(
        &format!("{}: p99 detection latency against false positives", s.name),
        &points,
    )
}

fn groups(s: &Scenario, report: &Report, names: &[&str]) -> String {
    const DAY: f64 = 86_400e9;
    let groups: Vec<svg::GroupBars> = s
        .groups
        .iter()
        .map(|g| {
            let up_days = report
                .traffic
                .groups
                .get(&g.name)
                .map_or(0.0, |t| t.up_ns as f64 / DAY);
            let values = report
                .detectors
                .0
                .iter()
                .map(|(_, d)| {
                    let f = &d.groups.get(&g.name)?.false_positives;
                    (up_days > 0.0)
                        .then(|| (f.spurious as f64 / up_days, f.during_fault as f64 / up_days))
                })
                .collect();
            (g.name.as_str(), values)
        })
        .collect();
    svg::group_bars(
        &format!("{}: false positives by group", s.name),
        "false positives per client-day of up time",
        names,
        &groups,
    )
}

/// The server's stalls, outages and clock steps.
fn server_lane(s: &Scenario, duration: u64) -> ServerLane {
    let mut lane = ServerLane::default();
    let mut down_since = None;
    for f in &s.faults {
        let at = f.at.as_nanos();
        match f.action {
            FaultAction::ServerStall { duration: d } => {
                lane.stalls.push((at, at.saturating_add(d.as_nanos())))
            }
            FaultAction::ClockStep { .. } => lane.clock_steps.push(at),
            FaultAction::ServerCrash => down_since = down_since.or(Some(at)),
            FaultAction::ServerRestart => {
                if let Some(a) = down_since.take() {
                    lane.down.push((a, at));
                }
            }
            _ => {}
        }
    }
    if let Some(a) = down_since {
        lane.down.push((a, duration));
    }
    lane
}

type Key = (usize, u32);

fn key(e: &VerdictEvent) -> Key {
    (e.group, e.index)
}

/// The clients worth showing: up to two crashed ones (the first two crash instants),
/// then ones a detector was wrong about, then any.
fn timeline_rows(s: &Scenario, events: &[VerdictEvent], duration: u64) -> Vec<Row> {
    let mut chosen: Vec<Key> = Vec::new();
    let mut crash_times: Vec<u64> = Vec::new();
    for e in events.iter().filter(|e| e.verdict == Verdict::Crashed) {
        let t = e.time.as_nanos();
        if chosen.len() < CRASHED_ROWS && !chosen.contains(&key(e)) && !crash_times.contains(&t) {
            chosen.push(key(e));
            crash_times.push(t);
        }
    }
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
    pick(&|e| e.verdict == Verdict::Offline && e.client_up);
    pick(&|e| e.verdict == Verdict::Offline && e.detector.is_some());
    pick(&|e| e.verdict != Verdict::Crashed);
    chosen.sort_unstable();
    chosen
        .into_iter()
        .map(|k| row(s, events, k, duration))
        .collect()
}

/// One client's row over the whole run.
fn row(s: &Scenario, events: &[VerdictEvent], (group, index): Key, duration: u64) -> Row {
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
    let mut faults = Vec::new();
    for f in &s.faults {
        let span = match f.action {
            FaultAction::Pause { duration: d } | FaultAction::Partition { duration: d } => d,
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
        arrivals: Vec::new(),
    }
}

/// Zoomed panels: the first detected crash (from its last heartbeat to the last
/// detector's verdict) and the first false positive (from the heartbeat before it to the
/// one that ended it).
fn panels(s: &Scenario, events: &[VerdictEvent], duration: u64) -> Vec<Panel> {
    let mut out = Vec::new();
    let crash = events.iter().enumerate().find_map(|(i, c)| {
        if c.verdict != Verdict::Crashed {
            return None;
        }
        let detections: Vec<u64> = events[i..]
            .iter()
            .filter(|e| key(e) == key(c) && e.verdict == Verdict::Offline && e.detector.is_some())
            .take_while(|e| !e.client_up)
            .map(|e| e.time.as_nanos())
            .collect();
        Some((c, *detections.iter().max()?))
    });
    // Clients that send no heartbeats (probed, or swim members) have none to show: their
    // panels start at the crash or the verdict.
    let beats = |e: &VerdictEvent| s.groups[e.group].heartbeat.enabled;
    if let Some((c, last)) = crash {
        let with_beats = beats(c);
        let from = if with_beats {
            c.last_arrival.as_nanos()
        } else {
            c.time.as_nanos()
        };
        let span = (last - from).max(1_000_000);
        let mut r = row(s, events, key(c), duration);
        if with_beats {
            r.arrivals.push(from);
        }
        out.push(Panel {
            title: if with_beats {
                format!(
                    "{}: its crash, its last heartbeat and each detector's verdict",
                    r.label
                )
            } else {
                format!("{}: its crash and each detector's verdict", r.label)
            },
            from: from.saturating_sub(span / 5),
            to: (last + span / 5).min(duration),
            row: r,
        });
    }
    let mistake = events.iter().enumerate().find_map(|(i, f)| {
        if f.verdict != Verdict::Offline || !f.client_up {
            return None;
        }
        let end = events[i..].iter().find(|e| {
            key(e) == key(f) && e.detector == f.detector && e.verdict == Verdict::Online
        })?;
        Some((f, end))
    });
    if let Some((f, end)) = mistake {
        let with_beats = beats(f);
        let from = if with_beats {
            f.last_arrival.as_nanos()
        } else {
            f.time.as_nanos()
        };
        let to = end.time.as_nanos();
        let span = (to - from).max(1_000_000);
        let mut r = row(s, events, key(f), duration);
        if with_beats {
            r.arrivals.push(from);
            r.arrivals.push(end.last_arrival.as_nanos());
        }
        let name = f.detector.map_or("", |d| s.detectors[d].name.as_str());
        out.push(Panel {
            title: if with_beats {
                format!(
                    "{}: a false positive of {name}, between the heartbeat before it and the one that ended it",
                    r.label
                )
            } else {
                format!(
                    "{}: a false positive of {name}, until it was believed alive again",
                    r.label
                )
            },
            from: from.saturating_sub(span / 5),
            to: (to + span / 5).min(duration),
            row: r,
        });
    }
    out
}
