//! `hbsim diff OLD NEW`: metric-by-metric comparison of two reports.

use super::{DiffArgs, DiffFormat, FailOn, Failure};
use hbsim::scenario::expect::{compare, leaves, Change, Shown, Unit};
use serde_json::{json, Value};

fn read(path: &std::path::Path) -> Result<Value, Failure> {
    let bytes = std::fs::read(path).map_err(|e| Failure {
        code: 2,
        message: format!("hbsim: cannot read report {}: {e}", path.display()),
    })?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| Failure {
        code: 3,
        message: format!("hbsim: {} is not a JSON report: {e}", path.display()),
    })?;
    // A report names its version, its scenario, its detectors and its traffic; anything
    // else (a scenario, `{}`) would compare as "every metric changed".
    let missing: Vec<&str> = [
        (
            "hbsim_version",
            value.get("hbsim_version").is_some_and(Value::is_string),
        ),
        (
            "scenario.name",
            value
                .pointer("/scenario/name")
                .is_some_and(Value::is_string),
        ),
        (
            "detectors",
            value.get("detectors").is_some_and(Value::is_object),
        ),
        (
            "traffic",
            value.get("traffic").is_some_and(Value::is_object),
        ),
    ]
    .iter()
    .filter(|(_, present)| !present)
    .map(|(key, _)| *key)
    .collect();
    if !missing.is_empty() {
        return Err(Failure {
            code: 3,
            message: format!(
                "hbsim: {} is not an hbsim report (no {}); diff compares the JSON reports that `hbsim run` writes",
                path.display(),
                missing.join(", ")
            ),
        });
    }
    Ok(value)
}

/// The format of a row: one unit for the old value, the new one and the change, with
/// enough decimals for the change to show three significant figures.
fn row_format(c: &Change) -> Shown {
    let lead = match (c.old, c.new) {
        (Some(a), Some(b)) if a != b => (b - a).abs(),
        (a, b) => b.or(a).unwrap_or(0.0),
    };
    Shown::lead(c.unit, lead, c.old.into_iter().chain(c.new))
}

fn cell(f: &Shown, v: Option<f64>) -> String {
    v.map(|v| f.show(v)).unwrap_or_else(|| "–".into())
}

/// Absolute and relative change as text.
fn delta(f: &Shown, c: &Change) -> (String, String) {
    match (c.old, c.new) {
        (Some(a), Some(b)) => {
            let d = b - a;
            let rel = if a != 0.0 {
                format!("{:+.1} %", d / a.abs() * 100.0)
            } else {
                "–".into()
            };
            (f.signed(d), rel)
        }
        _ => ("–".into(), "–".into()),
    }
}

fn significance(c: &Change) -> &'static str {
    match c.significant {
        Some(true) => "yes",
        Some(false) => "no",
        None => "–",
    }
}

pub(crate) fn run(args: DiffArgs) -> Result<(), Failure> {
    let old = read(&args.old)?;
    let new = read(&args.new)?;
    let (vo, vn) = (&old["hbsim_version"], &new["hbsim_version"]);
    if vo != vn {
        return Err(Failure {
            code: 3,
            message: format!(
                "hbsim: {} was written by hbsim {vo} and {} by hbsim {vn}; their metrics may differ in meaning, so rerun both scenarios with one version",
                args.old.display(),
                args.new.display()
            ),
        });
    }
    let (mut changes, compared) = compare(&old, &new);
    if args.all {
        // Add the unchanged metrics, in the old report's order.
        let changed: Vec<String> = changes.iter().map(|c| c.path.clone()).collect();
        let mut all: Vec<Change> = leaves(&old)
            .into_iter()
            .map(|l| Change {
                path: l.path,
                unit: l.unit,
                old: Some(l.value),
                new: Some(l.value),
                significant: None,
            })
            .collect();
        for c in all.iter_mut() {
            if let Some(real) = changes.iter().find(|x| x.path == c.path) {
                *c = real.clone();
            }
        }
        all.extend(
            changes
                .into_iter()
                .filter(|c| c.old.is_none() && !changed.is_empty()),
        );
        changes = all;
    }
    let rows: Vec<[String; 6]> = changes
        .iter()
        .map(|c| {
            let f = row_format(c);
            let (abs, rel) = delta(&f, c);
            [
                c.path.clone(),
                cell(&f, c.old),
                cell(&f, c.new),
                abs,
                rel,
                significance(c).to_string(),
            ]
        })
        .collect();
    let changed = changes.iter().filter(|c| c.old != c.new).count();
    let significant = changes
        .iter()
        .filter(|c| c.old != c.new && c.significant != Some(false))
        .count();
    let verdict = match args.fail_on {
        Some(FailOn::Any) if changed > 0 => Err(Failure {
            code: 1,
            message: format!("hbsim: {changed} of {compared} metrics changed (--fail-on any)"),
        }),
        Some(FailOn::Significant) if significant > 0 => Err(Failure {
            code: 1,
            message: format!(
                "hbsim: {significant} of {compared} metrics changed significantly (--fail-on significant)"
            ),
        }),
        _ => Ok(()),
    };
    match args.format {
        DiffFormat::Json => {
            // Durations as integer nanoseconds under `_ns` keys, as in the reports.
            let ns = |x: Option<f64>| x.map(|x| x.round() as i64);
            let items: Vec<Value> = changes
                .iter()
                .map(|c| match c.unit {
                    Unit::Duration => json!({ "metric": c.path, "old_ns": ns(c.old),
                        "new_ns": ns(c.new), "significant": c.significant }),
                    Unit::Number => json!({ "metric": c.path, "old": c.old, "new": c.new,
                        "significant": c.significant }),
                })
                .collect();
            let out = json!({ "format_version": hbsim::report::FORMAT_VERSION,
                              "compared": compared, "changed": changed, "changes": items });
            println!("{}", serde_json::to_string_pretty(&out).expect("json"));
        }
        DiffFormat::Markdown => {
            println!(
                "| metric | old | new | change | relative | significant |\n|---|--:|--:|--:|--:|:-:|"
            );
            for r in &rows {
                println!(
                    "| `{}` | {} | {} | {} | {} | {} |",
                    r[0], r[1], r[2], r[3], r[4], r[5]
                );
            }
            println!("\n{changed} of {compared} metrics changed.");
        }
        DiffFormat::Text => {
            if changed == 0 && !args.all {
                println!("no change ({compared} metrics compared)");
                return verdict;
            }
            let header = ["metric", "old", "new", "change", "relative", "significant"];
            let mut widths = header.map(str::len);
            for r in &rows {
                for (w, c) in widths.iter_mut().zip(r) {
                    *w = (*w).max(c.chars().count());
                }
            }
            let line = |cells: [&str; 6]| {
                let mut s = format!("{:<w$}", cells[0], w = widths[0]);
                for (c, w) in cells.iter().zip(widths).skip(1) {
                    s.push_str(&format!("  {c:>w$}"));
                }
                s
            };
            println!("{}", line(header));
            for r in &rows {
                println!(
                    "{}",
                    line([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5]].map(|s| s.as_str()))
                );
            }
            println!("{changed} of {compared} metrics changed");
        }
    }
    verdict
}
