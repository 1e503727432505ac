//! `demo`: the whole platform on the embedded default, in one command (the use case lives in
//! millwright-app: emit → clean → train → twin → impact → report).

use anyhow::Result;
use clap::Args;
use millwright_app::demo::{self, DemoRequest};
use millwright_app::report::{DEFAULT_P0, DEFAULT_V0};

use crate::cmd::report::headline_text;
use crate::output::{observer, print_json};
use crate::Global;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Reduced sizes (records, epochs, replications, resamples) for CI; the figures are noisier.
    #[arg(long)]
    pub quick: bool,
    /// Records the twin emits for training (default 525 600: a year of the milling station at one part a
    /// minute; 3 000 with --quick).
    #[arg(long)]
    pub records: Option<u64>,
    /// Productivity before AI (default 100, an index).
    #[arg(long, allow_negative_numbers = true, default_value_t = DEFAULT_P0)]
    pub p0: f64,
    /// Value before AI (default 100, an index).
    #[arg(long, allow_negative_numbers = true, default_value_t = DEFAULT_V0)]
    pub v0: f64,
    /// Seed of every random choice (emission, split, training, simulation).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

pub async fn demo(global: &Global, args: DemoArgs) -> Result<()> {
    let request = DemoRequest {
        quick: args.quick,
        records: args.records,
        p0: args.p0,
        v0: args.v0,
        seed: args.seed,
    };
    let outcome = demo::demo(&global.home(), &request, &observer(global)).await?;
    if global.json {
        return print_json(&outcome);
    }
    println!(
        "\nWhat AI changes on the example line (predictive vs run-to-failure; demo took {:.1} s):",
        outcome.seconds
    );
    print!("{}", headline_text(&outcome.headline));
    if !outcome.earlier_versions.is_empty() {
        println!(
            "model: {} (a new version; this home already had earlier versions)",
            outcome.model
        );
    }
    println!("\nreport: {}", outcome.html.display());
    Ok(())
}
