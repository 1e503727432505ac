//! Replications of policies on a line: in parallel, with common random numbers, summarised.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::TwinError;
use crate::kpi::{summarise, ReplicationKpis, Summary};
use crate::line::Line;
use crate::policy::Policy;
use crate::sim::{RepSpec, Segment, Sim, STATE_NAMES};

/// How to run: replications, horizon and warm-up (base units; `None` takes the line file's), seed,
/// worker threads (`None`: all cores).
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub replications: usize,
    pub horizon: Option<f64>,
    pub warmup: Option<f64>,
    pub seed: u64,
    pub threads: Option<usize>,
    /// Show a progress bar on stderr (hidden anyway when stderr is not a terminal).
    pub progress: bool,
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
            progress: false,
            bins: 100,
        }
    }
}

/// The stored result of a run (`result.json`), one element of `policies` per policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TwinResult {
    pub run_id: String,
    pub seed: u64,
    pub replications: usize,
    pub horizon: f64,
    pub warmup: f64,
    pub time_unit: String,
    pub line: LineInfo,
    /// The failure models the policies used (lineage).
    pub models: Vec<String>,
    pub policies: Vec<PolicyResult>,
    /// Extra data of an optimisation run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimization: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LineInfo {
    pub name: String,
    /// Empirical distributions read from lake columns (lineage).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lake_inputs: Vec<String>,
    pub stations: Vec<String>,
    pub buffers: Vec<usize>,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyResult {
    pub policy: String,
    pub description: String,
    pub model: Option<String>,
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
    let bins = options.bins.max(1);
    let gantt_until = (horizon * 0.02).min(horizon);
    let total = (policies.len() * options.replications) as u64;
    let bar = if options.progress {
        let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} twin {pos}/{len} replications [{elapsed_precise}] {wide_bar} eta {eta}",
            )
            .expect("static template"),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let jobs: Vec<(usize, usize)> = (0..policies.len())
        .flat_map(|p| (0..options.replications).map(move |r| (p, r)))
        .collect();
    let run_job = |&(p, r): &(usize, usize)| {
        let spec = RepSpec {
            seed: options.seed,
            replication: r as u64,
            horizon,
            warmup,
            bins,
            gantt_until: if r == 0 { gantt_until } else { 0.0 },
        };
        let out = Sim::new(line, &policies[p], &spec).run(horizon);
        bar.inc(1);
        out
    };
    let outputs: Vec<_> = match options.threads {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
            .map_err(|e| TwinError::Usage(format!("cannot start {n} worker threads: {e}")))?
            .install(|| jobs.par_iter().map(run_job).collect()),
        None => jobs.par_iter().map(run_job).collect(),
    };
    bar.finish_and_clear();
    let mut outputs = outputs.into_iter();
    let mut results = Vec::with_capacity(policies.len());
    let bin_width = horizon / bins as f64;
    for policy in policies {
        let mut reps = Vec::with_capacity(options.replications);
        let mut series = vec![0.0; bins];
        let mut gantt = Vec::new();
        for r in 0..options.replications {
            let out = outputs.next().expect("one output per job")?;
            for (s, &count) in series.iter_mut().zip(&out.series) {
                *s += count as f64 / bin_width / options.replications as f64;
            }
            if r == 0 {
                gantt = out.gantt;
            }
            reps.push(out.kpis);
        }
        let model = policy.predictive.as_ref().map(|p| p.scorer.describe());
        results.push(PolicyResult {
            policy: policy.name.clone(),
            description: policy.describe(),
            model,
            kpis: summarise(&reps),
            replications: reps,
            throughput_series: series,
            gantt,
            gantt_states: STATE_NAMES.iter().map(|s| s.to_string()).collect(),
        });
    }
    let mut models: Vec<String> = results.iter().filter_map(|p| p.model.clone()).collect();
    models.dedup();
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
        },
        models,
        policies: results,
        optimization: None,
    })
}

fn check_options(
    line: &Line,
    policies: &[Policy],
    options: &RunOptions,
) -> Result<(f64, f64), TwinError> {
    if policies.is_empty() {
        return Err(TwinError::Usage("no policy to run".into()));
    }
    if options.replications == 0 {
        return Err(TwinError::Usage("replications must be at least 1".into()));
    }
    if options.threads == Some(0) {
        return Err(TwinError::Usage("threads must be at least 1".into()));
    }
    let horizon = options.horizon.or(line.horizon).ok_or_else(|| {
        TwinError::Usage("no horizon: set `horizon` in the line file or pass --horizon".into())
    })?;
    if !horizon.is_finite() || horizon <= 0.0 {
        return Err(TwinError::Usage(format!(
            "the horizon must be > 0, got {horizon}"
        )));
    }
    let warmup = options.warmup.or(line.warmup).unwrap_or(0.0);
    if !warmup.is_finite() || warmup < 0.0 || warmup >= horizon {
        return Err(TwinError::Usage(format!(
            "the warm-up must lie in [0, horizon) = [0, {horizon}), got {warmup}"
        )));
    }
    let mut names = std::collections::HashSet::new();
    for p in policies {
        if !names.insert(p.name.as_str()) {
            return Err(TwinError::Policy(format!(
                "policy name {:?} appears twice",
                p.name
            )));
        }
        p.validate(line)?;
    }
    Ok((horizon, warmup))
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

/// Where a run is stored: `<home>/twin/<run-id>/`.
pub fn run_dir(home: &Path, run_id: &str) -> PathBuf {
    home.join("twin").join(run_id)
}

/// Stores a result atomically under `<home>/twin/<run-id>/`: result.json, line.toml (the model as
/// given), model.json (the failure models used) and the plots. Writes into a hidden temporary folder
/// and renames it, so a crash leaves nothing half-written.
pub fn store_result(home: &Path, line: &Line, result: &TwinResult) -> Result<PathBuf, TwinError> {
    let twin = home.join("twin");
    std::fs::create_dir_all(&twin).map_err(|e| TwinError::io(&twin, e))?;
    let dir = run_dir(home, &result.run_id);
    if dir.exists() {
        return Err(TwinError::Usage(format!(
            "{} already exists",
            dir.display()
        )));
    }
    let tmp = twin.join(format!(".{}.tmp", result.run_id));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| TwinError::io(&tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| TwinError::io(&tmp, e))?;
    let write = |name: &str, bytes: &[u8]| {
        let p = tmp.join(name);
        std::fs::write(&p, bytes).map_err(|e| TwinError::io(&p, e))
    };
    let json = serde_json::to_vec_pretty(result)
        .map_err(|e| TwinError::Usage(format!("cannot serialise the result: {e}")))?;
    write("result.json", &json)?;
    write("line.toml", line.source.as_bytes())?;
    let models = serde_json::json!({
        "line_sha256": line.source_sha256,
        "policies": result.policies.iter().map(|p| serde_json::json!({
            "policy": p.policy, "description": p.description, "model": p.model,
        })).collect::<Vec<_>>(),
    });
    write(
        "model.json",
        serde_json::to_string_pretty(&models)
            .unwrap_or_default()
            .as_bytes(),
    )?;
    crate::plot::plot_result(result, &tmp)?;
    if let Some(opt) = &result.optimization {
        let opt: crate::optimize::Optimization = serde_json::from_value(opt.clone())
            .map_err(|e| TwinError::Usage(format!("optimisation data: {e}")))?;
        let points: Vec<millwright_plot::style::CiPoint> = opt
            .points
            .iter()
            .map(|p| millwright_plot::style::CiPoint {
                x: p.value,
                mean: p.mean,
                low: p.ci_low,
                high: p.ci_high,
            })
            .collect();
        let best = opt
            .points
            .iter()
            .position(|p| p.value == opt.best.value)
            .unwrap_or(0);
        crate::plot::plot_curve(
            &tmp,
            &points,
            opt.parameter.name(),
            opt.objective.kpi(),
            best,
        )?;
    }
    std::fs::rename(&tmp, &dir).map_err(|e| TwinError::io(&dir, e))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line::EXAMPLE_LINE;

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
}
