//! The whole platform on the embedded default, as one use case: the twin emits AI4I-style records of the
//! example line → ingest and cleaning (quality report) → the reference MLP and a gradient-boosted model are
//! cross-validated on the training rows and the better one is trained and registered, as a tracked run →
//! the twin optimises the predictive threshold and compares run-to-failure, preventive and predictive
//! maintenance → α measured from that comparison → the report. The test split is only reported on.

use std::path::{Path, PathBuf};

use millwright_impact::{
    format_number, BusinessInputs, SensitivityRow, TwinComparison, DEFAULT_BOOTSTRAP_SEED,
};
use millwright_learn::metrics::ThresholdRule;
use millwright_learn::model::ModelKind;
use millwright_learn::registry;
use millwright_learn::train::{CvScore, KindChoice, TestMetrics, TrainOutcome, TrainRequest};
use millwright_report::{Candidate, Curve, Headline, LineageEntry};
use millwright_twin::{
    optimize, policy_from_name, store_result, Knob, Line, Objective, PolicyParams, RunOptions,
    EXAMPLE_LINE,
};
use serde::Serialize;

use crate::data::{create_or_overwrite, ingest, IngestRequest};
use crate::error::{blocking, Context, Result};
use crate::impact::ImpactRequest;
use crate::learn::{train, TrainJob, TrainingData};
use crate::observer::StepTiming;
use crate::report::{report, OfflineExam, ReportRequest};
use crate::sensitivity::{simulated_rows, Variation};
use crate::{Home, Observer};

#[derive(Debug, Clone)]
pub struct DemoRequest {
    /// Reduced sizes (records, epochs, replications, resamples) for CI; the figures are noisier.
    pub quick: bool,
    /// Records the twin emits (default 525 600, a year of one part a minute; 3 000 when quick).
    pub records: Option<u64>,
    /// What the AI system costs, over the example line's `[business]` table (these win).
    pub business: BusinessInputs,
    /// Seed of every random choice (emission, split, training, simulation).
    pub seed: u64,
}

impl Default for DemoRequest {
    fn default() -> Self {
        DemoRequest {
            quick: false,
            records: None,
            business: BusinessInputs::default(),
            seed: 7,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DemoOutcome {
    pub html: PathBuf,
    pub summary: PathBuf,
    pub headline: Vec<Headline>,
    /// The registered model, `failure@N`.
    pub model: String,
    /// Versions of `failure` this home held before the demo added its own.
    pub earlier_versions: Vec<u32>,
    /// The training run (`millwright runs show RUN`).
    pub run: Option<String>,
    /// The baseline policy (the line's current practice).
    pub baseline: String,
    pub twin_run: String,
    pub threshold_run: String,
    pub seconds: f64,
    pub steps: Vec<StepTiming>,
}

/// The sizes of one demo run.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    records: u64,
    epochs: usize,
    gbdt_trees: Option<usize>,
    cv_folds: usize,
    replications: usize,
    /// Minutes simulated per replication (the example line's unit).
    horizon: f64,
    warmup: f64,
    threshold_replications: usize,
    resamples: usize,
}

impl Sizes {
    fn new(quick: bool, records: Option<u64>) -> Sizes {
        let day = 24.0 * 60.0;
        let mut sizes = if quick {
            Sizes {
                records: 3_000,
                epochs: 10,
                gbdt_trees: Some(30),
                cv_folds: 3,
                replications: 4,
                horizon: 4.0 * day,
                warmup: 0.5 * day,
                threshold_replications: 2,
                resamples: 300,
            }
        } else {
            Sizes {
                // A year of parts at the station's mean cycle of one minute.
                records: 525_600,
                epochs: 100,
                gbdt_trees: None,
                cv_folds: 3,
                replications: 20,
                horizon: 30.0 * day,
                warmup: day,
                threshold_replications: 5,
                resamples: 2_000,
            }
        };
        if let Some(records) = records {
            sizes.records = records;
        }
        sizes
    }
}

pub const DATASET: &str = "demo_milling";
pub const MODEL: &str = "failure";
const TARGET: &str = "Machine failure";
/// Identifiers and the failure-mode flags (which give the label away) are not features.
const DROPPED: [&str; 7] = ["UDI", "Product ID", "TWF", "HDF", "PWF", "OSF", "RNF"];
/// Alarm thresholds (failure probability) the twin tries for the predictive policy: failures are rare and
/// cheap alarms pay, so the optimum lies at low probabilities and the search is spaced logarithmically.
const THRESHOLDS: [f64; 8] = [0.001, 0.003, 0.01, 0.03, 0.06, 0.1, 0.2, 0.4];
const QUICK_THRESHOLDS: [f64; 4] = [0.003, 0.03, 0.1, 0.4];
/// The policies compared: the line's current practice (preventive) is the baseline, run-to-failure a
/// reference row.
const POLICIES: [&str; 3] = ["run-to-failure", "preventive", "predictive"];
const STEPS: usize = 5;

pub async fn demo(home: &Home, req: &DemoRequest, observer: &Observer) -> Result<DemoOutcome> {
    let sizes = Sizes::new(req.quick, req.records);
    home.ensure()?;
    let mut steps = observer.steps(STEPS);
    let line = Line::parse(EXAMPLE_LINE, Path::new("example-line.toml"))?;

    steps.start("the twin emits sensor records");
    let csv = home
        .tmp_dir()?
        .join(format!("demo-records-{}.csv", std::process::id()));
    let mut emit = millwright_twin::EmitOptions::new(sizes.records, req.seed);
    emit.progress = observer.progress();
    let emitted = crate::twin::emit_csv(line.clone(), emit, csv.clone()).await?;
    steps.done(format!(
        "twin emitted {} records of station {} ({} machine failures)",
        emitted.rows, emitted.station, emitted.machine_failures
    ));

    steps.start("ingest and cleaning");
    let request = IngestRequest {
        key: Vec::new(),
        more: Vec::new(),
        file: csv.clone(),
        dataset: DATASET.to_owned(),
        mode: create_or_overwrite(home, DATASET)?,
        clean: None,
    };
    let ingested = ingest(home, &request, observer).await;
    let _ = std::fs::remove_file(&csv);
    let ingested = ingested.context("ingesting the emitted records")?;
    steps.done(format!(
        "dataset {DATASET} version {}: {} rows stored, {} quarantined",
        ingested.version, ingested.rows_written, ingested.rows_quarantined
    ));

    steps.start("cross-validating the reference MLP and a GBDT, training the better");
    let earlier_versions = registry::versions(home.root(), MODEL)?;
    let job = TrainJob {
        data: TrainingData::Dataset {
            name: DATASET.to_owned(),
            version: Some(ingested.version),
        },
        request: train_request(&sizes, req.seed),
    };
    let trained = train(home, job, observer).await?.0;
    let model_spec = format!("{}@{}", trained.manifest.name, trained.manifest.version);
    steps.done(registered_line(&trained, &model_spec, &earlier_versions));

    steps.start("the twin compares maintenance policies");
    let impact = impact_request(req, &sizes);
    let sim = simulate(home, &line, &sizes, req, &model_spec, &impact, observer).await?;
    steps.done(format!(
        "twin run {}: {} policies × {} replications × {} days; alarm threshold {} (searched on other \
         streams, run {}); {} sensitivity variants",
        sim.twin_run,
        POLICIES.len(),
        sizes.replications,
        format_number(sizes.horizon / 1440.0),
        format_number(sim.threshold),
        sim.threshold_run,
        sim.sensitivity.len() * 2,
    ));

    steps.start("impact and report");
    let lineage = format!(
        "millwright demo{} --seed {}: {} records emitted by the twin from the example line, \
         dataset {DATASET} version {}, model {model_spec}",
        if req.quick { " --quick" } else { "" },
        req.seed,
        emitted.rows,
        ingested.version,
    );
    let request = report_request(home, impact, &trained, &sim, lineage);
    let reported = report(home, &request)?;
    steps.done(format!("report written to {}", reported.html.display()));
    let (seconds, steps) = steps.finish();
    Ok(DemoOutcome {
        html: reported.html,
        summary: reported.summary,
        headline: reported.headline,
        model: model_spec,
        earlier_versions,
        run: trained.manifest.lineage.run.clone(),
        baseline: reported.baseline,
        twin_run: sim.twin_run,
        threshold_run: sim.threshold_run,
        seconds,
        steps,
    })
}

/// The business case the demo measures: the AI policy against the line's current practice.
fn impact_request(req: &DemoRequest, sizes: &Sizes) -> ImpactRequest {
    ImpactRequest {
        comparison: TwinComparison {
            resamples: sizes.resamples,
            seed: DEFAULT_BOOTSTRAP_SEED,
            business: req.business.clone(),
            ..TwinComparison::default()
        },
        ..ImpactRequest::default()
    }
}

/// The demo's report: the comparison, the threshold search, the sensitivity variants, the model's exam
/// at the threshold used, the candidates and curves of the training.
fn report_request(
    home: &Home,
    impact: ImpactRequest,
    trained: &TrainOutcome,
    sim: &Simulated,
    lineage: String,
) -> ReportRequest {
    let mut request = ReportRequest::new(&sim.twin_run);
    request.threshold_run = Some(sim.threshold_run.clone());
    request.impact = impact;
    request.sensitivity = sim.sensitivity.clone();
    request.offline_exam = Some(OfflineExam {
        threshold: sim.threshold,
        threshold_source: format!(
            "optimised for cost per good part on separate twin streams (run {})",
            sim.threshold_run
        ),
        metrics: millwright_learn::metrics::binary(
            &trained.test_y,
            &trained.test_pred,
            sim.threshold,
        ),
    });
    request.title = Some(
        "Millwright demo — what predictive maintenance changes on the example milling line".into(),
    );
    request.out = Some(home.report_dir("demo"));
    request.candidates = candidates(trained);
    request.curves = curves(trained);
    request.notes = vec![LineageEntry {
        figure: "Demo".to_owned(),
        source: lineage,
    }];
    request
}

fn train_request(sizes: &Sizes, seed: u64) -> TrainRequest {
    let mut request = TrainRequest::new(MODEL, TARGET);
    request.kind = KindChoice::Among(vec![ModelKind::Mlp, ModelKind::Gbdt]);
    request.cv = Some(sizes.cv_folds);
    request.drop = DROPPED.iter().map(|c| (*c).to_owned()).collect();
    request.mlp.epochs = sizes.epochs;
    if let Some(trees) = sizes.gbdt_trees {
        request.gbdt.iterations = trees;
    }
    request.seed = seed;
    request.threshold = Some(ThresholdRule::MaxF1);
    request
}

fn registered_line(trained: &TrainOutcome, spec: &str, earlier: &[u32]) -> String {
    let cv = |s: &CvScore| format!("{} {} {}", s.kind.name(), s.metric, format_number(s.mean));
    let scores: Vec<String> = trained.cv.iter().map(cv).collect();
    let earlier = match earlier {
        [] => String::new(),
        versions => format!(
            "; a new version: this home already had {MODEL}@{}",
            versions
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", @")
        ),
    };
    format!(
        "registered {spec} ({}; cross-validation on training rows: {}){earlier}",
        trained.manifest.kind,
        scores.join(", ")
    )
}

/// What the twin step produced.
struct Simulated {
    threshold_run: String,
    twin_run: String,
    threshold: f64,
    sensitivity: Vec<SensitivityRow>,
}

/// Seeds the threshold search and the comparison apart from each other and from the emitted training
/// records: a model or a threshold judged on the streams it was fitted on would grade its own exam.
const SEARCH_SEED_OFFSET: u64 = 0x5eed;
const COMPARE_SEED_OFFSET: u64 = 0xc0de;

/// Optimises the predictive threshold on streams of its own, compares the three policies on fresh ones,
/// and varies the inputs the result depends on.
async fn simulate(
    home: &Home,
    line: &Line,
    sizes: &Sizes,
    req: &DemoRequest,
    model_spec: &str,
    impact: &ImpactRequest,
    observer: &Observer,
) -> Result<Simulated> {
    let params = PolicyParams {
        interval: None,
        wear_limit: None,
        threshold: None,
        scorer: Some(crate::twin::scorer(home, model_spec)?),
        recall_scale: None,
    };
    let progress = observer.progress();
    let options = move |replications: usize, seed: u64| RunOptions {
        replications,
        horizon: Some(sizes.horizon),
        warmup: Some(sizes.warmup),
        seed,
        threads: None,
        progress: progress.clone(),
        bins: 100,
    };
    let thresholds: Vec<f64> = if req.quick {
        QUICK_THRESHOLDS.to_vec()
    } else {
        THRESHOLDS.to_vec()
    };
    let search_options = options(
        sizes.threshold_replications,
        req.seed.wrapping_add(SEARCH_SEED_OFFSET),
    );
    let compare_options = options(
        sizes.replications,
        req.seed.wrapping_add(COMPARE_SEED_OFFSET),
    );
    // The variants run on the comparison's own streams, so a variant differs from it only by its change.
    let sensitivity_options = options(
        sizes.replications,
        req.seed.wrapping_add(COMPARE_SEED_OFFSET),
    );
    let (root, line) = (home.root().to_owned(), line.clone());
    let (model, assumptions) = impact.resolve()?;
    let comparison = impact.comparison.clone();
    blocking(move || {
        let predictive = policy_from_name("predictive", &params, &line)?;
        let (search, optimum) = optimize(
            &line,
            &predictive,
            Knob::Threshold,
            &thresholds,
            Objective::CostPerGoodPart,
            &search_options,
        )?;
        store_result(&root, &line, &search)?;
        let tuned = PolicyParams {
            threshold: Some(optimum.best.value),
            ..params
        };
        let policies = POLICIES
            .iter()
            .map(|name| policy_from_name(name, &tuned, &line))
            .collect::<Result<Vec<_>, _>>()?;
        let comparison_run = millwright_twin::compare(&line, &policies, &compare_options)?;
        store_result(&root, &line, &comparison_run)?;
        let baseline = line.current_policy().unwrap_or("preventive").to_owned();
        let sensitivity = simulated_rows(&Variation {
            line: &line,
            params: &tuned,
            baseline: &baseline,
            ai: "predictive",
            options: &sensitivity_options,
            model: &model,
            assumptions: &assumptions,
            comparison: &comparison,
        })?;
        Ok(Simulated {
            threshold_run: search.run_id,
            twin_run: comparison_run.run_id,
            threshold: optimum.best.value,
            sensitivity,
        })
    })
    .await
}

/// The kinds cross-validated on the training rows, the chosen one first.
fn candidates(trained: &TrainOutcome) -> Vec<Candidate> {
    trained
        .cv
        .iter()
        .enumerate()
        .map(|(i, s)| Candidate {
            name: s.kind.name().to_owned(),
            kind: s.params.to_string(),
            metrics: [
                (format!("cv {} mean", s.metric), s.mean),
                (format!("cv {} std", s.metric), s.std),
            ]
            .into(),
            chosen: i == 0,
        })
        .collect()
}

/// ROC and precision-recall curves of the registered model on the test split, and its loss per epoch.
fn curves(trained: &TrainOutcome) -> Vec<Curve> {
    use millwright_learn::metrics::{pr_curve, roc_curve};
    let (roc_auc, pr_auc) = match &trained.test {
        TestMetrics::Binary(b) => (format_number(b.roc_auc), format_number(b.pr_auc)),
        _ => (String::new(), String::new()),
    };
    let mut curves = vec![
        Curve {
            title: "ROC (test split)".to_owned(),
            x_label: "false positive rate".to_owned(),
            y_label: "true positive rate".to_owned(),
            note: format!("ROC-AUC {roc_auc}"),
            points: roc_curve(&trained.test_y, &trained.test_pred),
            diagonal: true,
        },
        Curve {
            title: "Precision-recall (test split)".to_owned(),
            x_label: "recall".to_owned(),
            y_label: "precision".to_owned(),
            note: format!("PR-AUC {pr_auc}"),
            points: pr_curve(&trained.test_y, &trained.test_pred),
            diagonal: false,
        },
    ];
    if !trained.history.is_empty() {
        curves.push(Curve {
            title: format!("{} training loss", trained.manifest.kind),
            x_label: "epoch".to_owned(),
            y_label: "binary cross-entropy".to_owned(),
            note: String::new(),
            points: trained
                .history
                .iter()
                .map(|e| (e.epoch as f64, e.train_loss))
                .collect(),
            diagonal: false,
        });
    }
    curves
}
