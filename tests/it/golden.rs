//! Goal: the committed reports under `reports/` are exactly what the committed scenarios
//! produce. `UPDATE_GOLDEN=1 cargo test --release` rewrites them on purpose.

use crate::common::{golden_dir, root, run, scenarios, stem};

#[test]
fn committed_reports_match_their_scenarios() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for path in scenarios() {
        let text = std::fs::read_to_string(&path).unwrap();
        let s = hbsim::parse(&text).unwrap();
        let (report, pictures) = hbsim::run_with_pictures(
            &s,
            text.as_bytes(),
            s.seed,
            s.replications,
            hbsim::DEFAULT_CONFIDENCE,
            hbsim::Limits::default(),
            None,
        )
        .unwrap();
        assert_eq!(
            report.scenario.name,
            stem(&path),
            "{}: a committed scenario's name must equal its file stem",
            path.display()
        );
        let mut files = vec![
            (format!("{}.json", stem(&path)), report.to_json()),
            (format!("{}.md", stem(&path)), report.to_markdown()),
            (format!("{}.html", stem(&path)), report.to_html(&pictures)),
        ];
        files.extend(pictures);
        for (name, produced) in files {
            let golden = golden_dir(&path).join(&name);
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
    // Scenarios with a sweep block also have golden sweep outputs.
    for path in scenarios() {
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        if !text.contains("\"sweep\"") {
            continue;
        }
        let s = hbsim::parse(&text).unwrap();
        let plan = hbsim::study::sweep::plan(&text, Vec::new()).unwrap();
        let rows = hbsim::study::sweep::run_plan(
            &plan,
            &s.detectors[0].name,
            hbsim::Limits::default(),
            &|| {},
        )
        .unwrap();
        let result =
            hbsim::study::sweep::SweepResult::new(&s.name, &bytes, s.seed, plan.axes.clone(), rows);
        for (name, produced) in hbsim::study::sweep::outputs(&result) {
            let golden = golden_dir(&path).join(&name);
            if update {
                std::fs::write(&golden, &produced).unwrap();
            } else if std::fs::read_to_string(&golden).ok().as_deref() != Some(produced.as_str()) {
                stale.push(format!(
                    "{} differs from the sweep of {}",
                    golden.display(),
                    path.display()
                ));
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

fn committed(name: &str) -> hbsim::Report {
    run(&std::fs::read_to_string(root().join(format!("scenarios/{name}.json"))).unwrap())
}

#[test]
fn the_committed_scenarios_show_what_their_descriptions_promise() {
    let r = committed("burst-loss");
    let d = r.detectors.get("scanner").unwrap();
    let fp = |g: &str| d.groups.get(g).unwrap().false_positives.spurious;
    assert!(
        fp("bursty") > 5 * fp("independent"),
        "{} vs {}",
        fp("bursty"),
        fp("independent")
    );

    let r = committed("server-stall");
    let fp = &r.detectors.get("scanner").unwrap().false_positives;
    assert_eq!(
        (fp.during_fault, fp.spurious),
        (100, 0),
        "only the 5 s stall flags, everyone"
    );

    let r = committed("gc-pauses");
    let lenient = &r.detectors.get("lenient").unwrap().false_positives;
    assert_eq!(
        (lenient.during_fault, lenient.spurious),
        (1, 0),
        "only the 15 s pause"
    );

    let r = committed("clock-step");
    let d = r.detectors.get("wall-clock").unwrap();
    assert!(d.detection_latency.stats.min_ns.unwrap() > 3_600_000_000_000);
    assert_eq!(
        d.false_positives.during_fault, 45,
        "every online client at the forward step"
    );

    let r = committed("tcp-stream");
    let tcp = r.traffic.groups.get("tcp").unwrap();
    let udp = r.traffic.groups.get("udp").unwrap();
    assert!(tcp.connection_breaks >= 10 && tcp.retransmissions > 0);
    // Only broken connections lose heartbeats: at most those of the 10 partitioned
    // clients during the 3 min cut, and the few in flight when it began; datagrams lose
    // 5 % everywhere.
    assert!(tcp.lost <= 10 * 185 && tcp.lost > 0, "{tcp:?}");
    assert!(udp.lost > 8000, "{udp:?}");
    let d = r.detectors.get("scanner").unwrap();
    let fp = |g: &str| d.groups.get(g).unwrap().false_positives.spurious;
    assert!(fp("tcp") < fp("udp"), "retransmission shortens silences");
}
