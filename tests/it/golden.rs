//! Goal: the committed reports under `reports/` are exactly what the committed scenarios
//! produce. `UPDATE_GOLDEN=1 cargo test --release` rewrites them on purpose.

use crate::common::{root, run, scenarios, stem};

#[test]
fn committed_reports_match_their_scenarios() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for path in scenarios() {
        let text = std::fs::read_to_string(&path).unwrap();
        let report = run(&text);
        assert_eq!(
            report.scenario.name,
            stem(&path),
            "{}: a committed scenario's name must equal its file stem",
            path.display()
        );
        for (ext, produced) in [("json", report.to_json()), ("md", report.to_markdown())] {
            let golden = root()
                .join("reports")
                .join(format!("{}.{ext}", stem(&path)));
            if update {
                std::fs::write(&golden, &produced).unwrap();
                continue;
            }
            match std::fs::read_to_string(&golden) {
                Ok(committed) if committed == produced => {}
                Ok(committed) => stale.push(format!(
                    "{} differs from what {} produces (first difference at line {})",
                    golden.display(),
                    path.display(),
                    committed
                        .lines()
                        .zip(produced.lines())
                        .position(|(a, b)| a != b)
                        .map_or(
                            committed.lines().count().min(produced.lines().count()) + 1,
                            |i| i + 1
                        )
                )),
                Err(e) => stale.push(format!("{}: {e}", golden.display())),
            }
        }
    }
    assert!(
        stale.is_empty(),
        "golden reports are stale (rerun with UPDATE_GOLDEN=1 if the change is intended):\n{}",
        stale.join("\n")
    );
}

#[test]
fn every_committed_scenario_has_a_description() {
    for path in scenarios() {
        let scenario = hbsim::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(
            scenario.description.len() > 40,
            "{} needs a description of the failure mode it exercises",
            path.display()
        );
    }
}

#[test]
fn steady_makes_no_mistakes_and_detects_every_crash() {
    let report = run(&std::fs::read_to_string(root().join("scenarios/steady.json")).unwrap());
    for (name, d) in &report.detectors.0 {
        assert_eq!(d.false_positives.total, 0, "{name}");
        assert_eq!(d.detection_latency.missed, 0, "{name}");
        assert_eq!(d.detection_latency.count, report.crashes, "{name}");
        // The only time a live server is held offline is between its restart and the
        // arrival of its first heartbeat (at most 20 ms) out of ~25 server-hours.
        assert!(
            d.query_accuracy.unwrap() > 1.0 - 0.020 / (25.0 * 3600.0),
            "{name}"
        );
        // threshold + scan interval + max delay = 3 s + 1 s + 20 ms.
        assert!(d.detection_latency.stats.max_ns.unwrap() <= 4_020_000_000);
    }
}
