//! The server process as the world sees it: whether it runs, its wall clock (which a
//! clock step moves), and its stalls (while stalled it processes nothing; arrivals wait in
//! a backlog, applied when the stall ends).

/// The server's state.
#[derive(Clone, Debug)]
pub struct Server {
    /// The process is running (see `server-crash`).
    pub up: bool,
    /// Wall clock minus true time, ns.
    pub clock_offset: i64,
    /// Whether the clock has stepped (until then every stamp is its arrival time).
    pub clock_stepped: bool,
    /// The server is stalled before this time.
    pub stalled_until: u64,
    /// When the current (or last) stall began.
    pub stall_began: u64,
    /// End of the latest server-wide fault window (stall, clock step, restart).
    pub fault_until: u64,
    /// Clients whose heartbeats wait for a stall to end, in arrival order.
    pub backlog: Vec<(u32, u64)>,
}

impl Default for Server {
    fn default() -> Self {
        Server {
            up: true,
            clock_offset: 0,
            clock_stepped: false,
            stalled_until: 0,
            stall_began: 0,
            fault_until: 0,
            backlog: Vec::new(),
        }
    }
}

impl Server {
    /// Whether the server is stalled at `now`.
    #[inline]
    pub fn stalled(&self, now: u64) -> bool {
        now < self.stalled_until
    }

    /// A stall of `duration` ns begins at `now` (extending one in progress); returns the
    /// instant it ends.
    pub fn stall(&mut self, now: u64, duration: u64) -> u64 {
        let until = now.saturating_add(duration);
        if now >= self.stalled_until {
            self.stall_began = now;
        }
        self.stalled_until = self.stalled_until.max(until);
        self.fault_until = self.fault_until.max(until);
        until
    }

    /// If the stall is over at `now`, how long it lasted; `None` while a longer stall
    /// that began meanwhile goes on.
    pub fn stall_over(&self, now: u64) -> Option<u64> {
        (now >= self.stalled_until).then(|| now - self.stall_began)
    }

    /// The wall clock steps by `by` ns at `now`.
    pub fn step_clock(&mut self, now: u64, by: i64) {
        self.clock_offset += by;
        self.clock_stepped = true;
        self.fault_until = self.fault_until.max(now);
    }

    /// The process dies at `now`. A dead process is not stalled: the arrivals it was
    /// holding die with it, and a restarted server starts unstalled.
    pub fn crash(&mut self, now: u64) {
        self.backlog.clear();
        self.stalled_until = self.stalled_until.min(now);
        self.up = false;
    }

    /// The process starts again at `now`; a verdict soon after the outage is a mistake
    /// caused by it.
    pub fn restart(&mut self, now: u64) {
        self.up = true;
        self.fault_until = self.fault_until.max(now);
    }

    /// The true time at which the wall-clock silence of a client last heard at `last`
    /// (stamped with clock offset `stamp_offset`) was zero.
    #[inline]
    pub fn wall_base(&self, last: i64, stamp_offset: i64) -> i64 {
        if self.clock_stepped {
            last + stamp_offset - self.clock_offset
        } else {
            last
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_stalls_end_with_the_longest_and_count_from_the_first() {
        let mut s = Server::default();
        assert_eq!(s.stall(10, 5), 15);
        assert_eq!(s.stall(12, 10), 22);
        assert!(s.stalled(21));
        assert_eq!(s.stall_over(15), None);
        assert_eq!(s.stall_over(22), Some(12));
    }

    #[test]
    fn a_clock_step_moves_wall_clock_silences() {
        let mut s = Server::default();
        assert_eq!(s.wall_base(100, 0), 100);
        s.step_clock(200, -50);
        // Stamped before the step (offset 0): read 50 ns later than it happened.
        assert_eq!(s.wall_base(100, 0), 150);
        assert_eq!(s.wall_base(100, -50), 100);
    }

    #[test]
    fn a_crash_ends_a_stall_and_drops_its_backlog() {
        let mut s = Server::default();
        s.stall(0, 100);
        s.backlog.push((3, 0));
        s.crash(40);
        assert!(!s.up && !s.stalled(40) && s.backlog.is_empty());
    }
}
