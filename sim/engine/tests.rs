//! The engine's own tests: exact latencies in hand-checked cases, group lookup, limits.

use super::*;
use crate::scenario::parse;

fn scenario(detector: &str, extra: &str) -> Scenario {
    parse(&format!(
        r#"{{ "name": "t", "duration": "200s",
            "clients": [{{ "group": "g", "count": 1,
                "heartbeat": {{ "interval": "1s", "phase": "aligned" }},
                "uplink": {{ "delay": {{ "dist": "constant", "value": "200ms" }} }} }}],
            "detectors": [{detector}] {extra} }}"#
    ))
    .unwrap()
}

fn latencies(s: &Scenario) -> Vec<u64> {
    simulate(s, s.seed, Limits::default(), None)
        .unwrap()
        .detectors[0][0]
        .latencies
        .clone()
}

#[test]
fn crash_latency_is_exact_with_aligned_phases() {
    // Sends at whole seconds, arrive +200 ms; crash at 100.25 s: last arrival 100.2 s,
    // overdue from 103.2 s, next scan (phase 0.5 s) at 103.5 s: latency 3.25 s.
    let s = scenario(
        r#"{ "name": "d", "kind": "fixed-timeout", "scan_interval": "1s", "scan_phase": "500ms", "threshold": "3s" }"#,
        r#", "faults": [{ "at": "100250ms", "action": "crash", "clients": "g" }]"#,
    );
    assert_eq!(latencies(&s), vec![3_250_000_000]);
}

#[test]
fn a_crash_at_a_send_instant_prevents_that_send() {
    // Faults sort before sends at one instant: the heartbeat due at 100 s is not sent.
    // Last arrival 99.2 s, overdue at 102.2 s, continuous checking: latency 2.2 s.
    let s = scenario(
        r#"{ "name": "d", "kind": "fixed-timeout", "scan_interval": "0s", "threshold": "3s" }"#,
        r#", "faults": [{ "at": "100s", "action": "crash", "clients": "g" }]"#,
    );
    assert_eq!(latencies(&s), vec![2_200_000_000]);
}

#[test]
fn seconds_component_hides_silences_past_a_minute() {
    // A client silent for 61 s reads as 1 s under TimeSpan.Seconds. With scans every
    // 70 s (phase 0), a crash at 0.5 s (last arrival 0.2 s) is seen at 70 s with
    // elapsed 69.8 s -> seconds component 9 >= 3: offline at 70 s.
    let s = scenario(
        r#"{ "name": "d", "kind": "fixed-timeout", "scan_interval": "70s", "threshold": "3s", "elapsed": "seconds-component" }"#,
        r#", "faults": [{ "at": "500ms", "action": "crash", "clients": "g" }]"#,
    );
    assert_eq!(latencies(&s), vec![69_500_000_000]);
    // With scans every 61 s, elapsed at 61 s is 60.8 s -> component 0: missed; at
    // 122 s elapsed 121.8 s -> component 1: missed; at 183 s, 182.8 s -> 2: missed.
    let s = scenario(
        r#"{ "name": "d", "kind": "fixed-timeout", "scan_interval": "61s", "threshold": "3s", "elapsed": "seconds-component" }"#,
        r#", "faults": [{ "at": "500ms", "action": "crash", "clients": "g" }]"#,
    );
    let out = simulate(&s, 0, Limits::default(), None).unwrap();
    assert_eq!(out.detectors[0][0].latencies, Vec::<u64>::new());
    assert_eq!(out.detectors[0][0].missed, 1);
}

#[test]
fn locate_maps_ids_to_groups() {
    let starts = [0, 3, 3, 10];
    assert_eq!(locate(&starts, 0), (0, 0));
    assert_eq!(locate(&starts, 2), (0, 2));
    assert_eq!(locate(&starts, 3), (2, 0));
    assert_eq!(locate(&starts, 9), (2, 6));
}

#[test]
fn runs_over_the_event_limit_are_refused_before_they_start() {
    let s = scenario(
        r#"{ "name": "d", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "3s" }"#,
        "",
    );
    let limits = Limits {
        max_events: 10,
        ..Limits::default()
    };
    let err = simulate(&s, 0, limits, None).unwrap_err();
    assert!(!err.during_run);
    assert_eq!(err.kind, LimitKind::Events);
    assert!(err.estimate > 400, "{err:?}");
    assert!(err.to_string().contains("--max-events"));
    let limits = Limits {
        max_memory_bytes: 1 << 20,
        ..Limits::default()
    };
    let err = simulate(&s, 0, limits, None).unwrap_err();
    assert_eq!(err.kind, LimitKind::Memory);
    assert!(err.to_string().contains("--max-memory-mib"), "{err}");
}

#[test]
fn cold_state_is_held_only_where_the_memory_estimate_counts_it() {
    // estimate_memory counts every client's cold state only where `holds_cold` says a
    // run may need it; every committed scenario keeps to that.
    let mut seen = [0, 0];
    for dir in ["scenarios", "scenarios/presets"] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for path in paths {
            let s = parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let mut world = World::new(&s, s.seed);
            world.run_to_end(Limits::default(), None).unwrap();
            let held = world.cold.held();
            assert!(!held || limits::holds_cold(&s), "{}", path.display());
            seen[held as usize] += 1;
        }
    }
    assert!(
        seen[0] > 10 && seen[1] > 5,
        "both kinds of scenario are checked: {seen:?}"
    );
}
