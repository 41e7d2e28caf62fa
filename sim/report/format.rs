//! Numbers for people: durations, rates and percentages, with their intervals.

use super::{DetectorReport, Report, Target};
use crate::base::human::{self, NumFormat, PercentFormat, TimeFormat};

/// The mark of a missing value.
pub(crate) const DASH: &str = "–";

/// `value [lo … hi]`, or just the value without an interval.
fn with_ci(v: String, ci: Option<[String; 2]>) -> String {
    match ci {
        Some([lo, hi]) => format!("{v} [{lo} … {hi}]"),
        None => v,
    }
}

/// A number format of `base::human` that fits a group of values.
pub(crate) trait Show: Copy {
    type V: Copy;
    fn fit_all(values: impl Iterator<Item = Self::V>) -> Self;
    fn show_one(&self, v: Self::V) -> String;
}

impl Show for TimeFormat {
    type V = u64;
    fn fit_all(values: impl Iterator<Item = u64>) -> Self {
        TimeFormat::fit(values)
    }
    fn show_one(&self, v: u64) -> String {
        self.show(v)
    }
}

impl Show for NumFormat {
    type V = f64;
    fn fit_all(values: impl Iterator<Item = f64>) -> Self {
        NumFormat::fit(values)
    }
    fn show_one(&self, v: f64) -> String {
        self.show(v)
    }
}

impl Show for PercentFormat {
    type V = f64;
    fn fit_all(values: impl Iterator<Item = f64>) -> Self {
        PercentFormat::fit(values)
    }
    fn show_one(&self, v: f64) -> String {
        self.show(v)
    }
}

/// Figures shown together (a row, a line, a value and its interval) in one format.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fitted<F>(F);

/// Durations in one unit; rates with the decimals of the largest.
pub(crate) type Durs = Fitted<TimeFormat>;
pub(crate) type Nums = Fitted<NumFormat>;

impl<F: Show> Fitted<F> {
    /// The format of every value and interval given.
    pub(crate) fn fit(values: &[Option<F::V>], cis: &[Option<[F::V; 2]>]) -> Self {
        let all = values
            .iter()
            .flatten()
            .copied()
            .chain(cis.iter().flatten().flat_map(|c| c.iter().copied()));
        Fitted(F::fit_all(all))
    }

    pub(crate) fn one(&self, v: Option<F::V>) -> String {
        v.map_or_else(|| DASH.to_string(), |v| self.0.show_one(v))
    }

    pub(crate) fn ci(&self, v: Option<F::V>, ci: Option<[F::V; 2]>) -> String {
        match v {
            None => DASH.to_string(),
            Some(v) => with_ci(
                self.0.show_one(v),
                ci.map(|c| c.map(|x| self.0.show_one(x))),
            ),
        }
    }
}

/// A duration with its interval, in one unit (the largest's), the value with three
/// significant figures.
pub(crate) fn dur_ci(v: Option<u64>, ci: Option<[u64; 2]>) -> String {
    match v {
        None => DASH.to_string(),
        Some(x) => Fitted(TimeFormat::lead(x, ci.into_iter().flatten())).ci(v, ci),
    }
}

/// A rate with its interval, the value with three significant figures.
pub(crate) fn rate_ci(v: Option<f64>, ci: Option<[f64; 2]>) -> String {
    match v {
        None => DASH.to_string(),
        Some(x) => Fitted(NumFormat::lead(x, ci.into_iter().flatten())).ci(v, ci),
    }
}

/// A fraction in percent with its interval.
pub(crate) fn percent_ci(v: Option<f64>, ci: Option<[f64; 2]>) -> String {
    Fitted::<PercentFormat>::fit(&[v], &[ci]).ci(v, ci)
}

pub(crate) fn opt_dur(ns: Option<u64>) -> String {
    ns.map_or_else(|| DASH.to_string(), human::duration)
}

pub(crate) fn opt_rate(x: Option<f64>) -> String {
    x.map_or_else(|| DASH.to_string(), human::number)
}

pub(crate) fn opt_percent(x: Option<f64>) -> String {
    x.map_or_else(|| DASH.to_string(), human::percent)
}

pub(crate) fn opt_bytes(x: Option<f64>) -> String {
    x.map_or_else(|| DASH.to_string(), human::bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_and_its_interval_share_one_unit() {
        assert_eq!(
            dur_ci(Some(148_734_000), Some([0, 904_186_000])),
            "149 ms [0 ms … 904 ms]"
        );
        assert_eq!(
            dur_ci(Some(1_016_000_000), Some([892_296_000, 1_138_000_000])),
            "1.02 s [0.89 s … 1.14 s]"
        );
        assert_eq!(
            rate_ci(Some(0.0211), Some([0.00256, 0.0760])),
            "0.0211 [0.0026 … 0.0760]"
        );
        assert_eq!(
            rate_ci(Some(0.505), Some([0.0612, 1.83])),
            "0.505 [0.061 … 1.830]"
        );
        assert_eq!(opt_rate(Some(0.0)), "0");
        assert_eq!(opt_rate(None), "–");
        assert_eq!(
            percent_ci(Some(0.999928), Some([0.999893, 0.999951])),
            "99.9928 % [99.9893 % … 99.9951 %]"
        );
    }

    #[test]
    fn ratios_have_two_significant_figures() {
        assert_eq!(ratio(5.94), "5.9");
        assert_eq!(ratio(30.2), "30");
        assert_eq!(ratio(2721.0), "2700");
        assert_eq!(ratio(186.0), "190");
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
    /// which errs least, and the trade-off between them; with one, what it achieved, how
    /// it stands against the scenario's targets (`expect`) and whether it agrees with the
    /// closed forms.
    pub fn verdict(&self) -> Option<String> {
        let d = &self.detectors.0;
        let p99 = |i: usize| d[i].1.detection_latency.stats.p99_ns;
        let fp = |i: usize| d[i].1.false_positives.spurious_per_client_day;
        let fp_text = |x: f64| {
            format!(
                "{} spurious false positives per client-day",
                human::number(x)
            )
        };
        if d.len() == 1 {
            let (name, r) = &d[0];
            let l = &r.detection_latency.stats;
            let mut s = match (l.p50_ns, l.p99_ns) {
                (Some(p50), Some(p99)) => {
                    let f = Durs::fit(&[l.p50_ns, l.p99_ns], &[]);
                    format!(
                        "`{name}` detects a crash in {} (median), {} at the 99th percentile",
                        f.one(Some(p50)),
                        f.one(Some(p99))
                    )
                }
                _ => format!("`{name}` saw no crash to detect"),
            };
            if let Some(f) = r.false_positives.spurious_per_client_day {
                s.push_str(&format!(" and makes {}", fp_text(f)));
            }
            s.push('.');
            let mine: Vec<&Target> = self
                .targets
                .iter()
                .filter(|t| t.detector.as_deref().is_none_or(|x| x == name))
                .collect();
            let failed: Vec<&str> = mine
                .iter()
                .filter(|t| !t.pass)
                .map(|t| t.text.as_str())
                .collect();
            if !mine.is_empty() && failed.is_empty() {
                s.push_str(&format!(
                    " It meets {} of the scenario.",
                    if mine.len() == 1 {
                        "the target".to_string()
                    } else {
                        format!("all {} targets", mine.len())
                    }
                ));
            } else if !failed.is_empty() {
                s.push_str(&format!(
                    " It misses {} of {} targets: `{}`.",
                    failed.len(),
                    mine.len(),
                    failed.join("`, `")
                ));
            }
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
                fp(fast).map_or(DASH.into(), fp_text)
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
        let mut s = format!(
            "`{nf}` detects fastest (p99 {}); `{nc}` makes the fewest mistakes ({}). `{nf}` detects {speed} than `{nc}` but makes {errs}.",
            opt_dur(p99(fast)),
            fp(careful).map_or(DASH.into(), fp_text),
        );
        let failed: Vec<&str> = self
            .targets
            .iter()
            .filter(|t| !t.pass)
            .map(|t| t.text.as_str())
            .collect();
        if !self.targets.is_empty() {
            if failed.is_empty() {
                s.push_str(&format!(
                    " Every target of the scenario holds ({}).",
                    self.targets.len()
                ));
            } else {
                s.push_str(&format!(
                    " {} of {} targets fail: `{}`.",
                    failed.len(),
                    self.targets.len(),
                    failed.join("`, `")
                ));
            }
        }
        Some(s)
    }
}

/// A ratio with two significant figures ("3.1", "30", "2700").
fn ratio(x: f64) -> String {
    if x < 10.0 {
        return format!("{x:.1}");
    }
    let s = format!("{x:.1e}");
    let (m, e) = s.split_once('e').unwrap_or((&s, "1"));
    let tenths = libm::round(m.parse::<f64>().unwrap_or(1.0) * 10.0) as u64;
    let e: u32 = e.parse().unwrap_or(1);
    format!(
        "{}",
        tenths.saturating_mul(10u64.saturating_pow(e.saturating_sub(1)))
    )
}
