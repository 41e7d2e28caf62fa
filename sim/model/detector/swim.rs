//! The `swim` kind: membership failure detection among the clients themselves (SWIM with
//! Lifeguard, as hashicorp/memberlist runs it; the protocol is in `model::swim`).
//!
//! Unlike the other kinds it watches no heartbeats and runs on no server: its members
//! probe one another, and the engine drives its cluster (`engine/swim.rs`) with messages
//! and wake-ups of its own. Its verdict about a member, for the ledger, is the cluster's:
//! offline from the first live member declaring it dead until no live member holds it
//! dead any more. The state machine here only answers the inputs every detector gets,
//! and ignores them.

use super::{Effects, Host, Input, KindConfig, Rejoin, Status};
use crate::base::time::SimDuration;
use crate::model::swim;

/// A `swim` detector's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Swim {
    /// The protocol's settings.
    pub protocol: swim::Config,
    /// The members, as half-open ranges of client ids in id order (every client when
    /// the scenario names none).
    pub members: Vec<(u32, u32)>,
}

impl Swim {
    /// How many members.
    pub fn member_count(&self) -> u32 {
        self.members.iter().map(|(a, b)| b - a).sum()
    }

    /// How far back a fault window makes a verdict one caused by the fault: the longest
    /// period and the longest suspicion, ns.
    pub fn window(&self) -> u64 {
        let (_, max) = self.protocol.suspicion_range(self.member_count());
        self.protocol.longest_period().saturating_add(max)
    }
}

impl KindConfig for Swim {
    fn kind_name(&self) -> &'static str {
        "swim"
    }

    fn typical_period(&self) -> u64 {
        self.protocol.interval / 4
    }

    fn seconds_per_event(&self) -> f64 {
        // Per member and period: the tick, the ping's and the ack's deliveries and the
        // probe timeout.
        self.protocol.interval as f64 / 1e9 / 4.0
    }

    fn scanning(&self) -> (SimDuration, SimDuration, Rejoin) {
        (SimDuration::ZERO, SimDuration::ZERO, Rejoin::Announce)
    }

    fn fixed_bytes_per_client(&self) -> u64 {
        // A member's protocol state and its share of the messages in flight.
        320
    }

    fn no_closed_forms(&self) -> Option<&'static str> {
        Some("the closed forms are for the passive fixed-timeout scanner; swim's are in the tests (reference §1.2 does not cover membership protocols)")
    }
}

/// The `swim` kind's state machine: nothing, since the engine's cluster decides.
#[derive(Clone, Debug, Default)]
pub struct State;

impl State {
    /// What the detector believes of client `ci` as a heartbeat detector: nothing.
    #[inline]
    pub fn status(&self, _ci: usize) -> Status {
        Status::Unknown
    }

    /// Ignores every input (heartbeats are not its business).
    #[inline]
    pub fn handle(
        &mut self,
        _now: u64,
        _ci: usize,
        _input: Input,
        _host: Host,
        _out: &mut Effects,
    ) {
    }
}
