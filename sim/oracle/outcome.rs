//! What one run measured, before any formatting: the accumulators per (detector, group)
//! and per group. Reports and pictures read this, never the engine.

use super::metrics::{DetectorAcc, GroupAcc};

/// Everything a run measured, before formatting.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// `[detector][group]`.
    pub detectors: Vec<Vec<DetectorAcc>>,
    pub groups: Vec<GroupAcc>,
    pub events_processed: u64,
}
