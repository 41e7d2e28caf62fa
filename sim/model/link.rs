//! One direction of a client's network path, resolved for the hot path: delay
//! distribution, loss (Bernoulli, or Gilbert–Elliott bursts whose state changes once per
//! packet) and duplication. Pure sampling: the caller owns the random streams and the
//! burst state.

use crate::base::rng::{Chance, Dist, Stream};

/// One direction of a client's network path.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    /// `None` delivers instantly.
    pub delay: Option<Dist>,
    /// Which packets are lost.
    pub loss: Loss,
    /// Probability that a delivered packet arrives twice (the copy has its own delay).
    pub duplicate: f64,
}

impl Link {
    /// No delay, no loss, no duplication.
    pub const PERFECT: Link = Link {
        delay: None,
        loss: Loss::None,
        duplicate: 0.0,
    };
}

/// How a link loses packets.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Loss {
    /// Nothing is lost.
    None,
    /// Each packet is lost independently with probability `p`.
    Bernoulli {
        /// The loss probability.
        p: f64,
    },
    /// Two-state Markov chain changing state once per packet (netem `gemodel p r 1-h 1-k`).
    GilbertElliott {
        /// Per packet, the chance that the good state turns bad.
        p_enter_bad: f64,
        /// Per packet, the chance that the bad state turns good.
        p_leave_bad: f64,
        /// Loss probability in the good state.
        loss_good: f64,
        /// Loss probability in the bad state.
        loss_bad: f64,
    },
}

impl Loss {
    /// The long-run fraction of packets lost.
    pub fn mean_rate(&self) -> f64 {
        match *self {
            Loss::None => 0.0,
            Loss::Bernoulli { p } => p,
            Loss::GilbertElliott {
                p_enter_bad,
                p_leave_bad,
                loss_good,
                loss_bad,
            } => {
                let total = p_enter_bad + p_leave_bad;
                if total == 0.0 {
                    loss_good
                } else {
                    (loss_good * p_leave_bad + loss_bad * p_enter_bad) / total
                }
            }
        }
    }
}

/// A loss model with its probabilities converted to integer chances.
pub enum LossRt {
    /// Nothing is lost.
    None,
    /// Independent loss.
    Bernoulli(Chance),
    /// netem `gemodel p r 1-h 1-k`: per packet, first the state changes (Good→Bad with
    /// `enter`, Bad→Good with `leave`), then the packet is lost with the new state's chance.
    GilbertElliott {
        /// Good → bad.
        enter: Chance,
        /// Bad → good.
        leave: Chance,
        /// Loss in the good state.
        good: Chance,
        /// Loss in the bad state.
        bad: Chance,
    },
}

/// One direction of a path, resolved for the hot path.
pub struct LinkRt {
    /// The delay distribution; `None` delivers instantly.
    pub delay: Option<Dist>,
    /// The loss model.
    pub loss: LossRt,
    /// The chance that a delivered packet arrives twice.
    pub duplicate: Chance,
}

impl LinkRt {
    /// Resolves a scenario link.
    pub fn new(link: &Link) -> Self {
        LinkRt {
            delay: link.delay.clone(),
            loss: match link.loss {
                Loss::None => LossRt::None,
                Loss::Bernoulli { p } => LossRt::Bernoulli(Chance::new(p)),
                Loss::GilbertElliott {
                    p_enter_bad,
                    p_leave_bad,
                    loss_good,
                    loss_bad,
                } => LossRt::GilbertElliott {
                    enter: Chance::new(p_enter_bad),
                    leave: Chance::new(p_leave_bad),
                    good: Chance::new(loss_good),
                    bad: Chance::new(loss_bad),
                },
            },
            duplicate: Chance::new(link.duplicate),
        }
    }

    /// Whether the next packet is lost; `bad` is the link's burst state, updated here.
    /// `rng` is the link's loss stream (unused, and possibly absent, without a loss model).
    #[inline(always)]
    pub fn lost(&self, bad: &mut bool, rng: Option<&mut Stream>) -> bool {
        match (&self.loss, rng) {
            (LossRt::None, _) => false,
            (LossRt::Bernoulli(c), Some(rng)) => c.happens(rng),
            (
                LossRt::GilbertElliott {
                    enter,
                    leave,
                    good,
                    bad: in_bad,
                },
                Some(rng),
            ) => {
                let flip = if *bad { leave } else { enter };
                if flip.happens(rng) {
                    *bad = !*bad;
                }
                if *bad {
                    in_bad.happens(rng)
                } else {
                    good.happens(rng)
                }
            }
            (_, None) => unreachable!("a lossy link has a loss stream"),
        }
    }

    /// One delay draw (0 for a link without delay).
    #[inline(always)]
    pub fn delay(&self, rng: Option<&mut Stream>) -> u64 {
        match (&self.delay, rng) {
            (None, _) => 0,
            (Some(d), Some(rng)) => d.sample(rng),
            (Some(_), None) => unreachable!("a delaying link has a delay stream"),
        }
    }

    /// Whether a delivered packet is duplicated, and if so the copy's delay, both drawn
    /// from the link's duplication stream so that other streams stay aligned.
    #[inline(always)]
    pub fn duplicate(&self, rng: Option<&mut Stream>) -> Option<u64> {
        if self.duplicate.is_never() {
            return None;
        }
        let rng = rng.expect("a duplicating link has a duplication stream");
        if !self.duplicate.happens(rng) {
            return None;
        }
        Some(match &self.delay {
            None => 0,
            Some(d) => d.sample(rng),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::rng::{key, stream, Purpose};

    #[test]
    fn gilbert_elliott_long_run_rate_matches_the_formula_and_comes_in_bursts() {
        let loss = Loss::GilbertElliott {
            p_enter_bad: 0.01,
            p_leave_bad: 0.2,
            loss_good: 0.001,
            loss_bad: 0.6,
        };
        let link = LinkRt::new(&Link {
            delay: None,
            loss,
            duplicate: 0.0,
        });
        let mut rng = stream(key(1, Purpose::UplinkLoss, "g"), 0);
        let mut bad = false;
        let n = 2_000_000;
        let mut lost = 0u64;
        let mut runs = 0u64;
        let mut previous = false;
        for _ in 0..n {
            let l = link.lost(&mut bad, Some(&mut rng));
            lost += l as u64;
            runs += (l && !previous) as u64;
            previous = l;
        }
        let rate = lost as f64 / n as f64;
        let expected = loss.mean_rate();
        // (1−k)·r/(p+r) + (1−h)·p/(p+r) = (0.001·0.2 + 0.6·0.01)/0.21 = 0.029524. The chain
        // is correlated (mean bad period 5 packets), so allow 3 % relative.
        assert!(
            (rate - expected).abs() < 0.03 * expected,
            "{rate} vs {expected}"
        );
        // Independent loss at this rate would give runs of mean length 1/(1−q) ≈ 1.03;
        // bursts make them markedly longer.
        let mean_run = lost as f64 / runs as f64;
        assert!(mean_run > 1.5, "mean loss run {mean_run}");
    }
}
