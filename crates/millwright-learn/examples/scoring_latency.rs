//! Scoring speed of the reference MLP through the public API (`Model::predict_batch` on arrow batches,
//! pipeline included), on the AI4I test rows, one thread:
//! `cargo run --release -p millwright-learn --example scoring_latency`

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use arrow::array::RecordBatch;
use millwright_learn::registry::Model;
use millwright_learn::train::{self, NoObserver, TrainRequest};

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p / 100.0).round() as usize]
}

fn main() {
    let Some(dir) = common::ai4i_dir() else {
        return;
    };
    let (tr, te) = (
        common::read_csv(&dir.join("ai4i_train.csv")),
        common::read_csv(&dir.join("ai4i_test.csv")),
    );
    let home = tempfile::tempdir().unwrap();
    let req = TrainRequest::new("ref", "label");
    train::train(home.path(), &req, &tr, Some(&te), None, &mut NoObserver).unwrap();
    let model = Model::load(home.path(), "ref@latest").unwrap();
    let features = te.project(&(0..8).collect::<Vec<_>>()).unwrap();

    // Batch of 2000 rows: median of 200 calls.
    for _ in 0..20 {
        model.predict_batch(&features).unwrap();
    }
    let mut times: Vec<f64> = (0..200)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(model.predict_batch(&features).unwrap());
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let batch_median = pct(&times, 50.0);
    let mut feature_times: Vec<f64> = (0..200)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(model.features(&features).unwrap());
            t.elapsed().as_secs_f64()
        })
        .collect();
    feature_times.sort_by(f64::total_cmp);

    // Single rows: 10,000 calls cycling through the test rows, each a one-row arrow batch.
    let rows: Vec<RecordBatch> = (0..features.num_rows())
        .map(|i| features.slice(i, 1))
        .collect();
    for r in rows.iter().take(200) {
        model.predict_batch(r).unwrap();
    }
    let mut single: Vec<f64> = (0..10_000)
        .map(|i| {
            let t = Instant::now();
            std::hint::black_box(model.predict_batch(&rows[i % rows.len()]).unwrap());
            t.elapsed().as_secs_f64()
        })
        .collect();
    single.sort_by(f64::total_cmp);
    let out = serde_json::json!({
        "batch2000_median_s": batch_median,
        "batch2000_rows_per_s": 2000.0 / batch_median,
        "batch2000_pipeline_median_s": pct(&feature_times, 50.0),
        "single_median_us": pct(&single, 50.0) * 1e6,
        "single_p99_us": pct(&single, 99.0) * 1e6,
        "reference_pytorch_1thread": {"rows_per_s": 16_402_854, "single_median_us": 37.3, "single_p99_us": 140.8},
    });
    println!("{}", serde_json::to_string_pretty(&out).unwrap());
}
