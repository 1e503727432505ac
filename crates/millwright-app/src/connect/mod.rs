//! Live connectors into the lake: `connect mqtt` keeps a broker's messages as narrow historian readings
//! (time, source, signal, value, quality) in a dataset, committed every N rows or T ms, each message
//! acknowledged only after the commit that holds it.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use millwright_connect::{
    CommitPolicy, ConnectEvent, ConnectObserver, Mapping, MqttConfig, Sample,
};
use millwright_data::lake::Lake;
use serde::Serialize;
use tokio::sync::mpsc;

pub mod folder;
mod modbus;
pub mod opcua;
mod security;
pub mod status;
mod store;
pub use modbus::{modbus, ModbusRequest};
pub use security::{mqtt_security, SecurityArgs, PASSWORD_ENV};
use status::StatusWriter;
use store::LakeStore;
pub use store::DEFAULT_COMPACT_EVERY;

use crate::error::Result;
use crate::{Event, Home, Observer};

/// Commit kind of live readings in the lake's commit record.
pub const CONNECT_COMMIT_KIND: &str = "connect";

#[derive(Debug, Clone)]
pub struct MqttRequest {
    /// `mqtt://HOST:PORT`.
    pub url: String,
    pub topics: Vec<String>,
    pub dataset: String,
    /// The mapping TOML; `None`: flat JSON objects and plain numbers as they come.
    pub map: Option<PathBuf>,
    pub qos: u8,
    pub commit_rows: usize,
    pub commit_ms: u64,
    /// Compact the dataset after this many commits (0: never); see [`DEFAULT_COMPACT_EVERY`].
    pub compact_every: u64,
    /// Credentials and TLS files ([`mqtt_security`]).
    pub security: millwright_connect::Security,
}

/// What one run of the connector stored.
#[derive(Debug, Clone, Serialize)]
pub struct MqttResult {
    pub dataset: String,
    pub messages: u64,
    pub readings: u64,
    pub rejected: u64,
    /// Redelivered messages recognised as stored already.
    pub duplicates: u64,
    pub commits: u64,
    pub latest_version: Option<i64>,
}

/// Runs the MQTT connector until `shutdown` completes; then commits what it holds and acknowledges it.
pub async fn mqtt(
    home: &Home,
    req: &MqttRequest,
    observer: &Observer,
    shutdown: impl Future<Output = ()>,
) -> Result<MqttResult> {
    millwright_data::names::validate_dataset_name(&req.dataset)?;
    let mapping = match &req.map {
        Some(path) => Mapping::from_file(path)?,
        None => Mapping::default(),
    };
    let status = Arc::new(StatusWriter::start(home, "mqtt", &req.url, &req.dataset)?);
    let result = run_mqtt(home, req, mapping, observer, status.clone(), shutdown).await;
    status.finish(result.as_ref().err());
    result
}

async fn run_mqtt(
    home: &Home,
    req: &MqttRequest,
    mapping: Mapping,
    observer: &Observer,
    status: Arc<StatusWriter>,
    shutdown: impl Future<Output = ()>,
) -> Result<MqttResult> {
    let mut store = LakeStore::open(home, &req.dataset, mapping.level_columns())?
        .with_compact_every(req.compact_every);
    let config = MqttConfig {
        url: req.url.clone(),
        filters: req.topics.clone(),
        qos: req.qos,
        // Stable per dataset: the broker keeps this session's messages while the connector is down.
        client_id: format!("millwright-{}", req.dataset),
        commit_rows: req.commit_rows,
        commit_every: Duration::from_millis(req.commit_ms.max(1)),
        mapping,
        security: req.security.clone(),
    };
    let forward: Arc<dyn ConnectObserver> = Arc::new(Forward(observer.clone(), status));
    let outcome = millwright_connect::run(config, &mut store, forward, shutdown).await?;
    let latest_version = latest_version(home, &req.dataset)?;
    Ok(MqttResult {
        dataset: req.dataset.clone(),
        messages: outcome.messages,
        readings: outcome.readings,
        rejected: outcome.rejected,
        duplicates: outcome.duplicates,
        commits: outcome.commits,
        latest_version,
    })
}

/// Passes the connector's events to the observer, and keeps its status file.
struct Forward(Observer, Arc<StatusWriter>);

impl ConnectObserver for Forward {
    fn event(&self, event: ConnectEvent) {
        self.1.event(&event);
        self.0.emit(Event::Live { connector: event });
    }
}

/// What one run of a sampled connector (Modbus, OPC UA) stored.
#[derive(Debug, Clone, Serialize)]
pub struct SampledResult {
    pub dataset: String,
    /// Reads (polls) or notifications taken, failed ones included.
    pub samples: u64,
    pub readings: u64,
    pub rejected: u64,
    pub commits: u64,
    pub latest_version: Option<i64>,
}

/// Where a sampled connector's readings go, and how often that dataset is compacted (0: never).
pub(crate) struct SampledTarget<'a> {
    pub dataset: &'a str,
    pub compact_every: u64,
}

/// Runs a sampled connector: `source` sends samples until the channel closes (it must watch
/// `Sender::closed()` while it waits on the network), the commit loop stores them until `shutdown`.
pub(crate) async fn run_sampled<F>(
    home: &Home,
    peer: (&str, &str),
    target: SampledTarget<'_>,
    policy: CommitPolicy,
    observer: &Observer,
    source: impl FnOnce(mpsc::Sender<Sample>, Arc<dyn ConnectObserver>) -> F,
    shutdown: impl Future<Output = ()>,
) -> Result<SampledResult>
where
    F: Future<Output = std::result::Result<(), millwright_connect::ConnectError>>,
{
    let SampledTarget {
        dataset,
        compact_every,
    } = target;
    millwright_data::names::validate_dataset_name(dataset)?;
    let (kind, url) = peer;
    let status = Arc::new(StatusWriter::start(home, kind, url, dataset)?);
    let result = sampled_into(
        home,
        (dataset, compact_every),
        policy,
        observer,
        status.clone(),
        source,
        shutdown,
    )
    .await;
    status.finish(result.as_ref().err());
    result
}

async fn sampled_into<F>(
    home: &Home,
    (dataset, compact_every): (&str, u64),
    policy: CommitPolicy,
    observer: &Observer,
    status: Arc<StatusWriter>,
    source: impl FnOnce(mpsc::Sender<Sample>, Arc<dyn ConnectObserver>) -> F,
    shutdown: impl Future<Output = ()>,
) -> Result<SampledResult>
where
    F: Future<Output = std::result::Result<(), millwright_connect::ConnectError>>,
{
    let mut store = LakeStore::open(home, dataset, &[])?.with_compact_every(compact_every);
    let forward: Arc<dyn ConnectObserver> = Arc::new(Forward(observer.clone(), status));
    let (tx, rx) = mpsc::channel(millwright_connect::sampled::SAMPLE_CHANNEL);
    let source = source(tx, forward.clone());
    let commits = millwright_connect::commit_loop(rx, &mut store, policy, &*forward, shutdown);
    let (read, stored) = tokio::join!(source, commits);
    let outcome = stored?;
    read?;
    Ok(SampledResult {
        dataset: dataset.to_string(),
        samples: outcome.samples,
        readings: outcome.readings,
        rejected: outcome.rejected,
        commits: outcome.commits,
        latest_version: latest_version(home, dataset)?,
    })
}

fn latest_version(home: &Home, dataset: &str) -> Result<Option<i64>> {
    let lake = Lake::open(home.root())?;
    Ok(if lake.exists(dataset) {
        Some(lake.latest_version(dataset)?)
    } else {
        None
    })
}
