//! `hbsim validate`: parse and validate only.

use super::{load_all, Failure, ValidateArgs};

/// Validates every file, listing each valid one unless quiet.
pub(crate) fn run(args: ValidateArgs) -> Result<(), Failure> {
    let loaded = load_all(&args.scenarios)?;
    if !args.quiet {
        for (path, _, s) in &loaded {
            println!(
                "{}: ok ({} clients in {} groups, {} detectors, {} faults)",
                path.display(),
                s.groups.iter().map(|g| g.count as u64).sum::<u64>(),
                s.groups.len(),
                s.detectors.len(),
                s.faults.len()
            );
        }
    }
    Ok(())
}
