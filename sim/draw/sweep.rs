//! A sweep's pictures: the trade-off of every cell and the heatmap over two swept
//! parameters, in the same deterministic SVG as `svg`.

use super::svg::{
    escape, header, legend_margin, n, text_w, FpAxis, TimeAxis, BOTTOM, H, LEFT, TOP, W,
};
use crate::base::human;
use std::fmt::Write as _;

/// One point of the sweep trade-off chart.
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub cost: f64,
    pub frontier: bool,
    /// The cell's settings in a few words ("2s/20s"), written beside frontier points.
    pub label: String,
    /// Whether the cell meets the scenario's `expect` targets (`None`: it has none).
    pub meets: Option<bool>,
}

/// Latency (x) against false positives (y) for every sweep cell; the disc's shade and size
/// show the cost, the Pareto frontier is joined by a line and its points labelled with
/// their settings, and cells that meet the scenario's targets are ringed in green.
pub fn tradeoff(title: &str, x_label: &str, y_label: &str, points: &[Point]) -> String {
    let mut o = String::new();
    header(&mut o, title, H);
    let legend_lines = [
        "disc: darker and larger",
        "  = more bytes",
        "orange ring: Pareto-",
        "  optimal with cost",
        "dashed: latency/FP frontier",
        "green ring: meets targets",
    ];
    let right = legend_margin(legend_lines.iter().map(|s| s.to_string()));
    let left = LEFT + 10.0;
    let pw = W - left - right;
    let ph = H - TOP - BOTTOM;
    if points.is_empty() {
        o.push_str("</svg>\n");
        return o;
    }
    let (mut x0, mut x1, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, 0.0f64);
    let (mut c0, mut c1) = (f64::INFINITY, f64::NEG_INFINITY);
    for p in points {
        x0 = x0.min(p.x);
        x1 = x1.max(p.x);
        y1 = y1.max(p.y);
        c0 = c0.min(p.cost);
        c1 = c1.max(p.cost);
    }
    let pad = ((x1 - x0) / 10.0).max(x1 / 20.0).max(1e6);
    let axis = TimeAxis::new((x0 - pad).max(0.0), x1 + pad, pw);
    let sx = |v: f64| left + (v - axis.lo) / (axis.hi - axis.lo) * pw;
    let fy = FpAxis::new(y1);
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
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text><text x="16" y="{}" transform="rotate(-90 16 {})" text-anchor="middle">{}</text>"#,
        n(left + pw / 2.0),
        n(H - 12.0),
        escape(&axis.title(x_label)),
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
        let r = 4.0 + 6.0 * t;
        if p.meets == Some(true) {
            let _ = writeln!(
                o,
                r##"<circle cx="{}" cy="{}" r="{}" fill="none" stroke="#009E73" stroke-width="2.5"/>"##,
                n(sx(p.x)),
                n(sy(p.y)),
                n(r + 3.5)
            );
        }
        let _ = writeln!(
            o,
            r##"<circle cx="{}" cy="{}" r="{}" fill="rgb({g},{g},{g})" stroke="{}" stroke-width="{}"/>"##,
            n(sx(p.x)),
            n(sy(p.y)),
            n(r),
            if p.frontier { "#D55E00" } else { "#333" },
            if p.frontier { "2" } else { "0.5" },
            g = n(grey)
        );
    }
    // Frontier labels, pushed apart vertically so that none overlaps another; a label
    // that would land far from its point or below the plot is left out (a crowded
    // frontier keeps every other label readable).
    let mut last_y = f64::NEG_INFINITY;
    let mut labelled: Vec<&Point> = points.iter().filter(|p| p.frontier).collect();
    labelled.sort_by(|a, b| sy(a.y).total_cmp(&sy(b.y)).then(a.x.total_cmp(&b.x)));
    for p in labelled {
        let want = sy(p.y);
        let y = want.max(last_y + 13.0);
        if y - want > 16.0 || y > TOP + ph + 4.0 {
            continue;
        }
        last_y = y;
        let x = sx(p.x);
        let w = text_w(&p.label, 10.0);
        let (lx, anchor) = if x + 12.0 + w <= left + pw {
            (x + 12.0, "start")
        } else {
            (x - 12.0, "end")
        };
        let _ = writeln!(
            o,
            r##"<text x="{}" y="{}" font-size="10" fill="#8a3b00" text-anchor="{anchor}">{}</text>"##,
            n(lx),
            n(y + 3.5),
            escape(&p.label)
        );
    }
    for (i, l) in legend_lines.iter().enumerate() {
        let _ = writeln!(
            o,
            r#"<text x="{}" y="{}" font-size="11">{}</text>"#,
            n(W - right + 10.0),
            n(TOP + 10.0 + i as f64 * 16.0),
            escape(l)
        );
    }
    o.push_str("</svg>\n");
    o
}

/// A heatmap of one figure over two swept parameters (`values[row][column]`), with a
/// colour bar and the parameters' names on the axes.
pub fn heatmap(
    title: &str,
    figure: &str,
    x_name: &str,
    y_name: &str,
    x_labels: &[String],
    y_labels: &[String],
    values: &[Vec<Option<f64>>],
) -> String {
    let mut o = String::new();
    let cell_h = 26.0;
    let height = (TOP + cell_h * y_labels.len() as f64 + BOTTOM + 20.0).max(TOP + 200.0);
    header(&mut o, title, height);
    let left = y_labels
        .iter()
        .map(|l| text_w(l, 12.0))
        .fold(30.0, f64::max)
        + 40.0;
    let right = 120.0;
    let pw = W - left - right;
    let cw = pw / x_labels.len().max(1) as f64;
    let max = values
        .iter()
        .flatten()
        .flatten()
        .fold(0.0f64, |a, &b| a.max(b));
    let shade = |v: f64| {
        let t = if max > 0.0 {
            libm::log10(1.0 + v) / libm::log10(1.0 + max)
        } else {
            0.0
        };
        let g = 245.0 - 200.0 * t;
        format!("rgb(255,{},{})", n(g), n(g))
    };
    let fmt = human::NumFormat::fit(values.iter().flatten().flatten().copied());
    for (r, row) in values.iter().enumerate() {
        let y = TOP + r as f64 * cell_h;
        let _ = writeln!(
            o,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            n(left - 6.0),
            n(y + cell_h / 2.0 + 4.0),
            escape(&y_labels[r])
        );
        for (c, v) in row.iter().enumerate() {
            let x = left + c as f64 * cw;
            let (fill, label) = match v {
                Some(v) => (shade(*v), fmt.show(*v)),
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
            n(left + c as f64 * cw + cw / 2.0),
            n(by + 16.0),
            escape(l)
        );
    }
    let _ = writeln!(
        o,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text><text x="16" y="{y}" transform="rotate(-90 16 {y})" text-anchor="middle">{}</text>"#,
        n(left + pw / 2.0),
        n(by + 36.0),
        escape(x_name),
        escape(y_name),
        y = n(TOP + cell_h * y_labels.len() as f64 / 2.0)
    );
    // The colour bar: the scale from 0 to the largest value, with 0, the middle and the top.
    let (bx, bh) = (
        W - right + 30.0,
        (cell_h * y_labels.len() as f64).max(120.0),
    );
    let steps = 20;
    // The shade is logarithmic in 1 + v: the bar's fraction t from the bottom is
    // (1 + max)^t - 1.
    let at = |t: f64| libm::pow(1.0 + max, t) - 1.0;
    for k in 0..steps {
        let v0 = at(1.0 - k as f64 / (steps - 1) as f64);
        let _ = writeln!(
            o,
            r#"<rect x="{}" y="{}" width="16" height="{}" fill="{}"/>"#,
            n(bx),
            n(TOP + k as f64 * bh / steps as f64),
            n(bh / steps as f64 + 0.5),
            shade(v0)
        );
    }
    let bar_fmt = human::NumFormat::fit([max]);
    for (frac, v) in [(0.0, max), (0.5, at(0.5)), (1.0, 0.0)] {
        let _ = writeln!(
            o,
            r#"<text x="{}" y="{}" font-size="11">{}</text>"#,
            n(bx + 20.0),
            n(TOP + frac * bh + 4.0),
            bar_fmt.show(v)
        );
    }
    let _ = writeln!(
        o,
        r#"<text x="{}" y="{}" font-size="11">{}</text>"#,
        n(bx - 10.0),
        n(TOP + bh + 18.0),
        escape(figure)
    );
    o.push_str("</svg>\n");
    o
}
