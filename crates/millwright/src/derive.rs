//! Derived features for the learning pipeline, computed with the data layer's SQL engine (DataFusion).

use millwright_data::arrow::array::RecordBatch;
use millwright_learn::pipeline::FeatureDeriver;

/// Evaluates `NAME=EXPR` features with `millwright_data::derive::derive_columns`.
pub struct SqlDeriver;

impl FeatureDeriver for SqlDeriver {
    fn derive(
        &self,
        batch: &RecordBatch,
        features: &[(String, String)],
    ) -> Result<RecordBatch, String> {
        millwright_data::derive::derive_columns(batch, features).map_err(|e| e.to_string())
    }
}
