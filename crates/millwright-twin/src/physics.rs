//! The AI4I 2020 machining process (Matzka 2020): simulated sensors per part and the five failure rules.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// The AI4I columns `twin emit` writes, in order; a model scored by the predictive policy may only
/// use the sensor columns among them.
pub const EMITTED_COLUMNS: &[&str] = &[
    "UDI",
    "Product ID",
    "Type",
    "Air temperature [K]",
    "Process temperature [K]",
    "Rotational speed [rpm]",
    "Torque [Nm]",
    "Tool wear [min]",
    "Machine failure",
    "TWF",
    "HDF",
    "PWF",
    "OSF",
    "RNF",
];

/// The columns of a `SensorSnapshot` (what a failure model may take as input).
pub const SENSOR_COLUMNS: &[&str] = &[
    "Type",
    "Air temperature [K]",
    "Process temperature [K]",
    "Rotational speed [rpm]",
    "Torque [Nm]",
    "Tool wear [min]",
];

/// Product quality variant (AI4I `Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Variant {
    L,
    M,
    H,
}

impl Variant {
    pub fn letter(self) -> &'static str {
        match self {
            Variant::L => "L",
            Variant::M => "M",
            Variant::H => "H",
        }
    }
    /// AI4I: each process adds 2 (L), 3 (M) or 5 (H) minutes of tool wear.
    pub fn default_tool_wear(self) -> f64 {
        match self {
            Variant::L => 2.0,
            Variant::M => 3.0,
            Variant::H => 5.0,
        }
    }
    /// AI4I overstrain limit on tool wear × torque, min·Nm.
    pub fn default_overstrain_limit(self) -> f64 {
        match self {
            Variant::L => 11_000.0,
            Variant::M => 12_000.0,
            Variant::H => 13_000.0,
        }
    }
}

/// The sensor state of a station as one part is about to be machined.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SensorSnapshot {
    pub product_type: Variant,
    pub air_temperature_k: f64,
    pub process_temperature_k: f64,
    pub rotational_speed_rpm: f64,
    pub torque_nm: f64,
    pub tool_wear_min: f64,
}

impl SensorSnapshot {
    /// Mechanical power, W (torque × angular speed).
    pub fn power_w(&self) -> f64 {
        self.torque_nm * self.rotational_speed_rpm * std::f64::consts::TAU / 60.0
    }
}

/// Failure modes in AI4I flag order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailureMode {
    Twf,
    Hdf,
    Pwf,
    Osf,
    Rnf,
}

impl FailureMode {
    pub const ALL: [FailureMode; 5] = [
        FailureMode::Twf,
        FailureMode::Hdf,
        FailureMode::Pwf,
        FailureMode::Osf,
        FailureMode::Rnf,
    ];
    pub fn bit(self) -> u8 {
        1 << self as u8
    }
    pub fn name(self) -> &'static str {
        match self {
            FailureMode::Twf => "TWF",
            FailureMode::Hdf => "HDF",
            FailureMode::Pwf => "PWF",
            FailureMode::Osf => "OSF",
            FailureMode::Rnf => "RNF",
        }
    }
    /// First mode set in `flags` (the cause a repair is attributed to).
    pub fn first(flags: u8) -> Option<FailureMode> {
        Self::ALL.into_iter().find(|m| flags & m.bit() != 0)
    }
}

/// The failure-flag bit of the cause the sensors do not show (`[stations.ai4i.hidden]`): beside the
/// AI4I mode bits, which it never sets (an emitted record shows a machine failure with no mode).
pub const HIDDEN_BIT: u8 = 1 << 5;

/// Thresholds of the deterministic AI4I rules (HDF, PWF, OSF).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FailureRules {
    pub min_temp_diff_k: f64,
    pub max_speed_rpm: f64,
    pub power_min_w: f64,
    pub power_max_w: f64,
}

impl Default for FailureRules {
    fn default() -> Self {
        FailureRules {
            min_temp_diff_k: 8.6,
            max_speed_rpm: 1380.0,
            power_min_w: 3500.0,
            power_max_w: 9000.0,
        }
    }
}

impl FailureRules {
    /// Flags of the HDF, PWF and OSF rules for one snapshot (`overstrain_limit` by variant).
    pub fn deterministic_flags(&self, s: &SensorSnapshot, overstrain_limit: f64) -> u8 {
        let mut flags = 0;
        if s.process_temperature_k - s.air_temperature_k < self.min_temp_diff_k
            && s.rotational_speed_rpm < self.max_speed_rpm
        {
            flags |= FailureMode::Hdf.bit();
        }
        let p = s.power_w();
        if p < self.power_min_w || p > self.power_max_w {
            flags |= FailureMode::Pwf.bit();
        }
        if s.tool_wear_min * s.torque_nm > overstrain_limit {
            flags |= FailureMode::Osf.bit();
        }
        flags
    }
}

/// Mean rotational speed for a torque, calibrated on the AI4I file (bin means of 5 Nm torque bins,
/// linear in between): AI4I derives speed from a power set-point, which makes speed fall with torque.
const SPEED_CURVE: [(f64, f64); 16] = [
    (2.5, 2874.0),
    (7.5, 2750.0),
    (12.5, 2505.0),
    (17.5, 2120.0),
    (22.5, 1880.0),
    (27.5, 1721.0),
    (32.5, 1619.0),
    (37.5, 1534.0),
    (42.5, 1471.0),
    (47.5, 1424.0),
    (52.5, 1383.0),
    (57.5, 1352.0),
    (62.5, 1319.0),
    (67.5, 1291.0),
    (72.5, 1284.0),
    (77.5, 1254.0),
];
/// Spread of speed around the curve (AI4I within-bin SD where the curve is flat).
const SPEED_NOISE_RPM: f64 = 52.0;

fn mean_speed(torque: f64) -> f64 {
    let (first, last) = (SPEED_CURVE[0], SPEED_CURVE[SPEED_CURVE.len() - 1]);
    if torque <= first.0 {
        return first.1;
    }
    if torque >= last.0 {
        return last.1;
    }
    let i = SPEED_CURVE.partition_point(|&(t, _)| t <= torque);
    let (t0, v0) = SPEED_CURVE[i - 1];
    let (t1, v1) = SPEED_CURVE[i];
    v0 + (v1 - v0) * (torque - t0) / (t1 - t0)
}

/// Per-station sensor process: air and process temperatures as slow mean-reverting random walks
/// (AR(1), so they stay normalised around 300 K ± 2 K and air + 10 K, difference ± 1 K), torque ~ N(40, 10) Nm
/// kept positive, speed from the torque curve plus noise.
#[derive(Debug, Clone)]
pub struct SensorProcess {
    air_dev: f64,
    proc_dev: f64,
}

/// Per-part reversion of the temperature walks: a correlation time of about 200 parts.
const WALK_REVERSION: f64 = 0.005;
const AIR_MEAN_K: f64 = 300.0;
const AIR_SD_K: f64 = 2.0;
const PROCESS_OFFSET_K: f64 = 10.0;
/// Process temperature follows air temperature only partly: in the AI4I file its SD is 1.48 K and
/// its correlation with air 0.876, i.e. process = 310 K + 0.648 (air - 300 K) + a walk of SD 0.71 K,
/// which keeps the process-air difference at 10 K with SD 1 K (what the HDF rule sees).
const PROCESS_AIR_SLOPE: f64 = 0.648;
const PROCESS_SD_K: f64 = 0.71;
const TORQUE_MEAN_NM: f64 = 40.0;
const TORQUE_SD_NM: f64 = 10.0;

impl SensorProcess {
    /// Starts the walks at a draw from their stationary distribution.
    pub fn new<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let a: f64 = StandardNormal.sample(rng);
        let b: f64 = StandardNormal.sample(rng);
        SensorProcess {
            air_dev: a * AIR_SD_K,
            proc_dev: b * PROCESS_SD_K,
        }
    }

    /// Advances the walks by one part and draws that part's torque and speed.
    pub fn next<R: Rng + ?Sized>(
        &mut self,
        rng: &mut R,
        variant: Variant,
        tool_wear_min: f64,
    ) -> SensorSnapshot {
        let keep = 1.0 - WALK_REVERSION;
        let innovation = (1.0 - keep * keep).sqrt();
        let z1: f64 = StandardNormal.sample(rng);
        let z2: f64 = StandardNormal.sample(rng);
        self.air_dev = keep * self.air_dev + innovation * AIR_SD_K * z1;
        self.proc_dev = keep * self.proc_dev + innovation * PROCESS_SD_K * z2;
        let torque = loop {
            let z: f64 = StandardNormal.sample(rng);
            let t = TORQUE_MEAN_NM + TORQUE_SD_NM * z;
            if t > 0.0 {
                break t;
            }
        };
        let zs: f64 = StandardNormal.sample(rng);
        let air = AIR_MEAN_K + self.air_dev;
        SensorSnapshot {
            product_type: variant,
            air_temperature_k: air,
            process_temperature_k: AIR_MEAN_K
                + PROCESS_OFFSET_K
                + PROCESS_AIR_SLOPE * self.air_dev
                + self.proc_dev,
            rotational_speed_rpm: (mean_speed(torque) + SPEED_NOISE_RPM * zs).max(1.0),
            torque_nm: torque,
            tool_wear_min,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(air: f64, proc_t: f64, rpm: f64, torque: f64, wear: f64) -> SensorSnapshot {
        SensorSnapshot {
            product_type: Variant::L,
            air_temperature_k: air,
            process_temperature_k: proc_t,
            rotational_speed_rpm: rpm,
            torque_nm: torque,
            tool_wear_min: wear,
        }
    }

    #[test]
    fn rules_follow_the_ai4i_definitions() {
        let r = FailureRules::default();
        // temperature difference 8.0 K and 1300 rpm: heat dissipation
        assert_eq!(
            r.deterministic_flags(&snap(300.0, 308.0, 1300.0, 40.0, 0.0), 11e3),
            FailureMode::Hdf.bit()
        );
        // 8.0 K but 1500 rpm: fine
        assert_eq!(
            r.deterministic_flags(&snap(300.0, 308.0, 1500.0, 40.0, 0.0), 11e3),
            0
        );
        // 10 Nm at 2000 rpm = 2094 W < 3500 W
        assert_eq!(
            r.deterministic_flags(&snap(300.0, 310.0, 2000.0, 10.0, 0.0), 11e3),
            FailureMode::Pwf.bit()
        );
        // 70 Nm at 1300 rpm = 9529 W > 9000 W
        assert_eq!(
            r.deterministic_flags(&snap(300.0, 310.0, 1300.0, 70.0, 0.0), 20e3),
            FailureMode::Pwf.bit()
        );
        // 200 min × 60 Nm = 12,000 > 11,000 (L) but not > 13,000 (H)
        let s = snap(300.0, 310.0, 1400.0, 60.0, 200.0);
        assert_eq!(r.deterministic_flags(&s, 11e3), FailureMode::Osf.bit());
        assert_eq!(r.deterministic_flags(&s, 13e3), 0);
    }

    #[test]
    fn speed_curve_falls_with_torque() {
        assert!(mean_speed(10.0) > mean_speed(40.0));
        assert!((mean_speed(40.0) - 1502.5).abs() < 1e-9);
        assert_eq!(mean_speed(-3.0), 2874.0);
        assert_eq!(mean_speed(100.0), 1254.0);
    }
}
