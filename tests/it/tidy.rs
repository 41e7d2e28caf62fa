//! Goal: the simulation and report code cannot read the wall clock, the environment or a
//! hash-ordered collection, and leaves no debugging output behind (DESIGN §7); the layers
//! of `sim/` import only the layers below them; no source file grows past 800 lines; the
//! only `unsafe` code is the prefetch hint.

use crate::common::root;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, sorted, as paths relative to the repository root.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path.strip_prefix(root()).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// The command-line shell (`main.rs` and `cli/`) may touch files and the environment;
/// nothing else may.
fn is_shell(rel: &Path) -> bool {
    rel == Path::new("sim/main.rs") || rel.starts_with("sim/cli")
}

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
    for rel in rust_files(&root().join("sim")) {
        if is_shell(&rel) {
            continue;
        }
        let text = std::fs::read_to_string(root().join(&rel)).unwrap();
        for (n, line) in text.lines().enumerate() {
            for b in banned {
                if line.contains(b) {
                    hits.push(format!("{}:{}: {b}: {}", rel.display(), n + 1, line.trim()));
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

/// The layers of the library, lowest first, and what each may import. A layer imports
/// only layers before it; `report` and `draw` never see the engine, only what it measured.
const LAYERS: &[(&str, &[&str])] = &[
    ("base", &[]),
    ("model", &["base"]),
    ("scenario", &["base", "model"]),
    ("oracle", &["base", "model", "scenario"]),
    ("engine", &["base", "model", "scenario", "oracle"]),
    ("report", &["base", "model", "scenario", "oracle"]),
    ("draw", &["base", "model", "scenario", "oracle", "report"]),
    (
        "study",
        &[
            "base", "model", "scenario", "oracle", "engine", "report", "draw",
        ],
    ),
];

/// The top-level modules a line names through `crate::` (also inside `use crate::{..}`).
fn named_modules(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name = item.trim().split("::").next().unwrap_or("").trim();
                out.push(name.to_string());
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            out.push(name);
        }
    }
    out
}

/// Every import of a library file that its layer does not allow, as `file:line: text`.
fn layer_offenders(files: &[(PathBuf, String)]) -> Vec<String> {
    let mut offenders = Vec::new();
    for (rel, text) in files {
        let Ok(inner) = rel.strip_prefix("sim") else {
            continue;
        };
        let Some(top) = inner.iter().next().and_then(|c| c.to_str()) else {
            continue;
        };
        let Some((layer, allowed)) = LAYERS.iter().find(|(l, _)| *l == top) else {
            continue; // lib.rs (re-exports only), main.rs and cli/ (the binary)
        };
        for (n, line) in text.lines().enumerate() {
            for module in named_modules(line) {
                let known = LAYERS.iter().any(|(l, _)| *l == module);
                if known && module != *layer && !allowed.contains(&module.as_str()) {
                    offenders.push(format!(
                        "{}:{}: {layer} may not import {module}: {}",
                        rel.display(),
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    offenders
}

#[test]
fn every_layer_imports_only_the_layers_below_it() {
    let files: Vec<(PathBuf, String)> = rust_files(&root().join("sim"))
        .into_iter()
        .map(|rel| {
            let text = std::fs::read_to_string(root().join(&rel)).unwrap();
            (rel, text)
        })
        .collect();
    let offenders = layer_offenders(&files);
    assert!(
        offenders.is_empty(),
        "imports against the layering (see ARCHITECTURE.md):\n{}",
        offenders.join("\n")
    );
    // Every folder under sim/ is a known layer (or the binary's cli/), so a new folder
    // cannot escape the rule by not being listed.
    for entry in std::fs::read_dir(root().join("sim")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                name == "cli" || LAYERS.iter().any(|(l, _)| *l == name),
                "sim/{name}/ is not a layer of the tidy test"
            );
        }
    }
}

#[test]
fn the_layer_rule_names_file_and_line_of_an_offender() {
    let files = vec![
        (
            PathBuf::from("sim/report/x.rs"),
            "//! a report\nuse crate::engine::World;\nuse crate::{oracle::Outcome, study};\n"
                .to_string(),
        ),
        (
            PathBuf::from("sim/model/y.rs"),
            "use crate::base::time::SimTime;\n".to_string(),
        ),
    ];
    assert_eq!(
        layer_offenders(&files),
        vec![
            "sim/report/x.rs:2: report may not import engine: use crate::engine::World;",
            "sim/report/x.rs:3: report may not import study: use crate::{oracle::Outcome, study};",
        ]
    );
}
#[test]
fn no_source_file_is_over_800_lines() {
    let mut long = Vec::new();
    for rel in rust_files(&root().join("sim")) {
        let lines = std::fs::read_to_string(root().join(&rel))
            .unwrap()
            .lines()
            .count();
        if lines > 800 {
            long.push(format!("{}: {lines} lines", rel.display()));
        }
    }
    assert!(
        long.is_empty(),
        "split these by responsibility:\n{}",
        long.join("\n")
    );
}

#[test]
fn unsafe_code_is_only_the_prefetch_hint() {
    // The one `unsafe` block is the cache hint of `base/prefetch.rs`, which has no
    // effect the program can observe; anything else must stay safe Rust.
    // The needles are built so that this file does not match itself.
    let (block, function) = (["unsafe", " {"].concat(), ["unsafe", " fn"].concat());
    let mut found = Vec::new();
    for dir in ["sim", "benches", "examples", "tests"] {
        for rel in rust_files(&root().join(dir)) {
            let text = std::fs::read_to_string(root().join(&rel)).unwrap();
            for (i, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                if code.contains(&block) || code.contains(&function) {
                    found.push(format!("{}:{}", rel.display(), i + 1));
                }
            }
        }
    }
    assert_eq!(found.len(), 1, "unsafe code: {found:?}");
    assert!(found[0].starts_with("sim/base/prefetch.rs:"), "{found:?}");
}
