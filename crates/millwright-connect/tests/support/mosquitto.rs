//! A mosquitto for the MQTT tests, on a free port of its own with its persistence in a temporary folder;
//! killed on drop. Shared by the connector's tests and the CLI's (`#[path]`-included in each).

// Each test crate uses a part of it.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const MOSQUITTO: &str = "/usr/sbin/mosquitto";

/// A mosquitto on a free port of its own, with its persistence in a temporary folder; killed on drop.
pub struct Broker {
    child: Child,
    pub port: u16,
    config: PathBuf,
    _dir: tempfile::TempDir,
}

impl Broker {
    /// `None` (with a printed skip) when mosquitto is not installed; under CI=true that is a failure.
    #[allow(clippy::print_stderr)]
    pub fn start() -> Option<Broker> {
        if !Path::new(MOSQUITTO).exists() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "mosquitto is missing ({MOSQUITTO}); .ci/run installs it"
            );
            eprintln!("skipped: mosquitto is not installed (apt-get install mosquitto)");
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("mosquitto.conf");
        // Unlimited in-flight and queued messages: the defaults (20 and 1000) would hold back a connector
        // that acknowledges per commit, and drop what is queued for it while it is down.
        std::fs::write(
            &config,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}/\nmax_inflight_messages 0\nmax_queued_messages 0\n",
                dir.path().display()
            ),
        )
        .unwrap();
        Some(Broker {
            child: spawn_mosquitto(&config, port),
            port,
            config,
            _dir: dir,
        })
    }

    /// kill -9 and start again on the same port: what the broker had not saved (the connector's session)
    /// is gone, so the connector must reconnect and subscribe again by itself.
    pub fn crash_and_restart(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.child = spawn_mosquitto(&self.config, self.port);
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

fn spawn_mosquitto(config: &Path, port: u16) -> Child {
    let child = Command::new(MOSQUITTO)
        .arg("-c")
        .arg(config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start mosquitto");
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "mosquitto did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
