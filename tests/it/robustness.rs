//! Goal: what a new user or a fuzzer tries gets a clear answer: bad input is refused with
//! its path and rule (exit 3) or its flag (exit 2), never a panic; each test here is a
//! defect once found.

use crate::common::{hbsim, temp_dir, text};
use serde_json::{json, Value};

/// A small valid scenario to vary.
fn base() -> Value {
    json!({
        "name": "r", "duration": "2m",
        "clients": [{ "group": "c", "count": 3, "heartbeat": { "interval": "1s" } }],
        "detectors": [{ "name": "d", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "3s" }]
    })
}

/// Writes `text` to a fresh file and returns its path.
fn file(label: &str, text: &str) -> String {
    let path = temp_dir(label).join("s.json");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn confidence_levels_too_close_to_one_are_refused_not_panicked_on() {
    let mut s = base();
    s["expect"] = json!([{ "metric": "d.detection_latency.mean", "max": "5s", "confidence": 0.9999999999999999 }]);
    let path = file("confidence", &s.to_string());
    let out = hbsim(&["validate", &path]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr)
            .contains("expect[0].confidence: expected a level above 0 and at most 0.999999"),
        "{}",
        text(&out.stderr)
    );
    let path = file("confidence-run", &base().to_string());
    let out = hbsim(&[
        "run",
        "--quiet",
        "--confidence",
        "0.9999999999999999",
        &path,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    // The highest accepted level works.
    let dir = temp_dir("confidence-out");
    let out = hbsim(&[
        "run",
        "--quiet",
        "--confidence",
        "0.999999",
        "--out",
        dir.to_str().unwrap(),
        &path,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn scenario_names_are_short_enough_for_every_report_file() {
    let mut s = base();
    s["name"] = json!("n".repeat(201));
    let out = hbsim(&["validate", &file("long-name", &s.to_string())]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("name: a scenario name is at most 200 characters"),
        "{}",
        text(&out.stderr)
    );
    // The longest accepted name writes every file, sweep outputs included.
    s["name"] = json!("n".repeat(200));
    s["sweep"] = json!({ "vary": { "detectors.d.threshold": ["2s", "3s"] } });
    let path = file("long-name-ok", &s.to_string());
    let dir = temp_dir("long-name-out");
    for command in ["run", "sweep"] {
        let out = hbsim(&[command, "--quiet", "--out", dir.to_str().unwrap(), &path]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{command}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn clock_steps_are_bounded_so_that_the_server_clock_cannot_overflow() {
    let step = |by: &str| {
        let mut s = base();
        s["faults"] = json!([{ "at": "10s", "action": "clock-step", "by": by }]);
        hbsim(&["validate", &file("clock", &s.to_string())])
    };
    // The largest signed duration used to wrap the clock offset and silence the scanner.
    let out = step("9223372036854775807ns");
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("faults[0].by: a clock step is at most 87600h either way"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        step("-87600h").status.code(),
        Some(0),
        "ten years back is allowed"
    );
    // Eleven steps of ten years each add up past the bound.
    let mut s = base();
    s["faults"] = json!((0..11)
        .map(|i| json!({ "at": format!("{}s", i + 1), "action": "clock-step", "by": "+87600h" }))
        .collect::<Vec<_>>());
    let out = hbsim(&["validate", &file("clock-sum", &s.to_string())]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("faults: the clock steps add up to"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn sweep_ranges_past_the_axis_cap_are_refused_and_whole_numbers_stay_whole() {
    let path = file("sweep-cap", &base().to_string());
    let dir = temp_dir("sweep-cap-out");
    let out_dir = dir.to_str().unwrap();
    let out = hbsim(&[
        "sweep",
        "--quiet",
        "--out",
        out_dir,
        "--vary",
        "detectors.d.threshold=1s..1500s+1s",
        &path,
    ]);
    assert_ne!(
        out.status.code(),
        Some(0),
        "1500 values are not silently cut to 1000"
    );
    assert!(
        text(&out.stderr).contains("has more than 1000 values"),
        "{}",
        text(&out.stderr)
    );
    // Counts and seeds are whole numbers: lists and ranges of them sweep.
    for vary in ["clients.c.count=1,2,3", "seed=1..3+1"] {
        let out = hbsim(&["sweep", "--quiet", "--out", out_dir, "--vary", vary, &path]);
        assert_eq!(out.status.code(), Some(0), "{vary}: {}", text(&out.stderr));
        let csv = std::fs::read_to_string(dir.join("r-sweep.csv")).unwrap();
        assert_eq!(
            csv.lines().count(),
            4,
            "{vary}: a header and three cells\n{csv}"
        );
    }
    // In a sweep block too.
    let mut s = base();
    s["sweep"] = json!({ "vary": { "seed": "1..3+1" } });
    let path = file("sweep-block", &s.to_string());
    assert_eq!(hbsim(&["validate", &path]).status.code(), Some(0));
    let out = hbsim(&["sweep", "--quiet", "--out", out_dir, &path]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn duplicate_keys_are_refused_with_their_paths() {
    let scenario = r#"{ "name": "b", "name": "c", "duration": "1m",
        "clients": [{ "group": "c", "count": 10, "count": 20, "heartbeat": { "interval": "1s" } }],
        "detectors": [{ "name": "d", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "3s" }] }"#;
    let out = hbsim(&["validate", &file("duplicates", scenario)]);
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(err.contains("  name: duplicate key"), "{err}");
    assert!(err.contains("  clients[0].count: duplicate key"), "{err}");
}

#[test]
fn diff_refuses_what_is_not_a_report() {
    for (label, other) in [("scenario", "scenarios/flaky.json"), ("empty", "")] {
        let other = if other.is_empty() {
            file("empty-object", "{}")
        } else {
            other.to_string()
        };
        let out = hbsim(&["diff", "reports/flaky.json", &other]);
        assert_eq!(out.status.code(), Some(3), "{label}: {}", text(&out.stdout));
        assert!(
            text(&out.stderr).contains("is not an hbsim report (no hbsim_version"),
            "{label}: {}",
            text(&out.stderr)
        );
    }
    // Reports of another version are refused with both versions named.
    let mut old: Value =
        serde_json::from_str(&std::fs::read_to_string("reports/flaky.json").unwrap()).unwrap();
    old["hbsim_version"] = json!("0.0.1");
    let path = file("old-version", &old.to_string());
    let out = hbsim(&["diff", &path, "reports/flaky.json"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("hbsim \"0.0.1\""),
        "{}",
        text(&out.stderr)
    );
    // A report against itself still works.
    let out = hbsim(&["diff", "reports/flaky.json", "reports/flaky.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn check_does_not_follow_symlinked_directories() {
    let dir = temp_dir("symlink-loop");
    std::fs::write(dir.join("s.json"), base().to_string()).unwrap();
    std::os::unix::fs::symlink("..", dir.join("back")).unwrap();
    std::os::unix::fs::symlink(".", dir.join("self")).unwrap();
    let out = hbsim(&["check", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // The one scenario ran once (a link back up used to run it again at every level).
    let report = text(&out.stdout);
    assert_eq!(report.matches("PASS  r ").count(), 1, "{report}");
    assert!(report.contains("check: 1 passed, 0 failed"), "{report}");
}

#[test]
fn tune_takes_the_limit_flags_its_advice_names() {
    let path = file("tune-limits", &base().to_string());
    let out = hbsim(&[
        "tune",
        "--out",
        "target/tune-pages",
        "--quiet",
        &path,
        "--target",
        "d.detection_latency.p99<=10s",
        "--max-events",
        "10",
    ]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--max-events"),
        "{}",
        text(&out.stderr)
    );
    let out = hbsim(&["tune", "--help"]);
    assert!(text(&out.stdout).contains("--max-memory-mib"));
}

#[test]
fn the_event_limit_advice_with_replications_lets_the_run_start() {
    let dir = temp_dir("advice");
    let out_dir = dir.to_str().unwrap();
    let args = |limit: &str| {
        hbsim(&[
            "run",
            "--quiet",
            "--out",
            out_dir,
            "--replications",
            "100",
            "--max-events",
            limit,
            "scenarios/seed.json",
        ])
    };
    let out = args("198225");
    assert_eq!(out.status.code(), Some(4));
    let err = text(&out.stderr);
    assert!(
        err.contains("more than the limit of 198225"),
        "the limit given: {err}"
    );
    let advice = err
        .split("--max-events ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .expect("a suggested value");
    let out = args(advice);
    assert_eq!(
        out.status.code(),
        Some(0),
        "following the advice: {}",
        text(&out.stderr)
    );
}

#[test]
fn traffic_balances_for_every_transport_and_fault() {
    // delivered + lost + in flight = sent, per group and in total, with a stream group
    // whose connection breaks often, a lossy datagram group with duplicates, and faults.
    let s = json!({
        "name": "balance", "seed": 5, "duration": "5m",
        "clients": [
            { "group": "tcp", "count": 3, "heartbeat": { "interval": "1s" },
              "uplink": { "delay": { "dist": "uniform", "min": "10ms", "max": "400ms" },
                          "loss": { "model": "bernoulli", "p": 0.05 } },
              "transport": { "kind": "stream", "retries": 1 } },
            { "group": "udp", "count": 3, "heartbeat": { "interval": "1s" },
              "uplink": { "delay": { "dist": "uniform", "min": "10ms", "max": "2s" },
                          "loss": { "model": "bernoulli", "p": 0.1 }, "duplicate": 0.1 } }
        ],
        "detectors": [{ "name": "d", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "3s" }],
        "faults": [
            { "at": "1m", "action": "partition", "clients": "*", "for": "20s" },
            { "at": "2m", "action": "crash", "clients": "tcp[0]" },
            { "at": "3m", "action": "restart", "clients": "tcp[0]" }
        ]
    });
    let r = hbsim::run_text(&s.to_string(), None).unwrap();
    let t = &r.traffic;
    assert_eq!(t.delivered + t.lost + t.in_flight, t.heartbeats_sent);
    assert!(t.in_flight < 20, "in flight {}", t.in_flight);
    assert!(t.connection_breaks > 0, "the stream connections broke");
    let (mut sent, mut delivered, mut lost) = (0, 0, 0);
    for (name, g) in &t.groups.0 {
        assert_eq!(
            g.delivered + g.lost + g.in_flight,
            g.heartbeats_sent,
            "{name}"
        );
        assert!(g.in_flight < 10, "{name}: in flight {}", g.in_flight);
        sent += g.heartbeats_sent;
        delivered += g.delivered;
        lost += g.lost;
    }
    assert_eq!(
        (sent, delivered, lost),
        (t.heartbeats_sent, t.delivered, t.lost)
    );
}

#[test]
fn phi_windows_count_in_the_memory_estimate() {
    // 10 000 clients under phi for 10 min grow windows of 600 intervals each (about
    // 150 MiB in all): a 100 MiB limit refuses the run before it starts.
    let mut s = base();
    s["clients"][0]["count"] = json!(10_000);
    s["duration"] = json!("10m");
    s["detectors"] = json!([{ "name": "phi", "kind": "phi-accrual" }]);
    let path = file("phi-memory", &s.to_string());
    let out = hbsim(&["run", "--quiet", "--max-memory-mib", "100", &path]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--max-memory-mib"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_mean_latency_formula_does_not_apply_below_the_heartbeat_interval() {
    // Interval 30 s, threshold 5 s: the formula gave a mean of −9.75 s (and Markdown 0 ns).
    let mut s = base();
    s["duration"] = json!("10m");
    s["clients"][0]["heartbeat"]["interval"] = json!("30s");
    s["detectors"][0]["threshold"] = json!("5s");
    s["detectors"][0]["scan_interval"] = json!("500ms");
    s["faults"] = json!([{ "at": "5m", "action": "crash", "clients": "c[0]" }]);
    let r = hbsim::run_text(&s.to_string(), None).unwrap();
    let a = &r
        .detectors
        .get("d")
        .unwrap()
        .groups
        .get("c")
        .unwrap()
        .analytic;
    assert!(!a.detection_latency_mean_ns.applies);
    assert_eq!(a.detection_latency_mean_ns.expected, None);
    assert!(a
        .detection_latency_mean_ns
        .reason
        .as_deref()
        .unwrap()
        .contains("threshold is shorter than the heartbeat interval"));
    // Markdown says the same as JSON: not applicable, and why.
    assert!(r
        .to_markdown()
        .contains("n/a: the threshold is shorter than the heartbeat interval"));
}

#[test]
fn validate_judges_every_sweep_cell_as_sweep_does() {
    let with_sweep = |vary: Value| {
        let mut s = base();
        s["sweep"] = json!({ "vary": vary });
        hbsim(&["validate", &file("sweep-cells", &s.to_string())])
    };
    let out = with_sweep(json!({ "clients.c.count": [2, "2s"] }));
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr)
            .contains("sweep.vary.clients.c.count[1]: the value \"2s\" makes the scenario invalid"),
        "{}",
        text(&out.stderr)
    );
    let out = with_sweep(json!({ "sweep.vary": ["x"] }));
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr)
            .contains("sweep.vary.sweep.vary: a sweep cannot vary its own sweep block"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        with_sweep(json!({ "clients.c.count": [2, 3] }))
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn a_byte_order_mark_is_accepted_and_exponents_are_named() {
    let path = file("bom", &format!("\u{feff}{}", base()));
    let out = hbsim(&["validate", &path]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut s = base();
    s["duration"] = json!("1e3s");
    let out = hbsim(&["validate", &file("exponent", &s.to_string())]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("duration: exponents are not allowed in durations"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn counts_read_as_english() {
    let out = hbsim(&["validate", &file("english", &base().to_string())]);
    assert!(
        text(&out.stdout).contains("ok (3 clients in 1 group, 1 detector, 0 faults)"),
        "{}",
        text(&out.stdout)
    );
    let mut s = base();
    s["clients"][0]["count"] = json!(1);
    s["faults"] = json!([{ "at": "1m", "action": "crash", "clients": "c[0]" }]);
    let dir = temp_dir("english-out");
    let out = hbsim(&[
        "run",
        "--out",
        dir.to_str().unwrap(),
        &file("english-one", &s.to_string()),
    ]);
    assert!(
        text(&out.stdout).contains("r: 1 client, 2.00 min, seed 0, 1 crash injected"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_duplicated_first_heartbeat_does_not_convict_a_live_client() {
    // Seed 40 duplicates the client's first heartbeat at the same instant (constant
    // delay): the zero interval made Cassandra's mean 0 and convicted the client at once.
    // Cassandra reports a heartbeat only when its version grows, so the copy is not
    // learnt; Akka adds the zero interval, but its pause allowance and floor keep the
    // client online.
    let s = json!({
        "name": "dup", "duration": "10m", "seed": 40,
        "clients": [{ "group": "c", "count": 1, "heartbeat": { "interval": "1s" },
            "uplink": { "delay": { "dist": "constant", "value": "50ms" }, "duplicate": 0.1 } }],
        "detectors": [
            { "name": "cass", "kind": "phi-accrual", "variant": "exponential" },
            { "name": "akka", "kind": "phi-accrual" }
        ]
    });
    let r = crate::common::run(&s.to_string());
    assert!(
        r.traffic.duplicated > 0,
        "the scenario must duplicate heartbeats"
    );
    for (name, d) in &r.detectors.0 {
        assert_eq!(d.false_positives.total, 0, "{name}");
    }
}

#[test]
fn tune_recommends_no_dearer_setting_than_the_round_one_that_meets_the_targets() {
    // The example from the field: 1s / 5s / scan 500ms meets both targets at 225,737
    // bytes per client-hour; the recommendation used to be 958ms / 5746ms at 235,631.
    let out = hbsim(&[
        "tune",
        "--out",
        "target/tune-pages",
        "scenarios/flaky.json",
        "--target",
        "seed.detection_latency.p99<=6s",
        "--target",
        "seed.false_positives.spurious_per_client_day<=1",
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let line = stdout.lines().nth(1).expect("the recommendation");
    let cost: f64 = line
        .split("traffic.bytes_per_client_hour")
        .nth(1)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(cost <= 225_737.0, "{line}");
    // Refined values are round too: two significant figures.
    let interval = line
        .split("interval ")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap();
    let ns = hbsim::base::time::parse_duration(interval)
        .unwrap()
        .as_nanos() as f64;
    let unit = 10f64.powf(ns.log10().floor() - 1.0);
    assert_eq!((ns / unit).fract(), 0.0, "{interval}");
}

#[test]
fn pointless_faults_and_short_thresholds_warn_and_the_run_goes_on() {
    let dir = temp_dir("warnings");
    let mut s = base();
    s["detectors"][0]["threshold"] = json!("500ms");
    s["faults"] = json!([
        { "at": "10s", "action": "restart", "clients": "c[0..1]" },
        { "at": "20s", "action": "crash", "clients": "c" },
        { "at": "30s", "action": "crash", "clients": "c[1..2]" },
        { "at": "40s", "action": "partition", "for": "5s", "clients": "c" }
    ]);
    let path = dir.join("w.json").display().to_string();
    std::fs::write(&path, s.to_string()).unwrap();
    let out = hbsim(&["run", &path, "--out", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    for expected in [
        "warning: ",
        "faults[0]: restart of 1 running client (first: c[0]) does nothing",
        "faults[2]: crash of 1 crashed client (first: c[1]) does nothing",
        "faults[3]: partition of 3 crashed clients (first: c[0]) does nothing",
        "detectors[0].threshold: \"500ms\" is shorter than clients[0] (\"c\")'s heartbeat interval \"1s\"",
    ] {
        assert!(err.contains(expected), "{expected}\n{err}");
    }
    assert!(dir.join("r.json").exists(), "the run went on");
}

#[test]
fn two_scenarios_of_one_name_in_one_command_are_refused() {
    let dir = temp_dir("same-name");
    let (a, b) = (
        dir.join("a.json").display().to_string(),
        dir.join("b.json").display().to_string(),
    );
    std::fs::write(&a, base().to_string()).unwrap();
    std::fs::write(&b, base().to_string()).unwrap();
    for args in [
        vec!["run", &a, &b, "--out", dir.to_str().unwrap()],
        vec!["check", &a, &b],
    ] {
        let command = args[0];
        let out = hbsim(&args);
        assert_eq!(
            out.status.code(),
            Some(3),
            "{command}: {}",
            text(&out.stderr)
        );
        let err = text(&out.stderr);
        assert!(err.contains("are both named \"r\""), "{err}");
    }
    assert!(!dir.join("r.json").exists(), "nothing was written");
    // validate writes nothing, so it checks both.
    assert_eq!(hbsim(&["validate", &a, &b]).status.code(), Some(0));
}

#[test]
fn the_run_header_counts_server_crashes_and_analytic_blocks_follow_their_group() {
    let out = hbsim(&[
        "run",
        "scenarios/server-outage.json",
        "--out",
        temp_dir("outage").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("0 client crashes and 1 server crash injected"));
    // A pause of group a leaves group b's closed forms in force.
    let s = json!({
        "name": "g", "duration": "10m",
        "clients": [{ "group": "a", "count": 5, "heartbeat": { "interval": "1s" } },
                    { "group": "b", "count": 5, "heartbeat": { "interval": "1s" } }],
        "detectors": [{ "name": "d", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "3s" }],
        "faults": [{ "at": "1m", "action": "pause", "for": "10s", "clients": "a" },
                   { "at": "2m", "action": "crash", "clients": "b" }]
    });
    let r = crate::common::run(&s.to_string());
    let groups = &r.detectors.0[0].1.groups.0;
    assert!(!groups[0].1.analytic.detection_latency.applies);
    assert!(groups[1].1.analytic.detection_latency.applies);
    assert_eq!(
        groups[1].1.analytic.detection_latency.verdict.as_deref(),
        Some("consistent")
    );
}

#[test]
fn a_sweep_whose_largest_cell_exceeds_the_limit_is_refused_before_any_cell_runs() {
    let dir = temp_dir("sweep-limit");
    let path = dir.join("s.json");
    std::fs::write(&path, base().to_string()).unwrap();
    let out = hbsim(&[
        "sweep",
        path.to_str().unwrap(),
        "--vary",
        "clients.c.count=1,10,1000",
        "--max-events",
        "100000",
        "--out",
        dir.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("clients.c.count=1000") && err.contains("no cell was run"),
        "{err}"
    );
    let written: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(written.len(), 1, "only the scenario: {written:?}");
}

#[test]
fn tune_write_keeps_the_key_order_and_flags_the_expectations_it_breaks() {
    let dir = temp_dir("tune-write");
    let mut s = base();
    s["faults"] = json!([{ "at": "60s", "action": "crash", "clients": "c" }]);
    s["expect"] = json!([{ "metric": "traffic.heartbeats_per_client_hour", "min": 3600 }]);
    let path = dir.join("s.json");
    std::fs::write(&path, serde_json::to_string_pretty(&s).unwrap()).unwrap();
    let written = dir.join("tuned.json");
    let out = hbsim(&[
        "tune",
        "--out",
        "target/tune-pages",
        path.to_str().unwrap(),
        "--target",
        "d.detection_latency.max<=30s",
        "--write",
        written.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let t = std::fs::read_to_string(&written).unwrap();
    let at = |k: &str| t.find(&format!("\"{k}\"")).unwrap();
    assert!(
        at("name") < at("duration")
            && at("duration") < at("clients")
            && at("faults") < at("expect"),
        "{t}"
    );
    let err = text(&out.stderr);
    assert!(
        err.contains("the expectation traffic.heartbeats_per_client_hour >= 3600 no longer holds"),
        "{err}"
    );
}

#[test]
fn an_interrupted_run_leaves_no_temporary_or_partial_report() {
    let dir = temp_dir("signal");
    let mut s = base();
    // Far longer than the wait below: the signal comes while it simulates.
    s["clients"][0]["count"] = json!(200_000);
    s["duration"] = json!("1h");
    let path = dir.join("s.json");
    std::fs::write(&path, s.to_string()).unwrap();
    let out_dir = dir.join("out");
    for signal in ["-TERM", "-INT"] {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_hbsim"))
            .args([
                "run",
                path.to_str().unwrap(),
                "--out",
                out_dir.to_str().unwrap(),
            ])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(500));
        let killed = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let out = child.wait_with_output().unwrap();
        let expected = if signal == "-TERM" { 143 } else { 130 };
        assert_eq!(out.status.code(), Some(expected), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("interrupted"));
        let left: Vec<_> = std::fs::read_dir(&out_dir)
            .map(|d| d.map(|e| e.unwrap().file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "{left:?}");
    }
}

#[test]
fn two_processes_writing_one_report_do_not_collide() {
    let dir = temp_dir("two-writers");
    let mut s = base();
    s["clients"][0]["count"] = json!(2000);
    let path = dir.join("s.json");
    std::fs::write(&path, s.to_string()).unwrap();
    let out_dir = dir.join("out");
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_hbsim"))
            .args([
                "run",
                path.to_str().unwrap(),
                "--out",
                out_dir.to_str().unwrap(),
                "--quiet",
            ])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let children: Vec<_> = (0..4).map(|_| spawn()).collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    let names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("r.json")).unwrap()).unwrap();
    assert_eq!(report["clients"], 2000);
}
