//! Text views of results, for terminals and `text/plain` answers: the same tables whichever front door
//! shows them.

use std::fmt::Write;

use millwright_learn::tracking::{RunComparison, RunRecord};
use millwright_learn::train::TestMetrics;
use millwright_twin::TwinResult;

/// Test metrics one per line, with the confusion matrix of a binary model.
pub fn metrics(test: &TestMetrics, threshold: f64, classes: &[String]) -> String {
    let mut out = String::new();
    macro_rules! out {
        ($($arg:tt)*) => {{
            let _ = writeln!(out, $($arg)*);
        }};
    }
    match test {
        TestMetrics::Binary(b) => {
            out!("threshold: {threshold:.4}");
            for (name, value) in [
                ("accuracy", b.accuracy),
                ("precision", b.precision),
                ("recall", b.recall),
            ] {
                out!("test {name}: {value:.4}");
            }
            out!("test f1: {:.4}  (macro f1 {:.4})", b.f1, b.macro_f1);
            for (name, value) in [
                ("roc_auc", b.roc_auc),
                ("pr_auc", b.pr_auc),
                ("log_loss", b.log_loss),
                ("brier", b.brier),
            ] {
                out!("test {name}: {value:.4}");
            }
            let [[tn, fp], [fn_, tp]] = b.confusion_matrix;
            let (neg, pos) = (&classes[0], &classes[1]);
            out!("confusion matrix (rows true, columns predicted):");
            out!("  {:>10} {:>8} {:>8}", "", neg, pos);
            out!("  {:>10} {:>8} {:>8}", neg, tn, fp);
            out!("  {:>10} {:>8} {:>8}", pos, fn_, tp);
        }
        TestMetrics::Multiclass(m) => {
            out!("test accuracy: {:.4}", m.accuracy);
            out!("test macro f1: {:.4}", m.macro_f1);
            out!("test log_loss: {:.4}", m.log_loss);
            for (c, s) in classes.iter().zip(&m.per_class) {
                out!(
                    "  {c:>10}: precision {:.4} recall {:.4} f1 {:.4} ({} rows)",
                    s.precision,
                    s.recall,
                    s.f1,
                    s.support
                );
            }
        }
        TestMetrics::Regression(r) => {
            out!("test rmse: {:.4}", r.rmse);
            out!("test mae: {:.4}", r.mae);
            out!("test r2: {:.4}", r.r2);
        }
    }
    out
}

const SHOWN: &[&str] = &[
    "throughput",
    "oee",
    "availability",
    "performance",
    "quality",
    "scrap_rate",
    "cost_per_good_part",
    "unplanned_downtime",
    "failures",
    "maintenance_actions",
    "mtbf",
    "mttr",
    "wip",
];

/// Each policy's KPIs with their 95 % intervals.
pub fn twin_kpis(result: &TwinResult) -> String {
    let mut out = String::new();
    macro_rules! out {
        ($($arg:tt)*) => {{
            let _ = writeln!(out, $($arg)*);
        }};
    }
    out!(
        "line {} · {} replications × {} {} (warm-up {}) · seed {}",
        result.line.name,
        result.replications,
        result.horizon,
        result.time_unit,
        result.warmup,
        result.seed
    );
    for p in &result.policies {
        out!("\n{}  — {}", p.policy, p.description);
        for k in SHOWN {
            let Some(s) = p.kpis.get(*k) else { continue };
            match (s.mean, s.ci_low, s.ci_high) {
                (Some(m), Some(lo), Some(hi)) => {
                    out!("  {k:<20} {m:>12.4}   95% CI [{lo:.4}, {hi:.4}]")
                }
                (Some(m), _, _) => out!("  {k:<20} {m:>12.4}"),
                _ => out!("  {k:<20} {:>12}", "—"),
            }
        }
    }
    out
}

/// Two runs side by side: the params that differ and how the metrics moved (Δ = B − A).
pub fn run_comparison(ra: &RunRecord, rb: &RunRecord, cmp: &RunComparison) -> String {
    let mut out = String::new();
    macro_rules! out {
        ($($arg:tt)*) => {{
            let _ = writeln!(out, $($arg)*);
        }};
    }
    out!(
        "A: {}  ({} {}, {})",
        ra.id,
        ra.spec.name,
        ra.spec.model_kind,
        ra.status
    );
    out!(
        "B: {}  ({} {}, {})",
        rb.id,
        rb.spec.name,
        rb.spec.model_kind,
        rb.status
    );
    let changed: Vec<_> = cmp.changed_params().collect();
    out!(
        "\nparams that differ ({} of {}):",
        changed.len(),
        cmp.params.len()
    );
    for d in changed {
        out!(
            "  {:<32} {:<24} → {}",
            d.key,
            show_value(&d.a),
            show_value(&d.b)
        );
    }
    for (title, diffs) in [
        ("final metrics", &cmp.metrics),
        ("last epoch", &cmp.last_epoch),
    ] {
        if diffs.is_empty() {
            continue;
        }
        out!("\n{title} (A → B, Δ = B − A):");
        // Text shows numbers only (lists and labels are in `--json`).
        let numeric =
            |v: &Option<serde_json::Value>| v.as_ref().is_some_and(serde_json::Value::is_number);
        for d in diffs.iter().filter(|d| numeric(&d.a) || numeric(&d.b)) {
            let delta = d.delta.map_or(String::new(), |x| {
                let sign = if x >= 0.0 { "+" } else { "" };
                format!("Δ {sign}{}", fmt_number(x))
            });
            out!(
                "  {:<32} {:<14} {:<14} {delta}",
                d.key,
                show_value(&d.a),
                show_value(&d.b)
            );
        }
    }
    out
}

pub fn show_value(v: &Option<serde_json::Value>) -> String {
    match v {
        None => "(absent)".to_string(),
        Some(serde_json::Value::Number(n)) => match n.as_f64() {
            Some(x) if n.is_f64() => fmt_number(x),
            _ => n.to_string(),
        },
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Four decimals for ordinary magnitudes; scientific notation where that would hide the value (ε = 1e-7).
pub fn fmt_number(x: f64) -> String {
    if x == 0.0 || (1e-3..1e6).contains(&x.abs()) {
        format!("{x:.4}")
    } else {
        format!("{x:.4e}")
    }
}

/// A JSON object one `key value` line each, nested keys joined with dots, indented.
pub fn flat(value: &serde_json::Value, indent: &str) -> String {
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
        match v {
            serde_json::Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            other => out.push((prefix.to_string(), show_value(&Some(other.clone())))),
        }
    }
    let mut lines = Vec::new();
    walk("", value, &mut lines);
    if lines.iter().all(|(k, _)| k.is_empty()) {
        return format!("{indent}(none)\n");
    }
    lines
        .iter()
        .map(|(k, v)| format!("{indent}{k:<32} {v}\n"))
        .collect()
}
