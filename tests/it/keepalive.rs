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
