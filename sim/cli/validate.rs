//! `hbsim validate`: parse and validate only.

use super::{load_all, Failure, ValidateArgs};
use hbsim::report::counted;

/// Validates every file, listing each valid one unless quiet.
pub(crate) fn run(args: ValidateArgs) -> Result<(), Failure> {
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
