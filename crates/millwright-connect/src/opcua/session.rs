//! Opening an OPC UA session: endpoint, security, certificates, and what its event loop reports.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use opcua::client::transport::TcpConnector;
use opcua::client::{
    ClientBuilder, IdentityToken, Session, SessionConnectMode, SessionEventLoop, SessionPollResult,
};
use opcua::crypto::SecurityPolicy;
use opcua::types::MessageSecurityMode;

use crate::error::ConnectError;
use crate::mqtt::{ConnectEvent, ConnectObserver};

/// Message security of the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    None,
    /// Basic256Sha256, signed and encrypted: the server's certificate must be trusted.
    Basic256Sha256,
}

impl std::str::FromStr for Security {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text.to_ascii_lowercase().as_str() {
            "none" => Ok(Security::None),
            "basic256sha256" => Ok(Security::Basic256Sha256),
            other => Err(format!(
                "security {other:?} is not offered; use none or basic256sha256"
            )),
        }
    }
}

#[derive(Debug, Clone)]
pub struct OpcuaEndpoint {
    /// `opc.tcp://HOST:PORT[/PATH]`.
    pub url: String,
    pub security: Security,
    /// The client's own certificate and the servers it trusts (`trusted/`) or has refused (`rejected/`).
    pub pki_dir: PathBuf,
    /// Trust the server's certificate the first time it is seen (and keep it); off, a new server is refused
    /// until its certificate is moved from `rejected/` to `trusted/`.
    pub trust_server: bool,
    /// User name and password; `None`: anonymous.
    pub user: Option<(String, String)>,
}

/// What the session's watcher tells the connector.
#[derive(Default)]
pub struct SessionSignals {
    /// The server had lost the session (it restarted): subscribe again in a fresh one.
    pub renew: tokio::sync::Notify,
    /// The first connection was refused for a reason retrying cannot fix (certificate, identity).
    pub refused_now: tokio::sync::Notify,
    pub refused: std::sync::Mutex<Option<String>>,
}

impl SessionSignals {
    /// Why the first connection was refused, explained for the endpoint.
    pub fn refusal(&self, endpoint: &OpcuaEndpoint) -> Option<String> {
        let reason = self
            .refused
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()?;
        Some(explain(&reason, endpoint))
    }
}

/// Reconnect backoff: quick the first time, at most every 10 s while the server stays away.
const RETRY_FIRST: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(10);
/// How long the first connection may take before the connector gives up and says so.
pub(crate) const FIRST_CONNECT: Duration = Duration::from_secs(15);

/// Opens a session to the endpoint; the caller runs the event loop (see [`watch`]).
pub async fn connect(
    endpoint: &OpcuaEndpoint,
) -> Result<(Arc<Session>, SessionEventLoop<TcpConnector>), ConnectError> {
    if !endpoint.url.starts_with("opc.tcp://") {
        return Err(ConnectError::OpcuaConnect {
            url: endpoint.url.clone(),
            reason: "write opc.tcp://HOST:PORT".into(),
        });
    }
    let mut client = ClientBuilder::new()
        .application_name("Millwright")
        .application_uri("urn:millwright:connector")
        .product_uri("urn:millwright")
        .pki_dir(&endpoint.pki_dir)
        .create_sample_keypair(true)
        .trust_server_certs(endpoint.trust_server)
        .session_retry_limit(-1)
        .session_retry_initial(RETRY_FIRST)
        .session_retry_max(RETRY_MAX)
        // A lost session's subscriptions are made again by the connector in a fresh session.
        .recreate_subscriptions(false)
        .session_timeout(60_000)
        .client()
        .map_err(|errors| ConnectError::OpcuaConnect {
            url: endpoint.url.clone(),
            reason: errors.join("; "),
        })?;
    if endpoint.trust_server {
        forget_refusal(&client, endpoint).await;
    }
    let (policy, mode) = match endpoint.security {
        Security::None => (SecurityPolicy::None, MessageSecurityMode::None),
        Security::Basic256Sha256 => (
            SecurityPolicy::Basic256Sha256,
            MessageSecurityMode::SignAndEncrypt,
        ),
    };
    let identity = match &endpoint.user {
        Some((user, password)) => IdentityToken::UserName(user.clone(), password.clone().into()),
        None => IdentityToken::Anonymous,
    };
    // The client retries a server that does not answer for ever; at start, that is an error to report.
    let opened = client
        .connect_to_matching_endpoint((endpoint.url.as_str(), policy.to_str(), mode), identity);
    match tokio::time::timeout(FIRST_CONNECT, opened).await {
        Ok(opened) => opened.map_err(|e| ConnectError::OpcuaConnect {
            url: endpoint.url.clone(),
            reason: explain(&e.to_string(), endpoint),
        }),
        Err(_) => Err(ConnectError::OpcuaConnect {
            url: endpoint.url.clone(),
            reason: format!(
                "no answer within {} s (is the server running, and is the address right?)",
                FIRST_CONNECT.as_secs()
            ),
        }),
    }
}

/// Trusting on first use after a refusal: the store checks `rejected/` before anything else, so the
/// server's certificate is taken out of it (the user asked to trust this server).
async fn forget_refusal(client: &opcua::client::Client, endpoint: &OpcuaEndpoint) {
    let Ok(Ok(endpoints)) = tokio::time::timeout(
        FIRST_CONNECT,
        client.get_server_endpoints_from_url(endpoint.url.as_str()),
    )
    .await
    else {
        return;
    };
    for description in endpoints {
        if let Ok(cert) = opcua::crypto::X509::from_byte_string(&description.server_certificate) {
            let name = opcua::crypto::CertificateStore::cert_file_name(&cert);
            let _ = std::fs::remove_file(endpoint.pki_dir.join("rejected").join(name));
        }
    }
}

fn explain(error: &str, endpoint: &OpcuaEndpoint) -> String {
    if error.contains("BadCertificate") || error.contains("BadSecurityChecksFailed") {
        return format!(
            "{error}: the server's certificate is not trusted; check it and move it from {} to {}, \
             or pass --trust-server to trust it on first use",
            endpoint.pki_dir.join("rejected").display(),
            endpoint.pki_dir.join("trusted").display()
        );
    }
    if error.contains("no matching endpoint") || error.contains("BadSecurityPolicyRejected") {
        return format!("{error}: the server offers no endpoint with this security");
    }
    error.to_string()
}

/// Runs the session's event loop, telling the observer when the connection drops and comes back (the
/// loop reconnects by itself), and the connector through `signals`.
pub async fn watch(
    event_loop: SessionEventLoop<TcpConnector>,
    observer: Arc<dyn ConnectObserver>,
    signals: Arc<SessionSignals>,
) {
    let stream = event_loop.enter();
    futures::pin_mut!(stream);
    // The loop reports its first connection as a reconnection too; only later new sessions need renewal.
    let mut first = true;
    while let Some(polled) = stream.next().await {
        match polled {
            Ok(SessionPollResult::Reconnected(mode)) => {
                let resumed = matches!(mode, SessionConnectMode::ReactivatedSession(_));
                observer.event(ConnectEvent::Connected {
                    session_present: resumed,
                });
                if !resumed && !first {
                    signals.renew.notify_one();
                }
                first = false;
            }
            Ok(SessionPollResult::ConnectionLost(status)) => {
                observer.event(ConnectEvent::ConnectionLost {
                    reason: status.sub_code().name().to_string(),
                    retry_in_ms: RETRY_FIRST.as_millis() as u64,
                });
            }
            Ok(SessionPollResult::ReconnectFailed(status)) => {
                let reason = status.sub_code().name().to_string();
                let certificate = reason.starts_with("BadCertificate")
                    || reason == "BadSecurityChecksFailed"
                    || reason == "BadIdentityTokenRejected";
                if first && certificate {
                    // Retrying cannot fix trust: the first session fails with why.
                    *signals
                        .refused
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(reason);
                    signals.refused_now.notify_one();
                    return;
                }
                observer.event(ConnectEvent::ReconnectFailed { reason });
            }
            Ok(_) => {}
            Err(status) => {
                observer.event(ConnectEvent::ConnectionLost {
                    reason: format!("the session ended: {}", status.sub_code().name()),
                    retry_in_ms: 0,
                });
                return;
            }
        }
    }
}
