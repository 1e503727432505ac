//! Shared test helpers: reading the AI4I split (skipped with a reason when ../shared is absent).

#![allow(clippy::print_stdout, clippy::print_stderr)]
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::csv::reader::Format;
use arrow::csv::ReaderBuilder;

/// `../shared/bench/data` relative to the workspace root.
pub fn ai4i_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench/data");
    if dir.join("ai4i_train.csv").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: {} is absent (the AI4I split lives in the shared folder)",
            dir.display()
        );
        None
    }
}

pub fn read_csv(path: &std::path::Path) -> RecordBatch {
    let mut file = std::fs::File::open(path).unwrap();
    let (schema, _) = Format::default()
        .with_header(true)
        .infer_schema(&mut file, Some(1000))
        .unwrap();
    let file = std::fs::File::open(path).unwrap();
    let reader = ReaderBuilder::new(Arc::new(schema))
        .with_header(true)
        .with_batch_size(1 << 20)
        .build(file)
        .unwrap();
    let batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>().unwrap();
    arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap()
}
