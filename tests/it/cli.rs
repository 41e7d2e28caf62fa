//! Goal: the release binary behaves as README and DESIGN §2 promise: byte-identical
//! reports on repeated runs and equal to the committed goldens, documented exit codes,
//! every validation problem listed with file, path, value and rule, and the flags work.

use crate::common::{golden_dir, hbsim, root, scenarios, stem, temp_dir, text};
use std::process::Command;

#[test]
fn the_binary_reproduces_the_goldens_byte_for_byte_twice() {
    let a = temp_dir("twice-a");
    let b = temp_dir("twice-b");
    let paths: Vec<String> = scenarios()
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    for dir in [&a, &b] {
        let mut args = vec!["run", "--quiet", "--out", dir.to_str().unwrap()];
        args.extend(paths.iter().map(String::as_str));
        let out = hbsim(&args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(out.stdout.is_empty(), "--quiet prints no summary");
    }
    for p in scenarios() {
        let mut names: Vec<String> = ["json", "md"]
            .iter()
            .map(|ext| format!("{}.{ext}", stem(&p)))
            .collect();
        // The timeline is always drawn; the other pictures only when they have something
        // to show, and then exactly when the golden has them.
        for picture in ["latency", "tradeoff", "timeline", "groups"] {
            let name = format!("{}-{picture}.svg", stem(&p));
            let golden = golden_dir(&p).join(&name).exists();
            assert_eq!(a.join(&name).exists(), golden, "{name}");
            assert!(golden || picture != "timeline", "{name}");
            if golden {
                names.push(name);
            }
        }
        for name in names {
            let first = std::fs::read(a.join(&name)).unwrap();
            let second = std::fs::read(b.join(&name)).unwrap();
            let golden = std::fs::read(golden_dir(&p).join(&name)).unwrap();
            assert!(first == second, "{name} differs between runs");
            assert!(
                first == golden,
                "{name} from the binary differs from the committed golden"
            );
        }
    }
    let leftovers: Vec<_> = std::fs::read_dir(&a)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "tmp")
        })
        .collect();
    assert!(leftovers.is_empty(), "temporary files left behind");
}

#[test]
fn run_prints_a_summary_and_formats() {
    let out_dir = temp_dir("summary");
    let out = hbsim(&[
        "run",
        "scenarios/steady.json",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    for needle in [
        "steady: 50 clients",
        "detector scanner (fixed-timeout)",
        "detection latency",
        "false positives",
        "query accuracy",
        "traffic",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in\n{stdout}");
    }
    assert!(text(&out.stderr).contains("wrote"));

    let out = hbsim(&[
        "run",
        "scenarios/steady.json",
        "--format",
        "json",
        "--seed",
        "99",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("--format json prints JSON");
    assert_eq!(v["seed"], 99);
    assert_eq!(v["scenario"]["name"], "steady");
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("steady.json")).unwrap()).unwrap();
    assert_eq!(v, written, "stdout JSON equals the written report");

    let out = hbsim(&[
        "run",
        "scenarios/steady.json",
        "--format",
        "markdown",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(text(&out.stdout).starts_with("# hbsim report: steady"));
}

/// The verdict timeline `hbsim run --events --quiet` prints for `scenario` (reports go to a
/// fresh temporary directory named after `dir`).
fn events_of(scenario: &str, dir: &str) -> String {
    let out_dir = temp_dir(dir);
    let out = hbsim(&[
        "run",
        scenario,
        "--events",
        "--quiet",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    text(&out.stdout)
}

#[test]
fn events_print_the_verdict_timeline() {
    let stdout = events_of("scenarios/seed.json", "events");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.iter().filter(|l| l.contains(" online ")).count(),
        100,
        "one first contact per client"
    );
    let offline: Vec<&&str> = lines.iter().filter(|l| l.contains(" offline ")).collect();
    assert_eq!(
        offline.len(),
        12,
        "twelve crashed clients go offline:\n{stdout}"
    );
    assert!(
        offline[0].contains("clients[7]") && offline[0].contains("client down"),
        "{}",
        offline[0]
    );
    // Killed at 30.437 s; its thread started under 0.11 s late and drifts 0.3 ms a second.
    assert!(offline[0].contains("last heartbeat 30."), "{}", offline[0]);
    // Times are in order.
    let times: Vec<f64> = lines
        .iter()
        .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn invalid_scenarios_exit_3_listing_every_problem() {
    let dir = temp_dir("invalid");
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"{ "name": "bad", "duration": "10", "colour": 1,
             "clients": [{ "group": "g", "count": 0, "heartbeat": { "interval": "0s" },
                           "uplink": { "loss": { "model": "bernoulli", "p": 1.5 } } }],
             "detectors": [{ "name": "d", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "0s" }],
             "faults": [{ "at": "1s", "action": "crash", "clients": "x[0]" }] }"#,
    )
    .unwrap();
    for cmd in ["validate", "run"] {
        let out = hbsim(&[cmd, bad.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(3), "{cmd}");
        let err = text(&out.stderr);
        assert!(
            err.starts_with(&format!("hbsim: invalid scenario {}", bad.display())),
            "{err}"
        );
        for line in [
            "  colour: unknown field",
            "  duration: a duration needs a unit (ns, us, ms, s, m, h), e.g. \"250ms\" (got \"10\")",
            "  clients[0].count: expected a whole number in 1..=4294967295 (got 0)",
            "  clients[0].heartbeat.interval: must be greater than 0 (got \"0s\")",
            "  clients[0].uplink.loss.p: 1.5 is not a probability (expected 0.0..=1.0)",
            "  detectors[0].threshold: must be greater than 0 (got \"0s\")",
            "  faults[0].clients: no client group named \"x\"",
        ] {
            assert!(err.contains(line), "missing {line:?} in\n{err}");
        }
        assert!(!err.contains("panicked"));
    }
    let out = hbsim(&["validate", "scenarios/flaky.json", "scenarios/steady.json"]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout).lines().count(), 2);
}

#[test]
fn syntax_errors_name_line_and_column() {
    let dir = temp_dir("syntax");
    let bad = dir.join("broken.json");
    std::fs::write(&bad, "{\n  \"name\": \"x\",\n  oops\n}\n").unwrap();
    let out = hbsim(&["validate", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("line 3, column 3"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn usage_errors_exit_2_and_limits_exit_4() {
    assert_eq!(hbsim(&["run"]).status.code(), Some(2));
    assert_eq!(hbsim(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        hbsim(&["run", "--format", "yaml", "scenarios/seed.json"])
            .status
            .code(),
        Some(2)
    );
    let out = hbsim(&["run", "does/not/exist.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read scenario does/not/exist.json"));

    let dir = temp_dir("limit");
    let out = hbsim(&[
        "run",
        "scenarios/flaky.json",
        "--max-events",
        "1000",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(4));
    let err = text(&out.stderr);
    assert!(
        err.contains("more than the limit of 1000") && err.contains("--max-events"),
        "{err}"
    );
    assert!(
        std::fs::read_dir(&dir).unwrap().next().is_none(),
        "a refused run writes no report"
    );

    // Four billion clients would exhaust memory; the run is refused before it allocates.
    let huge = dir.join("huge.json");
    let scenario = std::fs::read_to_string(root().join("scenarios/steady.json"))
        .unwrap()
        .replace("\"count\": 50", "\"count\": 4000000000");
    std::fs::write(&huge, scenario).unwrap();
    let out = hbsim(&[
        "run",
        huge.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(4));
    let err = text(&out.stderr);
    assert!(
        err.contains("MiB of memory") && err.contains("--max-memory-mib"),
        "{err}"
    );
}

#[test]
fn help_documents_the_exit_codes() {
    let out = hbsim(&["--help"]);
    let help = text(&out.stdout);
    for code in [
        "0  ok",
        "1  an expectation failed",
        "2  usage error",
        "3  invalid input: a scenario",
        "4  a resource limit",
    ] {
        assert!(help.contains(code), "{help}");
    }
}

#[test]
fn replications_merge_identically_for_any_thread_count() {
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let dir = temp_dir(&format!("threads-{threads}"));
        let out = Command::new(env!("CARGO_BIN_EXE_hbsim"))
            .args([
                "run",
                "scenarios/flaky.json",
                "--quiet",
                "--replications",
                "6",
            ])
            .args(["--out", dir.to_str().unwrap()])
            .env("RAYON_NUM_THREADS", threads)
            .current_dir(root())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        outputs.push(std::fs::read(dir.join("flaky.json")).unwrap());
    }
    assert!(
        outputs[0] == outputs[1],
        "the report depends on the thread count"
    );
    let v: serde_json::Value = serde_json::from_slice(&outputs[0]).unwrap();
    assert_eq!(v["replications"], 6);
    // Six replications of 10 crashes each; the mean's interval comes from the spread of
    // the six replication means.
    assert_eq!(v["detectors"]["seed"]["detection_latency"]["count"], 60);
    assert!(v["detectors"]["seed"]["detection_latency"]["mean_ci_ns"].is_array());
}

#[test]
fn events_of_a_client_to_server_ping_show_the_servers_ground_truth() {
    // In server-outage the server is down from 20 to 25 min: the clients' `probe`
    // verdicts then judge a dead server, the scanner's lines still judge clients.
    let stdout = events_of("scenarios/server-outage.json", "events-server");
    let in_outage = |l: &&str| {
        let t: f64 = l.split_whitespace().next().unwrap().parse().unwrap();
        (1200.0..1500.0).contains(&t)
    };
    let probe: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("  probe  ") && l.contains(" offline "))
        .filter(in_outage)
        .collect();
    assert_eq!(probe.len(), 150, "every client gives up on the dead server");
    assert!(
        probe.iter().all(|l| l.ends_with("(server down)")),
        "{probe:?}"
    );
    assert!(stdout
        .lines()
        .filter(|l| l.contains("  scanner  "))
        .all(|l| l.ends_with("(client up)") || l.ends_with("(client down)")));
}

/// Goal: the verdict events kept for the pictures (first contacts only of the first
/// clients) draw exactly the pictures every event draws, on every committed scenario and
/// on one with many quiet clients, where nearly every event is a first contact.
#[test]
fn pictures_from_the_kept_events_equal_pictures_from_every_event() {
    let mut texts: Vec<String> = scenarios()
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    texts.push(
        r#"{"name": "quiet", "seed": 5, "duration": "2m",
            "clients": [{"group": "a", "count": 300, "heartbeat": {"interval": "1s"},
                         "uplink": {"loss": {"model": "bernoulli", "p": 0.05}}},
                        {"group": "b", "count": 50, "heartbeat": {"interval": "1s"}}],
            "detectors": [{"name": "t", "kind": "fixed-timeout", "scan_interval": "500ms", "threshold": "2500ms"},
                          {"name": "u", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "10s"}],
            "faults": [{"at": "30s", "action": "crash", "clients": "b[40..42]"}]}"#
            .to_string(),
    );
    for text in &texts {
        let s = hbsim::parse(text).unwrap();
        let mut all = Vec::new();
        let mut kept = hbsim::draw::pictures::PictureEvents::new(&s);
        let mut both = |e: &hbsim::VerdictEvent| {
            all.push(*e);
            kept.keep(e);
        };
        let outcomes = hbsim::simulate_replications(
            &s,
            s.seed,
            s.replications,
            hbsim::Limits::default(),
            Some(&mut both),
        )
        .unwrap();
        let report = hbsim::Report::new(&s, text.as_bytes(), s.seed, 0.95, &outcomes);
        let from_all = hbsim::draw::pictures::pictures(&s, &report, &outcomes, &all);
        let from_kept = hbsim::draw::pictures::pictures(&s, &report, &outcomes, kept.events());
        assert_eq!(from_all, from_kept, "{}", s.name);
        if s.name == "quiet" {
            assert!(
                kept.events().len() * 2 < all.len(),
                "{} of {} kept",
                kept.events().len(),
                all.len()
            );
        }
    }
}
