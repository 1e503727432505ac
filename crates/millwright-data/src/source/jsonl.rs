//! JSON lines: one object per line; keys become columns (in order of first appearance in the sample).
//! A line that is not an object, or that has a key the sample did not show, goes to quarantine whole.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::csv::MAX_RECORD_BYTES;
use super::typed::{truncate_text, TypedBatchBuilder};
use super::{decide_columns, normalise_header, source_name, ReadOptions, SourceBatch};
use crate::error::{DataError, Result};
use crate::quarantine::{QuarantineLog, QuarantineRow};
use crate::types::{ColumnSpec, KindEvidence, INFERENCE_SAMPLE_ROWS};

pub struct JsonlReader {
    reader: BufReader<File>,
    name: Arc<str>,
    path: PathBuf,
    /// Source key of each stored column (keys may be renamed).
    keys: Vec<String>,
    sample: VecDeque<(u64, Vec<u8>)>,
    line: u64,
    bytes: u64,
    finished: bool,
}

impl JsonlReader {
    pub fn open(path: &Path, options: &ReadOptions) -> Result<(JsonlReader, Vec<ColumnSpec>)> {
        let file = File::open(path).map_err(|e| DataError::io(path, e))?;
        let mut this = JsonlReader {
            reader: BufReader::with_capacity(1 << 20, file),
            name: source_name(path),
            path: path.to_path_buf(),
            keys: Vec::new(),
            sample: VecDeque::new(),
            line: 0,
            bytes: 0,
            finished: false,
        };
        let mut keys: Vec<String> = Vec::new();
        let mut evidence: Vec<KindEvidence> = Vec::new();
        let mut any_content = false;
        while this.sample.len() < INFERENCE_SAMPLE_ROWS {
            let Some((line, bytes)) = this.read_line()? else {
                break;
            };
            any_content = true;
            if bytes.len() <= MAX_RECORD_BYTES {
                if let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(&bytes) {
                    for (key, value) in &object {
                        let index = match keys.iter().position(|k| k == key) {
                            Some(i) => i,
                            None => {
                                keys.push(key.clone());
                                evidence.push(KindEvidence::default());
                                keys.len() - 1
                            }
                        };
                        evidence[index].observe(value_text(value).as_bytes());
                    }
                }
            }
            this.sample.push_back((line, bytes));
        }
        if !any_content {
            return Err(DataError::EmptyFile {
                path: path.to_path_buf(),
            });
        }
        if keys.is_empty() {
            return Err(DataError::Malformed {
                path: path.to_path_buf(),
                line: this.sample.front().map(|s| s.0).unwrap_or(1),
                message:
                    "no line of the first lines is a JSON object; expected one object per line"
                        .into(),
            });
        }
        let names = normalise_header(path, keys.clone(), &options.rename)?;
        this.keys = keys;
        let columns = decide_columns(&names, &evidence, options);
        Ok((this, columns))
    }

    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// The next non-blank line with its 1-based number.
    fn read_line(&mut self) -> Result<Option<(u64, Vec<u8>)>> {
        loop {
            let mut bytes = Vec::new();
            let n = self
                .reader
                .read_until(b'\n', &mut bytes)
                .map_err(|e| DataError::io(&self.path, e))?;
            if n == 0 {
                return Ok(None);
            }
            self.bytes += n as u64;
            self.line += 1;
            if self.line == 1 && bytes.starts_with(b"\xEF\xBB\xBF") {
                bytes.drain(..3);
            }
            while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                bytes.pop();
            }
            if bytes.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            return Ok(Some((self.line, bytes)));
        }
    }

    /// The next batch typed by `builder`, or `None` at the end.
    pub fn next_batch(
        &mut self,
        builder: &mut TypedBatchBuilder,
        quarantine: &mut QuarantineLog,
    ) -> Result<Option<SourceBatch>> {
        let mut cells: Vec<String> = vec![String::new(); self.keys.len()];
        while !self.finished {
            let next = match self.sample.pop_front() {
                Some(sampled) => Some(sampled),
                None => self.read_line()?,
            };
            let Some((line, bytes)) = next else {
                self.finished = true;
                break;
            };
            match self.to_cells(&bytes, &mut cells) {
                Ok(()) => {
                    if let Err(row) = builder.push(cells.iter().map(|c| c.as_bytes()), line) {
                        quarantine.push(row);
                    }
                    if builder.is_full() {
                        return Ok(Some(builder.finish()));
                    }
                }
                Err(reason) => quarantine.push(QuarantineRow::new(
                    &self.name,
                    line,
                    None,
                    None,
                    reason,
                    truncate_text(
                        String::from_utf8_lossy(&bytes[..bytes.len().min(2048)]).into_owned(),
                    ),
                )),
            }
        }
        Ok((!builder.is_empty()).then(|| builder.finish()))
    }

    /// Spreads one line's object over the columns; missing keys become empty (missing) cells.
    fn to_cells(&self, bytes: &[u8], cells: &mut [String]) -> std::result::Result<(), String> {
        if bytes.len() > MAX_RECORD_BYTES {
            return Err(format!(
                "line is {} bytes, longer than the {} MiB limit",
                bytes.len(),
                MAX_RECORD_BYTES >> 20
            ));
        }
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON: {e}"))?;
        let Value::Object(object) = value else {
            return Err(format!("line is a JSON {}, not an object", kind_of(&value)));
        };
        fill_cells(&self.keys, &object, cells)
    }
}

fn fill_cells(
    keys: &[String],
    object: &Map<String, Value>,
    cells: &mut [String],
) -> std::result::Result<(), String> {
    for cell in cells.iter_mut() {
        cell.clear();
    }
    for (key, value) in object {
        let Some(index) = keys.iter().position(|k| k == key) else {
            return Err(format!(
                "key {key:?} is not a column (columns come from the first {INFERENCE_SAMPLE_ROWS} lines)"
            ));
        };
        cells[index] = value_text(value);
    }
    Ok(())
}

/// The text a JSON value stands for in a cell: strings unquoted, null empty, nested values as JSON.
fn value_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
