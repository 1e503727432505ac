//! The measured business case from a twin run's replications: totals, the exact recomposition of the α,
//! intervals, money, sensitivity and the refusals.

use millwright_impact::{
    impact_from_twin, Assumptions, BusinessInputs, Driver, Given, ImpactError, ImpactModel,
    Investment, MeasuredImpact, PerMonth, PolicyRuns, Prices, ReplicationKpis, TwinComparison,
    TwinRuns,
};

const PRICES: Prices = Prices {
    part_value: 85.0,
    operating_per_hour: 600.0,
    downtime_per_hour: 900.0,
    corrective_repair: 400.0,
    preventive_maintenance: 60.0,
    scrap: 25.0,
};

/// One replication of 720 h with 660 planned hours.
fn rep(
    good: f64,
    scrapped: f64,
    availability: f64,
    failures: f64,
    actions: f64,
) -> ReplicationKpis {
    ReplicationKpis {
        window_hours: 720.0,
        planned_hours: 660.0,
        good_parts: good,
        scrapped_parts: scrapped,
        availability,
        downtime_hours: failures * 0.4,
        failures,
        maintenance_actions: actions,
    }
}

fn twin_runs(policies: Vec<(&str, Vec<ReplicationKpis>)>) -> TwinRuns {
    TwinRuns {
        run_id: "twin-test".into(),
        seed: Some(42),
        current_policy: Some("preventive".into()),
        prices: PRICES,
        business: BusinessInputs::default(),
        policies: policies
            .into_iter()
            .map(|(name, replications)| PolicyRuns {
                policy: name.into(),
                replications,
            })
            .collect(),
    }
}

/// Preventive (the current practice) and predictive differ by a replication-dependent amount.
fn standard_run() -> TwinRuns {
    let preventive = (0..10)
        .map(|i| {
            let i = f64::from(i);
            rep(
                30_000.0 + 50.0 * i,
                300.0 + i,
                0.90 + 0.002 * i,
                20.0 + i,
                150.0,
            )
        })
        .collect();
    let predictive = (0..10)
        .map(|i| {
            let i = f64::from(i);
            rep(
                31_500.0 + 80.0 * i,
                280.0 + i,
                0.94 + 0.001 * i,
                8.0 + 0.5 * i,
                90.0,
            )
        })
        .collect();
    twin_runs(vec![("preventive", preventive), ("predictive", predictive)])
}

fn measure(twin: &TwinRuns, comparison: &TwinComparison) -> Result<MeasuredImpact, ImpactError> {
    impact_from_twin(
        &ImpactModel::standard(),
        &Assumptions::default(),
        twin,
        comparison,
    )
}

#[test]
fn the_alphas_recompose_the_measured_ratios_on_every_resample() {
    let r = measure(&standard_run(), &TwinComparison::default()).unwrap();
    assert_eq!(r.twin.baseline_policy, "preventive");
    assert_eq!(r.twin.baseline_from, "line file (current_policy)");
    assert!(
        r.twin.recomposition_error < 1e-9,
        "{}",
        r.twin.recomposition_error
    );
    let p_ratio = r.productivity.ratio.unwrap();
    assert!((r.f_productivity.mean - p_ratio.mean).abs() < 1e-12);
    let v_ratio = r.value.ratio.unwrap().mean;
    assert!((r.f_value.unwrap().mean - v_ratio).abs() < 1e-9 * v_ratio);
    // The source formula over all paths is f_V; the path factors multiply to it.
    let f: f64 = r.formula.paths.iter().map(|p| p.factor.mean).product();
    assert!((r.formula.f_ai.mean - f).abs() < 1e-12);
    assert!((r.formula.f_ai.mean - v_ratio).abs() < 1e-9 * v_ratio);
    // P0 is the measured baseline: good parts per planned hour.
    let p0 = (0..10).map(|i| 30_000.0 + 50.0 * f64::from(i)).sum::<f64>() / 6600.0;
    assert!((r.productivity.baseline.mean - p0).abs() < 1e-9);
    assert!((r.formula.p0.mean - p0).abs() < 1e-9);
    // Every figure has an interval around its estimate.
    for e in [p_ratio, r.f_productivity, r.value.difference] {
        assert!(e.ci_low <= e.mean && e.mean <= e.ci_high, "{e:?}");
        assert!(e.ci_low < e.ci_high, "{e:?}");
    }
    let drivers: Vec<Driver> = r.drivers.iter().map(|d| d.driver).collect();
    assert_eq!(drivers, Driver::ALL);
}

#[test]
fn a_policy_that_changes_nothing_gives_one_with_an_interval_containing_one() {
    let same: Vec<_> = (0..8)
        .map(|i| rep(30_000.0 + 100.0 * f64::from(i), 300.0, 0.92, 10.0, 100.0))
        .collect();
    let twin = twin_runs(vec![("preventive", same.clone()), ("predictive", same)]);
    let r = measure(&twin, &TwinComparison::default()).unwrap();
    for e in [r.f_productivity, r.f_value.unwrap(), r.formula.f_ai] {
        assert!((e.mean - 1.0).abs() < 1e-12, "{e:?}");
        assert!(e.ci_low <= 1.0 && 1.0 <= e.ci_high, "{e:?}");
    }
    assert!(r.drivers.iter().all(|d| d.alpha.mean.abs() < 1e-12));
}

#[test]
fn a_policy_that_changes_only_scrap_moves_only_the_yield_term() {
    // Same parts finished, availability and failures; 200 fewer scrapped and so 200 more good parts.
    let base: Vec<_> = (0..6)
        .map(|_| rep(30_000.0, 600.0, 0.92, 10.0, 100.0))
        .collect();
    let ai: Vec<_> = (0..6)
        .map(|_| rep(30_200.0, 400.0, 0.92, 10.0, 100.0))
        .collect();
    let twin = twin_runs(vec![("preventive", base), ("predictive", ai)]);
    let r = measure(&twin, &TwinComparison::default()).unwrap();
    for d in &r.drivers {
        let moved = d.alpha.mean.abs() > 1e-12;
        match d.driver {
            Driver::Yield => assert!(moved && d.term == "smart_manufacturing.scrap_rate"),
            Driver::MarginPerGoodPart => {} // more good parts for the same cost: a better margin
            Driver::Availability | Driver::Speed => assert!(!moved, "{d:?}"),
        }
    }
    assert!((r.f_productivity.mean - 30_200.0 / 30_000.0).abs() < 1e-12);
}

#[test]
fn the_business_case_turns_the_monthly_gain_into_payback_and_npv() {
    let investment = Investment::new(120_000.0, 2_000.0, 36, 0.08).unwrap();
    let comparison = TwinComparison {
        business: business(120_000.0, 2_000.0),
        ..TwinComparison::default()
    };
    let r = measure(&standard_run(), &comparison).unwrap();
    let b = r.business.as_ref().unwrap();
    let per_month = r.value.difference.mean * (660.0 / 720.0) * millwright_impact::HOURS_PER_MONTH;
    assert!((b.monthly_benefit.mean - per_month).abs() < 1e-6);
    let cash = investment.evaluate(per_month);
    assert!((b.npv.mean - cash.npv).abs() < 1e-6);
    assert_eq!(b.payback.months, cash.payback_months);
    let months = b.payback.months.unwrap();
    assert!(b.payback.ci_low.unwrap() <= months && months <= b.payback.ci_high.unwrap());
    assert_eq!(b.never_pays_back_share, 0.0);
    // An AI system whose running cost eats the gain never pays back.
    let dear = TwinComparison {
        business: business(120_000.0, 1e9),
        ..TwinComparison::default()
    };
    let r = measure(&standard_run(), &dear).unwrap();
    let b = r.business.unwrap();
    assert_eq!(b.payback.months, None);
    assert_eq!(b.never_pays_back_share, 1.0);
    assert!(b.npv.mean < 0.0);
}

#[test]
fn prices_are_varied_for_the_sensitivity_rows() {
    let r = measure(&standard_run(), &TwinComparison::default()).unwrap();
    assert_eq!(r.sensitivity.len(), 6);
    let swings: Vec<f64> = r.sensitivity.iter().map(|row| row.swing()).collect();
    assert!(swings.windows(2).all(|w| w[0] >= w[1]), "{swings:?}");
    // The downtime price only matters through the change in downtime: fewer failures with AI, so a
    // dearer hour of downtime makes AI worth more.
    let downtime = r
        .sensitivity
        .iter()
        .find(|row| row.input == "price: downtime_per_hour")
        .unwrap();
    assert!(downtime.high.outcome.monthly_benefit > r.outcome.monthly_benefit);
    assert!(downtime.low.outcome.monthly_benefit < r.outcome.monthly_benefit);
    // Prices do not change how many parts are made.
    assert!(
        (downtime.high.outcome.productivity_ratio - r.outcome.productivity_ratio).abs() < 1e-12
    );
}

#[test]
fn the_baseline_defaults_to_the_current_practice_and_is_refused_when_unknown() {
    let mut twin = standard_run();
    twin.current_policy = None;
    let err = measure(&twin, &TwinComparison::default()).unwrap_err();
    assert!(matches!(err, ImpactError::NoBaseline { .. }), "{err}");
    assert!(err.to_string().contains("--baseline"), "{err}");
    let given = TwinComparison {
        baseline_policy: Some("preventive".into()),
        ..TwinComparison::default()
    };
    let r = measure(&twin, &given).unwrap();
    assert_eq!(r.twin.baseline_from, "given");
    let missing = TwinComparison {
        baseline_policy: Some("run-to-failure".into()),
        ..TwinComparison::default()
    };
    let err = measure(&twin, &missing).unwrap_err().to_string();
    assert!(
        err.contains("no baseline policy `run-to-failure`")
            && err.contains("preventive, predictive"),
        "{err}"
    );
}

#[test]
fn unpaired_invalid_and_same_policy_runs_are_refused() {
    let mut twin = standard_run();
    twin.policies[1].replications.pop();
    let err = measure(&twin, &TwinComparison::default()).unwrap_err();
    assert!(
        matches!(err, ImpactError::UnpairedReplications { .. }),
        "{err}"
    );

    let mut twin = standard_run();
    twin.policies[0].replications[3].good_parts = f64::NAN;
    let err = measure(&twin, &TwinComparison::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("replication 3") && err.contains("good_parts"),
        "{err}"
    );

    let mut twin = standard_run();
    twin.prices.scrap = -1.0;
    let err = measure(&twin, &TwinComparison::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("`scrap`"), "{err}");

    let same = TwinComparison {
        baseline_policy: Some("predictive".into()),
        ..TwinComparison::default()
    };
    assert!(matches!(
        measure(&standard_run(), &same).unwrap_err(),
        ImpactError::SamePolicy { .. }
    ));
    let none = TwinComparison {
        resamples: 0,
        ..TwinComparison::default()
    };
    assert!(matches!(
        measure(&standard_run(), &none).unwrap_err(),
        ImpactError::NoResamples(0)
    ));
}

#[test]
fn levels_and_measured_alphas_cannot_be_given_with_a_twin_run() {
    let mut a = Assumptions::default();
    a.set_p0(Given::new(10.0, "--p0")).unwrap();
    let err = impact_from_twin(
        &ImpactModel::standard(),
        &a,
        &standard_run(),
        &TwinComparison::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("P0 (--p0)") && err.contains("measures"),
        "{err}"
    );

    let mut a = Assumptions::default();
    a.add_alpha_spec("digital_twin.system_stability=0.2")
        .unwrap();
    let err = impact_from_twin(
        &ImpactModel::standard(),
        &a,
        &standard_run(),
        &TwinComparison::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("system_stability") && err.contains("measured"),
        "{err}"
    );

    // A user-given α on a term the twin does not measure stays, and is shown as the user's.
    let mut a = Assumptions::default();
    a.add_alpha_spec("smart_manufacturing.supply_chain_management=0.02")
        .unwrap();
    let r = impact_from_twin(
        &ImpactModel::standard(),
        &a,
        &standard_run(),
        &TwinComparison::default(),
    )
    .unwrap();
    let measured = r.productivity.ratio.unwrap().mean;
    assert!(
        r.f_productivity.mean > measured + 0.019,
        "{} vs {measured}",
        r.f_productivity.mean
    );
    assert!(r.twin.recomposition_error < 1e-9);
}

#[test]
fn a_line_that_loses_money_has_no_value_ratio_but_a_difference() {
    let mut twin = standard_run();
    twin.prices.part_value = 1.0;
    let r = measure(&twin, &TwinComparison::default()).unwrap();
    assert!(r.value.baseline.mean < 0.0);
    assert_eq!(r.value.ratio, None);
    assert_eq!(r.f_value, None);
    assert!(r
        .drivers
        .iter()
        .all(|d| d.driver != Driver::MarginPerGoodPart));
    assert!(r.value.difference.mean > 0.0);
}

fn business(investment: f64, running_cost_per_month: f64) -> BusinessInputs {
    BusinessInputs {
        investment: Some(investment),
        running_cost: Some(PerMonth(running_cost_per_month)),
        ..BusinessInputs::default()
    }
}

#[test]
fn the_line_files_business_figures_apply_unless_the_request_gives_its_own() {
    let mut run = standard_run();
    run.business = BusinessInputs {
        currency: Some("CNY".into()),
        ..business(50_000.0, 1_000.0)
    };
    let from_line = measure(&run, &TwinComparison::default()).unwrap();
    let b = from_line
        .business
        .as_ref()
        .expect("the line declares an investment");
    assert_eq!(
        b.investment,
        Investment::new(50_000.0, 1_000.0, 36, 0.08).unwrap()
    );
    assert_eq!(b.currency, "CNY");
    let flags = TwinComparison {
        business: BusinessInputs {
            investment: Some(90_000.0),
            ..BusinessInputs::default()
        },
        ..TwinComparison::default()
    };
    let b = measure(&run, &flags).unwrap().business.unwrap();
    assert_eq!(
        b.investment,
        Investment::new(90_000.0, 1_000.0, 36, 0.08).unwrap()
    );
    // Without figures anywhere there is no business case, only the measured change.
    assert!(measure(&standard_run(), &TwinComparison::default())
        .unwrap()
        .business
        .is_none());
}
