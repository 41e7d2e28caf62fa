//! `hbsim run`: simulate, print a summary (and the verdict timeline), write the reports.

use super::{load_all, write_set, EventsFormat, Failure, Format, RunArgs};
use hbsim::oracle::{Verdict, VerdictEvent};
use hbsim::{Report, Scenario};
use std::io::Write;

/// Runs every scenario and writes its reports.
pub(crate) fn run(args: RunArgs) -> Result<(), Failure> {
    let loaded = load_all(&args.scenarios, true)?;
    let limits = args.limits.limits();
    let stdout = std::io::stdout();
    // Reports printed as one JSON document (an array) when several scenarios run.
    let mut documents = Vec::new();
    for (path, bytes, scenario) in &loaded {
        let seed = args.seed.unwrap_or(scenario.seed);
        let mut out = std::io::BufWriter::new(stdout.lock());
        let events = args.events;
        let mut print_event = |e: &VerdictEvent| {
            let line = match events {
                Some(EventsFormat::Jsonl) => event_json(scenario, e),
                _ => event_line(scenario, e),
            };
            let _ = writeln!(out, "{line}");
        };
        let trace: hbsim::Trace<'_> = if events.is_some() {
            Some(&mut print_event)
        } else {
            None
        };
        let replications = args.replications.unwrap_or(scenario.replications);
        let (report, pictures) = hbsim::run_with_pictures(
            scenario,
            bytes,
            seed,
            replications,
            args.confidence,
            limits,
            trace,
        )
        .map_err(|e| Failure {
            code: 4,
            message: format!("hbsim: scenario {}: {e}", path.display()),
        })?;
        drop(out);
        let json_path = args.out.join(format!("{}.json", scenario.name));
        let md_path = args.out.join(format!("{}.md", scenario.name));
        let html_path = args.out.join(format!("{}.html", scenario.name));
        let mut set = vec![
            (json_path.clone(), report.to_json().into_bytes()),
            (md_path.clone(), report.to_markdown().into_bytes()),
            (html_path, report.to_html(&pictures).into_bytes()),
        ];
        for (file, svg) in &pictures {
            set.push((args.out.join(file), svg.as_bytes().to_vec()));
        }
        write_set(&set)?;
        // With --events, the events are all that goes to stdout.
        if !args.quiet && args.events.is_none() {
            match args.format {
                Format::Json if loaded.len() > 1 => documents.push(report.to_json()),
                _ => print_summary(&report, args.format),
            }
        }
        if !args.quiet {
            let files: Vec<String> = set.iter().map(|(p, _)| p.display().to_string()).collect();
            eprintln!("hbsim: wrote {}", english_list(&files));
        }
    }
    if !documents.is_empty() {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "[");
        for (i, d) in documents.iter().enumerate() {
            let body = d.trim_end().replace('\n', "\n  ");
            let sep = if i + 1 < documents.len() { "," } else { "" };
            let _ = writeln!(out, "  {body}{sep}");
        }
        let _ = writeln!(out, "]");
    }
    Ok(())
}

/// `a`, `a and b`, `a, b and c`.
fn english_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn print_summary(report: &Report, format: Format) {
    let text = match format {
        Format::Text => report.to_text(),
        Format::Json => report.to_json(),
        // One report per line.
        Format::Jsonl => {
            let v: serde_json::Value = serde_json::from_str(&report.to_json()).expect("JSON");
            format!("{}\n", serde_json::to_string(&v).expect("JSON"))
        }
        Format::Markdown => report.to_markdown(),
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// One verdict change as a JSON object: `time_ns`, `detector` (null for a ground-truth
/// change), `client`, `verdict`, `last_arrival_ns`, `truth`.
fn event_json(s: &Scenario, e: &VerdictEvent) -> String {
    let verdict = match e.verdict {
        Verdict::Online => "online",
        Verdict::Offline => "offline",
        Verdict::Crashed => "crashed",
        Verdict::Restarted => "restarted",
    };
    let subject_is_server = e
        .detector
        .is_some_and(|d| s.detectors[d].kind.watches_server());
    let v = serde_json::json!({
        "scenario": s.name,
        "time_ns": e.time.as_nanos(),
        "detector": e.detector.map(|d| s.detectors[d].name.clone()),
        "client": format!("{}[{}]", s.groups[e.group].name, e.index),
        "verdict": verdict,
        "last_arrival_ns": e.last_arrival.as_nanos(),
        "truth": if e.client_up { "up" } else { "down" },
        "subject": if subject_is_server { "server" } else { "client" },
    });
    serde_json::to_string(&v).expect("JSON")
}

/// One line of the verdict timeline, in the spirit of the sample's console output.
fn event_line(s: &Scenario, e: &VerdictEvent) -> String {
    let secs = |ns: u64| {
        format!(
            "{}.{:03}",
            ns / 1_000_000_000,
            (ns % 1_000_000_000) / 1_000_000
        )
    };
    let client = format!("{}[{}]", s.groups[e.group].name, e.index);
    let time = secs(e.time.as_nanos());
    let Some(d) = e.detector else {
        let what = match e.verdict {
            Verdict::Crashed => "crashed",
            _ => "restarted",
        };
        return format!("{time:>12} s  *  {client}  {what}");
    };
    let verdict = match e.verdict {
        Verdict::Online => "online ",
        _ => "offline",
    };
    // A client's ping of the server judges the server: its ground truth is the server's.
    let subject = if s.detectors[d].kind.watches_server() {
        "server"
    } else {
        "client"
    };
    format!(
        "{time:>12} s  {}  {client}  {verdict}  last heartbeat {} s  ({subject} {})",
        s.detectors[d].name,
        secs(e.last_arrival.as_nanos()),
        if e.client_up { "up" } else { "down" }
    )
}
