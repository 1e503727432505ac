//! The SimPy reference line (benches/simpy_line.toml) against ../shared/bench/simpy_line.py.
//!
//! `cargo bench -p millwright-twin --bench simpy_line` runs N replications of the full horizon on one
//! thread, reports throughput and utilisations with 95 % CIs, wall time per replication and events/s,
//! then runs simpy_line.py (seed 1, same horizon) in the same process when a Python with simpy is
//! found (`$SIMPY_PYTHON`, else `python3`) and prints the ratio. Without SimPy it compares with the
//! published reference (19.3 s). Env: TWIN_BENCH_REPS (default 10), TWIN_BENCH_HORIZON.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use millwright_twin::{compare, Line, Policy, RunOptions, Summary};

const SIMPY_REFERENCE_WALL_S: f64 = 19.34;
const SIMPY_REFERENCE_EVENTS: f64 = 9_194_602.0;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn simpy(script: &Path, horizon: f64) -> Option<serde_json::Value> {
    let python = std::env::var("SIMPY_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&python)
        .args(["-c", "import simpy"])
        .output()
        .ok()?;
    if !ok.status.success() {
        eprintln!("simpy not importable by {python}: using the published reference figures");
        return None;
    }
    let out = Command::new(&python)
        .arg(script)
        .args(["--seed", "1", "--until", &format!("{horizon}")])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find_map(|l| l.strip_prefix("RESULT "))?;
    serde_json::from_str(line).ok()
}

fn fmt(s: &Summary) -> String {
    format!(
        "{:.4} [{:.4}, {:.4}]",
        s.mean.unwrap_or(f64::NAN),
        s.ci_low.unwrap_or(f64::NAN),
        s.ci_high.unwrap_or(f64::NAN)
    )
}

fn main() {
    // `cargo test --benches` passes --bench-less flags; run only under `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        println!("simpy_line: run with `cargo bench` (skipped)");
        return;
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let line = Line::load(&manifest.join("benches/simpy_line.toml")).expect("bench line");
    let reps: usize = env_or("TWIN_BENCH_REPS", 10);
    let horizon: f64 = env_or(
        "TWIN_BENCH_HORIZON",
        line.horizon.expect("horizon in the file"),
    );
    let options = RunOptions {
        replications: reps,
        horizon: Some(horizon),
        warmup: Some(0.0),
        seed: 1,
        threads: Some(1),
        progress: Default::default(),
        bins: 10,
    };
    let t0 = Instant::now();
    let result = compare(&line, &[Policy::run_to_failure()], &options).expect("bench run");
    let wall = t0.elapsed().as_secs_f64();
    let per_rep = wall / reps as f64;
    let p = &result.policies[0];
    let events: u64 = p.replications.iter().map(|r| r.events).sum();
    let events_per_rep = events as f64 / reps as f64;
    println!("millwright twin, {reps} replications x {horizon} time units, 1 thread");
    println!("  throughput   {}", fmt(&p.kpis["throughput"]));
    for (i, name) in result.line.stations.iter().enumerate() {
        let busy: Vec<f64> = p.replications.iter().map(|r| r.stations[i].busy).collect();
        println!("  utilisation {name}  {}", fmt(&Summary::of(&busy)));
    }
    println!(
        "  wall per replication {per_rep:.3} s, events {events_per_rep:.0}, {:.0} events/s",
        events as f64 / wall
    );
    let script = manifest.join("../../../shared/bench/simpy_line.py");
    let (simpy_wall, simpy_events, source) =
        match script.is_file().then(|| simpy(&script, horizon)).flatten() {
            Some(v) => {
                println!(
                    "simpy (same process, seed 1): throughput {:.4}, utilisation {:?}",
                    v["throughput_per_time_unit"].as_f64().unwrap_or(f64::NAN),
                    v["utilization"]
                );
                (
                    v["wall_s"].as_f64().unwrap_or(f64::NAN),
                    v["events"].as_f64().unwrap_or(f64::NAN),
                    "measured now",
                )
            }
            None => (
                SIMPY_REFERENCE_WALL_S * horizon / 1e6,
                SIMPY_REFERENCE_EVENTS * horizon / 1e6,
                "published reference (RESULTS.md), scaled to the horizon",
            ),
        };
    println!(
        "simpy ({source}): wall {simpy_wall:.2} s, {simpy_events:.0} events, {:.0} events/s",
        simpy_events / simpy_wall
    );
    println!(
        "speed-up (simpy wall / millwright wall per replication): {:.1}x",
        simpy_wall / per_rep
    );
    let json = serde_json::json!({
        "bench": "simpy_line", "horizon": horizon, "replications": reps,
        "throughput": p.kpis["throughput"], "wall_per_replication_s": per_rep,
        "events_per_replication": events_per_rep, "events_per_s": events as f64 / wall,
        "simpy_wall_s": simpy_wall, "simpy_events": simpy_events, "simpy_source": source,
        "speedup": simpy_wall / per_rep,
    });
    println!("RESULT {json}");
}
