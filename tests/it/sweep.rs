//! Goal: sweeps and tuning answer "which interval and threshold?" reproducibly: every
//! cell shares random numbers with the others (common random numbers), output does not
//! depend on the thread count or on sharding, and `tune` recommends a setting that meets
//! its targets.

use crate::common::{root, temp_dir};
use serde_json::{json, Value};
use std::process::{Command, Output};

fn hbsim(args: &[&str], threads: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hbsim"));
    c.args(args).current_dir(root()).env_remove("UPDATE_GOLDEN");
    if let Some(t) = threads {
        c.env("RAYON_NUM_THREADS", t);
    }
    c.output().expect("the hbsim binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn lossy() -> Value {
    json!({
        "name": "grid", "seed": 21, "duration": "20m",
        "clients": [{ "group": "c", "count": 100, "heartbeat": { "interval": "1s", "jitter": "50ms" },
            "uplink": { "delay": { "dist": "lognormal", "median": "60ms", "sigma": 0.8 },
                        "loss": { "model": "bernoulli", "p": 0.15 } } }],
        "detectors": [{ "name": "d", "kind": "fixed-timeout", "scan_interval": "0s", "threshold": "3s" }],
        "faults": [{ "at": "5m", "action": "crash", "clients": "c[0..10]" }]
    })
}

#[test]
fn cells_share_random_numbers_so_differences_are_real() {
    let text = lossy().to_string();
    let axis = hbsim::study::sweep::Axis {
        path: "detectors.d.threshold".into(),
        values: hbsim::study::sweep::parse_values("1500ms..6s+500ms").unwrap(),
    };
    let plan = hbsim::study::sweep::plan(&text, vec![axis]).unwrap();
    let rows = hbsim::study::sweep::run_plan(&plan, "d", hbsim::Limits::default(), &|| {}).unwrap();
    assert_eq!(rows.len(), 10);
    // The same heartbeats, losses and delays in every cell: identical traffic, and a
    // longer threshold can only flag a subset of the same silences.
    assert!(rows
        .windows(2)
        .all(|w| w[0].bytes_per_client_hour == w[1].bytes_per_client_hour));
    let fp: Vec<f64> = rows
        .iter()
        .map(|r| r.spurious_per_client_day.unwrap())
        .collect();
    assert!(fp.windows(2).all(|w| w[1] <= w[0]), "not monotone: {fp:?}");
    assert!(fp[0] > fp[9], "{fp:?}");
}

#[test]
fn a_sweep_is_the_same_for_any_thread_count_and_when_sharded() {
    let dir = temp_dir("sweep");
    let scenario = dir.join("grid.json");
    std::fs::write(&scenario, lossy().to_string()).unwrap();
    let f = scenario.to_str().unwrap();
    let vary = [
        "--vary",
        "clients.c.heartbeat.interval=500ms..2s*2",
        "--vary",
        "detectors.d.threshold=2s,4s,8s",
    ];
    let mut outs = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.join(format!("t{threads}"));
        let mut args = vec!["sweep", f, "--quiet", "--out", out.to_str().unwrap()];
        args.extend(vary);
        let o = hbsim(&args, Some(threads));
        assert!(o.status.success(), "{}", text(&o.stderr));
        outs.push(out);
    }
    let files = [
        "grid-sweep.csv",
        "grid-sweep.json",
        "grid-sweep-tradeoff.svg",
        "grid-sweep-heatmap.svg",
    ];
    for name in files {
        let a = std::fs::read(outs[0].join(name)).unwrap();
        assert!(
            a == std::fs::read(outs[1].join(name)).unwrap(),
            "{name} depends on threads"
        );
    }
    let csv = std::fs::read_to_string(outs[0].join("grid-sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 9, "a header and one row per cell");

    // Three shards, one of them run twice (resume), then merged.
    let cells = dir.join("cells");
    for k in ["1/3", "2/3", "3/3", "1/3"] {
        let mut args = vec!["sweep", f, "--shard", k, "--cells", cells.to_str().unwrap()];
        args.extend(vary);
        let o = hbsim(&args, None);
        assert!(o.status.success(), "{}", text(&o.stderr));
        if k == "1/3" && std::fs::read_dir(&cells).unwrap().count() == 9 {
            assert!(text(&o.stderr).contains("0 run now"), "{}", text(&o.stderr));
        }
    }
    let merged = dir.join("merged");
    let incomplete = dir.join("incomplete");
    std::fs::create_dir_all(&incomplete).unwrap();
    let first = std::fs::read_dir(&cells)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::copy(&first, incomplete.join(first.file_name().unwrap())).unwrap();
    let o = hbsim(
        &[
            "sweep",
            "merge",
            incomplete.to_str().unwrap(),
            "--out",
            merged.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("8 of 9 cells are missing"),
        "{}",
        text(&o.stderr)
    );
    let o = hbsim(
        &[
            "sweep",
            "merge",
            cells.to_str().unwrap(),
            "--quiet",
            "--out",
            merged.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    for name in files {
        let a = std::fs::read(outs[0].join(name)).unwrap();
        assert!(
            a == std::fs::read(merged.join(name)).unwrap(),
            "{name}: merge differs from a local sweep"
        );
    }
}

#[test]
fn tune_recommends_a_cheaper_setting_that_meets_its_targets() {
    let dir = temp_dir("tune");
    let scenario = dir.join("grid.json");
    let mut s = lossy();
    s["clients"][0]["count"] = json!(60);
    s["clients"][0]["uplink"]["loss"]["p"] = json!(0.05);
    std::fs::write(&scenario, s.to_string()).unwrap();
    let written = dir.join("tuned.json");
    let o = hbsim(
        &[
            "tune",
            "--out",
            dir.to_str().unwrap(),
            scenario.to_str().unwrap(),
            "--quiet",
            "--target",
            "d.detection_latency.p99<=12s",
            "--target",
            "d.false_positives.spurious_per_client_day<=2",
            "--write",
            written.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.starts_with("recommended ("), "{out}");
    assert!(out.contains("runner-up:"), "{out}");
    // The written scenario meets the targets, and heartbeats are sparser than 1 s.
    let tuned: Value = serde_json::from_str(&std::fs::read_to_string(&written).unwrap()).unwrap();
    let interval = hbsim::base::time::parse_duration(
        tuned["clients"][0]["heartbeat"]["interval"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert!(interval.as_nanos() > 1_000_000_000, "{interval:?}");
    let r = hbsim::run_text(&tuned.to_string(), None).unwrap();
    let d = r.detectors.get("d").unwrap();
    assert!(d.detection_latency.stats.p99_ns.unwrap() <= 12_000_000_000);
    assert!(d.false_positives.spurious_per_client_day.unwrap() <= 2.0);
    // The page of its own: the recommendation, the picture inline, one table row per
    // distinct candidate, the recommended one named, nothing loaded from elsewhere.
    let page = std::fs::read_to_string(dir.join("grid-tune.html")).unwrap();
    let recommended = out.lines().nth(1).unwrap();
    let setting = recommended.trim().split("   ").next().unwrap();
    let interval = setting
        .strip_prefix("interval ")
        .and_then(|s| s.split(',').next())
        .unwrap();
    assert!(page.contains("<strong>Recommended: "), "{page}");
    assert!(page.contains(&format!("<td>{interval}</td>")), "{interval}");
    assert!(page.contains("<td>recommended</td>"));
    assert_eq!(page.matches("<svg").count(), 1);
    assert!(page.contains("green ring: meets targets"));
    assert!(!page.contains("src=") && !page.contains("href=\"http"));
    let judged: usize = out["recommended (".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let rows = page.matches("<tr>").count() - 1;
    assert!(
        rows >= 20 && rows <= judged,
        "{rows} rows of {judged} judged"
    );
    assert!(dir.join("grid-tune-tradeoff.svg").exists());

    let o = hbsim(
        &[
            "tune",
            "--out",
            dir.to_str().unwrap(),
            scenario.to_str().unwrap(),
            "--quiet",
            "--target",
            "d.detection_latency.p99<=1ms",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    // The page is written even when nothing meets the targets, and says so.
    let page = std::fs::read_to_string(dir.join("grid-tune.html")).unwrap();
    assert!(page.contains("No candidate meets every target."));
    assert!(!page.contains("<td>recommended</td>"));
    assert!(
        text(&o.stderr).contains("no candidate"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn bad_sweep_blocks_are_validation_errors() {
    let dir = temp_dir("sweep-invalid");
    let mut s = lossy();
    s["sweep"] = json!({ "vary": { "clients.x.heartbeat.interval": ["1s"], "detectors.d.threshold": "5s..1s*2" } });
    let f = dir.join("bad.json");
    std::fs::write(&f, s.to_string()).unwrap();
    let o = hbsim(&["validate", f.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(3));
    let err = text(&o.stderr);
    assert!(err.contains("sweep.vary.clients.x.heartbeat.interval: \"clients.x.heartbeat.interval\": nothing named \"x\""), "{err}");
    assert!(
        err.contains("sweep.vary.detectors.d.threshold: the range \"5s..1s*2\" does not grow"),
        "{err}"
    );
}
