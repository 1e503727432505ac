//! Derived columns from SQL expressions (`power=torque_nm * rotational_speed_rpm * 2 * pi() / 60`),
//! evaluated with DataFusion over in-memory batches, so training and prediction compute them identically.

use std::sync::Arc;

use deltalake::arrow::array::ArrayRef;
use deltalake::arrow::datatypes::{Field, Schema, SchemaRef};
use deltalake::arrow::record_batch::RecordBatch;
use deltalake::datafusion::common::DFSchema;
use deltalake::datafusion::error::DataFusionError;
use deltalake::datafusion::physical_expr::PhysicalExpr;
use deltalake::datafusion::prelude::SessionContext;

use crate::error::{DataError, Result};

/// Appends one column per `(name, expression)` to `batch`; later expressions may use earlier ones.
pub fn derive_columns(batch: &RecordBatch, features: &[(String, String)]) -> Result<RecordBatch> {
    CompiledFeatures::compile(&batch.schema(), features)?.apply(batch)
}

/// Feature expressions parsed and planned once for one input schema, then evaluated on any number of
/// batches of that schema: planning costs far more than evaluating a few rows, and a digital twin scores
/// small batches millions of times.
pub struct CompiledFeatures {
    input: SchemaRef,
    features: Vec<(String, String)>,
    /// Each feature's expression, planned against the schema of the columns before it.
    steps: Vec<(SchemaRef, Arc<dyn PhysicalExpr>)>,
    output: SchemaRef,
}

impl CompiledFeatures {
    pub fn compile(input: &SchemaRef, features: &[(String, String)]) -> Result<CompiledFeatures> {
        let ctx = SessionContext::new();
        let mut schema = input.clone();
        let mut steps = Vec::with_capacity(features.len());
        for (name, expression) in features {
            if schema.index_of(name).is_ok() {
                return Err(DataError::Column {
                    column: name.clone(),
                    message: "a derived feature cannot replace an existing column".into(),
                });
            }
            let fail = |step| feature_error(name, expression, step);
            let df_schema = DFSchema::try_from(schema.as_ref().clone()).map_err(fail("plan"))?;
            let expr = ctx
                .parse_sql_expr(expression, &df_schema)
                .map_err(fail("parse"))?;
            let physical = ctx
                .create_physical_expr(expr, &df_schema)
                .map_err(fail("plan"))?;
            let data_type = physical.data_type(&schema).map_err(fail("type"))?;
            steps.push((schema.clone(), physical));
            let mut fields: Vec<Field> =
                schema.fields().iter().map(|f| f.as_ref().clone()).collect();
            fields.push(Field::new(name, data_type, true));
            schema = Arc::new(Schema::new(fields));
        }
        Ok(CompiledFeatures {
            input: input.clone(),
            features: features.to_vec(),
            steps,
            output: schema,
        })
    }

    /// Whether these are `features` compiled for batches of `schema`.
    pub fn compiled_for(&self, schema: &SchemaRef, features: &[(String, String)]) -> bool {
        self.features == features && (Arc::ptr_eq(&self.input, schema) || self.input == *schema)
    }

    /// `batch` (of the compiled input schema) with the derived columns appended.
    pub fn apply(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        if batch.schema().fields() != self.input.fields() {
            return Err(DataError::FeatureInputMismatch);
        }
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        for ((schema, physical), (name, expression)) in self.steps.iter().zip(&self.features) {
            let current = RecordBatch::try_new(schema.clone(), columns.clone())?;
            let value = physical
                .evaluate(&current)
                .and_then(|value| value.into_array(current.num_rows()))
                .map_err(feature_error(name, expression, "evaluate"))?;
            columns.push(value);
        }
        Ok(RecordBatch::try_new(self.output.clone(), columns)?)
    }
}

/// The error of one feature's `step` (parse, plan, type, evaluate), naming the feature and its expression.
fn feature_error<'a>(
    name: &'a str,
    expression: &'a str,
    step: &'static str,
) -> impl FnOnce(DataFusionError) -> DataError + 'a {
    move |source| DataError::Feature {
        feature: name.to_string(),
        expression: expression.to_string(),
        step,
        source: Box::new(source),
    }
}

#[cfg(test)]
mod tests {
    use deltalake::arrow::array::{Array, Float64Array};
    use deltalake::arrow::datatypes::DataType;

    use super::*;

    #[test]
    fn derives_power_from_torque_and_speed() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("Torque [Nm]", DataType::Float64, true),
            Field::new("Rotational speed [rpm]", DataType::Float64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Float64Array::from(vec![40.0, 50.0])),
                Arc::new(Float64Array::from(vec![1500.0, 1200.0])),
            ],
        )
        .unwrap();
        let features = vec![(
            "power".to_string(),
            "\"Torque [Nm]\" * \"Rotational speed [rpm]\" * 2 * pi() / 60".to_string(),
        )];
        let out = derive_columns(&batch, &features).unwrap();
        let power = out
            .column(2)
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap();
        assert!((power.value(0) - 40.0 * 1500.0 * 2.0 * std::f64::consts::PI / 60.0).abs() < 1e-9);
        assert_eq!(power.len(), 2);
        let bad = derive_columns(&batch, &[("x".into(), "no_such_column * 2".into())]).unwrap_err();
        assert!(
            matches!(&bad, DataError::Feature { feature, step: "parse" | "plan", .. } if feature == "x"),
            "{bad}"
        );
        let source = std::error::Error::source(&bad).expect("the DataFusion error is kept");
        assert!(source.to_string().contains("no_such_column"), "{source}");
    }

    #[test]
    fn compiled_features_are_reused_across_batches_and_chain() {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Float64, true)]));
        let batch = |values: Vec<f64>| {
            RecordBatch::try_new(schema.clone(), vec![Arc::new(Float64Array::from(values))])
                .unwrap()
        };
        let features = vec![
            ("double".to_string(), "a * 2".to_string()),
            ("quad".to_string(), "double * 2".to_string()),
        ];
        let compiled = CompiledFeatures::compile(&schema, &features).unwrap();
        assert!(compiled.compiled_for(&schema, &features));
        assert!(!compiled.compiled_for(&schema, &features[..1]));
        for values in [vec![1.0, 2.0], vec![5.0]] {
            let out = compiled.apply(&batch(values.clone())).unwrap();
            let quad = out
                .column(2)
                .as_any()
                .downcast_ref::<Float64Array>()
                .unwrap();
            let expected: Vec<f64> = values.iter().map(|v| v * 4.0).collect();
            assert_eq!(quad.values().to_vec(), expected);
            assert_eq!(out.schema().field(2).name(), "quad");
        }
        let other = Arc::new(Schema::new(vec![Field::new("b", DataType::Float64, true)]));
        let wrong =
            RecordBatch::try_new(other, vec![Arc::new(Float64Array::from(vec![1.0]))]).unwrap();
        assert!(matches!(
            compiled.apply(&wrong),
            Err(DataError::FeatureInputMismatch)
        ));
    }
}
