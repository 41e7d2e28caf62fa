//! Active detectors' traffic in the world: probes on the detector's own path, the peer
//! answering (its process, or its kernel), answers travelling back, connections opened
//! for a detector, and the FIN/RST a crashed process's kernel sends.

use super::event::Event;
use super::World;
use crate::model::detector::{Answerer, Input};
use crate::oracle::Trace;

impl World<'_> {
    /// Detector `di` probes its peer about client `ci` (the client, or the server for a
    /// client's ping) over the detector's own path.
    pub(super) fn send_probe(&mut self, di: usize, ci: usize, tag: u32) {
        let now = self.now;
        let partitioned = self.partitioned(ci, now);
        let gi = self.clients[ci].group as usize;
        let g = &self.groups[gi];
        let (path, streams) = self.detectors[di]
            .probes
            .as_mut()
            .expect("only active detectors probe");
        let up = path.from_client;
        let (delay, lost) = streams.draw(g, ci, up);
        let acc = &mut self.group_acc[gi];
        acc.probes_sent += 1;
        if up {
            acc.bytes_up += path.bytes;
        } else {
            acc.bytes_down += path.bytes;
        }
        if !lost && !partitioned && now.saturating_add(delay) < self.end {
            let event = Event::ProbeAtPeer {
                client: ci as u32,
                detector: di as u32,
                tag,
            };
            self.queue.push(now + delay, event);
        }
    }

    /// A probe reaches the peer, which answers on the way back if it can: a process must
    /// be up and running, a kernel answers while its host is up.
    pub(super) fn on_probe_at_peer(&mut self, id: u32, di: u32, tag: u32) {
        let now = self.now;
        let ci = id as usize;
        let (path, _) = self.detectors[di as usize]
            .probes
            .as_ref()
            .expect("only active detectors probe");
        let answers = if path.from_client {
            self.server.up && !self.server.stalled(now)
        } else {
            let up = self.clients[ci].up;
            match path.answerer {
                Answerer::Process => up && now >= self.cold[ci].paused_until,
                Answerer::Kernel => up,
            }
        };
        if self.partitioned(ci, now) || !answers {
            return;
        }
        let gi = self.clients[ci].group as usize;
        let g = &self.groups[gi];
        let (path, streams) = self.detectors[di as usize]
            .probes
            .as_mut()
            .expect("only active detectors probe");
        // The answer travels the other way.
        let up = !path.from_client;
        let (delay, lost) = streams.draw(g, ci, up);
        let acc = &mut self.group_acc[gi];
        if up {
            acc.bytes_up += path.bytes;
        } else {
            acc.bytes_down += path.bytes;
        }
        if !lost && now.saturating_add(delay) < self.end {
            let event = Event::ProbeReply {
                client: id,
                detector: di,
                tag,
            };
            self.queue.push(now + delay, event);
        }
    }

    /// An answer reaches the probing detector, unless the link was cut meanwhile.
    pub(super) fn on_probe_reply(&mut self, id: u32, di: u32, tag: u32, trace: &mut Trace<'_>) {
        if self.partitioned(id as usize, self.now) {
            return;
        }
        self.feed(di as usize, id as usize, Input::Reply { tag }, trace);
    }

    /// A connection is (re)established by a live client: the detector watching it knows
    /// the client now.
    pub(super) fn on_connect(&mut self, id: u32, di: u32, trace: &mut Trace<'_>) {
        if !self.clients[id as usize].up {
            return;
        }
        self.feed(di as usize, id as usize, Input::Connected, trace);
    }

    /// Client `id` opens a new connection for every detector that watches connections.
    pub(super) fn open_connections(&mut self, id: u32) {
        for di in 0..self.detectors.len() {
            if self.detectors[di].uses_connections {
                let event = Event::Connect {
                    client: id,
                    detector: di as u32,
                };
                self.queue.push(self.now, event);
            }
        }
    }

    /// A crashed process's operating system closes its connections: a FIN/RST on the
    /// uplink of every watched connection, on that detector's own path.
    pub(super) fn send_fins(&mut self, id: u32) {
        let now = self.now;
        let ci = id as usize;
        let partitioned = self.partitioned(ci, now);
        let gi = self.clients[ci].group as usize;
        let g = &self.groups[gi];
        for (di, d) in self.detectors.iter_mut().enumerate() {
            if !d.uses_connections {
                continue;
            }
            let (_, streams) = d.probes.as_mut().expect("connections are probed");
            let (delay, lost) = streams.draw(g, ci, true);
            if !(lost || partitioned) && now.saturating_add(delay) < self.end {
                let event = Event::Fin {
                    client: id,
                    detector: di as u32,
                };
                self.queue.push(now + delay, event);
            }
        }
    }

    /// The FIN/RST arrives: the server closes the connection at once.
    pub(super) fn on_fin(&mut self, id: u32, di: u32, trace: &mut Trace<'_>) {
        if self.partitioned(id as usize, self.now) {
            return;
        }
        self.feed(di as usize, id as usize, Input::ConnectionClosed, trace);
    }
}
