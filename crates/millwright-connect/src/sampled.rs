//! The commit loop of connectors whose readings need no acknowledgement (Modbus polls, OPC UA
//! notifications): the source task sends [`Sample`]s through a bounded channel, this loop commits them every
//! N readings or T ms. A slow store fills the channel and the source waits (backpressure): nothing is dropped
//! to keep up.

use std::future::Future;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::error::ConnectError;
use crate::mapping::{Reading, Rejected};
use crate::mqtt::{commit_with_retry, ConnectEvent, ConnectObserver, Flush, Store};

/// Samples a source may have in flight before it waits for the store.
pub const SAMPLE_CHANNEL: usize = 256;

/// What a source read at one moment: readings, or one read that failed with why.
#[derive(Debug, Clone, PartialEq)]
pub enum Sample {
    Readings(Vec<Reading>),
    Rejected(Rejected),
}

/// When to commit: at this many readings held, or this long after the first one held.
#[derive(Debug, Clone, Copy)]
pub struct CommitPolicy {
    pub rows: usize,
    pub every: Duration,
}

/// Totals of one run of a sampled connector.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SampledOutcome {
    /// Samples taken (reads or notifications), rejected ones included.
    pub samples: u64,
    pub readings: u64,
    pub rejected: u64,
    pub commits: u64,
}

/// Commits what arrives on `samples` until the channel closes or `shutdown` completes, then commits what it
/// holds. A commit that fails is retried with backoff while the source waits.
pub async fn commit_loop<S: Store>(
    mut samples: mpsc::Receiver<Sample>,
    store: &mut S,
    policy: CommitPolicy,
    observer: &dyn ConnectObserver,
    shutdown: impl Future<Output = ()>,
) -> Result<SampledOutcome, ConnectError> {
    let rows = policy.rows.max(1);
    let mut outcome = SampledOutcome::default();
    let mut held = Held::default();
    let mut deadline: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        let timer = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = &mut shutdown => break,
            () = timer => {}
            sample = samples.recv() => match sample {
                Some(sample) => {
                    held.take(sample);
                    deadline.get_or_insert_with(|| Instant::now() + policy.every);
                    if held.rows() < rows {
                        continue;
                    }
                }
                None => break,
            },
        }
        if held.samples > 0 {
            held.commit(store, observer, &mut outcome, Some(&mut shutdown))
                .await
                .map_err(|source| ConnectError::Commit { source })?;
        }
        deadline = None;
    }
    samples.close();
    while let Ok(sample) = samples.try_recv() {
        held.take(sample);
    }
    if held.samples > 0 {
        let stop: Option<&mut std::future::Pending<()>> = None;
        held.commit(store, observer, &mut outcome, stop)
            .await
            .map_err(|source| ConnectError::Commit { source })?;
    }
    Ok(outcome)
}

#[derive(Default)]
struct Held {
    flush: Flush,
    samples: u64,
}

impl Held {
    fn rows(&self) -> usize {
        self.flush.readings.len() + self.flush.rejected.len()
    }

    fn take(&mut self, sample: Sample) {
        self.samples += 1;
        match sample {
            Sample::Readings(readings) => self.flush.readings.extend(readings),
            Sample::Rejected(rejected) => self.flush.rejected.push(rejected),
        }
    }

    async fn commit<S: Store, F: Future<Output = ()> + Unpin>(
        &mut self,
        store: &mut S,
        observer: &dyn ConnectObserver,
        outcome: &mut SampledOutcome,
        stop: Option<&mut F>,
    ) -> Result<(), crate::StoreError> {
        let version = commit_with_retry(store, &self.flush, observer, stop).await?;
        let held = std::mem::take(self);
        outcome.commits += 1;
        outcome.samples += held.samples;
        outcome.readings += held.flush.readings.len() as u64;
        outcome.rejected += held.flush.rejected.len() as u64;
        observer.event(ConnectEvent::Committed {
            version,
            messages: held.samples,
            readings: held.flush.readings.len() as u64,
            rejected: held.flush.rejected.len() as u64,
            duplicates: 0,
            total_messages: outcome.samples,
            total_readings: outcome.readings,
        });
        Ok(())
    }
}
