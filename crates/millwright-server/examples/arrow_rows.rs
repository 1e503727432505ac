//! Writes the first N rows of a numeric CSV (a header, then numbers) as an Arrow IPC stream, the body a
//! client posts to `/api/v1/models/{spec}/predict` as `application/vnd.apache.arrow.stream`. Used by
//! benches/serve/run.sh.
//!
//!   cargo run --release -p millwright-server --example arrow_rows -- IN.csv N OUT.arrows

use std::sync::Arc;

use millwright_data::arrow::array::{ArrayRef, Float64Array, RecordBatch};
use millwright_data::arrow::ipc::writer::StreamWriter;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, rows, output] = args.as_slice() else {
        return Err("usage: arrow_rows IN.csv N OUT.arrows".into());
    };
    let rows: usize = rows.parse()?;
    let text = std::fs::read_to_string(input)?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().ok_or("empty CSV")?.split(',').collect();
    let mut columns = vec![Vec::with_capacity(rows); header.len()];
    for line in lines.take(rows) {
        for (column, cell) in columns.iter_mut().zip(line.split(',')) {
            column.push(cell.trim().parse::<f64>()?);
        }
    }
    let arrays = header.iter().zip(columns).map(|(name, values)| {
        let array: ArrayRef = Arc::new(Float64Array::from(values));
        (*name, array)
    });
    let batch = RecordBatch::try_from_iter(arrays)?;
    let mut writer = StreamWriter::try_new(std::fs::File::create(output)?, &batch.schema())?;
    writer.write(&batch)?;
    writer.finish()?;
    Ok(())
}
