//! Goal: what a new user or a fuzzer tries gets a clear answer: bad input is refused with
//! its path and rule (exit 3) or its flag (exit 2), never a panic; each test here is a
//! defect once found.

use crate::common::{hbsim, temp_dir, text};
use serde_json::{json, Value};

/// A small valid scenario to vary.
fn base() -> Value {
    json!({
        "name": "r", "duration": "2m",
        "clients": [{ "group": "c", "count": 3, "heartbeat": { "interval": "1s" } }],
        "detectors": [{ "name": "d", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "3s" }]
    })
}

/// Writes `text` to a fresh file and returns its path.
fn file(label: &str, text: &str) -> String {
    let path = temp_dir(label).join("s.json");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn confidence_levels_too_close_to_one_are_refused_not_panicked_on() {
    let mut s = base();
    s["expect"] = json!([{ "metric": "d.detection_latency.mean", "max": "5s", "confidence": 0.9999999999999999 }]);
    let path = file("confidence", &s.to_string());
    let out = hbsim(&["validate", &path]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr)
            .contains("expect[0].confidence: expected a level above 0 and at most 0.999999"),
        "{}",
        text(&out.stderr)
    );
    let path = file("confidence-run", &base().to_string());
    let out = hbsim(&[
        "run",
        "--quiet",
        "--confidence",
        "0.9999999999999999",
        &path,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    // The highest accepted level works.
    let dir = temp_dir("confidence-out");
    let out = hbsim(&[
        "run",
        "--quiet",
        "--confidence",
        "0.999999",
        "--out",
        dir.to_str().unwrap(),
        &path,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}
