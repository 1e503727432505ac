//! Derived features for the learning pipeline, computed with the data layer's SQL engine (DataFusion).

use std::sync::{Arc, Mutex};

use millwright_data::arrow::array::RecordBatch;
use millwright_data::derive::CompiledFeatures;
use millwright_learn::pipeline::FeatureDeriver;

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
    ) -> Result<RecordBatch, String> {
        let schema = batch.schema();
        let compiled = {
            let mut cached = self.compiled.lock().unwrap_or_else(|p| p.into_inner());
            match cached.as_ref() {
                Some(c) if c.compiled_for(&schema, features) => c.clone(),
                _ => {
                    let fresh = Arc::new(
                        CompiledFeatures::compile(&schema, features).map_err(|e| e.to_string())?,
                    );
                    *cached = Some(fresh.clone());
                    fresh
                }
            }
        };
        compiled.apply(batch).map_err(|e| e.to_string())
    }
}
