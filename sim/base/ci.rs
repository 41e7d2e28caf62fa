//! Confidence intervals, computed with `libm` only so that every platform gets the same
//! bits: Student t intervals for means, distribution-free order-statistic intervals for
//! quantiles, exact (Garwood) Poisson intervals for counts and rates, and Wilson intervals
//! for proportions.

use std::f64::consts::{PI, SQRT_2};

/// The highest confidence level intervals are computed at: six nines. Closer to 1 the
/// tail probability underflows the normal quantile's range in `f64`.
pub const CONFIDENCE_MAX: f64 = 0.999_999;

/// Whether `c` is a confidence level intervals can be computed at: in (0, 1), at most
/// `CONFIDENCE_MAX`.
pub fn is_confidence(c: f64) -> bool {
    c > 0.0 && c <= CONFIDENCE_MAX
}

/// What a bad confidence level is told.
pub const CONFIDENCE_RULE: &str = "expected a level above 0 and at most 0.999999, e.g. 0.95";

/// The standard normal quantile (Acklam's rational approximation refined by one Halley
/// step; accurate to about 1e-15).
pub fn normal_quantile(p: f64) -> f64 {
    assert!(p > 0.0 && p < 1.0, "normal quantile of {p}");
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    let x = if p < 0.02425 {
        tail(libm::sqrt(-2.0 * libm::log(p)))
    } else if p > 1.0 - 0.02425 {
        -tail(libm::sqrt(-2.0 * libm::log(1.0 - p)))
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    };
    // One Halley step against the exact CDF.
    let e = 0.5 * libm::erfc(-x / SQRT_2) - p;
    let u = e * libm::sqrt(2.0 * PI) * libm::exp(x * x / 2.0);
    x - u / (1.0 + x * u / 2.0)
}

/// The Student t quantile with `df` degrees of freedom: exact for 1 and 2, otherwise the
/// Cornish–Fisher expansion around the normal quantile (error below 1e-4 for df ≥ 3 at
/// the usual levels).
pub fn t_quantile(p: f64, df: u64) -> f64 {
    assert!(df >= 1);
    match df {
        1 => libm::tan(PI * (p - 0.5)),
        2 => (2.0 * p - 1.0) / libm::sqrt(2.0 * p * (1.0 - p)),
        _ => {
            let z = normal_quantile(p);
            let v = df as f64;
            let z3 = z * z * z;
            let z5 = z3 * z * z;
            let z7 = z5 * z * z;
            let z9 = z7 * z * z;
            z + (z3 + z) / (4.0 * v)
                + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * v * v)
                + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * v * v * v)
                + (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z)
                    / (92160.0 * v * v * v * v)
        }
    }
}

/// Two-sided interval `[lo, hi]`.
pub type Interval = [f64; 2];

/// t interval for the mean of `sample` (needs two values).
pub fn mean_interval(sample: &[u64], confidence: f64) -> Option<Interval> {
    let n = sample.len();
    if n < 2 {
        return None;
    }
    let nf = n as f64;
    // Sums in sample order: deterministic.
    let mean = sample.iter().map(|&x| x as f64).sum::<f64>() / nf;
    let var = sample
        .iter()
        .map(|&x| {
            let d = x as f64 - mean;
            d * d
        })
        .sum::<f64>()
        / (nf - 1.0);
    let half = t_quantile(0.5 + confidence / 2.0, n as u64 - 1) * libm::sqrt(var / nf);
    Some([(mean - half).max(0.0), mean + half])
}

/// Distribution-free interval for the `num/den` quantile of a sorted sample: order
/// statistics `x[l]`, `x[u]` chosen with the normal approximation of the binomial count of
/// values below the quantile. `None` when the sample cannot support the level (the ranks
/// fall outside it).
pub fn quantile_interval(
    sorted: &[u64],
    (num, den): (u64, u64),
    confidence: f64,
) -> Option<[u64; 2]> {
    let n = sorted.len() as f64;
    if sorted.is_empty() {
        return None;
    }
    let q = num as f64 / den as f64;
    let z = normal_quantile(0.5 + confidence / 2.0);
    let spread = z * libm::sqrt(n * q * (1.0 - q));
    let lo = libm::floor(n * q - spread);
    let hi = libm::ceil(n * q + spread) + 1.0;
    if lo < 1.0 || hi > n {
        return None;
    }
    Some([sorted[lo as usize - 1], sorted[hi as usize - 1]])
}

/// P(X ≤ k) for X ~ Poisson(λ), summed in log space.
fn poisson_cdf(k: u64, lambda: f64) -> f64 {
    if lambda <= 0.0 {
        return 1.0;
    }
    let ln = libm::log(lambda);
    let mut total = 0.0;
    for i in 0..=k {
        let i = i as f64;
        total += libm::exp(-lambda + i * ln - libm::lgamma(i + 1.0));
    }
    total.min(1.0)
}

/// Bisection for the λ at which `f(λ)` (decreasing in λ) equals `target`.
fn solve_decreasing(f: impl Fn(f64) -> f64, target: f64, mut lo: f64, mut hi: f64) -> f64 {
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-12 * hi.max(1.0) {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// Exact (Garwood) interval for the mean of a Poisson count `k`.
pub fn poisson_interval(k: u64, confidence: f64) -> Interval {
    let alpha = 1.0 - confidence;
    let kf = k as f64;
    if k > 100_000 {
        // The sums get long; the normal approximation is excellent here.
        let z = normal_quantile(1.0 - alpha / 2.0);
        let s = libm::sqrt(kf);
        return [(kf - z * s).max(0.0), kf + z * s + 1.0];
    }
    let span = kf + 20.0 * libm::sqrt(kf + 1.0) + 20.0;
    let lower = if k == 0 {
        0.0
    } else {
        // P(X ≥ k; λ) = α/2  ⇔  P(X ≤ k−1; λ) = 1 − α/2.
        solve_decreasing(|l| poisson_cdf(k - 1, l), 1.0 - alpha / 2.0, 0.0, span)
    };
    let upper = solve_decreasing(|l| poisson_cdf(k, l), alpha / 2.0, 0.0, span);
    [lower, upper]
}

/// Wilson score interval for a proportion `p` observed over `n` trials.
pub fn wilson_interval(p: f64, n: f64, confidence: f64) -> Option<Interval> {
    if n <= 0.0 {
        return None;
    }
    let z = normal_quantile(0.5 + confidence / 2.0);
    let z2 = z * z;
    let centre = p + z2 / (2.0 * n);
    let half = z * libm::sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n));
    let denom = 1.0 + z2 / n;
    Some([
        ((centre - half) / denom).max(0.0),
        ((centre + half) / denom).min(1.0),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::rng::{key, stream, unit, Purpose};

    #[test]
    fn quantiles_match_tables() {
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-12);
        assert!((normal_quantile(0.5)).abs() < 1e-15);
        assert!((normal_quantile(1e-6) + 4.753_424_308_822_899).abs() < 1e-9);
        // t tables: t(0.975, 1) = 12.706, (2) = 4.303, (5) = 2.571, (30) = 2.042.
        assert!((t_quantile(0.975, 1) - 12.7062).abs() < 1e-3);
        assert!((t_quantile(0.975, 2) - 4.3027).abs() < 1e-3);
        assert!((t_quantile(0.975, 5) - 2.5706).abs() < 2e-3);
        assert!((t_quantile(0.975, 30) - 2.0423).abs() < 1e-4);
    }

    #[test]
    fn poisson_interval_matches_garwood_tables() {
        // Garwood 95 %: k = 0 → [0, 3.689]; k = 1 → [0.0253, 5.572]; k = 10 → [4.795, 18.39].
        let i = poisson_interval(0, 0.95);
        assert!(i[0] == 0.0 && (i[1] - 3.6889).abs() < 1e-3, "{i:?}");
        let i = poisson_interval(1, 0.95);
        assert!(
            (i[0] - 0.02532).abs() < 1e-4 && (i[1] - 5.5716).abs() < 1e-3,
            "{i:?}"
        );
        let i = poisson_interval(10, 0.95);
        assert!(
            (i[0] - 4.7954).abs() < 1e-3 && (i[1] - 18.3904).abs() < 1e-3,
            "{i:?}"
        );
    }

    #[test]
    fn wilson_interval_matches_a_worked_example() {
        // p = 0.5, n = 10, 95 %: [0.2366, 0.7634].
        let i = wilson_interval(0.5, 10.0, 0.95).unwrap();
        assert!(
            (i[0] - 0.2366).abs() < 1e-4 && (i[1] - 0.7634).abs() < 1e-4,
            "{i:?}"
        );
    }

    #[test]
    fn intervals_cover_the_truth_at_their_stated_rate() {
        // 2000 synthetic experiments each; 95 % intervals must cover the truth in 93–97 %.
        let mut rng = stream(key(5, Purpose::Churn, "ci"), 0);
        let trials = 2000;
        let (mut mean_hits, mut poisson_hits, mut quantile_hits) = (0, 0, 0);
        for _ in 0..trials {
            // Exponential sample with mean 1000: mean and median (693.1) intervals.
            let mut s: Vec<u64> = (0..200)
                .map(|_| (-1000.0 * libm::log(1.0 - unit(&mut rng))) as u64)
                .collect();
            let m = mean_interval(&s, 0.95).unwrap();
            mean_hits += (m[0] <= 999.5 && 999.5 <= m[1]) as u32;
            s.sort_unstable();
            let q = quantile_interval(&s, (1, 2), 0.95).unwrap();
            quantile_hits += (q[0] as f64 <= 692.6 && 692.6 <= q[1] as f64) as u32;
            // Poisson count with mean 7.3, by counting exponential arrivals in [0, 1).
            let (mut t, mut k) = (0.0, 0u64);
            loop {
                t += -libm::log(1.0 - unit(&mut rng)) / 7.3;
                if t >= 1.0 {
                    break;
                }
                k += 1;
            }
            let p = poisson_interval(k, 0.95);
            poisson_hits += (p[0] <= 7.3 && 7.3 <= p[1]) as u32;
        }
        for (name, hits) in [
            ("mean", mean_hits),
            ("median", quantile_hits),
            ("poisson", poisson_hits),
        ] {
            let rate = hits as f64 / trials as f64;
            // Garwood intervals are conservative, so allow up to 99 % for Poisson.
            let upper = if name == "poisson" { 0.99 } else { 0.97 };
            assert!((0.93..=upper).contains(&rate), "{name} coverage {rate}");
        }
    }
}
