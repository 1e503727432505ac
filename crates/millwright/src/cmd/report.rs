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
