//! Data: the lake's datasets with an upload form for operators, and one dataset's page — schema, a
//! preview of its rows, the quality report before/after cleaning with a histogram per numeric column, the
//! quarantine browser and the history with time travel (`?version=N`).
//!
//! Everything is read through the application layer (`millwright_app::data`, and `millwright_app::sql`
//! for the rows, the histogram bins and the quarantine table, as the API's `rows` handler does).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use maud::{html, Markup};
use millwright_app::sql::Preview;
use millwright_data::arrow::array::{Array, AsArray};
use millwright_data::arrow::compute::cast;
use millwright_data::arrow::datatypes::{DataType, Float64Type};
use millwright_data::arrow::util::display::{ArrayFormatter, FormatOptions};
use millwright_data::lake::Lake;
use millwright_data::quality::ColumnQuality;
use millwright_data::quarantine::QuarantineRow;
use millwright_data::stats::ColumnStats;
use serde::Deserialize;

use crate::store::Role;
use crate::ui::i18n::{age, bytes, common, integer, number, percent, time, Lang};
use crate::ui::layout::{self, Section};
use crate::ui::session::Ctx;
use crate::{ApiError, AppState};

pub(super) struct Text {
    title: &'static str,
    datasets: &'static str,
    last_change: &'static str,
    no_datasets: &'static str,
    sql_console: &'static str,
    upload: &'static str,
    file: &'static str,
    formats: &'static str,
    file_hint: &'static str,
    dataset_name: &'static str,
    name_hint: &'static str,
    mode: &'static str,
    mode_create: &'static str,
    mode_append: &'static str,
    mode_overwrite: &'static str,
    upload_button: &'static str,
    dataset: &'static str,
    viewing_version: &'static str,
    to_latest: &'static str,
    schema: &'static str,
    column: &'static str,
    data_type: &'static str,
    nullable: &'static str,
    yes: &'static str,
    no: &'static str,
    first_rows: &'static str,
    quality: &'static str,
    no_quality: &'static str,
    rows_read: &'static str,
    rows_written: &'static str,
    rows_quarantined: &'static str,
    duplicates_removed: &'static str,
    source: &'static str,
    duration: &'static str,
    seconds: &'static str,
    stage: &'static str,
    before: &'static str,
    after: &'static str,
    count: &'static str,
    missing: &'static str,
    distinct: &'static str,
    min: &'static str,
    max: &'static str,
    mean: &'static str,
    std: &'static str,
    outliers: &'static str,
    filled: &'static str,
    constant_columns: &'static str,
    empty_columns: &'static str,
    by_reason: &'static str,
    histograms: &'static str,
    histograms_hint: &'static str,
    no_numeric: &'static str,
    range: &'static str,
    numbers: &'static str,
    p1: &'static str,
    median: &'static str,
    p99: &'static str,
    quarantine: &'static str,
    quarantine_hint: &'static str,
    no_quarantine: &'static str,
    no_quarantine_table: &'static str,
    reason: &'static str,
    all_reasons: &'static str,
    filter: &'static str,
    line: &'static str,
    value: &'static str,
    dataset_version: &'static str,
    history: &'static str,
    time: &'static str,
    operation: &'static str,
    table_rows: &'static str,
    pages: &'static str,
    previous: &'static str,
    next: &'static str,
    page: &'static str,
    of: &'static str,
    kind_int: &'static str,
    kind_float: &'static str,
    kind_bool: &'static str,
    kind_string: &'static str,
    kind_categorical: &'static str,
    kind_timestamp: &'static str,
    query_failed: &'static str,
    delete: &'static str,
    delete_hint: &'static str,
    delete_button: &'static str,
    delete_confirm: &'static str,
    query_timeout: &'static str,
}

const EN: Text = Text {
    title: "Data",
    datasets: "Datasets",
    last_change: "Last change",
    no_datasets: "The lake holds no dataset yet.",
    sql_console: "Open the SQL console",
    upload: "Upload a file",
    file: "File",
    formats: "Formats:",
    file_hint:
        "The file is cleaned by the default rules; rows that cannot be stored go to the quarantine.",
    dataset_name: "Dataset name",
    name_hint: "Letters, digits, _ and -.",
    mode: "Mode",
    mode_create: "Create a new dataset",
    mode_append: "Append to the dataset",
    mode_overwrite: "Overwrite the dataset (earlier versions stay readable)",
    upload_button: "Upload and ingest",
    dataset: "Dataset",
    viewing_version: "You are viewing a past version:",
    to_latest: "Back to the latest version",
    schema: "Schema",
    column: "Column",
    data_type: "Stored type",
    nullable: "May be empty",
    yes: "yes",
    no: "no",
    first_rows: "First rows",
    quality: "Quality report",
    no_quality: "This version was not written by an ingest, so it has no quality report.",
    rows_read: "Rows read",
    rows_written: "Rows stored",
    rows_quarantined: "Rows quarantined",
    duplicates_removed: "Duplicates removed",
    source: "Source file",
    duration: "Duration",
    seconds: "s",
    stage: "Stage",
    before: "before cleaning",
    after: "after cleaning",
    count: "Values",
    missing: "Missing",
    distinct: "Distinct",
    min: "Min",
    max: "Max",
    mean: "Mean",
    std: "Std. dev.",
    outliers: "Outliers",
    filled: "Filled",
    constant_columns: "Columns with a single value",
    empty_columns: "Columns with no value",
    by_reason: "Rows quarantined by reason",
    histograms: "Histograms",
    histograms_hint: "Stored values of each numeric column at this version.",
    no_numeric: "This version has no numeric column.",
    range: "Range",
    numbers: "Numbers",
    p1: "1 % quantile",
    median: "median",
    p99: "99 % quantile",
    quarantine: "Quarantine",
    quarantine_hint: "Rows an ingest could not store, with where they came from and why.",
    no_quarantine: "No row was set aside.",
    no_quarantine_table: "This dataset has no quarantine table.",
    reason: "Reason",
    all_reasons: "All reasons",
    filter: "Filter",
    line: "Line",
    value: "Value",
    dataset_version: "Version",
    history: "History",
    time: "Time",
    operation: "Operation",
    table_rows: "Rows in the table",
    pages: "Pages",
    previous: "Previous",
    next: "Next",
    page: "Page",
    of: "of",
    kind_int: "integer",
    kind_float: "decimal",
    kind_bool: "yes/no",
    kind_string: "text",
    kind_categorical: "category",
    kind_timestamp: "time",
    query_failed: "The query failed:",
    delete: "Delete",
    delete_hint: "The dataset moves to the trash with every version and its quarantine; an admin can bring it back until the trash is emptied.",
    delete_button: "Delete this dataset",
    delete_confirm: "Move this dataset with every version to the trash?",
    query_timeout: "The query ran past the server's time limit.",
};

const ZH: Text = Text {
    title: "数据",
    datasets: "数据集",
    last_change: "最近更新",
    no_datasets: "数据湖中还没有数据集。",
    sql_console: "打开 SQL 控制台",
    upload: "上传文件",
    file: "文件",
    formats: "支持的格式：",
    file_hint: "文件按默认规则清洗；无法入库的行进入隔离区。",
    dataset_name: "数据集名称",
    name_hint: "可用字母、数字、下划线和连字符。",
    mode: "写入方式",
    mode_create: "新建数据集",
    mode_append: "追加到数据集",
    mode_overwrite: "覆盖数据集（旧版本仍可读取）",
    upload_button: "上传并导入",
    dataset: "数据集",
    viewing_version: "正在查看历史版本：",
    to_latest: "返回最新版本",
    schema: "表结构",
    column: "列",
    data_type: "存储类型",
    nullable: "可为空",
    yes: "是",
    no: "否",
    first_rows: "前几行",
    quality: "数据质量报告",
    no_quality: "此版本不是由导入写入的，因此没有质量报告。",
    rows_read: "读取行数",
    rows_written: "入库行数",
    rows_quarantined: "隔离行数",
    duplicates_removed: "去除的重复行",
    source: "源文件",
    duration: "耗时",
    seconds: "秒",
    stage: "阶段",
    before: "清洗前",
    after: "清洗后",
    count: "取值数",
    missing: "缺失",
    distinct: "不同值",
    min: "最小值",
    max: "最大值",
    mean: "均值",
    std: "标准差",
    outliers: "异常值",
    filled: "已填补",
    constant_columns: "只有单一取值的列",
    empty_columns: "没有取值的列",
    by_reason: "按原因统计的隔离行",
    histograms: "直方图",
    histograms_hint: "此版本中每个数值列的入库值分布。",
    no_numeric: "此版本没有数值列。",
    range: "区间",
    numbers: "数值",
    p1: "1% 分位数",
    median: "中位数",
    p99: "99% 分位数",
    quarantine: "隔离区",
    quarantine_hint: "导入时无法入库的行，以及它们的来源和原因。",
    no_quarantine: "没有被隔离的行。",
    no_quarantine_table: "此数据集没有隔离表。",
    reason: "原因",
    all_reasons: "全部原因",
    filter: "筛选",
    line: "行号",
    value: "取值",
    dataset_version: "版本",
    history: "历史版本",
    time: "时间",
    operation: "操作",
    table_rows: "表中行数",
    pages: "分页",
    previous: "上一页",
    next: "下一页",
    page: "第",
    of: "页，共",
    kind_int: "整数",
    kind_float: "小数",
    kind_bool: "是/否",
    kind_string: "文本",
    kind_categorical: "类别",
    kind_timestamp: "时间",
    query_failed: "查询失败：",
    delete: "删除",
    delete_hint: "数据集连同所有版本和隔离表移入回收站；在清空回收站之前，管理员可以将其恢复。",
    delete_button: "删除此数据集",
    delete_confirm: "确定将此数据集及其所有版本移入回收站吗？",
    query_timeout: "查询超过了服务器的时间限制。",
};

pub(super) fn text(lang: Lang) -> &'static Text {
    lang.pick(&EN, &ZH)
}

/// Rows of the quarantine browser on one page.
const QUARANTINE_PAGE: usize = 50;
/// Rows shown in a version's preview.
const PREVIEW_ROWS: usize = 20;
/// Bins of a histogram (an integer column with fewer distinct steps gets one bin per value).
const BINS: i64 = 20;

// ---- SQL through the application layer ---------------------------------------------------------

/// Runs a read-only query under the server's SQL time limit, as `/api/v1/sql` does.
pub(super) async fn run_sql(
    state: &AppState,
    query: &str,
    limit: Option<usize>,
) -> Result<Preview, ApiError> {
    let most = state.config.sql_timeout;
    match tokio::time::timeout(
        most,
        millwright_app::sql::preview(&state.home, query, limit),
    )
    .await
    {
        Ok(preview) => Ok(preview?),
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "query_timeout",
            format!(
                "the query ran past its time limit of {} ms",
                most.as_millis()
            ),
        )),
    }
}

/// An SQL identifier in double quotes (a quote inside is doubled).
pub(super) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// An SQL string literal (a single quote inside is doubled).
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The query's failure as the page says it: the time limit in words, any other error as the engine wrote it.
pub(super) fn sql_error(lang: Lang, err: &ApiError) -> Markup {
    let t = text(lang);
    html! {
        @if err.status == StatusCode::REQUEST_TIMEOUT {
            p .error role="alert" { (t.query_timeout) }
        } @else {
            p .error role="alert" { (t.query_failed) " " span translate="no" {
                (err.message) @for cause in &err.details { ": " (cause) }
            } }
        }
    }
}

/// A result's cells as text (`None` for SQL NULL), row by row, for rows `start..start + count`.
pub(super) fn cells(preview: &Preview, start: usize, count: usize) -> Vec<Vec<Option<String>>> {
    let options = FormatOptions::default();
    let mut rows = Vec::new();
    let mut offset = 0usize;
    for batch in &preview.batches {
        let n = batch.num_rows();
        let (from, to) = (start.max(offset), (start + count).min(offset + n));
        if from < to {
            let formatters: Vec<Option<ArrayFormatter<'_>>> = batch
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).ok())
                .collect();
            for row in from - offset..to - offset {
                rows.push(
                    batch
                        .columns()
                        .iter()
                        .zip(&formatters)
                        .map(|(column, f)| {
                            if column.is_null(row) {
                                None
                            } else {
                                Some(
                                    f.as_ref()
                                        .map_or_else(String::new, |f| f.value(row).to_string()),
                                )
                            }
                        })
                        .collect(),
                );
            }
        }
        offset += n;
    }
    rows
}

/// A result as a table: column names (with their types), `count` rows from `start`. All of it is data.
pub(super) fn result_table(preview: &Preview, start: usize, count: usize) -> Markup {
    let fields = preview.schema.fields();
    let numeric: Vec<bool> = fields.iter().map(|f| f.data_type().is_numeric()).collect();
    html! {
        div .scroll {
            table .result translate="no" {
                thead { tr { @for (f, num) in fields.iter().zip(&numeric) {
                    th .num[*num] scope="col" { (f.name()) br; span .hint { (f.data_type().to_string()) } }
                } } }
                tbody {
                    @for row in cells(preview, start, count) {
                        tr { @for (cell, num) in row.iter().zip(&numeric) {
                            td .num[*num] { @if let Some(v) = cell { (v) } }
                        } }
                    }
                }
            }
        }
    }
}

/// Previous / next links and "page p of n" (pages count from 1).
pub(super) fn pager(
    lang: Lang,
    page: usize,
    pages: usize,
    href: impl Fn(usize) -> String,
) -> Markup {
    let t = text(lang);
    html! {
        @if pages > 1 {
            nav .toolbar .pager aria-label=(t.pages) {
                @if page > 1 { a href=(href(page - 1)) rel="prev" { (t.previous) } }
                span { (t.page) " " (integer(page as u64)) " " (t.of) " " (integer(pages as u64)) }
                @if page < pages { a href=(href(page + 1)) rel="next" { (t.next) } }
            }
        }
    }
}

// ---- the list -----------------------------------------------------------------------------------

pub async fn list(State(state): State<AppState>, ctx: Ctx) -> Response {
    let home = &state.home;
    let datasets = match millwright_app::data::datasets(home).await {
        Ok(d) => d,
        Err(e) => return super::failure(&ctx, e),
    };
    let datasets: Vec<_> = datasets
        .into_iter()
        .filter(|d| !is_quarantine(&d.name))
        .collect();
    let mut last = Vec::with_capacity(datasets.len());
    for d in &datasets {
        last.push(last_change(home, &d.name).await);
    }
    let t = text(ctx.lang);
    let c = common(ctx.lang);
    let now = Utc::now();
    let body = html! {
        h1 { (t.title) }
        section aria-labelledby="data-list" {
            h2 #data-list { (t.datasets) }
            @if datasets.is_empty() { p { (t.no_datasets) } } @else {
                div .scroll { table #datasets {
                    thead { tr {
                        th scope="col" { (c.name) } th .num scope="col" { (c.rows) } th .num scope="col" { (c.columns) }
                        th .num scope="col" { (c.version) } th .num scope="col" { (c.size) } th scope="col" { (t.last_change) }
                    } }
                    tbody { @for (d, last) in datasets.iter().zip(&last) { tr {
                        td translate="no" { a href={ "/ui/data/" (d.name) } { (d.name) } }
                        td .num { (d.rows.map(integer).unwrap_or_default()) }
                        td .num { (integer(d.columns as u64)) }
                        td .num { (d.latest_version) }
                        td .num { (bytes(d.size_bytes)) }
                        td { @if let Some(at) = last { time datetime=(at.to_rfc3339()) title=(time(ctx.lang, *at)) { (age(ctx.lang, *at, now)) } } }
                    } } }
                } }
            }
            p { a href="/ui/sql" { (t.sql_console) } }
        }
        @if ctx.may(Role::Operator) {
            section aria-labelledby="data-upload" {
                h2 #data-upload { (t.upload) }
                // The name field is not called `dataset`: a form control of that name hides the form's
                // own `dataset` property (its data-* attributes), which app.js reads.
                form #upload .stack method="post" enctype="multipart/form-data"
                    data-api="/api/v1/datasets/{dataset_name}/ingest?mode={mode}" data-then="job" {
                    label for="upload-file" { (t.file) }
                    input #upload-file type="file" name="file" required
                        accept=".csv,.tsv,.parquet,.jsonl,.ndjson,text/csv";
                    p .hint { (t.formats) " " span translate="no" { "CSV · TSV · Parquet · JSON lines" } }
                    p .hint { (t.file_hint) }
                    label for="upload-name" { (t.dataset_name) }
                    input #upload-name type="text" name="dataset_name" required autocomplete="off" spellcheck="false";
                    p .hint { (t.name_hint) }
                    label for="upload-mode" { (t.mode) }
                    select #upload-mode name="mode" {
                        option value="create" selected { (t.mode_create) }
                        option value="append" { (t.mode_append) }
                        option value="overwrite" { (t.mode_overwrite) }
                    }
                    div { button type="submit" { (t.upload_button) } }
                    output translate="no" {}
                }
            }
        }
    };
    layout::page(&ctx, Section::Data, t.title, body)
}

fn is_quarantine(name: &str) -> bool {
    name.ends_with(&Lake::quarantine_name(""))
}

async fn last_change(home: &millwright_app::Home, name: &str) -> Option<DateTime<Utc>> {
    millwright_app::data::history(home, name)
        .await
        .ok()
        .and_then(|h| h.into_iter().max_by_key(|v| v.version))
        .and_then(|v| v.timestamp)
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&Utc))
}

// ---- one dataset --------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct DatasetQuery {
    version: Option<i64>,
    reason: Option<String>,
    page: Option<usize>,
}

pub async fn dataset(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    Query(q): Query<DatasetQuery>,
) -> Response {
    if let Err(e) = millwright_data::names::validate_dataset_name(&name) {
        return super::failure(&ctx, millwright_app::AppError::from(e));
    }
    let home = &state.home;
    let schema = match millwright_app::data::schema(home, &name, q.version).await {
        Ok(s) => s,
        Err(e) => return super::failure(&ctx, e),
    };
    let history = match millwright_app::data::history(home, &name).await {
        Ok(h) => h,
        Err(e) => return super::failure(&ctx, e),
    };
    let version = schema.version;
    let latest = history.iter().map(|v| v.version).max().unwrap_or(version);
    let past = q.version.is_some() && version != latest;
    let at = format!(" VERSION AS OF {version}");
    let table = ident(&name);

    let quality = millwright_app::data::quality(home, &name, Some(version))
        .await
        .ok();
    let preview = run_sql(
        &state,
        &format!("SELECT * FROM {table}{at} LIMIT {PREVIEW_ROWS}"),
        None,
    )
    .await;
    let numeric: Vec<(String, bool)> = schema
        .columns
        .iter()
        .filter_map(|c| numeric_kind(&c.data_type).map(|int| (c.name.clone(), int)))
        .collect();
    let histograms = if numeric.is_empty() {
        Ok(Vec::new())
    } else {
        run_sql(&state, &histogram_sql(&name, version, &numeric), None)
            .await
            .and_then(|p| histograms_from(&p, &numeric))
    };
    let reason = q.reason.as_deref().filter(|r| !r.is_empty());
    let page = q.page.unwrap_or(1).max(1);
    let quarantine = quarantine(&state, &name, q.version, reason, page).await;

    let t = text(ctx.lang);
    let c = common(ctx.lang);
    let base = format!("/ui/data/{name}");
    let body = html! {
        h1 { (t.dataset) " " span translate="no" { (name) } " · " (c.version) " " (version) }
        @if past {
            p .banner role="status" { (t.viewing_version) " " (c.version) " " (version) ". " a href=(base) { (t.to_latest) } }
        }
        nav .toolbar aria-label=(t.title) {
            a href="#schema" { (t.schema) } a href="#quality" { (t.quality) } a href="#histograms" { (t.histograms) }
            a href="#quarantine" { (t.quarantine) } a href="#history" { (t.history) }
        }
        section aria-labelledby="schema" {
            h2 #schema { (t.schema) }
            div .scroll { table #schema-table {
                thead { tr { th scope="col" { (t.column) } th scope="col" { (c.kind) } th scope="col" { (t.data_type) } th scope="col" { (t.nullable) } } }
                tbody { @for col in &schema.columns { tr {
                    td translate="no" { (col.name) }
                    td { @if let Some(k) = &col.kind { (kind_name(ctx.lang, k)) } }
                    td translate="no" { code { (col.data_type) } }
                    td { (if col.nullable { t.yes } else { t.no }) }
                } } }
            } }
            h3 { (t.first_rows) }
            @match &preview {
                Ok(p) => (result_table(p, 0, PREVIEW_ROWS)),
                Err(e) => (sql_error(ctx.lang, e)),
            }
        }
        section aria-labelledby="quality" {
            h2 #quality { (t.quality) }
            @match &quality {
                None => p { (t.no_quality) },
                Some(report) => (quality_report(ctx.lang, &report.report)),
            }
        }
        section aria-labelledby="histograms" {
            h2 #histograms { (t.histograms) }
            p .hint { (t.histograms_hint) }
            @match &histograms {
                Err(e) => (sql_error(ctx.lang, e)),
                Ok(list) if list.is_empty() => p { (t.no_numeric) },
                Ok(list) => div .cards .histograms { @for h in list {
                    (histogram_card(ctx.lang, h, quantiles(quality.as_ref(), &h.column)))
                } },
            }
        }
        section aria-labelledby="quarantine" {
            h2 #quarantine { (t.quarantine) }
            p .hint { (t.quarantine_hint) }
            (quarantine_view(ctx.lang, &base, q.version, reason, page, &quarantine))
        }
        section aria-labelledby="history" {
            h2 #history { (t.history) }
            (history_table(ctx.lang, &base, version, &history))
        }
        @if ctx.may(Role::Admin) && !is_quarantine(&name) {
            section aria-labelledby="delete" {
                h2 #delete { (t.delete) }
                p .hint { (t.delete_hint) }
                button #delete-dataset .danger type="button" data-api={ "/api/v1/datasets/" (name) } data-method="DELETE"
                    data-confirm=(t.delete_confirm) data-then="go:/ui/data" { (t.delete_button) }
                output translate="no" {}
            }
        }
    };
    layout::page(&ctx, Section::Data, t.dataset, body)
}

/// The kind ingest inferred, in the page's language.
fn kind_name(lang: Lang, kind: &str) -> Markup {
    let t = text(lang);
    let word = match kind {
        "int" => t.kind_int,
        "float" => t.kind_float,
        "bool" => t.kind_bool,
        "string" => t.kind_string,
        "categorical" => t.kind_categorical,
        "timestamp" => t.kind_timestamp,
        other => return html! { span translate="no" { (other) } },
    };
    html! { (word) }
}

/// Whether a stored (Delta) type is numeric, and if so whether it is an integer type.
fn numeric_kind(delta_type: &str) -> Option<bool> {
    match delta_type {
        "long" | "integer" | "short" | "byte" => Some(true),
        "double" | "float" => Some(false),
        _ => None,
    }
}

fn stat_number(x: f64, int: bool) -> String {
    if int && x.fract() == 0.0 {
        number(x, 0)
    } else {
        number(x, 3)
    }
}

fn stat_value(value: Option<&serde_json::Value>, int: bool) -> Markup {
    match value {
        None | Some(serde_json::Value::Null) => html! {},
        Some(v) => match v.as_f64() {
            Some(x) => html! { (stat_number(x, int)) },
            None => {
                html! { span translate="no" { (v.as_str().map_or_else(|| v.to_string(), str::to_owned)) } }
            }
        },
    }
}

fn quality_report(lang: Lang, r: &millwright_data::quality::QualityReport) -> Markup {
    let t = text(lang);
    let file_name = std::path::Path::new(&r.source.path)
        .file_name()
        .map_or_else(
            || r.source.path.clone(),
            |n| n.to_string_lossy().into_owned(),
        );
    html! {
        dl #quality-summary {
            dt { (t.rows_read) } dd { (integer(r.rows_read)) }
            dt { (t.rows_written) } dd { (integer(r.rows_written)) }
            dt { (t.rows_quarantined) } dd {
                (integer(r.rows_quarantined))
                @if r.rows_read > 0 { " (" (percent(lang, r.rows_quarantined as f64 / r.rows_read as f64, 1)) ")" }
            }
            dt { (t.duplicates_removed) } dd { (integer(r.duplicates_removed)) }
            dt { (t.source) } dd translate="no" title=(r.source.path) { (file_name) " · " (bytes(r.source.bytes)) }
            dt { (t.duration) } dd { (number(r.duration_s, 2)) " " (t.seconds) }
        }
        div .scroll { table #quality-table {
            thead { tr {
                th scope="col" { (t.column) } th scope="col" { (t.stage) } th .num scope="col" { (t.count) }
                th .num scope="col" { (t.missing) } th .num scope="col" { (t.distinct) } th .num scope="col" { (t.min) }
                th .num scope="col" { (t.max) } th .num scope="col" { (t.mean) } th .num scope="col" { (t.std) }
                th .num scope="col" { (t.outliers) } th .num scope="col" { (t.filled) }
            } }
            tbody { @for col in &r.columns { (quality_rows(lang, col)) } }
        } }
        @if !r.constant_columns.is_empty() {
            p { (t.constant_columns) ": " span translate="no" { (r.constant_columns.join(", ")) } }
        }
        @if !r.empty_columns.is_empty() {
            p { (t.empty_columns) ": " span translate="no" { (r.empty_columns.join(", ")) } }
        }
        @if !r.quarantined_by_reason.is_empty() {
            h3 { (t.by_reason) }
            table #quality-reasons {
                thead { tr { th scope="col" { (t.reason) } th .num scope="col" { (common(lang).rows) } } }
                tbody { @for (reason, n) in &r.quarantined_by_reason {
                    tr { td translate="no" { (reason) } td .num { (integer(*n)) } }
                } }
            }
        }
    }
}

fn quality_rows(lang: Lang, col: &ColumnQuality) -> Markup {
    let t = text(lang);
    let int = col.kind == millwright_data::types::ColumnKind::Int;
    let stats = |s: &ColumnStats| {
        html! {
            td .num { (integer(s.count)) }
            td .num { (integer(s.missing)) }
            td .num { (integer(s.distinct)) @if s.distinct_capped { "+" } }
            td .num { (stat_value(s.min.as_ref(), int)) }
            td .num { (stat_value(s.max.as_ref(), int)) }
            td .num { @if let Some(m) = s.mean { (number(m, 3)) } }
            td .num { @if let Some(d) = s.std { (number(d, 3)) } }
        }
    };
    let outliers = col.actions.outliers.as_ref().map(|o| o.found);
    html! {
        tr {
            th scope="row" rowspan="2" translate="no" { (col.name) br; span .hint { (kind_name(lang, col.kind.name())) } }
            td { (t.before) } (stats(&col.before)) td {} td {}
        }
        tr {
            td { (t.after) } (stats(&col.after))
            td .num { @if let Some(n) = outliers { (integer(n)) } }
            td .num { (integer(col.actions.filled)) }
        }
    }
}

// ---- histograms ---------------------------------------------------------------------------------

/// A numeric column's stored values in bins.
#[derive(Debug, Clone, PartialEq)]
struct Histogram {
    column: String,
    int: bool,
    /// `(from, to, rows)`; `to` is inclusive for the last bin (and for every bin of an integer column
    /// binned by value, where `from == to`).
    bins: Vec<(f64, f64, u64)>,
}

/// How a column with values in `lo..=hi` is binned.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Layout {
    /// Every value equal: one bin.
    Constant,
    /// An integer column spanning fewer than [`BINS`] steps: one bin per value, this many.
    ByValue(i64),
    /// [`BINS`] bins of this width.
    Equal(f64),
}

fn bin_layout(lo: f64, hi: f64, int: bool) -> Layout {
    if hi <= lo {
        Layout::Constant
    } else if int && hi - lo < BINS as f64 {
        Layout::ByValue((hi - lo) as i64 + 1)
    } else {
        Layout::Equal((hi - lo) / BINS as f64)
    }
}

/// One query for every numeric column: each value's bin (by the rule of [`bin_layout`], worked out in SQL
/// from the column's own min and max at this version), counted per column and bin.
fn histogram_sql(dataset: &str, version: i64, columns: &[(String, bool)]) -> String {
    let table = format!("{} VERSION AS OF {version}", ident(dataset));
    let parts: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(k, (name, int))| {
            let c = format!("CAST(t.{} AS DOUBLE)", ident(name));
            let by_value = if *int {
                format!("WHEN s.hi - s.lo < {BINS} THEN CAST({c} - s.lo AS BIGINT) ")
            } else {
                String::new()
            };
            format!(
                "SELECT CAST({k} AS BIGINT) AS k, CASE WHEN s.hi <= s.lo THEN CAST(0 AS BIGINT) {by_value}\
                 ELSE LEAST(CAST(FLOOR(({c} - s.lo) / (s.hi - s.lo) * {BINS}) AS BIGINT), CAST({last} AS BIGINT)) END AS bin, \
                 s.lo AS lo, s.hi AS hi FROM {table} AS t CROSS JOIN \
                 (SELECT CAST(MIN({col}) AS DOUBLE) AS lo, CAST(MAX({col}) AS DOUBLE) AS hi FROM {table}) AS s \
                 WHERE t.{col} IS NOT NULL",
                last = BINS - 1,
                col = ident(name),
            )
        })
        .collect();
    format!(
        "SELECT k, bin, MIN(lo) AS lo, MIN(hi) AS hi, COUNT(*) AS n FROM ({}) AS v \
         GROUP BY k, bin ORDER BY k, bin",
        parts.join(" UNION ALL ")
    )
}

/// The column `name` of a result, as floats (`None` for NULL).
pub(super) fn float_column(preview: &Preview, name: &str) -> Result<Vec<Option<f64>>, ApiError> {
    let mut out = Vec::new();
    for batch in &preview.batches {
        let column = batch
            .column_by_name(name)
            .ok_or_else(|| ApiError::internal(format!("the result has no column {name}")))?;
        let floats = cast(column, &DataType::Float64)
            .map_err(|e| ApiError::internal(format!("reading column {name}: {e}")))?;
        let floats = floats.as_primitive::<Float64Type>();
        out.extend((0..floats.len()).map(|i| (!floats.is_null(i)).then(|| floats.value(i))));
    }
    Ok(out)
}

/// The histograms from the rows of [`histogram_sql`]: every bin of each column, empty ones included.
fn histograms_from(
    preview: &Preview,
    columns: &[(String, bool)],
) -> Result<Vec<Histogram>, ApiError> {
    let [k, bin, lo, hi, n] = ["k", "bin", "lo", "hi", "n"].map(|c| float_column(preview, c));
    let (k, bin, lo, hi, n) = (k?, bin?, lo?, hi?, n?);
    let mut out = Vec::new();
    for (index, (column, int)) in columns.iter().enumerate() {
        let rows: Vec<usize> = (0..k.len())
            .filter(|&i| k[i] == Some(index as f64))
            .collect();
        let Some(&first) = rows.first() else { continue };
        let (Some(lo), Some(hi)) = (lo[first], hi[first]) else {
            continue;
        };
        let mut bins: Vec<(f64, f64, u64)> = match bin_layout(lo, hi, *int) {
            Layout::Constant => vec![(lo, lo, 0)],
            Layout::ByValue(n) => (0..n).map(|b| (lo + b as f64, lo + b as f64, 0)).collect(),
            Layout::Equal(width) => (0..BINS)
                .map(|b| (lo + b as f64 * width, lo + (b + 1) as f64 * width, 0))
                .collect(),
        };
        for &i in &rows {
            if let (Some(b), Some(rows)) = (bin[i], n[i]) {
                if let Some(slot) = bins.get_mut(b.max(0.0) as usize) {
                    slot.2 += rows as u64;
                }
            }
        }
        out.push(Histogram {
            column: column.clone(),
            int: *int,
            bins,
        });
    }
    Ok(out)
}

fn bin_label(h: &Histogram, bin: &(f64, f64, u64)) -> String {
    if bin.0 == bin.1 {
        stat_number(bin.0, h.int)
    } else {
        format!("{} – {}", number(bin.0, 2), number(bin.1, 2))
    }
}

/// The 1 %, 50 % and 99 % quantiles of a column as the version's quality report stored them — when the
/// report covers the whole table (an ingest that created or overwrote it; an append's report covers
/// only the rows it added).
fn quantiles(quality: Option<&millwright_app::data::Quality>, column: &str) -> Option<[f64; 3]> {
    let report = &quality?.report;
    if report.mode == "append" {
        return None;
    }
    let after = &report.columns.iter().find(|c| c.name == column)?.after;
    Some([after.p1?, after.p50?, after.p99?])
}

/// Where a value falls on a histogram `width` wide.
fn value_x(h: &Histogram, value: f64, width: f64) -> Option<f64> {
    let (first, last) = (h.bins.first()?, h.bins.last()?);
    let step = width / h.bins.len() as f64;
    let x = if h.bins.len() == 1 {
        width / 2.0
    } else if first.0 == first.1 {
        // One bin per value.
        (value - first.0 + 0.5) * step
    } else {
        (value - first.0) / (last.1 - first.0) * width
    };
    x.is_finite().then(|| x.clamp(0.0, width))
}

/// A histogram drawn by the server as SVG bars (with the report's 1 %, 50 % and 99 % quantiles as
/// dashed lines when known), its numbers in a table below.
fn histogram_card(lang: Lang, h: &Histogram, quantiles: Option<[f64; 3]>) -> Markup {
    let t = text(lang);
    let (width, height, pad) = (320.0, 120.0, 14.0);
    let most = h.bins.iter().map(|b| b.2).max().unwrap_or(0).max(1) as f64;
    let step = width / h.bins.len().max(1) as f64;
    let first = h
        .bins
        .first()
        .map(|b| stat_number(b.0, h.int))
        .unwrap_or_default();
    let last = h
        .bins
        .last()
        .map(|b| stat_number(b.1, h.int))
        .unwrap_or_default();
    html! {
        figure .card .histogram {
            figcaption translate="no" { (h.column) }
            svg .bars viewBox={ "0 0 " (width) " " (height + pad) } role="img" aria-label=(h.column) translate="no" {
                @for (i, bin) in h.bins.iter().enumerate() {
                    @let bar = (bin.2 as f64 / most * height).max(if bin.2 > 0 { 1.0 } else { 0.0 });
                    rect .bar x=(format!("{:.1}", i as f64 * step + 1.0)) y=(format!("{:.1}", height - bar))
                        width=(format!("{:.1}", (step - 2.0).max(1.0))) height=(format!("{:.1}", bar)) {
                        title { (bin_label(h, bin)) ": " (integer(bin.2)) }
                    }
                }
                @if let Some(q) = quantiles {
                    @for (value, name) in q.iter().zip([t.p1, t.median, t.p99]) {
                        @if let Some(x) = value_x(h, *value, width) {
                            line .quantile x1=(format!("{x:.1}")) x2=(format!("{x:.1}")) y1="0" y2=(height) {
                                title { (name) ": " (stat_number(*value, h.int)) }
                            }
                        }
                    }
                }
                text x="0" y=(height + pad - 2.0) { (first) }
                text x=(width) y=(height + pad - 2.0) text-anchor="end" { (last) }
            }
            @if let Some([p1, p50, p99]) = quantiles {
                p .hint .quantiles {
                    (t.p1) " " (stat_number(p1, h.int)) " · " (t.median) " " (stat_number(p50, h.int))
                    " · " (t.p99) " " (stat_number(p99, h.int))
                }
            }
            details {
                summary { (t.numbers) }
                table {
                    thead { tr { th scope="col" { (t.range) } th .num scope="col" { (common(lang).rows) } } }
                    tbody { @for bin in &h.bins { tr { td { (bin_label(h, bin)) } td .num { (integer(bin.2)) } } } }
                }
            }
        }
    }
}

// ---- quarantine ---------------------------------------------------------------------------------

struct Quarantine {
    /// Reason classes with their rows (most first).
    reasons: Vec<(String, u64)>,
    /// Rows matching the filter.
    matching: u64,
    rows: Vec<Vec<Option<String>>>,
}

/// The reasons grouped by class (the reason without its row-specific detail), most rows first.
fn reason_classes(reasons: impl IntoIterator<Item = (String, u64)>) -> Vec<(String, u64)> {
    let mut classes: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    let nowhere: Arc<str> = Arc::from("");
    for (reason, n) in reasons {
        let class =
            QuarantineRow::new(&nowhere, 0, None, None, reason, String::new()).reason_class();
        *classes.entry(class).or_default() += n;
    }
    let mut classes: Vec<_> = classes.into_iter().collect();
    classes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    classes
}

/// Reads the dataset's quarantine table: the reasons, and one page of the rows (`None`: no table).
async fn quarantine(
    state: &AppState,
    dataset: &str,
    version: Option<i64>,
    reason: Option<&str>,
    page: usize,
) -> Result<Option<Quarantine>, ApiError> {
    let table = ident(&Lake::quarantine_name(dataset));
    if !Lake::open(state.home.root())
        .map_err(millwright_app::AppError::from)?
        .exists(&Lake::quarantine_name(dataset))
    {
        return Ok(None);
    }
    let mut filter = Vec::new();
    if let Some(v) = version {
        filter.push(format!("dataset_version = {v}"));
    }
    let by_version = if filter.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", filter.join(" AND "))
    };
    let found = run_sql(
        state,
        &format!("SELECT reason, COUNT(*) AS n FROM {table}{by_version} GROUP BY reason"),
        None,
    )
    .await?;
    let names = cells(&found, 0, found.total);
    let counts = float_column(&found, "n")?;
    let reasons = reason_classes(
        names
            .into_iter()
            .zip(counts)
            .filter_map(|(row, n)| Some((row.into_iter().next().flatten()?, n? as u64))),
    );
    let matching = reasons
        .iter()
        .filter(|(class, _)| reason.is_none_or(|r| r == class))
        .map(|(_, n)| n)
        .sum();
    if let Some(r) = reason {
        filter.push(format!("starts_with(reason, {})", literal(r)));
    }
    let filter = if filter.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", filter.join(" AND "))
    };
    let rows = run_sql(
        state,
        &format!(
            "SELECT dataset_version, source_file, line, \"column\", raw_value, reason FROM {table}{filter} \
             ORDER BY dataset_version, ingest_id, line LIMIT {QUARANTINE_PAGE} OFFSET {}",
            (page - 1) * QUARANTINE_PAGE
        ),
        None,
    )
    .await?;
    Ok(Some(Quarantine {
        reasons,
        matching,
        rows: cells(&rows, 0, rows.total),
    }))
}

fn quarantine_view(
    lang: Lang,
    base: &str,
    version: Option<i64>,
    reason: Option<&str>,
    page: usize,
    found: &Result<Option<Quarantine>, ApiError>,
) -> Markup {
    let t = text(lang);
    let q = match found {
        Err(e) => return sql_error(lang, e),
        Ok(None) => return html! { p { (t.no_quarantine_table) } },
        Ok(Some(q)) => q,
    };
    if q.reasons.is_empty() {
        return html! { p #quarantine-empty { (t.no_quarantine) } };
    }
    let pages = (q.matching as usize).div_ceil(QUARANTINE_PAGE).max(1);
    let href = |p: usize| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if let Some(v) = version {
            query.append_pair("version", &v.to_string());
        }
        if let Some(r) = reason {
            query.append_pair("reason", r);
        }
        query.append_pair("page", &p.to_string());
        format!("{base}?{}#quarantine", query.finish())
    };
    html! {
        form .toolbar method="get" action={ (base) "#quarantine" } {
            @if let Some(v) = version { input type="hidden" name="version" value=(v); }
            label for="quarantine-reason" { (t.reason) }
            select #quarantine-reason name="reason" {
                option value="" selected[reason.is_none()] { (t.all_reasons) " (" (integer(q.reasons.iter().map(|r| r.1).sum())) ")" }
                @for (class, n) in &q.reasons {
                    option value=(class) selected[reason == Some(class.as_str())] translate="no" { (class) " (" (integer(*n)) ")" }
                }
            }
            button type="submit" .secondary { (t.filter) }
        }
        div .scroll { table #quarantine-table {
            thead { tr {
                th .num scope="col" { (t.dataset_version) } th scope="col" { (t.source) } th .num scope="col" { (t.line) }
                th scope="col" { (t.column) } th scope="col" { (t.value) } th scope="col" { (t.reason) }
            } }
            tbody { @for row in &q.rows { tr {
                @let cell = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
                td .num { (cell(0)) }
                td translate="no" title=(cell(1)) { (std::path::Path::new(&cell(1)).file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned())) }
                td .num { (cell(2)) }
                td translate="no" { (cell(3)) }
                td translate="no" { code { (cell(4)) } }
                td translate="no" .reason { (cell(5)) }
            } } }
        } }
        (pager(lang, page.min(pages), pages, href))
    }
}

// ---- history ------------------------------------------------------------------------------------

fn history_table(
    lang: Lang,
    base: &str,
    shown: i64,
    history: &[millwright_data::lake::VersionInfo],
) -> Markup {
    let t = text(lang);
    let c = common(lang);
    let stamp = |v: &millwright_data::lake::VersionInfo| {
        v.timestamp
            .as_deref()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|s| s.with_timezone(&Utc))
    };
    html! {
        div .scroll { table #history-table {
            thead { tr {
                th .num scope="col" { (c.version) } th scope="col" { (t.time) } th scope="col" { (t.operation) }
                th .num scope="col" { (t.rows_written) } th .num scope="col" { (t.table_rows) }
                th .num scope="col" { (t.rows_quarantined) } th scope="col" { (t.source) }
            } }
            tbody { @for v in history.iter().rev() { tr aria-current=[(v.version == shown).then_some("true")] {
                td .num { a href={ (base) "?version=" (v.version) } { (v.version) } }
                td { @if let Some(at) = stamp(v) { (time(lang, at)) } }
                td translate="no" { (v.operation.as_deref().unwrap_or("")) @if let Some(m) = &v.mode { " · " (m) } }
                td .num { (v.rows_written.map(integer).unwrap_or_default()) }
                td .num { (v.table_rows.map(integer).unwrap_or_default()) }
                td .num { (v.rows_quarantined.map(integer).unwrap_or_default()) }
                td translate="no" { (v.source.as_deref().and_then(|s| std::path::Path::new(s).file_name()).map_or_else(String::new, |n| n.to_string_lossy().into_owned())) }
            } } }
        } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_literals_are_quoted() {
        assert_eq!(ident("温度 \"x\""), "\"温度 \"\"x\"\"\"");
        assert_eq!(literal("it's"), "'it''s'");
    }

    #[test]
    fn bins_follow_the_column() {
        assert_eq!(bin_layout(5.0, 5.0, false), Layout::Constant);
        assert_eq!(bin_layout(0.0, 1.0, true), Layout::ByValue(2));
        assert_eq!(bin_layout(0.0, 19.0, true), Layout::ByValue(20));
        assert_eq!(bin_layout(0.0, 20.0, true), Layout::Equal(1.0));
        assert_eq!(bin_layout(0.0, 10.0, false), Layout::Equal(0.5));
    }

    #[test]
    fn bins_come_back_with_their_edges_and_the_empty_ones() {
        use millwright_data::arrow::array::{ArrayRef, Float64Array, Int64Array};
        use millwright_data::arrow::datatypes::{Field, Schema};
        use millwright_data::arrow::record_batch::RecordBatch;
        // Column 0: integers 0..=2 (one bin per value, the middle one empty); column 1: floats 0..10
        // in 20 bins of 0.5; column 2 had no value at all (no rows).
        let int = |v: Vec<i64>| Arc::new(Int64Array::from(v)) as ArrayRef;
        let float = |v: Vec<f64>| Arc::new(Float64Array::from(v)) as ArrayRef;
        let columns = vec![
            ("k", int(vec![0, 0, 1, 1])),
            ("bin", int(vec![0, 2, 0, 19])),
            ("lo", float(vec![0.0, 0.0, 0.0, 0.0])),
            ("hi", float(vec![2.0, 2.0, 10.0, 10.0])),
            ("n", int(vec![3, 4, 5, 6])),
        ];
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|(n, a)| Field::new(*n, a.data_type().clone(), false))
                .collect::<Vec<_>>(),
        ));
        let batch =
            RecordBatch::try_new(schema.clone(), columns.into_iter().map(|c| c.1).collect())
                .unwrap();
        let preview = Preview {
            schema,
            batches: vec![batch],
            shown: 4,
            total: 4,
        };
        let asked = [
            ("count".to_owned(), true),
            ("温度".to_owned(), false),
            ("empty".to_owned(), false),
        ];
        let found = histograms_from(&preview, &asked).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[0].bins,
            vec![(0.0, 0.0, 3), (1.0, 1.0, 0), (2.0, 2.0, 4)]
        );
        assert_eq!(found[1].column, "温度");
        assert_eq!(found[1].bins.len(), 20);
        assert_eq!(found[1].bins[0], (0.0, 0.5, 5));
        assert_eq!(found[1].bins[19], (9.5, 10.0, 6));
        assert_eq!(found[1].bins.iter().map(|b| b.2).sum::<u64>(), 11);
        assert_eq!(bin_label(&found[0], &found[0].bins[1]), "1");
        assert_eq!(bin_label(&found[1], &found[1].bins[0]), "0.00 – 0.50");
    }

    #[test]
    fn quantiles_fall_where_their_values_are() {
        let by_value = Histogram {
            column: "n".into(),
            int: true,
            bins: vec![(0.0, 0.0, 3), (1.0, 1.0, 0), (2.0, 2.0, 4)],
        };
        assert_eq!(value_x(&by_value, 1.0, 300.0), Some(150.0));
        assert_eq!(value_x(&by_value, 0.0, 300.0), Some(50.0));
        let equal = Histogram {
            column: "x".into(),
            int: false,
            bins: (0..20)
                .map(|b| (b as f64 * 0.5, (b + 1) as f64 * 0.5, 1))
                .collect(),
        };
        assert_eq!(value_x(&equal, 2.5, 200.0), Some(50.0));
        assert_eq!(value_x(&equal, 11.0, 200.0), Some(200.0));
    }

    #[test]
    fn the_histogram_query_names_every_column_quoted() {
        let sql = histogram_sql(
            "line-2",
            3,
            &[("a\"b".to_owned(), true), ("温度".to_owned(), false)],
        );
        assert!(sql.contains("FROM \"line-2\" VERSION AS OF 3 AS t"));
        assert!(sql.contains("MIN(\"a\"\"b\")"));
        assert!(sql.contains("WHEN s.hi - s.lo < 20 THEN"));
        assert_eq!(sql.matches("UNION ALL").count(), 1);
        // Only the integer column is binned by value.
        assert_eq!(sql.matches("WHEN s.hi - s.lo < 20").count(), 1);
    }

    #[test]
    fn numeric_types_are_known() {
        assert_eq!(numeric_kind("long"), Some(true));
        assert_eq!(numeric_kind("double"), Some(false));
        assert_eq!(numeric_kind("string"), None);
        assert_eq!(numeric_kind("timestamp"), None);
    }

    #[test]
    fn reasons_group_by_class() {
        let classes = reason_classes([
            ("column \"Torque\": not a valid float".to_owned(), 2),
            ("expected 6 fields, found 4".to_owned(), 1),
            ("column \"Torque\": not a valid float (got x)".to_owned(), 1),
        ]);
        assert_eq!(
            classes,
            vec![
                ("column \"Torque\": not a valid float".to_owned(), 3),
                ("expected 6 fields, found 4".to_owned(), 1),
            ]
        );
    }
}
