//! Derived columns from SQL expressions (`power=torque_nm * rotational_speed_rpm * 2 * pi() / 60`),
//! evaluated with DataFusion over in-memory batches, so training and prediction compute them identically.

use std::sync::Arc;

use deltalake::arrow::array::ArrayRef;
use deltalake::arrow::datatypes::{Field, Schema};
use deltalake::arrow::record_batch::RecordBatch;
use deltalake::datafusion::common::DFSchema;
use deltalake::datafusion::prelude::SessionContext;

use crate::error::{DataError, Result};

/// Appends one column per `(name, expression)` to `batch`; later expressions may use earlier ones.
pub fn derive_columns(batch: &RecordBatch, features: &[(String, String)]) -> Result<RecordBatch> {
    let ctx = SessionContext::new();
    let mut current = batch.clone();
    for (name, expression) in features {
        if current.schema().index_of(name).is_ok() {
            return Err(DataError::Column {
                column: name.clone(),
                message: "a derived feature cannot replace an existing column".into(),
            });
        }
        let df_schema = DFSchema::try_from(current.schema().as_ref().clone())?;
        let expr = ctx
            .parse_sql_expr(expression, &df_schema)
            .map_err(|e| DataError::Column {
                column: name.clone(),
                message: format!("cannot parse {expression:?}: {e}"),
            })?;
        let physical =
            ctx.create_physical_expr(expr, &df_schema)
                .map_err(|e| DataError::Column {
                    column: name.clone(),
                    message: format!("cannot plan {expression:?}: {e}"),
                })?;
        let value = physical.evaluate(&current).map_err(|e| DataError::Column {
            column: name.clone(),
            message: format!("cannot evaluate {expression:?}: {e}"),
        })?;
        let array: ArrayRef = value.into_array(current.num_rows())?;
        let mut fields: Vec<Field> = current
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.push(Field::new(name, array.data_type().clone(), true));
        let mut columns = current.columns().to_vec();
        columns.push(array);
        current = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?;
    }
    Ok(current)
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
        assert!(bad.to_string().contains("\"x\""), "{bad}");
    }
}
