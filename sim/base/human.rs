//! Numbers for people: three significant figures, plain digits (never scientific
//! notation), one unit for every number shown together (a value and its interval, a row of
//! a table, a bound and its measurement), bytes in SI units.
//!
//! A group of numbers shares the unit and the number of decimals that give its largest
//! member three significant figures, so `1.02 s [0.89 s … 1.14 s]` reads as one quantity
//! and the smaller members keep the same absolute precision. Rounding is Rust's own
//! correctly rounded decimal formatting (`{:.N}`, `{:.2e}`), which is the same on every
//! platform; no transcendental function is involved.

/// Significant figures of every number for people.
pub const FIGURES: i32 = 3;

/// The most decimals a number is ever written with.
const MAX_DECIMALS: i32 = 9;

/// The decimal exponent of `x` after rounding to `figures` significant figures
/// (`999.7` to 3 figures is `1.00e3`: exponent 3).
fn exponent(x: f64, figures: i32) -> i32 {
    if x == 0.0 || !x.is_finite() {
        return 0;
    }
    let s = format!("{:.*e}", (figures - 1).max(0) as usize, x.abs());
    s.rsplit('e')
        .next()
        .and_then(|e| e.parse().ok())
        .unwrap_or(0)
}

/// The largest magnitude of the finite `values` (0 when there is none).
fn largest(values: impl IntoIterator<Item = f64>) -> f64 {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(0.0f64, |m, v| m.max(v.abs()))
}

/// Decimals that give `max` (the largest magnitude of a group) `figures` significant
/// figures.
fn decimals(max: f64, figures: i32) -> usize {
    if max == 0.0 {
        return 0;
    }
    (figures - 1 - exponent(max, figures)).clamp(0, MAX_DECIMALS) as usize
}

/// Plain digits with `d` decimals; `-0` is written `0`.
fn fixed(x: f64, d: usize) -> String {
    let s = format!("{x:.d$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// How a group of numbers is written: the decimals that give its largest three
/// significant figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NumFormat {
    decimals: usize,
}

impl NumFormat {
    /// The format of a group of numbers.
    pub fn fit(values: impl IntoIterator<Item = f64>) -> Self {
        NumFormat {
            decimals: decimals(largest(values), FIGURES),
        }
    }

    /// The format of a value and its interval: the value's three significant figures
    /// (the largest's when the value is zero).
    pub fn lead(value: f64, others: impl IntoIterator<Item = f64>) -> Self {
        if value != 0.0 && value.is_finite() {
            NumFormat {
                decimals: decimals(value.abs(), FIGURES),
            }
        } else {
            Self::fit(others)
        }
    }

    pub fn show(&self, x: f64) -> String {
        fixed(x, self.decimals)
    }
}

/// One number with three significant figures.
pub fn number(x: f64) -> String {
    NumFormat::fit([x]).show(x)
}

/// A duration unit: its symbol and its length in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeUnit {
    pub symbol: &'static str,
    pub ns: u64,
}

const NS: TimeUnit = TimeUnit {
    symbol: "ns",
    ns: 1,
};
const US: TimeUnit = TimeUnit {
    symbol: "µs",
    ns: 1_000,
};
const MS: TimeUnit = TimeUnit {
    symbol: "ms",
    ns: 1_000_000,
};
const S: TimeUnit = TimeUnit {
    symbol: "s",
    ns: 1_000_000_000,
};
const MIN: TimeUnit = TimeUnit {
    symbol: "min",
    ns: 60_000_000_000,
};
const H: TimeUnit = TimeUnit {
    symbol: "h",
    ns: 3_600_000_000_000,
};

/// `ns` rounded to `figures` significant figures, in integers.
fn round_ns(ns: u64, figures: u32) -> u64 {
    let digits = ns.checked_ilog10().map_or(1, |d| d + 1);
    if digits <= figures {
        return ns;
    }
    let p = 10u64.pow(digits - figures);
    (ns / p).saturating_add(u64::from(ns % p >= p / 2)) * p
}

/// The unit in which the largest of a group of durations reads best: nanoseconds below
/// a microsecond, then µs, ms, seconds below two minutes, minutes below two hours, hours.
/// Zero reads in seconds.
pub fn time_unit(max_ns: u64) -> TimeUnit {
    let r = round_ns(max_ns, FIGURES as u32);
    match r {
        0 => S,
        1..=999 => NS,
        1_000..=999_999 => US,
        1_000_000..=999_999_999 => MS,
        1_000_000_000..=119_999_999_999 => S,
        120_000_000_000..=7_199_999_999_999 => MIN,
        _ => H,
    }
}

/// Decimals for a group of durations whose largest is `max` ns, shown in `unit`.
fn unit_decimals(max: f64, unit: TimeUnit) -> usize {
    if unit == NS {
        0
    } else {
        decimals(max / unit.ns as f64, FIGURES)
    }
}

/// How a group of durations is written: one unit, and the decimals that give the
/// largest three significant figures. Nanoseconds are whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeFormat {
    pub unit: TimeUnit,
    decimals: usize,
}

impl TimeFormat {
    /// The format of a group of durations given as (possibly negative) nanoseconds.
    pub fn fit_f(values: impl IntoIterator<Item = f64>) -> Self {
        let max = largest(values);
        let unit = time_unit(max as u64);
        TimeFormat {
            unit,
            decimals: unit_decimals(max, unit),
        }
    }

    /// The format of a duration and its interval: the unit of the largest, and the
    /// decimals that give the value three significant figures in it.
    pub fn lead(value: u64, others: impl IntoIterator<Item = u64>) -> Self {
        let max = others.into_iter().fold(value, u64::max);
        let unit = time_unit(max);
        let lead = if value > 0 { value } else { max };
        TimeFormat {
            unit,
            decimals: unit_decimals(lead as f64, unit),
        }
    }

    /// The format of a group of durations.
    pub fn fit(values: impl IntoIterator<Item = u64>) -> Self {
        Self::fit_f(values.into_iter().map(|v| v as f64))
    }

    pub fn show_f(&self, ns: f64) -> String {
        format!(
            "{} {}",
            fixed(ns / self.unit.ns as f64, self.decimals),
            self.unit.symbol
        )
    }

    pub fn show(&self, ns: u64) -> String {
        self.show_f(ns as f64)
    }
}

/// One duration with three significant figures.
pub fn duration(ns: u64) -> String {
    TimeFormat::fit([ns]).show(ns)
}

/// A count of bytes in SI units with three significant figures: `280 kB`, `75.4 MB`.
pub fn bytes(x: f64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut scale = 1.0;
    let mut i = 0;
    while i + 1 < UNITS.len() && exponent(x / scale, FIGURES) >= 3 {
        scale *= 1000.0;
        i += 1;
    }
    let v = x / scale;
    // Whole bytes need no decimals.
    let d = if i == 0 { 0 } else { decimals(v, FIGURES) };
    format!("{} {}", fixed(v, d), UNITS[i])
}

/// How a group of fractions is written in percent: with enough decimals that the
/// largest shows three significant figures and the distance of each to 100 % shows
/// two, so that 99.9928 % and 99.9995 % stay apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PercentFormat {
    decimals: usize,
}

impl PercentFormat {
    pub fn fit(values: impl IntoIterator<Item = f64>) -> Self {
        let mut d = 0usize;
        for v in values.into_iter().filter(|v| v.is_finite()) {
            let p = v * 100.0;
            d = d.max(decimals(p.abs(), FIGURES));
            let rest = 100.0 - p;
            if rest > 0.0 {
                d = d.max(decimals(rest, 2).min(6));
            }
        }
        PercentFormat { decimals: d }
    }

    pub fn show(&self, x: f64) -> String {
        format!("{} %", fixed(x * 100.0, self.decimals))
    }
}

/// One fraction in percent.
pub fn percent(x: f64) -> String {
    PercentFormat::fit([x]).show(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Numbers that belong together: `[315.24, 303.3, 327.5]` → `315, 303, 328`.
    fn numbers(values: &[f64]) -> Vec<String> {
        let f = NumFormat::fit(values.iter().copied());
        values.iter().map(|&v| f.show(v)).collect()
    }

    /// Durations in one unit, the largest with three significant figures.
    fn durations(values: &[u64]) -> Vec<String> {
        let f = TimeFormat::fit(values.iter().copied());
        values.iter().map(|&v| f.show(v)).collect()
    }

    fn durations_f(values: &[f64]) -> Vec<String> {
        let f = TimeFormat::fit_f(values.iter().copied());
        values.iter().map(|&v| f.show_f(v)).collect()
    }

    fn percents(values: &[f64]) -> Vec<String> {
        let f = PercentFormat::fit(values.iter().copied());
        values.iter().map(|&v| f.show(v)).collect()
    }

    #[test]
    fn three_significant_figures_in_plain_digits() {
        assert_eq!(number(315.24), "315");
        assert_eq!(number(15.1579), "15.2");
        assert_eq!(number(0.002550), "0.00255");
        assert_eq!(number(4680.1), "4680");
        assert_eq!(number(999.7), "1000");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(-0.0001), "-0.000100");
        assert_eq!(
            numbers(&[0.0211, 0.00256, 0.0760]),
            ["0.0211", "0.0026", "0.0760"]
        );
        assert_eq!(numbers(&[315.24, 303.3, 327.53]), ["315", "303", "328"]);
    }

    #[test]
    fn durations_share_the_unit_of_the_largest() {
        assert_eq!(duration(3_000_000_000), "3.00 s");
        assert_eq!(duration(387_358_000), "387 ms");
        assert_eq!(duration(999_700_000), "1.00 s");
        assert_eq!(duration(0), "0 s");
        assert_eq!(duration(17), "17 ns");
        assert_eq!(duration(60 * 60_000_000_000), "60.0 min");
        assert_eq!(duration(6_708_900_000_000), "112 min");
        assert_eq!(duration(7_890_944_000_000), "2.19 h");
        assert_eq!(
            durations(&[1_016_000_000, 892_296_000, 1_138_000_000]),
            ["1.02 s", "0.89 s", "1.14 s"]
        );
        assert_eq!(
            durations(&[148_734_000, 0, 904_186_000]),
            ["149 ms", "0 ms", "904 ms"]
        );
        assert_eq!(durations_f(&[-3e9, 5e8]), ["-3.00 s", "0.50 s"]);
    }

    #[test]
    fn integer_rounding_of_nanoseconds() {
        assert_eq!(round_ns(999_500, 3), 1_000_000);
        assert_eq!(round_ns(123_449, 3), 123_000);
        assert_eq!(round_ns(12, 3), 12);
        assert_eq!(round_ns(u64::MAX, 3), 18_400_000_000_000_000_000);
    }

    #[test]
    fn bytes_in_si_units() {
        assert_eq!(bytes(0.0), "0 B");
        assert_eq!(bytes(66.0), "66 B");
        assert_eq!(bytes(279_990.3), "280 kB");
        assert_eq!(bytes(75_357_104.0), "75.4 MB");
        assert_eq!(bytes(999_999.0), "1.00 MB");
    }

    #[test]
    fn percents_keep_the_distance_to_one_hundred() {
        assert_eq!(
            percents(&[0.999928, 0.999995]),
            ["99.99280 %", "99.99950 %"]
        );
        assert_eq!(percent(0.957471), "95.7 %");
        assert_eq!(percent(0.996506), "99.65 %");
        assert_eq!(percent(1.0), "100 %");
        assert_eq!(percent(0.5), "50.0 %");
    }
}
