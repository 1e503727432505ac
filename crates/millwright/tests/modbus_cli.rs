//! `millwright connect modbus-tcp://…` against a real pymodbus server started by the test: values decoded
//! and scaled as the register map says, a refused read quarantined while the others keep coming, and
//! polling that resumes by itself after the server is killed and started again.

// The test prints a skip line when python3 or pymodbus is missing.
#![allow(clippy::print_stderr)]

mod common;

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::Home;

/// A pymodbus 3.16.1 TCP server: holding registers 0..10, input register 0, coils 0..4, discrete inputs
/// 0..2; every other address answers IllegalDataAddress. pymodbus blocks start at 1 for address 0.
const SERVER: &str = r#"
import logging, struct, sys
from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
from pymodbus.server import StartTcpServer

def words(fmt, value):
    return list(struct.unpack(">HH", struct.pack(">" + fmt, value)))

holding = ([1234, 65531] + words("f", 3.5) + words("f", -2.25)[::-1]
           + words("I", 70000) + words("i", -100000)[::-1])
device = ModbusDeviceContext(
    hr=ModbusSequentialDataBlock(1, holding),
    ir=ModbusSequentialDataBlock(1, [500]),
    co=ModbusSequentialDataBlock(1, [True, False, True, False]),
    di=ModbusSequentialDataBlock(1, [False, True]),
)
logging.disable(logging.CRITICAL)
StartTcpServer(ModbusServerContext(devices=device), address=("127.0.0.1", int(sys.argv[1])))
"#;

const REGISTERS: &str = r#"
source = "pump3"
[[register]]
name = "pressure"
kind = "holding"
address = 0
scale = 0.1
unit_of_measure = "bar"
[[register]]
name = "temperature"
kind = "holding"
address = 1
type = "i16"
[[register]]
name = "flow"
kind = "holding"
address = 2
type = "f32"
[[register]]
name = "level"
kind = "holding"
address = 4
type = "f32"
word_order = "little"
[[register]]
name = "strokes"
kind = "holding"
address = 6
type = "u32"
offset = 0.5
[[register]]
name = "drift"
kind = "holding"
address = 8
type = "i32"
word_order = "little"
[[register]]
name = "current"
kind = "input"
address = 0
scale = 0.01
offset = -1.0
[[register]]
name = "running"
kind = "coil"
address = 0
[[register]]
name = "valve_open"
kind = "coil"
address = 1
[[register]]
name = "door_closed"
kind = "discrete"
address = 1
[[register]]
name = "spare"
kind = "holding"
address = 200
"#;

/// The pymodbus server, killed on drop.
struct Server {
    child: Child,
    port: u16,
    script: PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    /// `None` (with a printed skip) without python3 and pymodbus; under CI=true that is a failure.
    fn start() -> Option<Server> {
        let found = Command::new("python3")
            .args(["-c", "import pymodbus; print(pymodbus.__version__)"])
            .output();
        if !found.as_ref().is_ok_and(|o| o.status.success()) {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "python3 with pymodbus is missing under CI=true (.ci/run installs pymodbus==3.16.1)"
            );
            eprintln!("skipped: python3 with pymodbus is missing (pip install pymodbus==3.16.1)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("server.py");
        std::fs::write(&script, SERVER).unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = spawn(&script, port);
        Some(Server {
            child,
            port,
            script,
            _dir: dir,
        })
    }

    /// kill -9, then the same server on the same port again.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn restart(&mut self) {
        self.child = spawn(&self.script, self.port);
    }

    fn url(&self) -> String {
        format!("modbus-tcp://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(script: &PathBuf, port: u16) -> Child {
    let mut child = Command::new("python3")
        .arg(script)
        .arg(port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the pymodbus server");
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the pymodbus server exited: {status}");
        }
        assert!(Instant::now() < deadline, "pymodbus never listened");
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}

/// A running `millwright connect`, its stderr lines (JSON events) collected.
struct Connector {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Connector {
    fn start(home: &Home, args: &[&str]) -> Connector {
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
        connector.wait_for("\"event\":\"connected\"");
        connector
    }

    fn wait_for(&self, needle: &str) -> String {
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

    /// SIGTERM: the connector commits what it holds and prints its result.
    fn stop(mut self) -> serde_json::Value {
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
}

fn count(home: &Home, sql: &str) -> u64 {
    home.json(&["sql", sql])[0]["n"].as_u64().unwrap()
}

/// The count, or 0 while the table has no first commit yet.
fn count_so_far(home: &Home, sql: &str) -> u64 {
    let out = home.run(&["--json", "sql", sql]);
    if !out.status.success() {
        return 0;
    }
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    rows[0]["n"].as_u64().unwrap()
}

fn wait_until(home: &Home, sql: &str, at_least: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while count_so_far(home, sql) < at_least {
        assert!(Instant::now() < deadline, "never {at_least}: {sql}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

const PRESSURE_ROWS: &str = "SELECT COUNT(*) AS n FROM pump3 WHERE signal = 'pressure'";

fn connector_args<'a>(url: &'a str, registers: &'a str, every: &'a str) -> Vec<&'a str> {
    vec![
        url,
        "--registers",
        registers,
        "--every",
        every,
        "--dataset",
        "pump3",
        "--commit-ms",
        "100",
    ]
}

#[test]
fn registers_become_scaled_readings_and_a_refused_read_is_quarantined() {
    let Some(server) = Server::start() else {
        return;
    };
    let home = Home::new();
    let registers = home.file("regs.toml", REGISTERS);
    let url = server.url();
    let args = connector_args(&url, registers.to_str().unwrap(), "200ms");
    let connector = Connector::start(&home, &args);
    wait_until(&home, PRESSURE_ROWS, 5);
    wait_until(&home, "SELECT COUNT(*) AS n FROM pump3__quarantine", 5);
    let result = connector.stop();
    let polls = count(&home, PRESSURE_ROWS);
    assert_eq!(result["readings"], polls * 10, "{result}");
    let expected = [
        ("pressure", 123.4),
        ("temperature", -5.0),
        ("flow", 3.5),
        ("level", -2.25),
        ("strokes", 70000.5),
        ("drift", -100000.0),
        ("current", 4.0),
        ("running", 1.0),
        ("valve_open", 0.0),
        ("door_closed", 1.0),
    ];
    for (signal, value) in expected {
        let sql = format!(
            "SELECT COUNT(*) AS n FROM pump3 WHERE signal = '{signal}' AND ABS(value - {value}) < 1e-9 AND source = 'pump3' AND quality = 'good'"
        );
        assert_eq!(count(&home, &sql), polls, "{signal} = {value}");
    }
    // One time per poll, shared by every signal of it.
    assert_eq!(
        count(&home, "SELECT COUNT(DISTINCT time) AS n FROM pump3"),
        polls
    );
    assert_eq!(
        count(
            &home,
            "SELECT COUNT(*) AS n FROM pump3 WHERE signal = 'spare'"
        ),
        0
    );
    // The refused read, each poll: the exception, the table and the addresses, while the rest kept coming.
    let rejected = count(&home, "SELECT COUNT(*) AS n FROM pump3__quarantine");
    assert!(
        rejected.abs_diff(polls) <= 1,
        "{rejected} refusals, {polls} polls"
    );
    let matching = count(
        &home,
        "SELECT COUNT(*) AS n FROM pump3__quarantine WHERE reason LIKE '%IllegalDataAddress%' AND reason LIKE '%spare%' AND \"column\" = 'holding 200' AND record = 'holding 200..201'",
    );
    assert_eq!(matching, rejected);
    assert_eq!(result["rejected"], rejected, "{result}");
}

#[test]
fn polling_resumes_after_the_server_is_killed_and_started_again() {
    let Some(mut server) = Server::start() else {
        return;
    };
    let home = Home::new();
    let registers = home.file("regs.toml", REGISTERS);
    let url = server.url();
    let args = connector_args(&url, registers.to_str().unwrap(), "100ms");
    let connector = Connector::start(&home, &args);
    wait_until(&home, PRESSURE_ROWS, 5);
    server.kill();
    connector.wait_for("\"event\":\"connection_lost\"");
    let before = count(&home, PRESSURE_ROWS);
    server.restart();
    connector.wait_for("\"event\":\"connected\"");
    wait_until(&home, PRESSURE_ROWS, before + 10);
    let result = connector.stop();
    assert!(
        result["readings"].as_u64().unwrap() >= (before + 10) * 10,
        "{result}"
    );
}

#[test]
fn usage_errors_say_what_is_missing() {
    let home = Home::new();
    let bad = home.file(
        "bad.toml",
        "[[register]]\nname = \"p\"\nkind = \"holding\"\naddress = 3\ntype = \"f64\"\n",
    );
    let err = home.fails(&[
        "connect",
        "modbus-tcp://127.0.0.1:1",
        "--registers",
        bad.to_str().unwrap(),
        "--dataset",
        "d",
    ]);
    assert!(err.contains("bad.toml:5:8: unknown type \"f64\""), "{err}");
    let err = home.fails(&["connect", "modbus-tcp://127.0.0.1:1", "--dataset", "d"]);
    assert!(err.contains("needs --registers"), "{err}");
    let err = home.fails(&["connect", "mqtt://127.0.0.1:1", "--dataset", "d"]);
    assert!(err.contains("needs --topics"), "{err}");
    let err = home.fails(&[
        "connect",
        "mqtt://127.0.0.1:1",
        "--topics",
        "#",
        "--every",
        "1s",
        "--dataset",
        "d",
    ]);
    assert!(err.contains("are for a Modbus device"), "{err}");
    let err = home.fails(&[
        "connect",
        "modbus-tcp://127.0.0.1:1",
        "--registers",
        bad.to_str().unwrap(),
        "--every",
        "fast",
        "--dataset",
        "d",
    ]);
    assert!(err.contains("\"fast\" is not an interval"), "{err}");
}
