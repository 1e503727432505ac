//! Holds the batches between the passes of an ingest: in memory up to a budget, then in an Arrow IPC file
//! in a scratch folder, so a file larger than memory ingests in bounded memory.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

use deltalake::arrow::datatypes::SchemaRef;
use deltalake::arrow::ipc::reader::FileReader;
use deltalake::arrow::ipc::writer::FileWriter;
use deltalake::arrow::record_batch::RecordBatch;

use crate::error::{DataError, Result};

/// Bytes of batches kept in memory before spilling to disk.
pub const DEFAULT_MEMORY_BUDGET: usize = 512 << 20;

pub struct Spool {
    schema: SchemaRef,
    memory: Vec<RecordBatch>,
    memory_bytes: usize,
    budget: usize,
    path: PathBuf,
    writer: Option<FileWriter<BufWriter<File>>>,
    rows: u64,
}

impl Spool {
    /// `path` is where the spill file goes if the budget is exceeded (in a scratch folder the caller removes).
    pub fn new(schema: SchemaRef, budget: usize, path: PathBuf) -> Self {
        Spool {
            schema,
            memory: Vec::new(),
            memory_bytes: 0,
            budget,
            path,
            writer: None,
            rows: 0,
        }
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    pub fn push(&mut self, batch: RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.rows += batch.num_rows() as u64;
        if let Some(writer) = &mut self.writer {
            return writer.write(&batch).map_err(DataError::from);
        }
        self.memory_bytes += batch.get_array_memory_size();
        self.memory.push(batch);
        if self.memory_bytes > self.budget {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> Result<()> {
        let file = File::create(&self.path).map_err(|e| DataError::io(&self.path, e))?;
        let mut writer =
            FileWriter::try_new(BufWriter::with_capacity(1 << 20, file), &self.schema)?;
        for batch in self.memory.drain(..) {
            writer.write(&batch)?;
        }
        self.memory_bytes = 0;
        self.writer = Some(writer);
        Ok(())
    }

    /// Ends writing; the result can be read any number of times.
    pub fn finish(self) -> Result<SpoolData> {
        match self.writer {
            None => Ok(SpoolData::Memory(self.memory)),
            Some(mut writer) => {
                writer.finish()?;
                Ok(SpoolData::File(self.path))
            }
        }
    }
}

pub enum SpoolData {
    Memory(Vec<RecordBatch>),
    File(PathBuf),
}

impl SpoolData {
    pub fn spilled_to(&self) -> Option<&Path> {
        match self {
            SpoolData::Memory(_) => None,
            SpoolData::File(path) => Some(path),
        }
    }

    /// The batches in the order they were pushed.
    pub fn batches(&self) -> Result<SpoolBatches> {
        match self {
            SpoolData::Memory(batches) => Ok(SpoolBatches::Memory(batches.clone().into_iter())),
            SpoolData::File(path) => {
                let reader = open_ipc(path)?;
                let count = reader.num_batches();
                Ok(SpoolBatches::File(Box::new(reader.take(count))))
            }
        }
    }

    /// The batches in the order they were pushed; held batches are freed as they are yielded.
    pub fn into_batches(self) -> Result<SpoolBatches> {
        match self {
            SpoolData::Memory(batches) => Ok(SpoolBatches::Memory(batches.into_iter())),
            file => file.batches(),
        }
    }

    pub fn batch_count(&self) -> Result<usize> {
        match self {
            SpoolData::Memory(batches) => Ok(batches.len()),
            SpoolData::File(path) => Ok(open_ipc(path)?.num_batches()),
        }
    }

    /// Consecutive runs of the batches: part `k` starts at batch `starts[k]` and ends where the next begins.
    /// `starts` must begin with 0 and increase.
    pub fn into_parts(self, starts: &[usize]) -> Result<Vec<SpoolBatches>> {
        match self {
            SpoolData::Memory(mut batches) => {
                let mut parts: Vec<SpoolBatches> = starts
                    .iter()
                    .rev()
                    .map(|&start| SpoolBatches::Memory(batches.split_off(start).into_iter()))
                    .collect();
                parts.reverse();
                Ok(parts)
            }
            SpoolData::File(path) => {
                let mut ends = starts[1..].to_vec();
                ends.push(open_ipc(&path)?.num_batches());
                starts
                    .iter()
                    .zip(ends)
                    .map(|(&start, end)| {
                        let mut reader = open_ipc(&path)?;
                        reader.set_index(start)?;
                        Ok(SpoolBatches::File(Box::new(reader.take(end - start))))
                    })
                    .collect()
            }
        }
    }
}

fn open_ipc(path: &Path) -> Result<FileReader<BufReader<File>>> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    Ok(FileReader::try_new(
        BufReader::with_capacity(1 << 20, file),
        None,
    )?)
}

pub enum SpoolBatches {
    Memory(std::vec::IntoIter<RecordBatch>),
    File(Box<std::iter::Take<FileReader<BufReader<File>>>>),
}

impl Iterator for SpoolBatches {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            SpoolBatches::Memory(batches) => batches.next().map(Ok),
            SpoolBatches::File(reader) => reader.next().map(|r| r.map_err(DataError::from)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use deltalake::arrow::array::Int64Array;
    use deltalake::arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    #[test]
    fn spills_past_the_budget_and_replays_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
        let mut spool = Spool::new(schema.clone(), 1024, dir.path().join("spill.arrow"));
        for i in 0..10i64 {
            let batch = RecordBatch::try_new(
                schema.clone(),
                vec![Arc::new(Int64Array::from(vec![i; 100]))],
            )
            .unwrap();
            spool.push(batch).unwrap();
        }
        assert_eq!(spool.rows(), 1000);
        let data = spool.finish().unwrap();
        assert!(data.spilled_to().is_some());
        let firsts: Vec<i64> = data
            .batches()
            .unwrap()
            .map(|b| {
                b.unwrap()
                    .column(0)
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .unwrap()
                    .value(0)
            })
            .collect();
        assert_eq!(firsts, (0..10).collect::<Vec<_>>());
    }
}
