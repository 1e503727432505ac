//! An OPC UA data value as a historian reading: the value's source timestamp and status code are kept.

use opcua::types::{DataValue, DateTime, StatusCode, Variant};

use super::nodes::WatchedNode;
use crate::mapping::{Reading, Rejected, QUALITY_GOOD};

/// The quality column of a status: "good", else the status's name (`BadSensorFailure`, `UncertainLastUsableValue`).
pub fn quality(status: StatusCode) -> &'static str {
    if status == StatusCode::Good {
        QUALITY_GOOD
    } else {
        status.sub_code().name()
    }
}

fn micros(t: &DateTime) -> Option<i64> {
    // OPC UA's "no time" is its epoch, 1601; before 1970 is not a reading's time either.
    let us = t.as_chrono().timestamp_micros();
    (us > 0).then_some(us)
}

/// The reading of one value, or why it cannot be one. A bad status without a value is kept as NaN with
/// that status, so an outage shows in the table instead of a gap.
pub fn reading(
    node: &WatchedNode,
    value: &DataValue,
    arrival_us: i64,
) -> Result<Reading, Rejected> {
    let status = value.status.unwrap_or(StatusCode::Good);
    let time_us = value
        .source_timestamp
        .as_ref()
        .and_then(micros)
        .or_else(|| value.server_timestamp.as_ref().and_then(micros))
        .unwrap_or(arrival_us);
    let number = match &value.value {
        None | Some(Variant::Empty) if !status.is_good() => f64::NAN,
        None | Some(Variant::Empty) => return Err(reject(node, "the server sent no value", value)),
        Some(Variant::Boolean(b)) => f64::from(u8::from(*b)),
        Some(v) if v.is_numeric() => v.as_f64().unwrap_or(f64::NAN),
        Some(v) => {
            let reason = format!(
                "node {} gives a {:?} value; only numbers and booleans are readings",
                node.id_text,
                v.type_id()
            );
            return Err(reject(node, &reason, value));
        }
    };
    Ok(Reading {
        time_us,
        source: node.source.clone(),
        signal: node.signal.clone(),
        value: number,
        quality: quality(status),
        levels: Vec::new(),
    })
}

fn reject(node: &WatchedNode, reason: &str, value: &DataValue) -> Rejected {
    Rejected {
        topic: node.id_text.clone(),
        field: Some(node.signal.clone()),
        reason: reason.to_string(),
        payload: format!("{:?}", value.value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opcua::types::NodeId;

    fn node() -> WatchedNode {
        WatchedNode {
            id: NodeId::new(2, "T"),
            id_text: "ns=2;s=T".into(),
            signal: "temperature".into(),
            source: "press7".into(),
            sampling_ms: 100.0,
            deadband: None,
        }
    }

    #[test]
    fn values_statuses_and_times() {
        let t = DateTime::from(chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap());
        let mut dv = DataValue::new_at(21.5f32, t);
        dv.server_timestamp = None;
        let r = reading(&node(), &dv, 5).unwrap();
        assert_eq!(
            (r.value, r.quality, r.time_us),
            (21.5, "good", 1_700_000_000_000_000)
        );
        let dv = DataValue::value_only(true);
        let r = reading(&node(), &dv, 5).unwrap();
        assert_eq!((r.value, r.time_us), (1.0, 5));
        let mut dv = DataValue::null();
        dv.status = Some(StatusCode::BadSensorFailure);
        let r = reading(&node(), &dv, 5).unwrap();
        assert!(r.value.is_nan());
        assert_eq!(r.quality, "BadSensorFailure");
        let dv = DataValue::value_only("text");
        let e = reading(&node(), &dv, 5).unwrap_err();
        assert!(
            e.reason.contains("only numbers and booleans"),
            "{}",
            e.reason
        );
        let dv = DataValue::value_only(-3i16);
        assert_eq!(reading(&node(), &dv, 5).unwrap().value, -3.0);
    }
}
