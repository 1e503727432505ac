//! Training runs: the tracked runs with filters (state, model kind, dataset), one run with its params,
//! final metrics and per-epoch curves, and two runs compared (what changed, how the metrics moved, both
//! runs' curves on one chart).

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{html, Markup};
use millwright_app::runs::RunDetails;
use millwright_learn::tracking::{RunFilter, RunRecord, RunStatus, ScalarHistory};
use serde::Deserialize;
use serde_json::{json, Value};

use super::models::{self, chart, headline_cell, metric_rows};
use crate::ui::i18n::{common, integer, number, time, Lang};
use crate::ui::layout::{self, Section};
use crate::ui::session::Ctx;
use crate::AppState;

struct Text {
    title: &'static str,
    filters: &'static str,
    any: &'static str,
    apply: &'static str,
    clear: &'static str,
    model_kind: &'static str,
    name: &'static str,
    run: &'static str,
    duration: &'static str,
    epochs: &'static str,
    no_runs: &'static str,
    shown: &'static str,
    of: &'static str,
    previous: &'static str,
    next: &'static str,
    compare: &'static str,
    compare_hint: &'static str,
    first: &'static str,
    second: &'static str,
    running: &'static str,
    finished: &'static str,
    failed: &'static str,
    interrupted: &'static str,
    params: &'static str,
    final_metrics: &'static str,
    curves: &'static str,
    no_curves: &'static str,
    epoch: &'static str,
    error: &'static str,
    model: &'static str,
    seed: &'static str,
    code: &'static str,
    changed_params: &'static str,
    no_changed: &'static str,
    key: &'static str,
    change: &'static str,
    choose_two: &'static str,
    last_epoch: &'static str,
}

const EN: Text = Text {
    title: "Training runs",
    filters: "Filters",
    any: "any",
    apply: "Apply",
    clear: "Clear",
    model_kind: "Model kind",
    name: "Run name",
    run: "Run",
    duration: "Duration (s)",
    epochs: "Epochs",
    no_runs: "No run matches.",
    shown: "Shown",
    of: "of",
    previous: "Previous page",
    next: "Next page",
    compare: "Compare",
    compare_hint: "Pick run A and run B in the table, then compare.",
    first: "Run A",
    second: "Run B",
    running: "running",
    finished: "finished",
    failed: "failed",
    interrupted: "interrupted",
    params: "Parameters",
    final_metrics: "Final metrics",
    curves: "Per-epoch curves",
    no_curves: "This run logged no per-epoch figures (only neural networks train in epochs).",
    epoch: "Epoch",
    error: "Error",
    model: "Registered model",
    seed: "Seed",
    code: "Code version",
    changed_params: "Parameters that differ",
    no_changed: "Both runs have the same parameters.",
    key: "Key",
    change: "Change (B − A)",
    choose_two: "Choose two runs to compare.",
    last_epoch: "Last epoch",
};

const ZH: Text = Text {
    title: "训练运行",
    filters: "筛选",
    any: "全部",
    apply: "应用",
    clear: "清除",
    model_kind: "模型类型",
    name: "运行名称",
    run: "运行",
    duration: "耗时（秒）",
    epochs: "轮数",
    no_runs: "没有符合条件的运行。",
    shown: "显示",
    of: "共",
    previous: "上一页",
    next: "下一页",
    compare: "对比",
    compare_hint: "在表中选择运行 A 和运行 B，然后对比。",
    first: "运行 A",
    second: "运行 B",
    running: "运行中",
    finished: "已完成",
    failed: "已失败",
    interrupted: "已中断",
    params: "参数",
    final_metrics: "最终指标",
    curves: "每轮曲线",
    no_curves: "此运行没有按轮记录的数据（只有神经网络按轮训练）。",
    epoch: "轮次",
    error: "错误",
    model: "注册的模型",
    seed: "随机种子",
    code: "代码版本",
    changed_params: "不同的参数",
    no_changed: "两次运行的参数相同。",
    key: "键",
    change: "变化（B − A）",
    choose_two: "请选择两次运行进行对比。",
    last_epoch: "最后一轮",
};

fn text(lang: Lang) -> &'static Text {
    lang.pick(&EN, &ZH)
}

/// A run's state in words; a "running" run whose process is gone is interrupted.
fn state_name(lang: Lang, status: RunStatus, interrupted: bool) -> &'static str {
    let t = text(lang);
    match (status, interrupted) {
        (RunStatus::Running, true) => t.interrupted,
        (RunStatus::Running, false) => t.running,
        (RunStatus::Finished, _) => t.finished,
        (RunStatus::Failed, _) => t.failed,
    }
}

const PAGE: u64 = 50;
const KINDS: [&str; 3] = ["mlp", "gbdt", "logistic"];

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    model: Option<String>,
    dataset: Option<String>,
    name: Option<String>,
    offset: Option<u64>,
}

impl ListQuery {
    fn field(v: &Option<String>) -> Option<String> {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }

    /// The filter the query asks for; an unknown state is an error for the page to show.
    fn filter(&self) -> Result<RunFilter, String> {
        let status = match Self::field(&self.status) {
            None => None,
            Some(s) => Some(s.parse::<RunStatus>().map_err(|e| e.to_string())?),
        };
        Ok(RunFilter {
            status,
            model_kind: Self::field(&self.model),
            name: Self::field(&self.name),
            dataset: Self::field(&self.dataset),
        })
    }

    /// This query at another offset, for the paging links.
    fn at(&self, offset: u64) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("status", &self.status),
            ("model", &self.model),
            ("dataset", &self.dataset),
            ("name", &self.name),
        ] {
            if let Some(v) = Self::field(v) {
                q.append_pair(k, &v);
            }
        }
        if offset > 0 {
            q.append_pair("offset", &offset.to_string());
        }
        format!("/ui/runs?{}", q.finish())
    }
}

fn select(
    id: &str,
    label: &str,
    any: &str,
    options: &[(String, String)],
    chosen: Option<&str>,
) -> Markup {
    html! {
        div .stack {
            label for=(id) { (label) }
            select id=(id) name=(id) {
                option value="" { (any) }
                @for (value, shown) in options {
                    option value=(value) selected[chosen == Some(value.as_str())] translate="no" { (shown) }
                }
            }
        }
    }
}

/// `/ui/runs`: runs newest first, filtered by a GET form, paged, with two picked for a comparison.
pub async fn index(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> Response {
    let t = text(ctx.lang);
    let c = common(ctx.lang);
    let filter = match q.filter() {
        Ok(f) => f,
        Err(e) => return layout::error_page(&ctx, axum::http::StatusCode::BAD_REQUEST, &e),
    };
    let offset = q.offset.unwrap_or(0);
    let page = match millwright_app::runs::list(&state.home, &filter, PAGE, offset) {
        Ok(p) => p,
        Err(e) => return super::failure(&ctx, e),
    };
    // The filters offer the kinds and datasets runs have (a choice among kinds is its own kind,
    // `mlp,gbdt`), with the lake's datasets and the three kinds.
    let known = millwright_app::runs::list(&state.home, &RunFilter::default(), 500, 0)
        .map(|p| p.runs)
        .unwrap_or_default();
    let mut kinds: BTreeSet<String> = KINDS.iter().map(|k| (*k).to_owned()).collect();
    let mut sets: BTreeSet<String> = millwright_app::data::datasets(&state.home)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|d| d.name)
        .filter(|n| !n.ends_with("__quarantine"))
        .collect();
    for r in &known {
        kinds.insert(r.record.spec.model_kind.clone());
        sets.insert(r.record.spec.dataset.label());
    }
    let pair = |s: String| (s.clone(), s);
    let dataset_options: Vec<(String, String)> = sets.into_iter().map(pair).collect();
    let kind_options: Vec<(String, String)> = kinds.into_iter().map(pair).collect();
    let status_options: Vec<(String, String)> =
        [RunStatus::Running, RunStatus::Finished, RunStatus::Failed]
            .iter()
            .map(|s| {
                (
                    s.as_str().to_owned(),
                    state_name(ctx.lang, *s, false).to_owned(),
                )
            })
            .collect();
    let end = offset + page.runs.len() as u64;
    let body = html! {
        h1 { (t.title) }
        form #run-filters .toolbar method="get" action="/ui/runs" aria-label=(t.filters) {
            div .stack {
                label for="status" { (c.state) }
                select #status name="status" {
                    option value="" { (t.any) }
                    @for (value, shown) in &status_options {
                        option value=(value) selected[filter.status.map(|s| s.as_str()) == Some(value.as_str())] { (shown) }
                    }
                }
            }
            (select("model", t.model_kind, t.any, &kind_options, filter.model_kind.as_deref()))
            (select("dataset", models::text(ctx.lang).dataset, t.any, &dataset_options, filter.dataset.as_deref()))
            div .stack {
                label for="name" { (t.name) }
                input #name type="text" name="name" value=(filter.name.clone().unwrap_or_default()) translate="no";
            }
            button type="submit" { (t.apply) }
            a href="/ui/runs" { (t.clear) }
        }
        @if page.runs.is_empty() { p #no-runs { (t.no_runs) } } @else {
            form #run-compare method="get" action="/ui/runs/compare" {
                p .hint { (t.compare_hint) }
                div .scroll { table #runs {
                    thead { tr {
                        th #col-a { "A" } th #col-b { "B" } th { (t.run) } th { (t.name) } th { (t.model_kind) }
                        th { (models::text(ctx.lang).dataset) } th { (c.state) } th { (c.started) }
                        th .num { (t.duration) } th .num { (t.epochs) } th { (models::text(ctx.lang).metrics) }
                    } }
                    tbody {
                        @for (i, r) in page.runs.iter().enumerate() {
                            @let id = r.record.id.to_string();
                            tr data-run=(id) {
                                // Each radio is named by its column (A or B) and its run's id.
                                td { input type="radio" name="a" value=(id) aria-labelledby={ "col-a run-" (i) }; }
                                td { input type="radio" name="b" value=(id) aria-labelledby={ "col-b run-" (i) }; }
                                td id={ "run-" (i) } translate="no" { a href={ "/ui/runs/" (id) } { (id) } }
                                td translate="no" { (r.record.spec.name) }
                                td translate="no" { (r.record.spec.model_kind) }
                                td translate="no" { (r.record.spec.dataset.label()) }
                                td { (state_name(ctx.lang, r.record.status, r.interrupted)) }
                                td { (time(ctx.lang, r.record.started_at)) }
                                td .num { (r.record.duration_s.map(|d| number(d, 1)).unwrap_or_default()) }
                                td .num { (integer(r.record.steps_logged)) }
                                td { (headline_cell(&r.record.final_metrics)) }
                            }
                        }
                    }
                } }
                div .toolbar { button type="submit" { (t.compare) } }
            }
            p {
                (t.shown) " " (offset + 1) "–" (end) " " (t.of) " " (page.total)
                @if offset > 0 { " · " a href=(q.at(offset.saturating_sub(PAGE))) { (t.previous) } }
                @if end < page.total { " · " a href=(q.at(end)) { (t.next) } }
            }
        }
    };
    layout::page(&ctx, Section::Models, t.title, body)
}

/// Per-epoch series grouped by metric (`loss/train` and `loss/val` share the chart `loss`): for each
/// group its name and the tags in it, sorted.
fn groups(tags: &[String]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for tag in tags {
        let group = tag.split_once('/').map_or(tag.as_str(), |(g, _)| g);
        out.entry(group.to_owned()).or_default().push(tag.clone());
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}

/// Series on one x axis: the union of their steps, each series `None` where it has no point.
fn align(series: &[Vec<(u64, f64)>]) -> (Vec<u64>, Vec<Vec<Option<f64>>>) {
    let steps: BTreeSet<u64> = series.iter().flatten().map(|(s, _)| *s).collect();
    let x: Vec<u64> = steps.into_iter().collect();
    let values = series
        .iter()
        .map(|s| {
            let by_step: BTreeMap<u64, f64> = s.iter().copied().collect();
            x.iter().map(|step| by_step.get(step).copied()).collect()
        })
        .collect();
    (x, values)
}

/// One chart per metric group over the runs given (`(prefix, history)`; the prefix labels the series of
/// each run when there are two).
fn epoch_charts(lang: Lang, runs: &[(&str, &ScalarHistory)]) -> Markup {
    let t = text(lang);
    let mut tags: Vec<String> = runs.iter().flat_map(|(_, h)| h.tags()).collect();
    tags.sort();
    tags.dedup();
    if tags.is_empty() {
        return html! { p .hint #no-epochs { (t.no_curves) } };
    }
    let mut charts = Vec::new();
    for (group, members) in groups(&tags) {
        let mut labels = Vec::new();
        let mut series = Vec::new();
        for (prefix, history) in runs {
            for tag in &members {
                let points = history.series(tag);
                if !points.is_empty() {
                    labels.push(if prefix.is_empty() {
                        tag.clone()
                    } else {
                        format!("{prefix} {tag}")
                    });
                    series.push(points);
                }
            }
        }
        let (x, values) = align(&series);
        let spec = json!({
            "kind": "line", "x": x, "x_label": t.epoch, "y_label": group,
            "series": labels.iter().zip(&values).map(|(l, v)| json!({"label": l, "values": v})).collect::<Vec<_>>(),
        });
        let id = format!(
            "epochs-{}",
            group.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
        );
        charts.push((id, group, spec, labels, x, values));
    }
    html! {
        div .cards {
            @for (id, group, spec, labels, x, values) in &charts {
                // Metric tags are data: the chart's legend and headings keep them as stored.
                div .card translate="no" {
                    (chart(id, group, spec, html! {
                        details { summary translate="yes" { (models::text(lang).numbers) }
                            div .scroll { table {
                                thead { tr { th .num translate="yes" { (t.epoch) } @for l in labels { th .num { (l) } } } }
                                tbody { @for (i, step) in x.iter().enumerate() {
                                    tr { td .num { (step) } @for v in values { td .num { (v[i].map(|v| number(v, 4)).unwrap_or_default()) } } }
                                } }
                            } }
                        }
                    }))
                }
            }
        }
    }
}

/// The registered model a run produced, as `(name, version)`, from its final metrics (`model`).
fn registered(record: &RunRecord) -> Option<(String, u32)> {
    let spec = record.final_metrics.get("model")?.as_str()?;
    let (name, version) = spec.rsplit_once('@')?;
    Some((name.to_owned(), version.parse().ok()?))
}

/// `/ui/runs/{id}`: one run.
pub async fn run(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Response {
    let details = match millwright_app::runs::show(&state.home, &id) {
        Ok(d) => d,
        Err(e) => return super::failure(&ctx, e),
    };
    let t = text(ctx.lang);
    let c = common(ctx.lang);
    let r = &details.record;
    let rid = r.id.to_string();
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let body = html! {
        h1 { (t.run) " " span translate="no" { (rid) } }
        p { a href="/ui/runs" { (t.title) } " · " a href={ "/ui/runs/compare?a=" (rid) } { (t.compare) } }
        dl {
            dt { (t.name) } dd translate="no" { (r.spec.name) }
            dt { (t.model_kind) } dd translate="no" { (r.spec.model_kind) }
            dt { (models::text(ctx.lang).dataset) } dd translate="no" { (r.spec.dataset.label())
                @if let Some(v) = r.spec.dataset.lake_version() { "@" (v) } }
            dt { (c.state) } dd #run-state { (state_name(ctx.lang, r.status, details.interrupted)) }
            dt { (c.started) } dd { (time(ctx.lang, r.started_at)) }
            @if let Some(f) = r.finished_at { dt { (c.finished) } dd { (time(ctx.lang, f)) } }
            @if let Some(d) = r.duration_s { dt { (t.duration) } dd { (number(d, 2)) } }
            @if let Some(seed) = r.spec.seed { dt { (t.seed) } dd { (seed) } }
            dt { (t.code) } dd translate="no" { (r.spec.code_version.to_string()) }
            @if let Some((name, version)) = registered(r) {
                dt { (t.model) } dd translate="no" { a href={ "/ui/models/" (name) "/" (version) } { (name) "@" (version) } }
            }
        }
        @if let Some(error) = &r.error { h2 { (t.error) } p .error role="alert" translate="no" { (error) } }
        section aria-labelledby="run-curves" {
            h2 #run-curves { (t.curves) }
            (epoch_charts(ctx.lang, &[("", &details.history)]))
        }
        section aria-labelledby="run-metrics" {
            h2 #run-metrics { (t.final_metrics) }
            (metric_rows(ctx.lang, &r.final_metrics))
        }
        @if let Some(cv) = r.final_metrics.get("cv") { (models::cv_section(ctx.lang, cv)) }
        section aria-labelledby="run-params" {
            h2 #run-params { (t.params) }
            pre translate="no" { (pretty(&r.spec.params)) }
        }
    };
    layout::page(&ctx, Section::Models, t.run, body)
}

#[derive(Debug, Deserialize)]
pub struct CompareQuery {
    a: Option<String>,
    b: Option<String>,
}

fn show_value(v: &Option<Value>) -> String {
    match v {
        None => "—".to_owned(),
        Some(Value::Number(n)) => models::json_figure(n),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// `b − a`, whole when both are counts.
fn delta(d: &millwright_learn::tracking::FieldDiff) -> String {
    let whole = |v: &Option<Value>| v.as_ref().is_some_and(|v| v.is_i64() || v.is_u64());
    match d.delta {
        Some(x) if whole(&d.a) && whole(&d.b) => number(x, 0),
        Some(x) => number(x, 4),
        None => String::new(),
    }
}

/// `/ui/runs/compare?a=…&b=…`: what differs between two runs and both runs' curves.
pub async fn compare(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<CompareQuery>,
) -> Response {
    let t = text(ctx.lang);
    let (a, b) = match (ListQuery::field(&q.a), ListQuery::field(&q.b)) {
        (Some(a), Some(b)) => (a, b),
        (a, b) => return choose(&state, &ctx, a, b),
    };
    let home = state.home.clone();
    let compared = tokio::task::spawn_blocking(move || {
        let (ra, rb, cmp) = millwright_app::runs::compare(&home, &a, &b)?;
        let da = millwright_app::runs::show(&home, &ra.id.to_string())?;
        let db = millwright_app::runs::show(&home, &rb.id.to_string())?;
        Ok::<_, millwright_app::AppError>((cmp, da, db))
    })
    .await;
    let (cmp, da, db): (_, RunDetails, RunDetails) = match compared {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => return super::failure(&ctx, e),
        Err(e) => return super::failure(&ctx, crate::ApiError::internal(e.to_string())),
    };
    let changed: Vec<_> = cmp.changed_params().collect();
    // Top-level metrics only (the flattened CV folds and importance lists are on each run's page).
    let metrics: Vec<_> = cmp
        .metrics
        .iter()
        .filter(|d| !d.key.contains('.') && (d.delta.is_some() || !d.same))
        .collect();
    let title = format!("{} · {}", t.compare, t.title);
    let body = html! {
        h1 { (t.compare) }
        dl {
            dt { (t.first) } dd translate="no" { a href={ "/ui/runs/" (cmp.a) } { (cmp.a) } " · " (da.record.spec.name) " · " (da.record.spec.model_kind) }
            dt { (t.second) } dd translate="no" { a href={ "/ui/runs/" (cmp.b) } { (cmp.b) } " · " (db.record.spec.name) " · " (db.record.spec.model_kind) }
        }
        section aria-labelledby="cmp-curves" {
            h2 #cmp-curves { (t.curves) }
            (epoch_charts(ctx.lang, &[("A", &da.history), ("B", &db.history)]))
        }
        section aria-labelledby="cmp-metrics" {
            h2 #cmp-metrics { (t.final_metrics) }
            div .scroll { table #compare-metrics {
                thead { tr { th { (t.key) } th .num { "A" } th .num { "B" } th .num { (t.change) } } }
                tbody { @for d in &metrics { tr {
                    td translate="no" { (d.key) }
                    td .num translate="no" { (show_value(&d.a)) }
                    td .num translate="no" { (show_value(&d.b)) }
                    td .num { (delta(d)) }
                } } }
            } }
        }
        @if !cmp.last_epoch.is_empty() {
            section aria-labelledby="cmp-last" {
                h2 #cmp-last { (t.last_epoch) }
                table {
                    thead { tr { th { (t.key) } th .num { "A" } th .num { "B" } th .num { (t.change) } } }
                    tbody { @for d in &cmp.last_epoch { tr {
                        td translate="no" { (d.key) }
                        td .num { (show_value(&d.a)) } td .num { (show_value(&d.b)) }
                        td .num { (delta(d)) }
                    } } }
                }
            }
        }
        section aria-labelledby="cmp-params" {
            h2 #cmp-params { (t.changed_params) }
            @if changed.is_empty() { p { (t.no_changed) } } @else {
                div .scroll { table #compare-params {
                    thead { tr { th { (t.key) } th { "A" } th { "B" } } }
                    tbody { @for d in &changed { tr {
                        td translate="no" { (d.key) }
                        td translate="no" { (show_value(&d.a)) }
                        td translate="no" { (show_value(&d.b)) }
                    } } }
                } }
            }
        }
    };
    layout::page(&ctx, Section::Models, &title, body)
}

/// The compare page without two runs: pick them from the newest runs.
fn choose(state: &AppState, ctx: &Ctx, a: Option<String>, b: Option<String>) -> Response {
    let t = text(ctx.lang);
    let page = match millwright_app::runs::list(&state.home, &RunFilter::default(), 200, 0) {
        Ok(p) => p,
        Err(e) => return super::failure(ctx, e),
    };
    let options: Vec<(String, String)> = page
        .runs
        .iter()
        .map(|r| {
            let id = r.record.id.to_string();
            let shown = format!(
                "{id} · {} · {}",
                r.record.spec.name, r.record.spec.model_kind
            );
            (id, shown)
        })
        .collect();
    let body = html! {
        h1 { (t.compare) }
        p { (t.choose_two) }
        form .toolbar method="get" action="/ui/runs/compare" {
            (select("a", t.first, "—", &options, a.as_deref()))
            (select("b", t.second, "—", &options, b.as_deref()))
            button type="submit" { (t.compare) }
        }
        p { a href="/ui/runs" { (t.title) } }
    };
    layout::page(ctx, Section::Models, t.compare, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_group_by_metric() {
        let tags = vec![
            "loss/val".to_owned(),
            "accuracy/val".into(),
            "loss/train".into(),
            "lr".into(),
        ];
        let g = groups(&tags);
        assert_eq!(g["loss"], ["loss/train", "loss/val"]);
        assert_eq!(g["accuracy"], ["accuracy/val"]);
        assert_eq!(g["lr"], ["lr"]);
    }

    #[test]
    fn series_align_on_the_union_of_steps() {
        let (x, v) = align(&[vec![(1, 0.5), (2, 0.4)], vec![(2, 0.6), (3, 0.55)]]);
        assert_eq!(x, [1, 2, 3]);
        assert_eq!(v[0], [Some(0.5), Some(0.4), None]);
        assert_eq!(v[1], [None, Some(0.6), Some(0.55)]);
    }

    #[test]
    fn the_query_keeps_its_filters_across_pages() {
        let q = ListQuery {
            status: Some("finished".into()),
            model: Some(" ".into()),
            dataset: Some("demo milling".into()),
            name: None,
            offset: Some(50),
        };
        assert_eq!(
            q.at(100),
            "/ui/runs?status=finished&dataset=demo+milling&offset=100"
        );
        assert_eq!(q.at(0), "/ui/runs?status=finished&dataset=demo+milling");
        let f = q.filter().unwrap();
        assert_eq!(f.status, Some(RunStatus::Finished));
        assert_eq!(f.model_kind, None);
        let bad = ListQuery {
            status: Some("done".into()),
            ..ListQuery::default()
        };
        assert!(bad.filter().is_err());
    }
}
