//! The verdict trace: one line per change of a detector's verdict or of ground truth, as
//! `hbsim run --events` prints it and the pictures draw it.

use crate::base::time::SimTime;

/// A detector's verdict about a client, or a change of ground truth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Online,
    Offline,
    /// The client crashed (ground truth; no detector).
    Crashed,
    /// The client restarted (ground truth; no detector).
    Restarted,
}

/// One verdict change, as printed by `hbsim run --events`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerdictEvent {
    pub time: SimTime,
    /// The detector whose verdict changed; `None` for ground-truth events.
    pub detector: Option<usize>,
    pub group: usize,
    pub index: u32,
    pub verdict: Verdict,
    /// Arrival time of the client's last heartbeat (true time).
    pub last_arrival: SimTime,
    /// Ground truth at that instant.
    pub client_up: bool,
}

/// An optional observer of verdict changes.
pub type Trace<'a> = Option<&'a mut dyn FnMut(&VerdictEvent)>;
