//! Goal: a structure-aware fuzzer keeps the defect classes of the robustness tests closed.
//! Scenarios are built from the real vocabulary (every detector kind, transport, loss
//! model, delay distribution and fault action), then mutated: wrong types, edge numbers,
//! missing and duplicated keys, out-of-range selectors, copied fault and detector
//! objects, raw byte corruption. For every case: no panic; an invalid scenario names a
//! JSON path; a valid one runs (or is refused by a resource limit), its report balances
//! (delivered + lost + in flight = sent, per group and in total), holds no NaN, infinite
//! or negative figure, and is byte-identical on a rerun. One case in 25 also goes
//! through the release binary: `validate`, `run` and `check` exit with a documented code
//! and agree on validity.
//!
//! `cargo test` runs a few hundred cases; `HBSIM_FUZZ_CASES=10000000 cargo test
//! --release fuzz` runs as many as asked (`HBSIM_FUZZ_SEED` picks another sequence).

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{json, Value};

fn duration() -> impl Strategy<Value = Value> {
    prop_oneof![
        (0u64..5000).prop_map(|ms| json!(format!("{ms}ms"))),
        (0u64..40).prop_map(|s| json!(format!("{s}s"))),
        Just(json!("0s")),
        Just(json!("-1s")),
        Just(json!("1e3s")),
        Just(json!("9223372036854775807ns")),
        Just(json!(5)),
        Just(json!(null)),
    ]
}

fn small_duration() -> impl Strategy<Value = Value> {
    (1u64..3000).prop_map(|ms| json!(format!("{ms}ms")))
}

fn delay() -> impl Strategy<Value = Value> {
    prop_oneof![
        small_duration().prop_map(|v| json!({ "dist": "constant", "value": v })),
        (0u64..100, 0u64..200).prop_map(|(a, b)| json!({ "dist": "uniform",
            "min": format!("{a}ms"), "max": format!("{}ms", a + b) })),
        (1u64..100, 0.0f64..2.0).prop_map(
            |(m, s)| json!({ "dist": "lognormal", "median": format!("{m}ms"), "sigma": s })
        ),
        (1u64..100).prop_map(|m| json!({ "dist": "exponential", "mean": format!("{m}ms") })),
        (1u64..50, 0.5f64..3.0).prop_map(|(sc, sh)| json!({ "dist": "pareto",
            "scale": format!("{sc}ms"), "shape": sh })),
    ]
}

fn loss() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({ "model": "none" })),
        (0.0f64..1.0).prop_map(|p| json!({ "model": "bernoulli", "p": p })),
        (0.0f64..1.0, 0.0f64..1.0, 0.0f64..0.2, 0.0f64..1.0).prop_map(|(a, b, g, bad)| json!({
            "model": "gilbert-elliott", "p_enter_bad": a, "p_leave_bad": b,
            "loss_good": g, "loss_bad": bad })),
    ]
}

fn group(i: usize, stream: bool) -> impl Strategy<Value = Value> {
    (
        1u32..4,
        (100u64..3000),
        any::<bool>(),
        delay(),
        loss(),
        0.0f64..0.3,
        prop_oneof![Just(0.0), -300.0f64..300.0],
        0u8..8,
    )
        .prop_map(
            move |(count, interval, fixed_delay, d, l, dup, drift, extra)| {
                let mut g = json!({
                    "group": format!("g{i}"), "count": count,
                    "heartbeat": { "interval": format!("{interval}ms"),
                        "schedule": if fixed_delay { "fixed-delay" } else { "fixed-rate" },
                        "drift_ppm": drift },
                    "uplink": { "delay": d, "loss": l, "duplicate": dup }
                });
                if extra & 1 != 0 {
                    g["heartbeat"]["phase"] =
                        json!({ "dist": "uniform", "min": "1ms", "max": format!("{interval}ms") });
                }
                if extra & 2 != 0 {
                    g["heartbeat"]["timer_resolution"] = json!("15625us");
                }
                if stream {
                    g["transport"] = json!({ "kind": "stream", "retries": 3 });
                    if extra & 4 != 0 {
                        g["transport"]["server_sends"] =
                            json!({ "interval": format!("{}ms", interval / 2 + 1), "bytes": 1 });
                    }
                    g["uplink"]["duplicate"] = json!(0.0);
                }
                g
            },
        )
}

fn detector(i: usize, stream: bool) -> BoxedStrategy<Value> {
    let name = format!("d{i}");
    if stream {
        return (
            small_duration(),
            small_duration(),
            1u32..5,
            0usize..5,
            0u8..2,
        )
            .prop_map(move |(idle, iv, n, hz, ut)| {
                let mut d = json!({ "name": name, "kind": "tcp-keepalive",
                "idle": idle, "interval": iv, "probes": n });
                if hz < 4 {
                    d["timer_hz"] = json!([100, 250, 300, 1000][hz]);
                }
                if ut == 1 {
                    d["user_timeout"] = json!("3s");
                }
                d
            })
            .boxed();
    }
    let n = name.clone();
    prop_oneof![
        (prop_oneof![Just(json!("0s")), small_duration()], small_duration(), 0u8..4, delay()).prop_map(
            move |(scan, t, extra, o)| {
                let mut d = json!({ "name": n, "kind": "fixed-timeout", "scan_interval": scan, "threshold": t });
                if extra & 1 != 0 {
                    d["scan_schedule"] = json!("fixed-delay");
                    d["scan_overshoot"] = o;
                }
                if extra & 2 != 0 {
                    d["timer_resolution"] = json!("15625us");
                }
                d
            }
        ),
        (1.0f64..12.0, any::<bool>()).prop_map({
            let n = name.clone();
            move |(t, exp)| json!({ "name": n, "kind": "phi-accrual", "threshold": t,
                "variant": if exp { "exponential" } else { "normal" } })
        }),
        (1000u64..3000, 1u64..1000, 1u32..4).prop_map({
            let n = name.clone();
            move |(iv, to, m)| json!({ "name": n, "kind": "ping", "interval": format!("{iv}ms"),
                "timeout": format!("{to}ms"), "misses": m })
        }),
        small_duration().prop_map({
            let n = name.clone();
            move |s| json!({ "name": n, "kind": "nfd-s", "shift": s })
        }),
        (small_duration(), 1u32..200).prop_map({
            let n = name.clone();
            move |(m, w)| json!({ "name": n, "kind": "nfd-e", "margin": m, "window": w })
        }),
        (1u32..200, 0.0f64..0.9).prop_map({
            let n = name.clone();
            move |(w, g)| json!({ "name": n, "kind": "bertier", "window": w, "gamma": g + 0.05 })
        }),
    ]
    .boxed()
}

fn fault(groups: usize) -> impl Strategy<Value = Value> {
    (0u64..40, 0usize..groups, 0u32..4, 0usize..9, small_duration()).prop_map(
        |(at, g, hi, action, span)| {
            let clients = json!(format!("g{g}[0..{}]", hi.max(1)));
            let at = format!("{at}s");
            match action {
                0 => json!({ "at": at, "action": "crash", "clients": clients }),
                1 => json!({ "at": at, "action": "restart", "clients": clients }),
                2 => json!({ "at": at, "action": "pause", "for": span, "clients": clients }),
                3 => json!({ "at": at, "action": "partition", "for": span, "clients": clients }),
                4 => json!({ "at": at, "action": "server-stall", "for": span }),
                5 => json!({ "at": at, "action": "server-crash" }),
                6 => json!({ "at": at, "action": "server-restart" }),
                7 => json!({ "at": at, "action": "clock-step", "by": span }),
                _ => json!({ "at": at, "action": "churn", "mtbf": "10s", "mttr": "2s", "clients": clients }),
            }
        },
    )
}

/// A valid-looking scenario from the real vocabulary.
fn scenario() -> impl Strategy<Value = Value> {
    (1usize..3, any::<bool>(), 1usize..4, any::<u64>()).prop_flat_map(
        |(groups, stream, detectors, seed)| {
            let gs: Vec<_> = (0..groups).map(|i| group(i, stream)).collect();
            let ds: Vec<_> = (0..detectors).map(|i| detector(i, stream)).collect();
            (
                gs,
                ds,
                proptest::collection::vec(fault(groups), 0..4),
                5u64..45,
            )
                .prop_map(move |(gs, ds, fs, secs)| {
                    json!({ "name": "fuzz", "duration": format!("{secs}s"), "seed": seed % 1000,
                            "clients": gs, "detectors": ds, "faults": fs })
                })
        },
    )
}

/// Every object and array inside `v`, by JSON path, and its slot.
fn paths(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                paths(x, format!("{at}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                paths(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// One mutation, chosen by `kind` at the `pick`-th place.
fn mutate(v: &mut Value, kind: u8, pick: usize, edge: &Value) -> Option<String> {
    let mut all = Vec::new();
    paths(v, String::new(), &mut all);
    let at = all[pick % all.len()].clone();
    match kind % 8 {
        // A value replaced by an edge value of another type or range.
        0 | 1 => {
            if let Some(slot) = v.pointer_mut(&at) {
                *slot = edge.clone();
            }
            None
        }
        // A key removed.
        2 => {
            let (parent, key) = at.rsplit_once('/')?;
            if let Some(Value::Object(m)) = v.pointer_mut(parent) {
                m.shift_remove(key);
            }
            None
        }
        // A detector or fault copied (same name twice, or twice the fault).
        3 => {
            for list in ["/detectors", "/faults", "/clients"] {
                if let Some(Value::Array(a)) = v.pointer_mut(list) {
                    if let Some(first) = a.first().cloned() {
                        a.push(first);
                        break;
                    }
                }
            }
            None
        }
        // An out-of-range selector.
        4 => {
            if let Some(Value::Array(a)) = v.pointer_mut("/faults") {
                if let Some(f) = a.first_mut().and_then(Value::as_object_mut) {
                    f.insert(
                        "clients".into(),
                        json!(format!("g0[{}..{}]", pick % 7, pick % 13)),
                    );
                }
            }
            None
        }
        // A duplicated key, spliced into the text.
        5 => {
            let text = v.to_string();
            Some(text.replacen("\"name\":", "\"name\":\"x\",\"name\":", 1))
        }
        // Raw byte corruption.
        6 => {
            let mut bytes = v.to_string().into_bytes();
            let i = pick % bytes.len();
            bytes[i] = (pick as u8).wrapping_mul(37);
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        // A truncated file.
        _ => {
            let text = v.to_string();
            Some(text[..pick % text.len()].to_string())
        }
    }
}

fn edge() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(null)),
        Just(json!(-1)),
        Just(json!(0)),
        Just(json!(1.0e308)),
        Just(json!(0.9999999999999999)),
        Just(json!(u64::MAX)),
        Just(json!("")),
        Just(json!("0s")),
        Just(json!([])),
        Just(json!({})),
        Just(json!(true)),
        duration(),
    ]
}

/// Every number in a report is finite and not negative (durations, counts, rates).
fn finite_and_not_negative(v: &Value, at: &str) {
    match v {
        Value::Number(n) => {
            let x = n.as_f64().unwrap();
            assert!(x.is_finite() && x >= 0.0, "{at} = {x}");
        }
        Value::Object(m) => {
            for (k, x) in m {
                finite_and_not_negative(x, &format!("{at}.{k}"));
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                finite_and_not_negative(x, &format!("{at}[{i}]"));
            }
        }
        _ => {}
    }
}

fn balanced(t: &Value, at: &str) {
    let n = |k: &str| t[k].as_u64().unwrap_or_else(|| panic!("{at}.{k}"));
    assert_eq!(
        n("delivered") + n("lost") + n("in_flight"),
        n("heartbeats_sent"),
        "{at}: {t}"
    );
}

/// Judges one case through the release binary: `validate`, `run` and `check` exit with
/// a documented code, and agree on whether the scenario is valid.
fn judge_commands(text: &str, valid: bool, n: u64) {
    let dir = crate::common::temp_dir(&format!("fuzz-{n}"));
    let path = dir.join("s.json");
    std::fs::write(&path, text).unwrap();
    let p = path.to_str().unwrap();
    let out = dir.join("out");
    let code = |args: &[&str]| {
        let o = crate::common::hbsim(args);
        let c = o.status.code().unwrap_or(-1);
        assert!(
            [0, 1, 2, 3, 4].contains(&c),
            "{args:?} exited {c}: {}",
            crate::common::text(&o.stderr)
        );
        c
    };
    let validate = code(&["validate", p]);
    assert_eq!(
        validate == 0,
        valid,
        "validate and the parser disagree on {text}"
    );
    for args in [
        vec![
            "run",
            p,
            "--out",
            out.to_str().unwrap(),
            "--max-events",
            "2000000",
            "--quiet",
        ],
        vec!["check", p, "--max-events", "2000000"],
    ] {
        let c = code(&args);
        assert_eq!(
            c == 3,
            validate == 3,
            "{args:?} exited {c}, validate {validate}: {text}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Judges one case; returns whether it was valid.
fn judge(text: &str) -> bool {
    let scenario = match hbsim::parse(text) {
        Ok(s) => s,
        Err(e) => {
            let message = e.to_string();
            assert!(!message.trim().is_empty(), "an empty error for {text}");
            // Every problem names where: a JSON path, a field, or the document itself.
            assert!(
                message.contains(':') || message.contains("JSON") || message.contains("line"),
                "no path in {message:?} for {text}"
            );
            return false;
        }
    };
    let limits = hbsim::Limits {
        max_events: 2_000_000,
        ..hbsim::Limits::default()
    };
    let run = || hbsim::run(&scenario, text.as_bytes(), scenario.seed, limits, None);
    let Ok(report) = run() else {
        return true; // refused by a limit, with its reason
    };
    let first = report.to_json();
    let v: Value = serde_json::from_str(&first).unwrap();
    finite_and_not_negative(&v, "report");
    balanced(&v["traffic"], "traffic");
    for (g, t) in v["traffic"]["groups"].as_object().unwrap() {
        balanced(t, g);
    }
    let again = run().expect("the rerun is refused like the run");
    assert_eq!(first, again.to_json(), "a rerun differs for {text}");
    true
}

#[test]
fn fuzzed_scenarios_are_refused_with_a_path_or_run_to_a_balanced_reproducible_report() {
    let cases: u64 = std::env::var("HBSIM_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let seed: u64 = std::env::var("HBSIM_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: cases.min(u32::MAX as u64) as u32,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &key),
    );
    let strategy = (
        scenario(),
        proptest::collection::vec((any::<u8>(), any::<usize>(), edge()), 0..3),
    );
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    let (valid, total) = (AtomicU64::new(0), AtomicU64::new(0));
    let result = runner.run(&strategy, |(mut v, mutations)| {
        let mut text = None;
        for (kind, pick, e) in &mutations {
            if let Some(t) = mutate(&mut v, *kind, *pick, e) {
                text = Some(t);
                break;
            }
        }
        let text = text.unwrap_or_else(|| v.to_string());
        let n = total.fetch_add(1, Relaxed);
        let ok = judge(&text);
        valid.fetch_add(ok as u64, Relaxed);
        // One case in 25 also goes through the commands (a process each: slower).
        if n % 25 == 0 {
            judge_commands(&text, ok, n);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (valid, total) = (valid.into_inner(), total.into_inner());
    eprintln!("fuzz: {total} cases, {valid} valid");
    assert!(
        valid > total / 20,
        "too few valid cases to judge runs: {valid} of {total}"
    );
}
