//! The worked example of docs/impact.md: every figure the page prints is pinned here.

use millwright_impact::{
    impact_from_twin, Assumptions, BusinessInputs, ImpactModel, Months, PerMonth, PolicyRuns,
    Prices, ReplicationKpis, TwinComparison, TwinRuns,
};

fn month(
    good: f64,
    scrapped: f64,
    availability: f64,
    downtime: f64,
    failures: f64,
    actions: f64,
) -> ReplicationKpis {
    ReplicationKpis {
        window_hours: 720.0,
        planned_hours: 660.0,
        good_parts: good,
        scrapped_parts: scrapped,
        availability,
        downtime_hours: downtime,
        failures,
        maintenance_actions: actions,
    }
}

/// The page's two replications per policy (a month each).
pub fn example() -> TwinRuns {
    TwinRuns {
        run_id: "example".into(),
        seed: None,
        current_policy: Some("preventive".into()),
        prices: Prices {
            part_value: 85.0,
            operating_per_hour: 600.0,
            downtime_per_hour: 900.0,
            corrective_repair: 400.0,
            preventive_maintenance: 60.0,
            scrap: 25.0,
        },
        // The line file's `[business]`: the documented example takes its costs from there.
        business: BusinessInputs {
            investment: Some(120_000.0),
            running_cost: Some(PerMonth(2_000.0)),
            horizon: Some(Months(36)),
            ..BusinessInputs::default()
        },
        policies: vec![
            PolicyRuns {
                policy: "preventive".into(),
                replications: vec![
                    month(29_800.0, 310.0, 0.89, 9.0, 22.0, 150.0),
                    month(30_200.0, 290.0, 0.91, 7.0, 18.0, 150.0),
                ],
            },
            PolicyRuns {
                policy: "predictive".into(),
                replications: vec![
                    month(31_300.0, 285.0, 0.93, 3.6, 9.0, 88.0),
                    month(31_700.0, 275.0, 0.95, 2.8, 7.0, 92.0),
                ],
            },
        ],
    }
}

fn round(x: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (x * k).round() / k
}

#[test]
fn the_documented_worked_example() {
    let comparison = TwinComparison {
        resamples: 200,
        ..TwinComparison::default()
    };
    let r = impact_from_twin(
        &ImpactModel::standard(),
        &Assumptions::default(),
        &example(),
        &comparison,
    )
    .unwrap();
    let p = &r.productivity;
    let figures = [
        ("P0", p.baseline.mean, 4),
        ("P1", p.ai.mean, 4),
        ("P1/P0", p.ratio.unwrap().mean, 6),
        ("V0", r.value.baseline.mean, 2),
        ("V1", r.value.ai.mean, 2),
        ("V1/V0", r.value.ratio.unwrap().mean, 6),
        ("A0", r.drivers[0].baseline.mean, 4),
        ("A1", r.drivers[0].ai.mean, 4),
        ("r_A", r.drivers[0].ratio.mean, 6),
        ("S0", r.drivers[1].baseline.mean, 4),
        ("S1", r.drivers[1].ai.mean, 4),
        ("r_S", r.drivers[1].ratio.mean, 6),
        ("Y0", r.drivers[2].baseline.mean, 6),
        ("Y1", r.drivers[2].ai.mean, 6),
        ("r_Y", r.drivers[2].ratio.mean, 6),
        ("m0", r.drivers[3].baseline.mean, 4),
        ("m1", r.drivers[3].ai.mean, 4),
        ("r_m", r.drivers[3].ratio.mean, 6),
        ("alpha_A", r.drivers[0].alpha.mean, 6),
        ("alpha_S", r.drivers[1].alpha.mean, 6),
        ("alpha_Y", r.drivers[2].alpha.mean, 6),
        ("alpha_m", r.drivers[3].alpha.mean, 6),
        ("f_P", r.f_productivity.mean, 6),
        ("f_V", r.f_value.unwrap().mean, 6),
        (
            "benefit",
            r.business.as_ref().unwrap().monthly_benefit.mean,
            0,
        ),
        ("net", r.business.as_ref().unwrap().net_monthly.mean, 0),
        (
            "payback",
            r.business.as_ref().unwrap().payback.months.unwrap(),
            2,
        ),
        ("npv", r.business.as_ref().unwrap().npv.mean, 0),
        ("roi", r.business.as_ref().unwrap().roi.unwrap().mean, 4),
    ];
    let printed: Vec<String> = figures
        .iter()
        .map(|(name, value, digits)| format!("{name} = {}", round(*value, *digits)))
        .collect();
    let expected: &[&str] = &[
        "P0 = 45.4545",
        "P1 = 47.7273",
        "P1/P0 = 1.05",
        "V0 = 3215.61",
        "V1 = 3428.82",
        "V1/V0 = 1.066305",
        "A0 = 0.9",
        "A1 = 0.94",
        "r_A = 1.044444",
        "S0 = 51.0101",
        "S1 = 51.225",
        "r_S = 1.004213",
        "Y0 = 0.990099",
        "Y1 = 0.991189",
        "r_Y = 1.001101",
        "m0 = 70.7433",
        "m1 = 71.8419",
        "r_m = 1.015529",
        "alpha_A = 0.044444",
        "alpha_S = 0.004216",
        "alpha_Y = 0.001104",
        "alpha_m = 0.015529",
        "f_P = 1.05",
        "f_V = 1.066305",
        "benefit = 142772",
        "net = 140772",
        "payback = 0.85",
        "npv = 4390809",
        "roi = 41.2317",
    ];
    assert_eq!(printed, expected, "docs/impact.md prints these figures");
    assert!(r.twin.recomposition_error < 1e-12);
}
