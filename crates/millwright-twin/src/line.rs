//! The line model: what a line TOML file says, its validation, and the resolved form the engine runs.

use std::collections::HashMap;
use std::path::Path;

use millwright_core::BusinessInputs;
use serde::{Deserialize, Serialize};

use crate::dist::{DistSpec, LakeColumn, Sampler};
use crate::error::TwinError;
use crate::measure::{HiddenModel, SensorModel};
use crate::physics::{FailureMode, FailureRules, Variant};
use crate::policy::PreventiveSetting;
use crate::time::{DurationSpec, TimeUnit};

/// A line file as written (see docs/line-model.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineFile {
    pub name: String,
    pub time_unit: TimeUnit,
    /// Default simulated time per replication (a run may give its own).
    pub horizon: Option<DurationSpec>,
    /// Default warm-up deleted from the statistics (a run may give its own).
    pub warmup: Option<DurationSpec>,
    /// Product mix, shares of L, M and H (normalised).
    #[serde(default)]
    pub mix: Mix,
    /// External arrivals into an unbounded queue before the first station; absent = the first
    /// station is never starved.
    pub arrivals: Option<DistSpec>,
    /// Capacity of the buffer after each station but the last (one entry per gap).
    #[serde(default)]
    pub buffers: Vec<i64>,
    pub stations: Vec<StationFile>,
    #[serde(default)]
    pub planned_stops: Vec<PlannedStopFile>,
    /// The preventive policy's setting when a run gives none (see `policy::default_preventive`).
    pub preventive: Option<PreventiveFile>,
    #[serde(default)]
    pub costs: Costs,
    /// The plant's maintenance practice today (`run-to-failure` or `preventive`): the baseline an
    /// impact study compares with.
    pub current_policy: Option<String>,
    /// What the AI system would cost: the business case's figures (the twin does not use them; an impact
    /// study of a run reads them from the stored line file).
    pub business: Option<BusinessInputs>,
}

impl LineFile {
    /// Calls `f` with the field path and every distribution of the file.
    pub fn for_each_dist_mut(&mut self, f: &mut dyn FnMut(&str, &mut DistSpec)) {
        if let Some(a) = self.arrivals.as_mut() {
            f("arrivals", a);
        }
        for (i, s) in self.stations.iter_mut().enumerate() {
            let at = |x: &str| format!("stations[{i}] ({}).{x}", s.name);
            let (p, fl, m) = (at("process"), at("failures"), at("maintenance"));
            let r = at("ai4i.repair");
            f(&p, &mut s.process);
            if let Some(x) = s.failures.as_mut() {
                f(&format!("{fl}.time_to_failure"), &mut x.time_to_failure);
                f(&format!("{fl}.repair"), &mut x.repair);
            }
            if let Some(x) = s.maintenance.as_mut() {
                f(&m, x);
            }
            if let Some(a) = s.ai4i.as_mut() {
                if let Some(r) = a.hidden.as_mut().and_then(|h| h.repair.as_mut()) {
                    f(&at("ai4i.hidden.repair"), r);
                }
                let rep = &mut a.repair;
                for (mode, d) in [
                    ("TWF", &mut rep.twf),
                    ("HDF", &mut rep.hdf),
                    ("PWF", &mut rep.pwf),
                    ("OSF", &mut rep.osf),
                    ("RNF", &mut rep.rnf),
                ] {
                    f(&format!("{r}.{mode}"), d);
                }
            }
        }
    }

    /// The lake columns the file's empirical distributions read (each once).
    pub fn lake_columns(&self) -> Vec<LakeColumn> {
        let mut out = std::collections::BTreeSet::new();
        self.clone().for_each_dist_mut(&mut |_, d| {
            if let Some(c) = d.lake_column() {
                out.insert(c);
            }
        });
        out.into_iter().collect()
    }

    /// Sensitivity hook: failure rates × `k`. Calendar-time failures come `k` times as often (time to
    /// failure scaled by 1/k); the AI4I random-failure probability, the hidden cause and the share of
    /// worn tools that break are multiplied by `k`, capped at 1. `Line::build` validates the result
    /// (a `k` <= 0 is refused there, naming the field).
    pub fn scale_failure_rates(&mut self, k: f64) {
        let cap = |p: f64| (p * k).min(1.0);
        for s in &mut self.stations {
            if let Some(f) = s.failures.as_mut() {
                f.time_to_failure = f.time_to_failure.scaled(1.0 / k);
            }
            if let Some(a) = s.ai4i.as_mut() {
                a.random_failure = cap(a.random_failure);
                a.tool_failure_share = cap(a.tool_failure_share);
                if let Some(h) = a.hidden.as_mut() {
                    h.base = cap(h.base);
                    h.growth = cap(h.growth);
                }
            }
        }
    }

    /// Sensitivity hook: every station's `maintenance` duration × `k`.
    pub fn scale_maintenance_duration(&mut self, k: f64) {
        for s in &mut self.stations {
            if let Some(m) = s.maintenance.as_mut() {
                *m = m.scaled(k);
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mix {
    #[serde(rename = "L")]
    pub l: f64,
    #[serde(rename = "M")]
    pub m: f64,
    #[serde(rename = "H")]
    pub h: f64,
}

impl Default for Mix {
    /// The AI4I mix: 60 % L, 30 % M, 10 % H.
    fn default() -> Self {
        Mix {
            l: 0.6,
            m: 0.3,
            h: 0.1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StationFile {
    pub name: String,
    /// Processing time of one part.
    pub process: DistSpec,
    /// Probability that a part finished here is scrapped.
    #[serde(default)]
    pub scrap: f64,
    /// Calendar-time failures: time to failure counted from the end of the last repair or maintenance.
    pub failures: Option<TimeFailures>,
    /// Condition-based failures from the AI4I sensor physics.
    pub ai4i: Option<Ai4iFile>,
    /// Duration of one preventive or predictive maintenance action (required when a policy maintains).
    pub maintenance: Option<DistSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeFailures {
    pub time_to_failure: DistSpec,
    pub repair: DistSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ai4iFile {
    /// Tool wear added per part, minutes, by variant (AI4I: L 2, M 3, H 5).
    pub wear_per_part: Option<WearPerPart>,
    /// Tool life is drawn uniformly from this range at every tool change (AI4I: 200–240 min).
    #[serde(default = "default_life")]
    pub tool_life: [f64; 2],
    /// Share of tools reaching their life that fail (TWF) instead of being swapped between parts
    /// (AI4I: 51 of 120).
    #[serde(default = "default_tool_failure_share")]
    pub tool_failure_share: f64,
    /// Chance of a random failure per part (AI4I: 0.1 %).
    #[serde(default = "default_random_failure")]
    pub random_failure: f64,
    /// Repair time per failure mode.
    pub repair: ModeRepairs,
    /// Measurement noise and drift of the sensors; absent: they read the true state exactly.
    pub sensors: Option<SensorsFile>,
    /// A failure cause no sensor shows (spindle bearing wear); absent: none.
    pub hidden: Option<HiddenFile>,
}

/// `[stations.ai4i.sensors]`: how the sensors misread the true state (what the failure rules see).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensorsFile {
    /// Standard deviation of one reading's noise, in the sensor's unit.
    #[serde(default)]
    pub noise: SensorValues,
    /// Calibration drift in the sensor's unit per 30 days, growing linearly from the last
    /// calibration; its sign is drawn per calibration period.
    #[serde(default)]
    pub drift: SensorValues,
    /// Recalibration period (drift back to zero); absent: drift grows over the whole replication.
    pub calibration: Option<DurationSpec>,
}

/// One number per AI4I sensor reading, in its unit (K, K, rpm, Nm, min); absent readings are 0.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SensorValues {
    pub air_temperature: f64,
    pub process_temperature: f64,
    pub rotational_speed: f64,
    pub torque: f64,
    pub tool_wear: f64,
}

impl SensorValues {
    /// In `measure::READINGS` order.
    pub fn to_array(self) -> [f64; 5] {
        [
            self.air_temperature,
            self.process_temperature,
            self.rotational_speed,
            self.torque,
            self.tool_wear,
        ]
    }
}

/// `[stations.ai4i.hidden]`: failure probability per part `base + growth × n`, n the parts since the
/// last maintenance or repair of this cause (see `measure::HiddenModel`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HiddenFile {
    /// Failure probability of the first part after maintenance.
    #[serde(default)]
    pub base: f64,
    /// Added per part machined since then.
    #[serde(default)]
    pub growth: f64,
    /// Repair time; absent: the RNF repair.
    pub repair: Option<DistSpec>,
}

fn default_life() -> [f64; 2] {
    [200.0, 240.0]
}
fn default_tool_failure_share() -> f64 {
    0.425
}
fn default_random_failure() -> f64 {
    0.001
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WearPerPart {
    #[serde(rename = "L")]
    pub l: f64,
    #[serde(rename = "M")]
    pub m: f64,
    #[serde(rename = "H")]
    pub h: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeRepairs {
    #[serde(rename = "TWF")]
    pub twf: DistSpec,
    #[serde(rename = "HDF")]
    pub hdf: DistSpec,
    #[serde(rename = "PWF")]
    pub pwf: DistSpec,
    #[serde(rename = "OSF")]
    pub osf: DistSpec,
    #[serde(rename = "RNF")]
    pub rnf: DistSpec,
}

/// A periodic stop of the whole line (shift not worked, weekly cleaning): from `start` within every
/// `every`, for `duration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedStopFile {
    pub name: String,
    pub every: DurationSpec,
    pub start: DurationSpec,
    pub duration: DurationSpec,
}

/// `[preventive]`: when the preventive policy maintains if a run says nothing else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreventiveFile {
    /// After this long since the last repair or maintenance of a station that can fail.
    pub interval: Option<DurationSpec>,
    /// Before a part, once an AI4I station's tool wear has reached this many minutes.
    pub wear_limit: Option<f64>,
}

/// Money, in one currency; hourly rates are per hour of real time (per base unit for `unit` lines).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Costs {
    /// Sales value of one good part (reported as revenue; not part of the cost).
    pub part_value: f64,
    /// Running the line, per hour of planned production time.
    pub operating_per_hour: f64,
    /// Lost contribution per station-hour of unplanned downtime.
    pub downtime_per_hour: f64,
    /// Parts and labour of one corrective repair.
    pub corrective_repair: f64,
    /// One preventive or predictive maintenance action.
    pub preventive_maintenance: f64,
    /// Material lost with one scrapped part.
    pub scrap: f64,
}

/// A validated line, ready to simulate. Durations are in base units.
#[derive(Debug, Clone)]
pub struct Line {
    pub file: LineFile,
    /// The TOML text it came from (stored with every result).
    pub source: String,
    /// sha256 of `source`.
    pub source_sha256: String,
    pub horizon: Option<f64>,
    pub warmup: Option<f64>,
    pub mix_cdf: [f64; 3],
    pub arrivals: Option<Sampler>,
    pub buffers: Vec<usize>,
    pub stations: Vec<StationModel>,
    pub planned_stops: Vec<PlannedStop>,
    /// The line file's `[preventive]` setting, in base units.
    pub preventive: Option<PreventiveSetting>,
    /// Empirical distributions read from the lake: `field <- dataset."column" (n values)` (lineage).
    pub lake_inputs: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct StationModel {
    pub name: String,
    pub process: Sampler,
    pub process_mean: f64,
    pub scrap: f64,
    pub time_to_failure: Option<Sampler>,
    pub repair: Option<Sampler>,
    /// Mean of `time_to_failure` (base units).
    pub mean_time_to_failure: Option<f64>,
    pub ai4i: Option<Ai4iModel>,
    pub maintenance: Option<Sampler>,
}

#[derive(Debug, Clone)]
pub struct Ai4iModel {
    pub rules: FailureRules,
    pub wear_per_part: [f64; 3],
    pub life_min: f64,
    pub life_max: f64,
    pub tool_failure_share: f64,
    pub random_failure: f64,
    /// In `FailureMode::ALL` order.
    pub repair: [Sampler; 5],
    /// Measurement error; `None`: the sensors read the true state.
    pub sensors: Option<SensorModel>,
    pub hidden: Option<HiddenModel>,
}

impl StationModel {
    /// Whether the station has any failure process (only those are maintained on an interval).
    pub fn can_fail(&self) -> bool {
        self.time_to_failure.is_some() || self.ai4i.is_some()
    }
}

impl Ai4iModel {
    pub fn wear_for(&self, v: Variant) -> f64 {
        self.wear_per_part[v as usize]
    }
    pub fn repair_for(&self, mode: FailureMode) -> &Sampler {
        &self.repair[mode as usize]
    }
}

#[derive(Debug, Clone, Copy)]
pub struct PlannedStop {
    pub every: f64,
    pub start: f64,
    pub duration: f64,
}

/// The documented example line `twin init` writes.
pub const EXAMPLE_LINE: &str = include_str!("example_line.toml");

impl Line {
    /// Reads and validates a line file.
    pub fn load(path: &Path) -> Result<Line, TwinError> {
        let text = std::fs::read_to_string(path).map_err(|e| TwinError::io(path, e))?;
        Line::parse(&text, path)
    }

    /// Parses and validates line TOML; `path` names the source in errors. Lines with empirical
    /// distributions read from the lake need `parse_file` + `build` with the column values.
    pub fn parse(text: &str, path: &Path) -> Result<Line, TwinError> {
        Line::build(Line::parse_file(text, path)?, text, path, &HashMap::new())
    }

    /// The first step: TOML syntax and field names only.
    pub fn parse_file(text: &str, path: &Path) -> Result<LineFile, TwinError> {
        toml::from_str(text).map_err(|source| TwinError::Syntax {
            path: path.to_path_buf(),
            message: syntax_message(text, &source),
            source: Box::new(source),
        })
    }

    /// The second step: fills empirical distributions from `columns` (values of the lake columns
    /// `LineFile::lake_columns` lists) and validates everything.
    pub fn build(
        mut file: LineFile,
        text: &str,
        path: &Path,
        columns: &HashMap<LakeColumn, Vec<f64>>,
    ) -> Result<Line, TwinError> {
        let mut inputs = Vec::new();
        let mut missing = None;
        file.for_each_dist_mut(&mut |field, d| {
            if let Some(col) = d.lake_column() {
                match columns.get(&col) {
                    Some(v) => {
                        inputs.push(format!("{field} <- {col} ({} values)", v.len()));
                        if let DistSpec::Empirical { values, .. } = d {
                            *values = v.clone();
                        }
                    }
                    None if missing.is_none() => missing = Some((field.to_string(), col)),
                    None => {}
                }
            }
        });
        if let Some((field, column)) = missing {
            return Err(TwinError::LakeColumnNotLoaded {
                path: path.to_path_buf(),
                field,
                column,
            });
        }
        let mut line = crate::validate::line_from_file(file, text, path)?;
        line.lake_inputs = inputs;
        Ok(line)
    }

    pub fn time_unit(&self) -> TimeUnit {
        self.file.time_unit
    }

    /// The line file's `current_policy` (validated: a name `policy_from_name` builds without a model).
    pub fn current_policy(&self) -> Option<&str> {
        self.file.current_policy.as_deref()
    }

    /// Mean processing time of the slowest station: the ideal cycle time of the line (OEE performance).
    pub fn ideal_cycle_time(&self) -> f64 {
        self.stations
            .iter()
            .map(|s| s.process_mean)
            .fold(0.0, f64::max)
    }

    pub fn variant_of(&self, u: f64) -> Variant {
        if u < self.mix_cdf[0] {
            Variant::L
        } else if u < self.mix_cdf[1] {
            Variant::M
        } else {
            Variant::H
        }
    }
}

/// The TOML parser's message, with "line L, column C" spelled out even when the parser's own
/// rendering changes.
fn syntax_message(text: &str, err: &toml::de::Error) -> String {
    let msg = err.message().to_string();
    match err.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("TOML error at line {line}, column {column}: {msg}")
        }
        None => format!("TOML error: {msg}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Line, TwinError> {
        Line::parse(text, Path::new("line.toml"))
    }

    #[test]
    fn the_example_line_parses() {
        let line = parse(EXAMPLE_LINE).unwrap();
        assert_eq!(line.stations.len(), 5);
        assert_eq!(line.buffers.len(), 4);
        assert!(line.stations.iter().any(|s| s.ai4i.is_some()));
        assert!(line.horizon.unwrap() > 0.0);
    }

    const ONE: &str = r#"
name = "t"
time_unit = "min"
[[stations]]
name = "a"
process = { dist = "fixed", value = 1.0 }
"#;

    #[test]
    fn a_line_without_stations_is_refused() {
        let err = parse("name = \"t\"\ntime_unit = \"min\"\nstations = []\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("no stations"), "{err}");
    }

    #[test]
    fn zero_or_negative_buffers_are_refused_with_their_index() {
        let two = format!(
            "{ONE}[[stations]]\nname = \"b\"\nprocess = {{ dist = \"fixed\", value = 1.0 }}\n"
        );
        for cap in ["0", "-3"] {
            let text = format!("buffers = [{cap}]\n{two}");
            let err = parse(&text).unwrap_err().to_string();
            assert!(err.contains("buffers[0]") && err.contains(cap), "{err}");
        }
        assert!(parse(&format!("buffers = [2]\n{two}")).is_ok());
    }

    #[test]
    fn invalid_distributions_name_the_station_and_parameter() {
        let neg = ONE.replace(
            "{ dist = \"fixed\", value = 1.0 }",
            "{ dist = \"exponential\", mean = -2.0 }",
        );
        let err = parse(&neg).unwrap_err().to_string();
        assert!(
            err.contains("stations[0] (a).process") && err.contains("mean"),
            "{err}"
        );
        let tri = ONE.replace(
            "{ dist = \"fixed\", value = 1.0 }",
            "{ dist = \"triangular\", min = 5.0, mode = 4.0, max = 2.0 }",
        );
        let err = parse(&tri).unwrap_err().to_string();
        assert!(err.contains("min (5) must not exceed max (2)"), "{err}");
    }

    #[test]
    fn empirical_lake_columns_are_listed_filled_and_required() {
        let text = ONE.replace(
            "{ dist = \"fixed\", value = 1.0 }",
            "{ dist = \"empirical\", dataset = \"times\", column = \"minutes\", version = 2 }",
        );
        let file = Line::parse_file(&text, Path::new("l.toml")).unwrap();
        let cols = file.lake_columns();
        assert_eq!(cols.len(), 1);
        assert_eq!(cols[0].dataset, "times");
        let err = Line::parse(&text, Path::new("l.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("stations[0] (a).process") && err.contains("times"),
            "{err}"
        );
        let mut map = HashMap::new();
        map.insert(cols[0].clone(), vec![1.0, 3.0]);
        let line = Line::build(file, &text, Path::new("l.toml"), &map).unwrap();
        assert_eq!(line.stations[0].process_mean, 2.0);
        assert!(
            line.lake_inputs[0].contains("times"),
            "{:?}",
            line.lake_inputs
        );
    }

    #[test]
    fn zero_horizon_is_refused() {
        let err = parse(&format!("horizon = 0\n{ONE}"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("horizon") && err.contains("> 0"), "{err}");
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let bad = ONE.replace("name = \"a\"", "name = \"a");
        let err = parse(&bad).unwrap_err().to_string();
        assert!(err.contains("line 5, column 10"), "{err}");
        assert!(err.contains("line.toml"), "{err}");
    }
}
