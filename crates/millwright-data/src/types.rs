//! Column kinds, the text → value parsers and schema inference from a sample of rows.

use std::collections::HashSet;
use std::sync::Arc;

use deltalake::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use serde::{Deserialize, Serialize};

/// The logical kind of a column, as inferred or configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnKind {
    Int,
    Float,
    Bool,
    /// Free text.
    String,
    /// Text with few distinct values (product type, machine id); stored as text, marked in the schema.
    Categorical,
    /// Microseconds since the epoch, UTC.
    Timestamp,
}

impl ColumnKind {
    pub fn arrow_type(self) -> DataType {
        match self {
            ColumnKind::Int => DataType::Int64,
            ColumnKind::Float => DataType::Float64,
            ColumnKind::Bool => DataType::Boolean,
            ColumnKind::String | ColumnKind::Categorical => DataType::Utf8,
            ColumnKind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, ColumnKind::Int | ColumnKind::Float)
    }

    pub fn name(self) -> &'static str {
        match self {
            ColumnKind::Int => "int",
            ColumnKind::Float => "float",
            ColumnKind::Bool => "bool",
            ColumnKind::String => "string",
            ColumnKind::Categorical => "categorical",
            ColumnKind::Timestamp => "timestamp",
        }
    }

    /// The kind of a column read from a typed source (Parquet).
    pub fn from_arrow(data_type: &DataType) -> Option<ColumnKind> {
        Some(match data_type {
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64 => ColumnKind::Int,
            DataType::Float16
            | DataType::Float32
            | DataType::Float64
            | DataType::Decimal128(_, _) => ColumnKind::Float,
            DataType::Boolean => ColumnKind::Bool,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => ColumnKind::String,
            DataType::Dictionary(_, value) if value.is_string() => ColumnKind::Categorical,
            DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64 => {
                ColumnKind::Timestamp
            }
            _ => return None,
        })
    }
}

/// Metadata key on an arrow field that records the column's logical kind and source position.
pub const KIND_METADATA_KEY: &str = "millwright.kind";
pub const SOURCE_POSITION_METADATA_KEY: &str = "millwright.source_position";

/// One column of an inferred schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnSpec {
    pub name: String,
    pub kind: ColumnKind,
    /// Zero-based position of the column in the source file.
    pub source_position: usize,
    /// How the timestamp column's integers are read, when it holds epoch numbers.
    pub epoch_unit: Option<EpochUnit>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EpochUnit {
    Seconds,
    Millis,
}

/// Builds the arrow schema of the stored table; every column is nullable so missing cells can be kept.
pub fn arrow_schema(columns: &[ColumnSpec]) -> SchemaRef {
    let fields: Vec<Field> = columns
        .iter()
        .map(|c| {
            Field::new(&c.name, c.kind.arrow_type(), true).with_metadata(
                [
                    (KIND_METADATA_KEY.to_string(), c.kind.name().to_string()),
                    (
                        SOURCE_POSITION_METADATA_KEY.to_string(),
                        c.source_position.to_string(),
                    ),
                ]
                .into(),
            )
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// Whether a cell is text that cannot be a missing-value token, decided from its first byte: every token
/// starts with one of `N n - ? #`, or is empty or padded. Lets text columns skip the token match.
#[inline]
pub fn surely_not_missing(bytes: &[u8]) -> bool {
    matches!(bytes.first(), Some(&b) if b.is_ascii_graphic() && !matches!(b, b'N' | b'n' | b'-' | b'?' | b'#'))
}

/// Cell texts read as missing, in any column. `NaN` is missing too: a sensor that reports NaN reports nothing.
pub fn is_missing_token(text: &str) -> bool {
    matches!(
        text.trim(),
        "" | "NA"
            | "N/A"
            | "n/a"
            | "na"
            | "NULL"
            | "null"
            | "Null"
            | "None"
            | "none"
            | "-"
            | "?"
            | "NaN"
            | "nan"
            | "NAN"
            | "#N/A"
    )
}

/// Parsed cell value; strings borrow from the record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Null,
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(&'a str),
    Timestamp(i64),
}

impl Cell<'_> {
    pub fn float(self) -> Option<f64> {
        match self {
            Cell::Float(x) => Some(x),
            _ => None,
        }
    }

    /// An int, or a timestamp's microseconds.
    pub fn int(self) -> Option<i64> {
        match self {
            Cell::Int(x) | Cell::Timestamp(x) => Some(x),
            _ => None,
        }
    }

    pub fn bool(self) -> Option<bool> {
        match self {
            Cell::Bool(x) => Some(x),
            _ => None,
        }
    }
}

/// Why a cell could not become a value of its column's kind.
#[derive(Debug, Clone, PartialEq)]
pub enum CellError {
    NotUtf8 { valid_up_to: usize },
    NotA(ColumnKind),
    NonFinite,
}

impl CellError {
    pub fn describe(&self, column: &str) -> String {
        match self {
            CellError::NotUtf8 { valid_up_to } => {
                format!("column {column:?}: invalid UTF-8 after byte {valid_up_to}")
            }
            CellError::NotA(kind) => format!("column {column:?}: not a valid {}", kind.name()),
            CellError::NonFinite => format!("column {column:?}: infinite value"),
        }
    }
}

/// Parses one cell of a text source into a value of `spec`'s kind.
pub fn parse_cell<'a>(bytes: &'a [u8], spec: &ColumnSpec) -> Result<Cell<'a>, CellError> {
    // Fast path for the cells sensor files hold millions of: a bare number or ISO timestamp, or nothing.
    // Anything else (padding, missing-value tokens, inf, other layouts) takes the general path below.
    if bytes.is_empty() {
        return Ok(Cell::Null);
    }
    match spec.kind {
        ColumnKind::Float => {
            if let Some(v) = parse_plain_decimal(bytes) {
                return Ok(Cell::Float(v));
            }
            if let Ok(v) = fast_float2::parse::<f64, _>(bytes) {
                if v.is_finite() {
                    return Ok(Cell::Float(v));
                }
            }
        }
        ColumnKind::Timestamp if spec.epoch_unit.is_none() => {
            if let Some(v) = parse_iso_fast(bytes) {
                return Ok(Cell::Timestamp(v));
            }
        }
        _ => {}
    }
    let text = std::str::from_utf8(bytes).map_err(|e| CellError::NotUtf8 {
        valid_up_to: e.valid_up_to(),
    })?;
    if is_missing_token(text) {
        return Ok(Cell::Null);
    }
    let trimmed = text.trim();
    match spec.kind {
        ColumnKind::Int => parse_int(trimmed)
            .map(Cell::Int)
            .ok_or(CellError::NotA(ColumnKind::Int)),
        ColumnKind::Float => match parse_float(trimmed) {
            Some(v) if v.is_finite() => Ok(Cell::Float(v)),
            Some(_) => Err(CellError::NonFinite),
            None => Err(CellError::NotA(ColumnKind::Float)),
        },
        ColumnKind::Bool => parse_bool(trimmed)
            .map(Cell::Bool)
            .ok_or(CellError::NotA(ColumnKind::Bool)),
        ColumnKind::String | ColumnKind::Categorical => Ok(Cell::Text(text)),
        ColumnKind::Timestamp => {
            let parsed = match spec.epoch_unit {
                Some(EpochUnit::Seconds) => {
                    parse_int(trimmed).and_then(|s| s.checked_mul(1_000_000))
                }
                Some(EpochUnit::Millis) => parse_int(trimmed).and_then(|s| s.checked_mul(1_000)),
                None => parse_timestamp_micros(trimmed),
            };
            parsed
                .map(Cell::Timestamp)
                .ok_or(CellError::NotA(ColumnKind::Timestamp))
        }
    }
}

/// Powers of ten that are exact in an f64.
const EXACT_POWERS_OF_TEN: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// `[-+]digits[.digits]` with at most 15 digits, the shape sensor exports write tens of millions of: the
/// digits form an integer below 2^53 and the divisor is an exact power of ten, so one IEEE division gives
/// the correctly rounded value (Clinger's fast path), the same f64 `fast_float2` returns. Hand-written
/// because this one loop is about twice as fast as the general parser's entry on such short fields; every
/// other shape (exponents, long mantissas, `inf`) falls through to `fast_float2`.
#[inline]
pub fn parse_plain_decimal(bytes: &[u8]) -> Option<f64> {
    let (negative, digits) = match bytes.first()? {
        b'-' => (true, &bytes[1..]),
        b'+' => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    if digits.len() > 16 {
        return None;
    }
    let mut mantissa = 0u64;
    let mut count = 0usize;
    let mut point = None;
    for (i, &b) in digits.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                count += 1;
            }
            b'.' if point.is_none() => point = Some(i),
            _ => return None,
        }
    }
    if count == 0 || count > 15 {
        return None;
    }
    let fraction_digits = point.map_or(0, |p| digits.len() - p - 1);
    let value = mantissa as f64 / EXACT_POWERS_OF_TEN[fraction_digits];
    Some(if negative { -value } else { value })
}

pub fn parse_int(text: &str) -> Option<i64> {
    text.parse::<i64>().ok()
}

/// Accepts decimal and scientific notation plus `inf`/`infinity` (which the caller rejects as non-finite).
pub fn parse_float(text: &str) -> Option<f64> {
    fast_float2::parse::<f64, _>(text).ok()
}

pub fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "t" => Some(true),
        "false" | "no" | "n" | "f" => Some(false),
        _ => None,
    }
}

/// Parses RFC 3339 / ISO 8601 (`2024-01-01T08:00:00.123Z`, `+08:00` offsets), `YYYY-MM-DD HH:MM:SS[.fff]`
/// (read as UTC) and plain dates. The fixed layout is parsed by hand first because it is what sensor
/// exports write millions of times, and chrono's general parser is several times slower on it.
pub fn parse_timestamp_micros(text: &str) -> Option<i64> {
    if let Some(v) = parse_iso_fast(text.as_bytes()) {
        return Some(v);
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(dt.timestamp_micros());
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y/%m/%d %H:%M:%S%.f",
    ] {
        if let Ok(dt) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Some(dt.and_utc().timestamp_micros());
        }
    }
    for format in ["%Y-%m-%d", "%Y/%m/%d"] {
        if let Ok(d) = chrono::NaiveDate::parse_from_str(text, format) {
            return Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_micros());
        }
    }
    None
}

fn digits(bytes: &[u8]) -> Option<u32> {
    let mut value = 0u32;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u32::from(b - b'0');
    }
    Some(value)
}

/// `YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}][Z]`, UTC only; anything else falls back to chrono.
fn parse_iso_fast(b: &[u8]) -> Option<i64> {
    IsoTimestamps::default().parse(b)
}

/// Parses the fixed ISO layout `YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}][Z]` (UTC), remembering the last date:
/// sensor files write the same day thousands of times in a row, so the calendar arithmetic is done once a
/// day.
#[derive(Debug, Default)]
pub struct IsoTimestamps {
    last_date: Option<([u8; 10], i64)>,
}

impl IsoTimestamps {
    /// Microseconds since the epoch, or `None` for any other layout.
    #[inline]
    pub fn parse(&mut self, b: &[u8]) -> Option<i64> {
        if b.len() < 19 {
            return None;
        }
        let date: [u8; 10] = b[..10].try_into().expect("ten bytes");
        let days = match self.last_date {
            Some((last, days)) if last == date => days,
            _ => {
                let days = iso_days(&date)?;
                self.last_date = Some((date, days));
                days
            }
        };
        Some(days * 86_400_000_000 + iso_time_micros(&b[10..])?)
    }
}

/// Days since the epoch of `YYYY-MM-DD`. Calendar arithmetic by hand: chrono's validated constructors
/// were a sixth of the timestamp parsing time.
fn iso_days(b: &[u8; 10]) -> Option<i64> {
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(&b[0..4])? as i32;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(
        i64::from(year),
        i64::from(month),
        i64::from(day),
    ))
}

/// Microseconds into the day of `[T ]HH:MM:SS[.f{1,9}][Z]`. Leap seconds (second 60) are left to
/// chrono's general parser.
fn iso_time_micros(b: &[u8]) -> Option<i64> {
    if !(b[0] == b'T' || b[0] == b' ') || b[3] != b':' || b[6] != b':' {
        return None;
    }
    let hour = digits(&b[1..3])?;
    let minute = digits(&b[4..6])?;
    let second = digits(&b[7..9])?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = &b[9..];
    let mut micros = 0u32;
    if let Some((&b'.', frac)) = rest.split_first() {
        let len = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 || len > 9 {
            return None;
        }
        let mut value = digits(&frac[..len.min(6)])?;
        for _ in len..6 {
            value *= 10;
        }
        micros = value;
        rest = &frac[len..];
    }
    if !(rest.is_empty() || rest == b"Z") {
        return None;
    }
    Some(i64::from(hour * 3600 + minute * 60 + second) * 1_000_000 + i64::from(micros))
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Rows looked at to infer the schema.
pub const INFERENCE_SAMPLE_ROWS: usize = 10_000;

/// Accumulates what the sample says about one column.
#[derive(Debug, Clone)]
pub struct KindEvidence {
    non_missing: usize,
    all_int: bool,
    all_float: bool,
    all_bool: bool,
    all_timestamp: bool,
    /// Cells that are neither numbers nor missing: a numeric column tolerates a few (typos, `#VALUE!`),
    /// which are then quarantined cell by cell instead of turning the whole column into text.
    not_numeric: usize,
    int_min: i64,
    int_max: i64,
    distinct: HashSet<String>,
    distinct_overflow: bool,
}

const DISTINCT_TRACK_LIMIT: usize = 1_000;

impl Default for KindEvidence {
    fn default() -> Self {
        KindEvidence {
            non_missing: 0,
            all_int: true,
            all_float: true,
            all_bool: true,
            all_timestamp: true,
            not_numeric: 0,
            int_min: i64::MAX,
            int_max: i64::MIN,
            distinct: HashSet::new(),
            distinct_overflow: false,
        }
    }
}

impl KindEvidence {
    /// Cells that were not missing.
    pub fn non_missing(&self) -> usize {
        self.non_missing
    }

    pub fn observe(&mut self, bytes: &[u8]) {
        let Ok(text) = std::str::from_utf8(bytes) else {
            // Non-UTF-8 text can only be a string column; the bad cell itself is quarantined later.
            self.non_missing += 1;
            self.all_int = false;
            self.all_float = false;
            self.all_bool = false;
            self.all_timestamp = false;
            self.not_numeric += 1;
            return;
        };
        if is_missing_token(text) {
            return;
        }
        let text = text.trim();
        self.non_missing += 1;
        let float = parse_float(text);
        if float.is_none() {
            self.not_numeric += 1;
        }
        if self.all_int {
            match parse_int(text) {
                Some(v) => {
                    self.int_min = self.int_min.min(v);
                    self.int_max = self.int_max.max(v);
                }
                None if float.is_none() => {}
                None => self.all_int = false,
            }
        }
        // `inf` parses as a float: it makes the column float and is then rejected cell by cell.
        if self.all_float && float.is_none() {
            self.all_float = false;
        }
        if self.all_bool && parse_bool(text).is_none() {
            self.all_bool = false;
        }
        if self.all_timestamp && parse_timestamp_micros(text).is_none() {
            self.all_timestamp = false;
        }
        if !self.distinct_overflow {
            if self.distinct.len() < DISTINCT_TRACK_LIMIT {
                self.distinct.insert(text.to_string());
            } else if !self.distinct.contains(text) {
                self.distinct_overflow = true;
            }
        }
    }

    /// Decides the kind. Integers stay numeric even when they look like codes; a configured override wins.
    pub fn decide(&self, column_name: &str) -> (ColumnKind, Option<EpochUnit>) {
        if self.non_missing == 0 {
            return (ColumnKind::String, None);
        }
        // Up to 2 % of a sample of at least 50 cells may be non-numbers in a numeric column.
        let mostly_numeric = self.not_numeric == 0
            || (self.non_missing >= 50 && self.not_numeric * 50 <= self.non_missing);
        if self.all_int && mostly_numeric && self.not_numeric < self.non_missing {
            if looks_like_time_name(column_name) {
                if (1_000_000_000..=9_999_999_999).contains(&self.int_min)
                    && self.int_max <= 9_999_999_999
                {
                    return (ColumnKind::Timestamp, Some(EpochUnit::Seconds));
                }
                if (1_000_000_000_000..=9_999_999_999_999).contains(&self.int_min)
                    && self.int_max <= 9_999_999_999_999
                {
                    return (ColumnKind::Timestamp, Some(EpochUnit::Millis));
                }
            }
            return (ColumnKind::Int, None);
        }
        if (self.all_float || mostly_numeric) && self.not_numeric < self.non_missing {
            return (ColumnKind::Float, None);
        }
        if self.all_bool {
            return (ColumnKind::Bool, None);
        }
        if self.all_timestamp {
            return (ColumnKind::Timestamp, None);
        }
        let distinct = self.distinct.len();
        let categorical_limit = (self.non_missing / 20).clamp(20, 200);
        if !self.distinct_overflow
            && distinct <= categorical_limit
            && distinct * 2 <= self.non_missing
        {
            (ColumnKind::Categorical, None)
        } else {
            (ColumnKind::String, None)
        }
    }
}

fn looks_like_time_name(name: &str) -> bool {
    let lower = name.to_lowercase();
    ["time", "timestamp", "ts", "epoch", "datetime", "date"]
        .iter()
        .any(|t| {
            lower == *t || lower.ends_with(&format!("_{t}")) || lower.starts_with(&format!("{t}_"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_iso_timestamps_match_chrono_on_every_day_of_four_centuries() {
        let mut date = chrono::NaiveDate::from_ymd_opt(1899, 12, 25).unwrap();
        let end = chrono::NaiveDate::from_ymd_opt(2301, 1, 5).unwrap();
        while date < end {
            let text = format!("{}T13:07:59.25Z", date.format("%Y-%m-%d"));
            let expected = date
                .and_hms_milli_opt(13, 7, 59, 250)
                .unwrap()
                .and_utc()
                .timestamp_micros();
            assert_eq!(parse_iso_fast(text.as_bytes()), Some(expected), "{text}");
            date = date.succ_opt().unwrap();
        }
        for bad in [
            "2023-02-29T00:00:00",
            "2024-13-01T00:00:00",
            "2024-04-31 00:00:00",
            "2024-01-01T24:00:00",
            "2024-00-10T00:00:00",
        ] {
            assert_eq!(parse_iso_fast(bad.as_bytes()), None, "{bad}");
        }
        assert!(parse_iso_fast(b"2024-02-29 23:59:59").is_some());
    }

    #[test]
    fn plain_decimals_parse_to_the_same_f64_as_fast_float() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(11);
        let mut texts: Vec<String> = [
            "0",
            "-0",
            "+0.0",
            "1.",
            ".5",
            "-.5",
            "67.866",
            "0.1",
            "0.3",
            "123456789012345",
            "1234567.89012345",
            "0.00000000000001",
            "999999999999999",
            "-2.5",
            "1544.0",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        for _ in 0..200_000 {
            let digits = rng.random_range(1..=15u32);
            let mantissa = rng.random_range(0..10u64.pow(digits));
            let point = rng.random_range(0..=digits as usize);
            let mut text = format!("{mantissa:0width$}", width = digits as usize);
            text.insert(text.len() - point, '.');
            if rng.random_bool(0.3) {
                text.insert(0, '-');
            }
            texts.push(text);
        }
        for text in &texts {
            let expected = fast_float2::parse::<f64, _>(text.as_bytes()).unwrap();
            let got = parse_plain_decimal(text.as_bytes());
            assert_eq!(got.map(f64::to_bits), Some(expected.to_bits()), "{text}");
        }
        for other in [
            "",
            "-",
            ".",
            "1e5",
            "1.2.3",
            "1,5",
            " 1",
            "inf",
            "1234567890123456",
            "0x10",
        ] {
            assert_eq!(parse_plain_decimal(other.as_bytes()), None, "{other}");
        }
    }

    fn infer(values: &[&str]) -> (ColumnKind, Option<EpochUnit>) {
        infer_named("x", values)
    }

    fn infer_named(name: &str, values: &[&str]) -> (ColumnKind, Option<EpochUnit>) {
        let mut ev = KindEvidence::default();
        for v in values {
            ev.observe(v.as_bytes());
        }
        ev.decide(name)
    }

    #[test]
    fn infers_each_kind() {
        assert_eq!(infer(&["1", "2", "", "-3"]).0, ColumnKind::Int);
        assert_eq!(infer(&["1", "2.5", "NaN", "1e3"]).0, ColumnKind::Float);
        assert_eq!(infer(&["true", "False", "yes"]).0, ColumnKind::Bool);
        assert_eq!(
            infer(&["2024-01-01T00:00:00Z", "2024-01-01 08:00:01", "2024-02-03"]).0,
            ColumnKind::Timestamp
        );
        let many: Vec<String> = (0..100)
            .map(|i| ["L", "M", "H"][i % 3].to_string())
            .collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(infer(&refs).0, ColumnKind::Categorical);
        let unique: Vec<String> = (0..100).map(|i| format!("id-{i}")).collect();
        let refs: Vec<&str> = unique.iter().map(String::as_str).collect();
        assert_eq!(infer(&refs).0, ColumnKind::String);
        assert_eq!(infer(&["", "NA"]).0, ColumnKind::String);
    }

    #[test]
    fn integer_codes_stay_numeric_and_epochs_need_a_time_name() {
        assert_eq!(infer(&["0", "1", "1", "0"]).0, ColumnKind::Int);
        assert_eq!(infer(&["1700000000", "1700000001"]).0, ColumnKind::Int);
        assert_eq!(
            infer_named("timestamp", &["1700000000", "1700000001"]),
            (ColumnKind::Timestamp, Some(EpochUnit::Seconds))
        );
        assert_eq!(
            infer_named("ts", &["1700000000000"]),
            (ColumnKind::Timestamp, Some(EpochUnit::Millis))
        );
    }

    #[test]
    fn parses_timestamps_in_every_documented_form() {
        let expect = 1_704_067_200_000_000i64; // 2024-01-01T00:00:00Z
        assert_eq!(parse_timestamp_micros("2024-01-01T00:00:00Z"), Some(expect));
        assert_eq!(
            parse_timestamp_micros("2024-01-01T00:00:00.5Z"),
            Some(expect + 500_000)
        );
        assert_eq!(
            parse_timestamp_micros("2024-01-01 00:00:00.123"),
            Some(expect + 123_000)
        );
        assert_eq!(
            parse_timestamp_micros("2024-01-01T08:00:00+08:00"),
            Some(expect)
        );
        assert_eq!(parse_timestamp_micros("2024-01-01"), Some(expect));
        assert_eq!(parse_timestamp_micros("2024-13-01T00:00:00Z"), None);
        assert_eq!(parse_timestamp_micros("yesterday"), None);
    }

    #[test]
    fn cells_reject_wrong_types_and_infinity() {
        let spec = ColumnSpec {
            name: "t".into(),
            kind: ColumnKind::Float,
            source_position: 0,
            epoch_unit: None,
        };
        assert_eq!(parse_cell(b"1.5", &spec), Ok(Cell::Float(1.5)));
        assert_eq!(parse_cell(b"N/A", &spec), Ok(Cell::Null));
        assert_eq!(parse_cell(b"NaN", &spec), Ok(Cell::Null));
        assert_eq!(parse_cell(b"inf", &spec), Err(CellError::NonFinite));
        assert_eq!(
            parse_cell(b"abc", &spec),
            Err(CellError::NotA(ColumnKind::Float))
        );
        assert!(matches!(
            parse_cell(b"\xff\xfe", &spec),
            Err(CellError::NotUtf8 { .. })
        ));
    }

    #[test]
    fn a_few_typos_do_not_turn_a_numeric_column_into_text() {
        let mut values: Vec<String> = (0..100).map(|i| format!("{}.5", i)).collect();
        values[7] = "#VALUE!".into();
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        assert_eq!(infer(&refs).0, ColumnKind::Float);
        let mut ints: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        ints[3] = "oops".into();
        let refs: Vec<&str> = ints.iter().map(String::as_str).collect();
        assert_eq!(infer(&refs).0, ColumnKind::Int);
        let mixed = ["1", "x", "2", "y"];
        assert_ne!(infer(&mixed).0, ColumnKind::Int);
    }
}
