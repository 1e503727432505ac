//! A job's page: its request, its live progress (stage, count, notes, the loss curve of a training) by
//! server-sent events, cancel for operators, and the result once it has finished.

use axum::extract::{Path, State};
use axum::response::Response;
use maud::html;

use crate::store::{JobState, Role};
use crate::ui::i18n::{common, time, Lang};
use crate::ui::layout::{self, Section};
use crate::ui::session::Ctx;
use crate::AppState;

struct Text {
    job: &'static str,
    request: &'static str,
    progress: &'static str,
    result: &'static str,
    error: &'static str,
    loss_curve: &'static str,
    epoch: &'static str,
    loss: &'static str,
    train: &'static str,
    val: &'static str,
    queued: &'static str,
    running: &'static str,
    succeeded: &'static str,
    failed: &'static str,
    cancelled: &'static str,
    open_dataset: &'static str,
    new_version: &'static str,
    its_run: &'static str,
}

const EN: Text = Text {
    job: "Job",
    request: "Request",
    progress: "Progress",
    result: "Result",
    error: "Error",
    loss_curve: "Loss per epoch",
    epoch: "epoch",
    loss: "loss",
    train: "training rows",
    val: "validation rows",
    queued: "queued",
    running: "running",
    succeeded: "succeeded",
    failed: "failed",
    cancelled: "cancelled",
    open_dataset: "Open the dataset",
    new_version: "New model version",
    its_run: "Its training run",
};

const ZH: Text = Text {
    job: "任务",
    request: "请求",
    progress: "进度",
    result: "结果",
    error: "错误",
    loss_curve: "每轮损失",
    epoch: "轮次",
    loss: "损失",
    train: "训练集",
    val: "验证集",
    queued: "排队中",
    running: "运行中",
    succeeded: "已成功",
    failed: "已失败",
    cancelled: "已取消",
    open_dataset: "查看数据集",
    new_version: "新的模型版本",
    its_run: "对应的训练运行",
};

fn text(lang: Lang) -> &'static Text {
    lang.pick(&EN, &ZH)
}

pub fn state_name(lang: Lang, state: JobState) -> &'static str {
    let t = text(lang);
    match state {
        JobState::Queued => t.queued,
        JobState::Running => t.running,
        JobState::Succeeded => t.succeeded,
        JobState::Failed => t.failed,
        JobState::Cancelled => t.cancelled,
    }
}

pub async fn page(State(state): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Response {
    let job = match state.store.job_get(id) {
        Ok(job) => job,
        Err(e) => return super::failure(&ctx, e),
    };
    let t = text(ctx.lang);
    let c = common(ctx.lang);
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let title = format!("{} #{}", t.job, job.id);
    let states: serde_json::Map<String, serde_json::Value> = JobState::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), state_name(ctx.lang, *s).into()))
        .collect();
    let finished_loss = if job.state.is_final() {
        state.jobs.live(id).and_then(|live| loss_curve(&live, t))
    } else {
        None
    };
    let body = html! {
        h1 { (title) " " span translate="no" { (job.kind) } }
        div #job data-job=(job.id) data-final=(job.state.is_final())
            data-label-epoch=(t.epoch) data-label-loss=(t.loss)
            data-label-train=(t.train) data-label-val=(t.val) {
            (layout::json_block("job-states", &serde_json::Value::Object(states)))
            dl {
                dt { (c.state) } dd #job-state data-state=(job.state.as_str()) { (state_name(ctx.lang, job.state)) }
                dt { (c.by) } dd translate="no" { (job.token) }
                dt { (c.created) } dd { (time(ctx.lang, job.created)) }
                @if let Some(s) = job.started { dt { (c.started) } dd { (time(ctx.lang, s)) } }
                @if let Some(f) = job.finished { dt { (c.finished) } dd { (time(ctx.lang, f)) } }
            }
            @if !job.state.is_final() {
                section aria-labelledby="job-progress" {
                    h2 #job-progress { (t.progress) }
                    p { span #job-stage translate="no" {} " " progress #job-bar max="1" value="0" {} " " span #job-count {} }
                    p #job-note translate="no" {}
                    @if ctx.may(Role::Operator) {
                        button type="button" data-api={ "/api/v1/jobs/" (job.id) "/cancel" } data-method="POST" { (c.cancel) }
                        output {}
                    }
                }
            }
            @if let Some(curve) = &finished_loss {
                section aria-labelledby="job-loss-title" {
                    h2 #job-loss-title { (t.loss_curve) }
                    (layout::json_block("job-loss-data", curve))
                    div .chart #job-loss-chart data-chart="job-loss-data" {}
                }
            } @else {
                section #job-loss hidden aria-labelledby="job-loss-title" {
                    h2 #job-loss-title { (t.loss_curve) }
                    div .chart #job-loss-chart {}
                }
            }
            @if let Some(error) = &job.error {
                h2 { (t.error) } p .error role="alert" translate="no" { (error) }
            }
            @if let Some((model, version, run)) = trained(&job) {
                p #job-trained {
                    (t.new_version) ": " a translate="no" href={ "/ui/models/" (model) "/" (version) } { (model) "@" (version) }
                    @if let Some(run) = run { " · " (t.its_run) ": " a translate="no" href={ "/ui/runs/" (run) } { (run) } }
                }
            }
            @if let Some(result) = &job.result {
                (super::twin::job_links(ctx.lang, &job.kind, Some(result)))
                h2 { (t.result) }
                @if let Some(dataset) = ingested_dataset(&job.kind, result) {
                    p { a #job-dataset href={ "/ui/data/" (dataset) } { (t.open_dataset) } " " span translate="no" { (dataset) } }
                }
                pre translate="no" { (pretty(result)) }
            }
            h2 { (t.request) } pre translate="no" { (pretty(&job.request)) }
        }
    };
    layout::page(&ctx, Section::Overview, &title, body)
}

/// The dataset an ingest job wrote (a plain dataset name only: it goes into a link).
fn ingested_dataset<'a>(kind: &str, result: &'a serde_json::Value) -> Option<&'a str> {
    let name = result.get("dataset")?.as_str()?;
    (kind == "ingest" && millwright_data::names::validate_dataset_name(name).is_ok())
        .then_some(name)
}

/// What a succeeded `train` job registered: model name, version and its run, from the job's result.
fn trained(job: &crate::store::JobRecord) -> Option<(String, u32, Option<String>)> {
    if job.kind != "train" || job.state != JobState::Succeeded {
        return None;
    }
    let result = job.result.as_ref()?;
    let (name, version) = result.get("model")?.as_str()?.rsplit_once('@')?;
    let run = result
        .get("run")
        .and_then(|r| r.as_str())
        .map(str::to_owned);
    Some((name.to_owned(), version.parse().ok()?, run))
}

/// The loss curve of a finished training this server ran, from the events it kept (a chart spec).
fn loss_curve(job: &crate::jobs::LiveJob, t: &Text) -> Option<serde_json::Value> {
    let (events, _) = job.subscribe();
    let (mut x, mut train, mut val) = (Vec::new(), Vec::new(), Vec::new());
    for event in events {
        if let crate::jobs::JobEvent::Progress {
            event:
                millwright_app::Event::Point {
                    curve,
                    x: at,
                    values,
                },
        } = event
        {
            if curve == "loss" {
                x.push(at);
                train.push(values.get("train").copied());
                val.push(values.get("val").copied());
            }
        }
    }
    (!x.is_empty()).then(|| {
        serde_json::json!({
            "kind": "line", "x": x, "x_label": t.epoch, "y_label": t.loss,
            "series": [{"label": t.train, "values": train}, {"label": t.val, "values": val}],
        })
    })
}
