//! Faults change the world and its ground truth, then tell the detectors through world
//! events; they hold no detector logic. Client faults: crash, restart, pause, partition,
//! churn. Server faults: stall, crash, restart, clock step.

use super::event::Event;
use super::World;
use crate::base::rng::Dist;
use crate::base::rng::Purpose;
use crate::base::time::SimDuration;
use crate::model::detector::{Input, Status, WorldEvent};
use crate::oracle::{Trace, Verdict};
use crate::scenario::FaultAction;

impl World<'_> {
    /// Scenario fault `index` takes effect now.
    pub(super) fn on_fault(&mut self, index: usize, trace: &mut Trace<'_>) {
        let now = self.now;
        let fault = &self.scenario.faults[index];
        match fault.action {
            FaultAction::ServerStall { duration } => {
                if !self.server.up {
                    return; // a dead server cannot stall
                }
                let until = self.server.stall(now, duration.as_nanos());
                if until < self.end {
                    self.queue.push(until, Event::StallEnd);
                }
                return;
            }
            FaultAction::ServerCrash => return self.server_crash(trace),
            FaultAction::ServerRestart => return self.server_restart(),
            FaultAction::ClockStep { by_ns } => {
                self.server.step_clock(now, by_ns);
                // Every deadline measured on the server's clock moves.
                self.tell_all(WorldEvent::ClockStepped, trace);
                return;
            }
            FaultAction::Crash { .. }
            | FaultAction::Restart
            | FaultAction::Pause { .. }
            | FaultAction::Partition { .. }
            | FaultAction::Churn { .. } => {}
        }
        for r in &fault.targets {
            let base = self.group_start[r.group];
            for i in r.start..r.end {
                let id = base + i;
                let ci = id as usize;
                match fault.action {
                    FaultAction::Crash { process } => {
                        if process && self.clients[ci].up {
                            self.send_fins(id);
                        }
                        self.crash(id, trace)
                    }
                    FaultAction::Restart => self.restart(id, trace),
                    FaultAction::Pause { duration } => {
                        let until = now.saturating_add(duration.as_nanos());
                        let cold = self.cold.get_mut(ci);
                        cold.paused_until = cold.paused_until.max(until);
                        cold.fault_until = cold.fault_until.max(until);
                        self.clients[ci].disturbed = true;
                    }
                    FaultAction::Partition { duration } => {
                        let until = now.saturating_add(duration.as_nanos());
                        let cold = self.cold.get_mut(ci);
                        cold.partitioned_until = cold.partitioned_until.max(until);
                        cold.fault_until = cold.fault_until.max(until);
                        self.clients[ci].disturbed = true;
                    }
                    FaultAction::Churn { mtbf, .. } => {
                        self.schedule_churn(id, index as u32, mtbf, true)
                    }
                    FaultAction::ServerStall { .. }
                    | FaultAction::ClockStep { .. }
                    | FaultAction::ServerCrash
                    | FaultAction::ServerRestart => {
                        unreachable!("server-wide faults have no targets")
                    }
                }
            }
        }
    }

    /// Tells every detector about every client, detectors in scenario order.
    fn tell_all(&mut self, event: WorldEvent, trace: &mut Trace<'_>) {
        for di in 0..self.detectors.len() {
            for ci in 0..self.clients.len() {
                self.feed(di, ci, Input::World(event), trace);
            }
        }
    }

    /// The server process dies. Clients' pings about the server now have a crash to
    /// detect; every server-side detector loses what it knew (undetected client crashes
    /// are missed, open mistakes censored) and starts from scratch when it restarts.
    fn server_crash(&mut self, trace: &mut Trace<'_>) {
        if !self.server.up {
            return;
        }
        let now = self.now;
        for di in 0..self.detectors.len() {
            for ci in 0..self.clients.len() {
                let c = &mut self.clients[ci];
                let gi = c.group as usize;
                let ledger = &mut self.detectors[di].ledger;
                if ledger.about_server {
                    ledger.subject_died(ci, gi, now);
                } else {
                    if ledger.verdict(ci) == Status::Online {
                        c.online_in -= 1;
                    }
                    ledger.forgotten(ci, gi, c.up, now);
                }
                self.feed(di, ci, Input::World(WorldEvent::ServerCrashed), trace);
            }
        }
        self.server.crash(now);
    }

    /// The server starts again, knowing no client: clients' pings may find it again, and
    /// watched connections are opened anew by the clients that are up.
    fn server_restart(&mut self) {
        if self.server.up {
            return;
        }
        let now = self.now;
        for di in 0..self.detectors.len() {
            let d = &mut self.detectors[di];
            // The server-side ledgers' clocks run on: the server's restart changes no
            // client's truth, and their verdicts stay unknown until contact.
            if d.ledger.about_server {
                for (ci, c) in self.clients.iter().enumerate() {
                    d.ledger.subject_restarted(ci, c.group as usize, now);
                }
            }
            if d.uses_connections {
                for ci in 0..self.clients.len() {
                    if self.clients[ci].up {
                        let event = Event::Connect {
                            client: ci as u32,
                            detector: di as u32,
                        };
                        self.queue.push(now, event);
                    }
                }
            }
        }
        self.server.restart(now);
    }

    /// The end of a stall: one catch-up scan over every client, then the backlog of
    /// arrivals, stamped now (DESIGN §4).
    pub(super) fn on_stall_end(&mut self, trace: &mut Trace<'_>) {
        let Some(stall) = self.server.stall_over(self.now) else {
            return; // a longer stall began meanwhile; its own end will come
        };
        if !self.server.up {
            return; // the server died during the stall and checks nothing
        }
        self.tell_all(WorldEvent::StallEnded { stall }, trace);
        let backlog = std::mem::take(&mut self.server.backlog);
        for &(id, seq) in &backlog {
            self.apply_arrival(id, seq, trace);
        }
        self.server.backlog = backlog;
        self.server.backlog.clear();
    }

    /// Schedules client `id`'s next churn transition (`down` or up) after an exponential
    /// time of mean `mean`.
    fn schedule_churn(&mut self, id: u32, fault: u32, mean: SimDuration, down: bool) {
        let d = Dist::Exponential {
            mean: mean.as_nanos() as f64,
        };
        let at = self
            .now
            .saturating_add(d.sample(self.rng.of(Purpose::Churn, id as usize)).max(1));
        if at < self.end {
            let event = if down {
                Event::ChurnDown { client: id, fault }
            } else {
                Event::ChurnUp { client: id, fault }
            };
            self.queue.push(at, event);
        }
    }

    fn churn_params(&self, fault: u32) -> (SimDuration, SimDuration) {
        match self.scenario.faults[fault as usize].action {
            FaultAction::Churn { mtbf, mttr } => (mtbf, mttr),
            FaultAction::Crash { .. }
            | FaultAction::Restart
            | FaultAction::Pause { .. }
            | FaultAction::Partition { .. }
            | FaultAction::ServerStall { .. }
            | FaultAction::ClockStep { .. }
            | FaultAction::ServerCrash
            | FaultAction::ServerRestart => unreachable!("churn event of a non-churn fault"),
        }
    }

    pub(super) fn on_churn_down(&mut self, id: u32, fault: u32, trace: &mut Trace<'_>) {
        let (mtbf, mttr) = self.churn_params(fault);
        if self.clients[id as usize].up {
            self.crash(id, trace);
            self.schedule_churn(id, fault, mttr, false);
        } else {
            // Already down through another fault: try again after another up time.
            self.schedule_churn(id, fault, mtbf, true);
        }
    }

    pub(super) fn on_churn_up(&mut self, id: u32, fault: u32, trace: &mut Trace<'_>) {
        let (mtbf, _) = self.churn_params(fault);
        self.restart(id, trace);
        self.schedule_churn(id, fault, mtbf, true);
    }

    /// Client `id` dies now: every detector watching it has a crash to detect, and a
    /// detector running in it loses its view of the server.
    fn crash(&mut self, id: u32, trace: &mut Trace<'_>) {
        let now = self.now;
        let ci = id as usize;
        if !self.clients[ci].up {
            return;
        }
        // Arrivals up to now have happened; the trace shows the true last arrival.
        self.clients[ci].settle(now);
        self.trace_verdict(None, ci, Verdict::Crashed, false, trace);
        let gi = self.clients[ci].group as usize;
        for di in 0..self.detectors.len() {
            let ledger = &mut self.detectors[di].ledger;
            if ledger.about_server {
                ledger.viewer_died(ci, gi, self.server.up, now);
            } else {
                ledger.subject_died(ci, gi, now);
            }
            self.feed(di, ci, Input::World(WorldEvent::ClientCrashed), trace);
        }
        let c = &mut self.clients[ci];
        c.up = false;
        c.generation = c.generation.wrapping_add(1);
        let g = &mut self.group_acc[gi];
        // Up time is summed as the ends of up periods minus their starts (the sum is
        // whole when the run ends; a start may come before its end is added).
        g.up_ns = g.up_ns.wrapping_add(now);
        g.crashes += 1;
        if let Some(t) = self.tcp.get_mut(ci) {
            // The host's stack dies with it: no more retransmissions.
            t.timer_armed = false;
            t.timer_generation = t.timer_generation.wrapping_add(1);
        }
        self.swim_crash(ci, trace);
    }

    /// Client `id` starts again now: its loop sends at once and it opens new connections.
    fn restart(&mut self, id: u32, trace: &mut Trace<'_>) {
        let now = self.now;
        let ci = id as usize;
        if self.clients[ci].up {
            return;
        }
        self.clients[ci].settle(now);
        self.trace_verdict(None, ci, Verdict::Restarted, true, trace);
        let gi = self.clients[ci].group as usize;
        for d in &mut self.detectors {
            if !d.ledger.about_server {
                d.ledger.subject_restarted(ci, gi, now);
            }
        }
        let c = &mut self.clients[ci];
        c.up = true;
        let g = &mut self.group_acc[gi];
        g.up_ns = g.up_ns.wrapping_sub(now);
        c.generation = c.generation.wrapping_add(1);
        // A restarted process starts its loop at once: first heartbeat now, and the
        // fixed-rate grid is re-anchored here.
        c.grid = now;
        let generation = c.generation;
        if let Some(n) = self.numbering.get_mut(ci) {
            // A new incarnation: its schedule starts now, numbered on.
            n.schedule.origin = now;
            n.schedule.first = n.next;
        }
        if let (Some(t), Some(p)) = (self.tcp.get_mut(ci), self.groups[gi].stream) {
            t.reconnect(&p);
        }
        if self.groups[gi].enabled {
            self.queue.push(
                now,
                Event::Send {
                    client: id,
                    generation,
                },
            );
        }
        self.open_connections(id);
        self.swim_restart(ci, trace);
    }
}
