//! Failure detectors as pure state machines, one file per kind.
//!
//! A detector watches every client of a run. The engine hands it `now` and what happened
//! to one client ([`Input`]: a heartbeat arrived, a timer it asked for fired, a probe was
//! answered, the connection carried data or closed, a world event); the detector writes
//! what follows into a small bounded buffer ([`Effects`]): a verdict, a wake-up at an
//! instant, a probe to send. It never sees the queue, the trace or ground truth; what it
//! knows of its own host (whether the process watching is up and running) comes in
//! [`Host`], and what the server knows of a client's heartbeats comes through [`Heard`],
//! read only when the detector needs it.
//!
//! [`DetectorKind`] is the closed set of configurations and [`Detector`] the closed set of
//! state machines; both dispatch statically to the kind's file. Adding a kind means a file
//! here with its configuration, state and unit tests, one arm in each enum below (and in
//! `each_kind!`), and its fields in `scenario/detectors.rs`.

pub mod bertier;
pub mod fixed_timeout;
pub(crate) mod freshness;
pub mod keepalive;
pub mod nfd_e;
pub mod nfd_s;
pub(crate) mod passive;
pub mod phi_accrual;
pub mod ping;
pub mod swim;

pub use bertier::Bertier;
pub use fixed_timeout::{Elapsed, FixedTimeout};
pub use keepalive::TcpKeepalive;
pub use nfd_e::NfdE;
pub use nfd_s::NfdS;
pub use phi_accrual::{phi_normal_y, PhiAccrual, PhiVariant};
pub use ping::Ping;
pub use swim::Swim;

use crate::base::rng::Dist;
use crate::base::time::SimDuration;

/// The most detectors one run may have (the engine's events carry a detector's number in
/// 8 bits).
pub const DETECTORS_MAX: usize = 256;

/// "No such time": a timer not armed, a client never heard from.
pub const NEVER: u64 = u64::MAX;

/// What a detector believes of one client.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Status {
    /// Never heard from, or forgotten by a restarted server.
    #[default]
    Unknown,
    /// Believed alive.
    Online,
    /// Declared dead.
    Offline,
}

/// What happens when an offline client is heard from again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejoin {
    /// The next heartbeat from an offline client makes it online again.
    Announce,
    /// Offline is permanent.
    Never,
}

impl Rejoin {
    /// Whether a client in `status` becomes online when it is heard from.
    #[inline]
    pub fn comes_back(self, status: Status) -> bool {
        match status {
            Status::Unknown => true,
            Status::Offline => self == Rejoin::Announce,
            Status::Online => false,
        }
    }
}

/// The state of the process a detector runs in: the server for server-side detectors, the
/// client for a client-to-server ping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Host {
    /// The process exists (not crashed).
    pub up: bool,
    /// The process exists and runs code now (not paused or stalled).
    pub running: bool,
    /// The host's end of the connection with this client holds data sent and not yet
    /// acknowledged (the server writing to the client).
    pub sending: bool,
}

/// When the server last heard from a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LastHeard {
    /// The true time of the last heartbeat's arrival, as a monotonic clock measures it.
    pub monotonic: i64,
    /// The true time at which the server's wall clock read the last heartbeat's stamp:
    /// elapsed time on the wall clock is `now - wall`. Equals `monotonic` until the server
    /// clock steps.
    pub wall: i64,
}

/// A client's nominal heartbeat schedule, as a detector that knows it (Chen's NFD-S)
/// reads it: heartbeat number `s ≥ first` is scheduled at `origin + (s − first)·interval`
/// true time. A restarted client starts a new schedule at its restart, numbered on from
/// where it stopped, so a number below `first` belongs to an earlier incarnation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KnownSchedule {
    /// When heartbeat `first` is scheduled, true time, ns.
    pub origin: u64,
    /// The first number of the current incarnation.
    pub first: u64,
    /// The nominal heartbeat interval, ns.
    pub interval: u64,
}

impl KnownSchedule {
    /// When heartbeat `seq` (at least `first`) is scheduled.
    #[inline]
    pub fn at(&self, seq: u64) -> u64 {
        self.origin
            .saturating_add((seq - self.first).saturating_mul(self.interval))
    }
}

/// What the server knows of each client's heartbeats, read only when a detector asks.
pub trait Heard {
    /// The last heartbeat of client `client` that the server has applied, at `now`.
    fn last_heard(&mut self, client: usize) -> LastHeard;
    /// Client `client`'s current heartbeat schedule (kept only when some detector reads
    /// sequence numbers).
    fn schedule(&mut self, client: usize) -> KnownSchedule;
}

/// A change of the world that a detector is told about (it changed nothing itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorldEvent {
    /// The server process died: everything a server-side detector knew is gone.
    ServerCrashed,
    /// The client process died; a detector running in it loses its view.
    ClientCrashed,
    /// A server stall of `stall` ns ended: the scanner catches up on every client.
    StallEnded {
        /// How long the server was stalled, ns.
        stall: u64,
    },
    /// The server's wall clock stepped: every deadline measured on it moves.
    ClockStepped,
}

/// Which same-instant class a wake-up belongs to (DESIGN §4): a detector's evaluation,
/// or a send of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WakeClass {
    /// Evaluations run after deliveries at one instant (scans, timeouts).
    Evaluate,
    /// Sends run last at one instant (a probe timer).
    Send,
}

/// What happened to one client, as a detector sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// The run starts; `phase` is the detector's own random offset in
    /// `[0, DetectorKind::start_phase_range())`, if it asked for one.
    Start {
        /// The drawn offset, ns.
        phase: u64,
    },
    /// A heartbeat of the client reached the server application now.
    Heartbeat {
        /// Whether the server's clock has ever stepped (stamps and arrivals disagree).
        clock_stepped: bool,
        /// The heartbeat's sequence number: the client's schedule slot it was sent for
        /// (see [`KnownSchedule`]). Carried only when some detector reads it
        /// ([`KindConfig::reads_sequence`]), 0 otherwise.
        seq: u64,
    },
    /// A wake-up the detector asked for fired.
    Timer {
        /// The class it was asked for in.
        class: WakeClass,
        /// The tag it was asked for with.
        tag: u32,
    },
    /// The answer to the probe sent with `tag` arrived.
    Reply {
        /// The probe's tag.
        tag: u32,
    },
    /// The client's connection was (re)established.
    Connected,
    /// Data arrived on the client's connection.
    ConnectionData,
    /// The client's operating system closed the connection (FIN/RST arrived).
    ConnectionClosed,
    /// A change of the world.
    World(WorldEvent),
}

/// One thing a detector wants done, applied by the engine in emission order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// The client is now online.
    Online,
    /// The client is now offline; a fault window within `window` ns before now makes the
    /// verdict one caused by the fault.
    Offline {
        /// How far back a fault window counts, ns (the detector's threshold).
        window: u64,
    },
    /// Wake me at `at` with `tag` (ignored at or after the end of the run).
    Wake {
        /// When, ns.
        at: u64,
        /// In which same-instant class.
        class: WakeClass,
        /// Given back in `Input::Timer`.
        tag: u32,
    },
    /// Send a probe to the peer over the detector's own path; its answer comes back as
    /// `Input::Reply { tag }`.
    Probe {
        /// Given back with the answer.
        tag: u32,
    },
    /// A probe was answered in time (counted in the traffic metrics).
    Answered,
}

/// The most effects one input can produce.
pub const EFFECTS_MAX: usize = 4;

/// A small bounded buffer of effects, in emission order.
#[derive(Clone, Copy, Debug)]
pub struct Effects {
    items: [Effect; EFFECTS_MAX],
    len: usize,
}

impl Default for Effects {
    fn default() -> Self {
        Effects {
            items: [Effect::Answered; EFFECTS_MAX],
            len: 0,
        }
    }
}

impl Effects {
    /// Appends one effect. Panics past `EFFECTS_MAX`: a detector that emits more has a bug.
    #[inline]
    pub fn push(&mut self, e: Effect) {
        assert!(
            self.len < EFFECTS_MAX,
            "a detector emitted too many effects"
        );
        self.items[self.len] = e;
        self.len += 1;
    }

    /// The effects in emission order.
    #[inline]
    pub fn as_slice(&self) -> &[Effect] {
        &self.items[..self.len]
    }

    /// Empties the buffer for the next input.
    #[inline]
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

/// Who answers a detector's probe at the other end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answerer {
    /// The peer's application process: it must be up and running (not paused or stalled).
    Process,
    /// The peer's kernel: it answers while the host is up, even if the process is paused.
    Kernel,
}

/// How an active detector's probes travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbePath {
    /// True when the detector runs in the client and probes the server (over the uplink).
    pub from_client: bool,
    /// Bytes on the wire of a probe and of its answer.
    pub bytes: u64,
    /// Who answers at the other end.
    pub answerer: Answerer,
    /// Streams are labelled `"{label}.{detector name}.{what}"`.
    pub label: &'static str,
}

/// A detector's configuration: the closed set of kinds.
#[derive(Clone, Debug, PartialEq)]
pub enum DetectorKind {
    /// The sample's scanner: a fixed threshold on silence.
    FixedTimeout(FixedTimeout),
    /// φ accrual (Akka's normal or Cassandra's exponential variant).
    PhiAccrual(PhiAccrual),
    /// The server pings each client, or each client pings the server.
    Ping(Ping),
    /// TCP keepalive on the server's end of each stream connection.
    TcpKeepalive(TcpKeepalive),
    /// Chen's NFD-S: freshness points on the known schedule.
    NfdS(NfdS),
    /// Chen's NFD-E: freshness points from estimated arrivals.
    NfdE(NfdE),
    /// Bertier's adaptive detector: NFD-E's estimate, Jacobson's margin.
    Bertier(Bertier),
    /// SWIM with Lifeguard among the clients (memberlist).
    Swim(Swim),
}

/// Dispatches `$body` with `$c` bound to the kind's configuration.
macro_rules! each_kind {
    ($self:expr, $c:ident => $body:expr) => {
        match $self {
            DetectorKind::FixedTimeout($c) => $body,
            DetectorKind::PhiAccrual($c) => $body,
            DetectorKind::Ping($c) => $body,
            DetectorKind::TcpKeepalive($c) => $body,
            DetectorKind::NfdS($c) => $body,
            DetectorKind::NfdE($c) => $body,
            DetectorKind::Bertier($c) => $body,
            DetectorKind::Swim($c) => $body,
        }
    };
}

/// What every kind's configuration tells the engine and the reports. The defaults fit a
/// passive detector that learns from heartbeats on the server.
pub trait KindConfig {
    /// The kind's name in scenario files.
    fn kind_name(&self) -> &'static str;

    /// How far ahead the detector typically schedules, ns (sizes the event queue).
    fn typical_period(&self) -> u64;

    /// About how many seconds pass between two of its events per client (estimates).
    fn seconds_per_event(&self) -> f64;

    /// The scan grid, threshold-free: (scan interval, scan phase, rejoin).
    fn scanning(&self) -> (SimDuration, SimDuration, Rejoin);

    /// Whether the verdicts are a client's about the server (ground truth is the server's).
    fn watches_server(&self) -> bool {
        false
    }

    /// Whether, while the detector holds a client online, a heartbeat arrival changes
    /// nothing but the time the server last heard from it (so arrivals may be recorded in
    /// the client instead of queued).
    fn arrivals_only_move_deadlines(&self) -> bool {
        true
    }

    /// Whether the detector reads heartbeats' sequence numbers (and each client's
    /// schedule), which the engine then keeps.
    fn reads_sequence(&self) -> bool {
        false
    }

    /// The detector's own probes, for active detectors.
    fn probe_path(&self) -> Option<ProbePath> {
        None
    }

    /// Whether the detector watches stream connections (they are opened for it at the
    /// start, when a client restarts and when the server restarts).
    fn uses_connections(&self) -> bool {
        false
    }

    /// If the detector wants a random start offset per client, its range (ns).
    fn start_phase_range(&self) -> Option<u64> {
        None
    }

    /// Bytes of fixed state the detector keeps per client (memory estimates).
    fn fixed_bytes_per_client(&self) -> u64 {
        passive::WATCH_BYTES
    }

    /// `TCP_USER_TIMEOUT` of the connections the detector watches, ns, when set: how long
    /// their data may go unacknowledged (counted from the first retransmission).
    fn user_timeout(&self) -> Option<u64> {
        None
    }

    /// Bytes of state the detector keeps for the whole run, whatever the number of
    /// clients, in a run of `duration` ns (a list of scan instants, say).
    fn run_bytes(&self, _duration: u64) -> u64 {
        0
    }

    /// Bytes of state the detector keeps per client beyond its fixed part, in a run of
    /// `duration` ns whose client sends a heartbeat every `interval` ns (a window of
    /// samples, say). Memory estimates use it to refuse runs before they start.
    fn growing_bytes_per_client(&self, _duration: u64, _interval: u64) -> u64 {
        0
    }

    /// Why the report's closed forms (reference §1.2) do not apply to this kind, if they
    /// do not.
    fn no_closed_forms(&self) -> Option<&'static str> {
        Some("the closed forms are for the passive fixed-timeout scanner")
    }
}

impl DetectorKind {
    /// A `swim` detector's settings, or none for every other kind.
    pub fn as_swim(&self) -> Option<&Swim> {
        match self {
            DetectorKind::Swim(s) => Some(s),
            DetectorKind::FixedTimeout(_)
            | DetectorKind::PhiAccrual(_)
            | DetectorKind::Ping(_)
            | DetectorKind::TcpKeepalive(_)
            | DetectorKind::NfdS(_)
            | DetectorKind::NfdE(_)
            | DetectorKind::Bertier(_) => None,
        }
    }

    /// The kind's name in scenario files.
    pub fn name(&self) -> &'static str {
        each_kind!(self, c => c.kind_name())
    }

    /// The scan grid, threshold-free: (scan interval, scan phase, rejoin).
    pub fn scanning(&self) -> (SimDuration, SimDuration, Rejoin) {
        each_kind!(self, c => c.scanning())
    }

    /// See [`KindConfig::watches_server`].
    pub fn watches_server(&self) -> bool {
        each_kind!(self, c => c.watches_server())
    }

    /// See [`KindConfig::arrivals_only_move_deadlines`].
    pub fn arrivals_only_move_deadlines(&self) -> bool {
        each_kind!(self, c => c.arrivals_only_move_deadlines())
    }

    /// See [`KindConfig::reads_sequence`].
    pub fn reads_sequence(&self) -> bool {
        each_kind!(self, c => c.reads_sequence())
    }

    /// See [`KindConfig::probe_path`].
    pub fn probe_path(&self) -> Option<ProbePath> {
        each_kind!(self, c => c.probe_path())
    }

    /// See [`KindConfig::uses_connections`].
    pub fn uses_connections(&self) -> bool {
        each_kind!(self, c => c.uses_connections())
    }

    /// See [`KindConfig::start_phase_range`].
    pub fn start_phase_range(&self) -> Option<u64> {
        each_kind!(self, c => c.start_phase_range())
    }

    /// See [`KindConfig::fixed_bytes_per_client`].
    pub fn fixed_bytes_per_client(&self) -> u64 {
        each_kind!(self, c => c.fixed_bytes_per_client())
    }

    /// See [`KindConfig::user_timeout`].
    pub fn user_timeout(&self) -> Option<u64> {
        each_kind!(self, c => c.user_timeout())
    }

    /// See [`KindConfig::run_bytes`].
    pub fn run_bytes(&self, duration: u64) -> u64 {
        each_kind!(self, c => c.run_bytes(duration))
    }

    /// See [`KindConfig::growing_bytes_per_client`].
    pub fn growing_bytes_per_client(&self, duration: u64, interval: u64) -> u64 {
        each_kind!(self, c => c.growing_bytes_per_client(duration, interval))
    }

    /// See [`KindConfig::typical_period`].
    pub fn typical_period(&self) -> u64 {
        each_kind!(self, c => c.typical_period())
    }

    /// See [`KindConfig::seconds_per_event`].
    pub fn seconds_per_event(&self) -> f64 {
        each_kind!(self, c => c.seconds_per_event())
    }

    /// See [`KindConfig::no_closed_forms`].
    pub fn no_closed_forms(&self) -> Option<&'static str> {
        each_kind!(self, c => c.no_closed_forms())
    }
}

/// A detector's state: the closed set of state machines, one per kind.
#[derive(Clone, Debug)]
pub enum Detector {
    /// See [`fixed_timeout`].
    FixedTimeout(fixed_timeout::State),
    /// See [`phi_accrual`].
    PhiAccrual(phi_accrual::State),
    /// See [`ping`].
    Ping(ping::State),
    /// See [`keepalive`].
    TcpKeepalive(keepalive::State),
    /// See [`nfd_s`].
    NfdS(nfd_s::State),
    /// See [`nfd_e`].
    NfdE(nfd_e::State),
    /// See [`bertier`].
    Bertier(bertier::State),
    /// See [`swim`].
    Swim(swim::State),
}

impl Detector {
    /// A detector of kind `kind` watching `clients` clients in a run that ends at `end` ns.
    /// `overshoot` draws the lateness of one wake-up of a scanner's `Sleep` loop (from the
    /// detector's own stream; only a drawn overshoot calls it).
    pub fn new(
        kind: &DetectorKind,
        clients: usize,
        end: u64,
        overshoot: &mut dyn FnMut(&Dist) -> u64,
    ) -> Self {
        match kind {
            DetectorKind::FixedTimeout(c) => {
                Detector::FixedTimeout(fixed_timeout::state(c, clients, end, overshoot))
            }
            DetectorKind::PhiAccrual(c) => {
                Detector::PhiAccrual(phi_accrual::state(c, clients, end))
            }
            DetectorKind::Ping(c) => Detector::Ping(ping::State::new(c, clients)),
            DetectorKind::TcpKeepalive(c) => {
                Detector::TcpKeepalive(keepalive::State::new(c, clients))
            }
            DetectorKind::NfdS(c) => Detector::NfdS(nfd_s::state(c, clients)),
            DetectorKind::NfdE(c) => Detector::NfdE(nfd_e::state(c, clients)),
            DetectorKind::Bertier(c) => Detector::Bertier(bertier::state(c, clients)),
            DetectorKind::Swim(_) => Detector::Swim(swim::State),
        }
    }

    /// Handles `input` about client `client` at `now`, writing what follows into `out`.
    #[inline(always)]
    pub fn handle<H: Heard>(
        &mut self,
        now: u64,
        client: usize,
        input: Input,
        host: Host,
        heard: &mut H,
        out: &mut Effects,
    ) {
        match self {
            Detector::FixedTimeout(d) => d.handle(now, client, input, host, heard, out),
            Detector::PhiAccrual(d) => d.handle(now, client, input, host, heard, out),
            Detector::Ping(d) => d.handle(now, client, input, host, out),
            Detector::TcpKeepalive(d) => d.handle(now, client, input, host, out),
            Detector::NfdS(d) => d.handle(now, client, input, host, heard, out),
            Detector::NfdE(d) => d.handle(now, client, input, host, heard, out),
            Detector::Bertier(d) => d.handle(now, client, input, host, heard, out),
            Detector::Swim(d) => d.handle(now, client, input, host, out),
        }
    }

    /// Hints that client `client`'s state will be read soon (the passive kinds' belief
    /// and armed check; the others' state is not on the hot path of large runs).
    #[inline(always)]
    pub fn prefetch(&self, client: usize) {
        let watch = match self {
            Detector::FixedTimeout(d) => d.status.get(client).zip(d.armed_at.get(client)),
            Detector::PhiAccrual(d) => d.status.get(client).zip(d.armed_at.get(client)),
            Detector::Ping(_)
            | Detector::TcpKeepalive(_)
            | Detector::NfdS(_)
            | Detector::NfdE(_)
            | Detector::Bertier(_)
            | Detector::Swim(_) => None,
        };
        if let Some((status, armed_at)) = watch {
            crate::base::prefetch::prefetch(status);
            crate::base::prefetch::prefetch(armed_at);
        }
    }

    /// What the detector believes of client `client`.
    #[inline]
    pub fn status(&self, client: usize) -> Status {
        match self {
            Detector::FixedTimeout(d) => d.status(client),
            Detector::PhiAccrual(d) => d.status(client),
            Detector::Ping(d) => d.status(client),
            Detector::TcpKeepalive(d) => d.status(client),
            Detector::NfdS(d) => d.status(client),
            Detector::NfdE(d) => d.status(client),
            Detector::Bertier(d) => d.status(client),
            Detector::Swim(d) => d.status(client),
        }
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers for the kinds' unit tests: a fixed record of heartbeats and a driver.

    use super::*;

    /// The server heard client `i` last at `times[i]` (monotonic and wall alike); every
    /// client's schedule is heartbeat `s` at `s` seconds.
    pub struct Fixed(pub Vec<i64>);

    impl Heard for Fixed {
        fn last_heard(&mut self, client: usize) -> LastHeard {
            LastHeard {
                monotonic: self.0[client],
                wall: self.0[client],
            }
        }
        fn schedule(&mut self, _client: usize) -> KnownSchedule {
            KnownSchedule {
                origin: 0,
                first: 0,
                interval: 1_000_000_000,
            }
        }
    }

    /// A running host.
    pub const RUNNING: Host = Host {
        up: true,
        running: true,
        sending: false,
    };

    /// Heartbeat number `seq`, the server's clock never stepped.
    pub fn beat(seq: u64) -> Input {
        Input::Heartbeat {
            clock_stepped: false,
            seq,
        }
    }

    /// A wake-up at `at` for an evaluation.
    pub fn wake(at: u64) -> Effect {
        Effect::Wake {
            at,
            class: WakeClass::Evaluate,
            tag: 0,
        }
    }

    /// An evaluation's timer firing.
    pub const TIMER: Input = Input::Timer {
        class: WakeClass::Evaluate,
        tag: 0,
    };

    /// Feeds one input and returns the effects.
    pub fn feed(
        d: &mut Detector,
        now: u64,
        client: usize,
        input: Input,
        host: Host,
        heard: &mut Fixed,
    ) -> Vec<Effect> {
        let mut out = Effects::default();
        d.handle(now, client, input, host, heard, &mut out);
        out.as_slice().to_vec()
    }
}
