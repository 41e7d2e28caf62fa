//! What is valid but probably not what the author meant: faults that do nothing (a
//! restart of a running client, a crash of a crashed one, a partition of a crashed one)
//! and a threshold shorter than the heartbeat interval. Commands print these on stderr
//! and go on.

use super::{DetectorKind, FaultAction, Scenario};
use crate::base::time::format_duration_spec;

/// Each warning with the JSON path it concerns, in the order of the file.
pub fn warnings(s: &Scenario) -> Vec<String> {
    let mut out = Vec::new();
    faults(s, &mut out);
    for (di, d) in s.detectors.iter().enumerate() {
        let DetectorKind::FixedTimeout(ft) = &d.kind else {
            continue;
        };
        for (gi, g) in s.groups.iter().enumerate() {
            let interval = g.heartbeat.interval;
            if g.heartbeat.enabled && ft.threshold < interval {
                out.push(format!(
                    "detectors[{di}].threshold: \"{}\" is shorter than clients[{gi}] (\"{}\")'s heartbeat interval \"{}\": a live client is offline between heartbeats",
                    format_duration_spec(ft.threshold.as_nanos()),
                    g.name,
                    format_duration_spec(interval.as_nanos())
                ));
            }
        }
    }
    out
}

/// Whether each client is up, fault by fault in the order the run applies them (time,
/// then file order). Clients under churn have no known state from the churn's start.
fn faults(s: &Scenario, out: &mut Vec<String>) {
    let start: Vec<usize> = s
        .groups
        .iter()
        .scan(0, |n, g| {
            let first = *n;
            *n += g.count as usize;
            Some(first)
        })
        .collect();
    let total: usize = s.groups.iter().map(|g| g.count as usize).sum();
    // Some(up) while known; None under churn.
    let mut up: Vec<Option<bool>> = vec![Some(true); total];
    let mut order: Vec<usize> = (0..s.faults.len()).collect();
    order.sort_by_key(|&i| (s.faults[i].at, i));
    for i in order {
        let f = &s.faults[i];
        let clients = f.targets.iter().flat_map(|r| {
            let base = start[r.group];
            (base + r.start as usize)..(base + r.end as usize)
        });
        let (mut pointless, mut first) = (0u64, None);
        let what = match f.action {
            FaultAction::Crash { .. } => "crash of",
            FaultAction::Restart => "restart of",
            FaultAction::Partition { .. } => "partition of",
            FaultAction::Churn { .. } => {
                for c in clients {
                    up[c] = None;
                }
                continue;
            }
            FaultAction::Pause { .. }
            | FaultAction::ServerStall { .. }
            | FaultAction::ServerCrash
            | FaultAction::ServerRestart
            | FaultAction::ClockStep { .. } => continue,
        };
        for c in clients {
            let (noop, next) = match (f.action, up[c]) {
                (_, None) => (false, None),
                (FaultAction::Crash { .. }, Some(state)) => (!state, Some(false)),
                (FaultAction::Restart, Some(state)) => (state, Some(true)),
                (_, Some(state)) => (!state, Some(state)),
            };
            if noop {
                pointless += 1;
                first.get_or_insert(c);
            }
            up[c] = next;
        }
        if let Some(c) = first {
            let gi = start.partition_point(|&s| s <= c) - 1;
            let state = if f.action == FaultAction::Restart {
                "running"
            } else {
                "crashed"
            };
            out.push(format!(
                "faults[{i}]: {what} {pointless} {state} client{} (first: {}[{}]) does nothing",
                if pointless == 1 { "" } else { "s" },
                s.groups[gi].name,
                c - start[gi]
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse;

    #[test]
    fn pointless_faults_and_short_thresholds_are_named() {
        let s = parse(
            r#"{ "name": "w", "duration": "10m",
                "clients": [{ "group": "a", "count": 2, "heartbeat": { "interval": "1s" } },
                            { "group": "b", "count": 3, "heartbeat": { "interval": "2s" } }],
                "detectors": [{ "name": "d", "kind": "fixed-timeout", "scan_interval": "1s", "threshold": "1500ms" }],
                "faults": [
                    { "at": "1m", "action": "restart", "clients": "b[1..2]" },
                    { "at": "2m", "action": "crash", "clients": "a" },
                    { "at": "3m", "action": "crash", "clients": "a[1..2]" },
                    { "at": "4m", "action": "partition", "for": "10s", "clients": "a" },
                    { "at": "5m", "action": "restart", "clients": "a" },
                    { "at": "6m", "action": "churn", "mtbf": "1m", "mttr": "10s", "clients": "b" },
                    { "at": "7m", "action": "restart", "clients": "b" }
                ] }"#,
        )
        .unwrap();
        assert_eq!(
            warnings(&s),
            [
                "faults[0]: restart of 1 running client (first: b[1]) does nothing",
                "faults[2]: crash of 1 crashed client (first: a[1]) does nothing",
                "faults[3]: partition of 2 crashed clients (first: a[0]) does nothing",
                "detectors[0].threshold: \"1500ms\" is shorter than clients[1] (\"b\")'s heartbeat interval \"2s\": a live client is offline between heartbeats",
            ]
        );
    }
}
