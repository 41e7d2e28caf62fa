//! `hbsim schema`: the JSON Schema printed for editors agrees with the validator. Every
//! committed scenario conforms to it, and a catalogue of valid and invalid variants gets
//! the same verdict from the schema and from `hbsim validate`'s parser.
//!
//! The schema is checked with a small evaluator of the keywords it uses (draft 2020-12:
//! `$ref` into `$defs`, `type`, `enum`, `const`, `properties`, `additionalProperties`,
//! `required`, `items`, `minItems`, `minProperties`, `oneOf`, `anyOf`, `if`/`else`,
//! numeric bounds, `pattern`); a keyword it does not know fails the test, so the schema
//! cannot silently use one that goes unchecked here.

use std::process::Command;

use regex::Regex;
use serde_json::{json, Value};

use crate::common;

const KNOWN: &[&str] = &[
    "$schema",
    "$id",
    "$ref",
    "$defs",
    "title",
    "description",
    "default",
    "examples",
    "type",
    "enum",
    "const",
    "properties",
    "additionalProperties",
    "required",
    "items",
    "minItems",
    "minProperties",
    "oneOf",
    "anyOf",
    "if",
    "then",
    "else",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "pattern",
];

fn schema() -> Value {
    serde_json::from_str(hbsim::scenario::SCHEMA).expect("the schema is JSON")
}

/// Whether `v` conforms to `s` (a subschema of `root`).
fn conforms(root: &Value, s: &Value, v: &Value) -> bool {
    let Some(s) = s.as_object() else {
        return s.as_bool().expect("a schema is an object or a boolean");
    };
    for key in s.keys() {
        assert!(
            KNOWN.contains(&key.as_str()),
            "keyword {key} is not evaluated"
        );
    }
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix("#/$defs/").expect("refs point into $defs");
        if !conforms(root, &root["$defs"][name], v) {
            return false;
        }
    }
    if let Some(t) = s.get("type").and_then(Value::as_str) {
        let ok = match t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "boolean" => v.is_boolean(),
            "number" => v.is_number(),
            "integer" => v.is_u64() || v.is_i64(),
            other => panic!("unknown type {other}"),
        };
        if !ok {
            return false;
        }
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            return false;
        }
    }
    if let Some(c) = s.get("const") {
        if c != v {
            return false;
        }
    }
    if let Some(x) = v.as_f64() {
        let bound = |k: &str| s.get(k).and_then(Value::as_f64);
        if bound("minimum").is_some_and(|m| x < m)
            || bound("maximum").is_some_and(|m| x > m)
            || bound("exclusiveMinimum").is_some_and(|m| x <= m)
            || bound("exclusiveMaximum").is_some_and(|m| x >= m)
        {
            return false;
        }
    }
    if let (Some(p), Some(text)) = (s.get("pattern").and_then(Value::as_str), v.as_str()) {
        if !Regex::new(p).expect("patterns compile").is_match(text) {
            return false;
        }
    }
    if let Some(map) = v.as_object() {
        let props = s.get("properties").and_then(Value::as_object);
        for (k, item) in map {
            let ok = match (props.and_then(|p| p.get(k)), s.get("additionalProperties")) {
                (Some(sub), _) => conforms(root, sub, item),
                (None, Some(extra)) => conforms(root, extra, item),
                (None, None) => true,
            };
            if !ok {
                return false;
            }
        }
        if let Some(req) = s.get("required").and_then(Value::as_array) {
            if req.iter().any(|r| !map.contains_key(r.as_str().unwrap())) {
                return false;
            }
        }
        if let Some(n) = s.get("minProperties").and_then(Value::as_u64) {
            if (map.len() as u64) < n {
                return false;
            }
        }
    }
    if let Some(items) = v.as_array() {
        if let Some(n) = s.get("minItems").and_then(Value::as_u64) {
            if (items.len() as u64) < n {
                return false;
            }
        }
        if let Some(sub) = s.get("items") {
            if !items.iter().all(|i| conforms(root, sub, i)) {
                return false;
            }
        }
    }
    if let Some(all) = s.get("oneOf").and_then(Value::as_array) {
        if all.iter().filter(|b| conforms(root, b, v)).count() != 1 {
            return false;
        }
    }
    if let Some(any) = s.get("anyOf").and_then(Value::as_array) {
        if !any.iter().any(|b| conforms(root, b, v)) {
            return false;
        }
    }
    if let Some(cond) = s.get("if") {
        let branch = if conforms(root, cond, v) {
            "then"
        } else {
            "else"
        };
        if let Some(b) = s.get(branch) {
            if !conforms(root, b, v) {
                return false;
            }
        }
    }
    true
}

fn valid_by_schema(v: &Value) -> bool {
    let root = schema();
    conforms(&root, &root, v)
}

#[test]
fn the_command_prints_a_draft_2020_12_schema() {
    let out = Command::new(env!("CARGO_BIN_EXE_hbsim"))
        .arg("schema")
        .output()
        .unwrap();
    assert!(out.status.success());
    let printed: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(printed, schema());
    assert_eq!(
        printed["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(printed["additionalProperties"], false);
}

#[test]
fn every_committed_scenario_conforms() {
    for path in common::scenarios() {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(valid_by_schema(&v), "{} breaks the schema", path.display());
    }
}

/// A small valid scenario that the variants below edit.
fn base() -> Value {
    json!({
        "$schema": "./hbsim.schema.json",
        "name": "base",
        "duration": "1m",
        "clients": [{
            "group": "phones",
            "count": 3,
            "heartbeat": {"interval": "1s"},
            "uplink": {"delay": {"dist": "constant", "value": "10ms"}}
        }],
        "detectors": [{"name": "scan", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "3s"}]
    })
}

/// Applies `edit` (a JSON pointer and a new value; `null` removes the field) to the base.
fn variant(pointer: &str, value: Value) -> Value {
    let mut v = base();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = v.pointer_mut(parent).expect("the parent exists");
    match target {
        Value::Object(m) if value.is_null() => {
            m.remove(key);
        }
        Value::Object(m) => {
            m.insert(key.to_string(), value);
        }
        Value::Array(a) => a[key.parse::<usize>().unwrap()] = value,
        _ => panic!("{pointer} does not address a field"),
    }
    v
}

fn agree(label: &str, v: &Value, expect_valid: bool) {
    let by_schema = valid_by_schema(v);
    let by_parser = hbsim::parse(&v.to_string());
    assert_eq!(
        by_schema, expect_valid,
        "{label}: the schema says {by_schema}, expected {expect_valid}"
    );
    assert_eq!(
        by_parser.is_ok(),
        expect_valid,
        "{label}: the validator disagrees: {:?}",
        by_parser.err().map(|e| e.to_string())
    );
}

#[test]
fn schema_and_validator_agree_on_valid_variants() {
    let hb = "/clients/0/heartbeat";
    let up = "/clients/0/uplink";
    let cases: Vec<(&str, Value)> = vec![
        ("base", base()),
        (
            "phase duration",
            variant(&format!("{hb}/phase"), json!("250ms")),
        ),
        (
            "phase aligned",
            variant(&format!("{hb}/phase"), json!("aligned")),
        ),
        (
            "drift range",
            variant(&format!("{hb}/drift_ppm"), json!({"min": -50, "max": 50.5})),
        ),
        (
            "drift number",
            variant(&format!("{hb}/drift_ppm"), json!(-20)),
        ),
        ("no heartbeats", variant(hb, json!({"enabled": false}))),
        (
            "overshoot",
            variant(
                &format!("{hb}/overshoot"),
                json!({"dist": "uniform", "min": "0s", "max": "15.625ms"}),
            ),
        ),
        (
            "fixed-delay",
            variant(&format!("{hb}/schedule"), json!("fixed-delay")),
        ),
        (
            "lognormal",
            variant(
                &format!("{up}/delay"),
                json!({"dist": "lognormal", "median": "20ms", "sigma": 0.5}),
            ),
        ),
        (
            "pareto",
            variant(
                &format!("{up}/delay"),
                json!({"dist": "pareto", "scale": "5ms", "shape": 2.5}),
            ),
        ),
        (
            "normal",
            variant(
                &format!("{up}/delay"),
                json!({"dist": "normal", "mean": "20ms", "stddev": "5ms"}),
            ),
        ),
        (
            "exponential",
            variant(
                &format!("{up}/delay"),
                json!({"dist": "exponential", "mean": "20ms"}),
            ),
        ),
        (
            "bernoulli",
            variant(
                &format!("{up}/loss"),
                json!({"model": "bernoulli", "p": 0.05}),
            ),
        ),
        (
            "gilbert-elliott",
            variant(
                &format!("{up}/loss"),
                json!({"model": "gilbert-elliott", "p_enter_bad": 0.01, "p_leave_bad": 0.3, "loss_good": 0, "loss_bad": 1}),
            ),
        ),
        (
            "stream",
            variant(
                "/clients/0/transport",
                json!({"kind": "stream", "rto_min": "200ms", "retries": 8}),
            ),
        ),
        (
            "phi",
            variant(
                "/detectors/0",
                json!({"name": "phi", "kind": "phi-accrual", "threshold": 10, "variant": "exponential"}),
            ),
        ),
        (
            "ping c2s",
            variant(
                "/detectors/0",
                json!({"name": "p", "kind": "ping", "direction": "client-to-server", "interval": "5s", "timeout": "1s", "misses": 2}),
            ),
        ),
        (
            "swim defaults",
            variant("/detectors/0", json!({"name": "sw", "kind": "swim"})),
        ),
        (
            "swim every field",
            variant(
                "/detectors/0",
                json!({"name": "sw", "kind": "swim", "members": ["phones[0..2]", "phones[2]"],
                       "interval": "5s", "timeout": "3s", "indirect": 1, "target": "round-robin",
                       "phase": "aligned", "suspicion_mult": 0, "suspicion_max_mult": 1,
                       "lifeguard": false, "awareness_max": 1, "gossip_interval": "500ms",
                       "gossip_nodes": 4, "retransmit_mult": 2, "gossip_to_the_dead": "60s",
                       "push_pull_interval": "0s", "udp_buffer": 65507}),
            ),
        ),
        (
            "sweep",
            variant(
                "/sweep",
                json!({"vary": {"detectors.scan.threshold": ["2s", "5s"], "clients.phones.heartbeat.interval": "1s..4s*2"}}),
            ),
        ),
        (
            "expect",
            variant(
                "/expect",
                json!([
            {"metric": "scan.detection_latency.p99", "max": "5s", "confidence": 0.95},
            {"metric": "scan.false_positives.spurious", "max": 0, "group": "phones"}]),
            ),
        ),
        (
            "faults",
            variant(
                "/faults",
                json!([
            {"at": "1s", "action": "crash", "clients": "phones[0]", "mode": "process"},
            {"at": "2s", "action": "restart", "clients": "phones[0..2]"},
            {"at": "3s", "action": "pause", "clients": "*", "for": "1s"},
            {"at": "4s", "action": "partition", "clients": "phones", "for": "1s"},
            {"at": "5s", "action": "server-stall", "for": "1s"},
            {"at": "6s", "action": "churn", "clients": "phones", "mtbf": "10s", "mttr": "1s"},
            {"at": "7s", "action": "clock-step", "by": "-1h"},
            {"at": "8s", "action": "server-crash"},
            {"at": "9s", "action": "server-restart"}]),
            ),
        ),
    ];
    for (label, v) in &cases {
        agree(label, v, true);
    }
}

#[test]
fn schema_and_validator_agree_on_invalid_variants() {
    let hb = "/clients/0/heartbeat";
    let up = "/clients/0/uplink";
    let cases: Vec<(&str, Value)> = vec![
        ("unknown top-level field", variant("/colour", json!("red"))),
        ("missing duration", variant("/duration", Value::Null)),
        ("bare-number duration", variant("/duration", json!(60))),
        ("duration without unit", variant("/duration", json!("60"))),
        (
            "duration with unknown unit",
            variant("/duration", json!("1d")),
        ),
        ("two-unit duration", variant("/duration", json!("1h30m"))),
        ("name with a space", variant("/name", json!("my run"))),
        ("zero clients", variant("/clients/0/count", json!(0))),
        ("no groups", variant("/clients", json!([]))),
        (
            "unknown heartbeat field",
            variant(&format!("{hb}/period"), json!("1s")),
        ),
        (
            "missing interval",
            variant(&format!("{hb}/interval"), Value::Null),
        ),
        (
            "bad phase",
            variant(&format!("{hb}/phase"), json!("sometimes")),
        ),
        (
            "bad schedule",
            variant(&format!("{hb}/schedule"), json!("cron")),
        ),
        (
            "huge drift",
            variant(&format!("{hb}/drift_ppm"), json!(200000)),
        ),
        (
            "enabled as string",
            variant(&format!("{hb}/enabled"), json!("no")),
        ),
        (
            "probability above 1",
            variant(&format!("{up}/duplicate"), json!(1.5)),
        ),
        (
            "unknown loss model",
            variant(&format!("{up}/loss"), json!({"model": "bursty"})),
        ),
        (
            "bernoulli without p",
            variant(&format!("{up}/loss"), json!({"model": "bernoulli"})),
        ),
        (
            "stray loss parameter",
            variant(
                &format!("{up}/loss"),
                json!({"model": "bernoulli", "p": 0.1, "loss_bad": 1}),
            ),
        ),
        (
            "unknown dist",
            variant(&format!("{up}/delay"), json!({"dist": "weibull"})),
        ),
        (
            "uniform missing max",
            variant(
                &format!("{up}/delay"),
                json!({"dist": "uniform", "min": "1ms"}),
            ),
        ),
        (
            "pareto shape 0",
            variant(
                &format!("{up}/delay"),
                json!({"dist": "pareto", "scale": "5ms", "shape": 0}),
            ),
        ),
        (
            "datagram with retries",
            variant(
                "/clients/0/transport",
                json!({"kind": "datagram", "retries": 3}),
            ),
        ),
        (
            "stream retries 0",
            variant(
                "/clients/0/transport",
                json!({"kind": "stream", "retries": 0}),
            ),
        ),
        (
            "unknown detector kind",
            variant("/detectors/0/kind", json!("gossip")),
        ),
        (
            "scanner without threshold",
            variant("/detectors/0/threshold", Value::Null),
        ),
        (
            "bad elapsed",
            variant("/detectors/0/elapsed", json!("minutes")),
        ),
        (
            "bad rejoin",
            variant("/detectors/0/rejoin", json!("sometimes")),
        ),
        (
            "phi with scanner field",
            variant(
                "/detectors/0",
                json!({"name": "phi", "kind": "phi-accrual", "elapsed": "total"}),
            ),
        ),
        (
            "phi threshold 0",
            variant(
                "/detectors/0",
                json!({"name": "phi", "kind": "phi-accrual", "threshold": 0}),
            ),
        ),
        (
            "swim unknown target",
            variant(
                "/detectors/0",
                json!({"name": "sw", "kind": "swim", "target": "nearest"}),
            ),
        ),
        (
            "swim lifeguard as string",
            variant(
                "/detectors/0",
                json!({"name": "sw", "kind": "swim", "lifeguard": "yes"}),
            ),
        ),
        (
            "swim unknown field",
            variant(
                "/detectors/0",
                json!({"name": "sw", "kind": "swim", "probe_interval": "1s"}),
            ),
        ),
        (
            "swim tiny udp buffer",
            variant(
                "/detectors/0",
                json!({"name": "sw", "kind": "swim", "udp_buffer": 100}),
            ),
        ),
        (
            "ping bad direction",
            variant(
                "/detectors/0",
                json!({"name": "p", "kind": "ping", "direction": "both", "interval": "5s", "timeout": "1s"}),
            ),
        ),
        (
            "ping without timeout",
            variant(
                "/detectors/0",
                json!({"name": "p", "kind": "ping", "interval": "5s"}),
            ),
        ),
        (
            "keepalive without probes",
            variant(
                "/detectors/0",
                json!({"name": "k", "kind": "tcp-keepalive", "idle": "2h", "interval": "75s"}),
            ),
        ),
        (
            "unknown fault",
            variant(
                "/faults",
                json!([{"at": "1s", "action": "explode", "clients": "*"}]),
            ),
        ),
        (
            "crash without clients",
            variant("/faults", json!([{"at": "1s", "action": "crash"}])),
        ),
        (
            "stall with clients",
            variant(
                "/faults",
                json!([{"at": "1s", "action": "server-stall", "for": "1s", "clients": "*"}]),
            ),
        ),
        (
            "bad crash mode",
            variant(
                "/faults",
                json!([{"at": "1s", "action": "crash", "clients": "*", "mode": "kernel"}]),
            ),
        ),
        (
            "malformed selector",
            variant(
                "/faults",
                json!([{"at": "1s", "action": "crash", "clients": "phones[1"}]),
            ),
        ),
        (
            "clock step without unit",
            variant(
                "/faults",
                json!([{"at": "1s", "action": "clock-step", "by": "-5"}]),
            ),
        ),
        (
            "server crash with clients",
            variant(
                "/faults",
                json!([{"at": "1s", "action": "server-crash", "clients": "*"}]),
            ),
        ),
        (
            "expect with both bounds",
            variant(
                "/expect",
                json!([{"metric": "scan.detection_latency.p99", "max": "5s", "min": "1s"}]),
            ),
        ),
        (
            "expect with no bound",
            variant("/expect", json!([{"metric": "scan.detection_latency.p99"}])),
        ),
        (
            "confidence 1",
            variant(
                "/expect",
                json!([{"metric": "scan.detection_latency.p99", "max": "5s", "confidence": 1}]),
            ),
        ),
        ("empty sweep", variant("/sweep", json!({"vary": {}}))),
        ("sweep without vary", variant("/sweep", json!({}))),
        ("replications 0", variant("/replications", json!(0))),
        ("negative seed", variant("/seed", json!(-1))),
    ];
    for (label, v) in &cases {
        agree(label, v, false);
    }
}

#[test]
fn a_schema_saved_beside_scenarios_is_not_taken_for_one() {
    // The editor set-up from README: the schema saved in the scenario folder and named by
    // each scenario's `$schema`; `hbsim check DIR` runs the scenario and skips the schema.
    let dir = common::temp_dir("schema-beside");
    std::fs::write(dir.join("hbsim.schema.json"), hbsim::scenario::SCHEMA).unwrap();
    let mut scenario = base();
    scenario["$schema"] = json!("./hbsim.schema.json");
    std::fs::write(dir.join("base.json"), scenario.to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hbsim"))
        .args(["check", "--format", "json"])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    let checks = report["checks"].as_array().expect("a list of checks");
    assert!(!checks.is_empty(), "{stdout}");
    assert!(checks.iter().all(|c| c["scenario"] == "base"), "{stdout}");
}
