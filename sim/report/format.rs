//! Numbers for people: durations, rates and percentages, with their intervals.

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
