//! `millwright connect folder:///DROP`: the drop-folder connector, until Ctrl-C or SIGTERM.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use millwright_app::connect::folder::{self, FolderRequest};
use millwright_data::clean::CleanConfig;

use super::connect::event_lines;
use crate::output::print_json;
use crate::Global;

#[derive(Debug, Args)]
pub struct FolderArgs {
    /// Drop folder: which file names are taken.
    #[arg(long, default_value = "*")]
    pub pattern: String,
    /// Drop folder: a file is taken once its size and time are unchanged this long (milliseconds).
    #[arg(long, default_value_t = 2_000)]
    pub settle_ms: u64,
    /// Drop folder: cleaning rules (TOML) for every file; see docs/cleaning.md.
    #[arg(long)]
    pub clean: Option<PathBuf>,
}

pub async fn connect(global: &Global, folder: &str, dataset: &str, args: FolderArgs) -> Result<()> {
    let request = FolderRequest {
        folder: PathBuf::from(folder),
        dataset: dataset.to_owned(),
        pattern: args.pattern,
        settle_ms: args.settle_ms,
        clean: args.clean.as_deref().map(CleanConfig::load).transpose()?,
    };
    let observer = event_lines(global);
    let result = folder::folder(
        &global.home(),
        &request,
        &observer,
        millwright_server::shutdown_signal(),
    )
    .await?;
    if global.json {
        return print_json(&result);
    }
    println!("{}", millwright_app::text::folder_result(&result));
    Ok(())
}
