//! Goal: TCP keepalive detects as the kernels' timers say: a silent host after idle +
//! probes × interval from the last data (Linux: 7200 + 9 × 75 s), a crashed process at
//! once through its FIN, and never a paused process, whose kernel still answers.

use crate::common::run;
use serde_json::{json, Value};

fn scenario(heartbeats: bool, keepalive: Value, faults: Value) -> Value {
    let heartbeat = if heartbeats {
        json!({ "interval": "1s", "phase": "aligned" })
    } else {
        json!({ "enabled": false })
    };
    json!({
        "name": "ka", "duration": "3h",
        "clients": [{ "group": "c", "count": 10, "heartbeat": heartbeat,
            "uplink": { "delay": { "dist": "constant", "value": "10ms" } },
            "transport": { "kind": "stream" } }],
        "detectors": [keepalive],
        "faults": faults
    })
}

fn linux() -> Value {
    json!({ "name": "linux", "kind": "tcp-keepalive", "idle": "7200s", "interval": "75s", "probes": 9 })
}

#[test]
fn linux_defaults_detect_a_silent_host_7875_s_after_the_last_data() {
    // No application data: the connection was last heard at its opening (t = 0); probes at
    // 7200 s, 7275 s, ..., 7800 s go unanswered and the reset comes at 7875 s.
    let s = scenario(
        false,
        linux(),
        json!([{ "at": "100s", "action": "crash", "clients": "c" }]),
    );
    let r = run(&s.to_string());
    let d = r.detectors.get("linux").unwrap();
    assert_eq!(d.detection_latency.count, 10);
    assert_eq!(
        d.detection_latency.stats.min_ns,
        Some((7875 - 100) * 1_000_000_000)
    );
    assert_eq!(
        d.detection_latency.stats.max_ns,
        Some((7875 - 100) * 1_000_000_000)
    );
    assert_eq!(r.traffic.probes_sent, 10 * 9, "nine probes per client");
    assert_eq!(d.false_positives.total, 0);
}

#[test]
fn data_keeps_the_connection_quiet_and_a_process_crash_is_seen_at_once() {
    let quick = json!({ "name": "quick", "kind": "tcp-keepalive", "idle": "10s", "interval": "2s", "probes": 3 });
    // Heartbeats every second: no probe is needed until the crash at 1000.5 s; the last
    // data arrived at 1000.01 s, so the reset comes at 1000.01 + 10 + 3 × 2 s.
    let s = scenario(
        true,
        quick.clone(),
        json!([{ "at": "1000500ms", "action": "crash", "clients": "c" }]),
    );
    let r = run(&s.to_string());
    let d = r.detectors.get("quick").unwrap();
    assert_eq!(
        d.detection_latency.stats.max_ns,
        Some(16_010_000_000 - 500_000_000)
    );
    assert_eq!(r.traffic.probes_sent, 10 * 3);
    // A process crash: the OS sends FIN, which arrives 10 ms later.
    let s = scenario(
        true,
        quick,
        json!([{ "at": "1000500ms", "action": "crash", "clients": "c", "mode": "process" }]),
    );
    let d = run(&s.to_string());
    let d = d.detectors.get("quick").unwrap();
    assert_eq!(d.detection_latency.stats.max_ns, Some(10_000_000));
}

#[test]
fn a_paused_process_still_answers_keepalive() {
    let quick = json!({ "name": "quick", "kind": "tcp-keepalive", "idle": "10s", "interval": "2s", "probes": 3 });
    let mut s = scenario(
        true,
        quick,
        json!([{ "at": "1000s", "action": "pause", "clients": "c", "for": "60s" }]),
    );
    s["detectors"].as_array_mut().unwrap().push(json!(
        { "name": "app", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "3s" }));
    let r = run(&s.to_string());
    assert_eq!(r.detectors.get("quick").unwrap().false_positives.total, 0);
    assert_eq!(
        r.detectors.get("app").unwrap().false_positives.during_fault,
        10
    );
    assert!(r.traffic.probe_replies > 0);
}

#[test]
fn keepalive_needs_stream_connections() {
    let mut s = scenario(true, linux(), json!([]));
    s["clients"][0].as_object_mut().unwrap().remove("transport");
    let err = hbsim::parse(&s.to_string()).unwrap_err().to_string();
    assert!(
        err.contains("detectors[0].kind: tcp-keepalive watches stream connections"),
        "{err}"
    );
}

#[test]
fn adding_keepalive_changes_no_other_detectors_results() {
    let app =
        json!({ "name": "app", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "3s" });
    let quick = json!({ "name": "quick", "kind": "tcp-keepalive", "idle": "5s", "interval": "1s", "probes": 3 });
    let faults = json!([{ "at": "1000s", "action": "crash", "clients": "c[0..5]" },
                        { "at": "2000s", "action": "partition", "clients": "c[5..10]", "for": "30s" }]);
    let mut alone = scenario(true, app.clone(), faults.clone());
    alone["clients"][0]["uplink"]["loss"] = json!({ "model": "bernoulli", "p": 0.1 });
    let mut both = alone.clone();
    both["detectors"] = json!([app, quick]);
    let a = run(&alone.to_string());
    let b = run(&both.to_string());
    assert_eq!(a.detectors.get("app"), b.detectors.get("app"));
    assert_eq!(a.traffic.heartbeats_sent, b.traffic.heartbeats_sent);
    assert!(b.detectors.get("quick").unwrap().detection_latency.count == 5);
}

#[test]
fn on_the_timer_wheel_a_silent_host_is_found_when_the_kernel_rounds_it() {
    // HZ 250, idle 2 s, interval 1 s, 3 probes, no data: the first probe 2016 ms after the
    // connection opened (504 jiffies), then every 1024 ms (256 jiffies): the reset at
    // 2016 + 3 × 1024 = 5088 ms. Exact timers say 5000 ms.
    let quick = |hz: Value| {
        json!({ "name": "quick", "kind": "tcp-keepalive", "idle": "2s", "interval": "1s",
                "probes": 3, "timer_hz": hz })
    };
    let crash = json!([{ "at": "100ms", "action": "crash", "clients": "c" }]);
    let r = run(&scenario(false, quick(json!(250)), crash.clone()).to_string());
    let d = r.detectors.get("quick").unwrap();
    assert_eq!(
        d.detection_latency.stats.min_ns,
        Some(5_088_000_000 - 100_000_000)
    );
    assert_eq!(
        d.detection_latency.stats.max_ns,
        Some(5_088_000_000 - 100_000_000)
    );
    // Linux's defaults at HZ 250: 7200 s is 1 800 000 jiffies, in level 5 (32768-jiffy
    // buckets): the first probe at 55 · 32768 jiffies = 7208.96 s; 75 s (18750 jiffies,
    // level 3, 512-jiffy buckets) from an aligned clock is 37 · 512 = 18944 jiffies =
    // 75.776 s; nine of them: the reset at 7208.96 + 9 × 75.776 = 7890.944 s.
    let mut linux = linux();
    linux["timer_hz"] = json!(250);
    let r = run(&scenario(false, linux, crash).to_string());
    let d = r.detectors.get("linux").unwrap();
    assert_eq!(
        d.detection_latency.stats.max_ns,
        Some(7_890_944_000_000 - 100_000_000)
    );
    assert_eq!(r.traffic.probes_sent, 10 * 9);
}

/// Ten keepalive-only clients (no heartbeats) over a constant 10 ms link each way whose
/// server writes 1 byte every 500 ms, crashed (host) at 100.25 s.
fn writing(retries: u32, keepalive: Value) -> Value {
    json!({
        "name": "writes", "duration": "30m",
        "clients": [{ "group": "c", "count": 10, "heartbeat": { "enabled": false },
            "uplink": { "delay": { "dist": "constant", "value": "10ms" } },
            "transport": { "kind": "stream", "retries": retries,
                           "server_sends": { "interval": "500ms", "bytes": 1 } } }],
        "detectors": [keepalive],
        "faults": [{ "at": "100250ms", "action": "crash", "clients": "c" }]
    })
}

fn quick() -> Value {
    json!({ "name": "quick", "kind": "tcp-keepalive", "idle": "2s", "interval": "1s", "probes": 3 })
}

fn latency(s: &Value) -> (Option<u64>, Option<u64>) {
    let r = run(&s.to_string());
    let d = r.detectors.get("quick").unwrap();
    (
        d.detection_latency.stats.min_ns,
        d.detection_latency.stats.max_ns,
    )
}

#[test]
fn data_in_flight_turns_keepalive_off_and_the_retries_budget_decides() {
    // Round trip 20 ms on every sample: srtt 20 ms, RTO 200 ms (rto_min). The write at
    // 100.5 s goes unanswered; its tail-loss probe is due 2 × 20 + 200 ms later but not
    // after the RTO, so both fire at 100.7 s: the first retransmission (retrans_stamp).
    // Expiries then come 0.4, 1.2, 2.8, 6.0, 12.4, 25.2 s after it (doubling).
    // tcp_retries2 = 5: budget 63 × 0.2 = 12.6 s, first reached at 25.2 s: the error at
    // 100.7 + 25.2 = 125.9 s. Keepalive (2 s + 3 × 1 s) would have said 5 s.
    let at = |t: u64| Some(t - 100_250_000_000);
    assert_eq!(
        latency(&writing(5, quick())),
        (at(125_900_000_000), at(125_900_000_000))
    );
    // 15: budget 1023 × 0.2 + 6 × 120 = 924.6 s; the expiries double up to 120 s
    // (204.4 s after 9 of them) and then add 120 s: 924.4 s is short of it, 1044.4 s is
    // not: the error at 100.7 + 1044.4 s.
    assert_eq!(
        latency(&writing(15, quick())),
        (at(1_145_100_000_000), at(1_145_100_000_000))
    );
    // TCP_USER_TIMEOUT 10 s cuts the budget short: after the expiry at 6.0 s the timer
    // is clamped to what is left, and the connection errors exactly 10 s after the first
    // retransmission.
    let mut ut = quick();
    ut["user_timeout"] = json!("10s");
    assert_eq!(
        latency(&writing(15, ut)),
        (at(110_700_000_000), at(110_700_000_000))
    );
}

#[test]
fn without_server_data_keepalive_probes_as_before() {
    // The same clients with the writes removed: the last data is the connection's
    // opening at 0, so probes start at 2 s and the reset comes at 5 s, long before the
    // crash; every client is offline by then: no detection to measure. Crash early.
    let mut s = writing(5, quick());
    s["clients"][0]["transport"] = json!({ "kind": "stream", "retries": 5 });
    s["faults"] = json!([{ "at": "1s", "action": "crash", "clients": "c" }]);
    assert_eq!(latency(&s), (Some(4_000_000_000), Some(4_000_000_000)));
    // With writes and a crash at 1 s: the writes at 0.5 s were acknowledged; the one at
    // 1.0 s is due at the crash instant (faults come first) and never acknowledged: its
    // retransmission starts at 1.2 s, the error 25.2 s later.
    let mut s = writing(5, quick());
    s["faults"] = json!([{ "at": "1s", "action": "crash", "clients": "c" }]);
    assert_eq!(latency(&s), (Some(25_400_000_000), Some(25_400_000_000)));
}

#[test]
fn a_lost_fin_is_retransmitted_after_one_rto() {
    // Heartbeats every second over 10 ms each way: srtt 20 ms, RTO 200 ms. A partition
    // from 300 s to 300.1 s swallows the FIN of a process crashed at 300.01 s; the kernel
    // sends it again one RTO later (300.21 s), and it arrives 10 ms after that.
    let s = json!({
        "name": "fin", "duration": "10m",
        "clients": [{ "group": "c", "count": 5, "heartbeat": { "interval": "1s", "phase": "aligned" },
            "uplink": { "delay": { "dist": "constant", "value": "10ms" } },
            "transport": { "kind": "stream" } }],
        "detectors": [quick()],
        "faults": [
            { "at": "300s", "action": "partition", "clients": "c", "for": "100ms" },
            { "at": "300010ms", "action": "crash", "clients": "c", "mode": "process" }
        ]
    });
    assert_eq!(latency(&s), (Some(210_000_000), Some(210_000_000)));
}

#[test]
fn under_loss_a_process_crash_is_still_seen_within_a_few_rtos() {
    // 10 % loss each way, 400 process crashes: the FIN is lost 10 % of the time and
    // retransmitted after 200 ms, so about 1 % of crashes need a second retransmission
    // and 0.1 % a third. Keepalive alone (idle 10 s) would take over 10 s for 10 %.
    let s = json!({
        "name": "fin-loss", "duration": "20m", "seed": 5,
        "clients": [{ "group": "c", "count": 400, "heartbeat": { "interval": "1s" },
            "uplink": { "delay": { "dist": "constant", "value": "10ms" },
                        "loss": { "model": "bernoulli", "p": 0.1 } },
            "transport": { "kind": "stream" } }],
        "detectors": [{ "name": "quick", "kind": "tcp-keepalive", "idle": "10s", "interval": "2s", "probes": 3 }],
        "faults": [{ "at": "600300ms", "action": "crash", "clients": "c", "mode": "process" }]
    });
    let r = run(&s.to_string());
    let d = r.detectors.get("quick").unwrap();
    assert_eq!(d.detection_latency.count, 400);
    let l = &d.detection_latency.stats;
    assert_eq!(
        l.min_ns,
        Some(10_000_000),
        "most FINs arrive one delay later"
    );
    // At most four retransmissions (200, 400, 800, 1600 ms: 3.01 s), which 400 crashes
    // exceed with probability 400 · 0.1^5 = 0.4 %.
    assert!(l.max_ns.unwrap() <= 3_010_000_000, "{l:?}");
    // p90 is a FIN that arrived first time (90 % of crashes); p99 needed one
    // retransmission (the RTO is above rto_min: srtt + 4 rttvar under these losses).
    assert_eq!(l.p90_ns, Some(10_000_000));
    assert!(
        l.p99_ns.unwrap() >= 210_000_000 && l.p99_ns.unwrap() < 1_500_000_000,
        "{l:?}"
    );
}
