//! A member's view of the others, kept sparse: a member it holds alive at incarnation 0
//! (what every member believes of every other at the start) has no entry, so a cluster
//! of N members costs memory for what has changed, not N² entries.

use crate::base::hash::splitmix64;

/// What a member believes of another (memberlist's `NodeStateType` without `left`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum State {
    /// Believed alive.
    #[default]
    Alive,
    /// Suspected: dead unless it refutes in time.
    Suspect,
    /// Declared dead.
    Dead,
}

/// One member's belief about another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The member it is about.
    pub node: u32,
    /// The incarnation the belief is about.
    pub inc: u32,
    /// The belief.
    pub state: State,
    /// When the state last changed, ns (memberlist's `StateChange`).
    pub since: u64,
}

/// A member's beliefs that differ from "alive at incarnation 0", sorted by member.
#[derive(Clone, Debug, Default)]
pub struct View {
    entries: Vec<Entry>,
    dead: u32,
}

impl View {
    /// The belief about `node`.
    #[inline]
    pub fn get(&self, node: u32) -> Entry {
        match self.entries.binary_search_by_key(&node, |e| e.node) {
            Ok(i) => self.entries[i],
            Err(_) => Entry {
                node,
                inc: 0,
                state: State::Alive,
                since: 0,
            },
        }
    }

    /// Sets the belief about `e.node`.
    pub fn set(&mut self, e: Entry) {
        let default = e.inc == 0 && e.state == State::Alive;
        match self.entries.binary_search_by_key(&e.node, |x| x.node) {
            Ok(i) => {
                self.dead -= (self.entries[i].state == State::Dead) as u32;
                if default {
                    self.entries.remove(i);
                } else {
                    self.entries[i] = e;
                }
            }
            Err(i) => {
                if !default {
                    self.entries.insert(i, e);
                }
            }
        }
        self.dead += (e.state == State::Dead) as u32;
    }

    /// How many members it holds dead.
    #[inline]
    pub fn dead(&self) -> u32 {
        self.dead
    }

    /// The entries that differ from the default, in member order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.dead = 0;
    }
}

/// A pseudorandom permutation of `0..n` keyed by `key`: a four-round Feistel network on
/// the smallest even number of bits covering `n`, walked in cycles until the value falls
/// below `n`. A member's round-robin order is `permute(key_of_round, n, position)`, so it
/// keeps two numbers instead of a shuffled list of N (memberlist's `shuffleNodes` keeps
/// the list; the order is a different random permutation, with the same use: every
/// other member exactly once per round).
pub fn permute(key: u64, n: u32, index: u32) -> u32 {
    debug_assert!(index < n);
    if n <= 1 {
        return 0;
    }
    let bits = 32 - (n - 1).leading_zeros();
    let half = bits.div_ceil(2);
    let mask = (1u64 << half) - 1;
    let mut x = index as u64;
    loop {
        let (mut l, mut r) = (x >> half, x & mask);
        for round in 0..4u64 {
            let mut s = key ^ (round << 56) ^ r;
            let f = splitmix64(&mut s) & mask;
            (l, r) = (r, l ^ f);
        }
        x = (l << half) | r;
        if x < n as u64 {
            return x as u32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_keeps_only_what_differs_from_the_start() {
        let mut v = View::default();
        assert_eq!(v.get(5).state, State::Alive);
        v.set(Entry {
            node: 5,
            inc: 0,
            state: State::Dead,
            since: 3,
        });
        v.set(Entry {
            node: 2,
            inc: 1,
            state: State::Alive,
            since: 4,
        });
        assert_eq!(v.dead(), 1);
        assert_eq!(v.entries().len(), 2);
        assert_eq!(v.entries()[0].node, 2);
        v.set(Entry {
            node: 5,
            inc: 0,
            state: State::Alive,
            since: 9,
        });
        assert_eq!(v.dead(), 0);
        assert_eq!(v.entries().len(), 1);
    }

    #[test]
    fn permutations_are_bijections() {
        for n in [1u32, 2, 3, 7, 8, 9, 100, 1000, 4097] {
            for key in [0u64, 1, 0xdead_beef] {
                let mut seen = vec![false; n as usize];
                for i in 0..n {
                    let p = permute(key, n, i);
                    assert!(!seen[p as usize], "n {n} key {key}: {p} twice");
                    seen[p as usize] = true;
                }
            }
        }
        // Different keys give different orders.
        let a: Vec<u32> = (0..50).map(|i| permute(1, 50, i)).collect();
        let b: Vec<u32> = (0..50).map(|i| permute(2, 50, i)).collect();
        assert_ne!(a, b);
    }
}
