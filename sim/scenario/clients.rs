//! The `clients` section: groups, heartbeats (schedule, jitter, phase, drift, overshoot),
//! links (delay distributions, loss models, duplication) and transports.

use super::validate::*;
use super::*;

impl Validator {
    pub(super) fn groups(&mut self, v: Option<&Value>) -> Option<Vec<Group>> {
        self.named_list(v, "clients", "group", Self::group, |g| &g.name)
    }

    pub(super) fn group(&mut self, v: &Value, path: &str) -> Option<Group> {
        let map = self.object(
            v,
            path,
            &[
                "group",
                "count",
                "heartbeat",
                "uplink",
                "downlink",
                "transport",
            ],
        )?;
        let name = self
            .required(map, path, "group")
            .and_then(|n| self.identifier(n, &join(path, "group"), "a group name"));
        let count = self
            .required(map, path, "count")
            .and_then(|c| self.integer(c, &join(path, "count"), 1, u32::MAX as u64));
        let heartbeat = self
            .required(map, path, "heartbeat")
            .and_then(|h| self.heartbeat(h, &join(path, "heartbeat")));
        let uplink = match map.get("uplink") {
            Some(l) => self.link(l, &join(path, "uplink")),
            None => Some(Link::PERFECT),
        };
        let downlink = match map.get("downlink") {
            Some(l) => self.link(l, &join(path, "downlink")),
            None => uplink.clone(),
        };
        let transport = match map.get("transport") {
            Some(t) => self.transport(t, &join(path, "transport")),
            None => Some(Transport::Datagram),
        };
        Some(Group {
            name: name?,
            count: count? as u32,
            heartbeat: heartbeat?,
            uplink: uplink?,
            downlink: downlink?,
            transport: transport?,
        })
    }

    pub(super) fn transport(&mut self, v: &Value, path: &str) -> Option<Transport> {
        let map = self.object(
            v,
            path,
            &[
                "kind",
                "rto_initial",
                "rto_min",
                "rto_max",
                "retries",
                "server_sends",
            ],
        )?;
        let kind = self
            .required(map, path, "kind")
            .and_then(|k| self.choice(k, &join(path, "kind"), &["datagram", "stream"]))?;
        if kind == "datagram" {
            for key in [
                "rto_initial",
                "rto_min",
                "rto_max",
                "retries",
                "server_sends",
            ] {
                if map.contains_key(key) {
                    self.problem(&join(path, key), "only a \"stream\" transport retransmits");
                }
            }
            return Some(Transport::Datagram);
        }
        let rto_initial =
            self.optional_duration(map, path, "rto_initial", SimDuration::from_secs(1), true);
        let rto_min =
            self.optional_duration(map, path, "rto_min", SimDuration::from_millis(200), true);
        let rto_max =
            self.optional_duration(map, path, "rto_max", SimDuration::from_secs(120), true);
        let retries = self.optional_integer(map, path, "retries", (1, 255), 15);
        let server_sends = match map.get("server_sends") {
            None => Some(None),
            Some(v) => self.server_sends(v, &join(path, "server_sends")).map(Some),
        };
        let (rto_initial, rto_min, rto_max) = (rto_initial?, rto_min?, rto_max?);
        if !self.at_least(path, ("rto_min", rto_min), ("rto_max", rto_max)) {
            return None;
        }
        if !(rto_min..=rto_max).contains(&rto_initial) {
            self.problem(
                &join(path, "rto_initial"),
                format!(
                    "must lie between rto_min \"{}\" and rto_max \"{}\" (got \"{}\")",
                    format_duration_spec(rto_min.as_nanos()),
                    format_duration_spec(rto_max.as_nanos()),
                    format_duration_spec(rto_initial.as_nanos())
                ),
            );
            return None;
        }
        Some(Transport::Stream(StreamParams {
            rto_initial,
            rto_min,
            rto_max,
            retries: retries? as u32,
            server_sends: server_sends?,
        }))
    }

    fn server_sends(&mut self, v: &Value, path: &str) -> Option<ServerSends> {
        let map = self.object(v, path, &["interval", "bytes"])?;
        let interval = self
            .required(map, path, "interval")
            .and_then(|i| self.positive_duration(i, &join(path, "interval")));
        let bytes = self.optional_integer(map, path, "bytes", (1, 65_535), 1);
        Some(ServerSends {
            interval: interval?,
            bytes: bytes? as u32,
        })
    }

    pub(super) fn heartbeat(&mut self, v: &Value, path: &str) -> Option<Heartbeat> {
        let map = self.object(
            v,
            path,
            &[
                "interval",
                "jitter",
                "phase",
                "schedule",
                "overshoot",
                "timer_resolution",
                "bytes",
                "drift_ppm",
                "enabled",
            ],
        )?;
        let enabled = match map.get("enabled") {
            None => Some(true),
            Some(Value::Bool(b)) => Some(*b),
            Some(e) => {
                self.problem(
                    &join(path, "enabled"),
                    format!("expected true or false (got {})", show(e)),
                );
                None
            }
        };
        // Clients without application heartbeats (an active detector's probes only) need
        // no interval.
        let interval = if enabled == Some(false) && !map.contains_key("interval") {
            Some(SimDuration::SECOND)
        } else {
            self.required(map, path, "interval")
                .and_then(|i| self.positive_duration(i, &join(path, "interval")))
        };
        let jitter = self.optional_duration(map, path, "jitter", SimDuration::ZERO, false);
        if let (Some(i), Some(j)) = (interval, jitter) {
            if j > i {
                self.problem(
                    &join(path, "jitter"),
                    format!(
                        "must not exceed the interval {} (got \"{}\")",
                        format_duration_spec(i.as_nanos()),
                        format_duration_spec(j.as_nanos())
                    ),
                );
            }
        }
        const PHASE_RULE: &str = "expected \"random\", \"aligned\", a duration such as \"250ms\" or a delay distribution such as {\"dist\": \"uniform\", \"min\": \"1ms\", \"max\": \"100ms\"}";
        let phase = match map.get("phase") {
            None => Some(Phase::Random),
            Some(Value::String(s)) if s == "random" => Some(Phase::Random),
            Some(Value::String(s)) if s == "aligned" => Some(Phase::Aligned),
            Some(p @ Value::String(_)) => match p.as_str().map(parse_duration) {
                Some(Ok(d)) => Some(Phase::At(d)),
                _ => {
                    self.problem(
                        &join(path, "phase"),
                        format!("{PHASE_RULE} (got {})", show(p)),
                    );
                    None
                }
            },
            Some(d @ Value::Object(_)) => self.dist(d, &join(path, "phase")).map(Phase::Drawn),
            Some(p) => {
                self.problem(
                    &join(path, "phase"),
                    format!("{PHASE_RULE} (got {})", show(p)),
                );
                None
            }
        };
        let schedule = self.optional_choice(
            map,
            path,
            "schedule",
            &[
                ("fixed-rate", Schedule::FixedRate),
                ("fixed-delay", Schedule::FixedDelay),
            ],
            Schedule::FixedRate,
        );
        let overshoot = match map.get("overshoot") {
            None => Some(None),
            Some(o) => self.dist(o, &join(path, "overshoot")).map(Some),
        };
        let timer_resolution =
            self.optional_duration(map, path, "timer_resolution", SimDuration::ZERO, false);
        let bytes = self.optional_integer(map, path, "bytes", (0, u32::MAX as u64), 64);
        let drift_ppm = match map.get("drift_ppm") {
            None => Some(Drift::Fixed(0.0)),
            Some(d) => self.drift(d, &join(path, "drift_ppm")),
        };
        Some(Heartbeat {
            interval: interval?,
            jitter: jitter?,
            phase: phase?,
            schedule: schedule?,
            overshoot: overshoot?,
            timer_resolution: timer_resolution?,
            bytes: bytes? as u32,
            drift_ppm: drift_ppm?,
            enabled: enabled?,
        })
    }

    pub(super) fn ppm(&mut self, v: &Value, path: &str) -> Option<f64> {
        const MAX: f64 = 100_000.0;
        match v.as_f64() {
            Some(x) if (-MAX..=MAX).contains(&x) => Some(x),
            _ => {
                self.problem(
                    path,
                    format!(
                        "expected parts per million in -100000..=100000 (got {})",
                        show(v)
                    ),
                );
                None
            }
        }
    }

    pub(super) fn drift(&mut self, v: &Value, path: &str) -> Option<Drift> {
        if v.is_number() {
            return self.ppm(v, path).map(Drift::Fixed);
        }
        if !v.is_object() {
            self.problem(
                path,
                format!(
                    "expected a number of ppm or {{\"min\": …, \"max\": …}} (got {})",
                    show(v)
                ),
            );
            return None;
        }
        let map = self.object(v, path, &["min", "max"])?;
        let min = self
            .required(map, path, "min")
            .and_then(|m| self.ppm(m, &join(path, "min")));
        let max = self
            .required(map, path, "max")
            .and_then(|m| self.ppm(m, &join(path, "max")));
        let (min, max) = (min?, max?);
        if min > max {
            self.problem(
                &join(path, "max"),
                format!("must be at least min {min} (got {max})"),
            );
            return None;
        }
        Some(Drift::Uniform { min, max })
    }

    pub(super) fn link(&mut self, v: &Value, path: &str) -> Option<Link> {
        let map = self.object(v, path, &["delay", "loss", "duplicate"])?;
        let delay = match map.get("delay") {
            None => Some(None),
            Some(d) => self.dist(d, &join(path, "delay")).map(Some),
        };
        let loss = match map.get("loss") {
            None => Some(Loss::None),
            Some(l) => self.loss(l, &join(path, "loss")),
        };
        let duplicate = match map.get("duplicate") {
            None => Some(0.0),
            Some(d) => self.probability(d, &join(path, "duplicate")),
        };
        Some(Link {
            delay: delay?,
            loss: loss?,
            duplicate: duplicate?,
        })
    }

    pub(super) fn loss(&mut self, v: &Value, path: &str) -> Option<Loss> {
        const GE: [&str; 4] = ["p_enter_bad", "p_leave_bad", "loss_good", "loss_bad"];
        let model = match v.get("model") {
            Some(m) => self.choice(
                m,
                &join(path, "model"),
                &["none", "bernoulli", "gilbert-elliott"],
            )?,
            None => {
                self.object(v, path, &["model"])?;
                self.problem(
                    &join(path, "model"),
                    "missing required field (one of: none, bernoulli, gilbert-elliott)",
                );
                return None;
            }
        };
        let params: &[&str] = match model {
            "none" => &[],
            "bernoulli" => &["p"],
            _ => &GE,
        };
        let mut known = vec!["model"];
        known.extend_from_slice(params);
        let map = self.object(v, path, &known)?;
        let prob = |v: &mut Self, key: &str| {
            v.required(map, path, key)
                .and_then(|p| v.probability(p, &join(path, key)))
        };
        match model {
            "none" => Some(Loss::None),
            "bernoulli" => Some(Loss::Bernoulli {
                p: prob(self, "p")?,
            }),
            _ => {
                let values: Vec<Option<f64>> = GE.iter().map(|k| prob(self, k)).collect();
                let v: Vec<f64> = values.into_iter().collect::<Option<_>>()?;
                Some(Loss::GilbertElliott {
                    p_enter_bad: v[0],
                    p_leave_bad: v[1],
                    loss_good: v[2],
                    loss_bad: v[3],
                })
            }
        }
    }

    pub(super) fn dist(&mut self, v: &Value, path: &str) -> Option<Dist> {
        const KINDS: [&str; 6] = [
            "constant",
            "uniform",
            "normal",
            "lognormal",
            "exponential",
            "pareto",
        ];
        let kind = match v.get("dist") {
            Some(k) => self.choice(k, &join(path, "dist"), &KINDS)?,
            None => {
                self.object(v, path, &["dist"])?;
                self.problem(
                    &join(path, "dist"),
                    format!("missing required field (one of: {})", KINDS.join(", ")),
                );
                return None;
            }
        };
        let params: &[&str] = match kind {
            "constant" => &["dist", "value"],
            "uniform" => &["dist", "min", "max"],
            "normal" => &["dist", "mean", "stddev"],
            "lognormal" => &["dist", "median", "sigma"],
            "exponential" => &["dist", "mean"],
            _ => &["dist", "scale", "shape"],
        };
        let map = self.object(v, path, params)?;
        let dur = |v: &mut Self, key: &str, positive: bool| -> Option<SimDuration> {
            let value = v.required(map, path, key)?;
            if positive {
                v.positive_duration(value, &join(path, key))
            } else {
                v.duration(value, &join(path, key))
            }
        };
        match kind {
            "constant" => Some(Dist::Constant {
                value: dur(self, "value", false)?.as_nanos(),
            }),
            "uniform" => {
                let min = dur(self, "min", false);
                let max = dur(self, "max", false);
                let (min, max) = (min?, max?);
                if !self.at_least(path, ("min", min), ("max", max)) {
                    return None;
                }
                Some(Dist::Uniform {
                    min: min.as_nanos(),
                    max: max.as_nanos(),
                })
            }
            "normal" => {
                let mean = dur(self, "mean", false);
                let stddev = dur(self, "stddev", false);
                Some(Dist::Normal {
                    mean: mean?.as_nanos() as f64,
                    stddev: stddev?.as_nanos() as f64,
                })
            }
            "lognormal" => {
                let median = dur(self, "median", true);
                let sigma = self
                    .required(map, path, "sigma")
                    .and_then(|s| self.non_negative_number(s, &join(path, "sigma")));
                Some(Dist::Lognormal {
                    median: median?.as_nanos() as f64,
                    sigma: sigma?,
                })
            }
            "exponential" => Some(Dist::Exponential {
                mean: dur(self, "mean", true)?.as_nanos() as f64,
            }),
            _ => {
                let scale = dur(self, "scale", true);
                let shape = self
                    .required(map, path, "shape")
                    .and_then(|s| self.positive_number(s, &join(path, "shape")));
                Some(Dist::Pareto {
                    scale: scale?.as_nanos() as f64,
                    shape: shape?,
                })
            }
        }
    }
}
