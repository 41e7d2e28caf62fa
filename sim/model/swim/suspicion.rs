//! The suspicion timeout and Lifeguard's dynamic suspicion, as hashicorp/memberlist computes
//! them (`util.go` `suspicionTimeout`, `suspicion.go` `newSuspicion`,
//! `remainingSuspicionTime` and `Confirm`, `state.go` `suspectNode`).

/// memberlist's `suspicionTimeout(suspicionMult, n, interval)` (`util.go`):
/// `suspicionMult · max(1, log10(max(1, n))) · interval`, with the node scale kept to three
/// decimals the way Go's integer durations do it:
/// `Duration(mult) * Duration(nodeScale*1000) * interval / 1000`.
pub fn suspicion_timeout(mult: u32, n: u32, interval: u64) -> u64 {
    let scale = libm::log10((n.max(1)) as f64).max(1.0);
    let milli = (scale * 1000.0) as u64;
    (mult as u64).saturating_mul(milli).saturating_mul(interval) / 1000
}

/// memberlist's `retransmitLimit(retransmitMult, n)` (`util.go`):
/// `retransmitMult · ⌈log10(n + 1)⌉`.
pub fn retransmit_limit(mult: u32, n: u32) -> u32 {
    let scale = libm::ceil(libm::log10(n as f64 + 1.0)) as u32;
    mult.saturating_mul(scale)
}

/// The number of independent confirmations that drive a suspicion to its minimum
/// (`state.go` `suspectNode`): `k` as asked (memberlist asks `SuspicionMult − 2`), and 0
/// when the cluster has too few other members to give them (`n − 2 < k`) or `k < 0`.
pub fn confirmations_wanted(k: i64, n: u32) -> u32 {
    if (n as i64) - 2 < k || k < 0 {
        0
    } else {
        k as u32
    }
}

/// memberlist's `remainingSuspicionTime(n, k, elapsed, min, max)` plus `elapsed`: the whole
/// timeout, from the suspicion's start, after `n` of `k` wanted confirmations:
/// `max − ln(n + 1)/ln(k + 1) · (max − min)`, floored to whole milliseconds, never below
/// `min`. All in ns.
pub fn timeout_after(n: u32, k: u32, min: u64, max: u64) -> u64 {
    if k == 0 {
        return min;
    }
    let frac = libm::log(n as f64 + 1.0) / libm::log(k as f64 + 1.0);
    let (min_s, max_s) = (min as f64 / 1e9, max as f64 / 1e9);
    let raw = max_s - frac * (max_s - min_s);
    let ms = libm::floor(1000.0 * raw);
    let timeout = if ms <= 0.0 {
        0
    } else {
        (ms as u64).saturating_mul(1_000_000)
    };
    timeout.max(min)
}

/// One member's suspicion of another: `suspicion.go`'s state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suspicion {
    /// The suspect.
    pub target: u32,
    /// When the suspicion started, ns.
    pub start: u64,
    /// When it makes the suspect dead, ns (moves earlier with confirmations).
    pub deadline: u64,
    /// Confirmations wanted.
    pub k: u32,
    /// Confirmations seen.
    pub n: u32,
    /// The minimum and maximum timeout, ns.
    pub min: u64,
    /// See `min`.
    pub max: u64,
    /// Members whose suspicion counted (the first accuser among them, who never counts).
    pub from: Vec<u32>,
}

impl Suspicion {
    /// `newSuspicion(from, k, min, max)` started at `now`: the maximum timeout when
    /// confirmations are wanted, the minimum when none are.
    pub fn new(target: u32, from: u32, k: u32, min: u64, max: u64, now: u64) -> Self {
        let timeout = if k < 1 { min } else { max };
        Suspicion {
            target,
            start: now,
            deadline: now.saturating_add(timeout),
            k,
            n: 0,
            min,
            max,
            from: vec![from],
        }
    }

    /// `Confirm(from)`: whether `from` is a new independent confirmation; if so the
    /// deadline moves to what `remainingSuspicionTime` gives.
    pub fn confirm(&mut self, from: u32) -> bool {
        if self.n >= self.k || self.from.contains(&from) {
            return false;
        }
        self.from.push(from);
        self.n += 1;
        self.deadline = self
            .start
            .saturating_add(timeout_after(self.n, self.k, self.min, self.max));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn suspicion_timeout_matches_memberlist() {
        // util_test.go TestSuspicionTimeout: mult 3, interval 1 s, the timeout divided by
        // 3 is 1000, 1000, 1698, 2000, 2698 and 3000 ms.
        let cases = [
            (5, 3 * S),
            (10, 3 * S),
            (50, 5_094_000_000),
            (100, 6 * S),
            (500, 8_094_000_000),
            (1000, 9 * S),
        ];
        for (n, want) in cases {
            assert_eq!(suspicion_timeout(3, n, S), want, "n = {n}");
        }
        // A LAN cluster of 10 000: 4 · log10(10 000) · 1 s (DefaultLANConfig's comment
        // on SuspicionMaxTimeoutMult puts the maximum, 6 times this, at "120 seconds";
        // the formula gives 96 s).
        assert_eq!(suspicion_timeout(4, 10_000, S), 16 * S);
    }

    #[test]
    fn retransmit_limit_matches_memberlist() {
        // util_test.go TestRetransmitLimit.
        assert_eq!(retransmit_limit(3, 0), 0);
        assert_eq!(retransmit_limit(3, 1), 3);
        assert_eq!(retransmit_limit(3, 99), 6);
        assert_eq!(retransmit_limit(4, 100), 12);
    }

    #[test]
    fn remaining_time_matches_suspicion_go() {
        // suspicion_test.go TestSuspicion_remainingSuspicionTime's six cases (n, k,
        // elapsed, min, max, expected remaining), then two of ours (no confirmations
        // wanted; min = max); timeout_after is the remaining time plus the elapsed time.
        let cases: [(u32, u32, u64, u64, u64, i64); 8] = [
            (0, 3, 0, 2 * S, 30 * S, 30 * S as i64),
            (1, 3, 2 * S, 2 * S, 30 * S, 14 * S as i64),
            (2, 3, 3 * S, 2 * S, 30 * S, 4_810_000_000),
            (3, 3, 4 * S, 2 * S, 30 * S, -2 * S as i64),
            (4, 3, 5 * S, 2 * S, 30 * S, -3 * S as i64),
            (5, 3, 10 * S, 2 * S, 30 * S, -8 * S as i64),
            (0, 0, 0, 2 * S, 30 * S, 2 * S as i64),
            (1, 3, 0, 2 * S, 2 * S, 2 * S as i64),
        ];
        for (n, k, elapsed, min, max, remaining) in cases {
            let whole = if k == 0 {
                min
            } else {
                timeout_after(n, k, min, max)
            };
            assert_eq!(
                whole as i64 - elapsed as i64,
                remaining,
                "n {n} k {k} elapsed {elapsed}"
            );
        }
    }

    #[test]
    fn confirmations_count_once_per_member_and_stop_at_k() {
        let mut s = Suspicion::new(7, 1, 3, 2 * S, 30 * S, 100);
        assert_eq!(s.deadline, 100 + 30 * S);
        assert!(!s.confirm(1), "the first accuser never confirms");
        assert!(s.confirm(2));
        assert_eq!(s.deadline, 100 + 16 * S);
        assert!(!s.confirm(2));
        assert!(s.confirm(3));
        assert!(s.confirm(4));
        assert_eq!(s.deadline, 100 + 2 * S);
        assert!(!s.confirm(5), "k confirmations reached");
        let none = Suspicion::new(7, 1, 0, 2 * S, 30 * S, 0);
        assert_eq!(none.deadline, 2 * S);
    }

    #[test]
    fn confirmations_wanted_follows_state_go() {
        // k = SuspicionMult - 2 = 2, as suspectNode computes it for SuspicionMult 4.
        assert_eq!(confirmations_wanted(2, 100), 2);
        assert_eq!(confirmations_wanted(2, 3), 0, "n - 2 < k");
        assert_eq!(confirmations_wanted(2, 4), 2);
        assert_eq!(confirmations_wanted(3, 4), 0);
        assert_eq!(confirmations_wanted(-1, 100), 0, "SuspicionMult 1");
        assert_eq!(confirmations_wanted(0, 100), 0);
    }
}
