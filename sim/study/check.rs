//! `hbsim check`: run a scenario once and judge its expectations. Pure: the caller reads
//! files and prints.

use super::run::DEFAULT_CONFIDENCE;
use crate::engine::{LimitExceeded, Limits};
use crate::report::Report;
use crate::scenario::expect::{evaluate, Expectation, Verdict};
use crate::scenario::Scenario;

/// One scenario's report and the verdict on each of its expectations.
pub struct Checked {
    /// The report at the default confidence (the one written to files).
    pub report: Report,
    /// Its pictures, `(file name, SVG text)`.
    pub pictures: Vec<(String, String)>,
    pub results: Vec<(Expectation, Verdict)>,
}

/// Simulates `scenario` once and evaluates every expectation, each against a report whose
/// intervals are at that expectation's confidence.
pub fn check(
    scenario: &Scenario,
    bytes: &[u8],
    seed: u64,
    replications: u32,
    limits: Limits,
) -> Result<Checked, LimitExceeded> {
    let mut events = crate::draw::pictures::PictureEvents::new(scenario);
    let mut keep = |e: &crate::VerdictEvent| events.keep(e);
    let outcomes = crate::engine::simulate_replications(
        scenario,
        seed,
        replications,
        limits,
        Some(&mut keep),
    )?;
    let report = Report::new(scenario, bytes, seed, DEFAULT_CONFIDENCE, &outcomes);
    let pictures = crate::draw::pictures::pictures(scenario, &report, &outcomes, events.events());
    let default_json = serde_json::to_value(&report).expect("a report serialises");
    let results = scenario
        .expect
        .iter()
        .map(|e| {
            let verdict = match e.confidence {
                Some(c) if c != DEFAULT_CONFIDENCE => {
                    let at = Report::new(scenario, bytes, seed, c, &outcomes);
                    evaluate(e, &serde_json::to_value(&at).expect("a report serialises"))
                }
                _ => evaluate(e, &default_json),
            };
            (e.clone(), verdict)
        })
        .collect();
    Ok(Checked {
        report,
        pictures,
        results,
    })
}
