//! `demo`: the whole platform on the embedded default, in one command (the use case lives in
//! millwright-app: emit → clean → train → twin → impact → report).

use anyhow::Result;
use clap::Args;
use millwright_app::demo::{self, DemoRequest};

use crate::cmd::impact::BusinessArgs;
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
    /// What the AI system costs (default: the example line's `[business]` table, an illustration).
    #[command(flatten)]
    pub business: BusinessArgs,
    /// Seed of every random choice (emission, split, training, simulation).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

pub async fn demo(global: &Global, args: DemoArgs) -> Result<()> {
    let request = DemoRequest {
        quick: args.quick,
        records: args.records,
        business: args.business.inputs(),
        seed: args.seed,
    };
    let outcome = demo::demo(&global.home(), &request, &observer(global)).await?;
    if global.json {
        return print_json(&outcome);
    }
    println!(
        "\nWhat AI changes on the example line (predictive maintenance against the current practice, {}; \
         demo took {:.1} s):",
        outcome.baseline, outcome.seconds
    );
    print!("{}", millwright_app::text::headline(&outcome.headline));
    if !outcome.earlier_versions.is_empty() {
        println!(
            "model: {} (a new version; this home already had earlier versions)",
            outcome.model
        );
    }
    println!("\nreport: {}", outcome.html.display());
    Ok(())
}
