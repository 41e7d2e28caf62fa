//! Heartbeats: the client's timer, the uplink's verdict on each packet, recorded or queued
//! arrivals, and the server application receiving them.

use super::event::{widen_seq, Event, SEQ_MASK};
use super::{World, NEVER};
use crate::base::rng;
use crate::base::rng::Purpose;
use crate::model::client::{scaled, Schedule};
use crate::model::detector::Input;
use crate::oracle::Trace;

impl World<'_> {
    /// The client's heartbeat timer fires.
    pub(super) fn on_send(&mut self, id: u32, generation: u32) {
        let now = self.now;
        let ci = id as usize;
        let c = &mut self.clients[ci];
        if c.generation != generation || !c.up {
            return;
        }
        if c.disturbed && now < self.cold[ci].paused_until {
            // A paused process cannot send; its timer is serviced when it resumes.
            let resume = self.cold[ci].paused_until;
            if resume < self.end {
                self.queue.push(
                    resume,
                    Event::Send {
                        client: id,
                        generation,
                    },
                );
            }
            return;
        }
        let gi = c.group as usize;
        let g = &self.groups[gi];
        let acc = &mut self.group_acc[gi];
        acc.heartbeats_sent += 1;
        acc.bytes_up += g.bytes;
        if g.stream.is_some() {
            self.stream_send(id);
        } else {
            self.datagram_send(id);
        }
        let grid = self.clients[ci].grid;
        self.schedule_next_send(id, generation);
        if let Some(n) = self.numbering.get_mut(ci) {
            // The next number is the next schedule slot: a fixed-rate client that skipped
            // grid points skips their numbers.
            let c = &self.clients[ci];
            let g = &self.groups[c.group as usize];
            n.next += match g.timing.schedule {
                Schedule::FixedRate if c.grid > grid => {
                    let step = if g.drifts {
                        scaled(g.timing.interval, self.cold[ci].timer_scale)
                    } else {
                        g.timing.interval
                    };
                    ((c.grid - grid) / step.max(1)).max(1)
                }
                Schedule::FixedRate | Schedule::FixedDelay => 1,
            };
        }
    }

    fn schedule_next_send(&mut self, id: u32, generation: u32) {
        let ci = id as usize;
        let c = &mut self.clients[ci];
        let g = &self.groups[c.group as usize];
        // Jitter is drawn in [0, 2·jitter] and shifted back, so it is never negative.
        let jitter = if g.timing.jitter > 0 {
            rng::between(self.rng.of(Purpose::Jitter, ci), 0, 2 * g.timing.jitter)
        } else {
            0
        };
        let overshoot = match &g.overshoot {
            Some(d) => d.sample(self.rng.of(Purpose::Overshoot, ci)),
            None => 0,
        };
        // Only a drifting group's clients have a timer scale (in their cold state).
        let scale = if g.drifts {
            self.cold[ci].timer_scale
        } else {
            1.0
        };
        let next = g
            .timing
            .next_send(&mut c.grid, self.now, jitter, overshoot, scale);
        if next < self.end {
            self.queue.push(
                next,
                Event::Send {
                    client: id,
                    generation,
                },
            );
        }
    }

    /// Whether the client's links are cut at `t`.
    #[inline]
    pub(super) fn partitioned(&self, ci: usize, t: u64) -> bool {
        self.clients[ci].disturbed && t < self.cold[ci].partitioned_until
    }

    /// The delay and fate of the next packet on client `ci`'s uplink. Both draws happen
    /// for every packet, lost or not, so that each stream stays aligned with the send
    /// sequence whatever the other settings (common random numbers across loss settings).
    #[inline]
    pub(super) fn uplink_draw(&mut self, ci: usize) -> (u64, bool) {
        let partitioned = self.partitioned(ci, self.now);
        let c = &mut self.clients[ci];
        let g = &self.groups[c.group as usize];
        let delay = g.uplink.delay(self.rng.get(Purpose::UplinkDelay, ci));
        let lost = g
            .uplink
            .lost(&mut c.uplink_bad, self.rng.get(Purpose::UplinkLoss, ci))
            || partitioned;
        (delay, lost)
    }

    /// Sends one datagram heartbeat (and perhaps a duplicate) on the uplink. The
    /// duplicate draw is made only for a heartbeat that is not lost.
    fn datagram_send(&mut self, id: u32) {
        let now = self.now;
        let ci = id as usize;
        let (delay, lost) = self.uplink_draw(ci);
        let gi = self.clients[ci].group as usize;
        let g = &self.groups[gi];
        let acc = &mut self.group_acc[gi];
        if lost {
            acc.lost += 1;
            return;
        }
        let duplicate = g
            .uplink
            .duplicate(self.rng.get(Purpose::UplinkDuplicate, ci));
        if duplicate.is_some() {
            acc.duplicated += 1;
        }
        // The copy is applied like the original but counted only as a duplicate.
        let seq = self
            .numbering
            .get(ci)
            .map_or(0, |n| n.next as u32 & SEQ_MASK);
        self.datagram_in_flight(id, now.saturating_add(delay), false, seq);
        if let Some(d) = duplicate {
            self.datagram_in_flight(id, now.saturating_add(d), true, seq);
        }
    }

    /// Schedules the arrival of a datagram at `at`, or records it in the client.
    #[inline]
    fn datagram_in_flight(&mut self, id: u32, at: u64, copy: bool, seq: u32) {
        if at >= self.end {
            return;
        }
        let now = self.now;
        let c = &mut self.clients[id as usize];
        // While every detector holds the client online, an arrival changes nothing but
        // `last_arrival`, which only that client's checks read. It is then recorded in the
        // client instead of queued, and applied when a check (or a queued delivery)
        // looks; if a detector turns the client offline before it arrives, it is queued
        // then with the scheduling order reserved now, so the result is the same as
        // queueing every delivery.
        let order = self.queue.reserve_seq();
        if self.lazy_arrivals && c.online_in == self.n_detectors {
            // Arrivals up to now have happened (deliveries precede sends at one
            // instant); applying them frees their slots.
            c.settle(now);
            if let Some(slot) = c.in_flight.iter_mut().find(|s| s.0 == NEVER) {
                *slot = (at, order);
                // Every recorded arrival is applied before the end.
                self.group_acc[c.group as usize].delivered += !copy as u64;
                return;
            }
        }
        self.queue.push_with_seq(
            at,
            order,
            Event::Datagram {
                client: id,
                copy,
                seq,
            },
        );
    }

    /// A queued datagram (`copy` for a duplicate) reaches the server, unless the link was
    /// cut meanwhile.
    pub(super) fn on_datagram(&mut self, id: u32, copy: bool, low: u32, trace: &mut Trace<'_>) {
        let ci = id as usize;
        let gi = self.clients[ci].group as usize;
        let original = !copy;
        if self.partitioned(ci, self.now) {
            self.group_acc[gi].lost += original as u64;
            return;
        }
        self.group_acc[gi].delivered += original as u64;
        let seq = self.numbering.get(ci).map_or(0, |n| widen_seq(n.next, low));
        self.arrive(id, seq, trace);
    }

    /// A heartbeat reaches the server application, or waits if the server is stalled.
    /// `seq` is its sequence number (0 where no detector reads it).
    pub(super) fn arrive(&mut self, id: u32, seq: u64, trace: &mut Trace<'_>) {
        if !self.server.up {
            return; // nobody is listening
        }
        if self.server.stalled(self.now) {
            self.server.backlog.push((id, seq));
        } else {
            self.apply_arrival(id, seq, trace);
        }
    }

    /// The server records a heartbeat of client `id` at `now` and tells every detector.
    pub(super) fn apply_arrival(&mut self, id: u32, seq: u64, trace: &mut Trace<'_>) {
        let now = self.now;
        let ci = id as usize;
        let c = &mut self.clients[ci];
        c.settle(now);
        c.last_arrival = now;
        let clock_stepped = self.server.clock_stepped;
        if clock_stepped && self.cold[ci].stamp_offset != self.server.clock_offset {
            self.cold.get_mut(ci).stamp_offset = self.server.clock_offset;
        }
        for di in 0..self.detectors.len() {
            self.feed(di, ci, Input::Heartbeat { clock_stepped, seq }, trace);
        }
    }
}
