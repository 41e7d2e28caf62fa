//! The top level of a scenario file: name, description, seed, replications, duration,
//! the sections, the `sweep` block and the `expect` block.

use super::validate::*;
use super::*;

/// The longest scenario name: with the longest suffix hbsim writes (`-sweep-heatmap.svg`)
/// and a temporary file's, every file name stays within 255 bytes.
pub const NAME_MAX: usize = 200;

impl Validator {
    pub(super) fn scenario(&mut self, v: &Value) -> Option<Scenario> {
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
            .and_then(|n| self.identifier(n, "name", "a scenario name"))
            .and_then(|n| {
                if n.len() > NAME_MAX {
                    self.problem(
                        "name",
                        format!(
                            "a scenario name is at most {NAME_MAX} characters, so that every report file name fits in 255 bytes (got {})",
                            n.len()
                        ),
                    );
                    None
                } else {
                    Some(n)
                }
            });
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
        self.groups = group_names(map.get("clients"));
        let detectors = self.detectors(map.get("detectors"));
        if let (Some(gs), Some(ds)) = (&groups, &detectors) {
            for (di, d) in ds.iter().enumerate() {
                if d.kind.reads_sequence() {
                    for (gi, g) in gs.iter().enumerate() {
                        if g.transport != Transport::Datagram {
                            self.problem(
                                &format!("detectors[{di}].kind"),
                                format!(
                                    "{} reads each heartbeat's sequence number, which hbsim carries on datagram heartbeats only, but clients[{gi}] (\"{}\") uses the stream transport",
                                    d.kind.name(),
                                    g.name
                                ),
                            );
                        }
                    }
                }
                if !d.kind.uses_connections() {
                    continue;
                }
                for (gi, g) in gs.iter().enumerate() {
                    if g.transport == Transport::Datagram {
                        self.problem(
                            &format!("detectors[{di}].kind"),
                            format!(
                                "{} watches stream connections, but clients[{gi}] (\"{}\") uses datagram transport; give it \"transport\": {{\"kind\": \"stream\"}}",
                                d.kind.name(),
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
    pub(super) fn sweep(&mut self, v: &Value, root: &Value) {
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
        // Each cell runs the scenario without its sweep block, with the axis values set:
        // every value must give a valid scenario, as `hbsim sweep` will require.
        let mut base = root.clone();
        if let Some(m) = base.as_object_mut() {
            m.remove("sweep");
        }
        // The base scenario's own problems are reported where they are; cells are judged
        // only when it is valid, so that each message is about a value.
        let mut check_cells = Validator::default();
        let base_valid = check_cells.scenario(&base).is_some() && check_cells.problems.is_empty();
        for (path, values) in vary {
            let p = format!("sweep.vary.{path}");
            if path == "sweep" || path.starts_with("sweep.") {
                self.problem(&p, "a sweep cannot vary its own sweep block");
                continue;
            }
            let axis = match edit::axis_from_json(path, values) {
                Ok(axis) => axis,
                Err(e) => {
                    self.problem(&p, format!("{e} (got {})", show(values)));
                    continue;
                }
            };
            for (i, value) in axis.values.iter().enumerate() {
                let mut probe = base.clone();
                if let Err(e) = edit::apply(&mut probe, path, value) {
                    self.problem(&p, e);
                    break;
                }
                if !base_valid {
                    continue;
                }
                let mut cell = Validator::default();
                if cell.scenario(&probe).is_none() || !cell.problems.is_empty() {
                    let first = cell
                        .problems
                        .first()
                        .map(|q| q.to_string())
                        .unwrap_or_default();
                    self.problem(
                        &format!("{p}[{i}]"),
                        format!(
                            "the value {} makes the scenario invalid: {first}",
                            show(value)
                        ),
                    );
                }
            }
        }
    }

    pub(super) fn expectations(
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
    pub(super) fn entries<T>(
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

    pub(super) fn expectation(
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
                    Some(x) if crate::base::ci::is_confidence(x) => {
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
                            format!("{} (got {})", crate::base::ci::CONFIDENCE_RULE, show(c)),
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
}
