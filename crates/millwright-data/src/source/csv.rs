//! CSV: delimiter sniffing (`,` `;` tab `|`), quoted fields, UTF-8 BOM, CRLF, ragged rows quarantined.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use csv::ByteRecord;

use super::typed::{record_text, TypedBatchBuilder};
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

/// Bytes read per read call: the default 8 KiB made tens of thousands of system calls per 100 MB.
const READ_BUFFER_BYTES: usize = 1 << 20;

/// Bytes looked at to choose the delimiter.
const SNIFF_BYTES: usize = 64 << 10;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

pub struct CsvReader {
    reader: csv::Reader<Box<dyn Read + Send>>,
    delimiter: u8,
    name: Arc<str>,
    path: PathBuf,
    sample: VecDeque<ByteRecord>,
    /// Reused record buffers of the chunk being read, and each record's line.
    chunk: Vec<ByteRecord>,
    chunk_lines: Vec<u64>,
    header_len: usize,
    finished: bool,
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
        let reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .buffer_capacity(READ_BUFFER_BYTES)
            .flexible(true)
            .from_reader(input);
        let mut this = CsvReader {
            reader,
            delimiter,
            name: source_name(path),
            path: path.to_path_buf(),
            sample: VecDeque::new(),
            chunk: Vec::new(),
            chunk_lines: Vec::new(),
            header_len: 0,
            finished: false,
        };
        let header = this.read_header()?;
        let names = normalise_header(path, header, &options.rename)?;
        this.header_len = names.len();
        let mut evidence = vec![KindEvidence::default(); names.len()];
        while this.sample.len() < INFERENCE_SAMPLE_ROWS {
            let mut record = ByteRecord::new();
            if !this.read_raw(&mut record)? {
                break;
            }
            if record.len() == names.len() && record.as_slice().len() <= MAX_RECORD_BYTES {
                for (e, field) in evidence.iter_mut().zip(record.iter()) {
                    e.observe(field);
                }
            }
            this.sample.push_back(record);
        }
        if this.sample.is_empty() {
            return Err(DataError::HeaderOnly {
                path: path.to_path_buf(),
            });
        }
        let columns = decide_columns(&names, &evidence, options);
        Ok((this, columns))
    }

    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }

    pub fn bytes_read(&self) -> u64 {
        self.reader.position().byte()
    }

    fn read_header(&mut self) -> Result<Vec<String>> {
        let mut record = ByteRecord::new();
        if !self.read_raw(&mut record)? {
            return Err(DataError::EmptyFile {
                path: self.path.clone(),
            });
        }
        if record.as_slice().len() > MAX_RECORD_BYTES {
            return Err(DataError::Malformed {
                path: self.path.clone(),
                line: 1,
                message: format!(
                    "the header is {} bytes long (limit {MAX_RECORD_BYTES}); is this a CSV file?",
                    record.as_slice().len()
                ),
            });
        }
        record
            .iter()
            .enumerate()
            .map(|(i, field)| {
                String::from_utf8(field.to_vec()).map_err(|e| DataError::Malformed {
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

    fn read_raw(&mut self, record: &mut ByteRecord) -> Result<bool> {
        self.reader.read_byte_record(record).map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            match e.into_kind() {
                csv::ErrorKind::Io(io) => DataError::io(&self.path, io),
                other => DataError::Malformed {
                    path: self.path.clone(),
                    line,
                    message: format!("{other:?}"),
                },
            }
        })
    }

    /// The next batch typed by `builder`, or `None` at the end. Records are typed in chunks of
    /// [`CHUNK_RECORDS`] (see [`TypedBatchBuilder::push_records`]); the record buffers are reused.
    pub fn next_batch(
        &mut self,
        builder: &mut TypedBatchBuilder,
        quarantine: &mut QuarantineLog,
    ) -> Result<Option<SourceBatch>> {
        let mut filled = 0;
        while !self.finished && builder.room() > filled {
            if filled == self.chunk.len() {
                self.chunk.push(ByteRecord::new());
                self.chunk_lines.push(0);
            }
            let got = match self.sample.pop_front() {
                Some(sampled) => {
                    self.chunk[filled] = sampled;
                    true
                }
                None => {
                    let mut record = std::mem::take(&mut self.chunk[filled]);
                    let got = self.read_raw(&mut record);
                    self.chunk[filled] = record;
                    got?
                }
            };
            if !got {
                self.finished = true;
                break;
            }
            let record = &self.chunk[filled];
            let line = record.position().map(|p| p.line()).unwrap_or(0);
            if record.as_slice().len() > MAX_RECORD_BYTES {
                // Earlier rows first, so the quarantine stays in line order.
                builder.push_records(
                    &self.chunk[..filled],
                    &self.chunk_lines[..filled],
                    quarantine,
                );
                let record = &self.chunk[filled];
                quarantine.push(QuarantineRow::new(
                    &self.name,
                    line,
                    None,
                    None,
                    format!(
                        "record is {} bytes, longer than the {} MiB limit",
                        record.as_slice().len(),
                        MAX_RECORD_BYTES >> 20
                    ),
                    record_text(record.iter()),
                ));
                // Do not keep a huge buffer around for the next records.
                self.chunk[filled] = ByteRecord::new();
                filled = 0;
                continue;
            }
            if record.len() == 1 && record[0].is_empty() && self.header_len > 1 {
                // A blank line inside the data carries nothing; csv yields it only with stray whitespace.
                continue;
            }
            self.chunk_lines[filled] = line;
            filled += 1;
            if filled == CHUNK_RECORDS {
                builder.push_records(
                    &self.chunk[..filled],
                    &self.chunk_lines[..filled],
                    quarantine,
                );
                filled = 0;
            }
        }
        builder.push_records(
            &self.chunk[..filled],
            &self.chunk_lines[..filled],
            quarantine,
        );
        Ok((!builder.is_empty()).then(|| builder.finish()))
    }
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
