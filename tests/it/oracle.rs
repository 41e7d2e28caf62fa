//! Goal: simulated results agree with the closed forms of the reference
//! (failure-detectors.md §1.2) for the textbook scanner: detection-latency bounds and mean
//! with independent phases, exact latencies with fixed phases, the false-positive rate
//! (1−p)·p^m/h under Bernoulli loss with continuous checking, and the mean mistake
//! duration h(m+1) − T + h·p/(1−p). Statistical checks state their tolerance in standard
//! errors.

use crate::common::run;
use serde_json::{json, Value};

const S: u64 = 1_000_000_000;
/// Fractional part of the golden ratio: i·ALPHA mod 1 spreads crash instants evenly.
const ALPHA: f64 = 0.618_033_988_749_894_9;

/// `n` clients crashing one by one at 100 s + frac(i·α) s, each at its own instant.
fn crash_faults(n: u32) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let frac = (i as f64 * ALPHA).fract();
            let at_us = 100_000_000 + (frac * 1e6) as u64;
            json!({ "at": format!("{at_us}us"), "action": "crash", "clients": format!("c[{i}]") })
        })
        .collect()
}

fn latency_scenario(n: u32, phase: &str, scan_phase: &str) -> Value {
    json!({
        "name": "oracle", "seed": 11, "duration": "110s",
        "clients": [{ "group": "c", "count": n,
            "heartbeat": { "interval": "1s", "phase": phase },
            "uplink": { "delay": { "dist": "constant", "value": "200ms" } } }],
        "detectors": [{ "name": "d", "kind": "fixed-timeout", "scan_interval": "1s",
                        "scan_phase": scan_phase, "threshold": "3s" }],
        "faults": crash_faults(n)
    })
}

#[test]
fn latency_with_independent_phases_has_the_predicted_bounds_and_mean() {
    // L = (d + T − u) + w, u ~ U(0, h], w ~ U[0, s): L in [T + d − h, T + d + s) =
    // [2.2 s, 4.2 s), mean T + d − h/2 + s/2 = 3.2 s, median 3.2 s (triangular).
    let n = 4000;
    let r = run(&latency_scenario(n, "random", "0s").to_string());
    let l = &r.detectors.get("d").unwrap().detection_latency;
    assert_eq!(l.count, n as u64);
    assert_eq!(l.missed, 0);
    assert!(l.stats.min_ns.unwrap() >= 2_200_000_000, "{l:?}");
    assert!(l.stats.max_ns.unwrap() < 4_200_000_000, "{l:?}");
    // sd(L) = sqrt(1/12 + 1/12) s = 0.408 s; standard error over 4000 crashes = 6.5 ms.
    // Tolerance 30 ms ≈ 4.6 standard errors.
    let mean = l.stats.mean_ns.unwrap() as f64 / S as f64;
    assert!((mean - 3.2).abs() < 0.030, "mean {mean}");
    // The median's standard error is 1/(2·f(m)·√n) = 7.9 ms with peak density f(m) = 1/s.
    let p50 = l.stats.p50_ns.unwrap() as f64 / S as f64;
    assert!((p50 - 3.2).abs() < 0.040, "median {p50}");
    // The extremes of a triangular distribution are approached at a rate ~√n.
    assert!(l.stats.min_ns.unwrap() < 2_300_000_000 && l.stats.max_ns.unwrap() > 4_100_000_000);
}

#[test]
fn latency_with_aligned_phases_is_exact_for_every_crash() {
    // Heartbeats at whole seconds, arrival +0.2 s, scans at k + 0.5 s: a crash at
    // 100 s + x (0 < x < 1) leaves the last arrival at 100.2 s, overdue from 103.2 s, seen
    // at 103.5 s: L = 3.5 s − x exactly (x = 0: that send is cancelled, L = 2.5 s).
    let n = 500;
    let r = run(&latency_scenario(n, "aligned", "500ms").to_string());
    let l = &r.detectors.get("d").unwrap().detection_latency;
    assert_eq!(l.count, n as u64);
    let mut expected: Vec<u64> = (0..n)
        .map(|i| {
            let x_us = ((i as f64 * ALPHA).fract() * 1e6) as u64;
            if x_us == 0 {
                2_500_000_000
            } else {
                3_500_000_000 - x_us * 1_000
            }
        })
        .collect();
    expected.sort_unstable();
    assert_eq!(l.stats.min_ns, Some(expected[0]));
    assert_eq!(l.stats.max_ns, Some(*expected.last().unwrap()));
    let sum: u128 = expected.iter().map(|&x| x as u128).sum();
    let mean = ((2 * sum + n as u128) / (2 * n as u128)) as u64;
    assert_eq!(l.stats.mean_ns, Some(mean));
    assert_eq!(l.stats.p50_ns, Some(expected[(n as usize).div_ceil(2) - 1]));
    assert_eq!(
        l.stats.p99_ns,
        Some(expected[(n as usize * 99).div_ceil(100) - 1])
    );
}

fn loss_scenario(p: f64, scan: &str) -> Value {
    json!({
        "name": "oracle-loss", "seed": 3, "duration": "1h",
        "clients": [{ "group": "c", "count": 1000,
            "heartbeat": { "interval": "1s" },
            "uplink": { "delay": { "dist": "constant", "value": "200ms" },
                        "loss": { "model": "bernoulli", "p": p } } }],
        "detectors": [{ "name": "d", "kind": "fixed-timeout", "scan_interval": scan, "threshold": "3s" }]
    })
}

#[test]
fn false_positive_rate_and_mistake_duration_match_theory_under_bernoulli_loss() {
    // Continuous checking, h = 1 s, T = 3 s (m = 3), p = 0.1:
    //   λ_M = (1 − p)·p^m / h = 9.0e-4 per client-second → 3240 mistakes expected in
    //   1000 client-hours (Poisson sd 57; tolerance 4 sd = 228).
    //   E(T_M) = h(m + 1) − T + h·p/(1 − p) = 1.111 s; sd(T_M) = h·√p/(1 − p) = 0.351 s,
    //   standard error over ~3240 mistakes 6.2 ms; tolerance 30 ms.
    //   The shortest mistake is exactly (m + 1)·h − T = 1 s.
    let (p, h) = (0.1f64, 1.0f64);
    let r = run(&loss_scenario(p, "0s").to_string());
    let d = r.detectors.get("d").unwrap();
    let lambda = (1.0 - p) * p.powi(3) / h;
    let expected = lambda * 1000.0 * 3600.0;
    let got = d.false_positives.spurious as f64;
    assert!(
        (got - expected).abs() < 4.0 * expected.sqrt(),
        "{got} vs {expected}"
    );
    assert_eq!(d.false_positives.during_fault, 0);
    let per_hour = d.false_positives.spurious_per_client_hour.unwrap();
    assert!(
        (per_hour - lambda * 3600.0).abs() < 4.0 * expected.sqrt() / 1000.0,
        "{per_hour}"
    );
    let day = d.false_positives.spurious_per_client_day.unwrap();
    assert!((day - per_hour * 24.0).abs() < 1e-9);

    let md = &d.mistake_duration;
    let mean = md.stats.mean_ns.unwrap() as f64 / S as f64;
    let expected_tm = h * 4.0 - 3.0 + h * p / (1.0 - p);
    assert!(
        (mean - expected_tm).abs() < 0.030,
        "mean T_M {mean} vs {expected_tm}"
    );
    assert_eq!(md.stats.min_ns, Some(S));
    // Every mistake but those open at the end completes.
    assert!(md.censored <= 5 && md.count + md.censored == d.false_positives.total);

    // P_A = 1 − E(T_M)/E(T_MR) with E(T_MR) = 1/λ_M.
    let pa = d.query_accuracy.unwrap();
    let expected_pa = 1.0 - expected_tm * lambda;
    assert!(
        (pa - expected_pa).abs() < 1.5e-4,
        "P_A {pa} vs {expected_pa}"
    );
}

#[test]
fn with_scan_interval_equal_to_the_heartbeat_interval_periodic_scans_flag_the_same_silences() {
    // At h = s a silence after K ≥ m losses leaves the window [r + T, r + (K+1)h), at least
    // one scan interval long, so it always holds a scan before the next arrival; K < m
    // leaves an empty window. Periodic scanning therefore flags exactly the silences that
    // continuous checking flags (the loss draws are common to both runs), except a silence
    // whose scan would fall after the end of the run.
    let p = 0.1f64;
    let continuous = run(&loss_scenario(p, "0s").to_string());
    let periodic = run(&loss_scenario(p, "1s").to_string());
    let c = continuous
        .detectors
        .get("d")
        .unwrap()
        .false_positives
        .spurious;
    let s = periodic
        .detectors
        .get("d")
        .unwrap()
        .false_positives
        .spurious;
    assert!(s <= c && c - s <= 3, "periodic {s} vs continuous {c}");
    // Detection happens later under periodic scans, so mistakes are shorter on average.
    let mean = |r: &hbsim::Report| {
        r.detectors
            .get("d")
            .unwrap()
            .mistake_duration
            .stats
            .mean_ns
            .unwrap()
    };
    assert!(mean(&periodic) < mean(&continuous));
}

fn tie_scenario(delay: &str, scan_phase: &str) -> Value {
    json!({
        "name": "ties", "duration": "10m",
        "clients": [{ "group": "c", "count": 20, "heartbeat": { "interval": "1s", "phase": "aligned" },
                      "uplink": { "delay": { "dist": "constant", "value": delay } } }],
        "detectors": [{ "name": "d", "kind": "fixed-timeout", "scan_interval": "1s",
                        "scan_phase": scan_phase, "threshold": "1s" }]
    })
}

#[test]
fn an_arrival_at_a_scan_instant_counts_for_that_scan() {
    // Aligned 1 s heartbeats delayed 200 ms arrive exactly at the scans (phase 200 ms).
    // With T = 1 s every scan would flag every client if scans ran before deliveries;
    // DESIGN §4 orders deliveries first, so elapsed is 0 at each scan: no mistake.
    let r = run(&tie_scenario("200ms", "200ms").to_string());
    assert_eq!(r.detectors.get("d").unwrap().false_positives.total, 0);
}

#[test]
fn a_heartbeat_sent_at_a_scan_instant_comes_after_that_scan() {
    // With no delay the heartbeat is sent at the scan instant, and sends come after
    // evaluations (DESIGN §4): each scan sees the previous heartbeat, exactly 1 s old, and
    // flags the client; the heartbeat arriving at the same instant brings it back at once
    // (a mistake of zero duration). 20 clients × 599 scans after first contact.
    let r = run(&tie_scenario("0s", "0s").to_string());
    let d = r.detectors.get("d").unwrap();
    assert_eq!(d.false_positives.spurious, 20 * 599);
    assert_eq!(d.mistake_duration.stats.max_ns, Some(0));
    assert_eq!(d.query_accuracy, Some(1.0));
}

#[test]
fn rejoin_never_makes_every_mistake_permanent() {
    let mut s = loss_scenario(0.2, "1s");
    s["detectors"][0]["rejoin"] = json!("never");
    s["duration"] = json!("10m");
    let r = run(&s.to_string());
    let d = r.detectors.get("d").unwrap();
    assert!(d.false_positives.total > 100);
    assert_eq!(d.mistake_duration.count, 0);
    assert_eq!(d.mistake_duration.censored, d.false_positives.total);
    assert_eq!(d.mistake_duration.stats.mean_ns, None);
}

#[test]
fn mistake_recurrence_and_good_period_match_chen_toueg_identities() {
    // p = 0.3, h = 1 s, T = 3 s, continuous: λ_M = (1−p)·p³/h = 0.0189 /s, so
    // E(T_MR) = 1/λ_M = 52.91 s; E(T_M) = h(m+1) − T + h·p/(1−p) = 1.4286 s; and
    // E(T_G) = E(T_MR) − E(T_M) = 51.48 s. Over 100 clients × 2 h about 13 600 recurrences
    // are observed; T_MR is roughly exponential, so the standard error is ≈ 0.45 s and the
    // tolerance of 2.5 s is over 5 standard errors (the 2 h window truncates a negligible
    // tail: e^(−7200/52.9)).
    let mut s = loss_scenario(0.3, "0s");
    s["duration"] = json!("2h");
    s["clients"][0]["count"] = json!(100);
    let r = run(&s.to_string());
    let d = r.detectors.get("d").unwrap();
    let (p, h) = (0.3f64, 1.0f64);
    let lambda = (1.0 - p) * p.powi(3) / h;
    let tmr = d.qos.mistake_recurrence.stats.mean_ns.unwrap() as f64 / S as f64;
    assert!(
        (tmr - 1.0 / lambda).abs() < 2.5,
        "T_MR {tmr} vs {}",
        1.0 / lambda
    );
    let tm = h * 4.0 - 3.0 + h * p / (1.0 - p);
    let tg = d.qos.good_period.stats.mean_ns.unwrap() as f64 / S as f64;
    assert!((tg - (1.0 / lambda - tm)).abs() < 2.5, "T_G {tg}");
    // λ_M per client-hour and its interval.
    let rate = d.qos.mistake_rate_per_client_hour.unwrap();
    let ci = d.qos.mistake_rate_per_client_hour_ci.unwrap();
    assert!(
        ci[0] < lambda * 3600.0 && lambda * 3600.0 < ci[1],
        "{rate} {ci:?}"
    );
    // Every client is mistaken early, so few first-mistake times are censored.
    assert_eq!(
        d.qos.first_false_positive.count + d.qos.first_false_positive.censored,
        100
    );
}

#[test]
fn the_false_positive_rate_interval_covers_the_true_rate_at_its_level() {
    // p = 0.2, h = 1 s, T = 3 s, continuous: λ_M = (1−p)·p³ = 0.0064 per client-second.
    // Across 1000 seeds the 95 % interval of the spurious rate must contain the truth in
    // 94–98 % of runs: Garwood intervals are conservative (their coverage here, measured
    // over 1200 other seeds, is 96.4 %), and 1000 runs put 94 % and 98 % at 3 and 2.7
    // binomial standard errors from it.
    let truth = 0.8 * 0.2f64.powi(3) * 3600.0;
    let mut s = loss_scenario(0.2, "0s");
    s["clients"][0]["count"] = json!(20);
    s["duration"] = json!("10m");
    let text = s.to_string();
    let runs = 1000;
    let mut hits = 0;
    for seed in 0..runs {
        let r = hbsim::run_text(&text, Some(seed)).unwrap();
        let ci = r
            .detectors
            .get("d")
            .unwrap()
            .false_positives
            .spurious_per_client_hour_ci
            .unwrap();
        hits += (ci[0] <= truth && truth <= ci[1]) as u32;
    }
    let coverage = hits as f64 / runs as f64;
    assert!((0.94..=0.98).contains(&coverage), "coverage {coverage}");
}

#[test]
fn the_analytic_section_agrees_with_the_simulation_on_the_oracle_scenarios() {
    // Independent phases: bounds [2.2 s, 4.2 s] hold in every run; the mean, 3.2 s, is
    // judged by a 95 % interval, so over 10 seeds at least 8 must find it consistent (the
    // chance of fewer is 1.2 % for a correct model).
    let text = latency_scenario(2000, "random", "0s").to_string();
    let mut consistent = 0;
    for seed in 0..10 {
        let r = hbsim::run_text(&text, Some(seed)).unwrap();
        let a = group_analytic(&r);
        assert_eq!(a.detection_latency.min_ns, Some(2_200_000_000));
        assert_eq!(a.detection_latency.max_ns, Some(4_200_000_000));
        assert_eq!(a.detection_latency.verdict.as_deref(), Some("consistent"));
        assert_eq!(a.detection_latency_mean_ns.expected, Some(3.2e9));
        consistent += (a.detection_latency_mean_ns.verdict.as_deref() == Some("consistent")) as u32;
    }
    assert!(
        consistent >= 8,
        "the mean was consistent in {consistent} of 10 runs"
    );
    // Bernoulli loss, continuous checking: rate and mean mistake duration consistent.
    let r = run(&loss_scenario(0.1, "0s").to_string());
    let a = group_analytic(&r);
    assert!((a.spurious_per_client_hour.expected.unwrap() - 3.24).abs() < 1e-9);
    assert_eq!(
        a.spurious_per_client_hour.verdict.as_deref(),
        Some("consistent")
    );
    assert_eq!(
        a.mistake_duration_mean_ns.verdict.as_deref(),
        Some("consistent")
    );
    // Periodic 1 s scans with h = s: the rate formula still applies, mistakes do not.
    let r = run(&loss_scenario(0.1, "1s").to_string());
    let a = group_analytic(&r);
    assert_eq!(
        a.spurious_per_client_hour.verdict.as_deref(),
        Some("consistent")
    );
    assert!(!a.mistake_duration_mean_ns.applies);
}

/// The analytic block of detector `d` for group `c`.
fn group_analytic(r: &hbsim::Report) -> &hbsim::oracle::analytic::Analytic {
    &r.detectors
        .get("d")
        .unwrap()
        .groups
        .get("c")
        .unwrap()
        .analytic
}
