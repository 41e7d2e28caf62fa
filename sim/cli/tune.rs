//! `hbsim tune SCENARIO --target METRIC<=VALUE ...`: find the cheapest heartbeat setting
//! (interval, threshold, and scan interval where the detector scans) that meets every
//! target, on a coarse geometric grid refined by bisection near the feasibility boundary.

use crate::{write_atomically, Failure, TuneArgs};
use hbsim::base::time::{format_duration_spec, parse_duration};
use hbsim::scenario::expect::{self, evaluate, show_value, Bound, Expectation, Unit};
use hbsim::study::sweep::apply;
use hbsim::{Limits, Report};
use rayon::prelude::*;
use serde_json::{json, Value};

/// Rounds to whole milliseconds (at least 1 ms), so recommendations read well.
fn ms(ns: f64) -> u64 {
    (libm::round(ns / 1e6) as u64).max(1) * 1_000_000
}

fn fail(code: u8, message: String) -> Failure {
    Failure { code, message }
}

/// A candidate setting, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Setting {
    interval: u64,
    threshold: u64,
    scan: Option<u64>,
}

/// A judged candidate.
struct Judged {
    setting: Setting,
    feasible: bool,
    objective: Option<f64>,
    /// Per target: measured (checked) value and margin.
    margins: Vec<(Option<f64>, Option<f64>)>,
    /// How far the worst target is missed, relative to its bound (0 when feasible).
    violation: f64,
    p99: Option<f64>,
}

/// Parses `METRIC<=VALUE` or `METRIC>=VALUE`.
fn target(
    spec: &str,
    detectors: &[String],
    confidence: Option<f64>,
) -> Result<Expectation, Failure> {
    let (metric, bound, max) = if let Some((m, v)) = spec.split_once("<=") {
        (m.trim(), v.trim(), true)
    } else if let Some((m, v)) = spec.split_once(">=") {
        (m.trim(), v.trim(), false)
    } else {
        return Err(fail(
            2,
            format!("hbsim: --target takes METRIC<=VALUE or METRIC>=VALUE (got \"{spec}\")"),
        ));
    };
    let path =
        expect::resolve(metric, detectors).map_err(|e| fail(2, format!("hbsim: --target: {e}")))?;
    let value = match path.unit {
        Unit::Duration => parse_duration(bound)
            .map(|d| d.as_nanos() as f64)
            .map_err(|e| {
                fail(
                    2,
                    format!("hbsim: --target {metric}: {e} (got \"{bound}\")"),
                )
            })?,
        Unit::Number => bound.parse::<f64>().map_err(|_| {
            fail(
                2,
                format!("hbsim: --target {metric}: \"{bound}\" is not a number"),
            )
        })?,
    };
    if confidence.is_some() && !path.has_interval {
        return Err(fail(
            2,
            format!(
                "hbsim: --target {metric} has no interval; drop --confidence or use another metric"
            ),
        ));
    }
    Ok(Expectation {
        metric: metric.to_string(),
        path,
        bound: if max {
            Bound::Max(value)
        } else {
            Bound::Min(value)
        },
        group: None,
        confidence,
    })
}

struct Space<'a> {
    base: &'a Value,
    group: String,
    detector: String,
    targets: &'a [Expectation],
    objective: &'a Expectation,
    confidence: f64,
    limits: Limits,
}

impl Space<'_> {
    fn text(&self, s: Setting) -> Result<String, String> {
        let mut v = self.base.clone();
        let spec = |ns: u64| Value::String(format_duration_spec(ns));
        apply(
            &mut v,
            &format!("clients.{}.heartbeat.interval", self.group),
            &spec(s.interval),
        )?;
        apply(
            &mut v,
            &format!("detectors.{}.threshold", self.detector),
            &spec(s.threshold),
        )?;
        if let Some(scan) = s.scan {
            apply(
                &mut v,
                &format!("detectors.{}.scan_interval", self.detector),
                &spec(scan),
            )?;
        }
        // Jitter may not exceed the interval.
        let jitter_path = format!("clients.{}.heartbeat", self.group);
        if let Some(hb) = v["clients"]
            .as_array_mut()
            .and_then(|a| a.iter_mut().find(|g| g["group"] == self.group.as_str()))
            .map(|g| &mut g["heartbeat"])
        {
            if let Some(j) = hb
                .get("jitter")
                .and_then(Value::as_str)
                .and_then(|j| parse_duration(j).ok())
            {
                if j.as_nanos() > s.interval {
                    hb["jitter"] = spec(s.interval / 2);
                }
            }
        }
        let _ = jitter_path;
        Ok(serde_json::to_string_pretty(&v).expect("JSON"))
    }

    fn judge(&self, s: Setting) -> Result<Judged, Failure> {
        let text = self
            .text(s)
            .map_err(|e| fail(3, format!("hbsim: tune: {e}")))?;
        let scenario = hbsim::parse(&text)
            .map_err(|e| fail(3, format!("hbsim: tune: candidate {s:?} is invalid\n{e}")))?;
        let outcomes = hbsim::simulate_replications(
            &scenario,
            scenario.seed,
            scenario.replications,
            self.limits,
            None,
        )
        .map_err(|e| fail(4, format!("hbsim: tune: {e}")))?;
        let report = Report::new(
            &scenario,
            text.as_bytes(),
            scenario.seed,
            self.confidence,
            &outcomes,
        );
        let json = serde_json::to_value(&report).expect("JSON");
        let mut margins = Vec::new();
        let mut feasible = true;
        let mut violation: f64 = 0.0;
        for t in self.targets {
            let v = evaluate(t, &json);
            feasible &= v.pass;
            let bound = match t.bound {
                Bound::Max(b) | Bound::Min(b) => b,
            };
            let miss = match v.margin {
                Some(m) if m < 0.0 => -m / bound.abs().max(1e-9),
                Some(_) => 0.0,
                None => 1e9,
            };
            violation = violation.max(miss);
            let checked = match (t.confidence, t.bound, v.interval) {
                (Some(_), Bound::Max(_), Some(i)) => Some(i[1]),
                (Some(_), Bound::Min(_), Some(i)) => Some(i[0]),
                _ => v.value,
            };
            margins.push((checked, v.margin));
        }
        let objective = evaluate(self.objective, &json).value;
        let p99 = json["detectors"][&self.detector]["detection_latency"]["p99_ns"].as_f64();
        Ok(Judged {
            setting: s,
            feasible,
            objective,
            margins,
            violation,
            p99,
        })
    }

    fn judge_all(&self, settings: &[Setting]) -> Result<Vec<Judged>, Failure> {
        settings.par_iter().map(|&s| self.judge(s)).collect()
    }
}

/// Better = feasible, cheaper, then faster detection, then the smaller threshold.
fn better(a: &Judged, b: &Judged) -> bool {
    let key = |j: &Judged| {
        (
            j.objective.unwrap_or(f64::INFINITY),
            j.p99.unwrap_or(f64::INFINITY),
            j.setting.threshold,
        )
    };
    let (ka, kb) = (key(a), key(b));
    ka.0 < kb.0 || (ka.0 == kb.0 && (ka.1 < kb.1 || (ka.1 == kb.1 && ka.2 < kb.2)))
}

pub(crate) fn run(args: TuneArgs) -> Result<(), Failure> {
    let bytes = std::fs::read(&args.scenario).map_err(|e| {
        fail(
            2,
            format!(
                "hbsim: cannot read scenario {}: {e}",
                args.scenario.display()
            ),
        )
    })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        fail(
            3,
            format!("hbsim: invalid scenario {}", args.scenario.display()),
        )
    })?;
    let scenario = hbsim::parse(&text).map_err(|e| {
        fail(
            3,
            format!("hbsim: invalid scenario {}\n{e}", args.scenario.display()),
        )
    })?;
    let detectors: Vec<String> = scenario.detectors.iter().map(|d| d.name.clone()).collect();
    let targets: Vec<Expectation> = args
        .target
        .iter()
        .map(|t| target(t, &detectors, args.confidence))
        .collect::<Result<_, _>>()?;
    if targets.is_empty() {
        return Err(fail(
            2,
            "hbsim: tune needs at least one --target METRIC<=VALUE".into(),
        ));
    }
    let minimize = args
        .minimize
        .as_deref()
        .unwrap_or("traffic.bytes_per_client_hour");
    let objective = target(&format!("{minimize}<=0"), &detectors, None)?;
    let group = match &args.group {
        Some(g) => scenario
            .groups
            .iter()
            .find(|x| &x.name == g)
            .ok_or_else(|| fail(2, format!("hbsim: no client group named \"{g}\"")))?,
        None => &scenario.groups[0],
    };
    let detector = match &args.detector {
        Some(d) => scenario
            .detectors
            .iter()
            .find(|x| &x.name == d)
            .ok_or_else(|| fail(2, format!("hbsim: no detector named \"{d}\"")))?,
        None => &scenario.detectors[0],
    };
    let hbsim::scenario::DetectorKind::FixedTimeout(ft) = detector.kind else {
        return Err(fail(
            2,
            format!(
                "hbsim: tune searches fixed-timeout detectors; \"{}\" is {}",
                detector.name,
                detector.kind.name()
            ),
        ));
    };
    let mut base: Value = serde_json::from_str(&text).expect("validated JSON");
    if let Some(m) = base.as_object_mut() {
        m.remove("sweep");
        m.remove("expect");
    }
    let space = Space {
        base: &base,
        group: group.name.clone(),
        detector: detector.name.clone(),
        targets: &targets,
        objective: &objective,
        confidence: args.confidence.unwrap_or(hbsim::DEFAULT_CONFIDENCE),
        limits: Limits::default(),
    };
    let i0 = group.heartbeat.interval.as_nanos();
    let s0 = ft.scan_interval.as_nanos();
    let multiples = [1.5, 2.0, 3.0, 4.0, 6.0, 10.0];
    let scans: Vec<Option<f64>> = if s0 > 0 {
        vec![Some(0.5), Some(1.0)]
    } else {
        vec![None]
    };
    let mut grid = Vec::new();
    for k in -3i32..=3 {
        let interval = ms(i0 as f64 * libm::pow(2.0, k as f64));
        for m in multiples {
            for sc in &scans {
                grid.push(Setting {
                    interval,
                    threshold: ms(interval as f64 * m),
                    scan: sc.map(|f| ms(s0 as f64 * f)),
                });
            }
        }
    }
    if !args.quiet {
        eprintln!("hbsim: tune: {} candidates on the coarse grid", grid.len());
    }
    let mut judged = space.judge_all(&grid)?;
    // Refine: between the best feasible interval and twice it (the next, infeasible or
    // dearer, grid point), bisect in log space for the longest interval that still meets
    // every target, at the best threshold multiple and the next larger one.
    let best_index = |js: &[Judged]| {
        let mut best: Option<usize> = None;
        for (i, j) in js.iter().enumerate() {
            if j.feasible && best.is_none_or(|b| better(j, &js[b])) {
                best = Some(i);
            }
        }
        best
    };
    if let Some(b) = best_index(&judged) {
        let s = judged[b].setting;
        let m = s.threshold as f64 / s.interval as f64;
        let next_m = multiples.iter().copied().find(|&x| x > m + 1e-9);
        for mult in std::iter::once(m).chain(next_m) {
            let (mut lo, mut hi) = (s.interval as f64, s.interval as f64 * 2.0);
            for _ in 0..4 {
                let mid = libm::sqrt(lo * hi);
                let cand = Setting {
                    interval: ms(mid),
                    threshold: ms(mid * mult),
                    scan: s.scan,
                };
                let j = space.judge(cand)?;
                if j.feasible {
                    lo = mid;
                } else {
                    hi = mid;
                }
                judged.push(j);
            }
        }
    }
    let show = |s: Setting| {
        let mut t = format!(
            "interval {}, threshold {}",
            format_duration_spec(s.interval),
            format_duration_spec(s.threshold)
        );
        if let Some(scan) = s.scan {
            t.push_str(&format!(", scan interval {}", format_duration_spec(scan)));
        }
        t
    };
    let Some(b) = best_index(&judged) else {
        let closest = judged
            .iter()
            .min_by(|a, b| a.violation.total_cmp(&b.violation))
            .expect("candidates");
        return Err(fail(1, format!(
            "hbsim: tune: no candidate of {} meets every target; the closest is {} (worst target missed by {:.1} %)",
            judged.len(),
            show(closest.setting),
            closest.violation * 100.0
        )));
    };
    let runner_up = judged
        .iter()
        .enumerate()
        .filter(|(i, j)| *i != b && j.feasible && j.setting != judged[b].setting)
        .min_by(|(_, x), (_, y)| {
            if better(x, y) {
                std::cmp::Ordering::Less
            } else {
                std::cmp::Ordering::Greater
            }
        })
        .map(|(i, _)| i);
    let describe = |j: &Judged| {
        let mut lines = vec![format!(
            "  {}   {} {}",
            show(j.setting),
            objective.metric,
            j.objective
                .map(|v| show_value(objective.path.unit, v))
                .unwrap_or("–".into())
        )];
        for (t, (value, margin)) in targets.iter().zip(&j.margins) {
            lines.push(format!(
                "    {:<50} measured {:<14} margin {}",
                t.describe(),
                value
                    .map(|v| show_value(t.path.unit, v))
                    .unwrap_or("–".into()),
                margin
                    .map(|m| show_value(t.path.unit, m))
                    .unwrap_or("–".into())
            ));
        }
        lines.join("\n")
    };
    println!(
        "recommended ({} candidates judged):\n{}",
        judged.len(),
        describe(&judged[b])
    );
    if let Some(r) = runner_up {
        println!("runner-up:\n{}", describe(&judged[r]));
    }
    if let Some(path) = &args.write {
        let mut v: Value = serde_json::from_str(&text).expect("validated JSON");
        let s = judged[b].setting;
        let spec = |ns: u64| json!(format_duration_spec(ns));
        apply(
            &mut v,
            &format!("clients.{}.heartbeat.interval", group.name),
            &spec(s.interval),
        )
        .and_then(|_| {
            apply(
                &mut v,
                &format!("detectors.{}.threshold", detector.name),
                &spec(s.threshold),
            )
        })
        .and_then(|_| match s.scan {
            Some(scan) => apply(
                &mut v,
                &format!("detectors.{}.scan_interval", detector.name),
                &spec(scan),
            ),
            None => Ok(()),
        })
        .map_err(|e| fail(2, format!("hbsim: tune: {e}")))?;
        let mut out = serde_json::to_string_pretty(&v).expect("JSON");
        out.push('\n');
        write_atomically(path, out.as_bytes())?;
        if !args.quiet {
            eprintln!("hbsim: wrote {}", path.display());
        }
    }
    Ok(())
}
