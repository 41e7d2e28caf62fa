//! What theory says a fixed-timeout detector should show for one client group, where the
//! scenario meets the assumptions (failure-detectors reference §1.2), beside what the
//! simulation observed, with a verdict.
//!
//! Hard bounds (the detection-latency range) must hold: an observed value outside them is
//! a bug, and `hbsim check` fails on it. Expectations (mean latency, false-positive rate,
//! mean mistake duration) are compared with the observed value's confidence interval.

use crate::base::rng::Dist;
use crate::scenario::{
    DetectorKind, Elapsed, FaultAction, FixedTimeout, Group, Loss, Phase, Rejoin, Scenario,
    Schedule, Transport,
};
use serde::Serialize;

/// A hard range for detection latency.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Bounds {
    pub applies: bool,
    /// Why not, when it does not apply.
    pub reason: Option<String>,
    /// Lower bound, where one holds (it needs a loss-free link).
    pub min_ns: Option<u64>,
    pub max_ns: Option<u64>,
    /// `consistent`, `outside`, or `no samples`.
    pub verdict: Option<String>,
}

/// An expected value compared with the observed one's interval.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Expected {
    pub applies: bool,
    pub reason: Option<String>,
    pub expected: Option<f64>,
    /// `consistent` (inside the observed interval), `outside`, or `no samples`.
    pub verdict: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Analytic {
    pub detection_latency: Bounds,
    /// Expected mean detection latency, ns.
    pub detection_latency_mean_ns: Expected,
    /// Expected spurious false positives per client-hour.
    pub spurious_per_client_hour: Expected,
    /// Expected mean mistake duration, ns.
    pub mistake_duration_mean_ns: Expected,
}

/// What the simulation observed, as the analysis needs it.
pub struct Observed {
    pub latency_min: Option<u64>,
    pub latency_max: Option<u64>,
    pub latency_mean_ci: Option<[u64; 2]>,
    pub latency_count: u64,
    pub spurious_per_client_hour_ci: Option<[f64; 2]>,
    pub mistake_mean_ci: Option<[u64; 2]>,
    pub mistake_count: u64,
}

fn bounded(d: &Option<Dist>) -> Option<(u64, u64)> {
    match d {
        None => Some((0, 0)),
        Some(d) => d.upper_bound().map(|hi| (d.lower_bound(), hi)),
    }
}

fn not(reason: &str) -> Expected {
    Expected {
        applies: false,
        reason: Some(reason.to_string()),
        expected: None,
        verdict: None,
    }
}

fn judge(expected: f64, ci: Option<[f64; 2]>, samples: u64) -> Expected {
    let verdict = match ci {
        _ if samples == 0 => "no samples",
        Some([lo, hi]) if lo <= expected && expected <= hi => "consistent",
        Some(_) => "outside",
        None => "no samples",
    };
    Expected {
        applies: true,
        reason: None,
        expected: Some(expected),
        verdict: Some(verdict.to_string()),
    }
}

impl Analytic {
    /// Nothing applies, for `reason`.
    pub fn none(reason: &str) -> Self {
        Analytic {
            detection_latency: Bounds {
                applies: false,
                reason: Some(reason.into()),
                min_ns: None,
                max_ns: None,
                verdict: None,
            },
            detection_latency_mean_ns: not(reason),
            spurious_per_client_hour: not(reason),
            mistake_duration_mean_ns: not(reason),
        }
    }
}

/// The analysis of `detector` on group `g` of `s`.
pub fn analyse(s: &Scenario, g: &Group, ft: &FixedTimeout, seen: &Observed) -> Analytic {
    let disturbed = disturbed(s, g);
    let hb = &g.heartbeat;
    let (t, h, s_int) = (
        ft.threshold.as_nanos(),
        hb.interval.as_nanos(),
        ft.scan_interval.as_nanos(),
    );
    let general = if g.transport != Transport::Datagram {
        Some("stream transport retransmits: delays are not bounded by the link")
    } else if ft.elapsed != Elapsed::Total {
        Some("the seconds-component rule is not monotone in elapsed time")
    } else if disturbed {
        Some("pauses, partitions, stalls, clock steps or server crashes break the assumptions")
    } else {
        None
    };
    let delay = bounded(&g.uplink.delay);
    let overshoot = bounded(&hb.overshoot);
    let no_drift = hb.drift_ppm == crate::scenario::Drift::Fixed(0.0);
    // The longest wait between scans (a Sleep loop's gap is the interval plus its
    // overshoot; timer rounding adds less than one step), and whether scans keep an
    // exact grid of `s_int`.
    let scan_gap = ft.max_scan_gap(bounded(&ft.scan_overshoot).map(|(_, o)| o));
    let grid_scans = ft.scan_schedule == Schedule::FixedRate && ft.timer_resolution.is_zero();
    let h_round = hb.timer_resolution.as_nanos();

    // Hard latency bounds: a crash at c leaves the last arrival at most d_max after c,
    // and the first scan at or after arrival + T comes less than one scan interval later;
    // without loss, the last heartbeat was sent at most one send gap before c.
    let detection_latency = match (general, delay, scan_gap) {
        (Some(r), _, _) => Bounds {
            applies: false,
            reason: Some(r.into()),
            min_ns: None,
            max_ns: None,
            verdict: None,
        },
        (None, None, _) => Bounds {
            applies: false,
            reason: Some("the delay distribution is unbounded".into()),
            min_ns: None,
            max_ns: None,
            verdict: None,
        },
        (None, Some(_), None) => Bounds {
            applies: false,
            reason: Some("the scanner's overshoot is unbounded".into()),
            min_ns: None,
            max_ns: None,
            verdict: None,
        },
        (None, Some((d_min, d_max)), Some(scan_gap)) => {
            let max = t + d_max + scan_gap;
            let gap = match (overshoot, no_drift) {
                (Some((_, o_max)), true) => Some(match hb.schedule {
                    Schedule::FixedRate => h + 2 * hb.jitter.as_nanos() + o_max + h_round,
                    Schedule::FixedDelay => h + hb.jitter.as_nanos() + o_max + h_round,
                }),
                _ => None,
            };
            let min = match (g.uplink.loss, gap) {
                (Loss::None, Some(gap)) => Some((t + d_min).saturating_sub(gap)),
                _ => None,
            };
            let verdict = match (seen.latency_min, seen.latency_max) {
                (Some(lo), Some(hi)) => {
                    let inside = hi <= max && min.is_none_or(|m| lo >= m);
                    if inside {
                        "consistent"
                    } else {
                        "outside"
                    }
                }
                _ => "no samples",
            };
            Bounds {
                applies: true,
                reason: None,
                min_ns: min,
                max_ns: Some(max),
                verdict: Some(verdict.into()),
            }
        }
    };

    // Mean latency: T + d̄ − E[u] + E[w], with u (time since the last send) ~ U(0, h] and
    // w (wait for the next scan) ~ U[0, s) when phases are random.
    let detection_latency_mean_ns = if let Some(r) = general {
        not(r)
    } else if t < h {
        // The formula assumes the client is online when it crashes; with a threshold
        // below the interval it is offline for part of every gap.
        not("the threshold is shorter than the heartbeat interval: a live client is offline between heartbeats")
    } else if hb.phase != Phase::Random {
        not("phases are not random: the latency depends on the fixed phases")
    } else if g.uplink.loss != Loss::None {
        not("losses make the last arrival older")
    } else if hb.overshoot.is_some()
        || !no_drift
        || hb.schedule != Schedule::FixedRate
        || h_round != 0
    {
        not("needs a fixed-rate schedule without overshoot, timer rounding or drift")
    } else if !grid_scans {
        not("needs scans on a fixed-rate grid without timer rounding")
    } else {
        let d_mean = g.uplink.delay.as_ref().map_or(Some(0.0), Dist::mean);
        match d_mean {
            None => not("the delay has no finite mean"),
            Some(d) => judge(
                t as f64 + d - h as f64 / 2.0 + s_int as f64 / 2.0,
                seen.latency_mean_ci.map(|c| [c[0] as f64, c[1] as f64]),
                seen.latency_count,
            ),
        }
    };

    // False positives under Bernoulli loss with constant delay: a silence needs K ≥ m =
    // ⌊T/h⌋ losses after a received heartbeat; with (m+1)h − T ≥ s every such silence
    // contains a scan, so λ_M = (1−p)·p^m / h.
    let m = t / h;
    let fp_assumptions = match (general, &g.uplink.loss, &g.uplink.delay) {
        (Some(r), _, _) => Err(r),
        (_, Loss::Bernoulli { .. }, Some(Dist::Constant { .. }) | None)
            if hb.jitter.is_zero()
                && hb.overshoot.is_none()
                && h_round == 0
                && no_drift
                && hb.schedule == Schedule::FixedRate
                && g.uplink.duplicate == 0.0
                && ft.rejoin == Rejoin::Announce =>
        {
            Ok(())
        }
        _ => Err("needs Bernoulli loss, constant delay, fixed-rate heartbeats without jitter, overshoot, timer rounding, drift or duplicates, and rejoin announce"),
    };
    let p = match g.uplink.loss {
        Loss::Bernoulli { p } => p,
        _ => 0.0,
    };
    let spurious_per_client_hour = match fp_assumptions {
        Err(r) => not(r),
        Ok(()) if scan_gap.is_none_or(|gap| (m + 1) * h < t + gap) => {
            not("scans are too sparse: short silences are caught only by chance")
        }
        Ok(()) => judge(
            3600e9 * (1.0 - p) * libm::pow(p, m as f64) / h as f64,
            seen.spurious_per_client_hour_ci,
            1,
        ),
    };
    let mistake_duration_mean_ns = match fp_assumptions {
        Err(r) => not(r),
        Ok(()) if s_int != 0 => not("needs continuous checking (scan_interval \"0s\")"),
        Ok(()) if p >= 1.0 => not("every heartbeat is lost"),
        Ok(()) => judge(
            (h * (m + 1) - t) as f64 + h as f64 * p / (1.0 - p),
            seen.mistake_mean_ci.map(|c| [c[0] as f64, c[1] as f64]),
            seen.mistake_count,
        ),
    };
    Analytic {
        detection_latency,
        detection_latency_mean_ns,
        spurious_per_client_hour,
        mistake_duration_mean_ns,
    }
}

/// Faults that break the assumptions of every closed form for group `g`: any that
/// touches the server, and pauses or partitions of the group's own clients.
fn disturbed(s: &Scenario, g: &Group) -> bool {
    let gi = s.groups.iter().position(|x| x.name == g.name);
    s.faults.iter().any(|f| match f.action {
        FaultAction::ServerStall { .. }
        | FaultAction::ClockStep { .. }
        | FaultAction::ServerCrash
        | FaultAction::ServerRestart => true,
        FaultAction::Pause { .. } | FaultAction::Partition { .. } => {
            f.targets.iter().any(|r| Some(r.group) == gi)
        }
        FaultAction::Crash { .. } | FaultAction::Restart | FaultAction::Churn { .. } => false,
    })
}

/// The analysis of a freshness-point detector (`nfd-s`, `nfd-e`, `bertier`) on group `g`
/// of `s`, from its effective shift δ: NFD-S's own; NFD-E's `d + α` and Bertier's `d`
/// (its margin stays 0) under constant delay `d` and an exact schedule, where every
/// estimate is exact (tests/it/literature.rs derives the forms).
pub fn analyse_freshness(
    s: &Scenario,
    g: &Group,
    kind: &DetectorKind,
    seen: &Observed,
) -> Analytic {
    let hb = &g.heartbeat;
    let h = hb.interval.as_nanos();
    let no_drift = hb.drift_ppm == crate::scenario::Drift::Fixed(0.0);
    let exact_schedule =
        hb.jitter.is_zero() && hb.overshoot.is_none() && hb.timer_resolution.is_zero();
    let constant = match &g.uplink.delay {
        None => Some(0),
        Some(Dist::Constant { value }) => Some(*value),
        Some(_) => None,
    };
    if disturbed(s, g) {
        return Analytic::none(
            "pauses, partitions, stalls, clock steps or server crashes break the assumptions",
        );
    }
    if hb.schedule != Schedule::FixedRate || !no_drift {
        return Analytic::none(
            "the freshness points assume the nominal fixed-rate schedule, which a fixed-delay loop or a drifting clock leaves",
        );
    }
    let shift = match kind {
        DetectorKind::NfdS(c) => c.shift.as_nanos(),
        DetectorKind::NfdE(c) => match constant {
            Some(d) if exact_schedule => d + c.margin.as_nanos(),
            _ => return Analytic::none(
                "nfd-e's closed forms need constant delay and heartbeats without jitter or overshoot (it is then nfd-s with shift = delay + margin)",
            ),
        },
        DetectorKind::Bertier(_) => match constant {
            Some(d) if exact_schedule => d,
            _ => return Analytic::none(
                "bertier's closed forms need constant delay and heartbeats without jitter or overshoot (its margin then stays 0: nfd-s with shift = delay)",
            ),
        },
        DetectorKind::FixedTimeout(_)
        | DetectorKind::PhiAccrual(_)
        | DetectorKind::Ping(_)
        | DetectorKind::TcpKeepalive(_)
        | DetectorKind::Swim(_) => {
            return Analytic::none("not a freshness-point detector")
        }
    };
    let (j, o_max) = (
        hb.jitter.as_nanos(),
        match bounded(&hb.overshoot) {
            Some((_, o)) => o,
            None => {
                return Analytic::none("the timer overshoot is unbounded");
            }
        },
    );
    let d_max = bounded(&g.uplink.delay).map(|(_, hi)| hi);
    let lossless = g.uplink.loss == Loss::None;

    // Hard bounds: a crash at c after the last send, of m_J (sent no earlier than
    // σ_J − j), is suspected by τ_{J+1} = σ_J + η + δ at the latest; without loss and
    // with every heartbeat fresh (d_max + j + o_max ≤ δ), not before τ_{J+1}, and the
    // next send was due by σ_{J+1} + j + o_max.
    let max = shift + h + j;
    let min = match d_max {
        Some(d) if lossless && d + j + o_max <= shift => Some(shift - j - o_max),
        _ => None,
    };
    let verdict = match (seen.latency_min, seen.latency_max) {
        (Some(lo), Some(hi)) if hi <= max && min.is_none_or(|m| lo >= m) => "consistent",
        (Some(_), Some(_)) => "outside",
        _ => "no samples",
    };
    let detection_latency = Bounds {
        applies: true,
        reason: None,
        min_ns: min,
        max_ns: Some(max),
        verdict: Some(verdict.into()),
    };

    // Mean latency δ + η/2: the crash instant is uniform in the gap between two sends.
    let detection_latency_mean_ns = if hb.phase != Phase::Random {
        not("phases are not random: the latency depends on the fixed phases")
    } else if !lossless {
        not("losses make the client suspected early")
    } else if !exact_schedule {
        not("needs heartbeats without jitter or overshoot")
    } else if d_max.is_none_or(|d| d > shift) {
        not("needs every heartbeat to arrive before its freshness point (delay at most the shift)")
    } else {
        judge(
            shift as f64 + h as f64 / 2.0,
            seen.latency_mean_ci.map(|c| [c[0] as f64, c[1] as f64]),
            seen.latency_count,
        )
    };

    // Mistakes under Bernoulli loss p and constant delay d ≤ δ: the k = ⌊(δ − d)/η⌋ + 1
    // heartbeats m_i … m_{i+k−1} arrive by τ_i, so a mistake starts at τ_i when all are
    // lost and m_{i−1} was not: rate (1 − p)·p^k/η; it lasts until the next heartbeat
    // arrives, kη + η·p/(1 − p) + d − δ on average.
    let p = match g.uplink.loss {
        Loss::Bernoulli { p } => Some(p),
        Loss::None => Some(0.0),
        Loss::GilbertElliott { .. } => None,
    };
    let fp = match (p, constant) {
        _ if !exact_schedule || g.uplink.duplicate != 0.0 => Err("needs Bernoulli loss, constant delay, and heartbeats without jitter, overshoot or duplicates"),
        (Some(p), Some(d)) if d <= shift => Ok((p, d)),
        (Some(_), Some(_)) => Err("the delay exceeds the shift: every heartbeat arrives after its freshness point"),
        _ => Err("needs Bernoulli loss, constant delay, and heartbeats without jitter, overshoot or duplicates"),
    };
    let (spurious_per_client_hour, mistake_duration_mean_ns) = match fp {
        Err(r) => (not(r), not(r)),
        Ok((p, d)) => {
            let k = (shift - d) / h + 1;
            let rate = 3600e9 * (1.0 - p) * libm::pow(p, k as f64) / h as f64;
            let duration = if p >= 1.0 {
                not("every heartbeat is lost")
            } else {
                judge(
                    (k * h) as f64 + h as f64 * p / (1.0 - p) + d as f64 - shift as f64,
                    seen.mistake_mean_ci.map(|c| [c[0] as f64, c[1] as f64]),
                    seen.mistake_count,
                )
            };
            (judge(rate, seen.spurious_per_client_hour_ci, 1), duration)
        }
    };
    Analytic {
        detection_latency,
        detection_latency_mean_ns,
        spurious_per_client_hour,
        mistake_duration_mean_ns,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{parse, DetectorKind};

    fn setup(loss: &str, scan: &str) -> (Scenario, FixedTimeout) {
        let s = parse(&format!(
            r#"{{ "name": "a", "duration": "1h",
                "clients": [{{ "group": "g", "count": 1, "heartbeat": {{ "interval": "1s" }},
                    "uplink": {{ "delay": {{ "dist": "uniform", "min": "10ms", "max": "50ms" }}, "loss": {loss} }} }}],
                "detectors": [{{ "name": "d", "kind": "fixed-timeout", "scan_interval": "{scan}", "threshold": "3s" }}] }}"#
        ))
        .unwrap();
        let DetectorKind::FixedTimeout(ft) = &s.detectors[0].kind else {
            unreachable!("a fixed-timeout detector")
        };
        (s.clone(), ft.clone())
    }

    fn seen(min: u64, max: u64) -> Observed {
        Observed {
            latency_min: Some(min),
            latency_max: Some(max),
            latency_mean_ci: Some([3_000_000_000, 3_100_000_000]),
            latency_count: 10,
            spurious_per_client_hour_ci: None,
            mistake_mean_ci: None,
            mistake_count: 0,
        }
    }

    #[test]
    fn latency_bounds_follow_the_closed_form_and_flag_violations() {
        let (s, ft) = setup(r#"{ "model": "none" }"#, "1s");
        let a = analyse(&s, &s.groups[0], &ft, &seen(2_500_000_000, 4_000_000_000));
        // [T + d_min − h, T + d_max + s] = [2.01 s, 4.05 s].
        assert_eq!(a.detection_latency.min_ns, Some(2_010_000_000));
        assert_eq!(a.detection_latency.max_ns, Some(4_050_000_000));
        assert_eq!(a.detection_latency.verdict.as_deref(), Some("consistent"));
        let a = analyse(&s, &s.groups[0], &ft, &seen(2_500_000_000, 4_060_000_000));
        assert_eq!(a.detection_latency.verdict.as_deref(), Some("outside"));
        let a = analyse(&s, &s.groups[0], &ft, &seen(2_000_000_000, 4_000_000_000));
        assert_eq!(a.detection_latency.verdict.as_deref(), Some("outside"));
        // Mean: T + d̄ − h/2 + s/2 = 3 + 0.03 − 0.5 + 0.5 = 3.03 s, inside [3.0, 3.1].
        assert_eq!(a.detection_latency_mean_ns.expected, Some(3_030_000_000.0));
        assert_eq!(
            a.detection_latency_mean_ns.verdict.as_deref(),
            Some("consistent")
        );
    }

    #[test]
    fn loss_removes_the_lower_bound_and_rate_formulas_state_why_they_do_not_apply() {
        let (s, ft) = setup(r#"{ "model": "bernoulli", "p": 0.1 }"#, "1s");
        let a = analyse(&s, &s.groups[0], &ft, &seen(100, 4_000_000_000));
        assert_eq!(a.detection_latency.min_ns, None);
        assert_eq!(a.detection_latency.verdict.as_deref(), Some("consistent"));
        assert!(!a.spurious_per_client_hour.applies);
        assert!(a
            .spurious_per_client_hour
            .reason
            .unwrap()
            .contains("constant delay"));
    }
}

#[cfg(test)]
mod freshness_tests {
    use super::*;
    use crate::scenario::parse;

    fn setup(delay: &str, loss: &str, detector: &str) -> Scenario {
        parse(&format!(
            r#"{{ "name": "a", "duration": "1h",
                "clients": [{{ "group": "g", "count": 1, "heartbeat": {{ "interval": "1s" }},
                    "uplink": {{ "delay": {delay}, "loss": {loss} }} }}],
                "detectors": [{detector}] }}"#
        ))
        .unwrap()
    }

    fn seen(min: u64, max: u64) -> Observed {
        Observed {
            latency_min: Some(min),
            latency_max: Some(max),
            latency_mean_ci: Some([1_000_000_000, 1_040_000_000]),
            latency_count: 10,
            spurious_per_client_hour_ci: Some([300.0, 330.0]),
            mistake_mean_ci: Some([600_000_000, 620_000_000]),
            mistake_count: 10,
        }
    }

    const CONSTANT: &str = r#"{ "dist": "constant", "value": "20ms" }"#;
    const LOSSLESS: &str = r#"{ "model": "none" }"#;
    const LOSSY: &str = r#"{ "model": "bernoulli", "p": 0.1 }"#;

    #[test]
    fn nfd_s_bounds_are_shift_to_shift_plus_interval_and_flag_violations() {
        let s = setup(
            CONSTANT,
            LOSSLESS,
            r#"{ "name": "s", "kind": "nfd-s", "shift": "520ms" }"#,
        );
        let a = analyse_freshness(
            &s,
            &s.groups[0],
            &s.detectors[0].kind,
            &seen(600_000_000, 1_500_000_000),
        );
        let b = &a.detection_latency;
        assert_eq!(
            (b.min_ns, b.max_ns),
            (Some(520_000_000), Some(1_520_000_000))
        );
        assert_eq!(b.verdict.as_deref(), Some("consistent"));
        assert_eq!(a.detection_latency_mean_ns.expected, Some(1.02e9));
        let a = analyse_freshness(
            &s,
            &s.groups[0],
            &s.detectors[0].kind,
            &seen(600_000_000, 1_520_000_001),
        );
        assert_eq!(a.detection_latency.verdict.as_deref(), Some("outside"));
        let a = analyse_freshness(
            &s,
            &s.groups[0],
            &s.detectors[0].kind,
            &seen(519_999_999, 1_000_000_000),
        );
        assert_eq!(a.detection_latency.verdict.as_deref(), Some("outside"));
    }

    #[test]
    fn mistakes_follow_the_closed_forms_for_each_kind() {
        // nfd-s δ = 520 ms, nfd-e α = 500 ms and bertier (δ = d) under d = 20 ms, p = 0.1.
        for (detector, duration) in [
            (
                r#"{ "name": "s", "kind": "nfd-s", "shift": "520ms" }"#,
                611.111e6,
            ),
            (
                r#"{ "name": "e", "kind": "nfd-e", "margin": "500ms" }"#,
                611.111e6,
            ),
            (r#"{ "name": "b", "kind": "bertier" }"#, 1111.111e6),
            // δ − d = 1.5 η: two heartbeats must be lost, rate (1 − p)p²/η, mean
            // 2η + ηp/(1 − p) + d − δ = 611.1 ms.
            (
                r#"{ "name": "l", "kind": "nfd-s", "shift": "1520ms" }"#,
                611.111e6,
            ),
        ] {
            let s = setup(CONSTANT, LOSSY, detector);
            let a = analyse_freshness(&s, &s.groups[0], &s.detectors[0].kind, &seen(0, 1));
            let k = if detector.contains("1520") { 2 } else { 1 };
            let rate = a.spurious_per_client_hour.expected.unwrap();
            assert!(
                (rate - 3600.0 * 0.9 * 0.1f64.powi(k)).abs() < 1e-9,
                "{detector}: {rate}"
            );
            let m = a.mistake_duration_mean_ns.expected.unwrap();
            assert!((m - duration).abs() < 1e3, "{detector}: {m}");
            // With loss there is no lower bound and no mean latency.
            assert_eq!(a.detection_latency.min_ns, None);
            assert!(!a.detection_latency_mean_ns.applies);
        }
    }

    #[test]
    fn estimating_kinds_need_constant_delay_and_say_so() {
        let jitter = r#"{ "dist": "uniform", "min": "10ms", "max": "50ms" }"#;
        for detector in [
            r#"{ "name": "e", "kind": "nfd-e", "margin": "500ms" }"#,
            r#"{ "name": "b", "kind": "bertier" }"#,
        ] {
            let s = setup(jitter, LOSSLESS, detector);
            let a = analyse_freshness(&s, &s.groups[0], &s.detectors[0].kind, &seen(0, 1));
            assert!(!a.detection_latency.applies);
            assert!(a
                .detection_latency
                .reason
                .unwrap()
                .contains("constant delay"));
        }
        // nfd-s keeps its hard bounds under jitter: the schedule, not the delay, sets them.
        let s = setup(
            jitter,
            LOSSLESS,
            r#"{ "name": "s", "kind": "nfd-s", "shift": "520ms" }"#,
        );
        let a = analyse_freshness(&s, &s.groups[0], &s.detectors[0].kind, &seen(0, 1));
        assert_eq!(a.detection_latency.min_ns, Some(520_000_000));
        assert!(!a.spurious_per_client_hour.applies);
    }
}
