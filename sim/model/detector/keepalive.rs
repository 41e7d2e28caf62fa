//! TCP keepalive on the server's end of each client's stream connection, as Linux's
//! `tcp_keepalive_timer` (`net/ipv4/tcp_timer.c`) runs it: after `idle` with nothing
//! received, a probe every `interval`; after `probes` unanswered probes the connection is
//! reset (offline). Anything arriving on the connection resets the count. The client's
//! kernel answers while its host is up, even if the process is paused; a crashed process's
//! kernel closes the connection (FIN/RST), which the server sees at once.

use super::{
    Answerer, Effect, Effects, Host, Input, KindConfig, ProbePath, Rejoin, Status, WakeClass,
    WorldEvent,
};
use crate::base::time::SimDuration;

/// Bytes of a keepalive probe or its answer on the wire: an empty segment, the size of an
/// acknowledgement.
pub const PROBE_BYTES: u64 = crate::model::tcp::ACK_BYTES;

/// A `tcp-keepalive` detector's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpKeepalive {
    /// Silence before the first probe (`tcp_keepalive_time`).
    pub idle: SimDuration,
    /// Time between probes (`tcp_keepalive_intvl`).
    pub interval: SimDuration,
    /// Unanswered probes that reset the connection (`tcp_keepalive_probes`).
    pub probes: u32,
    /// What happens when a reset client connects again.
    pub rejoin: Rejoin,
}

impl KindConfig for TcpKeepalive {
    fn kind_name(&self) -> &'static str {
        "tcp-keepalive"
    }

    fn typical_period(&self) -> u64 {
        self.interval.as_nanos()
    }

    fn seconds_per_event(&self) -> f64 {
        self.interval.as_secs_f64().min(self.idle.as_secs_f64()) / 2.0
    }

    fn scanning(&self) -> (SimDuration, SimDuration, Rejoin) {
        (SimDuration::ZERO, SimDuration::ZERO, self.rejoin)
    }

    fn probe_path(&self) -> Option<ProbePath> {
        Some(ProbePath {
            from_client: false,
            bytes: PROBE_BYTES,
            answerer: Answerer::Kernel,
            label: "keepalive",
        })
    }

    fn uses_connections(&self) -> bool {
        true
    }
}

/// Timer tags carry the low 24 bits of the timer's generation.
const GENERATION_MASK: u32 = (1 << 24) - 1;

/// One client's connection as the server's keepalive sees it.
#[derive(Clone, Copy, Debug, Default)]
struct Connection {
    status: Status,
    /// Last time anything arrived on the connection.
    last_rx: u64,
    /// Unanswered probes since then.
    probes_out: u32,
    /// Generation of the armed timer (older timers are stale).
    generation: u32,
}

/// A keepalive detector watching every client's connection.
#[derive(Clone, Debug)]
pub struct State {
    params: TcpKeepalive,
    /// Idle time and every probe: the verdict window, ns.
    window: u64,
    connections: Vec<Connection>,
}

impl State {
    /// Watches `clients` connections.
    pub fn new(k: &TcpKeepalive, clients: usize) -> Self {
        State {
            params: *k,
            window: k.idle.as_nanos() + k.interval.as_nanos() * k.probes as u64,
            connections: vec![Connection::default(); clients],
        }
    }

    /// What the detector believes of client `ci`.
    #[inline]
    pub fn status(&self, ci: usize) -> Status {
        self.connections[ci].status
    }

    /// Handles one input about client `ci`'s connection; `host` is the server.
    pub fn handle(&mut self, now: u64, ci: usize, input: Input, host: Host, out: &mut Effects) {
        let k = self.params;
        let idle = k.idle.as_nanos();
        let c = &mut self.connections[ci];
        match input {
            Input::Connected => {
                let back = k.rejoin.comes_back(c.status);
                c.last_rx = now;
                c.probes_out = 0;
                if back {
                    c.status = Status::Online;
                    out.push(Effect::Online);
                }
                arm(c, now + idle, out);
            }
            Input::Timer { tag, .. } => {
                if !host.up {
                    return; // the connection died with the server
                }
                if (c.generation & GENERATION_MASK) != tag || c.status != Status::Online {
                    return;
                }
                if c.probes_out == 0 && now < c.last_rx + idle {
                    // Data arrived since the timer was set: wait for the idle time again.
                    arm(c, c.last_rx + idle, out);
                    return;
                }
                if c.probes_out >= k.probes {
                    // The connection is reset: the client is offline.
                    c.probes_out = 0;
                    c.status = Status::Offline;
                    out.push(Effect::Offline {
                        window: self.window,
                    });
                    return;
                }
                c.probes_out += 1;
                out.push(Effect::Probe { tag: 0 });
                arm(c, now + k.interval.as_nanos(), out);
            }
            Input::Reply { .. } => {
                if c.status != Status::Online {
                    return; // an answer on a connection already reset
                }
                c.last_rx = now;
                c.probes_out = 0;
                out.push(Effect::Answered);
                arm(c, now + idle, out);
            }
            Input::ConnectionData => {
                c.last_rx = now;
                c.probes_out = 0;
            }
            Input::ConnectionClosed => {
                if c.status == Status::Online {
                    c.status = Status::Offline;
                    out.push(Effect::Offline {
                        window: self.window,
                    });
                }
            }
            Input::World(WorldEvent::ServerCrashed) => c.status = Status::Unknown,
            Input::World(
                WorldEvent::ClientCrashed
                | WorldEvent::StallEnded { .. }
                | WorldEvent::ClockStepped,
            )
            | Input::Start { .. }
            | Input::Heartbeat { .. } => {}
        }
    }
}

/// Arms the connection's timer at `at`, making older timers stale.
fn arm(c: &mut Connection, at: u64, out: &mut Effects) {
    c.generation = c.generation.wrapping_add(1);
    out.push(Effect::Wake {
        at,
        class: WakeClass::Evaluate,
        tag: c.generation & GENERATION_MASK,
    });
}

#[cfg(test)]
mod tests {
    use super::super::testing::{feed, Fixed, RUNNING};
    use super::super::{Detector, DetectorKind};
    use super::*;

    const S: u64 = 1_000_000_000;

    fn linux() -> Detector {
        // Linux's defaults: 7200 s idle, 75 s between probes, 9 probes.
        let k = TcpKeepalive {
            idle: SimDuration::from_secs(7200),
            interval: SimDuration::from_secs(75),
            probes: 9,
            rejoin: Rejoin::Announce,
        };
        Detector::new(&DetectorKind::TcpKeepalive(k), 1, u64::MAX, &mut |_| 0)
    }

    fn timer(tag: u32) -> Input {
        Input::Timer {
            class: WakeClass::Evaluate,
            tag,
        }
    }

    fn wake(at: u64, tag: u32) -> Effect {
        Effect::Wake {
            at,
            class: WakeClass::Evaluate,
            tag,
        }
    }

    #[test]
    fn a_silent_peer_is_reset_after_idle_plus_every_probe() {
        let mut d = linux();
        let mut h = Fixed(vec![]);
        assert_eq!(
            feed(&mut d, 0, 0, Input::Connected, RUNNING, &mut h),
            vec![Effect::Online, wake(7200 * S, 1)]
        );
        let mut at = 7200 * S;
        for probe in 0..9 {
            let out = feed(&mut d, at, 0, timer(probe + 1), RUNNING, &mut h);
            assert_eq!(
                out,
                vec![Effect::Probe { tag: 0 }, wake(at + 75 * S, probe + 2)]
            );
            at += 75 * S;
        }
        // 7200 + 9·75 = 7875 s after the last data: reset.
        assert_eq!(at, 7875 * S);
        assert_eq!(
            feed(&mut d, at, 0, timer(10), RUNNING, &mut h),
            vec![Effect::Offline { window: 7875 * S }]
        );
    }

    #[test]
    fn data_and_answers_push_the_probes_back() {
        let mut d = linux();
        let mut h = Fixed(vec![]);
        feed(&mut d, 0, 0, Input::Connected, RUNNING, &mut h);
        feed(&mut d, 100 * S, 0, Input::ConnectionData, RUNNING, &mut h);
        // The timer set at connect time finds newer data: it waits out the idle time again.
        assert_eq!(
            feed(&mut d, 7200 * S, 0, timer(1), RUNNING, &mut h),
            vec![wake(7300 * S, 2)]
        );
        feed(&mut d, 7300 * S, 0, timer(2), RUNNING, &mut h);
        assert_eq!(
            feed(
                &mut d,
                7301 * S,
                0,
                Input::Reply { tag: 0 },
                RUNNING,
                &mut h
            ),
            vec![Effect::Answered, wake(14501 * S, 4)]
        );
        // A FIN closes the connection at once.
        assert_eq!(
            feed(
                &mut d,
                7302 * S,
                0,
                Input::ConnectionClosed,
                RUNNING,
                &mut h
            ),
            vec![Effect::Offline { window: 7875 * S }]
        );
    }
}
