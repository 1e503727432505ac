//! The MQTT benchmark's publisher (benches/mqtt/run.sh): QoS 1 messages of 10 readings each as JSON,
//! `{"ts": MICROSECONDS, "s0": …, …, "s9": …}` on topics `bench/mK/data`, as fast as the broker takes them or at
//! a steady rate.
//!
//!   mqtt_bench_publish PORT MESSAGES [RATE TIMES_FILE]
//!
//! Without RATE: floods, then prints `{"messages": N, "seconds": S}` once the broker has acknowledged all.
//! With RATE (messages/s): publishes on schedule, the payload's `ts` = the publish time, and writes each
//! message's publish time (µs since the epoch, one a line, in order) to TIMES_FILE for the latency figure.

#![allow(clippy::print_stdout)]

use std::io::Write;
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, Incoming, MqttOptions, QoS};

fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

fn payload(ts_us: i64, i: u64) -> Vec<u8> {
    let mut text = String::with_capacity(200);
    text.push_str("{\"ts\":");
    text.push_str(&ts_us.to_string());
    for s in 0..10u64 {
        // Distinct values per message and signal, as a real sensor's would be.
        let v = (i * 10 + s) as f64 * 0.25;
        text.push_str(&format!(",\"s{s}\":{v}"));
    }
    text.push('}');
    text.into_bytes()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: mqtt_bench_publish PORT MESSAGES [RATE TIMES_FILE]";
    let (Some(port), Some(total)) = (args.first(), args.get(1)) else {
        return Err(usage.into());
    };
    let port: u16 = port.parse()?;
    let total: u64 = total.parse()?;
    let steady = match (args.get(2), args.get(3)) {
        (Some(rate), Some(file)) => Some((rate.parse::<f64>()?, file.clone())),
        (None, None) => None,
        _ => return Err(usage.into()),
    };
    let mut options = MqttOptions::new(
        format!("bench-publisher-{}", std::process::id()),
        "127.0.0.1",
        port,
    );
    options
        .set_keep_alive(Duration::from_secs(30))
        .set_inflight(1000)
        .set_request_channel_capacity(1000);
    let (client, mut eventloop) = AsyncClient::new(options, 1000);
    // Counts the broker's PubAcks: the run is over when every message is acknowledged.
    let acked = tokio::spawn(async move {
        let mut acks = 0u64;
        while acks < total {
            match eventloop.poll().await {
                Ok(Event::Incoming(Incoming::PubAck(_))) => acks += 1,
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(acks)
    });
    let started = Instant::now();
    let mut times = Vec::new();
    let base = now_us();
    for i in 0..total {
        let topic = format!("bench/m{}/data", i % 10);
        let ts = match &steady {
            Some((rate, _)) => {
                let due = started + Duration::from_secs_f64(i as f64 / rate);
                tokio::time::sleep_until(due.into()).await;
                let t = now_us();
                times.push(t);
                t
            }
            // Unique and increasing, so no two messages are equal.
            None => base + i as i64,
        };
        client
            .publish(topic, QoS::AtLeastOnce, false, payload(ts, i))
            .await?;
    }
    let acks = acked
        .await?
        .map_err(|e| format!("the broker went away: {e}"))?;
    let seconds = started.elapsed().as_secs_f64();
    if let Some((_, file)) = steady {
        let mut out = std::io::BufWriter::new(std::fs::File::create(file)?);
        for t in &times {
            writeln!(out, "{t}")?;
        }
        out.flush()?;
    }
    println!("{{\"messages\": {acks}, \"seconds\": {seconds:.3}}}");
    // The event loop has stopped with the last ack, so the disconnect may not go out: the process ends anyway.
    let _ = client.disconnect().await;
    Ok(())
}
