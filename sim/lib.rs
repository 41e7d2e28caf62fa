//! hbsim: a deterministic discrete-event simulator for heartbeat-based failure detection.
//!
//! `scenario JSON → scenario::parse (validate) → engine::World (clients, links, detectors,
//! one RNG stream per purpose and client) → event loop on virtual time → metrics →
//! report::Report → JSON / Markdown / text`. The same scenario bytes and seed always give
//! a byte-identical JSON report, on any machine and build.
//!
//! Only `main.rs` touches the filesystem, the environment or the wall clock.

pub mod engine;
pub mod metrics;
pub mod queue;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod time;

pub use engine::{LimitExceeded, Limits, Trace, Verdict, VerdictEvent};
pub use report::Report;
pub use scenario::{parse, Scenario, ScenarioError};

/// Simulates `scenario` (whose file bytes are `scenario_bytes`, hashed into the report)
/// with `seed`, and builds its report. `trace` sees every verdict change in time order.
pub fn run(
    scenario: &Scenario,
    scenario_bytes: &[u8],
    seed: u64,
    limits: Limits,
    trace: Trace<'_>,
) -> Result<Report, LimitExceeded> {
    let outcome = engine::simulate(scenario, seed, limits, trace)?;
    Ok(Report::new(scenario, scenario_bytes, seed, &outcome))
}

/// Parses scenario text and runs it with its own seed (or `seed` if given): the
/// convenience entry point for tests and embedding.
pub fn run_text(text: &str, seed: Option<u64>) -> Result<Report, String> {
    let scenario = parse(text).map_err(|e| e.to_string())?;
    let seed = seed.unwrap_or(scenario.seed);
    run(&scenario, text.as_bytes(), seed, Limits::default(), None).map_err(|e| e.to_string())
}
