//! The numeric rules of both passes (bounds, outlier fences, fills, smoothing) over one column's values,
//! generic over the cell type so that integer columns are compared and kept exactly.

use std::cmp::Ordering;
use std::sync::Arc;

use deltalake::arrow::array::{ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array};
use deltalake::arrow::datatypes::Int64Type;

use super::{
    fmt_bound, numbers, quantile, BoundsAction, BoundsReport, ColumnPlan, Fill, OutlierAction,
    Rejections, SmoothMethod,
};

/// A numeric cell: `f64` in float columns, `i64` in integer ones. Bounds and fences are f64; an f64 holds
/// integers exactly only up to 2^53, so integers are compared with them exactly instead of being
/// converted (9007199254740993 would become 9007199254740992).
pub(super) trait Number: Copy + std::fmt::Display {
    fn read(array: &ArrayRef) -> Vec<Option<Self>>;
    fn write(values: &[Option<Self>]) -> ArrayRef;
    /// Inside the physical bounds `[lo, hi]` (a NaN is not).
    fn within(self, lo: f64, hi: f64) -> bool;
    /// Outside the outlier fences (a NaN is not).
    fn outside(self, low: f64, high: f64) -> bool;
    /// The nearest value in `[lo, hi]`.
    fn clamp_to(self, lo: f64, hi: f64) -> Self;
    /// A computed value (a mean, an interpolation, a smoothed value); integers take the nearest one.
    fn from_f64(value: f64) -> Self;
    fn to_f64(self) -> f64;
    /// The value a constant or fitted fill puts in a missing cell.
    fn fill_value(fill: &Fill) -> Option<Self>;
    /// The last value seen, for forward fill.
    fn last(plan: &ColumnPlan) -> Option<Self>;
    fn set_last(plan: &mut ColumnPlan, value: Option<Self>);
}

impl Number for f64 {
    fn read(array: &ArrayRef) -> Vec<Option<f64>> {
        numbers(array)
    }
    fn write(values: &[Option<f64>]) -> ArrayRef {
        Arc::new(values.iter().copied().collect::<Float64Array>())
    }
    fn within(self, lo: f64, hi: f64) -> bool {
        self >= lo && self <= hi
    }
    fn outside(self, low: f64, high: f64) -> bool {
        self < low || self > high
    }
    fn clamp_to(self, lo: f64, hi: f64) -> f64 {
        self.clamp(lo, hi)
    }
    fn from_f64(value: f64) -> f64 {
        value
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn fill_value(fill: &Fill) -> Option<f64> {
        match fill {
            Fill::Number(v) => Some(*v),
            Fill::Int(i) => Some(*i as f64),
            _ => None,
        }
    }
    fn last(plan: &ColumnPlan) -> Option<f64> {
        plan.last_number
    }
    fn set_last(plan: &mut ColumnPlan, value: Option<f64>) {
        plan.last_number = value;
    }
}

impl Number for i64 {
    fn read(array: &ArrayRef) -> Vec<Option<i64>> {
        array.as_primitive::<Int64Type>().iter().collect()
    }
    fn write(values: &[Option<i64>]) -> ArrayRef {
        Arc::new(values.iter().copied().collect::<Int64Array>())
    }
    fn within(self, lo: f64, hi: f64) -> bool {
        let (low, high) = (cmp_int_float(self, lo), cmp_int_float(self, hi));
        matches!(low, Some(Ordering::Greater | Ordering::Equal))
            && matches!(high, Some(Ordering::Less | Ordering::Equal))
    }
    fn outside(self, low: f64, high: f64) -> bool {
        cmp_int_float(self, low) == Some(Ordering::Less)
            || cmp_int_float(self, high) == Some(Ordering::Greater)
    }
    fn clamp_to(self, lo: f64, hi: f64) -> i64 {
        // The nearest integers inside the bounds; `as` saturates at the ends of i64.
        if cmp_int_float(self, lo) == Some(Ordering::Less) {
            lo.ceil() as i64
        } else if cmp_int_float(self, hi) == Some(Ordering::Greater) {
            hi.floor() as i64
        } else {
            self
        }
    }
    fn from_f64(value: f64) -> i64 {
        value.round() as i64
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn fill_value(fill: &Fill) -> Option<i64> {
        match fill {
            Fill::Int(i) => Some(*i),
            Fill::Number(v) => Some(v.round() as i64),
            _ => None,
        }
    }
    fn last(plan: &ColumnPlan) -> Option<i64> {
        plan.last_int
    }
    fn set_last(plan: &mut ColumnPlan, value: Option<i64>) {
        plan.last_int = value;
    }
}

/// `value` against `bound` without rounding either; `None` when the bound is NaN.
fn cmp_int_float(value: i64, bound: f64) -> Option<Ordering> {
    // 2^63: every i64 is below it; below -2^63 every i64 is above.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if bound.is_nan() {
        return None;
    }
    if bound >= TWO_63 {
        return Some(Ordering::Less);
    }
    if bound < -TWO_63 {
        return Some(Ordering::Greater);
    }
    // In [-2^63, 2^63) the floor is an integer an i64 holds exactly.
    let floor = bound.floor();
    Some(match value.cmp(&(floor as i64)) {
        Ordering::Equal if bound > floor => Ordering::Less,
        other => other,
    })
}

/// Pass 1's physical bounds on one column: counts violations, quarantines, clips or empties the cells.
/// True when a value changed.
pub(super) fn apply_bounds<T: Number>(
    name: &str,
    bounds: &mut BoundsReport,
    values: &mut [Option<T>],
    column: Option<usize>,
    reject: &mut Rejections,
) -> bool {
    let (lo, hi) = (
        bounds.min.unwrap_or(f64::NEG_INFINITY),
        bounds.max.unwrap_or(f64::INFINITY),
    );
    let mut changed = false;
    for (row, value) in values.iter_mut().enumerate() {
        let Some(v) = *value else { continue };
        if v.within(lo, hi) {
            continue;
        }
        bounds.violations += 1;
        match bounds.action {
            BoundsAction::Drop => {
                reject.reject(row, column, || {
                    format!(
                        "column {name:?}: value {v} outside the physical bounds [{}, {}]",
                        fmt_bound(bounds.min),
                        fmt_bound(bounds.max)
                    )
                    .into()
                });
            }
            BoundsAction::Clip => {
                *value = Some(v.clamp_to(lo, hi));
                changed = true;
            }
            BoundsAction::Null => {
                *value = None;
                changed = true;
            }
        }
    }
    changed
}

/// What pass 2 did to one numeric column.
pub(super) struct NumbersCleaned {
    /// A value changed: the column must be rebuilt.
    pub changed: bool,
    /// The outlier flag column, under `outlier_action = "flag"`.
    pub flags: Option<ArrayRef>,
}

/// Pass 2 on one numeric column: outlier fences, then fills, then smoothing. `start` is the survivor
/// ordinal of the batch's first row (for interpolated values); `index` the column's position.
pub(super) fn clean_numbers<T: Number>(
    plan: &mut ColumnPlan,
    values: &mut [Option<T>],
    start: usize,
    index: usize,
    reject: &mut Rejections,
) -> NumbersCleaned {
    let (fenced, flags) = apply_fences(plan, values, index, reject);
    let filled = fill_gaps(plan, values, start);
    let smoothed = smooth(plan, values);
    NumbersCleaned {
        changed: fenced || filled || smoothed,
        flags,
    }
}

/// Counts the values outside the fitted fences and clips, quarantines or flags them.
fn apply_fences<T: Number>(
    plan: &mut ColumnPlan,
    values: &mut [Option<T>],
    index: usize,
    reject: &mut Rejections,
) -> (bool, Option<ArrayRef>) {
    let (Some((low, high)), Some(report)) = (plan.fences, plan.actions.outliers.as_mut()) else {
        return (false, None);
    };
    let flagging = report.action == OutlierAction::Flag;
    let mut flag = Vec::with_capacity(if flagging { values.len() } else { 0 });
    let mut changed = false;
    for (row, value) in values.iter_mut().enumerate() {
        let outlier = value.is_some_and(|v| v.outside(low, high));
        if let (true, Some(v)) = (outlier, *value) {
            report.found += 1;
            match report.action {
                OutlierAction::Clip => {
                    *value = Some(v.clamp_to(low, high));
                    changed = true;
                }
                OutlierAction::Drop => {
                    reject.reject(row, Some(index), || {
                        format!(
                            "column {:?}: outlier {v} outside [{low:.6}, {high:.6}] ({:?}, k = {})",
                            plan.spec.name, report.method, report.k
                        )
                        .into()
                    });
                }
                _ => {}
            }
        }
        if flagging {
            flag.push(Some(outlier));
        }
    }
    let flags = flagging.then(|| Arc::new(BooleanArray::from(flag)) as ArrayRef);
    (changed, flags)
}

/// Fills missing cells by the column's rule (constant, fitted value, forward fill, interpolation).
fn fill_gaps<T: Number>(plan: &mut ColumnPlan, values: &mut [Option<T>], start: usize) -> bool {
    if !values.iter().any(Option::is_none) {
        if let Some(last) = values.last() {
            T::set_last(plan, *last);
        }
        return false;
    }
    let mut changed = false;
    for (row, value) in values.iter_mut().enumerate() {
        if value.is_some() {
            T::set_last(plan, *value);
            continue;
        }
        let filled = match &plan.fill {
            Fill::Ffill => T::last(plan),
            Fill::Interpolate => plan
                .interpolated
                .get(start + row)
                .copied()
                .filter(|v| !v.is_nan())
                .map(T::from_f64),
            fill => T::fill_value(fill),
        };
        if filled.is_some() {
            *value = filled;
            plan.actions.filled += 1;
            changed = true;
        }
    }
    changed
}

/// Rolling median or EWMA, carried from batch to batch; the smoothed values are computed in f64.
fn smooth<T: Number>(plan: &mut ColumnPlan, values: &mut [Option<T>]) -> bool {
    match plan.rules.smooth {
        SmoothMethod::RollingMedian => {
            let mut sorted = Vec::with_capacity(plan.rules.window);
            for value in values.iter_mut() {
                let Some(v) = *value else { continue };
                if plan.window.len() == plan.rules.window {
                    plan.window.pop_front();
                }
                plan.window.push_back(v.to_f64());
                sorted.clear();
                sorted.extend(plan.window.iter().copied());
                sorted.sort_by(f64::total_cmp);
                *value = quantile(&sorted, 0.5).map(T::from_f64);
            }
            true
        }
        SmoothMethod::Ewma => {
            let alpha = plan.rules.alpha;
            for value in values.iter_mut() {
                let Some(v) = *value else { continue };
                let v = v.to_f64();
                let smoothed = plan
                    .ewma
                    .map_or(v, |previous| alpha * v + (1.0 - alpha) * previous);
                plan.ewma = Some(smoothed);
                *value = Some(T::from_f64(smoothed));
            }
            true
        }
        SmoothMethod::None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_compare_with_float_bounds_exactly() {
        let big = 9_007_199_254_740_993_i64; // 2^53 + 1: no f64 holds it
        let bound = 9_007_199_254_740_992.0; // 2^53
        assert_eq!(cmp_int_float(big, bound), Some(Ordering::Greater));
        assert!(!big.within(0.0, bound));
        assert!(big.within(0.0, f64::INFINITY));
        assert_eq!(big.clamp_to(0.0, bound), 9_007_199_254_740_992);
        assert_eq!(cmp_int_float(3, 2.5), Some(Ordering::Greater));
        assert_eq!(cmp_int_float(2, 2.5), Some(Ordering::Less));
        assert_eq!(cmp_int_float(-3, -2.5), Some(Ordering::Less));
        assert_eq!(cmp_int_float(i64::MAX, 9.3e18), Some(Ordering::Less));
        assert_eq!(cmp_int_float(i64::MIN, -9.3e18), Some(Ordering::Greater));
        assert_eq!(
            cmp_int_float(i64::MIN, -9_223_372_036_854_775_808.0),
            Some(Ordering::Equal)
        );
        assert_eq!(cmp_int_float(1, f64::NAN), None);
        assert_eq!(5_i64.clamp_to(0.5, 4.6), 4);
        assert_eq!(0_i64.clamp_to(0.5, 4.6), 1);
    }
}
