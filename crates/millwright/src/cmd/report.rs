//! `report <twin-run-id>`: the HTML report (and summary.json) of one twin run.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use millwright_app::report::{self, ReportRequest};
use millwright_app::text;

use crate::cmd::impact::{ComparisonArgs, GivenArgs};
use crate::output::print_json;
use crate::Global;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The twin run comparing a baseline and an AI policy (`<home>/twin/<run-id>/`).
    pub run_id: String,
    /// Output folder (default `<home>/reports/<run-id>`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// A twin optimisation run of the predictive threshold, shown as the optimised threshold.
    #[arg(long, value_name = "TWIN_RUN_ID")]
    pub threshold_run: Option<String>,
    #[command(flatten)]
    pub given: GivenArgs,
    #[command(flatten)]
    pub comparison: ComparisonArgs,
}

pub fn report(global: &Global, args: ReportArgs) -> Result<()> {
    let mut request = ReportRequest::new(&args.run_id);
    request.threshold_run = args.threshold_run;
    request.impact = args.given.request(None, None, &args.comparison)?;
    request.out = args.out;
    let reported = report::report(&global.home(), &request)?;
    if global.json {
        return print_json(&reported);
    }
    print!("{}", text::headline(&reported.headline));
    println!("report: {}", reported.html.display());
    println!("summary: {}", reported.summary.display());
    Ok(())
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ReportsArgs {
    #[command(subcommand)]
    pub command: Option<ReportsCommand>,
}

#[derive(Debug, clap::Subcommand)]
pub enum ReportsCommand {
    /// Delete a built report for good (`<home>/reports/NAME/`); the twin run it was built from stays.
    Delete { name: String },
}

pub fn reports(global: &Global, args: ReportsArgs) -> Result<()> {
    let home = global.home();
    match args.command {
        None => {
            let list = report::reports(&home)?;
            if global.json {
                return print_json(&list);
            }
            for r in &list {
                println!(
                    "{:<40} {:>10} B  built {}",
                    r.name, r.size_bytes, r.built_at
                );
            }
            Ok(())
        }
        Some(ReportsCommand::Delete { name }) => {
            crate::cmd::serve::audited(
                global,
                "reports delete",
                &name,
                report::delete_report(&home, &name),
            )?;
            if global.json {
                return print_json(&serde_json::json!({ "deleted": name }));
            }
            println!("deleted report {name}");
            Ok(())
        }
    }
}
