//! In-process speed of the predict use case with the reference MLP (what the server calls per request):
//! one JSON row through `ModelCache` + `predict` (alias resolved on every call, the row path), and
//! 2,000-row batches as JSON objects, CSV bytes and an Arrow IPC stream. One thread.
//!
//! `cargo run --release -p millwright-app --example predict_latency -- DIR` where DIR holds the AI4I split
//! (`ai4i_train.csv`, `ai4i_test.csv`; `../shared/bench/data`). `benches/predict/run.sh` runs it.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::time::Instant;

use millwright_app::predict::{predict, predict_with, ModelCache, PredictInput};
use millwright_app::Home;
use millwright_data::arrow::array::RecordBatch;
use millwright_data::arrow::compute::concat_batches;
use millwright_learn::train::{self, NoObserver, TrainRequest};
use serde_json::Value;

fn read(path: &std::path::Path) -> RecordBatch {
    let table = millwright_data::source::read_file(path).unwrap();
    concat_batches(&table.schema, &table.batches).unwrap()
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p / 100.0).round() as usize]
}

/// Median seconds of `runs` calls after `warm` unmeasured ones, and the sorted times.
fn time(warm: usize, runs: usize, mut f: impl FnMut(usize)) -> Vec<f64> {
    for i in 0..warm {
        f(i);
    }
    let mut t: Vec<f64> = (0..runs)
        .map(|i| {
            let start = Instant::now();
            f(i);
            start.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t
}

fn main() {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "../shared/bench/data".into()),
    );
    let (tr, te) = (
        read(&dir.join("ai4i_train.csv")),
        read(&dir.join("ai4i_test.csv")),
    );
    let home_dir = tempfile::tempdir().unwrap();
    let req = TrainRequest::new("ref", "label");
    train::train(home_dir.path(), &req, &tr, Some(&te), None, &mut NoObserver).unwrap();
    millwright_learn::registry::promote(home_dir.path(), "ref@1", "production", "bench").unwrap();
    let home = Home::new(home_dir.path());
    let cache = ModelCache::new(&home);
    let spec = "ref@production";

    let features = te
        .project(&(0..te.num_columns() - 1).collect::<Vec<_>>())
        .unwrap();
    let rows: Vec<Value> = {
        let mut buf = Vec::new();
        let mut w = millwright_data::arrow::json::LineDelimitedWriter::new(&mut buf);
        w.write(&features).unwrap();
        w.finish().unwrap();
        String::from_utf8(buf)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    assert_eq!(rows.len(), 2000);
    let mut csv = Vec::new();
    millwright_data::arrow::csv::WriterBuilder::new()
        .with_header(true)
        .build(&mut csv)
        .write(&features)
        .unwrap();
    let mut ipc = Vec::new();
    {
        let mut w = millwright_data::arrow::ipc::writer::StreamWriter::try_new(
            &mut ipc,
            &features.schema(),
        )
        .unwrap();
        w.write(&features).unwrap();
        w.finish().unwrap();
    }

    // The registry was written a moment ago: for a second (registry::resolver::SETTLE) the resolver
    // re-reads it on every call. Measure the steady state, as a server sees it between promotes.
    std::thread::sleep(std::time::Duration::from_millis(1_200));
    // One row a call, cycling through the test rows: resolve the alias, convert the JSON, score.
    let single = time(2_000, 50_000, |i| {
        let row = std::slice::from_ref(&rows[i % rows.len()]);
        std::hint::black_box(predict(&cache, spec, PredictInput::Json(row)).unwrap());
    });
    // The model alone on the same rows (the row path without the use case around it).
    let model = cache.get(spec).unwrap();
    let resolve = time(2_000, 50_000, |_| {
        std::hint::black_box(cache.get(spec).unwrap());
    });
    let no_cache = time(2_000, 50_000, |i| {
        let row = std::slice::from_ref(&rows[i % rows.len()]);
        std::hint::black_box(predict_with(&model, PredictInput::Json(row)).unwrap());
    });
    let batch = |input: PredictInput<'_>| {
        let t = time(20, 200, |_| {
            std::hint::black_box(predict(&cache, spec, input).unwrap());
        });
        let median = pct(&t, 50.0);
        serde_json::json!({"median_ms": median * 1e3, "rows_per_s": 2000.0 / median})
    };
    let direct = time(20, 200, |_| {
        std::hint::black_box(model.predict_batch(&features).unwrap());
    });
    let out = serde_json::json!({
        "single_row_json": {
            "median_us": pct(&single, 50.0) * 1e6,
            "p99_us": pct(&single, 99.0) * 1e6,
            "calls_per_s": single.len() as f64 / single.iter().sum::<f64>(),
        },
        "single_row_json_loaded_model_median_us": pct(&no_cache, 50.0) * 1e6,
        "resolve_and_cache_hit_median_us": pct(&resolve, 50.0) * 1e6,
        "batch2000": {
            "arrow_ipc": batch(PredictInput::ArrowIpc(&ipc)),
            "record_batch": batch(PredictInput::Batch(&features)),
            "csv": batch(PredictInput::Csv(&csv)),
            "json": batch(PredictInput::Json(&rows)),
            "model_predict_batch_only": {"rows_per_s": 2000.0 / pct(&direct, 50.0)},
        },
        "targets": {"single_row_us": "well under 20", "batch_rows_per_s": "> 5,000,000"},
    });
    println!("{}", serde_json::to_string_pretty(&out).unwrap());
}
