//! Goal: Chen, Toueg and Aguilera's NFD-S and NFD-E and Bertier's adaptive detector match
//! their closed forms, derived from first principles for constant delay `d`, Bernoulli
//! loss `p`, heartbeat interval `η` and `d < δ < d + η`:
//!
//! - NFD-S suspects at `τ_{i} = σ_i + δ` iff `m_i` is lost (`m_{i+1}` is sent at
//!   `σ_i + η` and arrives after `τ_i`). A crash at `c ∈ [σ_J, σ_{J+1})` is suspected at
//!   `τ_{J+1}`: latency `σ_J + η + δ − c ∈ (δ, δ + η]`, uniform for a uniform crash
//!   instant. A mistake starts at `τ_i` when `m_i` is lost and `m_{i−1}` was not: rate
//!   `p(1 − p)/η`. It ends when the next heartbeat `m_k` arrives at `σ_k + d`, `k − i`
//!   geometric with mean `1/(1 − p)`: mean duration `η/(1 − p) − (δ − d)`.
//! - NFD-E: every sample `A_i − η·s_i` is `σ_0 + d`, so `EA_{l+1} = σ_{l+1} + d` from the
//!   first heartbeat on and `τ_{l+1} = σ_{l+1} + d + α`: NFD-S with `δ = d + α`, verdict
//!   for verdict.
//! - Bertier: every estimate is exact, every error 0, so the margin stays 0: NFD-S with
//!   `δ = d`. Under delay jitter `U[d, d + w]` the margin settles near `1.02·w` (derived in
//!   the detector's unit tests), which moves the mean detection latency to about
//!   `η/2 + d + w/2 + 1.02·w`.

use crate::common::{hbsim, run, temp_dir, text};
use serde_json::{json, Value};

const MS: f64 = 1e6;
const S: f64 = 1e9;

fn scenario(count: u32, duration: &str, loss: f64, delay: Value, detectors: Value) -> Value {
    json!({
        "name": "literature", "duration": duration, "seed": 11,
        "clients": [{ "group": "c", "count": count, "heartbeat": { "interval": "1s" },
            "uplink": { "delay": delay, "loss": { "model": "bernoulli", "p": loss } } }],
        "detectors": detectors,
        "faults": [{ "at": "300s", "action": "crash", "clients": "c" }]
    })
}

fn constant(ms: u32) -> Value {
    json!({ "dist": "constant", "value": format!("{ms}ms") })
}

fn detector<'r>(r: &'r hbsim::Report, name: &str) -> &'r hbsim::report::DetectorReport {
    &r.detectors.0.iter().find(|(n, _)| n == name).unwrap().1
}

/// Asserts that detector `other` reached the verdicts of `reference`: the same report
/// but for its kind and settings.
fn same_verdicts(r: &hbsim::Report, reference: &str, other: &str) {
    let reference = serde_json::to_value(detector(r, reference)).unwrap();
    let mut v = serde_json::to_value(detector(r, other)).unwrap();
    v["kind"] = reference["kind"].clone();
    v["settings"] = reference["settings"].clone();
    assert_eq!(v, reference, "{other}");
}

#[test]
fn nfd_s_detects_a_crash_within_shift_and_shift_plus_interval_uniformly() {
    let s = scenario(
        4000,
        "400s",
        0.0,
        constant(20),
        json!([{ "name": "s", "kind": "nfd-s", "shift": "520ms" }]),
    );
    let r = run(&s.to_string());
    let l = &detector(&r, "s").detection_latency;
    assert_eq!(l.count, 4000);
    let (lo, hi) = (
        l.stats.min_ns.unwrap() as f64,
        l.stats.max_ns.unwrap() as f64,
    );
    // (δ, δ + η]; a crash exactly at a send instant comes first and gives δ itself.
    assert!(lo >= 520.0 * MS && hi <= 1520.0 * MS, "{lo} … {hi}");
    // Uniform: mean δ + η/2 and median alike, within 4 standard errors (σ = η/√12).
    let se = S / 12f64.sqrt() / 4000f64.sqrt();
    let mean = l.stats.mean_ns.unwrap() as f64;
    let p50 = l.stats.p50_ns.unwrap() as f64;
    assert!((mean - 1020.0 * MS).abs() < 4.0 * se, "mean {mean}");
    // The median of a uniform sample: standard error η/(2√n).
    assert!(
        (p50 - 1020.0 * MS).abs() < 4.0 * S / 2.0 / 4000f64.sqrt(),
        "p50 {p50}"
    );
    let p90 = l.stats.p90_ns.unwrap() as f64;
    assert!(
        (p90 - 1420.0 * MS).abs() < 4.0 * S * 0.3 / 4000f64.sqrt(),
        "p90 {p90}"
    );
}

#[test]
fn nfd_s_mistakes_start_at_rate_p_times_1_minus_p_and_last_the_closed_form() {
    let (p, d, shift) = (0.1, 20.0 * MS, 520.0 * MS);
    let mut s = scenario(
        200,
        "2h",
        p,
        constant(20),
        json!([{ "name": "s", "kind": "nfd-s", "shift": "520ms" }]),
    );
    s["faults"] = json!([]);
    let r = run(&s.to_string());
    let dr = detector(&r, "s");
    let fp = &dr.false_positives;
    assert_eq!(fp.during_fault, 0);
    // 400 client-hours at p(1 − p)/η = 0.09 per second: 129 600 expected; a Poisson
    // count's 4 standard deviations are 1.1 %.
    let rate = fp.spurious_per_client_hour.unwrap();
    let expected = 3600.0 * p * (1.0 - p);
    assert!(
        (rate / expected - 1.0).abs() < 0.011,
        "{rate} per client-hour vs {expected}"
    );
    // Mean duration η/(1 − p) − (δ − d) = 611.1 ms; durations are η·K + d − δ with K
    // geometric (sd √p/(1 − p)·η = 351 ms): 4 standard errors are 4 ms.
    let m = dr.mistake_duration.stats.mean_ns.unwrap() as f64;
    let expected = S / (1.0 - p) - (shift - d);
    assert!((m - expected).abs() < 4.0 * MS, "{m} vs {expected}");
    let a = &dr.groups.0[0].1.analytic;
    assert_eq!(
        a.spurious_per_client_hour.verdict.as_deref(),
        Some("consistent")
    );
    assert_eq!(
        a.mistake_duration_mean_ns.verdict.as_deref(),
        Some("consistent")
    );
}

#[test]
fn nfd_e_under_constant_delay_is_nfd_s_shifted_by_the_delay() {
    // α = 500 ms with d = 20 ms behaves as δ = 520 ms, for any window, verdict for
    // verdict: the same latencies, mistakes and accuracy.
    let s = scenario(
        300,
        "1h",
        0.05,
        constant(20),
        json!([
            { "name": "s", "kind": "nfd-s", "shift": "520ms" },
            { "name": "e", "kind": "nfd-e", "margin": "500ms" },
            { "name": "e1", "kind": "nfd-e", "margin": "500ms", "window": 1 }
        ]),
    );
    let r = run(&s.to_string());
    for name in ["e", "e1"] {
        same_verdicts(&r, "s", name);
    }
    let fp = detector(&r, "s").false_positives.total;
    assert!(fp > 1000, "the comparison must cover mistakes: {fp}");
}

#[test]
fn bertier_under_constant_delay_keeps_a_zero_margin_and_widens_it_under_jitter() {
    // Constant delay: margin 0, so NFD-S with δ = d, verdict for verdict.
    let s = scenario(
        300,
        "1h",
        0.05,
        constant(20),
        json!([
            { "name": "s", "kind": "nfd-s", "shift": "20ms" },
            { "name": "b", "kind": "bertier" }
        ]),
    );
    let r = run(&s.to_string());
    same_verdicts(&r, "s", "b");

    // Jitter U[10 ms, 50 ms] (w = 40 ms), no loss: the latency is the wait to the next
    // scheduled send (mean η/2) plus the expected delay (30 ms, the window's mean) plus
    // the margin (≈ 1.02·w = 40.8 ms): about 570.8 ms. The uniform part's 4 standard
    // errors over 4000 crashes are 18 ms; the margin's spread across clients adds a
    // little: tolerance 25 ms.
    let s = scenario(
        4000,
        "400s",
        0.0,
        json!({ "dist": "uniform", "min": "10ms", "max": "50ms" }),
        json!([{ "name": "b", "kind": "bertier" }]),
    );
    let r = run(&s.to_string());
    let l = &detector(&r, "b").detection_latency;
    assert_eq!(l.count, 4000);
    let mean = l.stats.mean_ns.unwrap() as f64;
    assert!((mean - 570.8 * MS).abs() < 25.0 * MS, "mean {mean}");
}

#[test]
fn a_restarted_client_is_a_new_incarnation_learnt_afresh() {
    // Crash at 300 s, restart 100.3 s later: the restarted client's numbers go on from
    // where it stopped while 100 s passed, so an estimate mixing both incarnations
    // would expect its heartbeats 100 s early. Every detector detects each crash, trusts
    // the client again and makes no mistake.
    let mut s = scenario(
        20,
        "600s",
        0.0,
        constant(20),
        json!([
            { "name": "s", "kind": "nfd-s", "shift": "520ms" },
            { "name": "e", "kind": "nfd-e", "margin": "500ms" },
            { "name": "b", "kind": "bertier" }
        ]),
    );
    s["faults"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "at": "400300ms", "action": "restart", "clients": "c" }));
    let r = run(&s.to_string());
    for name in ["s", "e", "b"] {
        let d = detector(&r, name);
        assert_eq!(d.detection_latency.count, 20, "{name}");
        assert_eq!(d.false_positives.total, 0, "{name}");
        // Online from 20 ms after each first heartbeat to the end, but for the
        // detection latencies.
        assert!(d.query_accuracy.unwrap() > 0.99, "{name}");
    }
}

#[test]
fn sequence_reading_kinds_refuse_stream_groups_with_the_path_and_the_reason() {
    let dir = temp_dir("nfd-stream");
    let path = dir.join("s.json");
    let s = json!({
        "name": "s", "duration": "1m",
        "clients": [{ "group": "c", "count": 1, "heartbeat": { "interval": "1s" },
                      "transport": { "kind": "stream" } }],
        "detectors": [{ "name": "e", "kind": "nfd-e", "margin": "1s" }]
    });
    std::fs::write(&path, s.to_string()).unwrap();
    let out = hbsim(&["validate", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(
        err.contains("detectors[0].kind")
            && err.contains("sequence number")
            && err.contains("stream"),
        "{err}"
    );
}

#[test]
fn tune_searches_the_shift_of_nfd_s_and_refuses_bertier_with_the_reason() {
    let dir = temp_dir("nfd-tune");
    let path = dir.join("t.json");
    let out_path = dir.join("tuned.json");
    let mut s = scenario(
        20,
        "10m",
        0.01,
        constant(20),
        json!([
            { "name": "s", "kind": "nfd-s", "shift": "500ms" },
            { "name": "b", "kind": "bertier" }
        ]),
    );
    s["faults"] = json!([{ "at": "5m", "action": "crash", "clients": "c[0..10]" }]);
    std::fs::write(&path, s.to_string()).unwrap();
    let out = hbsim(&[
        "tune",
        "--out",
        "target/tune-pages",
        path.to_str().unwrap(),
        "--detector",
        "s",
        "--target",
        "s.detection_latency.max<=3s",
        "--write",
        out_path.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("shift "), "{stdout}");
    // The written scenario carries the recommendation, and running it meets the target.
    let written = std::fs::read_to_string(&out_path).unwrap();
    let tuned: Value = serde_json::from_str(&written).unwrap();
    let shift = hbsim::base::time::parse_duration(tuned["detectors"][0]["shift"].as_str().unwrap())
        .unwrap()
        .as_nanos();
    let r = run(&written);
    let max = detector(&r, "s").detection_latency.stats.max_ns.unwrap();
    assert!(max <= 3_000_000_000, "{max}");
    assert!(
        stdout.contains(&format!(
            "shift {}",
            hbsim::base::time::format_duration_spec(shift)
        )),
        "{stdout}"
    );

    let out = hbsim(&[
        "tune",
        "--out",
        "target/tune-pages",
        path.to_str().unwrap(),
        "--detector",
        "b",
        "--target",
        "b.detection_latency.max<=3s",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("bertier adapts its own margin"));
}
