//! An active detector: a ping every `interval`, a `timeout` to answer it, and `misses`
//! consecutive unanswered pings make the peer offline; an answered ping makes it online.
//!
//! Server to client, the server pings each client over the downlink and the client's
//! process answers over the uplink. Client to server (the 5-step scheme), each client
//! pings the server and its own verdict is about the server. A ping is settled when it is
//! answered in time, times out, or is forgotten by a restarted server; a later answer is
//! ignored, and an answer at the timeout instant counts (deliveries come first).

use super::{
    Answerer, Effect, Effects, Host, Input, KindConfig, ProbePath, Rejoin, Status, WakeClass,
    WorldEvent,
};
use crate::base::time::SimDuration;

/// A `ping` detector's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ping {
    /// `false`: the server pings clients; `true`: each client pings the server (the
    /// 5-step scheme) and its own verdict is about the server.
    pub client_to_server: bool,
    /// Time between pings.
    pub interval: SimDuration,
    /// How long a ping waits for its answer.
    pub timeout: SimDuration,
    /// Consecutive unanswered pings that make the peer offline.
    pub misses: u32,
    /// Bytes on the wire of a ping and of its answer.
    pub bytes: u32,
    /// What happens when an offline peer answers again.
    pub rejoin: Rejoin,
}

impl KindConfig for Ping {
    fn kind_name(&self) -> &'static str {
        "ping"
    }

    fn typical_period(&self) -> u64 {
        self.interval.as_nanos() / 4
    }

    fn seconds_per_event(&self) -> f64 {
        // A ping, its delivery, its reply and its timeout.
        self.interval.as_secs_f64() / 4.0
    }

    fn scanning(&self) -> (SimDuration, SimDuration, Rejoin) {
        (SimDuration::ZERO, SimDuration::ZERO, self.rejoin)
    }

    fn watches_server(&self) -> bool {
        self.client_to_server
    }

    fn probe_path(&self) -> Option<ProbePath> {
        Some(ProbePath {
            from_client: self.client_to_server,
            bytes: self.bytes as u64,
            answerer: Answerer::Process,
            label: "ping",
        })
    }

    fn start_phase_range(&self) -> Option<u64> {
        Some(self.interval.as_nanos())
    }
}

/// Tags of the ping's own timers and probes carry the low 24 bits of the ping number.
const SEQ_MASK: u32 = (1 << 24) - 1;

/// One peer's side of a ping detector.
#[derive(Clone, Copy, Debug, Default)]
struct Peer {
    status: Status,
    /// Number of the current ping (its low 24 bits travel in tags).
    seq: u32,
    /// The current ping is over: answered in time, timed out, or forgotten.
    settled: bool,
    /// Consecutive unanswered pings.
    misses: u32,
}

/// A ping detector watching every client (or every client's view of the server).
#[derive(Clone, Debug)]
pub struct State {
    params: Ping,
    /// The verdict window: the misses and the last timeout, ns.
    window: u64,
    peers: Vec<Peer>,
}

impl State {
    /// Watches `clients` clients.
    pub fn new(p: &Ping, clients: usize) -> Self {
        State {
            params: *p,
            window: p.interval.as_nanos() * p.misses as u64 + p.timeout.as_nanos(),
            peers: vec![Peer::default(); clients],
        }
    }

    /// What the detector believes of peer `ci`.
    #[inline]
    pub fn status(&self, ci: usize) -> Status {
        self.peers[ci].status
    }

    /// Handles one input about peer `ci`. `host` is the pinging side: the server, or the
    /// client for a client-to-server ping.
    pub fn handle(&mut self, now: u64, ci: usize, input: Input, host: Host, out: &mut Effects) {
        let p = &self.params;
        let st = &mut self.peers[ci];
        match input {
            Input::Start { phase } => out.push(ping_timer(phase)),
            Input::Timer {
                class: WakeClass::Send,
                ..
            } => {
                // The ping timer goes on whether or not this ping can be sent.
                out.push(ping_timer(now + p.interval.as_nanos()));
                // A client pings only while its process runs; the server's pings are sent
                // by its kernel's timers even during a stall (a documented simplification).
                let running = if p.client_to_server {
                    host.running
                } else {
                    host.up
                };
                if !running {
                    return;
                }
                st.seq = st.seq.wrapping_add(1);
                st.settled = false;
                let tag = st.seq & SEQ_MASK;
                out.push(Effect::Probe { tag });
                out.push(Effect::Wake {
                    at: now + p.timeout.as_nanos(),
                    class: WakeClass::Evaluate,
                    tag,
                });
            }
            Input::Timer {
                class: WakeClass::Evaluate,
                tag,
            } => {
                // The timeout: unanswered, the ping counts as a miss.
                if !host.up || st.settled || (st.seq & SEQ_MASK) != tag {
                    return; // the timer's owner is dead, or the ping was settled
                }
                st.settled = true;
                st.misses += 1;
                if st.misses >= p.misses && st.status == Status::Online {
                    st.status = Status::Offline;
                    out.push(Effect::Offline {
                        window: self.window,
                    });
                }
            }
            Input::Reply { tag } => {
                if !host.up || st.settled || (st.seq & SEQ_MASK) != tag {
                    return; // the receiver is dead, or late: timed out or superseded
                }
                st.settled = true;
                st.misses = 0;
                out.push(Effect::Answered);
                if p.rejoin.comes_back(st.status) {
                    st.status = Status::Online;
                    out.push(Effect::Online);
                }
            }
            Input::World(WorldEvent::ServerCrashed) => {
                if !p.client_to_server {
                    // The server's pings are forgotten with everything else it knew.
                    st.status = Status::Unknown;
                    st.settled = true;
                    st.misses = 0;
                }
            }
            Input::World(WorldEvent::ClientCrashed) => {
                if p.client_to_server {
                    st.status = Status::Unknown; // a dead client has no view of the server
                }
            }
            Input::World(WorldEvent::StallEnded { .. } | WorldEvent::ClockStepped)
            | Input::Heartbeat { .. }
            | Input::Connected
            | Input::ConnectionData
            | Input::ConnectionClosed => {}
        }
    }
}

/// The ping timer at `at`.
fn ping_timer(at: u64) -> Effect {
    Effect::Wake {
        at,
        class: WakeClass::Send,
        tag: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{feed, Fixed, RUNNING};
    use super::super::{Detector, DetectorKind};
    use super::*;

    const S: u64 = 1_000_000_000;
    const DOWN: Host = Host {
        up: false,
        running: false,
        sending: false,
    };

    fn detector(misses: u32) -> Detector {
        let p = Ping {
            client_to_server: false,
            interval: SimDuration::from_secs(5),
            timeout: SimDuration::from_secs(2),
            misses,
            bytes: 40,
            rejoin: Rejoin::Announce,
        };
        Detector::new(&DetectorKind::Ping(p), 1, 100 * S, &mut |_| 0)
    }

    const SEND: Input = Input::Timer {
        class: WakeClass::Send,
        tag: 0,
    };

    fn timeout(tag: u32) -> Input {
        Input::Timer {
            class: WakeClass::Evaluate,
            tag,
        }
    }

    #[test]
    fn a_ping_probes_and_arms_its_timeout_and_the_next_ping() {
        let mut d = detector(2);
        let mut h = Fixed(vec![]);
        assert_eq!(
            feed(&mut d, 0, 0, Input::Start { phase: 3 * S }, RUNNING, &mut h),
            vec![ping_timer(3 * S)]
        );
        let out = feed(&mut d, 3 * S, 0, SEND, RUNNING, &mut h);
        assert_eq!(
            out,
            vec![
                ping_timer(8 * S),
                Effect::Probe { tag: 1 },
                Effect::Wake {
                    at: 5 * S,
                    class: WakeClass::Evaluate,
                    tag: 1
                }
            ]
        );
        // The answer makes the client online; a second answer to the same ping is ignored.
        let reply = Input::Reply { tag: 1 };
        assert_eq!(
            feed(&mut d, 4 * S, 0, reply, RUNNING, &mut h),
            vec![Effect::Answered, Effect::Online]
        );
        assert_eq!(feed(&mut d, 4 * S, 0, reply, RUNNING, &mut h), vec![]);
        // Its timeout finds it settled.
        assert_eq!(feed(&mut d, 5 * S, 0, timeout(1), RUNNING, &mut h), vec![]);
    }

    #[test]
    fn consecutive_misses_make_the_client_offline_and_late_answers_are_ignored() {
        let mut d = detector(2);
        let mut h = Fixed(vec![]);
        feed(&mut d, 0, 0, SEND, RUNNING, &mut h);
        feed(&mut d, S, 0, Input::Reply { tag: 1 }, RUNNING, &mut h);
        feed(&mut d, 5 * S, 0, SEND, RUNNING, &mut h);
        assert_eq!(feed(&mut d, 7 * S, 0, timeout(2), RUNNING, &mut h), vec![]);
        // The answer to ping 2 after its timeout does not count.
        assert_eq!(
            feed(&mut d, 8 * S, 0, Input::Reply { tag: 2 }, RUNNING, &mut h),
            vec![]
        );
        feed(&mut d, 10 * S, 0, SEND, RUNNING, &mut h);
        assert_eq!(
            feed(&mut d, 12 * S, 0, timeout(3), RUNNING, &mut h),
            vec![Effect::Offline {
                window: 2 * 5 * S + 2 * S
            }]
        );
        assert_eq!(d.status(0), Status::Offline);
    }

    #[test]
    fn a_dead_server_sends_no_ping_but_keeps_its_timer() {
        let mut d = detector(1);
        let mut h = Fixed(vec![]);
        assert_eq!(
            feed(&mut d, 0, 0, SEND, DOWN, &mut h),
            vec![ping_timer(5 * S)]
        );
    }
}
