//! Errors of the twin: every one names what and where (file, field, value), in the words of the line
//! model. A front door that wants to point at its own option (a flag, a form field) matches the variant
//! (`NoHorizon`, `PolicyNeedsModel`, `PreventiveNeedsSetting`, `RunTooLarge`, ...).

use std::fmt;
use std::path::PathBuf;

use crate::dist::{DistError, LakeColumn};
use crate::scorer::ScorerError;

/// The part of a line file an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The top-level settings: name, time unit, horizon, warm-up.
    Line,
    Mix,
    Arrivals,
    Buffers,
    Stations,
    PlannedStops,
    Preventive,
    Costs,
    Business,
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Section::Line => "line",
            Section::Mix => "mix",
            Section::Arrivals => "arrivals",
            Section::Buffers => "buffers",
            Section::Stations => "stations",
            Section::PlannedStops => "planned_stops",
            Section::Preventive => "preventive",
            Section::Costs => "costs",
            Section::Business => "business",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TwinError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    // The line file.
    /// `message` is the TOML parser's, with line and column spelled out.
    #[error("{path}: {message}")]
    Syntax {
        path: PathBuf,
        message: String,
        /// Boxed: the parser's error is large, and every `Result` of the twin would carry its size.
        #[source]
        source: Box<toml::de::Error>,
    },
    #[error("{path}: {field}: {message}")]
    Invalid {
        path: PathBuf,
        section: Section,
        /// The field's path in the file, e.g. `stations[1] (rough-mill).scrap`.
        field: String,
        message: String,
    },
    #[error("{path}: {field}: {source}")]
    Distribution {
        path: PathBuf,
        section: Section,
        field: String,
        #[source]
        source: DistError,
    },
    #[error("{path}: {section}: {count} entries, more than the {limit} a line can hold")]
    TooMany {
        path: PathBuf,
        section: Section,
        count: usize,
        limit: usize,
    },
    #[error("{path}: {field}: the lake column {column} was not loaded before the line was built")]
    LakeColumnNotLoaded {
        path: PathBuf,
        field: String,
        column: LakeColumn,
    },
    #[error("bad duration {value:?}: {message}")]
    Duration { value: String, message: String },

    // Run options.
    #[error("no policy to run")]
    NoPolicies,
    #[error("replications must be at least 1")]
    NoReplications,
    #[error("worker threads must be at least 1")]
    NoThreads,
    /// The caller asked the simulation to stop (checked before each replication); nothing was stored.
    #[error("simulation cancelled; no run was stored")]
    Cancelled,
    #[error("cannot start {threads} worker threads: {source}")]
    ThreadPool {
        threads: usize,
        #[source]
        source: rayon::ThreadPoolBuildError,
    },
    #[error("no horizon: the line file sets none and the run gives none")]
    NoHorizon,
    #[error("the horizon must be > 0, got {horizon}")]
    BadHorizon { horizon: f64 },
    #[error("the warm-up must lie in [0, horizon) = [0, {horizon}), got {warmup}")]
    BadWarmup { warmup: f64, horizon: f64 },
    #[error(
        "the run would simulate about {events:.1e} events (horizon {horizon} {time_unit} / fastest mean \
         processing time {cycle} {time_unit}, for {stations} station(s), {replications} replication(s) \
         and {policies} polic(ies)), about {} on one core; at most {limit:.0e} events are run: shorten \
         the horizon or run fewer replications or policies",
        crate::run::human_seconds(*.events / crate::run::EVENTS_PER_SECOND)
    )]
    RunTooLarge {
        events: f64,
        limit: f64,
        horizon: f64,
        time_unit: &'static str,
        cycle: f64,
        stations: usize,
        replications: usize,
        policies: usize,
    },

    // Policies.
    #[error("unknown policy {name:?}; known: {}", crate::policy::POLICY_NAMES.join(", "))]
    UnknownPolicy { name: String },
    #[error("policy name {name:?} appears twice")]
    DuplicatePolicy { name: String },
    #[error("{policy} needs a failure model (a registered model or the AI4I rules)")]
    PolicyNeedsModel { policy: String },
    #[error(
        "{policy} needs a preventive interval or wear limit: the line file has no [preventive] setting \
         and no station can fail, so there is no default"
    )]
    PreventiveNeedsSetting { policy: String },
    #[error("{policy}: {message}")]
    PolicySetting {
        policy: String,
        /// `interval`, `wear_limit`, `threshold` or `recall_scale`.
        setting: &'static str,
        message: String,
    },
    #[error("{policy}: {what} needs a station with [stations.ai4i] (tool wear and sensors)")]
    PolicyNeedsAi4i { policy: String, what: &'static str },
    #[error(
        "{policy}: station {station:?} has no `maintenance` duration, which this policy needs"
    )]
    StationNeedsMaintenance { policy: String, station: String },

    // Failure scorers.
    #[error(
        "model {model} reads column(s) {} that the twin does not produce; the twin produces {}",
        quoted(missing),
        quoted(available)
    )]
    ScorerColumns {
        model: String,
        missing: Vec<String>,
        available: Vec<String>,
    },
    #[error("failure model {model} could not score a sensor snapshot: {source}")]
    ScoreFailed {
        model: String,
        #[source]
        source: ScorerError,
    },
    #[error("failure model {model} returned {scores:?} for one snapshot; expected one probability in [0, 1]")]
    ScoreInvalid { model: String, scores: Vec<f64> },

    // Optimisation.
    #[error("unknown parameter {name:?}: use interval, wear-limit or threshold")]
    UnknownParameter { name: String },
    #[error("unknown objective {name:?}: use cost-per-good-part or throughput")]
    UnknownObjective { name: String },
    #[error("no parameter values to try")]
    NoSearchValues,
    #[error("the threshold is a parameter of the predictive policy, and {policy} has none")]
    ThresholdNeedsPredictive { policy: String },
    #[error(
        "bad search range {lo}..{hi} with {points} points: need lo <= hi and at least one point"
    )]
    BadSearchRange { lo: f64, hi: f64, points: usize },
    #[error("no parameter value gave a finite {objective}")]
    NoFiniteObjective { objective: &'static str },

    // Emission.
    #[error("the number of rows to emit must be at least 1")]
    NoRows,
    #[error("{rows} rows is more than the {limit} one emission writes")]
    TooManyRows { rows: u64, limit: u64 },

    // Stored results.
    #[error("twin run id {id:?} is not valid: {reason}")]
    InvalidRunId { id: String, reason: &'static str },
    #[error("{path} already exists")]
    RunExists { path: PathBuf },
    #[error("twin run `{id}` not found (no {path})")]
    RunMissing { id: String, path: PathBuf },
    #[error("twin run `{id}` has no plot {file:?} (its plots: {available})")]
    PlotMissing {
        id: String,
        file: String,
        available: String,
    },
    #[error("malformed twin result {path} at {at}: {source}")]
    ResultMalformed {
        path: PathBuf,
        /// The JSON path of the fault, e.g. `policies[1].kpis.oee.mean`.
        at: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot serialise the {what}: {source}")]
    Serialise {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },

    #[error("plot: {0}")]
    Plot(#[from] millwright_plot::PlotError),
}

impl TwinError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        TwinError::Io {
            path: path.into(),
            source,
        }
    }
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|c| format!("{c:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}
