//! Scenario files: the validated domain types and the parser that builds them from JSON.
//!
//! Parsing walks a `serde_json::Value` by hand instead of deriving `Deserialize`, so that
//! validation never stops at the first problem: every unknown field, wrong type and
//! out-of-range value is collected with its JSON path, the offending value and the rule.
//! Durations are converted once, here, to integer nanoseconds; probabilities to
//! `rng::Chance`-ready floats checked to lie in [0, 1].

pub mod edit;
pub mod expect;

use crate::base::rng::Dist;
use crate::base::time::{format_duration_spec, parse_duration, SimDuration, SimTime};
pub use crate::model::client::Schedule;
pub use crate::model::detector::{
    DetectorKind, Elapsed, FixedTimeout, PhiAccrual, PhiVariant, Ping, Rejoin, TcpKeepalive,
};
pub use crate::model::link::{Link, Loss};
pub use crate::model::tcp::StreamParams;
use expect::{Bound, Expectation, Unit};
use serde_json::{Map, Value};
use std::fmt;

/// A validated scenario: one simulated world.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub seed: u64,
    /// Independent runs merged into one report (seeds derived from `seed`).
    pub replications: u32,
    pub duration: SimDuration,
    pub groups: Vec<Group>,
    pub detectors: Vec<Detector>,
    pub faults: Vec<Fault>,
    /// Guarantees evaluated by `hbsim check`.
    pub expect: Vec<Expectation>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub name: String,
    pub count: u32,
    pub heartbeat: Heartbeat,
    /// Client → server.
    pub uplink: Link,
    /// Server → client (acknowledgements of stream links); mirrors the uplink unless given.
    pub downlink: Link,
    pub transport: Transport,
}

/// How heartbeats travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// A lost heartbeat is gone.
    Datagram,
    /// TCP-like: lost segments are retransmitted and delivery is in order.
    Stream(StreamParams),
}

/// Clock drift of a group's clients, in parts per million (positive: the client's clock
/// runs fast, so its timers fire early).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Drift {
    Fixed(f64),
    /// Drawn uniformly per client.
    Uniform {
        min: f64,
        max: f64,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Heartbeat {
    pub interval: SimDuration,
    pub jitter: SimDuration,
    pub phase: Phase,
    pub schedule: Schedule,
    /// Extra lateness of each timer expiry (a sleeping thread wakes late); accumulates
    /// under `fixed-delay`.
    pub overshoot: Option<Dist>,
    pub bytes: u32,
    pub drift_ppm: Drift,
    /// False for clients that send no application heartbeats (probed only).
    pub enabled: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Uniform in [0, interval) per client.
    Random,
    /// 0 for every client.
    Aligned,
    /// The same given offset for every client.
    At(SimDuration),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Detector {
    pub name: String,
    pub kind: DetectorKind,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    pub at: SimTime,
    pub action: FaultAction,
    pub targets: Vec<ClientRange>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultAction {
    /// `mode` process: the operating system closes the client's connections (FIN/RST);
    /// host (the default): the machine goes silent.
    Crash {
        process: bool,
    },
    Restart,
    /// The client process stalls: alive but silent.
    Pause {
        duration: SimDuration,
    },
    /// The clients' links drop everything in both directions.
    Partition {
        duration: SimDuration,
    },
    /// The server handles nothing: arrivals wait, scans are skipped.
    ServerStall {
        duration: SimDuration,
    },
    /// From `at` on, each client alternates exponential up times (mean `mtbf`) and down
    /// times (mean `mttr`).
    Churn {
        mtbf: SimDuration,
        mttr: SimDuration,
    },
    /// The server's wall clock jumps by `by_ns` (NTP step, DST).
    ClockStep {
        by_ns: i64,
    },
    /// The server process dies: it receives, answers and checks nothing, and forgets every
    /// client; clients' own ping detectors notice.
    ServerCrash,
    /// The server starts again with no knowledge of its clients.
    ServerRestart,
}

impl FaultAction {
    /// Faults that concern the server rather than clients take no selector.
    pub fn is_server_wide(&self) -> bool {
        matches!(
            self,
            FaultAction::ServerStall { .. }
                | FaultAction::ClockStep { .. }
                | FaultAction::ServerCrash
                | FaultAction::ServerRestart
        )
    }
}

/// Clients `start..end` (half-open) of group number `group`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientRange {
    pub group: usize,
    pub start: u32,
    pub end: u32,
}

/// One validation problem: where, and what rule the value broke.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "(top level): {}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Why a scenario could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScenarioError {
    /// Not JSON at all.
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    /// JSON, but breaking one or more rules; all of them are listed.
    Invalid(Vec<Problem>),
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScenarioError::Json {
                line,
                column,
                message,
            } => write!(f, "  line {line}, column {column}: {message}"),
            ScenarioError::Invalid(problems) => {
                for (i, p) in problems.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "  {p}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ScenarioError {}

/// The JSON Schema (draft 2020-12) of scenario files, printed by `hbsim schema`. It states
/// the fields, kinds, defaults and per-value rules that [`parse`] enforces; rules that
/// relate several values (jitter at most the interval, selectors naming existing groups,
/// metric paths) are the validator's alone.
pub const SCHEMA: &str = include_str!("scenario.schema.json");

/// Parses and validates scenario text.
pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    let value: Value = serde_json::from_str(text).map_err(|e| ScenarioError::Json {
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    })?;
    let mut v = Validator::default();
    let scenario = v.scenario(&value);
    match scenario {
        Some(s) if v.problems.is_empty() => Ok(s),
        _ => {
            assert!(
                !v.problems.is_empty(),
                "validation failed without naming a problem"
            );
            Err(ScenarioError::Invalid(v.problems))
        }
    }
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Renders a JSON value for an error message, shortened if long.
fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        let cut: String = s.chars().take(57).collect();
        format!("{cut}...")
    } else {
        s
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// "did you mean" hint for a misspelt name, if one candidate is close.
fn suggestion(got: &str, candidates: &[&str]) -> String {
    candidates
        .iter()
        .map(|c| (strsim::levenshtein(got, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min()
        .map(|(_, c)| format!("; did you mean \"{c}\"?"))
        .unwrap_or_default()
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[derive(Default)]
struct Validator {
    problems: Vec<Problem>,
}

impl Validator {
    fn problem(&mut self, path: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.to_string(),
            message: message.into(),
        });
    }

    /// Checks that `v` is an object with only `known` keys.
    fn object<'v>(
        &mut self,
        v: &'v Value,
        path: &str,
        known: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        let Some(map) = v.as_object() else {
            self.problem(path, format!("expected an object (got {})", show(v)));
            return None;
        };
        for key in map.keys() {
            if !known.contains(&key.as_str()) {
                let hint = suggestion(key, known);
                self.problem(
                    &join(path, key),
                    format!(
                        "unknown field (expected one of: {}){hint}",
                        known.join(", ")
                    ),
                );
            }
        }
        Some(map)
    }

    fn required<'v>(
        &mut self,
        map: &'v Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<&'v Value> {
        let v = map.get(key);
        if v.is_none() {
            self.problem(&join(path, key), "missing required field");
        }
        v
    }

    fn string(&mut self, v: &Value, path: &str) -> Option<String> {
        match v.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.problem(path, format!("expected a string (got {})", show(v)));
                None
            }
        }
    }

    fn identifier(&mut self, v: &Value, path: &str, what: &str) -> Option<String> {
        let s = self.string(v, path)?;
        if is_identifier(&s) {
            Some(s)
        } else {
            self.problem(
                path,
                format!(
                    "{what} must be non-empty and use only letters, digits, '-' and '_' (got {})",
                    show(v)
                ),
            );
            None
        }
    }

    fn duration(&mut self, v: &Value, path: &str) -> Option<SimDuration> {
        match v {
            Value::String(s) => match parse_duration(s) {
                Ok(d) => Some(d),
                Err(e) => {
                    self.problem(path, format!("{e} (got {})", show(v)));
                    None
                }
            },
            Value::Number(_) => {
                self.problem(
                    path,
                    format!(
                        "a duration needs a unit (ns, us, ms, s, m, h), e.g. \"{}s\" (got {})",
                        v,
                        show(v)
                    ),
                );
                None
            }
            _ => {
                self.problem(
                    path,
                    format!(
                        "expected a duration string such as \"250ms\" (got {})",
                        show(v)
                    ),
                );
                None
            }
        }
    }

    fn positive_duration(&mut self, v: &Value, path: &str) -> Option<SimDuration> {
        let d = self.duration(v, path)?;
        if d.is_zero() {
            self.problem(path, format!("must be greater than 0 (got {})", show(v)));
            return None;
        }
        Some(d)
    }

    fn probability(&mut self, v: &Value, path: &str) -> Option<f64> {
        match v.as_f64() {
            Some(p) if (0.0..=1.0).contains(&p) => Some(p),
            Some(_) => {
                self.problem(
                    path,
                    format!("{} is not a probability (expected 0.0..=1.0)", show(v)),
                );
                None
            }
            None => {
                self.problem(
                    path,
                    format!(
                        "expected a probability, a number in 0.0..=1.0 (got {})",
                        show(v)
                    ),
                );
                None
            }
        }
    }

    fn positive_number(&mut self, v: &Value, path: &str) -> Option<f64> {
        match v.as_f64() {
            Some(x) if x > 0.0 && x.is_finite() => Some(x),
            _ => {
                self.problem(
                    path,
                    format!("expected a number greater than 0 (got {})", show(v)),
                );
                None
            }
        }
    }

    fn non_negative_number(&mut self, v: &Value, path: &str) -> Option<f64> {
        match v.as_f64() {
            Some(x) if x >= 0.0 && x.is_finite() => Some(x),
            _ => {
                self.problem(
                    path,
                    format!(
                        "expected a number greater than or equal to 0 (got {})",
                        show(v)
                    ),
                );
                None
            }
        }
    }

    fn integer(&mut self, v: &Value, path: &str, min: u64, max: u64) -> Option<u64> {
        match v.as_u64() {
            Some(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                self.problem(
                    path,
                    format!("expected a whole number in {min}..={max} (got {})", show(v)),
                );
                None
            }
        }
    }

    fn choice<'c>(&mut self, v: &Value, path: &str, options: &[&'c str]) -> Option<&'c str> {
        let s = self.string(v, path)?;
        match options.iter().find(|o| **o == s) {
            Some(o) => Some(o),
            None => {
                let hint = suggestion(&s, options);
                self.problem(
                    path,
                    format!(
                        "unknown value {} (expected one of: {}){hint}",
                        show(v),
                        options.join(", ")
                    ),
                );
                None
            }
        }
    }

    /// An optional field taking one of a fixed set of values, each standing for a `T`;
    /// `default` when the field is absent.
    fn optional_choice<T: Copy>(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        key: &str,
        options: &[(&str, T)],
        default: T,
    ) -> Option<T> {
        let Some(v) = map.get(key) else {
            return Some(default);
        };
        let names: Vec<&str> = options.iter().map(|(name, _)| *name).collect();
        let chosen = self.choice(v, &join(path, key), &names)?;
        options
            .iter()
            .find(|(name, _)| *name == chosen)
            .map(|(_, t)| *t)
    }

    /// An optional integer field in `lo..=hi`; `default` when the field is absent.
    fn optional_integer(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        key: &str,
        (lo, hi): (u64, u64),
        default: u64,
    ) -> Option<u64> {
        match map.get(key) {
            None => Some(default),
            Some(n) => self.integer(n, &join(path, key), lo, hi),
        }
    }

    /// An optional duration field (positive if `positive`); `default` when absent.
    fn optional_duration(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        key: &str,
        default: SimDuration,
        positive: bool,
    ) -> Option<SimDuration> {
        match map.get(key) {
            None => Some(default),
            Some(d) if positive => self.positive_duration(d, &join(path, key)),
            Some(d) => self.duration(d, &join(path, key)),
        }
    }

    /// Whether `hi` is at least `lo`; if not, says so at `path.hi_key`.
    fn at_least(
        &mut self,
        path: &str,
        (lo_key, lo): (&str, SimDuration),
        (hi_key, hi): (&str, SimDuration),
    ) -> bool {
        if lo > hi {
            self.problem(
                &join(path, hi_key),
                format!(
                    "must be at least {lo_key} \"{}\" (got \"{}\")",
                    format_duration_spec(lo.as_nanos()),
                    format_duration_spec(hi.as_nanos())
                ),
            );
        }
        lo <= hi
    }

    /// A detector's `rejoin` field (`"announce"` unless given).
    fn rejoin(&mut self, map: &Map<String, Value>, path: &str) -> Option<Rejoin> {
        self.optional_choice(
            map,
            path,
            "rejoin",
            &[("announce", Rejoin::Announce), ("never", Rejoin::Never)],
            Rejoin::Announce,
        )
    }

    fn scenario(&mut self, v: &Value) -> Option<Scenario> {
        let map = self.object(
            v,
            "",
            &[
                "$schema",
                "name",
                "description",
                "seed",
                "replications",
                "duration",
                "clients",
                "detectors",
                "faults",
                "expect",
                "sweep",
            ],
        )?;
        if let Some(sw) = map.get("sweep") {
            self.sweep(sw, v);
        }
        if let Some(s) = map.get("$schema") {
            self.string(s, "$schema");
        }
        let name = self
            .required(map, "", "name")
            .and_then(|n| self.identifier(n, "name", "a scenario name"));
        let description = match map.get("description") {
            Some(d) => self.string(d, "description"),
            None => Some(String::new()),
        };
        let seed = self.optional_integer(map, "", "seed", (0, u64::MAX), 0);
        let replications = self.optional_integer(map, "", "replications", (1, 10_000), 1);
        let duration = self
            .required(map, "", "duration")
            .and_then(|d| self.positive_duration(d, "duration"));
        let groups = self.groups(map.get("clients"));
        let detectors = self.detectors(map.get("detectors"));
        if let (Some(gs), Some(ds)) = (&groups, &detectors) {
            for (di, d) in ds.iter().enumerate() {
                if !matches!(d.kind, DetectorKind::TcpKeepalive(_)) {
                    continue;
                }
                for (gi, g) in gs.iter().enumerate() {
                    if g.transport == Transport::Datagram {
                        self.problem(
                            &format!("detectors[{di}].kind"),
                            format!(
                                "tcp-keepalive watches stream connections, but clients[{gi}] (\"{}\") uses datagram transport; give it \"transport\": {{\"kind\": \"stream\"}}",
                                g.name
                            ),
                        );
                    }
                }
            }
        }
        // Selectors are checked against every group whose name could be read, even if the
        // group itself has problems, so that fault errors are reported in the same pass.
        let names = group_names(map.get("clients"));
        let faults = self.faults(map.get("faults"), &names, duration);
        let detector_names: Vec<String> = map
            .get("detectors")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|d| d.get("name").and_then(Value::as_str).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let expectations = match map.get("expect") {
            None => Some(Vec::new()),
            Some(e) => self.expectations(e, &detector_names, &names),
        };
        Some(Scenario {
            name: name?,
            description: description?,
            seed: seed?,
            replications: replications? as u32,
            duration: duration?,
            groups: groups?,
            detectors: detectors?,
            faults: faults?,
            expect: expectations?,
        })
    }

    /// `"sweep": {"vary": {"PATH": [values] | "A..B*F"}}`, checked against the scenario.
    fn sweep(&mut self, v: &Value, root: &Value) {
        let Some(map) = self.object(v, "sweep", &["vary"]) else {
            return;
        };
        let Some(vary) = self.required(map, "sweep", "vary") else {
            return;
        };
        let Some(vary) = vary.as_object() else {
            self.problem(
                "sweep.vary",
                format!("expected an object of PATH: VALUES (got {})", show(vary)),
            );
            return;
        };
        if vary.is_empty() {
            self.problem("sweep.vary", "must name at least one parameter");
        }
        for (path, values) in vary {
            let p = format!("sweep.vary.{path}");
            match edit::axis_from_json(path, values) {
                Ok(axis) => {
                    let mut probe = root.clone();
                    if let Err(e) = edit::apply(&mut probe, path, &axis.values[0]) {
                        self.problem(&p, e);
                    }
                }
                Err(e) => self.problem(&p, format!("{e} (got {})", show(values))),
            }
        }
    }

    fn expectations(
        &mut self,
        v: &Value,
        detectors: &[String],
        groups: &[GroupName],
    ) -> Option<Vec<Expectation>> {
        self.entries(v, "expect", |me, item, path| {
            me.expectation(item, path, detectors, groups)
        })
    }

    /// An array at `key` of entries each parsed by `entry`; all are checked.
    fn entries<T>(
        &mut self,
        v: &Value,
        key: &str,
        mut entry: impl FnMut(&mut Self, &Value, &str) -> Option<T>,
    ) -> Option<Vec<T>> {
        let Some(items) = v.as_array() else {
            self.problem(key, format!("expected an array (got {})", show(v)));
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match entry(self, item, &format!("{key}[{i}]")) {
                Some(e) => out.push(e),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn expectation(
        &mut self,
        v: &Value,
        path: &str,
        detectors: &[String],
        groups: &[GroupName],
    ) -> Option<Expectation> {
        let map = self.object(v, path, &["metric", "max", "min", "group", "confidence"])?;
        let metric = self
            .required(map, path, "metric")
            .and_then(|m| self.string(m, &join(path, "metric")))?;
        let resolved = match expect::resolve(&metric, detectors) {
            Ok(p) => p,
            Err(rule) => {
                self.problem(&join(path, "metric"), rule);
                return None;
            }
        };
        let bound_value = |v: &mut Self, key: &str, value: &Value| -> Option<f64> {
            let p = join(path, key);
            match resolved.unit {
                Unit::Duration => v.duration(value, &p).map(|d| d.as_nanos() as f64),
                Unit::Number => match value.as_f64() {
                    Some(x) if x.is_finite() => Some(x),
                    _ => {
                        v.problem(
                            &p,
                            format!("expected a number for {metric} (got {})", show(value)),
                        );
                        None
                    }
                },
            }
        };
        let bound = match (map.get("max"), map.get("min")) {
            (Some(m), None) => bound_value(self, "max", m).map(Bound::Max),
            (None, Some(m)) => bound_value(self, "min", m).map(Bound::Min),
            _ => {
                self.problem(path, "needs exactly one of \"max\" and \"min\"");
                None
            }
        };
        let group = match map.get("group") {
            None => Some(None),
            Some(g) => {
                let g_path = join(path, "group");
                let name = self.string(g, &g_path)?;
                if groups.iter().any(|x| x.name == name) {
                    Some(Some(name))
                } else {
                    let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
                    self.problem(
                        &g_path,
                        format!(
                            "no client group named \"{name}\" (groups: {})",
                            names.join(", ")
                        ),
                    );
                    None
                }
            }
        };
        let confidence = match map.get("confidence") {
            None => Some(None),
            Some(c) => {
                let c_path = join(path, "confidence");
                match c.as_f64() {
                    Some(x) if x > 0.0 && x < 1.0 => {
                        if resolved.has_interval {
                            Some(Some(x))
                        } else {
                            self.problem(
                                &c_path,
                                format!("{metric} has no interval, so it takes no confidence (metrics with intervals: mean, p50, p90, p99, p999, false-positive counts and rates, query_accuracy)"),
                            );
                            None
                        }
                    }
                    _ => {
                        self.problem(
                            &c_path,
                            format!(
                                "expected a level strictly between 0 and 1, e.g. 0.95 (got {})",
                                show(c)
                            ),
                        );
                        None
                    }
                }
            }
        };
        Some(Expectation {
            metric,
            path: resolved,
            bound: bound?,
            group: group?,
            confidence: confidence?,
        })
    }

    fn array<'v>(&mut self, v: Option<&'v Value>, path: &str) -> Option<&'v Vec<Value>> {
        let Some(v) = v else {
            self.problem(path, "missing required field");
            return None;
        };
        match v.as_array() {
            Some(a) if !a.is_empty() => Some(a),
            Some(_) => {
                self.problem(path, "must list at least one entry");
                None
            }
            None => {
                self.problem(path, format!("expected an array (got {})", show(v)));
                None
            }
        }
    }

    /// A non-empty array of named entries at `key`, each parsed by `entry`; names must be
    /// unique (the name lives in the entry's field `name_field`).
    fn named_list<T>(
        &mut self,
        v: Option<&Value>,
        key: &str,
        name_field: &str,
        entry: fn(&mut Self, &Value, &str) -> Option<T>,
        name_of: fn(&T) -> &str,
    ) -> Option<Vec<T>> {
        let items = self.array(v, key)?;
        let mut out: Vec<T> = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let path = format!("{key}[{i}]");
            match entry(self, item, &path) {
                Some(t) => {
                    if out.iter().any(|o| name_of(o) == name_of(&t)) {
                        self.problem(
                            &join(&path, name_field),
                            format!("duplicate name \"{}\"", name_of(&t)),
                        );
                        ok = false;
                    }
                    out.push(t);
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn groups(&mut self, v: Option<&Value>) -> Option<Vec<Group>> {
        self.named_list(v, "clients", "group", Self::group, |g| &g.name)
    }

    fn group(&mut self, v: &Value, path: &str) -> Option<Group> {
        let map = self.object(
            v,
            path,
            &[
                "group",
                "count",
                "heartbeat",
                "uplink",
                "downlink",
                "transport",
            ],
        )?;
        let name = self
            .required(map, path, "group")
            .and_then(|n| self.identifier(n, &join(path, "group"), "a group name"));
        let count = self
            .required(map, path, "count")
            .and_then(|c| self.integer(c, &join(path, "count"), 1, u32::MAX as u64));
        let heartbeat = self
            .required(map, path, "heartbeat")
            .and_then(|h| self.heartbeat(h, &join(path, "heartbeat")));
        let uplink = match map.get("uplink") {
            Some(l) => self.link(l, &join(path, "uplink")),
            None => Some(Link::PERFECT),
        };
        let downlink = match map.get("downlink") {
            Some(l) => self.link(l, &join(path, "downlink")),
            None => uplink.clone(),
        };
        let transport = match map.get("transport") {
            Some(t) => self.transport(t, &join(path, "transport")),
            None => Some(Transport::Datagram),
        };
        Some(Group {
            name: name?,
            count: count? as u32,
            heartbeat: heartbeat?,
            uplink: uplink?,
            downlink: downlink?,
            transport: transport?,
        })
    }

    fn transport(&mut self, v: &Value, path: &str) -> Option<Transport> {
        let map = self.object(
            v,
            path,
            &["kind", "rto_initial", "rto_min", "rto_max", "retries"],
        )?;
        let kind = self
            .required(map, path, "kind")
            .and_then(|k| self.choice(k, &join(path, "kind"), &["datagram", "stream"]))?;
        if kind == "datagram" {
            for key in ["rto_initial", "rto_min", "rto_max", "retries"] {
                if map.contains_key(key) {
                    self.problem(&join(path, key), "only a \"stream\" transport retransmits");
                }
            }
            return Some(Transport::Datagram);
        }
        let rto_initial =
            self.optional_duration(map, path, "rto_initial", SimDuration::from_secs(1), true);
        let rto_min =
            self.optional_duration(map, path, "rto_min", SimDuration::from_millis(200), true);
        let rto_max =
            self.optional_duration(map, path, "rto_max", SimDuration::from_secs(120), true);
        let retries = self.optional_integer(map, path, "retries", (1, 255), 15);
        let (rto_initial, rto_min, rto_max) = (rto_initial?, rto_min?, rto_max?);
        if !self.at_least(path, ("rto_min", rto_min), ("rto_max", rto_max)) {
            return None;
        }
        if !(rto_min..=rto_max).contains(&rto_initial) {
            self.problem(
                &join(path, "rto_initial"),
                format!(
                    "must lie between rto_min \"{}\" and rto_max \"{}\" (got \"{}\")",
                    format_duration_spec(rto_min.as_nanos()),
                    format_duration_spec(rto_max.as_nanos()),
                    format_duration_spec(rto_initial.as_nanos())
                ),
            );
            return None;
        }
        Some(Transport::Stream(StreamParams {
            rto_initial,
            rto_min,
            rto_max,
            retries: retries? as u32,
        }))
    }

    fn heartbeat(&mut self, v: &Value, path: &str) -> Option<Heartbeat> {
        let map = self.object(
            v,
            path,
            &[
                "interval",
                "jitter",
                "phase",
                "schedule",
                "overshoot",
                "bytes",
                "drift_ppm",
                "enabled",
            ],
        )?;
        let enabled = match map.get("enabled") {
            None => Some(true),
            Some(Value::Bool(b)) => Some(*b),
            Some(e) => {
                self.problem(
                    &join(path, "enabled"),
                    format!("expected true or false (got {})", show(e)),
                );
                None
            }
        };
        // Clients without application heartbeats (an active detector's probes only) need
        // no interval.
        let interval = if enabled == Some(false) && !map.contains_key("interval") {
            Some(SimDuration::SECOND)
        } else {
            self.required(map, path, "interval")
                .and_then(|i| self.positive_duration(i, &join(path, "interval")))
        };
        let jitter = self.optional_duration(map, path, "jitter", SimDuration::ZERO, false);
        if let (Some(i), Some(j)) = (interval, jitter) {
            if j > i {
                self.problem(
                    &join(path, "jitter"),
                    format!(
                        "must not exceed the interval {} (got \"{}\")",
                        format_duration_spec(i.as_nanos()),
                        format_duration_spec(j.as_nanos())
                    ),
                );
            }
        }
        let phase = match map.get("phase") {
            None => Some(Phase::Random),
            Some(Value::String(s)) if s == "random" => Some(Phase::Random),
            Some(Value::String(s)) if s == "aligned" => Some(Phase::Aligned),
            Some(p @ Value::String(_)) => {
                let p_path = join(path, "phase");
                match p.as_str().map(parse_duration) {
                    Some(Ok(d)) => Some(Phase::At(d)),
                    _ => {
                        self.problem(
                            &p_path,
                            format!("expected \"random\", \"aligned\" or a duration such as \"250ms\" (got {})", show(p)),
                        );
                        None
                    }
                }
            }
            Some(p) => {
                self.problem(
                    &join(path, "phase"),
                    format!(
                        "expected \"random\", \"aligned\" or a duration such as \"250ms\" (got {})",
                        show(p)
                    ),
                );
                None
            }
        };
        let schedule = self.optional_choice(
            map,
            path,
            "schedule",
            &[
                ("fixed-rate", Schedule::FixedRate),
                ("fixed-delay", Schedule::FixedDelay),
            ],
            Schedule::FixedRate,
        );
        let overshoot = match map.get("overshoot") {
            None => Some(None),
            Some(o) => self.dist(o, &join(path, "overshoot")).map(Some),
        };
        let bytes = self.optional_integer(map, path, "bytes", (0, u32::MAX as u64), 64);
        let drift_ppm = match map.get("drift_ppm") {
            None => Some(Drift::Fixed(0.0)),
            Some(d) => self.drift(d, &join(path, "drift_ppm")),
        };
        Some(Heartbeat {
            interval: interval?,
            jitter: jitter?,
            phase: phase?,
            schedule: schedule?,
            overshoot: overshoot?,
            bytes: bytes? as u32,
            drift_ppm: drift_ppm?,
            enabled: enabled?,
        })
    }

    fn ppm(&mut self, v: &Value, path: &str) -> Option<f64> {
        const MAX: f64 = 100_000.0;
        match v.as_f64() {
            Some(x) if (-MAX..=MAX).contains(&x) => Some(x),
            _ => {
                self.problem(
                    path,
                    format!(
                        "expected parts per million in -100000..=100000 (got {})",
                        show(v)
                    ),
                );
                None
            }
        }
    }

    fn drift(&mut self, v: &Value, path: &str) -> Option<Drift> {
        if v.is_number() {
            return self.ppm(v, path).map(Drift::Fixed);
        }
        if !v.is_object() {
            self.problem(
                path,
                format!(
                    "expected a number of ppm or {{\"min\": …, \"max\": …}} (got {})",
                    show(v)
                ),
            );
            return None;
        }
        let map = self.object(v, path, &["min", "max"])?;
        let min = self
            .required(map, path, "min")
            .and_then(|m| self.ppm(m, &join(path, "min")));
        let max = self
            .required(map, path, "max")
            .and_then(|m| self.ppm(m, &join(path, "max")));
        let (min, max) = (min?, max?);
        if min > max {
            self.problem(
                &join(path, "max"),
                format!("must be at least min {min} (got {max})"),
            );
            return None;
        }
        Some(Drift::Uniform { min, max })
    }

    fn link(&mut self, v: &Value, path: &str) -> Option<Link> {
        let map = self.object(v, path, &["delay", "loss", "duplicate"])?;
        let delay = match map.get("delay") {
            None => Some(None),
            Some(d) => self.dist(d, &join(path, "delay")).map(Some),
        };
        let loss = match map.get("loss") {
            None => Some(Loss::None),
            Some(l) => self.loss(l, &join(path, "loss")),
        };
        let duplicate = match map.get("duplicate") {
            None => Some(0.0),
            Some(d) => self.probability(d, &join(path, "duplicate")),
        };
        Some(Link {
            delay: delay?,
            loss: loss?,
            duplicate: duplicate?,
        })
    }

    fn loss(&mut self, v: &Value, path: &str) -> Option<Loss> {
        const GE: [&str; 4] = ["p_enter_bad", "p_leave_bad", "loss_good", "loss_bad"];
        let model = match v.get("model") {
            Some(m) => self.choice(
                m,
                &join(path, "model"),
                &["none", "bernoulli", "gilbert-elliott"],
            )?,
            None => {
                self.object(v, path, &["model"])?;
                self.problem(
                    &join(path, "model"),
                    "missing required field (one of: none, bernoulli, gilbert-elliott)",
                );
                return None;
            }
        };
        let params: &[&str] = match model {
            "none" => &[],
            "bernoulli" => &["p"],
            _ => &GE,
        };
        let mut known = vec!["model"];
        known.extend_from_slice(params);
        let map = self.object(v, path, &known)?;
        let prob = |v: &mut Self, key: &str| {
            v.required(map, path, key)
                .and_then(|p| v.probability(p, &join(path, key)))
        };
        match model {
            "none" => Some(Loss::None),
            "bernoulli" => Some(Loss::Bernoulli {
                p: prob(self, "p")?,
            }),
            _ => {
                let values: Vec<Option<f64>> = GE.iter().map(|k| prob(self, k)).collect();
                let v: Vec<f64> = values.into_iter().collect::<Option<_>>()?;
                Some(Loss::GilbertElliott {
                    p_enter_bad: v[0],
                    p_leave_bad: v[1],
                    loss_good: v[2],
                    loss_bad: v[3],
                })
            }
        }
    }

    fn dist(&mut self, v: &Value, path: &str) -> Option<Dist> {
        const KINDS: [&str; 6] = [
            "constant",
            "uniform",
            "normal",
            "lognormal",
            "exponential",
            "pareto",
        ];
        let kind = match v.get("dist") {
            Some(k) => self.choice(k, &join(path, "dist"), &KINDS)?,
            None => {
                self.object(v, path, &["dist"])?;
                self.problem(
                    &join(path, "dist"),
                    format!("missing required field (one of: {})", KINDS.join(", ")),
                );
                return None;
            }
        };
        let params: &[&str] = match kind {
            "constant" => &["dist", "value"],
            "uniform" => &["dist", "min", "max"],
            "normal" => &["dist", "mean", "stddev"],
            "lognormal" => &["dist", "median", "sigma"],
            "exponential" => &["dist", "mean"],
            _ => &["dist", "scale", "shape"],
        };
        let map = self.object(v, path, params)?;
        let dur = |v: &mut Self, key: &str, positive: bool| -> Option<SimDuration> {
            let value = v.required(map, path, key)?;
            if positive {
                v.positive_duration(value, &join(path, key))
            } else {
                v.duration(value, &join(path, key))
            }
        };
        match kind {
            "constant" => Some(Dist::Constant {
                value: dur(self, "value", false)?.as_nanos(),
            }),
            "uniform" => {
                let min = dur(self, "min", false);
                let max = dur(self, "max", false);
                let (min, max) = (min?, max?);
                if !self.at_least(path, ("min", min), ("max", max)) {
                    return None;
                }
                Some(Dist::Uniform {
                    min: min.as_nanos(),
                    max: max.as_nanos(),
                })
            }
            "normal" => {
                let mean = dur(self, "mean", false);
                let stddev = dur(self, "stddev", false);
                Some(Dist::Normal {
                    mean: mean?.as_nanos() as f64,
                    stddev: stddev?.as_nanos() as f64,
                })
            }
            "lognormal" => {
                let median = dur(self, "median", true);
                let sigma = self
                    .required(map, path, "sigma")
                    .and_then(|s| self.non_negative_number(s, &join(path, "sigma")));
                Some(Dist::Lognormal {
                    median: median?.as_nanos() as f64,
                    sigma: sigma?,
                })
            }
            "exponential" => Some(Dist::Exponential {
                mean: dur(self, "mean", true)?.as_nanos() as f64,
            }),
            _ => {
                let scale = dur(self, "scale", true);
                let shape = self
                    .required(map, path, "shape")
                    .and_then(|s| self.positive_number(s, &join(path, "shape")));
                Some(Dist::Pareto {
                    scale: scale?.as_nanos() as f64,
                    shape: shape?,
                })
            }
        }
    }

    fn detectors(&mut self, v: Option<&Value>) -> Option<Vec<Detector>> {
        self.named_list(v, "detectors", "name", Self::detector, |d| &d.name)
    }

    fn phi(&mut self, v: &Value, path: &str, name: Option<String>) -> Option<Detector> {
        let map = self.object(
            v,
            path,
            &[
                "name",
                "kind",
                "scan_interval",
                "scan_phase",
                "threshold",
                "variant",
                "max_sample_size",
                "min_std_deviation",
                "acceptable_heartbeat_pause",
                "first_heartbeat_estimate",
                "max_interval",
                "local_pause",
                "rejoin",
            ],
        )?;
        let dur = |v: &mut Self, key: &str, default: SimDuration, positive: bool| {
            v.optional_duration(map, path, key, default, positive)
        };
        let scan_interval = dur(self, "scan_interval", SimDuration::ZERO, false);
        let scan_phase = dur(self, "scan_phase", SimDuration::ZERO, false);
        let min_std = dur(
            self,
            "min_std_deviation",
            SimDuration::from_millis(100),
            true,
        );
        let pause = dur(
            self,
            "acceptable_heartbeat_pause",
            SimDuration::from_secs(3),
            false,
        );
        let estimate = dur(
            self,
            "first_heartbeat_estimate",
            SimDuration::from_secs(1),
            true,
        );
        let max_interval = match (map.get("max_interval"), estimate) {
            (Some(d), _) => self.positive_duration(d, &join(path, "max_interval")),
            (None, Some(e)) => Some(SimDuration::from_nanos(2 * e.as_nanos())),
            (None, None) => None,
        };
        let local_pause = dur(self, "local_pause", SimDuration::from_secs(5), true);
        let threshold = match map.get("threshold") {
            None => Some(8.0),
            Some(t) => self.positive_number(t, &join(path, "threshold")),
        };
        let variant = self.optional_choice(
            map,
            path,
            "variant",
            &[
                ("normal", PhiVariant::Normal),
                ("exponential", PhiVariant::Exponential),
            ],
            PhiVariant::Normal,
        );
        let samples = self.optional_integer(map, path, "max_sample_size", (2, 100_000), 1000);
        let rejoin = self.rejoin(map, path);
        Some(Detector {
            name: name?,
            kind: DetectorKind::PhiAccrual(PhiAccrual {
                scan_interval: scan_interval?,
                scan_phase: scan_phase?,
                threshold: threshold?,
                variant: variant?,
                max_sample_size: samples? as u32,
                min_std_deviation: min_std?,
                acceptable_heartbeat_pause: pause?,
                first_heartbeat_estimate: estimate?,
                max_interval: max_interval?,
                local_pause: local_pause?,
                rejoin: rejoin?,
            }),
        })
    }

    fn keepalive(&mut self, v: &Value, path: &str, name: Option<String>) -> Option<Detector> {
        let map = self.object(
            v,
            path,
            &["name", "kind", "idle", "interval", "probes", "rejoin"],
        )?;
        let idle = self
            .required(map, path, "idle")
            .and_then(|i| self.positive_duration(i, &join(path, "idle")));
        let interval = self
            .required(map, path, "interval")
            .and_then(|i| self.positive_duration(i, &join(path, "interval")));
        let probes = self
            .required(map, path, "probes")
            .and_then(|p| self.integer(p, &join(path, "probes"), 1, 1000));
        let rejoin = self.rejoin(map, path);
        Some(Detector {
            name: name?,
            kind: DetectorKind::TcpKeepalive(TcpKeepalive {
                idle: idle?,
                interval: interval?,
                probes: probes? as u32,
                rejoin: rejoin?,
            }),
        })
    }

    fn ping(&mut self, v: &Value, path: &str, name: Option<String>) -> Option<Detector> {
        let map = self.object(
            v,
            path,
            &[
                "name",
                "kind",
                "direction",
                "interval",
                "timeout",
                "misses",
                "bytes",
                "rejoin",
            ],
        )?;
        let client_to_server = self.optional_choice(
            map,
            path,
            "direction",
            &[("server-to-client", false), ("client-to-server", true)],
            false,
        );
        let interval = self
            .required(map, path, "interval")
            .and_then(|i| self.positive_duration(i, &join(path, "interval")));
        let timeout = self
            .required(map, path, "timeout")
            .and_then(|t| self.positive_duration(t, &join(path, "timeout")));
        if let (Some(i), Some(t)) = (interval, timeout) {
            if t > i {
                self.problem(
                    &join(path, "timeout"),
                    format!(
                        "must not exceed the ping interval \"{}\" (got \"{}\")",
                        format_duration_spec(i.as_nanos()),
                        format_duration_spec(t.as_nanos())
                    ),
                );
            }
        }
        let misses = self.optional_integer(map, path, "misses", (1, 1000), 1);
        let bytes = self.optional_integer(map, path, "bytes", (0, u32::MAX as u64), 64);
        let rejoin = self.rejoin(map, path);
        let (interval, timeout) = (interval?, timeout?);
        if timeout > interval {
            return None;
        }
        Some(Detector {
            name: name?,
            kind: DetectorKind::Ping(Ping {
                client_to_server: client_to_server?,
                interval,
                timeout,
                misses: misses? as u32,
                bytes: bytes? as u32,
                rejoin: rejoin?,
            }),
        })
    }

    fn detector(&mut self, v: &Value, path: &str) -> Option<Detector> {
        const KINDS: [&str; 4] = ["fixed-timeout", "phi-accrual", "ping", "tcp-keepalive"];
        let kind = match v.get("kind") {
            Some(k) => self.choice(k, &join(path, "kind"), &KINDS),
            None => {
                if v.is_object() {
                    self.problem(
                        &join(path, "kind"),
                        "missing required field (one of: fixed-timeout, phi-accrual, ping, tcp-keepalive)",
                    );
                }
                None
            }
        };
        if let Some(k @ ("tcp-keepalive" | "ping" | "phi-accrual")) = kind {
            let name = v
                .get("name")
                .map(|n| self.identifier(n, &join(path, "name"), "a detector name"))
                .unwrap_or_else(|| {
                    self.problem(&join(path, "name"), "missing required field");
                    None
                });
            return match k {
                "tcp-keepalive" => self.keepalive(v, path, name),
                "ping" => self.ping(v, path, name),
                _ => self.phi(v, path, name),
            };
        }
        let map = self.object(
            v,
            path,
            &[
                "name",
                "kind",
                "scan_interval",
                "scan_phase",
                "threshold",
                "elapsed",
                "rejoin",
            ],
        )?;
        let name = self
            .required(map, path, "name")
            .and_then(|n| self.identifier(n, &join(path, "name"), "a detector name"));
        kind?;
        let scan_interval = self
            .required(map, path, "scan_interval")
            .and_then(|s| self.duration(s, &join(path, "scan_interval")));
        let scan_phase = self.optional_duration(map, path, "scan_phase", SimDuration::ZERO, false);
        let threshold = self
            .required(map, path, "threshold")
            .and_then(|t| self.positive_duration(t, &join(path, "threshold")));
        let elapsed = self.optional_choice(
            map,
            path,
            "elapsed",
            &[
                ("total", Elapsed::Total),
                ("seconds-component", Elapsed::SecondsComponent),
            ],
            Elapsed::Total,
        );
        let rejoin = self.rejoin(map, path);
        if let (Some(t), Some(Elapsed::SecondsComponent)) = (threshold, elapsed) {
            if t > SimDuration::from_secs(59) {
                self.problem(
                    &join(path, "threshold"),
                    format!(
                        "must be at most \"59s\" with elapsed \"seconds-component\" (whole seconds modulo 60 never reach \"{}\")",
                        format_duration_spec(t.as_nanos())
                    ),
                );
            }
        }
        Some(Detector {
            name: name?,
            kind: DetectorKind::FixedTimeout(FixedTimeout {
                scan_interval: scan_interval?,
                scan_phase: scan_phase?,
                threshold: threshold?,
                elapsed: elapsed?,
                rejoin: rejoin?,
            }),
        })
    }

    fn faults(
        &mut self,
        v: Option<&Value>,
        groups: &[GroupName],
        duration: Option<SimDuration>,
    ) -> Option<Vec<Fault>> {
        let Some(v) = v else {
            return Some(Vec::new());
        };
        self.entries(v, "faults", |me, item, path| {
            me.fault(item, path, groups, duration)
        })
    }

    fn fault(
        &mut self,
        v: &Value,
        path: &str,
        groups: &[GroupName],
        duration: Option<SimDuration>,
    ) -> Option<Fault> {
        const ACTIONS: [&str; 9] = [
            "crash",
            "restart",
            "pause",
            "partition",
            "server-stall",
            "churn",
            "clock-step",
            "server-crash",
            "server-restart",
        ];
        let action = match v.get("action") {
            Some(a) => self.choice(a, &join(path, "action"), &ACTIONS),
            None => {
                if v.is_object() {
                    self.problem(
                        &join(path, "action"),
                        format!("missing required field (one of: {})", ACTIONS.join(", ")),
                    );
                }
                None
            }
        };
        let known: &[&str] = match action {
            Some("crash") => &["at", "action", "clients", "mode"],
            Some("restart") | None => &["at", "action", "clients"],
            Some("pause" | "partition") => &["at", "action", "clients", "for"],
            Some("server-stall") => &["at", "action", "for"],
            Some("churn") => &["at", "action", "clients", "mtbf", "mttr"],
            Some("server-crash" | "server-restart") => &["at", "action"],
            Some(_) => &["at", "action", "by"],
        };
        let map = self.object(v, path, known)?;
        let at = self
            .required(map, path, "at")
            .and_then(|a| self.duration(a, &join(path, "at")));
        if let (Some(at), Some(duration)) = (at, duration) {
            if at >= duration {
                self.problem(
                    &join(path, "at"),
                    format!(
                        "must be before the end of the run \"{}\" (got \"{}\")",
                        format_duration_spec(duration.as_nanos()),
                        format_duration_spec(at.as_nanos())
                    ),
                );
            }
        }
        let action = action?;
        let positive = |v: &mut Self, key: &str| {
            v.required(map, path, key)
                .and_then(|d| v.positive_duration(d, &join(path, key)))
        };
        let action = match action {
            "crash" => self
                .optional_choice(
                    map,
                    path,
                    "mode",
                    &[("host", false), ("process", true)],
                    false,
                )
                .map(|process| FaultAction::Crash { process }),
            "restart" => Some(FaultAction::Restart),
            "pause" => positive(self, "for").map(|duration| FaultAction::Pause { duration }),
            "partition" => {
                positive(self, "for").map(|duration| FaultAction::Partition { duration })
            }
            "server-stall" => {
                positive(self, "for").map(|duration| FaultAction::ServerStall { duration })
            }
            "server-crash" => Some(FaultAction::ServerCrash),
            "server-restart" => Some(FaultAction::ServerRestart),
            "churn" => {
                let mtbf = positive(self, "mtbf");
                let mttr = positive(self, "mttr");
                Some(FaultAction::Churn {
                    mtbf: mtbf?,
                    mttr: mttr?,
                })
            }
            _ => self
                .required(map, path, "by")
                .and_then(|b| self.signed_duration(b, &join(path, "by")))
                .map(|by_ns| FaultAction::ClockStep { by_ns }),
        };
        let targets = if known.contains(&"clients") {
            self.required(map, path, "clients").and_then(|c| {
                let c_path = join(path, "clients");
                let text = self.string(c, &c_path)?;
                match select(&text, groups) {
                    Ok(t) => Some(t),
                    Err(rule) => {
                        self.problem(&c_path, format!("{rule} (got {})", show(c)));
                        None
                    }
                }
            })
        } else {
            Some(Vec::new())
        };
        let at = at.filter(|a| duration.is_none_or(|d| *a < d))?;
        Some(Fault {
            at: SimTime(at.as_nanos()),
            action: action?,
            targets: targets?,
        })
    }

    /// A duration that may be negative (`"-1h"`, `"+30s"`), and is not zero.
    fn signed_duration(&mut self, v: &Value, path: &str) -> Option<i64> {
        let Some(text) = v.as_str() else {
            self.problem(
                path,
                format!(
                    "expected a signed duration such as \"-1h\" (got {})",
                    show(v)
                ),
            );
            return None;
        };
        let (sign, rest) = match text.strip_prefix('-') {
            Some(r) => (-1i64, r),
            None => (1, text.strip_prefix('+').unwrap_or(text)),
        };
        match parse_duration(rest) {
            Ok(d) if d.is_zero() => {
                self.problem(path, format!("must not be zero (got {})", show(v)));
                None
            }
            Ok(d) => match i64::try_from(d.as_nanos()) {
                Ok(ns) => Some(sign * ns),
                Err(_) => {
                    self.problem(path, format!("duration is too large (got {})", show(v)));
                    None
                }
            },
            Err(e) => {
                self.problem(path, format!("{e} (got {})", show(v)));
                None
            }
        }
    }
}

/// A group as selectors see it: its name and, if valid, its client count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupName {
    pub name: String,
    pub count: Option<u32>,
}

/// Reads group names and counts leniently from the raw `clients` array.
fn group_names(clients: Option<&Value>) -> Vec<GroupName> {
    let Some(items) = clients.and_then(Value::as_array) else {
        return Vec::new();
    };
    items
        .iter()
        .map(|g| GroupName {
            name: g
                .get("group")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            count: g
                .get("count")
                .and_then(Value::as_u64)
                .and_then(|c| u32::try_from(c).ok())
                .filter(|c| *c > 0),
        })
        .collect()
}

/// Resolves a client selector: `"group"`, `"group[7]"`, `"group[0..10]"` (half-open) or
/// `"*"`. A selector that names nothing is an error.
pub fn select(text: &str, groups: &[GroupName]) -> Result<Vec<ClientRange>, String> {
    if text == "*" {
        return Ok(groups
            .iter()
            .enumerate()
            .map(|(i, g)| ClientRange {
                group: i,
                start: 0,
                end: g.count.unwrap_or(u32::MAX),
            })
            .collect());
    }
    let (name, index) = match text.find('[') {
        Some(open) => {
            let Some(inner) = text[open + 1..].strip_suffix(']') else {
                return Err(
                    "a selector is \"group\", \"group[i]\", \"group[a..b]\" or \"*\"".to_string(),
                );
            };
            (&text[..open], Some(inner))
        }
        None => (text, None),
    };
    let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    let Some(group) = groups.iter().position(|g| g.name == name) else {
        return Err(format!(
            "no client group named \"{name}\" (groups: {}){}",
            names.join(", "),
            suggestion(name, &names)
        ));
    };
    let count = groups[group].count;
    let (start, end) = match index {
        None => (0, count.unwrap_or(u32::MAX)),
        Some(inner) => {
            let parse = |s: &str| -> Result<u32, String> {
                s.trim()
                    .parse::<u32>()
                    .map_err(|_| format!("\"{s}\" is not a client index"))
            };
            match inner.split_once("..") {
                Some((a, b)) => (parse(a)?, parse(b)?),
                None => {
                    let i = parse(inner)?;
                    (i, i.saturating_add(1))
                }
            }
        }
    };
    if start >= end {
        return Err(format!(
            "selects no client: the range {start}..{end} is empty"
        ));
    }
    if let Some(count) = count.filter(|c| end > *c) {
        return Err(format!(
            "selects clients beyond the group: \"{name}\" has {count} clients (indices 0..{count})"
        ));
    }
    Ok(vec![ClientRange { group, start, end }])
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{
        "name": "t", "duration": "1m",
        "clients": [{ "group": "g", "count": 3, "heartbeat": { "interval": "1s" } }],
        "detectors": [{ "name": "d", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "3s" }]
    }"#;

    fn problems(text: &str) -> Vec<String> {
        match parse(text) {
            Err(ScenarioError::Invalid(p)) => p.iter().map(|p| p.to_string()).collect(),
            other => panic!("expected validation problems, got {other:?}"),
        }
    }

    #[test]
    fn minimal_scenario_gets_the_documented_defaults() {
        let s = parse(MINIMAL).unwrap();
        assert_eq!(s.seed, 0);
        let hb = &s.groups[0].heartbeat;
        assert_eq!(hb.jitter, SimDuration::ZERO);
        assert_eq!(hb.phase, Phase::Random);
        assert_eq!(hb.schedule, Schedule::FixedRate);
        assert_eq!(hb.bytes, 64);
        assert_eq!(s.groups[0].uplink, Link::PERFECT);
        assert_eq!(
            s.groups[0].downlink,
            Link::PERFECT,
            "the downlink mirrors the uplink"
        );
        assert_eq!(s.groups[0].transport, Transport::Datagram);
        assert_eq!(hb.drift_ppm, Drift::Fixed(0.0));
        let DetectorKind::FixedTimeout(ft) = s.detectors[0].kind else {
            panic!("a fixed-timeout detector")
        };
        assert_eq!(ft.elapsed, Elapsed::Total);
        assert_eq!(ft.rejoin, Rejoin::Announce);
        assert_eq!(ft.scan_phase, SimDuration::ZERO);
    }

    #[test]
    fn every_problem_is_reported_at_once_with_path_value_and_rule() {
        let text = r#"{
            "name": "t", "duration": "1m", "colour": 1,
            "clients": [{ "group": "g", "count": 0,
                "heartbeat": { "interval": "0s", "jitter": 5, "intervall": "1s" },
                "uplink": { "loss": { "model": "bernoulli", "p": 1.5 } } }],
            "detectors": [{ "name": "d", "kind": "fixed-timeout", "scan_interval": "-1s", "threshold": "0s" }],
            "faults": [{ "at": "10s", "action": "crash", "clients": "g[0..0]" }]
        }"#;
        let p = problems(text);
        let expect = [
            "colour: unknown field",
            "clients[0].count: expected a whole number in 1..=4294967295 (got 0)",
            "clients[0].heartbeat.intervall: unknown field",
            "did you mean \"interval\"?",
            "clients[0].heartbeat.interval: must be greater than 0 (got \"0s\")",
            "clients[0].heartbeat.jitter: a duration needs a unit",
            "clients[0].uplink.loss.p: 1.5 is not a probability (expected 0.0..=1.0)",
            "detectors[0].scan_interval: durations must not be negative (got \"-1s\")",
            "detectors[0].threshold: must be greater than 0 (got \"0s\")",
        ];
        for e in expect {
            assert!(
                p.iter().any(|line| line.contains(e)),
                "missing {e:?} in {p:#?}"
            );
        }
    }

    #[test]
    fn selectors_resolve_and_reject_what_names_nothing() {
        let g = &[GroupName {
            name: "g".into(),
            count: Some(3),
        }];
        assert_eq!(
            select("g", g).unwrap(),
            vec![ClientRange {
                group: 0,
                start: 0,
                end: 3
            }]
        );
        assert_eq!(
            select("g[2]", g).unwrap(),
            vec![ClientRange {
                group: 0,
                start: 2,
                end: 3
            }]
        );
        assert_eq!(
            select("g[0..2]", g).unwrap(),
            vec![ClientRange {
                group: 0,
                start: 0,
                end: 2
            }]
        );
        assert_eq!(select("*", g).unwrap().len(), 1);
        assert!(select("g[3]", g).unwrap_err().contains("beyond the group"));
        assert!(select("g[1..1]", g)
            .unwrap_err()
            .contains("selects no client"));
        assert!(select("h", g)
            .unwrap_err()
            .contains("no client group named \"h\""));
        assert!(select("g[x]", g)
            .unwrap_err()
            .contains("not a client index"));
    }

    #[test]
    fn duplicate_names_are_rejected() {
        let text = MINIMAL
            .replace(
                r#""clients": ["#,
                r#""clients": [{ "group": "g", "count": 1, "heartbeat": { "interval": "1s" } },"#,
            )
            .replace(
                r#""detectors": ["#,
                r#""detectors": [{ "name": "d", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "3s" },"#,
            );
        let p = problems(&text);
        assert!(
            p.contains(&"clients[1].group: duplicate name \"g\"".to_string()),
            "{p:?}"
        );
        assert!(
            p.contains(&"detectors[1].name: duplicate name \"d\"".to_string()),
            "{p:?}"
        );
    }

    #[test]
    fn network_fault_and_clock_fields_are_validated() {
        let text = r#"{
            "name": "t", "duration": "1m",
            "clients": [{ "group": "g", "count": 3,
                "heartbeat": { "interval": "1s", "drift_ppm": 200000 },
                "uplink": { "loss": { "model": "gilbert-elliott", "p_enter_bad": 0.1, "p_leave_bad": 2,
                                      "loss_good": 0 }, "duplicate": -0.1 },
                "downlink": { "transport": "stream" },
                "transport": { "kind": "stream", "rto_min": "2s", "rto_max": "1s" } }],
            "detectors": [{ "name": "d", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "3s" }],
            "faults": [
                { "at": "1s", "action": "server-stall", "for": "5s", "clients": "g" },
                { "at": "2s", "action": "pause", "clients": "g" },
                { "at": "3s", "action": "clock-step", "by": "0s" },
                { "at": "4s", "action": "churn", "clients": "g[1]", "mtbf": "0s", "mttr": "1m" }
            ]
        }"#;
        let p = problems(text);
        let expect = [
            "clients[0].heartbeat.drift_ppm: expected parts per million in -100000..=100000 (got 200000)",
            "clients[0].uplink.loss.p_leave_bad: 2 is not a probability",
            "clients[0].uplink.loss.loss_bad: missing required field",
            "clients[0].uplink.duplicate: -0.1 is not a probability",
            "clients[0].downlink.transport: unknown field",
            "clients[0].transport.rto_max: must be at least rto_min \"2s\" (got \"1s\")",
            "faults[0].clients: unknown field (expected one of: at, action, for)",
            "faults[1].for: missing required field",
            "faults[2].by: must not be zero (got \"0s\")",
            "faults[3].mtbf: must be greater than 0 (got \"0s\")",
        ];
        for e in expect {
            assert!(
                p.iter().any(|line| line.contains(e)),
                "missing {e:?} in {p:#?}"
            );
        }
        let ok = MINIMAL.replace(
            r#""detectors""#,
            r#""faults": [{ "at": "5s", "action": "clock-step", "by": "-1h" },
                          { "at": "6s", "action": "partition", "clients": "*", "for": "2s" }],
               "detectors""#,
        );
        let s = parse(&ok).unwrap();
        assert_eq!(
            s.faults[0].action,
            FaultAction::ClockStep {
                by_ns: -3_600_000_000_000
            }
        );
        assert!(s.faults[0].targets.is_empty());
        assert_eq!(
            s.faults[1].action,
            FaultAction::Partition {
                duration: SimDuration::from_secs(2)
            }
        );
    }

    #[test]
    fn json_syntax_errors_carry_line_and_column() {
        match parse("{\n  \"name\": \"t\",\n  oops\n}") {
            Err(ScenarioError::Json { line, .. }) => assert_eq!(line, 3),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn seconds_component_needs_a_threshold_below_a_minute() {
        let text = MINIMAL.replace(
            "\"threshold\": \"3s\"",
            "\"threshold\": \"1m\", \"elapsed\": \"seconds-component\"",
        );
        let p = problems(&text);
        assert!(
            p[0].starts_with("detectors[0].threshold: must be at most \"59s\""),
            "{p:?}"
        );
    }

    #[test]
    fn faults_after_the_end_and_unknown_actions_are_rejected() {
        let text = MINIMAL.replace(
            "\"detectors\"",
            "\"faults\": [{\"at\": \"2m\", \"action\": \"crash\", \"clients\": \"*\"}, {\"at\": \"1s\", \"action\": \"crahs\", \"clients\": \"g\"}], \"detectors\"",
        );
        let p = problems(&text);
        assert!(
            p.iter().any(|l| l
                .contains("faults[0].at: must be before the end of the run \"1m\" (got \"2m\")")),
            "{p:?}"
        );
        assert!(
            p.iter()
                .any(|l| l.contains("faults[1].action: unknown value \"crahs\"")
                    && l.contains("did you mean \"crash\"?")),
            "{p:?}"
        );
    }
}
