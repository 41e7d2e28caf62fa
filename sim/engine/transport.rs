//! The stream transport in the world: segments on the uplink, acknowledgements on the
//! downlink, the retransmission timer and broken connections. `model::tcp` holds each
//! connection's state; this schedules its packets and timers.

use super::event::Event;
use super::World;
use crate::base::rng::Purpose;
use crate::model::detector::Input;
use crate::model::tcp;
use crate::oracle::Trace;

impl World<'_> {
    /// The application writes one heartbeat into the client's stream connection.
    pub(super) fn stream_send(&mut self, id: u32) {
        let ci = id as usize;
        let now = self.now;
        let seq = self.tcp[ci].send(now);
        self.stream_transmit(id, seq);
        if !self.tcp[ci].timer_armed {
            self.arm_rto(id);
        }
    }

    fn arm_rto(&mut self, id: u32) {
        let ci = id as usize;
        let p = self.groups[self.clients[ci].group as usize]
            .stream
            .expect("stream group");
        let t = &mut self.tcp[ci];
        t.timer_generation = t.timer_generation.wrapping_add(1);
        t.timer_armed = true;
        let at = self.now.saturating_add(t.timeout(&p));
        if at < self.end {
            let event = Event::Rto {
                client: id,
                generation: t.timer_generation,
            };
            self.queue.push(at, event);
        }
    }

    /// One transmission of segment `seq` on the uplink.
    fn stream_transmit(&mut self, id: u32, seq: u64) {
        let now = self.now;
        let ci = id as usize;
        let (delay, lost) = self.uplink_draw(ci);
        let gi = self.clients[ci].group as usize;
        let g = &self.groups[gi];
        if lost {
            // The retransmission timer will send it again.
            self.group_acc[gi].segments_dropped += 1;
            return;
        }
        let duplicate = g
            .uplink
            .duplicate(self.rng.get(Purpose::UplinkDuplicate, ci));
        if duplicate.is_some() {
            self.group_acc[gi].duplicated += 1;
        }
        for d in std::iter::once(delay).chain(duplicate) {
            let at = now.saturating_add(d);
            if at < self.end {
                let event = Event::Segment {
                    client: id,
                    low: seq as u32,
                };
                self.queue.push(at, event);
            }
        }
    }

    /// A segment reaches the server's stack: in-order data goes to the application, and
    /// a cumulative acknowledgement goes back on the downlink.
    pub(super) fn on_segment(&mut self, id: u32, low: u32, trace: &mut Trace<'_>) {
        let now = self.now;
        let ci = id as usize;
        let gi = self.clients[ci].group as usize;
        if self.partitioned(ci, now) || !self.server.up {
            self.group_acc[gi].segments_dropped += 1;
            return;
        }
        // Anything arriving on the connection tells the detectors watching it.
        for di in 0..self.detectors.len() {
            if self.detectors[di].uses_connections {
                self.feed(di, ci, Input::ConnectionData, trace);
            }
        }
        let t = &mut self.tcp[ci];
        let seq = tcp::widen(t.rcv_nxt, low);
        let delivered = t.receive(seq);
        let ack = t.rcv_nxt;
        // Acknowledgement on the downlink.
        let g = &self.groups[gi];
        let delay = g.downlink.delay(self.rng.get(Purpose::DownlinkDelay, ci));
        let mut bad = self.cold[ci].downlink_bad;
        let lost = g
            .downlink
            .lost(&mut bad, self.rng.get(Purpose::DownlinkLoss, ci));
        if bad != self.cold[ci].downlink_bad {
            self.cold.get_mut(ci).downlink_bad = bad;
        }
        let acc = &mut self.group_acc[gi];
        acc.bytes_down += tcp::ACK_BYTES;
        if !lost && now.saturating_add(delay) < self.end {
            let event = Event::Ack {
                client: id,
                low: ack as u32,
            };
            self.queue.push(now.saturating_add(delay), event);
        }
        if delivered > 0 {
            acc.delivered += delivered;
            // Sequence-reading detectors refuse stream groups (scenario validation).
            self.arrive(id, 0, trace);
        }
    }

    /// An acknowledgement reaches the client's stack.
    pub(super) fn on_ack(&mut self, id: u32, low: u32) {
        let ci = id as usize;
        let c = &self.clients[ci];
        if !c.up || self.partitioned(ci, self.now) {
            return;
        }
        let p = self.groups[c.group as usize].stream.expect("stream group");
        let t = &mut self.tcp[ci];
        let ack = tcp::widen(t.snd_una, low);
        if t.acknowledge(ack, self.now, &p) {
            if t.outstanding() > 0 {
                self.arm_rto(id);
            } else {
                t.timer_armed = false;
                t.timer_generation = t.timer_generation.wrapping_add(1);
            }
        }
    }

    /// The retransmission timer fires: retransmit the oldest unacknowledged segment with
    /// a doubled timeout, or break the connection when the retry budget is spent.
    pub(super) fn on_rto(&mut self, id: u32, generation: u32) {
        let ci = id as usize;
        let gi = self.clients[ci].group as usize;
        let p = self.groups[gi].stream.expect("stream group");
        let t = &mut self.tcp[ci];
        if !t.timer_armed || t.timer_generation != generation || !self.clients[ci].up {
            return;
        }
        if t.outstanding() == 0 {
            t.timer_armed = false;
            return;
        }
        let budget = tcp::retries_budget(p.retries, p.rto_min.as_nanos(), p.rto_max.as_nanos());
        if t.timed_out(self.now, budget) {
            // The connection breaks (tcp_write_timeout: the retransmissions have lasted the
            // `tcp_retries2` budget); what the server had not delivered is lost (what it
            // delivered but could not acknowledge counts as delivered already), and the
            // client opens a new connection for its next heartbeat.
            let acc = &mut self.group_acc[gi];
            acc.connection_breaks += 1;
            acc.lost += t.undelivered();
            t.reconnect(&p);
            return;
        }
        t.backoff += 1;
        t.retrans_stamp.get_or_insert(self.now);
        let seq = t.mark_retransmitted();
        let acc = &mut self.group_acc[gi];
        acc.retransmissions += 1;
        acc.bytes_up += self.groups[gi].bytes;
        self.stream_transmit(id, seq);
        self.arm_rto(id);
    }
}
