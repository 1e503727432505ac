//! AI4I-style sensor and failure records from the twin's physics (`twin emit`), for training models.

use std::io::Write;

use rand::Rng;

use crate::error::TwinError;
use crate::line::{Ai4iModel, Line};
use crate::physics::{FailureMode, FailureRules, SensorProcess, SensorSnapshot, EMITTED_COLUMNS};
use crate::sim::stream;

/// Counts of what was written.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct EmitSummary {
    pub rows: u64,
    pub station: String,
    pub machine_failures: u64,
    /// TWF, HDF, PWF, OSF, RNF.
    pub by_mode: [u64; 5],
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
    }
}

/// One decimal, as the AI4I file writes temperatures and torque.
fn one_decimal(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Writes `rows` records (header first) of consecutive parts machined on the line's first AI4I
/// station (AI4I defaults if it has none), with the line's product mix: the tool wears per part,
/// is swapped or breaks at the end of its life (AI4I changes tools only then).
/// Values are rounded as in the AI4I file before the rules are applied, so the written columns
/// reproduce the flags exactly.
pub fn emit_records<W: Write>(
    line: &Line,
    rows: u64,
    seed: u64,
    mut out: W,
) -> Result<EmitSummary, TwinError> {
    let io = |e: std::io::Error| TwinError::io("emitted records", e);
    if rows == 0 {
        return Err(TwinError::Usage("rows must be at least 1".into()));
    }
    let (station, ai) = match line.stations.iter().find(|s| s.ai4i.is_some()) {
        Some(s) => (s.name.clone(), s.ai4i.clone().expect("found")),
        None => ("AI4I defaults".to_string(), default_ai4i()),
    };
    // Stream ids apart from the simulation's replications.
    let mut rng_mix = stream(seed, u64::from(u32::MAX), 0, 8);
    let mut rng_sensors = stream(seed, u64::from(u32::MAX), 0, 4);
    let mut rng_tool = stream(seed, u64::from(u32::MAX), 0, 5);
    let mut rng_random = stream(seed, u64::from(u32::MAX), 0, 6);
    let mut sensors = SensorProcess::new(&mut rng_sensors);
    let mut wear = 0.0f64;
    let mut life = rng_tool.random_range(ai.life_min..=ai.life_max);
    let mut summary = EmitSummary {
        station,
        ..Default::default()
    };
    let mut w = std::io::BufWriter::new(&mut out);
    writeln!(w, "{}", EMITTED_COLUMNS.join(",")).map_err(io)?;
    for udi in 1..=rows {
        let variant = line.variant_of(rng_mix.random());
        let mut tool_breaks = false;
        if wear >= life {
            if rng_tool.random::<f64>() < ai.tool_failure_share {
                tool_breaks = true;
            } else {
                wear = 0.0;
                life = rng_tool.random_range(ai.life_min..=ai.life_max);
            }
        }
        let raw = sensors.next(&mut rng_sensors, variant, wear);
        let snap = SensorSnapshot {
            product_type: variant,
            air_temperature_k: one_decimal(raw.air_temperature_k),
            process_temperature_k: one_decimal(raw.process_temperature_k),
            rotational_speed_rpm: raw.rotational_speed_rpm.round(),
            torque_nm: one_decimal(raw.torque_nm),
            tool_wear_min: wear.round(),
        };
        let mut flags = ai
            .rules
            .deterministic_flags(&snap, variant.default_overstrain_limit());
        if tool_breaks {
            flags |= FailureMode::Twf.bit();
        }
        if rng_random.random::<f64>() < ai.random_failure {
            flags |= FailureMode::Rnf.bit();
        }
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
        .map_err(io)?;
        summary.rows += 1;
        summary.machine_failures += u64::from(flags != 0);
        for (k, m) in FailureMode::ALL.iter().enumerate() {
            summary.by_mode[k] += u64::from(bit(*m));
        }
        wear += ai.wear_for(variant);
        // As in AI4I, only the end of the tool's life (TWF) changes the tool; overstrain does not.
        if flags & FailureMode::Twf.bit() != 0 {
            wear = 0.0;
            life = rng_tool.random_range(ai.life_min..=ai.life_max);
        }
    }
    w.flush().map_err(io)?;
    Ok(summary)
}
