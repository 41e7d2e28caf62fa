//! Building the world at time 0 from a validated scenario: clients with their phases and
//! drift, the queue sized for the workload, the first sends, faults, connections and
//! probe timers, and one state machine and ledger per detector.

use super::event::Event;
use super::server_data::ServerConn;
use super::streams::{self, ProbeStreams, Streams};
use super::{
    Client, ClientCold, ColdStore, DetectorRt, GroupRt, Numbering, Queue, World, IN_FLIGHT_SLOTS,
};
use crate::base::rng::{self, Purpose};
use crate::base::time::SimDuration;
use crate::model::client::Timing;
use crate::model::detector::{Detector, Input, KnownSchedule, DETECTORS_MAX, NEVER};
use crate::model::link::LinkRt;
use crate::model::server::Server;
use crate::model::tcp::Tcp;
use crate::oracle::ledger::Ledger;
use crate::oracle::metrics::GroupAcc;
use crate::scenario::{Drift, FaultAction, Phase, Scenario, StreamParams, Transport};

impl<'s> World<'s> {
    /// Builds the world at time 0 with the given seed (the scenario's unless overridden).
    pub fn new(scenario: &'s Scenario, seed: u64) -> Self {
        let s = scenario;
        let end = s.duration.as_nanos();
        let total: usize = s.groups.iter().map(|g| g.count as usize).sum();
        assert!(total <= u32::MAX as usize, "too many clients");
        assert!(s.detectors.len() <= DETECTORS_MAX, "too many detectors");
        let mut group_start = Vec::with_capacity(s.groups.len() + 1);
        let mut n = 0u32;
        for g in &s.groups {
            group_start.push(n);
            n += g.count;
        }
        group_start.push(n);

        let groups: Vec<GroupRt> = s
            .groups
            .iter()
            .map(|g| GroupRt {
                timing: Timing {
                    schedule: g.heartbeat.schedule,
                    interval: g.heartbeat.interval.as_nanos(),
                    jitter: g.heartbeat.jitter.as_nanos(),
                    resolution: g.heartbeat.timer_resolution.as_nanos().max(1),
                },
                overshoot: g.heartbeat.overshoot.clone(),
                uplink: LinkRt::new(&g.uplink),
                downlink: LinkRt::new(&g.downlink),
                stream: match g.transport {
                    Transport::Datagram => None,
                    Transport::Stream(p) => Some(p),
                },
                bytes: g.heartbeat.bytes as u64,
                enabled: g.heartbeat.enabled,
                drifts: g.heartbeat.drift_ppm != Drift::Fixed(0.0),
            })
            .collect();

        let mut queue = sized_queue(s, total);
        let mut clients = Vec::with_capacity(total);
        let mut cold = ColdStore::new(total);
        let sequenced = s.detectors.iter().any(|d| d.kind.reads_sequence());
        let mut numbering = Vec::new();
        for (gi, g) in s.groups.iter().enumerate() {
            let phase_key = streams::group_key(seed, Purpose::Phase, &g.name);
            let drift_key = streams::group_key(seed, Purpose::Drift, &g.name);
            for i in 0..g.count {
                let phase = match &g.heartbeat.phase {
                    Phase::Random => rng::below(
                        &mut rng::stream(phase_key, i),
                        g.heartbeat.interval.as_nanos(),
                    ),
                    Phase::Aligned => 0,
                    Phase::At(d) => d.as_nanos(),
                    Phase::Drawn(d) => d.sample(&mut rng::stream(phase_key, i)),
                };
                let ppm = match g.heartbeat.drift_ppm {
                    Drift::Fixed(p) => p,
                    Drift::Uniform { min, max } => {
                        min + (max - min) * rng::unit(&mut rng::stream(drift_key, i))
                    }
                };
                let id = clients.len() as u32;
                clients.push(Client {
                    group: gi as u16,
                    up: true,
                    uplink_bad: false,
                    disturbed: false,
                    online_in: 0,
                    generation: 0,
                    grid: phase,
                    last_arrival: NEVER,
                    in_flight: [(NEVER, 0); IN_FLIGHT_SLOTS],
                });
                if sequenced {
                    numbering.push(Numbering {
                        next: 0,
                        schedule: KnownSchedule {
                            origin: phase,
                            first: 0,
                            interval: g.heartbeat.interval.as_nanos(),
                        },
                    });
                }
                // A clock running fast by `ppm` counts a nominal second in less time.
                let timer_scale = 1e6 / (1e6 + ppm);
                if timer_scale != ClientCold::START.timer_scale {
                    cold.get_mut(id as usize).timer_scale = timer_scale;
                }
                if g.heartbeat.enabled && phase < end {
                    let event = Event::Send {
                        client: id,
                        generation: 0,
                    };
                    queue.push(phase, event);
                }
            }
        }
        for (i, _) in s.faults.iter().enumerate() {
            queue.push(s.faults[i].at.as_nanos(), Event::Fault { index: i as u32 });
        }

        let tcp = if s
            .groups
            .iter()
            .any(|g| matches!(g.transport, Transport::Stream(_)))
        {
            s.groups
                .iter()
                .flat_map(|g| {
                    let params = stream_params(&g.transport);
                    (0..g.count).map(move |_| Tcp::new(&params))
                })
                .collect()
        } else {
            Vec::new()
        };

        let detectors: Vec<DetectorRt> = s
            .detectors
            .iter()
            .map(|d| DetectorRt {
                // A scanner's Sleep loop draws its wake-ups' overshoot from its own stream,
                // labelled "scan.{name}.overshoot" (one scanner thread).
                machine: {
                    let key = rng::key_for_label(seed, &format!("scan.{}.overshoot", d.name), "");
                    let mut stream = rng::stream(key, 0);
                    Detector::new(&d.kind, total, end, &mut |o| o.sample(&mut stream))
                },
                ledger: Ledger::new(total, s.groups.len(), d.kind.watches_server()),
                probes: d
                    .kind
                    .probe_path()
                    .map(|p| (p, ProbeStreams::new(s, seed, p.label, &d.name))),
                uses_connections: d.kind.uses_connections(),
                user_timeout: d.kind.user_timeout(),
                swim: d
                    .kind
                    .as_swim()
                    .map(|k| Box::new(super::swim::SwimRt::new(s, seed, &d.name, k, total))),
            })
            .collect();
        let group_acc = s
            .groups
            .iter()
            .map(|g| GroupAcc {
                clients: g.count as u64,
                ..GroupAcc::default()
            })
            .collect();
        // Every connection a detector watches is open from the start.
        for (di, d) in detectors.iter().enumerate() {
            if d.uses_connections {
                for ci in 0..total {
                    let event = Event::Connect {
                        client: ci as u32,
                        detector: di as u32,
                    };
                    queue.push(0, event);
                }
            }
        }
        let disturbs_arrivals = s.faults.iter().any(|f| {
            matches!(
                f.action,
                FaultAction::Partition { .. }
                    | FaultAction::ServerStall { .. }
                    | FaultAction::ClockStep { .. }
                    | FaultAction::ServerCrash
            )
        });

        // The server's end of each watched connection that carries server data.
        let server_data = if s
            .groups
            .iter()
            .any(|g| matches!(g.transport, Transport::Stream(p) if p.server_sends.is_some()))
        {
            s.detectors
                .iter()
                .map(|d| {
                    if !d.kind.uses_connections() {
                        return Vec::new();
                    }
                    s.groups
                        .iter()
                        .flat_map(|g| {
                            let p = stream_params(&g.transport);
                            (0..g.count).map(move |_| ServerConn::new(&p))
                        })
                        .collect()
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut world = World {
            scenario,
            end,
            now: 0,
            queue,
            clients,
            cold,
            numbering,
            groups,
            rng: Streams::new(s, seed),
            tcp,
            server_data,
            detectors,
            group_acc,
            group_start,
            events: 0,
            n_detectors: u16::try_from(
                s.detectors
                    .iter()
                    .filter(|d| !d.kind.watches_server())
                    .count(),
            )
            .expect("too many detectors"),
            lazy_arrivals: !disturbs_arrivals
                && s.detectors
                    .iter()
                    .all(|d| d.kind.arrivals_only_move_deadlines()),
            server: Server::default(),
        };
        world.start_detectors(seed);
        world.start_swim(seed);
        world
    }

    /// Tells every detector the run starts, with its own random phase per client where
    /// it asks for one (drawn from its stream labelled `"{label}.{name}.phase"`).
    fn start_detectors(&mut self, seed: u64) {
        let s = self.scenario;
        for (di, d) in s.detectors.iter().enumerate() {
            let (Some(range), Some(path)) = (d.kind.start_phase_range(), d.kind.probe_path())
            else {
                continue;
            };
            let label = format!("{}.{}.phase", path.label, d.name);
            let mut phases = streams::labelled(s, seed, &label);
            for (ci, stream) in phases.iter_mut().enumerate() {
                let phase = rng::below(stream, range);
                self.feed(di, ci, Input::Start { phase }, &mut None);
            }
        }
    }
}

/// A queue whose wheel fits the workload: events per virtual second and how far ahead
/// they are scheduled.
fn sized_queue(s: &Scenario, total: usize) -> Queue {
    let mut rate = 0.0;
    let mut horizon: u64 = 1_000_000;
    for g in &s.groups {
        let h = g.heartbeat.interval.as_nanos();
        rate += g.count as f64 * 2e9 / h as f64;
        let mut ahead = h + g.heartbeat.jitter.as_nanos();
        if let Some(o) = &g.heartbeat.overshoot {
            ahead = ahead.saturating_add(o.mean().unwrap_or(0.0) as u64);
        }
        horizon = horizon.max(ahead);
        if let Some(d) = &g.uplink.delay {
            let typical = d
                .upper_bound()
                .unwrap_or_else(|| (d.mean().unwrap_or(0.0) * 2.0) as u64);
            horizon = horizon.max(typical);
        }
    }
    for d in &s.detectors {
        let (scan, _, _) = d.kind.scanning();
        let period = d.kind.typical_period();
        horizon = horizon.max(period + scan.as_nanos());
        rate += total as f64 * 1e9 / period.max(1) as f64;
    }
    let horizon = horizon
        .min(s.duration.as_nanos())
        .saturating_add(horizon / 4);
    Queue::for_workload(rate, horizon)
}

/// A group's stream settings; a datagram group's connection state is never used, so any
/// valid settings do.
fn stream_params(t: &Transport) -> StreamParams {
    match *t {
        Transport::Stream(p) => p,
        Transport::Datagram => StreamParams {
            rto_initial: SimDuration::SECOND,
            rto_min: SimDuration::SECOND,
            rto_max: SimDuration::SECOND,
            retries: 1,
            server_sends: None,
        },
    }
}
