//! Independent replications of one run, in parallel, merged in replication order.

use super::limits::{LimitExceeded, LimitKind, Limits};
use super::simulate;
use crate::base::hash::mix64;
use crate::oracle::{Outcome, Trace};
use crate::scenario::Scenario;

/// The seed of replication `r` of a run seeded `seed`: the seed itself for the first,
/// then a SplitMix64 mix, so that one replication reproduces a plain run.
pub fn replication_seed(seed: u64, r: u32) -> u64 {
    if r == 0 {
        return seed;
    }
    mix64(seed ^ (r as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// Refuses `replications` runs of `scenario` whose estimated events (all replications
/// together) or memory exceed `limits`. The error states the limit the user gave and the
/// estimate for all replications, so its advice lets the run start.
pub fn check_replication_limits(
    scenario: &Scenario,
    replications: u32,
    limits: Limits,
) -> Result<(), LimitExceeded> {
    let scaled = Limits {
        max_events: limits.max_events / replications.max(1) as u64,
        ..limits
    };
    super::check_limits(scenario, scaled).map_err(|e| match e.kind {
        LimitKind::Events => LimitExceeded {
            estimate: e.estimate.saturating_mul(replications.max(1) as u64),
            limit: limits.max_events,
            ..e
        },
        LimitKind::Memory => e,
    })
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
) -> Result<Vec<Outcome>, LimitExceeded> {
    use rayon::prelude::*;
    check_replication_limits(scenario, replications, limits)?;
    let first = simulate(scenario, seed, limits, trace)?;
    let rest: Result<Vec<_>, _> = (1..replications)
        .into_par_iter()
        .map(|r| simulate(scenario, replication_seed(seed, r), limits, None))
        .collect();
    let mut all = vec![first];
    all.extend(rest?);
    Ok(all)
}
