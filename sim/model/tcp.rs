//! The TCP-like stream transport of one client connection: sequence numbers, in-order
//! delivery at the receiver (head-of-line blocking), cumulative acknowledgements, and an
//! RFC 6298 retransmission timer (`srtt + 4·rttvar`, floored at `rto_min`, doubled per
//! consecutive timeout up to `rto_max`, Karn's rule for samples) with a retry budget
//! after which the connection breaks, as Linux's `tcp_retries2` does: a time budget,
//! not a count (`retransmits_timed_out` and `tcp_model_timeout` in
//! `net/ipv4/tcp_timer.c`; see [`retries_budget`]). The server's data towards a client
//! (`server_sends`) runs on the same state with Linux's tail-loss probe first
//! (`tcp_schedule_loss_probe` in `net/ipv4/tcp_output.c`; see [`Tcp::loss_probe_at`]).
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
    /// Linux `tcp_retries2`: the connection breaks once its retransmissions have lasted
    /// as long as this many would from `rto_min` ([`retries_budget`]).
    pub retries: u32,
    /// The server writes to the client at this rate (data in flight turns keepalive off).
    pub server_sends: Option<ServerSends>,
}

/// The server application writing to each client's connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerSends {
    /// Between writes.
    pub interval: SimDuration,
    /// Payload bytes of each write (headers are added on the wire).
    pub bytes: u32,
}

/// How long retransmissions may go on before the connection errors, ns: Linux's
/// `tcp_model_timeout(sk, boundary, TCP_RTO_MIN)`, the time `boundary` retransmissions
/// would take doubling from `rto_min` up to `rto_max` and then at `rto_max`:
/// `thresh = ilog2(rto_max / rto_min)`; `(2^(boundary+1) − 1)·rto_min` up to `thresh`,
/// else `(2^(thresh+1) − 1)·rto_min + (boundary − thresh)·rto_max`. For 15 and Linux's
/// 200 ms / 120 s: thresh 9, 1023 × 0.2 + 6 × 120 = 924.6 s; for 5: 63 × 0.2 = 12.6 s.
/// `retransmits_timed_out` compares it with the time since the first retransmission
/// (`retrans_stamp`) at each expiry of the timer.
pub fn retries_budget(boundary: u32, rto_min: u64, rto_max: u64) -> u64 {
    let thresh = (rto_max / rto_min.max(1)).max(1).ilog2();
    if boundary <= thresh {
        ((2u64 << boundary) - 1).saturating_mul(rto_min)
    } else {
        ((2u64 << thresh) - 1)
            .saturating_mul(rto_min)
            .saturating_add(((boundary - thresh) as u64).saturating_mul(rto_max))
    }
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
    /// Time of the first retransmission of the data outstanding (Linux's
    /// `retrans_stamp`), cleared when new data is acknowledged.
    pub retrans_stamp: Option<u64>,
    /// The armed timer is a tail-loss probe, not a retransmission timeout.
    pub probe_armed: bool,
    /// A tail-loss probe went out since new data was last acknowledged (one per episode).
    pub probed: bool,
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
            retrans_stamp: None,
            probe_armed: false,
            probed: false,
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

    /// Whether a retransmission timer expiring at `now` finds the connection timed out:
    /// it has retransmitted, and `budget` ns have passed since the first retransmission
    /// (`retransmits_timed_out`).
    pub fn timed_out(&self, now: u64, budget: u64) -> bool {
        self.backoff > 0 && self.retrans_stamp.is_some_and(|s| now - s >= budget)
    }

    /// When the first unacknowledged segment was sent.
    pub fn oldest_sent(&self) -> Option<u64> {
        self.unacked.front().map(|&(sent, _)| sent)
    }

    /// The newest unacknowledged segment is sent again by a tail-loss probe.
    pub fn mark_tail_retransmitted(&mut self) -> u64 {
        if let Some(last) = self.unacked.back_mut() {
            last.1 = true;
        }
        self.snd_nxt - 1
    }

    /// When a tail-loss probe fires for data sent, checked at `now`, as
    /// `tcp_schedule_loss_probe` computes it: two smoothed round trips, plus `rto_min`
    /// when one segment is outstanding (the peer may delay its acknowledgement) or
    /// `TCP_TIMEOUT_MIN` (2 ms) when more are, or `TCP_TIMEOUT_INIT` (1 s) without a
    /// round-trip sample; never later than the retransmission timeout would fire.
    /// `None` when no probe may go out (one was sent in this episode, or a
    /// retransmission is under way).
    pub fn loss_probe_at(&self, now: u64, params: &StreamParams) -> Option<u64> {
        if self.probed || self.backoff > 0 || self.outstanding() == 0 {
            return None;
        }
        let pto = if self.has_rtt {
            2 * self.srtt
                + if self.outstanding() == 1 {
                    params.rto_min.as_nanos()
                } else {
                    2_000_000
                }
        } else {
            1_000_000_000
        };
        Some(now.saturating_add(pto).min(self.rto_deadline(now, params)))
    }

    /// When the retransmission timeout fires, counted from the oldest unacknowledged
    /// segment's transmission (`tcp_rearm_rto`), and never before `now`.
    pub fn rto_deadline(&self, now: u64, params: &StreamParams) -> u64 {
        let from = self.oldest_sent().unwrap_or(now);
        from.saturating_add(self.timeout(params)).max(now)
    }

    /// The retransmission timeout a connection whose first round trip took `rtt` ns (the
    /// handshake) would have if it has no sample of its own since: RFC 6298's first-sample
    /// rule, `rtt + 4·rtt/2`, within `[rto_min, rto_max]`.
    pub fn timeout_after_handshake(&self, rtt: u64, params: &StreamParams) -> u64 {
        if self.has_rtt {
            return self.timeout(params);
        }
        let rto = rtt + (2 * rtt).max(1_000_000);
        rto.clamp(params.rto_min.as_nanos(), params.rto_max.as_nanos())
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
        self.retrans_stamp = None;
        self.probed = false;
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
            server_sends: None,
        }
    }

    #[test]
    fn the_retries_budget_is_linux_tcp_model_timeout() {
        // tcp_retries2 = 15 at Linux's TCP_RTO_MIN 200 ms, TCP_RTO_MAX 120 s:
        // ilog2(600) = 9; (2^10 - 1) · 0.2 s + 6 · 120 s = 924.6 s.
        assert_eq!(
            retries_budget(15, 200_000_000, 120_000_000_000),
            924_600_000_000
        );
        // 5: (2^6 - 1) · 0.2 s = 12.6 s; tcp_retries1's 3: 15 · 0.2 = 3 s.
        assert_eq!(
            retries_budget(5, 200_000_000, 120_000_000_000),
            12_600_000_000
        );
        assert_eq!(
            retries_budget(3, 200_000_000, 120_000_000_000),
            3_000_000_000
        );
        // Exactly at the threshold, 9: (2^10 - 1) · 0.2 = 204.6 s.
        assert_eq!(
            retries_budget(9, 200_000_000, 120_000_000_000),
            204_600_000_000
        );
        // The budget runs from the first retransmission: a timer expiring 924.6 s after
        // it errors the connection, one a nanosecond earlier does not.
        let p = params();
        let mut t = Tcp::new(&p);
        t.send(0);
        assert!(
            !t.timed_out(1_000 * 1_000_000_000, 1),
            "nothing retransmitted yet"
        );
        t.backoff = 1;
        t.retrans_stamp = Some(200_000_000);
        assert!(!t.timed_out(924_799_999_999, 924_600_000_000));
        assert!(t.timed_out(924_800_000_000, 924_600_000_000));
    }

    #[test]
    fn a_tail_loss_probe_comes_two_round_trips_plus_rto_min_after_a_lone_segment() {
        let p = params();
        let mut t = Tcp::new(&p);
        // Without a sample: TCP_TIMEOUT_INIT, capped by the initial 1 s RTO.
        t.send(0);
        assert_eq!(t.loss_probe_at(0, &p), Some(1_000_000_000));
        // A 10 ms round trip: srtt 10 ms, RTO 200 ms (floored).
        assert!(t.acknowledge(1, 10_000_000, &p));
        t.send(20_000_000);
        // One segment out: 2 · 10 ms + 200 ms = 220 ms, but the RTO (200 ms from the send)
        // comes first.
        assert_eq!(t.loss_probe_at(20_000_000, &p), Some(220_000_000));
        // Two out: 2 · 10 ms + 2 ms.
        t.send(30_000_000);
        assert_eq!(t.loss_probe_at(30_000_000, &p), Some(52_000_000));
        // One probe per episode.
        t.probed = true;
        assert_eq!(t.loss_probe_at(30_000_000, &p), None);
        // The handshake's round trip sets the RTO of a connection without samples.
        let fresh = Tcp::new(&p);
        assert_eq!(fresh.timeout_after_handshake(1_000_000, &p), 200_000_000);
        assert_eq!(fresh.timeout_after_handshake(100_000_000, &p), 300_000_000);
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
