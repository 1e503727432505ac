//! `millwright connect modbus-tcp://…` against a real pymodbus server started by the test: values decoded
//! and scaled as the register map says, a refused read quarantined while the others keep coming, and
//! polling that resumes by itself after the server is killed and started again.

// The test prints a skip line when python3 or pymodbus is missing.
#![allow(clippy::print_stderr)]

mod common;

use std::path::PathBuf;

use common::connector::{count, wait_until, Connector};
use common::peer::{free_port, python_has, Peer};
use common::Home;

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

/// The pymodbus server (tests/peers/modbus_server.py), killed on drop.
struct Server {
    peer: Peer,
    dir: PathBuf,
}

impl Server {
    /// `None` (with a printed skip) without python3 and pymodbus; under CI=true that is a failure.
    fn start(home: &Home) -> Option<Server> {
        if !python_has("pymodbus", "the Modbus connector's tests") {
            return None;
        }
        let dir = home.home();
        let peer = Peer::start("modbus_server.py", free_port(), &dir);
        Some(Server { peer, dir })
    }

    /// kill -9, then the same server on the same port again.
    fn kill(&mut self) {
        self.peer.kill();
    }

    fn restart(&mut self) {
        self.peer = Peer::start("modbus_server.py", self.peer.port, &self.dir);
    }

    fn url(&self) -> String {
        format!("modbus-tcp://127.0.0.1:{}", self.peer.port)
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
    let home = Home::new();
    let Some(server) = Server::start(&home) else {
        return;
    };
    let registers = home.file("regs.toml", REGISTERS);
    let url = server.url();
    let args = connector_args(&url, registers.to_str().unwrap(), "200ms");
    let connector = Connector::start_until(&home, &args, "\"event\":\"connected\"");
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
    let home = Home::new();
    let Some(mut server) = Server::start(&home) else {
        return;
    };
    let registers = home.file("regs.toml", REGISTERS);
    let url = server.url();
    let args = connector_args(&url, registers.to_str().unwrap(), "100ms");
    let connector = Connector::start_until(&home, &args, "\"event\":\"connected\"");
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
