//! The server writing to its clients (`server_sends` on a stream transport): for every
//! detector that watches connections, each client's connection carries the server's
//! data downstream and the client kernel's acknowledgements back, on that detector's own
//! path. Unacknowledged data turns keepalive off (`Host::sending`); the retransmission
//! timer watches the connection instead, as Linux's does (`net/ipv4/tcp_timer.c`,
//! `tcp_retransmit_timer`, `tcp_write_timeout`; `net/ipv4/tcp_output.c`,
//! `tcp_schedule_loss_probe`): a tail-loss probe first, then RTO retransmissions of the
//! oldest segment with backoff, until the `tcp_retries2` time budget (or
//! `TCP_USER_TIMEOUT`) since the first retransmission is spent and the connection errors:
//! the detector's verdict.

use super::event::Event;
use super::World;
use crate::model::detector::{Input, Status};
use crate::model::tcp::{self, Tcp, ACK_BYTES};
use crate::oracle::Trace;

/// Sequence numbers and generations travel as their low 24 bits.
const LOW: u64 = (1 << 24) - 1;

/// The 64-bit value nearest to `base` whose low 24 bits are `low`.
fn widen24(base: u64, low: u32) -> u64 {
    let diff = ((low as i64 - (base & LOW) as i64) << 40) >> 40;
    (base as i64 + diff).max(0) as u64
}

/// The server's end of one connection that carries the server's data.
pub(super) struct ServerConn {
    /// Sender state (server) and receiver state (the client's kernel).
    tcp: Tcp,
    /// Bumped when the connection opens or dies: older writes and timers are stale.
    generation: u32,
}

impl ServerConn {
    /// A closed connection with `rto_initial` as its timeout.
    pub(super) fn new(params: &tcp::StreamParams) -> Self {
        ServerConn {
            tcp: Tcp::new(params),
            generation: 0,
        }
    }

    /// Whether data sent on it waits for an acknowledgement.
    #[inline]
    pub(super) fn sending(&self) -> bool {
        self.tcp.outstanding() > 0
    }
}

impl World<'_> {
    /// Detector `di`'s connection to client `ci` opened: the server's writes start one
    /// interval later.
    pub(super) fn open_server_data(&mut self, di: usize, ci: usize) {
        let gi = self.clients[ci].group as usize;
        let Some(p) = self.groups[gi].stream else {
            return;
        };
        let Some(sends) = p.server_sends else {
            return;
        };
        let Some(conn) = self.server_data.get_mut(di).and_then(|v| v.get_mut(ci)) else {
            return;
        };
        conn.tcp.reconnect(&p);
        conn.generation = conn.generation.wrapping_add(1);
        let at = self.now.saturating_add(sends.interval.as_nanos());
        if at < self.end {
            let event = Event::ServerWrite {
                client: ci as u32,
                detector: di as u32,
                generation: conn.generation & LOW as u32,
            };
            self.queue.push(at, event);
        }
    }

    /// The connection is alive as its detector sees it (a reset or FIN closed it).
    fn server_conn_alive(&self, di: usize, ci: usize, generation: u32) -> bool {
        self.server.up
            && self.detectors[di].machine.status(ci) == Status::Online
            && (self.server_data[di][ci].generation & LOW as u32) == generation
    }

    /// The server application writes `bytes` to the connection (unless it is stalled),
    /// and the next write is due one interval later.
    pub(super) fn on_server_write(&mut self, id: u32, di: u32, generation: u32) {
        let (ci, di) = (id as usize, di as usize);
        if !self.server_conn_alive(di, ci, generation) {
            return;
        }
        let gi = self.clients[ci].group as usize;
        let p = self.groups[gi].stream.expect("stream group");
        let sends = p.server_sends.expect("server_sends");
        if !self.server.stalled(self.now) {
            let conn = &mut self.server_data[di][ci];
            let seq = conn.tcp.send(self.now);
            self.transmit_server_data(ci, di, seq, sends.bytes as u64);
            if !self.server_data[di][ci].tcp.timer_armed {
                self.arm_server_timer(ci, di);
            }
        }
        let at = self.now.saturating_add(sends.interval.as_nanos());
        if at < self.end {
            let event = Event::ServerWrite {
                client: id,
                detector: di as u32,
                generation,
            };
            self.queue.push(at, event);
        }
    }

    /// One transmission of server segment `seq` on the downlink.
    fn transmit_server_data(&mut self, ci: usize, di: usize, seq: u64, bytes: u64) {
        let now = self.now;
        let partitioned = self.partitioned(ci, now);
        let gi = self.clients[ci].group as usize;
        let g = &self.groups[gi];
        let (_, streams) = self.detectors[di]
            .probes
            .as_mut()
            .expect("connections are probed");
        let (delay, lost) = streams.draw(g, ci, false);
        let acc = &mut self.group_acc[gi];
        acc.bytes_down += bytes + ACK_BYTES;
        if lost || partitioned {
            acc.segments_dropped += 1;
            return;
        }
        let at = now.saturating_add(delay);
        if at < self.end {
            let event = Event::ServerSegment {
                client: ci as u32,
                detector: di as u32,
                low: (seq & LOW) as u32,
            };
            self.queue.push(at, event);
        }
    }

    /// Arms the connection's timer: a tail-loss probe when one may go out, else the
    /// retransmission timeout, clamped to what is left of the user timeout
    /// (`tcp_clamp_rto_to_user_timeout`).
    fn arm_server_timer(&mut self, ci: usize, di: usize) {
        let now = self.now;
        let gi = self.clients[ci].group as usize;
        let p = self.groups[gi].stream.expect("stream group");
        let user_timeout = self.detectors[di].user_timeout;
        let conn = &mut self.server_data[di][ci];
        let t = &mut conn.tcp;
        let (at, probe) = match t.loss_probe_at(now, &p) {
            Some(at) => (at, true),
            None if t.backoff > 0 => {
                let mut rto = t.timeout(&p);
                if let (Some(u), Some(start)) = (user_timeout, t.retrans_stamp) {
                    // "user timeout has passed; fire ASAP": one millisecond.
                    rto = rto.min((start + u).saturating_sub(now).max(1_000_000));
                }
                (now.saturating_add(rto), false)
            }
            None => (t.rto_deadline(now, &p), false),
        };
        t.timer_generation = t.timer_generation.wrapping_add(1);
        t.timer_armed = true;
        t.probe_armed = probe;
        if at < self.end {
            let event = Event::ServerRto {
                client: ci as u32,
                detector: di as u32,
                generation: t.timer_generation & LOW as u32,
            };
            self.queue.push(at, event);
        }
    }

    /// A server segment reaches the client: its kernel (running while the host is up,
    /// even if the process is paused) acknowledges cumulatively on the uplink.
    pub(super) fn on_server_segment(&mut self, id: u32, di: u32, low: u32) {
        let (ci, di) = (id as usize, di as usize);
        let gi = self.clients[ci].group as usize;
        if !self.clients[ci].up || self.partitioned(ci, self.now) {
            self.group_acc[gi].segments_dropped += 1;
            return;
        }
        let t = &mut self.server_data[di][ci].tcp;
        let seq = widen24(t.rcv_nxt, low);
        t.receive(seq);
        let ack = t.rcv_nxt;
        let g = &self.groups[gi];
        let (_, streams) = self.detectors[di]
            .probes
            .as_mut()
            .expect("connections are probed");
        let (delay, lost) = streams.draw(g, ci, true);
        self.group_acc[gi].bytes_up += ACK_BYTES;
        let at = self.now.saturating_add(delay);
        if !lost && at < self.end {
            let event = Event::ServerAck {
                client: id,
                detector: di as u32,
                low: (ack & LOW) as u32,
            };
            self.queue.push(at, event);
        }
    }

    /// The client's acknowledgement reaches the server: anything arriving tells the
    /// detector, and acknowledged data stops or re-arms the timer.
    pub(super) fn on_server_ack(&mut self, id: u32, di: u32, low: u32, trace: &mut Trace<'_>) {
        let (ci, di) = (id as usize, di as usize);
        if !self.server.up || self.partitioned(ci, self.now) {
            return;
        }
        self.feed(di, ci, Input::ConnectionData, trace);
        let gi = self.clients[ci].group as usize;
        let p = self.groups[gi].stream.expect("stream group");
        let now = self.now;
        let t = &mut self.server_data[di][ci].tcp;
        let ack = widen24(t.snd_una, low);
        if t.acknowledge(ack, now, &p) {
            if t.outstanding() > 0 {
                self.arm_server_timer(ci, di);
            } else {
                t.timer_armed = false;
                t.timer_generation = t.timer_generation.wrapping_add(1);
            }
        }
    }

    /// The connection's timer fires: a tail-loss probe resends the newest segment; a
    /// retransmission timeout errors the connection when the budget is spent, else
    /// resends the oldest segment and backs off.
    pub(super) fn on_server_rto(
        &mut self,
        id: u32,
        di: u32,
        generation: u32,
        trace: &mut Trace<'_>,
    ) {
        let (ci, di) = (id as usize, di as usize);
        let alive = self.server.up && self.detectors[di].machine.status(ci) == Status::Online;
        let gi = self.clients[ci].group as usize;
        let p = self.groups[gi].stream.expect("stream group");
        let bytes = p.server_sends.map_or(0, |s| s.bytes as u64);
        let user_timeout = self.detectors[di].user_timeout;
        let now = self.now;
        let t = &mut self.server_data[di][ci].tcp;
        if !t.timer_armed || (t.timer_generation & LOW as u32) != generation {
            return;
        }
        t.timer_armed = false;
        if !alive || t.outstanding() == 0 {
            return;
        }
        if t.probe_armed {
            t.probed = true;
            let seq = t.mark_tail_retransmitted();
            self.group_acc[gi].retransmissions += 1;
            self.transmit_server_data(ci, di, seq, bytes);
            self.arm_server_timer(ci, di);
            return;
        }
        let budget = user_timeout.unwrap_or_else(|| {
            tcp::retries_budget(p.retries, p.rto_min.as_nanos(), p.rto_max.as_nanos())
        });
        if t.timed_out(now, budget) {
            // tcp_write_err: the socket errors; the detector's end of the connection is
            // gone.
            self.group_acc[gi].connection_breaks += 1;
            let conn = &mut self.server_data[di][ci];
            conn.generation = conn.generation.wrapping_add(1);
            let params = p;
            conn.tcp.reconnect(&params);
            self.feed(di, ci, Input::ConnectionClosed, trace);
            return;
        }
        t.backoff += 1;
        t.retrans_stamp.get_or_insert(now);
        let seq = t.mark_retransmitted();
        self.group_acc[gi].retransmissions += 1;
        self.transmit_server_data(ci, di, seq, bytes);
        self.arm_server_timer(ci, di);
    }
}

#[cfg(test)]
mod tests {
    use super::widen24;

    #[test]
    fn sequence_numbers_widen_around_their_base() {
        assert_eq!(widen24(5, 7), 7);
        assert_eq!(widen24(5, 3), 3);
        assert_eq!(widen24((1 << 24) + 2, (1 << 24) - 1), (1 << 24) - 1);
        assert_eq!(widen24((1 << 24) - 1, 1), (1 << 24) + 1);
    }
}
