//! Goal: the outputs that batch systems and CI read hold what their consumers expect:
//! shards balanced by cost, merge advice naming the shards to rerun, JUnit with times,
//! no attribute the Jenkins schema rejects, and an error case for an invalid scenario.
//! `tests/integrations.sh` checks the same files with the real tools (xmllint against
//! junit-10.xsd, junitparser, xunitparser, kubernetes-validate, check-jsonschema, Slurm).

use crate::common::{hbsim, root, temp_dir, text};
use hbsim::study::sweep;

#[test]
fn shards_are_balanced_by_cost_and_none_is_empty() {
    let text = std::fs::read_to_string(root().join("scenarios/tune-mobile.json")).unwrap();
    let plan = sweep::plan(&text, Vec::new()).unwrap();
    let costs = sweep::cell_costs(&plan);
    let max_cost = *costs.iter().max().unwrap();
    for n in [1u64, 2, 3, 7, 16, 25, 40] {
        let owner = sweep::assign_shards(&plan, n);
        assert_eq!(owner, sweep::assign_shards(&plan, n), "a pure function");
        let mut load = vec![0u64; n as usize];
        let mut count = vec![0usize; n as usize];
        for (i, &k) in owner.iter().enumerate() {
            assert!((1..=n).contains(&k));
            load[k as usize - 1] += costs[i].max(1);
            count[k as usize - 1] += 1;
        }
        if plan.cells.len() as u64 >= n {
            assert!(
                count.iter().all(|&c| c > 0),
                "{n} shards: an empty one: {count:?}"
            );
        }
        let (lo, hi) = (*load.iter().min().unwrap(), *load.iter().max().unwrap());
        assert!(
            hi - lo <= max_cost,
            "{n} shards: loads {load:?} differ by more than a cell"
        );
    }
    // 25 cells over 16 shards: every shard has one or two.
    let owner = sweep::assign_shards(&plan, 16);
    let mut count = [0; 16];
    for k in owner {
        count[k as usize - 1] += 1;
    }
    assert!(count.iter().all(|&c| (1..=3).contains(&c)), "{count:?}");
}

#[test]
fn merge_names_the_shards_that_own_missing_cells_and_how_to_rerun_them() {
    let dir = temp_dir("integrations-merge");
    let cells = dir.join("cells");
    let f = root().join("scenarios/tune-mobile.json");
    for k in 1..=4 {
        let shard = format!("{k}/4");
        let args = [
            "sweep",
            f.to_str().unwrap(),
            "--shard",
            &shard,
            "--cells",
            cells.to_str().unwrap(),
            "-q",
        ];
        assert!(hbsim(&args).status.success());
    }
    // Remove every cell of one shard: the advice names exactly that shard.
    let text_of = |p: &std::path::Path| std::fs::read_to_string(p).unwrap();
    let plan = sweep::plan(&text_of(&f), Vec::new()).unwrap();
    let owner = sweep::assign_shards(&plan, 4);
    for (c, &k) in plan.cells.iter().zip(&owner) {
        if k == 3 {
            std::fs::remove_file(cells.join(format!("{}.json", c.id))).unwrap();
        }
    }
    let out = hbsim(&[
        "sweep",
        "merge",
        cells.to_str().unwrap(),
        "--out",
        dir.join("m").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("owned by shard 3 of 4"), "{err}");
    assert!(
        err.contains("SHARDS=4 sbatch --array=3 deploy/slurm/sweep.sbatch"),
        "{err}"
    );
    assert!(err.contains("completion index 2"), "{err}");
    assert!(err.contains("--shard 3/4 --cells"), "{err}");
}

#[test]
fn junit_has_times_everywhere_no_disabled_attribute_and_an_error_case_for_bad_input() {
    let dir = temp_dir("integrations-junit");
    let xml = dir.join("check.xml");
    let seed = root().join("scenarios/seed.json");
    let out = hbsim(&[
        "check",
        "--junit",
        xml.to_str().unwrap(),
        seed.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let body = std::fs::read_to_string(&xml).unwrap();
    assert!(
        !body.contains("disabled="),
        "junit-10.xsd allows no disabled attribute:\n{body}"
    );
    for tag in ["<testsuites ", "<testsuite ", "<testcase "] {
        for line in body.lines().filter(|l| l.trim_start().starts_with(tag)) {
            assert!(line.contains(" time=\""), "{tag} without time: {line}");
        }
    }
    // An invalid scenario: exit 3, and the file says which and why.
    let bad = dir.join("broken.json");
    std::fs::write(
        &bad,
        r#"{"name": "broken", "duration": "1s", "clients": [], "detectors": []}"#,
    )
    .unwrap();
    let xml = dir.join("invalid.xml");
    let out = hbsim(&[
        "check",
        "--junit",
        xml.to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3));
    let body = std::fs::read_to_string(&xml).unwrap();
    assert!(body.contains("<error "), "{body}");
    assert!(
        body.contains(&format!("name=\"{}\"", bad.display())),
        "{body}"
    );
    assert!(
        body.contains("clients: must list at least one entry"),
        "{body}"
    );
}

#[test]
fn threads_are_bounded_and_change_nothing() {
    let dir = temp_dir("integrations-threads");
    let f = root().join("scenarios/tune-mobile.json");
    let mut outs = Vec::new();
    for t in ["1", "3"] {
        let out_dir = dir.join(t);
        let o = hbsim(&[
            "--threads",
            t,
            "sweep",
            f.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
            "-q",
        ]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        outs.push(std::fs::read(out_dir.join("tune-mobile-sweep.csv")).unwrap());
    }
    assert_eq!(outs[0], outs[1]);
    let o = hbsim(&["--threads", "0", "check", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn readme_shows_the_shipped_recipes_verbatim() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for f in [
        "deploy/slurm/sweep.sbatch",
        "deploy/kubernetes/sweep-job.yaml",
        "ci-examples/github-actions.yml",
        "ci-examples/gitlab-ci.yml",
    ] {
        let body = std::fs::read_to_string(root().join(f)).unwrap();
        assert!(
            readme.contains(&body),
            "README does not show {f} as shipped"
        );
    }
}
