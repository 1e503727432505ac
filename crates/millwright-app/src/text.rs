//! Text views of results, for terminals and `text/plain` answers: the same tables whichever front door
//! shows them.

use std::fmt::Write;

use millwright_impact::format_number;
use millwright_learn::task::Task;
use millwright_learn::tracking::{RunComparison, RunRecord};
use millwright_learn::train::{TestMetrics, TrainOutcome};

use crate::data::Schema;
use crate::runs::{RunDetails, RunPage};
use millwright_data::lake::{DatasetSummary, VersionInfo};
use millwright_learn::registry::{AliasAction, AliasUpdate, Aliases, VersionSummary};
use millwright_twin::TwinResult;

/// A finished training: model, rows, CV scores, test metrics, importance and time.
pub fn training(trained: &TrainOutcome) -> String {
    let mut out = String::new();
    macro_rules! out {
        ($($arg:tt)*) => {{
            let _ = writeln!(out, $($arg)*);
        }};
    }
    let o = trained;
    let m = &o.manifest;
    out!(
        "model: {}@{} ({}, {})",
        m.name,
        m.version,
        m.kind,
        m.task.name()
    );
    if let Some(run) = &m.lineage.run {
        out!("run: {run}");
    }
    out!(
        "rows: {} train, {} test; features: {}",
        o.train_rows,
        o.test_rows,
        m.pipeline.output_names().join(", ")
    );
    for d in &m.pipeline.dropped {
        out!("dropped: {} ({})", d.name, d.reason);
    }
    if !o.cv.is_empty() {
        out!("cross-validation ({}):", o.cv[0].metric);
        for c in o.cv.iter().take(10) {
            out!(
                "  {:<9} {:.4} ± {:.4}  {}",
                c.kind.name(),
                c.mean,
                c.std,
                c.params
            );
        }
    }
    if let Some(last) = o.history.last() {
        out!(
            "epochs: {}; final train loss {:.4}, validation loss {:.4}",
            o.history.len(),
            last.train_loss,
            last.val_loss.unwrap_or(f64::NAN)
        );
    }
    if m.task == Task::Binary {
        out!(
            "threshold rule: {}",
            crate::report::describe_rule(&m.threshold_rule)
        );
    }
    out.push_str(&metrics(&o.test, m.threshold, &m.classes));
    let top: Vec<String> = o
        .importance
        .iter()
        .take(5)
        .map(|(n, v)| format!("{n} {v:.4}"))
        .collect();
    out!(
        "permutation importance (test score drop): {}",
        top.join(", ")
    );
    out!("time: fit {:.2} s, total {:.2} s", o.fit_seconds, o.seconds);
    out
}

/// One run: its record, params, final metrics, last epoch and files.
pub fn run_details(details: &RunDetails) -> String {
    let mut out = String::new();
    macro_rules! out {
        ($($arg:tt)*) => {{
            let _ = writeln!(out, $($arg)*);
        }};
    }
    let record = &details.record;
    out!("run:          {}", record.id);
    out!("name:         {}", record.spec.name);
    out!("model kind:   {}", record.spec.model_kind);
    if details.interrupted {
        let pid = record.pid.map_or(String::new(), |p| p.to_string());
        out!(
            "status:       running, but its process ({pid} on {}) is gone: interrupted",
            record.host
        );
    } else {
        out!("status:       {}", record.status);
    }
    if let Some(error) = &record.error {
        out!("error:        {error}");
    }
    out!("started:      {}", record.started_at.to_rfc3339());
    if let Some(d) = record.duration_s {
        out!("duration:     {d:.2} s");
    }
    out!(
        "dataset:      {}",
        serde_json::to_string(&record.spec.dataset).unwrap_or_default()
    );
    out!("code version: {}", record.spec.code_version);
    out!(
        "seed:         {}",
        record.spec.seed.map_or("-".to_string(), |s| s.to_string())
    );
    out!("host:         {}", record.host);
    out!("folder:       {}", details.dir.display());
    out!("\nparams:");
    out.push_str(&flat(&record.spec.params, "  "));
    out!("\nfinal metrics:");
    out.push_str(&flat(&record.final_metrics, "  "));
    if !details.last_epoch.is_empty() {
        out!("\nlast epoch ({} logged):", record.steps_logged);
        for (tag, value) in &details.last_epoch {
            out!("  {tag:<20} {}", show_value(&Some(value.clone())));
        }
    }
    out!("\nartefacts:");
    for (kind, path) in &details.files {
        out!("  {kind:<8} {}", path.display());
    }
    for path in &details.event_files {
        out!("  {:<8} {}", "events", path.display());
    }
    out
}

/// The objective at each searched value, the best one marked.
pub fn optimization(done: &crate::twin::Optimized, policy: &str) -> String {
    let mut out = String::new();
    macro_rules! out {
        ($($arg:tt)*) => {{
            let _ = writeln!(out, $($arg)*);
        }};
    }
    let opt = &done.optimization;
    let (kpi, knob) = (opt.objective.kpi(), opt.parameter.name());
    out!("{kpi} of {} by {knob}:", policy);
    for pt in &opt.points {
        let mark = if pt.value == opt.best.value {
            "  ← best"
        } else {
            ""
        };
        out!(
            "  {:>12}  {:>12.4}   95% CI [{:.4}, {:.4}]{mark}",
            format_number(pt.value),
            pt.mean,
            pt.ci_low,
            pt.ci_high
        );
    }
    out!(
        "best {knob} = {} with {kpi} {:.4} [{:.4}, {:.4}]; run {} stored in {} (optimization.png)",
        format_number(opt.best.value),
        opt.best.mean,
        opt.best.ci_low,
        opt.best.ci_high,
        done.run.result.run_id,
        done.run.dir.display()
    );
    for w in &opt.warnings {
        out!("warning: {}", w.describe(opt.parameter, opt.objective));
    }
    out
}

/// The figures a manager reads first, one per line, in English and Chinese.
pub fn headline(headline: &[millwright_report::Headline]) -> String {
    let mut out = String::new();
    for h in headline {
        let interval = if h.interval.is_empty() {
            String::new()
        } else {
            format!(" ({})", h.interval)
        };
        let _ = writeln!(
            out,
            "{} / {}: {}{interval} — {}",
            h.label, h.label_zh, h.text, h.detail
        );
    }
    out
}

/// The datasets of the lake, one a line.
pub fn datasets(list: &[DatasetSummary]) -> String {
    let mut out = String::new();
    macro_rules! out {
        ($($arg:tt)*) => {{
            let _ = writeln!(out, $($arg)*);
        }};
    }
    if list.is_empty() {
        out!("no datasets (add one with `millwright ingest FILE --dataset NAME`)");
        return out;
    }
    out!(
        "{:<32} {:>12} {:>8} {:>8} {:>12}",
        "dataset",
        "rows",
        "columns",
        "version",
        "size"
    );
    for d in list {
        out!(
            "{:<32} {:>12} {:>8} {:>8} {:>12}",
            d.name,
            d.rows.map_or("-".to_string(), |r| r.to_string()),
            d.columns,
            d.latest_version,
            human_bytes(d.size_bytes)
        );
    }
    out
}

/// The connectors of the home, one a line, with the last error under the one that had it.
pub fn connectors(list: &[crate::connect::status::ConnectorStatus]) -> String {
    let mut out = String::new();
    macro_rules! out {
        ($($arg:tt)*) => {{
            let _ = writeln!(out, $($arg)*);
        }};
    }
    if list.is_empty() {
        out!("no connectors have run on this home (start one with `millwright connect URL --dataset NAME`)");
        return out;
    }
    out!(
        "{:<20} {:<7} {:<13} {:>12} {:>9} {:>8} {:<20} url",
        "dataset",
        "kind",
        "state",
        "readings",
        "rejected",
        "commits",
        "last commit"
    );
    for c in list {
        let state = serde_json::to_value(c.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        out!(
            "{:<20} {:<7} {:<13} {:>12} {:>9} {:>8} {:<20} {}",
            c.dataset,
            c.kind,
            state,
            c.readings,
            c.rejected,
            c.commits,
            c.last_commit_at
                .map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
            c.url
        );
        if let (Some(error), Some(at)) = (&c.last_error, c.last_error_at) {
            out!("    last error {}: {error}", at.format("%Y-%m-%d %H:%M:%S"));
        }
    }
    out
}

/// A dataset's columns, one a line.
pub fn schema(schema: &Schema) -> String {
    let mut out = String::new();
    macro_rules! out {
        ($($arg:tt)*) => {{
            let _ = writeln!(out, $($arg)*);
        }};
    }
    out!("{} version {}", schema.dataset, schema.version);
    out!(
        "{:<4} {:<36} {:<12} {:<24} {:<8}",
        "pos",
        "column",
        "kind",
        "type",
        "nullable"
    );
    for c in &schema.columns {
        out!(
            "{:<4} {:<36} {:<12} {:<24} {:<8}",
            c.source_position,
            c.name,
            c.kind.as_deref().unwrap_or("-"),
            c.data_type,
            c.nullable
        );
    }
    out
}

/// A dataset's versions, one a line.
pub fn history(versions: &[VersionInfo]) -> String {
    let mut out = String::new();
    macro_rules! out {
        ($($arg:tt)*) => {{
            let _ = writeln!(out, $($arg)*);
        }};
    }
    out!(
        "{:>7}  {:<26} {:<10} {:<10} {:>10} {:>10} {:>11}  source",
        "version",
        "time",
        "operation",
        "mode",
        "written",
        "rows",
        "quarantined"
    );
    for v in versions {
        let opt = |x: Option<u64>| x.map_or("-".to_string(), |n| n.to_string());
        out!(
            "{:>7}  {:<26} {:<10} {:<10} {:>10} {:>10} {:>11}  {}",
            v.version,
            v.timestamp.as_deref().unwrap_or_default(),
            v.operation.as_deref().unwrap_or_default(),
            v.mode.as_deref().unwrap_or_default(),
            opt(v.rows_written),
            opt(v.table_rows),
            opt(v.rows_quarantined),
            v.source.as_deref().unwrap_or_default()
        );
    }
    out
}

/// Registered versions, one a line; `detailed` adds target, threshold and run.
pub fn models(list: &[VersionSummary], detailed: bool) -> String {
    let mut out = String::new();
    macro_rules! out {
        ($($arg:tt)*) => {{
            let _ = writeln!(out, $($arg)*);
        }};
    }
    out!(
        "{:<20} {:>7} {:<9} {:<10} {:>9} {:>9} {:>9} {:<20} {:<16} dataset",
        "name",
        "version",
        "kind",
        "task",
        "accuracy",
        "f1",
        "roc_auc",
        "created",
        "aliases"
    );
    for v in list {
        let get = |k: &str| {
            v.metrics
                .get(k)
                .and_then(serde_json::Value::as_f64)
                .map_or("-".to_string(), |x| format!("{x:.4}"))
        };
        out!(
            "{:<20} {:>7} {:<9} {:<10} {:>9} {:>9} {:>9} {:<20} {:<16} {}",
            v.name,
            v.version,
            v.kind.name(),
            v.task,
            get("accuracy"),
            get("f1"),
            get("roc_auc"),
            v.created,
            if v.aliases.is_empty() {
                "-".to_owned()
            } else {
                v.aliases.join(",")
            },
            v.dataset
        );
        if detailed {
            out!(
                "{:>28} target {}, threshold {:.4}, run {}",
                "",
                v.target,
                v.threshold,
                v.run.as_deref().unwrap_or("-")
            );
        }
    }
    out
}

/// A model's aliases (alias → version) and every move of them, oldest first.
pub fn aliases(name: &str, table: &Aliases) -> String {
    let mut out = String::new();
    macro_rules! out {
        ($($arg:tt)*) => {{
            let _ = writeln!(out, $($arg)*);
        }};
    }
    if table.aliases.is_empty() {
        out!("model {name} has no aliases (set one with `millwright models promote {name}@VERSION --alias production`)");
    } else {
        out!("{:<16} version", "alias");
        for (alias, version) in &table.aliases {
            out!("{alias:<16} {version}");
        }
    }
    if !table.history.is_empty() {
        out!("\nhistory:");
        out!(
            "{:<25} {:<9} {:<16} {:>5}    {:<5} actor",
            "when (UTC)",
            "action",
            "alias",
            "from",
            "to"
        );
        for c in &table.history {
            out!(
                "{:<25} {:<9} {:<16} {:>5} -> {:<5} {}",
                c.at,
                alias_action(c.action),
                c.alias,
                c.from.map_or("-".to_owned(), |v| v.to_string()),
                c.to,
                c.actor
            );
        }
    }
    out
}

fn alias_action(action: AliasAction) -> &'static str {
    match action {
        AliasAction::Promote => "promote",
        AliasAction::Rollback => "rollback",
    }
}

/// One alias move: `production: failure@2 -> failure@3 (promote by alice)`.
pub fn alias_update(update: &AliasUpdate) -> String {
    let c = &update.change;
    if !update.changed {
        return format!(
            "{}: already {}@{}; nothing changed\n",
            c.alias, update.name, c.to
        );
    }
    let from = c
        .from
        .map_or("(new)".to_owned(), |v| format!("{}@{v}", update.name));
    format!(
        "{}: {from} -> {}@{} ({} by {})\n",
        c.alias,
        update.name,
        c.to,
        alias_action(c.action),
        c.actor
    )
}

/// Scores, one row a line: row, score, decision.
pub fn predictions(p: &crate::predict::Predictions) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "model {}@{} ({}, threshold {:.4}), {} rows",
        p.model,
        p.version,
        p.task,
        p.threshold,
        p.predictions.len()
    );
    let _ = writeln!(out, "{:>7} {:>12}  decision", "row", "score");
    for (i, s) in p.predictions.iter().enumerate() {
        let _ = writeln!(out, "{i:>7} {:>12.6}  {}", s.score, s.decision);
    }
    out
}

/// A page of runs, one a line, and which runs of how many it shows.
pub fn runs_page(page: &RunPage) -> String {
    let mut out = String::new();
    macro_rules! out {
        ($($arg:tt)*) => {{
            let _ = writeln!(out, $($arg)*);
        }};
    }
    if page.total == 0 {
        out!(
            "no runs in {} match (every `millwright train` records one)",
            page.root.display()
        );
        return out;
    }
    out!(
        "{:<26} {:<16} {:<9} {:<8} {:<20} {:>9} {:>9} {:>9} dataset",
        "run",
        "name",
        "model",
        "status",
        "started (UTC)",
        "duration",
        "accuracy",
        "roc_auc"
    );
    for run in page.runs.iter().map(|r| &r.record) {
        let metric = |k: &str| run.metric(k).map_or("-".to_string(), |v| format!("{v:.4}"));
        out!(
            "{:<26} {:<16} {:<9} {:<8} {:<20} {:>9} {:>9} {:>9} {}",
            run.id,
            run.spec.name,
            run.spec.model_kind,
            status_text(run),
            run.started_at.format("%Y-%m-%d %H:%M:%S"),
            run.duration_s
                .map_or("-".to_string(), |d| format!("{d:.1}s")),
            metric("accuracy"),
            metric("roc_auc"),
            run.spec.dataset.label(),
        );
    }
    let shown_to = page.offset + page.runs.len() as u64;
    out!("runs {}–{} of {}", page.offset + 1, shown_to, page.total);
    out
}

/// A run's status; `interrupted` for a "running" run whose process is gone.
pub fn status_text(run: &RunRecord) -> String {
    if run.is_interrupted() {
        "interrupted".to_string()
    } else {
        run.status.to_string()
    }
}

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
                    out!("  {k:<20} {m:>12.4}   95% CI [{lo:.4}, {hi:.4}]");
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

/// Sizes as people read them (`1.50 MiB`); a few lines where a crate would be a dependency for one call.
/// The trash of deleted datasets: id, name, latest version, size, who deleted it and when.
pub fn trash(entries: &[millwright_data::trash::TrashedDataset]) -> String {
    if entries.is_empty() {
        return "the trash is empty\n".to_owned();
    }
    let mut out = format!(
        "{:<44} {:<24} {:>7} {:>10}  {:<12} {}\n",
        "id", "dataset", "latest", "size", "deleted by", "deleted at"
    );
    for e in entries {
        out.push_str(&format!(
            "{:<44} {:<24} {:>7} {:>10}  {:<12} {}\n",
            e.id,
            e.name,
            e.latest_version,
            human_bytes(e.size_bytes),
            e.deleted_by,
            e.deleted_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ));
    }
    out
}

/// What a vacuum removed.
pub fn vacuumed(v: &crate::data::Vacuumed) -> String {
    if v.purged.is_empty() {
        return "nothing to vacuum\n".to_owned();
    }
    let mut out = String::new();
    for p in &v.purged {
        out.push_str(&format!("removed {} for good\n", p.id));
    }
    out.push_str(&format!("freed {}\n", human_bytes(v.freed_bytes)));
    out
}

/// The line `ingest` prints about rows that repeat stored ones, if there were any.
pub fn stored_duplicates(outcome: &millwright_data::ingest::IngestOutcome) -> Option<String> {
    let d = outcome.duplicates.as_ref().filter(|d| d.rows > 0)?;
    let example = d
        .example
        .as_deref()
        .map_or(String::new(), |e| format!("; e.g. {e}"));
    Some(if d.skipped {
        format!(
            "skipped {} rows whose key ({}) is already stored{example}",
            d.rows,
            d.key.join(", ")
        )
    } else {
        format!(
            "warning: {} of the rows appended repeat rows already stored in {}{example} (stored anyway; --key COLUMNS skips them)",
            d.rows, outcome.dataset
        )
    })
}

/// What `lake compact` did.
pub fn compacted(c: &millwright_data::maintenance::Compacted) -> String {
    let Some(version) = c.version else {
        return format!(
            "{}: nothing to compact ({} files, {})\n",
            c.dataset,
            c.files_before,
            human_bytes(c.bytes_before)
        );
    };
    format!(
        "compacted {} into version {version}: {} files ({}) -> {} files ({}); {} rows, earlier versions still readable\n",
        c.dataset,
        c.files_before,
        human_bytes(c.bytes_before),
        c.files_after,
        human_bytes(c.bytes_after),
        c.table_rows.map_or("?".to_owned(), |r| r.to_string()),
    )
}

/// What `lake vacuum` removed, or would remove with `--dry-run`.
pub fn lake_vacuumed(v: &crate::lake::LakeVacuumed) -> String {
    let verb = if v.dry_run { "would remove" } else { "removed" };
    let mut out = String::new();
    for t in &v.tables {
        for f in &t.files {
            out.push_str(&format!(
                "{verb} {}/{} ({})\n",
                t.dataset,
                f.path,
                human_bytes(f.bytes)
            ));
        }
        if let Some(from) = t.readable_from {
            out.push_str(&format!(
                "{}: versions before {from} {} readable after this (retention {})\n",
                t.dataset,
                if v.dry_run {
                    "would no longer be"
                } else {
                    "are no longer"
                },
                millwright_data::maintenance::human_duration(t.retain_s)
            ));
        }
    }
    out.push_str(&format!(
        "{} {} files, {}{}\n",
        verb,
        v.files,
        human_bytes(v.bytes),
        if v.dry_run {
            " (dry run: nothing removed)"
        } else {
            " freed"
        }
    ));
    out
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let (mut value, mut unit) = (bytes as f64, 0);
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.2} {}", UNITS[unit])
    }
}

/// The summary a connector prints when it stops.
pub fn connect_result(result: &crate::connect::MqttResult) -> String {
    format!(
        "stored {} readings from {} messages in {} ({} commits, latest version {}); {} rejected to {}__quarantine, {} redeliveries skipped",
        result.readings,
        result.messages,
        result.dataset,
        result.commits,
        result.latest_version.map_or("none".into(), |v| v.to_string()),
        result.rejected,
        result.dataset,
        result.duplicates
    )
}

/// The summary the drop-folder connector prints when it stops.
pub fn folder_result(result: &crate::connect::folder::FolderResult) -> String {
    format!(
        "{}: {} files ({} rows) taken, {} failed, {} already stored; latest version {}",
        result.dataset,
        result.files,
        result.rows,
        result.failed,
        result.already_stored,
        result.latest_version.map_or("-".into(), |v| v.to_string())
    )
}

/// The summary a sampled connector (OPC UA, Modbus) prints when it stops.
pub fn sampled_result(result: &crate::connect::SampledResult) -> String {
    format!(
        "{} readings from {} samples stored in dataset {:?} in {} commits (latest version {}); {} rejected to its quarantine",
        result.readings,
        result.samples,
        result.dataset,
        result.commits,
        result.latest_version.map_or("-".into(), |v| v.to_string()),
        result.rejected
    )
}

/// The nodes `opcua browse` found, indented by depth.
pub fn browsed_nodes(nodes: &[millwright_connect::opcua::browse::BrowsedNode]) -> String {
    let mut out = String::new();
    for node in nodes {
        let indent = "  ".repeat(node.depth.saturating_sub(1));
        let value = node
            .value
            .as_ref()
            .map_or(String::new(), |v| format!(" = {v}"));
        out.push_str(&format!(
            "{indent}{}  {}  [{}]{value}\n",
            node.node_id, node.display_name, node.class
        ));
    }
    if nodes.is_empty() {
        out.push_str("no nodes below the start node\n");
    }
    out
}

/// One line per connector event: a connector runs for days, so each event is a log line.
pub fn connect_event(event: &millwright_connect::ConnectEvent) -> String {
    use millwright_connect::ConnectEvent;
    match event {
        ConnectEvent::Connected { session_present } => format!(
            "connected ({})",
            if *session_present { "session resumed" } else { "new session" }
        ),
        ConnectEvent::Subscribed { filters } => format!("subscribed to {}", filters.join(", ")),
        ConnectEvent::SubscribeRefused { filter } => {
            format!("the peer refused the subscription to {filter}")
        }
        ConnectEvent::ReconnectFailed { reason } => {
            format!("reconnecting failed ({reason}); trying again")
        }
        ConnectEvent::Monitoring {
            items,
            refused,
            polling_ms,
        } => match polling_ms {
            Some(ms) => format!("polling {items} items every {ms} ms"),
            None => format!("monitoring {items} items ({refused} refused)"),
        },
        ConnectEvent::ConnectionLost {
            reason,
            retry_in_ms,
        } => format!(
            "connection lost ({reason}); reconnecting in {:.1} s",
            *retry_in_ms as f64 / 1000.0
        ),
        ConnectEvent::Committed {
            version,
            messages,
            readings,
            rejected,
            duplicates,
            total_messages,
            total_readings,
        } => format!(
            "committed {readings} readings from {messages} messages (version {}; {rejected} rejected, {duplicates} redeliveries skipped); {total_readings} readings from {total_messages} messages so far",
            version.map_or("-".into(), |v| v.to_string())
        ),
        ConnectEvent::CommitFailed { reason } => {
            format!("commit failed, nothing acknowledged, retrying: {reason}")
        }
    }
}
