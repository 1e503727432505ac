//! TensorBoard event files: scalar summaries in TFRecord framing, readable by `tensorboard --logdir`.
//!
//! Written here rather than with a crate: `tensorboard-rs` (last release 2022) is marked "not active" by its
//! author, pulls `protobuf` 2 and `image` 0.23, and panics on I/O errors instead of returning them. The format
//! needs three protobuf messages (declared with `prost`) and the record framing below (CRCs from `crc32c`).

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use prost::Message;

/// `tensorflow.Event`, reduced to the fields a scalar log needs.
#[derive(Clone, PartialEq, prost::Message)]
struct Event {
    #[prost(double, tag = "1")]
    wall_time: f64,
    #[prost(int64, tag = "2")]
    step: i64,
    #[prost(oneof = "EventPayload", tags = "3, 5")]
    payload: Option<EventPayload>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum EventPayload {
    /// Always the first record of a file: tells readers which event format follows.
    #[prost(string, tag = "3")]
    FileVersion(String),
    #[prost(message, tag = "5")]
    Summary(Summary),
}

/// `tensorflow.Summary`.
#[derive(Clone, PartialEq, prost::Message)]
struct Summary {
    #[prost(message, repeated, tag = "1")]
    value: Vec<SummaryValue>,
}

/// `tensorflow.Summary.Value` with only the `simple_value` member of its `value` oneof: a oneof with one
/// member encodes exactly like an optional field, and `optional` keeps a value of 0.0 on the wire.
#[derive(Clone, PartialEq, prost::Message)]
struct SummaryValue {
    #[prost(string, tag = "1")]
    tag: String,
    #[prost(float, optional, tag = "2")]
    simple_value: Option<f32>,
}

/// The version string TensorBoard expects in the first record.
const FILE_VERSION: &str = "brain.Event:2";

/// CRC32-C masked as TFRecord requires (so that a CRC of data containing CRCs stays well distributed).
fn masked_crc32c(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// Appends one TFRecord: length (u64 LE), masked CRC of the length, data, masked CRC of the data.
fn write_record(out: &mut impl Write, data: &[u8]) -> std::io::Result<()> {
    let len = (data.len() as u64).to_le_bytes();
    out.write_all(&len)?;
    out.write_all(&masked_crc32c(&len).to_le_bytes())?;
    out.write_all(data)?;
    out.write_all(&masked_crc32c(data).to_le_bytes())
}

/// An open TensorBoard event file receiving scalar summaries.
#[derive(Debug)]
pub(crate) struct EventFileWriter {
    path: PathBuf,
    out: BufWriter<File>,
}

impl EventFileWriter {
    /// Creates `<dir>/events.out.tfevents.<unix seconds>.<host>` (the name TensorBoard scans for) and writes
    /// the file-version record.
    pub(crate) fn create(dir: &Path, wall_time: f64) -> std::io::Result<Self> {
        let host = gethostname::gethostname().to_string_lossy().into_owned();
        // A host name with a path separator would escape the run folder.
        let host: String = host
            .chars()
            .map(|c| if c == '/' || c == '\\' { '_' } else { c })
            .collect();
        let path = dir.join(format!("events.out.tfevents.{}.{host}", wall_time as u64));
        let file = OpenOptions::new()
            .create_new(true)
            .write(true)
            .open(&path)?;
        let mut writer = EventFileWriter {
            path,
            out: BufWriter::new(file),
        };
        let first = Event {
            wall_time,
            step: 0,
            payload: Some(EventPayload::FileVersion(FILE_VERSION.to_string())),
        };
        write_record(&mut writer.out, &first.encode_to_vec())?;
        writer.out.flush()?;
        Ok(writer)
    }

    /// Where the events go.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes one event holding all `scalars` at `step` and flushes, so a live TensorBoard and a crash both
    /// see every completed epoch. TensorBoard scalars are 32-bit floats.
    pub(crate) fn write_scalars(
        &mut self,
        wall_time: f64,
        step: u64,
        scalars: &[(&str, f64)],
    ) -> std::io::Result<()> {
        let summary = Summary {
            value: scalars
                .iter()
                .map(|(tag, value)| SummaryValue {
                    tag: (*tag).to_string(),
                    simple_value: Some(*value as f32),
                })
                .collect(),
        };
        let event = Event {
            wall_time,
            // Steps beyond i64::MAX are not meaningful epochs; saturate rather than wrap negative.
            step: i64::try_from(step).unwrap_or(i64::MAX),
            payload: Some(EventPayload::Summary(summary)),
        };
        write_record(&mut self.out, &event.encode_to_vec())?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_is_castagnoli() {
        // The standard CRC-32C check value; a plain CRC-32 would give 0xcbf43926.
        assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
    }

    #[test]
    fn record_framing_has_length_crcs_and_payload() {
        let mut buf = Vec::new();
        write_record(&mut buf, b"abc").unwrap();
        assert_eq!(buf.len(), 8 + 4 + 3 + 4);
        assert_eq!(u64::from_le_bytes(buf[0..8].try_into().unwrap()), 3);
        assert_eq!(
            u32::from_le_bytes(buf[8..12].try_into().unwrap()),
            masked_crc32c(&3u64.to_le_bytes())
        );
        assert_eq!(&buf[12..15], b"abc");
        assert_eq!(
            u32::from_le_bytes(buf[15..19].try_into().unwrap()),
            masked_crc32c(b"abc")
        );
    }

    #[test]
    fn zero_scalar_is_kept_on_the_wire() {
        let value = SummaryValue {
            tag: "loss".into(),
            simple_value: Some(0.0),
        };
        let decoded = SummaryValue::decode(value.encode_to_vec().as_slice()).unwrap();
        assert_eq!(decoded.simple_value, Some(0.0));
    }
}
