//! Errors of the connectors.

use std::path::PathBuf;

/// A mapping file that cannot be used, with where in it the problem is.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", path.display())]
pub struct MappingError {
    pub path: PathBuf,
    /// 1-based line and column of the problem.
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl MappingError {
    /// The error at `span` (a byte range of `text`; `None`: the file's start), with its line and column.
    pub fn at(
        text: &str,
        path: &std::path::Path,
        span: Option<std::ops::Range<usize>>,
        message: String,
    ) -> MappingError {
        let (line, column) = crate::mapping::line_column(text, span.map_or(0, |s| s.start));
        MappingError {
            path: path.to_path_buf(),
            line,
            column,
            message,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot read the mapping file {}: {source}", path.display())]
    ReadMapping {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Mapping(#[from] MappingError),
    #[error(transparent)]
    Modbus(#[from] crate::modbus::ModbusError),
    #[error("broker address {url:?} is not usable: {reason}")]
    BrokerUrl { url: String, reason: String },
    #[error("topic filter {filter:?} is not valid: {reason}")]
    TopicFilter { filter: String, reason: String },
    #[error("QoS must be 0, 1 or 2, not {qos}")]
    Qos { qos: u8 },
    #[error("the broker refused the credentials of user {user:?}")]
    Credentials { user: String },
    #[error("the broker refused an anonymous connection: it wants a user name and password")]
    Anonymous,
    #[error("{}: {reason}", path.display())]
    TlsFile { path: PathBuf, reason: String },
    #[error("TLS with the broker {url}: {reason}")]
    Certificate { url: String, reason: String },
    #[error("the broker refused the connection: {reason}")]
    Refused { reason: String },
    #[error("reading the recent message keys from the store: {source}")]
    RecentKeys {
        #[source]
        source: crate::mqtt::StoreError,
    },
    #[error("the store could not commit the messages held; none was acknowledged, so the broker sends them again: {source}")]
    Commit {
        #[source]
        source: crate::mqtt::StoreError,
    },
    #[error("acknowledging messages to the broker: {source}")]
    Ack {
        #[source]
        source: rumqttc::ClientError,
    },
    #[error("the acknowledging task ended abnormally: {source}")]
    AckTask {
        #[source]
        source: tokio::task::JoinError,
    },
    #[error("the OPC UA connector needs tokio's multi-thread runtime (it waits in a synchronous callback)")]
    Runtime,
    #[error("cannot open an OPC UA session to {url}: {reason}")]
    OpcuaConnect { url: String, reason: String },
    #[error("{what} on the OPC UA server: {reason}")]
    OpcuaService { what: String, reason: String },
}
