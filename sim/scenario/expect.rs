//! Expectations (`expect` blocks), their evaluation against a report, and the
//! metric-by-metric comparison of two reports used by `hbsim diff` and golden checks.
//!
//! Metric paths mirror the report JSON: `DETECTOR.METRIC.STAT` (a `_ns` key is addressed
//! without its suffix and compared as a duration), `DETECTOR.query_accuracy`, and
//! `traffic.COUNTER`. Evaluation reads the report's JSON form, so every key the report has
//! is reachable the same way by users, `check` and `diff`.

use crate::base::human;
use crate::base::time::format_duration_spec;
use serde_json::Value;

/// What a metric's values are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Nanoseconds; bounds are duration strings.
    Duration,
    /// Counts, rates and proportions; bounds are numbers.
    Number,
}

/// Where a metric lives and how to read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricPath {
    /// `None` for `traffic.*`.
    pub detector: Option<String>,
    /// `detection_latency`, `false_positives`, `mistake_duration`, `query_accuracy` or
    /// `traffic`.
    pub metric: String,
    /// The statistic within the metric (`None` for `query_accuracy`).
    pub stat: Option<String>,
    pub unit: Unit,
    /// Whether the report carries an interval for it.
    pub has_interval: bool,
}

const DURATION_STATS: [&str; 7] = ["min", "mean", "p50", "p90", "p99", "p999", "max"];
const INTERVAL_DURATION_STATS: [&str; 5] = ["mean", "p50", "p90", "p99", "p999"];
const TRAFFIC: [&str; 14] = [
    "heartbeats_sent",
    "delivered",
    "lost",
    "duplicated",
    "in_flight",
    "retransmissions",
    "segments_dropped",
    "connection_breaks",
    "probes_sent",
    "probe_replies",
    "bytes_up",
    "bytes_down",
    "heartbeats_per_client_hour",
    "bytes_per_client_hour",
];

/// Every `(metric, stat, unit, has_interval)` a detector has.
fn detector_metrics() -> Vec<(&'static str, Option<&'static str>, Unit, bool)> {
    let mut v = Vec::new();
    for metric in ["detection_latency", "mistake_duration"] {
        let counts: &[&str] = if metric == "detection_latency" {
            &["count", "missed", "already_offline"]
        } else {
            &["count", "censored"]
        };
        for c in counts {
            v.push((metric, Some(*c), Unit::Number, false));
        }
        for s in DURATION_STATS {
            v.push((
                metric,
                Some(s),
                Unit::Duration,
                INTERVAL_DURATION_STATS.contains(&s),
            ));
        }
    }
    for s in [
        "total",
        "spurious",
        "spurious_per_client_hour",
        "spurious_per_client_day",
    ] {
        v.push(("false_positives", Some(s), Unit::Number, true));
    }
    v.push(("false_positives", Some("during_fault"), Unit::Number, false));
    v.push(("query_accuracy", None, Unit::Number, true));
    // A swim detector's own figures (absent from other kinds' reports).
    v.push(("swim.everyone_knows", Some("count"), Unit::Number, false));
    for s in DURATION_STATS {
        v.push((
            "swim.everyone_knows",
            Some(s),
            Unit::Duration,
            INTERVAL_DURATION_STATS.contains(&s),
        ));
    }
    for s in [
        "suspicions",
        "false_suspicions",
        "refutations",
        "updates_sent",
    ] {
        v.push(("swim", Some(s), Unit::Number, false));
    }
    for s in ["packets_per_member_hour", "bytes_per_member_hour"] {
        v.push(("swim.traffic.total", Some(s), Unit::Number, false));
    }
    v
}

/// Every valid metric path for these detectors, in a stable order.
pub fn valid_paths(detectors: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for d in detectors {
        for (m, s, _, _) in detector_metrics() {
            out.push(match s {
                Some(s) => format!("{d}.{m}.{s}"),
                None => format!("{d}.{m}"),
            });
        }
    }
    out.extend(TRAFFIC.iter().map(|t| format!("traffic.{t}")));
    out
}

/// Resolves a dotted metric path, or explains why not with the nearest valid paths.
pub fn resolve(path: &str, detectors: &[String]) -> Result<MetricPath, String> {
    let parts: Vec<&str> = path.split('.').collect();
    let found = match parts.as_slice() {
        ["traffic", stat] if TRAFFIC.contains(stat) => Some(MetricPath {
            detector: None,
            metric: "traffic".into(),
            stat: Some(stat.to_string()),
            unit: Unit::Number,
            has_interval: false,
        }),
        [d, rest @ ..] if detectors.iter().any(|x| x == d) => detector_metrics()
            .into_iter()
            .find(|(m, s, _, _)| match (rest, s) {
                ([rm], None) => rm == m,
                ([head @ .., rs], Some(s)) if !head.is_empty() => head.join(".") == *m && rs == s,
                _ => false,
            })
            .map(|(m, s, unit, has_interval)| MetricPath {
                detector: Some(d.to_string()),
                metric: m.into(),
                stat: s.map(str::to_string),
                unit,
                has_interval,
            }),
        _ => None,
    };
    found.ok_or_else(|| {
        let mut near: Vec<(usize, String)> = valid_paths(detectors)
            .into_iter()
            .map(|p| (strsim::levenshtein(path, &p), p))
            .collect();
        near.sort();
        let list: Vec<String> = near.into_iter().take(3).map(|(_, p)| p).collect();
        format!(
            "unknown metric \"{path}\" (metrics are DETECTOR.METRIC.STAT or traffic.COUNTER; nearest: {})",
            list.join(", ")
        )
    })
}

/// An upper or lower bound.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bound {
    Max(f64),
    Min(f64),
}

/// One expectation of a scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    /// The path as written.
    pub metric: String,
    pub path: MetricPath,
    pub bound: Bound,
    pub group: Option<String>,
    /// With a confidence the bound must hold for the whole interval.
    pub confidence: Option<f64>,
}

impl Expectation {
    /// `seed.detection_latency.p99 <= 4.5s` (with the group and confidence if any).
    pub fn describe(&self) -> String {
        let (op, v) = match self.bound {
            Bound::Max(v) => ("<=", v),
            Bound::Min(v) => (">=", v),
        };
        let mut s = format!("{} {op} {}", self.metric, self.show_bound(v));
        if let Some(g) = &self.group {
            s.push_str(&format!(" [group {g}]"));
        }
        if let Some(c) = self.confidence {
            s.push_str(&format!(" [{}% confidence]", c * 100.0));
        }
        s
    }

    /// The bound's value, whichever side it bounds.
    pub fn bound_value(&self) -> f64 {
        match self.bound {
            Bound::Max(v) | Bound::Min(v) => v,
        }
    }

    /// The description with the bound written by `show` (in the unit of its
    /// measurement): `seed.detection_latency.p99 <= 4.50 s`.
    pub fn describe_with(&self, show: impl Fn(f64) -> String) -> String {
        let (op, v) = match self.bound {
            Bound::Max(v) => ("<=", v),
            Bound::Min(v) => (">=", v),
        };
        let mut s = format!("{} {op} {}", self.metric, show(v));
        if let Some(g) = &self.group {
            s.push_str(&format!(" [group {g}]"));
        }
        if let Some(c) = self.confidence {
            s.push_str(&format!(" [{}% confidence]", c * 100.0));
        }
        s
    }

    fn show_bound(&self, v: f64) -> String {
        match self.path.unit {
            Unit::Duration => format_duration_spec(v as u64),
            Unit::Number => format!("{v}"),
        }
    }
}

/// The result of evaluating one expectation.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub value: Option<f64>,
    pub interval: Option<[f64; 2]>,
    pub pass: bool,
    /// How far inside the bound the checked figure is (negative when outside).
    pub margin: Option<f64>,
    pub note: String,
}

/// Formats a metric value for people: three significant figures, counts whole.
pub fn show_value(unit: Unit, v: f64) -> String {
    Shown::lead(unit, v, []).show(v)
}

/// How a group of figures of one metric is written: one unit for all (a bound, its
/// measurement and interval, the margin; an old and a new value), the lead value with
/// three significant figures, whole numbers whole.
#[derive(Clone, Copy, Debug)]
pub enum Shown {
    Time(human::TimeFormat),
    Number(human::NumFormat),
    Whole,
}

impl Shown {
    /// The format of `lead` and the `others` shown beside it.
    pub fn lead(unit: Unit, lead: f64, others: impl IntoIterator<Item = f64> + Clone) -> Self {
        let whole = |x: f64| x == x.trunc() && x.abs() < 1e15;
        match unit {
            Unit::Duration => Shown::Time(human::TimeFormat::lead(
                lead.abs() as u64,
                others.into_iter().map(|x| x.abs() as u64),
            )),
            Unit::Number if whole(lead) && others.clone().into_iter().all(whole) => Shown::Whole,
            Unit::Number => Shown::Number(human::NumFormat::lead(lead, others)),
        }
    }

    /// The format of a target's line: its bound, the measured value, its interval and
    /// the margin, in one unit, the value leading.
    pub fn of_target(
        e: &Expectation,
        value: Option<f64>,
        interval: Option<[f64; 2]>,
        margin: Option<f64>,
    ) -> Self {
        let bound = e.bound_value();
        let others = [bound]
            .into_iter()
            .chain(interval.into_iter().flatten())
            .chain(margin.map(f64::abs));
        Shown::lead(e.path.unit, value.unwrap_or(bound), others)
    }

    /// `v` in this format; a whole number of a plain metric stays whole (a count of 0
    /// beside its interval [0, 3.69] reads `0`).
    pub fn show(&self, v: f64) -> String {
        match self {
            Shown::Time(f) => f.show_f(v),
            Shown::Number(_) | Shown::Whole if v == v.trunc() && v.abs() < 1e15 => {
                format!("{}", v as i64)
            }
            Shown::Number(f) => f.show(v),
            Shown::Whole => format!("{v}"),
        }
    }

    /// A bound as the user wrote it, in this unit without trailing zeros
    /// (`4.5 s`, `91 s`, `20`).
    pub fn bound(&self, v: f64) -> String {
        let s = self.show(v);
        let (num, unit) = s.split_once(' ').unwrap_or((&s, ""));
        let num = if num.contains('.') {
            num.trim_end_matches('0').trim_end_matches('.')
        } else {
            num
        };
        if unit.is_empty() {
            num.to_string()
        } else {
            format!("{num} {unit}")
        }
    }

    /// `+x` or `-x`.
    pub fn signed(&self, v: f64) -> String {
        let sign = if v < 0.0 { "-" } else { "+" };
        format!("{sign}{}", self.show(v.abs()))
    }
}

fn lookup<'v>(report: &'v Value, e: &Expectation) -> Option<&'v Value> {
    let mut node = match &e.path.detector {
        Some(d) => report.get("detectors")?.get(d)?,
        None => report.get("traffic")?,
    };
    if let Some(g) = &e.group {
        node = node.get("groups")?.get(g)?;
    }
    if e.path.detector.is_some() && e.path.metric != "query_accuracy" {
        for key in e.path.metric.split('.') {
            node = node.get(key)?;
        }
    }
    Some(node)
}

/// The keys of a metric's value and interval.
fn keys(e: &Expectation) -> (String, String) {
    let stat = e.path.stat.clone().unwrap_or_else(|| e.path.metric.clone());
    match e.path.unit {
        Unit::Duration => (format!("{stat}_ns"), format!("{stat}_ci_ns")),
        Unit::Number => (stat.clone(), format!("{stat}_ci")),
    }
}

/// Evaluates `e` against a report in JSON form whose intervals are at `e.confidence`.
pub fn evaluate(e: &Expectation, report: &Value) -> Verdict {
    let (value_key, ci_key) = keys(e);
    let node = lookup(report, e);
    let value = node.and_then(|n| n.get(&value_key)).and_then(Value::as_f64);
    let interval = node
        .and_then(|n| n.get(&ci_key))
        .and_then(Value::as_array)
        .and_then(|a| Some([a.first()?.as_f64()?, a.get(1)?.as_f64()?]));
    let Some(v) = value else {
        return Verdict {
            value: None,
            interval,
            pass: false,
            margin: None,
            note: "no samples: the guarantee cannot be verified".into(),
        };
    };
    let checked = match (e.confidence, e.bound, interval) {
        (None, _, _) => Some(v),
        (Some(_), Bound::Max(_), Some(i)) => Some(i[1]),
        (Some(_), Bound::Min(_), Some(i)) => Some(i[0]),
        (Some(_), _, None) => None,
    };
    let Some(checked) = checked else {
        return Verdict {
            value: Some(v),
            interval: None,
            pass: false,
            margin: None,
            note: "too few samples for an interval at this confidence".into(),
        };
    };
    let margin = match e.bound {
        Bound::Max(b) => b - checked,
        Bound::Min(b) => checked - b,
    };
    Verdict {
        value: Some(v),
        interval,
        pass: margin >= 0.0,
        margin: Some(margin),
        note: String::new(),
    }
}

/// One numeric leaf of a report, addressed by a dotted path.
#[derive(Clone, Debug, PartialEq)]
pub struct Leaf {
    pub path: String,
    pub value: f64,
    pub interval: Option<[f64; 2]>,
    pub unit: Unit,
}

/// Every numeric metric of a report in document order, with its interval if any. Paths
/// drop the `detectors.` prefix and `_ns` suffix (`seed.detection_latency.p99`); group
/// figures read `seed[phones].detection_latency.p99`, `traffic[phones].lost`.
pub fn leaves(report: &Value) -> Vec<Leaf> {
    let mut out = Vec::new();
    if let Some(dets) = report.get("detectors").and_then(Value::as_object) {
        for (d, node) in dets {
            walk(node, d, &mut out);
            if let Some(groups) = node.get("groups").and_then(Value::as_object) {
                for (g, gnode) in groups {
                    walk(gnode, &format!("{d}[{g}]"), &mut out);
                }
            }
        }
    }
    if let Some(t) = report.get("traffic") {
        walk(t, "traffic", &mut out);
        if let Some(groups) = t.get("groups").and_then(Value::as_object) {
            for (g, gnode) in groups {
                walk(gnode, &format!("traffic[{g}]"), &mut out);
            }
        }
    }
    out
}

fn walk(node: &Value, prefix: &str, out: &mut Vec<Leaf>) {
    let Some(map) = node.as_object() else { return };
    for (k, v) in map {
        if k == "groups" || k.ends_with("_ci") || k.ends_with("_ci_ns") {
            continue;
        }
        if v.is_object() {
            walk(v, &format!("{prefix}.{k}"), out);
            continue;
        }
        let Some(x) = v.as_f64() else { continue };
        let (name, unit, ci_key) = match k.strip_suffix("_ns") {
            Some(base) => (base.to_string(), Unit::Duration, format!("{base}_ci_ns")),
            None => (k.clone(), Unit::Number, format!("{k}_ci")),
        };
        let interval = map
            .get(&ci_key)
            .and_then(Value::as_array)
            .and_then(|a| Some([a.first()?.as_f64()?, a.get(1)?.as_f64()?]));
        out.push(Leaf {
            path: format!("{prefix}.{name}"),
            value: x,
            interval,
            unit,
        });
    }
}

/// One changed metric between two reports.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub path: String,
    pub unit: Unit,
    pub old: Option<f64>,
    pub new: Option<f64>,
    /// Whether both intervals exist and do not overlap.
    pub significant: Option<bool>,
}

/// The metrics whose values differ between two reports (present in one only, or
/// changed), in the old report's order then the new one's; and how many were compared.
pub fn compare(old: &Value, new: &Value) -> (Vec<Change>, usize) {
    let a = leaves(old);
    let b = leaves(new);
    let mut changes = Vec::new();
    let mut compared = 0;
    for la in &a {
        compared += 1;
        match b.iter().find(|lb| lb.path == la.path) {
            Some(lb) if lb.value == la.value => {}
            Some(lb) => changes.push(Change {
                path: la.path.clone(),
                unit: la.unit,
                old: Some(la.value),
                new: Some(lb.value),
                significant: match (la.interval, lb.interval) {
                    (Some(x), Some(y)) => Some(x[1] < y[0] || y[1] < x[0]),
                    _ => None,
                },
            }),
            None => changes.push(Change {
                path: la.path.clone(),
                unit: la.unit,
                old: Some(la.value),
                new: None,
                significant: None,
            }),
        }
    }
    for lb in &b {
        if !a.iter().any(|la| la.path == lb.path) {
            compared += 1;
            changes.push(Change {
                path: lb.path.clone(),
                unit: lb.unit,
                old: None,
                new: Some(lb.value),
                significant: None,
            });
        }
    }
    (changes, compared)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dets() -> Vec<String> {
        vec!["seed".into()]
    }

    #[test]
    fn paths_resolve_with_units_and_unknown_ones_get_suggestions() {
        let p = resolve("seed.detection_latency.p99", &dets()).unwrap();
        assert_eq!((p.unit, p.has_interval), (Unit::Duration, true));
        let p = resolve("seed.detection_latency.max", &dets()).unwrap();
        assert!(!p.has_interval);
        let p = resolve("seed.query_accuracy", &dets()).unwrap();
        assert_eq!(p.stat, None);
        assert!(resolve("traffic.bytes_up", &dets()).is_ok());
        let err = resolve("seed.detection_latency.p98", &dets()).unwrap_err();
        assert!(
            err.contains("nearest: ") && err.contains("seed.detection_latency.p99"),
            "{err}"
        );
        let err = resolve("sed.false_positives.spurious", &dets()).unwrap_err();
        assert!(err.contains("seed.false_positives.spurious"), "{err}");
    }

    fn report() -> Value {
        json!({ "detectors": { "seed": {
            "detection_latency": { "p99_ns": 4_000_000_000u64, "p99_ci_ns": [3_800_000_000u64, 4_600_000_000u64], "max_ns": null },
            "query_accuracy": 0.99, "query_accuracy_ci": [0.98, 0.995],
            "groups": { "g": { "detection_latency": { "p99_ns": 1 } } } } },
            "traffic": { "lost": 3 } })
    }

    fn exp(metric: &str, bound: Bound, confidence: Option<f64>) -> Expectation {
        Expectation {
            metric: metric.into(),
            path: resolve(metric, &dets()).unwrap(),
            bound,
            group: None,
            confidence,
        }
    }

    #[test]
    fn a_confident_bound_must_hold_for_the_whole_interval() {
        let e = exp("seed.detection_latency.p99", Bound::Max(4.5e9), None);
        let v = evaluate(&e, &report());
        assert!(v.pass);
        assert_eq!(v.margin, Some(0.5e9));
        let e = exp("seed.detection_latency.p99", Bound::Max(4.5e9), Some(0.95));
        let v = evaluate(&e, &report());
        assert!(
            !v.pass,
            "the point estimate passes but the interval reaches 4.6 s"
        );
        assert_eq!(v.margin, Some(-0.1e9));
        let e = exp("seed.query_accuracy", Bound::Min(0.97), Some(0.95));
        assert!(evaluate(&e, &report()).pass);
        let e = exp("seed.detection_latency.max", Bound::Max(1.0), None);
        assert!(!evaluate(&e, &report()).pass, "no samples fails");
        let mut e = exp("seed.detection_latency.p99", Bound::Max(2.0), None);
        e.group = Some("g".into());
        assert!(evaluate(&e, &report()).pass);
        assert!(evaluate(&exp("traffic.lost", Bound::Max(3.0), None), &report()).pass);
    }

    #[test]
    fn compare_finds_exactly_the_changed_metrics() {
        let a = report();
        assert!(compare(&a, &a).0.is_empty());
        let mut b = report();
        b["detectors"]["seed"]["detection_latency"]["p99_ns"] = json!(5_000_000_000u64);
        b["detectors"]["seed"]["detection_latency"]["p99_ci_ns"] =
            json!([4_700_000_000u64, 5_200_000_000u64]);
        let (changes, compared) = compare(&a, &b);
        assert_eq!(compared, 4, "the null max is not a number");
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].path, "seed.detection_latency.p99");
        assert_eq!(changes[0].significant, Some(true));
    }
}
