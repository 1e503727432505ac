//! α measured from a twin run's replications: point values, intervals, propagation and the refusals.

use millwright_impact::{
    impact_from_twin, Assumptions, Given, ImpactError, ImpactModel, PolicyRuns, ReplicationKpis,
    TermSource, TwinComparison, TwinRuns,
};

fn replication(throughput: f64, scrap: f64, downtime: f64, cost: f64) -> ReplicationKpis {
    ReplicationKpis {
        throughput,
        scrap_rate: scrap,
        unplanned_downtime: downtime,
        cost_per_good_part: cost,
    }
}

fn twin_runs(policies: &[(&str, Vec<ReplicationKpis>)]) -> TwinRuns {
    TwinRuns {
        run_id: "twin-test".into(),
        seed: Some(42),
        policies: policies
            .iter()
            .map(|(name, reps)| PolicyRuns {
                policy: (*name).into(),
                replications: reps.clone(),
            })
            .collect(),
    }
}

fn baselines() -> Assumptions {
    let mut a = Assumptions::default();
    a.set_p0(Given::new(10.0, "--p0")).unwrap();
    a.set_v0(Given::new(5.0, "--v0")).unwrap();
    a
}

/// Baseline and AI differ by a replication-dependent amount, so the bootstrap has something to vary.
fn standard_run() -> TwinRuns {
    let baseline: Vec<_> = (0..8)
        .map(|i| replication(100.0 + i as f64, 0.04, 50.0 + 2.0 * i as f64, 10.0))
        .collect();
    let predictive: Vec<_> = (0..8)
        .map(|i| replication(110.0 + 2.0 * i as f64, 0.03, 20.0 + i as f64, 9.0))
        .collect();
    let preventive: Vec<_> = (0..8)
        .map(|_| replication(105.0, 0.035, 30.0, 9.5))
        .collect();
    twin_runs(&[
        ("run-to-failure", baseline),
        ("preventive", preventive),
        ("predictive", predictive),
    ])
}

#[test]
fn alphas_are_relative_changes_of_the_means_and_propagate_with_intervals() {
    let twin = standard_run();
    let r = impact_from_twin(
        &ImpactModel::standard(),
        &baselines(),
        &twin,
        &TwinComparison::default(),
    )
    .unwrap();

    // Means: throughput 103.5 → 117, scrap 0.04 → 0.03, downtime 57 → 23.5, cost 10 → 9.
    let manufacturing = &r.paths[0];
    let efficiency = &manufacturing.terms[0];
    assert_eq!(efficiency.source, TermSource::Measured);
    assert!((efficiency.alpha.mean - (117.0 / 103.5 - 1.0)).abs() < 1e-12);
    assert!((manufacturing.terms[1].alpha.mean - 0.25).abs() < 1e-12);
    assert_eq!(manufacturing.terms[2].source, TermSource::User);
    let twin_path = &r.paths[2];
    assert!((twin_path.terms[0].alpha.mean - (1.0 - 23.5 / 57.0)).abs() < 1e-12);
    assert!((twin_path.terms[2].alpha.mean - 0.1).abs() < 1e-12);
    assert_eq!(r.paths[1].factor.mean, 1.0);

    let f_ai: f64 = r.paths.iter().map(|p| p.factor.mean).product();
    assert!((r.f_ai.mean - f_ai).abs() < 1e-12);
    assert!((r.p1.mean - 10.0 * f_ai).abs() < 1e-9);
    assert!((r.v1.mean - 5.0 * f_ai).abs() < 1e-9);
    assert!((r.uplift.mean - (f_ai - 1.0)).abs() < 1e-12);

    // Varying KPIs give a real interval around the point; constant ones (scrap, cost) a degenerate one.
    for e in [r.f_ai, r.p1, r.v1, efficiency.alpha] {
        assert!(e.ci_low < e.mean && e.mean < e.ci_high, "{e:?}");
    }
    assert_eq!(manufacturing.terms[1].alpha.ci_low, 0.25);
    assert_eq!(r.p0.ci_low, 10.0);
    let source = r.twin.as_ref().unwrap();
    assert_eq!(
        (source.run_id.as_str(), source.replications, source.seed),
        ("twin-test", 8, Some(42))
    );
    assert_eq!(
        source.uncertainty.resamples_used,
        source.uncertainty.resamples
    );

    // Same seed, same intervals.
    let again = impact_from_twin(
        &ImpactModel::standard(),
        &baselines(),
        &twin,
        &TwinComparison::default(),
    )
    .unwrap();
    assert_eq!(again, r);
}

#[test]
fn a_run_without_the_baseline_policy_is_refused() {
    let twin = twin_runs(&[("predictive", vec![replication(1.0, 0.0, 1.0, 1.0)])]);
    let err = impact_from_twin(
        &ImpactModel::standard(),
        &baselines(),
        &twin,
        &TwinComparison::default(),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ImpactError::PolicyMissing { .. }), "{text}");
    assert!(
        text.contains("no baseline policy `run-to-failure`"),
        "{text}"
    );
    assert!(text.contains("its policies: predictive"), "{text}");
}

#[test]
fn unpaired_replications_and_same_policies_are_refused() {
    let twin = twin_runs(&[
        ("run-to-failure", vec![replication(1.0, 0.1, 1.0, 1.0); 3]),
        ("predictive", vec![replication(1.0, 0.1, 1.0, 1.0); 2]),
    ]);
    let err = impact_from_twin(
        &ImpactModel::standard(),
        &baselines(),
        &twin,
        &TwinComparison::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, ImpactError::UnpairedReplications { .. }),
        "{err}"
    );

    let same = TwinComparison {
        ai_policy: "run-to-failure".into(),
        ..TwinComparison::default()
    };
    let err = impact_from_twin(&ImpactModel::standard(), &baselines(), &twin, &same).unwrap_err();
    assert!(matches!(err, ImpactError::SamePolicy { .. }), "{err}");
}

#[test]
fn a_user_value_for_a_measured_alpha_is_refused() {
    let twin = standard_run();
    let mut a = baselines();
    a.add_alpha_spec("smart_manufacturing.scrap_rate=0.1")
        .unwrap();
    let err = impact_from_twin(
        &ImpactModel::standard(),
        &a,
        &twin,
        &TwinComparison::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("measured from twin run `twin-test`"), "{err}");

    // A factor for an unmeasured path is fine and is carried through as given.
    let mut a = baselines();
    a.add_factor_spec("smart_services=1.3").unwrap();
    let r = impact_from_twin(
        &ImpactModel::standard(),
        &a,
        &twin,
        &TwinComparison::default(),
    )
    .unwrap();
    assert_eq!(r.paths[1].factor.mean, 1.3);
}
