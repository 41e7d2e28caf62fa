//! Goal: the phi-accrual detector matches Akka's and Cassandra's formulas to the
//! nanosecond: with perfectly regular heartbeats, the time from the last heartbeat to the
//! offline verdict is the elapsed time at which φ reaches the threshold.

use crate::common::run;
use serde_json::{json, Value};

/// Akka's φ for elapsed `t` with `mean` and `sd` (PhiAccrualFailureDetector.scala).
fn akka_phi(t: f64, mean: f64, sd: f64) -> f64 {
    let y = (t - mean) / sd;
    let e = (-y * (1.5976 + 0.070566 * y * y)).exp();
    if t > mean {
        -(e / (1.0 + e)).log10()
    } else {
        -(1.0 - 1.0 / (1.0 + e)).log10()
    }
}

/// The elapsed time at which `akka_phi` reaches `threshold`, by bisection (seconds).
fn akka_critical(threshold: f64, mean: f64, sd: f64) -> f64 {
    let (mut lo, mut hi) = (mean, mean + 100.0 * sd);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if akka_phi(mid, mean, sd) < threshold {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

fn scenario(detector: Value, crash_at: &str) -> Value {
    json!({
        "name": "phi", "duration": "600s",
        "clients": [{ "group": "c", "count": 3, "heartbeat": { "interval": "1s", "phase": "aligned" } }],
        "detectors": [detector],
        "faults": [{ "at": crash_at, "action": "crash", "clients": "c" }]
    })
}

fn latency_s(s: &Value) -> (f64, f64) {
    let r = run(&s.to_string());
    let l = &r.detectors.0[0].1.detection_latency;
    assert_eq!(l.count, 3, "{l:?}");
    (
        l.stats.min_ns.unwrap() as f64 / 1e9,
        l.stats.max_ns.unwrap() as f64 / 1e9,
    )
}

#[test]
fn akka_cluster_defaults_detect_4_52_s_after_the_last_heartbeat() {
    // Defaults: threshold 8, 1000 samples, min sd 100 ms, pause 3 s, estimate 1 s. After
    // 300 regular heartbeats the window's mean is exactly 1 s and its sd (2.5 ms from the
    // bootstrap samples) is floored at 100 ms: offline at 1 + 3 + y·0.1 s after the last
    // heartbeat, y solving Akka's φ = 8.
    let s = scenario(json!({ "name": "akka", "kind": "phi-accrual" }), "300500ms");
    let expected = akka_critical(8.0, 4.0, 0.1);
    assert!(
        (expected - 4.52).abs() < 0.01,
        "the reference says about 4.52 s: {expected}"
    );
    let (lo, hi) = latency_s(&s);
    // The last heartbeat was at 300 s, the crash at 300.5 s. Tolerance 1 µs.
    assert!(
        (lo - (expected - 0.5)).abs() < 1e-6,
        "{lo} vs {}",
        expected - 0.5
    );
    assert_eq!(lo, hi, "every client is alike");
}

#[test]
fn akka_remote_watch_defaults_detect_after_about_12_5_s_early_and_11_6_s_later() {
    let watch = json!({ "name": "watch", "kind": "phi-accrual", "threshold": 10,
                        "max_sample_size": 200, "acceptable_heartbeat_pause": "10s" });
    // Crash right after the first heartbeat: only the bootstrap samples (1 s ± 250 ms)
    // are in the window, sd 250 ms — Akka's comment: "around 12.5 seconds".
    let early = akka_critical(10.0, 11.0, 0.25);
    assert!((early - 12.45).abs() < 0.01, "{early}");
    let (lo, _) = latency_s(&scenario(watch.clone(), "500ms"));
    assert!((lo - (early - 0.5)).abs() < 1e-6, "{lo} vs {}", early - 0.5);
    // Later the window holds only 1 s intervals: sd floored at 100 ms.
    let late = akka_critical(10.0, 11.0, 0.1);
    assert!((late - 11.58).abs() < 0.01, "{late}");
    let (lo, _) = latency_s(&scenario(watch, "300500ms"));
    assert!((lo - (late - 0.5)).abs() < 1e-6, "{lo} vs {}", late - 0.5);
}

#[test]
fn cassandra_convicts_at_18_42_times_the_mean_interval() {
    let cassandra = json!({ "name": "gossip", "kind": "phi-accrual", "variant": "exponential" });
    let expected = 8.0 * std::f64::consts::LN_10; // 18.42 s with 1 s intervals
    let (lo, hi) = latency_s(&scenario(cassandra, "300500ms"));
    assert!(
        (lo - (expected - 0.5)).abs() < 1e-6 && lo == hi,
        "{lo} vs {}",
        expected - 0.5
    );
}

#[test]
fn a_long_pause_is_kept_out_of_the_window() {
    // Fixed-delay loops paused for 20 s at 100.5 s resume at 120.5 s and go on every
    // second. The 20.5 s interval ends while φ is far above the threshold, so it is not
    // learned: a later crash is detected exactly as without the pause (the last heartbeat
    // is at 299.5 s instead of 300 s, half a second earlier).
    let akka = json!({ "name": "akka", "kind": "phi-accrual" });
    let fixed_delay = |mut s: Value| {
        s["clients"][0]["heartbeat"]["schedule"] = json!("fixed-delay");
        s
    };
    let mut paused = fixed_delay(scenario(akka.clone(), "300500ms"));
    paused["faults"].as_array_mut().unwrap().push(json!(
        { "at": "100500ms", "action": "pause", "clients": "c", "for": "20s" }));
    let r = run(&paused.to_string());
    assert_eq!(
        r.detectors.0[0].1.false_positives.during_fault, 3,
        "the pause itself is noticed"
    );
    let ns = |s: &Value| {
        run(&s.to_string()).detectors.0[0]
            .1
            .detection_latency
            .stats
            .min_ns
            .unwrap()
    };
    let plain = ns(&fixed_delay(scenario(akka, "300500ms")));
    assert_eq!(ns(&paused) + 500_000_000, plain, "the same critical time");
}

#[test]
fn cassandra_does_not_convict_right_after_a_local_pause_and_akka_does() {
    let stall = json!({ "at": "200s", "action": "server-stall", "for": "30s" });
    let mut c = scenario(
        json!({ "name": "gossip", "kind": "phi-accrual", "variant": "exponential" }),
        "500s",
    );
    c["faults"] = json!([stall.clone()]);
    let r = run(&c.to_string());
    assert_eq!(
        r.detectors.0[0].1.false_positives.total, 0,
        "Cassandra's local-pause guard"
    );
    let mut a = scenario(json!({ "name": "akka", "kind": "phi-accrual" }), "500s");
    a["faults"] = json!([stall]);
    let r = run(&a.to_string());
    assert_eq!(r.detectors.0[0].1.false_positives.during_fault, 3);
}

#[test]
fn adding_a_detector_changes_no_other_detectors_results() {
    let base = json!({
        "name": "side", "seed": 3, "duration": "20m",
        "clients": [{ "group": "c", "count": 40, "heartbeat": { "interval": "1s", "jitter": "100ms" },
            "uplink": { "delay": { "dist": "lognormal", "median": "50ms", "sigma": 1.0 },
                        "loss": { "model": "bernoulli", "p": 0.2 } } }],
        "detectors": [{ "name": "fixed", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "3s" }],
        "faults": [{ "at": "10m", "action": "crash", "clients": "c[0..5]" }]
    });
    let mut both = base.clone();
    both["detectors"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "name": "phi", "kind": "phi-accrual" }));
    let a = run(&base.to_string());
    let b = run(&both.to_string());
    assert_eq!(a.detectors.get("fixed"), b.detectors.get("fixed"));
    // Phi ran on the same traffic: it saw the same five crashes.
    assert_eq!(b.detectors.get("phi").unwrap().detection_latency.count, 5);
}
