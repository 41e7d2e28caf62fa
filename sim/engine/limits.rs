//! Limits on one run: the estimates of its events and memory, checked before anything is
//! allocated, and the error that names the flag which raises them.

use super::server_data::ServerConn;
use super::{Client, ClientCold, Numbering};
use crate::base::rng::Stream;
use crate::model::tcp::Tcp;
use crate::oracle::ledger::{ENTRY_BYTES, RARE_BYTES};
use crate::scenario::{Drift, Fault, FaultAction, Loss, Scenario, StreamParams, Transport};

/// Limits on one run.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The most events a run may process; estimated before the run starts and enforced
    /// during it.
    pub max_events: u64,
    /// The most memory a run may need, in bytes, estimated before it starts.
    pub max_memory_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_events: 2_000_000_000,
            max_memory_bytes: 16 << 30,
        }
    }
}

/// Which limit a run hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitKind {
    /// `--max-events`.
    Events,
    /// `--max-memory-mib`.
    Memory,
}

/// A run refused or stopped because it would exceed a limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitExceeded {
    /// Which limit.
    pub kind: LimitKind,
    /// The estimate before the run (events or bytes).
    pub estimate: u64,
    /// The limit it exceeds.
    pub limit: u64,
    /// True when the estimate passed but the run itself reached the limit.
    pub during_run: bool,
}

impl std::fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let suggest = self.estimate.saturating_add(self.estimate / 10);
        match (self.kind, self.during_run) {
            (LimitKind::Events, true) => write!(
                f,
                "the run reached the event limit of {} (estimated {} before it started); raise it with --max-events",
                self.limit, self.estimate
            ),
            (LimitKind::Events, false) => write!(
                f,
                "the run needs about {} events, more than the limit of {}; raise it with --max-events {suggest}",
                self.estimate, self.limit
            ),
            (LimitKind::Memory, _) => write!(
                f,
                "the run needs about {} MiB of memory, more than the limit of {} MiB; raise it with --max-memory-mib {}",
                self.estimate >> 20,
                self.limit >> 20,
                (suggest >> 20) + 1
            ),
        }
    }
}

impl std::error::Error for LimitExceeded {}

/// Roughly how many events a run will process; used to refuse runs that exceed
/// `Limits::max_events` before they start.
pub fn estimate_events(s: &Scenario) -> u64 {
    let secs = s.duration.as_secs_f64();
    let mut total = s.faults.len() as f64;
    let clients: u64 = s.groups.iter().map(|g| g.count as u64).sum();
    for g in &s.groups {
        let per_client = secs / g.heartbeat.interval.as_secs_f64();
        // A send and a delivery per heartbeat; an acknowledgement more on streams.
        let per_heartbeat = match g.transport {
            Transport::Datagram => 2.0,
            Transport::Stream(_) => 3.0,
        };
        total += g.count as f64 * (per_client * per_heartbeat + 1.0);
        if let Transport::Stream(StreamParams {
            server_sends: Some(w),
            ..
        }) = g.transport
        {
            // A write, its segment, its acknowledgement and a timer, per watched connection.
            let watched = s
                .detectors
                .iter()
                .filter(|d| d.kind.uses_connections())
                .count();
            total += g.count as f64 * watched as f64 * 4.0 * secs / w.interval.as_secs_f64();
        }
    }
    for f in &s.faults {
        if let FaultAction::Churn { mtbf, mttr } = f.action {
            let cycles = secs / (mtbf.as_secs_f64() + mttr.as_secs_f64());
            let n: u64 = f.targets.iter().map(|r| (r.end - r.start) as u64).sum();
            total += n as f64 * 2.0 * (cycles + 1.0);
        }
    }
    for d in &s.detectors {
        let period = d.kind.seconds_per_event();
        total += clients as f64 * (secs / period.max(1e-9) + 1.0);
    }
    total.min(u64::MAX as f64) as u64
}

/// Roughly how many bytes a run will need: per-client state, one stream per purpose in
/// use, one watch per detector, and the queue (about two entries in flight per client).
pub fn estimate_memory(s: &Scenario) -> u64 {
    let clients: u64 = s.groups.iter().map(|g| g.count as u64).sum();
    let streams = [
        s.groups.iter().any(|g| !g.heartbeat.jitter.is_zero()),
        s.groups.iter().any(|g| g.heartbeat.overshoot.is_some()),
        s.groups.iter().any(|g| g.uplink.delay.is_some()),
        s.groups.iter().any(|g| g.uplink.loss != Loss::None),
        s.groups.iter().any(|g| g.uplink.duplicate > 0.0),
        s.groups.iter().any(|g| g.downlink.delay.is_some()),
        s.groups.iter().any(|g| g.downlink.loss != Loss::None),
        s.faults
            .iter()
            .any(|f| matches!(f.action, FaultAction::Churn { .. })),
    ]
    .iter()
    .filter(|&&used| used)
    .count() as u64;
    let tcp = if s
        .groups
        .iter()
        .any(|g| matches!(g.transport, Transport::Stream(_)))
    {
        std::mem::size_of::<Tcp>() as u64 + 64
    } else {
        0
    };
    // The server's end of each watched connection carrying server data.
    let server_data = if s
        .groups
        .iter()
        .any(|g| matches!(g.transport, Transport::Stream(p) if p.server_sends.is_some()))
    {
        let watched = s
            .detectors
            .iter()
            .filter(|d| d.kind.uses_connections())
            .count() as u64;
        watched * (std::mem::size_of::<ServerConn>() as u64 + 64)
    } else {
        0
    };
    let per_client = server_data
        + std::mem::size_of::<Client>() as u64
        + if holds_cold(s) {
            std::mem::size_of::<ClientCold>() as u64
        } else {
            0
        }
        + tcp
        + streams * std::mem::size_of::<Stream>() as u64
        + s.detectors
            .iter()
            .map(|d| d.kind.fixed_bytes_per_client() + ENTRY_BYTES as u64)
            .sum::<u64>()
        + if s.detectors.iter().any(|d| d.kind.reads_sequence()) {
            std::mem::size_of::<Numbering>() as u64
        } else {
            0
        }
        // The queue: about a send per client and a deadline check per (client,
        // detector), with the wheel's slack, about four 24-byte entries each.
        + 4 * 24 * (s.detectors.len() as u64).max(1);
    // State that grows with the run (phi's windows), per group's heartbeat interval.
    let duration = s.duration.as_nanos();
    let growing: u64 = s
        .groups
        .iter()
        .map(|g| {
            let interval = g.heartbeat.interval.as_nanos();
            let per_client: u64 = s
                .detectors
                .iter()
                .map(|d| d.kind.growing_bytes_per_client(duration, interval))
                .sum();
            (g.count as u64).saturating_mul(per_client)
        })
        .fold(0, u64::saturating_add);
    let per_run: u64 = s
        .detectors
        .iter()
        .map(|d| d.kind.run_bytes(duration))
        .fold(0, u64::saturating_add);
    // The ledgers' records of crashed or mistaken subjects: one for each client a fault
    // may take down or cut off (every client for a server fault). Mistakes from loss
    // alone are not foreseen: they may add up to RARE_BYTES per client and detector.
    let disturbed = s
        .faults
        .iter()
        .map(|f| match f.action {
            FaultAction::ServerCrash | FaultAction::ServerStall { .. } => clients,
            FaultAction::Crash { .. }
            | FaultAction::Churn { .. }
            | FaultAction::Pause { .. }
            | FaultAction::Partition { .. } => targeted(s, f),
            FaultAction::Restart | FaultAction::ClockStep { .. } | FaultAction::ServerRestart => 0,
        })
        .fold(0, u64::saturating_add)
        .min(clients);
    let rare = disturbed.saturating_mul(s.detectors.len() as u64 * RARE_BYTES as u64);
    clients
        .saturating_mul(per_client)
        .saturating_add(rare)
        .saturating_add(growing)
        .saturating_add(per_run)
        .saturating_add(swim_bytes(s))
        // The process itself: code, stack, allocator (a 1000-client run peaks at 3.8 MiB
        // on Linux x86-64).
        .saturating_add(4 << 20)
}

/// Whether a run may hold every client's cold state ([`ColdStore`](super::ColdStore)):
/// only pauses, partitions, clock steps, drift and a bursty downlink change it.
pub(super) fn holds_cold(s: &Scenario) -> bool {
    s.faults.iter().any(|f| {
        matches!(
            f.action,
            FaultAction::Pause { .. }
                | FaultAction::Partition { .. }
                | FaultAction::ClockStep { .. }
        )
    }) || s.groups.iter().any(|g| {
        g.heartbeat.drift_ppm != Drift::Fixed(0.0)
            || matches!(g.downlink.loss, Loss::GilbertElliott { .. })
    })
}

/// How many clients fault `f` names (its ranges cut at their groups' sizes).
fn targeted(s: &Scenario, f: &Fault) -> u64 {
    f.targets
        .iter()
        .map(|r| {
            let count = s.groups[r.group].count as u64;
            (r.end as u64).min(count).saturating_sub(r.start as u64)
        })
        .sum()
}

/// Bytes a `swim` cluster holds per member it suspects: the suspicion and its
/// confirmations, the belief, the broadcast queued and the wake-up (measured with massif
/// on 10 000 members suspecting 10 crashed ones, allocator overhead included).
const SWIM_SUSPECT_BYTES: u64 = 400;

/// What the `swim` detectors hold beyond their fixed state: every member suspects each
/// member of the largest wave of crashes, pauses or partitions at once.
fn swim_bytes(s: &Scenario) -> u64 {
    let wave = s
        .faults
        .iter()
        .filter(|f| {
            matches!(
                f.action,
                FaultAction::Crash { .. }
                    | FaultAction::Pause { .. }
                    | FaultAction::Partition { .. }
            )
        })
        .map(|f| targeted(s, f))
        .max()
        .unwrap_or(0)
        .max(1);
    s.detectors
        .iter()
        .filter_map(|d| d.kind.as_swim())
        .map(|w| {
            let n = w.member_count() as u64;
            n.saturating_mul(wave.min(n))
                .saturating_mul(SWIM_SUSPECT_BYTES)
        })
        .fold(0, u64::saturating_add)
}

/// Refuses a run whose estimated events or memory exceed `limits`.
pub fn check_limits(scenario: &Scenario, limits: Limits) -> Result<(), LimitExceeded> {
    let memory = estimate_memory(scenario);
    if memory > limits.max_memory_bytes {
        return Err(LimitExceeded {
            kind: LimitKind::Memory,
            estimate: memory,
            limit: limits.max_memory_bytes,
            during_run: false,
        });
    }
    let events = estimate_events(scenario);
    if events > limits.max_events {
        return Err(LimitExceeded {
            kind: LimitKind::Events,
            estimate: events,
            limit: limits.max_events,
            during_run: false,
        });
    }
    Ok(())
}
