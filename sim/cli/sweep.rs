//! `hbsim sweep SCENARIO` and `hbsim sweep merge DIR`: run a grid of parameter variations
//! in parallel (or a deterministic shard of it, resumably), and write the table and
//! pictures.

use super::{write_atomically, Failure, MergeArgs, SweepArgs, SweepCommand};
use hbsim::study::sweep::{self, Axis, Cell, Plan, Row, SweepResult};
use hbsim::Limits;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One cell's result file of a sharded sweep.
#[derive(Serialize, Deserialize)]
struct CellFile {
    hbsim_version: String,
    scenario: String,
    sha256: String,
    seed: u64,
    axes: Vec<Axis>,
    /// The number of shards the sweep was split into, and its base scenario: enough for
    /// `merge` to say which shard owns a missing cell.
    shards: u64,
    base: serde_json::Value,
    row: Row,
}

fn fail(code: u8, message: String) -> Failure {
    Failure { code, message }
}

/// Parses `--vary PATH=VALUES`.
fn vary(spec: &str) -> Result<Axis, Failure> {
    let (path, values) = spec.split_once('=').ok_or_else(|| {
        fail(
            2,
            format!("hbsim: --vary takes PATH=VALUES (got \"{spec}\")"),
        )
    })?;
    let values =
        sweep::parse_values(values).map_err(|e| fail(2, format!("hbsim: --vary {path}: {e}")))?;
    Ok(Axis {
        path: path.to_string(),
        values,
    })
}

/// Runs one cell and returns its row.
fn run_cell(plan: &Plan, cell: &Cell, detector: &str, limits: Limits) -> Result<Row, Failure> {
    sweep::run_cell(plan, cell, detector, limits)
        .map_err(|e| fail(e.code, format!("hbsim: {}", e.message)))
}

fn write_outputs(result: &SweepResult, out: &Path, quiet: bool) -> Result<(), Failure> {
    super::write_files(out, sweep::outputs(result), quiet)
}

pub(crate) fn run(args: SweepArgs) -> Result<(), Failure> {
    if let Some(SweepCommand::Merge(m)) = args.command {
        return merge(m);
    }
    let path = args.scenario.ok_or_else(|| {
        fail(
            2,
            "hbsim: sweep needs a SCENARIO (or: hbsim sweep merge DIR)".into(),
        )
    })?;
    let bytes = super::read_scenario(&path).map_err(|e| {
        fail(
            2,
            format!("hbsim: cannot read scenario {}: {e}", path.display()),
        )
    })?;
    let text = String::from_utf8(bytes.clone()).map_err(|_| {
        fail(
            3,
            format!(
                "hbsim: invalid scenario {}\n  the file is not UTF-8 text",
                path.display()
            ),
        )
    })?;
    let base = hbsim::parse(&text).map_err(|e| {
        fail(
            3,
            format!("hbsim: invalid scenario {}\n{e}", path.display()),
        )
    })?;
    super::print_warnings(&path, &base);
    let axes = args
        .vary
        .iter()
        .map(|v| vary(v))
        .collect::<Result<Vec<_>, _>>()?;
    let plan = sweep::plan(&text, axes).map_err(|e| {
        fail(
            3,
            format!("hbsim: invalid sweep in {}: {e}", path.display()),
        )
    })?;
    let detector = match &args.detector {
        Some(d) if base.detectors.iter().any(|x| &x.name == d) => d.clone(),
        Some(d) => return Err(fail(2, format!("hbsim: no detector named \"{d}\""))),
        None => base.detectors[0].name.clone(),
    };
    let limits = args.limits.limits();
    let sha256 = hbsim::report::sha256_hex(&bytes);
    let header = |row: Row, shards: u64| CellFile {
        hbsim_version: env!("CARGO_PKG_VERSION").into(),
        scenario: base.name.clone(),
        sha256: sha256.clone(),
        seed: base.seed,
        axes: plan.axes.clone(),
        shards,
        base: plan.base.clone(),
        row,
    };

    if let Some(shard) = &args.shard {
        let (k, n) = shard
            .split_once('/')
            .and_then(|(k, n)| Some((k.parse::<u64>().ok()?, n.parse::<u64>().ok()?)))
            .filter(|&(k, n)| n >= 1 && (1..=n).contains(&k))
            .ok_or_else(|| {
                fail(
                    2,
                    format!("hbsim: --shard takes K/N with 1 <= K <= N (got \"{shard}\")"),
                )
            })?;
        let dir = args
            .cells
            .clone()
            .unwrap_or_else(|| args.out.join(format!("{}-cells", base.name)));
        let owner = sweep::assign_shards(&plan, n);
        let mine: Vec<&Cell> = plan
            .cells
            .iter()
            .zip(&owner)
            .filter(|&(_, &o)| o == k)
            .map(|(c, _)| c)
            .collect();
        // Resume: a cell whose file exists for this version and scenario is done.
        let todo: Vec<&Cell> = mine
            .iter()
            .copied()
            .filter(|c| {
                let done = std::fs::read(dir.join(format!("{}.json", c.id)))
                    .ok()
                    .and_then(|b| serde_json::from_slice::<CellFile>(&b).ok());
                !done.is_some_and(|f| {
                    f.hbsim_version == env!("CARGO_PKG_VERSION") && f.sha256 == sha256
                })
            })
            .collect();
        sweep::check_cell_limits(&plan, &todo, limits)
            .map_err(|e| fail(e.code, format!("hbsim: {}", e.message)))?;
        let pb = super::bar(todo.len(), args.quiet, "cells");
        todo.par_iter()
            .map(|c| {
                let row = run_cell(&plan, c, &detector, limits)?;
                let mut json = serde_json::to_string_pretty(&header(row, n)).expect("JSON");
                json.push('\n');
                write_atomically(&dir.join(format!("{}.json", c.id)), json.as_bytes())?;
                if let Some(pb) = &pb {
                    pb.inc(1);
                }
                Ok(())
            })
            .collect::<Result<Vec<()>, Failure>>()?;
        if let Some(pb) = pb {
            pb.finish_and_clear();
        }
        if !args.quiet {
            eprintln!(
                "hbsim: shard {k}/{n}: {} of {} cells, {} run now, {} already done, in {}",
                mine.len(),
                plan.cells.len(),
                todo.len(),
                mine.len() - todo.len(),
                dir.display()
            );
        }
        return Ok(());
    }

    let pb = super::bar(plan.cells.len(), args.quiet, "cells");
    let tick = || {
        if let Some(pb) = &pb {
            pb.inc(1);
        }
    };
    let rows = sweep::run_plan(&plan, &detector, limits, &tick)
        .map_err(|e| fail(e.code, format!("hbsim: {}", e.message)))?;
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let result = SweepResult::new(&base.name, &bytes, base.seed, plan.axes.clone(), rows);
    let json = args.json || args.format == super::CheckFormat::Json;
    finish(&result, &args.out, args.quiet, json)
}

fn finish(result: &SweepResult, out: &Path, quiet: bool, json: bool) -> Result<(), Failure> {
    write_outputs(result, out, quiet)?;
    if json {
        println!("{}", serde_json::to_string_pretty(result).expect("JSON"));
    } else if !quiet {
        print!("{}", sweep::to_text(&result.axes, &result.rows));
    }
    Ok(())
}

fn merge(args: MergeArgs) -> Result<(), Failure> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(&args.dir)
        .map_err(|e| fail(2, format!("hbsim: cannot read {}: {e}", args.dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut cells: Vec<CellFile> = Vec::new();
    for f in &files {
        let b = std::fs::read(f)
            .map_err(|e| fail(2, format!("hbsim: cannot read {}: {e}", f.display())))?;
        let c: CellFile = serde_json::from_slice(&b).map_err(|e| {
            fail(
                2,
                format!("hbsim: {} is not a sweep cell: {e}", f.display()),
            )
        })?;
        cells.push(c);
    }
    let Some(first) = cells.first() else {
        return Err(fail(
            2,
            format!("hbsim: no cell files in {}", args.dir.display()),
        ));
    };
    for c in &cells {
        if c.hbsim_version != env!("CARGO_PKG_VERSION") {
            return Err(fail(
                2,
                format!(
                    "hbsim: cell {} was made by hbsim {}, this is {}",
                    c.row.cell.id,
                    c.hbsim_version,
                    env!("CARGO_PKG_VERSION")
                ),
            ));
        }
        if c.sha256 != first.sha256 || c.axes != first.axes || c.scenario != first.scenario {
            return Err(fail(
                2,
                format!(
                    "hbsim: cell {} belongs to another sweep (scenario or grid differs)",
                    c.row.cell.id
                ),
            ));
        }
    }
    let grid = sweep::cells(&first.axes);
    let mut rows = Vec::with_capacity(grid.len());
    let mut missing = Vec::new();
    for g in &grid {
        match cells.iter().find(|c| c.row.cell.id == g.id) {
            Some(c) => rows.push(c.row.clone()),
            None => missing.push(g.id.clone()),
        }
    }
    if !missing.is_empty() {
        // The shards that own the missing cells, from the same assignment the shards
        // made (the cell files carry the base scenario and the number of shards).
        let plan = sweep::Plan {
            base: first.base.clone(),
            axes: first.axes.clone(),
            cells: grid.clone(),
        };
        let n = first.shards;
        let owner = sweep::assign_shards(&plan, n);
        let mut shards: Vec<u64> = grid
            .iter()
            .zip(&owner)
            .filter(|(g, _)| missing.contains(&g.id))
            .map(|(_, &k)| k)
            .collect();
        shards.sort_unstable();
        shards.dedup();
        let list = shards
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let indices = shards
            .iter()
            .map(|k| (k - 1).to_string())
            .collect::<Vec<_>>()
            .join(",");
        let reruns = shards
            .iter()
            .map(|k| {
                format!(
                    "    hbsim sweep SCENARIO --shard {k}/{n} --cells {}",
                    args.dir.display()
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        return Err(fail(
            2,
            format!(
                "hbsim: {} of {} cells are missing from {} (first: {}), owned by shard{} {list} of {n}.\n\
                 Rerun only those, then merge again:\n  \
                 Slurm: SHARDS={n} sbatch --array={list} deploy/slurm/sweep.sbatch\n  \
                 Kubernetes: completion index {indices} (shard = index + 1); see README\n  \
                 by hand:\n{reruns}",
                missing.len(),
                grid.len(),
                args.dir.display(),
                missing[0],
                if shards.len() == 1 { "" } else { "s" },
            ),
        ));
    }
    let result = SweepResult {
        format_version: hbsim::report::FORMAT_VERSION,
        hbsim_version: first.hbsim_version.clone(),
        scenario: first.scenario.clone(),
        sha256: first.sha256.clone(),
        seed: first.seed,
        axes: first.axes.clone(),
        rows,
    };
    finish(&result, &args.out, args.quiet, false)
}
