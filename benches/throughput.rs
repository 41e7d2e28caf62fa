//! Throughput and memory benchmark (release build): `cargo bench --bench throughput`.
//!
//! Runs `benches/bench-10k.json` (10 000 clients × 1 h) and a 100 000-client variant of it
//! (10 min), and prints wall time, client-seconds simulated per wall second, events per
//! second and peak memory per client. Extra arguments name other scenario files to measure.

use hbsim::{engine, Limits};
use std::time::Instant;

/// Peak resident set size of this process in bytes (Linux `VmHWM`), if known.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Current resident set size in bytes (Linux `VmRSS`), if known.
fn rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn measure(label: &str, text: &str) {
    let scenario = hbsim::parse(text).expect("benchmark scenario is valid");
    let clients: u64 = scenario.groups.iter().map(|g| g.count as u64).sum();
    let before = rss().unwrap_or(0);
    #[allow(clippy::disallowed_methods)] // a benchmark measures wall time, outside the model
    let start = Instant::now();
    let outcome =
        engine::simulate(&scenario, scenario.seed, Limits::default(), None).expect("within limits");
    let wall = start.elapsed().as_secs_f64();
    let peak = peak_rss().unwrap_or(0);
    let client_secs = clients as f64 * scenario.duration.as_secs_f64();
    println!(
        "{label}: {clients} clients x {:.0} s: wall {wall:.3} s, {:.3e} client-seconds per wall second, {:.3e} events per second ({} events), peak RSS {:.1} MiB, about {} bytes per client",
        scenario.duration.as_secs_f64(),
        client_secs / wall,
        outcome.events_processed as f64 / wall,
        outcome.events_processed,
        peak as f64 / (1024.0 * 1024.0),
        peak.saturating_sub(before) / clients.max(1),
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if args.is_empty() {
        let base = include_str!("bench-10k.json");
        measure("bench-10k", base);
        let big = base
            .replace("\"count\": 10000", "\"count\": 100000")
            .replace("\"10m\"", "\"2m\"")
            .replace("\"20m\"", "\"4m\"")
            .replace("\"30m\"", "\"6m\"")
            .replace("\"40m\"", "\"8m\"")
            .replace("\"duration\": \"1h\"", "\"duration\": \"10m\"");
        measure("bench-100k", &big);
    } else {
        for path in args {
            let text = std::fs::read_to_string(&path).expect("readable scenario");
            measure(&path, &text);
        }
    }
}
