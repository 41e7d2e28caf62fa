//! One run of a scenario from start to report: simulate (with replications), build the
//! report, draw the pictures. The entry points of the library.

use crate::draw;
use crate::engine::{simulate_replications, LimitExceeded, Limits};
use crate::oracle::{Trace, VerdictEvent};
use crate::report::Report;
use crate::scenario::{parse, Scenario};

/// The confidence level of report intervals unless asked otherwise.
pub const DEFAULT_CONFIDENCE: f64 = 0.95;

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
    let mut events = draw::pictures::PictureEvents::new(scenario);
    let mut keep = |e: &VerdictEvent| {
        events.keep(e);
        if let Some(t) = trace.as_mut() {
            (*t)(e);
        }
    };
    let outcomes = simulate_replications(scenario, seed, replications, limits, Some(&mut keep))?;
    let report = Report::new(scenario, scenario_bytes, seed, confidence, &outcomes);
    let pictures = draw::pictures::pictures(scenario, &report, &outcomes, events.events());
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
