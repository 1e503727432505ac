//! AI4I-style sensor and failure records from the twin's physics (`twin emit`), for training models.

use std::io::Write;

use millwright_core::{ProgressHandle, Unit};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::error::TwinError;
use crate::line::{Ai4iModel, Line};
use crate::measure::Sensors;
use crate::physics::{
    FailureMode, FailureRules, SensorProcess, SensorSnapshot, Variant, EMITTED_COLUMNS, HIDDEN_BIT,
};
use crate::sim::stream;

/// Most rows one emission writes: about 70 GB of CSV, far beyond a training set.
pub const MAX_EMIT_ROWS: u64 = 1_000_000_000;

/// Rows between two progress reports.
const REPORT_EVERY: u64 = 1 << 16;

/// What to emit: `rows` records (1 to [`MAX_EMIT_ROWS`]) drawn with `seed`.
#[derive(Debug, Clone)]
pub struct EmitOptions {
    pub rows: u64,
    pub seed: u64,
    /// Receives stage `emitting` (total: rows) and the rows written, every 65,536 rows and at the end.
    pub progress: ProgressHandle,
}

impl EmitOptions {
    pub fn new(rows: u64, seed: u64) -> EmitOptions {
        EmitOptions {
            rows,
            seed,
            progress: ProgressHandle::default(),
        }
    }
}

/// Counts of what was written.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct EmitSummary {
    pub rows: u64,
    pub station: String,
    pub machine_failures: u64,
    /// TWF, HDF, PWF, OSF, RNF.
    pub by_mode: [u64; 5],
    /// Failures from the hidden cause (machine failure with no mode flag).
    pub hidden: u64,
}

/// The AI4I defaults, for lines without an AI4I station.
fn default_ai4i() -> Ai4iModel {
    let d = crate::dist::DistSpec::Fixed { value: 0.0 }.sampler();
    Ai4iModel {
        rules: FailureRules::default(),
        wear_per_part: [2.0, 3.0, 5.0],
        life_min: 200.0,
        life_max: 240.0,
        tool_failure_share: 0.425,
        random_failure: 0.001,
        repair: [d.clone(), d.clone(), d.clone(), d.clone(), d],
        sensors: None,
        hidden: None,
    }
}

/// One decimal, as the AI4I file writes temperatures and torque.
fn one_decimal(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Consecutive parts on one AI4I station: its sensors, its tool and the line's product mix.
struct Machine<'a> {
    line: &'a Line,
    ai: Ai4iModel,
    rng_mix: ChaCha8Rng,
    rng_sensors: ChaCha8Rng,
    rng_tool: ChaCha8Rng,
    rng_random: ChaCha8Rng,
    rng_hidden: ChaCha8Rng,
    sensors: SensorProcess,
    meter: Option<Sensors>,
    wear: f64,
    life: f64,
    /// Parts since the last hidden-cause failure (no maintenance here).
    hidden_parts: u64,
    /// Parts emitted so far × `cycle` is the clock the sensors drift on.
    parts: u64,
    cycle: f64,
}

impl<'a> Machine<'a> {
    /// `cycle`: the station's mean processing time, one part's step of the drift clock.
    fn new(line: &'a Line, ai: Ai4iModel, cycle: f64, seed: u64) -> Machine<'a> {
        // Stream ids apart from the simulation's replications; purposes as in `sim`.
        let s = |purpose| stream(seed, u64::from(u32::MAX), 0, purpose);
        let (mut rng_sensors, mut rng_tool) = (s(4), s(5));
        let sensors = SensorProcess::new(&mut rng_sensors);
        let life = rng_tool.random_range(ai.life_min..=ai.life_max);
        let meter = ai.sensors.map(|m| Sensors::new(m, s(10), s(11)));
        Machine {
            line,
            ai,
            rng_mix: s(8),
            rng_sensors,
            rng_tool,
            rng_random: s(6),
            rng_hidden: s(12),
            sensors,
            meter,
            wear: 0.0,
            life,
            hidden_parts: 0,
            parts: 0,
            cycle,
        }
    }

    /// The next part: its variant, what its sensors measure rounded as the AI4I file rounds them, and
    /// the failure flags the rules give on the rounded TRUE values (the measurement without noise or
    /// drift). The tool wears per part and is changed at the end of its life (swapped, or broken: TWF),
    /// as in AI4I, and when an overstrain failure (OSF) is repaired, as in the twin.
    fn next_part(&mut self) -> (Variant, SensorSnapshot, u8) {
        let ai = &self.ai;
        let variant = self.line.variant_of(self.rng_mix.random());
        let mut tool_breaks = false;
        if self.wear >= self.life {
            if self.rng_tool.random::<f64>() < ai.tool_failure_share {
                tool_breaks = true;
            } else {
                self.wear = 0.0;
                self.life = self.rng_tool.random_range(ai.life_min..=ai.life_max);
            }
        }
        let raw = self.sensors.next(&mut self.rng_sensors, variant, self.wear);
        let truth = rounded(&raw);
        let mut flags = ai
            .rules
            .deterministic_flags(&truth, variant.default_overstrain_limit());
        if tool_breaks {
            flags |= FailureMode::Twf.bit();
        }
        if self.rng_random.random::<f64>() < ai.random_failure {
            flags |= FailureMode::Rnf.bit();
        }
        if let Some(h) = &ai.hidden {
            if h.fails(&mut self.rng_hidden, self.hidden_parts) {
                flags |= HIDDEN_BIT;
            }
        }
        let t = self.parts as f64 * self.cycle;
        let measured = match self.meter.as_mut() {
            Some(m) => rounded(&m.measure(&raw, t)),
            None => truth,
        };
        self.parts += 1;
        self.hidden_parts = if flags & HIDDEN_BIT != 0 {
            0
        } else {
            self.hidden_parts + 1
        };
        self.wear += ai.wear_for(variant);
        // The repair of a broken or overstrained tool puts in a new one, as the twin's repair does, so
        // the records follow the process the model is later judged on.
        if flags & (FailureMode::Twf.bit() | FailureMode::Osf.bit()) != 0 {
            self.wear = 0.0;
            self.life = self.rng_tool.random_range(ai.life_min..=ai.life_max);
        }
        (variant, measured, flags)
    }
}

/// A snapshot rounded as the AI4I file writes it: temperatures and torque to 0.1, speed and tool
/// wear to whole numbers.
pub(crate) fn rounded(raw: &SensorSnapshot) -> SensorSnapshot {
    SensorSnapshot {
        product_type: raw.product_type,
        air_temperature_k: one_decimal(raw.air_temperature_k),
        process_temperature_k: one_decimal(raw.process_temperature_k),
        rotational_speed_rpm: raw.rotational_speed_rpm.round(),
        torque_nm: one_decimal(raw.torque_nm),
        tool_wear_min: raw.tool_wear_min.round(),
    }
}

/// Writes `options.rows` records (header first) of consecutive parts machined on the line's first
/// AI4I station (AI4I defaults if it has none), with the line's product mix. The written sensor
/// columns are what the station's sensors measure (with their noise and drift, the drift clock
/// advancing by the station's mean processing time per part); the failure label and mode flags come
/// from the true state, rounded as in the AI4I file before the rules are applied, so on a line
/// without sensor noise the written columns reproduce the flags exactly. A hidden-cause failure is
/// a machine failure with no mode flag.
pub fn emit_records<W: Write>(
    line: &Line,
    options: &EmitOptions,
    mut out: W,
) -> Result<EmitSummary, TwinError> {
    let io = |e: std::io::Error| TwinError::io("emitted records", e);
    let rows = options.rows;
    if rows == 0 {
        return Err(TwinError::NoRows);
    }
    if rows > MAX_EMIT_ROWS {
        return Err(TwinError::TooManyRows {
            rows,
            limit: MAX_EMIT_ROWS,
        });
    }
    let (station, ai, cycle) = match line.stations.iter().find(|s| s.ai4i.is_some()) {
        Some(s) => (
            s.name.clone(),
            s.ai4i.clone().expect("found"),
            s.process_mean,
        ),
        None => ("AI4I defaults".to_string(), default_ai4i(), 0.0),
    };
    let mut machine = Machine::new(line, ai, cycle, options.seed);
    let mut summary = EmitSummary {
        station,
        ..Default::default()
    };
    let progress = &options.progress;
    progress.stage("emitting", Some(rows), Unit::Rows);
    let mut w = std::io::BufWriter::new(&mut out);
    writeln!(w, "{}", EMITTED_COLUMNS.join(",")).map_err(io)?;
    for udi in 1..=rows {
        let (variant, snap, flags) = machine.next_part();
        write_record(&mut w, udi, variant, &snap, flags).map_err(io)?;
        summary.rows += 1;
        summary.machine_failures += u64::from(flags != 0);
        summary.hidden += u64::from(flags & HIDDEN_BIT != 0);
        for (k, m) in FailureMode::ALL.iter().enumerate() {
            summary.by_mode[k] += u64::from(flags & m.bit() != 0);
        }
        if udi.is_multiple_of(REPORT_EVERY) {
            progress.advance(udi);
        }
    }
    w.flush().map_err(io)?;
    if !rows.is_multiple_of(REPORT_EVERY) {
        progress.advance(rows);
    }
    Ok(summary)
}

/// One CSV line in the AI4I layout of [`EMITTED_COLUMNS`].
fn write_record(
    w: &mut impl Write,
    udi: u64,
    variant: Variant,
    snap: &SensorSnapshot,
    flags: u8,
) -> std::io::Result<()> {
    let bit = |m: FailureMode| u8::from(flags & m.bit() != 0);
    writeln!(
        w,
        "{udi},{}{},{},{:.1},{:.1},{},{:.1},{},{},{},{},{},{},{}",
        variant.letter(),
        10_000 + udi,
        variant.letter(),
        snap.air_temperature_k,
        snap.process_temperature_k,
        snap.rotational_speed_rpm,
        snap.torque_nm,
        snap.tool_wear_min,
        u8::from(flags != 0),
        bit(FailureMode::Twf),
        bit(FailureMode::Hdf),
        bit(FailureMode::Pwf),
        bit(FailureMode::Osf),
        bit(FailureMode::Rnf),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line::EXAMPLE_LINE;
    use std::path::Path;
    use std::sync::{Arc, Mutex};

    #[derive(Default)]
    struct Counts(Mutex<Vec<u64>>);
    impl millwright_core::Progress for Counts {
        fn advance(&self, done: u64) {
            self.0.lock().unwrap().push(done);
        }
    }

    #[test]
    fn large_emissions_report_rows_written_and_absurd_ones_are_refused() {
        let line = Line::parse(EXAMPLE_LINE, Path::new("l.toml")).unwrap();
        let counts = Arc::new(Counts::default());
        let options = EmitOptions {
            progress: ProgressHandle::new(counts.clone()),
            ..EmitOptions::new(150_000, 1)
        };
        emit_records(&line, &options, std::io::sink()).unwrap();
        assert_eq!(*counts.0.lock().unwrap(), [65_536, 131_072, 150_000]);
        let err = emit_records(
            &line,
            &EmitOptions::new(MAX_EMIT_ROWS + 1, 1),
            std::io::sink(),
        )
        .unwrap_err();
        assert!(matches!(err, TwinError::TooManyRows { .. }), "{err}");
    }
}
