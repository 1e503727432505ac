//! `ingest`, `datasets`, `schema`, `quality`, `history`, `sql`: the data layer's commands.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use millwright_data::arrow::record_batch::RecordBatch;
use millwright_data::arrow::util::pretty::pretty_format_batches;
use millwright_data::clean::CleanConfig;
use millwright_data::ingest::{ingest as run_ingest, IngestOptions};
use millwright_data::lake::{Lake, WriteMode};
use millwright_data::parquet::arrow::ArrowWriter;

use crate::output::print_json;
use crate::Global;

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// The file to read: .csv/.tsv/.txt, .parquet, or .jsonl/.ndjson (one JSON object per line).
    pub file: PathBuf,
    /// Dataset to write (letters, digits, `_`, `-`).
    #[arg(long)]
    pub dataset: String,
    /// `create` a new dataset, `append` a version to it, or `overwrite` it (the old versions stay readable).
    #[arg(long, default_value = "create")]
    pub mode: WriteMode,
    /// Cleaning rules (TOML); see docs/cleaning.md. Without it the defaults apply.
    #[arg(long)]
    pub clean: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    pub dataset: String,
    /// A past version (default: the latest).
    #[arg(long)]
    pub version: Option<i64>,
}

#[derive(Debug, Args)]
pub struct QualityArgs {
    pub dataset: String,
    /// The version whose ingest report to show (default: the latest).
    #[arg(long)]
    pub version: Option<i64>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    pub dataset: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SqlFormat {
    Table,
    Csv,
    Json,
    Parquet,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// One SELECT query. Tables are dataset names; `FROM name VERSION AS OF 3` reads a past version.
    /// Quote column names with spaces or brackets: "Torque [Nm]".
    pub query: String,
    #[arg(long, value_enum, default_value = "table")]
    pub format: SqlFormat,
    /// Write the result to this file instead of stdout (required for parquet).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Rows printed in table format (0 = all). Files and other formats get every row.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
}

fn progress_bar(global: &Global) -> ProgressBar {
    if global.json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>14} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar
}

pub async fn ingest(global: &Global, args: IngestArgs) -> Result<()> {
    crate::allocator::keep_freed_memory_for_batch_work();
    let clean = match &args.clean {
        Some(path) => CleanConfig::load(path)?,
        None => CleanConfig::default(),
    };
    let mut options = IngestOptions::new(&args.dataset, args.mode);
    options.clean = clean;
    options.progress = Some(progress_bar(global));
    let outcome = run_ingest(&global.home, &args.file, &options)
        .await
        .with_context(|| {
            format!(
                "ingest of {} into dataset {:?} failed; the lake is unchanged",
                args.file.display(),
                args.dataset
            )
        })?;
    if global.json {
        return print_json(&outcome);
    }
    print!("{}", outcome.report.render());
    println!(
        "\ncommitted {} rows to {} version {}{}",
        outcome.rows_written,
        outcome.dataset,
        outcome.version,
        match outcome.quarantine_version {
            Some(v) => format!(
                "; {} rows quarantined in {}__quarantine version {v}",
                outcome.rows_quarantined, outcome.dataset
            ),
            None => String::new(),
        }
    );
    Ok(())
}

pub async fn datasets(global: &Global) -> Result<()> {
    let lake = Lake::open(&global.home)?;
    let list = lake.list().await?;
    if global.json {
        return print_json(&list);
    }
    if list.is_empty() {
        println!(
            "no datasets in {} (add one with `millwright ingest FILE --dataset NAME`)",
            lake.root().display()
        );
        return Ok(());
    }
    println!(
        "{:<32} {:>12} {:>8} {:>8} {:>12}",
        "dataset", "rows", "columns", "version", "size"
    );
    for d in list {
        println!(
            "{:<32} {:>12} {:>8} {:>8} {:>12}",
            d.name,
            d.rows.map_or("-".to_string(), |r| r.to_string()),
            d.columns,
            d.latest_version,
            indicatif::HumanBytes(d.size_bytes).to_string()
        );
    }
    Ok(())
}

pub async fn schema(global: &Global, args: SchemaArgs) -> Result<()> {
    let lake = Lake::open(&global.home)?;
    let table = lake.open_table(&args.dataset, args.version).await?;
    let version = table.version().unwrap_or(0) as i64;
    let record = lake
        .last_record(&args.dataset, Some(version))?
        .map(|(_, r)| r);
    let snapshot = table
        .snapshot()
        .with_context(|| format!("reading dataset {:?}", args.dataset))?;
    let fields: Vec<serde_json::Value> = snapshot
        .schema()
        .fields()
        .enumerate()
        .map(|(i, f)| {
            let spec = record
                .as_ref()
                .and_then(|r| r.columns.iter().find(|c| &c.name == f.name()));
            serde_json::json!({
                "name": f.name(),
                "type": f.data_type().to_string(),
                "kind": spec.map(|s| s.kind.name()),
                "nullable": f.is_nullable(),
                "source_position": spec.map(|s| s.source_position).unwrap_or(i),
            })
        })
        .collect();
    if global.json {
        return print_json(
            &serde_json::json!({ "dataset": args.dataset, "version": version, "columns": fields }),
        );
    }
    println!("{} version {version}", args.dataset);
    println!(
        "{:<4} {:<36} {:<12} {:<24} {:<8}",
        "pos", "column", "kind", "type", "nullable"
    );
    for f in fields {
        println!(
            "{:<4} {:<36} {:<12} {:<24} {:<8}",
            f["source_position"],
            f["name"].as_str().unwrap_or_default(),
            f["kind"].as_str().unwrap_or("-"),
            f["type"].as_str().unwrap_or_default(),
            f["nullable"]
        );
    }
    Ok(())
}

pub async fn quality(global: &Global, args: QualityArgs) -> Result<()> {
    let lake = Lake::open(&global.home)?;
    let Some((version, record)) = lake.commit_record(&args.dataset, args.version)? else {
        bail!("dataset {:?} version {} was not written by `millwright ingest`; it has no quality report", args.dataset, args.version.map_or("latest".into(), |v| v.to_string()));
    };
    let Some(report) = record.report else {
        bail!(
            "dataset {:?} version {version} has no quality report (it is a {} commit)",
            args.dataset,
            record.kind
        );
    };
    if global.json {
        return print_json(
            &serde_json::json!({ "dataset": args.dataset, "version": version, "report": report }),
        );
    }
    println!("quality report of {} version {version}\n", args.dataset);
    print!("{}", report.render());
    Ok(())
}

pub async fn history(global: &Global, args: HistoryArgs) -> Result<()> {
    let lake = Lake::open(&global.home)?;
    let versions = lake.history(&args.dataset)?;
    if global.json {
        return print_json(&versions);
    }
    println!(
        "{:>7}  {:<26} {:<10} {:<10} {:>10} {:>10} {:>11}  source",
        "version", "time", "operation", "mode", "written", "rows", "quarantined"
    );
    for v in versions {
        let opt = |x: Option<u64>| x.map_or("-".to_string(), |n| n.to_string());
        println!(
            "{:>7}  {:<26} {:<10} {:<10} {:>10} {:>10} {:>11}  {}",
            v.version,
            v.timestamp.unwrap_or_default(),
            v.operation.unwrap_or_default(),
            v.mode.unwrap_or_default(),
            opt(v.rows_written),
            opt(v.table_rows),
            opt(v.rows_quarantined),
            v.source.unwrap_or_default()
        );
    }
    Ok(())
}

pub async fn sql(global: &Global, args: SqlArgs) -> Result<()> {
    let lake = Lake::open(&global.home)?;
    let frame = millwright_data::sql::query(&lake, &args.query).await?;
    let format = if global.json && matches!(args.format, SqlFormat::Table) {
        SqlFormat::Json
    } else {
        args.format
    };
    let schema = std::sync::Arc::new(frame.schema().as_arrow().clone());
    let mut stream = frame.execute_stream().await?;
    let mut sink: Box<dyn Write + Send> = match &args.out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => {
            if matches!(format, SqlFormat::Parquet) {
                bail!("--format parquet needs --out FILE");
            }
            Box::new(std::io::BufWriter::new(std::io::stdout()))
        }
    };
    match format {
        SqlFormat::Table => {
            let limit = if args.limit == 0 || args.out.is_some() {
                usize::MAX
            } else {
                args.limit
            };
            let mut shown: Vec<RecordBatch> = Vec::new();
            let (mut rows_shown, mut total) = (0usize, 0usize);
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                total += batch.num_rows();
                if rows_shown < limit {
                    let take = (limit - rows_shown).min(batch.num_rows());
                    shown.push(batch.slice(0, take));
                    rows_shown += take;
                }
            }
            if shown.is_empty() {
                shown.push(RecordBatch::new_empty(schema.clone()));
            }
            writeln!(sink, "{}", pretty_format_batches(&shown)?)?;
            if total > rows_shown {
                writeln!(sink, "({total} rows, first {rows_shown} shown; --limit 0 shows all, --format csv --out F writes all)")?;
            } else {
                writeln!(sink, "({total} rows)")?;
            }
        }
        SqlFormat::Csv => {
            let mut writer = millwright_data::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(sink);
            while let Some(batch) = stream.next().await {
                writer.write(&batch?)?;
            }
        }
        SqlFormat::Json => {
            let mut writer = millwright_data::arrow::json::ArrayWriter::new(sink);
            while let Some(batch) = stream.next().await {
                writer.write(&batch?)?;
            }
            writer.finish()?;
            let mut sink = writer.into_inner();
            writeln!(sink)?;
        }
        SqlFormat::Parquet => {
            let mut writer = ArrowWriter::try_new(sink, schema, None)?;
            while let Some(batch) = stream.next().await {
                writer.write(&batch?)?;
            }
            writer.close()?;
        }
    }
    Ok(())
}
