//! A Python peer (an OPC UA or Modbus server) run by a test from tests/peers/, on a free port.

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
        #[allow(clippy::print_stderr)]
        {
            eprintln!("skipping {test}: python3 has no {module} (pip install it, or run .ci/run)");
        }
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
    /// Runs `python3 tests/peers/NAME PORT` in `dir` and waits until it listens on the port.
    pub fn start(name: &str, port: u16, dir: &Path) -> Peer {
        std::fs::create_dir_all(dir).unwrap();
        let mut child = Command::new("python3")
            .arg(script(name))
            .arg(port.to_string())
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // A loaded CI machine takes a while to import asyncua.
        let deadline = Instant::now() + Duration::from_secs(90);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("{name} exited: {status}");
            }
            assert!(Instant::now() < deadline, "{name} never listened on {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
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
