//! The numbers of the report in machine-readable form (`summary.json`): the headline figures, every section's
//! input, and the lineage of each figure.

use millwright_impact::{
    format_number, BusinessCase, Change, Estimate, FactorSource, MeasuredImpact, TermSource,
    TwinSource, HOURS_PER_MONTH,
};
use serde::{Deserialize, Serialize};

use crate::format::{money, percent};
use crate::input::{LineageEntry, ReportInput};

/// One card of the headline: what a manager reads first.
///
/// `value` is the figure with its 95 % CI in `unit` wherever that is a finite number with a finite interval.
/// It is `None` where there is no such number: no investment given, an investment that does not pay back, or
/// a payback whose upper bound is "never" (JSON has no infinity); `text` and `interval` then say so in words.
/// `text` and `interval` are the card as shown (plain text), so every reader prints the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Headline {
    /// `productivity_change`, `value_change`, `payback_months` or `npv`.
    pub key: String,
    pub label: String,
    /// The same label in Chinese, shown beside the English.
    pub label_zh: String,
    pub value: Option<Estimate>,
    /// `fraction` (0.12 = +12 %), `months`, a currency, or the measured figure's unit for a difference.
    pub unit: String,
    /// The figure with its unit, e.g. `+22.9 %`, `9.3 months`, `does not pay back`.
    pub text: String,
    /// `95 % CI …`, or empty where there is no interval.
    pub interval: String,
    /// What the figure is measured on, with units.
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

/// The unit of a relative change.
pub const FRACTION: &str = "fraction";

/// Whether the baseline is the line's declared current practice (not merely a policy someone chose).
pub fn is_current_practice(twin: &TwinSource) -> bool {
    twin.baseline_from.contains("current_policy")
}

/// `predictive vs preventive, the plant's current practice`.
pub fn comparison_words(twin: &TwinSource) -> String {
    let whose = if is_current_practice(twin) {
        "the plant's current practice"
    } else {
        "the baseline given"
    };
    format!("{} vs {}, {whose}", twin.ai_policy, twin.baseline_policy)
}

/// The currency of the money figures: the business case's, else the first word of the value's unit
/// (`EUR margin per planned hour`).
pub fn currency(m: &MeasuredImpact) -> String {
    match &m.business {
        Some(b) => b.currency.clone(),
        None => m
            .value
            .unit
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned(),
    }
}

/// Productivity and value change, payback and NPV: the four cards, always in this order.
pub fn headline(input: &ReportInput) -> Vec<Headline> {
    headline_of(&input.impact)
}

/// The four headline cards of one measured impact.
pub fn headline_of(m: &MeasuredImpact) -> Vec<Headline> {
    let current = is_current_practice(&m.twin);
    let against = |en: &str, zh: &str| {
        if current {
            (
                format!("{en} vs current practice"),
                format!("相对现行做法的{zh}"),
            )
        } else {
            (format!("{en} vs baseline"), format!("相对基准策略的{zh}"))
        }
    };
    vec![
        change_card(
            "productivity_change",
            against("Productivity", "生产率"),
            &m.productivity,
            &m.twin,
        ),
        change_card(
            "value_change",
            against("Margin per planned hour", "每计划小时利润"),
            &m.value,
            &m.twin,
        ),
        payback_card(m.business.as_ref()),
        npv_card(m.business.as_ref()),
    ]
}

fn interval_text(e: &Estimate, show: impl Fn(f64) -> String) -> String {
    if e.ci_low == e.ci_high {
        String::new()
    } else {
        format!("95 % CI {} … {}", show(e.ci_low), show(e.ci_high))
    }
}

/// The relative change AI / baseline − 1, or the difference where the baseline is not above 0.
fn change_card(
    key: &str,
    (label, label_zh): (String, String),
    c: &Change,
    twin: &TwinSource,
) -> Headline {
    let levels = format!(
        "{}: {} → {} ({})",
        c.unit,
        format_number(c.baseline.mean),
        format_number(c.ai.mean),
        comparison_words(twin)
    );
    let (value, unit, text, interval, detail) = match &c.ratio {
        Some(r) => {
            let v = Estimate {
                mean: r.mean - 1.0,
                ci_low: r.ci_low - 1.0,
                ci_high: r.ci_high - 1.0,
            };
            (
                v,
                FRACTION.to_owned(),
                percent(v.mean),
                interval_text(&v, percent),
                levels,
            )
        }
        None => (
            c.difference,
            c.unit.clone(),
            format!(
                "{} {}",
                millwright_impact::format_signed(c.difference.mean),
                c.unit
            ),
            interval_text(&c.difference, millwright_impact::format_signed),
            format!(
                "{levels}; the baseline is not above 0, so the change is a difference, not a ratio"
            ),
        ),
    };
    Headline {
        key: key.to_owned(),
        label,
        label_zh,
        value: Some(value),
        unit,
        text,
        interval,
        detail,
    }
}

fn no_investment(key: &str, label: &str, label_zh: &str, unit: &str) -> Headline {
    Headline {
        key: key.to_owned(),
        label: label.to_owned(),
        label_zh: label_zh.to_owned(),
        value: None,
        unit: unit.to_owned(),
        text: "no investment given".to_owned(),
        interval: String::new(),
        detail: "needs the investment and the running cost (--investment, --running-cost)"
            .to_owned(),
    }
}

fn months_text(x: Option<f64>) -> String {
    x.map_or_else(|| "never".to_owned(), |m| format!("{m:.1}"))
}

fn payback_card(business: Option<&BusinessCase>) -> Headline {
    let (key, label, label_zh) = ("payback_months", "Payback", "投资回收期");
    let Some(b) = business else {
        return no_investment(key, label, label_zh, "months");
    };
    let c = &b.currency;
    let p = b.payback;
    let net = format!("net gain {} {c}/month", money(b.net_monthly.mean));
    let never = format!(
        "not positive in {} of the resamples",
        crate::format::share(b.never_pays_back_share)
    );
    let (value, text, interval, detail) = match p.months {
        None => (
            None,
            "does not pay back".to_owned(),
            String::new(),
            format!(
                "the benefit of {} {c}/month does not cover the running cost of {} {c}/month ({net}, {never})",
                money(b.monthly_benefit.mean),
                money(b.investment.running_cost_per_month)
            ),
        ),
        Some(months) => {
            let value = p.ci_low.zip(p.ci_high).map(|(lo, hi)| Estimate {
                mean: months,
                ci_low: lo,
                ci_high: hi,
            });
            let beyond = if months > f64::from(b.investment.horizon_months) {
                format!(", beyond the {}-month horizon", b.investment.horizon_months)
            } else {
                String::new()
            };
            (
                value,
                format!("{months:.1} months"),
                format!("95 % CI {} … {} months", months_text(p.ci_low), months_text(p.ci_high)),
                format!(
                    "investment {} {c} back from a {net}{beyond}; {never}",
                    money(b.investment.investment)
                ),
            )
        }
    };
    Headline {
        key: key.to_owned(),
        label: label.to_owned(),
        label_zh: label_zh.to_owned(),
        value,
        unit: "months".to_owned(),
        text,
        interval,
        detail,
    }
}

fn npv_card(business: Option<&BusinessCase>) -> Headline {
    let (key, label, label_zh) = ("npv", "Net present value", "净现值");
    let Some(b) = business else {
        return no_investment(key, label, label_zh, "");
    };
    let c = &b.currency;
    let roi = b
        .roi
        .map(|r| match interval_text(&r, percent) {
            i if i.is_empty() => format!("; ROI {}", percent(r.mean)),
            i => format!("; ROI {} ({i})", percent(r.mean)),
        })
        .unwrap_or_default();
    Headline {
        key: key.to_owned(),
        label: label.to_owned(),
        label_zh: label_zh.to_owned(),
        value: Some(b.npv),
        unit: c.clone(),
        text: format!("{} {c}", money(b.npv.mean)),
        interval: match interval_text(&b.npv, money) {
            i if i.is_empty() => i,
            i => format!("{i} {c}"),
        },
        detail: format!(
            "over {} months at {} %/year, after the investment of {} {c}{roi}",
            b.investment.horizon_months,
            format_number(b.investment.discount_rate * 100.0),
            money(b.investment.investment)
        ),
    }
}

fn entry(figure: &str, source: String) -> LineageEntry {
    LineageEntry {
        figure: figure.to_owned(),
        source,
    }
}

/// Where each figure comes from, in the page's order, then the caller's notes.
pub fn lineage(input: &ReportInput) -> Vec<LineageEntry> {
    let m = &input.impact;
    let mut out = vec![entry("Productivity impact", impact_lineage(m))];
    if let Some(b) = &m.business {
        out.push(entry("Business case", business_lineage(b)));
    }
    if !m.sensitivity.is_empty() {
        out.push(entry("Sensitivity", sensitivity_lineage(m)));
    }
    if let Some(exam) = &input.model_exam {
        let shadow = exam.shadow.as_ref().map_or(String::new(), |s| {
            format!(
                "; in shadow: per part, pooled over the `{}` replications, scored and never acted on",
                s.policy
            )
        });
        out.push(entry(
            "Model exam",
            format!(
                "threshold {} ({}); offline: the test split of the training data at that threshold; in the \
                 twin: per part, pooled over the `{}` replications of twin run {}{shadow}; Wilson 95 % \
                 intervals",
                format_number(exam.threshold),
                exam.threshold_source,
                m.twin.ai_policy,
                m.twin.run_id
            ),
        ));
    }
    out.extend(section_lineage(input));
    out.extend(input.notes.iter().cloned());
    out
}

/// The measured impact: which run and policies, how sure, what is measured and what is given.
fn impact_lineage(m: &MeasuredImpact) -> String {
    let t = &m.twin;
    let u = &t.uncertainty;
    let seed = t.seed.map(|s| format!(" (seed {s})")).unwrap_or_default();
    let measured: Vec<String> = m
        .drivers
        .iter()
        .map(|d| format!("{} ({})", d.term, d.driver.name()))
        .collect();
    format!(
        "twin run {}{seed}: `{}` against `{}` (baseline: {}), {} paired replications; 95 % CI by {} ({} of {} \
         resamples used, seed {}); α measured from the twin: {}; {}; the α recompose the measured P1/P0 and \
         V1/V0 to {:.0e}",
        t.run_id,
        t.ai_policy,
        t.baseline_policy,
        t.baseline_from,
        t.replications,
        u.method,
        u.resamples_used,
        u.resamples,
        u.seed,
        measured.join(", "),
        given_alphas(m),
        t.recomposition_error.max(f64::MIN_POSITIVE)
    )
}

/// The α and factors the user gave (they multiply into f_P and f_V beside the measured ones).
pub(crate) fn given_alphas(m: &MeasuredImpact) -> String {
    let given: Vec<String> = m
        .formula
        .paths
        .iter()
        .flat_map(|p| {
            let factor = (p.factor_source == FactorSource::Given).then(|| {
                format!(
                    "f({}) from {}",
                    p.name,
                    p.factor_origin.as_deref().unwrap_or("the user")
                )
            });
            let terms = p
                .terms
                .iter()
                .filter(|t| t.source == TermSource::User && t.origin != "default")
                .map(|t| format!("α {}.{} from {}", p.name, t.name, t.origin));
            factor.into_iter().chain(terms)
        })
        .collect();
    if given.is_empty() {
        "no α given by the user; the other α are 0".to_owned()
    } else {
        format!("user-given: {}; the other α are 0", given.join(", "))
    }
}

fn business_lineage(b: &BusinessCase) -> String {
    let i = &b.investment;
    format!(
        "investment {} {c} at month 0, running cost {} {c}/month, {} months, discount rate {} %/year; benefit \
         per month = the measured change in margin per planned hour × the planned hours of a month ({} h × the \
         planned share of the twin's window); intervals from the same bootstrap resamples",
        money(i.investment),
        money(i.running_cost_per_month),
        i.horizon_months,
        format_number(i.discount_rate * 100.0),
        format_number(HOURS_PER_MONTH),
        c = b.currency
    )
}

fn sensitivity_lineage(m: &MeasuredImpact) -> String {
    let rows: Vec<String> = m
        .sensitivity
        .iter()
        .map(|r| {
            format!(
                "{} {} … {} ({})",
                r.input, r.low.setting, r.high.setting, r.kind
            )
        })
        .collect();
    format!(
        "one input moved at a time against the measured outcome: {}; `price` rows are recomputed from the \
         replications' counts, `simulated` rows ran the twin again",
        rows.join("; ")
    )
}

/// Data, model, policies and threshold.
fn section_lineage(input: &ReportInput) -> Vec<LineageEntry> {
    let mut out = Vec::new();
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
            format_number(t.horizon),
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
    out
}
