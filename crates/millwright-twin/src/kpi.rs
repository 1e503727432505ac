//! KPIs of one replication and their 95 % confidence intervals over replications.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// What one replication measured after the warm-up. Times are in base units of the line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicationKpis {
    /// Good parts leaving the last station per base time unit.
    pub throughput: f64,
    pub oee: f64,
    pub availability: f64,
    pub performance: f64,
    pub quality: f64,
    pub scrap_rate: f64,
    /// Total cost / good parts (the total cost when no good part was made).
    pub cost_per_good_part: f64,
    pub total_cost: f64,
    /// Good parts × part value.
    pub revenue: f64,
    pub good_parts: u64,
    pub scrapped_parts: u64,
    /// Station-time down for failures (summed over stations).
    pub unplanned_downtime: f64,
    /// Station-time in preventive or predictive maintenance.
    pub maintenance_time: f64,
    /// Line time in planned stops.
    pub planned_stop_time: f64,
    /// The measured window minus planned stops (what OEE and hourly operating costs are over).
    #[serde(default)]
    pub planned_time: f64,
    /// Operating station-time per failure; absent without failures.
    pub mtbf: Option<f64>,
    /// Down time per failure; absent without failures.
    pub mttr: Option<f64>,
    pub failures: u64,
    pub maintenance_actions: u64,
    /// Time-average parts in the line (stations, buffers, input queue).
    pub wip: f64,
    /// Time-average length of the input queue (lines with `arrivals`).
    pub queue_length: Option<f64>,
    /// Mean wait in the input queue of the parts that left it.
    pub queue_wait: Option<f64>,
    /// Failures by cause: `time` (calendar-time failures), `TWF`, `HDF`, `PWF`, `OSF`, `RNF`,
    /// `HIDDEN` (the cause the sensors do not show).
    pub failures_by_mode: BTreeMap<String, u64>,
    pub downtime_by_cause: BTreeMap<String, f64>,
    pub stations: Vec<StationKpis>,
    /// Calendar events processed (stale ones included).
    pub events: u64,
    /// The predictive model's realised exam, per part scored; `None` for policies without a model.
    #[serde(default)]
    pub alarms: Option<AlarmKpis>,
}

/// Per part scored by the predictive policy (or by a model in shadow, scored and never acted on): the same
/// counts as the offline test of a per-record failure classifier. A part "fails" by the failure rules on
/// its true state, whatever the cause (its random and hidden draws are made before the policy acts, so
/// this is known for alarmed parts too).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct AlarmKpis {
    /// Snapshots scored.
    pub scored_parts: u64,
    /// Scores at or above the threshold that were acted on (maintenance instead of the part); in
    /// shadow, every score at or above the threshold.
    pub alarms: u64,
    /// Alarms on parts that would have failed.
    pub true_alarms: u64,
    /// Scored parts that failed without an alarm.
    pub missed_failures: u64,
    /// The model was scored in shadow: its alarms changed nothing, so failures it warned of happened.
    #[serde(default)]
    pub shadow: bool,
    /// Failures (in shadow) with an alarm raised since the station's last repair or maintenance.
    #[serde(default)]
    pub warned_failures: u64,
    /// Sum over those failures of the time from the first such alarm to the failure (base units).
    #[serde(default)]
    pub lead_time_total: f64,
}

impl AlarmKpis {
    /// true alarms / (true alarms + missed failures); `None` without failing parts.
    pub fn recall(&self) -> Option<f64> {
        let failing = self.true_alarms + self.missed_failures;
        (failing > 0).then(|| self.true_alarms as f64 / failing as f64)
    }

    /// true alarms / alarms; `None` without alarms.
    pub fn precision(&self) -> Option<f64> {
        (self.alarms > 0).then(|| self.true_alarms as f64 / self.alarms as f64)
    }

    /// Counts one scored part: whether it raised an alarm (acted on, or in shadow) and whether it fails.
    pub(crate) fn count(&mut self, alarm: bool, fails: bool) {
        self.scored_parts += 1;
        if alarm {
            self.alarms += 1;
            self.true_alarms += u64::from(fails);
        } else {
            self.missed_failures += u64::from(fails);
        }
    }

    /// Mean warning before a failure (base units); `None` without warned failures. Only a shadow
    /// exam sees it: an acted-on alarm prevents the failure it warns of.
    pub fn mean_lead_time(&self) -> Option<f64> {
        (self.warned_failures > 0).then(|| self.lead_time_total / self.warned_failures as f64)
    }
}

/// Fractions of the measured window a station spent in each state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StationKpis {
    pub name: String,
    pub busy: f64,
    pub starved: f64,
    pub blocked: f64,
    pub down: f64,
    pub maintenance: f64,
    pub planned_stop: f64,
    pub failures: u64,
    pub maintenance_actions: u64,
    pub parts: u64,
}

/// Mean and two-sided 95 % Student-t confidence interval over replications.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub mean: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// Replications that had a value.
    pub n: usize,
}

impl Summary {
    /// The interval is absent with fewer than two values.
    pub fn of(values: &[f64]) -> Summary {
        let n = values.len();
        if n == 0 {
            return Summary {
                mean: None,
                ci_low: None,
                ci_high: None,
                n,
            };
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        if n < 2 {
            return Summary {
                mean: Some(mean),
                ci_low: None,
                ci_high: None,
                n,
            };
        }
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
            .expect("n >= 2 gives positive degrees of freedom")
            .inverse_cdf(0.975);
        let half = t * (var / n as f64).sqrt();
        Summary {
            mean: Some(mean),
            ci_low: Some(mean - half),
            ci_high: Some(mean + half),
            n,
        }
    }

    pub fn half_width(&self) -> Option<f64> {
        Some((self.ci_high? - self.ci_low?) / 2.0)
    }
}

type Getter = fn(&ReplicationKpis) -> Option<f64>;

/// The KPIs summarised per policy, by their JSON names.
pub const SUMMARISED: &[(&str, Getter)] = &[
    ("throughput", |r| Some(r.throughput)),
    ("oee", |r| Some(r.oee)),
    ("availability", |r| Some(r.availability)),
    ("performance", |r| Some(r.performance)),
    ("quality", |r| Some(r.quality)),
    ("scrap_rate", |r| Some(r.scrap_rate)),
    ("cost_per_good_part", |r| Some(r.cost_per_good_part)),
    ("total_cost", |r| Some(r.total_cost)),
    ("revenue", |r| Some(r.revenue)),
    ("good_parts", |r| Some(r.good_parts as f64)),
    ("unplanned_downtime", |r| Some(r.unplanned_downtime)),
    ("maintenance_time", |r| Some(r.maintenance_time)),
    ("planned_time", |r| Some(r.planned_time)),
    ("mtbf", |r| r.mtbf),
    ("mttr", |r| r.mttr),
    ("failures", |r| Some(r.failures as f64)),
    ("maintenance_actions", |r| {
        Some(r.maintenance_actions as f64)
    }),
    ("wip", |r| Some(r.wip)),
    ("queue_length", |r| r.queue_length),
    ("queue_wait", |r| r.queue_wait),
    ("model_recall", |r| {
        r.alarms.as_ref().and_then(AlarmKpis::recall)
    }),
    ("model_precision", |r| {
        r.alarms.as_ref().and_then(AlarmKpis::precision)
    }),
    ("model_lead_time", |r| {
        r.alarms.as_ref().and_then(AlarmKpis::mean_lead_time)
    }),
];

/// Summaries of every KPI, plus `failures_<cause>` and `downtime_<cause>` per failure cause.
pub fn summarise(reps: &[ReplicationKpis]) -> BTreeMap<String, Summary> {
    let mut out = BTreeMap::new();
    for (name, get) in SUMMARISED {
        let values: Vec<f64> = reps.iter().filter_map(get).collect();
        out.insert(name.to_string(), Summary::of(&values));
    }
    if let Some(first) = reps.first() {
        for cause in first.failures_by_mode.keys() {
            let f: Vec<f64> = reps
                .iter()
                .map(|r| r.failures_by_mode[cause] as f64)
                .collect();
            let d: Vec<f64> = reps.iter().map(|r| r.downtime_by_cause[cause]).collect();
            let key = cause.to_lowercase();
            out.insert(format!("failures_{key}"), Summary::of(&f));
            out.insert(format!("downtime_{key}"), Summary::of(&d));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_t_interval_matches_the_textbook() {
        // n = 5, mean 3, sd = sqrt(2.5); t(0.975, 4) = 2.7764
        let s = Summary::of(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(s.mean, Some(3.0));
        let half = 2.776_445 * (2.5f64 / 5.0).sqrt();
        assert!((s.ci_high.unwrap() - 3.0 - half).abs() < 1e-4);
        assert_eq!(Summary::of(&[2.0]).ci_low, None);
        assert_eq!(Summary::of(&[]).mean, None);
    }
}
