//! The `hbsim` commands: arguments, errors, and one file per command. The only code that
//! touches the filesystem, the environment or the terminal.

mod args;
mod check;
mod diff;
mod run;
mod sweep;
mod tune;
mod validate;

pub(crate) use args::*;
use args::{Cli, Command};
use clap::Parser;
use hbsim::Scenario;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A failure with its exit code; the message is printed once, on stderr.
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
}

/// Parses the arguments, runs the command and maps a failure to its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Check(args) => check::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Sweep(args) => sweep::run(args),
        Command::Tune(args) => tune::run(args),
        Command::Schema => {
            print!("{}", hbsim::scenario::SCHEMA);
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("{}", f.message);
            ExitCode::from(f.code)
        }
    }
}

/// Prints what is valid in `s` but probably not meant, on stderr.
pub(crate) fn print_warnings(path: &Path, s: &Scenario) {
    for w in hbsim::scenario::warnings(s) {
        eprintln!("hbsim: warning: {}: {w}", path.display());
    }
}

/// Reads and validates every file, reporting all invalid ones before failing, and prints
/// each scenario's warnings on stderr. With `distinct`, two scenarios of the same name
/// (whose outputs would overwrite each other) are refused.
pub(crate) fn load_all(
    paths: &[PathBuf],
    distinct: bool,
) -> Result<Vec<(PathBuf, Vec<u8>, Scenario)>, Failure> {
    let mut loaded = Vec::new();
    let mut messages = Vec::new();
    let mut code = 0;
    for path in paths {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                messages.push(format!(
                    "hbsim: cannot read scenario {}: {e}",
                    path.display()
                ));
                code = code.max(2);
                continue;
            }
        };
        let Ok(text) = std::str::from_utf8(&bytes) else {
            messages.push(format!(
                "hbsim: invalid scenario {}\n  the file is not UTF-8 text",
                path.display()
            ));
            code = code.max(3);
            continue;
        };
        match hbsim::parse(text) {
            Ok(s) => {
                print_warnings(path, &s);
                loaded.push((path.clone(), bytes, s))
            }
            Err(e) => {
                messages.push(format!("hbsim: invalid scenario {}\n{e}", path.display()));
                code = code.max(3);
            }
        }
    }
    if distinct {
        for (i, (path, _, s)) in loaded.iter().enumerate() {
            if let Some((other, _, _)) = loaded[..i].iter().find(|(_, _, o)| o.name == s.name) {
                messages.push(format!(
                    "hbsim: {} and {} are both named \"{}\": their outputs would overwrite each other; give each scenario its own name",
                    other.display(),
                    path.display(),
                    s.name
                ));
                code = code.max(3);
            }
        }
    }
    if messages.is_empty() {
        Ok(loaded)
    } else {
        Err(Failure {
            code,
            message: messages.join("\n"),
        })
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename, so that an interrupted
/// run never leaves a half-written report.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let fail = |what: &str, e: std::io::Error| Failure {
        code: 2,
        message: format!("hbsim: cannot {what} {}: {e}", path.display()),
    };
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).map_err(|e| fail("create the directory for", e))?;
        }
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(|e| fail("write", e))?;
    std::fs::rename(&tmp, path).map_err(|e| fail("write", e))
}
