//! The search behind `hbsim tune`: the cheapest heartbeat setting (interval, threshold,
//! and scan interval where the detector scans) that meets every target, on a coarse
//! geometric grid refined by bisection near the feasibility boundary. Candidates are
//! judged in parallel; results come back in grid order whatever the thread count.

use crate::base::time::{format_duration_spec, parse_duration};
use crate::engine::{simulate_replications, LimitExceeded, Limits};
use crate::report::Report;
use crate::scenario::edit::apply;
use crate::scenario::expect::{self, evaluate, Bound, Expectation, Unit};
use crate::scenario::{parse, DetectorKind};
use rayon::prelude::*;
use serde_json::Value;

/// Rounds to whole milliseconds (at least 1 ms), so recommendations read well.
pub fn ms(ns: f64) -> u64 {
    (libm::round(ns / 1e6) as u64).max(1) * 1_000_000
}

/// A candidate setting, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Setting {
    /// The heartbeat interval.
    pub interval: u64,
    /// The detector's tuned parameter ([`Tuned::field`]): a threshold, shift or margin.
    pub threshold: u64,
    /// The detector's scan interval, where it scans.
    pub scan: Option<u64>,
    /// A `swim` detector's `suspicion_mult` (its `interval` and `timeout` are the two
    /// durations above).
    pub suspicion: Option<u32>,
}

/// A judged candidate.
#[derive(Clone, Debug)]
pub struct Judged {
    /// What was tried.
    pub setting: Setting,
    /// Whether every target is met.
    pub feasible: bool,
    /// The value of the metric to minimise.
    pub objective: Option<f64>,
    /// Per target: measured (checked) value and margin.
    pub margins: Vec<(Option<f64>, Option<f64>)>,
    /// How far the worst target is missed, relative to its bound (0 when feasible).
    pub violation: f64,
    /// The detector's p99 detection latency, ns.
    pub p99: Option<f64>,
    /// The detector's spurious false positives per client-day.
    pub spurious_per_client_day: Option<f64>,
    /// Heartbeat bytes per client-hour.
    pub bytes_per_client_hour: Option<f64>,
}

/// Why a candidate could not be judged.
#[derive(Debug)]
pub enum TuneError {
    /// The candidate scenario is invalid (the message says why).
    Candidate(String),
    /// A run exceeded a resource limit.
    Limit(LimitExceeded),
}

impl std::fmt::Display for TuneError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TuneError::Candidate(m) => f.write_str(m),
            TuneError::Limit(e) => write!(f, "{e}"),
        }
    }
}

/// Parses a target `METRIC<=VALUE` or `METRIC>=VALUE` (checked against its interval at
/// `confidence`, if given); the error is a whole sentence.
pub fn target(
    spec: &str,
    detectors: &[String],
    confidence: Option<f64>,
) -> Result<Expectation, String> {
    let (metric, bound, max) = if let Some((m, v)) = spec.split_once("<=") {
        (m.trim(), v.trim(), true)
    } else if let Some((m, v)) = spec.split_once(">=") {
        (m.trim(), v.trim(), false)
    } else {
        return Err(format!(
            "--target takes METRIC<=VALUE or METRIC>=VALUE (got \"{spec}\")"
        ));
    };
    let path = expect::resolve(metric, detectors).map_err(|e| format!("--target: {e}"))?;
    let value = match path.unit {
        Unit::Duration => parse_duration(bound)
            .map(|d| d.as_nanos() as f64)
            .map_err(|e| format!("--target {metric}: {e} (got \"{bound}\")"))?,
        Unit::Number => bound
            .parse::<f64>()
            .map_err(|_| format!("--target {metric}: \"{bound}\" is not a number"))?,
    };
    if confidence.is_some() && !path.has_interval {
        return Err(format!(
            "--target {metric} has no interval; drop --confidence or use another metric"
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

/// The searched space: one group's interval and one detector's threshold (and scan
/// interval) in a base scenario, with the targets and the metric to minimise.
pub struct Space<'a> {
    /// The scenario's JSON, without its `sweep` and `expect` blocks.
    pub base: &'a Value,
    /// The group whose interval varies.
    pub group: String,
    /// The detector whose parameter varies.
    pub detector: String,
    /// Which of its parameters, and on which grid.
    pub tuned: Tuned,
    /// Every target must be met.
    pub targets: &'a [Expectation],
    /// The metric to minimise.
    pub objective: &'a Expectation,
    /// Level of the report intervals.
    pub confidence: f64,
    /// Limits of each run.
    pub limits: Limits,
    /// Called after each candidate is judged (a progress bar).
    pub tick: &'a (dyn Fn() + Sync),
}

impl Space<'_> {
    /// The scenario text of candidate `s`.
    pub fn text(&self, s: Setting) -> Result<String, String> {
        let mut v = self.base.clone();
        let spec = |ns: u64| Value::String(format_duration_spec(ns));
        for (path, value) in edits(&self.group, &self.detector, &self.tuned, s) {
            apply(&mut v, &path, &value)?;
        }
        // Jitter may not exceed the interval.
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
        Ok(serde_json::to_string_pretty(&v).expect("JSON"))
    }

    /// Runs candidate `s` and judges it against every target.
    pub fn judge(&self, s: Setting) -> Result<Judged, TuneError> {
        let text = self.text(s).map_err(TuneError::Candidate)?;
        let scenario = parse(&text)
            .map_err(|e| TuneError::Candidate(format!("candidate {s:?} is invalid\n{e}")))?;
        let outcomes = simulate_replications(
            &scenario,
            scenario.seed,
            scenario.replications,
            self.limits,
            None,
        )
        .map_err(TuneError::Limit)?;
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
        let d = &json["detectors"][&self.detector];
        Ok(Judged {
            setting: s,
            feasible,
            objective,
            margins,
            violation,
            p99: d["detection_latency"]["p99_ns"].as_f64(),
            spurious_per_client_day: d["false_positives"]["spurious_per_client_day"].as_f64(),
            bytes_per_client_hour: report.traffic.bytes_per_client_hour,
        })
    }

    fn judge_all(&self, settings: &[Setting]) -> Result<Vec<Judged>, TuneError> {
        settings
            .par_iter()
            .map(|&s| {
                let j = self.judge(s);
                (self.tick)();
                j
            })
            .collect()
    }
}

/// Better = cheaper, then faster detection, then the smaller threshold.
pub fn better(a: &Judged, b: &Judged) -> bool {
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

/// The index of the best feasible candidate, if any.
pub fn best(judged: &[Judged]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, j) in judged.iter().enumerate() {
        if j.feasible && best.is_none_or(|b| better(j, &judged[b])) {
            best = Some(i);
        }
    }
    best
}

/// The best feasible candidate other than `best` with another setting, if any.
pub fn runner_up(judged: &[Judged], best: usize) -> Option<usize> {
    judged
        .iter()
        .enumerate()
        .filter(|(i, j)| *i != best && j.feasible && j.setting != judged[best].setting)
        .min_by(|(_, x), (_, y)| {
            if better(x, y) {
                std::cmp::Ordering::Less
            } else {
                std::cmp::Ordering::Greater
            }
        })
        .map(|(i, _)| i)
}

/// What `tune` varies in a detector besides the heartbeat interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tuned {
    /// The detector's field.
    pub field: &'static str,
    /// Its values on the coarse grid, as multiples of the heartbeat interval.
    pub multiples: &'static [f64],
    /// The detector's scan interval, ns, where it scans on a grid.
    pub scan: Option<u64>,
    /// For a `swim` detector, the `suspicion_mult` values of the grid: then `interval`
    /// is the detector's protocol period and `field` its `timeout`, and no group changes.
    pub suspicions: Option<&'static [u32]>,
}

/// A swim detector's `timeout`, as fractions of its period (memberlist: 500 ms of 1 s
/// on a LAN, 3 s of 5 s on a WAN, 200 ms of 1 s locally).
const TIMEOUTS: [f64; 3] = [0.2, 0.5, 0.8];

/// A swim detector's `suspicion_mult` values (memberlist's defaults are 3, 4 and 6).
const SUSPICIONS: [u32; 6] = [1, 2, 3, 4, 6, 8];

/// The edits that make a base scenario candidate `s`: JSON paths and their values.
pub fn edits(group: &str, detector: &str, tuned: &Tuned, s: Setting) -> Vec<(String, Value)> {
    let spec = |ns: u64| Value::String(format_duration_spec(ns));
    let mut out = Vec::new();
    if tuned.suspicions.is_some() {
        out.push((format!("detectors.{detector}.interval"), spec(s.interval)));
    } else {
        out.push((
            format!("clients.{group}.heartbeat.interval"),
            spec(s.interval),
        ));
    }
    out.push((
        format!("detectors.{detector}.{}", tuned.field),
        spec(s.threshold),
    ));
    if let Some(scan) = s.scan {
        out.push((format!("detectors.{detector}.scan_interval"), spec(scan)));
    }
    if let Some(m) = s.suspicion {
        out.push((
            format!("detectors.{detector}.suspicion_mult"),
            Value::from(m),
        ));
    }
    out
}

/// A fixed timeout's threshold, as multiples of the interval: with a round interval,
/// round thresholds (whole seconds for whole-second intervals).
const THRESHOLDS: [f64; 8] = [1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0];

/// NFD-S's shift and NFD-E's margin, as multiples of the interval: a heartbeat is
/// suspected when it is that late, so fractions of an interval matter most.
const SHIFTS: [f64; 6] = [0.1, 0.25, 0.5, 1.0, 2.0, 4.0];

/// What `tune` varies in a detector of `kind`, or why it cannot.
pub fn tuned(kind: &DetectorKind) -> Result<Tuned, &'static str> {
    match kind {
        DetectorKind::FixedTimeout(ft) => Ok(Tuned {
            field: "threshold",
            multiples: &THRESHOLDS,
            scan: Some(ft.scan_interval.as_nanos()).filter(|&s| s > 0),
            suspicions: None,
        }),
        DetectorKind::NfdS(_) => Ok(Tuned {
            field: "shift",
            multiples: &SHIFTS,
            scan: None,
            suspicions: None,
        }),
        DetectorKind::NfdE(_) => Ok(Tuned {
            field: "margin",
            multiples: &SHIFTS,
            scan: None,
            suspicions: None,
        }),
        DetectorKind::Bertier(_) => Err("bertier adapts its own margin"),
        DetectorKind::Swim(_) => Ok(Tuned {
            field: "timeout",
            multiples: &TIMEOUTS,
            scan: None,
            suspicions: Some(&SUSPICIONS),
        }),
        DetectorKind::PhiAccrual(_) | DetectorKind::Ping(_) | DetectorKind::TcpKeepalive(_) => {
            Err("it has no threshold on silence to search")
        }
    }
}

/// The coarse grid around a group's `interval` for `tuned`: intervals from ⅛ to 8 times
/// the current one (its powers of two, and the round 1-2-5 values in that range), each
/// multiple of the tuned parameter, and half or the whole scan interval where the detector
/// scans.
pub fn coarse_grid(interval: u64, tuned: &Tuned) -> Vec<Setting> {
    let scan = tuned.scan.unwrap_or(0);
    let scans: Vec<Option<f64>> = if scan > 0 {
        vec![Some(0.5), Some(1.0)]
    } else {
        vec![None]
    };
    let (lo, hi) = (interval as f64 / 8.0, interval as f64 * 8.0);
    let mut intervals: Vec<u64> = (-3i32..=3)
        .map(|k| ms(interval as f64 * libm::pow(2.0, k as f64)))
        .collect();
    let mut decade = 1e6; // 1 ms
    while decade <= hi {
        for step in [1.0, 2.0, 5.0] {
            let v = decade * step;
            if v >= lo && v <= hi {
                intervals.push(ms(v));
            }
        }
        decade *= 10.0;
    }
    intervals.sort_unstable();
    intervals.dedup();
    let suspicions: Vec<Option<u32>> = match tuned.suspicions {
        Some(v) => v.iter().copied().map(Some).collect(),
        None => vec![None],
    };
    let mut grid = Vec::new();
    for i in intervals {
        for &m in tuned.multiples {
            for sc in &scans {
                for &suspicion in &suspicions {
                    grid.push(Setting {
                        interval: i,
                        threshold: ms(i as f64 * m),
                        scan: sc.map(|f| ms(scan as f64 * f)),
                        suspicion,
                    });
                }
            }
        }
    }
    grid
}

/// `ns` rounded to two significant figures (at least 1 ms), so that refined settings
/// read as round numbers too ("1.2s", "750ms").
pub fn two_figures(ns: f64) -> u64 {
    if ns < 1e6 {
        return 1_000_000;
    }
    let unit = libm::pow(10.0, libm::floor(libm::log10(ns)) - 1.0);
    ms(libm::round(ns / unit) * unit)
}

/// Judges `grid`, then refines: between the best feasible interval and twice it (the
/// next, infeasible or dearer, grid point), bisects in log space for the longest interval
/// that still meets every target, at the best threshold multiple and the next larger one.
/// Returns every judged candidate, the grid's first.
pub fn search(space: &Space<'_>, grid: &[Setting]) -> Result<Vec<Judged>, TuneError> {
    let mut judged = space.judge_all(grid)?;
    // A refined candidate already judged (rounding can land on one) is judged again
    // from the record, not rerun.
    let judge = |judged: &[Judged], cand: Setting| -> Result<Judged, TuneError> {
        match judged.iter().find(|j| j.setting == cand) {
            Some(j) => Ok(j.clone()),
            None => space.judge(cand),
        }
    };
    if let Some(b) = best(&judged) {
        let s = judged[b].setting;
        let m = s.threshold as f64 / s.interval as f64;
        let next_m = space
            .tuned
            .multiples
            .iter()
            .copied()
            .find(|&x| x > m + 1e-9);
        for mult in std::iter::once(m).chain(next_m) {
            let (mut lo, mut hi) = (s.interval as f64, s.interval as f64 * 2.0);
            for _ in 0..4 {
                let mid = libm::sqrt(lo * hi);
                let interval = two_figures(mid);
                let cand = Setting {
                    interval,
                    threshold: ms(interval as f64 * mult),
                    scan: s.scan,
                    suspicion: s.suspicion,
                };
                let j = judge(&judged, cand)?;
                if j.feasible {
                    lo = mid;
                } else {
                    hi = mid;
                }
                judged.push(j);
            }
        }
    }
    Ok(judged)
}

/// What a tune page shows besides the candidates.
pub struct PageOf<'a> {
    /// The scenario's name.
    pub scenario: &'a str,
    /// The tuned detector.
    pub detector: &'a str,
    /// The detector's tuned field ([`Tuned::field`]).
    pub field: &'a str,
    pub targets: &'a [Expectation],
    pub objective: &'a Expectation,
    pub best: Option<usize>,
    pub runner_up: Option<usize>,
}

/// A setting in a few words, as the tune page labels it ("1s/5s", "1s/5s/500ms").
pub fn setting_label(s: Setting) -> String {
    let mut t = format!(
        "{}/{}",
        format_duration_spec(s.interval),
        format_duration_spec(s.threshold)
    );
    if let Some(scan) = s.scan {
        t.push('/');
        t.push_str(&format_duration_spec(scan));
    }
    if let Some(m) = s.suspicion {
        t.push_str(&format!("/×{m}"));
    }
    t
}

/// `tune`'s own page and its picture: `<name>-tune.html`, with the recommendation, every
/// judged candidate on the latency/false-positive trade-off (those that meet every target
/// ringed in green, the frontier labelled) and the table of candidates.
pub fn page(of: &PageOf<'_>, judged: &[Judged]) -> Vec<(String, String)> {
    use crate::report::format::{opt_bytes, opt_dur, opt_rate};
    let name = of.scenario;
    // Refinement can judge a setting twice; the page shows each once.
    let mut shown: Vec<usize> = Vec::new();
    for (i, j) in judged.iter().enumerate() {
        if !shown.iter().any(|&k| judged[k].setting == j.setting) {
            shown.push(i);
        }
    }
    let figures: Vec<crate::study::sweep::Figures> = shown
        .iter()
        .map(|&i| {
            let j = &judged[i];
            [
                j.p99.unwrap_or(f64::INFINITY),
                j.spurious_per_client_day.unwrap_or(f64::INFINITY),
                j.bytes_per_client_hour.unwrap_or(f64::INFINITY),
            ]
        })
        .collect();
    let frontier = crate::study::sweep::pareto_of(&figures);
    let points: Vec<crate::draw::svg::Point> = shown
        .iter()
        .enumerate()
        .filter_map(|(k, &i)| {
            let j = &judged[i];
            Some(crate::draw::svg::Point {
                x: j.p99?,
                y: j.spurious_per_client_day?,
                cost: j.bytes_per_client_hour.unwrap_or(0.0),
                frontier: frontier.contains(&k),
                label: setting_label(j.setting),
                meets: Some(j.feasible),
            })
        })
        .collect();
    let picture = format!("{name}-tune-tradeoff.svg");
    let svg = crate::draw::svg::tradeoff(
        &format!(
            "{name}: tune candidates, latency against false positives ({})",
            of.detector
        ),
        "p99 detection latency",
        "spurious false positives per client-day",
        &points,
    );
    let mut md = format!("# hbsim tune: {name}\n\n");
    let targets: Vec<String> = of
        .targets
        .iter()
        .map(|t| format!("`{}`", t.describe()))
        .collect();
    md.push_str(&format!(
        "{} candidates of heartbeat interval and `{}` {} judged against {}, minimising `{}`.\n\n",
        shown.len(),
        of.detector,
        of.field,
        targets.join(", "),
        of.objective.metric
    ));
    match of.best {
        Some(b) => {
            md.push_str(&format!(
                "**Recommended: {}** (interval/{}{}).",
                setting_label(judged[b].setting),
                of.field,
                if judged[b].setting.scan.is_some() {
                    "/scan interval"
                } else {
                    ""
                }
            ));
            if let Some(r) = of.runner_up {
                md.push_str(&format!(
                    " Runner-up: {}.",
                    setting_label(judged[r].setting)
                ));
            }
            md.push_str("\n\n");
        }
        None => md.push_str("**No candidate meets every target.**\n\n"),
    }
    md.push_str(&format!(
        "![every candidate's p99 detection latency against its spurious false positives]({picture})\n\n"
    ));
    let mut header: Vec<String> = vec!["interval".into(), of.field.into()];
    let scans = judged.iter().any(|j| j.setting.scan.is_some());
    if scans {
        header.push("scan interval".into());
    }
    header.extend([
        "p99 latency".into(),
        "spurious/client-day".into(),
        "bytes/client-hour".into(),
    ]);
    let figure_cols = header.len() - 3;
    // A target's column is named by its bound, its detector left out (the page has one).
    header.extend(of.targets.iter().map(|t| {
        let d = t.describe();
        d.strip_prefix(&format!("{}.", of.detector))
            .unwrap_or(&d)
            .to_string()
    }));
    header.extend(["meets targets".into(), "pareto".into(), String::new()]);
    let mut table = vec![header];
    for (k, &i) in shown.iter().enumerate() {
        let j = &judged[i];
        let mut line = vec![
            format_duration_spec(j.setting.interval),
            format_duration_spec(j.setting.threshold),
        ];
        if scans {
            line.push(j.setting.scan.map(format_duration_spec).unwrap_or_default());
        }
        line.push(opt_dur(j.p99.map(|x| x as u64)));
        line.push(opt_rate(j.spurious_per_client_day));
        line.push(opt_bytes(j.bytes_per_client_hour));
        for (t, e) in of.targets.iter().enumerate() {
            line.push(j.margins[t].0.map_or("–".into(), |v| {
                expect::Shown::lead(e.path.unit, v, []).show(v)
            }));
        }
        line.push(if j.feasible { "yes" } else { "no" }.into());
        line.push(if frontier.contains(&k) { "*" } else { "" }.into());
        let is = |x: Option<usize>| x.is_some_and(|x| judged[x].setting == j.setting);
        line.push(
            if is(of.best) {
                "recommended"
            } else if is(of.runner_up) {
                "runner-up"
            } else {
                ""
            }
            .into(),
        );
        table.push(line);
    }
    // A target column that repeats a figure column (a p99 target without confidence)
    // is left out: the page's first line states its bound.
    let same = |a: usize, b: usize| table[1..].iter().all(|r| r[a] == r[b]);
    let drop: Vec<usize> = (figure_cols + 3..figure_cols + 3 + of.targets.len())
        .filter(|&c| (figure_cols..figure_cols + 2).any(|f| same(c, f)))
        .collect();
    for r in &mut table {
        let mut c = 0;
        r.retain(|_| {
            c += 1;
            !drop.contains(&(c - 1))
        });
    }
    md.push_str(&crate::study::sweep::markdown_table(&table));
    let pictures = vec![(picture.clone(), svg.clone())];
    let body = crate::report::html::markdown_to_html(&md, &pictures);
    vec![
        (picture, svg),
        (
            format!("{name}-tune.html"),
            crate::report::html::page(&format!("hbsim tune: {name}"), &body),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn the_coarse_grid_holds_round_values() {
        let t = Tuned {
            field: "threshold",
            multiples: &THRESHOLDS,
            scan: Some(1000 * MS),
            suspicions: None,
        };
        let grid = coarse_grid(1000 * MS, &t);
        // flaky.json's setting that met both targets more cheaply than the old
        // recommendation (1s / 5s / scan 500ms).
        assert!(grid.contains(&Setting {
            interval: 1000 * MS,
            threshold: 5000 * MS,
            scan: Some(500 * MS),
            suspicion: None,
        }));
        let mut intervals: Vec<u64> = grid.iter().map(|s| s.interval / MS).collect();
        intervals.dedup();
        assert_eq!(
            intervals,
            [125, 200, 250, 500, 1000, 2000, 4000, 5000, 8000]
        );
        // Whole-second intervals get whole-second thresholds but for the 1.5 multiple.
        for s in grid.iter().filter(|s| s.interval % (1000 * MS) == 0) {
            let m = s.threshold as f64 / s.interval as f64;
            assert!(s.threshold % (1000 * MS) == 0 || m == 1.5, "{s:?}");
        }
    }

    #[test]
    fn refined_values_keep_two_significant_figures() {
        assert_eq!(two_figures(1_477_000_000.0), 1_500_000_000);
        assert_eq!(two_figures(958_000_000.0), 960_000_000);
        assert_eq!(two_figures(12_340_000.0), 12_000_000);
        assert_eq!(two_figures(10.0), MS);
    }
}
