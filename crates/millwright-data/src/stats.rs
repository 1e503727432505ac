//! Streaming column statistics for the quality report and for fitting cleaning rules.
//! Bounded memory per column: Welford moments, a fixed-size reservoir for quantiles (exact below its size),
//! and distinct values counted up to a cap.

use std::borrow::Cow;
use std::collections::HashMap;

use deltalake::arrow::array::{Array, ArrayRef, AsArray, PrimitiveArray, StringArray};
use deltalake::arrow::datatypes::{
    ArrowPrimitiveType, Float64Type, Int64Type, TimestampMicrosecondType,
};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::distinct::DistinctBits;
use crate::types::ColumnKind;

/// Values kept for quantiles; quantiles are exact for columns up to this many values, sampled beyond.
/// (32 Ki values put p1/p99 within about ±0.06 percentile points; more costs time on every column.)
pub const RESERVOIR_SIZE: usize = 32_768;
/// Distinct values counted exactly up to this number; beyond it the report says "at least".
pub const DISTINCT_CAP: usize = 10_000;

/// The statistics of one column at one point of the pipeline.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ColumnStats {
    /// Non-missing values.
    pub count: u64,
    pub missing: u64,
    pub distinct: u64,
    /// True when `distinct` reached the cap (the real number is at least that).
    pub distinct_capped: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    /// Sample standard deviation (n − 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub std: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p1: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p50: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p99: Option<f64>,
}

/// Reservoir sampling, Li's "Algorithm L": after the reservoir fills, random numbers are drawn only at
/// replacements (O(k log(n/k))), so sampling every cell of a 5 M-row column costs little.
#[derive(Debug, Clone)]
pub struct Reservoir {
    items: Vec<f64>,
    capacity: usize,
    seen: u64,
    next: u64,
    w: f64,
    rng: SmallRng,
}

impl Reservoir {
    pub fn new(capacity: usize, seed: u64) -> Self {
        Reservoir {
            items: Vec::new(),
            capacity,
            seen: 0,
            next: 0,
            w: 1.0,
            rng: SmallRng::seed_from_u64(seed),
        }
    }

    fn open_unit(&mut self) -> f64 {
        self.rng.random::<f64>().max(f64::MIN_POSITIVE)
    }

    fn advance(&mut self) {
        self.w *= (self.open_unit().ln() / self.capacity as f64).exp();
        let skip = (self.open_unit().ln() / (1.0 - self.w).ln()).floor();
        self.next = self.seen + skip.min(u64::MAX as f64 / 2.0) as u64 + 1;
    }

    #[inline]
    pub fn push(&mut self, value: f64) {
        if self.capacity == 0 {
            return;
        }
        self.seen += 1;
        if self.items.len() < self.capacity {
            self.items.push(value);
            if self.items.len() == self.capacity {
                self.advance();
            }
        } else if self.seen == self.next {
            let slot = self.rng.random_range(0..self.capacity);
            self.items[slot] = value;
            self.advance();
        }
    }

    /// Pushes every value of `values` in order; the same sample as pushing them one by one, but after the
    /// reservoir fills only the replacement positions are visited.
    pub fn extend(&mut self, values: &[f64]) {
        if self.capacity == 0 {
            return;
        }
        let mut rest = values;
        while self.items.len() < self.capacity {
            let Some((&first, tail)) = rest.split_first() else {
                return;
            };
            self.push(first);
            rest = tail;
        }
        let base = self.seen;
        let end = base + rest.len() as u64;
        while self.next <= end {
            let slot = self.rng.random_range(0..self.capacity);
            self.items[slot] = rest[(self.next - base - 1) as usize];
            self.seen = self.next;
            self.advance();
        }
        self.seen = end;
    }

    /// The sample, sorted.
    pub fn sorted(&self) -> Vec<f64> {
        let mut v = self.items.clone();
        v.sort_by(f64::total_cmp);
        v
    }
}

/// Quantile of sorted values with linear interpolation (numpy's default).
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let position = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lower = position.floor() as usize;
    let upper = position.ceil() as usize;
    let fraction = position - lower as f64;
    Some(sorted[lower] + (sorted[upper] - sorted[lower]) * fraction)
}

/// Accumulates one column's statistics over batches.
#[derive(Debug, Clone)]
pub struct StatsAccumulator {
    kind: ColumnKind,
    count: u64,
    missing: u64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
    numeric_distinct: DistinctBits,
    /// Texts of up to seven bytes, packed into a key (see [`short_text_key`]): ids, codes and categories
    /// are counted without hashing or comparing strings.
    short_texts: DistinctBits,
    /// Longer texts; the two sets share [`DISTINCT_CAP`].
    text_counts: HashMap<String, u64, xxhash_rust::xxh3::Xxh3DefaultBuilder>,
    /// A longer text arrived when the distinct values had reached the cap (the tables track their own).
    long_texts_capped: bool,
    count_distinct: bool,
    reservoir: Reservoir,
    scratch: Vec<f64>,
}

impl StatsAccumulator {
    /// For the quality report: quantiles of numbers (a report shows none for timestamps, so they keep no
    /// sample), distinct values of every kind.
    pub fn new(kind: ColumnKind) -> Self {
        let reservoir = if kind.is_numeric() { RESERVOIR_SIZE } else { 0 };
        Self::build(kind, reservoir, true, false)
    }

    /// For fitting cleaning rules: `reservoir` 0 keeps no sample (no quantiles), and distinct values are
    /// counted only when `count_distinct` (the mode needs them); moments and extremes always.
    pub fn for_fitting(kind: ColumnKind, reservoir: usize, count_distinct: bool) -> Self {
        Self::build(kind, reservoir, count_distinct, true)
    }

    /// `numeric_counts`: count how often each number occurs (for the mode), not only which occur.
    fn build(
        kind: ColumnKind,
        reservoir: usize,
        count_distinct: bool,
        numeric_counts: bool,
    ) -> Self {
        let cap = |wanted: bool| {
            if wanted && count_distinct {
                DISTINCT_CAP
            } else {
                0
            }
        };
        // Timestamps are counted as numbers (their microseconds), like ints and floats.
        let numbers = matches!(
            kind,
            ColumnKind::Int | ColumnKind::Float | ColumnKind::Timestamp
        );
        StatsAccumulator {
            kind,
            count: 0,
            missing: 0,
            mean: 0.0,
            m2: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            numeric_distinct: DistinctBits::new(cap(numbers), numeric_counts),
            short_texts: DistinctBits::new(cap(!numbers), true),
            text_counts: HashMap::default(),
            long_texts_capped: false,
            count_distinct,
            reservoir: Reservoir::new(reservoir, 0x5eed),
            scratch: Vec::new(),
        }
    }

    fn distinct_capped(&self) -> bool {
        self.long_texts_capped || self.numeric_distinct.capped() || self.short_texts.capped()
    }

    /// Adds the values in `self.scratch`: moments merged per batch (Chan et al.), so the per-value loop
    /// has no division and vectorises.
    fn observe_scratch(&mut self) {
        let values = std::mem::take(&mut self.scratch);
        if !values.is_empty() {
            // Moments of timestamps are never reported or fitted.
            if self.kind.is_numeric() {
                let n_b = values.len() as f64;
                let mean_b = lane_sum(&values, |x| x) / n_b;
                let m2_b = lane_sum(&values, |x| (x - mean_b) * (x - mean_b));
                let n_a = self.count as f64;
                let n = n_a + n_b;
                let delta = mean_b - self.mean;
                self.mean += delta * n_b / n;
                self.m2 += m2_b + delta * delta * n_a * n_b / n;
            }
            self.reservoir.extend(&values);
            self.count += values.len() as u64;
            let (min, max) = extremes(&values);
            (self.min, self.max) = (self.min.min(min), self.max.max(max));
            if self.count_distinct {
                self.numeric_distinct.extend(&values);
            }
        }
        self.scratch = values;
        self.scratch.clear();
    }

    fn observe_text(&mut self, text: &str) {
        if let Some(key) = short_text_key(text) {
            return self.observe_short_text(key);
        }
        self.count += 1;
        if !self.count_distinct || self.distinct_capped() {
            return;
        }
        if let Some(n) = self.text_counts.get_mut(text) {
            *n += 1;
        } else if self.text_counts.len() + self.short_texts.len() < DISTINCT_CAP {
            self.text_counts.insert(text.to_string(), 1);
            self.short_texts
                .set_cap(DISTINCT_CAP - self.text_counts.len());
        } else {
            self.long_texts_capped = true;
        }
    }

    /// A text of up to seven bytes, as its key (see [`short_text_key`]).
    fn observe_short_text(&mut self, key: u64) {
        self.count += 1;
        if self.count_distinct && !self.distinct_capped() {
            self.short_texts.insert_bits(key);
        }
    }

    /// Every distinct text seen with its count.
    fn texts(&self) -> impl Iterator<Item = (Cow<'_, str>, u64)> {
        let short = self
            .short_texts
            .entries()
            .map(|(key, n)| (Cow::Owned(short_text(key)), n));
        let long = self
            .text_counts
            .iter()
            .map(|(text, &n)| (Cow::Borrowed(text.as_str()), n));
        short.chain(long)
    }

    pub fn observe(&mut self, array: &ArrayRef) {
        self.missing += array.null_count() as u64;
        match self.kind {
            ColumnKind::Int => {
                push_valid(&mut self.scratch, array.as_primitive::<Int64Type>(), |v| {
                    v as f64
                });
                self.observe_scratch();
            }
            ColumnKind::Float => {
                push_valid(
                    &mut self.scratch,
                    array.as_primitive::<Float64Type>(),
                    |v| v,
                );
                self.observe_scratch();
            }
            ColumnKind::Timestamp => {
                let array = array.as_primitive::<TimestampMicrosecondType>();
                push_valid(&mut self.scratch, array, |v| v as f64);
                self.observe_scratch();
            }
            ColumnKind::Bool => {
                for v in array.as_boolean().iter().flatten() {
                    self.observe_text(if v { "true" } else { "false" });
                }
            }
            ColumnKind::String | ColumnKind::Categorical => self.observe_texts(array.as_string()),
        }
    }

    /// [`Self::observe_text`] for every text of `array`, reading short texts' keys straight from the
    /// array's value buffer (one load and a mask, where building them text by text cost a copy each).
    fn observe_texts(&mut self, array: &StringArray) {
        let offsets = array.value_offsets();
        let data = array.value_data();
        for i in 0..array.len() {
            if array.is_null(i) {
                continue;
            }
            let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
            let len = end - start;
            match data.get(start..start + 8) {
                Some(word) if len <= 7 => {
                    let word = u64::from_le_bytes(word.try_into().expect("eight bytes"));
                    self.observe_short_text(pack_short_text(word, len));
                }
                _ => self.observe_text(array.value(i)),
            }
        }
    }

    pub fn mean(&self) -> Option<f64> {
        (self.count > 0 && self.kind.is_numeric()).then_some(self.mean)
    }

    pub fn std(&self) -> Option<f64> {
        (self.count > 1 && self.kind.is_numeric())
            .then(|| (self.m2 / (self.count - 1) as f64).sqrt())
    }

    pub fn sorted_sample(&self) -> Vec<f64> {
        self.reservoir.sorted()
    }

    /// Distinct numbers in the column, estimated: exact while the distinct set is below its cap, beyond it
    /// from the sample with the GEE estimator (Charikar et al., 2000: √(N/n)·f₁ + Σⱼ≥₂ fⱼ, with f₁ the
    /// values seen once in the sample), which is within a factor √(N/n) of the truth whatever the data.
    pub fn estimated_distinct(&self) -> f64 {
        if !self.numeric_distinct.capped() {
            return self.numeric_distinct.len() as f64;
        }
        let sample = self.reservoir.sorted();
        if sample.is_empty() {
            return self.numeric_distinct.len() as f64;
        }
        let (mut seen_once, mut seen_more) = (0usize, 0usize);
        for equal in sample.chunk_by(|a, b| a.total_cmp(b).is_eq()) {
            if equal.len() == 1 {
                seen_once += 1;
            } else {
                seen_more += 1;
            }
        }
        let scale = (self.count as f64 / sample.len() as f64).sqrt();
        (scale * seen_once as f64 + seen_more as f64).max(self.numeric_distinct.len() as f64)
    }

    /// The most frequent value (ties: the smallest number, or the first text in sort order).
    pub fn mode_number(&self) -> Option<f64> {
        self.numeric_distinct.mode()
    }

    pub fn mode_text(&self) -> Option<String> {
        self.texts()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|(text, _)| text.into_owned())
    }

    pub fn finish(&self) -> ColumnStats {
        let distinct = match self.kind {
            ColumnKind::Int | ColumnKind::Float | ColumnKind::Timestamp => {
                self.numeric_distinct.len()
            }
            _ => self.text_counts.len() + self.short_texts.len(),
        } as u64;
        let mut stats = ColumnStats {
            count: self.count,
            missing: self.missing,
            distinct,
            distinct_capped: self.distinct_capped(),
            ..Default::default()
        };
        if self.count == 0 {
            return stats;
        }
        match self.kind {
            ColumnKind::Int | ColumnKind::Float => {
                stats.min = Some(number(self.min));
                stats.max = Some(number(self.max));
                stats.mean = self.mean();
                stats.std = self.std();
                let sorted = self.sorted_sample();
                stats.p1 = quantile(&sorted, 0.01);
                stats.p50 = quantile(&sorted, 0.50);
                stats.p99 = quantile(&sorted, 0.99);
            }
            ColumnKind::Timestamp => {
                stats.min = Some(timestamp(self.min));
                stats.max = Some(timestamp(self.max));
            }
            ColumnKind::Bool | ColumnKind::String | ColumnKind::Categorical => {
                stats.min = self
                    .texts()
                    .map(|(t, _)| t)
                    .min()
                    .map(|t| t.into_owned().into());
                stats.max = self
                    .texts()
                    .map(|(t, _)| t)
                    .max()
                    .map(|t| t.into_owned().into());
            }
        }
        stats
    }
}

/// Appends the non-null values of `array` to `out` as f64, a run of valid values at a time (nulls are
/// rare in sensor data, so the runs are long): several times faster than iterating options.
fn push_valid<T: ArrowPrimitiveType>(
    out: &mut Vec<f64>,
    array: &PrimitiveArray<T>,
    to_f64: impl Fn(T::Native) -> f64,
) {
    let values = array.values();
    match array.nulls() {
        None => out.extend(values.iter().map(|&v| to_f64(v))),
        Some(nulls) => {
            for (start, end) in nulls.inner().set_slices() {
                out.extend(values[start..end].iter().map(|&v| to_f64(v)));
            }
        }
    }
}

/// Texts of at most seven bytes as one u64: the bytes in the low seven bytes, the length in the top one,
/// so different texts (including ones with NUL bytes) never share a key.
fn short_text_key(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    if bytes.len() > 7 {
        return None;
    }
    let mut word = [0u8; 8];
    word[..bytes.len()].copy_from_slice(bytes);
    Some(pack_short_text(u64::from_le_bytes(word), bytes.len()))
}

/// The key of the text in the low `len` (at most 7) bytes of `word` (little-endian); the rest is ignored.
fn pack_short_text(word: u64, len: usize) -> u64 {
    (word & ((1u64 << (8 * len)) - 1)) | ((len as u64) << 56)
}

fn short_text(key: u64) -> String {
    let word = key.to_le_bytes();
    let len = usize::from(word[7]);
    String::from_utf8_lossy(&word[..len]).into_owned()
}

/// Σ f(x) in eight independent lanes: a single running sum is one long dependency chain the compiler may
/// not reorder (float addition is not associative); eight lanes vectorise.
fn lane_sum(values: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let mut lanes = [0.0f64; 8];
    let chunks = values.chunks_exact(8);
    let tail: f64 = chunks.remainder().iter().map(|&x| f(x)).sum();
    for chunk in chunks {
        for (lane, &x) in lanes.iter_mut().zip(chunk) {
            *lane += f(x);
        }
    }
    lanes.iter().sum::<f64>() + tail
}

/// (min, max) in eight lanes of plain comparisons, which vectorise; the values are finite (the parser
/// rejects NaN and inf), so `f64::min`'s NaN handling is not needed.
fn extremes(values: &[f64]) -> (f64, f64) {
    let mut low = [f64::INFINITY; 8];
    let mut high = [f64::NEG_INFINITY; 8];
    let chunks = values.chunks_exact(8);
    let tail = chunks.remainder();
    for chunk in chunks {
        for ((l, h), &x) in low.iter_mut().zip(high.iter_mut()).zip(chunk) {
            *l = if x < *l { x } else { *l };
            *h = if x > *h { x } else { *h };
        }
    }
    let fold = |lanes: &[f64], start: f64, pick: fn(f64, f64) -> f64| {
        lanes.iter().chain(tail).fold(start, |a, &b| pick(a, b))
    };
    (
        fold(&low, f64::INFINITY, f64::min),
        fold(&high, f64::NEG_INFINITY, f64::max),
    )
}

fn number(x: f64) -> serde_json::Value {
    serde_json::Number::from_f64(x)
        .map(serde_json::Value::Number)
        .unwrap_or(serde_json::Value::Null)
}

fn timestamp(micros: f64) -> serde_json::Value {
    chrono::DateTime::from_timestamp_micros(micros as i64)
        .map(|t| t.to_rfc3339().into())
        .unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use deltalake::arrow::array::{Float64Array, TimestampMicrosecondArray};

    use super::*;

    #[test]
    fn moments_and_quantiles_are_exact_below_the_reservoir() {
        let values: Vec<Option<f64>> = (1..=101).map(|i| Some(i as f64)).chain([None]).collect();
        let array: ArrayRef = Arc::new(Float64Array::from(values));
        let mut acc = StatsAccumulator::new(ColumnKind::Float);
        acc.observe(&array);
        let s = acc.finish();
        assert_eq!((s.count, s.missing, s.distinct), (101, 1, 101));
        assert_eq!(s.mean, Some(51.0));
        assert!((s.std.unwrap() - 29.300170647967224).abs() < 1e-9);
        assert_eq!(s.p50, Some(51.0));
        assert_eq!(s.p1, Some(2.0));
        assert_eq!(s.min, Some(serde_json::json!(1.0)));
    }

    #[test]
    fn timestamps_count_distinct_values() {
        let micros = vec![0i64, 1_000_000, 0, 2_000_000];
        let array: ArrayRef =
            Arc::new(TimestampMicrosecondArray::from(micros).with_timezone("UTC"));
        let mut acc = StatsAccumulator::new(ColumnKind::Timestamp);
        acc.observe(&array);
        assert_eq!((acc.finish().count, acc.finish().distinct), (4, 3));
    }

    #[test]
    fn reservoir_extend_samples_exactly_like_push() {
        let values: Vec<f64> = (0..200_000).map(|i| i as f64).collect();
        let mut one_by_one = Reservoir::new(1000, 7);
        for &v in &values {
            one_by_one.push(v);
        }
        let mut batched = Reservoir::new(1000, 7);
        for chunk in values.chunks(4_097) {
            batched.extend(chunk);
        }
        assert_eq!(one_by_one.sorted(), batched.sorted());
        assert_eq!(one_by_one.seen, batched.seen);
    }

    #[test]
    fn reservoir_keeps_a_uniform_sample_of_a_long_stream() {
        let mut r = Reservoir::new(1000, 1);
        for i in 0..1_000_000 {
            r.push(i as f64);
        }
        let sorted = r.sorted();
        assert_eq!(sorted.len(), 1000);
        let median = quantile(&sorted, 0.5).unwrap();
        assert!((median - 500_000.0).abs() < 50_000.0, "median {median}");
    }

    #[test]
    fn short_and_long_texts_share_distinct_min_max_and_mode() {
        let texts = [
            "M001",
            "a much longer machine name",
            "M001",
            "",
            "a\0",
            "a",
            "温度",
            "温度",
            "温度",
            "a much longer machine name",
            "zz",
            "7 bytes",
        ];
        let array: ArrayRef = Arc::new(StringArray::from(texts.to_vec()));
        let mut acc = StatsAccumulator::for_fitting(ColumnKind::String, 0, true);
        acc.observe(&array);
        assert_eq!(acc.mode_text().as_deref(), Some("温度"));
        let s = acc.finish();
        assert_eq!((s.count, s.distinct, s.distinct_capped), (12, 8, false));
        assert_eq!(s.min, Some(serde_json::json!("")));
        assert_eq!(s.max, Some(serde_json::json!("温度")));

        let many: Vec<String> = (0..DISTINCT_CAP + 10)
            .map(|i| {
                if i % 2 == 0 {
                    format!("{i}")
                } else {
                    format!("long text {i}")
                }
            })
            .collect();
        let array: ArrayRef = Arc::new(StringArray::from(many));
        let mut acc = StatsAccumulator::new(ColumnKind::String);
        acc.observe(&array);
        let s = acc.finish();
        assert_eq!((s.distinct, s.distinct_capped), (DISTINCT_CAP as u64, true));
    }

    /// Keys read from the buffer (texts with eight bytes after their start) equal keys built text by text
    /// (texts at the end of the buffer).
    #[test]
    fn short_texts_at_the_end_of_the_buffer_count_as_the_same_texts() {
        let texts = ["ab", "x", "", "ab", "M001", "a\0", "x", "M001", "", "ab"];
        let array: ArrayRef = Arc::new(StringArray::from(texts.to_vec()));
        let mut acc = StatsAccumulator::for_fitting(ColumnKind::String, 0, true);
        acc.observe(&array);
        assert_eq!(acc.mode_text().as_deref(), Some("ab"));
        let s = acc.finish();
        assert_eq!((s.count, s.distinct), (10, 5));
    }

    #[test]
    fn text_distinct_and_mode() {
        let array: ArrayRef = Arc::new(StringArray::from(vec![
            Some("L"),
            Some("M"),
            Some("L"),
            None,
            Some("H"),
        ]));
        let mut acc = StatsAccumulator::new(ColumnKind::Categorical);
        acc.observe(&array);
        assert_eq!(acc.mode_text().as_deref(), Some("L"));
        let s = acc.finish();
        assert_eq!((s.count, s.missing, s.distinct), (4, 1, 3));
    }

    /// Columns with a few thousand values stay below a dictionary's capacity; columns of mostly distinct
    /// readings are estimated above it.
    #[test]
    fn estimated_distinct_tells_few_values_from_many() {
        let observe = |values: Vec<f64>| {
            let mut acc = StatsAccumulator::new(ColumnKind::Float);
            for chunk in values.chunks(65_536) {
                acc.observe(&(Arc::new(Float64Array::from(chunk.to_vec())) as ArrayRef));
            }
            acc.estimated_distinct()
        };
        let small = observe((0..50_000).map(|i| (i % 500) as f64).collect());
        assert_eq!(small, 500.0);
        // 40 k distinct values in 2 M rows: capped set, estimate from the sample.
        let moderate = observe(
            (0..2_000_000u64)
                .map(|i| ((i * 7919) % 40_000) as f64)
                .collect(),
        );
        assert!((10_000.0..131_072.0).contains(&moderate), "{moderate}");
        let many = observe(
            (0..2_000_000u64)
                .map(|i| ((i * 7919) % 1_000_003) as f64)
                .collect(),
        );
        assert!(many > 131_072.0, "{many}");
    }
}
