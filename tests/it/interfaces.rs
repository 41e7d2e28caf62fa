//! Goal: the machine interfaces are stable enough to build on: events as JSON Lines,
//! one JSON document per invocation, a `format_version` and integer `_ns` durations in
//! every JSON output, `-` for standard input, `diff --fail-on` for CI gates, shell
//! completions and a manual page.

use crate::common::{hbsim, root, temp_dir, text};
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};

fn with_stdin(args: &[&str], input: &[u8]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hbsim"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hbsim runs");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn events_as_json_lines_are_all_that_goes_to_stdout() {
    let dir = temp_dir("interfaces-events");
    let out = hbsim(&[
        "run",
        "scenarios/seed.json",
        "--events=jsonl",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    let events: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    // 100 first contacts, 12 crashes (ground truth) and their 12 detections.
    assert_eq!(events.len(), 124, "{stdout}");
    let offline: Vec<&Value> = events
        .iter()
        .filter(|e| e["verdict"] == "offline")
        .collect();
    assert_eq!(offline.len(), 12);
    for e in &offline {
        assert_eq!(e["detector"], "seed");
        assert_eq!(e["truth"], "down");
        assert!(e["time_ns"].as_u64().unwrap() > e["last_arrival_ns"].as_u64().unwrap());
    }
    assert!(events
        .iter()
        .any(|e| e["verdict"] == "crashed" && e["detector"].is_null()));
    // The text form, too, replaces the summary.
    let out = hbsim(&[
        "run",
        "scenarios/seed.json",
        "--events",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(
        !text(&out.stdout).contains("Detection latency"),
        "no summary with events"
    );
    assert!(
        text(&out.stderr).contains("seed-timeline.svg"),
        "the wrote note lists pictures"
    );
}

#[test]
fn several_reports_are_one_json_document_or_json_lines() {
    let dir = temp_dir("interfaces-format");
    let out_dir = dir.to_str().unwrap();
    let args = [
        "run",
        "scenarios/seed.json",
        "scenarios/churn.json",
        "--out",
        out_dir,
    ];
    let out = hbsim(&[&args[..], &["--format", "json"]].concat());
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let reports = doc.as_array().expect("an array of reports");
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[1]["scenario"]["name"], "churn");
    let out = hbsim(&[&args[..], &["--format", "jsonl"]].concat());
    let lines: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    for r in reports.iter().chain(&lines) {
        assert_eq!(r["format_version"], 1);
    }
}

#[test]
fn every_json_output_has_a_format_version_and_integer_durations() {
    let dir = temp_dir("interfaces-json");
    // check: duration bounds and values as integer nanoseconds.
    let out = hbsim(&["check", "scenarios/seed.json", "--format", "json"]);
    let c: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(c["format_version"], 1);
    let first = &c["checks"][0];
    assert_eq!(first["metric"], "seed.detection_latency.max");
    assert_eq!(first["bound_ns"], 5_000_000_000u64);
    assert!(first["value_ns"].is_u64(), "{first}");
    assert!(first.get("bound").is_none());
    // diff: old_ns / new_ns for durations.
    let run = hbsim(&[
        "run",
        "scenarios/flaky.json",
        "--seed",
        "9",
        "--out",
        dir.to_str().unwrap(),
        "-q",
    ]);
    assert!(run.status.success());
    let new = dir.join("flaky.json");
    let out = hbsim(&[
        "diff",
        "reports/flaky.json",
        new.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["format_version"], 1);
    let p99 = d["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["metric"]
                .as_str()
                .unwrap()
                .ends_with("detection_latency.p99")
        })
        .expect("p99 changed");
    assert!(p99["old_ns"].is_u64() && p99["new_ns"].is_u64(), "{p99}");
    // sweep: integer durations and counts.
    let out = hbsim(&[
        "sweep",
        "scenarios/tune-mobile.json",
        "--format",
        "json",
        "--out",
        dir.to_str().unwrap(),
        "-q",
    ]);
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["format_version"], 1);
    let row = &s["rows"][0];
    assert!(
        row["missed"].is_u64() && row["latency_p99_ns"].is_u64(),
        "{row}"
    );
}

#[test]
fn a_dash_reads_the_scenario_from_standard_input() {
    let seed = std::fs::read(root().join("scenarios/seed.json")).unwrap();
    let dir = temp_dir("interfaces-stdin");
    let out = with_stdin(&["validate", "-"], &seed);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = with_stdin(&["run", "-", "--out", dir.to_str().unwrap(), "-q"], &seed);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read(dir.join("seed.json")).unwrap(),
        std::fs::read(root().join("reports/seed.json")).unwrap(),
        "the same report as from the file"
    );
    let out = with_stdin(&["check", "-"], &seed);
    assert!(out.status.success());
    let tune_mobile = std::fs::read(root().join("scenarios/tune-mobile.json")).unwrap();
    let out = with_stdin(
        &["sweep", "-", "--out", dir.to_str().unwrap(), "-q"],
        &tune_mobile,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Standard input holds one scenario.
    let out = with_stdin(&["validate", "-", "-"], &seed);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("can be read only once"));
}

#[test]
fn diff_fails_on_request() {
    let dir = temp_dir("interfaces-diff");
    let same = hbsim(&[
        "diff",
        "reports/flaky.json",
        "reports/flaky.json",
        "--fail-on",
        "any",
    ]);
    assert!(same.status.success());
    let run = hbsim(&[
        "run",
        "scenarios/flaky.json",
        "--seed",
        "9",
        "--out",
        dir.to_str().unwrap(),
        "-q",
    ]);
    assert!(run.status.success());
    let new = dir.join("flaky.json");
    for (when, code) in [("any", 1), ("significant", 1)] {
        let out = hbsim(&[
            "diff",
            "reports/flaky.json",
            new.to_str().unwrap(),
            "--fail-on",
            when,
        ]);
        assert_eq!(out.status.code(), Some(code), "--fail-on {when}");
        assert!(text(&out.stderr).contains(&format!("--fail-on {when}")));
    }
    let out = hbsim(&["diff", "reports/flaky.json", new.to_str().unwrap()]);
    assert!(out.status.success(), "without --fail-on a diff is a report");
}

#[test]
fn completions_and_the_manual_page_are_generated() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = hbsim(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let script = text(&out.stdout);
        assert!(
            script.contains("sweep") && script.contains("threads"),
            "{shell}"
        );
    }
    let out = hbsim(&["man"]);
    assert!(out.status.success());
    let page = text(&out.stdout);
    assert!(page.contains(".TH hbsim 1"), "{page}");
    assert!(page.contains("completions"));
}

#[test]
fn validate_and_tune_speak_json_too() {
    let dir = temp_dir("interfaces-validate");
    let bad = dir.join("broken.json");
    std::fs::write(
        &bad,
        r#"{"name": "broken", "duration": "1s", "clients": [], "detectors": []}"#,
    )
    .unwrap();
    let out = hbsim(&[
        "validate",
        "scenarios/seed.json",
        bad.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["valid"], false);
    assert_eq!(v["files"][0]["valid"], true);
    assert_eq!(
        v["files"][1]["problems"][0],
        "clients: must list at least one entry"
    );
    // tune: the recommendation with integer durations.
    let out = hbsim(&[
        "tune",
        "--out",
        "target/tune-pages",
        "scenarios/tune-mobile.json",
        "--target",
        "deadline.detection_latency.p99<=30s",
        "--format",
        "json",
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let t: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(t["format_version"], 1);
    let r = &t["recommended"];
    assert!(
        r["interval_ns"].is_u64() && r["threshold_ns"].is_u64(),
        "{r}"
    );
    assert!(r["targets"][0]["value_ns"].is_i64(), "{r}");
}

#[test]
fn the_report_leads_with_a_verdict_that_names_the_best_detectors() {
    for name in ["compare-detectors", "literature", "flaky"] {
        let json: Value = serde_json::from_str(
            &std::fs::read_to_string(root().join(format!("reports/{name}.json"))).unwrap(),
        )
        .unwrap();
        let md = std::fs::read_to_string(root().join(format!("reports/{name}.md"))).unwrap();
        let glance = md.find("## At a glance").expect("a verdict section");
        let first_detector = md.find("## Detector").unwrap();
        assert!(
            glance < first_detector && glance < md.find("![").unwrap(),
            "{name}: verdict first"
        );
        let dets = json["detectors"].as_object().unwrap();
        let argmin = |f: &dyn Fn(&Value) -> Option<f64>| {
            dets.iter()
                .filter_map(|(n, d)| f(d).map(|v| (n.clone(), v)))
                .fold(None, |b: Option<(String, f64)>, (n, v)| match b {
                    Some((_, bv)) if bv <= v => b,
                    _ => Some((n, v)),
                })
                .unwrap()
                .0
        };
        let fast = argmin(&|d| d["detection_latency"]["p99_ns"].as_f64());
        let careful = argmin(&|d| d["false_positives"]["spurious_per_client_day"].as_f64());
        let sentence = md[glance..].lines().nth(2).unwrap();
        if fast == careful {
            assert!(
                sentence.contains(&format!("`{fast}` is best on both counts")),
                "{name}: {sentence}"
            );
        } else {
            assert!(
                sentence.contains(&format!("`{fast}` detects fastest")),
                "{name}: {sentence}"
            );
            assert!(
                sentence.contains(&format!("`{careful}` makes the fewest mistakes")),
                "{name}: {sentence}"
            );
        }
        // Every detector's settings are in the table.
        for (n, d) in dets {
            let row = md
                .lines()
                .find(|l| l.starts_with(&format!("| `{n}` |")))
                .unwrap();
            assert!(
                row.contains(d["settings"].as_str().unwrap()),
                "{name}: {row}"
            );
        }
    }
}
