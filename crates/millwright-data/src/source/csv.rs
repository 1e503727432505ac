//! CSV: delimiter sniffing (`,` `;` tab `|`), quoted fields, UTF-8 BOM, CRLF, ragged rows quarantined.
//! [`CsvSplitter`] splits the text; this reader samples it to infer kinds and hands it to the typing.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use csv::ByteRecord;

use super::csv_split::{CsvSplitter, FieldBounds, Header, Split};
use super::typed::{RecordRun, TypedBatchBuilder};
use super::{decide_columns, normalise_header, source_name, ReadOptions, SourceBatch};
use crate::error::{DataError, Result};
use crate::quarantine::{QuarantineLog, QuarantineRow};
use crate::types::{ColumnSpec, KindEvidence, INFERENCE_SAMPLE_ROWS};

/// A record longer than this goes to quarantine (a header longer than this is an error): no real sensor
/// row is 16 MiB, and keeping such a row would let one bad line dominate memory.
pub const MAX_RECORD_BYTES: usize = 16 << 20;

/// Records typed together: enough to amortise the per-column loops, few enough that the chunk's buffers
/// stay in the L2 cache while each column is parsed.
const CHUNK_RECORDS: usize = 512;

/// Bytes looked at to choose the delimiter.
const SNIFF_BYTES: usize = 64 << 10;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

pub struct CsvReader {
    splitter: CsvSplitter,
    name: Arc<str>,
    path: PathBuf,
    /// Records read to infer the column kinds, typed first.
    sample: VecDeque<Sampled>,
    /// Offsets of the records of the last split.
    fields: FieldBounds,
    finished: bool,
}

enum Sampled {
    Record(ByteRecord, u64),
    TooLong(QuarantineRow),
}

impl CsvReader {
    pub fn open(path: &Path, options: &ReadOptions) -> Result<(CsvReader, Vec<ColumnSpec>)> {
        let mut file = File::open(path).map_err(|e| DataError::io(path, e))?;
        let mut prefix = Vec::with_capacity(SNIFF_BYTES);
        (&mut file)
            .take(SNIFF_BYTES as u64)
            .read_to_end(&mut prefix)
            .map_err(|e| DataError::io(path, e))?;
        if prefix.starts_with(UTF8_BOM) {
            prefix.drain(..UTF8_BOM.len());
        }
        if prefix.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(DataError::EmptyFile {
                path: path.to_path_buf(),
            });
        }
        let delimiter = sniff_delimiter(&prefix);
        let input: Box<dyn Read + Send> = Box::new(Cursor::new(prefix).chain(file));
        let mut this = CsvReader {
            splitter: CsvSplitter::new(input, delimiter),
            name: source_name(path),
            path: path.to_path_buf(),
            sample: VecDeque::new(),
            fields: FieldBounds::default(),
            finished: false,
        };
        let header = this.read_header()?;
        let names = normalise_header(path, header, &options.rename)?;
        let mut evidence = vec![KindEvidence::default(); names.len()];
        this.read_sample(&mut evidence)?;
        if this.sample.is_empty() {
            return Err(DataError::HeaderOnly {
                path: path.to_path_buf(),
            });
        }
        let columns = decide_columns(&names, &evidence, options);
        Ok((this, columns))
    }

    pub fn delimiter(&self) -> u8 {
        self.splitter.delimiter()
    }

    pub fn bytes_read(&self) -> u64 {
        self.splitter.bytes_read()
    }

    fn read_header(&mut self) -> Result<Vec<String>> {
        let header = match self
            .splitter
            .header()
            .map_err(|e| DataError::io(&self.path, e))?
        {
            Header::Fields(fields) => fields,
            Header::Empty => {
                return Err(DataError::EmptyFile {
                    path: self.path.clone(),
                })
            }
            Header::TooLong { bytes } => {
                return Err(DataError::Malformed {
                    path: self.path.clone(),
                    line: 1,
                    message: format!(
                        "the header is {bytes} bytes long (limit {MAX_RECORD_BYTES}); is this a CSV file?"
                    ),
                })
            }
        };
        header
            .into_iter()
            .enumerate()
            .map(|(i, field)| {
                String::from_utf8(field).map_err(|e| DataError::Malformed {
                    path: self.path.clone(),
                    line: 1,
                    message: format!(
                        "column name {} is not valid UTF-8 (bad byte at offset {}); save the file as UTF-8",
                        i + 1,
                        e.utf8_error().valid_up_to()
                    ),
                })
            })
            .collect()
    }

    /// Reads the first [`INFERENCE_SAMPLE_ROWS`] records, observing the cells of whole rows.
    fn read_sample(&mut self, evidence: &mut [KindEvidence]) -> Result<()> {
        while self.sample.len() < INFERENCE_SAMPLE_ROWS {
            let wanted = INFERENCE_SAMPLE_ROWS - self.sample.len();
            match self
                .splitter
                .split(wanted, &mut self.fields)
                .map_err(|e| DataError::io(&self.path, e))?
            {
                Split::Records => {
                    let run = self.splitter.run(&self.fields);
                    for (r, &line) in self.fields.lines.iter().enumerate() {
                        let record: ByteRecord = run.record(r).collect();
                        if record.len() == evidence.len() {
                            for (e, field) in evidence.iter_mut().zip(record.iter()) {
                                e.observe(field);
                            }
                        }
                        self.sample.push_back(Sampled::Record(record, line));
                    }
                }
                Split::TooLong { line, bytes, text } => {
                    let row = too_long_row(&self.name, line, bytes, text);
                    self.sample.push_back(Sampled::TooLong(row));
                }
                Split::End => break,
            }
        }
        Ok(())
    }

    /// The next batch typed by `builder`, or `None` at the end. Records are typed in chunks of
    /// [`CHUNK_RECORDS`] (see [`TypedBatchBuilder::push_records`]).
    pub fn next_batch(
        &mut self,
        builder: &mut TypedBatchBuilder,
        quarantine: &mut QuarantineLog,
    ) -> Result<Option<SourceBatch>> {
        while !self.finished && builder.room() > 0 {
            let room = builder.room().min(CHUNK_RECORDS);
            if !self.sample.is_empty() {
                self.push_sampled(room, builder, quarantine);
                continue;
            }
            match self
                .splitter
                .split(room, &mut self.fields)
                .map_err(|e| DataError::io(&self.path, e))?
            {
                Split::Records => builder.push_records(
                    &self.splitter.run(&self.fields),
                    &self.fields.lines,
                    quarantine,
                ),
                Split::TooLong { line, bytes, text } => {
                    quarantine.push(too_long_row(&self.name, line, bytes, text));
                }
                Split::End => self.finished = true,
            }
        }
        Ok((!builder.is_empty()).then(|| builder.finish()))
    }

    /// Types up to `room` sampled records, in line order with the sampled records past the limit.
    fn push_sampled(
        &mut self,
        room: usize,
        builder: &mut TypedBatchBuilder,
        quarantine: &mut QuarantineLog,
    ) {
        let mut records = Vec::with_capacity(room);
        let mut lines = Vec::with_capacity(room);
        while records.len() < room {
            match self.sample.pop_front() {
                Some(Sampled::Record(record, line)) => {
                    records.push(record);
                    lines.push(line);
                }
                Some(Sampled::TooLong(row)) => {
                    builder.push_records(records.as_slice(), &lines, quarantine);
                    records.clear();
                    lines.clear();
                    quarantine.push(row);
                }
                None => break,
            }
        }
        builder.push_records(records.as_slice(), &lines, quarantine);
    }
}

fn too_long_row(source: &Arc<str>, line: u64, bytes: usize, text: String) -> QuarantineRow {
    QuarantineRow::new(
        source,
        line,
        None,
        None,
        format!(
            "record is {bytes} bytes, longer than the {} MiB limit",
            MAX_RECORD_BYTES >> 20
        ),
        text,
    )
}

/// Picks the delimiter whose count per line is the most consistent and largest over the first lines,
/// ignoring delimiters inside double quotes. Falls back to `,`.
pub fn sniff_delimiter(prefix: &[u8]) -> u8 {
    const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];
    let mut counts: Vec<[usize; 4]> = Vec::new();
    let mut current = [0usize; 4];
    let mut in_quotes = false;
    for &b in prefix {
        match b {
            b'"' => in_quotes = !in_quotes,
            b'\n' if !in_quotes => {
                counts.push(current);
                current = [0; 4];
                if counts.len() >= 50 {
                    break;
                }
            }
            _ if !in_quotes => {
                if let Some(i) = CANDIDATES.iter().position(|&c| c == b) {
                    current[i] += 1;
                }
            }
            _ => {}
        }
    }
    if current.iter().any(|&c| c > 0) && counts.len() < 50 {
        counts.push(current);
    }
    let mut best = (b',', 0usize, 0usize); // (delimiter, lines agreeing with the header, header count)
    for (i, &candidate) in CANDIDATES.iter().enumerate() {
        let Some(first) = counts.first().map(|c| c[i]) else {
            continue;
        };
        if first == 0 {
            continue;
        }
        let agreeing = counts.iter().filter(|c| c[i] == first).count();
        if agreeing > best.1 || (agreeing == best.1 && first > best.2) {
            best = (candidate, agreeing, first);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_common_delimiters() {
        assert_eq!(sniff_delimiter(b"a,b,c\n1,2,3\n"), b',');
        assert_eq!(sniff_delimiter(b"a;b;c\n1,5;2,5;3\n"), b';');
        assert_eq!(sniff_delimiter(b"a\tb\tc\n1\t2\t3\n"), b'\t');
        assert_eq!(sniff_delimiter(b"a|b\n1|2\n"), b'|');
        assert_eq!(sniff_delimiter(b"\"x,y\";b\n\"1,2\";3\n"), b';');
        assert_eq!(sniff_delimiter(b"single\n1\n"), b',');
    }
}
