//! The Modbus TCP connector: polls a device's registers on a fixed schedule and sends each poll's readings
//! to the sampled commit loop ([`crate::sampled`]). An exception answer quarantines the signals of that
//! read and polling goes on; a lost connection is reported and retried with backoff.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;
use tokio_modbus::client::{Context, Reader};
use tokio_modbus::{ExceptionCode, Slave};

use crate::error::ConnectError;
use crate::mapping::{Reading, Rejected, QUALITY_GOOD};
use crate::mqtt::{ConnectEvent, ConnectObserver};
use crate::registers::{ReadRequest, RegisterKind, RegisterMap};
use crate::sampled::Sample;

/// The Modbus TCP port when the URL names none.
pub const DEFAULT_PORT: u16 = 502;
/// A device that does not answer within this long is treated as gone (a half-open connection never errs).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);
const RECONNECT_FIRST: Duration = Duration::from_millis(250);
const RECONNECT_MAX: Duration = Duration::from_secs(10);

/// Errors of the Modbus connector before it polls.
#[derive(Debug, thiserror::Error)]
pub enum ModbusError {
    #[error("device address {url:?} is not usable: {reason}")]
    Url { url: String, reason: String },
    #[error("the poll interval must be longer than zero")]
    Every,
}

#[derive(Debug, Clone)]
pub struct ModbusConfig {
    /// `modbus-tcp://HOST[:PORT]`, as given (it names the device in the quarantine).
    pub url: String,
    host: String,
    port: u16,
    pub map: RegisterMap,
    pub every: Duration,
}

impl ModbusConfig {
    pub fn new(url: &str, map: RegisterMap, every: Duration) -> Result<ModbusConfig, ModbusError> {
        let bad = |reason: &str| ModbusError::Url {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let rest = url
            .strip_prefix("modbus-tcp://")
            .ok_or_else(|| bad("expected modbus-tcp://HOST[:PORT]"))?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (host, port) = match rest.rsplit_once(':') {
            // An IPv6 literal without a port has colons inside its brackets only.
            Some((host, port)) if !port.contains(']') => {
                let port = port
                    .parse()
                    .map_err(|_| bad("the port is not a number from 1 to 65535"))?;
                (host, port)
            }
            _ => (rest, DEFAULT_PORT),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || host.contains('/') || port == 0 {
            return Err(bad("expected modbus-tcp://HOST[:PORT]"));
        }
        if every.is_zero() {
            return Err(ModbusError::Every);
        }
        Ok(ModbusConfig {
            url: url.to_string(),
            host: host.to_string(),
            port,
            map,
            every,
        })
    }

    /// The readings' source: the map's, or the host.
    fn source(&self) -> &str {
        self.map.source.as_deref().unwrap_or(&self.host)
    }
}

/// Polls until the commit loop stops taking samples (its receiver closes). Returns `Ok` then: a device
/// that goes away is waited for, never a reason to stop.
pub async fn poll(
    config: ModbusConfig,
    samples: mpsc::Sender<Sample>,
    observer: Arc<dyn ConnectObserver>,
) -> Result<(), ConnectError> {
    let poller = Poller {
        requests: config.map.requests(),
        config,
        observer,
    };
    tokio::select! {
        () = samples.closed() => {}
        () = poller.run(&samples) => {}
    }
    Ok(())
}

struct Poller {
    config: ModbusConfig,
    requests: Vec<ReadRequest>,
    observer: Arc<dyn ConnectObserver>,
}

/// Why a poll stopped short.
enum Stop {
    /// The connection failed; the reason.
    Lost(String),
    /// The commit loop has stopped.
    Closed,
}

impl Poller {
    async fn run(&self, samples: &mpsc::Sender<Sample>) {
        let mut backoff = RECONNECT_FIRST;
        let mut context: Option<Context> = None;
        // Ticks at start + n·every whatever a poll takes; polls missed while away are skipped, not bunched.
        let mut ticks = tokio::time::interval(self.config.every);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            let ctx = match context.as_mut() {
                Some(ctx) => ctx,
                None => match self.connect().await {
                    Ok(ctx) => {
                        backoff = RECONNECT_FIRST;
                        self.observer.event(ConnectEvent::Connected {
                            session_present: false,
                        });
                        context.insert(ctx)
                    }
                    Err(reason) => {
                        self.lost(reason, &mut backoff).await;
                        continue;
                    }
                },
            };
            ticks.tick().await;
            match self.poll_once(ctx, samples).await {
                Ok(()) => {}
                Err(Stop::Closed) => return,
                Err(Stop::Lost(reason)) => {
                    context = None;
                    self.lost(reason, &mut backoff).await;
                }
            }
        }
    }

    async fn lost(&self, reason: String, backoff: &mut Duration) {
        self.observer.event(ConnectEvent::ConnectionLost {
            reason,
            retry_in_ms: backoff.as_millis() as u64,
        });
        tokio::time::sleep(*backoff).await;
        *backoff = (*backoff * 2).min(RECONNECT_MAX);
    }

    async fn connect(&self) -> Result<Context, String> {
        let target = format!("{}:{}", self.config.host, self.config.port);
        let attempt = async {
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host(&target)
                .await
                .map_err(|e| format!("cannot resolve {target}: {e}"))?
                .collect();
            let mut last = format!("{target} resolves to no address");
            for address in addresses {
                match tokio_modbus::client::tcp::connect_slave(address, Slave(self.config.map.unit))
                    .await
                {
                    Ok(ctx) => return Ok(ctx),
                    Err(e) => last = format!("cannot connect to {address}: {e}"),
                }
            }
            Err(last)
        };
        tokio::time::timeout(ANSWER_TIMEOUT, attempt)
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "{target} did not accept a connection within {} s",
                    ANSWER_TIMEOUT.as_secs()
                ))
            })
    }

    /// One poll: every read, at one time. Readings go as one sample, each failed read as its own.
    async fn poll_once(
        &self,
        ctx: &mut Context,
        samples: &mpsc::Sender<Sample>,
    ) -> Result<(), Stop> {
        let time_us = chrono::Utc::now().timestamp_micros();
        let mut readings = Vec::new();
        let mut rejected = Vec::new();
        let mut lost = None;
        for request in &self.requests {
            match read(ctx, request).await {
                Ok(Ok(words)) => readings.extend(self.readings(request, &words, time_us)),
                Ok(Err(reason)) => rejected.push(self.rejected(request, reason)),
                // What was read before the loss is kept.
                Err(reason) => {
                    lost = Some(reason);
                    break;
                }
            }
        }
        let all = (!readings.is_empty())
            .then_some(Sample::Readings(readings))
            .into_iter()
            .chain(rejected.into_iter().map(Sample::Rejected));
        for sample in all {
            samples.send(sample).await.map_err(|_| Stop::Closed)?;
        }
        lost.map_or(Ok(()), |reason| Err(Stop::Lost(reason)))
    }

    fn readings(&self, request: &ReadRequest, words: &[u16], time_us: i64) -> Vec<Reading> {
        let source = self.config.source();
        request
            .registers
            .iter()
            .map(|&i| {
                let register = &self.config.map.registers[i];
                let at = usize::from(register.address - request.start);
                Reading {
                    time_us,
                    source: source.to_string(),
                    signal: register.name.clone(),
                    value: register.value(&words[at..]),
                    quality: QUALITY_GOOD,
                    levels: Vec::new(),
                }
            })
            .collect()
    }

    fn rejected(&self, request: &ReadRequest, reason: String) -> Rejected {
        let signals: Vec<&str> = request
            .registers
            .iter()
            .map(|&i| self.config.map.registers[i].name.as_str())
            .collect();
        Rejected {
            topic: self.config.url.clone(),
            field: Some(format!("{} {}", request.kind, request.start)),
            reason: format!(
                "{reason}, reading {} from unit {} (signals {})",
                request.describe(),
                self.config.map.unit,
                signals.join(", ")
            ),
            payload: request.describe(),
        }
    }
}

/// The words (bits as 0/1) of one read; `Ok(Err)`: the device answered but not with values (an exception,
/// a short answer); `Err`: the connection failed.
async fn read(
    ctx: &mut Context,
    request: &ReadRequest,
) -> Result<Result<Vec<u16>, String>, String> {
    let (start, count) = (request.start, request.count);
    let bits =
        |r: Result<Vec<bool>, ExceptionCode>| r.map(|b| b.into_iter().map(u16::from).collect());
    let answer = tokio::time::timeout(ANSWER_TIMEOUT, async {
        match request.kind {
            RegisterKind::Holding => ctx.read_holding_registers(start, count).await,
            RegisterKind::Input => ctx.read_input_registers(start, count).await,
            RegisterKind::Coil => ctx.read_coils(start, count).await.map(bits),
            RegisterKind::Discrete => ctx.read_discrete_inputs(start, count).await.map(bits),
        }
    })
    .await
    .map_err(|_| {
        format!(
            "no answer to a read of {} within {} s",
            request.describe(),
            ANSWER_TIMEOUT.as_secs()
        )
    })?;
    match answer {
        Ok(Ok(words)) if words.len() < usize::from(count) => Ok(Err(format!(
            "the device answered {} values where {count} were asked for",
            words.len()
        ))),
        Ok(Ok(words)) => Ok(Ok(words)),
        Ok(Err(code)) => Ok(Err(format!(
            "the device answered exception {code:?} (0x{:02X}: {code})",
            u8::from(code)
        ))),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn map() -> RegisterMap {
        RegisterMap::parse(
            "[[register]]\nname = \"a\"\nkind = \"holding\"\naddress = 0\n",
            Path::new("m.toml"),
        )
        .unwrap()
    }

    #[test]
    fn urls_name_host_and_port() {
        let every = Duration::from_secs(1);
        let c = ModbusConfig::new("modbus-tcp://10.0.0.5:1502", map(), every).unwrap();
        assert_eq!(
            (c.host.as_str(), c.port, c.source()),
            ("10.0.0.5", 1502, "10.0.0.5")
        );
        let c = ModbusConfig::new("modbus-tcp://plc-3", map(), every).unwrap();
        assert_eq!((c.host.as_str(), c.port), ("plc-3", DEFAULT_PORT));
        let c = ModbusConfig::new("modbus-tcp://[::1]:5020", map(), every).unwrap();
        assert_eq!((c.host.as_str(), c.port), ("::1", 5020));
        for bad in [
            "mqtt://x:1",
            "modbus-tcp://",
            "modbus-tcp://h:port",
            "modbus-tcp://h:0",
        ] {
            let err = ModbusConfig::new(bad, map(), every)
                .unwrap_err()
                .to_string();
            assert!(err.contains(bad), "{err}");
        }
        assert!(ModbusConfig::new("modbus-tcp://h", map(), Duration::ZERO).is_err());
    }
}
