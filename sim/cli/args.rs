//! The command line: one definition per command and flag drives the parser, the help
//! and the exit-code table.

use clap::{Args, Parser, Subcommand, ValueEnum};
use hbsim::Limits;
use std::path::PathBuf;

pub(crate) const EXIT_HELP: &str = "\
Exit codes:
  0  ok
  1  an expectation failed
  2  usage error (bad arguments, unreadable file)
  3  invalid input: a scenario (every problem is listed with its JSON path), or a
     file given to diff that is not a report of the same hbsim version
  4  a resource limit was hit (the run is refused before it starts)";

#[derive(Parser)]
#[command(
    name = "hbsim",
    version,
    about = "Deterministic discrete-event simulator for heartbeat-based failure detection",
    after_help = EXIT_HELP
)]
pub(crate) struct Cli {
    /// Threads for the commands that run in parallel (run with replications, check,
    /// sweep, tune); default: the CPUs this process may use (its affinity mask and cgroup
    /// CPU quota). Results are the same for any number.
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub(crate) threads: Option<u16>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Simulate scenarios, print a summary and write reports (JSON, Markdown)
    #[command(after_help = EXIT_HELP)]
    Run(RunArgs),
    /// Parse and validate scenarios only; every problem is reported with its JSON path
    #[command(after_help = EXIT_HELP)]
    Validate(ValidateArgs),
    /// Run scenarios and evaluate their `expect` blocks (and golden reports); exit 1 on
    /// any failure
    #[command(after_help = EXIT_HELP)]
    Check(CheckArgs),
    /// Compare two reports metric by metric
    #[command(after_help = EXIT_HELP)]
    Diff(DiffArgs),
    /// Run a grid of parameter variations in parallel; CSV/JSON table and pictures
    #[command(after_help = EXIT_HELP, args_conflicts_with_subcommands = true)]
    Sweep(SweepArgs),
    /// Find the cheapest heartbeat interval and threshold that meet latency and
    /// false-positive targets
    #[command(after_help = EXIT_HELP)]
    Tune(TuneArgs),
    /// Print the JSON Schema of scenario files (draft 2020-12), for editors to complete
    /// and check scenarios with: `hbsim schema > scenarios/hbsim.schema.json`, then
    /// `"$schema": "./hbsim.schema.json"` in a scenario (`check DIR` skips `*.schema.json`)
    Schema,
    /// Print a shell completion script: `hbsim completions bash > /etc/bash_completion.d/hbsim`
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `hbsim man > /usr/local/share/man/man1/hbsim.1`
    Man,
}

#[derive(Args)]
pub(crate) struct TuneArgs {
    /// Scenario file
    pub(crate) scenario: PathBuf,
    /// A target, METRIC<=VALUE or METRIC>=VALUE (metric paths as in `expect`), e.g.
    /// seed.detection_latency.p99<=5s (repeatable)
    #[arg(long, value_name = "METRIC<=VALUE")]
    pub(crate) target: Vec<String>,
    /// The figure to minimise (default: traffic.bytes_per_client_hour)
    #[arg(long, value_name = "METRIC")]
    pub(crate) minimize: Option<String>,
    /// Targets must hold for the whole interval at this level
    #[arg(long, value_name = "LEVEL", value_parser = parse_confidence)]
    pub(crate) confidence: Option<f64>,
    /// The client group whose heartbeat interval is tuned (default: the first)
    #[arg(long, value_name = "NAME")]
    pub(crate) group: Option<String>,
    /// The detector whose threshold (fixed-timeout, and scan interval), shift (nfd-s) or margin (nfd-e) is tuned (default: the first)
    #[arg(long, value_name = "NAME")]
    pub(crate) detector: Option<String>,
    /// Write the scenario with the recommended values to FILE
    #[arg(long, value_name = "FILE")]
    pub(crate) write: Option<PathBuf>,
    /// Directory for the page of candidates (<name>-tune.html) and its picture
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub(crate) out: PathBuf,
    /// No notes on stderr
    #[arg(long, short)]
    pub(crate) quiet: bool,
    /// Output format on stdout
    #[arg(long, value_enum, default_value = "text")]
    pub(crate) format: CheckFormat,
    #[command(flatten)]
    pub(crate) limits: LimitArgs,
}

#[derive(Args)]
pub(crate) struct SweepArgs {
    #[command(subcommand)]
    pub(crate) command: Option<SweepCommand>,
    /// Scenario file; its `sweep.vary` block and any --vary give the grid
    #[arg(value_name = "SCENARIO")]
    pub(crate) scenario: Option<PathBuf>,
    /// A parameter to vary: PATH=VALUES, e.g. clients.phones.heartbeat.interval=250ms..8s*2
    /// or detectors.seed.threshold=2s,3s,5s (repeatable)
    #[arg(long, value_name = "PATH=VALUES")]
    pub(crate) vary: Vec<String>,
    /// Detector whose figures the table and pictures show (default: the first)
    #[arg(long, value_name = "NAME")]
    pub(crate) detector: Option<String>,
    /// Directory for the outputs
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub(crate) out: PathBuf,
    /// Run only shard K of N (cells split by their stable ids), one result file per cell
    #[arg(long, value_name = "K/N")]
    pub(crate) shard: Option<String>,
    /// With --shard: directory of the per-cell result files (default OUT/<name>-cells)
    #[arg(long, value_name = "DIR")]
    pub(crate) cells: Option<PathBuf>,
    /// Print the sweep as JSON on stdout instead of the table (the same as --format json)
    #[arg(long)]
    pub(crate) json: bool,
    /// Output format on stdout
    #[arg(long, value_enum, default_value = "text")]
    pub(crate) format: CheckFormat,
    /// No table, no notes, no progress bar
    #[arg(long, short)]
    pub(crate) quiet: bool,
    #[command(flatten)]
    pub(crate) limits: LimitArgs,
}

/// The resource limits every simulating command takes (a sweep applies them per cell).
#[derive(Args)]
pub(crate) struct LimitArgs {
    /// Refuse runs estimated to process more events than this
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_events)]
    pub(crate) max_events: u64,
    /// Refuse runs estimated to need more memory than this, in MiB
    #[arg(long, value_name = "MIB", default_value_t = Limits::default().max_memory_bytes >> 20)]
    pub(crate) max_memory_mib: u64,
}

impl LimitArgs {
    pub(crate) fn limits(&self) -> Limits {
        Limits {
            max_events: self.max_events,
            max_memory_bytes: self.max_memory_mib.saturating_mul(1 << 20),
        }
    }
}

#[derive(Subcommand)]
pub(crate) enum SweepCommand {
    /// Check that every cell of a sharded sweep is present and produce the outputs of a
    /// local sweep, byte for byte
    Merge(MergeArgs),
}

#[derive(Args)]
pub(crate) struct MergeArgs {
    /// Directory of per-cell result files
    pub(crate) dir: PathBuf,
    /// Directory for the outputs
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub(crate) out: PathBuf,
    /// No table, no notes
    #[arg(long, short)]
    pub(crate) quiet: bool,
}

#[derive(Args)]
pub(crate) struct CheckArgs {
    /// Scenario files, or directories searched for *.json (recursively)
    #[arg(required = true, value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    /// Also regenerate each report and compare it with DIR/<name>.json and .md
    #[arg(long, value_name = "DIR")]
    pub(crate) golden: Option<PathBuf>,
    /// With --golden: rewrite the golden reports instead of comparing (also when the
    /// environment variable UPDATE_GOLDEN=1 is set)
    #[arg(long, requires = "golden")]
    pub(crate) bless: bool,
    /// Write a JUnit XML report: one test case per expectation and golden comparison
    #[arg(long, value_name = "FILE")]
    pub(crate) junit: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub(crate) format: CheckFormat,
    /// Seed to use instead of each scenario's own
    #[arg(long, value_name = "N")]
    pub(crate) seed: Option<u64>,
    /// Independent replications per scenario (instead of each scenario's `replications`)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub(crate) replications: Option<u32>,
    /// Print only failures and the summary
    #[arg(long, short)]
    pub(crate) quiet: bool,
    #[command(flatten)]
    pub(crate) limits: LimitArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CheckFormat {
    Text,
    Json,
}

#[derive(Args)]
pub(crate) struct DiffArgs {
    /// The earlier report (JSON)
    pub(crate) old: PathBuf,
    /// The later report (JSON)
    pub(crate) new: PathBuf,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub(crate) format: DiffFormat,
    /// List unchanged metrics too
    #[arg(long)]
    pub(crate) all: bool,
    /// Exit 1 when a metric changed significantly (its intervals do not overlap, or it is
    /// a count or bound that changed), or on any change
    #[arg(long, value_enum, value_name = "WHEN")]
    pub(crate) fail_on: Option<FailOn>,
}

/// When `diff` fails.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FailOn {
    /// A change judged significant.
    Significant,
    /// Any change.
    Any,
}

/// The form of `run --events`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum EventsFormat {
    /// One aligned line per verdict change.
    Text,
    /// One JSON object per verdict change.
    Jsonl,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DiffFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Text,
    /// One JSON document: the report, or an array of reports for several scenarios.
    Json,
    /// One report per line.
    Jsonl,
    Markdown,
}

#[derive(Args)]
pub(crate) struct RunArgs {
    /// Scenario files (JSON)
    #[arg(required = true, value_name = "SCENARIO")]
    pub(crate) scenarios: Vec<PathBuf>,
    /// Directory for the report files
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub(crate) out: PathBuf,
    /// Seed to use instead of the scenario's own
    #[arg(long, value_name = "N")]
    pub(crate) seed: Option<u64>,
    /// Print nothing on stdout but what --events asks for, and no notes on stderr
    #[arg(long, short)]
    pub(crate) quiet: bool,
    /// Format of the summary on stdout
    #[arg(long, value_enum, default_value = "text")]
    pub(crate) format: Format,
    /// Print the verdict timeline on stdout (time, detector, client, online/offline, last
    /// heartbeat, ground truth) instead of the summary: `--events` or `--events=text`
    /// aligned lines, `--events=jsonl` one JSON object per line
    #[arg(long, value_enum, value_name = "FORMAT", num_args = 0..=1, require_equals = true, default_missing_value = "text")]
    pub(crate) events: Option<EventsFormat>,
    #[command(flatten)]
    pub(crate) limits: LimitArgs,
    /// Level of the confidence intervals in the reports
    #[arg(long, value_name = "LEVEL", default_value_t = hbsim::DEFAULT_CONFIDENCE, value_parser = parse_confidence)]
    pub(crate) confidence: f64,
    /// Independent replications to run and merge (instead of the scenario's `replications`);
    /// --events shows the first
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub(crate) replications: Option<u32>,
}

pub(crate) fn parse_confidence(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(c) if hbsim::base::ci::is_confidence(c) => Ok(c),
        _ => Err(format!("{} (got {s})", hbsim::base::ci::CONFIDENCE_RULE)),
    }
}

#[derive(Args)]
pub(crate) struct ValidateArgs {
    /// Scenario files (JSON)
    #[arg(required = true, value_name = "SCENARIO")]
    pub(crate) scenarios: Vec<PathBuf>,
    /// Print nothing for valid files
    #[arg(long, short)]
    pub(crate) quiet: bool,
    /// Output format on stdout (JSON lists every file with its problems)
    #[arg(long, value_enum, default_value = "text")]
    pub(crate) format: CheckFormat,
}
