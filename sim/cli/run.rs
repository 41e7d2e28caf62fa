//! `hbsim run`: simulate, print a summary (and the verdict timeline), write the reports.

use super::{load_all, write_set, Failure, Format, RunArgs};
use hbsim::oracle::{Verdict, VerdictEvent};
use hbsim::{Report, Scenario};
use std::io::Write;

/// Runs every scenario and writes its reports.
pub(crate) fn run(args: RunArgs) -> Result<(), Failure> {
    let loaded = load_all(&args.scenarios, true)?;
    let limits = args.limits.limits();
    let stdout = std::io::stdout();
    for (path, bytes, scenario) in &loaded {
        let seed = args.seed.unwrap_or(scenario.seed);
        let mut out = std::io::BufWriter::new(stdout.lock());
        let mut print_event = |e: &VerdictEvent| {
            let _ = writeln!(out, "{}", event_line(scenario, e));
        };
        let trace: hbsim::Trace<'_> = if args.events {
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
        let mut set = vec![
            (json_path.clone(), report.to_json().into_bytes()),
            (md_path.clone(), report.to_markdown().into_bytes()),
        ];
        for (file, svg) in &pictures {
            set.push((args.out.join(file), svg.as_bytes().to_vec()));
        }
        write_set(&set)?;
        if !args.quiet {
            print_summary(&report, args.format);
            eprintln!(
                "hbsim: wrote {} and {}",
                json_path.display(),
                md_path.display()
            );
        }
    }
    Ok(())
}

fn print_summary(report: &Report, format: Format) {
    let text = match format {
        Format::Text => report.to_text(),
        Format::Json => report.to_json(),
        Format::Markdown => report.to_markdown(),
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
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
