//! `hbsim tune SCENARIO --target METRIC<=VALUE ...`: reads the scenario and the targets,
//! runs the search of `study::tune`, prints the recommendation and the runner-up, and
//! writes the tuned scenario on request.

use super::{write_atomically, Failure, TuneArgs};
use hbsim::base::time::format_duration_spec;
use hbsim::scenario::edit::apply;
use hbsim::scenario::expect::{show_value, Expectation, Shown};
use hbsim::study::tune::{self, Judged, Setting, Space, TuneError};
use serde_json::{json, Value};

fn fail(code: u8, message: String) -> Failure {
    Failure { code, message }
}

pub(crate) fn run(args: TuneArgs) -> Result<(), Failure> {
    let bytes = super::read_scenario(&args.scenario).map_err(|e| {
        fail(
            2,
            format!(
                "hbsim: cannot read scenario {}: {e}",
                args.scenario.display()
            ),
        )
    })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        fail(
            3,
            format!("hbsim: invalid scenario {}", args.scenario.display()),
        )
    })?;
    let scenario = hbsim::parse(&text).map_err(|e| {
        fail(
            3,
            format!("hbsim: invalid scenario {}\n{e}", args.scenario.display()),
        )
    })?;
    if !args.quiet {
        super::print_warnings(&args.scenario, &scenario);
    }
    let detectors: Vec<String> = scenario.detectors.iter().map(|d| d.name.clone()).collect();
    let targets: Vec<Expectation> = args
        .target
        .iter()
        .map(|t| {
            tune::target(t, &detectors, args.confidence).map_err(|e| fail(2, format!("hbsim: {e}")))
        })
        .collect::<Result<_, _>>()?;
    if targets.is_empty() {
        return Err(fail(
            2,
            "hbsim: tune needs at least one --target METRIC<=VALUE".into(),
        ));
    }
    let minimize = args
        .minimize
        .as_deref()
        .unwrap_or("traffic.bytes_per_client_hour");
    let objective = tune::target(&format!("{minimize}<=0"), &detectors, None)
        .map_err(|e| fail(2, format!("hbsim: {e}")))?;
    let group = match &args.group {
        Some(g) => scenario
            .groups
            .iter()
            .find(|x| &x.name == g)
            .ok_or_else(|| fail(2, format!("hbsim: no client group named \"{g}\"")))?,
        None => &scenario.groups[0],
    };
    let detector = match &args.detector {
        Some(d) => scenario
            .detectors
            .iter()
            .find(|x| &x.name == d)
            .ok_or_else(|| fail(2, format!("hbsim: no detector named \"{d}\"")))?,
        None => &scenario.detectors[0],
    };
    let tuned = tune::tuned(&detector.kind).map_err(|why| {
        fail(
            2,
            format!(
                "hbsim: tune searches a fixed-timeout threshold, an nfd-s shift, an nfd-e margin or a swim detector's interval, timeout and suspicion_mult; \"{}\" is {} and {why}",
                detector.name,
                detector.kind.name()
            ),
        )
    })?;
    let mut base: Value = serde_json::from_str(&text).expect("validated JSON");
    if let Some(m) = base.as_object_mut() {
        m.remove("sweep");
        m.remove("expect");
    }
    let pb = super::spinner(args.quiet, "candidates judged");
    let tick = || {
        if let Some(pb) = &pb {
            pb.inc(1);
        }
    };
    let space = Space {
        base: &base,
        group: group.name.clone(),
        detector: detector.name.clone(),
        tuned,
        targets: &targets,
        objective: &objective,
        confidence: args.confidence.unwrap_or(hbsim::DEFAULT_CONFIDENCE),
        limits: args.limits.limits(),
        tick: &tick,
    };
    // A swim detector's own period is searched; every other kind, the group's interval.
    let start = detector
        .kind
        .as_swim()
        .map_or(group.heartbeat.interval.as_nanos(), |w| w.protocol.interval);
    let grid = tune::coarse_grid(start, &tuned);
    if !args.quiet {
        eprintln!("hbsim: tune: {} candidates on the coarse grid", grid.len());
    }
    let judged = tune::search(&space, &grid);
    if let Some(pb) = &pb {
        pb.finish_and_clear();
    }
    let judged = judged.map_err(|e| match e {
        TuneError::Candidate(m) => fail(3, format!("hbsim: tune: {m}")),
        TuneError::Limit(l) => fail(4, format!("hbsim: tune: {l}")),
    })?;
    let show = |s: Setting| {
        let mut t = format!(
            "interval {}, {} {}",
            format_duration_spec(s.interval),
            tuned.field,
            format_duration_spec(s.threshold)
        );
        if let Some(scan) = s.scan {
            t.push_str(&format!(", scan interval {}", format_duration_spec(scan)));
        }
        if let Some(m) = s.suspicion {
            t.push_str(&format!(", suspicion_mult {m}"));
        }
        t
    };
    let best = tune::best(&judged);
    let runner_up = best.and_then(|b| tune::runner_up(&judged, b));
    let page = tune::page(
        &tune::PageOf {
            scenario: &scenario.name,
            detector: &detector.name,
            field: tuned.field,
            targets: &targets,
            objective: &objective,
            best,
            runner_up,
        },
        &judged,
    );
    super::write_files(&args.out, page, args.quiet)?;
    let Some(b) = best else {
        let closest = judged
            .iter()
            .min_by(|a, b| a.violation.total_cmp(&b.violation))
            .expect("candidates");
        return Err(fail(1, format!(
            "hbsim: tune: no candidate of {} meets every target; the closest is {} (worst target missed by {:.1} %)",
            judged.len(),
            show(closest.setting),
            closest.violation * 100.0
        )));
    };
    let describe = |j: &Judged| {
        let mut lines = vec![format!(
            "  {}   {} {}",
            show(j.setting),
            objective.metric,
            j.objective
                .map(|v| show_value(objective.path.unit, v))
                .unwrap_or("–".into())
        )];
        for (t, (value, margin)) in targets.iter().zip(&j.margins) {
            // One unit for the bound, the measurement and the margin.
            let f = Shown::of_target(t, *value, None, *margin);
            lines.push(format!(
                "    {:<50} measured {:<14} margin {}",
                t.describe_with(|b| f.bound(b)),
                value.map(|v| f.show(v)).unwrap_or("–".into()),
                margin.map(|m| f.signed(m)).unwrap_or("–".into())
            ));
        }
        lines.join("\n")
    };
    if args.format == super::CheckFormat::Json {
        let as_json = |j: &Judged| {
            let targets: Vec<Value> = targets
                .iter()
                .zip(&j.margins)
                .map(|(t, (value, margin))| {
                    let ns = |x: &Option<f64>| x.map(|v| v.round() as i64);
                    match t.path.unit {
                        hbsim::scenario::expect::Unit::Duration => json!({
                            "target": t.describe(), "value_ns": ns(value), "margin_ns": ns(margin) }),
                        hbsim::scenario::expect::Unit::Number => json!({
                            "target": t.describe(), "value": value, "margin": margin }),
                    }
                })
                .collect();
            json!({ "interval_ns": j.setting.interval, tuned.field.to_string() + "_ns": j.setting.threshold,
                    "scan_interval_ns": j.setting.scan, "suspicion_mult": j.setting.suspicion, "objective": { "metric": objective.metric,
                    "value": j.objective }, "targets": targets })
        };
        let doc = json!({ "format_version": hbsim::report::FORMAT_VERSION,
                          "candidates": judged.len(), "recommended": as_json(&judged[b]),
                          "runner_up": runner_up.map(|r| as_json(&judged[r])) });
        println!("{}", serde_json::to_string_pretty(&doc).expect("JSON"));
    } else {
        println!(
            "recommended ({} candidates judged):\n{}",
            judged.len(),
            describe(&judged[b])
        );
        if let Some(r) = runner_up {
            println!("runner-up:\n{}", describe(&judged[r]));
        }
    }
    if let Some(path) = &args.write {
        let mut v: Value = serde_json::from_str(&text).expect("validated JSON");
        let s = judged[b].setting;
        tune::edits(&group.name, &detector.name, &tuned, s)
            .iter()
            .try_for_each(|(p, value)| apply(&mut v, p, value))
            .map_err(|e| fail(2, format!("hbsim: tune: {e}")))?;
        let mut out = serde_json::to_string_pretty(&v).expect("JSON");
        out.push('\n');
        write_atomically(path, out.as_bytes())?;
        if !args.quiet {
            eprintln!("hbsim: wrote {}", path.display());
        }
        // The file's own expectations were not targets: say which the new values break.
        let written = hbsim::parse(&out).map_err(|e| {
            fail(
                3,
                format!("hbsim: tune: the written scenario is invalid\n{e}"),
            )
        })?;
        if !written.expect.is_empty() {
            let checked = hbsim::study::check::check(
                &written,
                out.as_bytes(),
                written.seed,
                written.replications,
                args.limits.limits(),
            )
            .map_err(|e| fail(4, format!("hbsim: tune: {e}")))?;
            for (e, v) in checked.results.iter().filter(|(_, v)| !v.pass) {
                eprintln!(
                    "hbsim: tune: warning: {}: the expectation {} no longer holds with the recommended values (measured {}); update or remove it",
                    path.display(),
                    e.describe(),
                    v.value
                        .map(|x| show_value(e.path.unit, x))
                        .unwrap_or("–".into())
                );
            }
        }
    }
    Ok(())
}
