//! Goal: each network, fault and clock model changes results the way reality does:
//! bursts hurt more than independent loss at the same rate, duplicates only help,
//! streams turn loss into delay and break under long partitions, pauses, partitions and
//! stalls cause `during_fault` mistakes (not spurious ones), churn follows its means,
//! drift changes the heartbeat rate, and server clock steps hide or fake silence.

use crate::common::run;
use hbsim::VerdictEvent;
use serde_json::{json, Value};

const S: u64 = 1_000_000_000;

fn base(count: u32, duration: &str) -> Value {
    json!({
        "name": "net", "seed": 17, "duration": duration,
        "clients": [{ "group": "c", "count": count,
            "heartbeat": { "interval": "1s" },
            "uplink": { "delay": { "dist": "constant", "value": "50ms" } } }],
        "detectors": [{ "name": "d", "kind": "fixed-timeout", "scan_interval": "0s", "threshold": "3s" }]
    })
}

fn detector(r: &hbsim::Report) -> &hbsim::report::DetectorReport {
    r.detectors.get("d").unwrap()
}

#[test]
fn bursts_cause_far_more_mistakes_than_independent_loss_at_the_same_rate() {
    let ge = json!({ "model": "gilbert-elliott", "p_enter_bad": 0.01, "p_leave_bad": 0.2,
                     "loss_good": 0.001, "loss_bad": 0.6 });
    // (1−k)·r/(p+r) + (1−h)·p/(p+r) = (0.001·0.2 + 0.6·0.01) / 0.21.
    let rate = (0.001 * 0.2 + 0.6 * 0.01) / 0.21;
    let mut burst = base(500, "1h");
    burst["clients"][0]["uplink"]["loss"] = ge;
    let mut independent = base(500, "1h");
    independent["clients"][0]["uplink"]["loss"] = json!({ "model": "bernoulli", "p": rate });
    let b = run(&burst.to_string());
    let i = run(&independent.to_string());
    for r in [&b, &i] {
        // 1.8 million packets; a correlated chain, so allow 4 % relative.
        let observed = r.traffic.lost as f64 / r.traffic.heartbeats_sent as f64;
        assert!(
            (observed - rate).abs() < 0.04 * rate,
            "loss {observed} vs {rate}"
        );
    }
    let fb = detector(&b).false_positives.spurious;
    let fi = detector(&i).false_positives.spurious;
    // Independent loss: (1−p)·p³ per heartbeat ≈ 45 mistakes; bursts: hundreds.
    assert!(fi > 10 && fb > 5 * fi, "bursts {fb} vs independent {fi}");
}

#[test]
fn duplicates_only_add_arrivals_and_last_arrival_never_moves_back() {
    // Heavy-tailed delays reorder heartbeats; a duplicate arriving late is a sign of life
    // at its arrival time. The server keeps its receive time, never the send time, so
    // `last_arrival` never decreases. With the same loss and delay draws (common random
    // numbers), extra arrivals can only remove mistakes.
    let mut plain = base(300, "30m");
    plain["clients"][0]["uplink"] = json!({
        "delay": { "dist": "pareto", "scale": "100ms", "shape": 1.2 },
        "loss": { "model": "bernoulli", "p": 0.1 } });
    let mut duplicating = plain.clone();
    duplicating["clients"][0]["uplink"]["duplicate"] = json!(0.3);
    let a = run(&plain.to_string());
    let b = run(&duplicating.to_string());
    assert_eq!(a.traffic.lost, b.traffic.lost);
    assert_eq!(a.traffic.delivered, b.traffic.delivered);
    let dup = b.traffic.duplicated as f64 / b.traffic.delivered as f64;
    assert!((dup - 0.3).abs() < 0.01, "duplicate fraction {dup}");
    let (fa, fb) = (
        detector(&a).false_positives.total,
        detector(&b).false_positives.total,
    );
    assert!(fb <= fa && fa > 20, "with duplicates {fb}, without {fa}");

    let text = duplicating.to_string();
    let s = hbsim::parse(&text).unwrap();
    let mut last = vec![0u64; 300];
    let mut offline = 0;
    let mut check = |e: &VerdictEvent| {
        let l = e.last_arrival.as_nanos();
        assert!(
            l >= last[e.index as usize],
            "last arrival moved back for client {}",
            e.index
        );
        last[e.index as usize] = l;
        offline += 1;
    };
    hbsim::run(
        &s,
        text.as_bytes(),
        s.seed,
        hbsim::Limits::default(),
        Some(&mut check),
    )
    .unwrap();
    assert!(offline > 0);
}

fn stream(loss: f64, retries: u32, extra_faults: Value) -> Value {
    let mut s = base(100, "30m");
    s["clients"][0]["uplink"]["loss"] = json!({ "model": "bernoulli", "p": loss });
    s["clients"][0]["transport"] = json!({ "kind": "stream", "retries": retries });
    s["faults"] = extra_faults;
    s
}

#[test]
fn a_stream_turns_loss_into_delay_never_into_a_lost_heartbeat() {
    // With the default budget of 15 retries a break needs 16 losses in a row (0.2^16).
    let r = run(&stream(0.2, 15, json!([])).to_string());
    let t = &r.traffic;
    assert_eq!(t.lost, 0);
    assert_eq!(t.connection_breaks, 0);
    assert!(t.retransmissions > 30_000, "{t:?}");
    assert!(
        t.heartbeats_sent - t.delivered < 100,
        "only the last few are in flight: {t:?}"
    );
    assert!(t.bytes_down > 0, "acknowledgements travel on the downlink");
    // Datagrams at the same loss are lost for good.
    let mut datagram = stream(0.2, 15, json!([]));
    datagram["clients"][0]
        .as_object_mut()
        .unwrap()
        .remove("transport");
    let d = run(&datagram.to_string());
    assert!(
        d.traffic.lost > 30_000,
        "20 % of 180 000 datagrams are lost"
    );
    // Head-of-line blocking delays heartbeats, so mistakes still happen, but retransmission
    // makes the silences shorter than losing heartbeats outright.
    assert!(detector(&r).false_positives.total < detector(&d).false_positives.total);
}

#[test]
fn a_long_partition_breaks_a_stream_after_its_retry_budget() {
    let cut = json!([{ "at": "5m", "action": "partition", "clients": "c[0..10]", "for": "10m" }]);
    let r = run(&stream(0.0, 5, cut).to_string());
    let g = r.traffic.groups.get("c").unwrap();
    // RTO 200 ms–1 s doubles 5 times: the budget is spent after at most 63 s, well inside
    // the 10 min partition; each partitioned client breaks its connection at least once.
    assert!(g.connection_breaks >= 10, "{g:?}");
    assert!(g.lost > 0, "a break abandons the heartbeats it held");
    let short = json!([{ "at": "5m", "action": "partition", "clients": "c[0..10]", "for": "5s" }]);
    let r = run(&stream(0.0, 5, short).to_string());
    assert_eq!(
        r.traffic.connection_breaks, 0,
        "a short partition is bridged by retransmission"
    );
    assert_eq!(r.traffic.lost, 0);
}

fn fault_run(fault: Value) -> hbsim::Report {
    let mut s = base(50, "10m");
    s["faults"] = json!([fault]);
    run(&s.to_string())
}

#[test]
fn pauses_and_partitions_cause_mistakes_during_faults_not_spurious_ones() {
    for fault in [
        json!({ "at": "2m", "action": "pause", "clients": "c[0..20]", "for": "10s" }),
        json!({ "at": "2m", "action": "partition", "clients": "c[0..20]", "for": "10s" }),
    ] {
        let r = fault_run(fault.clone());
        let fp = &detector(&r).false_positives;
        assert_eq!(fp.during_fault, 20, "{fault}");
        assert_eq!(fp.spurious, 0, "{fault}");
        // The mistake ends when heartbeats flow again, just after the fault ends.
        let md = &detector(&r).mistake_duration;
        assert_eq!(md.count, 20);
        assert!(md.stats.max_ns.unwrap() < 10 * S, "{md:?}");
    }
}

#[test]
fn a_fixed_delay_loop_resumes_after_a_pause() {
    let mut s = base(1, "100s");
    s["clients"][0]["heartbeat"] =
        json!({ "interval": "1s", "phase": "aligned", "schedule": "fixed-delay" });
    s["faults"] = json!([{ "at": "10500ms", "action": "pause", "clients": "c", "for": "5s" }]);
    let r = run(&s.to_string());
    // Sends at 0..=10 s, then the sleep ending at 11 s is serviced at 15.5 s, and the loop
    // goes on from there: 15.5, 16.5, ..., 99.5 s.
    assert_eq!(r.traffic.heartbeats_sent, 11 + 85);
    let md = &detector(&r).mistake_duration;
    // Offline at 13.05 s (3 s after the 10.05 s arrival), back at 15.55 s.
    assert_eq!(md.stats.min_ns, Some(2_500_000_000));
}

#[test]
fn a_server_stall_longer_than_the_threshold_flags_everyone_during_the_fault() {
    let r = fault_run(json!({ "at": "3m", "action": "server-stall", "for": "5s" }));
    let fp = &detector(&r).false_positives;
    assert_eq!(
        fp.during_fault, 50,
        "the catch-up scan flags every online client"
    );
    assert_eq!(fp.spurious, 0);
    // The backlog arrives stamped with the end of the stall: every mistake lasts 0 ns.
    assert_eq!(detector(&r).mistake_duration.stats.max_ns, Some(0));
    let r = fault_run(json!({ "at": "3m", "action": "server-stall", "for": "1s" }));
    assert_eq!(
        detector(&r).false_positives.total,
        0,
        "a stall shorter than the slack is harmless"
    );
}

#[test]
fn churn_follows_its_mean_up_and_down_times() {
    let mut s = base(200, "10h");
    s["faults"] =
        json!([{ "at": "0s", "action": "churn", "clients": "c", "mtbf": "1h", "mttr": "10m" }]);
    let r = run(&s.to_string());
    // Cycles of 70 min on average: about 10 h / 70 min ≈ 8.6 crashes per client.
    let crashes = r.crashes as f64 / 200.0;
    assert!(
        (crashes - 600.0 / 70.0).abs() < 0.6,
        "crashes per client {crashes}"
    );
    let up = r.traffic.groups.get("c").unwrap().up_ns as f64 / (200.0 * 10.0 * 3600.0 * 1e9);
    assert!((up - 60.0 / 70.0).abs() < 0.02, "up fraction {up}");
    let d = detector(&r);
    assert!(d.detection_latency.count + d.detection_latency.missed >= r.crashes - 5);
    assert_eq!(
        d.false_positives.total, 0,
        "no loss: churn makes no mistakes"
    );
}

#[test]
fn clock_drift_changes_the_heartbeat_rate() {
    let mut s = base(10, "1h");
    s["clients"][0]["heartbeat"]["drift_ppm"] = json!(100000);
    s["clients"][0]["heartbeat"]["phase"] = json!("aligned");
    let fast = run(&s.to_string());
    // A clock 10 % fast fires every 1/1.1 s (909 090 909 ns after rounding): 3961
    // heartbeats in the hour from t = 0 instead of 3600.
    assert_eq!(fast.traffic.heartbeats_sent, 10 * 3961);
    // A slow clock with a tight threshold: gaps of 1.111 s against 1.05 s are all mistakes.
    s["clients"][0]["heartbeat"]["drift_ppm"] = json!(-100000);
    s["detectors"][0]["threshold"] = json!("1050ms");
    let slow = run(&s.to_string());
    assert!(detector(&slow).false_positives.spurious > 30_000);
    s["clients"][0]["heartbeat"]["drift_ppm"] = json!({ "min": -1000, "max": 1000 });
    let mild = run(&s.to_string());
    assert_eq!(detector(&mild).false_positives.total, 0);
}

#[test]
fn windows_sleep_overshoot_slows_a_fixed_delay_loop() {
    let mut s = base(20, "1h");
    s["clients"][0]["heartbeat"] = json!({ "interval": "1s", "schedule": "fixed-delay",
        "overshoot": { "dist": "uniform", "min": "0s", "max": "15625us" } });
    let r = run(&s.to_string());
    // Each period is 1 s + U[0, 15.625 ms]: mean 1.0078 s, so about 3572 an hour.
    let per_client = r.traffic.heartbeats_sent as f64 / 20.0;
    assert!(
        (per_client - 3600.0 / 1.0078125).abs() < 3.0,
        "{per_client}"
    );
    s["clients"][0]["heartbeat"]["schedule"] = json!("fixed-rate");
    let r = run(&s.to_string());
    assert!(
        r.traffic.heartbeats_sent >= 20 * 3599,
        "a fixed-rate timer does not accumulate"
    );
}

#[test]
fn a_backward_clock_step_hides_silence_and_a_forward_step_fakes_it() {
    // Backward: a client last heard just before the server clock went back an hour looks
    // an hour fresher than it is, so its crash is noticed an hour late.
    let mut s = base(10, "2h");
    s["faults"] = json!([{ "at": "100s", "action": "crash", "clients": "c" },
                         { "at": "101s", "action": "clock-step", "by": "-1h" }]);
    let r = run(&s.to_string());
    let l = &detector(&r).detection_latency;
    assert_eq!(l.count, 10);
    assert!(l.stats.min_ns.unwrap() > 3600 * S, "{l:?}");
    // Heartbeats stamped after the step are consistent again: a later crash is seen at
    // the usual 3 s + delay.
    s["faults"] = json!([{ "at": "101s", "action": "clock-step", "by": "-1h" },
                         { "at": "200s", "action": "crash", "clients": "c" }]);
    let r = run(&s.to_string());
    let l = &detector(&r).detection_latency;
    assert!(l.stats.max_ns.unwrap() <= 3_050_000_000, "{l:?}");
    // Forward: every online client looks an hour silent at once.
    s["faults"] = json!([{ "at": "100s", "action": "clock-step", "by": "+1h" }]);
    let r = run(&s.to_string());
    let fp = &detector(&r).false_positives;
    assert_eq!(fp.during_fault, 10);
    assert_eq!(fp.spurious, 0);
}

#[test]
fn adding_burst_loss_to_one_group_changes_no_other_groups_draws() {
    let mut a = base(50, "30m");
    a["clients"][0]["uplink"]["loss"] = json!({ "model": "bernoulli", "p": 0.2 });
    let other = json!({ "group": "o", "count": 30, "heartbeat": { "interval": "500ms" } });
    a["clients"].as_array_mut().unwrap().push(other);
    let mut b = a.clone();
    b["clients"][1]["uplink"] = json!({ "loss": { "model": "gilbert-elliott", "p_enter_bad": 0.05,
        "p_leave_bad": 0.3, "loss_good": 0.0, "loss_bad": 0.9 }, "duplicate": 0.1 });
    let (ra, rb) = (run(&a.to_string()), run(&b.to_string()));
    assert_eq!(detector(&ra).groups.get("c"), detector(&rb).groups.get("c"));
    assert_eq!(ra.traffic.groups.get("c"), rb.traffic.groups.get("c"));
    assert_ne!(ra.traffic.groups.get("o"), rb.traffic.groups.get("o"));
}
