//! The MQTT connector: a persistent session, manual acknowledgements sent only after the store commits.
//!
//! Two tasks: the network task polls rumqttc's event loop (pings, reconnects, resubscribes on every ConnAck)
//! and forwards messages; the committer maps them, commits every N rows or T ms, then hands the messages to
//! an ack task. The ack task is its own so the committer never waits on rumqttc's request channel while the
//! network task waits on the committer.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rumqttc::{
    AsyncClient, ConnectReturnCode, Event, Incoming, Outgoing, Publish, QoS, SubscribeReasonCode,
};
use serde::Serialize;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::error::ConnectError;
use crate::mapping::{Mapping, Reading, Rejected};
use crate::recent::RecentKeys;
use crate::security::Security;
use crate::sparkplug::{self, Sparkplug};

/// An error of the store, kept whole for the caller.
pub type StoreError = Box<dyn std::error::Error + Send + Sync>;

/// Commits remembered for recognising redeliveries: acks go out right after each commit, so only messages of
/// the last few commits can come back.
pub const RECENT_COMMITS: usize = 64;

/// What one commit holds.
#[derive(Debug, Default)]
pub struct Flush {
    pub readings: Vec<Reading>,
    pub rejected: Vec<Rejected>,
    /// Keys of the messages the readings came from, and of the rejected ones.
    pub reading_keys: Vec<u64>,
    pub rejected_keys: Vec<u64>,
}

/// Where readings are kept. A commit is atomic: after `commit` returns Ok, everything in the flush is durable.
pub trait Store: Send {
    /// Message keys of the last `commits` commits, oldest first.
    fn recent_keys(
        &mut self,
        commits: usize,
    ) -> impl Future<Output = Result<Vec<Vec<u64>>, StoreError>> + Send;
    /// Stores a flush; returns the version of the readings' commit, when there was one.
    fn commit(
        &mut self,
        flush: &Flush,
    ) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send;
}

/// What the connector tells its observer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ConnectEvent {
    Connected {
        session_present: bool,
    },
    Subscribed {
        filters: Vec<String>,
    },
    SubscribeRefused {
        filter: String,
    },
    /// The connection dropped; the connector reconnects by itself.
    ConnectionLost {
        reason: String,
        retry_in_ms: u64,
    },
    Committed {
        version: Option<i64>,
        messages: u64,
        readings: u64,
        rejected: u64,
        duplicates: u64,
        total_messages: u64,
        total_readings: u64,
    },
    /// A reconnect attempt failed; the connector keeps trying.
    ReconnectFailed {
        reason: String,
    },
    /// A sampled connector watches this many items (OPC UA nodes, Modbus registers); `polling_ms` when it
    /// reads them on a clock rather than by subscription.
    Monitoring {
        items: u64,
        refused: u64,
        polling_ms: Option<u64>,
    },
    /// A commit failed: nothing of it is acknowledged, and it is tried again.
    CommitFailed {
        reason: String,
    },
}

pub trait ConnectObserver: Send + Sync {
    fn event(&self, event: ConnectEvent);
}

#[derive(Debug, Clone)]
pub struct MqttConfig {
    /// `mqtt://HOST[:PORT]` (or `tcp://`).
    pub url: String,
    pub filters: Vec<String>,
    pub qos: u8,
    /// Stable across runs, so the broker keeps the session (and the messages) while the connector is down.
    pub client_id: String,
    pub commit_rows: usize,
    pub commit_every: Duration,
    pub mapping: Mapping,
    /// User name and password, TLS files (for `mqtts://`).
    pub security: Security,
}

/// Totals of one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MqttOutcome {
    pub messages: u64,
    pub readings: u64,
    pub rejected: u64,
    pub duplicates: u64,
    pub commits: u64,
}

/// A message's identity across redeliveries: its topic and payload (which holds the device's timestamp when
/// it sends one). The packet id is reused by the broker and the arrival time changes, so neither is in it.
pub fn message_key(topic: &str, payload: &[u8]) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(topic.as_bytes());
    h.update(&[0]);
    h.update(payload);
    h.digest()
}

fn qos(level: u8) -> Result<QoS, ConnectError> {
    match level {
        0 => Ok(QoS::AtMostOnce),
        1 => Ok(QoS::AtLeastOnce),
        2 => Ok(QoS::ExactlyOnce),
        qos => Err(ConnectError::Qos { qos }),
    }
}

/// Host, port and whether the address asks for TLS (`mqtts://`, default port 8883).
fn broker_address(url: &str) -> Result<(String, u16, bool), ConnectError> {
    let bad = |reason: &str| ConnectError::BrokerUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let (rest, tls) = if let Some(rest) = url.strip_prefix("mqtts://") {
        (rest, true)
    } else if let Some(rest) = url
        .strip_prefix("mqtt://")
        .or_else(|| url.strip_prefix("tcp://"))
    {
        (rest, false)
    } else {
        return Err(bad("write mqtt://HOST:PORT, or mqtts://HOST:PORT for TLS"));
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (
            h,
            p.parse::<u16>()
                .map_err(|_| bad("the port is not a number"))?,
        ),
        None => (rest, if tls { 8883 } else { 1883 }),
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    Ok((host.trim_matches(['[', ']']).to_string(), port, tls))
}

enum FromNetwork {
    Message(Publish, i64),
    Refused(ConnectReturnCode),
    /// A TLS failure that retrying cannot mend, in words.
    Certificate(String),
}

fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// Runs until `shutdown` completes, then commits what it holds, acknowledges it and disconnects.
pub async fn run<S: Store>(
    config: MqttConfig,
    store: &mut S,
    observer: Arc<dyn ConnectObserver>,
    shutdown: impl Future<Output = ()>,
) -> Result<MqttOutcome, ConnectError> {
    let level = qos(config.qos)?;
    if config.filters.is_empty() {
        return Err(ConnectError::TopicFilter {
            filter: String::new(),
            reason: "give at least one topic filter".into(),
        });
    }
    for f in &config.filters {
        if !rumqttc::valid_filter(f) {
            return Err(ConnectError::TopicFilter {
                filter: f.clone(),
                reason: "wildcards are `+` for one level and `#` for the rest, as whole levels"
                    .into(),
            });
        }
    }
    let (host, port, tls) = broker_address(&config.url)?;
    let transport = match (tls, &config.security.tls) {
        (true, Some(files)) => Some(crate::security::transport(files)?),
        (true, None) => {
            return Err(ConnectError::BrokerUrl {
                url: config.url.clone(),
                reason:
                    "mqtts:// needs the PEM file of the CA that signed the broker's certificate"
                        .into(),
            })
        }
        (false, _) => None,
    };
    let commit_rows = config.commit_rows.max(1);
    let mut recent = RecentKeys::new(RECENT_COMMITS);
    for keys in store
        .recent_keys(RECENT_COMMITS)
        .await
        .map_err(|source| ConnectError::RecentKeys { source })?
    {
        recent.push_commit(keys);
    }

    let mut options = rumqttc::MqttOptions::new(config.client_id.clone(), host, port);
    options
        .set_clean_session(false)
        .set_manual_acks(true)
        .set_keep_alive(Duration::from_secs(30))
        .set_max_packet_size(1 << 20, 1 << 20);
    if let Some(transport) = transport {
        options.set_transport(transport);
    }
    if let Some(login) = &config.security.login {
        options.set_credentials(login.username.clone(), login.password.clone());
    }
    // Room for one flush of acks plus the subscriptions, so acks rarely wait on the channel.
    let (client, eventloop) = AsyncClient::new(options, commit_rows + 64);
    let (to_committer, mut from_network) = mpsc::channel::<FromNetwork>(1024);
    let network = tokio::spawn(network_task(
        eventloop,
        client.clone(),
        config.filters.clone(),
        level,
        to_committer,
        observer.clone(),
    ));
    let (to_acker, mut acks) = mpsc::unbounded_channel::<Vec<Publish>>();
    let acker_client = client.clone();
    let acker = tokio::spawn(async move {
        while let Some(batch) = acks.recv().await {
            for publish in &batch {
                acker_client.ack(publish).await?;
            }
        }
        Ok::<(), rumqttc::ClientError>(())
    });

    let mut outcome = MqttOutcome::default();
    let mut buffer = Buffer::default();
    // Outlives the buffers: DATA after a commit still needs the aliases of the BIRTH before it.
    let mut sparkplug = Sparkplug::default();
    let mut deadline: Option<Instant> = None;
    let mut refused = None;
    let mut certificate = None;
    let mut failed: Option<StoreError> = None;
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
            msg = from_network.recv() => match msg {
                Some(FromNetwork::Message(publish, arrival)) => {
                    buffer.take(publish, arrival, &config.mapping, &mut sparkplug, &recent);
                    deadline.get_or_insert_with(|| Instant::now() + config.commit_every);
                    if buffer.flush.readings.len() < commit_rows && buffer.acks.len() < commit_rows {
                        continue;
                    }
                }
                Some(FromNetwork::Refused(reason)) => { refused = Some(reason); break }
                Some(FromNetwork::Certificate(reason)) => { certificate = Some(reason); break }
                None => break,
            },
        }
        if !buffer.is_empty() {
            let stop = Some(&mut shutdown);
            if let Err(source) = commit(
                &mut buffer,
                store,
                &mut recent,
                &to_acker,
                &*observer,
                &mut outcome,
                stop,
            )
            .await
            {
                // Asked to stop while the store was failing: nothing held is acknowledged.
                failed = Some(source);
                buffer = Buffer::default();
                break;
            }
        }
        deadline = None;
    }
    // Stop taking messages (the broker keeps what is not acknowledged), store what is held, ack, disconnect.
    drop(from_network);
    if !buffer.is_empty() && refused.is_none() && certificate.is_none() {
        let stop: Option<&mut std::future::Pending<()>> = None;
        if let Err(source) = commit(
            &mut buffer,
            store,
            &mut recent,
            &to_acker,
            &*observer,
            &mut outcome,
            stop,
        )
        .await
        {
            failed = Some(source);
        }
    }
    drop(to_acker);
    let acked = acker.await;
    let _ = client.disconnect().await;
    let _ = tokio::time::timeout(Duration::from_secs(5), network).await;
    if let Some(reason) = certificate {
        return Err(ConnectError::Certificate {
            url: config.url.clone(),
            reason,
        });
    }
    if let Some(code) = refused {
        return Err(refusal(code, &config.security));
    }
    if let Some(source) = failed {
        return Err(ConnectError::Commit { source });
    }
    match acked {
        Ok(Ok(())) => Ok(outcome),
        Ok(Err(source)) => Err(ConnectError::Ack { source }),
        Err(source) => Err(ConnectError::AckTask { source }),
    }
}

/// Why the broker said no, in words; a refused login is not retried (the same password fails again).
fn refusal(code: ConnectReturnCode, security: &Security) -> ConnectError {
    match (code, &security.login) {
        (
            ConnectReturnCode::BadUserNamePassword | ConnectReturnCode::NotAuthorized,
            Some(login),
        ) => ConnectError::Credentials {
            user: login.username.clone(),
        },
        (ConnectReturnCode::BadUserNamePassword | ConnectReturnCode::NotAuthorized, None) => {
            ConnectError::Anonymous
        }
        (code, _) => ConnectError::Refused {
            reason: format!("{code:?}"),
        },
    }
}

/// Commit attempts when stopping, before the held messages are left unacknowledged for the broker to resend.
const FINAL_ATTEMPTS: u32 = 5;

/// Commits the buffer (retrying until the store takes it); only then are its messages acknowledged.
async fn commit<S: Store, F: Future<Output = ()> + Unpin>(
    buffer: &mut Buffer,
    store: &mut S,
    recent: &mut RecentKeys,
    to_acker: &mpsc::UnboundedSender<Vec<Publish>>,
    observer: &dyn ConnectObserver,
    outcome: &mut MqttOutcome,
    stop: Option<&mut F>,
) -> Result<(), StoreError> {
    let has_rows = !buffer.flush.readings.is_empty() || !buffer.flush.rejected.is_empty();
    let mut version = None;
    if has_rows {
        version = commit_with_retry(store, &buffer.flush, observer, stop).await?;
        outcome.commits += 1;
    }
    let flush = std::mem::take(&mut buffer.flush);
    let mut keys = flush.reading_keys;
    keys.extend(flush.rejected_keys);
    recent.push_commit(keys);
    let messages = buffer.messages;
    outcome.messages += messages;
    outcome.readings += flush.readings.len() as u64;
    outcome.rejected += flush.rejected.len() as u64;
    outcome.duplicates += buffer.duplicates;
    let _ = to_acker.send(std::mem::take(&mut buffer.acks));
    observer.event(ConnectEvent::Committed {
        version,
        messages,
        readings: flush.readings.len() as u64,
        rejected: flush.rejected.len() as u64,
        duplicates: buffer.duplicates,
        total_messages: outcome.messages,
        total_readings: outcome.readings,
    });
    *buffer = Buffer::default();
    Ok(())
}

/// Commits a flush, retrying with backoff until the store takes it (a full disk is fixed, the lake comes
/// back). With `stop`, gives up when it completes; without, after [`FINAL_ATTEMPTS`].
pub(crate) async fn commit_with_retry<S: Store, F: Future<Output = ()> + Unpin>(
    store: &mut S,
    flush: &Flush,
    observer: &dyn ConnectObserver,
    mut stop: Option<&mut F>,
) -> Result<Option<i64>, StoreError> {
    let mut wait = Duration::from_millis(200);
    let mut attempts = 0;
    loop {
        attempts += 1;
        match store.commit(flush).await {
            Ok(version) => return Ok(version),
            Err(e) => {
                observer.event(ConnectEvent::CommitFailed {
                    reason: error_chain(&*e),
                });
                match stop.as_mut() {
                    // Running: wait and try again, unless asked to stop meanwhile.
                    Some(stop) => {
                        tokio::select! {
                            () = &mut **stop => return Err(e),
                            () = tokio::time::sleep(wait) => {}
                        }
                    }
                    // Stopping: a few more tries, then give up (MQTT leaves the messages to the broker).
                    None if attempts >= FINAL_ATTEMPTS => return Err(e),
                    None => tokio::time::sleep(wait).await,
                }
                wait = (wait * 2).min(Duration::from_secs(5));
            }
        }
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

#[derive(Default)]
struct Buffer {
    flush: Flush,
    /// Every message taken since the last commit, duplicates included: all are acknowledged after it.
    acks: Vec<Publish>,
    keys: HashSet<u64>,
    messages: u64,
    duplicates: u64,
}

impl Buffer {
    fn is_empty(&self) -> bool {
        self.acks.is_empty()
    }

    fn take(
        &mut self,
        publish: Publish,
        arrival_us: i64,
        mapping: &Mapping,
        sparkplug: &mut Sparkplug,
        recent: &RecentKeys,
    ) {
        let key = message_key(&publish.topic, &publish.payload);
        let is_sparkplug = sparkplug::is_sparkplug(&publish.topic);
        // Only a redelivery (DUP set) or a retained copy can repeat a stored message; two equal fresh
        // messages (a plain number read twice) are two readings.
        let seen = recent.contains(key) || self.keys.contains(&key);
        if (publish.dup || publish.retain) && seen {
            // A redelivered BIRTH still names the aliases of the DATA after it.
            if is_sparkplug {
                sparkplug.observe(&publish.topic, &publish.payload);
            }
            self.duplicates += 1;
            self.acks.push(publish);
            return;
        }
        self.keys.insert(key);
        self.messages += 1;
        if is_sparkplug {
            let decoded = sparkplug.decode(&publish.topic, &publish.payload, arrival_us);
            if !decoded.readings.is_empty() {
                self.flush.readings.extend(decoded.readings);
                self.flush.reading_keys.push(key);
            }
            if !decoded.rejected.is_empty() {
                self.flush.rejected.extend(decoded.rejected);
                self.flush.rejected_keys.push(key);
            }
            self.acks.push(publish);
            return;
        }
        match mapping.decode(&publish.topic, &publish.payload, arrival_us) {
            Ok(readings) => {
                self.flush.readings.extend(readings);
                self.flush.reading_keys.push(key);
            }
            Err(rejected) => {
                self.flush.rejected.push(rejected);
                self.flush.rejected_keys.push(key);
            }
        }
        self.acks.push(publish);
    }
}

const RECONNECT_FIRST: Duration = Duration::from_millis(250);
const RECONNECT_MAX: Duration = Duration::from_secs(10);

async fn network_task(
    mut eventloop: rumqttc::EventLoop,
    client: AsyncClient,
    filters: Vec<String>,
    level: QoS,
    to_committer: mpsc::Sender<FromNetwork>,
    observer: Arc<dyn ConnectObserver>,
) {
    let mut forwarding = true;
    let mut pending_filters: Vec<String> = Vec::new();
    // Doubles while the broker stays away (a line each time, not two a second); back to the start on ConnAck.
    let mut backoff = RECONNECT_FIRST;
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Incoming::ConnAck(ack))) => {
                backoff = RECONNECT_FIRST;
                observer.event(ConnectEvent::Connected {
                    session_present: ack.session_present,
                });
                // rumqttc forgets subscriptions silently on a clean reconnect: subscribe every time.
                let (client, filters) = (client.clone(), filters.clone());
                pending_filters.clone_from(&filters);
                tokio::spawn(async move {
                    let subs = filters
                        .into_iter()
                        .map(|f| rumqttc::SubscribeFilter::new(f, level));
                    let _ = client.subscribe_many(subs).await;
                });
            }
            Ok(Event::Incoming(Incoming::SubAck(ack))) => {
                let refused: Vec<String> = ack
                    .return_codes
                    .iter()
                    .zip(&pending_filters)
                    .filter(|(code, _)| matches!(code, SubscribeReasonCode::Failure))
                    .map(|(_, f)| f.clone())
                    .collect();
                for filter in &refused {
                    observer.event(ConnectEvent::SubscribeRefused {
                        filter: filter.clone(),
                    });
                }
                observer.event(ConnectEvent::Subscribed {
                    filters: pending_filters
                        .iter()
                        .filter(|f| !refused.contains(f))
                        .cloned()
                        .collect(),
                });
            }
            Ok(Event::Incoming(Incoming::Publish(publish))) => {
                if forwarding
                    && to_committer
                        .send(FromNetwork::Message(publish, now_us()))
                        .await
                        .is_err()
                {
                    // The committer has stopped: keep polling so its acks and the disconnect go out.
                    forwarding = false;
                }
            }
            Ok(Event::Outgoing(Outgoing::Disconnect)) => return,
            Ok(_) => {}
            Err(rumqttc::ConnectionError::ConnectionRefused(code)) => {
                let _ = to_committer.send(FromNetwork::Refused(code)).await;
                return;
            }
            Err(e) => {
                // An untrusted certificate stays untrusted: say so and stop, like a refused login.
                if let Some(reason) = crate::security::certificate_problem(&e) {
                    let _ = to_committer.send(FromNetwork::Certificate(reason)).await;
                    return;
                }
                // Stopping with the broker gone: there is no one to send the acks to.
                if !forwarding || to_committer.is_closed() {
                    return;
                }
                observer.event(ConnectEvent::ConnectionLost {
                    reason: e.to_string(),
                    retry_in_ms: backoff.as_millis() as u64,
                });
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = to_committer.closed() => return,
                }
                backoff = (backoff * 2).min(RECONNECT_MAX);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls() {
        assert_eq!(
            broker_address("mqtt://127.0.0.1:1884").unwrap(),
            ("127.0.0.1".into(), 1884, false)
        );
        assert_eq!(
            broker_address("tcp://broker").unwrap(),
            ("broker".into(), 1883, false)
        );
        assert_eq!(
            broker_address("mqtts://broker").unwrap(),
            ("broker".into(), 8883, true)
        );
        assert!(broker_address("ws://broker:8883").is_err());
        assert!(broker_address("mqtt://:1883").is_err());
        assert!(broker_address("mqtt://b:x").is_err());
    }

    #[test]
    fn keys_depend_on_topic_and_payload_only() {
        assert_eq!(message_key("a/b", b"1"), message_key("a/b", b"1"));
        assert_ne!(message_key("a/b", b"1"), message_key("a/c", b"1"));
        assert_ne!(message_key("a/b", b"1"), message_key("a/b", b"2"));
        assert_ne!(message_key("a", b"b1"), message_key("ab", b"1"));
    }
}
