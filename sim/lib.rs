//! hbsim: a deterministic discrete-event simulator for heartbeat-based failure detection.
//!
//! `scenario JSON → scenario::parse (validate) → engine::World (clients, links, detectors,
//! one RNG stream per purpose and client) → event loop on virtual time → metrics →
//! report::Report → JSON / Markdown / text`. The same scenario bytes and seed always give
//! a byte-identical JSON report, on any machine and build.
//!
//! Only `main.rs` touches the filesystem, the environment or the wall clock.

pub mod base;
pub mod draw;
#[deny(missing_docs, clippy::wildcard_enum_match_arm)]
pub mod engine;
#[deny(missing_docs, clippy::wildcard_enum_match_arm)]
pub mod model;
pub mod oracle;
pub mod report;
pub mod scenario;
pub mod study;

pub use engine::{LimitExceeded, LimitKind, Limits};
pub use oracle::{Trace, Verdict, VerdictEvent};
pub use report::Report;
pub use scenario::{parse, Scenario, ScenarioError};

pub use engine::{replication_seed, simulate_replications};
pub use study::run::{run, run_text, run_with_pictures, DEFAULT_CONFIDENCE};
