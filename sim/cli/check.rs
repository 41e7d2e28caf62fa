//! `hbsim check PATH...`: runs every scenario in parallel (output in input order),
//! evaluates its expectations, optionally compares its report with a golden one, prints
//! one aligned line per check, and writes JUnit XML.

use super::{load_all, write_atomically, CheckArgs, CheckFormat, Failure};
use hbsim::scenario::expect::{compare, Bound, Expectation, Shown, Unit, Verdict};
use hbsim::study::check;
use quick_junit::{NonSuccessKind, Report as JUnit, TestCase, TestCaseStatus, TestSuite};
use rayon::prelude::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// Scenario files under `paths`: files as given, directories searched recursively for
/// `*.json` (except `*.schema.json`, such as the output of `hbsim schema`), each
/// directory's entries sorted by name; symlinked directories inside are not followed.
fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for p in entries {
            // Symlinked directories are not followed: a link back up would loop forever.
            let linked = std::fs::symlink_metadata(&p)?.file_type().is_symlink();
            if p.is_dir() {
                if !linked {
                    walk(&p, out)?;
                }
            } else if p.extension().is_some_and(|e| e == "json")
                && !p.to_string_lossy().ends_with(".schema.json")
            {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out).map_err(|e| Failure {
                code: 2,
                message: format!("hbsim: cannot read directory {}: {e}", p.display()),
            })?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// The outcome of comparing one report with its golden files.
enum Golden {
    Same,
    Blessed,
    Missing(PathBuf),
    /// Metric-level changes, or a note when only non-metric bytes differ.
    Changed(Vec<String>),
}

fn golden(
    dir: &Path,
    name: &str,
    report: &hbsim::Report,
    pictures: &[(String, String)],
    bless: bool,
) -> Result<Golden, Failure> {
    let json_path = dir.join(format!("{name}.json"));
    let json_text = report.to_json();
    let mut files = vec![
        (json_path.clone(), json_text.clone()),
        (dir.join(format!("{name}.md")), report.to_markdown()),
        (dir.join(format!("{name}.html")), report.to_html(pictures)),
    ];
    files.extend(pictures.iter().map(|(f, svg)| (dir.join(f), svg.clone())));
    if bless {
        for (path, text) in &files {
            write_atomically(path, text.as_bytes())?;
        }
        return Ok(Golden::Blessed);
    }
    let Ok(committed) = std::fs::read_to_string(&json_path) else {
        return Ok(Golden::Missing(json_path));
    };
    let differing: Vec<&PathBuf> = files
        .iter()
        .filter(|(path, text)| std::fs::read_to_string(path).ok().as_deref() != Some(text))
        .map(|(path, _)| path)
        .collect();
    if differing.is_empty() {
        return Ok(Golden::Same);
    }
    let mut lines = Vec::new();
    match serde_json::from_str::<Value>(&committed) {
        Ok(old) => {
            let new: Value = serde_json::from_str(&json_text).expect("our own JSON");
            for c in compare(&old, &new).0 {
                let f = Shown::lead(c.unit, c.new.or(c.old).unwrap_or(0.0), c.old);
                let show = |v: Option<f64>| v.map(|v| f.show(v)).unwrap_or("–".into());
                lines.push(format!("{}: {} -> {}", c.path, show(c.old), show(c.new)));
            }
        }
        Err(e) => lines.push(format!("{} is not JSON: {e}", json_path.display())),
    }
    if lines.is_empty() {
        let names: Vec<String> = differing.iter().map(|p| p.display().to_string()).collect();
        lines.push(format!(
            "no metric changed, but these files differ: {}",
            names.join(", ")
        ));
    }
    Ok(Golden::Changed(lines))
}

struct Line {
    scenario: String,
    pass: bool,
    text: String,
    json: Value,
    junit: TestCase,
}

fn expectation_line(scenario: &str, e: &Expectation, v: &Verdict) -> Line {
    let unit = e.path.unit;
    let bound = e.bound_value();
    // One unit for the bound, the measurement, its interval and the margin.
    let f = Shown::of_target(e, v.value, v.interval, v.margin);
    let measured = match (v.value, v.interval) {
        (Some(x), Some(i)) => format!("{} [{}, {}]", f.show(x), f.show(i[0]), f.show(i[1])),
        (Some(x), None) => f.show(x),
        (None, _) => "–".into(),
    };
    let margin = match v.margin {
        Some(m) => {
            let rel = if bound != 0.0 {
                format!(" ({:+.1} %)", m / bound.abs() * 100.0)
            } else {
                String::new()
            };
            format!("margin {}{rel}", f.signed(m))
        }
        None => v.note.clone(),
    };
    let shown = e.describe_with(|b| f.bound(b));
    let status = if v.pass { "PASS" } else { "FAIL" };
    let name = e.describe();
    let mut junit_status = if v.pass {
        TestCaseStatus::success()
    } else {
        TestCaseStatus::non_success(NonSuccessKind::Failure)
    };
    if !v.pass {
        junit_status.set_message(format!("{name}: measured {measured}, {margin}"));
    }
    let mut tc = TestCase::new(name.clone(), junit_status);
    tc.set_classname(scenario.to_string());
    Line {
        scenario: scenario.into(),
        pass: v.pass,
        text: format!("{status}\t{scenario}\t{shown}\tmeasured {measured}\t{margin}"),
        json: {
            let mut j = json!({
                "scenario": scenario, "check": "expect", "metric": e.metric, "group": e.group,
                "op": match e.bound { Bound::Max(_) => "max", Bound::Min(_) => "min" },
                "confidence": e.confidence, "pass": v.pass, "note": v.note,
            });
            // Durations as integer nanoseconds under `_ns` keys, as in the reports.
            let ns = |x: f64| libm::round(x) as i64;
            if unit == Unit::Duration {
                j["bound_ns"] = json!(ns(bound));
                j["value_ns"] = json!(v.value.map(ns));
                j["interval_ns"] = json!(v.interval.map(|i| [ns(i[0]), ns(i[1])]));
                j["margin_ns"] = json!(v.margin.map(ns));
            } else {
                j["bound"] = json!(bound);
                j["value"] = json!(v.value);
                j["interval"] = json!(v.interval);
                j["margin"] = json!(v.margin);
            }
            j
        },
        junit: tc,
    }
}

fn golden_line(scenario: &str, g: &Golden) -> Line {
    let (pass, detail, changes): (bool, String, Vec<String>) = match g {
        Golden::Same => (true, "report identical to the golden one".into(), vec![]),
        Golden::Blessed => (true, "golden report rewritten".into(), vec![]),
        Golden::Missing(p) => (
            false,
            format!(
                "no golden report {} (run with --bless to create it)",
                p.display()
            ),
            vec![],
        ),
        Golden::Changed(lines) => (
            false,
            format!(
                "report differs from the golden one in {}",
                hbsim::report::counted(lines.len() as u64, "place", "places")
            ),
            lines.clone(),
        ),
    };
    let mut status = if pass {
        TestCaseStatus::success()
    } else {
        TestCaseStatus::non_success(NonSuccessKind::Failure)
    };
    if !pass {
        status.set_message(detail.clone());
        status.set_description(changes.join("\n"));
    }
    let mut tc = TestCase::new("golden report", status);
    tc.set_classname(scenario.to_string());
    let mut text = format!(
        "{}\t{scenario}\tgolden report\t{detail}",
        if pass { "PASS" } else { "FAIL" }
    );
    for c in &changes {
        text.push_str(&format!("\n\t\t  {c}"));
    }
    Line {
        scenario: scenario.into(),
        pass,
        text,
        json: json!({ "scenario": scenario, "check": "golden", "pass": pass,
                      "detail": detail, "changes": changes }),
        junit: tc,
    }
}

/// One line per hard analytic bound that applies: an observed detection latency outside
/// the range theory allows is a bug in the model.
fn analytic_lines(scenario: &str, report: &hbsim::Report) -> Vec<Line> {
    let mut out = Vec::new();
    for (d, det) in &report.detectors.0 {
        for (g, group) in &det.groups.0 {
            let b = &group.analytic.detection_latency;
            if !b.applies {
                continue;
            }
            let verdict = b.verdict.as_deref().unwrap_or("no samples");
            let pass = verdict != "outside";
            let st = &group.detection_latency.stats;
            let f = hbsim::base::human::TimeFormat::fit(
                [b.min_ns, b.max_ns, st.min_ns, st.max_ns]
                    .into_iter()
                    .flatten(),
            );
            let show = |v: Option<u64>| v.map(|v| f.show(v));
            let range = format!(
                "[{}, {}]",
                show(b.min_ns).unwrap_or_else(|| "0".into()),
                show(b.max_ns).unwrap_or_default()
            );
            let observed = format!(
                "observed [{}, {}]",
                show(group.detection_latency.stats.min_ns).unwrap_or("–".into()),
                show(group.detection_latency.stats.max_ns).unwrap_or("–".into())
            );
            let name = format!("{d}.detection_latency within analytic bounds {range} [group {g}]");
            let mut status = if pass {
                TestCaseStatus::success()
            } else {
                TestCaseStatus::non_success(NonSuccessKind::Failure)
            };
            if !pass {
                status.set_message(format!("{name}: {observed}"));
            }
            let mut tc = TestCase::new(name.clone(), status);
            tc.set_classname(scenario.to_string());
            out.push(Line {
                scenario: scenario.into(),
                pass,
                text: format!(
                    "{}\t{scenario}\t{name}\t{observed}\t{verdict}",
                    if pass { "PASS" } else { "FAIL" }
                ),
                json: json!({ "scenario": scenario, "check": "analytic", "detector": d, "group": g,
                              "min_ns": b.min_ns, "max_ns": b.max_ns, "verdict": verdict, "pass": pass }),
                junit: tc,
            });
        }
    }
    out
}

/// Aligns tab-separated columns (continuation lines, starting with a tab, stay as they are).
fn align(lines: &[String]) -> Vec<String> {
    let rows: Vec<Vec<&str>> = lines
        .iter()
        .map(|l| l.lines().next().unwrap_or("").split('\t').collect())
        .collect();
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; cols];
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    lines
        .iter()
        .zip(&rows)
        .map(|(l, r)| {
            let mut s = String::new();
            for (i, c) in r.iter().enumerate() {
                if i + 1 == r.len() {
                    s.push_str(c);
                } else {
                    s.push_str(&format!("{c:<w$}  ", w = widths[i]));
                }
            }
            for extra in l.lines().skip(1) {
                s.push('\n');
                s.push_str(&extra.replace('\t', "  "));
            }
            s
        })
        .collect()
}

/// Writes `report` as JUnit XML that validates against the Jenkins xunit plugin's
/// `junit-10.xsd` (tests/data/junit-10.xsd): quick-junit writes a `disabled` count on every
/// `<testsuite>`, an attribute that schema does not allow, so it is taken out here.
fn write_junit(path: &std::path::Path, report: &JUnit) -> Result<(), Failure> {
    let xml = report.to_string().map_err(|e| Failure {
        code: 2,
        message: format!("hbsim: cannot write JUnit XML: {e}"),
    })?;
    write_atomically(path, without_disabled(&xml).as_bytes())
}

/// `xml` without the ` disabled="N"` attribute of its `<testsuite>` start tags.
fn without_disabled(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len());
    for line in xml.split_inclusive('\n') {
        match (
            line.trim_start().starts_with("<testsuite "),
            line.find(" disabled=\""),
        ) {
            (true, Some(at)) => {
                let rest = &line[at + " disabled=\"".len()..];
                let end = rest.find('"').map_or(rest.len(), |e| e + 1);
                out.push_str(&line[..at]);
                out.push_str(&rest[end..]);
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// The JUnit file of a check that could not start: one suite per scenario file given,
/// with an `error` case naming it and every problem found (or, when the problem is not
/// the file's, the whole message).
fn write_junit_error(
    path: &std::path::Path,
    files: &[std::path::PathBuf],
    failure: &Failure,
) -> Result<(), Failure> {
    let mut report = JUnit::new("hbsim check");
    for f in files {
        let shown = f.display().to_string();
        let mine: Vec<&str> = failure
            .message
            .split("hbsim: ")
            .filter(|m| m.contains(&shown))
            .collect();
        let mut suite = TestSuite::new(shown.clone());
        let (status, text) = if mine.is_empty() {
            (TestCaseStatus::success(), None)
        } else {
            let mut st = TestCaseStatus::non_success(NonSuccessKind::Error);
            st.set_type("invalid scenario");
            st.set_message(format!("{shown}: invalid, see the problems listed"));
            (st, Some(mine.join("hbsim: ").trim_end().to_string()))
        };
        let mut status = status;
        if let Some(t) = text {
            status.set_description(t);
        }
        let mut tc = TestCase::new("validate".to_string(), status);
        tc.set_classname(shown);
        tc.set_time(std::time::Duration::ZERO);
        suite.add_test_case(tc);
        suite.set_time(std::time::Duration::ZERO);
        report.add_test_suite(suite);
    }
    report.set_time(std::time::Duration::ZERO);
    write_junit(path, &report)
}

pub(crate) fn run(args: CheckArgs) -> Result<(), Failure> {
    let files = collect(&args.paths)?;
    if files.is_empty() {
        return Err(Failure {
            code: 2,
            message: "hbsim: no scenario files found".into(),
        });
    }
    let loaded = match load_all(&files, true) {
        Ok(l) => l,
        Err(f) => {
            // CI shows nothing of a run that wrote no report: say what is wrong in it.
            if let Some(path) = &args.junit {
                write_junit_error(path, &files, &f)?;
            }
            return Err(f);
        }
    };
    let limits = args.limits.limits();
    let bless = args.bless || std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    // Scenarios run in parallel; results come back in input order.
    let pb = super::bar(loaded.len(), args.quiet, "scenarios");
    let results: Vec<_> = loaded
        .par_iter()
        .map(|(path, bytes, s)| {
            let seed = args.seed.unwrap_or(s.seed);
            let replications = args.replications.unwrap_or(s.replications);
            // Wall time, for the JUnit file only (its consumers want `time`): it appears
            // in no report, golden or summary.
            #[allow(clippy::disallowed_methods)]
            let started = std::time::Instant::now();
            let checked = check::check(s, bytes, seed, replications, limits);
            if let Some(pb) = &pb {
                pb.inc(1);
            }
            (path, s, checked, started.elapsed())
        })
        .collect();
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let mut lines = Vec::new();
    let mut wall: Vec<(String, std::time::Duration)> = Vec::new();
    for (path, s, result, took) in results {
        wall.push((s.name.clone(), took));
        let checked = result.map_err(|e| Failure {
            code: 4,
            message: format!("hbsim: scenario {}: {e}", path.display()),
        })?;
        for (e, v) in &checked.results {
            lines.push(expectation_line(&s.name, e, v));
        }
        lines.extend(analytic_lines(&s.name, &checked.report));
        if let Some(dir) = &args.golden {
            let g = golden(dir, &s.name, &checked.report, &checked.pictures, bless)?;
            lines.push(golden_line(&s.name, &g));
        }
    }
    let failed = lines.iter().filter(|l| !l.pass).count();
    let passed = lines.len() - failed;
    if let Some(path) = &args.junit {
        let mut report = JUnit::new("hbsim check");
        let mut names: Vec<&str> = Vec::new();
        for l in &lines {
            if !names.contains(&l.scenario.as_str()) {
                names.push(&l.scenario);
            }
        }
        let mut total = std::time::Duration::ZERO;
        for name in names {
            let took = wall
                .iter()
                .find(|(n, _)| n == name)
                .map_or(std::time::Duration::ZERO, |w| w.1);
            total += took;
            let mut suite = TestSuite::new(name.to_string());
            suite.set_time(took);
            let cases: Vec<&Line> = lines.iter().filter(|l| l.scenario == name).collect();
            // Each check's share of the run it needed, so that cases add up to the suite.
            let share = took / cases.len().max(1) as u32;
            suite.add_test_cases(cases.iter().map(|l| {
                let mut tc = l.junit.clone();
                tc.set_time(share);
                tc
            }));
            report.add_test_suite(suite);
        }
        report.set_time(total);
        write_junit(path, &report)?;
    }
    match args.format {
        CheckFormat::Json => {
            let out = json!({ "format_version": hbsim::report::FORMAT_VERSION,
                              "passed": passed, "failed": failed,
                              "checks": lines.iter().map(|l| l.json.clone()).collect::<Vec<_>>() });
            println!("{}", serde_json::to_string_pretty(&out).expect("json"));
        }
        CheckFormat::Text => {
            let shown: Vec<String> = lines
                .iter()
                .filter(|l| !args.quiet || !l.pass)
                .map(|l| l.text.clone())
                .collect();
            for l in align(&shown) {
                println!("{l}");
            }
            println!("check: {passed} passed, {failed} failed");
        }
    }
    if failed > 0 {
        Err(Failure {
            code: 1,
            message: format!("hbsim: {failed} check(s) failed"),
        })
    } else {
        Ok(())
    }
}
