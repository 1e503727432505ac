//! Progress and events of a use case, as data. A use case tells its [`Observer`] what happens; the CLI turns
//! the events into terminal lines and bars, the server streams them to the client (server-sent events).

use std::sync::Arc;

use millwright_core::{Progress, ProgressHandle, Unit};
use serde::Serialize;

/// One thing that happened while a use case ran.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Step `index` (1-based) of `of` of a use case made of several (the demo's five) begins.
    Step {
        index: usize,
        of: usize,
        name: String,
    },
    /// That step finished: one line saying what it did.
    StepDone {
        index: usize,
        of: usize,
        summary: String,
        seconds: f64,
    },
    /// A stage of long work inside the current step begins (`reading`, `cross-validation`, `simulating`).
    Stage {
        name: String,
        total: Option<u64>,
        unit: Unit,
    },
    /// Units of the current stage done so far (a running total).
    Advance { done: u64 },
    /// A short line worth showing beside the count (`gbdt pr_auc 0.7132`).
    Note { text: String },
    /// A point of a curve worth drawing live (`loss` per epoch: `train` and `val`).
    Point {
        curve: String,
        x: f64,
        values: std::collections::BTreeMap<String, f64>,
    },
    /// What a live connector did (connected, committed, lost the connection).
    Live {
        connector: millwright_connect::ConnectEvent,
    },
}

/// Receives the events of one use case. Called from worker threads; calls should return quickly.
pub trait EventSink: Send + Sync {
    fn event(&self, event: Event);
    /// Whether the use case should stop (a server's cancelled job); checked between stages.
    fn cancelled(&self) -> bool {
        false
    }
}

/// What a use case reports to. Cheap to clone; [`Observer::silent`] drops everything.
#[derive(Clone)]
pub struct Observer(Option<Arc<dyn EventSink>>);

impl Observer {
    pub fn new(sink: Arc<dyn EventSink>) -> Observer {
        Observer(Some(sink))
    }

    pub fn silent() -> Observer {
        Observer(None)
    }

    pub fn emit(&self, event: Event) {
        if let Some(sink) = &self.0 {
            sink.event(event);
        }
    }

    /// Whether the caller asked the use case to stop.
    pub fn is_cancelled(&self) -> bool {
        self.0.as_ref().is_some_and(|sink| sink.cancelled())
    }

    /// The handle stage crates report their progress through; their calls arrive here as events.
    pub fn progress(&self) -> ProgressHandle {
        match &self.0 {
            Some(sink) => ProgressHandle::new(Arc::new(Forward(sink.clone()))),
            None => ProgressHandle::default(),
        }
    }

    /// Reports the steps of a use case made of several.
    pub fn steps(&self, of: usize) -> Steps<'_> {
        Steps {
            observer: self,
            of,
            index: 0,
            started: std::time::Instant::now(),
            current: (String::new(), std::time::Instant::now()),
            timings: Vec::new(),
        }
    }
}

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Observer"
        } else {
            "Observer(silent)"
        })
    }
}

/// A stage crate's progress calls, forwarded as events.
struct Forward(Arc<dyn EventSink>);

impl Progress for Forward {
    fn stage(&self, name: &str, total: Option<u64>, unit: Unit) {
        self.0.event(Event::Stage {
            name: name.to_owned(),
            total,
            unit,
        });
    }

    fn advance(&self, done: u64) {
        self.0.event(Event::Advance { done });
    }

    fn note(&self, text: &str) {
        self.0.event(Event::Note {
            text: text.to_owned(),
        });
    }

    fn point(&self, curve: &str, x: f64, values: &[(&str, f64)]) {
        self.0.event(Event::Point {
            curve: curve.to_owned(),
            x,
            values: values
                .iter()
                .filter(|(_, v)| v.is_finite())
                .map(|(k, v)| ((*k).to_owned(), *v))
                .collect(),
        });
    }

    fn cancelled(&self) -> bool {
        self.0.cancelled()
    }
}

/// How long one step took, for the result of a multi-step use case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepTiming {
    pub step: String,
    pub seconds: f64,
}

/// Numbers the steps of a use case and times them.
pub struct Steps<'a> {
    observer: &'a Observer,
    of: usize,
    index: usize,
    started: std::time::Instant,
    current: (String, std::time::Instant),
    timings: Vec<StepTiming>,
}

impl Steps<'_> {
    pub fn start(&mut self, name: &str) {
        self.index += 1;
        self.current = (name.to_owned(), std::time::Instant::now());
        self.observer.emit(Event::Step {
            index: self.index,
            of: self.of,
            name: name.to_owned(),
        });
    }

    pub fn done(&mut self, summary: String) {
        let seconds = self.current.1.elapsed().as_secs_f64();
        self.timings.push(StepTiming {
            step: self.current.0.clone(),
            seconds,
        });
        self.observer.emit(Event::StepDone {
            index: self.index,
            of: self.of,
            summary,
            seconds,
        });
    }

    /// Seconds since the first step began, and each finished step's duration.
    pub fn finish(self) -> (f64, Vec<StepTiming>) {
        (self.started.elapsed().as_secs_f64(), self.timings)
    }
}
