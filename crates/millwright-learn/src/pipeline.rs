//! The feature pipeline: from an arrow batch of raw columns to the numeric matrix a model reads.
//!
//! Fitted on the training split only and stored in the model manifest, so predict runs the same
//! transform: derived features (SQL expressions, evaluated by a [`FeatureDeriver`]), dropping the
//! target, listed columns and time columns, imputing nulls with the training mean, one-hot for text
//! columns (a category unseen in training encodes as all zeros), then standardisation of every
//! output column with the training mean and population std (ddof = 0, as sklearn's StandardScaler).

use arrow::array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::error::{LearnError, Result};
use crate::matrix::Matrix;

/// Appends derived columns computed from SQL expressions over a batch's columns. Implemented with
/// DataFusion (millwright-data) by the crate that plugs the two together; this crate stays free of the
/// SQL engine.
pub trait FeatureDeriver: Send + Sync {
    /// `batch` with one column per `(name, expression)` appended, in order.
    fn derive(
        &self,
        batch: &RecordBatch,
        features: &[(String, String)],
    ) -> std::result::Result<RecordBatch, DeriveError>;
}

/// Any error, kept whole as a source (the SQL engine's, for derived features).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a [`FeatureDeriver`] could not compute the features: the feature that failed and the engine's
/// error. Becomes [`LearnError::Derive`].
#[derive(Debug)]
pub struct DeriveError {
    pub feature: String,
    pub source: BoxError,
}

impl From<DeriveError> for LearnError {
    fn from(e: DeriveError) -> LearnError {
        LearnError::Derive {
            feature: e.feature,
            source: e.source,
        }
    }
}

/// A derived feature: `name = expr` (SQL over the input columns).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DerivedFeature {
    pub name: String,
    pub expr: String,
}

impl DerivedFeature {
    /// Parses `NAME=EXPR` as given on the command line.
    pub fn parse(text: &str) -> Result<DerivedFeature> {
        let (name, expr) = text.split_once('=').ok_or_else(|| {
            LearnError::InvalidConfig(format!("feature '{text}' must be NAME=EXPRESSION"))
        })?;
        let (name, expr) = (name.trim(), expr.trim());
        if name.is_empty() || expr.is_empty() {
            return Err(LearnError::InvalidConfig(format!(
                "feature '{text}' must be NAME=EXPRESSION"
            )));
        }
        Ok(DerivedFeature {
            name: name.to_string(),
            expr: expr.to_string(),
        })
    }
}

/// How an input column is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    Numeric,
    Categorical,
}

impl ColumnKind {
    fn of(dt: &DataType) -> Option<ColumnKind> {
        match dt {
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Float16
            | DataType::Float32
            | DataType::Float64
            | DataType::Boolean
            | DataType::Decimal128(_, _)
            | DataType::Decimal256(_, _) => Some(ColumnKind::Numeric),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                Some(ColumnKind::Categorical)
            }
            DataType::Dictionary(_, value) => ColumnKind::of(value),
            _ => None,
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            ColumnKind::Numeric => "a number",
            ColumnKind::Categorical => "text",
        }
    }
}

fn is_time(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Timestamp(_, _)
            | DataType::Date32
            | DataType::Date64
            | DataType::Time32(_)
            | DataType::Time64(_)
    )
}

/// A raw column the model needs at predict time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputColumn {
    pub name: String,
    pub kind: ColumnKind,
    /// The arrow type seen in training (informational; any type of the same kind is accepted).
    pub trained_type: String,
}

/// One fitted transform, producing one (numeric) or several (one-hot) matrix columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "transform", rename_all = "snake_case")]
pub enum FittedColumn {
    Numeric {
        name: String,
        fill: f64,
        mean: f64,
        std: f64,
    },
    OneHot {
        name: String,
        categories: Vec<String>,
        means: Vec<f64>,
        stds: Vec<f64>,
    },
}

/// Why a column was left out; shown in the training report and stored in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DroppedColumn {
    pub name: String,
    pub reason: String,
}

/// What to fit: the target, the columns to leave out and derived features.
#[derive(Debug, Clone, Default)]
pub struct PipelineSpec {
    pub target: String,
    pub drop: Vec<String>,
    pub features: Vec<DerivedFeature>,
    /// Text columns with more distinct values than this (and more than half the rows) are treated as ids.
    pub max_categories: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pipeline {
    pub derived: Vec<DerivedFeature>,
    pub inputs: Vec<InputColumn>,
    pub columns: Vec<FittedColumn>,
    pub dropped: Vec<DroppedColumn>,
}

fn column_list(batch: &RecordBatch) -> String {
    batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The column as f64 (nulls as NaN-free `None`); errors on NaN/inf naming the row.
fn numeric_values(name: &str, array: &ArrayRef) -> Result<Vec<Option<f64>>> {
    let as_f64 = cast(array, &DataType::Float64)?;
    let values = as_f64
        .as_any()
        .downcast_ref::<Float64Array>()
        .expect("cast to Float64 yields Float64Array");
    let mut out = Vec::with_capacity(values.len());
    for (row, v) in values.iter().enumerate() {
        if let Some(x) = v {
            if !x.is_finite() {
                return Err(LearnError::NonFinite {
                    column: name.to_string(),
                    row,
                    value: x.to_string(),
                });
            }
        }
        out.push(v);
    }
    Ok(out)
}

fn text_values(array: &ArrayRef) -> Result<Vec<Option<String>>> {
    let as_text = cast(array, &DataType::Utf8)?;
    let values = as_text
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("cast to Utf8 yields StringArray");
    Ok(values.iter().map(|v| v.map(str::to_string)).collect())
}

/// Mean and population std of the present values (std 0 becomes 1 so constant columns map to 0).
fn mean_std(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let (mut n, mut sum) = (0usize, 0.0);
    for v in values.clone() {
        n += 1;
        sum += v;
    }
    if n == 0 {
        return (0.0, 1.0);
    }
    let mean = sum / n as f64;
    let var = values.map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64;
    let std = var.sqrt();
    (mean, if std > 0.0 { std } else { 1.0 })
}

impl Pipeline {
    /// Fits on the training batch. Returns the pipeline and the training matrix.
    pub fn fit(
        spec: &PipelineSpec,
        batch: &RecordBatch,
        deriver: Option<&dyn FeatureDeriver>,
    ) -> Result<(Pipeline, Matrix)> {
        if batch.num_rows() == 0 {
            return Err(LearnError::EmptyInput);
        }
        if batch.schema().index_of(&spec.target).is_err() {
            return Err(LearnError::TargetMissing(
                spec.target.clone(),
                column_list(batch),
            ));
        }
        for name in &spec.drop {
            if batch.schema().index_of(name).is_err() {
                return Err(LearnError::DropColumnMissing {
                    column: name.clone(),
                    available: column_list(batch),
                });
            }
        }
        let max_categories = if spec.max_categories == 0 {
            50
        } else {
            spec.max_categories
        };
        let mut inputs = Vec::new();
        let mut dropped = Vec::new();
        for field in batch.schema().fields() {
            let name = field.name();
            if name == &spec.target {
                continue;
            }
            if spec.drop.contains(name) {
                dropped.push(DroppedColumn {
                    name: name.clone(),
                    reason: "listed to drop".into(),
                });
                continue;
            }
            if is_time(field.data_type()) {
                dropped.push(DroppedColumn {
                    name: name.clone(),
                    reason: "time column".into(),
                });
                continue;
            }
            let Some(kind) = ColumnKind::of(field.data_type()) else {
                return Err(LearnError::UnsupportedType {
                    column: name.clone(),
                    found: field.data_type().to_string(),
                });
            };
            inputs.push(InputColumn {
                name: name.clone(),
                kind,
                trained_type: field.data_type().to_string(),
            });
        }
        // Id-like text columns (a distinct value on most rows) carry no signal and would explode the one-hot.
        let mut kept = Vec::new();
        for input in inputs {
            if input.kind == ColumnKind::Categorical {
                let values = text_values(
                    batch
                        .column_by_name(&input.name)
                        .expect("listed from the schema"),
                )?;
                let distinct: std::collections::BTreeSet<&str> =
                    values.iter().flatten().map(String::as_str).collect();
                if distinct.len() > max_categories && distinct.len() * 2 > batch.num_rows() {
                    dropped.push(DroppedColumn {
                        name: input.name.clone(),
                        reason: format!("id-like text column ({} distinct values)", distinct.len()),
                    });
                    continue;
                }
            }
            kept.push(input);
        }
        let mut pipeline = Pipeline {
            derived: spec.features.clone(),
            inputs: kept,
            columns: Vec::new(),
            dropped,
        };
        let prepared = pipeline.prepare(batch, deriver)?;
        let mut columns = Vec::new();
        for (field, array) in prepared.schema().fields().iter().zip(prepared.columns()) {
            let name = field.name().clone();
            let kind =
                ColumnKind::of(field.data_type()).ok_or_else(|| LearnError::UnsupportedType {
                    column: name.clone(),
                    found: field.data_type().to_string(),
                })?;
            match kind {
                ColumnKind::Numeric => {
                    let values = numeric_values(&name, array)?;
                    let (fill, _) = mean_std(values.iter().flatten().copied());
                    let filled = values.iter().map(|v| v.unwrap_or(fill));
                    let (mean, std) = mean_std(filled);
                    columns.push(FittedColumn::Numeric {
                        name,
                        fill,
                        mean,
                        std,
                    });
                }
                ColumnKind::Categorical => {
                    let values = text_values(array)?;
                    let categories: Vec<String> = values
                        .iter()
                        .flatten()
                        .cloned()
                        .collect::<std::collections::BTreeSet<_>>()
                        .into_iter()
                        .collect();
                    let index: BTreeMap<&str, usize> = categories
                        .iter()
                        .enumerate()
                        .map(|(i, c)| (c.as_str(), i))
                        .collect();
                    let (mut means, mut stds) = (Vec::new(), Vec::new());
                    for (i, _) in categories.iter().enumerate() {
                        let indicator = values.iter().map(|v| {
                            f64::from(u8::from(
                                v.as_deref().and_then(|s| index.get(s)) == Some(&i),
                            ))
                        });
                        let (m, s) = mean_std(indicator);
                        means.push(m);
                        stds.push(s);
                    }
                    columns.push(FittedColumn::OneHot {
                        name,
                        categories,
                        means,
                        stds,
                    });
                }
            }
        }
        if columns.is_empty() {
            return Err(LearnError::NoFeatures);
        }
        pipeline.columns = columns;
        let matrix = pipeline.encode(&prepared)?;
        Ok((pipeline, matrix))
    }

    /// The raw input columns (name and kind) a batch must have.
    pub fn input_columns(&self) -> &[InputColumn] {
        &self.inputs
    }

    /// Names of the matrix columns, in order (one per one-hot category).
    pub fn output_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in &self.columns {
            match c {
                FittedColumn::Numeric { name, .. } => out.push(name.clone()),
                FittedColumn::OneHot {
                    name, categories, ..
                } => out.extend(categories.iter().map(|cat| format!("{name}={cat}"))),
            }
        }
        out
    }

    pub fn width(&self) -> usize {
        self.columns
            .iter()
            .map(|c| match c {
                FittedColumn::Numeric { .. } => 1,
                FittedColumn::OneHot { categories, .. } => categories.len(),
            })
            .sum()
    }

    /// Checks the schema and projects the input columns, then appends the derived ones.
    fn prepare(
        &self,
        batch: &RecordBatch,
        deriver: Option<&dyn FeatureDeriver>,
    ) -> Result<RecordBatch> {
        let schema = batch.schema();
        let mut indices = Vec::with_capacity(self.inputs.len());
        for input in &self.inputs {
            let Ok(i) = schema.index_of(&input.name) else {
                return Err(LearnError::MissingColumn {
                    column: input.name.clone(),
                    expected: input.kind.describe().into(),
                });
            };
            let found = schema.field(i).data_type();
            if ColumnKind::of(found) != Some(input.kind) {
                return Err(LearnError::MistypedColumn {
                    column: input.name.clone(),
                    found: found.to_string(),
                    expected: format!("{} ({})", input.kind.describe(), input.trained_type),
                });
            }
            indices.push(i);
        }
        let projected = batch.project(&indices)?;
        if self.derived.is_empty() {
            return Ok(projected);
        }
        let deriver = deriver.ok_or_else(|| LearnError::NoDeriver {
            features: self
                .derived
                .iter()
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
        let pairs: Vec<(String, String)> = self
            .derived
            .iter()
            .map(|d| (d.name.clone(), d.expr.clone()))
            .collect();
        Ok(deriver.derive(&projected, &pairs)?)
    }

    /// Runs the fitted transform on a batch (schema checked, derived features computed).
    pub fn transform(
        &self,
        batch: &RecordBatch,
        deriver: Option<&dyn FeatureDeriver>,
    ) -> Result<Matrix> {
        if batch.num_rows() == 0 {
            return Err(LearnError::EmptyInput);
        }
        let prepared = self.prepare(batch, deriver)?;
        self.encode(&prepared)
    }

    fn encode(&self, prepared: &RecordBatch) -> Result<Matrix> {
        let rows = prepared.num_rows();
        let width = self.width();
        let mut data = vec![0.0; rows * width];
        let mut offset = 0;
        for column in &self.columns {
            match column {
                FittedColumn::Numeric {
                    name,
                    fill,
                    mean,
                    std,
                } => {
                    let array =
                        prepared
                            .column_by_name(name)
                            .ok_or_else(|| LearnError::MissingColumn {
                                column: name.clone(),
                                expected: "a number".into(),
                            })?;
                    // Serving hot path: a float column without nulls is read in place.
                    let dense = array
                        .as_any()
                        .downcast_ref::<Float64Array>()
                        .filter(|a| a.null_count() == 0);
                    if let Some(values) = dense {
                        for (r, &v) in values.values().iter().enumerate() {
                            if !v.is_finite() {
                                return Err(LearnError::NonFinite {
                                    column: name.clone(),
                                    row: r,
                                    value: v.to_string(),
                                });
                            }
                            data[r * width + offset] = (v - mean) / std;
                        }
                    } else {
                        for (r, v) in numeric_values(name, array)?.into_iter().enumerate() {
                            data[r * width + offset] = (v.unwrap_or(*fill) - mean) / std;
                        }
                    }
                    offset += 1;
                }
                FittedColumn::OneHot {
                    name,
                    categories,
                    means,
                    stds,
                } => {
                    let array =
                        prepared
                            .column_by_name(name)
                            .ok_or_else(|| LearnError::MissingColumn {
                                column: name.clone(),
                                expected: "text".into(),
                            })?;
                    let values = text_values(array)?;
                    for (r, v) in values.iter().enumerate() {
                        let hit = v
                            .as_deref()
                            .and_then(|s| categories.binary_search_by(|c| c.as_str().cmp(s)).ok());
                        for k in 0..categories.len() {
                            let indicator = f64::from(u8::from(hit == Some(k)));
                            data[r * width + offset + k] = (indicator - means[k]) / stds[k];
                        }
                    }
                    offset += categories.len();
                }
            }
        }
        Ok(Matrix::new(rows, width, data))
    }
}

/// One raw input cell of a row for [`RowEncoder`]: what the batch column would hold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RawValue<'a> {
    Number(f64),
    Text(&'a str),
    Null,
}

/// The fitted transform for one row of raw values in [`Pipeline::input_columns`] order, the column
/// mapping resolved once: scoring a row builds no arrow batch. Gives what [`Pipeline::transform`]
/// gives for a one-row batch of float and text columns.
#[derive(Debug, Clone)]
pub struct RowEncoder {
    inputs: Vec<InputColumn>,
    /// Each fitted column with the index of the input it reads.
    slots: Vec<(usize, FittedColumn)>,
    width: usize,
}

impl Pipeline {
    /// `None` when the pipeline derives features: they are SQL over a batch.
    pub fn row_encoder(&self) -> Option<RowEncoder> {
        if !self.derived.is_empty() {
            return None;
        }
        let slots = self
            .columns
            .iter()
            .map(|c| {
                let name = match c {
                    FittedColumn::Numeric { name, .. } | FittedColumn::OneHot { name, .. } => name,
                };
                let input = self.inputs.iter().position(|i| &i.name == name)?;
                Some((input, c.clone()))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(RowEncoder {
            inputs: self.inputs.clone(),
            slots,
            width: self.width(),
        })
    }
}

impl RowEncoder {
    /// Matrix columns written per row.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Writes the row's features into `out` (`width()` values); errors as `transform` would, row 0.
    pub fn encode(&self, values: &[RawValue<'_>], out: &mut [f64]) -> Result<()> {
        if values.len() != self.inputs.len() {
            return Err(LearnError::RowWidth {
                expected: self.inputs.len(),
                found: values.len(),
            });
        }
        let mut offset = 0;
        for (input, column) in &self.slots {
            let value = values[*input];
            offset += match column {
                FittedColumn::Numeric {
                    fill, mean, std, ..
                } => {
                    out[offset] = (self.number(*input, value)?.unwrap_or(*fill) - mean) / std;
                    1
                }
                FittedColumn::OneHot {
                    categories,
                    means,
                    stds,
                    ..
                } => {
                    let hit = self
                        .text(*input, value)?
                        .and_then(|s| categories.binary_search_by(|c| c.as_str().cmp(s)).ok());
                    for k in 0..categories.len() {
                        let indicator = f64::from(u8::from(hit == Some(k)));
                        out[offset + k] = (indicator - means[k]) / stds[k];
                    }
                    categories.len()
                }
            };
        }
        Ok(())
    }

    fn number(&self, input: usize, value: RawValue<'_>) -> Result<Option<f64>> {
        match value {
            RawValue::Number(v) if v.is_finite() => Ok(Some(v)),
            RawValue::Number(v) => Err(LearnError::NonFinite {
                column: self.inputs[input].name.clone(),
                row: 0,
                value: v.to_string(),
            }),
            RawValue::Null => Ok(None),
            RawValue::Text(_) => Err(self.mistyped(input, "Utf8")),
        }
    }

    fn text<'v>(&self, input: usize, value: RawValue<'v>) -> Result<Option<&'v str>> {
        match value {
            RawValue::Text(s) => Ok(Some(s)),
            RawValue::Null => Ok(None),
            RawValue::Number(_) => Err(self.mistyped(input, "Float64")),
        }
    }

    fn mistyped(&self, input: usize, found: &str) -> LearnError {
        let i = &self.inputs[input];
        LearnError::MistypedColumn {
            column: i.name.clone(),
            found: found.to_owned(),
            expected: format!("{} ({})", i.kind.describe(), i.trained_type),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, TimestampMillisecondArray};
    use arrow::datatypes::{Field, Schema};
    use std::sync::Arc;

    fn batch() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new(
                "ts",
                DataType::Timestamp(arrow::datatypes::TimeUnit::Millisecond, None),
                false,
            ),
            Field::new("type", DataType::Utf8, true),
            Field::new("temp", DataType::Float64, true),
            Field::new("label", DataType::Int64, false),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(vec![1, 2, 3, 4])),
                Arc::new(TimestampMillisecondArray::from(vec![1, 2, 3, 4])),
                Arc::new(StringArray::from(vec![
                    Some("L"),
                    Some("M"),
                    Some("L"),
                    None,
                ])),
                Arc::new(Float64Array::from(vec![
                    Some(1.0),
                    Some(3.0),
                    None,
                    Some(5.0),
                ])),
                Arc::new(Int64Array::from(vec![0, 1, 0, 1])),
            ],
        )
        .unwrap()
    }

    fn spec() -> PipelineSpec {
        PipelineSpec {
            target: "label".into(),
            drop: vec!["id".into()],
            ..Default::default()
        }
    }

    #[test]
    fn standardises_with_population_std_imputes_and_one_hots() {
        let (p, m) = Pipeline::fit(&spec(), &batch(), None).unwrap();
        assert_eq!(p.output_names(), vec!["type=L", "type=M", "temp"]);
        assert_eq!(
            p.dropped
                .iter()
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>(),
            vec!["id", "ts"]
        );
        // temp: null filled with the mean 3 → [1,3,3,5], mean 3, population std √2.
        let temp: Vec<f64> = (0..4).map(|r| m.row(r)[2]).collect();
        let s = 2f64.sqrt();
        assert_eq!(temp, vec![-2.0 / s, 0.0, 0.0, 2.0 / s]);
        // Each output column has mean 0 and population std 1.
        for c in 0..m.cols {
            let col: Vec<f64> = (0..4).map(|r| m.row(r)[c]).collect();
            let mean = col.iter().sum::<f64>() / 4.0;
            let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 4.0;
            assert!(
                mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-12,
                "column {c}"
            );
        }
    }

    #[test]
    fn unknown_category_encodes_as_zeros_not_an_error() {
        let (p, train) = Pipeline::fit(&spec(), &batch(), None).unwrap();
        let b = batch();
        let mut cols = b.columns().to_vec();
        cols[2] = Arc::new(StringArray::from(vec![
            Some("H"),
            Some("L"),
            Some("M"),
            Some("L"),
        ]));
        let other = RecordBatch::try_new(b.schema(), cols).unwrap();
        let m = p.transform(&other, None).unwrap();
        // Row 0 has the unseen "H": both indicators are 0, i.e. the same as row 3 (null) in training.
        assert_eq!(&m.row(0)[..2], &train.row(3)[..2]);
    }

    #[test]
    fn schema_errors_name_the_column() {
        let (p, _) = Pipeline::fit(&spec(), &batch(), None).unwrap();
        let b = batch();
        let missing = b.project(&[0, 1, 2, 4]).unwrap();
        let err = p.transform(&missing, None).unwrap_err().to_string();
        assert!(err.contains("'temp'"), "{err}");
        let schema = Arc::new(Schema::new(vec![
            Field::new("type", DataType::Utf8, true),
            Field::new("temp", DataType::Utf8, true),
        ]));
        let mistyped = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec!["L"])),
                Arc::new(StringArray::from(vec!["hot"])),
            ],
        )
        .unwrap();
        let err = p.transform(&mistyped, None).unwrap_err().to_string();
        assert!(err.contains("'temp'") && err.contains("Utf8"), "{err}");
        let empty = b.slice(0, 0);
        assert!(matches!(
            p.transform(&empty, None),
            Err(LearnError::EmptyInput)
        ));
    }

    #[test]
    fn non_finite_features_are_rejected_with_row() {
        let b = batch();
        let mut cols = b.columns().to_vec();
        cols[3] = Arc::new(Float64Array::from(vec![1.0, f64::NAN, 2.0, 3.0]));
        let bad = RecordBatch::try_new(b.schema(), cols).unwrap();
        let err = Pipeline::fit(&spec(), &bad, None).unwrap_err();
        assert!(
            matches!(err, LearnError::NonFinite { ref column, row: 1, .. } if column == "temp"),
            "{err}"
        );
        cols = b.columns().to_vec();
        cols[3] = Arc::new(Float64Array::from(vec![1.0, 2.0, f64::INFINITY, 3.0]));
        let bad = RecordBatch::try_new(b.schema(), cols).unwrap();
        assert!(Pipeline::fit(&spec(), &bad, None).is_err());
    }

    #[test]
    fn missing_target_and_derived_without_engine_are_clear_errors() {
        let mut s = spec();
        s.target = "failure".into();
        let err = Pipeline::fit(&s, &batch(), None).unwrap_err().to_string();
        assert!(err.contains("'failure'") && err.contains("temp"), "{err}");
        let mut s = spec();
        s.features = vec![DerivedFeature::parse("t2 = temp * 2").unwrap()];
        assert!(matches!(
            Pipeline::fit(&s, &batch(), None),
            Err(LearnError::NoDeriver { features }) if features == "t2"
        ));
        assert!(DerivedFeature::parse("nothing").is_err());
    }
}
