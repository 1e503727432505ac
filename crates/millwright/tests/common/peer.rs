//! A Python peer (an OPC UA or Modbus server) run by a test from tests/peers/, on a free port.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port (bound, then released for the peer to take).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether `python3` can import `module`; without it the test skips, except under CI=true.
pub fn python_has(module: &str, test: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: python3 module {module} is missing (.ci/run installs it)"
        );
        eprintln!("skipping {test}: python3 has no {module} (pip install it, or run .ci/run)");
    }
    ok
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers")
        .join(name)
}

/// A running peer; killed when dropped.
pub struct Peer {
    child: Child,
    pub port: u16,
}

impl Peer {
    /// Runs `python3 tests/peers/NAME PORT` in `dir` and waits until it prints "ready".
    pub fn start(name: &str, port: u16, dir: &Path) -> Peer {
        let mut child = Command::new("python3")
            .arg(script(name))
            .arg(port.to_string())
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.trim() == "ready" {
                    let _ = tx.send(());
                }
            }
        });
        // A loaded CI machine takes a while to import asyncua.
        let deadline = Instant::now() + Duration::from_secs(90);
        rx.recv_timeout(deadline - Instant::now())
            .unwrap_or_else(|e| panic!("{name} never said ready: {e}"));
        Peer { child, port }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.kill();
    }
}
