//! The TCP-like stream transport of one client connection: sequence numbers, in-order
//! delivery at the receiver (head-of-line blocking), cumulative acknowledgements, and an
//! RFC 6298 retransmission timer (`srtt + 4·rttvar`, floored at `rto_min`, doubled per
//! consecutive timeout up to `rto_max`, Karn's rule for samples) with a retry budget
//! after which the connection breaks, as Linux's `tcp_retries2`.
//!
//! Pure state: the engine draws delays and losses, schedules packets and timers, and
//! calls these methods when they happen. Sequence numbers are 64-bit here and travel as
//! their low 32 bits in events; `widen` restores them.

use crate::base::time::SimDuration;
use std::collections::VecDeque;

/// Retransmission settings of a stream link (RFC 6298 timer with Linux's limits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamParams {
    /// RTO before the first round-trip sample.
    pub rto_initial: SimDuration,
    /// Floor of the timeout (Linux `TCP_RTO_MIN`, 200 ms).
    pub rto_min: SimDuration,
    /// Ceiling of the backed-off timeout (Linux `TCP_RTO_MAX`, 120 s).
    pub rto_max: SimDuration,
    /// Consecutive timeouts after which the connection breaks (Linux `tcp_retries2`).
    pub retries: u32,
}

/// Bytes of an acknowledgement on the wire (IPv4 + TCP headers with timestamps).
pub const ACK_BYTES: u64 = 52;

/// One client's stream connection: both ends' sequence state and the sender's timer.
#[derive(Clone, Debug)]
pub struct Tcp {
    /// First sequence number of the current connection; older segments are discarded.
    pub conn_start: u64,
    /// Oldest unacknowledged segment.
    pub snd_una: u64,
    /// Next segment to send.
    pub snd_nxt: u64,
    /// Next segment the receiver (server) expects.
    pub rcv_nxt: u64,
    /// Segments received beyond `rcv_nxt`, waiting for the gap to fill.
    out_of_order: Vec<u64>,
    /// For each segment from `snd_una` on: first transmission time, and whether it was
    /// retransmitted (Karn: its acknowledgement gives no round-trip sample).
    unacked: VecDeque<(u64, bool)>,
    srtt: u64,
    rttvar: u64,
    has_rtt: bool,
    rto: u64,
    /// Consecutive timeouts without progress.
    pub backoff: u32,
    /// Bumped whenever the timer is re-armed or stopped; a timer event of an older
    /// generation is stale.
    pub timer_generation: u32,
    /// Whether the retransmission timer runs.
    pub timer_armed: bool,
}

/// The 64-bit value nearest to `base` whose low 32 bits are `low`.
pub fn widen(base: u64, low: u32) -> u64 {
    let diff = low.wrapping_sub(base as u32) as i32 as i64;
    (base as i64 + diff).max(0) as u64
}

impl Tcp {
    /// A fresh connection with the timeout at `rto_initial`.
    pub fn new(params: &StreamParams) -> Self {
        Tcp {
            conn_start: 0,
            snd_una: 0,
            snd_nxt: 0,
            rcv_nxt: 0,
            out_of_order: Vec::new(),
            unacked: VecDeque::new(),
            srtt: 0,
            rttvar: 0,
            has_rtt: false,
            rto: params.rto_initial.as_nanos(),
            backoff: 0,
            timer_generation: 0,
            timer_armed: false,
        }
    }

    /// Opens a new connection after a break or a restart: fresh timer state, and the
    /// receiver starts at the new connection's first segment.
    pub fn reconnect(&mut self, params: &StreamParams) {
        let next = self.snd_nxt;
        *self = Tcp {
            conn_start: next,
            snd_una: next,
            snd_nxt: next,
            rcv_nxt: next,
            timer_generation: self.timer_generation.wrapping_add(1),
            ..Tcp::new(params)
        };
    }

    /// Segments sent on this connection and not yet acknowledged.
    pub fn outstanding(&self) -> u64 {
        self.snd_nxt - self.snd_una
    }

    /// Segments sent on this connection that the receiving application has not had:
    /// outstanding ones the server received in order were delivered, even if their
    /// acknowledgement has not come back.
    pub fn undelivered(&self) -> u64 {
        self.snd_nxt - self.snd_una.max(self.rcv_nxt)
    }

    /// A new segment is sent at `now`; returns its sequence number.
    pub fn send(&mut self, now: u64) -> u64 {
        let seq = self.snd_nxt;
        self.snd_nxt += 1;
        self.unacked.push_back((now, false));
        seq
    }

    /// The oldest unacknowledged segment is retransmitted.
    pub fn mark_retransmitted(&mut self) -> u64 {
        if let Some(first) = self.unacked.front_mut() {
            first.1 = true;
        }
        self.snd_una
    }

    /// The current retransmission timeout including backoff.
    pub fn timeout(&self, params: &StreamParams) -> u64 {
        let shifted = self.rto.saturating_mul(1u64 << self.backoff.min(32));
        shifted.min(params.rto_max.as_nanos())
    }

    /// The receiver gets segment `seq` (widened). Returns how many segments become
    /// deliverable to the application in order (0 for a gap, a duplicate or a segment of
    /// an older connection).
    pub fn receive(&mut self, seq: u64) -> u64 {
        if seq < self.rcv_nxt || seq < self.conn_start {
            return 0;
        }
        if seq > self.rcv_nxt {
            if !self.out_of_order.contains(&seq) {
                self.out_of_order.push(seq);
            }
            return 0;
        }
        let before = self.rcv_nxt;
        self.rcv_nxt += 1;
        while let Some(i) = self.out_of_order.iter().position(|&s| s == self.rcv_nxt) {
            self.out_of_order.swap_remove(i);
            self.rcv_nxt += 1;
        }
        self.rcv_nxt - before
    }

    /// The sender gets a cumulative acknowledgement `ack` (widened) at `now`. Returns
    /// whether it acknowledged new data (which resets the backoff).
    pub fn acknowledge(&mut self, ack: u64, now: u64, params: &StreamParams) -> bool {
        if ack <= self.snd_una || ack > self.snd_nxt {
            return false;
        }
        // Karn's rule: an acknowledgement covering a retransmitted segment is ambiguous
        // (it may answer either transmission, or a hole filled late), so it gives no
        // sample; otherwise the newest acknowledged segment, which triggered it, does.
        let mut newest_sent = 0;
        let mut ambiguous = false;
        while self.snd_una < ack {
            let (sent, retransmitted) = self.unacked.pop_front().expect("unacked segment");
            newest_sent = sent;
            ambiguous |= retransmitted;
            self.snd_una += 1;
        }
        if !ambiguous {
            self.update_rto(now.saturating_sub(newest_sent), params);
        }
        self.backoff = 0;
        true
    }

    /// RFC 6298 §2 with integer nanoseconds.
    fn update_rto(&mut self, r: u64, params: &StreamParams) {
        if self.has_rtt {
            let deviation = self.srtt.abs_diff(r);
            self.rttvar = (3 * self.rttvar + deviation) / 4;
            self.srtt = (7 * self.srtt + r) / 8;
        } else {
            self.srtt = r;
            self.rttvar = r / 2;
            self.has_rtt = true;
        }
        // Clock granularity G = 1 ms.
        let rto = self.srtt + (4 * self.rttvar).max(1_000_000);
        self.rto = rto.clamp(params.rto_min.as_nanos(), params.rto_max.as_nanos());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::time::SimDuration;

    fn params() -> StreamParams {
        StreamParams {
            rto_initial: SimDuration::from_secs(1),
            rto_min: SimDuration::from_millis(200),
            rto_max: SimDuration::from_secs(120),
            retries: 15,
        }
    }

    #[test]
    fn in_order_delivery_waits_for_the_gap() {
        let mut t = Tcp::new(&params());
        for now in 0..4 {
            t.send(now);
        }
        assert_eq!(t.receive(1), 0, "segment 0 missing: held");
        assert_eq!(t.receive(2), 0);
        assert_eq!(t.receive(2), 0, "duplicate ignored");
        assert_eq!(t.receive(0), 3, "gap filled: 0, 1, 2 delivered together");
        assert_eq!(t.receive(0), 0, "old duplicate ignored");
        assert_eq!(t.receive(3), 1);
        assert_eq!(t.rcv_nxt, 4);
    }

    #[test]
    fn rto_follows_rfc_6298_with_floor_backoff_and_cap() {
        let p = params();
        let mut t = Tcp::new(&p);
        assert_eq!(t.timeout(&p), 1_000_000_000, "initial RTO");
        t.send(0);
        assert!(t.acknowledge(1, 100_000_000, &p));
        // R = 100 ms: srtt 100 ms, rttvar 50 ms, RTO = 300 ms.
        assert_eq!(t.timeout(&p), 300_000_000);
        t.send(0);
        t.backoff = 3;
        assert_eq!(t.timeout(&p), 2_400_000_000, "doubled three times");
        t.backoff = 20;
        assert_eq!(t.timeout(&p), 120_000_000_000, "capped at rto_max");
        // A retransmitted segment's acknowledgement gives no sample (Karn).
        t.mark_retransmitted();
        assert!(t.acknowledge(2, 10_000_000_000, &p));
        assert_eq!(t.backoff, 0);
        assert_eq!(t.timeout(&p), 300_000_000);
        // A tiny RTT is floored at rto_min: R = 1 ms gives srtt + 4·rttvar = 3 ms.
        let mut fresh = Tcp::new(&p);
        fresh.send(0);
        fresh.acknowledge(1, 1_000_000, &p);
        assert_eq!(fresh.timeout(&p), 200_000_000);
    }

    #[test]
    fn widening_recovers_sequence_numbers_near_the_base() {
        assert_eq!(widen(5, 7), 7);
        assert_eq!(widen(5, 3), 3);
        assert_eq!(widen((1 << 32) + 2, u32::MAX), (1 << 32) - 1);
        assert_eq!(widen((1 << 32) - 1, 1), (1 << 32) + 1);
    }

    #[test]
    fn reconnect_discards_the_old_connection() {
        let p = params();
        let mut t = Tcp::new(&p);
        t.send(0);
        t.send(0);
        t.reconnect(&p);
        assert_eq!((t.conn_start, t.snd_una, t.rcv_nxt), (2, 2, 2));
        assert_eq!(
            t.receive(1),
            0,
            "a segment of the old connection is discarded"
        );
        assert_eq!(t.outstanding(), 0);
    }
}
