//! Goal: invariants hold on many random scenarios. With no loss and every arrival gap
//! below the threshold there is no false positive; every crash is detected within
//! threshold + scan interval + maximum delay; verdict times never decrease; and recording
//! in-flight arrivals in clients gives exactly the results of queueing every delivery.
//! A failing case prints the generated scenario; replay it with `hbsim run`.

use hbsim::{engine::World, oracle::Outcome};
use hbsim::{Limits, VerdictEvent};
use proptest::prelude::*;
use serde_json::{json, Value};

const MS: u64 = 1_000_000;

#[derive(Debug, Clone)]
struct Case {
    interval_ms: u64,
    jitter_ms: u64,
    fixed_delay: bool,
    aligned: bool,
    delay_min_ms: u64,
    delay_max_ms: u64,
    count: u32,
    /// (scan interval ms, threshold margin ms)
    detectors: Vec<(u64, u64)>,
    /// Crash offset (ms after the first-contact bound) per client, if it crashes.
    crashes: Vec<Option<u64>>,
    seed: u64,
}

fn case() -> impl Strategy<Value = Case> {
    (
        100u64..2000,
        0u64..26,
        any::<bool>(),
        any::<bool>(),
        0u64..200,
        0u64..300,
        1u32..7,
        proptest::collection::vec((prop_oneof![Just(0u64), 10u64..1500], 1u64..2000), 1..3),
        any::<u64>(),
    )
        .prop_flat_map(
            |(
                interval_ms,
                jitter_pct,
                fixed_delay,
                aligned,
                dmin,
                dspan,
                count,
                detectors,
                seed,
            )| {
                proptest::collection::vec(proptest::option::of(0u64..20_000), count as usize)
                    .prop_map(move |crashes| Case {
                        interval_ms,
                        jitter_ms: interval_ms * jitter_pct / 100,
                        fixed_delay,
                        aligned,
                        delay_min_ms: dmin,
                        delay_max_ms: dmin + dspan,
                        count,
                        detectors: detectors.clone(),
                        crashes,
                        seed,
                    })
            },
        )
}

impl Case {
    fn threshold_ms(&self, margin: u64) -> u64 {
        // Arrival gaps are at most interval + 2·jitter + (max − min delay) < this.
        self.interval_ms + 2 * self.jitter_ms + self.delay_max_ms + margin
    }

    fn scenario(&self) -> Value {
        let known_by = self.interval_ms + self.delay_max_ms + 1;
        let worst = self
            .detectors
            .iter()
            .map(|&(s, m)| self.threshold_ms(m) + s)
            .max()
            .unwrap();
        let last_crash = self.crashes.iter().flatten().max().copied().unwrap_or(0);
        let duration = known_by + last_crash + worst + self.delay_max_ms + 1000;
        let faults: Vec<Value> = self
            .crashes
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                c.map(|off| json!({ "at": format!("{}ms", known_by + off), "action": "crash", "clients": format!("g[{i}]") }))
            })
            .collect();
        let detectors: Vec<Value> = self
            .detectors
            .iter()
            .enumerate()
            .map(|(i, &(scan, margin))| {
                json!({ "name": format!("d{i}"), "kind": "fixed-timeout",
                        "scan_interval": format!("{scan}ms"), "scan_phase": format!("{}ms", scan / 3),
                        "threshold": format!("{}ms", self.threshold_ms(margin)) })
            })
            .collect();
        json!({
            "name": "prop", "seed": self.seed, "duration": format!("{duration}ms"),
            "clients": [{ "group": "g", "count": self.count,
                "heartbeat": { "interval": format!("{}ms", self.interval_ms),
                               "jitter": format!("{}ms", self.jitter_ms),
                               "schedule": if self.fixed_delay { "fixed-delay" } else { "fixed-rate" },
                               "phase": if self.aligned { "aligned" } else { "random" } },
                "uplink": { "delay": { "dist": "uniform", "min": format!("{}ms", self.delay_min_ms),
                                       "max": format!("{}ms", self.delay_max_ms) } } }],
            "detectors": detectors,
            "faults": faults
        })
    }
}

fn run_traced(text: &str, queued: bool) -> (Outcome, Vec<VerdictEvent>) {
    let s = hbsim::parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let mut events = Vec::new();
    let mut keep = |e: &VerdictEvent| events.push(*e);
    let mut world = World::new(&s, s.seed);
    if queued {
        world = world.with_queued_deliveries();
    }
    let outcome = world.run(Limits::default(), Some(&mut keep)).unwrap();
    (outcome, events)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn no_loss_and_short_gaps_mean_no_mistakes_and_bounded_detection(c in case()) {
        let text = c.scenario().to_string();
        let (outcome, events) = run_traced(&text, false);
        let crashes = c.crashes.iter().flatten().count() as u64;
        for (i, &(scan, margin)) in c.detectors.iter().enumerate() {
            let acc = &outcome.detectors[i][0];
            prop_assert_eq!(acc.fp_spurious + acc.fp_during_fault, 0, "false positive in {}", text);
            prop_assert_eq!(acc.latencies.len() as u64, crashes, "undetected crash in {}", text);
            prop_assert_eq!(acc.missed, 0);
            let bound = (c.threshold_ms(margin) + scan + c.delay_max_ms) * MS;
            for &l in &acc.latencies {
                prop_assert!(l <= bound, "latency {} > bound {} in {}", l, bound, text);
            }
        }
        prop_assert!(events.windows(2).all(|w| w[0].time <= w[1].time), "verdict time went backwards");
    }

    #[test]
    fn recorded_arrivals_equal_queued_deliveries(
        c in case(),
        p in 0.0f64..0.5,
        shape in 0.8f64..3.0,
        restart_ms in proptest::option::of(0u64..30_000),
        never in any::<bool>(),
        bursts in any::<bool>(),
        duplicate in 0.0f64..0.5,
        pause_ms in proptest::option::of((0u64..30_000, 1u64..10_000)),
        churn in any::<bool>(),
        with_ping in any::<bool>(),
    ) {
        let mut s = c.scenario();
        if with_ping {
            s["detectors"].as_array_mut().unwrap().push(json!(
                { "name": "ping", "kind": "ping", "interval": "700ms", "timeout": "300ms", "misses": 2 }));
        }
        let loss = if bursts {
            json!({ "model": "gilbert-elliott", "p_enter_bad": p / 5.0, "p_leave_bad": 0.3,
                    "loss_good": p / 10.0, "loss_bad": 0.8 })
        } else {
            json!({ "model": "bernoulli", "p": p })
        };
        s["clients"][0]["uplink"] = json!({
            "delay": { "dist": "pareto", "scale": format!("{}ms", c.delay_min_ms + 1), "shape": shape },
            "loss": loss, "duplicate": duplicate });
        if let Some((at, length)) = pause_ms {
            s["faults"].as_array_mut().unwrap().push(json!(
                { "at": format!("{at}ms"), "action": "pause", "clients": "g[0]", "for": format!("{length}ms") }));
        }
        if churn {
            s["faults"].as_array_mut().unwrap().push(json!(
                { "at": "0s", "action": "churn", "clients": "g", "mtbf": "20s", "mttr": "3s" }));
        }
        s["detectors"][0]["rejoin"] = json!(if never { "never" } else { "announce" });
        if let Some(r) = restart_ms {
            let duration = hbsim::base::time::parse_duration(s["duration"].as_str().unwrap()).unwrap().as_nanos() / MS;
            s["faults"].as_array_mut().unwrap().push(
                json!({ "at": format!("{}ms", r % duration), "action": "restart", "clients": "*" }));
        }
        // Pauses and churn must fall inside the run.
        let duration = hbsim::base::time::parse_duration(s["duration"].as_str().unwrap()).unwrap().as_nanos() / MS;
        for f in s["faults"].as_array_mut().unwrap() {
            let at = hbsim::base::time::parse_duration(f["at"].as_str().unwrap()).unwrap().as_nanos() / MS;
            f["at"] = json!(format!("{}ms", at % duration));
        }
        let text = s.to_string();
        let (recorded, recorded_events) = run_traced(&text, false);
        let (queued, queued_events) = run_traced(&text, true);
        prop_assert!(recorded.events_processed <= queued.events_processed);
        prop_assert_eq!(&recorded.detectors, &queued.detectors, "{}", text);
        prop_assert_eq!(&recorded.groups, &queued.groups);
        prop_assert_eq!(recorded_events, queued_events);
    }
}
