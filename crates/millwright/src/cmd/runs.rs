//! `millwright runs`: list, show and compare tracked training runs (`<home>/runs`).

use anyhow::Result;
use clap::{Args, Subcommand};
use millwright_app::{runs, text};
use millwright_learn::tracking::{RunFilter, RunStatus};

use crate::output::print_json;
use crate::Global;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct RunsArgs {
    #[command(subcommand)]
    pub command: Option<RunsCommand>,
    #[command(flatten)]
    pub list: ListArgs,
}

/// Filters and paging of the run list (newest first).
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Runs per page.
    #[arg(long, default_value_t = 20)]
    pub limit: u64,
    /// Runs to skip (for the next page: offset + limit).
    #[arg(long, default_value_t = 0)]
    pub offset: u64,
    /// Only runs with this status: running, finished or failed.
    #[arg(long, value_parser = parse_status)]
    pub status: Option<RunStatus>,
    /// Only runs of this model kind (mlp, gbdt, logistic, auto).
    #[arg(long)]
    pub model: Option<String>,
    /// Only runs with this name (the model name trained).
    #[arg(long)]
    pub name: Option<String>,
    /// Only runs on this dataset (lake name, or file names joined by '+').
    #[arg(long)]
    pub dataset: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// One run: params, dataset, code version, metrics, last epoch, artefacts and plots.
    Show {
        /// Run id, a unique prefix of it, or `latest`.
        run: String,
    },
    /// Delete a run and its files for good (its full id; refused while it is running).
    Delete {
        /// The run's full id, as `millwright runs` lists it.
        run: String,
    },
    /// Two runs side by side: the params that differ and how the metrics moved (second − first).
    Compare {
        /// First run (id, unique prefix or `latest`).
        a: String,
        /// Second run.
        b: String,
    },
}

fn parse_status(text: &str) -> Result<RunStatus, String> {
    text.parse()
        .map_err(|e: millwright_learn::tracking::TrackingError| e.to_string())
}

pub fn runs(global: &Global, args: RunsArgs) -> Result<()> {
    match args.command {
        None => list(global, &args.list),
        Some(RunsCommand::Show { run }) => show(global, &run),
        Some(RunsCommand::Compare { a, b }) => compare(global, &a, &b),
        Some(RunsCommand::Delete { run }) => {
            let record = crate::cmd::serve::audited(
                global,
                "runs delete",
                &run,
                runs::delete(&global.home(), &run),
            )?;
            if global.json {
                return print_json(&record);
            }
            println!("deleted run {} ({})", record.id, record.spec.name);
            Ok(())
        }
    }
}

fn list(global: &Global, args: &ListArgs) -> Result<()> {
    let filter = RunFilter {
        status: args.status,
        model_kind: args.model.clone(),
        name: args.name.clone(),
        dataset: args.dataset.clone(),
    };
    let page = runs::list(&global.home(), &filter, args.limit, args.offset)?;
    if global.json {
        return print_json(&page);
    }
    print!("{}", text::runs_page(&page));
    let shown_to = page.offset + page.runs.len() as u64;
    if shown_to < page.total {
        println!("next page: --offset {shown_to} --limit {}", args.limit);
    }
    Ok(())
}

fn show(global: &Global, reference: &str) -> Result<()> {
    let details = runs::show(&global.home(), reference)?;
    if global.json {
        return print_json(&details);
    }
    print!("{}", text::run_details(&details));
    Ok(())
}

fn compare(global: &Global, a: &str, b: &str) -> Result<()> {
    let (ra, rb, cmp) = runs::compare(&global.home(), a, b)?;
    if global.json {
        return print_json(&cmp);
    }
    print!("{}", text::run_comparison(&ra, &rb, &cmp));
    Ok(())
}
