//! The twin against queueing theory and the AI4I rules, and its determinism.

use std::path::Path;
use std::sync::Arc;

use millwright_twin::*;

fn line(text: &str) -> Line {
    Line::parse(text, Path::new("test.toml")).unwrap()
}

fn opts(replications: usize, horizon: f64, warmup: f64) -> RunOptions {
    RunOptions {
        replications,
        horizon: Some(horizon),
        warmup: Some(warmup),
        seed: 11,
        threads: None,
        progress: Default::default(),
        bins: 10,
    }
}

fn kpi(r: &TwinResult, policy: usize, name: &str) -> Summary {
    r.policies[policy].kpis[name]
}

/// Asserts that `theory` lies in the 95 % CI widened by `slack` (a relative tolerance for the
/// bias of finite runs).
fn assert_matches(s: Summary, theory: f64, slack: f64, what: &str) {
    let (lo, hi, mean) = (s.ci_low.unwrap(), s.ci_high.unwrap(), s.mean.unwrap());
    assert!(
        theory >= lo - slack * theory && theory <= hi + slack * theory,
        "{what}: theory {theory}, simulated {mean} [{lo}, {hi}]"
    );
}

#[test]
fn availability_converges_to_mtbf_over_mtbf_plus_mttr() {
    let l = line(
        r#"
name = "one"
time_unit = "min"
[[stations]]
name = "m"
process = { dist = "fixed", value = 1.0 }
failures = { time_to_failure = { dist = "exponential", mean = 100 }, repair = { dist = "exponential", mean = 10 } }
"#,
    );
    let r = compare(&l, &[Policy::run_to_failure()], &opts(8, 60_000.0, 0.0)).unwrap();
    let a = kpi(&r, 0, "availability");
    assert_matches(a, 100.0 / 110.0, 0.002, "availability");
    assert_matches(kpi(&r, 0, "mtbf"), 100.0, 0.02, "observed MTBF");
    assert_matches(kpi(&r, 0, "mttr"), 10.0, 0.02, "observed MTTR");
    // Never starved, never blocked: throughput = availability / process time.
    let t = kpi(&r, 0, "throughput").mean.unwrap();
    assert!((t - a.mean.unwrap()).abs() < 0.002, "{t} vs {:?}", a.mean);
}

#[test]
fn mm1_queue_length_and_wait_match_theory() {
    let (lambda, mu) = (0.7, 1.0);
    let l = line(&format!(
        r#"
name = "mm1"
time_unit = "unit"
arrivals = {{ dist = "exponential", mean = {} }}
[[stations]]
name = "server"
process = {{ dist = "exponential", mean = {} }}
"#,
        1.0 / lambda,
        1.0 / mu
    ));
    let r = compare(
        &l,
        &[Policy::run_to_failure()],
        &opts(10, 40_000.0, 1_000.0),
    )
    .unwrap();
    let rho: f64 = lambda / mu;
    assert_matches(
        kpi(&r, 0, "queue_length"),
        rho * rho / (1.0 - rho),
        0.03,
        "Lq",
    );
    assert_matches(kpi(&r, 0, "queue_wait"), rho / (mu - lambda), 0.03, "Wq");
    assert_matches(kpi(&r, 0, "wip"), rho / (1.0 - rho), 0.03, "L");
    assert_matches(kpi(&r, 0, "throughput"), lambda, 0.01, "throughput");
}

fn two_stations(buffer: usize) -> Line {
    line(&format!(
        r#"
name = "two"
time_unit = "unit"
buffers = [{buffer}]
[[stations]]
name = "a"
process = {{ dist = "exponential", mean = 1.0 }}
[[stations]]
name = "b"
process = {{ dist = "exponential", mean = 1.1 }}
"#
    ))
}

/// Two exponential stations with a buffer of N and blocking after service form a birth-death
/// chain on 0..=N+2 parts downstream of station a (Buzacott & Shanthikumar).
fn two_station_throughput(mu1: f64, mu2: f64, n: usize) -> f64 {
    let k = n as i32 + 2;
    let rho = mu1 / mu2;
    let p0 = (1.0 - rho) / (1.0 - rho.powi(k + 1));
    mu2 * (1.0 - p0)
}

#[test]
fn two_stations_with_a_finite_buffer_match_theory_and_a_bigger_buffer_never_hurts() {
    let mut last = 0.0;
    for n in [1usize, 2, 4, 8] {
        let r = compare(
            &two_stations(n),
            &[Policy::run_to_failure()],
            &opts(6, 20_000.0, 500.0),
        )
        .unwrap();
        let t = kpi(&r, 0, "throughput");
        let theory = two_station_throughput(1.0, 1.0 / 1.1, n);
        assert_matches(t, theory, 0.01, &format!("throughput with buffer {n}"));
        // Bounds: at most the slower station's rate, at least the rate with the smallest buffer.
        assert!(t.mean.unwrap() <= 1.0 / 1.1 + 1e-9);
        assert!(t.mean.unwrap() >= two_station_throughput(1.0, 1.0 / 1.1, 0) - 0.01);
        // Same seeds, same service times: throughput is monotone in the buffer size path by path.
        assert!(
            t.mean.unwrap() >= last,
            "buffer {n}: {} < {last}",
            t.mean.unwrap()
        );
        last = t.mean.unwrap();
    }
}

#[test]
fn same_seed_same_result_for_any_thread_count_and_another_seed_differs() {
    let l = line(EXAMPLE_LINE);
    let policies = [
        Policy::run_to_failure(),
        Policy::preventive(Some(600.0), Some(150.0)),
        Policy::predictive(Arc::new(PhysicsScorer::default()), 0.5),
    ];
    let run = |threads, seed| {
        let mut o = opts(3, 3_000.0, 200.0);
        o.threads = Some(threads);
        o.seed = seed;
        let r = compare(&l, &policies, &o).unwrap();
        serde_json::to_string(&r.policies).unwrap()
    };
    let one = run(1, 5);
    assert_eq!(one, run(1, 5));
    assert_eq!(one, run(3, 5));
    assert_ne!(one, run(1, 6));
}

#[test]
fn policies_share_random_numbers() {
    // Two policies that act the same see the same draws: identical replications.
    let l = line(EXAMPLE_LINE);
    let a = Policy::run_to_failure();
    let b = Policy::run_to_failure().named("also-run-to-failure");
    let r = compare(&l, &[a, b], &opts(2, 2_000.0, 0.0)).unwrap();
    assert_eq!(r.policies[0].replications, r.policies[1].replications);
}

#[test]
fn maintenance_policies_act_on_the_failure_modes_they_target() {
    let l = line(EXAMPLE_LINE);
    let policies = [
        Policy::run_to_failure(),
        Policy::preventive(None, Some(150.0)),
        Policy::predictive(Arc::new(PhysicsScorer::default()), 0.5),
    ];
    let r = compare(&l, &policies, &opts(3, 10_000.0, 500.0)).unwrap();
    let f = |p: usize, k: &str| kpi(&r, p, k).mean.unwrap();
    // A wear limit below the tool life removes tool-wear failures.
    assert!(f(0, "failures_twf") > 0.0 && f(1, "failures_twf") == 0.0);
    assert!(f(1, "failures_osf") < f(0, "failures_osf"));
    // The physics scorer sees HDF/PWF coming: far fewer of them.
    assert!(f(2, "failures_hdf") < 0.5 * f(0, "failures_hdf"));
    assert!(f(2, "failures_pwf") < 0.5 * f(0, "failures_pwf"));
    assert!(f(2, "maintenance_actions") > 0.0 && f(0, "maintenance_actions") == 0.0);
    assert!(f(2, "throughput") > f(0, "throughput"));
    // OEE = availability x performance x quality, by construction.
    for rep in &r.policies[1].replications {
        assert!((rep.oee - rep.availability * rep.performance * rep.quality).abs() < 1e-9);
    }
}

#[test]
fn results_are_stored_with_the_line_model_and_plots() {
    let l = line(EXAMPLE_LINE);
    let policies = [
        Policy::run_to_failure(),
        Policy::predictive(Arc::new(PhysicsScorer::default()), 0.4),
    ];
    let r = compare(&l, &policies, &opts(2, 1_500.0, 100.0)).unwrap();
    let home = tempfile::tempdir().unwrap();
    let dir = store_result(home.path(), &l, &r).unwrap();
    assert_eq!(dir, home.path().join("twin").join(&r.run_id));
    for f in [
        "result.json",
        "line.toml",
        "model.json",
        "kpis.png",
        "kpis.svg",
        "throughput.png",
        "throughput.svg",
        "gantt-run-to-failure.png",
        "gantt-predictive.svg",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("line.toml")).unwrap(),
        EXAMPLE_LINE
    );
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("result.json")).unwrap()).unwrap();
    assert_eq!(v["run_id"], r.run_id.as_str());
    assert_eq!(v["policies"][0]["policy"], "run-to-failure");
    for k in [
        "throughput",
        "oee",
        "availability",
        "scrap_rate",
        "cost_per_good_part",
        "unplanned_downtime",
    ] {
        assert!(v["policies"][1]["kpis"][k]["mean"].is_number(), "{k}");
        assert!(v["policies"][1]["kpis"][k]["ci_low"].is_number(), "{k}");
        assert!(v["policies"][1]["replications"][0][k].is_number(), "{k}");
    }
    // The AI4I rules are not a registered model: no model reference, only the description.
    assert!(v["policies"][1]["model"].is_null());
    assert!(v["policies"][1]["model_description"]
        .as_str()
        .unwrap()
        .contains("physics"));
    // Nothing left behind but the run folder.
    let entries: Vec<_> = std::fs::read_dir(home.path().join("twin"))
        .unwrap()
        .collect();
    assert_eq!(entries.len(), 1);
}

#[test]
fn planned_stops_are_planned_time_not_downtime() {
    let l = line(
        r#"
name = "shifts"
time_unit = "min"
[[stations]]
name = "m"
process = { dist = "fixed", value = 1.0 }
[[planned_stops]]
name = "break"
every = 100
start = 50
duration = 20
"#,
    );
    let r = compare(&l, &[Policy::run_to_failure()], &opts(2, 10_000.0, 0.0)).unwrap();
    let rep = &r.policies[0].replications[0];
    assert!(
        (rep.planned_stop_time - 2_000.0).abs() < 1e-6,
        "{}",
        rep.planned_stop_time
    );
    assert!((rep.throughput - 0.8).abs() < 1e-3, "{}", rep.throughput);
    assert_eq!(rep.availability, 1.0);
    assert!((rep.oee - 1.0).abs() < 1e-3, "{}", rep.oee);
    assert!((rep.stations[0].planned_stop - 0.2).abs() < 1e-9);
    assert_eq!(rep.unplanned_downtime, 0.0);
}

#[test]
fn scrap_and_costs_follow_their_definitions() {
    let l = line(
        r#"
name = "costs"
time_unit = "min"
[[stations]]
name = "m"
process = { dist = "fixed", value = 1.0 }
scrap = 0.1
[costs]
operating_per_hour = 60.0
scrap = 2.0
part_value = 5.0
"#,
    );
    let r = compare(&l, &[Policy::run_to_failure()], &opts(6, 6_000.0, 0.0)).unwrap();
    assert_matches(kpi(&r, 0, "scrap_rate"), 0.1, 0.02, "scrap rate");
    for rep in &r.policies[0].replications {
        // 100 planned hours at 60 per hour plus 2 per scrapped part, over the good parts.
        let cost = 6_000.0 + 2.0 * rep.scrapped_parts as f64;
        assert!(
            (rep.total_cost - cost).abs() < 1e-6,
            "{} vs {cost}",
            rep.total_cost
        );
        assert!((rep.cost_per_good_part - cost / rep.good_parts as f64).abs() < 1e-9);
        // Parts end at t = 1, 2, ...; the one ending exactly at the horizon is outside [0, horizon).
        assert_eq!(rep.good_parts + rep.scrapped_parts, 5_999);
        assert_eq!(rep.revenue, 5.0 * rep.good_parts as f64);
    }
}
