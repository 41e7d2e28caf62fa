//! Validation tests: defaults, every problem at once, selectors, names, faults.

use super::*;

const MINIMAL: &str = r#"{
    "name": "t", "duration": "1m",
    "clients": [{ "group": "g", "count": 3, "heartbeat": { "interval": "1s" } }],
    "detectors": [{ "name": "d", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "3s" }]
}"#;

fn problems(text: &str) -> Vec<String> {
    match parse(text) {
        Err(ScenarioError::Invalid(p)) => p.iter().map(|p| p.to_string()).collect(),
        other => panic!("expected validation problems, got {other:?}"),
    }
}

#[test]
fn minimal_scenario_gets_the_documented_defaults() {
    let s = parse(MINIMAL).unwrap();
    assert_eq!(s.seed, 0);
    let hb = &s.groups[0].heartbeat;
    assert_eq!(hb.jitter, SimDuration::ZERO);
    assert_eq!(hb.phase, Phase::Random);
    assert_eq!(hb.schedule, Schedule::FixedRate);
    assert_eq!(hb.bytes, 64);
    assert_eq!(s.groups[0].uplink, Link::PERFECT);
    assert_eq!(
        s.groups[0].downlink,
        Link::PERFECT,
        "the downlink mirrors the uplink"
    );
    assert_eq!(s.groups[0].transport, Transport::Datagram);
    assert_eq!(hb.drift_ppm, Drift::Fixed(0.0));
    let DetectorKind::FixedTimeout(ft) = &s.detectors[0].kind else {
        panic!("a fixed-timeout detector")
    };
    assert_eq!(ft.elapsed, Elapsed::Total);
    assert_eq!(ft.rejoin, Rejoin::Announce);
    assert_eq!(ft.scan_phase, SimDuration::ZERO);
}

#[test]
fn every_problem_is_reported_at_once_with_path_value_and_rule() {
    let text = r#"{
        "name": "t", "duration": "1m", "colour": 1,
        "clients": [{ "group": "g", "count": 0,
            "heartbeat": { "interval": "0s", "jitter": 5, "intervall": "1s" },
            "uplink": { "loss": { "model": "bernoulli", "p": 1.5 } } }],
        "detectors": [{ "name": "d", "kind": "fixed-timeout", "scan_interval": "-1s", "threshold": "0s" }],
        "faults": [{ "at": "10s", "action": "crash", "clients": "g[0..0]" }]
    }"#;
    let p = problems(text);
    let expect = [
        "colour: unknown field",
        "clients[0].count: expected a whole number in 1..=4294967295 (got 0)",
        "clients[0].heartbeat.intervall: unknown field",
        "did you mean \"interval\"?",
        "clients[0].heartbeat.interval: must be greater than 0 (got \"0s\")",
        "clients[0].heartbeat.jitter: a duration needs a unit",
        "clients[0].uplink.loss.p: 1.5 is not a probability (expected 0.0..=1.0)",
        "detectors[0].scan_interval: durations must not be negative (got \"-1s\")",
        "detectors[0].threshold: must be greater than 0 (got \"0s\")",
    ];
    for e in expect {
        assert!(
            p.iter().any(|line| line.contains(e)),
            "missing {e:?} in {p:#?}"
        );
    }
}

#[test]
fn selectors_resolve_and_reject_what_names_nothing() {
    let g = &[GroupName {
        name: "g".into(),
        count: Some(3),
    }];
    assert_eq!(
        select("g", g).unwrap(),
        vec![ClientRange {
            group: 0,
            start: 0,
            end: 3
        }]
    );
    assert_eq!(
        select("g[2]", g).unwrap(),
        vec![ClientRange {
            group: 0,
            start: 2,
            end: 3
        }]
    );
    assert_eq!(
        select("g[0..2]", g).unwrap(),
        vec![ClientRange {
            group: 0,
            start: 0,
            end: 2
        }]
    );
    assert_eq!(select("*", g).unwrap().len(), 1);
    assert!(select("g[3]", g).unwrap_err().contains("beyond the group"));
    assert!(select("g[1..1]", g)
        .unwrap_err()
        .contains("selects no client"));
    assert!(select("h", g)
        .unwrap_err()
        .contains("no client group named \"h\""));
    assert!(select("g[x]", g)
        .unwrap_err()
        .contains("not a client index"));
}

#[test]
fn duplicate_names_are_rejected() {
    let text = MINIMAL
        .replace(
            r#""clients": ["#,
            r#""clients": [{ "group": "g", "count": 1, "heartbeat": { "interval": "1s" } },"#,
        )
        .replace(
            r#""detectors": ["#,
            r#""detectors": [{ "name": "d", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "3s" },"#,
        );
    let p = problems(&text);
    assert!(
        p.contains(&"clients[1].group: duplicate name \"g\"".to_string()),
        "{p:?}"
    );
    assert!(
        p.contains(&"detectors[1].name: duplicate name \"d\"".to_string()),
        "{p:?}"
    );
}

#[test]
fn network_fault_and_clock_fields_are_validated() {
    let text = r#"{
        "name": "t", "duration": "1m",
        "clients": [{ "group": "g", "count": 3,
            "heartbeat": { "interval": "1s", "drift_ppm": 200000 },
            "uplink": { "loss": { "model": "gilbert-elliott", "p_enter_bad": 0.1, "p_leave_bad": 2,
                                  "loss_good": 0 }, "duplicate": -0.1 },
            "downlink": { "transport": "stream" },
            "transport": { "kind": "stream", "rto_min": "2s", "rto_max": "1s" } }],
        "detectors": [{ "name": "d", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "3s" }],
        "faults": [
            { "at": "1s", "action": "server-stall", "for": "5s", "clients": "g" },
            { "at": "2s", "action": "pause", "clients": "g" },
            { "at": "3s", "action": "clock-step", "by": "0s" },
            { "at": "4s", "action": "churn", "clients": "g[1]", "mtbf": "0s", "mttr": "1m" }
        ]
    }"#;
    let p = problems(text);
    let expect = [
        "clients[0].heartbeat.drift_ppm: expected parts per million in -100000..=100000 (got 200000)",
        "clients[0].uplink.loss.p_leave_bad: 2 is not a probability",
        "clients[0].uplink.loss.loss_bad: missing required field",
        "clients[0].uplink.duplicate: -0.1 is not a probability",
        "clients[0].downlink.transport: unknown field",
        "clients[0].transport.rto_max: must be at least rto_min \"2s\" (got \"1s\")",
        "faults[0].clients: unknown field (expected one of: at, action, for)",
        "faults[1].for: missing required field",
        "faults[2].by: must not be zero (got \"0s\")",
        "faults[3].mtbf: must be greater than 0 (got \"0s\")",
    ];
    for e in expect {
        assert!(
            p.iter().any(|line| line.contains(e)),
            "missing {e:?} in {p:#?}"
        );
    }
    let ok = MINIMAL.replace(
        r#""detectors""#,
        r#""faults": [{ "at": "5s", "action": "clock-step", "by": "-1h" },
                      { "at": "6s", "action": "partition", "clients": "*", "for": "2s" }],
           "detectors""#,
    );
    let s = parse(&ok).unwrap();
    assert_eq!(
        s.faults[0].action,
        FaultAction::ClockStep {
            by_ns: -3_600_000_000_000
        }
    );
    assert!(s.faults[0].targets.is_empty());
    assert_eq!(
        s.faults[1].action,
        FaultAction::Partition {
            duration: SimDuration::from_secs(2)
        }
    );
}

#[test]
fn json_syntax_errors_carry_line_and_column() {
    match parse("{\n  \"name\": \"t\",\n  oops\n}") {
        Err(ScenarioError::Json { line, .. }) => assert_eq!(line, 3),
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn seconds_component_needs_a_threshold_below_a_minute() {
    let text = MINIMAL.replace(
        "\"threshold\": \"3s\"",
        "\"threshold\": \"1m\", \"elapsed\": \"seconds-component\"",
    );
    let p = problems(&text);
    assert!(
        p[0].starts_with("detectors[0].threshold: must be at most \"59s\""),
        "{p:?}"
    );
}

#[test]
fn faults_after_the_end_and_unknown_actions_are_rejected() {
    let text = MINIMAL.replace(
        "\"detectors\"",
        "\"faults\": [{\"at\": \"2m\", \"action\": \"crash\", \"clients\": \"*\"}, {\"at\": \"1s\", \"action\": \"crahs\", \"clients\": \"g\"}], \"detectors\"",
    );
    let p = problems(&text);
    assert!(
        p.iter()
            .any(|l| l
                .contains("faults[0].at: must be before the end of the run \"1m\" (got \"2m\")")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|l| l.contains("faults[1].action: unknown value \"crahs\"")
                && l.contains("did you mean \"crash\"?")),
        "{p:?}"
    );
}

#[test]
fn a_run_holds_at_most_256_detectors() {
    let detector = |i: usize| {
        format!(
            r#"{{ "name": "d{i}", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "3s" }}"#
        )
    };
    let text = |n: usize| {
        let list: Vec<String> = (0..n).map(detector).collect();
        format!(
            r#"{{ "name": "x", "duration": "1m",
                "clients": [{{ "group": "g", "count": 1, "heartbeat": {{ "interval": "1s" }} }}],
                "detectors": [{}] }}"#,
            list.join(",")
        )
    };
    assert!(parse(&text(256)).is_ok());
    assert_eq!(
        problems(&text(257)),
        vec!["detectors: 257 detectors, more than the 256 a run can hold"]
    );
}
