//! The typed events of a run and their packing into queue entries.
//!
//! This is the only code that knows the layout: a queue entry holds the event's class
//! (its same-instant order, DESIGN §4), a 4-bit kind within the class and two 32-bit
//! words, so that an entry stays at 24 bytes. The kind never affects order (it is stored
//! below the unique scheduling number).

use crate::base::queue::EventQueue;
use crate::model::detector::{WakeClass, DETECTORS_MAX};

/// Same-instant classes, in processing order (DESIGN §4).
pub const CLASS_FAULT: u8 = 0;
/// Packets arriving.
pub const CLASS_DELIVER: u8 = 1;
/// Detector evaluations (scans, timeouts).
pub const CLASS_EVALUATE: u8 = 2;
/// Sends (heartbeat, retransmission and probe timers).
pub const CLASS_SEND: u8 = 3;

/// The two words an event carries in the queue.
#[derive(Clone, Copy, Debug)]
pub struct Payload {
    a: u32,
    b: u32,
}

/// A datagram carries the low 31 bits of its heartbeat's sequence number beside its
/// copy flag; the receiver widens them against the sender's count (see
/// [`widen_seq`]).
pub const SEQ_MASK: u32 = (1 << 31) - 1;

/// The sequence number below `next` (the sender's next number) whose low 31 bits are
/// `low`: heartbeats in flight are fewer than 2^31 numbers behind their sender.
#[inline]
pub fn widen_seq(next: u64, low: u32) -> u64 {
    let top = next.saturating_sub(1);
    top - (top.wrapping_sub(low as u64) & SEQ_MASK as u64)
}

/// Detector indices travel in the top 8 bits of a word, tags in the low 24.
const TAG_BITS: u32 = 24;
const TAG_MASK: u32 = (1 << TAG_BITS) - 1;
/// Every detector's number fits above the tag.
const _: () = assert!(DETECTORS_MAX <= 1 << (32 - TAG_BITS));

/// One thing that happens at an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Scenario fault number `index` takes effect.
    Fault {
        /// Index into the scenario's faults.
        index: u32,
    },
    /// A churning client goes down.
    ChurnDown {
        /// The client.
        client: u32,
        /// The churn fault driving it.
        fault: u32,
    },
    /// A churning client comes back.
    ChurnUp {
        /// The client.
        client: u32,
        /// The churn fault driving it.
        fault: u32,
    },
    /// A server stall may end.
    StallEnd,
    /// A client's stream connection for a detector is (re)established.
    Connect {
        /// The client.
        client: u32,
        /// The detector watching the connection.
        detector: u32,
    },
    /// A datagram heartbeat arrives at the server (`copy` for a duplicate or a recorded
    /// arrival queued late, which was already counted).
    Datagram {
        /// The sender.
        client: u32,
        /// Not to be counted as delivered again.
        copy: bool,
        /// Low 31 bits of the heartbeat's sequence number (0 when no detector reads it).
        seq: u32,
    },
    /// A stream segment arrives at the server.
    Segment {
        /// The sender.
        client: u32,
        /// Low 32 bits of its sequence number.
        low: u32,
    },
    /// A stream acknowledgement arrives at the client.
    Ack {
        /// The receiver.
        client: u32,
        /// Low 32 bits of the acknowledged sequence number.
        low: u32,
    },
    /// A detector's probe reaches the peer (the client, or the server for a client's ping).
    ProbeAtPeer {
        /// The client whose path it travels.
        client: u32,
        /// The probing detector.
        detector: u32,
        /// The probe's tag.
        tag: u32,
    },
    /// The answer to a probe reaches the detector's host.
    ProbeReply {
        /// The client whose path it travels.
        client: u32,
        /// The probing detector.
        detector: u32,
        /// The probe's tag.
        tag: u32,
    },
    /// The FIN/RST of a crashed client process reaches the server.
    Fin {
        /// The client.
        client: u32,
        /// The detector watching the connection.
        detector: u32,
    },
    /// A detector's wake-up.
    Timer {
        /// The client it concerns.
        client: u32,
        /// The detector.
        detector: u32,
        /// Evaluation or send class.
        class: WakeClass,
        /// The detector's tag.
        tag: u32,
    },
    /// The client's heartbeat timer fires.
    Send {
        /// The client.
        client: u32,
        /// Its generation when armed (a crash or restart makes it stale).
        generation: u32,
    },
    /// The client's retransmission timer fires.
    Rto {
        /// The client.
        client: u32,
        /// The timer's generation when armed.
        generation: u32,
    },
    /// The retransmission timer of a crashed process's FIN fires (its kernel sends it
    /// again unless the server closed the connection).
    FinRto {
        /// The client.
        client: u32,
        /// The detector watching the connection.
        detector: u32,
        /// Retransmissions so far, this one included.
        attempt: u32,
    },
    /// The server application writes to a client's connection (`server_sends`).
    ServerWrite {
        /// The client.
        client: u32,
        /// The detector whose connection it is.
        detector: u32,
        /// The connection's generation when the write was scheduled (low 24 bits).
        generation: u32,
    },
    /// A server data segment reaches the client's kernel.
    ServerSegment {
        /// The client.
        client: u32,
        /// The detector whose connection it is.
        detector: u32,
        /// Low 24 bits of its sequence number.
        low: u32,
    },
    /// The client's acknowledgement of server data reaches the server.
    ServerAck {
        /// The client.
        client: u32,
        /// The detector whose connection it is.
        detector: u32,
        /// Low 24 bits of the acknowledged sequence number.
        low: u32,
    },
    /// A `swim` detector's packet reaches its receiver.
    SwimMsg {
        /// The packet's slot in the detector's store.
        slot: u32,
        /// The detector.
        detector: u32,
    },
    /// A `swim` member's wake-up.
    SwimWake {
        /// The member.
        member: u32,
        /// The detector.
        detector: u32,
        /// The wake-up (`model::swim::Wake::tag`).
        tag: u32,
    },
    /// The retransmission (or tail-loss probe) timer of server data fires.
    ServerRto {
        /// The client.
        client: u32,
        /// The detector whose connection it is.
        detector: u32,
        /// The timer's generation when armed (low 24 bits).
        generation: u32,
    },
}

// Kinds: one number per event within its class (the queue stores both); unpacking reads
// the pair. They fit in the queue's 4 bits. The numbers never affect order.
const K_SEND: u8 = 0;
const K_DATAGRAM: u8 = 1;
const K_TIMER: u8 = 2;
const K_SEGMENT: u8 = 3;
const K_ACK: u8 = 4;
const K_RTO: u8 = 5;
const K_SEND_TIMER: u8 = 6;
const K_PROBE_AT_PEER: u8 = 7;
const K_PROBE_REPLY: u8 = 8;
const K_FIN: u8 = 9;
const K_FAULT: u8 = 10;
const K_CHURN_DOWN: u8 = 11;
const K_CHURN_UP: u8 = 12;
const K_STALL_END: u8 = 13;
const K_CONNECT: u8 = 14;
// Deliveries.
const K_SWIM_MSG: u8 = 12;
const K_SERVER_SEGMENT: u8 = 10;
const K_SERVER_ACK: u8 = 11;
// Evaluations.
const K_SWIM_WAKE: u8 = 3;
// Sends.
const K_FIN_RTO: u8 = 1;
const K_SERVER_WRITE: u8 = 2;
const K_SERVER_RTO: u8 = 3;

/// Class and kind as one number (both fit in 4 bits).
#[inline(always)]
const fn key(class: u8, kind: u8) -> u8 {
    (class << 4) | kind
}

// Class and kind together, as `unpack` matches them.
const P_SEND: u8 = key(CLASS_SEND, K_SEND);
const P_DATAGRAM: u8 = key(CLASS_DELIVER, K_DATAGRAM);
const P_TIMER: u8 = key(CLASS_EVALUATE, K_TIMER);
const P_SEGMENT: u8 = key(CLASS_DELIVER, K_SEGMENT);
const P_ACK: u8 = key(CLASS_DELIVER, K_ACK);
const P_RTO: u8 = key(CLASS_SEND, K_RTO);
const P_SEND_TIMER: u8 = key(CLASS_SEND, K_SEND_TIMER);
const P_PROBE_AT_PEER: u8 = key(CLASS_DELIVER, K_PROBE_AT_PEER);
const P_PROBE_REPLY: u8 = key(CLASS_DELIVER, K_PROBE_REPLY);
const P_FIN: u8 = key(CLASS_DELIVER, K_FIN);
const P_FAULT: u8 = key(CLASS_FAULT, K_FAULT);
const P_CHURN_DOWN: u8 = key(CLASS_FAULT, K_CHURN_DOWN);
const P_CHURN_UP: u8 = key(CLASS_FAULT, K_CHURN_UP);
const P_STALL_END: u8 = key(CLASS_FAULT, K_STALL_END);
const P_CONNECT: u8 = key(CLASS_FAULT, K_CONNECT);
const P_FIN_RTO: u8 = key(CLASS_SEND, K_FIN_RTO);
const P_SERVER_WRITE: u8 = key(CLASS_SEND, K_SERVER_WRITE);
const P_SERVER_SEGMENT: u8 = key(CLASS_DELIVER, K_SERVER_SEGMENT);
const P_SERVER_ACK: u8 = key(CLASS_DELIVER, K_SERVER_ACK);
const P_SERVER_RTO: u8 = key(CLASS_SEND, K_SERVER_RTO);
const P_SWIM_MSG: u8 = key(CLASS_DELIVER, K_SWIM_MSG);
const P_SWIM_WAKE: u8 = key(CLASS_EVALUATE, K_SWIM_WAKE);

#[inline]
fn with_detector(detector: u32, tag: u32) -> u32 {
    debug_assert!((detector as usize) < DETECTORS_MAX && tag <= TAG_MASK);
    (detector << TAG_BITS) | (tag & TAG_MASK)
}

impl Event {
    /// The event's class, kind and payload.
    #[inline(always)]
    pub fn pack(self) -> (u8, u8, Payload) {
        let p = |a, b| Payload { a, b };
        match self {
            Event::Fault { index } => (CLASS_FAULT, K_FAULT, p(index, 0)),
            Event::ChurnDown { client, fault } => (CLASS_FAULT, K_CHURN_DOWN, p(client, fault)),
            Event::ChurnUp { client, fault } => (CLASS_FAULT, K_CHURN_UP, p(client, fault)),
            Event::StallEnd => (CLASS_FAULT, K_STALL_END, p(0, 0)),
            Event::Connect { client, detector } => (CLASS_FAULT, K_CONNECT, p(client, detector)),
            Event::Datagram { client, copy, seq } => {
                debug_assert!(seq <= SEQ_MASK);
                (CLASS_DELIVER, K_DATAGRAM, p(client, seq << 1 | copy as u32))
            }
            Event::Segment { client, low } => (CLASS_DELIVER, K_SEGMENT, p(client, low)),
            Event::Ack { client, low } => (CLASS_DELIVER, K_ACK, p(client, low)),
            Event::ProbeAtPeer {
                client,
                detector,
                tag,
            } => (
                CLASS_DELIVER,
                K_PROBE_AT_PEER,
                p(client, with_detector(detector, tag)),
            ),
            Event::ProbeReply {
                client,
                detector,
                tag,
            } => (
                CLASS_DELIVER,
                K_PROBE_REPLY,
                p(client, with_detector(detector, tag)),
            ),
            Event::Fin { client, detector } => (CLASS_DELIVER, K_FIN, p(client, detector)),
            Event::Timer {
                client,
                detector,
                class,
                tag,
            } => {
                let class = match class {
                    WakeClass::Evaluate => CLASS_EVALUATE,
                    WakeClass::Send => CLASS_SEND,
                };
                let kind = if class == CLASS_SEND {
                    K_SEND_TIMER
                } else {
                    K_TIMER
                };
                (class, kind, p(client, with_detector(detector, tag)))
            }
            Event::Send { client, generation } => (CLASS_SEND, K_SEND, p(client, generation)),
            Event::Rto { client, generation } => (CLASS_SEND, K_RTO, p(client, generation)),
            Event::FinRto {
                client,
                detector,
                attempt,
            } => (
                CLASS_SEND,
                K_FIN_RTO,
                p(client, with_detector(detector, attempt)),
            ),
            Event::ServerWrite {
                client,
                detector,
                generation,
            } => (
                CLASS_SEND,
                K_SERVER_WRITE,
                p(client, with_detector(detector, generation)),
            ),
            Event::ServerSegment {
                client,
                detector,
                low,
            } => (
                CLASS_DELIVER,
                K_SERVER_SEGMENT,
                p(client, with_detector(detector, low)),
            ),
            Event::ServerAck {
                client,
                detector,
                low,
            } => (
                CLASS_DELIVER,
                K_SERVER_ACK,
                p(client, with_detector(detector, low)),
            ),
            Event::SwimMsg { slot, detector } => (CLASS_DELIVER, K_SWIM_MSG, p(slot, detector)),
            Event::SwimWake {
                member,
                detector,
                tag,
            } => (
                CLASS_EVALUATE,
                K_SWIM_WAKE,
                p(member, with_detector(detector, tag)),
            ),
            Event::ServerRto {
                client,
                detector,
                generation,
            } => (
                CLASS_SEND,
                K_SERVER_RTO,
                p(client, with_detector(detector, generation)),
            ),
        }
    }

    /// The event packed as `(class, kind, payload)`.
    #[inline(always)]
    pub fn unpack(class: u8, kind: u8, payload: Payload) -> Event {
        let Payload { a, b } = payload;
        let (d, t) = (b >> TAG_BITS, b & TAG_MASK);
        // One integer to match on: class and kind side by side.
        match key(class, kind) {
            P_SEND => Event::Send {
                client: a,
                generation: b,
            },
            P_DATAGRAM => Event::Datagram {
                client: a,
                copy: b & 1 != 0,
                seq: b >> 1,
            },
            P_TIMER => Event::Timer {
                client: a,
                detector: b >> TAG_BITS,
                class: WakeClass::Evaluate,
                tag: b & TAG_MASK,
            },
            P_SEGMENT => Event::Segment { client: a, low: b },
            P_ACK => Event::Ack { client: a, low: b },
            P_RTO => Event::Rto {
                client: a,
                generation: b,
            },
            P_SEND_TIMER => Event::Timer {
                client: a,
                detector: b >> TAG_BITS,
                class: WakeClass::Send,
                tag: b & TAG_MASK,
            },
            P_PROBE_AT_PEER => Event::ProbeAtPeer {
                client: a,
                detector: b >> TAG_BITS,
                tag: b & TAG_MASK,
            },
            P_PROBE_REPLY => Event::ProbeReply {
                client: a,
                detector: b >> TAG_BITS,
                tag: b & TAG_MASK,
            },
            P_FIN => Event::Fin {
                client: a,
                detector: b,
            },
            P_FAULT => Event::Fault { index: a },
            P_CHURN_DOWN => Event::ChurnDown {
                client: a,
                fault: b,
            },
            P_CHURN_UP => Event::ChurnUp {
                client: a,
                fault: b,
            },
            P_STALL_END => Event::StallEnd,
            P_CONNECT => Event::Connect {
                client: a,
                detector: b,
            },
            P_FIN_RTO => Event::FinRto {
                client: a,
                detector: d,
                attempt: t,
            },
            P_SERVER_WRITE => Event::ServerWrite {
                client: a,
                detector: d,
                generation: t,
            },
            P_SERVER_SEGMENT => Event::ServerSegment {
                client: a,
                detector: d,
                low: t,
            },
            P_SERVER_ACK => Event::ServerAck {
                client: a,
                detector: d,
                low: t,
            },
            P_SERVER_RTO => Event::ServerRto {
                client: a,
                detector: d,
                generation: t,
            },
            P_SWIM_MSG => Event::SwimMsg {
                slot: a,
                detector: b,
            },
            P_SWIM_WAKE => Event::SwimWake {
                member: a,
                detector: d,
                tag: t,
            },
            _ => unreachable!("no event of class {class} kind {kind}"),
        }
    }
}

/// The run's queue of typed events.
pub struct Queue {
    inner: EventQueue<Payload>,
}

impl Queue {
    /// A queue sized for `events_per_sec` events scheduled up to `horizon_ns` ahead.
    pub fn for_workload(events_per_sec: f64, horizon_ns: u64) -> Self {
        Queue {
            inner: EventQueue::for_workload(events_per_sec, horizon_ns),
        }
    }

    /// Schedules `event` at `at`, after everything already scheduled for that instant and
    /// class.
    #[inline]
    pub fn push(&mut self, at: u64, event: Event) {
        let (class, kind, payload) = event.pack();
        self.inner.push(at, class, kind, payload);
    }

    /// Takes the next scheduling-order number without scheduling anything yet.
    #[inline]
    pub fn reserve_seq(&mut self) -> u64 {
        self.inner.reserve_seq()
    }

    /// Schedules `event` at `at` with the scheduling order `seq` reserved earlier.
    #[inline]
    pub fn push_with_seq(&mut self, at: u64, seq: u64, event: Event) {
        let (class, kind, payload) = event.pack();
        self.inner.push_with_seq(at, class, kind, seq, payload);
    }

    /// The first word of the event `k` places after the next one (the client, for the
    /// events of a client), if the bucket being drained holds it: a prefetching hint.
    #[inline]
    pub fn word_ahead(&self, k: usize) -> Option<u32> {
        self.inner.ahead(k).map(|p| p.a)
    }

    /// The next event and its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(u64, Event)> {
        let (at, class, kind, payload) = self.inner.pop()?;
        Some((at, Event::unpack(class, kind, payload)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_survives_packing() {
        let events = [
            Event::Fault { index: 7 },
            Event::ChurnDown {
                client: 3,
                fault: 1,
            },
            Event::ChurnUp {
                client: 3,
                fault: 1,
            },
            Event::StallEnd,
            Event::Connect {
                client: 9,
                detector: 2,
            },
            Event::Datagram {
                client: 5,
                copy: true,
                seq: SEQ_MASK,
            },
            Event::Segment {
                client: 5,
                low: u32::MAX,
            },
            Event::Ack { client: 5, low: 1 },
            Event::ProbeAtPeer {
                client: 1,
                detector: 255,
                tag: TAG_MASK,
            },
            Event::ProbeReply {
                client: 1,
                detector: 3,
                tag: 4,
            },
            Event::Fin {
                client: 1,
                detector: 3,
            },
            Event::Timer {
                client: u32::MAX,
                detector: 0,
                class: WakeClass::Evaluate,
                tag: 0,
            },
            Event::Timer {
                client: 0,
                detector: 7,
                class: WakeClass::Send,
                tag: 12,
            },
            Event::Send {
                client: 2,
                generation: 9,
            },
            Event::Rto {
                client: 2,
                generation: 9,
            },
            Event::FinRto {
                client: 4,
                detector: 255,
                attempt: 8,
            },
            Event::ServerWrite {
                client: 4,
                detector: 1,
                generation: TAG_MASK,
            },
            Event::ServerSegment {
                client: 4,
                detector: 2,
                low: 77,
            },
            Event::ServerAck {
                client: 4,
                detector: 2,
                low: 78,
            },
            Event::ServerRto {
                client: 4,
                detector: 2,
                generation: 5,
            },
            Event::SwimMsg {
                slot: u32::MAX,
                detector: 255,
            },
            Event::SwimWake {
                member: 9,
                detector: 255,
                tag: TAG_MASK,
            },
        ];
        let mut kinds = std::collections::BTreeSet::new();
        for e in events {
            let (class, kind, payload) = e.pack();
            assert!(kind < 16, "kinds fit in 4 bits");
            assert!(kinds.insert((class, kind)), "{e:?} shares its kind");
            assert_eq!(Event::unpack(class, kind, payload), e);
        }
        let e = Event::Datagram {
            client: 5,
            copy: false,
            seq: 7,
        };
        let (class, kind, payload) = e.pack();
        assert_eq!(Event::unpack(class, kind, payload), e);
    }

    #[test]
    fn sequence_numbers_widen_to_the_latest_match_below_the_senders_count() {
        assert_eq!(widen_seq(0, 0), 0);
        assert_eq!(widen_seq(5, 3), 3);
        assert_eq!(widen_seq(5, 4), 4);
        let big = (1u64 << 31) + 5;
        assert_eq!(widen_seq(big, SEQ_MASK), (1 << 31) - 1);
        assert_eq!(widen_seq(big, 4), big - 1);
        assert_eq!(widen_seq(big, 0), 1 << 31);
        assert_eq!(widen_seq(10 << 31, 7), (9 << 31) + 7);
    }
}
