//! Train/test splits and k-fold cross-validation folds, reproducible from a seed.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{LearnError, Result};

/// Row indices of the two sides of a split.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

/// Groups row indices by class label (labels are class indices or 0/1).
fn by_class(y: &[f64]) -> Vec<Vec<usize>> {
    let mut groups: std::collections::BTreeMap<i64, Vec<usize>> = Default::default();
    for (i, &v) in y.iter().enumerate() {
        groups.entry(v.round() as i64).or_default().push(i);
    }
    groups.into_values().collect()
}

/// Stratified random split: each class keeps its share in the test side (`test_fraction` of its rows, rounded).
pub fn stratified(y: &[f64], test_fraction: f64, seed: u64) -> Result<Split> {
    if !(0.0..1.0).contains(&test_fraction) || test_fraction == 0.0 {
        return Err(LearnError::InvalidConfig(format!(
            "test fraction {test_fraction} must be in (0, 1)"
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for mut group in by_class(y) {
        group.shuffle(&mut rng);
        let n_test = ((group.len() as f64) * test_fraction).round() as usize;
        test.extend_from_slice(&group[..n_test]);
        train.extend_from_slice(&group[n_test..]);
    }
    train.shuffle(&mut rng);
    test.sort_unstable();
    Ok(Split { train, test })
}

/// Random split without stratification (regression targets).
pub fn random(n: usize, test_fraction: f64, seed: u64) -> Result<Split> {
    if !(0.0..1.0).contains(&test_fraction) || test_fraction == 0.0 {
        return Err(LearnError::InvalidConfig(format!(
            "test fraction {test_fraction} must be in (0, 1)"
        )));
    }
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let n_test = (n as f64 * test_fraction).round() as usize;
    let mut test = idx[..n_test].to_vec();
    test.sort_unstable();
    Ok(Split {
        train: idx[n_test..].to_vec(),
        test,
    })
}

/// Time-ordered split: the last `test_fraction` of rows by `time` (ties by row order) are the test side,
/// so the model is judged on the future, never trained on it.
pub fn time_ordered(time: &[i64], test_fraction: f64) -> Result<Split> {
    if !(0.0..1.0).contains(&test_fraction) || test_fraction == 0.0 {
        return Err(LearnError::InvalidConfig(format!(
            "test fraction {test_fraction} must be in (0, 1)"
        )));
    }
    let mut idx: Vec<usize> = (0..time.len()).collect();
    idx.sort_by_key(|&i| (time[i], i));
    let n_train = time.len() - (time.len() as f64 * test_fraction).round() as usize;
    Ok(Split {
        train: idx[..n_train].to_vec(),
        test: idx[n_train..].to_vec(),
    })
}

/// Stratified k folds (classification) or plain shuffled folds (`stratify = false`). Each fold's
/// `test` is its validation rows. Errors when a fold would miss a class on either side.
pub fn k_fold(y: &[f64], k: usize, seed: u64, stratify: bool) -> Result<Vec<Split>> {
    if k < 2 {
        return Err(LearnError::TooFewFolds { k });
    }
    if y.len() < k {
        return Err(LearnError::TooFewRowsForFolds { k, rows: y.len() });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut fold_of = vec![0usize; y.len()];
    let groups = if stratify {
        by_class(y)
    } else {
        vec![(0..y.len()).collect()]
    };
    let mut next = 0usize;
    for mut group in groups {
        group.shuffle(&mut rng);
        // Deal the rows round-robin, continuing where the last class stopped so folds stay balanced in size.
        for i in group {
            fold_of[i] = next % k;
            next += 1;
        }
    }
    let classes = if stratify { by_class(y).len() } else { 0 };
    let mut folds = Vec::with_capacity(k);
    for f in 0..k {
        let (test, train): (Vec<usize>, Vec<usize>) = (0..y.len()).partition(|&i| fold_of[i] == f);
        if stratify {
            let present =
                |rows: &[usize]| by_class(&rows.iter().map(|&i| y[i]).collect::<Vec<_>>()).len();
            if present(&train) < classes || present(&test) < classes {
                return Err(LearnError::DegenerateFold {
                    fold: f + 1,
                    k,
                    problem: "all rows of one class (a class has fewer rows than folds)".into(),
                });
            }
        }
        folds.push(Split { train, test });
    }
    Ok(folds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(n: usize, positives: usize) -> Vec<f64> {
        (0..n)
            .map(|i| if i < positives { 1.0 } else { 0.0 })
            .collect()
    }

    #[test]
    fn stratified_keeps_class_shares_and_is_seeded() {
        let y = labels(1000, 34);
        let s = stratified(&y, 0.2, 42).unwrap();
        assert_eq!(s.test.len(), 200);
        assert_eq!(s.test.iter().filter(|&&i| y[i] > 0.5).count(), 7);
        assert_eq!(s, stratified(&y, 0.2, 42).unwrap());
        assert_ne!(s, stratified(&y, 0.2, 43).unwrap());
        let mut all: Vec<usize> = s.train.iter().chain(&s.test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn time_split_tests_on_the_latest_rows() {
        let time = [5, 1, 4, 2, 3];
        let s = time_ordered(&time, 0.4).unwrap();
        assert_eq!(s.train, vec![1, 3, 4]);
        assert_eq!(s.test, vec![2, 0]);
    }

    #[test]
    fn folds_partition_and_keep_both_classes() {
        let y = labels(100, 10);
        let folds = k_fold(&y, 5, 1, true).unwrap();
        for f in &folds {
            assert_eq!(f.test.len(), 20);
            assert_eq!(f.test.iter().filter(|&&i| y[i] > 0.5).count(), 2);
        }
    }

    #[test]
    fn a_fold_without_one_class_is_an_error() {
        let y = labels(100, 3);
        let err = k_fold(&y, 5, 1, true).unwrap_err();
        assert!(
            matches!(err, LearnError::DegenerateFold { k: 5, .. }),
            "{err}"
        );
    }
}
