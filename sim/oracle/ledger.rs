//! The ground-truth ledger of one detector: beside each of its verdicts about a client,
//! what was really true, turned into the metrics of DESIGN §5.
//!
//! A crash leaves a pending crash; the next offline verdict turns it into a detection
//! latency, a restart or the end of the run into a miss. An offline verdict about a live
//! subject opens a mistake, closed by the next online verdict (or censored by a crash or
//! the end). Query-accuracy clocks advance before every change of verdict or of ground
//! truth. The detector never sees any of this; the engine reports each verdict here with
//! the truth of the moment.

use super::metrics::DetectorAcc;
use crate::model::detector::{Status, NEVER};

/// One detector's record of one subject (a client, or the server for a client's ping):
/// what every subject needs, 16 bytes. What only a crashed or mistaken subject needs is
/// in a [`Rare`] record of the ledger's slab, held while any of its times is set.
#[derive(Clone, Copy, Debug)]
struct Entry {
    /// The detector's verdict, as last reported.
    verdict: Status,
    /// Whether the detector has made a mistake about this subject yet.
    mistaken: bool,
    /// Index of the subject's record in the slab, or `NO_RARE`.
    rare: u32,
    /// First contact (the first online verdict), or `NEVER`.
    first_contact: u64,
}

/// The times a subject has only after a crash or a mistake (all `NEVER` otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rare {
    /// Crash not yet detected, or `NEVER`.
    pending_crash: u64,
    /// Start of an open false offline verdict, or `NEVER`.
    mistake_start: u64,
    /// Last false offline verdict (S-transition) in the current up period, or `NEVER`.
    last_mistake: u64,
    /// Last end of a mistake (T-transition) in the current up period, or `NEVER`.
    last_recovery: u64,
}

/// `Entry::rare` of a subject without a record.
const NO_RARE: u32 = u32::MAX;

impl Rare {
    const NONE: Rare = Rare {
        pending_crash: NEVER,
        mistake_start: NEVER,
        last_mistake: NEVER,
        last_recovery: NEVER,
    };

    /// A running mistake ends without an answer: how long it would have lasted is unknown.
    #[inline]
    fn censor(&mut self, acc: &mut DetectorAcc) {
        if self.mistake_start != NEVER {
            acc.censored += 1;
            self.mistake_start = NEVER;
        }
    }

    /// A pending crash was never detected.
    #[inline]
    fn miss(&mut self, acc: &mut DetectorAcc) {
        if self.pending_crash != NEVER {
            acc.missed += 1;
            self.pending_crash = NEVER;
        }
    }
}

impl Entry {
    const NEW: Entry = Entry {
        verdict: Status::Unknown,
        mistaken: false,
        rare: NO_RARE,
        first_contact: NEVER,
    };

    /// The query-accuracy clocks, as sums of the ends of the periods they count minus
    /// their starts (no start time per subject; the sums are whole once every period
    /// has ended, at `finish`). The subject's state from now on, `up` with the current
    /// verdict, starts a period of the clocks it counts for.
    #[inline]
    fn open(&self, acc: &mut DetectorAcc, up: bool, now: u64) {
        self.clocks(acc, up, now, u64::wrapping_sub);
    }

    /// The subject's state until now (`up` with the current verdict) ends its period.
    #[inline]
    fn close(&self, acc: &mut DetectorAcc, up: bool, now: u64) {
        self.clocks(acc, up, now, u64::wrapping_add);
    }

    /// Applies `op` with `now` to each clock the state (`up`, the verdict) counts for.
    #[inline]
    fn clocks(&self, acc: &mut DetectorAcc, up: bool, now: u64, op: fn(u64, u64) -> u64) {
        if up && self.verdict != Status::Unknown {
            acc.up_known_ns = op(acc.up_known_ns, now);
            if self.verdict == Status::Online {
                acc.up_online_ns = op(acc.up_online_ns, now);
            }
        }
    }
}

/// Bytes of one (detector, client) entry; a crashed or mistaken subject holds a
/// `RARE_BYTES` record more.
pub const ENTRY_BYTES: usize = std::mem::size_of::<Entry>();

/// Bytes of the record a subject holds after a crash or a mistake.
pub const RARE_BYTES: usize = std::mem::size_of::<Rare>();

/// One detector's ledger: an entry per client and the accumulators per group.
#[derive(Clone, Debug)]
pub struct Ledger {
    entries: Vec<Entry>,
    /// The records of subjects with a crash or mistake time set; freed ones are reused
    /// (lowest index last freed first), so the slab is as large as the most subjects
    /// that held one at once.
    rares: Vec<Rare>,
    free: Vec<u32>,
    /// Per group.
    pub acc: Vec<DetectorAcc>,
    /// Whether the subjects are the server (a client-to-server ping): ground truth is
    /// the server's.
    pub about_server: bool,
}

impl Ledger {
    /// A ledger of `clients` entries over `groups` groups.
    pub fn new(clients: usize, groups: usize, about_server: bool) -> Self {
        Ledger {
            entries: vec![Entry::NEW; clients],
            rares: Vec::new(),
            free: Vec::new(),
            acc: vec![DetectorAcc::default(); groups],
            about_server,
        }
    }

    /// Subject `ci`'s crash and mistake times.
    #[inline]
    fn rare(&self, ci: usize) -> Rare {
        match self.entries[ci].rare {
            NO_RARE => Rare::NONE,
            i => self.rares[i as usize],
        }
    }

    /// Stores subject `ci`'s crash and mistake times, holding a record only while one
    /// is set.
    #[inline]
    fn set_rare(&mut self, ci: usize, r: Rare) {
        let slot = self.entries[ci].rare;
        match (slot, r == Rare::NONE) {
            (NO_RARE, true) => {}
            (NO_RARE, false) => {
                let i = match self.free.pop() {
                    Some(i) => {
                        self.rares[i as usize] = r;
                        i
                    }
                    None => {
                        self.rares.push(r);
                        (self.rares.len() - 1) as u32
                    }
                };
                self.entries[ci].rare = i;
            }
            (i, true) => {
                self.free.push(i);
                self.entries[ci].rare = NO_RARE;
            }
            (i, false) => self.rares[i as usize] = r,
        }
    }

    /// The detector's verdict about client `ci`, as last reported.
    #[inline]
    pub fn verdict(&self, ci: usize) -> Status {
        self.entries[ci].verdict
    }

    /// The detector turned client `ci` (of group `gi`) online at `now`; `up` is the truth.
    pub fn online(&mut self, ci: usize, gi: usize, up: bool, now: u64) {
        let mut r = self.rare(ci);
        let (w, acc) = (&mut self.entries[ci], &mut self.acc[gi]);
        w.close(acc, up, now);
        if r.mistake_start != NEVER {
            acc.mistakes.push(now - r.mistake_start);
            r.mistake_start = NEVER;
            r.last_recovery = now;
        }
        if w.first_contact == NEVER {
            w.first_contact = now;
        }
        w.verdict = Status::Online;
        w.open(acc, up, now);
        self.set_rare(ci, r);
    }

    /// The detector turned client `ci` offline at `now`; `up` is the truth, and
    /// `during_fault` says whether a fault window explains the verdict if it is a mistake.
    pub fn offline(&mut self, ci: usize, gi: usize, up: bool, during_fault: bool, now: u64) {
        let mut r = self.rare(ci);
        let (w, acc) = (&mut self.entries[ci], &mut self.acc[gi]);
        w.close(acc, up, now);
        w.verdict = Status::Offline;
        w.open(acc, up, now);
        if up {
            if during_fault {
                acc.fp_during_fault += 1;
            } else {
                acc.fp_spurious += 1;
            }
            r.mistake_start = now;
            // Chen–Toueg: mistake recurrence (S to S) and good period (T to S), within
            // one up period; time to the first mistake from first contact.
            if r.last_mistake != NEVER {
                acc.recurrences.push(now - r.last_mistake);
            }
            if r.last_recovery != NEVER {
                acc.good_periods.push(now - r.last_recovery);
            }
            if !w.mistaken {
                w.mistaken = true;
                acc.first_mistakes.push(now - w.first_contact);
            }
            r.last_mistake = now;
        } else if r.pending_crash != NEVER {
            acc.latencies.push(now - r.pending_crash);
            r.pending_crash = NEVER;
        }
        self.set_rare(ci, r);
    }

    /// The subject of entry `ci` died at `now`: its time so far is accounted as up, the
    /// crash waits for its detection (or counts as already detected), and a running
    /// mistake is censored (the suspicion became true).
    pub fn subject_died(&mut self, ci: usize, gi: usize, now: u64) {
        let mut r = self.rare(ci);
        let (w, acc) = (&mut self.entries[ci], &mut self.acc[gi]);
        // Up until now; from now on down, which no clock counts.
        w.close(acc, true, now);
        match w.verdict {
            Status::Online | Status::Unknown => r.pending_crash = now,
            Status::Offline => acc.already_offline += 1,
        }
        r.censor(acc);
        // Recurrence and good periods are measured within one up period.
        r.last_mistake = NEVER;
        r.last_recovery = NEVER;
        self.set_rare(ci, r);
    }

    /// The detector forgot client `ci` at `now` (the server it runs in died); `up` is the
    /// client's truth. An undetected crash is missed and an open mistake censored.
    pub fn forgotten(&mut self, ci: usize, gi: usize, up: bool, now: u64) {
        let mut r = self.rare(ci);
        let (w, acc) = (&mut self.entries[ci], &mut self.acc[gi]);
        w.close(acc, up, now);
        r.miss(acc);
        r.censor(acc);
        w.verdict = Status::Unknown;
        r.last_mistake = NEVER;
        r.last_recovery = NEVER;
        self.set_rare(ci, r);
    }

    /// The client holding entry `ci`'s view of the server died at `now`: the view is gone.
    pub fn viewer_died(&mut self, ci: usize, gi: usize, server_up: bool, now: u64) {
        let mut r = self.rare(ci);
        let (w, acc) = (&mut self.entries[ci], &mut self.acc[gi]);
        w.close(acc, server_up, now);
        r.censor(acc);
        w.verdict = Status::Unknown;
        self.set_rare(ci, r);
    }

    /// The subject of entry `ci` came back at `now` (it was down until now): a crash still
    /// pending was missed.
    pub fn subject_restarted(&mut self, ci: usize, gi: usize, now: u64) {
        let mut r = self.rare(ci);
        let (w, acc) = (&mut self.entries[ci], &mut self.acc[gi]);
        // Down until now, which no clock counts; up from now on.
        w.open(acc, true, now);
        r.miss(acc);
        self.set_rare(ci, r);
    }

    /// The run ends at `end`: clocks are closed, pending crashes missed, open mistakes
    /// censored, and subjects never mistaken counted as censored first mistakes.
    pub fn finish(&mut self, ci: usize, gi: usize, up: bool, end: u64) {
        let r = self.rare(ci);
        let (w, acc) = (&mut self.entries[ci], &mut self.acc[gi]);
        w.close(acc, up, end);
        if r.pending_crash != NEVER {
            acc.missed += 1;
        }
        if r.mistake_start != NEVER {
            acc.censored += 1;
        }
        if w.first_contact != NEVER && !w.mistaken {
            acc.first_mistake_censored += 1;
        }
    }

    /// How many subjects hold a crash or mistake record now, and the slab's size.
    #[cfg(test)]
    fn rares_held(&self) -> (usize, usize) {
        (self.rares.len() - self.free.len(), self.rares.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crash_detected_later_is_a_latency_and_a_false_verdict_a_mistake() {
        let mut l = Ledger::new(1, 1, false);
        l.online(0, 0, true, 10);
        l.offline(0, 0, true, false, 30); // a mistake
        l.online(0, 0, true, 35);
        l.subject_died(0, 0, 50);
        l.offline(0, 0, false, false, 80);
        l.finish(0, 0, false, 100);
        let acc = &l.acc[0];
        assert_eq!(acc.fp_spurious, 1);
        assert_eq!(acc.mistakes, vec![5]);
        assert_eq!(acc.first_mistakes, vec![20]);
        assert_eq!(acc.latencies, vec![30]);
        // Up from 10 to 50 and known: online 10..30 and 35..50.
        assert_eq!(acc.up_known_ns, 40);
        assert_eq!(acc.up_online_ns, 35);
        assert_eq!(acc.missed, 0);
    }

    #[test]
    fn a_crash_never_seen_before_a_restart_is_missed() {
        let mut l = Ledger::new(1, 1, false);
        l.online(0, 0, true, 0);
        l.subject_died(0, 0, 10);
        l.subject_restarted(0, 0, 20);
        l.finish(0, 0, true, 30);
        assert_eq!(l.acc[0].missed, 1);
        assert!(l.acc[0].latencies.is_empty());
    }

    #[test]
    fn the_clocks_count_up_time_only_across_a_crash_and_a_restart() {
        let mut l = Ledger::new(2, 1, false);
        l.online(0, 0, true, 0);
        l.subject_died(0, 0, 10);
        l.subject_restarted(0, 0, 20); // still held online: counted again from here
        l.online(0, 0, true, 25);
        l.offline(0, 0, true, false, 30); // a mistake: known, not online
        l.finish(0, 0, true, 40);
        // Client 1: online from 5, forgotten (server crash) at 12, back online at 18.
        l.online(1, 0, true, 5);
        l.forgotten(1, 0, true, 12);
        l.online(1, 0, true, 18);
        l.finish(1, 0, true, 40);
        let acc = &l.acc[0];
        assert_eq!(acc.up_known_ns, (10 + 20) + (7 + 22));
        assert_eq!(acc.up_online_ns, (10 + 10) + (7 + 22));
    }

    #[test]
    fn only_crashed_or_mistaken_subjects_hold_a_record() {
        let mut l = Ledger::new(3, 1, false);
        for ci in 0..3 {
            l.online(ci, 0, true, 0);
        }
        assert_eq!(l.rares_held(), (0, 0));
        l.subject_died(0, 0, 10);
        l.offline(1, 0, true, false, 12); // a mistake
        assert_eq!(l.rares_held(), (2, 2));
        l.offline(0, 0, false, false, 13); // the crash detected: nothing pending
        assert_eq!(l.rares_held(), (1, 2));
        l.online(1, 0, true, 15); // the mistake ends; its recovery time stays
        l.subject_died(1, 0, 20); // a new up period forgets it; a crash is pending
        l.subject_died(2, 0, 20);
        assert_eq!(l.rares_held(), (2, 2), "the freed record is reused");
        l.offline(2, 0, false, false, 24);
        l.finish(0, 0, false, 30);
        l.finish(1, 0, false, 30);
        l.finish(2, 0, false, 30);
        let acc = &l.acc[0];
        assert_eq!(acc.latencies, vec![3, 4]);
        assert_eq!(acc.mistakes, vec![3]);
        assert_eq!(acc.missed, 1, "client 1's crash at 20 was never detected");
    }
}
