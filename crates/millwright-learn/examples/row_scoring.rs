//! Single-row scoring speed of the MLP and the GBDT (default settings, AI4I split), through a one-row
//! arrow batch (`Model::predict_batch`) and through the row path (`Model::predict_row`), one thread:
//! `cargo run --release -p millwright-learn --example row_scoring`

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use arrow::array::{Array, Float64Array, RecordBatch, StringArray};
use millwright_learn::model::ModelKind;
use millwright_learn::pipeline::RawValue;
use millwright_learn::registry::Model;
use millwright_learn::train::{self, KindChoice, NoObserver, TrainRequest};

/// Median seconds of `f` over `n` calls, the `i`-th call given `i`.
fn median(n: usize, mut f: impl FnMut(usize)) -> f64 {
    let mut times: Vec<f64> = (0..n)
        .map(|i| {
            let t = Instant::now();
            f(i);
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[n / 2]
}

/// The row's cells in the model's input order.
fn cells<'b>(model: &Model, batch: &'b RecordBatch, r: usize) -> Vec<RawValue<'b>> {
    let schema = batch.schema();
    model
        .input_columns()
        .iter()
        .map(|c| {
            let col = batch.column(schema.index_of(&c.name).unwrap());
            if let Some(s) = col.as_any().downcast_ref::<StringArray>() {
                RawValue::Text(s.value(r))
            } else {
                let cast = arrow::compute::cast(col, &arrow::datatypes::DataType::Float64).unwrap();
                let v = cast.as_any().downcast_ref::<Float64Array>().unwrap();
                if v.is_null(r) {
                    RawValue::Null
                } else {
                    RawValue::Number(v.value(r))
                }
            }
        })
        .collect()
}

fn main() {
    let Some(dir) = common::ai4i_dir() else {
        return;
    };
    let (tr, te) = (
        common::read_csv(&dir.join("ai4i_train.csv")),
        common::read_csv(&dir.join("ai4i_test.csv")),
    );
    let features = te.project(&(0..8).collect::<Vec<_>>()).unwrap();
    let rows: Vec<RecordBatch> = (0..features.num_rows())
        .map(|i| features.slice(i, 1))
        .collect();
    let mut out = serde_json::Map::new();
    for kind in [ModelKind::Mlp, ModelKind::Gbdt] {
        let home = tempfile::tempdir().unwrap();
        let mut req = TrainRequest::new("ref", "label");
        req.kind = KindChoice::One(kind);
        train::train(home.path(), &req, &tr, Some(&te), None, &mut NoObserver).unwrap();
        let model = Model::load(home.path(), "ref@latest").unwrap();
        let cells: Vec<Vec<RawValue<'_>>> = (0..features.num_rows())
            .map(|r| cells(&model, &features, r))
            .collect();
        for (i, c) in cells.iter().enumerate() {
            let batch = model.predict_batch(&rows[i]).unwrap()[0];
            assert!((model.predict_row(c).unwrap() - batch).abs() <= 1e-12);
        }
        let n = 20_000;
        let batch = median(n, |i| {
            std::hint::black_box(model.predict_batch(&rows[i % rows.len()]).unwrap());
        });
        let row = median(n, |i| {
            std::hint::black_box(model.predict_row(&cells[i % cells.len()]).unwrap());
        });
        out.insert(
            kind.name().to_owned(),
            serde_json::json!({
                "one_row_batch_median_us": batch * 1e6,
                "row_path_median_us": row * 1e6,
            }),
        );
    }
    println!("{}", serde_json::to_string_pretty(&out).unwrap());
}
