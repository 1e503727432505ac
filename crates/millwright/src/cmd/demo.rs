//! `demo`: the whole platform on the embedded default, in one command. The twin emits AI4I-style records of
//! the example line → ingest and cleaning (quality report) → the reference MLP and a gradient-boosted model
//! are trained and the better one is registered → the twin optimises the predictive threshold and compares
//! run-to-failure, preventive and predictive maintenance → α measured from that comparison → the report.
//! Every step calls a library; nothing spawns the binary.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use millwright_data::ingest::{ingest, IngestOptions};
use millwright_data::lake::{Lake, WriteMode};
use millwright_impact::{format_number, TwinComparison, DEFAULT_BOOTSTRAP_SEED};
use millwright_learn::model::ModelKind;
use millwright_learn::registry::{self, Lineage, Model};
use millwright_learn::train::{self, KindChoice, NoObserver, TrainOutcome, TrainRequest};
use millwright_report::{Candidate, Curve, LineageEntry};
use millwright_twin::{
    compare, emit_records, optimize, policy_from_name, store_result, EmitOptions, Knob, Line,
    Objective, PolicyParams, RunOptions, EXAMPLE_LINE,
};

use crate::cmd::impact::GivenArgs;
use crate::cmd::report::{self, ReportRequest, DEFAULT_P0, DEFAULT_V0};
use crate::output::print_json;
use crate::Global;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Reduced sizes (records, epochs, replications, resamples) for CI; the figures are noisier.
    #[arg(long)]
    pub quick: bool,
    /// Records the twin emits for training (default 525 600: a year of the milling station at one part a
    /// minute; 3 000 with --quick).
    #[arg(long)]
    pub records: Option<u64>,
    /// Productivity before AI (default 100, an index).
    #[arg(long, allow_negative_numbers = true, default_value_t = DEFAULT_P0)]
    pub p0: f64,
    /// Value before AI (default 100, an index).
    #[arg(long, allow_negative_numbers = true, default_value_t = DEFAULT_V0)]
    pub v0: f64,
    /// Seed of every random choice (emission, split, training, simulation).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

/// The sizes of one demo run.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    records: u64,
    epochs: usize,
    gbdt_trees: Option<usize>,
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

const DATASET: &str = "demo_milling";
const MODEL: &str = "failure";
const TARGET: &str = "Machine failure";
/// Identifiers and the failure-mode flags (which give the label away) are not features.
const DROPPED: [&str; 7] = ["UDI", "Product ID", "TWF", "HDF", "PWF", "OSF", "RNF"];
/// Alarm thresholds (failure probability) the twin tries for the predictive policy.
const THRESHOLDS: [f64; 8] = [0.001, 0.003, 0.01, 0.03, 0.06, 0.1, 0.2, 0.4];
const QUICK_THRESHOLDS: [f64; 4] = [0.003, 0.03, 0.1, 0.4];
/// Preventive maintenance changes the tool at this much wear (the example line's tools last 200–240 min).
const PREVENTIVE_WEAR_LIMIT: f64 = 180.0;

/// One line per step on stderr, hidden with --json or when stderr is not a terminal.
struct Steps {
    bar: ProgressBar,
    started: Instant,
    step_started: std::cell::Cell<Instant>,
    /// (step, seconds) for `--json`.
    timings: std::cell::RefCell<Vec<(String, f64)>>,
}

impl Steps {
    const COUNT: u64 = 5;

    fn new(global: &Global) -> Steps {
        let bar = if global.json || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            let bar =
                ProgressBar::with_draw_target(Some(Self::COUNT), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("demo [{pos}/{len}] {wide_msg} {elapsed}")
                    .expect("static template"),
            );
            bar
        };
        Steps {
            bar,
            started: Instant::now(),
            step_started: std::cell::Cell::new(Instant::now()),
            timings: std::cell::RefCell::new(Vec::new()),
        }
    }

    fn start(&self, message: &str) {
        self.step_started.set(Instant::now());
        self.bar.set_message(message.to_owned());
    }

    fn done(&self, line: String) {
        let seconds = self.step_started.get().elapsed().as_secs_f64();
        self.timings
            .borrow_mut()
            .push((self.bar.message(), seconds));
        self.bar.inc(1);
        self.bar.println(format!("  ✓ {line}"));
    }
}

pub async fn demo(global: &Global, args: DemoArgs) -> Result<()> {
    let sizes = Sizes::new(args.quick, args.records);
    let home = global.home.clone();
    std::fs::create_dir_all(&home)
        .with_context(|| format!("cannot create the home folder {}", home.display()))?;
    let steps = Steps::new(global);
    let progress = !global.json && std::io::stderr().is_terminal();

    // 1. The twin emits AI4I-style records of the example line's milling stations.
    steps.start("the twin emits sensor records");
    let line = Line::parse(EXAMPLE_LINE, Path::new("example-line.toml"))?;
    let tmp = home.join("tmp");
    std::fs::create_dir_all(&tmp)?;
    let csv = tmp.join(format!("demo-records-{}.csv", std::process::id()));
    let file =
        std::fs::File::create(&csv).with_context(|| format!("cannot create {}", csv.display()))?;
    let emitted = emit_records(
        &line,
        &EmitOptions::new(sizes.records, args.seed),
        std::io::BufWriter::new(file),
    )?;
    steps.done(format!(
        "twin emitted {} records of station {} ({} machine failures)",
        emitted.rows, emitted.station, emitted.machine_failures
    ));

    // 2. Ingest and clean into the lake, with the quality report.
    steps.start("ingest and cleaning");
    let mode = if Lake::open(&home)?.exists(DATASET) {
        WriteMode::Overwrite
    } else {
        WriteMode::Create
    };
    let outcome = ingest(&home, &csv, &IngestOptions::new(DATASET, mode)).await;
    let _ = std::fs::remove_file(&csv);
    let ingested = outcome.context("ingesting the emitted records")?;
    steps.done(format!(
        "dataset {DATASET} version {}: {} rows stored, {} quarantined",
        ingested.version, ingested.rows_written, ingested.rows_quarantined
    ));

    // 3. Train the reference MLP and a GBDT on the same split; register the better.
    steps.start("training the reference MLP and a GBDT");
    let (table, lake_version) = Lake::open(&home)?
        .read_table(DATASET, Some(ingested.version))
        .await
        .with_context(|| format!("reading dataset {DATASET}"))?;
    let data = millwright_data::arrow::compute::concat_batches(&table.schema, &table.batches)
        .context("combining the dataset's batches")?;
    let lineage = Lineage {
        dataset: DATASET.to_owned(),
        lake_version: Some(lake_version),
        run: None,
        code_version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    let mut outcomes = Vec::new();
    for (name, kind) in [
        ("failure-mlp", ModelKind::Mlp),
        ("failure-gbdt", ModelKind::Gbdt),
    ] {
        let request = train_request(name, kind, &sizes, args.seed, &lineage, progress)?;
        let home = home.clone();
        let data = data.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            train::train(&home, &request, &data, None, None, &mut NoObserver)
        })
        .await??;
        outcomes.push(outcome);
    }
    let chosen_index = better(&outcomes);
    let chosen = &outcomes[chosen_index];
    let candidate = Model::load(
        &home,
        &format!("{}@{}", chosen.manifest.name, chosen.manifest.version),
    )?;
    let mut manifest = chosen.manifest.clone();
    manifest.name = MODEL.to_owned();
    let registered = registry::save(&home, manifest, candidate.estimator())?;
    let model_spec = format!("{}@{}", registered.name, registered.version);
    steps.done(format!(
        "registered {model_spec} ({}, test PR-AUC {} vs {} for the {})",
        registered.kind,
        format_number(selection_metric(chosen)),
        format_number(selection_metric(&outcomes[1 - chosen_index])),
        outcomes[1 - chosen_index].manifest.kind
    ));

    // 4. The twin: optimise the predictive threshold, then compare the three policies.
    steps.start("the twin compares maintenance policies");
    let scorer = crate::scoring::load_scorer(&home, &model_spec)?;
    let params = PolicyParams {
        interval: None,
        wear_limit: Some(PREVENTIVE_WEAR_LIMIT),
        threshold: Some(registered.threshold),
        scorer: Some(scorer),
    };
    let options = |replications: usize| RunOptions {
        replications,
        horizon: Some(sizes.horizon),
        warmup: Some(sizes.warmup),
        seed: args.seed,
        threads: None,
        progress: Default::default(),
        bins: 100,
    };
    let predictive = policy_from_name("predictive", &params, &line)?;
    // Failures are rare and cheap alarms pay, so the optimum lies at low failure probabilities: the search
    // is spaced logarithmically.
    let thresholds: Vec<f64> = if args.quick {
        QUICK_THRESHOLDS.to_vec()
    } else {
        THRESHOLDS.to_vec()
    };
    let (search, optimum) = optimize(
        &line,
        &predictive,
        Knob::Threshold,
        &thresholds,
        Objective::CostPerGoodPart,
        &options(sizes.threshold_replications),
    )?;
    store_result(&home, &line, &search)?;
    let tuned = PolicyParams {
        threshold: Some(optimum.best.value),
        ..params
    };
    let policies = ["run-to-failure", "preventive", "predictive"]
        .iter()
        .map(|name| policy_from_name(name, &tuned, &line))
        .collect::<Result<Vec<_>, _>>()?;
    let comparison = compare(&line, &policies, &options(sizes.replications))?;
    store_result(&home, &line, &comparison)?;
    steps.done(format!(
        "twin run {}: 3 policies × {} replications × {} days; alarm threshold {} (from run {})",
        comparison.run_id,
        sizes.replications,
        format_number(sizes.horizon / 1440.0),
        format_number(optimum.best.value),
        search.run_id
    ));

    // 5. α from the comparison, the productivity model, the report.
    steps.start("impact and report");
    let given = GivenArgs {
        factors: Vec::new(),
        alphas: Vec::new(),
        model_file: None,
    };
    let request = ReportRequest {
        home: &home,
        run_id: &comparison.run_id,
        threshold_run: Some(&search.run_id),
        p0: args.p0,
        v0: args.v0,
        given: &given,
        comparison: TwinComparison {
            resamples: sizes.resamples,
            seed: DEFAULT_BOOTSTRAP_SEED,
            ..TwinComparison::default()
        },
        title: "Millwright demo — what predictive maintenance changes on the example milling line"
            .to_owned(),
        candidates: outcomes
            .iter()
            .enumerate()
            .map(|(i, o)| candidate_row(o, i == chosen_index))
            .collect(),
        curves: curves(chosen, &outcomes),
        notes: vec![LineageEntry {
            figure: "Demo".to_owned(),
            source: format!(
                "millwright demo{} --seed {}: {} records emitted by the twin from the example line, \
                 dataset {DATASET} version {lake_version}, model {model_spec} (copy of {}@{})",
                if args.quick { " --quick" } else { "" },
                args.seed,
                emitted.rows,
                chosen.manifest.name,
                chosen.manifest.version
            ),
        }],
    };
    let out: PathBuf = home.join("reports").join("demo");
    let (files, summary) = report::build(&request, &out)?;
    steps.done(format!("report written to {}", out.display()));
    steps.bar.finish_and_clear();

    if global.json {
        return print_json(&serde_json::json!({
            "html": files.html,
            "summary": files.summary,
            "headline": summary.headline,
            "model": model_spec,
            "twin_run": comparison.run_id,
            "threshold_run": search.run_id,
            "seconds": steps.started.elapsed().as_secs_f64(),
            "steps": steps
                .timings
                .borrow()
                .iter()
                .map(|(step, seconds)| serde_json::json!({"step": step, "seconds": seconds}))
                .collect::<Vec<_>>(),
        }));
    }
    println!(
        "\nWhat AI changes on the example line (predictive vs run-to-failure; demo took {:.1} s):",
        steps.started.elapsed().as_secs_f64()
    );
    print!("{}", report::headline_text(&summary));
    println!("\nreport: {}", files.html.display());
    Ok(())
}

fn train_request(
    name: &str,
    kind: ModelKind,
    sizes: &Sizes,
    seed: u64,
    lineage: &Lineage,
    progress: bool,
) -> Result<TrainRequest> {
    let mut request = TrainRequest::new(name, TARGET);
    request.kind = KindChoice::One(kind);
    request.drop = DROPPED.iter().map(|c| (*c).to_owned()).collect();
    request.mlp.epochs = sizes.epochs;
    if let Some(trees) = sizes.gbdt_trees {
        request.gbdt.iterations = trees;
    }
    request.seed = seed;
    request.threshold = Some(millwright_learn::metrics::ThresholdRule::MaxF1);
    request.lineage = lineage.clone();
    request.progress = progress;
    Ok(request)
}

/// Failures are rare: models are compared by the test split's PR-AUC (average precision).
fn selection_metric(outcome: &TrainOutcome) -> f64 {
    outcome
        .manifest
        .metrics
        .get("pr_auc")
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(f64::NEG_INFINITY)
}

fn better(outcomes: &[TrainOutcome]) -> usize {
    if selection_metric(&outcomes[1]) > selection_metric(&outcomes[0]) {
        1
    } else {
        0
    }
}

fn candidate_row(outcome: &TrainOutcome, chosen: bool) -> Candidate {
    let metrics = outcome
        .manifest
        .metrics
        .as_object()
        .map(|m| {
            ["accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc"]
                .iter()
                .filter_map(|k| {
                    m.get(*k)
                        .and_then(|v| v.as_f64())
                        .map(|v| ((*k).to_owned(), v))
                })
                .collect()
        })
        .unwrap_or_default();
    Candidate {
        name: format!("{}@{}", outcome.manifest.name, outcome.manifest.version),
        kind: outcome.manifest.kind.to_string(),
        metrics,
        chosen,
    }
}

/// ROC and precision-recall curves of the chosen model on its test split, and the MLP's loss per epoch.
fn curves(outcome: &TrainOutcome, all: &[TrainOutcome]) -> Vec<Curve> {
    let roc = millwright_learn::metrics::roc_curve(&outcome.test_y, &outcome.test_pred);
    let pr = millwright_learn::metrics::pr_curve(&outcome.test_y, &outcome.test_pred);
    let metric = |k: &str| {
        outcome
            .manifest
            .metrics
            .get(k)
            .and_then(serde_json::Value::as_f64)
            .map(format_number)
            .unwrap_or_default()
    };
    let mut curves = vec![
        Curve {
            title: "ROC (test split)".to_owned(),
            x_label: "false positive rate".to_owned(),
            y_label: "true positive rate".to_owned(),
            note: format!("ROC-AUC {}", metric("roc_auc")),
            points: roc,
            diagonal: true,
        },
        Curve {
            title: "Precision-recall (test split)".to_owned(),
            x_label: "recall".to_owned(),
            y_label: "precision".to_owned(),
            note: format!("PR-AUC {}", metric("pr_auc")),
            points: pr,
            diagonal: false,
        },
    ];
    for o in all.iter().filter(|o| !o.history.is_empty()) {
        curves.push(Curve {
            title: format!("{} training loss", o.manifest.name),
            x_label: "epoch".to_owned(),
            y_label: "binary cross-entropy".to_owned(),
            note: String::new(),
            points: o
                .history
                .iter()
                .map(|e| (e.epoch as f64, e.train_loss))
                .collect(),
            diagonal: false,
        });
    }
    curves
}
