//! A throwaway Millwright home and the real binary, shared by the CLI tests.
// Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

pub mod connector;
pub mod peer;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary with `--home home` (and no MILLWRIGHT_HOME from the environment).
pub fn command(home: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_millwright"));
    cmd.arg("--home")
        .arg(home)
        .args(args)
        .env_remove("MILLWRIGHT_HOME");
    cmd
}

/// Runs the binary to completion.
pub fn millwright(home: &Path, args: &[&str]) -> Output {
    command(home, args).output().expect("run millwright")
}

pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Self {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The `--home` folder (inside the temporary directory, beside the test's input files).
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn file(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    pub fn command(&self, args: &[&str]) -> Command {
        command(&self.home(), args)
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "millwright {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "millwright {args:?} should fail");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }
}

/// KPIs of one replication that the impact model reads: throughput, scrap rate, unplanned downtime and
/// cost per good part.
/// One replication's counts: good parts, scrapped parts, availability, unplanned downtime (base units),
/// failures, maintenance actions.
pub type Kpis = [f64; 6];

/// Stores a twin run with the twin's own writer. A short real simulation of the example line gives every
/// field its real shape; each policy's replications then get the KPIs given, so a test knows what the
/// impact model must measure. `model` describes the AI policy's failure model (`failure@1 (gbdt)` for a
/// registered one, `rules` for the AI4I rules).
pub fn store_twin_run(
    home: &Path,
    run_id: &str,
    policies: &[(&str, Vec<Kpis>)],
    model: Option<&str>,
) {
    use millwright_twin::{
        compare, policy_from_name, store_result, Line, PolicyParams, RunOptions,
    };
    let line = Line::parse(millwright_twin::EXAMPLE_LINE, Path::new("line.toml")).unwrap();
    let params = PolicyParams {
        interval: None,
        wear_limit: None,
        threshold: None,
        scorer: None,
        recall_scale: None,
    };
    let policy = policy_from_name("run-to-failure", &params, &line).unwrap();
    let options = RunOptions {
        replications: 1,
        horizon: Some(600.0),
        warmup: Some(0.0),
        ..RunOptions::default()
    };
    let mut result = compare(&line, &[policy], &options).unwrap();
    let template = result.policies[0].clone();
    result.run_id = run_id.to_owned();
    result.replications = policies.first().map_or(0, |(_, reps)| reps.len());
    result.policies = policies
        .iter()
        .map(|(name, reps)| {
            let mut p = template.clone();
            p.policy = (*name).to_owned();
            // A registered model is recorded as a `ModelRef` and described as `failure@1 (kind)`.
            let described = model.filter(|_| name.starts_with("predictive"));
            p.model_description = described.map(str::to_owned);
            p.model = described.and_then(|d| d.split(" (").next()?.parse().ok());
            p.replications = reps
                .iter()
                .map(
                    |&[good, scrapped, availability, downtime, failures, actions]| {
                        let mut r = template.replications[0].clone();
                        r.good_parts = good as u64;
                        r.scrapped_parts = scrapped as u64;
                        r.availability = availability;
                        r.unplanned_downtime = downtime;
                        r.failures = failures as u64;
                        r.maintenance_actions = actions as u64;
                        r.planned_stop_time = 0.0;
                        r
                    },
                )
                .collect();
            p
        })
        .collect();
    store_result(home, &line, &result).unwrap();
}

/// The single value of a one-row, one-column query (a count, a sum) as an integer.
pub fn scalar(h: &Home, sql: &str) -> i64 {
    let rows = h.json(&["sql", sql]);
    rows[0]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()
        .as_i64()
        .unwrap()
}
