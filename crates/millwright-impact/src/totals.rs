//! Measured totals of one policy over a set of replications, and their split into multiplicative drivers.
//!
//! Totals are pooled (sums over the replications, then ratios), so the drivers multiply back to the
//! totals exactly on every resample:
//!
//! P = good / planned h = availability × speed × yield, where
//! availability = time-weighted mean of the twin's station availability,
//! yield = good / finished parts, speed = finished parts per available hour (the rest of P);
//! V = margin / planned h = P × margin per good part.

use serde::{Deserialize, Serialize};

use crate::twin_runs::{Prices, ReplicationKpis};

/// Pooled figures of one policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Totals {
    /// Good parts per planned hour.
    pub productivity: f64,
    /// (Revenue − cost) per planned hour.
    pub value: f64,
    pub availability: f64,
    /// Finished parts per available hour.
    pub speed: f64,
    /// Good / finished parts.
    pub yield_: f64,
    /// (Revenue − cost) per good part; undefined (NaN) without good parts.
    pub margin_per_good_part: f64,
    /// Planned hours per hour of the window (to scale per-hour figures to a month).
    pub planned_share: f64,
}

impl Totals {
    /// The totals of `replications[i]` for each `i` in `indices` (indices may repeat: a bootstrap resample).
    pub fn pooled(replications: &[ReplicationKpis], indices: &[usize], prices: &Prices) -> Totals {
        let mut sum = Sums::default();
        for &i in indices {
            sum.add(&replications[i], prices);
        }
        sum.totals()
    }
}

#[derive(Debug, Default)]
struct Sums {
    window: f64,
    planned: f64,
    available: f64,
    good: f64,
    finished: f64,
    margin: f64,
}

impl Sums {
    fn add(&mut self, r: &ReplicationKpis, prices: &Prices) {
        self.window += r.window_hours;
        self.planned += r.planned_hours;
        self.available += r.availability * r.planned_hours;
        self.good += r.good_parts;
        self.finished += r.good_parts + r.scrapped_parts;
        self.margin += prices.revenue(r) - prices.cost(r);
    }

    fn totals(&self) -> Totals {
        let productivity = self.good / self.planned;
        let availability = self.available / self.planned;
        let yield_ = if self.finished > 0.0 {
            self.good / self.finished
        } else {
            1.0
        };
        Totals {
            productivity,
            value: self.margin / self.planned,
            availability,
            speed: productivity / (availability * yield_),
            yield_,
            margin_per_good_part: self.margin / self.good,
            planned_share: self.planned / self.window,
        }
    }
}

/// A multiplicative driver of the measured totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Driver {
    Availability,
    Speed,
    Yield,
    MarginPerGoodPart,
}

impl Driver {
    pub const ALL: [Driver; 4] = [
        Driver::Availability,
        Driver::Speed,
        Driver::Yield,
        Driver::MarginPerGoodPart,
    ];

    pub fn of(self, t: &Totals) -> f64 {
        match self {
            Driver::Availability => t.availability,
            Driver::Speed => t.speed,
            Driver::Yield => t.yield_,
            Driver::MarginPerGoodPart => t.margin_per_good_part,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Driver::Availability => "availability",
            Driver::Speed => "speed",
            Driver::Yield => "yield",
            Driver::MarginPerGoodPart => "margin_per_good_part",
        }
    }

    pub fn unit(self, currency: &str) -> String {
        match self {
            Driver::Availability | Driver::Yield => "share".to_owned(),
            Driver::Speed => "finished parts per available hour".to_owned(),
            Driver::MarginPerGoodPart => format!("{currency} per good part"),
        }
    }

    /// The α term of the source document's model this driver is attributed to: (path, term).
    pub fn term(self) -> (&'static str, &'static str) {
        match self {
            Driver::Availability => ("digital_twin", "system_stability"),
            Driver::Speed => ("smart_manufacturing", "production_efficiency"),
            Driver::Yield => ("smart_manufacturing", "scrap_rate"),
            Driver::MarginPerGoodPart => ("smart_services", "operating_cost"),
        }
    }
}

/// The path whose factor changes value but not productivity (what a good part earns).
pub const VALUE_ONLY_PATH: &str = "smart_services";

/// Splits each path's ratio among its drivers so that f_p = 1 + Σα = Π ratios of its drivers.
///
/// Shapley shares: with ratios r_1..r_n on one path, α_i is the mean over all orders of adding the drivers
/// of the change in Π r when r_i is added. It sums to Π r − 1 for any n, and for one driver is r − 1.
/// Hand-written: a dozen lines with n ≤ 3, where a cooperative-game crate would be a dependency for one sum.
pub fn shapley_alphas(ratios: &[f64]) -> Vec<f64> {
    let n = ratios.len();
    let mut alphas = vec![0.0; n];
    let weight = |size: usize| factorial(size) * factorial(n - size - 1) / factorial(n);
    for (i, alpha) in alphas.iter_mut().enumerate() {
        for subset in 0u32..(1 << n) {
            if subset & (1 << i) != 0 {
                continue;
            }
            let without: f64 = (0..n)
                .filter(|j| subset & (1 << j) != 0)
                .map(|j| ratios[j])
                .product();
            *alpha += weight(subset.count_ones() as usize) * without * (ratios[i] - 1.0);
        }
    }
    alphas
}

fn factorial(n: usize) -> f64 {
    (1..=n).map(|k| k as f64).product()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rep(good: f64, scrapped: f64, availability: f64) -> ReplicationKpis {
        ReplicationKpis {
            window_hours: 720.0,
            planned_hours: 660.0,
            good_parts: good,
            scrapped_parts: scrapped,
            availability,
            downtime_hours: 10.0,
            failures: 3.0,
            maintenance_actions: 5.0,
        }
    }

    #[test]
    fn drivers_multiply_back_to_productivity() {
        let reps = [rep(30_000.0, 300.0, 0.93), rep(29_000.0, 250.0, 0.91)];
        let t = Totals::pooled(&reps, &[0, 1, 1], &Prices::default());
        let product = t.availability * t.speed * t.yield_;
        assert!((product - t.productivity).abs() < 1e-12 * t.productivity);
        assert!((t.productivity - 88_000.0 / 1980.0).abs() < 1e-9);
        assert!((t.planned_share - 660.0 / 720.0).abs() < 1e-12);
    }

    #[test]
    fn value_is_productivity_times_margin() {
        let prices = Prices {
            part_value: 85.0,
            operating_per_hour: 600.0,
            downtime_per_hour: 900.0,
            corrective_repair: 400.0,
            preventive_maintenance: 60.0,
            scrap: 25.0,
        };
        let t = Totals::pooled(&[rep(30_000.0, 300.0, 0.93)], &[0], &prices);
        let cost = 600.0 * 660.0 + 900.0 * 10.0 + 400.0 * 3.0 + 60.0 * 5.0 + 25.0 * 300.0;
        assert!((t.value - (85.0 * 30_000.0 - cost) / 660.0).abs() < 1e-9);
        assert!((t.productivity * t.margin_per_good_part - t.value).abs() < 1e-9);
    }

    #[test]
    fn shapley_shares_sum_to_the_product() {
        for ratios in [
            vec![1.3],
            vec![1.1, 0.95],
            vec![1.2, 1.05, 0.9],
            vec![1.0, 1.0],
        ] {
            let alphas = shapley_alphas(&ratios);
            let product: f64 = ratios.iter().product();
            assert!(
                (1.0 + alphas.iter().sum::<f64>() - product).abs() < 1e-12,
                "{ratios:?}"
            );
        }
        // Two drivers: α_1 = ½ (r_1 − 1)(1 + r_2).
        let a = shapley_alphas(&[1.2, 1.1]);
        assert!((a[0] - 0.5 * 0.2 * 2.1).abs() < 1e-12);
        // A driver that does not move gets nothing.
        assert_eq!(shapley_alphas(&[1.0, 1.4])[0], 0.0);
    }
}
