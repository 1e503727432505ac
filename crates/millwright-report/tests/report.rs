//! A report built from a complete fixture: files, sections, self-containment, summary consistency, and the
//! page as headless Chromium renders it.

mod support {
    pub mod chromium;
}

use std::collections::BTreeMap;
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use millwright_impact::{
    impact_from_twin, Assumptions, BusinessInputs, Estimate, ImpactModel, MeasuredImpact, PerMonth,
    PolicyRuns, Prices, ReplicationKpis, TwinComparison, TwinRuns,
};
use millwright_plot::plotters::prelude::*;
use millwright_report::{
    build, render_html, summarise, Candidate, ColumnQuality, ColumnStats, Curve, DataQuality,
    ImageRef, ModelExam, ModelSummary, PolicyKpis, Rate, Rates, ReportInput, ShadowExam, Summary,
    ThresholdPoint, ThresholdSearch, TwinSummary, SECTIONS,
};

const POLICIES: [&str; 3] = ["run-to-failure", "preventive", "predictive"];

const PRICES: Prices = Prices {
    part_value: 20.0,
    operating_per_hour: 600.0,
    downtime_per_hour: 900.0,
    corrective_repair: 400.0,
    preventive_maintenance: 60.0,
    scrap: 25.0,
};

/// Replication `i` of policy `p` (0 run-to-failure, 1 preventive, 2 predictive): 720 h, 660 planned; each
/// better policy makes more good parts with fewer failures, with a replication-dependent spread.
fn rep(p: usize, i: usize) -> ReplicationKpis {
    let (p, i) = (p as f64, i as f64);
    let failures = 30.0 - 10.0 * p + (i % 3.0);
    ReplicationKpis {
        window_hours: 720.0,
        planned_hours: 660.0,
        good_parts: 28_000.0 + 1_500.0 * p + 60.0 * i + 20.0 * p * (i % 4.0),
        scrapped_parts: 400.0 - 60.0 * p + 3.0 * i,
        availability: 0.86 + 0.04 * p + 0.002 * i,
        downtime_hours: failures * 0.5,
        failures,
        maintenance_actions: 20.0 + 60.0 * p,
    }
}

/// A small twin run as the twin would hand it over: three policies, ten paired replications, preventive
/// maintenance declared as the current practice.
fn twin_runs() -> TwinRuns {
    TwinRuns {
        run_id: "twin-fixture".into(),
        seed: Some(11),
        current_policy: Some("preventive".into()),
        prices: PRICES,
        business: BusinessInputs::default(),
        policies: POLICIES
            .iter()
            .enumerate()
            .map(|(p, name)| PolicyRuns {
                policy: (*name).into(),
                replications: (0..10).map(|i| rep(p, i)).collect(),
            })
            .collect(),
    }
}

/// The measured impact of predictive against the current practice, with `running_cost` per month.
fn measured(running_cost: Option<f64>) -> MeasuredImpact {
    let business = BusinessInputs {
        investment: running_cost.map(|_| 250_000.0),
        running_cost: running_cost.map(PerMonth),
        ..BusinessInputs::default()
    };
    impact_from_twin(
        &ImpactModel::standard(),
        &Assumptions::default(),
        &twin_runs(),
        &TwinComparison {
            resamples: 300,
            business,
            ..TwinComparison::default()
        },
    )
    .unwrap()
}

/// Mean with the range's middle two thirds as a stand-in CI (the twin's own summary is not under test).
fn kpis_of(p: usize) -> BTreeMap<String, Estimate> {
    let reps: Vec<ReplicationKpis> = (0..10).map(|i| rep(p, i)).collect();
    type Kpi = fn(&ReplicationKpis) -> f64;
    let kpis: [(&str, Kpi); 5] = [
        ("throughput", |r| r.good_parts / r.planned_hours),
        ("scrap_rate", |r| {
            r.scrapped_parts / (r.good_parts + r.scrapped_parts)
        }),
        ("unplanned_downtime", |r| r.downtime_hours),
        ("cost_per_good_part", |r| PRICES.cost(r) / r.good_parts),
        ("availability", |r| r.availability),
    ];
    let mut out = BTreeMap::new();
    for (kpi, of) in kpis {
        let values: Vec<f64> = reps.iter().map(of).collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let spread = values.iter().map(|v| (v - mean).abs()).fold(0.0, f64::max) / 3.0;
        out.insert(
            kpi.to_owned(),
            Estimate {
                mean,
                ci_low: mean - spread,
                ci_high: mean + spread,
            },
        );
    }
    out
}

fn model_exam() -> ModelExam {
    ModelExam {
        threshold: 0.3,
        threshold_source: "the model's registered threshold".into(),
        offline: Some(Rates {
            recall: Rate::wilson(58, 70).unwrap(),
            precision: Rate::wilson(58, 88).unwrap(),
        }),
        twin: Rates {
            recall: Rate::wilson(201, 260).unwrap(),
            precision: Rate::wilson(201, 330).unwrap(),
        },
        shadow: Some(ShadowExam {
            policy: "run-to-failure".into(),
            rates: Rates {
                recall: Rate::wilson(240, 290).unwrap(),
                precision: Rate::wilson(240, 380).unwrap(),
            },
            warned: Rate::wilson(250, 290),
            mean_lead_time_hours: Some(0.42),
        }),
        note: "Inside the twin the model sees noisy sensors and failures it cannot see.".into(),
    }
}

/// A PNG "training plot" as the learn side would write one.
fn write_png(path: &Path) {
    let root = BitMapBackend::new(path, (320, 200)).into_drawing_area();
    root.fill(&WHITE).unwrap();
    root.draw(&Rectangle::new([(20, 20), (300, 180)], BLUE.filled()))
        .unwrap();
    root.present().unwrap();
}

fn stats(missing: u64, mean: f64) -> ColumnStats {
    ColumnStats {
        count: 1000 - missing,
        missing,
        distinct: 900,
        min: Some(serde_json::json!(295.3)),
        max: Some(serde_json::json!(304.5)),
        mean: Some(mean),
        std: Some(2.0),
    }
}

pub fn fixture(dir: &Path) -> ReportInput {
    let impact = measured(Some(5_000.0));
    let png = dir.join("loss.png");
    write_png(&png);
    let metrics: BTreeMap<String, f64> = [("accuracy", 0.97), ("recall", 0.81), ("roc_auc", 0.96)]
        .map(|(k, v)| (k.to_owned(), v))
        .into();
    ReportInput {
        title: "Millwright report <fixture>".into(),
        generated_at: "2026-11-28T17:00:00Z".into(),
        millwright_version: "0.1.0".into(),
        data_quality: Some(DataQuality {
            dataset: "ai4i".into(),
            lake_version: Some(1),
            ingest_id: "ing-1".into(),
            source: None,
            rows_read: 1010,
            rows_written: 1000,
            rows_quarantined: 10,
            quarantined_by_reason: [
                ("out of bounds".to_owned(), 7),
                ("unparsable".to_owned(), 3),
            ]
            .into(),
            duplicates_removed: 2,
            columns: vec![ColumnQuality {
                name: "Air temperature [K]".into(),
                kind: "float".into(),
                before: stats(12, 300.1),
                after: stats(0, 300.0),
                actions: serde_json::json!({"missing_rule": "median", "filled": 12, "dropped_missing": 0}),
            }],
            constant_columns: vec![],
            empty_columns: vec![],
        }),
        model: Some(ModelSummary {
            name: "failure".into(),
            version: 2,
            kind: "gbdt".into(),
            target: "Machine failure".into(),
            run_id: Some("run-7".into()),
            dataset: "ai4i".into(),
            lake_version: Some(1),
            threshold: 0.3,
            threshold_rule: "max f1".into(),
            metrics: metrics.clone(),
            confusion_matrix: Some([[1900, 30], [12, 58]]),
            curves: vec![Curve {
                title: "ROC".into(),
                x_label: "false positive rate".into(),
                y_label: "true positive rate".into(),
                note: "AUC 0.96".into(),
                points: vec![(0.0, 0.0), (0.05, 0.7), (0.2, 0.9), (1.0, 1.0)],
                diagonal: true,
            }],
            images: vec![ImageRef {
                title: "training loss".into(),
                path: png,
            }],
            candidates: vec![
                Candidate {
                    name: "failure-mlp".into(),
                    kind: "mlp".into(),
                    metrics: metrics.clone(),
                    chosen: false,
                },
                Candidate {
                    name: "failure@2".into(),
                    kind: "gbdt".into(),
                    metrics,
                    chosen: true,
                },
            ],
        }),
        twin: TwinSummary {
            run_id: "twin-fixture".into(),
            seed: Some(11),
            replications: 10,
            horizon: 8760.0,
            time_unit: "h".into(),
            line: "milling".into(),
            model: Some("failure@2".into()),
            baseline_policy: "preventive".into(),
            ai_policy: "predictive".into(),
            policies: (0..3)
                .map(|p| PolicyKpis {
                    policy: POLICIES[p].into(),
                    kpis: kpis_of(p),
                })
                .collect(),
            threshold: Some(ThresholdSearch {
                run_id: "twin-threshold".into(),
                best: 0.3,
                objective: "cost_per_good_part".into(),
                minimise: true,
                points: (1..=9)
                    .map(|i| {
                        let t = i as f64 / 10.0;
                        let v = 9.0 + (t - 0.3).powi(2);
                        ThresholdPoint {
                            threshold: t,
                            value: Estimate {
                                mean: v,
                                ci_low: v - 0.1,
                                ci_high: v + 0.1,
                            },
                        }
                    })
                    .collect(),
            }),
            images: vec![],
        },
        impact,
        model_exam: Some(model_exam()),
        unavailable: BTreeMap::new(),
        notes: vec![],
    }
}

/// Every chart and plot of the fixture: quarantine, ROC, loss PNG, 5 KPI charts, threshold, cash flow,
/// tornado, path factors.
const IMAGES: usize = 12;

/// The section ids in the order the page has them.
fn section_ids(html: &str) -> Vec<&str> {
    html.split("<section id=\"")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect()
}

/// The SVG behind the `<img>` with alt text `alt`.
fn svg_by_alt(html: &str, alt: &str) -> String {
    let tag = html
        .split("<img ")
        .find(|t| t.contains(&format!("alt=\"{alt}\"")))
        .unwrap_or_else(|| panic!("no image {alt:?}"));
    let data = tag
        .split("src=\"data:image/svg+xml;base64,")
        .nth(1)
        .unwrap_or_else(|| panic!("{alt:?} is not an embedded SVG"));
    let data = &data[..data.find('"').unwrap()];
    String::from_utf8(STANDARD.decode(data).unwrap()).unwrap()
}

/// The page of `input`, without writing files.
fn page(input: ReportInput) -> (String, Summary) {
    let summary = summarise(input);
    (render_html(&summary).unwrap(), summary)
}

#[test]
fn report_is_one_self_contained_file_with_every_section_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (files, _) = build(fixture(dir.path()), &dir.path().join("out")).unwrap();
    let html = std::fs::read_to_string(&files.html).unwrap();
    let ids: Vec<&str> = SECTIONS.iter().map(|(id, _)| *id).collect();
    assert_eq!(section_ids(&html), ids);
    assert_eq!(
        ids,
        [
            "summary",
            "business",
            "sensitivity",
            "model-exam",
            "data-quality",
            "model",
            "policies",
            "threshold",
            "impact",
            "lineage"
        ]
    );
    for (_, heading) in SECTIONS {
        assert!(html.contains(&format!("<h2>{heading}</h2>")), "{heading}");
    }
    // Self-contained: no reference to any other file or host, no script.
    for forbidden in ["http://", "https://", "src=\"file", "<script", "<link"] {
        assert!(!html.contains(forbidden), "report contains {forbidden:?}");
    }
    assert!(html.contains("&lt;fixture&gt;"), "title must be escaped");
    assert_eq!(html.matches("<img src=\"data:image/").count(), IMAGES);
    assert!(html.contains("data:image/png;base64,"));
}

#[test]
fn the_headline_leads_with_the_change_against_current_practice_in_english_and_chinese() {
    let dir = tempfile::tempdir().unwrap();
    let (html, summary) = page(fixture(dir.path()));
    let m = &summary.input.impact;
    let keys: Vec<&str> = summary.headline.iter().map(|h| h.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "productivity_change",
            "value_change",
            "payback_months",
            "npv"
        ]
    );
    let labels = [
        ("Productivity vs current practice", "相对现行做法的生产率"),
        (
            "Margin per planned hour vs current practice",
            "相对现行做法的每计划小时利润",
        ),
        ("Payback", "投资回收期"),
        ("Net present value", "净现值"),
    ];
    for (h, (en, zh)) in summary.headline.iter().zip(labels) {
        assert_eq!((h.label.as_str(), h.label_zh.as_str()), (en, zh));
        assert!(
            html.contains(&format!("id=\"headline-{}\"", h.key)),
            "{}",
            h.key
        );
        assert!(html.contains(en) && html.contains(zh), "{en} / {zh}");
        assert!(!h.unit.is_empty() && !h.text.is_empty(), "{h:?}");
    }
    // The productivity card is P1/P0 − 1 with its interval, the NPV card the business case's NPV.
    let ratio = m.productivity.ratio.unwrap();
    let p = summary.headline[0].value.unwrap();
    assert_eq!(summary.headline[0].unit, millwright_report::FRACTION);
    assert!((p.mean - (ratio.mean - 1.0)).abs() < 1e-15 && p.ci_low < p.mean && p.mean < p.ci_high);
    assert!(
        p.mean > 0.0,
        "predictive makes more good parts in the fixture"
    );
    let b = m.business.as_ref().unwrap();
    assert_eq!(summary.headline[3].value, Some(b.npv));
    assert_eq!(summary.headline[3].unit, "EUR");
    let months = b.payback.months.unwrap();
    assert_eq!(summary.headline[2].value.unwrap().mean, months);
    assert_eq!(summary.headline[2].text, format!("{months:.1} months"));
    // The plain sentences name the baseline as the current practice and say what the intervals cover.
    let text = html.split("<p id=\"summary-text\">").nth(1).unwrap();
    let text = text[..text.find("</p>").unwrap()].replace("&#39;", "'");
    assert!(
        text.contains(
            "Against preventive, the plant's current practice, the AI policy predictive makes"
        ) && text.contains(&format!("pays back in {months:.1} months"))
            && text.contains("not whether the twin is right about the plant")
            && text.contains("It depends most on price: part_value (-25 % … +25 %): the benefit"),
        "{text}"
    );
}

#[test]
fn the_business_case_draws_the_cash_flow_and_the_sensitivity_a_tornado() {
    let dir = tempfile::tempdir().unwrap();
    let (html, summary) = page(fixture(dir.path()));
    let m = &summary.input.impact;
    let business = &html[html.find("<section id=\"business\">").unwrap()..];
    let business = &business[..business.find("</section>").unwrap()];
    for row in [
        "Investment (month 0)",
        "Running cost",
        "Horizon",
        "Discount rate",
        "Net gain",
        "Payback",
        "Net present value",
        "Return on investment",
    ] {
        assert!(business.contains(row), "{row}");
    }
    assert!(business.contains("250,000") && business.contains("EUR/month"));
    let cash = svg_by_alt(&html, "cumulative cash flow over the horizon");
    for text in [
        "Cumulative cash flow",
        "months after the investment",
        "cumulative net cash, EUR",
        "payback",
    ] {
        assert!(cash.contains(text), "cash-flow chart lacks {text:?}");
    }

    assert_eq!(m.sensitivity.len(), 6);
    let tornado = svg_by_alt(&html, "what moves the benefit per month");
    assert!(tornado.contains("benefit per month, EUR/month"));
    for row in &m.sensitivity {
        assert!(tornado.contains(&row.input), "{}", row.input);
        assert!(html.contains(&row.input));
    }
    assert!(tornado.contains("-25 %") && tornado.contains("+25 %"));
    assert!(html.contains("<table id=\"sensitivity-table\">"));
}

#[test]
fn an_investment_that_never_pays_back_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut input = fixture(dir.path());
    input.impact = measured(Some(1e9));
    let (html, summary) = page(input);
    let payback = &summary.headline[2];
    assert_eq!(payback.key, "payback_months");
    assert_eq!(
        (payback.value, payback.text.as_str()),
        (None, "does not pay back")
    );
    assert!(
        payback.detail.contains("does not cover the running cost"),
        "{}",
        payback.detail
    );
    assert!(html.contains("it does not pay back: the measured gain of"));
    assert!(!svg_by_alt(&html, "cumulative cash flow over the horizon").contains("payback"));

    // Without an investment there is no payback, NPV or cash flow, and the page says why.
    let mut input = fixture(dir.path());
    input.impact = measured(None);
    let (html, summary) = page(input);
    for card in &summary.headline[2..] {
        assert_eq!(
            (card.value, card.text.as_str()),
            (None, "no investment given")
        );
    }
    assert!(html.contains("Not available: no investment given"));
    assert_eq!(html.matches("<img src=\"data:image/").count(), IMAGES - 1);
}

#[test]
fn the_model_exam_sets_the_twin_beside_the_test_split() {
    let dir = tempfile::tempdir().unwrap();
    let (html, _) = page(fixture(dir.path()));
    let exam = &html[html.find("<section id=\"model-exam\">").unwrap()..];
    let exam = &exam[..exam.find("</section>").unwrap()];
    assert!(exam.contains("<table id=\"model-exam-table\">"));
    assert!(
        exam.contains("<b id=\"exam-threshold\">0.3</b> (the model&#39;s registered threshold)")
    );
    // 58 of 70 = 82.9 %, Wilson 95 % interval [72.4 %, 89.9 %].
    assert!(
        exam.contains("82.9 % <span class=\"ci\">[72.4 %, 89.9 %]</span> (58 of 70)"),
        "{exam}"
    );
    assert!(exam.contains("(201 of 260)") && exam.contains("(201 of 330)"));
    assert!(exam.contains("in shadow on run-to-failure") && exam.contains("(240 of 290)"));
    assert!(exam.contains("lead time: mean 0.42 h") && exam.contains("(250 of 290)"));
    assert!(exam.contains("noisy sensors"));
    // The shadow figures (like for like) are compared with the offline interval.
    assert_eq!(exam.matches("<td>yes</td>").count(), 2, "{exam}");
    let mut far = fixture(dir.path());
    let shadow = far.model_exam.as_mut().unwrap().shadow.as_mut().unwrap();
    shadow.rates.recall = Rate::wilson(100, 290).unwrap();
    let (html, _) = page(far);
    let exam = &html[html.find("<section id=\"model-exam\">").unwrap()..];
    assert_eq!(
        exam[..exam.find("</section>").unwrap()]
            .matches("<td>no</td>")
            .count(),
        1
    );

    let mut input = fixture(dir.path());
    input.model_exam = None;
    let (html, _) = page(input);
    assert!(html.contains("Not available: the AI policy&#39;s model was not examined"));
}

#[test]
fn wilson_intervals_stay_inside_zero_and_one() {
    let r = Rate::wilson(58, 70).unwrap();
    assert!((r.value - 58.0 / 70.0).abs() < 1e-15);
    assert!(
        // p = 58/70, z = 1.96: centre (p + z²/2n)/(1 + z²/n) = 0.81149, half-width 0.08765.
        (r.ci_low - 0.72383).abs() < 1e-5 && (r.ci_high - 0.89912).abs() < 1e-5,
        "{r:?}"
    );
    let all = Rate::wilson(5, 5).unwrap();
    assert!(
        all.ci_high == 1.0 && all.ci_low > 0.5 && all.ci_low < 1.0,
        "{all:?}"
    );
    assert_eq!(Rate::wilson(0, 10).unwrap().ci_low, 0.0);
    assert_eq!(Rate::wilson(0, 0), None);
    assert_eq!(Rate::wilson(3, 2), None);
}

#[test]
fn the_decomposition_recomposes_the_measured_ratio_and_labels_the_source_formula() {
    let dir = tempfile::tempdir().unwrap();
    let (html, summary) = page(fixture(dir.path()));
    let m = &summary.input.impact;
    let section = &html[html.find("<section id=\"impact\">").unwrap()..];
    assert!(section.contains("<table id=\"drivers\">"));
    for d in &m.drivers {
        assert!(
            section.contains(&format!("<code>{}</code>", d.term)),
            "{}",
            d.term
        );
    }
    let recomposition = section.split("<p id=\"recomposition\">").nth(1).unwrap();
    let recomposition = &recomposition[..recomposition.find("</p>").unwrap()];
    let p_ratio = millwright_impact::format_number(m.productivity.ratio.unwrap().mean);
    assert!(
        recomposition.contains(&format!("P1/P0 = {p_ratio}")),
        "{recomposition}"
    );
    assert!(
        recomposition.contains("V1/V0") && recomposition.contains("Largest relative difference")
    );
    assert!(m.twin.recomposition_error < 1e-9);
    assert!(
        section.contains("The source document&#39;s formula: a simplification")
            || section.contains("The source document's formula: a simplification")
    );
    assert!(section.contains("<table id=\"breakdown\">"));
    assert!(section.contains(&millwright_impact::format_number(m.formula.f_ai.mean)));
}

/// `a` and `b` alike: the same structure, strings, integers and booleans, floats within 1e-15 relative.
fn same_json(a: &serde_json::Value, b: &serde_json::Value, path: &str) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys = |m: &serde_json::Map<String, Value>| m.keys().cloned().collect::<Vec<_>>();
            assert_eq!(keys(x), keys(y), "{path}");
            for (k, v) in x {
                same_json(v, &y[k], &format!("{path}.{k}"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{path}");
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                same_json(v, w, &format!("{path}[{i}]"));
            }
        }
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-15 * x.abs().max(y.abs()),
                "{path}: {x} vs {y}"
            );
        }
        _ => assert_eq!(a, b, "{path}"),
    }
}

#[test]
fn summary_json_round_trips_and_names_the_lineage() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixture(dir.path());
    let (files, summary) = build(input.clone(), &dir.path().join("out")).unwrap();
    let text = std::fs::read_to_string(&files.summary).unwrap();
    let read: Summary = serde_json::from_str(&text).unwrap();
    // Every field comes back: the typed summary read from the file serialises to the same JSON as the one
    // written, floats to 1e-15 (serde_json's default parser may miss the last bit: 0.9089999999999999 reads
    // back as 0.909), everything else exactly.
    same_json(
        &serde_json::to_value(&read).unwrap(),
        &serde_json::to_value(&summary).unwrap(),
        "summary",
    );
    assert_eq!(read.headline.len(), 4);
    assert_eq!(read.input.model_exam, Some(model_exam()));
    assert_eq!(read.lineage, summary.lineage);
    assert_eq!(read.input.title, input.title);

    let figures: Vec<&str> = read.lineage.iter().map(|l| l.figure.as_str()).collect();
    assert_eq!(
        figures,
        [
            "Productivity impact",
            "Business case",
            "Sensitivity",
            "Model exam",
            "Data quality",
            "Model metrics, curves and confusion matrix",
            "Policy comparison",
            "Optimised threshold",
        ]
    );
    let source = |figure: &str| {
        read.lineage
            .iter()
            .find(|l| l.figure == figure)
            .map(|l| l.source.as_str())
            .unwrap()
    };
    let impact = source("Productivity impact");
    for part in [
        "twin run twin-fixture (seed 11)",
        "`predictive` against `preventive` (baseline: line file (current_policy))",
        "10 paired replications",
        "300 of 300 resamples used",
        "digital_twin.system_stability (availability)",
        "no α given by the user",
        "recompose",
    ] {
        assert!(impact.contains(part), "{part:?} in {impact}");
    }
    assert!(source("Business case").contains(
        "investment 250,000 EUR at month 0, running cost 5,000 EUR/month, 36 months, discount rate 8 %/year"
    ));
    assert!(source("Sensitivity").contains("price: downtime_per_hour -25 % … +25 % (price)"));
    assert!(source("Model exam").contains("the model's registered threshold"));
    assert!(source("Model metrics, curves and confusion matrix").contains("failure@2"));
}

#[test]
fn a_user_given_alpha_is_named_in_the_lineage_and_the_decomposition() {
    let mut assumptions = Assumptions::default();
    assumptions
        .add_alpha_spec("smart_manufacturing.supply_chain_management=0.02")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut input = fixture(dir.path());
    input.impact = impact_from_twin(
        &ImpactModel::standard(),
        &assumptions,
        &twin_runs(),
        &TwinComparison {
            resamples: 200,
            ..TwinComparison::default()
        },
    )
    .unwrap();
    let (html, summary) = page(input);
    let given = "user-given: α smart_manufacturing.supply_chain_management from --alpha \
                 smart_manufacturing.supply_chain_management=0.02";
    assert!(
        summary.lineage[0].source.contains(given),
        "{}",
        summary.lineage[0].source
    );
    assert!(html.contains("The user's α multiply in beside the measured ones"));
    assert!(html.contains("user-given (--alpha smart_manufacturing.supply_chain_management=0.02)"));
}

#[test]
fn missing_sections_say_why_and_a_bad_image_names_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut input = fixture(dir.path());
    input.data_quality = None;
    input.twin.threshold = None;
    input.unavailable.insert(
        "data-quality".into(),
        "no quality report for dataset `x`".into(),
    );
    let (files, _) = build(input.clone(), &dir.path().join("out")).unwrap();
    let html = std::fs::read_to_string(&files.html).unwrap();
    assert!(html.contains("Not available: no quality report for dataset `x`."));
    assert!(html.contains("used alarm threshold 0.3 (the model&#39;s registered threshold)"));
    input.model_exam = None;
    let (html, _) = page(input.clone());
    assert!(html.contains("model's own decision threshold, 0.3"));

    input.model.as_mut().unwrap().images[0].path = dir.path().join("gone.png");
    let err = build(input, &dir.path().join("out2"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("gone.png"), "{err}");
}

#[test]
fn report_renders_in_headless_chromium() {
    if support::chromium::chromium().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (files, _) = build(fixture(dir.path()), &dir.path().join("out")).unwrap();
    let check = support::chromium::open(&files.html, dir.path());
    assert!(check.errors.is_empty(), "page errors: {:?}", check.errors);
    assert!(
        check.console.is_empty(),
        "console messages: {:?}",
        check.console
    );
    let expected: Vec<&str> = SECTIONS.iter().map(|(id, _)| *id).collect();
    assert_eq!(check.sections, expected);
    assert_eq!(check.images.len(), IMAGES);
    for image in &check.images {
        assert!(
            !image.alt.is_empty()
                && image.w > 0
                && image.h > 0
                && image.box_w > 0.0
                && image.box_h > 0.0,
            "image not rendered: {image:?}"
        );
    }
}

/// The probe itself must be able to fail: an image from the network is blocked and reported.
#[test]
fn chromium_probe_catches_a_network_image() {
    if support::chromium::chromium().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (files, _) = build(fixture(dir.path()), &dir.path().join("out")).unwrap();
    let html = std::fs::read_to_string(&files.html).unwrap().replacen(
        "</body>",
        "<img alt=\"remote\" src=\"https://example.invalid/x.png\"></body>",
        1,
    );
    std::fs::write(&files.html, html).unwrap();
    let check = support::chromium::open(&files.html, dir.path());
    assert!(!check.errors.is_empty(), "a blocked image must be reported");
    let remote = check.images.iter().find(|i| i.alt == "remote").unwrap();
    assert_eq!(remote.w, 0);
}
