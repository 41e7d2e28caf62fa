//! A member's broadcast queue: memberlist's `TransmitLimitedQueue` (`queue.go`).
//!
//! Every update a member learns (alive, suspect, dead) is queued once, replacing any
//! queued update about the same member (`memberlistBroadcast.Invalidates`: "any message
//! about the same node"). Each packet the member sends takes what fits: fewest
//! transmissions first, then the longest message, then the newest (`limitedBroadcast.Less`),
//! repeatedly at one transmission count before the next (`GetBroadcasts`); an update sent
//! `limit` times is dropped (`keep.transmits+1 >= transmitLimit`).

use super::Part;

/// One queued update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Queued {
    part: Part,
    transmits: u32,
    id: u64,
    len: u32,
}

/// A member's queue of updates to piggyback and gossip.
#[derive(Clone, Debug, Default)]
pub struct Broadcasts {
    items: Vec<Queued>,
    next_id: u64,
}

impl Broadcasts {
    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// How many updates are queued.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Queues `part` (an update about `part.about()`), replacing an older one about the
    /// same member.
    pub fn queue(&mut self, part: Part) {
        let about = part.about();
        self.items.retain(|q| q.part.about() != about);
        self.next_id += 1;
        self.items.push(Queued {
            part,
            transmits: 0,
            id: self.next_id,
            len: part.bytes(),
        });
    }

    /// Forgets everything (a crashed process).
    pub fn clear(&mut self) {
        self.items.clear();
    }

    /// `GetBroadcasts(overhead, limit)`: appends to `out` the updates that fit in `limit`
    /// bytes with `overhead` bytes each, counting one transmission of each; an update
    /// that reaches `transmit_limit` transmissions is dropped.
    pub fn take(&mut self, overhead: u32, limit: u32, transmit_limit: u32, out: &mut Vec<Part>) {
        if self.items.is_empty() {
            return;
        }
        let mut used = 0u32;
        let mut taken: Vec<usize> = Vec::new();
        let (lo, hi) = self.items.iter().fold((u32::MAX, 0), |(lo, hi), q| {
            (lo.min(q.transmits), hi.max(q.transmits))
        });
        let mut level = lo;
        while level <= hi {
            let free = limit as i64 - used as i64 - overhead as i64;
            if free <= 0 {
                break;
            }
            // The first item in `Less` order at this level that fits: the longest, then
            // the newest.
            let pick = self
                .items
                .iter()
                .enumerate()
                .filter(|(i, q)| {
                    q.transmits == level && (q.len as i64) <= free && !taken.contains(i)
                })
                .max_by_key(|(_, q)| (q.len, q.id))
                .map(|(i, _)| i);
            match pick {
                Some(i) => {
                    used += overhead + self.items[i].len;
                    out.push(self.items[i].part);
                    taken.push(i);
                }
                None => level += 1,
            }
        }
        let mut sent = vec![false; self.items.len()];
        for &i in &taken {
            self.items[i].transmits += 1;
            sent[i] = true;
        }
        let mut i = 0;
        self.items.retain(|q| {
            let keep = !(sent[i] && q.transmits >= transmit_limit);
            i += 1;
            keep
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alive(node: u32, inc: u32) -> Part {
        Part::Alive { node, inc }
    }

    #[test]
    fn a_newer_update_about_a_member_replaces_the_queued_one() {
        let mut q = Broadcasts::default();
        q.queue(alive(1, 0));
        q.queue(alive(2, 0));
        q.queue(Part::Suspect {
            node: 1,
            inc: 0,
            from: 3,
        });
        assert_eq!(q.len(), 2);
        let mut out = Vec::new();
        q.take(2, 1400, 10, &mut out);
        assert!(out.contains(&Part::Suspect {
            node: 1,
            inc: 0,
            from: 3
        }));
        assert!(!out.contains(&alive(1, 0)));
    }

    #[test]
    fn updates_go_out_fewest_transmissions_first_and_stop_at_the_limit() {
        let mut q = Broadcasts::default();
        q.queue(alive(1, 0));
        let mut out = Vec::new();
        q.take(2, 1400, 3, &mut out);
        q.queue(alive(2, 0));
        // Room for exactly one update: the one sent fewer times goes.
        let one = alive(2, 0).bytes() + 2;
        out.clear();
        q.take(2, one + 2, 3, &mut out);
        assert_eq!(out, vec![alive(2, 0)]);
        out.clear();
        q.take(2, 1400, 3, &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(q.len(), 2, "each sent twice, below the limit of 3");
        out.clear();
        q.take(2, 1400, 3, &mut out);
        assert_eq!(out.len(), 2);
        assert!(q.is_empty(), "each sent three times: dropped");
    }

    #[test]
    fn a_packet_takes_only_what_fits() {
        let mut q = Broadcasts::default();
        for node in 0..100 {
            q.queue(alive(node, 0));
        }
        let mut out = Vec::new();
        q.take(2, 1400, 100, &mut out);
        let per = alive(0, 0).bytes() + 2;
        assert_eq!(out.len() as u32, 1400 / per);
        // Newest first among equals.
        assert_eq!(out[0], alive(99, 0));
    }
}
