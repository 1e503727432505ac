//! The numbers of the report in machine-readable form (`summary.json`): the headline figures, every section's
//! input, and the lineage of each figure.

use millwright_impact::Estimate;
use serde::{Deserialize, Serialize};

use crate::input::{LineageEntry, ReportInput};

/// One of the figures a manager reads first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Headline {
    pub key: String,
    pub label: String,
    /// A fraction (0.12 = +12 %).
    pub value: Estimate,
    pub detail: String,
}

/// `summary.json`: the same numbers as the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub headline: Vec<Headline>,
    #[serde(flatten)]
    pub input: ReportInput,
    pub lineage: Vec<LineageEntry>,
}

/// Productivity uplift, then the measured reductions of unplanned downtime and of cost per good part
/// (from the impact result, so they carry its bootstrap intervals).
pub fn headline(input: &ReportInput) -> Vec<Headline> {
    let impact = &input.impact;
    let mut out = vec![Headline {
        key: "productivity_uplift".to_owned(),
        label: "Productivity uplift (f_AI − 1)".to_owned(),
        value: impact.uplift,
        detail: format!(
            "P0 = {} → P1 = {}",
            millwright_impact::format_number(impact.p0.mean),
            millwright_impact::format_number(impact.p1.mean)
        ),
    }];
    let measured = impact
        .paths
        .iter()
        .flat_map(|p| &p.terms)
        .filter_map(|t| t.measurement.as_ref().map(|m| (m, t.alpha)));
    for (measurement, alpha) in measured {
        let label = match measurement.kpi.as_str() {
            "unplanned_downtime" => "Unplanned downtime reduction",
            "cost_per_good_part" => "Cost per good part reduction",
            _ => continue,
        };
        out.push(Headline {
            key: format!("{}_reduction", measurement.kpi),
            label: label.to_owned(),
            value: alpha,
            detail: format!(
                "{} → {} ({} vs {})",
                millwright_impact::format_number(measurement.baseline_mean),
                millwright_impact::format_number(measurement.ai_mean),
                input.twin.ai_policy,
                input.twin.baseline_policy
            ),
        });
    }
    out
}

/// Where each figure comes from, derived from the sections, then the caller's notes.
pub fn lineage(input: &ReportInput) -> Vec<LineageEntry> {
    let mut out = Vec::new();
    let entry = |figure: &str, source: String| LineageEntry {
        figure: figure.to_owned(),
        source,
    };
    if let Some(q) = &input.data_quality {
        let version = q.lake_version.map_or_else(
            || "version unknown".to_owned(),
            |v| format!("lake version {v}"),
        );
        let source = q
            .source
            .as_ref()
            .map(|s| format!(", source {}", s.path))
            .unwrap_or_default();
        out.push(entry(
            "Data quality",
            format!(
                "dataset `{}` {version}, ingest {}{source}",
                q.dataset, q.ingest_id
            ),
        ));
    }
    if let Some(m) = &input.model {
        let run = m
            .run_id
            .as_ref()
            .map(|r| format!(", training run {r}"))
            .unwrap_or_default();
        let version = m
            .lake_version
            .map(|v| format!(" version {v}"))
            .unwrap_or_default();
        out.push(entry(
            "Model metrics, curves and confusion matrix",
            format!(
                "model {}@{} ({}){run}, trained on dataset `{}`{version}, test split",
                m.name, m.version, m.kind, m.dataset
            ),
        ));
    }
    let t = &input.twin;
    let seed = t.seed.map(|s| format!(", seed {s}")).unwrap_or_default();
    let model = t
        .model
        .as_ref()
        .map(|m| format!("; predictive policy scored with model {m}"))
        .unwrap_or_default();
    out.push(entry(
        "Policy comparison",
        format!(
            "twin run {} on line `{}`: {} replications × {} {} with common random numbers{seed}{model}",
            t.run_id,
            t.line,
            t.replications,
            millwright_impact::format_number(t.horizon),
            t.time_unit
        ),
    ));
    if let Some(search) = &t.threshold {
        out.push(entry(
            "Optimised threshold",
            format!(
                "twin run {}: {} over {} thresholds",
                search.run_id,
                search.objective,
                search.points.len()
            ),
        ));
    }
    let impact = &input.impact;
    let measured = match &impact.twin {
        Some(source) => format!(
            "α measured from twin run {} (`{}` vs `{}`, {} paired replications), 95 % CI by {} \
             ({} resamples, seed {})",
            source.run_id,
            source.ai_policy,
            source.baseline_policy,
            source.replications,
            source.uncertainty.method,
            source.uncertainty.resamples,
            source.uncertainty.seed
        ),
        None => "α given by the user".to_owned(),
    };
    let given: Vec<String> = impact
        .paths
        .iter()
        .flat_map(|p| {
            let factor = p
                .factor_origin
                .as_ref()
                .map(|o| format!("f({}) from {o}", p.name));
            let terms = p
                .terms
                .iter()
                .filter(|t| t.measurement.is_none() && t.origin != "default")
                .map(|t| format!("α {}.{} from {}", p.name, t.name, t.origin));
            factor.into_iter().chain(terms)
        })
        .collect();
    let given = if given.is_empty() {
        "; unmeasured α are 0".to_owned()
    } else {
        format!("; {}; other unmeasured α are 0", given.join(", "))
    };
    out.push(entry(
        "Productivity impact",
        format!(
            "{measured}; P0 = {}, V0 = {}{given}",
            millwright_impact::format_number(impact.p0.mean),
            millwright_impact::format_number(impact.v0.mean)
        ),
    ));
    out.extend(input.notes.iter().cloned());
    out
}
