//! `millwright lake compact|vacuum`: maintenance of the lake's tables.

use anyhow::Result;
use clap::{Args, Subcommand};
use millwright_app::lake::{self, LakeVacuumRequest};
use millwright_app::text;

use crate::output::print_json;
use crate::Global;

#[derive(Debug, Args)]
pub struct LakeArgs {
    #[command(subcommand)]
    pub command: LakeCommand,
}

#[derive(Debug, Subcommand)]
pub enum LakeCommand {
    /// Rewrite a dataset's small files (live ingest makes one per commit) into large ones, as one version.
    Compact {
        dataset: String,
        /// Size of the files written, in MiB.
        #[arg(long, default_value_t = 128)]
        target_mib: u64,
    },
    /// Remove the files no version within the retention needs (replaced by a compaction or an overwrite).
    Vacuum {
        /// One dataset (or quarantine table); without it, every table of the lake.
        dataset: Option<String>,
        /// Keep files replaced less than this long ago: 168h, 7d, 90min. Older versions stop being readable.
        #[arg(long, default_value = "168h")]
        retain: String,
        /// List what would be removed; remove nothing.
        #[arg(long)]
        dry_run: bool,
        /// Allow a retention under 1h (only when nothing reads the lake meanwhile).
        #[arg(long)]
        force: bool,
    },
}

pub async fn lake(global: &Global, args: LakeArgs) -> Result<()> {
    let home = global.home();
    match args.command {
        LakeCommand::Compact {
            dataset,
            target_mib,
        } => {
            let target = target_mib.saturating_mul(1024 * 1024);
            let done = lake::compact(&home, &dataset, Some(target)).await?;
            if global.json {
                return print_json(&done);
            }
            print!("{}", text::compacted(&done));
        }
        LakeCommand::Vacuum {
            dataset,
            retain,
            dry_run,
            force,
        } => {
            let request = LakeVacuumRequest {
                dataset,
                retain,
                dry_run,
                force,
            };
            let done = lake::vacuum(&home, &request).await?;
            if global.json {
                return print_json(&done);
            }
            print!("{}", text::lake_vacuumed(&done));
        }
    }
    Ok(())
}
