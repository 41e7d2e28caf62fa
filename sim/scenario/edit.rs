//! Edits of a scenario's JSON by field path, as sweeps and `tune` make them: axes of values
//! (lists and `A..B*F` / `A..B+S` ranges) and setting one path to one value.
//!
//! Paths address the scenario JSON: `clients.GROUP.heartbeat.interval`,
//! `detectors.NAME.threshold`, `duration`, ... (arrays of named entries are indexed by
//! their `group` or `name`, or by position).

use crate::base::time::{format_duration_spec, parse_duration};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The most values one sweep axis takes.
pub const AXIS_VALUES_MAX: usize = 1000;

/// One swept parameter and its values, in order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    pub path: String,
    pub values: Vec<Value>,
}

/// Expands `A..B*F` (geometric) or `A..B+S` (linear) ranges of durations or numbers, or
/// a comma-separated list.
pub fn parse_values(spec: &str) -> Result<Vec<Value>, String> {
    if let Some((from, rest)) = spec.split_once("..") {
        let (to, op, step) = if let Some((to, f)) = rest.split_once('*') {
            (to, '*', f)
        } else if let Some((to, s)) = rest.split_once('+') {
            (to, '+', s)
        } else {
            return Err(format!(
                "a range is A..B*FACTOR or A..B+STEP, e.g. \"250ms..8s*2\" (got \"{spec}\")"
            ));
        };
        let durations = parse_duration(from.trim()).is_ok();
        let num = |s: &str| -> Result<f64, String> {
            let s = s.trim();
            if durations {
                parse_duration(s)
                    .map(|d| d.as_nanos() as f64)
                    .map_err(|e| format!("{e} (got \"{s}\")"))
            } else {
                s.parse::<f64>()
                    .map_err(|_| format!("\"{s}\" is not a number or a duration"))
            }
        };
        // Whole numbers stay whole when every number of the range is written as one, so
        // that integer fields (counts, seeds) can be swept.
        let whole = !durations
            && [from, to, step]
                .iter()
                .all(|t| t.trim().parse::<i64>().is_ok());
        let (a, b) = (num(from)?, num(to)?);
        let step = if op == '*' {
            step.trim()
                .parse::<f64>()
                .map_err(|_| format!("the factor \"{step}\" is not a number"))?
        } else {
            num(step)?
        };
        let grows = if op == '*' { step > 1.0 } else { step > 0.0 };
        if !grows || a > b {
            return Err(format!(
                "the range \"{spec}\" does not grow from its start to its end"
            ));
        }
        let mut out = Vec::new();
        let mut x = a;
        while x <= b * (1.0 + 1e-9) {
            if out.len() == AXIS_VALUES_MAX {
                return Err(format!(
                    "the range \"{spec}\" has more than {AXIS_VALUES_MAX} values, the most a sweep axis takes"
                ));
            }
            out.push(if durations {
                Value::String(format_duration_spec(libm::round(x) as u64))
            } else if whole {
                serde_json::json!(libm::round(x) as i64)
            } else {
                serde_json::json!(x)
            });
            x = if op == '*' { x * step } else { x + step };
        }
        return Ok(out);
    }
    // A list of whole numbers stays whole (counts, seeds); one fraction makes every
    // number of the list a float.
    let items: Vec<&str> = spec.split(',').map(str::trim).collect();
    let whole = items
        .iter()
        .all(|v| v.parse::<i64>().is_ok() || v.parse::<f64>().is_err());
    let values: Vec<Value> = items
        .iter()
        .map(|v| match (v.parse::<i64>(), v.parse::<f64>()) {
            (Ok(n), _) if whole => serde_json::json!(n),
            (_, Ok(x)) => serde_json::json!(x),
            _ => Value::String(v.to_string()),
        })
        .collect();
    if values.is_empty() || spec.trim().is_empty() {
        return Err("no values".into());
    }
    Ok(values)
}

/// Reads an axis from the scenario's `sweep.vary` entry: an array of values or a range.
pub fn axis_from_json(path: &str, v: &Value) -> Result<Axis, String> {
    let values = match v {
        Value::Array(a) if !a.is_empty() => a.clone(),
        Value::String(s) => parse_values(s)?,
        _ => {
            return Err(
                "expected a list of values or a range string such as \"250ms..8s*2\"".into(),
            )
        }
    };
    Ok(Axis {
        path: path.to_string(),
        values,
    })
}

/// Sets `path` in a scenario JSON to `value`.
pub fn apply(base: &mut Value, path: &str, value: &Value) -> Result<(), String> {
    let parts: Vec<&str> = path.split('.').collect();
    let mut node = base;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        node = match node {
            Value::Object(map) => {
                if last {
                    map.insert(part.to_string(), value.clone());
                    return Ok(());
                }
                map.get_mut(*part)
                    .ok_or_else(|| format!("\"{path}\": no field \"{part}\""))?
            }
            Value::Array(items) => {
                let found = items.iter().position(|x| {
                    x.get("group").and_then(Value::as_str) == Some(part)
                        || x.get("name").and_then(Value::as_str) == Some(part)
                });
                let idx = match found {
                    Some(i) => i,
                    None => part
                        .parse::<usize>()
                        .ok()
                        .filter(|&i| i < items.len())
                        .ok_or_else(|| format!("\"{path}\": nothing named \"{part}\""))?,
                };
                if last {
                    items[idx] = value.clone();
                    return Ok(());
                }
                &mut items[idx]
            }
            _ => {
                return Err(format!(
                    "\"{path}\": \"{part}\" is not inside an object or a list"
                ))
            }
        };
    }
    Err(format!("\"{path}\" is empty"))
}
