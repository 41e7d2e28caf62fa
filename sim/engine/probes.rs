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
        let bytes = path.bytes;
        let mine = &mut self.detectors[di].ledger.acc[gi];
        mine.probes_sent += 1;
        mine.probe_bytes += bytes;
        let acc = &mut self.group_acc[gi];
        acc.probes_sent += 1;
        if up {
            acc.bytes_up += bytes;
        } else {
            acc.bytes_down += bytes;
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
        let bytes = path.bytes;
        self.detectors[di as usize].ledger.acc[gi].probe_bytes += bytes;
        let acc = &mut self.group_acc[gi];
        if up {
            acc.bytes_up += bytes;
        } else {
            acc.bytes_down += bytes;
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
        self.open_server_data(di as usize, id as usize);
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
    /// uplink of every watched connection, on that detector's own path, retransmitted
    /// after the retransmission timeout until the server has closed the connection.
    pub(super) fn send_fins(&mut self, id: u32) {
        for di in 0..self.detectors.len() {
            if self.detectors[di].uses_connections {
                self.transmit_fin(id, di, 0);
            }
        }
    }

    /// One transmission of client `id`'s FIN to detector `di`'s end (`attempt` earlier
    /// ones), and the retransmission timer behind it. The client's RTO is its stream's,
    /// or the handshake's (the links' mean delays) when the stream has no round-trip
    /// sample; it doubles per retransmission. An orphaned socket (its process is gone)
    /// gives up after `tcp_orphan_retries`, 8 by default (`net/ipv4/tcp_timer.c`:
    /// `tcp_orphan_retries` returns 8 when the sysctl is 0).
    fn transmit_fin(&mut self, id: u32, di: usize, attempt: u32) {
        const ORPHAN_RETRIES: u32 = 8;
        let now = self.now;
        let ci = id as usize;
        let partitioned = self.partitioned(ci, now);
        let gi = self.clients[ci].group as usize;
        let g = &self.groups[gi];
        let (_, streams) = self.detectors[di]
            .probes
            .as_mut()
            .expect("connections are probed");
        let (delay, lost) = streams.draw(g, ci, true);
        if !(lost || partitioned) && now.saturating_add(delay) < self.end {
            let event = Event::Fin {
                client: id,
                detector: di as u32,
            };
            self.queue.push(now + delay, event);
        }
        if attempt > 0 {
            let acc = &mut self.group_acc[gi];
            acc.retransmissions += 1;
            acc.bytes_up += crate::model::tcp::ACK_BYTES;
        }
        let Some(p) = g.stream else {
            return;
        };
        if attempt >= ORPHAN_RETRIES {
            return;
        }
        let mean = |d: &Option<crate::base::rng::Dist>| {
            d.as_ref().map_or(Some(0.0), crate::base::rng::Dist::mean)
        };
        let rto = match (mean(&g.uplink.delay), mean(&g.downlink.delay)) {
            (Some(up), Some(down)) => self.tcp[ci].timeout_after_handshake((up + down) as u64, &p),
            _ => p.rto_initial.as_nanos(),
        };
        let backed_off = rto.saturating_mul(1 << attempt).min(p.rto_max.as_nanos());
        let at = now.saturating_add(backed_off);
        if at < self.end {
            let event = Event::FinRto {
                client: id,
                detector: di as u32,
                attempt: attempt + 1,
            };
            self.queue.push(at, event);
        }
    }

    /// The FIN's retransmission timer: send it again unless the server has closed the
    /// connection (it acknowledged the FIN, or reset the connection), or the client
    /// runs again (its new connection replaced the old one).
    pub(super) fn on_fin_rto(&mut self, id: u32, di: u32, attempt: u32) {
        let ci = id as usize;
        let di = di as usize;
        if self.clients[ci].up
            || self.detectors[di].machine.status(ci) != crate::model::detector::Status::Online
        {
            return;
        }
        self.transmit_fin(id, di, attempt);
    }

    /// The FIN/RST arrives: the server closes the connection at once (unless the client
    /// has connected again since: the FIN belongs to the old connection).
    pub(super) fn on_fin(&mut self, id: u32, di: u32, trace: &mut Trace<'_>) {
        if self.partitioned(id as usize, self.now) || self.clients[id as usize].up {
            return;
        }
        self.feed(di as usize, id as usize, Input::ConnectionClosed, trace);
    }
}
