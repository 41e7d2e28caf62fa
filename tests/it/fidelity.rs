//! Goal: hbsim's timers behave as the real ones do: the sample's `Thread.Sleep` loops
//! (scanner and clients), thread start-up phases, a timer resolution shared by every
//! timer (Windows' system tick). Expectations are computed here from the loops'
//! definitions, not from hbsim's code.

use crate::common::{hbsim, run, temp_dir, text};
use serde_json::{json, Value};

const MS: u64 = 1_000_000;
const S: u64 = 1_000 * MS;

/// One group of `count` clients with heartbeat settings `heartbeat`, a constant 0.1 ms
/// delay, crashed at `crash_at` ns.
fn group(name: &str, count: u32, heartbeat: Value) -> Value {
    json!({ "group": name, "count": count, "heartbeat": heartbeat,
            "uplink": { "delay": { "dist": "constant", "value": "100us" } } })
}

fn scenario(groups: Value, detector: Value, faults: Value) -> Value {
    json!({ "name": "fidelity", "duration": "10m", "seed": 3,
            "clients": groups, "detectors": [detector], "faults": faults })
}

/// The detection instant of a client whose Sleep loop sends at `phase + k·period`, crashed
/// at `crash`, by a scanner scanning at `first + k·scan` with threshold `t`, over a link of
/// constant delay `d`: the first scan at or after the last arrival + `t`. A fault precedes
/// a send at the same instant, so a send at `crash` does not happen.
fn detection(phase: u64, period: u64, crash: u64, first: u64, scan: u64, t: u64, d: u64) -> u64 {
    let last_send = phase + (crash - 1 - phase) / period * period;
    let due = last_send + d + t;
    let k = due.saturating_sub(first).div_ceil(scan);
    first + k * scan
}

#[test]
fn a_sleep_loop_scanner_keeps_early_clients_early_and_late_ones_late() {
    // Mono on Linux: each Sleep(1000) takes about 1000.2-1000.4 ms, nearly constant per
    // thread. Scanner 1000.28 ms, clients 1000.2 ms: they drift 0.08 ms a second, so a
    // client that sends 100 ms before a scan ("early") stays early for the whole run,
    // and is detected 3 scans after its last heartbeat; one sending 100 ms after a scan
    // ("late") needs 4: the silence at detection is about 3.1 s for one, 3.9 s for the
    // other, at every crash instant of the run.
    let hb = |phase: &str| {
        json!({ "interval": "1s", "phase": phase, "schedule": "fixed-delay",
                "overshoot": { "dist": "constant", "value": "200us" } })
    };
    let scanner = json!({ "name": "scanner", "kind": "fixed-timeout", "scan_interval": "1s",
        "scan_schedule": "fixed-delay", "scan_overshoot": { "dist": "constant", "value": "280us" },
        "threshold": "3s" });
    // Client i of each group crashes at 60.123 s + i·111 s.
    let crash = |i: u64| 60 * S + 123 * MS + i * 111 * S;
    let faults: Vec<Value> = ["early", "late"]
        .iter()
        .flat_map(|g| {
            (0..5).map(move |i| {
                json!({ "at": format!("{}ns", crash(i)), "action": "crash", "clients": format!("{g}[{i}]") })
            })
        })
        .collect();
    let s = scenario(
        json!([
            group("early", 5, hb("900ms")),
            group("late", 5, hb("100ms"))
        ]),
        scanner,
        json!(faults),
    );
    let r = run(&s.to_string());
    let d = r.detectors.get("scanner").unwrap();
    assert_eq!(d.detection_latency.count, 10);
    let (scan, period) = (1_000_280_000, 1_000_200_000);
    for (name, phase, silence) in [("early", 900 * MS, 3.0..3.5), ("late", 100 * MS, 3.5..4.0)] {
        let mut latencies = Vec::new();
        for i in 0..5 {
            let at = detection(phase, period, crash(i), scan, scan, 3 * S, 100_000);
            latencies.push(at - crash(i));
            let last_send = phase + (crash(i) - 1 - phase) / period * period;
            let quiet = (at - last_send) as f64 / S as f64;
            assert!(
                silence.contains(&quiet),
                "{name}[{i}]: detected after {quiet} s of silence"
            );
        }
        let g = d.groups.get(name).unwrap();
        let l = &g.detection_latency.stats;
        assert_eq!(l.min_ns, latencies.iter().min().copied(), "{name}");
        assert_eq!(l.max_ns, latencies.iter().max().copied(), "{name}");
    }
    assert_eq!(d.false_positives.total, 0);
}

#[test]
fn a_fixed_rate_scanner_is_the_grid_and_a_drawn_overshoot_accumulates() {
    // The same clients under the default fixed-rate scanner: scans at k·1 s exactly.
    let hb = json!({ "interval": "1s", "phase": "900ms", "schedule": "fixed-delay",
                     "overshoot": { "dist": "constant", "value": "200us" } });
    let crash = 300 * S + 123 * MS;
    let faults = json!([{ "at": format!("{crash}ns"), "action": "crash", "clients": "*" }]);
    let grid = json!({ "name": "grid", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "3s" });
    let r = run(&scenario(json!([group("c", 3, hb.clone())]), grid, faults.clone()).to_string());
    let at = detection(900 * MS, 1_000_200_000, crash, S, S, 3 * S, 100_000);
    let d = r.detectors.get("grid").unwrap();
    assert_eq!(d.detection_latency.stats.max_ns, Some(at - crash));
    // A drawn overshoot U[0, 1 ms]: the k-th scan is k s plus the sum of k draws, about
    // k·0.5 ms; by 300 s the scans are 150 ± 9 ms late (4 standard deviations: the sum of
    // 300 uniform draws has sd sqrt(300/12) ms = 5 ms).
    let drawn = json!({ "name": "drawn", "kind": "fixed-timeout", "scan_interval": "1s",
        "scan_schedule": "fixed-delay",
        "scan_overshoot": { "dist": "uniform", "min": "0s", "max": "1ms" }, "threshold": "3s" });
    let r = run(&scenario(json!([group("c", 3, hb)]), drawn, faults).to_string());
    let d = r.detectors.get("drawn").unwrap();
    let late = d.detection_latency.stats.max_ns.unwrap();
    assert_eq!(
        d.detection_latency.stats.min_ns,
        Some(late),
        "one scanner, one instant"
    );
    let period = 1_000_200_000u64;
    let last_send = 900 * MS + (crash - 1 - 900 * MS) / period * period;
    let due = last_send + 3 * S + 100_000;
    let detected = crash + late;
    assert!(detected >= due, "never before the threshold");
    assert!(
        detected - due < S + MS,
        "the first scan after it (gaps are at most 1.001 s)"
    );
    // Scan k is k·1 s + the sum of k draws late.
    let k = detected / S;
    let drift = detected - k * S;
    let expected = k * MS / 2;
    assert!(
        drift.abs_diff(expected) < 25 * MS,
        "scan {k} is {drift} ns late, expected about {expected} ns"
    );
}

#[test]
fn a_timer_resolution_puts_every_expiry_on_the_shared_tick() {
    // Windows: Sleep wakes on the 15.625 ms tick. With 0.1 ms of work before each Sleep,
    // every loop takes 65 ticks; scans and heartbeats land on ticks only.
    const TICK: u64 = 15_625_000;
    let hb = json!({ "interval": "1s", "phase": { "dist": "uniform", "min": "1ms", "max": "106ms" },
        "schedule": "fixed-delay", "overshoot": { "dist": "constant", "value": "100us" },
        "timer_resolution": "15625us" });
    let scanner = json!({ "name": "scanner", "kind": "fixed-timeout", "scan_interval": "1s",
        "scan_schedule": "fixed-delay", "scan_overshoot": { "dist": "constant", "value": "100us" },
        "timer_resolution": "15625us", "threshold": "3s" });
    for i in 0..5u64 {
        let crash = 20 * S + i * 77_777_777_777;
        let faults = json!([{ "at": format!("{crash}ns"), "action": "crash", "clients": "c" }]);
        let s = scenario(json!([group("c", 20, hb.clone())]), scanner.clone(), faults);
        let r = run(&s.to_string());
        let d = r.detectors.get("scanner").unwrap();
        assert_eq!(d.detection_latency.count, 20);
        let l = &d.detection_latency.stats;
        let (min, max) = (l.min_ns.unwrap(), l.max_ns.unwrap());
        // Scans are 65 ticks apart, heartbeats too: the silence at detection is between
        // 3 s and 3 s + one scan gap, and the crash fell within one heartbeat gap.
        assert!(
            min + 65 * TICK >= 3 * S && max <= 3 * S + 65 * TICK,
            "{min} {max}"
        );
        // Every detection (crash + latency) is on a tick.
        for lat in [min, max] {
            assert_eq!((crash + lat) % TICK, 0, "crash {i}: detected off the tick");
        }
    }
}

#[test]
fn a_drawn_phase_spreads_the_first_heartbeats_over_its_range() {
    // Threads start 1-100 ms after the scanner: a client is known once its first heartbeat
    // arrives (0.1 ms later). A crash at 0.9 ms finds no client known; at 100.5 ms every
    // one; at 50.6 ms about half (binomial, 400 clients, 4 standard deviations = 40).
    let hb =
        json!({ "interval": "1s", "phase": { "dist": "uniform", "min": "1ms", "max": "100ms" } });
    let scanner = json!({ "name": "scanner", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "3s" });
    for (at, lo, hi) in [
        ("900us", 0, 0),
        ("50600us", 160, 240),
        ("100500us", 400, 400),
    ] {
        let s = scenario(
            json!([group("c", 400, hb.clone())]),
            scanner.clone(),
            json!([{ "at": at, "action": "crash", "clients": "c" }]),
        );
        let r = run(&s.to_string());
        let n = r.detectors.get("scanner").unwrap().detection_latency.count;
        assert!((lo..=hi).contains(&n), "crash at {at}: {n} clients known");
    }
}

#[test]
fn scan_schedules_and_phases_are_validated_with_their_paths() {
    let dir = temp_dir("fidelity-invalid");
    let cases = [
        (
            json!({ "name": "d", "kind": "fixed-timeout", "scan_interval": "0s", "threshold": "3s",
                    "scan_schedule": "fixed-delay" }),
            json!({ "interval": "1s" }),
            "detectors[0].scan_interval: must be positive with scan_schedule \"fixed-delay\"",
        ),
        (
            json!({ "name": "d", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "3s",
                    "scan_overshoot": { "dist": "constant", "value": "1ms" } }),
            json!({ "interval": "1s" }),
            "detectors[0].scan_overshoot: applies to scan_schedule \"fixed-delay\" only",
        ),
        (
            json!({ "name": "d", "kind": "fixed-timeout", "scan_interval": "0s", "threshold": "3s",
                    "timer_resolution": "15625us" }),
            json!({ "interval": "1s" }),
            "detectors[0].timer_resolution: needs a positive scan_interval",
        ),
        (
            json!({ "name": "d", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "3s" }),
            json!({ "interval": "1s", "phase": { "dist": "uniform", "min": "5ms", "max": "1ms" } }),
            "clients[0].heartbeat.phase",
        ),
        (
            json!({ "name": "d", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "3s" }),
            json!({ "interval": "1s", "phase": 7 }),
            "clients[0].heartbeat.phase: expected \"random\", \"aligned\", a duration",
        ),
        (
            json!({ "name": "k", "kind": "tcp-keepalive", "idle": "2s", "interval": "1s",
                    "probes": 3, "timer_hz": 200 }),
            json!({ "interval": "1s" }),
            "detectors[0].timer_hz: expected the kernel's HZ, one of 100, 250, 300 or 1000 (got 200)",
        ),
        (
            json!({ "name": "k", "kind": "tcp-keepalive", "idle": "2s", "interval": "1s",
                    "probes": 3, "user_timeout": "0s" }),
            json!({ "interval": "1s" }),
            "detectors[0].user_timeout",
        ),
    ];
    for (i, (detector, heartbeat, want)) in cases.into_iter().enumerate() {
        let s = scenario(json!([group("c", 1, heartbeat)]), detector, json!([]));
        let path = dir.join(format!("bad{i}.json"));
        std::fs::write(&path, s.to_string()).unwrap();
        let out = hbsim(&["validate", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(3), "case {i}");
        let err = text(&out.stderr);
        assert!(err.contains(want), "case {i}: {err}");
    }
}
