//! Models: the registry (every model, its versions and aliases), one model with promote and roll back for
//! operators, and one version with what its tracked run kept: metrics, ROC and precision-recall curves,
//! the confusion matrix, calibration and feature importance.

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{html, Markup};
use millwright_learn::registry::{AliasAction, Aliases, VersionSummary};
use serde_json::{json, Value};

use crate::store::Role;
use crate::ui::i18n::{common, number, Lang};
use crate::ui::layout::{self, Section};
use crate::ui::session::Ctx;
use crate::AppState;

pub(crate) struct Text {
    pub title: &'static str,
    no_models: &'static str,
    model: &'static str,
    versions: &'static str,
    pub task: &'static str,
    pub dataset: &'static str,
    threshold: &'static str,
    pub metrics: &'static str,
    aliases: &'static str,
    alias: &'static str,
    points_at: &'static str,
    alias_history: &'static str,
    when: &'static str,
    actor: &'static str,
    action: &'static str,
    from: &'static str,
    to: &'static str,
    promoted: &'static str,
    rolled_back: &'static str,
    promote: &'static str,
    promote_to: &'static str,
    promote_hint: &'static str,
    roll_back_to: &'static str,
    confirm_rollback: &'static str,
    no_aliases: &'static str,
    pub run: &'static str,
    target: &'static str,
    summary: &'static str,
    confusion: &'static str,
    actual: &'static str,
    predicted: &'static str,
    per_class: &'static str,
    class: &'static str,
    precision: &'static str,
    recall: &'static str,
    support: &'static str,
    roc: &'static str,
    pr: &'static str,
    false_positive_rate: &'static str,
    true_positive_rate: &'static str,
    this_model: &'static str,
    chance: &'static str,
    calibration: &'static str,
    predicted_probability: &'static str,
    observed_rate: &'static str,
    perfect: &'static str,
    rows: &'static str,
    importance: &'static str,
    importance_hint: &'static str,
    feature: &'static str,
    score_drop: &'static str,
    pub cv: &'static str,
    pub fold: &'static str,
    pub mean: &'static str,
    pub std: &'static str,
    pub numbers: &'static str,
    no_run: &'static str,
    all_runs: &'static str,
    train_new: &'static str,
    no_curves: &'static str,
    binary: &'static str,
    multiclass: &'static str,
    regression: &'static str,
    pub metric: &'static str,
    pub value: &'static str,
}

const EN: Text = Text {
    title: "Models",
    no_models: "No model is registered yet. Train one to see it here.",
    model: "Model",
    versions: "Versions",
    task: "Task",
    dataset: "Dataset",
    threshold: "Decision threshold",
    metrics: "Test metrics",
    aliases: "Aliases",
    alias: "Alias",
    points_at: "Version",
    alias_history: "Alias history",
    when: "When",
    actor: "By",
    action: "Change",
    from: "From version",
    to: "To version",
    promoted: "promoted",
    rolled_back: "rolled back",
    promote: "Promote",
    promote_to: "Promote to",
    promote_hint: "Point an alias at a version: predictions by alias (e.g. production) use it at once.",
    roll_back_to: "Roll back to version",
    confirm_rollback: "Move the alias back to the version it named before?",
    no_aliases: "No alias names a version of this model yet.",
    run: "Training run",
    target: "Target column",
    summary: "Summary",
    confusion: "Confusion matrix",
    actual: "Actual",
    predicted: "Predicted",
    per_class: "Scores per class",
    class: "Class",
    precision: "Precision",
    recall: "Recall",
    support: "Rows",
    roc: "ROC curve",
    pr: "Precision-recall curve",
    false_positive_rate: "False positive rate",
    true_positive_rate: "True positive rate",
    this_model: "This model",
    chance: "Chance",
    calibration: "Calibration",
    predicted_probability: "Predicted probability",
    observed_rate: "Observed rate",
    perfect: "Perfectly calibrated",
    rows: "Rows",
    importance: "Feature importance",
    importance_hint: "How much the test score drops when the feature's values are shuffled.",
    feature: "Feature",
    score_drop: "Score drop",
    cv: "Cross-validation",
    fold: "Fold",
    mean: "Mean",
    std: "Standard deviation",
    numbers: "The numbers",
    no_run: "The training run of this version is not in the run store any more.",
    all_runs: "All training runs",
    train_new: "Train a new model",
    no_curves: "This version's run kept no curve data (not a binary model, or trained by an older version).",
    binary: "binary",
    multiclass: "multiclass",
    regression: "regression",
    metric: "Metric",
    value: "Value",
};

const ZH: Text = Text {
    title: "模型",
    no_models: "尚未注册任何模型。训练一个模型后会显示在这里。",
    model: "模型",
    versions: "版本",
    task: "任务",
    dataset: "数据集",
    threshold: "判定阈值",
    metrics: "测试指标",
    aliases: "别名",
    alias: "别名",
    points_at: "版本",
    alias_history: "别名变更记录",
    when: "时间",
    actor: "操作人",
    action: "变更",
    from: "原版本",
    to: "新版本",
    promoted: "发布",
    rolled_back: "回滚",
    promote: "发布",
    promote_to: "发布为",
    promote_hint: "将别名指向某个版本：按别名（如 production）的预测会立即使用该版本。",
    roll_back_to: "回滚到版本",
    confirm_rollback: "将该别名移回之前指向的版本？",
    no_aliases: "此模型尚无版本带有别名。",
    run: "训练运行",
    target: "目标列",
    summary: "摘要",
    confusion: "混淆矩阵",
    actual: "实际",
    predicted: "预测",
    per_class: "各类别得分",
    class: "类别",
    precision: "精确率",
    recall: "召回率",
    support: "行数",
    roc: "ROC 曲线",
    pr: "精确率-召回率曲线",
    false_positive_rate: "误报率",
    true_positive_rate: "检出率",
    this_model: "本模型",
    chance: "随机猜测",
    calibration: "概率校准",
    predicted_probability: "预测概率",
    observed_rate: "实际发生率",
    perfect: "理想校准",
    rows: "行数",
    importance: "特征重要性",
    importance_hint: "打乱该特征的取值后，测试得分下降的幅度。",
    feature: "特征",
    score_drop: "得分下降",
    cv: "交叉验证",
    fold: "折",
    mean: "均值",
    std: "标准差",
    numbers: "具体数值",
    no_run: "此版本的训练运行已不在运行记录中。",
    all_runs: "全部训练运行",
    train_new: "训练新模型",
    no_curves: "此版本的运行未保存曲线数据（非二分类模型，或由旧版本训练）。",
    binary: "二分类",
    multiclass: "多分类",
    regression: "回归",
    metric: "指标",
    value: "数值",
};

pub(crate) fn text(lang: Lang) -> &'static Text {
    lang.pick(&EN, &ZH)
}

/// The task's name in the page's language (the registry stores `binary`, `multiclass`, `regression`).
pub(crate) fn task_name(lang: Lang, task: &str) -> Markup {
    let t = text(lang);
    let known = match task {
        "binary" => Some(t.binary),
        "multiclass" => Some(t.multiclass),
        "regression" => Some(t.regression),
        _ => None,
    };
    match known {
        Some(name) => html! { (name) },
        None => html! { span translate="no" { (task) } },
    }
}

/// The metrics a list shows for a version: the first three of these its metrics hold.
const HEADLINE: [&str; 8] = [
    "roc_auc", "pr_auc", "f1", "accuracy", "macro_f1", "rmse", "mae", "r2",
];

pub(crate) fn headline(metrics: &Value) -> Vec<(&'static str, f64)> {
    HEADLINE
        .iter()
        .filter_map(|k| Some((*k, metrics.get(*k)?.as_f64()?)))
        .take(3)
        .collect()
}

pub(crate) fn headline_cell(metrics: &Value) -> Markup {
    html! {
        @for (k, v) in headline(metrics) {
            span .badge translate="no" { (k) " " (number(v, 3)) } " "
        }
    }
}

fn alias_badges(aliases: &[String]) -> Markup {
    html! { @for a in aliases { span .badge translate="no" { (a) } " " } }
}

fn version_href(name: &str, version: u32) -> String {
    format!("/ui/models/{name}/{version}")
}

fn versions_table(ctx: &Ctx, versions: &[&VersionSummary]) -> Markup {
    let t = text(ctx.lang);
    let c = common(ctx.lang);
    html! {
        div .scroll {
            table {
                thead { tr {
                    th { (c.version) } th { (c.kind) } th { (t.task) } th { (t.dataset) } th { (c.created) }
                    th .num { (t.threshold) } th { (t.metrics) } th { (t.aliases) }
                } }
                tbody {
                    @for v in versions.iter().rev() {
                        tr {
                            td translate="no" { a href=(version_href(&v.name, v.version)) { (v.name) "@" (v.version) } }
                            td translate="no" { (v.kind.to_string()) }
                            td { (task_name(ctx.lang, &v.task)) }
                            td translate="no" { (v.dataset) }
                            td { (created(ctx.lang, &v.created)) }
                            td .num { (number(v.threshold, 3)) }
                            td { (headline_cell(&v.metrics)) }
                            td { (alias_badges(&v.aliases)) }
                        }
                    }
                }
            }
        }
    }
}

/// `/ui/models`: every model and its versions.
pub async fn index(State(state): State<AppState>, ctx: Ctx) -> Response {
    let all = match millwright_app::learn::models(&state.home, None) {
        Ok(m) => m,
        Err(e) => return super::failure(&ctx, e),
    };
    let t = text(ctx.lang);
    let mut names: Vec<&str> = all.iter().map(|v| v.name.as_str()).collect();
    names.dedup();
    let body = html! {
        h1 { (t.title) }
        p {
            a href="/ui/runs" { (t.all_runs) }
            @if ctx.may(Role::Operator) { " · " a href="/ui/train" { (t.train_new) } }
        }
        @if all.is_empty() { p { (t.no_models) } }
        @for name in &names {
            @let versions: Vec<&VersionSummary> = all.iter().filter(|v| v.name == *name).collect();
            section aria-labelledby={ "model-" (name) } {
                h2 id={ "model-" (name) } { (t.model) " " a translate="no" href={ "/ui/models/" (name) } { (name) } }
                (versions_table(&ctx, &versions))
            }
        }
    };
    layout::page(&ctx, Section::Models, t.title, body)
}

/// `/ui/models/{name}`: the versions, the aliases with promote and roll back, the alias history.
pub async fn model(State(state): State<AppState>, ctx: Ctx, Path(name): Path<String>) -> Response {
    let versions = match millwright_app::learn::models(&state.home, Some(&name)) {
        Ok(v) => v,
        Err(e) => return super::failure(&ctx, e),
    };
    let aliases = match millwright_app::learn::aliases(&state.home, &name) {
        Ok(a) => a,
        Err(e) => return super::failure(&ctx, e),
    };
    let t = text(ctx.lang);
    let c = common(ctx.lang);
    let refs: Vec<&VersionSummary> = versions.iter().collect();
    let body = html! {
        h1 { (t.model) " " span translate="no" { (name) } }
        p { a href="/ui/models" { (t.title) } }
        section aria-labelledby="model-versions" {
            h2 #model-versions { (t.versions) }
            (versions_table(&ctx, &refs))
        }
        section aria-labelledby="model-aliases" {
            h2 #model-aliases { (t.aliases) }
            (alias_table(&ctx, &name, &aliases))
        }
        @if ctx.may(Role::Operator) {
            section aria-labelledby="model-promote" {
                h2 #model-promote { (t.promote) }
                p .hint { (t.promote_hint) }
                (promote_table(&ctx, &name, &versions, &aliases))
            }
        }
        @if !aliases.history.is_empty() {
            section aria-labelledby="model-history" {
                h2 #model-history { (t.alias_history) }
                div .scroll { table {
                    thead { tr { th { (t.when) } th { (t.alias) } th { (t.action) } th .num { (t.from) } th .num { (t.to) } th { (t.actor) } } }
                    tbody {
                        @for change in aliases.history.iter().rev() {
                            tr {
                                td translate="no" { (change.at) }
                                td translate="no" { (change.alias) }
                                td { (match change.action { AliasAction::Promote => t.promoted, AliasAction::Rollback => t.rolled_back }) }
                                td .num { @if let Some(f) = change.from { (f) } @else { "—" } }
                                td .num { (change.to) }
                                td translate="no" { (change.actor) }
                            }
                        }
                    }
                } }
            }
        }
        p { a href="/ui/models" { (c.back) } }
    };
    // Titles hold labels only: a tab's title cannot mark a name as data for translators.
    layout::page(&ctx, Section::Models, t.model, body)
}

fn alias_table(ctx: &Ctx, name: &str, aliases: &Aliases) -> Markup {
    let t = text(ctx.lang);
    if aliases.aliases.is_empty() {
        return html! { p #alias-list { (t.no_aliases) } };
    }
    html! {
        table #alias-list {
            thead { tr { th { (t.alias) } th .num { (t.points_at) } @if ctx.may(Role::Operator) { th { (t.action) } } } }
            tbody {
                @for (alias, version) in &aliases.aliases {
                    tr data-alias=(alias) {
                        td translate="no" { (alias) }
                        td .num { a href=(version_href(name, *version)) { (version) } }
                        @if ctx.may(Role::Operator) {
                            td {
                                @if let Some(Some(back)) = aliases.rollback_target(alias) {
                                    button .secondary type="button" data-rollback=(alias)
                                        data-api={ "/api/v1/models/" (name) "/aliases/" (alias) "/rollback" }
                                        data-confirm=(t.confirm_rollback) data-then="reload" {
                                        (t.roll_back_to) " " (back)
                                    }
                                    output {}
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The aliases offered for a promote: production and staging, then any other the model has.
fn promote_aliases(aliases: &Aliases) -> Vec<String> {
    let mut names = vec!["production".to_owned(), "staging".to_owned()];
    for a in aliases.aliases.keys() {
        if !names.contains(a) {
            names.push(a.clone());
        }
    }
    names
}

fn promote_table(ctx: &Ctx, name: &str, versions: &[VersionSummary], aliases: &Aliases) -> Markup {
    let t = text(ctx.lang);
    let c = common(ctx.lang);
    let offered = promote_aliases(aliases);
    html! {
        div .scroll { table #promote {
            thead { tr { th { (c.version) } th { (t.promote_to) } } }
            tbody {
                @for v in versions.iter().rev() {
                    tr {
                        td translate="no" { (v.name) "@" (v.version) }
                        td {
                            div .toolbar {
                                @for alias in &offered {
                                    @if aliases.get(alias) != Some(v.version) {
                                        button type="button" data-promote={ (alias) "@" (v.version) }
                                            data-api={ "/api/v1/models/" (name) "/aliases/" (alias) }
                                            data-body=(json!({"version": v.version}).to_string()) data-then="reload" {
                                            (t.promote_to) " " span translate="no" { (alias) }
                                        }
                                    }
                                }
                            }
                            output {}
                        }
                    }
                }
            }
        } }
    }
}

/// `/ui/models/{name}/{version}`: one version with its run's evaluation.
pub async fn version(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((name, version)): Path<(String, String)>,
) -> Response {
    let versions = match millwright_app::learn::models(&state.home, Some(&name)) {
        Ok(v) => v,
        Err(e) => return super::failure(&ctx, e),
    };
    // A version that is not a number is as absent as one not registered.
    let version = version.parse::<u32>().unwrap_or(0);
    let Some(summary) = versions.into_iter().find(|v| v.version == version) else {
        return layout::error_page(
            &ctx,
            axum::http::StatusCode::NOT_FOUND,
            common(ctx.lang).not_found,
        );
    };
    let manifest = match millwright_app::learn::manifest(&state.home, &format!("{name}@{version}"))
    {
        Ok(m) => m,
        Err(e) => return super::failure(&ctx, e),
    };
    let run = summary
        .run
        .as_deref()
        .and_then(|id| millwright_app::runs::show(&state.home, id).ok());
    let curves = run
        .as_ref()
        .and_then(|r| millwright_app::runs::curves(r).ok().flatten());
    let t = text(ctx.lang);
    let c = common(ctx.lang);
    let title = format!("{name}@{version}");
    let tab = format!("{} · {} {version}", t.model, c.version);
    let finals = run.as_ref().map(|r| &r.record.final_metrics);
    let body = html! {
        h1 { (t.model) " " span translate="no" { (title) } }
        p { a href={ "/ui/models/" (name) } { (t.versions) } " · " a href="/ui/models" { (t.title) } }
        section aria-labelledby="v-summary" {
            h2 #v-summary { (t.summary) }
            dl {
                dt { (c.kind) } dd translate="no" { (summary.kind.to_string()) }
                dt { (t.task) } dd { (task_name(ctx.lang, &summary.task)) }
                dt { (t.target) } dd translate="no" { (summary.target) }
                dt { (t.dataset) } dd translate="no" { (summary.dataset) }
                dt { (c.created) } dd { (created(ctx.lang, &summary.created)) }
                dt { (t.threshold) } dd { (number(summary.threshold, 4)) }
                dt { (t.aliases) } dd #version-aliases { (alias_badges(&summary.aliases)) }
                @if let Some(id) = &summary.run {
                    dt { (t.run) } dd translate="no" { a href={ "/ui/runs/" (id) } { (id) } }
                }
            }
        }
        section aria-labelledby="v-metrics" {
            h2 #v-metrics { (t.metrics) }
            (metric_rows(ctx.lang, &summary.metrics))
        }
        (confusion(ctx.lang, &summary.metrics, &manifest.classes))
        (per_class(ctx.lang, &summary.metrics, &manifest.classes))
        @if summary.task == "binary" {
            @match &curves {
                Some(curves) => (curve_sections(ctx.lang, curves)),
                None => p .hint { (if run.is_some() { t.no_curves } else { t.no_run }) },
            }
        }
        @if let Some(importance) = finals.and_then(|f| f.get("importance")) {
            (importance_section(ctx.lang, importance))
        }
        @if let Some(cv) = finals.and_then(|f| f.get("cv")) {
            (cv_section(ctx.lang, cv))
        }
    };
    layout::page(&ctx, Section::Models, &tab, body)
}

/// Every numeric metric of an object, by name.
pub(crate) fn metric_rows(lang: Lang, metrics: &Value) -> Markup {
    let t = text(lang);
    let rows: Vec<(&String, &serde_json::Number)> = metrics
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| match v {
                    Value::Number(n) => Some((k, n)),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    html! {
        table .metrics {
            thead { tr { th { (t.metric) } th .num { (t.value) } } }
            tbody { @for (k, v) in rows { tr { td translate="no" { (k) } td .num { (json_figure(v)) } } } }
        }
    }
}

/// A stored number as shown: counts (JSON integers) whole, measures with four decimals.
pub(crate) fn json_figure(n: &serde_json::Number) -> String {
    match (n.as_i64(), n.as_f64()) {
        (Some(i), _) => number(i as f64, 0),
        (None, Some(x)) => number(x, 4),
        (None, None) => n.to_string(),
    }
}

/// The confusion matrix (`[[tn, fp], [fn, tp]]`: rows the true class) as a table.
fn confusion(lang: Lang, metrics: &Value, classes: &[String]) -> Markup {
    let t = text(lang);
    let Some(matrix) = metrics.get("confusion_matrix").and_then(Value::as_array) else {
        return html! {};
    };
    let rows: Vec<Vec<u64>> = matrix
        .iter()
        .map(|r| {
            r.as_array()
                .map(|r| r.iter().filter_map(Value::as_u64).collect())
                .unwrap_or_default()
        })
        .collect();
    let label = |i: usize| classes.get(i).cloned().unwrap_or_else(|| i.to_string());
    html! {
        section aria-labelledby="v-confusion" {
            h2 #v-confusion { (t.confusion) }
            div .scroll { table #confusion .confusion {
                thead {
                    tr { th rowspan="2" { (t.actual) } th colspan=(rows.len()) { (t.predicted) } }
                    tr { @for i in 0..rows.len() { th .num translate="no" { (label(i)) } } }
                }
                tbody {
                    @for (i, row) in rows.iter().enumerate() {
                        tr { th translate="no" { (label(i)) } @for n in row { td .num { (crate::ui::i18n::integer(*n)) } } }
                    }
                }
            } }
        }
    }
}

fn per_class(lang: Lang, metrics: &Value, classes: &[String]) -> Markup {
    let t = text(lang);
    let Some(scores) = metrics.get("per_class").and_then(Value::as_array) else {
        return html! {};
    };
    let f = |s: &Value, k: &str| s.get(k).and_then(Value::as_f64).map(|x| number(x, 3));
    html! {
        section aria-labelledby="v-classes" {
            h2 #v-classes { (t.per_class) }
            div .scroll { table {
                thead { tr { th { (t.class) } th .num { (t.precision) } th .num { (t.recall) } th .num { "F1" } th .num { (t.support) } } }
                tbody {
                    @for (i, s) in scores.iter().enumerate() {
                        tr {
                            td translate="no" { (classes.get(i).cloned().unwrap_or_else(|| i.to_string())) }
                            td .num { (f(s, "precision").unwrap_or_default()) }
                            td .num { (f(s, "recall").unwrap_or_default()) }
                            td .num { (f(s, "f1").unwrap_or_default()) }
                            td .num { (s.get("support").and_then(Value::as_u64).map(crate::ui::i18n::integer).unwrap_or_default()) }
                        }
                    }
                }
            } }
        }
    }
}

/// `[[x, y], …]` as two columns.
fn pairs(points: &Value) -> (Vec<f64>, Vec<f64>) {
    points
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
                .unzip()
        })
        .unwrap_or_default()
}

/// A line chart spec of the data-chart kind, with a `<details>` table of its points.
pub(crate) fn chart(id: &str, title: &str, spec: &Value, table: Markup) -> Markup {
    html! {
        section aria-labelledby={ (id) "-title" } {
            h2 id={ (id) "-title" } { (title) }
            (layout::json_block(id, spec))
            div .chart id={ (id) "-chart" } data-chart=(id) role="img" aria-label=(title) {}
            (table)
        }
    }
}

fn curve_sections(lang: Lang, curves: &Value) -> Markup {
    let t = text(lang);
    let (fpr, tpr) = pairs(&curves["roc"]);
    let (recall, precision) = pairs(&curves["pr"]);
    let calibration: Vec<(f64, f64, u64)> = curves["calibration"]
        .as_array()
        .map(|bins| {
            bins.iter()
                .filter_map(|b| {
                    Some((
                        b.get(0)?.as_f64()?,
                        b.get(1)?.as_f64()?,
                        b.get(2)?.as_u64()?,
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let roc = json!({
        "kind": "line", "x": fpr, "x_label": t.false_positive_rate, "y_label": t.true_positive_rate,
        "series": [{"label": t.this_model, "values": tpr}, {"label": t.chance, "values": fpr}],
    });
    let pr = json!({
        "kind": "line", "x": recall, "x_label": t.recall, "y_label": t.precision,
        "series": [{"label": t.this_model, "values": precision}],
    });
    let predicted: Vec<f64> = calibration.iter().map(|b| b.0).collect();
    let observed: Vec<f64> = calibration.iter().map(|b| b.1).collect();
    let cal = json!({
        "kind": "line", "x": predicted, "x_label": t.predicted_probability, "y_label": t.observed_rate,
        "series": [{"label": t.this_model, "values": observed}, {"label": t.perfect, "values": predicted}],
    });
    let few = |xs: &[f64], ys: &[f64], xl: &str, yl: &str| {
        // The table lists about 20 points along the curve, not every one drawn.
        let step = (xs.len() / 20).max(1);
        html! {
            details { summary { (t.numbers) }
                table { thead { tr { th .num { (xl) } th .num { (yl) } } }
                    tbody { @for i in (0..xs.len()).step_by(step) { tr { td .num { (number(xs[i], 3)) } td .num { (number(ys[i], 3)) } } } } }
            }
        }
    };
    html! {
        div .cards {
            div .card { (chart("roc", t.roc, &roc, few(&fpr, &tpr, t.false_positive_rate, t.true_positive_rate))) }
            div .card { (chart("pr", t.pr, &pr, few(&recall, &precision, t.recall, t.precision))) }
            div .card { (chart("calibration", t.calibration, &cal, html! {
                details { summary { (t.numbers) }
                    table { thead { tr { th .num { (t.predicted_probability) } th .num { (t.observed_rate) } th .num { (t.rows) } } }
                        tbody { @for b in &calibration { tr { td .num { (number(b.0, 3)) } td .num { (number(b.1, 3)) } td .num { (crate::ui::i18n::integer(b.2)) } } } } }
                }
            })) }
        }
    }
}

/// Importance as `(feature, drop)`, largest first as stored.
fn importance_items(importance: &Value) -> Vec<(String, f64)> {
    importance
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| {
                    Some((
                        i.get("feature")?.as_str()?.to_owned(),
                        i.get("drop")?.as_f64()?,
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Horizontal bars drawn by the server: one row per feature, negative drops to the left of zero.
fn importance_svg(items: &[(String, f64)], label: &str) -> Markup {
    const ROW: f64 = 24.0;
    const LABEL: f64 = 220.0;
    const PLOT: f64 = 380.0;
    const VALUE: f64 = 70.0;
    let max = items
        .iter()
        .map(|(_, v)| v.abs())
        .fold(0.0, f64::max)
        .max(1e-12);
    let has_negative = items.iter().any(|(_, v)| *v < 0.0);
    let zero = if has_negative {
        LABEL + PLOT / 2.0
    } else {
        LABEL
    };
    let scale = if has_negative { PLOT / 2.0 } else { PLOT } / max;
    let height = ROW * items.len() as f64 + 8.0;
    let width = LABEL + PLOT + VALUE;
    html! {
        svg .bars #importance-bars xmlns="http://www.w3.org/2000/svg" translate="no" role="img" aria-label=(label)
            width=(width) height=(height) viewBox={ "0 0 " (width) " " (height) } {
            @for (i, (name, v)) in items.iter().enumerate() {
                @let y = 4.0 + ROW * i as f64;
                @let w = (v.abs() * scale).max(1.0);
                @let x = if *v < 0.0 { zero - w } else { zero };
                text x=(LABEL - 8.0) y=(y + ROW * 0.65) text-anchor="end" { (truncate(name, 30)) }
                rect class=(if *v < 0.0 { "bar neg" } else { "bar" }) x=(x) y=(y + 3.0) width=(w) height=(ROW - 6.0) {}
                text x=(LABEL + PLOT + 6.0) y=(y + ROW * 0.65) { (number(*v, 4)) }
            }
            line .whisker x1=(zero) x2=(zero) y1="0" y2=(height) {}
        }
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

fn importance_section(lang: Lang, importance: &Value) -> Markup {
    let t = text(lang);
    let items = importance_items(importance);
    if items.is_empty() {
        return html! {};
    }
    html! {
        section aria-labelledby="v-importance" {
            h2 #v-importance { (t.importance) }
            p .hint { (t.importance_hint) }
            div .scroll { (importance_svg(&items, t.importance)) }
            details { summary { (t.numbers) }
                table { thead { tr { th { (t.feature) } th .num { (t.score_drop) } } }
                    tbody { @for (name, v) in &items { tr { td translate="no" { (name) } td .num { (number(*v, 4)) } } } } }
            }
        }
    }
}

/// The cross-validation scores of every candidate, fold by fold.
pub(crate) fn cv_section(lang: Lang, cv: &Value) -> Markup {
    let t = text(lang);
    let Some(candidates) = cv.as_array().filter(|c| !c.is_empty()) else {
        return html! {};
    };
    let folds = candidates
        .iter()
        .filter_map(|c| c.get("folds")?.as_array().map(Vec::len))
        .max()
        .unwrap_or(0);
    let f = |v: Option<&Value>| {
        v.and_then(Value::as_f64)
            .map(|x| number(x, 4))
            .unwrap_or_default()
    };
    html! {
        section aria-labelledby="v-cv" {
            h2 #v-cv { (t.cv) }
            div .scroll { table {
                thead { tr {
                    th { (common(lang).kind) } th { (t.metric) }
                    @for i in 0..folds { th .num { (t.fold) " " (i + 1) } }
                    th .num { (t.mean) } th .num { (t.std) }
                } }
                tbody {
                    @for c in candidates {
                        tr {
                            td translate="no" { (c.get("kind").and_then(Value::as_str).unwrap_or_default()) }
                            td translate="no" { (c.get("metric").and_then(Value::as_str).unwrap_or_default()) }
                            @for i in 0..folds { td .num { (f(c.get("folds").and_then(|x| x.get(i)))) } }
                            td .num { (f(c.get("mean"))) }
                            td .num { (f(c.get("std"))) }
                        }
                    }
                }
            } }
        }
    }
}

/// A registry time (RFC 3339) in the page's format; shown as stored if it does not parse.
fn created(lang: Lang, stored: &str) -> maud::Markup {
    match chrono::DateTime::parse_from_rfc3339(stored) {
        Ok(t) => maud::html! { (crate::ui::i18n::time(lang, t.with_timezone(&chrono::Utc))) },
        Err(_) => maud::html! { span translate="no" { (stored) } },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headline_takes_the_first_three_known_metrics() {
        let m = json!({"accuracy": 0.9, "roc_auc": 0.8, "f1": 0.5, "pr_auc": 0.6, "rows": 100});
        assert_eq!(
            headline(&m),
            vec![("roc_auc", 0.8), ("pr_auc", 0.6), ("f1", 0.5)]
        );
        let r = json!({"rmse": 1.5, "r2": 0.7, "rows": 10});
        assert_eq!(headline(&r), vec![("rmse", 1.5), ("r2", 0.7)]);
        assert!(headline(&json!({})).is_empty());
    }

    #[test]
    fn importance_bars_scale_to_the_largest_and_mark_negatives() {
        let items = vec![("torque".to_owned(), 0.2), ("speed".to_owned(), -0.1)];
        let svg = importance_svg(&items, "importance").into_string();
        // Negative values put zero in the middle: the largest bar spans half the plot (190 px).
        assert!(svg.contains(r#"width="190""#), "{svg}");
        assert!(svg.contains(r#"class="bar neg""#));
        assert!(svg.contains(r#"width="95""#));
        let only = importance_svg(&[("a".to_owned(), 0.5)], "x").into_string();
        assert!(only.contains(r#"width="380""#));
    }

    #[test]
    fn promote_offers_production_staging_and_the_model_s_own_aliases() {
        let mut a = Aliases::default();
        a.aliases.insert("canary".into(), 2);
        a.aliases.insert("production".into(), 1);
        assert_eq!(promote_aliases(&a), ["production", "staging", "canary"]);
    }

    #[test]
    fn counts_are_whole_and_measures_have_four_decimals() {
        let n = |v: Value| match v {
            Value::Number(n) => json_figure(&n),
            _ => unreachable!(),
        };
        assert_eq!(n(json!(2400)), "2,400");
        assert_eq!(n(json!(0.5)), "0.5000");
        assert_eq!(n(json!(1.0)), "1.0000");
    }

    #[test]
    fn curve_points_are_read_as_columns() {
        let (x, y) = pairs(&json!([[0.0, 0.0], [0.5, 0.9], [1.0, 1.0]]));
        assert_eq!(x, [0.0, 0.5, 1.0]);
        assert_eq!(y, [0.0, 0.9, 1.0]);
        assert_eq!(truncate("abcdef", 4), "abc…");
    }
}
