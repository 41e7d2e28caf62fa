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

/// The Student t quantile with `df` degrees of freedom, exact to the last bits that
/// matter: closed forms for 1 and 2, otherwise the root of the CDF, `P(T > t) =
/// ½·I_{v/(v+t²)}(v/2, ½)` (the regularized incomplete beta function), by bisection.
pub fn t_quantile(p: f64, df: u64) -> f64 {
    assert!(
        df >= 1 && p > 0.0 && p < 1.0,
        "t quantile of {p} with {df} df"
    );
    match df {
        1 => libm::tan(PI * (p - 0.5)),
        2 => (2.0 * p - 1.0) / libm::sqrt(2.0 * p * (1.0 - p)),
        _ if p < 0.5 => -t_quantile(1.0 - p, df),
        _ => {
            let v = df as f64;
            let upper = 1.0 - p;
            let tail = |t: f64| 0.5 * incomplete_beta(v / 2.0, 0.5, v / (v + t * t));
            // The quantile lies below the normal one times a factor that the t's heavier
            // tail never exceeds for df ≥ 3 at these levels; widen until it brackets.
            let mut hi = normal_quantile(p).max(1.0) * 2.0;
            while tail(hi) > upper {
                hi *= 2.0;
            }
            let mut lo = 0.0;
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                if tail(mid) > upper {
                    lo = mid;
                } else {
                    hi = mid;
                }
                if hi - lo <= 1e-15 * hi {
                    break;
                }
            }
            0.5 * (lo + hi)
        }
    }
}

/// The regularized incomplete beta function `I_x(a, b)` (the continued fraction of
/// Numerical Recipes §6.4, evaluated by the modified Lentz method, on the side where it
/// converges fast).
pub fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front = libm::exp(
        libm::lgamma(a + b) - libm::lgamma(a) - libm::lgamma(b)
            + a * libm::log(x)
            + b * libm::log1p(-x),
    );
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

/// The continued fraction for `I_x(a, b)`.
fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..=10_000 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / guard(1.0 + aa * d);
        c = guard(1.0 + aa / c);
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / guard(1.0 + aa * d);
        c = guard(1.0 + aa / c);
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
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
pub fn quantile_interval(sorted: &[u64], q: (u64, u64), confidence: f64) -> Option<[u64; 2]> {
    let (lo, hi) = quantile_ranks(sorted.len() as u64, q, confidence)?;
    Some([sorted[lo as usize - 1], sorted[hi as usize - 1]])
}

/// The 1-based ranks `(l, u)` of the order statistics bounding the `num/den` quantile
/// of `n` values at `confidence`, or `None` when they fall outside the sample.
fn quantile_ranks(n: u64, (num, den): (u64, u64), confidence: f64) -> Option<(u64, u64)> {
    if n == 0 {
        return None;
    }
    let n = n as f64;
    let q = num as f64 / den as f64;
    let z = normal_quantile(0.5 + confidence / 2.0);
    let spread = z * libm::sqrt(n * q * (1.0 - q));
    let lo = libm::floor(n * q - spread);
    let hi = libm::ceil(n * q + spread) + 1.0;
    if lo < 1.0 || hi > n {
        return None;
    }
    Some((lo as u64, hi as u64))
}

/// The smallest sample for which `quantile_interval` gives an interval for the `num/den`
/// quantile at `confidence` (searched up to ten million; `None` beyond).
pub fn quantile_interval_needs(q: (u64, u64), confidence: f64) -> Option<u64> {
    (1..=10_000_000u64).find(|&n| quantile_ranks(n, q, confidence).is_some())
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
    fn the_smallest_sample_with_a_quantile_interval_has_one() {
        for (q, c) in [((99, 100), 0.95), ((1, 2), 0.95), ((999, 1000), 0.9)] {
            let n = quantile_interval_needs(q, c).unwrap();
            let sample: Vec<u64> = (0..n).collect();
            assert!(quantile_interval(&sample, q, c).is_some(), "{q:?} {n}");
            assert!(quantile_interval(&sample[1..], q, c).is_none(), "{q:?} {n}");
        }
    }

    #[test]
    fn quantiles_match_tables() {
        assert!((normal_quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-12);
        assert!((normal_quantile(0.5)).abs() < 1e-15);
        assert!((normal_quantile(1e-6) + 4.753_424_308_822_899).abs() < 1e-9);
    }

    /// Student t quantiles at 0.95, 0.975, 0.995 and 0.9995 (two-sided 90, 95, 99 and
    /// 99.9 %) for 1 to 30 degrees of freedom, computed with mpmath 1.3 at 40 digits.
    const T_TABLE: [[f64; 4]; 30] = [
        [
            6.313751514675043,
            12.706204736174705,
            63.65674116287158,
            636.6192487687197,
        ],
        [
            2.9199855803537256,
            4.302652729749464,
            9.924843200918293,
            31.59905457644362,
        ],
        [
            2.3533634348018238,
            3.1824463052837095,
            5.840909309733357,
            12.923978636687483,
        ],
        [
            2.1318467863266504,
            2.7764451051977943,
            4.604094871349993,
            8.610301581379275,
        ],
        [
            2.0150483733330242,
            2.5705818356363155,
            4.032142983555228,
            6.86882662588111,
        ],
        [
            1.9431802805153031,
            2.44691185114497,
            3.70742802132478,
            5.9588161788187595,
        ],
        [
            1.8945786050900073,
            2.3646242515927853,
            3.4994832973504937,
            5.407882520861725,
        ],
        [
            1.8595480375308984,
            2.3060041352041667,
            3.3553873313333953,
            5.041305433373368,
        ],
        [
            1.8331129326562372,
            2.2621571627982053,
            3.2498355415921263,
            4.780912585931139,
        ],
        [
            1.8124611228116765,
            2.228138851986275,
            3.1692726726169513,
            4.586893858702636,
        ],
        [
            1.7958848187040442,
            2.2009851600916397,
            3.105806515539281,
            4.436979338234449,
        ],
        [
            1.78228755564932,
            2.178812829667229,
            3.054539589392902,
            4.3177912836061845,
        ],
        [
            1.770933395986873,
            2.1603686564627926,
            3.0122758387165782,
            4.220831727707121,
        ],
        [
            1.7613101357748921,
            2.144786687917804,
            2.976842734370835,
            4.140454112738203,
        ],
        [
            1.7530503556925734,
            2.1314495455597755,
            2.946712883475239,
            4.072765195903791,
        ],
        [
            1.74588367627625,
            2.1199052992212546,
            2.9207816224251,
            4.014996327184056,
        ],
        [
            1.739606726075073,
            2.109815577833317,
            2.8982305196774187,
            3.9651262721190315,
        ],
        [
            1.7340636066175388,
            2.1009220402410387,
            2.878440472738608,
            3.9216458250851596,
        ],
        [
            1.7291328115213696,
            2.0930240544083096,
            2.860934606464979,
            3.883405852592083,
        ],
        [
            1.7247182429207872,
            2.085963447265865,
            2.8453397097861086,
            3.8495162749308274,
        ],
        [
            1.7207429028118786,
            2.0796138447276804,
            2.83135955802305,
            3.8192771642744625,
        ],
        [
            1.7171443743802428,
            2.0738730679040263,
            2.8187560606001436,
            3.792130671698391,
        ],
        [
            1.7138715277470482,
            2.0686576104190486,
            2.807335683769999,
            3.7676268043117807,
        ],
        [
            1.7108820799094284,
            2.063898561628026,
            2.7969395047744565,
            3.7453986192900524,
        ],
        [
            1.7081407612518993,
            2.0595385527532977,
            2.7874358136769706,
            3.72514394972865,
        ],
        [
            1.7056179197592731,
            2.055529438642873,
            2.778714533329683,
            3.7066117434809107,
        ],
        [
            1.7032884457221271,
            2.0518305164802855,
            2.770682957122212,
            3.689591713459236,
        ],
        [
            1.7011309342659315,
            2.0484071417952454,
            2.7632624554614447,
            3.6739064007012767,
        ],
        [
            1.699127026533498,
            2.0452296421327043,
            2.7563859036706053,
            3.659405019466333,
        ],
        [
            1.6972608865939578,
            2.042272456301238,
            2.7499956535672254,
            3.645958635042022,
        ],
    ];

    #[test]
    fn t_quantiles_match_the_tables_for_1_to_30_degrees_of_freedom() {
        for (i, row) in T_TABLE.iter().enumerate() {
            let df = i as u64 + 1;
            for (p, &want) in [0.95, 0.975, 0.995, 0.9995].iter().zip(row) {
                let got = t_quantile(*p, df);
                assert!(
                    ((got - want) / want).abs() < 1e-12,
                    "df {df}, p {p}: {got} vs {want}"
                );
                assert!((t_quantile(1.0 - p, df) + want).abs() < 1e-12 * want);
            }
        }
        // Large samples (mpmath as above), where the t approaches the normal. The beta
        // function's lgamma terms lose digits as df grows: 1e-10 there.
        for (df, p, want) in [
            (100, 0.975, 1.9839715185235522),
            (1000, 0.9995, 3.300282648423913),
            (100_000, 0.975, 1.9599877075346095),
            (100_000, 0.9995, 3.2906240314118826),
        ] {
            let got = t_quantile(p, df);
            assert!(
                ((got - want) / want).abs() < 1e-10,
                "df {df}: {got} vs {want}"
            );
        }
    }

    /// P(|T| ≤ t) for integer `v` by the finite sums of Abramowitz and Stegun 26.7.3–4,
    /// independent of the incomplete beta function.
    fn t_central(t: f64, v: u64) -> f64 {
        let theta = libm::atan(t / libm::sqrt(v as f64));
        let (s, c) = (libm::sin(theta), libm::cos(theta));
        let mut term = 1.0;
        let mut sum = 1.0;
        if v % 2 == 1 {
            if v == 1 {
                return 2.0 * theta / PI;
            }
            sum = c;
            term = c;
            let mut k = 3;
            while k < v {
                term *= (k - 1) as f64 / k as f64 * c * c;
                sum += term;
                k += 2;
            }
            2.0 / PI * (theta + s * sum)
        } else {
            let mut k = 2;
            while k < v {
                term *= (k - 1) as f64 / k as f64 * c * c;
                sum += term;
                k += 2;
            }
            s * sum
        }
    }

    #[test]
    fn t_quantiles_invert_the_exact_finite_sum_cdf() {
        for df in 1..=60 {
            for conf in [0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 0.999_999] {
                let t = t_quantile(0.5 + conf / 2.0, df);
                let got = t_central(t, df);
                assert!((got - conf).abs() < 1e-12, "df {df}, {conf}: {got}");
            }
        }
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
