//! `ingest`, `datasets`, `schema`, `quality`, `history`, `sql`: the data commands.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use millwright_app::data::{self, IngestRequest};
use millwright_app::sql::{self, ExportFormat};
use millwright_app::text;
use millwright_data::arrow::record_batch::RecordBatch;
use millwright_data::arrow::util::pretty::pretty_format_batches;
use millwright_data::clean::CleanConfig;
use millwright_data::lake::WriteMode;

use crate::output::{observer, print_json};
use crate::Global;

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// The file to read: .csv/.tsv/.txt, .parquet, or .jsonl/.ndjson (one JSON object per line). Several
    /// files, a folder or a quoted pattern ('exports/2026-*.csv') are read as one commit, sorted by name.
    #[arg(required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// Dataset to write (letters, digits, `_`, `-`).
    #[arg(long)]
    pub dataset: String,
    /// `create` a new dataset, `append` a version to it, or `overwrite` it (the old versions stay readable).
    #[arg(long, default_value = "create")]
    pub mode: WriteMode,
    /// Cleaning rules (TOML); see docs/cleaning.md. Without it the defaults apply.
    #[arg(long)]
    pub clean: Option<PathBuf>,
    /// On append, skip rows whose values in these columns are already stored (comma-separated). Without
    /// it, rows that repeat a stored row whole are counted and shown, and stored.
    #[arg(long, value_delimiter = ',')]
    pub key: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DatasetArgs {
    pub dataset: String,
    /// A past version (default: the latest).
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
    /// An Arrow IPC stream, the batch body `/api/v1/models/{spec}/predict` reads.
    Arrow,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// One SELECT query. Tables are dataset names; `FROM name VERSION AS OF 3` reads a past version.
    /// Quote column names with spaces or brackets: "Torque [Nm]".
    pub query: String,
    #[arg(long, value_enum, default_value = "table")]
    pub format: SqlFormat,
    /// Write the result to this file instead of stdout (required for parquet and arrow).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Rows printed in table format (0 = all). Files and other formats get every row.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
}

pub async fn ingest(global: &Global, args: IngestArgs) -> Result<()> {
    crate::allocator::keep_freed_memory_for_batch_work();
    let request = IngestRequest {
        clean: args.clean.as_deref().map(CleanConfig::load).transpose()?,
        file: args.files[0].clone(),
        more: args.files[1..].to_vec(),
        dataset: args.dataset,
        mode: args.mode,
        key: args.key,
    };
    let outcome = data::ingest(&global.home(), &request, &observer(global)).await?;
    if global.json {
        return print_json(&outcome);
    }
    print!("{}", outcome.report.render());
    let quarantined = match outcome.quarantine_version {
        Some(v) => format!(
            "; {} rows quarantined in {}__quarantine version {v}",
            outcome.rows_quarantined, outcome.dataset
        ),
        None => String::new(),
    };
    println!(
        "\ncommitted {} rows to {} version {}{quarantined}",
        outcome.rows_written, outcome.dataset, outcome.version
    );
    if let Some(line) = text::stored_duplicates(&outcome) {
        println!("{line}");
    }
    Ok(())
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DatasetsArgs {
    #[command(subcommand)]
    pub command: Option<DatasetsCommand>,
}

/// Deleting and bringing back datasets. A delete moves every version (and the quarantine table) to the
/// trash under `<home>/lake/.trash`; `restore` brings it back whole until `vacuum` removes it for good.
#[derive(Debug, clap::Subcommand)]
pub enum DatasetsCommand {
    /// Move a dataset with every version to the trash (refused while an ingest writes it).
    Delete { dataset: String },
    /// The deleted datasets waiting in the trash: id, name, latest version, size, who, when.
    Trash,
    /// Bring a deleted dataset back with every version: a trash id, or a name (its latest deleted copy).
    Restore { id: String },
    /// Remove trash entries for good: one (a trash id, or every entry of a name), or all of them.
    Vacuum {
        /// A trash id or a dataset name; without it, every entry.
        id: Option<String>,
        /// Only entries deleted longer ago than this: 30d, 12h, 90min, 45s.
        #[arg(long)]
        older_than: Option<String>,
    },
}

pub async fn datasets(global: &Global, args: DatasetsArgs) -> Result<()> {
    let home = global.home();
    let entry = match args.command {
        None => return list_datasets(global).await,
        Some(DatasetsCommand::Delete { dataset }) => {
            let entry = crate::cmd::serve::audited(
                global,
                "datasets delete",
                &dataset,
                data::delete_dataset(&home, &dataset, &crate::cmd::learn::actor()),
            )?;
            if !global.json {
                println!(
                    "moved {} (versions 0-{}) to the trash as {}; `millwright datasets restore {}` brings it back",
                    entry.name, entry.latest_version, entry.id, entry.id
                );
            }
            entry
        }
        Some(DatasetsCommand::Restore { id }) => {
            let entry = crate::cmd::serve::audited(
                global,
                "datasets restore",
                &id,
                data::restore_dataset(&home, &id),
            )?;
            if !global.json {
                println!(
                    "restored {} with versions 0-{} from {}",
                    entry.name, entry.latest_version, entry.id
                );
            }
            entry
        }
        Some(DatasetsCommand::Trash) => {
            let entries = data::trash(&home)?;
            if global.json {
                return print_json(&entries);
            }
            print!("{}", text::trash(&entries));
            return Ok(());
        }
        Some(DatasetsCommand::Vacuum { id, older_than }) => {
            let request = data::VacuumRequest {
                reference: id,
                older_than,
            };
            let target = request.reference.clone().unwrap_or_else(|| "*".to_owned());
            let purged = crate::cmd::serve::audited(
                global,
                "datasets vacuum",
                &target,
                data::vacuum(&home, &request),
            )?;
            if global.json {
                return print_json(&purged);
            }
            print!("{}", text::vacuumed(&purged));
            return Ok(());
        }
    };
    if global.json {
        return print_json(&entry);
    }
    Ok(())
}

async fn list_datasets(global: &Global) -> Result<()> {
    let list = data::datasets(&global.home()).await?;
    if global.json {
        return print_json(&list);
    }
    print!("{}", text::datasets(&list));
    Ok(())
}

pub async fn schema(global: &Global, args: DatasetArgs) -> Result<()> {
    let schema = data::schema(&global.home(), &args.dataset, args.version).await?;
    if global.json {
        return print_json(&schema);
    }
    print!("{}", text::schema(&schema));
    Ok(())
}

pub async fn quality(global: &Global, args: DatasetArgs) -> Result<()> {
    let quality = data::quality(&global.home(), &args.dataset, args.version).await?;
    if global.json {
        return print_json(&quality);
    }
    println!(
        "quality report of {} version {}\n",
        quality.dataset, quality.version
    );
    print!("{}", quality.report.render());
    Ok(())
}

pub async fn history(global: &Global, args: HistoryArgs) -> Result<()> {
    let versions = data::history(&global.home(), &args.dataset).await?;
    if global.json {
        return print_json(&versions);
    }
    print!("{}", text::history(&versions));
    Ok(())
}

pub async fn sql(global: &Global, args: SqlArgs) -> Result<()> {
    let home = global.home();
    let format = match args.format {
        SqlFormat::Table if global.json => SqlFormat::Json,
        f => f,
    };
    let mut sink: Box<dyn Write + Send> = match &args.out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None if matches!(format, SqlFormat::Parquet | SqlFormat::Arrow) => {
            bail!("--format parquet and --format arrow need --out FILE")
        }
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let export = match format {
        SqlFormat::Table => None,
        SqlFormat::Csv => Some(ExportFormat::Csv),
        SqlFormat::Json => Some(ExportFormat::Json),
        SqlFormat::Parquet => Some(ExportFormat::Parquet),
        SqlFormat::Arrow => Some(ExportFormat::ArrowIpc),
    };
    if let Some(export) = export {
        sql::export(&home, &args.query, export, &mut sink).await?;
        return Ok(sink.flush()?);
    }
    let limit = (args.limit != 0 && args.out.is_none()).then_some(args.limit);
    let preview = sql::preview(&home, &args.query, limit).await?;
    let mut shown = preview.batches;
    if shown.is_empty() {
        shown.push(RecordBatch::new_empty(preview.schema));
    }
    writeln!(sink, "{}", pretty_format_batches(&shown)?)?;
    if preview.total > preview.shown {
        writeln!(
            sink,
            "({} rows, first {} shown; --limit 0 shows all, --format csv --out F writes all)",
            preview.total, preview.shown
        )?;
    } else {
        writeln!(sink, "({} rows)", preview.total)?;
    }
    Ok(sink.flush()?)
}
