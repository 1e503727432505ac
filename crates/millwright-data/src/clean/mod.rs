//! Cleaning in two passes over the typed rows.
//!
//! Pass 1 ([`Cleaner::admit`]) applies the hard rules row by row — physical bounds, `missing = "drop"`,
//! duplicates — and quarantines the rows they reject. Statistics of the survivors then fit the soft rules
//! ([`Cleaner::fit`]): outlier fences, fill values, interpolation. Pass 2 ([`Cleaner::finish`]) applies
//! them: flag/clip/drop outliers, fill missing values, smooth noisy sensors.

pub mod config;
mod numeric;

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use deltalake::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, StringArray, UInt64Array,
};
use deltalake::arrow::compute::filter_record_batch;
use deltalake::arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema, SchemaRef};
use deltalake::arrow::record_batch::RecordBatch;
use deltalake::arrow::row::{RowConverter, SortField};
use serde::{Deserialize, Serialize};

pub use config::{
    BoundsAction, CleanConfig, ColumnRules, DuplicateMode, DuplicateRule, MissingRule,
    OutlierAction, OutlierMethod, ResolvedRules, SmoothMethod,
};

use crate::error::{DataError, Result};
use crate::quarantine::{QuarantineLog, QuarantineRow, RowText};
use crate::source::typed::truncate_text;
use crate::source::LINE_COLUMN;
use crate::stats::{quantile, StatsAccumulator, RESERVOIR_SIZE};
use crate::types::{arrow_schema, ColumnKind, ColumnSpec};
use numeric::{apply_bounds, clean_numbers, Number};

/// Suffix of the boolean column added by `outlier_action = "flag"`.
pub const OUTLIER_FLAG_SUFFIX: &str = "__outlier";

/// What cleaning did to one column, for the quality report.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ColumnActions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bounds: Option<BoundsReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outliers: Option<OutlierReport>,
    pub missing_rule: MissingRule,
    /// Missing cells filled by the missing rule.
    pub filled: u64,
    /// Rows quarantined because this column was missing (`missing = "drop"`).
    pub dropped_missing: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smoothing: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BoundsReport {
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub action: BoundsAction,
    pub violations: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OutlierReport {
    pub method: OutlierMethod,
    pub k: f64,
    /// Fences; absent when the column has no spread (every value equal), so nothing is an outlier.
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub found: u64,
    pub action: OutlierAction,
}

#[derive(Clone)]
enum Fill {
    None,
    Number(f64),
    /// A constant for an integer column, kept exact (an f64 holds integers exactly only up to 2^53).
    Int(i64),
    Text(String),
    Bool(bool),
    Ffill,
    Interpolate,
}

#[derive(Clone)]
struct ColumnPlan {
    spec: ColumnSpec,
    rules: ResolvedRules,
    /// Outlier detection applies (numeric column, method not none).
    detect_outliers: bool,
    fences: Option<(f64, f64)>,
    fill: Fill,
    actions: ColumnActions,
    survivors: Option<StatsAccumulator>,
    last_number: Option<f64>,
    last_int: Option<i64>,
    last_text: Option<String>,
    last_bool: Option<bool>,
    window: VecDeque<f64>,
    ewma: Option<f64>,
    /// Values of an interpolated column by survivor ordinal (NaN where nothing could be interpolated).
    interpolated: Arc<[f64]>,
}

/// The cleaner of one ingest. Cloned after [`Cleaner::fit`], pass 2 can run twice with the same result:
/// once for the quality report, once feeding the lake writer.
#[derive(Clone)]
pub struct Cleaner {
    plans: Vec<ColumnPlan>,
    duplicates: DuplicateRule,
    duplicate_columns: Vec<usize>,
    seen_rows: HashSet<u128>,
    duplicates_removed: u64,
    time_column: Option<usize>,
    output_schema: SchemaRef,
    source: Arc<str>,
    /// Survivor rows passed through [`Cleaner::finish`] so far.
    ordinal: usize,
    outliers_dropped: u64,
}

impl Cleaner {
    /// Checks the config against the columns and prepares the rules.
    pub fn new(config: &CleanConfig, columns: &[ColumnSpec], source: Arc<str>) -> Result<Cleaner> {
        let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
        config.check_columns(&names)?;
        let mut plans = Vec::with_capacity(columns.len());
        for spec in columns {
            let rules = config.rules_for(&spec.name);
            let own = config.columns.get(&spec.name);
            let numeric = spec.kind.is_numeric();
            let refuse = |what: &str| DataError::Column {
                column: spec.name.clone(),
                message: format!(
                    "{what} needs a numeric column, but this column is {}",
                    spec.kind.name()
                ),
            };
            if !numeric {
                if rules.min.is_some() || rules.max.is_some() {
                    return Err(refuse("min/max bounds"));
                }
                if matches!(
                    rules.missing,
                    MissingRule::Mean | MissingRule::Median | MissingRule::Interpolate
                ) {
                    return Err(refuse(&format!("missing = {:?}", rules.missing)));
                }
                if own
                    .and_then(|r| r.outliers)
                    .is_some_and(|m| m != OutlierMethod::None)
                {
                    return Err(refuse("outlier detection"));
                }
                if own
                    .and_then(|r| r.smooth)
                    .is_some_and(|m| m != SmoothMethod::None)
                {
                    return Err(refuse("smoothing"));
                }
            }
            let fill = match rules.missing {
                MissingRule::Constant => constant_fill(spec, rules.fill.as_ref())?,
                MissingRule::Ffill => Fill::Ffill,
                MissingRule::Interpolate => Fill::Interpolate,
                _ => Fill::None,
            };
            let detect_outliers = numeric && rules.outliers != OutlierMethod::None;
            let needs_stats = detect_outliers
                || matches!(
                    rules.missing,
                    MissingRule::Mean | MissingRule::Median | MissingRule::Mode
                );
            let smoothing = match (numeric, rules.smooth) {
                (true, SmoothMethod::RollingMedian) => {
                    Some(format!("rolling median, window {}", rules.window))
                }
                (true, SmoothMethod::Ewma) => Some(format!("EWMA, alpha {}", rules.alpha)),
                _ => None,
            };
            let bounds = (rules.min.is_some() || rules.max.is_some()).then_some(BoundsReport {
                min: rules.min,
                max: rules.max,
                action: rules.bounds_action,
                violations: 0,
            });
            plans.push(ColumnPlan {
                spec: spec.clone(),
                detect_outliers,
                fences: None,
                fill,
                actions: ColumnActions {
                    bounds,
                    missing_rule: rules.missing,
                    smoothing,
                    ..Default::default()
                },
                survivors: needs_stats.then(|| {
                    let quantiles =
                        matches!(rules.outliers, OutlierMethod::Iqr | OutlierMethod::Mad)
                            || rules.missing == MissingRule::Median;
                    StatsAccumulator::for_fitting(
                        spec.kind,
                        if quantiles { RESERVOIR_SIZE } else { 0 },
                        rules.missing == MissingRule::Mode,
                    )
                }),
                rules,
                last_number: None,
                last_int: None,
                last_text: None,
                last_bool: None,
                window: VecDeque::new(),
                ewma: None,
                interpolated: Arc::from(Vec::new()),
            });
        }
        let duplicate_columns = match config.duplicates.mode {
            DuplicateMode::None => Vec::new(),
            DuplicateMode::Exact => (0..columns.len()).collect(),
            DuplicateMode::Key => config
                .duplicates
                .key
                .iter()
                .map(|k| names.iter().position(|n| n == k).expect("checked above"))
                .collect(),
        };
        let time_column = config
            .time_column
            .as_ref()
            .map(|t| names.iter().position(|n| n == t).expect("checked above"));
        if let Some(t) = time_column {
            let kind = columns[t].kind;
            if !(kind.is_numeric() || kind == ColumnKind::Timestamp) {
                return Err(DataError::Column {
                    column: columns[t].name.clone(),
                    message: format!(
                        "time_column must be a timestamp or a number, but it is {}",
                        kind.name()
                    ),
                });
            }
        }
        let mut fields: Vec<Field> = arrow_schema(columns)
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        for plan in &plans {
            if plan.detect_outliers && plan.rules.outlier_action == OutlierAction::Flag {
                fields.push(Field::new(
                    format!("{}{OUTLIER_FLAG_SUFFIX}", plan.spec.name),
                    DataType::Boolean,
                    true,
                ));
            }
        }
        Ok(Cleaner {
            plans,
            duplicates: config.duplicates.clone(),
            duplicate_columns,
            seen_rows: HashSet::new(),
            duplicates_removed: 0,
            time_column,
            output_schema: Arc::new(Schema::new(fields)),
            source,
            ordinal: 0,
            outliers_dropped: 0,
        })
    }

    /// The file the next batches come from (an ingest of several files), as its quarantine rows name it.
    pub fn set_source(&mut self, source: Arc<str>) {
        self.source = source;
    }

    /// Schema of the cleaned batches: the columns plus any outlier flag columns.
    pub fn output_schema(&self) -> SchemaRef {
        self.output_schema.clone()
    }

    pub fn duplicates_removed(&self) -> u64 {
        self.duplicates_removed
    }

    pub fn outliers_dropped(&self) -> u64 {
        self.outliers_dropped
    }

    /// Whether [`Cleaner::prepare_interpolation`] must see the survivors before pass 2.
    pub fn needs_interpolation(&self) -> bool {
        self.plans
            .iter()
            .any(|p| matches!(p.fill, Fill::Interpolate))
    }

    /// What cleaning did, per column (in column order), after pass 2.
    pub fn actions(&self) -> Vec<(String, ColumnActions)> {
        self.plans
            .iter()
            .map(|p| (p.spec.name.clone(), p.actions.clone()))
            .collect()
    }

    /// Pass 1: bounds, `missing = "drop"` and duplicates. Rejected rows go to `quarantine`.
    pub fn admit(
        &mut self,
        batch: RecordBatch,
        quarantine: &mut QuarantineLog,
    ) -> Result<RecordBatch> {
        let mut reject = Rejections::new(batch.num_rows());
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        for (index, plan) in self.plans.iter_mut().enumerate() {
            let Some(bounds) = plan.actions.bounds.as_mut() else {
                continue;
            };
            let column = Some(index);
            let name = &plan.spec.name;
            if plan.spec.kind == ColumnKind::Int {
                let mut values = i64::read(&columns[index]);
                if apply_bounds(name, bounds, &mut values, column, &mut reject) {
                    columns[index] = i64::write(&values);
                }
            } else {
                let mut values = f64::read(&columns[index]);
                if apply_bounds(name, bounds, &mut values, column, &mut reject) {
                    columns[index] = f64::write(&values);
                }
            }
        }
        for (index, plan) in self.plans.iter_mut().enumerate() {
            if plan.rules.missing != MissingRule::Drop {
                continue;
            }
            let Some(nulls) = columns[index]
                .logical_nulls()
                .filter(|n| n.null_count() > 0)
            else {
                continue;
            };
            let reason: Arc<str> =
                format!("column {:?}: missing value (rule: drop)", plan.spec.name).into();
            for row in (!nulls.inner()).set_indices() {
                if reject.reject(row, Some(index), || reason.clone()) {
                    plan.actions.dropped_missing += 1;
                }
            }
        }
        if self.duplicates.mode != DuplicateMode::None {
            let selected: Vec<ArrayRef> = self
                .duplicate_columns
                .iter()
                .map(|&i| columns[i].clone())
                .collect();
            let fields: Vec<SortField> = selected
                .iter()
                .map(|a| SortField::new(a.data_type().clone()))
                .collect();
            let converter = RowConverter::new(fields)?;
            let encoded = converter.convert_columns(&selected)?;
            let reason: Arc<str> = match self.duplicates.mode {
                DuplicateMode::Key => format!(
                    "duplicate key ({}) of an earlier row",
                    self.duplicates.key.join(", ")
                )
                .into(),
                _ => "exact duplicate of an earlier row".into(),
            };
            for row in 0..reject.rows() {
                if reject.is_rejected(row) {
                    continue;
                }
                let hash = xxhash_rust::xxh3::xxh3_128(encoded.row(row).as_ref());
                if !self.seen_rows.insert(hash) {
                    self.duplicates_removed += 1;
                    reject.reject(row, None, || reason.clone());
                }
            }
        }
        let cleaned = RecordBatch::try_new(batch.schema(), columns)?;
        let admitted = self.quarantine_rows(&batch, &reject, quarantine)?;
        let admitted = match admitted {
            Some(keep) => filter_record_batch(&cleaned, &keep)?,
            None => cleaned,
        };
        for (index, plan) in self.plans.iter_mut().enumerate() {
            if let Some(acc) = plan.survivors.as_mut() {
                acc.observe(admitted.column(index));
            }
        }
        Ok(admitted)
    }

    /// Moves the rejected rows (formatted from `original`) to quarantine; returns the keep mask if any.
    fn quarantine_rows(
        &self,
        original: &RecordBatch,
        reject: &Rejections,
        quarantine: &mut QuarantineLog,
    ) -> Result<Option<BooleanArray>> {
        if reject.is_empty() {
            return Ok(None);
        }
        let data_columns = self.plans.len();
        let text = RowText::new(&original.columns()[..data_columns])?;
        let names: Vec<Arc<str>> = self
            .plans
            .iter()
            .map(|p| p.spec.name.as_str().into())
            .collect();
        let lines = line_numbers(original);
        let rejected: Vec<usize> = reject.rejected_rows().collect();
        for (text_of_row, &row) in text.rows(&rejected).into_iter().zip(&rejected) {
            let (column, reason) = reject.get(row).expect("rejected rows only");
            quarantine.push(QuarantineRow::new(
                &self.source,
                lines.map(|l| l.value(row)).unwrap_or(0),
                column.map(|c| names[c].clone()),
                column.map(|c| text.cell(c, row)),
                reason.clone(),
                truncate_text(text_of_row),
            ));
        }
        Ok(Some(
            (0..reject.rows())
                .map(|row| Some(!reject.is_rejected(row)))
                .collect(),
        ))
    }

    /// Between the passes: fits outlier fences and fill values on the survivors' statistics.
    pub fn fit(&mut self) {
        // Pass 1 is over: the duplicate index is not needed again (and need not be copied with the cleaner).
        self.seen_rows = HashSet::new();
        for plan in &mut self.plans {
            let Some(acc) = plan.survivors.take() else {
                continue;
            };
            let sorted = acc.sorted_sample();
            if plan.detect_outliers {
                let k = plan.rules.outlier_k;
                plan.fences = match plan.rules.outliers {
                    OutlierMethod::None => None,
                    OutlierMethod::Iqr => {
                        match (quantile(&sorted, 0.25), quantile(&sorted, 0.75)) {
                            (Some(q1), Some(q3)) => Some((q1 - k * (q3 - q1), q3 + k * (q3 - q1))),
                            _ => None,
                        }
                    }
                    OutlierMethod::Zscore => match (acc.mean(), acc.std()) {
                        (Some(mean), Some(std)) => Some((mean - k * std, mean + k * std)),
                        _ => None,
                    },
                    OutlierMethod::Mad => quantile(&sorted, 0.5).map(|median| {
                        let mut deviations: Vec<f64> =
                            sorted.iter().map(|x| (x - median).abs()).collect();
                        deviations.sort_by(f64::total_cmp);
                        // 1.4826·MAD estimates σ for normal data; a constant column has MAD 0 and no outliers.
                        let scale = 1.4826 * quantile(&deviations, 0.5).unwrap_or(0.0);
                        if scale > 0.0 {
                            (median - k * scale, median + k * scale)
                        } else {
                            (f64::NEG_INFINITY, f64::INFINITY)
                        }
                    }),
                };
                if let Some((low, high)) = plan.fences {
                    plan.actions.outliers = Some(OutlierReport {
                        method: plan.rules.outliers,
                        k,
                        low: low.is_finite().then_some(low),
                        high: high.is_finite().then_some(high),
                        found: 0,
                        action: plan.rules.outlier_action,
                    });
                }
            }
            plan.fill = match plan.rules.missing {
                MissingRule::Mean => acc.mean().map(Fill::Number).unwrap_or(Fill::None),
                MissingRule::Median => quantile(&sorted, 0.5)
                    .map(Fill::Number)
                    .unwrap_or(Fill::None),
                MissingRule::Mode => match plan.spec.kind {
                    ColumnKind::Int | ColumnKind::Float => {
                        acc.mode_number().map(Fill::Number).unwrap_or(Fill::None)
                    }
                    ColumnKind::Bool => acc
                        .mode_text()
                        .map(|t| Fill::Bool(t == "true"))
                        .unwrap_or(Fill::None),
                    ColumnKind::Timestamp => Fill::None,
                    _ => acc.mode_text().map(Fill::Text).unwrap_or(Fill::None),
                },
                _ => std::mem::replace(&mut plan.fill, Fill::None),
            };
        }
    }

    /// Between the passes, for `missing = "interpolate"`: reads every survivor once and fills the gaps
    /// linearly in the time column (or row order); ends take the nearest known value. Memory grows with
    /// rows × interpolated columns (8 bytes each), the one part of an ingest that is not constant-memory.
    pub fn prepare_interpolation(
        &mut self,
        batches: impl Iterator<Item = Result<RecordBatch>>,
    ) -> Result<()> {
        let targets: Vec<usize> = (0..self.plans.len())
            .filter(|&i| matches!(self.plans[i].fill, Fill::Interpolate))
            .collect();
        let mut values: Vec<Vec<f64>> = vec![Vec::new(); targets.len()];
        let mut times: Vec<f64> = Vec::new();
        for batch in batches {
            let batch = batch?;
            for (slot, &column) in targets.iter().enumerate() {
                values[slot].extend(
                    numbers(batch.column(column))
                        .into_iter()
                        .map(|v| v.unwrap_or(f64::NAN)),
                );
            }
            if let Some(t) = self.time_column {
                let mut last = times.last().copied().unwrap_or(f64::NEG_INFINITY);
                for v in numbers(batch.column(t)) {
                    last = v.unwrap_or(last);
                    times.push(last);
                }
            }
        }
        let order: Vec<usize> = {
            let mut order: Vec<usize> = (0..values.first().map_or(0, Vec::len)).collect();
            if !times.is_empty() {
                order.sort_by(|&a, &b| times[a].total_cmp(&times[b]));
            }
            order
        };
        for (slot, &column) in targets.iter().enumerate() {
            let x = |i: usize| if times.is_empty() { i as f64 } else { times[i] };
            interpolate_in_order(&mut values[slot], &order, x);
            self.plans[column].interpolated = Arc::from(std::mem::take(&mut values[slot]));
        }
        Ok(())
    }

    /// Pass 2: outliers, fills and smoothing. Returns the stored batch (no line column, plus flag columns).
    pub fn finish(
        &mut self,
        batch: RecordBatch,
        quarantine: &mut QuarantineLog,
    ) -> Result<RecordBatch> {
        let rows = batch.num_rows();
        let mut reject = Rejections::new(rows);
        let mut columns: Vec<ArrayRef> = batch.columns()[..self.plans.len()].to_vec();
        let mut flags: Vec<ArrayRef> = Vec::new();
        let start = self.ordinal;
        for (index, plan) in self.plans.iter_mut().enumerate() {
            let kind = plan.spec.kind;
            let untouched = kind.is_numeric()
                && (plan.fences.is_none() || plan.actions.outliers.is_none())
                && plan.rules.smooth == SmoothMethod::None
                && !matches!(plan.fill, Fill::Ffill)
                && (columns[index].null_count() == 0 || matches!(plan.fill, Fill::None));
            if untouched {
                // No rule can change this column here (a timestamp column, say): nothing to copy.
            } else if let Some(clipped) = clip_only(plan, &columns[index]) {
                columns[index] = clipped;
            } else if kind == ColumnKind::Int {
                let mut values = i64::read(&columns[index]);
                let cleaned = clean_numbers(plan, &mut values, start, index, &mut reject);
                flags.extend(cleaned.flags);
                if cleaned.changed {
                    columns[index] = i64::write(&values);
                }
            } else if kind.is_numeric() {
                let mut values = f64::read(&columns[index]);
                let cleaned = clean_numbers(plan, &mut values, start, index, &mut reject);
                flags.extend(cleaned.flags);
                if cleaned.changed {
                    columns[index] = f64::write(&values);
                }
            } else if columns[index].null_count() > 0 || matches!(plan.fill, Fill::Ffill) {
                if let Some(filled) = fill_non_numeric(plan, &columns[index])? {
                    columns[index] = filled;
                }
            } else if matches!(plan.fill, Fill::Ffill) {
                remember_last(plan, &columns[index]);
            }
        }
        self.ordinal += rows;
        let mut out_columns = columns;
        out_columns.extend(flags);
        let cleaned = RecordBatch::try_new(self.output_schema.clone(), out_columns)?;
        match self.quarantine_rows(&batch, &reject, quarantine)? {
            Some(keep) => {
                self.outliers_dropped += reject.count() as u64;
                Ok(filter_record_batch(&cleaned, &keep)?)
            }
            None => Ok(cleaned),
        }
    }
}

/// The rows of one batch set aside, each with its column (if one) and reason. A row holds a 4-byte index
/// into the reasons, allocated at the first rejection: most pass-2 batches reject nothing, and a
/// (column, reason) slot per row had been 2 MiB of fresh memory per batch.
struct Rejections {
    rows: usize,
    /// 0 for a kept row, else 1 + the index of its reason.
    slots: Vec<u32>,
    reasons: Vec<(Option<usize>, Arc<str>)>,
}

impl Rejections {
    fn new(rows: usize) -> Self {
        Rejections {
            rows,
            slots: Vec::new(),
            reasons: Vec::new(),
        }
    }

    fn rows(&self) -> usize {
        self.rows
    }

    fn is_empty(&self) -> bool {
        self.reasons.is_empty()
    }

    /// Rows rejected.
    fn count(&self) -> usize {
        self.slots.iter().filter(|&&s| s != 0).count()
    }

    fn is_rejected(&self, row: usize) -> bool {
        self.slots.get(row).is_some_and(|&s| s != 0)
    }

    /// Rejects `row` for `reason` unless it already is rejected; true when it was not.
    fn reject(
        &mut self,
        row: usize,
        column: Option<usize>,
        reason: impl FnOnce() -> Arc<str>,
    ) -> bool {
        if self.slots.is_empty() {
            self.slots = vec![0; self.rows];
        }
        if self.slots[row] != 0 {
            return false;
        }
        // Rows rejected by one rule share its reason: one entry, not one per row.
        let reason = reason();
        let same = matches!(self.reasons.last(), Some((c, last)) if *c == column && Arc::ptr_eq(last, &reason));
        if !same {
            self.reasons.push((column, reason));
        }
        self.slots[row] = self.reasons.len() as u32;
        true
    }

    fn get(&self, row: usize) -> Option<&(Option<usize>, Arc<str>)> {
        match self.slots.get(row) {
            Some(&s) if s != 0 => self.reasons.get(s as usize - 1),
            _ => None,
        }
    }

    fn rejected_rows(&self) -> impl Iterator<Item = usize> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, &s)| s != 0)
            .map(|(row, _)| row)
    }
}

/// Pass 2 of a float column that needs at most clipping (nothing to fill, no smoothing, outliers clipped or
/// not detected): works on the value buffer instead of per-cell options, the common case and many times
/// cheaper. `None` when the general path is needed.
fn clip_only(plan: &mut ColumnPlan, array: &ArrayRef) -> Option<ArrayRef> {
    if plan.spec.kind != ColumnKind::Float || plan.rules.smooth != SmoothMethod::None {
        return None;
    }
    let floats = array.as_primitive_opt::<Float64Type>()?;
    match plan.fill {
        _ if floats.null_count() > 0 && !matches!(plan.fill, Fill::None) => return None,
        Fill::Ffill if !floats.is_empty() => {
            plan.last_number = Some(floats.value(floats.len() - 1));
        }
        _ => {}
    }
    let ((low, high), report) = match (plan.fences, plan.actions.outliers.as_mut()) {
        (Some(fences), Some(report)) if report.action == OutlierAction::Clip => (fences, report),
        (Some(_), Some(_)) => return None,
        _ => return Some(array.clone()),
    };
    let values = floats.values();
    let outside = |v: f64| v < low || v > high;
    let found = match floats.nulls() {
        None => values.iter().filter(|&&v| outside(v)).count(),
        Some(nulls) => values
            .iter()
            .zip(nulls.iter())
            .filter(|&(&v, valid)| valid && outside(v))
            .count(),
    };
    if found == 0 {
        return Some(array.clone());
    }
    report.found += found as u64;
    let clipped: Vec<f64> = values.iter().map(|v| v.clamp(low, high)).collect();
    Some(Arc::new(Float64Array::new(
        clipped.into(),
        floats.nulls().cloned(),
    )))
}

/// Fills a text or boolean column (constant, mode or forward fill), tracking the last value for ffill.
fn fill_non_numeric(plan: &mut ColumnPlan, array: &ArrayRef) -> Result<Option<ArrayRef>> {
    match plan.spec.kind {
        ColumnKind::Bool => {
            let values = array.as_boolean();
            let mut out = Vec::with_capacity(values.len());
            for value in values {
                let filled = match (value, &plan.fill) {
                    (Some(v), _) => {
                        plan.last_bool = Some(v);
                        Some(v)
                    }
                    (None, Fill::Bool(b)) => Some(*b),
                    (None, Fill::Ffill) => plan.last_bool,
                    (None, _) => None,
                };
                if value.is_none() && filled.is_some() {
                    plan.actions.filled += 1;
                }
                out.push(filled);
            }
            Ok(Some(Arc::new(BooleanArray::from(out))))
        }
        ColumnKind::String | ColumnKind::Categorical => {
            let values = array.as_string::<i32>();
            let mut out: Vec<Option<String>> = Vec::with_capacity(values.len());
            for value in values {
                let filled = match (value, &plan.fill) {
                    (Some(v), _) => {
                        if matches!(plan.fill, Fill::Ffill) {
                            plan.last_text = Some(v.to_string());
                        }
                        Some(v.to_string())
                    }
                    (None, Fill::Text(t)) => Some(t.clone()),
                    (None, Fill::Ffill) => plan.last_text.clone(),
                    (None, _) => None,
                };
                if value.is_none() && filled.is_some() {
                    plan.actions.filled += 1;
                }
                out.push(filled);
            }
            Ok(Some(Arc::new(StringArray::from(out))))
        }
        _ => Ok(None),
    }
}

fn remember_last(plan: &mut ColumnPlan, array: &ArrayRef) {
    if array.is_empty() {
        return;
    }
    let last = array.len() - 1;
    match plan.spec.kind {
        ColumnKind::Bool => plan.last_bool = Some(array.as_boolean().value(last)),
        ColumnKind::String | ColumnKind::Categorical => {
            plan.last_text = Some(array.as_string::<i32>().value(last).to_string());
        }
        _ => {}
    }
}

/// Linear interpolation of NaN gaps along `order` with abscissa `x`; leading/trailing gaps take the
/// nearest known value.
fn interpolate_in_order(values: &mut [f64], order: &[usize], x: impl Fn(usize) -> f64) {
    let mut previous: Option<usize> = None;
    let mut gap: Vec<usize> = Vec::new();
    for &i in order {
        if values[i].is_nan() {
            gap.push(i);
            continue;
        }
        for &g in &gap {
            values[g] = match previous {
                Some(p) => {
                    let (x0, x1) = (x(p), x(i));
                    let t = if x1 > x0 {
                        (x(g) - x0) / (x1 - x0)
                    } else {
                        0.5
                    };
                    values[p] + (values[i] - values[p]) * t
                }
                None => values[i],
            };
        }
        gap.clear();
        previous = Some(i);
    }
    if let Some(p) = previous {
        for &g in &gap {
            values[g] = values[p];
        }
    }
}

fn constant_fill(spec: &ColumnSpec, value: Option<&toml::Value>) -> Result<Fill> {
    let bad = |v: &toml::Value| DataError::Column {
        column: spec.name.clone(),
        message: format!("fill value {v} does not fit a {} column", spec.kind.name()),
    };
    let value = value.ok_or_else(|| DataError::Column {
        column: spec.name.clone(),
        message: "missing = \"constant\" needs a `fill` value".into(),
    })?;
    Ok(match (spec.kind, value) {
        (ColumnKind::Int, toml::Value::Integer(i)) => Fill::Int(*i),
        (ColumnKind::Float, toml::Value::Integer(i)) => Fill::Number(*i as f64),
        (ColumnKind::Float, toml::Value::Float(f)) if f.is_finite() => Fill::Number(*f),
        (ColumnKind::Bool, toml::Value::Boolean(b)) => Fill::Bool(*b),
        (ColumnKind::String | ColumnKind::Categorical, toml::Value::String(s)) => {
            Fill::Text(s.clone())
        }
        (_, other) => return Err(bad(other)),
    })
}

fn fmt_bound(bound: Option<f64>) -> String {
    bound.map_or_else(|| "-inf/inf".to_string(), |b| b.to_string())
}

fn line_numbers(batch: &RecordBatch) -> Option<&UInt64Array> {
    batch
        .schema()
        .index_of(LINE_COLUMN)
        .ok()
        .and_then(|i| batch.column(i).as_any().downcast_ref::<UInt64Array>())
}

/// A numeric column as optional f64 values.
fn numbers(array: &ArrayRef) -> Vec<Option<f64>> {
    match array.data_type() {
        DataType::Int64 => array
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.map(|v| v as f64))
            .collect(),
        DataType::Float64 => array.as_primitive::<Float64Type>().iter().collect(),
        DataType::Timestamp(_, _) => array
            .as_primitive::<deltalake::arrow::datatypes::TimestampMicrosecondType>()
            .iter()
            .map(|v| v.map(|v| v as f64))
            .collect(),
        _ => vec![None; array.len()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn float_batch(values: &[Option<f64>]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("x", DataType::Float64, true),
            Field::new(LINE_COLUMN, DataType::UInt64, false),
        ]));
        let lines: Vec<u64> = (2..values.len() as u64 + 2).collect();
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Float64Array::from(values.to_vec())),
                Arc::new(UInt64Array::from(lines)),
            ],
        )
        .unwrap()
    }

    fn fitted(config: &str, batches: &[RecordBatch]) -> (Cleaner, Vec<RecordBatch>) {
        let config: CleanConfig = toml::from_str(config).unwrap();
        let spec = ColumnSpec {
            name: "x".into(),
            kind: ColumnKind::Float,
            source_position: 0,
            epoch_unit: None,
        };
        let mut cleaner = Cleaner::new(&config, &[spec], Arc::from("t.csv")).unwrap();
        let mut log = QuarantineLog::default();
        let admitted = batches
            .iter()
            .map(|b| cleaner.admit(b.clone(), &mut log).unwrap())
            .collect();
        cleaner.fit();
        (cleaner, admitted)
    }

    #[test]
    fn clipping_keeps_missing_cells_and_counts_only_values() {
        let mut values: Vec<Option<f64>> = (0..100).map(|i| Some(f64::from(i % 10))).collect();
        values.extend([None, Some(1000.0), Some(-1000.0)]);
        let batch = float_batch(&values);
        let (mut cleaner, admitted) = fitted(
            "[defaults]\nmissing = \"keep\"\noutliers = \"zscore\"\noutlier_k = 2.0\noutlier_action = \"clip\"\n[duplicates]\nmode = \"none\"\n",
            &[batch],
        );
        let out = cleaner
            .finish(admitted[0].clone(), &mut QuarantineLog::default())
            .unwrap();
        let report = cleaner.actions()[0].1.outliers.clone().unwrap();
        let (low, high) = (report.low.unwrap(), report.high.unwrap());
        assert_eq!(report.found, 2);
        let x = out.column(0).as_primitive::<Float64Type>();
        assert_eq!((out.num_rows(), x.len(), x.null_count()), (103, 103, 1));
        assert!(x.is_null(100));
        assert_eq!((x.value(101), x.value(102)), (high, low));
        assert_eq!(x.value(3), 3.0);
    }

    #[test]
    fn pass_two_from_a_clone_gives_the_same_rows() {
        let first = float_batch(&[Some(1.0), None, Some(3.0), Some(90.0)]);
        let second = float_batch(&[None, Some(2.0), Some(2.5), None]);
        let (cleaner, admitted) = fitted(
            "[defaults]\nmissing = \"ffill\"\noutliers = \"iqr\"\noutlier_action = \"clip\"\n[columns.x]\nsmooth = \"ewma\"\n",
            &[first, second],
        );
        let run = |mut cleaner: Cleaner| {
            admitted
                .iter()
                .map(|b| {
                    cleaner
                        .finish(b.clone(), &mut QuarantineLog::default())
                        .unwrap()
                })
                .collect::<Vec<_>>()
        };
        let report_run = run(cleaner.clone());
        assert_eq!(report_run, run(cleaner));
        assert_eq!(
            report_run[1].column(0).null_count(),
            0,
            "ffill carried over"
        );
    }

    #[test]
    fn interpolation_is_linear_in_x_with_nearest_ends() {
        let mut v = vec![f64::NAN, 1.0, f64::NAN, f64::NAN, 4.0, f64::NAN];
        let order: Vec<usize> = (0..v.len()).collect();
        interpolate_in_order(&mut v, &order, |i| i as f64);
        assert_eq!(v, vec![1.0, 1.0, 2.0, 3.0, 4.0, 4.0]);
        let mut w = vec![0.0, f64::NAN, 10.0];
        let x = [0.0, 9.0, 10.0];
        interpolate_in_order(&mut w, &[0, 1, 2], |i| x[i]);
        assert_eq!(w[1], 9.0);
    }
}
