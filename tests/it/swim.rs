//! Goal: the `swim` detector matches the closed forms of SWIM's probing (Das, Gupta and
//! Motivala, DSN 2002, §3.1), derived for aligned periods of length `T`, no loss, no delay,
//! no suspicion phase and one crash:
//!
//! - A member crashes at `c`, inside a period `[bT, (b+1)T)`. Probes of it in that period
//!   went out at `bT` and were answered at once. In each later period, each of the N − 1
//!   live members picks it with probability 1/(N − 1), so at least one does with
//!   `q = 1 − (1 − 1/(N − 1))^(N − 1)`, independently from period to period. A period
//!   whose probe of it fails declares it dead at its end (suspicion 0). The latency is
//!   `(b+1)T − c + K·T` with `K` geometric on 1, 2, …: mean `(b+1)T − c + T/q`, and
//!   `P(K = 1) = q`.
//! - Round-robin: each member probes every other exactly once in each round of N − 1
//!   periods (rounds aligned, since every member starts at 0), so the crash is declared
//!   by the end of the first full round after it at the latest.

use crate::common::{hbsim, run, temp_dir, text};
use serde_json::{json, Value};

const S: f64 = 1e9;

fn cluster(n: u32, replications: u32, detector: Value) -> Value {
    json!({
        "name": "swim-closed-form", "duration": "40s", "seed": 5,
        "replications": replications,
        "clients": [{ "group": "m", "count": n, "heartbeat": { "enabled": false } }],
        "detectors": [detector],
        "faults": [{ "at": "5300ms", "action": "crash", "clients": "m[0]" }]
    })
}

fn detector<'r>(r: &'r hbsim::Report, name: &str) -> &'r hbsim::report::DetectorReport {
    &r.detectors.0.iter().find(|(n, _)| n == name).unwrap().1
}

#[test]
fn random_probing_declares_a_crash_after_a_geometric_number_of_periods() {
    for n in [10u32, 50] {
        let reps = 3000;
        let s = cluster(
            n,
            reps,
            json!({ "name": "swim", "kind": "swim", "target": "random", "phase": "aligned",
                    "suspicion_mult": 0, "lifeguard": false }),
        );
        let r = run(&s.to_string());
        let l = &detector(&r, "swim").detection_latency;
        assert_eq!(l.count, reps as u64, "every crash is detected");
        let others = (n - 1) as f64;
        let q = 1.0 - (1.0 - 1.0 / others).powf(others);
        // The crash at 5.3 s: the next period starts at 6 s.
        let lead = 0.7 * S;
        let mean = l.stats.mean_ns.unwrap() as f64;
        let expected = lead + S / q;
        // K − 1 geometric: sd √(1 − q)/q periods; 4 standard errors.
        let se = (1.0 - q).sqrt() / q * S / (reps as f64).sqrt();
        assert!(
            (mean - expected).abs() < 4.0 * se,
            "N = {n}: mean {mean} vs {expected} (q = {q})"
        );
        // Every latency is the lead plus whole periods; the first full period declares
        // it with probability q > 1/2, so the median is the lead plus one period.
        assert_eq!(l.stats.min_ns, Some(1_700_000_000));
        assert_eq!(l.stats.p50_ns, Some(1_700_000_000));
        for p in [l.stats.p90_ns, l.stats.p99_ns, l.stats.max_ns] {
            assert_eq!((p.unwrap() - 700_000_000) % 1_000_000_000, 0, "{p:?}");
        }
    }
}

#[test]
fn the_mean_tends_to_about_two_periods_and_a_half_for_large_clusters() {
    // q → 1 − 1/e: T/2 + T/q ≈ 2.08 T for a crash at a uniform instant; here at 0.3 T
    // into its period, 0.7 T + T/q.
    let others = 999.0f64;
    let q = 1.0 - (1.0 - 1.0 / others).powf(others);
    assert!((0.5 + 1.0 / q - 2.082).abs() < 1e-3);
    let s = cluster(
        1000,
        200,
        json!({ "name": "swim", "kind": "swim", "phase": "aligned",
                "suspicion_mult": 0, "lifeguard": false }),
    );
    let r = run(&s.to_string());
    let l = &detector(&r, "swim").detection_latency;
    assert_eq!(l.count, 200);
    let mean = l.stats.mean_ns.unwrap() as f64;
    let se = (1.0 - q).sqrt() / q * S / 200f64.sqrt();
    assert!((mean - (0.7 * S + S / q)).abs() < 4.0 * se, "mean {mean}");
}

#[test]
fn round_robin_declares_a_crash_by_the_end_of_the_next_full_round() {
    let n = 10u32;
    let reps = 500;
    let s = cluster(
        n,
        reps,
        json!({ "name": "swim", "kind": "swim", "target": "round-robin", "phase": "aligned",
                "suspicion_mult": 0, "lifeguard": false }),
    );
    let r = run(&s.to_string());
    let l = &detector(&r, "swim").detection_latency;
    assert_eq!(l.count, reps as u64);
    // Rounds of 9 periods from 0: the crash at 5.3 s is in the round [0, 9 s); the next
    // round ends at 18 s: at most 12.7 s, at least the first full period's 1.7 s.
    assert!(
        l.stats.max_ns.unwrap() <= 12_700_000_000,
        "{:?}",
        l.stats.max_ns
    );
    assert_eq!(l.stats.min_ns, Some(1_700_000_000));
}

#[test]
fn with_suspicion_the_declaration_waits_for_the_suspicion_timeout() {
    // Without Lifeguard the timeout is fixed: suspicion_mult · max(1, log10 N) · T =
    // 4 · 1.698 · 1 s = 6.792 s (the node scale kept to three decimals) after the failed probe's period ends.
    let s = cluster(
        50,
        400,
        json!({ "name": "swim", "kind": "swim", "phase": "aligned", "lifeguard": false }),
    );
    let r = run(&s.to_string());
    let d = detector(&r, "swim");
    let l = &d.detection_latency;
    assert_eq!(l.count, 400);
    assert_eq!(l.stats.min_ns, Some(1_700_000_000 + 6_792_000_000));
    assert!(d.false_positives.total == 0);
    let swim = d.swim.as_ref().unwrap();
    assert_eq!(swim.members, 50);
    // Everyone learns through gossip within a few gossip intervals of the first.
    let knows = swim.everyone_knows.stats.mean_ns.unwrap();
    assert!(knows >= l.stats.mean_ns.unwrap());
    assert!(knows < l.stats.mean_ns.unwrap() + 3_000_000_000, "{knows}");
    assert_eq!(swim.everyone_knows.count, 400);
}

#[test]
fn lifeguard_starts_suspicions_long_and_shortens_them_with_confirmations() {
    // With Lifeguard a lone suspicion waits 6 times as long; independent confirmations
    // (k = suspicion_mult − 2 = 2) bring it down towards the minimum. A crash is
    // confirmed by other members' failed probes, so it is declared between the minimum
    // and the maximum after the first suspicion.
    let s = cluster(
        50,
        200,
        json!({ "name": "swim", "kind": "swim", "phase": "aligned" }),
    );
    let r = run(&s.to_string());
    let l = &detector(&r, "swim").detection_latency;
    assert_eq!(l.count, 200);
    let (min, max) = (6_792_000_000u64, 6 * 6_792_000_000u64);
    assert!(l.stats.min_ns.unwrap() >= 1_700_000_000 + min);
    assert!(l.stats.max_ns.unwrap() <= 1_700_000_000 + 20_000_000_000 + max);
    // Confirmations arrive: most crashes are declared well before the maximum.
    assert!(l.stats.p50_ns.unwrap() < 1_700_000_000 + max / 2);

    // The paper's k = indirect wants more confirmations than memberlist's k =
    // suspicion_mult - 2. With 5 members, suspicion_mult 3 (k = 1) against indirect 3
    // (k = 3): the minimum (3 s) is reached after one confirmation with k = 1, but only
    // after confirmations from all three other live members with k = 3, which each probe
    // the crashed member with probability 1/4 a period. On the same draws the mean latency
    // is longer with k = 3.
    let small = |confirmations: &str| {
        let s = cluster(
            5,
            200,
            json!({ "name": "swim", "kind": "swim", "phase": "aligned",
                    "suspicion_mult": 3, "confirmations": confirmations }),
        );
        run(&s.to_string())
    };
    let (code, paper) = (small("memberlist"), small("indirect"));
    let (c, p) = (
        &detector(&code, "swim").detection_latency.stats,
        &detector(&paper, "swim").detection_latency.stats,
    );
    assert!(c.min_ns.unwrap() >= 3_000_000_000 && p.min_ns.unwrap() >= 3_000_000_000);
    assert!(
        p.mean_ns.unwrap() > c.mean_ns.unwrap() + 1_000_000_000,
        "k = 3: {p:?}, k = 1: {c:?}"
    );
    assert!(!detector(&code, "swim").settings.contains("k = indirect"));
    assert!(detector(&paper, "swim").settings.contains("k = indirect"));
}

#[test]
fn swim_fields_are_validated_with_their_paths() {
    let dir = temp_dir("swim-invalid");
    let mut s = cluster(
        10,
        1,
        json!({ "name": "s", "kind": "swim", "interval": "1s",
        "timeout": "2s", "target": "nearest", "members": "m[0..1]", "udp_buffer": 10 }),
    );
    s["name"] = json!("bad");
    let path = dir.join("bad.json");
    std::fs::write(&path, s.to_string()).unwrap();
    let out = hbsim(&["validate", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    for needle in [
        "detectors[0].timeout",
        "must not exceed the protocol period",
        "detectors[0].target",
        "round-robin",
        "detectors[0].members",
        "at least 2 members",
        "detectors[0].udp_buffer",
    ] {
        assert!(err.contains(needle), "{needle} in:\n{err}");
    }
}

#[test]
fn tune_searches_a_swim_detectors_interval_timeout_and_suspicion_mult() {
    let dir = temp_dir("swim-tune");
    let s = json!({
        "name": "swim-tune", "duration": "10m", "seed": 4, "replications": 2,
        "clients": [{ "group": "m", "count": 30, "heartbeat": { "enabled": false },
            "uplink": { "delay": { "dist": "lognormal", "median": "1ms", "sigma": 0.5 },
                        "loss": { "model": "bernoulli", "p": 0.02 } } }],
        "detectors": [{ "name": "lan", "kind": "swim" }],
        "faults": [{ "at": "2m", "action": "crash", "clients": "m[0..2]" },
                   { "at": "5m", "action": "crash", "clients": "m[2..4]" }]
    });
    let path = dir.join("swim-tune.json");
    std::fs::write(&path, s.to_string()).unwrap();
    let written = dir.join("tuned.json");
    let out = hbsim(&[
        "tune",
        path.to_str().unwrap(),
        "--target",
        "lan.detection_latency.max<=15s",
        "--target",
        "lan.false_positives.total<=0",
        "--out",
        "target/tune-pages",
        "--format",
        "json",
        "--write",
        written.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rec = &doc["recommended"];
    let interval = rec["interval_ns"].as_u64().unwrap();
    let timeout = rec["timeout_ns"].as_u64().unwrap();
    let mult = rec["suspicion_mult"].as_u64().unwrap();
    assert!(timeout <= interval);
    // Cheaper than the defaults (1 s, 500 ms, 4): a longer period sends less.
    assert!(interval > 1_000_000_000, "{rec}");
    for t in rec["targets"].as_array().unwrap() {
        assert!(
            t["margin"].as_f64().or(t["margin_ns"].as_f64()).unwrap() >= 0.0,
            "{t}"
        );
    }
    // The written scenario carries the recommendation and meets the targets when run.
    let w: Value = serde_json::from_str(&std::fs::read_to_string(&written).unwrap()).unwrap();
    let d = &w["detectors"][0];
    assert_eq!(d["suspicion_mult"], json!(mult));
    let r = run(&w.to_string());
    let l = &detector(&r, "lan");
    assert!(l.detection_latency.stats.max_ns.unwrap() <= 15_000_000_000);
    assert_eq!(l.false_positives.total, 0);
    assert_eq!(
        hbsim::parse(&w.to_string()).unwrap().detectors[0]
            .kind
            .as_swim()
            .unwrap()
            .protocol
            .interval,
        interval
    );
}
