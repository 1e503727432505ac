//! The job pool: long use cases (ingest, train, twin compare, report) run on blocking threads, at most
//! `slots` at once. Each job is a row of the `jobs` table (state, request, result or error); its events are
//! kept in memory while the server runs and streamed to clients (replayed first, then live).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use millwright_app::{Event, EventSink, Observer};
use serde::Serialize;
use tokio::sync::{broadcast, Semaphore};
use utoipa::ToSchema;

use crate::store::{JobRecord, JobState, Store, StoreError};

/// One line of a job's event stream.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JobEvent {
    /// The job moved to this state; a final state is the stream's last event.
    State {
        state: JobState,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// Progress or a log line from the use case (`millwright_app::Event`).
    Progress {
        #[schema(value_type = Object)]
        event: Event,
    },
}

impl JobEvent {
    pub fn is_final(&self) -> bool {
        matches!(self, JobEvent::State { state, .. } if state.is_final())
    }
}

/// The in-memory side of a job: its events so far, their live channel, its cancel flag.
pub struct LiveJob {
    events: Mutex<Vec<JobEvent>>,
    live: broadcast::Sender<JobEvent>,
    cancelled: AtomicBool,
}

impl LiveJob {
    fn new() -> LiveJob {
        LiveJob {
            events: Mutex::new(Vec::new()),
            live: broadcast::channel(1024).0,
            cancelled: AtomicBool::new(false),
        }
    }

    fn push(&self, event: JobEvent) {
        let Ok(mut events) = self.events.lock() else {
            return;
        };
        // A running count replaces the previous one: the replay stays short however long the job runs.
        if let (
            JobEvent::Progress {
                event: Event::Advance { .. },
            },
            Some(JobEvent::Progress {
                event: Event::Advance { .. },
            }),
        ) = (&event, events.last())
        {
            events.pop();
        }
        events.push(event.clone());
        // No receiver is not an error: nobody is watching right now.
        let _ = self.live.send(event);
    }

    /// The events so far and a receiver for the ones after them (taken under one lock: no gap, no repeat).
    pub fn subscribe(&self) -> (Vec<JobEvent>, broadcast::Receiver<JobEvent>) {
        match self.events.lock() {
            Ok(events) => (events.clone(), self.live.subscribe()),
            Err(poisoned) => (poisoned.into_inner().clone(), self.live.subscribe()),
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    fn is_finished(&self) -> bool {
        self.events
            .lock()
            .map_or(true, |events| events.iter().any(JobEvent::is_final))
    }
}

struct Sink(Arc<LiveJob>);

impl EventSink for Sink {
    fn event(&self, event: Event) {
        self.0.push(JobEvent::Progress { event });
    }

    fn cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
}

/// Finished jobs whose events stay in memory for replay; older ones answer their stored final state.
const KEEP_FINISHED: usize = 256;

/// Drops the events of the oldest finished jobs beyond [`KEEP_FINISHED`], so a long-running server's
/// memory does not grow with every job it ever ran.
fn forget_finished(live: &mut HashMap<i64, Arc<LiveJob>>) {
    let mut finished: Vec<i64> = live
        .iter()
        .filter(|(_, job)| job.is_finished())
        .map(|(id, _)| *id)
        .collect();
    if finished.len() <= KEEP_FINISHED {
        return;
    }
    finished.sort_unstable();
    for id in &finished[..finished.len() - KEEP_FINISHED] {
        live.remove(id);
    }
}

/// The outcome of a job's work: its result as JSON, or why it failed.
pub type JobOutcome = Result<serde_json::Value, String>;

/// Runs jobs, at most `slots` at a time.
pub struct Jobs {
    store: Arc<Store>,
    slots: Arc<Semaphore>,
    live: Mutex<HashMap<i64, Arc<LiveJob>>>,
}

/// Why a cancel was refused.
#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("job {0} has already finished ({1})")]
    Finished(i64, &'static str),
    #[error("job {0} runs in another server on this home (process {1}); cancel it there")]
    Elsewhere(i64, u32),
}

impl Jobs {
    pub fn new(store: Arc<Store>, slots: usize) -> Jobs {
        Jobs {
            store,
            slots: Arc::new(Semaphore::new(slots.max(1))),
            live: Mutex::new(HashMap::new()),
        }
    }

    pub fn live(&self, id: i64) -> Option<Arc<LiveJob>> {
        self.live.lock().ok()?.get(&id).cloned()
    }

    /// Records a job and queues it; `work` gets the observer to report to and runs on a blocking thread.
    pub fn spawn<F, Fut>(
        &self,
        kind: &str,
        request: serde_json::Value,
        token: &str,
        work: F,
    ) -> Result<JobRecord, StoreError>
    where
        F: FnOnce(Observer) -> Fut + Send + 'static,
        Fut: Future<Output = JobOutcome> + 'static,
    {
        let id = self.store.job_insert(kind, &request, token)?;
        let job = Arc::new(LiveJob::new());
        job.push(JobEvent::State {
            state: JobState::Queued,
            error: None,
        });
        if let Ok(mut live) = self.live.lock() {
            live.insert(id, job.clone());
            forget_finished(&mut live);
        }
        let store = self.store.clone();
        let slots = self.slots.clone();
        tokio::spawn(async move {
            let finish = |state: JobState,
                          result: Option<serde_json::Value>,
                          error: Option<String>| {
                if let Err(e) = store.job_finished(id, state, result.as_ref(), error.as_deref()) {
                    tracing::error!(job = id, error = %e, "cannot record the job's end");
                }
                metrics::counter!("millwright_jobs_finished_total", "state" => state.as_str())
                    .increment(1);
                job.push(JobEvent::State { state, error });
            };
            let Ok(_permit) = slots.acquire_owned().await else {
                finish(
                    JobState::Failed,
                    None,
                    Some("the job pool is closed".into()),
                );
                return;
            };
            if job.is_cancelled() {
                finish(
                    JobState::Cancelled,
                    None,
                    Some("cancelled before it started".into()),
                );
                return;
            }
            if let Err(e) = store.job_started(id) {
                tracing::error!(job = id, error = %e, "cannot record the job's start");
            }
            job.push(JobEvent::State {
                state: JobState::Running,
                error: None,
            });
            tracing::info!(job = id, "job running");
            let observer = Observer::new(Arc::new(Sink(job.clone())));
            let handle = tokio::runtime::Handle::current();
            let outcome =
                tokio::task::spawn_blocking(move || handle.block_on(work(observer))).await;
            match outcome {
                Ok(Ok(result)) => finish(JobState::Succeeded, Some(result), None),
                Ok(Err(_)) if job.is_cancelled() => {
                    finish(JobState::Cancelled, None, Some("cancelled".into()));
                }
                Ok(Err(error)) => finish(JobState::Failed, None, Some(error)),
                Err(join) => finish(
                    JobState::Failed,
                    None,
                    Some(format!("the job's thread stopped: {join}")),
                ),
            }
        });
        self.store.job_get(id)
    }

    /// Cancels a job: a queued one never starts; a running one stops at its next check.
    pub fn cancel(&self, id: i64) -> Result<JobRecord, CancelError> {
        let record = self.store.job_get(id)?;
        if record.state.is_final() {
            return Err(CancelError::Finished(id, record.state.as_str()));
        }
        match self.live(id) {
            Some(job) => job.cancelled.store(true, Ordering::SeqCst),
            None => {
                if let Some(pid) = self.store.job_elsewhere(id)? {
                    return Err(CancelError::Elsewhere(id, pid));
                }
                // Not in this server's memory and no other server runs it: left over from a stopped one.
                self.store.job_finished(
                    id,
                    JobState::Cancelled,
                    None,
                    Some("cancelled (the server that ran it had stopped)"),
                )?;
            }
        }
        Ok(self.store.job_get(id)?)
    }
}
