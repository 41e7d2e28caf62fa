//! The `faults` section: client and server faults, their times, selectors and durations.

use super::validate::*;
use super::*;

/// The largest clock step, either way: ten years.
pub const CLOCK_STEP_MAX_NS: u64 = 10 * 365 * 24 * 3_600 * 1_000_000_000;
/// The most the steps of one scenario may add up to, either way: a hundred years.
pub const CLOCK_STEPS_MAX_NS: u64 = 10 * CLOCK_STEP_MAX_NS;

impl Validator {
    pub(super) fn faults(
        &mut self,
        v: Option<&Value>,
        groups: &[GroupName],
        duration: Option<SimDuration>,
    ) -> Option<Vec<Fault>> {
        let Some(v) = v else {
            return Some(Vec::new());
        };
        let faults = self.entries(v, "faults", |me, item, path| {
            me.fault(item, path, groups, duration)
        })?;
        // Offsets add up; bounded, no arithmetic on the server's clock can overflow.
        let total: u64 = faults
            .iter()
            .map(|f| match f.action {
                FaultAction::ClockStep { by_ns } => by_ns.unsigned_abs(),
                _ => 0,
            })
            .sum();
        if total > CLOCK_STEPS_MAX_NS {
            self.problem(
                "faults",
                format!(
                    "the clock steps add up to {}, more than {} either way",
                    format_duration_spec(total),
                    format_duration_spec(CLOCK_STEPS_MAX_NS)
                ),
            );
            return None;
        }
        Some(faults)
    }

    pub(super) fn fault(
        &mut self,
        v: &Value,
        path: &str,
        groups: &[GroupName],
        duration: Option<SimDuration>,
    ) -> Option<Fault> {
        const ACTIONS: [&str; 9] = [
            "crash",
            "restart",
            "pause",
            "partition",
            "server-stall",
            "churn",
            "clock-step",
            "server-crash",
            "server-restart",
        ];
        let action = match v.get("action") {
            Some(a) => self.choice(a, &join(path, "action"), &ACTIONS),
            None => {
                if v.is_object() {
                    self.problem(
                        &join(path, "action"),
                        format!("missing required field (one of: {})", ACTIONS.join(", ")),
                    );
                }
                None
            }
        };
        let known: &[&str] = match action {
            Some("crash") => &["at", "action", "clients", "mode"],
            Some("restart") | None => &["at", "action", "clients"],
            Some("pause" | "partition") => &["at", "action", "clients", "for"],
            Some("server-stall") => &["at", "action", "for"],
            Some("churn") => &["at", "action", "clients", "mtbf", "mttr"],
            Some("server-crash" | "server-restart") => &["at", "action"],
            Some(_) => &["at", "action", "by"],
        };
        let map = self.object(v, path, known)?;
        let at = self
            .required(map, path, "at")
            .and_then(|a| self.duration(a, &join(path, "at")));
        if let (Some(at), Some(duration)) = (at, duration) {
            if at >= duration {
                self.problem(
                    &join(path, "at"),
                    format!(
                        "must be before the end of the run \"{}\" (got \"{}\")",
                        format_duration_spec(duration.as_nanos()),
                        format_duration_spec(at.as_nanos())
                    ),
                );
            }
        }
        let action = action?;
        let positive = |v: &mut Self, key: &str| {
            v.required(map, path, key)
                .and_then(|d| v.positive_duration(d, &join(path, key)))
        };
        let action = match action {
            "crash" => self
                .optional_choice(
                    map,
                    path,
                    "mode",
                    &[("host", false), ("process", true)],
                    false,
                )
                .map(|process| FaultAction::Crash { process }),
            "restart" => Some(FaultAction::Restart),
            "pause" => positive(self, "for").map(|duration| FaultAction::Pause { duration }),
            "partition" => {
                positive(self, "for").map(|duration| FaultAction::Partition { duration })
            }
            "server-stall" => {
                positive(self, "for").map(|duration| FaultAction::ServerStall { duration })
            }
            "server-crash" => Some(FaultAction::ServerCrash),
            "server-restart" => Some(FaultAction::ServerRestart),
            "churn" => {
                let mtbf = positive(self, "mtbf");
                let mttr = positive(self, "mttr");
                Some(FaultAction::Churn {
                    mtbf: mtbf?,
                    mttr: mttr?,
                })
            }
            _ => self
                .required(map, path, "by")
                .and_then(|b| self.signed_duration(b, &join(path, "by")))
                .map(|by_ns| FaultAction::ClockStep { by_ns }),
        };
        let targets = if known.contains(&"clients") {
            self.required(map, path, "clients").and_then(|c| {
                let c_path = join(path, "clients");
                let text = self.string(c, &c_path)?;
                match select(&text, groups) {
                    Ok(t) => Some(t),
                    Err(rule) => {
                        self.problem(&c_path, format!("{rule} (got {})", show(c)));
                        None
                    }
                }
            })
        } else {
            Some(Vec::new())
        };
        let at = at.filter(|a| duration.is_none_or(|d| *a < d))?;
        Some(Fault {
            at: SimTime(at.as_nanos()),
            action: action?,
            targets: targets?,
        })
    }

    /// A duration that may be negative (`"-1h"`, `"+30s"`), and is not zero.
    pub(super) fn signed_duration(&mut self, v: &Value, path: &str) -> Option<i64> {
        let Some(text) = v.as_str() else {
            self.problem(
                path,
                format!(
                    "expected a signed duration such as \"-1h\" (got {})",
                    show(v)
                ),
            );
            return None;
        };
        let (sign, rest) = match text.strip_prefix('-') {
            Some(r) => (-1i64, r),
            None => (1, text.strip_prefix('+').unwrap_or(text)),
        };
        match parse_duration(rest) {
            Ok(d) if d.is_zero() => {
                self.problem(path, format!("must not be zero (got {})", show(v)));
                None
            }
            Ok(d) if d.as_nanos() > CLOCK_STEP_MAX_NS => {
                self.problem(
                    path,
                    format!(
                        "a clock step is at most {} either way (got {})",
                        format_duration_spec(CLOCK_STEP_MAX_NS),
                        show(v)
                    ),
                );
                None
            }
            Ok(d) => Some(sign * d.as_nanos() as i64),
            Err(e) => {
                self.problem(path, format!("{e} (got {})", show(v)));
                None
            }
        }
    }
}
