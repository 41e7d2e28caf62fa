//! The verdict timeline (an overview of a few clients, a server lane, zoomed panels) and
//! the per-group bars, in the same deterministic SVG as `svg`.

use super::svg::{
    escape, header, legend, legend_margin, n, text_w, TimeAxis, BOTTOM, COLOURS, LEFT, TOP, W,
};
use crate::base::human;
use std::fmt::Write as _;

/// One client's row in the timeline.
#[derive(Clone, Debug, Default)]
pub struct Row {
    pub label: String,
    /// Intervals `[from, to)` during which the client was down.
    pub down: Vec<(u64, u64)>,
    /// Intervals during which a fault window (pause, partition) touched it.
    pub faults: Vec<(u64, u64)>,
    /// Per detector, intervals during which it held the client offline, and whether each
    /// began while the client was up (a false positive).
    pub offline: Vec<Vec<(u64, u64, bool)>>,
    /// Heartbeat arrivals worth marking (in a zoomed panel).
    pub arrivals: Vec<u64>,
}

/// What happened to the server: stalls and outages as spans, clock steps as instants.
#[derive(Clone, Debug, Default)]
pub struct ServerLane {
    pub stalls: Vec<(u64, u64)>,
    pub down: Vec<(u64, u64)>,
    pub clock_steps: Vec<u64>,
}

impl ServerLane {
    fn is_empty(&self) -> bool {
        self.stalls.is_empty() && self.down.is_empty() && self.clock_steps.is_empty()
    }
}

/// A zoomed view of one row over `[from, to]`, titled.
pub struct Panel {
    pub title: String,
    pub row: Row,
    pub from: u64,
    pub to: u64,
}

const UP: &str = "#9ad29a";
const DOWN: &str = "#777";
const FAULT: &str = "#E69F00";
const STALL: &str = "#CC79A7";

/// Rows of a timeline over `[from, to]`, drawn from `top`; returns the height used.
#[allow(clippy::too_many_arguments)]
fn rows_block(
    o: &mut String,
    rows: &[Row],
    server: Option<&ServerLane>,
    detectors: usize,
    from: u64,
    to: u64,
    left: f64,
    pw: f64,
    top: f64,
) -> f64 {
    let lane = 10.0;
    let row_h = 14.0 + lane * detectors as f64 + 10.0;
    let span = (to - from).max(1) as f64;
    let sx = |t: u64| left + (t.clamp(from, to) - from) as f64 / span * pw;
    let rect = |o: &mut String, a: u64, b: u64, y: f64, h: f64, fill: &str, extra: &str| {
        if b < from || a > to {
            return;
        }
        let _ = writeln!(
            o,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{fill}"{extra}/>"#,
            n(sx(a)),
            n(y),
            n((sx(b) - sx(a)).max(1.5)),
            n(h)
        );
    };
    let mut y = top;
    if let Some(server) = server.filter(|s| !s.is_empty()) {
        let _ = writeln!(
            o,
            r#"<text x="{}" y="{}" text-anchor="end">server</text>"#,
            n(left - 6.0),
            n(y + 11.0)
        );
        rect(o, from, to, y + 2.0, 10.0, UP, "");
        for &(a, b) in &server.down {
            rect(o, a, b, y + 2.0, 10.0, DOWN, "");
        }
        for &(a, b) in &server.stalls {
            rect(o, a, b, y + 2.0, 10.0, STALL, "");
        }
        for &t in server.clock_steps.iter().filter(|&&t| t >= from && t <= to) {
            let _ = writeln!(
                o,
                r##"<path d="M{x} {} v14" stroke="#000" stroke-width="2"/><path d="M{x} {} l4 -6 l-8 0 z" fill="#000"/>"##,
                n(y),
                n(y),
                x = n(sx(t))
            );
        }
        y += 22.0;
    }
    for row in rows {
        let _ = writeln!(
            o,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            n(left - 6.0),
            n(y + 11.0),
            escape(&row.label)
        );
        rect(o, from, to, y + 2.0, 10.0, UP, "");
        for &(a, b) in &row.down {
            rect(o, a, b, y + 2.0, 10.0, DOWN, "");
        }
        for &(a, b) in &row.faults {
            rect(o, a, b, y, row_h - 6.0, FAULT, r#" fill-opacity="0.35""#);
        }
        for &t in row.arrivals.iter().filter(|&&t| t >= from && t <= to) {
            let _ = writeln!(
                o,
                r##"<path d="M{} {} v12" stroke="#000" stroke-width="1.5"/>"##,
                n(sx(t)),
                n(y + 1.0)
            );
        }
        for (d, spans) in row.offline.iter().enumerate() {
            let ly = y + 16.0 + d as f64 * lane;
            let colour = COLOURS[d % COLOURS.len()];
            for &(a, b, mistake) in spans {
                rect(o, a, b, ly, lane - 3.0, colour, "");
                if mistake && a >= from && a <= to {
                    let _ = writeln!(
                        o,
                        r##"<path d="M{} {} l4 -6 l-8 0 z" fill="#D00"/>"##,
                        n(sx(a)),
                        n(ly)
                    );
                }
            }
        }
        y += row_h;
    }
    y - top
}

/// A time axis under a block, from `from` to `to` (ticks relative to the run's start).
fn time_ticks(o: &mut String, from: u64, to: u64, left: f64, pw: f64, y: f64, what: &str) {
    let axis = TimeAxis::new(from as f64, to as f64, pw);
    let span = (to - from).max(1) as f64;
    for (v, label) in axis.ticks() {
        if v < from as f64 - 1.0 || v > to as f64 + 1.0 {
            continue;
        }
        let x = n(left + (v - from as f64) / span * pw);
        let _ = writeln!(
            o,
            r##"<line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="#999"/><text x="{x}" y="{}" text-anchor="middle">{label}</text>"##,
            n(y),
            n(y + 4.0),
            n(y + 17.0)
        );
    }
    let _ = writeln!(
        o,
        r#"<text x="{}" y="{}" text-anchor="middle" font-size="11">{}</text>"#,
        n(left + pw / 2.0),
        n(y + 31.0),
        escape(&axis.title(what))
    );
}

/// A verdict timeline: the whole run for a few telling clients (ground truth, fault
/// windows when there are faults, each detector's offline spans with false positives
/// marked), a server lane when the server stalled, crashed or had its clock stepped, and
/// zoomed panels around representative events.
pub fn timeline(
    title: &str,
    detectors: &[&str],
    rows: &[Row],
    duration: u64,
    server: &ServerLane,
    panels: &[Panel],
) -> String {
    let labels = rows
        .iter()
        .chain(panels.iter().map(|p| &p.row))
        .map(|r| r.label.as_str())
        .chain(["server"]);
    let left = (labels.map(|l| text_w(l, 12.0)).fold(0.0, f64::max) + 14.0).max(LEFT);
    let faults = rows
        .iter()
        .chain(panels.iter().map(|p| &p.row))
        .any(|r| !r.faults.is_empty());
    let mut entries: Vec<(String, String)> = vec![
        (UP.into(), "client up".into()),
        (DOWN.into(), "client down".into()),
    ];
    if faults {
        entries.push((FAULT.into(), "fault window".into()));
    }
    if !server.stalls.is_empty() {
        entries.push((STALL.into(), "server stalled".into()));
    }
    if !server.clock_steps.is_empty() {
        entries.push(("#000".into(), "clock step".into()));
    }
    if panels.iter().any(|p| !p.row.arrivals.is_empty()) {
        entries.push(("#000".into(), "heartbeat arrival (panels)".into()));
    }
    for (d, name) in detectors.iter().enumerate() {
        entries.push((
            COLOURS[d % COLOURS.len()].into(),
            format!("{name}: offline"),
        ));
    }
    entries.push(("#D00".into(), "▼ false positive".into()));
    let right = legend_margin(entries.iter().map(|e| e.1.clone()));
    let pw = W - left - right;
    let lane = 10.0;
    let row_h = 14.0 + lane * detectors.len() as f64 + 10.0;
    let server_h = if server.is_empty() { 0.0 } else { 22.0 };
    let overview = server_h + row_h * rows.len() as f64;
    let panel_h = 24.0 + row_h + server_h + 42.0;
    let height = (TOP + overview + 44.0 + panel_h * panels.len() as f64 + 10.0)
        .max(TOP + 20.0 + 18.0 * entries.len() as f64);
    let mut o = String::new();
    header(&mut o, title, height);
    let used = rows_block(
        &mut o,
        rows,
        Some(server),
        detectors.len(),
        0,
        duration,
        left,
        pw,
        TOP,
    );
    time_ticks(
        &mut o,
        0,
        duration,
        left,
        pw,
        TOP + used,
        "time since start",
    );
    let mut y = TOP + used + 44.0;
    for p in panels {
        let _ = writeln!(
            o,
            r#"<text x="{}" y="{}" font-weight="bold">{}</text>"#,
            n(left),
            n(y + 14.0),
            escape(&p.title)
        );
        let used = rows_block(
            &mut o,
            std::slice::from_ref(&p.row),
            Some(server),
            detectors.len(),
            p.from,
            p.to,
            left,
            pw,
            y + 22.0,
        );
        time_ticks(
            &mut o,
            p.from,
            p.to,
            left,
            pw,
            y + 22.0 + used,
            "time since start",
        );
        y += panel_h;
    }
    legend(&mut o, W - right + 15.0, TOP, &entries);
    o.push_str("</svg>\n");
    o
}

/// One group of the bar chart: per detector, spurious and during-fault false positives
/// per client-day (`None` when the detector saw nobody there).
pub type GroupBars<'a> = (&'a str, Vec<Option<(f64, f64)>>);

/// Horizontal bars, one block per group and one bar per detector, each stacked from its
/// spurious false positives and those during fault windows.
pub fn group_bars(title: &str, unit: &str, detectors: &[&str], groups: &[GroupBars]) -> String {
    let bar = 14.0;
    let block = bar * detectors.len() as f64 + 12.0;
    let mut entries: Vec<(String, String)> = detectors
        .iter()
        .enumerate()
        .map(|(d, name)| {
            (
                COLOURS[d % COLOURS.len()].to_string(),
                format!("{name}: spurious"),
            )
        })
        .collect();
    entries.push(("#bbb".into(), "paler: during faults".into()));
    let right = legend_margin(entries.iter().map(|e| e.1.clone()));
    let height =
        (TOP + block * groups.len() as f64 + BOTTOM).max(TOP + 20.0 + 18.0 * entries.len() as f64);
    let mut o = String::new();
    header(&mut o, title, height);
    let left = groups
        .iter()
        .map(|g| text_w(g.0, 12.0))
        .fold(60.0, f64::max)
        + 12.0;
    let pw = W - left - right - 70.0;
    let max = groups
        .iter()
        .flat_map(|(_, v)| v.iter().flatten())
        .fold(0.0f64, |a, &(s, f)| a.max(s + f));
    let scale = if max > 0.0 { pw / max } else { 0.0 };
    let fmt = human::NumFormat::fit([max]);
    for (gi, (g, values)) in groups.iter().enumerate() {
        let y = TOP + gi as f64 * block;
        let _ = writeln!(
            o,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            n(left - 6.0),
            n(y + block / 2.0),
            escape(g)
        );
        for (d, v) in values.iter().enumerate() {
            let by = y + d as f64 * bar;
            let colour = COLOURS[d % COLOURS.len()];
            let (s, f) = v.unwrap_or((0.0, 0.0));
            let label = match v {
                Some((s, f)) if *f > 0.0 => {
                    format!("{} ({} during faults)", fmt.show(s + f), fmt.show(*f))
                }
                Some((s, _)) => fmt.show(*s),
                None => "–".to_string(),
            };
            let _ = writeln!(
                o,
                r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{colour}"/><rect x="{}" y="{}" width="{}" height="{}" fill="{colour}" fill-opacity="0.4"/><text x="{}" y="{}">{label}</text>"#,
                n(left),
                n(by),
                n(s * scale),
                n(bar - 2.0),
                n(left + s * scale),
                n(by),
                n(f * scale),
                n(bar - 2.0),
                n(left + (s + f) * scale + 4.0),
                n(by + bar - 4.0)
            );
        }
    }
    let _ = writeln!(
        o,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        n(left + pw / 2.0),
        n(height - 12.0),
        escape(unit)
    );
    legend(&mut o, W - right + 15.0, TOP, &entries);
    o.push_str("</svg>\n");
    o
}
