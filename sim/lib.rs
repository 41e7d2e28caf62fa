//! hbsim: a deterministic discrete-event simulator for heartbeat-based failure detection.
//!
//! `scenario JSON → scenario::parse (validate) → engine::World (clients, links, detectors,
//! one RNG stream per purpose and client) → event loop on virtual time → metrics →
//! report::Report → JSON / Markdown / text`. The same scenario bytes and seed always give
//! a byte-identical JSON report, on any machine and build.
//!
//! Only `main.rs` touches the filesystem, the environment or the wall clock.

pub mod analytic;
pub mod check;
pub mod ci;
pub mod engine;
pub mod expect;
pub mod link;
pub mod metrics;
pub mod pictures;
pub mod queue;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod svg;
pub mod sweep;
pub mod tcp;
pub mod time;

pub use engine::{LimitExceeded, LimitKind, Limits, Trace, Verdict, VerdictEvent};
pub use report::Report;
pub use scenario::{parse, Scenario, ScenarioError};

/// The confidence level of report intervals unless asked otherwise.
pub const DEFAULT_CONFIDENCE: f64 = 0.95;

/// The seed of replication `r` of a run seeded `seed`: the seed itself for the first,
/// then a SplitMix64 mix, so that one replication reproduces a plain run.
pub fn replication_seed(seed: u64, r: u32) -> u64 {
    if r == 0 {
        return seed;
    }
    let mut z = seed ^ (r as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Runs `replications` independent replications in parallel (rayon) and returns their
/// outcomes in replication order, whatever the thread count. `trace` sees the first
/// replication only.
pub fn simulate_replications(
    scenario: &Scenario,
    seed: u64,
    replications: u32,
    limits: Limits,
    trace: Trace<'_>,
) -> Result<Vec<engine::Outcome>, LimitExceeded> {
    use rayon::prelude::*;
    let scaled = Limits {
        max_events: limits.max_events / replications.max(1) as u64,
        ..limits
    };
    engine::check_limits(scenario, scaled)?;
    let first = engine::simulate(scenario, seed, limits, trace)?;
    let rest: Result<Vec<_>, _> = (1..replications)
        .into_par_iter()
        .map(|r| engine::simulate(scenario, replication_seed(seed, r), limits, None))
        .collect();
    let mut all = vec![first];
    all.extend(rest?);
    Ok(all)
}

/// Simulates `scenario` (whose file bytes are `scenario_bytes`, hashed into the report)
/// with `seed`, and builds its report with intervals at `DEFAULT_CONFIDENCE`. `trace` sees
/// every verdict change in time order.
pub fn run(
    scenario: &Scenario,
    scenario_bytes: &[u8],
    seed: u64,
    limits: Limits,
    trace: Trace<'_>,
) -> Result<Report, LimitExceeded> {
    let outcomes = simulate_replications(scenario, seed, scenario.replications, limits, trace)?;
    Ok(Report::new(
        scenario,
        scenario_bytes,
        seed,
        DEFAULT_CONFIDENCE,
        &outcomes,
    ))
}

/// The most verdict events kept for pictures; a run with more keeps the first ones.
pub(crate) const PICTURE_EVENTS_MAX: usize = 2_000_000;

/// Like `run`, with the scenario's replications (or `replications`), intervals at
/// `confidence`, and the pictures of the run as `(file name, SVG text)`.
pub fn run_with_pictures(
    scenario: &Scenario,
    scenario_bytes: &[u8],
    seed: u64,
    replications: u32,
    confidence: f64,
    limits: Limits,
    mut trace: Trace<'_>,
) -> Result<(Report, Vec<(String, String)>), LimitExceeded> {
    let mut events = Vec::new();
    let mut keep = |e: &VerdictEvent| {
        if events.len() < PICTURE_EVENTS_MAX {
            events.push(*e);
        }
        if let Some(t) = trace.as_mut() {
            (*t)(e);
        }
    };
    let outcomes = simulate_replications(scenario, seed, replications, limits, Some(&mut keep))?;
    let report = Report::new(scenario, scenario_bytes, seed, confidence, &outcomes);
    let pictures = pictures::pictures(scenario, &report, &outcomes, &events);
    Ok((report, pictures))
}

/// Parses scenario text and runs it with its own seed (or `seed` if given): the
/// convenience entry point for tests and embedding.
///
/// ```
/// let text = r#"{
///   "name": "demo", "duration": "10m",
///   "clients": [{ "group": "g", "count": 10, "heartbeat": { "interval": "1s" } }],
///   "detectors": [{ "name": "scan", "kind": "fixed-timeout",
///                   "scan_interval": "1s", "threshold": "3s" }],
///   "faults": [{ "at": "5m", "action": "crash", "clients": "g[0]" }]
/// }"#;
/// let report = hbsim::run_text(text, None).unwrap();
/// let scan = report.detectors.get("scan").unwrap();
/// assert_eq!(scan.detection_latency.count, 1);
/// assert_eq!(scan.false_positives.total, 0);
/// // Without delay, a crash at a whole second is seen 2 to 3 s later.
/// let latency = scan.detection_latency.stats.max_ns.unwrap();
/// assert!((2_000_000_000..=3_000_000_000).contains(&latency));
/// ```
pub fn run_text(text: &str, seed: Option<u64>) -> Result<Report, String> {
    let scenario = parse(text).map_err(|e| e.to_string())?;
    let seed = seed.unwrap_or(scenario.seed);
    run(&scenario, text.as_bytes(), seed, Limits::default(), None).map_err(|e| e.to_string())
}
