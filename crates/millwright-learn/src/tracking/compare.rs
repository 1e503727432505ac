//! Side-by-side comparison of two runs: which parameters differ and how the final metrics moved.

use std::collections::BTreeMap;

use serde::Serialize;

use super::catalog::RunRecord;
use super::history::ScalarHistory;

/// One key compared across two runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldDiff {
    /// Flattened key (`params.layers.0`, `accuracy`).
    pub key: String,
    /// Value in the first run (absent: the key is not there).
    pub a: Option<serde_json::Value>,
    /// Value in the second run.
    pub b: Option<serde_json::Value>,
    /// `b − a` when both are numbers.
    pub delta: Option<f64>,
    /// Whether both runs hold the same value.
    pub same: bool,
}

/// Two runs compared: parameters (with dataset, code version, seed, model kind) and final metrics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunComparison {
    /// First run's id.
    pub a: String,
    /// Second run's id.
    pub b: String,
    /// Every parameter key of either run, sorted.
    pub params: Vec<FieldDiff>,
    /// Every final metric of either run, sorted, plus `duration_s`.
    pub metrics: Vec<FieldDiff>,
    /// Last logged value of every per-epoch tag of either run (`loss/val`, ...).
    pub last_epoch: Vec<FieldDiff>,
}

impl RunComparison {
    /// Compares `a` with `b`; pass each run's history (from `metrics.jsonl`) for the last-epoch values.
    pub fn new(
        a: &RunRecord,
        history_a: &ScalarHistory,
        b: &RunRecord,
        history_b: &ScalarHistory,
    ) -> RunComparison {
        RunComparison {
            a: a.id.to_string(),
            b: b.id.to_string(),
            params: diff(&describe(a), &describe(b)),
            metrics: diff(&metrics(a), &metrics(b)),
            last_epoch: diff(&last_values(history_a), &last_values(history_b)),
        }
    }

    /// Only the parameters that differ.
    pub fn changed_params(&self) -> impl Iterator<Item = &FieldDiff> {
        self.params.iter().filter(|d| !d.same)
    }
}

/// The inputs of a run, flattened: model kind, dataset, code version, seed, and `params.*`.
fn describe(run: &RunRecord) -> BTreeMap<String, serde_json::Value> {
    let mut out = BTreeMap::new();
    out.insert("model_kind".into(), run.spec.model_kind.clone().into());
    out.insert("name".into(), run.spec.name.clone().into());
    if let Ok(dataset) = serde_json::to_value(&run.spec.dataset) {
        flatten("dataset", &dataset, &mut out);
    }
    out.insert(
        "code_version".into(),
        run.spec.code_version.to_string().into(),
    );
    out.insert(
        "seed".into(),
        run.spec.seed.map_or(serde_json::Value::Null, Into::into),
    );
    flatten("params", &run.spec.params, &mut out);
    out
}

fn metrics(run: &RunRecord) -> BTreeMap<String, serde_json::Value> {
    let mut out = BTreeMap::new();
    flatten("", &run.final_metrics, &mut out);
    if let Some(d) = run.duration_s {
        out.insert("duration_s".into(), d.into());
    }
    out
}

fn last_values(history: &ScalarHistory) -> BTreeMap<String, serde_json::Value> {
    history
        .tags()
        .into_iter()
        .filter_map(|tag| {
            history.last(&tag).map(|v| {
                (
                    tag,
                    serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, Into::into),
                )
            })
        })
        .collect()
}

/// `{"a": {"b": 1}, "c": [2]}` under `p` → `p.a.b = 1`, `p.c.0 = 2`.
fn flatten(prefix: &str, value: &serde_json::Value, out: &mut BTreeMap<String, serde_json::Value>) {
    let join = |key: &str| {
        if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        }
    };
    match value {
        serde_json::Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                flatten(&join(k), v, out);
            }
        }
        serde_json::Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                flatten(&join(&i.to_string()), v, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

fn diff(
    a: &BTreeMap<String, serde_json::Value>,
    b: &BTreeMap<String, serde_json::Value>,
) -> Vec<FieldDiff> {
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .map(|key| {
            let (va, vb) = (a.get(key), b.get(key));
            let delta = match (
                va.and_then(serde_json::Value::as_f64),
                vb.and_then(serde_json::Value::as_f64),
            ) {
                (Some(x), Some(y)) => Some(y - x),
                _ => None,
            };
            FieldDiff {
                key: key.clone(),
                a: va.cloned(),
                b: vb.cloned(),
                delta,
                same: va == vb,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatten_names_nested_keys() {
        let mut out = BTreeMap::new();
        flatten(
            "params",
            &serde_json::json!({"layers": [32, 16], "adam": {"lr": 0.001}}),
            &mut out,
        );
        assert_eq!(out["params.layers.1"], serde_json::json!(16));
        assert_eq!(out["params.adam.lr"], serde_json::json!(0.001));
    }

    #[test]
    fn diff_gives_deltas_and_missing_keys() {
        let a = BTreeMap::from([
            ("acc".to_string(), serde_json::json!(0.9)),
            ("only_a".to_string(), serde_json::json!(1)),
        ]);
        let b = BTreeMap::from([("acc".to_string(), serde_json::json!(0.95))]);
        let d = diff(&a, &b);
        assert_eq!(d.len(), 2);
        assert!((d[0].delta.unwrap() - 0.05).abs() < 1e-12);
        assert!(!d[0].same);
        assert_eq!(d[1].key, "only_a");
        assert_eq!(d[1].b, None);
    }
}
