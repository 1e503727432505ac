//! Replications of policies on a line: in parallel, with common random numbers, summarised.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use millwright_core::{ModelRef, ProgressHandle, Unit};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::TwinError;
use crate::kpi::{summarise, ReplicationKpis, Summary};
use crate::line::Line;
use crate::optimize::Optimization;
use crate::policy::{Policy, Threshold};
use crate::sim::{RepSpec, ReplicationOutput, Segment, Sim, STATE_NAMES};

/// Most events one run may simulate, as estimated before it starts (horizon / the fastest mean
/// processing time × stations × replications × policies, an upper bound): about 17 minutes of one core.
pub const MAX_EVENTS: f64 = 1e10;

/// Events one core simulates per second (docs/benchmarks.md: 11.9 million on the SimPy line, release
/// build), for saying how long a refused run would have taken.
pub const EVENTS_PER_SECOND: f64 = 1e7;

/// How to run: replications, horizon and warm-up (base units; `None` takes the line file's), seed,
/// worker threads (`None`: all cores).
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub replications: usize,
    pub horizon: Option<f64>,
    pub warmup: Option<f64>,
    pub seed: u64,
    pub threads: Option<usize>,
    /// Receives stage `simulating` (total: policies × replications) and each finished replication.
    pub progress: ProgressHandle,
    /// Bins of the throughput-over-time series.
    pub bins: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            replications: 30,
            horizon: None,
            warmup: None,
            seed: 1,
            threads: None,
            progress: ProgressHandle::default(),
            bins: 100,
        }
    }
}

/// The stored result of a run (`result.json`), one element of `policies` per policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwinResult {
    pub run_id: String,
    pub seed: u64,
    pub replications: usize,
    pub horizon: f64,
    pub warmup: f64,
    pub time_unit: String,
    pub line: LineInfo,
    /// The registered failure models the policies used (lineage), each once.
    pub models: Vec<ModelRef>,
    pub policies: Vec<PolicyResult>,
    /// The curve and optimum of an optimisation run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimization: Option<Optimization>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineInfo {
    pub name: String,
    /// Empirical distributions read from lake columns (lineage).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lake_inputs: Vec<String>,
    pub stations: Vec<String>,
    pub buffers: Vec<usize>,
    pub sha256: String,
    /// The line file's `current_policy` (the plant's practice today), if it declares one.
    #[serde(default)]
    pub current_policy: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyResult {
    pub policy: String,
    pub description: String,
    /// The registered model the policy's scorer is (`{"name", "version"}`), `null` for none or for a
    /// scorer that is not a registered model (the AI4I rules).
    pub model: Option<ModelRef>,
    /// The scorer as people read it (`failure@3 (mlp)`), `null` without a scorer.
    pub model_description: Option<String>,
    /// The predictive threshold and where it came from; `null` without a predictive part (and in
    /// results stored before it was recorded).
    #[serde(default)]
    pub threshold: Option<Threshold>,
    pub kpis: BTreeMap<String, Summary>,
    pub replications: Vec<ReplicationKpis>,
    /// Mean good parts per time unit in each of `series_bins` equal bins over [0, horizon].
    pub throughput_series: Vec<f64>,
    /// State segments of replication 0 over the first part of the horizon (Gantt chart).
    pub gantt: Vec<Segment>,
    pub gantt_states: Vec<String>,
}

/// Runs every policy for the same replications (replication `r` of each policy draws from the same
/// random streams) and summarises them. Results do not depend on the thread count.
pub fn compare(
    line: &Line,
    policies: &[Policy],
    options: &RunOptions,
) -> Result<TwinResult, TwinError> {
    let (horizon, warmup) = check_options(line, policies, options)?;
    let outputs = simulate(line, policies, options, horizon, warmup)?;
    let results = summarise_policies(policies, outputs, options, horizon);
    Ok(TwinResult {
        run_id: new_run_id(line, policies, options),
        seed: options.seed,
        replications: options.replications,
        horizon,
        warmup,
        time_unit: line.time_unit().label().to_string(),
        line: LineInfo {
            name: line.file.name.clone(),
            lake_inputs: line.lake_inputs.clone(),
            stations: line.stations.iter().map(|s| s.name.clone()).collect(),
            buffers: line.buffers.clone(),
            sha256: line.source_sha256.clone(),
            current_policy: line.current_policy().map(str::to_owned),
        },
        models: models_of(&results),
        policies: results,
        optimization: None,
    })
}

/// Every (policy, replication) job on rayon, in job order, each finished one reported.
fn simulate(
    line: &Line,
    policies: &[Policy],
    options: &RunOptions,
    horizon: f64,
    warmup: f64,
) -> Result<Vec<ReplicationOutput>, TwinError> {
    let gantt_until = (horizon * 0.02).min(horizon);
    let jobs: Vec<(usize, usize)> = (0..policies.len())
        .flat_map(|p| (0..options.replications).map(move |r| (p, r)))
        .collect();
    let progress = &options.progress;
    progress.stage("simulating", Some(jobs.len() as u64), Unit::Replications);
    // A lock rather than an atomic counter, so that running totals reach the observer in order.
    let done = Mutex::new(0u64);
    let run_job = |&(p, r): &(usize, usize)| {
        if progress.cancelled() {
            return Err(TwinError::Cancelled);
        }
        let spec = RepSpec {
            seed: options.seed,
            replication: r as u64,
            horizon,
            warmup,
            bins: options.bins.max(1),
            gantt_until: if r == 0 { gantt_until } else { 0.0 },
        };
        let out = Sim::new(line, &policies[p], &spec).run(horizon);
        let mut done = done.lock().unwrap_or_else(PoisonError::into_inner);
        *done += 1;
        progress.advance(*done);
        out
    };
    let outputs: Vec<_> = match options.threads {
        Some(threads) => rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|source| TwinError::ThreadPool { threads, source })?
            .install(|| jobs.par_iter().map(run_job).collect()),
        None => jobs.par_iter().map(run_job).collect(),
    };
    outputs.into_iter().collect()
}

/// One result per policy from its replications' outputs (in job order).
fn summarise_policies(
    policies: &[Policy],
    outputs: Vec<ReplicationOutput>,
    options: &RunOptions,
    horizon: f64,
) -> Vec<PolicyResult> {
    let bins = options.bins.max(1);
    let bin_width = horizon / bins as f64;
    let n = options.replications;
    let mut outputs = outputs.into_iter();
    policies
        .iter()
        .map(|policy| {
            let mut reps = Vec::with_capacity(n);
            let mut series = vec![0.0; bins];
            let mut gantt = Vec::new();
            for (r, out) in outputs.by_ref().take(n).enumerate() {
                for (s, &count) in series.iter_mut().zip(&out.series) {
                    *s += f64::from(count) / bin_width / n as f64;
                }
                if r == 0 {
                    gantt = out.gantt;
                }
                reps.push(out.kpis);
            }
            let scorer = policy.scored().map(|p| &p.scorer);
            PolicyResult {
                policy: policy.name.clone(),
                description: policy.describe(),
                model: scorer.and_then(|s| s.model()),
                model_description: scorer.map(|s| s.describe()),
                threshold: policy.threshold(),
                kpis: summarise(&reps),
                replications: reps,
                throughput_series: series,
                gantt,
                gantt_states: STATE_NAMES
                    .iter()
                    .map(std::string::ToString::to_string)
                    .collect(),
            }
        })
        .collect()
}

/// The registered models of the policies, each once, in policy order.
fn models_of(results: &[PolicyResult]) -> Vec<ModelRef> {
    let mut models: Vec<ModelRef> = Vec::new();
    for m in results.iter().filter_map(|p| p.model.as_ref()) {
        if !models.contains(m) {
            models.push(m.clone());
        }
    }
    models
}

fn check_options(
    line: &Line,
    policies: &[Policy],
    options: &RunOptions,
) -> Result<(f64, f64), TwinError> {
    if policies.is_empty() {
        return Err(TwinError::NoPolicies);
    }
    if options.replications == 0 {
        return Err(TwinError::NoReplications);
    }
    if options.threads == Some(0) {
        return Err(TwinError::NoThreads);
    }
    let horizon = options
        .horizon
        .or(line.horizon)
        .ok_or(TwinError::NoHorizon)?;
    if !horizon.is_finite() || horizon <= 0.0 {
        return Err(TwinError::BadHorizon { horizon });
    }
    let warmup = options.warmup.or(line.warmup).unwrap_or(0.0);
    if !warmup.is_finite() || warmup < 0.0 || warmup >= horizon {
        return Err(TwinError::BadWarmup { warmup, horizon });
    }
    let mut names = std::collections::HashSet::new();
    for p in policies {
        if !names.insert(p.name.as_str()) {
            return Err(TwinError::DuplicatePolicy {
                name: p.name.clone(),
            });
        }
        p.validate(line)?;
    }
    check_size(line, horizon, options.replications, policies.len())?;
    Ok((horizon, warmup))
}

/// Refuses a run estimated above [`MAX_EVENTS`]: at most one part per station every fastest mean
/// processing time, over the horizon, in every replication of every policy.
fn check_size(
    line: &Line,
    horizon: f64,
    replications: usize,
    policies: usize,
) -> Result<(), TwinError> {
    // The line's validation guarantees a station with a positive mean.
    let cycle = line
        .stations
        .iter()
        .map(|s| s.process_mean)
        .filter(|m| *m > 0.0)
        .fold(f64::INFINITY, f64::min);
    let stations = line.stations.len();
    let events = horizon / cycle * stations as f64 * replications as f64 * policies as f64;
    if events <= MAX_EVENTS {
        return Ok(());
    }
    Err(TwinError::RunTooLarge {
        events,
        limit: MAX_EVENTS,
        horizon,
        time_unit: line.time_unit().label(),
        cycle,
        stations,
        replications,
        policies,
    })
}

/// A duration for people: seconds, minutes, hours, days or years.
pub(crate) fn human_seconds(seconds: f64) -> String {
    const MINUTE: f64 = 60.0;
    const HOUR: f64 = 3600.0;
    const DAY: f64 = 86_400.0;
    const YEAR: f64 = 365.25 * DAY;
    match seconds {
        s if s < 2.0 * MINUTE => format!("{s:.0} s"),
        s if s < 2.0 * HOUR => format!("{:.0} min", s / MINUTE),
        s if s < 2.0 * DAY => format!("{:.1} h", s / HOUR),
        s if s < 2.0 * YEAR => format!("{:.0} days", s / DAY),
        s => format!("{:.3} years", s / YEAR),
    }
}

/// `twin-<UTC time>-<8 hex digits of a hash of line, policies, seed and clock>`.
fn new_run_id(line: &Line, policies: &[Policy], options: &RunOptions) -> String {
    use sha2::{Digest, Sha256};
    let now = chrono::Utc::now();
    let mut h = Sha256::new();
    h.update(line.source_sha256.as_bytes());
    for p in policies {
        h.update(p.describe().as_bytes());
    }
    h.update(options.seed.to_le_bytes());
    h.update(now.timestamp_subsec_nanos().to_le_bytes());
    h.update(now.timestamp().to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    let digest = h.finalize();
    format!(
        "twin-{}-{:02x}{:02x}{:02x}{:02x}",
        now.format("%Y%m%dT%H%M%S"),
        digest[0],
        digest[1],
        digest[2],
        digest[3]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line::EXAMPLE_LINE;
    use std::path::Path;
    use std::sync::Arc;

    #[test]
    fn run_ids_carry_the_utc_time_and_a_hash() {
        let line = Line::parse(EXAMPLE_LINE, Path::new("l.toml")).unwrap();
        let before = chrono::Utc::now().format("%Y%m%dT%H%M%S").to_string();
        let id = new_run_id(&line, &[], &RunOptions::default());
        let after = chrono::Utc::now().format("%Y%m%dT%H%M%S").to_string();
        let (time, hash) = id
            .strip_prefix("twin-")
            .and_then(|rest| rest.split_once('-'))
            .unwrap();
        assert!((before.as_str()..=after.as_str()).contains(&time), "{id}");
        assert!(
            hash.len() == 8 && hash.chars().all(|c| c.is_ascii_hexdigit()),
            "{id}"
        );
    }

    /// Records what a run reports.
    #[derive(Default)]
    struct Log(Mutex<Vec<String>>);

    impl millwright_core::Progress for Log {
        fn stage(&self, name: &str, total: Option<u64>, unit: Unit) {
            let line = format!("{name} {total:?} {}", unit.name());
            self.0.lock().unwrap().push(line);
        }
        fn advance(&self, done: u64) {
            self.0.lock().unwrap().push(done.to_string());
        }
    }

    #[test]
    fn progress_counts_replications_of_every_policy_in_order() {
        let line = Line::parse(EXAMPLE_LINE, Path::new("l.toml")).unwrap();
        let log = Arc::new(Log::default());
        let options = RunOptions {
            replications: 3,
            horizon: Some(300.0),
            warmup: Some(0.0),
            threads: Some(2),
            progress: ProgressHandle::new(log.clone()),
            ..Default::default()
        };
        let policies = [
            Policy::run_to_failure(),
            Policy::preventive(Some(100.0), None),
        ];
        compare(&line, &policies, &options).unwrap();
        let log = log.0.lock().unwrap();
        assert_eq!(log[0], "simulating Some(6) replications");
        assert_eq!(log[1..], ["1", "2", "3", "4", "5", "6"]);
    }

    #[test]
    fn a_run_that_cannot_finish_in_reasonable_time_is_refused_before_it_starts() {
        let line = Line::parse(EXAMPLE_LINE, Path::new("l.toml")).unwrap();
        let options = RunOptions {
            // 1,000,000,000 days in minutes.
            horizon: Some(1.44e12),
            ..Default::default()
        };
        let err = compare(&line, &[Policy::run_to_failure()], &options).unwrap_err();
        let TwinError::RunTooLarge { events, cycle, .. } = &err else {
            panic!("{err}")
        };
        // deburr, exponential with mean 0.7, is the fastest of 5 stations; 30 replications.
        assert_eq!(*cycle, 0.7);
        assert!((events / (1.44e12 / 0.7 * 5.0 * 30.0) - 1.0).abs() < 1e-12);
        let text = err.to_string();
        assert!(
            text.contains("days on one core") && text.contains("1e10"),
            "{text}"
        );
        // A month of the same line is far below the limit.
        let month = RunOptions {
            horizon: Some(43_200.0),
            ..options
        };
        check_options(&line, &[Policy::run_to_failure()], &month).unwrap();
    }

    #[test]
    fn durations_read_in_sensible_units() {
        assert_eq!(human_seconds(30.0), "30 s");
        assert_eq!(human_seconds(1000.0), "17 min");
        assert_eq!(human_seconds(36_000.0), "10.0 h");
        assert_eq!(human_seconds(3.1e7), "359 days");
        assert!(human_seconds(1e12).ends_with("years"));
    }
}
