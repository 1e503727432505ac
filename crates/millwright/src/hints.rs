//! The command-line flag that fixes an error, when one does. Libraries say what is wrong in the words of
//! the domain; only the CLI knows its own flags.

use millwright_app::AppError;
use millwright_data::DataError;
use millwright_learn::error::LearnError;
use millwright_learn::tracking::TrackingError;
use millwright_twin::TwinError;

/// A hint for the first error in the chain that a flag fixes.
pub fn hint(err: &anyhow::Error) -> Option<String> {
    err.chain().find_map(|cause| {
        let app = cause.downcast_ref::<AppError>()?;
        match app.root() {
            AppError::Data(e) => data(e),
            AppError::Twin(e) => twin(e).map(str::to_owned),
            AppError::Learn(LearnError::Tracking(TrackingError::UnknownRun { .. }))
            | AppError::Tracking(TrackingError::UnknownRun { .. }) => {
                Some("`millwright runs` lists the runs of this home".to_owned())
            }
            AppError::Learn(e) => learn(e).map(str::to_owned),
            AppError::FileExists { .. } => Some("--force replaces it".to_owned()),
            _ => None,
        }
    })
}

fn data(err: &DataError) -> Option<String> {
    match err {
        DataError::DatasetExists { name } => Some(format!(
            "--mode append adds a version to {name:?}, --mode overwrite replaces it (old versions stay readable)"
        )),
        DataError::ColumnKindChanged { .. } => Some(
            "--mode overwrite replaces the dataset; or set the column's kind in the --clean config".into(),
        ),
        _ => None,
    }
}

fn twin(err: &TwinError) -> Option<&'static str> {
    Some(match err {
        TwinError::NoHorizon | TwinError::BadHorizon { .. } => {
            "--horizon 30d sets the simulated time"
        }
        TwinError::BadWarmup { .. } => "--warmup 1d sets the warm-up (shorter than --horizon)",
        TwinError::RunTooLarge { .. } => "a shorter --horizon or fewer --replications",
        TwinError::NoReplications => "--replications N with N ≥ 1",
        TwinError::NoThreads | TwinError::ThreadPool { .. } => {
            "--threads N with N ≥ 1, or leave it out"
        }
        TwinError::PolicyNeedsModel { .. } => {
            "--model NAME@VERSION (or --model rules for the AI4I rules)"
        }
        TwinError::PreventiveNeedsSetting { .. } => "--interval 180min or --wear-limit 180",
        TwinError::PolicySetting { .. } => "check --interval, --wear-limit and --threshold",
        TwinError::UnknownPolicy { .. } => {
            "--policy / --policies: run-to-failure, preventive, predictive, predictive+preventive"
        }
        TwinError::UnknownParameter { .. } => "--parameter interval, wear-limit or threshold",
        TwinError::UnknownObjective { .. } => "--objective cost-per-good-part or throughput",
        TwinError::BadSearchRange { .. } | TwinError::NoSearchValues => {
            "--range LO:HI:N or --values A,B,C"
        }
        TwinError::ThresholdNeedsPredictive { .. } => "--policy predictive for the threshold",
        TwinError::NoRows | TwinError::TooManyRows { .. } => "--rows N",
        _ => return None,
    })
}

fn learn(err: &LearnError) -> Option<&'static str> {
    Some(match err {
        LearnError::DropColumnMissing { .. } | LearnError::UnsupportedType { .. } => {
            "--drop COLUMN,... leaves columns out"
        }
        LearnError::TimeColumnMissing { .. } | LearnError::TimeValue { .. } => {
            "--time-column names the column to split by time; leave it out for a random split"
        }
        LearnError::InvalidThreshold { .. } => "--threshold 0.3, max-f1 or cost:MISSED:FALSE_ALARM",
        LearnError::TooFewFolds { .. } | LearnError::TooFewRowsForFolds { .. } => {
            "--cv K with 2 ≤ K ≤ rows"
        }
        LearnError::KindUnsupportedForTask { .. } => "--model mlp, gbdt, logistic, a list or auto",
        LearnError::DeviceNotBuilt { .. } => "build with `cargo build --release --features cuda`",
        LearnError::UnknownDevice { .. } => "--device cpu or cuda",
        LearnError::EarlyStoppingOnDevice { .. } => "drop --patience or --device",
        LearnError::EmptySplit { .. } => {
            "--test-fraction between 0 and 1, leaving rows on both sides"
        }
        _ => return None,
    })
}
