//! Pictures as SVG text with deterministic bytes: the detection-latency distribution
//! (empirical CDF per detector, with the analytic bounds marked), a verdict timeline for a
//! few clients against ground truth, and per-group bars for multi-group scenarios.
//!
//! A small writer of its own rather than a plotting crate: three fixed chart shapes need
//! a few dozen lines of SVG, every number is formatted by one function with fixed
//! precision, and no font metrics, system fonts or floating-point layout engine can change
//! the bytes between machines.

use crate::base::time::format_duration;
use std::fmt::Write as _;

const W: f64 = 720.0;
const H: f64 = 360.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;
/// Colour-blind-safe series colours (Okabe–Ito).
const COLOURS: [&str; 7] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
];

/// Fixed-precision coordinate.
fn n(x: f64) -> String {
    let v = (x * 10.0).round() / 10.0;
    if v == v.trunc() {
        format!("{}", v as i64)
    } else {
        format!("{v:.1}")
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn header(o: &mut String, title: &str, height: f64) {
    let _ = writeln!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}" font-family="sans-serif" font-size="12">"#,
        n(W),
        n(height),
        n(W),
        n(height)
    );
    let _ = writeln!(o, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        o,
        r#"<text x="{}" y="22" font-size="14" font-weight="bold">{}</text>"#,
        n(LEFT),
        escape(title)
    );
}

/// A "nice" step for about `target` ticks over `span`.
fn nice_step(span: f64, target: f64) -> f64 {
    let raw = (span / target).max(1e-12);
    let mag = libm::pow(10.0, libm::floor(libm::log10(raw)));
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// A tick step for a time axis spanning `span` ns with at most about `target` ticks,
/// chosen among round durations (1-2-5 below a second, then 1, 2, 5, 10, 15, 30 s and
/// min, then hours and days).
fn nice_time_step(span: f64, target: f64) -> f64 {
    const S: f64 = 1e9;
    let mut steps: Vec<f64> = Vec::new();
    let mut m = 1.0;
    while m < S {
        steps.extend([m, 2.0 * m, 5.0 * m]);
        m *= 10.0;
    }
    for unit in [S, 60.0 * S] {
        steps.extend([1.0, 2.0, 5.0, 10.0, 15.0, 30.0].map(|k| k * unit));
    }
    steps.extend([1.0, 2.0, 3.0, 6.0, 12.0, 24.0, 48.0, 168.0].map(|k| k * 3600.0 * S));
    steps
        .into_iter()
        .find(|&st| span / st <= target)
        .unwrap_or_else(|| nice_step(span, target))
}

/// One series of the latency chart: a name and its sorted samples (ns).
pub struct Series<'a> {
    pub name: &'a str,
    pub sorted: &'a [u64],
}

/// Empirical CDFs of detection latency, one step line per detector, with the analytic
/// bounds (if any) as dashed lines.
pub fn latency_cdf(title: &str, series: &[Series], bounds: Option<(Option<u64>, u64)>) -> String {
    let mut o = String::new();
    header(&mut o, title, H);
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let mut lo = series
        .iter()
        .filter_map(|s| s.sorted.first())
        .min()
        .copied()
        .unwrap_or(0);
    let mut hi = series
        .iter()
        .filter_map(|s| s.sorted.last())
        .max()
        .copied()
        .unwrap_or(1);
    if let Some((bmin, bmax)) = bounds {
        lo = lo.min(bmin.unwrap_or(lo));
        hi = hi.max(bmax);
    }
    if series.iter().all(|s| s.sorted.is_empty()) {
        let _ = writeln!(
            o,
            r#"<text x="{}" y="{}">no crash was detected</text>"#,
            n(LEFT),
            n(TOP + ph / 2.0)
        );
        o.push_str("</svg>\n");
        return o;
    }
    // A flat sample (every crash seen after the same time) still gets a readable axis.
    let span = (hi - lo).max(hi / 10).max(1_000_000) as f64;
    let step = nice_time_step(span, 6.0);
    let x0 = (libm::floor(lo as f64 / step) * step)
        .min(lo as f64 - step / 2.0)
        .max(0.0);
    let x0 = libm::floor(x0 / step) * step;
    let x1 = libm::ceil(hi as f64 / step) * step;
    let x1 = if x1 <= hi as f64 { x1 + step } else { x1 };
    let sx = |v: f64| LEFT + (v - x0) / (x1 - x0) * pw;
    let sy = |p: f64| TOP + ph - p * ph;
    // Axes, ticks and grid.
    let _ = writeln!(
        o,
        r##"<g stroke="#999" stroke-width="1"><line x1="{l}" y1="{b}" x2="{r}" y2="{b}"/><line x1="{l}" y1="{t}" x2="{l}" y2="{b}"/></g>"##,
        l = n(LEFT),
        r = n(LEFT + pw),
        t = n(TOP),
        b = n(TOP + ph)
    );
    let mut v = x0;
    while v <= x1 + step / 2.0 {
        let x = sx(v);
        let _ = writeln!(
            o,
            r##"<line x1="{x}" y1="{t}" x2="{x}" y2="{b}" stroke="#eee"/><text x="{x}" y="{ty}" text-anchor="middle">{label}</text>"##,
            x = n(x),
            t = n(TOP),
            b = n(TOP + ph),
            ty = n(TOP + ph + 16.0),
            label = format_duration(v.max(0.0) as u64)
        );
        v += step;
    }
    for k in 0..=4 {
        let p = k as f64 / 4.0;
        let _ = writeln!(
            o,
            r##"<text x="{}" y="{}" text-anchor="end">{}%</text>"##,
            n(LEFT - 6.0),
            n(sy(p) + 4.0),
            k * 25
        );
    }
    let _ = writeln!(
        o,
        r#"<text x="{}" y="{}" text-anchor="middle">detection latency (crash → offline verdict)</text>"#,
        n(LEFT + pw / 2.0),
        n(H - 10.0)
    );
    // Analytic bounds.
    if let Some((bmin, bmax)) = bounds {
        for (b, label) in [(bmin, "analytic min"), (Some(bmax), "analytic max")] {
            if let Some(b) = b {
                let x = n(sx(b as f64));
                let _ = writeln!(
                    o,
                    r##"<line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="#555" stroke-dasharray="4 3"/><text x="{x}" y="{}" text-anchor="middle" fill="#555">{label}</text>"##,
                    n(TOP),
                    n(TOP + ph),
                    n(TOP - 4.0)
                );
            }
        }
    }
    // One step line per series (at most 400 steps, evenly thinned).
    for (i, s) in series.iter().enumerate() {
        if s.sorted.is_empty() {
            continue;
        }
        let colour = COLOURS[i % COLOURS.len()];
        let count = s.sorted.len();
        let stride = count.div_ceil(400);
        let mut points = format!("{},{}", n(sx(s.sorted[0] as f64)), n(sy(0.0)));
        let mut k = 0;
        while k < count {
            let idx = (k + stride - 1).min(count - 1);
            let x = n(sx(s.sorted[idx] as f64));
            let _ = write!(
                points,
                " {x},{} {x},{}",
                n(sy(k as f64 / count as f64)),
                n(sy((idx + 1) as f64 / count as f64))
            );
            k = idx + 1;
        }
        let _ = writeln!(
            o,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>"#
        );
        let ly = TOP + 10.0 + i as f64 * 18.0;
        let _ = writeln!(
            o,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{colour}" stroke-width="3"/><text x="{}" y="{}">{} (n = {count})</text>"#,
            n(W - RIGHT + 15.0),
            n(ly),
            n(W - RIGHT + 35.0),
            n(ly),
            n(W - RIGHT + 40.0),
            n(ly + 4.0),
            escape(s.name)
        );
    }
    o.push_str("</svg>\n");
    o
}

/// One client's row in the timeline.
pub struct Row {
    pub label: String,
    /// Intervals `[from, to)` during which the client was down.
    pub down: Vec<(u64, u64)>,
    /// Intervals during which a fault window (pause, partition, stall) touched it.
    pub faults: Vec<(u64, u64)>,
    /// Per detector, intervals during which it held the client offline, and whether each
    /// began while the client was up (a false positive).
    pub offline: Vec<Vec<(u64, u64, bool)>>,
}

/// A verdict timeline: ground truth (up or down), fault windows shaded, and each
/// detector's offline spans, false positives marked.
pub fn timeline(title: &str, detectors: &[&str], rows: &[Row], duration: u64) -> String {
    let lane = 10.0;
    let row_h = 14.0 + lane * detectors.len() as f64 + 10.0;
    let height = TOP + row_h * rows.len().max(1) as f64 + BOTTOM + 10.0;
    let mut o = String::new();
    header(&mut o, title, height);
    let pw = W - LEFT - RIGHT;
    let sx = |t: u64| LEFT + t as f64 / duration.max(1) as f64 * pw;
    let axis_y = TOP + row_h * rows.len().max(1) as f64;
    for (r, row) in rows.iter().enumerate() {
        let y = TOP + r as f64 * row_h;
        let _ = writeln!(
            o,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            n(LEFT - 6.0),
            n(y + 11.0),
            escape(&row.label)
        );
        let _ = writeln!(
            o,
            r##"<rect x="{}" y="{}" width="{}" height="10" fill="#9ad29a"/>"##,
            n(LEFT),
            n(y + 2.0),
            n(pw)
        );
        for &(a, b) in &row.down {
            let _ = writeln!(
                o,
                r##"<rect x="{}" y="{}" width="{}" height="10" fill="#777"/>"##,
                n(sx(a)),
                n(y + 2.0),
                n((sx(b) - sx(a)).max(1.0))
            );
        }
        for &(a, b) in &row.faults {
            let _ = writeln!(
                o,
                r##"<rect x="{}" y="{}" width="{}" height="{}" fill="#E69F00" fill-opacity="0.35"/>"##,
                n(sx(a)),
                n(y),
                n((sx(b) - sx(a)).max(1.0)),
                n(row_h - 6.0)
            );
        }
        for (d, spans) in row.offline.iter().enumerate() {
            let ly = y + 16.0 + d as f64 * lane;
            let colour = COLOURS[d % COLOURS.len()];
            for &(a, b, mistake) in spans {
                let _ = writeln!(
                    o,
                    r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{colour}"/>"#,
                    n(sx(a)),
                    n(ly),
                    n((sx(b) - sx(a)).max(1.5)),
                    n(lane - 3.0)
                );
                if mistake {
                    let _ = writeln!(
                        o,
                        r##"<path d="M{} {} l4 -6 l-8 0 z" fill="#D00"/>"##,
                        n(sx(a)),
                        n(ly)
                    );
                }
            }
        }
    }
    // Time axis.
    let step = nice_time_step(duration.max(1) as f64, 8.0);
    let mut v = 0.0;
    while v <= duration as f64 + 1.0 {
        let x = n(sx(v as u64));
        let _ = writeln!(
            o,
            r##"<line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="#999"/><text x="{x}" y="{}" text-anchor="middle">{}</text>"##,
            n(axis_y),
            n(axis_y + 4.0),
            n(axis_y + 18.0),
            format_duration(v as u64)
        );
        v += step;
    }
    // Legend: swatches (a fill colour, or None for the false-positive mark) and labels.
    let mut entries: Vec<(Option<&str>, String)> = vec![
        (Some("#9ad29a"), "client up".into()),
        (Some("#777"), "client down".into()),
        (Some("#E69F00"), "fault window".into()),
    ];
    for (d, name) in detectors.iter().enumerate() {
        entries.push((Some(COLOURS[d % COLOURS.len()]), format!("{name}: offline")));
    }
    entries.push((None, "false positive".into()));
    for (i, (fill, label)) in entries.iter().enumerate() {
        let ly = TOP + 10.0 + i as f64 * 18.0;
        match fill {
            Some(fill) => {
                let _ = write!(
                    o,
                    r#"<rect x="{}" y="{}" width="20" height="8" fill="{fill}"/>"#,
                    n(W - RIGHT + 15.0),
                    n(ly - 4.0)
                );
            }
            None => {
                let _ = write!(
                    o,
                    r##"<path d="M{} {} l4 -6 l-8 0 z" fill="#D00"/>"##,
                    n(W - RIGHT + 25.0),
                    n(ly + 2.0)
                );
            }
        }
        let _ = writeln!(
            o,
            r#"<text x="{}" y="{}">{}</text>"#,
            n(W - RIGHT + 40.0),
            n(ly + 4.0),
            escape(label)
        );
    }
    o.push_str("</svg>\n");
    o
}

/// Grouped horizontal bars: one block per group, one bar per detector.
pub fn group_bars(
    title: &str,
    unit: &str,
    detectors: &[&str],
    groups: &[(&str, Vec<Option<f64>>)],
) -> String {
    let bar = 14.0;
    let block = bar * detectors.len() as f64 + 12.0;
    let height = TOP + block * groups.len() as f64 + BOTTOM;
    let mut o = String::new();
    header(&mut o, title, height);
    // Wider left margin for group names, and room right of the bars for their values.
    let left = 130.0;
    let pw = W - left - RIGHT - 70.0;
    let max = groups
        .iter()
        .flat_map(|(_, v)| v.iter().flatten())
        .fold(0.0f64, |a, &b| a.max(b));
    let scale = if max > 0.0 { pw / max } else { 0.0 };
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
            let (width, label) = match v {
                Some(v) => (v * scale, format!("{v:.3}")),
                None => (0.0, "–".to_string()),
            };
            let _ = writeln!(
                o,
                r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{colour}"/><text x="{}" y="{}">{label}</text>"#,
                n(left),
                n(by),
                n(width),
                n(bar - 2.0),
                n(left + width + 4.0),
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
    for (d, name) in detectors.iter().enumerate() {
        let ly = TOP + 10.0 + d as f64 * 18.0;
        let _ = writeln!(
            o,
            r#"<rect x="{}" y="{}" width="20" height="8" fill="{}"/><text x="{}" y="{}">{}</text>"#,
            n(W - RIGHT + 15.0),
            n(ly - 4.0),
            COLOURS[d % COLOURS.len()],
            n(W - RIGHT + 40.0),
            n(ly + 4.0),
            escape(name)
        );
    }
    o.push_str("</svg>\n");
    o
}

/// One point of the sweep trade-off chart.
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub cost: f64,
    pub frontier: bool,
}

/// Latency (x) against false positives (y) for every sweep cell; the disc's shade and size
/// show the cost, and the Pareto frontier is joined by a line.
pub fn tradeoff(title: &str, x_label: &str, y_label: &str, points: &[Point]) -> String {
    let mut o = String::new();
    header(&mut o, title, H);
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let (mut x0, mut x1) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut y1, mut c0, mut c1) = (0.0f64, f64::INFINITY, f64::NEG_INFINITY);
    for p in points {
        x0 = x0.min(p.x);
        x1 = x1.max(p.x);
        y1 = y1.max(p.y);
        c0 = c0.min(p.cost);
        c1 = c1.max(p.cost);
    }
    if points.is_empty() {
        o.push_str("</svg>\n");
        return o;
    }
    let xstep = nice_time_step((x1 - x0).max(x1 / 10.0).max(1e6), 6.0);
    let x0 = (libm::floor(x0 / xstep) * xstep - xstep).max(0.0);
    let x1 = libm::ceil(x1 / xstep) * xstep + xstep;
    // False-positive rates span orders of magnitude: a log scale over 1 + y keeps 0.
    let decades = libm::ceil(libm::log10(1.0 + y1)).max(1.0);
    let sx = |v: f64| LEFT + (v - x0) / (x1 - x0) * pw;
    let sy = |v: f64| TOP + ph - libm::log10(1.0 + v) / decades * ph;
    let _ = writeln!(
        o,
        r##"<g stroke="#999"><line x1="{l}" y1="{b}" x2="{r}" y2="{b}"/><line x1="{l}" y1="{t}" x2="{l}" y2="{b}"/></g>"##,
        l = n(LEFT),
        r = n(LEFT + pw),
        t = n(TOP),
        b = n(TOP + ph)
    );
    let mut v = x0;
    while v <= x1 + xstep / 2.0 {
        let _ = writeln!(
            o,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            n(sx(v)),
            n(TOP + ph + 16.0),
            format_duration(v as u64)
        );
        v += xstep;
    }
    for k in 0..=decades as i32 {
        let v = if k == 0 {
            0.0
        } else {
            libm::pow(10.0, k as f64)
        };
        let _ = writeln!(
            o,
            r##"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="#eee"/><text x="{}" y="{}" text-anchor="end">{}</text>"##,
            n(LEFT),
            n(LEFT + pw),
            n(LEFT - 6.0),
            n(sy(v) + 4.0),
            n(v),
            y = n(sy(v))
        );
    }
    let _ = writeln!(
        o,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text><text x="14" y="{}" transform="rotate(-90 14 {})" text-anchor="middle">{}</text>"#,
        n(LEFT + pw / 2.0),
        n(H - 10.0),
        escape(x_label),
        n(TOP + ph / 2.0),
        n(TOP + ph / 2.0),
        escape(y_label)
    );
    // The line joins the points no other point beats in both latency and false positives.
    let mut frontier: Vec<&Point> = points
        .iter()
        .filter(|p| {
            !points
                .iter()
                .any(|q| q.x <= p.x && q.y <= p.y && (q.x < p.x || q.y < p.y))
        })
        .collect();
    frontier.sort_by(|a, b| a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y)));
    if frontier.len() > 1 {
        let pts: Vec<String> = frontier
            .iter()
            .map(|p| format!("{},{}", n(sx(p.x)), n(sy(p.y))))
            .collect();
        let _ = writeln!(
            o,
            r##"<polyline fill="none" stroke="#D55E00" stroke-width="1.5" stroke-dasharray="5 3" points="{}"/>"##,
            pts.join(" ")
        );
    }
    for p in points {
        let t = if c1 > c0 {
            (p.cost - c0) / (c1 - c0)
        } else {
            0.5
        };
        let grey = 200.0 - 170.0 * t;
        let _ = writeln!(
            o,
            r##"<circle cx="{}" cy="{}" r="{}" fill="rgb({g},{g},{g})" stroke="{}" stroke-width="{}"/>"##,
            n(sx(p.x)),
            n(sy(p.y)),
            n(4.0 + 6.0 * t),
            if p.frontier { "#D55E00" } else { "#333" },
            if p.frontier { "2" } else { "0.5" },
            g = n(grey)
        );
    }
    let legend = [
        "disc: cost, darker and",
        "larger = more bytes",
        "orange ring: Pareto-",
        "optimal with cost",
        "dashed: latency/FP",
        "frontier",
    ];
    for (i, l) in legend.iter().enumerate() {
        let _ = writeln!(
            o,
            r#"<text x="{}" y="{}" font-size="11">{}</text>"#,
            n(W - RIGHT + 10.0),
            n(TOP + 10.0 + i as f64 * 16.0),
            escape(l)
        );
    }
    o.push_str("</svg>\n");
    o
}

/// A heatmap of one figure over two swept parameters (`values[row][column]`).
pub fn heatmap(
    title: &str,
    x_name: &str,
    y_name: &str,
    x_labels: &[String],
    y_labels: &[String],
    values: &[Vec<Option<f64>>],
) -> String {
    let mut o = String::new();
    let cell_h = 26.0;
    let height = TOP + cell_h * y_labels.len() as f64 + BOTTOM + 26.0;
    header(&mut o, title, height);
    let pw = W - LEFT - RIGHT;
    let cw = pw / x_labels.len().max(1) as f64;
    let max = values
        .iter()
        .flatten()
        .flatten()
        .fold(0.0f64, |a, &b| a.max(b));
    for (r, row) in values.iter().enumerate() {
        let y = TOP + r as f64 * cell_h;
        let _ = writeln!(
            o,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            n(LEFT - 6.0),
            n(y + cell_h / 2.0 + 4.0),
            escape(&y_labels[r])
        );
        for (c, v) in row.iter().enumerate() {
            let x = LEFT + c as f64 * cw;
            let (fill, label) = match v {
                Some(v) => {
                    let t = if max > 0.0 {
                        libm::log10(1.0 + v) / libm::log10(1.0 + max)
                    } else {
                        0.0
                    };
                    let g = 245.0 - 200.0 * t;
                    (format!("rgb(255,{},{})", n(g), n(g)), format!("{v:.3}"))
                }
                None => ("#eee".to_string(), "–".to_string()),
            };
            let _ = writeln!(
                o,
                r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{fill}" stroke="white"/><text x="{}" y="{}" text-anchor="middle" font-size="11">{label}</text>"#,
                n(x),
                n(y),
                n(cw),
                n(cell_h),
                n(x + cw / 2.0),
                n(y + cell_h / 2.0 + 4.0)
            );
        }
    }
    let by = TOP + cell_h * y_labels.len() as f64;
    for (c, l) in x_labels.iter().enumerate() {
        let _ = writeln!(
            o,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            n(LEFT + c as f64 * cw + cw / 2.0),
            n(by + 16.0),
            escape(l)
        );
    }
    let _ = writeln!(
        o,
        r#"<text x="{}" y="{}" text-anchor="middle">columns: {}</text><text x="{}" y="{}" text-anchor="middle">rows: {}</text>"#,
        n(LEFT + pw / 2.0),
        n(by + 34.0),
        escape(x_name),
        n(LEFT + pw / 2.0),
        n(by + 50.0),
        escape(y_name)
    );
    o.push_str("</svg>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_well_formed_and_deterministic() {
        let a = [2_000_000_000u64, 3_000_000_000, 4_000_000_000];
        let s = latency_cdf(
            "t",
            &[Series {
                name: "d<1>",
                sorted: &a,
            }],
            Some((Some(1_500_000_000), 4_500_000_000)),
        );
        assert!(s.starts_with("<svg") && s.ends_with("</svg>\n"));
        assert!(s.contains("d&lt;1&gt; (n = 3)"));
        assert!(s.contains("analytic max"));
        assert_eq!(
            s,
            latency_cdf(
                "t",
                &[Series {
                    name: "d<1>",
                    sorted: &a
                }],
                Some((Some(1_500_000_000), 4_500_000_000))
            )
        );
        let rows = [Row {
            label: "g[0]".into(),
            down: vec![(10, 20)],
            faults: vec![(5, 6)],
            offline: vec![vec![(12, 25, false), (30, 31, true)]],
        }];
        let t = timeline("t", &["d"], &rows, 100);
        assert_eq!(
            t.matches("fill=\"#D00\"").count(),
            2,
            "one mistake plus the legend"
        );
        let b = group_bars(
            "t",
            "per client-day",
            &["d"],
            &[("a", vec![Some(2.0)]), ("b", vec![None])],
        );
        assert!(b.contains(">2.000<") && b.contains(">–<"));
        assert_eq!(nice_step(7.0, 6.0), 2.0);
        assert_eq!(n(1.25), "1.3");
    }
}
