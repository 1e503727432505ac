//! Trains on the AI4I split CSVs with the library API and prints the test figures (release build):
//! `cargo run --release -p millwright-learn --example ai4i -- [mlp|gbdt|logistic|mlp,gbdt|auto] [--physics] [--search N] [--cv K]`

#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;

use arrow::array::{Float64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use millwright_core::{Progress, ProgressHandle, Unit};
use millwright_learn::train::{self, KindChoice, NoObserver, TrainRequest};

/// Prints each stage and each fold's or epoch's note to stderr.
struct Stderr;

impl Progress for Stderr {
    fn stage(&self, name: &str, total: Option<u64>, unit: Unit) {
        let total = total.map_or_else(|| "?".to_string(), |t| t.to_string());
        eprintln!("{name}: {total} {}", unit.name());
    }
    fn note(&self, text: &str) {
        eprintln!("  {text}");
    }
}

/// The three physics features, computed in Rust here (the binary uses SQL through DataFusion).
fn physics(b: &RecordBatch) -> RecordBatch {
    let col = |n: &str| {
        let a = arrow::compute::cast(b.column_by_name(n).unwrap(), &DataType::Float64).unwrap();
        a.as_any()
            .downcast_ref::<Float64Array>()
            .unwrap()
            .values()
            .to_vec()
    };
    let (t, r, air, proc_, wear) = (
        col("torque_nm"),
        col("rotational_speed_rpm"),
        col("air_temperature_k"),
        col("process_temperature_k"),
        col("tool_wear_min"),
    );
    let power: Vec<f64> = t
        .iter()
        .zip(&r)
        .map(|(t, r)| t * r * 2.0 * std::f64::consts::PI / 60.0)
        .collect();
    let diff: Vec<f64> = proc_.iter().zip(&air).map(|(p, a)| p - a).collect();
    let wt: Vec<f64> = wear.iter().zip(&t).map(|(w, t)| w * t).collect();
    let mut fields: Vec<Field> = b
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    let mut cols = b.columns().to_vec();
    for (n, v) in [("power", power), ("temp_diff", diff), ("wear_torque", wt)] {
        fields.push(Field::new(n, DataType::Float64, false));
        cols.push(Arc::new(Float64Array::from(v)));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let kind: KindChoice = args.first().map_or("mlp", String::as_str).parse().unwrap();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(|v| v.parse::<usize>().unwrap())
    };
    let Some(dir) = common::ai4i_dir() else {
        return;
    };
    let (mut tr, mut te) = (
        common::read_csv(&dir.join("ai4i_train.csv")),
        common::read_csv(&dir.join("ai4i_test.csv")),
    );
    if args.iter().any(|a| a == "--physics") {
        tr = physics(&tr);
        te = physics(&te);
    }
    let home = tempfile::tempdir().unwrap();
    let mut req = TrainRequest::new("ai4i", "label");
    req.kind = kind;
    req.search = flag("--search").unwrap_or(0);
    req.cv = flag("--cv");
    req.seed = flag("--seed").unwrap_or(42) as u64;
    if let Some(t) = args
        .iter()
        .position(|a| a == "--threshold")
        .and_then(|i| args.get(i + 1))
    {
        req.threshold = Some(train::parse_threshold(t).unwrap());
    }
    req.progress = ProgressHandle::new(Arc::new(Stderr));
    let out = train::train(home.path(), &req, &tr, Some(&te), None, &mut NoObserver).unwrap();
    println!(
        "{}",
        serde_json::to_string_pretty(&train::summary_json(&out)).unwrap()
    );
}
