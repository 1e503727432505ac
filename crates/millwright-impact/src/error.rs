//! Every way the impact model can refuse its input, each naming what was wrong and where it came from.

use std::path::PathBuf;

/// Errors of the impact model, the model file, user assumptions and twin results.
#[derive(Debug, thiserror::Error)]
pub enum ImpactError {
    #[error("{what} must be a finite number ≥ 0, got {value} ({origin})")]
    InvalidBaseline {
        what: &'static str,
        value: f64,
        origin: String,
    },

    #[error("{what} is missing: give it with --{flag} or as `{flag} = …` in the model file")]
    MissingBaseline {
        what: &'static str,
        flag: &'static str,
    },

    #[error("factor of path `{path}` must be a finite number > 0, got {value} ({origin})")]
    FactorNotPositive {
        path: String,
        value: f64,
        origin: String,
    },

    #[error("α {path}.{term} must be a finite number, got {value} ({origin})")]
    AlphaNotFinite {
        path: String,
        term: String,
        value: f64,
        origin: String,
    },

    #[error(
        "path `{path}`: the α terms ({terms}) make its factor 1 + Σα = {factor}, which is not > 0; \
         a path cannot remove all productivity"
    )]
    AlphaMakesFactorNotPositive {
        path: String,
        factor: f64,
        terms: String,
    },

    #[error("unknown path `{path}` ({origin}); known paths: {known}")]
    UnknownPath {
        path: String,
        origin: String,
        known: String,
    },

    #[error("unknown term `{term}` of path `{path}` ({origin}); its terms: {known}")]
    UnknownTerm {
        path: String,
        term: String,
        origin: String,
        known: String,
    },

    #[error("`{spec}` ({origin}): expected {expected}")]
    BadSpec {
        spec: String,
        origin: String,
        expected: &'static str,
    },

    #[error("{what} given twice: {first} and {second}")]
    GivenTwice {
        what: String,
        first: String,
        second: String,
    },

    #[error(
        "path `{path}` has a factor ({factor_origin}) and α terms ({alpha_terms}): \
         give either the factor or its terms, not both"
    )]
    FactorAndAlpha {
        path: String,
        factor_origin: String,
        alpha_terms: String,
    },

    #[error(
        "{what} ({origin}) conflicts with α {path}.{term}, which is measured from twin run `{run}`; \
         remove the user-given value"
    )]
    ConflictsWithMeasurement {
        what: String,
        origin: String,
        path: String,
        term: String,
        run: String,
    },

    #[error("invalid name `{name}` ({origin}): {reason}")]
    InvalidName {
        name: String,
        origin: String,
        reason: &'static str,
    },

    #[error("cannot read model file {}: {source}", path.display())]
    ModelFileRead {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("model file {}: {source}", path.display())]
    ModelFileParse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },

    #[error("twin run `{run}` has no {role} policy `{policy}`; its policies: {available}")]
    PolicyMissing {
        run: String,
        role: &'static str,
        policy: String,
        available: String,
    },

    #[error("twin run `{run}` lists policy `{policy}` more than once")]
    DuplicatePolicy { run: String, policy: String },

    #[error(
        "baseline and AI policy are both `{policy}`: a comparison needs two different policies"
    )]
    SamePolicy { policy: String },

    #[error("twin run `{run}`, policy `{policy}`: no replications to measure from")]
    NoReplications { run: String, policy: String },

    #[error(
        "twin run `{run}`: replications are not paired: `{baseline}` has {baseline_count}, \
         `{ai}` has {ai_count} (common random numbers need the same replications in both)"
    )]
    UnpairedReplications {
        run: String,
        baseline: String,
        baseline_count: usize,
        ai: String,
        ai_count: usize,
    },

    #[error(
        "twin run `{run}`, policy `{policy}`, replication {replication}: {kpi} = {value} \
         must be a finite number ≥ 0"
    )]
    InvalidKpi {
        run: String,
        policy: String,
        replication: usize,
        kpi: &'static str,
        value: f64,
    },

    #[error(
        "twin run `{run}`: the baseline policy `{policy}` made no good parts (or a driver of its \
         productivity is 0), so a relative change against it is undefined"
    )]
    ZeroBaselineKpi { run: String, policy: String },

    #[error("twin run `{run}`: price `{key}` = {value} must be a finite number ≥ 0 (the line file's [costs])")]
    InvalidPrice {
        run: String,
        key: &'static str,
        value: f64,
    },

    #[error("{what} must be a finite number ≥ 0 (the horizon at least one month), got {value}")]
    InvalidInvestment { what: &'static str, value: f64 },

    #[error(
        "twin run `{run}`: its line file declares no current_policy, so there is no default baseline; \
         give the plant's current practice with --baseline (e.g. preventive)"
    )]
    NoBaseline { run: String },

    #[error(
        "{what} ({origin}) cannot be given with a twin run: the twin measures P0 and V0 (good parts and \
         margin per planned hour of the baseline)"
    )]
    LevelWithTwin { what: &'static str, origin: String },

    #[error("bootstrap needs at least 1 resample, got {0}")]
    NoResamples(usize),

    #[error(
        "only {used} of {total} bootstrap resamples gave a defined result (the others had a zero baseline \
         KPI or a path factor ≤ 0): the measurement is too uncertain for a confidence interval; \
         run the twin with more replications"
    )]
    TooFewValidResamples { used: usize, total: usize },
}

/// Result of the impact crate.
pub type Result<T> = std::result::Result<T, ImpactError>;
