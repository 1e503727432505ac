//! The page: one HTML document with inline CSS and every image as a `data:` URI. No script and no network
//! (a Content-Security-Policy forbids both).

use std::fmt::Write;

use millwright_impact::{format_number, Estimate, FactorSource, TermSource};

use crate::charts;
use crate::embed;
use crate::error::Result;
use crate::format::{escape, estimate, percent_estimate};
use crate::input::{DataQuality, ImageRef, ModelSummary, ReportInput, TwinSummary};
use crate::lead;
use crate::summary::{self, Summary};

/// The sections of every report, in order: (id, heading). What a manager asks comes first (the change against
/// today, its cost and payback, what it depends on, whether the model holds up), then the evidence.
pub const SECTIONS: [(&str, &str); 10] = [
    (
        "summary",
        "What AI changes against today / AI 相对现状的改变",
    ),
    ("business", "Business case / 投资回报"),
    ("sensitivity", "What the result depends on / 敏感性"),
    ("model-exam", "The model's exam / 模型检验"),
    ("data-quality", "Data quality / 数据质量"),
    ("model", "Failure model / 故障预测模型"),
    ("policies", "Maintenance policies compared / 维护策略比较"),
    ("threshold", "Alarm threshold / 报警阈值"),
    ("impact", "How the change decomposes / 变化的分解"),
    ("lineage", "Lineage of every figure / 数据来源"),
];

/// KPIs drawn as charts, in this order, when the twin reports them.
const CHART_KPIS: [&str; 6] = [
    "throughput",
    "unplanned_downtime",
    "cost_per_good_part",
    "scrap_rate",
    "oee",
    "availability",
];

const STYLE: &str = "
body{font-family:'DejaVu Sans',Helvetica,Arial,'Noto Sans CJK SC','PingFang SC','Microsoft YaHei',sans-serif;color:#1d2733;max-width:1120px;margin:0 auto;padding:24px;line-height:1.45}
h1{margin:0 0 4px;font-size:28px}h2{border-bottom:2px solid #1f6fb2;padding-bottom:4px;margin-top:36px}
header p{color:#5b6b7b;margin:2px 0}
table{border-collapse:collapse;margin:10px 0;font-size:14px}th,td{border:1px solid #d5dce3;padding:4px 8px;text-align:right}
th{background:#eef2f6}td.l,th.l{text-align:left}tr.chosen td{background:#e6f0fa;font-weight:bold}
.ci{color:#5b6b7b;font-size:12px}.cards{display:flex;gap:16px;flex-wrap:wrap}
.card{flex:1 1 220px;border:1px solid #d5dce3;border-radius:8px;padding:14px;background:#f8fafc}
.card .k{font-weight:bold}.card .v{font-size:30px;font-weight:bold;color:#1f6fb2}.card .d{color:#5b6b7b;font-size:13px}
.charts{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0}figcaption{font-size:12px;color:#5b6b7b}
img{border:1px solid #e3e8ee;max-width:100%;height:auto}.note{color:#5b6b7b;font-style:italic}
.formula{font-family:'DejaVu Sans Mono',monospace;background:#f3f5f8;padding:6px 10px;display:inline-block}
@media print{section{page-break-inside:avoid}}
";

/// Renders the whole page.
pub fn render(summary: &Summary) -> Result<String> {
    let input = &summary.input;
    let mut page = String::new();
    let _ = writeln!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>",
        escape(&input.title)
    );
    let _ = writeln!(
        page,
        "<header><h1>{}</h1><p>Generated {} by Millwright {} from twin run <code>{}</code>.</p></header>",
        escape(&input.title),
        escape(&input.generated_at),
        escape(&input.millwright_version),
        escape(&input.twin.run_id)
    );
    for (id, heading) in SECTIONS {
        let _ = writeln!(page, "<section id=\"{id}\">\n<h2>{heading}</h2>");
        let body = match id {
            "summary" => lead::headline_section(summary),
            "business" => lead::business_section(input)?,
            "sensitivity" => lead::sensitivity_section(input)?,
            "model-exam" => lead::model_exam_section(input),
            "data-quality" => match &input.data_quality {
                Some(q) => quality_section(q)?,
                None => unavailable(input, id),
            },
            "model" => match &input.model {
                Some(m) => model_section(m)?,
                None => unavailable(input, id),
            },
            "policies" => policies_section(input)?,
            "threshold" => threshold_section(input)?,
            "impact" => impact_section(input)?,
            _ => lineage_section(summary),
        };
        page.push_str(&body);
        page.push_str("</section>\n");
    }
    page.push_str("</body>\n</html>\n");
    Ok(page)
}

fn unavailable(input: &ReportInput, id: &str) -> String {
    unavailable_or(input, id, "not recorded for this twin run")
}

/// Why section `id` has nothing to show: the caller's reason, else `default`.
pub(crate) fn unavailable_or(input: &ReportInput, id: &str, default: &str) -> String {
    let reason = input.unavailable.get(id).map_or(default, String::as_str);
    format!("<p class=\"note\">Not available: {}.</p>\n", escape(reason))
}

pub(crate) fn svg_img(svg: &str, alt: &str) -> String {
    format!(
        "<figure><img src=\"{}\" alt=\"{}\"></figure>\n",
        embed::svg_uri(svg),
        escape(alt)
    )
}

fn file_imgs(images: &[ImageRef]) -> Result<String> {
    let mut out = String::new();
    for image in images {
        let _ = writeln!(
            out,
            "<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>",
            embed::file_uri(&image.path)?,
            escape(&image.title),
            escape(&image.title)
        );
    }
    Ok(out)
}

fn cell_value(value: &Option<serde_json::Value>) -> String {
    match value {
        Some(serde_json::Value::Number(n)) => n.as_f64().map(format_number).unwrap_or_default(),
        Some(serde_json::Value::String(s)) => escape(s),
        Some(other) => escape(&other.to_string()),
        None => String::new(),
    }
}

fn opt_number(value: Option<f64>) -> String {
    value.map(format_number).unwrap_or_default()
}

/// A JSON value as short text: strings bare, numbers without float noise.
fn json_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.as_f64().map(format_number).unwrap_or_default(),
        other => other.to_string(),
    }
}

/// A short description of what cleaning did to a column, from the data layer's `actions` object.
fn actions_text(actions: &serde_json::Value) -> String {
    let Some(map) = actions.as_object() else {
        return String::new();
    };
    let mut parts = Vec::new();
    for (key, value) in map {
        let text = match value {
            serde_json::Value::Null => continue,
            serde_json::Value::Number(n) if n.as_f64() == Some(0.0) => continue,
            serde_json::Value::String(s) if key == "missing_rule" && s == "keep" => continue,
            serde_json::Value::Object(inner) => inner
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| format!("{k} {}", json_text(v)))
                .collect::<Vec<_>>()
                .join(", "),
            other => json_text(other),
        };
        parts.push(format!("{key}: {text}"));
    }
    escape(&parts.join("; "))
}

fn quality_section(q: &DataQuality) -> Result<String> {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<p>Dataset <code>{}</code>{}: {} rows read, {} stored, {} quarantined, {} duplicates removed.</p>",
        escape(&q.dataset),
        q.lake_version
            .map(|v| format!(" (lake version {v})"))
            .unwrap_or_default(),
        q.rows_read,
        q.rows_written,
        q.rows_quarantined,
        q.duplicates_removed
    );
    if q.quarantined_by_reason.is_empty() {
        out.push_str("<p>No row was quarantined.</p>\n");
    } else {
        out.push_str("<table id=\"quarantine\"><tr><th class=\"l\">quarantine reason</th><th>rows</th></tr>\n");
        for (reason, rows) in &q.quarantined_by_reason {
            let _ = writeln!(
                out,
                "<tr><td class=\"l\">{}</td><td>{rows}</td></tr>",
                escape(reason)
            );
        }
        out.push_str("</table>\n");
        let bars: Vec<(String, Estimate)> = q
            .quarantined_by_reason
            .iter()
            .map(|(reason, rows)| (reason.clone(), Estimate::exact(*rows as f64)))
            .collect();
        out.push_str(&svg_img(
            &charts::bars_with_ci("Quarantined rows by reason", "rows", &bars, None)?,
            "Quarantined rows by reason",
        ));
    }
    out.push_str(
        "<table id=\"columns\"><tr><th class=\"l\">column</th><th class=\"l\">kind</th>\
         <th>missing before → after</th><th>mean before → after</th><th>std before → after</th>\
         <th>min … max before</th><th>min … max after</th><th class=\"l\">cleaning</th></tr>\n",
    );
    for c in &q.columns {
        let _ = writeln!(
            out,
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{} → {}</td><td>{} → {}</td><td>{} → {}</td>\
             <td>{} … {}</td><td>{} … {}</td><td class=\"l\">{}</td></tr>",
            escape(&c.name),
            escape(&c.kind),
            c.before.missing,
            c.after.missing,
            opt_number(c.before.mean),
            opt_number(c.after.mean),
            opt_number(c.before.std),
            opt_number(c.after.std),
            cell_value(&c.before.min),
            cell_value(&c.before.max),
            cell_value(&c.after.min),
            cell_value(&c.after.max),
            actions_text(&c.actions)
        );
    }
    out.push_str("</table>\n");
    for (what, columns) in [
        ("Constant", &q.constant_columns),
        ("Empty", &q.empty_columns),
    ] {
        if !columns.is_empty() {
            let _ = writeln!(
                out,
                "<p>{what} columns after cleaning (no information for a model): {}.</p>",
                escape(&columns.join(", "))
            );
        }
    }
    Ok(out)
}

fn model_section(m: &ModelSummary) -> Result<String> {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<p>Registered model <code>{}@{}</code> ({}) predicting <code>{}</code>; decision threshold {}{}.</p>",
        escape(&m.name),
        m.version,
        escape(&m.kind),
        escape(&m.target),
        format_number(m.threshold),
        if m.threshold_rule.is_empty() {
            String::new()
        } else {
            format!(" ({})", escape(&m.threshold_rule))
        }
    );
    out.push_str(
        "<table id=\"metrics\"><tr><th class=\"l\">test-split metric</th><th>value</th></tr>\n",
    );
    for (name, value) in &m.metrics {
        let _ = writeln!(
            out,
            "<tr><td class=\"l\">{}</td><td>{}</td></tr>",
            escape(name),
            format_number(*value)
        );
    }
    out.push_str("</table>\n");
    if !m.candidates.is_empty() {
        let names: Vec<&String> = {
            let mut keys: Vec<&String> =
                m.candidates.iter().flat_map(|c| c.metrics.keys()).collect();
            keys.sort();
            keys.dedup();
            keys
        };
        out.push_str("<p>Models compared (the registered one in bold):</p>\n<table id=\"candidates\"><tr><th class=\"l\">model</th><th class=\"l\">kind</th>");
        for name in &names {
            let _ = write!(out, "<th>{}</th>", escape(name));
        }
        out.push_str("</tr>\n");
        for c in &m.candidates {
            let _ = write!(
                out,
                "<tr{}><td class=\"l\">{}</td><td class=\"l\">{}</td>",
                if c.chosen { " class=\"chosen\"" } else { "" },
                escape(&c.name),
                escape(&c.kind)
            );
            for name in &names {
                let _ = write!(
                    out,
                    "<td>{}</td>",
                    opt_number(c.metrics.get(*name).copied())
                );
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</table>\n");
    }
    if let Some([[tn, fp], [fneg, tp]]) = m.confusion_matrix {
        let total = (tn + fp + fneg + tp).max(1) as f64;
        let cell = |n: u64| {
            format!(
                "<td style=\"background:rgba(31,111,178,{:.2})\">{n}</td>",
                0.1 + 0.6 * n as f64 / total
            )
        };
        let _ = writeln!(
            out,
            "<table id=\"confusion\"><tr><th></th><th>predicted no failure</th><th>predicted failure</th></tr>\n\
             <tr><th class=\"l\">actual no failure</th>{}{}</tr>\n<tr><th class=\"l\">actual failure</th>{}{}</tr></table>",
            cell(tn),
            cell(fp),
            cell(fneg),
            cell(tp)
        );
    }
    out.push_str("<div class=\"charts\">\n");
    for c in &m.curves {
        out.push_str(&svg_img(&charts::curve(c)?, &c.title));
        if !c.note.is_empty() {
            let _ = writeln!(out, "<p class=\"note\">{}</p>", escape(&c.note));
        }
    }
    out.push_str(&file_imgs(&m.images)?);
    out.push_str("</div>\n");
    Ok(out)
}

/// KPI names in display order: the charted ones first, then the rest alphabetically.
fn kpi_order(twin: &TwinSummary) -> Vec<String> {
    let mut all: Vec<String> = twin
        .policies
        .iter()
        .flat_map(|p| p.kpis.keys().cloned())
        .collect();
    all.sort();
    all.dedup();
    let mut ordered: Vec<String> = CHART_KPIS
        .iter()
        .filter(|k| all.iter().any(|a| a == *k))
        .map(|k| (*k).to_owned())
        .collect();
    ordered.extend(
        all.into_iter()
            .filter(|k| !CHART_KPIS.contains(&k.as_str())),
    );
    ordered
}

fn policies_section(input: &ReportInput) -> Result<String> {
    let twin = &input.twin;
    let current = if summary::is_current_practice(&input.impact.twin) {
        " (the plant's current practice)"
    } else {
        ""
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<p>Line <code>{}</code>, {} replications of {} {} per policy, common random numbers (replication i of \
         every policy sees the same failures and demand). <code>{}</code> is the baseline{current}, <code>{}</code> \
         uses AI{}; other policies are shown for reference.</p>",
        escape(&twin.line),
        twin.replications,
        format_number(twin.horizon),
        escape(&twin.time_unit),
        escape(&twin.baseline_policy),
        escape(&twin.ai_policy),
        twin.model
            .as_ref()
            .map(|m| format!(" (model <code>{}</code>)", escape(m)))
            .unwrap_or_default()
    );
    let kpis = kpi_order(twin);
    out.push_str("<table id=\"kpis\"><tr><th class=\"l\">KPI (mean [95 % CI])</th>");
    for p in &twin.policies {
        let _ = write!(out, "<th>{}</th>", escape(&p.policy));
    }
    out.push_str("</tr>\n");
    for kpi in &kpis {
        let _ = write!(out, "<tr><td class=\"l\">{}</td>", escape(kpi));
        for p in &twin.policies {
            let _ = write!(
                out,
                "<td>{}</td>",
                p.kpis.get(kpi).map(estimate).unwrap_or_default()
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n<div class=\"charts\">\n");
    let highlight = twin
        .policies
        .iter()
        .position(|p| p.policy == twin.ai_policy);
    for kpi in kpis.iter().filter(|k| CHART_KPIS.contains(&k.as_str())) {
        let bars: Vec<(String, Estimate)> = twin
            .policies
            .iter()
            .filter_map(|p| p.kpis.get(kpi).map(|e| (p.policy.clone(), *e)))
            .collect();
        out.push_str(&svg_img(
            &charts::bars_with_ci(kpi, kpi, &bars, highlight)?,
            &format!("{kpi} by policy"),
        ));
    }
    out.push_str(&file_imgs(&twin.images)?);
    out.push_str("</div>\n");
    Ok(out)
}

fn threshold_section(input: &ReportInput) -> Result<String> {
    let Some(search) = &input.twin.threshold else {
        let mut out = unavailable(input, "threshold");
        if let Some(e) = &input.model_exam {
            let _ = writeln!(
                out,
                "<p>The predictive policy used alarm threshold {} ({}).</p>",
                format_number(e.threshold),
                escape(&e.threshold_source)
            );
        } else if let Some(m) = &input.model {
            let _ = writeln!(
                out,
                "<p>The predictive policy used the model's own decision threshold, {}.</p>",
                format_number(m.threshold)
            );
        }
        return Ok(out);
    };
    let best = search.points.iter().min_by(|a, b| {
        (a.threshold - search.best)
            .abs()
            .total_cmp(&(b.threshold - search.best).abs())
    });
    let mut out = format!(
        "<p id=\"best-threshold\">Best alarm threshold: <b>{}</b> ({} {}{}), searched over {} thresholds on the twin.</p>\n",
        format_number(search.best),
        if search.minimise { "minimising" } else { "maximising" },
        escape(&search.objective),
        best.map(|p| format!(", {} there", estimate(&p.value))).unwrap_or_default(),
        search.points.len()
    );
    if !search.points.is_empty() {
        out.push_str(&svg_img(
            &charts::threshold(search)?,
            "objective by alarm threshold",
        ));
    }
    Ok(out)
}

/// The drivers of the measured change, the check that their α recompose it, then the source document's
/// formula, labelled as the simplification it is.
fn impact_section(input: &ReportInput) -> Result<String> {
    let m = &input.impact;
    let mut out = String::from(
        "<p>The measured change splits into multiplicative drivers: productivity P (good parts per planned hour) \
         = availability × speed × yield, and value V (margin per planned hour) = P × margin per good part. Each \
         driver's ratio AI / baseline is one α term of the source document's model; drivers on the same path \
         share its factor by Shapley values, so no effect is counted twice.</p>\n",
    );
    out.push_str(&drivers_table(m));
    out.push_str(&recomposition(m));
    out.push_str(&formula_part(m)?);
    Ok(out)
}

fn drivers_table(m: &millwright_impact::MeasuredImpact) -> String {
    let mut out = String::from(
        "<table id=\"drivers\"><tr><th class=\"l\">driver</th><th class=\"l\">unit</th><th>baseline → AI</th>\
         <th>ratio AI / baseline</th><th class=\"l\">α term</th><th>α [95 % CI]</th></tr>\n",
    );
    for d in &m.drivers {
        let _ = writeln!(
            out,
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{} → {}</td><td>{}</td>\
             <td class=\"l\"><code>{}</code></td><td>{}</td></tr>",
            escape(&d.driver.name().replace('_', " ")),
            escape(&d.unit),
            format_number(d.baseline.mean),
            format_number(d.ai.mean),
            estimate(&d.ratio),
            escape(&d.term),
            estimate(&d.alpha)
        );
    }
    out.push_str("</table>\n");
    out
}

/// Π(1 + Σα) = P1/P0 (and V1/V0), with the largest error over the estimate and the resamples.
fn recomposition(m: &millwright_impact::MeasuredImpact) -> String {
    let ratio = |c: &millwright_impact::Change| {
        c.ratio
            .map_or_else(|| "undefined".to_owned(), |r| format_number(r.mean))
    };
    let value = match &m.f_value {
        Some(f) => format!(
            "; over all paths f<sub>V</sub> = {} equals the measured V1/V0 = {}",
            estimate(f),
            ratio(&m.value)
        ),
        None => "; the baseline margin is not above 0, so V1/V0 and the margin driver are left out"
            .to_owned(),
    };
    let given = summary::given_alphas(m);
    let given = if given.starts_with("user-given") {
        format!(
            " The user's α multiply in beside the measured ones ({}).",
            escape(&given)
        )
    } else {
        String::new()
    };
    format!(
        "<p id=\"recomposition\">Π(1 + Σα) over the productivity paths, f<sub>P</sub> = {}, equals the measured \
         P1/P0 = {}{value}. Largest relative difference over the estimate and every resample: {:.0e}.{given}</p>\n",
        estimate(&m.f_productivity),
        ratio(&m.productivity),
        m.twin.recomposition_error.max(f64::MIN_POSITIVE)
    )
}

/// The source document's single-f_AI model: path/term table, f_AI, P1 = P0·f_AI, V1 = V0·f_AI.
fn formula_part(m: &millwright_impact::MeasuredImpact) -> Result<String> {
    let f = &m.formula;
    let mut out = String::from(
        "<h3>The source document's formula: a simplification</h3>\n<p class=\"note\">The source document uses \
         one factor f<sub>AI</sub> for both P and V. With the measured α, f<sub>AI</sub> is the product over all \
         paths, so P1 = P0 · f<sub>AI</sub> also counts the margin's change as productivity; the measured P1/P0 \
         and V1/V0 above are the figures to use.</p>\n<p class=\"formula\">f<sub>p</sub> = 1 + Σ<sub>i</sub> \
         α<sub>p,i</sub>; f<sub>AI</sub> = Π<sub>p</sub> f<sub>p</sub>; P1 = P0 · f<sub>AI</sub>; V1 = V0 · \
         f<sub>AI</sub></p>\n",
    );
    out.push_str(&breakdown_table(f));
    let _ = writeln!(
        out,
        "<tr><td class=\"l\"><b>f<sub>AI</sub></b></td><td id=\"f-ai\">{}</td><td class=\"l\">Π f<sub>p</sub></td></tr>\n\
         <tr><td class=\"l\"><b>P1</b></td><td id=\"p1\">{}</td><td class=\"l\">P0 · f<sub>AI</sub>, P0 = {} {}</td></tr>\n\
         <tr><td class=\"l\"><b>V1</b></td><td id=\"v1\">{}</td><td class=\"l\">V0 · f<sub>AI</sub>, V0 = {} {}</td></tr>\n\
         <tr><td class=\"l\"><b>f<sub>AI</sub> − 1</b></td><td id=\"uplift\">{}</td><td class=\"l\">the source document's uplift</td></tr>\n</table>",
        estimate(&f.f_ai),
        estimate(&f.p1),
        format_number(f.p0.mean),
        escape(&m.productivity.unit),
        estimate(&f.v1),
        format_number(f.v0.mean),
        escape(&m.value.unit),
        percent_estimate(&f.uplift)
    );
    let mut factors: Vec<(String, Estimate)> = f
        .paths
        .iter()
        .map(|p| (short_path(&p.name), p.factor))
        .collect();
    factors.push(("f_AI".to_owned(), f.f_ai));
    let last = factors.len() - 1;
    out.push_str(&svg_img(
        &charts::bars_with_ci(
            "Path factors and f_AI (source formula)",
            "factor",
            &factors,
            Some(last),
        )?,
        "path factors and f_AI",
    ));
    Ok(out)
}

/// A path's name short enough for a bar label (`smart_manufacturing` → `manufacturing`); the table names
/// it in full.
fn short_path(name: &str) -> String {
    name.strip_prefix("smart_")
        .unwrap_or(name)
        .replace('_', " ")
}

/// The path and term rows of the source formula (the table is closed by the caller).
fn breakdown_table(f: &millwright_impact::Impact<Estimate>) -> String {
    let mut out = String::from("<table id=\"breakdown\"><tr><th class=\"l\">path / α term</th><th>value [95 % CI]</th><th class=\"l\">source</th></tr>\n");
    for path in &f.paths {
        let source = match path.factor_source {
            FactorSource::Given => format!(
                "factor given ({})",
                path.factor_origin.as_deref().unwrap_or("user")
            ),
            FactorSource::Terms => "1 + Σα".to_owned(),
        };
        let _ = writeln!(
            out,
            "<tr><td class=\"l\"><b>{}</b></td><td>f = {}</td><td class=\"l\">{}</td></tr>",
            escape(&path.label),
            estimate(&path.factor),
            escape(&source)
        );
        for term in &path.terms {
            let source = match (&term.source, &term.measurement) {
                (TermSource::Measured, Some(m)) => format!(
                    "measured: {} {} → {} (twin run {})",
                    m.kpi.replace('_', " "),
                    format_number(m.baseline_mean),
                    format_number(m.ai_mean),
                    m.twin_run
                ),
                (TermSource::Measured, None) => "measured".to_owned(),
                (TermSource::User, _) if term.origin == "default" => "not measured: 0".to_owned(),
                (TermSource::User, _) => format!("user-given ({})", term.origin),
            };
            let _ = writeln!(
                out,
                "<tr><td class=\"l\">&nbsp;&nbsp;{}</td><td>α = {}</td><td class=\"l\">{}</td></tr>",
                escape(&term.label),
                estimate(&term.alpha),
                escape(&source)
            );
        }
    }
    out
}

fn lineage_section(summary: &Summary) -> String {
    let mut out = String::from("<table id=\"lineage-table\"><tr><th class=\"l\">figure</th><th class=\"l\">comes from</th></tr>\n");
    for entry in &summary.lineage {
        let _ = writeln!(
            out,
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td></tr>",
            escape(&entry.figure),
            escape(&entry.source)
        );
    }
    out.push_str("</table>\n");
    out
}
