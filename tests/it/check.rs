//! Goal: `hbsim check` and `hbsim diff` gate CI as README promises: failing expectations
//! exit 1 and name the metric, value and bound; passing ones exit 0; JUnit XML counts
//! tests and failures right; a confidence-aware bound fails when only the point estimate
//! passes; golden comparison shows which metrics moved; `diff` of a report with itself
//! shows no change.

use crate::common::{root, temp_dir};
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output};

fn hbsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hbsim"))
        .args(args)
        .current_dir(root())
        .env_remove("UPDATE_GOLDEN")
        .output()
        .expect("the hbsim binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn scenario(expect: Value) -> Value {
    json!({
        "name": "gate", "seed": 4, "duration": "20m",
        "clients": [{ "group": "c", "count": 50, "heartbeat": { "interval": "1s" },
            "uplink": { "delay": { "dist": "constant", "value": "100ms" },
                        "loss": { "model": "bernoulli", "p": 0.1 } } }],
        "detectors": [{ "name": "d", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "3s" }],
        "faults": [{ "at": "5m", "action": "crash", "clients": "c[0..5]" }],
        "expect": expect
    })
}

fn write(dir: &Path, name: &str, v: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn a_failing_expectation_exits_1_and_names_metric_value_and_bound() {
    let dir = temp_dir("check-fail");
    let f = write(
        &dir,
        "gate.json",
        &scenario(json!([
            { "metric": "d.detection_latency.max", "max": "5s" },
            { "metric": "d.false_positives.total", "max": 0 }
        ])),
    );
    let out = hbsim(&["check", &f]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let pass = stdout
        .lines()
        .find(|l| l.contains("d.detection_latency.max"))
        .unwrap();
    assert!(
        pass.starts_with("PASS") && pass.contains("<= 5 s") && pass.contains("measured"),
        "{pass}"
    );
    let fail = stdout
        .lines()
        .find(|l| l.contains("d.false_positives.total"))
        .unwrap();
    assert!(
        fail.starts_with("FAIL") && fail.contains("<= 0") && fail.contains("margin -"),
        "{fail}"
    );
    // Two expectations, and the analytic latency bound (upper bound only: the link is lossy).
    assert!(stdout.contains("within analytic bounds"), "{stdout}");
    assert!(stdout.contains("check: 2 passed, 1 failed"), "{stdout}");
}

#[test]
fn passing_expectations_exit_0_and_junit_counts_right() {
    let dir = temp_dir("check-junit");
    let f = write(
        &dir,
        "gate.json",
        &scenario(json!([
            { "metric": "d.detection_latency.max", "max": "5s" },
            { "metric": "d.detection_latency.p50", "min": "1s" },
            { "metric": "traffic.lost", "min": 1 }
        ])),
    );
    let xml_path = dir.join("junit.xml");
    let out = hbsim(&["check", &f, "--junit", xml_path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let xml = std::fs::read_to_string(&xml_path).unwrap();
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(
        xml.contains(r#"tests="4""#) && xml.contains(r#"failures="0""#),
        "{xml}"
    );
    assert_eq!(
        xml.matches("<testcase").count(),
        4,
        "three expectations, one analytic bound"
    );

    // Failures are counted and carry the numbers.
    let f = write(
        &dir,
        "gate.json",
        &scenario(json!([
            { "metric": "d.detection_latency.max", "max": "1s" },
            { "metric": "d.detection_latency.p50", "min": "1s" }
        ])),
    );
    let out = hbsim(&[
        "check",
        &f,
        "--junit",
        xml_path.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // Two expectations (one failing) and the analytic bound.
    assert_eq!(
        (v["passed"].as_u64(), v["failed"].as_u64()),
        (Some(2), Some(1))
    );
    let xml = std::fs::read_to_string(&xml_path).unwrap();
    assert!(
        xml.contains(r#"tests="3""#) && xml.contains(r#"failures="1""#),
        "{xml}"
    );
    assert_eq!(xml.matches("<failure").count(), 1);
    assert!(
        xml.contains("d.detection_latency.max &lt;= 1s: measured"),
        "{xml}"
    );
}

#[test]
fn a_confident_bound_fails_when_only_the_point_estimate_passes() {
    let dir = temp_dir("check-confidence");
    // Find the point estimate of the spurious rate, then bound it just above that.
    let f = write(&dir, "gate.json", &scenario(json!([])));
    let out = hbsim(&[
        "run",
        &f,
        "--format",
        "json",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let fp = &r["detectors"]["d"]["false_positives"];
    let rate = fp["spurious_per_client_day"].as_f64().unwrap();
    let upper = fp["spurious_per_client_day_ci"][1].as_f64().unwrap();
    assert!(
        upper > rate * 1.01,
        "the interval must be wider than the point"
    );
    let bound = rate * 1.001;
    let plain = json!([{ "metric": "d.false_positives.spurious_per_client_day", "max": bound }]);
    let confident = json!([{ "metric": "d.false_positives.spurious_per_client_day", "max": bound, "confidence": 0.95 }]);
    let f = write(&dir, "gate.json", &scenario(plain));
    assert_eq!(hbsim(&["check", &f]).status.code(), Some(0));
    let f = write(&dir, "gate.json", &scenario(confident));
    let out = hbsim(&["check", &f]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("[95% confidence]"));
}

#[test]
fn unknown_metric_paths_are_validation_errors_with_suggestions() {
    let dir = temp_dir("check-invalid");
    let f = write(
        &dir,
        "gate.json",
        &scenario(json!([
            { "metric": "d.detection_latency.p98", "max": "5s" },
            { "metric": "d.detection_latency.max", "max": "5s", "confidence": 0.9 },
            { "metric": "d.false_positives.total", "max": "5s" }
        ])),
    );
    let out = hbsim(&["validate", &f]);
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(
        err.contains("expect[0].metric: unknown metric \"d.detection_latency.p98\"")
            && err.contains("d.detection_latency.p99"),
        "{err}"
    );
    assert!(
        err.contains("expect[1].confidence: d.detection_latency.max has no interval"),
        "{err}"
    );
    assert!(
        err.contains("expect[2].max: expected a number for d.false_positives.total"),
        "{err}"
    );
}

#[test]
fn golden_comparison_shows_which_metrics_moved_and_bless_rewrites() {
    let dir = temp_dir("check-golden");
    let goldens = dir.join("goldens");
    let f = write(&dir, "gate.json", &scenario(json!([])));
    let g = goldens.to_str().unwrap();
    let out = hbsim(&["check", &f, "--golden", g]);
    assert_eq!(out.status.code(), Some(1), "a missing golden fails");
    assert!(text(&out.stdout).contains("--bless"));
    assert_eq!(
        hbsim(&["check", &f, "--golden", g, "--bless"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(hbsim(&["check", &f, "--golden", g]).status.code(), Some(0));
    // Another seed moves the numbers: the failure lists them.
    let out = hbsim(&["check", &f, "--golden", g, "--seed", "5"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("d.false_positives.spurious: "), "{stdout}");
    assert!(stdout.contains(" -> "), "{stdout}");
}

#[test]
fn diff_of_a_report_with_itself_shows_no_change_and_otherwise_lists_changes() {
    let dir = temp_dir("diff");
    let a = root().join("reports/flaky.json");
    let out = hbsim(&["diff", a.to_str().unwrap(), a.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).starts_with("no change ("),
        "{}",
        text(&out.stdout)
    );

    let f = write(&dir, "gate.json", &scenario(json!([])));
    let (one, other) = (dir.join("one"), dir.join("other"));
    hbsim(&["run", &f, "--quiet", "--out", one.to_str().unwrap()]);
    hbsim(&[
        "run",
        &f,
        "--quiet",
        "--seed",
        "9",
        "--out",
        other.to_str().unwrap(),
    ]);
    let (x, y) = (one.join("gate.json"), other.join("gate.json"));
    let out = hbsim(&[
        "diff",
        x.to_str().unwrap(),
        y.to_str().unwrap(),
        "--format",
        "markdown",
    ]);
    let md = text(&out.stdout);
    assert!(
        md.starts_with("| metric | old | new | change | relative | significant |"),
        "{md}"
    );
    assert!(md.contains("`d.false_positives.spurious`"), "{md}");
    assert!(md.contains("metrics changed."));
}

#[test]
fn the_project_gates_itself_with_its_committed_scenarios() {
    let scenarios: Vec<String> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| p.to_str().unwrap().to_string())
        .collect();
    let mut args = vec!["check", "--golden", "reports", "--quiet"];
    args.extend(scenarios.iter().map(String::as_str));
    for args in [
        args,
        vec![
            "check",
            "--golden",
            "reports/presets",
            "scenarios/presets",
            "--quiet",
        ],
    ] {
        let out = hbsim(&args);
        assert!(out.status.success(), "{}", text(&out.stdout));
        assert!(text(&out.stdout).contains(", 0 failed"));
    }
}
