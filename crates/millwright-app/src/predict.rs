//! Online prediction: rows in (JSON objects, CSV bytes, an Arrow IPC stream, an arrow batch), one score
//! and decision per row out, from a model named by version or alias.
//!
//! [`ModelCache`] loads each version once and shares it; a spec is resolved again on every call (from
//! memory while the registry is unchanged, see `registry::Resolver`), so a promote takes effect on the
//! next call without reloading versions already loaded. A batch is one call into the model; one JSON row
//! of a model without derived features takes the row path (`Model::predict_row`), which builds no arrow
//! batch and gives the same score.
//!
//! Input that does not fit the model (a missing column, a string where a number belongs) is a
//! [`PredictError`] naming the column, and the row where one value is at fault: the caller's mistake
//! (a server answers 422), never a failure of the service.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};

use millwright_core::ModelRef;
use millwright_data::arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use millwright_data::arrow::compute::concat_batches;
use millwright_data::arrow::datatypes::{DataType, Field, Schema};
use millwright_data::arrow::error::ArrowError;
use millwright_learn::error::LearnError;
use millwright_learn::pipeline::{ColumnKind, InputColumn, RawValue};
use millwright_learn::registry::{Model, Resolver};
use serde::Serialize;
use serde_json::Value;

use crate::derive::SqlDeriver;
use crate::error::{AppError, Result};
use crate::Home;

/// Rows to score.
#[derive(Debug, Clone, Copy)]
pub enum PredictInput<'a> {
    /// JSON objects keyed by the model's input column names; other keys are ignored.
    Json(&'a [Value]),
    /// CSV with a header row, comma-separated; other columns are ignored.
    Csv(&'a [u8]),
    /// An Arrow IPC stream (or file); its batches are scored as one.
    ArrowIpc(&'a [u8]),
    /// An arrow batch already in memory.
    Batch(&'a RecordBatch),
}

/// Input that does not fit the model. Rows count from 0 (the JSON array index; CSV data rows after the
/// header).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PredictError {
    #[error("{}missing column '{column}' that the model needs ({expected})", at_row(.row))]
    MissingColumn {
        column: String,
        /// The row without it (JSON rows; a CSV or Arrow input lacks it for every row).
        row: Option<usize>,
        expected: &'static str,
    },
    #[error("column '{column}' has type {found}, but the model needs {expected}")]
    MistypedColumn {
        column: String,
        found: String,
        expected: String,
    },
    #[error("row {row}, column '{column}': {found} where the model needs {expected}")]
    BadValue {
        column: String,
        row: usize,
        found: String,
        expected: &'static str,
    },
    #[error("row {row} is {found}, not an object of column values")]
    NotAnObject { row: usize, found: &'static str },
    #[error("the {format} input cannot be read: {reason}")]
    Unreadable {
        format: &'static str,
        reason: String,
    },
    #[error("the input has no rows")]
    NoRows,
}

fn at_row(row: &Option<usize>) -> String {
    row.map_or_else(String::new, |r| format!("row {r}: "))
}

impl PredictError {
    /// The column at fault, if one is.
    pub fn column(&self) -> Option<&str> {
        match self {
            PredictError::MissingColumn { column, .. }
            | PredictError::MistypedColumn { column, .. }
            | PredictError::BadValue { column, .. } => Some(column),
            _ => None,
        }
    }

    /// The row at fault, if one is.
    pub fn row(&self) -> Option<usize> {
        match self {
            PredictError::MissingColumn { row, .. } => *row,
            PredictError::BadValue { row, .. } | PredictError::NotAnObject { row, .. } => {
                Some(*row)
            }
            _ => None,
        }
    }
}

/// The model's refusals of its input, as input errors; anything else stays a model error.
fn input_error(err: LearnError) -> AppError {
    match err {
        LearnError::MissingColumn { column, expected } => PredictError::MissingColumn {
            column,
            row: None,
            expected: if expected == ColumnKind::Categorical.describe() {
                ColumnKind::Categorical.describe()
            } else {
                ColumnKind::Numeric.describe()
            },
        }
        .into(),
        LearnError::MistypedColumn {
            column,
            found,
            expected,
        } => PredictError::MistypedColumn {
            column,
            found,
            expected,
        }
        .into(),
        LearnError::NonFinite { column, row, value } => PredictError::BadValue {
            column,
            row,
            found: value,
            expected: "a finite number",
        }
        .into(),
        LearnError::EmptyInput => PredictError::NoRows.into(),
        other => other.into(),
    }
}

/// Models loaded once per version, shared by every caller. Thread-safe: one per home, shared by all
/// server tasks.
pub struct ModelCache {
    resolver: Resolver,
    models: RwLock<HashMap<ModelRef, Arc<Model>>>,
}

impl std::fmt::Debug for ModelCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ModelCache({})", self.resolver.home().display())
    }
}

impl ModelCache {
    pub fn new(home: &Home) -> ModelCache {
        ModelCache {
            resolver: Resolver::new(home.root()),
            models: RwLock::default(),
        }
    }

    /// The version `spec` names now (`failure@production`, `failure@3`, `failure`).
    pub fn resolve(&self, spec: &str) -> Result<ModelRef> {
        Ok(self.resolver.resolve(spec)?)
    }

    /// Forgets what is remembered of model `name`'s versions and aliases (not the loaded models): call
    /// after changing them in this process, so the next call sees the change at once.
    pub fn forget(&self, name: &str) {
        self.resolver.forget(name);
    }

    /// The model `spec` names now, loaded on first use of its version.
    pub fn get(&self, spec: &str) -> Result<Arc<Model>> {
        let at = self.resolve(spec)?;
        if let Some(m) = self
            .models
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&at)
        {
            return Ok(m.clone());
        }
        // Loaded outside the lock (a large model must not stall scoring with others); two first callers
        // may both load it, and the first stored wins.
        let spec = at.to_string();
        let model = Arc::new(
            Model::load(self.resolver.home(), &spec)?.with_deriver(Arc::new(SqlDeriver::default())),
        );
        Ok(self
            .models
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(at)
            .or_insert(model)
            .clone())
    }

    /// Drops a loaded version (after it was deleted: its number is never reused, so this only frees
    /// memory; a deleted version no longer resolves either way).
    pub fn unload(&self, name: &str, version: u32) {
        self.models
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&ModelRef::new(name, version));
    }

    /// How many versions are loaded.
    pub fn loaded(&self) -> usize {
        self.models
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// One row's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    /// Binary: the probability of the positive class; multi-class: of the most likely class;
    /// regression: the value.
    pub score: f64,
    /// The class the model decides on with its threshold (regression: the value as text).
    pub decision: String,
}

/// Every row's score and decision, with the model version and threshold that made them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Predictions {
    pub model: String,
    pub version: u32,
    pub task: &'static str,
    pub threshold: f64,
    pub predictions: Vec<Scored>,
}

impl Predictions {
    pub fn model_ref(&self) -> ModelRef {
        ModelRef::new(self.model.clone(), self.version)
    }

    /// The predictions as an Arrow IPC stream: one batch of `score` (Float64) and `decision` (Utf8), a
    /// row per input row, with `model`, `version`, `task` and `threshold` in the schema's metadata. The
    /// answer for batch clients that sent Arrow: no JSON to write or parse.
    pub fn to_arrow_ipc(&self) -> Result<Vec<u8>> {
        use millwright_data::arrow::ipc::writer::StreamWriter;
        let metadata = HashMap::from([
            ("model".to_owned(), self.model.clone()),
            ("version".to_owned(), self.version.to_string()),
            ("task".to_owned(), self.task.to_owned()),
            ("threshold".to_owned(), self.threshold.to_string()),
        ]);
        let schema = Arc::new(
            Schema::new(vec![
                Field::new("score", DataType::Float64, false),
                Field::new("decision", DataType::Utf8, false),
            ])
            .with_metadata(metadata),
        );
        let scores: Float64Array = self.predictions.iter().map(|p| Some(p.score)).collect();
        let decisions: StringArray = self
            .predictions
            .iter()
            .map(|p| Some(p.decision.as_str()))
            .collect();
        let arrow = |source| AppError::Arrow {
            what: "writing the predictions as Arrow".to_owned(),
            source,
        };
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(scores) as ArrayRef, Arc::new(decisions)],
        )
        .map_err(arrow)?;
        let mut writer = StreamWriter::try_new(Vec::new(), &schema).map_err(arrow)?;
        writer.write(&batch).map_err(arrow)?;
        writer.finish().map_err(arrow)?;
        writer.into_inner().map_err(arrow)
    }
}

/// Per row of the model's raw outputs: the score and the decision (shared with the file scorer).
pub(crate) fn scores_of(model: &Model, outputs: &[f64]) -> (Vec<f64>, Vec<String>) {
    let k = model.manifest.task.outputs();
    let score = if k == 1 {
        outputs.to_vec()
    } else {
        outputs
            .chunks(k)
            .map(|c| c.iter().copied().fold(0.0, f64::max))
            .collect()
    };
    (score, model.decide(outputs))
}

/// Scores the rows with the model `spec` names now.
pub fn predict(cache: &ModelCache, spec: &str, input: PredictInput<'_>) -> Result<Predictions> {
    let model = cache.get(spec)?;
    predict_with(&model, input)
}

/// Scores the rows with a loaded model.
pub fn predict_with(model: &Model, input: PredictInput<'_>) -> Result<Predictions> {
    let outputs = match input {
        PredictInput::Json([one])
            if model.predicts_rows() && model.manifest.task.outputs() == 1 =>
        {
            vec![json_row(model, one)?]
        }
        PredictInput::Json(rows) => outputs_of(model, &json_batch(model.input_columns(), rows)?)?,
        PredictInput::Csv(bytes) => outputs_of(model, &csv_batch(model.input_columns(), bytes)?)?,
        PredictInput::ArrowIpc(bytes) => outputs_of(model, &ipc_batch(bytes)?)?,
        PredictInput::Batch(batch) => outputs_of(model, batch)?,
    };
    let (score, decision) = scores_of(model, &outputs);
    let m = &model.manifest;
    Ok(Predictions {
        model: m.name.clone(),
        version: m.version,
        task: m.task.name(),
        threshold: m.threshold,
        predictions: score
            .into_iter()
            .zip(decision)
            .map(|(score, decision)| Scored { score, decision })
            .collect(),
    })
}

fn outputs_of(model: &Model, batch: &RecordBatch) -> Result<Vec<f64>> {
    if batch.num_rows() == 0 {
        return Err(PredictError::NoRows.into());
    }
    model.predict_outputs(batch).map_err(input_error)
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn describe_json(v: &Value) -> String {
    match v {
        Value::String(s) if s.len() <= 40 => format!("the string {s:?}"),
        other => json_kind(other).to_owned(),
    }
}

/// One JSON cell as the raw value the pipeline reads, checked against the column's kind.
fn raw<'v>(col: &InputColumn, row: usize, cell: Option<&'v Value>) -> Result<RawValue<'v>> {
    let bad = |v: &Value| PredictError::BadValue {
        column: col.name.clone(),
        row,
        found: describe_json(v),
        expected: col.kind.describe(),
    };
    let Some(v) = cell else {
        return Err(PredictError::MissingColumn {
            column: col.name.clone(),
            row: Some(row),
            expected: col.kind.describe(),
        }
        .into());
    };
    Ok(match (col.kind, v) {
        (_, Value::Null) => RawValue::Null,
        (ColumnKind::Numeric, Value::Number(n)) => {
            RawValue::Number(n.as_f64().ok_or_else(|| bad(v))?)
        }
        (ColumnKind::Numeric, Value::Bool(b)) => RawValue::Number(f64::from(u8::from(*b))),
        (ColumnKind::Categorical, Value::String(s)) => RawValue::Text(s),
        _ => return Err(bad(v).into()),
    })
}

fn object(row: usize, v: &Value) -> Result<&serde_json::Map<String, Value>> {
    v.as_object().ok_or_else(|| {
        PredictError::NotAnObject {
            row,
            found: json_kind(v),
        }
        .into()
    })
}

/// One JSON row through the row path (single-output models: the row path gives one value).
fn json_row(model: &Model, row: &Value) -> Result<f64> {
    let obj = object(0, row)?;
    let inputs = model.input_columns();
    const STACK: usize = 16;
    let mut stack = [RawValue::Null; STACK];
    let mut heap;
    let values = if inputs.len() <= STACK {
        &mut stack[..inputs.len()]
    } else {
        heap = vec![RawValue::Null; inputs.len()];
        &mut heap[..]
    };
    for (slot, col) in values.iter_mut().zip(inputs) {
        *slot = raw(col, 0, obj.get(&col.name))?;
    }
    model.predict_row(values).map_err(input_error)
}

fn batch_of(inputs: &[InputColumn], columns: Vec<ArrayRef>) -> Result<RecordBatch> {
    let fields: Vec<Field> = inputs
        .iter()
        .zip(&columns)
        .map(|(c, a)| Field::new(&c.name, a.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|source| AppError::Arrow {
        what: "assembling the rows".to_owned(),
        source,
    })
}

/// JSON rows as a batch of the model's input columns (floats and text), every cell checked.
fn json_batch(inputs: &[InputColumn], rows: &[Value]) -> Result<RecordBatch> {
    if rows.is_empty() {
        return Err(PredictError::NoRows.into());
    }
    let objects: Vec<&serde_json::Map<String, Value>> = rows
        .iter()
        .enumerate()
        .map(|(r, v)| object(r, v))
        .collect::<Result<_>>()?;
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(inputs.len());
    for col in inputs {
        let cells = objects
            .iter()
            .enumerate()
            .map(|(r, o)| raw(col, r, o.get(&col.name)));
        columns.push(match col.kind {
            ColumnKind::Numeric => Arc::new(
                cells
                    .map(|c| {
                        c.map(|v| match v {
                            RawValue::Number(x) => Some(x),
                            _ => None,
                        })
                    })
                    .collect::<Result<Float64Array>>()?,
            ),
            ColumnKind::Categorical => Arc::new(
                cells
                    .map(|c| {
                        c.map(|v| match v {
                            RawValue::Text(s) => Some(s),
                            _ => None,
                        })
                    })
                    .collect::<Result<StringArray>>()?,
            ),
        });
    }
    batch_of(inputs, columns)
}

fn unreadable(format: &'static str) -> impl Fn(ArrowError) -> AppError {
    move |e| {
        PredictError::Unreadable {
            format,
            reason: e.to_string(),
        }
        .into()
    }
}

/// CSV read as text, then the model's numeric columns parsed here, so a bad cell is named by row.
/// Empty cells are missing values.
fn csv_batch(inputs: &[InputColumn], bytes: &[u8]) -> Result<RecordBatch> {
    use millwright_data::arrow::csv::{reader::Format, ReaderBuilder};
    let format = Format::default().with_header(true);
    let (header, _) = format
        .infer_schema(Cursor::new(bytes), Some(0))
        .map_err(unreadable("CSV"))?;
    let text = Arc::new(Schema::new(
        header
            .fields()
            .iter()
            .map(|f| Field::new(f.name(), DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let mut positions = Vec::with_capacity(inputs.len());
    for col in inputs {
        let Ok(i) = text.index_of(&col.name) else {
            return Err(PredictError::MissingColumn {
                column: col.name.clone(),
                row: None,
                expected: col.kind.describe(),
            }
            .into());
        };
        positions.push(i);
    }
    let reader = ReaderBuilder::new(text.clone())
        .with_format(format)
        .with_batch_size(65_536)
        .with_projection(positions)
        .build(Cursor::new(bytes))
        .map_err(unreadable("CSV"))?;
    let batches = reader
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(unreadable("CSV"))?;
    let Some(first) = batches.first() else {
        return Err(PredictError::NoRows.into());
    };
    let all = concat_batches(&first.schema(), &batches).map_err(unreadable("CSV"))?;
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(inputs.len());
    for (c, col) in inputs.iter().enumerate() {
        let cells = all
            .column(c)
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("read as text");
        columns.push(match col.kind {
            ColumnKind::Categorical => Arc::new(
                cells
                    .iter()
                    .map(|v| v.filter(|s| !s.is_empty()))
                    .collect::<StringArray>(),
            ),
            ColumnKind::Numeric => Arc::new(
                cells
                    .iter()
                    .enumerate()
                    .map(|(row, v)| match v.map(str::trim) {
                        None | Some("") => Ok(None),
                        Some(s) => s.parse::<f64>().map(Some).map_err(|_| {
                            PredictError::BadValue {
                                column: col.name.clone(),
                                row,
                                found: describe_json(&Value::String(s.to_owned())),
                                expected: col.kind.describe(),
                            }
                            .into()
                        }),
                    })
                    .collect::<Result<Float64Array>>()?,
            ),
        });
    }
    batch_of(inputs, columns)
}

/// An Arrow IPC stream, or an IPC file (recognised by its `ARROW1` magic).
fn ipc_batch(bytes: &[u8]) -> Result<RecordBatch> {
    use millwright_data::arrow::ipc::reader::{FileReader, StreamReader};
    let (schema, batches) = if bytes.starts_with(b"ARROW1") {
        let reader =
            FileReader::try_new(Cursor::new(bytes), None).map_err(unreadable("Arrow IPC"))?;
        let schema = reader.schema();
        (schema, reader.collect::<std::result::Result<Vec<_>, _>>())
    } else {
        let reader =
            StreamReader::try_new(Cursor::new(bytes), None).map_err(unreadable("Arrow IPC"))?;
        let schema = reader.schema();
        (schema, reader.collect::<std::result::Result<Vec<_>, _>>())
    };
    let batches = batches.map_err(unreadable("Arrow IPC"))?;
    match batches.as_slice() {
        [one] => Ok(one.clone()),
        _ => concat_batches(&schema, &batches).map_err(unreadable("Arrow IPC")),
    }
}

/// Scores a file: `.csv`, `.jsonl`/`.ndjson` (one JSON object a line) or `.arrow`/`.arrows`/`.ipc`.
pub fn predict_file(cache: &ModelCache, spec: &str, path: &Path) -> Result<Predictions> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let bytes = std::fs::read(path).map_err(crate::error::io("cannot read", path))?;
    match ext.as_str() {
        "csv" => predict(cache, spec, PredictInput::Csv(&bytes)),
        "arrow" | "arrows" | "ipc" | "feather" => {
            predict(cache, spec, PredictInput::ArrowIpc(&bytes))
        }
        "jsonl" | "ndjson" | "json" => {
            let text = std::str::from_utf8(&bytes).map_err(|e| PredictError::Unreadable {
                format: "JSON lines",
                reason: e.to_string(),
            })?;
            let rows: Vec<Value> = text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
                .map(|(n, l)| {
                    serde_json::from_str(l).map_err(|e| PredictError::Unreadable {
                        format: "JSON lines",
                        reason: format!("line {}: {e}", n + 1),
                    })
                })
                .collect::<std::result::Result<_, _>>()?;
            predict(cache, spec, PredictInput::Json(&rows))
        }
        _ => Err(AppError::invalid(format!(
            "{}: score a .csv, .jsonl or .arrow (Arrow IPC) file; for Parquet use --output",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use millwright_data::arrow::array::Int64Array;
    use millwright_learn::model::ModelKind;
    use millwright_learn::registry;
    use millwright_learn::train::{self, KindChoice, NoObserver, TrainRequest};
    use serde_json::json;

    const TORQUE: &str = "Torque [Nm]";

    /// AI4I-like rows: a text `Type`, three numbers and a failure label that follows torque × wear.
    fn rows(n: usize) -> RecordBatch {
        let kind: Vec<&str> = (0..n).map(|i| ["L", "M", "H"][i % 3]).collect();
        let air: Vec<f64> = (0..n).map(|i| 298.0 + (i % 7) as f64 * 0.3).collect();
        let torque: Vec<f64> = (0..n).map(|i| 30.0 + (i * 7 % 13) as f64 * 2.5).collect();
        let wear: Vec<f64> = (0..n).map(|i| (i * 11 % 240) as f64).collect();
        let label: Vec<i64> = (0..n)
            .map(|i| i64::from(torque[i] * wear[i] > 7000.0))
            .collect();
        let schema = Schema::new(vec![
            Field::new("Type", DataType::Utf8, false),
            Field::new("Air temperature [K]", DataType::Float64, false),
            Field::new(TORQUE, DataType::Float64, false),
            Field::new("Tool wear [min]", DataType::Float64, false),
            Field::new("Machine failure", DataType::Int64, false),
        ]);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(kind)),
            Arc::new(Float64Array::from(air)),
            Arc::new(Float64Array::from(torque)),
            Arc::new(Float64Array::from(wear)),
            Arc::new(Int64Array::from(label)),
        ];
        RecordBatch::try_new(Arc::new(schema), columns).unwrap()
    }

    /// A home with `failure@1` (logistic) and `failure@2` (an MLP): different scores for the same rows.
    fn home() -> (tempfile::TempDir, Home) {
        let dir = tempfile::tempdir().unwrap();
        for kind in [ModelKind::Logistic, ModelKind::Mlp] {
            let mut req = TrainRequest::new("failure", "Machine failure");
            req.kind = KindChoice::One(kind);
            req.mlp.epochs = 3;
            train::train(dir.path(), &req, &rows(600), None, None, &mut NoObserver).unwrap();
        }
        let home = Home::new(dir.path());
        (dir, home)
    }

    fn json_rows(batch: &RecordBatch) -> Vec<Value> {
        let mut buf = Vec::new();
        let mut w = millwright_data::arrow::json::LineDelimitedWriter::new(&mut buf);
        w.write(batch).unwrap();
        w.finish().unwrap();
        String::from_utf8(buf)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn csv_bytes(batch: &RecordBatch) -> Vec<u8> {
        let mut buf = Vec::new();
        millwright_data::arrow::csv::WriterBuilder::new()
            .with_header(true)
            .build(&mut buf)
            .write(batch)
            .unwrap();
        buf
    }

    fn ipc_bytes(batch: &RecordBatch) -> Vec<u8> {
        let mut buf = Vec::new();
        let mut w =
            millwright_data::arrow::ipc::writer::StreamWriter::try_new(&mut buf, &batch.schema())
                .unwrap();
        // Two batches in one stream are scored as one.
        let half = batch.num_rows() / 2;
        w.write(&batch.slice(0, half)).unwrap();
        w.write(&batch.slice(half, batch.num_rows() - half))
            .unwrap();
        w.finish().unwrap();
        buf
    }

    fn input_error(err: AppError) -> PredictError {
        match err {
            AppError::Predict(e) => e,
            other => panic!("not an input error: {other:?}"),
        }
    }

    #[test]
    fn every_input_form_gives_the_same_scores() {
        let (_dir, home) = home();
        let cache = ModelCache::new(&home);
        let fresh = rows(300);
        let json = json_rows(&fresh);
        let csv = csv_bytes(&fresh);
        let ipc = ipc_bytes(&fresh);
        for spec in ["failure@1", "failure@2"] {
            let batch = predict(&cache, spec, PredictInput::Batch(&fresh)).unwrap();
            assert_eq!(batch.predictions.len(), 300);
            assert_eq!(batch.model_ref().to_string(), spec);
            let model = cache.get(spec).unwrap();
            assert_eq!(batch.threshold, model.threshold());
            // The scores are the model's own, and vary.
            let direct = model.predict_batch(&fresh).unwrap();
            let scores: Vec<f64> = batch.predictions.iter().map(|p| p.score).collect();
            assert_eq!(scores, direct);
            assert!(scores.iter().any(|&p| p > 0.5) && scores.iter().any(|&p| p < 0.5));
            assert_eq!(
                batch
                    .predictions
                    .iter()
                    .map(|p| p.decision.clone())
                    .collect::<Vec<_>>(),
                model.decide(&direct)
            );
            for (form, input) in [
                ("json", PredictInput::Json(&json)),
                ("csv", PredictInput::Csv(&csv)),
                ("ipc", PredictInput::ArrowIpc(&ipc)),
            ] {
                let got = predict(&cache, spec, input).unwrap();
                assert_eq!(got.predictions, batch.predictions, "{spec} {form}");
            }
            // One JSON row (the row path) scores as in the batch.
            for (r, row) in json.iter().enumerate().take(60) {
                let one =
                    predict(&cache, spec, PredictInput::Json(std::slice::from_ref(row))).unwrap();
                let (a, b) = (&one.predictions[0], &batch.predictions[r]);
                assert!((a.score - b.score).abs() <= 1e-12, "{spec} row {r}");
                assert_eq!(a.decision, b.decision);
            }
        }
        assert_eq!(cache.loaded(), 2);
    }

    #[test]
    fn a_missing_column_or_a_bad_value_is_named() {
        let (_dir, home) = home();
        let cache = ModelCache::new(&home);
        let mut json = json_rows(&rows(6));
        json[3].as_object_mut().unwrap().remove(TORQUE);
        let err = input_error(predict(&cache, "failure", PredictInput::Json(&json)).unwrap_err());
        assert_eq!((err.column(), err.row()), (Some(TORQUE), Some(3)), "{err}");
        assert!(err.to_string().contains("row 3") && err.to_string().contains(TORQUE));

        let mut json = json_rows(&rows(6));
        json[2][TORQUE] = json!("forty");
        let err = input_error(predict(&cache, "failure", PredictInput::Json(&json)).unwrap_err());
        assert!(
            matches!(&err, PredictError::BadValue { row: 2, found, .. } if found.contains("forty")),
            "{err}"
        );
        assert_eq!(err.column(), Some(TORQUE));
        // The row path says the same.
        let err =
            input_error(predict(&cache, "failure", PredictInput::Json(&json[2..3])).unwrap_err());
        assert!(
            matches!(err, PredictError::BadValue { row: 0, .. }),
            "{err}"
        );
        let mut one = json[0].clone();
        one["Type"] = json!(3);
        let err = input_error(
            predict(
                &cache,
                "failure",
                PredictInput::Json(std::slice::from_ref(&one)),
            )
            .unwrap_err(),
        );
        assert_eq!(err.column(), Some("Type"), "{err}");
        let err = input_error(
            predict(&cache, "failure", PredictInput::Json(&[json!([1, 2])])).unwrap_err(),
        );
        assert_eq!(err.row(), Some(0), "{err}");

        // CSV: the bad cell's data row; a missing column for every row.
        let csv = String::from_utf8(csv_bytes(&rows(8))).unwrap();
        let mut lines: Vec<String> = csv.lines().map(str::to_owned).collect();
        let mut cells: Vec<&str> = lines[6].split(',').collect();
        cells[2] = "oops";
        lines[6] = cells.join(",");
        let bad = lines.join("\n");
        let err =
            input_error(predict(&cache, "failure", PredictInput::Csv(bad.as_bytes())).unwrap_err());
        assert!(
            matches!(&err, PredictError::BadValue { row: 5, column, .. } if column == TORQUE),
            "{err}"
        );
        let without = rows(8).project(&[0, 1, 3]).unwrap();
        let err = input_error(
            predict(&cache, "failure", PredictInput::Csv(&csv_bytes(&without))).unwrap_err(),
        );
        assert!(
            matches!(&err, PredictError::MissingColumn { row: None, column, .. } if column == TORQUE),
            "{err}"
        );
        // Arrow: a text column where a number belongs.
        let fresh = rows(8);
        let mut fields: Vec<Field> = fresh
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields[2] = Field::new(TORQUE, DataType::Utf8, false);
        let mut cols = fresh.columns().to_vec();
        cols[2] = Arc::new(StringArray::from(vec!["1"; 8]));
        let texty = RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap();
        let err = input_error(
            predict(
                &cache,
                "failure",
                PredictInput::ArrowIpc(&ipc_bytes(&texty)),
            )
            .unwrap_err(),
        );
        assert!(matches!(err, PredictError::MistypedColumn { .. }), "{err}");
        assert_eq!(err.column(), Some(TORQUE));
        // Not Arrow at all, and no rows.
        let err = input_error(
            predict(&cache, "failure", PredictInput::ArrowIpc(b"not arrow")).unwrap_err(),
        );
        assert!(matches!(err, PredictError::Unreadable { .. }), "{err}");
        let err = input_error(predict(&cache, "failure", PredictInput::Json(&[])).unwrap_err());
        assert_eq!(err, PredictError::NoRows);
    }

    #[test]
    fn aliases_resolve_and_a_promote_takes_effect_on_the_next_call() {
        let (dir, home) = home();
        let h = dir.path();
        let cache = ModelCache::new(&home);
        let json = json_rows(&rows(20));
        let at = |spec: &str| predict(&cache, spec, PredictInput::Json(&json)).unwrap();
        assert!(matches!(
            cache.get("failure@production"),
            Err(AppError::Learn(LearnError::AliasNotFound { .. }))
        ));
        registry::promote(h, "failure@1", "production", "test").unwrap();
        let first = at("failure@production");
        assert_eq!(first.version, 1);
        assert_eq!(first.predictions, at("failure@1").predictions);
        registry::promote(h, "failure@2", "production", "test").unwrap();
        let second = at("failure@production");
        assert_eq!(second.version, 2);
        assert_eq!(second.predictions, at("failure@2").predictions);
        assert_ne!(first.predictions, second.predictions);
        registry::rollback(h, "failure", "production", "test").unwrap();
        assert_eq!(at("failure@production").version, 1);
        // Each version was loaded once.
        assert_eq!(cache.loaded(), 2);
        assert_eq!(at("failure").version, 2);
    }

    #[test]
    fn hostile_names_are_refused() {
        let (_dir, home) = home();
        let cache = ModelCache::new(&home);
        for spec in [
            "../x",
            "../failure@1",
            "failure@production/../../etc",
            "failure@../../1",
            "/etc/passwd",
            "failure/../failure@1",
        ] {
            assert!(
                matches!(
                    cache.get(spec),
                    Err(AppError::Learn(LearnError::InvalidSpec(_)))
                ),
                "{spec}"
            );
        }
        assert_eq!(cache.loaded(), 0);
    }

    #[test]
    fn scoring_from_many_threads_during_promotes() {
        let (dir, home) = home();
        let h = dir.path();
        let cache = ModelCache::new(&home);
        let json = json_rows(&rows(5));
        let expected: Vec<Vec<Scored>> = ["failure@1", "failure@2"]
            .iter()
            .map(|s| {
                predict(&cache, s, PredictInput::Json(&json))
                    .unwrap()
                    .predictions
            })
            .collect();
        registry::promote(h, "failure@1", "production", "test").unwrap();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..200 {
                        let p = predict(&cache, "failure@production", PredictInput::Json(&json))
                            .unwrap();
                        assert_eq!(p.predictions, expected[p.version as usize - 1]);
                    }
                });
            }
            s.spawn(|| {
                for i in 0..20 {
                    let v = i % 2 + 1;
                    registry::promote(h, &format!("failure@{v}"), "production", "t").unwrap();
                }
            });
        });
        assert_eq!(cache.loaded(), 2);
    }

    #[test]
    fn files_are_scored_by_their_extension() {
        let (dir, home) = home();
        let cache = ModelCache::new(&home);
        let fresh = rows(30);
        let expected = predict(&cache, "failure", PredictInput::Batch(&fresh)).unwrap();
        let jsonl: String = json_rows(&fresh).iter().map(|v| format!("{v}\n")).collect();
        for (name, bytes) in [
            ("rows.csv", csv_bytes(&fresh)),
            ("rows.jsonl", jsonl.into_bytes()),
            ("rows.arrows", ipc_bytes(&fresh)),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let got = predict_file(&cache, "failure", &path).unwrap();
            assert_eq!(got.predictions, expected.predictions, "{name}");
        }
        let path = dir.path().join("rows.txt");
        std::fs::write(&path, "x").unwrap();
        assert!(matches!(
            predict_file(&cache, "failure", &path),
            Err(AppError::Invalid(_))
        ));
    }
}
