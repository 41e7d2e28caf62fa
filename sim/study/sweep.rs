//! Parameter sweeps: axes over scenario field paths, the cartesian grid of cells, one row
//! of key metrics per cell, and the sweep's outputs (CSV, JSON, trade-off and heatmap
//! pictures).
//!
//! Paths address the scenario JSON: `clients.GROUP.heartbeat.interval`,
//! `detectors.NAME.threshold`, `duration`, ... (arrays of named entries are indexed by
//! their `group` or `name`). Every cell runs with the scenario's own seed, so all cells
//! draw the same random numbers wherever their parameters allow (common random numbers):
//! streams are keyed by (seed, purpose, group, client) and consumed per heartbeat, never
//! by parameter values.

use crate::base::hash::fnv1a;
use crate::report::{dur_ci, opt_bytes, rate_ci, Report};
pub use crate::scenario::edit::{apply, axis_from_json, parse_values, Axis};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt::Write as _;

/// One cell: its stable id and parameter values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub id: String,
    pub params: Vec<(String, Value)>,
}

/// The cartesian grid, first axis slowest; ids derive from the parameters only.
pub fn cells(axes: &[Axis]) -> Vec<Cell> {
    let mut out = vec![Vec::new()];
    for a in axes {
        out = out
            .into_iter()
            .flat_map(|prefix: Vec<(String, Value)>| {
                a.values.iter().map(move |v| {
                    let mut p = prefix.clone();
                    p.push((a.path.clone(), v.clone()));
                    p
                })
            })
            .collect();
    }
    out.into_iter()
        .map(|params| {
            let mut key = String::new();
            for (p, v) in &params {
                let _ = writeln!(key, "{p}={v}");
            }
            Cell {
                id: format!("{:016x}", fnv1a(key.as_bytes())),
                params,
            }
        })
        .collect()
}

/// The figures a sweep keeps from each cell's report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub cell: Cell,
    pub detector: String,
    pub latency_p99_ns: Option<u64>,
    pub latency_p99_ci_ns: Option<[u64; 2]>,
    pub latency_mean_ns: Option<u64>,
    pub missed: u64,
    pub spurious_per_client_day: Option<f64>,
    pub spurious_per_client_day_ci: Option<[f64; 2]>,
    pub query_accuracy: Option<f64>,
    pub bytes_per_client_hour: Option<f64>,
    pub heartbeats_per_client_hour: Option<f64>,
    /// Whether the cell meets every `expect` target of the scenario (judged at the
    /// report's confidence); absent without targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meets_targets: Option<bool>,
}

/// The row of one cell's report for `detector`.
pub fn row(cell: &Cell, report: &Report, detector: &str) -> Row {
    let json = serde_json::to_value(report).expect("a report serialises");
    let d = &json["detectors"][detector];
    let f = |v: &Value| v.as_f64();
    let pair = |v: &Value| Some([v.get(0)?.as_f64()?, v.get(1)?.as_f64()?]);
    let ns = |v: &Value| v.as_u64();
    let ns_pair = |v: &Value| Some([v.get(0)?.as_u64()?, v.get(1)?.as_u64()?]);
    let lat = &d["detection_latency"];
    let fp = &d["false_positives"];
    Row {
        cell: cell.clone(),
        detector: detector.to_string(),
        latency_p99_ns: ns(&lat["p99_ns"]),
        latency_p99_ci_ns: ns_pair(&lat["p99_ci_ns"]),
        latency_mean_ns: ns(&lat["mean_ns"]),
        missed: lat["missed"].as_u64().unwrap_or(0),
        spurious_per_client_day: f(&fp["spurious_per_client_day"]),
        spurious_per_client_day_ci: pair(&fp["spurious_per_client_day_ci"]),
        query_accuracy: f(&d["query_accuracy"]),
        bytes_per_client_hour: report.traffic.bytes_per_client_hour,
        heartbeats_per_client_hour: report.traffic.heartbeats_per_client_hour,
        meets_targets: (!report.targets.is_empty()).then(|| report.targets.iter().all(|t| t.pass)),
    }
}

/// The CSV table: one row per cell, parameters first.
pub fn to_csv(axes: &[Axis], rows: &[Row]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = vec!["cell".into()];
    header.extend(axes.iter().map(|a| a.path.clone()));
    header.extend(
        [
            "detector",
            "latency_p99_ns",
            "latency_p99_ci_lo_ns",
            "latency_p99_ci_hi_ns",
            "latency_mean_ns",
            "missed",
            "spurious_per_client_day",
            "spurious_per_client_day_ci_lo",
            "spurious_per_client_day_ci_hi",
            "query_accuracy",
            "bytes_per_client_hour",
            "heartbeats_per_client_hour",
        ]
        .map(String::from),
    );
    w.write_record(&header).expect("in-memory CSV");
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    let opt_ns = |v: Option<u64>| v.map(|x| x.to_string()).unwrap_or_default();
    for r in rows {
        let mut rec: Vec<String> = vec![r.cell.id.clone()];
        rec.extend(r.cell.params.iter().map(|(_, v)| param_text(v)));
        rec.push(r.detector.clone());
        rec.push(opt_ns(r.latency_p99_ns));
        rec.push(opt_ns(r.latency_p99_ci_ns.map(|c| c[0])));
        rec.push(opt_ns(r.latency_p99_ci_ns.map(|c| c[1])));
        rec.push(opt_ns(r.latency_mean_ns));
        rec.push(r.missed.to_string());
        rec.push(opt(r.spurious_per_client_day));
        rec.push(opt(r.spurious_per_client_day_ci.map(|c| c[0])));
        rec.push(opt(r.spurious_per_client_day_ci.map(|c| c[1])));
        rec.push(opt(r.query_accuracy));
        rec.push(opt(r.bytes_per_client_hour));
        rec.push(opt(r.heartbeats_per_client_hour));
        w.write_record(&rec).expect("in-memory CSV");
    }
    String::from_utf8(w.into_inner().expect("in-memory CSV")).expect("UTF-8 CSV")
}

/// The whole sweep as JSON (everything `merge` needs to reproduce the outputs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepResult {
    /// The shape of this JSON ([`crate::report::FORMAT_VERSION`]).
    #[serde(default)]
    pub format_version: u32,
    pub hbsim_version: String,
    pub scenario: String,
    pub sha256: String,
    pub seed: u64,
    pub axes: Vec<Axis>,
    pub rows: Vec<Row>,
}

impl SweepResult {
    /// The result of a finished sweep of the scenario file `bytes`.
    pub fn new(name: &str, bytes: &[u8], seed: u64, axes: Vec<Axis>, rows: Vec<Row>) -> Self {
        SweepResult {
            format_version: crate::report::FORMAT_VERSION,
            hbsim_version: env!("CARGO_PKG_VERSION").into(),
            scenario: name.to_string(),
            sha256: crate::report::sha256_hex(bytes),
            seed,
            axes,
            rows,
        }
    }
}

/// The figures a Pareto frontier weighs, smaller is better: p99 latency, false
/// positives and cost (a missing figure counts as infinitely bad).
pub type Figures = [f64; 3];

/// Indices of the points on the Pareto frontier: no other point is at least as good in
/// every figure and better in one.
pub fn pareto_of(points: &[Figures]) -> Vec<usize> {
    let dominates = |a: &Figures, b: &Figures| {
        a.iter().zip(b).all(|(x, y)| x <= y) && a.iter().zip(b).any(|(x, y)| x < y)
    };
    (0..points.len())
        .filter(|&i| !points.iter().any(|o| dominates(o, &points[i])))
        .collect()
}

/// Indices of the rows on the Pareto frontier (latency, false positives, cost).
pub fn pareto(rows: &[Row]) -> Vec<usize> {
    let keys: Vec<Figures> = rows
        .iter()
        .map(|r| {
            [
                r.latency_p99_ns.map_or(f64::INFINITY, |x| x as f64),
                r.spurious_per_client_day.unwrap_or(f64::INFINITY),
                r.bytes_per_client_hour.unwrap_or(f64::INFINITY),
            ]
        })
        .collect();
    pareto_of(&keys)
}

/// The aligned terminal table.
pub fn to_text(axes: &[Axis], rows: &[Row]) -> String {
    let table = table_cells(axes, rows);
    text_table(&table)
}

/// The table as Markdown (for the sweep's HTML page).
fn to_markdown_table(axes: &[Axis], rows: &[Row]) -> String {
    markdown_table(&table_cells(axes, rows))
}

/// A table of cells, the first row its header, as Markdown.
pub fn markdown_table(table: &[Vec<String>]) -> String {
    let mut o = String::new();
    for (i, r) in table.iter().enumerate() {
        o.push_str("| ");
        o.push_str(
            &r.iter()
                .map(|c| c.replace('|', "\\|"))
                .collect::<Vec<_>>()
                .join(" | "),
        );
        o.push_str(" |\n");
        if i == 0 {
            o.push_str(&"|---".repeat(r.len()));
            o.push_str("|\n");
        }
    }
    o
}

/// The header and one line per row: parameters, p99 latency, false positives, cost, and
/// a star on the Pareto frontier.
fn table_cells(axes: &[Axis], rows: &[Row]) -> Vec<Vec<String>> {
    let frontier = pareto(rows);
    let mut table: Vec<Vec<String>> = Vec::new();
    let mut header: Vec<String> = axes
        .iter()
        .map(|a| a.path.rsplit('.').next().unwrap_or(&a.path).to_string())
        .collect();
    // An interval header only over a column that has intervals.
    let ci = |any: bool| if any { " [CI]" } else { "" };
    header.extend([
        format!(
            "p99 latency{}",
            ci(rows.iter().any(|r| r.latency_p99_ci_ns.is_some()))
        ),
        format!(
            "spurious/client-day{}",
            ci(rows.iter().any(|r| r.spurious_per_client_day_ci.is_some()))
        ),
        "bytes/client-hour".to_string(),
        "pareto".to_string(),
    ]);
    table.push(header);
    for (i, r) in rows.iter().enumerate() {
        let mut line: Vec<String> = r.cell.params.iter().map(|(_, v)| param_text(v)).collect();
        line.push(dur_ci(r.latency_p99_ns, r.latency_p99_ci_ns));
        line.push(rate_ci(
            r.spurious_per_client_day,
            r.spurious_per_client_day_ci,
        ));
        line.push(opt_bytes(r.bytes_per_client_hour));
        line.push(if frontier.contains(&i) {
            "*".into()
        } else {
            String::new()
        });
        table.push(line);
    }
    table
}

/// `table` aligned in columns.
fn text_table(table: &[Vec<String>]) -> String {
    let cols = table[0].len();
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            table
                .iter()
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut o = String::new();
    for r in table {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(o, "{}", cells.join("  ").trim_end());
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ranges_expand_exactly() {
        let v = parse_values("250ms..8s*2").unwrap();
        let s: Vec<&str> = v.iter().map(|x| x.as_str().unwrap()).collect();
        assert_eq!(s, ["250ms", "500ms", "1s", "2s", "4s", "8s"]);
        let v = parse_values("1s..2s+250ms").unwrap();
        assert_eq!(v.len(), 5);
        assert_eq!(
            parse_values("1,2.5,3").unwrap(),
            vec![json!(1.0), json!(2.5), json!(3.0)]
        );
        assert_eq!(
            parse_values("1,2,3").unwrap(),
            vec![json!(1), json!(2), json!(3)]
        );
        assert_eq!(
            parse_values("2..8*2").unwrap(),
            vec![json!(2), json!(4), json!(8)]
        );
        assert_eq!(
            parse_values("1..2+0.5").unwrap(),
            vec![json!(1.0), json!(1.5), json!(2.0)]
        );
        assert_eq!(
            parse_values("1s,3s").unwrap(),
            vec![json!("1s"), json!("3s")]
        );
        assert!(parse_values("8s..1s*2").is_err());
        assert!(parse_values("1s..8s*1").is_err());
    }

    #[test]
    fn paths_address_named_entries() {
        let mut s = json!({ "clients": [{ "group": "a", "heartbeat": { "interval": "1s" } }],
                            "detectors": [{ "name": "d", "threshold": "3s" }] });
        apply(&mut s, "clients.a.heartbeat.interval", &json!("2s")).unwrap();
        apply(&mut s, "detectors.d.threshold", &json!("6s")).unwrap();
        apply(&mut s, "clients.0.heartbeat.jitter", &json!("5ms")).unwrap();
        assert_eq!(s["clients"][0]["heartbeat"]["interval"], "2s");
        assert_eq!(s["clients"][0]["heartbeat"]["jitter"], "5ms");
        assert_eq!(s["detectors"][0]["threshold"], "6s");
        assert!(apply(&mut s, "clients.b.heartbeat.interval", &json!("1s")).is_err());
    }

    #[test]
    fn cells_form_the_grid_with_stable_ids() {
        let axes = vec![
            Axis {
                path: "a".into(),
                values: vec![json!(1), json!(2)],
            },
            Axis {
                path: "b".into(),
                values: vec![json!("x"), json!("y"), json!("z")],
            },
        ];
        let c = cells(&axes);
        assert_eq!(c.len(), 6);
        assert_eq!(
            c[1].params,
            vec![("a".into(), json!(1)), ("b".into(), json!("y"))]
        );
        let again = cells(&axes);
        assert_eq!(c, again);
        let ids: std::collections::BTreeSet<&str> = c.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(ids.len(), 6);
    }
}

/// A sweep ready to run: the base scenario JSON (without its `sweep` block), the axes
/// and the cells.
#[derive(Clone, Debug)]
pub struct Plan {
    pub base: Value,
    pub axes: Vec<Axis>,
    pub cells: Vec<Cell>,
}

/// Builds the plan from scenario text and command-line axes (which replace the
/// scenario's own axis of the same path, or add to them).
pub fn plan(text: &str, extra: Vec<Axis>) -> Result<Plan, String> {
    let mut base: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut axes = Vec::new();
    if let Some(Value::Object(sweep)) = base.as_object_mut().and_then(|m| m.remove("sweep")) {
        if let Some(Value::Object(vary)) = sweep.get("vary") {
            for (path, v) in vary {
                axes.push(axis_from_json(path, v).map_err(|e| format!("sweep.vary.{path}: {e}"))?);
            }
        }
    }
    for a in extra {
        match axes.iter_mut().find(|x| x.path == a.path) {
            Some(x) => *x = a,
            None => axes.push(a),
        }
    }
    if axes.is_empty() {
        return Err(
            "nothing to sweep: add a \"sweep\": {\"vary\": {…}} block or --vary PATH=VALUES".into(),
        );
    }
    for a in &axes {
        let mut probe = base.clone();
        apply(&mut probe, &a.path, &a.values[0])?;
    }
    let cells = cells(&axes);
    Ok(Plan { base, axes, cells })
}

impl Plan {
    /// The scenario text of one cell.
    pub fn cell_text(&self, cell: &Cell) -> Result<String, String> {
        let mut v = self.base.clone();
        for (p, value) in &cell.params {
            apply(&mut v, p, value)?;
        }
        Ok(serde_json::to_string_pretty(&v).expect("JSON"))
    }
}

/// The estimated cost of each cell (events, as the limits estimate them), in grid order.
pub fn cell_costs(plan: &Plan) -> Vec<u64> {
    plan.cells
        .iter()
        .map(|c| {
            plan.cell_text(c)
                .ok()
                .and_then(|t| crate::scenario::parse(&t).ok())
                .map_or(0, |s| crate::engine::estimate_events(&s))
        })
        .collect()
}

/// The shard (1-based, of `n`) of each cell, in grid order: largest estimated cost first
/// (ties by cell id) onto the least loaded shard (ties by the lowest number), so loads
/// differ by at most one cell's cost and, with at least `n` cells, no shard is empty. A
/// pure function of the scenario and `n`.
pub fn assign_shards(plan: &Plan, n: u64) -> Vec<u64> {
    let costs = cell_costs(plan);
    let mut order: Vec<usize> = (0..plan.cells.len()).collect();
    order.sort_by(|&a, &b| {
        costs[b]
            .cmp(&costs[a])
            .then_with(|| plan.cells[a].id.cmp(&plan.cells[b].id))
    });
    let mut load = vec![0u64; n.max(1) as usize];
    let mut shard = vec![0u64; plan.cells.len()];
    for i in order {
        let (k, _) = load
            .iter()
            .enumerate()
            .min_by_key(|&(k, &l)| (l, k))
            .expect("at least one shard");
        // Count a cell of no estimated cost as one event, so that empty cells spread too.
        load[k] += costs[i].max(1);
        shard[i] = k as u64 + 1;
    }
    shard
}

/// Every output file of a finished sweep, `(file name, contents)`.
pub fn outputs(result: &SweepResult) -> Vec<(String, String)> {
    let name = &result.scenario;
    let mut json = serde_json::to_string_pretty(result).expect("JSON");
    json.push('\n');
    let mut out = vec![
        (
            format!("{name}-sweep.csv"),
            to_csv(&result.axes, &result.rows),
        ),
        (format!("{name}-sweep.json"), json),
    ];
    let frontier = pareto(&result.rows);
    let points: Vec<crate::draw::svg::Point> = result
        .rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            Some(crate::draw::svg::Point {
                x: r.latency_p99_ns? as f64,
                y: r.spurious_per_client_day?,
                cost: r.bytes_per_client_hour.unwrap_or(0.0),
                frontier: frontier.contains(&i),
                label: r
                    .cell
                    .params
                    .iter()
                    .map(|(_, v)| param_text(v))
                    .collect::<Vec<_>>()
                    .join("/"),
                meets: r.meets_targets,
            })
        })
        .collect();
    let detector = result.rows.first().map_or("", |r| r.detector.as_str());
    out.push((
        format!("{name}-sweep-tradeoff.svg"),
        crate::draw::svg::tradeoff(
            &format!("{name}: detection latency against false positives ({detector})"),
            "p99 detection latency",
            "spurious false positives per client-day",
            &points,
        ),
    ));
    if result.axes.len() == 2 {
        let (ya, xa) = (&result.axes[0], &result.axes[1]);
        let values: Vec<Vec<Option<f64>>> = ya
            .values
            .iter()
            .enumerate()
            .map(|(i, _)| {
                (0..xa.values.len())
                    .map(|j| result.rows[i * xa.values.len() + j].spurious_per_client_day)
                    .collect()
            })
            .collect();
        out.push((
            format!("{name}-sweep-heatmap.svg"),
            crate::draw::svg::heatmap(
                &format!("{name}: spurious false positives per client-day ({detector})"),
                "per client-day",
                &axis_name(&xa.path),
                &axis_name(&ya.path),
                &xa.values.iter().map(param_text).collect::<Vec<_>>(),
                &ya.values.iter().map(param_text).collect::<Vec<_>>(),
                &values,
            ),
        ));
    }
    // A page of its own: the pictures inline and the table.
    let pictures: Vec<(String, String)> = out
        .iter()
        .filter(|(f, _)| f.ends_with(".svg"))
        .cloned()
        .collect();
    let mut md = format!("# hbsim sweep: {name}\n\n");
    md.push_str(&format!(
        "{} cells, detector `{detector}`; a star marks the Pareto frontier (no other cell is at least as good in p99 latency, false positives and cost and better in one). The table is `{name}-sweep.csv`; the report of the scenario itself (`hbsim run`) is [{name}.html]({name}.html).\n\n",
        result.rows.len()
    ));
    for (f, _) in &pictures {
        let what = if f.ends_with("-heatmap.svg") {
            "spurious false positives over the two swept parameters"
        } else {
            "p99 detection latency against spurious false positives, one point per cell"
        };
        md.push_str(&format!("![{what}]({f})\n\n"));
    }
    md.push_str(&to_markdown_table(&result.axes, &result.rows));
    let body = crate::report::html::markdown_to_html(&md, &pictures);
    out.push((
        format!("{name}-sweep.html"),
        crate::report::html::page(&format!("hbsim sweep: {name}"), &body),
    ));
    out
}

/// A parameter value as written in a table or label: strings without their quotes.
pub fn param_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A swept parameter named for people: its last key, and the detector or group it
/// belongs to (`detectors.seed.threshold` → `threshold (seed)`).
fn axis_name(path: &str) -> String {
    let parts: Vec<&str> = path.split('.').collect();
    match parts.as_slice() {
        [.., owner, last] if parts.len() >= 3 => format!("{last} ({owner})"),
        [.., last] => last.to_string(),
        [] => path.to_string(),
    }
}

/// Why a sweep cell could not run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CellError {
    /// Exit code class: 3 invalid scenario, 4 limit.
    pub code: u8,
    pub message: String,
}

/// Runs one cell and returns its row for `detector`.
pub fn run_cell(
    plan: &Plan,
    cell: &Cell,
    detector: &str,
    limits: crate::Limits,
) -> Result<Row, CellError> {
    let label: Vec<String> = cell
        .params
        .iter()
        .map(|(p, v)| format!("{p}={v}"))
        .collect();
    let text = plan.cell_text(cell).map_err(|e| CellError {
        code: 3,
        message: format!("sweep cell {}: {e}", label.join(" ")),
    })?;
    let scenario = crate::scenario::parse(&text).map_err(|e| CellError {
        code: 3,
        message: format!("invalid sweep cell {}\n{e}", label.join(" ")),
    })?;
    let report =
        super::run::run(&scenario, text.as_bytes(), scenario.seed, limits, None).map_err(|e| {
            CellError {
                code: 4,
                message: format!("sweep cell {}: {e}", label.join(" ")),
            }
        })?;
    Ok(row(cell, &report, detector))
}

/// Refuses the sweep before any cell runs when one of `cells` would exceed `limits`;
/// the cell named is the one that needs the most, so the advice lets every cell start.
pub fn check_cell_limits(
    plan: &Plan,
    cells: &[&Cell],
    limits: crate::Limits,
) -> Result<(), CellError> {
    let mut worst: Option<(&Cell, crate::LimitExceeded)> = None;
    for &cell in cells {
        let Some(scenario) = plan
            .cell_text(cell)
            .ok()
            .and_then(|t| crate::scenario::parse(&t).ok())
        else {
            continue; // run_cell reports the invalid cell with its reason
        };
        if let Err(e) =
            crate::engine::check_replication_limits(&scenario, scenario.replications, limits)
        {
            let rank = |e: &crate::LimitExceeded| (e.kind == crate::LimitKind::Memory, e.estimate);
            if worst.as_ref().is_none_or(|(_, w)| rank(&e) > rank(w)) {
                worst = Some((cell, e));
            }
        }
    }
    match worst {
        None => Ok(()),
        Some((cell, e)) => {
            let label: Vec<String> = cell
                .params
                .iter()
                .map(|(p, v)| format!("{p}={v}"))
                .collect();
            Err(CellError {
                code: 4,
                message: format!("sweep cell {}: {e}; no cell was run", label.join(" ")),
            })
        }
    }
}

/// Runs every cell of `plan` in parallel (rayon) and returns the rows in grid order,
/// whatever the thread count; `tick` is called once per finished cell.
pub fn run_plan(
    plan: &Plan,
    detector: &str,
    limits: crate::Limits,
    tick: &(dyn Fn() + Sync),
) -> Result<Vec<Row>, CellError> {
    use rayon::prelude::*;
    check_cell_limits(plan, &plan.cells.iter().collect::<Vec<_>>(), limits)?;
    // Largest cells first, one task each, so that two threads finish together (longest
    // processing time first); the rows are put back in grid order afterwards.
    let mut order: Vec<(u64, usize)> = cell_costs(plan)
        .into_iter()
        .enumerate()
        .map(|(i, w)| (w, i))
        .collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let results: Vec<(usize, Result<Row, CellError>)> = order
        .par_iter()
        .with_max_len(1)
        .map(|&(_, i)| {
            let r = run_cell(plan, &plan.cells[i], detector, limits);
            tick();
            (i, r)
        })
        .collect();
    let mut rows: Vec<Option<Row>> = vec![None; plan.cells.len()];
    for (i, r) in results {
        rows[i] = Some(r?);
    }
    Ok(rows
        .into_iter()
        .map(|r| r.expect("every cell ran"))
        .collect())
}
