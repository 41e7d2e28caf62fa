//! The `detectors` section: one parser per kind, and the rules every kind shares.

use super::validate::*;
use super::*;

impl Validator {
    pub(super) fn detectors(&mut self, v: Option<&Value>) -> Option<Vec<Detector>> {
        if let Some(n) = v.and_then(Value::as_array).map(Vec::len) {
            if n > DETECTORS_MAX {
                self.problem(
                    "detectors",
                    format!("{n} detectors, more than the {DETECTORS_MAX} a run can hold"),
                );
                return None;
            }
        }
        self.named_list(v, "detectors", "name", Self::detector, |d| &d.name)
    }

    pub(super) fn phi(&mut self, v: &Value, path: &str, name: Option<String>) -> Option<Detector> {
        let map = self.object(
            v,
            path,
            &[
                "name",
                "kind",
                "scan_interval",
                "scan_phase",
                "threshold",
                "variant",
                "max_sample_size",
                "min_std_deviation",
                "acceptable_heartbeat_pause",
                "first_heartbeat_estimate",
                "max_interval",
                "local_pause",
                "rejoin",
            ],
        )?;
        let dur = |v: &mut Self, key: &str, default: SimDuration, positive: bool| {
            v.optional_duration(map, path, key, default, positive)
        };
        let scan_interval = dur(self, "scan_interval", SimDuration::ZERO, false);
        let scan_phase = dur(self, "scan_phase", SimDuration::ZERO, false);
        let min_std = dur(
            self,
            "min_std_deviation",
            SimDuration::from_millis(100),
            true,
        );
        let pause = dur(
            self,
            "acceptable_heartbeat_pause",
            SimDuration::from_secs(3),
            false,
        );
        let estimate = dur(
            self,
            "first_heartbeat_estimate",
            SimDuration::from_secs(1),
            true,
        );
        let max_interval = match (map.get("max_interval"), estimate) {
            (Some(d), _) => self.positive_duration(d, &join(path, "max_interval")),
            (None, Some(e)) => Some(SimDuration::from_nanos(2 * e.as_nanos())),
            (None, None) => None,
        };
        let local_pause = dur(self, "local_pause", SimDuration::from_secs(5), true);
        let threshold = match map.get("threshold") {
            None => Some(8.0),
            Some(t) => self.positive_number(t, &join(path, "threshold")),
        };
        let variant = self.optional_choice(
            map,
            path,
            "variant",
            &[
                ("normal", PhiVariant::Normal),
                ("exponential", PhiVariant::Exponential),
            ],
            PhiVariant::Normal,
        );
        let samples = self.optional_integer(map, path, "max_sample_size", (2, 100_000), 1000);
        let rejoin = self.rejoin(map, path);
        Some(Detector {
            name: name?,
            kind: DetectorKind::PhiAccrual(PhiAccrual {
                scan_interval: scan_interval?,
                scan_phase: scan_phase?,
                threshold: threshold?,
                variant: variant?,
                max_sample_size: samples? as u32,
                min_std_deviation: min_std?,
                acceptable_heartbeat_pause: pause?,
                first_heartbeat_estimate: estimate?,
                max_interval: max_interval?,
                local_pause: local_pause?,
                rejoin: rejoin?,
            }),
        })
    }

    pub(super) fn keepalive(
        &mut self,
        v: &Value,
        path: &str,
        name: Option<String>,
    ) -> Option<Detector> {
        let map = self.object(
            v,
            path,
            &[
                "name",
                "kind",
                "idle",
                "interval",
                "probes",
                "user_timeout",
                "timer_hz",
                "rejoin",
            ],
        )?;
        let idle = self
            .required(map, path, "idle")
            .and_then(|i| self.positive_duration(i, &join(path, "idle")));
        let interval = self
            .required(map, path, "interval")
            .and_then(|i| self.positive_duration(i, &join(path, "interval")));
        let probes = self
            .required(map, path, "probes")
            .and_then(|p| self.integer(p, &join(path, "probes"), 1, 1000));
        let user_timeout = match map.get("user_timeout") {
            None => Some(None),
            Some(u) => self
                .positive_duration(u, &join(path, "user_timeout"))
                .map(Some),
        };
        let timer_hz = match map.get("timer_hz") {
            None => Some(None),
            Some(h) => match h.as_u64() {
                Some(hz @ (100 | 250 | 300 | 1000)) => Some(Some(hz as u32)),
                _ => {
                    self.problem(
                        &join(path, "timer_hz"),
                        format!(
                            "expected the kernel's HZ, one of 100, 250, 300 or 1000 (got {})",
                            show(h)
                        ),
                    );
                    None
                }
            },
        };
        let rejoin = self.rejoin(map, path);
        Some(Detector {
            name: name?,
            kind: DetectorKind::TcpKeepalive(TcpKeepalive {
                idle: idle?,
                interval: interval?,
                probes: probes? as u32,
                user_timeout: user_timeout?,
                timer_hz: timer_hz?,
                rejoin: rejoin?,
            }),
        })
    }

    pub(super) fn ping(&mut self, v: &Value, path: &str, name: Option<String>) -> Option<Detector> {
        let map = self.object(
            v,
            path,
            &[
                "name",
                "kind",
                "direction",
                "interval",
                "timeout",
                "misses",
                "bytes",
                "rejoin",
            ],
        )?;
        let client_to_server = self.optional_choice(
            map,
            path,
            "direction",
            &[("server-to-client", false), ("client-to-server", true)],
            false,
        );
        let interval = self
            .required(map, path, "interval")
            .and_then(|i| self.positive_duration(i, &join(path, "interval")));
        let timeout = self
            .required(map, path, "timeout")
            .and_then(|t| self.positive_duration(t, &join(path, "timeout")));
        if let (Some(i), Some(t)) = (interval, timeout) {
            if t > i {
                self.problem(
                    &join(path, "timeout"),
                    format!(
                        "must not exceed the ping interval \"{}\" (got \"{}\")",
                        format_duration_spec(i.as_nanos()),
                        format_duration_spec(t.as_nanos())
                    ),
                );
            }
        }
        let misses = self.optional_integer(map, path, "misses", (1, 1000), 1);
        let bytes = self.optional_integer(map, path, "bytes", (0, u32::MAX as u64), 64);
        let rejoin = self.rejoin(map, path);
        let (interval, timeout) = (interval?, timeout?);
        if timeout > interval {
            return None;
        }
        Some(Detector {
            name: name?,
            kind: DetectorKind::Ping(Ping {
                client_to_server: client_to_server?,
                interval,
                timeout,
                misses: misses? as u32,
                bytes: bytes? as u32,
                rejoin: rejoin?,
            }),
        })
    }

    /// A number in `range` (inclusive), or `default` when absent.
    fn optional_real(
        &mut self,
        map: &Map<String, Value>,
        path: &str,
        key: &str,
        range: std::ops::RangeInclusive<f64>,
        default: f64,
    ) -> Option<f64> {
        let Some(v) = map.get(key) else {
            return Some(default);
        };
        match v.as_f64() {
            Some(x) if range.contains(&x) => Some(x),
            _ => {
                self.problem(
                    &join(path, key),
                    format!(
                        "expected a number in {}..={} (got {})",
                        range.start(),
                        range.end(),
                        show(v)
                    ),
                );
                None
            }
        }
    }

    /// `nfd-s`, `nfd-e` and `bertier` (Chen et al. 2002; Bertier et al. 2002).
    pub(super) fn freshness(
        &mut self,
        v: &Value,
        path: &str,
        kind: &str,
        name: Option<String>,
    ) -> Option<Detector> {
        let keys: &[&str] = match kind {
            "nfd-s" => &["name", "kind", "shift"],
            "nfd-e" => &["name", "kind", "window", "margin"],
            _ => &["name", "kind", "window", "beta", "phi", "gamma"],
        };
        let map = self.object(v, path, keys)?;
        let kind = match kind {
            "nfd-s" => {
                let shift = self
                    .required(map, path, "shift")
                    .and_then(|d| self.positive_duration(d, &join(path, "shift")));
                DetectorKind::NfdS(NfdS { shift: shift? })
            }
            "nfd-e" => {
                let window = self.optional_integer(map, path, "window", (1, 100_000), 100);
                let margin = self
                    .required(map, path, "margin")
                    .and_then(|d| self.duration(d, &join(path, "margin")));
                DetectorKind::NfdE(NfdE {
                    window: window? as u32,
                    margin: margin?,
                })
            }
            _ => {
                let window = self.optional_integer(map, path, "window", (1, 100_000), 100);
                let beta = self.optional_real(map, path, "beta", 0.0..=1000.0, 1.0);
                let phi = self.optional_real(map, path, "phi", 0.0..=1000.0, 4.0);
                let gamma = self.optional_real(map, path, "gamma", 0.0..=1.0, 0.1);
                if gamma == Some(0.0) {
                    self.problem(
                        &join(path, "gamma"),
                        "must be greater than 0 (a gain of 0 never learns)",
                    );
                    return None;
                }
                DetectorKind::Bertier(Bertier {
                    window: window? as u32,
                    beta: beta?,
                    phi: phi?,
                    gamma: gamma?,
                })
            }
        };
        Some(Detector { name: name?, kind })
    }

    pub(super) fn detector(&mut self, v: &Value, path: &str) -> Option<Detector> {
        const KINDS: [&str; 8] = [
            "fixed-timeout",
            "phi-accrual",
            "ping",
            "tcp-keepalive",
            "nfd-s",
            "nfd-e",
            "bertier",
            "swim",
        ];
        let kind = match v.get("kind") {
            Some(k) => self.choice(k, &join(path, "kind"), &KINDS),
            None => {
                if v.is_object() {
                    self.problem(
                        &join(path, "kind"),
                        "missing required field (one of: fixed-timeout, phi-accrual, ping, tcp-keepalive, nfd-s, nfd-e, bertier, swim)",
                    );
                }
                None
            }
        };
        if let Some(
            k @ ("tcp-keepalive" | "ping" | "phi-accrual" | "nfd-s" | "nfd-e" | "bertier" | "swim"),
        ) = kind
        {
            let name = v
                .get("name")
                .map(|n| self.identifier(n, &join(path, "name"), "a detector name"))
                .unwrap_or_else(|| {
                    self.problem(&join(path, "name"), "missing required field");
                    None
                });
            return match k {
                "tcp-keepalive" => self.keepalive(v, path, name),
                "ping" => self.ping(v, path, name),
                "phi-accrual" => self.phi(v, path, name),
                "swim" => self.swim(v, path, name),
                _ => self.freshness(v, path, k, name),
            };
        }
        let map = self.object(
            v,
            path,
            &[
                "name",
                "kind",
                "scan_interval",
                "scan_phase",
                "scan_schedule",
                "scan_overshoot",
                "timer_resolution",
                "threshold",
                "elapsed",
                "rejoin",
            ],
        )?;
        let name = self
            .required(map, path, "name")
            .and_then(|n| self.identifier(n, &join(path, "name"), "a detector name"));
        kind?;
        let scan_interval = self
            .required(map, path, "scan_interval")
            .and_then(|s| self.duration(s, &join(path, "scan_interval")));
        let scan_phase = self.optional_duration(map, path, "scan_phase", SimDuration::ZERO, false);
        let scan_schedule = self.optional_choice(
            map,
            path,
            "scan_schedule",
            &[
                ("fixed-rate", Schedule::FixedRate),
                ("fixed-delay", Schedule::FixedDelay),
            ],
            Schedule::FixedRate,
        );
        let scan_overshoot = match map.get("scan_overshoot") {
            None => Some(None),
            Some(o) => self.dist(o, &join(path, "scan_overshoot")).map(Some),
        };
        let timer_resolution =
            self.optional_duration(map, path, "timer_resolution", SimDuration::ZERO, false);
        if let (Some(Schedule::FixedDelay), Some(i)) = (scan_schedule, scan_interval) {
            if i.is_zero() {
                self.problem(
                    &join(path, "scan_interval"),
                    "must be positive with scan_schedule \"fixed-delay\" (a Sleep loop of 0 never sleeps; use \"fixed-rate\" for continuous checking) (got \"0s\")",
                );
            }
        }
        if let (Some(r), Some(i)) = (timer_resolution, scan_interval) {
            if !r.is_zero() && i.is_zero() {
                self.problem(
                    &join(path, "timer_resolution"),
                    format!("needs a positive scan_interval (a continuous check has no timer) (got \"{}\")", format_duration_spec(r.as_nanos())),
                );
            }
        }
        if let (Some(Schedule::FixedRate), Some(Some(_))) = (scan_schedule, &scan_overshoot) {
            self.problem(
                &join(path, "scan_overshoot"),
                "applies to scan_schedule \"fixed-delay\" only (a fixed-rate scanner keeps its grid); set \"scan_schedule\": \"fixed-delay\" or remove it",
            );
        }
        let threshold = self
            .required(map, path, "threshold")
            .and_then(|t| self.positive_duration(t, &join(path, "threshold")));
        let elapsed = self.optional_choice(
            map,
            path,
            "elapsed",
            &[
                ("total", Elapsed::Total),
                ("seconds-component", Elapsed::SecondsComponent),
            ],
            Elapsed::Total,
        );
        let rejoin = self.rejoin(map, path);
        if let (Some(t), Some(Elapsed::SecondsComponent)) = (threshold, elapsed) {
            if t > SimDuration::from_secs(59) {
                self.problem(
                    &join(path, "threshold"),
                    format!(
                        "must be at most \"59s\" with elapsed \"seconds-component\" (whole seconds modulo 60 never reach \"{}\")",
                        format_duration_spec(t.as_nanos())
                    ),
                );
            }
        }
        Some(Detector {
            name: name?,
            kind: DetectorKind::FixedTimeout(FixedTimeout {
                scan_interval: scan_interval?,
                scan_phase: scan_phase?,
                scan_schedule: scan_schedule?,
                scan_overshoot: scan_overshoot?,
                timer_resolution: timer_resolution?,
                threshold: threshold?,
                elapsed: elapsed?,
                rejoin: rejoin?,
            }),
        })
    }
}
