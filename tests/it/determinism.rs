//! Goal: the same scenario bytes and seed give byte-identical reports; the seed is really
//! used; and each random stream belongs to one (purpose, group, client), so adding a
//! group or a detector changes nobody else's results.

use crate::common::{run, scenarios};
use serde_json::{json, Value};

#[test]
fn every_scenario_twice_gives_identical_bytes() {
    for path in scenarios() {
        let text = std::fs::read_to_string(&path).unwrap();
        let a = run(&text);
        let b = run(&text);
        assert_eq!(a.to_json(), b.to_json(), "{}", path.display());
        assert_eq!(a.to_markdown(), b.to_markdown(), "{}", path.display());
    }
}

#[test]
fn a_different_seed_changes_a_random_scenario() {
    let text = std::fs::read_to_string(crate::common::root().join("scenarios/flaky.json")).unwrap();
    let a = hbsim::run_text(&text, Some(1)).unwrap();
    let b = hbsim::run_text(&text, Some(2)).unwrap();
    assert_eq!(a.seed, 1);
    assert_ne!(a.traffic, b.traffic, "the seed must drive the random draws");
}

fn base() -> Value {
    json!({
        "name": "streams", "seed": 5, "duration": "20m",
        "clients": [{
            "group": "a", "count": 30,
            "heartbeat": { "interval": "1s", "jitter": "100ms", "schedule": "fixed-delay",
                           "overshoot": { "dist": "exponential", "mean": "5ms" } },
            "uplink": { "delay": { "dist": "pareto", "scale": "50ms", "shape": 1.5 },
                        "loss": { "model": "bernoulli", "p": 0.15 } }
        }],
        "detectors": [{ "name": "d", "kind": "fixed-timeout", "scan_interval": "500ms", "threshold": "2s" }],
        "faults": [{ "at": "5m", "action": "crash", "clients": "a[0..3]" },
                   { "at": "9m", "action": "restart", "clients": "a[1]" }]
    })
}

#[test]
fn adding_a_group_changes_no_other_groups_draws() {
    let one = run(&base().to_string());
    let mut two = base();
    let extra = json!({ "group": "b", "count": 50, "heartbeat": { "interval": "300ms" },
                        "uplink": { "loss": { "model": "bernoulli", "p": 0.3 } } });
    two["clients"].as_array_mut().unwrap().insert(0, extra);
    let two = run(&two.to_string());
    let a1 = one.detectors.get("d").unwrap().groups.get("a").unwrap();
    let a2 = two.detectors.get("d").unwrap().groups.get("a").unwrap();
    assert_eq!(a1, a2);
    assert_eq!(one.traffic.groups.get("a"), two.traffic.groups.get("a"));
    assert!(
        a1.false_positives.total > 0,
        "the test needs a group with random mistakes"
    );
}

/// The verdict timeline of clients `0..n` of group 0.
fn timeline(scenario: &Value, n: u32) -> Vec<hbsim::VerdictEvent> {
    let text = scenario.to_string();
    let s = hbsim::parse(&text).unwrap();
    let mut events = Vec::new();
    let mut keep = |e: &hbsim::VerdictEvent| {
        if e.group == 0 && e.index < n {
            events.push(*e);
        }
    };
    hbsim::run(
        &s,
        text.as_bytes(),
        s.seed,
        hbsim::Limits::default(),
        Some(&mut keep),
    )
    .unwrap();
    events
}

#[test]
fn adding_clients_at_the_end_of_a_group_keeps_the_others_draws() {
    // Stream ids are indices within the group: the first 30 clients draw the same numbers
    // whether or not 10 more follow, so their verdict timelines are identical.
    let mut bigger = base();
    bigger["clients"][0]["count"] = json!(40);
    let a = timeline(&base(), 30);
    let b = timeline(&bigger, 30);
    assert!(
        a.len() > 40,
        "the timeline should hold mistakes and recoveries"
    );
    assert_eq!(a, b);
}

#[test]
fn adding_a_detector_changes_no_other_detectors_results() {
    let one = run(&base().to_string());
    let mut two = base();
    two["detectors"].as_array_mut().unwrap().push(json!(
        { "name": "strict", "kind": "fixed-timeout", "scan_interval": "0s", "threshold": "1200ms", "rejoin": "never" }));
    let two = run(&two.to_string());
    assert_eq!(one.detectors.get("d"), two.detectors.get("d"));
    assert_eq!(one.traffic, two.traffic);
    assert!(two.detectors.get("strict").unwrap().false_positives.total > 0);
}
