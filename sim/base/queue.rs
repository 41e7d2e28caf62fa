//! The event queue: a timing wheel (calendar queue) with an overflow heap.
//!
//! Order is total and independent of the structure: entries come out by
//! `(time, class, seq)`, where `class` is the same-instant class of DESIGN §4 (faults,
//! deliveries, detector evaluations, sends) and `seq` is the global scheduling order. Each
//! entry also carries a small `kind` (which event of its class it is), stored below `seq`
//! where it can never affect the order, since `seq` is unique. The
//! wheel only makes it fast: events a bounded time ahead (heartbeats, deliveries) land in
//! a bucket in O(1); a bucket is sorted once when time reaches it; the rare event beyond
//! the wheel's horizon waits in a binary heap. Buckets keep their capacity, so a run in
//! steady state allocates nothing per event.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// Capacity (entries) a bucket keeps after it is drained.
const BUCKET_KEEP: usize = 32;

/// Capacity (entries) above which the bucket being drained gives memory back.
const SHRINK_FROM: usize = 1 << 14;

/// Bits of `Entry::order` below the class.
const CLASS_SHIFT: u32 = 60;
/// Bits of `Entry::order` below the scheduling order (they hold the kind).
const SEQ_SHIFT: u32 = 4;
const KIND_MASK: u64 = (1 << SEQ_SHIFT) - 1;

struct Entry<T> {
    time: u64,
    /// `class << 60 | seq << 4 | kind`: the tie-breakers after time, packed in one integer.
    order: u64,
    item: T,
}

impl<T> Entry<T> {
    /// `(time, order)` as one 128-bit number, which orders like the pair.
    #[inline]
    fn key(&self) -> u128 {
        ((self.time as u128) << 64) | self.order as u128
    }

    #[inline]
    fn unpack(self) -> (u64, u8, u8, T) {
        (
            self.time,
            (self.order >> CLASS_SHIFT) as u8,
            (self.order & KIND_MASK) as u8,
            self.item,
        )
    }
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

/// A min-queue of `T` ordered by `(time, class, scheduling order)`.
pub struct EventQueue<T> {
    /// Bucket width is `1 << shift` nanoseconds.
    shift: u32,
    /// Number of buckets minus one (the count is a power of two).
    mask: u64,
    buckets: Vec<Vec<Entry<T>>>,
    /// One bit per bucket: set when the bucket holds entries.
    occupied: Vec<u64>,
    wheel_len: usize,
    /// Absolute number of the bucket being drained (`time >> shift`).
    cur: u64,
    /// The current bucket, sorted descending so that `pop` takes from the end.
    current: Vec<Entry<T>>,
    /// Entries scheduled into the current bucket after it was sorted.
    late: BinaryHeap<Reverse<Entry<T>>>,
    /// Entries beyond the wheel's horizon.
    overflow: BinaryHeap<Reverse<Entry<T>>>,
    /// Drained buckets' buffers, handed to the next empty bucket that receives an entry:
    /// only buckets that hold entries own memory, so a wheel much longer than the
    /// scheduling distance costs a header per bucket, not a buffer.
    spare: Vec<Vec<Entry<T>>>,
    seq: u64,
    len: usize,
}

impl<T> EventQueue<T> {
    /// A wheel of `2^buckets_log2` buckets of `2^shift` ns each.
    pub fn new(shift: u32, buckets_log2: u32) -> Self {
        assert!((6..=24).contains(&buckets_log2), "wheel size out of range");
        assert!(shift < 56, "bucket width out of range");
        let n = 1usize << buckets_log2;
        EventQueue {
            shift,
            mask: n as u64 - 1,
            buckets: (0..n).map(|_| Vec::new()).collect(),
            occupied: vec![0; n / 64],
            wheel_len: 0,
            cur: 0,
            current: Vec::new(),
            late: BinaryHeap::new(),
            overflow: BinaryHeap::new(),
            spare: Vec::new(),
            seq: 0,
            len: 0,
        }
    }

    /// Chooses the geometry for a workload of about `events_per_sec` events per virtual
    /// second, most scheduled up to `horizon_ns` ahead: buckets of a few events each, and
    /// enough of them to span the horizon.
    pub fn for_workload(events_per_sec: f64, horizon_ns: u64) -> Self {
        let target_width = if events_per_sec > 0.0 {
            16.0e9 / events_per_sec
        } else {
            1e9
        };
        let width = target_width.clamp(1024.0, 2f64.powi(40));
        let mut shift = (libm::log2(width) as u32).clamp(10, 40);
        // At most 2^16 buckets: past that, their headers and spare capacity cost more
        // than they save. The buckets widen until they span the horizon.
        while shift < 40 && (horizon_ns >> shift) + 2 > 1 << 16 {
            shift += 1;
        }
        let buckets_needed = (horizon_ns >> shift).saturating_add(2).max(64);
        let log2 = (64 - (buckets_needed - 1).leading_zeros()).clamp(6, 16);
        EventQueue::new(shift, log2)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// The item `k` places after the next one in the bucket being drained, if it holds
    /// that many (entries scheduled into it since it was sorted are not counted): a hint
    /// of what comes soon, for prefetching.
    #[inline]
    pub fn ahead(&self, k: usize) -> Option<&T> {
        let i = self.current.len().checked_sub(k + 1)?;
        Some(&self.current[i].item)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Schedules `item` of kind `kind` (0..16) at `time` in same-instant class `class`
    /// (0..16). Entries must not be scheduled before the last popped time.
    #[inline]
    pub fn push(&mut self, time: u64, class: u8, kind: u8, item: T) {
        let seq = self.reserve_seq();
        self.push_with_seq(time, class, kind, seq, item);
    }

    /// Takes the next scheduling-order number without scheduling anything yet: an event
    /// whose scheduling is decided at one instant but that is only queued later (if at
    /// all) keeps its place among the events scheduled at the same instant.
    #[inline]
    pub fn reserve_seq(&mut self) -> u64 {
        let seq = self.seq;
        self.seq += 1;
        debug_assert!(seq < 1 << (CLASS_SHIFT - SEQ_SHIFT));
        seq
    }

    /// Schedules `item` with a scheduling-order number from `reserve_seq`.
    #[inline]
    pub fn push_with_seq(&mut self, time: u64, class: u8, kind: u8, seq: u64, item: T) {
        debug_assert!(class < 16 && (kind as u64) <= KIND_MASK);
        let entry = Entry {
            time,
            order: ((class as u64) << CLASS_SHIFT) | (seq << SEQ_SHIFT) | kind as u64,
            item,
        };
        self.len += 1;
        let bucket = time >> self.shift;
        if bucket <= self.cur {
            self.late.push(Reverse(entry));
        } else if bucket - self.cur <= self.mask {
            let slot = (bucket & self.mask) as usize;
            let b = &mut self.buckets[slot];
            if b.capacity() == 0 {
                if let Some(v) = self.spare.pop() {
                    *b = v;
                }
            }
            if b.len() == b.capacity() {
                // Grow by a quarter, not double: at a million clients the buckets hold
                // most of the queue's entries, and doubling would leave up to half of
                // their memory unused.
                b.reserve_exact(b.len() / 4 + 4);
            }
            b.push(entry);
            self.occupied[slot / 64] |= 1 << (slot % 64);
            self.wheel_len += 1;
        } else {
            self.overflow.push(Reverse(entry));
        }
    }

    /// Removes and returns the first entry in `(time, class, seq)` order, as
    /// `(time, class, kind, item)`.
    #[inline]
    pub fn pop(&mut self) -> Option<(u64, u8, u8, T)> {
        loop {
            let from_current = match (self.current.last(), self.late.peek()) {
                (Some(c), Some(Reverse(l))) => Some(c.key() < l.key()),
                (Some(_), None) => Some(true),
                (None, Some(_)) => Some(false),
                (None, None) => None,
            };
            match from_current {
                Some(true) => {
                    let e = self.current.pop().expect("checked above");
                    self.len -= 1;
                    // A burst (every check due at one scan instant) is drained while
                    // its clients' next checks fill other buckets: give back what the
                    // drained part held, a quarter at a time.
                    let (len, cap) = (self.current.len(), self.current.capacity());
                    if cap > SHRINK_FROM && len < cap / 2 {
                        self.current.shrink_to(len + len / 4);
                    }
                    return Some(e.unpack());
                }
                Some(false) => {
                    let Reverse(e) = self.late.pop().expect("checked above");
                    self.len -= 1;
                    return Some(e.unpack());
                }
                None => {
                    if self.len == 0 {
                        return None;
                    }
                    self.advance();
                }
            }
        }
    }

    /// Moves to the next bucket that holds entries and sorts it into `current`.
    fn advance(&mut self) {
        let from_wheel = self.next_occupied();
        let from_overflow = self.overflow.peek().map(|Reverse(e)| e.time >> self.shift);
        self.cur = match (from_wheel, from_overflow) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => unreachable!("queue length says entries remain"),
        };
        let slot = (self.cur & self.mask) as usize;
        if self.occupied[slot / 64] & (1 << (slot % 64)) != 0 {
            debug_assert!(self.current.is_empty());
            let bucket = std::mem::take(&mut self.buckets[slot]);
            let drained = std::mem::replace(&mut self.current, bucket);
            self.wheel_len -= self.current.len();
            // The previous bucket's buffer is spare. One that once held a burst (every
            // check due at one scan instant) would otherwise carry its large allocation
            // around the wheel for the rest of the run: only small ones are kept.
            if drained.capacity() > 0 && drained.capacity() <= BUCKET_KEEP {
                self.spare.push(drained);
            }
            self.occupied[slot / 64] &= !(1 << (slot % 64));
        }
        while let Some(Reverse(e)) = self.overflow.peek() {
            if e.time >> self.shift > self.cur {
                break;
            }
            let Reverse(e) = self.overflow.pop().expect("peeked");
            self.current.push(e);
        }
        // Descending by (time, order), compared as one 128-bit number.
        self.current.sort_unstable_by_key(|e| Reverse(e.key()));
    }

    /// The absolute number of the first occupied bucket after `cur`, if any.
    fn next_occupied(&self) -> Option<u64> {
        if self.wheel_len == 0 {
            return None;
        }
        let n = self.mask + 1;
        let start = (self.cur + 1) & self.mask;
        let words = self.occupied.len();
        let first_word = (start / 64) as usize;
        // Bits at or after `start` in its word, then whole words around the ring, then the
        // bits before `start` in its word.
        let mut found = None;
        let head = self.occupied[first_word] & (!0u64 << (start % 64));
        if head != 0 {
            found = Some(first_word as u64 * 64 + head.trailing_zeros() as u64);
        } else {
            for i in 1..=words {
                let w = (first_word + i) % words;
                let mut bits = self.occupied[w];
                if w == first_word {
                    bits &= !(!0u64 << (start % 64));
                }
                if bits != 0 {
                    found = Some(w as u64 * 64 + bits.trailing_zeros() as u64);
                    break;
                }
            }
        }
        let slot = found.expect("wheel_len > 0 means a bit is set");
        let ahead = (slot + n - start) & self.mask;
        Some(self.cur + 1 + ahead)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[test]
    fn equal_times_follow_class_then_scheduling_order() {
        let mut q = EventQueue::new(10, 6);
        q.push(5_000, 3, 0, "send");
        q.push(5_000, 1, 7, "deliver-a");
        q.push(5_000, 2, 0, "scan");
        q.push(5_000, 0, 0, "fault");
        q.push(5_000, 1, 0, "deliver-b");
        q.push(4_000, 3, 0, "earlier");
        let order: Vec<_> = std::iter::from_fn(|| q.pop().map(|(_, _, _, x)| x)).collect();
        assert_eq!(
            order,
            ["earlier", "fault", "deliver-a", "deliver-b", "scan", "send"]
        );
    }

    #[test]
    fn far_events_wait_in_overflow_and_come_back_in_order() {
        let mut q = EventQueue::new(10, 6);
        q.push(1 << 40, 1, 5, 3u32);
        q.push(1 << 30, 1, 0, 2);
        q.push(10, 1, 2, 1);
        q.push(1 << 40, 0, 1, 4);
        assert_eq!(q.pop(), Some((10, 1, 2, 1)));
        assert_eq!(q.pop(), Some((1 << 30, 1, 0, 2)));
        assert_eq!(q.pop(), Some((1 << 40, 0, 1, 4)));
        assert_eq!(q.pop(), Some((1 << 40, 1, 5, 3)));
        assert_eq!(q.pop(), None);
        assert!(q.is_empty());
    }

    #[test]
    fn ahead_names_what_the_next_pops_return() {
        let mut q = EventQueue::new(10, 6);
        for (t, x) in [(2300u64, 'c'), (2100, 'a'), (2200, 'b')] {
            q.push(t, 1, 0, x);
        }
        assert_eq!(q.ahead(0), None, "nothing sorted before the first pop");
        assert_eq!(q.pop().map(|e| e.3), Some('a'));
        assert_eq!(
            (q.ahead(0), q.ahead(1), q.ahead(2)),
            (Some(&'b'), Some(&'c'), None)
        );
        assert_eq!(q.pop().map(|e| e.3), Some('b'));
        assert_eq!(q.ahead(0), Some(&'c'));
    }

    #[test]
    fn a_burst_drained_while_its_successors_arrive_keeps_its_order() {
        // 40 000 entries at one instant (a bucket large enough to give memory back as it
        // drains), each scheduling a successor a second later, as checks do.
        let mut q = EventQueue::new(20, 8);
        let n = 40_000u64;
        for i in 0..n {
            q.push(1 << 20, 2, 0, i);
        }
        for round in 0..2u64 {
            for i in 0..n {
                let (t, _, _, x) = q.pop().unwrap();
                assert_eq!((t, x), ((1 << 20) + round * 1_000_000_000, i + round * n));
                if round == 0 {
                    q.push(t + 1_000_000_000, 2, 0, x + n);
                }
            }
        }
        assert!(q.is_empty());
        assert!(q.current.capacity() < n as usize / 2, "memory given back");
    }

    proptest! {
        /// Interleaved pushes (never before the last popped time) and pops give exactly
        /// the order of a sorted reference map.
        #[test]
        fn matches_a_sorted_reference(
            ops in proptest::collection::vec((0u64..5_000_000, 0u8..4, any::<bool>()), 1..400),
            shift in 4u32..16,
            log2 in 6u32..9,
        ) {
            let mut q = EventQueue::new(shift, log2);
            let mut reference = BTreeMap::new();
            let mut now = 0u64;
            let mut seq = 0u64;
            for (ahead, class, pop) in ops {
                if pop {
                    let got = q.pop();
                    let want = reference.pop_first().map(|((t, c, _), v)| (t, c, (v % 16) as u8, v));
                    prop_assert_eq!(got, want);
                    if let Some((t, _, _, _)) = got { now = t; }
                } else {
                    let t = now + ahead * ahead / 1000;
                    q.push(t, class, (seq % 16) as u8, seq);
                    reference.insert((t, class, seq), seq);
                    seq += 1;
                }
                prop_assert_eq!(q.len(), reference.len());
            }
            while let Some((k, v)) = reference.pop_first() {
                prop_assert_eq!(q.pop(), Some((k.0, k.1, (v % 16) as u8, v)));
            }
            prop_assert_eq!(q.pop(), None);
        }
    }
}
