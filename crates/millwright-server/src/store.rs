//! The server's tables in `<home>/millwright.db`: API tokens (hashed), the audit log and the jobs. The
//! server crate writes them and owns them; the CLI's `token` and `audit` commands call this module.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use rand::TryRngCore;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

/// The database file below a home.
pub const DB_FILE: &str = "millwright.db";

/// Prefix of every API token, so a leaked one is recognisable in logs and secret scanners.
pub const TOKEN_PREFIX: &str = "mw_";
/// Browser session cookies start with this (a different prefix: a cookie is never a valid API token).
pub const SESSION_PREFIX: &str = "mws_";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database {what} failed")]
    Sql {
        what: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Exists(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the system's random source failed: {0}")]
    Random(String),
    #[error("the database lock was poisoned by a panic")]
    Poisoned,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

fn sql(what: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Sql { what, source }
}

/// What a token may do: each role can do everything the ones below it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read everything.
    Viewer,
    /// Also start jobs (ingest, train, twin, report) and run queries.
    Operator,
    /// Also delete, read the audit log.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Role> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "operator" => Ok(Role::Operator),
            "admin" => Ok(Role::Admin),
            other => Err(StoreError::Invalid(format!(
                "unknown role {other:?} (viewer, operator or admin)"
            ))),
        }
    }
}

/// A token as listed: never its secret, never its hash.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenInfo {
    pub name: String,
    pub role: Role,
    pub created: DateTime<Utc>,
    pub revoked: Option<DateTime<Utc>>,
}

/// A browser session just made: `cookie` is the secret the browser keeps, `csrf` the token its forms and
/// scripts send back with every change.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub cookie: String,
    pub csrf: String,
    pub token: TokenInfo,
}

/// A signed-in browser: whose token it acts with, and its CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: TokenInfo,
    pub csrf: String,
}

/// A token just made: the secret is shown this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NewToken {
    pub name: String,
    pub role: Role,
    pub token: String,
}

/// One audited request.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub time: DateTime<Utc>,
    /// The token's name (`-` when the request carried no valid token).
    pub token: String,
    pub role: Option<Role>,
    pub method: String,
    /// The route pattern (`/api/v1/datasets/{name}/ingest`).
    pub route: String,
    /// The path actually requested.
    pub target: String,
    /// The HTTP status of the answer.
    pub status: u16,
}

/// A new audit row.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub token: String,
    pub role: Option<Role>,
    pub method: String,
    pub route: String,
    pub target: String,
    pub status: u16,
}

/// The state of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 5] = [
        JobState::Queued,
        JobState::Running,
        JobState::Succeeded,
        JobState::Failed,
        JobState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobState::Succeeded | JobState::Failed | JobState::Cancelled
        )
    }

    fn parse(s: &str) -> Result<JobState> {
        JobState::ALL
            .into_iter()
            .find(|j| j.as_str() == s)
            .ok_or_else(|| StoreError::Invalid(format!("unknown job state {s:?} in the database")))
    }
}

/// A job as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JobRecord {
    pub id: i64,
    /// `ingest`, `train`, `twin-compare`, `report`.
    pub kind: String,
    pub state: JobState,
    /// The request the job was started with.
    #[schema(value_type = Object)]
    pub request: serde_json::Value,
    /// The use case's result, once it succeeded.
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    /// Why it failed or was cancelled.
    pub error: Option<String>,
    /// The token that started it.
    pub token: String,
    pub created: DateTime<Utc>,
    pub started: Option<DateTime<Utc>>,
    pub finished: Option<DateTime<Utc>>,
}

/// The reason given to jobs a stopped server left unfinished.
pub const INTERRUPTED: &str = "server stopped while the job was running";

/// The database of one home. Cheap to share behind an `Arc`; calls are short and serialised.
/// Every token not revoked, by hash.
fn active_tokens(conn: &Connection) -> Result<std::collections::HashMap<String, TokenInfo>> {
    let mut q = conn
        .prepare("SELECT name, role, hash, created FROM tokens WHERE revoked IS NULL")
        .map_err(sql("reading the tokens"))?;
    let rows = q
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .map_err(sql("reading the tokens"))?;
    let mut by_hash = std::collections::HashMap::new();
    for row in rows {
        let (name, role, hash, created) = row.map_err(sql("reading a token"))?;
        let token = TokenInfo {
            name,
            role: role.parse()?,
            created: parse_time(&created).map_err(sql("reading a token's time"))?,
            revoked: None,
        };
        by_hash.insert(hash, token);
    }
    Ok(by_hash)
}

pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
    /// The active tokens by hash, read once per change of the database: every request is checked against
    /// memory, and a token made or revoked by another process (the CLI) shows within [`TOKEN_RECHECK`],
    /// because SQLite's `data_version` moves when another connection commits.
    tokens: Mutex<Option<TokenCache>>,
}

/// How long the token table in memory is trusted without asking SQLite whether another process changed
/// it: a revoke by the CLI is refused within a millisecond, and a busy server does not take a database
/// read lock on every request. Changes through this store forget the cache at once.
const TOKEN_RECHECK: std::time::Duration = std::time::Duration::from_millis(1);

impl TokenCache {
    fn find(&self, hash: &str) -> Option<TokenInfo> {
        self.by_hash
            .get_key_value(hash)
            .filter(|(stored, _)| bool::from(stored.as_bytes().ct_eq(hash.as_bytes())))
            .map(|(_, token)| token.clone())
    }
}

struct TokenCache {
    data_version: i64,
    /// When `data_version` was last compared with the database's.
    checked: std::time::Instant,
    by_hash: std::collections::HashMap<String, TokenInfo>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tokens (
    name    TEXT PRIMARY KEY,
    role    TEXT NOT NULL,
    hash    TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL,
    revoked TEXT
);
CREATE TABLE IF NOT EXISTS audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    time    TEXT NOT NULL,
    token   TEXT NOT NULL,
    role    TEXT,
    method  TEXT NOT NULL,
    route   TEXT NOT NULL,
    target  TEXT NOT NULL,
    status  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    kind     TEXT NOT NULL,
    state    TEXT NOT NULL,
    request  TEXT NOT NULL,
    result   TEXT,
    error    TEXT,
    token    TEXT NOT NULL,
    created  TEXT NOT NULL,
    started  TEXT,
    finished TEXT,
    pid      INTEGER
);
CREATE TABLE IF NOT EXISTS sessions (
    hash    TEXT PRIMARY KEY,
    token   TEXT NOT NULL,
    csrf    TEXT NOT NULL,
    created TEXT NOT NULL,
    expires TEXT NOT NULL
);
";

fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| StoreError::Random(e.to_string()))?;
    Ok(bytes)
}

fn hash_token(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    hex(&digest)
}

fn hex(bytes: &[u8]) -> String {
    // By table, not `write!` per byte: every request hashes its token.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]])
        .map(char::from)
        .collect()
}

fn parse_time(text: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Token names follow the dataset rule: letters, digits, `_` and `-`.
fn validate_token_name(name: &str) -> Result<()> {
    millwright_data::names::validate_dataset_name(name)
        .map_err(|e| StoreError::Invalid(format!("token name: {e}")))
}

/// Databases made before jobs recorded the server that runs them get the `pid` column (NULL: unknown).
fn add_jobs_pid(conn: &Connection) -> rusqlite::Result<()> {
    let has: bool = conn
        .prepare("SELECT 1 FROM pragma_table_info('jobs') WHERE name = 'pid'")?
        .exists([])?;
    if has {
        return Ok(());
    }
    match conn.execute_batch("ALTER TABLE jobs ADD COLUMN pid INTEGER") {
        // Another process added it between the check and here.
        Err(rusqlite::Error::SqliteFailure(_, Some(m))) if m.contains("duplicate column") => Ok(()),
        other => other,
    }
}

/// Whether process `pid` is alive; `None` where that cannot be told (no Linux `/proc`).
pub fn process_alive(pid: u32) -> Option<bool> {
    if !Path::new("/proc/self").exists() {
        return None;
    }
    Some(Path::new(&format!("/proc/{pid}")).exists())
}

/// Whether a job recorded by server process `pid` may still be running in another live server sharing
/// the home. A job of this very process id found at start was left by an earlier process that had the
/// same id; a job of unknown owner (an older database, or no `/proc`) is taken as abandoned.
fn owned_by_another_live_server(pid: Option<u32>) -> bool {
    pid.is_some_and(|pid| pid != std::process::id() && process_alive(pid) == Some(true))
}

/// Switches the database to WAL (readers never wait for the writer) once. Switching takes an exclusive
/// lock, and SQLite answers "busy" without calling the busy handler when another process holds the file
/// at that moment (a CLI `token create` while the server opens it): retry briefly.
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
                if e.code == rusqlite::ErrorCode::DatabaseBusy && attempt < 200 =>
            {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(25));
            }
            other => return other,
        }
    }
}

impl Store {
    /// Opens (creating if needed) `<home>/millwright.db` and its server tables.
    pub fn open(home: &Path) -> Result<Store> {
        std::fs::create_dir_all(home).map_err(|e| StoreError::Open {
            path: home.to_owned(),
            source: rusqlite::Error::ToSqlConversionFailure(Box::new(e)),
        })?;
        let path = home.join(DB_FILE);
        let conn = Connection::open(&path).map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        // CLI and server share the file: wait for each other's short writes instead of failing.
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(sql("setting the busy timeout"))?;
        enable_wal(&conn).map_err(sql("switching to WAL"))?;
        // IMMEDIATE: two processes creating the tables at once wait for each other (a deferred
        // transaction that turns into a write answers "database is locked" without waiting).
        conn.execute_batch(&format!("BEGIN IMMEDIATE;{SCHEMA}COMMIT;"))
            .map_err(sql("creating the tables"))?;
        add_jobs_pid(&conn).map_err(sql("adding the jobs' pid column"))?;
        Ok(Store {
            conn: Mutex::new(conn),
            path,
            tokens: Mutex::new(None),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> Result<std::sync::MutexGuard<'_, Connection>> {
        self.conn.lock().map_err(|_| StoreError::Poisoned)
    }

    /// Makes a token of 32 random bytes; only its SHA-256 is stored, the secret is returned once.
    pub fn create_token(&self, name: &str, role: Role) -> Result<NewToken> {
        validate_token_name(name)?;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|e| StoreError::Random(e.to_string()))?;
        let token = format!("{TOKEN_PREFIX}{}", hex(&bytes));
        let mut guard = self.conn()?;
        // One write transaction, taken first: the check and the insert see the same table even when
        // another process creates a token at the same moment.
        let conn = guard
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql("starting a token write"))?;
        let existing: Option<Option<String>> = conn
            .query_row(
                "SELECT revoked FROM tokens WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql("reading tokens"))?;
        match existing {
            Some(None) => {
                return Err(StoreError::Exists(format!(
                    "a token named {name:?} exists; revoke it first or choose another name"
                )))
            }
            Some(Some(_)) => {
                conn.execute("DELETE FROM tokens WHERE name = ?1", params![name])
                    .map_err(sql("replacing a revoked token"))?;
            }
            None => {}
        }
        conn.execute(
            "INSERT INTO tokens (name, role, hash, created) VALUES (?1, ?2, ?3, ?4)",
            params![name, role.as_str(), hash_token(&token), now()],
        )
        .map_err(sql("storing the token"))?;
        conn.commit().map_err(sql("storing the token"))?;
        self.tokens_changed();
        Ok(NewToken {
            name: name.to_owned(),
            role,
            token,
        })
    }

    pub fn list_tokens(&self) -> Result<Vec<TokenInfo>> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare("SELECT name, role, created, revoked FROM tokens ORDER BY name")
            .map_err(sql("listing tokens"))?;
        let rows = stmt
            .query_map([], |r| {
                let role: String = r.get(1)?;
                let created: String = r.get(2)?;
                let revoked: Option<String> = r.get(3)?;
                Ok((r.get::<_, String>(0)?, role, created, revoked))
            })
            .map_err(sql("listing tokens"))?;
        let mut out = Vec::new();
        for row in rows {
            let (name, role, created, revoked) = row.map_err(sql("listing tokens"))?;
            out.push(TokenInfo {
                name,
                role: role.parse()?,
                created: parse_time(&created).map_err(sql("reading a token's time"))?,
                revoked: revoked
                    .as_deref()
                    .map(parse_time)
                    .transpose()
                    .map_err(sql("reading a token's time"))?,
            });
        }
        Ok(out)
    }

    /// Revokes a token; the next request carrying it is refused.
    pub fn revoke_token(&self, name: &str) -> Result<()> {
        let changed = self
            .conn()?
            .execute(
                "UPDATE tokens SET revoked = ?2 WHERE name = ?1 AND revoked IS NULL",
                params![name, now()],
            )
            .map_err(sql("revoking the token"))?;
        self.tokens_changed();
        if changed == 0 {
            return Err(StoreError::NotFound(format!(
                "no active token named {name:?}"
            )));
        }
        Ok(())
    }

    /// Whether at least one admin token is active (the server's condition for a non-loopback address).
    pub fn has_admin(&self) -> Result<bool> {
        let n: i64 = self
            .conn()?
            .query_row(
                "SELECT COUNT(*) FROM tokens WHERE role = 'admin' AND revoked IS NULL",
                [],
                |r| r.get(0),
            )
            .map_err(sql("counting admin tokens"))?;
        Ok(n > 0)
    }

    /// The active token whose secret this is, compared by hash in constant time.
    pub fn authenticate(&self, secret: &str) -> Result<Option<TokenInfo>> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let hash = hash_token(secret);
        {
            let tokens = self.tokens.lock().map_err(|_| StoreError::Poisoned)?;
            if let Some(cache) = tokens
                .as_ref()
                .filter(|t| t.checked.elapsed() < TOKEN_RECHECK)
            {
                return Ok(cache.find(&hash));
            }
        }
        let conn = self.conn()?;
        let data_version: i64 = conn
            .prepare_cached("PRAGMA data_version")
            .and_then(|mut q| q.query_row([], |r| r.get(0)))
            .map_err(sql("checking the database for changes"))?;
        let mut tokens = self.tokens.lock().map_err(|_| StoreError::Poisoned)?;
        match tokens.as_mut() {
            Some(cache) if cache.data_version == data_version => {
                cache.checked = std::time::Instant::now();
            }
            _ => {
                *tokens = Some(TokenCache {
                    data_version,
                    checked: std::time::Instant::now(),
                    by_hash: active_tokens(&conn)?,
                });
            }
        }
        Ok(tokens.as_ref().and_then(|t| t.find(&hash)))
    }

    /// Signs a browser in with an API token: a new session whose cookie secret is returned once (only its
    /// hash is stored), bound to the token, so revoking the token ends its sessions.
    pub fn create_session(
        &self,
        secret: &str,
        lifetime: chrono::Duration,
    ) -> Result<Option<NewSession>> {
        let Some(token) = self.authenticate(secret)? else {
            return Ok(None);
        };
        let cookie = format!("{SESSION_PREFIX}{}", hex(&random_bytes::<32>()?));
        let csrf = hex(&random_bytes::<16>()?);
        let created = Utc::now();
        let conn = self.conn()?;
        conn.execute(
            "DELETE FROM sessions WHERE expires < ?1",
            params![created.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)],
        )
        .map_err(sql("removing expired sessions"))?;
        conn.execute(
            "INSERT INTO sessions (hash, token, csrf, created, expires) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                hash_token(&cookie),
                token.name,
                csrf,
                created.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                (created + lifetime).to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            ],
        )
        .map_err(sql("storing the session"))?;
        Ok(Some(NewSession {
            cookie,
            csrf,
            token,
        }))
    }

    /// The live session of this cookie secret and its token, if neither expired nor revoked.
    pub fn session(&self, cookie: &str) -> Result<Option<Session>> {
        if !cookie.starts_with(SESSION_PREFIX) {
            return Ok(None);
        }
        let conn = self.conn()?;
        let found = conn
            .prepare_cached(
                "SELECT t.name, t.role, t.created, s.csrf, s.hash FROM sessions s JOIN tokens t
                 ON t.name = s.token WHERE s.hash = ?1 AND s.expires > ?2 AND t.revoked IS NULL",
            )
            .and_then(|mut q| {
                q.query_row(params![hash_token(cookie), now()], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                })
                .optional()
            })
            .map_err(sql("reading the session"))?;
        let Some((name, role, created, csrf, hash)) = found else {
            return Ok(None);
        };
        // The lookup went by hash; compare once more in constant time.
        if !bool::from(hash.as_bytes().ct_eq(hash_token(cookie).as_bytes())) {
            return Ok(None);
        }
        Ok(Some(Session {
            token: TokenInfo {
                name,
                role: role.parse()?,
                created: parse_time(&created).map_err(sql("reading a token's time"))?,
                revoked: None,
            },
            csrf,
        }))
    }

    /// Signs a browser out.
    pub fn end_session(&self, cookie: &str) -> Result<()> {
        self.conn()?
            .execute(
                "DELETE FROM sessions WHERE hash = ?1",
                params![hash_token(cookie)],
            )
            .map_err(sql("ending the session"))?;
        Ok(())
    }

    /// Forgets the token table read into memory (after this connection changed it).
    fn tokens_changed(&self) {
        if let Ok(mut tokens) = self.tokens.lock() {
            *tokens = None;
        }
    }

    pub fn audit(&self, record: &AuditRecord) -> Result<()> {
        self.conn()?
            .execute(
                "INSERT INTO audit (time, token, role, method, route, target, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    now(),
                    record.token,
                    record.role.map(Role::as_str),
                    record.method,
                    record.route,
                    record.target,
                    record.status
                ],
            )
            .map_err(sql("writing the audit log"))?;
        Ok(())
    }

    /// Audit entries, newest first: at most `limit`, with ids below `before` when given.
    pub fn audit_list(&self, limit: u32, before: Option<i64>) -> Result<Vec<AuditEntry>> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare(
                "SELECT id, time, token, role, method, route, target, status FROM audit
                 WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
            )
            .map_err(sql("reading the audit log"))?;
        let rows = stmt
            .query_map(params![before.unwrap_or(i64::MAX), limit], |r| {
                let time: String = r.get(1)?;
                let role: Option<String> = r.get(3)?;
                Ok((
                    AuditEntry {
                        id: r.get(0)?,
                        time: parse_time(&time)?,
                        token: r.get(2)?,
                        role: None,
                        method: r.get(4)?,
                        route: r.get(5)?,
                        target: r.get(6)?,
                        status: r.get(7)?,
                    },
                    role,
                ))
            })
            .map_err(sql("reading the audit log"))?;
        let mut out = Vec::new();
        for row in rows {
            let (mut entry, role) = row.map_err(sql("reading the audit log"))?;
            entry.role = role.as_deref().map(str::parse).transpose()?;
            out.push(entry);
        }
        Ok(out)
    }

    pub fn job_insert(&self, kind: &str, request: &serde_json::Value, token: &str) -> Result<i64> {
        let conn = self.conn()?;
        conn.execute(
            "INSERT INTO jobs (kind, state, request, token, created, pid) VALUES (?1, 'queued', ?2, ?3, ?4, ?5)",
            params![kind, request.to_string(), token, now(), std::process::id()],
        )
        .map_err(sql("recording a job"))?;
        Ok(conn.last_insert_rowid())
    }

    pub fn job_started(&self, id: i64) -> Result<()> {
        self.conn()?
            .execute(
                "UPDATE jobs SET state = 'running', started = ?2 WHERE id = ?1 AND state = 'queued'",
                params![id, now()],
            )
            .map_err(sql("updating a job"))?;
        Ok(())
    }

    pub fn job_finished(
        &self,
        id: i64,
        state: JobState,
        result: Option<&serde_json::Value>,
        error: Option<&str>,
    ) -> Result<()> {
        self.conn()?
            .execute(
                "UPDATE jobs SET state = ?2, result = ?3, error = ?4, finished = ?5 WHERE id = ?1",
                params![
                    id,
                    state.as_str(),
                    result.map(ToString::to_string),
                    error,
                    now()
                ],
            )
            .map_err(sql("updating a job"))?;
        Ok(())
    }

    /// Marks every job left queued or running by a server that stopped (killed, crashed) failed; returns
    /// how many. Jobs of another server that is running on the same home are left alone.
    pub fn fail_unfinished_jobs(&self) -> Result<usize> {
        let mut guard = self.conn()?;
        let tx = guard
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql("closing unfinished jobs"))?;
        let abandoned: Vec<i64> = {
            let mut stmt = tx
                .prepare("SELECT id, pid FROM jobs WHERE state IN ('queued', 'running')")
                .map_err(sql("closing unfinished jobs"))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, Option<u32>>(1)?))
                })
                .map_err(sql("closing unfinished jobs"))?;
            let mut out = Vec::new();
            for row in rows {
                let (id, pid) = row.map_err(sql("closing unfinished jobs"))?;
                if !owned_by_another_live_server(pid) {
                    out.push(id);
                }
            }
            out
        };
        let finished = now();
        for id in &abandoned {
            tx.execute(
                "UPDATE jobs SET state = 'failed', error = ?2, finished = ?3
                 WHERE id = ?1 AND state IN ('queued', 'running')",
                params![id, INTERRUPTED, finished],
            )
            .map_err(sql("closing unfinished jobs"))?;
        }
        tx.commit().map_err(sql("closing unfinished jobs"))?;
        Ok(abandoned.len())
    }

    /// The live server process, other than this one, that runs job `id`, if any.
    pub fn job_elsewhere(&self, id: i64) -> Result<Option<u32>> {
        let pid: Option<Option<u32>> = self
            .conn()?
            .query_row("SELECT pid FROM jobs WHERE id = ?1", params![id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(sql("reading a job"))?;
        Ok(pid
            .flatten()
            .filter(|&p| owned_by_another_live_server(Some(p))))
    }

    fn job_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(JobRecord, String)> {
        let json = |i: usize| -> rusqlite::Result<Option<serde_json::Value>> {
            let text: Option<String> = r.get(i)?;
            text.map(|t| {
                serde_json::from_str(&t).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        i,
                        rusqlite::types::Type::Text,
                        Box::new(e),
                    )
                })
            })
            .transpose()
        };
        let time = |i: usize| -> rusqlite::Result<Option<DateTime<Utc>>> {
            let text: Option<String> = r.get(i)?;
            text.as_deref().map(parse_time).transpose()
        };
        let state: String = r.get(2)?;
        Ok((
            JobRecord {
                id: r.get(0)?,
                kind: r.get(1)?,
                state: JobState::Queued,
                request: json(3)?.unwrap_or(serde_json::Value::Null),
                result: json(4)?,
                error: r.get(5)?,
                token: r.get(6)?,
                created: time(7)?.unwrap_or_default(),
                started: time(8)?,
                finished: time(9)?,
            },
            state,
        ))
    }

    const JOB_COLUMNS: &'static str =
        "id, kind, state, request, result, error, token, created, started, finished";

    pub fn job_get(&self, id: i64) -> Result<JobRecord> {
        let conn = self.conn()?;
        let row = conn
            .query_row(
                &format!("SELECT {} FROM jobs WHERE id = ?1", Self::JOB_COLUMNS),
                params![id],
                Self::job_from_row,
            )
            .optional()
            .map_err(sql("reading a job"))?;
        let Some((mut job, state)) = row else {
            return Err(StoreError::NotFound(format!("no job {id}")));
        };
        job.state = JobState::parse(&state)?;
        Ok(job)
    }

    /// Jobs newest first, at most `limit`, with ids below `before` when given.
    pub fn job_list(&self, limit: u32, before: Option<i64>) -> Result<Vec<JobRecord>> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {} FROM jobs WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
                Self::JOB_COLUMNS
            ))
            .map_err(sql("listing jobs"))?;
        let rows = stmt
            .query_map(
                params![before.unwrap_or(i64::MAX), limit],
                Self::job_from_row,
            )
            .map_err(sql("listing jobs"))?;
        let mut out = Vec::new();
        for row in rows {
            let (mut job, state) = row.map_err(sql("listing jobs"))?;
            job.state = JobState::parse(&state)?;
            out.push(job);
        }
        Ok(out)
    }

    /// How many jobs are in each state (for /metrics).
    pub fn job_counts(&self) -> Result<Vec<(JobState, i64)>> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare("SELECT state, COUNT(*) FROM jobs GROUP BY state")
            .map_err(sql("counting jobs"))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .map_err(sql("counting jobs"))?;
        let mut out = Vec::new();
        for row in rows {
            let (state, n) = row.map_err(sql("counting jobs"))?;
            out.push((JobState::parse(&state)?, n));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stored_hashed_and_revocable() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let made = store.create_token("mes", Role::Operator).unwrap();
        assert!(made.token.starts_with(TOKEN_PREFIX));
        assert_eq!(made.token.len(), TOKEN_PREFIX.len() + 64);
        let raw = std::fs::read(dir.path().join(DB_FILE)).unwrap();
        let needle = made.token.as_bytes();
        assert!(
            !raw.windows(needle.len()).any(|w| w == needle),
            "secret stored in clear"
        );
        let who = store.authenticate(&made.token).unwrap().unwrap();
        assert_eq!((who.name.as_str(), who.role), ("mes", Role::Operator));
        assert!(store.authenticate("mw_0000").unwrap().is_none());
        assert!(!store.has_admin().unwrap());
        store.revoke_token("mes").unwrap();
        assert!(store.authenticate(&made.token).unwrap().is_none());
        assert!(matches!(
            store.revoke_token("mes"),
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            store.create_token("../x", Role::Admin),
            Err(StoreError::Invalid(_))
        ));
    }

    #[test]
    fn hex_is_lower_case_two_digits_a_byte() {
        let bytes = [0u8, 9, 10, 255, 0x3c];
        let expected: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex(&bytes), expected);
        assert_eq!(hex(&bytes), "00090aff3c");
    }

    #[test]
    fn a_revoke_by_another_connection_is_seen_within_the_recheck_time() {
        let dir = tempfile::tempdir().unwrap();
        let server = Store::open(dir.path()).unwrap();
        let cli = Store::open(dir.path()).unwrap();
        let made = cli.create_token("mes", Role::Operator).unwrap();
        assert!(server.authenticate(&made.token).unwrap().is_some());
        cli.revoke_token("mes").unwrap();
        std::thread::sleep(TOKEN_RECHECK);
        assert!(server.authenticate(&made.token).unwrap().is_none());
        let again = cli.create_token("scada", Role::Viewer).unwrap();
        std::thread::sleep(TOKEN_RECHECK);
        let who = server.authenticate(&again.token).unwrap().unwrap();
        assert_eq!(who.role, Role::Viewer);
    }

    #[test]
    fn unfinished_jobs_are_failed_on_restart() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let a = store
            .job_insert("train", &serde_json::json!({"x": 1}), "t")
            .unwrap();
        let b = store
            .job_insert("train", &serde_json::json!({}), "t")
            .unwrap();
        store.job_started(a).unwrap();
        store
            .job_finished(b, JobState::Succeeded, Some(&serde_json::json!(3)), None)
            .unwrap();
        // A job of another server that is running on the same home (pid 1 is always alive) is its own.
        let c = store
            .job_insert("ingest", &serde_json::json!({}), "t")
            .unwrap();
        store.job_started(c).unwrap();
        store
            .conn()
            .unwrap()
            .execute("UPDATE jobs SET pid = 1 WHERE id = ?1", params![c])
            .unwrap();
        let live_elsewhere = process_alive(1) == Some(true);
        assert_eq!(
            store.fail_unfinished_jobs().unwrap(),
            if live_elsewhere { 1 } else { 2 }
        );
        if live_elsewhere {
            assert_eq!(store.job_get(c).unwrap().state, JobState::Running);
            assert_eq!(store.job_elsewhere(c).unwrap(), Some(1));
            assert_eq!(store.job_elsewhere(a).unwrap(), None);
        }
        let job = store.job_get(a).unwrap();
        assert_eq!(job.state, JobState::Failed);
        assert_eq!(job.error.as_deref(), Some(INTERRUPTED));
        assert_eq!(store.job_get(b).unwrap().result, Some(serde_json::json!(3)));
        let page = store.job_list(1, Some(c)).unwrap();
        assert_eq!(page[0].id, b);
        assert_eq!(store.job_list(10, Some(b)).unwrap()[0].id, a);
    }
}
