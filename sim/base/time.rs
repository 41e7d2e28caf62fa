//! Virtual time: integer nanoseconds in newtypes, the parser for duration strings
//! (`"250ms"`, `"1.5s"`) and the human formatting used by the Markdown and text reports.
//!
//! Nothing here reads the wall clock. Conversions between strings and nanoseconds are
//! exact: a duration string is parsed with decimal arithmetic, never through `f64`.

use std::fmt;

/// Nanoseconds in one unit of each suffix the scenario format accepts.
const UNITS: [(&str, u64); 6] = [
    ("ns", 1),
    ("us", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// A point in virtual time: nanoseconds since the start of the run. Never wall-clock time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A non-negative span of virtual time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);
    pub const SECOND: SimDuration = SimDuration(1_000_000_000);

    pub const fn from_nanos(ns: u64) -> Self {
        SimDuration(ns)
    }
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms * 1_000_000)
    }
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s * 1_000_000_000)
    }
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);

    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// Time elapsed since `earlier`; zero if `earlier` is later (never negative).
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
    /// `self + d`, saturating at the end of representable time (about 584 years), which is
    /// beyond any run and therefore means "never".
    pub fn saturating_add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl std::ops::Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.checked_add(d.0).expect("virtual time overflow"))
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(self.0))
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(self.0))
    }
}

/// Why a duration string was rejected; the message names the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurationError {
    Negative,
    MissingUnit,
    UnknownUnit(String),
    Malformed,
    TooPrecise,
    TooLarge,
    Exponent,
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationError::Negative => f.write_str("durations must not be negative"),
            DurationError::MissingUnit => {
                f.write_str("a duration needs a unit (ns, us, ms, s, m, h), e.g. \"250ms\"")
            }
            DurationError::UnknownUnit(u) => {
                write!(
                    f,
                    "unknown duration unit \"{u}\" (expected ns, us, ms, s, m or h)"
                )
            }
            DurationError::Malformed => {
                f.write_str("not a duration (expected a number and a unit, e.g. \"1.5s\")")
            }
            DurationError::TooPrecise => f.write_str("durations are whole nanoseconds"),
            DurationError::TooLarge => f.write_str("duration is too large"),
            DurationError::Exponent => f.write_str(
                "exponents are not allowed in durations; write the digits, e.g. \"1000s\"",
            ),
        }
    }
}

/// Parses `"250ms"`, `"1.5s"`, `"2m"`, `"1h"` (units ns, us, ms, s, m, h) into exact
/// nanoseconds. Bare numbers, negative values and sub-nanosecond fractions are rejected.
pub fn parse_duration(text: &str) -> Result<SimDuration, DurationError> {
    let s = text.trim();
    if s.starts_with('-') {
        return Err(DurationError::Negative);
    }
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    if number.is_empty() {
        return Err(DurationError::Malformed);
    }
    if unit.is_empty() {
        return Err(DurationError::MissingUnit);
    }
    // "1e3s": an exponent, not the unit "e3s".
    if unit.starts_with(['e', 'E'])
        && unit[1..].starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+')
    {
        return Err(DurationError::Exponent);
    }
    let scale = UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|(_, ns)| *ns)
        .ok_or_else(|| DurationError::UnknownUnit(unit.to_string()))?;
    let (whole, frac) = match number.split_once('.') {
        Some((w, f)) => (w, f),
        None => (number, ""),
    };
    if (whole.is_empty() && frac.is_empty()) || frac.contains('.') {
        return Err(DurationError::Malformed);
    }
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| DurationError::TooLarge)?
    };
    let mut total = whole
        .checked_mul(scale as u128)
        .ok_or(DurationError::TooLarge)?;
    // Fractional digits, exactly: digit k (1-based) is worth scale / 10^k nanoseconds.
    let mut place = scale as u128;
    for c in frac.chars() {
        let digit = c.to_digit(10).ok_or(DurationError::Malformed)? as u128;
        if digit != 0 && place % 10 != 0 {
            return Err(DurationError::TooPrecise);
        }
        place /= 10;
        total += digit * place;
    }
    u64::try_from(total)
        .map(SimDuration)
        .map_err(|_| DurationError::TooLarge)
}

/// Formats nanoseconds for people: `850 ns`, `12.500 µs`, `80.000 ms`, `3.204 s`,
/// `2.500 min`, `1.250 h`. Deterministic (Rust float formatting is exact).
pub fn format_duration(ns: u64) -> String {
    const MIN: u64 = 60_000_000_000;
    const HOUR: u64 = 3_600_000_000_000;
    if ns < 1_000 {
        format!("{ns} ns")
    } else if ns < 1_000_000 {
        format!("{:.3} µs", ns as f64 / 1e3)
    } else if ns < 1_000_000_000 {
        format!("{:.3} ms", ns as f64 / 1e6)
    } else if ns < 2 * MIN {
        format!("{:.3} s", ns as f64 / 1e9)
    } else if ns < 2 * HOUR {
        format!("{:.3} min", ns as f64 / MIN as f64)
    } else {
        format!("{:.3} h", ns as f64 / HOUR as f64)
    }
}

/// Formats a duration compactly in the scenario syntax (`"1s"`, `"250ms"`), choosing the
/// largest unit that represents it exactly.
pub fn format_duration_spec(ns: u64) -> String {
    if ns == 0 {
        return "0s".to_string();
    }
    for (name, scale) in UNITS.iter().rev() {
        if ns % scale == 0 {
            return format!("{}{}", ns / scale, name);
        }
    }
    format!("{ns}ns")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit_exactly() {
        assert_eq!(parse_duration("250ms"), Ok(SimDuration(250_000_000)));
        assert_eq!(parse_duration("1s"), Ok(SimDuration(1_000_000_000)));
        assert_eq!(parse_duration("1.5s"), Ok(SimDuration(1_500_000_000)));
        assert_eq!(parse_duration("2m"), Ok(SimDuration(120_000_000_000)));
        assert_eq!(parse_duration("1h"), Ok(SimDuration(3_600_000_000_000)));
        assert_eq!(parse_duration("7ns"), Ok(SimDuration(7)));
        assert_eq!(parse_duration("20us"), Ok(SimDuration(20_000)));
        assert_eq!(parse_duration("0.000000001s"), Ok(SimDuration(1)));
        assert_eq!(parse_duration(".5s"), Ok(SimDuration(500_000_000)));
        assert_eq!(parse_duration("0s"), Ok(SimDuration(0)));
    }

    #[test]
    fn rejects_bad_durations_with_the_rule() {
        assert_eq!(parse_duration("-1s"), Err(DurationError::Negative));
        assert_eq!(parse_duration("5"), Err(DurationError::MissingUnit));
        assert_eq!(
            parse_duration("5 sec"),
            Err(DurationError::UnknownUnit(" sec".into()))
        );
        assert_eq!(parse_duration("1.5ns"), Err(DurationError::TooPrecise));
        assert_eq!(parse_duration("s"), Err(DurationError::Malformed));
        assert_eq!(parse_duration("1.2.3s"), Err(DurationError::Malformed));
        assert_eq!(parse_duration("99999999999h"), Err(DurationError::TooLarge));
    }

    #[test]
    fn formats_for_people_and_for_scenarios() {
        assert_eq!(format_duration(850), "850 ns");
        assert_eq!(format_duration(3_204_000_000), "3.204 s");
        assert_eq!(format_duration(80_000_000), "80.000 ms");
        assert_eq!(format_duration(150 * 60_000_000_000), "2.500 h");
        assert_eq!(format_duration_spec(1_500_000_000), "1500ms");
        assert_eq!(format_duration_spec(3_600_000_000_000), "1h");
        assert_eq!(format_duration_spec(0), "0s");
    }

    #[test]
    fn time_arithmetic_saturates_or_asserts() {
        let t = SimTime(5);
        assert_eq!(t + SimDuration(3), SimTime(8));
        assert_eq!(SimTime(3).since(SimTime(5)), SimDuration(0));
        assert_eq!(
            SimTime(u64::MAX - 1).saturating_add(SimDuration(5)),
            SimTime(u64::MAX)
        );
    }
}
