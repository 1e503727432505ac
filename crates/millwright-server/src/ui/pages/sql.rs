//! The SQL console: one read-only query over the lake's datasets, its result in pages, a CSV file of it,
//! and a line or bar chart of it in one click (first column on x, the numeric columns on y).
//!
//! Rendered by the server: the query travels in the address (`/ui/sql?q=…&page=2&chart=line`), so a
//! result can be bookmarked, paged and charted without any script of its own; the chart is a `data-chart`
//! spec drawn by `app.js`. A query only reads, so it is a `GET` like `/api/v1/sql`, which lets viewers
//! query too (docs/api.md); it runs through `millwright_app::sql` under the server's SQL time limit.

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use maud::html;
use millwright_app::sql::Preview;
use serde::Deserialize;

use super::data::{cells, float_column, pager, result_table, run_sql, sql_error};
use crate::ui::i18n::{integer, Lang};
use crate::ui::layout::{self, Section};
use crate::ui::session::Ctx;
use crate::AppState;

struct Text {
    title: &'static str,
    query: &'static str,
    hint_one: &'static str,
    hint_or: &'static str,
    hint_names: &'static str,
    hint_name: &'static str,
    hint_past: &'static str,
    run: &'static str,
    result: &'static str,
    shown: &'static str,
    of: &'static str,
    rows: &'static str,
    kept: &'static str,
    no_rows: &'static str,
    download_csv: &'static str,
    csv_hint: &'static str,
    line_chart: &'static str,
    bar_chart: &'static str,
    hide_chart: &'static str,
    chart: &'static str,
    no_numeric: &'static str,
    datasets: &'static str,
}

const EN: Text = Text {
    title: "SQL console",
    query: "Query",
    hint_one: "One read-only",
    hint_or: "(or",
    hint_names:
        ") over the lake's datasets. Quote names with spaces or other letters in double quotes;",
    hint_name: "name",
    hint_past: "reads a past version.",
    run: "Run",
    result: "Result",
    shown: "Rows",
    of: "of",
    rows: "rows",
    kept: "Only the first rows are kept for paging, the chart and the CSV file:",
    no_rows: "The query returned no rows.",
    download_csv: "Download CSV",
    csv_hint: "The CSV file holds the rows kept.",
    line_chart: "Line chart",
    bar_chart: "Bar chart",
    hide_chart: "Hide the chart",
    chart: "Chart of the result",
    no_numeric: "The result has no numeric column besides the first, so there is nothing to chart.",
    datasets: "Datasets",
};

const ZH: Text = Text {
    title: "SQL 控制台",
    query: "查询语句",
    hint_one: "对数据湖中的数据集执行一条只读",
    hint_or: "（或",
    hint_names: "）。含空格或非英文字符的名称请用双引号括起；",
    hint_name: "名称",
    hint_past: "可读取历史版本。",
    run: "运行",
    result: "查询结果",
    shown: "显示行",
    of: "共",
    rows: "行",
    kept: "分页、图表和 CSV 文件只保留前面的行：",
    no_rows: "查询没有返回任何行。",
    download_csv: "下载 CSV",
    csv_hint: "CSV 文件包含保留的行。",
    line_chart: "折线图",
    bar_chart: "柱状图",
    hide_chart: "隐藏图表",
    chart: "查询结果图表",
    no_numeric: "除第一列外，结果中没有数值列，无法绘图。",
    datasets: "数据集",
};

fn text(lang: Lang) -> &'static Text {
    lang.pick(&EN, &ZH)
}

/// Rows of a result kept for paging, the chart and the CSV file (the API's most per request).
const KEEP: usize = 10_000;
/// Rows of a result on one page.
const PAGE: usize = 50;

#[derive(Debug, Deserialize)]
pub struct ConsoleQuery {
    q: Option<String>,
    page: Option<usize>,
    chart: Option<String>,
}

/// The kind of chart asked for, as the chart spec names it.
fn chart_kind(asked: Option<&str>) -> Option<&'static str> {
    match asked {
        Some("line") => Some("line"),
        Some("bars") => Some("bars"),
        _ => None,
    }
}

fn console_href(query: &str, page: usize, chart: Option<&str>) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("q", query);
    if page > 1 {
        q.append_pair("page", &page.to_string());
    }
    if let Some(c) = chart {
        q.append_pair("chart", c);
    }
    format!("/ui/sql?{}", q.finish())
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ConsoleQuery>,
) -> Response {
    let t = text(ctx.lang);
    let query = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let chart = chart_kind(q.chart.as_deref());
    let result = match query {
        Some(sql) => Some(run_sql(&state, sql, Some(KEEP)).await),
        None => None,
    };
    let datasets = millwright_app::data::datasets(&state.home)
        .await
        .unwrap_or_default();
    let example = datasets
        .iter()
        .find(|d| !d.name.ends_with("__quarantine"))
        .map_or_else(String::new, |d| {
            format!("SELECT * FROM {} LIMIT 100", super::data::ident(&d.name))
        });
    let body = html! {
        h1 { (t.title) }
        form #sql-form .stack method="get" action="/ui/sql" {
            label for="sql-q" { (t.query) }
            textarea #sql-q name="q" rows="6" spellcheck="false" translate="no" placeholder=(example) { (query.unwrap_or("")) }
            p .hint {
                (t.hint_one) " " code { "SELECT" } " " (t.hint_or) " " code { "WITH … SELECT" } (t.hint_names) " "
                code { "FROM " (t.hint_name) " VERSION AS OF 3" } " " (t.hint_past)
            }
            div { button #sql-run type="submit" { (t.run) } }
        }
        @if !datasets.is_empty() {
            p .hint { (t.datasets) ": "
                @for (i, d) in datasets.iter().enumerate() {
                    @if i > 0 { ", " }
                    a href=(console_href(&format!("SELECT * FROM {} LIMIT 100", super::data::ident(&d.name)), 1, None)) {
                        code translate="no" { (d.name) }
                    }
                }
            }
        }
        @if let (Some(sql), Some(result)) = (query, &result) {
            section aria-labelledby="sql-result" {
                h2 #sql-result { (t.result) }
                @match result {
                    Err(e) => (sql_error(ctx.lang, e)),
                    Ok(p) => (result_view(ctx.lang, sql, p, q.page.unwrap_or(1), chart)),
                }
            }
        }
    };
    layout::page(&ctx, Section::Data, t.title, body)
}

fn result_view(
    lang: Lang,
    sql: &str,
    p: &Preview,
    page: usize,
    chart: Option<&str>,
) -> maud::Markup {
    let t = text(lang);
    let pages = p.shown.div_ceil(PAGE).max(1);
    let page = page.clamp(1, pages);
    let start = (page - 1) * PAGE;
    let spec = chart.map(|kind| chart_specs(p, kind));
    let csv = {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("q", sql);
        format!("/ui/sql/csv?{}", q.finish())
    };
    html! {
        @if p.shown == 0 { p #sql-empty { (t.no_rows) } (result_table(p, 0, 0)) } @else {
            p #sql-count {
                (t.shown) " " (integer((start + 1) as u64)) "–" (integer((start + PAGE).min(p.shown) as u64))
                " " (t.of) " " (integer(p.total as u64)) " " (t.rows)
            }
            @if p.total > p.shown { p .hint { (t.kept) " " (integer(p.shown as u64)) " " (t.rows) } }
            nav .toolbar aria-label=(t.result) {
                a #sql-csv .button href=(csv) download="query.csv" { (t.download_csv) }
                a #sql-line href=(console_href(sql, page, Some("line"))) aria-current=[(chart == Some("line")).then_some("true")] { (t.line_chart) }
                a #sql-bars href=(console_href(sql, page, Some("bars"))) aria-current=[(chart == Some("bars")).then_some("true")] { (t.bar_chart) }
                @if chart.is_some() { a href=(console_href(sql, page, None)) { (t.hide_chart) } }
            }
            @match &spec {
                Some(Some(specs)) => {
                    h3 { (t.chart) }
                    div #sql-chart .cards[specs.len() > 1] translate="no" {
                        @for (i, spec) in specs.iter().enumerate() {
                            @let id = format!("sql-chart-data-{i}");
                            (layout::json_block(&id, spec))
                            div .chart data-chart=(id) {}
                        }
                    }
                },
                Some(None) => p .hint { (t.no_numeric) },
                None => {},
            }
            (result_table(p, start, PAGE))
            (pager(lang, page, pages, |n| console_href(sql, n, chart)))
            @if p.total > p.shown { p .hint { (t.csv_hint) } }
        }
    }
}

/// The charts of a result: the first column on x (its values when numeric and complete, else as
/// categories), each other numeric column a series — all in one line chart, or one bar chart per series
/// (bars of different columns would hide each other, and their scales often differ by orders of
/// magnitude, a count beside an average). `None` when no column can be drawn.
fn chart_specs(p: &Preview, kind: &str) -> Option<Vec<serde_json::Value>> {
    let spec = chart_spec(p, kind)?;
    if kind != "bars" {
        return Some(vec![spec]);
    }
    let series = spec["series"].as_array().cloned().unwrap_or_default();
    Some(
        series
            .into_iter()
            .map(|one| {
                let mut single = spec.clone();
                single["y_label"] = one["label"].clone();
                single["series"] = serde_json::json!([one]);
                single
            })
            .collect(),
    )
}

/// One chart of a result with every numeric column as a series (see [`chart_specs`]).
fn chart_spec(p: &Preview, kind: &str) -> Option<serde_json::Value> {
    let fields = p.schema.fields();
    let first = fields.first()?;
    let series: Vec<serde_json::Value> = fields
        .iter()
        .skip(1)
        .filter(|f| f.data_type().is_numeric())
        .filter_map(|f| {
            let values = float_column(p, f.name()).ok()?;
            Some(serde_json::json!({ "label": f.name(), "values": values }))
        })
        .collect();
    if series.is_empty() {
        return None;
    }
    let numeric_x = first.data_type().is_numeric() && kind == "line";
    let x = numeric_x
        .then(|| float_column(p, first.name()).ok())
        .flatten()
        .filter(|x| x.iter().all(Option::is_some));
    let mut spec = serde_json::json!({ "kind": kind, "series": series, "x_label": first.name() });
    match x {
        Some(x) => spec["x"] = serde_json::json!(x),
        None => {
            let labels: Vec<String> = cells(p, 0, p.shown)
                .into_iter()
                .map(|row| row.into_iter().next().flatten().unwrap_or_default())
                .collect();
            spec["x"] = serde_json::json!((0..labels.len()).collect::<Vec<_>>());
            spec["x_labels"] = serde_json::json!(labels);
        }
    }
    Some(spec)
}

#[derive(Debug, Deserialize)]
pub struct CsvQuery {
    q: String,
}

/// The kept rows of a result as a CSV file (header row, UTF-8).
pub async fn csv(State(state): State<AppState>, ctx: Ctx, Query(q): Query<CsvQuery>) -> Response {
    let preview = match run_sql(&state, q.q.trim(), Some(KEEP)).await {
        Ok(p) => p,
        Err(e) => return super::failure(&ctx, e),
    };
    let mut out = Vec::new();
    {
        let mut writer = millwright_data::arrow::csv::WriterBuilder::new()
            .with_header(true)
            .build(&mut out);
        for batch in &preview.batches {
            if let Err(e) = writer.write(batch) {
                return super::failure(
                    &ctx,
                    crate::ApiError::internal(format!("writing CSV: {e}")),
                );
            }
        }
    }
    let mut response = out.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"query.csv\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use millwright_data::arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
    use millwright_data::arrow::datatypes::{Field, Schema};
    use millwright_data::arrow::record_batch::RecordBatch;
    use std::sync::Arc;

    fn preview(columns: Vec<(&str, ArrayRef)>) -> Preview {
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
                .collect::<Vec<_>>(),
        ));
        let batch = RecordBatch::try_new(
            schema.clone(),
            columns.into_iter().map(|(_, a)| a).collect(),
        )
        .unwrap();
        let n = batch.num_rows();
        Preview {
            schema,
            batches: vec![batch],
            shown: n,
            total: n,
        }
    }

    #[test]
    fn a_numeric_first_column_is_the_x_axis_of_a_line() {
        let p = preview(vec![
            ("t", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef),
            (
                "温度",
                Arc::new(Float64Array::from(vec![Some(20.5), None, Some(21.0)])),
            ),
            ("note", Arc::new(StringArray::from(vec!["a", "b", "c"]))),
        ]);
        let spec = chart_spec(&p, "line").unwrap();
        assert_eq!(spec["x"], serde_json::json!([1.0, 2.0, 3.0]));
        assert!(spec.get("x_labels").is_none());
        assert_eq!(spec["series"][0]["label"], "温度");
        assert_eq!(
            spec["series"][0]["values"],
            serde_json::json!([20.5, null, 21.0])
        );
        assert_eq!(spec["series"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn text_first_columns_and_bars_are_categories() {
        let p = preview(vec![
            (
                "Type",
                Arc::new(StringArray::from(vec!["L", "M"])) as ArrayRef,
            ),
            ("n", Arc::new(Int64Array::from(vec![5, 7]))),
        ]);
        let spec = chart_spec(&p, "bars").unwrap();
        assert_eq!(spec["x"], serde_json::json!([0, 1]));
        assert_eq!(spec["x_labels"], serde_json::json!(["L", "M"]));
        let bars = chart_specs(&p, "bars").unwrap();
        assert_eq!(bars.len(), 1);
        assert_eq!(bars[0]["y_label"], "n");
        let two = preview(vec![
            ("Type", Arc::new(StringArray::from(vec!["L"])) as ArrayRef),
            ("n", Arc::new(Int64Array::from(vec![5]))),
            ("torque", Arc::new(Float64Array::from(vec![40.5]))),
        ]);
        assert_eq!(chart_specs(&two, "bars").unwrap().len(), 2);
        assert_eq!(chart_specs(&two, "line").unwrap().len(), 1);
        let only_text = preview(vec![(
            "Type",
            Arc::new(StringArray::from(vec!["L"])) as ArrayRef,
        )]);
        assert!(chart_spec(&only_text, "line").is_none());
    }

    #[test]
    fn pages_of_a_result_keep_the_query() {
        assert_eq!(console_href("SELECT 1", 1, None), "/ui/sql?q=SELECT+1");
        assert_eq!(
            console_href("SELECT 1", 3, Some("bars")),
            "/ui/sql?q=SELECT+1&page=3&chart=bars"
        );
        assert_eq!(chart_kind(Some("pie")), None);
    }
}
