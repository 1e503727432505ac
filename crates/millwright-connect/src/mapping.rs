//! How a message becomes readings: the mapping TOML (topic levels → columns, JSON pointers → signals, where
//! the timestamp is) and the payload decoder.
//!
//! ```toml
//! [[map]]
//! topic = "plant/+machine/line2/#"   # `+name` captures a level into the column `name`
//! source = "{machine}"               # default: the topic
//! timestamp = "/ts"                  # a JSON pointer; default: the arrival time
//! [map.signals]                      # default: every numeric top-level field
//! temperature = "/temp"
//! spindle_rpm = "/spindle/rpm"
//! ```
//!
//! A payload is a JSON object or a plain number (one reading named after the topic's last level, from the
//! topic's parent). A message that cannot be read whole is rejected with the reason, never half stored.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{ConnectError, MappingError};

/// Quality of a reading taken as the device sent it (MQTT carries no status of its own).
pub const QUALITY_GOOD: &str = "good";

/// A timestamp this far past the arrival time is a device clock error, not a reading from the future.
pub(crate) const FUTURE_TOLERANCE_US: i64 = 3_600_000_000;

/// Fields read as the timestamp when no mapping says where it is.
const DEFAULT_TIME_FIELDS: [&str; 3] = ["ts", "timestamp", "time"];

/// One value of one signal at one time, in the narrow historian form.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// Microseconds since the epoch, UTC.
    pub time_us: i64,
    pub source: String,
    pub signal: String,
    pub value: f64,
    pub quality: &'static str,
    /// Values of the mapping's level columns ([`Mapping::level_columns`]), in that order.
    pub levels: Vec<Option<String>>,
}

/// A message that could not be read, with why.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub topic: String,
    /// The JSON pointer or field the problem is at, when there is one.
    pub field: Option<String>,
    pub reason: String,
    /// The payload as text (invalid UTF-8 replaced).
    pub payload: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    #[serde(default)]
    map: Vec<RuleFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    topic: toml::Spanned<String>,
    source: Option<toml::Spanned<String>>,
    timestamp: Option<toml::Spanned<String>>,
    #[serde(default)]
    signals: BTreeMap<String, toml::Spanned<String>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Level {
    Exact(String),
    /// `+` or `+name`.
    One(Option<String>),
    /// `#` (last level only).
    Rest,
}

#[derive(Debug, Clone)]
struct Rule {
    pattern: Vec<Level>,
    /// Template with `{name}` for captured levels; `None`: the topic.
    source: Option<String>,
    timestamp: Option<String>,
    /// Signal name and JSON pointer; empty: every numeric top-level field.
    signals: Vec<(String, String)>,
}

/// The rules of a mapping file, or the default rule (every topic, signals from the payload's fields).
#[derive(Debug, Clone)]
pub struct Mapping {
    rules: Vec<Rule>,
    level_columns: Vec<String>,
}

impl Default for Mapping {
    fn default() -> Self {
        Mapping {
            rules: vec![Rule {
                pattern: vec![Level::Rest],
                source: None,
                timestamp: None,
                signals: Vec::new(),
            }],
            level_columns: Vec::new(),
        }
    }
}

/// Columns the narrow form already has: a level may not be captured under one of these names.
const RESERVED_COLUMNS: [&str; 5] = ["time", "source", "signal", "value", "quality"];

impl Mapping {
    pub fn from_file(path: &Path) -> Result<Mapping, ConnectError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConnectError::ReadMapping {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Mapping::parse(&text, path)?)
    }

    /// Parses a mapping; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Mapping, MappingError> {
        let error = |span: Option<std::ops::Range<usize>>, message: String| {
            MappingError::at(text, path, span, message)
        };
        let file: MappingFile =
            toml::from_str(text).map_err(|e| error(e.span(), e.message().to_string()))?;
        if file.map.is_empty() {
            return Err(error(
                None,
                "no [[map]] rule: say which topics map to what".into(),
            ));
        }
        let mut rules = Vec::new();
        let mut level_columns: Vec<String> = Vec::new();
        for rule in file.map {
            let pattern = parse_pattern(rule.topic.get_ref())
                .map_err(|m| error(Some(rule.topic.span()), m))?;
            let captured: Vec<&String> = pattern
                .iter()
                .filter_map(|l| match l {
                    Level::One(Some(name)) => Some(name),
                    _ => None,
                })
                .collect();
            for name in &captured {
                if RESERVED_COLUMNS.contains(&name.as_str()) {
                    return Err(error(
                        Some(rule.topic.span()),
                        format!("level name {name:?} is a column of the narrow form already"),
                    ));
                }
                if !level_columns.contains(name) {
                    level_columns.push((*name).clone());
                }
            }
            if let Some(source) = &rule.source {
                check_template(source.get_ref(), &captured)
                    .map_err(|m| error(Some(source.span()), m))?;
            }
            if let Some(ts) = &rule.timestamp {
                check_pointer(ts.get_ref()).map_err(|m| error(Some(ts.span()), m))?;
            }
            let mut signals = Vec::new();
            for (name, pointer) in rule.signals {
                check_pointer(pointer.get_ref()).map_err(|m| error(Some(pointer.span()), m))?;
                signals.push((name, pointer.into_inner()));
            }
            rules.push(Rule {
                pattern,
                source: rule.source.map(toml::Spanned::into_inner),
                timestamp: rule.timestamp.map(toml::Spanned::into_inner),
                signals,
            });
        }
        Ok(Mapping {
            rules,
            level_columns,
        })
    }

    /// Columns captured from topic levels, beside the narrow form's.
    pub fn level_columns(&self) -> &[String] {
        &self.level_columns
    }

    /// The readings of one message, or why it cannot be stored. `arrival_us` is the time when the
    /// payload carries none.
    pub fn decode(
        &self,
        topic: &str,
        payload: &[u8],
        arrival_us: i64,
    ) -> Result<Vec<Reading>, Rejected> {
        let reject = |field: Option<String>, reason: String| Rejected {
            topic: topic.to_string(),
            field,
            reason,
            payload: String::from_utf8_lossy(payload).into_owned(),
        };
        let levels: Vec<&str> = topic.split('/').collect();
        let Some((rule, captures)) = self
            .rules
            .iter()
            .find_map(|r| matches(&r.pattern, &levels).map(|c| (r, c)))
        else {
            return Err(reject(None, "the topic matches no mapping".into()));
        };
        let text = std::str::from_utf8(payload)
            .map_err(|e| reject(None, format!("payload is not UTF-8 text: {e}")))?;
        let value: Value = serde_json::from_str(text.trim())
            .map_err(|e| reject(None, format!("payload is neither JSON nor a number: {e}")))?;
        let column_values: Vec<Option<String>> = self
            .level_columns
            .iter()
            .map(|c| captures.get(c.as_str()).map(|v| (*v).to_string()))
            .collect();
        let source = match &rule.source {
            Some(template) => fill_template(template, &captures),
            None => topic.to_string(),
        };
        let reading = |time_us, source: &str, signal: &str, value| Reading {
            time_us,
            source: source.to_string(),
            signal: signal.to_string(),
            value,
            quality: QUALITY_GOOD,
            levels: column_values.clone(),
        };
        match &value {
            Value::Number(n) => {
                let v = n
                    .as_f64()
                    .ok_or_else(|| reject(None, "number out of range".into()))?;
                let time_us = match &rule.timestamp {
                    Some(p) => {
                        return Err(reject(
                            Some(p.clone()),
                            "the mapping reads the timestamp from a field but the payload is a plain number".into(),
                        ))
                    }
                    None => arrival_us,
                };
                // A plain number names its signal by the topic's last level; the source is the rest.
                let (parent, last) = topic.rsplit_once('/').unwrap_or(("", topic));
                let source = if rule.source.is_some() {
                    source.as_str()
                } else {
                    parent
                };
                Ok(vec![reading(time_us, source, last, v)])
            }
            Value::Object(fields) => {
                let time_us = match &rule.timestamp {
                    Some(pointer) => {
                        let Some(t) = value.pointer(pointer) else {
                            return Err(reject(
                                Some(pointer.clone()),
                                format!("the timestamp field {pointer} is missing"),
                            ));
                        };
                        parse_time(t, arrival_us).map_err(|r| reject(Some(pointer.clone()), r))?
                    }
                    None => match DEFAULT_TIME_FIELDS
                        .iter()
                        .find_map(|f| fields.get(*f).map(|v| (f, v)))
                    {
                        Some((f, t)) => parse_time(t, arrival_us)
                            .map_err(|r| reject(Some((*f).to_string()), r))?,
                        None => arrival_us,
                    },
                };
                let mut out = Vec::new();
                if rule.signals.is_empty() {
                    for (name, v) in fields {
                        if rule.timestamp.is_none() && DEFAULT_TIME_FIELDS.contains(&name.as_str())
                        {
                            continue;
                        }
                        if let Some(x) = v.as_f64() {
                            out.push(reading(time_us, &source, name, x));
                        }
                    }
                    if out.is_empty() {
                        return Err(reject(None, "the JSON object has no numeric field".into()));
                    }
                } else {
                    for (name, pointer) in &rule.signals {
                        let Some(v) = value.pointer(pointer) else {
                            return Err(reject(
                                Some(pointer.clone()),
                                format!("the mapped field {pointer} is missing"),
                            ));
                        };
                        let Some(x) = v.as_f64() else {
                            return Err(reject(
                                Some(pointer.clone()),
                                format!("the mapped field {pointer} is {v}, not a number"),
                            ));
                        };
                        out.push(reading(time_us, &source, name, x));
                    }
                }
                Ok(out)
            }
            other => Err(reject(
                None,
                format!("payload is {}, not a JSON object or a number", kind(other)),
            )),
        }
    }

    /// The broker subscription filter a rule's pattern stands for (`+name` → `+`).
    pub fn filters(&self) -> Vec<String> {
        self.rules
            .iter()
            .map(|r| {
                r.pattern
                    .iter()
                    .map(|l| match l {
                        Level::Exact(s) => s.as_str(),
                        Level::One(_) => "+",
                        Level::Rest => "#",
                    })
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .collect()
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Number(_) => "a number",
        Value::Object(_) => "an object",
    }
}

/// A timestamp as RFC 3339 text or epoch seconds, milliseconds or microseconds (told apart by size).
fn parse_time(v: &Value, arrival_us: i64) -> Result<i64, String> {
    let us = match v {
        Value::Number(n) => {
            let x = n.as_f64().ok_or("the timestamp is out of range")?;
            let abs = x.abs();
            let us = if abs >= 1e14 {
                x
            } else if abs >= 1e11 {
                x * 1e3
            } else {
                x * 1e6
            };
            us.round() as i64
        }
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .map_err(|e| format!("the timestamp {s:?} is not RFC 3339: {e}"))?
            .with_timezone(&Utc)
            .timestamp_micros(),
        other => return Err(format!("the timestamp is {}, not a time", kind(other))),
    };
    if us < 0 {
        return Err(format!("the timestamp {} is before 1970", show_time(us)));
    }
    if us > arrival_us + FUTURE_TOLERANCE_US {
        return Err(format!(
            "the timestamp {} is in the future (arrived {})",
            show_time(us),
            show_time(arrival_us)
        ));
    }
    Ok(us)
}

fn show_time(us: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(us)
        .map_or_else(|| format!("{us} µs"), |t| t.to_rfc3339())
}

fn parse_pattern(topic: &str) -> Result<Vec<Level>, String> {
    if topic.is_empty() {
        return Err("the topic pattern is empty".into());
    }
    let parts: Vec<&str> = topic.split('/').collect();
    let mut out = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let level = if *part == "#" {
            if i + 1 != parts.len() {
                return Err(format!("`#` must be the last level of {topic:?}"));
            }
            Level::Rest
        } else if let Some(name) = part.strip_prefix('+') {
            if name.is_empty() {
                Level::One(None)
            } else if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                Level::One(Some(name.to_string()))
            } else {
                return Err(format!(
                    "level name {name:?} in {topic:?}: use letters, digits and `_`"
                ));
            }
        } else if part.contains(['+', '#']) {
            return Err(format!(
                "level {part:?} of {topic:?} mixes a wildcard with text"
            ));
        } else {
            Level::Exact((*part).to_string())
        };
        out.push(level);
    }
    Ok(out)
}

/// The captured levels when `levels` match the pattern.
fn matches<'a>(pattern: &'a [Level], levels: &[&'a str]) -> Option<BTreeMap<&'a str, &'a str>> {
    let mut captures = BTreeMap::new();
    for (i, level) in pattern.iter().enumerate() {
        match level {
            Level::Rest => return Some(captures),
            Level::Exact(s) => {
                if levels.get(i) != Some(&s.as_str()) {
                    return None;
                }
            }
            Level::One(name) => {
                let value = levels.get(i)?;
                if let Some(name) = name {
                    captures.insert(name.as_str(), *value);
                }
            }
        }
    }
    (pattern.len() == levels.len()).then_some(captures)
}

fn check_template(template: &str, captured: &[&String]) -> Result<(), String> {
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            return Err(format!("unclosed `{{` in {template:?}"));
        };
        let name = &rest[start + 1..start + len];
        if !captured.iter().any(|c| c.as_str() == name) {
            return Err(format!(
                "{{{name}}} is not a level the topic pattern captures (write `+{name}` in it)"
            ));
        }
        rest = &rest[start + len + 1..];
    }
    Ok(())
}

fn fill_template(template: &str, captures: &BTreeMap<&str, &str>) -> String {
    let mut out = template.to_string();
    for (name, value) in captures {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

fn check_pointer(pointer: &str) -> Result<(), String> {
    if pointer.starts_with('/') {
        Ok(())
    } else {
        Err(format!(
            "{pointer:?} is not a JSON pointer (they start with `/`)"
        ))
    }
}

pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_780_000_000_000_000;

    fn map(text: &str) -> Mapping {
        Mapping::parse(text, Path::new("m.toml")).unwrap()
    }

    #[test]
    fn topic_levels_become_columns_and_pointers_signals() {
        let m = map(r#"
[[map]]
topic = "plant/+machine/line2/#"
source = "press-{machine}"
timestamp = "/ts"
[map.signals]
temperature = "/temp"
rpm = "/spindle/rpm"
"#);
        assert_eq!(m.level_columns(), ["machine"]);
        assert_eq!(m.filters(), ["plant/+/line2/#"]);
        let payload = br#"{"ts": "2026-01-02T03:04:05Z", "temp": 21.5, "spindle": {"rpm": 1500}}"#;
        let r = m.decode("plant/m7/line2/sensors", payload, NOW).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].source, "press-m7");
        assert_eq!((r[0].signal.as_str(), r[0].value), ("rpm", 1500.0));
        assert_eq!((r[1].signal.as_str(), r[1].value), ("temperature", 21.5));
        assert_eq!(r[0].time_us, 1_767_323_045_000_000);
        assert_eq!(r[0].levels, [Some("m7".to_string())]);
        let missing = m
            .decode("plant/m7/line2/x", br#"{"ts": 1, "temp": 1}"#, NOW)
            .unwrap_err();
        assert_eq!(missing.field.as_deref(), Some("/spindle/rpm"));
        assert!(missing.reason.contains("missing"), "{missing:?}");
        let wrong = m
            .decode(
                "plant/m7/line2/x",
                br#"{"ts": 1, "temp": "hot", "spindle": {"rpm": 1}}"#,
                NOW,
            )
            .unwrap_err();
        assert!(wrong.reason.contains("not a number"), "{wrong:?}");
        let other = m.decode("plant/m7/line3/x", b"1", NOW).unwrap_err();
        assert_eq!(other.reason, "the topic matches no mapping");
    }

    #[test]
    fn default_mapping_reads_flat_objects_and_plain_numbers() {
        let m = Mapping::default();
        let r = m
            .decode(
                "a/b",
                br#"{"x": 1, "y": 2.5, "name": "n", "ts": 1700000000000}"#,
                NOW,
            )
            .unwrap();
        assert_eq!(
            r.iter().map(|r| r.signal.as_str()).collect::<Vec<_>>(),
            ["x", "y"]
        );
        assert_eq!(r[0].time_us, 1_700_000_000_000_000);
        assert_eq!(r[0].source, "a/b");
        let n = m.decode("plant/m1/temp", b" 21.5\n", NOW).unwrap();
        assert_eq!(
            (n[0].source.as_str(), n[0].signal.as_str(), n[0].value),
            ("plant/m1", "temp", 21.5)
        );
        assert_eq!(n[0].time_us, NOW);
    }

    #[test]
    fn bad_payloads_say_why() {
        let m = Mapping::default();
        let reason = |p: &[u8]| m.decode("t/x", p, NOW).unwrap_err().reason;
        assert!(reason(b"not json").contains("neither JSON nor a number"));
        assert!(reason(b"[1,2]").contains("an array"));
        assert!(reason(br#"{"a": "x"}"#).contains("no numeric field"));
        assert!(reason(&[0xff, 0xfe]).contains("not UTF-8"));
        assert!(reason(br#"{"ts": -5, "a": 1}"#).contains("before 1970"));
        assert!(reason(br#"{"ts": "2099-01-01T00:00:00Z", "a": 1}"#).contains("in the future"));
        let bad = m.decode("t/x", b"oops", NOW).unwrap_err();
        assert_eq!(bad.payload, "oops");
    }

    #[test]
    fn mapping_errors_name_line_and_column() {
        let err = |text: &str| Mapping::parse(text, Path::new("m.toml")).unwrap_err();
        let e = err("[[map]]\ntopic = \"a/#/b\"\n");
        assert_eq!((e.line, e.column), (2, 9), "{e}");
        assert!(
            e.to_string()
                .starts_with("m.toml:2:9: `#` must be the last level"),
            "{e}"
        );
        let e = err("[[map]]\ntopic = \"a/+m\"\nsource = \"{n}\"\n");
        assert_eq!((e.line, e.column), (3, 10), "{e}");
        let e = err("[[map]]\ntopic = \"a\"\n[map.signals]\nx = \"temp\"\n");
        assert_eq!(e.line, 4, "{e}");
        let e = err("[[map]]\ntopic = \"a\"\nbogus = 1\n");
        assert_eq!(e.line, 3, "{e}");
        let e = err("[[map]\n");
        assert_eq!(e.line, 1, "{e}");
    }
}
