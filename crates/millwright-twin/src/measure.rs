//! What the sensors report and what they do not show: measurement noise and calibration drift on the
//! true AI4I state (the failure rules see the truth, a model only the measurement), and a hidden
//! degradation (spindle bearing wear) that no sensor column reveals.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::dist::Sampler;
use crate::physics::SensorSnapshot;

/// Sensor readings in `SensorSnapshot` order: air and process temperature (K), rotational speed
/// (rpm), torque (Nm), tool wear (min).
pub const READINGS: [&str; 5] = [
    "air_temperature",
    "process_temperature",
    "rotational_speed",
    "torque",
    "tool_wear",
];

/// Drift rates in the line file are per this many hours (30 days).
pub const DRIFT_PERIOD_HOURS: f64 = 30.0 * 24.0;

/// The measurement error of one station's sensors, validated from `[stations.ai4i.sensors]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SensorModel {
    /// Standard deviation of the noise of one reading, in the sensor's unit ([`READINGS`] order).
    pub noise: [f64; 5],
    /// Drift magnitude per base time unit; its sign is drawn per calibration period.
    pub drift: [f64; 5],
    /// Base units between recalibrations (drift back to zero); infinite: never.
    pub calibration: f64,
}

/// One station's sensors during one replication (or one emission).
#[derive(Debug, Clone)]
pub struct Sensors {
    model: SensorModel,
    rng_noise: ChaCha8Rng,
    /// Drift signs of calibration period `k` are bits of `splitmix(key ^ k)`: the same for every
    /// policy whatever the order in which parts reach the station (common random numbers).
    key: u64,
}

impl Sensors {
    pub fn new(model: SensorModel, rng_noise: ChaCha8Rng, mut rng_drift: ChaCha8Rng) -> Sensors {
        Sensors {
            model,
            rng_noise,
            key: rng_drift.random(),
        }
    }

    /// The drift of each reading at time `t` (base units since the start of the replication).
    pub fn drift_at(&self, t: f64) -> [f64; 5] {
        let c = self.model.calibration;
        let (period, since) = if c.is_finite() {
            let k = (t / c).floor();
            (k as u64, t - k * c)
        } else {
            (0, t)
        };
        let bits = crate::sim::splitmix(self.key ^ period);
        std::array::from_fn(|j| {
            let sign = if (bits >> j) & 1 == 1 { 1.0 } else { -1.0 };
            sign * self.model.drift[j] * since
        })
    }

    /// What the sensors read for the true snapshot `truth` at time `t`: truth + noise + drift, the
    /// non-negative quantities (speed, torque, tool wear) read at least 0.
    pub fn measure(&mut self, truth: &SensorSnapshot, t: f64) -> SensorSnapshot {
        let drift = self.drift_at(t);
        let mut error = [0.0; 5];
        for (j, e) in error.iter_mut().enumerate() {
            let z: f64 = StandardNormal.sample(&mut self.rng_noise);
            *e = self.model.noise[j] * z + drift[j];
        }
        SensorSnapshot {
            product_type: truth.product_type,
            air_temperature_k: truth.air_temperature_k + error[0],
            process_temperature_k: truth.process_temperature_k + error[1],
            rotational_speed_rpm: (truth.rotational_speed_rpm + error[2]).max(0.0),
            torque_nm: (truth.torque_nm + error[3]).max(0.0),
            tool_wear_min: (truth.tool_wear_min + error[4]).max(0.0),
        }
    }
}

/// A failure cause the sensors do not show (`[stations.ai4i.hidden]`): the per-part failure
/// probability is `base + growth × n`, n the parts machined since the station's last maintenance
/// (preventive or predictive) or the repair of such a failure. Other repairs leave it as it is.
#[derive(Debug, Clone)]
pub struct HiddenModel {
    pub base: f64,
    pub growth: f64,
    pub repair: Sampler,
}

impl HiddenModel {
    /// The failure probability of the next part after `parts` parts since the last reset.
    pub fn probability(&self, parts: u64) -> f64 {
        (self.base + self.growth * parts as f64).min(1.0)
    }

    /// Draws whether the next part fails from the hidden cause.
    pub fn fails<R: Rng + ?Sized>(&self, rng: &mut R, parts: u64) -> bool {
        rng.random::<f64>() < self.probability(parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::Variant;
    use rand::SeedableRng;

    fn truth() -> SensorSnapshot {
        SensorSnapshot {
            product_type: Variant::M,
            air_temperature_k: 300.0,
            process_temperature_k: 310.0,
            rotational_speed_rpm: 1500.0,
            torque_nm: 40.0,
            tool_wear_min: 100.0,
        }
    }

    fn sensors(noise: [f64; 5], drift: [f64; 5], calibration: f64) -> Sensors {
        let model = SensorModel {
            noise,
            drift,
            calibration,
        };
        Sensors::new(
            model,
            ChaCha8Rng::seed_from_u64(1),
            ChaCha8Rng::seed_from_u64(2),
        )
    }

    #[test]
    fn without_noise_or_drift_the_sensors_read_the_truth_exactly() {
        let mut s = sensors([0.0; 5], [0.0; 5], f64::INFINITY);
        assert_eq!(s.measure(&truth(), 1e6), truth());
    }

    #[test]
    fn drift_grows_linearly_and_restarts_at_each_calibration() {
        let s = sensors([0.0; 5], [0.0, 1.0, 0.0, 0.0, 0.0], 100.0);
        let d = |t: f64| s.drift_at(t)[1];
        assert!((d(50.0).abs() - 50.0).abs() < 1e-9);
        assert!((d(99.0).abs() - 99.0).abs() < 1e-9);
        assert!(d(100.0).abs() < 1e-9);
        assert_eq!(d(30.0).signum(), d(70.0).signum());
        // Over many periods both signs occur.
        let signs: Vec<f64> = (0..64)
            .map(|k| d(100.0 * k as f64 + 50.0).signum())
            .collect();
        assert!(signs.contains(&1.0) && signs.contains(&-1.0), "{signs:?}");
        let never = sensors([0.0; 5], [0.0, 1.0, 0.0, 0.0, 0.0], f64::INFINITY);
        assert!((never.drift_at(1e5)[1].abs() - 1e5).abs() < 1e-6);
    }

    #[test]
    fn hidden_probability_grows_per_part_and_is_capped() {
        let h = HiddenModel {
            base: 0.001,
            growth: 0.01,
            repair: Sampler::Fixed(1.0),
        };
        assert_eq!(h.probability(0), 0.001);
        assert!((h.probability(10) - 0.101).abs() < 1e-12);
        assert_eq!(h.probability(1000), 1.0);
    }
}
