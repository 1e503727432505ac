//! Train (operators): pick a dataset, then its target, the columns to leave out, the model kind, derived
//! features and epochs, and start the training job (`POST /api/v1/train`); the job's page follows it live.

use axum::extract::{Query, State};
use axum::response::Response;
use maud::html;
use millwright_learn::tracking::RunFilter;
use serde::Deserialize;

use crate::store::Role;
use crate::ui::layout::{self, Section};
use crate::ui::session::Ctx;
use crate::AppState;

struct Text {
    title: &'static str,
    intro: &'static str,
    dataset: &'static str,
    choose_dataset: &'static str,
    show_columns: &'static str,
    no_datasets: &'static str,
    target: &'static str,
    drop: &'static str,
    drop_hint: &'static str,
    prefilled: &'static str,
    model_kind: &'static str,
    mlp: &'static str,
    gbdt: &'static str,
    logistic: &'static str,
    auto: &'static str,
    task: &'static str,
    binary: &'static str,
    multiclass: &'static str,
    regression: &'static str,
    name: &'static str,
    name_hint: &'static str,
    features: &'static str,
    features_hint: &'static str,
    epochs: &'static str,
    epochs_hint: &'static str,
    cv: &'static str,
    cv_hint: &'static str,
    start: &'static str,
}

const EN: Text = Text {
    title: "Train a model",
    intro: "The training runs as a job: its page shows the loss per epoch live, and the new version appears in the registry when it succeeds.",
    dataset: "Dataset",
    choose_dataset: "Choose a dataset",
    show_columns: "Show its columns",
    no_datasets: "There is no dataset to train on yet: ingest one on the Data page first.",
    target: "Column to predict",
    drop: "Columns to leave out",
    drop_hint: "Leave out ids and anything known only after the outcome (it would leak the answer).",
    prefilled: "Filled in from the last training on this dataset.",
    model_kind: "Model kind",
    mlp: "MLP (neural network, trains in epochs)",
    gbdt: "GBDT (gradient-boosted trees)",
    logistic: "Logistic regression",
    auto: "Automatic: the best of the three by cross-validation",
    task: "Task",
    binary: "Binary classification",
    multiclass: "Multiclass classification",
    regression: "Regression",
    name: "Model name",
    name_hint: "The registry name; empty: the dataset's name. A new version is added if the name exists.",
    features: "Derived features",
    features_hint: "One per line, NAME=SQL expression over the columns, e.g. power=torque * speed.",
    epochs: "Epochs",
    epochs_hint: "MLP only (also when chosen automatically); empty: the default.",
    cv: "Cross-validation folds",
    cv_hint: "Empty: none for one kind, 3 for automatic.",
    start: "Start training",
};

const ZH: Text = Text {
    title: "训练模型",
    intro: "训练以任务方式运行：任务页面实时显示每轮损失，成功后新版本出现在模型注册表中。",
    dataset: "数据集",
    choose_dataset: "选择数据集",
    show_columns: "显示数据列",
    no_datasets: "还没有可用于训练的数据集：请先在“数据”页面导入。",
    target: "预测目标列",
    drop: "排除的列",
    drop_hint: "排除编号列以及只有在结果发生后才知道的列（否则会泄露答案）。",
    prefilled: "已按此数据集上一次训练的设置填写。",
    model_kind: "模型类型",
    mlp: "MLP（神经网络，按轮训练）",
    gbdt: "GBDT（梯度提升树）",
    logistic: "逻辑回归",
    auto: "自动：通过交叉验证选出三者中最好的",
    task: "任务",
    binary: "二分类",
    multiclass: "多分类",
    regression: "回归",
    name: "模型名称",
    name_hint: "注册表中的名称；留空则使用数据集名称。名称已存在时会新增一个版本。",
    features: "派生特征",
    features_hint: "每行一个，格式为 名称=基于各列的 SQL 表达式，例如 功率=扭矩 * 转速。",
    epochs: "训练轮数",
    epochs_hint: "仅用于 MLP（自动选择时也适用）；留空使用默认值。",
    cv: "交叉验证折数",
    cv_hint: "留空：单一类型不做交叉验证，自动选择时为 3 折。",
    start: "开始训练",
};

fn text(lang: crate::ui::i18n::Lang) -> &'static Text {
    lang.pick(&EN, &ZH)
}

#[derive(Debug, Deserialize)]
pub struct TrainQuery {
    dataset: Option<String>,
}

/// What the last training on a dataset used: its target and dropped columns.
fn last_training(state: &AppState, dataset: &str) -> Option<(String, Vec<String>)> {
    let filter = RunFilter {
        dataset: Some(dataset.to_owned()),
        ..RunFilter::default()
    };
    let page = millwright_app::runs::list(&state.home, &filter, 1, 0).ok()?;
    let params = &page.runs.first()?.record.spec.params;
    let target = params.get("target")?.as_str()?.to_owned();
    let drop = params
        .get("drop")
        .and_then(|d| d.as_array())
        .map(|d| {
            d.iter()
                .filter_map(|c| c.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Some((target, drop))
}

/// `/ui/train`: operators only (the API refuses a viewer's training too).
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<TrainQuery>,
) -> Response {
    if let Err(refused) = ctx.require(Role::Operator) {
        return refused;
    }
    let t = text(ctx.lang);
    let datasets = match millwright_app::data::datasets(&state.home).await {
        Ok(d) => d,
        Err(e) => return super::failure(&ctx, e),
    };
    let names: Vec<&str> = datasets
        .iter()
        .map(|d| d.name.as_str())
        .filter(|n| !n.ends_with("__quarantine"))
        .collect();
    let chosen = q
        .dataset
        .as_deref()
        .filter(|d| !d.is_empty())
        .or_else(|| (names.len() == 1).then(|| names[0]));
    let schema = match chosen {
        Some(d) => match millwright_app::data::schema(&state.home, d, None).await {
            Ok(s) => Some(s),
            Err(e) => return super::failure(&ctx, e),
        },
        None => None,
    };
    let last = chosen.and_then(|d| last_training(&state, d));
    let body = html! {
        h1 { (t.title) }
        p .hint { (t.intro) }
        @if names.is_empty() { p { (t.no_datasets) } } @else {
            form #train-dataset .toolbar method="get" action="/ui/train" {
                div .stack {
                    label for="pick-dataset" { (t.choose_dataset) }
                    select #pick-dataset name="dataset" {
                        @for n in &names { option value=(n) selected[chosen == Some(*n)] translate="no" { (n) } }
                    }
                }
                button .secondary type="submit" { (t.show_columns) }
            }
        }
        @if let Some(schema) = &schema {
            @let (target, dropped) = last.clone().unwrap_or_default();
            form #train-form .stack data-api="/api/v1/train" data-then="job" {
                input type="hidden" name="dataset" value=(schema.dataset);
                p { (t.dataset) ": " b translate="no" { (schema.dataset) } " @" (schema.version) }
                @if last.is_some() { p .hint { (t.prefilled) } }
                label for="target" { (t.target) }
                select #target name="target" required {
                    @for col in &schema.columns {
                        option value=(col.name) selected[col.name == target] translate="no" { (col.name) }
                    }
                }
                fieldset #drop-columns {
                    legend { (t.drop) }
                    p .hint { (t.drop_hint) }
                    @for (i, col) in schema.columns.iter().enumerate() {
                        div {
                            input type="checkbox" id={ "drop-" (i) } name="drop" value=(col.name)
                                data-type="lines" data-append checked[dropped.contains(&col.name)];
                            " "
                            label for={ "drop-" (i) } translate="no" { (col.name) }
                        }
                    }
                }
                label for="model" { (t.model_kind) }
                select #model name="model" {
                    option value="mlp" { (t.mlp) }
                    option value="gbdt" { (t.gbdt) }
                    option value="logistic" { (t.logistic) }
                    option value="auto" { (t.auto) }
                }
                label for="task" { (t.task) }
                select #task name="task" {
                    option value="binary" { (t.binary) }
                    option value="multiclass" { (t.multiclass) }
                    option value="regression" { (t.regression) }
                }
                label for="name" { (t.name) }
                input #name type="text" name="name" placeholder=(schema.dataset) translate="no";
                p .hint { (t.name_hint) }
                label for="features" { (t.features) }
                textarea #features .short name="features" data-type="lines" rows="3" translate="no" {}
                p .hint { (t.features_hint) }
                label for="epochs" { (t.epochs) }
                input #epochs type="number" name="epochs" data-type="number" min="1" max="10000" step="1";
                p .hint { (t.epochs_hint) }
                label for="cv" { (t.cv) }
                input #cv type="number" name="cv" data-type="number" min="2" max="20" step="1";
                p .hint { (t.cv_hint) }
                div { button type="submit" { (t.start) } }
                output {}
            }
        }
    };
    layout::page(&ctx, Section::Train, t.title, body)
}
