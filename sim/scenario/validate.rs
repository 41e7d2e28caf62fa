//! The validator's machinery: collecting problems with their JSON paths, and the checks
//! of single values (objects with known keys, strings, identifiers, durations, numbers,
//! probabilities, integers, choices) and of named lists.

use super::*;

pub(super) fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Renders a JSON value for an error message, shortened if long.
pub(super) fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        let cut: String = s.chars().take(57).collect();
        format!("{cut}...")
    } else {
        s
    }
}

pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// "did you mean" hint for a misspelt name, if one candidate is close.
pub(super) fn suggestion(got: &str, candidates: &[&str]) -> String {
    candidates
        .iter()
        .map(|c| (strsim::levenshtein(got, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min()
        .map(|(_, c)| format!("; did you mean \"{c}\"?"))
        .unwrap_or_default()
}

pub(super) fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[derive(Default)]
pub(super) struct Validator {
    pub(super) problems: Vec<Problem>,
    /// The scenario's groups as selectors see them, once read (membership selectors).
    pub(super) groups: Vec<super::select::GroupName>,
}

impl Validator {
    pub(super) fn problem(&mut self, path: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.to_string(),
            message: message.into(),
        });
    }

    /// Checks that `v` is an object with only `known` keys.
    pub(super) fn object<'v>(
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

    pub(super) fn required<'v>(
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

    pub(super) fn string(&mut self, v: &Value, path: &str) -> Option<String> {
        match v.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.problem(path, format!("expected a string (got {})", show(v)));
                None
            }
        }
    }

    pub(super) fn identifier(&mut self, v: &Value, path: &str, what: &str) -> Option<String> {
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

    pub(super) fn duration(&mut self, v: &Value, path: &str) -> Option<SimDuration> {
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

    pub(super) fn positive_duration(&mut self, v: &Value, path: &str) -> Option<SimDuration> {
        let d = self.duration(v, path)?;
        if d.is_zero() {
            self.problem(path, format!("must be greater than 0 (got {})", show(v)));
            return None;
        }
        Some(d)
    }

    pub(super) fn probability(&mut self, v: &Value, path: &str) -> Option<f64> {
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

    pub(super) fn positive_number(&mut self, v: &Value, path: &str) -> Option<f64> {
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

    pub(super) fn non_negative_number(&mut self, v: &Value, path: &str) -> Option<f64> {
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

    pub(super) fn integer(&mut self, v: &Value, path: &str, min: u64, max: u64) -> Option<u64> {
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

    pub(super) fn choice<'c>(
        &mut self,
        v: &Value,
        path: &str,
        options: &[&'c str],
    ) -> Option<&'c str> {
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
    pub(super) fn optional_choice<T: Copy>(
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
    pub(super) fn optional_integer(
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
    pub(super) fn optional_duration(
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
    pub(super) fn at_least(
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
    pub(super) fn rejoin(&mut self, map: &Map<String, Value>, path: &str) -> Option<Rejoin> {
        self.optional_choice(
            map,
            path,
            "rejoin",
            &[("announce", Rejoin::Announce), ("never", Rejoin::Never)],
            Rejoin::Announce,
        )
    }
    pub(super) fn array<'v>(&mut self, v: Option<&'v Value>, path: &str) -> Option<&'v Vec<Value>> {
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
    pub(super) fn named_list<T>(
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
}
