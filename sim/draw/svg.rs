//! Pictures as SVG text with deterministic bytes: the detection-latency distribution
//! (empirical CDF per detector, with the analytic bounds marked), a verdict timeline for a
//! few clients against ground truth, and per-group bars for multi-group scenarios.
//!
//! A small writer of its own rather than a plotting crate: three fixed chart shapes need
//! a few dozen lines of SVG, every number is formatted by one function with fixed
//! precision, and no font metrics, system fonts or floating-point layout engine can change
//! the bytes between machines.

pub use super::sweep::{heatmap, tradeoff, Point};
pub use super::timeline::{group_bars, timeline, GroupBars, Panel, Row, ServerLane};
use crate::base::human::{self, TimeUnit};
use std::fmt::Write as _;

pub(super) const W: f64 = 720.0;
pub(super) const H: f64 = 360.0;
pub(super) const LEFT: f64 = 70.0;
pub(super) const TOP: f64 = 40.0;
pub(super) const BOTTOM: f64 = 50.0;
/// Colour-blind-safe series colours: Okabe–Ito's without its black (black marks
/// heartbeat arrivals, crashes and clock steps in the timeline) and its yellow (too pale
/// on white), then Tol's wine.
pub(super) const COLOURS: [&str; 7] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#882255",
];

/// Fixed-precision coordinate.
pub(super) fn n(x: f64) -> String {
    let v = (x * 10.0).round() / 10.0;
    if v == v.trunc() {
        format!("{}", v as i64)
    } else {
        format!("{v:.1}")
    }
}

pub(super) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub(super) fn header(o: &mut String, title: &str, height: f64) {
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

/// The width of `text` at `size` px in a sans-serif face, estimated generously (0.62 em
/// a character) so that nothing measured with it is cut.
pub(super) fn text_w(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.62
}

/// A time axis: its unit, its range and tick step in nanoseconds, and the decimals that
/// write every tick exactly.
pub(super) struct TimeAxis {
    unit: TimeUnit,
    pub(super) lo: f64,
    pub(super) hi: f64,
    step: f64,
    decimals: usize,
}

impl TimeAxis {
    /// An axis over `[lo, hi]` ns for `width` px whose tick labels never collide.
    pub(super) fn new(lo: f64, hi: f64, width: f64) -> Self {
        let span = (hi - lo).max(1.0);
        let mut target = 8.0;
        loop {
            let step = nice_time_step(span, target);
            let a_lo = libm::floor(lo / step) * step;
            let a_hi = libm::ceil(hi / step) * step;
            let a_hi = if a_hi <= a_lo { a_lo + step } else { a_hi };
            // The unit of the largest tick, unless the step is no short decimal in it (10 s
            // is 0.1667 min): then the step's own unit.
            let exact = |unit: TimeUnit| {
                let per = step / unit.ns as f64;
                (0..=3).find(|&d| {
                    let k = libm::pow(10.0, d as f64);
                    libm::fabs(per * k - libm::round(per * k)) <= 1e-6
                })
            };
            let wide = human::time_unit(a_hi.abs().max(a_lo.abs()) as u64);
            let (unit, decimals) = match exact(wide) {
                Some(d) => (wide, d),
                None => {
                    let own = human::time_unit(step as u64);
                    (own, exact(own).unwrap_or(3))
                }
            };
            let axis = TimeAxis {
                unit,
                lo: a_lo,
                hi: a_hi,
                step,
                decimals,
            };
            let ticks = ((a_hi - a_lo) / step) as usize + 1;
            let widest = axis
                .ticks()
                .iter()
                .map(|(_, l)| text_w(l, 12.0))
                .fold(0.0, f64::max);
            if target <= 2.0 || width / ticks.max(1) as f64 >= widest + 10.0 {
                return axis;
            }
            target -= 1.0;
        }
    }

    /// `(ns, label)` of every tick, labels as plain numbers in the axis unit.
    pub(super) fn ticks(&self) -> Vec<(f64, String)> {
        let mut out = Vec::new();
        let mut k = 0.0;
        loop {
            let v = self.lo + k * self.step;
            if v > self.hi + self.step / 2.0 {
                return out;
            }
            let x = v / self.unit.ns as f64;
            let s = format!("{:.*}", self.decimals, x);
            out.push((
                v,
                if s.starts_with('-') && x == 0.0 {
                    s[1..].to_string()
                } else {
                    s
                },
            ));
            k += 1.0;
        }
    }

    /// The axis title with its unit: `detection latency (s)`.
    pub(super) fn title(&self, what: &str) -> String {
        format!("{what} ({})", self.unit.symbol)
    }
}

/// A legend of swatches at the right of a chart, one line each; returns nothing, draws at
/// `x`.
pub(super) fn legend(o: &mut String, x: f64, top: f64, entries: &[(String, String)]) {
    for (i, (colour, label)) in entries.iter().enumerate() {
        let ly = top + 10.0 + i as f64 * 18.0;
        let _ = writeln!(
            o,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{colour}" stroke-width="3"/><text x="{}" y="{}">{}</text>"#,
            n(x),
            n(ly),
            n(x + 20.0),
            n(ly),
            n(x + 25.0),
            n(ly + 4.0),
            escape(label)
        );
    }
}

/// The right margin that fits the widest legend label.
pub(super) fn legend_margin(labels: impl Iterator<Item = String>) -> f64 {
    (labels.map(|l| text_w(&l, 12.0)).fold(0.0, f64::max) + 45.0).clamp(120.0, 330.0)
}

/// One series of the latency chart: a name and its sorted samples (ns).
pub struct Series<'a> {
    pub name: &'a str,
    pub sorted: &'a [u64],
}

/// Analytic bounds of one detector's latency, drawn as dashed lines labelled with it.
pub struct Bounds<'a> {
    pub detector: &'a str,
    pub min: Option<u64>,
    pub max: u64,
}

/// Below this many detected crashes a series is drawn as dots with its p50 and p99
/// marked, not as a curve of a few steps.
const FEW: usize = 20;

/// Empirical CDFs of detection latency, one step line per detector (dots when it has few
/// samples), with the analytic bounds of each detector that has them as dashed lines.
pub fn latency_cdf(title: &str, series: &[Series], bounds: &[Bounds]) -> String {
    let mut o = String::new();
    header(&mut o, title, H);
    let labels: Vec<String> = series
        .iter()
        .map(|s| format!("{} (n = {})", s.name, s.sorted.len()))
        .collect();
    let right = legend_margin(labels.iter().cloned());
    let left = LEFT + 10.0;
    let pw = W - left - right;
    let ph = H - TOP - BOTTOM;
    let lo = series
        .iter()
        .filter_map(|s| s.sorted.first())
        .min()
        .copied();
    let hi = series.iter().filter_map(|s| s.sorted.last()).max().copied();
    let (Some(mut lo), Some(mut hi)) = (lo, hi) else {
        let _ = writeln!(
            o,
            r#"<text x="{}" y="{}">no crash was detected</text>"#,
            n(left),
            n(TOP + ph / 2.0)
        );
        o.push_str("</svg>\n");
        return o;
    };
    for b in bounds {
        lo = lo.min(b.min.unwrap_or(lo));
        hi = hi.max(b.max);
    }
    // A flat sample (every crash seen after the same time) still gets a readable axis.
    let pad = ((hi - lo) / 20).max(hi / 50).max(1_000_000);
    let axis = TimeAxis::new(lo.saturating_sub(pad) as f64, (hi + pad) as f64, pw);
    let (x0, x1) = (axis.lo, axis.hi);
    let sx = |v: f64| left + (v - x0) / (x1 - x0) * pw;
    let sy = |p: f64| TOP + ph - p * ph;
    let _ = writeln!(
        o,
        r##"<g stroke="#999" stroke-width="1"><line x1="{l}" y1="{b}" x2="{r}" y2="{b}"/><line x1="{l}" y1="{t}" x2="{l}" y2="{b}"/></g>"##,
        l = n(left),
        r = n(left + pw),
        t = n(TOP),
        b = n(TOP + ph)
    );
    for (v, label) in axis.ticks() {
        let x = n(sx(v));
        let _ = writeln!(
            o,
            r##"<line x1="{x}" y1="{t}" x2="{x}" y2="{b}" stroke="#eee"/><text x="{x}" y="{ty}" text-anchor="middle">{label}</text>"##,
            t = n(TOP),
            b = n(TOP + ph),
            ty = n(TOP + ph + 16.0),
        );
    }
    for k in 0..=4 {
        let p = k as f64 / 4.0;
        let _ = writeln!(
            o,
            r##"<text x="{}" y="{}" text-anchor="end">{}</text>"##,
            n(left - 6.0),
            n(sy(p) + 4.0),
            k * 25
        );
    }
    let _ = writeln!(
        o,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text><text x="16" y="{y}" transform="rotate(-90 16 {y})" text-anchor="middle">crashes detected (%)</text>"#,
        n(left + pw / 2.0),
        n(H - 12.0),
        escape(&axis.title("detection latency, crash to offline verdict")),
        y = n(TOP + ph / 2.0)
    );
    // Analytic bounds, labelled with their detector, staggered so labels never overlap.
    let mut row = 0.0;
    for b in bounds {
        for (v, what) in [(b.min, "min"), (Some(b.max), "max")] {
            if let Some(v) = v {
                let x = n(sx(v as f64));
                let _ = writeln!(
                    o,
                    r##"<line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="#555" stroke-dasharray="4 3"/><text x="{x}" y="{}" text-anchor="middle" fill="#555" font-size="11">{} {what}</text>"##,
                    n(TOP),
                    n(TOP + ph),
                    n(TOP - 4.0 - row),
                    escape(b.detector)
                );
                row = if row > 0.0 { 0.0 } else { 11.0 };
            }
        }
    }
    for (i, s) in series.iter().enumerate() {
        if s.sorted.is_empty() {
            continue;
        }
        let colour = COLOURS[i % COLOURS.len()];
        let count = s.sorted.len();
        if count < FEW {
            for (k, &v) in s.sorted.iter().enumerate() {
                let _ = writeln!(
                    o,
                    r#"<circle cx="{}" cy="{}" r="4" fill="{colour}" fill-opacity="0.8"/>"#,
                    n(sx(v as f64)),
                    n(sy((k + 1) as f64 / count as f64))
                );
            }
            // p50 and p99 (nearest rank) as short marks under the plot's top edge.
            for (q, label) in [((50, 100), "p50"), ((99, 100), "p99")] {
                let rank = (count * q.0).div_ceil(q.1).max(1);
                let x = n(sx(s.sorted[rank - 1] as f64));
                let y = TOP + 4.0 + i as f64 * 12.0;
                let _ = writeln!(
                    o,
                    r#"<line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="{colour}" stroke-width="2"/><text x="{x}" y="{}" font-size="10" fill="{colour}" dx="3">{label}</text>"#,
                    n(y),
                    n(y + 9.0),
                    n(y + 8.0)
                );
            }
            continue;
        }
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
    }
    let entries: Vec<(String, String)> = labels
        .into_iter()
        .enumerate()
        .map(|(i, l)| (COLOURS[i % COLOURS.len()].to_string(), l))
        .collect();
    legend(&mut o, W - right + 15.0, TOP, &entries);
    o.push_str("</svg>\n");
    o
}

/// One detector of a run's trade-off chart.
pub struct DetectorPoint {
    pub label: String,
    pub p99_ns: u64,
    pub p99_ci_ns: Option<[u64; 2]>,
    pub fp: f64,
    pub fp_ci: Option<[f64; 2]>,
}

/// False positives (y) on a log scale over 1 + y, so that zero stays on the chart.
pub(super) struct FpAxis {
    decades: f64,
}

impl FpAxis {
    pub(super) fn new(max: f64) -> Self {
        FpAxis {
            decades: libm::ceil(libm::log10(1.0 + max)).max(1.0),
        }
    }

    pub(super) fn y(&self, v: f64, top: f64, ph: f64) -> f64 {
        top + ph - libm::log10(1.0 + v.max(0.0)) / self.decades * ph
    }

    /// Grid lines and labels at 0, 1, 10, 100 …
    pub(super) fn draw(&self, o: &mut String, left: f64, pw: f64, top: f64, ph: f64) {
        for k in 0..=self.decades as i32 {
            let v = if k == 0 {
                0.0
            } else {
                libm::pow(10.0, k as f64)
            };
            let _ = writeln!(
                o,
                r##"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="#eee"/><text x="{}" y="{}" text-anchor="end">{}</text>"##,
                n(left),
                n(left + pw),
                n(left - 6.0),
                n(self.y(v, top, ph) + 4.0),
                v as u64,
                y = n(self.y(v, top, ph))
            );
        }
    }
}

/// A run's detectors as points of p99 detection latency against spurious false positives
/// per client-day, with interval whiskers, each labelled with its name and settings.
pub fn detector_tradeoff(title: &str, points: &[DetectorPoint]) -> String {
    let mut o = String::new();
    header(&mut o, title, H);
    let left = LEFT + 10.0;
    let right = 30.0;
    let pw = W - left - right;
    let ph = H - TOP - BOTTOM;
    let hi = points
        .iter()
        .map(|p| p.p99_ci_ns.map_or(p.p99_ns, |c| c[1].max(p.p99_ns)))
        .max()
        .unwrap_or(1);
    let lo = points
        .iter()
        .map(|p| p.p99_ci_ns.map_or(p.p99_ns, |c| c[0].min(p.p99_ns)))
        .min()
        .unwrap_or(0);
    let axis = TimeAxis::new(0.0f64.min(lo as f64), hi as f64 * 1.1 + 1e6, pw);
    let sx = |v: f64| left + (v - axis.lo) / (axis.hi - axis.lo) * pw;
    let fmax = points
        .iter()
        .map(|p| p.fp_ci.map_or(p.fp, |c| c[1].max(p.fp)))
        .fold(0.0, f64::max);
    let fy = FpAxis::new(fmax);
    let sy = |v: f64| fy.y(v, TOP, ph);
    let _ = writeln!(
        o,
        r##"<g stroke="#999"><line x1="{l}" y1="{b}" x2="{r}" y2="{b}"/><line x1="{l}" y1="{t}" x2="{l}" y2="{b}"/></g>"##,
        l = n(left),
        r = n(left + pw),
        t = n(TOP),
        b = n(TOP + ph)
    );
    for (v, label) in axis.ticks() {
        let _ = writeln!(
            o,
            r#"<text x="{}" y="{}" text-anchor="middle">{label}</text>"#,
            n(sx(v)),
            n(TOP + ph + 16.0)
        );
    }
    fy.draw(&mut o, left, pw, TOP, ph);
    let _ = writeln!(
        o,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text><text x="16" y="{y}" transform="rotate(-90 16 {y})" text-anchor="middle">spurious false positives per client-day</text>"#,
        n(left + pw / 2.0),
        n(H - 12.0),
        escape(&axis.title("p99 detection latency")),
        y = n(TOP + ph / 2.0)
    );
    // Labels placed top to bottom, pushed apart so that none overlaps another.
    let mut order: Vec<usize> = (0..points.len()).collect();
    // Lowest point first; labels that would collide move up, never below the axis.
    order.sort_by(|&a, &b| {
        sy(points[b].fp)
            .total_cmp(&sy(points[a].fp))
            .then(a.cmp(&b))
    });
    let mut last_y = f64::INFINITY;
    let mut label_y = vec![0.0; points.len()];
    for &i in &order {
        let y = sy(points[i].fp).min(last_y - 14.0);
        label_y[i] = y;
        last_y = y;
    }
    for (i, p) in points.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let (x, y) = (sx(p.p99_ns as f64), sy(p.fp));
        if let Some([a, b]) = p.p99_ci_ns {
            let _ = writeln!(
                o,
                r#"<path d="M{} {y} H{} M{} {} v6 M{} {} v6" stroke="{colour}" fill="none"/>"#,
                n(sx(a as f64)),
                n(sx(b as f64)),
                n(sx(a as f64)),
                n(y - 3.0),
                n(sx(b as f64)),
                n(y - 3.0),
                y = n(y)
            );
        }
        if let Some([a, b]) = p.fp_ci {
            let _ = writeln!(
                o,
                r#"<path d="M{x} {} V{} M{} {} h6 M{} {} h6" stroke="{colour}" fill="none"/>"#,
                n(sy(a)),
                n(sy(b)),
                n(x - 3.0),
                n(sy(a)),
                n(x - 3.0),
                n(sy(b)),
                x = n(x)
            );
        }
        let _ = writeln!(
            o,
            r#"<circle cx="{}" cy="{}" r="5" fill="{colour}"/>"#,
            n(x),
            n(y)
        );
        // Right of the point, or left of it when the label would leave the chart.
        let w = text_w(&p.label, 11.0);
        let (lx, anchor) = if x + 9.0 + w <= W - 4.0 {
            (x + 9.0, "start")
        } else {
            (x - 9.0, "end")
        };
        let _ = writeln!(
            o,
            r#"<text x="{}" y="{}" font-size="11" text-anchor="{anchor}">{}</text>"#,
            n(lx),
            n(label_y[i] + 4.0),
            escape(&p.label)
        );
    }
    o.push_str("</svg>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_well_formed_and_deterministic() {
        let a = [2_000_000_000u64, 3_000_000_000, 4_000_000_000];
        let draw = || {
            latency_cdf(
                "t",
                &[Series {
                    name: "d<1>",
                    sorted: &a,
                }],
                &[Bounds {
                    detector: "d<1>",
                    min: Some(1_500_000_000),
                    max: 4_500_000_000,
                }],
            )
        };
        let s = draw();
        assert!(s.starts_with("<svg") && s.ends_with("</svg>\n"));
        assert!(s.contains("d&lt;1&gt; (n = 3)"));
        assert!(s.contains("d&lt;1&gt; max"));
        // Few samples: dots and their p50 and p99 marks, no curve.
        assert_eq!(s.matches("<circle").count(), 3);
        assert!(s.contains(">p50<") && s.contains(">p99<") && !s.contains("<polyline"));
        // The unit in the axis title, plain numbers on the ticks.
        assert!(s.contains("detection latency, crash to offline verdict (s)"));
        assert!(s.contains(">2.5<") && !s.contains(" s<"));
        assert_eq!(s, draw());
        let rows = [Row {
            label: "g[0]".into(),
            down: vec![(10, 20)],
            faults: vec![(5, 6)],
            offline: vec![vec![(12, 25, false), (30, 31, true)]],
            arrivals: vec![],
        }];
        let t = timeline("t", &["d"], &rows, 100, &ServerLane::default(), &[]);
        assert_eq!(t.matches("fill=\"#D00\"").count(), 1, "one mistake");
        assert!(t.contains("fault window") && !t.contains(">server<"));
        let b = group_bars(
            "t",
            "per client-day",
            &["d"],
            &[("a", vec![Some((2.0, 1.0))]), ("b", vec![None])],
        );
        assert!(
            b.contains(">3.00 (1.00 during faults)<") && b.contains(">–<"),
            "{b}"
        );
        assert_eq!(nice_step(7.0, 6.0), 2.0);
        assert_eq!(n(1.25), "1.3");
    }

    #[test]
    fn time_axes_use_one_unit_and_ticks_that_fit() {
        let a = TimeAxis::new(0.0, 3_600e9, 500.0);
        assert_eq!(a.unit.symbol, "min");
        let t = a.ticks();
        assert_eq!(t.first().unwrap().1, "0");
        assert_eq!(t.last().unwrap().1, "60");
        for w in t.windows(2) {
            let gap = 500.0 / (t.len() as f64);
            assert!(gap >= text_w(&w[1].1, 12.0) + 10.0);
        }
        let b = TimeAxis::new(2.9e9, 4.1e9, 500.0);
        assert_eq!(b.unit.symbol, "s");
        assert!(b.ticks().iter().any(|(_, l)| l == "3.4"), "{:?}", b.ticks());
    }
}
