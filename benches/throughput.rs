//! Throughput and memory benchmark (release build): `cargo bench --bench throughput`.
//!
//! Each case runs in a process of its own (this program started again with `--case N`),
//! so that its peak resident set is its own. A case runs the path `hbsim run` takes,
//! from the scenario's text to the files on disk: parse and validate, simulate (with the
//! verdict events the pictures use), build the report, draw the pictures, render the
//! JSON, Markdown and HTML, and write them all to a temporary directory; only the
//! command line and the summary on stdout are left out. Each part is timed.
//!
//! The cases are `benches/bench-10k.json`'s model (1 s heartbeats, scans every 1 s, 3 s
//! threshold, 1 % Bernoulli loss, U[10, 50] ms delay, 1 % of the clients crash) at 1 k,
//! 10 k, 100 k and 1 M clients, then at 10 k clients for 10 min with 1, 2 and 4 detectors
//! and with 4 heartbeats a second, and a 10 000-member `swim` cluster (memberlist's LAN
//! defaults, `benches/swim-10k.json`) for an hour. For each: wall time, client-seconds simulated per wall
//! second, events per second, peak resident set per client, and `estimate_memory`
//! against the measured peak (the refusal of oversized runs depends on it: the bench
//! fails when the estimate is more than 25 % off). Extra arguments name other scenario
//! files to measure.

use hbsim::draw::pictures::{pictures, PictureEvents};
use hbsim::engine::{estimate_memory, simulate_replications};
use hbsim::{Limits, Report, DEFAULT_CONFIDENCE};
use std::process::Command;
use std::time::Instant;

/// Peak resident set size of this process in bytes (Linux `VmHWM`), if known.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The benchmark model with `clients` clients for `duration` (a duration spec), 1 % of
/// them crashing in four waves, `detectors` scanners and heartbeats every `interval`.
fn model(clients: u64, duration_s: u64, detectors: usize, interval: &str) -> String {
    let base: serde_json::Value =
        serde_json::from_str(include_str!("bench-10k.json")).expect("valid JSON");
    let mut s = base.clone();
    s["name"] = format!("bench-{clients}").into();
    s["duration"] = format!("{duration_s}s").into();
    s["clients"][0]["count"] = clients.into();
    s["clients"][0]["heartbeat"]["interval"] = interval.into();
    let wave = clients / 400;
    s["faults"] = (0..4)
        .map(|k| {
            serde_json::json!({
                "at": format!("{}s", duration_s * (k + 1) / 6),
                "action": "crash",
                "clients": format!("clients[{}..{}]", k * wave, (k + 1) * wave),
            })
        })
        .collect();
    let scanner = base["detectors"][0].clone();
    s["detectors"] = (0..detectors)
        .map(|i| {
            let mut d = scanner.clone();
            if i > 0 {
                d["name"] = format!("scanner{i}").into();
                d["threshold"] = format!("{}s", 3 + i).into();
            }
            d
        })
        .collect();
    s.to_string()
}

/// The cases: a label and the scenario text.
fn cases() -> Vec<(String, String)> {
    vec![
        ("1k x 1h".into(), model(1_000, 3600, 1, "1s")),
        ("10k x 1h".into(), model(10_000, 3600, 1, "1s")),
        ("100k x 10min".into(), model(100_000, 600, 1, "1s")),
        ("1M x 60s".into(), model(1_000_000, 60, 1, "1s")),
        (
            "10k x 10min, 1 detector".into(),
            model(10_000, 600, 1, "1s"),
        ),
        (
            "10k x 10min, 2 detectors".into(),
            model(10_000, 600, 2, "1s"),
        ),
        (
            "10k x 10min, 4 detectors".into(),
            model(10_000, 600, 4, "1s"),
        ),
        (
            "10k x 10min, 250ms heartbeats".into(),
            model(10_000, 600, 1, "250ms"),
        ),
        (
            "swim: 10k members x 1h".into(),
            include_str!("swim-10k.json").to_string(),
        ),
    ]
}

/// Runs one case in this process and prints its line.
fn measure(label: &str, text: &str) {
    #[allow(clippy::disallowed_methods)] // a benchmark measures wall time, outside the model
    let clock = Instant::now;
    let out = std::env::temp_dir().join(format!("hbsim-bench-{}", std::process::id()));
    std::fs::create_dir_all(&out).expect("temporary directory");
    let t0 = clock();
    let scenario = hbsim::parse(text).expect("benchmark scenario is valid");
    let t_parse = clock();
    let mut events = PictureEvents::new(&scenario);
    let mut keep = |e: &hbsim::VerdictEvent| events.keep(e);
    let outcomes = simulate_replications(
        &scenario,
        scenario.seed,
        scenario.replications,
        Limits::default(),
        Some(&mut keep),
    )
    .expect("within limits");
    let t_sim = clock();
    let report = Report::new(
        &scenario,
        text.as_bytes(),
        scenario.seed,
        DEFAULT_CONFIDENCE,
        &outcomes,
    );
    let t_report = clock();
    let drawn = pictures(&scenario, &report, &outcomes, events.events());
    let t_draw = clock();
    let mut files = vec![
        (format!("{}.json", scenario.name), report.to_json()),
        (format!("{}.md", scenario.name), report.to_markdown()),
        (format!("{}.html", scenario.name), report.to_html(&drawn)),
    ];
    files.extend(drawn);
    for (name, body) in &files {
        std::fs::write(out.join(name), body).expect("writable temporary directory");
    }
    let t_write = clock();
    let _ = std::fs::remove_dir_all(&out);
    let wall = (t_write - t0).as_secs_f64();
    let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
    let peak = peak_rss().unwrap_or(0);
    let clients: u64 = scenario.groups.iter().map(|g| g.count as u64).sum();
    let events_processed: u64 = outcomes.iter().map(|o| o.events_processed).sum();
    let client_secs = clients as f64 * scenario.duration.as_secs_f64();
    let estimate = estimate_memory(&scenario);
    println!(
        "{label}: wall {wall:.2} s (parse {:.0} ms, simulate {:.0} ms, report {:.0} ms, pictures {:.0} ms, render and write {:.0} ms); {:.2}M client-seconds per wall second; {:.2}M events per second ({events_processed} events); peak RSS {:.1} MiB = {} bytes per client; estimate_memory {:.1} MiB = {:.2} x peak",
        ms(t0, t_parse),
        ms(t_parse, t_sim),
        ms(t_sim, t_report),
        ms(t_report, t_draw),
        ms(t_draw, t_write),
        client_secs / wall / 1e6,
        events_processed as f64 / wall / 1e6,
        peak as f64 / (1024.0 * 1024.0),
        peak / clients.max(1),
        estimate as f64 / (1024.0 * 1024.0),
        estimate as f64 / peak.max(1) as f64,
    );
    // The refusal of oversized runs trusts the estimate: it must stay within 25 %.
    let ratio = estimate as f64 / peak.max(1) as f64;
    if peak > 0 && !(0.75..=1.25).contains(&ratio) {
        println!("{label}: estimate_memory is {ratio:.2} x the measured peak, outside 25 %");
        std::process::exit(1);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--case") {
        let n: usize = args[i + 1].parse().expect("case number");
        let (label, text) = &cases()[n];
        measure(label, text);
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--file") {
        let path = &args[i + 1];
        let text = std::fs::read_to_string(path).expect("readable scenario");
        measure(path, &text);
        return;
    }
    let files: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let me = std::env::current_exe().expect("the benchmark's own path");
    let mut failed = 0;
    let mut run = |extra: &[&str]| {
        let status = Command::new(&me)
            .args(extra)
            .status()
            .expect("the benchmark starts again");
        if !status.success() {
            failed += 1;
        }
    };
    println!("hbsim throughput (release build, one process per case)");
    if files.is_empty() {
        for n in 0..cases().len() {
            run(&["--case", &n.to_string()]);
        }
    } else {
        for f in files {
            run(&["--file", f]);
        }
    }
    if failed > 0 {
        eprintln!("{failed} case(s) failed");
        std::process::exit(1);
    }
}
