//! Sweep benchmark (release build): `cargo bench --bench sweep`.
//!
//! Runs the 48 cells of `benches/sweep-48.json` (1000 clients × 1 h each) on one thread
//! and on two, and prints wall times, the speed-up and client-seconds per wall second. It
//! fails unless both give the same rows.

use hbsim::{study::sweep, Limits};
use std::time::Instant;

fn main() {
    let text = include_str!("sweep-48.json");
    let plan = sweep::plan(text, Vec::new()).expect("benchmark sweep is valid");
    let scenario = hbsim::parse(text).expect("valid");
    let client_secs = plan.cells.len() as f64
        * scenario.groups.iter().map(|g| g.count as f64).sum::<f64>()
        * scenario.duration.as_secs_f64();
    let mut walls = Vec::new();
    let mut results = Vec::new();
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool");
        #[allow(clippy::disallowed_methods)] // a benchmark measures wall time, outside the model
        let start = Instant::now();
        let rows = pool
            .install(|| sweep::run_plan(&plan, "scanner", Limits::default(), &|| {}))
            .expect("cells run");
        let wall = start.elapsed().as_secs_f64();
        assert_eq!(rows.len(), 48);
        println!(
            "sweep-48 on {threads} thread(s): wall {wall:.2} s, {:.3e} client-seconds per wall second",
            client_secs / wall
        );
        walls.push(wall);
        results.push(rows);
    }
    assert!(
        results[0] == results[1],
        "one thread and two give different rows"
    );
    println!("rows identical on 1 and 2 threads");
    println!("speed-up with 2 threads: {:.2}x", walls[0] / walls[1]);
}
