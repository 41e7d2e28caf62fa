//! Goal: the simulation and report code cannot read the wall clock, the environment or a
//! hash-ordered collection, and leaves no debugging output behind (DESIGN §7).

use crate::common::root;

#[test]
fn simulation_code_is_free_of_nondeterminism_sources() {
    let banned = [
        "Instant::now",
        "SystemTime",
        "thread_rng",
        "HashMap",
        "HashSet",
        "dbg!(",
        "std::env::",
        "f64::ln(",
        ".ln()",
        ".exp()",
        ".powf(",
        ".sin()",
        ".cos()",
        "rand_distr",
    ];
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(root().join("sim")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // The command-line shell (main.rs and its cmd_*.rs commands) may touch files and
        // the environment; nothing else may.
        if name == "main.rs"
            || name.starts_with("cmd_")
            || path.extension().is_none_or(|e| e != "rs")
        {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            for b in banned {
                if line.contains(b) {
                    hits.push(format!("sim/{name}:{}: {b}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        hits.is_empty(),
        "nondeterminism sources in the simulation:\n{}",
        hits.join("\n")
    );
}
