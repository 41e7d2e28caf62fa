//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every committed scenario (`scenarios/*.json`, then `scenarios/presets/*.json`), sorted
/// by path within each folder.
pub fn scenarios() -> Vec<PathBuf> {
    let mut all = Vec::new();
    for dir in ["scenarios", "scenarios/presets"] {
        let mut v: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .expect("scenario folder exists")
            .map(|e| e.expect("readable entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        v.sort();
        all.extend(v);
    }
    assert!(!all.is_empty(), "no committed scenarios found");
    all
}

/// Where the golden reports of a committed scenario live: `reports/` mirrors `scenarios/`.
pub fn golden_dir(scenario: &Path) -> PathBuf {
    let parent = scenario.parent().expect("a scenario has a folder");
    let relative = parent
        .strip_prefix(root().join("scenarios"))
        .expect("committed scenarios are under scenarios/");
    root().join("reports").join(relative)
}

pub fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

/// A fresh, empty temporary directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hbsim-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs scenario text with its own seed and returns the report.
pub fn run(text: &str) -> hbsim::Report {
    hbsim::run_text(text, None).unwrap_or_else(|e| panic!("scenario failed:\n{e}"))
}

/// Runs the release binary in the repository root.
pub fn hbsim(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_hbsim"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the hbsim binary runs")
}

/// Bytes as text, for messages.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
