//! A running `millwright connect` in a test: its event lines, a clean stop and a kill -9.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::Home;

/// A running `millwright connect`, its stderr lines (JSON events) collected.
pub struct Connector {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Connector {
    /// Starts `millwright --json connect ARGS` and waits until it says it is subscribed.
    pub fn start(home: &Home, args: &[&str]) -> Connector {
        Connector::start_until(home, args, "\"event\":\"subscribed\"")
    }

    /// Starts `millwright --json connect ARGS` and waits for a line holding `needle`.
    pub fn start_until(home: &Home, args: &[&str], needle: &str) -> Connector {
        let mut all = vec!["--json", "connect"];
        all.extend_from_slice(args);
        let mut child = home
            .command(&all)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let connector = Connector { child, lines };
        connector.wait_for(needle);
        connector
    }

    pub fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(e) => panic!("the connector never said {needle} ({e})"),
            }
        }
    }

    /// SIGTERM: the connector commits what it holds, acknowledges it and prints its result.
    pub fn stop(mut self) -> serde_json::Value {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let mut stdout = String::new();
        std::io::Read::read_to_string(self.child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
        let status = self.child.wait().unwrap();
        let rest: Vec<String> = self.lines.try_iter().collect();
        assert!(status.success(), "connector failed: {rest:?}");
        serde_json::from_str(&stdout).unwrap()
    }

    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// The first row's `n` of a query.
pub fn count(home: &Home, sql: &str) -> u64 {
    home.json(&["sql", sql])[0]["n"].as_u64().unwrap()
}

/// The count, or 0 while the table has no first commit yet (its folder appears before the commit does).
pub fn count_so_far(home: &Home, sql: &str) -> u64 {
    let out = home.run(&["--json", "sql", sql]);
    if !out.status.success() {
        return 0;
    }
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    rows[0]["n"].as_u64().unwrap_or(0)
}

/// Waits (up to a minute) until the query counts at least `at_least`; returns the count.
pub fn wait_until(home: &Home, sql: &str, at_least: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n = count_so_far(home, sql);
        if n >= at_least {
            return n;
        }
        assert!(
            Instant::now() < deadline,
            "{sql} stayed at {n} < {at_least}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
