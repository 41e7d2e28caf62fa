//! What a run measured: the metric accumulators, the verdict trace, the `Outcome` of a run
//! and what theory says about it. Reports and pictures read these, never the engine.

pub mod analytic;
pub mod ledger;
pub mod metrics;
pub mod outcome;
pub mod trace;

pub use outcome::Outcome;
pub use trace::{Trace, Verdict, VerdictEvent};
