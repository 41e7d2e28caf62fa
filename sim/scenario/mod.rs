//! Scenario files: the validated domain types and the parser that builds them from JSON.
//!
//! Parsing walks a `serde_json::Value` by hand instead of deriving `Deserialize`, so that
//! validation never stops at the first problem: every unknown field, wrong type and
//! out-of-range value is collected with its JSON path, the offending value and the rule.
//! Durations are converted once, here, to integer nanoseconds; probabilities to
//! `rng::Chance`-ready floats checked to lie in [0, 1].

mod clients;
mod detectors;
mod document;
mod duplicates;
pub mod edit;
pub mod expect;
mod faults;
mod select;
mod swim;
mod validate;
pub mod warnings;

use select::group_names;
pub use select::{select, GroupName};
use validate::strip_position;
use validate::Validator;
pub use warnings::warnings;

use crate::base::rng::Dist;
use crate::base::time::{format_duration_spec, parse_duration, SimDuration, SimTime};
pub use crate::model::client::Schedule;
pub use crate::model::detector::{
    Bertier, DetectorKind, Elapsed, FixedTimeout, NfdE, NfdS, PhiAccrual, PhiVariant, Ping, Rejoin,
    TcpKeepalive, DETECTORS_MAX,
};
pub use crate::model::link::{Link, Loss};
pub use crate::model::tcp::{ServerSends, StreamParams};
use expect::{Bound, Expectation, Unit};
use serde_json::{Map, Value};
use std::fmt;

/// A validated scenario: one simulated world.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub seed: u64,
    /// Independent runs merged into one report (seeds derived from `seed`).
    pub replications: u32,
    pub duration: SimDuration,
    pub groups: Vec<Group>,
    pub detectors: Vec<Detector>,
    pub faults: Vec<Fault>,
    /// Guarantees evaluated by `hbsim check`.
    pub expect: Vec<Expectation>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub name: String,
    pub count: u32,
    pub heartbeat: Heartbeat,
    /// Client → server.
    pub uplink: Link,
    /// Server → client (acknowledgements of stream links); mirrors the uplink unless given.
    pub downlink: Link,
    pub transport: Transport,
}

/// How heartbeats travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// A lost heartbeat is gone.
    Datagram,
    /// TCP-like: lost segments are retransmitted and delivery is in order.
    Stream(StreamParams),
}

/// Clock drift of a group's clients, in parts per million (positive: the client's clock
/// runs fast, so its timers fire early).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Drift {
    Fixed(f64),
    /// Drawn uniformly per client.
    Uniform {
        min: f64,
        max: f64,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Heartbeat {
    pub interval: SimDuration,
    pub jitter: SimDuration,
    pub phase: Phase,
    pub schedule: Schedule,
    /// Extra lateness of each timer expiry (a sleeping thread wakes late); accumulates
    /// under `fixed-delay`.
    pub overshoot: Option<Dist>,
    /// Timer expiries round up to a multiple of this on the virtual clock (zero: none).
    pub timer_resolution: SimDuration,
    pub bytes: u32,
    pub drift_ppm: Drift,
    /// False for clients that send no application heartbeats (probed only).
    pub enabled: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    /// Uniform in [0, interval) per client.
    Random,
    /// 0 for every client.
    Aligned,
    /// The same given offset for every client.
    At(SimDuration),
    /// Drawn per client from a delay distribution (thread start-up).
    Drawn(Dist),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Detector {
    pub name: String,
    pub kind: DetectorKind,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    pub at: SimTime,
    pub action: FaultAction,
    pub targets: Vec<ClientRange>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultAction {
    /// `mode` process: the operating system closes the client's connections (FIN/RST);
    /// host (the default): the machine goes silent.
    Crash {
        process: bool,
    },
    Restart,
    /// The client process stalls: alive but silent.
    Pause {
        duration: SimDuration,
    },
    /// The clients' links drop everything in both directions.
    Partition {
        duration: SimDuration,
    },
    /// The server handles nothing: arrivals wait, scans are skipped.
    ServerStall {
        duration: SimDuration,
    },
    /// From `at` on, each client alternates exponential up times (mean `mtbf`) and down
    /// times (mean `mttr`).
    Churn {
        mtbf: SimDuration,
        mttr: SimDuration,
    },
    /// The server's wall clock jumps by `by_ns` (NTP step, DST).
    ClockStep {
        by_ns: i64,
    },
    /// The server process dies: it receives, answers and checks nothing, and forgets every
    /// client; clients' own ping detectors notice.
    ServerCrash,
    /// The server starts again with no knowledge of its clients.
    ServerRestart,
}

impl FaultAction {
    /// Faults that concern the server rather than clients take no selector.
    pub fn is_server_wide(&self) -> bool {
        matches!(
            self,
            FaultAction::ServerStall { .. }
                | FaultAction::ClockStep { .. }
                | FaultAction::ServerCrash
                | FaultAction::ServerRestart
        )
    }
}

/// Clients `start..end` (half-open) of group number `group`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientRange {
    pub group: usize,
    pub start: u32,
    pub end: u32,
}

/// One validation problem: where, and what rule the value broke.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "(top level): {}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Why a scenario could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScenarioError {
    /// Not JSON at all.
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    /// JSON, but breaking one or more rules; all of them are listed.
    Invalid(Vec<Problem>),
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScenarioError::Json {
                line,
                column,
                message,
            } => write!(f, "  line {line}, column {column}: {message}"),
            ScenarioError::Invalid(problems) => {
                for (i, p) in problems.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "  {p}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ScenarioError {}

/// The JSON Schema (draft 2020-12) of scenario files, printed by `hbsim schema`. It states
/// the fields, kinds, defaults and per-value rules that [`parse`] enforces; rules that
/// relate several values (jitter at most the interval, selectors naming existing groups,
/// metric paths) are the validator's alone.
pub const SCHEMA: &str = include_str!("scenario.schema.json");

/// Parses and validates scenario text.
pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    // Editors on some systems start UTF-8 files with a byte-order mark; it is not JSON.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: Value = serde_json::from_str(text).map_err(|e| ScenarioError::Json {
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    })?;
    let mut v = Validator::default();
    for path in duplicates::duplicate_keys(text) {
        v.problem(
            &path,
            "duplicate key (refused: the last value would silently win)",
        );
    }
    let scenario = v.scenario(&value);
    match scenario {
        Some(s) if v.problems.is_empty() => Ok(s),
        _ => {
            assert!(
                !v.problems.is_empty(),
                "validation failed without naming a problem"
            );
            Err(ScenarioError::Invalid(v.problems))
        }
    }
}

#[cfg(test)]
mod tests;
