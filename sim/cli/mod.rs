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
    // Rayon's default is std::thread::available_parallelism, which reads the affinity
    // mask and the cgroup CPU quota; a batch system that grants fewer CPUs without
    // setting either (Slurm with task/none) needs --threads.
    if let Some(n) = cli.threads {
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(n as usize)
            .build_global()
        {
            eprintln!("hbsim: cannot start {n} threads: {e}");
            return ExitCode::from(2);
        }
    }
    clean_up_on_signals();
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
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "hbsim", &mut std::io::stdout());
            Ok(())
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            match clap_mangen::Man::new(cmd).render(&mut out) {
                Ok(()) => {
                    use std::io::Write;
                    let _ = std::io::stdout().write_all(&out);
                    Ok(())
                }
                Err(e) => Err(Failure {
                    code: 2,
                    message: format!("hbsim: cannot write the manual page: {e}"),
                }),
            }
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
/// A progress counter on stderr when it is a terminal (none with `quiet`): `N what`.
pub(crate) fn spinner(quiet: bool, what: &str) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new_spinner();
    if let Ok(style) =
        indicatif::ProgressStyle::with_template(&format!("{{spinner}} {{pos}} {what}  {{elapsed}}"))
    {
        pb.set_style(style);
    }
    pb.enable_steady_tick(std::time::Duration::from_millis(200));
    Some(pb)
}

/// A progress bar of `len` steps on stderr when it is a terminal (none with `quiet`).
pub(crate) fn bar(len: usize, quiet: bool, what: &str) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{{bar:40}} {{pos}}/{{len}} {what}  {{elapsed}} (eta {{eta}})"
    )) {
        pb.set_style(style);
    }
    Some(pb)
}

/// The bytes of a scenario file, or of standard input for `-` (read once per process).
pub(crate) fn read_scenario(path: &Path) -> std::io::Result<Vec<u8>> {
    if path != Path::new("-") {
        return std::fs::read(path);
    }
    static TAKEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if TAKEN.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return Err(std::io::Error::other(
            "standard input (\"-\") can be read only once",
        ));
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)?;
    Ok(bytes)
}

pub(crate) fn load_all(
    paths: &[PathBuf],
    distinct: bool,
) -> Result<Vec<(PathBuf, Vec<u8>, Scenario)>, Failure> {
    let mut loaded = Vec::new();
    let mut messages = Vec::new();
    let mut code = 0;
    for path in paths {
        let bytes = match read_scenario(path) {
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
    write_set(&[(path.to_path_buf(), bytes.to_vec())])
}

/// Temporary files not yet renamed into place: a signal removes them. Held locked while a
/// set is renamed into place, so that a signal then waits for the whole set.
static PENDING: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// Writes `(file name, text)` pairs into `dir` as one set (see `write_set`) and names
/// each file written on stderr unless `quiet`.
pub(crate) fn write_files(
    dir: &Path,
    files: Vec<(String, String)>,
    quiet: bool,
) -> Result<(), Failure> {
    let set: Vec<(PathBuf, Vec<u8>)> = files
        .into_iter()
        .map(|(file, text)| (dir.join(file), text.into_bytes()))
        .collect();
    write_set(&set)?;
    if !quiet {
        for (path, _) in &set {
            eprintln!("hbsim: wrote {}", path.display());
        }
    }
    Ok(())
}

/// Writes a set of files (a report, its Markdown and its pictures) so that an interrupted
/// run leaves either the old set or the new one: every file goes to a temporary name of
/// its own (process id and a counter, so that two processes writing the same report do
/// not collide), then all are renamed into place while signals wait.
pub(crate) fn write_set(files: &[(PathBuf, Vec<u8>)]) -> Result<(), Failure> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let fail = |what: &str, path: &Path, e: std::io::Error| Failure {
        code: 2,
        message: format!("hbsim: cannot {what} {}: {e}", path.display()),
    };
    let mut temps = Vec::new();
    for (path, _) in files {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| fail("create the directory for", path, e))?;
            }
        }
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(format!(
            ".{}.{}.tmp",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        temps.push(PathBuf::from(tmp));
    }
    let pending = || PENDING.lock().unwrap_or_else(|p| p.into_inner());
    pending().extend(temps.iter().cloned());
    let forget = |temps: &[PathBuf]| {
        let mut p = pending();
        p.retain(|t| !temps.contains(t));
        for t in temps {
            let _ = std::fs::remove_file(t);
        }
    };
    for ((path, bytes), tmp) in files.iter().zip(&temps) {
        if let Err(e) = std::fs::write(tmp, bytes) {
            forget(&temps);
            return Err(fail("write", path, e));
        }
    }
    let mut p = pending();
    for ((path, _), tmp) in files.iter().zip(&temps) {
        if let Err(e) = std::fs::rename(tmp, path) {
            drop(p);
            forget(&temps);
            return Err(fail("write", path, e));
        }
    }
    p.retain(|t| !temps.contains(t));
    Ok(())
}

/// On SIGINT, SIGTERM or SIGHUP: remove the temporary files of sets not yet in place (a
/// set being renamed is finished first), say so, and exit with 128 + the signal.
pub(crate) fn clean_up_on_signals() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return; // without a handler the default action stays: the temporary files remain
    };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            let mut p = PENDING.lock().unwrap_or_else(|p| p.into_inner());
            for t in p.drain(..) {
                let _ = std::fs::remove_file(t);
            }
            eprintln!(
                "hbsim: interrupted; reports already written are complete, none is half-written"
            );
            std::process::exit(128 + sig);
        }
    });
}
