//! `hbsim validate`: parse and validate only.

use super::{load_all, CheckFormat, Failure, ValidateArgs};
use hbsim::report::counted;
use serde_json::json;

/// Validates every file, listing each valid one unless quiet.
pub(crate) fn run(args: ValidateArgs) -> Result<(), Failure> {
    if args.format == CheckFormat::Json {
        return run_json(&args);
    }
    let loaded = load_all(&args.scenarios, false)?;
    if !args.quiet {
        for (path, _, s) in &loaded {
            let clients = s.groups.iter().map(|g| g.count as u64).sum::<u64>();
            println!(
                "{}: ok ({} in {}, {}, {})",
                path.display(),
                counted(clients, "client", "clients"),
                counted(s.groups.len() as u64, "group", "groups"),
                counted(s.detectors.len() as u64, "detector", "detectors"),
                counted(s.faults.len() as u64, "fault", "faults")
            );
        }
    }
    Ok(())
}

/// One JSON document: every file, valid or not, with its problems; exit as the text form.
fn run_json(args: &ValidateArgs) -> Result<(), Failure> {
    let mut files = Vec::new();
    let mut worst: Option<Failure> = None;
    for path in &args.scenarios {
        match load_all(std::slice::from_ref(path), false) {
            Ok(loaded) => {
                let s = &loaded[0].2;
                files.push(json!({ "file": path.display().to_string(), "valid": true,
                    "name": s.name, "groups": s.groups.len(), "detectors": s.detectors.len(),
                    "faults": s.faults.len(),
                    "clients": s.groups.iter().map(|g| g.count as u64).sum::<u64>() }));
            }
            Err(f) => {
                // The first line names the file; the others are its problems.
                let problems: Vec<String> = f
                    .message
                    .lines()
                    .skip(1)
                    .map(|l| l.trim().to_string())
                    .collect();
                files.push(json!({ "file": path.display().to_string(), "valid": false,
                    "error": f.message.lines().next().unwrap_or(""), "problems": problems }));
                if worst.as_ref().is_none_or(|w| f.code > w.code) {
                    worst = Some(f);
                }
            }
        }
    }
    let doc = json!({ "format_version": hbsim::report::FORMAT_VERSION,
                      "valid": worst.is_none(), "files": files });
    println!("{}", serde_json::to_string_pretty(&doc).expect("JSON"));
    match worst {
        None => Ok(()),
        Some(f) => Err(Failure {
            code: f.code,
            message: "hbsim: invalid input (see the JSON on stdout)".into(),
        }),
    }
}
