//! The run store: run folders under `<home>/runs/` and their SQLite catalog `<home>/runs/catalog.db`.
//!
//! Each run's `run.json` is the source of truth (written to a temporary file then renamed, so it is
//! always whole); the catalog indexes it for listing, filtering and paging. A catalog row is inserted only
//! after the run folder and its `run.json` exist, so the catalog never names a half-created run, and
//! [`RunStore::rebuild_catalog`] restores the catalog from the folders if it is lost.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::recorder::{Artefact, RunRecorder};
use super::run_id::{is_id_prefix, RunId};
use super::spec::RunSpec;
use super::{Result, TrackingError};

/// A run being deleted: `.deleting-<pid>-<run id>`, renamed away before its removal; one a killed delete
/// left is removed by the next delete.
const DELETING_PREFIX: &str = ".deleting-";

/// Catalog schema version stored in `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 1;
/// File name of a run's description inside its folder.
pub(crate) const RUN_FILE: &str = "run.json";
/// File name of the catalog inside `<home>/runs/`.
pub const CATALOG_FILE: &str = "catalog.db";

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Started and not yet finished (or the process died before it could say).
    Running,
    /// Finished normally.
    Finished,
    /// Ended with an error; the record holds the message.
    Failed,
}

impl RunStatus {
    /// The lower-case name stored in the catalog and accepted by `--status`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Finished => "finished",
            RunStatus::Failed => "failed",
        }
    }
}

impl std::str::FromStr for RunStatus {
    type Err = TrackingError;

    fn from_str(text: &str) -> Result<RunStatus> {
        match text {
            "running" => Ok(RunStatus::Running),
            "finished" => Ok(RunStatus::Finished),
            "failed" => Ok(RunStatus::Failed),
            other => Err(TrackingError::InvalidInput {
                what: "run status",
                reason: format!("{other:?} is not one of running, finished, failed"),
            }),
        }
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything stored about one run: the content of `<home>/runs/<id>/run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The run's id, also its folder name.
    pub id: RunId,
    /// What the run was started with (name, model kind, params, dataset, code version, seed).
    pub spec: RunSpec,
    /// Running, finished or failed.
    pub status: RunStatus,
    /// When the run started (UTC).
    pub started_at: DateTime<Utc>,
    /// When it finished or failed.
    pub finished_at: Option<DateTime<Utc>>,
    /// Wall-clock seconds from start to end.
    pub duration_s: Option<f64>,
    /// Final metrics (a JSON object, e.g. the test-split metrics by name); empty until logged.
    pub final_metrics: serde_json::Value,
    /// Files the run produced or registered (model, plots, ...).
    pub artefacts: Vec<Artefact>,
    /// Why the run failed.
    pub error: Option<String>,
    /// Machine the run ran on.
    pub host: String,
    /// Process that recorded the run (to tell a live run from one whose process died).
    #[serde(default)]
    pub pid: Option<u32>,
    /// Number of epochs (steps) logged.
    pub steps_logged: u64,
}

impl RunRecord {
    /// Whether the run says "running" but the process that recorded it is gone (killed, crashed, machine
    /// restarted): the run will never finish. Decidable only on the machine that ran it and where the
    /// process table is readable (Linux `/proc`); `false` when it cannot be told.
    pub fn is_interrupted(&self) -> bool {
        let Some(pid) = self.pid else { return false };
        self.status == RunStatus::Running
            && self.host == this_host()
            && Path::new("/proc/self").exists()
            && !Path::new(&format!("/proc/{pid}")).exists()
    }

    /// A numeric final metric by name (`"accuracy"`), when present.
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.final_metrics
            .get(name)
            .and_then(serde_json::Value::as_f64)
    }
}

/// Which runs to list; `None` fields match everything. Filters combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFilter {
    /// Only runs with this status.
    pub status: Option<RunStatus>,
    /// Only runs of this model kind (`mlp`, `gbdt`, ...).
    pub model_kind: Option<String>,
    /// Only runs with this name.
    pub name: Option<String>,
    /// Only runs on this dataset label (lake name or `train.csv+test.csv`).
    pub dataset: Option<String>,
}

/// One page of runs, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunPage {
    /// Runs matching the filter in total (not only on this page).
    pub total: u64,
    /// Offset this page starts at.
    pub offset: u64,
    /// The runs on this page.
    pub runs: Vec<RunRecord>,
}

/// The runs of one Millwright home: folders under `<home>/runs/` plus the catalog.
///
/// Open one per thread or process; SQLite (in WAL mode) lets several readers and one writer work at once.
#[derive(Debug)]
pub struct RunStore {
    root: PathBuf,
    catalog_path: PathBuf,
    conn: Connection,
}

impl RunStore {
    /// Opens (creating if needed) the run store of `home`: `<home>/runs/` and `<home>/runs/catalog.db`.
    pub fn open(home: &Path) -> Result<RunStore> {
        let root = home.join("runs");
        std::fs::create_dir_all(&root).map_err(TrackingError::io("create run folder", &root))?;
        let catalog_path = root.join(CATALOG_FILE);
        let conn = open_catalog(&catalog_path)?;
        Ok(RunStore {
            root,
            catalog_path,
            conn,
        })
    }

    /// `<home>/runs/`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of run `id` (`<home>/runs/<id>/`).
    pub fn run_dir(&self, id: &RunId) -> PathBuf {
        self.root.join(id.as_str())
    }

    /// Starts a run: creates its folder and `run.json` (status running), then lists it in the catalog.
    /// Log epochs, final metrics and artefacts through the returned recorder, then call
    /// [`RunRecorder::finish`] or [`RunRecorder::fail`].
    pub fn start_run(&self, spec: RunSpec) -> Result<RunRecorder> {
        spec.validate()?;
        let started_at = Utc::now();
        // Ids carry 24 random bits; a collision in the same millisecond just draws again.
        let (id, dir) = loop {
            let id = RunId::generate(started_at);
            let dir = self.run_dir(&id);
            match std::fs::create_dir(&dir) {
                Ok(()) => break (id, dir),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(TrackingError::Io {
                        action: "create run folder",
                        path: dir,
                        source: e,
                    })
                }
            }
        };
        let record = RunRecord {
            id,
            spec,
            status: RunStatus::Running,
            started_at,
            finished_at: None,
            duration_s: None,
            final_metrics: serde_json::Value::Object(serde_json::Map::new()),
            artefacts: Vec::new(),
            error: None,
            host: this_host(),
            pid: Some(std::process::id()),
            steps_logged: 0,
        };
        write_record_file(&dir, &record)?;
        let conn = open_catalog(&self.catalog_path)?;
        upsert(&conn, &self.catalog_path, &record)?;
        Ok(RunRecorder::new(
            dir,
            self.catalog_path.clone(),
            conn,
            record,
        ))
    }

    /// A page of runs matching `filter`, newest first. `limit` is capped at 10 000.
    pub fn list(&self, filter: &RunFilter, limit: u64, offset: u64) -> Result<RunPage> {
        let (where_sql, args) = filter_sql(filter);
        let total: i64 = self
            .conn
            .query_row(
                &format!("SELECT COUNT(*) FROM runs{where_sql}"),
                rusqlite::params_from_iter(args.iter()),
                |row| row.get(0),
            )
            .map_err(self.catalog_err("count runs"))?;
        let mut page_args = args.clone();
        page_args.push(Value::Integer(limit.min(10_000) as i64));
        page_args.push(Value::Integer(i64::try_from(offset).unwrap_or(i64::MAX)));
        let n = args.len();
        let sql = format!(
            "SELECT record FROM runs{where_sql} ORDER BY started_us DESC, id DESC LIMIT ?{} OFFSET ?{}",
            n + 1,
            n + 2
        );
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .map_err(self.catalog_err("list runs"))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(page_args.iter()), |row| {
                row.get::<_, String>(0)
            })
            .map_err(self.catalog_err("list runs"))?;
        let mut runs = Vec::new();
        for row in rows {
            let text = row.map_err(self.catalog_err("read run row"))?;
            runs.push(parse_record(&text, "catalog row")?);
        }
        Ok(RunPage {
            total: total.max(0) as u64,
            offset,
            runs,
        })
    }

    /// The run named by `reference`: a full id, a unique id prefix (`20261128T14`), or `latest`.
    pub fn get(&self, reference: &str) -> Result<RunRecord> {
        let id = self.resolve(reference)?;
        let text: String = self
            .conn
            .query_row(
                "SELECT record FROM runs WHERE id = ?1",
                [id.as_str()],
                |row| row.get(0),
            )
            .optional()
            .map_err(self.catalog_err("read run"))?
            .ok_or_else(|| TrackingError::UnknownRun(reference.to_string()))?;
        parse_record(&text, "catalog row")
    }

    /// The id named by `reference` (full id, unique prefix, or `latest` for the newest run).
    pub fn resolve(&self, reference: &str) -> Result<RunId> {
        if reference == "latest" {
            let id: Option<String> = self
                .conn
                .query_row(
                    "SELECT id FROM runs ORDER BY started_us DESC, id DESC LIMIT 1",
                    [],
                    |row| row.get(0),
                )
                .optional()
                .map_err(self.catalog_err("find latest run"))?;
            return id
                .map(|id| RunId::parse(&id))
                .transpose()?
                .ok_or_else(|| TrackingError::UnknownRun(reference.into()));
        }
        if !is_id_prefix(reference) {
            return Err(TrackingError::InvalidRunId(reference.to_string()));
        }
        // '~' sorts after every character an id can hold, so this range is "starts with the prefix"
        // and uses the primary-key index.
        let upper = format!("{reference}~");
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM runs WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT 6")
            .map_err(self.catalog_err("resolve run id"))?;
        let matches = stmt
            .query_map([reference, upper.as_str()], |row| row.get::<_, String>(0))
            .map_err(self.catalog_err("resolve run id"))?
            .collect::<rusqlite::Result<Vec<String>>>()
            .map_err(self.catalog_err("resolve run id"))?;
        match matches.as_slice() {
            [] => Err(TrackingError::UnknownRun(reference.to_string())),
            [one] => RunId::parse(one),
            _ => Err(TrackingError::AmbiguousRun {
                prefix: reference.to_string(),
                matches,
            }),
        }
    }

    /// Marks every run left "running" by a process that is gone ([`RunRecord::is_interrupted`]: killed,
    /// crashed) as failed, with `reason` and the dead process's id, so it no longer lists as running.
    /// A run whose process is alive, or on another machine, is left alone. Returns the ids marked.
    pub fn fail_interrupted(&self, reason: &str) -> Result<Vec<RunId>> {
        let running = RunFilter {
            status: Some(RunStatus::Running),
            ..RunFilter::default()
        };
        // Read every running run first, then mark: marking while paging would shift the pages.
        let mut interrupted = Vec::new();
        loop {
            let page = self.list(&running, 1000, interrupted.len() as u64)?;
            let done = page.runs.len() < 1000;
            interrupted.extend(page.runs);
            if done {
                break;
            }
        }
        interrupted.retain(RunRecord::is_interrupted);
        let mut marked = Vec::new();
        for mut record in interrupted {
            record.status = RunStatus::Failed;
            record.error = Some(match record.pid {
                Some(pid) => format!("{reason} (process {pid} is gone)"),
                None => reason.to_string(),
            });
            write_record_file(&self.run_dir(&record.id), &record)?;
            upsert(&self.conn, &self.catalog_path, &record)?;
            marked.push(record.id);
        }
        Ok(marked)
    }

    /// Deletes run `id` (its full id: a delete does not guess from a prefix): the folder is renamed away
    /// in one step (a reader sees the whole run or none), then its catalog row and files go. A run still
    /// being recorded by a live process is refused ([`TrackingError::RunActive`]).
    pub fn delete(&self, id: &str) -> Result<RunRecord> {
        let id = RunId::parse(id)?;
        let record = self.get(id.as_str())?;
        if record.status == RunStatus::Running && !record.is_interrupted() {
            return Err(TrackingError::RunActive {
                id: id.to_string(),
                pid: record.pid.unwrap_or(0),
                host: record.host.clone(),
            });
        }
        millwright_core::remove_abandoned(&self.root, &[DELETING_PREFIX]);
        let dir = self.run_dir(&id);
        // Not a run id, so neither a listing nor `rebuild_catalog` takes it for a run.
        let doomed = self
            .root
            .join(format!("{DELETING_PREFIX}{}-{id}", std::process::id()));
        match std::fs::rename(&dir, &doomed) {
            Ok(()) => {}
            // A catalog row without a folder (a run whose folder was removed by hand): drop the row.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(TrackingError::io("move away", &dir)(e)),
        }
        self.conn
            .execute("DELETE FROM runs WHERE id = ?1", [id.as_str()])
            .map_err(self.catalog_err("delete run"))?;
        if doomed.exists() {
            std::fs::remove_dir_all(&doomed).map_err(TrackingError::io("remove", &doomed))?;
        }
        Ok(record)
    }

    /// Re-creates the catalog rows from the run folders (after the catalog was deleted or a process died
    /// between writing `run.json` and updating the catalog). Returns the number of runs indexed.
    pub fn rebuild_catalog(&mut self) -> Result<usize> {
        let entries = std::fs::read_dir(&self.root)
            .map_err(TrackingError::io("list run folder", &self.root))?;
        let mut records = Vec::new();
        for entry in entries {
            let entry = entry.map_err(TrackingError::io("list run folder", &self.root))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if RunId::parse(name).is_err() {
                continue;
            }
            let path = entry.path().join(RUN_FILE);
            match std::fs::read_to_string(&path) {
                Ok(text) => records.push(parse_record(&text, &path.display().to_string())?),
                // A folder without run.json is a run that never got listed: nothing to index.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(TrackingError::Io {
                        action: "read",
                        path,
                        source: e,
                    })
                }
            }
        }
        let tx = self
            .conn
            .transaction()
            .map_err(catalog_err(&self.catalog_path, "begin rebuild"))?;
        for record in &records {
            upsert(&tx, &self.catalog_path, record)?;
        }
        tx.commit()
            .map_err(catalog_err(&self.catalog_path, "commit rebuild"))?;
        Ok(records.len())
    }

    fn catalog_err(&self, context: &str) -> impl FnOnce(rusqlite::Error) -> TrackingError {
        catalog_err(&self.catalog_path, context)
    }
}

fn this_host() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

pub(crate) fn catalog_err(
    path: &Path,
    context: &str,
) -> impl FnOnce(rusqlite::Error) -> TrackingError {
    let path = path.to_path_buf();
    let context = context.to_string();
    move |source| TrackingError::Catalog {
        path,
        context,
        source,
    }
}

/// Opens the catalog, creating the schema, and refuses files from a newer schema.
pub(crate) fn open_catalog(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path).map_err(catalog_err(path, "open"))?;
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(catalog_err(path, "set busy timeout"))?;
    // WAL: readers (`millwright runs`) never block a training run that is writing.
    enable_wal(&conn).map_err(catalog_err(path, "enable WAL"))?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(catalog_err(path, "set synchronous"))?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(catalog_err(path, "read schema version"))?;
    if version > SCHEMA_VERSION {
        return Err(TrackingError::FutureSchema {
            path: path.to_path_buf(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    if version < SCHEMA_VERSION {
        conn.execute_batch(
            // IMMEDIATE: take the write lock first, so two processes creating the schema at once wait
            // for each other (a deferred transaction would fail with "database is locked").
            "BEGIN IMMEDIATE;
             CREATE TABLE IF NOT EXISTS runs (
                 id TEXT PRIMARY KEY NOT NULL,
                 name TEXT NOT NULL,
                 model_kind TEXT NOT NULL,
                 status TEXT NOT NULL,
                 dataset TEXT NOT NULL,
                 started_us INTEGER NOT NULL,
                 duration_s REAL,
                 record TEXT NOT NULL
             );
             CREATE INDEX IF NOT EXISTS runs_started ON runs (started_us DESC, id DESC);
             CREATE INDEX IF NOT EXISTS runs_status ON runs (status, started_us DESC);
             CREATE INDEX IF NOT EXISTS runs_model ON runs (model_kind, started_us DESC);
             CREATE INDEX IF NOT EXISTS runs_name ON runs (name, started_us DESC);
             CREATE INDEX IF NOT EXISTS runs_dataset ON runs (dataset, started_us DESC);
             PRAGMA user_version = 1;
             COMMIT;",
        )
        .map_err(catalog_err(path, "create schema"))?;
    }
    Ok(conn)
}

/// Switches the catalog to WAL once. Switching needs an exclusive lock, and SQLite may answer "busy"
/// without waiting when another process opens the same new catalog at that moment: retry briefly.
fn enable_wal(conn: &Connection) -> rusqlite::Result<()> {
    let mut attempt = 0;
    loop {
        let result = conn
            .pragma_query_value(None, "journal_mode", |row| row.get::<_, String>(0))
            .and_then(|mode| {
                if mode.eq_ignore_ascii_case("wal") {
                    Ok(())
                } else {
                    conn.pragma_update(None, "journal_mode", "WAL")
                }
            });
        match result {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && attempt < 100 =>
            {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// Inserts or replaces the catalog row of `record` (one statement, so atomic).
pub(crate) fn upsert(conn: &Connection, path: &Path, record: &RunRecord) -> Result<()> {
    let json = serde_json::to_string(record).map_err(|source| TrackingError::Json {
        context: format!("serialise run {}", record.id),
        source,
    })?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO runs (id, name, model_kind, status, dataset, started_us, duration_s, record)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            record.id.as_str(),
            record.spec.name,
            record.spec.model_kind,
            record.status.as_str(),
            record.spec.dataset.label(),
            record.started_at.timestamp_micros(),
            record.duration_s,
            json,
        ])
    })
    .map_err(catalog_err(path, &format!("write run {}", record.id)))?;
    Ok(())
}

/// Writes `<dir>/run.json` through a temporary file and a rename, so readers see the old or the new
/// record, never a torn one.
pub(crate) fn write_record_file(dir: &Path, record: &RunRecord) -> Result<()> {
    let json = serde_json::to_vec_pretty(record).map_err(|source| TrackingError::Json {
        context: format!("serialise run {}", record.id),
        source,
    })?;
    let tmp = dir.join(format!(".{RUN_FILE}.tmp"));
    let path = dir.join(RUN_FILE);
    std::fs::write(&tmp, json).map_err(TrackingError::io("write", &tmp))?;
    std::fs::rename(&tmp, &path).map_err(TrackingError::io("rename into place", &path))
}

fn parse_record(text: &str, source: &str) -> Result<RunRecord> {
    serde_json::from_str(text).map_err(|e| TrackingError::Json {
        context: format!("parse run record from {source}"),
        source: e,
    })
}

/// `WHERE` clause and its positional arguments for a filter.
fn filter_sql(filter: &RunFilter) -> (String, Vec<Value>) {
    let mut clauses = Vec::new();
    let mut args = Vec::new();
    let mut add = |column: &str, value: String| {
        args.push(Value::Text(value));
        clauses.push(format!("{column} = ?{}", args.len()));
    };
    if let Some(status) = filter.status {
        add("status", status.as_str().to_string());
    }
    if let Some(kind) = &filter.model_kind {
        add("model_kind", kind.clone());
    }
    if let Some(name) = &filter.name {
        add("name", name.clone());
    }
    if let Some(dataset) = &filter.dataset {
        add("dataset", dataset.clone());
    }
    if clauses.is_empty() {
        (String::new(), args)
    } else {
        (format!(" WHERE {}", clauses.join(" AND ")), args)
    }
}
