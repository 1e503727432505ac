//! The sections that lead the page, answering what a manager asks first: how much better than today
//! (the headline), what it costs and when it pays back (business case), what the result depends on
//! (sensitivity), and whether the model does inside the twin what it did on paper (the model's exam).

use std::fmt::Write;

use millwright_impact::{format_number, BusinessCase, MeasuredImpact, Payback};

use crate::charts;
use crate::error::Result;
use crate::format::{escape, money, money_ci, percent, percent_estimate, share};
use crate::html::{svg_img, unavailable_or};
use crate::input::{Rate, ReportInput};
use crate::summary::{self, Summary};

/// The cards, then a few plain sentences.
pub fn headline_section(s: &Summary) -> String {
    let mut out = String::from("<div class=\"cards\">\n");
    for h in &s.headline {
        let _ = writeln!(
            out,
            "<div class=\"card\" id=\"headline-{}\"><div class=\"k\">{} <span lang=\"zh-CN\">/ {}</span></div>\
             <div class=\"v\">{}</div><div class=\"ci\">{}</div><div class=\"d\">{}</div></div>",
            escape(&h.key),
            escape(&h.label),
            escape(&h.label_zh),
            escape(&h.text),
            escape(&h.interval),
            escape(&h.detail)
        );
    }
    out.push_str("</div>\n<p id=\"summary-text\">");
    out.push_str(&escape(&sentences(&s.input).join(" ")));
    out.push_str("</p>\n");
    out
}

/// `12.3 % more` / `4.0 % fewer`.
fn more_or_less(x: f64, more: &str, less: &str) -> String {
    format!(
        "{:.1} % {}",
        x.abs() * 100.0,
        if x < 0.0 { less } else { more }
    )
}

/// What changes, what it is worth, how sure, what it depends on: 2–4 sentences.
fn sentences(input: &ReportInput) -> Vec<String> {
    let m = &input.impact;
    let mut out = vec![change_sentence(m), money_sentence(m)];
    out.push(format!(
        "The intervals are 95 % intervals from {} paired bootstrap resamples over the {} replications of twin \
         run {}: they cover the twin's randomness, not whether the twin is right about the plant.",
        m.twin.uncertainty.resamples_used, m.twin.replications, m.twin.run_id
    ));
    if let Some(row) = m.sensitivity.first() {
        out.push(format!(
            "It depends most on {} ({} … {}): the benefit moves from {} to {} {} a month.",
            row.input,
            row.low.setting,
            row.high.setting,
            money(row.low.outcome.monthly_benefit),
            money(row.high.outcome.monthly_benefit),
            summary::currency(m)
        ));
    }
    out
}

fn change_sentence(m: &MeasuredImpact) -> String {
    let t = &m.twin;
    let against = if summary::is_current_practice(t) {
        format!("{}, the plant's current practice,", t.baseline_policy)
    } else {
        t.baseline_policy.clone()
    };
    let p = match &m.productivity.ratio {
        Some(r) => format!(
            "makes {} good parts per planned hour (95 % CI {} … {})",
            more_or_less(r.mean - 1.0, "more", "fewer"),
            percent(r.ci_low - 1.0),
            percent(r.ci_high - 1.0)
        ),
        None => "makes a different number of good parts (the baseline made none)".to_owned(),
    };
    let v = match &m.value.ratio {
        Some(r) => format!(
            "earns {} margin per planned hour (95 % CI {} … {})",
            more_or_less(r.mean - 1.0, "more", "less"),
            percent(r.ci_low - 1.0),
            percent(r.ci_high - 1.0)
        ),
        None => format!(
            "changes the margin by {} {} (the baseline's margin is not above 0)",
            format_number(m.value.difference.mean),
            m.value.unit
        ),
    };
    let unclear = m
        .productivity
        .ratio
        .filter(|r| r.ci_low <= 1.0 && 1.0 <= r.ci_high)
        .map(|_| {
            " On productivity the interval includes no change: the twin cannot tell the two apart."
        })
        .unwrap_or_default();
    format!(
        "Against {against} the AI policy {} {p} and {v}.{unclear}",
        t.ai_policy
    )
}

fn money_sentence(m: &MeasuredImpact) -> String {
    let Some(b) = &m.business else {
        return "No investment was given, so there is no payback or net present value.".to_owned();
    };
    let c = &b.currency;
    let cost = format!(
        "For an investment of {} {c} and {} {c} a month to run it",
        money(b.investment.investment),
        money(b.investment.running_cost_per_month)
    );
    match b.payback.months {
        None => format!(
            "{cost}, it does not pay back: the measured gain of {} {c} a month does not cover the running cost.",
            money(b.monthly_benefit.mean)
        ),
        Some(months) => format!(
            "{cost}, it pays back in {months:.1} months (95 % CI {}) and is worth {} {c} in net present value \
             over {} months.",
            payback_interval(&b.payback),
            money(b.npv.mean),
            b.investment.horizon_months
        ),
    }
}

fn months(x: Option<f64>) -> String {
    x.map_or_else(|| "never".to_owned(), |m| format!("{m:.1}"))
}

/// `7.9 … 11.2 months`, `7.9 months … never`.
fn payback_interval(p: &Payback) -> String {
    match p.ci_high {
        Some(_) => format!("{} … {} months", months(p.ci_low), months(p.ci_high)),
        None => format!("{} months … never", months(p.ci_low)),
    }
}

/// The investment, the gain and what it comes to, then the cumulative cash flow.
pub fn business_section(input: &ReportInput) -> Result<String> {
    let Some(b) = &input.impact.business else {
        return Ok(unavailable_or(
            input,
            "business",
            "no investment given: payback, NPV and ROI need the investment and the running cost \
             (--investment, --running-cost)",
        ));
    };
    let mut out = String::from(
        "<table id=\"business-case\"><tr><th class=\"l\">figure</th><th>value [95 % CI]</th><th class=\"l\">unit</th></tr>\n",
    );
    for (figure, value, unit) in business_rows(b) {
        let _ = writeln!(
            out,
            "<tr><td class=\"l\">{figure}</td><td>{value}</td><td class=\"l\">{}</td></tr>",
            escape(&unit)
        );
    }
    out.push_str("</table>\n");
    out.push_str(&svg_img(
        &charts::cash_flow(b)?,
        "cumulative cash flow over the horizon",
    ));
    let _ = writeln!(
        out,
        "<p class=\"note\">The chart is undiscounted: the investment at month 0, then the net gain each month; \
         the band is the net gain's 95 % CI and the red line the payback month. The NPV discounts each month at \
         {} %/year.</p>",
        format_number(b.investment.discount_rate * 100.0)
    );
    Ok(out)
}

/// (figure, value as HTML, unit) of the business case table.
fn business_rows(b: &BusinessCase) -> Vec<(&'static str, String, String)> {
    let c = &b.currency;
    let i = &b.investment;
    let payback = match b.payback.months {
        Some(m) => format!(
            "{m:.1} <span class=\"ci\">[{}]</span>",
            escape(&payback_interval(&b.payback))
        ),
        None => "does not pay back".to_owned(),
    };
    let roi = b
        .roi
        .as_ref()
        .map_or_else(|| "—".to_owned(), percent_estimate);
    vec![
        ("Investment (month 0)", money(i.investment), c.clone()),
        (
            "Running cost",
            money(i.running_cost_per_month),
            format!("{c}/month"),
        ),
        ("Horizon", i.horizon_months.to_string(), "months".to_owned()),
        (
            "Discount rate",
            format_number(i.discount_rate * 100.0),
            "% per year".to_owned(),
        ),
        (
            "Benefit (change in margin)",
            money_ci(&b.monthly_benefit),
            format!("{c}/month"),
        ),
        (
            "Net gain (benefit − running cost)",
            money_ci(&b.net_monthly),
            format!("{c}/month"),
        ),
        ("Payback", payback, "months".to_owned()),
        (
            "Net present value over the horizon",
            money_ci(&b.npv),
            c.clone(),
        ),
        (
            "Return on investment (undiscounted)",
            roi,
            "of the investment".to_owned(),
        ),
        (
            "Resamples that never pay back",
            share(b.never_pays_back_share),
            "of the resamples".to_owned(),
        ),
    ]
}

/// The tornado chart and its table.
pub fn sensitivity_section(input: &ReportInput) -> Result<String> {
    let m = &input.impact;
    if m.sensitivity.is_empty() {
        return Ok(unavailable_or(input, "sensitivity", "no input was varied"));
    }
    let c = summary::currency(m);
    let base = m.outcome.monthly_benefit;
    let mut out = format!(
        "<p>Each row moves one input and keeps the rest as measured. The bars show the benefit per month at \
         the input's low and high setting, around the measured {} {c}/month (the black line); the largest \
         effect is on top.</p>\n",
        money(base)
    );
    out.push_str(&svg_img(
        &charts::tornado(&m.sensitivity, base, &format!("{c}/month"))?,
        "what moves the benefit per month",
    ));
    let with_payback = m.business.is_some();
    out.push_str(
        "<table id=\"sensitivity-table\"><tr><th class=\"l\">input</th><th class=\"l\">kind</th>\
         <th class=\"l\">low setting</th><th>benefit/month</th><th class=\"l\">high setting</th><th>benefit/month</th>",
    );
    if with_payback {
        out.push_str("<th>payback low … high, months</th>");
    }
    let _ = writeln!(out, "<th>swing, {}/month</th></tr>", escape(&c));
    for row in &m.sensitivity {
        let _ = write!(
            out,
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td>\
             <td class=\"l\">{}</td><td>{}</td>",
            escape(&row.input),
            escape(&row.kind),
            escape(&row.low.setting),
            money(row.low.outcome.monthly_benefit),
            escape(&row.high.setting),
            money(row.high.outcome.monthly_benefit)
        );
        if with_payback {
            let _ = write!(
                out,
                "<td>{} … {}</td>",
                months(row.low.outcome.payback_months),
                months(row.high.outcome.payback_months)
            );
        }
        let _ = writeln!(out, "<td>{}</td></tr>", money(row.swing()));
    }
    out.push_str("</table>\n");
    Ok(out)
}

fn rate_cell(rate: &Rate) -> String {
    format!(
        "{} <span class=\"ci\">[{}, {}]</span> ({} of {})",
        share(rate.value),
        share(rate.ci_low),
        share(rate.ci_high),
        rate.hits,
        rate.trials
    )
}

/// Whether the in-twin figure lies inside the offline interval: the twin's exam agrees with the test split.
fn within(offline: &Rate, twin: &Rate) -> &'static str {
    if (offline.ci_low..=offline.ci_high).contains(&twin.value) {
        "yes"
    } else {
        "no"
    }
}

/// Offline recall and precision beside the in-twin ones: in shadow (like for like) and acting.
pub fn model_exam_section(input: &ReportInput) -> String {
    let Some(e) = &input.model_exam else {
        return unavailable_or(
            input,
            "model-exam",
            "the AI policy's model was not examined in this twin run",
        );
    };
    let shadow = e.shadow.as_ref();
    let mut out = format!(
        "<p>Alarm threshold <b id=\"exam-threshold\">{}</b> ({}).</p>\n\
         <table id=\"model-exam-table\"><tr><th class=\"l\">measure</th><th>offline: test split</th>\
         <th>in the twin, in shadow on {}</th><th>in the twin, acting (per part)</th>\
         <th>in-twin figure inside the offline interval</th></tr>\n",
        format_number(e.threshold),
        escape(&e.threshold_source),
        shadow.map_or_else(|| "—".to_owned(), |s| escape(&s.policy))
    );
    let rows = [
        (
            "recall (failures caught)",
            e.offline.as_ref().map(|o| &o.recall),
            shadow.map(|s| &s.rates.recall),
            &e.twin.recall,
        ),
        (
            "precision (alarms that were right)",
            e.offline.as_ref().map(|o| &o.precision),
            shadow.map(|s| &s.rates.precision),
            &e.twin.precision,
        ),
    ];
    for (name, offline, in_shadow, acting) in rows {
        // Like for like: the shadow figure when there is one, else the acting one.
        let compared = in_shadow.unwrap_or(acting);
        let _ = writeln!(
            out,
            "<tr><td class=\"l\">{name}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            offline.map_or_else(|| "unknown".to_owned(), rate_cell),
            in_shadow.map_or_else(|| "—".to_owned(), rate_cell),
            rate_cell(acting),
            offline.map_or("—", |o| within(o, compared))
        );
    }
    if let Some(s) = shadow {
        let lead = s
            .mean_lead_time_hours
            .map_or_else(|| "—".to_owned(), |h| format!("{} h", format_number(h)));
        let _ = writeln!(
            out,
            "<tr><td class=\"l\">warned before failing (lead time: mean {lead})</td><td>—</td>\
             <td id=\"exam-lead-time\">{}</td><td>— (an alarm acted on prevents the failure)</td><td>—</td></tr>",
            s.warned.as_ref().map_or_else(|| "—".to_owned(), rate_cell)
        );
    }
    let _ = writeln!(
        out,
        "</table>\n<p class=\"note\">Wilson 95 % intervals. {}</p>",
        escape(&e.note)
    );
    out
}
