//! From a parsed line file to a validated [`Line`]: one validator per section of the file (the line's
//! own settings, mix, arrivals, buffers, stations, planned stops, the preventive setting, costs), each
//! refusing with the section and the field's path in the file.

use std::collections::HashSet;
use std::path::Path;

use millwright_core::BusinessInputs;
use sha2::{Digest, Sha256};

use crate::dist::{DistSpec, Sampler};
use crate::error::{Section, TwinError};
use crate::line::{
    Ai4iFile, Ai4iModel, Costs, HiddenFile, Line, LineFile, Mix, PlannedStop, PlannedStopFile,
    PreventiveFile, SensorsFile, StationFile, StationModel, TimeFailures, WearPerPart,
};
use crate::measure::{HiddenModel, SensorModel, DRIFT_PERIOD_HOURS, READINGS};
use crate::physics::FailureRules;
use crate::policy::{PreventiveDefault, PreventiveSetting, CURRENT_POLICY_NAMES};
use crate::time::{DurationSpec, TimeUnit};

/// Most stations a line can have: the engine's events and Gantt segments index stations with 16 bits,
/// and index 0xFFFF names the line's own random streams (product mix, arrivals).
pub const MAX_STATIONS: usize = 0xFFFF;
/// Most planned stops a line can have: the engine's events index them with 16 bits.
pub const MAX_PLANNED_STOPS: usize = u16::MAX as usize + 1;

pub(crate) fn line_from_file(file: LineFile, text: &str, path: &Path) -> Result<Line, TwinError> {
    let v = Validator {
        path,
        unit: file.time_unit,
    };
    v.counts(&file)?;
    let (horizon, warmup) = v.line(&file)?;
    v.current_policy(file.current_policy.as_deref())?;
    let mix_cdf = v.mix(&file.mix)?;
    let arrivals = v.arrivals(file.arrivals.as_ref())?;
    let buffers = v.buffers(&file.buffers, file.stations.len())?;
    let stations = v.stations(&file.stations)?;
    let planned_stops = v.planned_stops(&file.planned_stops)?;
    let preventive = v.preventive(file.preventive.as_ref(), &stations)?;
    v.costs(&file.costs)?;
    v.business(file.business.as_ref())?;
    Ok(Line {
        source: text.to_string(),
        source_sha256: format!("{:x}", Sha256::digest(text.as_bytes())),
        file,
        horizon,
        warmup,
        mix_cdf,
        arrivals,
        buffers,
        stations,
        planned_stops,
        preventive,
        lake_inputs: Vec::new(),
    })
}

struct Validator<'a> {
    path: &'a Path,
    unit: TimeUnit,
}

impl Validator<'_> {
    fn invalid(&self, section: Section, field: impl Into<String>, message: String) -> TwinError {
        TwinError::Invalid {
            path: self.path.to_path_buf(),
            section,
            field: field.into(),
            message,
        }
    }

    fn dist(&self, section: Section, field: String, d: &DistSpec) -> Result<Sampler, TwinError> {
        d.validate().map_err(|source| TwinError::Distribution {
            path: self.path.to_path_buf(),
            section,
            field,
            source,
        })?;
        Ok(d.sampler())
    }

    /// A duration in base units, not negative.
    fn duration(&self, section: Section, field: &str, d: &DurationSpec) -> Result<f64, TwinError> {
        let v = d
            .to_units(self.unit)
            .map_err(|e| self.invalid(section, field, e.to_string()))?;
        if v < 0.0 {
            let message = format!("must not be negative, got {v}");
            return Err(self.invalid(section, field, message));
        }
        Ok(v)
    }

    /// At least one station, and no more stations or planned stops than the engine can index.
    fn counts(&self, file: &LineFile) -> Result<(), TwinError> {
        if file.stations.is_empty() {
            let message = "the line has no stations; add at least one [[stations]] table".into();
            return Err(self.invalid(Section::Stations, "stations", message));
        }
        for (section, count, limit) in [
            (Section::Stations, file.stations.len(), MAX_STATIONS),
            (
                Section::PlannedStops,
                file.planned_stops.len(),
                MAX_PLANNED_STOPS,
            ),
        ] {
            if count > limit {
                return Err(TwinError::TooMany {
                    path: self.path.to_path_buf(),
                    section,
                    count,
                    limit,
                });
            }
        }
        Ok(())
    }

    /// The line's own settings: `horizon` (> 0) and `warmup`.
    fn line(&self, file: &LineFile) -> Result<(Option<f64>, Option<f64>), TwinError> {
        let horizon = match &file.horizon {
            Some(h) => {
                let v = self.duration(Section::Line, "horizon", h)?;
                if v <= 0.0 {
                    let message = format!("must be > 0, got {v}");
                    return Err(self.invalid(Section::Line, "horizon", message));
                }
                Some(v)
            }
            None => None,
        };
        let warmup = file
            .warmup
            .as_ref()
            .map(|w| self.duration(Section::Line, "warmup", w))
            .transpose()?;
        Ok((horizon, warmup))
    }

    /// `current_policy`: a policy the twin builds without a model.
    fn current_policy(&self, name: Option<&str>) -> Result<(), TwinError> {
        match name {
            Some(n) if !CURRENT_POLICY_NAMES.contains(&n) => {
                let message = format!(
                    "must be one of {} (a practice the twin simulates without a model), got {n:?}",
                    CURRENT_POLICY_NAMES.join(", ")
                );
                Err(self.invalid(Section::Line, "current_policy", message))
            }
            _ => Ok(()),
        }
    }

    /// Shares of L, M and H: not negative, a positive sum; returned as a cumulative distribution.
    fn mix(&self, mix: &Mix) -> Result<[f64; 3], TwinError> {
        let m = [mix.l, mix.m, mix.h];
        if m.iter().any(|s| !s.is_finite() || *s < 0.0) || m.iter().sum::<f64>() <= 0.0 {
            let message = format!(
                "shares must be >= 0 with a positive sum, got L={} M={} H={}",
                m[0], m[1], m[2]
            );
            return Err(self.invalid(Section::Mix, "mix", message));
        }
        let total: f64 = m.iter().sum();
        Ok([m[0] / total, (m[0] + m[1]) / total, 1.0])
    }

    /// The time between arrivals; a zero mean would flood the line at one instant.
    fn arrivals(&self, arrivals: Option<&DistSpec>) -> Result<Option<Sampler>, TwinError> {
        let Some(a) = arrivals else { return Ok(None) };
        let sampler = self.dist(Section::Arrivals, "arrivals".into(), a)?;
        if a.mean() <= 0.0 {
            let message = format!(
                "the mean time between arrivals must be > 0, got {}",
                a.mean()
            );
            return Err(self.invalid(Section::Arrivals, "arrivals", message));
        }
        Ok(Some(sampler))
    }

    /// One capacity of at least 1 between each pair of stations.
    fn buffers(&self, buffers: &[i64], stations: usize) -> Result<Vec<usize>, TwinError> {
        let gaps = stations - 1;
        if buffers.len() != gaps {
            let message = format!(
                "{stations} station(s) need {gaps} buffer capacit(ies) (one between each pair), got {}",
                buffers.len()
            );
            return Err(self.invalid(Section::Buffers, "buffers", message));
        }
        buffers
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                usize::try_from(b).ok().filter(|&b| b > 0).ok_or_else(|| {
                    let message = format!("a buffer capacity must be at least 1, got {b}");
                    self.invalid(Section::Buffers, format!("buffers[{i}]"), message)
                })
            })
            .collect()
    }

    /// Every station (unique names), and at least one that takes time: with none the simulated clock
    /// would never advance.
    fn stations(&self, stations: &[StationFile]) -> Result<Vec<StationModel>, TwinError> {
        let mut names = HashSet::new();
        let mut models = Vec::with_capacity(stations.len());
        for (i, s) in stations.iter().enumerate() {
            let model = self.station(i, s)?;
            if !names.insert(s.name.as_str()) {
                let field = format!("stations[{i}] ({}).name", s.name);
                return Err(self.invalid(
                    Section::Stations,
                    field,
                    "duplicate station name".into(),
                ));
            }
            models.push(model);
        }
        if models.iter().all(|m| m.process_mean <= 0.0) {
            let message =
                "every station processes in zero time, so simulated time would never advance"
                    .into();
            return Err(self.invalid(Section::Stations, "stations", message));
        }
        Ok(models)
    }

    fn station(&self, i: usize, s: &StationFile) -> Result<StationModel, TwinError> {
        let at = |f: &str| format!("stations[{i}] ({}).{f}", s.name);
        if s.name.trim().is_empty() {
            let field = format!("stations[{i}].name");
            return Err(self.invalid(Section::Stations, field, "must not be empty".into()));
        }
        if !(0.0..=1.0).contains(&s.scrap) {
            let message = format!("a probability in [0, 1], got {}", s.scrap);
            return Err(self.invalid(Section::Stations, at("scrap"), message));
        }
        let (time_to_failure, repair, mean_time_to_failure) = match &s.failures {
            Some(f) => {
                let (ttf, repair) = self.time_failures(&at, f)?;
                (Some(ttf), Some(repair), Some(f.time_to_failure.mean()))
            }
            None => (None, None, None),
        };
        let maintenance = s
            .maintenance
            .as_ref()
            .map(|m| self.dist(Section::Stations, at("maintenance"), m))
            .transpose()?;
        Ok(StationModel {
            name: s.name.clone(),
            process: self.dist(Section::Stations, at("process"), &s.process)?,
            process_mean: s.process.mean(),
            scrap: s.scrap,
            time_to_failure,
            repair,
            mean_time_to_failure,
            ai4i: s.ai4i.as_ref().map(|a| self.ai4i(&at, a)).transpose()?,
            maintenance,
        })
    }

    /// Calendar-time failures: a time to failure with a positive mean, and a repair time.
    fn time_failures(
        &self,
        at: &dyn Fn(&str) -> String,
        f: &TimeFailures,
    ) -> Result<(Sampler, Sampler), TwinError> {
        let field = at("failures.time_to_failure");
        let ttf = self.dist(Section::Stations, field.clone(), &f.time_to_failure)?;
        let repair = self.dist(Section::Stations, at("failures.repair"), &f.repair)?;
        if f.time_to_failure.mean() <= 0.0 {
            return Err(self.invalid(Section::Stations, field, "mean must be > 0".into()));
        }
        Ok((ttf, repair))
    }

    /// AI4I physics: tool life, probabilities, wear per part and a repair time per failure mode.
    fn ai4i(&self, at: &dyn Fn(&str) -> String, a: &Ai4iFile) -> Result<Ai4iModel, TwinError> {
        let invalid = |f: &str, message: String| self.invalid(Section::Stations, at(f), message);
        let [lo, hi] = a.tool_life;
        if !(lo.is_finite() && hi.is_finite() && lo > 0.0 && lo <= hi) {
            let message = format!("need 0 < min <= max, got [{lo}, {hi}]");
            return Err(invalid("ai4i.tool_life", message));
        }
        for (name, p) in [
            ("tool_failure_share", a.tool_failure_share),
            ("random_failure", a.random_failure),
        ] {
            if !(0.0..=1.0).contains(&p) {
                let message = format!("a probability in [0, 1], got {p}");
                return Err(invalid(&format!("ai4i.{name}"), message));
            }
        }
        let w = a.wear_per_part.unwrap_or(WearPerPart {
            l: 2.0,
            m: 3.0,
            h: 5.0,
        });
        for (name, v) in [("L", w.l), ("M", w.m), ("H", w.h)] {
            if !v.is_finite() || v < 0.0 {
                let message = format!("must be >= 0, got {v}");
                return Err(invalid(&format!("ai4i.wear_per_part.{name}"), message));
            }
        }
        let r = &a.repair;
        let repair = |mode: &str, d: &DistSpec| {
            self.dist(Section::Stations, at(&format!("ai4i.repair.{mode}")), d)
        };
        let rnf = repair("RNF", &r.rnf)?;
        let sensors = a
            .sensors
            .as_ref()
            .map(|x| self.sensors(at, x))
            .transpose()?;
        let hidden = a
            .hidden
            .as_ref()
            .map(|h| self.hidden(at, h, &rnf))
            .transpose()?;
        Ok(Ai4iModel {
            rules: FailureRules::default(),
            wear_per_part: [w.l, w.m, w.h],
            life_min: lo,
            life_max: hi,
            tool_failure_share: a.tool_failure_share,
            random_failure: a.random_failure,
            repair: [
                repair("TWF", &r.twf)?,
                repair("HDF", &r.hdf)?,
                repair("PWF", &r.pwf)?,
                repair("OSF", &r.osf)?,
                rnf,
            ],
            sensors,
            hidden,
        })
    }

    /// `ai4i.sensors`: noise SDs and drift rates finite and >= 0 (a drift's sign is drawn), a
    /// calibration period > 0. Drift is converted from per 30 days to per base unit.
    fn sensors(
        &self,
        at: &dyn Fn(&str) -> String,
        x: &SensorsFile,
    ) -> Result<SensorModel, TwinError> {
        let invalid = |f: String, message: String| self.invalid(Section::Stations, at(&f), message);
        for (table, values, what) in [
            ("noise", x.noise, "a standard deviation"),
            ("drift", x.drift, "a drift per 30 days (its sign is drawn)"),
        ] {
            for (name, v) in READINGS.iter().zip(values.to_array()) {
                if !v.is_finite() || v < 0.0 {
                    let message = format!("{what}: must be a finite number >= 0, got {v}");
                    return Err(invalid(format!("ai4i.sensors.{table}.{name}"), message));
                }
            }
        }
        let field = "ai4i.sensors.calibration";
        let calibration = match &x.calibration {
            Some(d) => self.duration(Section::Stations, &at(field), d)?,
            None => f64::INFINITY,
        };
        if calibration <= 0.0 {
            let message = format!("must be > 0, got {calibration}");
            return Err(invalid(field.into(), message));
        }
        let per_unit = DRIFT_PERIOD_HOURS * self.unit.units_per_hour();
        Ok(SensorModel {
            noise: x.noise.to_array(),
            drift: x.drift.to_array().map(|d| d / per_unit),
            calibration,
        })
    }

    /// `ai4i.hidden`: probabilities in [0, 1]; the repair defaults to the RNF one.
    fn hidden(
        &self,
        at: &dyn Fn(&str) -> String,
        h: &HiddenFile,
        rnf: &Sampler,
    ) -> Result<HiddenModel, TwinError> {
        for (name, p) in [("base", h.base), ("growth", h.growth)] {
            if !(0.0..=1.0).contains(&p) {
                let message = format!("a probability per part in [0, 1], got {p}");
                return Err(self.invalid(
                    Section::Stations,
                    at(&format!("ai4i.hidden.{name}")),
                    message,
                ));
            }
        }
        let repair = match &h.repair {
            Some(d) => self.dist(Section::Stations, at("ai4i.hidden.repair"), d)?,
            None => rnf.clone(),
        };
        Ok(HiddenModel {
            base: h.base,
            growth: h.growth,
            repair,
        })
    }

    /// Each stop lies within its period: `start + duration <= every`. Zero-length stops are dropped.
    fn planned_stops(&self, stops: &[PlannedStopFile]) -> Result<Vec<PlannedStop>, TwinError> {
        let mut out = Vec::new();
        for (i, p) in stops.iter().enumerate() {
            let at = |f: &str| format!("planned_stops[{i}] ({}).{f}", p.name);
            let section = Section::PlannedStops;
            let every = self.duration(section, &at("every"), &p.every)?;
            let start = self.duration(section, &at("start"), &p.start)?;
            let duration = self.duration(section, &at("duration"), &p.duration)?;
            if every <= 0.0 || start + duration > every {
                let message = format!(
                    "need every > 0 and start + duration <= every, got every={every} start={start} duration={duration}"
                );
                return Err(self.invalid(section, at("every"), message));
            }
            if duration > 0.0 {
                out.push(PlannedStop {
                    every,
                    start,
                    duration,
                });
            }
        }
        Ok(out)
    }

    /// `[preventive]`: an interval (> 0) and/or a wear limit (> 0, on a line with AI4I stations).
    fn preventive(
        &self,
        p: Option<&PreventiveFile>,
        stations: &[StationModel],
    ) -> Result<Option<PreventiveSetting>, TwinError> {
        let Some(p) = p else { return Ok(None) };
        let section = Section::Preventive;
        if p.interval.is_none() && p.wear_limit.is_none() {
            let message = "give an `interval`, a `wear_limit` or both".into();
            return Err(self.invalid(section, "preventive", message));
        }
        let interval = match &p.interval {
            Some(d) => Some(self.duration(section, "preventive.interval", d)?),
            None => None,
        };
        if let Some(i) = interval.filter(|i| *i <= 0.0) {
            let message = format!("must be > 0, got {i}");
            return Err(self.invalid(section, "preventive.interval", message));
        }
        if let Some(w) = p.wear_limit {
            if !w.is_finite() || w <= 0.0 {
                let message = format!("must be > 0 tool-wear minutes, got {w}");
                return Err(self.invalid(section, "preventive.wear_limit", message));
            }
            if stations.iter().all(|s| s.ai4i.is_none()) {
                let message =
                    "a wear limit needs a station with [stations.ai4i] (tool wear)".into();
                return Err(self.invalid(section, "preventive.wear_limit", message));
            }
        }
        Ok(Some(PreventiveSetting {
            interval,
            wear_limit: p.wear_limit,
            source: PreventiveDefault::LineFile,
        }))
    }

    /// Every cost finite and not negative.
    fn costs(&self, c: &Costs) -> Result<(), TwinError> {
        for (name, v) in [
            ("part_value", c.part_value),
            ("operating_per_hour", c.operating_per_hour),
            ("downtime_per_hour", c.downtime_per_hour),
            ("corrective_repair", c.corrective_repair),
            ("preventive_maintenance", c.preventive_maintenance),
            ("scrap", c.scrap),
        ] {
            if !v.is_finite() || v < 0.0 {
                let message = format!("must be >= 0, got {v}");
                return Err(self.invalid(Section::Costs, format!("costs.{name}"), message));
            }
        }
        Ok(())
    }

    /// Amounts finite and not negative, a discount rate below 100 %, a currency label of a few letters.
    fn business(&self, b: Option<&BusinessInputs>) -> Result<(), TwinError> {
        let Some(b) = b else { return Ok(()) };
        let bad = |field: &str, message: String| {
            Err(self.invalid(Section::Business, format!("business.{field}"), message))
        };
        if let Some(v) = b.investment.filter(|v| !v.is_finite() || *v < 0.0) {
            return bad("investment", format!("must be >= 0, got {v}"));
        }
        if let Some(v) = b.discount_rate.filter(|v| !(0.0..1.0).contains(v)) {
            return bad("discount_rate", format!("must be in [0, 1), got {v}"));
        }
        if let Some(c) = b.currency.as_deref() {
            let label =
                !c.is_empty() && c.chars().count() <= 8 && c.chars().all(char::is_alphabetic);
            if !label {
                return bad(
                    "currency",
                    format!("must be a short label such as EUR or CNY, got {c:?}"),
                );
            }
        }
        Ok(())
    }
}
