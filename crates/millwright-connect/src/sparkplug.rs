//! Sparkplug B: messages on topics `spBv1.0/GROUP/TYPE/EDGE[/DEVICE]` carry protobuf payloads of metrics.
//! A message is read as Sparkplug by its topic's first level (the namespace the specification reserves),
//! whatever the mapping says. Each numeric or boolean metric becomes a reading: source EDGE or EDGE/DEVICE,
//! signal the metric's name (from the BIRTH's alias map when DATA carries only aliases), time the metric's
//! timestamp, else the payload's, else the arrival. Other metrics (strings, bytes, data sets, nulls) are
//! quarantined one by one with the reason, so nothing a device sent is dropped without a trace.

use std::collections::HashMap;

use prost::Message;

use crate::mapping::{Reading, Rejected, FUTURE_TOLERANCE_US, QUALITY_GOOD};

/// The types generated from the vendored `proto/sparkplug_b.proto` (Eclipse Tahu, EPL-2.0).
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/org.eclipse.tahu.protobuf.rs"));
}

use proto::payload::metric::Value;
use proto::payload::Metric;
use proto::Payload;

/// The first level of every Sparkplug B topic.
pub const NAMESPACE: &str = "spBv1.0";

/// Whether a topic is in the Sparkplug B namespace (and so decoded as Sparkplug).
pub fn is_sparkplug(topic: &str) -> bool {
    topic
        .strip_prefix(NAMESPACE)
        .is_some_and(|rest| rest.starts_with('/'))
}

/// Sparkplug data types whose `int_value`/`long_value` is signed (two's complement).
const INT8: u32 = 1;
const INT16: u32 = 2;
const INT32: u32 = 3;
const INT64: u32 = 4;
const DATETIME: u32 = 13;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    NodeBirth,
    DeviceBirth,
    Data,
    NodeDeath,
    DeviceDeath,
    /// Commands to the node (NCMD, DCMD) and host STATE: not readings.
    Other,
}

struct Topic<'a> {
    kind: Kind,
    /// EDGE or EDGE/DEVICE (edge node ids name the machines; the group is not part of it).
    source: String,
    edge: &'a str,
}

fn parse_topic(topic: &str) -> Result<Topic<'_>, String> {
    let levels: Vec<&str> = topic.split('/').collect();
    let shape =
        || format!("{topic:?} is not a Sparkplug B topic ({NAMESPACE}/GROUP/TYPE/EDGE[/DEVICE])");
    if levels.get(1) == Some(&"STATE") {
        return Ok(Topic {
            kind: Kind::Other,
            source: String::new(),
            edge: "",
        });
    }
    let (kind, wants_device) = match levels.get(2).copied() {
        Some("NBIRTH") => (Kind::NodeBirth, false),
        Some("NDATA") => (Kind::Data, false),
        Some("NDEATH") => (Kind::NodeDeath, false),
        Some("NCMD") => (Kind::Other, false),
        Some("DBIRTH") => (Kind::DeviceBirth, true),
        Some("DDATA") => (Kind::Data, true),
        Some("DDEATH") => (Kind::DeviceDeath, true),
        Some("DCMD") => (Kind::Other, true),
        _ => return Err(shape()),
    };
    let edge = levels.get(3).copied().filter(|e| !e.is_empty());
    let device = levels.get(4).copied().filter(|d| !d.is_empty());
    let expected = if wants_device { 5 } else { 4 };
    let (Some(edge), true) = (
        edge,
        levels.len() == expected && (device.is_some() == wants_device),
    ) else {
        return Err(shape());
    };
    let source = match device {
        Some(device) => format!("{edge}/{device}"),
        None => edge.to_string(),
    };
    Ok(Topic { kind, source, edge })
}

/// What one Sparkplug message gave: readings, and the metrics (or the whole message) that are not.
#[derive(Debug, Default)]
pub struct Decoded {
    pub readings: Vec<Reading>,
    pub rejected: Vec<Rejected>,
}

/// The alias maps learned from BIRTH messages, by source (EDGE or EDGE/DEVICE).
#[derive(Debug, Default)]
pub struct Sparkplug {
    aliases: HashMap<String, HashMap<u64, String>>,
}

impl Sparkplug {
    /// Reads one message; `arrival_us` is the time when neither metric nor payload carries one.
    pub fn decode(&mut self, topic: &str, payload: &[u8], arrival_us: i64) -> Decoded {
        let mut out = Decoded::default();
        let reject = |field: Option<String>, reason: String, payload: String| Rejected {
            topic: topic.to_string(),
            field,
            reason,
            payload,
        };
        let parsed = match parse_topic(topic) {
            Ok(parsed) => parsed,
            Err(reason) => {
                out.rejected.push(reject(None, reason, hex(payload)));
                return out;
            }
        };
        match parsed.kind {
            Kind::Other => return out,
            Kind::NodeDeath | Kind::DeviceDeath => {
                self.forget(&parsed);
                return out;
            }
            Kind::NodeBirth | Kind::DeviceBirth | Kind::Data => {}
        }
        let message = match Payload::decode(payload) {
            Ok(message) => message,
            Err(e) => {
                let reason =
                    format!("not a Sparkplug B payload: {e}; the raw bytes are kept as hex");
                out.rejected.push(reject(None, reason, hex(payload)));
                return out;
            }
        };
        if parsed.kind != Kind::Data {
            self.learn(&parsed, &message);
        }
        let aliases = self.aliases.get(&parsed.source);
        for metric in &message.metrics {
            match self.reading(&parsed, aliases, metric, message.timestamp, arrival_us) {
                Ok(Some(reading)) => out.readings.push(reading),
                Ok(None) => {}
                Err((field, reason, text)) => out.rejected.push(reject(field, reason, text)),
            }
        }
        out
    }

    /// Learns a redelivered BIRTH's aliases (its readings are stored already) and forgets on a DEATH.
    pub fn observe(&mut self, topic: &str, payload: &[u8]) {
        let Ok(parsed) = parse_topic(topic) else {
            return;
        };
        match parsed.kind {
            Kind::NodeBirth | Kind::DeviceBirth => {
                if let Ok(message) = Payload::decode(payload) {
                    self.learn(&parsed, &message);
                }
            }
            Kind::NodeDeath | Kind::DeviceDeath => self.forget(&parsed),
            Kind::Data | Kind::Other => {}
        }
    }

    /// A BIRTH replaces what an earlier one said: a node's rebirth resets its devices too.
    fn learn(&mut self, topic: &Topic<'_>, message: &Payload) {
        self.forget(topic);
        let map: HashMap<u64, String> = message
            .metrics
            .iter()
            .filter_map(|m| Some((m.alias?, m.name.clone()?)))
            .collect();
        self.aliases.insert(topic.source.clone(), map);
    }

    fn forget(&mut self, topic: &Topic<'_>) {
        if matches!(topic.kind, Kind::NodeBirth | Kind::NodeDeath) {
            let devices = format!("{}/", topic.edge);
            self.aliases
                .retain(|source, _| source != topic.edge && !source.starts_with(&devices));
        } else {
            self.aliases.remove(&topic.source);
        }
    }

    /// One metric as a reading; `Ok(None)` for the birth sequence number (session bookkeeping);
    /// `Err((field, reason, text))` for a metric that is not a numeric reading.
    #[allow(clippy::type_complexity)]
    fn reading(
        &self,
        topic: &Topic<'_>,
        aliases: Option<&HashMap<u64, String>>,
        metric: &Metric,
        payload_time: Option<u64>,
        arrival_us: i64,
    ) -> Result<Option<Reading>, (Option<String>, String, String)> {
        let name = match (&metric.name, metric.alias) {
            (Some(name), _) => name.clone(),
            (None, Some(alias)) => match aliases.and_then(|a| a.get(&alias)) {
                Some(name) => name.clone(),
                None => {
                    return Err((
                        Some(format!("alias {alias}")),
                        format!(
                            "alias {alias} has no name: no BIRTH of {} named it since the connector started",
                            topic.source
                        ),
                        show_value(metric),
                    ))
                }
            },
            (None, None) => {
                return Err((
                    None,
                    "a metric with neither name nor alias".into(),
                    show_value(metric),
                ))
            }
        };
        if name == "bdSeq" {
            return Ok(None);
        }
        let not_reading = |reason: String| Err((Some(name.clone()), reason, show_value(metric)));
        let value = match number(metric) {
            Ok(v) => v,
            Err(reason) => return not_reading(reason),
        };
        let time_us = match time_us(metric.timestamp.or(payload_time), arrival_us) {
            Ok(t) => t,
            Err(reason) => return not_reading(reason),
        };
        Ok(Some(Reading {
            time_us,
            source: topic.source.clone(),
            signal: name,
            value,
            quality: QUALITY_GOOD,
            levels: Vec::new(),
        }))
    }
}

/// A metric's value as a number, or why it is not one.
fn number(metric: &Metric) -> Result<f64, String> {
    if metric.is_null == Some(true) {
        return Err("the metric is null (no value)".into());
    }
    let datatype = metric.datatype.unwrap_or(0);
    // Signed types are sent as two's complement in the unsigned fields; narrowing casts read both the
    // sign-extended and the plain encodings right.
    Ok(match &metric.value {
        Some(Value::IntValue(v)) => match datatype {
            INT8 => f64::from(*v as u8 as i8),
            INT16 => f64::from(*v as u16 as i16),
            INT32 => f64::from(*v as i32),
            _ => f64::from(*v),
        },
        Some(Value::LongValue(_)) if datatype == DATETIME => {
            return Err("a DateTime metric is a time, not a reading".into())
        }
        Some(Value::LongValue(v)) if datatype == INT64 => *v as i64 as f64,
        Some(Value::LongValue(v)) => *v as f64,
        Some(Value::FloatValue(v)) => f64::from(*v),
        Some(Value::DoubleValue(v)) => *v,
        Some(Value::BooleanValue(v)) => f64::from(u8::from(*v)),
        Some(Value::StringValue(_)) => return Err("a text metric is not a numeric reading".into()),
        Some(Value::BytesValue(_)) => return Err("a bytes metric is not a numeric reading".into()),
        Some(Value::DatasetValue(_)) => {
            return Err("a DataSet metric is not a numeric reading".into())
        }
        Some(Value::TemplateValue(_)) => {
            return Err("a Template metric is not a numeric reading".into())
        }
        Some(Value::ExtensionValue(_)) => {
            return Err("an extension metric is not a numeric reading".into())
        }
        None => return Err("the metric has no value".into()),
    })
}

/// Sparkplug times are milliseconds since the epoch; one far past the arrival is a clock error.
fn time_us(ms: Option<u64>, arrival_us: i64) -> Result<i64, String> {
    let Some(ms) = ms else {
        return Ok(arrival_us);
    };
    let us = i64::try_from(ms)
        .ok()
        .and_then(|ms| ms.checked_mul(1000))
        .ok_or_else(|| format!("timestamp {ms} ms is out of range"))?;
    if us > arrival_us + FUTURE_TOLERANCE_US {
        return Err(format!(
            "timestamp {ms} ms is more than an hour in the future"
        ));
    }
    Ok(us)
}

/// What the quarantine keeps of a metric that is not a reading: its value as text.
fn show_value(metric: &Metric) -> String {
    match &metric.value {
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::BytesValue(b)) => hex(b),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut text = String::with_capacity(4 + 2 * bytes.len());
    text.push_str("hex:");
    for b in bytes {
        let _ = write!(text, "{b:02x}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metric(name: Option<&str>, alias: Option<u64>, datatype: u32, value: Value) -> Metric {
        Metric {
            name: name.map(str::to_string),
            alias,
            datatype: Some(datatype),
            value: Some(value),
            ..Metric::default()
        }
    }

    #[test]
    fn topics() {
        assert!(is_sparkplug("spBv1.0/g/NDATA/e"));
        assert!(!is_sparkplug("spBv1.0x/g"));
        assert_eq!(parse_topic("spBv1.0/g/NDATA/e").unwrap().source, "e");
        assert_eq!(parse_topic("spBv1.0/g/DDATA/e/d").unwrap().source, "e/d");
        assert!(parse_topic("spBv1.0/g/DDATA/e").is_err());
        assert!(parse_topic("spBv1.0/g/NDATA/e/d").is_err());
        assert!(parse_topic("spBv1.0/g/XDATA/e").is_err());
        assert_eq!(parse_topic("spBv1.0/STATE/host").unwrap().kind, Kind::Other);
    }

    #[test]
    fn signed_types_and_booleans() {
        let m = |datatype, value| number(&metric(Some("x"), None, datatype, value)).unwrap();
        assert_eq!(m(INT8, Value::IntValue(0xFFFF_FFFF)), -1.0);
        assert_eq!(m(INT8, Value::IntValue(0xFF)), -1.0);
        assert_eq!(m(INT16, Value::IntValue(0xFFFE)), -2.0);
        assert_eq!(m(INT32, Value::IntValue(u32::MAX)), -1.0);
        assert_eq!(m(7, Value::IntValue(u32::MAX)), f64::from(u32::MAX));
        assert_eq!(m(INT64, Value::LongValue(u64::MAX)), -1.0);
        assert_eq!(m(11, Value::BooleanValue(true)), 1.0);
        assert!(number(&metric(Some("x"), None, 12, Value::StringValue("a".into()))).is_err());
    }

    #[test]
    fn a_rebirth_resets_the_devices_aliases() {
        let mut sp = Sparkplug::default();
        let birth = |alias| Payload {
            metrics: vec![metric(Some("t"), Some(alias), 10, Value::DoubleValue(1.0))],
            ..Payload::default()
        };
        sp.decode("spBv1.0/g/DBIRTH/e/d", &birth(1).encode_to_vec(), 0);
        assert!(sp.aliases.contains_key("e/d"));
        sp.decode("spBv1.0/g/NBIRTH/e", &birth(2).encode_to_vec(), 0);
        assert!(!sp.aliases.contains_key("e/d"));
        assert_eq!(sp.aliases["e"][&2], "t");
        sp.observe("spBv1.0/g/NDEATH/e", &[]);
        assert!(sp.aliases.is_empty());
    }
}
