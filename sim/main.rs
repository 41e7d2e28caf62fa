//! The `hbsim` command: arguments → read files → library → write reports → exit code.
//! Everything is in `cli`; this only hands over.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
