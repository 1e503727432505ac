//! millwright-connect: live data from the shop floor. An MQTT connector subscribes to topic filters, maps
//! each message to historian readings (time, source, signal, value, quality) and hands them to a [`Store`]
//! in commits; a message is acknowledged to the broker only after the commit that holds it, so a crash
//! loses nothing, and a redelivered message is recognised by its stable key and not stored twice.

#![forbid(unsafe_code)]

pub mod error;
pub mod mapping;
pub mod modbus;
pub mod mqtt;
pub mod opcua;
mod recent;
pub mod registers;
pub mod sampled;
pub mod security;
pub mod sparkplug;

pub use error::{ConnectError, MappingError};
pub use mapping::{Mapping, Reading, Rejected};
pub use modbus::{ModbusConfig, ModbusError};
pub use mqtt::{
    message_key, run, ConnectEvent, ConnectObserver, Flush, MqttConfig, MqttOutcome, Store,
    StoreError,
};
pub use registers::RegisterMap;
pub use sampled::{commit_loop, CommitPolicy, Sample, SampledOutcome};
pub use security::{Login, Security, TlsFiles};
