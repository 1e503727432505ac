//! What each connector on this home is doing, for `millwright connectors`, the dashboard and /metrics: a
//! running connector keeps `connectors/DATASET.json` under the home up to date (written whole, then renamed,
//! so a reader never sees half a file). A connector killed without a word leaves its file with a process id
//! that is gone, and is shown as such.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use millwright_connect::ConnectEvent;
use serde::{Deserialize, Serialize};

use crate::error::{io, AppError, Result};
use crate::Home;

/// Files are rewritten at most this often for counters alone; a change of state is written at once.
const WRITE_EVERY: Duration = Duration::from_secs(1);

/// Where a connector is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorState {
    Connecting,
    Connected,
    /// The peer is away; the connector is reconnecting.
    Reconnecting,
    /// The store refused the last commit; the connector retries and acknowledges nothing meanwhile.
    StoreFailing,
    Stopped,
    Failed,
    /// The file says running, but its process is gone (killed, or the machine restarted).
    Gone,
}

/// One connector's status, as its file holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorStatus {
    /// The dataset it writes: one connector per dataset.
    pub dataset: String,
    /// mqtt, opcua or modbus.
    pub kind: String,
    pub url: String,
    pub pid: u32,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub state: ConnectorState,
    /// Messages (MQTT) or samples (polls, notifications) taken.
    pub messages: u64,
    pub readings: u64,
    pub rejected: u64,
    pub duplicates: u64,
    pub commits: u64,
    pub last_commit_at: Option<DateTime<Utc>>,
    pub latest_version: Option<i64>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
}

/// The folder of the status files.
pub fn status_dir(home: &Home) -> PathBuf {
    home.root().join("connectors")
}

fn status_path(home: &Home, dataset: &str) -> PathBuf {
    status_dir(home).join(format!("{dataset}.json"))
}

/// Every connector that has run on this home, by dataset; a running one whose process is gone is `Gone`.
pub fn list(home: &Home) -> Result<Vec<ConnectorStatus>> {
    let dir = status_dir(home);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(AppError::Io {
                what: "cannot list the connectors in",
                path: dir,
                source,
            })
        }
    };
    let mut all = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        // A file being replaced or from another version is skipped, not fatal to the listing.
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(mut status) = serde_json::from_str::<ConnectorStatus>(&text) else {
            continue;
        };
        if status.is_live() && !process_alive(status.pid) {
            status.state = ConnectorState::Gone;
        }
        all.push(status);
    }
    all.sort_by(|a, b| a.dataset.cmp(&b.dataset));
    Ok(all)
}

impl ConnectorStatus {
    /// Whether the file says the connector is running (any state but stopped, failed or gone).
    pub fn is_live(&self) -> bool {
        !matches!(
            self.state,
            ConnectorState::Stopped | ConnectorState::Failed | ConnectorState::Gone
        )
    }
}

fn process_alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists() || !Path::new("/proc/self").exists()
}

/// Keeps one connector's status file.
pub(crate) struct StatusWriter {
    path: PathBuf,
    status: Mutex<(ConnectorStatus, Instant)>,
}

impl StatusWriter {
    /// Starts the file of a connector; refuses when another live process already feeds this dataset.
    pub(crate) fn start(home: &Home, kind: &str, url: &str, dataset: &str) -> Result<StatusWriter> {
        let path = status_path(home, dataset);
        if let Some(other) = list(home)?
            .into_iter()
            .find(|s| s.dataset == dataset && s.is_live() && s.pid != std::process::id())
        {
            return Err(AppError::invalid(format!(
                "dataset {dataset:?} is already fed by a running {} connector (process {}, {}); stop it first",
                other.kind, other.pid, other.url
            )));
        }
        let now = Utc::now();
        let status = ConnectorStatus {
            dataset: dataset.to_string(),
            kind: kind.to_string(),
            url: url.to_string(),
            pid: std::process::id(),
            started_at: now,
            updated_at: now,
            state: ConnectorState::Connecting,
            messages: 0,
            readings: 0,
            rejected: 0,
            duplicates: 0,
            commits: 0,
            last_commit_at: None,
            latest_version: None,
            last_error: None,
            last_error_at: None,
        };
        let writer = StatusWriter {
            path,
            status: Mutex::new((status, Instant::now())),
        };
        writer.write(&writer.status.lock().unwrap_or_else(|e| e.into_inner()).0)?;
        Ok(writer)
    }

    /// Folds an event into the status; writes when the state changed or a second has passed.
    pub(crate) fn event(&self, event: &ConnectEvent) {
        let mut guard = self.status.lock().unwrap_or_else(|e| e.into_inner());
        let (status, written) = &mut *guard;
        let before = status.state;
        let now = Utc::now();
        match event {
            ConnectEvent::Connected { .. }
            | ConnectEvent::Subscribed { .. }
            | ConnectEvent::Monitoring { .. } => {
                status.state = ConnectorState::Connected;
            }
            ConnectEvent::ConnectionLost { reason, .. }
            | ConnectEvent::ReconnectFailed { reason } => {
                status.state = ConnectorState::Reconnecting;
                status.last_error = Some(reason.clone());
                status.last_error_at = Some(now);
            }
            ConnectEvent::SubscribeRefused { filter } => {
                status.last_error = Some(format!("refused: {filter}"));
                status.last_error_at = Some(now);
            }
            ConnectEvent::CommitFailed { reason } => {
                status.state = ConnectorState::StoreFailing;
                status.last_error = Some(reason.clone());
                status.last_error_at = Some(now);
            }
            ConnectEvent::Committed {
                version,
                rejected,
                duplicates,
                total_messages,
                total_readings,
                ..
            } => {
                if status.state == ConnectorState::StoreFailing {
                    status.state = ConnectorState::Connected;
                }
                status.messages = *total_messages;
                status.readings = *total_readings;
                status.rejected += rejected;
                status.duplicates += duplicates;
                status.commits += 1;
                status.last_commit_at = Some(now);
                if version.is_some() {
                    status.latest_version = *version;
                }
            }
        }
        status.updated_at = now;
        if status.state != before || written.elapsed() >= WRITE_EVERY {
            // A status that cannot be written costs the listing its freshness, never the readings.
            let _ = self.write(status);
            *written = Instant::now();
        }
    }

    /// The final word: stopped, or failed with why.
    pub(crate) fn finish(&self, error: Option<&AppError>) {
        let mut guard = self.status.lock().unwrap_or_else(|e| e.into_inner());
        let status = &mut guard.0;
        status.updated_at = Utc::now();
        match error {
            None => status.state = ConnectorState::Stopped,
            Some(e) => {
                status.state = ConnectorState::Failed;
                status.last_error = Some(error_chain(e));
                status.last_error_at = Some(status.updated_at);
            }
        }
        let _ = self.write(status);
    }

    fn write(&self, status: &ConnectorStatus) -> Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io("cannot create", dir))?;
        let staging = self
            .path
            .with_extension(format!("json.{}", std::process::id()));
        let text = serde_json::to_vec_pretty(status).unwrap_or_default();
        std::fs::write(&staging, text).map_err(io("cannot write", &staging))?;
        std::fs::rename(&staging, &self.path).map_err(io("cannot replace", &self.path))
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
