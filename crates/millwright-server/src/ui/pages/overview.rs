//! Overview: what a line manager checks first — the datasets and how fresh they are, the model in
//! production, the last twin comparison and its business case, the jobs running now.

use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Utc};
use maud::{html, Markup};

use millwright_app::connect::status::{ConnectorState, ConnectorStatus};

use crate::store::JobState;
use crate::ui::i18n::{age, common, figure, integer, Lang};
use crate::ui::layout::{self, Section};
use crate::ui::session::Ctx;
use crate::AppState;

struct Text {
    title: &'static str,
    datasets: &'static str,
    freshness: &'static str,
    production_model: &'static str,
    no_production: &'static str,
    newest_model: &'static str,
    last_comparison: &'static str,
    no_comparison: &'static str,
    open_business: &'static str,
    running_jobs: &'static str,
    no_jobs: &'static str,
    connectors: &'static str,
    no_connectors: &'static str,
    readings: &'static str,
    last_commit: &'static str,
    last_error: &'static str,
    /// Connecting, connected, reconnecting, store failing, stopped, failed, gone.
    connector_states: [&'static str; 7],
    alarms: &'static str,
    no_alarms: &'static str,
    line: &'static str,
    policies: &'static str,
    replications: &'static str,
    metric: &'static str,
    value: &'static str,
}

const EN: Text = Text {
    title: "Overview",
    datasets: "Datasets",
    freshness: "Last change",
    production_model: "Model in production",
    no_production: "No model version carries the production alias yet.",
    newest_model: "The newest version:",
    last_comparison: "Last twin comparison",
    no_comparison: "No twin comparison has been run yet.",
    open_business: "Open the business case",
    running_jobs: "Running jobs",
    no_jobs: "No job is running.",
    connectors: "Live connectors",
    no_connectors: "No connector has run on this home yet. Start one with:",
    readings: "readings",
    last_commit: "last commit",
    last_error: "Last error",
    connector_states: [
        "connecting",
        "connected",
        "reconnecting",
        "store failing, retrying",
        "stopped",
        "failed",
        "gone (its process ended without stopping)",
    ],
    alarms: "Active alarms",
    no_alarms: "No alarm is active.",
    line: "Line",
    policies: "Policies",
    replications: "Replications",
    metric: "Metric",
    value: "Value",
};

const ZH: Text = Text {
    title: "概览",
    datasets: "数据集",
    freshness: "最近更新",
    production_model: "生产模型",
    no_production: "尚无模型版本带有 production 别名。",
    newest_model: "最新版本：",
    last_comparison: "最近一次孪生对比",
    no_comparison: "尚未运行孪生对比。",
    open_business: "查看业务案例",
    running_jobs: "运行中的任务",
    no_jobs: "当前没有运行中的任务。",
    connectors: "实时连接器",
    no_connectors: "此数据目录中还没有运行过连接器。启动方式：",
    readings: "条读数",
    last_commit: "上次提交",
    last_error: "最近错误",
    connector_states: [
        "连接中",
        "已连接",
        "重新连接中",
        "存储失败，正在重试",
        "已停止",
        "已失败",
        "已消失（进程未正常停止）",
    ],
    alarms: "活动告警",
    no_alarms: "当前没有活动告警。",
    line: "产线",
    policies: "策略",
    replications: "重复次数",
    metric: "指标",
    value: "数值",
};

fn text(lang: Lang) -> &'static Text {
    lang.pick(&EN, &ZH)
}

pub async fn page(State(state): State<AppState>, ctx: Ctx) -> Response {
    let home = &state.home;
    let datasets = match millwright_app::data::datasets(home).await {
        // A dataset's quarantine is shown with the dataset, not beside it.
        Ok(d) => d
            .into_iter()
            .filter(|d| !d.name.ends_with(millwright_data::names::QUARANTINE_SUFFIX))
            .collect::<Vec<_>>(),
        Err(e) => return super::failure(&ctx, e),
    };
    let mut fresh = Vec::with_capacity(datasets.len());
    for d in &datasets {
        let last = millwright_app::data::history(home, &d.name)
            .await
            .ok()
            .and_then(|h| h.into_iter().max_by_key(|v| v.version))
            .and_then(|v| v.timestamp)
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc));
        fresh.push(last);
    }
    let models = match millwright_app::learn::models(home, None) {
        Ok(m) => m,
        Err(e) => return super::failure(&ctx, e),
    };
    let runs = match millwright_app::twin::runs(home) {
        Ok(r) => r,
        Err(e) => return super::failure(&ctx, e),
    };
    let jobs = match state.store.job_list(50, None) {
        Ok(j) => j,
        Err(e) => return super::failure(&ctx, e),
    };
    // Run ids start with their time, so the greatest is the newest.
    let last_compare = runs
        .iter()
        .filter(|r| !r.optimization)
        .max_by(|a, b| a.run_id.cmp(&b.run_id));
    // A run without the line's current practice and an AI policy has no business case: none is shown.
    let business = match last_compare {
        Some(r) => super::business::measure(home, &r.run_id).await.ok(),
        None => None,
    };
    // Status files of connectors started here or from the command line on the same home.
    let connectors = millwright_app::connect::status::list(home).unwrap_or_default();
    let t = text(ctx.lang);
    let c = common(ctx.lang);
    let now = Utc::now();
    let production: Vec<_> = models
        .iter()
        .filter(|m| m.aliases.iter().any(|a| a == "production"))
        .collect();
    let newest = models.iter().max_by(|a, b| a.created.cmp(&b.created));
    let running: Vec<_> = jobs
        .iter()
        .filter(|j| matches!(j.state, JobState::Queued | JobState::Running))
        .collect();
    let body = html! {
        h1 { (t.title) }
        div .cards {
            section .card aria-labelledby="ov-data" {
                h2 #ov-data { (t.datasets) }
                @if datasets.is_empty() { p { (c.none_yet) } } @else {
                    table {
                        thead { tr { th { (c.name) } th .num { (c.rows) } th .num { (c.version) } th { (t.freshness) } } }
                        tbody {
                            @for (d, last) in datasets.iter().zip(&fresh) {
                                tr {
                                    td translate="no" { a href={ "/ui/data/" (d.name) } { (d.name) } }
                                    td .num { (d.rows.map(integer).unwrap_or_default()) }
                                    td .num { (d.latest_version) }
                                    td { @if let Some(t) = last { time datetime=(t.to_rfc3339()) { (age(ctx.lang, *t, now)) } } }
                                }
                            }
                        }
                    }
                }
            }
            section .card aria-labelledby="ov-model" {
                h2 #ov-model { (t.production_model) }
                @if production.is_empty() {
                    p { (t.no_production) }
                    @if let Some(m) = newest {
                        p { (t.newest_model) " " a translate="no" href={ "/ui/models/" (m.name) } { (m.name) "@" (m.version) } " · " span translate="no" { (m.kind.to_string()) } }
                        (metrics_table(ctx.lang, &m.metrics))
                    }
                }
                @for m in &production {
                    p { a translate="no" href={ "/ui/models/" (m.name) } { (m.name) "@" (m.version) } " · " span translate="no" { (m.kind.to_string()) } }
                    (metrics_table(ctx.lang, &m.metrics))
                }
            }
            section .card aria-labelledby="ov-twin" {
                h2 #ov-twin { (t.last_comparison) }
                @match last_compare {
                    None => p { (t.no_comparison) },
                    Some(r) => {
                        dl {
                            dt { (t.line) } dd translate="no" { (r.line) }
                            dt { (t.policies) } dd translate="no" { (r.policies.join(", ")) }
                            dt { (t.replications) } dd { (r.replications) }
                        }
                        @if let Some(m) = &business { (super::business::summary(ctx.lang, m)) }
                        p {
                            a href={ "/ui/twin/runs/" (r.run_id) } { (c.open) }
                            " · "
                            a href={ "/ui/business/" (r.run_id) } { (t.open_business) }
                        }
                    }
                }
            }
            section .card aria-labelledby="ov-jobs" {
                h2 #ov-jobs { (t.running_jobs) }
                @if running.is_empty() { p { (t.no_jobs) } } @else {
                    ul { @for j in &running { li { a href={ "/ui/jobs/" (j.id) } { "#" (j.id) " " span translate="no" { (j.kind) } } " · " (super::jobs::state_name(ctx.lang, j.state)) } } }
                }
            }
            section .card aria-labelledby="ov-live" {
                h2 #ov-live { (t.connectors) }
                (connectors_list(ctx.lang, &connectors, now))
            }
            section .card aria-labelledby="ov-alarms" {
                h2 #ov-alarms { (t.alarms) }
                p { (t.no_alarms) }
            }
        }
    };
    layout::page(&ctx, Section::Overview, t.title, body)
}

fn connector_state(lang: Lang, state: ConnectorState) -> &'static str {
    let names = text(lang).connector_states;
    match state {
        ConnectorState::Connecting => names[0],
        ConnectorState::Connected => names[1],
        ConnectorState::Reconnecting => names[2],
        ConnectorState::StoreFailing => names[3],
        ConnectorState::Stopped => names[4],
        ConnectorState::Failed => names[5],
        ConnectorState::Gone => names[6],
    }
}

fn connectors_list(lang: Lang, list: &[ConnectorStatus], now: DateTime<Utc>) -> Markup {
    let t = text(lang);
    html! {
        @if list.is_empty() {
            p { (t.no_connectors) " " code translate="no" { "millwright connect URL --dataset NAME" } }
        } @else {
            ul .connectors {
                @for c in list {
                    li data-state=(format!("{:?}", c.state)) {
                        span translate="no" { (c.dataset) " · " (c.kind) }
                        " · " (connector_state(lang, c.state))
                        " · " (integer(c.readings)) " " (t.readings)
                        @if let Some(at) = c.last_commit_at { " · " (t.last_commit) " " (age(lang, at, now)) }
                        @if let Some(error) = &c.last_error {
                            br; small { (t.last_error) ": " span translate="no" { (error) } }
                        }
                    }
                }
            }
        }
    }
}

/// A model's headline metrics (the numbers among them), metric names kept as stored.
pub fn metrics_table(lang: Lang, metrics: &serde_json::Value) -> Markup {
    let t = text(lang);
    let Some(map) = metrics.as_object() else {
        return html! {};
    };
    html! {
        table .metrics {
            thead { tr { th { (t.metric) } th .num { (t.value) } } }
            tbody {
                @for (name, value) in map {
                    @if let Some(x) = value.as_f64() {
                        tr { td translate="no" { (name) } td .num { (figure(x)) } }
                    }
                }
            }
        }
    }
}
