//! Derived features for the learning pipeline, computed with the data layer's SQL engine (DataFusion).

use std::sync::{Arc, Mutex};

use millwright_data::arrow::array::RecordBatch;
use millwright_data::derive::CompiledFeatures;
use millwright_data::DataError;
use millwright_learn::pipeline::{DeriveError, FeatureDeriver};

/// Evaluates `NAME=EXPR` features with DataFusion, planning them once per input schema (a model scores
/// batches of one schema, so the plan is reused across calls).
#[derive(Default)]
pub(crate) struct SqlDeriver {
    compiled: Mutex<Option<Arc<CompiledFeatures>>>,
}

impl FeatureDeriver for SqlDeriver {
    fn derive(
        &self,
        batch: &RecordBatch,
        features: &[(String, String)],
    ) -> Result<RecordBatch, DeriveError> {
        let schema = batch.schema();
        let compiled = {
            let mut cached = self
                .compiled
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match cached.as_ref() {
                Some(c) if c.compiled_for(&schema, features) => c.clone(),
                _ => {
                    let fresh = Arc::new(
                        CompiledFeatures::compile(&schema, features)
                            .map_err(|e| derive_error(e, features))?,
                    );
                    *cached = Some(fresh.clone());
                    fresh
                }
            }
        };
        compiled.apply(batch).map_err(|e| derive_error(e, features))
    }
}

/// The feature an error names, or every feature when it names none.
fn derive_error(error: DataError, features: &[(String, String)]) -> DeriveError {
    let feature = match &error {
        DataError::Feature { feature, .. } => feature.clone(),
        DataError::Column { column, .. } => column.clone(),
        _ => features
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    };
    DeriveError {
        feature,
        source: Box::new(error),
    }
}
