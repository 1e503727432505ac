//! Adapts a registered model to the twin's `FailureScorer`: one sensor snapshot → its raw values in the
//! model's input order → `Model::predict_row` (no arrow batch: the twin scores a part at a time);
//! several snapshots, or a model with derived features → an arrow batch → `Model::predict_batch`.
//!
//! Models trained on the raw AI4I file read `Type`, `Air temperature [K]`, ...; models trained on the
//! reference split read `type_L`, `air_temperature_k`, ... Both spellings are recognised.

use std::path::Path;
use std::sync::Arc;

use crate::error::{AppError, Result};
use millwright_core::ModelRef;
use millwright_data::arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use millwright_data::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use millwright_learn::pipeline::{ColumnKind, RawValue};
use millwright_learn::registry::Model;
use millwright_learn::task::Task;
use millwright_twin::{FailureScorer, ScorerError, SensorSnapshot, Variant};

use crate::derive::SqlDeriver;

/// Which snapshot value feeds a model column.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Source {
    /// The product variant letter (`L`, `M`, `H`).
    Variant,
    /// 1 when the variant is this one (a one-hot column of the reference split).
    IsVariant(Variant),
    Air,
    Process,
    Speed,
    Torque,
    Wear,
}

impl Source {
    /// The twin's column (AI4I spelling) this source comes from.
    fn twin_column(self) -> &'static str {
        match self {
            Source::Variant | Source::IsVariant(_) => "Type",
            Source::Air => "Air temperature [K]",
            Source::Process => "Process temperature [K]",
            Source::Speed => "Rotational speed [rpm]",
            Source::Torque => "Torque [Nm]",
            Source::Wear => "Tool wear [min]",
        }
    }

    fn raw(self, s: &SensorSnapshot) -> RawValue<'static> {
        match self {
            Source::Variant => RawValue::Text(s.product_type.letter()),
            other => RawValue::Number(other.value(s)),
        }
    }

    fn value(self, s: &SensorSnapshot) -> f64 {
        match self {
            Source::IsVariant(v) => f64::from(u8::from(s.product_type == v)),
            Source::Air => s.air_temperature_k,
            Source::Process => s.process_temperature_k,
            Source::Speed => s.rotational_speed_rpm,
            Source::Torque => s.torque_nm,
            Source::Wear => s.tool_wear_min,
            Source::Variant => f64::NAN,
        }
    }
}

/// Letters and digits only, lower case: `Air temperature [K]` and `air_temperature_k` both become `airtemperaturek`.
fn normalise(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn source_of(name: &str, kind: ColumnKind) -> Option<Source> {
    let n = normalise(name);
    Some(match (n.as_str(), kind) {
        ("type" | "producttype" | "variant", ColumnKind::Categorical) => Source::Variant,
        ("typel", ColumnKind::Numeric) => Source::IsVariant(Variant::L),
        ("typem", ColumnKind::Numeric) => Source::IsVariant(Variant::M),
        ("typeh", ColumnKind::Numeric) => Source::IsVariant(Variant::H),
        ("airtemperaturek" | "airtemperature", ColumnKind::Numeric) => Source::Air,
        ("processtemperaturek" | "processtemperature", ColumnKind::Numeric) => Source::Process,
        ("rotationalspeedrpm" | "rotationalspeed", ColumnKind::Numeric) => Source::Speed,
        ("torquenm" | "torque", ColumnKind::Numeric) => Source::Torque,
        ("toolwearmin" | "toolwear", ColumnKind::Numeric) => Source::Wear,
        _ => return None,
    })
}

pub(crate) struct ModelScorer {
    model: Model,
    schema: SchemaRef,
    sources: Vec<Source>,
}

impl ModelScorer {
    pub fn new(model: Model) -> Result<ModelScorer> {
        if model.manifest.task != Task::Binary {
            return Err(AppError::invalid(format!(
                "model {} is a {} model; the twin needs a binary failure model",
                model.spec(),
                model.manifest.task.name()
            )));
        }
        let mut fields = Vec::new();
        let mut sources = Vec::new();
        for col in model.input_columns() {
            let Some(source) = source_of(&col.name, col.kind) else {
                return Err(AppError::invalid(format!(
                    "model {} reads column '{}' ({}), which the twin's sensor snapshots cannot supply \
                     (they give Type, air/process temperature, rotational speed, torque and tool wear)",
                    model.spec(),
                    col.name,
                    col.kind.describe()
                )));
            };
            let dt = if source == Source::Variant {
                DataType::Utf8
            } else {
                DataType::Float64
            };
            fields.push(Field::new(&col.name, dt, false));
            sources.push(source);
        }
        Ok(ModelScorer {
            schema: Arc::new(Schema::new(fields)),
            sources,
            model,
        })
    }

    fn batch(
        &self,
        snapshots: &[SensorSnapshot],
    ) -> Result<RecordBatch, millwright_data::arrow::error::ArrowError> {
        let columns: Vec<ArrayRef> = self
            .sources
            .iter()
            .map(|&src| -> ArrayRef {
                if src == Source::Variant {
                    Arc::new(StringArray::from_iter_values(
                        snapshots.iter().map(|s| s.product_type.letter()),
                    ))
                } else {
                    Arc::new(Float64Array::from_iter_values(
                        snapshots.iter().map(|s| src.value(s)),
                    ))
                }
            })
            .collect();
        RecordBatch::try_new(self.schema.clone(), columns)
    }

    /// One snapshot through the model's row path: the same probability as a one-row batch.
    fn score_one(&self, s: &SensorSnapshot) -> Result<f64, ScorerError> {
        const STACK: usize = 16;
        let mut values = [RawValue::Null; STACK];
        let n = self.sources.len();
        let result = if n <= STACK {
            for (v, src) in values.iter_mut().zip(&self.sources) {
                *v = src.raw(s);
            }
            self.model.predict_row(&values[..n])
        } else {
            let values: Vec<RawValue<'_>> = self.sources.iter().map(|src| src.raw(s)).collect();
            self.model.predict_row(&values)
        };
        result.map_err(ScorerError::new)
    }
}

impl FailureScorer for ModelScorer {
    fn input_columns(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in &self.sources {
            let name = s.twin_column().to_string();
            if !out.contains(&name) {
                out.push(name);
            }
        }
        out
    }

    fn score(&self, snapshots: &[SensorSnapshot]) -> Result<Vec<f64>, ScorerError> {
        match snapshots {
            [] => return Ok(Vec::new()),
            [one] if self.model.predicts_rows() => return Ok(vec![self.score_one(one)?]),
            _ => {}
        }
        let batch = self.batch(snapshots).map_err(ScorerError::new)?;
        self.model.predict_batch(&batch).map_err(ScorerError::new)
    }

    fn describe(&self) -> String {
        format!("{} ({})", self.model.spec(), self.model.manifest.kind)
    }

    fn model(&self) -> Option<ModelRef> {
        let m = &self.model.manifest;
        Some(ModelRef::new(m.name.clone(), m.version))
    }

    fn default_threshold(&self) -> Option<f64> {
        Some(self.model.threshold())
    }
}

/// Loads `name@version` (or `name@latest`) from the registry as a twin failure scorer.
pub(crate) fn load_scorer(home: &Path, spec: &str) -> Result<Arc<dyn FailureScorer>> {
    let model = Model::load(home, spec)?.with_deriver(Arc::new(SqlDeriver::default()));
    Ok(Arc::new(ModelScorer::new(model)?))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use millwright_learn::metrics::ThresholdRule;
    use millwright_learn::model::ModelKind;
    use millwright_learn::train::{self, KindChoice, NoObserver, TrainRequest};

    fn snapshot(i: usize) -> SensorSnapshot {
        SensorSnapshot {
            product_type: [Variant::L, Variant::M, Variant::H][i % 3],
            air_temperature_k: 298.0 + (i % 7) as f64 * 0.3,
            process_temperature_k: 308.0 + (i % 5) as f64 * 0.4,
            rotational_speed_rpm: 1400.0 + (i % 11) as f64 * 20.0,
            torque_nm: 30.0 + (i % 13) as f64 * 2.0,
            tool_wear_min: (i * 7 % 240) as f64,
        }
    }

    /// A logistic model trained on the reference split's column names, where failures follow torque ×
    /// wear, its threshold chosen by max F1 (not the twin's default 0.5).
    pub(crate) fn trained_home() -> tempfile::TempDir {
        let home = tempfile::tempdir().unwrap();
        train_in(home.path(), ModelKind::Logistic);
        home
    }

    fn train_in(home: &Path, kind: ModelKind) {
        let snaps: Vec<SensorSnapshot> = (0..600).map(snapshot).collect();
        let col = |f: &dyn Fn(&SensorSnapshot) -> f64| -> ArrayRef {
            Arc::new(Float64Array::from_iter_values(snaps.iter().map(f)))
        };
        let names = [
            "type_L",
            "type_M",
            "type_H",
            "air_temperature_k",
            "process_temperature_k",
            "rotational_speed_rpm",
            "torque_nm",
            "tool_wear_min",
            "label",
        ];
        let columns = vec![
            col(&|s| f64::from(u8::from(s.product_type == Variant::L))),
            col(&|s| f64::from(u8::from(s.product_type == Variant::M))),
            col(&|s| f64::from(u8::from(s.product_type == Variant::H))),
            col(&|s| s.air_temperature_k),
            col(&|s| s.process_temperature_k),
            col(&|s| s.rotational_speed_rpm),
            col(&|s| s.torque_nm),
            col(&|s| s.tool_wear_min),
            col(&|s| f64::from(u8::from(s.torque_nm * s.tool_wear_min > 8000.0))),
        ];
        let schema = Schema::new(
            names
                .iter()
                .map(|n| Field::new(*n, DataType::Float64, false))
                .collect::<Vec<_>>(),
        );
        let batch = RecordBatch::try_new(Arc::new(schema), columns).unwrap();
        let mut req = TrainRequest::new("failure", "label");
        req.kind = KindChoice::One(kind);
        req.gbdt.iterations = 80;
        req.threshold = Some(ThresholdRule::MaxF1);
        train::train(home, &req, &batch, None, None, &mut NoObserver).unwrap();
    }

    #[test]
    fn scores_snapshots_like_the_model_scores_the_batch() {
        let home = trained_home();
        let scorer = load_scorer(home.path(), "failure@latest").unwrap();
        millwright_twin::check_scorer_columns(scorer.as_ref()).unwrap();
        assert!(scorer.describe().starts_with("failure@1"));
        let snaps: Vec<SensorSnapshot> = (0..50).map(snapshot).collect();
        let p = scorer.score(&snaps).unwrap();
        assert_eq!(p.len(), 50);
        // High torque × wear scores higher than low.
        let risky = p
            .iter()
            .zip(&snaps)
            .filter(|(_, s)| s.torque_nm * s.tool_wear_min > 9000.0)
            .map(|(p, _)| *p);
        let safe = p
            .iter()
            .zip(&snaps)
            .filter(|(_, s)| s.torque_nm * s.tool_wear_min < 4000.0)
            .map(|(p, _)| *p);
        let mean = |v: Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
        assert!(mean(risky.collect()) > mean(safe.collect()) + 0.3);
        // One row gives the same answer as in the batch.
        assert_eq!(scorer.score(&snaps[7..8]).unwrap()[0], p[7]);
    }

    #[test]
    fn one_snapshot_scores_as_a_batch_for_every_kind() {
        let snaps: Vec<SensorSnapshot> = (0..3000).map(|i| snapshot(i * 7 + 3)).collect();
        for kind in [ModelKind::Gbdt, ModelKind::Mlp, ModelKind::Logistic] {
            let home = tempfile::tempdir().unwrap();
            train_in(home.path(), kind);
            let model = Model::load(home.path(), "failure@latest").unwrap();
            let scorer = ModelScorer::new(model).unwrap();
            assert!(scorer.model.predicts_rows());
            let batch = scorer.score(&snaps).unwrap();
            for (i, s) in snaps.iter().enumerate() {
                let one = scorer.score(std::slice::from_ref(s)).unwrap()[0];
                assert!(
                    (one - batch[i]).abs() <= 1e-12,
                    "{kind} row {i}: {one} vs {}",
                    batch[i]
                );
            }
        }
    }

    #[test]
    fn the_scorer_carries_the_models_threshold() {
        let home = trained_home();
        let scorer = load_scorer(home.path(), "failure@latest").unwrap();
        let registered = Model::load(home.path(), "failure@latest")
            .unwrap()
            .threshold();
        assert_eq!(scorer.default_threshold(), Some(registered));
        assert!(
            registered != millwright_twin::DEFAULT_THRESHOLD,
            "{registered}"
        );
    }

    #[test]
    fn a_column_the_twin_cannot_supply_is_named() {
        assert_eq!(
            source_of("Torque [Nm]", ColumnKind::Numeric),
            Some(Source::Torque)
        );
        assert_eq!(
            source_of("Type", ColumnKind::Categorical),
            Some(Source::Variant)
        );
        assert_eq!(source_of("vibration_mm_s", ColumnKind::Numeric), None);
        let err = load_scorer(tempfile::tempdir().unwrap().path(), "nothing")
            .err()
            .unwrap();
        assert!(err.to_string().contains("nothing"), "{err}");
    }
}
