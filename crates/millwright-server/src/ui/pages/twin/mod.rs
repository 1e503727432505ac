//! The digital twin: the line files in the home (view, edit with the parser's line and column, save),
//! the stored runs, a comparison or an optimisation started as a job, and one run's results — KPIs per
//! policy with CI whiskers, the station Gantt chart of replication 0, throughput over time and the
//! optimisation curve.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, NaiveDateTime, Utc};
use maud::{html, Markup};
use millwright_app::{AppError, Home};
use millwright_twin::{Knob, Objective, OptimizationWarning, TwinResult};
use serde::Deserialize;

mod editor;

pub use editor::{line_page, new_line, save_line};

use super::twin_svg::{self, Span, Whisker};
use crate::store::Role;
use crate::ui::i18n::{common, integer, number, time, Lang};
use crate::ui::layout::{self, Section};
use crate::ui::session::Ctx;
use crate::AppState;

pub(super) struct Text {
    title: &'static str,
    line_files: &'static str,
    no_line_files: &'static str,
    file: &'static str,
    line: &'static str,
    stations: &'static str,
    runs: &'static str,
    no_runs: &'static str,
    run: &'static str,
    when: &'static str,
    comparison: &'static str,
    optimisation: &'static str,
    policies: &'static str,
    pub replications: &'static str,
    horizon: &'static str,
    warmup: &'static str,
    seed: &'static str,
    business_case: &'static str,
    start_compare: &'static str,
    start_optimise: &'static str,
    compare_hint: &'static str,
    optimise_hint: &'static str,
    files_in_home: &'static str,
    lines_of_runs: &'static str,
    model: &'static str,
    no_model: &'static str,
    rules: &'static str,
    model_hint: &'static str,
    duration_hint: &'static str,
    more_options: &'static str,
    interval: &'static str,
    wear_limit: &'static str,
    threshold: &'static str,
    policy: &'static str,
    parameter: &'static str,
    parameter_default: &'static str,
    range: &'static str,
    range_hint: &'static str,
    values: &'static str,
    values_hint: &'static str,
    objective: &'static str,
    cost_per_good_part: &'static str,
    cost_kpi: &'static str,
    throughput: &'static str,
    compare: &'static str,
    optimise: &'static str,
    new_line: &'static str,
    new_line_hint: &'static str,
    from: &'static str,
    example_line: &'static str,
    open_editor: &'static str,
    // The run page.
    run_title: &'static str,
    models_used: &'static str,
    description: &'static str,
    kpis: &'static str,
    kpis_hint: &'static str,
    points_by_value: &'static str,
    all_kpis: &'static str,
    kpi: &'static str,
    mean: &'static str,
    ci: &'static str,
    gantt: &'static str,
    gantt_hint: &'static str,
    throughput_series: &'static str,
    time_axis: &'static str,
    good_parts_per_unit: &'static str,
    optimisation_curve: &'static str,
    best: &'static str,
    base_policy: &'static str,
    value: &'static str,
    warnings: &'static str,
    on_edge_low: &'static str,
    on_edge_high: &'static str,
    overlaps: &'static str,
    stored_plots: &'static str,
    open_business: &'static str,
    open_run: &'static str,
    numbers: &'static str,
    // The editor.
    editor_title: &'static str,
    new_file: &'static str,
    text_label: &'static str,
    check: &'static str,
    save: &'static str,
    saved: &'static str,
    valid: &'static str,
    at: fn(Lang, usize, usize) -> String,
    not_saved: &'static str,
    compare_this: &'static str,
    back_to_twin: &'static str,
    // KPIs and states.
    oee: &'static str,
    availability: &'static str,
    performance: &'static str,
    quality: &'static str,
    scrap_rate: &'static str,
    total_cost: &'static str,
    revenue: &'static str,
    good_parts: &'static str,
    unplanned_downtime: &'static str,
    maintenance_time: &'static str,
    planned_time: &'static str,
    mtbf: &'static str,
    mttr: &'static str,
    failures: &'static str,
    maintenance_actions: &'static str,
    wip: &'static str,
    queue_length: &'static str,
    queue_wait: &'static str,
    model_precision: &'static str,
    model_recall: &'static str,
    model_lead_time: &'static str,
    downtime: &'static str,
    busy: &'static str,
    starved: &'static str,
    blocked: &'static str,
    planned_stop: &'static str,
    maintenance: &'static str,
    down: &'static str,
    run_to_failure: &'static str,
    preventive: &'static str,
    predictive: &'static str,
    predictive_preventive: &'static str,
    unit_s: &'static str,
    unit_min: &'static str,
    unit_h: &'static str,
    unit_d: &'static str,
    unit_unit: &'static str,
}

fn at_en(_: Lang, line: usize, column: usize) -> String {
    format!("line {line}, column {column}")
}

fn at_zh(_: Lang, line: usize, column: usize) -> String {
    format!("第 {line} 行，第 {column} 列")
}

const EN: Text = Text {
    title: "Digital twin",
    line_files: "Line files",
    no_line_files: "No line file at the top of the home yet: start one from the example line or from the line of a stored run below.",
    file: "File",
    line: "Line",
    stations: "Stations",
    runs: "Twin runs",
    no_runs: "No twin run is stored yet.",
    run: "Run",
    when: "When",
    comparison: "comparison",
    optimisation: "optimisation",
    policies: "Policies",
    replications: "Replications",
    horizon: "Horizon",
    warmup: "Warm-up",
    seed: "Seed",
    business_case: "Business case",
    start_compare: "Compare maintenance policies",
    start_optimise: "Optimise a policy parameter",
    compare_hint: "Simulates the chosen policies on the line with common random numbers; the result is stored as a twin run.",
    optimise_hint: "Searches one parameter of a policy for the best objective, with replications at each value.",
    files_in_home: "Line files in the home",
    lines_of_runs: "Lines of stored runs",
    model: "Failure model (predictive policies)",
    no_model: "none",
    rules: "the AI4I failure rules",
    model_hint: "A registered model version, or the AI4I rules the twin's physics follows.",
    duration_hint: "Empty: the line file's own. Examples:",
    more_options: "More options",
    interval: "Preventive interval",
    wear_limit: "Wear limit (tool minutes)",
    threshold: "Alarm threshold",
    policy: "Policy",
    parameter: "Parameter",
    parameter_default: "default (threshold for predictive policies, else the interval)",
    range: "Range",
    range_hint: "N evenly spaced values from the first to the second bound; for the interval, durations. Written as:",
    values: "Values",
    values_hint: "Or a comma-separated list of values to try.",
    objective: "Objective",
    cost_per_good_part: "cost per good part (lowest)",
    cost_kpi: "cost per good part",
    throughput: "throughput (highest)",
    compare: "Start the comparison",
    optimise: "Start the optimisation",
    new_line: "New line file",
    new_line_hint: "A file name at the top of the home, ending in",
    from: "Start from",
    example_line: "the example milling line",
    open_editor: "Open in the editor",
    run_title: "Twin run",
    models_used: "Models used",
    description: "Description",
    kpis: "KPIs per policy",
    kpis_hint: "Bars are the mean over the replications, whiskers the 95 % CI.",
    points_by_value: "Each bar is one searched value of the parameter",
    all_kpis: "All KPIs with their 95 % CI",
    kpi: "KPI",
    mean: "Mean",
    ci: "95 % CI",
    gantt: "Station states, replication 0",
    gantt_hint: "Each station's state over the first part of the horizon.",
    throughput_series: "Throughput over the horizon",
    time_axis: "time",
    good_parts_per_unit: "good parts per time unit",
    optimisation_curve: "Optimisation curve",
    best: "Best",
    base_policy: "Base policy",
    value: "Value",
    warnings: "Warnings",
    on_edge_low: "The best value is the lowest searched: the optimum may lie below the range.",
    on_edge_high: "The best value is the highest searched: the optimum may lie above the range.",
    overlaps: "The best point's 95 % CI overlaps the runner-up's: the replications do not tell them apart.",
    stored_plots: "The twin's stored charts",
    open_business: "Open the business case",
    open_run: "Open the twin run",
    numbers: "The numbers",
    editor_title: "Line file",
    new_file: "A new file: it is written when you save it.",
    text_label: "The line file (TOML)",
    check: "Check",
    save: "Save",
    saved: "Saved.",
    valid: "The line file is valid",
    at: at_en,
    not_saved: "Not saved",
    compare_this: "Compare policies on this line (the saved file)",
    back_to_twin: "Back to the twin",
    oee: "OEE",
    availability: "availability",
    performance: "performance",
    quality: "quality",
    scrap_rate: "scrap rate",
    total_cost: "total cost",
    revenue: "revenue",
    good_parts: "good parts",
    unplanned_downtime: "unplanned downtime",
    maintenance_time: "maintenance time",
    planned_time: "planned time",
    mtbf: "MTBF",
    mttr: "MTTR",
    failures: "failures",
    maintenance_actions: "maintenance actions",
    wip: "work in progress",
    queue_length: "queue length",
    queue_wait: "queue wait",
    model_precision: "model precision",
    model_recall: "model recall",
    model_lead_time: "model lead time",
    downtime: "downtime",
    busy: "busy",
    starved: "starved",
    blocked: "blocked",
    planned_stop: "planned stop",
    maintenance: "maintenance",
    down: "down",
    run_to_failure: "run to failure",
    preventive: "preventive",
    predictive: "predictive",
    predictive_preventive: "predictive and preventive",
    unit_s: "s",
    unit_min: "min",
    unit_h: "h",
    unit_d: "days",
    unit_unit: "time units",
};

const ZH: Text = Text {
    title: "数字孪生",
    line_files: "产线文件",
    no_line_files: "工作目录顶层还没有产线文件：可从示例产线或下方已存运行的产线新建。",
    file: "文件",
    line: "产线",
    stations: "工位数",
    runs: "孪生运行",
    no_runs: "尚无已存储的孪生运行。",
    run: "运行",
    when: "时间",
    comparison: "策略对比",
    optimisation: "参数优化",
    policies: "策略",
    replications: "重复次数",
    horizon: "仿真时长",
    warmup: "预热时长",
    seed: "随机种子",
    business_case: "业务案例",
    start_compare: "对比维护策略",
    start_optimise: "优化策略参数",
    compare_hint: "以公共随机数在产线上仿真所选策略；结果保存为一次孪生运行。",
    optimise_hint: "在策略的一个参数上搜索最优目标值，每个取值做多次重复仿真。",
    files_in_home: "工作目录中的产线文件",
    lines_of_runs: "已存运行的产线",
    model: "故障模型（预测性策略）",
    no_model: "无",
    rules: "AI4I 故障规则",
    model_hint: "已注册的模型版本，或孪生物理模型所依据的 AI4I 规则。",
    duration_hint: "留空则使用产线文件中的设置。示例：",
    more_options: "更多选项",
    interval: "预防性维护间隔",
    wear_limit: "刀具磨损上限（分钟）",
    threshold: "报警阈值",
    policy: "策略",
    parameter: "参数",
    parameter_default: "默认（预测性策略为阈值，否则为维护间隔）",
    range: "范围",
    range_hint: "从下限到上限的 N 个等间距取值；维护间隔写作时长。写法：",
    values: "取值",
    values_hint: "或以逗号分隔列出要尝试的取值。",
    objective: "目标",
    cost_per_good_part: "单件合格品成本（越低越好）",
    cost_kpi: "单件合格品成本",
    throughput: "产出率（越高越好）",
    compare: "开始对比",
    optimise: "开始优化",
    new_line: "新建产线文件",
    new_line_hint: "工作目录顶层的文件名，扩展名为",
    from: "起始内容",
    example_line: "示例铣削产线",
    open_editor: "在编辑器中打开",
    run_title: "孪生运行",
    models_used: "使用的模型",
    description: "说明",
    kpis: "各策略的 KPI",
    kpis_hint: "柱为各次重复的均值，须线为 95% 置信区间（CI）。",
    points_by_value: "每根柱对应参数的一个搜索取值",
    all_kpis: "全部 KPI 及其 95% CI",
    kpi: "KPI",
    mean: "均值",
    ci: "95% CI",
    gantt: "工位状态（第 0 次重复）",
    gantt_hint: "仿真时长前段内各工位的状态。",
    throughput_series: "仿真期内的产出率",
    time_axis: "时间",
    good_parts_per_unit: "每时间单位合格品数",
    optimisation_curve: "优化曲线",
    best: "最优",
    base_policy: "基础策略",
    value: "取值",
    warnings: "提示",
    on_edge_low: "最优值是搜索范围的最小值：最优点可能在范围之下。",
    on_edge_high: "最优值是搜索范围的最大值：最优点可能在范围之上。",
    overlaps: "最优点的 95% CI 与次优点重叠：现有重复次数无法区分二者。",
    stored_plots: "孪生保存的图表",
    open_business: "查看业务案例",
    open_run: "查看孪生运行",
    numbers: "数据",
    editor_title: "产线文件",
    new_file: "新文件：保存时才写入。",
    text_label: "产线文件（TOML）",
    check: "检查",
    save: "保存",
    saved: "已保存。",
    valid: "产线文件有效",
    at: at_zh,
    not_saved: "未保存",
    compare_this: "在此产线上对比策略（已保存的文件）",
    back_to_twin: "返回数字孪生",
    oee: "OEE（设备综合效率）",
    availability: "可用率",
    performance: "性能率",
    quality: "质量率",
    scrap_rate: "废品率",
    total_cost: "总成本",
    revenue: "收入",
    good_parts: "合格品数",
    unplanned_downtime: "计划外停机时间",
    maintenance_time: "维护时间",
    planned_time: "计划生产时间",
    mtbf: "平均故障间隔时间",
    mttr: "平均修复时间",
    failures: "故障次数",
    maintenance_actions: "维护次数",
    wip: "在制品",
    queue_length: "队列长度",
    queue_wait: "排队等待",
    model_precision: "模型精确率",
    model_recall: "模型召回率",
    model_lead_time: "模型预警提前量",
    downtime: "停机时间",
    busy: "加工",
    starved: "缺料",
    blocked: "阻塞",
    planned_stop: "计划停机",
    maintenance: "维护",
    down: "故障停机",
    run_to_failure: "故障后维修",
    preventive: "预防性维护",
    predictive: "预测性维护",
    predictive_preventive: "预测性加预防性维护",
    unit_s: "秒",
    unit_min: "分钟",
    unit_h: "小时",
    unit_d: "天",
    unit_unit: "时间单位",
};

pub(super) fn text(lang: Lang) -> &'static Text {
    lang.pick(&EN, &ZH)
}

/// The time unit of a run in words (`min` → 分钟); an unknown one as stored.
fn unit_name(t: &Text, unit: &str) -> Markup {
    let known = match unit {
        "s" => Some(t.unit_s),
        "min" => Some(t.unit_min),
        "h" => Some(t.unit_h),
        "d" => Some(t.unit_d),
        "unit" => Some(t.unit_unit),
        _ => None,
    };
    match known {
        Some(k) => html! { (k) },
        None => html! { span translate="no" { (unit) } },
    }
}

/// A policy's name in words, with the name the twin uses beside it.
/// A policy's name in words, for the twin's own policy names.
fn policy_words(t: &Text, name: &str) -> Option<&'static str> {
    match name {
        "run-to-failure" => Some(t.run_to_failure),
        "preventive" => Some(t.preventive),
        "predictive" => Some(t.predictive),
        "predictive+preventive" => Some(t.predictive_preventive),
        _ => None,
    }
}

pub(super) fn policy_label(lang: Lang, name: &str) -> Markup {
    match policy_words(text(lang), name) {
        Some(w) => html! { (w) " " code translate="no" { (name) } },
        None => html! { code translate="no" { (name) } },
    }
}

/// A KPI key of the twin (`cost_per_good_part`, `failures_twf`) in words.
fn kpi_label(t: &Text, key: &str) -> Markup {
    let known = match key {
        "throughput" => Some(t.good_parts_per_unit),
        "oee" => Some(t.oee),
        "availability" => Some(t.availability),
        "performance" => Some(t.performance),
        "quality" => Some(t.quality),
        "scrap_rate" => Some(t.scrap_rate),
        "cost_per_good_part" => Some(t.cost_kpi),
        "total_cost" => Some(t.total_cost),
        "revenue" => Some(t.revenue),
        "good_parts" => Some(t.good_parts),
        "unplanned_downtime" => Some(t.unplanned_downtime),
        "maintenance_time" => Some(t.maintenance_time),
        "planned_time" => Some(t.planned_time),
        "mtbf" => Some(t.mtbf),
        "mttr" => Some(t.mttr),
        "failures" => Some(t.failures),
        "maintenance_actions" => Some(t.maintenance_actions),
        "wip" => Some(t.wip),
        "queue_length" => Some(t.queue_length),
        "queue_wait" => Some(t.queue_wait),
        "model_precision" => Some(t.model_precision),
        "model_recall" => Some(t.model_recall),
        "model_lead_time" => Some(t.model_lead_time),
        _ => None,
    };
    if let Some(words) = known {
        return html! { (words) };
    }
    let split = [("failures_", t.failures), ("downtime_", t.downtime)]
        .into_iter()
        .find_map(|(prefix, words)| key.strip_prefix(prefix).map(|rest| (words, rest)));
    match split {
        Some((words, cause)) => {
            html! { (words) " (" span translate="no" { (cause.to_uppercase()) } ")" }
        }
        None => html! { span translate="no" { (key) } },
    }
}

/// A station state of the twin (`busy`, `down (TWF)`) in words.
fn state_label(t: &Text, state: &str) -> Markup {
    let words = match state {
        "busy" => Some(t.busy),
        "starved" => Some(t.starved),
        "blocked" => Some(t.blocked),
        "planned stop" => Some(t.planned_stop),
        "maintenance" => Some(t.maintenance),
        _ => None,
    };
    if let Some(w) = words {
        return html! { (w) };
    }
    match state
        .strip_prefix("down (")
        .and_then(|s| s.strip_suffix(')'))
    {
        Some(cause) => html! { (t.down) " (" span translate="no" { (cause) } ")" },
        None => html! { span translate="no" { (state) } },
    }
}

/// When a run was made, from its id (`twin-20261201T205015-d31d9f32`).
pub(super) fn run_time(run_id: &str) -> Option<DateTime<Utc>> {
    let stamp = run_id.strip_prefix("twin-")?.get(..15)?;
    NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%S")
        .ok()
        .map(|t| t.and_utc())
}

/// A KPI summary as `mean [low, high]`.
fn summary_text(s: &millwright_twin::Summary, decimals: usize) -> (String, String) {
    let mean = s
        .mean
        .map(|m| number(m, decimals))
        .unwrap_or_else(|| "—".into());
    let ci = match (s.ci_low, s.ci_high) {
        (Some(lo), Some(hi)) => format!("{} … {}", number(lo, decimals), number(hi, decimals)),
        _ => "—".into(),
    };
    (mean, ci)
}

/// Digits that suit a KPI's values.
fn kpi_decimals(values: impl IntoIterator<Item = f64>) -> usize {
    let top = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(0.0f64, |m, v| m.max(v.abs()));
    match top {
        t if t >= 1000.0 => 0,
        t if t >= 10.0 => 1,
        t if t >= 1.0 => 2,
        _ => 3,
    }
}

/// A policy's name under its bar: a searched point (`predictive[threshold=0.1]`) by its value alone.
fn point_label(policy: &str, search: bool) -> String {
    let value = policy
        .strip_suffix(']')
        .and_then(|p| p.split_once('['))
        .and_then(|(_, setting)| setting.split_once('='))
        .map(|(_, value)| value);
    match value {
        Some(v) if search => v.to_owned(),
        _ => policy.to_owned(),
    }
}

/// The KPIs drawn as charts, in this order (as the report draws them).
const CHART_KPIS: [&str; 6] = [
    "throughput",
    "availability",
    "oee",
    "cost_per_good_part",
    "unplanned_downtime",
    "scrap_rate",
];

/// (value of the `line` field, what the choice shows).
type Choice = (String, String);

/// Line files at the top of the home, and the line files stored with runs.
type LineChoices = (Vec<Choice>, Vec<Choice>);

/// The lines a comparison can name: files at the top of the home, then the line of each stored run
/// (the newest run of each line name), as (value for `line`, what is shown).
fn line_choices(home: &Home) -> Result<LineChoices, AppError> {
    let files = millwright_app::twin::line_files(home)?
        .into_iter()
        .map(|f| (f.file.clone(), format!("{} — {}", f.file, f.name)))
        .collect();
    let mut seen = std::collections::HashSet::new();
    let mut of_runs = Vec::new();
    for run in millwright_app::twin::runs(home)? {
        if seen.insert(run.line.clone()) {
            of_runs.push((
                format!("twin/{}/line.toml", run.run_id),
                format!("{} — {}", run.line, run.run_id),
            ));
        }
    }
    Ok((files, of_runs))
}

/// The failure models a predictive policy can use: registered versions by alias and number.
fn model_choices(home: &Home) -> Vec<String> {
    let Ok(models) = millwright_app::learn::models(home, None) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    for m in models.iter().filter(|m| m.task == "binary") {
        for alias in &m.aliases {
            push(format!("{}@{alias}", m.name));
        }
    }
    for m in models.iter().filter(|m| m.task == "binary") {
        push(format!("{}@latest", m.name));
    }
    for m in models.iter().filter(|m| m.task == "binary") {
        push(format!("{}@{}", m.name, m.version));
    }
    out
}

fn model_select(t: &Text, id: &str, models: &[String]) -> Markup {
    html! {
        label for=(id) { (t.model) }
        select id=(id) name="model" {
            @for m in models { option translate="no" value=(m) { (m) } }
            option value="rules" { (t.rules) }
            option value="" { (t.no_model) }
        }
        p .hint { (t.model_hint) }
    }
}

/// The operator's comparison form; `fixed` names the line (the editor's file) instead of a choice.
fn compare_form(ctx: &Ctx, lines: &LineChoices, fixed: Option<&str>, models: &[String]) -> Markup {
    let t = text(ctx.lang);
    html! {
        form .stack #compare-form data-api="/api/v1/twin/compare" data-then="job" {
            @match fixed {
                Some(file) => { input type="hidden" name="line" value=(file); }
                None => {
                    label for="cmp-line" { (t.line) }
                    (line_select("cmp-line", t, lines))
                }
            }
            fieldset {
                legend { (t.policies) }
                @for name in millwright_twin::POLICY_NAMES {
                    @let id = format!("cmp-p-{}", name.replace('+', "-"));
                    div {
                        input type="checkbox" id=(id) name="policies" value=(name) data-type="list" data-append
                            checked[matches!(*name, "preventive" | "predictive")];
                        " "
                        label for=(id) { (policy_label(ctx.lang, name)) }
                    }
                }
            }
            (model_select(t, "cmp-model", models))
            label for="cmp-reps" { (t.replications) }
            input #cmp-reps type="number" name="replications" min="1" max="1000" value="10" data-type="number";
            label for="cmp-horizon" { (t.horizon) }
            input translate="no" #cmp-horizon type="text" name="horizon" placeholder="7d";
            p .hint { (t.duration_hint) " " code translate="no" { "7d · 8h · 180min" } }
            details {
                summary { (t.more_options) }
                div .stack {
                    label for="cmp-warmup" { (t.warmup) }
                    input translate="no" #cmp-warmup type="text" name="warmup" placeholder="1d";
                    label for="cmp-seed" { (t.seed) }
                    input translate="no" #cmp-seed type="number" name="seed" min="0" data-type="number" placeholder="1";
                    label for="cmp-interval" { (t.interval) }
                    input translate="no" #cmp-interval type="text" name="interval" placeholder="2d";
                    label for="cmp-wear" { (t.wear_limit) }
                    input #cmp-wear type="number" name="wear_limit" min="0" step="any" data-type="number";
                    label for="cmp-threshold" { (t.threshold) }
                    input #cmp-threshold type="number" name="threshold" min="0" max="1" step="any" data-type="number";
                }
            }
            div { button type="submit" { (t.compare) } }
            output {}
        }
    }
}

fn line_select(id: &str, t: &Text, (files, of_runs): &LineChoices) -> Markup {
    html! {
        select id=(id) name="line" required {
            @if !files.is_empty() {
                optgroup label=(t.files_in_home) {
                    @for (value, shown) in files { option translate="no" value=(value) { (shown) } }
                }
            }
            @if !of_runs.is_empty() {
                optgroup label=(t.lines_of_runs) {
                    @for (value, shown) in of_runs { option translate="no" value=(value) { (shown) } }
                }
            }
        }
    }
}

fn optimise_form(ctx: &Ctx, lines: &LineChoices, models: &[String]) -> Markup {
    let t = text(ctx.lang);
    html! {
        form .stack #optimise-form data-api="/api/v1/twin/optimize" data-then="job" {
            label for="opt-line" { (t.line) }
            (line_select("opt-line", t, lines))
            label for="opt-policy" { (t.policy) }
            select #opt-policy name="policy" {
                @for name in ["predictive", "preventive", "predictive+preventive"] {
                    option value=(name) { (policy_words(t, name).unwrap_or(name)) }
                }
            }
            label for="opt-parameter" { (t.parameter) }
            select #opt-parameter name="parameter" {
                option value="" { (t.parameter_default) }
                option value="threshold" { (t.threshold) }
                option value="interval" { (t.interval) }
                option value="wear-limit" { (t.wear_limit) }
            }
            label for="opt-range" { (t.range) }
            input translate="no" #opt-range type="text" name="range" placeholder="0.1:0.9:5";
            p .hint { (t.range_hint) " " code translate="no" { "LO:HI:N · 0.1:0.9:5 · 60min:600min:6" } }
            label for="opt-values" { (t.values) }
            input translate="no" #opt-values type="text" name="values" data-type="list" placeholder="0.2, 0.4, 0.6";
            p .hint { (t.values_hint) }
            label for="opt-objective" { (t.objective) }
            select #opt-objective name="objective" {
                option value="cost-per-good-part" { (t.cost_per_good_part) }
                option value="throughput" { (t.throughput) }
            }
            (model_select(t, "opt-model", models))
            label for="opt-reps" { (t.replications) }
            input #opt-reps type="number" name="replications" min="1" max="1000" value="5" data-type="number";
            label for="opt-horizon" { (t.horizon) }
            input translate="no" #opt-horizon type="text" name="horizon" placeholder="7d";
            p .hint { (t.duration_hint) " " code translate="no" { "7d · 8h · 180min" } }
            div { button type="submit" { (t.optimise) } }
            output {}
        }
    }
}

/// `/ui/twin`: line files, runs, and for operators the forms that start a comparison or a search.
pub async fn page(State(state): State<AppState>, ctx: Ctx) -> Response {
    let home = &state.home;
    let files = match millwright_app::twin::line_files(home) {
        Ok(f) => f,
        Err(e) => return super::failure(&ctx, e),
    };
    let runs = match millwright_app::twin::runs(home) {
        Ok(r) => r,
        Err(e) => return super::failure(&ctx, e),
    };
    let with_case: std::collections::HashSet<String> =
        millwright_app::impact::business_case_runs(home)
            .map(|r| r.into_iter().map(|r| r.run_id).collect())
            .unwrap_or_default();
    let t = text(ctx.lang);
    let c = common(ctx.lang);
    let operator = ctx.may(Role::Operator);
    let (lines, models) = if operator {
        match line_choices(home) {
            Ok(l) => (l, model_choices(home)),
            Err(e) => return super::failure(&ctx, e),
        }
    } else {
        ((Vec::new(), Vec::new()), Vec::new())
    };
    let body = html! {
        h1 { (t.title) }
        section aria-labelledby="tw-lines" {
            h2 #tw-lines { (t.line_files) }
            @if files.is_empty() { p { (t.no_line_files) } } @else {
                div .scroll { table #line-files {
                    thead { tr { th { (t.file) } th { (t.line) } th .num { (t.stations) } } }
                    tbody {
                        @for f in &files {
                            tr {
                                td translate="no" { a href={ "/ui/twin/lines/" (f.file) } { (f.file) } }
                                td translate="no" { (f.name) }
                                td .num { (f.stations) }
                            }
                        }
                    }
                } }
            }
            @if operator {
                details #new-line {
                    summary { (t.new_line) }
                    form .stack method="get" action="/ui/twin/new-line" {
                        label for="nl-file" { (t.file) }
                        input translate="no" #nl-file type="text" name="file" required pattern="[A-Za-z0-9_][A-Za-z0-9_.\\-]*\\.toml" placeholder="my-line.toml";
                        p .hint { (t.new_line_hint) " " code translate="no" { ".toml" } }
                        label for="nl-from" { (t.from) }
                        select #nl-from name="from" {
                            option value="example" { (t.example_line) }
                            @for (value, shown) in &lines.1 {
                                option translate="no" value=(value.trim_start_matches("twin/").trim_end_matches("/line.toml")) { (shown) }
                            }
                        }
                        div { button type="submit" { (t.open_editor) } }
                    }
                }
            }
        }
        section aria-labelledby="tw-runs" {
            h2 #tw-runs { (t.runs) }
            @if runs.is_empty() { p { (t.no_runs) } } @else {
                div .scroll { table #twin-runs {
                    thead { tr {
                        th { (t.run) } th { (t.when) } th { (t.line) } th { (c.kind) } th { (t.policies) }
                        th .num { (t.replications) } th .num { (t.horizon) } th { (t.business_case) }
                    } }
                    tbody {
                        @for r in &runs {
                            tr {
                                td translate="no" { a href={ "/ui/twin/runs/" (r.run_id) } { (r.run_id) } }
                                td { @if let Some(w) = run_time(&r.run_id) { (time(ctx.lang, w)) } }
                                td translate="no" { (r.line) }
                                td { @if r.optimization { (t.optimisation) } @else { (t.comparison) } }
                                td translate="no" { (r.policies.join(", ")) }
                                td .num { (r.replications) }
                                td .num { (number(r.horizon, 0)) " " (unit_name(t, &r.time_unit)) }
                                td { @if with_case.contains(&r.run_id) { a href={ "/ui/business/" (r.run_id) } { (c.open) } } }
                            }
                        }
                    }
                } }
            }
        }
        @if operator {
            @if lines.0.is_empty() && lines.1.is_empty() { } @else {
                div .cards .wide {
                    section .card aria-labelledby="tw-compare" {
                        h2 #tw-compare { (t.start_compare) }
                        p .hint { (t.compare_hint) }
                        (compare_form(&ctx, &lines, None, &models))
                    }
                    section .card aria-labelledby="tw-optimise" {
                        h2 #tw-optimise { (t.start_optimise) }
                        p .hint { (t.optimise_hint) }
                        (optimise_form(&ctx, &lines, &models))
                    }
                }
            }
        }
    };
    layout::page(&ctx, Section::Twin, t.title, body)
}

/// `/ui/twin/runs/{id}`: one stored run.
pub async fn run_page(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Response {
    let home = &state.home;
    let result = match millwright_app::twin::load_result(home, &id) {
        Ok(r) => r,
        Err(e) => return super::failure(&ctx, e),
    };
    let plots = millwright_app::twin::plots(home, &id).unwrap_or_default();
    let has_case = millwright_app::impact::business_case_runs(home)
        .map(|runs| runs.iter().any(|r| r.run_id == id))
        .unwrap_or(false);
    let t = text(ctx.lang);
    let title = match run_time(&result.run_id) {
        Some(w) => format!("{} {}", t.run_title, time(ctx.lang, w)),
        None => t.run_title.to_owned(),
    };
    let body = html! {
        h1 { (t.run_title) " " span translate="no" { (result.run_id) } }
        dl {
            dt { (t.line) } dd translate="no" { (result.line.name) }
            @if let Some(w) = run_time(&result.run_id) { dt { (t.when) } dd { (time(ctx.lang, w)) } }
            dt { (t.replications) } dd { (result.replications) }
            dt { (t.horizon) } dd { (number(result.horizon, 0)) " " (unit_name(t, &result.time_unit)) }
            dt { (t.warmup) } dd { (number(result.warmup, 0)) " " (unit_name(t, &result.time_unit)) }
            dt { (t.seed) } dd { (result.seed) }
            @if !result.models.is_empty() {
                dt { (t.models_used) }
                dd translate="no" { (result.models.iter().map(|m| format!("{}@{}", m.name, m.version)).collect::<Vec<_>>().join(", ")) }
            }
        }
        @if has_case {
            p { a href={ "/ui/business/" (result.run_id) } { (t.open_business) } }
        }
        section aria-labelledby="run-policies" {
            h2 #run-policies { (t.policies) }
            div .scroll { table {
                thead { tr { th { (t.policy) } th { (t.description) } th { (t.model) } th .num { (t.threshold) } } }
                tbody {
                    @for p in &result.policies {
                        tr {
                            td { (policy_label(ctx.lang, &p.policy)) }
                            td translate="no" { (p.description) }
                            td translate="no" { (p.model_description.clone().unwrap_or_default()) }
                            td .num { @if let Some(th) = &p.threshold { (number(th.value, 3)) } }
                        }
                    }
                }
            } }
        }
        @if let Some(opt) = &result.optimization { (optimisation(ctx.lang, &result, opt)) }
        (kpi_section(ctx.lang, &result))
        (gantt_section(ctx.lang, &result))
        (throughput_section(ctx.lang, &result))
        @if !plots.is_empty() {
            section aria-labelledby="run-plots" {
                h2 #run-plots { (t.stored_plots) }
                ul {
                    @for p in plots.iter().filter(|p| p.media_type == "image/svg+xml") {
                        li { a translate="no" href={ "/api/v1/twin/runs/" (result.run_id) "/plots/" (p.file) } { (p.file) } }
                    }
                }
            }
        }
        p { a href="/ui/twin" { (t.back_to_twin) } }
    };
    layout::page(&ctx, Section::Twin, &title, body)
}

fn kpi_section(lang: Lang, result: &TwinResult) -> Markup {
    let t = text(lang);
    let mut keys: Vec<&String> = result.policies.iter().flat_map(|p| p.kpis.keys()).collect();
    keys.sort();
    keys.dedup();
    html! {
        section aria-labelledby="run-kpis" {
            h2 #run-kpis { (t.kpis) }
            p .hint { (t.kpis_hint) }
            @if let Some(opt) = &result.optimization {
                p .hint { (t.points_by_value) ": " (knob_label(t, opt.parameter, &result.time_unit)) }
            }
            div .cards {
                @for (i, key) in CHART_KPIS.iter().enumerate() {
                    @let rows: Vec<Whisker> = result.policies.iter().filter_map(|p| {
                        let s = p.kpis.get(*key)?;
                        Some(Whisker {
                            label: point_label(&p.policy, result.optimization.is_some()),
                            mean: s.mean?,
                            low: s.ci_low.unwrap_or(f64::NAN),
                            high: s.ci_high.unwrap_or(f64::NAN),
                        })
                    }).collect();
                    @if !rows.is_empty() {
                        @let decimals = kpi_decimals(rows.iter().map(|r| r.mean));
                        figure .card {
                            figcaption { b { (kpi_label(t, key)) } }
                            (twin_svg::whiskers(&format!("kpi-{i}"), &kpi_label(t, key).into_string(), &rows, decimals))
                        }
                    }
                }
            }
            details #all-kpis {
                summary { (t.all_kpis) }
                div .scroll { table {
                    thead { tr {
                        th { (t.kpi) }
                        @for p in &result.policies { th .num translate="no" { (p.policy) } }
                    } }
                    tbody {
                        @for key in &keys {
                            @let decimals = kpi_decimals(result.policies.iter().filter_map(|p| p.kpis.get(*key)?.mean));
                            tr {
                                td { (kpi_label(t, key)) " " code translate="no" { (key) } }
                                @for p in &result.policies {
                                    td .num {
                                        @if let Some(s) = p.kpis.get(*key) {
                                            @let (mean, ci) = summary_text(s, decimals);
                                            (mean) br; span .hint { "[" (ci) "]" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                } }
            }
        }
    }
}

fn gantt_section(lang: Lang, result: &TwinResult) -> Markup {
    let t = text(lang);
    let drawn: Vec<_> = result
        .policies
        .iter()
        .filter(|p| !p.gantt.is_empty())
        .collect();
    if drawn.is_empty() {
        return html! {};
    }
    html! {
        section aria-labelledby="run-gantt" {
            h2 #run-gantt { (t.gantt) }
            p .hint { (t.gantt_hint) " " (t.time_axis) ": " (unit_name(t, &result.time_unit)) }
            @for (i, p) in drawn.iter().enumerate() {
                @let colours: Vec<&str> = p.gantt_states.iter().map(|s| twin_svg::state_colour(s)).collect();
                @let spans: Vec<Span> = p.gantt.iter().map(|s| Span {
                    station: usize::from(s.station), state: usize::from(s.state), start: s.start, end: s.end,
                }).collect();
                @let t0 = p.gantt.iter().map(|s| s.start).fold(f64::INFINITY, f64::min);
                @let t1 = p.gantt.iter().map(|s| s.end).fold(f64::NEG_INFINITY, f64::max);
                @let used: std::collections::BTreeSet<usize> = spans.iter().map(|s| s.state).collect();
                figure .gantt-figure {
                    figcaption { (policy_label(lang, &p.policy)) }
                    (twin_svg::gantt(&format!("gantt-{i}"), t.gantt, &result.line.stations, &colours, &spans, (t0, t1)))
                    ul .legend {
                        @for s in used {
                            @if let Some(name) = p.gantt_states.get(s) {
                                li { (twin_svg::swatch(colours[s])) " " (state_label(t, name)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn throughput_section(lang: Lang, result: &TwinResult) -> Markup {
    let t = text(lang);
    let Some(bins) = result
        .policies
        .iter()
        .map(|p| p.throughput_series.len())
        .max()
        .filter(|n| *n > 0)
    else {
        return html! {};
    };
    let width = result.horizon / bins as f64;
    let x: Vec<f64> = (0..bins).map(|i| width * (i as f64 + 0.5)).collect();
    let unit = unit_name(t, &result.time_unit).into_string();
    let unit_plain = strip_tags(&unit);
    let spec = serde_json::json!({
        "kind": "line",
        "x": x,
        "x_label": format!("{} ({})", t.time_axis, unit_plain),
        "y_label": t.good_parts_per_unit,
        "series": result.policies.iter().map(|p| serde_json::json!({
            "label": p.policy, "values": p.throughput_series,
        })).collect::<Vec<_>>(),
    });
    html! {
        section aria-labelledby="run-throughput" {
            h2 #run-throughput { (t.throughput_series) }
            (layout::json_block("throughput-data", &spec))
            div .chart #throughput-chart data-chart="throughput-data" translate="no" {}
        }
    }
}

/// Markup's text without its tags (for a chart label drawn by the script).
fn strip_tags(markup: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in markup.chars() {
        match c {
            '<' => inside = true,
            '>' => inside = false,
            _ if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

/// The searched parameter in words (the interval with its time unit).
fn knob_label(t: &Text, knob: Knob, time_unit: &str) -> String {
    match knob {
        Knob::Interval => format!(
            "{} ({})",
            t.interval,
            strip_tags(&unit_name(t, time_unit).into_string())
        ),
        Knob::WearLimit => t.wear_limit.to_owned(),
        Knob::Threshold => t.threshold.to_owned(),
    }
}

fn optimisation(lang: Lang, result: &TwinResult, opt: &millwright_twin::Optimization) -> Markup {
    let t = text(lang);
    let parameter = knob_label(t, opt.parameter, &result.time_unit);
    let objective = match opt.objective {
        Objective::CostPerGoodPart => t.cost_kpi,
        Objective::Throughput => t.good_parts_per_unit,
    };
    let spec = serde_json::json!({
        "kind": "line",
        "x": opt.points.iter().map(|p| p.value).collect::<Vec<_>>(),
        "x_label": parameter,
        "y_label": objective,
        "series": [
            {"label": t.mean, "values": opt.points.iter().map(|p| p.mean).collect::<Vec<_>>()},
            {"label": format!("{} ↓", t.ci), "values": opt.points.iter().map(|p| p.ci_low).collect::<Vec<_>>()},
            {"label": format!("{} ↑", t.ci), "values": opt.points.iter().map(|p| p.ci_high).collect::<Vec<_>>()},
        ],
    });
    let decimals = kpi_decimals(opt.points.iter().map(|p| p.mean));
    let value_decimals = kpi_decimals(opt.points.iter().map(|p| p.value)).max(1);
    html! {
        section aria-labelledby="run-optimisation" {
            h2 #run-optimisation { (t.optimisation_curve) }
            dl {
                dt { (t.parameter) } dd { (parameter) }
                dt { (t.objective) } dd { (objective) }
                dt { (t.base_policy) } dd translate="no" { (opt.base_policy) }
                dt { (t.best) } dd #optimisation-best { (number(opt.best.value, value_decimals)) " → " (number(opt.best.mean, decimals)) }
            }
            (layout::json_block("optimisation-data", &spec))
            div .chart #optimisation-chart data-chart="optimisation-data" {}
            @if !opt.warnings.is_empty() {
                h3 { (t.warnings) }
                ul {
                    @for w in &opt.warnings {
                        li { (match w {
                            OptimizationWarning::BestOnEdge { edge: millwright_twin::optimize::Edge::Lowest, .. } => t.on_edge_low,
                            OptimizationWarning::BestOnEdge { .. } => t.on_edge_high,
                            OptimizationWarning::OverlapsRunnerUp { .. } => t.overlaps,
                        }) }
                    }
                }
            }
            details {
                summary { (t.numbers) }
                table {
                    thead { tr { th .num { (t.value) } th .num { (t.mean) } th .num { (t.ci) } } }
                    tbody {
                        @for p in &opt.points {
                            tr .chosen[p.value == opt.best.value] {
                                td .num { (number(p.value, value_decimals)) }
                                td .num { (number(p.mean, decimals)) }
                                td .num { (number(p.ci_low, decimals)) " … " (number(p.ci_high, decimals)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// On a finished job's page: a link to the twin run a twin job stored, or to the business case a report
/// was built for.
pub fn job_links(lang: Lang, kind: &str, result: Option<&serde_json::Value>) -> Markup {
    let t = text(lang);
    let Some(run_id) = result
        .and_then(|r| r.get("run_id"))
        .and_then(|v| v.as_str())
    else {
        return html! {};
    };
    html! {
        @if kind.starts_with("twin-") {
            p .job-links { a href={ "/ui/twin/runs/" (run_id) } { (t.open_run) } }
        } @else if kind == "report" {
            p .job-links { a href={ "/ui/business/" (run_id) } { (t.open_business) } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_id_tells_when_it_ran() {
        let t = run_time("twin-20261201T205015-d31d9f32").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-01T20:50:15+00:00");
        assert_eq!(run_time("other"), None);
        assert_eq!(run_time("twin-2026"), None);
    }

    #[test]
    fn kpi_and_state_names_read_in_both_languages() {
        let zh = text(Lang::Zh);
        assert_eq!(kpi_label(zh, "scrap_rate").into_string(), "废品率");
        let cause = kpi_label(zh, "failures_twf").into_string();
        assert!(
            cause.starts_with("故障次数") && cause.contains(">TWF<"),
            "{cause}"
        );
        assert!(kpi_label(zh, "new_kpi")
            .into_string()
            .contains("translate=\"no\""));
        assert_eq!(state_label(zh, "planned stop").into_string(), "计划停机");
        assert!(state_label(zh, "down (HDF)")
            .into_string()
            .starts_with("故障停机"));
    }

    #[test]
    fn a_searched_point_is_labelled_by_its_value() {
        assert_eq!(point_label("predictive[threshold=0.1]", true), "0.1");
        assert_eq!(
            point_label("predictive[threshold=0.1]", false),
            "predictive[threshold=0.1]"
        );
        assert_eq!(point_label("preventive", true), "preventive");
    }

    #[test]
    fn digits_suit_the_values() {
        assert_eq!(kpi_decimals([1234.0, 5.0]), 0);
        assert_eq!(kpi_decimals([0.93, 0.91]), 3);
        assert_eq!(kpi_decimals([f64::NAN]), 3);
        assert_eq!(strip_tags("<span translate=\"no\">min</span>"), "min");
    }
}
