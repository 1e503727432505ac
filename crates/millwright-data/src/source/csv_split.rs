//! Splits CSV text into records and fields: unquoted text inside the read buffer without copying a byte,
//! quoted text through csv_core.
//!
//! Hand-written because the csv crate copies every record into its own buffer through a byte-at-a-time
//! state machine that also handles quoting. Most sensor exports contain no quote at all; for them, finding
//! delimiters and newlines eight bytes at a time ([`ByteHits`]) and keeping only the field offsets was the
//! largest saving left in reading. Lines this splitter would not read exactly as csv_core does (up to the
//! last quote in the buffered lines, from a lone CR, a line with no end in sight, a last line without its
//! newline) go through csv_core, and splitting in place resumes after them. Lines are counted here for
//! both, so every record gets the line it starts on (the csv crate numbers a record from where the previous
//! one stopped, which after a CRLF is the line before).

use std::io::{self, Read};

use memchr::{memchr, memchr_iter, memrchr};

use super::csv::MAX_RECORD_BYTES;
use super::typed::{record_text, RecordRun};

/// Bytes read per read call: the default 8 KiB made tens of thousands of system calls per 100 MB.
pub const READ_BUFFER_BYTES: usize = 1 << 20;

/// Field offsets of a run of split records, into the read buffer or, for records csv_core split, into
/// its unquoted copy of them.
#[derive(Default)]
pub struct FieldBounds {
    /// Start and end of each field, in pairs.
    bounds: Vec<u32>,
    /// Index of each record's first field, then the field count (one more entry than records).
    record_starts: Vec<u32>,
    /// Each record's 1-based line.
    pub lines: Vec<u64>,
    /// The offsets point into the unquoted copy csv_core made, not the read buffer.
    unquoted: bool,
}

impl FieldBounds {
    fn clear(&mut self) {
        self.bounds.clear();
        self.record_starts.clear();
        self.record_starts.push(0);
        self.lines.clear();
        self.unquoted = false;
    }

    fn field_count(&self) -> usize {
        self.bounds.len() / 2
    }

    /// Drops the fields pushed after the last whole record.
    fn drop_partial_record(&mut self) {
        let kept = *self.record_starts.last().unwrap_or(&0) as usize;
        self.bounds.truncate(kept * 2);
    }
}

/// Split records seen through the buffer they point into.
pub struct SplitRun<'a> {
    bytes: &'a [u8],
    fields: &'a FieldBounds,
}

impl RecordRun for SplitRun<'_> {
    fn len(&self) -> usize {
        self.fields.lines.len()
    }

    fn width(&self, record: usize) -> usize {
        (self.fields.record_starts[record + 1] - self.fields.record_starts[record]) as usize
    }

    #[inline]
    fn field(&self, record: usize, column: usize) -> &[u8] {
        let at = (self.fields.record_starts[record] as usize + column) * 2;
        let bounds = &self.fields.bounds;
        &self.bytes[bounds[at] as usize..bounds[at + 1] as usize]
    }

    fn record(&self, record: usize) -> impl ExactSizeIterator<Item = &[u8]> + Clone + '_ {
        let first = self.fields.record_starts[record] as usize;
        let end = self.fields.record_starts[record + 1] as usize;
        (first..end).map(move |f| {
            &self.bytes[self.fields.bounds[2 * f] as usize..self.fields.bounds[2 * f + 1] as usize]
        })
    }
}

/// What one call to [`CsvSplitter::split`] produced.
#[derive(Debug)]
pub enum Split {
    /// Records are in the [`FieldBounds`] (possibly none, when only blank lines were passed).
    Records,
    /// A record longer than [`MAX_RECORD_BYTES`]; it was skipped.
    TooLong {
        line: u64,
        bytes: usize,
        text: String,
    },
    /// The input is consumed.
    End,
}

/// A header record.
pub enum Header {
    Fields(Vec<Vec<u8>>),
    /// Nothing but blank lines.
    Empty,
    TooLong {
        bytes: usize,
    },
}

/// Splits CSV text into records: in place where the text is unquoted, through csv_core where it is not.
pub struct CsvSplitter {
    input: Box<dyn Read + Send>,
    buf: Vec<u8>,
    /// First byte not yet split.
    pos: usize,
    filled: usize,
    /// `buf[pos..checked]` ends with a newline and holds no quote.
    checked: usize,
    checked_has_cr: bool,
    eof: bool,
    /// Line of `buf[pos]`: one plus the newlines consumed.
    line: u64,
    /// Input bytes before `buf[0]`.
    consumed_before: u64,
    delimiter: u8,
    quoted: Quoted,
    /// A record past the limit met after other records, returned by the next call.
    pending_too_long: Option<Split>,
}

/// csv_core and its buffers, for text with quotes (or a lone CR, or a line with no end in sight).
struct Quoted {
    /// Whether csv_core splits: until `pos` passes `until` at the end of a record.
    active: bool,
    until: usize,
    /// Boxed: its tables are most of a kilobyte.
    core: Box<csv_core::Reader>,
    /// Unquoted bytes of the records split (the [`FieldBounds`] point into it); its length is capacity.
    unquoted: Vec<u8>,
    /// csv_core's field ends for the record under way.
    ends: Vec<usize>,
}

impl CsvSplitter {
    pub fn new(input: Box<dyn Read + Send>, delimiter: u8) -> Self {
        CsvSplitter {
            input,
            buf: vec![0; READ_BUFFER_BYTES],
            pos: 0,
            filled: 0,
            checked: 0,
            checked_has_cr: false,
            eof: false,
            line: 1,
            consumed_before: 0,
            delimiter,
            quoted: Quoted {
                active: false,
                until: 0,
                core: Box::default(),
                unquoted: Vec::new(),
                ends: Vec::new(),
            },
            pending_too_long: None,
        }
    }

    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }

    /// Input bytes split so far.
    pub fn bytes_read(&self) -> u64 {
        self.consumed_before + self.pos as u64
    }

    /// The records of the last split, seen through the buffer they point into.
    pub fn run<'a>(&'a self, fields: &'a FieldBounds) -> SplitRun<'a> {
        SplitRun {
            bytes: if fields.unquoted {
                &self.quoted.unquoted
            } else {
                &self.buf
            },
            fields,
        }
    }

    /// Reads the first record with full CSV rules (quoted names are common even where data is not).
    pub fn header(&mut self) -> io::Result<Header> {
        let mut fields = FieldBounds::default();
        self.start_quoted(0);
        Ok(match self.split(1, &mut fields)? {
            Split::Records if fields.lines.is_empty() => Header::Empty,
            Split::Records => {
                Header::Fields(self.run(&fields).record(0).map(<[u8]>::to_vec).collect())
            }
            Split::TooLong { bytes, .. } => Header::TooLong { bytes },
            Split::End => Header::Empty,
        })
    }

    /// Splits up to `max` records into `fields` (cleared first).
    pub fn split(&mut self, max: usize, fields: &mut FieldBounds) -> io::Result<Split> {
        fields.clear();
        if let Some(too_long) = self.pending_too_long.take() {
            return Ok(too_long);
        }
        if self.quoted.active {
            return self.split_quoted(max, fields);
        }
        if self.pos >= self.checked {
            match self.check_next_lines()? {
                Lines::Ready => {}
                Lines::End => return Ok(Split::End),
                Lines::Quoted { until } => {
                    self.start_quoted(until);
                    return self.split_quoted(max, fields);
                }
            }
        }
        let stop = if self.checked_has_cr {
            self.split_checked::<true>(max, fields)
        } else {
            self.split_checked::<false>(max, fields)
        };
        Ok(match stop {
            Stop::Full => Split::Records,
            Stop::LoneCr if fields.lines.is_empty() => {
                self.start_quoted(self.checked);
                return self.split_quoted(max, fields);
            }
            // Records before it go first; the next call meets it at the start.
            Stop::LoneCr | Stop::TooLong { .. } if !fields.lines.is_empty() => Split::Records,
            Stop::TooLong { end, next } => {
                let buf = &self.buf;
                let text = record_text(
                    fields
                        .bounds
                        .chunks_exact(2)
                        .map(|b| &buf[b[0] as usize..b[1] as usize]),
                );
                let separators = fields.field_count() - 1;
                let bytes = end - self.pos - separators;
                let line = self.line;
                fields.clear();
                self.pos = next;
                self.line += 1;
                Split::TooLong { line, bytes, text }
            }
            Stop::LoneCr => unreachable!("handled above"),
        })
    }

    /// csv_core splits from `pos` until `pos` passes `until` at the end of a record.
    fn start_quoted(&mut self, until: usize) {
        self.quoted.active = true;
        self.quoted.until = until;
        *self.quoted.core = csv_core::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .build();
        self.checked = self.pos;
    }

    /// Splits up to `max` records with csv_core, copying their unquoted bytes. Lines are counted from the
    /// bytes csv_core consumes; a record's line is that of its first byte after any blank lines.
    fn split_quoted(&mut self, max: usize, fields: &mut FieldBounds) -> io::Result<Split> {
        use csv_core::ReadRecordResult as Read;
        fields.unquoted = true;
        if self.quoted.unquoted.len() > 4 * READ_BUFFER_BYTES {
            // Give back what a long record took (the last call's records are typed by now).
            self.quoted.unquoted = Vec::new();
        }
        // Bytes of the records kept so far, and the record under way (at `used`).
        let mut used = 0;
        let (mut out_len, mut ends_len) = (0, 0);
        let mut record_line = None;
        while fields.lines.len() < max {
            if self.pos == self.filled && !self.eof {
                // csv_core takes empty input for the end of input, so read more first.
                self.refill()?;
                continue;
            }
            let q = &mut self.quoted;
            if q.unquoted.len() < used + out_len + 1024 {
                let grown = (q.unquoted.len() * 2).max(used + out_len + (64 << 10));
                q.unquoted.resize(grown, 0);
            }
            if q.ends.len() < ends_len + 16 {
                q.ends.resize(q.ends.len() * 2 + 16, 0);
            }
            let input = &self.buf[self.pos..self.filled];
            let (result, nin, nout, nend) = q.core.read_record(
                input,
                &mut q.unquoted[used + out_len..],
                &mut q.ends[ends_len..],
            );
            let consumed = &input[..nin];
            if record_line.is_none() {
                let blank = consumed
                    .iter()
                    .take_while(|&&b| b == b'\r' || b == b'\n')
                    .count();
                if blank < nin {
                    let newlines = memchr_iter(b'\n', &consumed[..blank]).count() as u64;
                    record_line = Some(self.line + newlines);
                }
            }
            self.line += memchr_iter(b'\n', consumed).count() as u64;
            self.pos += nin;
            out_len += nout;
            ends_len += nend;
            match result {
                Read::InputEmpty | Read::OutputFull | Read::OutputEndsFull => continue,
                Read::End => {
                    q.active = false;
                    return Ok(if fields.lines.is_empty() {
                        Split::End
                    } else {
                        Split::Records
                    });
                }
                Read::Record => {}
            }
            let line = record_line.take().unwrap_or(self.line);
            let ends = &q.ends[..ends_len];
            if out_len > MAX_RECORD_BYTES {
                let record = &q.unquoted[used..used + out_len];
                let mut start = 0;
                let text = record_text(ends.iter().map(|&end| {
                    let field = &record[start..end];
                    start = end;
                    field
                }));
                let too_long = Split::TooLong {
                    line,
                    bytes: out_len,
                    text,
                };
                if fields.lines.is_empty() {
                    self.end_quoted_if_past();
                    return Ok(too_long);
                }
                self.pending_too_long = Some(too_long);
                break;
            }
            let mut field_start = used;
            for &end in ends {
                fields.bounds.push(field_start as u32);
                fields.bounds.push((used + end) as u32);
                field_start = used + end;
            }
            fields.record_starts.push(fields.field_count() as u32);
            fields.lines.push(line);
            used += out_len;
            (out_len, ends_len) = (0, 0);
            if self.end_quoted_if_past() {
                break;
            }
        }
        Ok(Split::Records)
    }

    /// Back to splitting in place once csv_core's stretch is passed (called between records).
    fn end_quoted_if_past(&mut self) -> bool {
        if self.pos >= self.quoted.until {
            self.quoted.active = false;
        }
        !self.quoted.active
    }

    /// Splits records in `buf[pos..checked]` until `max` are in `fields` or the checked text ends.
    /// `HAS_CR`: the text holds a CR, which must end its line (CRLF) or csv_core takes over.
    fn split_checked<const HAS_CR: bool>(&mut self, max: usize, fields: &mut FieldBounds) -> Stop {
        let text = &self.buf[..self.checked];
        let mut cursor = Cursor {
            record_start: self.pos,
            line: self.line,
        };
        let delimiter = self.delimiter;
        let stop = if HAS_CR {
            let hits = ByteHits::new(&text[self.pos..], [delimiter, b'\n', b'\r']);
            split_hits::<HAS_CR>(text, self.pos, hits, delimiter, max, fields, &mut cursor)
        } else {
            let hits = ByteHits::new(&text[self.pos..], [delimiter, b'\n']);
            split_hits::<HAS_CR>(text, self.pos, hits, delimiter, max, fields, &mut cursor)
        };
        self.pos = cursor.record_start;
        self.line = cursor.line;
        stop
    }

    /// Makes `buf[pos..checked]` the next whole lines, reading more input if needed.
    fn check_next_lines(&mut self) -> io::Result<Lines> {
        loop {
            let text = &self.buf[self.pos..self.filled];
            if let Some(last_newline) = memrchr(b'\n', text) {
                let lines = &text[..=last_newline];
                if let Some(last_quote) = memrchr(b'"', lines) {
                    // csv_core to the end of the last quote's line; the lines after it stay fast.
                    let line_end = last_quote
                        + memchr(b'\n', &lines[last_quote..]).expect("lines end with a newline");
                    return Ok(Lines::Quoted {
                        until: self.pos + line_end + 1,
                    });
                }
                self.checked_has_cr = memchr(b'\r', lines).is_some();
                self.checked = self.pos + last_newline + 1;
                return Ok(Lines::Ready);
            }
            if self.eof {
                // A last line without its newline: csv_core knows how input may end (in a quote, say).
                return Ok(if self.pos < self.filled {
                    Lines::Quoted { until: self.filled }
                } else {
                    Lines::End
                });
            }
            if self.filled - self.pos > MAX_RECORD_BYTES {
                // No end in sight: csv_core reads this record without holding the text twice.
                return Ok(Lines::Quoted { until: self.pos });
            }
            self.refill()?;
        }
    }

    /// Moves the unsplit bytes to the front and reads more after them, growing the buffer only for a
    /// line longer than it.
    fn refill(&mut self) -> io::Result<()> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.filled, 0);
            self.consumed_before += self.pos as u64;
            self.filled -= self.pos;
            self.checked = self.checked.saturating_sub(self.pos);
            self.quoted.until = self.quoted.until.saturating_sub(self.pos);
            self.pos = 0;
        }
        if self.filled == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        } else if self.buf.len() > READ_BUFFER_BYTES && self.filled < READ_BUFFER_BYTES / 2 {
            // Give back what a long line took.
            self.buf.truncate(READ_BUFFER_BYTES);
            self.buf.shrink_to_fit();
        }
        let read = loop {
            match self.input.read(&mut self.buf[self.filled..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        self.filled += read;
        self.eof = read == 0;
        Ok(())
    }
}

enum Lines {
    Ready,
    End,
    /// csv_core splits until `until` is passed.
    Quoted {
        until: usize,
    },
}

enum Stop {
    /// `max` records split, or the checked lines all split.
    Full,
    /// A CR not followed by a newline: a terminator to csv_core, which splits from this record on.
    LoneCr,
    /// The record at the position is longer than the limit: its text ends at `end`, its line at `next`.
    TooLong { end: usize, next: usize },
}

/// Positions of the bytes equal to any of `N` needles, found eight bytes at a time.
///
/// Hand-written: memchr's iterators start a new vector search for every hit, which costs more than the
/// hit itself when fields are a few bytes long, as sensor readings are. Here each word is classified once
/// and its hits are read off a bit mask.
struct ByteHits<'a, const N: usize> {
    text: &'a [u8],
    splats: [u64; N],
    /// Offset of the word after the one `mask` describes.
    next_word: usize,
    /// One high bit per matching byte of the current word.
    mask: u64,
}

const LOW_SEVEN_BITS: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

impl<'a, const N: usize> ByteHits<'a, N> {
    fn new(text: &'a [u8], needles: [u8; N]) -> Self {
        ByteHits {
            text,
            splats: needles.map(|b| u64::from(b) * 0x0101_0101_0101_0101),
            next_word: 0,
            mask: 0,
        }
    }

    /// High bit set in each byte of `word` equal to a needle. Exact: no carry crosses a byte, because
    /// the low seven bits plus 0x7f stay below 0x100.
    #[inline(always)]
    fn matches(&self, word: u64) -> u64 {
        self.splats.iter().fold(0, |mask, &splat| {
            let x = word ^ splat;
            mask | !(((x & LOW_SEVEN_BITS) + LOW_SEVEN_BITS) | x | LOW_SEVEN_BITS)
        })
    }
}

impl<const N: usize> Iterator for ByteHits<'_, N> {
    type Item = usize;

    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            let start = self.next_word;
            if let Some(bytes) = self.text.get(start..start + 8) {
                let word = u64::from_le_bytes(bytes.try_into().expect("eight bytes"));
                self.mask = self.matches(word);
            } else if start < self.text.len() {
                // The last bytes, padded with a byte that is no needle (needles are never NUL).
                let mut padded = [0u8; 8];
                padded[..self.text.len() - start].copy_from_slice(&self.text[start..]);
                let valid = HIGH_BITS >> (8 * (8 - (self.text.len() - start)));
                self.mask = self.matches(u64::from_le_bytes(padded)) & valid;
            } else {
                return None;
            }
            self.next_word = start + 8;
        }
        let byte = self.mask.trailing_zeros() as usize / 8;
        self.mask &= self.mask - 1;
        Some(self.next_word - 8 + byte)
    }
}

/// Where splitting stands: the start of the next record and its line.
struct Cursor {
    record_start: usize,
    line: u64,
}

/// The splitting loop over the delimiter, newline (and CR) positions `hits`, offset by `start` in `text`.
/// Generic over the hit iterator so the loop compiles to straight code for each.
fn split_hits<const HAS_CR: bool>(
    text: &[u8],
    start: usize,
    hits: impl Iterator<Item = usize>,
    delimiter: u8,
    max: usize,
    fields: &mut FieldBounds,
    cursor: &mut Cursor,
) -> Stop {
    let mut field_start = cursor.record_start;
    let mut records = 0;
    for hit in hits {
        let at = start + hit;
        let byte = text[at];
        if byte == delimiter {
            fields.bounds.push(field_start as u32);
            fields.bounds.push(at as u32);
            field_start = at + 1;
            continue;
        }
        if HAS_CR && byte == b'\r' {
            if text[at + 1] == b'\n' {
                continue;
            }
            fields.drop_partial_record();
            return Stop::LoneCr;
        }
        // A newline: the record ends, without the CR of a CRLF.
        let end = if HAS_CR && at > field_start && text[at - 1] == b'\r' {
            at - 1
        } else {
            at
        };
        let first = *fields.record_starts.last().expect("starts at 0") as usize;
        if end == cursor.record_start && fields.field_count() == first {
            // A blank line: csv_core skips it too.
            cursor.line += 1;
            cursor.record_start = at + 1;
            field_start = at + 1;
            continue;
        }
        fields.bounds.push(field_start as u32);
        fields.bounds.push(end as u32);
        if end - cursor.record_start > MAX_RECORD_BYTES {
            if records > 0 {
                fields.drop_partial_record();
            }
            return Stop::TooLong { end, next: at + 1 };
        }
        fields.record_starts.push(fields.field_count() as u32);
        fields.lines.push(cursor.line);
        cursor.line += 1;
        records += 1;
        cursor.record_start = at + 1;
        field_start = at + 1;
        if records == max {
            break;
        }
    }
    Stop::Full
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything the splitter yields: records as strings with their lines, and the lines of records
    /// past the limit. Checks that unquoted text comes back to splitting in place.
    fn split_all(text: &[u8], max: usize) -> (Vec<(u64, Vec<String>)>, Vec<u64>) {
        let mut splitter = CsvSplitter::new(Box::new(io::Cursor::new(text.to_vec())), b',');
        let mut fields = FieldBounds::default();
        let mut records = Vec::new();
        let mut too_long = Vec::new();
        loop {
            match splitter.split(max, &mut fields).unwrap() {
                Split::Records => {
                    let run = splitter.run(&fields);
                    for r in 0..run.len() {
                        records.push((fields.lines[r], texts(run.record(r))));
                    }
                }
                Split::TooLong { line, .. } => too_long.push(line),
                Split::End => return (records, too_long),
            }
        }
    }

    fn texts<'a>(fields: impl Iterator<Item = &'a [u8]>) -> Vec<String> {
        fields
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect()
    }

    /// xorshift64: a fixed stream of pseudo-random numbers for generated test inputs.
    fn next_random(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    fn row(line: u64, cells: &[&str]) -> (u64, Vec<String>) {
        (line, cells.iter().map(|c| c.to_string()).collect())
    }

    #[test]
    fn byte_hits_finds_every_needle_and_nothing_else() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for len in 0..80 {
            let text: Vec<u8> = (0..len)
                .map(|_| {
                    [b',', b'\n', b'a', 0x80, 0xac, b'\r', 0, b'0']
                        [(next_random(&mut state) % 8) as usize]
                })
                .collect();
            let expected: Vec<usize> = (0..len)
                .filter(|&i| text[i] == b',' || text[i] == b'\n')
                .collect();
            assert_eq!(
                ByteHits::new(&text, [b',', b'\n']).collect::<Vec<_>>(),
                expected
            );
        }
    }

    #[test]
    fn splits_lines_and_fields() {
        let text = b"a,b\n\n1,2\r\n\r\n,\n3,4,5\nlast,x";
        for max in [1, 2, 100] {
            let (records, too_long) = split_all(text, max);
            assert_eq!(
                records,
                vec![
                    row(1, &["a", "b"]),
                    row(3, &["1", "2"]),
                    row(5, &["", ""]),
                    row(6, &["3", "4", "5"]),
                    row(7, &["last", "x"]),
                ],
                "max {max}"
            );
            assert!(too_long.is_empty());
        }
    }

    /// Random texts (quotes, CRLF and LF, lone CRs, blank lines, empty and ragged fields, a last line
    /// without its newline) split into the records the csv crate reads.
    #[test]
    fn agrees_with_the_csv_crate_on_random_text() {
        let pieces: [&[u8]; 12] = [
            b"a",
            b"17",
            b",",
            b",",
            b"\n",
            b"\r\n",
            b" ",
            "é".as_bytes(),
            b"\xff",
            b"\"",
            b"\"\"",
            b"\r",
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for case in 0..3000 {
            let mut text = Vec::new();
            for _ in 0..(case % 40) {
                let piece = next_random(&mut state) % pieces.len() as u64;
                text.extend_from_slice(pieces[piece as usize]);
            }
            let mut expected = Vec::new();
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(&text[..]);
            for record in reader.byte_records() {
                let record = record.unwrap();
                expected.push((record.position().unwrap().line(), texts(record.iter())));
            }
            let shown = String::from_utf8_lossy(&text);
            for max in [1, 3, 1000] {
                let (records, too_long) = split_all(&text, max);
                assert!(too_long.is_empty());
                let cells =
                    |r: &[(u64, Vec<String>)]| r.iter().map(|(_, c)| c.clone()).collect::<Vec<_>>();
                assert_eq!(cells(&records), cells(&expected), "{shown:?}");
                // The csv crate numbers a record by where the previous one stopped: after blank lines, the
                // first of them, and after a CR, the line before. They agree on LF text without those.
                let blank_lines = text.starts_with(b"\n") || text.windows(2).any(|w| w == b"\n\n");
                if !blank_lines && !text.contains(&b'\r') {
                    assert_eq!(records, expected, "{shown:?}");
                }
            }
        }
    }

    #[test]
    fn quoted_fields_get_the_line_they_start_on_and_clean_text_is_split_in_place_again() {
        let mut text =
            b"id,note\r\n\r\n1,\"two\r\nlines\"\r\n2,\"a \"\"q\"\"\"\r\n3,x\ry\r\n".to_vec();
        let quoted_part = text.len();
        for i in 0..300_000 {
            text.extend_from_slice(format!("{i},v\r\n").as_bytes());
        }
        let mut splitter = CsvSplitter::new(Box::new(io::Cursor::new(text.clone())), b',');
        let mut fields = FieldBounds::default();
        let mut records = Vec::new();
        let mut in_place = 0;
        while let Split::Records = splitter.split(1000, &mut fields).unwrap() {
            in_place += (!fields.unquoted) as usize * fields.lines.len();
            let run = splitter.run(&fields);
            for r in 0..run.len().min(7usize.saturating_sub(records.len())) {
                records.push((fields.lines[r], texts(run.record(r))));
            }
        }
        assert_eq!(
            records,
            vec![
                row(1, &["id", "note"]),
                row(3, &["1", "two\r\nlines"]),
                row(5, &["2", "a \"q\""]),
                row(6, &["3", "x"]),
                row(6, &["y"]),
                row(7, &["0", "v"]),
                row(8, &["1", "v"]),
            ]
        );
        assert!(quoted_part < READ_BUFFER_BYTES);
        // Only the lines up to the last quote go through csv_core.
        assert!(in_place > 299_000, "{in_place} records split in place");
        assert_eq!(splitter.bytes_read(), text.len() as u64);
    }

    #[test]
    fn header_follows_csv_rules_and_data_is_split_in_place() {
        let text = b"\"a,1\",\"b\"\"q\"\r\n1,2\r\n";
        let mut splitter = CsvSplitter::new(Box::new(io::Cursor::new(text.to_vec())), b',');
        let Header::Fields(names) = splitter.header().unwrap() else {
            panic!("no header")
        };
        assert_eq!(names, vec![b"a,1".to_vec(), b"b\"q".to_vec()]);
        let mut fields = FieldBounds::default();
        assert!(matches!(
            splitter.split(10, &mut fields).unwrap(),
            Split::Records
        ));
        assert_eq!(fields.lines, vec![2]);
        assert!(!fields.unquoted);
        assert_eq!(splitter.run(&fields).field(0, 1), b"2");
        assert_eq!(splitter.bytes_read(), text.len() as u64);
    }

    #[test]
    fn skips_records_past_the_limit_and_reads_on() {
        let long = |quoted: bool| {
            let mut text = b"1,2\n3,".to_vec();
            text.extend_from_slice(if quoted { b"\"" } else { b"" });
            text.extend(std::iter::repeat_n(b'x', MAX_RECORD_BYTES + 10));
            text.extend_from_slice(if quoted { b"\"" } else { b"" });
            text.extend_from_slice(b"\n5,6\n");
            text
        };
        // Unquoted, the buffer grows to hold the line; quoted, csv_core reads it. Both skip it whole.
        for quoted in [false, true] {
            let (records, too_long) = split_all(&long(quoted), 10);
            assert_eq!(records, vec![row(1, &["1", "2"]), row(3, &["5", "6"])]);
            assert_eq!(too_long, vec![2]);
        }
    }
}
