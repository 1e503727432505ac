//! The business case of a twin comparison, measured against the line's current practice: the change in
//! productivity and margin, how it decomposes (f_AI per path, P1/V1), the payback curve, NPV and ROI,
//! what the result depends on (a tornado chart), and the HTML report one click away.

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{html, Markup};
use millwright_app::impact::{ImpactOutcome, ImpactRequest};
use millwright_impact::{Estimate, MeasuredImpact, SensitivityRow};

use super::twin_svg::{self, TornadoRow};
use crate::store::Role;
use crate::ui::i18n::{common, number, percent, Lang};
use crate::ui::layout::{self, Section};
use crate::ui::session::Ctx;
use crate::AppState;

struct Text {
    title: &'static str,
    intro: &'static str,
    none: &'static str,
    run: &'static str,
    when: &'static str,
    line: &'static str,
    policies: &'static str,
    report: &'static str,
    case_title: &'static str,
    measured_against: fn(Lang) -> &'static str,
    baseline: &'static str,
    ai_policy: &'static str,
    current_practice: &'static str,
    given_baseline: &'static str,
    uncertainty: &'static str,
    resamples: &'static str,
    productivity_change: &'static str,
    margin_change: &'static str,
    payback: &'static str,
    npv: &'static str,
    roi: &'static str,
    months: &'static str,
    per_month_suffix: &'static str,
    never_pays_back: &'static str,
    no_investment: &'static str,
    productivity: &'static str,
    productivity_unit: &'static str,
    margin: &'static str,
    margin_unit: &'static str,
    figure: &'static str,
    value: &'static str,
    ci: &'static str,
    unit: &'static str,
    breakdown: &'static str,
    breakdown_hint: &'static str,
    path: &'static str,
    factor: &'static str,
    alpha: &'static str,
    term: &'static str,
    source: &'static str,
    measured: &'static str,
    user_given: &'static str,
    drivers: &'static str,
    driver: &'static str,
    ratio: &'static str,
    availability: &'static str,
    speed: &'static str,
    yield_: &'static str,
    margin_per_good_part: &'static str,
    business: &'static str,
    investment: &'static str,
    running_cost: &'static str,
    horizon: &'static str,
    discount_rate: &'static str,
    per_year: &'static str,
    benefit: &'static str,
    net_gain: &'static str,
    payback_curve: &'static str,
    payback_hint: &'static str,
    month_axis: &'static str,
    estimate: &'static str,
    thousand: &'static str,
    no_change: &'static str,
    totals: &'static str,
    ci_low: &'static str,
    ci_high: &'static str,
    sensitivity: &'static str,
    sensitivity_hint: &'static str,
    input: &'static str,
    low: &'static str,
    high: &'static str,
    benefit_per_month: &'static str,
    price: &'static str,
    part_value: &'static str,
    operating_per_hour: &'static str,
    downtime_per_hour: &'static str,
    corrective_repair: &'static str,
    preventive_maintenance: &'static str,
    scrap: &'static str,
    the_report: &'static str,
    open_report: &'static str,
    no_report: &'static str,
    build_report: &'static str,
    open_run: &'static str,
    paths: fn(&str) -> Option<&'static str>,
}

fn against_en(_: Lang) -> &'static str {
    "Measured against the line's current practice"
}

fn against_zh(_: Lang) -> &'static str {
    "以产线现行做法为基准的测算"
}

fn paths_en(name: &str) -> Option<&'static str> {
    Some(match name {
        "smart_manufacturing" => "Smart manufacturing",
        "smart_services" => "Smart services",
        "digital_twin" => "Digital twin",
        "production_efficiency" => "Production efficiency",
        "scrap_rate" => "Scrap rate",
        "supply_chain_management" => "Supply-chain management",
        "customer_satisfaction" => "Customer satisfaction",
        "operating_cost" => "Operating cost",
        "service_process_optimisation" => "Service-process optimisation",
        "system_stability" => "System stability",
        "system_flexibility" => "System flexibility",
        "prediction_and_optimisation" => "Prediction and optimisation",
        _ => return None,
    })
}

fn paths_zh(name: &str) -> Option<&'static str> {
    Some(match name {
        "smart_manufacturing" => "智能制造",
        "smart_services" => "智能服务",
        "digital_twin" => "数字孪生",
        "production_efficiency" => "生产效率",
        "scrap_rate" => "废品率",
        "supply_chain_management" => "供应链管理",
        "customer_satisfaction" => "客户满意度",
        "operating_cost" => "运营成本",
        "service_process_optimisation" => "服务流程优化",
        "system_stability" => "系统稳定性",
        "system_flexibility" => "系统柔性",
        "prediction_and_optimisation" => "预测与优化",
        _ => return None,
    })
}

const EN: Text = Text {
    title: "Business case",
    intro: "Twin comparisons that simulated the line's current practice and the AI policy: what AI changes, what it costs and when it pays back.",
    none: "No twin comparison measures the AI policy against the line's current practice yet.",
    run: "Twin run",
    when: "When",
    line: "Line",
    policies: "Policies",
    report: "Report",
    case_title: "Business case of twin run",
    measured_against: against_en,
    baseline: "Baseline",
    ai_policy: "AI policy",
    current_practice: "the line's current practice",
    given_baseline: "as given",
    uncertainty: "Uncertainty",
    resamples: "paired bootstrap resamples",
    productivity_change: "Productivity",
    margin_change: "Margin per planned hour",
    payback: "Payback",
    npv: "Net present value",
    roi: "Return on investment",
    months: "months",
    per_month_suffix: " per month",
    never_pays_back: "does not pay back",
    no_investment: "No investment given in the line file's [business] table: payback, NPV and ROI need it.",
    productivity: "Productivity",
    productivity_unit: "good parts per planned hour",
    margin: "Margin",
    margin_unit: "margin per planned hour",
    figure: "Figure",
    value: "Value",
    ci: "95 % CI",
    unit: "Unit",
    breakdown: "How the change decomposes",
    breakdown_hint: "The source document's model: f_AI is the product of the path factors; P1 = P0 · f_AI and V1 = V0 · f_AI.",
    path: "Path",
    factor: "Factor",
    alpha: "α",
    term: "Term",
    source: "Source",
    measured: "measured",
    user_given: "given",
    drivers: "Measured drivers",
    driver: "Driver",
    ratio: "AI / baseline",
    availability: "availability",
    speed: "speed",
    yield_: "yield",
    margin_per_good_part: "margin per good part",
    business: "Investment and return",
    investment: "Investment (month 0)",
    running_cost: "Running cost",
    horizon: "Horizon",
    discount_rate: "Discount rate",
    per_year: "per year",
    benefit: "Benefit (change in margin)",
    net_gain: "Net gain (benefit − running cost)",
    payback_curve: "Cumulative cash flow",
    payback_hint: "Undiscounted: the investment at month 0, then the net gain each month; the band is the net gain's 95 % CI.",
    month_axis: "months after the investment",
    estimate: "estimate",
    thousand: "thousand",
    no_change: "no change",
    totals: "Productivity and margin",
    ci_low: "CI low",
    ci_high: "CI high",
    sensitivity: "What the result depends on",
    sensitivity_hint: "The benefit per month with one input moved at a time; the line is the measured benefit.",
    input: "Input",
    low: "Low",
    high: "High",
    benefit_per_month: "benefit per month",
    price: "price",
    part_value: "value of a good part",
    operating_per_hour: "operating cost per hour",
    downtime_per_hour: "downtime cost per hour",
    corrective_repair: "corrective repair",
    preventive_maintenance: "preventive maintenance",
    scrap: "scrap",
    the_report: "The report",
    open_report: "Open the HTML report",
    no_report: "No report has been built for this run yet.",
    build_report: "Build the report",
    open_run: "Open the twin run",
    paths: paths_en,
};

const ZH: Text = Text {
    title: "业务案例",
    intro: "同时仿真了产线现行做法和 AI 策略的孪生对比：AI 带来什么改变、成本多少、何时收回投资。",
    none: "尚无以产线现行做法为基准衡量 AI 策略的孪生对比。",
    run: "孪生运行",
    when: "时间",
    line: "产线",
    policies: "策略",
    report: "报告",
    case_title: "孪生运行的业务案例",
    measured_against: against_zh,
    baseline: "基准",
    ai_policy: "AI 策略",
    current_practice: "产线现行做法",
    given_baseline: "指定",
    uncertainty: "不确定性",
    resamples: "次配对自助法重抽样",
    productivity_change: "生产率",
    margin_change: "每计划小时利润",
    payback: "投资回收期",
    npv: "净现值",
    roi: "投资回报率",
    months: "个月",
    per_month_suffix: "/月",
    never_pays_back: "无法收回投资",
    no_investment: "产线文件的 [business] 表中未给出投资额：投资回收期、净现值和投资回报率需要它。",
    productivity: "生产率",
    productivity_unit: "每计划小时合格品数",
    margin: "利润",
    margin_unit: "每计划小时利润",
    figure: "指标",
    value: "数值",
    ci: "95% CI",
    unit: "单位",
    breakdown: "变化的分解",
    breakdown_hint: "源文件中的模型：f_AI 为各路径因子之积；P1 = P0 · f_AI，V1 = V0 · f_AI。",
    path: "路径",
    factor: "因子",
    alpha: "α",
    term: "分项",
    source: "来源",
    measured: "实测",
    user_given: "给定",
    drivers: "实测驱动因素",
    driver: "驱动因素",
    ratio: "AI / 基准",
    availability: "可用率",
    speed: "速度",
    yield_: "良率",
    margin_per_good_part: "每件合格品利润",
    business: "投资与回报",
    investment: "投资额（第 0 月）",
    running_cost: "运行成本",
    horizon: "评估期",
    discount_rate: "折现率",
    per_year: "每年",
    benefit: "收益（利润变化）",
    net_gain: "净收益（收益 − 运行成本）",
    payback_curve: "累计现金流",
    payback_hint: "未折现：第 0 月投入投资，此后每月获得净收益；阴影带为净收益的 95% CI。",
    month_axis: "投资后月数",
    estimate: "估计值",
    thousand: "千",
    no_change: "无变化",
    totals: "生产率与利润",
    ci_low: "CI 下限",
    ci_high: "CI 上限",
    sensitivity: "结果取决于什么",
    sensitivity_hint: "每次只改变一个输入时的每月收益；竖线为实测收益。",
    input: "输入",
    low: "低",
    high: "高",
    benefit_per_month: "每月收益",
    price: "价格",
    part_value: "合格品单价",
    operating_per_hour: "每小时运行成本",
    downtime_per_hour: "每小时停机成本",
    corrective_repair: "故障维修费用",
    preventive_maintenance: "预防性维护费用",
    scrap: "废品损失",
    the_report: "报告",
    open_report: "打开 HTML 报告",
    no_report: "此运行尚未生成报告。",
    build_report: "生成报告",
    open_run: "查看孪生运行",
    paths: paths_zh,
};

fn text(lang: Lang) -> &'static Text {
    lang.pick(&EN, &ZH)
}

/// A path or term of the impact model in words; an unknown one (from a model file) as it is named.
fn path_label(t: &Text, name: &str, label: &str) -> Markup {
    match (t.paths)(name) {
        Some(words) => html! { (words) },
        None => html! { span translate="no" { (label) } },
    }
}

/// A sensitivity input (`price: downtime_per_hour`) in words.
fn input_label(t: &Text, input: &str) -> Markup {
    let price = input.strip_prefix("price: ").and_then(|key| {
        Some(match key {
            "part_value" => t.part_value,
            "operating_per_hour" => t.operating_per_hour,
            "downtime_per_hour" => t.downtime_per_hour,
            "corrective_repair" => t.corrective_repair,
            "preventive_maintenance" => t.preventive_maintenance,
            "scrap" => t.scrap,
            _ => return None,
        })
    });
    match price {
        Some(words) => html! { (t.price) ": " (words) },
        None => html! { tspan translate="no" { (input) } },
    }
}

fn driver_label(t: &Text, driver: &str) -> Markup {
    match driver {
        "availability" => html! { (t.availability) },
        "speed" => html! { (t.speed) },
        "yield" => html! { (t.yield_) },
        "margin_per_good_part" => html! { (t.margin_per_good_part) },
        other => html! { span translate="no" { (other) } },
    }
}

/// A change as a signed percentage.
fn change(lang: Lang, ratio: f64) -> String {
    let p = percent(lang, ratio - 1.0, 1);
    if ratio >= 1.0 {
        format!("+{p}")
    } else {
        p
    }
}

fn interval(e: &Estimate, show: impl Fn(f64) -> String) -> String {
    format!("{} … {}", show(e.ci_low), show(e.ci_high))
}

/// `/ui/business`: the comparisons with a business case.
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> Response {
    let home = &state.home;
    let runs = match millwright_app::impact::business_case_runs(home) {
        Ok(r) => r,
        Err(e) => return super::failure(&ctx, e),
    };
    let t = text(ctx.lang);
    let c = common(ctx.lang);
    let body = html! {
        h1 { (t.title) }
        p { (t.intro) }
        @if runs.is_empty() { p { (t.none) } } @else {
            div .scroll { table #business-runs {
                thead { tr { th { (t.run) } th { (t.when) } th { (t.line) } th { (t.policies) } th { (t.report) } } }
                tbody {
                    @for r in &runs {
                        @let reports = millwright_app::report::reports_of_run(home, &r.run_id).unwrap_or_default();
                        tr {
                            td translate="no" { a href={ "/ui/business/" (r.run_id) } { (r.run_id) } }
                            td { @if let Some(w) = super::twin::run_time(&r.run_id) { (crate::ui::i18n::time(ctx.lang, w)) } }
                            td translate="no" { (r.line) }
                            td translate="no" { (r.policies.join(", ")) }
                            td { @for rep in &reports { a href={ "/api/v1/reports/" (rep.name) } { (c.open) } " " } }
                        }
                    }
                }
            } }
        }
    };
    layout::page(&ctx, Section::Business, t.title, body)
}

/// `/ui/business/{run_id}`: the measured business case of one comparison.
pub async fn page(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Response {
    let home = state.home.clone();
    if let Err(e) = millwright_twin::run_dir(home.root(), &id) {
        return super::failure(&ctx, millwright_app::AppError::from(e));
    }
    let m = match measure(&home, &id).await {
        Ok(m) => m,
        Err(e) => return super::failure(&ctx, e),
    };
    let reports = millwright_app::report::reports_of_run(&home, &id).unwrap_or_default();
    let t = text(ctx.lang);
    let lang = ctx.lang;
    let currency = m
        .business
        .as_ref()
        .map(|b| b.currency.clone())
        .unwrap_or_default();
    let title = match super::twin::run_time(&id) {
        Some(w) => format!("{} {}", t.title, crate::ui::i18n::time(lang, w)),
        None => t.title.to_owned(),
    };
    let body = html! {
        h1 { (t.case_title) " " span translate="no" { (id) } }
        p { a href={ "/ui/twin/runs/" (id) } { (t.open_run) } }
        (headline(lang, &m))
        section aria-labelledby="bc-report" {
            h2 #bc-report { (t.the_report) }
            @if reports.is_empty() {
                p { (t.no_report) }
                @if ctx.may(Role::Operator) {
                    button #build-report type="button" data-api="/api/v1/reports"
                        data-body=(serde_json::json!({ "run_id": id }).to_string()) data-then="job" { (t.build_report) }
                    output {}
                }
            } @else {
                ul {
                    @for r in &reports {
                        li { a .report-link href={ "/api/v1/reports/" (r.name) } { (t.open_report) } " " code translate="no" { (r.name) } }
                    }
                }
            }
        }
        (business_section(lang, &m))
        (sensitivity_section(lang, &m, &currency))
        (breakdown_section(lang, &m))
    };
    layout::page(&ctx, Section::Business, &title, body)
}

/// The business case of a stored twin run, measured against the line's current practice.
pub(super) async fn measure(
    home: &millwright_app::Home,
    id: &str,
) -> Result<MeasuredImpact, crate::ApiError> {
    let request = ImpactRequest {
        from_twin: Some(id.to_owned()),
        ..ImpactRequest::default()
    };
    let worker = home.clone();
    let measured =
        tokio::task::spawn_blocking(move || millwright_app::impact::impact(&worker, &request))
            .await;
    match measured {
        Ok(Ok(ImpactOutcome::Measured(m))) => Ok(*m),
        Ok(Ok(ImpactOutcome::Given(_))) => {
            Err(crate::ApiError::internal("the impact was not measured"))
        }
        Ok(Err(e)) => Err(e.into()),
        Err(e) => Err(crate::ApiError::internal(format!(
            "the impact worker stopped: {e}"
        ))),
    }
}

/// The two figures the overview shows of a business case: the margin's change against current
/// practice and the payback.
pub(super) fn summary(lang: Lang, m: &MeasuredImpact) -> Markup {
    let t = text(lang);
    html! {
        dl #ov-business {
            @if let Some(r) = &m.value.ratio {
                dt { (t.margin_change) } dd { (change(lang, r.mean)) " (" (t.ci) " " (interval(r, |x| change(lang, x))) ")" }
            }
            @if let Some(b) = &m.business {
                dt { (t.payback) }
                dd { @match b.payback.months {
                    Some(months) => { (number(months, 1)) " " (t.months) }
                    None => { (t.never_pays_back) }
                } }
            }
        }
    }
}

fn headline(lang: Lang, m: &MeasuredImpact) -> Markup {
    let t = text(lang);
    let source = &m.twin;
    let b = m.business.as_ref();
    html! {
        section aria-labelledby="bc-head" {
            h2 #bc-head { ((t.measured_against)(lang)) }
            dl {
                dt { (t.baseline) }
                dd { (super::twin::policy_label(lang, &source.baseline_policy)) " · "
                    @if source.baseline_from.contains("current_policy") { (t.current_practice) } @else { (t.given_baseline) } }
                dt { (t.ai_policy) } dd { (super::twin::policy_label(lang, &source.ai_policy)) }
                dt { (super::twin::text(lang).replications) } dd { (source.replications) }
                dt { (t.uncertainty) } dd { (t.ci) ", " (source.uncertainty.resamples_used) " " (t.resamples) }
            }
            div .cards #bc-cards {
                @if let Some(r) = &m.productivity.ratio {
                    div .card {
                        h3 { (t.productivity_change) }
                        p .big { (change(lang, r.mean)) }
                        p .hint { (t.ci) " " (interval(r, |x| change(lang, x))) }
                    }
                }
                @if let Some(r) = &m.value.ratio {
                    div .card {
                        h3 { (t.margin_change) }
                        p .big { (change(lang, r.mean)) }
                        p .hint { (t.ci) " " (interval(r, |x| change(lang, x))) }
                    }
                }
                @if let Some(b) = b {
                    div .card #bc-payback {
                        h3 { (t.payback) }
                        @match b.payback.months {
                            Some(months) => {
                                p .big { (number(months, 1)) " " (t.months) }
                                @if let (Some(lo), Some(hi)) = (b.payback.ci_low, b.payback.ci_high) {
                                    p .hint { (t.ci) " " (number(lo, 1)) " … " (number(hi, 1)) " " (t.months) }
                                }
                            }
                            None => p .big { (t.never_pays_back) },
                        }
                    }
                    div .card {
                        h3 { (t.npv) }
                        p .big { (number(b.npv.mean, 0)) " " span translate="no" { (b.currency) } }
                        p .hint { (t.ci) " " (interval(&b.npv, |x| number(x, 0))) }
                    }
                    @if let Some(roi) = &b.roi {
                        div .card {
                            h3 { (t.roi) }
                            p .big { (percent(lang, roi.mean, 1)) }
                            p .hint { (t.ci) " " (interval(roi, |x| percent(lang, x, 1))) }
                        }
                    }
                } @else {
                    p { (t.no_investment) }
                }
            }
        }
    }
}

fn business_section(lang: Lang, m: &MeasuredImpact) -> Markup {
    let t = text(lang);
    let Some(b) = &m.business else {
        return html! {};
    };
    let cur = || html! { span translate="no" { (b.currency) } };
    let i = &b.investment;
    // Large sums in thousands, so the axis labels stay short.
    let top = [b.net_monthly.ci_low, b.net_monthly.ci_high]
        .iter()
        .map(|net| (f64::from(i.horizon_months) * net - i.investment).abs())
        .fold(i.investment, f64::max);
    let (scale, scale_word) = if top >= 1e6 {
        (1e3, format!("{} ", t.thousand))
    } else {
        (1.0, String::new())
    };
    let at = |months: u32, net: f64| (f64::from(months) * net - i.investment) / scale;
    let x: Vec<u32> = (0..=i.horizon_months).collect();
    let spec = serde_json::json!({
        "kind": "line",
        "x": x,
        "x_label": t.month_axis,
        "y_label": format!("{scale_word}{}", b.currency),
        "series": [
            {"label": t.estimate, "values": x.iter().map(|m| at(*m, b.net_monthly.mean)).collect::<Vec<_>>()},
            {"label": t.ci_low, "values": x.iter().map(|m| at(*m, b.net_monthly.ci_low)).collect::<Vec<_>>()},
            {"label": t.ci_high, "values": x.iter().map(|m| at(*m, b.net_monthly.ci_high)).collect::<Vec<_>>()},
        ],
    });
    let money = |e: &Estimate| {
        html! { td .num { (number(e.mean, 0)) } td .num { (interval(e, |x| number(x, 0))) } }
    };
    html! {
        section aria-labelledby="bc-business" {
            h2 #bc-business { (t.business) }
            div .scroll { table #business-table {
                thead { tr { th { (t.figure) } th .num { (t.value) } th .num { (t.ci) } th { (t.unit) } } }
                tbody {
                    tr { td { (t.investment) } td .num { (number(i.investment, 0)) } td {} td { (cur()) } }
                    tr { td { (t.running_cost) } td .num { (number(i.running_cost_per_month, 0)) } td {} td { (cur()) (t.per_month_suffix) } }
                    tr { td { (t.horizon) } td .num { (i.horizon_months) } td {} td { (t.months) } }
                    tr { td { (t.discount_rate) } td .num { (percent(lang, i.discount_rate, 1)) } td {} td { (t.per_year) } }
                    tr { td { (t.benefit) } (money(&b.monthly_benefit)) td { (cur()) (t.per_month_suffix) } }
                    tr { td { (t.net_gain) } (money(&b.net_monthly)) td { (cur()) (t.per_month_suffix) } }
                    tr {
                        td { (t.payback) }
                        @match b.payback.months {
                            Some(months) => {
                                td .num { (number(months, 1)) }
                                td .num { @if let (Some(lo), Some(hi)) = (b.payback.ci_low, b.payback.ci_high) { (number(lo, 1)) " … " (number(hi, 1)) } }
                            }
                            None => { td .num { (t.never_pays_back) } td {} },
                        }
                        td { (t.months) }
                    }
                    tr { td { (t.npv) } (money(&b.npv)) td { (cur()) } }
                    @if let Some(roi) = &b.roi {
                        tr { td { (t.roi) } td .num { (percent(lang, roi.mean, 1)) } td .num { (interval(roi, |x| percent(lang, x, 1))) } td {} }
                    }
                }
            } }
            h3 #bc-payback-title { (t.payback_curve) " (" (scale_word) span translate="no" { (b.currency) } ")" }
            p .hint { (t.payback_hint) }
            (layout::json_block("payback-data", &spec))
            div .chart #payback-chart data-chart="payback-data" aria-labelledby="bc-payback-title" {}
        }
    }
}

fn sensitivity_section(lang: Lang, m: &MeasuredImpact, currency: &str) -> Markup {
    let t = text(lang);
    if m.sensitivity.is_empty() {
        return html! {};
    }
    let mut rows: Vec<&SensitivityRow> = m.sensitivity.iter().collect();
    rows.sort_by(|a, b| b.swing().total_cmp(&a.swing()));
    let bars: Vec<TornadoRow> = rows
        .iter()
        .map(|r| TornadoRow {
            label: input_label(t, &r.input),
            low_setting: r.low.setting.clone(),
            low: r.low.outcome.monthly_benefit,
            high_setting: r.high.setting.clone(),
            high: r.high.outcome.monthly_benefit,
        })
        .collect();
    let base = m.outcome.monthly_benefit;
    let chart_title = format!("{} ({} {})", t.sensitivity, t.benefit_per_month, currency);
    html! {
        section aria-labelledby="bc-sensitivity" {
            h2 #bc-sensitivity { (t.sensitivity) }
            p .hint { (t.sensitivity_hint) " " (t.benefit_per_month) ": " (number(base, 0)) " " span translate="no" { (currency) } }
            figure #tornado-figure { (twin_svg::tornado("tornado", &chart_title, &bars, base, t.no_change)) }
            details {
                summary { (t.input) " · " (t.low) " · " (t.high) }
                div .scroll { table {
                    thead { tr { th { (t.input) } th .num { (t.low) } th .num { (t.benefit_per_month) } th .num { (t.high) } th .num { (t.benefit_per_month) } } }
                    tbody {
                        @for r in &rows {
                            tr {
                                td { (input_label(t, &r.input)) }
                                td .num { (r.low.setting) } td .num { (number(r.low.outcome.monthly_benefit, 0)) }
                                td .num { (r.high.setting) } td .num { (number(r.high.outcome.monthly_benefit, 0)) }
                            }
                        }
                    }
                } }
            }
        }
    }
}

fn breakdown_section(lang: Lang, m: &MeasuredImpact) -> Markup {
    let t = text(lang);
    let f = &m.formula;
    let est = |e: &Estimate, d: usize| {
        html! { td .num { (number(e.mean, d)) } td .num { (interval(e, |x| number(x, d))) } }
    };
    html! {
        section aria-labelledby="bc-breakdown" {
            h2 #bc-breakdown { (t.breakdown) }
            p .hint { (t.breakdown_hint) }
            div .scroll { table #impact-paths {
                thead { tr { th { (t.path) } th { (t.term) } th .num { (t.factor) " / " (t.alpha) } th .num { (t.ci) } th { (t.source) } } }
                tbody {
                    @for p in &f.paths {
                        tr .path {
                            td { b { (path_label(t, &p.name, &p.label)) } } td {}
                            (est(&p.factor, 4))
                            td {}
                        }
                        @for term in &p.terms {
                            tr {
                                td {} td { (path_label(t, &term.name, &term.label)) }
                                (est(&term.alpha, 4))
                                td { @match term.source {
                                    millwright_impact::TermSource::Measured => (t.measured),
                                    millwright_impact::TermSource::User => (t.user_given),
                                } }
                            }
                        }
                    }
                    tr .total { td { b { "f_AI" } } td {} (est(&f.f_ai, 4)) td {} }
                }
            } }
            h3 { (t.totals) }
            div .scroll { table #impact-totals {
                thead { tr { th { (t.figure) } th .num { (t.value) } th .num { (t.ci) } th { (t.unit) } } }
                tbody {
                    tr { td { "P0" } (est(&f.p0, 2)) td { (t.productivity_unit) } }
                    tr { td { "P1" } (est(&f.p1, 2)) td { (t.productivity_unit) } }
                    tr { td { "V0" } (est(&f.v0, 2)) td { (t.margin_unit) } }
                    tr { td { "V1" } (est(&f.v1, 2)) td { (t.margin_unit) } }
                    tr { td { (t.productivity) " (" (t.baseline) ")" } (est(&m.productivity.baseline, 2)) td { (t.productivity_unit) } }
                    tr { td { (t.productivity) " (AI)" } (est(&m.productivity.ai, 2)) td { (t.productivity_unit) } }
                    tr { td { (t.margin) " (" (t.baseline) ")" } (est(&m.value.baseline, 2)) td { (t.margin_unit) } }
                    tr { td { (t.margin) " (AI)" } (est(&m.value.ai, 2)) td { (t.margin_unit) } }
                }
            } }
            @if !m.drivers.is_empty() {
                h3 { (t.drivers) }
                div .scroll { table #impact-drivers {
                    thead { tr { th { (t.driver) } th .num { (t.baseline) } th .num { "AI" } th .num { (t.ratio) } th .num { (t.ci) } th { (t.term) } th .num { (t.alpha) } } }
                    tbody {
                        @for d in &m.drivers {
                            tr {
                                td { (driver_label(t, d.driver.name())) }
                                td .num { (number(d.baseline.mean, 4)) }
                                td .num { (number(d.ai.mean, 4)) }
                                td .num { (number(d.ratio.mean, 4)) }
                                td .num { (interval(&d.ratio, |x| number(x, 4))) }
                                td translate="no" { (d.term) }
                                td .num { (number(d.alpha.mean, 4)) }
                            }
                        }
                    }
                } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_signed_percentages() {
        assert_eq!(change(Lang::En, 1.122), "+12.2 %");
        assert_eq!(change(Lang::Zh, 0.9), "−10.0%");
    }

    #[test]
    fn price_inputs_and_paths_read_in_chinese() {
        let zh = text(Lang::Zh);
        assert_eq!(
            input_label(zh, "price: downtime_per_hour").into_string(),
            "价格: 每小时停机成本"
        );
        assert!(input_label(zh, "model recall")
            .into_string()
            .contains("translate=\"no\""));
        assert_eq!(
            path_label(zh, "digital_twin", "Digital twin").into_string(),
            "数字孪生"
        );
        assert!(path_label(zh, "own_path", "Own path")
            .into_string()
            .contains("translate=\"no\""));
    }
}
