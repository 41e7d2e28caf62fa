//! Numbers for people: durations, rates and percentages, with their intervals.

use super::{DetectorReport, Report};
use crate::base::time::format_duration;

/// `value [lo … hi]` with each number written by `show`, or just the value without an
/// interval.
pub(crate) fn with_ci<T: Copy>(
    v: Option<T>,
    ci: Option<[T; 2]>,
    show: impl Fn(Option<T>) -> String,
) -> String {
    match (v, ci) {
        (Some(v), Some([lo, hi])) => {
            format!(
                "{} [{} … {}]",
                show(Some(v)),
                show(Some(lo)),
                show(Some(hi))
            )
        }
        (v, _) => show(v),
    }
}

/// `3.100 s [3.014 s … 3.186 s]`, or just the value without an interval.
pub(crate) fn dur_ci(v: Option<u64>, ci: Option<[u64; 2]>) -> String {
    with_ci(v, ci, opt_dur)
}

/// A rate with its interval.
pub(crate) fn rate_ci(v: Option<f64>, ci: Option<[f64; 2]>) -> String {
    with_ci(v, ci, opt_rate)
}

/// A fraction in percent with its interval.
pub(crate) fn percent_ci(v: Option<f64>, ci: Option<[f64; 2]>) -> String {
    with_ci(v, ci, opt_percent)
}

pub(crate) fn opt_dur(ns: Option<u64>) -> String {
    ns.map(format_duration).unwrap_or_else(|| "–".to_string())
}

pub(crate) fn opt_rate(x: Option<f64>) -> String {
    match x {
        None => "–".to_string(),
        Some(0.0) => "0".to_string(),
        Some(v) if v >= 100.0 => format!("{v:.1}"),
        Some(v) if v >= 0.01 => format!("{v:.4}"),
        Some(v) => format!("{v:.3e}"),
    }
}

pub(crate) fn opt_percent(x: Option<f64>) -> String {
    x.map(|v| format!("{:.4} %", v * 100.0))
        .unwrap_or_else(|| "–".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_numbers() {
        assert_eq!(opt_rate(Some(0.0)), "0");
        assert_eq!(opt_rate(Some(3.24)), "3.2400");
        assert_eq!(opt_rate(Some(0.00081)), "8.100e-4");
        assert_eq!(opt_rate(None), "–");
        assert_eq!(opt_percent(Some(0.999)), "99.9000 %");
    }
}

/// Which detector is best in each column of the verdict table (only with two or more).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Best {
    pub p99: Option<usize>,
    pub fp: Option<usize>,
    pub mistake: Option<usize>,
    pub accuracy: Option<usize>,
}

/// The index of the smallest (or, with `largest`, the greatest) value, first on ties;
/// `None` when fewer than two detectors have a value.
fn argbest(values: &[Option<f64>], largest: bool) -> Option<usize> {
    let have: Vec<(usize, f64)> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i, v)))
        .collect();
    if have.len() < 2 {
        return None;
    }
    let mut best = have[0];
    for &(i, v) in &have[1..] {
        if (largest && v > best.1) || (!largest && v < best.1) {
            best = (i, v);
        }
    }
    Some(best.0)
}

impl Report {
    /// The best detector of each verdict column.
    pub(crate) fn best(&self) -> Best {
        let d: Vec<&DetectorReport> = self.detectors.0.iter().map(|(_, d)| d).collect();
        Best {
            p99: argbest(
                &d.iter()
                    .map(|d| d.detection_latency.stats.p99_ns.map(|x| x as f64))
                    .collect::<Vec<_>>(),
                false,
            ),
            fp: argbest(
                &d.iter()
                    .map(|d| d.false_positives.spurious_per_client_day)
                    .collect::<Vec<_>>(),
                false,
            ),
            mistake: argbest(
                &d.iter()
                    .map(|d| d.mistake_duration.stats.mean_ns.map(|x| x as f64))
                    .collect::<Vec<_>>(),
                false,
            ),
            accuracy: argbest(
                &d.iter().map(|d| d.query_accuracy).collect::<Vec<_>>(),
                true,
            ),
        }
    }

    /// The answer in a sentence or two: with several detectors, which detects fastest and
    /// which errs least, and the trade-off between them; with one, what it achieved and
    /// whether that agrees with the closed forms.
    pub fn verdict(&self) -> Option<String> {
        let d = &self.detectors.0;
        let p99 = |i: usize| d[i].1.detection_latency.stats.p99_ns;
        let fp = |i: usize| d[i].1.false_positives.spurious_per_client_day;
        let fp_text =
            |x: f64| format!("{} spurious false positives per client-day", format_rate(x));
        if d.len() == 1 {
            let (name, r) = &d[0];
            let l = &r.detection_latency.stats;
            let mut s = match (l.p50_ns, l.p99_ns) {
                (Some(p50), Some(p99)) => format!(
                    "`{name}` detects a crash in {} (median), {} at the 99th percentile",
                    format_duration(p50),
                    format_duration(p99)
                ),
                _ => format!("`{name}` saw no crash to detect"),
            };
            if let Some(f) = r.false_positives.spurious_per_client_day {
                s.push_str(&format!(" and makes {}", fp_text(f)));
            }
            s.push('.');
            let verdicts: Vec<&str> = r
                .groups
                .0
                .iter()
                .filter_map(|(_, g)| g.analytic.detection_latency.verdict.as_deref())
                .collect();
            if verdicts.contains(&"outside") {
                s.push_str(" Some latencies lie outside the analytic bounds (see below).");
            } else if verdicts.contains(&"consistent") {
                s.push_str(" Every latency lies within the analytic bounds.");
            }
            return Some(s);
        }
        let best = self.best();
        let (Some(fast), Some(careful)) = (best.p99, best.fp) else {
            return None;
        };
        let (nf, nc) = (&d[fast].0, &d[careful].0);
        if fast == careful {
            return Some(format!(
                "`{nf}` is best on both counts: it detects fastest (p99 {}) and makes the fewest mistakes ({}).",
                opt_dur(p99(fast)),
                fp(fast).map_or("–".into(), fp_text)
            ));
        }
        let speed = match (p99(fast), p99(careful)) {
            (Some(a), Some(b)) if a > 0 => format!("{}× faster", ratio(b as f64 / a as f64)),
            _ => "faster".into(),
        };
        let errs = match (fp(fast), fp(careful)) {
            (Some(a), Some(b)) if b > 0.0 => format!("{}× more false positives", ratio(a / b)),
            (Some(a), Some(_)) if a > 0.0 => format!("{} where `{nc}` makes none", fp_text(a)),
            _ => "more false positives".into(),
        };
        Some(format!(
            "`{nf}` detects fastest (p99 {}); `{nc}` makes the fewest mistakes ({}). `{nf}` detects {speed} than `{nc}` but makes {errs}.",
            opt_dur(p99(fast)),
            fp(careful).map_or("–".into(), fp_text),
        ))
    }
}

/// A ratio with two significant figures ("3.1", "190").
fn ratio(x: f64) -> String {
    if x >= 100.0 {
        format!("{}", libm::round(x))
    } else if x >= 10.0 {
        format!("{:.0}", x)
    } else {
        format!("{:.1}", x)
    }
}

/// A rate with three significant figures, plain digits.
fn format_rate(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if x >= 100.0 {
        format!("{:.0}", x)
    } else if x >= 10.0 {
        format!("{:.1}", x)
    } else if x >= 1.0 {
        format!("{:.2}", x)
    } else {
        format!("{:.3}", x)
    }
}
